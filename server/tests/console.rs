//! The PromQL console (`POST /api/prometheus/query`) and the built-in
//! dashboards (`GET /api/dashboards/...`) against a real Prometheus holding
//! history the simulator wrote for a scenario with constant traffic.
//! Expected numbers come from the scenario's definition (edge rates and
//! sizes), not from the code under test.

mod common;

use app::types::{Dashboard, ErrorBody, ErrorCode, PromData, PromQueryAnswer, PromQueryRequest};
use axum::body::Body;
use common::Fixture;
use http::{Method, Request, StatusCode};
use meshdeck_server::access::{AccessScope, Owner};
use meshdeck_server::upstream::prometheus::ResultLimits;
use meshdeck_server::{AppState, console};
use meshdeck_sim::model::{Caller, Edge, Mesh, Protocol};
use tokio::sync::OnceCell;

const ADMIN: &str = "demo-token-admin";
const ALICE: &str = "demo-token-alice";
const BOB: &str = "demo-token-bob";
const DETAILS_RATE: &str = r#"sum(rate(istio_requests_total{reporter="destination",destination_service_name="details"}[1m]))"#;

/// One Prometheus for all tests of this file, with 30 minutes of history.
async fn fixture() -> &'static Fixture {
    static FIXTURE: OnceCell<Fixture> = OnceCell::const_new();
    FIXTURE.get_or_init(|| common::start("console")).await
}

fn state(f: &Fixture) -> AppState {
    common::state(&f.prometheus.url(), &f.mesh)
}

async fn post_raw(f: &Fixture, token: &str, body: &str) -> (StatusCode, Vec<u8>) {
    let request = Request::post("/api/prometheus/query")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    common::send_bytes(&state(f), request).await
}

async fn post(f: &Fixture, token: &str, query: &PromQueryRequest) -> (StatusCode, Vec<u8>) {
    post_raw(f, token, &serde_json::to_string(query).unwrap()).await
}

async fn get(f: &Fixture, token: &str, uri: &str) -> (StatusCode, Vec<u8>) {
    common::send_bytes(&state(f), common::build(Method::GET, uri, token, None)).await
}

fn error(body: &[u8]) -> ErrorBody {
    serde_json::from_slice(body).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(body)))
}

fn close(got: f64, want: f64, relative: f64, absolute: f64) -> bool {
    (got - want).abs() <= absolute + relative * want.abs()
}

/// The one edge into service `name` (details has one caller: productpage).
fn edge_into<'a>(mesh: &'a Mesh, name: &str) -> &'a Edge {
    let edges: Vec<&Edge> = mesh
        .edges
        .iter()
        .filter(|e| mesh.services[e.service].name == name)
        .collect();
    assert_eq!(edges.len(), 1, "{name} should have one caller");
    edges[0]
}

fn instant(query: &str, time: f64) -> PromQueryRequest {
    PromQueryRequest {
        query: query.into(),
        time: Some(time),
        ..PromQueryRequest::default()
    }
}

#[tokio::test]
async fn members_may_not_use_the_console_or_dashboards() {
    let f = fixture().await;
    for token in [ALICE, BOB] {
        let (status, body) = post(f, token, &instant("up", f.end)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(error(&body).error.code, ErrorCode::Forbidden);
        for uri in [
            "/api/dashboards/mesh",
            "/api/dashboards/service?namespace=bookinfo&name=details",
        ] {
            let (status, _) = get(f, token, uri).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{uri}");
        }
    }
}

#[tokio::test]
async fn syntax_errors_come_back_as_prometheus_states_them() {
    let f = fixture().await;
    let (status, body) = post(
        f,
        ADMIN,
        &instant("sum(rate(istio_requests_total[1m]", f.end),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = error(&body).error.message;
    // Prometheus' own wording: "bad_data: 1:35: parse error: unclosed left parenthesis".
    assert!(message.contains("parse error"), "{message}");
    assert!(message.contains("unclosed left parenthesis"), "{message}");
}

#[tokio::test]
async fn instant_queries_return_the_scenarios_rate() {
    let f = fixture().await;
    let (status, body) = post(f, ADMIN, &instant(DETAILS_RATE, f.end - 120.0)).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let answer: PromQueryAnswer = serde_json::from_slice(&body).unwrap();
    let PromData::Vector(samples) = answer.data else {
        panic!("not a vector: {:?}", answer.data);
    };
    assert_eq!(samples.len(), 1);
    assert!(samples[0].metric.is_empty());
    assert_eq!(samples[0].value.0, f.end - 120.0);
    let got: f64 = samples[0].value.1.parse().unwrap();
    let want = edge_into(&f.mesh, "details").rate;
    // Whole-number counters shift a 1-minute rate by under 1/60 per series.
    assert!(close(got, want, 0.02, 0.05), "{got} vs {want}");

    // Scalars pass through as Prometheus gives them.
    let (status, body) = post(f, ADMIN, &instant("1 + 1", f.end)).await;
    assert_eq!(status, StatusCode::OK);
    let answer: PromQueryAnswer = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer.data, PromData::Scalar((f.end, "2".into())));
}

#[tokio::test]
async fn range_queries_return_a_matrix() {
    let f = fixture().await;
    let query = PromQueryRequest {
        query: DETAILS_RATE.into(),
        start: Some(f.end - 720.0),
        end: Some(f.end - 120.0),
        step: Some(60.0),
        ..PromQueryRequest::default()
    };
    let (status, body) = post(f, ADMIN, &query).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let answer: PromQueryAnswer = serde_json::from_slice(&body).unwrap();
    let PromData::Matrix(series) = answer.data else {
        panic!("not a matrix: {:?}", answer.data);
    };
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].values.len(), 11);
    let want = edge_into(&f.mesh, "details").rate;
    for (t, v) in &series[0].values {
        let got: f64 = v.parse().unwrap();
        assert!(close(got, want, 0.02, 0.05), "{t}: {got} vs {want}");
    }
    // One series per destination service with destination-reported traffic.
    let by_service = PromQueryRequest {
        query: r#"sum by (destination_service_name) (rate(istio_requests_total{reporter="destination"}[1m]))"#.into(),
        ..query.clone()
    };
    let (_, body) = post(f, ADMIN, &by_service).await;
    let answer: PromQueryAnswer = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer.data.size(), (6, 66));
}

