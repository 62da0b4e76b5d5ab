//! Emulator of Microsoft's Cloud Partner Portal REST API (api-version 2017-10-31) and of the Partner
//! Center Product Ingestion API (`/rp/product-ingestion`), quirks included, with a virtual clock,
//! fault injection and a request log. See README.md.

mod app;
mod auth;
mod clock;
mod config;
mod control;
mod error;
mod faults;
mod federation;
mod ingestion;
mod observe;
mod offers;
mod operations;
mod publishing;
mod routes;
mod server;
mod timefmt;
mod validation;

pub use config::{EmulatorConfig, LocationStyle, StepDurations};
pub use faults::{Fault, FaultAction};
pub use federation::{DEFAULT_CALLER_ROLE, ENTRA_AUDIENCE, FederatedCredential};
pub use ingestion::settings::{IngestionSettings, LiveModel};
pub use ingestion::{
    DEFAULT_LIVE_SUBMISSION_ID, DEFAULT_PLAN_ID, DEFAULT_PRODUCT_EXTERNAL_ID, DEFAULT_PRODUCT_ID,
    DEFAULT_PRODUCT_JSON, FIRST_NEW_SUBMISSION_ID, PI_PREFIX, PI_RESOURCE, PI_SCOPE,
    SINGLE_PLAN_ID, default_product,
};
pub use observe::LoggedRequest;
pub use server::{Emulator, RunningEmulator};

/// The VM offer of Microsoft's CPP documentation (publisher `contoso`, offer `contosovirtualmachine`).
pub const DEFAULT_OFFER_JSON: &str = include_str!("../fixtures/contoso-vm-offer.json");

/// [`DEFAULT_OFFER_JSON`] parsed; the offer seeded when `seed_default_offer` is true.
pub fn default_offer() -> serde_json::Value {
    serde_json::from_str(DEFAULT_OFFER_JSON).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_offer_parses() {
        let offer = super::default_offer();
        assert_eq!(offer["id"], "contosovirtualmachine");
        assert_eq!(offer["publisherId"], "contoso");
        assert!(offer.get("eTag").is_none());
        assert!(offer.get("version").is_none());
    }
}
