//! A compiled traffic plan: which share of each edge's requests takes which
//! path (route, Envoy cluster, workload) under a [`Config`], with the
//! policies of the caller's proxy, and what each proxy reports for it.
//!
//! [`Plan::compile`] does the routing once per configuration;
//! [`Plan::evaluate`] turns it into rates, outcomes and latencies at an
//! instant (the scenario's waves, noise and faults, outlier ejections);
//! [`Plan::sweep`] runs outlier detection's ejection sweeps.
//!
//! The model of each feature (Istio's documented semantics, simplified
//! where a deterministic rate model has to):
//! - Routing: the VirtualService of the called host (the caller's
//!   namespace first, then the oldest) applies to callers with a sidecar
//!   other than gateways. Each request class of the edge takes the first
//!   HTTP route whose match holds; the route's destinations split it by
//!   weight; a subset resolves through the host's DestinationRule (the
//!   caller's namespace, then the service's, then the root namespace) to
//!   the workloads whose pod labels it selects. No route: 404 `NR`; an
//!   unknown host or subset: 503 `NC`; a subset without workloads: 503 `UH`.
//!   Without a VirtualService (and for callers without a sidecar, which no
//!   VirtualService reaches) requests spread over the service's workloads
//!   in the scenario's proportions. TCP routes split connections by weight.
//! - Faults: aborts answer at the caller's proxy (`FI`, the backend never
//!   sees them); delays add to the caller's latency (`DI`). As Istio says,
//!   a route with a fault has no timeout and no retries.
//! - Timeouts and retries: tries slower than the per-try timeout (the
//!   route's timeout when unset) are cut (504 `UT` at the caller, response
//!   code 0 with `DC` at the destination); failed tries matching `retryOn`
//!   are tried again up to `attempts` times against the same workload, each
//!   failure independently with the try's error share; a request retried
//!   `k` times takes `k` failed tries' mean plus Envoy's mean jittered
//!   back-off longer; requests still failing end with `URX`; requests
//!   longer than the route's timeout answer 504 `UT` at the timeout.
//! - Mirrors: copies reach the mirror's workloads (reported by their
//!   destination proxy only; the caller's answer is unchanged).
//! - mTLS: the caller's proxy sends mutual TLS where the DestinationRule
//!   says `ISTIO_MUTUAL`, plain text where it says `DISABLE`, and otherwise
//!   (auto mTLS) mutual TLS to workloads with a sidecar whose
//!   PeerAuthentication is not `DISABLE`. A workload under `STRICT`
//!   refuses plain text: a sidecar caller gets 503 `UC`, a caller without
//!   a sidecar gets a reset, and nobody reports anything for it. Mutual
//!   TLS to a workload that does not take it fails with 503 `UF`.
//! - Outlier detection: see [`Plan::sweep`].
//! - Calls a workload makes follow the requests it serves: its outgoing
//!   edges scale with the requests reaching it (tries, retries and mirror
//!   copies; not aborts or refused connections) relative to the scenario's.

use std::collections::HashMap;

use super::config::{
    Config, DEFAULT_RETRY_ON, Destination, DestinationRuleSpec, HttpMatch, HttpRoute, L4Match,
    MESH_GATEWAY, Object, OutlierDetection, ROOT_NAMESPACE, TrafficPolicy, VirtualServiceSpec,
};
use crate::metrics::Reporter;
use crate::model::{
    Caller, Dist, ErrorMix, FaultKind, Latency, Mesh, Protocol, RequestClass, SvcId, WlId,
};
use crate::traffic::{self, flow_keys, served_at, wave};

/// Envoy's response flags, as bits; [`flags_label`] writes them in Envoy's order.
pub mod flags {
    /// No healthy upstream.
    pub const UH: u32 = 1;
    /// Upstream request timeout.
    pub const UT: u32 = 1 << 1;
    /// Upstream connection failure.
    pub const UF: u32 = 1 << 2;
    /// Upstream connection termination.
    pub const UC: u32 = 1 << 3;
    /// No route found.
    pub const NR: u32 = 1 << 4;
    /// Delay injected.
    pub const DI: u32 = 1 << 5;
    /// Fault (abort) injected.
    pub const FI: u32 = 1 << 6;
    /// Downstream connection termination.
    pub const DC: u32 = 1 << 7;
    /// Upstream retry limit exceeded.
    pub const URX: u32 = 1 << 8;
    /// No cluster found.
    pub const NC: u32 = 1 << 9;
    /// Names in Envoy's order.
    pub const NAMES: [(u32, &str); 10] = [
        (UH, "UH"),
        (UT, "UT"),
        (UF, "UF"),
        (UC, "UC"),
        (NR, "NR"),
        (DI, "DI"),
        (FI, "FI"),
        (DC, "DC"),
        (URX, "URX"),
        (NC, "NC"),
    ];
}

/// The `response_flags` label value of `bits` (`-` for none).
pub fn flags_label(bits: u32) -> String {
    if bits == 0 {
        return "-".into();
    }
    flags::NAMES
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(",")
}

/// Latency of an answer the caller's proxy makes itself, in milliseconds.
pub const LOCAL_REPLY_MS: f64 = 0.3;
/// Latency of a connection refused by the server, in milliseconds.
pub const REFUSED_MS: f64 = 1.0;
/// Envoy's base retry back-off interval, in milliseconds.
pub const RETRY_BACKOFF_MS: f64 = 25.0;
/// Envoy's longest ejection (`max_ejection_time`'s default), in seconds.
pub const MAX_EJECTION_S: f64 = 300.0;
/// Expected runs below this in an interval count as none (the run count
/// starts again, as Envoy's consecutive counter does after a success).
pub const NEGLIGIBLE_RUNS: f64 = 1e-6;
/// Relative difference under which a workload's served traffic counts as
/// the scenario's (so an equivalent configuration changes no number).
const SAME_TRAFFIC: f64 = 1e-9;
/// Most retries followed one by one (later ones are vanishingly rare).
const MAX_RETRIES: u32 = 10;

/// What a response reports: `response_code` and `grpc_response_status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Code {
    /// HTTP status (0: no response was sent).
    pub http: u16,
    /// gRPC status, for gRPC calls.
    pub grpc: Option<u8>,
}

impl Code {
    /// How an answer with HTTP status `http` reaches a caller speaking
    /// `protocol`: gRPC callers get it as a gRPC status in a 200 (the gRPC
    /// project's HTTP-to-gRPC mapping, which Envoy applies to its own replies).
    pub fn answer(protocol: Protocol, http: u16) -> Code {
        match protocol {
            Protocol::Grpc => Code {
                http: 200,
                grpc: Some(match http {
                    200 => 0,
                    400 => 13,
                    401 => 16,
                    403 => 7,
                    404 => 12,
                    429 | 502 | 503 | 504 => 14,
                    _ => 2,
                }),
            },
            _ => Code { http, grpc: None },
        }
    }

    /// The application's outcomes: OK, client error, server error.
    fn outcome(protocol: Protocol, outcome: usize) -> Code {
        match (protocol, outcome) {
            (Protocol::Grpc, 0) => Code {
                http: 200,
                grpc: Some(0),
            },
            (Protocol::Grpc, 1) => Code {
                http: 200,
                grpc: Some(5),
            },
            (Protocol::Grpc, _) => Code {
                http: 200,
                grpc: Some(14),
            },
            (_, 0) => Code::answer(protocol, 200),
            (_, 1) => Code::answer(protocol, 404),
            _ => Code::answer(protocol, 503),
        }
    }

    /// The TCP series' code (none).
    const TCP: Code = Code {
        http: 0,
        grpc: None,
    };
}

/// The gRPC status number of a name (`UNAVAILABLE`) or number.
pub fn grpc_status(name: &str) -> Option<u8> {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    let name = name.trim();
    NAMES
        .iter()
        .position(|n| n.eq_ignore_ascii_case(name))
        .map(|i| i as u8)
        .or_else(|| name.parse::<u8>().ok().filter(|n| *n <= 16))
}

/// Everything that tells one series from another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeriesKey {
    /// Which proxy reports.
    pub reporter: Reporter,
    /// The caller as the proxy knows it (`None`: `unknown`).
    pub source: Option<WlId>,
    /// The workload that answered as the proxy knows it (`None`: `unknown`).
    pub destination: Option<WlId>,
    /// The called service.
    pub service: SvcId,
    /// Whether the connection used mutual TLS (principals, security policy).
    pub mtls: bool,
    /// Protocol.
    pub protocol: Protocol,
    /// Response code (HTTP and gRPC).
    pub code: Code,
    /// Response flags (bits of [`flags`]).
    pub flags: u32,
}

/// A series a plan can add to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Variant {
    /// Its labels.
    pub key: SeriesKey,
    /// Shown from the start even at zero (the scenario's own series);
    /// others show once they count one request or connection.
    pub always: bool,
}

/// One contribution to a series over a piece of time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Emit {
    /// Requests: `rate * share` per second, with their distributions.
    Request {
        /// Index into [`Plan::variants`].
        variant: u32,
        /// Requests per second of the flow.
        rate: f64,
        /// The share of them this series gets.
        share: f64,
        /// Duration in milliseconds.
        latency: Dist,
        /// Request body size in bytes.
        request: Dist,
        /// Response body size in bytes.
        response: Dist,
    },
    /// TCP connections per second with their bytes.
    Connection {
        /// Index into [`Plan::variants`].
        variant: u32,
        /// Connections per second.
        rate: f64,
        /// Bytes sent to the caller per connection.
        sent: f64,
        /// Bytes received from the caller per connection.
        received: f64,
    },
}

