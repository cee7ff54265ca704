//! Shared fixtures of the integration tests: the demo scenario with constant
//! traffic, a real Prometheus holding its history, and console state wired
//! to it and to the in-memory cluster.
#![allow(dead_code)] // each test crate uses a different subset

pub mod live;

use std::sync::Arc;
use std::time::Duration;

use app::types::{AuthMode, RunMode};
use meshdeck_server::AppState;
use meshdeck_server::config::UpstreamArgs;
use meshdeck_server::spa::Spa;
use meshdeck_server::upstream::Upstreams;
use meshdeck_sim::kube::InMemoryCluster;
use meshdeck_sim::metrics::{HistoryOptions, MetricsOptions, write_openmetrics_history};
use meshdeck_sim::model::{Mesh, Variation};
use meshdeck_sim::prometheus::{PrometheusOptions, PrometheusServer};
use meshdeck_sim::scenario;

/// The demo with constant traffic and no faults: rates are exactly the edges'.
pub fn quiet_demo() -> Mesh {
    let mut mesh = scenario::demo();
    mesh.variation = Variation::NONE;
    mesh.faults.clear();
    mesh
}

/// A Prometheus with the quiet demo's history.
pub struct Fixture {
    /// The scenario behind the data.
    pub mesh: Mesh,
    /// The server.
    pub prometheus: PrometheusServer,
    /// End of the backfilled history (Unix seconds, a multiple of 15).
    pub end: f64,
}

/// Writes 30 minutes of the quiet demo's history ending now, backfills it
/// and starts Prometheus; `name` keeps the temporary files of test crates apart.
pub async fn start(name: &str) -> Fixture {
    let mesh = quiet_demo();
    let end = (meshdeck_sim::live::now_s() / 15.0).floor() * 15.0;
    let path = std::env::temp_dir().join(format!("meshdeck-{name}-test-{}.om", std::process::id()));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let history = HistoryOptions {
        start: end - 1800.0,
        end,
        step: 15.0,
    };
    write_openmetrics_history(
        &Arc::new(mesh.clone()),
        &MetricsOptions::default(),
        &history,
        &mut file,
    )
    .unwrap();
    drop(file);
    let prometheus = PrometheusServer::start(&PrometheusOptions {
        history: Some(path.clone()),
        ..PrometheusOptions::default()
    })
    .await
    .unwrap();
    std::fs::remove_file(&path).unwrap();
    Fixture {
        mesh,
        prometheus,
        end,
    }
}

/// Console state reading `prometheus_url`, with the in-memory cluster of
/// `mesh` for identities and roles (demo tokens `demo-token-<user>`).
pub fn state(prometheus_url: &str, mesh: &Mesh) -> AppState {
    state_with(
        UpstreamArgs {
            prometheus_url: Some(prometheus_url.parse().unwrap()),
            ..UpstreamArgs::default()
        },
        mesh,
    )
}

/// Console state with no Prometheus configured, and the in-memory cluster
/// of `mesh` for identities and roles.
pub fn state_without_prometheus(mesh: &Mesh) -> AppState {
    state_with(UpstreamArgs::default(), mesh)
}

fn state_with(args: UpstreamArgs, mesh: &Mesh) -> AppState {
    state_with_timeout(args, mesh, Duration::from_secs(10))
}

/// Console state reading `prometheus_url` with upstream calls timing out
/// after `timeout`, and the in-memory cluster of `mesh`.
pub fn state_timing_out(prometheus_url: &str, mesh: &Mesh, timeout: Duration) -> AppState {
    let args = UpstreamArgs {
        prometheus_url: Some(prometheus_url.parse().unwrap()),
        ..UpstreamArgs::default()
    };
    state_with_timeout(args, mesh, timeout)
}

fn state_with_timeout(args: UpstreamArgs, mesh: &Mesh, timeout: Duration) -> AppState {
    let mut upstreams = Upstreams::from_args(&args, timeout).unwrap();
    upstreams.kube = Some(meshdeck_server::demo::in_memory(
        &InMemoryCluster::from_mesh(mesh),
        meshdeck_sim::kube::ADMIN_TOKEN,
    ));
    AppState::new(
        RunMode::Demo,
        AuthMode::Demo,
        upstreams,
        Spa::load(std::path::Path::new("/nonexistent")),
    )
}

/// `GET uri` through the router as `user` (demo token), returning the
/// status and body.
pub async fn call(state: &AppState, user: &str, uri: &str) -> (http::StatusCode, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let request = http::Request::get(uri)
        .header("authorization", format!("Bearer demo-token-{user}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = meshdeck_server::router(state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    (
        status,
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

/// A request through the router: its status and its JSON answer (`Null`
/// when the body is not JSON).
pub async fn send(
    state: &AppState,
    request: http::Request<axum::body::Body>,
) -> (http::StatusCode, serde_json::Value) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let response = meshdeck_server::router(state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// `method uri` as the holder of `token`, with `body` as JSON if given.
pub async fn request(
    state: &AppState,
    method: http::Method,
    uri: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> (http::StatusCode, serde_json::Value) {
    let mut request = http::Request::builder()
        .method(method)
        .uri(uri)
        .header(http::header::AUTHORIZATION, format!("Bearer {token}"));
    let body = match body {
        Some(v) => {
            request = request.header(http::header::CONTENT_TYPE, "application/json");
            axum::body::Body::from(v.to_string())
        }
        None => axum::body::Body::empty(),
    };
    send(state, request.body(body).unwrap()).await
}
