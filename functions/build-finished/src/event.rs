//! The event shapes that deliver a build manifest, told apart explicitly.

use std::fmt;

use percent_encoding::percent_decode_str;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::workflow::{MANIFEST_FIELDS, WorkflowError};

const ACCEPTED: &str = "accepted: an S3 event notification (Records[]), an EventBridge \"Object Created\" event \
from aws.s3, or a build manifest (sent directly, or as the detail of an EventBridge event)";

/// An S3 object that holds a build manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
    /// Set in versioned buckets: read the version that was uploaded, not whatever is there now.
    pub version_id: Option<String>,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// Where the manifest of an event is.
#[derive(Clone, Debug, PartialEq)]
pub enum Trigger {
    /// Stored in S3, named by a storage event.
    Objects(Vec<ObjectRef>),
    /// Carried in the event itself.
    Manifest(Value),
}

impl Trigger {
    pub fn from_event(event: Value) -> Result<Self, WorkflowError> {
        let Value::Object(fields) = &event else {
            return Err(unrecognised("the event is not a JSON object"));
        };
        if fields.contains_key("Records") {
            return s3_notification(event).map(Self::Objects);
        }
        if fields.contains_key("detail-type") && fields.contains_key("source") {
            return eventbridge(event);
        }
        // Any manifest field marks a manifest sent directly; the manifest rules then name what is wrong.
        if MANIFEST_FIELDS.iter().any(|m| fields.contains_key(*m)) {
            return Ok(Self::Manifest(event));
        }
        Err(unrecognised("the event has none of their fields"))
    }
}

#[derive(Deserialize)]
struct Notification {
    #[serde(rename = "Records")]
    records: Vec<Record>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    #[serde(default)]
    event_source: String,
    #[serde(default)]
    event_name: String,
    s3: RecordEntity,
}

#[derive(Deserialize)]
struct RecordEntity {
    bucket: Bucket,
    object: RecordObject,
}

#[derive(Deserialize)]
struct Bucket {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecordObject {
    key: String,
    #[serde(default)]
    version_id: Option<String>,
}

fn s3_notification(event: Value) -> Result<Vec<ObjectRef>, WorkflowError> {
    let notification: Notification = decode("S3 notification", event)?;
    if notification.records.is_empty() {
        return Err(WorkflowError::invalid_input(
            "S3 notification Records is empty",
        ));
    }
    notification
        .records
        .into_iter()
        .enumerate()
        .map(|(i, record)| {
            if record.event_source != "aws:s3" {
                return Err(WorkflowError::invalid_input(format!(
                    "Records[{i}].eventSource is {:?}; only aws:s3 records are accepted",
                    record.event_source
                )));
            }
            if !record.event_name.starts_with("ObjectCreated:") {
                return Err(WorkflowError::invalid_input(format!(
                    "Records[{i}].eventName is {:?}; only ObjectCreated events carry a new manifest",
                    record.event_name
                )));
            }
            let key = decode_notification_key(&record.s3.object.key)
                .map_err(|e| WorkflowError::invalid_input(format!("Records[{i}].s3.object.key {e}")))?;
            object_ref(record.s3.bucket.name, key, record.s3.object.version_id)
                .map_err(|e| WorkflowError::invalid_input(format!("Records[{i}].s3.{e}")))
        })
        .collect()
}

/// S3 notifications form-encode keys: `+` is a space and `%xx` a byte (so `%2B` is a literal `+`).
fn decode_notification_key(raw: &str) -> Result<String, String> {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|key| key.into_owned())
        .map_err(|_| format!("{raw:?} does not decode to UTF-8"))
}

#[derive(Deserialize)]
struct Envelope {
    source: String,
    #[serde(rename = "detail-type")]
    detail_type: String,
    #[serde(default)]
    detail: Value,
}

#[derive(Deserialize)]
struct CreatedDetail {
    bucket: Bucket,
    object: CreatedObject,
}

#[derive(Deserialize)]
struct CreatedObject {
    key: String,
    #[serde(default, rename = "version-id")]
    version_id: Option<String>,
}

