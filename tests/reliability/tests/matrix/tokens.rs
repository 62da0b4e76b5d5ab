//! The bearer token: the token endpoint failing and recovering, tokens expiring between two
//! invocations of a run, and tokens revoked at Azure AD.

use std::time::Duration;

use shared::workflow::{ErrorName, RunStatus};
use test_harness::Harness;
use test_harness::cpp_emulator::FaultAction;

use crate::support::*;

const TOKEN: &str = "/oauth2/token";
/// The emulator's tokens live an hour (AAD's default).
const PAST_THE_LIFETIME: Duration = Duration::from_secs(2 * 3_600);

fn token_requests(h: &Harness) -> Vec<u16> {
    hits(h, "POST", TOKEN).iter().map(|r| r.status).collect()
}

#[tokio::test]
async fn the_token_endpoint_failing_then_recovering_is_retried_within_the_run() {
    let h = Harness::start().await;
    h.emulator
        .inject_fault(fault("POST", TOKEN, 1, status(500)));
    h.emulator
        .inject_fault(fault("POST", TOKEN, 1, status(503)));
    let state = publishing(&h).await;
    assert_eq!(token_requests(&h), [500, 503, 200]);
    assert_eq!(state.operation_status, Some(RunStatus::Running));
    assert_eq!(h.versions_in("draft"), ["1.0.0", VERSION]);
}

#[tokio::test]
async fn the_token_endpoint_down_for_the_whole_run_writes_nothing_and_the_next_run_recovers() {
    let h = Harness::start().await;
    h.emulator
        .inject_fault(fault("POST", TOKEN, 0, status(503)));
    let err = update(&h, &start_state(VERSION)).await.unwrap_err();
    assert_eq!(err.name, ErrorName::Transient, "{err}");
    assert!(err.message.contains("oauth2/token"), "{err}");
    assert!(
        h.emulator
            .requests()
            .iter()
            .all(|r| r.path.ends_with(TOKEN)),
        "no API call without a token"
    );
    h.emulator.clear_faults();
    let state = update(&h, &start_state(VERSION)).await.unwrap();
    assert_eq!(state.operation_status, Some(RunStatus::Running));
    assert_eq!(operation_counts(&h).await, (1, 0));
}

#[tokio::test]
async fn the_token_endpoint_hanging_is_retried() {
    let mut h = Harness::start().await;
    let state = publishing(&h).await;
    make_impatient(&mut h);
    h.emulator
        .inject_fault(fault("POST", TOKEN, 1, FaultAction::Delay { by: HANG }));
    let state = check(&h, &state).await.unwrap();
    assert_eq!(state.operation_status, Some(RunStatus::Running));
    let tokens = hits(&h, "POST", TOKEN);
    assert_eq!(tokens[1].fault.as_deref(), Some("delay 800ms"));
    assert_eq!(tokens.last().map(|r| r.status), Some(200));
}

#[tokio::test]
async fn a_token_expiring_between_two_invocations_is_renewed_before_it_is_used() {
    let h = Harness::start().await;
    let state = publishing(&h).await;
    h.advance(PAST_THE_LIFETIME);
    let state = check(&h, &state).await.unwrap();
    assert_eq!(state.operation_status, Some(RunStatus::Running));
    assert_eq!(token_requests(&h), [200, 200], "a new token for the check");
    assert!(
        h.emulator.requests().iter().all(|r| r.status != 401),
        "the expired token was never sent"
    );
}

#[tokio::test]
async fn a_token_the_service_considers_expired_early_is_renewed_once_on_401() {
    let h = Harness::start().await;
    let state = publishing(&h).await;
    // Only the service's clock moves: the client believes its token is still good (clock skew).
    h.emulator.advance_clock(PAST_THE_LIFETIME);
    let state = check(&h, &state).await.unwrap();
    assert_eq!(state.operation_status, Some(RunStatus::Running));
    let polls: Vec<u16> = hits(&h, "GET", "/operations/")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(polls, [401, 200]);
    assert_eq!(token_requests(&h), [200, 200]);
}

#[tokio::test]
async fn a_token_expiring_in_the_middle_of_a_publication_is_renewed_at_every_step() {
    let h = Harness::start().await;
    let mut state = publishing(&h).await;
    for _ in 0..3 {
        h.advance(PAST_THE_LIFETIME);
        state = check(&h, &state).await.unwrap();
    }
    h.advance(DAY * 5);
    state = check(&h, &state).await.unwrap();
    assert_eq!(state.operation_status, Some(RunStatus::Succeeded));
    state.action = shared::workflow::Action::GoLive;
    h.advance(PAST_THE_LIFETIME);
    let state = go_live(&h, &state).await.unwrap();
    assert_eq!(
        state.outcome,
        Some(shared::workflow::GoLiveOutcome::GoLiveStarted)
    );
    assert_eq!(token_requests(&h).len(), 6, "one per expired token");
    assert_eq!(operation_counts(&h).await, (1, 1));
}

#[tokio::test]
async fn revoked_tokens_are_replaced_and_the_run_goes_on() {
    let h = Harness::start().await;
    let state = publishing(&h).await;
    h.emulator.revoke_tokens();
    let state = check(&h, &state).await.unwrap();
    assert_eq!(state.operation_status, Some(RunStatus::Running));
    assert_eq!(token_requests(&h), [200, 200]);
    let polls: Vec<u16> = hits(&h, "GET", "/operations/")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(polls, [401, 200]);
}

#[tokio::test]
async fn a_token_revoked_during_a_write_does_not_duplicate_it() {
    let h = Harness::start().await;
    let state = start_state(VERSION);
    // Revoked between the read and the write: the PUT is refused with 401 and sent again with a new token.
    h.emulator
        .inject_fault(fault("PUT", OFFER_PATH, 1, status(401)));
    let state = update(&h, &state).await.unwrap();
    let puts: Vec<u16> = hits(&h, "PUT", OFFER_PATH)
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(puts, [401, 200]);
    assert_eq!(h.versions_in("draft"), ["1.0.0", VERSION]);
    assert_eq!(state.operation_status, Some(RunStatus::Running));
    assert_eq!(operation_counts(&h).await, (1, 0));
}

#[tokio::test]
async fn a_401_that_outlasts_a_new_token_is_unauthorized_after_one_renewal() {
    let h = Harness::start().await;
    h.emulator
        .inject_fault(fault("GET", OFFER_PATH, 0, status(401)));
    let err = update(&h, &start_state(VERSION)).await.unwrap_err();
    assert_eq!(err.name, ErrorName::Unauthorized, "{err}");
    assert_eq!(
        token_requests(&h),
        [200, 200],
        "renewed once, not in a loop"
    );
    assert_eq!(hits(&h, "GET", OFFER_PATH).len(), 2);
    assert!(writes(&h).is_empty());
}

#[tokio::test]
async fn credentials_the_token_endpoint_refuses_are_unauthorized_and_nothing_is_called() {
    let mut h = Harness::start().await;
    h.deps.cpp = client(&h, "not-the-secret", Duration::from_secs(2));
    let err = update(&h, &start_state(VERSION)).await.unwrap_err();
    assert_eq!(err.name, ErrorName::Unauthorized, "{err}");
    assert!(err.message.contains("invalid_client"), "{err}");
    assert!(!err.message.contains("not-the-secret"), "{err}");
    assert_eq!(token_requests(&h), [401], "a refusal is not retried");
    assert!(
        h.emulator
            .requests()
            .iter()
            .all(|r| r.path.ends_with(TOKEN))
    );
}
