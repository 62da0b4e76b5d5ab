//! On Product Ingestion too: a run logged at TRACE, Microsoft refusing a configure by quoting the SAS
//! URL back, shows no bearer token, no client secret and no SAS signature anywhere.

use serde_json::json;
use shared::workflow::ErrorName;
use test_harness::cpp_emulator::{EmulatorConfig, FaultAction};
use test_harness::{Harness, pi_request};

use super::{go_live, start, until_done, update};
use crate::captured::capture_trace;
use crate::support::{fault, status};

const SECRET: &str = "pi-client-s3cret-NEVER-shown";
const SIGNATURE: &str = "PIsigNEVERshown%3D";

#[tokio::test]
async fn no_token_secret_or_signature_in_any_log_error_or_output() {
    let (captured, _installed) = capture_trace();
    let config = EmulatorConfig {
        client_secret: SECRET.into(),
        ..EmulatorConfig::default()
    };
    let h = Harness::with(config, &[]).await;
    let mut request = pi_request("1.1.0");
    request.os_vhd_url = request
        .os_vhd_url
        .replace("sig=sig-1.1.0", &format!("sig={SIGNATURE}"));
    let mut shown = vec![format!("{:?}", h.deps), format!("{request:?}")];

    let quoted = json!({"error": {"code": "badRequest", "message": format!("Invalid configuration: the osDisk uri {} is not readable", request.os_vhd_url)}});
    h.emulator.inject_fault(fault(
        "POST",
        "/configure",
        1,
        FaultAction::Status {
            status: 400,
            retry_after: None,
            body: Some(quoted),
        },
    ));
    let err = update(&h, &start(request.clone())).await.unwrap_err();
    assert_eq!(err.name, ErrorName::Rejected, "{err}");
    assert!(
        err.message.contains("not readable"),
        "Microsoft's message is kept: {err}"
    );
    shown.push(format!("{err} {err:?}"));

    h.emulator
        .inject_fault(fault("GET", "/status", 3, status(503)));
    let state = until_done(&h, update(&h, &start(request)).await.unwrap()).await;
    let state = until_done(&h, go_live(&h, &state).await.unwrap()).await;
    let mut output = serde_json::to_value(&state).unwrap();
    output.as_object_mut().unwrap().shift_remove("osVhdUrl");
    shown.push(output.to_string());

    let tokens = h.emulator.issued_tokens();
    assert!(!tokens.is_empty());
    let logs = captured.text();
    assert!(
        logs.contains("Product Ingestion call"),
        "the run was logged"
    );
    for text in logs.lines().chain(shown.iter().map(String::as_str)) {
        for secret in tokens.iter().map(String::as_str).chain([SECRET, SIGNATURE]) {
            assert!(!text.contains(secret), "a secret shows in: {text}");
        }
    }
}
