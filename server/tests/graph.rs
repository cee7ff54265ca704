//! `/api/graph` against a real Prometheus holding history that the
//! simulator wrote for the demo with constant traffic and no faults.
//! Expected rates, error shares, bytes and mTLS come from the scenario's
//! definition (edge rates, error mixes, TCP response sizes, namespaces'
//! mTLS setting), not from the code under test.
//!
//! The golden file `testdata/graph_demo_versioned_app.json` is the whole
//! answer with floats rounded to 2 decimals; regenerate it with
//! `MESHDECK_UPDATE_GOLDEN=1 cargo test -p meshdeck --test graph`.

mod common;

use std::collections::BTreeMap;

use app::types::{
    EdgeProtocol, ErrorBody, ErrorCode, Graph, GraphHealth, GraphNodeDetail, NodeKind,
};
use common::{Fixture, state};
use http::StatusCode;
use meshdeck_server::AppState;
use meshdeck_sim::model::{Caller, Mesh, Protocol};
use serde_json::Value;
use tokio::sync::OnceCell;

/// One Prometheus for all tests of this file, with 30 minutes of history.
async fn fixture() -> &'static Fixture {
    static FIXTURE: OnceCell<Fixture> = OnceCell::const_new();
    FIXTURE.get_or_init(|| common::start("graph")).await
}

async fn get(state: AppState, uri: &str, user: &str) -> (StatusCode, Vec<u8>) {
    common::call(&state, user, uri).await
}

/// Two minutes before the history's end, so the 10-minute window is full.
fn at(f: &Fixture) -> String {
    format!("queryTime={}", f.end - 120.0)
}

async fn get_graph(state: AppState, uri: &str, user: &str) -> Graph {
    common::get_ok(&state, user, uri).await
}

fn error_code(body: &[u8]) -> ErrorCode {
    serde_json::from_slice::<ErrorBody>(body)
        .unwrap()
        .error
        .code
}

fn close(got: f64, want: f64) -> bool {
    // Whole-number counters shift a 10-minute rate by well under 1 %.
    (got - want).abs() <= 0.01 + 0.01 * want.abs()
}

/// The node a scenario caller becomes in the versioned app graph.
fn caller_id(mesh: &Mesh, caller: Caller) -> String {
    match caller {
        Caller::Workload(wl) if mesh.has_sidecar(wl) => {
            let w = &mesh.workloads[wl];
            format!(
                "vapp:{}:{}:{}",
                mesh.namespaces[w.namespace].name, w.app, w.version
            )
        }
        _ => "unknown".into(),
    }
}

struct Expected {
    rate: f64,
    errors: f64,
    protocol: EdgeProtocol,
    tcp_bytes: f64,
    mtls: bool,
}

/// Caller -> service edges of the scenario: requests (or connections) per
/// second, errors per second, protocol, TCP response bytes per second, and
/// whether the traffic is mutual TLS (both ends have sidecars and the
/// server's namespace enforces it).
fn expected_edges(mesh: &Mesh) -> BTreeMap<String, Expected> {
    let mut out: BTreeMap<String, Expected> = BTreeMap::new();
    for edge in &mesh.edges {
        let svc = &mesh.services[edge.service];
        let ns = &mesh.namespaces[svc.namespace];
        let protocol = match svc.protocol {
            Protocol::Http => EdgeProtocol::Http,
            Protocol::Grpc => EdgeProtocol::Grpc,
            Protocol::Tcp => EdgeProtocol::Tcp,
        };
        let source_sidecar = matches!(edge.source, Caller::Workload(wl) if mesh.has_sidecar(wl));
        let id = format!(
            "{}->svc:{}:{}/{}",
            caller_id(mesh, edge.source),
            ns.name,
            svc.name,
            format!("{protocol:?}").to_lowercase()
        );
        let e = out.entry(id).or_insert(Expected {
            rate: 0.0,
            errors: 0.0,
            protocol,
            tcp_bytes: 0.0,
            mtls: source_sidecar && ns.mtls && ns.sidecars,
        });
        e.rate += edge.rate;
        e.errors += edge.rate * (edge.errors.client + edge.errors.server);
        e.tcp_bytes += edge.rate * edge.response_bytes;
    }
    out
}

