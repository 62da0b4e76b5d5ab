//! Many pipelines at once against one emulator, with throttling, to see that they all finish right.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use cpp_emulator::{EmulatorConfig, Fault, FaultAction};
use serde::Serialize;

use crate::BenchResult;
use crate::pipeline::{Delivery, World};
use crate::sim::VirtualTime;
use crate::statemachine::{Ending, Tally};
use crate::stats::Summary;

const VERSION: &str = "1.1.0";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Throughput {
    pub pipelines: usize,
    pub wall_seconds: f64,
    pub simulated_days: f64,
    pub cpp_requests: u64,
    pub throttled: u64,
    pub throttled_share: f64,
    pub fault_plan: String,
    pub task_retries: u64,
    pub invocations: u64,
    pub handler_latency: Summary,
    pub latency_by_function: BTreeMap<String, Summary>,
    pub finished_live: usize,
    pub problems: Vec<String>,
}

/// 429 with `Retry-After: 1` on a fixed subset of requests, since the emulator's faults hit the next N
/// matching requests and do not sample: operation checks are most of the traffic, so each time simulated
/// time moves, a fault is armed on the next check of every 10th offer (round robin); on top, every
/// offer's first submissions list, every 2nd offer's first preview read, every 5th offer's publish POST,
/// another 5th's go-live POST, and the first token request.
pub const FAULT_PLAN: &str = "429 with Retry-After: 1 on a fixed subset (the emulator's faults do not sample): \
the next GET operation of every 10th offer, round robin, re-armed each time simulated time moves; every offer's \
first GET submissions; every 2nd offer's first GET preview slot; every 5th offer's POST publish; another 5th's \
POST golive; the first token request";

fn throttle(method: &str, path: String) -> Fault {
    Fault {
        method: Some(method.to_owned()),
        path_contains: path,
        times: 1,
        action: FaultAction::Status {
            status: 429,
            retry_after: Some("1".into()),
            body: None,
        },
    }
}

/// The simulated clock of the run: each move also arms a 429 on the next operation check of every 10th
/// offer, a different tenth each time.
fn throttling_clock(world: &World, offers: Vec<String>) -> Arc<VirtualTime> {
    let (emulator, clock) = (world.emulator.clone(), world.clock.clone());
    let round = Mutex::new(0usize);
    VirtualTime::new(move |by| {
        emulator.advance_clock(by);
        clock.advance(by);
        let mut round = round.lock().unwrap_or_else(PoisonError::into_inner);
        *round += 1;
        for (_, offer) in offers
            .iter()
            .enumerate()
            .filter(|(i, _)| (i + *round) % 10 == 0)
        {
            emulator.inject_fault(throttle("GET", format!("/offers/{offer}/operations/")));
        }
    })
}

pub async fn run(pipelines: usize) -> BenchResult<Throughput> {
    let world = Arc::new(World::start(EmulatorConfig::default(), &[]).await?);
    let offers: Vec<String> = (0..pipelines)
        .map(|i| format!("bench-offer-{i:03}"))
        .collect();
    let mut events = Vec::new();
    world
        .emulator
        .inject_fault(throttle("POST", "/oauth2/token".into()));
    for (i, offer) in offers.iter().enumerate() {
        world.seed(offer);
        events.push(world.upload_manifest(offer, VERSION));
        let at = format!("/offers/{offer}");
        world
            .emulator
            .inject_fault(throttle("GET", format!("{at}/submissions")));
        if i % 2 == 0 {
            world
                .emulator
                .inject_fault(throttle("GET", format!("{at}/slot/preview")));
        }
        match i % 5 {
            0 => world
                .emulator
                .inject_fault(throttle("POST", format!("{at}/publish"))),
            2 => world
                .emulator
                .inject_fault(throttle("POST", format!("{at}/golive"))),
            _ => {}
        }
    }
    world.take_requests();
    let time = throttling_clock(&world, offers.clone());
    // Every execution joins the simulated clock before any starts, so none moves it alone.
    let participants: Vec<_> = offers.iter().map(|_| time.join()).collect();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, (event, time)) in events.into_iter().zip(participants).enumerate() {
        let world = world.clone();
        tasks.push(tokio::spawn(async move {
            let delivery = world.deliver(event, &time, i as u64 + 1).await;
            drop(time);
            delivery
        }));
    }
    let mut deliveries: Vec<BenchResult<Delivery>> = Vec::new();
    for task in tasks {
        deliveries.push(
            task.await
                .map_err(|e| format!("a pipeline task failed: {e}"))?,
        );
    }
    let wall = started.elapsed();
    let simulated_days = time.now() as f64 / 86_400.0;
    let requests = world.take_requests();
    world.emulator.clear_faults();

    let mut tally = Tally::default();
    let mut latencies: Vec<(String, Duration)> = Vec::new();
    let mut problems = Vec::new();
    let mut finished_live = 0;
    for (offer, delivery) in offers.iter().zip(deliveries) {
        let delivery = match delivery {
            Ok(d) => d,
            Err(e) => {
                problems.push(format!("{offer}: {e}"));
                continue;
            }
        };
        latencies.push(("build-finished".into(), delivery.trigger_latency));
        tally.add(&delivery.tally);
        let live = matches!(delivery.executions.as_slice(), [(_, Ending::Succeeded { state, output }, _)]
            if state == "PublishedAndLive"
                && output["operationStatus"] == "succeeded"
                && output["operation"]["kind"] == "goLive");
        let in_plan = world.slot_holds(offer, "production", VERSION);
        if live && in_plan {
            finished_live += 1;
        } else {
            let how: Vec<String> = delivery
                .executions
                .iter()
                .map(|(_, e, _)| e.describe())
                .collect();
            problems.push(format!(
                "{offer}: execution {}; production {} {VERSION}",
                how.join(", "),
                if in_plan { "holds" } else { "lacks" }
            ));
        }
    }
    latencies.extend(tally.latencies.iter().cloned());
    let all: Vec<Duration> = latencies.iter().map(|(_, d)| *d).collect();
    let mut by_function: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    for (function, latency) in &latencies {
        by_function
            .entry(function.clone())
            .or_default()
            .push(*latency);
    }
    let throttled = requests.iter().filter(|r| r.status == 429).count() as u64;
    Ok(Throughput {
        pipelines,
        wall_seconds: wall.as_secs_f64(),
        simulated_days,
        cpp_requests: requests.len() as u64,
        throttled,
        throttled_share: throttled as f64 / requests.len().max(1) as f64,
        fault_plan: FAULT_PLAN.into(),
        task_retries: tally.task_retries,
        invocations: all.len() as u64,
        handler_latency: Summary::of(&all),
        latency_by_function: by_function
            .iter()
            .map(|(f, d)| (f.clone(), Summary::of(d)))
            .collect(),
        finished_live,
        problems,
    })
}
