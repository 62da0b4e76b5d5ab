//! The one interface the workflow speaks to a Microsoft API through, whichever it is: the Cloud
//! Partner Portal (`crate::cpp`) or the Product Ingestion API (`crate::ingestion`). Its types name
//! what the workflow needs (a plan's versions, the operation a run waits on), never a wire document.

mod error;
mod operation;
mod plan;
mod version;

use std::future::Future;

pub use crate::config::Api;
pub use error::{ErrorKind, MarketError};
pub use operation::{Activity, OperationKind, OperationRef, OperationReport, RunStatus};
pub use plan::{
    Draft, ImageRecord, ImageSource, NewImage, NewSource, NewVersion, PlanChange, PlanDraft,
    PlanVersions, VersionRecord,
};
pub use version::{ImageVersion, VersionError};

/// An offer, by the ids a release engineer knows it by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OfferId {
    /// Empty on Product Ingestion, where the token's Partner Center account scopes the offer.
    pub publisher: String,
    pub offer: String,
}

impl std::fmt::Display for OfferId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.publisher.is_empty() {
            f.write_str(&self.offer)
        } else {
            write!(f, "{}/{}", self.publisher, self.offer)
        }
    }
}

/// Which copy of an offer to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The editable draft.
    Draft,
    /// What preview audiences see once a publish reached sign-off.
    Preview,
    /// What customers see.
    Live,
}

/// What the workflow needs of a Microsoft API. Futures are `Send` so a handler can run anywhere.
pub trait Marketplace: Sync {
    fn api(&self) -> Api;

    /// The drafts of `plans` of the offer, to add a version to. A missing offer or plan is
    /// `OfferNotFound` / `PlanNotFound`, an offer that is not a VM offer `InvalidOffer`.
    fn read_draft(
        &self,
        offer: &OfferId,
        plans: &[&str],
    ) -> impl Future<Output = Result<Draft, MarketError>> + Send;

    /// The plan's versions in `slot`, or `None` when nothing was ever published there.
    fn read_plan(
        &self,
        offer: &OfferId,
        plan: &str,
        slot: Slot,
    ) -> impl Future<Output = Result<Option<PlanVersions>, MarketError>> + Send;

    /// Writes `draft` back with every change applied, in one write (one PUT on CPP, one configure
    /// on Product Ingestion). `Changed` means the draft changed since it was read and nothing was
    /// written; `PreconditionFailed` that the write was refused as stale, or was applied and its
    /// answer lost: either way, read it again and decide again. Nothing else of the offer changes.
    fn write_draft(
        &self,
        offer: &OfferId,
        draft: Draft,
        changes: &[PlanChange],
    ) -> impl Future<Output = Result<(), MarketError>> + Send;

    /// The offer's operations, newest first; the active ones are what holds the offer.
    fn activity(
        &self,
        offer: &OfferId,
    ) -> impl Future<Output = Result<Vec<Activity>, MarketError>> + Send;

    /// Starts publishing the draft to preview. Never sent twice: `Busy` when another operation holds
    /// the offer.
    fn publish(
        &self,
        offer: &OfferId,
        notification_emails: &str,
    ) -> impl Future<Output = Result<OperationRef, MarketError>> + Send;

    /// Starts taking the preview live. `Busy` when another operation holds the offer, `Stale` when
    /// the preview is not the newest one (publish again rather than retry).
    fn go_live(
        &self,
        offer: &OfferId,
    ) -> impl Future<Output = Result<OperationRef, MarketError>> + Send;

    /// Asks Microsoft to cancel the operation; it reads `Canceled` once Microsoft has stopped it
    /// (at once, or minutes later). Nothing else of the offer changes.
    fn cancel(
        &self,
        offer: &OfferId,
        at: &OperationRef,
    ) -> impl Future<Output = Result<(), MarketError>> + Send;

    /// How the operation stands now.
    fn operation(
        &self,
        offer: &OfferId,
        at: &OperationRef,
        kind: OperationKind,
    ) -> impl Future<Output = Result<OperationReport, MarketError>> + Send;
}
