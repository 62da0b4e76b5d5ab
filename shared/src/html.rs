//! Plain text of the HTML messages Microsoft's APIs send.

/// Plain text of Microsoft's HTML messages: tags dropped, common entities decoded, spaces folded.
pub fn strip_html(html: &str) -> String {
    const BLOCK_TAGS: [&str; 12] = [
        "p", "br", "div", "li", "ul", "ol", "tr", "td", "h1", "h2", "h3", "h4",
    ];
    let mut text = String::with_capacity(html.len());
    let mut tag: Option<String> = None;
    for c in html.chars() {
        match (&mut tag, c) {
            (None, '<') => tag = Some(String::new()),
            (Some(name), '>') => {
                let name = name
                    .trim_start_matches('/')
                    .split([' ', '/'])
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                // Block tags separate words; inline ones (b, i, a, span) sit inside them.
                if BLOCK_TAGS.contains(&name.as_str()) {
                    text.push(' ');
                }
                tag = None;
            }
            (Some(name), c) => name.push(c),
            (None, c) => text.push(c),
        }
    }
    let decoded = text
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_stripped_to_plain_text() {
        assert_eq!(
            strip_html("<p>Step <i>completed</i>.</p><p>Next<br/>line</p>"),
            "Step completed. Next line"
        );
        assert_eq!(
            strip_html("a&lt;b&gt; &quot;c&quot; &#39;d&#39;&nbsp;e"),
            "a<b> \"c\" 'd' e"
        );
    }
}