const ALL: &str = "namespaces=bookinfo,payments,istio-system,legacy";

#[tokio::test]
async fn edges_match_the_scenario() {
    let f = fixture().await;
    let graph = get_graph(
        state(&f.prometheus.url(), &f.mesh),
        &format!("/api/graph?{ALL}&type=versionedApp&window=10m&{}", at(f)),
        "admin",
    )
    .await;
    assert!(graph.warnings.is_empty(), "{:?}", graph.warnings);
    assert_eq!(graph.queries.len(), 4, "one query per metric family");
    let edges: BTreeMap<&str, _> = graph.edges.iter().map(|e| (e.id.as_str(), e)).collect();
    let expected = expected_edges(&f.mesh);
    for (id, want) in &expected {
        let got = edges
            .get(id.as_str())
            .unwrap_or_else(|| panic!("edge {id} missing; have {:?}", edges.keys()));
        assert_eq!(got.protocol, want.protocol, "{id}");
        if want.protocol == EdgeProtocol::Tcp {
            let bytes = got.bytes_per_s.unwrap_or(0.0);
            assert!(
                close(bytes, want.tcp_bytes),
                "{id}: {bytes} B/s vs {}",
                want.tcp_bytes
            );
            assert_eq!(got.p95_ms, None);
        } else {
            assert!(
                close(got.rps, want.rate),
                "{id}: {} rps vs {}",
                got.rps,
                want.rate
            );
            // Errors per second: each whole-number counter is off by under
            // one request over the window (600 s).
            let errors = got.rps * got.error_pct / 100.0;
            assert!(
                (errors - want.errors).abs() <= 3.0 / 600.0 + 0.05 * want.errors,
                "{id}: {errors} errors/s vs {}",
                want.errors
            );
            assert!(got.p95_ms.is_some_and(|p| p > 0.0), "{id}: no p95");
        }
        let mtls = got.mtls_pct;
        match (id.starts_with("unknown"), want.mtls) {
            (_, true) => assert_eq!(mtls.map(f64::round), Some(100.0), "{id}"),
            // Outside callers and payments (mTLS off) send plain text, and
            // only the destination proxy can tell.
            (_, false) if id.contains("api.stripe.com") => assert_eq!(mtls, None, "{id}"),
            (_, false) => assert_eq!(mtls.map(f64::round), Some(0.0), "{id}"),
        }
    }
    // The edges named by the issue.
    for id in [
        "unknown->svc:bookinfo:productpage/http",
        "unknown->svc:payments:payments-api/grpc",
        "vapp:bookinfo:ratings:v1->svc:bookinfo:mongodb/tcp",
        "vapp:payments:ledger:v1->svc:payments:postgres/tcp",
    ] {
        assert!(edges.contains_key(id), "{id}");
    }
    // Service -> version edges split the service's traffic by weight.
    let reviews = ["v1", "v2", "v3"].map(|v| {
        edges[format!("svc:bookinfo:reviews->vapp:bookinfo:reviews:{v}/http").as_str()].rps
    });
    for (got, weight) in reviews.into_iter().zip([0.34, 0.33, 0.33]) {
        assert!(close(got, 20.0 * weight), "{got} vs {}", 20.0 * weight);
    }
    let node = |id: &str| graph.nodes.iter().find(|n| n.id == id).unwrap();
    assert_eq!(node("unknown").kind, NodeKind::Unknown);
    assert!(node("unknown").root);
    assert_eq!(node("svc:payments:api.stripe.com").kind, NodeKind::External);
    let v3 = node("vapp:bookinfo:reviews:v3");
    assert_eq!(v3.health, GraphHealth::Healthy);
    assert_eq!(v3.sidecar, Some(true));
    assert_eq!(v3.parent.as_deref(), Some("box:app:bookinfo:reviews"));
    // The share of productpage's requests going to reviews: 20 of 43 rps.
    let share = edges["vapp:bookinfo:productpage:v1->svc:bookinfo:reviews/http"].share_pct;
    assert!((share - 100.0 * 20.0 / 43.0).abs() < 0.5, "{share}");
    // No sidecar in legacy: batch-reporter has no traffic identity and shows
    // up idle (from the cluster's pods), without a sidecar.
    let reporter = node("vapp:legacy:batch-reporter:v1");
    assert!(reporter.idle);
    assert_eq!(reporter.sidecar, Some(false));
}

