//! The Product Ingestion client: URLs under the API base with `$version` on every call (Q8), paged
//! collections followed on the API's own origin only (Q26), on the shared authenticated client.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use url::Url;

use crate::config::Config;
use crate::credential::Credential;
use crate::http::{ApiClient, ApiError, ApiRequest, ClientOptions, ErrorKind};
use crate::ingestion::GRAPH_RESOURCE;
use crate::ingestion::documents::SubmissionEntry;

/// Name of the API in errors and logs.
pub(crate) const API: &str = "Product Ingestion";
/// A paged collection is read up to this many pages.
const MAX_PAGES: usize = 50;

/// How long update-and-publish waits, inside one invocation, for a job that only edits the draft.
#[derive(Clone, Copy, Debug)]
pub struct IngestionOptions {
    /// Between two reads of the job's status.
    pub draft_job_poll: Duration,
    /// Longest wait before the run is retried (the job is then found by reading the draft again).
    pub draft_job_timeout: Duration,
}

impl Default for IngestionOptions {
    fn default() -> Self {
        Self {
            draft_job_poll: Duration::from_secs(2),
            draft_job_timeout: Duration::from_secs(60),
        }
    }
}

/// Durable ids learned per cold start: an offer's product GUID, and a plan's GUID.
#[derive(Debug, Default)]
pub(crate) struct Ids {
    pub(crate) products: HashMap<String, String>,
    pub(crate) plans: HashMap<(String, String), String>,
}

/// A product's submissions as listed: (product GUID, entries).
pub(crate) type Listed = (String, Vec<SubmissionEntry>);

/// A client of the Product Ingestion API. Build it once per cold start; clones share the
/// connection pool, the token cache and the ids learned.
#[derive(Clone)]
pub struct IngestionClient {
    core: ApiClient,
    base: Url,
    schema_version: String,
    pub(crate) options: IngestionOptions,
    pub(crate) ids: Arc<Mutex<Ids>>,
    /// The submissions list read in this invocation, until the next configure.
    pub(crate) listed: Arc<Mutex<Option<Listed>>>,
}

impl fmt::Debug for IngestionClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IngestionClient")
            .field("base", &self.base.as_str())
            .field("schema_version", &self.schema_version)
            .field("core", &self.core)
            .finish_non_exhaustive()
    }
}

impl IngestionClient {
    pub fn new(config: &Config, credential: impl Into<Credential>) -> Result<Self, ApiError> {
        Self::with_options(
            config,
            credential,
            ClientOptions::default(),
            IngestionOptions::default(),
        )
    }

    pub fn with_options(
        config: &Config,
        credential: impl Into<Credential>,
        options: ClientOptions,
        ingestion: IngestionOptions,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            core: ApiClient::new(API, GRAPH_RESOURCE, config, credential.into(), options)?,
            base: config.ingestion_api_base_url.clone(),
            schema_version: config.ingestion_schema_version.clone(),
            options: ingestion,
            ids: Arc::new(Mutex::new(Ids::default())),
            listed: Arc::default(),
        })
    }

    /// The same client, bounded by an invocation that must answer by `deadline`; what it lists is
    /// its own (ids learned are shared with every invocation).
    pub fn within_deadline(&self, deadline: SystemTime) -> Self {
        Self {
            core: self.core.within_deadline(deadline),
            listed: Arc::default(),
            ..self.clone()
        }
    }

    /// The submissions list this invocation read for `product`, if no configure came since.
    pub(crate) fn listed(&self, product: &str) -> Option<Vec<SubmissionEntry>> {
        let listed = self.listed.lock().unwrap_or_else(PoisonError::into_inner);
        listed
            .as_ref()
            .filter(|(p, _)| p == product)
            .map(|(_, entries)| entries.clone())
    }

    pub(crate) fn remember_listed(&self, product: &str, entries: Option<Vec<SubmissionEntry>>) {
        *self.listed.lock().unwrap_or_else(PoisonError::into_inner) =
            entries.map(|e| (product.to_owned(), e));
    }

    /// What the invocation has left for a wait or a call starting now.
    pub(crate) fn remaining(&self) -> std::time::Duration {
        self.core.remaining()
    }

    pub fn schema_version(&self) -> &str {
        &self.schema_version
    }

    pub(crate) fn ids(&self) -> std::sync::MutexGuard<'_, Ids> {
        self.ids.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `{base}/{segments...}?{query}&$version=...`, each segment percent-encoded.
    pub(crate) fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url.query_pairs_mut()
            .extend_pairs(query)
            .append_pair("$version", &self.schema_version);
        url
    }

    /// A GET answered with JSON.
    pub(crate) async fn get(&self, url: Url) -> Result<Value, ApiError> {
        let describe = format!("GET {}", url.path());
        let response = self.core.call(ApiRequest::get(url)).await?;
        self.core.decode(&describe, &response.body)
    }

    /// A POST answered with JSON; never sent again once it may have been received (Q4).
    pub(crate) async fn post(&self, url: Url, body: &Value) -> Result<Value, ApiError> {
        let describe = format!("POST {}", url.path());
        let response = self.core.call(ApiRequest::post(url, Some(body))).await?;
        self.core.decode(&describe, &response.body)
    }

    /// Every item of a paged `{"value": [...], "@nextLink": ...}` collection.
    pub(crate) async fn list(&self, first: Url) -> Result<Vec<Value>, ApiError> {
        let mut items = Vec::new();
        let mut next = Some(first);
        for _ in 0..MAX_PAGES {
            let Some(url) = next.take() else {
                return Ok(items);
            };
            let mut page = self.get(url.clone()).await?;
            if let Some(Value::Array(values)) = page.get_mut("value").map(Value::take) {
                items.extend(values);
            }
            next = match next_link(&page) {
                Some(link) => Some(self.follow(&url, link)?),
                None => None,
            };
        }
        Err(ApiError::new(
            ErrorKind::Decode,
            "GET (paged)",
            format!("more than {MAX_PAGES} pages; stopped reading"),
        )
        .from_api(API))
    }

    /// A next-page link, resolved against the page it came from; the token goes to the API's own
    /// origin only, and `$version` is added when the link lacks it.
    fn follow(&self, page: &Url, link: &str) -> Result<Url, ApiError> {
        let refused = |why: String| {
            ApiError::new(ErrorKind::Decode, format!("GET {}", page.path()), why).from_api(API)
        };
        let mut url = page
            .join(link)
            .map_err(|e| refused(format!("next page link unreadable: {e}")))?;
        if url.origin() != self.base.origin() {
            return Err(refused(
                "next page link points outside the API host; not following it".to_owned(),
            ));
        }
        if !url.query_pairs().any(|(k, _)| k == "$version") {
            url.query_pairs_mut()
                .append_pair("$version", &self.schema_version);
        }
        Ok(url)
    }
}

/// `@nextLink`, or the spellings other Microsoft APIs use.
fn next_link(page: &Value) -> Option<&str> {
    ["@nextLink", "@odata.nextLink", "nextLink"]
        .iter()
        .find_map(|key| page.get(*key).and_then(Value::as_str))
        .filter(|link| !link.is_empty())
}
