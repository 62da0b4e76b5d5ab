//! A version reaches preview and live; a run again changes nothing; a run that finds its own
//! publish resumes it.

use serde_json::Value;
use shared::workflow::{GoLiveOutcome, OperationKind, RunStatus};
use test_harness::{Harness, PI_PLAN, PI_SEEDED_VERSION, pi_request};

use super::{check, go_live, published, start, until_done, update};

#[tokio::test]
async fn a_new_version_reaches_preview_then_live() {
    let h = Harness::start().await;
    let state = update(&h, &start(pi_request("1.1.0"))).await.unwrap();
    assert_eq!(state.changed, Some(true));
    let operation = state.operation.clone().unwrap();
    assert_eq!(operation.kind, OperationKind::Publish);
    assert!(
        operation.at.location.starts_with("configure/"),
        "{operation:?}"
    );
    assert_eq!(
        h.pi_versions_in("draft", PI_PLAN),
        [
            (PI_SEEDED_VERSION.into(), "generallyAvailable".into()),
            ("1.1.0".into(), "generallyAvailable".into())
        ]
    );
    let state = until_done(&h, state).await;
    assert_eq!(state.operation_status, Some(RunStatus::Succeeded));
    assert!(
        h.pi_versions_in("preview", PI_PLAN)
            .iter()
            .any(|(v, _)| v == "1.1.0")
    );

    let state = go_live(&h, &state).await.unwrap();
    assert_eq!(state.outcome, Some(GoLiveOutcome::GoLiveStarted));
    assert_eq!(
        state.operation.as_ref().unwrap().kind,
        OperationKind::GoLive
    );
    let state = until_done(&h, state).await;
    assert_eq!(state.operation_status, Some(RunStatus::Succeeded));
    assert!(
        h.pi_versions_in("live", PI_PLAN)
            .iter()
            .any(|(v, _)| v == "1.1.0")
    );
    let submissions = h.product()["submissions"].clone();
    let live: Vec<&Value> = submissions
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["target"]["targetType"] == "live")
        .collect();
    assert_eq!(live.len(), 1, "{submissions}");
}

/// The configure requests the emulator received.
fn configures(h: &Harness) -> usize {
    h.count("POST", "/rp/product-ingestion/configure")
}

#[tokio::test]
async fn the_same_image_again_writes_nothing_and_resumes_the_running_publish() {
    let h = Harness::start().await;
    let first = update(&h, &start(pi_request("1.1.0"))).await.unwrap();
    assert_eq!(
        configures(&h),
        2,
        "the draft job and the preview submission"
    );
    let mut resigned = pi_request("1.1.0");
    resigned.os_vhd_url = resigned
        .os_vhd_url
        .replace("se=2099-01-31", "se=2099-06-30")
        .replace("sig=sig-1.1.0", "sig=new");
    let again = update(&h, &start(resigned)).await.unwrap();
    assert_eq!(again.changed, Some(false));
    assert_eq!(
        configures(&h),
        2,
        "nothing written, nothing submitted again"
    );
    let resumed = again.operation.unwrap().at;
    assert!(resumed.location.starts_with("submission/"), "{resumed:?}");
    // Both runs end at the same preview.
    let (a, b) = (
        until_done(&h, first).await,
        until_done(&h, again_state(resumed)).await,
    );
    assert_eq!(
        (a.operation_status, b.operation_status),
        (Some(RunStatus::Succeeded), Some(RunStatus::Succeeded))
    );
}

fn again_state(at: shared::marketplace::OperationRef) -> shared::workflow::WorkflowState {
    let mut state = start(pi_request("1.1.0"));
    state.begin_operation(shared::workflow::OperationState {
        kind: OperationKind::Publish,
        at,
    });
    state
}

#[tokio::test]
async fn a_version_already_in_preview_or_live_starts_nothing_new() {
    let h = Harness::start().await;
    let previewed = published(&h, "1.1.0").await;
    let submitted = configures(&h);
    let again = update(&h, &start(pi_request("1.1.0"))).await.unwrap();
    assert_eq!(configures(&h), submitted, "the finished publish is resumed");
    let again = check(&h, &again).await.unwrap();
    assert_eq!(again.operation_status, Some(RunStatus::Succeeded));

    let live = until_done(&h, go_live(&h, &previewed).await.unwrap()).await;
    assert_eq!(live.operation_status, Some(RunStatus::Succeeded));
    let submitted = configures(&h);
    let repeat = go_live(&h, &previewed).await.unwrap();
    assert_eq!(
        configures(&h),
        submitted,
        "a go-live that ran is not sent again"
    );
    assert_eq!(repeat.operation.unwrap().kind, OperationKind::GoLive);
}

#[tokio::test]
async fn a_go_live_already_running_is_resumed() {
    let h = Harness::start().await;
    let previewed = published(&h, "1.1.0").await;
    let first = go_live(&h, &previewed).await.unwrap();
    let submitted = configures(&h);
    let second = go_live(&h, &previewed).await.unwrap();
    assert_eq!(configures(&h), submitted);
    assert!(
        second
            .operation
            .unwrap()
            .at
            .location
            .starts_with("submission/")
    );
    assert_eq!(
        until_done(&h, first).await.operation_status,
        Some(RunStatus::Succeeded)
    );
}

#[tokio::test]
async fn go_live_of_a_version_the_preview_lacks_reports_it_missing() {
    let h = Harness::start().await;
    let state = go_live(&h, &start(pi_request("1.1.0"))).await.unwrap();
    assert_eq!(state.outcome, Some(GoLiveOutcome::VersionMissing));
    assert_eq!(configures(&h), 0);
}

#[tokio::test]
async fn a_running_publish_is_cancelled_through_its_job_and_a_finished_one_cannot_be() {
    use shared::marketplace::{ErrorKind, Marketplace};
    let h = Harness::start().await;
    let state = update(&h, &start(pi_request("1.1.0"))).await.unwrap();
    let operation = state.operation.clone().unwrap();
    let market = h.deps.market(
        shared::marketplace::Api::ProductIngestion,
        &test_harness::context(),
    );
    let offer = state.request.offer();
    market.cancel(&offer, &operation.at).await.unwrap();
    let report = market
        .operation(&offer, &operation.at, operation.kind)
        .await
        .unwrap();
    assert_eq!(report.status, RunStatus::Canceled, "{report:?}");
    assert!(
        !h.pi_versions_in("preview", PI_PLAN)
            .iter()
            .any(|(v, _)| v == "1.1.0"),
        "nothing reached preview"
    );
    let again = market.cancel(&offer, &operation.at).await.unwrap_err();
    assert!(again.message.contains("already completed"), "{again}");
    // An operation known only by its submission number cannot be cancelled through the API.
    let listed = market.activity(&offer).await.unwrap();
    let by_number = listed.first().expect("a submission").at.clone();
    let refused = market.cancel(&offer, &by_number).await.unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Rejected);
    assert!(refused.message.contains("Partner Center"), "{refused}");
}
