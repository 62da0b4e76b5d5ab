//! Input the functions must refuse: each case is a test asserting `InvalidInput` with a message that
//! names the field or thing at fault, nothing started (build-finished: no StartExecution reached Step
//! Functions) and nothing written (the state-taking functions: no request reached CPP at all).
//! Also the URL-encoding traps of object keys, which S3 notifications encode and EventBridge does not.

use serde_json::{Value, json};
use shared::workflow::{ErrorName, OperationKind, OperationState, WorkflowState};
use test_harness::Harness;

use crate::aws::*;
use crate::support::{check, go_live, start_state, update};

/// A manifest with one change, refused both from S3 (named by a notification) and sent directly.
async fn refused_manifest(change: impl Fn(&mut Value), expected: &[&str]) {
    let mut bad = manifest();
    change(&mut bad);

    let t = Trigger::start().await;
    t.s3.put(BUCKET, KEY, bad.to_string());
    let err = t.run(notification(BUCKET, KEY)).await.unwrap_err();
    assert_invalid(&err, expected);
    assert_invalid(&err, &[&format!("s3://{BUCKET}/{KEY}")]);
    t.assert_nothing_started();

    let err = t.run(bad).await.unwrap_err();
    assert_invalid(&err, expected);
    t.assert_nothing_started();
}

/// A stored object with these bytes, named by a notification.
async fn refused_object(body: Vec<u8>, expected: &[&str]) {
    let t = Trigger::start().await;
    t.s3.put(BUCKET, KEY, body);
    let err = t.run(notification(BUCKET, KEY)).await.unwrap_err();
    assert_invalid(&err, expected);
    assert_invalid(&err, &[KEY]);
    t.assert_nothing_started();
}

/// An event refused before any manifest is read.
async fn refused_event(trigger: Trigger, event: Value, expected: &[&str]) {
    trigger.s3.put(BUCKET, KEY, manifest().to_string());
    let err = trigger.run(event).await.unwrap_err();
    assert_invalid(&err, expected);
    trigger.assert_nothing_started();
    assert!(trigger.s3.reads().is_empty(), "{:?}", trigger.s3.reads());
}

fn set(field: &'static str, value: Value) -> impl Fn(&mut Value) {
    move |m| m[field] = value.clone()
}

fn remove(field: &'static str) -> impl Fn(&mut Value) {
    move |m| {
        m.as_object_mut().unwrap().shift_remove(field);
    }
}

fn sas(from: &'static str, to: &'static str) -> impl Fn(&mut Value) {
    move |m| m["osVhdUrl"] = json!(sas_url().replace(from, to))
}

macro_rules! manifest_cases {
    ($($name:ident: $change:expr => [$($expected:expr),+ $(,)?];)*) => {
        mod manifest {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    refused_manifest($change, &[$($expected),+]).await
                }
            )*
        }
    };
}

