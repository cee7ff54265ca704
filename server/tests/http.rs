//! The HTTP surface through `router()`: JSON errors, the SPA fallback,
//! security headers and status reporting.

use std::path::PathBuf;
use std::time::Duration;

use app::types::{AuthMode, ErrorBody, ErrorCode, Health, RunMode, Status, UpstreamKind};
use axum::body::Body;
use http::{Method, Request, StatusCode, header};
use meshdeck_server::config::UpstreamArgs;
use meshdeck_server::spa::Spa;
use meshdeck_server::upstream::Upstreams;
use meshdeck_server::{AppState, router};

mod common;

const INDEX: &str = r#"<!doctype html><html><head><script type="module">import init from '/app.js'; await init();</script></head><body></body></html>"#;
/// An asset named as Trunk names them (a content hash).
const ASSET: &str = "/app-0123456789abcdef.js";

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl std::ops::Deref for TempDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

fn empty_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!("meshdeck-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

/// A dist directory with an index.html and one asset, unique per test.
fn dist(name: &str) -> TempDir {
    let dir = empty_dir(name);
    std::fs::write(dir.join("index.html"), INDEX).unwrap();
    std::fs::write(dir.join(&ASSET[1..]), "export default function(){}").unwrap();
    std::fs::write(dir.join("robots.txt"), "User-agent: *").unwrap();
    dir
}

fn state_with(upstreams: Upstreams, dir: &std::path::Path) -> AppState {
    AppState::new(RunMode::Demo, AuthMode::Demo, upstreams, Spa::load(dir))
}

async fn call(
    state: AppState,
    method: Method,
    uri: &str,
) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    common::exchange(router(state), common::build(method, uri, None, None)).await
}

fn error_of(body: &[u8]) -> ErrorBody {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not an error body ({e}): {}", String::from_utf8_lossy(body)))
}

