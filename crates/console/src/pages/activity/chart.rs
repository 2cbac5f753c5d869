//! The activity chart: requests and errors per hour over the last 7 days, drawn as SVG bars on
//! the server (no chart library in the browser).

use chrono::{DateTime, Duration, Utc};

use crate::layout::time;
use crate::listing::thousands;

/// Hours the chart covers: the last 7 days.
pub const CHART_HOURS: i64 = 7 * 24;

/// The hourly chart, drawn as SVG bars on the server.
pub struct Chart {
    /// (x, height of requests bar, height of errors bar, label)
    pub bars: Vec<(i64, i64, i64, String)>,
    /// Requests in the busiest hour.
    pub max: i64,
    /// Requests in the 7 days.
    pub total_requests: i64,
    /// Failed requests in the 7 days.
    pub total_errors: i64,
    /// The SVG's width.
    pub width: i64,
    /// The SVG's height.
    pub height: i64,
}

impl Chart {
    /// The requests, in words.
    pub fn requests_shown(&self) -> String {
        thousands(self.total_requests)
    }

    /// The errors, in words.
    pub fn errors_shown(&self) -> String {
        thousands(self.total_errors)
    }

    /// The busiest hour's requests, in words.
    pub fn max_shown(&self) -> String {
        thousands(self.max)
    }
}

/// 168 hourly slots; bar heights scaled to the busiest hour.
pub fn chart(since: DateTime<Utc>, hours: &[(DateTime<Utc>, i64, i64)]) -> Chart {
    const SLOTS: i64 = CHART_HOURS;
    const BAR: i64 = 4;
    const HEIGHT: i64 = 120;
    let mut requests = vec![0i64; SLOTS as usize];
    let mut errors = vec![0i64; SLOTS as usize];
    for (hour, count, failed) in hours {
        let slot = (*hour - since).num_hours();
        if let Ok(i) = usize::try_from(slot)
            && i < requests.len()
        {
            requests[i] += count;
            errors[i] += failed;
        }
    }
    let busiest = requests.iter().copied().max().unwrap_or(0);
    // Bars are scaled to the busiest hour; an empty week still divides by one.
    let max = busiest.max(1);
    let bars = (0..SLOTS)
        .map(|i| {
            let index = usize::try_from(i).unwrap_or(0);
            let label = format!(
                "{}: {} requests, {} errors",
                time(since + Duration::hours(i)),
                requests[index],
                errors[index]
            );
            (
                i * BAR,
                requests[index] * HEIGHT / max,
                errors[index] * HEIGHT / max,
                label,
            )
        })
        .collect();
    Chart {
        bars,
        max: busiest,
        total_requests: requests.iter().sum(),
        total_errors: errors.iter().sum(),
        width: SLOTS * BAR,
        height: HEIGHT,
    }
}
