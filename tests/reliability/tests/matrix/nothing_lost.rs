//! Nothing is lost: generated offer documents (fields the code never heard of at every level, several
//! plans, unicode, image maps up to the cap, keys in any order) go through update-and-publish's handler,
//! the client and the emulator. The stored draft differs from the seeded one only in the target plan's
//! `vmImages` map, byte for byte (key order included), and retention keeps the newest versions and
//! never evicts the new one. (shared's image_map_properties checks the pure function; this goes
//! through HTTP, the ETag round trip and the handler.)

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use shared::cpp::{ImageVersion, VM_IMAGES_KEY};
use shared::workflow::RunStatus;
use test_harness::cpp_emulator::EmulatorConfig;
use test_harness::{Harness, OFFER, PLAN, PUBLISHER};

use crate::support::{start_state, update};

/// Higher than every generated key, date-like ones included.
const NEW_VERSION: &str = "9999.1.0";

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1.0e15f64..1.0e15).prop_map(Value::from),
        "\\PC{0,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("\\PC{1,10}", inner), 0..4)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// Fields CPP may add that the code has never seen; `x-` keeps them clear of the ones it reads.
fn extras(max: usize) -> impl Strategy<Value = Vec<(String, Value)>> {
    prop::collection::vec(("x-\\PC{1,8}", any_json()), 0..=max)
}

/// Version keys as offers hold them: semver-like, and date-like with leading zeros.
fn version_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0u64..4, 0u64..20, 0u64..20).prop_map(|(a, b, c)| format!("{a}.{b}.{c}")),
        1 => (2015u64..2026, 1u64..13, 1u64..29).prop_map(|(y, m, d)| format!("{y}.{m:02}.{d:02}")),
    ]
}

/// An image map of `min` to 8 distinct versions in any order, entries with extra fields.
fn image_map(min: usize, disks: usize) -> impl Strategy<Value = Vec<(String, Value)>> {
    prop::collection::btree_set(version_key(), min..=8)
        .prop_map(|keys| keys.into_iter().collect::<Vec<_>>())
        .prop_shuffle()
        .prop_flat_map(move |keys| {
            let n = keys.len();
            (
                Just(keys),
                prop::collection::vec((extras(2), "\\PC{0,200}", any::<bool>()), n),
            )
        })
        .prop_map(move |(keys, entries)| {
            keys.into_iter()
                .zip(entries)
                .map(|(key, (extra, description, with_disks))| {
                    let mut entry = Map::new();
                    entry.insert("osVhdUrl".into(), json!(test_harness::sas_url(&format!("img-{key}"))));
                    if disks > 0 || with_disks {
                        let luns: Vec<Value> = (0..disks)
                            .map(|lun| json!({"lun": lun, "lunVhdUrl": test_harness::sas_url(&format!("d{lun}-{key}"))}))
                            .collect();
                        entry.insert("lunVhdDetails".into(), Value::Array(luns));
                    }
                    entry.insert("description".into(), json!(description));
                    entry.extend(extra);
                    (key, Value::Object(entry))
                })
                .collect()
        })
}

/// A plan; publishing needs an image in every plan but the one the run adds to.
fn plan(id: String, min_images: usize, disks: usize) -> impl Strategy<Value = Value> {
    (
        extras(3),
        image_map(min_images, disks),
        "\\PC{0,30}",
        any::<bool>(),
    )
        .prop_map(move |(extra, images, title, without_map)| {
            let mut plan = Map::new();
            plan.insert("planId".into(), json!(id));
            plan.insert(
                "microsoft-azure-virtualmachines.skuTitle".into(),
                json!(title),
            );
            plan.extend(extra);
            // A plan that never had an image may have no map at all.
            if !(images.is_empty() && without_map) {
                plan.insert(
                    VM_IMAGES_KEY.into(),
                    Value::Object(images.into_iter().collect()),
                );
            }
            Value::Object(plan)
        })
}

/// An offer document: extras at every level, 0–3 other plans around the target plan `gen2`.
fn offer() -> impl Strategy<Value = Value> {
    let others = prop::collection::vec(0usize..3, 0..4).prop_flat_map(|disks| {
        disks
            .into_iter()
            .enumerate()
            .map(|(i, d)| plan(format!("other-{i}-ünï"), 1, d))
            .collect::<Vec<_>>()
    });
    (
        extras(3),
        extras(3),
        extras(3),
        others,
        plan(PLAN.into(), 0, 0),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(top, definition, listing, mut plans, target, at)| {
            let at = at.index(plans.len() + 1);
            plans.insert(at, target);
            let mut offer_listing = Map::new();
            offer_listing.insert(
                "microsoft-azure-marketplace.title".into(),
                json!("Contoso Linux — «ünïcode» 版本"),
            );
            offer_listing.extend(listing);
            let mut def = Map::new();
            def.insert("displayText".into(), json!("Contoso Linux"));
            def.insert("offer".into(), Value::Object(offer_listing));
            def.insert("plans".into(), Value::Array(plans));
            def.extend(definition);
            let mut doc = Map::new();
            doc.insert("publisherId".into(), json!(PUBLISHER));
            doc.insert(
                "offerTypeId".into(),
                json!("microsoft-azure-virtualmachines"),
            );
            doc.insert("id".into(), json!(OFFER));
            doc.insert("definition".into(), Value::Object(def));
            doc.extend(top);
            Value::Object(doc)
        })
}

