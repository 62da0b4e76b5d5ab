//! The long-running operations an offer goes through, as the workflow sees them.

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OperationKind {
    Publish,
    GoLive,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RunStatus {
    Running,
    /// For a publish: the preview is ready. For a go-live: live.
    Succeeded,
    Failed,
    Canceled,
    /// It did not happen because another submission came first: a publish is run again (it queues
    /// behind the other), a go-live publishes first (Product Ingestion's "not the latest").
    Superseded,
}

/// Where to read a long-running operation: a path or URL the API gave, and its id when known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationRef {
    pub location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// One operation of an offer, from the API's list of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activity {
    pub kind: OperationKind,
    pub at: OperationRef,
    /// Still running (or not yet started): it holds the offer.
    pub active: bool,
    /// Its ending, when the list tells it.
    pub status: Option<RunStatus>,
}

impl Activity {
    /// The id people see, for messages.
    pub fn label(&self) -> &str {
        self.at.id.as_deref().unwrap_or(self.at.location.as_str())
    }
}

/// How an operation stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperationReport {
    pub status: RunStatus,
    /// The step it is at, by name.
    pub step: Option<String>,
    pub progress_percentage: Option<u8>,
    /// How long the current step is expected to take, when the API says.
    pub estimate: Option<Duration>,
    /// What the steps after the current one are expected to take together (zero when none, or
    /// when the API gives no estimates of them).
    pub later: Duration,
    /// Microsoft's messages for people: plain text, SAS signatures removed.
    pub messages: Vec<String>,
}
