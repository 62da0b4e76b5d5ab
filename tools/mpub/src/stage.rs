//! Where a publication stands, in the words of the workflow: queued behind another operation,
//! publishing (Microsoft's step and progress), at preview waiting for go-live, going live, live,
//! or failed with its error.

use serde::Serialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use shared::redact::redact_sas;
use shared::workflow::executions::sanitize;
use shared::workflow::go_live_execution_name;

use crate::error::CliError;
use crate::publication::{Publication, text};
use crate::stepfunctions::StepFunctions;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Stage {
    /// Another operation holds the offer; the run waits for it.
    Queued,
    /// Adding the version to the draft and starting the publish.
    Updating,
    /// Microsoft validates and certifies the draft on its way to preview.
    Publishing,
    /// In preview; a person takes it live (`mpub go-live`).
    AtPreview,
    GoingLive,
    Live,
    Failed,
    /// Stopped by hand (`StopExecution`, `mpub cancel`).
    Stopped,
    /// Past the state machine's time limit.
    TimedOut,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Updating => "updating offer",
            Self::Publishing => "publishing",
            Self::AtPreview => "preview, waiting for go-live",
            Self::GoingLive => "going live",
            Self::Live => "live",
            Self::Failed => "failed",
            Self::Stopped => "stopped",
            Self::TimedOut => "timed out",
        }
    }
}

/// One line of `mpub status`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusLine {
    pub offer_id: String,
    pub plan_id: String,
    pub version: String,
    pub api: String,
    pub action: String,
    pub stage: Stage,
    /// The step and its progress, what the queue waits for, or the error and Microsoft's message.
    pub detail: Option<String>,
    pub started_at: String,
    pub next_check_at: Option<String>,
    pub expected_end_at: Option<String>,
    pub execution_arn: String,
    pub execution_status: String,
}

/// The newest `limit` publications (of `offer`, when given), each publication that went live by a
/// go-live execution shown with that go-live's stage.
pub async fn status(
    sfn: &StepFunctions,
    offer: Option<&str>,
    limit: usize,
) -> Result<Vec<StatusLine>, CliError> {
    // Names begin with the offer (a go-live's with `golive_` first); the input confirms it.
    let prefix = offer.map(|o| format!("{}_", sanitize(o)));
    let named = |name: &str| {
        prefix.as_deref().is_none_or(|p| {
            name.starts_with(p)
                || name
                    .strip_prefix("golive_")
                    .is_some_and(|n| n.starts_with(p))
        })
    };
    let mut lines = Vec::new();
    for arn in sfn.recent(limit, named).await? {
        let publication = sfn.publication(&arn).await?;
        if offer.is_some_and(|o| o != publication.offer_id()) {
            continue;
        }
        let mut line = status_line(&publication);
        if line.stage == Stage::AtPreview && publication.action() == "publish" {
            let go_live = publication.sibling_arn(&go_live_execution_name(&publication.name));
            if let Some(went) = sfn.find(&go_live).await? {
                line.stage = stage(&went);
                line.detail = Some(format!("by {}", went.name));
            }
        }
        lines.push(line);
    }
    Ok(lines)
}

pub fn stage(publication: &Publication) -> Stage {
    match publication.status.as_str() {
        "SUCCEEDED" => match publication
            .output
            .as_ref()
            .and_then(|o| text(o, &["notice", "event"]))
        {
            Some("live") => Stage::Live,
            _ => Stage::AtPreview,
        },
        "FAILED" => Stage::Failed,
        "ABORTED" => Stage::Stopped,
        "TIMED_OUT" => Stage::TimedOut,
        _ => publication
            .latest
            .as_ref()
            .map_or(Stage::Updating, |l| running_stage(&l.state)),
    }
}

