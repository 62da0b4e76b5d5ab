//! Publishers and offers: the stored draft, its ETag, published snapshots, slots and operations.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::config::EmulatorConfig;
use crate::error::ApiError;
use crate::operations::{FailMark, OpKind, OpView, Operation};
use crate::timefmt::{etag_for, wire_time};

/// Fields the server owns: ignored when a client sends them back, added when it reads.
const SERVER_FIELDS: [&str; 6] = ["status", "version", "changedTime", "eTag", "etag", "ETag"];

/// A frozen copy of the draft, as published (versions/{n}, preview and production slots).
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub doc: Value,
    pub version: u64,
    pub changed: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub(crate) struct Offer {
    /// The draft exactly as the client sent it, minus server fields.
    pub doc: Value,
    pub etag: String,
    pub changed: OffsetDateTime,
    /// Starts at 1, +1 after each publish.
    pub version: u64,
    pub versions: BTreeMap<u64, Snapshot>,
    pub preview: Option<Snapshot>,
    pub production: Option<Snapshot>,
    /// Oldest first.
    pub ops: Vec<Operation>,
    /// Failure marks waiting for an operation that runs their step.
    pub pending_failures: Vec<FailMark>,
}

#[derive(Debug, Clone)]
pub(crate) struct Publisher {
    pub id: String,
    pub display_text: String,
    pub seller_id: u64,
    pub offers: BTreeMap<String, Offer>,
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    publishers: BTreeMap<String, Publisher>,
    last_stamp: Option<OffsetDateTime>,
    op_seq: u64,
}

/// Removes server-owned fields so they never override the server's values.
pub(crate) fn strip_server_fields(mut doc: Value) -> Value {
    if let Some(map) = doc.as_object_mut() {
        for key in SERVER_FIELDS {
            map.shift_remove(key);
        }
    }
    doc
}

fn with_server_fields(doc: &Value, status: &str, version: u64, changed: OffsetDateTime) -> Value {
    let mut map = doc.as_object().cloned().unwrap_or_else(Map::new);
    map.insert("status".into(), json!(status));
    map.insert("version".into(), json!(version));
    map.insert("changedTime".into(), json!(wire_time(changed)));
    Value::Object(map)
}

impl Offer {
    pub(crate) fn new(doc: Value, stamp: OffsetDateTime) -> Self {
        Self {
            doc: strip_server_fields(doc),
            etag: etag_for(stamp),
            changed: stamp,
            version: 1,
            versions: BTreeMap::new(),
            preview: None,
            production: None,
            ops: Vec::new(),
            pending_failures: Vec::new(),
        }
    }

    pub(crate) fn replace_draft(&mut self, doc: Value, stamp: OffsetDateTime) {
        self.doc = strip_server_fields(doc);
        self.etag = etag_for(stamp);
        self.changed = stamp;
    }

    pub(crate) fn latest(&self) -> Option<&Operation> {
        self.ops.last()
    }

    /// Offer status: the latest operation's, or `neverPublished`.
    pub(crate) fn status(&self, now: OffsetDateTime, cfg: &EmulatorConfig) -> String {
        self.latest().map_or_else(
            || "neverPublished".to_owned(),
            |op| op.view(now, cfg).status,
        )
    }

    pub(crate) fn render_draft(&self, now: OffsetDateTime, cfg: &EmulatorConfig) -> Value {
        with_server_fields(
            &self.doc,
            &self.status(now, cfg),
            self.version,
            self.changed,
        )
    }

    pub(crate) fn render_snapshot(
        &self,
        snapshot: &Snapshot,
        now: OffsetDateTime,
        cfg: &EmulatorConfig,
    ) -> Value {
        with_server_fields(
            &snapshot.doc,
            &self.status(now, cfg),
            snapshot.version,
            snapshot.changed,
        )
    }

