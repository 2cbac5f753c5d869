//! The HTTP fuzz suite (being written).
