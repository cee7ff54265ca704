//! The shape of a simulated mesh. Indices (`NsId`, `SvcId`, `WlId`) point
//! into the [`Mesh`]'s vectors; a mesh is built once by a scenario and then
//! only read.

/// Index into [`Mesh::projects`].
pub type ProjectId = usize;
/// Index into [`Mesh::namespaces`].
pub type NsId = usize;
/// Index into [`Mesh::services`].
pub type SvcId = usize;
/// Index into [`Mesh::workloads`].
pub type WlId = usize;

/// Rancher's project label key, the default grouping of namespaces.
pub const PROJECT_LABEL: &str = "field.cattle.io/projectId";
/// Istio's cluster name label value when none is configured.
pub const DEFAULT_CLUSTER: &str = "Kubernetes";
/// Istio's default trust domain.
pub const DEFAULT_TRUST_DOMAIN: &str = "cluster.local";

/// A whole simulated mesh.
#[derive(Clone, Debug)]
pub struct Mesh {
    /// Scenario name, for logs.
    pub name: String,
    /// Seed that made this mesh and that drives its noise and traces.
    pub seed: u64,
    /// `source_cluster` / `destination_cluster` label value.
    pub cluster: String,
    /// Trust domain in SPIFFE principals.
    pub trust_domain: String,
    /// Rancher-style projects.
    pub projects: Vec<Project>,
    /// Namespaces.
    pub namespaces: Vec<Namespace>,
    /// Kubernetes Services and mesh-external services.
    pub services: Vec<Service>,
    /// Deployments, StatefulSets and DaemonSets.
    pub workloads: Vec<Workload>,
    /// Who calls which service, how much, how well.
    pub edges: Vec<Edge>,
    /// Faults that come and go.
    pub faults: Vec<Fault>,
    /// How traffic varies over time.
    pub variation: Variation,
    /// Cluster nodes (for capacity preflight).
    pub nodes: Vec<Node>,
    /// Identities usable in demo mode.
    pub users: Vec<DemoUser>,
}

/// A Rancher project: a named group of namespaces.
#[derive(Clone, Debug)]
pub struct Project {
    /// The label value, e.g. `p-shop`.
    pub id: String,
    /// Name shown to people.
    pub display_name: String,
}

/// A namespace.
#[derive(Clone, Debug)]
pub struct Namespace {
    /// Its name.
    pub name: String,
    /// Its project, if any (a namespace without one is a project of its own).
    pub project: Option<ProjectId>,
    /// Whether sidecar injection is on (`istio-injection=enabled`) and the
    /// pods have sidecars.
    pub sidecars: bool,
    /// Whether workloads here accept mutual TLS (PeerAuthentication not DISABLE).
    pub mtls: bool,
}

/// Wire protocol of a service or call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// HTTP/1.1 or HTTP/2.
    Http,
    /// gRPC (errors are in `grpc_response_status`, HTTP code stays 200).
    Grpc,
    /// Plain TCP (byte and connection counters only).
    Tcp,
}

impl Protocol {
    /// The `request_protocol` label value.
    pub fn label(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Grpc => "grpc",
            Protocol::Tcp => "tcp",
        }
    }
}

/// A Kubernetes Service, or a service outside the mesh (ServiceEntry).
#[derive(Clone, Debug)]
pub struct Service {
    /// `metadata.name` (for external services, the host).
    pub name: String,
    /// Its namespace (for external services, the ServiceEntry's namespace).
    pub namespace: NsId,
    /// Port.
    pub port: u16,
    /// Protocol spoken.
    pub protocol: Protocol,
    /// Workloads behind it with their traffic weights (VirtualService split);
    /// empty for external services.
    pub backends: Vec<(WlId, f64)>,
    /// For services outside the mesh: their host, e.g. `api.stripe.com`.
    pub external_host: Option<String>,
}

/// Kind of a workload's controller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WorkloadKind {
    /// apps/v1 Deployment.
    Deployment,
    /// apps/v1 StatefulSet.
    StatefulSet,
    /// apps/v1 DaemonSet.
    DaemonSet,
}

