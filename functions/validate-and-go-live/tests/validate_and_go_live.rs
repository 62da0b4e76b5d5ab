//! validate-and-go-live against the CPP emulator: each outcome, resumption and refusal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use lambda_runtime::LambdaEvent;
use serde_json::json;
use shared::cpp::OfferView;
use shared::workflow::{
    Action, ErrorName, GoLiveOutcome, OperationKind, WorkflowError, WorkflowState,
};
use test_harness::cpp_emulator::{Fault, FaultAction};
use test_harness::{Harness, OFFER, PLAN, PUBLISHER, context, request, test_offer};
use validate_and_go_live::handle;

const DAY: Duration = Duration::from_secs(86_400);

async fn run(h: &Harness, version: &str) -> Result<WorkflowState, WorkflowError> {
    let state = WorkflowState::start(request(version), Action::GoLive);
    handle(
        LambdaEvent::new(serde_json::to_value(state).unwrap(), context()),
        &h.deps,
    )
    .await
}

/// Publishes `versions`' offer and waits until its preview is ready.
async fn preview_ready(h: &Harness, versions: &[&str]) {
    h.emulator.seed_offer(test_offer(versions));
    h.client().publish(PUBLISHER, OFFER, "").await.unwrap();
    h.advance(DAY * 5);
}

#[tokio::test]
async fn a_version_in_preview_goes_live() {
    let h = Harness::start().await;
    preview_ready(&h, &["1.0.0", "1.1.0"]).await;
    let state = run(&h, "1.1.0").await.unwrap();
    assert_eq!(state.outcome, Some(GoLiveOutcome::GoLiveStarted));
    let operation = state.operation.unwrap();
    assert_eq!(operation.kind, OperationKind::GoLive);
    assert!(operation.at.id.is_some());
    assert_eq!(h.count("POST", "/golive"), 1);
}

#[tokio::test]
async fn a_version_missing_from_preview_is_reported_not_taken_live() {
    let h = Harness::start().await;
    assert_eq!(
        run(&h, "1.0.0").await.unwrap().outcome,
        Some(GoLiveOutcome::VersionMissing),
        "never previewed: 404"
    );
    preview_ready(&h, &["1.0.0"]).await;
    assert_eq!(
        run(&h, "1.1.0").await.unwrap().outcome,
        Some(GoLiveOutcome::VersionMissing),
        "other version in preview"
    );
    let mut other_image = request("1.0.0");
    other_image.os_vhd_url = test_harness::sas_url("rebuilt");
    let state = WorkflowState::start(other_image, Action::GoLive);
    let state = handle(
        LambdaEvent::new(serde_json::to_value(state).unwrap(), context()),
        &h.deps,
    )
    .await
    .unwrap();
    assert_eq!(
        state.outcome,
        Some(GoLiveOutcome::VersionMissing),
        "same version, different image"
    );
    assert_eq!(h.count("POST", "/golive"), 0);
}

#[tokio::test]
async fn a_running_go_live_is_resumed_and_a_finished_one_not_repeated() {
    let h = Harness::start().await;
    preview_ready(&h, &["1.0.0"]).await;
    let first = run(&h, "1.0.0").await.unwrap();
    let again = run(&h, "1.0.0").await.unwrap();
    assert_eq!(
        again.operation.unwrap().at.id,
        first.operation.as_ref().unwrap().at.id
    );
    h.advance(DAY * 5);
    let after_live = run(&h, "1.0.0").await.unwrap();
    assert_eq!(after_live.outcome, Some(GoLiveOutcome::GoLiveStarted));
    assert_eq!(
        after_live.operation.unwrap().at.id,
        first.operation.unwrap().at.id
    );
    assert_eq!(h.count("POST", "/golive"), 1);
}

#[tokio::test]
async fn a_publish_still_certifying_holds_the_offer() {
    let h = Harness::start().await;
    preview_ready(&h, &["1.0.0"]).await;
    h.client().go_live(PUBLISHER, OFFER).await.unwrap();
    h.advance(DAY * 5);
    let mut draft = h
        .client()
        .get_offer(PUBLISHER, OFFER, OfferView::Draft)
        .await
        .unwrap();
    let image = json!({"osVhdUrl": test_harness::sas_url("1.1.0"), "lunVhdDetails": []});
    draft
        .plan_mut(PLAN)
        .unwrap()
        .insert_image("1.1.0".parse().unwrap(), image)
        .unwrap();
    h.client().put_offer(PUBLISHER, &draft).await.unwrap();
    h.client().publish(PUBLISHER, OFFER, "").await.unwrap();
    let err = run(&h, "1.0.0").await.unwrap_err();
    assert_eq!(err.name, ErrorName::OfferBusy, "{err}");
    assert!(err.message.contains("Validate Pre-Requisites"), "{err}");
}

#[tokio::test]
async fn a_go_live_refused_with_409_means_busy() {
    let h = Harness::start().await;
    preview_ready(&h, &["1.0.0"]).await;
    h.emulator.inject_fault(Fault {
        method: Some("POST".into()),
        path_contains: "/golive".into(),
        times: 1,
        action: FaultAction::Status {
            status: 409,
            retry_after: None,
            body: None,
        },
    });
    assert_eq!(
        run(&h, "1.0.0").await.unwrap_err().name,
        ErrorName::OfferBusy
    );
}

#[tokio::test]
async fn a_go_live_whose_answer_was_lost_is_resumed_not_resent() {
    let h = Harness::start().await;
    preview_ready(&h, &["1.0.0"]).await;
    h.emulator.inject_fault(Fault {
        method: Some("POST".into()),
        path_contains: "/golive".into(),
        times: 1,
        action: FaultAction::DropAfterHandling,
    });
    assert_eq!(
        run(&h, "1.0.0").await.unwrap_err().name,
        ErrorName::Transient
    );
    assert_eq!(
        run(&h, "1.0.0").await.unwrap().outcome,
        Some(GoLiveOutcome::GoLiveStarted)
    );
    assert_eq!(h.count("POST", "/golive"), 1);
}

#[tokio::test]
async fn a_malformed_state_is_invalid_input() {
    let h = Harness::start().await;
    let mut state =
        serde_json::to_value(WorkflowState::start(request("1.0.0"), Action::GoLive)).unwrap();
    state["planId"] = json!("Not A Plan");
    let err = handle(LambdaEvent::new(state, context()), &h.deps)
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::InvalidInput);
    assert!(err.message.contains("planId"), "{err}");
}
