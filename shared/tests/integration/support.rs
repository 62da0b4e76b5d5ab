use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::json;
use shared::clock::ManualClock;
use shared::config::Config;
use shared::cpp::{ClientOptions, CppClient};
use shared::retry::RetrySettings;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const TENANT: &str = "tenant-1";
pub const CLIENT_ID: &str = "client-1";
pub const SECRET: &str = "client-s3cret-never-shown";
pub const TOKEN: &str = "bearer-t0ken-never-shown";
pub const TOKEN_PATH: &str = "/tenant-1/oauth2/token";

pub fn config(api_base: &str, login_base: &str) -> Config {
    Config::from_lookup(|name| {
        match name {
            "CPP_API_BASE_URL" => Some(api_base),
            "CPP_LOGIN_BASE_URL" => Some(login_base),
            "CPP_TENANT_ID" => Some(TENANT),
            "CPP_CLIENT_ID" => Some(CLIENT_ID),
            "CPP_CLIENT_SECRET" => Some(SECRET),
            _ => None,
        }
        .map(str::to_owned)
    })
    .unwrap()
}

pub fn retry() -> RetrySettings {
    RetrySettings {
        max_retries: 3,
        min_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
        budget: Duration::from_secs(60),
    }
}

/// A client whose clock only moves when it waits, so tests never sleep.
pub fn client_with(base: &str, secret: &str, clock: Arc<ManualClock>) -> CppClient {
    let options = ClientOptions {
        clock,
        retry: retry(),
        request_timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(1),
        http: None,
    };
    CppClient::with_options(&config(base, base), SecretString::from(secret), options).unwrap()
}

pub fn client(server: &MockServer) -> (CppClient, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::starting_now());
    (client_with(&server.uri(), SECRET, clock.clone()), clock)
}

pub fn token_response(token: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "token_type": "Bearer", "expires_in": "3599", "ext_expires_in": "3599",
        "resource": "https://cloudpartner.azure.com", "access_token": token
    }))
}

/// A scripted server with a token endpoint that hands out [`TOKEN`].
pub async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(token_response(TOKEN))
        .mount(&server)
        .await;
    server
}

pub async fn calls_to(server: &MockServer, method_name: &str, path_suffix: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == method_name && r.url.path().ends_with(path_suffix))
        .count()
}

pub const OFFER_PATH: &str = "/api/publishers/contoso/offers/contoso-linux";

/// Answers `verb` requests to `at` with `response`; only the first `times` of them when given.
pub async fn answer(
    server: &MockServer,
    verb: &str,
    at: impl Into<String>,
    response: ResponseTemplate,
    times: Option<u64>,
) {
    let mock = Mock::given(method(verb))
        .and(path(at.into()))
        .respond_with(response);
    match times {
        Some(n) => mock.up_to_n_times(n).mount(server).await,
        None => mock.mount(server).await,
    }
}
