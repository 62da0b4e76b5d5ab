//! The README's flow diagram (a Mermaid flowchart) against the definition: the same states and the
//! same transitions, so the picture people read is the machine that runs.

use std::collections::BTreeSet;

use crate::asl::Asl;

/// The edges `(from, to)` of the first Mermaid flowchart in a Markdown text. Understands what the
/// README uses: `A --> B`, `A -- label --> B`, `A -->|label| B`, chains `A --> B --> C`, `A & B`, and
/// node shapes (`A{text}`, `A[[text]]`, `A([text])`, `A((text))`, `A[/text/]`).
pub fn mermaid_edges(markdown: &str) -> Result<BTreeSet<(String, String)>, String> {
    let start = markdown
        .find("```mermaid")
        .ok_or("no Mermaid diagram in the text")?;
    let body = &markdown[start..];
    let body = &body[body.find('\n').unwrap_or(body.len())..];
    let end = body
        .find("```")
        .ok_or("the Mermaid diagram is not closed")?;
    let mut edges = BTreeSet::new();
    for line in body[..end].lines().map(str::trim) {
        if line.is_empty() || line.starts_with("flowchart") || line.starts_with("%%") {
            continue;
        }
        let parts: Vec<&str> = line.split("-->").collect();
        if parts.len() < 2 {
            return Err(format!("a diagram line without an edge: {line:?}"));
        }
        let nodes: Vec<Vec<String>> = parts
            .iter()
            .enumerate()
            .map(|(i, part)| {
                // The label of the edge that leaves this part, or of the one that enters it.
                let part = if i + 1 < parts.len() {
                    part.split(" -- ").next().unwrap_or(part)
                } else {
                    part
                };
                let part = part.trim();
                let part = match part.strip_prefix('|') {
                    Some(rest) => rest.split_once('|').map_or(rest, |(_, after)| after),
                    None => part,
                };
                part.split('&').map(node_id).collect()
            })
            .collect();
        for pair in nodes.windows(2) {
            for from in &pair[0] {
                for to in &pair[1] {
                    edges.insert((from.clone(), to.clone()));
                }
            }
        }
    }
    Ok(edges)
}

/// A node's id: its name before any shape.
fn node_id(text: &str) -> String {
    text.trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The top-level transitions of the definition (Next, Default, Choices, Catch), without duplicates.
pub fn transitions(asl: &Asl) -> BTreeSet<(String, String)> {
    asl.top_level_states()
        .iter()
        .flat_map(|s| {
            s.transitions()
                .into_iter()
                .map(|t| (s.name.to_owned(), t.target.to_owned()))
        })
        .collect()
}

/// Transitions the diagram lacks, and edges it draws that the definition does not have.
pub fn diagram_problems(asl: &Asl, markdown: &str) -> Vec<String> {
    let drawn = match mermaid_edges(markdown) {
        Ok(edges) => edges,
        Err(e) => return vec![e],
    };
    let defined = transitions(asl);
    let mut problems: Vec<String> = defined
        .difference(&drawn)
        .map(|(a, b)| format!("the diagram lacks {a} --> {b}"))
        .collect();
    problems.extend(drawn.difference(&defined).map(|(a, b)| {
        format!("the diagram draws {a} --> {b}, which the definition does not have")
    }));
    let states: BTreeSet<String> = asl
        .top_level_states()
        .iter()
        .map(|s| s.name.to_owned())
        .collect();
    let nodes: BTreeSet<String> = drawn
        .iter()
        .flat_map(|(a, b)| [a.clone(), b.clone()])
        .collect();
    problems.extend(
        states
            .difference(&nodes)
            .map(|s| format!("the diagram does not show {s}")),
    );
    problems
}
