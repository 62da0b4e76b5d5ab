//! `mpub cancel EXECUTION`: cancels the Microsoft operation a running publication waits on, waits
//! until Microsoft reports it canceled, then stops the execution. A run that waits on no operation
//! of its own (queued behind another, say) is only stopped.

use std::time::{Duration, SystemTime};

use serde::Serialize;
use shared::deps::Deps;
use shared::marketplace::Marketplace;
use shared::workflow::{RunStatus, WorkflowState};

use crate::error::CliError;
use crate::stage::{Stage, stage};
use crate::stepfunctions::StepFunctions;

/// The error a cancelled execution is stopped with.
pub const STOPPED_ERROR: &str = "Cancelled";

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
    let latest = publication
        .latest
        .as_ref()
        .map(|l| l.state.clone())
        .unwrap_or_else(|| publication.input.clone());
    let state = WorkflowState::from_value(latest).map_err(|e| CliError::refused(e.message))?;
    let target = state.request.target();
    let waits_on = match stage(&publication) {
        Stage::Publishing | Stage::GoingLive => state.operation.clone(),
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
        market
            .cancel(&offer, &operation.at)
            .await
            .map_err(|e| CliError::refused(format!("Microsoft refused the cancel: {e}")))?;
        let started = SystemTime::now();
        let status = loop {
            let report = market
                .operation(&offer, &operation.at, operation.kind)
                .await
                .map_err(|e| CliError::unreachable(format!("reading the operation: {e}")))?;
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
