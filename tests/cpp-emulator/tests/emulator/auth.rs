//! Token endpoint and the checks every `/api` call passes.

use cpp_emulator::{Emulator, EmulatorConfig};
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{OFFER, request_token, start, with_version};

#[tokio::test]
async fn token_has_the_aad_v1_shape_with_numbers_as_strings() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let http = reqwest::Client::new();
    let response = request_token(
        &http,
        &emu.base_url(),
        "emulator-client-id",
        "emulator-client-secret",
        "https://cloudpartner.azure.com",
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], "3599");
    assert_eq!(body["ext_expires_in"], "3599");
    assert_eq!(body["resource"], "https://cloudpartner.azure.com");
    let now = emu.now().unix_timestamp();
    assert_eq!(body["not_before"], now.to_string());
    assert_eq!(body["expires_on"], (now + 3599).to_string());
    assert!(body["access_token"].as_str().unwrap().len() >= 32);
}

#[tokio::test]
async fn wrong_client_secret_or_id_is_invalid_client() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let http = reqwest::Client::new();
    for (id, secret) in [
        ("emulator-client-id", "wrong"),
        ("someone-else", "emulator-client-secret"),
    ] {
        let response = request_token(
            &http,
            &emu.base_url(),
            id,
            secret,
            "https://cloudpartner.azure.com",
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .starts_with("AADSTS7000215")
        );
    }
}

#[tokio::test]
async fn wrong_resource_is_invalid_resource() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let response = request_token(
        &reqwest::Client::new(),
        &emu.base_url(),
        "emulator-client-id",
        "emulator-client-secret",
        "https://management.azure.com",
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_resource");
}

#[tokio::test]
async fn configured_credentials_are_the_ones_accepted() {
    let config = EmulatorConfig {
        client_id: "my-app".into(),
        client_secret: "s3cret".into(),
        ..EmulatorConfig::default()
    };
    let emu = Emulator::start(config).await.unwrap();
    let http = reqwest::Client::new();
    let resource = "https://cloudpartner.azure.com";
    let ok = request_token(&http, &emu.base_url(), "my-app", "s3cret", resource).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let default = request_token(
        &http,
        &emu.base_url(),
        "emulator-client-id",
        "emulator-client-secret",
        resource,
    )
    .await;
    assert_eq!(default.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn token_expires_on_the_virtual_clock() {
    let h = start().await;
    assert_eq!(h.get(OFFER).await.status(), StatusCode::OK);
    h.emu.advance_clock(std::time::Duration::from_secs(3598));
    assert_eq!(h.get(OFFER).await.status(), StatusCode::OK);
    h.emu.advance_clock(std::time::Duration::from_secs(1));
    let response = h.get(OFFER).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn tokens_on_the_real_clock_outlive_a_jump_of_the_virtual_one() {
    let h = crate::common::start_with(EmulatorConfig {
        tokens_on_real_clock: true,
        ..EmulatorConfig::default()
    })
    .await;
    h.emu
        .advance_clock(std::time::Duration::from_secs(3 * 86_400));
    assert_eq!(h.get(OFFER).await.status(), StatusCode::OK);
    let short = crate::common::start_with(EmulatorConfig {
        tokens_on_real_clock: true,
        token_lifetime: std::time::Duration::from_secs(1),
        ..EmulatorConfig::default()
    })
    .await;
    // AAD reports one second less than the lifetime: a 1 s token is already past its expiry.
    assert_eq!(short.get(OFFER).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn missing_or_unknown_bearer_is_401() {
    let h = start().await;
    let url = h.url(&with_version(OFFER));
    let missing = h.http.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "Unauthorized");

    let forged = h
        .http
        .get(&url)
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoked_tokens_get_401() {
    let h = start().await;
    assert_eq!(h.get(OFFER).await.status(), StatusCode::OK);
    h.emu.revoke_tokens();
    assert_eq!(h.get(OFFER).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn api_version_is_required_and_checked() {
    let h = start().await;
    for query in ["", "?api-version=2020-01-01"] {
        let response = h
            .http
            .get(h.url(&format!("{OFFER}{query}")))
            .bearer_auth(h.token())
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "query {query:?}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "InvalidAPIVersion");
        assert_eq!(
            body["error"]["message"],
            "Invalid api version. Allowed values are [2016-08-01-preview, 2017-10-31]"
        );
    }
    let older = h
        .http
        .get(h.url(&format!("{OFFER}?api-version=2016-08-01-preview")))
        .bearer_auth(h.token())
        .send()
        .await
        .unwrap();
    assert_eq!(older.status(), StatusCode::OK);
}
