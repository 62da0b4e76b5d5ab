//! Another writer changes the offer between update-and-publish's GET and its PUT (the emulator's
//! `ConcurrentWrite` fault applies their change and bumps the ETag just before our PUT is handled).
//! Our If-Match is then stale: 412, re-read, re-apply, at most three writes; beyond that `WriteConflict`
//! with nothing lost, and the next run succeeds. Both writers' changes always end up in the document.

use serde_json::{Value, json};
use shared::cpp::VM_IMAGES_KEY;
use shared::workflow::{ErrorName, RunStatus};
use test_harness::Harness;
use test_harness::cpp_emulator::FaultAction;

use crate::support::*;

/// Their change: a field of the offer's marketplace listing.
fn their_change(n: usize) -> FaultAction {
    FaultAction::ConcurrentWrite {
        pointer: "/definition/offer".into(),
        patch: json!({ format!("microsoft-azure-marketplace.note{n}"): format!("written by the portal, change {n}") }),
    }
}

fn puts(h: &Harness) -> Vec<u16> {
    hits(h, "PUT", OFFER_PATH)
        .iter()
        .map(|r| r.status)
        .collect()
}

/// Every one of the other writer's changes `1..=n` is in the draft.
fn assert_their_changes_kept(h: &Harness, n: usize) {
    let draft = h.draft();
    for i in 1..=n {
        assert_eq!(
            draft["definition"]["offer"][format!("microsoft-azure-marketplace.note{i}")],
            json!(format!("written by the portal, change {i}")),
            "their change {i} was lost"
        );
    }
    assert_eq!(
        draft["definition"]["offer"]["microsoft-azure-marketplace.title"],
        "Contoso Linux — «ünïcode»"
    );
}

#[tokio::test]
async fn a_change_between_our_read_and_write_is_kept_with_ours() {
    let h = Harness::start().await;
    h.emulator
        .inject_fault(fault("PUT", OFFER_PATH, 1, their_change(1)));
    let state = update(&h, &start_state(VERSION)).await.unwrap();
    assert_eq!(puts(&h), [412, 200]);
    assert_eq!(hits(&h, "GET", OFFER_PATH).first().unwrap().status, 200);
    assert_eq!(
        hits(&h, "PUT", OFFER_PATH)[0].fault.as_deref(),
        Some("concurrentWrite /definition/offer")
    );
    assert_their_changes_kept(&h, 1);
    assert_eq!(h.versions_in("draft"), ["1.0.0", VERSION]);
    assert_eq!(state.operation_status, Some(RunStatus::Running));
    assert_eq!(operation_counts(&h).await, (1, 0));
}

#[tokio::test]
async fn changes_before_each_of_our_writes_up_to_the_bound_are_all_kept() {
    let h = Harness::start().await;
    for n in 1..=2 {
        h.emulator
            .inject_fault(fault("PUT", OFFER_PATH, 1, their_change(n)));
    }
    update(&h, &start_state(VERSION)).await.unwrap();
    assert_eq!(
        puts(&h),
        [412, 412, 200],
        "the third write is the last allowed"
    );
    // Each PUT carried the ETag of the read just before it.
    let if_matches: Vec<Option<String>> = hits(&h, "PUT", OFFER_PATH)
        .into_iter()
        .map(|r| r.if_match)
        .collect();
    assert!(
        if_matches.windows(2).all(|w| w[0] != w[1]),
        "{if_matches:?}"
    );
    assert!(if_matches.iter().all(|m| m.as_deref() != Some("*")));
    assert_their_changes_kept(&h, 2);
    assert_eq!(h.versions_in("draft"), ["1.0.0", VERSION]);
    assert_eq!(operation_counts(&h).await, (1, 0));
}

#[tokio::test]
async fn changes_beyond_the_bound_are_a_conflict_that_loses_nothing_and_the_next_run_succeeds() {
    let h = Harness::start().await;
    for n in 1..=3 {
        h.emulator
            .inject_fault(fault("PUT", OFFER_PATH, 1, their_change(n)));
    }
    let err = update(&h, &start_state(VERSION)).await.unwrap_err();
    assert_eq!(err.name, ErrorName::WriteConflict, "{err}");
    assert!(err.message.contains("3 attempts"), "{err}");
    assert_eq!(puts(&h), [412, 412, 412]);
    assert_their_changes_kept(&h, 3);
    assert_eq!(h.versions_in("draft"), ["1.0.0"], "ours was not forced in");
    assert_eq!(operation_counts(&h).await, (0, 0), "nothing published");

    // The state machine retries WriteConflict: the next run reads their changes and adds ours.
    let state = update(&h, &start_state(VERSION)).await.unwrap();
    assert_eq!(state.changed, Some(true));
    assert_their_changes_kept(&h, 3);
    assert_eq!(h.versions_in("draft"), ["1.0.0", VERSION]);
    assert_eq!(operation_counts(&h).await, (1, 0));
}

