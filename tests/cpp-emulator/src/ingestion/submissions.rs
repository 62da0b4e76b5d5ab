//! The submissions list of a product: the draft reference, one preview entry, one (or two) live.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::products::{SUBMISSION_SCHEMA, Target};
use super::settings::LiveModel;
use crate::timefmt::wire_time;

/// One preview or live entry of `GET submission/{P}`.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The decimal `N` of `submission/{P}/{N}` (> 2^53, so always a string on the wire).
    pub id: String,
    pub target: Target,
    /// `running` or `completed`.
    pub status: &'static str,
    /// `pending`, `succeeded` or `failed`.
    pub result: &'static str,
    pub created: OffsetDateTime,
    /// Reads of the list that still miss this entry (Q27).
    pub hidden_reads: u32,
    /// What those reads show instead (the entry this one replaced).
    pub shadow: Option<Box<Entry>>,
}

impl Entry {
    pub(crate) fn new(id: String, target: Target, created: OffsetDateTime, hidden: u32) -> Self {
        Self {
            id,
            target,
            status: "running",
            result: "pending",
            created,
            hidden_reads: hidden,
            shadow: None,
        }
    }

    pub(crate) fn is_running(&self) -> bool {
        self.status != "completed"
    }

    pub(crate) fn finish(&mut self, result: &'static str) {
        self.status = "completed";
        self.result = result;
    }

    fn render(&self, product: &str) -> Value {
        json!({
            "$schema": SUBMISSION_SCHEMA,
            "id": format!("submission/{product}/{}", self.id),
            "product": format!("product/{product}"),
            "target": { "targetType": self.target.name() },
            "status": self.status,
            "result": self.result,
            "created": wire_time(self.created),
            "lifecycleState": "generallyAvailable",
        })
    }

    /// The entry as a read still lagging behind shows it, or None when that read shows nothing.
    fn visible(&self) -> Option<&Entry> {
        if self.hidden_reads == 0 {
            Some(self)
        } else {
            self.shadow.as_deref().and_then(Entry::visible)
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Submissions {
    pub preview: Option<Entry>,
    /// The completed live submission.
    pub live: Option<Entry>,
    /// A go-live in progress (becomes `live` when it ends).
    pub going_live: Option<Entry>,
}

/// `submission/{P}/0`: the draft reference, never with a status.
pub(crate) fn draft_entry(product: &str) -> Value {
    json!({
        "$schema": SUBMISSION_SCHEMA,
        "id": format!("submission/{product}/0"),
        "product": format!("product/{product}"),
        "target": { "targetType": "draft" },
        "lifecycleState": "generallyAvailable",
    })
}

impl Submissions {
    /// The id of a running preview or go-live, which blocks every other submission.
    pub(crate) fn running(&self) -> Option<&str> {
        [&self.preview, &self.going_live]
            .into_iter()
            .flatten()
            .find(|e| e.is_running())
            .map(|e| e.id.as_str())
    }

    /// The list as a client reads it; each read uses up one hidden read of every new entry.
    pub(crate) fn read(&mut self, product: &str, model: LiveModel) -> Vec<Value> {
        let list = self.render(product, model, false);
        for entry in [&mut self.preview, &mut self.going_live]
            .into_iter()
            .flatten()
        {
            entry.hidden_reads = entry.hidden_reads.saturating_sub(1);
            if entry.hidden_reads == 0 {
                entry.shadow = None;
            }
        }
        list
    }

    /// `all: false` renders what the next read sees; `true` (control state) shows every entry.
    pub(crate) fn render(&self, product: &str, model: LiveModel, all: bool) -> Vec<Value> {
        fn pick(e: &Entry, all: bool) -> Option<&Entry> {
            if all { Some(e) } else { e.visible() }
        }
        let mut list = vec![draft_entry(product)];
        list.extend(
            self.preview
                .as_ref()
                .and_then(|e| pick(e, all))
                .map(|e| e.render(product)),
        );
        let going = self.going_live.as_ref().and_then(|e| pick(e, all));
        if going.is_none() || model == LiveModel::TwoEntries {
            list.extend(self.live.as_ref().map(|e| e.render(product)));
        }
        list.extend(going.map(|e| e.render(product)));
        list
    }

    /// `GET submission/{P}/{N}`: the newest entry with that id (lag does not apply).
    pub(crate) fn find(&self, product: &str, n: &str) -> Option<Value> {
        if n == "0" {
            return Some(draft_entry(product));
        }
        [&self.going_live, &self.live, &self.preview]
            .into_iter()
            .flatten()
            .find(|e| e.id == n)
            .map(|e| e.render(product))
    }

    /// The `submission` entry a resource tree of `target` carries.
    pub(crate) fn tree_entry(&self, product: &str, target: Target) -> Value {
        let entry = match target {
            Target::Draft => None,
            Target::Preview => self.preview.as_ref(),
            Target::Live => self.live.as_ref(),
        };
        entry.map_or_else(|| draft_entry(product), |e| e.render(product))
    }

    pub(crate) fn start_preview(&mut self, id: String, now: OffsetDateTime, hidden: u32) {
        let mut entry = Entry::new(id, Target::Preview, now, hidden);
        entry.shadow = self.preview.take().map(|mut old| {
            // Only one read-lag level: the replaced entry is shown as it is now.
            old.shadow = None;
            old.hidden_reads = 0;
            Box::new(old)
        });
        self.preview = Some(entry);
    }

    pub(crate) fn finish_preview(&mut self, id: &str, result: &'static str) {
        if let Some(entry) = self.preview.as_mut().filter(|e| e.id == id) {
            entry.finish(result);
        }
    }

    pub(crate) fn start_live(&mut self, id: String, now: OffsetDateTime, hidden: u32) {
        self.going_live = Some(Entry::new(id, Target::Live, now, hidden));
    }

    /// A finished go-live replaces the live entry; a cancelled one (`ok: false`) just disappears.
    pub(crate) fn finish_live(&mut self, ok: bool) {
        if let Some(mut entry) = self.going_live.take().filter(|_| ok) {
            entry.finish("succeeded");
            entry.hidden_reads = 0;
            self.live = Some(entry);
        }
    }
}
