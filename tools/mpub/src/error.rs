//! What a command refuses or fails with: a message for the operator, and the exit code it ends with.

use std::fmt;

#[derive(Debug)]
pub struct CliError {
    pub message: String,
    /// 1: refused or failed; 2: not a valid command line; 3: Step Functions or Microsoft could not be asked.
    pub code: u8,
}

impl CliError {
    /// The command was refused: what it was asked to do does not apply.
    pub fn refused(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 1,
        }
    }

    /// The command line asks for something that cannot be asked that way.
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 2,
        }
    }

    /// A service could not be asked.
    pub fn unreachable(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 3,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}
