//! Cold starts of the release `bootstrap`s against the local Runtime API, and of the Python peer.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use cpp_emulator::{EmulatorConfig, StepDurations};
use serde::Serialize;
use serde_json::{Value, json};
use shared::config::Api;

use crate::BenchResult;
use crate::aws;
use crate::offers::manifest;
use crate::pipeline::{BUCKET, MANIFEST_PREFIX, World};
use crate::runtime_api::{ColdStart, RuntimeApi};
use crate::stats::{Summary, median_u64};

pub const FUNCTIONS: [&str; 4] = [
    "build-finished",
    "update-and-publish",
    "check-last-operation",
    "validate-and-go-live",
];

/// Where the client secret comes from: as deployed (Secrets Manager, read at cold start) or as in local runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secret {
    SecretsManager,
    Environment,
    /// build-finished holds no CPP credentials.
    None,
}

impl Secret {
    pub fn label(self) -> &'static str {
        match self {
            Self::SecretsManager => "Secrets Manager (deployed)",
            Self::Environment => "CPP_CLIENT_SECRET (local)",
            Self::None => "none needed (deployed)",
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ColdRow {
    pub function: String,
    pub secret: String,
    #[serde(skip)]
    pub deployed: bool,
    pub init: Summary,
    pub first_response: Summary,
    pub init_rss_kib: u64,
    /// Highest VmHWM seen after the first invocation, over all runs.
    pub peak_rss_kib: u64,
    pub size_bytes: u64,
    pub stripped: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerRow {
    pub name: String,
    pub what: String,
    pub init: Summary,
    pub init_rss_kib: u64,
}

const PEER_SCRIPT: &str = include_str!("../peer/cloudpub_init.py");

/// Each function's `runs` cold starts (after one discarded run that loads the file into the page cache).
pub async fn ours(bin_dir: &Path, runs: usize, logs: &Path) -> BenchResult<Vec<ColdRow>> {
    let world = World::start(EmulatorConfig::default(), &[]).await?;
    let api = RuntimeApi::start().await?;
    let mut rows = Vec::new();
    for function in FUNCTIONS {
        let binary = bin_dir.join(function);
        let bytes = std::fs::read(&binary).map_err(|e| {
            format!(
                "{}: {e} (build it with cargo build --release)",
                binary.display()
            )
        })?;
        let secrets: &[Secret] = if function == "build-finished" {
            &[Secret::None]
        } else {
            &[Secret::SecretsManager, Secret::Environment]
        };
        for &secret in secrets {
            let env = environment(function, secret, &world);
            let log = logs.join(format!("{function}.log"));
            let mut samples = Vec::new();
            for run in 0..=runs {
                let event = prepare(function, &world, secret, run).await?;
                let start = api
                    .cold_start(&binary, &[], &env, Some(event), &log)
                    .await
                    .map_err(|e| {
                        format!("{function} cold start {run}: {e} (log: {})", log.display())
                    })?;
                check(function, &start)?;
                if run > 0 {
                    samples.push(start);
                }
            }
            rows.push(row(function, secret, &samples, &bytes));
        }
    }
    Ok(rows)
}

/// The peer's init, measured the same way: spawn to its first request for work.
pub async fn peer(python: &Path, runs: usize, logs: &Path) -> BenchResult<PeerRow> {
    let version = Command::new(python)
        .args(["-c", "import importlib.metadata as m, sys; print(m.version('cloudpub'), sys.version.split()[0])"])
        .output()?;
    if !version.status.success() {
        return Err(format!(
            "{} cannot import cloudpub: {}",
            python.display(),
            String::from_utf8_lossy(&version.stderr)
        )
        .into());
    }
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    let (cloudpub, python_version) = version.split_once(' ').unwrap_or((&version, "?"));
    let api = RuntimeApi::start().await?;
    let env = vec![("PATH".to_owned(), "/usr/bin:/bin".to_owned())];
    let log = logs.join("cloudpub.log");
    let mut samples = Vec::new();
    for run in 0..=runs {
        let start = api
            .cold_start(python, &["-c", PEER_SCRIPT], &env, None, &log)
            .await
            .map_err(|e| format!("cloudpub cold start {run}: {e} (log: {})", log.display()))?;
        if run > 0 {
            samples.push(start);
        }
    }
    let inits: Vec<Duration> = samples.iter().map(|s| s.init).collect();
    let rss: Vec<u64> = samples.iter().map(|s| s.init_hwm_kib).collect();
    Ok(PeerRow {
        name: format!("cloudpub {cloudpub} (Python {python_version})"),
        what: "import cloudpub, build AzureService (its requests session, dummy credentials, no network), ask for work".into(),
        init: Summary::of(&inits),
        init_rss_kib: median_u64(&rss),
    })
}

fn row(function: &str, secret: Secret, samples: &[ColdStart], binary: &[u8]) -> ColdRow {
    let inits: Vec<Duration> = samples.iter().map(|s| s.init).collect();
    let responses: Vec<Duration> = samples.iter().filter_map(|s| s.first_response).collect();
    let init_rss: Vec<u64> = samples.iter().map(|s| s.init_hwm_kib).collect();
    ColdRow {
        function: function.to_owned(),
        secret: secret.label().to_owned(),
        deployed: secret != Secret::Environment,
        init: Summary::of(&inits),
        first_response: Summary::of(&responses),
        init_rss_kib: median_u64(&init_rss),
        peak_rss_kib: samples
            .iter()
            .filter_map(|s| s.peak_hwm_kib)
            .max()
            .unwrap_or_default(),
        size_bytes: binary.len() as u64,
        // A stripped ELF has no .symtab section (its name is absent from the section name table).
        stripped: !binary.windows(9).any(|w| w == b"\0.symtab\0"),
    }
}

/// The environment Lambda gives the function (as infra/template.yaml configures it), pointed at the
/// emulator and the AWS stand-ins, with dummy credentials. Nothing else: no HOME, so no AWS profile
/// files are read, as in Lambda.
fn environment(function: &str, secret: Secret, world: &World) -> Vec<(String, String)> {
    let cpp = world.emulator.base_url();
    let mut env: Vec<(&str, String)> = vec![
        ("AWS_LAMBDA_FUNCTION_NAME", function.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{function}"),
        ),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/01/01/[$LATEST]bench".into(),
        ),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
        ("AWS_REGION", aws::REGION.into()),
        ("AWS_DEFAULT_REGION", aws::REGION.into()),
        ("AWS_ACCESS_KEY_ID", "AKIDBENCH".into()),
        ("AWS_SECRET_ACCESS_KEY", "bench-secret-key".into()),
        ("AWS_SESSION_TOKEN", "bench-session-token".into()),
        ("AWS_ENDPOINT_URL", world.aws.url.clone()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("TZ", ":UTC".into()),
    ];
    match secret {
        Secret::None => env.extend([
            ("STATE_MACHINE_ARN", aws::STATE_MACHINE_ARN.into()),
            ("MANIFEST_BUCKET", BUCKET.into()),
            ("MANIFEST_PREFIX", MANIFEST_PREFIX.into()),
        ]),
        Secret::SecretsManager | Secret::Environment => {
            env.extend([
                ("CPP_API_BASE_URL", cpp.clone()),
                ("CPP_LOGIN_BASE_URL", cpp),
                ("CPP_TENANT_ID", "bench-tenant".into()),
                ("CPP_CLIENT_ID", EmulatorConfig::default().client_id),
            ]);
            if secret == Secret::SecretsManager {
                env.push(("CPP_CLIENT_SECRET_ARN", aws::SECRET_ARN.into()));
            } else {
                env.push(("CPP_CLIENT_SECRET", EmulatorConfig::default().client_secret));
            }
        }
    }
    env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn state(offer: &str, action: &str) -> Value {
    let mut state = manifest(Api::Cpp, offer, "1.1.0");
    state["goLive"] = json!("manual");
    state["action"] = json!(action);
    state
}

/// A realistic event for run `run`, with the emulator prepared so every run does the same work.
async fn prepare(function: &str, world: &World, secret: Secret, run: usize) -> BenchResult<Value> {
    let tag = match secret {
        Secret::SecretsManager => "sm",
        Secret::Environment => "env",
        Secret::None => "none",
    };
    let offer = format!("cold-{function}-{tag}-{run:03}");
    Ok(match function {
        // A manifest sent directly; Step Functions answers a repeated start of a running execution alike.
        "build-finished" => manifest(Api::Cpp, "cold-build-finished", "1.1.0"),
        // A fresh offer each run: add the version, PUT, publish.
        "update-and-publish" => {
            world.seed(Api::Cpp, &offer);
            state(&offer, "publish")
        }
        // A publish an hour into certification.
        "check-last-operation" => {
            world.seed(Api::Cpp, &offer);
            let published = world
                .functions
                .invoke("update-and-publish", state(&offer, "publish"))
                .await
                .map_err(|(e, m)| format!("preparing {offer}: {e}: {m}"))?;
            world.advance(Duration::from_secs(3_600));
            published
        }
        // A publish waiting at sign-off, and a person's go-live execution.
        "validate-and-go-live" => {
            world.seed(Api::Cpp, &offer);
            world
                .functions
                .invoke("update-and-publish", state(&offer, "publish"))
                .await
                .map_err(|(e, m)| format!("preparing {offer}: {e}: {m}"))?;
            world.advance(StepDurations::default().until_signoff() + Duration::from_secs(60));
            state(&offer, "goLive")
        }
        other => return Err(format!("no event for {other}").into()),
    })
}

/// The function did the real work: an answer that shows it.
fn check(function: &str, start: &ColdStart) -> BenchResult<()> {
    let response = start.response.as_ref().ok_or("no response")?;
    let ok = match function {
        "build-finished" => response["started"].as_array().is_some_and(|s| s.len() == 1),
        "update-and-publish" => {
            response["changed"] == true && response["operation"]["kind"] == "publish"
        }
        "check-last-operation" => {
            response["operationStatus"] == "running" && response["nextCheckSeconds"].is_u64()
        }
        "validate-and-go-live" => response["outcome"] == "goLiveStarted",
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{function} answered unexpectedly: {response}").into())
    }
}

/// The binaries' directory: `target/release` under the workspace.
pub fn default_bin_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release")
}