fn eventbridge(event: Value) -> Result<Trigger, WorkflowError> {
    let envelope: Envelope = decode("EventBridge event", event)?;
    if envelope.source == "aws.s3" {
        if envelope.detail_type != "Object Created" {
            return Err(WorkflowError::invalid_input(format!(
                "EventBridge aws.s3 event {:?} is not accepted; only \"Object Created\" carries a new manifest",
                envelope.detail_type
            )));
        }
        // EventBridge passes keys as they are, unlike S3 notifications: no decoding.
        let detail: CreatedDetail = decode("EventBridge event field detail", envelope.detail)?;
        let object = object_ref(
            detail.bucket.name,
            detail.object.key,
            detail.object.version_id,
        )
        .map_err(|e| WorkflowError::invalid_input(format!("detail.{e}")))?;
        return Ok(Trigger::Objects(vec![object]));
    }
    if envelope.detail.is_object() {
        return Ok(Trigger::Manifest(envelope.detail));
    }
    Err(unrecognised(&format!(
        "the EventBridge event from {:?} has no manifest object in detail",
        envelope.source
    )))
}

fn object_ref(
    bucket: String,
    key: String,
    version_id: Option<String>,
) -> Result<ObjectRef, String> {
    if bucket.is_empty() {
        return Err("bucket.name is empty".into());
    }
    if key.is_empty() {
        return Err("object.key is empty".into());
    }
    Ok(ObjectRef {
        bucket,
        key,
        version_id: version_id.filter(|v| !v.is_empty()),
    })
}

fn decode<T: DeserializeOwned>(what: &str, value: Value) -> Result<T, WorkflowError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        WorkflowError::invalid_input(format!("{what} field {}: {}", e.path(), e.inner()))
    })
}

fn unrecognised(why: &str) -> WorkflowError {
    WorkflowError::invalid_input(format!("unrecognised event: {why}; {ACCEPTED}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn notification(key: &str) -> Value {
        json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": "builds"}, "object": {"key": key, "size": 10}}}]})
    }

    fn objects(event: Value) -> Vec<ObjectRef> {
        match Trigger::from_event(event).unwrap() {
            Trigger::Objects(objects) => objects,
            other => panic!("expected objects, got {other:?}"),
        }
    }

    #[test]
    fn notification_keys_are_form_decoded() {
        let got = objects(notification("a+b/c%2Bd%20e%28f%29.json"));
        assert_eq!(got[0].key, "a b/c+d e(f).json");
        assert_eq!(got[0].to_string(), "s3://builds/a b/c+d e(f).json");
        let err = Trigger::from_event(notification("bad%FF")).unwrap_err();
        assert!(err.message.contains("UTF-8"), "{err}");
    }

    #[test]
    fn eventbridge_keys_are_taken_as_they_are() {
        let event = json!({"source": "aws.s3", "detail-type": "Object Created",
            "detail": {"bucket": {"name": "builds"}, "object": {"key": "a+b%20c.json", "version-id": "v1"}}});
        let got = objects(event);
        assert_eq!(
            got,
            [ObjectRef {
                bucket: "builds".into(),
                key: "a+b%20c.json".into(),
                version_id: Some("v1".into())
            }]
        );
    }

    #[test]
    fn manifests_are_recognised_directly_and_in_custom_events() {
        let manifest = json!({"offerId": "o", "planId": "p"});
        assert_eq!(
            Trigger::from_event(manifest.clone()).unwrap(),
            Trigger::Manifest(manifest.clone())
        );
        let custom =
            json!({"source": "contoso.ci", "detail-type": "Build Finished", "detail": manifest});
        assert_eq!(
            Trigger::from_event(custom).unwrap(),
            Trigger::Manifest(manifest)
        );
    }

    #[test]
    fn other_shapes_and_events_are_refused_with_reasons() {
        let cases = [
            (json!([1]), "accepted: an S3 event notification"),
            (
                json!({"hello": "world"}),
                "accepted: an S3 event notification",
            ),
            (json!({"Records": []}), "Records is empty"),
            (
                json!({"Records": [{"eventSource": "aws:sqs", "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}}}]}),
                "only aws:s3 records",
            ),
            (
                json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete",
                    "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}}}]}),
                "only ObjectCreated",
            ),
            (
                json!({"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}, "object": {}}}]}),
                "Records[0].s3.object: missing field `key`",
            ),
            (
                json!({"source": "aws.s3", "detail-type": "Object Deleted", "detail": {}}),
                "only \"Object Created\"",
            ),
            (
                json!({"source": "contoso.ci", "detail-type": "Build Finished", "detail": "x"}),
                "no manifest object in detail",
            ),
            (
                json!({"source": "aws.s3", "detail-type": "Object Created",
                    "detail": {"bucket": {"name": "b"}, "object": {"key": ""}}}),
                "detail.object.key is empty",
            ),
        ];
        for (event, expected) in cases {
            let err = Trigger::from_event(event).unwrap_err();
            assert_eq!(err.name, shared::workflow::ErrorName::InvalidInput);
            assert!(err.message.contains(expected), "{expected:?} in {err}");
        }
    }
}
