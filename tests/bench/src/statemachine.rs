//! Runs the real state machine definition (infra/statemachine/publish.asl.json) in-process, calling the
//! functions' `handle` for its Task states, and counts what Step Functions would bill and record.
//!
//! What it covers is what the definition uses: Choice (And/Or/Not, StringEquals, IsPresent, Boolean and
//! Numeric comparisons), Wait (Seconds, SecondsPath), Pass (Result, Parameters), Task (Lambda invoke,
//! SNS publish, Retry with backoff and jitter, Catch), Parallel, Succeed and Fail; paths `$`, `$.a.b`,
//! `$[0].a`, `$$.Execution.Id`; intrinsics States.JsonMerge, States.Format, States.JsonToString.
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
use serde_json::{Map, Value, json};

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

/// A failed step: the error name and cause Step Functions would see.
struct StepError {
    error: String,
    cause: String,
}

impl StepError {
    fn runtime(cause: impl Into<String>) -> Self {
        Self {
            error: "States.Runtime".into(),
            cause: cause.into(),
        }
    }
}

type Step<T> = Result<T, StepError>;

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
                        let effective = input_path(state, &data)?;
                        let result = match (state.get("Result"), state.get("Parameters")) {
                            (Some(result), _) => result.clone(),
                            (None, Some(template)) => resolve(template, &effective, &self.context)?,
                            (None, None) => effective,
                        };
                        data = output(state, &data, result, &self.context)?;
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
        let effective = input_path(state, data)?;
        let parameters = match state.get("Parameters") {
            Some(template) => resolve(template, &effective, &self.context)?,
            None => effective,
        };
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
        let effective = input_path(state, data)?;
        let input = match state.get("Parameters") {
            Some(template) => resolve(template, &effective, &self.context)?,
            None => effective,
        };
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

fn transition(state: &Value) -> Option<String> {
    if state["End"] == true {
        None
    } else {
        state["Next"].as_str().map(str::to_owned)
    }
}

fn matches(error_equals: &Value, error: &str) -> bool {
    error_equals.as_array().into_iter().flatten().any(|e| {
        e == error
            || e == "States.ALL"
            || (e == "States.TaskFailed"
                && error != "States.Timeout"
                && !error.starts_with("States."))
    })
}

/// A Catch that matches: the error goes to its ResultPath and the execution goes on at its Next.
fn catch(state: &Value, data: &Value, failure: StepError) -> Step<(Value, String)> {
    let catcher = state["Catch"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| matches(&c["ErrorEquals"], &failure.error));
    let Some(catcher) = catcher else {
        return Err(failure);
    };
    let error = json!({"Error": failure.error, "Cause": failure.cause});
    let mut out = data.clone();
    match catcher.get("ResultPath") {
        Some(Value::Null) => {}
        Some(Value::String(path)) => set_path(&mut out, path, error)?,
        _ => out = error,
    }
    let next = catcher["Next"].as_str().unwrap_or_default().to_owned();
    Ok((out, next))
}

fn input_path(state: &Value, data: &Value) -> Step<Value> {
    match state.get("InputPath") {
        None => Ok(data.clone()),
        Some(Value::Null) => Ok(json!({})),
        Some(Value::String(path)) => get_path(data, path)
            .cloned()
            .ok_or_else(|| StepError::runtime(format!("InputPath {path} matches nothing"))),
        Some(other) => Err(StepError::runtime(format!("bad InputPath {other}"))),
    }
}

/// ResultSelector, ResultPath and OutputPath, in that order.
fn output(state: &Value, data: &Value, result: Value, context: &Value) -> Step<Value> {
    let result = match state.get("ResultSelector") {
        Some(selector) => resolve(selector, &result, context)?,
        None => result,
    };
    let merged = match state.get("ResultPath") {
        None => result,
        Some(Value::Null) => data.clone(),
        Some(Value::String(path)) => {
            let mut merged = data.clone();
            set_path(&mut merged, path, result)?;
            merged
        }
        Some(other) => return Err(StepError::runtime(format!("bad ResultPath {other}"))),
    };
    match state.get("OutputPath") {
        None => Ok(merged),
        Some(Value::Null) => Ok(json!({})),
        Some(Value::String(path)) => get_path(&merged, path)
            .cloned()
            .ok_or_else(|| StepError::runtime(format!("OutputPath {path} matches nothing"))),
        Some(other) => Err(StepError::runtime(format!("bad OutputPath {other}"))),
    }
}

