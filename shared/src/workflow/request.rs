//! The publish request: the build manifest (README, *The build manifest*), validated field by field.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::marketplace::{Api, ImageVersion, OfferId};
use crate::redact::redact_sas;
use crate::sas::SasUrl;
use crate::workflow::error::WorkflowError;
use crate::workflow::images::{ManifestImage, check_images};

/// A manifest larger than this is refused before it is parsed.
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024;
const MAX_ID_LEN: usize = 50;
/// CPP allows at most 15 data disks per image.
const MAX_DATA_DISKS: usize = 15;
/// Every field a manifest may have.
pub const MANIFEST_FIELDS: [&str; 10] = [
    "api",
    "publisherId",
    "offerId",
    "planId",
    "version",
    "osVhdUrl",
    "lunVhdDetails",
    "notificationEmails",
    "goLive",
    "images",
];

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum GoLiveMode {
    /// Stop at preview; a person starts the go-live.
    #[default]
    Manual,
    /// Go live as soon as the preview is ready.
    Auto,
}

/// What to publish where. SAS URLs are kept whole (Microsoft needs them) but never shown whole.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishRequest {
    /// Which API publishes it; the build-finished function fills in `MARKETPLACE_API` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<Api>,
    #[serde(default)]
    pub publisher_id: String,
    pub offer_id: String,
    pub plan_id: String,
    pub version: String,
    /// The image when the plan has one image type; `images` otherwise.
    #[serde(default)]
    pub os_vhd_url: String,
    #[serde(default)]
    pub lun_vhd_details: Vec<Value>,
    #[serde(default)]
    pub notification_emails: String,
    #[serde(default)]
    pub go_live: GoLiveMode,
    /// One image per image type (Product Ingestion), by SAS URL or from a compute gallery.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ManifestImage>,
}

impl fmt::Debug for PublishRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishRequest")
            .field("api", &self.api)
            .field("publisher_id", &self.publisher_id)
            .field("offer_id", &self.offer_id)
            .field("plan_id", &self.plan_id)
            .field("version", &self.version)
            .field("os_vhd_url", &redact_sas(&self.os_vhd_url))
            .field("data_disks", &self.lun_vhd_details.len())
            .field("go_live", &self.go_live)
            .field("images", &self.images)
            .finish_non_exhaustive()
    }
}

/// What the manifest rules depend on besides the manifest.
#[derive(Clone, Debug)]
pub struct ManifestRules<'a> {
    /// `CPP_PUBLISHER_ID`, used when the manifest names no publisher.
    pub default_publisher: Option<&'a str>,
    /// `MARKETPLACE_API`, used when the manifest names no `api`.
    pub default_api: Api,
    pub sas_min_validity_days: u32,
    pub now: OffsetDateTime,
}

