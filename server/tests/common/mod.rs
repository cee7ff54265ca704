//! Shared fixtures of the integration tests: the demo scenario with constant
//! traffic, a real Prometheus holding its history, and console state wired
//! to it and to the in-memory cluster.
#![allow(dead_code)] // each test crate uses a different subset

pub mod live;
mod prometheus;
mod requests;

#[allow(unused_imports)] // as dead_code: not every crate uses these
pub use prometheus::*;
#[allow(unused_imports)]
pub use requests::*;

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
use meshdeck_sim::prometheus::PrometheusServer;
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
    let end = history_end();
    let history = HistoryOptions {
        start: end - 1800.0,
        end,
        step: 15.0,
    };
    let demo = Arc::new(mesh.clone());
    let prometheus = prometheus_writing(name, |out| {
        write_openmetrics_history(&demo, &MetricsOptions::default(), &history, out).map(drop)
    })
    .await;
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
