//! Adding an image version to a plan: idempotence, ordering, data-disk count and retention
//! (docs/architecture.md, *Rules of the domain*). Only the target plan's image map changes.

use serde_json::{Map, Value, json};

use crate::cpp::{ImageVersion, Offer};
use crate::sas::same_image_url;
use crate::workflow::error::{ErrorName, WorkflowError};
use crate::workflow::request::PublishRequest;

/// What adding the image did to the offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageChange {
    /// The version is already there with the same image: nothing to write.
    AlreadyPresent,
    /// Added; the lowest versions beyond the cap were removed.
    Added { evicted: Vec<String> },
}

/// Adds `request`'s image to its plan in `offer`, keeping at most `cap` versions.
pub fn add_image(
    offer: &mut Offer,
    request: &PublishRequest,
    cap: usize,
) -> Result<ImageChange, WorkflowError> {
    let version = request.image_version()?;
    let where_ = format!(
        "{}/{} plan {}",
        request.publisher_id, request.offer_id, request.plan_id
    );
    let plans = offer.plan_ids().join(", ");
    let mut plan = offer.plan_mut(&request.plan_id).ok_or_else(|| {
        WorkflowError::new(
            ErrorName::PlanNotFound,
            format!(
                "plan {} is not in offer {}/{} (its plans: {plans})",
                request.plan_id, request.publisher_id, request.offer_id
            ),
        )
    })?;
    let images = plan
        .as_plan()
        .images()
        .map_err(|e| WorkflowError::new(ErrorName::Rejected, format!("{where_}: {e}")))?;

    if let Some(existing) = images.iter().find(|i| i.version == version) {
        let same_os = existing
            .os_vhd_url()
            .is_some_and(|url| same_image_url(url, &request.os_vhd_url));
        if same_os && existing.data_disk_count() == request.lun_vhd_details.len() {
            return Ok(ImageChange::AlreadyPresent);
        }
        return Err(WorkflowError::new(
            ErrorName::VersionConflict,
            format!(
                "{where_} already has version {} with a different image; a published version cannot be replaced, use a new version",
                existing.key
            ),
        ));
    }
    if let Some(highest) = images.last().filter(|highest| highest.version > version) {
        return Err(WorkflowError::new(
            ErrorName::VersionNotHigher,
            format!(
                "{where_}: version {version} is not above {}, the highest it holds; Marketplace shows only the highest",
                highest.key
            ),
        ));
    }
    if let Some(highest) = images.last() {
        let (have, want) = (highest.data_disk_count(), request.lun_vhd_details.len());
        if have != want {
            return Err(WorkflowError::invalid_input(format!(
                "{where_}: the image has {want} data disks (lunVhdDetails) but the plan's versions have {have}; the count cannot change"
            )));
        }
    }

    let evicted: Vec<String> = images
        .iter()
        .take((images.len() + 1).saturating_sub(cap.max(1)))
        .map(|i| i.key.to_owned())
        .collect();
    for key in &evicted {
        plan.remove_image(key);
    }
    plan.insert_image(version, image_entry(request))
        .map_err(|e| WorkflowError::new(ErrorName::Rejected, format!("{where_}: {e}")))?;
    Ok(ImageChange::Added { evicted })
}

/// The image entry as CPP documents it: the OS disk and the data disks.
fn image_entry(request: &PublishRequest) -> Value {
    let mut entry = Map::new();
    entry.insert("osVhdUrl".into(), json!(request.os_vhd_url));
    entry.insert(
        "lunVhdDetails".into(),
        Value::Array(request.lun_vhd_details.clone()),
    );
    Value::Object(entry)
}

