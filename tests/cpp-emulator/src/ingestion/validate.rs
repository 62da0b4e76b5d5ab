//! The synchronous checks of `POST configure` (§2.3, §7.4(i)): schemas, hosts and patterns.

use serde_json::Value;

use super::error::PiError;
use super::products::{
    KNOWN_TYPES, LEGACY_HOST, SCHEMA_ROOT, TECH_CONFIG, schema_parts, type_of_id,
};

/// A resource of a configure body that passed the checks, with its type from `$schema`.
#[derive(Debug, Clone)]
pub(crate) struct Incoming {
    pub kind: String,
    pub value: Value,
}

fn version_ok(version: &str) -> bool {
    // `YYYY-MM-DD` with an optional `-previewN`.
    let (date, preview) = version.split_at(version.len().min(10));
    let date_ok = date.len() == 10
        && date.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    let preview_ok = preview.is_empty()
        || preview
            .strip_prefix("-preview")
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    date_ok && preview_ok
}

/// `^[0-9]+\.[0-9]+\.[0-9]+$`, 1-32 characters.
pub(crate) fn version_number_ok(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    v.len() <= 32
        && parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

fn sku_id_ok(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Checks a `$schema` value: the legacy host cannot be fetched; it must name `/schema/{type}/{version}`
/// on the current host. Returns (type, version).
fn check_schema<'a>(schema: Option<&'a Value>, at: &str) -> Result<(&'a str, &'a str), PiError> {
    let Some(schema) = schema.and_then(Value::as_str) else {
        return Err(PiError::schema(
            "https://schema.mp.microsoft.com/schema/configure/2022-07-01",
            &format!("{at}: required property '$schema' was not present"),
        ));
    };
    if schema.contains(LEGACY_HOST) {
        return Err(PiError::unreachable_schema(schema));
    }
    match schema_parts(schema) {
        Some((kind, version)) if schema.starts_with(SCHEMA_ROOT) && version_ok(version) => {
            Ok((kind, version))
        }
        _ => Err(PiError::unreachable_schema(schema)),
    }
}

/// The resources of a configure body, or the 400 the server answers instead of creating a job.
pub(crate) fn check_configure(body: &Value) -> Result<Vec<Incoming>, PiError> {
    let (kind, _) = check_schema(body.get("$schema"), "#")?;
    if kind != "configure" {
        return Err(PiError::bad_request(format!(
            "The configure request must use a configure schema, not '{kind}'."
        )));
    }
    let Some(resources) = body.get("resources").and_then(Value::as_array) else {
        return Err(PiError::schema(
            body["$schema"].as_str().unwrap_or(""),
            "#: required property 'resources' was not present",
        ));
    };
    if resources.is_empty() {
        return Err(PiError::bad_request(
            "The configure request has no resources.",
        ));
    }
    resources
        .iter()
        .enumerate()
        .map(|(i, resource)| check_resource(resource, &format!("#/resources/{i}")))
        .collect()
}

fn check_resource(resource: &Value, at: &str) -> Result<Incoming, PiError> {
    let (kind, version) = check_schema(resource.get("$schema"), at)?;
    let schema = resource["$schema"].as_str().unwrap_or("");
    if !KNOWN_TYPES.contains(&kind) {
        return Err(
            PiError::bad_request(format!("Unknown resource type '{kind}'.")).with_detail(
                "schemaValidationError",
                format!("{at}: schema {schema} is not a known resource schema"),
            ),
        );
    }
    match resource.get("id") {
        None => {}
        Some(Value::String(id)) if type_of_id(id) == kind => {}
        Some(Value::String(id)) => {
            return Err(PiError::schema(
                schema,
                &format!("{at}/id: '{id}' is not a {kind} id"),
            ));
        }
        Some(other) => {
            return Err(PiError::schema(
                schema,
                &format!("{at}/id: {other} is not of type 'string'"),
            ));
        }
    }
    let fail = |what: String| Err(PiError::schema(schema, &format!("{at}{what}")));
    match kind {
        "submission" => {
            if version == "2022-03-01-preview7" {
                return fail(": Required properties [\"sources\"] were not present #".to_owned());
            }
            let target = resource
                .pointer("/target/targetType")
                .and_then(Value::as_str);
            if !matches!(target, Some("preview" | "live")) {
                return fail("/target/targetType: must be 'preview' or 'live'".to_owned());
            }
            if resource.get("product").is_none() {
                return fail(": Required properties [\"product\"] were not present".to_owned());
            }
        }
        TECH_CONFIG => {
            if resource.get("id").is_none()
                && (resource.get("product").is_none() || resource.get("plan").is_none())
            {
                return fail(
                    ": Required properties [\"product\",\"plan\"] were not present".to_owned(),
                );
            }
            if let Some(list) = resource.get("vmImageVersions") {
                let Some(list) = list.as_array() else {
                    return fail("/vmImageVersions: is not of type 'array'".to_owned());
                };
                for (j, v) in list.iter().enumerate() {
                    let n = v.get("versionNumber").and_then(Value::as_str).unwrap_or("");
                    if !version_number_ok(n) {
                        return fail(format!(
                            "/vmImageVersions/{j}/versionNumber: '{n}' does not match pattern ^[0-9]+\\.[0-9]+\\.[0-9]+$"
                        ));
                    }
                    if !v.get("vmImages").is_some_and(Value::is_array) {
                        return fail(format!(
                            "/vmImageVersions/{j}: Required properties [\"vmImages\"] were not present"
                        ));
                    }
                }
            }
            let skus = resource.get("skus").and_then(Value::as_array);
            for (j, sku) in skus.into_iter().flatten().enumerate() {
                let id = sku.get("skuId").and_then(Value::as_str).unwrap_or("");
                if !sku_id_ok(id) {
                    return fail(format!(
                        "/skus/{j}/skuId: '{id}' does not match pattern ^[a-z0-9-_]+$"
                    ));
                }
            }
        }
        _ if resource.get("id").is_none() => {
            return Err(PiError::bad_request(format!(
                "{at}: a {kind} resource needs the 'id' of an existing resource (the emulator does not create {kind} resources)."
            )));
        }
        _ => {}
    }
    Ok(Incoming {
        kind: kind.to_owned(),
        value: resource.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(version_number_ok("1.0.20260401"));
        assert!(!version_number_ok("1.0"));
        assert!(!version_number_ok("1.0.x"));
        assert!(!version_number_ok("v1.0.0"));
        assert!(version_ok("2022-07-01"));
        assert!(version_ok("2022-03-01-preview2"));
        assert!(!version_ok("latest"));
        assert!(sku_id_ok("contoso-linux_gen2"));
        assert!(!sku_id_ok("Contoso"));
    }
}
