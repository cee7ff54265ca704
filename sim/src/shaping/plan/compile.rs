//! Compiling a [`Config`] into a [`Plan`]: which VirtualService (or
//! Gateway API route) and DestinationRule apply to a caller's calls, how
//! request classes match routes, how subsets and backend Services resolve
//! to workloads, how connections fare under PeerAuthentication and client
//! TLS.

use std::collections::{BTreeMap, HashMap};

use super::policy::{
    MAX_RETRIES, RETRY_BACKOFF_MS, RetryOn, RetryPolicy, RoutePolicy, refused_retries,
};
use super::{
    Cluster, Code, Ejections, Flow, Kind, LOCAL_REPLY_MS, Member, NONE, Outcomes, OutlierPolicy,
    Plan, SeriesKey, Variant, call_order, flags, grpc_status,
};
use crate::metrics::Reporter;
use crate::model::{Caller, FaultKind, Mesh, Protocol, RequestClass, SvcId, WlId};
use crate::shaping::config::{
    BackendService, Config, DEFAULT_RETRY_ON, Destination, DestinationRuleSpec, HttpMatch,
    HttpRoute, L4Match, MESH_GATEWAY, Object, ROOT_NAMESPACE, RouteDestination, TrafficPolicy,
    VirtualServiceSpec,
};
use crate::traffic::{self, flow_keys};

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
        let workloads = mesh.workloads.len();
        let mut by_caller: Vec<Vec<usize>> = vec![Vec::new(); workloads + 1];
        for (i, f) in c.flows.iter().enumerate() {
            by_caller[f.caller.unwrap_or(workloads)].push(i);
        }
        let dynamic = c.clusters.iter().any(|c| c.outlier.is_some())
            || c.routes.iter().any(|r| r.retry.is_some());
        let mut plan = Plan {
            flows: c.flows,
            routes: c.routes,
            clusters: c.clusters,
            variants: c.variants,
            order,
            served_base,
            by_caller,
            static_factors: None,
            problems: config.problems.clone(),
        };
        if !dynamic {
            let unit = plan.unit_flows(mesh, 0.0, &Ejections::default());
            plan.static_factors = Some(plan.factors(mesh, &unit));
        }
        plan
    }
}

/// Label pairs a subset selects.
type Labels = Vec<(String, String)>;

/// Which of a service's workloads a destination reaches.
#[derive(Clone, Copy, Debug)]
enum Target<'a> {
    /// A subset of the host's DestinationRule (`""`: all of them).
    Subset(&'a str),
    /// The pods a Gateway API backend Service selects (Istio's cluster of
    /// that Service, whose DestinationRule applies).
    Backend {
        host: &'a str,
        namespace: &'a str,
        selector: &'a BTreeMap<String, String>,
    },
}

