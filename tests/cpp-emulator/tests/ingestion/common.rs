//! A small Product Ingestion client for the emulator and the payloads the tests send.

use std::time::Duration;

use cpp_emulator::{
    DEFAULT_PLAN_ID, DEFAULT_PRODUCT_ID, Emulator, EmulatorConfig, PI_RESOURCE, RunningEmulator,
};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

pub const P: &str = DEFAULT_PRODUCT_ID;
pub const L: &str = DEFAULT_PLAN_ID;
pub const CONFIGURE_SCHEMA: &str = "https://schema.mp.microsoft.com/schema/configure/2022-07-01";
pub const SUBMISSION_SCHEMA: &str =
    "https://schema.mp.microsoft.com/schema/submission/2022-03-01-preview2";

pub struct Pi {
    pub emu: RunningEmulator,
    pub http: reqwest::Client,
    pub token: String,
}

pub fn days(n: u64) -> Duration {
    Duration::from_secs(n * 86_400)
}

/// Draft jobs take 50 ms; tokens live on the real clock so the virtual one can jump days.
pub fn config() -> EmulatorConfig {
    let mut config = EmulatorConfig {
        tokens_on_real_clock: true,
        ..EmulatorConfig::default()
    };
    config.ingestion.draft_job_delay = Duration::from_millis(50);
    config
}

pub async fn start() -> Pi {
    start_with(config()).await
}

pub async fn start_with(config: EmulatorConfig) -> Pi {
    let emu = Emulator::start(config).await.unwrap();
    let http = reqwest::Client::new();
    let response = token_v1(&http, &emu.base_url(), PI_RESOURCE).await;
    assert_eq!(response.status(), StatusCode::OK);
    let token = response.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    Pi { emu, http, token }
}

pub async fn token_v1(http: &reqwest::Client, base: &str, resource: &str) -> Response {
    http.post(format!("{base}/my-tenant/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "emulator-client-id"),
            ("client_secret", "emulator-client-secret"),
            ("resource", resource),
        ])
        .send()
        .await
        .unwrap()
}

pub async fn token_v2(http: &reqwest::Client, base: &str, scope: &str) -> Response {
    http.post(format!("{base}/my-tenant/oauth2/v2.0/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "emulator-client-id"),
            ("client_secret", "emulator-client-secret"),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap()
}

/// `path` plus `$version=2022-07-01`, like cloudpub sends on every call.
pub fn versioned(path: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}$version=2022-07-01")
}

pub fn envelope(resources: Vec<Value>) -> Value {
    json!({ "$schema": CONFIGURE_SCHEMA, "resources": resources })
}

pub fn preview_submission() -> Value {
    json!({
        "$schema": SUBMISSION_SCHEMA,
        "product": format!("product/{P}"),
        "target": { "targetType": "preview" },
    })
}

pub fn live_submission(n: &str) -> Value {
    json!({
        "$schema": SUBMISSION_SCHEMA,
        "id": format!("submission/{P}/{n}"),
        "product": format!("product/{P}"),
        "target": { "targetType": "live" },
    })
}

/// A SAS-sourced version with one OS disk per image type.
pub fn version(number: &str, types: &[&str]) -> Value {
    let images: Vec<Value> = types
        .iter()
        .map(|t| {
            json!({"imageType": t, "source": {"sourceType": "sasUri", "osDisk": {
                "uri": format!("https://acct.blob.core.windows.net/vhds/{number}.vhd?sp=rl&sig=x")},
                "dataDisks": []}})
        })
        .collect();
    json!({ "versionNumber": number, "lifecycleState": "generallyAvailable", "vmImages": images })
}

pub fn versions_mut(tc: &mut Value) -> &mut Vec<Value> {
    tc["vmImageVersions"].as_array_mut().unwrap()
}

pub fn version_numbers(tc: &Value) -> Vec<String> {
    tc["vmImageVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["versionNumber"].as_str().unwrap().to_owned())
        .collect()
}

impl Pi {
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.emu.ingestion_base_url(), versioned(path))
    }

    pub async fn get(&self, path: &str) -> Response {
        self.get_url(&self.url(path)).await
    }

    pub async fn get_url(&self, url: &str) -> Response {
        self.http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn configure(&self, resources: Vec<Value>) -> Response {
        self.post("configure", &envelope(resources)).await
    }

    /// POST configure, asserting 202 and the accepted body; returns the job id.
    pub async fn start_job(&self, resources: Vec<Value>) -> String {
        let response = self.configure(resources).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["jobStatus"], "notStarted");
        assert_eq!(body["jobEnd"], "0001-01-01T00:00:00");
        body["jobId"].as_str().unwrap().to_owned()
    }

    pub async fn status(&self, job: &str) -> Value {
        self.get_json(&format!("configure/{job}/status")).await
    }

    /// Polls a (draft) job on the real clock until it completes (at most 5 s).
    pub async fn wait(&self, job: &str) -> Value {
        for _ in 0..100 {
            let status = self.status(job).await;
            if status["jobStatus"] == "completed" {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("job {job} did not complete");
    }

    /// Runs a configure to its end and returns the final status.
    pub async fn run(&self, resources: Vec<Value>) -> Value {
        let job = self.start_job(resources).await;
        self.wait(&job).await
    }

    pub async fn tree(&self, target: &str) -> Value {
        self.get_json(&format!("resource-tree/product/{P}?targetType={target}"))
            .await
    }

    /// The draft tech-config of plan `plan`.
    pub async fn tech_config(&self, plan: &str) -> Value {
        self.get_json(&format!(
            "virtual-machine-plan-technical-configuration/{P}/{plan}"
        ))
        .await
    }

    pub async fn submissions(&self) -> Vec<Value> {
        let list = self.get_json(&format!("submission/{P}")).await;
        list["value"].as_array().unwrap().clone()
    }

    /// The entries of `target` in the submissions list.
    pub async fn entries(&self, target: &str) -> Vec<Value> {
        self.submissions()
            .await
            .into_iter()
            .filter(|e| e["target"]["targetType"] == target)
            .collect()
    }
}

/// The `N` of `submission/{P}/{N}`.
pub fn submission_number(entry: &Value) -> String {
    entry["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

/// The first error of a failed job, asserting the job failed.
pub fn failure(status: &Value) -> &Value {
    assert_eq!(status["jobStatus"], "completed", "{status}");
    assert_eq!(status["jobResult"], "failed", "{status}");
    &status["errors"][0]
}
