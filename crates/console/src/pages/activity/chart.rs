//! The activity chart: requests and errors per bucket of time, the bucket following the range
//! (the last hour by minute, 24 hours by 15 minutes, 7 days by hour, 30 days by day), drawn as
//! SVG bars on the server (no chart library in the browser). Each bar links to the list of its
//! interval; errors get a mark of their own so that 1 % of a bar still shows.

use chrono::{DateTime, Duration, Utc};
use tenancy::events::Bucketing;

use crate::layout::time;
use crate::listing::thousands;

/// The time the chart covers.
#[derive(Debug, Clone, Copy)]
pub struct ChartRange {
    /// The length of one bar.
    pub bucketing: Bucketing,
    /// The start of the first bar.
    pub since: DateTime<Utc>,
    /// How many bars.
    pub bars: i64,
    /// "last 24 hours".
    pub span: &'static str,
}

impl ChartRange {
    /// The chart for the list's time filter (`1h`, `24h`, `7d`, `30d`; anything else shows the
    /// last 7 days), whose last bar holds `now`.
    pub fn of(range: &str, now: DateTime<Utc>) -> Self {
        let (bucketing, bars, span) = match range {
            "1h" => (Bucketing::Minute, 60, "last hour"),
            "24h" => (Bucketing::QuarterHour, 96, "last 24 hours"),
            "30d" => (Bucketing::Day, 30, "last 30 days"),
            _ => (Bucketing::Hour, 168, "last 7 days"),
        };
        let last = bucketing.start_of(now);
        Self {
            bucketing,
            since: last - bucketing.length() * (bars - 1),
            bars: i64::from(bars),
            span,
        }
    }

    /// "minute", "15 minutes", "hour", "day".
    pub fn bucket_words(&self) -> &'static str {
        match self.bucketing {
            Bucketing::Minute => "minute",
            Bucketing::QuarterHour => "15 minutes",
            Bucketing::Hour => "hour",
            Bucketing::Day => "day",
        }
    }

    fn label(&self, at: DateTime<Utc>) -> String {
        match self.bucketing {
            Bucketing::Minute | Bucketing::QuarterHour => at.format("%H:%M").to_string(),
            Bucketing::Hour => at.format("%b %-d %H:00").to_string(),
            Bucketing::Day => at.format("%b %-d").to_string(),
        }
    }
}

/// One bar.
pub struct Bar {
    /// Left edge, in SVG units.
    pub x: String,
    /// Width, in SVG units.
    pub width: String,
    /// Height of the requests bar.
    pub requests: i64,
    /// Height of the errors bar (at least [`ERROR_MARK`] when there were errors).
    pub errors: i64,
    /// Whether there were errors (a mark under the axis).
    pub failed: bool,
    /// "Dec 2, 2026 09:00 UTC: 120 requests, 3 errors".
    pub label: String,
    /// The list filtered to this bar's interval.
    pub href: String,
}

/// The whole chart.
pub struct Chart {
    /// The bars, oldest first.
    pub bars: Vec<Bar>,
    /// Axis labels, evenly spaced from the first bar to the last.
    pub ticks: Vec<String>,
    /// Requests in the busiest bar.
    pub max: i64,
    /// Requests in the range.
    pub total_requests: i64,
    /// Failed requests in the range.
    pub total_errors: i64,
    /// The SVG's width.
    pub width: i64,
    /// Height of the bars' area.
    pub height: i64,
    /// "Requests per hour, last 7 days".
    pub title: String,
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

    /// The busiest bar's requests, in words.
    pub fn max_shown(&self) -> String {
        thousands(self.max)
    }

    /// Where the error marks are drawn (under the bars).
    pub fn mark_y(&self) -> i64 {
        self.height + 2
    }

    /// The SVG's whole height: bars and error marks.
    pub fn full_height(&self) -> i64 {
        self.height + 2 + ERROR_MARK
    }
}

/// The smallest height an error bar is drawn with, and the height of the error marks.
pub const ERROR_MARK: i64 = 4;
const WIDTH: i64 = 720;
const HEIGHT: i64 = 120;
const TICKS: i64 = 5;

