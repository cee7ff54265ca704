//! `/api/metrics` against a real Prometheus holding history that the
//! simulator wrote for a scenario with constant traffic. Expected numbers
//! are derived here from the scenario's definition (edge rates, error
//! shares, latency parameters) and Istio's reporting rules, not from the
//! code under test.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use app::types::MetricsQuery;
use app::types::{ChartKind, ErrorBody, ErrorCode, MetricsReport, TopKind};
use common::{Fixture, state};
use http::StatusCode;
use meshdeck_server::AppState;
use meshdeck_server::access::AccessScope;
use meshdeck_server::metrics::report;
use meshdeck_sim::model::{Mesh, Protocol};
use meshdeck_sim::prometheus::PrometheusServer;
use tokio::sync::OnceCell;

/// One Prometheus for all tests of this file, with 30 minutes of history.
async fn fixture() -> &'static Fixture {
    static FIXTURE: OnceCell<Fixture> = OnceCell::const_new();
    FIXTURE.get_or_init(|| common::start("metrics")).await
}

/// Ten minutes ending two minutes before the history's end, one point a minute.
fn window(f: &Fixture) -> String {
    format!("start={}&end={}&step=60", f.end - 720.0, f.end - 120.0)
}

async fn get(state: AppState, uri: &str) -> (StatusCode, Vec<u8>) {
    // The demo owner's token, checked by the in-memory cluster's TokenReview.
    common::call(&state, "admin", uri).await
}

async fn get_report(state: AppState, uri: &str) -> MetricsReport {
    common::get_ok(&state, "admin", uri).await
}

fn mean(report: &MetricsReport, kind: ChartKind, series: usize) -> f64 {
    let chart = report.charts.iter().find(|c| c.kind == kind).unwrap();
    let values: Vec<f64> = chart.series[series]
        .points
        .iter()
        .filter_map(|p| p.1)
        .collect();
    assert_eq!(
        values.len(),
        chart.series[series].points.len(),
        "{kind:?} has gaps"
    );
    values.iter().sum::<f64>() / values.len() as f64
}

/// Traffic into in-mesh HTTP/gRPC services of `namespaces` (all if `None`):
/// (requests/s, HTTP 4xx/s, HTTP 5xx/s). gRPC errors travel in
/// `grpc_response_status` with HTTP code 200, so they count as neither.
fn expected(mesh: &Mesh, namespaces: Option<&[&str]>) -> (f64, f64, f64) {
    let mut totals = (0.0, 0.0, 0.0);
    for edge in &mesh.edges {
        let svc = &mesh.services[edge.service];
        let ns = mesh.namespaces[svc.namespace].name.as_str();
        if svc.external_host.is_some()
            || svc.protocol == Protocol::Tcp
            || namespaces.is_some_and(|n| !n.contains(&ns))
        {
            continue;
        }
        totals.0 += edge.rate;
        if svc.protocol == Protocol::Http {
            totals.1 += edge.rate * edge.errors.client;
            totals.2 += edge.rate * edge.errors.server;
        }
    }
    totals
}

fn close(got: f64, want: f64, relative: f64, absolute: f64) -> bool {
    (got - want).abs() <= absolute + relative * want.abs()
}

