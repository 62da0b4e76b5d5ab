//! Entra ID's federated identity credentials: which issuer, subject and audience an app trusts, and
//! the check of a client assertion against them, refused the way Entra refuses.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use super::jwt::{Unreadable, verify};

/// One federated identity credential on the emulator's app registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FederatedCredential {
    pub issuer: String,
    pub subject: String,
    #[serde(default = "entra_audiences")]
    pub audiences: Vec<String>,
}

fn entra_audiences() -> Vec<String> {
    vec![super::ENTRA_AUDIENCE.to_owned()]
}

/// Entra's refusal of an assertion: the AADSTS code and its description.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refused {
    pub code: &'static str,
    pub description: String,
}

fn refused(code: &'static str, description: impl Into<String>) -> Refused {
    Refused {
        code,
        description: format!("{code}: {}", description.into()),
    }
}

/// Checks `assertion` as Entra does: signature against the issuer's keys, then `iss`, `sub` and `aud`
/// matching one credential exactly, and `exp` in the future.
pub(crate) fn check(
    assertion: &str,
    jwks: &Value,
    credentials: &[FederatedCredential],
    now: OffsetDateTime,
) -> Result<(), Refused> {
    let claims = verify(assertion, jwks).map_err(|e| match e {
        Unreadable::Malformed(why) => refused("AADSTS50027", format!("JWT token is invalid or malformed ({why}).")),
        Unreadable::BadSignature => refused(
            "AADSTS50013",
            "Assertion failed signature validation. The key was not found among the issuer's signing keys, or the signature does not match.",
        ),
    })?;
    let text = |name: &str| claims[name].as_str().unwrap_or_default().to_owned();
    let (iss, sub) = (text("iss"), text("sub"));
    let audiences: Vec<String> = match &claims["aud"] {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    let matches = credentials.iter().any(|c| {
        c.issuer == iss && c.subject == sub && audiences.iter().any(|a| c.audiences.contains(a))
    });
    if !matches {
        return Err(refused(
            "AADSTS70021",
            format!(
                "No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{}'.",
                audiences.join(",")
            ),
        ));
    }
    let expires = claims["exp"].as_i64().unwrap_or(0);
    if expires <= now.unix_timestamp() {
        return Err(refused(
            "AADSTS700024",
            "Client assertion is not within its valid time range.",
        ));
    }
    Ok(())
}
