//! `POST configure`: resolving resources to one product, then starting a draft, preview or live job.

use std::time::Instant;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::Ingestion;
use super::error::PiError;
use super::jobs::{Change, Job, JobKind, Work};
use super::products::{Product, TECH_CONFIG, id_of, type_of_id};
use super::techconfig::{Published, check, job_error, shown, still_blocks};
use super::validate::Incoming;

/// A reference (`product`, `plan`): a durable-id string or `{"externalId": ..}`.
enum Ref<'a> {
    Durable(&'a str),
    External(&'a str),
}

fn reference<'a>(value: Option<&'a Value>) -> Option<Ref<'a>> {
    match value? {
        Value::String(id) => Some(Ref::Durable(id)),
        Value::Object(map) => map
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("externalId"))
            .and_then(|(_, v)| v.as_str())
            .map(Ref::External),
        _ => None,
    }
}

fn not_found(what: &str) -> PiError {
    PiError::bad_request(format!("The resource {what} could not be found."))
        .with_detail("resourceNotFound", format!("{what} does not exist"))
}

/// `value` with `id` first after `$schema` and the references as durable ids, as the server stores it.
fn normalised(value: &Value, id: &str, refs: &[(&str, String)]) -> Value {
    let mut out = Map::new();
    if let Some(schema) = value.get("$schema") {
        out.insert("$schema".to_owned(), schema.clone());
    }
    out.insert("id".to_owned(), json!(id));
    if let Some(map) = value.as_object() {
        for (key, v) in map {
            let replaced = refs.iter().find(|(k, _)| k == key).map(|(_, r)| json!(r));
            out.entry(key.clone())
                .or_insert(replaced.unwrap_or_else(|| v.clone()));
        }
    }
    Value::Object(out)
}

impl Product {
    /// Writes the changes to the draft, all or nothing; tech-configs pass the rules of techconfig.rs.
    pub(crate) fn apply(&mut self, changes: &[Change]) -> Result<Vec<Value>, Value> {
        let mut draft = self.draft.clone();
        let mut written = Vec::new();
        for change in changes {
            let stored = if type_of_id(&change.id) == TECH_CONFIG {
                let published =
                    Published::of([self.preview.as_ref(), self.live.as_ref()], &change.id);
                let blocked: Vec<_> = self
                    .blocked
                    .iter()
                    .filter(|b| b.tech_config == change.id)
                    .collect();
                check(&change.value, &published, &blocked)
                    .map_err(|message| job_error(&change.id, &change.name, message))?
            } else {
                change.value.clone()
            };
            match draft
                .iter_mut()
                .find(|r| id_of(r) == Some(change.id.as_str()))
            {
                Some(slot) => *slot = stored.clone(),
                None => draft.push(stored.clone()),
            }
            written.push(stored);
        }
        self.draft = draft;
        let draft = &self.draft;
        self.blocked.retain(|b| still_blocks(b, draft));
        Ok(written)
    }
}

/// §7.4(e): another submission is running.
fn in_progress(resource_id: &str, running: &str) -> Value {
    json!({
        "resourceId": resource_id,
        "code": "internalServerError",
        "message": format!("An In Progress submission {running} already exists."),
        "details": [],
    })
}

fn conflict(resource_id: &str, message: &str) -> Value {
    json!({ "resourceId": resource_id, "code": "conflict", "message": message, "details": [] })
}

impl Ingestion {
    fn product_of(&self, incoming: &Incoming) -> Result<usize, PiError> {
        let guid = match (
            id_of(&incoming.value),
            reference(incoming.value.get("product")),
        ) {
            (Some(id), _) => id.split('/').nth(1).unwrap_or("").to_owned(),
            (None, Some(Ref::Durable(id))) => id.strip_prefix("product/").unwrap_or(id).to_owned(),
            (None, Some(Ref::External(external))) => self
                .products
                .iter()
                .find(|p| p.external_id.eq_ignore_ascii_case(external))
                .map(|p| p.id.clone())
                .ok_or_else(|| not_found(&format!("product with externalId '{external}'")))?,
            (None, None) => return Err(not_found("product reference")),
        };
        self.products
            .iter()
            .position(|p| p.id == guid)
            .ok_or_else(|| not_found(&format!("product/{guid}")))
    }

