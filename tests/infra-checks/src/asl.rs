//! The state machine definition as JSON, and the checks the workflow contract asks of it.

use std::collections::{BTreeSet, HashSet, VecDeque};

use serde_json::{Map, Value};

pub const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";
pub const SNS_PUBLISH: &str = "arn:aws:states:::sns:publish";

/// Transient failures of the Lambda service itself, which every Lambda task retries (as AWS advises
/// for the lambda:invoke integration).
pub const LAMBDA_SERVICE_ERRORS: [&str; 5] = [
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
];

/// A function that Lambda itself ended: it ran past its timeout (`Sandbox.Timedout`), its process
/// died (`Runtime.ExitError`; a panic aborts the process in the release build) or ran out of memory
/// (`Runtime.OutOfMemory`), Lambda returned no error type at all (`Lambda.Unknown`, as AWS documents
/// unhandled errors), or the invocation outlived the Task's own timeout (`States.Timeout`).
/// The functions re-read before they write, so every Lambda task runs them again, a few times.
pub const LAMBDA_FUNCTION_FAILURES: [&str; 5] = [
    "Lambda.Unknown",
    "Sandbox.Timedout",
    "Runtime.ExitError",
    "Runtime.OutOfMemory",
    "States.Timeout",
];

/// Prefixes of the error names that Step Functions and Lambda raise themselves.
pub const SERVICE_ERROR_PREFIXES: [&str; 4] = ["States.", "Lambda.", "Sandbox.", "Runtime."];

/// Fields of the workflow state that hold SAS URLs (the OS disk and the data disks).
pub const SAS_FIELDS: [&str; 2] = ["osVhdUrl", "lunVhdDetails"];

/// A state machine definition (Amazon States Language, JSONPath).
#[derive(Clone, Debug)]
pub struct Asl {
    doc: Value,
}

/// One `States` map: the top level, or one branch of a Parallel state.
#[derive(Clone, Debug)]
pub struct Scope<'a> {
    /// `top level`, or `branch N of STATE`.
    pub label: String,
    pub start_at: Option<&'a str>,
    pub states: &'a Map<String, Value>,
}

/// One state, wherever it sits.
#[derive(Clone, Debug)]
pub struct State<'a> {
    pub name: &'a str,
    pub scope: String,
    pub body: &'a Map<String, Value>,
}

/// Where a state can go next, and through which field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition<'a> {
    pub via: String,
    pub target: &'a str,
}

impl Asl {
    pub fn parse(text: &str) -> Result<Self, String> {
        let doc: Value =
            serde_json::from_str(text).map_err(|e| format!("the ASL is not JSON: {e}"))?;
        if !doc.is_object() {
            return Err("the ASL is not a JSON object".into());
        }
        Ok(Self { doc })
    }

    pub fn from_value(doc: Value) -> Self {
        Self { doc }
    }

    pub fn doc(&self) -> &Value {
        &self.doc
    }

    pub fn into_value(self) -> Value {
        self.doc
    }

    /// The top level, then every Parallel branch (depth first).
    pub fn scopes(&self) -> Vec<Scope<'_>> {
        let mut scopes = Vec::new();
        collect_scopes(&self.doc, "top level".into(), &mut scopes);
        scopes
    }

    pub fn states(&self) -> Vec<State<'_>> {
        self.scopes()
            .into_iter()
            .flat_map(|scope| {
                scope.states.iter().filter_map(move |(name, body)| {
                    body.as_object().map(|body| State {
                        name,
                        scope: scope.label.clone(),
                        body,
                    })
                })
            })
            .collect()
    }

    pub fn state(&self, name: &str) -> Option<State<'_>> {
        self.states().into_iter().find(|s| s.name == name)
    }

    pub fn top_level_states(&self) -> Vec<State<'_>> {
        self.states()
            .into_iter()
            .filter(|s| s.scope == "top level")
            .collect()
    }

    /// Task states that invoke one of the workflow's Lambda functions.
    pub fn lambda_tasks(&self) -> Vec<State<'_>> {
        self.states()
            .into_iter()
            .filter(|s| s.kind() == "Task" && s.str("Resource") == Some(LAMBDA_INVOKE))
            .collect()
    }

    pub fn sns_tasks(&self) -> Vec<State<'_>> {
        self.states()
            .into_iter()
            .filter(|s| s.kind() == "Task" && s.str("Resource") == Some(SNS_PUBLISH))
            .collect()
    }

    /// Every `${Name}` placeholder that `DefinitionSubstitutions` must fill.
    pub fn placeholders(&self) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        visit_strings(&self.doc, &mut |s| {
            let mut rest = s;
            while let Some(start) = rest.find("${") {
                let after = &rest[start + 2..];
                match after.find('}') {
                    Some(end) => {
                        found.insert(after[..end].to_owned());
                        rest = &after[end + 1..];
                    }
                    None => break,
                }
            }
        });
        found
    }

    pub fn timeout_seconds(&self) -> Option<u64> {
        self.doc.get("TimeoutSeconds").and_then(Value::as_u64)
    }
}

