//! The client against the CPP emulator: round trips, concurrency control, operations end to end.

use std::time::Duration;

use serde_json::json;
use shared::cpp::{CancelOutcome, ErrorKind, Offer, OfferView, OperationStatus};
use test_harness::cpp_emulator::{
    EmulatorConfig, Fault, FaultAction, LocationStyle, default_offer,
};
use test_harness::{Harness, OFFER, PUBLISHER};

const DAY: Duration = Duration::from_secs(86_400);

#[tokio::test]
async fn documented_offers_round_trip_unchanged() {
    let h = Harness::start().await;
    let mut with_unknowns = default_offer();
    with_unknowns["pcMigrationStatus"] = json!("migrated");
    with_unknowns["pcRedirectUri"] = json!("https://partner.microsoft.com/x");
    with_unknowns["definition"]["offer"]["microsoft-azure-marketplace.crmLeadConfiguration"] =
        json!({"a": [1, {"b": null}]});
    with_unknowns["definition"]["plans"][0]["microsoft-azure-corevm.generation"] = json!("2");
    with_unknowns["definition"]["plans"][0]["diskGenerations"] =
        json!([{"planId": "g2", "extra": 1.5e10}]);
    with_unknowns["id"] = json!("with-unknowns");
    h.emulator.seed_offer(with_unknowns);

    for offer_id in ["contosovirtualmachine", "with-unknowns", OFFER] {
        let before = without_server_fields(h.emulator.draft(PUBLISHER, offer_id).unwrap());
        let offer = h
            .client()
            .get_offer(PUBLISHER, offer_id, OfferView::Draft)
            .await
            .unwrap();
        let written = h.client().put_offer(PUBLISHER, &offer).await.unwrap();
        let after = without_server_fields(h.emulator.draft(PUBLISHER, offer_id).unwrap());
        assert_eq!(
            after, before,
            "{offer_id}: GET then PUT changed the stored document"
        );
        assert_ne!(
            written.etag(),
            offer.etag(),
            "{offer_id}: a write gives a new ETag"
        );
    }
}

/// The service sets status, version and changedTime on every write; the rest is the client's.
fn without_server_fields(mut doc: serde_json::Value) -> serde_json::Value {
    let fields = doc.as_object_mut().unwrap();
    for server_field in ["status", "version", "changedTime"] {
        fields.shift_remove(server_field);
    }
    doc
}

#[tokio::test]
async fn concurrency_control_is_enforced() {
    let h = Harness::start().await;
    let client = h.client();
    let first = client
        .get_offer(PUBLISHER, OFFER, OfferView::Draft)
        .await
        .unwrap();
    client.put_offer(PUBLISHER, &first).await.unwrap();

    let stale = client.put_offer(PUBLISHER, &first).await.unwrap_err();
    assert_eq!(stale.kind, ErrorKind::PreconditionFailed, "{stale}");

    let without_if_match = client.create_offer(PUBLISHER, &first).await.unwrap_err();
    assert_eq!(
        (without_if_match.kind, without_if_match.code.as_deref()),
        (ErrorKind::Conflict, Some("InvalidResourceId"))
    );

    client.overwrite_offer(PUBLISHER, &first).await.unwrap();

    let mut new_doc = first.to_value();
    new_doc["id"] = json!("brand-new");
    let created = client
        .create_offer(PUBLISHER, &Offer::new(new_doc, None).unwrap())
        .await
        .unwrap();
    assert!(created.etag().is_some());
}

