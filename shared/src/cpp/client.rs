//! The CPP client: URLs under `/api` with the `api-version`, on the shared authenticated client;
//! the typed endpoint methods (endpoints.rs) sit on top of it.

use std::fmt;
use std::time::SystemTime;

use serde::de::DeserializeOwned;
use url::Url;

use crate::config::Config;
use crate::credential::Credential;
use crate::http::{ApiClient, ApiError, ApiRequest, ClientOptions, ErrorKind, Response};
use crate::retry::RetrySettings;

/// The resource the CPP API accepts tokens for.
pub const CPP_RESOURCE: &str = "https://cloudpartner.azure.com";

/// A client of the Cloud Partner Portal API. Build it once per cold start; clones share the
/// connection pool and the token cache.
#[derive(Clone)]
pub struct CppClient {
    core: ApiClient,
    api_base: Url,
    api_version: String,
}

impl fmt::Debug for CppClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CppClient")
            .field("api_base", &self.api_base.as_str())
            .field("api_version", &self.api_version)
            .field("core", &self.core)
            .finish()
    }
}

impl CppClient {
    pub fn new(config: &Config, credential: impl Into<Credential>) -> Result<Self, ApiError> {
        Self::with_options(config, credential, ClientOptions::default())
    }

    pub fn with_options(
        config: &Config,
        credential: impl Into<Credential>,
        options: ClientOptions,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            core: ApiClient::new("CPP", CPP_RESOURCE, config, credential.into(), options)?,
            api_base: config.api_base_url.clone(),
            api_version: config.api_version.clone(),
        })
    }

    /// The same client, bounded by an invocation that must answer by `deadline`.
    pub fn within_deadline(&self, deadline: SystemTime) -> Self {
        Self {
            core: self.core.within_deadline(deadline),
            ..self.clone()
        }
    }

    pub fn retry_settings(&self) -> RetrySettings {
        self.core.retry_settings()
    }

    /// `{base}/api/{segments...}?api-version=...`, each segment percent-encoded.
    pub(crate) fn api_url(&self, segments: &[&str]) -> Url {
        let mut url = self.api_base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push("api").extend(segments);
        }
        url.query_pairs_mut()
            .append_pair("api-version", &self.api_version);
        url
    }

    /// Resolves an operation location (relative or absolute) against the API root.
    /// The bearer token goes only to the API's own origin, whatever a header says.
    pub(crate) fn location_url(&self, location: &str) -> Result<Url, ApiError> {
        let describe = || format!("GET {location}");
        let joined = self.api_base.join(location.trim()).map_err(|e| {
            ApiError::new(
                ErrorKind::Decode,
                describe(),
                format!("operation location unreadable: {e}"),
            )
        })?;
        if joined.origin() != self.api_base.origin() {
            return Err(ApiError::new(
                ErrorKind::Decode,
                describe(),
                "operation location points outside the CPP API host; not following it",
            ));
        }
        let kept: Vec<(String, String)> = joined
            .query_pairs()
            .filter(|(k, _)| k != "api-version")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut url = joined;
        url.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_pair("api-version", &self.api_version);
        Ok(url)
    }

    pub(crate) async fn call(&self, request: ApiRequest<'_>) -> Result<Response, ApiError> {
        self.core.call(request).await
    }

    pub(crate) fn decode<T: DeserializeOwned>(
        &self,
        describe: &str,
        body: &[u8],
    ) -> Result<T, ApiError> {
        self.core.decode(describe, body)
    }
}
