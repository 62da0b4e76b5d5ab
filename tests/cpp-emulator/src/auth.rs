//! Azure AD client-credentials tokens (v1 and v2) on the virtual clock, each for one audience, and
//! the checks every `/api` (CPP) and `/rp/product-ingestion` call passes.

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
use crate::federation::credentials::check;
use crate::federation::jwt::Signer;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
use crate::error::ApiError;
use crate::ingestion::error::PiError;
use crate::ingestion::{PI_RESOURCE, PI_SCOPE};

pub(crate) const RESOURCE: &str = "https://cloudpartner.azure.com";
const CPP_SCOPE: &str = "https://cloudpartner.azure.com/.default";

/// The API a token was issued for; a token for one is refused by the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Audience {
    CloudPartner,
    Graph,
}

impl Audience {
    /// v1 `resource` (a trailing slash is accepted, as AAD does).
    fn from_resource(resource: &str) -> Option<Self> {
        match resource.trim_end_matches('/') {
            RESOURCE => Some(Self::CloudPartner),
            PI_RESOURCE => Some(Self::Graph),
            _ => None,
        }
    }

    /// v2 `scope`: exactly one `{resource}/.default`.
    fn from_scope(scope: &str) -> Option<Self> {
        match scope.trim() {
            CPP_SCOPE => Some(Self::CloudPartner),
            PI_SCOPE => Some(Self::Graph),
            _ => None,
        }
    }

    fn resource(self) -> &'static str {
        match self {
            Self::CloudPartner => RESOURCE,
            Self::Graph => PI_RESOURCE,
        }
    }
}
const API_VERSIONS: [&str; 2] = ["2017-10-31", "2016-08-01-preview"];

/// Issued access tokens with their expiry (virtual time) and audience.
#[derive(Default)]
pub(crate) struct Tokens {
    issued: HashMap<String, (OffsetDateTime, Audience)>,
    /// Every token ever issued, revoked ones too, for tests that check a client never shows one.
    history: Vec<String>,
}

pub(crate) struct Issued {
    pub token: String,
    pub expires_in: u64,
    pub expires_on: OffsetDateTime,
}

/// Counts only: a token must never reach a log through `{:?}` of the emulator.
impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("active", &self.issued.len())
            .field("issued", &self.history.len())
            .finish()
    }
}

/// Why a bearer token is refused.
pub(crate) enum Refusal {
    Invalid,
    WrongAudience,
}

impl Tokens {
    /// AAD reports one second less than the lifetime (3600 -> "3599"); the token expires then.
    pub(crate) fn issue(
        &mut self,
        now: OffsetDateTime,
        lifetime: Duration,
        audience: Audience,
    ) -> Issued {
        let expires_in = lifetime.as_secs().saturating_sub(1);
        let expires_on = now + Duration::from_secs(expires_in);
        let token = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
        self.issued.insert(token.clone(), (expires_on, audience));
        self.history.push(token.clone());
        Issued {
            token,
            expires_in,
            expires_on,
        }
    }

    pub(crate) fn check(
        &self,
        token: &str,
        now: OffsetDateTime,
        audience: Audience,
    ) -> Result<(), Refusal> {
        match self.issued.get(token) {
            Some((expires, _)) if now >= *expires => Err(Refusal::Invalid),
            Some((_, issued_for)) if *issued_for != audience => Err(Refusal::WrongAudience),
            Some(_) => Ok(()),
            None => Err(Refusal::Invalid),
        }
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
pub(crate) fn token_clock(app: &App) -> OffsetDateTime {
    if app.config.tokens_on_real_clock {
        OffsetDateTime::now_utc()
    } else {
        app.clock.now()
    }
}

/// The form of a token request, with the checks both versions share (grant type, credentials).
fn read_form(app: &App, body: &Bytes) -> Result<HashMap<String, String>, Box<Response>> {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    if field("grant_type") != "client_credentials" {
        return Err(Box::new(aad_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "AADSTS70003: The app requested an unsupported grant type. Use client_credentials.",
        )));
    }
    // A federated client assertion stands in for the secret (AWS outbound identity federation).
    if let Some(assertion) = form.get("client_assertion") {
        if field("client_assertion_type") != JWT_BEARER {
            return Err(Box::new(aad_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "AADSTS50027: client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
            )));
        }
        if field("client_id") != app.config.client_id {
            return Err(Box::new(aad_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized_client",
                "AADSTS700016: Application with identifier was not found in the directory.",
            )));
        }
        let federation = app.federation();
        let jwks = federation
            .signer
            .as_ref()
            .map(Signer::jwks)
            .unwrap_or_default();
        return match check(assertion, &jwks, &federation.credentials, token_clock(app)) {
            Ok(()) => Ok(form),
            Err(refused) => Err(Box::new(aad_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                &refused.description,
            ))),
        };
    }
    if field("client_id") != app.config.client_id
        || field("client_secret") != app.config.client_secret
    {
        return Err(Box::new(aad_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
        )));
    }
    Ok(form)
}