#[tokio::test]
async fn a_publish_runs_to_preview_and_a_go_live_to_production() {
    let h = Harness::start().await;
    let client = h.client();
    let publish = client
        .publish(PUBLISHER, OFFER, "release@contoso.com")
        .await
        .unwrap();
    assert!(publish.id.is_some());
    let op = client.get_operation_at(&publish.location).await.unwrap();
    assert_eq!(op.status, OperationStatus::Running);
    assert_eq!(
        op.current_step().unwrap().estimated_time_frame.as_deref(),
        Some("< 15 min")
    );

    h.advance(DAY * 5);
    let op = client.get_operation_at(&publish.location).await.unwrap();
    assert!(op.awaits_publisher_signoff(), "{op:?}");
    let preview = client
        .get_offer(PUBLISHER, OFFER, OfferView::Preview)
        .await
        .unwrap();
    assert!(preview.plan("gen2").is_some());
    assert_eq!(
        client.offer_status(PUBLISHER, OFFER).await.unwrap().status,
        "running"
    );

    let go_live = client.go_live(PUBLISHER, OFFER).await.unwrap();
    let listed = client
        .list_operations(PUBLISHER, OFFER, None)
        .await
        .unwrap();
    assert_eq!(listed[0].id, go_live.id.clone().unwrap(), "newest first");
    assert!(listed[0].is_go_live() && !listed[1].is_go_live());

    h.advance(DAY * 5);
    let op = client
        .get_operation(PUBLISHER, OFFER, go_live.id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(op.status, OperationStatus::Succeeded);
    client
        .get_offer(PUBLISHER, OFFER, OfferView::Production)
        .await
        .unwrap();
    client
        .get_offer(PUBLISHER, OFFER, OfferView::Version(1))
        .await
        .unwrap();
}

#[tokio::test]
async fn success_spellings_and_legacy_locations_are_understood() {
    let config = EmulatorConfig {
        success_status: "complete".into(),
        publish_succeeds_at_signoff: true,
        location_style: LocationStyle::Legacy,
        ..EmulatorConfig::default()
    };
    let h = Harness::with(config, &[]).await;
    let publish = h.client().publish(PUBLISHER, OFFER, "").await.unwrap();
    assert_eq!(
        publish.id, None,
        "legacy locations name no operation id: {}",
        publish.location
    );
    h.advance(DAY * 5);
    let op = h
        .client()
        .get_operation_at(&publish.location)
        .await
        .unwrap();
    assert_eq!(op.status, OperationStatus::Succeeded);
}

#[tokio::test]
async fn cancel_is_accepted_and_ends_the_operation() {
    let h = Harness::start().await;
    let client = h.client();
    assert_eq!(
        client.cancel(PUBLISHER, OFFER).await.unwrap(),
        CancelOutcome::Done,
        "nothing running"
    );
    client.publish(PUBLISHER, OFFER, "").await.unwrap();
    let CancelOutcome::Accepted(Some(op)) = client.cancel(PUBLISHER, OFFER).await.unwrap() else {
        panic!("a running publish is cancelled asynchronously");
    };
    h.advance(Duration::from_secs(180));
    assert_eq!(
        client.get_operation_at(&op.location).await.unwrap().status,
        OperationStatus::Canceled
    );
    let canceled = client
        .list_operations(PUBLISHER, OFFER, Some(&OperationStatus::Canceled))
        .await
        .unwrap();
    assert_eq!(canceled.len(), 1);
}

#[tokio::test]
async fn tokens_are_reused_refreshed_on_expiry_and_renewed_after_revocation() {
    let h = Harness::start().await;
    for _ in 0..5 {
        h.client()
            .get_offer(PUBLISHER, OFFER, OfferView::Draft)
            .await
            .unwrap();
    }
    assert_eq!(h.count("POST", "/oauth2/token"), 1);
    h.advance(Duration::from_secs(3_600));
    h.client()
        .get_offer(PUBLISHER, OFFER, OfferView::Draft)
        .await
        .unwrap();
    assert_eq!(
        h.count("POST", "/oauth2/token"),
        2,
        "refreshed ahead of expiry, no 401 seen"
    );
    assert_eq!(
        h.emulator
            .requests()
            .iter()
            .filter(|r| r.status == 401)
            .count(),
        0
    );

    h.emulator.revoke_tokens();
    h.client()
        .get_offer(PUBLISHER, OFFER, OfferView::Draft)
        .await
        .unwrap();
    assert_eq!(
        h.count("POST", "/oauth2/token"),
        3,
        "a 401 clears the cache once"
    );
    assert!(
        h.requests("POST", "/oauth2/token")
            .iter()
            .all(|r| !format!("{r:?}").contains("emulator-client-secret"))
    );
}

#[tokio::test]
async fn a_wrong_api_version_is_rejected_with_its_code() {
    let h = Harness::with(
        EmulatorConfig::default(),
        &[("CPP_API_VERSION", "2015-01-01")],
    )
    .await;
    let err = h.client().list_publishers().await.unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (ErrorKind::Rejected, Some("InvalidAPIVersion"))
    );
}

#[tokio::test]
async fn throttling_is_waited_out_as_the_server_asks() {
    let h = Harness::start().await;
    h.emulator.inject_fault(Fault {
        method: Some("GET".into()),
        path_contains: format!("/offers/{OFFER}"),
        times: 2,
        action: FaultAction::Status {
            status: 429,
            retry_after: Some("3".into()),
            body: None,
        },
    });
    h.client()
        .get_offer(PUBLISHER, OFFER, OfferView::Draft)
        .await
        .unwrap();
    assert_eq!(h.count("GET", &format!("/offers/{OFFER}")), 3);
    assert_eq!(
        h.clock.sleeps(),
        [Duration::from_secs(3), Duration::from_secs(3)]
    );
}

#[tokio::test]
async fn a_publish_whose_answer_is_lost_is_not_sent_again() {
    let h = Harness::start().await;
    h.emulator.inject_fault(Fault {
        method: Some("POST".into()),
        path_contains: "/publish".into(),
        times: 1,
        action: FaultAction::DropAfterHandling,
    });
    let err = h.client().publish(PUBLISHER, OFFER, "").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transient);
    assert!(err.message.contains("may have been received"), "{err}");
    assert_eq!(h.count("POST", "/publish"), 1);
    let running = h
        .client()
        .list_operations(PUBLISHER, OFFER, Some(&OperationStatus::Running))
        .await
        .unwrap();
    assert_eq!(
        running.len(),
        1,
        "the publish did start: re-reading state finds it"
    );
}
