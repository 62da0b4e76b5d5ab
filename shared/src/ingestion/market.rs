//! The Product Ingestion API behind the workflow's interface. There is no ETag: the draft is read
//! again right before every write and written only over what was read; a configure is never sent
//! twice (Q4); the job a submission starts is the operation a run waits on.

use serde_json::json;

use crate::ingestion::documents::{SubmissionEntry, job_messages};
use crate::ingestion::jobs::job_id_of;
use crate::ingestion::lookup::in_context;
use crate::ingestion::{IngestionClient, SUBMISSION_SCHEMA, techconfig};
use crate::marketplace::{
    Activity, Api, Draft, ErrorKind, MarketError, Marketplace, OfferId, OperationKind,
    OperationRef, OperationReport, PlanChange, PlanDraft, PlanVersions, RunStatus, Slot,
};

impl Marketplace for IngestionClient {
    fn api(&self) -> Api {
        Api::ProductIngestion
    }

    async fn read_draft(&self, offer: &OfferId, plans: &[&str]) -> Result<Draft, MarketError> {
        let mut drafts = Vec::with_capacity(plans.len());
        for plan in plans {
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
            drafts.push(PlanDraft {
                plan: (*plan).to_owned(),
                versions,
                document,
            });
        }
        Ok(Draft {
            plans: drafts,
            document: serde_json::Value::Null,
            token: None,
        })
    }

    async fn read_plan(
        &self,
        offer: &OfferId,
        plan: &str,
        slot: Slot,
    ) -> Result<Option<PlanVersions>, MarketError> {
        let target = match slot {
            Slot::Draft => {
                let draft = self.read_draft(offer, &[plan]).await?;
                return Ok(draft.plans.into_iter().next().map(|p| p.versions));
            }
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
        // While the first submission to a target runs, the target does not exist yet either; once
        // one succeeded, a 400 is a refusal to report, not "never published".
        let published = entries.iter().any(|e| e.targets(target) && e.succeeded());
        let tree = match self.resource_tree(&product, target).await {
            Ok(tree) => tree,
            Err(e) if e.status == Some(400) && !published => return Ok(None),
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
        changes: &[PlanChange],
    ) -> Result<(), MarketError> {
        let mut sent = Vec::with_capacity(changes.len());
        for change in changes {
            let read = draft.plan(&change.plan).ok_or_else(|| {
                MarketError::new(
                    ErrorKind::Rejected,
                    format!("{offer} plan {} was not read before writing", change.plan),
                )
            })?;
            let (product, plan_id) = self.locate(offer, &change.plan).await?;
            // No ETag: read again right before writing, and write only over what was read.
            let current = self
                .techconfig_in(offer, &product, &plan_id, "draft")
                .await?;
            if current.as_ref() != Some(&read.document) {
                return Err(MarketError::new(
                    ErrorKind::Changed,
                    format!(
                        "the technical configuration of {offer} plan {} changed since it was read",
                        change.plan
                    ),
                ));
            }
            sent.push(techconfig::with_version(
                &read.document,
                &change.new,
                &change.retire,
            ));
        }
        let plans: Vec<&str> = changes.iter().map(|c| c.plan.as_str()).collect();
        let context = format!("writing the draft of {offer} plan {}", plans.join(", "));
        // One configure carries every plan's technical configuration: one job, one draft change.
        let job = self
            .configure(sent)
            .await
            .map_err(|e| in_context(&context, e))?;
        let job = self
            .settle(job, self.options.draft_job_timeout, false)
            .await;
        if !job.is_finished() {
            return Err(MarketError::new(
                ErrorKind::Transient,
                format!(
                    "{context}: job {} still running when this invocation's time to wait for it ran out; the next attempt reads the draft again",
                    job.job_id
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
        Ok(())
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
        // The workflow has just seen nothing running; the submission the new one replaces is noted,
        // so the check waits for the new entry, not the old one (Q27).
        let product = self.product(offer).await?;
        let entries = self.entries(offer, &product).await?;
        let replaces = entries
            .iter()
            .filter(|e| e.targets("preview") && e.status.is_some())
            .map(|e| e.number().to_owned())
            .next_back();
        let submission = json!({
            "$schema": SUBMISSION_SCHEMA,
            "product": format!("product/{product}"),
            "target": {"targetType": "preview"},
        });
        let at = self.submit(offer, submission, "publishing").await?;
        let at = with_query(at, "product", Some(&product));
        Ok(with_query(at, "replaces", replaces.as_deref()))
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
                // The newest preview failed (or is gone): only a new publish makes one to go live with.
                MarketError::new(
                    ErrorKind::Stale,
                    format!("{offer} has no preview ready to go live; it is published again"),
                )
            })?;
        let submission = json!({
            "$schema": SUBMISSION_SCHEMA,
            "id": preview.id,
            "product": format!("product/{product}"),
            "target": {"targetType": "live"},
        });
        let at = self.submit(offer, submission, "going live with").await?;
        let at = with_query(at, "product", Some(&product));
        Ok(with_query(at, "submission", Some(preview.number())))
    }

    /// A configure job is cancelled (§4.6); an operation known only by its submission cannot be.
    async fn cancel(&self, offer: &OfferId, at: &OperationRef) -> Result<(), MarketError> {
        if at.location.starts_with("submission/") {
            return Err(MarketError::new(
                ErrorKind::Rejected,
                format!(
                    "{offer}: submission {} is known by its number only, and Product Ingestion cancels configure jobs; cancel it in Partner Center",
                    at.id.as_deref().unwrap_or(&at.location)
                ),
            ));
        }
        let job_id = job_id_of(at);
        self.cancel_job(&job_id)
            .await
            .map(|_| ())
            .map_err(|e| in_context(&format!("cancelling job {job_id} of {offer}"), e))
    }

    async fn operation(
        &self,
        offer: &OfferId,
        at: &OperationRef,
        kind: OperationKind,
    ) -> Result<OperationReport, MarketError> {
        // The operation's location names its product: a check, often a cold start, needs no lookup.
        let named = match at.location.strip_prefix("submission/") {
            Some(rest) => rest.split('/').next().map(str::to_owned),
            None => query_param(&at.location, "product"),
        };
        let product = match named.filter(|p| !p.is_empty()) {
            Some(product) => product,
            None => self.product(offer).await?,
        };
        if at.location.starts_with("submission/") {
            let number = at.location.rsplit('/').next().unwrap_or_default();
            return self.submission_report(offer, &product, number, kind).await;
        }
        self.job_report(offer, &product, at, kind).await
    }
}

/// `location?name=value&...`: what the check of this job needs to know, kept in the operation's location.
fn with_query(mut at: OperationRef, name: &str, value: Option<&str>) -> OperationRef {
    if let Some(value) = value {
        let joint = if at.location.contains('?') { '&' } else { '?' };
        at.location = format!("{}{joint}{name}={value}", at.location);
    }
    at
}

/// The value of `name` in a location's query.
pub(crate) fn query_param(location: &str, name: &str) -> Option<String> {
    let (_, query) = location.split_once('?')?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
        .map(str::to_owned)
}
