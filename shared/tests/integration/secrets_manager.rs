//! The client secret read from Secrets Manager through the AWS SDK, against a local stand-in of its API.

use std::net::SocketAddr;

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use axum::Json;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use shared::cpp::{CppClient, OfferView};
use shared::secret::{ClientSecret, fetch_secret};
use shared::workflow::{ErrorName, WorkflowError};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cpp-AbCdEf";

/// Serves GetSecretValue (JSON 1.1 protocol) with `secret` for ARN and ResourceNotFound otherwise.
async fn secrets_manager(secret: &'static str) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let (addr, task, _) = counted_secrets_manager(secret, 0).await;
    (addr, task)
}

/// As `secrets_manager`, counting the reads and answering the first `throttled` of them 400
/// ThrottlingException.
async fn counted_secrets_manager(
    secret: &'static str,
    throttled: usize,
) -> (SocketAddr, tokio::task::JoinHandle<()>, Arc<AtomicUsize>) {
    let reads = Arc::new(AtomicUsize::new(0));
    let counter = reads.clone();
    let app = axum::Router::new().route(
        "/",
        post(move |headers: HeaderMap, body: Bytes| async move {
            if counter.fetch_add(1, Ordering::SeqCst) < throttled {
                return (axum::http::StatusCode::BAD_REQUEST, Json(json!({"__type": "ThrottlingException", "message": "Rate exceeded"})));
            }
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
    (addr, task, reads)
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
    assert_eq!(err.error.variable, "CPP_CLIENT_SECRET_ARN");
    assert!(err.error.problem.contains("clientSecret"), "{err}");
    assert!(!err.transient);
    let missing = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other";
    let err = fetch_secret(&client, missing).await.unwrap_err();
    assert!(err.error.problem.contains("ResourceNotFound"), "{err}");
    assert!(
        !err.transient,
        "a missing secret does not appear by waiting"
    );
    server.abort();
}

#[tokio::test]
async fn the_secret_is_read_once_however_often_it_is_asked_for() {
    let (addr, server, reads) = counted_secrets_manager("plain-secret-value", 0).await;
    let secret = ClientSecret::from_secrets_manager(sdk_client(addr), ARN);
    let (a, b) = tokio::join!(secret.get(), secret.get());
    assert_eq!(a.unwrap().expose_secret(), "plain-secret-value");
    assert_eq!(b.unwrap().expose_secret(), "plain-secret-value");
    assert_eq!(
        secret.get().await.unwrap().expose_secret(),
        "plain-secret-value"
    );
    assert_eq!(
        reads.load(Ordering::SeqCst),
        1,
        "three asks, two at once: one read"
    );
    server.abort();
}

#[tokio::test]
async fn a_throttled_read_is_transient_and_read_again_when_next_asked_for() {
    // The SDK retries a throttled call itself (3 attempts in all): 4 throttled answers outlast them.
    let (addr, server, reads) = counted_secrets_manager("plain-secret-value", 4).await;
    let secret = ClientSecret::from_secrets_manager(sdk_client(addr), ARN);
    let err = secret.get().await.unwrap_err();
    assert!(err.transient, "{err}");
    assert!(err.error.problem.contains("ThrottlingException"), "{err}");
    assert_eq!(
        secret.get().await.unwrap().expose_secret(),
        "plain-secret-value"
    );
    assert!(reads.load(Ordering::SeqCst) >= 4);
    server.abort();
}

#[tokio::test]
async fn an_unreachable_secrets_manager_is_transient() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = fetch_secret(&sdk_client(addr), ARN).await.unwrap_err();
    assert!(err.transient, "{err}");
    assert!(!err.to_string().contains("plain-secret-value"));
}

#[tokio::test]
async fn a_secret_that_cannot_be_read_fails_the_first_call_by_name_not_the_cold_start() {
    let (addr, server) = secrets_manager("plain-secret-value").await;
    let missing = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other";
    let secret = ClientSecret::from_secrets_manager(sdk_client(addr), missing);
    // Nothing is read while the client is built: a cold start takes only the configuration.
    let cpp = "http://127.0.0.1:9";
    let client = CppClient::new(&crate::support::config(cpp, cpp), secret).unwrap();
    let err = client
        .get_offer("contoso", "contoso-linux", OfferView::Draft)
        .await
        .unwrap_err();
    let named = WorkflowError::from_market(&shared::marketplace::MarketError::new(
        err.kind,
        err.to_string(),
    ));
    assert_eq!(named.name, ErrorName::ConfigError, "{named}");
    assert!(named.message.contains("ResourceNotFound"), "{named}");
    assert!(named.message.contains("client secret"), "{named}");
    server.abort();
}
