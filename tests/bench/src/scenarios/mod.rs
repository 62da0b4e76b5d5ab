//! API calls per pipeline (fresh, duplicate event, re-run) and the cost of waiting (`waiting.rs`),
//! for each API, each from one storage event run through build-finished and the real state machine
//! against the emulator. The minimums each count is compared with are per API: `cpp.rs`, `ingestion.rs`.

mod cpp;
mod ingestion;
mod waiting;

use std::collections::BTreeMap;

use serde::Serialize;
use shared::config::Api;

use crate::BenchResult;
use crate::endpoints::by_endpoint;
use crate::offers::APIS;
use crate::pipeline::World;
use crate::statemachine::{Ending, Tally};

pub use waiting::{HISTORY_LIMIT, PRICE_PER_TRANSITION, Timeline};
use waiting::{Polling, Steps, timeline};

/// AAD's `expires_in` for the emulator's one-hour tokens, and the client's refresh margin.
const TOKEN_SECONDS: u64 = 3_599;
const TOKEN_REFRESH_AHEAD: u64 = 300;
const OFFER: &str = test_harness::OFFER;
const VERSION: &str = "1.1.0";

/// The requests of one scenario next to the fewest the workflow can do with.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiScenario {
    pub api: Api,
    pub name: String,
    pub outcome: String,
    pub endpoints: Vec<EndpointCount>,
    pub total: u64,
    pub minimum_total: u64,
    pub aws_calls: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointCount {
    pub endpoint: String,
    pub actual: u64,
    pub minimum: u64,
    pub why: String,
    /// Why the code makes more calls than the minimum, where that is known; shown when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub over: Option<String>,
}

impl ApiScenario {
    pub fn count(&self, endpoint: &str) -> u64 {
        self.endpoints
            .iter()
            .find(|e| e.endpoint == endpoint)
            .map_or(0, |e| e.actual)
    }
}

/// The fewest calls of one endpoint a scenario needs, and why.
pub struct Minimum {
    endpoint: &'static str,
    count: u64,
    why: String,
    over: Option<&'static str>,
}

fn min(endpoint: &'static str, count: u64, why: impl Into<String>) -> Minimum {
    Minimum {
        endpoint,
        count,
        why: why.into(),
        over: None,
    }
}

impl Minimum {
    /// Says why the code does more than this minimum (a known gap, for the engineer to close).
    fn over(self, why: &'static str) -> Self {
        Self {
            over: Some(why),
            ..self
        }
    }
}

#[derive(Default)]
pub struct Scenarios {
    pub api: Vec<ApiScenario>,
    pub timelines: Vec<Timeline>,
}

/// The fewest tokens `calls` need after `before` (the same warm clients' earlier calls): each function's
/// client fetches one at its first call and again once the last one is within the refresh margin of
/// expiry (so no request goes out on an expired token).
fn fewest_tokens(before: &[(String, u64)], calls: &[(String, u64)]) -> u64 {
    let mut last: BTreeMap<&str, u64> = BTreeMap::new();
    let mut tokens = 0;
    for (counted, (function, at)) in before
        .iter()
        .map(|c| (false, c))
        .chain(calls.iter().map(|c| (true, c)))
    {
        let stale = last
            .get(function.as_str())
            .is_none_or(|fetched| at - fetched >= TOKEN_SECONDS - TOKEN_REFRESH_AHEAD);
        if stale {
            tokens += u64::from(counted);
            last.insert(function, *at);
        }
    }
    tokens
}

fn tokens(before: &[(String, u64)], calls: &[(String, u64)], why: &str) -> Minimum {
    min("POST token", fewest_tokens(before, calls), why)
}

fn scenario(
    api: Api,
    name: &str,
    outcome: String,
    actual: &BTreeMap<String, u64>,
    minimum: Vec<Minimum>,
    aws_calls: BTreeMap<String, u64>,
) -> ApiScenario {
    let mut endpoints: Vec<EndpointCount> = minimum
        .iter()
        .map(|m| EndpointCount {
            endpoint: m.endpoint.to_owned(),
            actual: actual.get(m.endpoint).copied().unwrap_or_default(),
            minimum: m.count,
            why: m.why.clone(),
            over: m.over.map(str::to_owned),
        })
        .collect();
    for (endpoint, count) in actual {
        if !minimum.iter().any(|m| m.endpoint == endpoint) {
            endpoints.push(EndpointCount {
                endpoint: endpoint.clone(),
                actual: *count,
                minimum: 0,
                why: "not needed".into(),
                over: None,
            });
        }
    }
    ApiScenario {
        api,
        name: name.to_owned(),
        outcome,
        total: endpoints.iter().map(|e| e.actual).sum(),
        minimum_total: endpoints.iter().map(|e| e.minimum).sum(),
        endpoints,
        aws_calls,
    }
}

