//! The Product Ingestion knobs: paging, shuffling, submission models and job durations.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How the submissions list shows a go-live in progress (§7.5(c) vs SUSE's §7.5(d)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LiveModel {
    /// One live entry: the new id, `running/pending` while going live.
    #[default]
    Single,
    /// The old live entry stays `completed/succeeded` next to the new `running/pending` one.
    TwoEntries,
}

/// Product Ingestion settings; `Default` is the documented behaviour (shuffled trees, one live entry).
#[derive(Debug, Clone, PartialEq)]
pub struct IngestionSettings {
    /// Largest page of `GET product` / `GET plan` (`$maxpagesize` can only lower it).
    pub page_size: usize,
    /// Resources of a resource tree come in a different order on every read (Q11).
    pub shuffle_resources: bool,
    /// Shape of the submissions list during a go-live.
    pub live_model: LiveModel,
    /// A new preview/live entry is missing from this many `GET submission/{P}` reads (Q27).
    pub submission_visibility_delay_reads: u32,
    /// REAL time a draft-only job takes (clients wait for it inside one invocation).
    pub draft_job_delay: Duration,
    /// Virtual time a preview submission job runs (validation + certification).
    pub certification_duration: Duration,
    /// Virtual time a live submission job runs.
    pub go_live_duration: Duration,
}

impl Default for IngestionSettings {
    fn default() -> Self {
        Self {
            page_size: 1000,
            shuffle_resources: true,
            live_model: LiveModel::Single,
            submission_visibility_delay_reads: 0,
            draft_job_delay: Duration::from_secs(2),
            certification_duration: Duration::from_secs(3 * 86_400),
            go_live_duration: Duration::from_secs(86_400),
        }
    }
}

/// The JSON of `/_emulator/ingestion/settings`; on POST every field is optional and merged.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SettingsWire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    page_size: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shuffle_resources: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    live_model: Option<LiveModel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    submission_visibility_delay_reads: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    draft_job_delay_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    certification_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    go_live_seconds: Option<u64>,
}

impl From<&IngestionSettings> for SettingsWire {
    fn from(s: &IngestionSettings) -> Self {
        let millis = u64::try_from(s.draft_job_delay.as_millis()).unwrap_or(u64::MAX);
        Self {
            page_size: Some(s.page_size),
            shuffle_resources: Some(s.shuffle_resources),
            live_model: Some(s.live_model),
            submission_visibility_delay_reads: Some(s.submission_visibility_delay_reads),
            draft_job_delay_ms: Some(millis),
            certification_seconds: Some(s.certification_duration.as_secs()),
            go_live_seconds: Some(s.go_live_duration.as_secs()),
        }
    }
}

impl SettingsWire {
    /// Applies the fields that are set; a page size of 0 would never end a listing, so it is refused.
    pub(crate) fn merge_into(self, s: &mut IngestionSettings) -> Result<(), String> {
        if self.page_size == Some(0) {
            return Err("pageSize must be at least 1.".to_owned());
        }
        if let Some(v) = self.page_size {
            s.page_size = v;
        }
        if let Some(v) = self.shuffle_resources {
            s.shuffle_resources = v;
        }
        if let Some(v) = self.live_model {
            s.live_model = v;
        }
        if let Some(v) = self.submission_visibility_delay_reads {
            s.submission_visibility_delay_reads = v;
        }
        if let Some(v) = self.draft_job_delay_ms {
            s.draft_job_delay = Duration::from_millis(v);
        }
        if let Some(v) = self.certification_seconds {
            s.certification_duration = Duration::from_secs(v);
        }
        if let Some(v) = self.go_live_seconds {
            s.go_live_duration = Duration::from_secs(v);
        }
        Ok(())
    }
}
