//! The release targets: a release of many offers takes about as long as one publication, each
//! offer is published once, and every target ends live with its build.

use std::collections::BTreeMap;

use crate::releases::{Case, Releases};
use crate::report::{Check, RELEASE_FACTOR, Report};

/// `offer n` for each offer.
pub fn per_offer(counts: &BTreeMap<String, u64>) -> String {
    let parts: Vec<String> = counts.iter().map(|(o, n)| format!("{o} {n}")).collect();
    parts.join(", ")
}

/// The release's days over the single publication's.
pub fn release_factor(r: &Releases) -> f64 {
    r.release.simulated_days / r.single.simulated_days.max(f64::EPSILON)
}

fn duration(r: &Releases) -> Check {
    let factor = release_factor(r);
    let met = factor <= RELEASE_FACTOR;
    Check {
        target: format!(
            "{}: release <= {RELEASE_FACTOR}x one single-plan publication (simulated days)",
            r.api.title()
        ),
        subject: format!(
            "{} offers x {} plans, one manifest",
            r.offers, r.plans_per_offer
        ),
        figure: format!(
            "{:.2} d vs {:.2} d ({factor:.2}x; {} single-plan manifests: {:.2} d)",
            r.release.simulated_days,
            r.single.simulated_days,
            r.manifests.targets,
            r.manifests.simulated_days
        ),
        met,
        miss: (!met).then(|| {
            format!(
                "{:.2} d over {RELEASE_FACTOR}x",
                r.release.simulated_days - RELEASE_FACTOR * r.single.simulated_days
            )
        }),
    }
}

fn one_publish_per_offer(r: &Releases) -> Check {
    let c = &r.release;
    let met =
        c.publishes_by_offer.len() == r.offers && c.publishes_by_offer.values().all(|n| *n == 1);
    Check {
        target: format!("{}: exactly one publish per offer (release)", r.api.title()),
        subject: c.what.clone(),
        figure: format!(
            "publishes {} (draft writes {})",
            per_offer(&c.publishes_by_offer),
            per_offer(&c.draft_writes_by_offer)
        ),
        met,
        miss: (!met).then(|| {
            let off: Vec<String> = c
                .publishes_by_offer
                .iter()
                .filter(|(_, n)| **n != 1)
                .map(|(o, n)| format!("{o} {n}"))
                .collect();
            format!("not one: {}", off.join(", "))
        }),
    }
}

fn all_live(r: &Releases, name: &str, c: &Case) -> Check {
    let met = c.all_live();
    Check {
        target: format!(
            "{}: every target live with its build's image ({name})",
            r.api.title()
        ),
        subject: c.what.clone(),
        figure: format!("{}/{}", c.live, c.targets),
        met,
        miss: (!met).then(|| c.problems.join("; ")),
    }
}

impl Report {
    pub(super) fn release_checks(&self, checks: &mut Vec<Check>) {
        for r in &self.releases {
            checks.push(duration(r));
            checks.push(one_publish_per_offer(r));
            for (name, case) in r.cases() {
                checks.push(all_live(r, name, case));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use shared::config::Api;

    use super::*;

    fn case(days: f64, publishes: &[u64]) -> Case {
        let by_offer: BTreeMap<String, u64> = publishes
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("o{i}"), *n))
            .collect();
        Case {
            targets: 2 * publishes.len(),
            live: 2 * publishes.len(),
            simulated_days: days,
            publishes: by_offer.values().sum(),
            publishes_by_offer: by_offer,
            ..Case::default()
        }
    }

    fn releases(release: Case) -> Releases {
        Releases {
            api: Api::Cpp,
            version: "1.1.0".into(),
            offers: 3,
            plans_per_offer: 2,
            single: case(7.0, &[1]),
            release,
            manifests: case(14.0, &[2, 2, 2]),
        }
    }

    #[test]
    fn a_release_as_long_as_one_publication_with_one_publish_per_offer_is_met() {
        let r = releases(case(7.05, &[1, 1, 1]));
        assert!(duration(&r).met);
        assert!(one_publish_per_offer(&r).met);
        assert!(all_live(&r, "release", &r.release).met);
    }

    #[test]
    fn a_slow_release_or_a_second_publish_is_missed() {
        let r = releases(case(7.8, &[1, 2, 1]));
        let slow = duration(&r);
        assert!(!slow.met);
        assert_eq!(slow.miss.as_deref(), Some("0.10 d over 1.1x"));
        let twice = one_publish_per_offer(&r);
        assert!(!twice.met);
        assert_eq!(twice.miss.as_deref(), Some("not one: o1 2"));
        let mut missing = releases(case(7.0, &[1, 1]));
        assert!(
            !one_publish_per_offer(&missing).met,
            "an offer never published"
        );
        missing.release.live = 3;
        missing
            .release
            .problems
            .push("o1 plan gen2: live lacks 1.1.0".into());
        assert!(!all_live(&missing, "release", &missing.release).met);
    }
}
