//! Runs the real state machine definition (infra/statemachine/publish.asl.json) in-process, calling the
//! functions' `handle` for its Task states, and counts what Step Functions would bill and record.
//!
//! What it covers is what the definition uses: Choice, Wait (Seconds, SecondsPath), Pass (Result,
//! Parameters), Task (Lambda invoke, SNS publish, Retry with backoff and jitter, Catch), Parallel,
//! Succeed and Fail; the data flow between them (paths, intrinsics, Choice rules) is the
//! `states-language` crate's.
//!
//! History-event model (per state entered; what the console shows for a Standard execution):
//! - execution: ExecutionStarted + ExecutionSucceeded/Failed = 2
//! - Task: TaskStateEntered, TaskScheduled, TaskStarted, TaskSucceeded, TaskStateExited = 5; each failed
//!   attempt that is retried adds TaskScheduled, TaskStarted, TaskFailed = 3
//! - Wait: counted as 3 to stay on the safe side; real histories record WaitStateEntered and
//!   WaitStateExited only, so the figure errs high by one event per wait.
//! - Choice, Pass, Succeed: StateEntered + StateExited = 2; Fail: FailStateEntered = 1
//! - Parallel: ParallelStateEntered, ParallelStateStarted, ParallelStateSucceeded, ParallelStateExited = 4,
//!   plus the states of its branch
//!
//! Transitions (what Step Functions bills): one per state entered, branch states included, plus one per
//! retry of a Task.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};
use states_language::{
    Step, StepError, catch, choose, effective_input, get_path, matches, output, pass, transition,
};

use crate::BenchResult;
use crate::pipeline::Functions;
use crate::sim::Participant;

pub const ASL: &str = include_str!("../../../infra/statemachine/publish.asl.json");

/// What one or more executions cost.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    pub executions: u64,
    pub transitions: u64,
    pub history_events: u64,
    /// Largest history of a single execution (the 25,000-event limit is per execution).
    pub largest_history: u64,
    pub task_retries: u64,
    /// Checks of a publish and of a go-live operation (CheckLastOperation invocations).
    pub polls_publish: u64,
    pub polls_go_live: u64,
    /// Invocations per function.
    pub invocations: BTreeMap<String, u64>,
    /// Times each state was entered.
    pub entered: BTreeMap<String, u64>,
    /// (function, simulated second) of every invocation, to work out the fewest tokens.
    #[serde(skip)]
    pub calls: Vec<(String, u64)>,
    /// (function, real time) of every invocation.
    #[serde(skip)]
    pub latencies: Vec<(String, Duration)>,
}

impl Tally {
    pub fn polls(&self) -> u64 {
        self.polls_publish + self.polls_go_live
    }

    pub fn add(&mut self, other: &Tally) {
        self.executions += other.executions;
        self.transitions += other.transitions;
        self.history_events += other.history_events;
        self.largest_history = self.largest_history.max(other.largest_history);
        self.task_retries += other.task_retries;
        self.polls_publish += other.polls_publish;
        self.polls_go_live += other.polls_go_live;
        for (k, v) in &other.invocations {
            *self.invocations.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.entered {
            *self.entered.entry(k.clone()).or_default() += v;
        }
        self.latencies.extend_from_slice(&other.latencies);
        self.calls.extend_from_slice(&other.calls);
    }
}

/// How an execution ended.
#[derive(Clone, Debug)]
pub enum Ending {
    Succeeded { state: String, output: Value },
    Failed { error: String, cause: String },
}

impl Ending {
    pub fn describe(&self) -> String {
        match self {
            Self::Succeeded { state, .. } => format!("succeeded at {state}"),
            Self::Failed { error, cause } => format!("failed with {error}: {cause}"),
        }
    }
}

pub struct Definition {
    root: Value,
}

impl Definition {
    pub fn load() -> BenchResult<Self> {
        let root: Value = serde_json::from_str(ASL)?;
        if !root["States"].is_object() || !root["StartAt"].is_string() {
            return Err("the state machine definition has no States/StartAt".into());
        }
        Ok(Self { root })
    }
}

/// One execution of the definition.
pub struct Execution<'a> {
    definition: &'a Definition,
    functions: &'a Functions,
    time: &'a Participant,
    context: Value,
    rng: u64,
    messages: u64,
}

