//! A local Lambda Runtime API (the endpoints and headers lambda_runtime 1.5 uses), and one cold start of
//! a process against it: spawn -> first `GET /invocation/next` (init) -> the event is served ->
//! `POST /invocation/{id}/response` (first response) -> the next `GET /next`, where the process idles
//! and its peak RSS is read from /proc before it is killed.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::BenchResult;
use crate::server::Server;

const API: &str = "/2018-06-01/runtime";
/// Longest a phase of one cold start may take before the run is called broken.
const PHASE_TIMEOUT: Duration = Duration::from_secs(20);

/// What the runtime API saw, stamped on arrival.
#[derive(Debug)]
enum Seen {
    Next { at: Instant, hwm_kib: Option<u64> },
    Response { at: Instant, body: Bytes },
    Error { body: Bytes },
    InitError { body: Bytes },
}

#[derive(Default)]
struct Slot {
    event: Option<Value>,
    pid: Option<u32>,
    nexts: u32,
    seen: Option<mpsc::UnboundedSender<Seen>>,
}

type Shared = Arc<Mutex<Slot>>;

fn lock(slot: &Shared) -> MutexGuard<'_, Slot> {
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

pub struct RuntimeApi {
    slot: Shared,
    server: Server,
}

/// One cold start, measured from just before the process was spawned.
#[derive(Debug, Clone)]
pub struct ColdStart {
    /// Spawn to the first request for work.
    pub init: Duration,
    /// Spawn to the first response (None when only init was asked for).
    pub first_response: Option<Duration>,
    /// VmHWM at the first request for work, KiB.
    pub init_hwm_kib: u64,
    /// VmHWM after the first invocation (at the second request for work), KiB.
    pub peak_hwm_kib: Option<u64>,
    pub response: Option<Value>,
}

impl RuntimeApi {
    pub async fn start() -> std::io::Result<Self> {
        let slot = Shared::default();
        let router = Router::new()
            .route(&format!("{API}/invocation/next"), get(next))
            .route(&format!("{API}/invocation/{{id}}/response"), post(response))
            .route(
                &format!("{API}/invocation/{{id}}/error"),
                post(invocation_error),
            )
            .route(&format!("{API}/init/error"), post(init_error))
            .with_state(slot.clone());
        Ok(Self {
            slot,
            server: Server::start(router).await?,
        })
    }

    /// `127.0.0.1:PORT`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn authority(&self) -> &str {
        self.server.authority()
    }

    /// Spawns `program` with exactly `env` (plus `AWS_LAMBDA_RUNTIME_API`) and measures one cold start.
    /// With `event`, it is served and the response awaited; without, only init is measured.
    pub async fn cold_start(
        &self,
        program: &Path,
        args: &[&str],
        env: &[(String, String)],
        event: Option<Value>,
        log: &Path,
    ) -> BenchResult<ColdStart> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        {
            let mut slot = lock(&self.slot);
            *slot = Slot {
                event: event.clone(),
                pid: None,
                nexts: 0,
                seen: Some(tx),
            };
        }
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let mut command = Command::new(program);
        command
            .args(args)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AWS_LAMBDA_RUNTIME_API", self.authority())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file);
        let started = Instant::now();
        let child = command.spawn()?;
        lock(&self.slot).pid = Some(child.id());
        let mut child = Reaper(child);
        let result = self.observe(&mut rx, started, event.is_some()).await;
        child.stop();
        lock(&self.slot).seen = None;
        result
    }

    async fn observe(
        &self,
        rx: &mut mpsc::UnboundedReceiver<Seen>,
        started: Instant,
        invoke: bool,
    ) -> BenchResult<ColdStart> {
        let (init_at, init_hwm) = match wait(rx).await? {
            Seen::Next { at, hwm_kib } => (at, hwm_kib.unwrap_or_default()),
            other => return Err(format!("expected a request for work first, got {other:?}").into()),
        };
        let mut run = ColdStart {
            init: init_at - started,
            first_response: None,
            init_hwm_kib: init_hwm,
            peak_hwm_kib: None,
            response: None,
        };
        if !invoke {
            return Ok(run);
        }
        match wait(rx).await? {
            Seen::Response { at, body } => {
                run.first_response = Some(at - started);
                run.response = Some(serde_json::from_slice(&body)?);
            }
            Seen::Error { body, .. } => {
                return Err(format!(
                    "the function answered with an error: {}",
                    String::from_utf8_lossy(&body)
                )
                .into());
            }
            other => return Err(format!("expected a response, got {other:?}").into()),
        }
        match wait(rx).await? {
            Seen::Next { hwm_kib, .. } => run.peak_hwm_kib = hwm_kib,
            other => {
                return Err(format!("expected the next request for work, got {other:?}").into());
            }
        }
        Ok(run)
    }
}

