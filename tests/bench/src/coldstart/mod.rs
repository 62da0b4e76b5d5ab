//! Cold starts of the release `bootstrap`s and of the floor (a minimal lambda_runtime function)
//! against the local Runtime API, and of the Python peer.

mod env;
mod events;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use cpp_emulator::{DEFAULT_CALLER_ROLE, ENTRA_AUDIENCE, EmulatorConfig, FederatedCredential};
use serde::Serialize;

use crate::BenchResult;
use crate::pipeline::World;
use crate::runtime_api::{ColdStart, RuntimeApi};
use crate::stats::{Summary, median_u64};

pub const FUNCTIONS: [&str; 4] = [
    "build-finished",
    "update-and-publish",
    "check-last-operation",
    "validate-and-go-live",
];

/// The minimal lambda_runtime function (src/bin/floor.rs), built by `-p bench` beside the bench.
pub const FLOOR: &str = "floor";

/// How a function signs in to Entra ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignIn {
    /// A client secret read from Secrets Manager by the first token request, as deployed.
    SecretsManager,
    /// A client secret in `CPP_CLIENT_SECRET`, as in local runs.
    Environment,
    /// No secret (`CPP_CREDENTIAL=awsFederation`): an STS web identity token at the first token request.
    AwsFederation,
    /// build-finished holds no Microsoft credentials; nor does the floor.
    None,
}

impl SignIn {
    pub fn label(self) -> &'static str {
        match self {
            Self::SecretsManager => "Secrets Manager (deployed)",
            Self::Environment => "CPP_CLIENT_SECRET (local)",
            Self::AwsFederation => "AWS federation (deployed)",
            Self::None => "none needed (deployed)",
        }
    }

    /// A short name for the offers of its runs.
    fn tag(self) -> &'static str {
        match self {
            Self::SecretsManager => "sm",
            Self::Environment => "env",
            Self::AwsFederation => "fed",
            Self::None => "none",
        }
    }

    /// The ways each function is measured: every way it signs in when deployed, and the local one.
    fn of(function: &str) -> &'static [SignIn] {
        match function {
            FLOOR | "build-finished" => &[Self::None],
            _ => &[Self::SecretsManager, Self::AwsFederation, Self::Environment],
        }
    }
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ColdRow {
    pub function: String,
    pub credential: String,
    /// A path that runs in AWS (the local secret and the floor do not).
    pub deployed: bool,
    pub init: Summary,
    pub first_response: Summary,
    pub init_rss_kib: u64,
    /// Highest VmHWM seen after the first invocation, over all runs.
    pub peak_rss_kib: u64,
    pub size_bytes: u64,
    pub stripped: bool,
}

impl ColdRow {
    /// A row of no runs: the floor when the cold starts were not run.
    pub fn unmeasured(&self) -> bool {
        self.init.samples == 0
    }
}

/// The functions' rows, and the floor measured the same way in the same run (none of either when
/// the cold starts were not run).
#[derive(Debug, Default)]
pub struct ColdStarts {
    pub rows: Vec<ColdRow>,
    pub floor: ColdRow,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerRow {
    pub name: String,
    pub what: String,
    pub init: Summary,
    pub init_rss_kib: u64,
}

const PEER_SCRIPT: &str = include_str!("../../peer/cloudpub_init.py");

/// `runs` cold starts of the floor and of each function's ways of signing in (after one discarded
/// run that loads the file into the page cache), against one Runtime API stand-in.
pub async fn ours(bin_dir: &Path, runs: usize, logs: &Path) -> BenchResult<ColdStarts> {
    let world = World::start(EmulatorConfig::default(), &[]).await?;
    // Entra's side of AWS federation: the app trusts the STS stand-in's tokens for the functions' role.
    world
        .emulator
        .add_federated_credential(FederatedCredential {
            issuer: world.emulator.sts_issuer(),
            subject: DEFAULT_CALLER_ROLE.into(),
            audiences: vec![ENTRA_AUDIENCE.into()],
        });
    let api = RuntimeApi::start().await?;
    let mut floor = None;
    let mut rows = Vec::new();
    // The floor first: its figures are the yardstick for every row after it.
    for function in std::iter::once(FLOOR).chain(FUNCTIONS) {
        let binary = bin_dir.join(function);
        let bytes = std::fs::read(&binary).map_err(|e| {
            format!(
                "{}: {e} (build it with cargo build --release)",
                binary.display()
            )
        })?;
        for &sign_in in SignIn::of(function) {
            let env = env::environment(function, sign_in, &world);
            let log = logs.join(format!("{function}.log"));
            let mut samples = Vec::new();
            for run in 0..=runs {
                let tokens_before = world.emulator.issued_web_identity_tokens().len();
                let event = events::prepare(function, &world, sign_in, run).await?;
                let start = api
                    .cold_start(&binary, &[], &env, Some(event.clone()), &log)
                    .await
                    .map_err(|e| {
                        format!("{function} cold start {run}: {e} (log: {})", log.display())
                    })?;
                events::check(function, &event, &start)?;
                // Federation's first response must carry a real STS call, not a token from elsewhere.
                let fetched = world
                    .emulator
                    .issued_web_identity_tokens()
                    .len()
                    .saturating_sub(tokens_before);
                if sign_in == SignIn::AwsFederation && fetched != 1 {
                    return Err(format!(
                        "{function} with AWS federation: {fetched} STS web identity tokens in run {run}, expected 1"
                    )
                    .into());
                }
                if run > 0 {
                    samples.push(start);
                }
            }
            let row = row(function, sign_in, &samples, &bytes);
            if function == FLOOR {
                floor = Some(row);
            } else {
                rows.push(row);
            }
        }
    }
    let floor = floor.ok_or("the floor was not measured")?;
    Ok(ColdStarts { rows, floor })
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

fn row(function: &str, sign_in: SignIn, samples: &[ColdStart], binary: &[u8]) -> ColdRow {
    let inits: Vec<Duration> = samples.iter().map(|s| s.init).collect();
    let responses: Vec<Duration> = samples.iter().filter_map(|s| s.first_response).collect();
    let init_rss: Vec<u64> = samples.iter().map(|s| s.init_hwm_kib).collect();
    let floor = function == FLOOR;
    ColdRow {
        function: function.to_owned(),
        credential: if floor {
            "none: echoes the event".to_owned()
        } else {
            sign_in.label().to_owned()
        },
        deployed: !floor && sign_in != SignIn::Environment,
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

/// The binaries' directory: `target/release` under the workspace.
pub fn default_bin_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release")
}
