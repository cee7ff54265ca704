//! Benchmark (prints figures): the time `/api/metrics` takes end to end
//! (HTTP, auth, query planning, Prometheus, assembly, JSON) against the time
//! Prometheus alone takes for the same queries, issued the same way
//! (concurrently), for the demo mesh and a 1,000-service synthetic mesh.
//!
//! `cargo bench -p meshdeck --bench metrics [-- synthetic]`. Needs `prometheus`/`promtool`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::types::{AuthMode, MetricsReport, RunMode};
use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use meshdeck_server::config::UpstreamArgs;
use meshdeck_server::metrics::MetricsLimits;
use meshdeck_server::spa::Spa;
use meshdeck_server::upstream::Upstreams;
use meshdeck_server::{AppState, router};
use meshdeck_sim::kube::InMemoryCluster;
use meshdeck_sim::metrics::{HistoryOptions, MetricsOptions};
use meshdeck_sim::model::Mesh;
use meshdeck_sim::prometheus::{PrometheusOptions, PrometheusServer, backfill_in_chunks};
use meshdeck_sim::scenario;
use tower::ServiceExt;

const RUNS: usize = 7;
const HISTORY_S: f64 = 1500.0;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

async fn measure(mesh: Mesh, options: MetricsOptions, uri: &str) {
    let end = (meshdeck_sim::live::now_s() / 15.0).floor() * 15.0;
    let history = HistoryOptions {
        start: end - HISTORY_S,
        end,
        step: 15.0,
    };
    let shared = Arc::new(mesh.clone());
    let data = std::env::temp_dir().join(format!(
        "meshdeck-bench-metrics-{}-{}",
        std::process::id(),
        mesh.name
    ));
    backfill_in_chunks(&shared, &options, &history, &data, 600.0)
        .await
        .expect("backfill");
    let prometheus = PrometheusServer::start(&PrometheusOptions {
        data: Some(data),
        ..PrometheusOptions::default()
    })
    .await
    .expect("prometheus");

    let args = UpstreamArgs {
        prometheus_url: Some(prometheus.url().parse().expect("url")),
        ..UpstreamArgs::default()
    };
    let mut upstreams = Upstreams::from_args(&args, Duration::from_secs(30)).expect("upstreams");
    upstreams.kube = Some(meshdeck_server::demo::in_memory(
        &InMemoryCluster::from_mesh(&mesh),
        meshdeck_sim::kube::ADMIN_TOKEN,
    ));
    // No answer reuse: every run recomputes.
    let state = AppState::new(
        RunMode::Demo,
        AuthMode::Demo,
        upstreams,
        Spa::load(std::path::Path::new("/nonexistent")),
    )
    .with_metrics_limits(MetricsLimits {
        cache_ttl: Duration::ZERO,
        ..MetricsLimits::default()
    });
    let app = router(state);

    let mut api_ms = Vec::new();
    let mut size = 0;
    let mut report: Option<MetricsReport> = None;
    for _ in 0..RUNS {
        let request = Request::get(uri)
            .header("authorization", "Bearer demo-token-admin")
            .body(Body::empty())
            .expect("request");
        let started = Instant::now();
        let response = app.clone().oneshot(request).await.expect("response");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        api_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        size = body.len();
        report = Some(serde_json::from_slice(&body).expect("report"));
    }
    let report = report.expect("one report");

    // The same queries straight to Prometheus, concurrently, as the API issues them.
    let client = reqwest::Client::new();
    let url = prometheus.url();
    let mut prom_ms = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let ranges = report
            .charts
            .iter()
            .flat_map(|c| c.queries.iter())
            .map(|q| {
                client
                    .post(format!("{url}/api/v1/query_range"))
                    .form(&[
                        ("query", q.as_str()),
                        ("start", &report.start.to_string()),
                        ("end", &report.end.to_string()),
                        ("step", &report.step.to_string()),
                    ])
                    .send()
            });
        let instants = report.top.iter().map(|t| {
            client
                .post(format!("{url}/api/v1/query"))
                .form(&[
                    ("query", t.query.as_str()),
                    ("time", &report.end.to_string()),
                ])
                .send()
        });
        let all: Vec<_> = ranges.chain(instants).collect();
        for response in futures::future::join_all(all).await {
            response
                .expect("prometheus answer")
                .bytes()
                .await
                .expect("body");
        }
        prom_ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let (api, prom) = (median(api_ms), median(prom_ms));
    println!(
        "{:<16} {:<44} /api/metrics {:>7.1} ms   Prometheus alone {:>7.1} ms   ratio {:>5.2}   response {:>7} B   ({} queries, median of {RUNS})",
        mesh.name,
        uri,
        api,
        prom,
        api / prom,
        size,
        report.charts.iter().map(|c| c.queries.len()).sum::<usize>() + report.top.len(),
    );
    prometheus.stop().await;
}

#[tokio::main]
async fn main() {
    println!(
        "history: {} min; ranges end at the history's end",
        HISTORY_S / 60.0
    );
    let end = (meshdeck_sim::live::now_s() / 15.0).floor() * 15.0;
    let window = format!("start={}&end={}", end - 1200.0, end - 60.0);
    // `-- synthetic` skips the demo mesh.
    if !std::env::args().any(|a| a == "synthetic") {
        measure(
            scenario::demo(),
            MetricsOptions::default(),
            &format!("/api/metrics?scope=mesh&{window}"),
        )
        .await;
        measure(
            scenario::demo(),
            MetricsOptions::default(),
            &format!("/api/metrics?scope=service&namespace=bookinfo&name=reviews&{window}"),
        )
        .await;
    }
    let lean = MetricsOptions {
        size_histograms: false,
        ..MetricsOptions::default()
    };
    measure(
        scenario::synthetic(1000, 1),
        lean.clone(),
        &format!("/api/metrics?scope=mesh&{window}"),
    )
    .await;
    measure(
        scenario::synthetic(1000, 1),
        lean,
        &format!("/api/metrics?scope=namespace&namespace=team0-ns0&{window}"),
    )
    .await;
}
