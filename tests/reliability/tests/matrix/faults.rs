//! Faults on every endpoint the pipeline calls, injected by the emulator, with the handler that makes
//! the call running in-process. GETs, the conditional PUT and the token request are retried within the
//! budget and the run succeeds; POST publish / golive are never re-sent once they may have been
//! received: the run fails with a retryable error name, and running it again (the state machine's
//! retry) re-reads the offer's operations and resumes, so there is never a second operation.

use std::ops::RangeInclusive;
use std::time::Duration;

use shared::workflow::{
    ErrorName, GoLiveOutcome, OperationKind, RunStatus, WorkflowError, WorkflowState,
};
use test_harness::Harness;
use test_harness::cpp_emulator::FaultAction;

use crate::support::*;

/// An endpoint the pipeline calls, and the run that calls it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Token,
    Draft,
    Submissions,
    PutOffer,
    Operation,
    Preview,
    Production,
    Publish,
    GoLive,
}

use Endpoint::*;

impl Endpoint {
    /// The method and a path fragment of this endpoint's requests. Faults are injected once the offer
    /// is prepared, so the first matching request is the one the run under test makes.
    pub fn target(self) -> (&'static str, &'static str) {
        match self {
            Token => ("POST", "/oauth2/token"),
            Draft => ("GET", OFFER_PATH),
            Submissions => ("GET", "/submissions"),
            PutOffer => ("PUT", OFFER_PATH),
            Operation => ("GET", "/operations/"),
            Preview => ("GET", "/slot/preview"),
            Production => ("GET", "/slot/production"),
            Publish => ("POST", "/publish"),
            GoLive => ("POST", "/golive"),
        }
    }

    /// Publish and go-live: not safe to send twice.
    pub fn starts_an_operation(self) -> bool {
        matches!(self, Publish | GoLive)
    }

    /// Brings the offer to where the run under test makes this call; returns that run's input.
    pub async fn prepare(self, h: &Harness) -> WorkflowState {
        match self {
            Token | Draft | Submissions | PutOffer | Publish => start_state(VERSION),
            Operation => publishing(h).await,
            Preview | GoLive => at_signoff(h).await,
            // validate-and-go-live again after the go-live ended: it finds production holding the version.
            Production => live(h).await,
        }
    }

    pub async fn run(
        self,
        h: &Harness,
        state: &WorkflowState,
    ) -> Result<WorkflowState, WorkflowError> {
        match self {
            Token | Draft | Submissions | PutOffer | Publish => update(h, state).await,
            Operation => check(h, state).await,
            Preview | Production | GoLive => go_live(h, state).await,
        }
    }

    /// What a run through this endpoint ends with, faults or not: one operation of each kind it
    /// needs, the version in the draft, and the state pointing at the operation CPP lists.
    pub async fn assert_outcome(self, h: &Harness, state: &WorkflowState) {
        assert_eq!(h.versions_in("draft"), ["1.0.0", VERSION], "{self:?}");
        let list = submissions(h).await;
        let operation = state.operation.as_ref().unwrap();
        match self {
            Token | Draft | Submissions | PutOffer | Publish | Operation => {
                assert_eq!(operation_counts(h).await, (1, 0), "{self:?}: one publish");
                assert_eq!(operation.kind, OperationKind::Publish);
                assert_eq!(state.operation_status, Some(RunStatus::Running));
            }
            Preview | GoLive | Production => {
                assert_eq!(
                    operation_counts(h).await,
                    (1, 1),
                    "{self:?}: one publish, one go-live"
                );
                assert_eq!(operation.kind, OperationKind::GoLive);
                assert_eq!(state.outcome, Some(GoLiveOutcome::GoLiveStarted));
            }
        }
        assert_eq!(
            operation.at.id.as_deref(),
            Some(list[0].id.as_str()),
            "{self:?}: the state names the newest operation"
        );
    }
}

/// Requests since `from` (an index into the request log) with the endpoint's method and path.
fn calls_since(h: &Harness, from: usize, endpoint: Endpoint) -> Vec<(u16, Option<String>)> {
    let (method, path) = endpoint.target();
    h.emulator.requests()[from..]
        .iter()
        .filter(|r| r.method == method && r.path.contains(path))
        .map(|r| (r.status, r.fault.clone()))
        .collect()
}

/// POSTs to `path` that CPP accepted (202) over the whole run.
fn accepted(h: &Harness, path: &str) -> usize {
    hits(h, "POST", path)
        .iter()
        .filter(|r| r.status == 202)
        .count()
}

/// The fault hits the POST once: the run fails as `name`, the POST is not re-sent, and running again
/// starts the operation exactly once.
async fn refused_post_then_rerun(
    h: &Harness,
    endpoint: Endpoint,
    state: &WorkflowState,
    name: ErrorName,
    before: usize,
) {
    let err = endpoint.run(h, state).await.unwrap_err();
    assert_eq!(err.name, name, "{endpoint:?}: {err}");
    assert_eq!(
        calls_since(h, before, endpoint).len(),
        1,
        "{endpoint:?}: never re-sent within the run"
    );
    let done = endpoint.run(h, state).await.unwrap();
    endpoint.assert_outcome(h, &done).await;
    let (_, path) = endpoint.target();
    assert_eq!(accepted(h, path), 1, "{endpoint:?}: started once");
}

