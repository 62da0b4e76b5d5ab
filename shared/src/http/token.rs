//! Entra ID client-credentials tokens for one resource, cached and refreshed ahead of expiry, one
//! fetch at a time: with a client secret (v1 form, `resource=`), or with a web identity token of the
//! function's AWS role as the client assertion (v2 form, `scope=`).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use tokio::sync::Mutex;
use url::Url;

use crate::clock::Clock;
use crate::credential::Credential;
use crate::http::error::{ApiError, ErrorKind};

/// Refresh this long before the token says it expires, so a request never carries a dying token.
const REFRESH_AHEAD: Duration = Duration::from_secs(300);
/// A federated credential just added takes minutes to reach every Entra ID server (AADSTS70021
/// meanwhile): the token request is tried this many times more, this far apart.
const UNMATCHED_RETRIES: u32 = 2;
const UNMATCHED_WAIT: Duration = Duration::from_secs(5);
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

pub(crate) struct TokenProvider {
    token_url: Url,
    /// The v2 endpoint, where Entra ID takes federated assertions.
    token_url_v2: Url,
    client_id: String,
    credential: Credential,
    /// The API the tokens are for (`resource=` of the v1 form).
    resource: &'static str,
    clock: Arc<dyn Clock>,
    cached: Mutex<Option<CachedToken>>,
}

#[derive(Clone)]
struct CachedToken {
    value: SecretString,
    refresh_at: SystemTime,
}

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenProvider")
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    /// AAD v1 sends numbers as strings.
    #[serde(deserialize_with = "seconds")]
    expires_in: u64,
}

fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Wire {
        Number(u64),
        Text(String),
    }
    match Wire::deserialize(d)? {
        Wire::Number(n) => Ok(n),
        Wire::Text(s) => s.trim().parse().map_err(serde::de::Error::custom),
    }
}

impl TokenProvider {
    pub(crate) fn new(
        login_base: &Url,
        tenant_id: &str,
        client_id: String,
        credential: Credential,
        resource: &'static str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ApiError> {
        let mut token_url = login_base.clone();
        token_url
            .path_segments_mut()
            .map_err(|()| {
                ApiError::new(
                    ErrorKind::Config,
                    "token",
                    "login base URL cannot take a path",
                )
            })?
            .pop_if_empty()
            .extend([tenant_id, "oauth2"]);
        let mut token_url_v2 = token_url.clone();
        if let Ok(mut path) = token_url_v2.path_segments_mut() {
            path.extend(["v2.0", "token"]);
        }
        if let Ok(mut path) = token_url.path_segments_mut() {
            path.push("token");
        }
        Ok(Self {
            token_url,
            token_url_v2,
            client_id,
            credential,
            resource,
            clock,
            cached: Mutex::new(None),
        })
    }

    /// A token valid for a while yet; `fetch` is called only when the cache has none.
    pub(crate) async fn bearer<F, Fut>(&self, fetch: F) -> Result<SecretString, ApiError>
    where
        F: Fn(TokenRequest) -> Fut,
        Fut: Future<Output = Result<(u16, Vec<u8>), ApiError>>,
    {
        // Holding the lock across the fetch makes concurrent callers wait for one refresh.
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| self.clock.now() < t.refresh_at) {
            return Ok(token.value.clone());
        }
        let request = self.credential_request().await?;
        let mut requested_at = self.clock.now();
        let (mut status, mut body) = fetch(request.clone_form()).await?;
        // A federated credential still propagating: asked again a little later (a fresh assertion each time).
        for _ in 0..UNMATCHED_RETRIES {
            if !(request.federated && unmatched(status, &body)) {
                break;
            }
            tracing::warn!(
                "Entra ID found no federated credential for this role yet (AADSTS70021); asking again"
            );
            self.clock.sleep(UNMATCHED_WAIT).await;
            requested_at = self.clock.now();
            (status, body) = fetch(self.credential_request().await?.clone_form()).await?;
        }
        if !(200..300).contains(&status) {
            let mut err = ApiError::from_response(request.describe(), status, &body);
            if matches!(status, 400 | 401 | 403) {
                err.kind = ErrorKind::Unauthorized;
            }
            if request.federated && unmatched(status, &body) {
                err.message = format!(
                    "{} (no federated identity credential of the app matches this function's role: add one with the issuer of the account's outbound identity federation and the role ARN as subject, audience {}; a new one takes a few minutes to take effect)",
                    err.message,
                    crate::federation::ENTRA_AUDIENCE
                );
            }
            return Err(err);
        }
        let response: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                ErrorKind::Decode,
                request.describe(),
                format!("token response unreadable: {e}"),
            )
        })?;
        let lifetime = Duration::from_secs(response.expires_in);
        let token = CachedToken {
            value: SecretString::from(response.access_token),
            refresh_at: requested_at + lifetime.saturating_sub(REFRESH_AHEAD.min(lifetime / 2)),
        };
        *cached = Some(token.clone());
        Ok(token.value)
    }

    /// Forgets `rejected` (after a 401), unless another caller has already replaced it.
    pub(crate) async fn invalidate(&self, rejected: &SecretString) {
        let mut cached = self.cached.lock().await;
        if cached
            .as_ref()
            .is_some_and(|t| t.value.expose_secret() == rejected.expose_secret())
        {
            *cached = None;
        }
    }

    /// The token request of this credential: the secret (v1), or a fresh web identity token as the
    /// client assertion (v2). On a cold start with Secrets Manager this waits for the read it began.
    async fn credential_request(&self) -> Result<TokenRequest, ApiError> {
        let mut form = vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", self.client_id.clone()),
        ];
        match &self.credential {
            Credential::Secret(secret) => {
                let secret = secret.get().await.map_err(|e| {
                    let kind = if e.transient {
                        ErrorKind::Transient
                    } else {
                        ErrorKind::Config
                    };
                    ApiError::new(kind, "read the client secret", e.to_string())
                })?;
                form.push(("client_secret", secret.expose_secret().to_owned()));
                form.push(("resource", self.resource.to_owned()));
                Ok(TokenRequest {
                    url: self.token_url.clone(),
                    form,
                    federated: false,
                })
            }
            Credential::AwsFederation(identity) => {
                let assertion = identity.token().await.map_err(|e| {
                    let kind = if e.transient {
                        ErrorKind::Transient
                    } else {
                        ErrorKind::Config
                    };
                    ApiError::new(kind, "get a web identity token", e.message)
                })?;
                form.push(("scope", format!("{}/.default", self.resource)));
                form.push(("client_assertion_type", JWT_BEARER.to_owned()));
                form.push(("client_assertion", assertion.expose_secret().to_owned()));
                Ok(TokenRequest {
                    url: self.token_url_v2.clone(),
                    form,
                    federated: true,
                })
            }
        }
    }
}

/// Entra ID's answer that no federated identity credential matches the assertion.
fn unmatched(status: u16, body: &[u8]) -> bool {
    matches!(status, 400 | 401) && String::from_utf8_lossy(body).contains("AADSTS70021")
}

/// The form to POST to the token endpoint; it holds the secret or the assertion, so it has no Debug.
pub(crate) struct TokenRequest {
    pub(crate) url: Url,
    pub(crate) form: Vec<(&'static str, String)>,
    federated: bool,
}

impl TokenRequest {
    /// `POST /{tenant}/oauth2/token` or `.../v2.0/token`: the endpoint this request goes to.
    pub(crate) fn describe(&self) -> String {
        format!("POST {}", self.url.path())
    }

    fn clone_form(&self) -> Self {
        Self {
            url: self.url.clone(),
            form: self.form.clone(),
            federated: self.federated,
        }
    }
}
