//! Secrets: all four handlers run through a fault-heavy sequence while every log line is captured at
//! TRACE (spans included), and every error, output and `Debug` of their dependencies is kept. None of
//! it may hold a bearer token the emulator issued, the client secret, or the `sig` of a SAS URL.

use std::time::Duration;

use lambda_runtime::Diagnostic;
use serde_json::json;
use shared::cpp::VM_IMAGES_KEY;
use shared::workflow::{Action, ErrorName, RunStatus, WorkflowError, WorkflowState};
use test_harness::cpp_emulator::{EmulatorConfig, FaultAction};
use test_harness::{Harness, OFFER, PUBLISHER, request};

use crate::aws::{self, BUCKET, KEY, Trigger};
use crate::captured::capture_trace;
use crate::support::*;

const SECRET: &str = "client-s3cret-NEVER-shown-7c1f";
/// The signature of the image this run publishes.
const SIGNATURE: &str = "SIGvalue%2BNEVERshown%3D";

/// What the run showed: errors (Display and Debug), outputs, diagnostics.
#[derive(Default)]
struct Shown(Vec<String>);

impl Shown {
    fn error(&mut self, err: WorkflowError) -> WorkflowError {
        self.0.push(format!("{err} {err:?}"));
        let diagnostic: Diagnostic = err.clone().into();
        self.0.push(format!("{diagnostic:?}"));
        err
    }

    /// The state carries the request whole, SAS URL included (the next steps write and compare it):
    /// that field is the one place it may be. Everything else, Microsoft's messages too, must be clean.
    fn output(&mut self, state: &WorkflowState) {
        let mut value = serde_json::to_value(state).unwrap();
        value.as_object_mut().unwrap().shift_remove("osVhdUrl");
        self.0.push(value.to_string());
        self.0.push(format!("{state:?}"));
    }

    fn result(
        &mut self,
        result: Result<WorkflowState, WorkflowError>,
    ) -> Result<WorkflowState, WorkflowError> {
        match result {
            Ok(state) => {
                self.output(&state);
                Ok(state)
            }
            Err(err) => Err(self.error(err)),
        }
    }
}

