//! Operations, submissions and offer status, read leniently: the docs and the clients disagree on
//! status spellings and sample shapes, so unknown values are kept rather than refused.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// The overall state of an operation or submission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OperationStatus {
    NotStarted,
    Running,
    Succeeded,
    Failed,
    Canceled,
    /// A value no document names; treated as still running.
    Unknown(String),
}

impl OperationStatus {
    pub fn parse(raw: &str) -> Self {
        match normalize(raw).as_str() {
            "notstarted" => Self::NotStarted,
            "running" | "inprogress" => Self::Running,
            "complete" | "completed" | "succeeded" | "success" => Self::Succeeded,
            "failed" | "rejected" => Self::Failed,
            "canceled" | "cancelled" => Self::Canceled,
            _ => Self::Unknown(raw.to_owned()),
        }
    }

    /// Still going (not started and unknown count as going).
    pub fn is_active(&self) -> bool {
        matches!(self, Self::NotStarted | Self::Running | Self::Unknown(_))
    }
}

/// The state of one publishing step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum StepStatus {
    NotStarted,
    InProgress,
    WaitingForPublisherReview,
    WaitingForApproval,
    Blocked,
    Rejected,
    Complete,
    Canceled,
    Failed,
    Unknown(String),
}

impl StepStatus {
    pub fn parse(raw: &str) -> Self {
        match normalize(raw).as_str() {
            "notstarted" => Self::NotStarted,
            "inprogress" | "running" => Self::InProgress,
            "waitingforpublisherreview" => Self::WaitingForPublisherReview,
            "waitingforapproval" => Self::WaitingForApproval,
            "blocked" => Self::Blocked,
            "rejected" => Self::Rejected,
            "complete" | "completed" | "succeeded" => Self::Complete,
            "canceled" | "cancelled" => Self::Canceled,
            "failed" => Self::Failed,
            _ => Self::Unknown(raw.to_owned()),
        }
    }
}

/// Case, spaces, `-` and `_` do not matter: `Not Started`, `notStarted` and `not_started` agree.
fn normalize(raw: &str) -> String {
    raw.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

impl<'de> Deserialize<'de> for OperationStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(d)?))
    }
}

impl<'de> Deserialize<'de> for StepStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(d)?))
    }
}

/// A step message: an object with HTML text in the samples, a bare string in the property table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepMessage {
    pub html: String,
    pub level: Option<String>,
    pub timestamp: Option<String>,
}

impl StepMessage {
    pub fn is_error(&self) -> bool {
        self.level
            .as_deref()
            .is_some_and(|l| l.eq_ignore_ascii_case("error"))
    }
}

