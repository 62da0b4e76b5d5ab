//! Starts the publishing state machine; a name that already exists is a duplicate delivery, not a failure.

use shared::workflow::{ErrorName, WorkflowError};

use crate::aws_error;

#[derive(Debug, PartialEq, Eq)]
pub enum Started {
    New {
        execution_arn: String,
    },
    /// An execution with this name exists (running or finished): the same manifest was delivered before.
    Duplicate,
}

pub async fn start_execution(
    sfn: &aws_sdk_sfn::Client,
    state_machine_arn: &str,
    name: &str,
    input: String,
) -> Result<Started, WorkflowError> {
    let result = sfn
        .start_execution()
        .state_machine_arn(state_machine_arn)
        .name(name)
        .input(input)
        .send()
        .await;
    match result {
        Ok(output) => Ok(Started::New {
            execution_arn: output.execution_arn,
        }),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_execution_already_exists()) =>
        {
            Ok(Started::Duplicate)
        }
        Err(error) => Err(aws_error::from_sdk(
            &format!("starting execution {name}"),
            &error,
            ErrorName::InvalidInput,
        )),
    }
}
