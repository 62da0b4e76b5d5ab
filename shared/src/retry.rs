//! When to send a request again, as a pure function; backon supplies the jittered exponential timing.

use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};

/// Whether a request may be sent again once it may have reached the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replay {
    /// GET and conditional PUT: sending twice has the effect of sending once.
    Safe,
    /// POST publish / golive / cancel: re-sent only when it surely never left this process.
    NotSafe,
}

/// What one attempt came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// No response in time; the server may have acted on the request.
    Timeout,
    /// The connection could not be made: the request was never sent.
    NotSent,
    /// The connection broke after the request may have been received.
    Interrupted,
}

/// As logs show it: `HTTP 429, Retry-After 3 s`, `timeout`.
impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Status {
                status,
                retry_after: Some(wait),
            } => write!(f, "HTTP {status}, Retry-After {} s", wait.as_secs_f64()),
            Self::Status { status, .. } => write!(f, "HTTP {status}"),
            Self::Timeout => f.write_str("timeout"),
            Self::NotSent => f.write_str("not sent"),
            Self::Interrupted => f.write_str("interrupted"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Stop,
    RetryAfter(Duration),
}

/// Decides whether to try again. `backoff` is the next delay of the backoff schedule (`None` once its
/// attempts are used up); `remaining` is what is left of the call's time budget.
pub fn decide(
    replay: Replay,
    outcome: Outcome,
    backoff: Option<Duration>,
    remaining: Duration,
) -> Decision {
    let Some(backoff) = backoff else {
        return Decision::Stop;
    };
    let wait = match (outcome, replay) {
        (
            Outcome::Status {
                status,
                retry_after,
            },
            Replay::Safe,
        ) if status == 429 || status >= 500 => retry_after.unwrap_or(backoff),
        (Outcome::Timeout | Outcome::Interrupted, Replay::Safe) => backoff,
        (Outcome::NotSent, _) => backoff,
        _ => return Decision::Stop,
    };
    if wait > remaining {
        Decision::Stop
    } else {
        Decision::RetryAfter(wait)
    }
}

/// Reads a `Retry-After` header: delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The retry schedule and the time budget of one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetrySettings {
    pub max_retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// Total time one call may take, waits included.
    pub budget: Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self {
            max_retries: 4,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            budget: Duration::from_secs(60),
        }
    }
}

