//! Many pipelines at once against one emulator, per API, with throttling (`faults.rs`), to see that
//! they all finish right.

mod faults;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cpp_emulator::{EmulatorConfig, LoggedRequest};
use serde::Serialize;
use shared::config::Api;

use crate::BenchResult;
use crate::endpoints::by_endpoint;
use crate::pipeline::{Delivery, World};
use crate::statemachine::{Ending, Tally};
use crate::stats::Summary;

use faults::Offer;

const VERSION: &str = "1.1.0";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Throughput {
    pub api: Api,
    pub pipelines: usize,
    pub wall_seconds: f64,
    pub simulated_days: f64,
    pub requests: u64,
    pub throttled: u64,
    pub throttled_share: f64,
    pub throttled_by_endpoint: BTreeMap<String, u64>,
    pub fault_plan: String,
    pub task_retries: u64,
    pub invocations: u64,
    pub handler_latency: Summary,
    pub latency_by_function: BTreeMap<String, Summary>,
    pub finished_live: usize,
    pub problems: Vec<String>,
}

/// `pipelines` pipelines through `api` at once, each for its own offer, with the API's fault plan.
pub async fn run(api: Api, pipelines: usize) -> BenchResult<Throughput> {
    let world = Arc::new(World::start(EmulatorConfig::default(), &[]).await?);
    let offers: Vec<Offer> = (0..pipelines)
        .map(|i| {
            let name = format!("bench-offer-{i:03}");
            let id = world.seed(api, &name);
            Offer { name, id }
        })
        .collect();
    let events: Vec<_> = offers
        .iter()
        .map(|offer| world.upload_manifest(api, &offer.name, VERSION))
        .collect();
    faults::arm(&world, api, &offers);
    world.take_requests();
    let names: Vec<String> = offers.iter().map(|o| o.name.clone()).collect();
    let time = faults::clock(&world, api, offers);
    // Every execution joins the simulated clock before any starts, so none moves it alone.
    let participants: Vec<_> = names.iter().map(|_| time.join()).collect();
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
    let total = requests.len() as u64;
    world.emulator.clear_faults();

    let mut tally = Tally::default();
    let mut latencies: Vec<(String, Duration)> = Vec::new();
    let mut problems = Vec::new();
    let mut finished_live = 0;
    for (offer, delivery) in names.iter().zip(deliveries) {
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
        let in_plan = world.live_holds(api, offer, VERSION);
        if live && in_plan {
            finished_live += 1;
        } else {
            let how: Vec<String> = delivery
                .executions
                .iter()
                .map(|(_, e, _)| e.describe())
                .collect();
            problems.push(format!(
                "{offer}: execution {}; live {} {VERSION}",
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
    let throttled: Vec<LoggedRequest> = requests.into_iter().filter(|r| r.status == 429).collect();
    Ok(Throughput {
        api,
        pipelines,
        wall_seconds: wall.as_secs_f64(),
        simulated_days,
        requests: total,
        throttled: throttled.len() as u64,
        throttled_share: throttled.len() as f64 / total.max(1) as f64,
        throttled_by_endpoint: by_endpoint(&throttled),
        fault_plan: faults::describe(api).into(),
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
