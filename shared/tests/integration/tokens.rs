//! The bearer token: fetched once, shared, refreshed ahead of expiry, renewed once on a 401.

use std::time::Duration;

use shared::cpp::{ErrorKind, OfferView};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

async fn offer_endpoint(server: &MockServer) {
    answer(
        server,
        "GET",
        OFFER_PATH,
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "contoso-linux"})),
        None,
    )
    .await;
}

#[tokio::test]
async fn the_token_request_is_the_v1_client_credentials_grant() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains(
            format!("client_id={CLIENT_ID}").as_str(),
        ))
        .and(body_string_contains(
            format!("client_secret={SECRET}").as_str(),
        ))
        .and(body_string_contains(
            "resource=https%3A%2F%2Fcloudpartner.azure.com",
        ))
        .respond_with(token_response(TOKEN))
        .expect(1)
        .mount(&server)
        .await;
    offer_endpoint(&server).await;
    let (client, _) = client(&server);
    client
        .get_offer("contoso", "contoso-linux", OfferView::Draft)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_token_serves_many_concurrent_calls() {
    let server = server().await;
    offer_endpoint(&server).await;
    let (client, _) = client(&server);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let client = client.clone();
        calls.spawn(async move {
            client
                .get_offer("contoso", "contoso-linux", OfferView::Draft)
                .await
        });
    }
    while let Some(result) = calls.join_next().await {
        result.unwrap().unwrap();
    }
    assert_eq!(calls_to(&server, "POST", TOKEN_PATH).await, 1);
    assert_eq!(calls_to(&server, "GET", OFFER_PATH).await, 20);
}

#[tokio::test]
async fn the_token_is_refreshed_before_it_expires() {
    let server = server().await;
    offer_endpoint(&server).await;
    let (client, clock) = client(&server);
    client
        .get_offer("contoso", "contoso-linux", OfferView::Draft)
        .await
        .unwrap();
    clock.advance(Duration::from_secs(3000));
    client
        .get_offer("contoso", "contoso-linux", OfferView::Draft)
        .await
        .unwrap();
    assert_eq!(
        calls_to(&server, "POST", TOKEN_PATH).await,
        1,
        "still 10 minutes left: cached"
    );
    clock.advance(Duration::from_secs(400));
    client
        .get_offer("contoso", "contoso-linux", OfferView::Draft)
        .await
        .unwrap();
    assert_eq!(
        calls_to(&server, "POST", TOKEN_PATH).await,
        2,
        "within 5 minutes of expiry: refreshed"
    );
}

#[tokio::test]
async fn a_401_fetches_a_new_token_and_retries_once() {
    let server = MockServer::start().await;
    answer(
        &server,
        "POST",
        TOKEN_PATH,
        token_response("revoked-token"),
        Some(1),
    )
    .await;
    answer(&server, "POST", TOKEN_PATH, token_response(TOKEN), None).await;
    Mock::given(method("GET"))
        .and(path(OFFER_PATH))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "contoso-linux"})),
        )
        .mount(&server)
        .await;
    answer(&server, "GET", OFFER_PATH, ResponseTemplate::new(401), None).await;
    let (client, _) = client(&server);
    client
        .get_offer("contoso", "contoso-linux", OfferView::Draft)
        .await
        .unwrap();
    assert_eq!(calls_to(&server, "POST", TOKEN_PATH).await, 2);
    assert_eq!(calls_to(&server, "GET", OFFER_PATH).await, 2);
}

#[tokio::test]
async fn a_401_that_persists_is_unauthorized_after_one_refresh() {
    let server = server().await;
    answer(
        &server,
        "POST",
        format!("{OFFER_PATH}/publish"),
        ResponseTemplate::new(401),
        None,
    )
    .await;
    let (client, _) = client(&server);
    let err = client
        .publish("contoso", "contoso-linux", "")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    assert_eq!(
        calls_to(&server, "POST", "/publish").await,
        2,
        "a 401 was not processed, so one resend is safe"
    );
    assert_eq!(calls_to(&server, "POST", TOKEN_PATH).await, 2);
}

#[tokio::test]
async fn refused_credentials_are_unauthorized_with_the_aad_reason() {
    let server = MockServer::start().await;
    answer(&server, "POST", TOKEN_PATH, ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."
        })), None).await;
    let (client, _) = client(&server);
    let err = client
        .get_offer("contoso", "contoso-linux", OfferView::Draft)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    assert!(
        err.to_string().contains("invalid_client: AADSTS7000215"),
        "{err}"
    );
    assert_eq!(calls_to(&server, "GET", OFFER_PATH).await, 0);
}

#[tokio::test]
async fn a_failing_token_endpoint_is_retried_like_any_safe_request() {
    let server = MockServer::start().await;
    answer(
        &server,
        "POST",
        TOKEN_PATH,
        ResponseTemplate::new(503),
        Some(2),
    )
    .await;
    answer(&server, "POST", TOKEN_PATH, token_response(TOKEN), None).await;
    offer_endpoint(&server).await;
    let (client, _) = client(&server);
    client
        .get_offer("contoso", "contoso-linux", OfferView::Draft)
        .await
        .unwrap();
    assert_eq!(calls_to(&server, "POST", TOKEN_PATH).await, 3);
}
