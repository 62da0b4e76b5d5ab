//! Publish and go-live operations. Their state is derived from the virtual clock on every read, so
//! advancing the clock by days moves an operation through its steps without any background task.

use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::config::{EmulatorConfig, LocationStyle, StepDurations};
use crate::offers::Snapshot;
use crate::timefmt::wire_time;

/// One publishing step as CPP describes it (docs/cpp-api.md, *Operations*).
#[derive(Debug)]
pub(crate) struct StepDef {
    pub id: &'static str,
    name: &'static str,
    description: &'static str,
    /// The sign-off step has no `estimatedTimeFrame` in the docs' operation sample.
    estimate: Option<&'static str>,
}

pub(crate) const STEPS: [StepDef; 6] = [
    StepDef {
        id: "displaydummycertify",
        name: "Validate Pre-Requisites",
        description: "Offer settings provided are validated.",
        estimate: Some("< 15 min"),
    },
    StepDef {
        id: "displaycertify",
        name: "Certification",
        description: "Your offer is analyzed by our certification systems for issues.",
        estimate: Some("~2-3 days"),
    },
    StepDef {
        id: "displayprovision",
        name: "Provisioning",
        description: "Your virtual machine is being replicated in our production systems.",
        estimate: Some("< 1 day"),
    },
    StepDef {
        id: "displaypackage",
        name: "Packaging and Lead Generation Registration",
        description: "Your virtual machine is being packaged for customers. Additionally, lead systems are being configured and set up.",
        estimate: Some("< 1 hour"),
    },
    StepDef {
        id: "publisher-signoff",
        name: "Publisher signoff",
        description: "Offer is available to preview. Ensure that everything looks good before making your offer live.",
        estimate: None,
    },
    StepDef {
        id: "live",
        name: "Live",
        description: "Offer is publicly visible and is available for purchase.",
        estimate: Some("~2-5 days"),
    },
];

pub(crate) const SIGNOFF: usize = 4;
pub(crate) const LIVE: usize = 5;

pub(crate) fn step_index(id: &str) -> Option<usize> {
    STEPS.iter().position(|s| s.id.eq_ignore_ascii_case(id))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpKind {
    Publish,
    GoLive,
}

impl OpKind {
    pub(crate) fn submission_type(self) -> &'static str {
        match self {
            Self::Publish => "publish",
            Self::GoLive => "goLive",
        }
    }

    /// Operation `slot` values differ from offer slot names: publish goes to `staging`.
    fn slot(self) -> &'static str {
        match self {
            Self::Publish => "staging",
            Self::GoLive => "production",
        }
    }

    /// Suffix of the non-migrated location; the docs show `preview` for publish.
    fn legacy_suffix(self) -> &'static str {
        match self {
            Self::Publish => "preview",
            Self::GoLive => "production",
        }
    }

    /// The steps an operation of this kind runs itself (others are shown complete or not started).
    pub(crate) fn runs_step(self, step: usize) -> bool {
        match self {
            Self::Publish => step <= SIGNOFF,
            Self::GoLive => step == LIVE,
        }
    }
}

/// A step that should fail when an operation reaches it (set with `fail_operation_at_step`).
#[derive(Debug, Clone)]
pub(crate) struct FailMark {
    pub step: usize,
    pub message_html: String,
    pub marked_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub id: Uuid,
    pub kind: OpKind,
    pub created: OffsetDateTime,
    /// Start of the publish this operation belongs to (its own creation for a publish).
    pub publish_started: OffsetDateTime,
    /// `version` of the submission: .NET ticks, made unique per operation.
    pub ticks: i64,
    pub publishing_version: u64,
    pub offer_version: u64,
    pub emails: String,
    /// Publish: the draft as published; go-live: the preview it promotes.
    pub snapshot: Snapshot,
    /// ETag of the draft when the publish started, to recognise a re-publish of the same draft.
    pub draft_etag: String,
    pub failure: Option<FailMark>,
    pub cancel_requested: Option<OffsetDateTime>,
    /// Publish only: start and end of the go-live that completed it.
    pub golive: Option<(OffsetDateTime, OffsetDateTime)>,
    /// Go-live only: the publish operation it promotes.
    pub parent: Option<Uuid>,
    /// Preview (publish) or production (go-live) slot already filled.
    pub slot_applied: bool,
}

