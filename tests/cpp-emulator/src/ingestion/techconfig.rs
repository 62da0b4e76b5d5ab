//! What a draft job accepts in a VM tech-config: the list sent is the new list (Q1), published
//! versions are immutable, and a version that failed certification blocks new ones (Q21).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::products::{TECH_CONFIG, id_of};

/// A version a failed certification left "Pending publish" in the draft.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Blocked {
    pub tech_config: String,
    pub version: String,
    /// The version as it failed; replacing its image (any change) clears the block.
    pub content: Value,
    pub submission: String,
}

/// The versions and SKUs of a tech-config that ever reached preview or live (preview first: newer).
#[derive(Debug, Default)]
pub(crate) struct Published {
    pub versions: Vec<Value>,
    pub skus: Vec<Value>,
}

impl Published {
    pub(crate) fn of(trees: [Option<&Vec<Value>>; 2], tech_config: &str) -> Self {
        let mut published = Self::default();
        for tc in trees
            .into_iter()
            .flatten()
            .filter_map(|t| t.iter().find(|r| id_of(r) == Some(tech_config)))
        {
            for v in versions(tc) {
                if published.version(number(v)).is_none() {
                    published.versions.push(v.clone());
                }
            }
            for sku in items(tc, "skus") {
                if !published.skus.contains(sku) {
                    published.skus.push(sku.clone());
                }
            }
        }
        published
    }

    fn version(&self, n: &str) -> Option<&Value> {
        self.versions.iter().find(|v| number(v) == n)
    }
}

fn items<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

pub(crate) fn versions(tc: &Value) -> &[Value] {
    items(tc, "vmImageVersions")
}

pub(crate) fn number(v: &Value) -> &str {
    v.get("versionNumber").and_then(Value::as_str).unwrap_or("")
}

fn lifecycle(v: &Value) -> &str {
    v.get("lifecycleState")
        .and_then(Value::as_str)
        .unwrap_or("generallyAvailable")
}

pub(crate) fn image_types(v: &Value) -> Vec<&str> {
    items(v, "vmImages")
        .iter()
        .filter_map(|i| i.get("imageType").and_then(Value::as_str))
        .collect()
}

