//! update-and-publish: add the build's image version to the draft of every plan of the request in
//! one write, made only if nobody changed the draft since it was read, and publish the draft to
//! preview, unless a publish of it is running or done.

mod dry_run;
mod write;

pub use dry_run::{DryRun, dry_run};
use write::{Written, write_image};

use std::time::SystemTime;

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use shared::config::Config;
use shared::deps::Deps;
use shared::marketplace::{
    Activity, Api, Marketplace, NewVersion, OperationKind, OperationRef, RunStatus, Slot,
};
use shared::workflow::polling::min_wait;
use shared::workflow::{
    ErrorName, OperationState, PlanChanged, PublishRequest, WorkflowError, WorkflowState, holds,
};
use tracing::Instrument;

pub async fn handle(
    event: LambdaEvent<Value>,
    deps: &Deps,
) -> Result<WorkflowState, WorkflowError> {
    respond(event, deps)
        .await
        .inspect_err(WorkflowError::log_failure)
}

async fn respond(event: LambdaEvent<Value>, deps: &Deps) -> Result<WorkflowState, WorkflowError> {
    let state = WorkflowState::from_value(event.payload)?;
    let market = deps.market(state.request.api(), &event.context);
    let r = &state.request;
    let span = tracing::info_span!("update_and_publish", api = r.api().as_str(), offer_id = %r.offer_id, plan_ids = %r.plan_label(), version = %r.version);
    update_and_publish(&market, &deps.config, deps.clock.now(), state)
        .instrument(span)
        .await
}

pub async fn update_and_publish<M: Marketplace>(
    market: &M,
    config: &Config,
    now: SystemTime,
    mut state: WorkflowState,
) -> Result<WorkflowState, WorkflowError> {
    let request = state.request.clone();
    let written = match write_image(market, config, now, &request).await {
        Ok(written) => written,
        Err(e) => return wait_or_fail(state, e, now, config),
    };
    // Recorded before publishing: a run that wrote and then finds the offer busy still made the change.
    if let Some(changes) = &written.changes {
        record_changes(&mut state, market.api(), changes);
    }
    state.changed = Some(state.changed == Some(true) || written.changes.is_some());
    let operation =
        match publish_or_resume(market, &request, &written, state.wrote_during.as_deref()).await {
            Ok(operation) => operation,
            Err(e) => {
                // Busy right after our own write: that operation started before the write landed.
                if e.name == ErrorName::OfferBusy && written.changes.is_some() {
                    state.wrote_during = active_operation(market, &request)
                        .await?
                        .and_then(|busy| busy.at.id);
                }
                return wait_or_fail(state, e, now, config);
            }
        };
    state.begin_operation(OperationState {
        kind: OperationKind::Publish,
        at: operation,
    });
    state.next_check_seconds = Some(min_wait(request.api(), config.poll_min_seconds).as_secs());
    Ok(state)
}

/// `OfferBusy` queues the run behind the other operation (until `CPP_QUEUE_MAX_DAYS`); other errors end it.
fn wait_or_fail(
    mut state: WorkflowState,
    error: WorkflowError,
    now: SystemTime,
    config: &Config,
) -> Result<WorkflowState, WorkflowError> {
    if error.name != ErrorName::OfferBusy {
        return Err(error);
    }
    state.wait_for_offer(error, now.into(), config.queue_max_days)?;
    let queue = state.queue.as_ref();
    tracing::info!(
        waiting_for = queue.map(|q| q.waiting_for.as_str()),
        checks = queue.map(|q| q.checks),
        waited_days = queue.map(|q| q.waited_seconds as f64 / 86_400.0),
        next_check_seconds = state.next_check_seconds,
        "another operation holds the offer; waiting for it"
    );
    Ok(state)
}

/// What the write did, per plan (`planChanges` when there are several) and in the retired versions.
fn record_changes(state: &mut WorkflowState, api: Api, changes: &[PlanChanged]) {
    let several = !state.request.plans.is_empty();
    let retired: Vec<String> = changes
        .iter()
        .flat_map(|c| {
            c.retired.iter().map(move |key| {
                if several {
                    format!("{} {key}", c.plan_id)
                } else {
                    key.clone()
                }
            })
        })
        .collect();
    for change in changes.iter().filter(|c| c.added) {
        tracing::info!(plan_id = %change.plan_id, retired = %change.retired.join(", "), "image version added to the draft");
    }
    match api {
        Api::Cpp => state.evicted_versions = retired,
        Api::ProductIngestion => state.deprecated_versions = retired,
    }
    if several {
        state.plan_changes = changes.to_vec();
    }
}

