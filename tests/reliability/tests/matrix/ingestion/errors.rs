//! Every error update-and-publish and validate-and-go-live name on Product Ingestion, and the
//! queue behind another submission.

use shared::workflow::{ErrorName, ManifestImage, RunStatus};
use test_harness::{Harness, PI_PLAN_TWO_TYPES, pi_request, sas_url};

use super::{check, go_live, published, start, until_done, update};

#[tokio::test]
async fn an_unknown_offer_or_plan_is_named() {
    let h = Harness::start().await;
    let mut request = pi_request("1.1.0");
    request.offer_id = "no-such-offer".into();
    let err = update(&h, &start(request)).await.unwrap_err();
    assert_eq!(err.name, ErrorName::OfferNotFound, "{err}");
    assert!(err.message.contains("no-such-offer"), "{err}");
    let mut request = pi_request("1.1.0");
    request.plan_id = "no-such-plan".into();
    let err = update(&h, &start(request)).await.unwrap_err();
    assert_eq!(err.name, ErrorName::PlanNotFound, "{err}");
    assert!(
        err.message.contains("contoso-linux-single") && err.message.contains("contoso-linux-gen2"),
        "its plans are named: {err}"
    );
}

#[tokio::test]
async fn a_used_version_with_another_image_or_a_lower_version_is_refused() {
    let h = Harness::start().await;
    let mut other = pi_request("1.0.20260301");
    other.os_vhd_url = sas_url("another-image");
    let err = update(&h, &start(other)).await.unwrap_err();
    assert_eq!(err.name, ErrorName::VersionConflict, "{err}");
    let err = update(&h, &start(pi_request("1.0.5"))).await.unwrap_err();
    assert_eq!(err.name, ErrorName::VersionNotHigher, "{err}");
    assert_eq!(
        h.count("POST", "/rp/product-ingestion/configure"),
        0,
        "nothing written"
    );
}

#[tokio::test]
async fn a_plan_of_two_image_types_needs_images_of_types_it_has() {
    let h = Harness::start().await;
    let mut request = pi_request("1.1.0");
    request.plan_id = PI_PLAN_TWO_TYPES.into();
    let err = update(&h, &start(request.clone())).await.unwrap_err();
    assert_eq!(err.name, ErrorName::InvalidInput);
    assert!(err.message.contains("images"), "{err}");
    request.os_vhd_url.clear();
    request.images = vec![ManifestImage {
        image_type: "arm64Gen2".into(),
        os_vhd_url: Some(sas_url("arm")),
        lun_vhd_details: vec![],
        shared_image: None,
    }];
    let err = update(&h, &start(request)).await.unwrap_err();
    assert_eq!(err.name, ErrorName::InvalidInput);
    assert!(err.message.contains("arm64Gen2 has no SKU"), "{err}");
}

#[tokio::test]
async fn a_run_queues_behind_another_submission_on_the_offer() {
    let h = Harness::start().await;
    update(&h, &start(pi_request("1.1.0"))).await.unwrap();
    let mut other_plan = pi_request("1.1.0");
    other_plan.plan_id = PI_PLAN_TWO_TYPES.into();
    other_plan.os_vhd_url.clear();
    other_plan.images = ["x64Gen2", "x64Gen1"]
        .iter()
        .map(|t| ManifestImage {
            image_type: (*t).into(),
            os_vhd_url: Some(sas_url(&format!("two-{t}"))),
            lun_vhd_details: vec![],
            shared_image: None,
        })
        .collect();
    let queued = update(&h, &start(other_plan)).await.unwrap();
    let queue = queued.queue.expect("queued behind the running preview");
    assert!(queue.waiting_for.contains("has a publish"), "{queue:?}");
    assert_eq!(
        h.count("POST", "/rp/product-ingestion/configure"),
        2,
        "nothing written while another submission runs"
    );
}

#[tokio::test]
async fn a_certification_failure_ends_the_run_with_microsofts_messages() {
    let h = Harness::start().await;
    h.emulator.arm_certification_failure("contoso-linux", 1);
    let state = until_done(&h, update(&h, &start(pi_request("1.1.0"))).await.unwrap()).await;
    assert_eq!(state.operation_status, Some(RunStatus::Failed));
    let messages = state.messages.join(" | ");
    assert!(messages.contains("Certification"), "{messages}");
    assert!(!messages.contains('<'), "HTML stripped: {messages}");
}

#[tokio::test]
async fn going_live_waits_while_a_newer_publish_runs() {
    let h = Harness::start().await;
    let previewed = published(&h, "1.1.0").await;
    update(&h, &start(pi_request("1.2.0"))).await.unwrap();
    let err = go_live(&h, &previewed).await.unwrap_err();
    assert_eq!(err.name, ErrorName::OfferBusy, "{err}");
}

