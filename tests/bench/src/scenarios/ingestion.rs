//! The fewest Product Ingestion calls each scenario needs (docs/ingestion-api.md §4): ids learned
//! once per cold start, no ETag (the draft is read again before the write), every write a configure
//! job, and the submissions list as the only lock.

use std::collections::BTreeSet;

use super::{Minimum, min, tokens};
use crate::statemachine::Tally;

/// The functions that read a plan: the draft (update-and-publish) and the preview (validate-and-go-live).
const READ_PLANS: [&str; 2] = ["update-and-publish", "validate-and-go-live"];
/// validate-and-go-live reads live whenever no operation runs, to resume a go-live that already ran.
const LIVE_READ: &str = "validate-and-go-live reads live whenever nothing runs (live_already, \
functions/validate-and-go-live/src/lib.rs); the ids in the submissions list it already read tell";

/// The functions of `calls` that were not called before: each learns the ids again (a cold start).
fn cold<'a>(before: &[(String, u64)], calls: &'a [(String, u64)]) -> BTreeSet<&'a str> {
    calls
        .iter()
        .map(|(f, _)| f.as_str())
        .filter(|f| !before.iter().any(|(b, _)| b == f))
        .collect()
}

fn ids(before: &[(String, u64)], calls: &[(String, u64)]) -> [Minimum; 2] {
    // check-last-operation finds the product in the operation's location: it looks nothing up.
    let cold: BTreeSet<&str> = cold(before, calls)
        .into_iter()
        .filter(|f| *f != "check-last-operation")
        .collect();
    let planned = cold.iter().filter(|f| READ_PLANS.contains(f)).count() as u64;
    let names = |set: Vec<&str>| {
        if set.is_empty() {
            "none cold: the warm functions learned it in the fresh run".to_owned()
        } else {
            set.join(", ")
        }
    };
    [
        min(
            "GET product",
            cold.len() as u64,
            format!(
                "the product GUID, once per cold start of each function that finds the offer ({}; a check reads it from the operation's location)",
                names(cold.iter().copied().collect())
            ),
        ),
        min(
            "GET plan",
            planned,
            format!(
                "the plan's id, once per cold start of each function that reads a plan ({})",
                names(
                    cold.iter()
                        .copied()
                        .filter(|f| READ_PLANS.contains(f))
                        .collect()
                )
            ),
        ),
    ]
}

pub fn fresh(t: &Tally) -> Vec<Minimum> {
    let [product, plan] = ids(&[], &t.calls);
    vec![
        tokens(
            &[],
            &t.calls,
            "per function: its first call, then when its token is within 5 min of expiry",
        ),
        product,
        plan,
        min(
            "GET resource-tree (draft)",
            2,
            "read the plan's technical configuration, and again right before writing it (no ETag)",
        ),
        min(
            "GET submissions",
            5,
            "the lock: before the draft edit, before the preview submission, before go-live; and as each \
             submission's job succeeds, to see it listed (Q27)",
        ),
        min(
            "POST configure (draft)",
            1,
            "write the new image version into the draft",
        ),
        min(
            "GET configure status",
            t.polls() + 3,
            format!(
                "one per check ({} publish + {} go-live), one to see the draft edit finish, one to see each of \
                 the 2 submissions start (refusals come then)",
                t.polls_publish, t.polls_go_live
            ),
        ),
        min(
            "POST configure (preview)",
            1,
            "submit the draft to preview",
        ),
        min(
            "GET resource-tree (preview)",
            1,
            "check preview holds this version's image before going live",
        ),
        min(
            "GET resource-tree (live)",
            0,
            "none: the list read for the lock shows preview's submission is not the live one (§4.3)",
        )
        .over(LIVE_READ),
        min(
            "POST configure (live)",
            1,
            "go live with the preview's submission",
        ),
    ]
}

pub fn duplicate() -> Vec<Minimum> {
    vec![
        min("POST configure (draft)", 0, "nothing changed"),
        min("POST configure (preview)", 0, "nothing to submit"),
    ]
}

pub fn rerun(fresh: &Tally, t: &Tally) -> Vec<Minimum> {
    let [product, plan] = ids(&fresh.calls, &t.calls);
    vec![
        tokens(
            &fresh.calls,
            &t.calls,
            "per function whose warm token from the fresh run has expired",
        ),
        product,
        plan,
        min(
            "GET resource-tree (draft)",
            1,
            "see the version is already in the draft: no edit",
        ),
        min(
            "GET submissions",
            2 + t.polls(),
            format!(
                "is a submission running, which reached preview (update-and-publish); is anything running \
                 (go-live); one per check ({}): the list says how the resumed submission ended (preview and \
                 live share its number, §4.3)",
                t.polls()
            ),
        ),
        min(
            "GET resource-tree (preview)",
            2,
            "did this draft's submission reach preview (no new one); does preview hold the image (go-live)",
        ),
        min(
            "GET resource-tree (live)",
            0,
            "none: preview and live show the same submission id, so it is live; resume that go-live (§4.3)",
        )
        .over(LIVE_READ),
        min("POST configure (draft)", 0, "version already there"),
        min("POST configure (preview)", 0, "already in preview"),
        min("POST configure (live)", 0, "already live"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(names: &[&str]) -> Vec<(String, u64)> {
        names.iter().map(|n| ((*n).to_owned(), 0)).collect()
    }

    #[test]
    fn ids_are_learned_once_per_cold_function() {
        let all = calls(&[
            "update-and-publish",
            "check-last-operation",
            "check-last-operation",
            "validate-and-go-live",
        ]);
        let [product, plan] = ids(&[], &all);
        assert_eq!(
            (product.count, plan.count),
            (2, 2),
            "a check finds the product in its operation"
        );
        let [product, plan] = ids(&all, &all);
        assert_eq!((product.count, plan.count), (0, 0));
    }
}
