//! Publish, go-live, cancel, and reading operations (submissions, by id, by legacy key, status).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{accepted, parse_json};
use crate::app::App;
use crate::error::ApiError;
use crate::publishing::Started;

type OfferPath = Path<(String, String)>;

/// `{"metadata":{"notification-emails":"a@b.com,c@d.com"}}`; an empty body is accepted.
fn notification_emails(body: &Bytes) -> Result<String, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(String::new());
    }
    let value: Value = parse_json(body)?;
    Ok(match value.pointer("/metadata/notification-emails") {
        Some(Value::String(emails)) => emails.clone(),
        // Lenient: a list of addresses is joined the way CPP stores it.
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(","),
        _ => String::new(),
    })
}

pub(super) async fn publish(
    State(app): State<Arc<App>>,
    Path((publisher, offer_id)): OfferPath,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (mut store, now) = app.settled();
    store.offer(&publisher, &offer_id)?;
    let emails = notification_emails(&body)?;
    let ticks = store.next_ticks(now);
    let offer = store.offer_mut(&publisher, &offer_id)?;
    let started = offer.publish(emails, now, ticks, &app.config)?;
    let op = &offer.ops[started.index()];
    if let Started::New(_) = started {
        tracing::info!(%publisher, offer = %offer_id, operation_id = %op.id, "publish started");
    }
    Ok(accepted(
        &app,
        &op.location(&publisher, &offer_id, app.config.location_style),
    ))
}

pub(super) async fn go_live(
    State(app): State<Arc<App>>,
    Path((publisher, offer_id)): OfferPath,
) -> Result<Response, ApiError> {
    let (mut store, now) = app.settled();
    store.offer(&publisher, &offer_id)?;
    let ticks = store.next_ticks(now);
    let offer = store.offer_mut(&publisher, &offer_id)?;
    let started = offer.go_live(now, ticks, &app.config)?;
    let op = &offer.ops[started.index()];
    if let Started::New(_) = started {
        tracing::info!(%publisher, offer = %offer_id, operation_id = %op.id, "go-live started");
    }
    Ok(accepted(
        &app,
        &op.location(&publisher, &offer_id, app.config.location_style),
    ))
}

pub(super) async fn cancel(
    State(app): State<Arc<App>>,
    Path((publisher, offer_id)): OfferPath,
) -> Result<Response, ApiError> {
    let (mut store, now) = app.settled();
    let offer = store.offer_mut(&publisher, &offer_id)?;
    match offer.cancel(now, &app.config) {
        Some(index) => {
            let op = &offer.ops[index];
            tracing::info!(%publisher, offer = %offer_id, operation_id = %op.id, "cancel requested");
            Ok(accepted(
                &app,
                &op.location(&publisher, &offer_id, app.config.location_style),
            ))
        }
        None => Ok(StatusCode::OK.into_response()),
    }
}

pub(super) async fn submissions(
    State(app): State<Arc<App>>,
    Path((publisher, offer_id)): OfferPath,
    Query(query): Query<HashMap<String, String>>,
) -> Result<axum::Json<Value>, ApiError> {
    // The docs say `status=`, pub sends `submissionState=`: honour either.
    let filter = query
        .get("status")
        .or_else(|| query.get("submissionState"))
        .filter(|f| !f.is_empty());
    let (store, now) = app.settled();
    let offer = store.offer(&publisher, &offer_id)?;
    let list = offer
        .views_newest_first(now, &app.config)
        .into_iter()
        .filter(|(_, view)| filter.is_none_or(|f| f.eq_ignore_ascii_case(&view.status)))
        .map(|(op, view)| op.submission_json(&publisher, &offer_id, &view))
        .collect();
    Ok(axum::Json(Value::Array(list)))
}

pub(super) async fn operation(
    State(app): State<Arc<App>>,
    Path((publisher, offer_id, id)): Path<(String, String, String)>,
) -> Result<axum::Json<Value>, ApiError> {
    let (store, now) = app.settled();
    let offer = store.offer(&publisher, &offer_id)?;
    let op = offer
        .op(&id)
        .ok_or_else(|| ApiError::not_found(format!("Operation '{id}' was not found.")))?;
    Ok(axum::Json(op.detail_json(&op.view(now, &app.config))))
}

/// `/api/operations/{publisher}${offer}${publishingVersion}$preview`, the non-migrated location.
pub(super) async fn legacy_operation(
    State(app): State<Arc<App>>,
    Path(key): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let not_found = || ApiError::not_found(format!("Operation '{key}' was not found."));
    let parts: Vec<&str> = key.split('$').collect();
    let [publisher, offer_id, version, suffix] = parts[..] else {
        return Err(not_found());
    };
    let version: u64 = version.parse().map_err(|_| not_found())?;
    let (store, now) = app.settled();
    let offer = store.offer(publisher, offer_id)?;
    let op = offer
        .ops
        .iter()
        .rev()
        .find(|op| op.matches_legacy(version, suffix))
        .ok_or_else(not_found)?;
    Ok(axum::Json(op.detail_json(&op.view(now, &app.config))))
}

pub(super) async fn status(
    State(app): State<Arc<App>>,
    Path((publisher, offer_id)): OfferPath,
) -> Result<axum::Json<Value>, ApiError> {
    let (store, now) = app.settled();
    let offer = store.offer(&publisher, &offer_id)?;
    let body = match offer.latest() {
        Some(op) => op.status_json(&op.view(now, &app.config)),
        None => json!({
            "status": "neverPublished",
            "messages": [],
            "steps": [],
            "previewLinks": [],
            "liveLinks": [],
        }),
    };
    Ok(axum::Json(body))
}
