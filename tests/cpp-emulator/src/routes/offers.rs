//! Publishers and offer documents: list, get (draft, slot, version) and PUT with If-Match.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::{json_with_etag, parse_json};
use crate::app::App;
use crate::error::ApiError;
use crate::offers::Offer;
use crate::validation::validate_offer;

type OfferPath = Path<(String, String)>;

pub(super) async fn list_publishers(State(app): State<Arc<App>>) -> axum::Json<Value> {
    let (store, _) = app.settled();
    axum::Json(Value::Array(
        store.publishers().map(|p| p.to_json()).collect(),
    ))
}

pub(super) async fn list_offers(
    State(app): State<Arc<App>>,
    Path(publisher): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let (store, now) = app.settled();
    let summaries = store
        .publisher(&publisher)?
        .offers
        .iter()
        .map(|(id, offer)| offer.summary(id, &publisher, now, &app.config))
        .collect();
    Ok(axum::Json(Value::Array(summaries)))
}

pub(super) async fn get_offer(
    State(app): State<Arc<App>>,
    Path((publisher, offer)): OfferPath,
) -> Result<Response, ApiError> {
    let (store, now) = app.settled();
    let offer = store.offer(&publisher, &offer)?;
    Ok(json_with_etag(
        StatusCode::OK,
        offer.render_draft(now, &app.config),
        &offer.etag,
    ))
}

pub(super) async fn get_slot(
    State(app): State<Arc<App>>,
    Path((publisher, offer_id, slot)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (store, now) = app.settled();
    let offer = store.offer(&publisher, &offer_id)?;
    let doc = offer.render_slot(&slot, now, &app.config)?.ok_or_else(|| {
        ApiError::not_found(format!(
            "Offer '{offer_id}' has never been published to the {slot} slot."
        ))
    })?;
    Ok(json_with_etag(StatusCode::OK, doc, &offer.etag))
}

pub(super) async fn get_version(
    State(app): State<Arc<App>>,
    Path((publisher, offer_id, version)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let number: u64 = version.parse().map_err(|_| {
        ApiError::bad_request(format!("Offer version '{version}' is not an integer."))
    })?;
    let (store, now) = app.settled();
    let offer = store.offer(&publisher, &offer_id)?;
    let snapshot = offer.versions.get(&number).ok_or_else(|| {
        ApiError::not_found(format!(
            "Version {number} of offer '{offer_id}' was not found."
        ))
    })?;
    Ok(json_with_etag(
        StatusCode::OK,
        offer.render_snapshot(snapshot, now, &app.config),
        &offer.etag,
    ))
}

/// Compares ETags loosely: weak prefix, quotes and URL-encoding of ':' do not matter.
fn etag_matches(sent: &str, current: &str) -> bool {
    fn normal(tag: &str) -> String {
        let tag = tag.trim();
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        tag.trim_matches('"')
            .replace("%3A", ":")
            .replace("%3a", ":")
    }
    sent.split(',')
        .any(|tag| tag.trim() == "*" || normal(tag) == normal(current))
}

fn check_identity(doc: &Value, publisher: &str, offer: &str) -> Result<(), ApiError> {
    if !doc.is_object() {
        return Err(ApiError::bad_request(
            "The offer document must be a JSON object.",
        ));
    }
    if doc.get("id").and_then(Value::as_str) != Some(offer) {
        return Err(ApiError::bad_request(format!(
            "The offer document's id must equal the offer id in the URL ('{offer}')."
        )));
    }
    if let Some(sent) = doc.get("publisherId")
        && sent.as_str() != Some(publisher)
    {
        return Err(ApiError::bad_request(format!(
            "The offer document's publisherId must equal the publisher id in the URL ('{publisher}')."
        )));
    }
    Ok(())
}

pub(super) async fn put_offer(
    State(app): State<Arc<App>>,
    Path((publisher, offer_id)): OfferPath,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let if_match = headers
        .get(header::IF_MATCH)
        .map(|v| v.to_str().map(str::to_owned))
        .transpose()
        .map_err(|_| ApiError::bad_request("The If-Match header is not valid text."))?;
    let (mut store, now) = app.settled();
    store.publisher(&publisher)?;
    let doc: Value = parse_json(&body)?;
    check_identity(&doc, &publisher, &offer_id)?;
    validate_offer(&doc)?;

    let stamp = store.stamp(now);
    let offers = &mut store.publisher_mut(&publisher)?.offers;
    let (status, offer) = match offers.get_mut(&offer_id) {
        None if if_match.is_some() => {
            return Err(ApiError::not_found(format!(
                "Offer '{offer_id}' was not found. Leave out If-Match to create it."
            )));
        }
        None => {
            let created = offers
                .entry(offer_id.clone())
                .or_insert(Offer::new(doc, stamp));
            (StatusCode::CREATED, created)
        }
        Some(existing) => {
            match if_match.as_deref() {
                None => {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "InvalidResourceId",
                        "Offer ID already exists. If you wanted to update an existing offer, please ensure If-Match header is specified as per documentation.",
                    ));
                }
                Some(tag) if !etag_matches(tag, &existing.etag) => {
                    return Err(ApiError::new(
                        StatusCode::PRECONDITION_FAILED,
                        "PreconditionFailed",
                        "The ETag in If-Match does not match the offer's current ETag. Get the offer again and re-apply your change.",
                    ));
                }
                Some(_) => existing.replace_draft(doc, stamp),
            }
            (StatusCode::OK, existing)
        }
    };
    tracing::info!(%publisher, offer = %offer_id, status = status.as_u16(), "offer written");
    Ok(json_with_etag(
        status,
        offer.render_draft(now, &app.config),
        &offer.etag,
    ))
}

#[cfg(test)]
mod tests {
    use super::etag_matches;

    #[test]
    fn etags_compare_loosely() {
        let current = "W/\"datetime'2017-06-07T06%3A15%3A40.4771399Z'\"";
        assert!(etag_matches(current, current));
        assert!(etag_matches(
            "\"datetime'2017-06-07T06:15:40.4771399Z'\"",
            current
        ));
        assert!(etag_matches("*", current));
        assert!(!etag_matches(
            "W/\"datetime'2017-06-07T06%3A15%3A40.4771398Z'\"",
            current
        ));
    }
}
