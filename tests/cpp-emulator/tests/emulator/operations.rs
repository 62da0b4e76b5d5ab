//! Reading operations (by id, legacy key, submissions, status) and cancelling them.

use cpp_emulator::{EmulatorConfig, LocationStyle};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{OFFER, days, minutes, start, start_with, step};

#[tokio::test]
async fn cancel_with_nothing_running_is_200() {
    let h = start().await;
    let response = h.post(&format!("{OFFER}/cancel"), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!response.headers().contains_key("location"));
}

#[tokio::test]
async fn cancel_is_202_and_the_operation_is_canceled_after_the_delay() {
    let h = start().await;
    let publish = h.publish().await;
    let cancel = h
        .post(
            &format!("{OFFER}/cancel"),
            Some(json!({"metadata": {"notification-emails": "a@b.com"}})),
        )
        .await;
    assert_eq!(cancel.status(), StatusCode::ACCEPTED);
    assert_eq!(cancel.headers()["location"], publish.headers()["location"]);
    assert_eq!(
        cancel.headers()["operation-location"],
        publish.headers()["operation-location"]
    );

    let op = h.follow(&publish).await;
    assert_eq!(op["status"], "running");
    assert_eq!(op["cancellationRequestState"], "canceling");
    assert_eq!(h.submissions().await[0]["submissionState"], "running");

    h.advance(minutes(2)).await;
    let op = h.follow(&publish).await;
    assert_eq!(op["status"], "canceled");
    assert_eq!(h.submissions().await[0]["submissionState"], "canceled");
    // Nothing runs any more: cancel is synchronous again and a publish may start.
    assert_eq!(
        h.post(&format!("{OFFER}/cancel"), None).await.status(),
        StatusCode::OK
    );
    let next = h.publish().await;
    assert_ne!(next.headers()["location"], publish.headers()["location"]);
}

#[tokio::test]
async fn custom_cancel_delay_is_honoured() {
    let config = EmulatorConfig {
        cancel_delay: minutes(10),
        ..EmulatorConfig::default()
    };
    let h = start_with(config).await;
    let publish = h.publish().await;
    h.post(&format!("{OFFER}/cancel"), None).await;
    h.advance(minutes(9)).await;
    assert_eq!(h.follow(&publish).await["status"], "running");
    h.advance(minutes(1)).await;
    assert_eq!(h.follow(&publish).await["status"], "canceled");
}

#[tokio::test]
async fn submissions_are_newest_first_and_filter_by_status_or_submission_state() {
    let h = start().await;
    h.publish().await;
    h.post(&format!("{OFFER}/cancel"), None).await;
    h.advance(minutes(5)).await;
    h.add_image("2.0.0").await;
    h.publish().await;

    let list = h.submissions().await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["submissionState"], "running");
    assert_eq!(list[0]["offerVersion"], 2);
    assert_eq!(list[1]["submissionState"], "canceled");
    assert_eq!(list[1]["offerVersion"], 1);
    let first = &list[0];
    assert_eq!(first["offerId"], "contosovirtualmachine");
    assert_eq!(first["publisherId"], "contoso");
    assert_eq!(first["offerTypeId"], "microsoft-azure-virtualmachines");
    assert_eq!(first["submissionType"], "publish");
    assert_eq!(first["slot"], "staging");
    assert_eq!(first["publishingVersion"], 3);
    assert_eq!(
        first["definition"],
        json!({"metadata": {"emails": "a@b.com,c@d.com"}})
    );
    assert!(first["version"].as_i64().unwrap() > list[1]["version"].as_i64().unwrap());
    assert!(first["changedTime"].is_string());

    for query in ["status=Running", "submissionState=running"] {
        let filtered = h.get_json(&format!("{OFFER}/submissions/?{query}")).await;
        assert_eq!(filtered.as_array().unwrap().len(), 1, "{query}");
        assert_eq!(filtered[0]["id"], list[0]["id"]);
    }
    let canceled = h
        .get_json(&format!("{OFFER}/submissions?status=CANCELED"))
        .await;
    assert_eq!(canceled[0]["id"], list[1]["id"]);
}

#[tokio::test]
async fn operations_by_id_tolerate_a_trailing_slash_and_404_when_unknown() {
    let h = start().await;
    h.publish().await;
    let id = h.submissions().await[0]["id"].as_str().unwrap().to_owned();
    let op = h.operation(&id).await;
    assert_eq!(op["id"], id);
    let slashed = h.get_json(&format!("{OFFER}/operations/{id}/")).await;
    assert_eq!(slashed["id"], id);
    let missing = h
        .get(&format!(
            "{OFFER}/operations/408a4835-0000-1000-0000-000000000000"
        ))
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn status_of_a_never_published_offer() {
    let h = start().await;
    let status = h.get_json(&format!("{OFFER}/status")).await;
    assert_eq!(status["status"], "neverPublished");
    assert_eq!(status["steps"], json!([]));
}

#[tokio::test]
async fn status_reports_the_latest_operation() {
    let h = start().await;
    h.publish().await;
    h.advance(days(5)).await;
    let status = h.get_json(&format!("{OFFER}/status")).await;
    assert_eq!(status["status"], "running");
    assert_eq!(
        step(&status, "publisher-signoff")["status"],
        "waitingForPublisherReview"
    );
    assert_eq!(status["notificationEmails"], "a@b.com,c@d.com");
    assert_eq!(status["previewLinks"], json!([]));
    assert!(status.get("id").is_none());
    h.post(&format!("{OFFER}/golive"), None).await;
    let status = h.get_json(&format!("{OFFER}/status")).await;
    assert_eq!(step(&status, "live")["status"], "inProgress");
}

#[tokio::test]
async fn legacy_location_style_points_at_the_non_migrated_operation_path() {
    let config = EmulatorConfig {
        location_style: LocationStyle::Legacy,
        ..EmulatorConfig::default()
    };
    let h = start_with(config).await;
    let publish = h.publish().await;
    let location = publish.headers()["location"].to_str().unwrap();
    assert_eq!(
        location,
        "/api/operations/contoso$contosovirtualmachine$2$preview?api-version=2017-10-31"
    );
    let op: Value = h.follow(&publish).await;
    assert_eq!(op["submissionType"], "publish");
    assert_eq!(op["publishingVersion"], 2);
    // Percent-encoded `$` resolves to the same operation.
    let encoded = h
        .get_json("/api/operations/contoso%24contosovirtualmachine%242%24preview")
        .await;
    assert_eq!(encoded["id"], op["id"]);
    assert_eq!(
        h.get("/api/operations/contoso$contosovirtualmachine$9$preview")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}
