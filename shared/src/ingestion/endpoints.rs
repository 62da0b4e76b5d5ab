//! One thin typed method per Product Ingestion endpoint the workflow needs (docs/ingestion-api.md).

use serde_json::{Value, json};

use crate::http::{ApiError, ErrorKind};
use crate::ingestion::client::{API, IngestionClient};
use crate::ingestion::documents::{JobStatus, SubmissionEntry};

/// The product types whose plans hold VM images.
const VM_PRODUCT_TYPES: [&str; 2] = ["azureVirtualMachine", "coreVirtualMachine"];

fn error(kind: ErrorKind, request: &str, message: impl AsRef<str>) -> ApiError {
    ApiError::new(kind, request, message).from_api(API)
}

/// The GUID of a durable id `type/{GUID}[/...]`, or its last segment.
fn guid(durable_id: &str) -> &str {
    durable_id.rsplit('/').next().unwrap_or(durable_id)
}

fn external_id(resource: &Value) -> Option<&str> {
    let identity = resource.get("identity")?;
    identity
        .get("externalId")
        .or_else(|| identity.get("externalID"))
        .and_then(Value::as_str)
}

impl IngestionClient {
    /// The product GUID of the offer `offer` (its external id), learned once per cold start.
    pub async fn product_id(&self, offer: &str) -> Result<String, ApiError> {
        if let Some(known) = self.ids().products.get(offer) {
            return Ok(known.clone());
        }
        let url = self.url(&["product"], &[("externalId", offer)]);
        let products = self.list(url).await?;
        let Some(product) = products.iter().find(|p| external_id(p) == Some(offer)) else {
            return Err(error(
                ErrorKind::OfferNotFound,
                "GET /product",
                format!(
                    "no product has the external id {offer:?} (or the app is not a Manager of its Partner Center account)"
                ),
            ));
        };
        let kind = product
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !VM_PRODUCT_TYPES.contains(&kind) {
            return Err(error(
                ErrorKind::InvalidOffer,
                "GET /product",
                format!(
                    "offer {offer} is a {kind} product; only virtual machine offers are supported"
                ),
            ));
        }
        let id = product
            .get("id")
            .and_then(Value::as_str)
            .map(guid)
            .unwrap_or_default()
            .to_owned();
        self.ids().products.insert(offer.to_owned(), id.clone());
        Ok(id)
    }

    /// The durable id `plan/{P}/{L}` of plan `plan` (its external id) in product `product`.
    pub async fn plan_id(&self, product: &str, plan: &str) -> Result<String, ApiError> {
        let key = (product.to_owned(), plan.to_owned());
        if let Some(known) = self.ids().plans.get(&key) {
            return Ok(known.clone());
        }
        let product_ref = format!("product/{product}");
        let url = self.url(
            &["plan"],
            &[("product", &product_ref), ("externalId", plan)],
        );
        let plans = self.list(url).await?;
        let Some(found) = plans.iter().find(|p| external_id(p) == Some(plan)) else {
            let all = self
                .list(self.url(&["plan"], &[("product", &product_ref)]))
                .await?;
            let names: Vec<&str> = all.iter().filter_map(external_id).collect();
            return Err(error(
                ErrorKind::PlanNotFound,
                "GET /plan",
                format!(
                    "plan {plan} is not in the product (its plans: {})",
                    names.join(", ")
                ),
            ));
        };
        let id = found
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        self.ids().plans.insert(key, id.clone());
        Ok(id)
    }

    /// The product's resources in `target` (`draft`, `preview` or `live`).
    pub async fn resource_tree(&self, product: &str, target: &str) -> Result<Value, ApiError> {
        let url = self.url(
            &["resource-tree", "product", product],
            &[("targetType", target)],
        );
        self.get(url).await
    }

    /// Sends `resources` in one configure request; the answer is the job it started.
    pub async fn configure(&self, resources: Vec<Value>) -> Result<JobStatus, ApiError> {
        let body = json!({
            "$schema": format!("https://schema.mp.microsoft.com/schema/configure/{}", self.schema_version()),
            "resources": resources,
        });
        // Whatever it changes, the submissions list read before is no longer what Microsoft holds.
        self.remember_listed("", None);
        let answer = self.post(self.url(&["configure"], &[]), &body).await?;
        serde_json::from_value(answer).map_err(|e| {
            error(
                ErrorKind::Decode,
                "POST /configure",
                format!("job unreadable: {e}"),
            )
        })
    }

    pub async fn job_status(&self, job_id: &str) -> Result<JobStatus, ApiError> {
        let answer = self
            .get(self.url(&["configure", job_id, "status"], &[]))
            .await?;
        serde_json::from_value(answer).map_err(|e| {
            error(
                ErrorKind::Decode,
                "GET /configure/status",
                format!("job unreadable: {e}"),
            )
        })
    }

    /// `POST configure/{jobId}/cancel` (§4.6): refused (400) once the job has finished.
    pub async fn cancel_job(&self, job_id: &str) -> Result<JobStatus, ApiError> {
        let answer = self
            .post(self.url(&["configure", job_id, "cancel"], &[]), &json!({}))
            .await?;
        serde_json::from_value(answer).map_err(|e| {
            error(
                ErrorKind::Decode,
                "POST /configure/cancel",
                format!("job unreadable: {e}"),
            )
        })
    }

    /// The product's current submissions: the draft entry and at most one preview and one live
    /// (two live while going live, in some accounts).
    pub async fn submissions(&self, product: &str) -> Result<Vec<SubmissionEntry>, ApiError> {
        let items = self.list(self.url(&["submission", product], &[])).await?;
        items
            .into_iter()
            .map(|item| {
                serde_json::from_value(item).map_err(|e| {
                    error(
                        ErrorKind::Decode,
                        "GET /submission",
                        format!("submission unreadable: {e}"),
                    )
                })
            })
            .collect()
    }

    pub async fn submission(
        &self,
        product: &str,
        number: &str,
    ) -> Result<SubmissionEntry, ApiError> {
        let answer = self
            .get(self.url(&["submission", product, number], &[]))
            .await?;
        serde_json::from_value(answer).map_err(|e| {
            error(
                ErrorKind::Decode,
                "GET /submission",
                format!("submission unreadable: {e}"),
            )
        })
    }
}