#[tokio::test]
async fn mesh_charts_match_the_scenario() {
    let f = fixture().await;
    let report = get_report(
        state(&f.prometheus.url(), &f.mesh),
        &format!("/api/metrics?scope=mesh&{}", window(f)),
    )
    .await;
    let (volume, client, server) = expected(&f.mesh, None);
    // Whole-number counters shift each 1-minute rate by under 1/60 per series;
    // averaged over ten points that stays well inside 1.5 % + 0.05/s.
    let got = mean(&report, ChartKind::RequestVolume, 0);
    assert!(close(got, volume, 0.015, 0.05), "volume {got} vs {volume}");
    let got = mean(&report, ChartKind::ClientErrors, 0);
    assert!(close(got, client, 0.05, 0.02), "4xx {got} vs {client}");
    let got = mean(&report, ChartKind::ServerErrors, 0);
    assert!(close(got, server, 0.1, 0.02), "5xx {got} vs {server}");
    let got = mean(&report, ChartKind::SuccessRate, 0);
    assert!(
        close(got, 1.0 - server / volume, 0.0, 0.001),
        "success {got} vs {}",
        1.0 - server / volume
    );
    // Every chart carries its PromQL, one per series.
    for chart in &report.charts {
        assert_eq!(chart.series.len(), chart.queries.len());
    }
    let names: Vec<&str> = report.charts[4]
        .series
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["p50", "p90", "p99"]);

    // Top 10 by volume: services with destination-reported traffic, in order.
    let top = report
        .top
        .iter()
        .find(|t| t.kind == TopKind::Volume)
        .unwrap();
    let first: Vec<(&str, &str)> = top
        .entries
        .iter()
        .map(|e| (e.namespace.as_str(), e.service.as_str()))
        .collect();
    assert_eq!(first.len(), 6, "{first:?}");
    assert!(close(top.entries[0].value, 20.0, 0.015, 0.05));
    assert_eq!(
        &first[3..],
        [
            ("bookinfo", "ratings"),
            ("payments", "payments-api"),
            ("payments", "ledger")
        ]
    );
    // Top 10 by 5xx: HTTP services whose callers get 5xx, the worst first.
    let mut server_errors: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    for edge in &f.mesh.edges {
        let svc = &f.mesh.services[edge.service];
        if svc.protocol == Protocol::Http && svc.external_host.is_none() && edge.errors.server > 0.0
        {
            *server_errors
                .entry((
                    f.mesh.namespaces[svc.namespace].name.as_str(),
                    svc.name.as_str(),
                ))
                .or_default() += edge.rate * edge.errors.server;
        }
    }
    let (worst, worst_rate) = server_errors
        .iter()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .expect("the demo has services answering 5xx");
    let top5xx = report
        .top
        .iter()
        .find(|t| t.kind == TopKind::ServerErrors)
        .unwrap();
    assert!(!top5xx.entries.is_empty(), "no 5xx list");
    assert!(top5xx.entries.iter().all(|e| e.value > 0.0));
    assert!(
        top5xx
            .entries
            .iter()
            .all(|e| server_errors.contains_key(&(e.namespace.as_str(), e.service.as_str()))),
        "{:?} vs {server_errors:?}",
        top5xx.entries
    );
    let first = &top5xx.entries[0];
    assert_eq!((first.namespace.as_str(), first.service.as_str()), *worst);
    assert!(
        close(first.value, *worst_rate, 0.1, 0.02),
        "{} vs {worst_rate}",
        first.value
    );
}

/// histogram_quantile's rule: find the bucket where the cumulative share
/// crosses q, interpolate linearly inside it.
fn histogram_quantile(q: f64, bounds: &[f64], cumulative: &[f64]) -> f64 {
    let total = *cumulative.last().unwrap();
    let rank = q * total;
    let i = cumulative.iter().position(|c| *c >= rank).unwrap();
    let (lower, below) = if i == 0 {
        (0.0, 0.0)
    } else {
        (bounds[i - 1], cumulative[i - 1])
    };
    lower + (bounds[i] - lower) * (rank - below) / (cumulative[i] - below)
}

