//! update-and-publish: add the build's image version to the draft offer, PUT it back with the ETag
//! it was read with, and publish the draft to preview, unless a publish of it is running or done.

use std::time::SystemTime;

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use shared::config::Config;
use shared::cpp::{CppClient, ErrorKind, OfferView, OperationRef, Submission};
use shared::deps::CppDeps;
use shared::workflow::{
    ErrorName, ImageChange, OperationKind, OperationState, PublishRequest, WorkflowError,
    WorkflowState, add_image, holds_image,
};
use tracing::Instrument;

/// How often a write that lost an ETag race is re-read and re-applied before giving up as `WriteConflict`.
const MAX_WRITE_ATTEMPTS: u32 = 3;

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
    let span = tracing::info_span!("update_and_publish", offer_id = %r.offer_id, plan_id = %r.plan_id, version = %r.version);
    update_and_publish(&client, &deps.config, deps.clock.now(), state)
        .instrument(span)
        .await
}

pub async fn update_and_publish(
    client: &CppClient,
    config: &Config,
    now: SystemTime,
    mut state: WorkflowState,
) -> Result<WorkflowState, WorkflowError> {
    let request = state.request.clone();
    let written = match write_image(client, config, now, &request).await {
        Ok(written) => written,
        Err(e) => return wait_or_fail(state, e, now, config),
    };
    // Recorded before publishing: a run that wrote and then finds the offer busy still made the change.
    if let ImageChange::Added { evicted } = &written.change {
        tracing::info!(evicted = %evicted.join(", "), "image version added to the draft");
        state.evicted_versions = evicted.clone();
    }
    state.changed =
        Some(state.changed == Some(true) || written.change != ImageChange::AlreadyPresent);
    let operation = match publish_or_resume(client, &request, written.found).await {
        Ok(operation) => operation,
        Err(e) => return wait_or_fail(state, e, now, config),
    };
    state.begin_operation(OperationState {
        kind: OperationKind::Publish,
        at: operation,
    });
    state.next_check_seconds = Some(config.poll_min_seconds);
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

/// Publishes the draft, or resumes the publish of it that exists when the version was already there.
async fn publish_or_resume(
    client: &CppClient,
    request: &PublishRequest,
    found: bool,
) -> Result<OperationRef, WorkflowError> {
    if !found {
        return publish(client, request).await;
    }
    match publish_of_this_draft(client, request).await? {
        Some(existing) => {
            tracing::info!(
                operation_id = existing.id.as_deref(),
                "version already in the draft and its publish exists; resuming it"
            );
            Ok(existing)
        }
        None => publish(client, request).await,
    }
}

/// What writing the image did.
struct Written {
    /// The change this run made (`AlreadyPresent` when it made none).
    change: ImageChange,
    /// The draft already held the version when last read, so a publish of it may exist.
    found: bool,
}

/// Adds the image to the draft; on 412 the draft is read again and the change re-applied.
async fn write_image(
    client: &CppClient,
    config: &Config,
    now: SystemTime,
    request: &PublishRequest,
) -> Result<Written, WorkflowError> {
    let (publisher, offer_id) = (&request.publisher_id, &request.offer_id);
    // The change a PUT answered 412 tried to make: that PUT may have been applied and its first answer lost.
    let mut refused: Option<ImageChange> = None;
    // One more read than writes: the last 412 may also answer a PUT that was applied.
    for attempt in 1..=MAX_WRITE_ATTEMPTS + 1 {
        let mut offer = client
            .get_offer(publisher, offer_id, OfferView::Draft)
            .await
            .map_err(|e| match e.kind {
                ErrorKind::NotFound => WorkflowError::new(
                    ErrorName::OfferNotFound,
                    format!("offer {publisher}/{offer_id} does not exist (or the service principal cannot see it): {e}"),
                ),
                _ => WorkflowError::from_cpp(&format!("reading the draft of {publisher}/{offer_id}"), &e),
            })?;
        if let Some(kind) = offer
            .offer_type()
            .filter(|k| *k != "microsoft-azure-virtualmachines")
        {
            return Err(WorkflowError::invalid_input(format!(
                "offer {publisher}/{offer_id} is of type {kind}; only microsoft-azure-virtualmachines offers are supported"
            )));
        }
        let change = add_image(&mut offer, request, config.max_images_per_plan)?;
        if change == ImageChange::AlreadyPresent {
            // Present right after our own PUT was refused: that PUT was applied, so this run made the change.
            return Ok(Written {
                change: refused.unwrap_or(change),
                found: true,
            });
        }
        if attempt > MAX_WRITE_ATTEMPTS {
            break;
        }
        // Checked again before writing, and before waiting: a run can wait days for the offer.
        request
            .check_image_url(now, config.sas_min_validity_days)
            .map_err(|e| {
                WorkflowError::invalid_input(format!(
                    "{} (checked again before the version is written, since a run can wait days for the offer); sign a new URL and upload the manifest again (nothing was written)",
                    e.message
                ))
            })?;
        // Our version is not in the draft yet, so any operation running now is someone else's.
        if let Some(busy) = active_operation(client, request).await? {
            return Err(offer_busy(request, &busy));
        }
        match client.put_offer(publisher, &offer).await {
            Ok(_) => {
                return Ok(Written {
                    change,
                    found: false,
                });
            }
            Err(e) if e.kind == ErrorKind::PreconditionFailed => {
                tracing::warn!(
                    attempt,
                    "the draft changed since it was read (412); reading it again"
                );
                refused = Some(change);
            }
            Err(e) => {
                return Err(WorkflowError::from_cpp(
                    &format!("writing the draft of {publisher}/{offer_id}"),
                    &e,
                ));
            }
        }
    }
    Err(WorkflowError::new(
        ErrorName::WriteConflict,
        format!(
            "the draft of {publisher}/{offer_id} kept changing while it was written ({MAX_WRITE_ATTEMPTS} attempts, each answered 412); someone else is editing the offer, nothing was written"
        ),
    ))
}

/// A publish of the current draft that is running or has reached preview, to resume instead of starting again.
async fn publish_of_this_draft(
    client: &CppClient,
    request: &PublishRequest,
) -> Result<Option<OperationRef>, WorkflowError> {
    let (publisher, offer_id) = (&request.publisher_id, &request.offer_id);
    let operations = list_operations(client, request).await?;
    if let Some(active) = operations.iter().find(|s| s.submission_state.is_active()) {
        if active.is_go_live() {
            return Err(offer_busy(request, active));
        }
        // The draft already holds the version, and publishing the same draft again returns the running publish.
        return Ok(Some(OperationRef::for_submission(
            publisher, offer_id, &active.id,
        )));
    }
    let preview = match client
        .get_offer(publisher, offer_id, OfferView::Preview)
        .await
    {
        Ok(preview) => Some(preview),
        Err(e) if e.kind == ErrorKind::NotFound => None,
        Err(e) => {
            return Err(WorkflowError::from_cpp(
                &format!("reading the preview of {publisher}/{offer_id}"),
                &e,
            ));
        }
    };
    let version = request.image_version()?;
    if !preview.is_some_and(|p| holds_image(&p, request, version)) {
        return Ok(None);
    }
    Ok(operations
        .iter()
        .find(|s| !s.is_go_live())
        .map(|s| OperationRef::for_submission(publisher, offer_id, &s.id)))
}

async fn publish(
    client: &CppClient,
    request: &PublishRequest,
) -> Result<OperationRef, WorkflowError> {
    let (publisher, offer_id) = (&request.publisher_id, &request.offer_id);
    if let Some(busy) = active_operation(client, request).await? {
        return Err(offer_busy(request, &busy));
    }
    let operation = client
        .publish(publisher, offer_id, &request.notification_emails)
        .await
        .map_err(|e| match e.kind {
            ErrorKind::Conflict => WorkflowError::new(
                ErrorName::OfferBusy,
                format!(
                    "{publisher}/{offer_id}: another operation started before the publish: {e}"
                ),
            ),
            _ => WorkflowError::from_cpp(&format!("publishing {publisher}/{offer_id}"), &e),
        })?;
    tracing::info!(
        operation_id = operation.id.as_deref(),
        "publish to preview started"
    );
    Ok(operation)
}

async fn list_operations(
    client: &CppClient,
    request: &PublishRequest,
) -> Result<Vec<Submission>, WorkflowError> {
    let (publisher, offer_id) = (&request.publisher_id, &request.offer_id);
    client
        .list_operations(publisher, offer_id, None)
        .await
        .map_err(|e| {
            WorkflowError::from_cpp(
                &format!("listing the operations of {publisher}/{offer_id}"),
                &e,
            )
        })
}

async fn active_operation(
    client: &CppClient,
    request: &PublishRequest,
) -> Result<Option<Submission>, WorkflowError> {
    Ok(list_operations(client, request)
        .await?
        .into_iter()
        .find(|s| s.submission_state.is_active()))
}

fn offer_busy(request: &PublishRequest, operation: &Submission) -> WorkflowError {
    let kind = operation
        .submission_type
        .as_deref()
        .unwrap_or("an operation");
    WorkflowError::new(
        ErrorName::OfferBusy,
        format!(
            "{}/{} has {kind} {} running; one operation runs per offer at a time",
            request.publisher_id, request.offer_id, operation.id
        ),
    )
}
