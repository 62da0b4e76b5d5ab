//! Follows the definition's routing as Step Functions would: from a state and a workflow state, the
//! states an execution passes through until it next calls a function, waits or ends, with the notices
//! it sends on the way. The contract tests ask where each outcome and each error leads, rather than
//! how the definition spells it.

use serde_json::{Value, json};
use states_language::{Step, StepError, catch, choose, effective_input, output, transition};

use crate::asl::{Asl, SNS_PUBLISH};

/// Where a route stops.
#[derive(Clone, Debug, PartialEq)]
pub enum Stop {
    /// About to run this Task state (a function call).
    Task(String),
    /// About to wait in this Wait state.
    Wait(String),
    Succeed(String),
    Fail {
        state: String,
        error: String,
        cause: String,
    },
}

/// What an execution does from one state to the next stop.
#[derive(Clone, Debug)]
pub struct Route {
    /// Every state entered, the stop included (branch states are not listed).
    pub states: Vec<String>,
    pub stop: Stop,
    /// The workflow state at the stop.
    pub data: Value,
    /// The SNS messages sent on the way, as published.
    pub notices: Vec<Value>,
}

impl Route {
    /// The `event` of each notice sent on the way.
    pub fn events(&self) -> Vec<&str> {
        self.notices
            .iter()
            .filter_map(|n| n["event"].as_str())
            .collect()
    }
}

/// How the services a route touches behave.
#[derive(Clone, Copy, Debug, Default)]
pub struct World {
    /// Every SNS publish fails (the topic is gone, say).
    pub sns_fails: bool,
}

const MAX_STEPS: usize = 200;

fn context() -> Value {
    json!({"Execution": {"Id": "arn:aws:states:eu-west-1:123456789012:execution:publish:run", "Name": "run"}})
}

/// Follows the top level of `asl` from `start` with `data` as that state's input.
pub fn follow(asl: &Asl, start: &str, data: Value, world: World) -> Result<Route, String> {
    let states = &asl.doc()["States"];
    let mut route = Route {
        states: Vec::new(),
        stop: Stop::Succeed(String::new()),
        data,
        notices: Vec::new(),
    };
    let mut name = start.to_owned();
    for _ in 0..MAX_STEPS {
        let state = states
            .get(&name)
            .ok_or_else(|| format!("{name} is not a state"))?;
        route.states.push(name.clone());
        let stuck = |e: StepError| format!("{name}: {}: {}", e.error, e.cause);
        let next = match state["Type"].as_str().unwrap_or_default() {
            "Task" => return stop(route, Stop::Task(name)),
            "Wait" => return stop(route, Stop::Wait(name)),
            "Succeed" => return stop(route, Stop::Succeed(name)),
            "Fail" => {
                let text = |field: &str| -> Result<String, String> {
                    let path = state[format!("{field}Path")].as_str();
                    match (state[field].as_str(), path) {
                        (Some(text), _) => Ok(text.to_owned()),
                        (None, Some(path)) => states_language::get_path(&route.data, path)
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                            .ok_or_else(|| format!("{name}: {field}Path {path} is not a string")),
                        (None, None) => Ok(String::new()),
                    }
                };
                let (error, cause) = (text("Error")?, text("Cause")?);
                return stop(
                    route,
                    Stop::Fail {
                        state: name,
                        error,
                        cause,
                    },
                );
            }
            "Choice" => Some(choose(state, &route.data).map_err(stuck)?),
            "Pass" => {
                route.data = pass(state, &route.data).map_err(stuck)?;
                transition(state)
            }
            "Parallel" => match parallel(state, &route.data, world, &mut route.notices) {
                Ok(out) => {
                    route.data = out;
                    transition(state)
                }
                Err(failure) => {
                    let (out, next) = catch(state, &route.data, failure).map_err(stuck)?;
                    route.data = out;
                    Some(next)
                }
            },
            other => return Err(format!("{name}: state type {other} is not followed")),
        };
        name = next.ok_or_else(|| format!("{name} ends without a Succeed or Fail state"))?;
    }
    Err(format!("no stop within {MAX_STEPS} states from {start}"))
}

fn stop(mut route: Route, stop: Stop) -> Result<Route, String> {
    route.stop = stop;
    Ok(route)
}

/// A Task state (top level) that fails with `error` and `cause` after its retries: where its catcher
/// leads. `None` when no catcher matches (the execution would fail there, without a notice).
pub fn after_failure(
    asl: &Asl,
    task: &str,
    data: Value,
    error: &str,
    cause: &str,
    world: World,
) -> Result<Option<Route>, String> {
    let state = &asl.doc()["States"][task];
    let failure = StepError {
        error: error.to_owned(),
        cause: cause.to_owned(),
    };
    match catch(state, &data, failure) {
        Ok((caught, next)) => follow(asl, &next, caught, world).map(Some),
        Err(_) => Ok(None),
    }
}

fn pass(state: &Value, data: &Value) -> Step<Value> {
    states_language::pass(state, data, &context())
}

/// Runs each branch to its end; within a branch, SNS tasks publish (or fail, with their retries spent)
/// and the Task's Catch applies.
fn parallel(state: &Value, data: &Value, world: World, notices: &mut Vec<Value>) -> Step<Value> {
    let input = effective_input(state, data, &context())?;
    let mut outputs = Vec::new();
    for branch in state["Branches"].as_array().into_iter().flatten() {
        outputs.push(branch_run(branch, input.clone(), world, notices)?);
    }
    output(state, data, Value::Array(outputs), &context())
}

fn branch_run(
    branch: &Value,
    mut data: Value,
    world: World,
    notices: &mut Vec<Value>,
) -> Step<Value> {
    let mut name = branch["StartAt"].as_str().unwrap_or_default().to_owned();
    for _ in 0..MAX_STEPS {
        let state = &branch["States"][&name];
        let next = match state["Type"].as_str().unwrap_or_default() {
            "Pass" => {
                data = pass(state, &data)?;
                transition(state)
            }
            "Choice" => Some(choose(state, &data)?),
            "Succeed" => return Ok(data),
            "Task" if state["Resource"] == SNS_PUBLISH => {
                let parameters = effective_input(state, &data, &context())?;
                if world.sns_fails {
                    let failure = StepError {
                        error: "SNS.NotFoundException".into(),
                        cause: "Topic does not exist".into(),
                    };
                    let (out, next) = catch(state, &data, failure)?;
                    data = out;
                    Some(next)
                } else {
                    notices.push(parameters["Message"].clone());
                    data = output(
                        state,
                        &data,
                        json!({"MessageId": format!("m-{}", notices.len())}),
                        &context(),
                    )?;
                    transition(state)
                }
            }
            other => {
                return Err(StepError::runtime(format!(
                    "branch state {name}: {other} is not followed"
                )));
            }
        };
        match next {
            Some(next) => name = next,
            None => return Ok(data),
        }
    }
    Err(StepError::runtime("a branch that does not end"))
}
