//! Graph benchmark (prints figures; `harness = false`):
//! `cargo bench -p meshdeck --bench graph [-- build|digest]` (`build`: only
//! the pure pipeline, per stage, without the API runs; `digest`: instead of
//! timing, a SHA-256 of the JSON of every graph type, with and without
//! service nodes, for the owner and for a member seeing half the
//! namespaces, so that an optimisation can show it changed no output).
//!
//! For synthetic meshes of about 100, 1,000 and 5,000 graph nodes
//! (versioned app graph with service nodes, every namespace):
//! - server processing: the pure pipeline ([`build`]) on pre-fetched
//!   vectors, plus JSON serialisation, median of several runs; then the
//!   median of each stage ([`Stage`]) and of the serialisation;
//! - total API time (`GET /api/graph` through the router) against a stub
//!   Prometheus serving those vectors, versus the time of the four queries
//!   alone (HTTP and Prometheus JSON decoding, which the stub makes nearly
//!   free of evaluation time: a real Prometheus adds its own evaluation);
//! - the response size.
//!
//! `-- namespaces`: instead, the cost of one more namespace (answer held,
//! API time in detail and as the overview, JSON size) at 10, 40 and 100
//! namespaces ([`per_namespace`]).
//!
//! `-- replays`: instead, the memory meshdeck keeps around 300 graph
//! requests (the demo mesh and a synthetic mesh of 455 services, each in a
//! process of its own): replays at distinct past `queryTime`s, which are
//! not kept, and graphs of "now" for different namespace sets and windows,
//! which are kept within the cache's byte budget; and the cache's weight
//! estimate of one answer against what held answers really take.
//!
//! `MESHDECK_BENCH_WRITE_GRAPH=DIR` also writes each answer to
//! `DIR/graph-<services>.json`, for the browser benchmark
//! (`scripts/bench-graph-browser.sh`); `MESHDECK_BENCH_SERVICES=2700,...`
//! measures other mesh sizes than 45, 455 and 2,280 services.
//!
//! The vectors are what Prometheus would answer: the simulator's counters
//! after ten minutes of constant traffic, filtered by the queries' selectors
//! and summed by their `by` labels, divided by the window.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::types::{AuthMode, RunMode};
use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use meshdeck_server::access::AccessScope;
use meshdeck_server::config::UpstreamArgs;
use meshdeck_server::graph::decorators::PodWorkload;
use meshdeck_server::graph::queries::NODE_LABELS;
use meshdeck_server::graph::traffic::BuildOptions;
use meshdeck_server::graph::{GraphInputs, GraphRequest, Stage, build_observed};
use meshdeck_server::spa::Spa;
use meshdeck_server::upstream::Upstreams;
use meshdeck_server::upstream::prometheus::Sample;
use meshdeck_server::{AppState, router};
use meshdeck_sim::kube::InMemoryCluster;
use meshdeck_sim::metrics::{MetricsOptions, Simulator};
use meshdeck_sim::model::{Mesh, Variation};
use meshdeck_sim::scenario;
use tower::ServiceExt;

const WINDOW_S: f64 = 600.0;
/// Runs of the pure pipeline per mesh (`MESHDECK_BENCH_RUNS` overrides, e.g.
/// for a profiler).
const RUNS: usize = 7;

