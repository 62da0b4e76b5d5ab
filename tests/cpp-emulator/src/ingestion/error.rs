//! Product Ingestion's error shape: `{"error":{"code":"badRequest","message","details":[..]}}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<Value>,
}

impl PiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "badRequest", message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "notFound", message)
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// The synchronous configure rejection (§7.4(i)): one `schemaValidationError` detail.
    pub(crate) fn schema(schema: &str, what: &str) -> Self {
        Self::bad_request("Invalid configuration: schema validation failed").with_detail(
            "schemaValidationError",
            format!("Schema validation failed for schema {schema}: {what}"),
        )
    }

    /// A `$schema` on the retired host: the server cannot fetch it (Q9).
    pub(crate) fn unreachable_schema(schema: &str) -> Self {
        let message = format!("Schema {schema} could not be accessed");
        Self::bad_request(message.clone()).with_detail("schemaValidationError", message)
    }

    pub(crate) fn with_detail(mut self, code: &str, message: impl Into<String>) -> Self {
        self.details
            .push(json!({ "code": code, "message": message.into() }));
        self
    }
}

impl IntoResponse for PiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if !self.details.is_empty() {
            error["details"] = Value::Array(self.details);
        }
        let mut response = (self.status, axum::Json(json!({ "error": error }))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
