//! AWS outbound identity federation, locally: STS signs web identity tokens with the documented
//! claims, the issuer serves its keys, and the token endpoints take them as client assertions the
//! way Entra ID does, or refuse them with its codes.

use cpp_emulator::{DEFAULT_CALLER_ROLE, ENTRA_AUDIENCE, FederatedCredential};
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{days, start};

/// A web identity token from the stand-in, as `aws sts get-web-identity-token` would fetch it.
async fn web_identity_token(http: &reqwest::Client, sts: &str, access_key: &str) -> String {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={access_key}/20261201/eu-west-1/sts/aws4_request, SignedHeaders=host, Signature=0"
    );
    let body = format!(
        "Action=GetWebIdentityToken&Version=2011-06-15&Audience.member.1={}&SigningAlgorithm=RS256&DurationSeconds=300",
        urlencode(ENTRA_AUDIENCE)
    );
    let response = http
        .post(sts)
        .header("authorization", auth)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let xml = response.text().await.unwrap();
    let start = xml.find("<WebIdentityToken>").unwrap() + "<WebIdentityToken>".len();
    xml[start..xml.find("</WebIdentityToken>").unwrap()].to_owned()
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

async fn exchange(http: &reqwest::Client, base: &str, assertion: &str) -> (StatusCode, Value) {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "emulator-client-id"),
        ("scope", "https://graph.microsoft.com/.default"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
    ];
    let response = http
        .post(format!("{base}/tenant-1/oauth2/v2.0/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn sts_signs_the_documented_claims_and_the_issuer_serves_its_keys() {
    let h = start().await;
    let jwt = web_identity_token(&h.http, &h.emu.sts_url(), "AKIDANY").await;
    let c = claims(&jwt);
    assert_eq!(c["iss"], h.emu.sts_issuer());
    assert_eq!(
        (c["sub"].as_str(), c["aud"].as_str()),
        (Some(DEFAULT_CALLER_ROLE), Some(ENTRA_AUDIENCE))
    );
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 300);
    assert!(c["jti"].is_string());
    let discovery: Value = h
        .http
        .get(format!(
            "{}/.well-known/openid-configuration",
            h.emu.sts_issuer()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwks: Value = h
        .http
        .get(discovery["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kid"], "RSA_0");
    assert_eq!(jwks["keys"][0]["alg"], "RS256");
}

#[tokio::test]
async fn an_assertion_is_taken_only_from_a_trusted_role_before_it_expires_with_a_good_signature() {
    let h = start().await;
    let base = h.emu.base_url();
    h.emu
        .map_caller("AKIDOTHER", "arn:aws:iam::111122223333:role/someone-else");
    h.emu.add_federated_credential(FederatedCredential {
        issuer: h.emu.sts_issuer(),
        subject: DEFAULT_CALLER_ROLE.into(),
        audiences: vec![ENTRA_AUDIENCE.into()],
    });
    let ours = web_identity_token(&h.http, &h.emu.sts_url(), "AKIDFUNCTION").await;
    let (status, body) = exchange(&h.http, &base, &ours).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["access_token"].is_string() && body["expires_in"].is_number());

    let theirs = web_identity_token(&h.http, &h.emu.sts_url(), "AKIDOTHER").await;
    let (status, body) = exchange(&h.http, &base, &theirs).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS70021: No matching federated identity record"),
        "{body}"
    );

    let mut forged: Vec<&str> = ours.split('.').collect();
    let other_claims = theirs.split('.').nth(1).unwrap();
    forged[1] = other_claims;
    let (_, body) = exchange(&h.http, &base, &forged.join(".")).await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS50013"),
        "{body}"
    );

    h.emu.advance_clock(days(1));
    let (_, body) = exchange(&h.http, &base, &ours).await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS700024"),
        "{body}"
    );
}
