//! The workflow contract shared by the functions and the state machine: the publish request, the
//! state passed between steps, the error names, and the domain rules each step applies.

pub mod error;
pub mod image_update;
pub mod polling;
pub mod queue;
pub mod request;
pub mod state;

pub use error::{ErrorName, WorkflowError};
pub use image_update::{ImageChange, add_image, holds_image};
pub use queue::QueueState;
pub use request::{GoLiveMode, MANIFEST_FIELDS, ManifestRules, PublishRequest};
pub use state::{Action, GoLiveOutcome, OperationKind, OperationState, RunStatus, WorkflowState};