/// How an operation ended, as of a given virtual time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ongoing,
    Failed {
        step: usize,
        at: OffsetDateTime,
    },
    Canceled {
        at: OffsetDateTime,
    },
    Succeeded {
        at: OffsetDateTime,
    },
    /// `publish_succeeds_at_signoff`: reports success but still waits for go-live.
    SucceededAtSignoff,
}

#[derive(Debug, Clone, Copy)]
struct Run {
    step: usize,
    start: OffsetDateTime,
    /// None: waits until someone acts (the sign-off step).
    end: Option<OffsetDateTime>,
}

struct Timeline {
    /// Steps already complete when the operation started (go-live shows the publish steps).
    done: Vec<(usize, OffsetDateTime)>,
    runs: Vec<Run>,
}

/// The client-visible state of an operation at one virtual instant.
#[derive(Debug, Clone)]
pub(crate) struct OpView {
    pub status: String,
    pub steps: Vec<Value>,
    pub messages: Vec<Value>,
    pub last_action: OffsetDateTime,
    pub cancellation_state: &'static str,
    pub running: bool,
    pub reached_signoff: bool,
    pub waiting_at_signoff: bool,
    pub succeeded: bool,
}

fn publish_step_ends(start: OffsetDateTime, d: &StepDurations) -> [OffsetDateTime; 4] {
    let e0 = start + d.validate;
    let e1 = e0 + d.certification;
    let e2 = e1 + d.provisioning;
    [e0, e1, e2, e2 + d.packaging]
}

fn message(html: &str, level: &str, at: OffsetDateTime) -> Value {
    json!({ "messageHtml": html, "level": level, "timestamp": wire_time(at) })
}

fn progress(run: &Run, at: OffsetDateTime) -> i64 {
    let Some(end) = run.end else { return 0 };
    let total = (end - run.start).as_seconds_f64();
    if total <= 0.0 {
        return 99;
    }
    let done = (at - run.start).as_seconds_f64() / total * 100.0;
    // Linear but never 100 while running: 100 is reserved for complete.
    (done.floor() as i64).clamp(0, 99)
}

impl Operation {
    fn timeline(&self, d: &StepDurations) -> Timeline {
        let ends = publish_step_ends(self.publish_started, d);
        match self.kind {
            OpKind::Publish => {
                let mut runs = Vec::with_capacity(6);
                let mut start = self.created;
                for (step, end) in ends.iter().enumerate() {
                    runs.push(Run {
                        step,
                        start,
                        end: Some(*end),
                    });
                    start = *end;
                }
                match self.golive {
                    Some((go_start, go_end)) => {
                        runs.push(Run {
                            step: SIGNOFF,
                            start: ends[3],
                            end: Some(go_start),
                        });
                        runs.push(Run {
                            step: LIVE,
                            start: go_start,
                            end: Some(go_end),
                        });
                    }
                    None => runs.push(Run {
                        step: SIGNOFF,
                        start: ends[3],
                        end: None,
                    }),
                }
                Timeline {
                    done: Vec::new(),
                    runs,
                }
            }
            OpKind::GoLive => {
                let mut done: Vec<(usize, OffsetDateTime)> =
                    ends.iter().copied().enumerate().collect();
                done.push((SIGNOFF, self.created));
                Timeline {
                    done,
                    runs: vec![Run {
                        step: LIVE,
                        start: self.created,
                        end: Some(self.created + d.go_live),
                    }],
                }
            }
        }
    }

    /// Time the publish reaches sign-off (for a go-live: when its publish did).
    pub(crate) fn signoff_at(&self, d: &StepDurations) -> OffsetDateTime {
        publish_step_ends(self.publish_started, d)[3]
    }

    /// True while the step has not completed in this operation, so a failure mark can still hit it.
    pub(crate) fn step_still_ahead(
        &self,
        step: usize,
        now: OffsetDateTime,
        d: &StepDurations,
    ) -> bool {
        self.timeline(d)
            .runs
            .iter()
            .any(|r| r.step == step && r.end.is_none_or(|end| end > now))
    }