impl WorkloadKind {
    /// The Kubernetes `kind`.
    pub fn kind(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
        }
    }
}

/// A workload: one version of an app.
#[derive(Clone, Debug)]
pub struct Workload {
    /// Controller name, e.g. `reviews-v2`.
    pub name: String,
    /// Its namespace.
    pub namespace: NsId,
    /// `app` label (canonical service).
    pub app: String,
    /// `version` label (canonical revision).
    pub version: String,
    /// Controller kind.
    pub kind: WorkloadKind,
    /// Pod count.
    pub replicas: u32,
    /// Service account (part of its SPIFFE principal).
    pub service_account: String,
    /// Overrides the namespace's sidecar setting (e.g. opted out by annotation).
    pub sidecar_override: Option<bool>,
    /// Multiplies the latency of every call it serves (a slower version).
    pub latency_factor: f64,
}

/// Who makes a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Caller {
    /// A workload of the mesh (or a workload without sidecar, see [`Mesh::has_sidecar`]).
    Workload(WlId),
    /// A client outside the mesh; Istio reports it as `source_workload="unknown"`.
    Unknown,
}

/// Log-normal latency: median and the spread of `ln(latency)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Latency {
    /// Median in milliseconds.
    pub median_ms: f64,
    /// Standard deviation of the natural log of the latency.
    pub sigma: f64,
}

impl Latency {
    /// Mean of the distribution in milliseconds.
    pub fn mean_ms(&self) -> f64 {
        self.median_ms * (self.sigma * self.sigma / 2.0).exp()
    }

    /// Probability that a latency is at most `ms`.
    pub fn cdf(&self, ms: f64) -> f64 {
        if ms <= 0.0 {
            return 0.0;
        }
        if self.sigma <= 0.0 {
            return if ms >= self.median_ms { 1.0 } else { 0.0 };
        }
        let z = (ms.ln() - self.median_ms.ln()) / (self.sigma * std::f64::consts::SQRT_2);
        0.5 * (1.0 + erf(z))
    }

    /// The latency at quantile `q` in `(0, 1)`.
    pub fn quantile(&self, q: f64) -> f64 {
        self.median_ms * (self.sigma * std::f64::consts::SQRT_2 * erf_inv(2.0 * q - 1.0)).exp()
    }

    /// This latency with the median scaled by `factor`.
    pub fn scaled(&self, factor: f64) -> Latency {
        Latency {
            median_ms: self.median_ms * factor,
            sigma: self.sigma,
        }
    }
}

impl Latency {
    /// `E[X; X <= ms]`: the mean of the latencies up to `ms`, weighted by
    /// their probability (the log-normal's partial expectation).
    pub fn partial_mean(&self, ms: f64) -> f64 {
        if ms <= 0.0 {
            return 0.0;
        }
        if ms.is_infinite() {
            return self.mean_ms();
        }
        if self.sigma <= 0.0 {
            return if ms >= self.median_ms {
                self.median_ms
            } else {
                0.0
            };
        }
        let s = self.sigma;
        let z = (ms.ln() - self.median_ms.ln() - s * s) / (s * std::f64::consts::SQRT_2);
        self.mean_ms() * 0.5 * (1.0 + erf(z))
    }
}

/// The distribution of a histogram's observations: a log-normal latency
/// (or size), possibly shifted by a constant and cut off above, or one
/// value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Dist {
    /// `shift + X`, X log-normal as `base` and conditioned on `X <= upper`.
    LogNormal {
        /// The log-normal part.
        base: Latency,
        /// Added to every observation (a delay, earlier tries).
        shift: f64,
        /// The log-normal part never exceeds this (infinite: no cut).
        upper: f64,
    },
    /// Every observation is this value.
    Point(f64),
}

impl Dist {
    /// The log-normal `l`, unshifted and uncut.
    pub fn of(l: Latency) -> Dist {
        Dist::LogNormal {
            base: l,
            shift: 0.0,
            upper: f64::INFINITY,
        }
    }

