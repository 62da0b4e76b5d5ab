//! Waiting for the offer. CPP runs one operation per offer, so a run that finds another one running
//! (an earlier version in certification, at sign-off or going live) queues behind it instead of
//! failing: the state machine waits `nextCheckSeconds` and runs update-and-publish again.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::workflow::error::{ErrorName, WorkflowError};
use crate::workflow::state::WorkflowState;

/// The first wait; each next one doubles, up to [`LONGEST_WAIT_SECONDS`].
pub const FIRST_WAIT_SECONDS: u64 = 300;
/// A freed offer is noticed within this long (the 4 h poll interval of long-lived CPP clients).
pub const LONGEST_WAIT_SECONDS: u64 = 14_400;

/// How long this run has been waiting for the offer, and for what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueState {
    /// When the run first found the offer busy (RFC 3339), for people reading the state.
    pub since: String,
    /// How many times the offer was found busy.
    pub checks: u32,
    /// The waits scheduled so far: the run gives up when they reach `CPP_QUEUE_MAX_DAYS`. Counted
    /// rather than read from the clock, since the state machine's waits are exact.
    pub waited_seconds: u64,
    /// What held the offer when it was last checked.
    pub waiting_for: String,
    /// `CPP_QUEUE_MAX_DAYS` when the offer was last checked: how long the run waits at most, for the
    /// queued notice to say in days (set on every visit, so a state written before it existed reads 0).
    #[serde(default)]
    pub max_days: u32,
}

/// The wait after the offer was found busy `checks` times before.
pub fn wait_seconds(checks: u32) -> u64 {
    FIRST_WAIT_SECONDS
        .saturating_mul(1 << checks.min(20))
        .min(LONGEST_WAIT_SECONDS)
}

impl WorkflowState {
    /// Queues the run behind the operation `busy` (an `OfferBusy` error) describes, or fails with it
    /// once the waits have reached `max_days`.
    pub fn wait_for_offer(
        &mut self,
        busy: WorkflowError,
        now: OffsetDateTime,
        max_days: u32,
    ) -> Result<(), WorkflowError> {
        let mut queue = self.queue.take().unwrap_or_else(|| QueueState {
            since: now.format(&Rfc3339).unwrap_or_default(),
            checks: 0,
            waited_seconds: 0,
            waiting_for: String::new(),
            max_days,
        });
        let limit = u64::from(max_days) * 86_400;
        if queue.waited_seconds >= limit {
            let days = queue.waited_seconds as f64 / 86_400.0;
            return Err(WorkflowError::new(
                ErrorName::OfferBusy,
                format!(
                    "{}; this run waited {days:.1} days for the offer (since {}, CPP_QUEUE_MAX_DAYS={max_days}); go live with or cancel the operation that holds it, then start this input again under a new execution name",
                    busy.message, queue.since
                ),
            ));
        }
        let wait = wait_seconds(queue.checks).min(limit - queue.waited_seconds);
        queue.checks += 1;
        queue.waited_seconds += wait;
        queue.waiting_for = busy.message;
        queue.max_days = max_days;
        self.queue = Some(queue);
        self.next_check_seconds = Some(wait);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    fn fresh_state() -> WorkflowState {
        WorkflowState::from_value(json!({"publisherId": "contoso", "offerId": "offer", "planId": "gen2",
            "version": "1.4.0", "osVhdUrl": "https://a.blob.core.windows.net/v/os.vhd?sp=rl&sig=x", "action": "publish"}))
        .unwrap()
    }

    fn busy() -> WorkflowError {
        WorkflowError::new(ErrorName::OfferBusy, "contoso/offer has publish 42 running")
    }

    #[test]
    fn waits_double_from_five_minutes_to_four_hours() {
        let waits: Vec<u64> = (0..9).map(wait_seconds).collect();
        assert_eq!(
            waits,
            [300, 600, 1200, 2400, 4800, 9600, 14_400, 14_400, 14_400]
        );
        assert_eq!(wait_seconds(u32::MAX), LONGEST_WAIT_SECONDS);
    }

    #[test]
    fn a_queued_run_counts_its_waits_and_keeps_when_it_began() {
        let mut state = fresh_state();
        let t0 = datetime!(2026-11-21 10:00 UTC);
        state.wait_for_offer(busy(), t0, 18).unwrap();
        state
            .wait_for_offer(busy(), t0 + time::Duration::minutes(5), 18)
            .unwrap();
        let queue = state.queue.clone().unwrap();
        assert_eq!(queue.since, "2026-11-21T10:00:00Z");
        assert_eq!((queue.checks, queue.waited_seconds), (2, 900));
        assert_eq!(queue.waiting_for, "contoso/offer has publish 42 running");
        assert_eq!(queue.max_days, 18, "for the notice to say how long at most");
        assert_eq!(serde_json::to_value(&queue).unwrap()["maxDays"], 18);
        assert_eq!(state.next_check_seconds, Some(600));
    }

    #[test]
    fn the_run_gives_up_once_its_waits_reach_the_limit_and_says_how_long_it_waited() {
        let mut state = fresh_state();
        let now = datetime!(2026-11-21 10:00 UTC);
        let mut waited = 0;
        let err = loop {
            match state.wait_for_offer(busy(), now, 18) {
                Ok(()) => waited += state.next_check_seconds.unwrap(),
                Err(e) => break e,
            }
        };
        assert_eq!(waited, 18 * 86_400, "the last wait is cut to the limit");
        assert_eq!(state.queue, None);
        assert_eq!(err.name, ErrorName::OfferBusy);
        assert!(
            err.message
                .starts_with("contoso/offer has publish 42 running; this run waited 18.0 days")
                && err.message.contains("CPP_QUEUE_MAX_DAYS=18"),
            "{err}"
        );
    }

    #[test]
    fn a_limit_of_zero_days_fails_at_once() {
        let mut state = fresh_state();
        let err = state
            .wait_for_offer(busy(), datetime!(2026-11-21 10:00 UTC), 0)
            .unwrap_err();
        assert!(err.message.contains("waited 0.0 days"), "{err}");
    }
}
