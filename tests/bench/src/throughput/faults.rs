//! The fixed 429 plans of the throughput run, one per API, each about a tenth of the requests. The
//! emulator's faults hit the next N matching requests and do not sample, so each plan picks what to
//! throttle: the operation checks (most of the traffic) of a rotating share of the offers, and the
//! first reads and some writes of every offer.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use cpp_emulator::{Fault, FaultAction, PI_PREFIX};
use shared::config::Api;

use crate::pipeline::World;
use crate::sim::VirtualTime;

/// An offer of the run: its name, and the id its API's paths carry (offer id or product GUID).
pub struct Offer {
    pub name: String,
    pub id: String,
}

const CPP_PLAN: &str = "429 with Retry-After: 1 on a fixed subset (the emulator's faults do not sample): \
the next GET operation of every 10th offer, round robin, re-armed each time simulated time moves; every offer's \
first GET submissions; every 2nd offer's first GET preview slot; every 5th offer's POST publish; another 5th's \
POST golive; the first token request";

const PI_PLAN: &str = "429 with Retry-After: 1 on a fixed subset (the emulator's faults do not sample): \
the next GET configure status of the newest job of every 8th product, round robin, re-armed each polling round \
(simulated time 5 min or more past the last arming); every product's first GET submissions and first GET \
resource-tree; the first 10 GET product; the first 10 POST configure (draft edits: every run edits before it \
submits); the next 10 POST configure once certification has ended (go-live submissions); the first token request";

/// Polling rounds are at least the poll minimum apart; the moves within one are retries' jitter.
const ROUND: Duration = Duration::from_secs(300);

pub fn describe(api: Api) -> &'static str {
    match api {
        Api::Cpp => CPP_PLAN,
        Api::ProductIngestion => PI_PLAN,
    }
}

fn throttle(method: &str, path: String, times: u32) -> Fault {
    Fault {
        method: Some(method.to_owned()),
        path_contains: path,
        times,
        action: FaultAction::Status {
            status: 429,
            retry_after: Some("1".into()),
            body: None,
        },
    }
}

/// The faults armed before the pipelines start.
pub fn arm(world: &World, api: Api, offers: &[Offer]) {
    let emulator = &world.emulator;
    emulator.inject_fault(throttle("POST", "/oauth2/token".into(), 1));
    match api {
        Api::Cpp => {
            for (i, offer) in offers.iter().enumerate() {
                let at = format!("/offers/{}", offer.id);
                emulator.inject_fault(throttle("GET", format!("{at}/submissions"), 1));
                if i % 2 == 0 {
                    emulator.inject_fault(throttle("GET", format!("{at}/slot/preview"), 1));
                }
                match i % 5 {
                    0 => emulator.inject_fault(throttle("POST", format!("{at}/publish"), 1)),
                    2 => emulator.inject_fault(throttle("POST", format!("{at}/golive"), 1)),
                    _ => {}
                }
            }
        }
        Api::ProductIngestion => {
            // `/product` alone would also match `/resource-tree/product/{P}`.
            emulator.inject_fault(throttle("GET", format!("{PI_PREFIX}/product"), 10));
            emulator.inject_fault(throttle("POST", format!("{PI_PREFIX}/configure"), 10));
            for offer in offers {
                emulator.inject_fault(throttle("GET", format!("/submission/{}", offer.id), 1));
                emulator.inject_fault(throttle(
                    "GET",
                    format!("/resource-tree/product/{}", offer.id),
                    1,
                ));
            }
        }
    }
}

/// The simulated clock of the run, arming the rotating faults on the operation checks as it moves.
pub fn clock(world: &World, api: Api, offers: Vec<Offer>) -> Arc<VirtualTime> {
    let (emulator, clock) = (world.emulator.clone(), world.clock.clone());
    let certification = emulator.ingestion_settings().certification_duration;
    // (simulated time, rounds armed, when the last round was armed, go-live writes armed)
    let progress = Mutex::new((Duration::ZERO, 0usize, Duration::ZERO, false));
    VirtualTime::new(move |by| {
        emulator.advance_clock(by);
        clock.advance(by);
        let mut progress = progress.lock().unwrap_or_else(PoisonError::into_inner);
        let (now, round, armed_at, go_live_armed) = &mut *progress;
        *now += by;
        match api {
            // Every move: the pipelines move in lockstep, so each is one round of checks.
            Api::Cpp => {
                *round += 1;
                for (_, offer) in offers
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| (i + *round) % 10 == 0)
                {
                    let path = format!("/offers/{}/operations/", offer.id);
                    emulator.inject_fault(throttle("GET", path, 1));
                }
            }
            Api::ProductIngestion => {
                if !*go_live_armed && *now >= certification {
                    *go_live_armed = true;
                    emulator.inject_fault(throttle("POST", format!("{PI_PREFIX}/configure"), 10));
                }
                if *now < *armed_at + ROUND {
                    return;
                }
                (*round, *armed_at) = (*round + 1, *now);
                for (_, offer) in offers
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| (i + *round) % 8 == 0)
                {
                    // Status paths carry the job, not the product: the newest job is the one checked.
                    let job = emulator.ingestion_state(&offer.name).and_then(|state| {
                        state["jobs"].as_array()?.last()?["jobId"]
                            .as_str()
                            .map(str::to_owned)
                    });
                    if let Some(job) = job {
                        let path = format!("/configure/{job}/status");
                        emulator.inject_fault(throttle("GET", path, 1));
                    }
                }
            }
        }
    })
}
