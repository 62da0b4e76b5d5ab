//! What a command refuses or fails with: a message for the operator, and the exit code it ends with.

use std::fmt;

#[derive(Debug)]
pub struct CliError {
    pub message: String,
    /// 1: refused or failed; 3: the state machine or Microsoft could not be reached.
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
