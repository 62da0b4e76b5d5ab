//! check-last-operation against the CPP emulator: classification, polling cadence, guard, report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use check_last_operation::handle;
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use shared::marketplace::OperationRef;
use shared::workflow::{
    Action, ErrorName, OperationKind, OperationState, RunStatus, WorkflowError, WorkflowState,
};
use test_harness::cpp_emulator::EmulatorConfig;
use test_harness::{Harness, OFFER, PUBLISHER, context, request};

const DAY: Duration = Duration::from_secs(86_400);

async fn check(h: &Harness, state: &WorkflowState) -> Result<WorkflowState, WorkflowError> {
    let output = handle(
        LambdaEvent::new(serde_json::to_value(state).unwrap(), context()),
        &h.deps,
    )
    .await?;
    Ok(serde_json::from_value(output).unwrap())
}

/// A state waiting on a publish that was just started.
async fn publishing(h: &Harness) -> WorkflowState {
    let at = h.client().publish(PUBLISHER, OFFER, "").await.unwrap();
    let mut state = WorkflowState::start(request("1.0.0"), Action::Publish);
    state.begin_operation(OperationState {
        kind: OperationKind::Publish,
        at,
    });
    state
}

#[tokio::test]
async fn a_running_publish_reports_its_step_and_when_to_look_again() {
    let h = Harness::start().await;
    let state = check(&h, &publishing(&h).await).await.unwrap();
    assert_eq!(state.operation_status, Some(RunStatus::Running));
    assert_eq!(state.step.as_deref(), Some("Validate Pre-Requisites"));
    assert_eq!(state.next_check_seconds, Some(450), "half of '< 15 min'");
    assert_eq!(state.poll_count, 1);

    h.advance(Duration::from_secs(20 * 60));
    let state = check(&h, &state).await.unwrap();
    assert_eq!(state.step.as_deref(), Some("Certification"));
    assert_eq!(
        state.next_check_seconds,
        Some(21_600),
        "a 3-day step is checked at CPP_POLL_MAX_SECONDS"
    );
    assert!(state.progress_percentage.is_some());
    assert_eq!(state.poll_count, 2);
}

#[tokio::test]
async fn a_publish_succeeds_at_signoff_and_a_go_live_when_live() {
    let h = Harness::start().await;
    let mut state = publishing(&h).await;
    h.advance(DAY * 5);
    state = check(&h, &state).await.unwrap();
    assert_eq!(
        state.operation_status,
        Some(RunStatus::Succeeded),
        "preview ready"
    );
    assert_eq!(state.next_check_seconds, None);

    let at = h.client().go_live(PUBLISHER, OFFER).await.unwrap();
    state.begin_operation(OperationState {
        kind: OperationKind::GoLive,
        at,
    });
    state = check(&h, &state).await.unwrap();
    assert_eq!(
        state.operation_status,
        Some(RunStatus::Running),
        "go-live still running"
    );
    h.advance(DAY * 4);
    state = check(&h, &state).await.unwrap();
    assert_eq!(state.operation_status, Some(RunStatus::Succeeded), "live");
}

#[tokio::test]
async fn other_success_spellings_are_understood() {
    let config = EmulatorConfig {
        success_status: "complete".into(),
        publish_succeeds_at_signoff: true,
        ..EmulatorConfig::default()
    };
    let h = Harness::with(config, &[]).await;
    let state = publishing(&h).await;
    h.advance(DAY * 5);
    assert_eq!(
        check(&h, &state).await.unwrap().operation_status,
        Some(RunStatus::Succeeded)
    );
}

#[tokio::test]
async fn a_certification_failure_reports_microsofts_message_without_html() {
    let h = Harness::start().await;
    let state = publishing(&h).await;
    h.emulator.fail_operation_at_step(
        PUBLISHER,
        OFFER,
        "displaycertify",
        "<p>The VHD <b>failed</b> the malware scan &amp; was rejected.</p>",
    );
    h.advance(DAY);
    let state = check(&h, &state).await.unwrap();
    assert_eq!(state.operation_status, Some(RunStatus::Failed));
    assert_eq!(
        state.messages,
        ["The VHD failed the malware scan & was rejected."]
    );
    assert_eq!(state.step.as_deref(), Some("Certification"));
}

#[tokio::test]
async fn a_cancel_from_the_portal_ends_canceled() {
    let h = Harness::start().await;
    let state = publishing(&h).await;
    h.client().cancel(PUBLISHER, OFFER).await.unwrap();
    h.advance(Duration::from_secs(600));
    assert_eq!(
        check(&h, &state).await.unwrap().operation_status,
        Some(RunStatus::Canceled)
    );
}

#[tokio::test]
async fn the_poll_guard_trips_past_the_limit() {
    let h = Harness::with(EmulatorConfig::default(), &[("CPP_MAX_POLLS", "2")]).await;
    let mut state = publishing(&h).await;
    for _ in 0..2 {
        state = check(&h, &state).await.unwrap();
    }
    let err = check(&h, &state).await.unwrap_err();
    assert_eq!(err.name, ErrorName::PollLimitExceeded);
    assert!(
        err.message.contains("checked 3 times") && err.message.contains("Validate Pre-Requisites"),
        "{err}"
    );
}

