//! What went wrong in a call to a Microsoft API, as a kind the workflow names its errors by.

use std::fmt;

pub use crate::failure::ErrorKind;

/// One failed step against a Microsoft API; its text never holds a token, a secret or a SAS signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarketError {
    pub kind: ErrorKind,
    pub message: String,
}

impl MarketError {
    pub fn new(kind: ErrorKind, message: impl AsRef<str>) -> Self {
        Self {
            kind,
            message: crate::redact::redact_sas(message.as_ref()).into_owned(),
        }
    }
}

impl fmt::Display for MarketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MarketError {}
