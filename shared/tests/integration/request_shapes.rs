//! Every endpoint sends what the CPP docs ask for: method, path, api-version, bearer, headers, body.

use serde_json::json;
use shared::cpp::{OfferView, OperationStatus};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

fn api(verb: &str, at: &str) -> wiremock::MockBuilder {
    Mock::given(method(verb))
        .and(path(at.to_owned()))
        .and(query_param("api-version", "2017-10-31"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("accept", "application/json"))
        .and(header("content-type", "application/json"))
}

fn offer_doc() -> serde_json::Value {
    json!({"id": "contoso-linux", "publisherId": "contoso", "definition": {"plans": []}})
}

#[tokio::test]
async fn reads_send_the_documented_paths() {
    let server = server().await;
    let views = [
        (OFFER_PATH.to_owned(), OfferView::Draft),
        (format!("{OFFER_PATH}/slot/preview"), OfferView::Preview),
        (
            format!("{OFFER_PATH}/slot/production"),
            OfferView::Production,
        ),
        (format!("{OFFER_PATH}/versions/3"), OfferView::Version(3)),
    ];
    for (at, _) in &views {
        api("GET", at)
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(offer_doc())
                    .insert_header("ETag", "W/\"e1\""),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    api("GET", "/api/publishers")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": "contoso"}])))
        .expect(1)
        .mount(&server)
        .await;
    api("GET", "/api/publishers/contoso/offers")
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"id": "contoso-linux", "status": "published"}])),
        )
        .expect(1)
        .mount(&server)
        .await;
    api("GET", &format!("{OFFER_PATH}/status"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": "neverPublished", "steps": []})),
        )
        .expect(1)
        .mount(&server)
        .await;
    api("GET", &format!("{OFFER_PATH}/operations/op-1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"status": "running", "steps": []})),
        )
        .expect(1)
        .mount(&server)
        .await;
    api("GET", &format!("{OFFER_PATH}/submissions/"))
        .and(query_param("status", "running"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "old", "submissionState": "running", "changedTime": "2018-03-26T21:46:01.179948Z"},
            {"id": "done", "submissionState": "completed", "changedTime": "2018-03-27T21:46:01.179948Z"},
            {"id": "new", "submissionState": "running", "changedTime": "2018-03-28T21:46:01.179948Z"}
        ])))
        .expect(1)
        .mount(&server)
        .await;

    let (client, _) = client(&server);
    for (_, view) in views {
        let offer = client
            .get_offer("contoso", "contoso-linux", view)
            .await
            .unwrap();
        assert_eq!(offer.etag().unwrap().0, "W/\"e1\"");
    }
    assert_eq!(client.list_publishers().await.unwrap()[0].id, "contoso");
    assert_eq!(
        client.list_offers("contoso").await.unwrap()[0]
            .status
            .as_deref(),
        Some("published")
    );
    assert_eq!(
        client
            .offer_status("contoso", "contoso-linux")
            .await
            .unwrap()
            .status,
        "neverPublished"
    );
    assert_eq!(
        client
            .get_operation("contoso", "contoso-linux", "op-1")
            .await
            .unwrap()
            .status,
        OperationStatus::Running
    );
    let running = client
        .list_operations("contoso", "contoso-linux", Some(&OperationStatus::Running))
        .await
        .unwrap();
    let ids: Vec<&str> = running.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["new", "old"], "filtered here too, newest first");
}

