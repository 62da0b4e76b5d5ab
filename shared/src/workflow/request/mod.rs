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

mod plans;

pub use plans::{MAX_PLANS, PlanTarget};

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
    /// The one plan; empty when `plans` lists several (a release's state for one offer).
    #[serde(default, skip_serializing_if = "String::is_empty")]
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
    /// In place of `planId`: every plan of this offer one write adds the version to. A plan that
    /// names no image takes the top-level `osVhdUrl`/`lunVhdDetails`/`images`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plans: Vec<PlanTarget>,
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
            .field("plans", &self.plans)
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
        Self::from_manifest_value(manifest_value(bytes)?, rules)
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

    /// Every SAS URL of the request, with the field that holds it (`plans[1].osVhdUrl` for a plan's own).
    pub fn sas_urls(&self) -> Vec<(String, &str)> {
        let mut urls = self.own_sas_urls();
        for (i, plan) in self.plans.iter().enumerate() {
            urls.extend(
                plan.sas_urls()
                    .into_iter()
                    .map(|(field, url)| (format!("plans[{i}].{field}"), url)),
            );
        }
        urls
    }

    fn own_sas_urls(&self) -> Vec<(String, &str)> {
        image_sas_urls(&self.os_vhd_url, &self.images)
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
        if self.plans.is_empty() {
            self.validate_plan()
        } else {
            self.validate_plans()
        }
    }

    /// The rules for a request of one plan.
    fn validate_plan(&self) -> Result<(), WorkflowError> {
        // Product Ingestion needs no publisher: the token's Partner Center account scopes the offer.
        if self.api() == Api::Cpp || !self.publisher_id.is_empty() {
            check_id("publisherId", &self.publisher_id)?;
        }
        check_id("offerId", &self.offer_id)?;
        check_id("planId", &self.plan_id)?;
        // Partner Center plan ids may also hold '_'; CPP's may not.
        let underscore = self.api() == Api::ProductIngestion;
        let plan_chars = |c: char| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (underscore && c == '_')
        };
        if !self.plan_id.chars().all(plan_chars) || self.plan_id.ends_with('-') {
            let allowed = if underscore { "'-' and '_'" } else { "'-'" };
            return Err(field_error(
                "planId",
                &format!(
                    "{:?} must be lowercase letters, digits and {allowed}, not ending in '-'",
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

    /// `publisher/offer/plan@version` (`offer/plan@version` without a publisher; plans joined by
    /// `+`), for messages and logs.
    pub fn target(&self) -> String {
        format!(
            "{}/{}@{}",
            self.offer(),
            self.plan_ids().join("+"),
            self.version
        )
    }
}

/// The SAS URLs of one image choice (`osVhdUrl`, or each of `images`), with their fields.
pub(crate) fn image_sas_urls<'a>(
    os_vhd_url: &'a str,
    images: &'a [ManifestImage],
) -> Vec<(String, &'a str)> {
    let top = (!os_vhd_url.is_empty()).then(|| ("osVhdUrl".to_owned(), os_vhd_url));
    let listed = images.iter().enumerate().filter_map(|(i, image)| {
        image
            .os_vhd_url
            .as_deref()
            .map(|url| (format!("images[{i}].osVhdUrl"), url))
    });
    top.into_iter().chain(listed).collect()
}

/// A manifest's bytes as JSON: within the size limit, UTF-8, JSON. Every error is `InvalidInput`.
pub(crate) fn manifest_value(bytes: &[u8]) -> Result<Value, WorkflowError> {
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
    Ok(value)
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

pub(crate) fn field_error(field: &str, problem: &str) -> WorkflowError {
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
mod tests;
