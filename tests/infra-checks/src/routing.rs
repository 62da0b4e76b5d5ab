//! Where each outcome and each error leads, followed through the definition (`follow`): the seed's
//! loop (update and publish, wait, check, preview, go live), the queue, and every error ending the
//! execution with its name and cause after a notice that carries no SAS URL.

use serde_json::{Value, json};

use crate::asl::{Asl, QUEUEING_FUNCTION};
use crate::follow::{Route, Stop, World, after_failure, follow};

pub const CHECK_FUNCTION: &str = "${CheckLastOperationFunctionArn}";
pub const GO_LIVE_FUNCTION: &str = "${ValidateAndGoLiveFunctionArn}";

/// The signature in the sample state's SAS URLs: no notice may carry it.
pub const SAS_SIGNATURE: &str = "sig=SECRETsig";

/// A workflow state as the functions hand it on: a request whose image URLs are signed.
pub fn sample_state() -> Value {
    json!({
        "publisherId": "contoso", "offerId": "contoso-linux", "planId": "gen2", "planIds": "gen2", "version": "1.4.0",
        "osVhdUrl": format!("https://acct.blob.core.windows.net/vhds/os.vhd?sp=rl&se=2099-01-01T00:00:00Z&{SAS_SIGNATURE}"),
        "lunVhdDetails": [{"lunVhdUrl": format!("https://acct.blob.core.windows.net/vhds/d0.vhd?sp=rl&{SAS_SIGNATURE}")}],
        "notificationEmails": "release@contoso.com", "goLive": "manual", "action": "publish", "pollCount": 0
    })
}

/// `sample_state()` with these fields set.
pub fn state_with(fields: Value) -> Value {
    let mut state = sample_state();
    if let (Some(state), Some(fields)) = (state.as_object_mut(), fields.as_object()) {
        state.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    state
}

/// The Task state that invokes `function` (a definition substitution).
pub fn task_for<'a>(asl: &'a Asl, function: &str) -> Option<&'a str> {
    asl.lambda_tasks()
        .into_iter()
        .find(|t| t.function() == Some(function))
        .map(|t| t.name)
}

/// Where the execution goes once the task for `function` returned `output` (the whole state).
pub fn after_task(asl: &Asl, function: &str, output: Value) -> Result<Route, String> {
    let task = task_for(asl, function).ok_or_else(|| format!("no task invokes {function}"))?;
    let next = asl
        .state(task)
        .and_then(|s| s.str("Next"))
        .ok_or_else(|| format!("{task} has no Next"))?;
    follow(asl, next, output, World::default())
}

/// What a route is expected to do.
pub struct Expect<'a> {
    pub what: &'a str,
    pub route: Result<Route, String>,
    pub events: &'a [&'a str],
    pub stop: Expected<'a>,
}

