//! One look at the operation a run waits on.

use std::time::{Duration, SystemTime};

use shared::config::Config;
use shared::marketplace::{Marketplace, OperationReport};
use shared::workflow::polling::{min_wait, next_check};
use shared::workflow::state::MAX_SUPERSEDED;
use shared::workflow::{
    Action, ErrorName, OperationKind, OperationState, RunStatus, WorkflowError, WorkflowState,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Reads the operation, classifies it into `operationStatus`, and sets `nextCheckSeconds` while it runs.
pub async fn check<M: Marketplace>(
    market: &M,
    config: &Config,
    now: SystemTime,
    mut state: WorkflowState,
) -> Result<WorkflowState, WorkflowError> {
    let (report, kind) = read_operation(market, &mut state).await?;
    let status = report.status;
    if report.step != state.step || state.step_seen_at.is_none() {
        state.step_seen_at = OffsetDateTime::from(now).format(&Rfc3339).ok();
    }
    state.step = report.step.clone();
    state.progress_percentage = report.progress_percentage;
    state.messages = report.messages.clone();
    state.operation_status = Some(status);
    state.poll_count += 1;
    let r = &state.request;
    tracing::info!(
        offer_id = %r.offer_id, version = %r.version, operation_id = state.operation.as_ref().and_then(|o| o.at.id.as_deref()),
        ?kind, ?status, step = state.step.as_deref(), progress = state.progress_percentage, poll = state.poll_count,
        "operation checked"
    );
    if status == RunStatus::Superseded {
        state.superseded += 1;
        if state.superseded > MAX_SUPERSEDED {
            return Err(WorkflowError::new(
                ErrorName::OfferBusy,
                format!(
                    "{}: another submission came first {} times; the offer is too busy to publish to now (Microsoft said: {})",
                    r.target(),
                    state.superseded,
                    state.messages.join(" ")
                ),
            ));
        }
    }
    if status != RunStatus::Running {
        state.next_check_seconds = None;
        state.expected_end_at = None;
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
    let wait = next_check(
        report.estimate,
        running_for,
        min_wait(r.api(), config.poll_min_seconds),
        Duration::from_secs(config.poll_max_seconds),
    );
    state.next_check_seconds = Some(wait.as_secs());
    state.expected_end_at = expected_end(&report, now, running_for, wait)
        .and_then(|t| OffsetDateTime::from(t).format(&Rfc3339).ok());
    Ok(state)
}

/// The current step's estimate left (at least until the next check, once it is overdue), then the
/// later steps'.
fn expected_end(
    report: &OperationReport,
    now: SystemTime,
    running_for: Duration,
    wait: Duration,
) -> Option<SystemTime> {
    let left = report
        .estimate?
        .checked_sub(running_for)
        .filter(|left| !left.is_zero())
        .unwrap_or(wait);
    now.checked_add(left)?.checked_add(report.later)
}

/// The operation named in the state, or the offer's newest one when the state names none.
async fn read_operation<M: Marketplace>(
    market: &M,
    state: &mut WorkflowState,
) -> Result<(OperationReport, OperationKind), WorkflowError> {
    let offer = state.request.offer();
    let failed = |e: shared::marketplace::MarketError| WorkflowError::from_market(&e);
    if let Some(known) = &state.operation {
        let report = market
            .operation(&offer, &known.at, known.kind)
            .await
            .map_err(failed)?;
        return Ok((report, known.kind));
    }
    let newest = market
        .activity(&offer)
        .await
        .map_err(failed)?
        .into_iter()
        .next()
        .ok_or_else(|| {
            WorkflowError::invalid_input(format!("{offer} has no operation to check"))
        })?;
    let kind = if newest.kind == OperationKind::GoLive || state.action == Action::GoLive {
        OperationKind::GoLive
    } else {
        OperationKind::Publish
    };
    let report = market
        .operation(&offer, &newest.at, kind)
        .await
        .map_err(failed)?;
    state.operation = Some(OperationState {
        kind,
        at: newest.at,
    });
    Ok((report, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3_600);

    fn running(estimate: Option<Duration>, later: Duration) -> OperationReport {
        OperationReport {
            status: RunStatus::Running,
            step: Some("certification".into()),
            progress_percentage: None,
            estimate,
            later,
            messages: Vec::new(),
        }
    }

    #[test]
    fn the_end_is_expected_after_the_step_s_estimate_left_and_the_later_steps() {
        let now = SystemTime::UNIX_EPOCH + 1_000 * HOUR;
        let report = running(Some(72 * HOUR), 2 * HOUR);
        assert_eq!(
            expected_end(&report, now, 10 * HOUR, HOUR),
            Some(now + 62 * HOUR + 2 * HOUR)
        );
        // Overdue: not before the next check, then the later steps.
        assert_eq!(
            expected_end(&report, now, 80 * HOUR, 6 * HOUR),
            Some(now + 8 * HOUR)
        );
        assert_eq!(expected_end(&running(None, HOUR), now, HOUR, HOUR), None);
    }
}