/// A flow as the trace generator follows it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TraceFlow {
    /// Index into [`Mesh::edges`].
    pub edge: usize,
    /// The workload that serves the calls (`None`: outside the mesh, or
    /// answered by the caller's proxy).
    pub backend: Option<WlId>,
    /// Share of the edge's calls.
    pub share: f64,
    /// Noise index of the flow (see [`crate::traffic::noise`]).
    pub noise: usize,
    /// What the caller's proxy does with them.
    pub path: TracePath,
}

/// What a caller's proxy does with a call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TracePath {
    /// Forwards it to the backend.
    Forwarded {
        /// Share delayed and the delay in milliseconds (`DI`).
        delay: Option<(f64, f64)>,
        /// Longer answers are cut here with 504 `UT`, in milliseconds.
        timeout_ms: Option<f64>,
    },
    /// Answers it itself (no route, faults, refused connections, no
    /// healthy upstream).
    Answered {
        /// The answer.
        code: Code,
        /// Its response flags.
        flags: u32,
        /// How long it takes, in milliseconds.
        latency_ms: f64,
    },
}

/// Spread (sigma of the log) of request and response sizes around their mean.
const SIZE_SIGMA: f64 = 0.5;

/// Log-normal sizes with the given mean.
pub fn size_distribution(mean: f64) -> Dist {
    Dist::of(Latency {
        median_ms: mean / (SIZE_SIGMA * SIZE_SIGMA / 2.0).exp(),
        sigma: SIZE_SIGMA,
    })
}

const NONE: u32 = u32::MAX;

/// Which conditions a route retries.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct RetryOn {
    /// The application's server errors (503 / gRPC UNAVAILABLE).
    server: bool,
    /// Tries cut by the per-try timeout.
    timeout: bool,
    /// Connections reset by the server (`UC`).
    reset: bool,
    /// Connections that failed (`UF`).
    connect: bool,
}

impl RetryOn {
    fn parse(text: &str, protocol: Protocol) -> RetryOn {
        let mut on = RetryOn::default();
        for cond in text.split(',').map(str::trim) {
            match cond {
                "5xx" => {
                    on.server |= protocol != Protocol::Grpc;
                    on.timeout = true;
                    on.reset = true;
                    on.connect = true;
                }
                "gateway-error" => {
                    on.server |= protocol != Protocol::Grpc;
                    on.timeout = true;
                    on.connect = true;
                }
                "503" => on.server |= protocol != Protocol::Grpc,
                "unavailable" => on.server |= protocol == Protocol::Grpc,
                "reset" => {
                    on.reset = true;
                    on.connect = true;
                }
                "connect-failure" => on.connect = true,
                _ => {}
            }
        }
        on
    }
}

/// The retries of a route.
#[derive(Clone, Copy, Debug, PartialEq)]
struct RetryPolicy {
    attempts: u32,
    per_try_s: Option<f64>,
    on: RetryOn,
    backoff_ms: f64,
}

/// The client-side policies of one HTTP route.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct RoutePolicy {
    /// Share delayed and the delay in milliseconds.
    delay: Option<(f64, f64)>,
    /// Share aborted and the answer.
    abort: Option<(f64, Code)>,
    /// The request timeout in seconds.
    timeout_s: Option<f64>,
    retry: Option<RetryPolicy>,
}

impl RoutePolicy {
    fn faulty(&self) -> bool {
        self.delay.is_some() || self.abort.is_some()
    }

    /// Needs the routed outcome model rather than the plain one.
    fn shapes(&self) -> bool {
        self.delay.is_some() || self.timeout_s.is_some() || self.retry.is_some()
    }

    /// The per-try cut in milliseconds.
    fn per_try_ms(&self) -> Option<f64> {
        self.retry
            .and_then(|r| r.per_try_s)
            .or(self.timeout_s)
            .map(|s| s * 1000.0)
    }

    fn attempts(&self) -> u32 {
        self.retry.map_or(0, |r| r.attempts.min(MAX_RETRIES))
    }

    fn on(&self) -> RetryOn {
        self.retry.map(|r| r.on).unwrap_or_default()
    }

    /// Mean total back-off before the `k`-th retry is sent, in ms: Envoy
    /// waits a random time up to `(2^j - 1) * base` (at most `10 * base`)
    /// before retry `j`.
    fn backoff_ms(&self, k: u32) -> f64 {
        let base = self.retry.map_or(RETRY_BACKOFF_MS, |r| r.backoff_ms);
        (1..=k)
            .map(|j| ((2f64.powi(j as i32) - 1.0) * base).min(10.0 * base) / 2.0)
            .sum()
    }
}

/// Outlier detection of a cluster.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OutlierPolicy {
    /// Consecutive errors that eject.
    pub consecutive: u32,
    /// Seconds between sweeps.
    pub interval_s: f64,
    /// Base ejection time in seconds.
    pub base_ejection_s: f64,
    /// Most hosts ejected, in percent.
    pub max_ejection_percent: f64,
    /// Below this healthy share ejections are ignored, in percent.
    pub min_health_percent: f64,
}

impl OutlierPolicy {
    fn from(od: &OutlierDetection) -> Option<OutlierPolicy> {
        let five = od.consecutive_5xx_errors.unwrap_or(5);
        let gateway = od
            .consecutive_gateway_errors
            .or(od.consecutive_errors)
            .unwrap_or(0);
        // The demo's errors are all 503 or 504: both counters see them.
        let consecutive = [five, gateway].into_iter().filter(|n| *n > 0).min()?;
        Some(OutlierPolicy {
            consecutive,
            interval_s: od.interval.map_or(10.0, |s| s.0).max(1e-3),
            base_ejection_s: od.base_ejection_time.map_or(30.0, |s| s.0).max(1e-3),
            max_ejection_percent: od.max_ejection_percent.unwrap_or(10) as f64,
            min_health_percent: od.min_health_percent.unwrap_or(0) as f64,
        })
    }
}

/// An Envoy cluster as one client workload's proxy sees it.
#[derive(Clone, Debug)]
struct Cluster {
    /// The client's pods (each runs its own outlier detection).
    client_pods: u32,
    /// Workloads with their weights and pod counts.
    backends: Vec<(Option<WlId>, f64, u32)>,
    outlier: Option<OutlierPolicy>,
}

/// How a flow's share depends on ejections.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Member {
    /// Its share is fixed.
    Fixed,
    /// Times the share of backend `index` of `cluster` among the healthy.
    Backend { cluster: usize, index: usize },
    /// Only while every backend of `cluster` is ejected.
    NoHealthy { cluster: usize },
}

/// The ok, client-error and server-error series of a reporter.
type Outcomes = [u32; 3];

/// Label pairs a subset selects.
type Labels = Vec<(String, String)>;

/// What one flow is and which series it feeds.
#[derive(Clone, Debug)]
enum Kind {
    /// Requests answered by the backend, without client-side policies.
    Plain { src: Outcomes, dst: Outcomes },
    /// Requests under a route's delay, timeout or retries.
    Routed {
        route: usize,
        /// ok, client, server, server URX, UT, UT URX, ok DI, client DI, server DI.
        src: [u32; 9],
        /// ok, client, server, cut (0 DC).
        dst: [u32; 4],
    },
    /// Answered by the caller's proxy itself.
    Local {
        variant: u32,
        latency_ms: f64,
        body: f64,
    },
    /// Refused by the server's proxy (TLS mismatch), seen by the caller's.
    Refused {
        route: Option<usize>,
        reason: u32,
        variant: u32,
    },
    /// Mirror copies, seen by the destination only.
    Mirror { dst: Outcomes },
    /// TCP connections.
    Tcp { src: u32, dst: u32 },
    /// TCP connections refused by the server.
    TcpRefused { src: u32 },
}

/// A share of one edge's requests taking one path.
#[derive(Clone, Debug)]
struct Flow {
    edge: usize,
    /// The calling workload (its served traffic scales the flow).
    caller: Option<WlId>,
    backend: Option<WlId>,
    share: f64,
    /// Noise index (the scenario's flow index for the same edge and backend).
    noise: usize,
    member: Member,
    kind: Kind,
}

/// The state of one flow at an instant.
#[derive(Clone, Copy, Debug, Default)]
struct FlowNow {
    /// Requests (connections) per second.
    rate: f64,
    errors: ErrorMix,
    latency: Option<Latency>,
    /// Tries per request reaching the backend.
    tries: f64,
    /// Share of tries that fail with a 5xx for outlier detection.
    failing: f64,
}

/// The routing of a whole mesh under one configuration.
#[derive(Clone, Debug)]
pub struct Plan {
    flows: Vec<Flow>,
    routes: Vec<RoutePolicy>,
    clusters: Vec<Cluster>,
    variants: Vec<Variant>,
    /// Workloads, callers before the workloads they call.
    order: Vec<WlId>,
    /// Per workload: the requests it serves in the scenario (per second,
    /// before waves and noise).
    served_base: Vec<f64>,
    /// Objects left out, with why.
    problems: Vec<String>,
}

/// Ejection state of every cluster of a plan with outlier detection.
#[derive(Clone, Debug, Default)]
pub struct Ejections {
    clusters: Vec<Option<ClusterState>>,
}

#[derive(Clone, Debug)]
struct ClusterState {
    next_sweep: f64,
    backends: Vec<BackendState>,
}

#[derive(Clone, Copy, Debug, Default)]
struct BackendState {
    /// Pods ejected now.
    ejected: u32,
    /// Until when (Unix seconds).
    until: f64,
    /// Ejections in a row (multiplies the ejection time).
    count: u32,
    /// Expected error runs since it was last (re)admitted.
    runs: f64,
}

impl Ejections {
    /// Whether the backend `index` of `cluster` has pods out now.
    fn ejected(&self, cluster: usize, index: usize) -> u32 {
        self.clusters
            .get(cluster)
            .and_then(|c| c.as_ref())
            .map_or(0, |c| c.backends[index].ejected)
    }
}