pub enum Expected<'a> {
    /// Calls the task of this function next.
    Calls(&'a str),
    /// Waits, then calls the task of this function.
    WaitsThenCalls(&'a str),
    Succeeds,
    /// Fails with this error, its cause containing the text.
    FailsWith(&'a str, &'a str),
}

/// The problems of one expected route, as sentences.
pub fn route_problems(asl: &Asl, expect: Expect<'_>) -> Vec<String> {
    let what = expect.what;
    let route = match expect.route {
        Ok(route) => route,
        Err(e) => return vec![format!("{what}: {e}")],
    };
    let mut problems = notice_problems(what, &route);
    let path = route.states.join(" > ");
    if route.events() != expect.events {
        problems.push(format!(
            "{what}: notices {:?}, not {:?} ({path})",
            route.events(),
            expect.events
        ));
    }
    let calls =
        |state: &str, function: &str| asl.state(state).and_then(|s| s.function()) == Some(function);
    let ok = match (&expect.stop, &route.stop) {
        (Expected::Calls(f), Stop::Task(t)) => calls(t, f),
        (Expected::WaitsThenCalls(f), Stop::Wait(w)) => {
            let wait = asl.state(w);
            wait.as_ref().and_then(|s| s.str("SecondsPath")) == Some("$.nextCheckSeconds")
                && wait
                    .as_ref()
                    .and_then(|s| s.str("Next"))
                    .is_some_and(|next| calls(next, f))
        }
        (Expected::Succeeds, Stop::Succeed(_)) => true,
        (
            Expected::FailsWith(error, text),
            Stop::Fail {
                error: e, cause, ..
            },
        ) => e == error && cause.contains(text),
        _ => false,
    };
    if !ok {
        problems.push(format!("{what}: stops at {:?} ({path})", route.stop));
    }
    problems
}

/// Every notice names its event and carries a summary, and none carries a SAS URL.
fn notice_problems(what: &str, route: &Route) -> Vec<String> {
    let mut problems = Vec::new();
    for notice in &route.notices {
        let text = notice.to_string();
        if text.contains(SAS_SIGNATURE) || text.contains("blob.core.windows.net") {
            problems.push(format!("{what}: a notice carries a SAS URL: {text}"));
        }
        if !notice["event"].is_string() || !notice["summary"].is_string() {
            problems.push(format!("{what}: a notice without event or summary: {text}"));
        }
    }
    problems
}

/// Each Lambda task's `error` (after its retries) is told in a `failed` notice, which names the error
/// and cause, and then fails the execution with that error and cause, calling no function on the way.
pub fn error_problems(asl: &Asl, errors: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    for task in asl.lambda_tasks() {
        for error in errors {
            let cause = format!("the cause of {error}");
            let what = format!("{error} from {}", task.name);
            let route = match after_failure(
                asl,
                task.name,
                sample_state(),
                error,
                &cause,
                World::default(),
            ) {
                Ok(Some(route)) => route,
                Ok(None) => {
                    problems.push(format!("{what}: no catcher takes it"));
                    continue;
                }
                Err(e) => {
                    problems.push(format!("{what}: {e}"));
                    continue;
                }
            };
            let notice = route.notices.first().cloned().unwrap_or(Value::Null);
            if notice["error"] != *error || notice["cause"] != cause {
                problems.push(format!("{what}: the failed notice says {notice}"));
            }
            problems.extend(route_problems(
                asl,
                Expect {
                    what: &what,
                    route: Ok(route),
                    events: &["failed"],
                    stop: Expected::FailsWith(error, &cause),
                },
            ));
        }
    }
    problems
}

/// An error that reaches a catcher without a Cause still ends the execution with one, after its notice.
pub fn missing_cause_problems(asl: &Asl) -> Vec<String> {
    let mut problems = Vec::new();
    for task in asl.lambda_tasks() {
        let Some(catcher) = task.catchers().first() else {
            continue;
        };
        let (Some(next), Some("$.error")) =
            (catcher["Next"].as_str(), catcher["ResultPath"].as_str())
        else {
            problems.push(format!(
                "{}: its catcher does not keep the error in $.error",
                task.name
            ));
            continue;
        };
        let data = state_with(json!({"error": {"Error": "States.Timeout"}}));
        problems.extend(route_problems(
            asl,
            Expect {
                what: &format!("{} timing out without a cause", task.name),
                route: follow(asl, next, data, World::default()),
                events: &["failed"],
                stop: Expected::FailsWith("States.Timeout", "no cause"),
            },
        ));
    }
    problems
}

/// A queue entry is announced on its first check, then waits on `$.nextCheckSeconds` and runs the
/// publish again; later entries wait without a notice; without one, the run waits for its operation.
pub fn queue_problems(asl: &Asl) -> Vec<String> {
    let entry = |checks: u32| {
        state_with(
            json!({"nextCheckSeconds": 300, "queue": {"since": "2026-11-21T10:00:00Z", "checks": checks,
            "waitedSeconds": 0, "waitingFor": "a publish of the offer is running", "maxDays": 18}}),
        )
    };
    let mut problems = Vec::new();
    let first = after_task(asl, QUEUEING_FUNCTION, entry(1));
    if let Ok(route) = &first {
        let notice = route.notices.first().cloned().unwrap_or(Value::Null);
        if notice["waitingFor"] != "a publish of the offer is running"
            || notice["queuedSince"] != "2026-11-21T10:00:00Z"
        {
            problems.push(format!(
                "the queued notice does not say what it waits for: {notice}"
            ));
        }
        let summary = notice["summary"].as_str().unwrap_or_default();
        if notice["queueMaxDays"] != 18 || !summary.contains("for 18 days at most") {
            problems.push(format!(
                "the queued notice does not say how long the run waits at most: {notice}"
            ));
        }
    }
    for (what, route, events) in [
        ("a first queue entry", first, &["queued"][..]),
        (
            "a later queue entry",
            after_task(asl, QUEUEING_FUNCTION, entry(2)),
            &[][..],
        ),
    ] {
        problems.extend(route_problems(
            asl,
            Expect {
                what,
                route,
                events,
                stop: Expected::WaitsThenCalls(QUEUEING_FUNCTION),
            },
        ));
    }
    let published = state_with(
        json!({"nextCheckSeconds": 300, "operationStatus": "running",
        "operation": {"kind": "publish", "location": "/api/operations/1"}}),
    );
    problems.extend(route_problems(
        asl,
        Expect {
            what: "a publish that started",
            route: after_task(asl, QUEUEING_FUNCTION, published),
            events: &[],
            stop: Expected::WaitsThenCalls(CHECK_FUNCTION),
        },
    ));
    problems
}