    /// The draft resource a non-submission resource replaces, normalised.
    fn change_for(product: &Product, incoming: &Incoming, name: String) -> Result<Change, PiError> {
        let p = &product.id;
        let refs;
        let id = if incoming.kind == TECH_CONFIG {
            let plan = match (
                id_of(&incoming.value),
                reference(incoming.value.get("plan")),
            ) {
                (Some(id), _) => id.rsplit('/').next().unwrap_or("").to_owned(),
                (None, Some(Ref::Durable(plan))) => {
                    plan.rsplit('/').next().unwrap_or("").to_owned()
                }
                (None, Some(Ref::External(e))) => product
                    .plan_by_external_id(e)
                    .ok_or_else(|| not_found(&format!("plan with externalId '{e}'")))?,
                (None, None) => return Err(not_found("plan reference")),
            };
            if product
                .draft_resource(&format!("plan/{p}/{plan}"))
                .is_none()
            {
                return Err(not_found(&format!("plan/{p}/{plan}")));
            }
            refs = vec![
                ("product", format!("product/{p}")),
                ("plan", format!("plan/{p}/{plan}")),
            ];
            format!("{TECH_CONFIG}/{p}/{plan}")
        } else {
            let id = id_of(&incoming.value).unwrap_or("").to_owned();
            if product.draft_resource(&id).is_none() {
                return Err(not_found(&id));
            }
            refs = Vec::new();
            id
        };
        Ok(Change {
            value: normalised(&incoming.value, &id, &refs),
            id,
            name,
        })
    }

