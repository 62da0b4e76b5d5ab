#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A release manifest (`targets`): one execution of the release state machine, one named child per
//! offer in its input, nothing started twice, nothing started for a bad entry.

// Not every helper of the shared fakes is used here.
#[allow(dead_code)]
mod fakes;

use fakes::harness::{Harness, RELEASE_STATE_MACHINE};
use serde_json::{Value, json};
use shared::workflow::ErrorName;

const SIGNATURE: &str = "EXAMPLEsignatureNOTreal";

fn release() -> Value {
    let path = format!(
        "{}/../../infra/events/manifest-release.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn a_release_starts_one_execution_listing_each_offer_once() {
    let h = Harness::start().await;
    let output = h.run(release()).await.unwrap();
    let calls = h.sfn.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].body["stateMachineArn"], RELEASE_STATE_MACHINE);
    let input = calls[0].input();
    assert_eq!(input["action"], "publish");
    assert_eq!(
        input["release"],
        json!({"name": calls[0].name(), "version": "1.4.0", "targets": 3})
    );
    assert!(
        calls[0]
            .name()
            .starts_with("release_contoso-linux-and-more_1-4-0_")
    );
    let offers = input["offers"].as_array().unwrap();
    let names: Vec<&str> = offers.iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert!(
        names[0].starts_with("contoso-linux_gen1--gen2_1-4-0_"),
        "{names:?}"
    );
    assert!(
        names[1].starts_with("contoso-byol_gen2_1-4-0_"),
        "{names:?}"
    );
    for name in &names {
        assert!(name.len() <= 80, "{name}");
    }
    let linux = &offers[0]["state"];
    assert_eq!(
        (&linux["offerId"], &linux["planIds"], &linux["api"]),
        (&json!("contoso-linux"), &json!("gen1, gen2"), &json!("cpp"))
    );
    assert_eq!(linux["plans"][1]["entry"], "targets[1]");
    assert!(linux.get("planId").is_none(), "plans in place of planId");
    assert_eq!(
        offers[1]["state"]["plans"][0]["images"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(output["started"][0]["name"], calls[0].name());
    assert!(!output.to_string().contains(SIGNATURE));
}

#[tokio::test]
async fn the_same_release_delivered_twice_starts_nothing_the_second_time() {
    let h = Harness::start().await;
    let first = h.run(release()).await.unwrap();
    let second = h.run(release()).await.unwrap();
    assert_eq!(h.sfn.executions(), 1);
    assert_eq!(second["started"], json!([]));
    assert_eq!(second["duplicates"][0]["name"], first["started"][0]["name"]);
    let (a, b) = (h.sfn.calls()[0].input(), h.sfn.calls()[1].input());
    assert_eq!(a, b, "the same names and input for the same manifest");
}

#[tokio::test]
async fn a_bad_entry_or_a_deployment_without_releases_starts_nothing() {
    let h = Harness::start().await;
    let mut bad = release();
    bad["targets"][2]["offerId"] = json!("contoso-linux");
    let err = h.run(bad).await.unwrap_err();
    assert_eq!(err.name, ErrorName::InvalidInput);
    assert!(err.message.starts_with("targets[2].api"), "{err}");
    let mut h = h;
    h.deps.config.release_state_machine_arn = None;
    let err = h.run(release()).await.unwrap_err();
    assert!(err.message.contains("RELEASE_STATE_MACHINE_ARN"), "{err}");
    assert!(h.sfn.calls().is_empty());
}
