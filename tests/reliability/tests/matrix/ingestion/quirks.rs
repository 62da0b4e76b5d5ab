//! What the Product Ingestion API does that a client must live with (docs/ingestion-api.md §5):
//! flaky status reads, lagging submissions lists, paging, throttling.

use shared::workflow::RunStatus;
use test_harness::cpp_emulator::{EmulatorConfig, FaultAction};
use test_harness::{Harness, pi_request};

use super::{check, published, start, until_done, update};
use crate::support::{fault, status};

#[tokio::test]
async fn a_failing_status_read_means_still_running_never_failed() {
    let h = Harness::start().await;
    let state = update(&h, &start(pi_request("1.1.0"))).await.unwrap();
    h.emulator
        .inject_fault(fault("GET", "/status", 0, status(503)));
    for _ in 0..3 {
        let state = check(&h, &state).await.unwrap();
        assert_eq!(
            state.operation_status,
            Some(RunStatus::Running),
            "{state:?}"
        );
        assert!(state.next_check_seconds.is_some());
    }
    h.emulator.clear_faults();
    assert_eq!(
        until_done(&h, state).await.operation_status,
        Some(RunStatus::Succeeded)
    );
}

#[tokio::test]
async fn a_submission_not_yet_listed_after_its_job_succeeded_is_waited_for() {
    let h = Harness::start().await;
    let mut settings = h.emulator.ingestion_settings();
    settings.submission_visibility_delay_reads = 4;
    h.emulator.set_ingestion_settings(settings);
    let state = published(&h, "1.1.0").await;
    assert_eq!(state.operation_status, Some(RunStatus::Succeeded));
    assert!(state.messages.is_empty(), "{:?}", state.messages);
}

#[tokio::test]
async fn small_pages_are_followed_and_ids_are_learned_once() {
    let mut config = EmulatorConfig::default();
    config.ingestion.page_size = 1;
    let h = Harness::with(config, &[]).await;
    let mut request = pi_request("1.1.0");
    request.plan_id = "not-a-plan".into();
    let err = update(&h, &start(request)).await.unwrap_err();
    assert!(
        err.message.contains("contoso-linux-single") && err.message.contains("contoso-linux-gen2"),
        "every page read: {err}"
    );
    published(&h, "1.1.0").await;
    assert_eq!(
        h.count("GET", "/rp/product-ingestion/product"),
        1,
        "the product id is learned once per cold start"
    );
}

#[tokio::test]
async fn throttling_is_waited_out() {
    let h = Harness::start().await;
    h.emulator.inject_fault(fault(
        "GET",
        "/resource-tree/",
        2,
        FaultAction::Status {
            status: 429,
            retry_after: Some("1".into()),
            body: None,
        },
    ));
    let state = update(&h, &start(pi_request("1.1.0"))).await.unwrap();
    assert_eq!(state.changed, Some(true));
}

#[tokio::test]
async fn a_check_on_a_cold_start_looks_up_nothing_but_its_job() {
    let mut h = Harness::start().await;
    let state = update(&h, &start(pi_request("1.1.0"))).await.unwrap();
    // A new cold start: a client that has learned no ids.
    let cold = shared::ingestion::IngestionClient::with_options(
        &h.deps.config,
        secrecy::SecretString::from(
            test_harness::cpp_emulator::EmulatorConfig::default().client_secret,
        ),
        shared::cpp::ClientOptions {
            clock: h.clock.clone(),
            ..Default::default()
        },
        test_harness::fast_jobs(),
    )
    .unwrap();
    h.deps.ingestion = cold;
    h.emulator.clear_requests();
    let checked = check(&h, &state).await.unwrap();
    assert_eq!(checked.operation_status, Some(RunStatus::Running));
    let paths: Vec<String> = h.emulator.requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths
            .iter()
            .all(|p| !p.ends_with("/product") && !p.ends_with("/plan")),
        "{paths:?}"
    );
    assert!(paths.iter().any(|p| p.ends_with("/status")), "{paths:?}");
}
