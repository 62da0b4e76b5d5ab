//! What update-and-publish would do with a request now, read from Microsoft without writing
//! anything: the operator's dry run (`mpub plan`).

use std::time::SystemTime;

use serde::Serialize;
use shared::config::Config;
use shared::marketplace::{Api, Marketplace};
use shared::workflow::{
    Decision, ErrorName, PublishRequest, WorkflowError, changes, decide_plans, retention,
};

use crate::{active_operation, publish_of_this_draft, running_operation};

/// The outcome of a dry run for one plan; the offer's plans share `busy_with` and `publish`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DryRun {
    pub target: String,
    pub api: &'static str,
    pub plan_id: String,
    pub version: String,
    /// The versions the plan's draft holds now, oldest first.
    pub draft_versions: Vec<String>,
    /// `add`, or `alreadyPresent` (nothing to write).
    pub write: &'static str,
    /// Versions the write would remove from the plan (CPP's cap).
    pub evicted_versions: Vec<String>,
    /// Versions the write would deprecate (Product Ingestion, `INGESTION_KEEP_ACTIVE_VERSIONS`).
    pub deprecated_versions: Vec<String>,
    /// What holds the offer now, if anything: the run would wait for it.
    pub busy_with: Option<String>,
    /// `publish`, `resume <operation>`, or `wait for the offer`.
    pub publish: String,
}

/// Reads the draft, the offer's operations and (for a version already in every plan's draft) the
/// preview, and decides as a run would: one row per plan. A request the run would refuse is the
/// error it would fail with.
pub async fn dry_run<M: Marketplace>(
    market: &M,
    config: &Config,
    now: SystemTime,
    request: &PublishRequest,
) -> Result<Vec<DryRun>, WorkflowError> {
    request.check_image_urls(now, config.sas_min_validity_days)?;
    let draft = market
        .read_draft(&request.offer(), &request.plan_ids())
        .await
        .map_err(|e| WorkflowError::from_market(&e))?;
    let keep = retention(
        market.api(),
        config.max_images_per_plan,
        config.ingestion_keep_active_versions,
    );
    let decisions = decide_plans(request, &draft, keep)?;
    let busy = active_operation(market, request).await?;
    let publish = match (changes(&decisions).is_empty(), &busy) {
        (false, Some(busy)) => format!("wait for the offer ({})", running_operation(busy)),
        (false, None) => "publish".to_owned(),
        (true, _) => {
            let news: Vec<_> = decisions
                .iter()
                .map(|d| (d.plan_id.clone(), d.new.clone()))
                .collect();
            resume_or_publish(market, request, &news, busy.is_some()).await?
        }
    };
    let rows = request.plan_requests().into_iter().zip(&decisions);
    Ok(rows
        .map(|(plan, decided)| {
            let (write, retire) = match &decided.decision {
                Decision::Add { retire } => ("add", retire.clone()),
                Decision::AlreadyPresent => ("alreadyPresent", Vec::new()),
            };
            let (evicted_versions, deprecated_versions) = match market.api() {
                Api::Cpp => (retire, Vec::new()),
                Api::ProductIngestion => (Vec::new(), retire),
            };
            let mut versions: Vec<_> = draft
                .plan(&plan.plan_id)
                .map(|p| p.versions.versions.iter().collect())
                .unwrap_or_else(Vec::new);
            versions.sort_by_key(|v| v.version);
            DryRun {
                target: plan.target(),
                api: market.api().as_str(),
                plan_id: plan.plan_id.clone(),
                version: plan.version.clone(),
                draft_versions: versions.iter().map(|v| v.key.clone()).collect(),
                write,
                evicted_versions,
                deprecated_versions,
                busy_with: busy.as_ref().map(running_operation),
                publish: publish.clone(),
            }
        })
        .collect())
}

/// For a version already in the draft: resume its publish, publish it, or wait for the offer.
async fn resume_or_publish<M: Marketplace>(
    market: &M,
    request: &PublishRequest,
    news: &[(String, shared::marketplace::NewVersion)],
    busy: bool,
) -> Result<String, WorkflowError> {
    Ok(
        match publish_of_this_draft(market, request, news, None).await {
            Ok(Some(existing)) => format!(
                "resume {}",
                existing.id.as_deref().unwrap_or(&existing.location)
            ),
            Ok(None) if busy => "wait for the offer".to_owned(),
            Ok(None) => "publish".to_owned(),
            // A go-live holds the offer; any other error is the run's too.
            Err(e) if e.name == ErrorName::OfferBusy => {
                format!("wait for the offer ({})", e.message)
            }
            Err(e) => return Err(e),
        },
    )
}
