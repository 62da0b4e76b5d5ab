//! `mpub go-live RELEASE`: takes every offer of a release that stopped at preview live, one
//! go-live per offer (each as `mpub go-live` of that offer's publication would start it).

use aws_config::SdkConfig;
use serde_json::Value;

use crate::error::CliError;
use crate::go_live::{GoLive, Which, go_live, publication};
use crate::publication::Publication;
use crate::stepfunctions::StepFunctions;
use crate::target::state_machine_of;

/// The execution `arn` when it is a release (its input lists offers), else `None`.
pub async fn find(sfn: &StepFunctions, arn: &str) -> Result<Option<Publication>, CliError> {
    let execution = sfn.publication(arn).await?;
    let is_release = execution.input.get("release").is_some()
        && execution.input.get("offers").is_some_and(Value::is_array);
    Ok(is_release.then_some(execution))
}

/// Every offer of the ended `release` at preview, taken live after one confirmation.
pub async fn go_live_release(
    sdk: &SdkConfig,
    release: &Publication,
    confirm: impl FnOnce(&str) -> bool,
) -> Result<Vec<GoLive>, CliError> {
    if release.status != "SUCCEEDED" {
        return Err(CliError::refused(format!(
            "release {} is {}; its offers go live once every one has ended (one offer at preview can go live alone: mpub go-live <its execution>)",
            release.name, release.status
        )));
    }
    let offers = release
        .output
        .as_ref()
        .and_then(|o| o.get("offers"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let at_preview: Vec<&Value> = offers
        .iter()
        .filter(|o| o["outcome"] == "previewReady")
        .collect();
    if at_preview.is_empty() {
        let outcomes: Vec<String> = offers
            .iter()
            .map(|o| format!("{} {}", text(&o["offerId"]), text(&o["outcome"])))
            .collect();
        return Err(CliError::refused(format!(
            "no offer of release {} is at preview ({})",
            release.name,
            outcomes.join(", ")
        )));
    }
    let listed: Vec<String> = at_preview
        .iter()
        .map(|o| format!("{} ({})", text(&o["offerId"]), plans(o)))
        .collect();
    let prompt = format!(
        "Take {} offer(s) of release {} live: {}? It starts one go-live per offer.",
        at_preview.len(),
        release.name,
        listed.join(", ")
    );
    if !confirm(&prompt) {
        return Err(CliError::refused("not confirmed; nothing was started"));
    }
    let mut outcomes = Vec::with_capacity(at_preview.len());
    for offer in at_preview {
        let child = text(&offer["execution"]);
        let machine = state_machine_of(&child).ok_or_else(|| {
            CliError::refused(format!(
                "release {}: {child} is not an execution ARN",
                release.name
            ))
        })?;
        let sfn = StepFunctions::new(sdk, machine);
        let chosen = publication(&sfn, &Which::Execution(child)).await?;
        outcomes.push(go_live(&sfn, &chosen, |_| true).await?);
    }
    Ok(outcomes)
}

/// One line per offer taken live.
pub fn go_live_lines(outcomes: &[GoLive]) -> String {
    outcomes
        .iter()
        .map(|o| {
            let how = if o.started {
                "go-live started"
            } else {
                "go-live started before"
            };
            format!(
                "{} plan {}: {how}: {}\n",
                o.offer_id, o.plan_id, o.go_live_arn
            )
        })
        .collect()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or("?").to_owned()
}

fn plans(offer: &Value) -> String {
    offer["plans"]
        .as_array()
        .map(|p| p.iter().map(text).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}