/// The plan in `offer` holds `version` with `request`'s image (used on the preview slot before go-live).
pub fn holds_image(offer: &Offer, request: &PublishRequest, version: ImageVersion) -> bool {
    let Some(plan) = offer.plan(&request.plan_id) else {
        return false;
    };
    plan.images().unwrap_or_default().iter().any(|i| {
        i.version == version
            && i.os_vhd_url()
                .is_some_and(|url| same_image_url(url, &request.os_vhd_url))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::cpp::VM_IMAGES_KEY;
    use crate::workflow::request::GoLiveMode;

    fn url(name: &str) -> String {
        format!(
            "https://acct.blob.core.windows.net/vhds/{name}.vhd?sp=rl&sr=b&se=2027-01-31&sig=s-{name}"
        )
    }

    fn request(version: &str, image: &str) -> PublishRequest {
        PublishRequest {
            publisher_id: "contoso".into(),
            offer_id: "contoso-linux".into(),
            plan_id: "gen2".into(),
            version: version.into(),
            os_vhd_url: url(image),
            lun_vhd_details: vec![],
            notification_emails: String::new(),
            go_live: GoLiveMode::Manual,
        }
    }

    fn offer(versions: &[&str]) -> Offer {
        let images: serde_json::Map<String, Value> = versions
            .iter()
            .map(|v| {
                (
                    v.to_string(),
                    json!({"osVhdUrl": url(v), "lunVhdDetails": []}),
                )
            })
            .collect();
        Offer::new(
            json!({"id": "contoso-linux", "definition": {"plans": [
            {"planId": "gen1", VM_IMAGES_KEY: {"1.0.0": {"osVhdUrl": url("g1")}}},
            {"planId": "gen2", VM_IMAGES_KEY: images}]}}),
            None,
        )
        .unwrap()
    }

    #[test]
    fn a_new_higher_version_is_added() {
        let mut offer = offer(&["1.0.0", "1.1.0"]);
        assert_eq!(
            add_image(&mut offer, &request("1.2.0", "new"), 8).unwrap(),
            ImageChange::Added { evicted: vec![] }
        );
        let images = offer.plan("gen2").unwrap().images().unwrap();
        assert_eq!(images.last().unwrap().key, "1.2.0");
        assert_eq!(
            images.last().unwrap().image,
            &json!({"osVhdUrl": url("new"), "lunVhdDetails": []})
        );
    }

    #[test]
    fn the_same_image_again_changes_nothing() {
        let mut offer = offer(&["1.0.0", "1.1.0"]);
        let before = offer.clone();
        let mut resigned = request("1.1.0", "1.1.0");
        resigned.os_vhd_url = resigned
            .os_vhd_url
            .replace("se=2027-01-31", "se=2027-06-30")
            .replace("sig=s-1.1.0", "sig=new");
        assert_eq!(
            add_image(&mut offer, &resigned, 8).unwrap(),
            ImageChange::AlreadyPresent
        );
        assert_eq!(offer, before);
    }

    #[test]
    fn conflicts_and_lower_versions_are_refused() {
        let mut offer = offer(&["1.0.0", "1.1.0"]);
        let err = add_image(&mut offer, &request("1.1.0", "other"), 8).unwrap_err();
        assert_eq!(err.name, ErrorName::VersionConflict);
        let err = add_image(&mut offer, &request("1.0.5", "other"), 8).unwrap_err();
        assert_eq!(err.name, ErrorName::VersionNotHigher);
        assert!(err.message.contains("1.0.5 is not above 1.1.0"), "{err}");
        let mut missing_plan = request("2.0.0", "x");
        missing_plan.plan_id = "gen3".into();
        let err = add_image(&mut offer, &missing_plan, 8).unwrap_err();
        assert_eq!(err.name, ErrorName::PlanNotFound);
        assert!(err.message.contains("gen1, gen2"), "{err}");
    }

    #[test]
    fn the_data_disk_count_must_match() {
        let mut offer = offer(&["1.0.0"]);
        let mut with_disk = request("1.1.0", "x");
        with_disk.lun_vhd_details = vec![json!({"lun": 0, "lunVhdUrl": url("d0")})];
        let err = add_image(&mut offer, &with_disk, 8).unwrap_err();
        assert_eq!(err.name, ErrorName::InvalidInput);
        assert!(err.message.contains("1 data disks"), "{err}");
    }

    #[test]
    fn the_lowest_versions_beyond_the_cap_are_evicted() {
        let mut offer = offer(&["1.0.0", "1.2.0", "1.1.0"]);
        let change = add_image(&mut offer, &request("2.0.0", "new"), 2).unwrap();
        assert_eq!(
            change,
            ImageChange::Added {
                evicted: vec!["1.0.0".into(), "1.1.0".into()]
            }
        );
        let keys: Vec<&str> = offer
            .plan("gen2")
            .unwrap()
            .images()
            .unwrap()
            .iter()
            .map(|i| i.key)
            .collect();
        assert_eq!(keys, ["1.2.0", "2.0.0"]);
        assert_eq!(
            offer.plan("gen1").unwrap().images().unwrap().len(),
            1,
            "other plans untouched"
        );
    }

    #[test]
    fn preview_holding_the_image_is_recognised() {
        let offer = offer(&["1.0.0", "1.1.0"]);
        let version = "1.1.0".parse().unwrap();
        assert!(holds_image(&offer, &request("1.1.0", "1.1.0"), version));
        assert!(!holds_image(&offer, &request("1.1.0", "other"), version));
        assert!(!holds_image(
            &offer,
            &request("1.2.0", "1.2.0"),
            "1.2.0".parse().unwrap()
        ));
    }
}
