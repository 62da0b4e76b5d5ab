//! The Step Functions calls mpub makes: the state machine's executions, one execution with the
//! newest workflow state of its history, starting a go-live, stopping a run.

use aws_config::SdkConfig;
use aws_sdk_sfn::error::DisplayErrorContext;
use aws_sdk_sfn::primitives::DateTime;
use aws_sdk_sfn::types::HistoryEvent;
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::CliError;
use crate::publication::{Latest, Publication};

/// How far back a history is read for the newest workflow state: a check loop leaves one every
/// few events, so a page of this size always holds one.
const HISTORY_PAGE: i32 = 100;
/// How many of the newest executions a search looks through.
pub const SCANNED: usize = 5_000;

pub struct StepFunctions {
    client: aws_sdk_sfn::Client,
    pub state_machine_arn: String,
}

/// What starting an execution did.
#[derive(Debug, PartialEq, Eq)]
pub enum Started {
    New(String),
    /// An execution of that name exists already (Step Functions starts a name once).
    AlreadyExists,
}

impl StepFunctions {
    pub fn new(sdk: &SdkConfig, state_machine_arn: String) -> Self {
        Self {
            client: aws_sdk_sfn::Client::new(sdk),
            state_machine_arn,
        }
    }

    /// The newest `limit` executions of the state machine (every status) whose name `wanted`
    /// accepts, newest first, looking at the newest `SCANNED` at most.
    pub async fn recent(
        &self,
        limit: usize,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<Vec<String>, CliError> {
        let mut arns = Vec::new();
        let mut scanned = 0;
        let mut next: Option<String> = None;
        while arns.len() < limit && scanned < SCANNED {
            let page = self
                .client
                .list_executions()
                .state_machine_arn(&self.state_machine_arn)
                .max_results(100)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| unreachable("listing executions", &e))?;
            scanned += page.executions().len();
            arns.extend(
                page.executions()
                    .iter()
                    .filter(|e| wanted(e.name()))
                    .map(|e| e.execution_arn().to_owned()),
            );
            match page.next_token() {
                Some(token) => next = Some(token.to_owned()),
                None => break,
            }
        }
        arns.truncate(limit);
        Ok(arns)
    }

    /// One execution; a running one with the newest workflow state of its history.
    pub async fn publication(&self, execution_arn: &str) -> Result<Publication, CliError> {
        self.find(execution_arn).await?.ok_or_else(|| {
            CliError::refused(format!("no execution {execution_arn} in Step Functions"))
        })
    }

    /// One execution, or `None` when there is none of that ARN.
    pub async fn find(&self, execution_arn: &str) -> Result<Option<Publication>, CliError> {
        let described = match self
            .client
            .describe_execution()
            .execution_arn(execution_arn)
            .send()
            .await
        {
            Ok(described) => described,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_execution_does_not_exist()) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(unreachable(&format!("reading {execution_arn}"), &e)),
        };
        let json = |text: Option<&str>| text.and_then(|t| serde_json::from_str::<Value>(t).ok());
        let status = described.status().as_str().to_owned();
        let latest = if status == "RUNNING" {
            self.latest(execution_arn).await?
        } else {
            None
        };
        Ok(Some(Publication {
            execution_arn: described.execution_arn().to_owned(),
            name: described.name().unwrap_or_default().to_owned(),
            status,
            started_at: time_of(described.start_date()),
            stopped_at: described.stop_date().map(time_of),
            input: json(described.input()).unwrap_or(Value::Null),
            output: json(described.output()),
            error: described.error().map(str::to_owned),
            cause: described.cause().map(str::to_owned),
            latest,
        }))
    }

    /// The newest workflow state in the history (a state's output that names an offer).
    async fn latest(&self, execution_arn: &str) -> Result<Option<Latest>, CliError> {
        let history = self
            .client
            .get_execution_history()
            .execution_arn(execution_arn)
            .reverse_order(true)
            .include_execution_data(true)
            .max_results(HISTORY_PAGE)
            .send()
            .await
            .map_err(|e| unreachable(&format!("reading the history of {execution_arn}"), &e))?;
        let events = history.events();
        let current = events
            .iter()
            .find_map(|e| e.state_entered_event_details().map(|d| d.name().to_owned()));
        Ok(events.iter().find_map(|event| {
            let state = workflow_state(event)?;
            Some(Latest {
                state,
                at: time_of(event.timestamp()),
                current: current.clone(),
            })
        }))
    }

    /// Starts an execution of `state_machine` named `name`; a name already taken is `AlreadyExists`.
    pub async fn start(
        &self,
        state_machine: &str,
        name: &str,
        input: &Value,
    ) -> Result<Started, CliError> {
        match self
            .client
            .start_execution()
            .state_machine_arn(state_machine)
            .name(name)
            .input(input.to_string())
            .send()
            .await
        {
            Ok(started) => Ok(Started::New(started.execution_arn().to_owned())),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_execution_already_exists()) =>
            {
                Ok(Started::AlreadyExists)
            }
            Err(e) => Err(unreachable(&format!("starting {name}"), &e)),
        }
    }

    /// Stops a running execution with this error and cause (Step Functions records it as aborted).
    pub async fn stop(
        &self,
        execution_arn: &str,
        error: &str,
        cause: &str,
    ) -> Result<(), CliError> {
        self.client
            .stop_execution()
            .execution_arn(execution_arn)
            .error(error)
            .cause(cause)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unreachable(&format!("stopping {execution_arn}"), &e))
    }
}

/// A state's output, when it is a workflow state (every task's and pass state's output is).
fn workflow_state(event: &HistoryEvent) -> Option<Value> {
    let output = event.state_exited_event_details()?.output()?;
    let state: Value = serde_json::from_str(output).ok()?;
    state.get("offerId")?;
    Some(state)
}

fn time_of(at: &DateTime) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(at.secs()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn unreachable<E: std::error::Error + 'static>(what: &str, error: &E) -> CliError {
    CliError::unreachable(format!(
        "Step Functions, {what}: {}",
        DisplayErrorContext(error)
    ))
}
