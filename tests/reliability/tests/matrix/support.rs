//! The CPP side: running the three state-taking handlers against the emulator, shaping faults, and
//! reading what the emulator was asked to do.

use std::time::Duration;

use lambda_runtime::LambdaEvent;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use shared::clock::Clock;
use shared::config::ClientSecretSource;
use shared::cpp::{ClientOptions, CppClient, Submission};
use shared::retry::RetrySettings;
use shared::workflow::{Action, WorkflowError, WorkflowState};
use test_harness::cpp_emulator::{EmulatorConfig, Fault, FaultAction, LoggedRequest};
use test_harness::{Harness, OFFER, PUBLISHER, context, request};

pub const DAY: Duration = Duration::from_secs(86_400);
/// The version every run adds to the seeded plan (which holds 1.0.0).
pub const VERSION: &str = "1.1.0";
/// Path of the test offer, for faults and log filters.
pub const OFFER_PATH: &str = "/api/publishers/contoso/offers/contoso-linux";

/// The state a fresh publish execution starts with.
pub fn start_state(version: &str) -> WorkflowState {
    WorkflowState::start(request(version), Action::Publish)
}

pub async fn update(h: &Harness, state: &WorkflowState) -> Result<WorkflowState, WorkflowError> {
    update_and_publish::handle(event(state), &h.deps).await
}

pub async fn check(h: &Harness, state: &WorkflowState) -> Result<WorkflowState, WorkflowError> {
    let output = check_last_operation::handle(event(state), &h.deps).await?;
    Ok(serde_json::from_value(output).unwrap())
}

pub async fn go_live(h: &Harness, state: &WorkflowState) -> Result<WorkflowState, WorkflowError> {
    validate_and_go_live::handle(event(state), &h.deps).await
}

fn event(state: &WorkflowState) -> LambdaEvent<Value> {
    LambdaEvent::new(serde_json::to_value(state).unwrap(), context())
}

/// A fault on `times` requests whose method is `method` and whose path contains `path`.
pub fn fault(method: &str, path: &str, times: u32, action: FaultAction) -> Fault {
    Fault {
        method: Some(method.into()),
        path_contains: path.into(),
        times,
        action,
    }
}

pub fn status(code: u16) -> FaultAction {
    FaultAction::Status {
        status: code,
        retry_after: None,
        body: None,
    }
}

pub fn throttled(retry_after: &str) -> FaultAction {
    FaultAction::Status {
        status: 429,
        retry_after: Some(retry_after.into()),
        body: None,
    }
}

/// Requests the emulator received with this method whose path contains `path`.
pub fn hits(h: &Harness, method: &str, path: &str) -> Vec<LoggedRequest> {
    h.emulator
        .requests()
        .into_iter()
        .filter(|r| r.method == method && r.path.contains(path))
        .collect()
}

/// Adds `request`'s version to its plan of the CPP test offer's draft, as another writer (or an
/// earlier, interrupted run) would: written, not published.
pub async fn write_into_draft(h: &Harness, request: &shared::workflow::PublishRequest) {
    use shared::marketplace::{Marketplace, PlanChange};
    let offer = request.offer();
    let plan = request.plan_id.as_str();
    let draft = h.deps.cpp.read_draft(&offer, &[plan]).await.unwrap();
    let new = shared::workflow::new_version(request, &draft.plans[0].versions).unwrap();
    let change = PlanChange {
        plan: plan.to_owned(),
        new,
        retire: vec![],
    };
    h.deps
        .cpp
        .write_draft(&offer, draft, &[change])
        .await
        .unwrap();
}

/// The publishes of the CPP test offer (every path holds `/publishers/`, so the end is compared).
pub fn publishes(h: &Harness) -> usize {
    hits(h, "POST", OFFER_PATH)
        .iter()
        .filter(|r| r.path.ends_with("/publish"))
        .count()
}

/// Every PUT and POST to the API (token requests are not writes).
pub fn writes(h: &Harness) -> Vec<LoggedRequest> {
    h.emulator
        .requests()
        .into_iter()
        .filter(|r| (r.method == "PUT" || r.method == "POST") && r.path.starts_with("/api/"))
        .collect()
}

/// The offer's operations, newest first, as CPP lists them. Read by a client of its own, so the
/// token cache of the client under test stays as the run left it.
pub async fn submissions(h: &Harness) -> Vec<Submission> {
    observer(h)
        .list_operations(PUBLISHER, OFFER, None)
        .await
        .unwrap()
}

/// Another client with the same credentials, for looking at CPP without touching the one under test.
pub fn observer(h: &Harness) -> CppClient {
    let Some(ClientSecretSource::Value(secret)) = &h.deps.config.client_secret else {
        panic!("the harness configures the secret itself");
    };
    client(h, secret.expose_secret(), Duration::from_secs(2))
}

/// (publishes, go-lives) among the offer's operations.
pub async fn operation_counts(h: &Harness) -> (usize, usize) {
    let list = submissions(h).await;
    let go_lives = list.iter().filter(|s| s.is_go_live()).count();
    (list.len() - go_lives, go_lives)
}

/// How long the impatient client waits for a response: short, so a hung response costs little real
/// time, yet far above what the emulator takes on a loaded machine.
pub const IMPATIENT: Duration = Duration::from_millis(500);
/// Longer than [`IMPATIENT`]: the emulator holds a hung response this long.
pub const HANG: Duration = Duration::from_millis(800);

/// Gives `h` a client that waits only [`IMPATIENT`] for a response (the harness's waits 2 s) and a
/// token cache of its own; returns the client it had.
pub fn make_impatient(h: &mut Harness) -> CppClient {
    let impatient = client(h, &EmulatorConfig::default().client_secret, IMPATIENT);
    std::mem::replace(&mut h.deps.cpp, impatient)
}

/// A client for `h`'s emulator on `h`'s clock, with another secret or request timeout.
pub fn client(h: &Harness, secret: &str, request_timeout: Duration) -> CppClient {
    let options = ClientOptions {
        clock: h.clock.clone(),
        retry: RetrySettings {
            min_delay: Duration::from_millis(200),
            ..RetrySettings::default()
        },
        request_timeout,
        connect_timeout: Duration::from_secs(1),
        http: None,
    };
    CppClient::with_options(
        &h.deps.config,
        SecretString::from(secret.to_owned()),
        options,
    )
    .unwrap()
}

/// A run that has added 1.1.0 and started its publish.
pub async fn publishing(h: &Harness) -> WorkflowState {
    update(h, &start_state(VERSION)).await.unwrap()
}

/// A run whose publish waits at publisher sign-off: the preview holds 1.1.0.
pub async fn at_signoff(h: &Harness) -> WorkflowState {
    let state = publishing(h).await;
    h.advance(DAY * 5);
    let mut state = check(h, &state).await.unwrap();
    assert_eq!(
        state.operation_status,
        Some(shared::workflow::RunStatus::Succeeded)
    );
    state.action = Action::GoLive;
    state
}

/// A run whose go-live has finished: production holds 1.1.0.
pub async fn live(h: &Harness) -> WorkflowState {
    let state = at_signoff(h).await;
    let state = go_live(h, &state).await.unwrap();
    h.advance(DAY * 4);
    let state = check(h, &state).await.unwrap();
    assert_eq!(
        state.operation_status,
        Some(shared::workflow::RunStatus::Succeeded)
    );
    state
}

/// The client's clock, for `Retry-After` dates.
pub fn client_now(h: &Harness) -> std::time::SystemTime {
    h.clock.now()
}