    /// This distribution shifted by `by`.
    pub fn shifted(self, by: f64) -> Dist {
        match self {
            Dist::LogNormal { base, shift, upper } => Dist::LogNormal {
                base,
                shift: shift + by,
                upper,
            },
            Dist::Point(v) => Dist::Point(v + by),
        }
    }

    /// Probability that an observation is at most `x`.
    pub fn cdf(&self, x: f64) -> f64 {
        match *self {
            Dist::Point(v) => {
                if x >= v {
                    1.0
                } else {
                    0.0
                }
            }
            Dist::LogNormal { base, shift, upper } => {
                if shift == 0.0 && upper.is_infinite() {
                    return base.cdf(x);
                }
                let y = x - shift;
                if y >= upper {
                    return 1.0;
                }
                let whole = base.cdf(upper);
                if whole <= f64::MIN_POSITIVE {
                    return if y >= upper { 1.0 } else { 0.0 };
                }
                (base.cdf(y) / whole).min(1.0)
            }
        }
    }

    /// The mean observation.
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Point(v) => v,
            Dist::LogNormal { base, shift, upper } => {
                if shift == 0.0 && upper.is_infinite() {
                    return base.mean_ms();
                }
                let whole = base.cdf(upper);
                if whole <= f64::MIN_POSITIVE {
                    return shift + upper;
                }
                shift + base.partial_mean(upper) / whole
            }
        }
    }
}

/// Error function (Abramowitz and Stegun 7.1.26, |error| < 1.5e-7).
pub fn erf(x: f64) -> f64 {
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    sign * (1.0 - poly * (-x * x).exp())
}

/// Inverse error function (Giles' single-precision approximation, refined
/// with two Newton steps).
pub fn erf_inv(y: f64) -> f64 {
    let y = y.clamp(-0.999_999_999, 0.999_999_999);
    let w = -((1.0 - y) * (1.0 + y)).ln();
    let mut x = if w < 5.0 {
        let w = w - 2.5;
        let mut p = 2.810_226_36e-08;
        for c in [
            3.432_739_39e-07,
            -3.523_387_7e-06,
            -4.391_506_54e-06,
            0.000_218_580_87,
            -0.001_253_725_03,
            -0.004_177_681_64,
            0.246_640_727,
            1.501_409_41,
        ] {
            p = c + p * w;
        }
        p * y
    } else {
        let w = w.sqrt() - 3.0;
        let mut p = -0.000_200_214_257;
        for c in [
            0.000_100_950_558,
            0.001_349_343_22,
            -0.003_673_428_44,
            0.005_739_507_73,
            -0.007_622_461_3,
            0.009_438_870_47,
            1.001_674_06,
            2.832_976_82,
        ] {
            p = c + p * w;
        }
        p * y
    };
    for _ in 0..2 {
        let err = erf(x) - y;
        x -= err / (2.0 / std::f64::consts::PI.sqrt() * (-x * x).exp());
    }
    x
}

/// Share of responses that fail, before faults.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ErrorMix {
    /// Share of client errors (HTTP 404, gRPC NOT_FOUND).
    pub client: f64,
    /// Share of server errors (HTTP 503, gRPC UNAVAILABLE).
    pub server: f64,
}

/// One kind of request on an edge: what Istio's route matches look at.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestClass {
    /// Relative weight among the edge's classes (whole numbers keep the
    /// shares exact: classes that take the same route add up to the edge).
    pub weight: f64,
    /// HTTP method (`GET`; gRPC calls are `POST`).
    pub method: String,
    /// Request path without query, e.g. `/reviews/0`.
    pub path: String,
    /// Request headers that matter for routing, names in lower case.
    pub headers: Vec<(String, String)>,
}

impl RequestClass {
    /// A class of `weight` with `method`, `path` and no headers.
    pub fn new(weight: f64, method: &str, path: &str) -> Self {
        RequestClass {
            weight,
            method: method.to_owned(),
            path: path.to_owned(),
            headers: Vec::new(),
        }
    }