fn round_floats(v: &mut Value) {
    match v {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| !n.is_i64() && !n.is_u64()) {
                *v = serde_json::json!((f * 100.0).round() / 100.0);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(round_floats),
        Value::Object(o) => o.values_mut().for_each(round_floats),
        _ => {}
    }
}

#[tokio::test]
async fn golden_versioned_app_graph() {
    let f = fixture().await;
    let (status, body) = get(
        state(&f.prometheus.url(), &f.mesh),
        &format!(
            "/api/graph?namespaces=bookinfo,payments&window=10m&{}",
            at(f)
        ),
        "admin",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut got: Value = serde_json::from_slice(&body).unwrap();
    // The instant is the only input that changes between runs.
    got["query_time"] = Value::from(0);
    round_floats(&mut got);
    let text = serde_json::to_string_pretty(&got).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/testdata/graph_demo_versioned_app.json");
    if std::env::var_os("MESHDECK_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).expect(
        "golden file missing: MESHDECK_UPDATE_GOLDEN=1 cargo test -p meshdeck --test graph",
    );
    assert!(
        want == text,
        "the graph differs from {}; if the change is intended, regenerate with \
         MESHDECK_UPDATE_GOLDEN=1 cargo test -p meshdeck --test graph\n{}",
        path.display(),
        first_difference(&want, &text)
    );
}

fn first_difference(want: &str, got: &str) -> String {
    for (i, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("line {}: want {w:?}, got {g:?}", i + 1);
        }
    }
    format!(
        "lengths differ: {} vs {} lines",
        want.lines().count(),
        got.lines().count()
    )
}

#[tokio::test]
async fn every_graph_type_builds() {
    let f = fixture().await;
    for (t, node) in [
        ("app", "app:bookinfo:reviews"),
        ("workload", "wl:bookinfo:reviews-v2"),
        ("service", "svc:bookinfo:reviews"),
        ("versionedApp", "vapp:bookinfo:reviews:v2"),
    ] {
        let graph = get_graph(
            state(&f.prometheus.url(), &f.mesh),
            &format!("/api/graph?namespaces=bookinfo&type={t}&{}", at(f)),
            "admin",
        )
        .await;
        assert!(graph.nodes.iter().any(|n| n.id == node), "{t}: {node}");
    }
    // Without service nodes, callers link straight to the versions.
    let graph = get_graph(
        state(&f.prometheus.url(), &f.mesh),
        &format!(
            "/api/graph?namespaces=bookinfo&injectServiceNodes=false&{}",
            at(f)
        ),
        "admin",
    )
    .await;
    assert!(
        graph
            .edges
            .iter()
            .any(|e| e.id == "vapp:bookinfo:productpage:v1->vapp:bookinfo:reviews:v1/http")
    );
}

