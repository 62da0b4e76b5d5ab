//! A release manifest: one version to many plans and offers (`targets`), grouped by offer so that
//! each offer gets one write, one publish and one certification (README, *Releases*).

use serde_json::{Map, Value};

use crate::workflow::error::WorkflowError;
use crate::workflow::request::{
    MANIFEST_FIELDS, MAX_PLANS, ManifestRules, PlanTarget, PublishRequest, decode, field_error,
    manifest_value,
};

/// At most this many targets in one release.
pub const MAX_TARGETS: usize = MAX_PLANS;
/// What a target may set; the rest comes from the manifest's top level.
pub const TARGET_FIELDS: [&str; 7] = [
    "offerId",
    "planId",
    "publisherId",
    "api",
    "osVhdUrl",
    "lunVhdDetails",
    "images",
];
/// The image fields: a target naming any of them does not take the top level's.
const IMAGE_FIELDS: [&str; 3] = ["osVhdUrl", "lunVhdDetails", "images"];

/// What a manifest asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Manifest {
    /// One plan of one offer.
    Single(PublishRequest),
    /// Many plans and offers.
    Release(Release),
}

/// A release, grouped by offer: each request lists its offer's plans in `plans`.
#[derive(Clone, Debug, PartialEq)]
pub struct Release {
    pub version: String,
    pub offers: Vec<PublishRequest>,
    /// How many targets the manifest listed.
    pub targets: usize,
}

impl Manifest {
    /// Parses and validates an uploaded manifest of either kind. Every error is `InvalidInput`.
    pub fn parse(bytes: &[u8], rules: &ManifestRules<'_>) -> Result<Self, WorkflowError> {
        Self::from_value(manifest_value(bytes)?, rules)
    }

    pub fn from_value(value: Value, rules: &ManifestRules<'_>) -> Result<Self, WorkflowError> {
        if value.get("targets").is_some() {
            Release::from_manifest_value(value, rules).map(Self::Release)
        } else {
            PublishRequest::from_manifest_value(value, rules).map(Self::Single)
        }
    }
}

impl Release {
    /// Validates a release manifest entry by entry; nothing of it is usable unless all of it is.
    pub fn from_manifest_value(
        value: Value,
        rules: &ManifestRules<'_>,
    ) -> Result<Self, WorkflowError> {
        let Value::Object(mut top) = value else {
            return Err(WorkflowError::invalid_input(
                "manifest must be a JSON object",
            ));
        };
        if let Some(unknown) = top
            .keys()
            .find(|k| *k != "targets" && !MANIFEST_FIELDS.contains(&k.as_str()))
        {
            return Err(WorkflowError::invalid_input(format!(
                "manifest field {unknown:?} is not known (known fields: targets, {})",
                MANIFEST_FIELDS.join(", ")
            )));
        }
        let targets = top.remove("targets").unwrap_or_default();
        let Value::Array(targets) = targets else {
            return Err(field_error(
                "targets",
                "must be a list of {\"offerId\", \"planId\"} entries",
            ));
        };
        if targets.is_empty() || targets.len() > MAX_TARGETS {
            return Err(field_error(
                "targets",
                &format!(
                    "lists {} targets; a release lists 1 to {MAX_TARGETS}",
                    targets.len()
                ),
            ));
        }
        for field in ["offerId", "planId"] {
            if top.contains_key(field) {
                return Err(field_error(
                    field,
                    "and targets exclude each other: give each target its offerId and planId",
                ));
            }
        }
        let version: String = decode(
            "manifest",
            top.get("version").cloned().unwrap_or(Value::Null),
        )
        .map_err(|_| field_error("version", "is missing, or is not a string"))?;
        let count = targets.len();
        let mut singles = Vec::with_capacity(count);
        for (i, target) in targets.into_iter().enumerate() {
            singles.push(single_target(&top, target, i, rules)?);
        }
        check_targets(&singles)?;
        let offers = group_by_offer(singles);
        for offer in &offers {
            offer.validate()?;
        }
        Ok(Self {
            version,
            offers,
            targets: count,
        })
    }
}

/// Target `i` as a manifest of one plan: the top level with the target's fields over it.
fn single_target(
    top: &Map<String, Value>,
    target: Value,
    i: usize,
    rules: &ManifestRules<'_>,
) -> Result<PublishRequest, WorkflowError> {
    let entry = format!("targets[{i}]");
    let Value::Object(fields) = target else {
        return Err(field_error(&entry, "must be an object"));
    };
    if let Some(unknown) = fields.keys().find(|k| !TARGET_FIELDS.contains(&k.as_str())) {
        return Err(field_error(
            &format!("{entry}.{unknown}"),
            &format!("is not known (a target sets {})", TARGET_FIELDS.join(", ")),
        ));
    }
    let mut merged = top.clone();
    if IMAGE_FIELDS.iter().any(|f| fields.contains_key(*f)) {
        for field in IMAGE_FIELDS {
            merged.remove(field);
        }
    }
    merged.extend(fields);
    PublishRequest::from_manifest_value(Value::Object(merged), rules)
        .map_err(|e| WorkflowError::new(e.name, format!("{entry}.{}", e.message)))
}

/// Each plan once, each offer under one API.
fn check_targets(targets: &[PublishRequest]) -> Result<(), WorkflowError> {
    for (j, later) in targets.iter().enumerate() {
        for (i, earlier) in targets[..j].iter().enumerate() {
            let same_offer = earlier.offer_id == later.offer_id;
            if same_offer && earlier.api() != later.api() {
                return Err(field_error(
                    &format!("targets[{j}].api"),
                    &format!(
                        "is {} but targets[{i}] lists offer {} under {}; an offer is published through one API",
                        later.api().as_str(),
                        later.offer_id,
                        earlier.api().as_str()
                    ),
                ));
            }
            if same_offer
                && earlier.publisher_id == later.publisher_id
                && earlier.plan_id == later.plan_id
            {
                return Err(field_error(
                    &format!("targets[{j}].planId"),
                    &format!(
                        "lists plan {} of offer {} again (first at targets[{i}])",
                        later.plan_id,
                        later.offer()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// One request per offer (by API, publisher and offer), in the order the offers first appear.
fn group_by_offer(targets: Vec<PublishRequest>) -> Vec<PublishRequest> {
    let mut offers: Vec<PublishRequest> = Vec::new();
    for (i, target) in targets.into_iter().enumerate() {
        let plan = PlanTarget {
            plan_id: target.plan_id.clone(),
            os_vhd_url: target.os_vhd_url.clone(),
            lun_vhd_details: target.lun_vhd_details.clone(),
            images: target.images.clone(),
            entry: Some(format!("targets[{i}]")),
        };
        let key = |r: &PublishRequest| (r.api(), r.publisher_id.clone(), r.offer_id.clone());
        match offers.iter_mut().find(|o| key(o) == key(&target)) {
            Some(offer) => offer.plans.push(plan),
            None => offers.push(PublishRequest {
                plan_id: String::new(),
                os_vhd_url: String::new(),
                lun_vhd_details: Vec::new(),
                images: Vec::new(),
                plans: vec![plan],
                ..target
            }),
        }
    }
    offers
}

#[cfg(test)]
mod tests;
