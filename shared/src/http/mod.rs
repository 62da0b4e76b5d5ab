//! The one way requests reach a Microsoft API: `call` adds the bearer token, If-Match, a timeout
//! and the retries. Each API's client (`crate::cpp`, `crate::ingestion`) builds its URLs on top.

pub mod error;
mod tls;
mod token;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::credential::Credential;
use crate::retry::{Decision, Outcome, Replay, RetrySettings, decide, parse_retry_after};

pub use error::{ApiError, ErrorKind};
use token::TokenProvider;

/// How a client waits and how long it may take.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub clock: Arc<dyn Clock>,
    pub retry: RetrySettings,
    /// Longest wait for one response; each attempt also stops at the end of the call's budget.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// A connection pool and TLS configuration to share (both APIs' clients of a function use one);
    /// `None` builds one with `connect_timeout`.
    pub http: Option<reqwest::Client>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            retry: RetrySettings::default(),
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            http: None,
        }
    }
}

/// An authenticated client of one API. Build it once per cold start; clones share the connection
/// pool and the token cache.
#[derive(Clone)]
pub struct ApiClient {
    inner: Arc<Inner>,
    retry: RetrySettings,
    /// When the invocation must have answered (its reply time kept aside): every call of it ends by then.
    deadline: Option<SystemTime>,
}

struct Inner {
    /// `CPP` or `Product Ingestion`: how errors and logs name the API.
    api: &'static str,
    http: reqwest::Client,
    tokens: TokenProvider,
    clock: Arc<dyn Clock>,
    request_timeout: Duration,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("api", &self.inner.api)
            .field("tokens", &self.inner.tokens)
            .field("retry", &self.retry)
            .finish()
    }
}

/// A response as received, whatever its status.
pub(crate) struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// What a typed method asks `call` to send.
pub(crate) struct ApiRequest<'a> {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) body: Option<&'a Value>,
    pub(crate) if_match: Option<&'a str>,
    pub(crate) replay: Replay,
}

impl ApiRequest<'_> {
    pub(crate) fn get<'a>(url: Url) -> ApiRequest<'a> {
        ApiRequest {
            method: Method::GET,
            url,
            body: None,
            if_match: None,
            replay: Replay::Safe,
        }
    }

    /// A POST, never sent again once it may have been received.
    pub(crate) fn post(url: Url, body: Option<&Value>) -> ApiRequest<'_> {
        ApiRequest {
            method: Method::POST,
            url,
            body,
            if_match: None,
            replay: Replay::NotSafe,
        }
    }
}

/// An attempt with less time than this left (or than a request may take, if shorter) is not made.
const MIN_ATTEMPT: Duration = Duration::from_secs(1);