/// The stage of a running execution from its newest workflow state.
fn running_stage(state: &Value) -> Stage {
    if state.get("queue").is_some_and(|q| !q.is_null()) {
        return Stage::Queued;
    }
    let status = text(state, &["operationStatus"]);
    match text(state, &["operation", "kind"]) {
        // Another submission came first: the run publishes again.
        _ if status == Some("superseded") => Stage::Updating,
        None => Stage::Updating,
        Some("goLive") => Stage::GoingLive,
        // Certified: a run that goes live on its own is about to start the go-live.
        Some(_) if status == Some("succeeded") => {
            if text(state, &["action"]) == Some("goLive")
                || text(state, &["goLive"]) == Some("auto")
            {
                Stage::GoingLive
            } else {
                Stage::AtPreview
            }
        }
        Some(_) if matches!(status, Some("failed" | "canceled")) => Stage::Failed,
        Some(_) => Stage::Publishing,
    }
}

pub fn status_line(publication: &Publication) -> StatusLine {
    let stage = stage(publication);
    let state = publication.state();
    let detail = match stage {
        Stage::Failed | Stage::TimedOut | Stage::Stopped => failure(publication),
        Stage::Queued => state
            .and_then(|s| text(s, &["queue", "waitingFor"]))
            .map(|w| format!("waiting for {w}")),
        _ => state.and_then(step),
    };
    let running = publication.status == "RUNNING";
    let next_check_at = publication
        .latest
        .as_ref()
        .filter(|_| running)
        .and_then(|l| {
            let seconds = l.state.get("nextCheckSeconds")?.as_u64()?;
            Some(stamp(
                l.at + Duration::seconds(seconds.min(i64::MAX as u64) as i64),
            ))
        });
    StatusLine {
        offer_id: publication.offer_id().to_owned(),
        plan_id: publication.plan_id().to_owned(),
        version: publication.version().to_owned(),
        api: publication.api().to_owned(),
        action: publication.action().to_owned(),
        stage,
        detail,
        started_at: stamp(publication.started_at),
        next_check_at,
        expected_end_at: state
            .filter(|_| running)
            .and_then(|s| text(s, &["expectedEndAt"]))
            .map(str::to_owned),
        execution_arn: publication.execution_arn.clone(),
        execution_status: publication.status.clone(),
    }
}

/// `certification 40%`, or the step alone.
fn step(state: &Value) -> Option<String> {
    let step = text(state, &["step"])?;
    Some(
        match state.get("progressPercentage").and_then(Value::as_u64) {
            Some(progress) => format!("{step} {progress}%"),
            None => step.to_owned(),
        },
    )
}