#[tokio::test]
async fn members_see_their_namespaces_and_no_details_beyond() {
    let f = fixture().await;
    let s = || state(&f.prometheus.url(), &f.mesh);
    let graph = get_graph(
        s(),
        &format!("/api/graph?namespaces=bookinfo&{}", at(f)),
        "alice",
    )
    .await;
    // productpage calls payments-api; alice sees the edge, not the far node.
    let far = graph
        .nodes
        .iter()
        .find(|n| n.id == "svc:payments:payments-api")
        .expect("the far node is shown");
    assert!(far.inaccessible);
    assert_eq!(far.sidecar, None);
    assert_eq!(far.health, GraphHealth::NoTraffic);
    // Every payments node (the service and the versions behind it, which
    // bookinfo's calls reach) is inaccessible and without details.
    let payments: Vec<_> = graph
        .nodes
        .iter()
        .filter(|n| n.namespace == "payments")
        .collect();
    assert_eq!(payments.len(), 3);
    for n in payments {
        assert!(
            n.inaccessible && n.sidecar.is_none() && n.app.is_none() && n.version.is_none(),
            "{n:?}"
        );
        // Nor do ids or names tell the versions the fields withhold.
        let versions = ["v1", "v2", "v3"];
        assert!(
            versions
                .iter()
                .all(|v| !n.id.contains(v) && !n.name.contains(v)),
            "{n:?}"
        );
    }
    for e in graph
        .edges
        .iter()
        .filter(|e| e.target.contains(":payments:"))
    {
        assert!(
            !e.target.contains(":v1") && !e.target.contains(":v2"),
            "{}",
            e.id
        );
    }
    let (status, body) = get(
        s(),
        &format!("/api/graph?namespaces=payments&{}", at(f)),
        "alice",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), ErrorCode::Forbidden);
    let (status, _) = get(
        s(),
        &format!(
            "/api/graph/node?namespaces=bookinfo&node=svc:payments:payments-api&{}",
            at(f)
        ),
        "alice",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Her own nodes have details, with links.
    let (status, body) = get(
        s(),
        &format!(
            "/api/graph/node?namespaces=bookinfo&node=vapp:bookinfo:productpage:v1&{}",
            at(f)
        ),
        "alice",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let detail: GraphNodeDetail = serde_json::from_slice(&body).unwrap();
    let outbound: Vec<&str> = detail.outbound.iter().map(|e| e.target.as_str()).collect();
    assert_eq!(
        outbound,
        [
            "svc:bookinfo:details",
            "svc:bookinfo:reviews",
            "svc:payments:payments-api"
        ]
    );
    assert_eq!(detail.inbound.len(), 1);
    assert_eq!(
        detail
            .metrics
            .as_ref()
            .map(app::format::query_of)
            .as_deref(),
        Some("scope=service&namespace=bookinfo&name=productpage")
    );
    // A graph at a given time (a replay): its traces link covers the
    // graph's default window, 10 minutes, ending then.
    let end = (f.end - 120.0) as i64;
    assert_eq!(
        detail.traces.as_ref().map(app::format::query_of),
        Some(format!(
            "service=productpage.bookinfo&start={}&end={end}",
            end - 600
        ))
    );
}

#[tokio::test]
async fn bad_input_is_400() {
    let f = fixture().await;
    for query in [
        "namespaces=bookinfo&type=pods",
        "namespaces=bookinfo&window=7m",
        "namespaces=",
        "namespaces=bookinfo&queryTime=soon",
        "namespaces=bookinfo&colour=red",
    ] {
        let (status, body) = get(
            state(&f.prometheus.url(), &f.mesh),
            &format!("/api/graph?{query}"),
            "admin",
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(error_code(&body), ErrorCode::BadRequest);
    }
    let (status, _) = get(
        state(&f.prometheus.url(), &f.mesh),
        "/api/graph/node?namespaces=bookinfo&node=nope",
        "admin",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn more_namespaces_than_the_detail_limit_get_the_overview() {
    use clap::Parser;
    use meshdeck_server::config::{Cli, Command};
    let f = fixture().await;
    let cli = Cli::try_parse_from(["meshdeck", "demo", "--graph-max-namespaces", "2"]).unwrap();
    let Command::Demo(args) = cli.command else {
        panic!("expected demo");
    };
    let state = state(&f.prometheus.url(), &f.mesh).with_graph_limits(args.http.graph.limits());
    let graph = get_graph(
        state.clone(),
        &format!("/api/graph?{ALL}&window=10m&{}", at(f)),
        "admin",
    )
    .await;
    let overview = graph.overview.as_ref().expect("an overview, not a 400");
    assert!(overview.automatic);
    assert_eq!(overview.detail_limit, 2);
    let kept: std::collections::BTreeSet<&str> =
        graph.nodes.iter().map(|n| n.id.as_str()).collect();
    for ns in ["bookinfo", "payments", "istio-system", "legacy"] {
        let id = format!("ns:{ns}");
        assert!(kept.contains(id.as_str()), "{id} missing: {kept:?}");
    }
    assert!(graph.nodes.iter().all(|n| matches!(
        n.kind,
        NodeKind::Namespace | NodeKind::Unknown | NodeKind::External
    )));
    // Every edge between two ends of the overview carries the scenario's
    // caller -> service rates summed over the namespaces they join.
    let end = |id: &str| -> String {
        if kept.contains(id) {
            id.to_owned()
        } else {
            format!("ns:{}", id.split(':').nth(1).unwrap())
        }
    };
    let mut want: BTreeMap<String, (f64, f64, EdgeProtocol)> = BTreeMap::new();
    for (id, e) in expected_edges(&f.mesh) {
        let (ends, protocol) = id.rsplit_once('/').unwrap();
        let (source, target) = ends.split_once("->").unwrap();
        let (source, target) = (end(source), end(target));
        if source != target {
            let slot = want
                .entry(format!("{source}->{target}/{protocol}"))
                .or_insert((0.0, 0.0, e.protocol));
            slot.0 += e.rate;
            slot.1 += e.tcp_bytes;
        }
    }
    let got: BTreeMap<&str, _> = graph.edges.iter().map(|e| (e.id.as_str(), e)).collect();
    assert_eq!(
        want.keys().map(String::as_str).collect::<Vec<_>>(),
        got.keys().copied().collect::<Vec<_>>()
    );
    for (id, (rate, bytes, protocol)) in &want {
        let e = got[id.as_str()];
        if *protocol == EdgeProtocol::Tcp {
            let b = e.bytes_per_s.unwrap_or(0.0);
            assert!(close(b, *bytes), "{id}: {b} B/s vs {bytes}");
        } else {
            assert!(close(e.rps, *rate), "{id}: {} rps vs {rate}", e.rps);
            assert!(e.p95_ms.is_some_and(|p| p > 0.0), "{id}: no p95");
        }
    }
    // Expanding one shows its nodes, the rest stays aggregated.
    let graph = get_graph(
        state.clone(),
        &format!("/api/graph?{ALL}&expand=bookinfo&{}", at(f)),
        "admin",
    )
    .await;
    assert_eq!(graph.overview.as_ref().unwrap().expanded, ["bookinfo"]);
    assert!(
        graph
            .nodes
            .iter()
            .any(|n| n.id == "vapp:bookinfo:productpage:v1")
    );
    assert!(!graph.nodes.iter().any(|n| n.id == "ns:bookinfo"));
    assert!(graph.nodes.iter().any(|n| n.id == "ns:payments"));
    // Expanding more than the limit is a 400 naming it.
    let (status, body) = get(
        state.clone(),
        &format!("/api/graph?{ALL}&expand=bookinfo,payments,legacy&{}", at(f)),
        "admin",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let error = serde_json::from_slice::<ErrorBody>(&body).unwrap().error;
    assert!(
        error.message.contains("at most 2") && error.message.contains("--graph-max-namespaces"),
        "{}",
        error.message
    );
    // At the limit, the graph is in full, as before.
    let graph = get_graph(
        state,
        &format!("/api/graph?namespaces=bookinfo,payments&{}", at(f)),
        "admin",
    )
    .await;
    assert!(graph.overview.is_none());
}

#[tokio::test]
async fn the_overview_by_project_folds_namespaces_into_their_projects() {
    let f = fixture().await;
    let state = state(&f.prometheus.url(), &f.mesh);
    let graph = get_graph(
        state.clone(),
        &format!("/api/graph?{ALL}&aggregate=project&{}", at(f)),
        "admin",
    )
    .await;
    // The scenario's projects: each namespace's, by its label.
    let project_of = |ns: &str| -> String {
        let n = f.mesh.namespaces.iter().find(|n| n.name == ns).unwrap();
        match n.project {
            Some(p) => f.mesh.projects[p].id.clone(),
            None => ns.to_owned(),
        }
    };
    let overview = graph.overview.as_ref().unwrap();
    assert_eq!(overview.by, app::types::Aggregate::Project);
    let projects: Vec<(&str, &str)> = graph
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Project)
        .map(|n| (n.id.as_str(), n.name.as_str()))
        .collect();
    assert_eq!(
        projects,
        [
            ("project:p-payments", "Payments"),
            ("project:p-shop", "Shop"),
            ("project:p-system", "System")
        ]
    );
    assert!(graph.nodes.iter().all(|n| matches!(
        n.kind,
        NodeKind::Project | NodeKind::Unknown | NodeKind::External
    )));
    let payments = overview
        .namespaces
        .iter()
        .find(|s| s.node == "project:p-payments")
        .unwrap();
    assert_eq!(payments.namespaces, ["legacy", "payments"]);
    // Every edge: the scenario's caller -> service rates summed over the
    // projects they join.
    let kept: std::collections::BTreeSet<&str> =
        graph.nodes.iter().map(|n| n.id.as_str()).collect();
    let end = |id: &str| -> String {
        if kept.contains(id) {
            id.to_owned()
        } else {
            format!("project:{}", project_of(id.split(':').nth(1).unwrap()))
        }
    };
    let mut want: BTreeMap<String, f64> = BTreeMap::new();
    for (id, e) in expected_edges(&f.mesh) {
        let (ends, protocol) = id.rsplit_once('/').unwrap();
        let (source, target) = ends.split_once("->").unwrap();
        let (source, target) = (end(source), end(target));
        if source != target && e.protocol != EdgeProtocol::Tcp {
            *want
                .entry(format!("{source}->{target}/{protocol}"))
                .or_default() += e.rate;
        }
    }
    let got: BTreeMap<&str, f64> = graph
        .edges
        .iter()
        .filter(|e| e.protocol != EdgeProtocol::Tcp)
        .map(|e| (e.id.as_str(), e.rps))
        .collect();
    assert_eq!(
        want.keys().map(String::as_str).collect::<Vec<_>>(),
        got.keys().copied().collect::<Vec<_>>()
    );
    for (id, rate) in &want {
        assert!(
            close(got[id.as_str()], *rate),
            "{id}: {} vs {rate}",
            got[id.as_str()]
        );
    }

    // A member learns no project of a namespace outside theirs: alice (of
    // Shop) sees istio-system's gateway as a project of its own.
    let graph = get_graph(
        state,
        &format!("/api/graph?namespaces=bookinfo&aggregate=project&{}", at(f)),
        "alice",
    )
    .await;
    let names: std::collections::BTreeSet<(&str, &str)> = graph
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Project)
        .map(|n| (n.id.as_str(), n.name.as_str()))
        .collect();
    assert!(names.contains(&("project:p-shop", "Shop")), "{names:?}");
    assert!(
        names.contains(&("project:istio-system", "istio-system")),
        "{names:?}"
    );
    assert!(!names.iter().any(|(_, n)| *n == "System"), "{names:?}");
}

#[tokio::test]
async fn prometheus_down_is_503() {
    let f = fixture().await;
    let port = meshdeck_sim::prometheus::free_port().unwrap();
    let (status, body) = get(
        state(&format!("http://127.0.0.1:{port}"), &f.mesh),
        "/api/graph?namespaces=bookinfo",
        "admin",
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(&body), ErrorCode::UpstreamUnavailable);
}

/// A Prometheus in front of the fixture's that fails every TCP-only query.
async fn failing_tcp_proxy(upstream: String) -> String {
    use axum::routing::post;
    let client = reqwest::Client::new();
    let app = axum::Router::new().route(
        "/api/v1/query",
        post(move |body: axum::body::Bytes| {
            let (client, upstream) = (client.clone(), upstream.clone());
            async move {
                let text = String::from_utf8_lossy(&body);
                if text.contains("istio_tcp_sent_bytes_total")
                    && !text.contains("istio_requests_total")
                {
                    return (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        r#"{"status":"error","errorType":"execution","error":"query timed out"}"#
                            .to_owned(),
                    );
                }
                let answer = client
                    .post(format!("{upstream}/api/v1/query"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                (StatusCode::OK, answer.text().await.unwrap())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_failed_tcp_query_gives_a_partial_graph_with_a_warning() {
    let f = fixture().await;
    let url = failing_tcp_proxy(f.prometheus.url()).await;
    let graph = get_graph(
        state(&url, &f.mesh),
        &format!("/api/graph?namespaces=bookinfo&{}", at(f)),
        "admin",
    )
    .await;
    assert_eq!(graph.warnings.len(), 1, "{:?}", graph.warnings);
    assert!(graph.warnings[0].contains("TCP"), "{:?}", graph.warnings);
    assert!(graph.edges.iter().any(|e| e.protocol == EdgeProtocol::Http));
    assert!(!graph.edges.iter().any(|e| e.protocol == EdgeProtocol::Tcp));
}

/// Focus on reviews v2 in the versioned app graph: it, what calls it and
/// what it calls (one call away), as the scenario's edges say, and
/// nothing else; depth out of range 400, an unknown node 404.
#[tokio::test]
async fn focus_keeps_a_nodes_callers_and_callees() {
    let f = fixture().await;
    let whole = get_graph(
        state(&f.prometheus.url(), &f.mesh),
        &format!(
            "/api/graph?namespaces=bookinfo&type=versionedApp&injectServiceNodes=false&{}",
            at(f)
        ),
        "admin",
    )
    .await;
    let id = "vapp:bookinfo:reviews:v2";
    assert!(
        whole.nodes.iter().any(|n| n.id == id),
        "{:?}",
        whole.nodes.iter().map(|n| &n.id).collect::<Vec<_>>()
    );
    let focused = get_graph(
        state(&f.prometheus.url(), &f.mesh),
        &format!(
            "/api/graph?namespaces=bookinfo&type=versionedApp&injectServiceNodes=false&{}&focus={id}&depth=1",
            at(f)
        ),
        "admin",
    )
    .await;
    // In the scenario reviews v2 is called by productpage and calls ratings.
    let mut nodes: Vec<&str> = focused.nodes.iter().map(|n| n.id.as_str()).collect();
    nodes.sort();
    assert_eq!(
        nodes,
        [
            "vapp:bookinfo:productpage:v1",
            "vapp:bookinfo:ratings:v1",
            id
        ]
    );
    assert_eq!(focused.edges.len(), 2);
    assert!(focused.nodes.len() < whole.nodes.len());
    for (query, code) in [
        (format!("focus={id}&depth=0"), StatusCode::BAD_REQUEST),
        (format!("focus={id}&depth=7"), StatusCode::BAD_REQUEST),
        (
            "focus=vapp:bookinfo:nope:v9".to_owned(),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, _) = get(
            state(&f.prometheus.url(), &f.mesh),
            &format!("/api/graph?namespaces=bookinfo&{query}"),
            "admin",
        )
        .await;
        assert_eq!(status, code, "{query}");
    }
}
