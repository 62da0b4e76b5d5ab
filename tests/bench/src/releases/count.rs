//! What one case did, as Microsoft (the emulator) saw it: the writes and publishes it was sent per
//! offer, the publish (certification) and go-live operations that ran, and whether live holds each
//! target's build at the end; with what the executions cost.

use std::collections::BTreeMap;

use cpp_emulator::{LoggedRequest, PI_PREFIX};
use serde::Serialize;
use shared::config::Api;
use test_harness::PUBLISHER;

use super::ended_live;
use crate::BenchResult;
use crate::endpoints::endpoint;
use crate::pipeline::World;
use crate::product::product_guid;
use crate::statemachine::{Ending, Tally};

const DAY: f64 = 86_400.0;

/// One plan of one offer a case ships the version to.
#[derive(Clone, Debug)]
pub struct Target {
    pub offer: String,
    pub plan: String,
}

impl Target {
    pub fn new(offer: &str, plan: &str) -> Self {
        Self {
            offer: offer.to_owned(),
            plan: plan.to_owned(),
        }
    }

    /// The build's image of this target: one image per plan.
    pub fn image_url(&self, version: &str) -> String {
        test_harness::sas_url(&format!("{}-{}-{version}", self.offer, self.plan))
    }
}

/// One execution of the publish state machine, run to its end.
pub struct Run {
    pub name: String,
    pub ending: Ending,
    pub seconds: u64,
    pub tally: Tally,
}

/// One case's figures.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    pub what: String,
    pub targets: usize,
    /// Executions of the publish state machine (the release's children, or one per manifest).
    pub executions: u64,
    /// Executions of the release state machine (its Map is not interpreted, its history not counted).
    pub release_executions: u64,
    /// CPP: PUT of the offer document; Product Ingestion: configure of the draft (answered 2xx).
    pub draft_writes: u64,
    pub draft_writes_by_offer: BTreeMap<String, u64>,
    /// CPP: POST publish; Product Ingestion: configure with a preview submission (answered 2xx).
    pub publishes: u64,
    pub publishes_by_offer: BTreeMap<String, u64>,
    /// Publish operations that ran (CPP: the offer's operations; Product Ingestion: preview jobs).
    pub certifications: u64,
    pub go_lives: u64,
    /// Requests not answered 2xx, by endpoint and status, and Product Ingestion jobs refused at
    /// start (contention shows here).
    pub refused: BTreeMap<String, u64>,
    pub requests: u64,
    /// From the start until the last execution ended live (every case starts at second 0).
    pub simulated_days: f64,
    /// Each execution's simulated days.
    pub execution_days: Vec<f64>,
    pub transitions: u64,
    pub largest_history: u64,
    /// Targets whose live plan holds the version with the build's image.
    pub live: usize,
    pub outcomes: Vec<String>,
    pub problems: Vec<String>,
}

impl Case {
    /// Every execution ended live, every target is live with its image, nothing went wrong.
    pub fn all_live(&self) -> bool {
        self.live == self.targets && self.problems.is_empty()
    }
}

/// The offer (CPP) or product GUID (Product Ingestion) a request is about, if it names one.
fn subject(request: &LoggedRequest) -> Option<String> {
    if let Some(rest) = request.path.strip_prefix(PI_PREFIX) {
        if let Some(product) = request.body.as_ref().and_then(|body| {
            body["resources"]
                .as_array()?
                .iter()
                .find_map(|r| r["product"].as_str())
        }) {
            return Some(product.trim_start_matches("product/").to_owned());
        }
        return rest
            .split('/')
            .skip_while(|s| *s != "product" && *s != "submission")
            .nth(1)
            .map(str::to_owned);
    }
    let (_, rest) = request.path.split_once("/offers/")?;
    rest.split('/').next().map(str::to_owned)
}

/// The endpoints that write the draft and that publish, per API.
fn writes(api: Api) -> (&'static str, &'static str) {
    match api {
        Api::Cpp => ("PUT offer (draft)", "POST publish"),
        Api::ProductIngestion => ("POST configure (draft)", "POST configure (preview)"),
    }
}

/// The operations that ran on one offer.
#[derive(Default)]
struct Operations {
    /// Publish operations (CPP) or preview submissions (Product Ingestion) that ran.
    certifications: u64,
    go_lives: u64,
    /// Product Ingestion: jobs refused at start, by kind (another submission was in progress).
    refused: Vec<String>,
    /// Operations that ran and did not succeed.
    failed: Vec<String>,
}

/// The publish (certification) and go-live operations that ran on `offer`.
async fn operations(world: &World, api: Api, offer: &str) -> BenchResult<Operations> {
    let mut ops = Operations::default();
    match api {
        Api::Cpp => {
            let list = world
                .functions
                .cpp()
                .list_operations(PUBLISHER, offer, None)
                .await
                .map_err(|e| format!("listing the operations of {offer}: {e}"))?;
            for op in list {
                if op.is_go_live() {
                    ops.go_lives += 1;
                } else {
                    ops.certifications += 1;
                }
                if op.submission_state != shared::cpp::OperationStatus::Succeeded {
                    ops.failed.push(format!(
                        "{offer}: operation {} {:?}",
                        op.id, op.submission_state
                    ));
                }
            }
        }
        // A submission's job fails either at start (another submission is in progress: nothing ran)
        // or at the end of certification; no certification failure is armed here, so a failed job
        // is one refused at start.
        Api::ProductIngestion => {
            let state = world.emulator.ingestion_state(offer).unwrap_or_default();
            for job in state["jobs"].as_array().into_iter().flatten() {
                let kind = job["kind"].as_str().unwrap_or_default();
                let count = match kind {
                    "preview" => &mut ops.certifications,
                    "live" => &mut ops.go_lives,
                    _ => continue,
                };
                match job["jobResult"].as_str() {
                    Some("succeeded") => *count += 1,
                    Some("failed") => ops.refused.push(format!("{kind} job refused at start")),
                    other => ops.failed.push(format!(
                        "{offer}: {kind} job {} {}",
                        job["jobId"],
                        other.unwrap_or("(no result)")
                    )),
                }
            }
        }
    }
    Ok(ops)
}