/// The `sig` values in `text` (URLs in JSON or plain text).
fn signatures(text: &str) -> Vec<String> {
    text.match_indices("sig=")
        .map(|(at, _)| {
            text[at + 4..]
                .split(['&', '"', '\'', '<', ' ', '\\'])
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .filter(|s| !s.is_empty() && s != "REDACTED")
        .collect()
}

fn our_request() -> shared::workflow::PublishRequest {
    let mut r = request(VERSION);
    r.os_vhd_url = r
        .os_vhd_url
        .replace("sig=sig-1.1.0", &format!("sig={SIGNATURE}"));
    r
}

#[tokio::test]
async fn no_token_secret_or_signature_in_any_log_error_or_output() {
    let (captured, _installed) = capture_trace();

    let config = EmulatorConfig {
        client_secret: SECRET.into(),
        ..EmulatorConfig::default()
    };
    let watched = format!("{PUBLISHER}/{OFFER},{PUBLISHER}/no-such-offer");
    let h = Harness::with(config, &[("CPP_WATCH_OFFERS", &watched)]).await;
    let mut shown = Shown::default();
    shown.0.push(format!("{:?}", h.deps));
    let mut state = WorkflowState::start(our_request(), Action::Publish);

    // CPP refuses a write, quoting the SAS URL back in its message.
    let mut other = our_request();
    other.version = "1.2.0".into();
    let quoted = json!({"error": {"code": "InvalidSasUri",
        "message": format!("The osVhdUrl {} could not be read.", other.os_vhd_url)}});
    h.emulator.inject_fault(fault(
        "PUT",
        OFFER_PATH,
        1,
        FaultAction::Status {
            status: 400,
            retry_after: None,
            body: Some(quoted),
        },
    ));
    let err = shown
        .result(update(&h, &WorkflowState::start(other, Action::Publish)).await)
        .unwrap_err();
    assert_eq!(err.name, ErrorName::Rejected);

    // update-and-publish: token endpoint down once, throttled reads, a lost ETag race, the publish's
    // answer lost; then the state machine's retry resumes it.
    h.emulator
        .inject_fault(fault("POST", "/oauth2/token", 1, status(503)));
    h.emulator
        .inject_fault(fault("GET", OFFER_PATH, 1, throttled("3")));
    h.emulator.inject_fault(fault(
        "PUT",
        OFFER_PATH,
        1,
        FaultAction::ConcurrentWrite {
            pointer: "/definition/offer".into(),
            patch: json!({"microsoft-azure-marketplace.summary": "edited in the portal"}),
        },
    ));
    h.emulator
        .inject_fault(fault("POST", "/publish", 1, FaultAction::DropAfterHandling));
    let err = shown.result(update(&h, &state).await).unwrap_err();
    assert_eq!(err.name, ErrorName::Transient);
    state = shown.result(update(&h, &state).await).unwrap();

    // check-last-operation: revoked tokens, a 5xx burst, a token expiring between two checks.
    h.emulator.revoke_tokens();
    h.emulator
        .inject_fault(fault("GET", "/operations/", 2, status(502)));
    state = shown.result(check(&h, &state).await).unwrap();
    h.advance(Duration::from_secs(2 * 3_600));
    state = shown.result(check(&h, &state).await).unwrap();
    h.advance(DAY * 5);
    state = shown.result(check(&h, &state).await).unwrap();
    assert_eq!(state.operation_status, Some(RunStatus::Succeeded));

    // validate-and-go-live: a throttled go-live, a connection dropped before it was handled, the retry.
    state.action = Action::GoLive;
    h.emulator
        .inject_fault(fault("POST", "/golive", 1, throttled("30")));
    let err = shown.result(go_live(&h, &state).await).unwrap_err();
    assert_eq!(err.name, ErrorName::Throttled);
    h.emulator
        .inject_fault(fault("POST", "/golive", 1, FaultAction::DropBeforeHandling));
    let err = shown.result(go_live(&h, &state).await).unwrap_err();
    assert_eq!(err.name, ErrorName::Transient);
    state = shown.result(go_live(&h, &state).await).unwrap();

    // Certification fails, and Microsoft's message quotes the image URL (HTML-escaped, as in HTML).
    let escaped = our_request().os_vhd_url.replace('&', "&amp;");
    h.emulator.fail_operation_at_step(
        PUBLISHER,
        OFFER,
        "live",
        &format!("<p>The VHD <a href=\"{escaped}\">{escaped}</a> could not be copied.</p>"),
    );
    h.advance(DAY);
    let failed = shown.result(check(&h, &state).await).unwrap();
    assert_eq!(failed.operation_status, Some(RunStatus::Failed));
    assert!(
        failed
            .messages
            .iter()
            .any(|m| m.contains("could not be copied")),
        "{:?}",
        failed.messages
    );

    // The scheduled report, one offer failing, with a throttled list in between.
    h.emulator
        .inject_fault(fault("GET", "/submissions", 1, throttled("1")));
    let report = check_last_operation::handle(
        lambda_runtime::LambdaEvent::new(json!({"mode": "report"}), test_harness::context()),
        &h.deps,
    )
    .await
    .map_err(|e| shown.error(e))
    .unwrap();
    shown.0.push(report.to_string());

    // Bad input that carries the SAS URL where it does not belong.
    let mut bad =
        serde_json::to_value(WorkflowState::start(our_request(), Action::Publish)).unwrap();
    bad["notificationEmails"] = json!(our_request().os_vhd_url);
    let err = update_and_publish::handle(
        lambda_runtime::LambdaEvent::new(bad, test_harness::context()),
        &h.deps,
    )
    .await
    .unwrap_err();
    shown.error(err);

    // build-finished with the same image: read from S3, started, refused when misplaced.
    let t = Trigger::start().await;
    let mut manifest = aws::manifest();
    manifest["osVhdUrl"] = json!(our_request().os_vhd_url.replace("2099-01-31", "2030-12-31"));
    t.s3.put(BUCKET, KEY, manifest.to_string());
    let output = t.run(aws::notification(BUCKET, KEY)).await.unwrap();
    shown.0.push(output.to_string());
    let mut misplaced = manifest.clone();
    misplaced["goLive"] = manifest["osVhdUrl"].clone();
    let err = t.run(misplaced).await.unwrap_err();
    shown.error(err);
    shown.0.push(format!("{:?}", t.deps));

    // What must never show.
    let tokens = h.emulator.issued_tokens();
    assert!(
        tokens.len() >= 4,
        "fresh, after 503, after revocation, after expiry: {tokens:?}"
    );
    let draft = h.draft().to_string();
    let mut signatures = signatures(&draft);
    signatures.extend(signatures_of(&h));
    signatures.push(SIGNATURE.to_owned());
    signatures.push(aws::SIGNATURE.to_owned());
    let logs = captured.text();
    let mut secrets: Vec<(&str, &str)> = tokens
        .iter()
        .map(|t| ("a bearer token", t.as_str()))
        .collect();
    secrets.push(("the client secret", SECRET));
    secrets.push(("the AWS secret access key", aws::AWS_SECRET_KEY));
    secrets.extend(signatures.iter().map(|s| ("a SAS signature", s.as_str())));
    for text in logs.lines().chain(shown.0.iter().map(String::as_str)) {
        for (what, secret) in &secrets {
            if let Some(at) = text.find(secret) {
                let context = &text[text.floor_char_boundary(at.saturating_sub(120))..at];
                panic!("{what} shows, after: {context}");
            }
        }
    }

    // Values are logged as themselves (`operation_id="3b93…"`), never as Rust's `Some("3b93…")`.
    assert!(logs.contains("operation_id="), "an operation id was logged");
    let ours = [
        "shared::",
        "build_finished",
        "update_and_publish:",
        "check_last_operation:",
        "validate_and_go_live:",
    ];
    let our_lines = logs.lines().filter(|l| {
        let target = l.splitn(2, "}: ").last().unwrap_or(l);
        ours.iter().any(|t| target.trim_start().starts_with(t))
    });
    if let Some(line) = our_lines.clone().find(|l| l.contains("Some(")) {
        panic!("a value logged as a Rust Option: {line}");
    }

    // The capture saw the run: retries, renewals, requests at DEBUG, spans.
    for expected in [
        "retrying CPP call",
        "CPP answered 401",
        "CPP call",
        "update_and_publish",
        "validate_and_go_live",
        "offer status",
        "started publish execution",
        "sig=REDACTED",
    ] {
        assert!(
            logs.contains(expected) || shown.0.iter().any(|s| s.contains(expected)),
            "{expected:?} never logged or shown"
        );
    }
}

/// Every signature of every image the offer held at any point: the seeded ones too.
fn signatures_of(h: &Harness) -> Vec<String> {
    let mut found = Vec::new();
    for slot in ["draft", "preview", "production"] {
        let doc = match slot {
            "draft" => h.emulator.draft(PUBLISHER, OFFER),
            other => h.emulator.slot(PUBLISHER, OFFER, other),
        };
        if let Some(doc) = doc {
            for plan in doc["definition"]["plans"].as_array().into_iter().flatten() {
                for image in plan[VM_IMAGES_KEY].as_object().into_iter().flatten() {
                    found.extend(signatures(&image.1.to_string()));
                }
            }
        }
    }
    found
}
