//! The error names a function returns as its `errorType` (README, Errors); the state machine routes on
//! them. They name what happened, not which Microsoft API said it: one list for every backend.

use std::fmt;

use crate::config::ConfigError;
use crate::marketplace::{ErrorKind, MarketError};

/// Every error name the functions return. The ASL must name only these (and `States.*` / `Lambda.*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ErrorName {
    InvalidInput,
    ConfigError,
    OfferNotFound,
    PlanNotFound,
    VersionConflict,
    VersionNotHigher,
    OfferBusy,
    Throttled,
    Transient,
    WriteConflict,
    Unauthorized,
    Rejected,
    OperationFailed,
    PollLimitExceeded,
}

impl ErrorName {
    pub const ALL: [ErrorName; 14] = [
        Self::InvalidInput,
        Self::ConfigError,
        Self::OfferNotFound,
        Self::PlanNotFound,
        Self::VersionConflict,
        Self::VersionNotHigher,
        Self::OfferBusy,
        Self::Throttled,
        Self::Transient,
        Self::WriteConflict,
        Self::Unauthorized,
        Self::Rejected,
        Self::OperationFailed,
        Self::PollLimitExceeded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "InvalidInput",
            Self::ConfigError => "ConfigError",
            Self::OfferNotFound => "OfferNotFound",
            Self::PlanNotFound => "PlanNotFound",
            Self::VersionConflict => "VersionConflict",
            Self::VersionNotHigher => "VersionNotHigher",
            Self::OfferBusy => "OfferBusy",
            Self::Throttled => "Throttled",
            Self::Transient => "Transient",
            Self::WriteConflict => "WriteConflict",
            Self::Unauthorized => "Unauthorized",
            Self::Rejected => "Rejected",
            Self::OperationFailed => "OperationFailed",
            Self::PollLimitExceeded => "PollLimitExceeded",
        }
    }
}

impl fmt::Display for ErrorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure a person can act on: its name for the state machine, its message for the person.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {message}")]
pub struct WorkflowError {
    pub name: ErrorName,
    pub message: String,
}

impl WorkflowError {
    pub fn new(name: ErrorName, message: impl Into<String>) -> Self {
        Self {
            name,
            message: crate::redact::redact_sas(&message.into()).into_owned(),
        }
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorName::InvalidInput, message)
    }

    /// One log line per failed invocation, naming the error: what the dashboard counts failures by.
    pub fn log_failure(&self) {
        tracing::error!(error_name = self.name.as_str(), error = %self.message, "invocation failed");
    }

    /// Names a failure of a Microsoft API by its kind; the message already says what was being done.
    pub fn from_market(error: &MarketError) -> Self {
        let name = match error.kind {
            ErrorKind::Transient | ErrorKind::Decode => ErrorName::Transient,
            ErrorKind::Throttled => ErrorName::Throttled,
            ErrorKind::Unauthorized => ErrorName::Unauthorized,
            ErrorKind::Conflict | ErrorKind::PreconditionFailed | ErrorKind::Changed => {
                ErrorName::WriteConflict
            }
            ErrorKind::Rejected | ErrorKind::NotFound => ErrorName::Rejected,
            ErrorKind::Config => ErrorName::ConfigError,
            ErrorKind::OfferNotFound => ErrorName::OfferNotFound,
            ErrorKind::PlanNotFound => ErrorName::PlanNotFound,
            ErrorKind::InvalidOffer => ErrorName::InvalidInput,
            // Stale is handled where it can happen (a go-live publishes again); anywhere else it
            // means another submission came first, as Busy does.
            ErrorKind::Busy | ErrorKind::Stale => ErrorName::OfferBusy,
        };
        Self::new(name, error.message.clone())
    }
}

impl From<ConfigError> for WorkflowError {
    fn from(error: ConfigError) -> Self {
        Self::new(ErrorName::ConfigError, error.to_string())
    }
}

impl From<WorkflowError> for lambda_runtime::Diagnostic {
    fn from(error: WorkflowError) -> Self {
        Self {
            error_type: error.name.as_str().to_owned(),
            error_message: error.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_designed_strings_and_unique() {
        let names: std::collections::HashSet<&str> =
            ErrorName::ALL.iter().map(|n| n.as_str()).collect();
        assert_eq!(names.len(), ErrorName::ALL.len());
        for name in ErrorName::ALL {
            assert_eq!(serde_json::to_value(name).unwrap(), name.as_str());
        }
    }

    #[test]
    fn cpp_kinds_map_to_their_names() {
        use crate::http::ApiError;
        let cases = [
            (503, ErrorName::Transient),
            (429, ErrorName::Throttled),
            (401, ErrorName::Unauthorized),
            (403, ErrorName::Unauthorized),
            (409, ErrorName::WriteConflict),
            (412, ErrorName::WriteConflict),
            (400, ErrorName::Rejected),
            (422, ErrorName::Rejected),
        ];
        for (status, name) in cases {
            let error = ApiError::from_response(
                "POST /x",
                status,
                br#"{"error":{"code":"C","message":"m"}}"#,
            );
            let workflow = WorkflowError::from_market(&MarketError::new(
                error.kind,
                format!("publishing contoso/offer: {error}"),
            ));
            assert_eq!(workflow.name, name, "{status}");
            assert_eq!(
                workflow.message,
                format!("publishing contoso/offer: CPP POST /x returned {status} C: m")
            );
        }
    }

    #[test]
    fn the_diagnostic_carries_the_name_as_error_type() {
        let diagnostic: lambda_runtime::Diagnostic =
            WorkflowError::new(ErrorName::OfferBusy, "busy").into();
        assert_eq!(
            (
                diagnostic.error_type.as_str(),
                diagnostic.error_message.as_str()
            ),
            ("OfferBusy", "busy")
        );
    }
}