#[tokio::test]
async fn without_an_operation_the_newest_one_is_checked() {
    let h = Harness::start().await;
    let started = h.client().publish(PUBLISHER, OFFER, "").await.unwrap();
    let state = check(&h, &WorkflowState::start(request("1.0.0"), Action::Publish))
        .await
        .unwrap();
    assert_eq!(state.operation.unwrap().at.id, started.id);
    assert_eq!(state.operation_status, Some(RunStatus::Running));
}

#[tokio::test]
async fn an_operation_known_only_by_id_is_found() {
    let h = Harness::start().await;
    let started = h.client().publish(PUBLISHER, OFFER, "").await.unwrap();
    let mut state = WorkflowState::start(request("1.0.0"), Action::Publish);
    let at = OperationRef {
        location: "/api/operations/gone".into(),
        id: started.id.clone(),
    };
    state.begin_operation(OperationState {
        kind: OperationKind::Publish,
        at,
    });
    assert_eq!(
        check(&h, &state).await.unwrap().operation_status,
        Some(RunStatus::Running)
    );
}

#[tokio::test]
async fn a_sixteen_day_publication_takes_few_polls() {
    let h = Harness::start().await;
    let mut state = publishing(&h).await;
    let mut waited = Duration::ZERO;
    loop {
        state = check(&h, &state).await.unwrap();
        match state.operation_status {
            Some(RunStatus::Running) => {}
            Some(RunStatus::Succeeded)
                if state.operation.as_ref().unwrap().kind == OperationKind::Publish =>
            {
                let at = h.client().go_live(PUBLISHER, OFFER).await.unwrap();
                state.begin_operation(OperationState {
                    kind: OperationKind::GoLive,
                    at,
                });
                continue;
            }
            _ => break,
        }
        let wait = Duration::from_secs(state.next_check_seconds.unwrap());
        waited += wait;
        h.advance(wait);
    }
    assert_eq!(state.operation_status, Some(RunStatus::Succeeded));
    let polls = h.count("GET", "") - h.count("GET", "/submissions");
    assert!(
        polls < 60,
        "{polls} polls over {} days",
        waited.as_secs() / 86_400
    );
}

#[tokio::test]
async fn the_scheduled_report_covers_every_watched_offer_despite_one_failing() {
    let watched =
        format!("{PUBLISHER}/{OFFER},{PUBLISHER}/contosovirtualmachine,{PUBLISHER}/no-such-offer");
    let h = Harness::with(EmulatorConfig::default(), &[("CPP_WATCH_OFFERS", &watched)]).await;
    h.client().publish(PUBLISHER, OFFER, "").await.unwrap();
    let event: Value =
        serde_json::from_str(include_str!("../../../infra/events/scheduled-report.json")).unwrap();
    let report = handle(LambdaEvent::new(event, context()), &h.deps)
        .await
        .unwrap();
    assert_eq!(report["checked"], 3);
    assert_eq!(report["failed"], 1);
    assert_eq!(report["offers"][0]["status"], "running");
    assert_eq!(report["offers"][0]["step"], "Validate Pre-Requisites");
    assert_eq!(report["offers"][1]["status"], "none");
    assert!(
        report["offers"][2]["error"]
            .as_str()
            .unwrap()
            .contains("404")
    );
    let fixed_input = handle(
        LambdaEvent::new(json!({"mode": "report"}), context()),
        &h.deps,
    )
    .await
    .unwrap();
    assert_eq!(fixed_input["checked"], 3);
}

#[tokio::test]
async fn a_malformed_state_is_invalid_input() {
    let h = Harness::start().await;
    let mut state = serde_json::to_value(publishing(&h).await).unwrap();
    state["operation"]["kind"] = json!("teleport");
    let err = handle(LambdaEvent::new(state, context()), &h.deps)
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::InvalidInput);
    assert!(err.message.contains("operation.kind"), "{err}");
}

#[tokio::test]
async fn the_scheduled_report_reads_each_offer_through_the_api_it_names() {
    use test_harness::PI_OFFER;
    // MARKETPLACE_API is CPP; the Partner Center offer is named with its API.
    let watched = format!("{PUBLISHER}/{OFFER},productIngestion:{PUBLISHER}/{PI_OFFER}");
    let h = Harness::with(EmulatorConfig::default(), &[("CPP_WATCH_OFFERS", &watched)]).await;
    let report = handle(
        LambdaEvent::new(json!({"mode": "report"}), context()),
        &h.deps,
    )
    .await
    .unwrap();
    assert_eq!(report["checked"], 2);
    assert_eq!(report["failed"], 0, "{report}");
    // One offer id on both APIs here: never published on CPP, seeded published on Product Ingestion
    // (its newest submission, the preview one, reads previewReady).
    assert_eq!(report["offers"][0]["status"], "none", "{report}");
    assert_eq!(report["offers"][1]["offerId"], PI_OFFER);
    assert_eq!(report["offers"][1]["status"], "previewReady", "{report}");
    assert!(report["offers"][1]["operationId"].is_string(), "{report}");
    assert!(
        report["text"].as_str().unwrap().contains(PI_OFFER),
        "{}",
        report["text"]
    );
}
