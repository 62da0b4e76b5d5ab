//! `/_emulator/*`: the in-process controls over HTTP, for the end-to-end harness (no auth).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::app::App;
use crate::error::ApiError;
use crate::faults::Fault;
use crate::routes::{json_with_etag, parse_json};
use crate::timefmt::wire_time;

pub(crate) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/offers", post(seed_offer))
        .route("/offers/{publisher}/{offer}", get(offer_state))
        .route("/clock", get(clock).post(set_clock))
        .route("/operations/fail", post(fail_operation))
        .route(
            "/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/requests", get(requests).delete(clear_requests))
        .route("/tokens/revoke", post(revoke_tokens))
        .nest("/ingestion", crate::ingestion::control::router())
        .nest("/federation", crate::federation::sts::control())
}

async fn seed_offer(State(app): State<Arc<App>>, body: Bytes) -> Result<Response, ApiError> {
    let doc: Value = parse_json(&body)?;
    app.seed(doc.clone()).map_err(ApiError::bad_request)?;
    let (store, now) = app.settled();
    let publisher = doc.get("publisherId").and_then(Value::as_str).unwrap_or("");
    let offer_id = doc.get("id").and_then(Value::as_str).unwrap_or("");
    let offer = store.offer(publisher, offer_id)?;
    Ok(json_with_etag(
        StatusCode::CREATED,
        offer.render_draft(now, &app.config),
        &offer.etag,
    ))
}

/// `{"draft":..,"preview":..|null,"production":..|null,"eTag":"W/..","versions":[1,2]}`.
async fn offer_state(
    State(app): State<Arc<App>>,
    Path((publisher, offer_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (store, now) = app.settled();
    let offer = store.offer(&publisher, &offer_id)?;
    let slot = |name: &str| offer.render_slot(name, now, &app.config).ok().flatten();
    Ok(Json(json!({
        "draft": slot("draft"),
        "preview": slot("preview"),
        "production": slot("production"),
        "eTag": offer.etag,
        "versions": offer.versions.keys().collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ClockState {
    now: String,
    unix_seconds: i64,
    scale: f64,
}

fn clock_state(app: &App) -> Json<ClockState> {
    let now = app.clock.now();
    Json(ClockState {
        now: wire_time(now),
        unix_seconds: now.unix_timestamp(),
        scale: app.clock.scale(),
    })
}

async fn clock(State(app): State<Arc<App>>) -> Json<ClockState> {
    clock_state(&app)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClockChange {
    #[serde(default)]
    advance_seconds: Option<f64>,
    #[serde(default)]
    scale: Option<f64>,
}

async fn set_clock(State(app): State<Arc<App>>, body: Bytes) -> Result<Json<ClockState>, ApiError> {
    let change: ClockChange = parse_json(&body)?;
    if let Some(seconds) = change.advance_seconds {
        let by = Duration::try_from_secs_f64(seconds).map_err(|_| {
            ApiError::bad_request(
                "advanceSeconds must be a non-negative number (the clock never goes back).",
            )
        })?;
        app.clock.advance(by);
    }
    if let Some(scale) = change.scale {
        if !(scale.is_finite() && scale >= 0.0) {
            return Err(ApiError::bad_request(
                "scale must be a non-negative number.",
            ));
        }
        app.clock.set_scale(scale);
    }
    Ok(clock_state(&app))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FailRequest {
    publisher_id: String,
    offer_id: String,
    step_id: String,
    message_html: String,
}

async fn fail_operation(State(app): State<Arc<App>>, body: Bytes) -> Result<StatusCode, ApiError> {
    let request: FailRequest = parse_json(&body)?;
    app.fail_at_step(
        &request.publisher_id,
        &request.offer_id,
        &request.step_id,
        &request.message_html,
    )?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_faults(State(app): State<Arc<App>>) -> Json<Vec<Fault>> {
    Json(app.faults().list())
}

async fn add_fault(State(app): State<Arc<App>>, body: Bytes) -> Result<Response, ApiError> {
    let fault: Fault = parse_json(&body)?;
    app.faults().add(fault.clone());
    Ok((StatusCode::CREATED, Json(fault)).into_response())
}

async fn clear_faults(State(app): State<Arc<App>>) -> StatusCode {
    app.faults().clear();
    StatusCode::NO_CONTENT
}

async fn requests(State(app): State<Arc<App>>) -> Response {
    Json(app.requests()).into_response()
}

async fn clear_requests(State(app): State<Arc<App>>) -> StatusCode {
    app.log().clear();
    StatusCode::NO_CONTENT
}

async fn revoke_tokens(State(app): State<Arc<App>>) -> StatusCode {
    app.tokens().revoke_all();
    StatusCode::NO_CONTENT
}
