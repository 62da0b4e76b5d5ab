//! API calls per pipeline (fresh, duplicate event, re-run) and the cost of waiting, each from one
//! storage event run through build-finished and the real state machine against the emulator.

use std::collections::BTreeMap;
use std::time::Duration;

use cpp_emulator::{EmulatorConfig, StepDurations};
use serde::Serialize;

use crate::BenchResult;
use crate::pipeline::{World, by_endpoint};
use crate::statemachine::{Ending, Tally};

/// Step Functions Standard: USD per state transition ($0.025 per 1,000).
pub const PRICE_PER_TRANSITION: f64 = 0.025 / 1000.0;
/// Step Functions' hard limit on one execution's history.
pub const HISTORY_LIMIT: u64 = 25_000;
/// AAD's `expires_in` for the emulator's one-hour tokens, and the client's refresh margin.
const TOKEN_SECONDS: u64 = 3_599;
const TOKEN_REFRESH_AHEAD: u64 = 300;
const OFFER: &str = test_harness::OFFER;
const VERSION: &str = "1.1.0";

/// The CPP requests of one scenario next to the fewest the workflow can do with.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiScenario {
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
}

impl ApiScenario {
    pub fn count(&self, endpoint: &str) -> u64 {
        self.endpoints
            .iter()
            .find(|e| e.endpoint == endpoint)
            .map_or(0, |e| e.actual)
    }
}

/// One publication's polling and Step Functions bill.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    pub name: String,
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
    pub cpp_requests: u64,
}

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

