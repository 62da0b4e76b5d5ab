//! Plain-text tables for people: the operator CLI's output and the scheduled status report's
//! e-mail. Columns are padded to their widest cell; a cell longer than its column's limit is cut
//! with an ellipsis, so one long Microsoft message does not push every row off the screen.

/// A column: its heading and the most characters a cell shows.
pub struct Column {
    pub heading: &'static str,
    pub max: usize,
}

/// `rows` under `columns`, two spaces between columns, no trailing spaces.
pub fn render(columns: &[Column], rows: &[Vec<String>]) -> String {
    let cut = |text: &str, max: usize| -> String {
        let text = text.replace(['\n', '\r', '\t'], " ");
        if text.chars().count() <= max {
            return text;
        }
        let kept: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{kept}…")
    };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            columns
                .iter()
                .enumerate()
                .map(|(i, c)| cut(row.get(i).map_or("", String::as_str), c.max))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|row| row[i].chars().count())
                .chain([c.heading.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |row: Vec<&str>| -> String {
        let padded: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut out = line(columns.iter().map(|c| c.heading).collect());
    for row in &cells {
        out.push('\n');
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_and_long_cells_are_cut() {
        let columns = [
            Column {
                heading: "OFFER",
                max: 20,
            },
            Column {
                heading: "DETAIL",
                max: 8,
            },
        ];
        let rows = vec![
            vec!["contoso-linux".into(), "certification 40%".into()],
            vec!["byol".into(), "".into()],
        ];
        assert_eq!(
            render(&columns, &rows),
            "OFFER          DETAIL\ncontoso-linux  certifi…\nbyol\n"
        );
    }
}
