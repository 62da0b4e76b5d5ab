#![allow(clippy::unwrap_used, clippy::expect_used)]
//! build-finished in-process against fake S3 and Step Functions endpoints: each event shape, duplicates,
//! bad manifests, size and existence checks, and how AWS failures are named.

// Not every helper of the shared fakes is used here.
#[allow(dead_code)]
mod fakes;

use build_finished::execution_name::execution_name;
use fakes::harness::{Harness, NOW, STATE_MACHINE};
use serde_json::{Value, json};
use shared::workflow::{
    Action, ErrorName, ManifestRules, PublishRequest, WorkflowError, WorkflowState,
};

const BUCKET: &str = "contoso-builds";
const KEY: &str = "manifests/contoso-linux/gen2/1.4.0.json";
const TARGET: &str = "contoso/contoso-linux/gen2@1.4.0";
const SIGNATURE: &str = "EXAMPLEsignatureNOTreal";

fn sample(name: &str) -> Value {
    let path = format!("{}/../../infra/events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn manifest() -> Value {
    sample("manifest-direct.json")
}

fn rules() -> ManifestRules<'static> {
    ManifestRules {
        default_publisher: None,
        default_api: shared::marketplace::Api::Cpp,
        sas_min_validity_days: 21,
        now: NOW,
    }
}

/// An S3 notification for `key` as S3 sends it (already encoded).
fn notification(keys: &[&str]) -> Value {
    let mut event = sample("s3-notification.json");
    let record = event["Records"][0].clone();
    event["Records"] = keys
        .iter()
        .map(|key| {
            let mut record = record.clone();
            record["s3"]["object"]["key"] = json!(key);
            record
        })
        .collect();
    event
}

fn assert_invalid(err: &WorkflowError, expected: &[&str]) {
    assert_eq!(err.name, ErrorName::InvalidInput, "{err}");
    for part in expected {
        assert!(err.message.contains(part), "{part:?} in {err}");
    }
    assert!(
        !err.message.contains(SIGNATURE),
        "SAS signature leaked: {err}"
    );
}

#[tokio::test]
async fn each_sample_shape_starts_one_execution_with_the_request_as_input() {
    let request = PublishRequest::from_manifest_value(manifest(), &rules()).unwrap();
    let expected_input =
        serde_json::to_value(WorkflowState::start(request.clone(), Action::Publish)).unwrap();
    let mut names = Vec::new();
    for shape in [
        "s3-notification.json",
        "eventbridge-object-created.json",
        "manifest-direct.json",
        "eventbridge-custom-manifest.json",
    ] {
        let h = Harness::start().await;
        h.s3.put(BUCKET, KEY, manifest().to_string());
        let output = h.run(sample(shape)).await.unwrap();

        let calls = h.sfn.calls();
        assert_eq!(calls.len(), 1, "{shape}");
        let call = &calls[0];
        assert_eq!(call.target, "AWSStepFunctions.StartExecution");
        assert_eq!(call.content_type, "application/x-amz-json-1.0");
        assert_eq!(call.body["stateMachineArn"], STATE_MACHINE);
        assert_eq!(call.input(), expected_input, "{shape}");
        assert_eq!(call.input()["action"], "publish");
        let input_text = call.body["input"].as_str().unwrap();
        assert_eq!(call.name(), execution_name(&request, input_text));
        assert!(
            call.name().starts_with("contoso-linux_gen2_1-4-0_"),
            "{}",
            call.name()
        );

        let arn = format!(
            "arn:aws:states:eu-west-1:111122223333:execution:publish:{}",
            call.name()
        );
        assert_eq!(
            output,
            json!({"started": [{"executionArn": arn, "name": call.name(), "target": TARGET}], "duplicates": []}),
            "{shape}"
        );
        assert!(!output.to_string().contains(SIGNATURE));
        let reads_s3 = shape.contains("s3-") || shape.contains("object-created");
        let expected_reads = if reads_s3 {
            vec![(BUCKET.to_owned(), KEY.to_owned())]
        } else {
            vec![]
        };
        assert_eq!(h.s3.reads(), expected_reads, "{shape}");
        names.push(call.name().to_owned());
    }
    names.dedup();
    assert_eq!(
        names.len(),
        1,
        "one manifest, one name, whatever the shape: {names:?}"
    );
}