/// Reads what happened in `world` after `runs`.
pub async fn measure(
    world: &World,
    api: Api,
    what: &str,
    targets: &[Target],
    runs: Vec<Run>,
    release_executions: u64,
) -> BenchResult<Case> {
    let requests = world.take_requests();
    let mut offers: Vec<&str> = targets.iter().map(|t| t.offer.as_str()).collect();
    offers.dedup();
    // Requests name a product by its GUID: the report names it by its offer.
    let name_of = |id: String| match api {
        Api::Cpp => id,
        Api::ProductIngestion => offers
            .iter()
            .find(|o| product_guid(o) == id)
            .map_or(id, |o| (*o).to_owned()),
    };
    let (write, publish) = writes(api);
    let mut draft_writes_by_offer: BTreeMap<String, u64> = BTreeMap::new();
    let mut publishes_by_offer: BTreeMap<String, u64> = BTreeMap::new();
    let mut refused: BTreeMap<String, u64> = BTreeMap::new();
    for request in &requests {
        let name = endpoint(request);
        if !(200..300).contains(&request.status) {
            *refused
                .entry(format!("{name} {}", request.status))
                .or_default() += 1;
            continue;
        }
        let by_offer = if name == write {
            &mut draft_writes_by_offer
        } else if name == publish {
            &mut publishes_by_offer
        } else {
            continue;
        };
        let offer = subject(request).map_or_else(|| "(unknown)".to_owned(), name_of);
        *by_offer.entry(offer).or_default() += 1;
    }
    // Every offer is listed, so an offer that was never published shows as 0.
    for offer in &offers {
        draft_writes_by_offer
            .entry((*offer).to_owned())
            .or_default();
        publishes_by_offer.entry((*offer).to_owned()).or_default();
    }

    let mut problems = Vec::new();
    let (mut certifications, mut go_lives) = (0, 0);
    for offer in &offers {
        let ops = operations(world, api, offer).await?;
        certifications += ops.certifications;
        go_lives += ops.go_lives;
        for refusal in ops.refused {
            *refused.entry(refusal).or_default() += 1;
        }
        problems.extend(ops.failed);
    }
    world.take_requests();

    let mut tally = Tally::default();
    let mut outcomes = Vec::new();
    for run in &runs {
        tally.add(&run.tally);
        let days = run.seconds as f64 / DAY;
        outcomes.push(format!(
            "{}: {} after {days:.2} d",
            run.name,
            run.ending.describe()
        ));
        if !ended_live(&run.ending) {
            problems.push(format!("{}: {}", run.name, run.ending.describe()));
        }
    }
    let version = super::VERSION;
    let mut live = 0;
    for target in targets {
        let expected = target.image_url(version);
        if world.plan_live_holds(api, &target.offer, &target.plan, version, &expected) {
            live += 1;
        } else {
            problems.push(format!(
                "{} plan {}: live lacks {version} with the build's image",
                target.offer, target.plan
            ));
        }
    }
    Ok(Case {
        what: what.to_owned(),
        targets: targets.len(),
        executions: runs.len() as u64,
        release_executions,
        draft_writes: draft_writes_by_offer.values().sum(),
        draft_writes_by_offer,
        publishes: publishes_by_offer.values().sum(),
        publishes_by_offer,
        certifications,
        go_lives,
        refused,
        requests: requests.len() as u64,
        simulated_days: runs.iter().map(|r| r.seconds).max().unwrap_or_default() as f64 / DAY,
        execution_days: runs.iter().map(|r| r.seconds as f64 / DAY).collect(),
        transitions: tally.transitions,
        largest_history: tally.largest_history,
        live,
        outcomes,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(method: &str, path: &str, body: Option<serde_json::Value>) -> LoggedRequest {
        LoggedRequest {
            method: method.into(),
            path: path.into(),
            query: String::new(),
            status: 200,
            if_match: None,
            has_bearer: true,
            body,
            fault: None,
        }
    }

    #[test]
    fn requests_are_attributed_to_their_offer_or_product() {
        let cpp = request("POST", "/api/publishers/contoso/offers/o-1/publish", None);
        assert_eq!(subject(&cpp).as_deref(), Some("o-1"));
        let put = request("PUT", "/api/publishers/contoso/offers/o-2", None);
        assert_eq!(subject(&put).as_deref(), Some("o-2"));
        let configure = request(
            "POST",
            &format!("{PI_PREFIX}/configure"),
            Some(
                json!({"resources": [{"$schema": "s", "product": "product/g-1", "plan": "plan/g-1/l"}]}),
            ),
        );
        assert_eq!(subject(&configure).as_deref(), Some("g-1"));
        let tree = request(
            "GET",
            &format!("{PI_PREFIX}/resource-tree/product/g-2"),
            None,
        );
        assert_eq!(subject(&tree).as_deref(), Some("g-2"));
    }

    #[test]
    fn each_plan_has_its_own_image() {
        let (a, b) = (Target::new("o", "gen1"), Target::new("o", "gen2"));
        assert_ne!(a.image_url("1.1.0"), b.image_url("1.1.0"));
        assert!(a.image_url("1.1.0").contains("/o-gen1-1.1.0.vhd?"));
    }
}
