//! The log lines the template's metric filter and dashboard read, in the JSON layout Lambda's
//! runtime writes (`AWS_LAMBDA_LOG_FORMAT=JSON`: the event's fields under `fields`).

use serde_json::Value;
use shared::workflow::{Action, ErrorName, WorkflowState};
use test_harness::{Harness, OFFER, PUBLISHER};

use crate::captured::Captured;
use crate::support::{observer, start_state, update};

/// What `{ $.fields.message = "<message>" }` matches.
fn with_message<'a>(lines: &'a [Value], message: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|l| l["fields"]["message"] == message)
        .collect()
}

#[tokio::test]
async fn a_queued_visit_logs_the_days_it_waited_and_a_failure_logs_its_error_name() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(move || writer.clone())
        .finish();
    let _installed = tracing::subscriber::set_default(subscriber);
    let h = Harness::start().await;

    // Someone else's publish holds the offer: the run queues, twice.
    observer(&h).publish(PUBLISHER, OFFER, "").await.unwrap();
    let first = update(&h, &start_state("1.1.0")).await.unwrap();
    let second = update(&h, &first).await.unwrap();
    assert_eq!(second.queue.as_ref().map(|q| q.checks), Some(2));
    // A state that is not one: the invocation fails with InvalidInput.
    let mut bad = serde_json::to_value(WorkflowState::start(
        test_harness::request("1.2.0"),
        Action::Publish,
    ))
    .unwrap();
    bad["pollCount"] = "three".into();
    let event = lambda_runtime::LambdaEvent::new(bad, test_harness::context());
    let err = update_and_publish::handle(event, &h.deps)
        .await
        .unwrap_err();
    assert_eq!(err.name, ErrorName::InvalidInput);

    let lines = captured.json_lines();
    let queued = with_message(&lines, "another operation holds the offer; waiting for it");
    let waited: Vec<f64> = queued
        .iter()
        .map(|l| {
            l["fields"]["waited_days"]
                .as_f64()
                .expect("waited_days is a number")
        })
        .collect();
    // 5 minutes, then 5 + 10: what the metric's Maximum shows, in days.
    assert_eq!(waited, [300.0 / 86_400.0, 900.0 / 86_400.0]);
    let failed = with_message(&lines, "invocation failed");
    assert_eq!(failed.len(), 1, "one line per failed invocation");
    assert_eq!(failed[0]["fields"]["error_name"], "InvalidInput");
    assert_eq!(failed[0]["level"], "ERROR");
}