    /// This class with header `name: value` added.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// The value of header `name` (lower case), if the class carries it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A caller's traffic to a service.
#[derive(Clone, Debug)]
pub struct Edge {
    /// Who calls.
    pub source: Caller,
    /// Which service is called.
    pub service: SvcId,
    /// Requests per second (HTTP, gRPC) or connections per second (TCP), on average.
    pub rate: f64,
    /// Error shares before faults.
    pub errors: ErrorMix,
    /// Response time as the caller sees it.
    pub latency: Latency,
    /// Mean request body size in bytes (TCP: bytes sent per connection).
    pub request_bytes: f64,
    /// Mean response body size in bytes (TCP: bytes received per connection).
    pub response_bytes: f64,
    /// The kinds of requests on the edge (empty: one class, see
    /// [`Mesh::request_classes`]); TCP edges have none.
    pub requests: Vec<RequestClass>,
}

/// What a fault does to the calls a workload serves while it is active.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FaultKind {
    /// Adds this share of server errors (503 / UNAVAILABLE).
    ServerErrors(f64),
    /// Multiplies latency by this factor.
    Slow(f64),
}

/// A fault that switches on for `active_s` seconds every `period_s` seconds.
#[derive(Clone, Debug)]
pub struct Fault {
    /// The workload that misbehaves.
    pub workload: WlId,
    /// How.
    pub kind: FaultKind,
    /// Cycle length in seconds.
    pub period_s: f64,
    /// Seconds per cycle during which the fault is active.
    pub active_s: f64,
    /// Shift of the cycle in seconds.
    pub offset_s: f64,
}

impl Fault {
    /// Whether the fault is active at Unix time `t` (seconds).
    pub fn active_at(&self, t: f64) -> bool {
        if self.active_s >= self.period_s {
            return true;
        }
        (t + self.offset_s).rem_euclid(self.period_s) < self.active_s
    }
}

/// Slow waves and noise on top of the configured rates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Variation {
    /// Relative amplitude of the slow wave on request rates (0 = constant).
    pub wave_amplitude: f64,
    /// Period of the wave in seconds.
    pub wave_period_s: f64,
    /// Relative amplitude of per-interval noise on rates and error shares (0 = none).
    pub noise: f64,
}

impl Variation {
    /// Constant traffic: rates exactly as configured (for tests).
    pub const NONE: Variation = Variation {
        wave_amplitude: 0.0,
        wave_period_s: 3600.0,
        noise: 0.0,
    };
}

/// A cluster node.
#[derive(Clone, Debug)]
pub struct Node {
    /// Node name.
    pub name: String,
    /// Allocatable CPU in millicores.
    pub cpu_millis: u64,
    /// Allocatable memory in MiB.
    pub memory_mib: u64,
    /// False for cordoned nodes (`spec.unschedulable`).
    pub schedulable: bool,
}

/// The role a demo identity has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DemoRole {
    /// May patch namespaces cluster-wide.
    Owner,
    /// May list pods in the namespaces of these projects.
    Member(Vec<ProjectId>),
}

/// An identity for demo mode (and the in-memory cluster's RBAC).
#[derive(Clone, Debug)]
pub struct DemoUser {
    /// Kubernetes user name.
    pub name: String,
    /// Kubernetes groups.
    pub groups: Vec<String>,
    /// Bearer token the in-memory cluster's TokenReview accepts.
    pub token: String,
    /// What the user may do.
    pub role: DemoRole,
}

impl Mesh {
    /// Whether a workload's pods carry the `istio-proxy` sidecar.
    pub fn has_sidecar(&self, wl: WlId) -> bool {
        let w = &self.workloads[wl];
        w.sidecar_override
            .unwrap_or(self.namespaces[w.namespace].sidecars)
    }

    /// Fully qualified name used in `destination_service`.
    pub fn service_fqdn(&self, svc: SvcId) -> String {
        let s = &self.services[svc];
        match &s.external_host {
            Some(host) => host.clone(),
            None => format!(
                "{}.{}.svc.cluster.local",
                s.name, self.namespaces[s.namespace].name
            ),
        }
    }