#[tokio::test]
async fn oversized_results_are_refused() {
    let f = fixture().await;
    let prometheus = state(f).prometheus().unwrap().clone();
    let owner = Owner::check(AccessScope::owner("admin")).unwrap();
    let small = ResultLimits {
        max_series: 3,
        max_points: 30,
        max_bytes: 1 << 20,
    };
    let by_service = instant(
        r#"sum by (destination_service_name) (rate(istio_requests_total{reporter="destination"}[1m]))"#,
        f.end - 120.0,
    );
    let err = console::query(&prometheus, &owner, &by_service, f.end, &small)
        .await
        .unwrap_err();
    assert_eq!(err.code().http_status(), 422);
    assert!(err.to_string().contains("6 series"), "{err}");
    // Under the series limit but over the points limit.
    let range = PromQueryRequest {
        query: DETAILS_RATE.into(),
        start: Some(f.end - 720.0),
        end: Some(f.end - 120.0),
        step: Some(15.0),
        ..PromQueryRequest::default()
    };
    let err = console::query(&prometheus, &owner, &range, f.end, &small)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("41 points"), "{err}");
    // Too many bytes of JSON.
    let tiny = ResultLimits {
        max_bytes: 100,
        ..ResultLimits::default()
    };
    let err = console::query(&prometheus, &owner, &by_service, f.end, &tiny)
        .await
        .unwrap_err();
    assert_eq!(err.code().http_status(), 422);
    // The route's default limits refuse every raw histogram bucket series at 1 s steps.
    let (status, body) = post(
        f,
        ADMIN,
        &PromQueryRequest {
            query: "istio_request_duration_milliseconds_bucket".into(),
            start: Some(f.end - 600.0),
            end: Some(f.end - 120.0),
            step: Some(1.0),
            ..PromQueryRequest::default()
        },
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert!(error(&body).error.message.contains("at most"));
}

