//! Configuration from the environment (README, *Configuration*): read once per cold start, every problem named.

use std::fmt;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

/// A missing or malformed configuration variable. The message names the variable, never a secret's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration {variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl ConfigError {
    pub fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        Self {
            variable,
            problem: problem.into(),
        }
    }
}

/// Which Microsoft API an offer is published through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Api {
    /// The Cloud Partner Portal API: offers that existed before the move to Partner Center.
    #[default]
    Cpp,
    /// The Partner Center Product Ingestion API: every offer created in Partner Center.
    ProductIngestion,
}

impl Api {
    pub const NAMES: [&str; 2] = ["cpp", "productIngestion"];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cpp => "cpp",
            Self::ProductIngestion => "productIngestion",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "cpp" => Some(Self::Cpp),
            "productIngestion" => Some(Self::ProductIngestion),
            _ => None,
        }
    }

    /// How people call it, in messages.
    pub fn title(self) -> &'static str {
        match self {
            Self::Cpp => "CPP",
            Self::ProductIngestion => "Product Ingestion",
        }
    }
}

/// How the functions sign in to Entra ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialMode {
    /// A client secret (`CPP_CLIENT_SECRET`, or `CPP_CLIENT_SECRET_ARN` in Secrets Manager).
    Secret,
    /// The function's AWS role: a web identity token from STS as the client assertion; no secret.
    AwsFederation,
}

/// Where the service principal's secret comes from.
#[derive(Clone)]
pub enum ClientSecretSource {
    /// `CPP_CLIENT_SECRET`, for local runs.
    Value(SecretString),
    /// `CPP_CLIENT_SECRET_ARN`: a Secrets Manager secret, read once per cold start, by the first
    /// token request.
    SecretsManager { arn: String },
}

impl fmt::Debug for ClientSecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value(_) => f.write_str("Value(REDACTED)"),
            Self::SecretsManager { arn } => {
                f.debug_struct("SecretsManager").field("arn", arn).finish()
            }
        }
    }
}

/// An offer named `[api:]publisher/offer` in `CPP_WATCH_OFFERS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedOffer {
    /// The API it is read through: `MARKETPLACE_API` when the entry names none.
    pub api: Option<Api>,
    pub publisher_id: String,
    pub offer_id: String,
}

#[derive(Debug)]
pub struct Config {
    pub api_base_url: Url,
    pub login_base_url: Url,
    pub api_version: String,
    pub tenant_id: String,
    pub client_id: String,
    /// `CPP_CREDENTIAL`: how the app proves who it is to Entra ID.
    pub credential: CredentialMode,
    /// The secret in `secret` mode; `None` in `awsFederation`, where there is none.
    pub client_secret: Option<ClientSecretSource>,
    pub publisher_id: Option<String>,
    pub max_images_per_plan: usize,
    pub sas_min_validity_days: u32,
    pub poll_min_seconds: u64,
    pub poll_max_seconds: u64,
    pub max_polls: u32,
    /// `CPP_QUEUE_MAX_DAYS`: how long a run waits for another operation on the offer before `OfferBusy`.
    pub queue_max_days: u32,
    pub watch_offers: Vec<WatchedOffer>,
    /// `MARKETPLACE_API`: the API a manifest without `api` is published through.
    pub marketplace_api: Api,
    /// `INGESTION_API_BASE_URL`: the Product Ingestion API.
    pub ingestion_api_base_url: Url,
    /// `INGESTION_SCHEMA_VERSION`: the `$version` sent on every Product Ingestion call.
    pub ingestion_schema_version: String,
    /// `INGESTION_KEEP_ACTIVE_VERSIONS`: deprecate the oldest active versions beyond this many
    /// (unset: never; Product Ingestion never deletes a published version).
    pub ingestion_keep_active_versions: Option<usize>,
}

/// What build-finished needs: it validates manifests and starts executions, and never calls CPP,
/// so it needs no CPP credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerConfig {
    pub publisher_id: Option<String>,
    pub sas_min_validity_days: u32,
    pub state_machine_arn: String,
    /// `RELEASE_STATE_MACHINE_ARN`: where a release manifest (`targets`) starts; `None` refuses them.
    pub release_state_machine_arn: Option<String>,
    /// `MANIFEST_BUCKET`: storage events from other buckets are refused; `None` accepts any bucket.
    pub manifest_bucket: Option<String>,
    /// `MANIFEST_PREFIX`: storage events for keys not under it are refused; `None` accepts any key.
    pub manifest_prefix: Option<String>,
    /// `MARKETPLACE_API`: written into the run of a manifest that names no `api`.
    pub marketplace_api: Api,
}

