//! Adding an image version to a plan, whichever API holds it (docs/architecture.md, *Rules of the
//! domain*): the version to write, idempotence, ordering, the data-disk rule and retention.

use crate::marketplace::{
    Api, ImageRecord, ImageSource, NewImage, NewSource, NewVersion, PlanVersions, VersionRecord,
};
use crate::sas::same_image_url;
use crate::workflow::error::{ErrorName, WorkflowError};
use crate::workflow::request::PublishRequest;

/// What to do with the draft.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The version is already there with the same image: nothing to write.
    AlreadyPresent,
    /// Add it, retiring these versions (by key).
    Add { retire: Vec<String> },
}

/// The version `request` adds to a plan with `plan`'s image types: `images` as given, or
/// `osVhdUrl` for the plan's one image type.
pub fn new_version(
    request: &PublishRequest,
    plan: &PlanVersions,
) -> Result<NewVersion, WorkflowError> {
    let version = request.image_version()?;
    let where_ = where_(request);
    let types = &plan.image_types;
    if request.images.is_empty() {
        let image_type = match types.as_slice() {
            [] => None,
            [only] => Some(only.clone()),
            several => {
                return Err(WorkflowError::invalid_input(format!(
                    "{where_} has image types {}; list each image in images (with its imageType) instead of osVhdUrl",
                    several.join(", ")
                )));
            }
        };
        return Ok(NewVersion {
            version,
            images: vec![NewImage {
                image_type,
                source: NewSource::Sas {
                    os_vhd_url: request.os_vhd_url.clone(),
                    lun_vhd_details: request.lun_vhd_details.clone(),
                },
            }],
        });
    }
    let mut images = Vec::with_capacity(request.images.len());
    for (i, image) in request.images.iter().enumerate() {
        if !types.is_empty() && !types.contains(&image.image_type) {
            return Err(WorkflowError::invalid_input(format!(
                "images[{i}].imageType {} has no SKU in {where_} (its image types: {})",
                image.image_type,
                types.join(", ")
            )));
        }
        let source = match (&image.os_vhd_url, &image.shared_image) {
            (_, Some(gallery)) => NewSource::Gallery {
                tenant_id: gallery.tenant_id.clone(),
                resource_id: gallery.resource_id.clone(),
            },
            (url, None) => NewSource::Sas {
                os_vhd_url: url.clone().unwrap_or_default(),
                lun_vhd_details: image.lun_vhd_details.clone(),
            },
        };
        images.push(NewImage {
            // CPP has no image types: its one image is the plan's.
            image_type: (!types.is_empty()).then(|| image.image_type.clone()),
            source,
        });
    }
    Ok(NewVersion { version, images })
}

/// How many versions a plan keeps: CPP's cap (counting all), or on Product Ingestion the active
/// ones `INGESTION_KEEP_ACTIVE_VERSIONS` says (unset: all).
pub fn retention(api: Api, cpp_cap: usize, keep_active: Option<usize>) -> Option<usize> {
    match api {
        Api::Cpp => Some(cpp_cap.max(1)),
        Api::ProductIngestion => keep_active.map(|n| n.max(1)),
    }
}

