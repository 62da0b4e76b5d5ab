//! A state with `plans` (a release's offer): one write adds the version to every plan, on CPP (one
//! PUT with If-Match) and Product Ingestion (one configure with each plan's technical
//! configuration); retention per plan; a re-run finds every plan there and writes nothing; a plan
//! already holding it is left alone; a plan lacking an image type stops the whole write.

use shared::workflow::{
    Action, ErrorName, ManifestImage, PlanTarget, PublishRequest, WorkflowState,
};
use test_harness::cpp_emulator::EmulatorConfig;
use test_harness::{Harness, PI_PLAN, PI_PLAN_TWO_TYPES, pi_request, request, sas_url};

use crate::ingestion::until_done;
use crate::support::{go_live, hits, publishes, update, write_into_draft};

const VERSION: &str = "1.1.0";
const PI_VERSION: &str = "1.0.20261201";

fn plan(plan_id: &str, image: &str) -> PlanTarget {
    PlanTarget {
        plan_id: plan_id.into(),
        os_vhd_url: sas_url(image),
        lun_vhd_details: vec![],
        images: vec![],
        entry: None,
    }
}

fn image(image_type: &str, name: &str) -> ManifestImage {
    ManifestImage {
        image_type: image_type.into(),
        os_vhd_url: Some(sas_url(name)),
        lun_vhd_details: vec![],
        shared_image: None,
    }
}

/// The CPP test offer's two plans, each with its own VHD.
fn cpp_plans() -> WorkflowState {
    let request = PublishRequest {
        plan_id: String::new(),
        os_vhd_url: String::new(),
        plans: vec![plan("gen1", "gen1-1.1.0"), plan("gen2", "gen2-1.1.0")],
        ..request(VERSION)
    };
    WorkflowState::start(request, Action::Publish)
}

/// The Product Ingestion offer's two plans: two image types in one, one in the other.
fn pi_plans() -> WorkflowState {
    let mut two_types = plan(PI_PLAN_TWO_TYPES, "unused");
    two_types.os_vhd_url.clear();
    two_types.images = vec![image("x64Gen2", "two-gen2"), image("x64Gen1", "two-gen1")];
    let request = PublishRequest {
        plan_id: String::new(),
        os_vhd_url: String::new(),
        plans: vec![two_types, plan(PI_PLAN, "single-x64")],
        ..pi_request(PI_VERSION)
    };
    WorkflowState::start(request, Action::Publish)
}

/// The configure requests that write technical configurations (a submission is a configure too).
fn draft_writes(h: &Harness) -> Vec<test_harness::cpp_emulator::LoggedRequest> {
    hits(h, "POST", "/configure")
        .into_iter()
        .filter(|r| {
            r.body.as_ref().is_some_and(|b| {
                b.to_string()
                    .contains("virtual-machine-plan-technical-configuration")
            })
        })
        .collect()
}

fn pi_versions(h: &Harness, plan: &str) -> Vec<String> {
    h.pi_versions_in("draft", plan)
        .into_iter()
        .filter(|(_, state)| state != "deprecated")
        .map(|(v, _)| v)
        .collect()
}

#[tokio::test]
async fn cpp_adds_the_version_to_both_plans_in_one_put_and_retires_per_plan() {
    let h = Harness::with(
        EmulatorConfig::default(),
        &[("CPP_MAX_IMAGES_PER_PLAN", "1")],
    )
    .await;
    let state = update(&h, &cpp_plans()).await.unwrap();
    assert_eq!(
        hits(&h, "PUT", "/offers/contoso-linux").len(),
        1,
        "one write"
    );
    assert_eq!(publishes(&h), 1, "one publish");
    assert_eq!(h.plan_versions_in("draft", "gen1"), ["1.1.0"]);
    assert_eq!(h.plan_versions_in("draft", "gen2"), ["1.1.0"]);
    assert_eq!(state.evicted_versions, ["gen1 0.9.0", "gen2 1.0.0"]);
    let changed: Vec<_> = state
        .plan_changes
        .iter()
        .map(|c| (c.plan_id.as_str(), c.added, c.retired.clone()))
        .collect();
    assert_eq!(
        changed,
        [
            ("gen1", true, vec!["0.9.0".to_owned()]),
            ("gen2", true, vec!["1.0.0".to_owned()])
        ]
    );
    assert_eq!(state.plan_ids, "gen1, gen2");

    // The same state again (a redelivery, a retry): every plan holds it; the publish is resumed.
    let again = update(&h, &cpp_plans()).await.unwrap();
    assert_eq!(
        hits(&h, "PUT", "/offers/contoso-linux").len(),
        1,
        "no second write"
    );
    assert_eq!(publishes(&h), 1, "no second publish");
    let id = |s: &WorkflowState| s.operation.as_ref().and_then(|o| o.at.id.clone());
    assert_eq!(id(&again), id(&state), "the same publish");
    assert_eq!(again.changed, Some(false));
}

