//! How long to wait before looking at an operation again. Waiting costs nothing, each look costs
//! state transitions.

use std::time::Duration;

use crate::marketplace::Api;

/// Product Ingestion asks for at most one status read a minute.
const INGESTION_MIN_WAIT: Duration = Duration::from_secs(60);

/// The shortest wait between two looks at an operation: `CPP_POLL_MIN_SECONDS`, and on Product
/// Ingestion never under a minute.
pub fn min_wait(api: Api, configured_seconds: u64) -> Duration {
    let configured = Duration::from_secs(configured_seconds);
    match api {
        Api::Cpp => configured,
        Api::ProductIngestion => configured.max(INGESTION_MIN_WAIT),
    }
}

/// When to look again: halfway through what the current step is expected to take still, or a
/// quarter of its estimate once it is overdue; an hour when there is no estimate; clamped to bounds.
pub fn next_check(
    estimate: Option<Duration>,
    running_for: Duration,
    min: Duration,
    max: Duration,
) -> Duration {
    const WITHOUT_ESTIMATE: Duration = Duration::from_secs(3_600);
    let wait = match estimate {
        Some(estimate) if estimate > running_for => (estimate - running_for) / 2,
        Some(estimate) => estimate / 4,
        None => WITHOUT_ESTIMATE,
    };
    wait.clamp(min, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_ingestion_is_read_at_most_once_a_minute() {
        assert_eq!(min_wait(Api::Cpp, 5), Duration::from_secs(5));
        assert_eq!(min_wait(Api::ProductIngestion, 5), Duration::from_secs(60));
        assert_eq!(
            min_wait(Api::ProductIngestion, 300),
            Duration::from_secs(300)
        );
    }

    const MIN: Duration = Duration::from_secs(300);
    const MAX: Duration = Duration::from_secs(21_600);

    #[test]
    fn waits_follow_the_estimate_within_bounds() {
        let h = |n: u64| Duration::from_secs(n * 3_600);
        assert_eq!(
            next_check(Some(Duration::from_secs(900)), Duration::ZERO, MIN, MAX),
            Duration::from_secs(450)
        );
        assert_eq!(
            next_check(Some(h(72)), Duration::ZERO, MIN, MAX),
            MAX,
            "long steps are checked at the maximum"
        );
        assert_eq!(
            next_check(Some(h(2)), h(1), MIN, MAX),
            Duration::from_secs(1_800)
        );
        assert_eq!(
            next_check(Some(h(1)), h(5), MIN, MAX),
            Duration::from_secs(900),
            "overdue: a quarter of the estimate"
        );
        assert_eq!(
            next_check(Some(Duration::from_secs(60)), Duration::ZERO, MIN, MAX),
            MIN
        );
        assert_eq!(next_check(None, Duration::ZERO, MIN, MAX), h(1));
    }
}
