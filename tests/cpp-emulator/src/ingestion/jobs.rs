//! Configure jobs: the status document (§2.5, §7.4) and how each kind ends, on the real clock
//! (draft jobs) or the virtual one (submissions).

use std::time::Instant;

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::Ingestion;
use super::products::Product;
use super::techconfig::{Published, new_versions};
use crate::timefmt::wire_time;

const STATUS_SCHEMA: &str = "https://schema.mp.microsoft.com/schema/configure-status/2022-07-01";
const DETAIL_SCHEMA: &str = "https://schema.mp.microsoft.com/schema/configure/2022-07-01";
/// What an unfinished job reports as `jobEnd` (no offset, Q17).
const NO_END: &str = "0001-01-01T00:00:00";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobKind {
    Draft,
    Preview,
    Live,
}

impl JobKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Preview => "preview",
            Self::Live => "live",
        }
    }
}

/// A resource a job writes to the draft, with the name errors give it (`<type>-<index>`).
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub id: String,
    pub name: String,
    pub value: Value,
}

/// What happens when the job's time is up.
#[derive(Debug, Clone)]
pub(crate) enum Work {
    /// Apply the changes to the draft (checked then, against what is published then).
    Draft(Vec<Change>),
    /// Decided when the job was created; reported when it ends.
    Fail(Vec<Value>),
    /// Certification of `snapshot` as preview submission `submission`.
    Preview {
        submission: String,
        snapshot: Vec<Value>,
        fail_certification: bool,
    },
    /// Preview submission `submission` goes live.
    Live { submission: String },
}

#[derive(Debug)]
pub(crate) struct Job {
    pub id: String,
    pub product: String,
    pub kind: JobKind,
    pub start: OffsetDateTime,
    /// Ends at this virtual time, or at `due_real` if that comes first.
    pub due: OffsetDateTime,
    pub due_real: Option<Instant>,
    pub end: Option<OffsetDateTime>,
    pub result: &'static str,
    pub errors: Vec<Value>,
    pub work: Work,
    /// The resources written, for `GET configure/{jobId}`.
    pub written: Vec<Value>,
}

impl Job {
    pub(crate) fn finished(&self) -> bool {
        self.end.is_some()
    }

    fn is_due(&self, now: OffsetDateTime, real: Instant) -> bool {
        now >= self.due || self.due_real.is_some_and(|due| real >= due)
    }

    /// The configure-status document; `accepted` renders the 202 body (`notStarted`).
    pub(crate) fn status(&self, accepted: bool) -> Value {
        let status = match (self.end, accepted) {
            (Some(_), _) => "completed",
            // A job refused at start never runs: it goes from notStarted to completed/failed.
            (None, _) if matches!(self.work, Work::Fail(_)) => "notStarted",
            (None, true) => "notStarted",
            (None, false) => "running",
        };
        let mut doc = json!({
            "$schema": STATUS_SCHEMA,
            "jobId": self.id,
            "jobStatus": status,
            "jobResult": self.result,
            "jobStart": wire_time(self.start),
            "jobEnd": self.end.map_or_else(|| NO_END.to_owned(), wire_time),
            "errors": self.errors,
        });
        if self.result == "succeeded" {
            doc["resourceUri"] = json!(format!(
                "https://product-ingestion.mp.microsoft.com/configure/{}",
                self.id
            ));
        }
        doc
    }

    pub(crate) fn detail(&self) -> Value {
        json!({ "$schema": DETAIL_SCHEMA, "jobId": self.id, "resources": self.written })
    }

    pub(crate) fn summary(&self) -> Value {
        json!({
            "jobId": self.id,
            "kind": self.kind.name(),
            "jobStatus": if self.finished() { "completed" } else { "running" },
            "jobResult": self.result,
            "created": wire_time(self.start),
        })
    }

    fn complete(&mut self, result: &'static str, errors: Vec<Value>) {
        self.end = Some(self.due.max(self.start));
        self.result = result;
        self.errors = errors;
    }
}

/// The `submission` resource a finished submission job wrote.
fn submission_resource(product: &str, n: &str, target: &str) -> Value {
    json!({
        "$schema": super::products::SUBMISSION_SCHEMA,
        "id": format!("submission/{product}/{n}"),
        "product": format!("product/{product}"),
        "target": { "targetType": target },
    })
}

/// §7.4(g): the nested certification failure.
fn certification_error(product: &str, n: &str) -> Value {
    json!({
        "resourceId": format!("submission/{product}/{n}"),
        "code": "internalServerError",
        "message": "Operation failed",
        "details": [{
            "code": "invalidState",
            "message": "Certification",
            "details": [{ "code": "invalidState", "message": "Issues found during Certification." }],
        }],
    })
}

impl Ingestion {
    /// Ends every job whose time has come, oldest first (later jobs see earlier ones' effects).
    pub(crate) fn settle(&mut self, now: OffsetDateTime) {
        let real = Instant::now();
        for index in 0..self.jobs.len() {
            let Some(job) = self.jobs.get(index) else {
                break;
            };
            if job.finished() || !job.is_due(now, real) {
                continue;
            }
            let mut job = self.jobs.remove(index);
            if let Some(product) = self.products.iter_mut().find(|p| p.id == job.product) {
                finish(&mut job, product);
            } else {
                job.complete("failed", Vec::new());
            }
            self.jobs.insert(index, job);
        }
    }

    /// `POST configure/{jobId}/cancel`: Err when the job already ended.
    pub(crate) fn cancel(&mut self, index: usize, now: OffsetDateTime) -> Result<(), ()> {
        let Some(job) = self.jobs.get_mut(index).filter(|j| !j.finished()) else {
            return Err(());
        };
        job.end = Some(now.max(job.start));
        job.result = "cancelled";
        let work = job.work.clone();
        let product_id = job.product.clone();
        if let Some(product) = self.products.iter_mut().find(|p| p.id == product_id) {
            match work {
                // A cancelled certification leaves the preview entry failed and publishes nothing.
                Work::Preview { submission, .. } => {
                    product.submissions.finish_preview(&submission, "failed");
                }
                Work::Live { .. } => product.submissions.finish_live(false),
                Work::Draft(_) | Work::Fail(_) => {}
            }
        }
        Ok(())
    }
}

fn finish(job: &mut Job, product: &mut Product) {
    match job.work.clone() {
        Work::Draft(changes) => match product.apply(&changes) {
            Ok(written) => {
                job.written = written;
                job.complete("succeeded", Vec::new());
            }
            Err(error) => job.complete("failed", vec![error]),
        },
        Work::Fail(errors) => job.complete("failed", errors),
        Work::Preview {
            submission,
            snapshot,
            fail_certification,
        } => {
            if fail_certification {
                let pending = new_versions(
                    &snapshot,
                    |tc| Published::of([product.preview.as_ref(), product.live.as_ref()], tc),
                    &submission,
                );
                product.blocked.extend(pending);
                product.submissions.finish_preview(&submission, "failed");
                job.complete(
                    "failed",
                    vec![certification_error(&product.id, &submission)],
                );
            } else {
                product.preview = Some(snapshot);
                product.submissions.finish_preview(&submission, "succeeded");
                job.written = vec![submission_resource(&product.id, &submission, "preview")];
                job.complete("succeeded", Vec::new());
            }
        }
        Work::Live { submission } => {
            product.live = product.preview.clone();
            product.submissions.finish_live(true);
            job.written = vec![submission_resource(&product.id, &submission, "live")];
            job.complete("succeeded", Vec::new());
        }
    }
}
