//! Token audiences: v1 `resource` and v2 `scope`, each API refusing the other's tokens.

use cpp_emulator::{Emulator, PI_RESOURCE, PI_SCOPE};
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{config, token_v1, token_v2};

async fn access_token(response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::OK);
    response.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn graph_tokens_come_from_v1_with_or_without_slash_and_from_v2() {
    let emu = Emulator::start(config()).await.unwrap();
    let (http, base) = (reqwest::Client::new(), emu.base_url());
    let products = format!("{}/product?$version=2022-07-01", emu.ingestion_base_url());

    let v1 = token_v1(&http, &base, "https://graph.microsoft.com/").await;
    let body: Value = v1.json().await.unwrap();
    assert_eq!(body["resource"], PI_RESOURCE);
    assert_eq!(body["expires_in"], "3599");
    let v1_plain = access_token(token_v1(&http, &base, PI_RESOURCE).await).await;

    let v2 = token_v2(&http, &base, PI_SCOPE).await;
    assert_eq!(v2.status(), StatusCode::OK);
    let v2: Value = v2.json().await.unwrap();
    assert_eq!(v2["token_type"], "Bearer");
    assert_eq!(v2["expires_in"], 3599);
    assert!(v2.get("expires_on").is_none() && v2.get("resource").is_none());

    for token in [
        body["access_token"].as_str().unwrap(),
        &v1_plain,
        v2["access_token"].as_str().unwrap(),
    ] {
        let response = http.get(&products).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    emu.shutdown();
}

#[tokio::test]
async fn a_token_for_one_api_is_refused_by_the_other() {
    let emu = Emulator::start(config()).await.unwrap();
    let (http, base) = (reqwest::Client::new(), emu.base_url());
    let graph = access_token(token_v1(&http, &base, PI_RESOURCE).await).await;
    let cpp = access_token(token_v1(&http, &base, "https://cloudpartner.azure.com").await).await;

    let pi = format!("{}/product", emu.ingestion_base_url());
    let response = http.get(&pi).bearer_auth(&cpp).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");

    let api = format!("{base}/api/publishers?api-version=2017-10-31");
    let response = http.get(&api).bearer_auth(&graph).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        http.get(&api)
            .bearer_auth(&cpp)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    let response = http.get(&pi).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    emu.shutdown();
}

#[tokio::test]
async fn unknown_resource_or_scope_is_a_400_in_the_aad_shape() {
    let emu = Emulator::start(config()).await.unwrap();
    let (http, base) = (reqwest::Client::new(), emu.base_url());
    let response = token_v1(&http, &base, "https://api.partner.microsoft.com").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_resource"
    );
    let response = token_v2(&http, &base, "https://graph.microsoft.com/User.Read").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_scope"
    );
    // The v2 form is logged like the v1 one: without the client secret.
    let logged = emu.requests();
    assert!(logged.iter().all(|r| {
        r.body
            .as_ref()
            .is_none_or(|b| b.get("client_secret").is_none())
    }));
    emu.shutdown();
}
