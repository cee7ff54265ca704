//! `/api/openapi.json` against the router: every documented operation is
//! answered by a route (not the API's "no such path" or "method not
//! allowed"), no route is mounted outside the documented registration,
//! and the document is well-formed OpenAPI 3.1 whose references resolve.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use http::{Method, StatusCode};
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

async fn document() -> Value {
    let state = common::state_without_prometheus(&common::quiet_demo());
    let request = http::Request::get("/api/openapi.json")
        .body(axum::body::Body::empty())
        .unwrap();
    let (status, doc) = common::send(&state, request).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    doc
}

/// `(METHOD, /api/path)` of every documented operation.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let doc = document().await;
    let ops = operations(&doc);
    assert!(ops.len() >= 35, "only {} operations documented", ops.len());
    let state = common::state_without_prometheus(&common::quiet_demo());
    for (method, path) in &ops {
        // Path parameters get a plausible value; the handler may then
        // refuse (401, 404, 503), but the router must not.
        let uri = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        let request = http::Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(&uri)
            .body(axum::body::Body::empty())
            .unwrap();
        let (status, body) = common::send(&state, request).await;
        let message = body["error"]["message"].as_str().unwrap_or("");
        assert_ne!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} is documented but not routed: {body}"
        );
        assert!(
            !message.starts_with("no such API path"),
            "{method} {path} is documented but not routed: {body}"
        );
    }
}

/// Rust sources under `dir`, recursively.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Routes mounted by hand (`.route(`, `.route_service(`, `.nest(`,
/// `.nest_service(`) bypass the document. Outside unit tests, the only
/// ones allowed are the `/api` nest itself and the self-metrics listener,
/// which serves `/metrics` on its own port (`--metrics-bind`), not the API.
#[test]
fn no_route_is_mounted_outside_the_documented_registration() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let allowed = [
        ("lib.rs", ".nest("),
        ("selfmetrics.rs", ".route(\"/metrics\""),
        // The document's own `/api` prefix, not a router.
        ("routes/mod.rs", "let mut doc = openapi::base().nest("),
    ];
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests sit at the end of a file, after `#[cfg(test)]`.
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        for (n, line) in code.lines().enumerate() {
            for call in [".route(", ".route_service(", ".nest(", ".nest_service("] {
                if line.contains(call)
                    && !allowed
                        .iter()
                        .any(|(f, prefix)| name == *f && line.trim_start().starts_with(prefix))
                {
                    found.push(format!("{name}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "routes mounted outside `routes!` (so missing from /api/openapi.json): {found:#?}"
    );
}

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    if let Some(r) = v.as_str() {
                        out.push(r);
                    }
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_every_answer_described() {
    let doc = document().await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "meshdeck API");
    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(path.starts_with("/api/"), "{path}");
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let what = format!("{method} {path}");
            assert!(
                ids.insert(op["operationId"].as_str().unwrap().to_owned()),
                "{what}: duplicate operationId"
            );
            assert!(
                !op["summary"].as_str().unwrap_or("").is_empty(),
                "{what}: no summary"
            );
            for tag in op["tags"].as_array().unwrap() {
                assert!(
                    tags.contains(tag.as_str().unwrap()),
                    "{what}: undeclared tag {tag}"
                );
            }
            let responses = op["responses"].as_object().unwrap();
            let success = responses
                .iter()
                .find(|(code, _)| code.starts_with('2'))
                .unwrap_or_else(|| panic!("{what}: no success answer"));
            assert!(
                success.1["content"]["application/json"]["schema"].is_object(),
                "{what}: success answer without a JSON schema"
            );
            for (code, answer) in responses {
                assert!(
                    !answer["description"].as_str().unwrap_or("").is_empty(),
                    "{what} {code}: no description"
                );
                if code.starts_with('4') || code.starts_with('5') {
                    let schema = &answer["content"]["application/json"]["schema"];
                    let is_error = schema["$ref"] == "#/components/schemas/ErrorBody";
                    // Readiness answers its own body with 503.
                    assert!(
                        is_error || path == "/api/ready",
                        "{what} {code}: error answer is not ErrorBody: {schema}"
                    );
                }
            }
            // A route that reads the caller documents its 401 and the scheme.
            if responses.contains_key("401") {
                assert_eq!(op["security"][0]["bearer"], serde_json::json!([]), "{what}");
            }
            // Path parameters are all declared.
            for seg in path.split('/').filter(|s| s.starts_with('{')) {
                let name = seg.trim_matches(|c| c == '{' || c == '}');
                let declared = op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
                assert!(declared, "{what}: path parameter {name} undeclared");
            }
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 100, "{} references", all.len());
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "unresolved {r}"
        );
    }
}

/// Routes that need a caller say so, and answer 401 without one, as documented.
#[tokio::test]
async fn documented_401s_are_real() {
    let doc = document().await;
    let state = common::state_without_prometheus(&common::quiet_demo());
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        if path.contains('{') {
            continue;
        }
        let signed_in = op["responses"].get("401").is_some();
        let request = http::Request::get(path.as_str())
            .body(axum::body::Body::empty())
            .unwrap();
        let (status, body) = common::send(&state, request).await;
        if signed_in {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "GET {path}: {body}");
        } else {
            assert_ne!(
                status,
                StatusCode::UNAUTHORIZED,
                "GET {path} is public but answered 401"
            );
        }
    }
}

/// `MESHDECK_OPENAPI_OUT=path cargo test -p meshdeck --test openapi write`
/// writes the document to a file (for tools such as schemathesis).
#[tokio::test]
async fn write_when_asked() {
    if let Ok(path) = std::env::var("MESHDECK_OPENAPI_OUT") {
        let doc = document().await;
        std::fs::write(path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    }
}
