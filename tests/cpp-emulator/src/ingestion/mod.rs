//! The Partner Center Product Ingestion API (`/rp/product-ingestion`): products as resource trees,
//! configure jobs and submissions, with the quirks of `docs/ingestion-api.md` §5 and §7.6.

pub(crate) mod configure;
pub(crate) mod control;
pub(crate) mod error;
pub(crate) mod jobs;
pub(crate) mod products;
pub(crate) mod routes;
pub(crate) mod settings;
pub(crate) mod submissions;
pub(crate) mod techconfig;
pub(crate) mod validate;

use std::time::Duration;

use serde_json::{Value, json};
use time::OffsetDateTime;

use jobs::Job;
use products::{Product, Target};
use settings::IngestionSettings;
use submissions::Entry;

/// Path prefix of the API on the emulator: a client's base URL is `{base_url}/rp/product-ingestion`.
pub const PI_PREFIX: &str = "/rp/product-ingestion";
/// The token audience of the API (v1 `resource`, with or without a trailing slash).
pub const PI_RESOURCE: &str = "https://graph.microsoft.com";
/// The v2 `scope` for the API.
pub const PI_SCOPE: &str = "https://graph.microsoft.com/.default";
/// Seeded product `contoso-linux` (§7.1).
pub const DEFAULT_PRODUCT_ID: &str = "3f2b8c1e-7a4d-4e9b-9c61-2d5e8f0a1b23";
pub const DEFAULT_PRODUCT_EXTERNAL_ID: &str = "contoso-linux";
/// Plan `contoso-linux-gen2` (SKUs x64Gen2 + x64Gen1, versions 1.0.20260101 deprecated and 1.0.20260301).
pub const DEFAULT_PLAN_ID: &str = "9a1c4e77-0b3d-4f2a-8e5c-6d7f8a9b0c1d";
/// Plan `contoso-linux-single` (one SKU x64Gen2 `contoso-linux-single`, version 1.0.20260301).
pub const SINGLE_PLAN_ID: &str = "5d8e2b14-6c3f-4a9e-b7d2-1f0e9c8a7b65";
/// The seeded live submission, shared by the preview and live entries.
pub const DEFAULT_LIVE_SUBMISSION_ID: &str = "1152921505691234567";
/// The id of the first new submission; each later one is larger.
pub const FIRST_NEW_SUBMISSION_ID: &str = "1152921505699876543";

/// The seeded product as a resource tree (§7.1 plus a second plan and the other resource types).
pub const DEFAULT_PRODUCT_JSON: &str = include_str!("../../fixtures/contoso-linux-product.json");

/// [`DEFAULT_PRODUCT_JSON`] parsed.
pub fn default_product() -> Value {
    serde_json::from_str(DEFAULT_PRODUCT_JSON).unwrap_or(Value::Null)
}

#[derive(Debug)]
pub(crate) struct Ingestion {
    pub settings: IngestionSettings,
    pub products: Vec<Product>,
    pub jobs: Vec<Job>,
    next_submission: u64,
    /// Counts resource-tree reads: the seed of each read's order.
    reads: u64,
}

impl Ingestion {
    pub(crate) fn new(settings: IngestionSettings, seed: bool, now: OffsetDateTime) -> Self {
        let mut ingestion = Self {
            settings,
            products: Vec::new(),
            jobs: Vec::new(),
            next_submission: FIRST_NEW_SUBMISSION_ID.parse().unwrap_or(1 << 60),
            reads: 0,
        };
        if seed && let Err(error) = ingestion.seed_published(now) {
            tracing::error!(%error, "could not seed the default product");
        }
        ingestion
    }

    /// The default product, already live and in preview as submission `DEFAULT_LIVE_SUBMISSION_ID`.
    fn seed_published(&mut self, now: OffsetDateTime) -> Result<(), String> {
        self.seed_live(&default_product(), now).map(|_| ())
    }

    /// Adds a product whose draft is also its preview and live, as submission
    /// `DEFAULT_LIVE_SUBMISSION_ID` published a month ago; returns its GUID.
    pub(crate) fn seed_live(
        &mut self,
        tree: &Value,
        now: OffsetDateTime,
    ) -> Result<String, String> {
        let id = self.seed(tree)?;
        let created = now - Duration::from_secs(30 * 86_400);
        if let Some(product) = self.products.iter_mut().find(|p| p.id == id) {
            product.preview = Some(product.draft.clone());
            product.live = Some(product.draft.clone());
            let mut entry = Entry::new(
                DEFAULT_LIVE_SUBMISSION_ID.to_owned(),
                Target::Preview,
                created,
                0,
            );
            entry.finish("succeeded");
            let mut live = entry.clone();
            live.target = Target::Live;
            product.submissions.preview = Some(entry);
            product.submissions.live = Some(live);
        }
        Ok(id)
    }

    /// Adds (or replaces, by id or externalId) a never-submitted product; returns its GUID.
    pub(crate) fn seed(&mut self, tree: &Value) -> Result<String, String> {
        let product = Product::from_tree(tree)?;
        let id = product.id.clone();
        self.products.retain(|p| {
            p.id != product.id && !p.external_id.eq_ignore_ascii_case(&product.external_id)
        });
        self.jobs.retain(|j| j.product != id);
        self.products.push(product);
        Ok(id)
    }

    pub(crate) fn product(&self, guid: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.id == guid)
    }

    pub(crate) fn product_mut(&mut self, guid: &str) -> Option<&mut Product> {
        self.products.iter_mut().find(|p| p.id == guid)
    }

    pub(crate) fn by_external_id(&mut self, external_id: &str) -> Option<&mut Product> {
        self.products
            .iter_mut()
            .find(|p| p.external_id.eq_ignore_ascii_case(external_id))
    }

    pub(crate) fn job_index(&self, id: &str) -> Option<usize> {
        self.jobs.iter().position(|j| j.id.eq_ignore_ascii_case(id))
    }

    /// The seed of the next shuffled read (None when shuffling is off).
    pub(crate) fn next_order(&mut self) -> Option<u64> {
        self.reads += 1;
        self.settings.shuffle_resources.then_some(self.reads)
    }

    /// The control view of a product: unshuffled trees, every submission entry, its jobs.
    pub(crate) fn state(&self, external_id: &str) -> Option<Value> {
        let product = self
            .products
            .iter()
            .find(|p| p.external_id.eq_ignore_ascii_case(external_id))?;
        let jobs: Vec<Value> = self
            .jobs
            .iter()
            .filter(|j| j.product == product.id)
            .map(Job::summary)
            .collect();
        Some(json!({
            "productId": product.id,
            "draft": product.tree(Target::Draft, None, false),
            "preview": product.tree(Target::Preview, None, false),
            "live": product.tree(Target::Live, None, false),
            "submissions": product.submissions.render(&product.id, self.settings.live_model, true),
            "jobs": jobs,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_product_seeds_published() {
        let now = OffsetDateTime::now_utc();
        let ingestion = Ingestion::new(IngestionSettings::default(), true, now);
        let state = ingestion.state(DEFAULT_PRODUCT_EXTERNAL_ID).unwrap();
        assert_eq!(state["productId"], DEFAULT_PRODUCT_ID);
        let count = |target: &str| state[target]["resources"].as_array().map(Vec::len);
        assert_eq!(count("draft"), Some(17));
        assert_eq!(count("preview"), count("draft"));
        assert_eq!(count("live"), count("draft"));
        assert_eq!(state["submissions"].as_array().map(Vec::len), Some(3));
    }
}
