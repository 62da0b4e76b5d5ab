//! One emulator (both APIs) and clients configured for it, with the clients' clock and the
//! emulator's virtual clock moved together, so tests run days of certification without sleeping.

use std::sync::Arc;
use std::time::Duration;

use cpp_emulator::{Emulator, EmulatorConfig, LoggedRequest, RunningEmulator};
use secrecy::SecretString;
use serde_json::{Value, json};
use shared::clock::ManualClock;
use shared::config::{Config, ConfigError};
use shared::cpp::{ClientOptions, CppClient};
use shared::deps::Deps;
use shared::ingestion::{IngestionClient, IngestionOptions};
use shared::marketplace::Api;
use shared::retry::RetrySettings;
use shared::workflow::{GoLiveMode, PublishRequest};

pub use cpp_emulator;

/// The seeded test offer: publisher, offer and plan.
pub const PUBLISHER: &str = "contoso";
pub const OFFER: &str = "contoso-linux";
pub const PLAN: &str = "gen2";
/// The version the seeded plan already holds.
pub const SEEDED_VERSION: &str = "1.0.0";
/// The emulator's seeded Product Ingestion offer, its plan of one image type (x64Gen2) and of two.
pub const PI_OFFER: &str = "contoso-linux";
pub const PI_PLAN: &str = "contoso-linux-single";
pub const PI_PLAN_TWO_TYPES: &str = "contoso-linux-gen2";
/// The version both seeded plans hold, published live.
pub const PI_SEEDED_VERSION: &str = "1.0.20260301";
/// How long the emulator takes for a job that only edits the draft (real time).
pub const PI_DRAFT_JOB_DELAY: Duration = Duration::from_millis(40);

pub struct Harness {
    pub emulator: RunningEmulator,
    pub clock: Arc<ManualClock>,
    pub deps: Deps,
}

impl Harness {
    /// The emulator with its documented Contoso offer and the test offer `contoso/contoso-linux`.
    pub async fn start() -> Self {
        Self::with(EmulatorConfig::default(), &[]).await
    }

    /// A harness with emulator settings and extra configuration variables (e.g. `CPP_MAX_IMAGES_PER_PLAN`).
    pub async fn with(mut emulator_config: EmulatorConfig, env: &[(&str, &str)]) -> Self {
        emulator_config.ingestion.draft_job_delay = PI_DRAFT_JOB_DELAY;
        let (client_id, secret) = (
            emulator_config.client_id.clone(),
            emulator_config.client_secret.clone(),
        );
        let emulator = Emulator::start(emulator_config)
            .await
            .unwrap_or_else(|e| panic!("emulator: {e}"));
        emulator.seed_offer(test_offer(&[SEEDED_VERSION]));
        let base = emulator.base_url();
        let config = functions_config(&base, &client_id, &secret, env)
            .unwrap_or_else(|e| panic!("config: {e}"));
        let clock = Arc::new(ManualClock::starting_now());
        let options = client_options(clock.clone());
        let client =
            CppClient::with_options(&config, SecretString::from(secret.clone()), options.clone())
                .unwrap_or_else(|e| panic!("client: {e}"));
        let ingestion = IngestionClient::with_options(
            &config,
            SecretString::from(secret),
            options,
            fast_jobs(),
        )
        .unwrap_or_else(|e| panic!("client: {e}"));
        let deps = Deps {
            config,
            cpp: client,
            ingestion,
            clock: clock.clone(),
        };
        Self {
            emulator,
            clock,
            deps,
        }
    }

    pub fn client(&self) -> &CppClient {
        &self.deps.cpp
    }

    /// The seeded Product Ingestion offer as stored: draft, preview and live trees, submissions, jobs.
    pub fn product(&self) -> Value {
        self.emulator
            .ingestion_state(PI_OFFER)
            .unwrap_or(Value::Null)
    }

