//! The workflow contract shared by the functions and the state machine: the publish request, the
//! state passed between steps, the error names, and the domain rules each step applies.

pub mod decisions;
pub mod error;
pub mod executions;
pub mod images;
pub mod polling;
pub mod queue;
pub mod release;
pub mod request;
pub mod state;
pub mod versions;

pub use decisions::{PlanDecision, changes, decide_plans};
pub use error::{ErrorName, WorkflowError};
pub use executions::{go_live_execution_name, go_live_input, readable_name};
pub use images::{IMAGE_TYPES, ManifestImage, SharedImage};
pub use queue::QueueState;
pub use release::{MAX_TARGETS, Manifest, Release};
pub use request::{GoLiveMode, MANIFEST_FIELDS, ManifestRules, PlanTarget, PublishRequest};
pub use state::{
    Action, GoLiveOutcome, OperationKind, OperationState, PlanChanged, RunStatus, WorkflowState,
};
pub use versions::{Decision, decide, holds, new_version, retention};