impl<'a> Execution<'a> {
    pub fn new(
        definition: &'a Definition,
        functions: &'a Functions,
        time: &'a Participant,
        name: &str,
        seed: u64,
    ) -> Self {
        Self {
            definition,
            functions,
            time,
            context: json!({"Execution": {"Id": format!("{}:{name}",
                crate::aws::STATE_MACHINE_ARN.replace(":stateMachine:", ":execution:")), "Name": name}}),
            rng: seed | 1,
            messages: 0,
        }
    }

    /// Runs the execution to its end; `tally` gets what it cost.
    pub async fn run(&mut self, input: Value, tally: &mut Tally) -> BenchResult<Ending> {
        let before = tally.history_events;
        tally.executions += 1;
        tally.history_events += 2;
        let root = &self.definition.root;
        let start = root["StartAt"].as_str().unwrap_or_default().to_owned();
        let ending = match self.states(&root["States"], start, input, tally).await {
            Ok(ending) => ending,
            Err(e) => Ending::Failed {
                error: e.error,
                cause: e.cause,
            },
        };
        tally.largest_history = tally.largest_history.max(tally.history_events - before);
        Ok(ending)
    }

    fn states<'s>(
        &'s mut self,
        states: &'s Value,
        start: String,
        input: Value,
        tally: &'s mut Tally,
    ) -> Pin<Box<dyn Future<Output = Step<Ending>> + Send + 's>> {
        Box::pin(async move {
            let mut name = start;
            let mut data = input;
            loop {
                let state = states
                    .get(&name)
                    .ok_or_else(|| StepError::runtime(format!("no state named {name}")))?;
                tally.transitions += 1;
                *tally.entered.entry(name.clone()).or_default() += 1;
                let kind = state["Type"].as_str().unwrap_or_default();
                let next = match kind {
                    "Choice" => {
                        tally.history_events += 2;
                        Some(choose(state, &data)?)
                    }
                    "Pass" => {
                        tally.history_events += 2;
                        data = pass(state, &data, &self.context)?;
                        transition(state)
                    }
                    "Wait" => {
                        tally.history_events += 3;
                        let seconds = match (state.get("Seconds"), state.get("SecondsPath")) {
                            (Some(s), _) => s.as_u64(),
                            (None, Some(Value::String(path))) => {
                                get_path(&data, path).and_then(Value::as_u64)
                            }
                            _ => None,
                        }
                        .ok_or_else(|| {
                            StepError::runtime(format!(
                                "{name}: no whole number of seconds to wait"
                            ))
                        })?;
                        self.time.sleep(seconds).await;
                        transition(state)
                    }
                    "Task" | "Parallel" => {
                        let ran = if kind == "Task" {
                            tally.history_events += 2;
                            self.task(state, &data, tally).await
                        } else {
                            tally.history_events += 4;
                            self.parallel(state, &data, tally).await
                        };
                        match ran {
                            Ok(out) => {
                                data = out;
                                transition(state)
                            }
                            Err(failure) => {
                                let (caught, next) = catch(state, &data, failure)?;
                                data = caught;
                                Some(next)
                            }
                        }
                    }
                    "Succeed" => {
                        tally.history_events += 2;
                        return Ok(Ending::Succeeded {
                            state: name,
                            output: data,
                        });
                    }
                    "Fail" => {
                        tally.history_events += 1;
                        let text = |field: &str, path: &str| {
                            state[field].as_str().map(str::to_owned).or_else(|| {
                                state[path]
                                    .as_str()
                                    .and_then(|p| get_path(&data, p))
                                    .map(|v| {
                                        v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                                    })
                            })
                        };
                        return Ok(Ending::Failed {
                            error: text("Error", "ErrorPath").unwrap_or_default(),
                            cause: text("Cause", "CausePath").unwrap_or_default(),
                        });
                    }
                    other => {
                        return Err(StepError::runtime(format!(
                            "{name}: unsupported state type {other}"
                        )));
                    }
                };
                match next {
                    Some(next) => name = next,
                    None => {
                        return Ok(Ending::Succeeded {
                            state: name,
                            output: data,
                        });
                    }
                }
            }
        })
    }

    async fn task(&mut self, state: &Value, data: &Value, tally: &mut Tally) -> Step<Value> {
        let parameters = effective_input(state, data, &self.context)?;
        let resource = state["Resource"].as_str().unwrap_or_default();
        let mut attempts: BTreeMap<usize, u32> = BTreeMap::new();
        loop {
            tally.history_events += 3;
            let result = match resource {
                "arn:aws:states:::lambda:invoke" => {
                    let function = parameters["FunctionName"].as_str().unwrap_or_default();
                    let payload = parameters.get("Payload").cloned().unwrap_or(Value::Null);
                    let name = Functions::name_of(function).ok_or_else(|| {
                        StepError::runtime(format!("unknown function {function}"))
                    })?;
                    if name == "check-last-operation" {
                        match payload["operation"]["kind"].as_str() {
                            Some("goLive") => tally.polls_go_live += 1,
                            _ => tally.polls_publish += 1,
                        }
                    }
                    *tally.invocations.entry(name.to_owned()).or_default() += 1;
                    tally.calls.push((name.to_owned(), self.time.now()));
                    let started = Instant::now();
                    let answer = self.functions.invoke(name, payload).await;
                    tally.latencies.push((name.to_owned(), started.elapsed()));
                    answer
                        .map(|payload| json!({"ExecutedVersion": "$LATEST", "Payload": payload, "StatusCode": 200}))
                        .map_err(|(error, cause)| StepError { error, cause })
                }
                "arn:aws:states:::sns:publish" => {
                    self.messages += 1;
                    *tally.invocations.entry("sns:publish".into()).or_default() += 1;
                    Ok(json!({"MessageId": format!("bench-message-{}", self.messages)}))
                }
                other => Err(StepError::runtime(format!("unsupported resource {other}"))),
            };
            match result {
                Ok(result) => return output(state, data, result, &self.context),
                Err(failure) => {
                    let Some((index, retrier)) = state["Retry"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .enumerate()
                        .find(|(_, r)| matches(&r["ErrorEquals"], &failure.error))
                    else {
                        return Err(failure);
                    };
                    let done = attempts.entry(index).or_default();
                    let max = retrier["MaxAttempts"].as_u64().unwrap_or(3);
                    if u64::from(*done) >= max {
                        return Err(failure);
                    }
                    let interval = retrier["IntervalSeconds"].as_f64().unwrap_or(1.0);
                    let rate = retrier["BackoffRate"].as_f64().unwrap_or(2.0);
                    let mut delay = interval * rate.powi(*done as i32);
                    if let Some(cap) = retrier["MaxDelaySeconds"].as_f64() {
                        delay = delay.min(cap);
                    }
                    if retrier["JitterStrategy"] == "FULL" {
                        delay *= self.random();
                    }
                    *done += 1;
                    tally.task_retries += 1;
                    tally.transitions += 1;
                    self.time.sleep(delay.round() as u64).await;
                }
            }
        }
    }

    async fn parallel(&mut self, state: &Value, data: &Value, tally: &mut Tally) -> Step<Value> {
        let input = effective_input(state, data, &self.context)?;
        let mut outputs = Vec::new();
        for branch in state["Branches"].as_array().into_iter().flatten() {
            let start = branch["StartAt"].as_str().unwrap_or_default().to_owned();
            match self
                .states(&branch["States"], start, input.clone(), tally)
                .await?
            {
                Ending::Succeeded { output, .. } => outputs.push(output),
                Ending::Failed { error, cause } => return Err(StepError { error, cause }),
            }
        }
        output(state, data, Value::Array(outputs), &self.context)
    }

    /// A number in [0, 1): xorshift, seeded per execution so runs repeat.
    fn random(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }
}
