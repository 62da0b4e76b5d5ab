//! The `/_emulator` control API over HTTP (used by the end-to-end harness).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Harness, OFFER, PLAN_IMAGES, start, with_image};
use cpp_emulator::default_offer;

async fn control(
    h: &Harness,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = h.http.request(method, h.url(&format!("/_emulator{path}")));
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn seeds_and_reads_offers() {
    let h = start().await;
    let mut doc = with_image(default_offer(), "2.0.0");
    doc["publisherId"] = json!("fabrikam");
    let response = control(&h, reqwest::Method::POST, "/offers", Some(doc.clone())).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers().contains_key("etag"));

    let state: Value = control(
        &h,
        reqwest::Method::GET,
        "/offers/fabrikam/contosovirtualmachine",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(
        state["draft"]["definition"]["plans"][0][PLAN_IMAGES]
            .get("2.0.0")
            .is_some()
    );
    assert_eq!(state["preview"], Value::Null);
    assert_eq!(state["production"], Value::Null);
    assert!(state["eTag"].as_str().unwrap().starts_with("W/"));
    assert_eq!(state["versions"], json!([]));

    let missing = control(&h, reqwest::Method::GET, "/offers/fabrikam/nope", None).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let bad = control(
        &h,
        reqwest::Method::POST,
        "/offers",
        Some(json!({"id": "x"})),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn moves_and_scales_the_clock() {
    let h = start().await;
    let before: Value = control(&h, reqwest::Method::GET, "/clock", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before["scale"], 0.0);
    let after: Value = control(
        &h,
        reqwest::Method::POST,
        "/clock",
        Some(json!({"advanceSeconds": 86400})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        after["unixSeconds"].as_i64().unwrap() - before["unixSeconds"].as_i64().unwrap(),
        86_400
    );
    assert_eq!(
        h.emu.now().unix_timestamp(),
        after["unixSeconds"].as_i64().unwrap()
    );

    let scaled: Value = control(
        &h,
        reqwest::Method::POST,
        "/clock",
        Some(json!({"scale": 60.0})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(scaled["scale"], 60.0);
    let back = control(
        &h,
        reqwest::Method::POST,
        "/clock",
        Some(json!({"advanceSeconds": -1})),
    )
    .await;
    assert_eq!(back.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn fails_an_operation_step() {
    let h = start().await;
    let publish = h.publish().await;
    let body = json!({
        "publisherId": "contoso",
        "offerId": "contosovirtualmachine",
        "stepId": "displaydummycertify",
        "messageHtml": "Bad <b>settings</b>."
    });
    let response = control(&h, reqwest::Method::POST, "/operations/fail", Some(body)).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let op = h.follow(&publish).await;
    assert_eq!(op["status"], "failed");
    assert_eq!(
        op["steps"][0]["messages"][0]["messageHtml"],
        "Bad <b>settings</b>."
    );

    let unknown = json!({"publisherId": "contoso", "offerId": "contosovirtualmachine", "stepId": "nope", "messageHtml": ""});
    let response = control(&h, reqwest::Method::POST, "/operations/fail", Some(unknown)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn adds_lists_and_clears_faults_in_the_documented_json_shape() {
    let h = start().await;
    let fault = json!({"method": "GET", "pathContains": "/status", "times": 1, "action": {"status": 503, "retryAfter": "2"}});
    let response = control(&h, reqwest::Method::POST, "/faults", Some(fault.clone())).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let listed: Value = control(&h, reqwest::Method::GET, "/faults", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([fault]));
    assert_eq!(
        h.get(&format!("{OFFER}/status")).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );

    for action in [
        json!({"delayMs": 10}),
        json!({"drop": "beforeHandling"}),
        json!({"drop": "afterHandling"}),
        json!({"concurrentWrite": {"pointer": "/definition/offer", "patch": {"k": "v"}}}),
    ] {
        let fault = json!({"pathContains": "/never-called", "action": action});
        let response = control(&h, reqwest::Method::POST, "/faults", Some(fault)).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{action}");
        let echoed: Value = response.json().await.unwrap();
        assert_eq!(echoed["action"], action, "stored as sent");
        assert_eq!(echoed["times"], 1, "times defaults to 1");
        assert_eq!(echoed["method"], Value::Null);
    }
    let ambiguous = json!({"pathContains": "", "action": {"status": 500, "drop": "afterHandling"}});
    let response = control(&h, reqwest::Method::POST, "/faults", Some(ambiguous)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let response = control(&h, reqwest::Method::DELETE, "/faults", None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let listed: Value = control(&h, reqwest::Method::GET, "/faults", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn reads_and_clears_the_request_log_which_skips_control_calls() {
    let h = start().await;
    h.get(OFFER).await;
    let log: Value = control(&h, reqwest::Method::GET, "/requests", None)
        .await
        .json()
        .await
        .unwrap();
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 2, "token + GET: {log:?}");
    assert_eq!(log[1]["method"], "GET");
    assert_eq!(log[1]["path"], OFFER);
    assert_eq!(log[1]["status"], 200);
    assert_eq!(log[1]["hasBearer"], true);
    assert_eq!(log[1]["ifMatch"], Value::Null);

    let response = control(&h, reqwest::Method::DELETE, "/requests", None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(h.emu.requests().is_empty());
}

#[tokio::test]
async fn revokes_tokens() {
    let h = start().await;
    assert_eq!(h.get(OFFER).await.status(), StatusCode::OK);
    let response = control(&h, reqwest::Method::POST, "/tokens/revoke", None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(h.get(OFFER).await.status(), StatusCode::UNAUTHORIZED);
}