manifest_cases! {
    missing_offer_id: remove("offerId") => ["missing field `offerId`"];
    empty_offer_id: set("offerId", json!("")) => ["offerId is missing or empty"];
    blank_offer_id: set("offerId", json!("   ")) => ["offerId is missing or empty"];
    missing_plan_id: remove("planId") => ["planId is missing or empty"];
    missing_version: remove("version") => ["missing field `version`"];
    missing_os_vhd_url: remove("osVhdUrl") => ["osVhdUrl is missing or empty"];
    empty_os_vhd_url: set("osVhdUrl", json!("")) => ["osVhdUrl is missing or empty"];
    missing_publisher_without_a_default: remove("publisherId") => ["publisherId is missing or empty"];
    offer_id_a_number: set("offerId", json!(7)) => ["field offerId", "invalid type: integer `7`"];
    offer_id_null: set("offerId", Value::Null) => ["field offerId", "invalid type: null"];
    version_a_number: set("version", json!(1.4)) => ["field version", "invalid type: floating point"];
    lun_vhd_details_a_string: set("lunVhdDetails", json!("none")) => ["field lunVhdDetails", "invalid type"];
    lun_vhd_details_of_numbers: set("lunVhdDetails", json!([1])) => ["lunVhdDetails[0] must be an object"];
    too_many_data_disks: set("lunVhdDetails", json!(vec![json!({"lun": 0}); 16])) => ["lunVhdDetails has 16 data disks", "at most 15"];
    go_live_a_boolean: set("goLive", json!(true)) => ["field goLive", "invalid type: boolean"];
    go_live_unknown: set("goLive", json!("later")) => ["field goLive", "unknown variant `later`"];
    notification_emails_a_list: set("notificationEmails", json!(["release@contoso.com"])) => ["field notificationEmails", "invalid type: sequence"];
    notification_emails_not_addresses: set("notificationEmails", json!("release@contoso.com, release")) => ["notificationEmails \"release\" is not an e-mail address"];
    version_of_two_parts: set("version", json!("1.0")) => ["version \"1.0\" is not a version MAJOR.MINOR.PATCH"];
    version_with_a_prerelease: set("version", json!("1.0.0-rc1")) => ["version \"1.0.0-rc1\" is not a version"];
    version_past_64_bits: set("version", json!("18446744073709551616.0.0")) => ["version \"18446744073709551616.0.0\" is not a version"];
    version_with_leading_zeros: set("version", json!("01.0.0")) => ["version \"01.0.0\"", "without leading zeros"];
    version_with_four_parts: set("version", json!("1.0.0.0")) => ["version \"1.0.0.0\" is not a version"];
    version_negative: set("version", json!("-1.0.0")) => ["version \"-1.0.0\" is not a version"];
    plan_id_uppercase: set("planId", json!("Gen2")) => ["planId \"Gen2\" must be lowercase"];
    offer_id_too_long: set("offerId", json!("o".repeat(51))) => ["offerId is longer than 50 characters"];
    offer_id_with_a_slash: set("offerId", json!("contoso/linux")) => ["offerId \"contoso/linux\" contains '/'"];
    offer_id_unicode: set("offerId", json!("cöntoso")) => ["offerId \"cöntoso\" contains 'ö'"];
    sas_over_http: sas("https://", "http://") => ["osVhdUrl must be https"];
    sas_on_another_host: sas("contosobuilds.blob.core.windows.net", "contosobuilds.example.com") => ["osVhdUrl host \"contosobuilds.example.com\" is not an Azure blob storage host"];
    sas_without_read: sas("sp=rl", "sp=l") => ["osVhdUrl SAS permissions sp=\"l\" must include read (r) and list (l)"];
    sas_without_list: sas("sp=rl", "sp=r") => ["osVhdUrl SAS permissions sp=\"r\""];
    sas_without_permissions: sas("&sp=rl", "") => ["osVhdUrl SAS permissions sp=\"\""];
    sas_expired: sas("se=2030-12-31T00:00:00Z", "se=2026-01-01T00:00:00Z") => ["osVhdUrl SAS expires 2026-01-01", "less than 21 days"];
    sas_expiring_too_soon: sas("se=2030-12-31T00:00:00Z", "se=2026-12-01T00:00:00Z") => ["osVhdUrl SAS expires 2026-12-01", "less than 21 days"];
    sas_without_expiry: sas("&se=2030-12-31T00:00:00Z", "") => ["osVhdUrl has no readable SAS expiry (se)"];
    sas_without_signature: sas("&sig=EXAMPLEsignatureNOTreal%3D", "") => ["osVhdUrl has no SAS signature (sig)"];
    sas_not_a_url: set("osVhdUrl", json!("os-1.4.0.vhd")) => ["osVhdUrl is not a URL"];
    unknown_field: set("colour", json!("blue")) => ["manifest field \"colour\" is not known"];
    misspelt_field: set("osVhdURL", json!("x")) => ["manifest field \"osVhdURL\" is not known"];
}

