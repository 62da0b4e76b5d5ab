//! update-and-publish against the CPP emulator: every outcome and every error it names.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{Value, json};
use shared::clock::Clock;
use shared::cpp::OfferView;
use shared::workflow::{Action, ErrorName, OperationKind, RunStatus, WorkflowState};
use test_harness::cpp_emulator::{EmulatorConfig, Fault, FaultAction};
use test_harness::{Harness, OFFER, PUBLISHER, context, request, test_offer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use update_and_publish::handle;

async fn run(h: &Harness, version: &str) -> Result<WorkflowState, shared::workflow::WorkflowError> {
    let state = WorkflowState::start(request(version), Action::Publish);
    handle(
        LambdaEvent::new(serde_json::to_value(state).unwrap(), context()),
        &h.deps,
    )
    .await
}

/// Runs the function again on the state it returned, as the state machine does after a wait.
async fn again(
    h: &Harness,
    state: WorkflowState,
) -> Result<WorkflowState, shared::workflow::WorkflowError> {
    if let Some(wait) = state.next_check_seconds {
        h.advance(Duration::from_secs(wait));
    }
    handle(
        LambdaEvent::new(serde_json::to_value(state).unwrap(), context()),
        &h.deps,
    )
    .await
}

fn fault(method: &str, path: &str, times: u32, action: FaultAction) -> Fault {
    Fault {
        method: Some(method.into()),
        path_contains: path.into(),
        times,
        action,
    }
}

fn status(code: u16) -> FaultAction {
    FaultAction::Status {
        status: code,
        retry_after: None,
        body: None,
    }
}

#[tokio::test]
async fn a_new_version_is_added_with_the_etag_and_published() {
    let h = Harness::start().await;
    let state = run(&h, "1.1.0").await.unwrap();
    assert_eq!(state.changed, Some(true));
    assert_eq!(state.operation_status, Some(RunStatus::Running));
    let operation = state.operation.unwrap();
    assert_eq!(operation.kind, OperationKind::Publish);
    assert!(operation.at.id.is_some() && operation.at.location.contains("/operations/"));
    assert_eq!(state.next_check_seconds, Some(300));
    assert_eq!(h.versions_in("draft"), ["1.0.0", "1.1.0"]);

    let puts = h.requests("PUT", &format!("/offers/{OFFER}"));
    assert_eq!(puts.len(), 1);
    let if_match = puts[0].if_match.clone().unwrap();
    assert!(
        if_match.starts_with("W/\"datetime'"),
        "the ETag of the GET, not *: {if_match}"
    );
    let publish = h.requests("POST", "/publish");
    assert_eq!(
        publish[0].body,
        Some(json!({"metadata": {"notification-emails": "release@contoso.com"}}))
    );
}

#[tokio::test]
async fn only_the_target_plans_image_map_changes() {
    let h = Harness::start().await;
    let before = h.draft();
    run(&h, "1.1.0").await.unwrap();
    let mut expected = before.clone();
    expected["definition"]["plans"][1]["microsoft-azure-virtualmachines.vmImages"]["1.1.0"] =
        json!({"osVhdUrl": test_harness::sas_url("1.1.0"), "lunVhdDetails": []});
    let mut after = h.draft();
    // The service sets status, version and changedTime itself.
    for doc in [&mut expected, &mut after] {
        for server_field in ["status", "version", "changedTime"] {
            doc.as_object_mut().unwrap().shift_remove(server_field);
        }
    }
    assert_eq!(after, expected);
}

#[tokio::test]
async fn the_same_image_again_is_neither_written_nor_published_twice() {
    let h = Harness::start().await;
    let first = run(&h, "1.1.0").await.unwrap();
    let mut resigned = request("1.1.0");
    resigned.os_vhd_url = resigned
        .os_vhd_url
        .replace("se=2099-01-31", "se=2099-06-30")
        .replace("sig=sig-1.1.0", "sig=new");
    let state = WorkflowState::start(resigned, Action::Publish);
    let again = handle(
        LambdaEvent::new(serde_json::to_value(state).unwrap(), context()),
        &h.deps,
    )
    .await
    .unwrap();
    assert_eq!(again.changed, Some(false));
    assert_eq!(
        again.operation.unwrap().at.id,
        first.operation.unwrap().at.id,
        "the running publish is resumed"
    );
    assert_eq!(h.count("PUT", &format!("/offers/{OFFER}")), 1);
    assert_eq!(h.count("POST", "/publish"), 1);
}

#[tokio::test]
async fn a_version_already_in_preview_resumes_its_finished_publish() {
    let h = Harness::start().await;
    let first = run(&h, "1.1.0").await.unwrap();
    h.advance(Duration::from_secs(6 * 86_400));
    h.client().go_live(PUBLISHER, OFFER).await.unwrap();
    h.advance(Duration::from_secs(6 * 86_400));
    let again = run(&h, "1.1.0").await.unwrap();
    assert_eq!(
        again.operation.unwrap().at.id,
        first.operation.unwrap().at.id
    );
    assert_eq!(
        h.count("POST", "/publish"),
        1,
        "no second publish of a draft already published"
    );
}

#[tokio::test]
async fn a_version_in_the_draft_but_never_published_is_published() {
    let h = Harness::start().await;
    h.emulator.seed_offer(test_offer(&["1.0.0", "1.1.0"]));
    let state = run(&h, "1.1.0").await.unwrap();
    assert_eq!(state.changed, Some(false));
    assert_eq!(h.count("PUT", &format!("/offers/{OFFER}")), 0);
    assert_eq!(h.count("POST", "/publish"), 1);
}

#[tokio::test]
async fn version_rules_are_enforced_before_any_write() {
    let h = Harness::start().await;
    let mut other_image = request("1.0.0");
    other_image.os_vhd_url = test_harness::sas_url("something-else");
    let cases = [
        (other_image, ErrorName::VersionConflict),
        (request("0.9.9"), ErrorName::VersionNotHigher),
        (
            {
                let mut r = request("2.0.0");
                r.lun_vhd_details =
                    vec![json!({"lun": 0, "lunVhdUrl": test_harness::sas_url("data0")})];
                r
            },
            ErrorName::InvalidInput,
        ),
        (
            {
                let mut r = request("2.0.0");
                r.plan_id = "gen3".into();
                r
            },
            ErrorName::PlanNotFound,
        ),
        (
            {
                let mut r = request("2.0.0");
                r.offer_id = "no-such-offer".into();
                r
            },
            ErrorName::OfferNotFound,
        ),
    ];
    for (req, name) in cases {
        let state = serde_json::to_value(WorkflowState::start(req, Action::Publish)).unwrap();
        let err = handle(LambdaEvent::new(state, context()), &h.deps)
            .await
            .unwrap_err();
        assert_eq!(err.name, name, "{err}");
    }
    assert_eq!(h.count("PUT", ""), 0);
    assert_eq!(h.count("POST", "/publish"), 0);
}

#[tokio::test]
async fn a_ninth_version_evicts_the_oldest() {
    let h = Harness::start().await;
    let eight = [
        "1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0", "1.5.0", "1.6.0", "1.10.0",
    ];
    h.emulator.seed_offer(test_offer(&eight));
    let state = run(&h, "2.0.0").await.unwrap();
    assert_eq!(state.evicted_versions, ["1.0.0"]);
    let mut held = h.versions_in("draft");
    held.sort();
    assert_eq!(
        held,
        [
            "1.1.0", "1.10.0", "1.2.0", "1.3.0", "1.4.0", "1.5.0", "1.6.0", "2.0.0"
        ]
    );
}

#[tokio::test]
async fn the_configured_cap_is_honoured() {
    let h = Harness::with(
        EmulatorConfig::default(),
        &[("CPP_MAX_IMAGES_PER_PLAN", "2")],
    )
    .await;
    h.emulator.seed_offer(test_offer(&["1.0.0", "1.1.0"]));
    let state = run(&h, "1.2.0").await.unwrap();
    assert_eq!(state.evicted_versions, ["1.0.0"]);
    assert_eq!(h.versions_in("draft"), ["1.1.0", "1.2.0"]);
}

#[tokio::test]
async fn a_lost_etag_race_is_reread_and_reapplied() {
    let h = Harness::start().await;
    h.emulator
        .inject_fault(fault("PUT", &format!("/offers/{OFFER}"), 1, status(412)));
    run(&h, "1.1.0").await.unwrap();
    assert_eq!(
        h.count("GET", &format!("/offers/{OFFER}")),
        2,
        "read again after the 412"
    );
    assert_eq!(h.count("PUT", &format!("/offers/{OFFER}")), 2);
    assert_eq!(h.versions_in("draft"), ["1.0.0", "1.1.0"]);
}

#[tokio::test]
async fn a_race_lost_every_time_is_a_conflict() {
    let h = Harness::start().await;
    h.emulator
        .inject_fault(fault("PUT", &format!("/offers/{OFFER}"), 10, status(412)));
    let err = run(&h, "1.1.0").await.unwrap_err();
    assert_eq!(err.name, ErrorName::WriteConflict, "{err}");
    assert_eq!(h.count("PUT", &format!("/offers/{OFFER}")), 3);
    assert_eq!(h.count("POST", "/publish"), 0);
}

#[tokio::test]
async fn another_operation_on_the_offer_queues_the_run_and_nothing_is_written() {
    let h = Harness::start().await;
    h.client().publish(PUBLISHER, OFFER, "").await.unwrap();
    let state = run(&h, "1.1.0").await.unwrap();
    let queue = state.queue.clone().expect("queued");
    assert_eq!((queue.checks, queue.waited_seconds), (1, 300));
    assert!(
        queue
            .waiting_for
            .contains("running; one operation runs per offer at a time"),
        "{queue:?}"
    );
    assert_eq!(state.next_check_seconds, Some(300));
    assert_eq!((state.operation, state.changed), (None, None));
    assert_eq!(h.count("PUT", &format!("/offers/{OFFER}")), 0);
    assert_eq!(h.count("POST", "/publish"), 1);
}

#[tokio::test]
async fn a_queued_run_publishes_once_the_offer_is_free_and_leaves_the_queue() {
    let h = Harness::start().await;
    h.client().publish(PUBLISHER, OFFER, "").await.unwrap();
    let mut state = WorkflowState::start(request("1.1.0"), Action::Publish);
    state = again(&h, state).await.unwrap();
    state = again(&h, state).await.unwrap();
    assert_eq!(state.queue.as_ref().map(|q| q.checks), Some(2));
    // The other operation is cancelled from the portal; the cancel takes a couple of minutes.
    h.client().cancel(PUBLISHER, OFFER).await.unwrap();
    h.advance(Duration::from_secs(600));
    let state = again(&h, state).await.unwrap();
    assert_eq!(
        state.queue, None,
        "the queue is left behind once the publish starts"
    );
    assert_eq!(state.changed, Some(true));
    assert_eq!(state.operation.unwrap().kind, OperationKind::Publish);
    assert_eq!(state.next_check_seconds, Some(300));
    assert_eq!(h.versions_in("draft"), ["1.0.0", "1.1.0"]);
    assert_eq!(h.count("POST", "/publish"), 2, "theirs, then ours");
}

#[tokio::test]
async fn a_run_that_waited_cpp_queue_max_days_fails_with_offer_busy() {
    let h = Harness::with(EmulatorConfig::default(), &[("CPP_QUEUE_MAX_DAYS", "1")]).await;
    h.client().publish(PUBLISHER, OFFER, "").await.unwrap();
    let mut state = WorkflowState::start(request("1.1.0"), Action::Publish);
    let mut waits = Vec::new();
    let err = loop {
        match again(&h, state).await {
            Ok(next) => {
                waits.push(next.next_check_seconds.unwrap());
                state = next;
            }
            Err(err) => break err,
        }
    };
    assert_eq!(waits.iter().sum::<u64>(), 86_400, "{waits:?}");
    assert_eq!(waits[..3], [300, 600, 1200]);
    assert_eq!(err.name, ErrorName::OfferBusy, "{err}");
    assert!(
        err.message.contains("waited 1.0 days") && err.message.contains("CPP_QUEUE_MAX_DAYS=1"),
        "{err}"
    );
    assert_eq!(h.count("PUT", &format!("/offers/{OFFER}")), 0);
}

#[tokio::test]
async fn a_sas_url_that_expires_too_soon_by_the_time_the_version_is_written_is_refused() {
    let h = Harness::start().await;
    // Valid for 30 days on arrival; the run then waited 15 days behind another publication.
    let expiry = OffsetDateTime::from(h.clock.now()) + time::Duration::days(30);
    let mut request = request("1.1.0");
    request.os_vhd_url = request.os_vhd_url.replace(
        "se=2099-01-31T00:00:00Z",
        &format!("se={}", expiry.format(&Rfc3339).unwrap()),
    );
    h.advance(Duration::from_secs(15 * 86_400));
    // The offer is still busy: the run fails now rather than wait for an offer it cannot use.
    h.client().publish(PUBLISHER, OFFER, "").await.unwrap();
    let state = WorkflowState::start(request, Action::Publish);
    let err = handle(
        LambdaEvent::new(serde_json::to_value(state).unwrap(), context()),
        &h.deps,
    )
    .await
    .unwrap_err();
    assert_eq!(err.name, ErrorName::InvalidInput, "{err}");
    assert!(
        err.message.starts_with("osVhdUrl SAS expires")
            && err.message.contains("less than 21 days from now")
            && err.message.contains("nothing was written"),
        "{err}"
    );
    assert!(!err.message.contains("sig-1.1.0"), "{err}");
    assert_eq!(h.count("PUT", &format!("/offers/{OFFER}")), 0);
    assert_eq!(h.count("POST", "/publish"), 1, "only the other one");
    assert_eq!(h.versions_in("draft"), ["1.0.0"]);
}

#[tokio::test]
async fn a_publish_refused_with_409_queues_the_run() {
    let h = Harness::start().await;
    h.emulator
        .inject_fault(fault("POST", "/publish", 1, status(409)));
    let state = run(&h, "1.1.0").await.unwrap();
    let waiting_for = &state.queue.as_ref().unwrap().waiting_for;
    assert!(waiting_for.contains("another operation started before the publish"));
    assert_eq!(
        h.versions_in("draft"),
        ["1.0.0", "1.1.0"],
        "the version stays written"
    );
    assert_eq!(
        state.changed,
        Some(true),
        "this run wrote it, though it waits"
    );
    // The next try finds the version in the draft; the report still says this run changed it.
    let state = again(&h, state).await.unwrap();
    assert_eq!((state.changed, state.queue), (Some(true), None));
}

#[tokio::test]
async fn a_publish_whose_answer_was_lost_is_resumed_not_resent() {
    let h = Harness::start().await;
    h.emulator
        .inject_fault(fault("POST", "/publish", 1, FaultAction::DropAfterHandling));
    let err = run(&h, "1.1.0").await.unwrap_err();
    assert_eq!(err.name, ErrorName::Transient, "{err}");
    let state = run(&h, "1.1.0").await.unwrap();
    assert_eq!(state.changed, Some(false));
    assert!(state.operation.unwrap().at.id.is_some());
    assert_eq!(h.count("POST", "/publish"), 1);
}

#[tokio::test]
async fn microsofts_refusal_keeps_its_message() {
    let h = Harness::start().await;
    let body = json!({"error": {"code": "UnprocessableEntity", "message": "Offer validation failed: logo missing"}});
    h.emulator.inject_fault(fault(
        "POST",
        "/publish",
        1,
        FaultAction::Status {
            status: 422,
            retry_after: None,
            body: Some(body),
        },
    ));
    let err = run(&h, "1.1.0").await.unwrap_err();
    assert_eq!(err.name, ErrorName::Rejected);
    assert!(
        err.message
            .contains("Offer validation failed: logo missing"),
        "{err}"
    );
    let diagnostic: Diagnostic = err.into();
    assert_eq!(diagnostic.error_type, "Rejected");
}

#[tokio::test]
async fn a_malformed_state_is_invalid_input() {
    let h = Harness::start().await;
    let mut state =
        serde_json::to_value(WorkflowState::start(request("1.1.0"), Action::Publish)).unwrap();
    state["version"] = json!(110);
    let err = handle(LambdaEvent::new(state, context()), &h.deps)
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::InvalidInput);
    assert!(err.message.contains("version"), "{err}");
    let err = handle(LambdaEvent::new(Value::Null, context()), &h.deps)
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::InvalidInput);
    assert!(
        h.client()
            .get_offer(PUBLISHER, OFFER, OfferView::Draft)
            .await
            .is_ok()
    );
    assert_eq!(h.count("PUT", ""), 0);
}
