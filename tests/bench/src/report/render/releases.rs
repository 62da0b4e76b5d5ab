//! Section 6 of the printed table: releases, one version to many plans and offers.

use std::fmt::Write as _;

use super::mark;
use crate::releases::{Case, Releases};
use crate::report::checks::releases::release_factor;
use crate::report::{RELEASE_FACTOR, Report};

impl Report {
    pub(super) fn render_releases(&self, o: &mut String) {
        let Some(first) = self.releases.first() else {
            return;
        };
        let _ = writeln!(
            o,
            "\n6. Releases: version {} to {} offers x {} plans (gen1, gen2), goLive auto, simulated time, a fresh emulator per case",
            first.version, first.offers, first.plans_per_offer
        );
        let _ = writeln!(
            o,
            "   release: one manifest with targets; build-finished starts the release state machine, whose Map's children\n   \
             (one publish execution per offer, from the release's input) run concurrently; the Map itself is not interpreted,\n   \
             the release lasts as long as its longest child. manifests: one single-plan manifest per target, all at once.\n   \
             writes = draft writes (CPP: PUT of the offer; Product Ingestion: configure of the draft), publishes = CPP POST publish /\n   \
             configure with a preview submission, per offer ({}); certifications = publish operations that ran;\n   \
             execs = publish executions (+ release executions); history = largest of one execution",
            crate::releases::OFFERS.join(" / ")
        );
        let _ = writeln!(
            o,
            "   {:<17} {:<10} {:>5} {:>7} {:>9} {:>15} {:>7} {:>7} {:>8} {:>12} {:>8} {:>9}",
            "api",
            "case",
            "execs",
            "writes",
            "publishes",
            "per offer",
            "certif.",
            "golives",
            "days",
            "x single",
            "history",
            "live"
        );
        for r in &self.releases {
            for (name, case) in r.cases() {
                render_case(o, r, name, case);
            }
        }
        for r in &self.releases {
            for (name, case) in r.cases() {
                if !case.refused.is_empty() {
                    let refused: Vec<String> = case
                        .refused
                        .iter()
                        .map(|(k, v)| format!("{k}: {v}"))
                        .collect();
                    let _ = writeln!(
                        o,
                        "   {} {name}: refused requests {}",
                        r.api.title(),
                        refused.join(", ")
                    );
                }
                let days: Vec<String> = case
                    .execution_days
                    .iter()
                    .map(|d| format!("{d:.2}"))
                    .collect();
                let _ = writeln!(
                    o,
                    "   {} {name}: execution days {}; transitions {}; {} requests",
                    r.api.title(),
                    days.join(", "),
                    case.transitions,
                    case.requests
                );
                for problem in case.problems.iter().take(10) {
                    let _ = writeln!(o, "     {problem}");
                }
            }
        }
        let _ = writeln!(
            o,
            "   targets (each API): release days <= {RELEASE_FACTOR}x one single-plan publication's; exactly one publish per offer in the release;\n   \
             every target live with its build's image"
        );
    }
}

fn render_case(o: &mut String, r: &Releases, name: &str, c: &Case) {
    let release = name == "release";
    let executions = if c.release_executions > 0 {
        format!("{}+{}", c.executions, c.release_executions)
    } else {
        c.executions.to_string()
    };
    let per = c
        .publishes_by_offer
        .values()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join("/");
    let per = if release {
        mark(per, c.publishes_by_offer.values().all(|n| *n == 1))
    } else {
        per
    };
    let factor = c.simulated_days / r.single.simulated_days.max(f64::EPSILON);
    let factor = format!("{factor:.2}x");
    let factor = if release {
        mark(factor, release_factor(r) <= RELEASE_FACTOR)
    } else {
        factor
    };
    let _ = writeln!(
        o,
        "   {:<17} {:<10} {:>5} {:>7} {:>9} {:>15} {:>7} {:>7} {:>8} {:>12} {:>8} {:>9}",
        r.api.title(),
        name,
        executions,
        c.draft_writes,
        c.publishes,
        per,
        c.certifications,
        c.go_lives,
        format!("{:.2}", c.simulated_days),
        factor,
        c.largest_history,
        mark(format!("{}/{}", c.live, c.targets), c.all_live())
    );
}
