//! The JSON report and its targets; `checks.rs` evaluates every figure against its target,
//! `render.rs` prints the table.

mod checks;
mod render;

use serde::Serialize;

use crate::coldstart::{ColdRow, PeerRow};
use crate::scenarios::{ApiScenario, Timeline};
use crate::throughput::Throughput;

pub const INIT_MEDIAN_MS: f64 = 15.0;
pub const INIT_P95_MS: f64 = 30.0;
pub const PEER_SPEEDUP: f64 = 20.0;
pub const PEAK_RSS_MIB: f64 = 24.0;
pub const BINARY_MIB: f64 = 8.0;
pub const POLLS_16_DAYS: u64 = 100;
pub const HISTORY_16_DAYS: u64 = 2_000;
/// Product Ingestion's fresh publish may exceed its derived minimum by this many calls, each
/// explained in the table: the live-tree read validate-and-go-live makes whenever nothing runs.
pub const PI_FRESH_EXTRA: u64 = 1;

/// One figure against its target.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub target: String,
    pub subject: String,
    pub figure: String,
    pub met: bool,
    /// By how much it was missed, when it was.
    pub miss: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub command: String,
    pub environment: String,
    pub cold_start: Vec<ColdRow>,
    pub peer: Option<PeerRow>,
    pub peer_note: Option<String>,
    pub api_driver: String,
    /// How Product Ingestion's jobs are paced in the runs (real time inside an invocation).
    pub ingestion_pace: String,
    pub api_calls: Vec<ApiScenario>,
    pub waiting: Vec<Timeline>,
    pub price_per_1000_transitions_usd: f64,
    pub throughput: Vec<Throughput>,
    pub checks: Vec<Check>,
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
