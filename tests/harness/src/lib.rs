//! One CPP emulator and a client configured for it, with the client's clock and the emulator's
//! virtual clock moved together, so tests run days of certification without sleeping.

use std::sync::Arc;
use std::time::Duration;

use cpp_emulator::{Emulator, EmulatorConfig, LoggedRequest, RunningEmulator};
use secrecy::SecretString;
use serde_json::{Value, json};
use shared::clock::ManualClock;
use shared::config::{Config, ConfigError};
use shared::cpp::{ClientOptions, CppClient};
use shared::deps::CppDeps;
use shared::retry::RetrySettings;
use shared::workflow::{GoLiveMode, PublishRequest};

pub use cpp_emulator;

/// The seeded test offer: publisher, offer and plan.
pub const PUBLISHER: &str = "contoso";
pub const OFFER: &str = "contoso-linux";
pub const PLAN: &str = "gen2";
/// The version the seeded plan already holds.
pub const SEEDED_VERSION: &str = "1.0.0";

pub struct Harness {
    pub emulator: RunningEmulator,
    pub clock: Arc<ManualClock>,
    pub deps: CppDeps,
}

impl Harness {
    /// The emulator with its documented Contoso offer and the test offer `contoso/contoso-linux`.
    pub async fn start() -> Self {
        Self::with(EmulatorConfig::default(), &[]).await
    }

    /// A harness with emulator settings and extra configuration variables (e.g. `CPP_MAX_IMAGES_PER_PLAN`).
    pub async fn with(emulator_config: EmulatorConfig, env: &[(&str, &str)]) -> Self {
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
        let options = ClientOptions {
            clock: clock.clone(),
            retry: RetrySettings {
                min_delay: Duration::from_millis(200),
                ..RetrySettings::default()
            },
            request_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(1),
        };
        let client = CppClient::with_options(&config, SecretString::from(secret), options)
            .unwrap_or_else(|e| panic!("client: {e}"));
        let deps = CppDeps {
            config,
            client,
            clock: clock.clone(),
        };
        Self {
            emulator,
            clock,
            deps,
        }
    }

    pub fn client(&self) -> &CppClient {
        &self.deps.client
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
            .find(|p| p["planId"] == PLAN)
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
    Config::from_lookup(|name| {
        let fixed = match name {
            "CPP_API_BASE_URL" | "CPP_LOGIN_BASE_URL" => Some(base),
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

/// A SAS URL for the image `name`, valid for a year.
pub fn sas_url(name: &str) -> String {
    format!(
        "https://contosobuilds.blob.core.windows.net/vhds/{name}.vhd?sv=2021-08-06&sr=b&sp=rl&se=2099-01-31T00:00:00Z&sig=sig-{name}"
    )
}

/// A request to publish `version` of the test plan with the image named like the version.
pub fn request(version: &str) -> PublishRequest {
    PublishRequest {
        publisher_id: PUBLISHER.into(),
        offer_id: OFFER.into(),
        plan_id: PLAN.into(),
        version: version.into(),
        os_vhd_url: sas_url(version),
        lun_vhd_details: vec![],
        notification_emails: "release@contoso.com".into(),
        go_live: GoLiveMode::Manual,
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
