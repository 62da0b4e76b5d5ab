use serde_json::json;
use time::macros::datetime;

use super::*;

const URL: &str = "https://acct.blob.core.windows.net/vhds/os-1.4.0.vhd?sv=2021-08-06&sr=b&sp=rl&se=2027-01-31T00:00:00Z&sig=abc";

fn rules() -> ManifestRules<'static> {
    ManifestRules {
        default_publisher: Some("contoso"),
        default_api: Api::Cpp,
        sas_min_validity_days: 21,
        now: datetime!(2026-11-21 00:00 UTC),
    }
}

fn manifest() -> Value {
    json!({"publisherId": "contoso", "offerId": "contoso-linux", "planId": "gen2", "version": "1.4.0",
           "osVhdUrl": URL, "lunVhdDetails": [], "notificationEmails": "release@contoso.com", "goLive": "manual"})
}

/// The error for the designed manifest with `field` set to `value` (removed when `None`).
fn error_for(field: &str, value: Option<Value>) -> String {
    let mut manifest = manifest();
    let fields = manifest.as_object_mut().unwrap();
    match value {
        Some(value) => fields.insert(field.to_owned(), value),
        None => fields.remove(field),
    };
    let err = PublishRequest::from_manifest(manifest.to_string().as_bytes(), &rules()).unwrap_err();
    assert_eq!(err.name, crate::workflow::ErrorName::InvalidInput);
    err.message
}

#[test]
fn the_designed_manifest_is_accepted() {
    let request =
        PublishRequest::from_manifest(manifest().to_string().as_bytes(), &rules()).unwrap();
    assert_eq!(request.target(), "contoso/contoso-linux/gen2@1.4.0");
    assert_eq!(request.go_live, GoLiveMode::Manual);
    let minimal = json!({"offerId": "o", "planId": "p", "version": "0.0.1", "osVhdUrl": URL});
    let request = PublishRequest::from_manifest_value(minimal, &rules()).unwrap();
    assert_eq!(
        request.publisher_id, "contoso",
        "CPP_PUBLISHER_ID fills a missing publisher"
    );
    assert_eq!(
        (request.go_live, request.notification_emails.as_str()),
        (GoLiveMode::Manual, "")
    );
}

#[test]
fn each_broken_rule_names_its_field() {
    let cases = [
        ("offerId", None, "missing field `offerId`"),
        ("offerId", Some(json!("")), "offerId is missing or empty"),
        (
            "offerId",
            Some(json!("x".repeat(51))),
            "offerId is longer than 50",
        ),
        ("offerId", Some(json!(7)), "field offerId: invalid type"),
        ("offerId", Some(json!("a?b")), "contains '?'"),
        ("publisherId", Some(json!("con toso")), "contains ' '"),
        (
            "planId",
            Some(json!("Gen2")),
            "planId \"Gen2\" must be lowercase",
        ),
        ("planId", Some(json!("gen2-")), "not ending in '-'"),
        (
            "version",
            Some(json!("1.0")),
            "version \"1.0\" is not a version",
        ),
        ("version", Some(json!("01.0.0")), "leading zeros"),
        (
            "osVhdUrl",
            Some(json!(URL.replace("https", "http"))),
            "osVhdUrl must be https",
        ),
        (
            "lunVhdDetails",
            Some(json!([1])),
            "lunVhdDetails[0] must be an object",
        ),
        (
            "goLive",
            Some(json!("later")),
            "field goLive: unknown variant `later`",
        ),
        (
            "notificationEmails",
            Some(json!("a@b.com, nope")),
            "\"nope\" is not an e-mail",
        ),
        ("extra", Some(json!(1)), "field \"extra\" is not known"),
    ];
    for (field, value, expected) in cases {
        let message = error_for(field, value);
        assert!(
            message.contains(expected),
            "expected {expected:?} in {message:?}"
        );
    }
}

#[test]
fn size_encoding_and_shape_are_checked_first() {
    let big = format!("{{\"offerId\": \"{}\"}}", "x".repeat(MAX_MANIFEST_BYTES));
    let err = PublishRequest::from_manifest(big.as_bytes(), &rules()).unwrap_err();
    assert!(err.message.contains("the limit is 65536"), "{err}");
    let err = PublishRequest::from_manifest(b"{\"offerId\": \"\xff\"}", &rules()).unwrap_err();
    assert!(err.message.contains("not UTF-8"), "{err}");
    let err = PublishRequest::from_manifest(b"[1]", &rules()).unwrap_err();
    assert!(err.message.contains("must be a JSON object"), "{err}");
    let err = PublishRequest::from_manifest(b"{", &rules()).unwrap_err();
    assert!(err.message.contains("not JSON"), "{err}");
}