/// `x64Gen2` -> `X64Gen2`, the spelling of the server's messages.
pub(crate) fn shown(image_type: &str) -> String {
    let mut chars = image_type.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

fn first_type(v: &Value) -> String {
    shown(image_types(v).first().copied().unwrap_or("x64Gen2"))
}

fn without_lifecycle(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(map) = v.as_object_mut() {
        map.shift_remove("lifecycleState");
        map.shift_remove("deprecationSchedule");
    }
    v
}

/// The job error of §7.4(d) for the tech-config named `name` (`<type>-<index>` in the request).
pub(crate) fn job_error(resource_id: &str, name: &str, message: String) -> Value {
    json!({
        "resourceId": resource_id,
        "code": "badRequest",
        "message": message,
        "details": [{
            "code": "invalidResource",
            "message": format!("Failure for resource: {name}, schema: {TECH_CONFIG}"),
        }],
    })
}

/// The new tech-config as stored (unpublished versions marked `deleted` dropped), or the message
/// of the first rule it breaks.
pub(crate) fn check(
    new: &Value,
    published: &Published,
    blocked: &[&Blocked],
) -> Result<Value, String> {
    let list = versions(new);
    let mut seen = Vec::new();
    for v in list {
        if seen.contains(&number(v)) {
            return Err(format!(
                "Image version '{}' appears more than once in the plan.",
                number(v)
            ));
        }
        seen.push(number(v));
    }
    for sku in items(new, "skus") {
        let kind = sku.get("imageType").and_then(Value::as_str).unwrap_or("");
        if sku.get("securityType").is_some_and(|s| !s.is_null()) && kind != "x64Gen2" {
            let id = sku.get("skuId").and_then(Value::as_str).unwrap_or("");
            return Err(format!(
                "The property 'SecurityType' is only supported for image type 'X64Gen2'; SKU '{id}' is of type '{}'.",
                shown(kind)
            ));
        }
    }
    for old in &published.skus {
        let same_type = items(new, "skus")
            .iter()
            .find(|s| s.get("imageType") == old.get("imageType"));
        if same_type.is_none_or(|s| s.get("skuId") != old.get("skuId")) {
            return Err("The property 'PlanId' is locked by a previous submission".to_owned());
        }
    }
    for old in &published.versions {
        let n = number(old);
        let Some(sent) = list
            .iter()
            .find(|v| number(v) == n)
            .filter(|v| lifecycle(v) != "deleted")
        else {
            return Err(format!(
                "Cannot delete image '{n}' of type '{}' as it is already published.",
                first_type(old)
            ));
        };
        if without_lifecycle(sent) != without_lifecycle(old) {
            return Err(format!(
                "Image '{n}' of type '{}' cannot be modified as it is already published.",
                first_type(old)
            ));
        }
        let was_retiring =
            lifecycle(old) == "deprecated" || old.get("deprecationSchedule").is_some();
        if was_retiring
            && (lifecycle(sent) != lifecycle(old)
                || sent.get("deprecationSchedule") != old.get("deprecationSchedule"))
        {
            return Err(format!(
                "Image '{n}' cannot be restored because it was deprecated before it was published to live"
            ));
        }
    }
    let new_versions: Vec<&Value> = list
        .iter()
        .filter(|v| lifecycle(v) != "deleted" && published.version(number(v)).is_none())
        .collect();
    for pending in blocked {
        let Some(kept) = new_versions.iter().find(|v| number(v) == pending.version) else {
            continue;
        };
        if **kept != pending.content {
            continue;
        }
        for other in new_versions.iter().filter(|v| number(v) != pending.version) {
            if let Some(kind) = image_types(other)
                .into_iter()
                .find(|t| image_types(kept).contains(t))
            {
                return Err(format!(
                    "Image '{}' of type '{}' is pending publish after submission {} failed certification; remove it or replace its image before adding image '{}'.",
                    pending.version,
                    shown(kind),
                    pending.submission,
                    number(other)
                ));
            }
        }
    }
    let mut per_type: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for v in &new_versions {
        for kind in image_types(v) {
            per_type.entry(kind).or_default().push(number(v));
        }
    }
    if let Some((kind, numbers)) = per_type.iter().find(|(_, n)| n.len() > 1) {
        return Err(format!(
            "Only one new VM image per image type can be provided in a submission: images '{}' of type '{}' are all new.",
            numbers.join("', '"),
            shown(kind)
        ));
    }
    let kept: Vec<&Value> = list.iter().filter(|v| lifecycle(v) != "deleted").collect();
    if !kept.is_empty() && kept.iter().all(|v| lifecycle(v) != "generallyAvailable") {
        let last = kept.last().map_or("", |v| number(v));
        return Err(format!(
            "Cannot deprecate image '{last}' as it is the last active image of the plan."
        ));
    }
    let mut stored = new.clone();
    if let Some(Value::Array(list)) = stored.get_mut("vmImageVersions") {
        list.retain(|v| lifecycle(v) != "deleted");
    }
    Ok(stored)
}

/// Whether a blocked version is still in the draft unchanged (else the block is lifted).
pub(crate) fn still_blocks(pending: &Blocked, draft: &[Value]) -> bool {
    draft
        .iter()
        .find(|r| id_of(r) == Some(pending.tech_config.as_str()))
        .is_some_and(|tc| versions(tc).contains(&pending.content))
}

/// The versions of `snapshot`'s tech-configs that were not published before: what a failed
/// certification leaves pending.
pub(crate) fn new_versions(
    snapshot: &[Value],
    published: impl Fn(&str) -> Published,
    submission: &str,
) -> Vec<Blocked> {
    let mut out = Vec::new();
    for tc in snapshot
        .iter()
        .filter(|r| id_of(r).is_some_and(|id| id.starts_with(&format!("{TECH_CONFIG}/"))))
    {
        let id = id_of(tc).unwrap_or("");
        let before = published(id);
        for v in versions(tc) {
            if before.version(number(v)).is_none() {
                out.push(Blocked {
                    tech_config: id.to_owned(),
                    version: number(v).to_owned(),
                    content: v.clone(),
                    submission: submission.to_owned(),
                });
            }
        }
    }
    out
}
