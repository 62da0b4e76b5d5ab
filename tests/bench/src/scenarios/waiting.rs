//! The waiting cost of one publication: how often the run looks at Microsoft while it works, and
//! what Step Functions bills and records for it, with adaptive and with fixed 5-minute polling.

use std::time::Duration;

use cpp_emulator::{EmulatorConfig, IngestionSettings, StepDurations};
use serde::Serialize;
use shared::config::Api;

use super::{OFFER, VERSION, outcome};
use crate::BenchResult;
use crate::pipeline::World;
use crate::statemachine::{Ending, Tally};

/// Step Functions Standard: USD per state transition ($0.025 per 1,000).
pub const PRICE_PER_TRANSITION: f64 = 0.025 / 1000.0;
/// Step Functions' hard limit on one execution's history.
pub const HISTORY_LIMIT: u64 = 25_000;
const DAY: u64 = 86_400;

/// One publication's polling and Step Functions bill.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    pub api: Api,
    pub name: String,
    pub durations: String,
    pub polling: String,
    pub outcome: String,
    pub simulated_days: f64,
    pub polls_publish: u64,
    pub polls_go_live: u64,
    pub polls: u64,
    pub transitions: u64,
    pub history_events: u64,
    pub history_margin: i64,
    pub cost_usd: f64,
    pub api_requests: u64,
}

/// One storage event through to live on `api`, with `steps` and `polling`.
pub(super) async fn publication(api: Api, steps: Steps, polling: Polling) -> BenchResult<Timeline> {
    let world = World::start(steps.emulator(api), polling.env()).await?;
    world.seed(api, OFFER);
    let event = world.upload_manifest(api, OFFER, VERSION);
    let time = world.time.join();
    let delivery = world.deliver(event, &time, 1).await?;
    drop(time);
    let requests = world.take_requests().len() as u64;
    Ok(timeline(
        api,
        steps,
        polling,
        &delivery.tally,
        &delivery.executions,
        requests,
    ))
}

/// How long Microsoft takes in a publication.
#[derive(Clone, Copy)]
pub(super) enum Steps {
    /// As documented (CPP's step estimates; Product Ingestion's 3 days of certification, 1 to go live).
    Documented,
    /// Certification overruns its estimate: 16 days from publish to live.
    SixteenDays,
}

impl Steps {
    pub(super) fn emulator(self, api: Api) -> EmulatorConfig {
        let documented = StepDurations::default();
        match (api, self) {
            (_, Self::Documented) => EmulatorConfig::default(),
            (Api::Cpp, Self::SixteenDays) => EmulatorConfig {
                steps: StepDurations {
                    certification: Duration::from_secs(16 * DAY)
                        - (documented.validate
                            + documented.provisioning
                            + documented.packaging
                            + documented.go_live),
                    ..documented
                },
                ..EmulatorConfig::default()
            },
            (Api::ProductIngestion, Self::SixteenDays) => EmulatorConfig {
                ingestion: IngestionSettings {
                    certification_duration: Duration::from_secs(15 * DAY),
                    go_live_duration: Duration::from_secs(DAY),
                    ..IngestionSettings::default()
                },
                ..EmulatorConfig::default()
            },
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Documented => "documented steps",
            Self::SixteenDays => "16-day publication",
        }
    }

    /// The emulator's durations, in words.
    fn durations(self, api: Api) -> String {
        let config = self.emulator(api);
        let days = |d: Duration| d.as_secs() as f64 / DAY as f64;
        match api {
            Api::Cpp => format!(
                "to sign-off {:.2} d, go-live {:.0} d",
                days(config.steps.until_signoff()),
                days(config.steps.go_live)
            ),
            Api::ProductIngestion => format!(
                "certification {:.0} d, go-live {:.0} d",
                days(config.ingestion.certification_duration),
                days(config.ingestion.go_live_duration)
            ),
        }
    }
}

#[derive(Clone, Copy)]
pub(super) enum Polling {
    Adaptive,
    Fixed,
}

impl Polling {
    fn env(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Adaptive => &[],
            // Every 5 minutes, as cloudpub polls (retry_interval=300), with the poll guard out of the way.
            Self::Fixed => &[
                ("CPP_POLL_MIN_SECONDS", "300"),
                ("CPP_POLL_MAX_SECONDS", "300"),
                ("CPP_MAX_POLLS", "24000"),
            ],
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Adaptive => "adaptive (estimate-driven, 5 min..6 h)",
            Self::Fixed => "fixed 5 min (cloudpub's interval)",
        }
    }
}

pub(super) fn timeline(
    api: Api,
    steps: Steps,
    polling: Polling,
    tally: &Tally,
    executions: &[(String, Ending, u64)],
    api_requests: u64,
) -> Timeline {
    let seconds: u64 = executions.iter().map(|(_, _, s)| s).sum();
    Timeline {
        api,
        name: steps.name().to_owned(),
        durations: steps.durations(api),
        polling: polling.describe().to_owned(),
        outcome: outcome(executions, 0),
        simulated_days: seconds as f64 / DAY as f64,
        polls_publish: tally.polls_publish,
        polls_go_live: tally.polls_go_live,
        polls: tally.polls(),
        transitions: tally.transitions,
        history_events: tally.largest_history,
        history_margin: HISTORY_LIMIT as i64 - tally.largest_history as i64,
        cost_usd: tally.transitions as f64 * PRICE_PER_TRANSITION,
        api_requests,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_days_is_sixteen_days_on_both_apis() {
        let cpp = Steps::SixteenDays.emulator(Api::Cpp).steps;
        assert_eq!(
            cpp.until_signoff() + cpp.go_live,
            Duration::from_secs(16 * DAY)
        );
        let pi = Steps::SixteenDays.emulator(Api::ProductIngestion).ingestion;
        assert_eq!(
            pi.certification_duration + pi.go_live_duration,
            Duration::from_secs(16 * DAY)
        );
    }
}
