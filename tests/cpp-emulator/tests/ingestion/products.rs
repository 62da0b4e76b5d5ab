//! Products, plans, resource trees and single resources: filters, paging and the Q9/Q11/Q15 quirks.

use cpp_emulator::{DEFAULT_PRODUCT_EXTERNAL_ID, SINGLE_PLAN_ID, default_product};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{L, P, start};

/// The default product renamed: a new GUID and external id.
fn other_product(n: u32) -> (String, Value) {
    let guid = format!("00000000-0000-4000-8000-{n:012}");
    let text = default_product().to_string().replace(P, &guid).replace(
        "\"externalId\":\"contoso-linux\"",
        &format!("\"externalId\":\"other-{n}\""),
    );
    (guid, serde_json::from_str(&text).unwrap())
}

#[tokio::test]
async fn products_by_external_id_with_any_parameter_case() {
    let pi = start().await;
    for name in ["externalId", "externalid", "externalID"] {
        let list = pi
            .get_json(&format!("product?{name}={DEFAULT_PRODUCT_EXTERNAL_ID}"))
            .await;
        let value = list["value"].as_array().unwrap();
        assert_eq!(value.len(), 1, "{name}");
        assert_eq!(value[0]["id"], format!("product/{P}"));
        assert_eq!(
            value[0]["identity"]["externalId"],
            DEFAULT_PRODUCT_EXTERNAL_ID
        );
    }
    let list = pi.get_json("product?externalId=nobody-here").await;
    assert_eq!(list["value"], json!([]));
    assert!(list.get("@nextLink").is_none());
    let list = pi.get_json("product?type=azureVirtualMachine").await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    pi.emu.shutdown();
}

#[tokio::test]
async fn product_pages_follow_an_absolute_next_link_on_the_same_origin() {
    let pi = start().await;
    for n in 1..=4 {
        pi.emu.seed_product(other_product(n).1);
    }
    let mut url = pi.url("product?$maxpagesize=2");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let response = pi.get_url(&url).await;
        assert_eq!(response.status(), StatusCode::OK);
        let page: Value = response.json().await.unwrap();
        pages += 1;
        let value = page["value"].as_array().unwrap();
        assert!(value.len() <= 2);
        seen.extend(
            value
                .iter()
                .map(|p| p["identity"]["externalId"].as_str().unwrap().to_owned()),
        );
        let Some(next) = page["@nextLink"].as_str() else {
            break;
        };
        assert!(next.starts_with(&pi.emu.ingestion_base_url()), "{next}");
        assert!(next.contains("continuationToken="), "{next}");
        url = next.to_owned();
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        ["contoso-linux", "other-1", "other-2", "other-3", "other-4"]
    );

    // The page-size setting caps pages without $maxpagesize.
    let mut settings = pi.emu.ingestion_settings();
    settings.page_size = 4;
    pi.emu.set_ingestion_settings(settings);
    let page = pi.get_json("product").await;
    assert_eq!(page["value"].as_array().unwrap().len(), 4);
    assert!(page["@nextLink"].is_string());
    pi.emu.shutdown();
}

#[tokio::test]
async fn plans_need_a_product_filter_by_external_id_and_page() {
    let pi = start().await;
    let response = pi.get("plan").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"]["code"],
        "badRequest"
    );

    let all = pi.get_json(&format!("plan?product=product/{P}")).await;
    assert_eq!(all["value"].as_array().unwrap().len(), 2);
    let one = pi
        .get_json(&format!(
            "plan?product=product/{P}&externalId=contoso-linux-single"
        ))
        .await;
    assert_eq!(one["value"][0]["id"], format!("plan/{P}/{SINGLE_PLAN_ID}"));

    let first = pi
        .get_json(&format!("plan?product=product/{P}&$maxpagesize=1"))
        .await;
    assert_eq!(first["value"][0]["id"], format!("plan/{P}/{L}"));
    let next = pi.get_url(first["@nextLink"].as_str().unwrap()).await;
    let second: Value = next.json().await.unwrap();
    assert_eq!(
        second["value"][0]["id"],
        format!("plan/{P}/{SINGLE_PLAN_ID}")
    );
    assert!(second.get("@nextLink").is_none());

    let response = pi
        .get("plan?product=product/00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    pi.emu.shutdown();
}