#[tokio::test]
async fn notification_keys_are_decoded_and_eventbridge_keys_are_not() {
    let h = Harness::start().await;
    let stored = "manifests/release 1.4.0/my+manifest(1).json";
    h.s3.put(BUCKET, stored, manifest().to_string());

    let encoded = "manifests/release+1.4.0/my%2Bmanifest%281%29.json";
    let output = h.run(notification(&[encoded])).await.unwrap();
    assert_eq!(output["started"].as_array().unwrap().len(), 1);

    let mut event = sample("eventbridge-object-created.json");
    event["detail"]["object"]["key"] = json!(stored);
    let output = h.run(event).await.unwrap();
    assert_eq!(
        output["duplicates"].as_array().unwrap().len(),
        1,
        "{output}"
    );

    let read = (BUCKET.to_owned(), stored.to_owned());
    assert_eq!(h.s3.reads(), [read.clone(), read]);
}

#[tokio::test]
async fn the_same_event_twice_starts_one_execution() {
    let h = Harness::start().await;
    h.s3.put(BUCKET, KEY, manifest().to_string());
    let first = h.run(sample("s3-notification.json")).await.unwrap();
    let second = h.run(sample("s3-notification.json")).await.unwrap();

    assert_eq!(h.sfn.executions(), 1);
    assert_eq!(h.sfn.calls().len(), 2);
    let name = first["started"][0]["name"].clone();
    assert_eq!(
        second,
        json!({"started": [], "duplicates": [{"name": name, "target": TARGET}]})
    );
}

#[tokio::test]
async fn two_records_of_one_manifest_start_it_once() {
    let h = Harness::start().await;
    h.s3.put(BUCKET, KEY, manifest().to_string());
    h.s3.put(BUCKET, "copy.json", manifest().to_string());
    let output = h.run(notification(&[KEY, "copy.json"])).await.unwrap();
    assert_eq!(output["started"].as_array().unwrap().len(), 1, "{output}");
    assert_eq!(
        output["duplicates"].as_array().unwrap().len(),
        1,
        "{output}"
    );
    assert_eq!(h.sfn.calls().len(), 1);
}

#[tokio::test]
async fn a_bad_manifest_names_the_field_and_starts_nothing() {
    let sas = manifest()["osVhdUrl"].as_str().unwrap().to_owned();
    let cases = [
        ("colour", json!("blue"), "\"colour\" is not known"),
        ("version", json!("1.4"), "version \"1.4\" is not a version"),
        (
            "osVhdUrl",
            json!(sas.replace("https://", "http://")),
            "osVhdUrl must be https",
        ),
        (
            "osVhdUrl",
            json!(sas.replace("2030-12-31", "2026-12-01")),
            "osVhdUrl SAS expires",
        ),
    ];
    for (field, value, expected) in cases {
        let mut bad = manifest();
        bad[field] = value;
        let h = Harness::start().await;
        h.s3.put(BUCKET, KEY, bad.to_string());

        let err = h.run(sample("s3-notification.json")).await.unwrap_err();
        assert_invalid(&err, &[expected, &format!("s3://{BUCKET}/{KEY}")]);
        let err = h.run(bad).await.unwrap_err();
        assert_invalid(&err, &[expected]);
        assert!(h.sfn.calls().is_empty(), "{field}: nothing may start");
    }
}

#[tokio::test]
async fn every_record_is_validated_before_any_starts() {
    let h = Harness::start().await;
    h.s3.put(BUCKET, KEY, manifest().to_string());
    let mut bad = manifest();
    bad["planId"] = json!("Gen2");
    h.s3.put(BUCKET, "bad.json", bad.to_string());

    let err = h.run(notification(&[KEY, "bad.json"])).await.unwrap_err();
    assert_invalid(&err, &["planId", "bad.json"]);
    assert_eq!(h.s3.reads().len(), 2);
    assert!(h.sfn.calls().is_empty());
}