/// The labels a pod of workload `wl` carries (what selectors see).
pub fn pod_labels(mesh: &Mesh, wl: WlId) -> Vec<(&'static str, String)> {
    let w = &mesh.workloads[wl];
    let mut labels = vec![("app", w.app.clone()), ("version", w.version.clone())];
    if mesh.has_sidecar(wl) {
        labels.push(("security.istio.io/tlsMode", "istio".into()));
        labels.push(("service.istio.io/canonical-name", w.app.clone()));
        labels.push(("service.istio.io/canonical-revision", w.version.clone()));
    }
    labels
}

fn selects<'a>(
    wanted: impl IntoIterator<Item = (&'a String, &'a String)>,
    labels: &[(&str, String)],
) -> bool {
    wanted
        .into_iter()
        .all(|(k, v)| labels.iter().any(|(lk, lv)| lk == k && lv == v))
}

/// PeerAuthentication modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PeerMode {
    Permissive,
    Strict,
    Disable,
}

fn peer_mode(mode: &str) -> Option<PeerMode> {
    match mode {
        "STRICT" => Some(PeerMode::Strict),
        "PERMISSIVE" => Some(PeerMode::Permissive),
        "DISABLE" => Some(PeerMode::Disable),
        _ => None,
    }
}

/// How a connection from a caller's proxy (or a caller without one) to a
/// backend ends.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Connection {
    /// Accepted; mutual TLS or not.
    Accepted { mtls: bool },
    /// Refused, with the flag the caller's proxy reports.
    Refused(u32),
}

struct Compiler<'a> {
    mesh: &'a Mesh,
    config: &'a Config,
    by_host: HashMap<String, SvcId>,
    noise_of: HashMap<(usize, Option<WlId>), usize>,
    flows: Vec<Flow>,
    routes: Vec<RoutePolicy>,
    clusters: Vec<Cluster>,
    cluster_of: HashMap<(WlId, SvcId, String), usize>,
    variants: Vec<Variant>,
    variant_of: HashMap<SeriesKey, u32>,
}

impl Plan {
    /// The plan of `mesh` under `config`.
    pub fn compile(mesh: &Mesh, config: &Config) -> Plan {
        let keys = flow_keys(mesh);
        let mut served_base = vec![0.0; mesh.workloads.len()];
        for key in &keys {
            if let Some(b) = key.backend {
                served_base[b] += mesh.edges[key.edge].rate * key.weight;
            }
        }
        let mut by_host = HashMap::new();
        for (i, s) in mesh.services.iter().enumerate() {
            by_host.entry(mesh.service_fqdn(i)).or_insert(i);
            if let Some(h) = &s.external_host {
                by_host.entry(h.clone()).or_insert(i);
            }
        }
        let mut c = Compiler {
            mesh,
            config,
            by_host,
            noise_of: keys
                .iter()
                .enumerate()
                .map(|(i, k)| ((k.edge, k.backend), i))
                .collect(),
            flows: Vec::new(),
            routes: Vec::new(),
            clusters: Vec::new(),
            cluster_of: HashMap::new(),
            variants: Vec::new(),
            variant_of: HashMap::new(),
        };
        for edge in 0..mesh.edges.len() {
            c.edge(edge);
        }
        let order = call_order(mesh, &c.flows);
        Plan {
            flows: c.flows,
            routes: c.routes,
            clusters: c.clusters,
            variants: c.variants,
            order,
            served_base,
            problems: config.problems.clone(),
        }
    }

    /// The series this plan can add to, indexed by [`Emit`]'s `variant`.
    pub fn variants(&self) -> &[Variant] {
        &self.variants
    }

    /// Objects of the configuration that were left out, with why.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// The flows as traces follow them: who calls which backend with what
    /// share (without ejections) and what the caller's proxy does.
    /// Mirror copies are left out.
    pub fn trace_flows(&self) -> Vec<TraceFlow> {
        self.flows
            .iter()
            .filter_map(|f| {
                let share = match f.member {
                    Member::Fixed => f.share,
                    Member::Backend { cluster, index } => {
                        f.share * self.healthy_share(cluster, Some(index), &Ejections::default())
                    }
                    Member::NoHealthy { .. } => return None,
                };
                let path = match &f.kind {
                    Kind::Plain { .. } | Kind::Tcp { .. } => TracePath::Forwarded {
                        delay: None,
                        timeout_ms: None,
                    },
                    Kind::Routed { route, .. } => {
                        let r = &self.routes[*route];
                        TracePath::Forwarded {
                            delay: r.delay,
                            timeout_ms: r.per_try_ms(),
                        }
                    }
                    Kind::Local {
                        variant,
                        latency_ms,
                        ..
                    } => {
                        let key = self.variants[*variant as usize].key;
                        TracePath::Answered {
                            code: key.code,
                            flags: key.flags,
                            latency_ms: *latency_ms,
                        }
                    }
                    Kind::Refused { variant, .. } | Kind::TcpRefused { src: variant } => {
                        let key = self.variants[*variant as usize].key;
                        TracePath::Answered {
                            code: key.code,
                            flags: key.flags,
                            latency_ms: REFUSED_MS,
                        }
                    }
                    Kind::Mirror { .. } => return None,
                };
                Some(TraceFlow {
                    edge: f.edge,
                    backend: match path {
                        TracePath::Forwarded { .. } => f.backend,
                        TracePath::Answered { .. } => None,
                    },
                    share,
                    noise: f.noise,
                    path,
                })
            })
            .collect()
    }

    /// A fresh ejection state (nobody ejected), first sweeps after `t`.
    pub fn ejections(&self, t: f64) -> Ejections {
        Ejections {
            clusters: self
                .clusters
                .iter()
                .map(|c| {
                    c.outlier.map(|o| ClusterState {
                        next_sweep: ((t / o.interval_s).floor() + 1.0) * o.interval_s,
                        backends: vec![BackendState::default(); c.backends.len()],
                    })
                })
                .collect(),
        }
    }

    /// The earliest sweep due after `t` (exclusive), if any cluster has
    /// outlier detection.
    pub fn next_sweep(&self, ejections: &Ejections) -> Option<f64> {
        ejections
            .clusters
            .iter()
            .flatten()
            .map(|c| c.next_sweep)
            .min_by(f64::total_cmp)
    }

    /// Whether backend `wl` is ejected (some of its pods) by the caller
    /// `client`'s proxy in any cluster.
    pub fn is_ejected(&self, ejections: &Ejections, client: WlId, wl: WlId) -> bool {
        self.flows.iter().any(|f| {
            f.caller == Some(client)
                && f.backend == Some(wl)
                && matches!(f.member, Member::Backend { cluster, index } if ejections.ejected(cluster, index) > 0)
        })
    }

    /// The share of a flow right now (ejections applied).
    fn share_now(&self, flow: &Flow, ejections: &Ejections) -> f64 {
        match flow.member {
            Member::Fixed => flow.share,
            Member::Backend { cluster, index } => {
                flow.share * self.healthy_share(cluster, Some(index), ejections)
            }
            Member::NoHealthy { cluster } => {
                flow.share * self.healthy_share(cluster, None, ejections)
            }
        }
    }

    /// Backend `index`'s share of cluster `cluster` among healthy pods;
    /// with `None`, 1 when no pod is healthy (else 0).
    fn healthy_share(&self, cluster: usize, index: Option<usize>, ejections: &Ejections) -> f64 {
        let c = &self.clusters[cluster];
        let total_pods: u32 = c.backends.iter().map(|b| b.2).sum();
        let ejected_pods: u32 = (0..c.backends.len())
            .map(|i| ejections.ejected(cluster, i))
            .sum();
        let ignore = c.outlier.is_some_and(|o| {
            o.min_health_percent > 0.0
                && f64::from(total_pods - ejected_pods) * 100.0
                    < o.min_health_percent * f64::from(total_pods)
        });
        let weight = |i: usize| {
            let (_, w, pods) = c.backends[i];
            let out = if ignore {
                0
            } else {
                ejections.ejected(cluster, i)
            };
            w * (f64::from(pods - out.min(pods)) / f64::from(pods.max(1)))
        };
        let total: f64 = (0..c.backends.len()).map(weight).sum();
        match index {
            Some(i) if total > 0.0 => weight(i) / total,
            Some(_) => 0.0,
            None if total > 0.0 => 0.0,
            None => 1.0,
        }
    }