/// Whether and how `new` goes into the draft `plan`, keeping at most `keep` active versions.
pub fn decide(
    plan: &PlanVersions,
    new: &NewVersion,
    keep: Option<usize>,
    where_: &str,
) -> Result<Decision, WorkflowError> {
    if let Some(existing) = plan.find(new.version) {
        if same_images(existing, new) {
            return Ok(Decision::AlreadyPresent);
        }
        return Err(WorkflowError::new(
            ErrorName::VersionConflict,
            format!(
                "{where_} already has version {} with a different image; a published version cannot be replaced, use a new version",
                existing.key
            ),
        ));
    }
    if let Some(highest) = plan.highest().filter(|h| h.version > new.version) {
        return Err(WorkflowError::new(
            ErrorName::VersionNotHigher,
            format!(
                "{where_}: version {} is not above {}, the highest it holds; Marketplace shows only the highest",
                new.version, highest.key
            ),
        ));
    }
    if plan.fixed_data_disks
        && let Some(highest) = plan.highest()
    {
        let (have, want) = (data_disks(&highest.images), new_data_disks(new));
        if have != want {
            return Err(WorkflowError::invalid_input(format!(
                "{where_}: the image has {want} data disks (lunVhdDetails) but the plan's versions have {have}; the count cannot change"
            )));
        }
    }
    let mut active: Vec<&VersionRecord> = plan.versions.iter().filter(|v| v.active).collect();
    active.sort_by_key(|v| v.version);
    let retire = keep.map_or(0, |keep| (active.len() + 1).saturating_sub(keep));
    Ok(Decision::Add {
        retire: active.iter().take(retire).map(|v| v.key.clone()).collect(),
    })
}

/// The plan holds `new` with the same image(s): on the preview before go-live, on live after.
pub fn holds(plan: &PlanVersions, new: &NewVersion) -> bool {
    plan.find(new.version)
        .is_some_and(|existing| same_images(existing, new))
}

/// `publisher/offer plan P` (or `offer plan P` without a publisher), for messages.
pub fn where_(request: &PublishRequest) -> String {
    format!("{} plan {}", request.offer(), request.plan_id)
}

/// Same image types with the same sources: SAS URLs compared without their signature and dates.
fn same_images(existing: &VersionRecord, new: &NewVersion) -> bool {
    existing.images.len() == new.images.len()
        && new.images.iter().all(|image| {
            existing
                .images
                .iter()
                .any(|record| record.image_type == image.image_type && same_source(record, image))
        })
}

fn same_source(record: &ImageRecord, image: &NewImage) -> bool {
    match (&record.source, &image.source) {
        (
            ImageSource::Sas { os_url, data_disks },
            NewSource::Sas {
                os_vhd_url,
                lun_vhd_details,
            },
        ) => same_image_url(os_url, os_vhd_url) && same_data_disks(data_disks, lun_vhd_details),
        // Azure resource ids are case-insensitive.
        (
            ImageSource::Gallery { resource_id },
            NewSource::Gallery {
                resource_id: new, ..
            },
        ) => resource_id.eq_ignore_ascii_case(new),
        _ => false,
    }
}

/// The same data disks: as many, each the same VHD (by LUN order), signatures aside.
fn same_data_disks(recorded: &[String], new: &[serde_json::Value]) -> bool {
    let mut new: Vec<(i64, &str)> = new
        .iter()
        .map(|d| {
            let lun = d
                .get("lun")
                .or_else(|| d.get("lunNumber"))
                .and_then(serde_json::Value::as_i64);
            let url = d
                .get("lunVhdUrl")
                .or_else(|| d.get("uri"))
                .and_then(serde_json::Value::as_str);
            (lun.unwrap_or(i64::MAX), url.unwrap_or_default())
        })
        .collect();
    new.sort_by_key(|(lun, _)| *lun);
    recorded.len() == new.len()
        && recorded
            .iter()
            .zip(&new)
            .all(|(have, (_, want))| same_image_url(have, want))
}

