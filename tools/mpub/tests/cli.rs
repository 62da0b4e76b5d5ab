//! The command line itself: usage errors, a deployment that is not named, a manifest that cannot
//! be read. (Against the local stack, every command: tests/e2e/mpub.test.mjs.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

/// mpub with a clean environment: no AWS or CPP settings of the developer's leak in.
fn mpub(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mpub"));
    for (name, _) in std::env::vars() {
        if name.starts_with("AWS_") || name.starts_with("CPP_") || name.starts_with("MPUB_") {
            command.env_remove(name);
        }
    }
    command
        .args(args)
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn go_live_takes_an_execution_or_offer_plan_and_version() {
    let two = mpub(&["go-live", "contoso-linux", "gen2"]);
    assert_eq!(
        two.status.code(),
        Some(2),
        "a usage error: {}",
        stderr(&two)
    );
    assert!(
        stderr(&two).contains("EXECUTION, or OFFER PLAN VERSION"),
        "{}",
        stderr(&two)
    );
    let four = mpub(&["go-live", "a", "b", "c", "d"]);
    assert_eq!(
        four.status.code(),
        Some(2),
        "a usage error: {}",
        stderr(&four)
    );
}

#[test]
fn without_a_stack_or_a_state_machine_it_says_how_to_name_one() {
    let status = mpub(&["status"]);
    assert_eq!(status.status.code(), Some(1));
    assert!(
        stderr(&status).contains("--stack NAME"),
        "{}",
        stderr(&status)
    );
    assert!(status.stdout.is_empty());
}

#[test]
fn a_manifest_that_cannot_be_read_is_named() {
    let plan = mpub(&["plan", "/nonexistent/manifest.json"]);
    assert_eq!(plan.status.code(), Some(1));
    assert!(
        stderr(&plan).contains("/nonexistent/manifest.json"),
        "{}",
        stderr(&plan)
    );
}

#[test]
fn a_plan_without_microsoft_s_settings_names_the_missing_one() {
    let dir = std::env::temp_dir().join(format!("mpub-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = dir.join("manifest.json");
    std::fs::write(
        &manifest,
        r#"{"offerId": "o", "planId": "p", "version": "1.0.0"}"#,
    )
    .unwrap();
    let plan = mpub(&["plan", manifest.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(plan.status.code(), Some(1));
    assert!(
        stderr(&plan).contains("ConfigError: configuration CPP_"),
        "names the variable: {}",
        stderr(&plan)
    );
}
