//! The cold-start targets: init, memory and size per row, and each deployed path against the peer
//! and the floor.

use crate::coldstart::ColdRow;
use crate::report::{
    BINARY_MIB, Check, FLOOR_FACTOR, INIT_MEDIAN_MS, INIT_P95_MS, PEAK_RSS_MIB, PEER_SPEEDUP,
    PEER_SPEEDUP_DEPLOYED, Report, mib,
};

fn below(target: &str, subject: &str, figure: f64, limit: f64, unit: &str) -> Check {
    let met = figure < limit;
    Check {
        target: target.to_owned(),
        subject: subject.to_owned(),
        figure: format!("{figure:.1} {unit}"),
        met,
        miss: (!met).then(|| {
            format!(
                "over by {:.1} {unit} ({:+.0} %)",
                figure - limit,
                (figure / limit - 1.0) * 100.0
            )
        }),
    }
}

impl Report {
    /// Init, memory, size, and the ratios to the peer and to the floor, per row (the floor itself
    /// is the yardstick, held to nothing).
    pub(super) fn cold_start_checks(&self, checks: &mut Vec<Check>) {
        let mut sized: Vec<&str> = Vec::new();
        for row in &self.cold_start {
            let subject = format!("{} [{}]", row.function, row.credential);
            checks.push(below(
                "init median < 15 ms",
                &subject,
                row.init.median_ms,
                INIT_MEDIAN_MS,
                "ms",
            ));
            checks.push(below(
                "init p95 < 30 ms",
                &subject,
                row.init.p95_ms,
                INIT_P95_MS,
                "ms",
            ));
            checks.push(below(
                "peak RSS < 24 MiB",
                &subject,
                mib(row.peak_rss_kib),
                PEAK_RSS_MIB,
                "MiB",
            ));
            if let Some(speedup) = self.peer_speedup(row) {
                checks.push(faster(
                    "init >= 20x faster than the peer (median)",
                    &subject,
                    speedup,
                    PEER_SPEEDUP,
                ));
                if row.deployed {
                    checks.push(faster(
                        "deployed path: init >= 25x faster than the peer (median)",
                        &subject,
                        speedup,
                        PEER_SPEEDUP_DEPLOYED,
                    ));
                }
            }
            if !row.deployed {
                continue;
            }
            let factor = self.floor_factor(row);
            let met = factor <= FLOOR_FACTOR;
            checks.push(Check {
                target: "deployed path: init <= 2x the floor's (median, same run)".into(),
                subject: subject.clone(),
                figure: format!(
                    "{factor:.2}x ({:.1} ms vs the floor's {:.1} ms)",
                    row.init.median_ms, self.floor.init.median_ms
                ),
                met,
                miss: (!met).then(|| {
                    format!(
                        "over by {:.2}x: {:.1} ms above the {:.1} ms allowed",
                        factor - FLOOR_FACTOR,
                        row.init.median_ms - FLOOR_FACTOR * self.floor.init.median_ms,
                        FLOOR_FACTOR * self.floor.init.median_ms
                    )
                }),
            });
            // One binary per function, however many ways it signs in.
            if sized.contains(&row.function.as_str()) {
                continue;
            }
            sized.push(&row.function);
            checks.push(binary(row));
        }
    }
}

/// A speedup of at least `least`.
fn faster(target: &str, subject: &str, speedup: f64, least: f64) -> Check {
    let met = speedup >= least;
    Check {
        target: target.to_owned(),
        subject: subject.to_owned(),
        figure: format!("{speedup:.1}x"),
        met,
        miss: (!met).then(|| format!("short by {:.1}x", least - speedup)),
    }
}

