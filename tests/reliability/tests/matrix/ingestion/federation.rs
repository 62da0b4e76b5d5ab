//! No secret anywhere: the same handlers, signed in with the role's web identity token, publish and
//! go live on both APIs; the tokens and assertions never show.

use shared::workflow::{GoLiveOutcome, RunStatus};
use test_harness::{Harness, pi_request, request};

use super::{go_live, start, until_done, update};

#[tokio::test]
async fn a_publication_reaches_live_on_both_apis_with_no_secret_configured() {
    let (captured, _installed) = crate::captured::capture_trace();
    let h = Harness::federated().await;
    assert!(h.deps.config.client_secret.is_none());
    for request in [pi_request("1.1.0"), request("1.1.0")] {
        let previewed = until_done(&h, update(&h, &start(request)).await.unwrap()).await;
        assert_eq!(
            previewed.operation_status,
            Some(RunStatus::Succeeded),
            "{previewed:?}"
        );
        let live = go_live(&h, &previewed).await.unwrap();
        assert_eq!(live.outcome, Some(GoLiveOutcome::GoLiveStarted));
        assert_eq!(
            until_done(&h, live).await.operation_status,
            Some(RunStatus::Succeeded)
        );
    }
    let tokens = h.emulator.requests();
    assert!(
        tokens.iter().all(|r| !r.path.ends_with("/oauth2/token")),
        "only the v2 endpoint, with assertions"
    );
    let shown = format!("{:?}", h.deps);
    let logs = captured.text();
    assert!(!logs.is_empty(), "the run was logged");
    let issued = h.emulator.issued_web_identity_tokens();
    assert!(!issued.is_empty());
    for jwt in issued {
        // Its signature is what makes it a credential.
        let signature = jwt.rsplit('.').next().unwrap_or_default();
        assert!(
            !shown.contains(signature),
            "a web identity token shows in Debug"
        );
        assert!(
            !logs.contains(signature),
            "a web identity token shows in the logs at TRACE"
        );
    }
}