#[tokio::test]
async fn manifest_not_an_object() {
    refused_object(b"[1, 2]".to_vec(), &["manifest must be a JSON object"]).await;
    let t = Trigger::start().await;
    let err = t.run(json!("contoso-linux 1.4.0")).await.unwrap_err();
    assert_invalid(&err, &["the event is not a JSON object"]);
    t.assert_nothing_started();
}

#[tokio::test]
async fn object_over_64_kib() {
    let mut body = manifest().to_string().into_bytes();
    body.resize(64 * 1024 + 1, b' ');
    refused_object(body, &["65537 bytes", "at most 65536"]).await;
}

#[tokio::test]
async fn direct_manifest_over_64_kib() {
    let t = Trigger::start().await;
    let mut big = manifest();
    big["notificationEmails"] = json!(format!("release@contoso.com{}", " ".repeat(64 * 1024)));
    assert_invalid(&t.run(big).await.unwrap_err(), &["the limit is 65536"]);
    t.assert_nothing_started();
}

#[tokio::test]
async fn object_not_utf8() {
    let mut body = manifest().to_string().into_bytes();
    body.splice(20..20, [0xff, 0xfe]);
    refused_object(body, &["manifest is not UTF-8 text (invalid byte at 20)"]).await;
}

#[tokio::test]
async fn object_utf16_with_bom() {
    let text = manifest().to_string();
    let mut body = vec![0xff, 0xfe];
    body.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    refused_object(body, &["manifest is not UTF-8 text"]).await;
}

#[tokio::test]
async fn object_not_json() {
    refused_object(
        b"publisherId: contoso\nofferId: contoso-linux\n".to_vec(),
        &["manifest is not JSON"],
    )
    .await;
}

#[tokio::test]
async fn object_empty() {
    refused_object(Vec::new(), &["manifest is not JSON"]).await;
}

#[tokio::test]
async fn object_truncated_json() {
    let text = manifest().to_string();
    refused_object(
        text.as_bytes()[..text.len() / 2].to_vec(),
        &["manifest is not JSON"],
    )
    .await;
}

#[tokio::test]
async fn object_deleted_before_it_was_read() {
    let t = Trigger::start().await;
    t.s3.put(BUCKET, KEY, manifest().to_string());
    t.s3.delete(BUCKET, KEY);
    let err = t.run(notification(BUCKET, KEY)).await.unwrap_err();
    assert_invalid(
        &err,
        &["does not exist", &format!("bucket {BUCKET:?}"), KEY],
    );
    t.assert_nothing_started();
    let err = t.run(object_created(BUCKET, KEY)).await.unwrap_err();
    assert_invalid(&err, &["does not exist", KEY]);
    t.assert_nothing_started();
}

#[tokio::test]
async fn event_for_another_bucket() {
    let configured = || {
        Trigger::with(|c| {
            c.manifest_bucket = Some(BUCKET.into());
            c.manifest_prefix = Some(PREFIX.into());
        })
    };
    let expected = [
        "s3://someone-elses-bucket/manifests/x.json",
        "bucket \"someone-elses-bucket\"",
        "key \"manifests/x.json\"",
        "manifest bucket \"contoso-builds\" (MANIFEST_BUCKET)",
    ];
    let event = notification("someone-elses-bucket", "manifests/x.json");
    refused_event(configured().await, event, &expected).await;
    let event = object_created("someone-elses-bucket", "manifests/x.json");
    refused_event(configured().await, event, &expected).await;
}

#[tokio::test]
async fn event_for_a_key_outside_the_prefix() {
    let configured = || Trigger::with(|c| c.manifest_prefix = Some(PREFIX.into()));
    let expected = [
        "key \"uploads/x.json\"",
        "bucket \"contoso-builds\"",
        "manifest prefix \"manifests/\" (MANIFEST_PREFIX)",
    ];
    refused_event(
        configured().await,
        notification(BUCKET, "uploads/x.json"),
        &expected,
    )
    .await;
    refused_event(
        configured().await,
        object_created(BUCKET, "uploads/x.json"),
        &expected,
    )
    .await;
}