    /// Every flow's state at `t`, with each workload's traffic factor.
    fn snapshot(&self, mesh: &Mesh, t: f64, ejections: &Ejections) -> (Vec<FlowNow>, Vec<f64>) {
        let mut now: Vec<FlowNow> = Vec::with_capacity(self.flows.len());
        for flow in &self.flows {
            let share = self.share_now(flow, ejections);
            let edge = &mesh.edges[flow.edge];
            let rate = edge.rate * share;
            let (errors, latency, tries, failing) = match &flow.kind {
                Kind::Plain { .. } | Kind::Mirror { .. } | Kind::Tcp { .. } => {
                    let (e, l) = served_at(mesh, flow.edge, flow.backend, flow.noise, t);
                    (e, Some(l), 1.0, e.server)
                }
                Kind::Routed { route, .. } => {
                    let (e, l) = served_at(mesh, flow.edge, flow.backend, flow.noise, t);
                    let tries = try_model(&self.routes[*route], e, l);
                    (e, Some(l), tries.expected, tries.failing)
                }
                Kind::Refused { route, reason, .. } => {
                    let tries = route.map_or(1.0, |r| {
                        1.0 + f64::from(refused_retries(&self.routes[r], *reason))
                    });
                    (ErrorMix::default(), None, tries, 1.0)
                }
                Kind::TcpRefused { .. } => (ErrorMix::default(), None, 1.0, 1.0),
                Kind::Local { .. } => (ErrorMix::default(), None, 0.0, 0.0),
            };
            now.push(FlowNow {
                rate,
                errors,
                latency,
                tries,
                failing,
            });
        }
        // Served traffic, callers first: a workload's calls scale with it.
        let workloads = mesh.workloads.len();
        let mut factor = vec![1.0; workloads];
        let mut served = vec![0.0; workloads];
        let mut by_caller: Vec<Vec<usize>> = vec![Vec::new(); workloads + 1];
        for (i, f) in self.flows.iter().enumerate() {
            by_caller[f.caller.unwrap_or(workloads)].push(i);
        }
        let visit = |caller: usize, factor: &mut Vec<f64>, served: &mut Vec<f64>| {
            let k = if caller < workloads {
                factor[caller]
            } else {
                1.0
            };
            for &i in &by_caller[caller] {
                let f = &self.flows[i];
                if let (Some(b), true) = (f.backend, reaches_app(&f.kind)) {
                    served[b] += now[i].rate * k * now[i].tries;
                }
            }
        };
        visit(workloads, &mut factor, &mut served);
        for &w in &self.order {
            let base = self.served_base[w];
            factor[w] = if base > 0.0 {
                let f = served[w] / base;
                if (f - 1.0).abs() < SAME_TRAFFIC {
                    1.0
                } else {
                    f
                }
            } else {
                1.0
            };
            visit(w, &mut factor, &mut served);
        }
        let wave = wave(mesh, t);
        for (f, n) in self.flows.iter().zip(now.iter_mut()) {
            let k = f.caller.map_or(1.0, |c| factor[c]);
            let rate = n.rate * wave * traffic::noise(mesh, f.noise, 1, t);
            n.rate = (if k == 1.0 { rate } else { rate * k }).max(0.0);
        }
        (now, factor)
    }

    /// What every proxy reports at Unix time `t`: contributions to the
    /// series of [`Plan::variants`], per second.
    pub fn evaluate(&self, mesh: &Mesh, t: f64, ejections: &Ejections, out: &mut Vec<Emit>) {
        let (now, _) = self.snapshot(mesh, t, ejections);
        for (flow, n) in self.flows.iter().zip(&now) {
            self.emit(mesh, flow, n, out);
        }
    }

    fn emit(&self, mesh: &Mesh, flow: &Flow, n: &FlowNow, out: &mut Vec<Emit>) {
        let edge = &mesh.edges[flow.edge];
        let request = size_distribution(edge.request_bytes);
        let response = size_distribution(edge.response_bytes);
        let rate = n.rate;
        let mut push = |variant: u32, share: f64, latency: Dist, response: Dist| {
            if variant != NONE {
                out.push(Emit::Request {
                    variant,
                    rate,
                    share,
                    latency,
                    request,
                    response,
                });
            }
        };
        let plain = |outcomes: &[&Outcomes]| -> Vec<(u32, f64)> {
            let (c, s) = (n.errors.client, n.errors.server);
            outcomes
                .iter()
                .flat_map(|o| [(o[0], 1.0 - c - s), (o[1], c), (o[2], s)])
                .collect()
        };
        match &flow.kind {
            Kind::Plain { src, dst } => {
                let latency = Dist::of(n.latency.unwrap_or(edge.latency));
                for (v, share) in plain(&[src, dst]) {
                    push(v, share, latency, response);
                }
            }
            Kind::Mirror { dst } => {
                let latency = Dist::of(n.latency.unwrap_or(edge.latency));
                for (v, share) in plain(&[dst]) {
                    push(v, share, latency, response);
                }
            }
            Kind::Routed { route, src, dst } => {
                let policy = &self.routes[*route];
                let latency = n.latency.unwrap_or(edge.latency);
                for (variant, share, dist, body) in routed_outcomes(policy, n.errors, latency) {
                    let v = match variant {
                        RoutedSeries::Src(i) => src[i],
                        RoutedSeries::Dst(i) => dst[i],
                    };
                    push(v, share, dist, body.map_or(response, Dist::Point));
                }
            }
            Kind::Local {
                variant,
                latency_ms,
                body,
            } => push(*variant, 1.0, Dist::Point(*latency_ms), Dist::Point(*body)),
            Kind::Refused {
                route,
                reason,
                variant,
            } => {
                let (retries, backoff) = route.map_or((0, 0.0), |r| {
                    let policy = &self.routes[r];
                    let k = refused_retries(policy, *reason);
                    (k, policy.backoff_ms(k))
                });
                let latency = REFUSED_MS * f64::from(retries + 1) + backoff;
                push(
                    *variant,
                    1.0,
                    Dist::Point(latency),
                    Dist::Point(REFUSED_BODY),
                );
            }
            Kind::Tcp { src, dst } => {
                for v in [*src, *dst] {
                    if v != NONE {
                        out.push(Emit::Connection {
                            variant: v,
                            rate,
                            sent: edge.response_bytes,
                            received: edge.request_bytes,
                        });
                    }
                }
            }
            Kind::TcpRefused { src } => out.push(Emit::Connection {
                variant: *src,
                rate,
                sent: 0.0,
                received: 0.0,
            }),
        }
    }

    /// Runs the ejection sweeps due at `t` (Envoy's `interval` timer).
    ///
    /// A sweep looks at the interval before it, as each client pod sees it:
    /// `n` tries to a workload, a share `p` of them 5xx (server errors,
    /// cut tries, refused connections). The expected number of runs of
    /// `consecutive` errors in a row among them is `p^k (1 + (n - k)(1 -
    /// p))`; these add up over the intervals since the workload was last
    /// admitted (an interval with practically none starts the count
    /// again), and when they reach one the workload is ejected: its pods
    /// one by one, the first always, the others while fewer than
    /// `maxEjectionPercent` of the cluster's pods are out. It stays out for
    /// `baseEjectionTime` times its ejections in a row (at most 300 s, or
    /// the base if longer) and comes back at the first sweep after that;
    /// every interval it then serves without errors forgets one ejection.
    /// While out, its share goes to the cluster's other workloads; with
    /// all out, requests fail with 503 `UH` (Istio's `minHealthPercent`
    /// defaults to 0, so Envoy never falls back to the ejected hosts).
    pub fn sweep(&self, mesh: &Mesh, ejections: &mut Ejections, t: f64) {
        let due: Vec<usize> = ejections
            .clusters
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_ref().filter(|c| c.next_sweep <= t).map(|_| i))
            .collect();
        if due.is_empty() {
            return;
        }
        let mut snapshots: Vec<(f64, Vec<FlowNow>)> = Vec::new();
        for ci in due {
            let Some(policy) = self.clusters[ci].outlier else {
                continue;
            };
            let mid = t - policy.interval_s / 2.0;
            let now = match snapshots.iter().position(|(m, _)| *m == mid) {
                Some(i) => i,
                None => {
                    snapshots.push((mid, self.snapshot(mesh, mid, ejections).0));
                    snapshots.len() - 1
                }
            };
            let cluster = &self.clusters[ci];
            let mut tries = vec![0.0; cluster.backends.len()];
            let mut failing = vec![0.0; cluster.backends.len()];
            for (f, n) in self.flows.iter().zip(&snapshots[now].1) {
                if let Member::Backend { cluster, index } = f.member
                    && cluster == ci
                {
                    tries[index] += n.rate * n.tries;
                    failing[index] += n.rate * n.tries * n.failing;
                }
            }
            let total_pods: u32 = cluster.backends.iter().map(|b| b.2).sum();
            let Some(state) = ejections.clusters[ci].as_mut() else {
                continue;
            };
            for b in state.backends.iter_mut() {
                if b.ejected > 0 && t >= b.until - 1e-9 {
                    b.ejected = 0;
                    b.runs = 0.0;
                }
            }
            for (i, &(_, _, pods)) in cluster.backends.iter().enumerate() {
                if state.backends[i].ejected > 0 || tries[i] <= 0.0 {
                    continue;
                }
                let n = tries[i] * policy.interval_s / f64::from(cluster.client_pods.max(1));
                let p = failing[i] / tries[i];
                let runs = expected_runs(n, p, policy.consecutive);
                let b = &mut state.backends[i];
                if runs < NEGLIGIBLE_RUNS {
                    b.runs = 0.0;
                    b.count = b.count.saturating_sub(1);
                    continue;
                }
                b.runs += runs;
                if b.runs < 1.0 {
                    continue;
                }
                let mut ejected_now: u32 = state.backends.iter().map(|b| b.ejected).sum();
                let mut out = 0;
                while out < pods
                    && (ejected_now == 0
                        || f64::from(ejected_now) * 100.0
                            < policy.max_ejection_percent * f64::from(total_pods))
                {
                    out += 1;
                    ejected_now += 1;
                }
                if out > 0 {
                    let b = &mut state.backends[i];
                    b.ejected = out;
                    b.count += 1;
                    b.runs = 0.0;
                    let cap = MAX_EJECTION_S.max(policy.base_ejection_s);
                    b.until = t + (policy.base_ejection_s * f64::from(b.count)).min(cap);
                }
            }
            state.next_sweep = t + policy.interval_s;
        }
    }
}

/// Body of the answer to a refused connection, in bytes (Envoy's
/// "upstream connect error or disconnect/reset before headers...").
const REFUSED_BODY: f64 = 95.0;

/// Expected runs of at least `k` failures in a row among `n` tries failing
/// independently with probability `p`.
pub fn expected_runs(n: f64, p: f64, k: u32) -> f64 {
    let k_f = f64::from(k);
    if n < k_f || p <= 0.0 {
        return 0.0;
    }
    let pk = p.powi(k as i32);
    pk * (1.0 + (n - k_f) * (1.0 - p))
}

fn reaches_app(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::Plain { .. } | Kind::Routed { .. } | Kind::Mirror { .. } | Kind::Tcp { .. }
    )
}

