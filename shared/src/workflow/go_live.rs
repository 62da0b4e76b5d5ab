//! The manual go-live of a publication that stopped at preview: an execution of the same state
//! machine with the publication's input and action `goLive`, under a name derived from the
//! publication's, so Step Functions refuses to start the same go-live twice.

use serde_json::Value;

use crate::workflow::error::WorkflowError;

/// Step Functions' limit on execution names.
pub const MAX_EXECUTION_NAME: usize = 80;
const PREFIX: &str = "golive_";

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
    fn the_input_is_the_publication_s_with_action_go_live() {
        let input = json!({"offerId": "o", "planId": "p", "version": "1.0.0", "action": "publish"});
        let go_live = go_live_input(&input).unwrap();
        assert_eq!(go_live["action"], "goLive");
        assert_eq!(go_live["offerId"], "o");
        assert!(go_live_input(&json!([1])).is_err());
    }
}