    fn outcome(&self, tl: &Timeline, now: OffsetDateTime, cfg: &EmulatorConfig) -> Outcome {
        // (time, priority, outcome): a failure wins a tie, then a cancel, then success.
        let mut events: Vec<(OffsetDateTime, u8, Outcome)> = Vec::new();
        if let Some(f) = &self.failure
            && let Some(run) = tl.runs.iter().find(|r| r.step == f.step)
        {
            let at = run.start.max(f.marked_at);
            events.push((at, 0, Outcome::Failed { step: f.step, at }));
        }
        if let Some(requested) = self.cancel_requested {
            let at = requested + cfg.cancel_delay;
            events.push((at, 1, Outcome::Canceled { at }));
        }
        let success_at = match self.kind {
            OpKind::Publish => self.golive.map(|(_, end)| end),
            OpKind::GoLive => tl.runs.first().and_then(|r| r.end),
        };
        if let Some(at) = success_at {
            events.push((at, 2, Outcome::Succeeded { at }));
        }
        let first = events
            .iter()
            .filter(|(at, _, _)| *at <= now)
            .min_by_key(|(at, prio, _)| (*at, *prio))
            .map(|(at, prio, outcome)| (*at, *prio, *outcome));

        let signoff = self.signoff_at(&cfg.steps);
        let succeeds_at_signoff = self.kind == OpKind::Publish
            && cfg.publish_succeeds_at_signoff
            && signoff <= now
            && first.is_none_or(|(at, prio, _)| at > signoff || prio == 2);
        if succeeds_at_signoff {
            // Once it reported success nothing can fail or cancel it; only go-live completes it.
            return match first {
                Some((_, _, done @ Outcome::Succeeded { .. })) => done,
                _ => Outcome::SucceededAtSignoff,
            };
        }
        first.map_or(Outcome::Ongoing, |(_, _, outcome)| outcome)
    }

    pub(crate) fn view(&self, now: OffsetDateTime, cfg: &EmulatorConfig) -> OpView {
        let tl = self.timeline(&cfg.steps);
        let outcome = self.outcome(&tl, now, cfg);
        let effective = match outcome {
            Outcome::Ongoing | Outcome::SucceededAtSignoff => now,
            Outcome::Failed { at, .. } | Outcome::Canceled { at } | Outcome::Succeeded { at } => at,
        };

        let steps = STEPS
            .iter()
            .enumerate()
            .map(|(i, def)| self.render_step(i, def, &tl, outcome, effective))
            .collect();

        let status = match outcome {
            Outcome::Ongoing => "running".to_owned(),
            Outcome::Failed { .. } => "failed".to_owned(),
            Outcome::Canceled { .. } => "canceled".to_owned(),
            Outcome::Succeeded { .. } | Outcome::SucceededAtSignoff => cfg.success_status.clone(),
        };

        let messages = match outcome {
            Outcome::Failed { at, .. } => self
                .failure
                .as_ref()
                .map(|f| vec![message(&f.message_html, "error", at)])
                .unwrap_or_default(),
            Outcome::Canceled { at } => {
                vec![message("The operation was canceled.", "information", at)]
            }
            _ => Vec::new(),
        };

        let terminal_at = match outcome {
            Outcome::Failed { at, .. } | Outcome::Canceled { at } | Outcome::Succeeded { at } => {
                Some(at)
            }
            Outcome::Ongoing | Outcome::SucceededAtSignoff => None,
        };
        // The latest transition that has happened: a step boundary, a cancel request or the end.
        let last_action = tl
            .runs
            .iter()
            .flat_map(|r| [Some(r.start), r.end])
            .flatten()
            .chain(self.cancel_requested)
            .chain(terminal_at)
            .filter(|t| *t <= effective)
            .fold(self.created, OffsetDateTime::max);

        let cancellation_state = match (self.cancel_requested, outcome) {
            (Some(_), Outcome::Canceled { .. }) => "canceled",
            (Some(_), Outcome::Ongoing) => "canceling",
            _ => "canCancel",
        };

        let signoff = self.signoff_at(&cfg.steps);
        let reached_signoff = self.kind == OpKind::Publish
            && signoff <= effective
            && !matches!(outcome, Outcome::Failed { step: SIGNOFF, .. });
        let waiting_at_signoff = reached_signoff
            && self.golive.is_none()
            && matches!(outcome, Outcome::Ongoing | Outcome::SucceededAtSignoff);

        OpView {
            status,
            steps,
            messages,
            last_action,
            cancellation_state,
            running: outcome == Outcome::Ongoing,
            reached_signoff,
            waiting_at_signoff,
            succeeded: matches!(outcome, Outcome::Succeeded { .. }),
        }
    }