/// The error name and what it says: the cause's `errorMessage` when the cause is a function's error
/// document. A cause of Step Functions' own may quote the whole state: its SAS signatures are cut.
fn failure(publication: &Publication) -> Option<String> {
    let error = publication.error.as_deref()?;
    let cause = publication.cause.as_deref().unwrap_or_default();
    let message = serde_json::from_str::<Value>(cause)
        .ok()
        .and_then(|c| {
            c.get("errorMessage")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| cause.to_owned());
    let message = redact_sas(&message).into_owned();
    Some(if message.is_empty() {
        error.to_owned()
    } else {
        format!("{error}: {message}")
    })
}

/// RFC 3339 to the second, in UTC.
pub fn stamp(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::publication::Latest;

    fn publication(status: &str) -> Publication {
        Publication {
            execution_arn: "arn:aws:states:eu-west-1:1:execution:publish:o_p_1_abc".into(),
            name: "o_p_1_abc".into(),
            status: status.into(),
            started_at: OffsetDateTime::UNIX_EPOCH,
            stopped_at: None,
            input: json!({"offerId": "o", "planId": "p", "version": "1.0.0", "action": "publish", "goLive": "manual"}),
            output: None,
            error: None,
            cause: None,
            latest: None,
        }
    }

    fn running(state: Value) -> Publication {
        Publication {
            latest: Some(Latest {
                state,
                at: OffsetDateTime::UNIX_EPOCH + Duration::days(1),
                current: Some("WaitForOperation".into()),
            }),
            ..publication("RUNNING")
        }
    }

    #[test]
    fn a_running_publication_shows_the_step_the_next_check_and_the_expected_end() {
        let p = running(
            json!({"offerId": "o", "action": "publish", "goLive": "manual",
            "operation": {"kind": "publish", "at": {"location": "l"}}, "operationStatus": "running",
            "step": "certification", "progressPercentage": 40, "nextCheckSeconds": 21600,
            "expectedEndAt": "1970-01-05T00:00:00Z"}),
        );
        let line = status_line(&p);
        assert_eq!(line.stage, Stage::Publishing);
        assert_eq!(line.detail.as_deref(), Some("certification 40%"));
        assert_eq!(line.next_check_at.as_deref(), Some("1970-01-02T06:00:00Z"));
        assert_eq!(
            line.expected_end_at.as_deref(),
            Some("1970-01-05T00:00:00Z")
        );
    }

    #[test]
    fn each_stage_is_told_apart() {
        let queued =
            running(json!({"offerId": "o", "queue": {"waitingFor": "a go-live 7 running"}}));
        assert_eq!(stage(&queued), Stage::Queued);
        assert_eq!(
            status_line(&queued).detail.as_deref(),
            Some("waiting for a go-live 7 running")
        );
        assert_eq!(stage(&publication("RUNNING")), Stage::Updating);
        let certified = json!({"offerId": "o", "action": "publish", "goLive": "auto",
            "operation": {"kind": "publish"}, "operationStatus": "succeeded"});
        assert_eq!(stage(&running(certified)), Stage::GoingLive);
        let going_live =
            json!({"offerId": "o", "operation": {"kind": "goLive"}, "operationStatus": "running"});
        assert_eq!(stage(&running(going_live)), Stage::GoingLive);
        let at_preview = Publication {
            output: Some(json!({"offerId": "o", "notice": {"event": "previewReady"}})),
            ..publication("SUCCEEDED")
        };
        assert_eq!(stage(&at_preview), Stage::AtPreview);
        let live = Publication {
            output: Some(json!({"offerId": "o", "notice": {"event": "live"}})),
            ..publication("SUCCEEDED")
        };
        assert_eq!(stage(&live), Stage::Live);
        assert_eq!(stage(&publication("ABORTED")), Stage::Stopped);
        assert_eq!(stage(&publication("TIMED_OUT")), Stage::TimedOut);
    }

    #[test]
    fn a_superseded_operation_is_published_again_and_a_runtime_cause_loses_its_signatures() {
        let superseded = json!({"offerId": "o", "operation": {"kind": "publish"}, "operationStatus": "superseded"});
        assert_eq!(stage(&running(superseded)), Stage::Updating);
        let runtime = Publication {
            error: Some("States.Runtime".into()),
            cause: Some("An error occurred while executing the state 'Queued': {\"osVhdUrl\":\"https://a.blob.core.windows.net/v/x.vhd?sv=1&sig=SECRETsig\"}".into()),
            ..publication("FAILED")
        };
        let detail = status_line(&runtime).detail.unwrap();
        assert!(!detail.contains("SECRETsig"), "{detail}");
        assert!(
            detail.starts_with("States.Runtime: An error occurred"),
            "{detail}"
        );
    }

    #[test]
    fn a_failure_shows_the_error_and_the_function_s_message() {
        let failed = Publication {
            error: Some("VersionNotHigher".into()),
            cause: Some(r#"{"errorType":"VersionNotHigher","errorMessage":"version 1.0.0 is not above 2.0.0"}"#.into()),
            ..publication("FAILED")
        };
        let line = status_line(&failed);
        assert_eq!(line.stage, Stage::Failed);
        assert_eq!(
            line.detail.as_deref(),
            Some("VersionNotHigher: version 1.0.0 is not above 2.0.0")
        );
        assert_eq!(line.next_check_at, None);
    }
}
