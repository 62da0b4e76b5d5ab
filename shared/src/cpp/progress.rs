//! Reading a CPP operation the way the workflow needs it: is it done, how did it end, what step it
//! is at and how long that step is expected to take.

use std::time::Duration;

use crate::cpp::{Operation, OperationStatus, StepMessage, StepStatus};
use crate::html::strip_html;
use crate::marketplace::{OperationKind, RunStatus};
use crate::redact::redact_sas;

/// Classifies an operation: for a publish, success is the preview being ready (the operation
/// succeeded, or its publisher sign-off step waits for the publisher); for a go-live, being live.
/// A step blocked or rejected with an error message is a failure, as the docs describe it.
pub fn classify(kind: OperationKind, operation: &Operation) -> RunStatus {
    match &operation.status {
        OperationStatus::Succeeded => return RunStatus::Succeeded,
        OperationStatus::Failed => return RunStatus::Failed,
        OperationStatus::Canceled => return RunStatus::Canceled,
        OperationStatus::NotStarted | OperationStatus::Running | OperationStatus::Unknown(_) => {}
    }
    let stopped = operation.steps.iter().any(|s| {
        matches!(
            s.status,
            StepStatus::Blocked | StepStatus::Rejected | StepStatus::Failed
        ) && s.messages.iter().any(|m| m.is_error())
    });
    if stopped
        || operation
            .steps
            .iter()
            .any(|s| s.status == StepStatus::Failed)
    {
        return RunStatus::Failed;
    }
    if operation
        .steps
        .iter()
        .any(|s| s.status == StepStatus::Canceled)
        && operation.current_step().is_none()
    {
        return RunStatus::Canceled;
    }
    if kind == OperationKind::Publish && operation.awaits_publisher_signoff() {
        return RunStatus::Succeeded;
    }
    RunStatus::Running
}

/// Microsoft's messages worth showing a person: error-level ones, else those of the current step.
/// The same text at operation and step level is shown once. They go to the workflow state and the
/// notifications, so a SAS URL they quote loses its signature.
pub fn messages_for_people(operation: &Operation) -> Vec<String> {
    let errors: Vec<&StepMessage> = operation.error_messages().collect();
    let chosen = if errors.is_empty() {
        operation
            .current_step()
            .map(|s| s.messages.iter().collect())
            .unwrap_or_default()
    } else {
        errors
    };
    let mut texts: Vec<String> = Vec::with_capacity(chosen.len());
    for text in chosen
        .into_iter()
        .map(|m| redact_sas(&strip_html(&m.html)).into_owned())
    {
        if !text.is_empty() && !texts.contains(&text) {
            texts.push(text);
        }
    }
    texts
}

/// What the steps after the current one are expected to take: the sum of their estimates (a step
/// without one counts nothing). A publish ends at publisher sign-off: the steps from there on are
/// the go-live's.
pub fn later_steps(kind: OperationKind, operation: &Operation) -> Duration {
    let Some(current) = operation.current_step_index() else {
        return Duration::ZERO;
    };
    operation.steps[current + 1..]
        .iter()
        .take_while(|s| kind == OperationKind::GoLive || !s.is_publisher_signoff())
        .filter(|s| s.status == StepStatus::NotStarted)
        .filter_map(|s| s.estimated_time_frame.as_deref().and_then(parse_time_frame))
        .sum()
}