#[derive(Clone, Copy, Debug)]
enum RetryAfter {
    Seconds,
    HttpDate,
}

/// 429 with `Retry-After`: waited out on the client's clock and retried, or for a POST `Throttled`.
async fn throttled_once(endpoint: Endpoint, form: RetryAfter) {
    let h = Harness::start().await;
    let state = endpoint.prepare(&h).await;
    let (header, expected): (String, RangeInclusive<Duration>) = match form {
        RetryAfter::Seconds => ("7".into(), Duration::from_secs(7)..=Duration::from_secs(7)),
        // HTTP dates have whole seconds: 9 s ahead is 8 to 9 s away.
        RetryAfter::HttpDate => (
            httpdate::fmt_http_date(client_now(&h) + Duration::from_secs(9)),
            Duration::from_secs(8)..=Duration::from_secs(9),
        ),
    };
    let (method, path) = endpoint.target();
    h.emulator
        .inject_fault(fault(method, path, 1, throttled(&header)));
    let (before, slept) = (h.emulator.requests().len(), h.clock.sleeps().len());

    if endpoint.starts_an_operation() {
        refused_post_then_rerun(&h, endpoint, &state, ErrorName::Throttled, before).await;
        return;
    }
    let done = endpoint.run(&h, &state).await.unwrap();
    let calls = calls_since(&h, before, endpoint);
    assert_eq!(calls[0], (429, Some("status 429".into())), "{endpoint:?}");
    assert!((200..300).contains(&calls[1].0), "{endpoint:?}: {calls:?}");
    let waits = &h.clock.sleeps()[slept..];
    assert!(
        waits.iter().any(|w| expected.contains(w)),
        "{endpoint:?} {form:?}: Retry-After {header} not honoured: waited {waits:?}"
    );
    endpoint.assert_outcome(&h, &done).await;
}

/// Four 5xx in a row (within the client's four retries): retried through; a POST is not re-sent.
async fn server_error_burst(endpoint: Endpoint) {
    let h = Harness::start().await;
    let state = endpoint.prepare(&h).await;
    let (method, path) = endpoint.target();
    let before = h.emulator.requests().len();
    if endpoint.starts_an_operation() {
        h.emulator.inject_fault(fault(method, path, 1, status(503)));
        refused_post_then_rerun(&h, endpoint, &state, ErrorName::Transient, before).await;
        return;
    }
    for code in [500, 502, 503, 504] {
        h.emulator
            .inject_fault(fault(method, path, 1, status(code)));
    }
    let done = endpoint.run(&h, &state).await.unwrap();
    let codes: Vec<u16> = calls_since(&h, before, endpoint)
        .iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(codes[..4], [500, 502, 503, 504], "{endpoint:?}");
    assert!((200..300).contains(&codes[4]), "{endpoint:?}: {codes:?}");
    endpoint.assert_outcome(&h, &done).await;
}

/// 5xx outlasting the retries: `Transient` with nothing half-done, and the next run succeeds.
async fn server_errors_outlasting_the_retries(endpoint: Endpoint) {
    let h = Harness::start().await;
    let state = endpoint.prepare(&h).await;
    let (method, path) = endpoint.target();
    let operations_before = operation_counts(&h).await;
    let before = h.emulator.requests().len();
    h.emulator.inject_fault(fault(method, path, 0, status(503)));
    let err = endpoint.run(&h, &state).await.unwrap_err();
    assert_eq!(err.name, ErrorName::Transient, "{endpoint:?}: {err}");
    assert!(err.message.contains("503"), "{err}");
    let calls = calls_since(&h, before, endpoint);
    let expected = if endpoint.starts_an_operation() { 1 } else { 5 };
    assert_eq!(calls.len(), expected, "{endpoint:?}: {calls:?}");
    h.emulator.clear_faults();
    assert_eq!(
        operation_counts(&h).await,
        operations_before,
        "{endpoint:?}: nothing started"
    );
    let done = endpoint.run(&h, &state).await.unwrap();
    endpoint.assert_outcome(&h, &done).await;
}

/// A response that never comes within the request timeout.
async fn hung_response(endpoint: Endpoint) {
    let mut h = Harness::start().await;
    let state = endpoint.prepare(&h).await;
    // Only the run under test waits briefly, so the hang costs little real time.
    let patient = make_impatient(&mut h);
    let (method, path) = endpoint.target();
    h.emulator
        .inject_fault(fault(method, path, 1, FaultAction::Delay { by: HANG }));
    let before = h.emulator.requests().len();
    if endpoint.starts_an_operation() {
        let err = endpoint.run(&h, &state).await.unwrap_err();
        assert_eq!(err.name, ErrorName::Transient, "{endpoint:?}: {err}");
        assert!(err.message.contains("may have been received"), "{err}");
        assert_eq!(calls_since(&h, before, endpoint).len(), 1, "not re-sent");
        // Whether or not CPP went on with the abandoned request, the next run ends with one operation.
        h.deps.cpp = patient;
        let done = endpoint.run(&h, &state).await.unwrap();
        endpoint.assert_outcome(&h, &done).await;
        let calls = calls_since(&h, before, endpoint);
        assert_eq!(calls.len(), 2, "the next run had to send it: {calls:?}");
        assert_eq!(calls[1].0, 202);
        return;
    }
    let done = endpoint.run(&h, &state).await.unwrap();
    let calls = calls_since(&h, before, endpoint);
    assert_eq!(calls[0].1.as_deref(), Some("delay 800ms"), "{endpoint:?}");
    assert!(calls.len() >= 2, "{endpoint:?}: retried after the timeout");
    endpoint.assert_outcome(&h, &done).await;
}

