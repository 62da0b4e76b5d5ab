//! The outer middleware: records every API/token request and applies injected faults.

use std::sync::Arc;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::sync::Notify;

use crate::app::App;
use crate::error::code_for;
use crate::faults::FaultAction;

/// Largest request body the emulator reads (offer documents are far smaller).
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// One request as the emulator saw it. Bearer tokens and client secrets are never recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    /// 0 when no response was sent (dropped connection, or the client gave up first).
    pub status: u16,
    pub if_match: Option<String>,
    pub has_bearer: bool,
    /// JSON body; form bodies as an object of their fields without `client_secret` or
    /// `client_assertion` (credentials both).
    pub body: Option<Value>,
    /// The injected fault that hit this request, e.g. `status 503`, `dropAfterHandling`.
    pub fault: Option<String>,
}

/// Entries keep an id so a response can fill in its status even after other requests arrived.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    next_id: u64,
    entries: Vec<(u64, LoggedRequest)>,
}

impl RequestLog {
    fn start(&mut self, entry: LoggedRequest) -> u64 {
        self.next_id += 1;
        self.entries.push((self.next_id, entry));
        self.next_id
    }

    fn finish(&mut self, id: u64, status: u16) {
        if let Some((_, entry)) = self.entries.iter_mut().find(|(i, _)| *i == id) {
            entry.status = status;
        }
    }

    pub(crate) fn entries(&self) -> Vec<LoggedRequest> {
        self.entries.iter().map(|(_, e)| e.clone()).collect()
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }
}

/// Per-connection signal asking the accept loop to close the connection without answering.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnAbort(pub Arc<Notify>);

fn loggable_body(path: &str, headers: &HeaderMap, body: &Bytes) -> Option<Value> {
    if body.is_empty() {
        return None;
    }
    // The token endpoints are always read as forms, so a client_secret can never be logged.
    let is_form = path.ends_with("/oauth2/token")
        || path.ends_with("/oauth2/v2.0/token")
        || headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        let fields: Map<String, Value> = url::form_urlencoded::parse(body)
            .filter(|(k, _)| k != "client_secret" && k != "client_assertion")
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        return Some(Value::Object(fields));
    }
    Some(
        serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned())),
    )
}

fn fault_response(status: u16, retry_after: Option<String>, body: Option<Value>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = body.unwrap_or_else(|| {
        json!({ "error": { "code": code_for(status), "message": "Injected fault: we cannot complete the request now, please try again later." } })
    });
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Closes the connection (via the accept loop) and never answers.
async fn drop_connection(abort: Option<ConnAbort>) -> Response {
    if let Some(ConnAbort(notify)) = abort {
        notify.notify_one();
        std::future::pending::<()>().await;
    }
    // Only reached without a real connection (e.g. a router called in-process).
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}

pub(crate) async fn observe(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if path.starts_with("/_emulator") {
        return next.run(request).await;
    }
    let method = request.method().to_string();
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let fault = app.faults().take(&method, &path);
    let entry = LoggedRequest {
        method: method.clone(),
        path: path.clone(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        status: 0,
        if_match: parts
            .headers
            .get(header::IF_MATCH)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
        has_bearer: parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("bearer ")),
        body: loggable_body(&path, &parts.headers, &bytes),
        fault: fault.as_ref().map(FaultAction::describe),
    };
    let id = app.log().start(entry);
    let abort = parts.extensions.get::<ConnAbort>().cloned();
    let request = Request::from_parts(parts, Body::from(bytes));

    let response = match fault {
        None => next.run(request).await,
        Some(FaultAction::Status {
            status,
            retry_after,
            body,
        }) => fault_response(status, retry_after, body),
        Some(FaultAction::Delay { by }) => {
            tokio::time::sleep(by).await;
            next.run(request).await
        }
        Some(FaultAction::ConcurrentWrite { pointer, patch }) => {
            match app.concurrent_write(&path, &pointer, &patch) {
                Ok(()) => {
                    tracing::debug!(%method, %path, %pointer, "fault: another writer changed the offer")
                }
                Err(error) => {
                    tracing::warn!(%method, %path, %error, "fault: concurrent write not applied")
                }
            }
            next.run(request).await
        }
        Some(FaultAction::DropBeforeHandling) => {
            tracing::debug!(%method, %path, "fault: dropping the connection before handling");
            return drop_connection(abort).await;
        }
        Some(FaultAction::DropAfterHandling) => {
            let handled = next.run(request).await;
            tracing::debug!(%method, %path, status = handled.status().as_u16(), "fault: dropping the connection after handling");
            return drop_connection(abort).await;
        }
    };
    tracing::debug!(%method, %path, status = response.status().as_u16(), "request");
    app.log().finish(id, response.status().as_u16());
    response
}