/// Retries a refused connection gets under `policy`.
fn refused_retries(policy: &RoutePolicy, reason: u32) -> u32 {
    let on = policy.on();
    let retried = if reason == flags::UC {
        on.reset
    } else {
        on.connect
    };
    if retried { policy.attempts() } else { 0 }
}

/// Tries per request and the failing share of tries under a route.
struct TryModel {
    expected: f64,
    failing: f64,
}

/// Per-try shares: ok, client error, server error, cut by the per-try timeout.
fn try_shares(policy: &RoutePolicy, errors: ErrorMix, latency: Latency) -> [f64; 4] {
    let cut = policy
        .per_try_ms()
        .map_or(0.0, |ms| (1.0 - latency.cdf(ms)).max(0.0));
    let (c, s) = (errors.client, errors.server);
    [
        (1.0 - c - s) * (1.0 - cut),
        c * (1.0 - cut),
        s * (1.0 - cut),
        cut,
    ]
}

fn try_model(policy: &RoutePolicy, errors: ErrorMix, latency: Latency) -> TryModel {
    if policy.faulty() {
        return TryModel {
            expected: 1.0,
            failing: errors.server,
        };
    }
    let [_, _, s, cut] = try_shares(policy, errors, latency);
    let on = policy.on();
    let r = if on.server { s } else { 0.0 } + if on.timeout { cut } else { 0.0 };
    let expected: f64 = (0..=policy.attempts()).map(|k| r.powi(k as i32)).sum();
    TryModel {
        expected,
        failing: s + cut,
    }
}

/// Which series of a routed flow a share goes to.
#[derive(Clone, Copy, Debug)]
enum RoutedSeries {
    /// ok, client, server, server URX, UT, UT URX, ok DI, client DI, server DI.
    Src(usize),
    /// ok, client, server, cut.
    Dst(usize),
}

/// Body of Envoy's timeout answer ("upstream request timeout"), in bytes.
const TIMEOUT_BODY: f64 = 24.0;

/// The shares of a routed flow's requests (per request the caller sends)
/// by series, with their latencies and, where the proxy answers, response
/// sizes. See the module documentation for the model.
fn routed_outcomes(
    policy: &RoutePolicy,
    errors: ErrorMix,
    latency: Latency,
) -> Vec<(RoutedSeries, f64, Dist, Option<f64>)> {
    use RoutedSeries::{Dst, Src};
    let mut out = Vec::new();
    let (c, s) = (errors.client, errors.server);
    let ok = 1.0 - c - s;
    let natural = Dist::of(latency);
    if policy.faulty() {
        // No timeout, no retries: the destination sees every request as
        // it is; the caller sees the delayed ones later.
        let (pd, delay) = policy.delay.unwrap_or((0.0, 0.0));
        for (i, share) in [ok, c, s].into_iter().enumerate() {
            out.push((Dst(i), share, natural, None));
            out.push((Src(i), share * (1.0 - pd), natural, None));
            if pd > 0.0 {
                out.push((Src(6 + i), share * pd, natural.shifted(delay), None));
            }
        }
        return out;
    }
    let per_try = policy.per_try_ms();
    let answered = match per_try {
        Some(ms) => Dist::LogNormal {
            base: latency,
            shift: 0.0,
            upper: ms,
        },
        None => natural,
    };
    let [o, cl, sv, cut] = try_shares(policy, errors, latency);
    let on = policy.on();
    let attempts = policy.attempts();
    let r_server = if on.server { sv } else { 0.0 };
    let r_cut = if on.timeout { cut } else { 0.0 };
    let r = r_server + r_cut;
    let tries: f64 = (0..=attempts).map(|k| r.powi(k as i32)).sum();
    // The destination sees every try.
    out.push((Dst(0), o * tries, answered, None));
    out.push((Dst(1), cl * tries, answered, None));
    out.push((Dst(2), sv * tries, answered, None));
    if let Some(ms) = per_try {
        out.push((Dst(3), cut * tries, Dist::Point(ms), Some(0.0)));
    }
    // Mean length of a failed try that is retried.
    let failed_ms = if r > 0.0 {
        let answered_mean = if sv > 0.0 { answered.mean() } else { 0.0 };
        (r_server * answered_mean + r_cut * per_try.unwrap_or(0.0)) / r
    } else {
        0.0
    };
    let timeout_ms = policy.timeout_s.map(|s| s * 1000.0);
    // `share` of requests end after `k` retries with an answer distributed
    // as `dist` (before the shift): split by the request timeout.
    let mut finish = |series: RoutedSeries, share: f64, k: u32, answer: Option<Dist>| {
        if share <= 0.0 {
            return;
        }
        let shift = f64::from(k) * failed_ms + policy.backoff_ms(k);
        let ut = Src(4);
        match (answer, timeout_ms) {
            (Some(Dist::LogNormal { base, upper, .. }), Some(t)) => {
                let room = t - shift;
                if room <= 0.0 {
                    out.push((ut, share, Dist::Point(t), Some(TIMEOUT_BODY)));
                    return;
                }
                let whole = base.cdf(upper);
                let within = if whole > 0.0 {
                    (base.cdf(room.min(upper)) / whole).min(1.0)
                } else {
                    1.0
                };
                let dist = Dist::LogNormal {
                    base,
                    shift,
                    upper: room.min(upper),
                };
                out.push((series, share * within, dist, None));
                if within < 1.0 {
                    out.push((
                        ut,
                        share * (1.0 - within),
                        Dist::Point(t),
                        Some(TIMEOUT_BODY),
                    ));
                }
            }
            (Some(dist), _) => out.push((series, share, dist.shifted(shift), None)),
            (None, t) => {
                let at = per_try.unwrap_or(0.0) + shift;
                let at = t.map_or(at, |t| at.min(t));
                out.push((series, share, Dist::Point(at), Some(TIMEOUT_BODY)));
            }
        }
    };
    for k in 0..=attempts {
        let reach = r.powi(k as i32);
        finish(Src(0), o * reach, k, Some(answered));
        finish(Src(1), cl * reach, k, Some(answered));
        if !on.server {
            finish(Src(2), sv * reach, k, Some(answered));
        }
        if !on.timeout {
            finish(Src(4), cut * reach, k, None);
        }
    }
    // Still failing after every retry.
    let last = r.powi(attempts as i32);
    let (server_series, cut_series) = if attempts > 0 {
        (Src(3), Src(5))
    } else {
        (Src(2), Src(4))
    };
    finish(server_series, r_server * last, attempts, Some(answered));
    finish(cut_series, r_cut * last, attempts, None);
    out
}

/// Workloads ordered so that, as far as the calls allow (cycles are
/// broken in index order), a workload comes after those calling it.
fn call_order(mesh: &Mesh, flows: &[Flow]) -> Vec<WlId> {
    let n = mesh.workloads.len();
    let mut callers_of: Vec<Vec<WlId>> = vec![Vec::new(); n];
    let mut calls: Vec<Vec<WlId>> = vec![Vec::new(); n];
    for f in flows {
        if let (Some(c), Some(b)) = (f.caller, f.backend)
            && reaches_app(&f.kind)
            && c != b
            && !callers_of[b].contains(&c)
        {
            callers_of[b].push(c);
            calls[c].push(b);
        }
    }
    let mut pending: Vec<usize> = callers_of.iter().map(Vec::len).collect();
    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(n);
    loop {
        let mut progressed = false;
        for w in 0..n {
            if !done[w] && pending[w] == 0 {
                done[w] = true;
                order.push(w);
                for &b in &calls[w] {
                    pending[b] -= 1;
                }
                progressed = true;
            }
        }
        if order.len() == n {
            break;
        }
        if !progressed {
            // A cycle: take the first one left.
            if let Some(w) = (0..n).find(|w| !done[*w]) {
                done[w] = true;
                order.push(w);
                for &b in &calls[w] {
                    pending[b] = pending[b].saturating_sub(1);
                }
            }
        }
    }
    order
}

/// Istio's expansion of a host named in an object of namespace `ns`.
fn expand_host(mesh: &Mesh, host: &str, ns: &str) -> String {
    if host.contains('*') {
        return host.to_owned();
    }
    let parts: Vec<&str> = host.split('.').collect();
    match parts.as_slice() {
        [name] => format!("{name}.{ns}.svc.cluster.local"),
        [name, namespace] if mesh.namespace_id(namespace).is_some() => {
            format!("{name}.{namespace}.svc.cluster.local")
        }
        [name, namespace, "svc"] => format!("{name}.{namespace}.svc.cluster.local"),
        _ => host.to_owned(),
    }
}

/// How well `host` (expanded) names `fqdn`: 2 exactly, 1 by wildcard.
fn host_match(host: &str, fqdn: &str) -> u8 {
    if host == fqdn {
        2
    } else if host == "*" {
        1
    } else if let Some(suffix) = host.strip_prefix('*') {
        u8::from(fqdn.ends_with(suffix))
    } else {
        0
    }
}

fn applies_to_sidecars(gateways: &[String]) -> bool {
    gateways.is_empty() || gateways.iter().any(|g| g == MESH_GATEWAY)
}

