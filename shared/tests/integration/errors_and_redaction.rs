//! Each error kind, with Microsoft's code and message kept; no secret, token or signature shown anywhere.

use serde_json::json;
use shared::cpp::{ErrorKind, OfferView};
use wiremock::ResponseTemplate;

use crate::support::*;

const SAS: &str = "https://acct.blob.core.windows.net/vhds/os.vhd?sv=2021-08-06&sr=b&sp=rl&se=2027-01-31T00:00:00Z&sig=SAS-SIGNATURE-NEVER-SHOWN";

#[tokio::test]
async fn each_status_maps_to_its_kind_with_the_cpp_code_and_message() {
    let cases = [
        (400, "InvalidAPIVersion", ErrorKind::Rejected),
        (403, "Forbidden", ErrorKind::Unauthorized),
        (404, "NotFound", ErrorKind::NotFound),
        (409, "InvalidResourceId", ErrorKind::Conflict),
        (412, "PreconditionFailed", ErrorKind::PreconditionFailed),
        (422, "UnprocessableEntity", ErrorKind::Rejected),
        (429, "TooManyRequests", ErrorKind::Throttled),
        (503, "ServiceUnavailable", ErrorKind::Transient),
    ];
    for (status, code, kind) in cases {
        let server = server().await;
        answer(
            &server,
            "GET",
            OFFER_PATH,
            ResponseTemplate::new(status).set_body_json(
                json!({"error": {"code": code, "message": format!("said {status}")}}),
            ),
            None,
        )
        .await;
        let (client, _) = client(&server);
        let err = client
            .get_offer("contoso", "contoso-linux", OfferView::Draft)
            .await
            .unwrap_err();
        assert_eq!(
            (err.kind, err.status, err.code.as_deref()),
            (kind, Some(status), Some(code)),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            format!("CPP GET {OFFER_PATH} returned {status} {code}: said {status}")
        );
    }
}

#[tokio::test]
async fn an_unreadable_body_names_the_json_path() {
    let server = server().await;
    answer(
        &server,
        "GET",
        format!("{OFFER_PATH}/operations/op-1"),
        ResponseTemplate::new(200).set_body_json(
            json!({"status": "running", "steps": [{"status": "complete"}, {"status": 7}]}),
        ),
        None,
    )
    .await;
    let (client, _) = client(&server);
    let err = client
        .get_operation("contoso", "contoso-linux", "op-1")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Decode);
    assert!(err.to_string().contains("steps[1].status"), "{err}");
}

#[tokio::test]
async fn secrets_tokens_and_signatures_never_show() {
    let server = server().await;
    let offer = json!({"id": "contoso-linux", "definition": {"plans": [{"planId": "gen2",
        "microsoft-azure-virtualmachines.vmImages": {"1.0.0": {"osVhdUrl": SAS}}}]}});
    answer(
        &server,
        "GET",
        OFFER_PATH,
        ResponseTemplate::new(200)
            .set_body_json(offer)
            .insert_header("ETag", "W/\"e1\""),
        None,
    )
    .await;
    answer(&server, "PUT", OFFER_PATH, ResponseTemplate::new(400).set_body_json(json!({"error": {"code": "BadRequest", "message": format!("osVhdUrl {SAS} is not reachable")}})), None).await;
    answer(
        &server,
        "GET",
        format!("{OFFER_PATH}/status"),
        ResponseTemplate::new(200).set_body_json(json!({"status": {"bad": SAS}})),
        None,
    )
    .await;
    let (client, _) = client(&server);
    let offer = client
        .get_offer("contoso", "contoso-linux", OfferView::Draft)
        .await
        .unwrap();
    let put_error = client.put_offer("contoso", &offer).await.unwrap_err();
    let decode_error = client
        .offer_status("contoso", "contoso-linux")
        .await
        .unwrap_err();
    let config = config(&server.uri(), &server.uri());

    let shown = format!(
        "{client:?} {offer:?} {put_error} {put_error:?} {decode_error} {decode_error:?} {config:?}"
    );
    for secret in [SECRET, TOKEN, "SAS-SIGNATURE-NEVER-SHOWN"] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    assert!(put_error.message.contains("sig=REDACTED"), "{put_error}");
}
