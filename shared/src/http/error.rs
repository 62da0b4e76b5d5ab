//! Errors from a Microsoft API, with a kind to match on and Microsoft's own code and message kept.

use std::fmt;

use serde::Deserialize;

use crate::redact::redact_sas;

pub use crate::failure::ErrorKind;

/// One failed call. Its text never holds a token, a secret or a SAS signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ErrorKind,
    /// Which API answered: `CPP`, `Product Ingestion`, or the token endpoint's `Entra ID`.
    pub api: &'static str,
    /// `GET /api/publishers/contoso/offers/x` — method and path, without the query.
    pub request: String,
    pub status: Option<u16>,
    /// Microsoft's error code, from `{"error":{"code","message"}}`.
    pub code: Option<String>,
    pub message: String,
}

impl ApiError {
    pub fn new(kind: ErrorKind, request: impl Into<String>, message: impl AsRef<str>) -> Self {
        Self {
            kind,
            api: "CPP",
            request: request.into(),
            status: None,
            code: None,
            message: redact_sas(message.as_ref()).into_owned(),
        }
    }

    /// Builds the error for a non-success response from its status and body.
    pub fn from_response(request: impl Into<String>, status: u16, body: &[u8]) -> Self {
        let kind = match status {
            401 | 403 => ErrorKind::Unauthorized,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            412 => ErrorKind::PreconditionFailed,
            429 => ErrorKind::Throttled,
            500.. => ErrorKind::Transient,
            _ => ErrorKind::Rejected,
        };
        let (code, message) = describe_body(body);
        Self {
            kind,
            api: "CPP",
            request: request.into(),
            status: Some(status),
            code,
            message: redact_sas(&message).into_owned(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.api, self.request)?;
        if let Some(status) = self.status {
            write!(f, " returned {status}")?;
        }
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if self.message.is_empty() {
            Ok(())
        } else {
            write!(f, ": {}", self.message)
        }
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// The same error, said to come from `api`.
    pub fn from_api(mut self, api: &'static str) -> Self {
        self.api = api;
        self
    }
}

/// Reads `{"error":{"code","message"}}` (both APIs), AAD's `{"error","error_description"}`, or plain text.
fn describe_body(body: &[u8]) -> (Option<String>, String) {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ErrorBody {
        Cpp {
            error: ApiErrorBody,
        },
        Aad {
            error: String,
            error_description: Option<String>,
        },
    }
    #[derive(Deserialize)]
    struct ApiErrorBody {
        code: Option<String>,
        message: Option<String>,
        /// Product Ingestion says why in here (`schemaValidationError: ...`).
        #[serde(default)]
        details: Vec<Detail>,
    }
    #[derive(Deserialize)]
    struct Detail {
        #[serde(default)]
        message: Option<String>,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody::Cpp { error }) => {
            let mut message = error.message.unwrap_or_default();
            for detail in error.details.iter().filter_map(|d| d.message.as_deref()) {
                message = format!("{message}; {detail}");
            }
            (error.code, message)
        }
        Ok(ErrorBody::Aad {
            error,
            error_description,
        }) => (Some(error), error_description.unwrap_or_default()),
        Err(_) => {
            const MAX_TEXT: usize = 500;
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            let cut = text
                .char_indices()
                .nth(MAX_TEXT)
                .map_or(text.len(), |(i, _)| i);
            (None, text[..cut].to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_map_to_kinds() {
        let cases = [
            (400, ErrorKind::Rejected),
            (401, ErrorKind::Unauthorized),
            (403, ErrorKind::Unauthorized),
            (404, ErrorKind::NotFound),
            (409, ErrorKind::Conflict),
            (412, ErrorKind::PreconditionFailed),
            (422, ErrorKind::Rejected),
            (429, ErrorKind::Throttled),
            (500, ErrorKind::Transient),
            (503, ErrorKind::Transient),
        ];
        for (status, kind) in cases {
            assert_eq!(
                ApiError::from_response("GET /x", status, b"").kind,
                kind,
                "{status}"
            );
        }
    }

    #[test]
    fn cpp_error_body_is_kept_and_signatures_are_redacted() {
        let body = br#"{"error":{"code":"InvalidResourceId","message":"bad osVhdUrl https://a/b.vhd?sp=rl&sig=TOPSECRET"}}"#;
        let err = ApiError::from_response("PUT /api/publishers/p/offers/o", 409, body);
        assert_eq!(err.code.as_deref(), Some("InvalidResourceId"));
        let shown = format!("{err} {err:?}");
        assert!(
            shown.contains(
                "PUT /api/publishers/p/offers/o returned 409 InvalidResourceId: bad osVhdUrl"
            ),
            "{shown}"
        );
        assert!(!shown.contains("TOPSECRET"), "{shown}");
    }

    #[test]
    fn aad_and_plain_bodies_are_described() {
        let aad = ApiError::from_response(
            "POST /t/oauth2/token",
            401,
            br#"{"error":"invalid_client","error_description":"AADSTS7000215"}"#,
        );
        assert_eq!(
            (aad.code.as_deref(), aad.message.as_str()),
            (Some("invalid_client"), "AADSTS7000215")
        );
        let plain = ApiError::from_response("GET /x", 502, b"  Bad Gateway \n");
        assert_eq!((plain.code, plain.message.as_str()), (None, "Bad Gateway"));
    }
}
