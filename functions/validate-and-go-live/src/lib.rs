//! validate-and-go-live: confirm the preview slot holds the version with the expected image, then
//! take the offer live; report `versionMissing` instead when it does not, so it is published first.

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use shared::cpp::{CppClient, ErrorKind, Offer, OfferView, OperationRef, Submission};
use shared::deps::CppDeps;
use shared::workflow::polling::classify;
use shared::workflow::{
    ErrorName, GoLiveOutcome, OperationKind, OperationState, PublishRequest, RunStatus,
    WorkflowError, WorkflowState, holds_image,
};
use tracing::Instrument;

pub async fn handle(
    event: LambdaEvent<Value>,
    deps: &CppDeps,
) -> Result<WorkflowState, WorkflowError> {
    respond(event, deps)
        .await
        .inspect_err(WorkflowError::log_failure)
}

async fn respond(
    event: LambdaEvent<Value>,
    deps: &CppDeps,
) -> Result<WorkflowState, WorkflowError> {
    let state = WorkflowState::from_value(event.payload)?;
    let client = deps.client_for(&event.context);
    let r = &state.request;
    let span = tracing::info_span!("validate_and_go_live", offer_id = %r.offer_id, plan_id = %r.plan_id, version = %r.version);
    let mut state = validate_and_go_live(&client, state)
        .instrument(span)
        .await?;
    state.next_check_seconds = Some(deps.config.poll_min_seconds);
    Ok(state)
}

pub async fn validate_and_go_live(
    client: &CppClient,
    mut state: WorkflowState,
) -> Result<WorkflowState, WorkflowError> {
    let request = state.request.clone();
    let (publisher, offer) = (&request.publisher_id, &request.offer_id);
    let version = request.image_version()?;
    let in_preview = read_slot(client, &request, OfferView::Preview)
        .await?
        .is_some_and(|preview| holds_image(&preview, &request, version));
    if !in_preview {
        tracing::info!("the preview slot does not hold this version; it must be published first");
        state.outcome = Some(GoLiveOutcome::VersionMissing);
        return Ok(state);
    }

    let operations = client
        .list_operations(publisher, offer, None)
        .await
        .map_err(|e| {
            WorkflowError::from_cpp(
                &format!("listing the operations of {publisher}/{offer}"),
                &e,
            )
        })?;
    let operation = match operations.iter().find(|s| s.submission_state.is_active()) {
        Some(active) if active.is_go_live() => {
            tracing::info!(operation_id = %active.id, "a go-live is already running; resuming it");
            resume(&request, active)
        }
        Some(active) => {
            ensure_waiting_for_go_live(client, &request, active).await?;
            go_live(client, &request).await?
        }
        None => match live_already(client, &request, &operations).await? {
            Some(done) => done,
            None => go_live(client, &request).await?,
        },
    };
    state.begin_operation(OperationState {
        kind: OperationKind::GoLive,
        at: operation,
    });
    state.outcome = Some(GoLiveOutcome::GoLiveStarted);
    Ok(state)
}

/// The running publish must be the one at publisher sign-off; any other operation holds the offer.
async fn ensure_waiting_for_go_live(
    client: &CppClient,
    request: &PublishRequest,
    active: &Submission,
) -> Result<(), WorkflowError> {
    let (publisher, offer) = (&request.publisher_id, &request.offer_id);
    let operation = client
        .get_operation(publisher, offer, &active.id)
        .await
        .map_err(|e| {
            WorkflowError::from_cpp(
                &format!("reading operation {} of {publisher}/{offer}", active.id),
                &e,
            )
        })?;
    if classify(OperationKind::Publish, &operation) == RunStatus::Succeeded {
        return Ok(());
    }
    let step = operation.current_step().map_or("unknown", |s| s.label());
    Err(WorkflowError::new(
        ErrorName::OfferBusy,
        format!(
            "{publisher}/{offer} has a publish {} running (step {step}); going live must wait for it",
            active.id
        ),
    ))
}

/// A go-live of this version that already ran: production holds the image.
async fn live_already(
    client: &CppClient,
    request: &PublishRequest,
    operations: &[Submission],
) -> Result<Option<OperationRef>, WorkflowError> {
    let version = request.image_version()?;
    let live = read_slot(client, request, OfferView::Production)
        .await?
        .is_some_and(|production| holds_image(&production, request, version));
    Ok(live
        .then(|| operations.iter().find(|s| s.is_go_live()))
        .flatten()
        .map(|done| resume(request, done)))
}

async fn go_live(
    client: &CppClient,
    request: &PublishRequest,
) -> Result<OperationRef, WorkflowError> {
    let (publisher, offer) = (&request.publisher_id, &request.offer_id);
    let operation = client.go_live(publisher, offer).await.map_err(|e| match e.kind {
        ErrorKind::Conflict => WorkflowError::new(
            ErrorName::OfferBusy,
            format!("{publisher}/{offer} cannot go live now (another operation holds it, or preview is not ready): {e}"),
        ),
        _ => WorkflowError::from_cpp(&format!("going live with {publisher}/{offer}"), &e),
    })?;
    tracing::info!(operation_id = operation.id.as_deref(), "go-live started");
    Ok(operation)
}

fn resume(request: &PublishRequest, submission: &Submission) -> OperationRef {
    OperationRef::for_submission(&request.publisher_id, &request.offer_id, &submission.id)
}

/// The offer in `view`, or `None` when that slot was never filled (404).
async fn read_slot(
    client: &CppClient,
    request: &PublishRequest,
    view: OfferView,
) -> Result<Option<Offer>, WorkflowError> {
    let (publisher, offer) = (&request.publisher_id, &request.offer_id);
    match client.get_offer(publisher, offer, view).await {
        Ok(found) => Ok(Some(found)),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(WorkflowError::from_cpp(
            &format!("reading the {view:?} slot of {publisher}/{offer}"),
            &e,
        )),
    }
}