#[tokio::test]
async fn a_writer_racing_on_every_write_forever_is_a_conflict_every_run() {
    let h = Harness::start().await;
    h.emulator
        .inject_fault(fault("PUT", OFFER_PATH, 0, their_change(1)));
    for _ in 0..2 {
        let err = update(&h, &start_state(VERSION)).await.unwrap_err();
        assert_eq!(err.name, ErrorName::WriteConflict, "{err}");
    }
    assert_eq!(puts(&h), [412; 6]);
    assert_their_changes_kept(&h, 1);
    assert!(hits(&h, "POST", "/publish").is_empty());
}

#[tokio::test]
async fn another_version_added_to_the_same_plan_is_kept_beside_ours() {
    let h = Harness::start().await;
    let theirs = json!({"osVhdUrl": test_harness::sas_url("theirs-1.0.5"), "lunVhdDetails": [], "label": "hotfix"});
    h.emulator.inject_fault(fault(
        "PUT",
        OFFER_PATH,
        1,
        FaultAction::ConcurrentWrite {
            pointer: format!("/definition/plans/1/{VM_IMAGES_KEY}"),
            patch: json!({ "1.0.5": theirs }),
        },
    ));
    update(&h, &start_state(VERSION)).await.unwrap();
    assert_eq!(puts(&h), [412, 200]);
    assert_eq!(h.versions_in("draft"), ["1.0.0", "1.0.5", VERSION]);
    assert_eq!(
        h.draft()["definition"]["plans"][1][VM_IMAGES_KEY]["1.0.5"],
        theirs
    );
}

#[tokio::test]
async fn a_higher_version_written_meanwhile_wins_and_ours_is_refused_not_forced() {
    let h = Harness::start().await;
    let theirs = json!({"osVhdUrl": test_harness::sas_url("theirs-2.0.0"), "lunVhdDetails": []});
    h.emulator.inject_fault(fault(
        "PUT",
        OFFER_PATH,
        1,
        FaultAction::ConcurrentWrite {
            pointer: format!("/definition/plans/1/{VM_IMAGES_KEY}"),
            patch: json!({ "2.0.0": theirs }),
        },
    ));
    let err = update(&h, &start_state(VERSION)).await.unwrap_err();
    assert_eq!(err.name, ErrorName::VersionNotHigher, "{err}");
    assert_eq!(puts(&h), [412]);
    assert_eq!(h.versions_in("draft"), ["1.0.0", "2.0.0"]);
    assert!(hits(&h, "POST", "/publish").is_empty());
}

#[tokio::test]
async fn a_change_to_another_plan_and_a_removed_field_are_kept_as_they_wrote_them() {
    let h = Harness::start().await;
    h.emulator.inject_fault(fault(
        "PUT",
        OFFER_PATH,
        1,
        FaultAction::ConcurrentWrite {
            pointer: "/definition/plans/0".into(),
            patch: json!({"regions": ["US", "DE", "FR"], "virtualMachinePricing": null}),
        },
    ));
    update(&h, &start_state(VERSION)).await.unwrap();
    let gen1: &Value = &h.draft()["definition"]["plans"][0];
    assert_eq!(gen1["regions"], json!(["US", "DE", "FR"]));
    assert!(
        gen1.get("virtualMachinePricing").is_none(),
        "their removal stands"
    );
    assert_eq!(h.versions_in("draft"), ["1.0.0", VERSION]);
}

/// Two runs for two plans of one offer at once: B's write lands just after A's publish started
/// (between B's look for a running operation and its PUT). A's publish cannot hold B's version, so B
/// waits for it, then publishes its own, instead of following A's and finding its plan missing at
/// go-live.
#[tokio::test]
async fn a_publish_that_began_before_our_write_is_waited_for_not_followed() {
    let h = Harness::start().await;
    let a = publishing(&h).await;
    let a_id = a.operation.as_ref().and_then(|o| o.at.id.clone());

    // B's write of gen1, landed after A's publish began.
    let mut b_request = test_harness::request(VERSION);
    b_request.plan_id = "gen1".into();
    write_into_draft(&h, &b_request).await;
    let mut b =
        shared::workflow::WorkflowState::start(b_request, shared::workflow::Action::Publish);
    b.changed = Some(true);
    b.wrote_during = a_id.clone();

    let queued = update(&h, &b).await.unwrap();
    assert!(queued.queue.is_some(), "B waits: {queued:?}");
    assert!(queued.operation.is_none(), "B does not follow A's publish");
    assert_eq!(publishes(&h), 1);

    // A goes through certification and live; then B publishes its own.
    h.advance(DAY * 5);
    let mut a = check(&h, &a).await.unwrap();
    a.action = shared::workflow::Action::GoLive;
    let a = go_live(&h, &a).await.unwrap();
    h.advance(DAY * 4);
    check(&h, &a).await.unwrap();
    let b = update(&h, &queued).await.unwrap();
    assert_eq!(publishes(&h), 2, "B's own publish");
    let b_id = b.operation.as_ref().and_then(|o| o.at.id.clone());
    assert!(b_id.is_some() && b_id != a_id, "{b_id:?}");
    assert_eq!(
        b.wrote_during, None,
        "forgotten once B follows its own publish"
    );
}
