//! Injected faults and the request log.

use std::time::Duration;

use cpp_emulator::{Fault, FaultAction, LoggedRequest};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{OFFER, start, with_version};

fn fault(method: Option<&str>, path: &str, times: u32, action: FaultAction) -> Fault {
    Fault {
        method: method.map(str::to_owned),
        path_contains: path.to_owned(),
        times,
        action,
    }
}

#[tokio::test]
async fn status_fault_answers_instead_of_the_handler_for_the_given_times() {
    let h = start().await;
    h.emu.inject_fault(fault(
        Some("GET"),
        "/offers/contosovirtualmachine",
        2,
        FaultAction::Status {
            status: 503,
            retry_after: Some("2".into()),
            body: None,
        },
    ));
    for _ in 0..2 {
        let response = h.get(OFFER).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "2");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "ServiceUnavailable");
    }
    assert_eq!(h.get(OFFER).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn status_fault_can_carry_a_custom_body_and_skips_the_handler() {
    let h = start().await;
    let body = json!({"error": {"code": "InternalServerError", "message": "We cannot complete the request now, please try again later."}});
    h.emu.inject_fault(fault(
        Some("post"),
        "/publish",
        1,
        FaultAction::Status {
            status: 500,
            retry_after: None,
            body: Some(body.clone()),
        },
    ));
    let response = h.post(&format!("{OFFER}/publish"), None).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!response.headers().contains_key("retry-after"));
    assert_eq!(response.json::<Value>().await.unwrap(), body);
    assert!(
        h.submissions().await.is_empty(),
        "the publish was not applied"
    );
}