fn collect_scopes<'a>(machine: &'a Value, label: String, scopes: &mut Vec<Scope<'a>>) {
    let Some(states) = machine.get("States").and_then(Value::as_object) else {
        return;
    };
    scopes.push(Scope {
        label,
        start_at: machine.get("StartAt").and_then(Value::as_str),
        states,
    });
    for (name, body) in states {
        for (i, branch) in body
            .get("Branches")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            collect_scopes(branch, format!("branch {i} of {name}"), scopes);
        }
    }
}

fn visit_strings(value: &Value, visit: &mut dyn FnMut(&str)) {
    match value {
        Value::String(s) => visit(s),
        Value::Array(items) => items.iter().for_each(|v| visit_strings(v, visit)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            visit(k);
            visit_strings(v, visit);
        }),
        _ => {}
    }
}

impl<'a> State<'a> {
    pub fn kind(&self) -> &'a str {
        self.str("Type").unwrap_or("")
    }

    pub fn str(&self, key: &str) -> Option<&'a str> {
        self.body.get(key).and_then(Value::as_str)
    }

    pub fn u64(&self, key: &str) -> Option<u64> {
        self.body.get(key).and_then(Value::as_u64)
    }

    pub fn array(&self, key: &str) -> &'a [Value] {
        self.body
            .get(key)
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    /// The `FunctionName` a Lambda task invokes (a definition substitution).
    pub fn function(&self) -> Option<&'a str> {
        self.body
            .get("Parameters")
            .and_then(|p| p.get("FunctionName"))
            .and_then(Value::as_str)
    }

    pub fn retriers(&self) -> &'a [Value] {
        self.array("Retry")
    }

    pub fn catchers(&self) -> &'a [Value] {
        self.array("Catch")
    }

    /// `Next`, `Default`, each choice rule's `Next` and each catcher's `Next`.
    pub fn transitions(&self) -> Vec<Transition<'a>> {
        let mut out = Vec::new();
        for key in ["Next", "Default"] {
            if let Some(target) = self.str(key) {
                out.push(Transition {
                    via: key.to_owned(),
                    target,
                });
            }
        }
        for (i, rule) in self.array("Choices").iter().enumerate() {
            if let Some(target) = rule.get("Next").and_then(Value::as_str) {
                out.push(Transition {
                    via: format!("Choices[{i}]"),
                    target,
                });
            }
        }
        for (i, catcher) in self.catchers().iter().enumerate() {
            if let Some(target) = catcher.get("Next").and_then(Value::as_str) {
                out.push(Transition {
                    via: format!("Catch[{i}]"),
                    target,
                });
            }
        }
        out
    }

    pub fn is_terminal(&self) -> bool {
        matches!(self.kind(), "Succeed" | "Fail")
            || self.body.get("End") == Some(&Value::Bool(true))
    }

    /// Whether one of this state's branches has a Task state.
    pub fn runs_a_task(&self) -> bool {
        self.array("Branches").iter().any(|branch| {
            Asl::from_value(branch.clone())
                .states()
                .iter()
                .any(|s| s.kind() == "Task")
        })
    }
}