impl RetrySettings {
    /// The jittered exponential delays before each retry.
    pub fn backoff(&self) -> impl Iterator<Item = Duration> + use<> {
        ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries)
            .with_jitter()
            .build()
    }

    /// The budget for an invocation that must end by `deadline`, keeping `reserve` to reply in.
    ///
    /// A deadline already past, or further away than Lambda allows (15 minutes), is not a real
    /// invocation deadline (`cargo lambda watch` hands out one in 1970): the own budget applies.
    pub fn within_deadline(self, deadline: SystemTime, now: SystemTime, reserve: Duration) -> Self {
        const LAMBDA_MAX_RUN: Duration = Duration::from_secs(15 * 60);
        let budget = match deadline.duration_since(now) {
            Ok(left) if left <= LAMBDA_MAX_RUN => left.saturating_sub(reserve).min(self.budget),
            _ => self.budget,
        };
        Self { budget, ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);
    const PLENTY: Duration = Duration::from_secs(60);

    #[test]
    fn an_outcome_reads_plainly_in_logs() {
        let throttled = Outcome::Status {
            status: 429,
            retry_after: Some(3 * SECOND),
        };
        assert_eq!(throttled.to_string(), "HTTP 429, Retry-After 3 s");
        let failed = Outcome::Status {
            status: 503,
            retry_after: None,
        };
        assert_eq!(failed.to_string(), "HTTP 503");
        assert_eq!(Outcome::NotSent.to_string(), "not sent");
    }

    fn status(status: u16) -> Outcome {
        Outcome::Status {
            status,
            retry_after: None,
        }
    }

    #[test]
    fn safe_requests_retry_on_throttling_server_errors_and_transport_failures() {
        for outcome in [
            status(429),
            status(500),
            status(502),
            status(503),
            Outcome::Timeout,
            Outcome::Interrupted,
            Outcome::NotSent,
        ] {
            assert_eq!(
                decide(Replay::Safe, outcome, Some(SECOND), PLENTY),
                Decision::RetryAfter(SECOND),
                "{outcome:?}"
            );
        }
    }

    #[test]
    fn client_errors_and_successes_are_final() {
        for code in [200, 201, 202, 400, 401, 403, 404, 409, 412, 422] {
            assert_eq!(
                decide(Replay::Safe, status(code), Some(SECOND), PLENTY),
                Decision::Stop,
                "{code}"
            );
        }
    }

    #[test]
    fn unsafe_requests_are_resent_only_when_never_sent() {
        for outcome in [
            status(429),
            status(500),
            status(503),
            Outcome::Timeout,
            Outcome::Interrupted,
        ] {
            assert_eq!(
                decide(Replay::NotSafe, outcome, Some(SECOND), PLENTY),
                Decision::Stop,
                "{outcome:?}"
            );
        }
        assert_eq!(
            decide(Replay::NotSafe, Outcome::NotSent, Some(SECOND), PLENTY),
            Decision::RetryAfter(SECOND)
        );
    }

    #[test]
    fn retry_after_overrides_the_backoff() {
        let throttled = Outcome::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(
            decide(Replay::Safe, throttled, Some(SECOND), PLENTY),
            Decision::RetryAfter(Duration::from_secs(7))
        );
        let unavailable = Outcome::Status {
            status: 503,
            retry_after: Some(Duration::ZERO),
        };
        assert_eq!(
            decide(Replay::Safe, unavailable, Some(SECOND), PLENTY),
            Decision::RetryAfter(Duration::ZERO)
        );
    }

    #[test]
    fn stops_when_attempts_or_budget_run_out() {
        assert_eq!(
            decide(Replay::Safe, status(503), None, PLENTY),
            Decision::Stop
        );
        assert_eq!(
            decide(Replay::Safe, status(503), Some(SECOND * 5), SECOND * 4),
            Decision::Stop
        );
        let long_wait = Outcome::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(120)),
        };
        assert_eq!(
            decide(Replay::Safe, long_wait, Some(SECOND), PLENTY),
            Decision::Stop
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn backoff_grows_with_jitter_and_ends() {
        let settings = RetrySettings {
            max_retries: 5,
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            budget: PLENTY,
        };
        let delays: Vec<Duration> = settings.backoff().collect();
        assert_eq!(delays.len(), 5);
        assert!(
            delays
                .iter()
                .all(|d| *d >= Duration::from_millis(100) && *d <= Duration::from_secs(2)),
            "{delays:?}"
        );
        assert!(
            delays[4] >= Duration::from_millis(800),
            "exponential growth: {delays:?}"
        );
    }

    #[test]
    fn invocation_deadline_bounds_the_budget_unless_it_is_not_real() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        let base = RetrySettings::default();
        let reserve = Duration::from_secs(2);
        assert_eq!(
            base.within_deadline(now + Duration::from_secs(30), now, reserve)
                .budget,
            Duration::from_secs(28)
        );
        assert_eq!(
            base.within_deadline(now + Duration::from_secs(600), now, reserve)
                .budget,
            base.budget
        );
        // cargo lambda watch: a deadline in 1970.
        assert_eq!(
            base.within_deadline(
                SystemTime::UNIX_EPOCH + Duration::from_secs(600),
                now,
                reserve
            )
            .budget,
            base.budget
        );
        assert_eq!(
            base.within_deadline(now + Duration::from_secs(86_400), now, reserve)
                .budget,
            base.budget
        );
    }
}