/// The chart of `range` from `buckets` (`(start, requests, failures)` as
/// [`tenancy::events::buckets`] reads them); `link` gives the list of an interval.
pub fn chart(
    range: &ChartRange,
    buckets: &[(DateTime<Utc>, i64, i64)],
    link: impl Fn(DateTime<Utc>, DateTime<Utc>) -> String,
) -> Chart {
    let slots = usize::try_from(range.bars).unwrap_or(0);
    let length = range.bucketing.length();
    let mut requests = vec![0i64; slots];
    let mut errors = vec![0i64; slots];
    for (start, count, failed) in buckets {
        let slot = (*start - range.since).num_seconds() / length.num_seconds().max(1);
        if let Ok(i) = usize::try_from(slot)
            && i < slots
        {
            requests[i] += count;
            errors[i] += failed;
        }
    }
    let busiest = requests.iter().copied().max().unwrap_or(0);
    // Bars are scaled to the busiest; an empty range still divides by one.
    let scale = busiest.max(1);
    let bar_width = WIDTH as f64 / range.bars.max(1) as f64;
    let bars = (0..slots)
        .map(|i| {
            let start = range.since + length * i32::try_from(i).unwrap_or(0);
            let height = |n: i64| n * HEIGHT / scale;
            Bar {
                x: format!("{:.2}", i as f64 * bar_width),
                // A gap between bars where they are wide enough for one.
                width: format!("{:.2}", (bar_width - 1.0).max(bar_width * 0.75)),
                requests: height(requests[i]),
                errors: if errors[i] > 0 {
                    height(errors[i]).max(ERROR_MARK)
                } else {
                    0
                },
                failed: errors[i] > 0,
                label: format!(
                    "{}: {} request{}, {} error{}",
                    time(start),
                    thousands(requests[i]),
                    if requests[i] == 1 { "" } else { "s" },
                    thousands(errors[i]),
                    if errors[i] == 1 { "" } else { "s" },
                ),
                href: link(start, start + length),
            }
        })
        .collect();
    let ticks = (0..TICKS)
        .map(|t| {
            let slot = (range.bars - 1) * t / (TICKS - 1);
            range.label(range.since + length * i32::try_from(slot).unwrap_or(0))
        })
        .collect();
    Chart {
        bars,
        ticks,
        max: busiest,
        total_requests: requests.iter().sum(),
        total_errors: errors.iter().sum(),
        width: WIDTH,
        height: HEIGHT,
        title: format!("Requests per {}, {}", range.bucket_words(), range.span),
    }
}

/// The interval a chart bar links to, as the list's `from` and `to` (Unix seconds).
pub fn interval(from: i64, to: i64) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let from = DateTime::from_timestamp(from, 0)?;
    let to = DateTime::from_timestamp(to, 0)?;
    (from < to && to - from <= Duration::days(366)).then_some((from, to))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn the_bucket_follows_the_range_and_the_last_bar_holds_now() {
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 10, 37, 12).unwrap();
        for (range, bars, bucket) in [
            ("1h", 60, Duration::minutes(1)),
            ("24h", 96, Duration::minutes(15)),
            ("7d", 168, Duration::hours(1)),
            ("30d", 30, Duration::days(1)),
            ("", 168, Duration::hours(1)),
        ] {
            let chart_range = ChartRange::of(range, now);
            assert_eq!(chart_range.bars, bars, "{range}");
            let last = chart_range.since + bucket * (bars as i32 - 1);
            assert!(
                last <= now && now < last + bucket,
                "{range}: last bar {last}"
            );
        }
    }

    #[test]
    fn bars_link_to_their_interval_and_one_error_in_a_hundred_still_shows() {
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 10, 37, 12).unwrap();
        let range = ChartRange::of("24h", now);
        let busy = range.since + Duration::minutes(30);
        let chart = chart(&range, &[(busy, 1000, 10)], |from, to| {
            format!("{}-{}", from.timestamp(), to.timestamp())
        });
        assert_eq!(chart.bars.len(), 96);
        assert_eq!(chart.max, 1000);
        let bar = &chart.bars[2];
        assert_eq!(bar.requests, HEIGHT);
        assert_eq!(
            bar.errors, ERROR_MARK,
            "1 % of the busiest bar is drawn at least 4 high"
        );
        assert!(bar.failed);
        assert_eq!(
            bar.href,
            format!(
                "{}-{}",
                busy.timestamp(),
                (busy + Duration::minutes(15)).timestamp()
            )
        );
        assert!(
            bar.label.contains("1,000 requests, 10 errors"),
            "{}",
            bar.label
        );
        assert!(!chart.bars[3].failed);
        assert_eq!(chart.ticks.len(), 5);
        assert_eq!(chart.title, "Requests per 15 minutes, last 24 hours");
        assert_eq!(chart.ticks[4], "10:30");
    }

    #[test]
    fn intervals_from_the_url_are_checked() {
        assert!(interval(100, 200).is_some());
        assert!(interval(200, 100).is_none());
        assert!(interval(0, 400 * 86_400).is_none());
        assert!(interval(i64::MAX, i64::MAX).is_none());
    }
}
