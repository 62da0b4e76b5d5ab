//! Publishers, offer documents, ETags and the PUT rules.

use cpp_emulator::default_offer;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{OFFER, OFFER_ID, PLAN_IMAGES, PUBLISHER, etag, start, with_image};

fn assert_cpp_error(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
}

#[tokio::test]
async fn lists_publishers_in_the_captured_shape() {
    let h = start().await;
    let list = h.get_json("/api/publishers").await;
    assert_eq!(
        list,
        json!([{
            "version": 0,
            "id": "contoso",
            "definition": {
                "displayText": "Contoso",
                "offerTypeCategories": ["microsoft-azure-virtualmachines"],
                "sellerId": 1_234_456,
            }
        }])
    );
}

#[tokio::test]
async fn lists_offer_summaries() {
    let h = start().await;
    let list = h.get_json("/api/publishers/contoso/offers").await;
    let summary = &list[0];
    assert_eq!(summary["offerTypeId"], "microsoft-azure-virtualmachines");
    assert_eq!(summary["publisherId"], PUBLISHER);
    assert_eq!(summary["status"], "neverPublished");
    assert_eq!(summary["id"], OFFER_ID);
    assert_eq!(summary["version"], 1);
    assert_eq!(
        summary["definition"],
        json!({"displayText": "Contoso Virtual Machine Offer"})
    );
    assert!(summary["changedTime"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn unknown_publisher_is_403_and_unknown_offer_is_404() {
    let h = start().await;
    let response = h
        .get("/api/publishers/fabrikam/offers/contosovirtualmachine")
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert_cpp_error(&body, "Forbidden");

    let response = h.get("/api/publishers/contoso/offers/nope").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_cpp_error(&body, "NotFound");

    let listing = h.get("/api/publishers/fabrikam/offers").await;
    assert_eq!(listing.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn get_returns_the_draft_with_server_fields_and_a_weak_datetime_etag_header() {
    let h = start().await;
    let response = h.get(OFFER).await;
    assert_eq!(response.status(), StatusCode::OK);
    let tag = etag(&response);
    assert!(
        tag.starts_with("W/\"datetime'") && tag.ends_with("Z'\""),
        "{tag}"
    );
    assert!(
        tag.contains("%3A") && !tag.contains(':'),
        "URL-encoded: {tag}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "neverPublished");
    assert_eq!(body["version"], 1);
    assert!(body["changedTime"].is_string());
    assert!(body.get("eTag").is_none() && body.get("etag").is_none());
    // Everything else is the seeded document.
    let mut stripped = body.clone();
    for key in ["status", "version", "changedTime"] {
        stripped.as_object_mut().unwrap().remove(key);
    }
    assert_eq!(stripped, default_offer());
}

#[tokio::test]
async fn etag_changes_on_every_write_even_with_a_frozen_clock() {
    let h = start().await;
    let first = etag(&h.get(OFFER).await);
    let doc = default_offer();
    let second = etag(&h.put(OFFER, &doc, Some("*")).await);
    let third = etag(&h.put(OFFER, &doc, Some("*")).await);
    assert_ne!(first, second);
    assert_ne!(second, third);
    assert_eq!(etag(&h.get(OFFER).await), third);
}

#[tokio::test]
async fn put_on_an_existing_offer_without_if_match_is_409_invalid_resource_id() {
    let h = start().await;
    let response = h.put(OFFER, &default_offer(), None).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "InvalidResourceId");
    assert_eq!(
        body["error"]["message"],
        "Offer ID already exists. If you wanted to update an existing offer, please ensure If-Match header is specified as per documentation."
    );
}

#[tokio::test]
async fn stale_etag_is_412_and_current_etag_writes() {
    let h = start().await;
    let stale = etag(&h.get(OFFER).await);
    let current = etag(&h.put(OFFER, &default_offer(), Some("*")).await);

    let response = h
        .put(OFFER, &with_image(default_offer(), "2.0.0"), Some(&stale))
        .await;
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    let draft = h.emu.draft(PUBLISHER, OFFER_ID).unwrap();
    assert!(
        draft["definition"]["plans"][0][PLAN_IMAGES]
            .get("2.0.0")
            .is_none()
    );

    let response = h
        .put(OFFER, &with_image(default_offer(), "2.0.0"), Some(&current))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let draft = h.emu.draft(PUBLISHER, OFFER_ID).unwrap();
    assert!(
        draft["definition"]["plans"][0][PLAN_IMAGES]
            .get("2.0.0")
            .is_some()
    );
}

#[tokio::test]
async fn if_match_star_writes_unconditionally() {
    let h = start().await;
    let response = h
        .put(OFFER, &with_image(default_offer(), "1.2.3"), Some("*"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["definition"]["plans"][0][PLAN_IMAGES]
            .get("1.2.3")
            .is_some()
    );
}

#[tokio::test]
async fn put_creates_with_201_and_if_match_on_a_missing_offer_is_404() {
    let h = start().await;
    let mut doc = default_offer();
    doc["id"] = json!("newoffer");
    let path = "/api/publishers/contoso/offers/newoffer";

    let response = h.put(path, &doc, Some("*")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let response = h.put(path, &doc, None).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers().contains_key("etag"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "neverPublished");
    assert_eq!(body["version"], 1);
    assert_eq!(h.get(path).await.status(), StatusCode::OK);

    let response = h
        .put("/api/publishers/fabrikam/offers/newoffer", &doc, None)
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn put_round_trips_the_document_and_ignores_server_fields() {
    let h = start().await;
    let mut doc = default_offer();
    doc["pcMigrationStatus"] = json!("migrated");
    doc["definition"]["offer"]["x-unknown.field"] = json!({"nested": [1, 2, {"k": null}]});
    let mut sent = doc.clone();
    sent["status"] = json!("published");
    sent["version"] = json!(42);
    sent["changedTime"] = json!("2001-01-01T00:00:00Z");
    sent["eTag"] = json!("W/\"datetime'2001'\"");

    let response = h.put(OFFER, &sent, Some("*")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "neverPublished");
    assert_eq!(body["version"], 1);
    assert_ne!(body["changedTime"], "2001-01-01T00:00:00Z");
    assert!(body.get("eTag").is_none());

    let mut got = h.get_json(OFFER).await;
    for key in ["status", "version", "changedTime"] {
        got.as_object_mut().unwrap().remove(key);
    }
    assert_eq!(got, doc);
    // Key order survives too (serde_json preserve_order).
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&got), keys(&doc));
}

#[tokio::test]
async fn put_body_must_be_an_object_with_the_path_offer_id() {
    let h = start().await;
    let mut other = default_offer();
    other["id"] = json!("someotheroffer");
    let not_object = json!(["an", "array"]);
    let mut wrong_publisher = default_offer();
    wrong_publisher["publisherId"] = json!("fabrikam");
    for doc in [other, not_object, wrong_publisher] {
        let response = h.put(OFFER, &doc, Some("*")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{doc}");
    }
    let invalid_json = h
        .http
        .put(h.url(&crate::common::with_version(OFFER)))
        .bearer_auth(h.token())
        .header("If-Match", "*")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(invalid_json.status(), StatusCode::BAD_REQUEST);
}

async fn rejected_message(h: &crate::common::Harness, doc: &Value) -> String {
    let response = h.put(OFFER, doc, Some("*")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["code"].is_string());
    body["error"]["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn put_rejects_a_version_key_that_is_not_x_y_z() {
    let h = start().await;
    for bad in ["1.0", "1.0.0.1", "v1.0.0", "1.a.0"] {
        let message = rejected_message(&h, &with_image(default_offer(), bad)).await;
        assert!(
            message.contains("contososkuidentifier") && message.contains(bad),
            "{message}"
        );
    }
}

#[tokio::test]
async fn put_rejects_more_than_eight_versions_per_plan() {
    let h = start().await;
    let mut doc = default_offer();
    for minor in 1..=7 {
        doc = with_image(doc, &format!("1.{minor}.0"));
    }
    assert_eq!(
        h.put(OFFER, &doc, Some("*")).await.status(),
        StatusCode::OK,
        "8 versions are fine"
    );
    let message = rejected_message(&h, &with_image(doc, "9.0.0")).await;
    assert!(
        message.contains("contososkuidentifier") && message.contains('8'),
        "{message}"
    );
}

#[tokio::test]
async fn put_rejects_a_version_without_a_string_os_vhd_url() {
    let h = start().await;
    let mut doc = default_offer();
    doc["definition"]["plans"][0][PLAN_IMAGES]["2.0.0"] = json!({"lunVhdDetails": []});
    let message = rejected_message(&h, &doc).await;
    assert!(
        message.contains("contososkuidentifier")
            && message.contains("2.0.0")
            && message.contains("osVhdUrl")
    );

    doc["definition"]["plans"][0][PLAN_IMAGES]["2.0.0"] = json!({"osVhdUrl": 7});
    let message = rejected_message(&h, &doc).await;
    assert!(message.contains("osVhdUrl"), "{message}");
}

#[tokio::test]
async fn put_rejects_a_different_data_disk_count_within_a_plan() {
    let h = start().await;
    let mut doc = with_image(default_offer(), "2.0.0");
    doc["definition"]["plans"][0][PLAN_IMAGES]["2.0.0"]["lunVhdDetails"] =
        json!([{"lun": 0, "lunVhdUrl": "https://acct.blob.core.windows.net/vhds/data.vhd"}]);
    let message = rejected_message(&h, &doc).await;
    assert!(
        message.contains("contososkuidentifier") && message.contains("2.0.0"),
        "{message}"
    );
    assert!(message.contains("data disks"), "{message}");
}

#[tokio::test]
async fn slots_are_case_insensitive_and_404_until_filled() {
    let h = start().await;
    let draft = h.get(&format!("{OFFER}/slot/Draft")).await;
    assert_eq!(draft.status(), StatusCode::OK);
    assert_eq!(draft.json::<Value>().await.unwrap()["id"], OFFER_ID);
    for slot in ["preview", "Production"] {
        let response = h.get(&format!("{OFFER}/slot/{slot}")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{slot}");
    }
    assert_eq!(
        h.get(&format!("{OFFER}/slot/staging")).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert!(h.emu.slot(PUBLISHER, OFFER_ID, "preview").is_none());
}

#[tokio::test]
async fn versions_are_snapshots_taken_at_each_publish() {
    let h = start().await;
    assert_eq!(
        h.get(&format!("{OFFER}/versions/1")).await.status(),
        StatusCode::NOT_FOUND
    );
    h.publish().await;
    // A draft edit after the publish does not change the snapshot.
    h.add_image("2.0.0").await;

    let v1 = h.get_json(&format!("{OFFER}/versions/1")).await;
    assert_eq!(v1["version"], 1);
    assert!(
        v1["definition"]["plans"][0][PLAN_IMAGES]
            .get("2.0.0")
            .is_none()
    );
    let draft = h.get_json(OFFER).await;
    assert_eq!(draft["version"], 2);
    assert!(
        draft["definition"]["plans"][0][PLAN_IMAGES]
            .get("2.0.0")
            .is_some()
    );
    assert_eq!(
        h.get(&format!("{OFFER}/versions/2")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        h.get(&format!("{OFFER}/versions/one")).await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn seed_offer_replaces_the_offer_and_creates_the_publisher() {
    let h = start().await;
    let before = etag(&h.get(OFFER).await);
    h.emu.seed_offer(with_image(default_offer(), "3.0.0"));
    let response = h.get(OFFER).await;
    assert_ne!(etag(&response), before);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["definition"]["plans"][0][PLAN_IMAGES]
            .get("3.0.0")
            .is_some()
    );

    let mut other = default_offer();
    other["publisherId"] = json!("fabrikam");
    other["id"] = json!("fabrikamvm");
    h.emu.seed_offer(other);
    assert_eq!(
        h.get("/api/publishers/fabrikam/offers/fabrikamvm")
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        h.get_json("/api/publishers")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
