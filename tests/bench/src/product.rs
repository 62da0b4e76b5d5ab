//! A Product Ingestion product for the emulator, shaped like what Partner Center returns: VM plans
//! (gen2 unless told) of one image type (the Rust side of `testProduct` in tests/e2e/lib/products.mjs).

use serde_json::{Value, json};

/// The plan every benchmark product has, named like the CPP test plan.
pub const PLAN: &str = test_harness::PLAN;
const HOST: &str = "https://schema.mp.microsoft.com/schema";
/// Partner Center still returns `property` on the retired host (Q9); the client must cope.
const LEGACY_HOST: &str = "https://product-ingestion.azureedge.net/schema";

/// A GUID-shaped id derived from `seed` (FNV-1a, twice): each offer gets its own product and plan
/// ids, and a rerun of the benchmark sends the same requests.
pub fn guid(seed: &str) -> String {
    let fnv = |basis: u64| {
        seed.bytes().fold(basis, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    let hex = format!(
        "{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x9e37_79b9_7f4a_7c15)
    );
    // Version 4 and the RFC 4122 variant, so it reads as the random GUIDs Partner Center hands out.
    let variant = ["8", "9", "a", "b"][usize::from(hex.as_bytes()[16] % 4)];
    format!(
        "{}-{}-4{}-{variant}{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// The product GUID of `offer`.
pub fn product_guid(offer: &str) -> String {
    guid(&format!("product {offer}"))
}

/// The name of the build's image of `offer` `version`, in its SAS URL.
pub fn image_name(offer: &str, version: &str) -> String {
    format!("{offer}-{version}")
}

/// A resource tree for product `offer` whose plan gen2 holds `versions` in its draft, with fields the
/// code never reads.
pub fn test_product(offer: &str, versions: &[&str]) -> Value {
    test_product_with_plans(offer, &[PLAN], versions)
}

/// A resource tree for product `offer` whose `plans` each hold `versions` in their draft.
pub fn test_product_with_plans(offer: &str, plans: &[&str], versions: &[&str]) -> Value {
    let p = product_guid(offer);
    let product = format!("product/{p}");
    let images: Vec<Value> = versions
        .iter()
        .map(|v| {
            json!({
                "versionNumber": v,
                "lifecycleState": "generallyAvailable",
                "vmImages": [{"imageType": "x64Gen2", "source": {"sourceType": "sasUri",
                    "osDisk": {"uri": test_harness::sas_url(&image_name(offer, v))}, "dataDisks": []}}],
            })
        })
        .collect();
    let plan_resources = plans.iter().flat_map(|plan_id| {
        let l = guid(&format!("plan {offer} {plan_id}"));
        let plan = format!("plan/{p}/{l}");
        [
            json!({"$schema": format!("{HOST}/plan/2022-03-01-preview2"), "id": plan, "product": product,
             "identity": {"externalId": plan_id}, "alias": format!("Gen {}", plan_id.trim_start_matches("gen")), "azureRegions": ["azureGlobal"]}),
            json!({
                "$schema": format!("{HOST}/virtual-machine-plan-technical-configuration/2022-03-01-preview5"),
                "id": format!("virtual-machine-plan-technical-configuration/{p}/{l}"),
                "product": product,
                "plan": plan,
                "operatingSystem": {"family": "linux", "type": "other", "friendlyName": "Contoso Linux"},
                "recommendedVmSizes": ["d2s-standard-v5"],
                "openPorts": [],
                "vmProperties": {"supportsExtensions": true, "supportsCloudInit": true, "x_unknownFlag": true},
                "skus": [{"skuId": format!("{offer}-{plan_id}"), "imageType": "x64Gen2", "securityType": ["trusted"]}],
                "vmImageVersions": images,
            }),
        ]
    });
    let mut resources = vec![
        json!({"$schema": format!("{HOST}/product/2022-03-01-preview3"), "id": product,
         "identity": {"externalId": offer}, "type": "azureVirtualMachine", "alias": "Contoso Linux — «ünïcode»"}),
        json!({"$schema": format!("{LEGACY_HOST}/property/2022-03-01-preview2"), "id": format!("property/{p}/public/main"),
         "product": product, "kind": "azureVM", "termsOfUseUrl": "https://contoso.example/terms",
         "categories": {"compute": ["operating-systems"]}}),
    ];
    resources.extend(plan_resources);
    resources.push(json!({"$schema": format!("{HOST}/reseller/2022-03-01-preview2"), "id": format!("reseller/{p}"),
         "product": product, "resellerChannelState": "notSet", "audiences": []}));
    resources.push(json!({"$schema": format!("{HOST}/submission/2022-03-01-preview2"), "id": format!("submission/{p}/0"),
         "product": product, "target": {"targetType": "draft"}, "lifecycleState": "generallyAvailable"}));
    json!({
        "$schema": format!("{HOST}/resource-tree/2022-03-01-preview2"),
        "root": product,
        "target": {"targetType": "draft"},
        "resources": resources,
    })
}

/// The OS disk URL of `version` in `plan`'s technical configuration of a resource tree.
pub fn plan_image_url<'a>(tree: &'a Value, plan: &str, version: &str) -> Option<&'a str> {
    let resources = tree["resources"].as_array()?;
    let plan = resources.iter().find(|r| {
        r["id"].as_str().is_some_and(|id| id.starts_with("plan/"))
            && r["identity"]["externalId"] == plan
    })?;
    let config = resources
        .iter()
        .find(|r| r["plan"] == plan["id"] && r["vmImageVersions"].is_array())?;
    config["vmImageVersions"]
        .as_array()?
        .iter()
        .find(|v| v["versionNumber"] == version)?["vmImages"]
        .as_array()?
        .iter()
        .find(|image| image["imageType"] == "x64Gen2")?["source"]["osDisk"]["uri"]
        .as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_guid_shaped_stable_and_distinct() {
        let a = guid("product bench-offer-000");
        assert_eq!(a, guid("product bench-offer-000"));
        assert_ne!(a, guid("product bench-offer-001"));
        let groups: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{a}");
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_hexdigit()), "{a}");
        assert_eq!(&a[14..15], "4");
    }

    #[tokio::test]
    async fn the_emulator_takes_the_tree_and_shows_its_versions() {
        let tree = test_product("bench-offer", &["1.0.0"]);
        let emulator = cpp_emulator::Emulator::start(cpp_emulator::EmulatorConfig::default())
            .await
            .unwrap();
        assert_eq!(
            emulator.seed_published_product(tree),
            product_guid("bench-offer")
        );
        let live = &emulator.ingestion_state("bench-offer").unwrap()["live"];
        assert_eq!(
            plan_image_url(live, PLAN, "1.0.0"),
            Some(test_harness::sas_url("bench-offer-1.0.0").as_str())
        );
        assert_eq!(plan_image_url(live, PLAN, "1.1.0"), None);
    }
}
