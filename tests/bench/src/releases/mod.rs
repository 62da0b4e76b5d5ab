//! Releases: one build manifest with `targets` shipping one version to several plans of several
//! offers, against the same targets shipped as one single-plan manifest each, and one single-plan
//! publication alone as the yardstick. Every case starts on a fresh World at simulated second 0,
//! through build-finished (which starts the release state machine for a manifest with targets).
//!
//! The release state machine (infra/statemachine/release.asl.json) is a Map over the offers of its
//! input, each item a child execution of the publish state machine; it is not interpreted here: the
//! children build-finished put in the release's input are run concurrently on the shared simulated
//! clock, and the release lasts as long as its longest child, which is what the Map waits for.
//! `count.rs` reads what Microsoft (the emulator) saw.

mod count;

use std::sync::Arc;

use cpp_emulator::EmulatorConfig;
use serde::Serialize;
use serde_json::{Value, json};
use shared::config::Api;
use test_harness::PUBLISHER;

use crate::BenchResult;
use crate::aws;
use crate::offers;
use crate::pipeline::{BUCKET, MANIFEST_PREFIX, World};
use crate::statemachine::{Ending, Tally};

pub use count::Case;
use count::{Run, Target};

pub const VERSION: &str = "1.1.0";
/// The offers of a release, and the plans of each (the test offer's two).
pub const OFFERS: [&str; 3] = ["bench-release-1", "bench-release-2", "bench-release-3"];
pub const PLANS: [&str; 2] = ["gen1", "gen2"];

/// The three cases on one API.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Releases {
    pub api: Api,
    pub version: String,
    pub offers: usize,
    pub plans_per_offer: usize,
    /// One single-plan publication alone (gen2 of one offer): the yardstick.
    pub single: Case,
    /// One release manifest listing every plan of every offer.
    pub release: Case,
    /// One single-plan manifest per target, all uploaded at once.
    pub manifests: Case,
}

/// The three cases on each API, in the order the report shows them.
pub async fn run() -> BenchResult<Vec<Releases>> {
    let mut all = Vec::new();
    for api in offers::APIS {
        eprintln!("bench: releases, {} ...", api.title());
        all.push(Releases {
            api,
            version: VERSION.into(),
            offers: OFFERS.len(),
            plans_per_offer: PLANS.len(),
            single: single(api).await?,
            release: release(api).await?,
            manifests: manifests(api).await?,
        })
    }
    Ok(all)
}

/// Every plan of every offer.
fn targets() -> Vec<Target> {
    OFFERS
        .iter()
        .flat_map(|offer| PLANS.iter().map(|plan| Target::new(offer, plan)))
        .collect()
}

/// A World whose `offers` each have plans gen1 and gen2 (CPP: the test offer, gen1 holding 0.9.0
/// and gen2 1.0.0; Product Ingestion: a live product with both plans holding 1.0.0).
async fn world(api: Api, offers: &[&str]) -> BenchResult<Arc<World>> {
    let world = World::start(EmulatorConfig::default(), &[]).await?;
    for offer in offers {
        match api {
            Api::Cpp => {
                world.seed(api, offer);
            }
            Api::ProductIngestion => {
                world
                    .emulator
                    .seed_published_product(crate::product::test_product_with_plans(
                        offer,
                        &PLANS,
                        &[test_harness::SEEDED_VERSION],
                    ));
            }
        }
    }
    world.take_requests();
    Ok(Arc::new(world))
}

/// Uploads `manifest` under `name` and returns its storage event.
fn upload(world: &World, name: &str, manifest: &Value) -> Value {
    let key = format!("{MANIFEST_PREFIX}{name}/{VERSION}.json");
    world
        .aws
        .put_object(BUCKET, &key, manifest.to_string().into_bytes());
    json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": aws::REGION,
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": BUCKET, "arn": format!("arn:aws:s3:::{BUCKET}")},
               "object": {"key": key, "size": 400}}}]})
}

/// The single-plan manifest of `target`, with its own image.
fn single_manifest(api: Api, target: &Target) -> Value {
    let mut manifest = offers::manifest(api, &target.offer, VERSION);
    manifest["planId"] = json!(target.plan);
    manifest["osVhdUrl"] = json!(target.image_url(VERSION));
    manifest
}

