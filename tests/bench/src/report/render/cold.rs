//! Sections 1 and 2 of the printed table: the cold starts with the floor, and the peer.

use std::fmt::Write as _;

use super::mark;
use crate::coldstart::ColdRow;
use crate::report::{
    BINARY_MIB, FLOOR_FACTOR, INIT_MEDIAN_MS, INIT_P95_MS, PEAK_RSS_MIB, PEER_SPEEDUP,
    PEER_SPEEDUP_DEPLOYED, Report, mib, speedup_target,
};

impl Report {
    pub(super) fn render_cold(&self, o: &mut String) {
        let runs = self.floor.init.samples;
        let _ = writeln!(
            o,
            "\n1. Cold start of the release bootstraps and of the floor, {runs} runs each after one discarded run"
        );
        let _ = writeln!(
            o,
            "   init = spawn -> first request for work; response = spawn -> first response to a real event against the CPP emulator"
        );
        let _ = writeln!(
            o,
            "   (AWS federation: the first response includes the STS GetWebIdentityToken call and the v2 token request)"
        );
        let _ = writeln!(
            o,
            "   floor = a minimal lambda_runtime function (tests/bench/src/bin/floor.rs, echoes its event), same profile, environment and runtime API"
        );
        let _ = writeln!(
            o,
            "   x floor = init p50 / the floor's init p50; RSS = VmHWM at the first request for work, and after the first invocation (max over runs)"
        );
        let _ = writeln!(
            o,
            "   {:<21} {:<27} {:>13} {:>10} {:>13} {:>9} {:>9} {:>8} {:>13} {:>13}",
            "function",
            "credential",
            "init p50",
            "x floor",
            "init p95",
            "resp p50",
            "resp p95",
            "RSS init",
            "RSS peak",
            "binary"
        );
        for row in &self.cold_start {
            self.render_cold_row(o, row, true);
        }
        self.render_cold_row(o, &self.floor, false);
        let stripped = self.cold_start.iter().all(|r| r.stripped);
        let _ = writeln!(
            o,
            "   targets: init p50 < {INIT_MEDIAN_MS} ms, init p95 < {INIT_P95_MS} ms, peak RSS < {PEAK_RSS_MIB} MiB, binary < {BINARY_MIB} MiB stripped (all stripped: {});\n   \
             deployed paths: init p50 <= {FLOOR_FACTOR}x the floor's (the floor: no targets)",
            if stripped { "yes" } else { "NO" }
        );
    }

    /// One row of the cold-start table; `targets` false for the floor, which is held to none.
    fn render_cold_row(&self, o: &mut String, row: &ColdRow, targets: bool) {
        let check = |figure: String, met: bool| if targets { mark(figure, met) } else { figure };
        let size = row.size_bytes as f64 / 1_048_576.0;
        let factor = self.floor_factor(row);
        let vs_floor = format!("{factor:.2}x");
        let _ = writeln!(
            o,
            "   {:<21} {:<27} {:>13} {:>10} {:>13} {:>9} {:>9} {:>8} {:>13} {:>13}",
            row.function,
            row.credential,
            check(
                format!("{:.1} ms", row.init.median_ms),
                row.init.median_ms < INIT_MEDIAN_MS
            ),
            // Only deployed paths are held to the floor.
            if targets && row.deployed {
                mark(vs_floor, factor <= FLOOR_FACTOR)
            } else {
                vs_floor
            },
            check(
                format!("{:.1} ms", row.init.p95_ms),
                row.init.p95_ms < INIT_P95_MS
            ),
            format!("{:.1} ms", row.first_response.median_ms),
            format!("{:.1} ms", row.first_response.p95_ms),
            format!("{:.1} MiB", mib(row.init_rss_kib)),
            check(
                format!("{:.1} MiB", mib(row.peak_rss_kib)),
                mib(row.peak_rss_kib) < PEAK_RSS_MIB
            ),
            check(format!("{size:.3} MiB"), size < BINARY_MIB && row.stripped),
        );
    }

    pub(super) fn render_peer(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "\n2. Peer: the same init measure for a Python Lambda built on Red Hat's cloudpub"
        );
        let Some(peer) = &self.peer else {
            let _ = writeln!(
                o,
                "   not measured: {}",
                self.peer_note.as_deref().unwrap_or("no Python given")
            );
            return;
        };
        let _ = writeln!(o, "   {}: {}", peer.name, peer.what);
        let _ = writeln!(
            o,
            "   (AWS's Python runtime client, which a real Python Lambda loads too, is not counted: this favours the peer)"
        );
        let _ = writeln!(
            o,
            "   init p50 {:.1} ms, p95 {:.1} ms, RSS at init {:.1} MiB",
            peer.init.median_ms,
            peer.init.p95_ms,
            mib(peer.init_rss_kib)
        );
        let _ = writeln!(
            o,
            "   {:<21} {:<27} {:>13} {:>12} {:>12}",
            "peer / ours", "credential", "init p50", "init p95", "RSS init"
        );
        for (row, targets) in self
            .cold_start
            .iter()
            .map(|r| (r, true))
            .chain([(&self.floor, false)])
        {
            let speedup = peer.init.median_ms / row.init.median_ms.max(f64::EPSILON);
            let figure = format!("{speedup:.1}x");
            let _ = writeln!(
                o,
                "   {:<21} {:<27} {:>13} {:>12} {:>12}",
                row.function,
                row.credential,
                if targets {
                    mark(figure, speedup >= speedup_target(row))
                } else {
                    figure
                },
                format!(
                    "{:.1}x",
                    peer.init.p95_ms / row.init.p95_ms.max(f64::EPSILON)
                ),
                format!(
                    "{:.1}x",
                    peer.init_rss_kib as f64 / row.init_rss_kib.max(1) as f64
                ),
            );
        }
        let _ = writeln!(
            o,
            "   targets: init p50 at least {PEER_SPEEDUP_DEPLOYED}x faster than the peer's on every deployed path, {PEER_SPEEDUP}x on every row"
        );
    }
}
