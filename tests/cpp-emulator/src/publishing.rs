//! Starting operations: publish, go-live and cancel, with CPP's one-running-operation rule.

use axum::http::StatusCode;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::config::EmulatorConfig;
use crate::error::ApiError;
use crate::offers::{Offer, Snapshot};
use crate::operations::{OpKind, Operation};

const VM_IMAGES: &str = "microsoft-azure-virtualmachines.vmImages";
const COREVM_IMAGES: &str = "microsoft-azure-corevm.vmImagesPublicAzure";

/// Result of asking for an operation: a new one, or the one already doing the same thing.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Started {
    New(usize),
    Existing(usize),
}

impl Started {
    pub(crate) fn index(self) -> usize {
        match self {
            Self::New(i) | Self::Existing(i) => i,
        }
    }
}

fn plan_has_image(plan: &Value) -> bool {
    [VM_IMAGES, COREVM_IMAGES].iter().any(|key| {
        plan.get(*key)
            .and_then(Value::as_object)
            .is_some_and(|images| !images.is_empty())
    })
}

/// 422 when the draft cannot be published (the docs' "failed validation").
fn check_publishable(doc: &Value) -> Result<(), ApiError> {
    let unprocessable = |message: String| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "UnprocessableEntity",
            message,
        )
    };
    let plans = doc
        .pointer("/definition/plans")
        .and_then(Value::as_array)
        .filter(|plans| !plans.is_empty())
        .ok_or_else(|| unprocessable("The offer has no plans to publish.".to_owned()))?;
    for plan in plans {
        if !plan_has_image(plan) {
            let plan_id = plan.get("planId").and_then(Value::as_str).unwrap_or("");
            return Err(unprocessable(format!(
                "No virtual machine image was found for the plan {plan_id}."
            )));
        }
    }
    Ok(())
}

impl Offer {
    /// POST .../publish: validates, re-uses a running publish of the same draft, or starts one.
    pub(crate) fn publish(
        &mut self,
        emails: String,
        now: OffsetDateTime,
        ticks: i64,
        cfg: &EmulatorConfig,
    ) -> Result<Started, ApiError> {
        check_publishable(&self.doc)?;
        if self.running_index(now, cfg).is_some() {
            let same_draft = self.ops.iter().rposition(|op| {
                op.kind == OpKind::Publish
                    && op.draft_etag == self.etag
                    && op.view(now, cfg).running
            });
            return same_draft.map(Started::Existing).ok_or_else(|| {
                ApiError::conflict(
                    "An operation is already in progress for this offer. Wait for it to finish or cancel it before publishing a changed draft.",
                )
            });
        }

        let snapshot = Snapshot {
            doc: self.doc.clone(),
            version: self.version,
            changed: self.changed,
        };
        self.versions.insert(self.version, snapshot.clone());
        let failure = self.take_pending_failure(OpKind::Publish);
        let op = Operation {
            id: Uuid::new_v4(),
            kind: OpKind::Publish,
            created: now,
            publish_started: now,
            ticks,
            publishing_version: self.version + 1,
            offer_version: self.version,
            emails,
            snapshot,
            draft_etag: self.etag.clone(),
            failure,
            cancel_requested: None,
            golive: None,
            parent: None,
            slot_applied: false,
        };
        self.version += 1;
        self.ops.push(op);
        Ok(Started::New(self.ops.len() - 1))
    }

    /// POST .../golive: only from a publish waiting at sign-off; a running go-live is returned again.
    pub(crate) fn go_live(
        &mut self,
        now: OffsetDateTime,
        ticks: i64,
        cfg: &EmulatorConfig,
    ) -> Result<Started, ApiError> {
        if let Some(i) = self
            .ops
            .iter()
            .rposition(|op| op.kind == OpKind::GoLive && op.view(now, cfg).running)
        {
            return Ok(Started::Existing(i));
        }
        let parent = self
            .ops
            .iter()
            .rev()
            .find(|op| op.kind == OpKind::Publish)
            .filter(|op| op.view(now, cfg).waiting_at_signoff)
            .ok_or_else(|| {
                ApiError::conflict(
                    "The offer is not waiting for publisher signoff. Publish it and wait for the preview before going live.",
                )
            })?;
        let mut op = Operation {
            id: Uuid::new_v4(),
            kind: OpKind::GoLive,
            created: now,
            publish_started: parent.publish_started,
            ticks,
            publishing_version: parent.publishing_version,
            offer_version: parent.offer_version,
            emails: parent.emails.clone(),
            snapshot: parent.snapshot.clone(),
            draft_etag: parent.draft_etag.clone(),
            failure: None,
            cancel_requested: None,
            golive: None,
            parent: Some(parent.id),
            slot_applied: false,
        };
        op.failure = self.take_pending_failure(OpKind::GoLive);
        self.ops.push(op);
        Ok(Started::New(self.ops.len() - 1))
    }

    /// POST .../cancel: asks the newest running operation to stop; None when nothing runs.
    pub(crate) fn cancel(&mut self, now: OffsetDateTime, cfg: &EmulatorConfig) -> Option<usize> {
        let index = self.running_index(now, cfg)?;
        let op = &mut self.ops[index];
        op.cancel_requested.get_or_insert(now);
        Some(index)
    }
}
