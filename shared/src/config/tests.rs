use std::collections::HashMap;

use secrecy::ExposeSecret;

use super::*;

fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut vars: HashMap<String, String> = [
        ("CPP_TENANT_ID", "tenant"),
        ("CPP_CLIENT_ID", "client"),
        ("CPP_CLIENT_SECRET", "s3cret-value"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in pairs {
        if v.is_empty() {
            vars.remove(*k);
        } else {
            vars.insert(k.to_string(), v.to_string());
        }
    }
    Config::from_lookup(|name| vars.get(name).cloned())
}

#[test]
fn defaults_follow_the_design() {
    let c = config(&[]).unwrap();
    assert_eq!(c.api_base_url.as_str(), "https://cloudpartner.azure.com/");
    assert_eq!(
        c.login_base_url.as_str(),
        "https://login.microsoftonline.com/"
    );
    assert_eq!(c.api_version, "2017-10-31");
    assert_eq!(c.max_images_per_plan, 8);
    assert_eq!(c.sas_min_validity_days, 21);
    assert_eq!(
        (c.poll_min_seconds, c.poll_max_seconds, c.max_polls),
        (300, 21_600, 200)
    );
    assert_eq!(c.queue_max_days, 18);
    assert!(c.watch_offers.is_empty() && c.publisher_id.is_none());
    match c.client_secret {
        Some(ClientSecretSource::Value(s)) => assert_eq!(s.expose_secret(), "s3cret-value"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn missing_required_variables_are_named() {
    assert_eq!(
        config(&[("CPP_TENANT_ID", "")]).unwrap_err().variable,
        "CPP_TENANT_ID"
    );
    assert_eq!(
        config(&[("CPP_CLIENT_ID", "")]).unwrap_err().variable,
        "CPP_CLIENT_ID"
    );
    let err = config(&[("CPP_CLIENT_SECRET", "")]).unwrap_err();
    assert_eq!(err.variable, "CPP_CLIENT_SECRET_ARN");
    assert!(err.to_string().contains("CPP_CLIENT_SECRET"), "{err}");
}

#[test]
fn malformed_variables_are_named_with_the_problem() {
    let cases = [
        ("CPP_MAX_POLLS", "many", "whole number"),
        ("CPP_MAX_IMAGES_PER_PLAN", "9", "outside"),
        ("CPP_QUEUE_MAX_DAYS", "40", "outside"),
        ("CPP_API_BASE_URL", "not a url", "not a URL"),
        ("CPP_API_BASE_URL", "http://cloudpartner.azure.com", "https"),
        ("CPP_LOGIN_BASE_URL", "https://login?x=1", "plain base URL"),
        ("CPP_WATCH_OFFERS", "contoso/a,broken", "publisher/offer"),
        ("CPP_CLIENT_SECRET_ARN", "my-secret", "Secrets Manager ARN"),
    ];
    for (name, value, problem) in cases {
        let mut pairs = vec![(name, value)];
        if name == "CPP_CLIENT_SECRET_ARN" {
            pairs.push(("CPP_CLIENT_SECRET", ""));
        }
        let err = config(&pairs).unwrap_err();
        assert_eq!(err.variable, name, "{err}");
        assert!(err.to_string().contains(problem), "{name}: {err}");
    }
    let err = config(&[
        ("CPP_POLL_MIN_SECONDS", "600"),
        ("CPP_POLL_MAX_SECONDS", "300"),
    ])
    .unwrap_err();
    assert_eq!(err.variable, "CPP_POLL_MIN_SECONDS");
}

#[test]
fn secret_sources_are_exclusive_and_never_shown() {
    let both = config(&[(
        "CPP_CLIENT_SECRET_ARN",
        "arn:aws:secretsmanager:eu-west-1:1:secret:x",
    )]);
    assert!(both.unwrap_err().to_string().contains("not both"));
    let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cpp-AbCdEf";
    let c = config(&[("CPP_CLIENT_SECRET", ""), ("CPP_CLIENT_SECRET_ARN", arn)]).unwrap();
    assert!(
        matches!(&c.client_secret, Some(ClientSecretSource::SecretsManager { arn: a }) if a == arn)
    );
    let shown = format!("{:?}", config(&[]).unwrap());
    assert!(!shown.contains("s3cret-value"), "{shown}");
}

#[test]
fn the_trigger_needs_no_cpp_credentials() {
    let vars: HashMap<&str, &str> = [
        (
            "STATE_MACHINE_ARN",
            "arn:aws:states:eu-west-1:1:stateMachine:p",
        ),
        ("CPP_SAS_MIN_VALIDITY_DAYS", "30"),
    ]
    .into();
    let trigger = TriggerConfig::from_lookup(|n| vars.get(n).map(|v| v.to_string())).unwrap();
    assert_eq!(
        (trigger.sas_min_validity_days, trigger.publisher_id),
        (30, None)
    );
    assert_eq!(
        (trigger.manifest_bucket, trigger.manifest_prefix),
        (None, None)
    );
    let err = TriggerConfig::from_lookup(|_| None).unwrap_err();
    assert_eq!(err.variable, "STATE_MACHINE_ARN");
    let vars: HashMap<&str, &str> = [
        (
            "STATE_MACHINE_ARN",
            "arn:aws:states:eu-west-1:1:stateMachine:p",
        ),
        ("MANIFEST_BUCKET", "contoso-builds"),
        ("MANIFEST_PREFIX", "manifests/"),
    ]
    .into();
    let trigger = TriggerConfig::from_lookup(|n| vars.get(n).map(|v| v.to_string())).unwrap();
    assert_eq!(trigger.manifest_bucket.as_deref(), Some("contoso-builds"));
    assert_eq!(trigger.manifest_prefix.as_deref(), Some("manifests/"));
}

#[test]
fn loopback_http_and_watch_list_are_accepted() {
    let c = config(&[
        ("CPP_API_BASE_URL", "http://127.0.0.1:8080"),
        ("CPP_WATCH_OFFERS", " contoso/a , contoso/b ,"),
    ])
    .unwrap();
    assert_eq!(c.api_base_url.port(), Some(8080));
    assert_eq!(c.watch_offers.len(), 2);
    assert_eq!(c.watch_offers[1].offer_id, "b");
    assert_eq!(c.watch_offers[1].api, None);
}

#[test]
fn a_watched_offer_may_name_its_api() {
    let c = config(&[(
        "CPP_WATCH_OFFERS",
        "productIngestion:contoso/new-offer,cpp:contoso/old-offer,contoso/default",
    )])
    .unwrap();
    let apis: Vec<Option<Api>> = c.watch_offers.iter().map(|w| w.api).collect();
    assert_eq!(apis, [Some(Api::ProductIngestion), Some(Api::Cpp), None]);
    assert_eq!(c.watch_offers[0].offer_id, "new-offer");
    let err = config(&[("CPP_WATCH_OFFERS", "partnerCenter:contoso/x")]).unwrap_err();
    assert_eq!(err.variable, "CPP_WATCH_OFFERS");
    assert!(
        err.problem.contains("unknown API \"partnerCenter\""),
        "{err}"
    );
}

#[test]
fn the_api_and_the_product_ingestion_settings_are_read_and_checked() {
    let c = config(&[]).unwrap();
    assert_eq!(c.marketplace_api, Api::Cpp);
    assert_eq!(
        c.ingestion_api_base_url.as_str(),
        "https://graph.microsoft.com/rp/product-ingestion"
    );
    assert_eq!(
        (
            c.ingestion_schema_version.as_str(),
            c.ingestion_keep_active_versions
        ),
        ("2022-07-01", None)
    );
    let c = config(&[
        ("MARKETPLACE_API", "productIngestion"),
        ("INGESTION_KEEP_ACTIVE_VERSIONS", "3"),
    ])
    .unwrap();
    assert_eq!(
        (c.marketplace_api, c.ingestion_keep_active_versions),
        (Api::ProductIngestion, Some(3))
    );
    let err = config(&[("MARKETPLACE_API", "pc")]).unwrap_err();
    assert_eq!(err.variable, "MARKETPLACE_API");
    assert!(err.problem.contains("cpp, productIngestion"), "{err}");
    let err = config(&[("INGESTION_KEEP_ACTIVE_VERSIONS", "0")]).unwrap_err();
    assert_eq!(err.variable, "INGESTION_KEEP_ACTIVE_VERSIONS");
    let err = config(&[("INGESTION_API_BASE_URL", "http://graph.microsoft.com/x")]).unwrap_err();
    assert_eq!(err.variable, "INGESTION_API_BASE_URL");
}
