//! Meshes to simulate: the demo (a bookinfo-like shop, a payments system, a
//! namespace without sidecars, an ingress gateway, faults) and seeded
//! synthetic meshes of any size for benchmarks.

use crate::model::*;
use crate::rng::Rng;

/// Builds a mesh step by step, by name, so scenarios read like a description.
struct Builder {
    mesh: Mesh,
}

impl Builder {
    fn new(name: &str, seed: u64, variation: Variation) -> Self {
        Builder {
            mesh: Mesh {
                name: name.to_owned(),
                seed,
                cluster: DEFAULT_CLUSTER.to_owned(),
                trust_domain: DEFAULT_TRUST_DOMAIN.to_owned(),
                projects: Vec::new(),
                namespaces: Vec::new(),
                services: Vec::new(),
                workloads: Vec::new(),
                edges: Vec::new(),
                faults: Vec::new(),
                variation,
                nodes: Vec::new(),
                users: Vec::new(),
            },
        }
    }

    fn project(&mut self, id: &str, display_name: &str) -> ProjectId {
        self.mesh.projects.push(Project {
            id: id.to_owned(),
            display_name: display_name.to_owned(),
        });
        self.mesh.projects.len() - 1
    }

    fn namespace(
        &mut self,
        name: &str,
        project: Option<ProjectId>,
        sidecars: bool,
        mtls: bool,
    ) -> NsId {
        self.mesh.namespaces.push(Namespace {
            name: name.to_owned(),
            project,
            sidecars,
            mtls,
        });
        self.mesh.namespaces.len() - 1
    }

    fn workload(
        &mut self,
        ns: NsId,
        app: &str,
        version: &str,
        kind: WorkloadKind,
        replicas: u32,
    ) -> WlId {
        self.mesh.workloads.push(Workload {
            name: format!("{app}-{version}"),
            namespace: ns,
            app: app.to_owned(),
            version: version.to_owned(),
            kind,
            replicas,
            service_account: app.to_owned(),
            sidecar_override: None,
            latency_factor: 1.0,
        });
        self.mesh.workloads.len() - 1
    }

    fn service(
        &mut self,
        ns: NsId,
        name: &str,
        port: u16,
        protocol: Protocol,
        backends: &[(WlId, f64)],
    ) -> SvcId {
        self.mesh.services.push(Service {
            name: name.to_owned(),
            namespace: ns,
            port,
            protocol,
            backends: backends.to_vec(),
            external_host: None,
        });
        self.mesh.services.len() - 1
    }

    fn external(&mut self, ns: NsId, host: &str, port: u16, protocol: Protocol) -> SvcId {
        let id = self.service(ns, host, port, protocol, &[]);
        self.mesh.services[id].external_host = Some(host.to_owned());
        id
    }

    #[allow(clippy::too_many_arguments)]
    fn edge(
        &mut self,
        source: Caller,
        service: SvcId,
        rate: f64,
        client: f64,
        server: f64,
        median_ms: f64,
        sigma: f64,
        bytes: (f64, f64),
    ) {
        self.mesh.edges.push(Edge {
            source,
            service,
            rate,
            errors: ErrorMix { client, server },
            latency: Latency { median_ms, sigma },
            request_bytes: bytes.0,
            response_bytes: bytes.1,
            requests: Vec::new(),
        });
    }

    /// Sets the request classes of the edge added last.
    fn requests(&mut self, classes: Vec<RequestClass>) {
        if let Some(edge) = self.mesh.edges.last_mut() {
            edge.requests = classes;
        }
    }

    fn fault(
        &mut self,
        workload: WlId,
        kind: FaultKind,
        period_s: f64,
        active_s: f64,
        offset_s: f64,
    ) {
        self.mesh.faults.push(Fault {
            workload,
            kind,
            period_s,
            active_s,
            offset_s,
        });
    }

    fn node(&mut self, name: &str, cpu_millis: u64, memory_mib: u64, schedulable: bool) {
        self.mesh.nodes.push(Node {
            name: name.to_owned(),
            cpu_millis,
            memory_mib,
            schedulable,
        });
    }

