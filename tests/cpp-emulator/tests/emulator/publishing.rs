//! Publish, the steps on the virtual clock, sign-off, go-live and failures.

use cpp_emulator::{EmulatorConfig, default_offer};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{
    OFFER, OFFER_ID, PLAN_IMAGES, PUBLISHER, days, minutes, start, start_with, step,
};

#[tokio::test]
async fn publish_answers_202_with_an_empty_body_and_both_location_headers() {
    let h = start().await;
    let response = h.publish().await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let absolute = response.headers()["operation-location"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        location.starts_with("/api/publishers/contoso/offers/contosovirtualmachine/operations/")
            && location.ends_with("?api-version=2017-10-31"),
        "{location}"
    );
    assert_eq!(absolute, format!("{}{location}", h.emu.base_url()));
    assert!(response.bytes().await.unwrap().is_empty());

    let list = h.submissions().await;
    let id = list[0]["id"].as_str().unwrap();
    assert!(location.contains(id));
}

#[tokio::test]
async fn publish_is_422_when_a_plan_has_no_image() {
    let h = start().await;
    let mut doc = default_offer();
    doc["definition"]["plans"][0][PLAN_IMAGES] = json!({});
    h.emu.seed_offer(doc);
    let response = h
        .post(&format!("{OFFER}/publish"), Some(json!({"metadata": {}})))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "UnprocessableEntity");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("contososkuidentifier")
    );
    assert!(h.submissions().await.is_empty());
}

#[tokio::test]
async fn publishing_the_same_draft_again_returns_the_running_operation() {
    let h = start().await;
    let first = h.publish().await;
    let second = h.publish().await;
    assert_eq!(first.headers()["location"], second.headers()["location"]);
    assert_eq!(h.submissions().await.len(), 1);
}

#[tokio::test]
async fn publishing_a_changed_draft_while_an_operation_runs_is_409() {
    let h = start().await;
    h.publish().await;
    h.add_image("2.0.0").await;
    let response = h.post(&format!("{OFFER}/publish"), None).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "Conflict");
    assert_eq!(h.submissions().await.len(), 1);
}

#[tokio::test]
async fn steps_carry_the_documented_names_and_time_frames() {
    let h = start().await;
    let op = h.follow(&h.publish().await).await;
    let expected = [
        (
            "displaydummycertify",
            "Validate Pre-Requisites",
            Some("< 15 min"),
        ),
        ("displaycertify", "Certification", Some("~2-3 days")),
        ("displayprovision", "Provisioning", Some("< 1 day")),
        (
            "displaypackage",
            "Packaging and Lead Generation Registration",
            Some("< 1 hour"),
        ),
        ("publisher-signoff", "Publisher signoff", None),
        ("live", "Live", Some("~2-5 days")),
    ];
    let steps = op["steps"].as_array().unwrap();
    assert_eq!(steps.len(), expected.len());
    for (step, (id, name, frame)) in steps.iter().zip(expected) {
        assert_eq!(step["id"], id);
        assert_eq!(step["stepName"], name);
        assert!(step["description"].is_string());
        match frame {
            Some(frame) => assert_eq!(step["estimatedTimeFrame"], frame),
            None => assert!(step.get("estimatedTimeFrame").is_none(), "{step}"),
        }
    }
    assert_eq!(op["status"], "running");
    assert_eq!(op["submissionType"], "publish");
    assert_eq!(op["cancellationRequestState"], "canCancel");
    assert_eq!(op["notificationEmails"], "a@b.com,c@d.com");
    assert_eq!(op["offerVersion"], 1);
    assert_eq!(op["publishingVersion"], 2);
    assert_eq!(op["previewLinks"], json!([]));
    assert_eq!(op["liveLinks"], json!([]));
    assert!(op["createdDateTime"].is_string() && op["lastActionDateTime"].is_string());
}