fn target_plan(doc: &mut Value) -> &mut Value {
    doc["definition"]["plans"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["planId"] == PLAN)
        .unwrap()
}

/// The document as update-and-publish must leave it: the lowest versions beyond the cap evicted (the
/// others in their order), the new one appended; everything else exactly as it was.
fn expected(seeded: &Value, cap: usize) -> (Value, Vec<String>) {
    let mut doc = seeded.clone();
    let plan = target_plan(&mut doc).as_object_mut().unwrap();
    let images = plan
        .entry(VM_IMAGES_KEY)
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .unwrap();
    let mut by_version: Vec<(ImageVersion, String)> = images
        .keys()
        .map(|k| (ImageVersion::parse_existing(k).unwrap(), k.clone()))
        .collect();
    by_version.sort();
    let evict = (images.len() + 1).saturating_sub(cap);
    let evicted: Vec<String> = by_version.into_iter().take(evict).map(|(_, k)| k).collect();
    for key in &evicted {
        images.shift_remove(key);
    }
    images.insert(
        NEW_VERSION.into(),
        json!({"osVhdUrl": test_harness::sas_url(NEW_VERSION), "lunVhdDetails": []}),
    );
    (doc, evicted)
}

fn without_server_fields(mut doc: Value) -> Value {
    for field in ["status", "version", "changedTime"] {
        doc.as_object_mut().unwrap().shift_remove(field);
    }
    doc
}

#[tokio::test]
async fn numbers_come_back_with_the_value_they_had() {
    // Found by the property below: serde_json's default float parser may be one unit in the last
    // place off, so a GET then PUT changed such numbers. The workspace enables `float_roundtrip`.
    let h = Harness::start().await;
    let numbers = json!([
        -985397120642230.1,
        -910437171753147.6,
        0.30000000000000004,
        1.7976931348623157e308,
        5e-324,
        2.2250738585072014e-308,
        9007199254740993u64,
        -9223372036854775808i64,
        18446744073709551615u64,
        0.125
    ]);
    let mut doc = test_harness::test_offer(&["1.0.0"]);
    doc["definition"]["x-numbers"] = numbers.clone();
    doc["definition"]["plans"][1]["virtualMachinePricingV2"]["price"] = json!(0.1 + 0.2);
    h.emulator.seed_offer(doc);
    update(&h, &start_state("1.1.0")).await.unwrap();
    let stored = h.draft();
    assert_eq!(
        serde_json::to_string(&stored["definition"]["x-numbers"]).unwrap(),
        serde_json::to_string(&numbers).unwrap()
    );
    assert_eq!(
        stored["definition"]["plans"][1]["virtualMachinePricingV2"]["price"],
        json!(0.1 + 0.2)
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn adding_a_version_changes_only_the_plans_image_map(seeded in offer(), cap in 1usize..=8) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let cap_text = cap.to_string();
            let h = Harness::with(EmulatorConfig::default(), &[("CPP_MAX_IMAGES_PER_PLAN", &cap_text)]).await;
            h.emulator.seed_offer(seeded.clone());
            let state = update(&h, &start_state(NEW_VERSION)).await.unwrap();

            let (expected, evicted) = expected(&seeded, cap);
            let stored = without_server_fields(h.draft());
            // Compared as text: values, unicode, numbers and key order all survive the round trip.
            assert_eq!(
                serde_json::to_string(&stored).unwrap(),
                serde_json::to_string(&expected).unwrap(),
            );
            assert_eq!(state.evicted_versions, evicted);
            assert_eq!(state.changed, Some(true));
            assert_eq!(state.operation_status, Some(RunStatus::Running));

            // Retention: at most the cap, the new version, and the highest of the others.
            let held = h.versions_in("draft");
            assert!(held.len() <= cap && held.contains(&NEW_VERSION.to_owned()), "{held:?}");
            let lowest_kept = held.iter()
                .filter(|k| k.as_str() != NEW_VERSION)
                .filter_map(|k| ImageVersion::parse_existing(k))
                .min();
            if let (Some(lowest_kept), Some(highest_evicted)) = (
                lowest_kept,
                evicted.iter().filter_map(|k| ImageVersion::parse_existing(k)).max(),
            ) {
                assert!(lowest_kept > highest_evicted, "kept {held:?}, evicted {evicted:?}");
            }
        });
    }
}
