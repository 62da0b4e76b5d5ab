//! Step Functions, JSON 1.0 protocol: POST `/` with `X-Amz-Target: AWSStepFunctions.StartExecution`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

#[derive(Clone, Default)]
pub struct FakeSfn {
    state: Arc<Mutex<SfnState>>,
    pub url: String,
}

#[derive(Default)]
struct SfnState {
    /// Execution name -> input of every execution started.
    executions: HashMap<String, String>,
    /// (status, __type) answered instead of starting.
    fault: Option<(u16, String)>,
    calls: Vec<StartCall>,
}

/// One StartExecution request as received.
#[derive(Clone, Debug)]
pub struct StartCall {
    pub target: String,
    pub content_type: String,
    pub body: Value,
}

impl StartCall {
    /// The execution input, parsed.
    pub fn input(&self) -> Value {
        serde_json::from_str(self.body["input"].as_str().unwrap()).unwrap()
    }

    pub fn name(&self) -> &str {
        self.body["name"].as_str().unwrap()
    }
}

impl FakeSfn {
    pub async fn start() -> Self {
        let mut fake = Self::default();
        let router = Router::new()
            .route("/", post(handle))
            .with_state(fake.clone());
        fake.url = super::serve(router).await;
        fake
    }

    pub fn fail_with(&self, status: u16, error_type: &str) {
        self.state.lock().unwrap().fault = Some((status, error_type.into()));
    }

    pub fn calls(&self) -> Vec<StartCall> {
        self.state.lock().unwrap().calls.clone()
    }

    pub fn executions(&self) -> usize {
        self.state.lock().unwrap().executions.len()
    }
}

// The SDK sends application/x-amz-json-1.0, so the body is read as bytes, not as `Json`.
async fn handle(State(fake): State<FakeSfn>, headers: HeaderMap, body: Bytes) -> Response {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let call = StartCall {
        target: text("x-amz-target"),
        content_type: text(header::CONTENT_TYPE.as_str()),
        body: serde_json::from_slice(&body).unwrap(),
    };
    let mut state = fake.state.lock().unwrap();
    state.calls.push(call.clone());
    if call.target != "AWSStepFunctions.StartExecution" {
        return error(400, "UnknownOperationException", "not served by this fake");
    }
    if let Some((status, error_type)) = state.fault.clone() {
        return error(status, &error_type, "injected fault");
    }
    let name = call.name().to_owned();
    let arn = format!(
        "{}:{name}",
        call.body["stateMachineArn"]
            .as_str()
            .unwrap()
            .replace(":stateMachine:", ":execution:")
    );
    if state.executions.contains_key(&name) {
        return error(
            400,
            "ExecutionAlreadyExists",
            &format!("Execution Already Exists: '{arn}'"),
        );
    }
    let input = call.body["input"].as_str().unwrap().to_owned();
    state.executions.insert(name, input);
    reply(
        StatusCode::OK,
        json!({"executionArn": arn, "startDate": 1_795_000_000.0}),
    )
}

fn error(status: u16, error_type: &str, message: &str) -> Response {
    reply(
        StatusCode::from_u16(status).unwrap(),
        json!({"__type": error_type, "message": message}),
    )
}

fn reply(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/x-amz-json-1.0")],
        body.to_string(),
    )
        .into_response()
}
