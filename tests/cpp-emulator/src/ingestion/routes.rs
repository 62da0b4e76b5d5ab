//! The Product Ingestion routes under `/rp/product-ingestion` (§2.1); every one needs a Graph token.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::error::PiError;
use super::products::{Target, fresh_asset_url, id_of};
use super::validate::check_configure;
use super::{Ingestion, PI_PREFIX};
use crate::app::App;
use crate::auth;

pub(crate) fn router(app: Arc<App>) -> Router<Arc<App>> {
    Router::new()
        .route("/product", get(list_products))
        .route("/plan", get(list_plans))
        .route("/resource-tree/product/{product}", get(resource_tree))
        .route("/submission/{product}", get(submissions))
        .route("/submission/{product}/{n}", get(submission))
        .route("/configure", post(configure))
        .route("/configure/{job}", get(job_detail))
        .route("/configure/{job}/status", get(job_status))
        .route("/configure/{job}/cancel", post(cancel))
        .route("/{*durable}", get(durable))
        .fallback(not_found)
        .layer(from_fn_with_state(app, auth::require_graph_auth))
}

async fn not_found() -> PiError {
    PiError::not_found("The requested resource was not found.")
}

type Json = axum::Json<Value>;

/// Query parameters; names compare case-insensitively (`externalId`, `externalid`, `externalID`, Q16).
struct Query(Vec<(String, String)>);