#[tokio::test]
async fn an_object_over_64_kib_is_refused() {
    let h = Harness::start().await;
    h.s3.put(BUCKET, KEY, vec![b' '; 64 * 1024 + 1]);
    let err = h.run(sample("s3-notification.json")).await.unwrap_err();
    assert_invalid(&err, &["65537 bytes", "at most 65536", KEY]);
    assert!(h.sfn.calls().is_empty());

    let mut direct = manifest();
    direct["notificationEmails"] = json!("x".repeat(64 * 1024));
    assert_invalid(&h.run(direct).await.unwrap_err(), &["the limit is 65536"]);
}

#[tokio::test]
async fn a_missing_object_names_bucket_and_key() {
    let h = Harness::start().await;
    let err = h
        .run(sample("eventbridge-object-created.json"))
        .await
        .unwrap_err();
    assert_invalid(
        &err,
        &[
            "manifest object s3://",
            "does not exist (bucket \"contoso-builds\"",
            KEY,
        ],
    );
    assert!(h.sfn.calls().is_empty());
}

#[tokio::test]
async fn an_unrecognised_event_lists_the_accepted_shapes() {
    let h = Harness::start().await;
    let err = h
        .run(json!({"detail": {"hello": "world"}}))
        .await
        .unwrap_err();
    assert_invalid(
        &err,
        &[
            "unrecognised event",
            "S3 event notification",
            "Object Created",
            "build manifest",
        ],
    );
    assert!(h.sfn.calls().is_empty() && h.s3.reads().is_empty());
}

#[tokio::test]
async fn aws_failures_are_named_for_retry_or_configuration() {
    let cases = [
        (500, "InternalFailure", ErrorName::Transient),
        (400, "ThrottlingException", ErrorName::Transient),
        (400, "StateMachineDoesNotExist", ErrorName::ConfigError),
        (400, "AccessDeniedException", ErrorName::ConfigError),
    ];
    for (status, error_type, name) in cases {
        let h = Harness::start().await;
        h.sfn.fail_with(status, error_type);
        let err = h.run(manifest()).await.unwrap_err();
        assert_eq!(err.name, name, "{error_type}: {err}");
        assert!(
            err.message.contains(error_type) && err.message.contains("starting execution"),
            "{err}"
        );
        assert!(!err.message.contains(SIGNATURE));
    }
    let h = Harness::start().await;
    h.s3.fail_with(403, "AccessDenied");
    let err = h.run(sample("s3-notification.json")).await.unwrap_err();
    assert_eq!(err.name, ErrorName::ConfigError, "{err}");
    assert!(
        err.message.contains("AccessDenied") && err.message.contains(KEY),
        "{err}"
    );
    h.s3.fail_with(503, "SlowDown");
    let err = h.run(sample("s3-notification.json")).await.unwrap_err();
    assert_eq!(err.name, ErrorName::Transient, "{err}");
}

#[tokio::test]
async fn the_configured_api_is_written_into_a_run_whose_manifest_names_none() {
    let mut h = Harness::start().await;
    h.deps.config.marketplace_api = shared::marketplace::Api::ProductIngestion;
    let mut pi = manifest();
    pi.as_object_mut().unwrap().shift_remove("publisherId");
    h.s3.put(BUCKET, KEY, pi.to_string());
    h.run(notification(&[KEY])).await.unwrap();
    let input = h.sfn.calls()[0].input();
    assert_eq!(input["api"], "productIngestion");
    assert_eq!(
        input["publisherId"], "",
        "Product Ingestion needs no publisher"
    );

    let h = Harness::start().await;
    let mut named = manifest();
    named["api"] = json!("productIngestion");
    h.s3.put(BUCKET, KEY, named.to_string());
    h.run(notification(&[KEY])).await.unwrap();
    assert_eq!(
        h.sfn.calls()[0].input()["api"],
        "productIngestion",
        "the manifest's own api wins"
    );
}
