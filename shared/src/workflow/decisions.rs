//! The decision for every plan a request adds its version to, from one read of the offer's draft:
//! a plan's problem names the plan (and its manifest entry) and stops the whole write.

use crate::marketplace::{Draft, NewVersion, PlanChange};
use crate::workflow::error::WorkflowError;
use crate::workflow::request::PublishRequest;
use crate::workflow::versions::{Decision, decide, new_version, where_};

/// One plan's version and what to do with it.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanDecision {
    pub plan_id: String,
    pub new: NewVersion,
    pub decision: Decision,
}

/// Decides every plan of `request` against `draft` (read for all of them), keeping at most `keep`
/// active versions per plan. Any plan's error is the request's: nothing is written for any plan.
pub fn decide_plans(
    request: &PublishRequest,
    draft: &Draft,
    keep: Option<usize>,
) -> Result<Vec<PlanDecision>, WorkflowError> {
    request
        .plan_requests()
        .iter()
        .map(|plan| {
            let named = |e| request.in_plan(&plan.plan_id, e);
            let read = draft.plan(&plan.plan_id).ok_or_else(|| {
                named(WorkflowError::invalid_input(format!(
                    "{} was not read with the draft",
                    where_(plan)
                )))
            })?;
            let new = new_version(plan, &read.versions).map_err(named)?;
            let decision = decide(&read.versions, &new, keep, &where_(plan)).map_err(named)?;
            Ok(PlanDecision {
                plan_id: plan.plan_id.clone(),
                new,
                decision,
            })
        })
        .collect()
}

/// The write the decisions call for: the plans that lack the version (none: nothing to write).
pub fn changes(decisions: &[PlanDecision]) -> Vec<PlanChange> {
    decisions
        .iter()
        .filter_map(|d| match &d.decision {
            Decision::AlreadyPresent => None,
            Decision::Add { retire } => Some(PlanChange {
                plan: d.plan_id.clone(),
                new: d.new.clone(),
                retire: retire.clone(),
            }),
        })
        .collect()
}
