//! What the publishing functions share: configuration, the interface to Microsoft's APIs and its
//! two adapters (Cloud Partner Portal, Product Ingestion), the retry policy, and the redaction
//! that keeps secrets out of logs.

pub mod clock;
pub mod config;
pub mod cpp;
pub mod credential;
pub mod deps;
pub mod failure;
pub mod federation;
pub mod html;
pub mod http;
pub mod ingestion;
pub mod marketplace;
pub mod redact;
pub mod retry;
pub mod sas;
pub mod secret;
pub mod table;
pub mod workflow;
