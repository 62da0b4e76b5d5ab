//! Which deployment mpub speaks to: a state machine named directly, or the one a CloudFormation
//! stack's outputs name. Endpoints, region and credentials come from the standard AWS environment
//! (`AWS_ENDPOINT_URL_SFN` points it at a local stand-in).

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

use crate::error::CliError;

/// The stack output that names the publishing state machine (infra/template.yaml).
pub const STATE_MACHINE_OUTPUT: &str = "StateMachineArn";

/// Every AWS call is bounded: an operator's terminal must not hang on a dead endpoint.
pub async fn aws_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(20))
                .operation_timeout(Duration::from_secs(60))
                .build(),
        )
        .load()
        .await
}

/// The state machine an execution ARN (`arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME`) belongs to.
pub fn state_machine_of(execution_arn: &str) -> Option<String> {
    let (machine, _name) = execution_arn.rsplit_once(':')?;
    machine
        .contains(":execution:")
        .then(|| machine.replacen(":execution:", ":stateMachine:", 1))
}

/// The state machine's ARN: `state_machine` as given, else the `StateMachineArn` output of `stack`.
pub async fn state_machine_arn(
    sdk: &SdkConfig,
    stack: Option<&str>,
    state_machine: Option<&str>,
) -> Result<String, CliError> {
    if let Some(arn) = state_machine.filter(|a| !a.trim().is_empty()) {
        return Ok(arn.trim().to_owned());
    }
    let Some(stack) = stack.filter(|s| !s.trim().is_empty()) else {
        return Err(CliError::refused(
            "name the deployment: --stack NAME (or MPUB_STACK), or --state-machine ARN (or MPUB_STATE_MACHINE_ARN)",
        ));
    };
    let client = aws_sdk_cloudformation::Client::new(sdk);
    let described = client
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| {
            let message = format!(
                "reading stack {stack}: {}",
                aws_sdk_cloudformation::error::DisplayErrorContext(&e)
            );
            // CloudFormation answers a stack it does not have with ValidationError.
            match e.as_service_error().and_then(|s| s.meta().code()) {
                Some("ValidationError") => CliError::refused(message),
                _ => CliError::unreachable(message),
            }
        })?;
    described
        .stacks()
        .iter()
        .flat_map(|s| s.outputs())
        .find(|o| o.output_key() == Some(STATE_MACHINE_OUTPUT))
        .and_then(|o| o.output_value())
        .map(str::to_owned)
        .ok_or_else(|| {
            CliError::refused(format!(
                "stack {stack} has no output {STATE_MACHINE_OUTPUT}: is it this pipeline's stack?"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_execution_names_its_state_machine() {
        assert_eq!(
            state_machine_of("arn:aws:states:eu-west-1:123456789012:execution:publish:o_p_1_abc")
                .as_deref(),
            Some("arn:aws:states:eu-west-1:123456789012:stateMachine:publish")
        );
        assert_eq!(state_machine_of("o_p_1_abc"), None);
    }
}
