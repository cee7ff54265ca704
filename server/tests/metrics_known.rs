//! `/api/metrics` against a real Prometheus whose history this file writes
//! itself (its own OpenMetrics writer, not the simulator's): a handful of
//! calls between services in three namespaces of two projects, each with a
//! constant request rate, fixed 4xx/5xx shares and a fixed share of requests
//! per duration bucket. Counters grow linearly (float values), every query
//! window lies inside the history, so Prometheus' `rate` returns the written
//! rates exactly; the expected charts and top lists are computed here from
//! the call table with Istio's reporting rules and `histogram_quantile`'s
//! interpolation, never from meshdeck's answers.
//!
//! Tolerance: 1e-6 relative plus 1e-9 absolute (floating point only).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use app::types::{ChartKind, MetricsReport, TopKind};
use http::StatusCode;
use meshdeck_server::AppState;
use meshdeck_sim::model::{
    DEFAULT_CLUSTER, DEFAULT_TRUST_DOMAIN, DemoRole, DemoUser, Mesh, Namespace, Project, Variation,
};
use meshdeck_sim::prometheus::PrometheusServer;
use tokio::sync::OnceCell;

/// Upper bounds of the finite duration buckets (ms); a `+Inf` bucket follows.
const LE: [f64; 7] = [5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0];
/// Projects and their namespaces, as the in-memory cluster labels them.
const PROJECTS: [(&str, &[&str]); 2] = [("p-shop", &["shop", "catalog"]), ("p-pay", &["pay"])];
/// Who lives outside the mesh (Istio's `unknown`).
const OUT: (&str, &str, &str) = ("unknown", "unknown", "unknown");

