//! The Product Ingestion API behind the workflow's interface. There is no ETag: the draft is read
//! again right before every write and written only over what was read; a configure is never sent
//! twice (Q4); the job a submission starts is the operation a run waits on.

use std::time::Duration;

use serde_json::{Value, json};

use crate::http::ApiError;
use crate::ingestion::documents::{JobStatus, SubmissionEntry, job_messages};
use crate::ingestion::{IngestionClient, SUBMISSION_SCHEMA, techconfig};
use crate::marketplace::{
    Activity, Api, Draft, ErrorKind, MarketError, Marketplace, NewVersion, OfferId, OperationKind,
    OperationRef, OperationReport, PlanVersions, RunStatus, Slot, Written,
};

/// Longest a new submission's job is watched while it has not started: the refusals that come
/// in seconds (another submission running, a preview that is not the newest) come then.
const SUBMISSION_SETTLE: Duration = Duration::from_secs(20);

fn in_context(context: &str, error: ApiError) -> MarketError {
    match error.kind {
        // These already say what is missing.
        ErrorKind::OfferNotFound | ErrorKind::PlanNotFound | ErrorKind::InvalidOffer => {
            MarketError::new(error.kind, format!("{context}: {}", error.message))
        }
        _ => MarketError::new(error.kind, format!("{context}: {error}")),
    }
}

fn job_ref(job: &JobStatus) -> OperationRef {
    OperationRef {
        location: format!("configure/{}/status", job.job_id),
        id: Some(job.job_id.clone()),
    }
}

fn target_of(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::Publish => "preview",
        OperationKind::GoLive => "live",
    }
}

impl IngestionClient {
    /// The product GUID and the plan's durable id.
    async fn locate(&self, offer: &OfferId, plan: &str) -> Result<(String, String), MarketError> {
        let context = format!("finding offer {offer} plan {plan}");
        let product = self
            .product_id(&offer.offer)
            .await
            .map_err(|e| in_context(&context, e))?;
        let plan_id = self
            .plan_id(&product, plan)
            .await
            .map_err(|e| in_context(&context, e))?;
        Ok((product, plan_id))
    }

    async fn product(&self, offer: &OfferId) -> Result<String, MarketError> {
        self.product_id(&offer.offer)
            .await
            .map_err(|e| in_context(&format!("finding offer {offer}"), e))
    }

    async fn entries(
        &self,
        offer: &OfferId,
        product: &str,
    ) -> Result<Vec<SubmissionEntry>, MarketError> {
        self.submissions(product)
            .await
            .map_err(|e| in_context(&format!("listing the submissions of {offer}"), e))
    }

    /// The plan's tech-config in `target`, and its versions.
    async fn techconfig_in(
        &self,
        offer: &OfferId,
        product: &str,
        plan_id: &str,
        target: &str,
    ) -> Result<Option<Value>, MarketError> {
        let tree = self
            .resource_tree(product, target)
            .await
            .map_err(|e| in_context(&format!("reading the {target} of {offer}"), e))?;
        Ok(techconfig::find(&tree, plan_id).cloned())
    }