/// The names a retrier or catcher matches.
pub fn error_equals(rule: &Value) -> Vec<&str> {
    rule.get("ErrorEquals")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// Errors the definition itself raises: a Fail state's `Error`, or an `Error` a Pass state writes.
pub fn raised_error_names(asl: &Asl) -> Vec<(String, String)> {
    let mut raised = Vec::new();
    for state in asl.states() {
        let error = match state.kind() {
            "Fail" => state.str("Error"),
            "Pass" => ["Parameters", "Result"]
                .iter()
                .filter_map(|key| state.body.get(*key))
                .find_map(|v| v.get("Error").and_then(Value::as_str)),
            _ => None,
        };
        if let Some(error) = error {
            raised.push((state.name.to_owned(), error.to_owned()));
        }
    }
    raised
}

/// StartAt and every transition name an existing state of the same scope; every state can be reached
/// from StartAt; every state either ends or says where to go.
pub fn transition_problems(asl: &Asl) -> Vec<String> {
    let mut problems = Vec::new();
    for scope in asl.scopes() {
        let Some(start) = scope.start_at else {
            problems.push(format!("{}: no StartAt", scope.label));
            continue;
        };
        if !scope.states.contains_key(start) {
            problems.push(format!("{}: StartAt {start:?} is not a state", scope.label));
        }
        let states: Vec<State<'_>> = scope
            .states
            .iter()
            .filter_map(|(name, body)| {
                body.as_object().map(|body| State {
                    name,
                    scope: scope.label.clone(),
                    body,
                })
            })
            .collect();
        for state in &states {
            let transitions = state.transitions();
            for t in &transitions {
                if !scope.states.contains_key(t.target) {
                    problems.push(format!(
                        "{}: {}.{} names {:?}, which is not a state there",
                        scope.label, state.name, t.via, t.target
                    ));
                }
            }
            let goes_on = transitions
                .iter()
                .any(|t| t.via == "Next" || t.via == "Default" || t.via.starts_with("Choices"));
            if !state.is_terminal() && !goes_on {
                problems.push(format!(
                    "{}: {} neither ends nor says where to go next",
                    scope.label, state.name
                ));
            }
        }
        let mut reached: HashSet<&str> = HashSet::new();
        let mut queue: VecDeque<&str> = VecDeque::from([start]);
        while let Some(name) = queue.pop_front() {
            if !reached.insert(name) {
                continue;
            }
            if let Some(state) = states.iter().find(|s| s.name == name) {
                queue.extend(state.transitions().iter().map(|t| t.target));
            }
        }
        for state in &states {
            if !reached.contains(state.name) {
                problems.push(format!(
                    "{}: {} cannot be reached from {start}",
                    scope.label, state.name
                ));
            }
        }
    }
    problems
}

/// Every Task has a timeout, retriers, and catchers ending in `States.ALL`; so has every Parallel
/// state whose branches run a Task.
pub fn task_problems(asl: &Asl) -> Vec<String> {
    let mut problems = Vec::new();
    for state in asl.states() {
        let name = state.name;
        match state.kind() {
            "Task" => {
                if state.u64("TimeoutSeconds").is_none()
                    && state.str("TimeoutSecondsPath").is_none()
                {
                    problems.push(format!("Task {name} has no TimeoutSeconds"));
                }
                if state.retriers().is_empty() {
                    problems.push(format!("Task {name} has no Retry"));
                }
            }
            // A branch of Pass states raises only runtime errors, which no Catch can take.
            "Parallel" if !state.runs_a_task() => continue,
            "Parallel" => {}
            _ => continue,
        }
        match state.catchers().last() {
            None => problems.push(format!("{} {name} has no Catch", state.kind())),
            Some(last) if error_equals(last) != ["States.ALL"] => problems.push(format!(
                "{} {name}: the last catcher matches {:?}, not [\"States.ALL\"] alone",
                state.kind(),
                error_equals(last)
            )),
            Some(_) => {}
        }
    }
    problems
}

/// Error names used in retriers and catchers, or raised by the definition, that are neither the
/// functions' names (`known`) nor Step Functions' or Lambda's own (`SERVICE_ERROR_PREFIXES`).
pub fn unknown_error_names(asl: &Asl, known: &[&str]) -> Vec<String> {
    let allowed = |name: &str| {
        known.contains(&name) || SERVICE_ERROR_PREFIXES.iter().any(|p| name.starts_with(p))
    };
    let mut problems = Vec::new();
    for state in asl.states() {
        for (field, rules) in [("Retry", state.retriers()), ("Catch", state.catchers())] {
            for name in rules.iter().flat_map(error_equals) {
                if !allowed(name) {
                    problems.push(format!(
                        "{}.{field} names unknown error {name:?}",
                        state.name
                    ));
                }
            }
        }
    }
    for (state, name) in raised_error_names(asl) {
        if !known.contains(&name.as_str()) {
            problems.push(format!(
                "{state} raises {name:?}, which is not one of the error names"
            ));
        }
    }
    problems
}

/// The retrier of `task` that matches `error` (retriers are tried in order).
pub fn retrier_for<'a>(task: &State<'a>, error: &str) -> Option<&'a Map<String, Value>> {
    task.retriers()
        .iter()
        .find(|r| {
            let names = error_equals(r);
            names.contains(&error) || names.contains(&"States.ALL")
        })
        .and_then(Value::as_object)
}