fn data_disks(images: &[ImageRecord]) -> usize {
    images
        .iter()
        .map(|i| match &i.source {
            ImageSource::Sas { data_disks, .. } => data_disks.len(),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

fn new_data_disks(new: &NewVersion) -> usize {
    new.images
        .iter()
        .map(|i| match &i.source {
            NewSource::Sas {
                lun_vhd_details, ..
            } => lun_vhd_details.len(),
            NewSource::Gallery { .. } => 0,
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::workflow::images::{ManifestImage, SharedImage};
    use crate::workflow::request::GoLiveMode;

    fn url(name: &str) -> String {
        format!(
            "https://acct.blob.core.windows.net/vhds/{name}.vhd?sp=rl&sr=b&se=2027-01-31&sig=s-{name}"
        )
    }

    fn request(version: &str, image: &str) -> PublishRequest {
        PublishRequest {
            api: None,
            publisher_id: "contoso".into(),
            offer_id: "contoso-linux".into(),
            plan_id: "gen2".into(),
            version: version.into(),
            os_vhd_url: url(image),
            lun_vhd_details: vec![],
            notification_emails: String::new(),
            go_live: GoLiveMode::Manual,
            images: vec![],
            plans: vec![],
        }
    }

    fn record(version: &str, image_type: Option<&str>, image: &str, active: bool) -> VersionRecord {
        VersionRecord {
            version: crate::marketplace::ImageVersion::parse_existing(version).unwrap(),
            key: version.into(),
            images: vec![ImageRecord {
                image_type: image_type.map(str::to_owned),
                source: ImageSource::Sas {
                    os_url: url(image),
                    data_disks: vec![],
                },
            }],
            active,
        }
    }

    /// A CPP plan: no image types, a cap on the count, fixed data disks.
    fn cpp_plan(versions: &[&str]) -> PlanVersions {
        PlanVersions {
            versions: versions.iter().map(|v| record(v, None, v, true)).collect(),
            image_types: vec![],
            fixed_data_disks: true,
        }
    }

    fn decided(
        plan: &PlanVersions,
        request: &PublishRequest,
        keep: Option<usize>,
    ) -> Result<Decision, WorkflowError> {
        let new = new_version(request, plan)?;
        decide(plan, &new, keep, "contoso/contoso-linux plan gen2")
    }

    #[test]
    fn a_new_higher_version_is_added_and_the_same_image_again_changes_nothing() {
        let plan = cpp_plan(&["1.0.0", "1.1.0"]);
        assert_eq!(
            decided(&plan, &request("1.2.0", "new"), Some(8)).unwrap(),
            Decision::Add { retire: vec![] }
        );
        let mut resigned = request("1.1.0", "1.1.0");
        resigned.os_vhd_url = resigned
            .os_vhd_url
            .replace("se=2027-01-31", "se=2027-06-30")
            .replace("sig=s-1.1.0", "sig=new");
        assert_eq!(
            decided(&plan, &resigned, Some(8)).unwrap(),
            Decision::AlreadyPresent
        );
    }

    #[test]
    fn conflicts_and_lower_versions_are_refused() {
        let plan = cpp_plan(&["1.0.0", "1.1.0"]);
        let err = decided(&plan, &request("1.1.0", "other"), Some(8)).unwrap_err();
        assert_eq!(err.name, ErrorName::VersionConflict);
        let err = decided(&plan, &request("1.0.5", "other"), Some(8)).unwrap_err();
        assert_eq!(err.name, ErrorName::VersionNotHigher);
        assert!(err.message.contains("1.0.5 is not above 1.1.0"), "{err}");
    }

    #[test]
    fn the_data_disk_count_must_match_where_the_api_says_so() {
        let mut plan = cpp_plan(&["1.0.0"]);
        let mut with_disk = request("1.1.0", "x");
        with_disk.lun_vhd_details = vec![json!({"lun": 0, "lunVhdUrl": url("d0")})];
        let err = decided(&plan, &with_disk, Some(8)).unwrap_err();
        assert_eq!(err.name, ErrorName::InvalidInput);
        assert!(err.message.contains("1 data disks"), "{err}");
        plan.fixed_data_disks = false;
        assert!(decided(&plan, &with_disk, None).is_ok());
    }

    #[test]
    fn the_lowest_active_versions_beyond_the_kept_number_are_retired() {
        let plan = cpp_plan(&["1.0.0", "1.2.0", "1.1.0"]);
        assert_eq!(
            decided(&plan, &request("2.0.0", "new"), Some(2)).unwrap(),
            Decision::Add {
                retire: vec!["1.0.0".into(), "1.1.0".into()]
            }
        );
        // Deprecated versions are not counted, nor retired again; unset keeps everything.
        let mut plan = cpp_plan(&["1.0.0", "1.1.0", "1.2.0"]);
        plan.versions[0].active = false;
        assert_eq!(
            decided(&plan, &request("2.0.0", "new"), Some(2)).unwrap(),
            Decision::Add {
                retire: vec!["1.1.0".into()]
            }
        );
        assert_eq!(
            decided(&plan, &request("2.0.0", "new"), None).unwrap(),
            Decision::Add { retire: vec![] }
        );
        assert_eq!(retention(Api::Cpp, 8, Some(2)), Some(8));
        assert_eq!(retention(Api::ProductIngestion, 8, None), None);
        assert_eq!(retention(Api::ProductIngestion, 8, Some(3)), Some(3));
    }

    #[test]
    fn os_vhd_url_serves_a_plan_of_one_image_type_only() {
        let mut plan = cpp_plan(&["1.0.0"]);
        plan.image_types = vec!["x64Gen2".into()];
        let new = new_version(&request("1.1.0", "new"), &plan).unwrap();
        assert_eq!(new.images[0].image_type.as_deref(), Some("x64Gen2"));
        plan.image_types = vec!["x64Gen2".into(), "x64Gen1".into()];
        let err = new_version(&request("1.1.0", "new"), &plan).unwrap_err();
        assert_eq!(err.name, ErrorName::InvalidInput);
        assert!(err.message.contains("images"), "{err}");
    }

    #[test]
    fn images_must_match_the_plans_types_and_are_compared_per_type() {
        let mut plan = PlanVersions {
            versions: vec![VersionRecord {
                images: vec![
                    record("1.0.0", Some("x64Gen2"), "a", true).images.remove(0),
                    ImageRecord {
                        image_type: Some("x64Gen1".into()),
                        source: ImageSource::Gallery {
                            resource_id: "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0".into(),
                        },
                    },
                ],
                ..record("1.0.0", None, "a", true)
            }],
            image_types: vec!["x64Gen2".into(), "x64Gen1".into()],
            fixed_data_disks: false,
        };
        let mut both = request("1.0.0", "unused");
        both.os_vhd_url.clear();
        both.images = vec![
            ManifestImage {
                image_type: "x64Gen1".into(),
                os_vhd_url: None,
                lun_vhd_details: vec![],
                shared_image: Some(SharedImage {
                    tenant_id: "t".into(),
                    resource_id: "/SUBSCRIPTIONS/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0".into(),
                }),
            },
            ManifestImage {
                image_type: "x64Gen2".into(),
                os_vhd_url: Some(url("a").replace("sig=s-a", "sig=resigned")),
                lun_vhd_details: vec![],
                shared_image: None,
            },
        ];
        assert_eq!(
            decided(&plan, &both, None).unwrap(),
            Decision::AlreadyPresent
        );
        let mut one = both.clone();
        one.images.truncate(1);
        assert_eq!(
            decided(&plan, &one, None).unwrap_err().name,
            ErrorName::VersionConflict,
            "a version with fewer images is another version"
        );
        plan.image_types = vec!["x64Gen2".into()];
        let err = new_version(&both, &plan).unwrap_err();
        assert!(
            err.message
                .contains("images[0].imageType x64Gen1 has no SKU"),
            "{err}"
        );
    }

    #[test]
    fn a_preview_holding_the_image_is_recognised() {
        let plan = cpp_plan(&["1.0.0", "1.1.0"]);
        let holds_for = |r: PublishRequest| holds(&plan, &new_version(&r, &plan).unwrap());
        assert!(holds_for(request("1.1.0", "1.1.0")));
        assert!(!holds_for(request("1.1.0", "other")));
        assert!(!holds_for(request("1.2.0", "1.2.0")));
    }
}