fn aws_delta(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or_default()))
        .filter(|(_, v)| *v > 0)
        .collect()
}

fn outcome(executions: &[(String, Ending, u64)], duplicates: usize) -> String {
    let mut parts: Vec<String> = executions.iter().map(|(_, e, _)| e.describe()).collect();
    if duplicates > 0 {
        parts.push(format!(
            "{duplicates} duplicate delivery, no execution started"
        ));
    }
    parts.join("; ")
}

/// For each API: the three API-call scenarios on the documented timeline, then the waiting cost of
/// three more publications.
pub async fn run() -> BenchResult<Scenarios> {
    let mut api = Vec::new();
    let mut timelines = Vec::new();
    for market in APIS {
        api.extend(api_scenarios(market, &mut timelines).await?);
        for (steps, polling) in [
            (Steps::Documented, Polling::Fixed),
            (Steps::SixteenDays, Polling::Adaptive),
            (Steps::SixteenDays, Polling::Fixed),
        ] {
            timelines.push(waiting::publication(market, steps, polling).await?);
        }
    }
    Ok(Scenarios { api, timelines })
}

/// The scenarios' minimums, from the API's module.
fn fresh_minimum(api: Api, tally: &Tally) -> Vec<Minimum> {
    match api {
        Api::Cpp => cpp::fresh(tally),
        Api::ProductIngestion => ingestion::fresh(tally),
    }
}

fn duplicate_minimum(api: Api) -> Vec<Minimum> {
    match api {
        Api::Cpp => cpp::duplicate(),
        Api::ProductIngestion => ingestion::duplicate(),
    }
}

fn rerun_minimum(api: Api, fresh: &Tally, rerun: &Tally) -> Vec<Minimum> {
    match api {
        Api::Cpp => cpp::rerun(fresh, rerun),
        Api::ProductIngestion => ingestion::rerun(fresh, rerun),
    }
}

async fn api_scenarios(api: Api, timelines: &mut Vec<Timeline>) -> BenchResult<Vec<ApiScenario>> {
    let world = World::start(Steps::Documented.emulator(api), &[]).await?;
    world.seed(api, OFFER);
    world.take_requests();
    let mut scenarios = Vec::new();

    // 1. Fresh: the storage event of a new version, through to live (goLive auto).
    let aws_before = world.aws.calls();
    let event = world.upload_manifest(api, OFFER, VERSION);
    let time = world.time.join();
    let fresh = world.deliver(event.clone(), &time, 1).await?;
    let requests = world.take_requests();
    scenarios.push(scenario(
        api,
        "fresh publish (storage event to live)",
        outcome(&fresh.executions, fresh.duplicates),
        &by_endpoint(&requests),
        fresh_minimum(api, &fresh.tally),
        aws_delta(&aws_before, &world.aws.calls()),
    ));
    timelines.push(timeline(
        api,
        Steps::Documented,
        Polling::Adaptive,
        &fresh.tally,
        &fresh.executions,
        requests.len() as u64,
    ));

    // 2. The same storage event again (S3 and EventBridge deliver at least once).
    let aws_before = world.aws.calls();
    let duplicate = world.deliver(event, &time, 2).await?;
    scenarios.push(scenario(
        api,
        "duplicate event",
        outcome(&duplicate.executions, duplicate.duplicates),
        &by_endpoint(&world.take_requests()),
        duplicate_minimum(api),
        aws_delta(&aws_before, &world.aws.calls()),
    ));

    // 3. A new execution for the version that is already live (started by hand, or after the name expired).
    let input = world
        .aws
        .input_of(
            fresh
                .executions
                .first()
                .map(|(n, _, _)| n.as_str())
                .unwrap_or_default(),
        )
        .ok_or("the fresh run started no execution")?;
    let mut tally = Tally::default();
    let (ending, _) = world
        .execute(
            "bench-rerun",
            serde_json::from_str(&input)?,
            &time,
            3,
            &mut tally,
        )
        .await?;
    drop(time);
    scenarios.push(scenario(
        api,
        "re-run on an already-published version",
        ending.describe(),
        &by_endpoint(&world.take_requests()),
        rerun_minimum(api, &fresh.tally, &tally),
        BTreeMap::new(),
    ));
    Ok(scenarios)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_follow_the_refresh_margin_per_function() {
        let calls: Vec<(String, u64)> = [
            ("a", 0),
            ("b", 10),
            ("a", 3_000),
            ("a", 3_299),
            ("a", 3_400),
        ]
        .iter()
        .map(|(f, t)| ((*f).to_owned(), *t))
        .collect();
        assert_eq!(fewest_tokens(&[], &calls), 3);
        assert_eq!(fewest_tokens(&calls[..2], &calls[2..]), 1);
    }
}