    fn render_step(
        &self,
        index: usize,
        def: &StepDef,
        tl: &Timeline,
        outcome: Outcome,
        at: OffsetDateTime,
    ) -> Value {
        let (status, progress_pct, messages) = if let Some((_, done)) =
            tl.done.iter().find(|(s, _)| *s == index)
        {
            (
                "complete",
                100,
                vec![message("Step completed.", "information", *done)],
            )
        } else if let Some(run) = tl.runs.iter().find(|r| r.step == index) {
            match outcome {
                Outcome::Failed {
                    step,
                    at: failed_at,
                } if step == index => {
                    let html = self
                        .failure
                        .as_ref()
                        .map_or("The step failed.", |f| f.message_html.as_str());
                    ("blocked", 0, vec![message(html, "error", failed_at)])
                }
                _ if run.end.is_some_and(|end| end <= at) => {
                    let end = run.end.unwrap_or(at);
                    (
                        "complete",
                        100,
                        vec![message("Step completed.", "information", end)],
                    )
                }
                _ if run.start <= at => match (outcome, run.end) {
                    (Outcome::Canceled { .. }, _) => ("canceled", progress(run, at), Vec::new()),
                    (_, None) => ("waitingForPublisherReview", 0, Vec::new()),
                    (_, Some(_)) => ("inProgress", progress(run, at), Vec::new()),
                },
                _ => ("notStarted", 0, Vec::new()),
            }
        } else {
            ("notStarted", 0, Vec::new())
        };

        let mut step = serde_json::Map::new();
        if let Some(estimate) = def.estimate {
            step.insert("estimatedTimeFrame".into(), json!(estimate));
        }
        step.insert("id".into(), json!(def.id));
        step.insert("stepName".into(), json!(def.name));
        step.insert("description".into(), json!(def.description));
        step.insert("status".into(), json!(status));
        step.insert("messages".into(), Value::Array(messages));
        step.insert("progressPercentage".into(), json!(progress_pct));
        Value::Object(step)
    }

    /// Relative poll path in the configured documented format.
    pub(crate) fn location(&self, publisher: &str, offer: &str, style: LocationStyle) -> String {
        match style {
            LocationStyle::Migrated => format!(
                "/api/publishers/{publisher}/offers/{offer}/operations/{}?api-version=2017-10-31",
                self.id
            ),
            LocationStyle::Legacy => format!(
                "/api/operations/{publisher}${offer}${}${}?api-version=2017-10-31",
                self.publishing_version,
                self.kind.legacy_suffix()
            ),
        }
    }

    /// Whether a legacy location key (`p$o$n$preview`) names this operation.
    pub(crate) fn matches_legacy(&self, version: u64, suffix: &str) -> bool {
        self.publishing_version == version && self.kind.legacy_suffix().eq_ignore_ascii_case(suffix)
    }

    /// GET .../operations/{id}: a single object (the docs' array wrapper is a doc bug).
    pub(crate) fn detail_json(&self, view: &OpView) -> Value {
        json!({
            "id": self.id.to_string(),
            "submissionType": self.kind.submission_type(),
            "status": view.status,
            "messages": view.messages,
            "publishingVersion": self.publishing_version,
            "offerVersion": self.offer_version,
            "cancellationRequestState": view.cancellation_state,
            "steps": view.steps,
            "previewLinks": [],
            "liveLinks": [],
            "notificationEmails": self.emails,
            "createdDateTime": wire_time(self.created),
            "lastActionDateTime": wire_time(view.last_action),
        })
    }

    /// An element of GET .../submissions.
    pub(crate) fn submission_json(&self, publisher: &str, offer: &str, view: &OpView) -> Value {
        let offer_type = self
            .snapshot
            .doc
            .get("offerTypeId")
            .and_then(Value::as_str)
            .unwrap_or("microsoft-azure-virtualmachines");
        json!({
            "id": self.id.to_string(),
            "offerId": offer,
            "offerVersion": self.offer_version,
            "offerTypeId": offer_type,
            "publisherId": publisher,
            "submissionType": self.kind.submission_type(),
            "submissionState": view.status,
            "publishingVersion": self.publishing_version,
            "slot": self.kind.slot(),
            "version": self.ticks,
            "definition": { "metadata": { "emails": self.emails } },
            "changedTime": wire_time(view.last_action),
        })
    }

