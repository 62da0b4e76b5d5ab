//! The manifest's `images`: one per image type, by SAS URL or from a compute gallery; retention by
//! deprecation; and the technical configuration sent back exactly as read but for the new version.

use serde_json::{Value, json};
use shared::workflow::{ManifestImage, PublishRequest, SharedImage};
use test_harness::cpp_emulator::EmulatorConfig;
use test_harness::{Harness, PI_PLAN, PI_PLAN_TWO_TYPES, PI_SEEDED_VERSION, pi_request, sas_url};

use super::{published, start, until_done, update};

const GALLERY_IMAGE: &str = "/subscriptions/0a1b2c3d-0000-4000-8000-000000000001/resourceGroups/images/providers/Microsoft.Compute/galleries/contoso/images/linux/versions/1.1.0";

fn two_types(version: &str) -> PublishRequest {
    let mut request = pi_request(version);
    request.plan_id = PI_PLAN_TWO_TYPES.into();
    request.os_vhd_url.clear();
    request.images = vec![
        ManifestImage {
            image_type: "x64Gen2".into(),
            os_vhd_url: Some(sas_url("gen2")),
            lun_vhd_details: vec![json!({"lun": 0, "lunVhdUrl": sas_url("gen2-data")})],
            shared_image: None,
        },
        ManifestImage {
            image_type: "x64Gen1".into(),
            os_vhd_url: None,
            lun_vhd_details: vec![],
            shared_image: Some(SharedImage {
                tenant_id: "72f988bf-0000-4000-8000-000000000002".into(),
                resource_id: GALLERY_IMAGE.into(),
            }),
        },
    ];
    request
}

/// The plan's technical configuration in `target`, as the emulator stores it.
fn techconfig(h: &Harness, target: &str, plan: &str) -> Value {
    let state = h.product();
    let resources = state[target]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let plan_id = resources
        .iter()
        .find(|r| {
            r["identity"]["externalId"] == plan
                && r["id"].as_str().is_some_and(|i| i.starts_with("plan/"))
        })
        .map(|r| r["id"].clone())
        .unwrap();
    resources
        .into_iter()
        .find(|r| r["plan"] == plan_id && r.get("vmImageVersions").is_some())
        .unwrap()
}

#[tokio::test]
async fn images_of_each_type_are_written_sas_and_gallery_alike() {
    let h = Harness::start().await;
    let before = techconfig(&h, "draft", PI_PLAN_TWO_TYPES);
    let state = update(&h, &start(two_types("1.1.0"))).await.unwrap();
    assert_eq!(state.changed, Some(true));
    let after = techconfig(&h, "draft", PI_PLAN_TWO_TYPES);
    let added = after["vmImageVersions"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        added,
        json!({"versionNumber": "1.1.0", "lifecycleState": "generallyAvailable", "vmImages": [
            {"imageType": "x64Gen2", "source": {"sourceType": "sasUri", "osDisk": {"uri": sas_url("gen2")},
             "dataDisks": [{"lunNumber": 0, "uri": sas_url("gen2-data")}]}},
            {"imageType": "x64Gen1", "source": {"sourceType": "sharedImageGallery",
             "sharedImage": {"tenantId": "72f988bf-0000-4000-8000-000000000002", "resourceId": GALLERY_IMAGE}}}]})
    );
    // Nothing lost: every other field and every earlier version, deprecated ones included, as read.
    let mut expected = before.clone();
    expected["vmImageVersions"]
        .as_array_mut()
        .unwrap()
        .push(added);
    assert_eq!(after, expected);
    // The same images again (the gallery id in other letter case) write nothing.
    let mut again = two_types("1.1.0");
    again.images[1].shared_image.as_mut().unwrap().resource_id = GALLERY_IMAGE.to_uppercase();
    let configures = h.count("POST", "/rp/product-ingestion/configure");
    let state = update(&h, &start(again)).await.unwrap();
    assert_eq!(state.changed, Some(false));
    assert_eq!(
        h.count("POST", "/rp/product-ingestion/configure"),
        configures
    );
}