fn runs() -> usize {
    std::env::var("MESHDECK_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|r| *r > 0)
        .unwrap_or(RUNS)
}

type Labels = BTreeMap<String, String>;

/// `name{k="v",...} value` lines of the text exposition.
fn parse_exposition(text: &str) -> Vec<(String, Labels, f64)> {
    let mut out = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let Some((head, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let (name, labels) = match head.split_once('{') {
            Some((name, rest)) => (name, rest.trim_end_matches('}')),
            None => (head, ""),
        };
        let mut map = Labels::new();
        // Simulator label values contain no quotes or commas.
        for pair in labels.split("\",").filter(|p| !p.is_empty()) {
            if let Some((k, v)) = pair.split_once("=\"") {
                map.insert(k.to_owned(), v.trim_end_matches('"').to_owned());
            }
        }
        out.push((name.to_owned(), map, value));
    }
    out
}

/// Sums `series` of `metric` passing `keep` by `by`, as rates over the window.
fn aggregate(
    series: &[(String, Labels, f64)],
    metric: &str,
    keep: impl Fn(&Labels) -> bool,
    by: &[&str],
) -> Vec<Sample> {
    let mut sums: BTreeMap<Vec<(String, String)>, f64> = BTreeMap::new();
    for (name, labels, value) in series.iter().filter(|(n, l, _)| n == metric && keep(l)) {
        let _ = name;
        let key = by
            .iter()
            .filter_map(|k| labels.get(*k).map(|v| ((*k).to_owned(), v.clone())))
            .collect();
        *sums.entry(key).or_default() += value / WINDOW_S;
    }
    sums.into_iter()
        .map(|(labels, value)| Sample {
            labels: labels.into_iter().collect(),
            value,
        })
        .collect()
}

/// The four vectors for every namespace of the mesh (selection 2 is empty
/// then: no caller is outside the requested namespaces).
fn vectors(mesh: &Mesh) -> GraphInputs {
    let t0 = 1_700_000_000.0;
    let mut sim = Simulator::new(
        Arc::new(mesh.clone()),
        MetricsOptions {
            size_histograms: false,
            extra_labels: Vec::new(),
        },
        t0,
    );
    sim.advance_to(t0 + WINDOW_S);
    let series = parse_exposition(&sim.render_text());
    let node: Vec<&str> = NODE_LABELS.split(',').collect();
    let with = |extra: &[&'static str]| -> Vec<&str> {
        node.iter().copied().chain(extra.iter().copied()).collect()
    };
    let is = |l: &Labels, k: &str, v: &str| l.get(k).map(String::as_str) == Some(v);
    let selected = |l: &Labels| {
        (is(l, "reporter", "destination") && is(l, "source_workload", "unknown"))
            || is(l, "reporter", "source")
    };
    let destination = |l: &Labels| is(l, "reporter", "destination");
    let pods = mesh
        .workloads
        .iter()
        .enumerate()
        .map(|(i, w)| PodWorkload {
            namespace: mesh.namespaces[w.namespace].name.clone(),
            workload: w.name.clone(),
            app: Some(w.app.clone()),
            version: Some(w.version.clone()),
            sidecar: mesh.has_sidecar(i),
        })
        .collect();
    let mut security = aggregate(
        &series,
        "istio_requests_total",
        destination,
        &with(&["request_protocol", "connection_security_policy"]),
    );
    security.extend(aggregate(
        &series,
        "istio_tcp_sent_bytes_total",
        destination,
        &with(&["request_protocol", "connection_security_policy"]),
    ));
    GraphInputs {
        requests: aggregate(
            &series,
            "istio_requests_total",
            selected,
            &with(&["request_protocol", "response_code", "grpc_response_status"]),
        ),
        tcp: aggregate(&series, "istio_tcp_sent_bytes_total", selected, &node),
        buckets: aggregate(
            &series,
            "istio_request_duration_milliseconds_bucket",
            selected,
            &with(&["le"]),
        ),
        security,
        pods: Some(pods),
        queries: Vec::new(),
        warnings: Vec::new(),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A Prometheus stand-in answering each of the four graph queries with its
/// pre-computed vector (matched by the metric and `by` labels it asks for).
async fn stub_prometheus(fetched: &GraphInputs) -> String {
    use axum::routing::post;
    let encode = |samples: &[Sample]| {
        let result: Vec<serde_json::Value> = samples
            .iter()
            .map(|s| serde_json::json!({"metric": s.labels, "value": [1_700_000_600.0, s.value.to_string()]}))
            .collect();
        serde_json::json!({"status": "success", "data": {"resultType": "vector", "result": result}})
            .to_string()
    };
    let answers = Arc::new([
        encode(&fetched.requests),
        encode(&fetched.tcp),
        encode(&fetched.buckets),
        encode(&fetched.security),
    ]);
    let app = axum::Router::new().route(
        "/api/v1/query",
        post(move |body: axum::body::Bytes| {
            let answers = answers.clone();
            async move {
                let q = String::from_utf8_lossy(&body);
                let i = if q.contains("connection_security_policy") {
                    3
                } else if q.contains("duration_milliseconds_bucket") {
                    2
                } else if q.contains("istio_tcp_sent_bytes_total") {
                    1
                } else {
                    0
                };
                answers[i].clone()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// Prints the digests of `digest` mode for one mesh.
fn print_digests(services: usize, mesh: &Mesh, fetched: &GraphInputs) {
    use sha2::{Digest, Sha256};
    let namespaces: Vec<String> = mesh.namespaces.iter().map(|n| n.name.clone()).collect();
    let half: Vec<&String> = namespaces.iter().step_by(2).collect();
    for graph_type in [
        app::types::GraphType::App,
        app::types::GraphType::VersionedApp,
        app::types::GraphType::Workload,
        app::types::GraphType::Service,
    ] {
        for inject_service_nodes in [true, false] {
            let request = GraphRequest {
                namespaces: namespaces.clone(),
                options: BuildOptions {
                    graph_type,
                    inject_service_nodes,
                },
                window_s: WINDOW_S,
                query_time: 1_700_000_600.0,
                overview: None,
            };
            let owner = build_observed(fetched, &request, |_| true, |_| {});
            let member = build_observed(
                fetched,
                &request,
                |ns| half.iter().any(|h| *h == ns),
                |_| {},
            );
            let digest = |g| {
                let json = serde_json::to_vec(g).unwrap();
                let hash = Sha256::digest(&json);
                hash[..8]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            };
            println!(
                "{services:>5} {:<13} inject={:<5} owner {} member {}",
                graph_type.as_str(),
                inject_service_nodes,
                digest(&owner),
                digest(&member)
            );
        }
    }
}

/// `-- namespaces`: what one more namespace costs. For synthetic meshes of
/// 10, 40 and 100 namespaces (25 services each), every namespace asked
/// for: the answer's weight (what the graph cache holds for it, the
/// estimate `-- replays` checks against real memory), `GET /api/graph`'s
/// time against the stub Prometheus in full detail and as the overview,
/// the build alone, the JSON size, and each divided by the namespaces and
/// by the detailed graph's nodes.
fn per_namespace(runtime: &tokio::runtime::Runtime) {
    println!(
        "{:>4} {:>6} {:>6} {:>9} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "ns",
        "nodes",
        "edges",
        "answer",
        "build",
        "ov build",
        "API",
        "ov API",
        "JSON",
        "ov JSON",
        "MiB/ns",
        "ms/ns"
    );
    for services in [250, 1000, 2500] {
        let mut mesh = scenario::synthetic(services, 7);
        mesh.variation = Variation::NONE;
        let fetched = vectors(&mesh);
        let namespaces: Vec<String> = mesh.namespaces.iter().map(|n| n.name.clone()).collect();
        let n = namespaces.len();
        let request = |overview: bool| GraphRequest {
            namespaces: namespaces.clone(),
            options: BuildOptions {
                graph_type: app::types::GraphType::VersionedApp,
                inject_service_nodes: true,
            },
            window_s: WINDOW_S,
            query_time: 1_700_000_600.0,
            overview: overview.then(|| meshdeck_server::graph::Overview {
                expanded: Default::default(),
                by: app::types::Aggregate::Namespace,
                projects: None,
                automatic: false,
                detail_limit: 1000,
            }),
        };
        let build = |overview: bool| {
            let r = request(overview);
            let mut times = Vec::new();
            let mut last = None;
            for _ in 0..runs() {
                let t = Instant::now();
                let g = build_observed(&fetched, &r, |_| true, |_| {});
                let body = serde_json::to_vec(&g).unwrap();
                times.push(t.elapsed());
                last = Some((g.nodes.len(), g.edges.len(), body.len()));
            }
            (median(times), last.unwrap())
        };
        let (full_ms, (nodes, edges, full_json)) = build(false);
        let (over_ms, (_, _, over_json)) = build(true);
        let weight = fetched.weight() as f64 / f64::from(1 << 20);
        let (full_api, over_api) = runtime.block_on(async {
            let url = stub_prometheus(&fetched).await;
            let args = UpstreamArgs {
                prometheus_url: Some(url.parse().unwrap()),
                ..UpstreamArgs::default()
            };
            let mut upstreams = Upstreams::from_args(&args, Duration::from_secs(60)).unwrap();
            upstreams.kube = Some(meshdeck_server::demo::in_memory(
                &InMemoryCluster::from_mesh(&mesh),
                meshdeck_sim::kube::ADMIN_TOKEN,
            ));
            let state = AppState::new(
                RunMode::Demo,
                AuthMode::Demo,
                upstreams,
                Spa::load(std::path::Path::new("/nonexistent")),
            )
            .with_graph_limits(meshdeck_server::graph::GraphLimits {
                max_namespaces: 1000,
                max_overview_namespaces: 1000,
                cache_ttl: Duration::ZERO,
            });
            let mut out = Vec::new();
            for extra in ["", "&aggregate=namespace"] {
                let uri = format!(
                    "/api/graph?namespaces={}&window=10m&queryTime=1700000601{extra}",
                    namespaces.join(",")
                );
                let mut times = Vec::new();
                for _ in 0..3 {
                    let t = Instant::now();
                    let response = router(state.clone())
                        .oneshot(
                            Request::get(&uri)
                                .header("authorization", "Bearer demo-token-admin")
                                .body(Body::empty())
                                .unwrap(),
                        )
                        .await
                        .unwrap();
                    assert!(response.status().is_success(), "{}", response.status());
                    let _ = response.into_body().collect().await.unwrap();
                    times.push(t.elapsed());
                }
                out.push(median(times));
            }
            (out[0], out[1])
        });
        println!(
            "{:>4} {:>6} {:>6} {:>5.1} MiB {:>5.1} ms {:>5.1} ms {:>6.0} ms {:>6.0} ms {:>5} KiB {:>5} KiB {:>9.2} {:>9.1}",
            n,
            nodes,
            edges,
            weight,
            ms(full_ms),
            ms(over_ms),
            ms(full_api),
            ms(over_api),
            full_json / 1024,
            over_json / 1024,
            weight / n as f64,
            ms(full_api) / n as f64,
        );
        println!(
            "{:>4} per detailed node: {:.1} KiB held, {:.2} ms API, {:.3} ms build; overview answer {:.1} % of the detailed JSON",
            "",
            weight * 1024.0 / nodes as f64,
            ms(full_api) / nodes as f64,
            ms(full_ms) / nodes as f64,
            100.0 * over_json as f64 / full_json as f64
        );
    }
}

/// Resident memory of this process in MiB (Linux `VmRSS`).
fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN);
    kib / 1024.0
}

/// Requests of each memory run.
const MEMORY_REQUESTS: usize = 300;
/// Answers held at once to measure what one takes.
const HELD: usize = 10;

/// The memory runs (`replays`): each mesh and run in a process of its own,
/// so that one run's freed but still resident memory does not count in the
/// next.
fn memory(meshes: &[&str]) {
    println!(
        "resident memory of meshdeck (MiB) around {MEMORY_REQUESTS} graph requests; graph cache budget {} MiB (3/4 of --cache-max-bytes)",
        graph_budget() >> 20
    );
    println!(
        "{:>8} {:>6} {:>8} {:<31} {:>7} {:>16} {:>14} {:>6}",
        "mesh",
        "nodes",
        "samples",
        "requests",
        "before",
        "after 100/200/300",
        "cache MiB/n",
        "req/s"
    );
    let exe = std::env::current_exe().unwrap();
    for mesh in meshes {
        for phase in ["replays", "live", "weight"] {
            let status = std::process::Command::new(&exe)
                .args(["memory-child", mesh, phase])
                .status()
                .unwrap();
            assert!(status.success(), "{mesh} {phase}: {status}");
        }
    }
}

/// The graph cache's share of the default `--cache-max-bytes`.
fn graph_budget() -> usize {
    let total = meshdeck_server::config::DEFAULT_CACHE_MAX_BYTES as usize;
    total / 4 * 3
}

/// One memory run (`phase`) on one mesh, against a stub Prometheus
/// answering the mesh's full vectors to every query, with the default cache
/// budget:
/// - `replays`: `GET /api/graph` at [`MEMORY_REQUESTS`] distinct past
///   `queryTime`s (not kept: the figure stays near its start);
/// - `live`: graphs of "now" for as many namespace sets and windows, kept
///   for ten minutes instead of ten seconds, so that only the byte budget
///   bounds them;
/// - `weight`: one answer's estimated weight against the memory [`HELD`]
///   answers, fetched and held at once, really take.
fn memory_child(name: &str, phase: &str, runtime: &tokio::runtime::Runtime) {
    use meshdeck_server::cache::Keep;
    let mut mesh = match name {
        "demo" => scenario::demo(),
        n => scenario::synthetic(n.parse().unwrap(), 7),
    };
    mesh.variation = Variation::NONE;
    let fetched = vectors(&mesh);
    let samples =
        fetched.requests.len() + fetched.tcp.len() + fetched.buckets.len() + fetched.security.len();
    let namespaces: Vec<String> = mesh.namespaces.iter().map(|n| n.name.clone()).collect();
    runtime.block_on(async {
        let url = stub_prometheus(&fetched).await;
        drop(fetched);
        let args = UpstreamArgs {
            prometheus_url: Some(url.parse().unwrap()),
            ..UpstreamArgs::default()
        };
        let mut upstreams = Upstreams::from_args(&args, Duration::from_secs(30)).unwrap();
        upstreams.kube = Some(meshdeck_server::demo::in_memory(
            &InMemoryCluster::from_mesh(&mesh),
            meshdeck_sim::kube::ADMIN_TOKEN,
        ));
        let base = AppState::new(
            RunMode::Demo,
            AuthMode::Demo,
            upstreams,
            Spa::load(std::path::Path::new("/nonexistent")),
        );
        let limits = |ttl| meshdeck_server::graph::GraphLimits {
            max_namespaces: 1000,
            max_overview_namespaces: 1000,
            cache_ttl: ttl,
        };
        let get = |state: &AppState, query: String| {
            let uri = format!("/api/graph?{query}");
            let state = state.clone();
            async move {
                let response = router(state)
                    .oneshot(
                        Request::get(&uri)
                            .header("authorization", "Bearer demo-token-admin")
                            .body(Body::empty())
                            .unwrap(),
                    )
                    .await
                    .unwrap();
                assert!(response.status().is_success(), "{}", response.status());
                response.into_body().collect().await.unwrap().to_bytes()
            }
        };
        let all = namespaces.join(",");
        let t0 = (meshdeck_sim::live::now_s() / 10.0).floor() * 10.0 - 3600.0;
        // The first answer, so that what every request allocates once (the
        // cluster's caches, connection pools) is in the starting figures.
        let state = base.clone().with_graph_limits(limits(Duration::from_secs(10)));
        let body = get(&state, format!("namespaces={all}&queryTime={t0}")).await;
        let nodes = serde_json::from_slice::<app::types::Graph>(&body)
            .unwrap()
            .nodes
            .len();
        drop(body);
        // After every third of the requests: a plateau, not a slope.
        let mut after = Vec::new();
        let mut checkpoint = |i: usize| {
            if i % (MEMORY_REQUESTS / 3) == 0 {
                after.push(format!("{:.0}", resident_mib()));
            }
        };
        let row = |what: &str, before: f64, after: &[String], state: &AppState, rate: f64| {
            let cache = state.graph_cache().stats();
            println!(
                "{name:>8} {nodes:>6} {samples:>8} {what:<31} {before:>7.0} {:>16} {:>9.1}/{:<4} {rate:>6.1}",
                after.join(" / "),
                cache.bytes as f64 / 1048576.0,
                cache.entries
            );
        };

        match phase {
            "replays" => {
                let before = resident_mib();
                let started = Instant::now();
                for i in 1..=MEMORY_REQUESTS {
                    let t = t0 - 10.0 * i as f64;
                    get(&state, format!("namespaces={all}&queryTime={t}")).await;
                    checkpoint(i);
                }
                let rate = MEMORY_REQUESTS as f64 / started.elapsed().as_secs_f64();
                row("replays, distinct queryTime", before, &after, &state, rate);
            }
            "live" => {
                let state = base.with_graph_limits(limits(Duration::from_secs(600)));
                let windows = app::types::GRAPH_WINDOWS;
                let subsets = (1u64 << namespaces.len().min(63)) - 1;
                let before = resident_mib();
                let started = Instant::now();
                for i in 0..MEMORY_REQUESTS {
                    // A window and a non-empty set of namespaces (a bit mask).
                    let window = windows[i % windows.len()];
                    let mask = (i / windows.len()) as u64 % subsets + 1;
                    let chosen: Vec<&str> = namespaces
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| mask >> (j % 63) & 1 == 1)
                        .map(|(_, n)| n.as_str())
                        .collect();
                    let query = format!("namespaces={}&window={window}", chosen.join(","));
                    get(&state, query).await;
                    checkpoint(i + 1);
                }
                let rate = MEMORY_REQUESTS as f64 / started.elapsed().as_secs_f64();
                row("live, namespace sets x windows", before, &after, &state, rate);
            }
            _ => {
                let request = GraphRequest {
                    namespaces: namespaces.clone(),
                    options: BuildOptions {
                        graph_type: app::types::GraphType::VersionedApp,
                        inject_service_nodes: true,
                    },
                    window_s: WINDOW_S,
                    query_time: t0,
                    overview: None,
                };
                let before = resident_mib();
                let mut held = Vec::new();
                for _ in 0..HELD {
                    let fetched = meshdeck_server::graph::fetch(&base, &request, Keep::Discard);
                    held.push(fetched.await.unwrap());
                }
                let measured = (resident_mib() - before) / HELD as f64;
                let estimate = held[0].weight() as f64 / 1048576.0;
                println!(
                    "{name:>8}: one answer weighs {estimate:.2} MiB by the estimate; {HELD} held at once took {measured:.2} MiB each"
                );
            }
        }
    });
}

fn main() {
    let build_only = std::env::args().any(|a| a == "build");
    let digest_only = std::env::args().any(|a| a == "digest");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "memory-child") {
        memory_child(&args[i + 1], &args[i + 2], &runtime);
        return;
    }
    if args.iter().any(|a| a == "replays") {
        memory(&["demo", "455"]);
        return;
    }
    if args.iter().any(|a| a == "namespaces") {
        per_namespace(&runtime);
        return;
    }
    let mut stage_rows = Vec::new();
    println!(
        "{:>8} {:>7} {:>7} {:>10} {:>10} {:>11} {:>11} {:>7} {:>10}",
        "services",
        "nodes",
        "edges",
        "build ms",
        "json ms",
        "queries ms",
        "API ms",
        "ratio",
        "JSON KiB"
    );
    // MESHDECK_BENCH_SERVICES=2700,... measures (and writes) other sizes.
    let sizes: Vec<usize> = std::env::var("MESHDECK_BENCH_SERVICES")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| vec![45, 455, 2280]);
    for services in sizes {
        let mut mesh = scenario::synthetic(services, 7);
        mesh.variation = Variation::NONE;
        let fetched = vectors(&mesh);
        if digest_only {
            print_digests(services, &mesh, &fetched);
            continue;
        }
        let namespaces: Vec<String> = mesh.namespaces.iter().map(|n| n.name.clone()).collect();
        let request = GraphRequest {
            namespaces: namespaces.clone(),
            options: BuildOptions {
                graph_type: app::types::GraphType::VersionedApp,
                inject_service_nodes: true,
            },
            window_s: WINDOW_S,
            query_time: 1_700_000_600.0,
            overview: None,
        };
        let scope = AccessScope::owner("admin");
        let mut build_times = Vec::new();
        let mut json_times = Vec::new();
        // Per stage, then the serialisation: one list of runs each.
        let mut stage_times = vec![Vec::new(); Stage::ALL.len() + 1];
        let mut graph = None;
        for _ in 0..runs() {
            let t = Instant::now();
            let mut last = t;
            let mut stage = 0;
            let g = build_observed(
                &fetched,
                &request,
                |ns| scope.can_see(ns),
                |_| {
                    let now = Instant::now();
                    stage_times[stage].push(now - last);
                    (last, stage) = (now, stage + 1);
                },
            );
            build_times.push(t.elapsed());
            let t = Instant::now();
            let body = serde_json::to_vec(&g).unwrap();
            json_times.push(t.elapsed());
            stage_times[Stage::ALL.len()].push(t.elapsed());
            graph = Some((g, body.len()));
        }
        let (graph, size) = graph.unwrap();
        // The answer itself, for the browser benchmark
        // (end2end/bench/graph.bench.ts with MESHDECK_BENCH_GRAPH_JSON).
        if let Ok(dir) = std::env::var("MESHDECK_BENCH_WRITE_GRAPH") {
            let path = std::path::Path::new(&dir).join(format!("graph-{services}.json"));
            std::fs::write(&path, serde_json::to_vec(&graph).unwrap()).unwrap();
            println!("wrote {}", path.display());
        }
        stage_rows.push((
            services,
            graph.nodes.len(),
            format!(
                "{}/{}/{}/{}",
                fetched.requests.len(),
                fetched.tcp.len(),
                fetched.buckets.len(),
                fetched.security.len()
            ),
            stage_times.into_iter().map(median).collect::<Vec<_>>(),
        ));
        if build_only {
            println!(
                "{:>8} {:>7} {:>7} {:>10.1} {:>10.1} {:>11} {:>11} {:>7} {:>10}",
                services,
                graph.nodes.len(),
                graph.edges.len(),
                ms(median(build_times)),
                ms(median(json_times)),
                "-",
                "-",
                "-",
                size / 1024
            );
            continue;
        }

        // Through the HTTP API against the stub.
        let (api, queries) = runtime.block_on(async {
            let url = stub_prometheus(&fetched).await;
            let args = UpstreamArgs {
                prometheus_url: Some(url.parse().unwrap()),
                ..UpstreamArgs::default()
            };
            let mut upstreams = Upstreams::from_args(&args, Duration::from_secs(30)).unwrap();
            let prometheus = upstreams.prometheus.clone().unwrap();
            let mut query_times = Vec::new();
            for _ in 0..3 {
                let t = Instant::now();
                let plan = meshdeck_server::graph::plan(&request);
                futures::future::try_join_all(
                    plan.iter().map(|q| prometheus.query(q, request.query_time)),
                )
                .await
                .unwrap();
                query_times.push(t.elapsed());
            }
            upstreams.kube = Some(meshdeck_server::demo::in_memory(
                &InMemoryCluster::from_mesh(&mesh),
                meshdeck_sim::kube::ADMIN_TOKEN,
            ));
            let state = AppState::new(
                RunMode::Demo,
                AuthMode::Demo,
                upstreams,
                Spa::load(std::path::Path::new("/nonexistent")),
            )
            .with_graph_limits(meshdeck_server::graph::GraphLimits {
                max_namespaces: 1000,
                max_overview_namespaces: 1000,
                cache_ttl: Duration::ZERO,
            });
            let uri = format!(
                "/api/graph?namespaces={}&window=10m&queryTime={}",
                namespaces.join(","),
                request.query_time + 1.0
            );
            let mut api_times = Vec::new();
            for _ in 0..3 {
                let t = Instant::now();
                let response = router(state.clone())
                    .oneshot(
                        Request::get(&uri)
                            .header("authorization", "Bearer demo-token-admin")
                            .body(Body::empty())
                            .unwrap(),
                    )
                    .await
                    .unwrap();
                assert!(response.status().is_success(), "{}", response.status());
                let _ = response.into_body().collect().await.unwrap();
                api_times.push(t.elapsed());
            }
            (median(api_times), median(query_times))
        });
        println!(
            "{:>8} {:>7} {:>7} {:>10.1} {:>10.1} {:>11.1} {:>11.1} {:>7.2} {:>10}",
            services,
            graph.nodes.len(),
            graph.edges.len(),
            ms(median(build_times)),
            ms(median(json_times)),
            ms(queries),
            ms(api),
            ms(api) / ms(queries).max(1e-9),
            size / 1024
        );
    }
    if digest_only {
        return;
    }
    println!(
        "\nmedian ms per stage ({} runs; samples of requests/tcp/buckets/security)",
        runs()
    );
    print!("{:>8} {:>7} {:>24}", "services", "nodes", "samples");
    for stage in Stage::ALL {
        print!(" {:>8}", stage.name());
    }
    println!(" {:>8}", "json");
    for (services, nodes, samples, times) in stage_rows {
        print!("{services:>8} {nodes:>7} {samples:>24}");
        for t in times {
            print!(" {:>8.2}", ms(t));
        }
        println!();
    }
}