#[tokio::test]
async fn microsofts_refusal_of_a_draft_is_rejected_with_its_message() {
    let h = Harness::start().await;
    // Two new versions of one image type in one submission are refused (Q29).
    let state = update(&h, &start(pi_request("1.1.0"))).await.unwrap();
    until_done(&h, check(&h, &state).await.unwrap()).await;
    h.emulator.arm_certification_failure("contoso-linux", 1);
    let failed = until_done(&h, update(&h, &start(pi_request("1.2.0"))).await.unwrap()).await;
    assert_eq!(failed.operation_status, Some(RunStatus::Failed));
    // 1.2.0 stays pending in the draft; a further new version is refused by the draft job.
    let err = update(&h, &start(pi_request("1.3.0"))).await.unwrap_err();
    assert_eq!(err.name, ErrorName::Rejected, "{err}");
    assert!(
        err.message.contains("job") && err.message.contains("failed"),
        "{err}"
    );
}

#[tokio::test]
async fn a_go_live_refused_as_not_the_latest_publishes_again_and_never_retries_the_same_go_live() {
    let h = Harness::start().await;
    let previewed = published(&h, "1.1.0").await;
    // Microsoft answers the go-live with a job that already ended: another preview came first (Q5).
    let stale = serde_json::json!({"jobId": "7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2910", "jobStatus": "completed",
        "jobResult": "failed", "errors": [{"code": "conflict",
        "message": "The submission cannot be pushed to live as its not the latest submission."}]});
    h.emulator.inject_fault(crate::support::fault(
        "POST",
        "/configure",
        1,
        test_harness::cpp_emulator::FaultAction::Status {
            status: 202,
            retry_after: None,
            body: Some(stale),
        },
    ));
    let state = go_live(&h, &previewed).await.unwrap();
    assert_eq!(
        state.outcome,
        Some(shared::workflow::GoLiveOutcome::VersionMissing),
        "back to publishing"
    );
    assert!(
        state.messages.iter().any(|m| m.contains("published again")),
        "{:?}",
        state.messages
    );
    assert_eq!(
        h.count("POST", "/rp/product-ingestion/configure"),
        3,
        "one go-live POST, not sent again"
    );
    // As the state machine does: publish first (the finished publish of this draft is resumed), then go live.
    let republished = until_done(&h, update(&h, &state).await.unwrap()).await;
    assert_eq!(republished.operation_status, Some(RunStatus::Succeeded));
    let live = until_done(&h, go_live(&h, &republished).await.unwrap()).await;
    assert_eq!(live.operation_status, Some(RunStatus::Succeeded));
    assert_eq!(
        h.count("POST", "/rp/product-ingestion/configure"),
        4,
        "then one go-live, accepted"
    );
}

#[tokio::test]
async fn a_go_live_job_that_fails_later_as_not_the_latest_is_superseded_not_failed() {
    let h = Harness::start().await;
    let previewed = published(&h, "1.1.0").await;
    let started = go_live(&h, &previewed).await.unwrap();
    fail_next_status_read(
        &h,
        &started,
        "conflict",
        "The submission cannot be pushed to live as its not the latest submission.",
    );
    let checked = check(&h, &started).await.unwrap();
    assert_eq!(checked.operation_status, Some(RunStatus::Superseded));
    assert!(
        checked
            .messages
            .iter()
            .any(|m| m.contains("not the latest")),
        "{:?}",
        checked.messages
    );
}

#[tokio::test]
async fn a_run_that_keeps_finding_another_submission_first_gives_up_as_busy() {
    let h = Harness::start().await;
    let previewed = published(&h, "1.1.0").await;
    let mut started = go_live(&h, &previewed).await.unwrap();
    started.superseded = shared::workflow::state::MAX_SUPERSEDED;
    fail_next_status_read(
        &h,
        &started,
        "internalServerError",
        "An In Progress submission 1152921505699999999 already exists.",
    );
    let err = check(&h, &started).await.unwrap_err();
    assert_eq!(err.name, ErrorName::OfferBusy, "{err}");
    assert!(
        err.message.contains("came first 4 times") && err.message.contains("In Progress"),
        "{err}"
    );
}

/// The next read of `state`'s job answers that it ended failed with Microsoft's `code` and `message`.
fn fail_next_status_read(
    h: &Harness,
    state: &shared::workflow::WorkflowState,
    code: &str,
    message: &str,
) {
    let job = state.operation.as_ref().unwrap().at.id.clone().unwrap();
    let failed = serde_json::json!({"jobId": job, "jobStatus": "completed", "jobResult": "failed",
        "errors": [{"code": code, "message": message}]});
    h.emulator.inject_fault(crate::support::fault(
        "GET",
        "/status",
        1,
        test_harness::cpp_emulator::FaultAction::Status {
            status: 200,
            retry_after: None,
            body: Some(failed),
        },
    ));
}