#[tokio::test]
async fn malformed_requests_are_400_or_422() {
    let f = fixture().await;
    let (status, _) = post_raw(f, ADMIN, "{not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = post_raw(f, ADMIN, r#"{"time": 1}"#).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = post_raw(f, ADMIN, r#"{"query": "up", "start": 10}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = post_raw(
        f,
        ADMIN,
        r#"{"query": "up", "start": 0, "end": 86400, "step": 1}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error(&body).error.message.contains("11000"));
}

async fn dashboard(f: &Fixture, query: &str) -> Dashboard {
    let window = format!("start={}&end={}&step=60", f.end - 720.0, f.end - 120.0);
    let sep = if query.contains('?') { '&' } else { '?' };
    let (status, body) = get(f, ADMIN, &format!("{query}{sep}{window}")).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

fn mean_of(d: &Dashboard, panel: &str, series: &str) -> f64 {
    let panel = d
        .panels
        .iter()
        .find(|p| p.title == panel)
        .unwrap_or_else(|| panic!("no panel {panel}"));
    let s = panel
        .series
        .iter()
        .find(|s| s.name == series)
        .unwrap_or_else(|| panic!("no series {series} in {:?}", panel.series));
    let values: Vec<f64> = s.points.iter().filter_map(|p| p.1).collect();
    assert_eq!(values.len(), s.points.len(), "{series} has gaps");
    values.iter().sum::<f64>() / values.len() as f64
}

#[tokio::test]
async fn service_dashboard_matches_the_scenario() {
    let f = fixture().await;
    let d = dashboard(f, "/api/dashboards/service?namespace=bookinfo&name=details").await;
    let edge = edge_into(&f.mesh, "details");
    let Caller::Workload(source) = edge.source else {
        panic!("details is called from inside the mesh");
    };
    let source = &f.mesh.workloads[source];
    let legend = format!(
        "{}.{}",
        source.name, f.mesh.namespaces[source.namespace].name
    );
    assert_eq!(legend, "productpage-v1.bookinfo");
    let got = mean_of(&d, "Incoming requests by source", &legend);
    assert!(close(got, edge.rate, 0.015, 0.05), "{got} vs {}", edge.rate);
    // The simulator's size histograms have the edge's mean size.
    let got = mean_of(&d, "Incoming request size", "mean");
    assert!(
        close(got, edge.request_bytes, 0.02, 1.0),
        "{got} vs {}",
        edge.request_bytes
    );
    let got = mean_of(&d, "Response size", "mean");
    assert!(
        close(got, edge.response_bytes, 0.02, 1.0),
        "{got} vs {}",
        edge.response_bytes
    );
    let got = mean_of(&d, "Incoming success rate by source (non-5xx)", &legend);
    assert!(close(got, 1.0 - edge.errors.server, 0.0, 0.01), "{got}");
    // Every panel shows its PromQL.
    assert!(d.panels.iter().all(|p| !p.queries.is_empty()));
    assert_eq!(d.namespace.as_deref(), Some("bookinfo"));
}

#[tokio::test]
async fn mesh_dashboard_totals_and_table() {
    let f = fixture().await;
    let d = dashboard(f, "/api/dashboards/mesh").await;
    let want: f64 = f
        .mesh
        .edges
        .iter()
        .filter(|e| {
            let s = &f.mesh.services[e.service];
            s.external_host.is_none() && s.protocol != Protocol::Tcp
        })
        .map(|e| e.rate)
        .sum();
    let got = mean_of(&d, "Global request volume", "requests");
    assert!(close(got, want, 0.015, 0.05), "{got} vs {want}");
    assert_eq!(d.services.len(), 6, "{:?}", d.services);
    assert!(
        d.services
            .windows(2)
            .all(|w| w[0].requests_per_s >= w[1].requests_per_s)
    );
    let details = d
        .services
        .iter()
        .find(|r| r.namespace == "bookinfo" && r.service == "details")
        .unwrap();
    let rate = edge_into(&f.mesh, "details").rate;
    assert!(close(details.requests_per_s, rate, 0.015, 0.05));
    assert!(details.p99_ms.is_some_and(|p| p > 0.0));
    assert_eq!(d.service_queries.len(), 3);
}

#[tokio::test]
async fn workload_dashboard_shows_tcp_bytes() {
    let f = fixture().await;
    let tcp: Vec<&Edge> = f
        .mesh
        .edges
        .iter()
        .filter(|e| f.mesh.services[e.service].name == "mongodb")
        .collect();
    assert_eq!(tcp.len(), 1);
    let edge = tcp[0];
    let d = dashboard(
        f,
        "/api/dashboards/workload?namespace=bookinfo&name=mongodb-v1",
    )
    .await;
    // Istio counts TCP bytes from the server: received = what the client sent.
    let got = mean_of(&d, "Inbound TCP bytes", "received");
    let want = edge.rate * edge.request_bytes;
    assert!(close(got, want, 0.02, 1.0), "received {got} vs {want}");
    let got = mean_of(&d, "Inbound TCP bytes", "sent");
    let want = edge.rate * edge.response_bytes;
    assert!(close(got, want, 0.02, 1.0), "sent {got} vs {want}");
}

#[tokio::test]
async fn dashboards_reject_missing_names_and_unknown_kinds() {
    let f = fixture().await;
    for uri in [
        "/api/dashboards/service",
        "/api/dashboards/service?namespace=bookinfo",
        "/api/dashboards/workload?name=details-v1",
        "/api/dashboards/workload?namespace=&name=details-v1",
        "/api/dashboards/mesh?range=forever",
    ] {
        let (status, body) = get(f, ADMIN, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(error(&body).error.code, ErrorCode::BadRequest);
    }
    let (status, _) = get(f, ADMIN, "/api/dashboards/grafana").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