/// Publishes the draft, or resumes the publish of it that exists when the version was already there.
async fn publish_or_resume<M: Marketplace>(
    market: &M,
    request: &PublishRequest,
    written: &Written,
    wrote_during: Option<&str>,
) -> Result<OperationRef, WorkflowError> {
    if !written.found {
        return publish(market, request).await;
    }
    match publish_of_this_draft(market, request, &written.news, wrote_during).await? {
        Some(existing) => {
            tracing::info!(
                operation_id = existing.id.as_deref(),
                "version already in the draft and its publish exists; resuming it"
            );
            Ok(existing)
        }
        None => publish(market, request).await,
    }
}

/// A publish of the current draft that is running or has reached preview (every plan's version
/// there), to resume instead of starting again; never `wrote_during`, which began before our write.
pub(crate) async fn publish_of_this_draft<M: Marketplace>(
    market: &M,
    request: &PublishRequest,
    news: &[(String, NewVersion)],
    wrote_during: Option<&str>,
) -> Result<Option<OperationRef>, WorkflowError> {
    let operations = activity(market, request).await?;
    if let Some(active) = operations.iter().find(|a| a.active) {
        let before_our_write = wrote_during.is_some() && active.at.id.as_deref() == wrote_during;
        if active.kind == OperationKind::GoLive || before_our_write {
            return Err(offer_busy(request, active));
        }
        // The draft already holds the version, and publishing the same draft again returns the running publish.
        return Ok(Some(active.at.clone()));
    }
    for (plan, new) in news {
        let preview = market
            .read_plan(&request.offer(), plan, Slot::Preview)
            .await
            .map_err(|e| WorkflowError::from_market(&e))?;
        if !preview.is_some_and(|p| holds(&p, new)) {
            return Ok(None);
        }
    }
    // The newest publish, unless it ended failed or canceled: that one is not resumed but redone.
    Ok(operations
        .iter()
        .find(|a| a.kind == OperationKind::Publish)
        .filter(|a| !matches!(a.status, Some(RunStatus::Failed | RunStatus::Canceled)))
        .map(|a| a.at.clone()))
}

async fn publish<M: Marketplace>(
    market: &M,
    request: &PublishRequest,
) -> Result<OperationRef, WorkflowError> {
    if let Some(busy) = active_operation(market, request).await? {
        return Err(offer_busy(request, &busy));
    }
    let operation = market
        .publish(&request.offer(), &request.notification_emails)
        .await
        .map_err(|e| WorkflowError::from_market(&e))?;
    tracing::info!(
        operation_id = operation.id.as_deref(),
        "publish to preview started"
    );
    Ok(operation)
}

async fn activity<M: Marketplace>(
    market: &M,
    request: &PublishRequest,
) -> Result<Vec<Activity>, WorkflowError> {
    market
        .activity(&request.offer())
        .await
        .map_err(|e| WorkflowError::from_market(&e))
}

pub(crate) async fn active_operation<M: Marketplace>(
    market: &M,
    request: &PublishRequest,
) -> Result<Option<Activity>, WorkflowError> {
    Ok(activity(market, request)
        .await?
        .into_iter()
        .find(|a| a.active))
}

fn offer_busy(request: &PublishRequest, operation: &Activity) -> WorkflowError {
    WorkflowError::new(
        ErrorName::OfferBusy,
        format!(
            "{} has {}; one operation runs per offer at a time",
            request.offer(),
            running_operation(operation)
        ),
    )
}

/// `a publish 1234 running`, `a go-live 1235 running`.
pub(crate) fn running_operation(operation: &Activity) -> String {
    let kind = match operation.kind {
        OperationKind::Publish => "a publish",
        OperationKind::GoLive => "a go-live",
    };
    format!("{kind} {} running", operation.label())
}
