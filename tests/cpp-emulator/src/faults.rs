//! Injected faults: answer with a chosen status, delay, or drop the connection before/after handling.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A fault applied to the next `times` requests matching `method` and `path_contains`.
///
/// JSON (control API): `{"method":"POST","pathContains":"/publish","times":1,"action":{...}}`;
/// `method` is optional (any method), `times` defaults to 1 and 0 means "until cleared".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    /// HTTP method to match (case-insensitive); None matches any.
    #[serde(default)]
    pub method: Option<String>,
    /// Substring the request path must contain ("" matches every path).
    #[serde(default)]
    pub path_contains: String,
    /// How many matching requests it applies to; 0 = every matching request until cleared.
    #[serde(default = "one")]
    pub times: u32,
    pub action: FaultAction,
}

fn one() -> u32 {
    1
}

/// What happens to a request hit by a fault.
///
/// JSON: `{"status":503,"retryAfter":"2","body":{...}}`, `{"delayMs":1500}`,
/// `{"drop":"beforeHandling"}`, `{"drop":"afterHandling"}` or
/// `{"concurrentWrite":{"pointer":"/definition/offer","patch":{...}}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "FaultActionWire", into = "FaultActionWire")]
pub enum FaultAction {
    /// Answered instead of the real handler (`body` defaults to a CPP error body).
    Status {
        status: u16,
        retry_after: Option<String>,
        body: Option<Value>,
    },
    /// Real-time delay, then handled normally (to test client timeouts).
    Delay { by: Duration },
    /// Connection closed with no response; the request is NOT applied.
    DropBeforeHandling,
    /// The request IS applied, then the connection is closed with no response.
    DropAfterHandling,
    /// Another writer changes the offer the request names just before it is handled: `patch` is
    /// applied at the JSON pointer `pointer` of the draft as a JSON merge patch (RFC 7386) and the
    /// ETag changes, so an `If-Match` read before is stale. Then the request is handled normally.
    ConcurrentWrite { pointer: String, patch: Value },
}

impl FaultAction {
    /// Short name recorded in the request log.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Status { status, .. } => format!("status {status}"),
            Self::Delay { by } => format!("delay {}ms", by.as_millis()),
            Self::DropBeforeHandling => "dropBeforeHandling".to_owned(),
            Self::DropAfterHandling => "dropAfterHandling".to_owned(),
            Self::ConcurrentWrite { pointer, .. } => format!("concurrentWrite {pointer}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum DropWhen {
    BeforeHandling,
    AfterHandling,
}

/// `{"pointer": "/definition/offer", "patch": {...}}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConcurrentWriteWire {
    #[serde(default)]
    pointer: String,
    patch: Value,
}

/// The flat JSON form of a fault action; exactly one of `status`, `delayMs`, `drop`,
/// `concurrentWrite` is set.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FaultActionWire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delay_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    drop: Option<DropWhen>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    concurrent_write: Option<ConcurrentWriteWire>,
}

impl TryFrom<FaultActionWire> for FaultAction {
    type Error = String;

    fn try_from(wire: FaultActionWire) -> Result<Self, Self::Error> {
        match (wire.status, wire.delay_ms, wire.drop, wire.concurrent_write) {
            (Some(status), None, None, None) if (100..=599).contains(&status) => Ok(Self::Status {
                status,
                retry_after: wire.retry_after,
                body: wire.body,
            }),
            (Some(status), None, None, None) => {
                Err(format!("status {status} is not an HTTP status"))
            }
            (None, Some(ms), None, None) => Ok(Self::Delay {
                by: Duration::from_millis(ms),
            }),
            (None, None, Some(DropWhen::BeforeHandling), None) => Ok(Self::DropBeforeHandling),
            (None, None, Some(DropWhen::AfterHandling), None) => Ok(Self::DropAfterHandling),
            (None, None, None, Some(write)) => {
                check_pointer(&write.pointer)?;
                Ok(Self::ConcurrentWrite {
                    pointer: write.pointer,
                    patch: write.patch,
                })
            }
            _ => Err(
                "a fault action needs exactly one of `status`, `delayMs`, `drop` or `concurrentWrite`"
                    .to_owned(),
            ),
        }
    }
}

impl From<FaultAction> for FaultActionWire {
    fn from(action: FaultAction) -> Self {
        match action {
            FaultAction::Status {
                status,
                retry_after,
                body,
            } => Self {
                status: Some(status),
                retry_after,
                body,
                ..Self::default()
            },
            FaultAction::Delay { by } => Self {
                delay_ms: Some(u64::try_from(by.as_millis()).unwrap_or(u64::MAX)),
                ..Self::default()
            },
            FaultAction::DropBeforeHandling => Self {
                drop: Some(DropWhen::BeforeHandling),
                ..Self::default()
            },
            FaultAction::DropAfterHandling => Self {
                drop: Some(DropWhen::AfterHandling),
                ..Self::default()
            },
            FaultAction::ConcurrentWrite { pointer, patch } => Self {
                concurrent_write: Some(ConcurrentWriteWire { pointer, patch }),
                ..Self::default()
            },
        }
    }
}

fn check_pointer(pointer: &str) -> Result<(), String> {
    if pointer.is_empty() || pointer.starts_with('/') {
        Ok(())
    } else {
        Err(format!(
            "concurrentWrite.pointer {pointer:?} is not a JSON pointer (\"\" or starting with '/')"
        ))
    }
}