#[tokio::test]
async fn cpp_writes_only_the_plan_that_lacks_the_version() {
    let h = Harness::start().await;
    // gen2 already holds 1.1.0 with this build's image (an earlier, interrupted write).
    write_into_draft(&h, &request(VERSION)).await;
    let mut state = cpp_plans();
    state.request.plans[1] = plan("gen2", VERSION);

    let state = update(&h, &state).await.unwrap();
    assert_eq!(
        hits(&h, "PUT", "/offers/contoso-linux").len(),
        2,
        "ours and the one before"
    );
    let changed: Vec<_> = state
        .plan_changes
        .iter()
        .map(|c| (c.plan_id.as_str(), c.added))
        .collect();
    assert_eq!(changed, [("gen1", true), ("gen2", false)]);
    assert_eq!(publishes(&h), 1);
}

#[tokio::test]
async fn product_ingestion_sends_one_configure_with_each_plans_configuration() {
    let h = Harness::with(
        EmulatorConfig::default(),
        &[("INGESTION_KEEP_ACTIVE_VERSIONS", "1")],
    )
    .await;
    let state = update(&h, &pi_plans()).await.unwrap();
    let configures = draft_writes(&h);
    assert_eq!(configures.len(), 1, "one configure for both plans");
    let resources = configures[0].body.as_ref().unwrap()["resources"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(resources, 2, "each plan's technical configuration");
    assert_eq!(pi_versions(&h, PI_PLAN_TWO_TYPES), [PI_VERSION]);
    assert_eq!(pi_versions(&h, PI_PLAN), [PI_VERSION]);
    assert_eq!(
        state.deprecated_versions,
        [
            "contoso-linux-gen2 1.0.20260301",
            "contoso-linux-single 1.0.20260301"
        ],
        "each plan keeps one active version"
    );
    assert!(
        state
            .plan_changes
            .iter()
            .all(|c| c.added && !c.retired.is_empty())
    );

    // Through certification and go-live, the preview and live hold both plans' images.
    let state = until_done(&h, state).await;
    let mut live = state.clone();
    live.action = Action::GoLive;
    let live = go_live(&h, &live).await.unwrap();
    assert!(live.operation.is_some(), "{live:?}");
    let state = until_done(&h, live).await;
    assert_eq!(
        state.operation_status,
        Some(shared::workflow::RunStatus::Succeeded)
    );
    for plan in [PI_PLAN_TWO_TYPES, PI_PLAN] {
        let live: Vec<String> = h
            .pi_versions_in("live", plan)
            .into_iter()
            .map(|(v, _)| v)
            .collect();
        assert!(live.contains(&PI_VERSION.to_owned()), "{plan}: {live:?}");
    }

    // A re-run of the publication writes nothing.
    let before = draft_writes(&h).len();
    update(&h, &pi_plans()).await.unwrap();
    assert_eq!(draft_writes(&h).len(), before);
}

#[tokio::test]
async fn a_plan_lacking_an_image_type_stops_the_write_for_every_plan() {
    let h = Harness::start().await;
    let mut state = pi_plans();
    state.request.plans[1].os_vhd_url.clear();
    state.request.plans[1].images = vec![image("x64Gen2", "a"), image("arm64Gen2", "b")];
    state.request.plans[1].entry = Some("targets[4]".into());
    let err = update(&h, &state).await.unwrap_err();
    assert_eq!(err.name, ErrorName::InvalidInput);
    assert!(
        err.message
            .starts_with("targets[4]: images[1].imageType arm64Gen2 has no SKU"),
        "{err}"
    );
    assert!(draft_writes(&h).is_empty(), "nothing written for any plan");
}
