//! Finding an offer and reading what it holds: the durable ids (learned once per cold start), the
//! submissions list (read once per invocation until the next configure), a plan's technical
//! configuration in a target.

use serde_json::Value;

use crate::http::ApiError;
use crate::ingestion::documents::SubmissionEntry;
use crate::ingestion::{IngestionClient, techconfig};
use crate::marketplace::{ErrorKind, MarketError, OfferId};

/// The error with what was being done; the kinds that already name what is missing keep their text.
pub(crate) fn in_context(context: &str, error: ApiError) -> MarketError {
    match error.kind {
        // These already say what is missing.
        ErrorKind::OfferNotFound | ErrorKind::PlanNotFound | ErrorKind::InvalidOffer => {
            MarketError::new(error.kind, format!("{context}: {}", error.message))
        }
        _ => MarketError::new(error.kind, format!("{context}: {error}")),
    }
}

impl IngestionClient {
    /// The product GUID and the plan's durable id.
    pub(crate) async fn locate(
        &self,
        offer: &OfferId,
        plan: &str,
    ) -> Result<(String, String), MarketError> {
        let context = format!("finding offer {offer} plan {plan}");
        let product = self
            .product_id(&offer.offer)
            .await
            .map_err(|e| in_context(&context, e))?;
        let plan_id = self
            .plan_id(&product, plan)
            .await
            .map_err(|e| in_context(&context, e))?;
        Ok((product, plan_id))
    }

    pub(crate) async fn product(&self, offer: &OfferId) -> Result<String, MarketError> {
        self.product_id(&offer.offer)
            .await
            .map_err(|e| in_context(&format!("finding offer {offer}"), e))
    }

    /// The product's submissions, read once per invocation until the next configure: the calls of
    /// one invocation are seconds apart, and each guard before a write sees what Microsoft holds.
    pub(crate) async fn entries(
        &self,
        offer: &OfferId,
        product: &str,
    ) -> Result<Vec<SubmissionEntry>, MarketError> {
        if let Some(entries) = self.listed(product) {
            return Ok(entries);
        }
        let entries = self
            .submissions(product)
            .await
            .map_err(|e| in_context(&format!("listing the submissions of {offer}"), e))?;
        self.remember_listed(product, Some(entries.clone()));
        Ok(entries)
    }

    /// The plan's tech-config in `target`, and its versions.
    pub(crate) async fn techconfig_in(
        &self,
        offer: &OfferId,
        product: &str,
        plan_id: &str,
        target: &str,
    ) -> Result<Option<Value>, MarketError> {
        let tree = self
            .resource_tree(product, target)
            .await
            .map_err(|e| in_context(&format!("reading the {target} of {offer}"), e))?;
        Ok(techconfig::find(&tree, plan_id).cloned())
    }
}
