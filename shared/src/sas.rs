//! Shared-access-signature URLs of VHD blobs: validation, identity, and display without the signature.

use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime};
use url::Url;

use crate::redact::redact_sas;

/// Query parameters that change when a SAS is re-signed for the same blob.
const VOLATILE_PARAMS: [&str; 4] = ["st", "se", "sv", "sig"];

/// Blob endpoints of the Azure clouds CPP publishes from.
const BLOB_HOST_SUFFIXES: [&str; 3] = [
    ".blob.core.windows.net",
    ".blob.core.usgovcloudapi.net",
    ".blob.core.chinacloudapi.cn",
];

/// A parsed SAS URL. Its `Debug` and `Display` show the signature as `REDACTED`.
#[derive(Clone, PartialEq, Eq)]
pub struct SasUrl(Url);

impl fmt::Debug for SasUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SasUrl({})", redact_sas(self.0.as_str()))
    }
}

impl fmt::Display for SasUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_sas(self.0.as_str()))
    }
}

impl SasUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        Url::parse(raw.trim())
            .map(Self)
            .map_err(|e| format!("is not a URL ({e})"))
    }

    fn param(&self, name: &str) -> Option<String> {
        self.0
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The `se` expiry, in any of the ISO 8601 forms Azure accepts.
    pub fn expiry(&self) -> Option<OffsetDateTime> {
        parse_sas_time(&self.param("se")?)
    }

    /// Checks what CPP needs to copy the VHD: https on an Azure blob host, a signature, read and
    /// list rights, and an expiry at least `min_validity` after `now`. The message says what is wrong.
    pub fn check_usable(&self, now: OffsetDateTime, min_validity: Duration) -> Result<(), String> {
        if self.0.scheme() != "https" {
            return Err("must be https".into());
        }
        let host = self.0.host_str().unwrap_or_default().to_ascii_lowercase();
        if !BLOB_HOST_SUFFIXES
            .iter()
            .any(|suffix| host.ends_with(suffix) && host.len() > suffix.len())
        {
            return Err(format!(
                "host {host:?} is not an Azure blob storage host (*{})",
                BLOB_HOST_SUFFIXES[0]
            ));
        }
        if self.param("sig").is_none_or(|s| s.is_empty()) {
            return Err("has no SAS signature (sig)".into());
        }
        let rights = self.param("sp").unwrap_or_default();
        if !(rights.contains('r') && rights.contains('l')) {
            return Err(format!(
                "SAS permissions sp={rights:?} must include read (r) and list (l)"
            ));
        }
        let expiry = self.expiry().ok_or("has no readable SAS expiry (se)")?;
        if expiry < now + min_validity {
            return Err(format!(
                "SAS expires {expiry}, less than {} days from now; CPP copies the VHD during certification, which takes days",
                min_validity.whole_days()
            ));
        }
        Ok(())
    }

    /// The same blob with the same rights: re-signing (st, se, sv, sig) does not make a new image.
    pub fn same_image(&self, other: &SasUrl) -> bool {
        let identity = |u: &Url| {
            let mut params: Vec<(String, String)> = u
                .query_pairs()
                .filter(|(k, _)| !VOLATILE_PARAMS.contains(&k.as_ref()))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            params.sort();
            (
                u.scheme().to_owned(),
                u.host_str().map(str::to_ascii_lowercase),
                u.port_or_known_default(),
                u.path().to_owned(),
                params,
            )
        };
        identity(&self.0) == identity(&other.0)
    }
}

/// Two image URLs name the same image; text that is not a URL compares as text.
pub fn same_image_url(a: &str, b: &str) -> bool {
    match (SasUrl::parse(a), SasUrl::parse(b)) {
        (Ok(a), Ok(b)) => a.same_image(&b),
        _ => a.trim() == b.trim(),
    }
}

fn parse_sas_time(text: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t);
    }
    let minutes = format_description!("[year]-[month]-[day]T[hour]:[minute]Z");
    if let Ok(t) = PrimitiveDateTime::parse(text, minutes) {
        return Some(t.assume_utc());
    }
    let day = format_description!("[year]-[month]-[day]");
    Date::parse(text, day)
        .ok()
        .map(|d| d.midnight().assume_utc())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-11-21 00:00 UTC);
    const GOOD: &str = "https://acct.blob.core.windows.net/vhds/os-1.4.0.vhd?sv=2021-08-06&sr=b&sp=rl&se=2027-01-31T00:00:00Z&sig=abc";

    fn check(url: &str) -> Result<(), String> {
        SasUrl::parse(url)?.check_usable(NOW, Duration::days(21))
    }

    #[test]
    fn a_good_url_passes() {
        check(GOOD).unwrap();
        check("https://a.blob.core.windows.net/c/d.vhd?sp=racwl&se=2027-01-31&sig=x").unwrap();
        check("https://a.blob.core.windows.net/c/d.vhd?sp=rl&se=2027-01-31T10:00Z&sig=x").unwrap();
    }

    #[test]
    fn each_problem_is_named() {
        let cases = [
            (GOOD.replace("https", "http"), "https"),
            (
                GOOD.replace("acct.blob.core.windows.net", "acct.example.com"),
                "blob storage host",
            ),
            (
                GOOD.replace("acct.blob.core.windows.net", "blob.core.windows.net"),
                "blob storage host",
            ),
            (GOOD.replace("&sig=abc", ""), "signature"),
            (GOOD.replace("sp=rl", "sp=r"), "list (l)"),
            (GOOD.replace("&se=2027-01-31T00:00:00Z", ""), "expiry"),
            (
                GOOD.replace("2027-01-31", "2026-12-01"),
                "less than 21 days",
            ),
            (
                GOOD.replace("2027-01-31", "2025-01-01"),
                "less than 21 days",
            ),
        ];
        for (url, problem) in cases {
            let err = check(&url).unwrap_err();
            assert!(err.contains(problem), "{url}: {err}");
        }
        assert!(check("not a url").unwrap_err().contains("not a URL"));
    }

    #[test]
    fn resigning_keeps_the_image_identity() {
        let resigned = "https://ACCT.blob.core.windows.net/vhds/os-1.4.0.vhd?sp=rl&sr=b&st=2026-11-01&se=2027-03-01T00:00:00Z&sv=2022-11-02&sig=other";
        assert!(same_image_url(GOOD, resigned));
        assert!(!same_image_url(GOOD, &GOOD.replace("os-1.4.0", "os-1.5.0")));
        assert!(!same_image_url(GOOD, &GOOD.replace("sr=b", "sr=c")));
        assert!(same_image_url("plain text", " plain text "));
    }

    #[test]
    fn display_and_debug_hide_the_signature() {
        let url = SasUrl::parse(GOOD).unwrap();
        let shown = format!("{url} {url:?}");
        assert!(
            !shown.contains("sig=abc") && shown.contains("sig=REDACTED"),
            "{shown}"
        );
    }
}
