//! `mpub go-live`: takes a publication that stopped at preview live, by starting the state
//! machine's go-live of it. Refuses anything else; the go-live's name is derived from the
//! publication's, so it starts once however often it is asked for.

use serde::Serialize;
use shared::workflow::{go_live_execution_name, go_live_input};

use crate::error::CliError;
use crate::publication::Publication;
use crate::stage::{Stage, stage};
use crate::stepfunctions::{Started, StepFunctions};

/// Which publication: its execution, or its offer, plan and version.
#[derive(Clone, Debug)]
pub enum Which {
    Execution(String),
    Version {
        offer: String,
        plan: String,
        version: String,
    },
}

/// How many of the newest executions are searched for a publication named by its version.
const SEARCHED: usize = 1000;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GoLive {
    pub offer_id: String,
    pub plan_id: String,
    pub version: String,
    pub publication_arn: String,
    pub go_live_arn: String,
    /// false: a go-live of this publication had been started before (its status is given).
    pub started: bool,
    pub go_live_status: Option<String>,
}

/// The publication `which` names, checked to have stopped at preview.
pub async fn publication(sfn: &StepFunctions, which: &Which) -> Result<Publication, CliError> {
    let publication = match which {
        Which::Execution(arn) => sfn.publication(arn).await?,
        Which::Version {
            offer,
            plan,
            version,
        } => find(sfn, offer, plan, version).await?,
    };
    check(&publication)?;
    Ok(publication)
}

/// The newest publish execution of that offer, plan and version.
async fn find(
    sfn: &StepFunctions,
    offer: &str,
    plan: &str,
    version: &str,
) -> Result<Publication, CliError> {
    for arn in sfn.recent(SEARCHED).await? {
        let name = arn.rsplit(':').next().unwrap_or_default();
        // Names are `offer_plan_version_hash` with other characters as '-'; go-lives start `golive_`.
        if name.starts_with("golive_") {
            continue;
        }
        let found = sfn.publication(&arn).await?;
        if found.offer_id() == offer && found.plan_id() == plan && found.version() == version {
            return Ok(found);
        }
    }
    Err(CliError::refused(format!(
        "no publication of {offer} plan {plan} version {version} among the newest {SEARCHED} executions of {}",
        sfn.state_machine_arn
    )))
}

/// Only a publication that stopped at preview goes live by hand.
pub fn check(publication: &Publication) -> Result<(), CliError> {
    let what = format!(
        "{} ({} plan {} version {})",
        publication.name,
        publication.offer_id(),
        publication.plan_id(),
        publication.version()
    );
    if publication.action() == "goLive" {
        return Err(CliError::refused(format!(
            "{what} is a go-live; name the publication it took live"
        )));
    }
    match stage(publication) {
        Stage::AtPreview => Ok(()),
        Stage::Live => Err(CliError::refused(format!("{what} is live already"))),
        Stage::Failed | Stage::Stopped | Stage::TimedOut => Err(CliError::refused(format!(
            "{what} ended {} ({}): it never reached preview; publish the version again",
            publication.status,
            publication.error.as_deref().unwrap_or("no error named")
        ))),
        running => Err(CliError::refused(format!(
            "{what} is still running ({}); it can go live once it has stopped at preview",
            running.label()
        ))),
    }
}

/// Starts the go-live of `publication` (checked by `publication()`); `confirm` is asked first,
/// with what it is about to do, unless a go-live of it exists already.
pub async fn go_live(
    sfn: &StepFunctions,
    publication: &Publication,
    confirm: impl FnOnce(&str) -> bool,
) -> Result<GoLive, CliError> {
    let name = go_live_execution_name(&publication.name);
    let go_live_arn = publication.sibling_arn(&name);
    let mut outcome = GoLive {
        offer_id: publication.offer_id().to_owned(),
        plan_id: publication.plan_id().to_owned(),
        version: publication.version().to_owned(),
        publication_arn: publication.execution_arn.clone(),
        go_live_arn: go_live_arn.clone(),
        started: false,
        go_live_status: None,
    };
    if let Some(existing) = sfn.find(&go_live_arn).await? {
        outcome.go_live_status = Some(existing.status);
        return Ok(outcome);
    }
    let prompt = format!(
        "Take {} plan {} version {} live ({} API)? It starts {name}.",
        outcome.offer_id,
        outcome.plan_id,
        outcome.version,
        publication.api()
    );
    if !confirm(&prompt) {
        return Err(CliError::refused("not confirmed; nothing was started"));
    }
    let input = go_live_input(&publication.input).map_err(|e| CliError::refused(e.message))?;
    match sfn.start(&name, &input).await? {
        Started::New(arn) => {
            outcome.go_live_arn = arn;
            outcome.started = true;
            outcome.go_live_status = Some("RUNNING".into());
        }
        // Started by someone else between the look and the start: still once.
        Started::AlreadyExists => {}
    }
    Ok(outcome)
}
