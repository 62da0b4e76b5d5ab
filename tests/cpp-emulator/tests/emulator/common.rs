//! A small authenticated client for the emulator and helpers shared by the tests.

use std::sync::Mutex;
use std::time::Duration;

use cpp_emulator::{Emulator, EmulatorConfig, RunningEmulator};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

pub const PUBLISHER: &str = "contoso";
pub const OFFER_ID: &str = "contosovirtualmachine";
pub const OFFER: &str = "/api/publishers/contoso/offers/contosovirtualmachine";
pub const PLAN_IMAGES: &str = "microsoft-azure-virtualmachines.vmImages";

pub struct Harness {
    pub emu: RunningEmulator,
    pub http: reqwest::Client,
    client_id: String,
    client_secret: String,
    token: Mutex<String>,
}

pub fn minutes(n: u64) -> Duration {
    Duration::from_secs(n * 60)
}

pub fn days(n: u64) -> Duration {
    Duration::from_secs(n * 86_400)
}

pub async fn start() -> Harness {
    start_with(EmulatorConfig::default()).await
}

pub async fn start_with(config: EmulatorConfig) -> Harness {
    let (id, secret) = (config.client_id.clone(), config.client_secret.clone());
    let emu = Emulator::start(config).await.unwrap();
    let http = reqwest::Client::new();
    let token = fetch_token(&http, &emu.base_url(), &id, &secret).await;
    Harness {
        emu,
        http,
        client_id: id,
        client_secret: secret,
        token: Mutex::new(token),
    }
}

async fn fetch_token(http: &reqwest::Client, base: &str, id: &str, secret: &str) -> String {
    let response = request_token(http, base, id, secret, "https://cloudpartner.azure.com").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

pub async fn request_token(
    http: &reqwest::Client,
    base: &str,
    client_id: &str,
    secret: &str,
    resource: &str,
) -> Response {
    http.post(format!("{base}/my-tenant/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("resource", resource),
        ])
        .send()
        .await
        .unwrap()
}

/// `path` plus `api-version=2017-10-31` (paths may already carry a query).
pub fn with_version(path: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}api-version=2017-10-31")
}

pub fn etag(response: &Response) -> String {
    response.headers()["etag"].to_str().unwrap().to_owned()
}

/// A draft of the default offer with one more image version in its only plan.
pub fn with_image(mut doc: Value, version: &str) -> Value {
    doc["definition"]["plans"][0][PLAN_IMAGES][version] = json!({
        "osVhdUrl": format!("https://acct.blob.core.windows.net/vhds/os-{version}.vhd?sp=rl&sig=x"),
        "lunVhdDetails": [],
    });
    doc
}

impl Harness {
    pub fn token(&self) -> String {
        self.token.lock().unwrap().clone()
    }

    /// Moves the virtual clock and takes a fresh token, as a client would after days of waiting.
    pub async fn advance(&self, by: Duration) {
        self.emu.advance_clock(by);
        let token = fetch_token(
            &self.http,
            &self.emu.base_url(),
            &self.client_id,
            &self.client_secret,
        )
        .await;
        *self.token.lock().unwrap() = token;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.emu.base_url(), path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(self.url(&with_version(path)))
            .bearer_auth(self.token())
            .send()
            .await
            .unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }

    pub async fn put(&self, path: &str, body: &Value, if_match: Option<&str>) -> Response {
        let mut request = self
            .http
            .put(self.url(&with_version(path)))
            .bearer_auth(self.token())
            .json(body);
        if let Some(tag) = if_match {
            request = request.header("If-Match", tag);
        }
        request.send().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: Option<Value>) -> Response {
        let mut request = self
            .http
            .post(self.url(&with_version(path)))
            .bearer_auth(self.token());
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// POST publish of the default offer with the documented body; asserts 202.
    pub async fn publish(&self) -> Response {
        let response = self
            .post(
                &format!("{OFFER}/publish"),
                Some(json!({"metadata": {"notification-emails": "a@b.com,c@d.com"}})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        response
    }

    /// GET the draft, add an image version, PUT it back with the ETag; asserts 200.
    pub async fn add_image(&self, version: &str) {
        let response = self.get(OFFER).await;
        let tag = etag(&response);
        let doc = with_image(response.json().await.unwrap(), version);
        let response = self.put(OFFER, &doc, Some(&tag)).await;
        assert_eq!(response.status(), StatusCode::OK);
    }

    /// The single operation the location header of `response` points at.
    pub async fn follow(&self, response: &Response) -> Value {
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let polled = self
            .http
            .get(self.url(&location))
            .bearer_auth(self.token())
            .send()
            .await
            .unwrap();
        assert_eq!(polled.status(), StatusCode::OK, "GET {location}");
        polled.json().await.unwrap()
    }

    pub async fn operation(&self, id: &str) -> Value {
        self.get_json(&format!("{OFFER}/operations/{id}")).await
    }

    pub async fn submissions(&self) -> Vec<Value> {
        let list = self.get_json(&format!("{OFFER}/submissions/")).await;
        list.as_array().unwrap().clone()
    }
}

/// The step of an operation/status object with this id.
pub fn step<'a>(op: &'a Value, id: &str) -> &'a Value {
    op["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id} in {op}"))
}