/// The release manifest of `targets`, each with its own image, going live automatically.
fn release_manifest(api: Api, targets: &[Target]) -> Value {
    let entries: Vec<Value> = targets
        .iter()
        .map(|t| {
            let mut entry =
                json!({"offerId": t.offer, "planId": t.plan, "osVhdUrl": t.image_url(VERSION)});
            if api == Api::Cpp {
                entry["publisherId"] = json!(PUBLISHER);
            }
            entry
        })
        .collect();
    let mut manifest = json!({"version": VERSION, "goLive": "auto",
        "notificationEmails": "release@contoso.com", "targets": entries});
    if api == Api::ProductIngestion {
        manifest["api"] = json!(api.as_str());
    }
    manifest
}

/// Runs each (execution name, input) to its end concurrently on the World's clock.
async fn run_all(world: &Arc<World>, executions: Vec<(String, Value)>) -> BenchResult<Vec<Run>> {
    // Every execution joins the simulated clock before any starts, so none moves it alone.
    let participants: Vec<_> = executions.iter().map(|_| world.time.join()).collect();
    let mut tasks = Vec::new();
    for (i, ((name, input), time)) in executions.into_iter().zip(participants).enumerate() {
        let world = world.clone();
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let result = world
                .execute(&name, input, &time, i as u64 + 1, &mut tally)
                .await;
            drop(time);
            result.map(|(ending, seconds)| Run {
                name,
                ending,
                seconds,
                tally,
            })
        }));
    }
    let mut runs = Vec::new();
    for task in tasks {
        runs.push(
            task.await
                .map_err(|e| format!("an execution task failed: {e}"))??,
        );
    }
    Ok(runs)
}

/// The executions build-finished started for `event`, with their inputs.
async fn started(world: &World, event: Value) -> BenchResult<Vec<(String, Value)>> {
    let output = world.trigger(event).await?;
    let mut executions = Vec::new();
    for started in output["started"].as_array().into_iter().flatten() {
        let name = started["name"].as_str().unwrap_or_default().to_owned();
        let input = world
            .aws
            .input_of(&name)
            .ok_or_else(|| format!("no input recorded for execution {name}"))?;
        executions.push((name, serde_json::from_str(&input)?));
    }
    Ok(executions)
}

/// One single-plan publication alone: gen2 of the first offer.
async fn single(api: Api) -> BenchResult<Case> {
    let world = world(api, &OFFERS[..1]).await?;
    let target = Target::new(OFFERS[0], test_harness::PLAN);
    let event = upload(&world, "single", &single_manifest(api, &target));
    let executions = started(&world, event).await?;
    let runs = run_all(&world, executions).await?;
    count::measure(
        &world,
        api,
        "one single-plan publication alone",
        &[target],
        runs,
        0,
    )
    .await
}

/// One release manifest of every plan of every offer: build-finished starts one release execution
/// whose input lists one publication per offer (what the Map starts as children).
async fn release(api: Api) -> BenchResult<Case> {
    let world = world(api, &OFFERS).await?;
    let targets = targets();
    let event = upload(&world, "release", &release_manifest(api, &targets));
    let releases = started(&world, event).await?;
    let mut children = Vec::new();
    for (name, input) in &releases {
        let offers = input["offers"]
            .as_array()
            .ok_or_else(|| format!("release execution {name} has no offers in its input"))?;
        for child in offers {
            let child_name = child["name"].as_str().unwrap_or_default().to_owned();
            children.push((child_name, child["state"].clone()));
        }
    }
    let runs = run_all(&world, children).await?;
    let what = format!(
        "one release manifest, {} targets: {} child executions at once",
        targets.len(),
        runs.len()
    );
    count::measure(&world, api, &what, &targets, runs, releases.len() as u64).await
}

/// One single-plan manifest per target, all uploaded at once: build-finished on each storage event,
/// then every execution, concurrently.
async fn manifests(api: Api) -> BenchResult<Case> {
    let world = world(api, &OFFERS).await?;
    let targets = targets();
    let mut executions = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        let event = upload(
            &world,
            &format!("single-{i}"),
            &single_manifest(api, target),
        );
        executions.extend(started(&world, event).await?);
    }
    let runs = run_all(&world, executions).await?;
    let what = format!(
        "{} single-plan manifests, one per target, all at once",
        targets.len()
    );
    count::measure(&world, api, &what, &targets, runs, 0).await
}

impl Releases {
    /// The cases with their names in the report.
    pub fn cases(&self) -> [(&'static str, &Case); 3] {
        [
            ("single", &self.single),
            ("release", &self.release),
            ("manifests", &self.manifests),
        ]
    }
}

/// An execution ended live after an automatic go-live.
fn ended_live(ending: &Ending) -> bool {
    matches!(ending, Ending::Succeeded { state, output }
        if state == "PublishedAndLive"
            && output["operationStatus"] == "succeeded"
            && output["operation"]["kind"] == "goLive")
}