/// Reads an `estimatedTimeFrame` ("< 15 min", "~2-3 days", "< 5 day", "< 1 hour") as its upper bound.
pub fn parse_time_frame(text: &str) -> Option<Duration> {
    let lower = text.to_ascii_lowercase();
    let unit_at = lower.find(|c: char| c.is_ascii_alphabetic())?;
    let (numbers, unit) = lower.split_at(unit_at);
    let unit_seconds: u64 = match unit.trim() {
        u if u.starts_with("min") => 60,
        u if u.starts_with("hour") || u.starts_with("hr") || u == "h" => 3_600,
        u if u.starts_with("day") || u == "d" => 86_400,
        u if u.starts_with("week") => 604_800,
        _ => return None,
    };
    let upper = numbers
        .split(|c: char| !c.is_ascii_digit() && c != '.')
        .filter_map(|n| n.parse::<f64>().ok())
        .fold(None, |max: Option<f64>, n| {
            Some(max.map_or(n, |m| m.max(n)))
        })?;
    // An absurd estimate ("99999999999999999999 days") is a very long one, not a reason to panic.
    (upper > 0.0)
        .then(|| Duration::try_from_secs_f64(upper * unit_seconds as f64).unwrap_or(Duration::MAX))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn op(value: serde_json::Value) -> Operation {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn later_steps_add_up_the_estimates_of_the_steps_not_started_until_the_operation_s_end() {
        let operation = op(json!({"status": "running", "steps": [
            {"stepName": "validation", "status": "complete", "estimatedTimeFrame": "< 15 min"},
            {"stepName": "certification", "status": "inProgress", "estimatedTimeFrame": "< 5 day"},
            {"stepName": "provision", "status": "notStarted", "estimatedTimeFrame": "< 2 hours"},
            {"stepName": "package", "status": "notStarted"},
            {"id": "publisher-signoff", "stepName": "publisher-signoff", "status": "notStarted"},
            {"id": "live", "stepName": "live", "status": "notStarted", "estimatedTimeFrame": "< 1 day"}
        ]}));
        // A publish ends at sign-off; a go-live's steps run to live.
        assert_eq!(
            later_steps(OperationKind::Publish, &operation),
            Duration::from_secs(2 * 3_600)
        );
        assert_eq!(
            later_steps(OperationKind::GoLive, &operation),
            Duration::from_secs(26 * 3_600)
        );
        let done = op(json!({"status": "succeeded", "steps": [
            {"stepName": "validation", "status": "complete", "estimatedTimeFrame": "< 15 min"}
        ]}));
        assert_eq!(later_steps(OperationKind::Publish, &done), Duration::ZERO);
    }

    #[test]
    fn time_frames_read_as_their_upper_bound() {
        let cases = [
            ("< 15 min", 900),
            ("~2-3 days", 259_200),
            ("< 1 day", 86_400),
            ("< 5 day", 432_000),
            ("< 1 hour", 3_600),
            ("~2-5 days", 432_000),
            ("1.5 hours", 5_400),
        ];
        for (text, seconds) in cases {
            assert_eq!(
                parse_time_frame(text),
                Some(Duration::from_secs(seconds)),
                "{text}"
            );
        }
        for text in ["", "soon", "< 0 min", "3 fortnights", "days"] {
            assert_eq!(parse_time_frame(text), None, "{text}");
        }
        let absurd = format!("< {} days", "9".repeat(400));
        for text in ["99999999999999999999 days", absurd.as_str()] {
            assert_eq!(parse_time_frame(text), Some(Duration::MAX), "{text}");
        }
    }

    #[test]
    fn a_publish_succeeds_at_signoff_and_a_go_live_only_when_done() {
        let waiting = op(json!({"status": "running", "steps": [
            {"id": "displaycertify", "status": "complete"},
            {"id": "publisher-signoff", "status": "waitingForPublisherReview"}]}));
        assert_eq!(
            classify(OperationKind::Publish, &waiting),
            RunStatus::Succeeded
        );
        assert_eq!(
            classify(OperationKind::GoLive, &waiting),
            RunStatus::Running
        );
        for done in ["complete", "completed", "Succeeded"] {
            assert_eq!(
                classify(OperationKind::GoLive, &op(json!({"status": done}))),
                RunStatus::Succeeded,
                "{done}"
            );
        }
        assert_eq!(
            classify(
                OperationKind::Publish,
                &op(json!({"status": "whatever-new"}))
            ),
            RunStatus::Running
        );
    }

    #[test]
    fn failures_and_cancellations_are_recognised() {
        assert_eq!(
            classify(OperationKind::Publish, &op(json!({"status": "failed"}))),
            RunStatus::Failed
        );
        assert_eq!(
            classify(OperationKind::Publish, &op(json!({"status": "cancelled"}))),
            RunStatus::Canceled
        );
        let blocked = op(
            json!({"status": "running", "steps": [{"id": "displaycertify", "status": "blocked",
            "messages": [{"messageHtml": "<b>No</b> image found &amp; more", "level": "error"}]}]}),
        );
        assert_eq!(
            classify(OperationKind::Publish, &blocked),
            RunStatus::Failed
        );
        assert_eq!(messages_for_people(&blocked), ["No image found & more"]);
        let quoting = op(json!({"status": "failed", "messages": [{"level": "error",
            "messageHtml": "<p>Cannot copy <a href=\"https://a.blob.core.windows.net/v/os.vhd?sp=rl&amp;sig=S3CRET\">the VHD</a>: https://a.blob.core.windows.net/v/os.vhd?sp=rl&amp;sig=S3CRET</p>"}]}));
        let shown = messages_for_people(&quoting).join(" ");
        assert!(
            !shown.contains("S3CRET") && shown.contains("sig=REDACTED"),
            "{shown}"
        );
        let blocked_without_error =
            op(json!({"status": "running", "steps": [{"status": "blocked", "messages": []}]}));
        assert_eq!(
            classify(OperationKind::Publish, &blocked_without_error),
            RunStatus::Running
        );
    }
}
