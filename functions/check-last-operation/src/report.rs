//! The scheduled status report: the latest operation of each watched offer, one log line each.

use serde::Serialize;
use shared::config::WatchedOffer;
use shared::cpp::{CppClient, CppError};
use shared::workflow::polling::{classify, messages_for_people};
use shared::workflow::{OperationKind, RunStatus};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub checked: usize,
    pub failed: usize,
    pub offers: Vec<OfferReport>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferReport {
    pub publisher_id: String,
    pub offer_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<OperationKind>,
    /// `none` when the offer has never had an operation.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_percentage: Option<u8>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Checks every watched offer; one failing does not stop the others.
pub async fn report(client: &CppClient, offers: &[WatchedOffer]) -> Report {
    let mut reports = Vec::with_capacity(offers.len());
    for offer in offers {
        let report = match latest(client, offer).await {
            Ok(report) => report,
            Err(e) => {
                let mut failed = empty(offer, "error");
                failed.error = Some(e.to_string());
                failed
            }
        };
        tracing::info!(
            publisher_id = %report.publisher_id, offer_id = %report.offer_id, operation_id = report.operation_id.as_deref(),
            kind = report.kind.map(tracing::field::debug), status = %report.status, step = report.step.as_deref(),
            progress = report.progress_percentage, error = report.error.as_deref(), "offer status"
        );
        reports.push(report);
    }
    Report {
        checked: reports.len(),
        failed: reports.iter().filter(|r| r.error.is_some()).count(),
        offers: reports,
    }
}

async fn latest(client: &CppClient, offer: &WatchedOffer) -> Result<OfferReport, CppError> {
    let operations = client
        .list_operations(&offer.publisher_id, &offer.offer_id, None)
        .await?;
    let Some(newest) = operations.first() else {
        return Ok(empty(offer, "none"));
    };
    let operation = client
        .get_operation(&offer.publisher_id, &offer.offer_id, &newest.id)
        .await?;
    let kind = if newest.is_go_live() {
        OperationKind::GoLive
    } else {
        OperationKind::Publish
    };
    let status = match classify(kind, &operation) {
        RunStatus::Succeeded if kind == OperationKind::Publish => "previewReady",
        RunStatus::Succeeded => "live",
        RunStatus::Running => "running",
        RunStatus::Failed => "failed",
        RunStatus::Canceled => "canceled",
    };
    let step = operation.current_step();
    Ok(OfferReport {
        operation_id: Some(newest.id.clone()),
        kind: Some(kind),
        status: status.to_owned(),
        step: step.map(|s| s.label().to_owned()),
        progress_percentage: step.and_then(|s| s.progress_percentage),
        messages: messages_for_people(&operation),
        ..empty(offer, status)
    })
}

fn empty(offer: &WatchedOffer, status: &str) -> OfferReport {
    OfferReport {
        publisher_id: offer.publisher_id.clone(),
        offer_id: offer.offer_id.clone(),
        operation_id: None,
        kind: None,
        status: status.to_owned(),
        step: None,
        progress_percentage: None,
        messages: Vec::new(),
        error: None,
    }
}
