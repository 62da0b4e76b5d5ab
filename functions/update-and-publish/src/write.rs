//! Adding the image version to every plan of the request in one write, and only over the draft as
//! it was read: a draft that changed meanwhile is read again and the change re-applied.

use std::time::SystemTime;

use shared::config::Config;
use shared::marketplace::{ErrorKind, Marketplace, NewVersion};
use shared::workflow::{
    ErrorName, PlanChanged, PublishRequest, WorkflowError, changes, decide_plans, retention,
};

use crate::{active_operation, offer_busy};

/// How often a write that lost a race is re-read and re-applied before giving up as `WriteConflict`.
const MAX_WRITE_ATTEMPTS: u32 = 3;

/// What writing the image did.
pub(crate) struct Written {
    /// Per plan, the version as written (or found).
    pub news: Vec<(String, NewVersion)>,
    /// `Some` when this run wrote, with what it did to each plan.
    pub changes: Option<Vec<PlanChanged>>,
    /// Every plan already held the version when last read, so a publish of it may exist.
    pub found: bool,
}

pub(crate) async fn write_image<M: Marketplace>(
    market: &M,
    config: &Config,
    now: SystemTime,
    request: &PublishRequest,
) -> Result<Written, WorkflowError> {
    let offer = request.offer();
    let plans = request.plan_ids();
    let keep = retention(
        market.api(),
        config.max_images_per_plan,
        config.ingestion_keep_active_versions,
    );
    // What a refused write did: it may have been applied and its answer lost.
    let mut refused: Option<Vec<PlanChanged>> = None;
    // One more read than writes: the last refusal may also answer a write that was applied.
    for attempt in 1..=MAX_WRITE_ATTEMPTS + 1 {
        let draft = market
            .read_draft(&offer, &plans)
            .await
            .map_err(|e| WorkflowError::from_market(&e))?;
        let decisions = decide_plans(request, &draft, keep)?;
        let news = decisions
            .iter()
            .map(|d| (d.plan_id.clone(), d.new.clone()))
            .collect();
        let wanted = changes(&decisions);
        // Every plan holds it; right after our own write was refused, that write was applied.
        if wanted.is_empty() {
            return Ok(Written {
                news,
                changes: refused,
                found: true,
            });
        }
        if attempt > MAX_WRITE_ATTEMPTS {
            break;
        }
        // Checked again before writing, and before waiting: a run can wait days for the offer.
        request
            .check_image_urls(now, config.sas_min_validity_days)
            .map_err(|e| {
                WorkflowError::invalid_input(format!(
                    "{} (checked again before the version is written, since a run can wait days for the offer); sign a new URL and upload the manifest again (nothing was written)",
                    e.message
                ))
            })?;
        // Our version is not in the draft yet, so any operation running now is someone else's.
        if let Some(busy) = active_operation(market, request).await? {
            return Err(offer_busy(request, &busy));
        }
        let report = plans
            .iter()
            .map(|plan| {
                let change = wanted.iter().find(|c| c.plan == *plan);
                PlanChanged {
                    plan_id: (*plan).to_owned(),
                    added: change.is_some(),
                    retired: change.map(|c| c.retire.clone()).unwrap_or_default(),
                }
            })
            .collect();
        match market.write_draft(&offer, draft, &wanted).await {
            Ok(()) => {
                return Ok(Written {
                    news,
                    changes: Some(report),
                    found: false,
                });
            }
            Err(e) if matches!(e.kind, ErrorKind::PreconditionFailed | ErrorKind::Changed) => {
                tracing::warn!(
                    attempt,
                    error = %e,
                    "the draft changed since it was read; reading it again"
                );
                // Only a refused write may have been applied (its first answer lost).
                if e.kind == ErrorKind::PreconditionFailed {
                    refused = Some(report);
                }
            }
            Err(e) => return Err(WorkflowError::from_market(&e)),
        }
    }
    Err(WorkflowError::new(
        ErrorName::WriteConflict,
        format!(
            "the draft of {offer} kept changing while it was written ({MAX_WRITE_ATTEMPTS} attempts, each refused because it had changed since it was read); someone else is editing the offer, nothing was written"
        ),
    ))
}