#[tokio::test]
async fn nothing_is_deprecated_unless_asked_and_nothing_is_ever_deleted() {
    let h = Harness::start().await;
    let state = published(&h, "1.1.0").await;
    assert!(state.deprecated_versions.is_empty());
    let versions = h.pi_versions_in("draft", PI_PLAN);
    assert_eq!(versions.len(), 2);
    assert!(
        versions.iter().all(|(_, s)| s == "generallyAvailable"),
        "{versions:?}"
    );
}

#[tokio::test]
async fn the_oldest_active_versions_beyond_the_kept_number_are_deprecated_in_the_same_write() {
    let h = Harness::with(
        EmulatorConfig::default(),
        &[("INGESTION_KEEP_ACTIVE_VERSIONS", "1")],
    )
    .await;
    let state = update(&h, &start(pi_request("1.1.0"))).await.unwrap();
    assert_eq!(state.deprecated_versions, [PI_SEEDED_VERSION]);
    assert!(state.evicted_versions.is_empty());
    assert_eq!(
        h.pi_versions_in("draft", PI_PLAN),
        [
            (PI_SEEDED_VERSION.into(), "deprecated".into()),
            ("1.1.0".into(), "generallyAvailable".into())
        ]
    );
    let state = until_done(&h, state).await;
    assert_eq!(
        state.operation_status,
        Some(shared::workflow::RunStatus::Succeeded)
    );
    let serialized = serde_json::to_value(&state).unwrap();
    assert_eq!(serialized["deprecatedVersions"], json!([PI_SEEDED_VERSION]));
}

#[tokio::test]
async fn legacy_schema_hosts_are_rewritten_and_every_call_pins_the_schema_version() {
    let h = Harness::start().await;
    published(&h, "1.1.0").await;
    let calls: Vec<_> = h
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/rp/product-ingestion"))
        .collect();
    assert!(!calls.is_empty());
    for call in &calls {
        assert!(
            call.query.contains("%24version=2022-07-01")
                || call.query.contains("$version=2022-07-01"),
            "{} {}?{}",
            call.method,
            call.path,
            call.query
        );
    }
    for configure in calls.iter().filter(|r| r.method == "POST") {
        let body = configure.body.as_ref().unwrap().to_string();
        assert!(!body.contains("product-ingestion.azureedge.net"), "{body}");
    }
    let submission = calls
        .iter()
        .rev()
        .find(|r| r.method == "POST" && r.path.ends_with("/configure"))
        .unwrap();
    assert_eq!(
        submission.body.as_ref().unwrap()["resources"][0]["$schema"],
        "https://schema.mp.microsoft.com/schema/submission/2022-03-01-preview2"
    );
}

#[tokio::test]
async fn data_disks_listed_in_any_order_are_the_same_version() {
    let h = Harness::start().await;
    let mut request = pi_request("1.1.0");
    request.lun_vhd_details = vec![
        json!({"lun": 1, "lunVhdUrl": sas_url("data-1")}),
        json!({"lun": 0, "lunVhdUrl": sas_url("data-0")}),
    ];
    let first = update(&h, &start(request.clone())).await.unwrap();
    assert_eq!(first.changed, Some(true));
    request.lun_vhd_details.reverse();
    let configures = h.count("POST", "/rp/product-ingestion/configure");
    let again = update(&h, &start(request.clone())).await.unwrap();
    assert_eq!(again.changed, Some(false), "the same disks, by LUN");
    assert_eq!(
        h.count("POST", "/rp/product-ingestion/configure"),
        configures
    );
    request.lun_vhd_details[0]["lunVhdUrl"] = json!(sas_url("another-disk"));
    let err = update(&h, &start(request)).await.unwrap_err();
    assert_eq!(
        err.name,
        shared::workflow::ErrorName::VersionConflict,
        "another data disk is another image: {err}"
    );
}
