//! mpub's human output: a table per command (JSON with `--json` is printed by main).

use shared::table::{Column, render};

use crate::stage::StatusLine;

pub fn status_table(lines: &[StatusLine]) -> String {
    if lines.is_empty() {
        return "no publications\n".to_owned();
    }
    let columns = [
        Column {
            heading: "OFFER",
            max: 40,
        },
        Column {
            heading: "PLAN",
            max: 30,
        },
        Column {
            heading: "VERSION",
            max: 20,
        },
        Column {
            heading: "ACTION",
            max: 8,
        },
        Column {
            heading: "STAGE",
            max: 28,
        },
        Column {
            heading: "DETAIL",
            max: 60,
        },
        Column {
            heading: "STARTED",
            max: 20,
        },
        Column {
            heading: "NEXT CHECK",
            max: 20,
        },
        Column {
            heading: "EXPECTED END",
            max: 20,
        },
        Column {
            heading: "EXECUTION",
            max: 80,
        },
    ];
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            vec![
                l.offer_id.clone(),
                l.plan_id.clone(),
                l.version.clone(),
                l.action.clone(),
                l.stage.label().to_owned(),
                l.detail.clone().unwrap_or_default(),
                l.started_at.clone(),
                l.next_check_at.clone().unwrap_or_default(),
                l.expected_end_at.clone().unwrap_or_default(),
                l.execution_arn
                    .rsplit(':')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            ]
        })
        .collect();
    render(&columns, &rows)
}