/// POST /{tenant}/oauth2/token (any tenant): the AAD v1 shape, numbers as strings.
pub(crate) async fn token(
    State(app): State<Arc<App>>,
    Path(_tenant): Path<String>,
    body: Bytes,
) -> Response {
    let form = match read_form(&app, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let resource = form.get("resource").map(String::as_str).unwrap_or("");
    let Some(audience) = Audience::from_resource(resource) else {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            &format!(
                "AADSTS500011: The resource principal named {resource} was not found in the tenant."
            ),
        );
    };

    let now = token_clock(&app);
    let issued = app.tokens().issue(now, app.config.token_lifetime, audience);
    let body = json!({
        "token_type": "Bearer",
        "expires_in": issued.expires_in.to_string(),
        "ext_expires_in": issued.expires_in.to_string(),
        "expires_on": issued.expires_on.unix_timestamp().to_string(),
        "not_before": now.unix_timestamp().to_string(),
        "resource": audience.resource(),
        "access_token": issued.token,
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// POST /{tenant}/oauth2/v2.0/token: `scope={resource}/.default`; numbers are numbers, no
/// `expires_on` or `resource`.
pub(crate) async fn token_v2(
    State(app): State<Arc<App>>,
    Path(_tenant): Path<String>,
    body: Bytes,
) -> Response {
    let form = match read_form(&app, &body) {
        Ok(form) => form,
        Err(response) => return *response,
    };
    let scope = form.get("scope").map(String::as_str).unwrap_or("");
    let Some(audience) = Audience::from_scope(scope) else {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &format!(
                "AADSTS70011: The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
            ),
        );
    };
    let now = token_clock(&app);
    let issued = app.tokens().issue(now, app.config.token_lifetime, audience);
    let body = json!({
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "ext_expires_in": issued.expires_in,
        "access_token": issued.token,
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn bearer(request: &Request) -> Option<&str> {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
}

/// Why a request's bearer token is refused for `audience`, in words for the error body.
fn refusal(app: &App, request: &Request, audience: Audience, resource: &str) -> Option<String> {
    let Some(token) = bearer(request) else {
        return Some("Authorization header with a Bearer token is required.".to_owned());
    };
    match app.tokens().check(token, token_clock(app), audience) {
        Ok(()) => None,
        Err(Refusal::Invalid) => Some("The access token is invalid or has expired.".to_owned()),
        Err(Refusal::WrongAudience) => {
            Some(format!("The access token's audience is not {resource}."))
        }
    }
}

/// Every Product Ingestion call: a valid Graph-audience token, else 401 in that API's error shape.
pub(crate) async fn require_graph_auth(
    State(app): State<Arc<App>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(why) = refusal(&app, &request, Audience::Graph, PI_RESOURCE) {
        return PiError::unauthorized(why).into_response();
    }
    next.run(request).await
}

/// Bearer token first (401), then api-version (400), like a gateway in front of the API.
pub(crate) async fn require_auth(
    State(app): State<Arc<App>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(why) = refusal(&app, &request, Audience::CloudPartner, RESOURCE) {
        return ApiError::unauthorized(why).into_response();
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