impl PublishRequest {
    /// Parses and validates an uploaded manifest. Every error is `InvalidInput` and names the field.
    pub fn from_manifest(bytes: &[u8], rules: &ManifestRules<'_>) -> Result<Self, WorkflowError> {
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(WorkflowError::invalid_input(format!(
                "manifest is {} bytes; the limit is {MAX_MANIFEST_BYTES}",
                bytes.len()
            )));
        }
        let text = std::str::from_utf8(bytes).map_err(|e| {
            WorkflowError::invalid_input(format!(
                "manifest is not UTF-8 text (invalid byte at {})",
                e.valid_up_to()
            ))
        })?;
        let value: Value = serde_json::from_str(text)
            .map_err(|e| WorkflowError::invalid_input(format!("manifest is not JSON: {e}")))?;
        Self::from_manifest_value(value, rules)
    }

    /// Validates a manifest already parsed as JSON (a direct invocation payload).
    pub fn from_manifest_value(
        value: Value,
        rules: &ManifestRules<'_>,
    ) -> Result<Self, WorkflowError> {
        let Value::Object(fields) = &value else {
            return Err(WorkflowError::invalid_input(
                "manifest must be a JSON object",
            ));
        };
        if let Some(unknown) = fields
            .keys()
            .find(|k| !MANIFEST_FIELDS.contains(&k.as_str()))
        {
            return Err(WorkflowError::invalid_input(format!(
                "manifest field {unknown:?} is not known (known fields: {})",
                MANIFEST_FIELDS.join(", ")
            )));
        }
        let mut request: Self = decode("manifest", value)?;
        request.api = Some(request.api.unwrap_or(rules.default_api));
        if request.publisher_id.trim().is_empty() && request.api() == Api::Cpp {
            request.publisher_id = rules.default_publisher.unwrap_or_default().to_owned();
        }
        request.validate()?;
        request.check_image_urls(rules.now, rules.sas_min_validity_days)?;
        Ok(request)
    }

    /// The API this request is published through (CPP for a state written before there were two).
    pub fn api(&self) -> Api {
        self.api.unwrap_or_default()
    }

    /// The offer, by the ids the API knows it by.
    pub fn offer(&self) -> OfferId {
        OfferId {
            publisher: self.publisher_id.clone(),
            offer: self.offer_id.clone(),
        }
    }

    /// Every SAS URL of the request, with the manifest field that holds it.
    pub fn sas_urls(&self) -> Vec<(String, &str)> {
        let top = (!self.os_vhd_url.is_empty())
            .then(|| ("osVhdUrl".to_owned(), self.os_vhd_url.as_str()));
        let listed = self.images.iter().enumerate().filter_map(|(i, image)| {
            image
                .os_vhd_url
                .as_deref()
                .map(|url| (format!("images[{i}].osVhdUrl"), url))
        });
        top.into_iter().chain(listed).collect()
    }

    /// Each image URL is one Microsoft can copy from for at least `min_validity_days` after `now`:
    /// checked on arrival, and again when the version is written, which can be days later for a queued run.
    pub fn check_image_urls(
        &self,
        now: impl Into<OffsetDateTime>,
        min_validity_days: u32,
    ) -> Result<(), WorkflowError> {
        let (now, min_validity) = (now.into(), Duration::days(i64::from(min_validity_days)));
        for (field, url) in self.sas_urls() {
            SasUrl::parse(url)
                .and_then(|url| url.check_usable(now, min_validity))
                .map_err(|e| field_error(&field, &e))?;
        }
        Ok(())
    }

    /// Rules that hold for the whole run (the SAS expiry is checked on arrival and before writing: days pass while it runs).
    pub fn validate(&self) -> Result<(), WorkflowError> {
        // Product Ingestion needs no publisher: the token's Partner Center account scopes the offer.
        if self.api() == Api::Cpp || !self.publisher_id.is_empty() {
            check_id("publisherId", &self.publisher_id)?;
        }
        check_id("offerId", &self.offer_id)?;
        check_id("planId", &self.plan_id)?;
        let plan_chars = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if !self.plan_id.chars().all(plan_chars) || self.plan_id.ends_with('-') {
            return Err(field_error(
                "planId",
                &format!(
                    "{:?} must be lowercase letters, digits and '-', not ending in '-'",
                    self.plan_id
                ),
            ));
        }
        self.image_version()?;
        check_images(&self.images)?;
        if !self.images.is_empty() && !self.os_vhd_url.is_empty() {
            return Err(field_error(
                "osVhdUrl",
                "goes with a plan of one image type; with images, give each image its own osVhdUrl there",
            ));
        }
        if self.images.is_empty() && self.os_vhd_url.trim().is_empty() {
            return Err(field_error(
                "osVhdUrl",
                "is missing or empty (give the image's SAS URL, or list the images in images)",
            ));
        }
        let one_sas = self.images.len() == 1 && self.images[0].os_vhd_url.is_some();
        if self.api() == Api::Cpp && !self.images.is_empty() && !one_sas {
            return Err(field_error(
                "images",
                "must be one SAS image on CPP, whose plans have one image per version (compute gallery images and several image types need api productIngestion)",
            ));
        }
        if self.lun_vhd_details.len() > MAX_DATA_DISKS {
            return Err(field_error(
                "lunVhdDetails",
                &format!(
                    "has {} data disks; CPP allows at most {MAX_DATA_DISKS}",
                    self.lun_vhd_details.len()
                ),
            ));
        }
        if let Some(bad) = self.lun_vhd_details.iter().position(|d| !d.is_object()) {
            return Err(field_error(
                &format!("lunVhdDetails[{bad}]"),
                "must be an object",
            ));
        }
        for address in self
            .notification_emails
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            let plausible = address
                .split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
                && !address.contains(char::is_whitespace);
            if !plausible {
                return Err(field_error(
                    "notificationEmails",
                    &format!("{address:?} is not an e-mail address"),
                ));
            }
        }
        Ok(())
    }

    pub fn image_version(&self) -> Result<ImageVersion, WorkflowError> {
        self.version
            .parse()
            .map_err(|e: crate::marketplace::VersionError| field_error("version", &e.to_string()))
    }

    /// `publisher/offer/plan@version` (`offer/plan@version` without a publisher), for messages and logs.
    pub fn target(&self) -> String {
        format!("{}/{}@{}", self.offer(), self.plan_id, self.version)
    }
}

fn check_id(field: &str, value: &str) -> Result<(), WorkflowError> {
    if value.trim().is_empty() {
        return Err(field_error(field, "is missing or empty"));
    }
    if value.chars().count() > MAX_ID_LEN {
        return Err(field_error(
            field,
            &format!("is longer than {MAX_ID_LEN} characters"),
        ));
    }
    // CPP ids are ASCII letters, digits, '-', '_' (and '.' in some publisher ids); anything else would
    // need escaping in every URL and execution name built from them.
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if let Some(bad) = value.chars().find(|c| !allowed(*c)) {
        return Err(field_error(
            field,
            &format!("{value:?} contains {bad:?}; use ASCII letters, digits, '-', '_' or '.'"),
        ));
    }
    Ok(())
}

fn field_error(field: &str, problem: &str) -> WorkflowError {
    WorkflowError::invalid_input(format!("{field} {problem}"))
}

/// Deserializes `value`, naming the JSON path of the first field that does not fit.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    what: &str,
    value: Value,
) -> Result<T, WorkflowError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." {
            String::new()
        } else {
            format!(" field {path}")
        };
        WorkflowError::invalid_input(format!("{what}{at}: {}", e.inner()))
    })
}

#[cfg(test)]
mod tests {
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
        let err =
            PublishRequest::from_manifest(manifest.to_string().as_bytes(), &rules()).unwrap_err();
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
}
