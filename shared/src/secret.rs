//! The client secret: from the environment locally, from Secrets Manager in AWS. A cold start reads
//! no secret: the first token request reads it from Secrets Manager (and builds the SDK client it
//! needs), so init takes only the configuration.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use secrecy::SecretString;
use tokio::sync::OnceCell;

use crate::config::{ClientSecretSource, ConfigError};

const SECRETS_MANAGER_TIMEOUT: Duration = Duration::from_secs(10);

/// The service principal's secret, known or read once from Secrets Manager when first needed.
#[derive(Clone)]
pub struct ClientSecret(Arc<Inner>);

struct Inner {
    source: ClientSecretSource,
    /// The Secrets Manager client to read with; built from the environment's AWS config when absent.
    reader: Option<aws_sdk_secretsmanager::Client>,
    read: OnceCell<SecretString>,
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ClientSecret").field(&self.0.source).finish()
    }
}

impl From<SecretString> for ClientSecret {
    fn from(secret: SecretString) -> Self {
        Self::new(ClientSecretSource::Value(secret))
    }
}

impl ClientSecret {
    pub fn new(source: ClientSecretSource) -> Self {
        Self(Arc::new(Inner {
            source,
            reader: None,
            read: OnceCell::new(),
        }))
    }

    /// A Secrets Manager secret read with `client` (one pointed at a stand-in, say).
    pub fn from_secrets_manager(client: aws_sdk_secretsmanager::Client, arn: &str) -> Self {
        Self(Arc::new(Inner {
            source: ClientSecretSource::SecretsManager {
                arn: arn.to_owned(),
            },
            reader: Some(client),
            read: OnceCell::new(),
        }))
    }

    /// The secret; a Secrets Manager secret is read once, and again after a failed read.
    pub async fn get(&self) -> Result<SecretString, SecretError> {
        match &self.0.source {
            ClientSecretSource::Value(secret) => Ok(secret.clone()),
            ClientSecretSource::SecretsManager { arn } => self
                .0
                .read
                // Boxed: the SDK's futures nest deep enough to overflow the compiler's layout queries
                // of every async fn that awaits a token.
                .get_or_try_init(|| {
                    Box::pin(read_from_secrets_manager(self.0.reader.as_ref(), arn))
                })
                .await
                .cloned(),
        }
    }
}

async fn read_from_secrets_manager(
    reader: Option<&aws_sdk_secretsmanager::Client>,
    arn: &str,
) -> Result<SecretString, SecretError> {
    if let Some(client) = reader {
        return fetch_secret(client, arn).await;
    }
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(SECRETS_MANAGER_TIMEOUT)
                .build(),
        )
        .load()
        .await;
    fetch_secret(&aws_sdk_secretsmanager::Client::new(&sdk), arn).await
}

/// A secret that could not be read: a configuration problem, or one that may clear up by itself.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct SecretError {
    pub error: ConfigError,
    /// Throttled, timed out, unreachable, or a service fault: worth trying again later.
    pub transient: bool,
}

impl SecretError {
    fn config(problem: String) -> Self {
        Self {
            error: ConfigError::new("CPP_CLIENT_SECRET_ARN", problem),
            transient: false,
        }
    }
}

/// Reads the secret at `arn`. The secret is either the bare client secret or a JSON object with a
/// `clientSecret` field (the shape the console's key/value editor produces).
pub async fn fetch_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<SecretString, SecretError> {
    let output = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| SecretError {
            transient: is_transient(&e),
            ..SecretError::config(format!(
                "reading secret {arn} failed: {}",
                describe_sdk_error(&e)
            ))
        })?;
    let raw = output
        .secret_string()
        .ok_or_else(|| SecretError::config(format!("secret {arn} has no SecretString")))?;
    let secret = match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(serde_json::Value::Object(fields)) => fields
            .get("clientSecret")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                SecretError::config(format!(
                    "secret {arn} is a JSON object without a string field clientSecret"
                ))
            })?,
        _ => raw.trim().to_owned(),
    };
    if secret.is_empty() {
        return Err(SecretError::config(format!("secret {arn} is empty")));
    }
    Ok(SecretString::from(secret))
}

/// Whether a failed read may succeed later: no answer, or the service's own fault or throttling.
fn is_transient<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(_) => matches!(
            error.code(),
            Some(
                "ThrottlingException"
                    | "InternalServiceError"
                    | "InternalFailure"
                    | "ServiceUnavailable"
            )
        ),
        _ => false,
    }
}

/// Code and message only: the SDK's full error text includes the raw response, which may hold the secret.
fn describe_sdk_error<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> String {
    let what = match error {
        SdkError::ServiceError(_) => "the service refused",
        SdkError::TimeoutError(_) => "timed out",
        SdkError::DispatchFailure(_) => "could not reach Secrets Manager",
        SdkError::ResponseError(_) => "unreadable response",
        _ => "request not sent",
    };
    match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{what}: {code}: {message}"),
        (Some(code), None) => format!("{what}: {code}"),
        _ => what.to_owned(),
    }
}
