//! The fewest CPP calls each scenario needs: one operation per offer, an ETag on the draft, and a
//! publish that waits at publisher sign-off until the go-live.

use super::{Minimum, min, tokens};
use crate::statemachine::Tally;

pub fn fresh(t: &Tally) -> Vec<Minimum> {
    vec![
        tokens(
            &[],
            &t.calls,
            "per function: its first call, then when its token is within 5 min of expiry",
        ),
        min(
            "GET offer (draft)",
            1,
            "read the draft and its ETag before changing it",
        ),
        min(
            "GET submissions",
            3,
            "one operation per offer: before PUT, again before publish, before go-live",
        ),
        min(
            "PUT offer (draft)",
            1,
            "write the new image version with If-Match",
        ),
        min("POST publish", 1, "publish the draft to preview"),
        min(
            "GET operation",
            t.polls() + 1,
            format!(
                "one per check ({} publish + {} go-live), plus one to see the publish waits at sign-off before going live",
                t.polls_publish, t.polls_go_live
            ),
        ),
        min(
            "GET offer preview slot",
            1,
            "check preview holds this version's image before going live",
        ),
        min("POST golive", 1, "go live"),
    ]
}

pub fn duplicate() -> Vec<Minimum> {
    vec![
        min("PUT offer (draft)", 0, "nothing changed"),
        min("POST publish", 0, "nothing to publish"),
    ]
}

pub fn rerun(fresh: &Tally, t: &Tally) -> Vec<Minimum> {
    vec![
        tokens(
            &fresh.calls,
            &t.calls,
            "per function whose warm token from the fresh run has expired",
        ),
        min(
            "GET offer (draft)",
            1,
            "see the version is already in the draft: no PUT",
        ),
        min(
            "GET submissions",
            2,
            "is a publish of this draft running (update-and-publish); is anything running (go-live)",
        ),
        min(
            "GET offer preview slot",
            2,
            "did this draft's publish finish (no new publish); does preview hold the image (go-live)",
        ),
        min(
            "GET offer production slot",
            1,
            "already live: resume the finished go-live instead of posting another",
        ),
        min(
            "GET operation",
            t.polls(),
            "one per check; both operations are already finished",
        ),
        min("PUT offer (draft)", 0, "version already there"),
        min("POST publish", 0, "already published"),
        min("POST golive", 0, "already live"),
    ]
}
