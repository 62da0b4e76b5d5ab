//! How an emulator instance behaves: credentials, timings and the documented quirks it can switch between.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ingestion::settings::IngestionSettings;

/// Settings of one emulator instance; `Default` gives Microsoft's documented behaviour.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Client id the token endpoint accepts.
    pub client_id: String,
    /// Client secret the token endpoint accepts.
    pub client_secret: String,
    /// Lifetime of issued tokens on the virtual clock (AAD reports one second less in `expires_in`).
    pub token_lifetime: Duration,
    /// Tokens expire on the real clock instead: for a harness whose clients cache tokens on the real
    /// clock while the virtual one jumps days, so they never meet a 401 a deployment would not.
    pub tokens_on_real_clock: bool,
    /// Virtual durations of the publish steps.
    pub steps: StepDurations,
    /// Status an operation reports when it ends well (clients disagree: succeeded/complete/completed).
    pub success_status: String,
    /// true: a publish op reports `success_status` at sign-off; false: it stays `running`.
    pub publish_succeeds_at_signoff: bool,
    /// Shape of the `Location` header of publish/golive/cancel.
    pub location_style: LocationStyle,
    /// Virtual time between a cancel request and the operation reporting `canceled`.
    pub cancel_delay: Duration,
    /// Seed publisher `contoso` with the documented VM offer (`default_offer()`) and the Product
    /// Ingestion product `contoso-linux` (`default_product()`, already live).
    pub seed_default_offer: bool,
    /// The Product Ingestion knobs (also `/_emulator/ingestion/settings` at run time).
    pub ingestion: IngestionSettings,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            client_id: "emulator-client-id".to_owned(),
            client_secret: "emulator-client-secret".to_owned(),
            token_lifetime: Duration::from_secs(3600),
            tokens_on_real_clock: false,
            steps: StepDurations::default(),
            success_status: "succeeded".to_owned(),
            publish_succeeds_at_signoff: false,
            location_style: LocationStyle::Migrated,
            cancel_delay: Duration::from_secs(120),
            seed_default_offer: true,
            ingestion: IngestionSettings::default(),
        }
    }
}

/// Virtual durations of the publishing steps (defaults follow the documented estimates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepDurations {
    /// `displaydummycertify`, "Validate Pre-Requisites".
    pub validate: Duration,
    /// `displaycertify`, "Certification".
    pub certification: Duration,
    /// `displayprovision`, "Provisioning".
    pub provisioning: Duration,
    /// `displaypackage`, "Packaging and Lead Generation Registration".
    pub packaging: Duration,
    /// `live`, run by the go-live operation.
    pub go_live: Duration,
}

const MINUTE: u64 = 60;
const DAY: u64 = 24 * 60 * MINUTE;

impl Default for StepDurations {
    fn default() -> Self {
        Self {
            validate: Duration::from_secs(15 * MINUTE),
            certification: Duration::from_secs(3 * DAY),
            provisioning: Duration::from_secs(DAY),
            packaging: Duration::from_secs(50 * MINUTE),
            go_live: Duration::from_secs(3 * DAY),
        }
    }
}

impl StepDurations {
    /// Virtual time from the start of a publish to the sign-off step.
    pub fn until_signoff(&self) -> Duration {
        self.validate + self.certification + self.provisioning + self.packaging
    }
}

/// Which documented `Location` format the emulator returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LocationStyle {
    /// Offers migrated to Partner Center: `/api/publishers/{p}/offers/{o}/operations/{id}`.
    #[default]
    Migrated,
    /// Non-migrated offers: `/api/operations/{p}${o}${publishingVersion}$preview`.
    Legacy,
}
