//! The workflow state passed between the state machine's steps (docs/architecture.md, *The workflow state*): ids and statuses,
//! never offer documents. Fields are added over time, never renamed; unknown ones pass through.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::marketplace::OperationRef;
pub use crate::marketplace::{OperationKind, RunStatus};
use crate::workflow::error::WorkflowError;
use crate::workflow::queue::QueueState;
use crate::workflow::request::{PublishRequest, decode};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    Publish,
    GoLive,
}

/// The long-running operation the run is waiting on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationState {
    pub kind: OperationKind,
    #[serde(flatten)]
    pub at: OperationRef,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum GoLiveOutcome {
    GoLiveStarted,
    /// The preview does not hold the version: it must be published first.
    VersionMissing,
}

/// What a run's write did to one plan of several.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanChanged {
    pub plan_id: String,
    /// The version was added by this write (else the plan already held it).
    pub added: bool,
    /// Versions the write removed (CPP) or deprecated (Product Ingestion) in this plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowState {
    #[serde(flatten)]
    pub request: PublishRequest,
    /// The request's plans for people (`gen1, gen2`), which notices and causes name; written by
    /// every step, never read.
    #[serde(default)]
    pub plan_ids: String,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<OperationState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_status: Option<RunStatus>,
    /// The operation's current step, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_percentage: Option<u8>,
    /// When the current step was first seen running (RFC 3339), to tell how long it has taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_seen_at: Option<String>,
    /// Microsoft's messages, HTML stripped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_check_seconds: Option<u64>,
    /// When the running operation is expected to end (RFC 3339), from Microsoft's step estimates
    /// (typical durations on Product Ingestion): for people, never for a decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_end_at: Option<String>,
    #[serde(default)]
    pub poll_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<GoLiveOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evicted_versions: Vec<String>,
    /// Versions deprecated to keep `INGESTION_KEEP_ACTIVE_VERSIONS` (Product Ingestion never deletes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deprecated_versions: Vec<String>,
    /// Per plan, when the request has several: what the write did to each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan_changes: Vec<PlanChanged>,
    /// How often another submission came first (`superseded`); a run goes round a few times only.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub superseded: u32,
    /// The operation that was already running when this run wrote its version (another run's
    /// publish started between this run's look and its write): it cannot hold the version, so it is
    /// waited for, never followed as this run's publish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrote_during: Option<String>,
    /// Present while the run waits for another operation on the offer to end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueState>,
    /// Fields this version does not know (added by the state machine or a later version).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// How many times a run may find another submission came first before it gives up as `OfferBusy`.
pub const MAX_SUPERSEDED: u32 = 3;

impl WorkflowState {
    /// The state a fresh execution starts with.
    pub fn start(request: PublishRequest, action: Action) -> Self {
        Self {
            plan_ids: request.plan_label(),
            request,
            action,
            operation: None,
            operation_status: None,
            step: None,
            progress_percentage: None,
            step_seen_at: None,
            messages: Vec::new(),
            next_check_seconds: None,
            expected_end_at: None,
            poll_count: 0,
            outcome: None,
            changed: None,
            evicted_versions: Vec::new(),
            deprecated_versions: Vec::new(),
            plan_changes: Vec::new(),
            wrote_during: None,
            superseded: 0,
            queue: None,
            extra: Map::new(),
        }
    }

    /// Reads the state a function was invoked with; a field of the wrong type is named.
    pub fn from_value(value: Value) -> Result<Self, WorkflowError> {
        // serde would read an array as the request's fields in order and name the wrong problem.
        if !value.is_object() {
            return Err(WorkflowError::invalid_input(
                "workflow state must be a JSON object",
            ));
        }
        // Flattened fields lose their path in errors, so the request part is read on its own first.
        decode::<PublishRequest>("workflow state", value.clone())?;
        let mut state: Self = decode("workflow state", value)?;
        state.request.validate()?;
        state.plan_ids = state.request.plan_label();
        Ok(state)
    }

    /// Forgets what was learned about the previous operation, for a new one.
    pub fn begin_operation(&mut self, operation: OperationState) {
        self.operation = Some(operation);
        self.operation_status = Some(RunStatus::Running);
        self.step = None;
        self.progress_percentage = None;
        self.step_seen_at = None;
        self.messages.clear();
        self.next_check_seconds = None;
        self.expected_end_at = None;
        self.poll_count = 0;
        self.queue = None;
        self.wrote_during = None;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn state_json() -> Value {
        json!({"publisherId": "contoso", "offerId": "contoso-linux", "planId": "gen2", "version": "1.4.0",
               "osVhdUrl": "https://a.blob.core.windows.net/v/os.vhd?sp=rl&sig=x", "action": "publish",
               "operation": {"kind": "publish", "location": "/api/x/operations/op-1", "id": "op-1"},
               "operationStatus": "running", "pollCount": 3, "notifyResult": {"MessageId": "m"}})
    }

    #[test]
    fn state_round_trips_and_keeps_unknown_fields() {
        let state = WorkflowState::from_value(state_json()).unwrap();
        assert_eq!(
            state.operation.as_ref().unwrap().at.id.as_deref(),
            Some("op-1")
        );
        assert_eq!(state.extra.keys().collect::<Vec<_>>(), ["notifyResult"]);
        let back = serde_json::to_value(&state).unwrap();
        for key in [
            "offerId",
            "action",
            "operation",
            "operationStatus",
            "pollCount",
            "notifyResult",
        ] {
            assert_eq!(back[key], state_json()[key], "{key}");
        }
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named() {
        let mut value = state_json();
        value["pollCount"] = json!("three");
        let err = WorkflowState::from_value(value).unwrap_err();
        assert_eq!(err.name, crate::workflow::ErrorName::InvalidInput);
        assert!(err.message.contains("pollCount"), "{err}");
        let err = WorkflowState::from_value(json!(["contoso", "contoso-linux"])).unwrap_err();
        assert_eq!(err.message, "workflow state must be a JSON object");
        let mut value = state_json();
        value["action"] = json!("delete");
        assert!(
            WorkflowState::from_value(value)
                .unwrap_err()
                .message
                .contains("action")
        );
    }

    #[test]
    fn a_new_operation_resets_what_was_learned() {
        let mut state = WorkflowState::from_value(state_json()).unwrap();
        state.messages.push("old".into());
        let at = crate::cpp::operation_at("/api/publishers/p/offers/o/operations/op-2");
        state.begin_operation(OperationState {
            kind: OperationKind::GoLive,
            at,
        });
        assert_eq!((state.poll_count, state.messages.len()), (0, 0));
        assert_eq!(state.operation_status, Some(RunStatus::Running));
    }
}
