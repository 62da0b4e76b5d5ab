#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The state machine definition and the SAM template against the workflow contract (the flow, the
//! error names, the configuration of the README): each test names one behaviour, checks the real
//! files, and, where the check is ours, shows on a broken copy that it would catch the breakage.
//!
//! `definition`: the flow, errors, retries and notices of the state machine; `template`: what the SAM
//! template deploys and how it wires the definition; `operations`: alarms, metrics and the dashboard.

mod definition;
mod operations;
mod template;

use std::collections::BTreeSet;

use infra_checks::asl::{self, Asl};
use infra_checks::diagram;
use infra_checks::follow::{self, Route, Stop};
use infra_checks::routing;
use infra_checks::template::{Template, policy_statements, statement_actions};
use infra_checks::{read_repo_file, repo_root};
use serde_json::{Value, json};
use shared::workflow::ErrorName;

const ASL_PATH: &str = "infra/statemachine/publish.asl.json";
const RELEASE_ASL_PATH: &str = "infra/statemachine/release.asl.json";
const TEMPLATE_PATH: &str = "infra/template.yaml";

fn definition() -> Asl {
    Asl::parse(&read_repo_file(ASL_PATH).unwrap()).unwrap()
}

fn template() -> Template {
    Template::parse(&read_repo_file(TEMPLATE_PATH).unwrap()).unwrap()
}

fn error_names() -> Vec<&'static str> {
    ErrorName::ALL.iter().map(|name| name.as_str()).collect()
}

/// The definition with one JSON value replaced (`pointer` into the document).
fn broken(pointer: &str, value: Value) -> Asl {
    let mut doc = definition().into_value();
    *doc.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} is not in the ASL")) = value;
    Asl::from_value(doc)
}

/// The definition with one field removed.
fn without(pointer: &str) -> Asl {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let mut doc = definition().into_value();
    doc.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .and_then(|o| o.remove(key))
        .unwrap_or_else(|| panic!("{pointer} is not in the ASL"));
    Asl::from_value(doc)
}

fn assert_none(problems: Vec<String>) {
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn assert_found(problems: Vec<String>, needle: &str) {
    assert!(
        problems.iter().any(|p| p.contains(needle)),
        "expected a problem mentioning {needle:?}, got {problems:#?}"
    );
}