/// The HTTP client of a function's calls to Microsoft: one TLS configuration and connection pool.
pub fn http_client(connect_timeout: Duration) -> Result<reqwest::Client, ApiError> {
    let failed =
        |e: String| ApiError::new(ErrorKind::Config, "client", format!("HTTP client: {e}"));
    let tls = tls::client_config().map_err(|e| failed(e.to_string()))?;
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(connect_timeout)
        .user_agent(concat!("marketplace-publisher/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| failed(e.to_string()))
}

impl ApiClient {
    /// A client of the API `api` accepting tokens for `resource`, signed in as the configured app.
    pub(crate) fn new(
        api: &'static str,
        resource: &'static str,
        config: &Config,
        credential: Credential,
        options: ClientOptions,
    ) -> Result<Self, ApiError> {
        // Every request carries its own timeout (see `execute`), so a shared client serves both APIs.
        let http = match options.http {
            Some(shared) => shared,
            None => http_client(options.connect_timeout).map_err(|e| e.from_api(api))?,
        };
        let tokens = TokenProvider::new(
            &config.login_base_url,
            &config.tenant_id,
            config.client_id.clone(),
            credential,
            resource,
            options.clock.clone(),
        )
        .map_err(|e| e.from_api(api))?;
        Ok(Self {
            inner: Arc::new(Inner {
                api,
                http,
                tokens,
                clock: options.clock,
                request_timeout: options.request_timeout,
            }),
            retry: options.retry,
            deadline: None,
        })
    }

    pub fn api(&self) -> &'static str {
        self.inner.api
    }

    /// The same client, bounded by an invocation that must answer by `deadline`: each call's budget
    /// is what is left of the invocation then, not a fresh one.
    pub fn within_deadline(&self, deadline: SystemTime) -> Self {
        const REPLY_RESERVE: Duration = Duration::from_secs(2);
        const LAMBDA_MAX_RUN: Duration = Duration::from_secs(15 * 60);
        let now = self.inner.clock.now();
        // A deadline past or beyond Lambda's longest run is no real one (`cargo lambda watch`).
        let left = deadline
            .duration_since(now)
            .ok()
            .filter(|left| *left <= LAMBDA_MAX_RUN);
        Self {
            inner: self.inner.clone(),
            retry: self.retry.within_deadline(deadline, now, REPLY_RESERVE),
            deadline: left.map(|left| now + left.saturating_sub(REPLY_RESERVE)),
        }
    }

    /// The time a call starting now may take: its budget, and no more than the invocation has left.
    pub(crate) fn remaining(&self) -> Duration {
        let left = self.deadline.map(|d| {
            d.duration_since(self.inner.clock.now())
                .unwrap_or(Duration::ZERO)
        });
        left.map_or(self.retry.budget, |left| left.min(self.retry.budget))
    }

    pub fn retry_settings(&self) -> RetrySettings {
        self.retry
    }

    /// Sends `request` with a bearer token; a 401 clears the token cache and is tried once more.
    pub(crate) async fn call(&self, request: ApiRequest<'_>) -> Result<Response, ApiError> {
        self.call_inner(request)
            .await
            .map_err(|e| e.from_api(self.inner.api))
    }

    async fn call_inner(&self, request: ApiRequest<'_>) -> Result<Response, ApiError> {
        let api = self.inner.api;
        let describe = format!("{} {}", request.method, request.url.path());
        let mut refreshed = false;
        loop {
            let token = self.bearer().await?;
            let response = self
                .execute(&describe, request.replay, || {
                    let mut builder = self
                        .inner
                        .http
                        .request(request.method.clone(), request.url.clone())
                        .bearer_auth(token.expose_secret())
                        .header(header::ACCEPT, "application/json")
                        .header(header::CONTENT_TYPE, "application/json");
                    if let Some(etag) = request.if_match {
                        builder = builder.header(header::IF_MATCH, etag);
                    }
                    if let Some(body) = request.body {
                        builder = builder.json(body);
                    }
                    builder
                })
                .await?;
            if response.status == StatusCode::UNAUTHORIZED && !refreshed {
                tracing::info!(request = %describe, "{api} answered 401; fetching a new token and trying once more");
                self.inner.tokens.invalidate(&token).await;
                refreshed = true;
                continue;
            }
            if !response.status.is_success() {
                return Err(ApiError::from_response(
                    describe,
                    response.status.as_u16(),
                    &response.body,
                ));
            }
            return Ok(response);
        }
    }

    async fn bearer(&self) -> Result<SecretString, ApiError> {
        self.inner
            .tokens
            .bearer(|token_request| {
                let describe = token_request.describe();
                async move {
                    let response = self
                        .execute(&describe, Replay::Safe, || {
                            self.inner
                                .http
                                .post(token_request.url.clone())
                                .form(&token_request.form)
                        })
                        .await?;
                    Ok((response.status.as_u16(), response.body))
                }
            })
            .await
    }

    /// Sends what `build` makes until the response is final, the retry policy stops, or the budget is spent.
    async fn execute(
        &self,
        describe: &str,
        replay: Replay,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Response, ApiError> {
        let clock = &self.inner.clock;
        let started = clock.now();
        let budget = self.remaining();
        let mut backoff = self.retry.backoff();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let spent = clock.now().duration_since(started).unwrap_or_default();
            let timeout = self.inner.request_timeout.min(budget.saturating_sub(spent));
            // Too little time for an answer: not sent at all, so a POST cannot land unanswered.
            if timeout < MIN_ATTEMPT.min(self.inner.request_timeout) {
                return Err(ApiError::new(
                    ErrorKind::Transient,
                    describe,
                    "no time left in this invocation to send it; not sent",
                ));
            }
            let result = match build().timeout(timeout).send().await {
                Ok(response) => read(response).await,
                Err(e) => Err(e),
            };
            let outcome = match &result {
                Ok(response) => Outcome::Status {
                    status: response.status.as_u16(),
                    retry_after: response
                        .headers
                        .get(header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, clock.now())),
                },
                Err(e) if e.is_timeout() => Outcome::Timeout,
                Err(e) if e.is_connect() => Outcome::NotSent,
                Err(_) => Outcome::Interrupted,
            };
            tracing::debug!(request = describe, attempt, %outcome, "{} call", self.inner.api);
            let spent = clock.now().duration_since(started).unwrap_or_default();
            let remaining = budget.saturating_sub(spent);
            match decide(replay, outcome, backoff.next(), remaining) {
                Decision::RetryAfter(wait) => {
                    tracing::warn!(
                        request = describe,
                        attempt,
                        %outcome,
                        wait_ms = wait.as_millis() as u64,
                        "retrying {} call",
                        self.inner.api
                    );
                    clock.sleep(wait).await;
                }
                Decision::Stop => {
                    return result.map_err(|e| transport_error(describe, outcome, &e));
                }
            }
        }
    }

    pub(crate) fn decode<T: DeserializeOwned>(
        &self,
        describe: &str,
        body: &[u8],
    ) -> Result<T, ApiError> {
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            ApiError::new(
                ErrorKind::Decode,
                describe,
                format!("response unreadable at {}: {}", e.path(), e.inner()),
            )
            .from_api(self.inner.api)
        })
    }
}

async fn read(response: reqwest::Response) -> Result<Response, reqwest::Error> {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await?.to_vec();
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn transport_error(describe: &str, outcome: Outcome, error: &reqwest::Error) -> ApiError {
    let what = match outcome {
        Outcome::Timeout => "no response in time; the request may have been received",
        Outcome::NotSent => "could not connect; the request was not sent",
        _ => "the connection broke; the request may have been received",
    };
    ApiError::new(
        ErrorKind::Transient,
        describe,
        format!("{what} ({})", cause_chain(error)),
    )
}

/// The error's causes without its own text, which repeats the URL the request already names.
fn cause_chain(error: &reqwest::Error) -> String {
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    if causes.is_empty() {
        "no further detail".to_owned()
    } else {
        causes.join(": ")
    }
}
