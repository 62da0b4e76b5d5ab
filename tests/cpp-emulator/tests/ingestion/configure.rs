//! `POST configure`: the synchronous 400s and the draft-job rules (wholesale replace, Q1/Q2/Q12/Q13/Q29).

use cpp_emulator::SINGLE_PLAN_ID;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{
    CONFIGURE_SCHEMA, L, P, Pi, failure, preview_submission, start, version, version_numbers,
    versions_mut,
};

async fn bad_request(pi: &Pi, body: Value) -> Value {
    let response = pi.post("configure", &body).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "badRequest");
    body["error"].clone()
}

#[tokio::test]
async fn configure_refuses_legacy_hosts_preview7_submissions_and_bad_versions_synchronously() {
    let pi = start().await;
    let legacy = "https://product-ingestion.azureedge.net/schema/configure/2022-03-01-preview2";
    let error = bad_request(
        &pi,
        json!({"$schema": legacy, "resources": [preview_submission()]}),
    )
    .await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("could not be accessed"),
        "{error}"
    );

    // The property as the tree returns it (legacy host) cannot be sent back as is (Q9).
    let tree = pi.tree("draft").await;
    let property = tree["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"].as_str().unwrap().starts_with("property/"))
        .unwrap()
        .clone();
    let error = bad_request(
        &pi,
        json!({"$schema": CONFIGURE_SCHEMA, "resources": [property]}),
    )
    .await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("could not be accessed")
    );

    let mut sub = preview_submission();
    sub["$schema"] = json!("https://schema.mp.microsoft.com/schema/submission/2022-03-01-preview7");
    let error = bad_request(
        &pi,
        json!({"$schema": CONFIGURE_SCHEMA, "resources": [sub]}),
    )
    .await;
    assert_eq!(error["details"][0]["code"], "schemaValidationError");
    assert!(
        error["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Required properties [\"sources\"] were not present")
    );

    let mut tc = pi.tech_config(L).await;
    versions_mut(&mut tc).push(version("1.0", &["x64Gen2"]));
    let error = bad_request(&pi, json!({"$schema": CONFIGURE_SCHEMA, "resources": [tc]})).await;
    assert_eq!(error["details"][0]["code"], "schemaValidationError");
    assert!(
        error["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("versionNumber")
    );

    let mut null_id = preview_submission();
    null_id["id"] = Value::Null;
    bad_request(
        &pi,
        json!({"$schema": CONFIGURE_SCHEMA, "resources": [null_id]}),
    )
    .await;

    let unknown = json!({"$schema": "https://schema.mp.microsoft.com/schema/gizmo/2022-03-01-preview2", "id": format!("gizmo/{P}")});
    let error = bad_request(
        &pi,
        json!({"$schema": CONFIGURE_SCHEMA, "resources": [unknown]}),
    )
    .await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Unknown resource type")
    );

    let wrong_envelope = json!({"$schema": "https://example.com/configure/2022-07-01", "resources": [preview_submission()]});
    bad_request(&pi, wrong_envelope).await;
    assert!(
        pi.emu.ingestion_state("contoso-linux").unwrap()["jobs"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    pi.emu.shutdown();
}

#[tokio::test]
async fn a_draft_job_replaces_the_tech_config_wholesale_after_the_real_delay() {
    let pi = start().await;
    let mut tc = pi.tech_config(L).await;
    versions_mut(&mut tc).push(version("1.0.20260401", &["x64Gen2", "x64Gen1"]));
    // Matched by product and plan external ids, with no id (as the GitHub action sends it).
    let map = tc.as_object_mut().unwrap();
    map.shift_remove("id");
    map.insert("product".into(), json!({"externalId": "contoso-linux"}));
    map.insert("plan".into(), json!({"externalId": "contoso-linux-gen2"}));
    let job = pi.start_job(vec![tc.clone()]).await;
    let status = pi.wait(&job).await;
    assert_eq!(status["jobResult"], "succeeded", "{status}");
    assert!(status["jobEnd"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        status["jobStart"]
            .as_str()
            .unwrap()
            .split('.')
            .nth(1)
            .unwrap()
            .len(),
        8
    );

    let draft = pi.tech_config(L).await;
    assert_eq!(
        version_numbers(&draft),
        ["1.0.20260101", "1.0.20260301", "1.0.20260401"]
    );
    assert_eq!(draft["plan"], format!("plan/{P}/{L}"));
    let detail = pi.get_json(&format!("configure/{job}")).await;
    assert_eq!(
        detail["resources"][0]["id"],
        format!("virtual-machine-plan-technical-configuration/{P}/{L}")
    );

    // The list sent is the new list: an unpublished version left out is gone.
    let mut tc = draft.clone();
    versions_mut(&mut tc).retain(|v| v["versionNumber"] != "1.0.20260401");
    assert_eq!(pi.run(vec![tc]).await["jobResult"], "succeeded");
    assert_eq!(
        version_numbers(&pi.tech_config(L).await),
        ["1.0.20260101", "1.0.20260301"]
    );
    // Preview and live are untouched by draft jobs.
    let live = pi.tree("live").await;
    assert!(
        live.to_string().contains("1.0.20260301") && !live.to_string().contains("1.0.20260401")
    );
    pi.emu.shutdown();
}

#[tokio::test]
async fn a_job_still_running_has_no_details_yet() {
    let mut config = crate::common::config();
    config.ingestion.draft_job_delay = std::time::Duration::from_secs(600);
    let pi = crate::common::start_with(config).await;
    let job = pi.start_job(vec![pi.tech_config(L).await]).await;
    assert_eq!(pi.status(&job).await["jobStatus"], "running");
    let response = pi.get(&format!("configure/{job}")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // The virtual clock passing the delay completes it too.
    pi.emu.advance_clock(std::time::Duration::from_secs(601));
    assert_eq!(pi.status(&job).await["jobResult"], "succeeded");
    pi.emu.shutdown();
}

/// Runs a draft job on the gen2 plan with `edit` applied and returns its error message.
async fn refused(pi: &Pi, plan: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut tc = pi.tech_config(plan).await;
    edit(&mut tc);
    let status = pi.run(vec![tc]).await;
    let error = failure(&status);
    assert_eq!(error["code"], "badRequest");
    assert_eq!(error["details"][0]["code"], "invalidResource");
    assert!(
        error["details"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Failure for resource: virtual-machine-plan-technical-configuration-0")
    );
    error["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn draft_jobs_refuse_deleting_or_changing_published_versions() {
    let pi = start().await;
    let before = pi.tech_config(L).await;
    let message = refused(&pi, L, |tc| {
        versions_mut(tc).retain(|v| v["versionNumber"] != "1.0.20260301")
    })
    .await;
    assert_eq!(
        message,
        "Cannot delete image '1.0.20260301' of type 'X64Gen2' as it is already published."
    );
    let message = refused(&pi, L, |tc| {
        versions_mut(tc)[1]["lifecycleState"] = json!("deleted")
    })
    .await;
    assert!(message.starts_with("Cannot delete image '1.0.20260301'"));
    let message = refused(&pi, L, |tc| {
        versions_mut(tc)[1]["vmImages"][0]["source"]["osDisk"]["uri"] =
            json!("https://acct.blob.core.windows.net/vhds/other.vhd?sig=z");
    })
    .await;
    assert!(message.contains("already published"), "{message}");
    // Stripping the deprecation of a deprecated version reads as a restore (Q2).
    let message = refused(&pi, L, |tc| {
        let v = versions_mut(tc)[0].as_object_mut().unwrap();
        v.shift_remove("lifecycleState");
        v.shift_remove("deprecationSchedule");
    })
    .await;
    assert_eq!(
        message,
        "Image '1.0.20260101' cannot be restored because it was deprecated before it was published to live"
    );
    let message = refused(&pi, L, |tc| tc["skus"][1]["skuId"] = json!("renamed-gen1")).await;
    assert_eq!(
        message,
        "The property 'PlanId' is locked by a previous submission"
    );
    assert_eq!(pi.tech_config(L).await, before);
    pi.emu.shutdown();
}

#[tokio::test]
async fn draft_jobs_refuse_security_type_off_gen2_duplicates_two_new_and_the_last_active_deprecated()
 {
    let pi = start().await;
    let message = refused(&pi, L, |tc| {
        tc["skus"][1]["securityType"] = json!(["trusted"])
    })
    .await;
    assert!(
        message.contains("SecurityType") && message.contains("X64Gen1"),
        "{message}"
    );
    let message = refused(&pi, L, |tc| {
        versions_mut(tc).push(version("1.0.20260401", &["x64Gen2"]));
        versions_mut(tc).push(version("1.0.20260401", &["x64Gen2"]));
    })
    .await;
    assert!(
        message.contains("1.0.20260401") && message.contains("more than once"),
        "{message}"
    );
    let message = refused(&pi, L, |tc| {
        versions_mut(tc).push(version("1.0.20260401", &["x64Gen2"]));
        versions_mut(tc).push(version("1.0.20260402", &["x64Gen2"]));
    })
    .await;
    assert!(
        message.contains("Only one new VM image per image type") && message.contains("X64Gen2"),
        "{message}"
    );
    let message = refused(&pi, SINGLE_PLAN_ID, |tc| {
        versions_mut(tc)[0]["lifecycleState"] = json!("deprecated")
    })
    .await;
    assert!(message.contains("last active image"), "{message}");

    // One new version per type, in either plan, is fine; deprecating a GA version with another GA is too.
    let mut tc = pi.tech_config(SINGLE_PLAN_ID).await;
    versions_mut(&mut tc).push(version("1.0.20260401", &["x64Gen2"]));
    assert_eq!(pi.run(vec![tc.clone()]).await["jobResult"], "succeeded");
    versions_mut(&mut tc)[0]["lifecycleState"] = json!("deprecated");
    assert_eq!(pi.run(vec![tc]).await["jobResult"], "succeeded");
    // A securityType on the Gen2 SKU is accepted.
    let mut gen2 = pi.tech_config(L).await;
    gen2["skus"][0]["securityType"] = json!(["trusted", "confidential"]);
    assert_eq!(pi.run(vec![gen2]).await["jobResult"], "succeeded");
    pi.emu.shutdown();
}