/// Where a route's destination leads.
enum Resolved<'a> {
    /// A cluster of this service.
    Cluster(SvcId, Target<'a>),
    /// An answer of the caller's proxy: status, flags, body bytes.
    Answer(u16, u32, f64),
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

    /// The VirtualService, or the Gateway API routes' translation, that
    /// routes `caller`'s calls to `service`. Istio does not merge them for
    /// one host: as its sidecar scoping orders them, Gateway API routes in
    /// the caller's namespace come first (the "consumer override"), then
    /// exact hosts before wildcards, the caller's namespace, the oldest.
    fn virtual_service(&self, caller: WlId, service: SvcId) -> Option<&Object<VirtualServiceSpec>> {
        let mesh = self.mesh;
        let caller_ns = &mesh.namespaces[mesh.workloads[caller].namespace].name;
        let fqdn = mesh.service_fqdn(service);
        let istio = self.config.virtual_services.iter().map(|vs| (vs, false));
        let gateway_api = self.config.mesh_routes.iter().map(|vs| (vs, true));
        istio
            .chain(gateway_api)
            .filter(|(vs, _)| {
                applies_to_sidecars(&vs.spec.gateways)
                    && vs.visible_in(&vs.spec.export_to, caller_ns)
            })
            .filter_map(|(vs, gamma)| {
                let best = vs
                    .spec
                    .hosts
                    .iter()
                    .map(|h| host_match(&expand_host(mesh, h, &vs.namespace), &fqdn))
                    .max()
                    .unwrap_or(0);
                (best > 0).then_some((vs, gamma, best))
            })
            .min_by_key(|(vs, gamma, best)| {
                (
                    !(*gamma && &vs.namespace == caller_ns),
                    u8::MAX - best,
                    &vs.namespace != caller_ns,
                    (&vs.created, &vs.namespace, &vs.name),
                )
            })
            .map(|(vs, _, _)| vs)
    }

    /// The DestinationRule for `caller`'s calls to `service`: the caller's
    /// namespace, then the service's, then the root namespace.
    fn destination_rule(
        &self,
        caller: WlId,
        service: SvcId,
    ) -> Option<&Object<DestinationRuleSpec>> {
        let mesh = self.mesh;
        let svc_ns = &mesh.namespaces[mesh.services[service].namespace].name;
        self.destination_rule_for(caller, &mesh.service_fqdn(service), svc_ns)
    }

    /// The DestinationRule for `caller`'s calls to host `fqdn` of a
    /// service in namespace `svc_ns`.
    fn destination_rule_for(
        &self,
        caller: WlId,
        fqdn: &str,
        svc_ns: &str,
    ) -> Option<&Object<DestinationRuleSpec>> {
        let mesh = self.mesh;
        let caller_ns = &mesh.namespaces[mesh.workloads[caller].namespace].name;
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
                let m = host_match(&expand_host(mesh, &dr.spec.host, &dr.namespace), fqdn);
                (m > 0).then_some((i, dr, m))
            })
            .min_by_key(|(i, dr, m)| {
                let place = if &dr.namespace == caller_ns {
                    0
                } else if dr.namespace == svc_ns {
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

    /// The cluster `caller` reaches for `service` (and `target`), or the
    /// answer its proxy gives when there is none.
    fn cluster(
        &mut self,
        caller: WlId,
        service: SvcId,
        target: Target,
    ) -> Result<(usize, Option<String>), Code> {
        let protocol = self.mesh.services[service].protocol;
        let (key, dr, subset, namespace) = match target {
            Target::Subset(subset) => (
                (caller, service, subset.to_owned()),
                self.destination_rule(caller, service),
                subset,
                None,
            ),
            // Keyed by host, which cannot be a subset's name (hosts have dots).
            Target::Backend {
                host, namespace, ..
            } => (
                (caller, service, host.to_owned()),
                self.destination_rule_for(caller, host, namespace),
                "",
                Some(namespace),
            ),
        };
        let top = dr.and_then(|d| d.spec.traffic_policy.as_ref());
        let (selected, policy): (Option<Labels>, Option<&TrafficPolicy>) =
            if let Target::Backend { selector, .. } = target {
                (
                    Some(
                        selector
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    ),
                    None,
                )
            } else if subset.is_empty() {
                (None, None)
            } else {
                let Some(s) = dr.and_then(|d| d.spec.subsets.iter().find(|s| s.name == subset))
                else {
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
                    namespace
                        .is_none_or(|ns| mesh.namespaces[mesh.workloads[*wl].namespace].name == ns)
                        && selected.as_ref().is_none_or(|want| {
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

    /// Where destination `d` of a route in namespace `ns` leads for calls
    /// of `edge`.
    fn resolve<'d>(&self, edge: usize, d: &'d Destination, ns: &str) -> Resolved<'d> {
        let (namespace, selector) = match &d.service {
            None => {
                return match self.destination_service(d, ns) {
                    Some(svc) => Resolved::Cluster(svc, Target::Subset(&d.subset)),
                    None => Resolved::Answer(503, flags::NC, 0.0),
                };
            }
            // istiod keeps the destination and has Envoy answer 500 for
            // the cluster it does not find (`cluster_not_found_response_code`).
            Some(BackendService::Missing) => return Resolved::Answer(500, flags::NC, 0.0),
            Some(BackendService::Selects {
                namespace,
                selector,
            }) => (namespace, selector),
        };
        // A Service the scenario models: its own cluster.
        if let Some(svc) = self.by_host.get(&d.host) {
            return Resolved::Cluster(*svc, Target::Subset(""));
        }
        // A Service of its own (such as a version's, `reviews-v1`): the
        // pods it selects, among the called service's first, else among
        // another service's of its namespace. The simulator reports its
        // requests under the service that owns the pods.
        let mesh = self.mesh;
        let picks = |svc: SvcId| {
            !selector.is_empty()
                && mesh.services[svc].backends.iter().any(|(wl, _)| {
                    mesh.namespaces[mesh.workloads[*wl].namespace].name == *namespace
                        && selects(selector, &pod_labels(mesh, *wl))
                })
        };
        let called = mesh.edges[edge].service;
        let owner = if picks(called) {
            Some(called)
        } else {
            (0..mesh.services.len()).find(|s| picks(*s))
        };
        match owner {
            Some(svc) => Resolved::Cluster(
                svc,
                Target::Backend {
                    host: &d.host,
                    namespace,
                    selector,
                },
            ),
            // A Service without pods: Envoy's cluster has no endpoints.
            None => Resolved::Answer(503, flags::UH, UH_BODY),
        }
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
                None => self.send(edge, caller, 1.0, None, service, Target::Subset("")),
            }
            return;
        }
        let Some(vs) = vs.filter(|vs| !vs.spec.http.is_empty()) else {
            self.send(edge, caller, 1.0, None, service, Target::Subset(""));
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
        dests: &[RouteDestination],
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
            match self.resolve(edge, &d.destination, ns) {
                Resolved::Cluster(svc, target) => {
                    self.send(edge, caller, share * part, policy, svc, target);
                }
                Resolved::Answer(status, flag_bits, body) => self.local(
                    edge,
                    share * part,
                    Code::answer(protocol, status),
                    flag_bits,
                    LOCAL_REPLY_MS,
                    body,
                ),
            }
        }
    }

    /// Sends `share` of the edge's requests to `service` (`target`) under
    /// route policy `policy`.
    fn send(
        &mut self,
        edge: usize,
        caller: WlId,
        share: f64,
        policy: Option<usize>,
        service: SvcId,
        target: Target,
    ) {
        if share <= 0.0 {
            return;
        }
        let protocol = self.mesh.services[service].protocol;
        let (cluster, tls) = match self.cluster(caller, service, target) {
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
        let Resolved::Cluster(service, target) = self.resolve(edge, dest, ns) else {
            return;
        };
        let Ok((cluster, tls)) = self.cluster(caller, service, target) else {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;
    use serde_json::json;

    #[test]
    fn hosts_expand_as_istio_reads_them() {
        let mesh = scenario::demo();
        let fq = "reviews.bookinfo.svc.cluster.local";
        for host in ["reviews", "reviews.bookinfo", "reviews.bookinfo.svc", fq] {
            assert_eq!(expand_host(&mesh, host, "bookinfo"), fq, "{host}");
        }
        assert_eq!(
            expand_host(&mesh, "reviews", "payments"),
            "reviews.payments.svc.cluster.local"
        );
        assert_eq!(
            expand_host(&mesh, "api.stripe.com", "payments"),
            "api.stripe.com"
        );
        assert_eq!(host_match(fq, fq), 2);
        assert_eq!(host_match("*.bookinfo.svc.cluster.local", fq), 1);
        assert_eq!(host_match("*", fq), 1);
        assert_eq!(host_match("*.payments.svc.cluster.local", fq), 0);
    }

    #[test]
    fn peer_authentication_is_most_specific_first() {
        let mesh = scenario::demo();
        let pa = |name: &str, ns: &str, spec| json!({"metadata": {"name": name, "namespace": ns}, "spec": spec});
        let config = Config::from_objects(
            &[],
            &[],
            &[
                pa("mesh", ROOT_NAMESPACE, json!({"mtls": {"mode": "STRICT"}})),
                pa("ns", "payments", json!({"mtls": {"mode": "DISABLE"}})),
                pa(
                    "ledger",
                    "payments",
                    json!({"selector": {"matchLabels": {"app": "ledger"}}, "mtls": {"mode": "UNSET"},
                           "portLevelMtls": {"8080": {"mode": "PERMISSIVE"}}}),
                ),
                pa(
                    "api",
                    "payments",
                    json!({"selector": {"matchLabels": {"app": "payments-api", "version": "v2"}}, "mtls": {"mode": "UNSET"}}),
                ),
            ],
        );
        let c = Compiler {
            mesh: &mesh,
            config: &config,
            by_host: HashMap::new(),
            noise_of: HashMap::new(),
            flows: Vec::new(),
            routes: Vec::new(),
            clusters: Vec::new(),
            cluster_of: HashMap::new(),
            variants: Vec::new(),
            variant_of: HashMap::new(),
        };
        let wl = |ns, name| mesh.workload_id(ns, name).unwrap();
        // Mesh-wide STRICT where the namespace says nothing.
        assert_eq!(
            c.peer_mode(wl("bookinfo", "details-v1"), 9080),
            PeerMode::Strict
        );
        // The namespace overrides the mesh.
        assert_eq!(
            c.peer_mode(wl("payments", "postgres-v1"), 5432),
            PeerMode::Disable
        );
        // A workload's port setting overrides both; UNSET inherits.
        assert_eq!(
            c.peer_mode(wl("payments", "ledger-v1"), 8080),
            PeerMode::Permissive
        );
        assert_eq!(
            c.peer_mode(wl("payments", "ledger-v1"), 9090),
            PeerMode::Disable
        );
        assert_eq!(
            c.peer_mode(wl("payments", "payments-api-v2"), 8080),
            PeerMode::Disable
        );
    }
}