/// Applies `patch` at `pointer` in `doc` as a JSON merge patch (RFC 7386): objects merge key by key,
/// `null` removes a key, any other value replaces. Objects missing on the way are created; array
/// elements are named by index.
pub(crate) fn merge_at(doc: &mut Value, pointer: &str, patch: &Value) -> Result<(), String> {
    check_pointer(pointer)?;
    let mut target = doc;
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        target = match target {
            Value::Object(map) => map
                .entry(token)
                .or_insert_with(|| Value::Object(serde_json::Map::new())),
            Value::Array(items) => {
                let index: usize = token
                    .parse()
                    .map_err(|_| format!("{pointer}: {token:?} is not an array index"))?;
                let len = items.len();
                items
                    .get_mut(index)
                    .ok_or_else(|| format!("{pointer}: index {index} is past the end ({len})"))?
            }
            _ => {
                return Err(format!(
                    "{pointer}: {token:?} is below a value that is not a container"
                ));
            }
        };
    }
    merge(target, patch);
    Ok(())
}

fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(map) = target {
        for (key, value) in patch {
            if value.is_null() {
                map.shift_remove(key);
            } else {
                merge(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// Active faults in the order they were added; the first match wins.
#[derive(Debug, Default)]
pub(crate) struct FaultSet {
    active: Vec<(Fault, Option<u32>)>,
}

impl FaultSet {
    pub(crate) fn add(&mut self, fault: Fault) {
        let remaining = (fault.times > 0).then_some(fault.times);
        self.active.push((fault, remaining));
    }

    pub(crate) fn clear(&mut self) {
        self.active.clear();
    }

    pub(crate) fn list(&self) -> Vec<Fault> {
        self.active.iter().map(|(f, _)| f.clone()).collect()
    }

    /// The action for this request, using up one of the matching fault's `times`.
    pub(crate) fn take(&mut self, method: &str, path: &str) -> Option<FaultAction> {
        let index = self.active.iter().position(|(fault, _)| {
            fault
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && path.contains(&fault.path_contains)
        })?;
        let (fault, remaining) = &mut self.active[index];
        let action = fault.action.clone();
        if let Some(left) = remaining {
            *left -= 1;
            if *left == 0 {
                self.active.remove(index);
            }
        }
        Some(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_shapes_round_trip() {
        let cases = [
            json!({"status": 503, "retryAfter": "2"}),
            json!({"delayMs": 1500}),
            json!({"drop": "beforeHandling"}),
            json!({"drop": "afterHandling"}),
            json!({"concurrentWrite": {"pointer": "/definition/offer", "patch": {"x": 1}}}),
        ];
        for case in cases {
            let action: FaultAction = serde_json::from_value(case.clone()).unwrap();
            assert_eq!(serde_json::to_value(&action).unwrap(), case);
        }
    }

    #[test]
    fn ambiguous_or_unknown_actions_are_rejected() {
        assert!(
            serde_json::from_value::<FaultAction>(json!({"status": 503, "delayMs": 1})).is_err()
        );
        assert!(serde_json::from_value::<FaultAction>(json!({})).is_err());
        assert!(serde_json::from_value::<FaultAction>(json!({"drop": "sometimes"})).is_err());
        assert!(serde_json::from_value::<FaultAction>(json!({"status": 5000})).is_err());
        let relative = json!({"concurrentWrite": {"pointer": "definition", "patch": 1}});
        assert!(serde_json::from_value::<FaultAction>(relative).is_err());
        let with_status = json!({"status": 412, "concurrentWrite": {"pointer": "", "patch": {}}});
        assert!(serde_json::from_value::<FaultAction>(with_status).is_err());
    }

    #[test]
    fn merge_at_follows_json_merge_patch_below_a_pointer() {
        let mut doc = json!({"a": {"keep": 1, "drop": 2, "list": [{"x": 1}]}, "b": "text"});
        merge_at(
            &mut doc,
            "/a",
            &json!({"drop": null, "new": {"deep": true}}),
        )
        .unwrap();
        merge_at(&mut doc, "/a/list/0", &json!({"y": 2})).unwrap();
        merge_at(&mut doc, "/c/d~1e", &json!("created")).unwrap();
        merge_at(&mut doc, "/b", &json!({"now": "an object"})).unwrap();
        assert_eq!(
            doc,
            json!({"a": {"keep": 1, "list": [{"x": 1, "y": 2}], "new": {"deep": true}},
                   "b": {"now": "an object"}, "c": {"d/e": "created"}})
        );
        assert!(merge_at(&mut doc, "/a/list/5", &json!(1)).is_err());
        assert!(merge_at(&mut doc, "/a/keep/x", &json!(1)).is_err());
        merge_at(&mut doc, "", &json!({"b": null})).unwrap();
        assert!(doc.get("b").is_none());
    }

    #[test]
    fn times_counts_down_and_zero_means_forever() {
        let mut set = FaultSet::default();
        set.add(Fault {
            method: Some("post".into()),
            path_contains: "/publish".into(),
            times: 2,
            action: FaultAction::DropBeforeHandling,
        });
        assert!(set.take("GET", "/api/x/publish").is_none());
        assert!(set.take("POST", "/api/x/publish").is_some());
        assert!(set.take("POST", "/api/x/publish").is_some());
        assert!(set.take("POST", "/api/x/publish").is_none());

        set.add(Fault {
            method: None,
            path_contains: String::new(),
            times: 0,
            action: FaultAction::DropAfterHandling,
        });
        for _ in 0..5 {
            assert!(set.take("GET", "/anything").is_some());
        }
    }
}
