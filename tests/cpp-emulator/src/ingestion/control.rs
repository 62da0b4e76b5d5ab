//! `/_emulator/ingestion/*`: seed products, read their full state, arm certification failures and
//! change the settings (no auth).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::settings::SettingsWire;
use crate::app::App;
use crate::error::ApiError;
use crate::routes::parse_json;

pub(crate) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/products", post(seed_product))
        .route("/products/{external_id}", get(product_state))
        .route("/certification/fail", post(fail_certification))
        .route("/settings", get(settings).post(change_settings))
}

/// `?published=true`: the product is seeded live and in preview, as its draft.
#[derive(Debug, Default, Deserialize)]
struct SeedOptions {
    #[serde(default)]
    published: bool,
}

async fn seed_product(
    State(app): State<Arc<App>>,
    Query(options): Query<SeedOptions>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let doc: Value = parse_json(&body)?;
    let id = app
        .seed_product(&doc, options.published)
        .map_err(ApiError::bad_request)?;
    Ok((StatusCode::CREATED, Json(json!({ "productId": id }))).into_response())
}

async fn product_state(
    State(app): State<Arc<App>>,
    Path(external_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    app.ingestion_state(&external_id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("No product with externalId '{external_id}'.")))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FailCertification {
    external_id: String,
    #[serde(default = "one")]
    times: u32,
}

fn one() -> u32 {
    1
}

async fn fail_certification(
    State(app): State<Arc<App>>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let request: FailCertification = parse_json(&body)?;
    app.arm_certification_failure(&request.external_id, request.times)
        .map_err(ApiError::not_found)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn settings(State(app): State<Arc<App>>) -> Json<SettingsWire> {
    Json(SettingsWire::from(&app.ingestion().settings))
}

async fn change_settings(
    State(app): State<Arc<App>>,
    body: Bytes,
) -> Result<Json<SettingsWire>, ApiError> {
    let change: SettingsWire = parse_json(&body)?;
    let mut pi = app.ingestion();
    change
        .merge_into(&mut pi.settings)
        .map_err(ApiError::bad_request)?;
    Ok(Json(SettingsWire::from(&pi.settings)))
}
