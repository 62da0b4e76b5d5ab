//! Reads the state machine definition (`infra/statemachine/publish.asl.json`) and the SAM template
//! (`infra/template.yaml`) and checks them against the workflow contract: the flow, the error names,
//! the retry policy, the notices, and what the template deploys.
//!
//! Each check returns the problems it found as sentences, so a test can assert on an empty list and a
//! failure says what is wrong and where; tests also feed broken copies to show each check can fail.

pub mod asl;
pub mod diagram;
pub mod follow;
pub mod routing;
pub mod template;

use std::path::PathBuf;

/// The repository root (this crate lives in `tests/infra-checks`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Reads a file below the repository root, naming it when that fails.
pub fn read_repo_file(relative: &str) -> Result<String, String> {
    let path = repo_root().join(relative);
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}
