//! Cloud Partner Portal emulator: Microsoft's documented CPP REST API (api-version 2017-10-31),
//! quirks included, with a virtual clock, fault injection and a request log. See README.md.

mod app;
mod auth;
mod clock;
mod config;
mod control;
mod error;
mod faults;
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
