//! A plan's image versions, and the version a run adds, independent of how an API writes them.

use std::fmt;

use serde_json::Value;

use crate::marketplace::ImageVersion;
use crate::redact::redact_sas;

/// The image versions of one plan in one slot, lowest first.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PlanVersions {
    pub versions: Vec<VersionRecord>,
    /// The image types the plan has SKUs for (`x64Gen2`…); empty where the API has none (CPP).
    pub image_types: Vec<String>,
    /// Every version must have as many data disks as the others (CPP's rule).
    pub fixed_data_disks: bool,
}

impl PlanVersions {
    pub fn find(&self, version: ImageVersion) -> Option<&VersionRecord> {
        self.versions.iter().find(|v| v.version == version)
    }

    pub fn highest(&self) -> Option<&VersionRecord> {
        self.versions.iter().max_by_key(|v| v.version)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionRecord {
    pub version: ImageVersion,
    /// The version as the document writes it (`2019.01.05` keeps its zeros).
    pub key: String,
    pub images: Vec<ImageRecord>,
    /// Not deprecated: customers can still deploy it.
    pub active: bool,
}

#[derive(Clone, PartialEq, Eq)]
pub struct ImageRecord {
    /// `x64Gen1`, `x64Gen2`, `arm64Gen2`; `None` on CPP.
    pub image_type: Option<String>,
    pub source: ImageSource,
}

#[derive(Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// A VHD by SAS URL, with its data disks' SAS URLs by LUN order.
    Sas {
        os_url: String,
        data_disks: Vec<String>,
    },
    /// An Azure Compute Gallery image version.
    Gallery { resource_id: String },
    /// A form this pipeline does not read; never equal to a new image.
    Other,
}

impl fmt::Debug for ImageRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("ImageRecord");
        s.field("image_type", &self.image_type);
        match &self.source {
            ImageSource::Sas { os_url, data_disks } => s
                .field("os_url", &redact_sas(os_url))
                .field("data_disks", &data_disks.len()),
            ImageSource::Gallery { resource_id } => s.field("gallery", resource_id),
            ImageSource::Other => s.field("source", &"other"),
        };
        s.finish()
    }
}

/// The version a run adds: one image per image type.
#[derive(Clone, Debug, PartialEq)]
pub struct NewVersion {
    pub version: ImageVersion,
    pub images: Vec<NewImage>,
}

#[derive(Clone, PartialEq)]
pub struct NewImage {
    /// `None` on CPP, which has no image types.
    pub image_type: Option<String>,
    pub source: NewSource,
}

#[derive(Clone, PartialEq)]
pub enum NewSource {
    Sas {
        os_vhd_url: String,
        /// As the manifest gave them: `{"lun", "lunVhdUrl"}`.
        lun_vhd_details: Vec<Value>,
    },
    Gallery {
        tenant_id: String,
        resource_id: String,
    },
}

impl fmt::Debug for NewImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("NewImage");
        s.field("image_type", &self.image_type);
        match &self.source {
            NewSource::Sas {
                os_vhd_url,
                lun_vhd_details,
            } => s
                .field("os_vhd_url", &redact_sas(os_vhd_url))
                .field("data_disks", &lun_vhd_details.len()),
            NewSource::Gallery { resource_id, .. } => s.field("gallery", resource_id),
        };
        s.finish()
    }
}

/// The drafts of the plans a run adds the version to, read together so that one write carries
/// them all. The documents are the API's own (kept whole so that writing them back loses nothing);
/// only the adapter that read them reads them.
#[derive(Clone, PartialEq)]
pub struct Draft {
    /// In the order asked for.
    pub plans: Vec<PlanDraft>,
    /// The offer's document where the API writes the offer whole (CPP); `Null` otherwise.
    pub document: Value,
    /// What the API needs to write it back safely (an ETag on CPP).
    pub token: Option<String>,
}

#[derive(Clone, PartialEq)]
pub struct PlanDraft {
    pub plan: String,
    pub versions: PlanVersions,
    /// The plan's own document where the API writes plans one by one (Product Ingestion's
    /// technical configuration); `Null` otherwise.
    pub document: Value,
}

impl Draft {
    pub fn plan(&self, plan: &str) -> Option<&PlanDraft> {
        self.plans.iter().find(|p| p.plan == plan)
    }
}

impl fmt::Debug for Draft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Draft")
            .field("plans", &self.plans)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for PlanDraft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlanDraft")
            .field("plan", &self.plan)
            .field("versions", &self.versions)
            .finish_non_exhaustive()
    }
}

/// What one write does to one plan: add `new`, retire the versions keyed in `retire`.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanChange {
    pub plan: String,
    pub new: NewVersion,
    /// Removed where the API allows it (CPP, beyond its cap), else deprecated (Product Ingestion).
    pub retire: Vec<String>,
}
