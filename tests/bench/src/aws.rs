//! Stand-ins for the AWS APIs the functions call at cold start and in build-finished: S3 (path-style
//! GetObject), Step Functions StartExecution and Secrets Manager GetSecretValue, on one loopback port
//! (`AWS_ENDPOINT_URL`). Step Functions keeps its name rule: a name starts once; a repeat is
//! `ExecutionAlreadyExists` unless the execution still runs with the same input.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::server::Server;

pub const REGION: &str = "eu-west-1";
pub const STATE_MACHINE_ARN: &str = "arn:aws:states:eu-west-1:111122223333:stateMachine:publish";
/// The release state machine (infra/statemachine/release.asl.json), which build-finished starts for
/// a manifest with `targets`.
pub const RELEASE_STATE_MACHINE_ARN: &str =
    "arn:aws:states:eu-west-1:111122223333:stateMachine:release";
pub const SECRET_ARN: &str =
    "arn:aws:secretsmanager:eu-west-1:111122223333:secret:cpp-client-AbCdEf";

#[derive(Clone)]
pub struct AwsStandIn {
    state: Arc<Mutex<AwsState>>,
    pub url: String,
}

#[derive(Default)]
struct AwsState {
    objects: HashMap<(String, String), Vec<u8>>,
    secret: String,
    /// name -> (input, still running)
    executions: HashMap<String, (String, bool)>,
    calls: BTreeMap<String, u64>,
}

impl AwsStandIn {
    pub async fn start(secret: &str) -> std::io::Result<(Self, Server)> {
        let state = Arc::new(Mutex::new(AwsState {
            secret: secret.to_owned(),
            ..AwsState::default()
        }));
        let router = Router::new()
            .route("/", post(json_protocol))
            .route("/{bucket}/{*key}", get(get_object))
            .with_state(state.clone());
        let server = Server::start(router).await?;
        Ok((
            Self {
                state,
                url: server.url(),
            },
            server,
        ))
    }

    fn lock(&self) -> MutexGuard<'_, AwsState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn put_object(&self, bucket: &str, key: &str, body: Vec<u8>) {
        self.lock()
            .objects
            .insert((bucket.to_owned(), key.to_owned()), body);
    }

    /// The input an execution was started with.
    pub fn input_of(&self, name: &str) -> Option<String> {
        self.lock()
            .executions
            .get(name)
            .map(|(input, _)| input.clone())
    }

    /// The execution ended: its name can never start again.
    pub fn close(&self, name: &str) {
        if let Some(execution) = self.lock().executions.get_mut(name) {
            execution.1 = false;
        }
    }

    /// Requests served, by operation.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.lock().calls.clone()
    }
}

type Shared = Arc<Mutex<AwsState>>;

fn lock(state: &Shared) -> MutexGuard<'_, AwsState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn get_object(
    State(state): State<Shared>,
    Path((bucket, key)): Path<(String, String)>,
) -> Response {
    let mut state = lock(&state);
    *state.calls.entry("s3:GetObject".into()).or_default() += 1;
    match state.objects.get(&(bucket, key)) {
        Some(body) => ([(header::CONTENT_TYPE, "application/json")], body.clone()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "application/xml")],
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>",
        )
            .into_response(),
    }
}

/// The JSON protocols: the operation is named by `X-Amz-Target`.
async fn json_protocol(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut state = lock(&state);
    *state.calls.entry(target.clone()).or_default() += 1;
    match target.as_str() {
        "AWSStepFunctions.StartExecution" => start_execution(&mut state, &body),
        "secretsmanager.GetSecretValue" => reply(
            StatusCode::OK,
            "application/x-amz-json-1.1",
            json!({"ARN": SECRET_ARN, "Name": "cpp-client", "VersionId": "v1",
                   "SecretString": json!({"clientSecret": state.secret}).to_string(),
                   "VersionStages": ["AWSCURRENT"], "CreatedDate": 1_700_000_000.0}),
        ),
        other => error(
            "application/x-amz-json-1.0",
            "UnknownOperationException",
            &format!("{other} is not served by the benchmark"),
        ),
    }
}

fn start_execution(state: &mut AwsState, body: &Value) -> Response {
    const JSON_1_0: &str = "application/x-amz-json-1.0";
    let (Some(name), Some(input), Some(machine)) = (
        body["name"].as_str(),
        body["input"].as_str(),
        body["stateMachineArn"].as_str(),
    ) else {
        return error(
            JSON_1_0,
            "ValidationException",
            "name, input and stateMachineArn are required",
        );
    };
    let arn = format!(
        "{}:{name}",
        machine.replace(":stateMachine:", ":execution:")
    );
    match state.executions.get(name) {
        Some((same, true)) if same == input => {}
        Some(_) => {
            return error(
                JSON_1_0,
                "ExecutionAlreadyExists",
                &format!("Execution Already Exists: '{arn}'"),
            );
        }
        None => {
            state
                .executions
                .insert(name.to_owned(), (input.to_owned(), true));
        }
    }
    reply(
        StatusCode::OK,
        JSON_1_0,
        json!({"executionArn": arn, "startDate": 1_795_000_000.0}),
    )
}

fn error(content_type: &'static str, error_type: &str, message: &str) -> Response {
    reply(
        StatusCode::BAD_REQUEST,
        content_type,
        json!({"__type": error_type, "message": message}),
    )
}

fn reply(status: StatusCode, content_type: &'static str, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, content_type)],
        body.to_string(),
    )
        .into_response()
}
