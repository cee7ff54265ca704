//! Builds traces that follow the mesh's call graph and its traffic model: a
//! trace enters through an entry edge, picks backends by the services'
//! weights (or by the routing of a traffic-management [`Plan`]), follows
//! each workload's outgoing calls in proportion to their rates, and takes
//! latencies, errors and faults from [`crate::traffic`]. Under a plan,
//! calls the caller's proxy answers itself (no route, injected aborts,
//! refused connections) end at its client span with their code and
//! response flags, injected delays lengthen the client span (`DI`), and a
//! request timeout cuts it (504 `UT`). Retries, mirror copies and outlier
//! ejections are not traced.

use std::collections::HashMap;

use super::{Process, Span, SpanKind, SpanLog, Tag, Trace};
use crate::model::{Caller, Latency, Mesh, Protocol, WlId, WorkloadKind};
use crate::rng::{Rng, mix};
use crate::shaping::Plan;
use crate::shaping::plan::{Code, TracePath, flags, flags_label};
use crate::traffic::{Flow, FlowKey, flow_at, flow_keys};

/// Chance that a server error of a child call becomes a server error of the
/// caller too (so the deepest failing span is the likely root cause).
pub const ERROR_PROPAGATION: f64 = 0.7;
/// Deepest call chain followed (guards against cycles in the call graph).
pub const MAX_DEPTH: usize = 12;
/// Most spans in one trace.
pub const MAX_SPANS: usize = 2_000;
/// The `istio.mesh_id` tag value (Istio's default mesh ID is the trust domain).
pub const MESH_ID: &str = "cluster.local";
/// Shortest span in microseconds.
const MIN_SPAN_US: u64 = 20;
/// Longest sampled latency in microseconds (10 minutes).
const MAX_LATENCY_US: f64 = 600_000_000.0;
/// Characters of generated pod name suffixes (as Kubernetes picks them).
const POD_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// How a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// 200 / gRPC OK.
    Ok,
    /// 404 / gRPC NOT_FOUND.
    ClientError,
    /// 503 / gRPC UNAVAILABLE, sampled for this call.
    ServerError,
    /// 503 / gRPC UNAVAILABLE because a call it made failed.
    PropagatedError,
}

impl Outcome {
    fn is_server_error(self) -> bool {
        matches!(self, Outcome::ServerError | Outcome::PropagatedError)
    }

    /// `(http.status_code, grpc.status_code)` as Envoy reports them.
    fn codes(self, protocol: Protocol) -> (i64, Option<i64>) {
        match (protocol, self) {
            (Protocol::Grpc, Outcome::Ok) => (200, Some(0)),
            (Protocol::Grpc, Outcome::ClientError) => (200, Some(5)),
            (Protocol::Grpc, _) => (200, Some(14)),
            (_, Outcome::Ok) => (200, None),
            (_, Outcome::ClientError) => (404, None),
            (_, _) => (503, None),
        }
    }

    /// The error message for the span's log and OTLP status.
    fn message(self, protocol: Protocol) -> Option<&'static str> {
        let grpc = protocol == Protocol::Grpc;
        match self {
            Outcome::Ok => None,
            Outcome::ClientError if grpc => Some("NOT_FOUND"),
            Outcome::ClientError => Some("404 Not Found"),
            Outcome::ServerError if grpc => Some("UNAVAILABLE: the service is unavailable"),
            Outcome::ServerError => Some("503 Service Unavailable"),
            Outcome::PropagatedError if grpc => Some("UNAVAILABLE: a downstream call failed"),
            Outcome::PropagatedError => Some("503 Service Unavailable: a downstream call failed"),
        }
    }
}

/// One pod of a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Pod {
    workload: WlId,
    replica: u32,
}

