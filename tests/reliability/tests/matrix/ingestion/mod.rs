//! The Product Ingestion backend: the same handlers on the emulator's Partner Center offer.

mod errors;
mod federation;
mod images;
mod lifecycle;
mod quirks;
mod secrets;

use std::time::Duration;

use shared::workflow::{Action, PublishRequest, WorkflowState};
use test_harness::{Harness, pi_request};

pub use crate::support::{check, go_live, update};

pub fn start(request: PublishRequest) -> WorkflowState {
    WorkflowState::start(request, Action::Publish)
}

/// A publish of `version` on the one-type plan, run until its preview is ready.
pub async fn published(h: &Harness, version: &str) -> WorkflowState {
    let state = update(h, &start(pi_request(version))).await.unwrap();
    until_done(h, state).await
}

/// Checks the operation, waiting as told, until it ends.
pub async fn until_done(h: &Harness, mut state: WorkflowState) -> WorkflowState {
    for _ in 0..40 {
        h.advance(Duration::from_secs(
            state.next_check_seconds.unwrap_or(3_600),
        ));
        state = check(h, &state).await.unwrap();
        if state.next_check_seconds.is_none() {
            return state;
        }
    }
    panic!("no preview after 40 checks: {state:?}");
}