fn scenario(
    name: &str,
    outcome: String,
    actual: &BTreeMap<String, u64>,
    minimum: &[(&str, u64, String)],
    aws_calls: BTreeMap<String, u64>,
) -> ApiScenario {
    let mut endpoints: Vec<EndpointCount> = minimum
        .iter()
        .map(|(endpoint, min, why)| EndpointCount {
            endpoint: (*endpoint).to_owned(),
            actual: actual.get(*endpoint).copied().unwrap_or_default(),
            minimum: *min,
            why: why.clone(),
        })
        .collect();
    for (endpoint, count) in actual {
        if !minimum.iter().any(|(e, _, _)| e == endpoint) {
            endpoints.push(EndpointCount {
                endpoint: endpoint.clone(),
                actual: *count,
                minimum: 0,
                why: "not needed".into(),
            });
        }
    }
    ApiScenario {
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

/// The three API-call scenarios on the documented timeline, then the waiting cost of four timelines.
pub async fn run() -> BenchResult<Scenarios> {
    let documented = StepDurations::default();
    // A 16-day publication: certification overruns its "~2-3 days" estimate, the rest as documented.
    let sixteen_days = StepDurations {
        certification: Duration::from_secs(16 * 86_400)
            - (documented.validate
                + documented.provisioning
                + documented.packaging
                + documented.go_live),
        ..documented
    };
    let mut timelines = Vec::new();
    let api = api_scenarios(documented, &mut timelines).await?;
    for (name, steps, polling) in [
        ("documented steps", documented, Polling::Fixed),
        ("16-day publication", sixteen_days, Polling::Adaptive),
        ("16-day publication", sixteen_days, Polling::Fixed),
    ] {
        let world = World::start(emulator(steps), polling.env()).await?;
        world.seed(OFFER);
        let event = world.upload_manifest(OFFER, VERSION);
        let time = world.time.join();
        let delivery = world.deliver(event, &time, 1).await?;
        drop(time);
        let requests = world.take_requests().len() as u64;
        timelines.push(timeline(
            name,
            polling,
            &delivery.tally,
            &delivery.executions,
            requests,
        ));
    }
    Ok(Scenarios { api, timelines })
}

#[derive(Clone, Copy)]
enum Polling {
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

fn emulator(steps: StepDurations) -> EmulatorConfig {
    EmulatorConfig {
        steps,
        ..EmulatorConfig::default()
    }
}

fn timeline(
    name: &str,
    polling: Polling,
    tally: &Tally,
    executions: &[(String, Ending, u64)],
    cpp_requests: u64,
) -> Timeline {
    let seconds: u64 = executions.iter().map(|(_, _, s)| s).sum();
    Timeline {
        name: name.to_owned(),
        polling: polling.describe().to_owned(),
        outcome: outcome(executions, 0),
        simulated_days: seconds as f64 / 86_400.0,
        polls_publish: tally.polls_publish,
        polls_go_live: tally.polls_go_live,
        polls: tally.polls(),
        transitions: tally.transitions,
        history_events: tally.largest_history,
        history_margin: HISTORY_LIMIT as i64 - tally.largest_history as i64,
        cost_usd: tally.transitions as f64 * PRICE_PER_TRANSITION,
        cpp_requests,
    }
}

async fn api_scenarios(
    steps: StepDurations,
    timelines: &mut Vec<Timeline>,
) -> BenchResult<Vec<ApiScenario>> {
    let world = World::start(emulator(steps), &[]).await?;
    world.seed(OFFER);
    world.take_requests();
    let mut scenarios = Vec::new();

    // 1. Fresh: the storage event of a new version, through to live (goLive auto).
    let aws_before = world.aws.calls();
    let event = world.upload_manifest(OFFER, VERSION);
    let time = world.time.join();
    let fresh = world.deliver(event.clone(), &time, 1).await?;
    let requests = world.take_requests();
    let counts = by_endpoint(&requests);
    let t = &fresh.tally;
    let minimum = [
        (
            "POST token",
            fewest_tokens(&[], &t.calls),
            "per function: its first call, then when its token is within 5 min of expiry"
                .to_owned(),
        ),
        (
            "GET offer (draft)",
            1,
            "read the draft and its ETag before changing it".into(),
        ),
        (
            "GET submissions",
            3,
            "one operation per offer: before PUT, again before publish, before go-live".into(),
        ),
        (
            "PUT offer (draft)",
            1,
            "write the new image version with If-Match".into(),
        ),
        ("POST publish", 1, "publish the draft to preview".into()),
        (
            "GET operation",
            t.polls() + 1,
            format!(
                "one per check ({} publish + {} go-live), plus one to see the publish waits at sign-off before going live",
                t.polls_publish, t.polls_go_live
            ),
        ),
        (
            "GET offer preview slot",
            1,
            "check preview holds this version's image before going live".into(),
        ),
        ("POST golive", 1, "go live".into()),
    ];
    scenarios.push(scenario(
        "fresh publish (storage event to live)",
        outcome(&fresh.executions, fresh.duplicates),
        &counts,
        &minimum,
        aws_delta(&aws_before, &world.aws.calls()),
    ));
    timelines.push(timeline(
        "documented steps",
        Polling::Adaptive,
        &fresh.tally,
        &fresh.executions,
        requests.len() as u64,
    ));

    // 2. The same storage event again (S3 and EventBridge deliver at least once).
    let aws_before = world.aws.calls();
    let duplicate = world.deliver(event, &time, 2).await?;
    let counts = by_endpoint(&world.take_requests());
    scenarios.push(scenario(
        "duplicate event",
        outcome(&duplicate.executions, duplicate.duplicates),
        &counts,
        &[
            ("PUT offer (draft)", 0, "nothing changed".into()),
            ("POST publish", 0, "nothing to publish".into()),
        ],
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
    let counts = by_endpoint(&world.take_requests());
    let minimum = [
        ("POST token", fewest_tokens(&fresh.tally.calls, &tally.calls), "per function whose warm token from the fresh run has expired".to_owned()),
        ("GET offer (draft)", 1, "see the version is already in the draft: no PUT".into()),
        ("GET submissions", 2, "is a publish of this draft running (update-and-publish); is anything running (go-live)".into()),
        ("GET offer preview slot", 2, "did this draft's publish finish (no new publish); does preview hold the image (go-live)".into()),
        ("GET offer production slot", 1, "already live: resume the finished go-live instead of posting another".into()),
        ("GET operation", tally.polls(), "one per check; both operations are already finished".into()),
        ("PUT offer (draft)", 0, "version already there".into()),
        ("POST publish", 0, "already published".into()),
        ("POST golive", 0, "already live".into()),
    ];
    scenarios.push(scenario(
        "re-run on an already-published version",
        ending.describe(),
        &counts,
        &minimum,
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
