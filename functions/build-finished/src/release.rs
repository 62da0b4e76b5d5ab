//! A release's execution: one input listing each offer's publication under a deterministic name,
//! which the release state machine starts as child executions of the publish state machine.

use serde_json::json;
use shared::workflow::executions::{HASH_SUFFIX_LEN, MAX_EXECUTION_NAME};
use shared::workflow::{Action, ErrorName, Release, WorkflowError, WorkflowState, readable_name};

use crate::Publish;
use crate::execution_name::short_hash;

/// The release's execution: `release_<first offer>_<version>_<hash>`, and each offer's child named
/// `<offer>_<plans>_<version>_<hash>`, the hash covering the release's input and the offer, so a
/// redelivered manifest names the same executions and Step Functions starts nothing twice.
pub(crate) fn start(release: Release, state_machine_arn: &str) -> Result<Publish, WorkflowError> {
    let states: Vec<WorkflowState> = release
        .offers
        .into_iter()
        .map(|offer| WorkflowState::start(offer, Action::Publish))
        .collect();
    let content = serialize(&json!({"version": release.version, "offers": states}))?;
    let hash = short_hash(content.as_bytes());
    let first = states.first().map(|s| s.request.offer_id.as_str());
    let plural = if states.len() > 1 { "-and-more" } else { "" };
    let name = named(
        &readable_name(
            "release",
            &format!("{}{plural}", first.unwrap_or_default()),
            &release.version,
        ),
        &hash,
    );
    let offers: Vec<_> = states
        .iter()
        .map(|state| {
            let request = &state.request;
            // Named as mpub looks a publication up: by offer, plans (as people read them) and version.
            let readable =
                readable_name(&request.offer_id, &request.plan_label(), &request.version);
            let own = short_hash(format!("{hash}/{}", request.target()).as_bytes());
            json!({"name": named(&readable, &own), "state": state})
        })
        .collect();
    let target = format!(
        "release of version {} to {} targets in {} offers",
        release.version,
        release.targets,
        offers.len()
    );
    let input = json!({
        "action": "publish",
        "release": {"name": name, "version": release.version, "targets": release.targets},
        "offers": offers,
    });
    Ok(Publish {
        target,
        name,
        input: serialize(&input)?,
        state_machine_arn: state_machine_arn.to_owned(),
    })
}

fn named(readable: &str, hash: &str) -> String {
    debug_assert!(readable.len() + HASH_SUFFIX_LEN <= MAX_EXECUTION_NAME);
    format!("{readable}_{hash}")
}

fn serialize(value: &serde_json::Value) -> Result<String, WorkflowError> {
    serde_json::to_string(value).map_err(|e| {
        WorkflowError::new(
            ErrorName::InvalidInput,
            format!("release input is not serializable: {e}"),
        )
    })
}
