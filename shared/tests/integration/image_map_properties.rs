//! Properties of adding image versions (docs/architecture.md, *Rules of the domain*): after any sequence of additions the plan
//! holds at most the cap, the newest versions survive, and nothing outside its image map changes.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use shared::cpp::market::{add_version, plan_versions};
use shared::cpp::{ImageVersion, Offer, VM_IMAGES_KEY};
use shared::marketplace::{Api, OfferId};
use shared::workflow::{Decision, GoLiveMode, PublishRequest, decide, new_version, retention};

/// Any JSON a service might add: nested objects and arrays, unicode keys and text.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1.0e12f64..1.0e12).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("\\PC{1,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn extras() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("x-\\PC{1,8}", any_json(), 0..4)
        .prop_map(|m| m.into_iter().collect())
}

fn version() -> impl Strategy<Value = ImageVersion> {
    (0u64..4, 0u64..12, 0u64..3).prop_map(|(major, minor, patch)| ImageVersion {
        major,
        minor,
        patch,
    })
}

fn url(version: &ImageVersion, variant: u8) -> String {
    format!(
        "https://a.blob.core.windows.net/v/{version}-{variant}.vhd?sp=rl&se=2099-01-01&sig=s{variant}"
    )
}

/// An offer with several plans, fields the code never heard of at every level, and `target`'s
/// plan holding `existing` versions.
fn offer() -> impl Strategy<Value = Value> {
    (extras(), extras(), extras(), prop::collection::btree_set(version(), 0..12), 1usize..4).prop_map(
        |(top, offer_level, plan_level, existing, other_plans)| {
            let images: Map<String, Value> =
                existing.iter().map(|v| (v.to_string(), json!({"osVhdUrl": url(v, 0), "lunVhdDetails": []}))).collect();
            let mut target = plan_level;
            target.insert("planId".into(), json!("target"));
            target.insert(VM_IMAGES_KEY.into(), Value::Object(images));
            let mut plans: Vec<Value> = (0..other_plans)
                .map(|i| json!({"planId": format!("other-{i}"), VM_IMAGES_KEY: {"9.9.9": {"osVhdUrl": "https://x"}}}))
                .collect();
            plans.insert(other_plans / 2, Value::Object(target));
            let mut doc = top;
            doc.insert("id".into(), json!("offer"));
            doc.insert("definition".into(), json!({"offer": offer_level, "plans": plans}));
            Value::Object(doc)
        },
    )
}

fn request(version: ImageVersion, variant: u8) -> PublishRequest {
    PublishRequest {
        api: None,
        publisher_id: "p".into(),
        offer_id: "offer".into(),
        plan_id: "target".into(),
        version: version.to_string(),
        os_vhd_url: url(&version, variant),
        lun_vhd_details: vec![],
        notification_emails: String::new(),
        go_live: GoLiveMode::Manual,
        images: vec![],
        plans: vec![],
    }
}

/// What update-and-publish does to a CPP draft: decide on the plan's versions, then edit the document.
fn add(
    offer: &mut Offer,
    request: &PublishRequest,
    cap: usize,
) -> Result<Option<Vec<String>>, String> {
    let id = OfferId {
        publisher: "p".into(),
        offer: "offer".into(),
    };
    let plan = plan_versions(offer, &id, "target")
        .map_err(|e| e.to_string())?
        .unwrap();
    let new = new_version(request, &plan).map_err(|e| e.to_string())?;
    match decide(
        &plan,
        &new,
        retention(Api::Cpp, cap, None),
        "p/offer plan target",
    )
    .map_err(|e| e.to_string())?
    {
        Decision::AlreadyPresent => Ok(None),
        Decision::Add { retire } => {
            add_version(offer, "target", &new, &retire).map_err(|e| e.to_string())?;
            Ok(Some(retire))
        }
    }
}

fn without_target_images(offer: &Offer) -> Value {
    let mut doc = offer.to_value();
    for plan in doc["definition"]["plans"].as_array_mut().unwrap() {
        if plan["planId"] == "target" {
            plan.as_object_mut().unwrap().shift_remove(VM_IMAGES_KEY);
        }
    }
    doc
}

fn held(offer: &Offer) -> Vec<ImageVersion> {
    offer
        .plan("target")
        .unwrap()
        .images()
        .unwrap()
        .iter()
        .map(|i| i.version)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn additions_keep_the_cap_the_newest_and_everything_else(
        doc in offer(),
        additions in prop::collection::vec((version(), 0u8..2), 1..12),
        cap in 1usize..=8,
    ) {
        let mut offer = Offer::new(doc, None).unwrap();
        let untouched = without_target_images(&offer);
        for (version, variant) in additions {
            let before = offer.clone();
            let highest_before = held(&before).last().copied();
            match add(&mut offer, &request(version, variant), cap) {
                Ok(Some(evicted)) => {
                    let now = held(&offer);
                    prop_assert!(now.len() <= cap.max(1), "{} versions with cap {cap}", now.len());
                    prop_assert_eq!(now.last().copied(), Some(version), "the new version is kept and highest");
                    let oldest_kept = now[0];
                    for gone in &evicted {
                        prop_assert!(gone.parse::<ImageVersion>().unwrap() < oldest_kept, "{} evicted but {} kept", gone, oldest_kept);
                    }
                    prop_assert!(highest_before.is_none_or(|h| version > h));
                }
                Ok(None) | Err(_) => prop_assert_eq!(&offer, &before, "a refusal changes nothing"),
            }
            prop_assert_eq!(without_target_images(&offer), untouched.clone());
        }
    }
}
