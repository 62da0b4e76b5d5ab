//! A plan's `virtual-machine-plan-technical-configuration`, kept as the JSON it came as: the
//! configure replaces it wholesale (Q1), so every field and every earlier version goes back
//! exactly as read, and only `vmImageVersions` gains the new version.

use serde_json::{Map, Value, json};

use crate::ingestion::{LEGACY_SCHEMA_HOST, SCHEMA_HOST};
use crate::marketplace::{
    ImageRecord, ImageSource, ImageVersion, NewSource, NewVersion, PlanVersions, VersionRecord,
};

const TYPES: [&str; 2] = [
    "virtual-machine-plan-technical-configuration/",
    "core-virtual-machine-plan-technical-configuration/",
];

/// The tech-config of plan `plan/{P}/{L}` in a resource tree (resources come in any order, Q11).
pub fn find<'a>(tree: &'a Value, plan: &str) -> Option<&'a Value> {
    let tail = plan.strip_prefix("plan/")?;
    tree.get("resources")?.as_array()?.iter().find(|resource| {
        let id = resource
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let by_id = TYPES.iter().any(|t| {
            id.strip_prefix(t)
                .is_some_and(|rest| rest.eq_ignore_ascii_case(tail))
        });
        let by_ref = TYPES.iter().any(|t| id.starts_with(t))
            && resource.get("plan").and_then(Value::as_str) == Some(plan);
        by_id || by_ref
    })
}

/// The plan's versions and image types, as the workflow compares them.
pub fn versions(techconfig: &Value) -> Result<PlanVersions, String> {
    let image_types: Vec<String> = techconfig
        .get("skus")
        .and_then(Value::as_array)
        .map(|skus| {
            skus.iter()
                .filter_map(|s| s.get("imageType").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if image_types.is_empty() {
        return Err(
            "the plan has no SKU with an image type; add one in Partner Center first".into(),
        );
    }
    let mut versions = Vec::new();
    for entry in list(techconfig) {
        let key = entry
            .get("versionNumber")
            .and_then(Value::as_str)
            .ok_or("a vmImageVersions entry has no versionNumber")?;
        let version = ImageVersion::parse_existing(key)
            .ok_or_else(|| format!("versionNumber {key:?} is not MAJOR.MINOR.PATCH"))?;
        let state = entry
            .get("lifecycleState")
            .and_then(Value::as_str)
            .unwrap_or("generallyAvailable");
        versions.push(VersionRecord {
            version,
            key: key.to_owned(),
            images: entry
                .get("vmImages")
                .and_then(Value::as_array)
                .map(|images| images.iter().map(image_record).collect())
                .unwrap_or_default(),
            // A version scheduled for deprecation is on its way out: not counted, never touched (Q2).
            active: state.eq_ignore_ascii_case("generallyAvailable")
                && entry.get("deprecationSchedule").is_none_or(Value::is_null),
        });
    }
    versions.sort_by_key(|v| v.version);
    Ok(PlanVersions {
        versions,
        image_types,
        fixed_data_disks: false,
    })
}

fn list(techconfig: &Value) -> impl Iterator<Item = &Value> {
    techconfig
        .get("vmImageVersions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// The data disks' URIs in LUN order, as the workflow compares them (whatever order they are listed in).
fn by_lun(disks: &Value) -> Vec<String> {
    let mut disks: Vec<(i64, String)> = disks
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            let lun = d["lunNumber"].as_i64().unwrap_or(i64::MAX);
            (lun, d["uri"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    disks.sort_by_key(|(lun, _)| *lun);
    disks.into_iter().map(|(_, uri)| uri).collect()
}

fn image_record(image: &Value) -> ImageRecord {
    let source = &image["source"];
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let source = match source.get("sourceType").and_then(Value::as_str) {
        Some("sasUri") => match text(&source["osDisk"]["uri"]) {
            Some(os_url) => ImageSource::Sas {
                os_url,
                data_disks: by_lun(&source["dataDisks"]),
            },
            None => ImageSource::Other,
        },
        Some("sharedImageGallery") => match text(&source["sharedImage"]["resourceId"]) {
            Some(resource_id) => ImageSource::Gallery { resource_id },
            None => ImageSource::Other,
        },
        _ => ImageSource::Other,
    };
    ImageRecord {
        image_type: text(&image["imageType"]),
        source,
    }
}

/// The tech-config to send: as read, schema hosts rewritten (Q9), the versions in `retire`
/// deprecated, and `new` appended. Nothing else changes; no version is ever left out (Q1).
pub fn with_version(techconfig: &Value, new: &NewVersion, retire: &[String]) -> Value {
    let mut sent = techconfig.clone();
    rewrite_schema_hosts(&mut sent);
    if let Value::Object(fields) = &mut sent {
        let versions = fields
            .entry("vmImageVersions")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(versions) = versions {
            for version in versions.iter_mut() {
                let key = version.get("versionNumber").and_then(Value::as_str);
                if key.is_some_and(|k| retire.iter().any(|r| r == k))
                    && let Value::Object(version) = version
                {
                    version.insert("lifecycleState".into(), json!("deprecated"));
                }
            }
            versions.push(version_entry(new));
        }
    }
    sent
}

fn version_entry(new: &NewVersion) -> Value {
    let images: Vec<Value> = new
        .images
        .iter()
        .map(|image| {
            let source = match &image.source {
                NewSource::Sas {
                    os_vhd_url,
                    lun_vhd_details,
                } => json!({
                    "sourceType": "sasUri",
                    "osDisk": {"uri": os_vhd_url},
                    "dataDisks": lun_vhd_details.iter().map(data_disk).collect::<Vec<_>>(),
                }),
                NewSource::Gallery {
                    tenant_id,
                    resource_id,
                } => json!({
                    "sourceType": "sharedImageGallery",
                    "sharedImage": {"tenantId": tenant_id, "resourceId": resource_id},
                }),
            };
            json!({"imageType": image.image_type, "source": source})
        })
        .collect();
    json!({
        "versionNumber": new.version.to_string(),
        "lifecycleState": "generallyAvailable",
        "vmImages": images,
    })
}

/// A manifest data disk (`{"lun", "lunVhdUrl"}`, as on CPP) in this API's form.
fn data_disk(disk: &Value) -> Value {
    let mut out = Map::new();
    out.insert(
        "lunNumber".into(),
        disk.get("lun")
            .or_else(|| disk.get("lunNumber"))
            .cloned()
            .unwrap_or(json!(0)),
    );
    out.insert(
        "uri".into(),
        disk.get("lunVhdUrl")
            .or_else(|| disk.get("uri"))
            .cloned()
            .unwrap_or(Value::Null),
    );
    Value::Object(out)
}

/// Every `$schema` on the legacy host points to the current one: the old host no longer serves them.
pub fn rewrite_schema_hosts(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                match field {
                    Value::String(text) if key == "$schema" => {
                        if let Some(rest) = text.strip_prefix(LEGACY_SCHEMA_HOST) {
                            *text = format!("{SCHEMA_HOST}{rest}");
                        }
                    }
                    other => rewrite_schema_hosts(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_schema_hosts),
        _ => {}
    }
}