fn ids(tree: &Value) -> Vec<String> {
    tree["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn resource_trees_shuffle_keep_the_legacy_property_host_and_vary_asset_urls() {
    let pi = start().await;
    let first = pi.tree("draft").await;
    assert_eq!(first["root"], format!("product/{P}"));
    assert_eq!(first["target"]["targetType"], "draft");
    let orders: Vec<Vec<String>> = {
        let mut orders = vec![ids(&first)];
        for _ in 0..3 {
            orders.push(ids(&pi.tree("draft").await));
        }
        orders
    };
    assert!(
        orders.windows(2).any(|w| w[0] != w[1]),
        "the order never changed"
    );
    let mut sorted: Vec<Vec<String>> = orders.clone();
    sorted.iter_mut().for_each(|o| o.sort());
    assert!(sorted.windows(2).all(|w| w[0] == w[1]));

    let resources = first["resources"].as_array().unwrap();
    let property = resources
        .iter()
        .find(|r| r["id"].as_str().unwrap().starts_with("property/"))
        .unwrap();
    assert!(
        property["$schema"]
            .as_str()
            .unwrap()
            .starts_with("https://product-ingestion.azureedge.net/schema/")
    );
    let draft_entry = resources
        .iter()
        .find(|r| r["id"] == format!("submission/{P}/0"))
        .unwrap();
    assert!(draft_entry.get("status").is_none());

    let asset_url = |tree: &Value| {
        tree["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"].as_str().unwrap().starts_with("listing-asset/"))
            .unwrap()["url"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_ne!(asset_url(&first), asset_url(&pi.tree("draft").await));

    // Shuffling off: the stored order every time.
    let mut settings = pi.emu.ingestion_settings();
    settings.shuffle_resources = false;
    pi.emu.set_ingestion_settings(settings);
    assert_eq!(ids(&pi.tree("live").await), ids(&pi.tree("live").await));
    pi.emu.shutdown();
}

#[tokio::test]
async fn a_target_that_does_not_exist_yet_or_a_quoted_target_is_a_400() {
    let pi = start().await;
    let (guid, doc) = other_product(7);
    assert_eq!(pi.emu.seed_product(doc), guid);
    let draft = pi.get(&format!("resource-tree/product/{guid}")).await;
    assert_eq!(draft.status(), StatusCode::OK);
    for target in ["preview", "live"] {
        let response = pi
            .get(&format!("resource-tree/product/{guid}?targetType={target}"))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{target}");
        assert_eq!(
            response.json::<Value>().await.unwrap()["error"]["code"],
            "badRequest"
        );
    }
    let quoted = pi
        .get(&format!(
            "resource-tree/product/{P}?targetType=%22preview%22"
        ))
        .await;
    assert_eq!(quoted.status(), StatusCode::BAD_REQUEST);
    assert_eq!(pi.tree("preview").await["target"]["targetType"], "preview");
    let state = pi.emu.ingestion_state("other-7").unwrap();
    assert!(state["preview"].is_null() && state["live"].is_null());
    assert_eq!(state["submissions"].as_array().unwrap().len(), 1);
    pi.emu.shutdown();
}

#[tokio::test]
async fn single_resources_by_durable_id_and_404s() {
    let pi = start().await;
    let tc = pi.tech_config(SINGLE_PLAN_ID).await;
    assert_eq!(
        tc["skus"],
        json!([{"skuId": "contoso-linux-single", "imageType": "x64Gen2"}])
    );
    let product = pi.get_json(&format!("product/{P}")).await;
    assert_eq!(product["alias"], "Contoso Linux");
    for path in [
        format!("plan/{P}/00000000-0000-0000-0000-000000000000"),
        "product/00000000-0000-0000-0000-000000000000".to_owned(),
        "configure/00000000-0000-0000-0000-000000000000/status".to_owned(),
        format!("submission/{P}/42"),
    ] {
        let response = pi.get(&path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            response.json::<Value>().await.unwrap()["error"]["code"],
            "notFound"
        );
    }
    pi.emu.shutdown();
}