#[tokio::test]
async fn delay_fault_makes_a_client_time_out_then_clears() {
    let h = start().await;
    h.emu.inject_fault(fault(
        None,
        "/status",
        1,
        FaultAction::Delay {
            by: Duration::from_secs(5),
        },
    ));
    let error = h
        .http
        .get(h.url(&with_version(&format!("{OFFER}/status"))))
        .bearer_auth(h.token())
        .timeout(Duration::from_millis(100))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert_eq!(
        h.get(&format!("{OFFER}/status")).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn delay_fault_still_handles_the_request() {
    let h = start().await;
    h.emu.inject_fault(fault(
        None,
        "/status",
        1,
        FaultAction::Delay {
            by: Duration::from_millis(30),
        },
    ));
    let started = std::time::Instant::now();
    assert_eq!(
        h.get(&format!("{OFFER}/status")).await.status(),
        StatusCode::OK
    );
    assert!(started.elapsed() >= Duration::from_millis(30));
    assert_eq!(
        h.emu.requests().last().unwrap().fault.as_deref(),
        Some("delay 30ms")
    );
}

#[tokio::test]
async fn drop_before_handling_closes_the_connection_and_does_not_publish() {
    let h = start().await;
    h.emu.inject_fault(fault(
        Some("POST"),
        "/publish",
        1,
        FaultAction::DropBeforeHandling,
    ));
    let error = h
        .http
        .post(h.url(&with_version(&format!("{OFFER}/publish"))))
        .bearer_auth(h.token())
        .send()
        .await
        .unwrap_err();
    assert!(!error.is_timeout(), "{error}");
    assert!(h.submissions().await.is_empty());
    let logged = h
        .emu
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/publish"))
        .unwrap();
    assert_eq!(logged.status, 0);
    assert_eq!(logged.fault.as_deref(), Some("dropBeforeHandling"));
}

#[tokio::test]
async fn drop_after_handling_closes_the_connection_but_publishes() {
    let h = start().await;
    h.emu.inject_fault(fault(
        Some("POST"),
        "/publish",
        1,
        FaultAction::DropAfterHandling,
    ));
    let result = h
        .http
        .post(h.url(&with_version(&format!("{OFFER}/publish"))))
        .bearer_auth(h.token())
        .send()
        .await;
    assert!(result.is_err(), "no response expected");
    let list = h.submissions().await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["submissionState"], "running");
    let logged = h
        .emu
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/publish"))
        .unwrap();
    assert_eq!(
        (logged.status, logged.fault.as_deref()),
        (0, Some("dropAfterHandling"))
    );
}

#[tokio::test]
async fn cleared_faults_no_longer_apply() {
    let h = start().await;
    h.emu.inject_fault(fault(
        None,
        "",
        0,
        FaultAction::Status {
            status: 429,
            retry_after: None,
            body: None,
        },
    ));
    assert_eq!(h.get(OFFER).await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        h.get(OFFER).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "times 0 = until cleared"
    );
    h.emu.clear_faults();
    assert_eq!(h.get(OFFER).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn request_log_records_requests_without_secrets() {
    let h = start().await;
    let token_request = &h.emu.requests()[0];
    assert_eq!(token_request.method, "POST");
    assert_eq!(token_request.path, "/my-tenant/oauth2/token");
    assert_eq!(token_request.status, 200);
    let form = token_request.body.as_ref().unwrap();
    assert_eq!(form["client_id"], "emulator-client-id");
    assert_eq!(form["grant_type"], "client_credentials");
    assert!(form.get("client_secret").is_none());

    h.emu.clear_requests();
    assert!(h.emu.requests().is_empty());
    let doc = h.get_json(OFFER).await;
    h.put(OFFER, &doc, Some("*")).await;
    let log = h.emu.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(
        log[0],
        LoggedRequest {
            method: "GET".into(),
            path: OFFER.into(),
            query: "api-version=2017-10-31".into(),
            status: 200,
            if_match: None,
            has_bearer: true,
            body: None,
            fault: None,
        }
    );
    assert_eq!(log[1].method, "PUT");
    assert_eq!(log[1].if_match.as_deref(), Some("*"));
    assert_eq!(log[1].body.as_ref(), Some(&doc));
    let serialized = serde_json::to_string(&log).unwrap();
    assert!(
        !serialized.contains(&h.token()),
        "bearer tokens are never logged"
    );
    assert!(!serialized.contains("emulator-client-secret"));
}

#[tokio::test]
async fn concurrent_write_changes_the_draft_first_so_the_if_match_is_stale() {
    let h = start().await;
    let response = h.get(OFFER).await;
    let read_etag = crate::common::etag(&response);
    let mut ours: Value = response.json().await.unwrap();
    ours["definition"]["displayText"] = json!("our change");
    let theirs = json!({"microsoft-azure-marketplace.summary": "their change", "x-new": [1, 2]});
    h.emu.inject_fault(fault(
        Some("PUT"),
        "/offers/contosovirtualmachine",
        1,
        FaultAction::ConcurrentWrite {
            pointer: "/definition/offer".into(),
            patch: theirs,
        },
    ));

    let stale = h.put(OFFER, &ours, Some(&read_etag)).await;
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    let logged = h.emu.requests().into_iter().last().unwrap();
    assert_eq!(
        (logged.status, logged.fault.as_deref()),
        (412, Some("concurrentWrite /definition/offer"))
    );

    let reread = h.get(OFFER).await;
    let fresh_etag = crate::common::etag(&reread);
    assert_ne!(
        fresh_etag, read_etag,
        "the other writer's change has a new ETag"
    );
    let mut doc: Value = reread.json().await.unwrap();
    let offer = &doc["definition"]["offer"];
    assert_eq!(offer["microsoft-azure-marketplace.summary"], "their change");
    assert_eq!(offer["x-new"], json!([1, 2]));
    assert_eq!(
        offer["microsoft-azure-marketplace.title"],
        h.get_json(OFFER).await["definition"]["offer"]["microsoft-azure-marketplace.title"],
        "the rest of the document is kept"
    );
    assert_ne!(doc["definition"]["displayText"], "our change");

    doc["definition"]["displayText"] = json!("our change");
    let written = h.put(OFFER, &doc, Some(&fresh_etag)).await;
    assert_eq!(written.status(), StatusCode::OK, "used up after `times`");
    let both = h.get_json(OFFER).await;
    assert_eq!(both["definition"]["displayText"], "our change");
    assert_eq!(
        both["definition"]["offer"]["microsoft-azure-marketplace.summary"],
        "their change"
    );
}

#[tokio::test]
async fn concurrent_write_on_a_path_without_an_offer_changes_nothing() {
    let h = start().await;
    let before = h.get_json(OFFER).await;
    h.emu.inject_fault(fault(
        None,
        "/api/publishers",
        1,
        FaultAction::ConcurrentWrite {
            pointer: "/definition".into(),
            patch: json!({"x": 1}),
        },
    ));
    assert_eq!(h.get("/api/publishers").await.status(), StatusCode::OK);
    assert_eq!(h.get_json(OFFER).await, before);
}

#[tokio::test]
async fn issued_tokens_lists_every_token_even_revoked_ones() {
    let h = start().await;
    let first = h.token();
    h.emu.revoke_tokens();
    h.advance(Duration::ZERO).await;
    assert_eq!(h.emu.issued_tokens(), [first, h.token()]);
    let log = serde_json::to_string(&h.emu.requests()).unwrap();
    assert!(!log.contains(&h.token()), "still never in the request log");
}
