//! No secret: the token provider signs in with a web identity token of the function's AWS role
//! (from the emulator's STS stand-in) as the client assertion, which the emulator checks as Entra ID
//! does against the app's federated identity credentials.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region};
use shared::clock::ManualClock;
use shared::cpp::{ClientOptions, CppClient, OfferView};
use shared::federation::{ENTRA_AUDIENCE, WebIdentity};
use shared::http::ErrorKind;
use shared::ingestion::IngestionClient;
use test_harness::cpp_emulator::{
    DEFAULT_CALLER_ROLE, Emulator, EmulatorConfig, FederatedCredential,
};

const ACCESS_KEY: &str = "AKIDFUNCTIONROLE";

fn sts(url: &str) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new(
            ACCESS_KEY,
            "role-session-secret",
            None,
            None,
            "test",
        ))
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

/// The functions' configuration in `awsFederation` mode: no secret anywhere.
fn config(base: &str) -> shared::config::Config {
    test_harness::functions_config_federated(base)
}

fn options() -> ClientOptions {
    ClientOptions {
        clock: Arc::new(ManualClock::starting_now()),
        request_timeout: Duration::from_secs(5),
        ..ClientOptions::default()
    }
}

fn trusted(
    emulator: &test_harness::cpp_emulator::RunningEmulator,
    subject: &str,
) -> FederatedCredential {
    FederatedCredential {
        issuer: emulator.sts_issuer(),
        subject: subject.to_owned(),
        audiences: vec![ENTRA_AUDIENCE.to_owned()],
    }
}

#[tokio::test]
async fn both_apis_sign_in_with_the_roles_token_and_no_secret_is_configured() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    emulator.add_federated_credential(trusted(&emulator, DEFAULT_CALLER_ROLE));
    let config = config(&emulator.base_url());
    assert!(config.client_secret.is_none());
    let identity = WebIdentity::with_client(sts(&emulator.sts_url()));
    let cpp = CppClient::with_options(&config, identity.clone(), options()).unwrap();
    cpp.get_offer("contoso", "contosovirtualmachine", OfferView::Draft)
        .await
        .unwrap();
    let ingestion =
        IngestionClient::with_options(&config, identity, options(), Default::default()).unwrap();
    assert!(
        !ingestion
            .product_id("contoso-linux")
            .await
            .unwrap()
            .is_empty()
    );

    let tokens: Vec<_> = emulator
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/oauth2/v2.0/token"))
        .collect();
    assert_eq!(
        tokens.len(),
        2,
        "one token per audience, on the v2 endpoint"
    );
    for token in &tokens {
        let form = token.body.clone().unwrap_or_default();
        assert_eq!(
            form["client_assertion_type"],
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        );
        assert!(form.get("client_secret").is_none());
    }
    let scopes: Vec<_> = tokens
        .iter()
        .map(|t| t.body.clone().unwrap_or_default()["scope"].clone())
        .collect();
    assert_eq!(
        scopes,
        [
            "https://cloudpartner.azure.com/.default",
            "https://graph.microsoft.com/.default"
        ]
    );
    assert_eq!(
        emulator.issued_web_identity_tokens().len(),
        2,
        "a fresh assertion per token"
    );
}

#[tokio::test]
async fn a_role_entra_does_not_trust_is_unauthorized_with_a_hint_after_asking_again() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    emulator.add_federated_credential(trusted(
        &emulator,
        "arn:aws:iam::111122223333:role/another-role",
    ));
    let identity = WebIdentity::with_client(sts(&emulator.sts_url()));
    let cpp = CppClient::with_options(&config(&emulator.base_url()), identity, options()).unwrap();
    let err = cpp
        .get_offer("contoso", "contosovirtualmachine", OfferView::Draft)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized, "{err}");
    assert!(
        err.message.contains("AADSTS70021") && err.message.contains("role ARN as subject"),
        "{err}"
    );
    let asked = emulator
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/v2.0/token"))
        .count();
    assert_eq!(
        asked, 3,
        "a credential still propagating is asked again twice"
    );
    assert_eq!(
        emulator
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/api/"))
            .count(),
        0,
        "no API call without a token"
    );
}

#[tokio::test]
async fn federation_not_enabled_in_the_account_is_a_configuration_error_naming_the_command() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    emulator.set_federation_enabled(false);
    let identity = WebIdentity::with_client(sts(&emulator.sts_url()));
    let cpp = CppClient::with_options(&config(&emulator.base_url()), identity, options()).unwrap();
    let err = cpp
        .get_offer("contoso", "contosovirtualmachine", OfferView::Draft)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config, "{err}");
    assert!(
        err.message
            .contains("aws iam enable-outbound-web-identity-federation"),
        "{err}"
    );
}

#[tokio::test]
async fn sts_failing_is_transient_and_the_tokens_never_show() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    sts_answers(&emulator, 503);
    let identity = WebIdentity::with_client(sts(&emulator.sts_url()));
    let cpp = CppClient::with_options(&config(&emulator.base_url()), identity.clone(), options())
        .unwrap();
    let err = cpp
        .get_offer("contoso", "contosovirtualmachine", OfferView::Draft)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transient, "{err}");
    emulator.clear_faults();
    emulator.add_federated_credential(trusted(&emulator, DEFAULT_CALLER_ROLE));
    cpp.get_offer("contoso", "contosovirtualmachine", OfferView::Draft)
        .await
        .unwrap();
    let shown = format!("{err} {err:?} {identity:?} {cpp:?}");
    for jwt in emulator.issued_web_identity_tokens() {
        assert!(
            !shown.contains(&jwt[..40]),
            "a web identity token shows: {shown}"
        );
    }
}

#[tokio::test]
async fn an_expired_token_is_renewed_with_a_fresh_assertion_and_a_throttled_sts_is_transient() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    emulator.add_federated_credential(trusted(&emulator, DEFAULT_CALLER_ROLE));
    let clock = Arc::new(ManualClock::starting_now());
    let options = ClientOptions {
        clock: clock.clone(),
        ..options()
    };
    let identity = WebIdentity::with_client(sts(&emulator.sts_url()));
    let cpp = CppClient::with_options(&config(&emulator.base_url()), identity, options).unwrap();
    let read = || cpp.get_offer("contoso", "contosovirtualmachine", OfferView::Draft);
    read().await.unwrap();
    read().await.unwrap();
    assert_eq!(
        emulator.issued_web_identity_tokens().len(),
        1,
        "the app token is cached"
    );
    clock.advance(Duration::from_secs(3_600));
    emulator.advance_clock(Duration::from_secs(3_600));
    read().await.unwrap();
    assert_eq!(
        emulator.issued_web_identity_tokens().len(),
        2,
        "renewed with a fresh assertion"
    );

    clock.advance(Duration::from_secs(3_600));
    emulator.advance_clock(Duration::from_secs(3_600));
    // Throttled past the SDK's own retries (the stand-in answers 429 to every request).
    sts_answers(&emulator, 429);
    let err = read().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transient, "{err}");
    assert!(err.message.contains("GetWebIdentityToken"), "{err}");
}

/// Every STS request from now on is answered `status` (until the faults are cleared).
fn sts_answers(emulator: &test_harness::cpp_emulator::RunningEmulator, status: u16) {
    emulator.inject_fault(test_harness::cpp_emulator::Fault {
        method: Some("POST".into()),
        path_contains: "/sts".into(),
        times: 0,
        action: test_harness::cpp_emulator::FaultAction::Status {
            status,
            retry_after: None,
            body: None,
        },
    });
}
