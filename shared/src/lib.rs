//! What the publishing functions share: configuration, the Cloud Partner Portal client and its
//! documents, the retry policy, and the redaction that keeps secrets out of logs.

pub mod clock;
pub mod config;
pub mod cpp;
pub mod deps;
pub mod redact;
pub mod retry;
pub mod sas;
pub mod secret;
pub mod workflow;