    /// Reads the job until it finishes (or, with `until_started`, until it starts) or `window`
    /// passes; status reads that fail count as "still running" (Q3).
    async fn settle(&self, mut job: JobStatus, window: Duration, until_started: bool) -> JobStatus {
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
    async fn submit(
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
    async fn submission_report(
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

fn report(status: RunStatus, step: Option<String>, messages: Vec<String>) -> OperationReport {
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

fn running(kind: OperationKind, step: impl Into<String>) -> OperationReport {
    OperationReport {
        estimate: Some(expected(kind)),
        ..report(RunStatus::Running, Some(step.into()), Vec::new())
    }
}

impl Marketplace for IngestionClient {
    fn api(&self) -> Api {
        Api::ProductIngestion
    }

    async fn read_draft(&self, offer: &OfferId, plan: &str) -> Result<Draft, MarketError> {
        let (product, plan_id) = self.locate(offer, plan).await?;
        let document = self
            .techconfig_in(offer, &product, &plan_id, "draft")
            .await?
            .ok_or_else(|| {
                MarketError::new(
                    ErrorKind::InvalidOffer,
                    format!("{offer} plan {plan} has no technical configuration in its draft"),
                )
            })?;
        let versions = techconfig::versions(&document).map_err(|e| {
            MarketError::new(ErrorKind::Rejected, format!("{offer} plan {plan}: {e}"))
        })?;
        Ok(Draft {
            versions,
            document,
            token: None,
            plan: plan.to_owned(),
        })
    }

    async fn read_plan(
        &self,
        offer: &OfferId,
        plan: &str,
        slot: Slot,
    ) -> Result<Option<PlanVersions>, MarketError> {
        let target = match slot {
            Slot::Draft => return self.read_draft(offer, plan).await.map(|d| Some(d.versions)),
            Slot::Preview => "preview",
            Slot::Live => "live",
        };
        let (product, plan_id) = self.locate(offer, plan).await?;
        // A target never published answers 400 (Q15): the submissions list says which exist.
        let entries = self.entries(offer, &product).await?;
        if !entries
            .iter()
            .any(|e| e.targets(target) && e.status.is_some())
        {
            return Ok(None);
        }
        // While the first submission to a target runs, the target does not exist yet either.
        let tree = match self.resource_tree(&product, target).await {
            Ok(tree) => tree,
            Err(e) if e.status == Some(400) => return Ok(None),
            Err(e) => return Err(in_context(&format!("reading the {target} of {offer}"), e)),
        };
        let Some(document) = techconfig::find(&tree, &plan_id) else {
            return Ok(Some(PlanVersions::default()));
        };
        techconfig::versions(document).map(Some).map_err(|e| {
            MarketError::new(
                ErrorKind::Rejected,
                format!("{offer} plan {plan} ({target}): {e}"),
            )
        })
    }

    async fn write_draft(
        &self,
        offer: &OfferId,
        draft: Draft,
        new: &NewVersion,
        retire: &[String],
    ) -> Result<Written, MarketError> {
        let (product, plan_id) = self.locate(offer, &draft.plan).await?;
        // No ETag: read again right before writing, and write only over what was read.
        let current = self
            .techconfig_in(offer, &product, &plan_id, "draft")
            .await?;
        if current.as_ref() != Some(&draft.document) {
            return Err(MarketError::new(
                ErrorKind::PreconditionFailed,
                format!(
                    "the technical configuration of {offer} plan {} changed since it was read",
                    draft.plan
                ),
            ));
        }
        let sent = techconfig::with_version(&draft.document, new, retire);
        let context = format!("writing the draft of {offer} plan {}", draft.plan);
        let job = self
            .configure(vec![sent])
            .await
            .map_err(|e| in_context(&context, e))?;
        let job = self
            .settle(job, self.options.draft_job_timeout, false)
            .await;
        if !job.is_finished() {
            return Err(MarketError::new(
                ErrorKind::Transient,
                format!(
                    "{context}: job {} still running after {} s; the next attempt reads the draft again",
                    job.job_id,
                    self.options.draft_job_timeout.as_secs()
                ),
            ));
        }
        if !job.succeeded() {
            return Err(MarketError::new(
                ErrorKind::Rejected,
                format!(
                    "{context}: job {} failed: {}",
                    job.job_id,
                    job_messages(&job).join(" ")
                ),
            ));
        }
        Ok(Written {
            retired: retire.to_vec(),
        })
    }

    async fn activity(&self, offer: &OfferId) -> Result<Vec<Activity>, MarketError> {
        let product = self.product(offer).await?;
        let mut entries: Vec<SubmissionEntry> = self
            .entries(offer, &product)
            .await?
            .into_iter()
            .filter(|e| e.status.is_some() && (e.targets("preview") || e.targets("live")))
            .collect();
        // .NET times of one service share a format, so text order is time order; unknown last.
        entries.sort_by(|a, b| b.created.cmp(&a.created));
        Ok(entries
            .iter()
            .map(|e| Activity {
                kind: if e.targets("live") {
                    OperationKind::GoLive
                } else {
                    OperationKind::Publish
                },
                at: OperationRef {
                    location: format!("submission/{product}/{}", e.number()),
                    id: Some(e.number().to_owned()),
                },
                active: e.is_running(),
                status: if e.is_running() {
                    None
                } else if e.succeeded() {
                    Some(RunStatus::Succeeded)
                } else {
                    Some(RunStatus::Failed)
                },
            })
            .collect())
    }

    async fn publish(
        &self,
        offer: &OfferId,
        _notification_emails: &str,
    ) -> Result<OperationRef, MarketError> {
        let product = self.product(offer).await?;
        if let Some(running) = self
            .entries(offer, &product)
            .await?
            .iter()
            .find(|e| e.is_running())
        {
            return Err(MarketError::new(
                ErrorKind::Busy,
                format!(
                    "{offer} has submission {} running ({})",
                    running.number(),
                    running.target.target_type
                ),
            ));
        }
        let submission = json!({
            "$schema": SUBMISSION_SCHEMA,
            "product": format!("product/{product}"),
            "target": {"targetType": "preview"},
        });
        self.submit(offer, submission, "publishing").await
    }

    async fn go_live(&self, offer: &OfferId) -> Result<OperationRef, MarketError> {
        let product = self.product(offer).await?;
        let entries = self.entries(offer, &product).await?;
        if let Some(running) = entries.iter().find(|e| e.is_running()) {
            return Err(MarketError::new(
                ErrorKind::Busy,
                format!(
                    "{offer} has submission {} running ({})",
                    running.number(),
                    running.target.target_type
                ),
            ));
        }
        let preview = entries
            .iter()
            .filter(|e| e.targets("preview") && e.succeeded())
            .max_by(|a, b| a.created.cmp(&b.created))
            .ok_or_else(|| {
                MarketError::new(
                    ErrorKind::Busy,
                    format!("{offer} has no preview ready to go live"),
                )
            })?;
        let submission = json!({
            "$schema": SUBMISSION_SCHEMA,
            "id": preview.id,
            "product": format!("product/{product}"),
            "target": {"targetType": "live"},
        });
        self.submit(offer, submission, "going live with").await
    }

    async fn operation(
        &self,
        offer: &OfferId,
        at: &OperationRef,
        kind: OperationKind,
    ) -> Result<OperationReport, MarketError> {
        let product = self.product(offer).await?;
        if at.location.starts_with("submission/") {
            let number = at.location.rsplit('/').next().unwrap_or_default();
            return self.submission_report(offer, &product, number, kind).await;
        }
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
            .entries(offer, &product)
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
