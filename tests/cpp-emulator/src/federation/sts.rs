//! The STS stand-in: `GetWebIdentityToken` (AWS query protocol, XML answers) signing RS256 JWTs with
//! the documented claims, the issuer's discovery document and JWKS, and the controls over it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::credentials::FederatedCredential;
use super::jwt::Signer;
use super::{DEFAULT_CALLER_ROLE, ISSUER_PATH};
use crate::app::App;
use crate::error::ApiError;
use crate::routes::parse_json;

/// What the stand-in and Entra's side know.
#[derive(Debug)]
pub(crate) struct Federation {
    pub signer: Option<Signer>,
    /// Outbound identity federation is enabled in the (simulated) account.
    pub enabled: bool,
    /// Access key id -> the role ARN it signs requests as.
    pub callers: HashMap<String, String>,
    pub credentials: Vec<FederatedCredential>,
    /// Every JWT ever issued, for tests that check a client never shows one.
    pub issued: Vec<String>,
}

impl Default for Federation {
    fn default() -> Self {
        let signer = Signer::new()
            .inspect_err(|error| tracing::error!(%error, "no STS signing key"))
            .ok();
        Self {
            signer,
            enabled: true,
            callers: HashMap::new(),
            credentials: Vec::new(),
            issued: Vec::new(),
        }
    }
}

/// `{base}/sts-issuer`: the `iss` of the tokens.
pub(crate) fn issuer(app: &App) -> String {
    format!("{}{ISSUER_PATH}", app.base_url)
}

/// The STS endpoint (`AWS_ENDPOINT_URL_STS={base}/sts`) and the issuer's documents.
pub(crate) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/sts", post(get_web_identity_token))
        .route("/sts/", post(get_web_identity_token))
        .route(
            &format!("{ISSUER_PATH}/.well-known/openid-configuration"),
            get(discovery),
        )
        .route(&format!("{ISSUER_PATH}/.well-known/jwks.json"), get(jwks))
}

fn xml(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
}

fn sts_error(status: StatusCode, code: &str, message: &str) -> Response {
    let sender = if status.is_client_error() {
        "Sender"
    } else {
        "Receiver"
    };
    xml(
        status,
        format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>{sender}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            Uuid::new_v4()
        ),
    )
}

/// The access key of a SigV4 `Authorization: AWS4-HMAC-SHA256 Credential=AKID/date/region/sts/...`.
fn access_key(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let credential = auth.split("Credential=").nth(1)?;
    credential.split('/').next().map(str::to_owned)
}

async fn get_web_identity_token(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    if form.get("Action").map(String::as_str) != Some("GetWebIdentityToken") {
        return sts_error(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            "Only GetWebIdentityToken is served here.",
        );
    }
    let audiences: Vec<String> = (1..=10)
        .filter_map(|i| form.get(&format!("Audience.member.{i}")).cloned())
        .collect();
    let algorithm = form
        .get("SigningAlgorithm")
        .map(String::as_str)
        .unwrap_or("");
    let duration: u64 = form
        .get("DurationSeconds")
        .and_then(|d| d.parse().ok())
        .unwrap_or(300);
    if audiences.is_empty()
        || !matches!(algorithm, "RS256" | "ES384")
        || !(60..=3600).contains(&duration)
    {
        return sts_error(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            "Audience (1-10), SigningAlgorithm (RS256 or ES384) and DurationSeconds (60-3600) are required.",
        );
    }
    let now = crate::auth::token_clock(&app);
    let mut federation = app.federation();
    if !federation.enabled {
        return sts_error(
            StatusCode::FORBIDDEN,
            "OutboundWebIdentityFederationDisabledException",
            "Outbound web identity federation is disabled for this account.",
        );
    }
    if algorithm != "RS256" {
        return sts_error(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            "The stand-in signs RS256 only.",
        );
    }
    let role = access_key(&headers)
        .and_then(|key| federation.callers.get(&key).cloned())
        .unwrap_or_else(|| DEFAULT_CALLER_ROLE.to_owned());
    let account = role.split(':').nth(4).unwrap_or_default().to_owned();
    let expires = now + Duration::from_secs(duration);
    let claims = json!({
        "iss": issuer(&app), "sub": role, "aud": if audiences.len() == 1 { json!(audiences[0]) } else { json!(audiences) },
        "iat": now.unix_timestamp(), "nbf": now.unix_timestamp(), "exp": expires.unix_timestamp(),
        "jti": Uuid::new_v4().to_string(),
        "https://sts.amazonaws.com/": {"aws_account": account, "source_region": "eu-west-1"},
    });
    let Some(token) = federation
        .signer
        .as_ref()
        .and_then(|s| s.sign(&claims).ok())
    else {
        return sts_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            "The stand-in has no signing key.",
        );
    };
    federation.issued.push(token.clone());
    let expiration = expires.format(&Rfc3339).unwrap_or_default();
    xml(
        StatusCode::OK,
        format!(
            "<GetWebIdentityTokenResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetWebIdentityTokenResult><WebIdentityToken>{token}</WebIdentityToken><Expiration>{expiration}</Expiration></GetWebIdentityTokenResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></GetWebIdentityTokenResponse>",
            Uuid::new_v4()
        ),
    )
}

async fn discovery(State(app): State<Arc<App>>) -> Json<Value> {
    let issuer = issuer(&app);
    Json(
        json!({"issuer": issuer, "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"]}),
    )
}

async fn jwks(State(app): State<Arc<App>>) -> Json<Value> {
    Json(
        app.federation()
            .signer
            .as_ref()
            .map_or_else(|| json!({"keys": []}), Signer::jwks),
    )
}

/// `/_emulator/federation/*`: federated credentials, callers and whether federation is enabled.
pub(crate) fn control() -> Router<Arc<App>> {
    Router::new()
        .route(
            "/credentials",
            get(list_credentials)
                .post(add_credential)
                .delete(clear_credentials),
        )
        .route("/callers", post(add_caller))
        .route("/settings", post(change_settings))
}

async fn list_credentials(State(app): State<Arc<App>>) -> Json<Value> {
    Json(json!({"issuer": issuer(&app), "credentials": app.federation().credentials}))
}

async fn add_credential(State(app): State<Arc<App>>, body: Bytes) -> Result<StatusCode, ApiError> {
    let credential: FederatedCredential = parse_json(&body)?;
    app.federation().credentials.push(credential);
    Ok(StatusCode::CREATED)
}

async fn clear_credentials(State(app): State<Arc<App>>) -> StatusCode {
    app.federation().credentials.clear();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Caller {
    access_key_id: String,
    role_arn: String,
}

async fn add_caller(State(app): State<Arc<App>>, body: Bytes) -> Result<StatusCode, ApiError> {
    let caller: Caller = parse_json(&body)?;
    app.federation()
        .callers
        .insert(caller.access_key_id, caller.role_arn);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Settings {
    enabled: bool,
}

async fn change_settings(State(app): State<Arc<App>>, body: Bytes) -> Result<StatusCode, ApiError> {
    let settings: Settings = parse_json(&body)?;
    app.federation().enabled = settings.enabled;
    Ok(StatusCode::NO_CONTENT)
}
