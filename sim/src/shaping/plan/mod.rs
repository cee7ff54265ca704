//! A compiled traffic plan: which share of each edge's requests takes which
//! path (route, Envoy cluster, workload) under a [`Config`], with the
//! policies of the caller's proxy, and what each proxy reports for it.
//!
//! [`Plan::compile`] does the routing once per configuration (`compile.rs`:
//! which objects apply, matches, subsets, TLS); [`Plan::evaluate`] turns
//! it into rates, outcomes and latencies at an instant (the scenario's
//! waves, noise and faults, outlier ejections, and the route policies'
//! outcome model in `policy.rs`); [`Plan::sweep`] runs outlier detection's
//! ejection sweeps.
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
//!   Gateway API routes attached to a Service take part as the
//!   VirtualServices istiod makes of them (`shaping::gateway`); one of
//!   them in the caller's namespace comes before any VirtualService for
//!   the host (Istio's "consumer override"), otherwise the usual order
//!   applies (so an older VirtualService wins). A backendRef without a
//!   Service: 500 `NC`.
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

mod compile;
mod policy;

use super::config::OutlierDetection;
use crate::metrics::Reporter;
use crate::model::{Dist, ErrorMix, Latency, Mesh, Protocol, SvcId, WlId};
use crate::traffic::{self, served_at, wave};

pub use compile::pod_labels;
pub use policy::RETRY_BACKOFF_MS;
use policy::{RoutePolicy, RoutedSeries, refused_retries, routed_outcomes, try_model};

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
/// Envoy's longest ejection (`max_ejection_time`'s default), in seconds.
pub const MAX_EJECTION_S: f64 = 300.0;
/// Expected runs below this in an interval count as none (the run count
/// starts again, as Envoy's consecutive counter does after a success).
pub const NEGLIGIBLE_RUNS: f64 = 1e-6;
/// Relative difference under which a workload's served traffic counts as
/// the scenario's (so an equivalent configuration changes no number).
const SAME_TRAFFIC: f64 = 1e-9;
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
    /// Per calling workload (outside callers last): its flows.
    by_caller: Vec<Vec<usize>>,
    /// The workloads' traffic factors when they do not change over time
    /// (no retries, no outlier detection).
    static_factors: Option<Vec<f64>>,
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

impl Plan {
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

    /// Every flow's state at `t`: rates with the wave, the noise and the
    /// calling workload's traffic factor.
    fn snapshot(&self, mesh: &Mesh, t: f64, ejections: &Ejections) -> Vec<FlowNow> {
        let mut now = self.unit_flows(mesh, t, ejections);
        let computed;
        let factor: &[f64] = match &self.static_factors {
            Some(f) => f,
            None => {
                computed = self.factors(mesh, &now);
                &computed
            }
        };
        let wave = wave(mesh, t);
        for (f, n) in self.flows.iter().zip(now.iter_mut()) {
            let k = f.caller.map_or(1.0, |c| factor[c]);
            let rate = n.rate * wave * traffic::noise(mesh, f.noise, 1, t);
            n.rate = (if k == 1.0 { rate } else { rate * k }).max(0.0);
        }
        now
    }

    /// Every flow's state at `t` with rates before the wave, the noise and
    /// the traffic factors.
    fn unit_flows(&self, mesh: &Mesh, t: f64, ejections: &Ejections) -> Vec<FlowNow> {
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
        now
    }

    /// Each workload's traffic factor: the requests reaching it now (flows
    /// at `now`, before waves and noise) over the scenario's, callers first,
    /// since a workload's calls scale with what it serves.
    fn factors(&self, mesh: &Mesh, now: &[FlowNow]) -> Vec<f64> {
        let workloads = mesh.workloads.len();
        let mut factor = vec![1.0; workloads];
        let mut served = vec![0.0; workloads];
        let visit = |caller: usize, factor: &[f64], served: &mut [f64]| {
            let k = if caller < workloads {
                factor[caller]
            } else {
                1.0
            };
            for &i in &self.by_caller[caller] {
                let f = &self.flows[i];
                if let (Some(b), true) = (f.backend, reaches_app(&f.kind)) {
                    served[b] += now[i].rate * k * now[i].tries;
                }
            }
        };
        visit(workloads, &factor, &mut served);
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
            visit(w, &factor, &mut served);
        }
        factor
    }

    /// What every proxy reports at Unix time `t`: contributions to the
    /// series of [`Plan::variants`], per second.
    pub fn evaluate(&self, mesh: &Mesh, t: f64, ejections: &Ejections, out: &mut Vec<Emit>) {
        let now = self.snapshot(mesh, t, ejections);
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
                    snapshots.push((mid, self.snapshot(mesh, mid, ejections)));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_written_in_envoy_s_order() {
        assert_eq!(flags_label(0), "-");
        assert_eq!(flags_label(flags::DI | flags::UT), "UT,DI");
        assert_eq!(flags_label(flags::URX | flags::UC), "UC,URX");
        assert_eq!(flags_label(flags::FI | flags::DI), "DI,FI");
    }

    #[test]
    fn grpc_callers_get_proxy_answers_as_grpc_statuses() {
        let grpc = |http| Code::answer(Protocol::Grpc, http).grpc;
        assert_eq!(grpc(404), Some(12));
        assert_eq!(grpc(503), Some(14));
        assert_eq!(grpc(504), Some(14));
        assert_eq!(grpc(500), Some(2));
        assert_eq!(Code::answer(Protocol::Grpc, 503).http, 200);
        assert_eq!(
            Code::answer(Protocol::Http, 503),
            Code {
                http: 503,
                grpc: None
            }
        );
        assert_eq!(grpc_status("UNAVAILABLE"), Some(14));
        assert_eq!(grpc_status("deadline_exceeded"), Some(4));
        assert_eq!(grpc_status("16"), Some(16));
        assert_eq!(grpc_status("17"), None);
        assert_eq!(grpc_status("NOPE"), None);
    }

    #[test]
    fn expected_runs_count_runs_of_consecutive_failures() {
        assert_eq!(expected_runs(2.0, 0.5, 3), 0.0);
        assert_eq!(expected_runs(100.0, 0.0, 3), 0.0);
        // Everything fails: one run.
        assert_eq!(expected_runs(100.0, 1.0, 3), 1.0);
        // Three tries, each failing with p: the one run is all three.
        assert!((expected_runs(3.0, 0.5, 3) - 0.125).abs() < 1e-12);
        // Four tries: runs start at try 1, or at try 2 after a success.
        assert!((expected_runs(4.0, 0.5, 3) - (0.125 + 0.5 * 0.125)).abs() < 1e-12);
    }
}