/// Generates traces for one mesh. Building it indexes the call graph once;
/// [`TraceGenerator::trace_at`] is then cheap and deterministic.
#[derive(Debug)]
pub struct TraceGenerator<'a> {
    mesh: &'a Mesh,
    keys: Vec<FlowKey>,
    /// Per flow: its noise index and what the caller's proxy does.
    noise: Vec<usize>,
    paths: Vec<TracePath>,
    /// Flows a trace may start with.
    entry_flows: Vec<usize>,
    /// Per workload: the flows it serves.
    flows_into: Vec<Vec<usize>>,
    /// Per workload: the edges it calls.
    edges_from: Vec<Vec<usize>>,
    /// Per edge: its flows (one per backend).
    flows_of_edge: Vec<Vec<usize>>,
}

impl<'a> TraceGenerator<'a> {
    /// Indexes `mesh`'s call graph as the scenario describes it.
    pub fn new(mesh: &'a Mesh) -> Self {
        let keys = flow_keys(mesh);
        let noise = (0..keys.len()).collect();
        let paths = vec![
            TracePath::Forwarded {
                delay: None,
                timeout_ms: None,
            };
            keys.len()
        ];
        Self::build(mesh, keys, noise, paths)
    }

    /// Indexes `mesh`'s call graph as `plan` routes it.
    pub fn with_plan(mesh: &'a Mesh, plan: &Plan) -> Self {
        let flows = plan.trace_flows();
        let keys = flows
            .iter()
            .map(|f| FlowKey {
                edge: f.edge,
                backend: f.backend,
                weight: f.share,
            })
            .collect();
        let noise = flows.iter().map(|f| f.noise).collect();
        let paths = flows.iter().map(|f| f.path).collect();
        Self::build(mesh, keys, noise, paths)
    }

    fn build(mesh: &'a Mesh, keys: Vec<FlowKey>, noise: Vec<usize>, paths: Vec<TracePath>) -> Self {
        let mut flows_into = vec![Vec::new(); mesh.workloads.len()];
        let mut flows_of_edge = vec![Vec::new(); mesh.edges.len()];
        for (i, k) in keys.iter().enumerate() {
            flows_of_edge[k.edge].push(i);
            if let Some(b) = k.backend {
                flows_into[b].push(i);
            }
        }
        let mut edges_from = vec![Vec::new(); mesh.workloads.len()];
        for (e, edge) in mesh.edges.iter().enumerate() {
            if let Caller::Workload(w) = edge.source {
                edges_from[w].push(e);
            }
        }
        let entry_flows = keys
            .iter()
            .enumerate()
            .filter(|(_, k)| {
                let edge = &mesh.edges[k.edge];
                if mesh.services[edge.service].protocol == Protocol::Tcp {
                    return false;
                }
                let caller_span = match edge.source {
                    Caller::Unknown => false,
                    Caller::Workload(w) => {
                        if !flows_into[w].is_empty() {
                            // Called by someone: not where requests enter.
                            return false;
                        }
                        mesh.has_sidecar(w)
                    }
                };
                // A trace needs a span at its entry to hang the rest on.
                caller_span || k.backend.is_some_and(|b| mesh.has_sidecar(b))
            })
            .map(|(i, _)| i)
            .collect();
        TraceGenerator {
            mesh,
            keys,
            noise,
            paths,
            entry_flows,
            flows_into,
            edges_from,
            flows_of_edge,
        }
    }

    /// The trace that starts at Unix time `time_us` (microseconds), drawn
    /// from a generator seeded by the mesh's seed, `counter` and the time.
    /// `None` when the mesh has no traffic that produces spans.
    pub fn trace_at(&self, time_us: u64, counter: u64) -> Option<Trace> {
        let seed = mix(self.mesh.seed) ^ mix(counter ^ mix(time_us.wrapping_add(1)));
        let mut b = Builder {
            g: self,
            t: time_us as f64 / 1e6,
            rng: Rng::new(seed),
            flows: HashMap::new(),
            spans: Vec::new(),
            processes: Vec::new(),
            process_index: HashMap::new(),
            request_id: String::new(),
        };
        let weights: Vec<f64> = self.entry_flows.iter().map(|&i| b.flow(i).rate).collect();
        let entry = self.entry_flows[pick_weighted(&mut b.rng, &weights)?];
        let trace_id = loop {
            let id = (u128::from(b.rng.next_u64()) << 64) | u128::from(b.rng.next_u64());
            if id != 0 {
                break id;
            }
        };
        b.request_id = uuid_like(&mut b.rng);
        let caller = match self.mesh.edges[self.keys[entry].edge].source {
            Caller::Workload(w) => Some(b.pick_pod(w)),
            Caller::Unknown => None,
        };
        b.hop(entry, None, caller, time_us, 0);
        Some(Trace {
            trace_id,
            spans: b.spans,
            processes: b.processes,
        })
    }
}

