//! The PUT checks CPP documents for VM images (docs/cpp-api.md, *VM images*): X.Y.Z keys, at most 8 versions,
//! an `osVhdUrl` on each, and the same data-disk count across a plan's versions.

use serde_json::Value;

use crate::error::ApiError;

const VM_IMAGES: &str = "microsoft-azure-virtualmachines.vmImages";
const MAX_VERSIONS_PER_PLAN: usize = 8;

/// `major.minor.patch`, each an unsigned integer.
pub(crate) fn is_image_version(version: &str) -> bool {
    let parts: Vec<&str> = version.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u64>().is_ok()
        })
}

pub(crate) fn validate_offer(doc: &Value) -> Result<(), ApiError> {
    let Some(plans) = doc.pointer("/definition/plans") else {
        return Ok(());
    };
    let plans = plans
        .as_array()
        .ok_or_else(|| ApiError::bad_request("definition.plans must be an array."))?;
    for (index, plan) in plans.iter().enumerate() {
        let plan_id = plan
            .get("planId")
            .and_then(Value::as_str)
            .map_or_else(|| format!("#{index}"), str::to_owned);
        validate_plan(&plan_id, plan)?;
    }
    Ok(())
}

fn validate_plan(plan_id: &str, plan: &Value) -> Result<(), ApiError> {
    let images = match plan.get(VM_IMAGES) {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(images)) => images,
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "Plan '{plan_id}': {VM_IMAGES} must be an object keyed by disk version."
            )));
        }
    };
    if images.len() > MAX_VERSIONS_PER_PLAN {
        return Err(ApiError::bad_request(format!(
            "Plan '{plan_id}' has {} disk versions; at most {MAX_VERSIONS_PER_PLAN} disk versions are allowed per plan.",
            images.len()
        )));
    }
    let mut first_disks: Option<(&str, usize)> = None;
    for (version, image) in images {
        if !is_image_version(version) {
            return Err(ApiError::bad_request(format!(
                "Plan '{plan_id}', version '{version}': the disk version must be of the form major.minor.patch (X.Y.Z) with integers."
            )));
        }
        if !image.get("osVhdUrl").is_some_and(Value::is_string) {
            return Err(ApiError::bad_request(format!(
                "Plan '{plan_id}', version '{version}': osVhdUrl is required and must be a string."
            )));
        }
        let disks = match image.get("lunVhdDetails") {
            None | Some(Value::Null) => 0,
            Some(Value::Array(luns)) => luns.len(),
            Some(_) => {
                return Err(ApiError::bad_request(format!(
                    "Plan '{plan_id}', version '{version}': lunVhdDetails must be an array."
                )));
            }
        };
        match first_disks {
            None => first_disks = Some((version, disks)),
            Some((other, count)) if count != disks => {
                return Err(ApiError::bad_request(format!(
                    "Plan '{plan_id}', version '{version}' has {disks} data disks but version '{other}' has {count}; every version of a plan must have the same number of data disks."
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_versions_are_three_integers() {
        assert!(is_image_version("1.0.1"));
        assert!(is_image_version("2019.10.11"));
        assert!(!is_image_version("1.0"));
        assert!(!is_image_version("1.0.0.0"));
        assert!(!is_image_version("1.0.x"));
        assert!(!is_image_version("1..0"));
        assert!(!is_image_version("-1.0.0"));
        assert!(!is_image_version("1.0.+1"));
    }
}