/// The stripped binary under its limit.
fn binary(row: &ColdRow) -> Check {
    let mebibytes = row.size_bytes as f64 / 1_048_576.0;
    let met = mebibytes < BINARY_MIB && row.stripped;
    let over_kib = (mebibytes - BINARY_MIB) * 1024.0;
    Check {
        target: "stripped binary < 8 MiB".into(),
        subject: row.function.clone(),
        figure: format!(
            "{} bytes = {mebibytes:.3} MiB, stripped: {}",
            row.size_bytes, row.stripped
        ),
        met,
        miss: (!met).then(|| {
            if row.stripped {
                format!(
                    "over by {over_kib:.1} KiB ({:+.2} %)",
                    (mebibytes / BINARY_MIB - 1.0) * 100.0
                )
            } else {
                "not stripped".into()
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::coldstart::PeerRow;
    use crate::stats::Summary;

    fn row(function: &str, credential: &str, deployed: bool, init_ms: u64) -> ColdRow {
        let init = Summary::of(&[Duration::from_millis(init_ms)]);
        ColdRow {
            function: function.into(),
            credential: credential.into(),
            deployed,
            init,
            first_response: init,
            init_rss_kib: 8_000,
            peak_rss_kib: 8_000,
            size_bytes: 6_000_000,
            stripped: true,
        }
    }

    fn report(rows: Vec<ColdRow>, floor_ms: u64, peer_ms: u64) -> Report {
        Report {
            command: String::new(),
            environment: String::new(),
            cold_start: rows,
            floor: row("floor", "none", false, floor_ms),
            peer: Some(PeerRow {
                name: "peer".into(),
                what: String::new(),
                init: Summary::of(&[Duration::from_millis(peer_ms)]),
                init_rss_kib: 36_000,
            }),
            peer_note: None,
            ratios: Vec::new(),
            api_driver: String::new(),
            ingestion_pace: String::new(),
            api_calls: Vec::new(),
            waiting: Vec::new(),
            price_per_1000_transitions_usd: 0.0,
            throughput: Vec::new(),
            releases: Vec::new(),
            checks: Vec::new(),
        }
    }

    fn find<'a>(report: &'a Report, target: &str, subject: &str) -> Option<&'a Check> {
        report
            .checks
            .iter()
            .find(|c| c.target.starts_with(target) && c.subject.starts_with(subject))
    }

    #[test]
    fn a_deployed_path_is_held_to_the_floor_and_to_25x_the_peer() {
        let mut r = report(
            vec![
                row("update-and-publish", "AWS federation (deployed)", true, 9),
                row("update-and-publish", "CPP_CLIENT_SECRET (local)", false, 9),
            ],
            4,
            200,
        );
        r.evaluate();
        // 200 / 9 = 22x: the general 20x is met, the deployed 25x missed.
        let general = find(&r, "init >= 20x", "update-and-publish [AWS").unwrap();
        assert!(general.met);
        let deployed = find(&r, "deployed path: init >= 25x", "update-and-publish [AWS").unwrap();
        assert!(!deployed.met);
        assert_eq!(deployed.miss.as_deref(), Some("short by 2.8x"));
        // 9 / 4 = 2.25x the floor: missed, by how much said.
        let floor = find(&r, "deployed path: init <= 2x", "update-and-publish [AWS").unwrap();
        assert!(!floor.met);
        assert_eq!(
            floor.miss.as_deref(),
            Some("over by 0.25x: 1.0 ms above the 8.0 ms allowed")
        );
        // The local path is held to neither, and the floor to nothing.
        assert!(find(&r, "deployed path", "update-and-publish [CPP").is_none());
        assert!(r.checks.iter().all(|c| !c.subject.starts_with("floor")));
        assert_eq!(r.ratios.len(), 2);
        assert!((r.ratios[0].init_vs_floor - 2.25).abs() < 1e-9);
    }

    #[test]
    fn a_binary_is_checked_once_however_many_deployed_rows_it_has() {
        let mut r = report(
            vec![
                row(
                    "check-last-operation",
                    "Secrets Manager (deployed)",
                    true,
                    5,
                ),
                row("check-last-operation", "AWS federation (deployed)", true, 5),
            ],
            4,
            200,
        );
        r.evaluate();
        let binaries = r
            .checks
            .iter()
            .filter(|c| c.target.starts_with("stripped binary"))
            .count();
        assert_eq!(binaries, 1);
        assert!(
            find(&r, "deployed path: init <= 2x", "check-last-operation [AWS")
                .is_some_and(|c| c.met)
        );
    }
}
