//! The Cloud Partner Portal REST API: client, documents and errors, and its adapter to the
//! workflow's interface (`market`).

mod client;
mod endpoints;
pub mod market;
pub mod offer;
pub mod operation;
pub mod progress;

pub use crate::http::{ApiError, ClientOptions, ErrorKind};
pub use client::{CPP_RESOURCE, CppClient};
pub use endpoints::{CancelOutcome, OfferView, operation_at, operation_for_submission};
pub use offer::{ETag, ImageVersion, Offer, OfferError, Plan, PlanImage, PlanMut, VM_IMAGES_KEY};
pub use operation::{
    OfferStatus, OfferSummary, Operation, OperationStatus, Publisher, Step, StepMessage,
    StepStatus, Submission,
};
