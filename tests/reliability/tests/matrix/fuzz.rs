//! Fuzzing with proptest: the parsers of everything that arrives from outside (manifests, storage
//! events, CPP's operation and status documents, its headers and messages) on generated input. None
//! may panic; inputs are bounded, so none may hang; refusals are `InvalidInput` and never show a SAS
//! signature; what is accepted obeys the rules.

use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};
use shared::cpp::progress::{classify, messages_for_people, parse_time_frame};
use shared::cpp::{OfferStatus, Operation, OperationStatus, Submission};
use shared::html::strip_html;
use shared::redact::redact_sas;
use shared::retry::parse_retry_after;
use shared::workflow::{
    ErrorName, MANIFEST_FIELDS, ManifestRules, OperationKind, PublishRequest, WorkflowError,
};

use build_finished::event::Trigger;

use crate::aws::{NOW, SIGNATURE, manifest, sas_url};

const CASES: u32 = 300;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        ..ProptestConfig::default()
    }
}

fn rules() -> ManifestRules<'static> {
    ManifestRules {
        default_publisher: None,
        default_api: shared::marketplace::Api::Cpp,
        sas_min_validity_days: 21,
        now: NOW,
    }
}

/// Strings the parsers give meaning to, and ones that broke parsers before.
fn notable() -> Vec<String> {
    let mut pool: Vec<String> = [
        "",
        " ",
        "running",
        "Running",
        "inProgress",
        "notStarted",
        "succeeded",
        "complete",
        "Completed",
        "failed",
        "canceled",
        "Cancelled",
        "rejected",
        "blocked",
        "waitingForPublisherReview",
        "publisher-signoff",
        "Publisher signoff",
        "error",
        "information",
        "publish",
        "GoLive",
        "staging",
        "production",
        "< 15 min",
        "~2-3 days",
        "< 5 day",
        "1.5 hours",
        "0 min",
        "99999999999999999999999 days",
        "1e400 weeks",
        "NaN",
        "inf",
        "-1",
        "100",
        "42.6%",
        "aws:s3",
        "ObjectCreated:Put",
        "ObjectRemoved:Delete",
        "aws.s3",
        "Object Created",
        "Scheduled Event",
        "manifests/a+b%2B%25%FF.json",
        "%",
        "%%",
        "+",
        "1.0.0",
        "01.0.0",
        "1.0",
        "18446744073709551616.0.0",
        "manual",
        "auto",
        "contoso",
        "gen2",
        "release@contoso.com",
        "<p>a &amp; b</p>",
        "&lt;script&gt;",
        "sig=",
        "?sig=&sig=",
        "Wed, 21 Oct 2015 07:28:00 GMT",
        "2026-11-21T00:00:00Z",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    pool.push(sas_url());
    pool.push("x".repeat(300));
    pool
}

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => select(notable()),
        2 => "\\PC{0,24}",
        1 => ".{0,24}",
    ]
    .boxed()
}