/// Index drawn with probability proportional to `weights`; `None` if they
/// sum to nothing.
fn pick_weighted(rng: &mut Rng, weights: &[f64]) -> Option<usize> {
    let total: f64 = weights.iter().filter(|w| w.is_finite() && **w > 0.0).sum();
    if total.is_nan() || total <= 0.0 {
        return None;
    }
    let mut x = rng.next_f64() * total;
    let mut last = None;
    for (i, w) in weights.iter().enumerate() {
        if !(w.is_finite() && *w > 0.0) {
            continue;
        }
        if x < *w {
            return Some(i);
        }
        x -= w;
        last = Some(i);
    }
    last
}

/// A random ID in the shape of an `x-request-id` (a UUID).
fn uuid_like(rng: &mut Rng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// `n` characters from Kubernetes' name-suffix alphabet, derived from `h`.
fn suffix(mut h: u64, n: usize) -> String {
    let mut s = String::with_capacity(n);
    for _ in 0..n {
        s.push(char::from(
            POD_ALPHABET[(h % POD_ALPHABET.len() as u64) as usize],
        ));
        h /= POD_ALPHABET.len() as u64;
    }
    s
}

/// A latency sample in microseconds: `median * exp(sigma * normal)`.
fn sample_latency_us(rng: &mut Rng, latency: Latency) -> u64 {
    let ms = latency.median_ms * (latency.sigma * rng.normal()).exp();
    let us = (ms * 1000.0).clamp(MIN_SPAN_US as f64, MAX_LATENCY_US);
    if us.is_finite() {
        us as u64
    } else {
        MIN_SPAN_US
    }
}

/// A size around `mean` bytes.
fn sample_bytes(rng: &mut Rng, mean: f64) -> i64 {
    let v = mean * (0.3 * rng.normal()).exp();
    if v.is_finite() {
        v.max(0.0).round() as i64
    } else {
        0
    }
}

/// What both spans of one call share.
#[derive(Clone)]
struct Call {
    operation: String,
    url: String,
    method: &'static str,
    protocol: Protocol,
    outcome: Outcome,
    request_size: i64,
    response_size: i64,
    /// The answer when a proxy made it (instead of the outcome's codes).
    answer: Option<Code>,
    /// Response flags (bits of [`flags`]).
    flags: u32,
}

/// The error message of an answer a proxy made, if it is an error.
fn answer_message(code: Code) -> Option<String> {
    match code.grpc {
        Some(0) => None,
        Some(g) => Some(format!("gRPC status {g}")),
        None if code.http >= 400 => Some(format!(
            "{} {}",
            code.http,
            match code.http {
                404 => "Not Found",
                500 => "Internal Server Error",
                502 => "Bad Gateway",
                503 => "Service Unavailable",
                504 => "Gateway Timeout",
                _ => "Error",
            }
        )),
        None => None,
    }
}

/// The state of one trace being built.
struct Builder<'g, 'm> {
    g: &'g TraceGenerator<'m>,
    t: f64,
    rng: Rng,
    flows: HashMap<usize, Flow>,
    spans: Vec<Span>,
    processes: Vec<Process>,
    process_index: HashMap<Pod, usize>,
    request_id: String,
}

impl Builder<'_, '_> {
    /// Flow `i` at the trace's time (computed once per trace).
    fn flow(&mut self, i: usize) -> Flow {
        let (mesh, key, t) = (self.g.mesh, self.g.keys[i], self.t);
        let noise = self.g.noise[i];
        *self
            .flows
            .entry(i)
            .or_insert_with(|| flow_at(mesh, noise, key, t))
    }

    fn pick_pod(&mut self, workload: WlId) -> Pod {
        let replicas = self.g.mesh.workloads[workload].replicas.max(1);
        Pod {
            workload,
            replica: self.rng.below(replicas as usize) as u32,
        }
    }

    fn new_span_id(&mut self) -> u64 {
        loop {
            let id = self.rng.next_u64();
            if id != 0 && !self.spans.iter().any(|s| s.span_id == id) {
                return id;
            }
        }
    }

    /// Reserves a span (filled in by [`Builder::finish_span`] once its
    /// children are known), so parents come before children.
    fn open_span(&mut self, parent: Option<u64>, kind: SpanKind, pod: Pod) -> usize {
        let span_id = self.new_span_id();
        let process = self.process(pod);
        self.spans.push(Span {
            span_id,
            parent_id: parent,
            operation: String::new(),
            kind,
            start_us: 0,
            duration_us: 0,
            tags: Vec::new(),
            logs: Vec::new(),
            process,
            error: None,
        });
        self.spans.len() - 1
    }

    fn process(&mut self, pod: Pod) -> usize {
        if let Some(i) = self.process_index.get(&pod) {
            return *i;
        }
        let mesh = self.g.mesh;
        let w = &mesh.workloads[pod.workload];
        self.processes.push(Process {
            service: format!("{}.{}", w.app, mesh.namespaces[w.namespace].name),
            tags: vec![
                Tag::str("hostname", pod_name(mesh, pod)),
                Tag::str("ip", pod_ip(mesh, pod)),
            ],
        });
        self.process_index.insert(pod, self.processes.len() - 1);
        self.processes.len() - 1
    }

    /// Follows flow `flow_idx` starting at `start_us`: the call, then the
    /// calls the backend makes while serving it. Returns when the caller
    /// sees the response and how it ended.
    fn hop(
        &mut self,
        flow_idx: usize,
        parent: Option<u64>,
        caller: Option<Pod>,
        start_us: u64,
        depth: usize,
    ) -> (u64, Outcome) {
        let mesh = self.g.mesh;
        let flow = self.flow(flow_idx);
        let edge = &mesh.edges[flow.key.edge];
        let svc = &mesh.services[edge.service];
        let (delay, timeout_ms) = match self.g.paths[flow_idx] {
            TracePath::Answered {
                code,
                flags,
                latency_ms,
            } => {
                return self.answered(
                    flow_idx,
                    parent,
                    caller,
                    start_us,
                    depth,
                    (code, flags, latency_ms),
                );
            }
            TracePath::Forwarded { delay, timeout_ms } => (delay, timeout_ms),
        };

        // Draws whose order does not depend on the children come first.
        let u = self.rng.next_f64();
        let mut outcome = if u < flow.errors.client {
            Outcome::ClientError
        } else if u < flow.errors.client + flow.errors.server {
            Outcome::ServerError
        } else {
            Outcome::Ok
        };
        let latency_us = sample_latency_us(&mut self.rng, flow.latency);
        let net_in = 100 + self.rng.below(400) as u64;
        let net_out = 100 + self.rng.below(400) as u64;
        let callee = flow.key.backend.map(|b| self.pick_pod(b));
        let call = Call {
            operation: format!("{}:{}/*", mesh.service_fqdn(edge.service), svc.port),
            url: self.url(edge.service, depth),
            method: if svc.protocol == Protocol::Grpc {
                "POST"
            } else {
                "GET"
            },
            protocol: svc.protocol,
            outcome,
            request_size: sample_bytes(&mut self.rng, edge.request_bytes),
            response_size: sample_bytes(&mut self.rng, edge.response_bytes),
            answer: None,
            flags: 0,
        };
        let peer_of_unknown = format!("192.0.2.{}", 1 + self.rng.below(254));
        // An injected delay holds the request in the caller's proxy.
        let delay_us = match delay {
            Some((share, ms)) if self.rng.next_f64() < share => (ms * 1000.0) as u64,
            _ => 0,
        };

        let client = caller
            .filter(|p| mesh.has_sidecar(p.workload))
            .map(|p| (p, self.open_span(parent, SpanKind::Client, p)));
        let client_id = client.map(|(_, i)| self.spans[i].span_id);
        let server = callee
            .filter(|p| mesh.has_sidecar(p.workload))
            .map(|p| (p, self.open_span(client_id.or(parent), SpanKind::Server, p)));
        let server_id = server.map(|(_, i)| self.spans[i].span_id);

        let server_start = start_us + delay_us + net_in;
        let own_us = latency_us.saturating_sub(net_in + net_out).max(MIN_SPAN_US);
        let mut cursor = server_start + 50 + self.rng.below(300) as u64;
        let mut child_failed = false;
        if let Some(pod) = callee.filter(|_| depth < MAX_DEPTH) {
            let inbound: f64 = self.g.flows_into[pod.workload]
                .clone()
                .into_iter()
                .map(|i| self.flow(i).rate)
                .sum();
            let child_parent = server_id.or(client_id).or(parent);
            for e in self.g.edges_from[pod.workload].clone() {
                if mesh.services[mesh.edges[e].service].protocol == Protocol::Tcp {
                    continue;
                }
                let flows = self.g.flows_of_edge[e].clone();
                let edge_rate: f64 = flows.iter().map(|i| self.flow(*i).rate).sum();
                let p = if inbound > 0.0 {
                    (edge_rate / inbound).min(1.0)
                } else {
                    1.0
                };
                let taken = self.rng.next_f64() < p;
                if !taken || self.spans.len() >= MAX_SPANS {
                    continue;
                }
                let weights: Vec<f64> = flows.iter().map(|i| self.g.keys[*i].weight).collect();
                let Some(k) = pick_weighted(&mut self.rng, &weights) else {
                    continue;
                };
                let (end, child) = self.hop(flows[k], child_parent, Some(pod), cursor, depth + 1);
                child_failed |= child.is_server_error();
                cursor = end + 30 + self.rng.below(200) as u64;
            }
        }
        if outcome == Outcome::Ok && child_failed && self.rng.next_f64() < ERROR_PROPAGATION {
            outcome = Outcome::PropagatedError;
        }
        let call = Call { outcome, ..call };
        let server_end = (server_start + own_us).max(cursor + 20);
        let client_end = server_end + net_out;

        if let Some((pod, i)) = server {
            let peer = match caller {
                Some(c) => pod_ip(mesh, c),
                None => peer_of_unknown,
            };
            let upstream = format!("inbound|{}||", svc.port);
            self.finish_span(i, pod, &call, server_start, server_end, upstream, peer);
        }
        // The caller's proxy gives up at the request timeout.
        let mut client_call = call.clone();
        if delay_us > 0 {
            client_call.flags |= flags::DI;
        }
        let mut client_end = client_end;
        if let Some(ms) = timeout_ms {
            let limit = start_us + delay_us + (ms * 1000.0) as u64;
            if client_end > limit {
                client_end = limit;
                client_call.answer = Some(Code::answer(svc.protocol, 504));
                client_call.flags |= flags::UT;
                outcome = Outcome::ServerError;
            }
        }
        if let Some((pod, i)) = client {
            let upstream = format!("outbound|{}||{}", svc.port, mesh.service_fqdn(edge.service));
            let peer = match callee {
                Some(c) => format!("{}:{}", pod_ip(mesh, c), svc.port),
                None => format!("{}:{}", external_ip(mesh, edge.service), svc.port),
            };
            self.finish_span(i, pod, &client_call, start_us, client_end, upstream, peer);
        }
        (client_end, outcome)
    }

    /// A call the caller's proxy answers itself: its client span only.
    fn answered(
        &mut self,
        flow_idx: usize,
        parent: Option<u64>,
        caller: Option<Pod>,
        start_us: u64,
        depth: usize,
        (code, flag_bits, latency_ms): (Code, u32, f64),
    ) -> (u64, Outcome) {
        let mesh = self.g.mesh;
        let edge = &mesh.edges[self.g.keys[flow_idx].edge];
        let svc = &mesh.services[edge.service];
        let server_error = code.http >= 500 || matches!(code.grpc, Some(g) if g != 0 && g != 5);
        let outcome = if server_error {
            Outcome::ServerError
        } else if answer_message(code).is_some() {
            Outcome::ClientError
        } else {
            Outcome::Ok
        };
        let call = Call {
            operation: format!("{}:{}/*", mesh.service_fqdn(edge.service), svc.port),
            url: self.url(edge.service, depth),
            method: if svc.protocol == Protocol::Grpc {
                "POST"
            } else {
                "GET"
            },
            protocol: svc.protocol,
            outcome,
            request_size: sample_bytes(&mut self.rng, edge.request_bytes),
            response_size: 0,
            answer: Some(code),
            flags: flag_bits,
        };
        let end = start_us + ((latency_ms * 1000.0) as u64).max(MIN_SPAN_US);
        if let Some(pod) = caller.filter(|p| mesh.has_sidecar(p.workload)) {
            let i = self.open_span(parent, SpanKind::Client, pod);
            let upstream = format!("outbound|{}||{}", svc.port, mesh.service_fqdn(edge.service));
            self.finish_span(i, pod, &call, start_us, end, upstream, "-".into());
        }
        (end, outcome)
    }

    /// The request URL of a call to service `svc`.
    fn url(&mut self, svc: usize, depth: usize) -> String {
        let mesh = self.g.mesh;
        let s = &mesh.services[svc];
        let path = match s.protocol {
            Protocol::Grpc => {
                let pascal: String = s
                    .name
                    .split(['-', '.'])
                    .map(|w| {
                        let mut c = w.chars();
                        c.next()
                            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                            .unwrap_or_default()
                    })
                    .collect();
                format!("/{}.v1.{pascal}/Handle", s.name.replace('-', "_"))
            }
            _ if s.external_host.is_some() => format!("/v1/requests/{}", self.rng.below(1000)),
            _ if depth == 0 => format!("/{}", s.name),
            _ => format!("/{}/{}", s.name, self.rng.below(10)),
        };
        match &s.external_host {
            Some(host) if s.port == 443 => format!("https://{host}{path}"),
            Some(host) => format!("http://{host}:{}{path}", s.port),
            None => format!(
                "http://{}.{}:{}{path}",
                s.name, mesh.namespaces[s.namespace].name, s.port
            ),
        }
    }

    /// Fills in span `i` as Envoy would report it from `pod`'s proxy.
    #[allow(clippy::too_many_arguments)]
    fn finish_span(
        &mut self,
        i: usize,
        pod: Pod,
        call: &Call,
        start_us: u64,
        end_us: u64,
        upstream_cluster: String,
        peer: String,
    ) {
        let mesh = self.g.mesh;
        let w = &mesh.workloads[pod.workload];
        let ns = &mesh.namespaces[w.namespace].name;
        let kind = self.spans[i].kind;
        let node_kind = if w.app.ends_with("gateway") {
            "router"
        } else {
            "sidecar"
        };
        let (http_code, grpc_code) = match call.answer {
            Some(code) => (i64::from(code.http), code.grpc.map(i64::from)),
            None => call.outcome.codes(call.protocol),
        };
        let mut tags = vec![
            Tag::str("component", "proxy"),
            Tag::str(
                "node_id",
                format!(
                    "{node_kind}~{}~{}.{ns}~{ns}.svc.cluster.local",
                    pod_ip(mesh, pod),
                    pod_name(mesh, pod)
                ),
            ),
            Tag::str("guid:x-request-id", self.request_id.clone()),
            Tag::str("http.url", call.url.clone()),
            Tag::str("http.method", call.method),
            Tag::str("downstream_cluster", "-"),
            Tag::str(
                "http.protocol",
                if call.protocol == Protocol::Grpc {
                    "HTTP/2"
                } else {
                    "HTTP/1.1"
                },
            ),
            Tag::str("peer.address", peer),
            Tag::str("request_size", call.request_size.to_string()),
            Tag::str("upstream_cluster", upstream_cluster),
            Tag::int("http.status_code", http_code),
        ];
        if let Some(g) = grpc_code {
            tags.push(Tag::int("grpc.status_code", g));
        }
        tags.extend([
            Tag::str("response_size", call.response_size.to_string()),
            Tag::str("response_flags", flags_label(call.flags)),
            Tag::str("istio.canonical_revision", w.version.clone()),
            Tag::str("istio.canonical_service", w.app.clone()),
            Tag::str("istio.mesh_id", MESH_ID),
            Tag::str("istio.namespace", ns.clone()),
            Tag::str("span.kind", kind.as_str()),
        ]);
        let message = match call.answer {
            Some(code) => answer_message(code),
            None => call.outcome.message(call.protocol).map(str::to_owned),
        };
        let mut logs = Vec::new();
        if let Some(msg) = &message {
            tags.push(Tag::bool("error", true));
            logs.push(SpanLog {
                timestamp_us: end_us,
                fields: vec![Tag::str("event", "error"), Tag::str("message", msg.clone())],
            });
        }
        let span = &mut self.spans[i];
        span.operation = call.operation.clone();
        span.start_us = start_us;
        span.duration_us = end_us.saturating_sub(start_us);
        span.tags = tags;
        span.logs = logs;
        span.error = message;
    }
}

/// The pod's name, as its controller would name it.
fn pod_name(mesh: &Mesh, pod: Pod) -> String {
    let w = &mesh.workloads[pod.workload];
    let h = mix(mesh.seed ^ mix(pod.workload as u64 + 1));
    let own = mix(h ^ mix(u64::from(pod.replica) + 1));
    match w.kind {
        WorkloadKind::StatefulSet => format!("{}-{}", w.name, pod.replica),
        WorkloadKind::DaemonSet => format!("{}-{}", w.name, suffix(own, 5)),
        WorkloadKind::Deployment => format!("{}-{}-{}", w.name, suffix(h, 10), suffix(own, 5)),
    }
}

/// The pod's IP in the cluster's pod network.
fn pod_ip(mesh: &Mesh, pod: Pod) -> String {
    let h = mix(mesh.seed ^ mix(((pod.workload as u64) << 16) | u64::from(pod.replica)));
    format!("10.244.{}.{}", (h >> 8) % 256, 2 + h % 250)
}

/// A stable public-looking address for a service outside the mesh.
fn external_ip(mesh: &Mesh, svc: usize) -> String {
    let h = mix(mesh.seed ^ mix(0xe0_0000 + svc as u64));
    format!("203.0.113.{}", 1 + h % 254)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;

    #[test]
    fn same_inputs_same_trace() {
        let mesh = scenario::demo();
        let g = TraceGenerator::new(&mesh);
        let a = g.trace_at(1_700_000_000_000_000, 3);
        let b = g.trace_at(1_700_000_000_000_000, 3);
        assert!(a.is_some());
        assert_eq!(a, b);
        assert_ne!(a, g.trace_at(1_700_000_000_000_000, 4));
    }

    #[test]
    fn weighted_pick_skips_zero_weights() {
        let mut rng = Rng::new(1);
        assert_eq!(pick_weighted(&mut rng, &[]), None);
        assert_eq!(pick_weighted(&mut rng, &[0.0, f64::NAN]), None);
        for _ in 0..100 {
            assert_eq!(pick_weighted(&mut rng, &[0.0, 2.0, 0.0]), Some(1));
        }
    }

    #[test]
    fn entries_are_uncalled_callers() {
        let mesh = scenario::demo();
        let g = TraceGenerator::new(&mesh);
        let gateway = mesh.workload_id("istio-system", "istio-ingressgateway-latest");
        let reporter = mesh.workload_id("legacy", "batch-reporter-v1");
        let mut sources: Vec<Caller> = g
            .entry_flows
            .iter()
            .map(|i| mesh.edges[g.keys[*i].edge].source)
            .collect();
        sources.dedup();
        assert_eq!(
            sources,
            vec![
                Caller::Workload(gateway.unwrap()),
                Caller::Unknown,
                Caller::Workload(reporter.unwrap())
            ]
        );
    }
}
