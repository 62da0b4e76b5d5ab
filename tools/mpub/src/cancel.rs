//! `mpub cancel EXECUTION`: cancels the Microsoft operation a running publication waits on, waits
//! until Microsoft reports it canceled, then stops the execution. A run that waits on no operation
//! of its own (queued behind another, say) is only stopped.

use std::time::{Duration, SystemTime};

use serde::Serialize;
use shared::deps::Deps;
use shared::marketplace::{Api, ErrorKind, MarketError, Marketplace};
use shared::workflow::{RunStatus, WorkflowState};

use crate::error::CliError;
use crate::stage::{Stage, stage};
use crate::stepfunctions::StepFunctions;

/// The error a cancelled execution is stopped with.
pub const STOPPED_ERROR: &str = "Cancelled";
/// The states whose function may be starting an operation: what the run waits on is not known yet.
const STARTING: [&str; 2] = ["UpdateAndPublish", "ValidateAndGoLive"];

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cancelled {
    pub execution_arn: String,
    pub target: String,
    /// The operation cancelled at Microsoft, if the run waited on one.
    pub operation: Option<String>,
    /// How Microsoft reported it at the end (`canceled`, or how it ended first).
    pub operation_status: Option<RunStatus>,
    /// Whether this command stopped the execution (it may have ended on its own meanwhile).
    pub execution_stopped: bool,
}

/// How long to wait for Microsoft, and how often to look.
#[derive(Clone, Copy, Debug)]
pub struct Patience {
    pub wait: Duration,
    pub every: Duration,
}

pub async fn cancel(
    sfn: &StepFunctions,
    execution_arn: &str,
    patience: Patience,
    confirm: impl FnOnce(&str) -> bool,
) -> Result<Cancelled, CliError> {
    let publication = sfn.publication(execution_arn).await?;
    if publication.status != "RUNNING" {
        return Err(CliError::refused(format!(
            "{} has ended ({}); there is nothing to cancel",
            publication.name, publication.status
        )));
    }
    if let Some(current) = publication.current_state().filter(|s| STARTING.contains(s)) {
        return Err(CliError::refused(format!(
            "{} is in {current}, which may be starting an operation right now; try again in a minute",
            publication.name
        )));
    }
    let latest = publication
        .latest
        .as_ref()
        .map(|l| l.state.clone())
        .unwrap_or_else(|| publication.input.clone());
    let state = WorkflowState::from_value(latest).map_err(|e| CliError::refused(e.message))?;
    let target = state.request.target();
    let waits_on = match stage(&publication) {
        Stage::Publishing | Stage::GoingLive
            if state.operation_status == Some(RunStatus::Running) =>
        {
            state.operation.clone()
        }
        _ => None,
    };
    let operation_label = waits_on
        .as_ref()
        .map(|o| o.at.id.clone().unwrap_or_else(|| o.at.location.clone()));
    let prompt = match &operation_label {
        Some(id) => format!(
            "Cancel Microsoft's operation {id} on {target} and stop {}?",
            publication.name
        ),
        None => format!(
            "{target} waits on no operation of its own ({}); stop {}?",
            stage(&publication).label(),
            publication.name
        ),
    };
    if !confirm(&prompt) {
        return Err(CliError::refused("not confirmed; nothing was cancelled"));
    }
    let mut outcome = Cancelled {
        execution_arn: publication.execution_arn.clone(),
        target: target.clone(),
        operation: operation_label.clone(),
        operation_status: None,
        execution_stopped: false,
    };
    if let Some(operation) = &waits_on {
        let deps = Deps::from_env()
            .await
            .map_err(|e| CliError::refused(format!("{}: {}", e.name.as_str(), e.message)))?;
        let deadline = SystemTime::now() + patience.wait + Duration::from_secs(60);
        let market = deps.market_until(state.request.api(), deadline);
        let offer = state.request.offer();
        let label = operation_label.as_deref().unwrap_or_default();
        // Only the run's own operation, and only while it runs: CPP cancels whatever runs on the offer.
        let now = market
            .operation(&offer, &operation.at, operation.kind)
            .await
            .map_err(|e| from_market("reading the operation", &e))?;
        if now.status != RunStatus::Running {
            return Err(CliError::refused(format!(
                "{label} is not running any more ({:?}); the execution sees that at its next check",
                now.status
            )));
        }
        if state.request.api() == Api::Cpp {
            let active = market
                .activity(&offer)
                .await
                .map_err(|e| from_market("reading the offer's operations", &e))?;
            let holding = active
                .iter()
                .find(|a| a.active)
                .and_then(|a| a.at.id.clone());
            if operation.at.id.is_some() && holding != operation.at.id {
                return Err(CliError::refused(format!(
                    "{offer} is held by operation {}, not this run's {label}; nothing was cancelled",
                    holding.as_deref().unwrap_or("(none)")
                )));
            }
        }
        market
            .cancel(&offer, &operation.at)
            .await
            .map_err(|e| from_market("Microsoft did not take the cancel", &e))?;
        let started = SystemTime::now();
        let status = loop {
            let report = market
                .operation(&offer, &operation.at, operation.kind)
                .await
                .map_err(|e| from_market("reading the operation", &e))?;
            if report.status != RunStatus::Running {
                break report.status;
            }
            if started.elapsed().unwrap_or_default() >= patience.wait {
                return Err(CliError::refused(format!(
                    "Microsoft accepted the cancel of {} but still reports it running after {} s; the execution was left running and sees the end itself",
                    operation_label.as_deref().unwrap_or_default(),
                    patience.wait.as_secs()
                )));
            }
            tokio::time::sleep(patience.every).await;
        };
        outcome.operation_status = Some(status);
        if status != RunStatus::Canceled {
            return Err(CliError::refused(format!(
                "{} ended {status:?} before it could be cancelled; the execution was left to go on",
                operation_label.as_deref().unwrap_or_default()
            )));
        }
    }
    // The run may have seen the cancel and ended meanwhile.
    if sfn.publication(execution_arn).await?.status == "RUNNING" {
        let cause = match &operation_label {
            Some(id) => format!("cancelled with mpub: Microsoft's operation {id} was canceled"),
            None => "stopped with mpub".to_owned(),
        };
        sfn.stop(execution_arn, STOPPED_ERROR, &cause).await?;
        outcome.execution_stopped = true;
    }
    Ok(outcome)
}

/// Microsoft's refusal is the operator's to read; a service that could not be asked is exit 3.
fn from_market(what: &str, error: &MarketError) -> CliError {
    let message = format!("{what}: {error}");
    match error.kind {
        ErrorKind::Transient | ErrorKind::Throttled | ErrorKind::Unauthorized => {
            CliError::unreachable(message)
        }
        _ => CliError::refused(message),
    }
}
