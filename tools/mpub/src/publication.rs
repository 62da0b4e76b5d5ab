//! A publication as Step Functions holds it: one execution of the state machine, its input, and
//! the newest workflow state its history shows.

use serde_json::Value;
use time::OffsetDateTime;

/// One execution (a publication, or the go-live of one). Its input and states hold SAS URLs: `Debug`
/// shows neither.
#[derive(Clone)]
pub struct Publication {
    pub execution_arn: String,
    pub name: String,
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `ABORTED`.
    pub status: String,
    pub started_at: OffsetDateTime,
    pub stopped_at: Option<OffsetDateTime>,
    /// The execution's input: the workflow state it started with.
    pub input: Value,
    /// The output of an execution that succeeded: its last workflow state.
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// The newest workflow state in the history of a running execution.
    pub latest: Option<Latest>,
}

/// The newest workflow state a state left behind, and where the run is now.
#[derive(Clone)]
pub struct Latest {
    pub state: Value,
    /// When the state that produced it ended (its next check counts from there).
    pub at: OffsetDateTime,
    /// The state the run is in now (`WaitForOperation`, say).
    pub current: Option<String>,
}

impl std::fmt::Debug for Publication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publication")
            .field("execution_arn", &self.execution_arn)
            .field("status", &self.status)
            .field("error", &self.error)
            .field("current", &self.current_state())
            .finish_non_exhaustive()
    }
}

impl Publication {
    /// The state the run is in now (`WaitForOperation`, `UpdateAndPublish`, ...), when running.
    pub fn current_state(&self) -> Option<&str> {
        self.latest.as_ref().and_then(|l| l.current.as_deref())
    }

    fn field<'a>(&'a self, name: &str) -> Option<&'a str> {
        self.input.get(name).and_then(Value::as_str)
    }

    pub fn offer_id(&self) -> &str {
        self.field("offerId").unwrap_or("?")
    }

    /// The plan, or the plans (`gen1, gen2`) of a release's offer.
    pub fn plan_id(&self) -> &str {
        self.field("planId")
            .or_else(|| self.field("planIds"))
            .unwrap_or("?")
    }

    pub fn version(&self) -> &str {
        self.field("version").unwrap_or("?")
    }

    /// `cpp` unless the input names another API.
    pub fn api(&self) -> &str {
        self.field("api").unwrap_or("cpp")
    }

    /// `publish` or `goLive`.
    pub fn action(&self) -> &str {
        self.field("action").unwrap_or("publish")
    }

    /// The workflow state that tells most: the output once it ended well, else the newest seen.
    pub fn state(&self) -> Option<&Value> {
        self.output
            .as_ref()
            .or(self.latest.as_ref().map(|l| &l.state))
    }

    /// The execution ARN of another execution of the same state machine, named `name`.
    pub fn sibling_arn(&self, name: &str) -> String {
        match self.execution_arn.rsplit_once(':') {
            Some((machine, _)) => format!("{machine}:{name}"),
            None => name.to_owned(),
        }
    }
}

/// A workflow state's `a.b` field as text.
pub fn text<'a>(state: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(state, |v, key| v.get(key))
        .and_then(Value::as_str)
}
