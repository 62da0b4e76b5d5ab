//! The scheduled status report: the latest operation of each watched offer, one log line each,
//! and a text table for the people it is sent to (`text`).

use serde::Serialize;
use shared::config::WatchedOffer;
use shared::marketplace::{Api, MarketError, Marketplace, OfferId};
use shared::table::{Column, render};
use shared::workflow::{OperationKind, RunStatus};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub checked: usize,
    pub failed: usize,
    pub offers: Vec<OfferReport>,
    /// The same as a table, for e-mail.
    pub text: String,
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

/// Checks every watched offer, each through its API (`market_for`, `default_api` when the entry
/// names none); one failing does not stop the others.
pub async fn report<M: Marketplace>(
    market_for: impl Fn(Api) -> M,
    default_api: Api,
    offers: &[WatchedOffer],
) -> Report {
    let mut reports = Vec::with_capacity(offers.len());
    for offer in offers {
        let market = market_for(offer.api.unwrap_or(default_api));
        let report = match latest(&market, offer).await {
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
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    Report {
        checked: reports.len(),
        failed,
        text: table(&reports, failed),
        offers: reports,
    }
}

fn table(reports: &[OfferReport], failed: usize) -> String {
    let columns = [
        Column {
            heading: "OFFER",
            max: 60,
        },
        Column {
            heading: "KIND",
            max: 8,
        },
        Column {
            heading: "STATUS",
            max: 14,
        },
        Column {
            heading: "STEP",
            max: 40,
        },
        Column {
            heading: "OPERATION",
            max: 40,
        },
        Column {
            heading: "NOTE",
            max: 100,
        },
    ];
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            let step = match (&r.step, r.progress_percentage) {
                (Some(step), Some(p)) => format!("{step} {p}%"),
                (Some(step), None) => step.clone(),
                (None, _) => String::new(),
            };
            vec![
                format!("{}/{}", r.publisher_id, r.offer_id),
                match r.kind {
                    Some(OperationKind::Publish) => "publish".into(),
                    Some(OperationKind::GoLive) => "go-live".into(),
                    None => String::new(),
                },
                r.status.clone(),
                step,
                r.operation_id.clone().unwrap_or_default(),
                r.error.clone().unwrap_or_else(|| r.messages.join(" ")),
            ]
        })
        .collect();
    let unreadable = match failed {
        0 => String::new(),
        n => format!(" ({n} could not be read)"),
    };
    format!(
        "The latest operation of each of {} watched offers{unreadable}:\n\n{}",
        reports.len(),
        render(&columns, &rows)
    )
}

async fn latest<M: Marketplace>(
    market: &M,
    offer: &WatchedOffer,
) -> Result<OfferReport, MarketError> {
    let id = OfferId {
        publisher: offer.publisher_id.clone(),
        offer: offer.offer_id.clone(),
    };
    let operations = market.activity(&id).await?;
    let Some(newest) = operations.first() else {
        return Ok(empty(offer, "none"));
    };
    let operation = market.operation(&id, &newest.at, newest.kind).await?;
    let status = match (operation.status, newest.kind) {
        (RunStatus::Succeeded, OperationKind::Publish) => "previewReady",
        (RunStatus::Succeeded, OperationKind::GoLive) => "live",
        (RunStatus::Running, _) => "running",
        (RunStatus::Failed, _) => "failed",
        (RunStatus::Canceled, _) => "canceled",
        (RunStatus::Superseded, _) => "superseded",
    };
    Ok(OfferReport {
        operation_id: newest.at.id.clone(),
        kind: Some(newest.kind),
        status: status.to_owned(),
        step: operation.step,
        progress_percentage: operation.progress_percentage,
        messages: operation.messages,
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
