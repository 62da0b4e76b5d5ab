//! The jobs a configure starts: waiting for a draft edit, watching a new submission start, and
//! reading how an operation stands (the API gives no estimates, so typical durations stand in).

use std::time::Duration;

use serde_json::Value;

use crate::ingestion::IngestionClient;
use crate::ingestion::documents::{JobStatus, job_messages};
use crate::ingestion::lookup::in_context;
use crate::marketplace::{
    ErrorKind, MarketError, OfferId, OperationKind, OperationRef, OperationReport, RunStatus,
};

/// Longest a new submission's job is watched while it has not started: the refusals that come
/// in seconds (another submission running, a preview that is not the newest) come then.
const SUBMISSION_SETTLE: Duration = Duration::from_secs(20);

pub(crate) fn job_ref(job: &JobStatus) -> OperationRef {
    OperationRef {
        location: format!("configure/{}/status", job.job_id),
        id: Some(job.job_id.clone()),
    }
}

pub(crate) fn target_of(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::Publish => "preview",
        OperationKind::GoLive => "live",
    }
}

impl IngestionClient {
    /// Reads the job until it finishes (or, with `until_started`, until it starts) or `window`
    /// passes; status reads that fail count as "still running" (Q3).
    pub(crate) async fn settle(
        &self,
        mut job: JobStatus,
        window: Duration,
        until_started: bool,
    ) -> JobStatus {
        let started = tokio::time::Instant::now();
        let window = window.min(self.retry_settings().budget);
        let done = |job: &JobStatus| job.is_finished() || (until_started && job.has_started());
        while !done(&job) && started.elapsed() < window {
            tokio::time::sleep(self.options.draft_job_poll.min(window)).await;
            match self.job_status(&job.job_id).await {
                Ok(read) => job = read,
                Err(e) => {
                    tracing::warn!(job_id = %job.job_id, error = %e, "job status unreadable; taken as still running")
                }
            }
        }
        job
    }

    /// Starts a submission; refusals that come in seconds are errors, the running job the operation.
    pub(crate) async fn submit(
        &self,
        offer: &OfferId,
        resource: Value,
        what: &str,
    ) -> Result<OperationRef, MarketError> {
        let job = self
            .configure(vec![resource])
            .await
            .map_err(|e| in_context(&format!("{what} {offer}"), e))?;
        let job = self.settle(job, SUBMISSION_SETTLE, true).await;
        if job.is_finished() && !job.succeeded() {
            let messages = job_messages(&job).join(" ");
            let kind = if job.refused_as_busy() {
                ErrorKind::Busy
            } else if job.refused_as_stale() {
                ErrorKind::Stale
            } else {
                ErrorKind::Rejected
            };
            return Err(MarketError::new(
                kind,
                format!("{what} {offer}: job {} failed: {messages}", job.job_id),
            ));
        }
        Ok(job_ref(&job))
    }

    /// An operation known by its submission (`submission/{P}/{N}`), resumed from the list.
    pub(crate) async fn submission_report(
        &self,
        offer: &OfferId,
        product: &str,
        number: &str,
        kind: OperationKind,
    ) -> Result<OperationReport, MarketError> {
        let entry = self
            .submission(product, number)
            .await
            .map_err(|e| in_context(&format!("reading submission {number} of {offer}"), e))?;
        if entry.is_running() {
            return Ok(running(kind, "submission running"));
        }
        let status = if entry.succeeded() {
            RunStatus::Succeeded
        } else {
            RunStatus::Failed
        };
        let messages = if status == RunStatus::Failed {
            vec![format!(
                "submission {number} ended {}; Partner Center e-mails the account its report",
                entry.result.as_deref().unwrap_or("without a result")
            )]
        } else {
            Vec::new()
        };
        Ok(report(status, None, messages))
    }
}

pub(crate) fn report(
    status: RunStatus,
    step: Option<String>,
    messages: Vec<String>,
) -> OperationReport {
    OperationReport {
        status,
        step,
        progress_percentage: None,
        estimate: None,
        messages,
    }
}

/// What a running submission is expected to take, as the API gives no estimate: certification
/// takes "a few hours to a day", up to four days; going live "a few hours", sometimes days.
fn expected(kind: OperationKind) -> Duration {
    const HOUR: u64 = 3_600;
    match kind {
        OperationKind::Publish => Duration::from_secs(72 * HOUR),
        OperationKind::GoLive => Duration::from_secs(24 * HOUR),
    }
}

pub(crate) fn running(kind: OperationKind, step: impl Into<String>) -> OperationReport {
    OperationReport {
        estimate: Some(expected(kind)),
        ..report(RunStatus::Running, Some(step.into()), Vec::new())
    }
}

impl IngestionClient {
    /// How the operation a configure job stands for is doing: its job's status, and for a job that
    /// succeeded, its submission in the list.
    pub(crate) async fn job_report(
        &self,
        offer: &OfferId,
        product: &str,
        at: &OperationRef,
        kind: OperationKind,
    ) -> Result<OperationReport, MarketError> {
        let job_id = at.id.clone().unwrap_or_else(|| {
            at.location
                .trim_end_matches("/status")
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned()
        });
        let job = match self.job_status(&job_id).await {
            Ok(job) => job,
            // A multi-day job's status read fails now and then; it is still running (Q3).
            Err(e) if e.kind == ErrorKind::Transient => {
                tracing::warn!(%job_id, error = %e, "job status unreadable; taken as still running");
                return Ok(running(kind, "status unreadable, still running"));
            }
            Err(e) => return Err(in_context(&format!("reading job {job_id} of {offer}"), e)),
        };
        let target = target_of(kind);
        if !job.is_finished() {
            let step = match kind {
                OperationKind::Publish => "validation and certification",
                OperationKind::GoLive => "going live",
            };
            return Ok(running(kind, step));
        }
        if job.cancelled() {
            return Ok(report(RunStatus::Canceled, None, job_messages(&job)));
        }
        if !job.succeeded() {
            let mut messages = job_messages(&job);
            if job.refused_as_stale() {
                messages.push(
                    "another preview replaced this one; publish the version again to go live"
                        .into(),
                );
            }
            return Ok(report(RunStatus::Failed, None, messages));
        }
        // The new submission may not be listed yet right after its job succeeds (Q27).
        let listed = self
            .entries(offer, product)
            .await?
            .iter()
            .any(|e| e.targets(target) && e.succeeded());
        if !listed {
            return Ok(running(
                kind,
                format!("waiting for the {target} submission to be listed"),
            ));
        }
        Ok(report(RunStatus::Succeeded, None, Vec::new()))
    }
}
