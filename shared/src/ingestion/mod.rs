//! The Partner Center Product Ingestion API (docs/ingestion-api.md): client, documents, and its
//! adapter to the workflow's interface (`market`). Every offer created in Partner Center needs it.

mod client;
mod documents;
mod endpoints;
mod jobs;
mod lookup;
pub mod market;
pub mod techconfig;

pub use client::{IngestionClient, IngestionOptions};
pub use documents::{JobStatus, SubmissionEntry, job_messages};

/// The resource the Product Ingestion API accepts tokens for.
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
/// Submissions are always sent with this schema: `…-preview7` requires a `sources` nobody can fill (Q6).
pub const SUBMISSION_SCHEMA: &str =
    "https://schema.mp.microsoft.com/schema/submission/2022-03-01-preview2";
/// Where schemas live now; the server still returns some resources with the old host (Q9).
pub const SCHEMA_HOST: &str = "https://schema.mp.microsoft.com/";
pub const LEGACY_SCHEMA_HOST: &str = "https://product-ingestion.azureedge.net/";