#[tokio::test]
async fn steps_advance_with_the_virtual_clock() {
    let h = start().await;
    let publish = h.publish().await;
    let op = h.follow(&publish).await;
    assert_eq!(step(&op, "displaydummycertify")["status"], "inProgress");
    assert_eq!(step(&op, "displaydummycertify")["progressPercentage"], 0);
    assert_eq!(step(&op, "displaycertify")["status"], "notStarted");

    h.advance(minutes(3)).await;
    let op = h.follow(&publish).await;
    assert_eq!(step(&op, "displaydummycertify")["progressPercentage"], 20);

    h.advance(minutes(12)).await;
    let op = h.follow(&publish).await;
    let validate = step(&op, "displaydummycertify");
    assert_eq!(validate["status"], "complete");
    assert_eq!(validate["progressPercentage"], 100);
    assert_eq!(validate["messages"][0]["messageHtml"], "Step completed.");
    assert_eq!(validate["messages"][0]["level"], "information");
    assert!(validate["messages"][0]["timestamp"].is_string());
    assert_eq!(step(&op, "displaycertify")["status"], "inProgress");

    // Halfway through the 3-day certification.
    h.advance(std::time::Duration::from_secs(36 * 3600)).await;
    let op = h.follow(&publish).await;
    assert_eq!(step(&op, "displaycertify")["progressPercentage"], 50);
    assert_eq!(op["status"], "running");
    assert_eq!(h.get_json(OFFER).await["status"], "running");
}

#[tokio::test]
async fn at_signoff_the_preview_slot_gets_the_snapshot_and_the_operation_keeps_running() {
    let h = start().await;
    let publish = h.publish().await;
    h.add_image("2.0.0").await; // draft moves on; the preview must be what was published
    h.advance(minutes(15) + days(4) + minutes(49)).await;
    assert!(
        h.emu.slot(PUBLISHER, OFFER_ID, "preview").is_none(),
        "one minute before sign-off"
    );
    assert_eq!(
        step(&h.follow(&publish).await, "displaypackage")["status"],
        "inProgress"
    );

    h.advance(minutes(1)).await;
    let op = h.follow(&publish).await;
    assert_eq!(op["status"], "running");
    assert_eq!(step(&op, "displaypackage")["status"], "complete");
    assert_eq!(
        step(&op, "publisher-signoff")["status"],
        "waitingForPublisherReview"
    );
    assert_eq!(step(&op, "live")["status"], "notStarted");

    let preview = h.get_json(&format!("{OFFER}/slot/preview")).await;
    assert_eq!(preview["version"], 1);
    let images = preview["definition"]["plans"][0][PLAN_IMAGES]
        .as_object()
        .unwrap();
    assert_eq!(images.keys().collect::<Vec<_>>(), ["1.0.1"]);
    assert_eq!(h.emu.slot(PUBLISHER, OFFER_ID, "Preview").unwrap(), preview);
}

