//! The client secret read from Secrets Manager through the AWS SDK, against a local stand-in of its API.

use std::net::SocketAddr;

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use axum::Json;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use shared::secret::fetch_secret;

const ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cpp-AbCdEf";

/// Serves GetSecretValue (JSON 1.1 protocol) with `secret` for ARN and ResourceNotFound otherwise.
async fn secrets_manager(secret: &'static str) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let app = axum::Router::new().route(
        "/",
        post(move |headers: HeaderMap, body: Bytes| async move {
            let body: Value = serde_json::from_slice(&body).unwrap();
            let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
            assert_eq!(target, "secretsmanager.GetSecretValue");
            if body["SecretId"] == ARN {
                (axum::http::StatusCode::OK, Json(json!({"ARN": ARN, "Name": "cpp", "SecretString": secret, "VersionId": "v1"})))
            } else {
                (axum::http::StatusCode::BAD_REQUEST, Json(json!({"__type": "ResourceNotFoundException", "message": "Secrets Manager can't find the specified secret."})))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (addr, task)
}

fn sdk_client(addr: SocketAddr) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(format!("http://{addr}"))
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new(
            "AKIDTEST",
            "test-secret",
            None,
            None,
            "test",
        ))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

#[tokio::test]
async fn a_plain_secret_string_is_the_client_secret() {
    let (addr, server) = secrets_manager("plain-secret-value").await;
    let secret = fetch_secret(&sdk_client(addr), ARN).await.unwrap();
    assert_eq!(secret.expose_secret(), "plain-secret-value");
    server.abort();
}

#[tokio::test]
async fn a_json_secret_gives_its_client_secret_field() {
    let (addr, server) = secrets_manager(r#"{"clientSecret": "from-json"}"#).await;
    assert_eq!(
        fetch_secret(&sdk_client(addr), ARN)
            .await
            .unwrap()
            .expose_secret(),
        "from-json"
    );
    server.abort();
}

#[tokio::test]
async fn a_missing_secret_or_field_is_a_config_error_naming_the_arn_variable() {
    let (addr, server) = secrets_manager(r#"{"other": "x"}"#).await;
    let client = sdk_client(addr);
    let err = fetch_secret(&client, ARN).await.unwrap_err();
    assert_eq!(err.variable, "CPP_CLIENT_SECRET_ARN");
    assert!(err.problem.contains("clientSecret"), "{err}");
    let missing = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other";
    let err = fetch_secret(&client, missing).await.unwrap_err();
    assert!(err.problem.contains("ResourceNotFound"), "{err}");
    server.abort();
}
