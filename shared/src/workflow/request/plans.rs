//! A request for several plans of one offer (a release's state for that offer): `plans` in place of
//! `planId`, each plan with its own image or the request's.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::redact::redact_sas;
use crate::workflow::error::WorkflowError;
use crate::workflow::images::ManifestImage;
use crate::workflow::request::{PublishRequest, field_error, image_sas_urls};

/// A release lists at most this many targets, so one offer has at most this many plans.
pub const MAX_PLANS: usize = 50;

/// One plan of `plans`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanTarget {
    pub plan_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub os_vhd_url: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lun_vhd_details: Vec<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ManifestImage>,
    /// The release manifest's entry this plan came from (`targets[3]`), for messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
}

impl fmt::Debug for PlanTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlanTarget")
            .field("plan_id", &self.plan_id)
            .field("os_vhd_url", &redact_sas(&self.os_vhd_url))
            .field("data_disks", &self.lun_vhd_details.len())
            .field("images", &self.images)
            .field("entry", &self.entry)
            .finish()
    }
}

impl PlanTarget {
    /// The plan names its own image (else it takes the request's).
    fn has_image(&self) -> bool {
        !self.os_vhd_url.is_empty() || !self.images.is_empty()
    }

    pub(crate) fn sas_urls(&self) -> Vec<(String, &str)> {
        image_sas_urls(&self.os_vhd_url, &self.images)
    }
}

impl PublishRequest {
    /// The plans this request adds the version to, by id, in the order given.
    pub fn plan_ids(&self) -> Vec<&str> {
        if self.plans.is_empty() {
            vec![self.plan_id.as_str()]
        } else {
            self.plans.iter().map(|p| p.plan_id.as_str()).collect()
        }
    }

    /// `gen1, gen2`: the plans for people (notices, causes).
    pub fn plan_label(&self) -> String {
        self.plan_ids().join(", ")
    }

    /// One single-plan request per plan, each with its own image or the request's: the rules of
    /// the domain apply to each as to a request of one plan.
    pub fn plan_requests(&self) -> Vec<PublishRequest> {
        if self.plans.is_empty() {
            return vec![self.clone()];
        }
        let shared = PublishRequest {
            plans: Vec::new(),
            ..self.clone()
        };
        self.plans
            .iter()
            .map(|plan| {
                let mut request = PublishRequest {
                    plan_id: plan.plan_id.clone(),
                    ..shared.clone()
                };
                if plan.has_image() {
                    request.os_vhd_url = plan.os_vhd_url.clone();
                    request.lun_vhd_details = plan.lun_vhd_details.clone();
                    request.images = plan.images.clone();
                }
                request
            })
            .collect()
    }

    /// `targets[3]` (the manifest entry) or `plans[1]`: where a plan's problem is to be fixed.
    pub fn plan_entry(&self, plan_id: &str) -> Option<String> {
        let index = self.plans.iter().position(|p| p.plan_id == plan_id)?;
        Some(
            self.plans[index]
                .entry
                .clone()
                .unwrap_or_else(|| format!("plans[{index}]")),
        )
    }

    /// `error` with the plan's entry in front, when the request has several plans.
    pub fn in_plan(&self, plan_id: &str, error: WorkflowError) -> WorkflowError {
        match self.plan_entry(plan_id) {
            Some(entry) => WorkflowError::new(error.name, format!("{entry}: {}", error.message)),
            None => error,
        }
    }

    /// The rules for `plans`: no `planId` beside it, each plan once, each valid as a plan of its own.
    pub(super) fn validate_plans(&self) -> Result<(), WorkflowError> {
        if !self.plan_id.is_empty() {
            return Err(field_error(
                "planId",
                "and plans exclude each other: name the one plan, or list every plan in plans",
            ));
        }
        if self.plans.len() > MAX_PLANS {
            return Err(field_error(
                "plans",
                &format!("lists {} plans; at most {MAX_PLANS}", self.plans.len()),
            ));
        }
        let mut seen = HashSet::new();
        for (i, (plan, request)) in self.plans.iter().zip(self.plan_requests()).enumerate() {
            if !seen.insert(plan.plan_id.as_str()) {
                return Err(field_error(
                    &format!("plans[{i}].planId"),
                    &format!("lists plan {:?} a second time", plan.plan_id),
                ));
            }
            request
                .validate_plan()
                .map_err(|e| WorkflowError::new(e.name, format!("plans[{i}].{}", e.message)))?;
        }
        Ok(())
    }
}
