//! validate-and-go-live: confirm the preview holds the version with the expected image(s), then
//! take the offer live; report `versionMissing` instead when it does not, so it is published first.

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use shared::deps::Deps;
use shared::marketplace::{
    Activity, ErrorKind, MarketError, Marketplace, NewVersion, OperationKind, OperationRef,
    RunStatus, Slot,
};
use shared::workflow::polling::min_wait;
use shared::workflow::{
    ErrorName, GoLiveOutcome, OperationState, PublishRequest, WorkflowError, WorkflowState, holds,
    new_version,
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
    let span = tracing::info_span!("validate_and_go_live", api = r.api().as_str(), offer_id = %r.offer_id, plan_ids = %r.plan_label(), version = %r.version);
    let mut state = validate_and_go_live(&market, state)
        .instrument(span)
        .await?;
    state.next_check_seconds =
        Some(min_wait(state.request.api(), deps.config.poll_min_seconds).as_secs());
    Ok(state)
}

pub async fn validate_and_go_live<M: Marketplace>(
    market: &M,
    mut state: WorkflowState,
) -> Result<WorkflowState, WorkflowError> {
    let request = state.request.clone();
    let Some(new) = in_slot(market, &request, Slot::Preview).await? else {
        tracing::info!(
            "the preview does not hold this version in every plan; it must be published first"
        );
        state.outcome = Some(GoLiveOutcome::VersionMissing);
        return Ok(state);
    };
    let operations = market.activity(&request.offer()).await.map_err(failed)?;
    let operation = match operations.iter().find(|a| a.active) {
        Some(active) if active.kind == OperationKind::GoLive => {
            tracing::info!(
                operation_id = active.label(),
                "a go-live is already running; resuming it"
            );
            active.at.clone()
        }
        Some(active) => {
            ensure_waiting_for_go_live(market, &request, active).await?;
            match go_live(market, &request).await? {
                Some(started) => started,
                None => return Ok(superseded(state)),
            }
        }
        None => match live_already(market, &request, &new, &operations).await? {
            Some(done) => done,
            None => match go_live(market, &request).await? {
                Some(started) => started,
                None => return Ok(superseded(state)),
            },
        },
    };
    state.begin_operation(OperationState {
        kind: OperationKind::GoLive,
        at: operation,
    });
    state.outcome = Some(GoLiveOutcome::GoLiveStarted);
    Ok(state)
}

fn failed(error: MarketError) -> WorkflowError {
    WorkflowError::from_market(&error)
}

/// Per plan, the version `request` publishes, when `slot` holds it with the same image(s) in
/// every plan of the request.
async fn in_slot<M: Marketplace>(
    market: &M,
    request: &PublishRequest,
    slot: Slot,
) -> Result<Option<Vec<(String, NewVersion)>>, WorkflowError> {
    let mut held = Vec::new();
    for plan in request.plan_requests() {
        let Some(versions) = market
            .read_plan(&request.offer(), &plan.plan_id, slot)
            .await
            .map_err(failed)?
        else {
            return Ok(None);
        };
        // A plan gone from the slot, or an image type it lacks, means the version is not there.
        let Ok(new) = new_version(&plan, &versions) else {
            return Ok(None);
        };
        if !holds(&versions, &new) {
            tracing::info!(plan_id = %plan.plan_id, ?slot, "this plan lacks the version");
            return Ok(None);
        }
        held.push((plan.plan_id, new));
    }
    Ok(Some(held))
}

/// The running publish must be the one at publisher sign-off; any other operation holds the offer.
async fn ensure_waiting_for_go_live<M: Marketplace>(
    market: &M,
    request: &PublishRequest,
    active: &Activity,
) -> Result<(), WorkflowError> {
    let report = market
        .operation(&request.offer(), &active.at, OperationKind::Publish)
        .await
        .map_err(failed)?;
    if report.status == RunStatus::Succeeded {
        return Ok(());
    }
    Err(WorkflowError::new(
        ErrorName::OfferBusy,
        format!(
            "{} has a publish {} running (step {}); going live must wait for it",
            request.offer(),
            active.label(),
            report.step.as_deref().unwrap_or("unknown")
        ),
    ))
}

/// A go-live of this version that already ran: live holds the image in every plan.
async fn live_already<M: Marketplace>(
    market: &M,
    request: &PublishRequest,
    news: &[(String, NewVersion)],
    operations: &[Activity],
) -> Result<Option<OperationRef>, WorkflowError> {
    for (plan, new) in news {
        let live = market
            .read_plan(&request.offer(), plan, Slot::Live)
            .await
            .map_err(failed)?;
        if !live.is_some_and(|versions| holds(&versions, new)) {
            return Ok(None);
        }
    }
    Ok(operations
        .iter()
        .find(|a| a.kind == OperationKind::GoLive)
        .map(|done| done.at.clone()))
}

/// Starts the go-live; `None` when the preview is no longer the newest (Product Ingestion's "not the
/// latest"): publishing again is the way on, never the same go-live again.
async fn go_live<M: Marketplace>(
    market: &M,
    request: &PublishRequest,
) -> Result<Option<OperationRef>, WorkflowError> {
    match market.go_live(&request.offer()).await {
        Ok(operation) => {
            tracing::info!(operation_id = operation.id.as_deref(), "go-live started");
            Ok(Some(operation))
        }
        Err(e) if e.kind == ErrorKind::Stale => {
            tracing::info!(error = %e, "the preview is not the newest; it is published again first");
            Ok(None)
        }
        Err(e) => Err(failed(e)),
    }
}

/// The state that sends the run to publish first (`versionMissing`), saying why.
fn superseded(mut state: WorkflowState) -> WorkflowState {
    state.outcome = Some(GoLiveOutcome::VersionMissing);
    state.messages = vec!["another submission replaced the preview; the version is published again before it goes live".into()];
    state
}
