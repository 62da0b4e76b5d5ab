//! One thin typed method per CPP endpoint the workflow or an operator needs (docs/cpp-api.md).

use reqwest::Method;
use reqwest::header::{ETAG, HeaderMap};
use serde_json::{Value, json};

use crate::cpp::client::CppClient;
use crate::cpp::offer::{ETag, Offer};
use crate::cpp::operation::{
    OfferStatus, OfferSummary, Operation, OperationStatus, Publisher, Submission,
};
use crate::http::ApiRequest;
use crate::http::{ApiError, ErrorKind};
use crate::marketplace::OperationRef;
use crate::retry::Replay;

/// What must be escaped in a URL path segment.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// Which stored copy of an offer to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfferView {
    /// The editable draft (what GET returns by default, and what a PUT must start from).
    Draft,
    /// What preview audiences see once a publish reached sign-off.
    Preview,
    /// What is live.
    Production,
    /// A numbered version (it goes up with each publish).
    Version(u64),
}

/// Where to poll an operation known from the submissions list.
pub fn operation_for_submission(publisher: &str, offer: &str, operation_id: &str) -> OperationRef {
    let segment = |s: &str| percent_encoding::utf8_percent_encode(s, PATH_SEGMENT).to_string();
    OperationRef {
        location: format!(
            "/api/publishers/{}/offers/{}/operations/{}",
            segment(publisher),
            segment(offer),
            segment(operation_id)
        ),
        id: Some(operation_id.to_owned()),
    }
}

