//! Azure AD v1 client-credentials tokens on the virtual clock, and the checks every `/api` call passes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::app::App;
use crate::error::ApiError;

pub(crate) const RESOURCE: &str = "https://cloudpartner.azure.com";
const API_VERSIONS: [&str; 2] = ["2017-10-31", "2016-08-01-preview"];

/// Issued access tokens and their expiry (virtual time).
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    issued: HashMap<String, OffsetDateTime>,
    /// Every token ever issued, revoked ones too, for tests that check a client never shows one.
    history: Vec<String>,
}

pub(crate) struct Issued {
    pub token: String,
    pub expires_in: u64,
    pub expires_on: OffsetDateTime,
}

impl Tokens {
    /// AAD reports one second less than the lifetime (3600 -> "3599"); the token expires then.
    pub(crate) fn issue(&mut self, now: OffsetDateTime, lifetime: Duration) -> Issued {
        let expires_in = lifetime.as_secs().saturating_sub(1);
        let expires_on = now + Duration::from_secs(expires_in);
        let token = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
        self.issued.insert(token.clone(), expires_on);
        self.history.push(token.clone());
        Issued {
            token,
            expires_in,
            expires_on,
        }
    }

    pub(crate) fn is_valid(&self, token: &str, now: OffsetDateTime) -> bool {
        self.issued.get(token).is_some_and(|expires| now < *expires)
    }

    pub(crate) fn revoke_all(&mut self) {
        self.issued.clear();
    }

    pub(crate) fn history(&self) -> Vec<String> {
        self.history.clone()
    }
}

fn aad_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// The clock tokens are issued and checked on (`tokens_on_real_clock`).
fn token_clock(app: &App) -> OffsetDateTime {
    if app.config.tokens_on_real_clock {
        OffsetDateTime::now_utc()
    } else {
        app.clock.now()
    }
}

/// POST /{tenant}/oauth2/token (any tenant): the AAD v1 shape, numbers as strings.
pub(crate) async fn token(
    State(app): State<Arc<App>>,
    Path(_tenant): Path<String>,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    let config = &app.config;

    if field("grant_type") != "client_credentials" {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "AADSTS70003: The app requested an unsupported grant type. Use client_credentials.",
        );
    }
    if field("client_id") != config.client_id || field("client_secret") != config.client_secret {
        return aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
        );
    }
    let resource = field("resource");
    if resource.trim_end_matches('/') != RESOURCE {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            &format!(
                "AADSTS500011: The resource principal named {resource} was not found in the tenant."
            ),
        );
    }

    let now = token_clock(&app);
    let issued = app.tokens().issue(now, config.token_lifetime);
    let body = json!({
        "token_type": "Bearer",
        "expires_in": issued.expires_in.to_string(),
        "ext_expires_in": issued.expires_in.to_string(),
        "expires_on": issued.expires_on.unix_timestamp().to_string(),
        "not_before": now.unix_timestamp().to_string(),
        "resource": RESOURCE,
        "access_token": issued.token,
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Bearer token first (401), then api-version (400), like a gateway in front of the API.
pub(crate) async fn require_auth(
    State(app): State<Arc<App>>,
    request: Request,
    next: Next,
) -> Response {
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    let Some(token) = bearer else {
        return ApiError::unauthorized("Authorization header with a Bearer token is required.")
            .into_response();
    };
    if !app.tokens().is_valid(token, token_clock(&app)) {
        return ApiError::unauthorized("The access token is invalid or has expired.")
            .into_response();
    }

    let version = request.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "api-version")
            .map(|(_, v)| v.into_owned())
    });
    if !version.is_some_and(|v| API_VERSIONS.contains(&v.as_str())) {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidAPIVersion",
            "Invalid api version. Allowed values are [2016-08-01-preview, 2017-10-31]",
        )
        .into_response();
    }
    next.run(request).await
}
