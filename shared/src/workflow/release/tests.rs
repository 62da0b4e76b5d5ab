use proptest::prelude::*;
use serde_json::json;
use time::macros::datetime;

use super::*;
use crate::workflow::ErrorName;

fn rules() -> ManifestRules<'static> {
    ManifestRules {
        default_publisher: Some("contoso"),
        default_api: Api::Cpp,
        sas_min_validity_days: 21,
        now: datetime!(2026-11-21 00:00 UTC),
    }
}

fn url(name: &str) -> String {
    format!(
        "https://acct.blob.core.windows.net/vhds/{name}.vhd?sv=2021-08-06&sr=b&sp=rl&se=2027-01-31T00:00:00Z&sig=s-{name}"
    )
}

/// The README's example: `contoso-linux` gen1 and gen2 (two VHDs) and `contoso-byol` gen2 on
/// Product Ingestion with a Gen2 and an arm64 image.
fn example() -> Value {
    json!({
        "version": "1.4.0",
        "notificationEmails": "release@contoso.com",
        "goLive": "manual",
        "targets": [
            {"offerId": "contoso-linux", "planId": "gen1", "osVhdUrl": url("gen1")},
            {"offerId": "contoso-linux", "planId": "gen2", "osVhdUrl": url("gen2")},
            {"offerId": "contoso-byol", "planId": "gen2", "api": "productIngestion", "images": [
                {"imageType": "x64Gen2", "osVhdUrl": url("byol-x64")},
                {"imageType": "arm64Gen2", "osVhdUrl": url("byol-arm64")}
            ]}
        ]
    })
}

fn error_of(manifest: Value) -> String {
    let err = Manifest::from_value(manifest, &rules()).unwrap_err();
    assert_eq!(err.name, ErrorName::InvalidInput);
    err.message
}

use crate::marketplace::Api;

#[test]
fn the_example_release_is_grouped_by_offer() {
    let Manifest::Release(release) = Manifest::from_value(example(), &rules()).unwrap() else {
        panic!("targets make a release");
    };
    assert_eq!((release.targets, release.version.as_str()), (3, "1.4.0"));
    let [linux, byol] = release.offers.as_slice() else {
        panic!("two offers: {:?}", release.offers);
    };
    assert_eq!(
        (linux.api(), linux.publisher_id.as_str(), linux.plan_ids()),
        (Api::Cpp, "contoso", vec!["gen1", "gen2"])
    );
    assert_eq!(linux.plan_label(), "gen1, gen2");
    assert_eq!(
        (byol.api(), byol.plan_ids()),
        (Api::ProductIngestion, vec!["gen2"])
    );
    let plans = linux.plan_requests();
    assert_eq!(plans[1].os_vhd_url, url("gen2"));
    assert_eq!(plans[1].notification_emails, "release@contoso.com");
    assert_eq!(byol.plan_requests()[0].images.len(), 2);
    assert_eq!(linux.plan_entry("gen2").as_deref(), Some("targets[1]"));
    assert_eq!(byol.plan_entry("gen2").as_deref(), Some("targets[2]"));
    // A manifest without targets is still a publication of one plan.
    let single = json!({"offerId": "o", "planId": "p", "version": "1.0.0", "osVhdUrl": url("o")});
    assert!(matches!(
        Manifest::from_value(single, &rules()).unwrap(),
        Manifest::Single(_)
    ));
}

#[test]
fn a_target_takes_the_top_level_image_unless_it_names_its_own() {
    let mut manifest = example();
    manifest["osVhdUrl"] = json!(url("shared"));
    manifest["targets"][0] = json!({"offerId": "contoso-linux", "planId": "gen1"});
    let Manifest::Release(release) = Manifest::from_value(manifest, &rules()).unwrap() else {
        panic!("a release");
    };
    let plans = release.offers[0].plan_requests();
    assert_eq!(
        (plans[0].os_vhd_url.as_str(), plans[1].os_vhd_url.as_str()),
        (url("shared").as_str(), url("gen2").as_str())
    );
    assert!(
        release.offers[1].plan_requests()[0].os_vhd_url.is_empty(),
        "a target with images does not take the top-level osVhdUrl"
    );
}

/// A change to the example manifest.
type Edit = dyn Fn(&mut Value);

#[test]
fn each_broken_rule_names_its_entry() {
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut manifest = example();
        edit(&mut manifest);
        error_of(manifest)
    };
    let cases: [(&Edit, &str); 9] = [
        (
            &|m| m["targets"][2]["offerId"] = json!("contoso-linux"),
            "targets[2].api is productIngestion but targets[0] lists offer contoso-linux under cpp",
        ),
        (
            &|m| m["targets"][1]["planId"] = json!("gen1"),
            "targets[1].planId lists plan gen1 of offer contoso/contoso-linux again (first at targets[0])",
        ),
        (
            &|m| m["targets"][1]["planId"] = json!("Gen2"),
            "targets[1].planId \"Gen2\" must be lowercase",
        ),
        (
            &|m| m["targets"][1]["osVhdUrl"] = json!("https://acct.blob.core.windows.net/v/os.vhd"),
            "targets[1].osVhdUrl",
        ),
        (
            &|m| m["targets"][0]["goLive"] = json!("auto"),
            "targets[0].goLive is not known",
        ),
        (&|m| m["targets"] = json!([]), "lists 0 targets"),
        (
            &|m| m["targets"] = json!("contoso-linux"),
            "targets must be a list",
        ),
        (
            &|m| m["offerId"] = json!("contoso-linux"),
            "offerId and targets exclude each other",
        ),
        (
            &|m| {
                m["targets"][2]["images"][0]["imageType"] = json!("x64Gen3");
            },
            "targets[2].images[0].imageType",
        ),
    ];
    for (edit, expected) in cases {
        let message = with(edit);
        assert!(message.contains(expected), "{message:?} lacks {expected:?}");
    }
    let mut many = example();
    many["targets"] = Value::Array(
        (0..=MAX_TARGETS)
            .map(|i| json!({"offerId": format!("o{i}"), "planId": "p", "osVhdUrl": url("x")}))
            .collect(),
    );
    assert!(error_of(many).contains("lists 51 targets"));
}