/// How long a retrier can wait in all, at most, before the error goes on to the catchers.
pub fn total_retry_delay_seconds(retrier: &Map<String, Value>) -> f64 {
    let interval = retrier
        .get("IntervalSeconds")
        .and_then(Value::as_f64)
        .unwrap_or(1.0);
    let attempts = retrier
        .get("MaxAttempts")
        .and_then(Value::as_u64)
        .unwrap_or(3);
    let rate = retrier
        .get("BackoffRate")
        .and_then(Value::as_f64)
        .unwrap_or(2.0);
    let cap = retrier
        .get("MaxDelaySeconds")
        .and_then(Value::as_f64)
        .unwrap_or(f64::INFINITY);
    (0..attempts)
        .map(|n| (interval * rate.powf(n as f64)).min(cap))
        .sum()
}

/// The retry policy on every Lambda task: the Lambda service's errors; a function Lambda ended (timeout,
/// crash), a few times; Transient and Throttled with jittered, capped exponential backoff;
/// OfferBusy slowly (minutes) but bounded; WriteConflict a few times; nothing else that a person must
/// act on is retried.
pub fn retry_policy_problems(asl: &Asl) -> Vec<String> {
    let mut problems = Vec::new();
    for task in asl.lambda_tasks() {
        let name = task.name;
        for error in LAMBDA_SERVICE_ERRORS {
            if retrier_for(&task, error).is_none() {
                problems.push(format!("{name} does not retry {error}"));
            }
        }
        for error in LAMBDA_FUNCTION_FAILURES {
            match retrier_for(&task, error) {
                None => problems.push(format!("{name} does not retry {error}")),
                Some(r) => {
                    let attempts = r.get("MaxAttempts").and_then(Value::as_u64).unwrap_or(3);
                    if !(1..=5).contains(&attempts) {
                        problems.push(format!(
                            "{name}: {error} is retried {attempts} times, not a few"
                        ));
                    }
                    if r.get("IntervalSeconds")
                        .and_then(Value::as_u64)
                        .unwrap_or(1)
                        < 5
                    {
                        problems.push(format!(
                            "{name}: {error} is retried at once; give Lambda a few seconds"
                        ));
                    }
                }
            }
        }
        for error in ["Transient", "Throttled"] {
            match retrier_for(&task, error) {
                None => problems.push(format!("{name} does not retry {error}")),
                Some(r) => {
                    if r.get("JitterStrategy").and_then(Value::as_str) != Some("FULL") {
                        problems.push(format!("{name}: the {error} retrier has no full jitter"));
                    }
                    if r.get("MaxDelaySeconds").is_none() {
                        problems.push(format!(
                            "{name}: the {error} retrier has no MaxDelaySeconds"
                        ));
                    }
                    if r.get("BackoffRate").and_then(Value::as_f64).unwrap_or(2.0) <= 1.0 {
                        problems.push(format!("{name}: the {error} retrier does not back off"));
                    }
                }
            }
        }
        if task.function() == Some(QUEUEING_FUNCTION) {
            problems.extend(queue_problems(asl, &task));
        } else {
            match retrier_for(&task, "OfferBusy") {
                None => problems.push(format!("{name} does not retry OfferBusy")),
                Some(r) => problems.extend(offer_busy_problems(&task, r)),
            }
        }
        match retrier_for(&task, "WriteConflict") {
            None => problems.push(format!("{name} does not retry WriteConflict")),
            Some(r) => {
                let attempts = r.get("MaxAttempts").and_then(Value::as_u64).unwrap_or(3);
                if attempts == 0 || attempts > 5 {
                    problems.push(format!(
                        "{name}: WriteConflict is retried {attempts} times, not a few"
                    ));
                }
            }
        }
        for error in [
            "InvalidInput",
            "ConfigError",
            "OfferNotFound",
            "PlanNotFound",
            "VersionConflict",
            "VersionNotHigher",
            "Unauthorized",
            "Rejected",
            "OperationFailed",
            "PollLimitExceeded",
        ] {
            if retrier_for(&task, error).is_some() {
                problems.push(format!(
                    "{name} retries {error}, which fails at once by design"
                ));
            }
        }
    }
    problems
}

