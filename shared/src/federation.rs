//! AWS outbound identity federation: the function's own role asks STS for a short-lived signed
//! token (`GetWebIdentityToken`), which Entra ID takes as a client assertion in place of a secret.
//! Nothing is read at a cold start: the STS client is built with the first token request.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use secrecy::SecretString;
use tokio::sync::OnceCell;

/// The audience Entra ID's federated identity credentials expect.
pub const ENTRA_AUDIENCE: &str = "api://AzureADTokenExchange";
/// The only algorithm Entra ID verifies federated assertions with.
const SIGNING_ALGORITHM: &str = "RS256";
/// The assertion is used at once; five minutes is STS's default and enough.
const TOKEN_SECONDS: i32 = 300;
const STS_TIMEOUT: Duration = Duration::from_secs(10);

/// A source of web identity tokens for the function's role.
#[derive(Clone, Default)]
pub struct WebIdentity(Arc<Inner>);

#[derive(Default)]
struct Inner {
    /// Built from the environment's AWS configuration (`AWS_ENDPOINT_URL_STS` included) when first needed.
    client: OnceCell<aws_sdk_sts::Client>,
}

impl fmt::Debug for WebIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebIdentity")
            .field("audience", &ENTRA_AUDIENCE)
            .field("algorithm", &SIGNING_ALGORITHM)
            .finish()
    }
}

/// Why no web identity token was had.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FederationError {
    pub message: String,
    /// Throttled, timed out, unreachable, or a service fault: worth trying again.
    pub transient: bool,
}

impl WebIdentity {
    /// Tokens from `client` (one pointed at a stand-in, say).
    pub fn with_client(client: aws_sdk_sts::Client) -> Self {
        let cell = OnceCell::new();
        let _ = cell.set(client);
        Self(Arc::new(Inner { client: cell }))
    }

    /// A fresh token for Entra ID. It is a credential: it never reaches a log or an error.
    pub async fn token(&self) -> Result<SecretString, FederationError> {
        // Boxed: the SDK's futures nest deep enough to overflow the compiler's layout queries.
        Box::pin(self.fetch()).await
    }

    async fn fetch(&self) -> Result<SecretString, FederationError> {
        let client = self
            .0
            .client
            .get_or_init(|| async {
                let sdk = aws_config::defaults(BehaviorVersion::latest())
                    .timeout_config(
                        TimeoutConfig::builder()
                            .operation_timeout(STS_TIMEOUT)
                            .build(),
                    )
                    .load()
                    .await;
                aws_sdk_sts::Client::new(&sdk)
            })
            .await;
        let output = client
            .get_web_identity_token()
            .audience(ENTRA_AUDIENCE)
            .signing_algorithm(SIGNING_ALGORITHM)
            .duration_seconds(TOKEN_SECONDS)
            .send()
            .await
            .map_err(|e| described(&e))?;
        output
            .web_identity_token()
            .map(|t| SecretString::from(t.to_owned()))
            .ok_or_else(|| FederationError {
                message: "STS GetWebIdentityToken answered without a token".into(),
                transient: true,
            })
    }
}

type StsError = SdkError<
    aws_sdk_sts::operation::get_web_identity_token::GetWebIdentityTokenError,
    aws_sdk_sts::config::http::HttpResponse,
>;

fn described(error: &StsError) -> FederationError {
    let code = error.code().unwrap_or_default().to_owned();
    if code.starts_with("OutboundWebIdentityFederationDisabled") {
        return FederationError {
            message: "STS GetWebIdentityToken: outbound identity federation is not enabled in this AWS account; an administrator enables it once with `aws iam enable-outbound-web-identity-federation` (README, No secret: AWS federation)".into(),
            transient: false,
        };
    }
    let transient = matches!(
        error,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
    ) || matches!(
        code.as_str(),
        "Throttling"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "InternalFailure"
            | "ServiceUnavailable"
    ) || error
        .raw_response()
        .is_some_and(|r| r.status().is_server_error() || r.status().as_u16() == 429);
    let detail = error.message().unwrap_or("no message");
    FederationError {
        message: format!(
            "STS GetWebIdentityToken failed ({}): {detail}",
            if code.is_empty() {
                "no error code"
            } else {
                code.as_str()
            }
        ),
        transient,
    }
}