    fn user(&mut self, name: &str, groups: &[&str], role: DemoRole) {
        self.mesh.users.push(DemoUser {
            name: name.to_owned(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            token: format!("demo-token-{name}"),
            role,
        });
    }
}

/// Share of bookinfo's inner calls made for a signed-in user (header
/// `end-user: jason`), in percent.
pub const SIGNED_IN_SHARE: f64 = 30.0;
/// The user bookinfo's signed-in requests name in `end-user`.
pub const SIGNED_IN_USER: &str = "jason";

/// Bookinfo's classes for `GET path`: anonymous, and signed in as
/// [`SIGNED_IN_USER`] for [`SIGNED_IN_SHARE`] percent.
fn bookinfo_requests(path: &str) -> Vec<RequestClass> {
    vec![
        RequestClass::new(100.0 - SIGNED_IN_SHARE, "GET", path),
        RequestClass::new(SIGNED_IN_SHARE, "GET", path).with_header("end-user", SIGNED_IN_USER),
    ]
}

/// The demo's variation: a 30-minute wave of ±25 % and ±8 % noise.
pub const DEMO_VARIATION: Variation = Variation {
    wave_amplitude: 0.25,
    wave_period_s: 1800.0,
    noise: 0.08,
};

/// The default demo mesh.
///
/// - `istio-system` (project System): the ingress gateway.
/// - `bookinfo` (project Shop): productpage → details, reviews (v1, v2, v3)
///   → ratings → mongodb (TCP); reviews-v3 returns 503s for 5 minutes every
///   15, ratings is 6× slower for 4 minutes every 10.
/// - `payments` (project Payments, mTLS off): payments-api (v1, and a v2
///   canary with 10 % of the traffic and a steady 8 % error rate) → ledger
///   (gRPC) → postgres (TCP), and api.stripe.com outside the mesh.
/// - `legacy` (project Payments, no sidecars): batch-reporter, seen by
///   payments-api as `unknown`.
/// - Clients outside the mesh also call productpage directly (NodePort).
///
/// Requests are shaped as the real bookinfo sends them, so that route
/// matches have something to match: `GET /productpage` into productpage,
/// `GET /details/0`, `GET /reviews/0` and `GET /ratings/0` inside, and
/// [`SIGNED_IN_SHARE`] of them (the pages of a signed-in user) carrying
/// the `end-user: jason` header that productpage adds and reviews passes
/// on. gRPC calls are `POST /<package>.v1.<Service>/Handle`.
pub fn demo() -> Mesh {
    let mut b = Builder::new("demo", 42, DEMO_VARIATION);
    let system = b.project("p-system", "System");
    let shop = b.project("p-shop", "Shop");
    let pay = b.project("p-payments", "Payments");

    let istio = b.namespace("istio-system", Some(system), false, true);
    let bookinfo = b.namespace("bookinfo", Some(shop), true, true);
    let payments = b.namespace("payments", Some(pay), true, false);
    let legacy = b.namespace("legacy", Some(pay), false, false);

    use Protocol::{Grpc, Http, Tcp};
    use WorkloadKind::{Deployment, StatefulSet};

    let gateway = b.workload(istio, "istio-ingressgateway", "latest", Deployment, 2);
    b.mesh.workloads[gateway].sidecar_override = Some(true);
    b.mesh.workloads[gateway].service_account = "istio-ingressgateway-service-account".into();
    b.service(istio, "istio-ingressgateway", 80, Http, &[(gateway, 1.0)]);

    let productpage = b.workload(bookinfo, "productpage", "v1", Deployment, 2);
    let details = b.workload(bookinfo, "details", "v1", Deployment, 1);
    let reviews_v1 = b.workload(bookinfo, "reviews", "v1", Deployment, 1);
    let reviews_v2 = b.workload(bookinfo, "reviews", "v2", Deployment, 1);
    let reviews_v3 = b.workload(bookinfo, "reviews", "v3", Deployment, 1);
    let ratings = b.workload(bookinfo, "ratings", "v1", Deployment, 1);
    let mongodb = b.workload(bookinfo, "mongodb", "v1", StatefulSet, 1);
    b.mesh.workloads[reviews_v2].latency_factor = 1.3;
    b.mesh.workloads[reviews_v3].latency_factor = 1.5;
    let productpage_svc = b.service(bookinfo, "productpage", 9080, Http, &[(productpage, 1.0)]);
    let details_svc = b.service(bookinfo, "details", 9080, Http, &[(details, 1.0)]);
    let reviews_svc = b.service(
        bookinfo,
        "reviews",
        9080,
        Http,
        &[(reviews_v1, 34.0), (reviews_v2, 33.0), (reviews_v3, 33.0)],
    );
    let ratings_svc = b.service(bookinfo, "ratings", 9080, Http, &[(ratings, 1.0)]);
    let mongodb_svc = b.service(bookinfo, "mongodb", 27017, Tcp, &[(mongodb, 1.0)]);

    let api_v1 = b.workload(payments, "payments-api", "v1", Deployment, 2);
    let api_v2 = b.workload(payments, "payments-api", "v2", Deployment, 1);
    let ledger = b.workload(payments, "ledger", "v1", Deployment, 1);
    let postgres = b.workload(payments, "postgres", "v1", StatefulSet, 1);
    let api_svc = b.service(
        payments,
        "payments-api",
        8080,
        Grpc,
        &[(api_v1, 90.0), (api_v2, 10.0)],
    );
    let ledger_svc = b.service(payments, "ledger", 8080, Grpc, &[(ledger, 1.0)]);
    let postgres_svc = b.service(payments, "postgres", 5432, Tcp, &[(postgres, 1.0)]);
    let stripe = b.external(payments, "api.stripe.com", 443, Http);

    let reporter = b.workload(legacy, "batch-reporter", "v1", Deployment, 1);

    let w = Caller::Workload;
    // Entry traffic: through the gateway, and straight from outside.
    b.edge(
        w(gateway),
        productpage_svc,
        18.0,
        0.004,
        0.001,
        48.0,
        0.5,
        (420.0, 5200.0),
    );
    b.requests(vec![RequestClass::new(1.0, "GET", "/productpage")]);
    b.edge(
        Caller::Unknown,
        productpage_svc,
        2.0,
        0.02,
        0.001,
        48.0,
        0.5,
        (420.0, 5200.0),
    );
    b.requests(vec![RequestClass::new(1.0, "GET", "/productpage")]);
    // bookinfo inside.
    b.edge(
        w(productpage),
        details_svc,
        20.0,
        0.01,
        0.0,
        6.0,
        0.4,
        (180.0, 410.0),
    );
    b.requests(bookinfo_requests("/details/0"));
    b.edge(
        w(productpage),
        reviews_svc,
        20.0,
        0.0,
        0.002,
        22.0,
        0.5,
        (190.0, 380.0),
    );
    b.requests(bookinfo_requests("/reviews/0"));
    b.edge(
        w(reviews_v2),
        ratings_svc,
        6.6,
        0.0,
        0.001,
        5.0,
        0.4,
        (120.0, 160.0),
    );
    b.requests(bookinfo_requests("/ratings/0"));
    b.edge(
        w(reviews_v3),
        ratings_svc,
        6.6,
        0.0,
        0.001,
        5.0,
        0.4,
        (120.0, 160.0),
    );
    b.requests(bookinfo_requests("/ratings/0"));
    b.edge(
        w(ratings),
        mongodb_svc,
        2.0,
        0.0,
        0.0,
        3.0,
        0.3,
        (640.0, 2400.0),
    );
    // Checkout: bookinfo calls payments (cross-namespace, gRPC).
    b.edge(
        w(productpage),
        api_svc,
        3.0,
        0.01,
        0.002,
        35.0,
        0.5,
        (900.0, 300.0),
    );
    b.edge(
        w(api_v1),
        ledger_svc,
        2.7,
        0.0,
        0.001,
        12.0,
        0.4,
        (600.0, 200.0),
    );
    b.edge(
        w(api_v2),
        ledger_svc,
        0.3,
        0.0,
        0.001,
        12.0,
        0.4,
        (600.0, 200.0),
    );
    b.edge(
        w(api_v1),
        stripe,
        1.35,
        0.02,
        0.005,
        180.0,
        0.6,
        (700.0, 1500.0),
    );
    b.edge(
        w(api_v2),
        stripe,
        0.15,
        0.02,
        0.005,
        180.0,
        0.6,
        (700.0, 1500.0),
    );
    b.edge(
        w(ledger),
        postgres_svc,
        1.0,
        0.0,
        0.0,
        2.0,
        0.3,
        (1500.0, 4200.0),
    );
    // The legacy namespace has no sidecars: payments-api sees `unknown`.
    b.edge(
        w(reporter),
        api_svc,
        0.5,
        0.05,
        0.0,
        60.0,
        0.6,
        (300.0, 12000.0),
    );

    b.fault(reviews_v3, FaultKind::ServerErrors(0.4), 900.0, 300.0, 0.0);
    b.fault(ratings, FaultKind::Slow(6.0), 600.0, 240.0, 420.0);
    b.fault(api_v2, FaultKind::ServerErrors(0.08), 1.0, 1.0, 0.0);

    for i in 1..=3 {
        b.node(&format!("worker-{i}"), 4000, 16_384, true);
    }
    b.node("worker-4", 4000, 16_384, false);

    b.user("admin", &["system:masters"], DemoRole::Owner);
    b.user("alice", &["shop-devs"], DemoRole::Member(vec![shop]));
    b.user("bob", &["payments-devs"], DemoRole::Member(vec![pay]));
    b.mesh
}

/// Services per namespace in synthetic meshes.
pub const SYNTHETIC_SERVICES_PER_NAMESPACE: usize = 25;
/// Namespaces per project in synthetic meshes.
pub const SYNTHETIC_NAMESPACES_PER_PROJECT: usize = 4;

/// A synthetic mesh of `services` services for benchmarks: layered calls
/// (entry services called from outside, each service calling one or two
/// services of deeper layers, a tenth of the calls with errors), a fifth of the services with two versions,
/// a tenth of the calls gRPC, databases on TCP, some external services.
/// The same `(services, seed)` always gives the same mesh.
///
/// Sizes, for any `services` (0 gives an empty mesh with one namespace):
/// `services` in-mesh services, 25 per namespace (at least one namespace),
/// four namespaces per project; `services / 50` external services; one or
/// two workloads per service; `max(services / 100, 1)` faults (none without
/// workloads); `max(ceil(services / 10), 3)` nodes.
pub fn synthetic(services: usize, seed: u64) -> Mesh {
    let mut b = Builder::new(&format!("synthetic-{services}"), seed, DEMO_VARIATION);
    let mut rng = Rng::new(seed);
    let namespaces = services.div_ceil(SYNTHETIC_SERVICES_PER_NAMESPACE).max(1);
    let mut ns_ids = Vec::new();
    for n in 0..namespaces {
        let p = n / SYNTHETIC_NAMESPACES_PER_PROJECT;
        if n % SYNTHETIC_NAMESPACES_PER_PROJECT == 0 {
            b.project(&format!("p-team{p}"), &format!("Team {p}"));
        }
        ns_ids.push(b.namespace(&format!("team{p}-ns{n}"), Some(p), true, n % 5 != 4));
    }
    const LAYERS: usize = 6;
    let mut svc_ids = Vec::with_capacity(services);
    let mut layer_of = Vec::with_capacity(services);
    for s in 0..services {
        let ns = ns_ids[s / SYNTHETIC_SERVICES_PER_NAMESPACE];
        let layer = (s * LAYERS / services.max(1)).min(LAYERS - 1);
        let tcp = layer == LAYERS - 1 && rng.next_f64() < 0.5;
        let grpc = !tcp && rng.next_f64() < 0.1;
        let protocol = if tcp {
            Protocol::Tcp
        } else if grpc {
            Protocol::Grpc
        } else {
            Protocol::Http
        };
        let app = format!("svc{s}");
        let kind = if tcp {
            WorkloadKind::StatefulSet
        } else {
            WorkloadKind::Deployment
        };
        let v1 = b.workload(ns, &app, "v1", kind, 1 + rng.below(3) as u32);
        let mut backends = vec![(v1, 80.0)];
        if !tcp && rng.next_f64() < 0.2 {
            let v2 = b.workload(ns, &app, "v2", kind, 1);
            backends.push((v2, 20.0));
        } else {
            backends[0].1 = 100.0;
        }
        let port = if tcp { 5432 } else { 8080 };
        svc_ids.push(b.service(ns, &app, port, protocol, &backends));
        layer_of.push(layer);
    }
    // External services: one per 50 services, in the first namespace.
    let externals: Vec<SvcId> = (0..services / 50)
        .map(|i| {
            b.external(
                ns_ids[0],
                &format!("api{i}.example.com"),
                443,
                Protocol::Http,
            )
        })
        .collect();

    let by_layer =
        |l: usize| -> Vec<usize> { (0..services).filter(|s| layer_of[*s] == l).collect() };
    for s in by_layer(0) {
        let rate = 5.0 + 45.0 * rng.next_f64();
        b.edge(
            Caller::Unknown,
            svc_ids[s],
            rate,
            0.01,
            0.002,
            40.0,
            0.5,
            (400.0, 4000.0),
        );
    }
    for s in 0..services {
        let layer = layer_of[s];
        if layer + 1 >= LAYERS {
            continue;
        }
        let backends: Vec<WlId> = b.mesh.services[svc_ids[s]]
            .backends
            .iter()
            .map(|(w, _)| *w)
            .collect();
        let deeper: Vec<usize> = (0..services).filter(|t| layer_of[*t] > layer).collect();
        // One or two dependencies; most calls never fail, so (as in Istio)
        // most flows have only a 200 series. In meshes of fewer services
        // than layers the deepest service has nothing to call.
        let calls = if deeper.is_empty() {
            0
        } else {
            1 + rng.below(2)
        };
        for _ in 0..calls {
            let target = deeper[rng.below(deeper.len())];
            let client = if rng.next_f64() < 0.1 {
                0.02 * rng.next_f64()
            } else {
                0.0
            };
            let server = if rng.next_f64() < 0.1 {
                0.05 * rng.next_f64()
            } else {
                0.0
            };
            let median = 2.0 + 60.0 * rng.next_f64();
            for wl in &backends {
                let rate = 0.5 + 10.0 * rng.next_f64();
                b.edge(
                    Caller::Workload(*wl),
                    svc_ids[target],
                    rate,
                    client,
                    server,
                    median,
                    0.5,
                    (300.0, 2000.0),
                );
            }
        }
        if !externals.is_empty() && rng.next_f64() < 0.05 {
            let ext = externals[rng.below(externals.len())];
            b.edge(
                Caller::Workload(backends[0]),
                ext,
                1.0,
                0.01,
                0.01,
                150.0,
                0.6,
                (500.0, 1500.0),
            );
        }
    }
    // A few faults so health colours vary.
    let faults = if b.mesh.workloads.is_empty() {
        0
    } else {
        (services / 100).max(1)
    };
    for i in 0..faults {
        let wl = rng.below(b.mesh.workloads.len());
        b.fault(
            wl,
            FaultKind::ServerErrors(0.3),
            900.0,
            300.0,
            i as f64 * 97.0,
        );
    }
    for i in 0..services.div_ceil(10).max(3) {
        b.node(&format!("node-{i}"), 8000, 32_768, true);
    }
    b.user("admin", &["system:masters"], DemoRole::Owner);
    b.user("member", &["team0"], DemoRole::Member(vec![0]));
    b.mesh
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_has_what_the_console_needs_to_show() {
        let mesh = demo();
        // Two or more application projects besides the system one.
        assert!(mesh.projects.len() >= 3);
        // A namespace without sidecars, and one with mTLS off.
        assert!(
            mesh.namespaces
                .iter()
                .any(|n| !n.sidecars && n.name != "istio-system")
        );
        assert!(mesh.namespaces.iter().any(|n| n.sidecars && !n.mtls));
        // Outside callers, TCP, gRPC and external services.
        assert!(mesh.edges.iter().any(|e| e.source == Caller::Unknown));
        assert!(mesh.services.iter().any(|s| s.protocol == Protocol::Tcp));
        assert!(mesh.services.iter().any(|s| s.protocol == Protocol::Grpc));
        assert!(mesh.services.iter().any(|s| s.external_host.is_some()));
        // An owner and a member per application project.
        assert!(mesh.users.iter().any(|u| u.role == DemoRole::Owner));
        assert_eq!(
            mesh.users
                .iter()
                .filter(|u| matches!(u.role, DemoRole::Member(_)))
                .count(),
            2
        );
    }

    #[test]
    fn synthetic_meshes_are_reproducible_and_sized() {
        let a = synthetic(1000, 7);
        let b = synthetic(1000, 7);
        assert_eq!(a.services.len(), b.services.len());
        assert_eq!(a.edges.len(), b.edges.len());
        assert!(
            a.edges
                .iter()
                .zip(&b.edges)
                .all(|(x, y)| x.rate == y.rate && x.service == y.service)
        );
        // 1,000 mesh services plus externals; workloads 1,000 to 1,400.
        assert_eq!(
            a.services
                .iter()
                .filter(|s| s.external_host.is_none())
                .count(),
            1000
        );
        assert!(
            (1000..1400).contains(&a.workloads.len()),
            "{}",
            a.workloads.len()
        );
        let c = synthetic(1000, 8);
        assert!(a.edges.len() != c.edges.len() || a.edges[0].rate != c.edges[0].rate);
    }

    /// Everything an index in `mesh` points at exists.
    fn assert_valid(mesh: &Mesh) {
        let n = &mesh.name;
        for ns in &mesh.namespaces {
            assert!(ns.project.is_none_or(|p| p < mesh.projects.len()), "{n}");
        }
        for w in &mesh.workloads {
            assert!(w.namespace < mesh.namespaces.len(), "{n}");
        }
        for s in &mesh.services {
            assert!(s.namespace < mesh.namespaces.len(), "{n}");
            assert!(s.backends.iter().all(|(w, _)| *w < mesh.workloads.len()));
            // In-mesh services have backends, external ones none.
            assert_eq!(s.backends.is_empty(), s.external_host.is_some(), "{n}");
        }
        for e in &mesh.edges {
            assert!(e.service < mesh.services.len(), "{n}");
            if let Caller::Workload(w) = e.source {
                assert!(w < mesh.workloads.len(), "{n}");
            }
            assert!(e.rate > 0.0, "{n}");
        }
        for f in &mesh.faults {
            assert!(f.workload < mesh.workloads.len(), "{n}");
        }
        for u in &mesh.users {
            if let DemoRole::Member(projects) = &u.role {
                assert!(projects.iter().all(|p| *p < mesh.projects.len()), "{n}");
            }
        }
    }

    #[test]
    fn synthetic_meshes_of_every_size_are_valid_and_sized() {
        for n in (1..=30).chain([5000]) {
            let mesh = synthetic(n, 7);
            assert_valid(&mesh);
            // Sizes as documented on `synthetic`.
            let in_mesh = mesh
                .services
                .iter()
                .filter(|s| s.external_host.is_none())
                .count();
            assert_eq!(in_mesh, n);
            assert_eq!(mesh.services.len() - in_mesh, n / 50, "n={n}");
            let namespaces = n.div_ceil(25);
            assert_eq!(mesh.namespaces.len(), namespaces, "n={n}");
            assert_eq!(mesh.projects.len(), namespaces.div_ceil(4), "n={n}");
            assert!(
                (n..=2 * n).contains(&mesh.workloads.len()),
                "n={n}: {}",
                mesh.workloads.len()
            );
            assert_eq!(mesh.faults.len(), (n / 100).max(1), "n={n}");
            assert_eq!(mesh.nodes.len(), n.div_ceil(10).max(3), "n={n}");
            // Entry services are called from outside the mesh.
            assert!(mesh.edges.iter().any(|e| e.source == Caller::Unknown));
            // With two services or more, some service calls another.
            if n >= 2 {
                assert!(
                    mesh.edges
                        .iter()
                        .any(|e| matches!(e.source, Caller::Workload(_))),
                    "n={n}"
                );
            }
            // The same seed gives the same mesh.
            let again = synthetic(n, 7);
            assert_eq!(format!("{mesh:?}"), format!("{again:?}"), "n={n}");
        }
    }

    #[test]
    fn small_synthetic_meshes_run_in_every_part_of_the_simulator() {
        // What `meshdeck demo --synthetic-services N` does with the mesh.
        for n in 1..=8 {
            let mesh = std::sync::Arc::new(synthetic(n, 7));
            let start = 1_700_000_000.0;
            let mut sim = crate::metrics::Simulator::new(
                mesh.clone(),
                crate::metrics::MetricsOptions::default(),
                start,
            );
            sim.advance_to(start + 60.0);
            assert!(sim.render_text().contains("istio_requests_total"), "n={n}");
            let traces = crate::traces::TraceStore::new(1000, 1.0);
            traces.fill_history(&mesh, start, start + 60.0, 1.0);
            let _ = crate::kube::InMemoryCluster::from_mesh(&mesh);
        }
    }

    #[test]
    fn every_edge_points_at_a_real_service() {
        for mesh in [demo(), synthetic(120, 1)] {
            for e in &mesh.edges {
                assert!(e.service < mesh.services.len());
                if let Caller::Workload(w) = e.source {
                    assert!(w < mesh.workloads.len());
                }
                assert!(e.rate > 0.0);
            }
        }
    }
}