    /// The version numbers plan `plan` holds in `target` ("draft", "preview" or "live"), with their
    /// lifecycle state.
    pub fn pi_versions_in(&self, target: &str, plan: &str) -> Vec<(String, String)> {
        let state = self.product();
        let plan_id = state[target]["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| {
                r["id"].as_str().is_some_and(|id| id.starts_with("plan/"))
                    && r["identity"]["externalId"] == plan
            })
            .and_then(|r| r["id"].as_str().map(str::to_owned))
            .unwrap_or_default();
        state[target]["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["plan"] == plan_id.as_str() && r["vmImageVersions"].is_array())
            .map(|tc| {
                tc["vmImageVersions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|v| {
                        (
                            v["versionNumber"].as_str().unwrap_or_default().to_owned(),
                            v["lifecycleState"]
                                .as_str()
                                .unwrap_or("generallyAvailable")
                                .to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A harness whose functions sign in with no secret: the role's web identity token from the
    /// emulator's STS stand-in, trusted by a federated credential (`CPP_CREDENTIAL=awsFederation`).
    pub async fn federated() -> Self {
        let mut h = Self::start().await;
        let base = h.emulator.base_url();
        let config = functions_config_federated(&base);
        h.emulator
            .add_federated_credential(cpp_emulator::FederatedCredential {
                issuer: h.emulator.sts_issuer(),
                subject: cpp_emulator::DEFAULT_CALLER_ROLE.into(),
                audiences: vec![cpp_emulator::ENTRA_AUDIENCE.into()],
            });
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::Config::builder()
                .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
                .endpoint_url(h.emulator.sts_url())
                .region(aws_sdk_sts::config::Region::new("eu-west-1"))
                .credentials_provider(aws_sdk_sts::config::Credentials::new(
                    "AKIDFUNCTIONROLE",
                    "role-session-key",
                    None,
                    None,
                    "harness",
                ))
                .build(),
        );
        let identity = shared::federation::WebIdentity::with_client(sts);
        let options = client_options(h.clock.clone());
        h.deps.cpp = CppClient::with_options(&config, identity.clone(), options.clone())
            .unwrap_or_else(|e| panic!("client: {e}"));
        h.deps.ingestion = IngestionClient::with_options(&config, identity, options, fast_jobs())
            .unwrap_or_else(|e| panic!("client: {e}"));
        h.deps.config = config;
        h
    }

    /// Moves the emulator's clock and the client's clock together.
    pub fn advance(&self, by: Duration) {
        self.emulator.advance_clock(by);
        self.clock.advance(by);
    }

    /// Requests the emulator received whose method is `method` and whose path ends with `suffix`.
    pub fn count(&self, method: &str, suffix: &str) -> usize {
        self.requests(method, suffix).len()
    }

    pub fn requests(&self, method: &str, suffix: &str) -> Vec<LoggedRequest> {
        self.emulator
            .requests()
            .into_iter()
            .filter(|r| {
                r.method == method
                    && r.path
                        .trim_end_matches('/')
                        .ends_with(suffix.trim_end_matches('/'))
            })
            .collect()
    }

    /// The test offer's draft as stored.
    pub fn draft(&self) -> Value {
        self.emulator.draft(PUBLISHER, OFFER).unwrap_or(Value::Null)
    }

    /// The versions the test plan holds in `slot` ("draft", "preview" or "production").
    pub fn versions_in(&self, slot: &str) -> Vec<String> {
        self.plan_versions_in(slot, PLAN)
    }

    /// The versions plan `plan` of the test offer holds in `slot`.
    pub fn plan_versions_in(&self, slot: &str, plan: &str) -> Vec<String> {
        let doc = match slot {
            "draft" => self.emulator.draft(PUBLISHER, OFFER),
            other => self.emulator.slot(PUBLISHER, OFFER, other),
        };
        let plans = doc
            .as_ref()
            .and_then(|d| d["definition"]["plans"].as_array().cloned())
            .unwrap_or_default();
        plans
            .iter()
            .find(|p| p["planId"] == plan)
            .and_then(|p| p[shared::cpp::VM_IMAGES_KEY].as_object())
            .map(|images| images.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// The functions' configuration for an emulator at `base` with its client id and secret, with `env`
/// overriding or adding variables (e.g. `CPP_MAX_POLLS`).
pub fn functions_config(
    base: &str,
    client_id: &str,
    secret: &str,
    env: &[(&str, &str)],
) -> Result<Config, ConfigError> {
    let ingestion_base = format!("{base}/rp/product-ingestion");
    Config::from_lookup(|name| {
        let fixed = match name {
            "CPP_API_BASE_URL" | "CPP_LOGIN_BASE_URL" => Some(base),
            "INGESTION_API_BASE_URL" => Some(ingestion_base.as_str()),
            "CPP_TENANT_ID" => Some("tenant-1"),
            "CPP_CLIENT_ID" => Some(client_id),
            "CPP_CLIENT_SECRET" => Some(secret),
            _ => None,
        };
        env.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .or(fixed)
            .map(str::to_owned)
    })
}

/// The functions' configuration with `CPP_CREDENTIAL=awsFederation`: no secret anywhere.
pub fn functions_config_federated(base: &str) -> Config {
    let ingestion = format!("{base}/rp/product-ingestion");
    Config::from_lookup(|name| {
        match name {
            "CPP_API_BASE_URL" | "CPP_LOGIN_BASE_URL" => Some(base),
            "INGESTION_API_BASE_URL" => Some(ingestion.as_str()),
            "CPP_TENANT_ID" => Some("tenant-1"),
            "CPP_CLIENT_ID" => Some("emulator-client-id"),
            "CPP_CREDENTIAL" => Some("awsFederation"),
            _ => None,
        }
        .map(str::to_owned)
    })
    .unwrap_or_else(|e| panic!("config: {e}"))
}

/// Clients that wait on the harness's clock, with short timeouts for a local emulator.
fn client_options(clock: Arc<ManualClock>) -> ClientOptions {
    ClientOptions {
        clock,
        retry: RetrySettings {
            min_delay: Duration::from_millis(200),
            ..RetrySettings::default()
        },
        request_timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(1),
        http: None,
    }
}

/// Job waits at the pace of the emulator's fast draft jobs.
pub fn fast_jobs() -> IngestionOptions {
    IngestionOptions {
        draft_job_poll: Duration::from_millis(20),
        draft_job_timeout: Duration::from_secs(5),
    }
}

/// A request to publish `version` on the seeded Product Ingestion plan of one image type.
pub fn pi_request(version: &str) -> PublishRequest {
    PublishRequest {
        api: Some(Api::ProductIngestion),
        publisher_id: String::new(),
        offer_id: PI_OFFER.into(),
        plan_id: PI_PLAN.into(),
        ..request(version)
    }
}

/// A SAS URL for the image `name`, valid for a year.
pub fn sas_url(name: &str) -> String {
    format!(
        "https://contosobuilds.blob.core.windows.net/vhds/{name}.vhd?sv=2021-08-06&sr=b&sp=rl&se=2099-01-31T00:00:00Z&sig=sig-{name}"
    )
}

/// A request to publish `version` of the test plan with the image named like the version.
pub fn request(version: &str) -> PublishRequest {
    PublishRequest {
        api: None,
        publisher_id: PUBLISHER.into(),
        offer_id: OFFER.into(),
        plan_id: PLAN.into(),
        version: version.into(),
        os_vhd_url: sas_url(version),
        lun_vhd_details: vec![],
        notification_emails: "release@contoso.com".into(),
        go_live: GoLiveMode::Manual,
        images: vec![],
        plans: vec![],
    }
}

/// The test offer with `versions` in plan gen2 (images named like their version), a second
/// plan, and fields the code has never seen at every level.
pub fn test_offer(versions: &[&str]) -> Value {
    let images: serde_json::Map<String, Value> = versions
        .iter()
        .map(|v| (v.to_string(), json!({"osVhdUrl": sas_url(v), "lunVhdDetails": [], "mediaName": format!("media-{v}")})))
        .collect();
    json!({
        "publisherId": PUBLISHER,
        "offerTypeId": "microsoft-azure-virtualmachines",
        "id": OFFER,
        "offerTypeVersions": {"microsoft-azure-virtualmachines": 87, "microsoft-azure-marketplace": 39},
        "pcMigrationStatus": "none",
        "isvUpgradeRequest": false,
        "definition": {
            "displayText": "Contoso Linux",
            "offer": {
                "microsoft-azure-marketplace.title": "Contoso Linux — «ünïcode»",
                "microsoft-azure-marketplace.leadDestination": "None",
                "microsoft-azure-marketplace.tableLeadConfiguration": {},
                "microsoft-azure-marketplace.categoryMap": [{"categoryL1": "compute", "categoryL2-compute": ["operating-systems"]}]
            },
            "plans": [
                {"planId": "gen1", "microsoft-azure-virtualmachines.skuTitle": "Gen 1",
                 "microsoft-azure-virtualmachines.vmImages": {"0.9.0": {"osVhdUrl": sas_url("gen1-0.9.0"), "lunVhdDetails": []}},
                 "virtualMachinePricing": {"isByol": true, "freeTrialDurationInMonths": 0}, "regions": ["US", "DE"]},
                {"planId": PLAN, "microsoft-azure-virtualmachines.skuTitle": "Gen 2",
                 "microsoft-azure-virtualmachines.hideSKUForSolutionTemplate": false,
                 "microsoft-azure-virtualmachines.vmImages": images,
                 "virtualMachinePricingV2": {"isByol": true, "price": 0.125}, "regions": ["US"]}
            ]
        }
    })
}

/// An invocation context whose deadline is a minute away.
pub fn context() -> lambda_runtime::Context {
    let mut context = lambda_runtime::Context::default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    context.deadline = (now + Duration::from_secs(60)).as_millis() as u64;
    context
}