/// One kind of call, constant over the whole history.
#[derive(Clone, Copy, Debug)]
struct Call {
    /// Caller: namespace, workload, canonical service (`OUT` outside the mesh).
    src: (&'static str, &'static str, &'static str),
    /// Callee: namespace, service, workload (`"unknown"` namespace and
    /// workload for a host outside the mesh).
    dst: (&'static str, &'static str, &'static str),
    /// Requests per second.
    rate: f64,
    /// Share answered 4xx (code 404).
    client: f64,
    /// Share answered 5xx (code 503).
    server: f64,
    /// Share of requests per duration bucket (non-cumulative; the last is `+Inf`).
    buckets: [f64; 8],
}

impl Call {
    /// A sidecar on the calling side reports it (`reporter="source"`).
    fn source_reports(&self) -> bool {
        self.src.0 != "unknown"
    }
    /// A sidecar on the called side reports it (`reporter="destination"`).
    fn destination_reports(&self) -> bool {
        self.dst.0 != "unknown"
    }
}

const fn call(
    src: (&'static str, &'static str, &'static str),
    dst: (&'static str, &'static str, &'static str),
    rate: f64,
    client: f64,
    server: f64,
    buckets: [f64; 8],
) -> Call {
    Call {
        src,
        dst,
        rate,
        client,
        server,
        buckets,
    }
}

const WEB: (&str, &str, &str) = ("shop", "web-v1", "web");
const CART1: (&str, &str, &str) = ("shop", "cart-v1", "cart");
const CART2: (&str, &str, &str) = ("shop", "cart-v2", "cart");
const PAYMENTS: (&str, &str, &str) = ("pay", "payments-v1", "payments");
const PRODUCTS: (&str, &str, &str) = ("catalog", "products-v1", "products");

/// The traffic. Twelve services receive destination-reported traffic, so
/// the volume and p99 lists must drop two.
const CALLS: [Call; 16] = [
    // Clients outside the mesh call the shop's front end (destination only).
    call(
        OUT,
        ("shop", "web", "web-v1"),
        10.0,
        0.10,
        0.02,
        [0.2, 0.3, 0.3, 0.1, 0.05, 0.05, 0.0, 0.0],
    ),
    // web calls cart, split over two versions.
    call(
        WEB,
        ("shop", "cart", "cart-v1"),
        4.0,
        0.0,
        0.05,
        [0.1, 0.4, 0.3, 0.2, 0.0, 0.0, 0.0, 0.0],
    ),
    call(
        WEB,
        ("shop", "cart", "cart-v2"),
        2.0,
        0.05,
        0.20,
        [0.0, 0.1, 0.2, 0.3, 0.3, 0.1, 0.0, 0.0],
    ),
    // web calls the catalog (another namespace of the same project).
    call(
        WEB,
        ("catalog", "products", "products-v1"),
        8.0,
        0.25,
        0.0,
        [0.5, 0.3, 0.15, 0.04, 0.01, 0.0, 0.0, 0.0],
    ),
    // cart calls payments (another project).
    call(
        CART1,
        ("pay", "payments", "payments-v1"),
        3.0,
        0.0,
        0.10,
        [0.0, 0.0, 0.2, 0.4, 0.2, 0.1, 0.1, 0.0],
    ),
    call(
        CART2,
        ("pay", "payments", "payments-v1"),
        1.0,
        0.0,
        0.0,
        [0.0, 0.0, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0],
    ),
    // payments calls the ledger, and a host outside the mesh (source only).
    call(
        PAYMENTS,
        ("pay", "ledger", "ledger-v1"),
        5.0,
        0.04,
        0.0,
        [0.6, 0.3, 0.08, 0.02, 0.0, 0.0, 0.0, 0.0],
    ),
    call(
        PAYMENTS,
        ("unknown", "api.stripe.com", "unknown"),
        2.0,
        0.0,
        0.05,
        [0.0, 0.0, 0.0, 0.1, 0.5, 0.3, 0.1, 0.0],
    ),
    // products reads the ledger's prices too (cross-project).
    call(
        PRODUCTS,
        ("pay", "ledger", "ledger-v1"),
        1.5,
        0.0,
        0.02,
        [0.2, 0.2, 0.2, 0.2, 0.2, 0.0, 0.0, 0.0],
    ),
    // Batch jobs in pay, called from outside.
    call(
        OUT,
        ("pay", "job-a", "job-a-v1"),
        0.5,
        0.0,
        0.0,
        [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ),
    call(
        OUT,
        ("pay", "job-b", "job-b-v1"),
        0.7,
        0.3,
        0.0,
        [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ),
    call(
        OUT,
        ("pay", "job-c", "job-c-v1"),
        0.9,
        0.0,
        0.5,
        [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ),
    call(
        OUT,
        ("pay", "job-d", "job-d-v1"),
        1.1,
        0.0,
        0.0,
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0],
    ),
    call(
        OUT,
        ("pay", "job-e", "job-e-v1"),
        1.3,
        0.0,
        0.0,
        [0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.0, 0.0],
    ),
    call(
        OUT,
        ("pay", "job-f", "job-f-v1"),
        1.7,
        0.0,
        0.0,
        [0.0, 0.0, 0.0, 0.7, 0.3, 0.0, 0.0, 0.0],
    ),
    call(
        OUT,
        ("catalog", "search", "search-v1"),
        2.5,
        0.0,
        0.0,
        [0.0, 0.9, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0],
    ),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reporter {
    Source,
    Destination,
}

impl Reporter {
    fn label(self) -> &'static str {
        match self {
            Reporter::Source => "source",
            Reporter::Destination => "destination",
        }
    }
}

/// Every (reporter, call) pair that has series in Prometheus.
fn reported() -> Vec<(Reporter, Call)> {
    let mut out = Vec::new();
    for c in CALLS {
        if c.source_reports() {
            out.push((Reporter::Source, c));
        }
        if c.destination_reports() {
            out.push((Reporter::Destination, c));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The OpenMetrics writer.

fn labels(reporter: Reporter, c: &Call) -> String {
    let dst_fqdn = if c.dst.0 == "unknown" {
        c.dst.1.to_string()
    } else {
        format!("{}.{}.svc.cluster.local", c.dst.1, c.dst.0)
    };
    let dst_canonical = c.dst.2.rsplit_once("-v").map_or(c.dst.2, |(app, _)| app);
    format!(
        "reporter=\"{}\",source_workload=\"{}\",source_workload_namespace=\"{}\",source_canonical_service=\"{}\",\
destination_service=\"{dst_fqdn}\",destination_service_name=\"{}\",destination_service_namespace=\"{}\",\
destination_workload=\"{}\",destination_workload_namespace=\"{}\",destination_canonical_service=\"{dst_canonical}\",\
request_protocol=\"http\",connection_security_policy=\"unknown\"",
        reporter.label(),
        c.src.1,
        c.src.0,
        c.src.2,
        c.dst.1,
        c.dst.0,
        c.dst.2,
        c.dst.0,
    )
}

/// OpenMetrics text of `CALLS` from `start` to `end` every 15 s; counters
/// are zero at `start` and grow by their rate times the elapsed seconds.
fn history(start: f64, end: f64) -> String {
    let mut out = String::new();
    let series = reported();
    let times: Vec<f64> = (0..)
        .map(|i| start + 15.0 * f64::from(i))
        .take_while(|t| *t <= end)
        .collect();
    out.push_str("# HELP istio_requests Requests.\n# TYPE istio_requests counter\n");
    for t in &times {
        let elapsed = t - start;
        for (reporter, c) in &series {
            let l = labels(*reporter, c);
            for (code, share) in [
                ("200", 1.0 - c.client - c.server),
                ("404", c.client),
                ("503", c.server),
            ] {
                if share > 0.0 {
                    let v = c.rate * share * elapsed;
                    writeln!(
                        out,
                        "istio_requests_total{{{l},response_code=\"{code}\"}} {v} {t}"
                    )
                    .unwrap();
                }
            }
        }
    }
    out.push_str(
        "# HELP istio_request_duration_milliseconds Durations.\n# TYPE istio_request_duration_milliseconds histogram\n",
    );
    for t in &times {
        let elapsed = t - start;
        for (reporter, c) in &series {
            let l = labels(*reporter, c);
            let mut cumulative = 0.0;
            let mut sum = 0.0;
            for (i, share) in c.buckets.iter().enumerate() {
                cumulative += share;
                let le = LE.get(i).map_or("+Inf".to_string(), |b| format!("{b:.1}"));
                let lower = if i == 0 { 0.0 } else { LE[i - 1] };
                sum += share * (lower + LE.get(i).copied().unwrap_or(lower)) / 2.0;
                let v = c.rate * cumulative * elapsed;
                writeln!(
                    out,
                    "istio_request_duration_milliseconds_bucket{{{l},le=\"{le}\"}} {v} {t}"
                )
                .unwrap();
            }
            let count = c.rate * elapsed;
            writeln!(
                out,
                "istio_request_duration_milliseconds_count{{{l}}} {count} {t}"
            )
            .unwrap();
            writeln!(
                out,
                "istio_request_duration_milliseconds_sum{{{l}}} {} {t}",
                count * sum
            )
            .unwrap();
        }
    }
    out.push_str("# EOF\n");
    out
}

// ---------------------------------------------------------------------------
// Fixture: Prometheus with 30 minutes of that history, and a cluster that
// knows the namespaces, projects and users.

struct Known {
    prometheus: PrometheusServer,
    mesh: Mesh,
    /// End of the history (a multiple of 15).
    end: f64,
}

/// Only what the in-memory cluster needs for identities and projects:
/// projects, namespaces, an owner (admin) and a member of p-shop (alice).
fn cluster_mesh() -> Mesh {
    let projects: Vec<Project> = PROJECTS
        .iter()
        .map(|(id, _)| Project {
            id: id.to_string(),
            display_name: id.to_string(),
        })
        .collect();
    let namespaces = PROJECTS
        .iter()
        .enumerate()
        .flat_map(|(p, (_, names))| {
            names.iter().map(move |n| Namespace {
                name: n.to_string(),
                project: Some(p),
                sidecars: true,
                mtls: true,
            })
        })
        .collect();
    let user = |name: &str, role| DemoUser {
        name: name.into(),
        groups: vec![],
        token: format!("demo-token-{name}"),
        role,
    };
    Mesh {
        name: "known".into(),
        seed: 1,
        cluster: DEFAULT_CLUSTER.into(),
        trust_domain: DEFAULT_TRUST_DOMAIN.into(),
        projects,
        namespaces,
        services: vec![],
        workloads: vec![],
        edges: vec![],
        faults: vec![],
        variation: Variation::NONE,
        nodes: vec![],
        users: vec![
            user("admin", DemoRole::Owner),
            user("alice", DemoRole::Member(vec![0])),
        ],
    }
}

async fn fixture() -> &'static Known {
    static FIXTURE: OnceCell<Known> = OnceCell::const_new();
    FIXTURE
        .get_or_init(|| async {
            let end = common::history_end();
            let prometheus =
                common::prometheus_with_history("metrics-known", &history(end - 1800.0, end)).await;
            Known {
                prometheus,
                mesh: cluster_mesh(),
                end,
            }
        })
        .await
}

fn state(k: &Known) -> AppState {
    common::state(&k.prometheus.url(), &k.mesh)
}

/// Ten minutes ending two minutes before the history's end, one point a
/// minute: every 1-minute chart window and the 10-minute top-list window
/// lie inside the history.
fn window(k: &Known) -> String {
    format!("start={}&end={}&step=60", k.end - 720.0, k.end - 120.0)
}

async fn get_report(state: &AppState, user: &str, uri: &str) -> MetricsReport {
    common::get_ok(state, user, uri).await
}

// ---------------------------------------------------------------------------
// Expected values, from the call table.

/// Prometheus' `histogram_quantile`: the first bucket whose cumulative count
/// reaches `q` of the total, linear interpolation inside it (the first
/// bucket starts at 0; a rank in `+Inf` gives the highest finite bound).
fn histogram_quantile(q: f64, per_bucket: &[f64; 8]) -> Option<f64> {
    let total: f64 = per_bucket.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let mut below = 0.0;
    for i in 0..LE.len() {
        let here = below + per_bucket[i];
        if here >= rank {
            let lower = if i == 0 { 0.0 } else { LE[i - 1] };
            return Some(lower + (LE[i] - lower) * (rank - below) / per_bucket[i]);
        }
        below = here;
    }
    Some(LE[LE.len() - 1])
}

/// Requests per second per bucket of the selected calls.
fn bucket_rates(selected: &[(Reporter, Call)]) -> [f64; 8] {
    let mut rates = [0.0; 8];
    for (_, c) in selected {
        for (r, share) in rates.iter_mut().zip(c.buckets) {
            *r += c.rate * share;
        }
    }
    rates
}

/// The five charts' values (constant over time); `None` where no series
/// matches, so Prometheus has no value.
#[derive(Debug)]
struct Charts {
    success: Option<f64>,
    volume: Option<f64>,
    client: Option<f64>,
    server: Option<f64>,
    quantiles: [Option<f64>; 3],
}

fn sum_if(selected: &[(Reporter, Call)], share: impl Fn(&Call) -> f64) -> Option<f64> {
    let with_series: Vec<&Call> = selected
        .iter()
        .map(|(_, c)| c)
        .filter(|c| share(c) > 0.0)
        .collect();
    (!with_series.is_empty()).then(|| with_series.iter().map(|c| c.rate * share(c)).sum())
}

fn charts(selected: &[(Reporter, Call)]) -> Charts {
    let volume = sum_if(selected, |_| 1.0);
    let server = sum_if(selected, |c| c.server);
    let not_5xx = sum_if(selected, |c| 1.0 - c.server);
    let success = match (not_5xx, volume) {
        (Some(ok), Some(all)) => Some(ok / all),
        _ => None,
    };
    let buckets = bucket_rates(selected);
    Charts {
        success,
        volume,
        client: sum_if(selected, |c| c.client),
        server,
        quantiles: [0.5, 0.9, 0.99].map(|q| histogram_quantile(q, &buckets)),
    }
}

type Entry = ((String, String), f64);
/// A value computed from the calls into one service.
type Measure<'a> = &'a dyn Fn(&[(Reporter, Call)]) -> Option<f64>;

/// The four top-10 lists: the selected calls grouped by destination
/// service, ranked, highest first; error lists keep services above zero.
fn top_lists(selected: &[(Reporter, Call)]) -> BTreeMap<&'static str, Vec<Entry>> {
    let mut groups: BTreeMap<(String, String), Vec<(Reporter, Call)>> = BTreeMap::new();
    for (r, c) in selected {
        groups
            .entry((c.dst.0.to_string(), c.dst.1.to_string()))
            .or_default()
            .push((*r, *c));
    }
    let rank = |value: Measure| {
        let mut list: Vec<Entry> = groups
            .iter()
            .filter_map(|(k, v)| value(v).map(|x| (k.clone(), x)))
            .collect();
        list.sort_by(|a, b| b.1.total_cmp(&a.1));
        // The data must not have ties, or the order would be arbitrary.
        for pair in list.windows(2).take(10) {
            assert!(
                pair[0].1 - pair[1].1 > 1e-6,
                "test data: tie in a top list {pair:?}"
            );
        }
        list.truncate(10);
        list
    };
    let positive = |share: fn(&Call) -> f64| {
        move |v: &[(Reporter, Call)]| sum_if(v, share).filter(|x| *x > 0.0)
    };
    BTreeMap::from([
        ("volume", rank(&|v| sum_if(v, |_| 1.0))),
        ("4xx", rank(&positive(|c| c.client))),
        ("5xx", rank(&positive(|c| c.server))),
        ("p99", rank(&|v| histogram_quantile(0.99, &bucket_rates(v)))),
    ])
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-9 + 1e-6 * want.abs()
}

/// Every point of every chart, and every top list, as expected.
fn check(report: &MetricsReport, selected: &[(Reporter, Call)], what: &str) {
    assert!(!selected.is_empty(), "{what}: the test selects no traffic");
    let want = charts(selected);
    let series = |kind: ChartKind, i: usize| {
        let chart = report.charts.iter().find(|c| c.kind == kind).unwrap();
        chart.series[i].points.clone()
    };
    let cases = [
        (ChartKind::SuccessRate, 0, want.success, "success rate"),
        (ChartKind::RequestVolume, 0, want.volume, "volume"),
        (ChartKind::ClientErrors, 0, want.client, "4xx"),
        (ChartKind::ServerErrors, 0, want.server, "5xx"),
        (ChartKind::RequestDuration, 0, want.quantiles[0], "p50"),
        (ChartKind::RequestDuration, 1, want.quantiles[1], "p90"),
        (ChartKind::RequestDuration, 2, want.quantiles[2], "p99"),
    ];
    for (kind, i, want, name) in cases {
        let points = series(kind, i);
        assert_eq!(points.len(), 11, "{what} {name}: {points:?}");
        for (t, got) in points {
            match (got, want) {
                (Some(g), Some(w)) => assert!(close(g, w), "{what} {name} at {t}: {g} vs {w}"),
                (None, None) => {}
                _ => panic!("{what} {name} at {t}: {got:?} vs {want:?}"),
            }
        }
    }
    let want_top = top_lists(selected);
    for (kind, name) in [
        (TopKind::Volume, "volume"),
        (TopKind::ClientErrors, "4xx"),
        (TopKind::ServerErrors, "5xx"),
        (TopKind::P99, "p99"),
    ] {
        let got = &report.top.iter().find(|t| t.kind == kind).unwrap().entries;
        let want = &want_top[name];
        let got_names: Vec<(&str, &str)> = got
            .iter()
            .map(|e| (e.namespace.as_str(), e.service.as_str()))
            .collect();
        let want_names: Vec<(&str, &str)> = want
            .iter()
            .map(|((ns, svc), _)| (ns.as_str(), svc.as_str()))
            .collect();
        assert_eq!(got_names, want_names, "{what}: top {name}");
        for (g, (_, w)) in got.iter().zip(want) {
            assert!(
                close(g.value, *w),
                "{what}: top {name} {}/{}: {} vs {w}",
                g.namespace,
                g.service,
                g.value
            );
        }
    }
}

fn select(keep: impl Fn(Reporter, &Call) -> bool) -> Vec<(Reporter, Call)> {
    reported()
        .into_iter()
        .filter(|(r, c)| keep(*r, c))
        .collect()
}

fn inbound_to_namespaces(namespaces: &[&str]) -> Vec<(Reporter, Call)> {
    select(|r, c| r == Reporter::Destination && namespaces.contains(&c.dst.0))
}

// ---------------------------------------------------------------------------
// The tests.

#[tokio::test]
async fn mesh_and_project_charts_and_top_lists_match_the_written_rates() {
    let k = fixture().await;
    let state = state(k);
    let report = get_report(&state, "admin", &format!("/api/metrics?{}", window(k))).await;
    let mesh = select(|r, _| r == Reporter::Destination);
    // Hand check of the table itself: 43.2 requests/s reach the mesh's
    // sidecars (the call to api.stripe.com is reported by its caller only).
    assert!(close(charts(&mesh).volume.unwrap(), 43.2));
    check(&report, &mesh, "mesh");
    assert_eq!(
        top_lists(&mesh)["volume"].len(),
        10,
        "twelve services, ten listed"
    );
    for (project, namespaces) in PROJECTS {
        let report = get_report(
            &state,
            "admin",
            &format!("/api/metrics?scope=project&project={project}&{}", window(k)),
        )
        .await;
        check(&report, &inbound_to_namespaces(namespaces), project);
    }
}

#[tokio::test]
async fn namespace_charts_match_the_written_rates() {
    let k = fixture().await;
    let state = state(k);
    for ns in ["shop", "catalog", "pay"] {
        let report = get_report(
            &state,
            "admin",
            &format!("/api/metrics?scope=namespace&namespace={ns}&{}", window(k)),
        )
        .await;
        check(&report, &inbound_to_namespaces(&[ns]), ns);
    }
}

#[tokio::test]
async fn service_charts_match_the_written_rates_in_both_directions() {
    let k = fixture().await;
    let state = state(k);
    for (ns, name) in [("shop", "cart"), ("shop", "web"), ("pay", "payments")] {
        // Inbound: what the service's sidecars report receiving.
        let inbound = select(|r, c| r == Reporter::Destination && c.dst.0 == ns && c.dst.1 == name);
        // Outbound: what its workloads' sidecars report sending.
        let outbound = select(|r, c| r == Reporter::Source && c.src.0 == ns && c.src.2 == name);
        for (direction, selected) in [("inbound", inbound), ("outbound", outbound)] {
            let uri = format!(
                "/api/metrics?scope=service&namespace={ns}&name={name}&direction={direction}&{}",
                window(k)
            );
            let report = get_report(&state, "admin", &uri).await;
            check(
                &report,
                &selected,
                &format!("service {ns}/{name} {direction}"),
            );
        }
    }
}

#[tokio::test]
async fn workload_charts_match_the_written_rates_in_both_directions() {
    let k = fixture().await;
    let state = state(k);
    for (ns, name) in [
        ("shop", "cart-v1"),
        ("shop", "cart-v2"),
        ("pay", "payments-v1"),
    ] {
        let inbound = select(|r, c| r == Reporter::Destination && c.dst.0 == ns && c.dst.2 == name);
        let outbound = select(|r, c| r == Reporter::Source && c.src.0 == ns && c.src.1 == name);
        for (direction, selected) in [("inbound", inbound), ("outbound", outbound)] {
            let uri = format!(
                "/api/metrics?scope=workload&namespace={ns}&name={name}&direction={direction}&{}",
                window(k)
            );
            let report = get_report(&state, "admin", &uri).await;
            check(
                &report,
                &selected,
                &format!("workload {ns}/{name} {direction}"),
            );
        }
    }
}

#[tokio::test]
async fn a_member_sees_only_their_namespaces_sums() {
    let k = fixture().await;
    let state = state(k);
    // alice is a member of p-shop: shop and catalog, not pay.
    let hers = inbound_to_namespaces(&["shop", "catalog"]);
    let everything = select(|r, _| r == Reporter::Destination);
    let (her_volume, all_volume) = (
        charts(&hers).volume.unwrap(),
        charts(&everything).volume.unwrap(),
    );
    assert!(
        her_volume < all_volume - 1.0,
        "the test needs traffic she cannot see"
    );
    let report = get_report(&state, "alice", &format!("/api/metrics?{}", window(k))).await;
    check(&report, &hers, "alice's mesh");
    let mut namespaces = report.namespaces.clone().unwrap();
    namespaces.sort();
    assert_eq!(namespaces, ["catalog", "shop"]);
    let seen: BTreeSet<&str> = report
        .top
        .iter()
        .flat_map(|t| &t.entries)
        .map(|e| e.namespace.as_str())
        .collect();
    assert!(!seen.is_empty());
    assert!(
        seen.is_subset(&BTreeSet::from(["shop", "catalog"])),
        "{seen:?}"
    );
    // Her project gives the same numbers; the other project is 403.
    let report = get_report(
        &state,
        "alice",
        &format!("/api/metrics?scope=project&project=p-shop&{}", window(k)),
    )
    .await;
    check(&report, &hers, "alice's p-shop");
    let (status, _) = common::call(
        &state,
        "alice",
        &format!("/api/metrics?scope=project&project=p-pay&{}", window(k)),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
