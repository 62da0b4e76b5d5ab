//! The JSON report and its targets; `checks.rs` evaluates every figure against its target,
//! `render.rs` prints the table.

mod checks;
mod render;

use serde::Serialize;

use crate::coldstart::{ColdRow, PeerRow};
use crate::releases::Releases;
use crate::scenarios::{ApiScenario, Timeline};
use crate::throughput::Throughput;

pub const INIT_MEDIAN_MS: f64 = 15.0;
pub const INIT_P95_MS: f64 = 30.0;
pub const PEER_SPEEDUP: f64 = 20.0;
/// Every deployed path: at least this many times faster to init (p50) than the peer.
pub const PEER_SPEEDUP_DEPLOYED: f64 = 25.0;
/// Every deployed path: init p50 at most this many times the floor's, measured in the same run.
pub const FLOOR_FACTOR: f64 = 2.0;
pub const PEAK_RSS_MIB: f64 = 24.0;
pub const BINARY_MIB: f64 = 8.0;
pub const POLLS_16_DAYS: u64 = 100;
pub const HISTORY_16_DAYS: u64 = 2_000;
/// Product Ingestion's fresh publish may exceed its derived minimum by this many calls, each
/// explained in the table: the live-tree read validate-and-go-live makes whenever nothing runs.
pub const PI_FRESH_EXTRA: u64 = 1;
/// A release takes at most this many times as long as one single-plan publication (simulated days).
pub const RELEASE_FACTOR: f64 = 1.1;

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

/// One row's init against the floor and the peer (both p50).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ratios {
    pub function: String,
    pub credential: String,
    /// init p50 ÷ the floor's init p50.
    pub init_vs_floor: f64,
    /// The peer's init p50 ÷ init p50 (None when the peer was not measured).
    pub peer_speedup: Option<f64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub command: String,
    pub environment: String,
    pub cold_start: Vec<ColdRow>,
    /// The minimal lambda_runtime function, measured like the rows in the same run (absent when
    /// the cold starts were not run).
    #[serde(skip_serializing_if = "ColdRow::unmeasured")]
    pub floor: ColdRow,
    pub peer: Option<PeerRow>,
    pub peer_note: Option<String>,
    /// Per cold-start row; filled by `evaluate`.
    pub ratios: Vec<Ratios>,
    pub api_driver: String,
    /// How Product Ingestion's jobs are paced in the runs (real time inside an invocation).
    pub ingestion_pace: String,
    pub api_calls: Vec<ApiScenario>,
    pub waiting: Vec<Timeline>,
    pub price_per_1000_transitions_usd: f64,
    pub throughput: Vec<Throughput>,
    /// One version to many plans and offers, per API: a release manifest against one manifest per
    /// target, next to one single-plan publication.
    pub releases: Vec<Releases>,
    pub checks: Vec<Check>,
}

impl Report {
    /// `row`'s init p50 ÷ the floor's init p50.
    pub fn floor_factor(&self, row: &ColdRow) -> f64 {
        row.init.median_ms / self.floor.init.median_ms.max(f64::EPSILON)
    }

    /// The peer's init p50 ÷ `row`'s init p50, when the peer was measured.
    pub fn peer_speedup(&self, row: &ColdRow) -> Option<f64> {
        self.peer
            .as_ref()
            .map(|peer| peer.init.median_ms / row.init.median_ms.max(f64::EPSILON))
    }
}

/// The least speedup over the peer `row` is held to: deployed paths are held to more.
pub fn speedup_target(row: &ColdRow) -> f64 {
    if row.deployed {
        PEER_SPEEDUP_DEPLOYED
    } else {
        PEER_SPEEDUP
    }
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
