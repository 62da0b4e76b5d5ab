//! The HTTP surface: token endpoints, `/api` (CPP), `/rp/product-ingestion` (both authenticated)
//! and `/_emulator` (control).

mod offers;
mod operations;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::app::App;
use crate::error::ApiError;
use crate::ingestion::{self, PI_PREFIX};
use crate::{auth, control, observe};

pub(crate) fn router(app: Arc<App>) -> Router {
    let offer = "/api/publishers/{publisher}/offers/{offer}";
    let api = Router::new()
        .route("/api/publishers", get(offers::list_publishers))
        .route(
            "/api/publishers/{publisher}/offers",
            get(offers::list_offers),
        )
        .route(offer, get(offers::get_offer).put(offers::put_offer))
        .route(&format!("{offer}/slot/{{slot}}"), get(offers::get_slot))
        .route(
            &format!("{offer}/versions/{{version}}"),
            get(offers::get_version),
        )
        .route(&format!("{offer}/status"), get(operations::status))
        .route(&format!("{offer}/publish"), post(operations::publish))
        .route(&format!("{offer}/golive"), post(operations::go_live))
        .route(&format!("{offer}/cancel"), post(operations::cancel))
        // The docs and clients keep a trailing slash on some paths; accept both forms.
        .route(
            &format!("{offer}/submissions"),
            get(operations::submissions),
        )
        .route(
            &format!("{offer}/submissions/"),
            get(operations::submissions),
        )
        .route(
            &format!("{offer}/operations/{{id}}"),
            get(operations::operation),
        )
        .route(
            &format!("{offer}/operations/{{id}}/"),
            get(operations::operation),
        )
        .route("/api/operations/{key}", get(operations::legacy_operation))
        .route("/api/operations/{key}/", get(operations::legacy_operation))
        .route_layer(from_fn_with_state(app.clone(), auth::require_auth));

    Router::new()
        .route("/{tenant}/oauth2/token", post(auth::token))
        .route("/{tenant}/oauth2/v2.0/token", post(auth::token_v2))
        .merge(api)
        .merge(crate::federation::sts::router())
        .nest(PI_PREFIX, ingestion::routes::router(app.clone()))
        .nest("/_emulator", control::router())
        .fallback(not_found)
        .layer(from_fn_with_state(app.clone(), observe::observe))
        .with_state(app)
}

async fn not_found() -> ApiError {
    ApiError::not_found("The requested resource was not found.")
}

/// Decodes a JSON body, answering with a CPP error body instead of axum's plain-text rejection.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("The request body is not valid: {e}")))
}

/// A JSON response carrying the offer's ETag header (never the body).
pub(crate) fn json_with_etag(status: StatusCode, body: Value, etag: &str) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// 202 with an empty body and both documented location headers (relative and absolute).
pub(crate) fn accepted(app: &App, location: &str) -> Response {
    let mut response = StatusCode::ACCEPTED.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("{}{location}", app.base_url)) {
        headers.insert("operation-location", value);
    }
    response
}