#[tokio::test]
async fn put_sends_the_etag_it_read_and_star_only_when_asked() {
    let server = server().await;
    api("GET", OFFER_PATH)
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(offer_doc())
                .insert_header("ETag", "W/\"datetime'2017-06-07T06%3A15%3A40.4771399Z'\""),
        )
        .mount(&server)
        .await;
    api("PUT", OFFER_PATH)
        .and(header(
            "if-match",
            "W/\"datetime'2017-06-07T06%3A15%3A40.4771399Z'\"",
        ))
        .and(body_json(offer_doc()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(offer_doc())
                .insert_header("ETag", "W/\"e2\""),
        )
        .expect(1)
        .mount(&server)
        .await;
    api("PUT", OFFER_PATH)
        .and(header("if-match", "*"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(offer_doc())
                .insert_header("ETag", "W/\"e3\""),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server);
    let offer = client
        .get_offer("contoso", "contoso-linux", OfferView::Draft)
        .await
        .unwrap();
    let written = client.put_offer("contoso", &offer).await.unwrap();
    assert_eq!(
        written.etag().unwrap().0,
        "W/\"e2\"",
        "the new ETag comes back for the next write"
    );
    client.overwrite_offer("contoso", &offer).await.unwrap();

    let unread = shared::cpp::Offer::new(offer_doc(), None).unwrap();
    let err = client.put_offer("contoso", &unread).await.unwrap_err();
    assert!(err.to_string().contains("no ETag"), "{err}");
}

#[tokio::test]
async fn create_sends_no_if_match() {
    let server = server().await;
    api("PUT", OFFER_PATH)
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(offer_doc())
                .insert_header("ETag", "W/\"e1\""),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server);
    client
        .create_offer(
            "contoso",
            &shared::cpp::Offer::new(offer_doc(), None).unwrap(),
        )
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    let put = requests
        .iter()
        .find(|r| r.method.as_str() == "PUT")
        .unwrap();
    assert!(!put.headers.contains_key("if-match"));
}

#[tokio::test]
async fn long_running_calls_return_where_to_poll() {
    let server = server().await;
    api("POST", &format!("{OFFER_PATH}/publish"))
        .and(body_json(
            json!({"metadata": {"notification-emails": "a@contoso.com,b@contoso.com"}}),
        ))
        .respond_with(ResponseTemplate::new(202).insert_header(
            "Location",
            "/api/publishers/contoso/offers/contoso-linux/operations/op-7?api-version=2017-10-31",
        ))
        .expect(1)
        .mount(&server)
        .await;
    api("POST", &format!("{OFFER_PATH}/golive"))
        .respond_with(
            ResponseTemplate::new(202).insert_header(
                "Operation-Location",
                format!(
                    "{}/api/publishers/contoso/offers/contoso-linux/operations/op-8",
                    server.uri()
                )
                .as_str(),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    api("POST", &format!("{OFFER_PATH}/cancel"))
        .respond_with(ResponseTemplate::new(202).insert_header(
            "Location",
            "/api/operations/contoso$contoso-linux$2$preview?api-version=2017-10-31",
        ))
        .expect(1)
        .mount(&server)
        .await;
    api(
        "GET",
        "/api/publishers/contoso/offers/contoso-linux/operations/op-8",
    )
    .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "completed"})))
    .expect(1)
    .mount(&server)
    .await;
    let (client, _) = client(&server);

    let publish = client
        .publish("contoso", "contoso-linux", "a@contoso.com,b@contoso.com")
        .await
        .unwrap();
    assert_eq!(publish.id.as_deref(), Some("op-7"));
    let go_live = client.go_live("contoso", "contoso-linux").await.unwrap();
    assert_eq!(go_live.id.as_deref(), Some("op-8"));
    let op = client.get_operation_at(&go_live.location).await.unwrap();
    assert_eq!(
        op.status,
        OperationStatus::Succeeded,
        "absolute Operation-Location followed, api-version not doubled"
    );
    match client.cancel("contoso", "contoso-linux").await.unwrap() {
        shared::cpp::CancelOutcome::Accepted(Some(op)) => assert_eq!(op.id, None),
        other => panic!("unexpected {other:?}"),
    }
    let requests = server.received_requests().await.unwrap();
    let poll = requests
        .iter()
        .find(|r| r.url.path().ends_with("op-8"))
        .unwrap();
    assert_eq!(poll.url.query(), Some("api-version=2017-10-31"));
}

#[tokio::test]
async fn an_accepted_publish_without_location_is_an_error() {
    let server = server().await;
    api("POST", &format!("{OFFER_PATH}/publish"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    let (client, _) = client(&server);
    let err = client
        .publish("contoso", "contoso-linux", "")
        .await
        .unwrap_err();
    assert_eq!(err.kind, shared::cpp::ErrorKind::Decode);
    assert!(
        err.to_string()
            .contains("neither Location nor Operation-Location"),
        "{err}"
    );
}

#[tokio::test]
async fn operation_locations_outside_the_api_host_are_not_followed() {
    let server = server().await;
    let (client, _) = client(&server);
    let err = client
        .get_operation_at("https://attacker.example/api/operations/x")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("outside the CPP API host"),
        "{err}"
    );
    assert_eq!(calls_to(&server, "GET", "/x").await, 0);
}
