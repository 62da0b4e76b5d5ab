//! The jobs a configure starts: waiting for a draft edit, watching a new submission start, and
//! reading how an operation stands (the API gives no estimates, so typical durations stand in).

use std::time::Duration;

use serde_json::Value;

use crate::ingestion::IngestionClient;
use crate::ingestion::documents::{JobStatus, job_messages};
use crate::ingestion::lookup::in_context;
use crate::ingestion::market::query_param;
use crate::marketplace::{
    ErrorKind, MarketError, OfferId, OperationKind, OperationRef, OperationReport, RunStatus,
};

/// Longest a new submission's job is watched while it has not started: the refusals that come
/// in seconds (another submission running, a preview that is not the newest) come then.
const SUBMISSION_SETTLE: Duration = Duration::from_secs(20);
/// Kept free after a wait for the calls that follow it in the same invocation.
const SETTLE_RESERVE: Duration = Duration::from_secs(15);

pub(crate) fn job_ref(job: &JobStatus) -> OperationRef {
    OperationRef {
        location: format!("configure/{}/status", job.job_id),
        id: Some(job.job_id.clone()),
    }
}

/// How long a finished job's submission may take to be listed: the check after it comes soon.
const LISTING_LAG: Duration = Duration::from_secs(10 * 60);

/// The step a running submission is at, by kind: the same whatever a status read answered, so a
/// flaky read does not restart the step's clock.
fn step_of(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::Publish => "validation and certification",
        OperationKind::GoLive => "going live",
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
        // The wait and the reads in it end with the invocation's time, a reply's worth before it.
        let window = window.min(self.remaining().saturating_sub(SETTLE_RESERVE));
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
        // Preview and live share a number after a go-live (§4.3): the entry of this kind's target.
        let target = target_of(kind);
        let entries = self.entries(offer, product).await?;
        let Some(entry) = entries
            .iter()
            .find(|e| e.targets(target) && e.number() == number)
        else {
            // Replaced by a newer one, or not listed yet: either way this one is not the operation now.
            return Ok(report(
                RunStatus::Superseded,
                None,
                vec![format!(
                    "{target} submission {number} is no longer listed; another submission came after it"
                )],
            ));
        };
        if entry.is_running() {
            return Ok(running(kind, step_of(kind)));
        }
        if entry.succeeded() {
            return Ok(report(RunStatus::Succeeded, None, Vec::new()));
        }
        Ok(report(
            RunStatus::Failed,
            None,
            vec![format!(
                "{target} submission {number} ended {}; Partner Center e-mails the account its report",
                entry.result.as_deref().unwrap_or("without a result")
            )],
        ))
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
        // One step stands for the whole operation.
        later: Duration::ZERO,
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

/// The configure job an operation's location names (`configure/{jobId}/status?...`).
pub(crate) fn job_id_of(at: &OperationRef) -> String {
    let path = at.location.split('?').next().unwrap_or_default();
    at.id.clone().unwrap_or_else(|| {
        path.trim_end_matches("/status")
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned()
    })
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
        let param = |name: &str| query_param(&at.location, name);
        let job_id = job_id_of(at);
        let job = match self.job_status(&job_id).await {
            Ok(job) => job,
            // A multi-day job's status read fails now and then; it is still running (Q3).
            Err(e) if e.kind == ErrorKind::Transient => {
                tracing::warn!(%job_id, error = %e, "job status unreadable; taken as still running");
                return Ok(running(kind, step_of(kind)));
            }
            Err(e) => return Err(in_context(&format!("reading job {job_id} of {offer}"), e)),
        };
        let target = target_of(kind);
        if !job.is_finished() {
            return Ok(running(kind, step_of(kind)));
        }
        if job.cancelled() {
            return Ok(report(RunStatus::Canceled, None, job_messages(&job)));
        }
        if !job.succeeded() {
            let mut messages = job_messages(&job);
            // Another submission came first: not a failure of this version; the run goes round again.
            if job.refused_as_stale() || job.refused_as_busy() {
                messages.push("another submission came first; this run publishes again".into());
                return Ok(report(RunStatus::Superseded, None, messages));
            }
            if job.failed_certification() {
                messages.push("the version stays pending in the plan's draft: remove it there (or publish it again) before another version of this plan".into());
            }
            return Ok(report(RunStatus::Failed, None, messages));
        }
        // The new submission may not be listed yet right after its job succeeds (Q27): it is the
        // live entry of the preview sent live, or a preview entry other than the one it replaced.
        let (sent, replaced) = (param("submission"), param("replaces"));
        let listed = self.entries(offer, product).await?.iter().any(|e| {
            e.targets(target)
                && e.succeeded()
                && sent.as_deref().is_none_or(|n| e.number() == n)
                && replaced.as_deref().is_none_or(|n| e.number() != n)
        });
        if !listed {
            return Ok(OperationReport {
                estimate: Some(LISTING_LAG),
                ..running(
                    kind,
                    format!("waiting for the {target} submission to be listed"),
                )
            });
        }
        Ok(report(RunStatus::Succeeded, None, Vec::new()))
    }
}
