//! One look at the operation a run waits on.

use std::time::{Duration, SystemTime};

use shared::config::Config;
use shared::cpp::{CppClient, ErrorKind, Operation, OperationRef};
use shared::workflow::polling::{classify, messages_for_people, next_check, parse_time_frame};
use shared::workflow::{
    Action, ErrorName, OperationKind, OperationState, RunStatus, WorkflowError, WorkflowState,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Reads the operation, classifies it into `operationStatus`, and sets `nextCheckSeconds` while it runs.
pub async fn check(
    client: &CppClient,
    config: &Config,
    now: SystemTime,
    mut state: WorkflowState,
) -> Result<WorkflowState, WorkflowError> {
    let (operation, kind) = read_operation(client, &mut state).await?;
    let status = classify(kind, &operation);
    let step = operation.current_step();
    let step_name = step.map(|s| s.label().to_owned());
    if step_name != state.step || state.step_seen_at.is_none() {
        state.step_seen_at = OffsetDateTime::from(now).format(&Rfc3339).ok();
    }
    state.step = step_name;
    state.progress_percentage = step.and_then(|s| s.progress_percentage);
    state.messages = messages_for_people(&operation);
    state.operation_status = Some(status);
    state.poll_count += 1;
    let r = &state.request;
    tracing::info!(
        offer_id = %r.offer_id, version = %r.version, operation_id = state.operation.as_ref().and_then(|o| o.at.id.as_deref()),
        ?kind, ?status, step = state.step.as_deref(), progress = state.progress_percentage, poll = state.poll_count,
        "operation checked"
    );
    if status != RunStatus::Running {
        state.next_check_seconds = None;
        return Ok(state);
    }
    if state.poll_count > config.max_polls {
        return Err(WorkflowError::new(
            ErrorName::PollLimitExceeded,
            format!(
                "{}: the {kind:?} operation was checked {} times (CPP_MAX_POLLS = {}) and is still at step {}",
                r.target(),
                state.poll_count,
                config.max_polls,
                state.step.as_deref().unwrap_or("unknown")
            ),
        ));
    }
    let seen_at = state
        .step_seen_at
        .as_deref()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
    let running_for = seen_at.map_or(Duration::ZERO, |t| {
        Duration::try_from(OffsetDateTime::from(now) - t).unwrap_or(Duration::ZERO)
    });
    let estimate = step
        .and_then(|s| s.estimated_time_frame.as_deref())
        .and_then(parse_time_frame);
    let wait = next_check(
        estimate,
        running_for,
        Duration::from_secs(config.poll_min_seconds),
        Duration::from_secs(config.poll_max_seconds),
    );
    state.next_check_seconds = Some(wait.as_secs());
    Ok(state)
}

/// The operation named in the state, or the offer's newest one when the state names none.
async fn read_operation(
    client: &CppClient,
    state: &mut WorkflowState,
) -> Result<(Operation, OperationKind), WorkflowError> {
    let (publisher, offer) = (
        state.request.publisher_id.clone(),
        state.request.offer_id.clone(),
    );
    let context = format!("reading the operation of {publisher}/{offer}");
    if let Some(known) = &state.operation {
        let read = match client.get_operation_at(&known.at.location).await {
            Err(e) if e.kind == ErrorKind::NotFound && known.at.id.is_some() => {
                let id = known.at.id.as_deref().unwrap_or_default();
                client.get_operation(&publisher, &offer, id).await
            }
            other => other,
        };
        return read
            .map(|op| (op, known.kind))
            .map_err(|e| WorkflowError::from_cpp(&context, &e));
    }
    let newest = client
        .list_operations(&publisher, &offer, None)
        .await
        .map_err(|e| WorkflowError::from_cpp(&context, &e))?
        .into_iter()
        .next()
        .ok_or_else(|| {
            WorkflowError::invalid_input(format!("{publisher}/{offer} has no operation to check"))
        })?;
    let kind = if newest.is_go_live() || state.action == Action::GoLive {
        OperationKind::GoLive
    } else {
        OperationKind::Publish
    };
    let at = OperationRef::for_submission(&publisher, &offer, &newest.id);
    let operation = client
        .get_operation(&publisher, &offer, &newest.id)
        .await
        .map_err(|e| WorkflowError::from_cpp(&context, &e))?;
    state.operation = Some(OperationState { kind, at });
    Ok((operation, kind))
}