/// Arbitrary JSON whose object keys are mostly drawn from `keys`, values often meaningful strings.
fn json_with(keys: Vec<&'static str>) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    let key = prop_oneof![
        4 => select(keys).prop_map(str::to_owned),
        1 => text(),
    ];
    leaf.prop_recursive(5, 96, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn assert_refusal(err: &WorkflowError) {
    assert_eq!(err.name, ErrorName::InvalidInput, "{err}");
    assert!(!err.message.contains(SIGNATURE), "signature shown: {err}");
}

/// What an accepted manifest must be.
fn assert_acceptable(request: &PublishRequest) {
    request.validate().unwrap();
    assert!(!format!("{request:?}").contains(SIGNATURE));
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let byte = prop_oneof![any::<u8>(), select(b"\"{}[],:\\ 0.-eE%&?=/".to_vec()),];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), byte).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
    let len = bytes.len();
    match *mutation {
        Mutation::Flip(i, b) if len > 0 => bytes[at(i, len)] = b,
        Mutation::Insert(i, b) => bytes.insert(at(i, len + 1), b),
        Mutation::Delete(i) if len > 0 => {
            bytes.remove(at(i, len));
        }
        Mutation::Truncate(i) => bytes.truncate(at(i, len + 1)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn manifest_parser_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        match PublishRequest::from_manifest(&bytes, &rules()) {
            Ok(request) => assert_acceptable(&request),
            Err(err) => assert_refusal(&err),
        }
    }

    #[test]
    fn manifest_parser_on_mutated_valid_manifests(
        mutations in prop::collection::vec(mutation(), 1..6),
        pretty in any::<bool>(),
    ) {
        let manifest = manifest();
        let mut bytes = if pretty {
            serde_json::to_vec_pretty(&manifest).unwrap()
        } else {
            serde_json::to_vec(&manifest).unwrap()
        };
        for m in &mutations {
            mutate(&mut bytes, m);
        }
        match PublishRequest::from_manifest(&bytes, &rules()) {
            Ok(request) => assert_acceptable(&request),
            Err(err) => prop_assert_eq!(err.name, ErrorName::InvalidInput),
        }
    }

    #[test]
    fn manifest_parser_on_manifests_with_arbitrary_fields(
        changes in prop::collection::vec(
            (prop_oneof![3 => select(MANIFEST_FIELDS.to_vec()).prop_map(str::to_owned), 1 => text()],
             json_with(MANIFEST_FIELDS.to_vec())),
            0..6),
        removed in prop::collection::vec(select(MANIFEST_FIELDS.to_vec()), 0..3),
    ) {
        let mut manifest = manifest();
        let fields = manifest.as_object_mut().unwrap();
        for field in removed {
            fields.shift_remove(field);
        }
        for (field, value) in changes {
            fields.insert(field, value);
        }
        match PublishRequest::from_manifest_value(manifest, &rules()) {
            Ok(request) => assert_acceptable(&request),
            Err(err) => assert_refusal(&err),
        }
    }

    #[test]
    fn manifest_parser_at_the_size_limit(padding in 65_000usize..66_500) {
        let mut bytes = serde_json::to_vec(&manifest()).unwrap();
        bytes.resize(padding, b' ');
        match PublishRequest::from_manifest(&bytes, &rules()) {
            Ok(request) => {
                prop_assert!(padding <= 64 * 1024);
                assert_acceptable(&request);
            }
            Err(err) => {
                prop_assert!(padding > 64 * 1024, "{}", err);
                prop_assert!(err.message.contains("the limit is 65536"), "{}", err);
            }
        }
    }

    #[test]
    fn event_parser_on_arbitrary_json(event in json_with(vec![
        "Records", "eventSource", "eventName", "s3", "bucket", "name", "object", "key", "versionId",
        "source", "detail-type", "detail", "version-id", "offerId", "planId", "version", "osVhdUrl",
    ])) {
        match Trigger::from_event(event) {
            Ok(Trigger::Objects(objects)) => {
                prop_assert!(!objects.is_empty());
                for o in objects {
                    prop_assert!(!o.bucket.is_empty() && !o.key.is_empty());
                }
            }
            Ok(Trigger::Manifest(manifest)) => prop_assert!(manifest.is_object()),
            Err(err) => prop_assert_eq!(err.name, ErrorName::InvalidInput),
        }
    }

    #[test]
    fn event_parser_on_notifications_with_arbitrary_keys(
        key in prop_oneof![text(), "([a-z/+ ]|%[0-9A-Fa-f]{2}|%.?){0,30}"],
        bucket in text(),
    ) {
        let event = json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]});
        match Trigger::from_event(event) {
            Ok(Trigger::Objects(objects)) => prop_assert_eq!(objects.len(), 1),
            Ok(other) => prop_assert!(false, "{:?}", other),
            Err(err) => prop_assert_eq!(err.name, ErrorName::InvalidInput),
        }
    }

    #[test]
    fn operation_parser_on_arbitrary_json(value in json_with(vec![
        "id", "status", "steps", "messages", "stepName", "estimatedTimeFrame", "progressPercentage",
        "processPercentage", "messageHtml", "message", "level", "timestamp", "submissionType",
        "publishingVersion", "cancellationRequestState", "error",
    ])) {
        if let Ok(operation) = serde_json::from_value::<Operation>(value) {
            for kind in [OperationKind::Publish, OperationKind::GoLive] {
                classify(kind, &operation);
            }
            messages_for_people(&operation);
            operation.awaits_publisher_signoff();
            if let Some(step) = operation.current_step() {
                step.label();
                if let Some(frame) = &step.estimated_time_frame {
                    parse_time_frame(frame);
                }
            }
            for step in &operation.steps {
                prop_assert!(step.progress_percentage.is_none_or(|p| p <= 100));
            }
        }
    }

    #[test]
    fn submission_and_status_parsers_on_arbitrary_json(value in json_with(vec![
        "id", "offerId", "submissionType", "submissionState", "slot", "publishingVersion",
        "changedTime", "status", "steps", "messages", "notificationEmails",
    ])) {
        if let Ok(submission) = serde_json::from_value::<Submission>(value.clone()) {
            submission.is_go_live();
            submission.submission_state.is_active();
        }
        if let Ok(list) = serde_json::from_value::<Vec<Submission>>(value.clone()) {
            list.iter().for_each(|s| { s.is_go_live(); });
        }
        let _ = serde_json::from_value::<OfferStatus>(value);
    }

    #[test]
    fn status_words_parse_leniently(raw in text()) {
        let status = OperationStatus::parse(&raw);
        if let OperationStatus::Unknown(kept) = &status {
            prop_assert_eq!(kept, &raw);
            prop_assert!(status.is_active(), "unknown statuses count as running");
        }
    }

    #[test]
    fn time_frames_of_any_size(
        raw in text(),
        numbers in prop::collection::vec("[0-9]{1,40}(\\.[0-9]{0,5})?", 1..3),
        unit in select(vec!["min", "minutes", "hour", "hr", "h", "day", "days", "d", "week", "weeks", "fortnight"]),
        prefix in select(vec!["", "< ", "~", "about "]),
    ) {
        parse_time_frame(&raw);
        let frame = format!("{prefix}{} {unit}", numbers.join("-"));
        if let Some(duration) = parse_time_frame(&frame) {
            prop_assert!(duration > Duration::ZERO, "{frame}");
        }
    }

    #[test]
    fn html_is_stripped_from_anything(
        parts in prop::collection::vec(prop_oneof![
            text(),
            select(vec!["<p>", "</p>", "<br/>", "<b>", "</b>", "<", ">", "&amp;", "&lt;", "&nbsp;", "&#39;", "< p", "<a href=\"x>y\">"]).prop_map(str::to_owned),
        ], 0..12),
    ) {
        let html = parts.concat();
        let plain = strip_html(&html);
        prop_assert_eq!(plain.trim(), plain.as_str());
        prop_assert!(!plain.contains("  "), "{:?}", plain);
    }

    #[test]
    fn signatures_are_redacted_wherever_they_stand(
        before in "[a-z:/. ?&=\"'<]{0,30}",
        separator in select(vec!["?", "&", ";"]),
        name in select(vec!["sig", "SIG", "Sig"]),
        value in "Zq9[A-Za-z0-9%+/=]{1,40}",
        after in prop_oneof![Just(String::new()), "[&\"' <][a-z=&]{0,20}"],
        noise in text(),
    ) {
        let text = format!("{before}{separator}{name}={value}{after}");
        let redacted = redact_sas(&text);
        prop_assert!(!redacted.contains(&value), "{text} -> {redacted}");
        prop_assert_eq!(redact_sas(&redacted), redacted.clone(), "idempotent");
        redact_sas(&noise);
    }

    #[test]
    fn retry_after_values_of_any_form(
        raw in text(),
        seconds in any::<u64>(),
        ahead in 0u64..100_000,
        behind in 0u64..100_000,
    ) {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        parse_retry_after(&raw, now);
        prop_assert_eq!(parse_retry_after(&seconds.to_string(), now), Some(Duration::from_secs(seconds)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(ahead));
        prop_assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(ahead)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(behind));
        prop_assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
    }
}
