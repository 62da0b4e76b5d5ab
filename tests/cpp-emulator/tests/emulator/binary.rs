//! The `cpp-emulator` binary: prints its URL, serves, and exits cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;

use crate::common::request_token;

#[tokio::test]
async fn binary_prints_its_url_serves_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cpp-emulator"))
        .args(["--port", "0", "--clock-scale", "0", "--no-seed"])
        .env("CPP_CLIENT_ID", "bin-client")
        .env("CPP_CLIENT_SECRET", "bin-secret")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let read_line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    // A guard against a hung binary, not a sleep.
    let line = tokio::time::timeout(Duration::from_secs(30), read_line)
        .await
        .expect("the binary printed nothing")
        .unwrap()
        .unwrap();
    let url = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let http = reqwest::Client::new();
    let resource = "https://cloudpartner.azure.com";
    let ok = request_token(&http, &url, "bin-client", "bin-secret", resource).await;
    assert_eq!(
        ok.status(),
        StatusCode::OK,
        "credentials come from the environment"
    );
    let token = ok.json::<serde_json::Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let publishers: serde_json::Value = http
        .get(format!("{url}/api/publishers?api-version=2017-10-31"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(publishers, serde_json::json!([]), "--no-seed");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status}");
}
