//! The Cloud Partner Portal REST API: client, documents and errors.

mod client;
mod endpoints;
pub mod error;
pub mod offer;
pub mod operation;
mod token;

pub use client::{ClientOptions, CppClient};
pub use endpoints::{CancelOutcome, OfferView, OperationRef};
pub use error::{CppError, ErrorKind};
pub use offer::{ETag, ImageVersion, Offer, OfferError, Plan, PlanImage, PlanMut, VM_IMAGES_KEY};
pub use operation::{
    OfferStatus, OfferSummary, Operation, OperationStatus, Publisher, Step, StepMessage,
    StepStatus, Submission,
};
pub use token::CPP_RESOURCE;
