//! Image version numbers `MAJOR.MINOR.PATCH`, as both APIs write them, ordered numerically.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// An image version `MAJOR.MINOR.PATCH`, ordered numerically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ImageVersion {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a version MAJOR.MINOR.PATCH of whole numbers without leading zeros")]
pub struct VersionError(pub String);

impl ImageVersion {
    /// Reads a key already in an offer: leading zeros are tolerated (date-like `2019.01.05` keys exist).
    pub fn parse_existing(key: &str) -> Option<Self> {
        let mut parts = key.split('.');
        let mut next = || -> Option<u64> {
            let part = parts.next()?;
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let version = Self {
            major: next()?,
            minor: next()?,
            patch: next()?,
        };
        parts.next().is_none().then_some(version)
    }
}

/// Strict parsing for versions this pipeline writes: `1.4.0`, not `01.4.0`, `1.4` or `1.4.0-rc1`.
impl FromStr for ImageVersion {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let leading_zero = text.split('.').any(|p| p.len() > 1 && p.starts_with('0'));
        match Self::parse_existing(text) {
            Some(version) if !leading_zero => Ok(version),
            _ => Err(VersionError(text.to_owned())),
        }
    }
}

impl fmt::Display for ImageVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl Ord for ImageVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch))
    }
}

impl PartialOrd for ImageVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
