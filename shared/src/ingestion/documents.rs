//! The configure-status (job) and submission documents, read leniently: the docs and the service
//! disagree on spellings (`jobID`, Q16), enums grow (`cancelled`, Q18), and errors nest (Q20).

use serde::Deserialize;
use serde_json::Value;

use crate::html::strip_html;
use crate::redact::redact_sas;

/// `GET configure/{jobId}/status`, also the body of a 202 from `POST configure`.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStatus {
    #[serde(alias = "jobID")]
    pub job_id: String,
    /// `notStarted`, `running`, `completed`.
    #[serde(default)]
    pub job_status: String,
    /// `pending`, `succeeded`, `failed`, `cancelled`.
    #[serde(default)]
    pub job_result: String,
    #[serde(default)]
    pub errors: Vec<Value>,
}

/// Microsoft's error texts may quote a SAS URL: `Debug` shows them as people are shown them.
impl std::fmt::Debug for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobStatus")
            .field("job_id", &self.job_id)
            .field("job_status", &self.job_status)
            .field("job_result", &self.job_result)
            .field("errors", &job_messages(self))
            .finish()
    }
}

impl JobStatus {
    pub fn is_finished(&self) -> bool {
        self.job_status.eq_ignore_ascii_case("completed")
    }

    pub fn succeeded(&self) -> bool {
        self.is_finished() && self.job_result.eq_ignore_ascii_case("succeeded")
    }

    /// Past `notStarted`: a submission job that started has passed the checks made at its start.
    pub fn has_started(&self) -> bool {
        !self.job_status.is_empty() && !self.job_status.eq_ignore_ascii_case("notStarted")
    }

    pub fn cancelled(&self) -> bool {
        self.job_result.eq_ignore_ascii_case("cancelled")
            || self.job_result.eq_ignore_ascii_case("canceled")
    }

    /// Every code and message in the error tree, depth first.
    fn errors(&self) -> Vec<(String, String)> {
        let mut found = Vec::new();
        walk(&self.errors, &mut found);
        found
    }

    /// Certification failed: an inner `invalidState` that mentions certification. Terminal (Q20).
    pub fn failed_certification(&self) -> bool {
        self.errors().iter().any(|(code, message)| {
            code.eq_ignore_ascii_case("invalidState")
                && message.to_ascii_lowercase().contains("certification")
        })
    }

    /// Another submission is running ("An In Progress submission N already exists.").
    pub fn refused_as_busy(&self) -> bool {
        self.errors()
            .iter()
            .any(|(_, m)| m.contains("In Progress submission"))
    }

    /// Go-live of a preview that is no longer the newest (Q5): publish again, never retry.
    pub fn refused_as_stale(&self) -> bool {
        self.errors().iter().any(|(_, m)| {
            m.contains("as its not the latest") || m.contains("not the latest submission")
        })
    }
}

fn walk(errors: &[Value], found: &mut Vec<(String, String)>) {
    for error in errors {
        let text = |key: &str| {
            error
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        found.push((text("code"), text("message")));
        if let Some(Value::Array(details)) = error.get("details") {
            walk(details, found);
        }
    }
}

/// Microsoft's messages of a job for people: plain text, each once, SAS signatures removed.
pub fn job_messages(job: &JobStatus) -> Vec<String> {
    let mut texts: Vec<String> = Vec::new();
    for (_, message) in job.errors() {
        let text = redact_sas(&strip_html(&message)).into_owned();
        if !text.is_empty() && !texts.contains(&text) {
            texts.push(text);
        }
    }
    texts
}

/// One entry of `GET submission/{P}`: the draft entry has no status.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmissionEntry {
    pub id: String,
    #[serde(default)]
    pub target: Target,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub result: Option<String>,
    #[serde(default)]
    pub created: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    #[serde(default)]
    pub target_type: String,
}

impl SubmissionEntry {
    pub fn targets(&self, target: &str) -> bool {
        self.target.target_type.eq_ignore_ascii_case(target)
    }

    /// Still going: a status that is not `completed` (the draft entry has none).
    pub fn is_running(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| !s.eq_ignore_ascii_case("completed"))
    }

    pub fn succeeded(&self) -> bool {
        !self.is_running()
            && self.status.is_some()
            && self
                .result
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case("succeeded"))
    }

    /// The submission number `N` of `submission/{P}/{N}`, kept as text (it exceeds 2^53).
    pub fn number(&self) -> &str {
        self.id.rsplit('/').next().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn job(value: Value) -> JobStatus {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn the_documented_spellings_and_a_cancelled_job_read() {
        let doc = job(
            json!({"jobID": "j", "jobStatus": "completed", "jobResult": "cancelled",
            "jobStart": "2026-04-02T09:20:11.7654321Z", "jobEnd": "0001-01-01T00:00:00", "errors": []}),
        );
        assert_eq!(doc.job_id, "j");
        assert!(doc.is_finished() && doc.cancelled() && !doc.succeeded());
    }

    #[test]
    fn certification_failures_are_found_in_nested_errors_and_told_plainly() {
        let doc = job(
            json!({"jobId": "j", "jobStatus": "completed", "jobResult": "failed", "errors": [
            {"code": "internalServerError", "message": "Operation failed", "details": [
                {"code": "invalidState", "message": "Certification", "details": [
                    {"code": "invalidState", "message": "Issues <b>found</b> during Certification: https://a.blob.core.windows.net/v/x.vhd?sp=rl&sig=S3CRET"}]}]}]}),
        );
        assert!(doc.failed_certification());
        assert!(!doc.refused_as_busy() && !doc.refused_as_stale());
        let messages = job_messages(&doc).join(" | ");
        assert!(
            messages.starts_with("Operation failed | Certification | Issues found during"),
            "{messages}"
        );
        assert!(!messages.contains("S3CRET"), "{messages}");
    }

    #[test]
    fn busy_and_stale_refusals_are_told_apart() {
        let busy = job(
            json!({"jobId": "j", "jobStatus": "completed", "jobResult": "failed",
            "errors": [{"code": "internalServerError", "message": "An In Progress submission 1152921505699876543 already exists.", "details": []}]}),
        );
        assert!(busy.refused_as_busy() && !busy.refused_as_stale());
        let stale = job(
            json!({"jobId": "j", "jobStatus": "completed", "jobResult": "failed",
            "errors": [{"code": "conflict", "message": "The submission cannot be pushed to live as its not the latest submission."}]}),
        );
        assert!(stale.refused_as_stale() && !stale.failed_certification());
    }

    #[test]
    fn submission_entries_tell_their_state() {
        let list: Vec<SubmissionEntry> = serde_json::from_value(json!([
            {"id": "submission/p/0", "target": {"targetType": "draft"}},
            {"id": "submission/p/1152921505699876543", "target": {"targetType": "preview"}, "status": "running", "result": "pending"},
            {"id": "submission/p/1152921505691234567", "target": {"targetType": "live"}, "status": "completed", "result": "succeeded"}
        ]))
        .unwrap();
        assert!(!list[0].is_running() && !list[0].succeeded());
        assert!(list[1].is_running() && list[1].targets("Preview"));
        assert!(list[2].succeeded());
        assert_eq!(list[1].number(), "1152921505699876543");
    }
}
