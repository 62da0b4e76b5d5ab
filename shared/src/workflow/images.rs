//! The manifest's `images`: one image per image type, by SAS URL or from an Azure Compute Gallery.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::redact::redact_sas;
use crate::workflow::error::WorkflowError;

/// The image types a Product Ingestion plan can have SKUs for.
pub const IMAGE_TYPES: [&str; 3] = ["x64Gen1", "x64Gen2", "arm64Gen2"];
/// Product Ingestion takes data disks at LUNs 0 to 15.
const MAX_DATA_DISKS: usize = 16;

/// One entry of `images`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManifestImage {
    pub image_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_vhd_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lun_vhd_details: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_image: Option<SharedImage>,
}

/// An Azure Compute Gallery image version, which Product Ingestion takes in place of a SAS URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SharedImage {
    pub tenant_id: String,
    pub resource_id: String,
}

impl fmt::Debug for ManifestImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManifestImage")
            .field("image_type", &self.image_type)
            .field("os_vhd_url", &self.os_vhd_url.as_deref().map(redact_sas))
            .field("data_disks", &self.lun_vhd_details.len())
            .field("shared_image", &self.shared_image)
            .finish()
    }
}

/// Each entry names a known image type once and exactly one source.
pub fn check_images(images: &[ManifestImage]) -> Result<(), WorkflowError> {
    for (i, image) in images.iter().enumerate() {
        let field = |name: &str| format!("images[{i}].{name}");
        let problem = |field: String, problem: &str| {
            WorkflowError::invalid_input(format!("{field} {problem}"))
        };
        if !IMAGE_TYPES.contains(&image.image_type.as_str()) {
            return Err(problem(
                field("imageType"),
                &format!(
                    "{:?} is not an image type (one of {})",
                    image.image_type,
                    IMAGE_TYPES.join(", ")
                ),
            ));
        }
        if images[..i].iter().any(|e| e.image_type == image.image_type) {
            return Err(problem(
                field("imageType"),
                &format!("{} is given twice; one image per type", image.image_type),
            ));
        }
        match (&image.os_vhd_url, &image.shared_image) {
            (Some(_), Some(_)) => {
                return Err(problem(
                    format!("images[{i}]"),
                    "has both osVhdUrl and sharedImage; give one",
                ));
            }
            (None, None) => {
                return Err(problem(
                    format!("images[{i}]"),
                    "needs osVhdUrl (a SAS URL) or sharedImage (a gallery image version)",
                ));
            }
            (None, Some(gallery)) => {
                if !image.lun_vhd_details.is_empty() {
                    return Err(problem(
                        field("lunVhdDetails"),
                        "goes with osVhdUrl; a gallery image carries its own data disks",
                    ));
                }
                if gallery.tenant_id.trim().is_empty() {
                    return Err(problem(field("sharedImage.tenantId"), "is empty"));
                }
                // Azure resource ids are case-insensitive.
                let id = gallery.resource_id.to_ascii_lowercase();
                if !id.starts_with("/subscriptions/") || !id.contains("/galleries/") {
                    return Err(problem(
                        field("sharedImage.resourceId"),
                        "must be a gallery image version id (/subscriptions/…/galleries/…/images/…/versions/…)",
                    ));
                }
            }
            (Some(_), None) => {
                if image.lun_vhd_details.len() > MAX_DATA_DISKS {
                    return Err(problem(
                        field("lunVhdDetails"),
                        &format!("has more than {MAX_DATA_DISKS} data disks"),
                    ));
                }
                if let Some(bad) = image.lun_vhd_details.iter().position(|d| !d.is_object()) {
                    return Err(problem(
                        field(&format!("lunVhdDetails[{bad}]")),
                        "must be an object",
                    ));
                }
            }
        }
    }
    Ok(())
}