impl<'de> Deserialize<'de> for StepMessage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Text(String),
            Object {
                #[serde(rename = "messageHtml", alias = "message", default)]
                html: String,
                #[serde(default)]
                level: Option<String>,
                #[serde(default)]
                timestamp: Option<String>,
            },
        }
        Ok(match Wire::deserialize(d)? {
            Wire::Text(html) => Self {
                html,
                level: None,
                timestamp: None,
            },
            Wire::Object {
                html,
                level,
                timestamp,
            } => Self {
                html,
                level,
                timestamp,
            },
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub step_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// "< 15 min", "~2-3 days"; absent on the publisher sign-off step.
    #[serde(default)]
    pub estimated_time_frame: Option<String>,
    pub status: StepStatus,
    #[serde(default)]
    pub messages: Vec<StepMessage>,
    #[serde(default, alias = "processPercentage", deserialize_with = "percentage")]
    pub progress_percentage: Option<u8>,
}

impl Step {
    /// The publisher sign-off step, matched on its id or its name as both spellings occur.
    pub fn is_publisher_signoff(&self) -> bool {
        let named = |v: &Option<String>| {
            v.as_deref()
                .is_some_and(|s| normalize(s) == "publishersignoff")
        };
        named(&self.id) || named(&self.step_name)
    }

    /// A name for people: the step name, else its id.
    pub fn label(&self) -> &str {
        self.step_name
            .as_deref()
            .or(self.id.as_deref())
            .unwrap_or("unnamed step")
    }
}

/// Accepts integers, floats and numeric strings, clamped to 0..=100.
fn percentage<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u8>, D::Error> {
    let value = Option::<Value>::deserialize(d)?;
    let number = match &value {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().trim_end_matches('%').parse::<f64>().ok(),
        _ => None,
    };
    Ok(number.map(|n| n.clamp(0.0, 100.0).round() as u8))
}

/// One operation, from `GET .../operations/{id}` or the URL in a `Location` header.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub submission_type: Option<String>,
    pub status: OperationStatus,
    #[serde(default)]
    pub messages: Vec<StepMessage>,
    #[serde(default)]
    pub steps: Vec<Step>,
    #[serde(default)]
    pub publishing_version: Option<i64>,
    #[serde(default)]
    pub offer_version: Option<i64>,
    #[serde(default)]
    pub cancellation_request_state: Option<String>,
    #[serde(default)]
    pub notification_emails: Option<String>,
    #[serde(default)]
    pub created_date_time: Option<String>,
    #[serde(default)]
    pub last_action_date_time: Option<String>,
    #[serde(default)]
    pub error: Option<Value>,
}

impl Operation {
    /// The step being worked on: the first one blocked, waiting or in progress, else the first not started.
    pub fn current_step(&self) -> Option<&Step> {
        self.current_step_index().map(|i| &self.steps[i])
    }

    /// Where `current_step` is in `steps`.
    pub fn current_step_index(&self) -> Option<usize> {
        self.steps
            .iter()
            .position(|s| {
                matches!(
                    s.status,
                    StepStatus::InProgress
                        | StepStatus::Blocked
                        | StepStatus::Rejected
                        | StepStatus::Failed
                        | StepStatus::WaitingForApproval
                        | StepStatus::WaitingForPublisherReview
                        | StepStatus::Unknown(_)
                )
            })
            .or_else(|| {
                self.steps
                    .iter()
                    .position(|s| s.status == StepStatus::NotStarted)
            })
    }

    /// The preview is ready and waits for the publisher to go live.
    pub fn awaits_publisher_signoff(&self) -> bool {
        self.steps
            .iter()
            .any(|s| s.is_publisher_signoff() && s.status == StepStatus::WaitingForPublisherReview)
    }

    /// Error-level messages of the operation and its steps, in order.
    pub fn error_messages(&self) -> impl Iterator<Item = &StepMessage> {
        self.messages
            .iter()
            .chain(self.steps.iter().flat_map(|s| s.messages.iter()))
            .filter(|m| m.is_error())
    }
}

/// One entry of `GET .../submissions/`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Submission {
    pub id: String,
    #[serde(default)]
    pub offer_id: Option<String>,
    #[serde(default)]
    pub submission_type: Option<String>,
    pub submission_state: OperationStatus,
    /// `staging` for a publish (preview), `production` for a go-live.
    #[serde(default)]
    pub slot: Option<String>,
    #[serde(default)]
    pub publishing_version: Option<i64>,
    #[serde(default)]
    pub changed_time: Option<String>,
}

impl Submission {
    pub fn is_go_live(&self) -> bool {
        let kind = self.submission_type.as_deref().map(normalize);
        kind.as_deref() == Some("golive")
            || self
                .slot
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("production"))
    }
}

/// `GET .../status`: the offer's current publishing state.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferStatus {
    pub status: String,
    #[serde(default)]
    pub messages: Vec<StepMessage>,
    #[serde(default)]
    pub steps: Vec<Step>,
    #[serde(default)]
    pub notification_emails: Option<String>,
}

/// `GET /api/publishers` (undocumented, but used by clients).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Publisher {
    pub id: String,
    #[serde(default)]
    pub definition: Option<Value>,
}

