//! Deterministic execution names: a duplicate delivery gets the same name, and Step Functions refuses to
//! start a name twice.

use sha2::{Digest, Sha256};
use shared::workflow::{PublishRequest, readable_name};

/// Step Functions' limit on execution names.
pub const MAX_LEN: usize = shared::workflow::executions::MAX_EXECUTION_NAME;
/// 64 bits of SHA-256: collisions between different manifests of one plan and version are not a concern.
const HASH_HEX_LEN: usize = 16;

/// `offer_plan_version_hash`, only `[A-Za-z0-9_-]`, at most [`MAX_LEN`] characters.
///
/// The hash covers `input`, the execution input (the validated manifest): the same content gives the same
/// name whatever the file's formatting, and Step Functions compares exactly that input for a repeated name.
pub fn execution_name(request: &PublishRequest, input: &str) -> String {
    let readable = readable_name(&request.offer_id, &request.plan_id, &request.version);
    format!("{readable}_{}", short_hash(input.as_bytes()))
}

pub(crate) fn short_hash(content: &[u8]) -> String {
    Sha256::digest(content)
        .iter()
        .take(HASH_HEX_LEN / 2)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use shared::workflow::ManifestRules;
    use time::macros::datetime;

    use super::*;

    fn request(offer: &str, plan: &str, version: &str) -> PublishRequest {
        let manifest = json!({"publisherId": "contoso", "offerId": offer, "planId": plan, "version": version,
            "osVhdUrl": "https://acct.blob.core.windows.net/v/os.vhd?sp=rl&se=2030-01-01T00:00:00Z&sig=abc"});
        let rules = ManifestRules {
            default_publisher: None,
            default_api: shared::marketplace::Api::Cpp,
            sas_min_validity_days: 21,
            now: datetime!(2026-11-21 00:00 UTC),
        };
        PublishRequest::from_manifest_value(manifest, &rules).unwrap()
    }

    fn allowed(name: &str) -> bool {
        name.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    }

    #[test]
    fn names_are_readable_and_end_in_a_hash() {
        let name = execution_name(&request("contoso-linux", "gen2", "1.4.0"), "{}");
        let (readable, hash) = name.rsplit_once('_').unwrap();
        assert_eq!(readable, "contoso-linux_gen2_1-4-0");
        assert_eq!(hash.len(), HASH_HEX_LEN);
        assert!(
            hash.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn only_allowed_characters_within_the_length_cap() {
        // '.' is a valid id character but not a valid execution-name one.
        let odd = request("ofer.x", "gen2", "1.0.0");
        let name = execution_name(&odd, "{}");
        assert!(
            allowed(&name) && name.starts_with("ofer-x_gen2_1-0-0_"),
            "{name}"
        );
        let long = request(
            &"o".repeat(50),
            &"p".repeat(50),
            "123456789.123456789.123456789",
        );
        let name = execution_name(&long, "{}");
        assert!(allowed(&name), "{name}");
        assert_eq!(name.len(), MAX_LEN, "{name}");
        assert!(
            name.ends_with(&short_hash(b"{}")),
            "the hash survives truncation: {name}"
        );
    }

    #[test]
    fn same_content_same_name_changed_content_other_name() {
        let r = request("contoso-linux", "gen2", "1.4.0");
        let a = execution_name(&r, r#"{"osVhdUrl":"a"}"#);
        assert_eq!(a, execution_name(&r, r#"{"osVhdUrl":"a"}"#));
        assert_ne!(a, execution_name(&r, r#"{"osVhdUrl":"b"}"#));
    }
}