#[tokio::test]
async fn health_answers_ok() {
    let state = state_with(Upstreams::default(), &dist("health"));
    let (status, headers, body) = call(state, Method::GET, "/api/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let health: Health = serde_json::from_slice(&body).unwrap();
    assert_eq!(health.status, "ok");
}

#[tokio::test]
async fn unknown_api_paths_are_json_404() {
    let state = state_with(Upstreams::default(), &dist("api404"));
    for (method, path) in [
        (Method::GET, "/api/nope"),
        (Method::GET, "/api/graph/deeper/still"),
        (Method::GET, "/api"),
        (Method::GET, "/api/"),
        (Method::POST, "/api/"),
        (Method::DELETE, "/api"),
    ] {
        let (status, headers, body) = call(state.clone(), method, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json", "{path}");
        let err = error_of(&body);
        assert_eq!(err.error.code, ErrorCode::NotFound);
        assert!(
            err.error.message.contains(path),
            "{path}: {}",
            err.error.message
        );
    }
}

#[tokio::test]
async fn wrong_method_is_json_405() {
    let state = state_with(Upstreams::default(), &dist("405"));
    let (status, _, body) = call(state, Method::DELETE, "/api/health").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let err = error_of(&body);
    assert_eq!(err.error.code, ErrorCode::MethodNotAllowed);
    assert!(
        err.error.message.contains("DELETE"),
        "{}",
        err.error.message
    );
}

#[tokio::test]
async fn deep_links_get_the_index_with_security_headers() {
    let dir = dist("deeplink");
    let state = state_with(Upstreams::default(), &dir);
    for path in [
        "/",
        "/graph?ns=a",
        "/metrics",
        "/traces",
        "/prometheus",
        "/settings",
    ] {
        let (status, headers, body) = call(state.clone(), Method::GET, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(String::from_utf8(body).unwrap(), INDEX, "{path}");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
        // sha256 of the inline script body above, base64 (computed with openssl).
        assert!(
            csp.contains("'sha256-KlG4CKAhEwOaotkp3rUpdbFezrNrqW7nWrxT35mBelw='"),
            "{csp}"
        );
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
    }
}

#[tokio::test]
async fn assets_are_served_and_unknown_pages_are_404_html() {
    let dir = dist("assets");
    let state = state_with(Upstreams::default(), &dir);
    let (status, headers, body) = call(state.clone(), Method::GET, ASSET).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(body, b"export default function(){}");
    // A file without a hash in its name may change: asked for again.
    let (status, headers, _) = call(state.clone(), Method::GET, "/robots.txt").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    // Errors are never cached, and names no file can have are not found.
    let (status, headers, _) = call(state.clone(), Method::POST, ASSET).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    for path in ["/%00".to_owned(), format!("/{}", "a".repeat(256))] {
        for method in [Method::GET, Method::HEAD] {
            let (status, headers, _) = call(state.clone(), method.clone(), &path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
            assert!(
                !headers[header::CACHE_CONTROL]
                    .to_str()
                    .unwrap()
                    .contains("immutable")
            );
        }
    }

    let (status, headers, body) = call(state, Method::GET, "/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(String::from_utf8(body).unwrap(), INDEX);
}

#[tokio::test]
async fn a_missing_ui_build_is_explained() {
    let dir = empty_dir("empty");
    let state = state_with(Upstreams::default(), &dir);
    let (status, _, body) = call(state.clone(), Method::GET, "/graph").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(String::from_utf8(body).unwrap().contains("trunk build"));
    // The API is unaffected.
    let (status, _, _) = call(state, Method::GET, "/api/health").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn status_reports_every_upstream() {
    let state = state_with(Upstreams::default(), &dist("status-none"));
    let (status, _, body) = call(state, Method::GET, "/api/status").await;
    assert_eq!(status, StatusCode::OK);
    let report: Status = serde_json::from_slice(&body).unwrap();
    assert_eq!(report.mode, RunMode::Demo);
    let kinds: Vec<UpstreamKind> = report.upstreams.iter().map(|u| u.kind).collect();
    assert_eq!(kinds, UpstreamKind::ALL);
    assert!(
        report
            .upstreams
            .iter()
            .all(|u| !u.configured && u.reachable.is_none())
    );
}

#[tokio::test]
async fn an_unreachable_upstream_is_reported_not_fatal() {
    // A port that was just free: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let args = UpstreamArgs {
        prometheus_url: Some(format!("http://127.0.0.1:{port}").parse().unwrap()),
        grafana_url: Some("http://127.0.0.1:1/grafana".parse().unwrap()),
        ..UpstreamArgs::default()
    };
    let upstreams = Upstreams::from_args(&args, Duration::from_secs(2)).unwrap();
    let state = state_with(upstreams, &dist("status-down"));
    let (status, _, body) = call(state, Method::GET, "/api/status").await;
    assert_eq!(status, StatusCode::OK);
    let report: Status = serde_json::from_slice(&body).unwrap();
    let prom = report
        .upstreams
        .iter()
        .find(|u| u.kind == UpstreamKind::Prometheus)
        .unwrap();
    assert!(prom.configured);
    assert_eq!(prom.reachable, Some(false));
    assert!(
        prom.detail.as_deref().unwrap().contains("cannot connect"),
        "{prom:?}"
    );
    // The public status names no upstream URLs: links come from /api/me.
    let text = serde_json::to_string(&report).unwrap();
    assert!(!text.contains("127.0.0.1:1"), "{text}");
}

#[tokio::test]
async fn api_answers_are_gzipped_for_clients_that_accept_it() {
    use std::io::Read;
    let state = state_with(Upstreams::default(), &dist("gzip"));
    let (_, plain_headers, plain) = call(state.clone(), Method::GET, "/api/status").await;
    assert_eq!(plain_headers.get(header::CONTENT_ENCODING), None);
    let request = Request::get("/api/status")
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .unwrap();
    let (status, headers, zipped) = common::exchange(router(state), request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers.get(header::CONTENT_ENCODING).unwrap(), "gzip");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&zipped[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    // The same answer (the status is probed afresh: compare its shape).
    let a: Status = serde_json::from_slice(&plain).unwrap();
    let b: Status = serde_json::from_slice(&unzipped).unwrap();
    assert_eq!(a.upstreams.len(), b.upstreams.len());
    assert_eq!(a.mode, b.mode);
}

/// Readiness follows the Kubernetes API: not configured or not answering
/// is a 503 saying so (and naming no address); answering is a 200.
#[tokio::test]
async fn ready_when_the_kubernetes_api_answers() {
    use app::types::Readiness;
    let (status, _, body) = call(
        state_with(Upstreams::default(), &dist("ready-none")),
        Method::GET,
        "/api/ready",
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let r: Readiness = serde_json::from_slice(&body).unwrap();
    assert!(!r.ready);
    assert_eq!(
        r.reason.as_deref(),
        Some("no Kubernetes API is configured (pass --kubeconfig or --in-cluster)")
    );
    assert_eq!(r.upstreams.len(), UpstreamKind::ALL.len());

    let mesh = meshdeck_sim::scenario::demo();
    let cluster = meshdeck_sim::kube::InMemoryCluster::from_mesh(&mesh);
    let upstreams = Upstreams {
        kube: Some(meshdeck_server::demo::in_memory(
            &cluster,
            meshdeck_sim::kube::seed::MESHDECK_SA_TOKEN,
        )),
        ..Upstreams::default()
    };
    let (status, _, body) = call(
        state_with(upstreams, &dist("ready-kube")),
        Method::GET,
        "/api/ready",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let r: Readiness = serde_json::from_slice(&body).unwrap();
    assert!(r.ready && r.reason.is_none());

    // A kubeconfig pointing at a port nothing listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let dir = empty_dir("ready-down");
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    token: t\n"
        ),
    )
    .unwrap();
    let cluster = meshdeck_server::cluster::Cluster::connect(
        meshdeck_server::cluster::Source::File(&kubeconfig, None),
        Duration::from_secs(2),
    )
    .await
    .unwrap()
    .unwrap();
    let upstreams = Upstreams {
        kube: Some(cluster),
        ..Upstreams::default()
    };
    let (status, _, body) = call(
        state_with(upstreams, &dist("ready-down")),
        Method::GET,
        "/api/ready",
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let r: Readiness = serde_json::from_slice(&body).unwrap();
    let reason = r.reason.unwrap();
    assert!(
        reason.starts_with("the Kubernetes API does not answer: "),
        "{reason}"
    );
    assert!(
        !String::from_utf8_lossy(&body).contains(&port.to_string()),
        "{reason}"
    );
}