/// The connection closes before the request is handled: nothing happened at CPP.
async fn dropped_before_handling(endpoint: Endpoint) {
    let h = Harness::start().await;
    let state = endpoint.prepare(&h).await;
    let (method, path) = endpoint.target();
    h.emulator
        .inject_fault(fault(method, path, 1, FaultAction::DropBeforeHandling));
    let before = h.emulator.requests().len();
    if endpoint.starts_an_operation() {
        refused_post_then_rerun(&h, endpoint, &state, ErrorName::Transient, before).await;
        let calls = calls_since(&h, before, endpoint);
        assert_eq!(
            calls[0],
            (0, Some("dropBeforeHandling".into())),
            "{endpoint:?}"
        );
        assert_eq!(calls.len(), 2, "the next run had to send it: {calls:?}");
        return;
    }
    let done = endpoint.run(&h, &state).await.unwrap();
    let calls = calls_since(&h, before, endpoint);
    assert_eq!(calls[0], (0, Some("dropBeforeHandling".into())));
    endpoint.assert_outcome(&h, &done).await;
}

/// The connection closes after CPP acted on the request: the next attempt must not act twice.
async fn dropped_after_handling(endpoint: Endpoint) {
    let h = Harness::start().await;
    let state = endpoint.prepare(&h).await;
    let (method, path) = endpoint.target();
    h.emulator
        .inject_fault(fault(method, path, 1, FaultAction::DropAfterHandling));
    let before = h.emulator.requests().len();
    if endpoint.starts_an_operation() {
        let err = endpoint.run(&h, &state).await.unwrap_err();
        assert_eq!(err.name, ErrorName::Transient, "{endpoint:?}: {err}");
        assert!(err.message.contains("may have been received"), "{err}");
        // The state machine runs the task again: it reads the operations and resumes.
        let done = endpoint.run(&h, &state).await.unwrap();
        endpoint.assert_outcome(&h, &done).await;
        assert_eq!(
            calls_since(&h, before, endpoint),
            [(0, Some("dropAfterHandling".into()))],
            "{endpoint:?}: sent once, never again"
        );
        return;
    }
    let done = endpoint.run(&h, &state).await.unwrap();
    let calls = calls_since(&h, before, endpoint);
    assert_eq!(calls[0], (0, Some("dropAfterHandling".into())));
    endpoint.assert_outcome(&h, &done).await;
    if endpoint == PutOffer {
        // The retried PUT met 412 because the first was applied: the report still says this run wrote it.
        assert_eq!(calls.get(1).map(|c| c.0), Some(412), "{calls:?}");
        assert_eq!(done.changed, Some(true));
    }
}

/// One test per endpoint of a scenario, named after the endpoint.
macro_rules! for_each_endpoint {
    ($module:ident, $scenario:expr) => {
        mod $module {
            use super::*;

            #[tokio::test]
            async fn token() {
                ($scenario)(Token).await
            }
            #[tokio::test]
            async fn get_draft() {
                ($scenario)(Draft).await
            }
            #[tokio::test]
            async fn get_submissions() {
                ($scenario)(Submissions).await
            }
            #[tokio::test]
            async fn put_offer() {
                ($scenario)(PutOffer).await
            }
            #[tokio::test]
            async fn get_operation() {
                ($scenario)(Operation).await
            }
            #[tokio::test]
            async fn get_preview_slot() {
                ($scenario)(Preview).await
            }
            #[tokio::test]
            async fn get_production_slot() {
                ($scenario)(Production).await
            }
            #[tokio::test]
            async fn post_publish() {
                ($scenario)(Publish).await
            }
            #[tokio::test]
            async fn post_golive() {
                ($scenario)(GoLive).await
            }
        }
    };
}

for_each_endpoint!(throttled_retry_after_seconds, |e| throttled_once(
    e,
    RetryAfter::Seconds
));
for_each_endpoint!(throttled_retry_after_http_date, |e| throttled_once(
    e,
    RetryAfter::HttpDate
));
for_each_endpoint!(server_error_burst, server_error_burst);
for_each_endpoint!(
    server_errors_outlasting_the_retries,
    server_errors_outlasting_the_retries
);
for_each_endpoint!(hung_response, hung_response);
for_each_endpoint!(dropped_before_handling, dropped_before_handling);
for_each_endpoint!(dropped_after_handling, dropped_after_handling);