impl Compiler<'_> {
    fn variant(&mut self, key: SeriesKey, always: bool) -> u32 {
        if let Some(&v) = self.variant_of.get(&key) {
            self.variants[v as usize].always |= always;
            return v;
        }
        let v = self.variants.len() as u32;
        self.variants.push(Variant { key, always });
        self.variant_of.insert(key, v);
        v
    }

    fn noise(&self, edge: usize, backend: Option<WlId>) -> usize {
        match self.noise_of.get(&(edge, backend)) {
            Some(i) => *i,
            // Not one of the scenario's flows: a stable index of its own.
            None => {
                self.noise_of.len()
                    + edge * (self.mesh.workloads.len() + 1)
                    + backend.map_or(0, |b| b + 1)
            }
        }
    }

    /// The series key for a report of edge `edge`.
    #[allow(clippy::too_many_arguments)]
    fn key(
        &self,
        edge: usize,
        service: SvcId,
        reporter: Reporter,
        backend: Option<WlId>,
        mtls: bool,
        code: Code,
        flag_bits: u32,
    ) -> SeriesKey {
        let mesh = self.mesh;
        let source = match mesh.edges[edge].source {
            Caller::Workload(w) if mesh.has_sidecar(w) => Some(w),
            _ => None,
        };
        SeriesKey {
            reporter,
            source,
            destination: backend.filter(|b| mesh.has_sidecar(*b)),
            service,
            mtls,
            protocol: mesh.services[service].protocol,
            code,
            flags: flag_bits,
        }
    }

    /// The three outcome series of a reporter, if it reports; client and
    /// server errors only where they can happen.
    #[allow(clippy::too_many_arguments)]
    fn outcomes(
        &mut self,
        edge: usize,
        service: SvcId,
        reporter: Reporter,
        backend: Option<WlId>,
        mtls: bool,
        reports: bool,
        always: bool,
    ) -> Outcomes {
        if !reports {
            return [NONE; 3];
        }
        let mesh = self.mesh;
        let e = &mesh.edges[edge];
        let protocol = mesh.services[service].protocol;
        let error_fault = backend.is_some_and(|wl| {
            mesh.faults
                .iter()
                .any(|f| f.workload == wl && matches!(f.kind, FaultKind::ServerErrors(_)))
        });
        let present = [
            true,
            e.errors.client > 0.0,
            e.errors.server > 0.0 || error_fault,
        ];
        let mut out = [NONE; 3];
        for (i, p) in present.into_iter().enumerate() {
            if p {
                let key = self.key(
                    edge,
                    service,
                    reporter,
                    backend,
                    mtls,
                    Code::outcome(protocol, i),
                    0,
                );
                out[i] = self.variant(key, always);
            }
        }
        out
    }

    fn caller_proxy(&self, edge: usize) -> Option<WlId> {
        match self.mesh.edges[edge].source {
            Caller::Workload(w) if self.mesh.has_sidecar(w) => Some(w),
            _ => None,
        }
    }

    fn caller_workload(&self, edge: usize) -> Option<WlId> {
        match self.mesh.edges[edge].source {
            Caller::Workload(w) => Some(w),
            Caller::Unknown => None,
        }
    }

    fn push(&mut self, edge: usize, backend: Option<WlId>, share: f64, member: Member, kind: Kind) {
        if share <= 0.0 {
            return;
        }
        let noise = self.noise(edge, backend);
        self.flows.push(Flow {
            edge,
            caller: self.caller_workload(edge),
            backend,
            share,
            noise,
            member,
            kind,
        });
    }

    /// The effective PeerAuthentication mode of workload `wl` on `port`.
    fn peer_mode(&self, wl: WlId, port: u16) -> PeerMode {
        let mesh = self.mesh;
        let ns = &mesh.namespaces[mesh.workloads[wl].namespace].name;
        let labels = pod_labels(mesh, wl);
        let pas = &self.config.peer_authentications;
        let workload = pas.iter().find(|pa| {
            &pa.namespace == ns
                && pa.spec.selector.as_ref().is_some_and(|s| {
                    !s.match_labels.is_empty() && selects(&s.match_labels, &labels)
                })
        });
        if let Some(pa) = workload {
            let port_mode = pa
                .spec
                .port_level_mtls
                .get(&port.to_string())
                .and_then(|m| peer_mode(&m.mode));
            if let Some(mode) =
                port_mode.or_else(|| pa.spec.mtls.as_ref().and_then(|m| peer_mode(&m.mode)))
            {
                return mode;
            }
        }
        let level = |namespace: &str| {
            pas.iter()
                .find(|pa| {
                    pa.namespace == namespace
                        && pa
                            .spec
                            .selector
                            .as_ref()
                            .is_none_or(|s| s.match_labels.is_empty())
                })
                .and_then(|pa| pa.spec.mtls.as_ref().and_then(|m| peer_mode(&m.mode)))
        };
        level(ns)
            .or_else(|| level(ROOT_NAMESPACE))
            .unwrap_or(PeerMode::Permissive)
    }

    /// How a connection to `backend` of `service` ends; `client_tls` is the
    /// caller's DestinationRule mode (`None`: auto mTLS; callers without a
    /// sidecar never originate mTLS).
    fn connection(
        &self,
        proxy: bool,
        client_tls: Option<&str>,
        backend: Option<WlId>,
        service: SvcId,
    ) -> Connection {
        let Some(b) = backend else {
            return Connection::Accepted { mtls: false };
        };
        let port = self.mesh.services[service].port;
        let sidecar = self.mesh.has_sidecar(b);
        let mode = sidecar.then(|| self.peer_mode(b, port));
        let takes_mtls = mode.is_some_and(|m| m != PeerMode::Disable);
        let takes_plain = mode.is_none_or(|m| m != PeerMode::Strict);
        let sends_mtls = proxy
            && match client_tls {
                Some("DISABLE") => false,
                Some("ISTIO_MUTUAL") => true,
                _ => takes_mtls,
            };
        match (sends_mtls, takes_mtls, takes_plain) {
            (true, true, _) => Connection::Accepted { mtls: true },
            (true, false, _) => Connection::Refused(flags::UF),
            (false, _, true) => Connection::Accepted { mtls: false },
            (false, _, false) => Connection::Refused(flags::UC),
        }
    }

    /// The VirtualService that routes `caller`'s calls to `service`.
    fn virtual_service(&self, caller: WlId, service: SvcId) -> Option<&Object<VirtualServiceSpec>> {
        let mesh = self.mesh;
        let caller_ns = &mesh.namespaces[mesh.workloads[caller].namespace].name;
        let fqdn = mesh.service_fqdn(service);
        self.config
            .virtual_services
            .iter()
            .enumerate()
            .filter(|(_, vs)| {
                applies_to_sidecars(&vs.spec.gateways)
                    && vs.visible_in(&vs.spec.export_to, caller_ns)
            })
            .filter_map(|(i, vs)| {
                let best = vs
                    .spec
                    .hosts
                    .iter()
                    .map(|h| host_match(&expand_host(mesh, h, &vs.namespace), &fqdn))
                    .max()
                    .unwrap_or(0);
                (best > 0).then_some((i, vs, best))
            })
            .min_by_key(|(i, vs, best)| (u8::MAX - best, &vs.namespace != caller_ns, *i))
            .map(|(_, vs, _)| vs)
    }

    /// The DestinationRule for `caller`'s calls to `service`: the caller's
    /// namespace, then the service's, then the root namespace.
    fn destination_rule(
        &self,
        caller: WlId,
        service: SvcId,
    ) -> Option<&Object<DestinationRuleSpec>> {
        let mesh = self.mesh;
        let caller_ns = &mesh.namespaces[mesh.workloads[caller].namespace].name;
        let svc_ns = &mesh.namespaces[mesh.services[service].namespace].name;
        let fqdn = mesh.service_fqdn(service);
        let labels = pod_labels(mesh, caller);
        self.config
            .destination_rules
            .iter()
            .enumerate()
            .filter(|(_, dr)| {
                dr.visible_in(&dr.spec.export_to, caller_ns)
                    && dr.spec.workload_selector.as_ref().is_none_or(|s| {
                        &dr.namespace == caller_ns && selects(&s.match_labels, &labels)
                    })
            })
            .filter_map(|(i, dr)| {
                let m = host_match(&expand_host(mesh, &dr.spec.host, &dr.namespace), &fqdn);
                (m > 0).then_some((i, dr, m))
            })
            .min_by_key(|(i, dr, m)| {
                let place = if &dr.namespace == caller_ns {
                    0
                } else if &dr.namespace == svc_ns {
                    1
                } else if dr.namespace == ROOT_NAMESPACE {
                    2
                } else {
                    3
                };
                (place, u8::MAX - m, *i)
            })
            .map(|(_, dr, _)| dr)
    }

    /// The cluster `caller` reaches for `service` (and `subset`), or the
    /// answer its proxy gives when there is none.
    fn cluster(
        &mut self,
        caller: WlId,
        service: SvcId,
        subset: &str,
    ) -> Result<(usize, Option<String>), Code> {
        let key = (caller, service, subset.to_owned());
        let protocol = self.mesh.services[service].protocol;
        let dr = self.destination_rule(caller, service);
        let top = dr.and_then(|d| d.spec.traffic_policy.as_ref());
        let (selected, policy): (Option<Labels>, Option<&TrafficPolicy>) = if subset.is_empty() {
            (None, None)
        } else {
            let Some(s) = dr.and_then(|d| d.spec.subsets.iter().find(|s| s.name == subset)) else {
                return Err(Code::answer(protocol, 503));
            };
            (
                Some(
                    s.labels
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                ),
                s.traffic_policy.as_ref(),
            )
        };
        let tls = policy
            .and_then(|p| p.tls.as_ref())
            .or(top.and_then(|p| p.tls.as_ref()))
            .map(|t| t.mode.clone());
        let outlier = policy
            .and_then(|p| p.outlier_detection.as_ref())
            .or(top.and_then(|p| p.outlier_detection.as_ref()))
            .and_then(OutlierPolicy::from);
        if let Some(&i) = self.cluster_of.get(&key) {
            return Ok((i, tls));
        }
        let mesh = self.mesh;
        let svc = &mesh.services[service];
        let backends: Vec<(Option<WlId>, f64, u32)> = if svc.backends.is_empty() {
            vec![(None, 1.0, 1)]
        } else {
            svc.backends
                .iter()
                .filter(|(wl, _)| {
                    selected.as_ref().is_none_or(|want| {
                        let labels = pod_labels(mesh, *wl);
                        want.iter()
                            .all(|(k, v)| labels.iter().any(|(lk, lv)| lk == k && lv == v))
                    })
                })
                .map(|(wl, w)| (Some(*wl), *w, mesh.workloads[*wl].replicas.max(1)))
                .collect()
        };
        self.clusters.push(Cluster {
            client_pods: mesh.workloads[caller].replicas.max(1),
            backends,
            outlier: outlier.filter(|_| svc.protocol != Protocol::Tcp && !svc.backends.is_empty()),
        });
        let i = self.clusters.len() - 1;
        self.cluster_of.insert(key, i);
        Ok((i, tls))
    }

    fn route_policy(&mut self, route: &HttpRoute, protocol: Protocol) -> Option<usize> {
        let mut policy = RoutePolicy::default();
        if let Some(fault) = &route.fault {
            if let Some(d) = &fault.delay
                && let Some(delay) = d.fixed_delay
            {
                let pct = d
                    .percentage
                    .map(|p| p.value)
                    .or(d.percent.map(|p| p as f64))
                    .unwrap_or(0.0);
                if pct > 0.0 {
                    policy.delay = Some(((pct / 100.0).min(1.0), delay.0 * 1000.0));
                }
            }
            if let Some(a) = &fault.abort {
                let pct = a.percentage.map_or(0.0, |p| p.value);
                let code = match (
                    a.grpc_status.as_deref().and_then(grpc_status),
                    a.http_status,
                ) {
                    (Some(g), _) => Some(Code {
                        http: 200,
                        grpc: Some(g),
                    }),
                    (None, Some(h)) => Some(Code::answer(protocol, h)),
                    (None, None) => None,
                };
                if let (true, Some(code)) = (pct > 0.0, code) {
                    policy.abort = Some(((pct / 100.0).min(1.0), code));
                }
            }
        }
        if !policy.faulty() {
            policy.timeout_s = route.timeout.map(|s| s.0).filter(|s| *s > 0.0);
            policy.retry = route.retries.as_ref().and_then(|r| {
                (r.attempts > 0).then(|| RetryPolicy {
                    attempts: r.attempts.clamp(0, i64::from(MAX_RETRIES)) as u32,
                    per_try_s: r.per_try_timeout.map(|s| s.0).filter(|s| *s > 0.0),
                    on: RetryOn::parse(r.retry_on.as_deref().unwrap_or(DEFAULT_RETRY_ON), protocol),
                    backoff_ms: r.backoff.map_or(RETRY_BACKOFF_MS, |b| b.0 * 1000.0),
                })
            });
        }
        if policy == RoutePolicy::default() {
            return None;
        }
        self.routes.push(policy);
        Some(self.routes.len() - 1)
    }

    /// The service a route's destination host names, seen from namespace `ns`.
    fn destination_service(&self, d: &Destination, ns: &str) -> Option<SvcId> {
        self.by_host
            .get(&expand_host(self.mesh, &d.host, ns))
            .copied()
    }

    fn edge(&mut self, edge: usize) {
        let mesh = self.mesh;
        let e = &mesh.edges[edge];
        let service = e.service;
        let protocol = mesh.services[service].protocol;
        let Some(caller) = self.caller_proxy(edge) else {
            self.unproxied(edge);
            return;
        };
        let vs = if mesh.is_gateway(caller) {
            None
        } else {
            self.virtual_service(caller, service).cloned()
        };
        if protocol == Protocol::Tcp {
            let route = vs.as_ref().and_then(|vs| {
                vs.spec
                    .tcp
                    .iter()
                    .find(|r| {
                        r.matches.is_empty()
                            || r.matches.iter().any(|m| self.l4_match(m, caller, service))
                    })
                    .map(|r| (vs.namespace.clone(), r.route.clone()))
            });
            match route {
                Some((ns, dests)) => self.split(edge, caller, 1.0, None, &dests, &ns),
                None => self.send(edge, caller, 1.0, None, service, ""),
            }
            return;
        }
        let Some(vs) = vs.filter(|vs| !vs.spec.http.is_empty()) else {
            self.send(edge, caller, 1.0, None, service, "");
            return;
        };
        // Each request class takes the first route that matches it.
        let classes = mesh.request_classes(edge);
        let total: f64 = classes.iter().map(|c| c.weight).sum();
        let mut taken: Vec<(Option<usize>, f64)> = Vec::new();
        for class in &classes {
            let route = vs.spec.http.iter().position(|r| {
                r.matches.is_empty()
                    || r.matches
                        .iter()
                        .any(|m| self.http_match(m, class, caller, service))
            });
            match taken.iter_mut().find(|(r, _)| *r == route) {
                Some((_, w)) => *w += class.weight,
                None => taken.push((route, class.weight)),
            }
        }
        for (route, weight) in taken {
            let share = if total > 0.0 { weight / total } else { 0.0 };
            match route {
                Some(r) => self.http_route(edge, caller, share, &vs.spec.http[r], &vs.namespace),
                None => self.local(
                    edge,
                    share,
                    Code::answer(protocol, 404),
                    flags::NR,
                    LOCAL_REPLY_MS,
                    0.0,
                ),
            }
        }
    }

    /// Calls from outside the mesh or from a workload without a sidecar:
    /// no client-side routing, the scenario's spread, plain text.
    fn unproxied(&mut self, edge: usize) {
        let mesh = self.mesh;
        let e = &mesh.edges[edge];
        let svc = &mesh.services[e.service];
        let spread: Vec<(Option<WlId>, f64)> = if svc.backends.is_empty() {
            vec![(None, 1.0)]
        } else {
            let total: f64 = svc.backends.iter().map(|(_, w)| w).sum();
            svc.backends
                .iter()
                .map(|(wl, w)| (Some(*wl), if total > 0.0 { w / total } else { 0.0 }))
                .collect()
        };
        for (backend, share) in spread {
            if let Connection::Accepted { mtls } = self.connection(false, None, backend, e.service)
            {
                self.accepted(
                    edge,
                    e.service,
                    backend,
                    share,
                    Member::Fixed,
                    mtls,
                    None,
                    false,
                );
            }
        }
    }

    fn local(
        &mut self,
        edge: usize,
        share: f64,
        code: Code,
        flag_bits: u32,
        latency_ms: f64,
        body: f64,
    ) {
        let service = self.mesh.edges[edge].service;
        let key = self.key(
            edge,
            service,
            Reporter::Source,
            None,
            false,
            code,
            flag_bits,
        );
        let variant = self.variant(key, false);
        self.push(
            edge,
            None,
            share,
            Member::Fixed,
            Kind::Local {
                variant,
                latency_ms,
                body,
            },
        );
    }

    fn http_route(&mut self, edge: usize, caller: WlId, share: f64, route: &HttpRoute, ns: &str) {
        let protocol = self.mesh.services[self.mesh.edges[edge].service].protocol;
        if let Some(direct) = &route.direct_response {
            self.local(
                edge,
                share,
                Code::answer(protocol, direct.status),
                0,
                LOCAL_REPLY_MS,
                0.0,
            );
            return;
        }
        if let Some(redirect) = &route.redirect {
            let code = redirect.redirect_code.unwrap_or(301);
            self.local(
                edge,
                share,
                Code::answer(protocol, code),
                0,
                LOCAL_REPLY_MS,
                0.0,
            );
            return;
        }
        let policy = self.route_policy(route, protocol);
        let mut share = share;
        if let Some(p) = policy.map(|i| self.routes[i])
            && let Some((pa, code)) = p.abort
        {
            // Aborted before any upstream is picked: the caller's proxy
            // answers, independently of the delay.
            let (pd, delay) = p.delay.unwrap_or((0.0, 0.0));
            self.local(
                edge,
                share * pa * (1.0 - pd),
                code,
                flags::FI,
                LOCAL_REPLY_MS,
                FAULT_BODY,
            );
            self.local(
                edge,
                share * pa * pd,
                code,
                flags::FI | flags::DI,
                delay + LOCAL_REPLY_MS,
                FAULT_BODY,
            );
            share *= 1.0 - pa;
        }
        self.split(edge, caller, share, policy, &route.route, ns);
        // Mirrors copy what is forwarded.
        let mut mirrors: Vec<(Destination, f64)> = route
            .mirrors
            .iter()
            .map(|m| {
                (
                    m.destination.clone(),
                    m.percentage.map_or(100.0, |p| p.value),
                )
            })
            .collect();
        if let Some(m) = &route.mirror {
            let pct = route
                .mirror_percentage
                .map(|p| p.value)
                .or(route.mirror_percent.map(f64::from))
                .unwrap_or(100.0);
            mirrors.push((m.clone(), pct));
        }
        for (dest, pct) in mirrors {
            self.mirror(
                edge,
                caller,
                share * (pct / 100.0).clamp(0.0, 1.0),
                &dest,
                ns,
            );
        }
    }

    /// Splits `share` of the edge over weighted destinations.
    fn split(
        &mut self,
        edge: usize,
        caller: WlId,
        share: f64,
        policy: Option<usize>,
        dests: &[super::config::RouteDestination],
        ns: &str,
    ) {
        let protocol = self.mesh.services[self.mesh.edges[edge].service].protocol;
        let weights: Vec<f64> = if dests.len() == 1 {
            vec![1.0]
        } else {
            dests.iter().map(|d| d.weight.max(0) as f64).collect()
        };
        let total: f64 = weights.iter().sum();
        for (d, w) in dests.iter().zip(weights) {
            let part = if total > 0.0 {
                w / total
            } else {
                1.0 / dests.len() as f64
            };
            match self.destination_service(&d.destination, ns) {
                Some(svc) => self.send(
                    edge,
                    caller,
                    share * part,
                    policy,
                    svc,
                    &d.destination.subset,
                ),
                None => self.local(
                    edge,
                    share * part,
                    Code::answer(protocol, 503),
                    flags::NC,
                    LOCAL_REPLY_MS,
                    0.0,
                ),
            }
        }
    }

    /// Sends `share` of the edge's requests to `service` (`subset`) under
    /// route policy `policy`.
    fn send(
        &mut self,
        edge: usize,
        caller: WlId,
        share: f64,
        policy: Option<usize>,
        service: SvcId,
        subset: &str,
    ) {
        if share <= 0.0 {
            return;
        }
        let protocol = self.mesh.services[service].protocol;
        let (cluster, tls) = match self.cluster(caller, service, subset) {
            Ok(c) => c,
            Err(code) => {
                self.local(edge, share, code, flags::NC, LOCAL_REPLY_MS, 0.0);
                return;
            }
        };
        let c = self.clusters[cluster].clone();
        if c.backends.is_empty() {
            self.local(
                edge,
                share,
                Code::answer(protocol, 503),
                flags::UH,
                LOCAL_REPLY_MS,
                UH_BODY,
            );
            return;
        }
        let dynamic = c.outlier.is_some();
        let total: f64 = c.backends.iter().map(|b| b.1).sum();
        for (i, &(backend, weight, _)) in c.backends.iter().enumerate() {
            let (member, part) = if dynamic {
                (Member::Backend { cluster, index: i }, share)
            } else {
                let w = if total > 0.0 { weight / total } else { 0.0 };
                (Member::Fixed, share * w)
            };
            match self.connection(true, tls.as_deref(), backend, service) {
                Connection::Accepted { mtls } => {
                    self.accepted(edge, service, backend, part, member, mtls, policy, true);
                }
                Connection::Refused(reason) => {
                    let key = self.key(
                        edge,
                        service,
                        Reporter::Source,
                        None,
                        false,
                        Code::answer(protocol, 503),
                        0,
                    );
                    let retried =
                        policy.is_some_and(|p| refused_retries(&self.routes[p], reason) > 0);
                    let bits = reason | if retried { flags::URX } else { 0 };
                    if protocol == Protocol::Tcp {
                        let key = SeriesKey {
                            code: Code::TCP,
                            flags: reason,
                            ..key
                        };
                        let src = self.variant(key, false);
                        self.push(edge, backend, part, member, Kind::TcpRefused { src });
                    } else {
                        let variant = self.variant(SeriesKey { flags: bits, ..key }, false);
                        self.push(
                            edge,
                            backend,
                            part,
                            member,
                            Kind::Refused {
                                route: policy,
                                reason,
                                variant,
                            },
                        );
                    }
                }
            }
        }
        if dynamic {
            let key = self.key(
                edge,
                service,
                Reporter::Source,
                None,
                false,
                Code::answer(protocol, 503),
                flags::UH,
            );
            let variant = self.variant(key, false);
            self.push(
                edge,
                None,
                share,
                Member::NoHealthy { cluster },
                Kind::Local {
                    variant,
                    latency_ms: LOCAL_REPLY_MS,
                    body: UH_BODY,
                },
            );
        }
    }

    /// A flow answered by `backend` over an accepted connection.
    #[allow(clippy::too_many_arguments)]
    fn accepted(
        &mut self,
        edge: usize,
        service: SvcId,
        backend: Option<WlId>,
        share: f64,
        member: Member,
        mtls: bool,
        policy: Option<usize>,
        proxy: bool,
    ) {
        if share <= 0.0 {
            return;
        }
        let mesh = self.mesh;
        let dst_reports = traffic::destination_reports(mesh, backend);
        if mesh.services[service].protocol == Protocol::Tcp {
            let tcp = |c: &mut Self, reporter| {
                let key = c.key(edge, service, reporter, backend, mtls, Code::TCP, 0);
                c.variant(key, true)
            };
            let src = if proxy {
                tcp(self, Reporter::Source)
            } else {
                NONE
            };
            let dst = if dst_reports {
                tcp(self, Reporter::Destination)
            } else {
                NONE
            };
            self.push(edge, backend, share, member, Kind::Tcp { src, dst });
            return;
        }
        let shaped = policy.filter(|p| self.routes[*p].shapes());
        let Some(route) = shaped else {
            let src = self.outcomes(edge, service, Reporter::Source, backend, mtls, proxy, true);
            let dst = self.outcomes(
                edge,
                service,
                Reporter::Destination,
                backend,
                mtls,
                dst_reports,
                true,
            );
            self.push(edge, backend, share, member, Kind::Plain { src, dst });
            return;
        };
        let protocol = mesh.services[service].protocol;
        let ut = Code::answer(protocol, 504);
        let src_specs: [(Code, u32, bool); 9] = [
            (Code::outcome(protocol, 0), 0, true),
            (Code::outcome(protocol, 1), 0, false),
            (Code::outcome(protocol, 2), 0, false),
            (Code::outcome(protocol, 2), flags::URX, false),
            (ut, flags::UT, false),
            (ut, flags::UT | flags::URX, false),
            (Code::outcome(protocol, 0), flags::DI, false),
            (Code::outcome(protocol, 1), flags::DI, false),
            (Code::outcome(protocol, 2), flags::DI, false),
        ];
        let mut src = [NONE; 9];
        for (i, (code, bits, always)) in src_specs.into_iter().enumerate() {
            let key = self.key(edge, service, Reporter::Source, backend, mtls, code, bits);
            src[i] = self.variant(key, always);
        }
        let mut dst = [NONE; 4];
        if dst_reports {
            let specs: [(Code, u32, bool); 4] = [
                (Code::outcome(protocol, 0), 0, true),
                (Code::outcome(protocol, 1), 0, false),
                (Code::outcome(protocol, 2), 0, false),
                (
                    Code {
                        http: 0,
                        grpc: None,
                    },
                    flags::DC,
                    false,
                ),
            ];
            for (i, (code, bits, always)) in specs.into_iter().enumerate() {
                let key = self.key(
                    edge,
                    service,
                    Reporter::Destination,
                    backend,
                    mtls,
                    code,
                    bits,
                );
                dst[i] = self.variant(key, always);
            }
        }
        self.push(
            edge,
            backend,
            share,
            member,
            Kind::Routed { route, src, dst },
        );
    }

    /// Mirror copies of `share` of the edge's requests to `dest`.
    fn mirror(&mut self, edge: usize, caller: WlId, share: f64, dest: &Destination, ns: &str) {
        if share <= 0.0 {
            return;
        }
        let Some(service) = self.destination_service(dest, ns) else {
            return;
        };
        let Ok((cluster, tls)) = self.cluster(caller, service, &dest.subset) else {
            return;
        };
        let c = self.clusters[cluster].clone();
        let total: f64 = c.backends.iter().map(|b| b.1).sum();
        for &(backend, weight, _) in &c.backends {
            let part = if total > 0.0 {
                share * weight / total
            } else {
                0.0
            };
            let Connection::Accepted { mtls } =
                self.connection(true, tls.as_deref(), backend, service)
            else {
                continue;
            };
            if !traffic::destination_reports(self.mesh, backend) || part <= 0.0 {
                continue;
            }
            let dst = self.outcomes(
                edge,
                service,
                Reporter::Destination,
                backend,
                mtls,
                true,
                true,
            );
            self.push(edge, backend, part, Member::Fixed, Kind::Mirror { dst });
        }
    }

    fn http_match(
        &self,
        m: &HttpMatch,
        class: &RequestClass,
        caller: WlId,
        service: SvcId,
    ) -> bool {
        let mesh = self.mesh;
        let svc = &mesh.services[service];
        let caller_ns = &mesh.namespaces[mesh.workloads[caller].namespace].name;
        let svc_ns = &mesh.namespaces[svc.namespace].name;
        let authority = if caller_ns == svc_ns {
            format!("{}:{}", svc.name, svc.port)
        } else {
            format!("{}.{svc_ns}:{}", svc.name, svc.port)
        };
        let ignored = ["uri", "scheme", "method", "authority"];
        m.uri
            .as_ref()
            .is_none_or(|s| s.matches(Some(&class.path), m.ignore_uri_case))
            && m.method
                .as_ref()
                .is_none_or(|s| s.matches(Some(&class.method), false))
            && m.scheme
                .as_ref()
                .is_none_or(|s| s.matches(Some("http"), false))
            && m.authority
                .as_ref()
                .is_none_or(|s| s.matches(Some(&authority), false))
            && m.headers
                .iter()
                .filter(|(n, _)| !ignored.contains(&n.as_str()))
                .all(|(n, s)| s.matches(class.header(&n.to_ascii_lowercase()), false))
            && m.without_headers
                .iter()
                .all(|(n, s)| !s.matches(class.header(&n.to_ascii_lowercase()), false))
            && m.query_params.is_empty()
            && m.port.is_none_or(|p| p == svc.port)
            && selects(&m.source_labels, &pod_labels(mesh, caller))
            && m.source_namespace.as_ref().is_none_or(|n| n == caller_ns)
            && applies_to_sidecars(&m.gateways)
    }

    fn l4_match(&self, m: &L4Match, caller: WlId, service: SvcId) -> bool {
        let mesh = self.mesh;
        let caller_ns = &mesh.namespaces[mesh.workloads[caller].namespace].name;
        m.port.is_none_or(|p| p == mesh.services[service].port)
            && selects(&m.source_labels, &pod_labels(mesh, caller))
            && m.source_namespace.as_ref().is_none_or(|n| n == caller_ns)
            && applies_to_sidecars(&m.gateways)
    }
}

/// Body of Envoy's fault-filter abort ("fault filter abort"), in bytes.
const FAULT_BODY: f64 = 18.0;
/// Body of Envoy's "no healthy upstream", in bytes.
const UH_BODY: f64 = 19.0;