    /// Creates the job of a checked configure body; returns its index.
    pub(crate) fn configure(
        &mut self,
        resources: Vec<Incoming>,
        now: OffsetDateTime,
    ) -> Result<usize, PiError> {
        let mut product_index = None;
        for incoming in &resources {
            let index = self.product_of(incoming)?;
            if product_index.is_some_and(|i| i != index) {
                return Err(PiError::bad_request(
                    "All resources of a configure request must belong to one product.",
                ));
            }
            product_index = Some(index);
        }
        let index = product_index.ok_or_else(|| PiError::bad_request("No resources."))?;
        let mut submission = None;
        let mut changes = Vec::new();
        let mut counts: Vec<(String, usize)> = Vec::new();
        for incoming in resources {
            if incoming.kind == "submission" {
                if submission.replace(incoming.value).is_some() {
                    return Err(PiError::bad_request(
                        "A configure request can carry one submission resource.",
                    ));
                }
                continue;
            }
            let n = match counts.iter_mut().find(|(k, _)| *k == incoming.kind) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    counts.push((incoming.kind.clone(), 0));
                    0
                }
            };
            let name = format!("{}-{n}", incoming.kind);
            let product = self
                .products
                .get(index)
                .ok_or_else(|| not_found("product"))?;
            changes.push(Self::change_for(product, &incoming, name)?);
        }
        let (kind, work, duration) = match submission {
            None => (
                JobKind::Draft,
                Work::Draft(changes),
                self.settings.draft_job_delay,
            ),
            Some(sub) => self.start_submission(index, &sub, changes, now)?,
        };
        let real_delay = matches!(work, Work::Draft(_) | Work::Fail(_));
        let product = self
            .products
            .get(index)
            .map(|p| p.id.clone())
            .unwrap_or_default();
        self.jobs.push(Job {
            id: Uuid::new_v4().to_string(),
            product,
            kind,
            start: now,
            due: now + duration,
            due_real: real_delay.then(|| Instant::now() + duration),
            end: None,
            result: "pending",
            errors: Vec::new(),
            work,
            written: Vec::new(),
        });
        Ok(self.jobs.len() - 1)
    }

    /// The checks and effects at the start of a submission job (rules 7.6.3 and 7.6.4).
    fn start_submission(
        &mut self,
        index: usize,
        sub: &Value,
        changes: Vec<Change>,
        now: OffsetDateTime,
    ) -> Result<(JobKind, Work, std::time::Duration), PiError> {
        let hidden = self.settings.submission_visibility_delay_reads;
        let quick = self.settings.draft_job_delay;
        let (certification, go_live) = (
            self.settings.certification_duration,
            self.settings.go_live_duration,
        );
        let next = self.next_submission;
        let product = self
            .products
            .get_mut(index)
            .ok_or_else(|| not_found("product"))?;
        let p = product.id.clone();
        let target = sub.pointer("/target/targetType").and_then(Value::as_str);
        let n = id_of(sub).map(|id| id.rsplit('/').next().unwrap_or("").to_owned());
        let fail = |kind, errors| Ok((kind, Work::Fail(errors), quick));
        if target == Some("live") {
            let n = n.filter(|n| n != "0").ok_or_else(|| {
                PiError::bad_request("A live submission needs the id of its preview submission.")
            })?;
            let resource_id = format!("submission/{p}/{n}");
            if !changes.is_empty() {
                return Err(PiError::bad_request(
                    "Modular publish is not supported for live.",
                ));
            }
            if let Some(running) = product.submissions.running() {
                return fail(JobKind::Live, vec![in_progress(&resource_id, running)]);
            }
            let latest = product.submissions.preview.as_ref();
            if latest.is_none_or(|e| e.id != n || e.result != "succeeded") {
                let message =
                    "The submission cannot be pushed to live as its not the latest submission.";
                return fail(JobKind::Live, vec![conflict(&resource_id, message)]);
            }
            if product.submissions.live.as_ref().is_some_and(|e| e.id == n) {
                let message = format!("The submission {n} is already live.");
                return fail(JobKind::Live, vec![conflict(&resource_id, &message)]);
            }
            product.submissions.start_live(n.clone(), now, hidden);
            return Ok((JobKind::Live, Work::Live { submission: n }, go_live));
        }
        if n.as_deref().is_some_and(|n| n != "0") {
            return Err(PiError::bad_request(
                "A preview submission takes no id (or the draft entry's id submission/{P}/0).",
            ));
        }
        let resource_id = format!("submission/{p}/0");
        if let Some(running) = product.submissions.running() {
            return fail(JobKind::Preview, vec![in_progress(&resource_id, running)]);
        }
        if let Err(error) = product.apply(&changes) {
            return fail(JobKind::Preview, vec![error]);
        }
        if let Some(pending) = product.blocked.first() {
            let kinds: Vec<String> = super::techconfig::image_types(&pending.content)
                .into_iter()
                .map(shown)
                .collect();
            let message = format!(
                "Image '{}' of type '{}' is pending publish after submission {} failed certification; remove it from the draft (or replace its image) before publishing again.",
                pending.version,
                kinds.join("', '"),
                pending.submission
            );
            let error = json!({
                "resourceId": resource_id,
                "code": "badRequest",
                "message": message,
                "details": [{ "code": "businessValidationError", "message": format!("{} is pending publish", pending.version) }],
            });
            return fail(JobKind::Preview, vec![error]);
        }
        let fail_certification = product.certification_failures > 0;
        product.certification_failures = product.certification_failures.saturating_sub(1);
        let id = next.to_string();
        product.submissions.start_preview(id.clone(), now, hidden);
        let snapshot = product.draft.clone();
        self.next_submission += 1_000_003;
        Ok((
            JobKind::Preview,
            Work::Preview {
                submission: id,
                snapshot,
                fail_certification,
            },
            certification,
        ))
    }
}
