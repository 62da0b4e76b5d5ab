//! Names AWS SDK failures with the workflow's error names (README, Errors).

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use shared::workflow::{ErrorName, WorkflowError};

/// The workflow's name for "try again later" with backoff, whichever service said it.
pub const TRANSIENT: ErrorName = ErrorName::Transient;

/// Codes that clear up by themselves, whatever the HTTP status (Step Functions throttles with a 400).
const TRANSIENT_CODES: [&str; 13] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "RequestTimeout",
    "RequestTimeoutException",
    "ServiceUnavailable",
    "InternalError",
    "InternalFailure",
    "KmsThrottlingException",
    "ExecutionLimitExceeded",
];

/// Codes that mean this function's permissions, credentials or settings are wrong.
const CONFIG_CODES: [&str; 14] = [
    "AccessDenied",
    "AccessDeniedException",
    "AllAccessDisabled",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
    "KmsAccessDeniedException",
    "KmsInvalidStateException",
    "InvalidArn",
    "StateMachineDoesNotExist",
    "StateMachineDeleting",
];

/// The name for a service's error response; `otherwise` for errors that are about the request itself.
pub fn name_for(status: u16, code: Option<&str>, otherwise: ErrorName) -> ErrorName {
    let code = code.unwrap_or_default();
    if TRANSIENT_CODES.contains(&code) || status == 429 || status >= 500 {
        TRANSIENT
    } else if CONFIG_CODES.contains(&code) || status == 401 || status == 403 {
        ErrorName::ConfigError
    } else {
        otherwise
    }
}

/// Names `error`, keeping the service's code and message, prefixed with what was being done.
pub fn from_sdk<E>(context: &str, error: &SdkError<E>, otherwise: ErrorName) -> WorkflowError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match error {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code();
            WorkflowError::new(
                name_for(status, code, otherwise),
                format!(
                    "{context}: AWS returned {status} {}: {}",
                    code.unwrap_or("(no code)"),
                    service.err().message().unwrap_or("(no message)")
                ),
            )
        }
        // The request could not even be built: a missing region or credentials setting.
        SdkError::ConstructionFailure(_) => WorkflowError::new(
            ErrorName::ConfigError,
            format!("{context}: {}", DisplayErrorContext(error)),
        ),
        // Timeouts, connection failures and unreadable responses.
        _ => WorkflowError::new(
            TRANSIENT,
            format!("{context}: {}", DisplayErrorContext(error)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_codes_map_to_names() {
        let otherwise = ErrorName::InvalidInput;
        let cases = [
            (503, Some("SlowDown"), TRANSIENT),
            (500, None, TRANSIENT),
            (400, Some("ThrottlingException"), TRANSIENT),
            (400, Some("ExecutionLimitExceeded"), TRANSIENT),
            (429, None, TRANSIENT),
            (403, Some("AccessDenied"), ErrorName::ConfigError),
            (
                400,
                Some("StateMachineDoesNotExist"),
                ErrorName::ConfigError,
            ),
            (400, Some("InvalidArn"), ErrorName::ConfigError),
            (401, None, ErrorName::ConfigError),
            (404, Some("NoSuchBucket"), otherwise),
            (400, Some("InvalidExecutionInput"), otherwise),
        ];
        for (status, code, name) in cases {
            assert_eq!(name_for(status, code, otherwise), name, "{status} {code:?}");
        }
    }
}
