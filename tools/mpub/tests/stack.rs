//! `--stack NAME`: the state machine is the stack's `StateMachineArn` output, read from
//! CloudFormation (a stand-in on 127.0.0.1 answering DescribeStacks as the query API does).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use axum::extract::Form;
use axum::http::StatusCode;
use axum::routing::post;
use mpub::target::state_machine_arn;

const ARN: &str =
    "arn:aws:states:eu-west-1:123456789012:stateMachine:marketplace-publisher-publish";

/// DescribeStacks: `good` has the output, `other` has none, anything else does not exist.
async fn describe_stacks(Form(form): Form<HashMap<String, String>>) -> (StatusCode, String) {
    assert_eq!(form["Action"], "DescribeStacks");
    let outputs = match form["StackName"].as_str() {
        "good" => format!(
            "<member><OutputKey>ManifestBucket</OutputKey><OutputValue>contoso-builds</OutputValue></member>\
             <member><OutputKey>StateMachineArn</OutputKey><OutputValue>{ARN}</OutputValue></member>"
        ),
        "other" => String::new(),
        missing => {
            let body = format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code>\
                 <Message>Stack with id {missing} does not exist</Message></Error><RequestId>r</RequestId></ErrorResponse>"
            );
            return (StatusCode::BAD_REQUEST, body);
        }
    };
    let body = format!(
        "<DescribeStacksResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">\
         <DescribeStacksResult><Stacks><member><StackName>{}</StackName>\
         <StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2026-12-01T00:00:00Z</CreationTime>\
         <Outputs>{outputs}</Outputs></member></Stacks></DescribeStacksResult>\
         <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeStacksResponse>",
        form["StackName"]
    );
    (StatusCode::OK, body)
}

#[tokio::test]
async fn the_stack_s_output_names_the_state_machine() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            axum::Router::new().route("/", post(describe_stacks)),
        )
        .await
        .unwrap();
    });
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_sdk_cloudformation::config::Region::new("eu-west-1"))
        .credentials_provider(
            aws_sdk_cloudformation::config::SharedCredentialsProvider::new(
                aws_sdk_cloudformation::config::Credentials::new(
                    "AKIDTEST",
                    "test-secret",
                    None,
                    None,
                    "test",
                ),
            ),
        )
        .build();
    assert_eq!(
        state_machine_arn(&sdk, Some("good"), None).await.unwrap(),
        ARN
    );
    // An ARN given outright wins, and needs no stack.
    assert_eq!(
        state_machine_arn(&sdk, Some("good"), Some("arn:given"))
            .await
            .unwrap(),
        "arn:given"
    );
    let other = state_machine_arn(&sdk, Some("other"), None)
        .await
        .unwrap_err();
    assert_eq!(other.code, 1);
    assert!(
        other
            .message
            .contains("stack other has no output StateMachineArn"),
        "{other}"
    );
    let missing = state_machine_arn(&sdk, Some("gone"), None)
        .await
        .unwrap_err();
    assert_eq!(
        missing.code, 1,
        "a stack that does not exist is a refusal, not an outage"
    );
    assert!(
        missing.message.contains("reading stack gone")
            && missing.message.contains("does not exist"),
        "{missing}"
    );
    server.abort();
}