/// Log-normal CDF written out here (Abramowitz-Stegun 7.1.26 erf).
fn lognormal_cdf(x: f64, median: f64, sigma: f64) -> f64 {
    let z = (x.ln() - median.ln()) / (sigma * std::f64::consts::SQRT_2);
    let t = 1.0 / (1.0 + 0.3275911 * z.abs());
    let y = 1.0
        - t * (0.254829592
            + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
            * (-z * z).exp();
    0.5 * (1.0 + z.signum() * y)
}

#[tokio::test]
async fn service_duration_percentiles_follow_the_latency_model() {
    let f = fixture().await;
    let uri = format!(
        "/api/metrics?scope=service&namespace=bookinfo&name=details&{}",
        window(f)
    );
    let report = get_report(state(&f.prometheus.url(), &f.mesh), &uri).await;
    // details is called only by productpage: median 6 ms, sigma 0.4 (scenario.rs).
    let edge = f
        .mesh
        .edges
        .iter()
        .find(|e| f.mesh.services[e.service].name == "details")
        .unwrap();
    let bounds = meshdeck_sim::metrics::DURATION_BUCKETS_MS;
    let cumulative: Vec<f64> = bounds
        .iter()
        .map(|le| lognormal_cdf(*le, edge.latency.median_ms, edge.latency.sigma))
        .collect();
    for (i, q) in [0.5, 0.9, 0.99].into_iter().enumerate() {
        let want = histogram_quantile(q, &bounds, &cumulative);
        let got = mean(&report, ChartKind::RequestDuration, i);
        assert!(close(got, want, 0.03, 0.05), "q{q}: {got} vs {want}");
    }
    let got = mean(&report, ChartKind::RequestVolume, 0);
    assert!(close(got, edge.rate, 0.015, 0.05), "{got}");
}

fn member(namespaces: &[&str]) -> AccessScope {
    AccessScope::member("alice", namespaces.iter().copied(), true, true)
}

/// `query` (`a=b&c=d`) read as the route reads it.
fn params(query: &str) -> MetricsQuery {
    let uri: http::Uri = format!("/api/metrics?{query}").parse().unwrap();
    axum::extract::Query::<MetricsQuery>::try_from_uri(&uri)
        .unwrap()
        .0
}

#[tokio::test]
async fn members_see_only_their_namespaces_numbers() {
    let f = fixture().await;
    let state = state(&f.prometheus.url(), &f.mesh);
    let alice = member(&["bookinfo"]);
    let now = f.end;
    let mesh_for_alice = report(
        &state,
        &alice,
        &params(&format!("scope=mesh&{}", window(f))),
        now,
    )
    .await
    .unwrap();
    let (bookinfo, _, _) = expected(&f.mesh, Some(&["bookinfo"]));
    let (all, _, _) = expected(&f.mesh, None);
    let got = mean(&mesh_for_alice, ChartKind::RequestVolume, 0);
    assert!(
        close(got, bookinfo, 0.015, 0.05),
        "{got} vs {bookinfo} (mesh total {all})"
    );
    assert_eq!(
        mesh_for_alice.namespaces,
        Some(vec!["bookinfo".to_string()])
    );
    for chart in &mesh_for_alice.charts {
        for q in &chart.queries {
            assert!(
                q.contains(r#"destination_service_namespace=~"bookinfo""#),
                "{q}"
            );
        }
    }
    let volume_list = mesh_for_alice
        .top
        .iter()
        .find(|t| t.kind == TopKind::Volume)
        .unwrap();
    assert!(!volume_list.entries.is_empty(), "bookinfo has traffic");
    assert!(
        mesh_for_alice
            .top
            .iter()
            .flat_map(|t| &t.entries)
            .all(|e| e.namespace == "bookinfo")
    );

    // Another project's namespace, service or project: 403.
    for query in [
        "scope=namespace&namespace=payments",
        "scope=service&namespace=payments&name=ledger",
        "scope=workload&namespace=legacy&name=batch-reporter-v1",
        "scope=project&project=p-payments",
    ] {
        let err = report(
            &state,
            &alice,
            &params(&format!("{query}&{}", window(f))),
            now,
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Forbidden, "{query}: {err}");
    }
    // Their own project resolves through the cluster's namespace labels.
    let shop = report(
        &state,
        &alice,
        &params(&format!("scope=project&project=p-shop&{}", window(f))),
        now,
    )
    .await
    .unwrap();
    assert_eq!(shop.namespaces, Some(vec!["bookinfo".to_string()]));
}

/// A proxy in front of `prometheus` that counts the queries passing
/// through it, so a test counts only its own queries even while other
/// tests use the same Prometheus. Returns its URL and the counts of range
/// and instant queries.
async fn counting_proxy(
    prometheus: &PrometheusServer,
) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    use axum::body::Bytes;
    use axum::response::IntoResponse;
    let (range, instant) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (r, i, upstream) = (range.clone(), instant.clone(), prometheus.url());
    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback(
        move |uri: http::Uri, headers: http::HeaderMap, body: Bytes| {
            let (r, i, upstream, client) = (r.clone(), i.clone(), upstream.clone(), client.clone());
            async move {
                match uri.path() {
                    "/api/v1/query_range" => r.fetch_add(1, Ordering::SeqCst),
                    "/api/v1/query" => i.fetch_add(1, Ordering::SeqCst),
                    _ => 0,
                };
                let mut request = client.post(format!("{upstream}{uri}")).body(body);
                if let Some(t) = headers.get("content-type") {
                    request = request.header("content-type", t.to_str().unwrap());
                }
                let answer = request.send().await.unwrap();
                let status = http::StatusCode::from_u16(answer.status().as_u16()).unwrap();
                (status, answer.bytes().await.unwrap()).into_response()
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, range, instant)
}

#[tokio::test]
async fn identical_concurrent_requests_share_one_set_of_queries() {
    let f = fixture().await;
    let (proxy, range, instant) = counting_proxy(&f.prometheus).await;
    let state = state(&proxy, &f.mesh);
    let uri = format!(
        "/api/metrics?scope=namespace&namespace=payments&start={}&end={}&step=30",
        f.end - 600.0,
        f.end - 60.0
    );
    let requests: Vec<_> = (0..6).map(|_| get(state.clone(), &uri)).collect();
    for (status, body) in futures::future::join_all(requests).await {
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    }
    // One report is 7 range queries (4 charts + 3 quantiles) and 4 instant
    // ones (the top lists); six identical requests would be 42 and 24
    // without coalescing. Only this test's queries pass the proxy.
    assert_eq!(range.load(Ordering::SeqCst), 7, "range queries");
    assert_eq!(instant.load(Ordering::SeqCst), 4, "instant queries");
    // An explicit range is not kept once answered: a seventh identical
    // request asks again.
    let (status, _) = get(state.clone(), &uri).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        range.load(Ordering::SeqCst),
        14,
        "range queries, asked again"
    );
    // A range ending now is kept: a second request at the same moment
    // (within the step) costs nothing.
    let scope = AccessScope::owner("admin");
    let live = params("scope=namespace&namespace=payments&range=10m&step=30");
    // On a step boundary, so that ten seconds later is the same step.
    let now = ((f.end - 60.0) / 30.0).floor() * 30.0;
    let first = report(&state, &scope, &live, now).await.unwrap();
    assert_eq!(
        range.load(Ordering::SeqCst),
        21,
        "range queries, range ending now"
    );
    let second = report(&state, &scope, &live, now + 10.0).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(
        range.load(Ordering::SeqCst),
        21,
        "range queries after a kept answer"
    );
}

#[tokio::test]
async fn bad_requests_get_clear_400s() {
    let f = fixture().await;
    let state = state(&f.prometheus.url(), &f.mesh);
    let cases = [
        ("/api/metrics?scope=galaxy", "unknown scope"),
        ("/api/metrics?scope=namespace", "needs a namespace"),
        (
            "/api/metrics?scope=service&namespace=bookinfo",
            "needs a name",
        ),
        ("/api/metrics?start=200&end=100", "must be after start"),
        ("/api/metrics?start=0&end=86400&step=1", "use a larger step"),
        ("/api/metrics?range=90d", "longest allowed"),
        ("/api/metrics?range=soon", "not a duration"),
        ("/api/metrics?start=abc&end=1", "bad query string"),
        (
            "/api/metrics?direction=sideways&scope=workload&namespace=a&name=b",
            "unknown direction",
        ),
    ];
    for (uri, words) in cases {
        let (status, body) = get(state.clone(), uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        let body: ErrorBody = serde_json::from_slice(&body).unwrap();
        assert!(
            body.error.message.contains(words),
            "{uri}: {}",
            body.error.message
        );
    }
}

#[tokio::test]
async fn prometheus_down_is_a_503_naming_it() {
    let f = fixture().await;
    let port = meshdeck_sim::prometheus::free_port().unwrap();
    let state = state(&format!("http://127.0.0.1:{port}"), &f.mesh);
    let (status, body) = get(state, "/api/metrics?range=15m").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let body: ErrorBody = serde_json::from_slice(&body).unwrap();
    assert_eq!(body.error.code, ErrorCode::UpstreamUnavailable);
    assert!(
        body.error.message.starts_with("Prometheus is unavailable"),
        "{}",
        body.error.message
    );
}

/// The error body of a failed request, with its status.
async fn error_of(state: &AppState, user: &str, uri: &str) -> (StatusCode, ErrorBody) {
    let (status, body) = common::call(state, user, uri).await;
    let body = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{uri}: {e}: {}", String::from_utf8_lossy(&body)));
    (status, body)
}

#[tokio::test]
async fn a_member_asking_for_another_projects_namespace_gets_403() {
    let f = fixture().await;
    // alice is a member of p-shop (bookinfo); payments belongs to p-payments.
    let with = state(&f.prometheus.url(), &f.mesh);
    let without = common::state_without_prometheus(&f.mesh);
    for state in [&with, &without] {
        let (status, body) = error_of(
            state,
            "alice",
            &format!(
                "/api/metrics?scope=namespace&namespace=payments&{}",
                window(f)
            ),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body.error.code, ErrorCode::Forbidden);
        assert!(
            body.error.message.contains("payments"),
            "{}",
            body.error.message
        );
    }
    // Her own namespace is fine.
    let (status, _) = common::call(
        &with,
        "alice",
        &format!(
            "/api/metrics?scope=namespace&namespace=bookinfo&{}",
            window(f)
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn bad_input_is_400_even_without_prometheus() {
    let state = common::state_without_prometheus(&common::quiet_demo());
    for (uri, words) in [
        ("/api/metrics?scope=galaxy", "unknown scope"),
        ("/api/metrics?start=200&end=100", "must be after start"),
        (
            "/api/metrics?scope=service&namespace=bookinfo",
            "needs a name",
        ),
    ] {
        let (status, body) = error_of(&state, "admin", uri).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{uri}: {}",
            body.error.message
        );
        assert_eq!(body.error.code, ErrorCode::BadRequest);
        assert!(
            body.error.message.contains(words),
            "{uri}: {}",
            body.error.message
        );
    }
    // Good input then hears that Prometheus is missing.
    let (status, body) = error_of(&state, "admin", "/api/metrics?range=15m").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body.error.message.contains("--prometheus-url"),
        "{}",
        body.error.message
    );
}

#[tokio::test]
async fn targets_list_what_the_caller_may_pick() {
    let f = fixture().await;
    let state = state(&f.prometheus.url(), &f.mesh);
    let now = f.end;
    let all = meshdeck_server::metrics::targets(&state, &AccessScope::owner("admin"), now)
        .await
        .unwrap();
    let bookinfo = all
        .namespaces
        .iter()
        .find(|n| n.name == "bookinfo")
        .unwrap();
    // From the scenario: bookinfo's services with inbound traffic, and every
    // workload that sends or receives (mongodb only speaks TCP).
    assert_eq!(
        bookinfo.services,
        ["details", "productpage", "ratings", "reviews"]
    );
    assert_eq!(
        bookinfo.workloads,
        [
            "details-v1",
            "productpage-v1",
            "ratings-v1",
            "reviews-v1",
            "reviews-v2",
            "reviews-v3"
        ]
    );
    // The legacy namespace has no sidecars, so it never appears in metrics.
    assert!(all.namespaces.iter().all(|n| n.name != "legacy"));
    let shop = all.projects.iter().find(|p| p.id == "p-shop").unwrap();
    assert_eq!(shop.namespaces, ["bookinfo"]);
    let pay = all.projects.iter().find(|p| p.id == "p-payments").unwrap();
    assert_eq!(pay.namespaces, ["legacy", "payments"]);

    let alice = meshdeck_server::metrics::targets(&state, &member(&["bookinfo"]), now)
        .await
        .unwrap();
    assert_eq!(
        alice
            .namespaces
            .iter()
            .map(|n| n.name.as_str())
            .collect::<Vec<_>>(),
        ["bookinfo"]
    );
    assert_eq!(alice.projects.len(), 1);
}
