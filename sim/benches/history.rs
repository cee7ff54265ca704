//! Benchmark (prints figures): generating and backfilling an hour of Istio
//! metrics history for the demo mesh and for synthetic meshes, and the
//! memory of the Prometheus that then holds it.
//!
//! `cargo bench -p meshdeck-sim --bench history [-- 100 1000]` (sizes of the
//! synthetic meshes; default 1000). Needs `prometheus` and `promtool`.
//! Synthetic meshes are written and backfilled ten minutes at a time (the
//! OpenMetrics text of a 1,000-service hour runs to many gigabytes).

use std::sync::Arc;
use std::time::Instant;

use meshdeck_sim::metrics::{HistoryOptions, MetricsOptions, Simulator};
use meshdeck_sim::model::Mesh;
use meshdeck_sim::prometheus::{PrometheusOptions, PrometheusServer, backfill_in_chunks};
use meshdeck_sim::scenario;

const HOUR_S: f64 = 3600.0;
const STEP_S: f64 = 15.0;
const CHUNK_S: f64 = 600.0;

async fn measure(mesh: Mesh, options: MetricsOptions) {
    let mesh = Arc::new(mesh);
    let end = (meshdeck_sim::live::now_s() / STEP_S).floor() * STEP_S;
    let series = Simulator::new(mesh.clone(), options.clone(), end).series_count();
    let history = HistoryOptions {
        start: end - HOUR_S,
        end,
        step: STEP_S,
    };
    let data = std::env::temp_dir().join(format!(
        "meshdeck-bench-data-{}-{}",
        std::process::id(),
        mesh.name
    ));
    let started = Instant::now();
    let samples = backfill_in_chunks(&mesh, &options, &history, &data, CHUNK_S)
        .await
        .expect("backfill");
    let backfill = started.elapsed();
    let started = Instant::now();
    let prometheus = PrometheusServer::start(&PrometheusOptions {
        data: Some(data),
        ..PrometheusOptions::default()
    })
    .await
    .expect("start prometheus");
    let start = started.elapsed();
    let query_started = Instant::now();
    let _ = reqwest::Client::new()
        .get(format!("{}/api/v1/query", prometheus.url()))
        .query(&[
            ("query", "sum(rate(istio_requests_total{reporter=\"destination\"}[5m])) by (destination_service)"),
            ("time", &(end - 60.0).to_string()),
        ])
        .send()
        .await
        .and_then(|r| r.error_for_status());
    let query = query_started.elapsed();
    println!(
        "{:<16} services {:>5}  edges {:>6}  series {:>8}  samples {:>11}  generate+backfill {:>7.1} s  start {:>5.1} s  first query {:>6.0} ms  RSS {:>6.0} MiB  size histograms {}",
        mesh.name,
        mesh.services.len(),
        mesh.edges.len(),
        series,
        samples,
        backfill.as_secs_f64(),
        start.as_secs_f64(),
        query.as_secs_f64() * 1000.0,
        prometheus.resident_kib().unwrap_or(0) as f64 / 1024.0,
        options.size_histograms,
    );
    prometheus.stop().await;
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() { vec![1000] } else { sizes };
    println!("one hour of history at {STEP_S} s per sample");
    measure(scenario::demo(), MetricsOptions::default()).await;
    for n in sizes {
        let without_sizes = MetricsOptions {
            size_histograms: false,
            ..MetricsOptions::default()
        };
        measure(scenario::synthetic(n, 1), without_sizes).await;
    }
}
