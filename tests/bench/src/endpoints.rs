//! What each request the emulator logged is called, per API, as the workflow thinks of it.

use std::collections::BTreeMap;

use cpp_emulator::{LoggedRequest, PI_PREFIX};
use serde_json::Value;

/// A request's endpoint: `POST token`, `GET offer (draft)`, `POST configure (preview)`, ...
pub fn endpoint(request: &LoggedRequest) -> String {
    let path = request.path.trim_end_matches('/');
    let method = request.method.as_str();
    let name = if path.ends_with("/oauth2/token") {
        Some("token".to_owned())
    } else if let Some(rest) = path.strip_prefix(PI_PREFIX) {
        ingestion(method, rest, request)
    } else {
        cpp(path).map(str::to_owned)
    };
    match name {
        Some(name) => format!("{method} {name}"),
        None => format!("{method} {path}"),
    }
}

fn cpp(path: &str) -> Option<&'static str> {
    Some(if path.contains("/operations/") {
        "operation"
    } else if path.ends_with("/submissions") {
        "submissions"
    } else if path.ends_with("/publish") {
        "publish"
    } else if path.ends_with("/golive") {
        "golive"
    } else if path.ends_with("/slot/preview") {
        "offer preview slot"
    } else if path.ends_with("/slot/production") {
        "offer production slot"
    } else if path.contains("/offers/") && !path.contains("/slot/") {
        "offer (draft)"
    } else {
        return None;
    })
}

/// Product Ingestion: the path names the resource; the target comes from the query (trees) or the
/// body (a configure that carries a submission starts one, any other edits the draft).
fn ingestion(method: &str, rest: &str, request: &LoggedRequest) -> Option<String> {
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    Some(match segments.as_slice() {
        ["product"] => "product".into(),
        ["plan"] => "plan".into(),
        ["resource-tree", "product", _] => {
            let target = request
                .query
                .split('&')
                .find_map(|pair| pair.strip_prefix("targetType="))
                .unwrap_or("draft");
            format!("resource-tree ({target})")
        }
        ["configure"] if method == "POST" => {
            format!("configure ({})", submitted(request.body.as_ref()))
        }
        ["configure", _, "status"] => "configure status".into(),
        ["configure", _] => "configure job".into(),
        ["submission", _] => "submissions".into(),
        ["submission", _, _] => "submission".into(),
        _ => return None,
    })
}

/// The target of the submission a configure body carries, or `draft` when it carries none.
fn submitted(body: Option<&Value>) -> &str {
    body.and_then(|b| b["resources"].as_array())
        .into_iter()
        .flatten()
        .find(|r| {
            r["$schema"]
                .as_str()
                .is_some_and(|s| s.contains("/submission/"))
        })
        .and_then(|r| r["target"]["targetType"].as_str())
        .unwrap_or("draft")
}

/// Requests by endpoint.
pub fn by_endpoint(requests: &[LoggedRequest]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for request in requests {
        *counts.entry(endpoint(request)).or_default() += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(method: &str, path: &str, query: &str, body: Option<Value>) -> LoggedRequest {
        LoggedRequest {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            status: 200,
            if_match: None,
            has_bearer: true,
            body,
            fault: None,
        }
    }

    #[test]
    fn product_ingestion_requests_are_named_by_resource_and_target() {
        let pi = |rest: &str| format!("{PI_PREFIX}{rest}");
        let submission = |target: &str| {
            json!({"resources": [{"$schema": "https://schema.mp.microsoft.com/schema/submission/2022-03-01-preview2",
                "product": "product/p", "target": {"targetType": target}}]})
        };
        let draft = json!({"resources": [{"$schema": "https://schema.mp.microsoft.com/schema/virtual-machine-plan-technical-configuration/2022-03-01-preview5"}]});
        let get = |path: &str, query: &str| endpoint(&request("GET", path, query, None));
        let post = |path: &str, body: Value| endpoint(&request("POST", path, "", Some(body)));
        let token = request("POST", "/tenant-1/oauth2/token", "", None);
        assert_eq!(endpoint(&token), "POST token");
        assert_eq!(get(&pi("/product"), "externalId=o"), "GET product");
        assert_eq!(get(&pi("/plan"), "product=product%2Fp"), "GET plan");
        let tree = pi("/resource-tree/product/p");
        assert_eq!(
            get(&tree, "targetType=live&$version=2022-07-01"),
            "GET resource-tree (live)"
        );
        let configure = pi("/configure");
        assert_eq!(post(&configure, draft), "POST configure (draft)");
        assert_eq!(
            post(&configure, submission("preview")),
            "POST configure (preview)"
        );
        assert_eq!(
            post(&configure, submission("live")),
            "POST configure (live)"
        );
        assert_eq!(
            get(&pi("/configure/j-1/status"), ""),
            "GET configure status"
        );
        assert_eq!(get(&pi("/submission/p"), ""), "GET submissions");
        assert_eq!(get(&pi("/submission/p/115"), ""), "GET submission");
        let cpp = "/api/publishers/contoso/offers/o";
        assert_eq!(get(&format!("{cpp}/submissions"), ""), "GET submissions");
        assert_eq!(
            get(&format!("{cpp}/slot/preview"), ""),
            "GET offer preview slot"
        );
    }
}