#[test]
fn an_offer_state_with_plans_is_validated_plan_by_plan() {
    let Manifest::Release(release) = Manifest::from_value(example(), &rules()).unwrap() else {
        panic!("a release");
    };
    let mut offer = release.offers[0].clone();
    offer.plan_id = "gen2".into();
    assert!(
        offer
            .validate()
            .unwrap_err()
            .message
            .contains("planId and plans exclude")
    );
    let mut offer = release.offers[0].clone();
    offer.plans[1].plan_id = "gen1".into();
    assert!(
        offer
            .validate()
            .unwrap_err()
            .message
            .contains("plans[1].planId lists plan \"gen1\" a second time")
    );
    let mut offer = release.offers[0].clone();
    offer.plans[0].os_vhd_url.clear();
    let err = offer.validate().unwrap_err();
    assert!(err.message.starts_with("plans[0].osVhdUrl"), "{err}");
    let urls: Vec<String> = release.offers[0]
        .sas_urls()
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(urls, ["plans[0].osVhdUrl", "plans[1].osVhdUrl"]);
}

/// A generated target: offer `o{offer}`, plan `p{plan}`, on CPP or Product Ingestion.
fn target(offer: u8, plan: u8, ingestion: bool) -> Value {
    let api = if ingestion { "productIngestion" } else { "cpp" };
    json!({"offerId": format!("o{offer}"), "planId": format!("p{plan}"), "api": api,
           "osVhdUrl": url(&format!("o{offer}-p{plan}"))})
}

proptest! {
    #[test]
    fn distinct_targets_group_into_one_request_per_offer(
        picks in proptest::collection::btree_set((0u8..8, 0u8..8), 1..=MAX_TARGETS)
    ) {
        // Each offer under one API (odd offers on Product Ingestion), each plan once.
        let targets: Vec<Value> = picks.iter().map(|&(o, p)| target(o, p, o % 2 == 1)).collect();
        let manifest = json!({"version": "2.0.0", "targets": targets});
        let Manifest::Release(release) = Manifest::from_value(manifest, &rules()).unwrap() else {
            panic!("a release");
        };
        let offers: std::collections::BTreeSet<u8> = picks.iter().map(|(o, _)| *o).collect();
        prop_assert_eq!(release.offers.len(), offers.len());
        prop_assert_eq!(release.offers.iter().map(|o| o.plans.len()).sum::<usize>(), picks.len());
        for offer in &release.offers {
            let plans: Vec<String> = picks.iter().filter(|(o, _)| format!("o{o}") == offer.offer_id)
                .map(|(_, p)| format!("p{p}")).collect();
            prop_assert_eq!(offer.plan_ids(), plans.iter().map(String::as_str).collect::<Vec<_>>());
            for request in offer.plan_requests() {
                let image = format!("{}-{}", offer.offer_id, request.plan_id);
                prop_assert!(request.os_vhd_url.contains(&image), "{}", image);
            }
        }
    }

    #[test]
    fn a_repeated_plan_is_refused_at_its_second_entry(
        picks in proptest::collection::btree_set((0u8..8, 0u8..8), 1..20),
        repeat in any::<proptest::sample::Index>(),
        at in any::<proptest::sample::Index>(),
    ) {
        let mut targets: Vec<Value> = picks.iter().map(|&(o, p)| target(o, p, false)).collect();
        let first = repeat.index(targets.len());
        let again = first + 1 + at.index(targets.len() - first);
        targets.insert(again, targets[first].clone());
        let message = error_of(json!({"version": "2.0.0", "targets": targets}));
        let expected = format!("targets[{again}].planId");
        let first_at = format!("first at targets[{first}]");
        prop_assert!(message.starts_with(&expected), "{}", message);
        prop_assert!(message.contains(&first_at), "{}", message);
    }

    #[test]
    fn an_offer_under_two_apis_is_refused(
        offer in 0u8..8, plans in proptest::collection::btree_set(0u8..8, 2..6)
    ) {
        let targets: Vec<Value> = plans.iter().enumerate()
            .map(|(i, &p)| target(offer, p, i == plans.len() - 1)).collect();
        let message = error_of(json!({"version": "2.0.0", "targets": targets}));
        let expected = format!("targets[{}].api", plans.len() - 1);
        prop_assert!(message.starts_with(&expected), "{}", message);
    }
}
