//! Defence in depth against a real server: each finding of the hardening review as a test.
