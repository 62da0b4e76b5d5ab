//! Entra ID client-credentials tokens (v1 form) for one resource, cached and refreshed ahead of
//! expiry, one fetch at a time.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use tokio::sync::Mutex;
use url::Url;

use crate::clock::Clock;
use crate::http::error::{ApiError, ErrorKind};
use crate::secret::ClientSecret;

/// Refresh this long before the token says it expires, so a request never carries a dying token.
const REFRESH_AHEAD: Duration = Duration::from_secs(300);

pub(crate) struct TokenProvider {
    token_url: Url,
    client_id: String,
    client_secret: ClientSecret,
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
        client_secret: ClientSecret,
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
            .extend([tenant_id, "oauth2", "token"]);
        Ok(Self {
            token_url,
            client_id,
            client_secret,
            resource,
            clock,
            cached: Mutex::new(None),
        })
    }

    /// A token valid for a while yet; `fetch` is called only when the cache has none.
    pub(crate) async fn bearer<F, Fut>(&self, fetch: F) -> Result<SecretString, ApiError>
    where
        F: FnOnce(TokenRequest) -> Fut,
        Fut: Future<Output = Result<(u16, Vec<u8>), ApiError>>,
    {
        // Holding the lock across the fetch makes concurrent callers wait for one refresh.
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| self.clock.now() < t.refresh_at) {
            return Ok(token.value.clone());
        }
        // On a cold start with Secrets Manager this waits for the read the cold start began.
        let secret = self.client_secret.get().await.map_err(|e| {
            let kind = if e.transient {
                ErrorKind::Transient
            } else {
                ErrorKind::Config
            };
            ApiError::new(kind, "read the client secret", e.to_string())
        })?;
        let requested_at = self.clock.now();
        let (status, body) = fetch(self.request(&secret)).await?;
        if !(200..300).contains(&status) {
            let mut err = ApiError::from_response(self.describe(), status, &body);
            if matches!(status, 400 | 401 | 403) {
                err.kind = ErrorKind::Unauthorized;
            }
            return Err(err);
        }
        let response: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                ErrorKind::Decode,
                self.describe(),
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

    pub(crate) fn describe(&self) -> String {
        format!("POST {}", self.token_url.path())
    }

    fn request(&self, client_secret: &SecretString) -> TokenRequest {
        TokenRequest {
            url: self.token_url.clone(),
            form: vec![
                ("grant_type", "client_credentials".to_owned()),
                ("client_id", self.client_id.clone()),
                ("client_secret", client_secret.expose_secret().to_owned()),
                ("resource", self.resource.to_owned()),
            ],
        }
    }
}

/// The form to POST to the token endpoint; it holds the secret, so it has no Debug.
pub(crate) struct TokenRequest {
    pub(crate) url: Url,
    pub(crate) form: Vec<(&'static str, String)>,
}