    /// GET .../status: the latest operation, without its identity fields.
    pub(crate) fn status_json(&self, view: &OpView) -> Value {
        json!({
            "status": view.status,
            "messages": view.messages,
            "steps": view.steps,
            "previewLinks": [],
            "liveLinks": [],
            "notificationEmails": self.emails,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    const T0: OffsetDateTime = datetime!(2024-01-01 0:00 UTC);

    fn minutes(n: u64) -> Duration {
        Duration::from_secs(n * 60)
    }

    fn publish_op() -> Operation {
        Operation {
            id: Uuid::new_v4(),
            kind: OpKind::Publish,
            created: T0,
            publish_started: T0,
            ticks: 1,
            publishing_version: 2,
            offer_version: 1,
            emails: String::new(),
            snapshot: Snapshot {
                doc: json!({}),
                version: 1,
                changed: T0,
            },
            draft_etag: String::new(),
            failure: None,
            cancel_requested: None,
            golive: None,
            parent: None,
            slot_applied: false,
        }
    }

    fn statuses(view: &OpView) -> Vec<String> {
        view.steps
            .iter()
            .map(|s| s["status"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    #[test]
    fn progress_is_linear_and_below_100_while_running() {
        let cfg = EmulatorConfig::default();
        let op = publish_op();
        let view = op.view(T0 + Duration::from_secs(15 * 60 - 1), &cfg);
        assert_eq!(view.steps[0]["progressPercentage"], 99);
        assert_eq!(view.steps[0]["status"], "inProgress");
        let view = op.view(T0 + minutes(15), &cfg);
        assert_eq!(view.steps[0]["progressPercentage"], 100);
        assert_eq!(view.last_action, T0 + minutes(15));
    }

    #[test]
    fn an_earlier_failure_beats_a_pending_cancel() {
        let cfg = EmulatorConfig::default();
        let mut op = publish_op();
        op.cancel_requested = Some(T0 + minutes(1));
        op.failure = Some(FailMark {
            step: 0,
            message_html: "bad".into(),
            marked_at: T0 + minutes(2),
        });
        let view = op.view(T0 + minutes(10), &cfg);
        assert_eq!(view.status, "failed");
        assert_eq!(view.cancellation_state, "canCancel");
        assert_eq!(statuses(&view)[0], "blocked");
    }

    #[test]
    fn a_cancel_that_completes_first_wins_over_a_later_failure() {
        let cfg = EmulatorConfig::default();
        let mut op = publish_op();
        op.cancel_requested = Some(T0);
        op.failure = Some(FailMark {
            step: 1,
            message_html: "bad".into(),
            marked_at: T0,
        });
        let view = op.view(T0 + minutes(30), &cfg);
        assert_eq!(view.status, "canceled");
        assert_eq!(view.cancellation_state, "canceled");
        assert_eq!(statuses(&view)[..2], ["canceled", "notStarted"]);
        assert!(!view.running);
    }

    #[test]
    fn success_at_signoff_still_waits_for_go_live() {
        let cfg = EmulatorConfig {
            publish_succeeds_at_signoff: true,
            ..EmulatorConfig::default()
        };
        let op = publish_op();
        let at_signoff = op.signoff_at(&cfg.steps);
        let view = op.view(at_signoff, &cfg);
        assert_eq!(view.status, "succeeded");
        assert!(!view.running && view.reached_signoff && view.waiting_at_signoff);
        assert_eq!(statuses(&view)[SIGNOFF], "waitingForPublisherReview");

        let before = op.view(at_signoff - time::Duration::seconds(1), &cfg);
        assert_eq!(before.status, "running");
        assert!(!before.reached_signoff);
    }

    #[test]
    fn a_go_live_shows_the_publish_steps_complete() {
        let cfg = EmulatorConfig::default();
        let publish = publish_op();
        let signoff = publish.signoff_at(&cfg.steps);
        let go_live = Operation {
            kind: OpKind::GoLive,
            created: signoff + minutes(60),
            parent: Some(publish.id),
            ..publish_op()
        };
        let view = go_live.view(go_live.created, &cfg);
        assert_eq!(
            statuses(&view),
            [
                "complete",
                "complete",
                "complete",
                "complete",
                "complete",
                "inProgress"
            ]
        );
        let done = go_live.view(go_live.created + cfg.steps.go_live, &cfg);
        assert!(done.succeeded);
        assert_eq!(done.status, "succeeded");
    }

    #[test]
    fn step_ids_are_found_case_insensitively() {
        assert_eq!(step_index("Publisher-Signoff"), Some(SIGNOFF));
        assert_eq!(step_index("live"), Some(LIVE));
        assert_eq!(step_index("nope"), None);
    }
}