    /// SPIFFE identity of a workload, as in `source_principal`.
    pub fn principal(&self, wl: WlId) -> String {
        let w = &self.workloads[wl];
        format!(
            "spiffe://{}/ns/{}/sa/{}",
            self.trust_domain, self.namespaces[w.namespace].name, w.service_account
        )
    }

    /// Index of the namespace called `name`.
    pub fn namespace_id(&self, name: &str) -> Option<NsId> {
        self.namespaces.iter().position(|n| n.name == name)
    }

    /// Index of the workload `name` in namespace `ns`.
    pub fn workload_id(&self, ns: &str, name: &str) -> Option<WlId> {
        let ns = self.namespace_id(ns)?;
        self.workloads
            .iter()
            .position(|w| w.namespace == ns && w.name == name)
    }

    /// Index of the service `name` in namespace `ns`.
    pub fn service_id(&self, ns: &str, name: &str) -> Option<SvcId> {
        let ns = self.namespace_id(ns)?;
        self.services
            .iter()
            .position(|s| s.namespace == ns && s.name == name)
    }

    /// The service whose backends include `wl`, if any.
    pub fn service_of(&self, wl: WlId) -> Option<SvcId> {
        self.services
            .iter()
            .position(|s| s.backends.iter().any(|(b, _)| *b == wl))
    }

    /// Whether workload `wl` is a gateway (an Envoy of its own rather than
    /// a sidecar: mesh-bound VirtualServices do not apply to its calls).
    pub fn is_gateway(&self, wl: WlId) -> bool {
        let w = &self.workloads[wl];
        w.app.ends_with("gateway") && self.has_sidecar(wl)
    }

    /// The default request path of service `svc`: gRPC services get
    /// `/<package>.v1.<Service>/Handle`, HTTP services `/<name>`.
    pub fn default_path(&self, svc: SvcId) -> String {
        let s = &self.services[svc];
        match s.protocol {
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
            _ => format!("/{}", s.name),
        }
    }

    /// The request classes of edge `edge`: its own, or one class of the
    /// service's default path (`GET`, or `POST` for gRPC).
    pub fn request_classes(&self, edge: usize) -> Vec<RequestClass> {
        let e = &self.edges[edge];
        if !e.requests.is_empty() {
            return e.requests.clone();
        }
        let method = if self.services[e.service].protocol == Protocol::Grpc {
            "POST"
        } else {
            "GET"
        };
        vec![RequestClass::new(
            1.0,
            method,
            &self.default_path(e.service),
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        // erf(0.5) = 0.5204998778, erf(1) = 0.8427007929, erf(2) = 0.9953222650.
        for (x, want) in [
            (0.5, 0.520_499_877_8),
            (1.0, 0.842_700_792_9),
            (2.0, 0.995_322_265),
        ] {
            assert!((erf(x) - want).abs() < 2e-7, "erf({x})");
            assert!((erf(-x) + want).abs() < 2e-7, "erf(-{x})");
        }
    }

    #[test]
    fn lognormal_quantiles_invert_the_cdf() {
        let l = Latency {
            median_ms: 40.0,
            sigma: 0.6,
        };
        assert!((l.cdf(40.0) - 0.5).abs() < 1e-6);
        for q in [0.05, 0.5, 0.9, 0.95, 0.99] {
            let x = l.quantile(q);
            assert!((l.cdf(x) - q).abs() < 1e-5, "q={q} x={x}");
        }
        // p99 of a log-normal: median * exp(sigma * 2.3263).
        assert!((l.quantile(0.99) - 40.0 * (0.6f64 * 2.326_348).exp()).abs() < 0.01);
    }

    #[test]
    fn faults_follow_their_schedule() {
        let f = Fault {
            workload: 0,
            kind: FaultKind::Slow(3.0),
            period_s: 600.0,
            active_s: 120.0,
            offset_s: 0.0,
        };
        assert!(f.active_at(6000.0));
        assert!(f.active_at(6119.0));
        assert!(!f.active_at(6120.0));
        assert!(!f.active_at(6599.0));
    }
}
