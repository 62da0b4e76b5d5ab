//! `/_emulator/ingestion/*` over HTTP: settings, seeding, state and arming a certification failure.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{days, failure, preview_submission, start};

#[tokio::test]
async fn control_endpoints_seed_show_state_arm_failures_and_merge_settings() {
    let pi = start().await;
    let http = reqwest::Client::new();
    let control = format!("{}/_emulator/ingestion", pi.emu.base_url());

    let settings: Value = http
        .get(format!("{control}/settings"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(settings["liveModel"], "single");
    assert_eq!(settings["shuffleResources"], true);
    assert_eq!(settings["draftJobDelayMs"], 50);
    let merged: Value = http
        .post(format!("{control}/settings"))
        .json(&json!({"pageSize": 3, "liveModel": "twoEntries", "certificationSeconds": 60}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (merged["pageSize"].as_u64(), merged["liveModel"].as_str()),
        (Some(3), Some("twoEntries"))
    );
    assert_eq!(merged["goLiveSeconds"], 86_400);
    let bad = http
        .post(format!("{control}/settings"))
        .json(&json!({"pageSize": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    let mut doc = cpp_emulator::default_product();
    let text = doc
        .to_string()
        .replace(crate::common::P, "11111111-2222-4333-8444-555555555555")
        .replace(
            "\"externalId\":\"contoso-linux\"",
            "\"externalId\":\"seeded-over-http\"",
        );
    doc = serde_json::from_str(&text).unwrap();
    let response = http
        .post(format!("{control}/products"))
        .json(&doc)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.json::<Value>().await.unwrap()["productId"],
        "11111111-2222-4333-8444-555555555555"
    );
    let state: Value = http
        .get(format!("{control}/products/seeded-over-http"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(state["live"].is_null());
    assert_eq!(state["draft"]["resources"].as_array().unwrap().len(), 17);

    let armed = http
        .post(format!("{control}/certification/fail"))
        .json(&json!({"externalId": "contoso-linux", "times": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(armed.status(), StatusCode::NO_CONTENT);
    let job = pi.start_job(vec![preview_submission()]).await;
    pi.emu.advance_clock(days(1));
    let status = pi.status(&job).await;
    assert_eq!(failure(&status)["details"][0]["message"], "Certification");
    let state = pi.emu.ingestion_state("contoso-linux").unwrap();
    assert_eq!(state["jobs"][0]["jobResult"], "failed");
    assert_eq!(state["jobs"][0]["kind"], "preview");
    let missing = http
        .get(format!("{control}/products/nobody"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    pi.emu.shutdown();
}