impl Query {
    fn of(uri: &Uri) -> Self {
        let q = uri.query().unwrap_or("");
        Self(
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One page of `items`; `@nextLink` is absolute on the emulator's origin and keeps the query.
fn page(
    app: &App,
    pi: &Ingestion,
    path: &str,
    query: &Query,
    items: Vec<Value>,
) -> Result<Json, PiError> {
    let offset = match query.get("continuationToken") {
        None => 0,
        Some(token) => token
            .strip_prefix("ct")
            .and_then(|n| usize::from_str_radix(n, 16).ok())
            .ok_or_else(|| PiError::bad_request(format!("Invalid continuationToken '{token}'.")))?,
    };
    let max = query
        .get("$maxpagesize")
        .map(|v| {
            v.parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| PiError::bad_request(format!("Invalid $maxpagesize '{v}'.")))
        })
        .transpose()?;
    let size = max
        .map_or(pi.settings.page_size, |m| m.min(pi.settings.page_size))
        .max(1);
    let end = offset.saturating_add(size).min(items.len());
    let value: Vec<Value> = items.get(offset.min(end)..end).unwrap_or_default().to_vec();
    let mut body = json!({ "value": value });
    if end < items.len() {
        let mut parts: Vec<String> = query
            .0
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("continuationToken"))
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        parts.push(format!("continuationToken=ct{end:x}"));
        body["@nextLink"] = json!(format!(
            "{}{PI_PREFIX}/{path}?{}",
            app.base_url,
            parts.join("&")
        ));
    }
    Ok(axum::Json(body))
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

async fn list_products(State(app): State<Arc<App>>, uri: Uri) -> Result<Json, PiError> {
    let query = Query::of(&uri);
    let pi = app.ingestion();
    let external = query.get("externalId");
    let kind = query.get("type");
    let items = pi
        .products
        .iter()
        .filter(|p| external.is_none_or(|e| p.external_id.eq_ignore_ascii_case(e)))
        .filter_map(|p| p.product_resource().cloned())
        .filter(|r| kind.is_none_or(|k| r.get("type").and_then(Value::as_str) == Some(k)))
        .collect();
    page(&app, &pi, "product", &query, items)
}

async fn list_plans(State(app): State<Arc<App>>, uri: Uri) -> Result<Json, PiError> {
    let query = Query::of(&uri);
    let pi = app.ingestion();
    let Some(reference) = query.get("product") else {
        return Err(PiError::bad_request(
            "The query parameter 'product' is required.",
        ));
    };
    let guid = reference.strip_prefix("product/").unwrap_or(reference);
    let product = pi
        .product(guid)
        .ok_or_else(|| PiError::not_found(format!("Product '{reference}' was not found.")))?;
    let external = query.get("externalId");
    let items = product
        .plans()
        .filter(|p| {
            external.is_none_or(|e| {
                p.pointer("/identity/externalId")
                    .and_then(Value::as_str)
                    .is_some_and(|x| x.eq_ignore_ascii_case(e))
            })
        })
        .cloned()
        .collect();
    page(&app, &pi, "plan", &query, items)
}

async fn resource_tree(
    State(app): State<Arc<App>>,
    Path(guid): Path<String>,
    uri: Uri,
) -> Result<Json, PiError> {
    let query = Query::of(&uri);
    let target = match query.get("targetType") {
        None => Target::Draft,
        Some(raw) => Target::parse(raw)
            .ok_or_else(|| PiError::bad_request(format!("Invalid targetType '{raw}'.")))?,
    };
    let mut pi = app.ingestion();
    let seed = pi.next_order();
    let product = pi
        .product(&guid)
        .ok_or_else(|| PiError::not_found(format!("Product 'product/{guid}' was not found.")))?;
    product
        .tree(target, seed, true)
        .map(axum::Json)
        .ok_or_else(|| {
            PiError::bad_request(format!(
                "The product 'product/{guid}' has no {} version yet.",
                target.name()
            ))
        })
}

async fn submissions(
    State(app): State<Arc<App>>,
    Path(guid): Path<String>,
    uri: Uri,
) -> Result<Json, PiError> {
    let query = Query::of(&uri);
    let mut pi = app.ingestion();
    let model = pi.settings.live_model;
    let product = pi
        .product_mut(&guid)
        .ok_or_else(|| PiError::not_found(format!("Product 'product/{guid}' was not found.")))?;
    let id = product.id.clone();
    let target = query.get("targetType").map(str::to_owned);
    let value: Vec<Value> = product
        .submissions
        .read(&id, model)
        .into_iter()
        .filter(|e| {
            target.as_deref().is_none_or(|t| {
                e.pointer("/target/targetType")
                    .and_then(Value::as_str)
                    .is_some_and(|x| x.eq_ignore_ascii_case(t))
            })
        })
        .collect();
    Ok(axum::Json(json!({ "value": value })))
}

async fn submission(
    State(app): State<Arc<App>>,
    Path((guid, n)): Path<(String, String)>,
) -> Result<Json, PiError> {
    let pi = app.ingestion();
    pi.product(&guid)
        .and_then(|p| p.submissions.find(&p.id, &n))
        .map(axum::Json)
        .ok_or_else(|| {
            PiError::not_found(format!("Submission 'submission/{guid}/{n}' was not found."))
        })
}

async fn configure(State(app): State<Arc<App>>, body: Bytes) -> Result<Response, PiError> {
    let doc: Value = serde_json::from_slice(&body)
        .map_err(|e| PiError::bad_request(format!("The request body is not valid JSON: {e}")))?;
    let resources = check_configure(&doc)?;
    let now = app.clock.now();
    let mut pi = app.ingestion();
    let index = pi.configure(resources, now)?;
    let status = pi
        .jobs
        .get(index)
        .map(|j| j.status(true))
        .unwrap_or_default();
    Ok((StatusCode::ACCEPTED, axum::Json(status)).into_response())
}

fn job_not_found(id: &str) -> PiError {
    PiError::not_found(format!("Job '{id}' was not found."))
}

async fn job_status(State(app): State<Arc<App>>, Path(id): Path<String>) -> Result<Json, PiError> {
    let pi = app.ingestion();
    let job = pi
        .job_index(&id)
        .and_then(|i| pi.jobs.get(i))
        .ok_or_else(|| job_not_found(&id))?;
    Ok(axum::Json(job.status(false)))
}

async fn job_detail(State(app): State<Arc<App>>, Path(id): Path<String>) -> Result<Json, PiError> {
    let pi = app.ingestion();
    let job = pi
        .job_index(&id)
        .and_then(|i| pi.jobs.get(i))
        .ok_or_else(|| job_not_found(&id))?;
    if !job.finished() {
        return Err(PiError::bad_request(format!(
            "Job '{id}' has not completed yet; its details are available once it has."
        )));
    }
    Ok(axum::Json(job.detail()))
}

async fn cancel(State(app): State<Arc<App>>, Path(id): Path<String>) -> Result<Json, PiError> {
    let now = app.clock.now();
    let mut pi = app.ingestion();
    let index = pi.job_index(&id).ok_or_else(|| job_not_found(&id))?;
    pi.cancel(index, now)
        .map_err(|()| PiError::bad_request("Cannot cancel job, job has already completed."))?;
    let job = pi.jobs.get(index).ok_or_else(|| job_not_found(&id))?;
    Ok(axum::Json(job.status(false)))
}

/// `GET {durableId}`: one resource of the draft, e.g. `virtual-machine-plan-technical-configuration/{P}/{L}`.
async fn durable(State(app): State<Arc<App>>, Path(id): Path<String>) -> Result<Json, PiError> {
    let pi = app.ingestion();
    let id = id.trim_end_matches('/');
    let guid = id.split('/').nth(1).unwrap_or("");
    let mut resource = pi
        .product(guid)
        .and_then(|p| p.draft.iter().find(|r| id_of(r) == Some(id)))
        .cloned()
        .ok_or_else(|| PiError::not_found(format!("Resource '{id}' was not found.")))?;
    fresh_asset_url(&mut resource);
    Ok(axum::Json(resource))
}
