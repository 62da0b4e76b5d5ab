//! Preview and live submissions on the virtual clock: the list, conflicts, certification failure,
//! cancel, the two live models, read lag, and faults on job status.

use cpp_emulator::{
    DEFAULT_LIVE_SUBMISSION_ID, FIRST_NEW_SUBMISSION_ID, Fault, FaultAction, LiveModel,
    SINGLE_PLAN_ID,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{
    P, Pi, config, days, failure, live_submission, preview_submission, start, start_with,
    submission_number, version, versions_mut,
};

/// Adds `number` to the single plan's draft (a draft job) and returns the new tech-config.
async fn add_version(pi: &Pi, number: &str) -> Value {
    let mut tc = pi.tech_config(SINGLE_PLAN_ID).await;
    versions_mut(&mut tc).push(version(number, &["x64Gen2"]));
    let status = pi.run(vec![tc.clone()]).await;
    assert_eq!(status["jobResult"], "succeeded", "{status}");
    tc
}

/// Starts a preview submission and returns (job id, preview id).
async fn start_preview(pi: &Pi) -> (String, String) {
    let job = pi.start_job(vec![preview_submission()]).await;
    let preview = pi.entries("preview").await;
    (job, submission_number(&preview[0]))
}

#[tokio::test]
async fn a_preview_runs_on_the_virtual_clock_then_goes_live() {
    let pi = start().await;
    add_version(&pi, "1.0.20260401").await;
    let (job, n) = start_preview(&pi).await;
    assert_eq!(n, FIRST_NEW_SUBMISSION_ID);
    assert!(n.parse::<u64>().unwrap() > 1 << 53);
    let list = pi.submissions().await;
    assert_eq!(list[0]["id"], format!("submission/{P}/0"));
    assert!(list[0].get("status").is_none());
    let preview = &pi.entries("preview").await[0];
    assert_eq!(
        (&preview["status"], &preview["result"]),
        (&json!("running"), &json!("pending"))
    );
    let live = &pi.entries("live").await[0];
    assert_eq!(submission_number(live), DEFAULT_LIVE_SUBMISSION_ID);

    // Real time alone does not finish a submission.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let status = pi.status(&job).await;
    assert_eq!(
        (&status["jobStatus"], &status["jobEnd"]),
        (&json!("running"), &json!("0001-01-01T00:00:00"))
    );
    assert!(
        !pi.tree("preview")
            .await
            .to_string()
            .contains("1.0.20260401")
    );

    pi.emu.advance_clock(days(3));
    let status = pi.status(&job).await;
    assert_eq!(status["jobResult"], "succeeded", "{status}");
    assert_eq!(pi.entries("preview").await[0]["result"], "succeeded");
    assert!(
        pi.tree("preview")
            .await
            .to_string()
            .contains("1.0.20260401")
    );
    assert!(!pi.tree("live").await.to_string().contains("1.0.20260401"));

    let live_job = pi.start_job(vec![live_submission(&n)]).await;
    let live = pi.entries("live").await;
    assert_eq!(live.len(), 1);
    assert_eq!(
        (submission_number(&live[0]), &live[0]["status"]),
        (n.clone(), &json!("running"))
    );
    pi.emu.advance_clock(days(1));
    assert_eq!(pi.status(&live_job).await["jobResult"], "succeeded");
    let (preview, live) = (pi.entries("preview").await, pi.entries("live").await);
    assert_eq!(submission_number(&preview[0]), n);
    assert_eq!(submission_number(&live[0]), n);
    assert_eq!(live[0]["result"], "succeeded");
    assert!(pi.tree("live").await.to_string().contains("1.0.20260401"));
    let one = pi.get_json(&format!("submission/{P}/{n}")).await;
    assert_eq!(one["id"], format!("submission/{P}/{n}"));
    let kinds: Vec<Value> = pi.emu.ingestion_state("contoso-linux").unwrap()["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["kind"].clone())
        .collect();
    assert_eq!(kinds, [json!("draft"), json!("preview"), json!("live")]);
    pi.emu.shutdown();
}

#[tokio::test]
async fn a_second_submission_while_one_runs_fails_in_progress() {
    let pi = start().await;
    let (_, n) = start_preview(&pi).await;
    let second = pi.run(vec![preview_submission()]).await;
    let error = failure(&second);
    assert_eq!(error["code"], "internalServerError");
    assert_eq!(
        error["message"],
        format!("An In Progress submission {n} already exists.")
    );
    let live = pi
        .run(vec![live_submission(DEFAULT_LIVE_SUBMISSION_ID)])
        .await;
    assert_eq!(failure(&live)["code"], "internalServerError");
    pi.emu.shutdown();
}

#[tokio::test]
async fn going_live_with_a_stale_preview_is_a_conflict() {
    let pi = start().await;
    let (_, first) = start_preview(&pi).await;
    pi.emu.advance_clock(days(3));
    let (_, second) = start_preview(&pi).await;
    pi.emu.advance_clock(days(3));
    assert_ne!(first, second);
    assert!(second.parse::<u64>().unwrap() > first.parse::<u64>().unwrap());
    let status = pi.run(vec![live_submission(&first)]).await;
    let error = failure(&status);
    assert_eq!(error["code"], "conflict");
    assert_eq!(
        error["message"],
        "The submission cannot be pushed to live as its not the latest submission."
    );
    assert_eq!(error["resourceId"], format!("submission/{P}/{first}"));
    assert_eq!(
        submission_number(&pi.entries("live").await[0]),
        DEFAULT_LIVE_SUBMISSION_ID
    );
    pi.emu.shutdown();
}

#[tokio::test]
async fn two_entries_model_keeps_the_old_live_entry_during_go_live() {
    let mut config = config();
    config.ingestion.live_model = LiveModel::TwoEntries;
    let pi = start_with(config).await;
    let (_, n) = start_preview(&pi).await;
    pi.emu.advance_clock(days(3));
    let job = pi.start_job(vec![live_submission(&n)]).await;
    let live = pi.entries("live").await;
    assert_eq!(live.len(), 2);
    assert_eq!(submission_number(&live[0]), DEFAULT_LIVE_SUBMISSION_ID);
    assert_eq!(live[0]["status"], "completed");
    assert_eq!(
        (submission_number(&live[1]), &live[1]["status"]),
        (n.clone(), &json!("running"))
    );
    pi.emu.advance_clock(days(1));
    assert_eq!(pi.status(&job).await["jobResult"], "succeeded");
    let live = pi.entries("live").await;
    assert_eq!(live.len(), 1);
    assert_eq!(submission_number(&live[0]), n);
    pi.emu.shutdown();
}

#[tokio::test]
async fn a_new_entry_is_missing_from_the_first_reads() {
    let mut config = config();
    config.ingestion.submission_visibility_delay_reads = 2;
    let pi = start_with(config).await;
    pi.start_job(vec![preview_submission()]).await;
    for _ in 0..2 {
        let preview = pi.entries("preview").await;
        assert_eq!(submission_number(&preview[0]), DEFAULT_LIVE_SUBMISSION_ID);
    }
    let preview = pi.entries("preview").await;
    assert_eq!(submission_number(&preview[0]), FIRST_NEW_SUBMISSION_ID);
    assert_eq!(preview[0]["status"], "running");
    pi.emu.shutdown();
}

#[tokio::test]
async fn a_failed_certification_is_nested_and_leaves_a_pending_version_that_blocks() {
    let pi = start().await;
    let tc = add_version(&pi, "1.0.20260401").await;
    pi.emu.arm_certification_failure("contoso-linux", 1);
    let (job, n) = start_preview(&pi).await;
    pi.emu.advance_clock(days(3));
    let status = pi.status(&job).await;
    let error = failure(&status);
    assert_eq!(error["resourceId"], format!("submission/{P}/{n}"));
    assert_eq!(error["details"][0]["code"], "invalidState");
    assert_eq!(error["details"][0]["message"], "Certification");
    assert_eq!(error["details"][0]["details"][0]["code"], "invalidState");
    let preview = &pi.entries("preview").await[0];
    assert_eq!(
        (&preview["status"], &preview["result"]),
        (&json!("completed"), &json!("failed"))
    );
    assert!(
        !pi.tree("preview")
            .await
            .to_string()
            .contains("1.0.20260401")
    );
    assert_eq!(pi.entries("live").await[0]["result"], "succeeded");

    // The pending version blocks a new one in the draft, and the next preview.
    let mut more = tc.clone();
    versions_mut(&mut more).push(version("1.0.20260402", &["x64Gen2"]));
    let status = pi.run(vec![more]).await;
    assert!(
        failure(&status)["message"]
            .as_str()
            .unwrap()
            .contains("pending publish"),
        "{status}"
    );
    let status = pi.run(vec![preview_submission()]).await;
    let message = failure(&status)["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("1.0.20260401") && message.contains("pending publish"),
        "{message}"
    );

    // Removed from the draft, the next version publishes (modular: the tech-config sent along).
    let mut fixed = pi.tech_config(SINGLE_PLAN_ID).await;
    versions_mut(&mut fixed).retain(|v| v["versionNumber"] != "1.0.20260401");
    versions_mut(&mut fixed).push(version("1.0.20260402", &["x64Gen2"]));
    let job = pi.start_job(vec![fixed, preview_submission()]).await;
    pi.emu.advance_clock(days(3));
    assert_eq!(pi.status(&job).await["jobResult"], "succeeded");
    let preview = pi.tree("preview").await.to_string();
    assert!(preview.contains("1.0.20260402") && !preview.contains("1.0.20260401"));
    pi.emu.shutdown();
}

#[tokio::test]
async fn cancel_ends_a_running_job_and_refuses_a_finished_one() {
    let pi = start().await;
    let (job, _) = start_preview(&pi).await;
    let response = pi
        .post(&format!("configure/{job}/cancel"), &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (&body["jobStatus"], &body["jobResult"]),
        (&json!("completed"), &json!("cancelled"))
    );
    let preview = &pi.entries("preview").await[0];
    assert_eq!(
        (&preview["status"], &preview["result"]),
        (&json!("completed"), &json!("failed"))
    );
    // Nothing runs any more: a new preview is accepted.
    let (next, _) = start_preview(&pi).await;
    assert_eq!(pi.status(&next).await["jobStatus"], "running");

    let response = pi
        .post(&format!("configure/{job}/cancel"), &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "Cannot cancel job, job has already completed."
    );
    pi.emu.shutdown();
}

#[tokio::test]
async fn status_5xx_and_429_faults_apply_to_ingestion_routes() {
    let pi = start().await;
    let (job, _) = start_preview(&pi).await;
    pi.emu.inject_fault(Fault {
        method: Some("GET".into()),
        path_contains: "/status".into(),
        times: 2,
        action: FaultAction::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
    });
    for _ in 0..2 {
        assert_eq!(
            pi.get(&format!("configure/{job}/status")).await.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    assert_eq!(pi.status(&job).await["jobStatus"], "running");

    pi.emu.inject_fault(Fault {
        method: None,
        path_contains: "/rp/product-ingestion/product".into(),
        times: 1,
        action: FaultAction::Status {
            status: 429,
            retry_after: Some("7".into()),
            body: None,
        },
    });
    let response = pi.get("product?externalId=contoso-linux").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "7");
    assert_eq!(
        pi.get("product?externalId=contoso-linux").await.status(),
        StatusCode::OK
    );
    let logged = pi.emu.requests();
    let hit = logged.iter().find(|r| r.status == 429).unwrap();
    assert!(hit.query.contains("version=2022-07-01"), "{}", hit.query);
    pi.emu.shutdown();
}
