//! Nothing lost on Product Ingestion: a technical configuration of any shape comes back from
//! `with_version` unchanged but for the new version (and the versions it was asked to deprecate),
//! and the plan then holds the new version with its image.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use shared::ingestion::techconfig::{rewrite_schema_hosts, versions, with_version};
use shared::marketplace::{ImageVersion, NewImage, NewSource, NewVersion};
use shared::workflow::holds;

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("\\PC{1,8}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn extras() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("x-\\PC{1,8}", any_json(), 0..3)
        .prop_map(|m| m.into_iter().collect())
}

/// A version entry as the service returns them: any lifecycle, schedules, unknown fields.
fn version_entry(number: u64) -> impl Strategy<Value = Value> {
    (extras(), 0u8..3, any::<bool>()).prop_map(move |(mut fields, state, legacy_host)| {
        fields.insert("versionNumber".into(), json!(format!("1.0.{number}")));
        match state {
            0 => {}
            1 => {
                fields.insert("lifecycleState".into(), json!("generallyAvailable"));
            }
            _ => {
                fields.insert("lifecycleState".into(), json!("deprecated"));
                fields.insert("deprecationSchedule".into(), json!({"date": "2026-06-01", "reason": "endOfSupport"}));
            }
        }
        let host = if legacy_host { "https://product-ingestion.azureedge.net/" } else { "https://schema.mp.microsoft.com/" };
        fields.insert("vmImages".into(), json!([{"imageType": "x64Gen2", "$schema": format!("{host}schema/x"),
            "source": {"sourceType": "sasUri", "osDisk": {"uri": format!("https://a.blob.core.windows.net/v/{number}.vhd?sp=rl&sig=s")}, "dataDisks": []}}]));
        Value::Object(fields)
    })
}

fn techconfig() -> impl Strategy<Value = Value> {
    (
        extras(),
        prop::collection::btree_set(0u64..40, 0..8),
        any::<bool>(),
    )
        .prop_flat_map(|(top, numbers, legacy)| {
            let entries: Vec<_> = numbers.into_iter().map(version_entry).collect();
            (Just(top), entries, Just(legacy))
        })
        .prop_map(|(mut top, entries, legacy)| {
            let host = if legacy {
                "https://product-ingestion.azureedge.net/"
            } else {
                "https://schema.mp.microsoft.com/"
            };
            top.insert(
                "$schema".into(),
                json!(format!(
                    "{host}schema/virtual-machine-plan-technical-configuration/2022-03-01-preview5"
                )),
            );
            top.insert(
                "id".into(),
                json!("virtual-machine-plan-technical-configuration/p/l"),
            );
            top.insert(
                "skus".into(),
                json!([{"skuId": "s", "imageType": "x64Gen2", "securityType": ["trusted"]}]),
            );
            top.insert("vmImageVersions".into(), Value::Array(entries));
            Value::Object(top)
        })
}

fn new_version() -> NewVersion {
    NewVersion {
        version: ImageVersion {
            major: 2,
            minor: 0,
            patch: 0,
        },
        images: vec![NewImage {
            image_type: Some("x64Gen2".into()),
            source: NewSource::Sas {
                os_vhd_url: "https://a.blob.core.windows.net/v/new.vhd?sp=rl&sig=n".into(),
                lun_vhd_details: vec![],
            },
        }],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn only_the_new_version_and_the_asked_deprecations_change(doc in techconfig(), pick in prop::collection::vec(any::<bool>(), 8)) {
        let retire: Vec<String> = doc["vmImageVersions"].as_array().unwrap().iter().zip(&pick)
            .filter(|(_, p)| **p)
            .map(|(v, _)| v["versionNumber"].as_str().unwrap().to_owned())
            .collect();
        let sent = with_version(&doc, &new_version(), &retire);
        let mut expected = doc.clone();
        rewrite_schema_hosts(&mut expected);
        let list = expected["vmImageVersions"].as_array_mut().unwrap();
        for entry in list.iter_mut() {
            if retire.iter().any(|r| entry["versionNumber"] == r.as_str()) {
                entry["lifecycleState"] = json!("deprecated");
            }
        }
        let mut sent_versions = sent["vmImageVersions"].as_array().unwrap().clone();
        let added = sent_versions.pop().unwrap();
        prop_assert_eq!(&Value::Array(sent_versions), &expected["vmImageVersions"], "every earlier version goes back");
        prop_assert_eq!(added["versionNumber"].as_str(), Some("2.0.0"));
        let mut sent_rest = sent.clone();
        let mut expected_rest = expected.clone();
        sent_rest.as_object_mut().unwrap().shift_remove("vmImageVersions");
        expected_rest.as_object_mut().unwrap().shift_remove("vmImageVersions");
        prop_assert_eq!(sent_rest, expected_rest, "nothing else of the resource changes");
        prop_assert!(!sent.to_string().contains("product-ingestion.azureedge.net"));
        let read = versions(&sent).unwrap();
        prop_assert!(holds(&read, &new_version()));
    }
}