/// `GET /api/publishers/{p}/offers`: summaries only.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferSummary {
    pub id: String,
    #[serde(default)]
    pub offer_type_id: Option<String>,
    #[serde(default)]
    pub publisher_id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub version: Option<i64>,
    #[serde(default)]
    pub changed_time: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn statuses_parse_leniently_and_keep_unknown_values() {
        for s in ["complete", "Completed", "SUCCEEDED"] {
            assert_eq!(OperationStatus::parse(s), OperationStatus::Succeeded, "{s}");
        }
        assert_eq!(
            OperationStatus::parse("not started"),
            OperationStatus::NotStarted
        );
        assert_eq!(
            OperationStatus::parse("Cancelled"),
            OperationStatus::Canceled
        );
        assert_eq!(OperationStatus::parse("rejected"), OperationStatus::Failed);
        let odd = OperationStatus::parse("publishing");
        assert_eq!(odd, OperationStatus::Unknown("publishing".into()));
        assert!(odd.is_active());
        assert_eq!(
            StepStatus::parse("WaitingForPublisherReview"),
            StepStatus::WaitingForPublisherReview
        );
        assert_eq!(StepStatus::parse("in_progress"), StepStatus::InProgress);
    }

    #[test]
    fn the_documented_operation_sample_reads() {
        let op: Operation = serde_json::from_value(json!({
            "status": "running", "messages": [], "publishingVersion": 2, "offerVersion": 1,
            "cancellationRequestState": "canCancel",
            "steps": [
                {"estimatedTimeFrame": "< 15 min", "id": "displaydummycertify", "stepName": "Validate Pre-Requisites",
                 "status": "complete", "progressPercentage": 100,
                 "messages": [{"messageHtml": "Step completed.", "level": "information", "timestamp": "2017-03-28T19:50:36.500052Z"}]},
                {"estimatedTimeFrame": "< 5 day", "id": "displaycertify", "stepName": "Certification", "status": "blocked",
                 "messages": [{"messageHtml": "No virtual machine image was found for the plan contoso.", "level": "error"}],
                 "progressPercentage": 0},
                {"id": "publisher-signoff", "stepName": "Publisher signoff", "status": "notStarted", "messages": []}
            ]
        }))
        .unwrap();
        assert_eq!(op.status, OperationStatus::Running);
        assert_eq!(op.current_step().unwrap().label(), "Certification");
        assert_eq!(op.steps[2].estimated_time_frame, None);
        let errors: Vec<&str> = op.error_messages().map(|m| m.html.as_str()).collect();
        assert_eq!(
            errors,
            ["No virtual machine image was found for the plan contoso."]
        );
        assert!(!op.awaits_publisher_signoff());
    }

    #[test]
    fn signoff_is_found_by_id_or_name_and_odd_shapes_are_tolerated() {
        let op: Operation = serde_json::from_value(json!({
            "status": "Running",
            "steps": [{"stepName": "Publisher signoff", "status": "waitingForPublisherReview",
                       "messages": ["plain text message"], "processPercentage": "42.6"}]
        }))
        .unwrap();
        assert!(op.awaits_publisher_signoff());
        assert_eq!(op.steps[0].progress_percentage, Some(43));
        assert_eq!(op.steps[0].messages[0].html, "plain text message");
    }

    #[test]
    fn submissions_tell_go_live_from_publish() {
        let list: Vec<Submission> = serde_json::from_value(json!([
            {"id": "1", "submissionType": "publish", "submissionState": "running", "slot": "staging"},
            {"id": "2", "submissionType": "GoLive", "submissionState": "completed"},
            {"id": "3", "submissionState": "canceled", "slot": "production"}
        ]))
        .unwrap();
        assert_eq!(
            list.iter().map(Submission::is_go_live).collect::<Vec<_>>(),
            [false, true, true]
        );
        assert_eq!(list[1].submission_state, OperationStatus::Succeeded);
    }
}
