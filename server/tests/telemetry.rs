//! The telemetry check against a real Prometheus holding the quiet demo's
//! history (constant rates, no faults), with a namespace added whose pods
//! carry sidecars but whose metrics Prometheus never got. Expected numbers
//! come from the scenario's edges: a counter growing at r per second
//! increases by 600 r over the 10-minute window.

use app::types::{AuthMode, RunMode, TelemetryState};
use meshdeck_server::access::AccessScope;
use meshdeck_server::config::UpstreamArgs;
use meshdeck_server::spa::Spa;
use meshdeck_server::upstream::Upstreams;
use meshdeck_server::{AppState, telemetry_check};
use meshdeck_sim::kube::InMemoryCluster;
use meshdeck_sim::model::{Caller, Protocol};
use serde_json::json;

mod common;

#[tokio::test]
async fn namespaces_with_sidecars_are_checked_against_what_prometheus_holds() {
    let fixture = common::start("telemetry").await;
    let mesh = &fixture.mesh;
    let cluster = InMemoryCluster::from_mesh(mesh);
    // A namespace whose one pod has a sidecar, never scraped.
    cluster
        .create(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dark"}}))
        .unwrap();
    cluster
        .create(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "worker", "namespace": "dark", "labels": {"app": "worker"}},
            "spec": {"containers": [{"name": "worker", "image": "w"}, {"name": "istio-proxy", "image": "proxyv2"}]},
            "status": {"phase": "Running"}}))
        .unwrap();
    let mut upstreams = Upstreams::from_args(
        &UpstreamArgs {
            prometheus_url: Some(fixture.prometheus.url().parse().unwrap()),
            ..UpstreamArgs::default()
        },
        std::time::Duration::from_secs(10),
    )
    .unwrap();
    upstreams.kube = Some(meshdeck_server::demo::in_memory(
        &cluster,
        meshdeck_sim::kube::ADMIN_TOKEN,
    ));
    let state = AppState::new(
        RunMode::Demo,
        AuthMode::Demo,
        upstreams,
        Spa::load(std::path::Path::new("/nonexistent")),
    );
    let report = telemetry_check::report_at(&state, &AccessScope::owner("admin"), fixture.end)
        .await
        .unwrap();
    assert_eq!(report.problem, None);
    // The history holds the mesh's series only: istiod is not scraped.
    assert_eq!(report.istiod_scraped, Some(false));

    // Expected requests into a namespace, by reporter, from the edges.
    let expected = |ns: &str| {
        let (mut destination, mut source) = (0.0, 0.0);
        for e in &mesh.edges {
            let svc = &mesh.services[e.service];
            if svc.protocol == Protocol::Tcp
                || svc.external_host.is_some()
                || mesh.namespaces[svc.namespace].name != ns
            {
                continue;
            }
            for (wl, w) in &svc.backends {
                let share = w / svc.backends.iter().map(|(_, w)| w).sum::<f64>();
                if mesh.has_sidecar(*wl) {
                    destination += 600.0 * e.rate * share;
                }
                if matches!(e.source, Caller::Workload(c) if mesh.has_sidecar(c)) {
                    source += 600.0 * e.rate * share;
                }
            }
        }
        (destination, source)
    };
    let close = |got: f64, want: f64, what: &str| {
        assert!(
            (got - want).abs() <= 1e-6 * want.max(1.0),
            "{what}: {got} vs {want}"
        );
    };
    let names: Vec<&str> = report
        .namespaces
        .iter()
        .map(|n| n.namespace.as_str())
        .collect();
    // legacy runs without sidecars: not checked.
    assert_eq!(names, ["bookinfo", "dark", "istio-system", "payments"]);
    for n in &report.namespaces {
        match n.namespace.as_str() {
            "bookinfo" | "payments" => {
                let (d, s) = expected(&n.namespace);
                assert!(d > 0.0 && s > 0.0);
                close(n.destination_reported, d, &n.namespace);
                close(n.source_reported, s, &n.namespace);
                assert_eq!((n.state, n.hint.clone()), (TelemetryState::Ok, None));
            }
            // The gateway calls productpage and receives nothing.
            "istio-system" => {
                assert_eq!(n.state, TelemetryState::OutboundOnly);
                assert!(n.outbound_reported > 0.0);
            }
            "dark" => {
                assert_eq!(n.state, TelemetryState::None);
                assert_eq!(n.pods_with_sidecar, 1);
                assert!(
                    n.hint
                        .as_deref()
                        .unwrap_or("")
                        .contains("no request from or to dark")
                );
            }
            other => panic!("unexpected {other}"),
        }
    }
    // Members see their namespaces only.
    let alice = AccessScope::member("alice", ["bookinfo"], true, true);
    let theirs = telemetry_check::report_at(&state, &alice, fixture.end)
        .await
        .unwrap();
    assert_eq!(theirs.namespaces.len(), 1);
    fixture.prometheus.stop().await;
}
