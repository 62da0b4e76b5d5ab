//! check-last-operation: in a workflow, read the operation the run waits on, classify it and say
//! when to look again; on a schedule, report the latest operation of every watched offer.

mod check;
pub mod delivery;
mod report;

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use shared::deps::Deps;
use shared::workflow::{WorkflowError, WorkflowState};

pub use check::check;
pub use delivery::ReportDelivery;
pub use report::{OfferReport, Report, report};

/// What the deployed function does: `handle`, and a report sent where `delivery` says.
pub async fn serve(
    event: LambdaEvent<Value>,
    deps: &Deps,
    delivery: &ReportDelivery,
) -> Result<Value, WorkflowError> {
    let scheduled = is_report_request(&event.payload);
    let output = handle(event, deps).await?;
    if scheduled {
        delivery
            .send(&output)
            .await
            .inspect_err(WorkflowError::log_failure)?;
    }
    Ok(output)
}

pub async fn handle(event: LambdaEvent<Value>, deps: &Deps) -> Result<Value, WorkflowError> {
    respond(event, deps)
        .await
        .inspect_err(WorkflowError::log_failure)
}

async fn respond(event: LambdaEvent<Value>, deps: &Deps) -> Result<Value, WorkflowError> {
    let now = deps.clock.now();
    let output = if is_report_request(&event.payload) {
        let config = &deps.config;
        let market_for = |api| deps.market(api, &event.context);
        serde_json::to_value(report(market_for, config.marketplace_api, &config.watch_offers).await)
    } else {
        let state = WorkflowState::from_value(event.payload)?;
        let market = deps.market(state.request.api(), &event.context);
        serde_json::to_value(check(&market, &deps.config, now, state).await?)
    };
    output.map_err(|e| {
        WorkflowError::invalid_input(format!("output could not be written as JSON: {e}"))
    })
}

/// An EventBridge "Scheduled Event", or `{"mode": "report"}` from a schedule with a fixed input.
fn is_report_request(payload: &Value) -> bool {
    let scheduled =
        payload["source"] == "aws.events" && payload["detail-type"] == "Scheduled Event";
    scheduled || payload["mode"] == "report"
}
