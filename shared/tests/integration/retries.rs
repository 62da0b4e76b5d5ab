//! What is retried, how often, how long it waits, and what is never sent twice.

use std::time::{Duration, SystemTime};

use shared::cpp::{ErrorKind, OfferView};
use wiremock::ResponseTemplate;

use crate::support::*;

fn offer_ok() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(serde_json::json!({"id": "contoso-linux"}))
        .insert_header("ETag", "W/\"e1\"")
}

#[tokio::test]
async fn a_get_is_retried_through_server_errors() {
    let server = server().await;
    answer(
        &server,
        "GET",
        OFFER_PATH,
        ResponseTemplate::new(503),
        Some(2),
    )
    .await;
    answer(&server, "GET", OFFER_PATH, offer_ok(), None).await;
    let (client, clock) = client(&server);
    client
        .get_offer("contoso", "contoso-linux", OfferView::Draft)
        .await
        .unwrap();
    assert_eq!(calls_to(&server, "GET", OFFER_PATH).await, 3);
    assert_eq!(clock.sleeps().len(), 2, "one backoff wait per retry");
}

#[tokio::test]
async fn retries_stop_after_the_configured_count() {
    let server = server().await;
    answer(&server, "GET", OFFER_PATH, ResponseTemplate::new(500), None).await;
    let (client, _) = client(&server);
    let err = client
        .get_offer("contoso", "contoso-linux", OfferView::Draft)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transient);
    assert_eq!(err.status, Some(500));
    assert_eq!(
        calls_to(&server, "GET", OFFER_PATH).await,
        1 + retry().max_retries
    );
}

#[tokio::test]
async fn retry_after_seconds_and_dates_are_honoured() {
    let server = server().await;
    answer(
        &server,
        "GET",
        OFFER_PATH,
        ResponseTemplate::new(429).insert_header("Retry-After", "7"),
        Some(1),
    )
    .await;
    let (client, clock) = client(&server);
    let in_nine_seconds = httpdate::fmt_http_date(clock_now(&clock) + Duration::from_secs(9));
    answer(
        &server,
        "GET",
        OFFER_PATH,
        ResponseTemplate::new(503).insert_header("Retry-After", in_nine_seconds.as_str()),
        Some(1),
    )
    .await;
    answer(&server, "GET", OFFER_PATH, offer_ok(), None).await;
    client
        .get_offer("contoso", "contoso-linux", OfferView::Draft)
        .await
        .unwrap();
    let sleeps = clock.sleeps();
    assert_eq!(sleeps[0], Duration::from_secs(7));
    // The date was 9 s ahead when made; 7 s have passed on the client's clock since, within a second's rounding.
    assert!(
        sleeps[1] <= Duration::from_secs(2) && sleeps[1] >= Duration::from_secs(1),
        "{sleeps:?}"
    );
}

fn clock_now(clock: &shared::clock::ManualClock) -> SystemTime {
    use shared::clock::Clock;
    clock.now()
}

#[tokio::test]
async fn throttling_that_outlasts_the_budget_is_reported_as_throttled() {
    let server = server().await;
    answer(
        &server,
        "GET",
        OFFER_PATH,
        ResponseTemplate::new(429).insert_header("Retry-After", "3600"),
        None,
    )
    .await;
    let (client, clock) = client(&server);
    let err = client
        .get_offer("contoso", "contoso-linux", OfferView::Draft)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Throttled);
    assert_eq!(
        calls_to(&server, "GET", OFFER_PATH).await,
        1,
        "an hour's wait does not fit a 60 s budget"
    );
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn the_budget_bounds_the_total_wait() {
    let server = server().await;
    answer(
        &server,
        "GET",
        OFFER_PATH,
        ResponseTemplate::new(503).insert_header("Retry-After", "25"),
        None,
    )
    .await;
    let (client, clock) = client(&server);
    client
        .get_offer("contoso", "contoso-linux", OfferView::Draft)
        .await
        .unwrap_err();
    assert_eq!(
        clock.sleeps(),
        [Duration::from_secs(25), Duration::from_secs(25)],
        "a third 25 s wait would pass 60 s"
    );
}

#[tokio::test]
async fn publish_is_not_resent_after_a_server_error_or_a_throttle() {
    for status in [500, 503, 429] {
        let server = server().await;
        answer(
            &server,
            "POST",
            format!("{OFFER_PATH}/publish"),
            ResponseTemplate::new(status),
            None,
        )
        .await;
        let (client, _) = client(&server);
        let err = client
            .publish("contoso", "contoso-linux", "a@contoso.com")
            .await
            .unwrap_err();
        assert_eq!(err.status, Some(status));
        assert_eq!(
            calls_to(&server, "POST", "/publish").await,
            1,
            "status {status}"
        );
    }
}

#[tokio::test]
async fn a_timed_out_go_live_is_not_resent_but_a_timed_out_get_is() {
    let server = server().await;
    let slow = ResponseTemplate::new(202)
        .insert_header("Location", "/x")
        .set_delay(Duration::from_secs(5));
    answer(&server, "POST", format!("{OFFER_PATH}/golive"), slow, None).await;
    answer(
        &server,
        "GET",
        OFFER_PATH,
        offer_ok().set_delay(Duration::from_secs(5)),
        Some(1),
    )
    .await;
    answer(&server, "GET", OFFER_PATH, offer_ok(), None).await;
    let (client, _) = client(&server);
    let err = client
        .go_live("contoso", "contoso-linux")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transient);
    assert!(err.to_string().contains("may have been received"), "{err}");
    assert_eq!(calls_to(&server, "POST", "/golive").await, 1);
    client
        .get_offer("contoso", "contoso-linux", OfferView::Draft)
        .await
        .unwrap();
    assert_eq!(calls_to(&server, "GET", OFFER_PATH).await, 2);
}

#[tokio::test]
async fn a_conditional_put_is_retried() {
    let server = server().await;
    answer(&server, "GET", OFFER_PATH, offer_ok(), None).await;
    answer(
        &server,
        "PUT",
        OFFER_PATH,
        ResponseTemplate::new(502),
        Some(1),
    )
    .await;
    answer(&server, "PUT", OFFER_PATH, offer_ok(), None).await;
    let (client, _) = client(&server);
    let offer = client
        .get_offer("contoso", "contoso-linux", OfferView::Draft)
        .await
        .unwrap();
    client.put_offer("contoso", &offer).await.unwrap();
    assert_eq!(calls_to(&server, "PUT", OFFER_PATH).await, 2);
}

#[tokio::test]
async fn an_unreachable_host_is_retried_even_for_a_post_and_then_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener); // nothing listens there now
    let clock = std::sync::Arc::new(shared::clock::ManualClock::starting_now());
    let client = client_with(&base, SECRET, clock.clone());
    let err = client
        .publish("contoso", "contoso-linux", "")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transient);
    assert!(err.to_string().contains("was not sent"), "{err}");
    assert_eq!(
        clock.sleeps().len(),
        retry().max_retries,
        "the token request was retried while it could not connect"
    );
}
