//! The scheduled report reaches the topic as one SNS message: a text table for people, the JSON
//! for programs; a check of a run sends nothing; a report that cannot be sent fails the invocation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::routing::post;
use check_last_operation::{ReportDelivery, serve};
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use shared::workflow::{Action, ErrorName, OperationKind, OperationState, WorkflowState};
use test_harness::cpp_emulator::EmulatorConfig;
use test_harness::{Harness, OFFER, PUBLISHER, context, request};

const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:marketplace-publisher-notifications";

type Received = Arc<Mutex<Vec<HashMap<String, String>>>>;

/// An SNS stand-in on 127.0.0.1 answering Publish with `status`; what it received.
async fn sns(status: StatusCode) -> (aws_sdk_sns::Client, Received, tokio::task::JoinHandle<()>) {
    let received = Received::default();
    let app = axum::Router::new()
        .route(
            "/",
            post(
                move |State(received): State<Received>, Form(form): Form<HashMap<String, String>>| async move {
                    received.lock().unwrap().push(form);
                    let body = "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>";
                    (status, [("content-type", "text/xml")], body)
                },
            ),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    let config = aws_sdk_sns::Config::builder()
        .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_sdk_sns::config::Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_sns::config::Credentials::new(
            "AKIDTEST",
            "test-secret",
            None,
            None,
            "test",
        ))
        .retry_config(aws_sdk_sns::config::retry::RetryConfig::disabled())
        .build();
    (aws_sdk_sns::Client::from_conf(config), received, server)
}

async fn watching_two_offers() -> Harness {
    let watched = format!("{PUBLISHER}/{OFFER},{PUBLISHER}/no-such-offer");
    let h = Harness::with(EmulatorConfig::default(), &[("CPP_WATCH_OFFERS", &watched)]).await;
    h.client().publish(PUBLISHER, OFFER, "").await.unwrap();
    h
}

#[tokio::test]
async fn people_get_a_table_and_programs_the_json_in_one_message() {
    let h = watching_two_offers().await;
    let (client, received, server) = sns(StatusCode::OK).await;
    let delivery = ReportDelivery::with_client(TOPIC.into(), client);
    let report = serve(
        LambdaEvent::new(json!({"mode": "report"}), context()),
        &h.deps,
        &delivery,
    )
    .await
    .unwrap();
    let sent = received.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "one message per report");
    let message = &sent[0];
    assert_eq!(message["Action"], "Publish");
    assert_eq!(message["TopicArn"], TOPIC);
    assert_eq!(message["MessageStructure"], "json");
    assert_eq!(
        message["Subject"],
        "Azure Marketplace: status of 2 offers (1 unreadable)"
    );
    let bodies: Value = serde_json::from_str(&message["Message"]).unwrap();
    let text = bodies["default"].as_str().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].contains("2 watched offers (1 could not be read)"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("OFFER") && lines[2].contains("STATUS"),
        "{text}"
    );
    assert!(
        lines[3].starts_with(&format!("{PUBLISHER}/{OFFER} ")) && lines[3].contains("running"),
        "{text}"
    );
    assert!(
        lines[4].contains("no-such-offer") && lines[4].contains("error"),
        "{text}"
    );
    let data: Value = serde_json::from_str(bodies["sqs"].as_str().unwrap()).unwrap();
    assert_eq!(data["checked"], 2);
    assert_eq!(data["offers"], report["offers"]);
    server.abort();
}

#[tokio::test]
async fn a_check_of_a_run_sends_nothing_and_an_unsent_report_fails_the_invocation() {
    let h = watching_two_offers().await;
    let (client, received, server) = sns(StatusCode::INTERNAL_SERVER_ERROR).await;
    let delivery = ReportDelivery::with_client(TOPIC.into(), client);
    let err = serve(
        LambdaEvent::new(json!({"mode": "report"}), context()),
        &h.deps,
        &delivery,
    )
    .await
    .unwrap_err();
    assert_eq!(err.name, ErrorName::Transient);
    assert!(err.message.contains(TOPIC), "{err}");
    // A run's check of its publish: answered, and nothing sent.
    let at = h.client().publish(PUBLISHER, OFFER, "").await.unwrap();
    let mut state = WorkflowState::start(request("1.0.0"), Action::Publish);
    state.begin_operation(OperationState {
        kind: OperationKind::Publish,
        at,
    });
    let checked = serve(
        LambdaEvent::new(serde_json::to_value(&state).unwrap(), context()),
        &h.deps,
        &delivery,
    )
    .await
    .unwrap();
    assert_eq!(checked["operationStatus"], "running");
    assert_eq!(
        received.lock().unwrap().len(),
        1,
        "only the report was sent"
    );
    server.abort();
}