/// A documented publication: certification, provisioning, sign-off and go-live take up to 16 days.
pub const PUBLICATION_SECONDS: f64 = 16.0 * 86_400.0;

/// The task that writes and publishes: while another operation holds the offer it returns a queue
/// entry (`$.queue`, `$.nextCheckSeconds`) and is run again after a wait.
pub const QUEUEING_FUNCTION: &str = "${UpdateAndPublishFunctionArn}";

/// OfferBusy on a task where a person is waiting (go-live): retried for minutes to hours, not days.
fn offer_busy_problems(task: &State<'_>, retrier: &Map<String, Value>) -> Vec<String> {
    let name = task.name;
    let mut problems = Vec::new();
    let interval = retrier
        .get("IntervalSeconds")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    if interval < 60 {
        problems.push(format!(
            "{name}: OfferBusy is retried after {interval} s; another operation takes minutes at least"
        ));
    }
    let total = total_retry_delay_seconds(retrier);
    if total > 6.0 * 3600.0 {
        problems.push(format!(
            "{name}: OfferBusy retries can take {total} s; a person is waiting, so hours, not days"
        ));
    }
    problems
}

/// The queue: the publish task never retries OfferBusy (from it, OfferBusy means it waited
/// `CPP_QUEUE_MAX_DAYS`), and the execution outlives the longest queue plus a publication. Where a
/// queue entry leads is a routing check (`routing::queue_problems`).
fn queue_problems(asl: &Asl, task: &State<'_>) -> Vec<String> {
    let name = task.name;
    let mut problems = Vec::new();
    if retrier_for(task, "OfferBusy").is_some() {
        problems.push(format!(
            "{name} retries OfferBusy; it queues by itself, and its OfferBusy means the queue gave up"
        ));
    }
    let longest_queue = f64::from(shared::config::QUEUE_MAX_DAYS_LIMIT) * 86_400.0;
    let execution = asl.timeout_seconds().unwrap_or(u64::MAX) as f64;
    if longest_queue + PUBLICATION_SECONDS > execution {
        problems.push(format!(
            "{name}: the longest queue ({longest_queue} s) and a publication after it outlast the execution timeout ({execution} s)"
        ));
    }
    problems
}

/// No notice carries a SAS URL or the whole state (which holds one).
pub fn notice_problems(asl: &Asl) -> Vec<String> {
    let mut problems = Vec::new();
    for task in asl.sns_tasks() {
        let Some(parameters) = task.body.get("Parameters") else {
            problems.push(format!("{} publishes without Parameters", task.name));
            continue;
        };
        if parameters.get("TopicArn").and_then(Value::as_str) != Some("${NotificationTopicArn}") {
            problems.push(format!(
                "{} does not publish to ${{NotificationTopicArn}}",
                task.name
            ));
        }
        if parameters.get("Message").is_none() && parameters.get("Message.$").is_none() {
            problems.push(format!("{} publishes no Message", task.name));
        }
        visit_paths(parameters, &mut |key, path| {
            let whole = matches!(
                path.trim(),
                "$" | "$.state" | "$.run" | "$$.Execution.Input"
            );
            if whole || SAS_FIELDS.iter().any(|field| path.contains(field)) {
                problems.push(format!(
                    "{}: {key} = {path:?} would put a SAS URL in the notice",
                    task.name
                ));
            }
        });
    }
    problems
}

/// Calls `visit(key, value)` for every `"key.$": "value"` path or intrinsic, however nested.
fn visit_paths(value: &Value, visit: &mut dyn FnMut(&str, &str)) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v.as_str() {
                    Some(path) if k.ends_with(".$") => visit(k, path),
                    _ => visit_paths(v, visit),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| visit_paths(v, visit)),
        _ => {}
    }
}