fn choose(state: &Value, data: &Value) -> Step<String> {
    for choice in state["Choices"].as_array().into_iter().flatten() {
        if rule(choice, data)? {
            return choice["Next"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| StepError::runtime("a choice without Next"));
        }
    }
    state["Default"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| StepError {
            error: "States.NoChoiceMatched".into(),
            cause: "no choice matched and there is no Default".into(),
        })
}

fn rule(rule: &Value, data: &Value) -> Step<bool> {
    if let Some(all) = rule["And"].as_array() {
        for r in all {
            if !self::rule(r, data)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    if let Some(any) = rule["Or"].as_array() {
        for r in any {
            if self::rule(r, data)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    if rule.get("Not").is_some() {
        return Ok(!self::rule(&rule["Not"], data)?);
    }
    let variable = rule["Variable"]
        .as_str()
        .ok_or_else(|| StepError::runtime("a choice rule without Variable"))?;
    let value = get_path(data, variable);
    if let Some(expected) = rule.get("IsPresent") {
        return Ok(value.is_some() == (expected == true));
    }
    // As in Step Functions: comparing a path that is not there is a runtime error.
    let value = value.ok_or_else(|| StepError::runtime(format!("Invalid path '{variable}': the choice state's condition path references an invalid value")))?;
    let number = |field: &str| rule[field].as_f64().zip(value.as_f64());
    Ok(if let Some(s) = rule.get("StringEquals") {
        value == s
    } else if let Some(b) = rule.get("BooleanEquals") {
        value == b
    } else if let Some(expected) = rule.get("IsNull") {
        value.is_null() == (expected == true)
    } else if let Some((want, got)) = number("NumericEquals") {
        got == want
    } else if let Some((want, got)) = number("NumericLessThan") {
        got < want
    } else if let Some((want, got)) = number("NumericGreaterThan") {
        got > want
    } else if let Some((want, got)) = number("NumericLessThanEquals") {
        got <= want
    } else if let Some((want, got)) = number("NumericGreaterThanEquals") {
        got >= want
    } else {
        return Err(StepError::runtime(format!(
            "unsupported choice rule {rule}"
        )));
    })
}

/// A payload template: `"key.$"` fields take a path's value or an intrinsic's result.
fn resolve(template: &Value, input: &Value, context: &Value) -> Step<Value> {
    match template {
        Value::Object(fields) => {
            let mut out = Map::new();
            for (key, value) in fields {
                match (key.strip_suffix(".$"), value) {
                    (Some(key), Value::String(expression)) => {
                        out.insert(key.to_owned(), evaluate(expression, input, context)?);
                    }
                    _ => {
                        out.insert(key.clone(), resolve(value, input, context)?);
                    }
                }
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

fn evaluate(expression: &str, input: &Value, context: &Value) -> Step<Value> {
    let expression = expression.trim();
    if let Some(path) = expression.strip_prefix('$').filter(|p| p.starts_with('$')) {
        return get_path(context, path).cloned().ok_or_else(|| {
            StepError::runtime(format!("context path {expression} matches nothing"))
        });
    }
    if expression.starts_with('$') {
        return get_path(input, expression)
            .cloned()
            .ok_or_else(|| StepError::runtime(format!("path {expression} matches nothing")));
    }
    let (function, args) = expression
        .strip_suffix(')')
        .and_then(|e| e.split_once('('))
        .ok_or_else(|| StepError::runtime(format!("cannot evaluate {expression}")))?;
    let args: Vec<Value> = split_args(args)
        .into_iter()
        .map(|arg| argument(&arg, input, context))
        .collect::<Step<_>>()?;
    match function.trim() {
        "States.JsonMerge" => match (args.first(), args.get(1)) {
            (Some(Value::Object(base)), Some(Value::Object(over))) => {
                let mut merged = base.clone();
                merged.extend(over.iter().map(|(k, v)| (k.clone(), v.clone())));
                Ok(Value::Object(merged))
            }
            _ => Err(StepError::runtime("States.JsonMerge needs two objects")),
        },
        "States.JsonToString" => Ok(Value::String(
            args.first().map(Value::to_string).unwrap_or_default(),
        )),
        "States.Format" => {
            let template = args.first().and_then(Value::as_str).unwrap_or_default();
            let mut values = args.iter().skip(1);
            let mut text = String::new();
            for (i, part) in template.split("{}").enumerate() {
                if i > 0 {
                    match values.next() {
                        Some(Value::String(s)) => text.push_str(s),
                        Some(v) => text.push_str(&v.to_string()),
                        None => {}
                    }
                }
                text.push_str(part);
            }
            Ok(Value::String(text))
        }
        other => Err(StepError::runtime(format!("unsupported intrinsic {other}"))),
    }
}

fn argument(arg: &str, input: &Value, context: &Value) -> Step<Value> {
    let arg = arg.trim();
    if let Some(text) = arg.strip_prefix('\'').and_then(|a| a.strip_suffix('\'')) {
        return Ok(Value::String(text.replace("\\'", "'")));
    }
    if arg.starts_with('$') || arg.starts_with("States.") {
        return evaluate(arg, input, context);
    }
    serde_json::from_str(arg).map_err(|_| StepError::runtime(format!("cannot read argument {arg}")))
}

/// Splits intrinsic arguments on top-level commas (not inside quotes or parentheses).
fn split_args(args: &str) -> Vec<String> {
    let (mut parts, mut current, mut depth, mut quoted, mut escaped) =
        (Vec::new(), String::new(), 0i32, false, false);
    for c in args.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        parts.push(current);
    }
    parts
}

enum Segment {
    Field(String),
    Index(usize),
}

fn segments(path: &str) -> Option<Vec<Segment>> {
    let mut rest = path.strip_prefix('$')?;
    let mut out = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            out.push(Segment::Field(after[..end].to_owned()));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            out.push(Segment::Index(after[..end].trim().parse().ok()?));
            rest = &after[end + 1..];
        } else {
            return None;
        }
    }
    Some(out)
}

pub fn get_path<'v>(root: &'v Value, path: &str) -> Option<&'v Value> {
    segments(path)?
        .iter()
        .try_fold(root, |value, segment| match segment {
            Segment::Field(name) => value.get(name),
            Segment::Index(i) => value.get(i),
        })
}

fn set_path(root: &mut Value, path: &str, value: Value) -> Step<()> {
    let segments = segments(path).ok_or_else(|| StepError::runtime(format!("bad path {path}")))?;
    let mut target = root;
    for segment in &segments {
        let Segment::Field(name) = segment else {
            return Err(StepError::runtime(format!(
                "cannot write into an array: {path}"
            )));
        };
        if !target.is_object() {
            *target = json!({});
        }
        target = target
            .as_object_mut()
            .map(|fields| fields.entry(name.clone()).or_insert(Value::Null))
            .ok_or_else(|| StepError::runtime(format!("cannot write {path}")))?;
    }
    *target = value;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_and_write() {
        let mut data = json!({"a": {"b": [1, {"c": "x"}]}});
        assert_eq!(get_path(&data, "$.a.b[1].c"), Some(&json!("x")));
        assert_eq!(get_path(&data, "$"), Some(&data.clone()));
        set_path(&mut data, "$.error", json!({"Error": "E"})).ok();
        assert_eq!(data["error"]["Error"], "E");
    }

    #[test]
    fn intrinsics_the_definition_uses() {
        let input = json!({"a": {"x": 1, "y": 2}, "b": {"y": 3}, "n": "v", "list": ["m"]});
        let context = json!({"Execution": {"Id": "id"}});
        let merged = evaluate("States.JsonMerge($.a, $.b, false)", &input, &context).ok();
        assert_eq!(merged, Some(json!({"x": 1, "y": 3})));
        let text = evaluate(
            "States.Format('{} is {}, said: {}', $.n, $.a.x, States.JsonToString($.list))",
            &input,
            &context,
        )
        .ok();
        assert_eq!(text, Some(json!("v is 1, said: [\"m\"]")));
        assert_eq!(
            evaluate("$$.Execution.Id", &input, &context).ok(),
            Some(json!("id"))
        );
    }

    #[test]
    fn choice_rules() {
        let data = json!({"action": "publish", "operationStatus": "running"});
        let guarded = json!({"And": [{"Variable": "$.action", "IsPresent": true}, {"Variable": "$.action", "StringEquals": "publish"}]});
        assert!(rule(&guarded, &data).ok().unwrap_or(false));
        let missing = json!({"Variable": "$.outcome", "StringEquals": "x"});
        assert!(rule(&missing, &data).is_err());
    }
}
