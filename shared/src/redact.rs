//! Keeps SAS signatures out of anything that may be logged or shown.

use std::borrow::Cow;

const REDACTED: &str = "REDACTED";

/// Replaces the value of every `sig=` query parameter in `text` (case-insensitive) with `REDACTED`.
///
/// Works on free text, because CPP error messages and offer documents can quote a SAS URL anywhere.
pub fn redact_sas(text: &str) -> Cow<'_, str> {
    let lower = text.to_ascii_lowercase();
    let mut starts = Vec::new();
    let mut from = 0;
    while let Some(found) = lower[from..].find("sig=") {
        let at = from + found;
        let preceded_ok = at == 0 || matches!(lower.as_bytes()[at - 1], b'?' | b'&' | b';');
        if preceded_ok {
            starts.push(at + "sig=".len());
        }
        from = at + "sig=".len();
    }
    if starts.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for start in starts {
        let end = text[start..]
            .find(|c: char| c == '&' || c == '"' || c == '\'' || c == '<' || c.is_whitespace())
            .map_or(text.len(), |len| start + len);
        out.push_str(&text[copied..start]);
        if end > start {
            out.push_str(REDACTED);
        }
        copied = end;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::redact_sas;

    #[test]
    fn signature_is_replaced_wherever_it_stands() {
        let url = "https://a.blob.core.windows.net/v/os.vhd?sv=2021&sr=b&sig=abc%2Fdef%3D&se=2027";
        assert_eq!(
            redact_sas(url),
            "https://a.blob.core.windows.net/v/os.vhd?sv=2021&sr=b&sig=REDACTED&se=2027"
        );
        let message = r#"bad url "https://x/y?SIG=secret1" and https://x/z?sp=rl&sig=secret2"#;
        let redacted = redact_sas(message);
        assert!(
            !redacted.contains("secret1") && !redacted.contains("secret2"),
            "{redacted}"
        );
    }

    #[test]
    fn text_without_signature_is_untouched() {
        assert_eq!(redact_sas("design=1&signature=x"), "design=1&signature=x");
        assert!(matches!(
            redact_sas("nothing here"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
