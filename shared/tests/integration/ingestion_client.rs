//! The Product Ingestion client on the wire: the token's audience, `$version` on every call, paging
//! on the API's own origin only, the documented spellings, and the ids learned once.

use secrecy::SecretString;
use serde_json::json;
use shared::config::Config;
use shared::http::ErrorKind;
use shared::ingestion::{IngestionClient, IngestionOptions};
use wiremock::matchers::{body_string_contains, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{CLIENT_ID, SECRET, TENANT, TOKEN, TOKEN_PATH, retry, token_response};

fn client(server: &MockServer) -> IngestionClient {
    let base = server.uri();
    let api = format!("{base}/rp/product-ingestion");
    let config = Config::from_lookup(|name| {
        match name {
            "CPP_LOGIN_BASE_URL" => Some(base.as_str()),
            "INGESTION_API_BASE_URL" => Some(api.as_str()),
            "CPP_TENANT_ID" => Some(TENANT),
            "CPP_CLIENT_ID" => Some(CLIENT_ID),
            "CPP_CLIENT_SECRET" => Some(SECRET),
            _ => None,
        }
        .map(str::to_owned)
    })
    .unwrap();
    let options = shared::http::ClientOptions {
        retry: retry(),
        ..Default::default()
    };
    IngestionClient::with_options(
        &config,
        SecretString::from(SECRET),
        options,
        IngestionOptions::default(),
    )
    .unwrap()
}

async fn with_token(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .and(body_string_contains(
            "resource=https%3A%2F%2Fgraph.microsoft.com",
        ))
        .respond_with(token_response(TOKEN))
        .mount(server)
        .await;
}

fn product(id: &str, external: &str) -> serde_json::Value {
    json!({"id": format!("product/{id}"), "identity": {"externalId": external}, "type": "azureVirtualMachine"})
}

#[tokio::test]
async fn pages_are_followed_on_the_api_origin_with_version_and_ids_are_learned_once() {
    let server = MockServer::start().await;
    with_token(&server).await;
    let next = format!(
        "{}/rp/product-ingestion/product?externalId=contoso-linux&continuationToken=page2",
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path("/rp/product-ingestion/product"))
        .and(query_param("$version", "2022-07-01"))
        .and(query_param("continuationToken", "page2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"value": [product("p-2", "contoso-linux")]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rp/product-ingestion/product"))
        .and(query_param("$version", "2022-07-01"))
        .and(query_param("externalId", "contoso-linux"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"value": [product("p-1", "other")], "@nextLink": next})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let client = client(&server);
    assert_eq!(client.product_id("contoso-linux").await.unwrap(), "p-2");
    assert_eq!(
        client.product_id("contoso-linux").await.unwrap(),
        "p-2",
        "learned: no second read"
    );
}

#[tokio::test]
async fn a_next_page_on_another_host_is_not_followed() {
    let server = MockServer::start().await;
    with_token(&server).await;
    Mock::given(method("GET"))
        .and(path("/rp/product-ingestion/product"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"value": [], "@nextLink": "https://attacker.example/rp/product-ingestion/product?continuationToken=x"}),
        ))
        .mount(&server)
        .await;
    let err = client(&server)
        .product_id("contoso-linux")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Decode);
    assert!(err.to_string().contains("outside the API host"), "{err}");
    assert!(
        err.to_string().starts_with("Product Ingestion GET"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unknown_offer_and_a_product_of_another_kind_are_told_apart() {
    let server = MockServer::start().await;
    with_token(&server).await;
    Mock::given(method("GET"))
        .and(path("/rp/product-ingestion/product"))
        .and(query_param("externalId", "saas-offer"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"value": [{"id": "product/s", "identity": {"externalID": "saas-offer"}, "type": "softwareAsAService"}]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rp/product-ingestion/product"))
        .and(query_param("externalId", "missing"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .mount(&server)
        .await;
    let client = client(&server);
    assert_eq!(
        client.product_id("missing").await.unwrap_err().kind,
        ErrorKind::OfferNotFound
    );
    let err = client.product_id("saas-offer").await.unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::InvalidOffer,
        "the docs' externalID spelling is read too: {err}"
    );
}

#[tokio::test]
async fn job_documents_read_with_either_id_spelling_and_a_5xx_is_transient() {
    let server = MockServer::start().await;
    with_token(&server).await;
    Mock::given(method("GET"))
        .and(path("/rp/product-ingestion/configure/j-1/status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"jobID": "j-1", "jobStatus": "running", "jobResult": "pending", "jobEnd": "0001-01-01"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rp/product-ingestion/configure/j-2/status"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let client = client(&server);
    let job = client.job_status("j-1").await.unwrap();
    assert_eq!(
        (job.job_id.as_str(), job.has_started(), job.is_finished()),
        ("j-1", true, false)
    );
    assert_eq!(
        client.job_status("j-2").await.unwrap_err().kind,
        ErrorKind::Transient
    );
}
