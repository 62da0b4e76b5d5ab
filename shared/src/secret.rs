//! The client secret, read once per cold start: from the environment locally, from Secrets Manager in AWS.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use secrecy::SecretString;

use crate::config::{ClientSecretSource, ConfigError};

const SECRETS_MANAGER_TIMEOUT: Duration = Duration::from_secs(10);

/// Resolves the configured secret source to the secret itself.
pub async fn load_client_secret(source: &ClientSecretSource) -> Result<SecretString, ConfigError> {
    match source {
        ClientSecretSource::Value(secret) => Ok(secret.clone()),
        ClientSecretSource::SecretsManager { arn } => {
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
    }
}

/// Reads the secret at `arn`. The secret is either the bare client secret or a JSON object with a
/// `clientSecret` field (the shape the console's key/value editor produces).
pub async fn fetch_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<SecretString, ConfigError> {
    let output = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| {
            ConfigError::new(
                "CPP_CLIENT_SECRET_ARN",
                format!("reading secret {arn} failed: {}", describe_sdk_error(&e)),
            )
        })?;
    let raw = output.secret_string().ok_or_else(|| {
        ConfigError::new(
            "CPP_CLIENT_SECRET_ARN",
            format!("secret {arn} has no SecretString"),
        )
    })?;
    let secret = match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(serde_json::Value::Object(fields)) => fields
            .get("clientSecret")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                ConfigError::new(
                    "CPP_CLIENT_SECRET_ARN",
                    format!("secret {arn} is a JSON object without a string field clientSecret"),
                )
            })?,
        _ => raw.trim().to_owned(),
    };
    if secret.is_empty() {
        return Err(ConfigError::new(
            "CPP_CLIENT_SECRET_ARN",
            format!("secret {arn} is empty"),
        ));
    }
    Ok(SecretString::from(secret))
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