impl TriggerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(&lookup);
        Ok(Self {
            publisher_id: vars.optional("CPP_PUBLISHER_ID"),
            sas_min_validity_days: vars.sas_min_validity_days()?,
            state_machine_arn: vars.required("STATE_MACHINE_ARN")?,
            release_state_machine_arn: vars.optional("RELEASE_STATE_MACHINE_ARN"),
            manifest_bucket: vars.optional("MANIFEST_BUCKET"),
            manifest_prefix: vars.optional("MANIFEST_PREFIX"),
            marketplace_api: vars.api()?,
        })
    }
}

/// The longest `CPP_QUEUE_MAX_DAYS`: with a 16-day publication after it, it fits the state
/// machine's 45-day execution timeout (checked in tests/infra-checks).
pub const QUEUE_MAX_DAYS_LIMIT: u32 = 28;

/// CPP accepts at most this many image versions per plan.
pub const CPP_IMAGE_LIMIT: usize = 8;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(&lookup);
        let credential = match vars.optional("CPP_CREDENTIAL").as_deref() {
            None | Some("secret") => CredentialMode::Secret,
            Some("awsFederation") => CredentialMode::AwsFederation,
            Some(other) => {
                return Err(ConfigError::new(
                    "CPP_CREDENTIAL",
                    format!("{other:?} is not a credential mode (secret or awsFederation)"),
                ));
            }
        };
        let secret_vars = (
            vars.optional("CPP_CLIENT_SECRET"),
            vars.optional("CPP_CLIENT_SECRET_ARN"),
        );
        let client_secret = match (credential, secret_vars) {
            (CredentialMode::AwsFederation, (None, None)) => None,
            (CredentialMode::AwsFederation, (secret, _)) => {
                let name = if secret.is_some() {
                    "CPP_CLIENT_SECRET"
                } else {
                    "CPP_CLIENT_SECRET_ARN"
                };
                return Err(ConfigError::new(
                    name,
                    "is not used with CPP_CREDENTIAL=awsFederation, which needs no secret; remove it",
                ));
            }
            (CredentialMode::Secret, secrets) => Some(secret_source(secrets)?),
        };
        let config = Self {
            credential,
            api_base_url: vars.url("CPP_API_BASE_URL", "https://cloudpartner.azure.com")?,
            login_base_url: vars.url("CPP_LOGIN_BASE_URL", "https://login.microsoftonline.com")?,
            api_version: vars
                .optional("CPP_API_VERSION")
                .unwrap_or_else(|| "2017-10-31".into()),
            tenant_id: vars.required("CPP_TENANT_ID")?,
            client_id: vars.required("CPP_CLIENT_ID")?,
            client_secret,
            publisher_id: vars.optional("CPP_PUBLISHER_ID"),
            max_images_per_plan: vars.number(
                "CPP_MAX_IMAGES_PER_PLAN",
                8,
                1,
                CPP_IMAGE_LIMIT as u64,
            )? as usize,
            sas_min_validity_days: vars.sas_min_validity_days()?,
            poll_min_seconds: vars.number("CPP_POLL_MIN_SECONDS", 300, 1, 31_536_000)?,
            poll_max_seconds: vars.number("CPP_POLL_MAX_SECONDS", 21_600, 1, 31_536_000)?,
            max_polls: vars.number("CPP_MAX_POLLS", 200, 1, 24_000)? as u32,
            queue_max_days: vars.number(
                "CPP_QUEUE_MAX_DAYS",
                18,
                0,
                u64::from(QUEUE_MAX_DAYS_LIMIT),
            )? as u32,
            watch_offers: parse_watch_offers(vars.optional("CPP_WATCH_OFFERS").as_deref())?,
            marketplace_api: vars.api()?,
            ingestion_api_base_url: vars.url(
                "INGESTION_API_BASE_URL",
                "https://graph.microsoft.com/rp/product-ingestion",
            )?,
            ingestion_schema_version: vars
                .optional("INGESTION_SCHEMA_VERSION")
                .unwrap_or_else(|| "2022-07-01".into()),
            ingestion_keep_active_versions: match vars.optional("INGESTION_KEEP_ACTIVE_VERSIONS") {
                Some(_) => {
                    Some(vars.number("INGESTION_KEEP_ACTIVE_VERSIONS", 0, 1, 1_000)? as usize)
                }
                None => None,
            },
        };
        if config.poll_min_seconds > config.poll_max_seconds {
            return Err(ConfigError::new(
                "CPP_POLL_MIN_SECONDS",
                format!(
                    "{} is above CPP_POLL_MAX_SECONDS ({})",
                    config.poll_min_seconds, config.poll_max_seconds
                ),
            ));
        }
        Ok(config)
    }
}