/// The operation at a `Location` header; its id when the location names one.
pub fn operation_at(location: &str) -> OperationRef {
    let path = location.split(['?', '#']).next().unwrap_or_default();
    let mut segments = path.trim_end_matches('/').rsplit('/');
    let last = segments.next().unwrap_or_default();
    // The legacy form `/api/operations/{publisher}${offer}${n}$preview` names no id.
    let id = (segments.next() == Some("operations") && !last.contains('$') && !last.is_empty())
        .then(|| last.to_owned());
    OperationRef {
        location: location.to_owned(),
        id,
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CancelOutcome {
    /// 200: nothing was running, or it was cancelled at once.
    Done,
    /// 202: cancelling takes a while; poll the operation (or the submissions) until it reads canceled.
    Accepted(Option<OperationRef>),
}

impl CppClient {
    pub async fn list_publishers(&self) -> Result<Vec<Publisher>, ApiError> {
        self.get_json(&["publishers"]).await
    }

    pub async fn list_offers(&self, publisher: &str) -> Result<Vec<OfferSummary>, ApiError> {
        self.get_json(&["publishers", publisher, "offers"]).await
    }

    /// Reads an offer with its ETag.
    pub async fn get_offer(
        &self,
        publisher: &str,
        offer: &str,
        view: OfferView,
    ) -> Result<Offer, ApiError> {
        let number;
        let mut segments = vec!["publishers", publisher, "offers", offer];
        match view {
            OfferView::Draft => {}
            OfferView::Preview => segments.extend(["slot", "preview"]),
            OfferView::Production => segments.extend(["slot", "production"]),
            OfferView::Version(n) => {
                number = n.to_string();
                segments.extend(["versions", number.as_str()]);
            }
        }
        let url = self.api_url(&segments);
        let describe = format!("GET {}", url.path());
        let response = self.call(ApiRequest::get(url)).await?;
        let document: Value = self.decode(&describe, &response.body)?;
        Offer::new(document, etag(&response.headers))
            .map_err(|e| ApiError::new(ErrorKind::Decode, describe, e.to_string()))
    }

    /// Writes the offer back with `If-Match` set to the ETag it was read with: a concurrent change
    /// gives 412 (`ErrorKind::PreconditionFailed`) instead of being overwritten.
    pub async fn put_offer(&self, publisher: &str, offer: &Offer) -> Result<Offer, ApiError> {
        let etag = offer.etag().ok_or_else(|| {
            ApiError::new(
                ErrorKind::Config,
                "PUT offer",
                "the offer has no ETag to send in If-Match; read it first",
            )
        })?;
        self.write_offer(publisher, offer, Some(&etag.0), Replay::Safe)
            .await
    }

    /// Writes the offer with `If-Match: *`, discarding whatever changed since it was read.
    /// Only for an operator who asks for it explicitly.
    pub async fn overwrite_offer(&self, publisher: &str, offer: &Offer) -> Result<Offer, ApiError> {
        self.write_offer(publisher, offer, Some("*"), Replay::NotSafe)
            .await
    }

    /// Creates a new offer (no `If-Match`; an existing offer answers 409).
    pub async fn create_offer(&self, publisher: &str, offer: &Offer) -> Result<Offer, ApiError> {
        self.write_offer(publisher, offer, None, Replay::NotSafe)
            .await
    }

    /// Starts publishing the draft to preview. Never re-sent once it may have been received.
    pub async fn publish(
        &self,
        publisher: &str,
        offer: &str,
        notification_emails: &str,
    ) -> Result<OperationRef, ApiError> {
        let body = json!({"metadata": {"notification-emails": notification_emails}});
        self.start_operation(
            &["publishers", publisher, "offers", offer, "publish"],
            Some(&body),
        )
        .await
    }

    /// Takes the previewed offer live. Never re-sent once it may have been received.
    pub async fn go_live(&self, publisher: &str, offer: &str) -> Result<OperationRef, ApiError> {
        self.start_operation(&["publishers", publisher, "offers", offer, "golive"], None)
            .await
    }

    /// Cancels the operation in progress on the offer.
    pub async fn cancel(&self, publisher: &str, offer: &str) -> Result<CancelOutcome, ApiError> {
        let url = self.api_url(&["publishers", publisher, "offers", offer, "cancel"]);
        let response = self.call(ApiRequest::post(url, None)).await?;
        Ok(match response.status.as_u16() {
            202 => CancelOutcome::Accepted(
                operation_location(&response.headers).map(|l| operation_at(&l)),
            ),
            _ => CancelOutcome::Done,
        })
    }

    /// The offer's operations, newest first, optionally only those in `state`. The filter is also
    /// sent as `status=`, but the server's support for it is undocumented, so it is applied here too.
    pub async fn list_operations(
        &self,
        publisher: &str,
        offer: &str,
        state: Option<&OperationStatus>,
    ) -> Result<Vec<Submission>, ApiError> {
        let mut url = self.api_url(&["publishers", publisher, "offers", offer, "submissions", ""]);
        if let Some(state) = state {
            let name = serde_json::to_value(state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned));
            if let Some(name) = name {
                url.query_pairs_mut().append_pair("status", &name);
            }
        }
        let describe = format!("GET {}", url.path());
        let response = self.call(ApiRequest::get(url)).await?;
        let mut list: Vec<Submission> = self.decode(&describe, &response.body)?;
        if let Some(state) = state {
            list.retain(|s| &s.submission_state == state);
        }
        // RFC 3339 times of one service share a format, so text order is time order; unknown times sort last.
        list.sort_by(|a, b| b.changed_time.cmp(&a.changed_time));
        Ok(list)
    }

    pub async fn get_operation(
        &self,
        publisher: &str,
        offer: &str,
        operation_id: &str,
    ) -> Result<Operation, ApiError> {
        self.get_json(&[
            "publishers",
            publisher,
            "offers",
            offer,
            "operations",
            operation_id,
        ])
        .await
    }

    /// Reads the operation at a `Location` / `Operation-Location` value, relative or absolute.
    pub async fn get_operation_at(&self, location: &str) -> Result<Operation, ApiError> {
        let url = self.location_url(location)?;
        let describe = format!("GET {}", url.path());
        let response = self.call(ApiRequest::get(url)).await?;
        self.decode(&describe, &response.body)
    }

    pub async fn offer_status(
        &self,
        publisher: &str,
        offer: &str,
    ) -> Result<OfferStatus, ApiError> {
        self.get_json(&["publishers", publisher, "offers", offer, "status"])
            .await
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        segments: &[&str],
    ) -> Result<T, ApiError> {
        let url = self.api_url(segments);
        let describe = format!("GET {}", url.path());
        let response = self.call(ApiRequest::get(url)).await?;
        self.decode(&describe, &response.body)
    }

    async fn write_offer(
        &self,
        publisher: &str,
        offer: &Offer,
        if_match: Option<&str>,
        replay: Replay,
    ) -> Result<Offer, ApiError> {
        let offer_id = offer.id().ok_or_else(|| {
            ApiError::new(
                ErrorKind::Config,
                "PUT offer",
                "the offer document has no id",
            )
        })?;
        let url = self.api_url(&["publishers", publisher, "offers", offer_id]);
        let describe = format!("PUT {}", url.path());
        let body = offer.to_value();
        let response = self
            .call(ApiRequest {
                method: Method::PUT,
                url,
                body: Some(&body),
                if_match,
                replay,
            })
            .await?;
        let document: Value = self.decode(&describe, &response.body)?;
        Offer::new(document, etag(&response.headers))
            .map_err(|e| ApiError::new(ErrorKind::Decode, describe, e.to_string()))
    }

    async fn start_operation(
        &self,
        segments: &[&str],
        body: Option<&Value>,
    ) -> Result<OperationRef, ApiError> {
        let url = self.api_url(segments);
        let describe = format!("POST {}", url.path());
        let response = self.call(ApiRequest::post(url, body)).await?;
        let location = operation_location(&response.headers).ok_or_else(|| {
            ApiError::new(
                ErrorKind::Decode,
                describe,
                "accepted, but neither Location nor Operation-Location was returned",
            )
        })?;
        Ok(operation_at(&location))
    }
}

fn etag(headers: &HeaderMap) -> Option<ETag> {
    headers
        .get(ETAG)
        .and_then(|v| v.to_str().ok())
        .map(|v| ETag(v.to_owned()))
}

/// 2020+ docs name `Location`, 2018 docs and some clients `Operation-Location`: read both.
fn operation_location(headers: &HeaderMap) -> Option<String> {
    ["location", "operation-location"]
        .into_iter()
        .find_map(|name| headers.get(name).and_then(|v| v.to_str().ok()))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::{operation_at, operation_for_submission};

    #[test]
    fn operation_ids_are_read_from_migrated_locations_only() {
        let migrated = operation_at(
            "/api/publishers/p/offers/o/operations/408a4835-0000-1000-0000-000000000000?api-version=2017-10-31",
        );
        assert_eq!(
            migrated.id.as_deref(),
            Some("408a4835-0000-1000-0000-000000000000")
        );
        let absolute = operation_at(
            "https://cloudpartner.azure.com/api/publishers/p/offers/o/operations/abc/",
        );
        assert_eq!(absolute.id.as_deref(), Some("abc"));
        let legacy =
            operation_at("/api/operations/contoso$contoso-offer$2$preview?api-version=2017-10-31");
        let odd = operation_for_submission("p", "o?x", "a b/c");
        assert_eq!(
            odd.location,
            "/api/publishers/p/offers/o%3Fx/operations/a%20b%2Fc"
        );
        assert_eq!(legacy.id, None);
    }
}