    /// draft | preview | production, case-insensitive; None when the slot was never filled.
    pub(crate) fn render_slot(
        &self,
        slot: &str,
        now: OffsetDateTime,
        cfg: &EmulatorConfig,
    ) -> Result<Option<Value>, ApiError> {
        match slot.to_ascii_lowercase().as_str() {
            "draft" => Ok(Some(self.render_draft(now, cfg))),
            "preview" => Ok(self
                .preview
                .as_ref()
                .map(|s| self.render_snapshot(s, now, cfg))),
            "production" => Ok(self
                .production
                .as_ref()
                .map(|s| self.render_snapshot(s, now, cfg))),
            other => Err(ApiError::bad_request(format!(
                "Invalid slot '{other}'. Allowed values are [Draft, Preview, Production]"
            ))),
        }
    }

    pub(crate) fn summary(
        &self,
        id: &str,
        publisher: &str,
        now: OffsetDateTime,
        cfg: &EmulatorConfig,
    ) -> Value {
        json!({
            "offerTypeId": self.doc.get("offerTypeId").cloned().unwrap_or(Value::Null),
            "publisherId": publisher,
            "status": self.status(now, cfg),
            "id": id,
            "version": self.version,
            "definition": {
                "displayText": self.doc.pointer("/definition/displayText").cloned().unwrap_or(Value::Null),
            },
            "changedTime": wire_time(self.changed),
        })
    }

    pub(crate) fn op(&self, id: &str) -> Option<&Operation> {
        self.ops
            .iter()
            .find(|op| op.id.to_string().eq_ignore_ascii_case(id))
    }

    /// Newest operation still running (a go-live runs while its publish waits at sign-off).
    pub(crate) fn running_index(&self, now: OffsetDateTime, cfg: &EmulatorConfig) -> Option<usize> {
        self.ops.iter().rposition(|op| op.view(now, cfg).running)
    }

    /// Operations newest first with their views, for the submissions list.
    pub(crate) fn views_newest_first(
        &self,
        now: OffsetDateTime,
        cfg: &EmulatorConfig,
    ) -> Vec<(&Operation, OpView)> {
        self.ops
            .iter()
            .rev()
            .map(|op| (op, op.view(now, cfg)))
            .collect()
    }

    /// Makes time-driven effects real: the preview slot at sign-off, production at the end of go-live.
    pub(crate) fn settle(&mut self, now: OffsetDateTime, cfg: &EmulatorConfig) {
        let mut completed_golives = Vec::new();
        for op in &mut self.ops {
            if op.slot_applied {
                continue;
            }
            let view = op.view(now, cfg);
            match op.kind {
                OpKind::Publish if view.reached_signoff => {
                    self.preview = Some(op.snapshot.clone());
                    op.slot_applied = true;
                }
                OpKind::GoLive if view.succeeded => {
                    self.production = Some(op.snapshot.clone());
                    op.slot_applied = true;
                    completed_golives.push((op.parent, op.created, op.created + cfg.steps.go_live));
                }
                _ => {}
            }
        }
        for (parent, start, end) in completed_golives {
            if let Some(publish) = self.ops.iter_mut().find(|op| Some(op.id) == parent) {
                publish.golive = Some((start, end));
            }
        }
    }

    /// Marks a step to fail: on the running operation that has yet to finish it, else on the next one.
    pub(crate) fn mark_failure(
        &mut self,
        mark: FailMark,
        now: OffsetDateTime,
        cfg: &EmulatorConfig,
    ) {
        let target = self.ops.iter_mut().rev().find(|op| {
            op.kind.runs_step(mark.step)
                && op.view(now, cfg).running
                && op.step_still_ahead(mark.step, now, &cfg.steps)
        });
        match target {
            Some(op) => op.failure = Some(mark),
            None => self.pending_failures.push(mark),
        }
    }

    /// Hands a pending failure mark to a new operation that runs its step.
    pub(crate) fn take_pending_failure(&mut self, kind: OpKind) -> Option<FailMark> {
        let index = self
            .pending_failures
            .iter()
            .position(|m| kind.runs_step(m.step))?;
        Some(self.pending_failures.remove(index))
    }
}

