//! The event of each cold start, with the emulator prepared so every run does the same work, and
//! the check that the answer shows the real work was done.

use std::time::Duration;

use cpp_emulator::StepDurations;
use serde_json::{Value, json};
use shared::config::Api;

use super::{FLOOR, SignIn};
use crate::BenchResult;
use crate::offers::manifest;
use crate::pipeline::World;
use crate::runtime_api::ColdStart;

fn state(offer: &str, action: &str) -> Value {
    let mut state = manifest(Api::Cpp, offer, "1.1.0");
    state["goLive"] = json!("manual");
    state["action"] = json!(action);
    state
}

/// A realistic event for run `run`.
pub async fn prepare(
    function: &str,
    world: &World,
    sign_in: SignIn,
    run: usize,
) -> BenchResult<Value> {
    let offer = format!("cold-{function}-{}-{run:03}", sign_in.tag());
    Ok(match function {
        // Echoed back: a different one each run, so an answer cannot be a stale one.
        FLOOR => json!({"floor": run}),
        // A manifest sent directly; Step Functions answers a repeated start of a running execution alike.
        "build-finished" => manifest(Api::Cpp, "cold-build-finished", "1.1.0"),
        // A fresh offer each run: add the version, PUT, publish.
        "update-and-publish" => {
            world.seed(Api::Cpp, &offer);
            state(&offer, "publish")
        }
        // A publish an hour into certification.
        "check-last-operation" => {
            world.seed(Api::Cpp, &offer);
            let published = world
                .functions
                .invoke("update-and-publish", state(&offer, "publish"))
                .await
                .map_err(|(e, m)| format!("preparing {offer}: {e}: {m}"))?;
            world.advance(Duration::from_secs(3_600));
            published
        }
        // A publish waiting at sign-off, and a person's go-live execution.
        "validate-and-go-live" => {
            world.seed(Api::Cpp, &offer);
            world
                .functions
                .invoke("update-and-publish", state(&offer, "publish"))
                .await
                .map_err(|(e, m)| format!("preparing {offer}: {e}: {m}"))?;
            world.advance(StepDurations::default().until_signoff() + Duration::from_secs(60));
            state(&offer, "goLive")
        }
        other => return Err(format!("no event for {other}").into()),
    })
}

/// The function did the real work: an answer that shows it.
pub fn check(function: &str, event: &Value, start: &ColdStart) -> BenchResult<()> {
    let response = start.response.as_ref().ok_or("no response")?;
    let ok = match function {
        FLOOR => response == event,
        "build-finished" => response["started"].as_array().is_some_and(|s| s.len() == 1),
        "update-and-publish" => {
            response["changed"] == true && response["operation"]["kind"] == "publish"
        }
        "check-last-operation" => {
            response["operationStatus"] == "running" && response["nextCheckSeconds"].is_u64()
        }
        "validate-and-go-live" => response["outcome"] == "goLiveStarted",
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{function} answered unexpectedly: {response}").into())
    }
}
