//! `mpub go-live`: takes a publication that stopped at preview live, by starting the state
//! machine's go-live of it. Refuses anything else; the go-live's name is derived from the
//! publication's, and a go-live of the same version under another publication counts too, so a
//! version goes live once however often it is asked for.

use serde::Serialize;
use shared::workflow::{go_live_execution_name, go_live_input, readable_name};

use crate::error::CliError;
use crate::publication::Publication;
use crate::stage::{Stage, stage};
use crate::stepfunctions::{Started, StepFunctions};
use crate::target::state_machine_of;

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

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GoLive {
    pub offer_id: String,
    pub plan_id: String,
    pub version: String,
    pub publication_arn: String,
    pub go_live_arn: String,
    /// false: a go-live of this version had been started before (its status is given).
    pub started: bool,
    pub go_live_status: Option<String>,
}

/// A publication to take live, and every publication of its version (itself among them).
pub struct Chosen {
    pub publication: Publication,
    same_version: Vec<Publication>,
}

/// The publication `which` names, checked to have stopped at preview.
pub async fn publication(sfn: &StepFunctions, which: &Which) -> Result<Chosen, CliError> {
    let (publication, same_version) = match which {
        Which::Execution(arn) => {
            let publication = sfn.publication(arn).await?;
            // Checked before the search: a refusal needs no scan of the executions.
            check(&publication)?;
            let same_version = publications_of(
                sfn,
                publication.offer_id(),
                publication.plan_id(),
                publication.version(),
            )
            .await?;
            (publication, same_version)
        }
        Which::Version {
            offer,
            plan,
            version,
        } => {
            let same_version = publications_of(sfn, offer, plan, version).await?;
            let newest = same_version.first().cloned().ok_or_else(|| {
                CliError::refused(format!(
                    "no publication of {offer} plan {plan} version {version} in {}",
                    sfn.state_machine_arn
                ))
            })?;
            check(&newest)?;
            (newest, same_version)
        }
    };
    Ok(Chosen {
        publication,
        same_version,
    })
}

/// The publish executions of that offer, plan and version, newest first (found by the name they
/// begin with, confirmed by their input).
async fn publications_of(
    sfn: &StepFunctions,
    offer: &str,
    plan: &str,
    version: &str,
) -> Result<Vec<Publication>, CliError> {
    let prefix = format!("{}_", readable_name(offer, plan, version));
    let mut found = Vec::new();
    for arn in sfn
        .recent(usize::MAX, |name| name.starts_with(&prefix))
        .await?
    {
        let publication = sfn.publication(&arn).await?;
        if publication.action() == "publish"
            && publication.offer_id() == offer
            && publication.plan_id() == plan
            && publication.version() == version
        {
            found.push(publication);
        }
    }
    Ok(found)
}

/// Only a publication that ended stopped at preview goes live by hand.
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
    match (stage(publication), publication.status.as_str()) {
        (Stage::AtPreview, "SUCCEEDED") => Ok(()),
        (Stage::Live, _) => Err(CliError::refused(format!("{what} is live already"))),
        (Stage::Failed | Stage::Stopped | Stage::TimedOut, _) => Err(CliError::refused(format!(
            "{what} ended {} ({}): it never reached preview; publish the version again",
            publication.status,
            publication.error.as_deref().unwrap_or("no error named")
        ))),
        (running, _) => Err(CliError::refused(format!(
            "{what} is still running ({}); it can go live once it has stopped at preview",
            running.label()
        ))),
    }
}

/// A go-live, running or done, of any publication of the chosen one's version.
async fn existing_go_live(
    sfn: &StepFunctions,
    chosen: &Chosen,
) -> Result<Option<Publication>, CliError> {
    let publication = &chosen.publication;
    let own = sfn
        .find(&publication.sibling_arn(&go_live_execution_name(&publication.name)))
        .await?;
    if own.is_some() {
        return Ok(own);
    }
    for other in chosen
        .same_version
        .iter()
        .filter(|o| o.name != publication.name)
    {
        let go_live = sfn
            .find(&other.sibling_arn(&go_live_execution_name(&other.name)))
            .await?;
        if let Some(go_live) =
            go_live.filter(|g| matches!(g.status.as_str(), "RUNNING" | "SUCCEEDED"))
        {
            return Ok(Some(go_live));
        }
    }
    Ok(None)
}

/// Starts the go-live of `publication` (checked by `publication()`) on the state machine the
/// publication ran on; `confirm` is asked first, with what it is about to do, unless a go-live of
/// that version exists already.
pub async fn go_live(
    sfn: &StepFunctions,
    chosen: &Chosen,
    confirm: impl FnOnce(&str) -> bool,
) -> Result<GoLive, CliError> {
    let publication = &chosen.publication;
    let name = go_live_execution_name(&publication.name);
    let mut outcome = GoLive {
        offer_id: publication.offer_id().to_owned(),
        plan_id: publication.plan_id().to_owned(),
        version: publication.version().to_owned(),
        publication_arn: publication.execution_arn.clone(),
        go_live_arn: publication.sibling_arn(&name),
        started: false,
        go_live_status: None,
    };
    if let Some(existing) = existing_go_live(sfn, chosen).await? {
        outcome.go_live_arn = existing.execution_arn;
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
    let machine = state_machine_of(&publication.execution_arn)
        .unwrap_or_else(|| sfn.state_machine_arn.clone());
    match sfn.start(&machine, &name, &input).await? {
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
