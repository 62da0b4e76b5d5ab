//! How executions are named, so that Step Functions refuses to start the same thing twice: a
//! publication is `offer_plan_version_hash` (the hash of its input, see build-finished), and the
//! manual go-live of one is an execution of the same state machine with the publication's input and
//! action `goLive`, named after the publication.

use serde_json::Value;

use crate::workflow::error::WorkflowError;

/// Step Functions' limit on execution names.
pub const MAX_EXECUTION_NAME: usize = 80;
/// What a publication's name ends with: `_` and 16 hex digits of its input's hash.
pub const HASH_SUFFIX_LEN: usize = 17;
const PREFIX: &str = "golive_";

/// `offer_plan_version` as a publication's name begins: `[A-Za-z0-9_-]` only (others become `-`),
/// cut to leave room for the hash, without a trailing `_` or `-`.
pub fn readable_name(offer: &str, plan: &str, version: &str) -> String {
    let readable = [offer, plan, version].map(sanitize).join("_");
    let readable: String = readable
        .chars()
        .take(MAX_EXECUTION_NAME - HASH_SUFFIX_LEN)
        .collect();
    readable.trim_end_matches(['_', '-']).to_owned()
}

/// A name part with every character Step Functions refuses (and `.`) as `-`.
pub fn sanitize(part: &str) -> String {
    part.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// `golive_` + the publication's execution name, cut from the front so its hash suffix survives.
pub fn go_live_execution_name(publish_name: &str) -> String {
    let room = MAX_EXECUTION_NAME - PREFIX.len();
    let skip = publish_name.chars().count().saturating_sub(room);
    format!(
        "{PREFIX}{}",
        publish_name.chars().skip(skip).collect::<String>()
    )
}

/// The go-live execution's input: the publication's input, with `action` set to `goLive`.
pub fn go_live_input(publish_input: &Value) -> Result<Value, WorkflowError> {
    let mut input = publish_input.clone();
    let Some(fields) = input.as_object_mut() else {
        return Err(WorkflowError::invalid_input(
            "the publication's input is not a JSON object",
        ));
    };
    fields.insert("action".into(), Value::from("goLive"));
    Ok(input)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_name_keeps_the_publication_s_hash_and_fits_step_functions() {
        assert_eq!(
            go_live_execution_name("contoso-linux_gen2_1-2-3_0123456789abcdef"),
            "golive_contoso-linux_gen2_1-2-3_0123456789abcdef"
        );
        let long = format!("{}_0123456789abcdef", "o".repeat(63));
        let name = go_live_execution_name(&long);
        assert_eq!(name.len(), MAX_EXECUTION_NAME);
        assert!(
            name.starts_with("golive_") && name.ends_with("_0123456789abcdef"),
            "{name}"
        );
    }

    #[test]
    fn a_publication_s_name_begins_with_its_offer_plan_and_version() {
        assert_eq!(
            readable_name("contoso.linux", "gen2", "1.2.3"),
            "contoso-linux_gen2_1-2-3"
        );
        let long = readable_name(&"o".repeat(50), &"p".repeat(50), "1.0.0");
        assert_eq!(long.len() + HASH_SUFFIX_LEN, MAX_EXECUTION_NAME);
    }

    #[test]
    fn the_input_is_the_publication_s_with_action_go_live() {
        let input = json!({"offerId": "o", "planId": "p", "version": "1.0.0", "action": "publish"});
        let go_live = go_live_input(&input).unwrap();
        assert_eq!(go_live["action"], "goLive");
        assert_eq!(go_live["offerId"], "o");
        assert!(go_live_input(&json!([1])).is_err());
    }
}