async fn wait(rx: &mut mpsc::UnboundedReceiver<Seen>) -> BenchResult<Seen> {
    match tokio::time::timeout(PHASE_TIMEOUT, rx.recv()).await {
        Ok(Some(Seen::InitError { body })) => Err(format!(
            "the function failed its cold start: {}",
            String::from_utf8_lossy(&body)
        )
        .into()),
        Ok(Some(seen)) => Ok(seen),
        Ok(None) => Err("the runtime API stopped".into()),
        Err(_) => Err(format!(
            "nothing from the function for {}s (did it exit? see its log)",
            PHASE_TIMEOUT.as_secs()
        )
        .into()),
    }
}

/// Kills and reaps the child however the run ends.
struct Reaper(Child);

impl Reaper {
    fn stop(&mut self) {
        // Already gone is fine: a peer that exits on its own after its first request.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Peak resident set (VmHWM) of a live process, KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The pid of the process being measured. A fast process (the floor, ~2 ms) can ask for work
/// before `cold_start` has stored its pid, when the bench's thread is descheduled just after the
/// spawn: wait for it (the asker is blocked on this answer, so its VmHWM does not move meanwhile).
async fn measured_pid(slot: &Shared) -> Option<u32> {
    for _ in 0..1_000 {
        if let Some(pid) = lock(slot).pid {
            return Some(pid);
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    None
}

async fn next(State(slot): State<Shared>) -> Response {
    let at = Instant::now();
    let pid = measured_pid(&slot).await;
    let event = {
        let mut slot = lock(&slot);
        slot.nexts += 1;
        let hwm_kib = pid.and_then(peak_rss_kib);
        if let Some(tx) = &slot.seen {
            let _ = tx.send(Seen::Next { at, hwm_kib });
        }
        if slot.nexts == 1 {
            slot.event.clone()
        } else {
            None
        }
    };
    match event {
        Some(event) => {
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                + Duration::from_secs(90);
            let mut headers = HeaderMap::new();
            for (name, value) in [
                (
                    "lambda-runtime-aws-request-id",
                    "bench-request-1".to_owned(),
                ),
                (
                    "lambda-runtime-deadline-ms",
                    deadline.as_millis().to_string(),
                ),
                (
                    "lambda-runtime-invoked-function-arn",
                    "arn:aws:lambda:eu-west-1:111122223333:function:bench".to_owned(),
                ),
                (
                    "lambda-runtime-trace-id",
                    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"
                        .to_owned(),
                ),
            ] {
                if let Ok(value) = value.parse() {
                    headers.insert(name, value);
                }
            }
            (StatusCode::OK, headers, event.to_string()).into_response()
        }
        // The process idles here until it is killed, as a Lambda sandbox does between invocations.
        None => std::future::pending::<Response>().await,
    }
}

fn report(slot: &Shared, seen: Seen) {
    if let Some(tx) = &lock(slot).seen {
        let _ = tx.send(seen);
    }
}

async fn response(
    State(slot): State<Shared>,
    UrlPath(_id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    report(
        &slot,
        Seen::Response {
            at: Instant::now(),
            body,
        },
    );
    StatusCode::ACCEPTED
}

async fn invocation_error(
    State(slot): State<Shared>,
    UrlPath(_id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    report(&slot, Seen::Error { body });
    StatusCode::ACCEPTED
}

async fn init_error(State(slot): State<Shared>, body: Bytes) -> StatusCode {
    report(&slot, Seen::InitError { body });
    StatusCode::ACCEPTED
}