#[test]
fn the_api_is_the_manifests_or_the_configured_one_and_is_kept() {
    let request = PublishRequest::from_manifest_value(manifest(), &rules()).unwrap();
    assert_eq!(
        request.api,
        Some(Api::Cpp),
        "decided on arrival, kept in the run"
    );
    let mut pi_rules = rules();
    pi_rules.default_api = Api::ProductIngestion;
    let minimal = json!({"offerId": "o", "planId": "p", "version": "0.0.1", "osVhdUrl": URL});
    let request = PublishRequest::from_manifest_value(minimal.clone(), &pi_rules).unwrap();
    assert_eq!(request.api(), Api::ProductIngestion);
    assert_eq!(
        request.publisher_id, "",
        "no publisher on Product Ingestion"
    );
    assert_eq!(request.target(), "o/p@0.0.1");
    let mut named = minimal;
    named["api"] = json!("cpp");
    let request = PublishRequest::from_manifest_value(named.clone(), &pi_rules).unwrap();
    assert_eq!(
        (request.api(), request.publisher_id.as_str()),
        (Api::Cpp, "contoso")
    );
    named["api"] = json!("graph");
    let err = PublishRequest::from_manifest_value(named, &pi_rules).unwrap_err();
    assert!(
        err.message.contains("field api: unknown variant `graph`"),
        "{err}"
    );
}

#[test]
fn images_are_checked_entry_by_entry_and_cpp_takes_one_sas_image() {
    let gallery = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/1.4.0";
    let with_images = |images: Value, api: &str| {
        let mut m = manifest();
        m.as_object_mut().unwrap().shift_remove("osVhdUrl");
        m["images"] = images;
        m["api"] = json!(api);
        PublishRequest::from_manifest_value(m, &rules())
    };
    let both = json!([{"imageType": "x64Gen2", "osVhdUrl": URL},
                      {"imageType": "x64Gen1", "sharedImage": {"tenantId": "t", "resourceId": gallery}}]);
    assert!(with_images(both.clone(), "productIngestion").is_ok());
    let err = with_images(both, "cpp").unwrap_err();
    assert!(
        err.message
            .starts_with("images must be one SAS image on CPP"),
        "{err}"
    );
    assert!(with_images(json!([{"imageType": "x64Gen2", "osVhdUrl": URL}]), "cpp").is_ok());
    let cases = [
        (
            json!([{"imageType": "x86", "osVhdUrl": URL}]),
            "images[0].imageType \"x86\" is not an image type",
        ),
        (
            json!([{"imageType": "x64Gen2"}]),
            "images[0] needs osVhdUrl",
        ),
        (
            json!([{"imageType": "x64Gen2", "osVhdUrl": URL, "sharedImage": {"tenantId": "t", "resourceId": gallery}}]),
            "has both",
        ),
        (
            json!([{"imageType": "x64Gen2", "osVhdUrl": URL}, {"imageType": "x64Gen2", "osVhdUrl": URL}]),
            "images[1].imageType x64Gen2 is given twice",
        ),
        (
            json!([{"imageType": "x64Gen2", "sharedImage": {"tenantId": "t", "resourceId": "/nope"}}]),
            "images[0].sharedImage.resourceId must be",
        ),
        (
            json!([{"imageType": "x64Gen2", "osVhdUrl": URL.replace("https", "http")}]),
            "images[0].osVhdUrl must be https",
        ),
        (
            json!([{"imageType": "x64Gen2", "osVhdUrl": URL, "colour": "blue"}]),
            "unknown field `colour`",
        ),
    ];
    for (images, expected) in cases {
        let err = with_images(images, "productIngestion").unwrap_err();
        assert!(
            err.message.contains(expected),
            "expected {expected:?} in {err}"
        );
    }
    let mut both_forms = manifest();
    both_forms["images"] = json!([{"imageType": "x64Gen2", "osVhdUrl": URL}]);
    both_forms["api"] = json!("productIngestion");
    let err = PublishRequest::from_manifest_value(both_forms, &rules()).unwrap_err();
    assert!(
        err.message
            .starts_with("osVhdUrl goes with a plan of one image type"),
        "{err}"
    );
}

#[test]
fn debug_hides_the_signature() {
    let request = PublishRequest::from_manifest_value(manifest(), &rules()).unwrap();
    let shown = format!("{request:?}");
    assert!(
        !shown.contains("sig=abc") && shown.contains("contoso-linux"),
        "{shown}"
    );
}