#[tokio::test]
async fn one_record_of_two_from_another_bucket_starts_neither() {
    let t = Trigger::with(|c| c.manifest_bucket = Some(BUCKET.into())).await;
    let mut event = notification(BUCKET, KEY);
    let mut other = event["Records"][0].clone();
    other["s3"]["bucket"]["name"] = json!("other");
    event["Records"].as_array_mut().unwrap().push(other);
    refused_event(t, event, &["bucket \"other\"", "MANIFEST_BUCKET"]).await;
}

#[tokio::test]
async fn unset_bucket_and_prefix_accept_any_storage_event() {
    let t = Trigger::start().await;
    t.s3.put("any-bucket", "any/key.json", manifest().to_string());
    let output = t
        .run(notification("any-bucket", "any/key.json"))
        .await
        .unwrap();
    assert_eq!(output["started"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn notification_key_that_does_not_decode_to_utf8() {
    refused_event(
        Trigger::start().await,
        notification(BUCKET, "manifests/bad%FF.json"),
        &[
            "Records[0].s3.object.key",
            "\"manifests/bad%FF.json\" does not decode to UTF-8",
        ],
    )
    .await;
}

#[tokio::test]
async fn notification_of_a_removed_object() {
    let mut event = notification(BUCKET, KEY);
    event["Records"][0]["eventName"] = json!("ObjectRemoved:Delete");
    refused_event(
        Trigger::start().await,
        event,
        &["Records[0].eventName is \"ObjectRemoved:Delete\""],
    )
    .await;
}

#[tokio::test]
async fn eventbridge_object_deleted() {
    let mut event = object_created(BUCKET, KEY);
    event["detail-type"] = json!("Object Deleted");
    refused_event(
        Trigger::start().await,
        event,
        &["\"Object Deleted\" is not accepted"],
    )
    .await;
}

#[tokio::test]
async fn notification_without_records() {
    refused_event(
        Trigger::start().await,
        json!({"Records": []}),
        &["Records is empty"],
    )
    .await;
}

#[tokio::test]
async fn notification_record_without_a_key() {
    let mut event = notification(BUCKET, KEY);
    event["Records"][0]["s3"]["object"]
        .as_object_mut()
        .unwrap()
        .shift_remove("key");
    refused_event(
        Trigger::start().await,
        event,
        &["Records[0].s3.object: missing field `key`"],
    )
    .await;
}

#[tokio::test]
async fn notification_key_of_the_wrong_type() {
    let mut event = notification(BUCKET, KEY);
    event["Records"][0]["s3"]["object"]["key"] = json!(42);
    refused_event(
        Trigger::start().await,
        event,
        &["Records[0].s3.object.key", "invalid type: integer `42`"],
    )
    .await;
}

#[tokio::test]
async fn eventbridge_event_without_a_bucket() {
    let mut event = object_created(BUCKET, KEY);
    event["detail"]
        .as_object_mut()
        .unwrap()
        .shift_remove("bucket");
    refused_event(
        Trigger::start().await,
        event,
        &["EventBridge event field detail", "missing field `bucket`"],
    )
    .await;
}

#[tokio::test]
async fn an_event_of_no_known_shape() {
    refused_event(
        Trigger::start().await,
        json!({"detail": {"hello": "world"}}),
        &["unrecognised event", "S3 event notification"],
    )
    .await;
}

/// The object named by an event is read under its decoded key, and starts one execution.
async fn read_as(event: Value, stored: &str, prefix: Option<&str>) {
    let t = Trigger::with(|c| c.manifest_prefix = prefix.map(str::to_owned)).await;
    t.s3.put(BUCKET, stored, manifest().to_string());
    let output = t.run(event).await.unwrap();
    assert_eq!(output["started"].as_array().unwrap().len(), 1, "{output}");
    assert_eq!(t.s3.reads(), [(BUCKET.to_owned(), stored.to_owned())]);
}

mod key_traps {
    use super::*;

    #[tokio::test]
    async fn plus_is_a_space_in_notifications_and_a_plus_in_eventbridge() {
        let raw = "manifests/release+1.4.0.json";
        read_as(
            notification(BUCKET, raw),
            "manifests/release 1.4.0.json",
            None,
        )
        .await;
        read_as(object_created(BUCKET, raw), raw, None).await;
    }

    #[tokio::test]
    async fn percent_2b_is_a_plus_in_notifications_and_literal_in_eventbridge() {
        let raw = "manifests/c%2B%2B.json";
        read_as(notification(BUCKET, raw), "manifests/c++.json", None).await;
        read_as(object_created(BUCKET, raw), raw, None).await;
    }

    #[tokio::test]
    async fn percent_25_is_a_percent_in_notifications_and_literal_in_eventbridge() {
        let raw = "manifests/100%25.json";
        read_as(notification(BUCKET, raw), "manifests/100%.json", None).await;
        read_as(object_created(BUCKET, raw), raw, None).await;
    }

    #[tokio::test]
    async fn unicode_is_percent_encoded_in_notifications_and_plain_in_eventbridge() {
        let key = "manifests/café ✓/版本.json";
        read_as(
            notification(
                BUCKET,
                "manifests/caf%C3%A9+%E2%9C%93/%E7%89%88%E6%9C%AC.json",
            ),
            key,
            None,
        )
        .await;
        read_as(object_created(BUCKET, key), key, None).await;
    }

    #[tokio::test]
    async fn the_prefix_is_checked_on_the_decoded_key() {
        read_as(
            notification(BUCKET, "release+1%2F/x.json"),
            "release 1//x.json",
            Some("release 1/"),
        )
        .await;
    }

    #[tokio::test]
    async fn a_notification_key_taken_literally_would_name_a_missing_object() {
        // S3 sends a literal '+' as %2B; a bare '+' decodes to a space, and that object does not exist.
        let t = Trigger::start().await;
        t.s3.put(BUCKET, "manifests/a+b.json", manifest().to_string());
        let err = t
            .run(notification(BUCKET, "manifests/a+b.json"))
            .await
            .unwrap_err();
        assert_invalid(&err, &["does not exist", "key \"manifests/a b.json\""]);
        t.assert_nothing_started();
    }
}

/// The three functions that take the workflow state.
#[derive(Clone, Copy, Debug)]
enum StateTaking {
    UpdateAndPublish,
    CheckLastOperation,
    ValidateAndGoLive,
}

/// A state in the middle of a run, as the state machine passes it.
fn mid_run_state() -> Value {
    let mut state = start_state("1.1.0");
    state.begin_operation(OperationState {
        kind: OperationKind::Publish,
        at: shared::cpp::operation_for_submission("contoso", "contoso-linux", "op-1"),
    });
    state.poll_count = 2;
    state.next_check_seconds = Some(300);
    serde_json::to_value(state).unwrap()
}

/// The state with `pointer` set to `value` (removed when `None`) is refused before CPP is called.
async fn refused_state(function: StateTaking, pointer: &str, value: Option<Value>, expected: &str) {
    let h = Harness::start().await;
    let mut state = mid_run_state();
    match value {
        Some(value) if pointer.is_empty() => state = value,
        change => {
            let (parent, field) = pointer.rsplit_once('/').unwrap();
            let parent = state.pointer_mut(parent).unwrap().as_object_mut().unwrap();
            match change {
                Some(value) => parent.insert(field.to_owned(), value),
                None => parent.shift_remove(field),
            };
        }
    }
    let event = lambda_runtime::LambdaEvent::new(state, test_harness::context());
    let result = match function {
        StateTaking::UpdateAndPublish => update_and_publish::handle(event, &h.deps)
            .await
            .map(|s| serde_json::to_value(s).unwrap()),
        StateTaking::CheckLastOperation => check_last_operation::handle(event, &h.deps).await,
        StateTaking::ValidateAndGoLive => validate_and_go_live::handle(event, &h.deps)
            .await
            .map(|s| serde_json::to_value(s).unwrap()),
    };
    let err = result.unwrap_err();
    assert_eq!(err.name, ErrorName::InvalidInput, "{function:?}: {err}");
    assert!(
        err.message.contains(expected),
        "{function:?}: {expected:?} not in: {err}"
    );
    assert!(
        h.emulator.requests().is_empty(),
        "{function:?}: CPP was called: {:?}",
        h.emulator.requests()
    );
}

macro_rules! state_cases {
    ($($name:ident: $pointer:literal = $value:expr => $expected:literal;)*) => {
        mod workflow_state {
            use super::*;
            $(
                mod $name {
                    use super::*;

                    #[tokio::test]
                    async fn update_and_publish() {
                        refused_state(StateTaking::UpdateAndPublish, $pointer, $value, $expected).await
                    }

                    #[tokio::test]
                    async fn check_last_operation() {
                        refused_state(StateTaking::CheckLastOperation, $pointer, $value, $expected).await
                    }

                    #[tokio::test]
                    async fn validate_and_go_live() {
                        refused_state(StateTaking::ValidateAndGoLive, $pointer, $value, $expected).await
                    }
                }
            )*
        }
    };
}

state_cases! {
    version_a_number: "/version" = Some(json!(110)) => "field version: invalid type: integer `110`";
    offer_id_null: "/offerId" = Some(Value::Null) => "field offerId: invalid type: null";
    os_vhd_url_missing: "/osVhdUrl" = None => "osVhdUrl is missing or empty";
    lun_vhd_details_an_object: "/lunVhdDetails" = Some(json!({})) => "field lunVhdDetails: invalid type: map";
    poll_count_a_string: "/pollCount" = Some(json!("three")) => "field pollCount: invalid type: string \"three\"";
    poll_count_negative: "/pollCount" = Some(json!(-1)) => "field pollCount: invalid value: integer `-1`";
    next_check_seconds_a_float: "/nextCheckSeconds" = Some(json!(1.5)) => "field nextCheckSeconds: invalid type: floating point";
    operation_a_string: "/operation" = Some(json!("op-1")) => "field operation: invalid type: string";
    operation_kind_unknown: "/operation/kind" = Some(json!("teleport")) => "field operation.kind: unknown variant `teleport`";
    operation_location_a_number: "/operation/location" = Some(json!(7)) => "field operation: invalid type: integer `7`, expected a string";
    operation_status_a_number: "/operationStatus" = Some(json!(3)) => "field operationStatus: invalid type: integer `3`";
    action_unknown: "/action" = Some(json!("delete")) => "field action: unknown variant `delete`";
    action_missing: "/action" = None => "missing field `action`";
    messages_a_string: "/messages" = Some(json!("failed")) => "field messages: invalid type: string";
    plan_id_breaking_the_rules: "/planId" = Some(json!("Gen2")) => "planId \"Gen2\" must be lowercase";
    version_with_leading_zeros: "/version" = Some(json!("01.1.0")) => "version \"01.1.0\"";
    not_an_object: "" = Some(json!(["publish"])) => "workflow state must be a JSON object";
}

#[tokio::test]
async fn a_state_with_a_field_this_version_does_not_know_is_accepted_and_kept() {
    // Fields are added, never renamed (docs/architecture.md): unknown ones are not bad input.
    let h = Harness::start().await;
    let mut state = serde_json::to_value(start_state("1.1.0")).unwrap();
    state["notifyResult"] = json!({"MessageId": "m-1"});
    let state: WorkflowState = serde_json::from_value(state).unwrap();
    let out = update(&h, &state).await.unwrap();
    assert_eq!(out.extra["notifyResult"], json!({"MessageId": "m-1"}));
    let out = check(&h, &out).await.unwrap();
    assert_eq!(out.extra["notifyResult"], json!({"MessageId": "m-1"}));
    let out = go_live(&h, &out).await.unwrap();
    assert_eq!(out.extra["notifyResult"], json!({"MessageId": "m-1"}));
}