/// Where the client secret comes from, of `CPP_CLIENT_SECRET` and `CPP_CLIENT_SECRET_ARN`.
fn secret_source(
    (secret, arn): (Option<String>, Option<String>),
) -> Result<ClientSecretSource, ConfigError> {
    match (secret, arn) {
        (Some(secret), None) => Ok(ClientSecretSource::Value(SecretString::from(secret))),
        (None, Some(arn)) => Ok(ClientSecretSource::SecretsManager {
            arn: parse_secret_arn(&arn)?,
        }),
        (Some(_), Some(_)) => Err(ConfigError::new(
            "CPP_CLIENT_SECRET",
            "set either CPP_CLIENT_SECRET or CPP_CLIENT_SECRET_ARN, not both",
        )),
        (None, None) => Err(ConfigError::new(
            "CPP_CLIENT_SECRET_ARN",
            "missing: set CPP_CLIENT_SECRET_ARN (or CPP_CLIENT_SECRET for local runs), or CPP_CREDENTIAL=awsFederation",
        )),
    }
}

struct Vars<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Vars<'_> {
    /// A set but blank variable counts as unset, as in most deployment tools.
    fn optional(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.optional(name)
            .ok_or_else(|| ConfigError::new(name, "missing"))
    }

    fn url(&self, name: &'static str, default: &str) -> Result<Url, ConfigError> {
        let raw = self.optional(name).unwrap_or_else(|| default.to_owned());
        let url = Url::parse(&raw)
            .map_err(|e| ConfigError::new(name, format!("not a URL ({e}): {raw:?}")))?;
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        // Tokens and secrets travel to these hosts: plain http only to this machine.
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(ConfigError::new(
                name,
                format!("must be https (http only for localhost): {raw:?}"),
            ));
        }
        if url.query().is_some() || url.cannot_be_a_base() {
            return Err(ConfigError::new(
                name,
                format!("must be a plain base URL: {raw:?}"),
            ));
        }
        Ok(url)
    }

    fn api(&self) -> Result<Api, ConfigError> {
        let Some(raw) = self.optional("MARKETPLACE_API") else {
            return Ok(Api::default());
        };
        Api::parse(&raw).ok_or_else(|| {
            ConfigError::new(
                "MARKETPLACE_API",
                format!("{raw:?} is not an API (one of {})", Api::NAMES.join(", ")),
            )
        })
    }

    fn sas_min_validity_days(&self) -> Result<u32, ConfigError> {
        Ok(self.number("CPP_SAS_MIN_VALIDITY_DAYS", 21, 0, 3650)? as u32)
    }

    fn number(
        &self,
        name: &'static str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, ConfigError> {
        let Some(raw) = self.optional(name) else {
            return Ok(default);
        };
        let value: u64 = raw
            .parse()
            .map_err(|_| ConfigError::new(name, format!("expected a whole number, got {raw:?}")))?;
        if !(min..=max).contains(&value) {
            return Err(ConfigError::new(
                name,
                format!("{value} is outside the allowed range {min}..={max}"),
            ));
        }
        Ok(value)
    }
}

fn parse_secret_arn(arn: &str) -> Result<String, ConfigError> {
    if arn.starts_with("arn:") && arn.contains(":secretsmanager:") {
        Ok(arn.to_owned())
    } else {
        Err(ConfigError::new(
            "CPP_CLIENT_SECRET_ARN",
            format!("expected a Secrets Manager ARN (arn:...:secretsmanager:...), got {arn:?}"),
        ))
    }
}

fn parse_watch_offers(raw: Option<&str>) -> Result<Vec<WatchedOffer>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (api, named) = match entry.split_once(':') {
                Some((api, rest)) => match Api::parse(api) {
                    Some(api) => (Some(api), rest),
                    None => {
                        return Err(ConfigError::new(
                            "CPP_WATCH_OFFERS",
                            format!(
                                "{entry:?}: unknown API {api:?} (one of {})",
                                Api::NAMES.join(", ")
                            ),
                        ));
                    }
                },
                None => (None, entry),
            };
            match named.split_once('/') {
                Some((publisher, offer))
                    if !publisher.is_empty() && !offer.is_empty() && !offer.contains('/') =>
                {
                    Ok(WatchedOffer {
                        api,
                        publisher_id: publisher.to_owned(),
                        offer_id: offer.to_owned(),
                    })
                }
                _ => Err(ConfigError::new(
                    "CPP_WATCH_OFFERS",
                    format!("expected [api:]publisher/offer, got {entry:?}"),
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