#[tokio::test]
async fn publish_can_report_success_at_signoff_with_a_custom_status() {
    let config = EmulatorConfig {
        publish_succeeds_at_signoff: true,
        success_status: "complete".into(),
        ..EmulatorConfig::default()
    };
    let h = start_with(config).await;
    let publish = h.publish().await;
    h.advance(days(5)).await;
    let op = h.follow(&publish).await;
    assert_eq!(op["status"], "complete");
    assert_eq!(
        step(&op, "publisher-signoff")["status"],
        "waitingForPublisherReview"
    );
    assert_eq!(h.submissions().await[0]["submissionState"], "complete");
    // Still the operation go-live starts from.
    assert_eq!(
        h.post(&format!("{OFFER}/golive"), None).await.status(),
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn go_live_is_409_before_signoff() {
    let h = start().await;
    let response = h.post(&format!("{OFFER}/golive"), None).await;
    assert_eq!(response.status(), StatusCode::CONFLICT, "never published");
    h.publish().await;
    h.advance(days(2)).await;
    let response = h.post(&format!("{OFFER}/golive"), None).await;
    assert_eq!(response.status(), StatusCode::CONFLICT, "still certifying");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "Conflict");
}

#[tokio::test]
async fn go_live_after_signoff_fills_production_and_succeeds() {
    let config = EmulatorConfig {
        success_status: "completed".into(),
        ..EmulatorConfig::default()
    };
    let h = start_with(config).await;
    let publish = h.publish().await;
    h.advance(days(5)).await;

    let golive = h.post(&format!("{OFFER}/golive"), None).await;
    assert_eq!(golive.status(), StatusCode::ACCEPTED);
    assert!(golive.headers().contains_key("operation-location"));
    let again = h.post(&format!("{OFFER}/golive"), None).await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    assert_eq!(again.headers()["location"], golive.headers()["location"]);

    let op = h.follow(&golive).await;
    assert_eq!(op["submissionType"], "goLive");
    assert_eq!(op["status"], "running");
    for done in [
        "displaydummycertify",
        "displaycertify",
        "displayprovision",
        "displaypackage",
        "publisher-signoff",
    ] {
        assert_eq!(step(&op, done)["status"], "complete", "{done}");
    }
    assert_eq!(step(&op, "live")["status"], "inProgress");
    assert_eq!(
        h.get(&format!("{OFFER}/slot/production")).await.status(),
        StatusCode::NOT_FOUND
    );
    let list = h.submissions().await;
    assert_eq!(list[0]["slot"], "production");
    assert_eq!(list[1]["slot"], "staging");

    h.advance(days(3)).await;
    let op = h.follow(&golive).await;
    assert_eq!(op["status"], "completed");
    assert_eq!(step(&op, "live")["status"], "complete");
    let production = h.get_json(&format!("{OFFER}/slot/production")).await;
    assert_eq!(production["version"], 1);
    assert_eq!(production["definition"], default_offer()["definition"]);
    assert_eq!(h.follow(&publish).await["status"], "completed");
    assert_eq!(h.get_json(OFFER).await["status"], "completed");
}

#[tokio::test]
async fn a_marked_step_blocks_the_operation_when_reached() {
    let h = start().await;
    let publish = h.publish().await;
    h.emu.fail_operation_at_step(
        PUBLISHER,
        OFFER_ID,
        "displaycertify",
        "No virtual machine image was found for the plan contoso.",
    );
    let op = h.follow(&publish).await;
    assert_eq!(op["status"], "running", "not reached yet");

    h.advance(minutes(15)).await;
    let op = h.follow(&publish).await;
    assert_eq!(op["status"], "failed");
    let certify = step(&op, "displaycertify");
    assert_eq!(certify["status"], "blocked");
    assert_eq!(certify["messages"][0]["level"], "error");
    assert_eq!(
        certify["messages"][0]["messageHtml"],
        "No virtual machine image was found for the plan contoso."
    );
    assert_eq!(step(&op, "displayprovision")["status"], "notStarted");
    assert_eq!(
        h.get_json(&format!("{OFFER}/status")).await["status"],
        "failed"
    );

    // Frozen once failed, and a new publish may start.
    h.advance(days(10)).await;
    assert_eq!(h.follow(&publish).await["status"], "failed");
    assert!(h.emu.slot(PUBLISHER, OFFER_ID, "preview").is_none());
    let next = h.publish().await;
    assert_ne!(next.headers()["location"], publish.headers()["location"]);
}

#[tokio::test]
async fn marking_the_current_step_fails_it_at_once() {
    let h = start().await;
    let publish = h.publish().await;
    h.advance(days(1)).await;
    h.emu
        .fail_operation_at_step(PUBLISHER, OFFER_ID, "displaycertify", "Malware found.");
    let op = h.follow(&publish).await;
    assert_eq!(op["status"], "failed");
    assert_eq!(step(&op, "displaycertify")["status"], "blocked");
    assert_eq!(step(&op, "displaydummycertify")["status"], "complete");
}

#[tokio::test]
async fn a_live_step_failure_fails_the_go_live() {
    let h = start().await;
    h.publish().await;
    h.advance(days(5)).await;
    h.emu
        .fail_operation_at_step(PUBLISHER, OFFER_ID, "live", "Go-live was rejected.");
    let golive = h.post(&format!("{OFFER}/golive"), None).await;
    let op = h.follow(&golive).await;
    assert_eq!(op["status"], "failed");
    assert_eq!(step(&op, "live")["status"], "blocked");
    h.advance(days(5)).await;
    assert!(h.emu.slot(PUBLISHER, OFFER_ID, "production").is_none());
}
