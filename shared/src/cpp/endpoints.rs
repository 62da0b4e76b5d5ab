//! One thin typed method per CPP endpoint the workflow or an operator needs (docs/cpp-api.md).

use reqwest::Method;
use reqwest::header::{ETAG, HeaderMap};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::cpp::client::{ApiRequest, CppClient};
use crate::cpp::error::{CppError, ErrorKind};
use crate::cpp::offer::{ETag, Offer};
use crate::cpp::operation::{
    OfferStatus, OfferSummary, Operation, OperationStatus, Publisher, Submission,
};
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

/// Where to poll a long-running operation, as the service said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationRef {
    /// The `Location` (or `Operation-Location`) header: a path or an absolute URL.
    pub location: String,
    /// The operation GUID, when the location names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl OperationRef {
    /// Where to poll an operation known from the submissions list.
    pub fn for_submission(publisher: &str, offer: &str, operation_id: &str) -> Self {
        let segment = |s: &str| percent_encoding::utf8_percent_encode(s, PATH_SEGMENT).to_string();
        Self {
            location: format!(
                "/api/publishers/{}/offers/{}/operations/{}",
                segment(publisher),
                segment(offer),
                segment(operation_id)
            ),
            id: Some(operation_id.to_owned()),
        }
    }

    pub fn from_location(location: &str) -> Self {
        let path = location.split(['?', '#']).next().unwrap_or_default();
        let mut segments = path.trim_end_matches('/').rsplit('/');
        let last = segments.next().unwrap_or_default();
        // The legacy form `/api/operations/{publisher}${offer}${n}$preview` names no id.
        let id = (segments.next() == Some("operations") && !last.contains('$') && !last.is_empty())
            .then(|| last.to_owned());
        Self {
            location: location.to_owned(),
            id,
        }
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
    pub async fn list_publishers(&self) -> Result<Vec<Publisher>, CppError> {
        self.get_json(&["publishers"]).await
    }

    pub async fn list_offers(&self, publisher: &str) -> Result<Vec<OfferSummary>, CppError> {
        self.get_json(&["publishers", publisher, "offers"]).await
    }

    /// Reads an offer with its ETag.
    pub async fn get_offer(
        &self,
        publisher: &str,
        offer: &str,
        view: OfferView,
    ) -> Result<Offer, CppError> {
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
        let response = self.call(get(url)).await?;
        let document: Value = Self::decode(&describe, &response.body)?;
        Offer::new(document, etag(&response.headers))
            .map_err(|e| CppError::new(ErrorKind::Decode, describe, e.to_string()))
    }

    /// Writes the offer back with `If-Match` set to the ETag it was read with: a concurrent change
    /// gives 412 (`ErrorKind::PreconditionFailed`) instead of being overwritten.
    pub async fn put_offer(&self, publisher: &str, offer: &Offer) -> Result<Offer, CppError> {
        let etag = offer.etag().ok_or_else(|| {
            CppError::new(
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
    pub async fn overwrite_offer(&self, publisher: &str, offer: &Offer) -> Result<Offer, CppError> {
        self.write_offer(publisher, offer, Some("*"), Replay::NotSafe)
            .await
    }

    /// Creates a new offer (no `If-Match`; an existing offer answers 409).
    pub async fn create_offer(&self, publisher: &str, offer: &Offer) -> Result<Offer, CppError> {
        self.write_offer(publisher, offer, None, Replay::NotSafe)
            .await
    }

    /// Starts publishing the draft to preview. Never re-sent once it may have been received.
    pub async fn publish(
        &self,
        publisher: &str,
        offer: &str,
        notification_emails: &str,
    ) -> Result<OperationRef, CppError> {
        let body = json!({"metadata": {"notification-emails": notification_emails}});
        self.start_operation(
            &["publishers", publisher, "offers", offer, "publish"],
            Some(&body),
        )
        .await
    }

    /// Takes the previewed offer live. Never re-sent once it may have been received.
    pub async fn go_live(&self, publisher: &str, offer: &str) -> Result<OperationRef, CppError> {
        self.start_operation(&["publishers", publisher, "offers", offer, "golive"], None)
            .await
    }

    /// Cancels the operation in progress on the offer.
    pub async fn cancel(&self, publisher: &str, offer: &str) -> Result<CancelOutcome, CppError> {
        let url = self.api_url(&["publishers", publisher, "offers", offer, "cancel"]);
        let response = self.call(post(url, None)).await?;
        Ok(match response.status.as_u16() {
            202 => CancelOutcome::Accepted(
                operation_location(&response.headers).map(|l| OperationRef::from_location(&l)),
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
    ) -> Result<Vec<Submission>, CppError> {
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
        let response = self.call(get(url)).await?;
        let mut list: Vec<Submission> = Self::decode(&describe, &response.body)?;
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
    ) -> Result<Operation, CppError> {
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
    pub async fn get_operation_at(&self, location: &str) -> Result<Operation, CppError> {
        let url = self.location_url(location)?;
        let describe = format!("GET {}", url.path());
        let response = self.call(get(url)).await?;
        Self::decode(&describe, &response.body)
    }

    pub async fn offer_status(
        &self,
        publisher: &str,
        offer: &str,
    ) -> Result<OfferStatus, CppError> {
        self.get_json(&["publishers", publisher, "offers", offer, "status"])
            .await
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        segments: &[&str],
    ) -> Result<T, CppError> {
        let url = self.api_url(segments);
        let describe = format!("GET {}", url.path());
        let response = self.call(get(url)).await?;
        Self::decode(&describe, &response.body)
    }

    async fn write_offer(
        &self,
        publisher: &str,
        offer: &Offer,
        if_match: Option<&str>,
        replay: Replay,
    ) -> Result<Offer, CppError> {
        let offer_id = offer.id().ok_or_else(|| {
            CppError::new(
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
        let document: Value = Self::decode(&describe, &response.body)?;
        Offer::new(document, etag(&response.headers))
            .map_err(|e| CppError::new(ErrorKind::Decode, describe, e.to_string()))
    }

    async fn start_operation(
        &self,
        segments: &[&str],
        body: Option<&Value>,
    ) -> Result<OperationRef, CppError> {
        let url = self.api_url(segments);
        let describe = format!("POST {}", url.path());
        let response = self.call(post(url, body)).await?;
        let location = operation_location(&response.headers).ok_or_else(|| {
            CppError::new(
                ErrorKind::Decode,
                describe,
                "accepted, but neither Location nor Operation-Location was returned",
            )
        })?;
        Ok(OperationRef::from_location(&location))
    }
}

fn get<'a>(url: url::Url) -> ApiRequest<'a> {
    ApiRequest {
        method: Method::GET,
        url,
        body: None,
        if_match: None,
        replay: Replay::Safe,
    }
}

fn post(url: url::Url, body: Option<&Value>) -> ApiRequest<'_> {
    ApiRequest {
        method: Method::POST,
        url,
        body,
        if_match: None,
        replay: Replay::NotSafe,
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
    use super::OperationRef;

    #[test]
    fn operation_ids_are_read_from_migrated_locations_only() {
        let migrated = OperationRef::from_location(
            "/api/publishers/p/offers/o/operations/408a4835-0000-1000-0000-000000000000?api-version=2017-10-31",
        );
        assert_eq!(
            migrated.id.as_deref(),
            Some("408a4835-0000-1000-0000-000000000000")
        );
        let absolute = OperationRef::from_location(
            "https://cloudpartner.azure.com/api/publishers/p/offers/o/operations/abc/",
        );
        assert_eq!(absolute.id.as_deref(), Some("abc"));
        let legacy = OperationRef::from_location(
            "/api/operations/contoso$contoso-offer$2$preview?api-version=2017-10-31",
        );
        let odd = OperationRef::for_submission("p", "o?x", "a b/c");
        assert_eq!(
            odd.location,
            "/api/publishers/p/offers/o%3Fx/operations/a%20b%2Fc"
        );
        assert_eq!(legacy.id, None);
    }
}