impl Store {
    /// A write time unique across the store, so ETags change even when the clock is frozen.
    pub(crate) fn stamp(&mut self, now: OffsetDateTime) -> OffsetDateTime {
        let stamp = match self.last_stamp {
            Some(last) if now <= last => last + time::Duration::nanoseconds(100),
            _ => now,
        };
        self.last_stamp = Some(stamp);
        stamp
    }

    /// Ticks for a new submission `version`, unique even with a frozen clock.
    pub(crate) fn next_ticks(&mut self, now: OffsetDateTime) -> i64 {
        self.op_seq += 1;
        let ticks = crate::timefmt::dotnet_ticks(now) + i128::from(self.op_seq);
        i64::try_from(ticks).unwrap_or(i64::MAX)
    }

    pub(crate) fn settle(&mut self, now: OffsetDateTime, cfg: &EmulatorConfig) {
        for publisher in self.publishers.values_mut() {
            for offer in publisher.offers.values_mut() {
                offer.settle(now, cfg);
            }
        }
    }

    pub(crate) fn publishers(&self) -> impl Iterator<Item = &Publisher> {
        self.publishers.values()
    }

    pub(crate) fn publisher(&self, id: &str) -> Result<&Publisher, ApiError> {
        self.publishers.get(id).ok_or_else(|| forbidden(id))
    }

    pub(crate) fn publisher_mut(&mut self, id: &str) -> Result<&mut Publisher, ApiError> {
        self.publishers.get_mut(id).ok_or_else(|| forbidden(id))
    }

    pub(crate) fn offer(&self, publisher: &str, offer: &str) -> Result<&Offer, ApiError> {
        self.publisher(publisher)?
            .offers
            .get(offer)
            .ok_or_else(|| offer_not_found(offer))
    }

    pub(crate) fn offer_mut(
        &mut self,
        publisher: &str,
        offer: &str,
    ) -> Result<&mut Offer, ApiError> {
        self.publisher_mut(publisher)?
            .offers
            .get_mut(offer)
            .ok_or_else(|| offer_not_found(offer))
    }

    /// Creates the publisher if needed and replaces the offer with a fresh, never-published one.
    pub(crate) fn seed(&mut self, doc: Value, now: OffsetDateTime) -> Result<(), String> {
        let field = |name: &str| {
            doc.get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| format!("the seeded offer needs a non-empty string `{name}`"))
        };
        let publisher_id = field("publisherId")?;
        let offer_id = field("id")?;
        let stamp = self.stamp(now);
        let seller_id = 1_234_456 + self.publishers.len() as u64;
        let publisher = self
            .publishers
            .entry(publisher_id.clone())
            .or_insert_with(|| Publisher {
                display_text: display_name(&publisher_id),
                id: publisher_id,
                seller_id,
                offers: BTreeMap::new(),
            });
        publisher.offers.insert(offer_id, Offer::new(doc, stamp));
        Ok(())
    }
}

impl Publisher {
    pub(crate) fn to_json(&self) -> Value {
        let mut categories: Vec<&str> = self
            .offers
            .values()
            .filter_map(|o| o.doc.get("offerTypeId").and_then(Value::as_str))
            .collect();
        categories.sort_unstable();
        categories.dedup();
        json!({
            "version": 0,
            "id": self.id,
            "definition": {
                "displayText": self.display_text,
                "offerTypeCategories": categories,
                "sellerId": self.seller_id,
            }
        })
    }
}

fn display_name(id: &str) -> String {
    let mut chars = id.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn forbidden(publisher: &str) -> ApiError {
    ApiError::forbidden(format!(
        "The client does not have access to publisher '{publisher}'."
    ))
}

fn offer_not_found(offer: &str) -> ApiError {
    ApiError::not_found(format!("Offer '{offer}' was not found."))
}
