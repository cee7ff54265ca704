//! Enablement through `router()` against the in-memory cluster: namespace
//! and workload injection round trips that keep every foreign label and
//! annotation, dry runs that change nothing, idempotence, the mesh
//! settings' validation, preflight and optimistic concurrency, and the role
//! × endpoint matrix of these endpoints.

use std::collections::BTreeMap;

use app::types::{
    AuthMode, ControlPlaneKind, ErrorBody, ErrorCode, IngressKind, InjectionChange, MeshChange,
    MeshSettings, MeshStatus, NamespaceList, Preflight, RunMode, SettingsDocument, SettingsUpdate,
    SidecarState,
};
use axum::body::Body;
use http::{Method, StatusCode, header};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, Patch, PatchParams};
use meshdeck_server::AppState;
use meshdeck_server::auth::AuthOptions;
use meshdeck_server::cluster::Cluster;
use meshdeck_server::cluster::lease::LeaseTiming;
use meshdeck_server::demo::{demo_identities, install_documented_rbac};
use meshdeck_server::spa::Spa;
use meshdeck_server::upstream::Upstreams;
use meshdeck_sim::kube::InMemoryCluster;
use meshdeck_sim::kube::seed::MESHDECK_SA_TOKEN;
use meshdeck_sim::model::Mesh;
use meshdeck_sim::scenario;
use serde_json::{Value, json};
use tower::ServiceExt;

mod common;
use common::request as call;

const ADMIN: &str = "demo-token-admin";
const ALICE: &str = "demo-token-alice";
const BOB: &str = "demo-token-bob";
const VIEWER: &str = "viewer-token";
/// The annotation auto-injection puts next to its label.
const AUTO_MARK: &str = "meshdeck.io/auto-injected";

struct Harness {
    mesh: Mesh,
    cluster: InMemoryCluster,
    /// The cluster administrator's client, to arrange and inspect.
    client: kube::Client,
    state: AppState,
}

/// The demo cluster, meshdeck running as its own service account with the
/// documented RBAC of the console and of enablement.
fn harness() -> Harness {
    harness_with(|cluster| meshdeck_server::demo::in_memory(cluster, MESHDECK_SA_TOKEN))
}

fn harness_with(make_cluster: impl FnOnce(&InMemoryCluster) -> Cluster) -> Harness {
    let mesh = scenario::demo();
    let cluster = InMemoryCluster::from_mesh(&mesh);
    install_documented_rbac(&cluster, &["console", "enablement"]).unwrap();
    let client = cluster.client();
    let upstreams = Upstreams {
        kube: Some(make_cluster(&cluster)),
        ..Upstreams::default()
    };
    let options = AuthOptions {
        demo_identities: demo_identities(&mesh),
        ..AuthOptions::default()
    };
    let spa = Spa::load(std::path::Path::new("/nonexistent"));
    let state = AppState::with_auth(RunMode::Demo, AuthMode::Demo, upstreams, spa, options);
    Harness {
        mesh,
        cluster,
        client,
        state,
    }
}

fn parse<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn error_message(v: &Value) -> String {
    parse::<ErrorBody>(v.clone()).error.message
}

async fn switch_namespace(h: &Harness, ns: &str, enabled: bool, dry_run: bool) -> InjectionChange {
    let uri = format!(
        "/api/namespaces/{ns}/injection{}",
        if dry_run { "?dryRun=true" } else { "" }
    );
    let (status, body) = call(
        &h.state,
        Method::POST,
        &uri,
        Some(ADMIN),
        Some(json!({"enabled": enabled})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    parse(body)
}

async fn switch_workload(
    h: &Harness,
    ns: &str,
    name: &str,
    enabled: bool,
    dry_run: bool,
) -> InjectionChange {
    let uri = format!(
        "/api/namespaces/{ns}/workloads/deployments/{name}/injection{}",
        if dry_run { "?dryRun=true" } else { "" }
    );
    let (status, body) = call(
        &h.state,
        Method::POST,
        &uri,
        Some(ADMIN),
        Some(json!({"enabled": enabled})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    parse(body)
}

async fn namespace_meta(
    h: &Harness,
    ns: &str,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let obj = Api::<Namespace>::all(h.client.clone())
        .get(ns)
        .await
        .unwrap();
    (
        obj.metadata.labels.unwrap_or_default(),
        obj.metadata.annotations.unwrap_or_default(),
    )
}

/// Object labels, object annotations, template labels, template annotations.
type WorkloadMaps = [BTreeMap<String, String>; 4];

async fn deployment_meta(h: &Harness, ns: &str, name: &str) -> WorkloadMaps {
    let d = Api::<Deployment>::namespaced(h.client.clone(), ns)
        .get(name)
        .await
        .unwrap();
    let template = d.spec.unwrap().template.metadata.unwrap_or_default();
    [
        d.metadata.labels.unwrap_or_default(),
        d.metadata.annotations.unwrap_or_default(),
        template.labels.unwrap_or_default(),
        template.annotations.unwrap_or_default(),
    ]
}

async fn namespaces(h: &Harness, token: &str) -> NamespaceList {
    let (status, body) = call(&h.state, Method::GET, "/api/namespaces", Some(token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    parse(body)
}

fn legacy_deployment(mesh: &Mesh) -> String {
    mesh.workloads
        .iter()
        .find(|w| mesh.namespaces[w.namespace].name == "legacy")
        .map(|w| w.name.clone())
        .expect("the demo has a workload in legacy")
}

#[tokio::test]
async fn namespace_injection_round_trip_keeps_foreign_labels_and_annotations() {
    let h = harness();
    let api = Api::<Namespace>::all(h.client.clone());
    let foreign = json!({"metadata": {
        "labels": {"team": "payments", "example.com/tier": "gold"},
        "annotations": {"example.com/owner": "bob", "note": "keep me"},
    }});
    api.patch("legacy", &PatchParams::default(), &Patch::Merge(&foreign))
        .await
        .unwrap();
    let original = namespace_meta(&h, "legacy").await;
    assert!(!original.0.contains_key("istio-injection"));

    // A dry run shows the exact change and changes nothing.
    let preview = switch_namespace(&h, "legacy", true, true).await;
    assert!(preview.dry_run && preview.changed);
    assert_eq!(preview.before, original.0);
    let patch: Value = serde_json::from_str(preview.patch.as_deref().unwrap()).unwrap();
    assert_eq!(
        patch["metadata"]["labels"],
        json!({"istio-injection": "enabled"})
    );
    let mut expected_after = original.0.clone();
    expected_after.insert("istio-injection".into(), "enabled".into());
    assert_eq!(preview.after, expected_after);
    assert_eq!(namespace_meta(&h, "legacy").await, original);

    // Enabling applies it; enabling twice is one change.
    let applied = switch_namespace(&h, "legacy", true, false).await;
    assert!(applied.changed && !applied.dry_run);
    assert_eq!(namespace_meta(&h, "legacy").await.0, expected_after);
    let again = switch_namespace(&h, "legacy", true, false).await;
    assert!(!again.changed && again.patch.is_none());
    let listed = namespaces(&h, ADMIN).await;
    let legacy = listed
        .namespaces
        .iter()
        .find(|n| n.name == "legacy")
        .unwrap();
    assert!(legacy.injection);
    assert_eq!(legacy.injection_label.as_deref(), Some("enabled"));

    // Disabling restores exactly the original maps.
    let off = switch_namespace(&h, "legacy", false, false).await;
    assert!(off.changed);
    assert_eq!(namespace_meta(&h, "legacy").await, original);
    assert!(!switch_namespace(&h, "legacy", false, false).await.changed);
}

#[tokio::test]
async fn workload_injection_round_trip_restarts_and_keeps_foreign_metadata() {
    let h = harness();
    let name = legacy_deployment(&h.mesh);
    let api = Api::<Deployment>::namespaced(h.client.clone(), "legacy");
    let foreign = json!({
        "metadata": {"labels": {"team": "payments"}, "annotations": {"example.com/owner": "bob"}},
        "spec": {"template": {"metadata": {
            "labels": {"example.com/pod-label": "x"},
            "annotations": {"prometheus.io/scrape": "true", "example.com/pod-note": "keep"},
        }}},
    });
    api.patch(&name, &PatchParams::default(), &Patch::Merge(&foreign))
        .await
        .unwrap();
    let original = deployment_meta(&h, "legacy", &name).await;
    let row = |list: &NamespaceList| {
        list.namespaces
            .iter()
            .find(|n| n.name == "legacy")
            .and_then(|n| n.workloads.iter().find(|w| w.name == name))
            .cloned()
            .unwrap()
    };
    assert_eq!(
        row(&namespaces(&h, ADMIN).await).sidecar,
        SidecarState::None
    );

    // Without namespace injection a restart cannot add a sidecar: 422.
    let uri = format!("/api/namespaces/legacy/workloads/deployments/{name}/injection");
    let (status, body) = call(
        &h.state,
        Method::POST,
        &uri,
        Some(ADMIN),
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(error_message(&body).contains("namespace legacy"));

    switch_namespace(&h, "legacy", true, false).await;
    let preview = switch_workload(&h, "legacy", &name, true, true).await;
    assert!(preview.dry_run && preview.changed);
    assert!(
        preview
            .patch
            .as_deref()
            .unwrap()
            .contains("kubectl.kubernetes.io/restartedAt")
    );
    assert_eq!(deployment_meta(&h, "legacy", &name).await, original);
    assert_eq!(
        row(&namespaces(&h, ADMIN).await).sidecar,
        SidecarState::None
    );

    let enabled = switch_workload(&h, "legacy", &name, true, false).await;
    assert!(enabled.changed);
    assert!(
        enabled
            .after
            .contains_key("kubectl.kubernetes.io/restartedAt")
    );
    assert_eq!(row(&namespaces(&h, ADMIN).await).sidecar, SidecarState::All);
    assert!(
        !switch_workload(&h, "legacy", &name, true, false)
            .await
            .changed
    );

    let disabled = switch_workload(&h, "legacy", &name, false, false).await;
    assert!(disabled.changed);
    assert_eq!(
        disabled
            .after
            .get("sidecar.istio.io/inject")
            .map(String::as_str),
        Some("false")
    );
    let w = row(&namespaces(&h, ADMIN).await);
    assert_eq!((w.sidecar, w.opted_out), (SidecarState::None, true));
    assert!(
        !switch_workload(&h, "legacy", &name, false, false)
            .await
            .changed
    );

    // Back on, then the namespace off: everything foreign is as it was.
    switch_workload(&h, "legacy", &name, true, false).await;
    switch_namespace(&h, "legacy", false, false).await;
    let mut now = deployment_meta(&h, "legacy", &name).await;
    assert!(now[3].remove("kubectl.kubernetes.io/restartedAt").is_some());
    assert!(!now[3].contains_key("sidecar.istio.io/inject"));
    assert_eq!(now, original);
}

#[tokio::test]
async fn unknown_kinds_and_workloads_are_404_and_bad_bodies_are_rejected() {
    let h = harness();
    let (status, _) = call(
        &h.state,
        Method::POST,
        "/api/namespaces/legacy/workloads/cronjobs/x/injection",
        Some(ADMIN),
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &h.state,
        Method::POST,
        "/api/namespaces/legacy/workloads/deployments/nope/injection",
        Some(ADMIN),
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &h.state,
        Method::POST,
        "/api/namespaces/nope/injection",
        Some(ADMIN),
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &h.state,
        Method::POST,
        "/api/namespaces/legacy/injection",
        Some(ADMIN),
        Some(json!({"enabled": "yes"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = call(
        &h.state,
        Method::POST,
        "/api/namespaces/legacy/injection?dryRun=maybe",
        Some(ADMIN),
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn members_see_and_switch_only_their_namespaces() {
    let h = harness();
    let names = |l: NamespaceList| l.namespaces.into_iter().map(|n| n.name).collect::<Vec<_>>();
    assert_eq!(names(namespaces(&h, ALICE).await), ["bookinfo"]);
    assert_eq!(names(namespaces(&h, BOB).await), ["legacy", "payments"]);
    let bookinfo = namespaces(&h, ALICE).await.namespaces.remove(0);
    assert!(bookinfo.injection);
    assert!(
        bookinfo
            .workloads
            .iter()
            .any(|w| w.kind == app::types::WorkloadKind::StatefulSet)
    );
    let (status, body) = call(
        &h.state,
        Method::POST,
        "/api/namespaces/payments/injection?dryRun=true",
        Some(ALICE),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let message = error_message(&body);
    assert!(
        message.contains("alice") && message.contains("payments") && message.contains("list pods"),
        "{message}"
    );
}

/// Every new endpoint for every identity: the expected status.
#[tokio::test]
async fn role_by_endpoint_matrix() {
    let h = harness();
    // A ServiceAccount with only Kubernetes' `view` rights in bookinfo: it
    // sees the namespace, and every write it tries is Kubernetes' 403.
    for object in [
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "view"},
        "rules": [
            {"apiGroups": [""], "resources": ["pods", "services", "namespaces"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets", "daemonsets"], "verbs": ["get", "list", "watch"]},
        ]}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "viewer", "namespace": "bookinfo"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "viewer", "namespace": "bookinfo"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "viewer", "namespace": "bookinfo"}]}),
    ] {
        h.cluster.create(object).unwrap();
    }
    h.cluster
        .add_token(VIEWER, "system:serviceaccount:bookinfo:viewer", &[]);
    let settings = serde_json::to_value(MeshSettings::default()).unwrap();
    let dry = |enabled: bool| Some(json!({"enabled": enabled}));
    struct Case {
        method: Method,
        uri: &'static str,
        body: Option<Value>,
        // admin, alice, bob, viewer
        expect: [u16; 4],
    }
    let cases = [
        Case {
            method: Method::GET,
            uri: "/api/namespaces",
            body: None,
            expect: [200, 200, 200, 200],
        },
        Case {
            method: Method::POST,
            uri: "/api/namespaces/bookinfo/injection?dryRun=true",
            body: dry(true),
            // Already on for the viewer: nothing to write, so nothing refused.
            expect: [200, 200, 403, 200],
        },
        Case {
            method: Method::POST,
            uri: "/api/namespaces/bookinfo/injection?dryRun=true",
            body: dry(false),
            expect: [200, 200, 403, 403],
        },
        Case {
            method: Method::POST,
            uri: "/api/namespaces/payments/injection?dryRun=true",
            body: dry(false),
            expect: [200, 403, 200, 403],
        },
        Case {
            method: Method::POST,
            uri: "/api/namespaces/bookinfo/workloads/deployments/details-v1/injection?dryRun=true",
            body: dry(false),
            expect: [200, 200, 403, 403],
        },
        Case {
            method: Method::POST,
            uri: "/api/namespaces/bookinfo/workloads/statefulsets/mongodb-v1/injection?dryRun=true",
            body: dry(false),
            expect: [200, 200, 403, 403],
        },
        Case {
            method: Method::GET,
            uri: "/api/settings",
            body: None,
            expect: [200, 403, 403, 403],
        },
        Case {
            method: Method::POST,
            uri: "/api/settings/preflight",
            body: Some(settings.clone()),
            expect: [200, 403, 403, 403],
        },
        Case {
            method: Method::PUT,
            uri: "/api/settings",
            body: Some(json!({"settings": settings, "resource_version": null})),
            expect: [200, 403, 403, 403],
        },
    ];
    for case in cases {
        for (token, expected) in [ADMIN, ALICE, BOB, VIEWER].into_iter().zip(case.expect) {
            let (status, body) = call(
                &h.state,
                case.method.clone(),
                case.uri,
                Some(token),
                case.body.clone(),
            )
            .await;
            assert_eq!(
                status.as_u16(),
                expected,
                "{} {} as {token}: {body}",
                case.method,
                case.uri
            );
            // The viewer's refused writes in its own namespace are Kubernetes'.
            if token == VIEWER
                && expected == 403
                && case.uri.starts_with("/api/namespaces/bookinfo/")
            {
                assert!(
                    error_message(&body).contains(
                        "is forbidden: User \"system:serviceaccount:bookinfo:viewer\" cannot patch resource"
                    ),
                    "{} {body}",
                    case.uri
                );
            }
        }
        for token in [None, Some("not-a-token")] {
            let (status, body) = call(
                &h.state,
                case.method.clone(),
                case.uri,
                token,
                case.body.clone(),
            )
            .await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{} {} with {token:?}",
                case.method,
                case.uri
            );
            assert_eq!(
                parse::<ErrorBody>(body).error.code,
                ErrorCode::Unauthenticated
            );
        }
    }
}

#[tokio::test]
async fn settings_start_at_the_defaults_and_report_every_invalid_field() {
    let h = harness();
    let (status, body) = call(&h.state, Method::GET, "/api/settings", Some(ADMIN), None).await;
    assert_eq!(status, StatusCode::OK);
    let doc: SettingsDocument = parse(body);
    assert_eq!(doc.settings, MeshSettings::default());
    assert_eq!(doc.resource_version, None);
    assert_eq!(doc.stored_in, "meshdeck/meshdeck-settings");
    // Allocatable of the schedulable demo nodes, from the scenario itself.
    let cpu: u64 = h
        .mesh
        .nodes
        .iter()
        .filter(|n| n.schedulable)
        .map(|n| n.cpu_millis)
        .sum();
    assert_eq!(doc.preflight.cpu_allocatable_m, cpu);
    assert_eq!(doc.preflight.cpu_requested_m, 2450);
    assert!(doc.preflight.fits);

    let mut bad = MeshSettings::default();
    bad.pilot.resources.memory_limit = "four gigs".into();
    bad.tracing.resources.cpu_request = "600m".into();
    bad.ingress_gateway.https_node_port = 40000;
    bad.trace_sampling_percent = "-3".into();
    bad.tool_urls.kiali = "kiali".into();
    let (status, body) = call(
        &h.state,
        Method::PUT,
        "/api/settings",
        Some(ADMIN),
        Some(json!({"settings": bad, "resource_version": null})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = error_message(&body);
    assert!(message.starts_with("5 invalid fields"), "{message}");
    for field in [
        "pilot.resources.memory_limit",
        "tracing.resources.cpu_request",
        "ingress_gateway.https_node_port",
        "trace_sampling_percent",
        "tool_urls.kiali",
    ] {
        assert!(message.contains(field), "{field} missing in {message}");
    }
    // Nothing was stored.
    let (_, body) = call(&h.state, Method::GET, "/api/settings", Some(ADMIN), None).await;
    assert_eq!(parse::<SettingsDocument>(body).resource_version, None);
}

#[tokio::test]
async fn a_plan_that_does_not_fit_is_refused_with_the_shortfall() {
    let h = harness();
    let cpu: u64 = h
        .mesh
        .nodes
        .iter()
        .filter(|n| n.schedulable)
        .map(|n| n.cpu_millis)
        .sum();
    let mut big = MeshSettings::default();
    big.pilot.resources.cpu_request = "20".into();
    big.pilot.resources.cpu_limit = "20".into();
    let needed = 20_000 + 1000 + 100 + 750 + 100;
    let (status, body) = call(
        &h.state,
        Method::POST,
        "/api/settings/preflight",
        Some(ADMIN),
        Some(serde_json::to_value(&big).unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let preflight: Preflight = parse(body);
    assert!(!preflight.fits);
    let expected = format!(
        "needs {needed} m CPU, {cpu} m allocatable: short by {} m",
        needed - cpu
    );
    assert_eq!(preflight.shortfalls, std::slice::from_ref(&expected));
    let (status, body) = call(
        &h.state,
        Method::PUT,
        "/api/settings",
        Some(ADMIN),
        Some(json!({"settings": big, "resource_version": null})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_message(&body).contains(&expected));
}

#[tokio::test]
async fn concurrent_saves_never_lose_an_update() {
    let h = harness();
    let put = |settings: MeshSettings, rv: Option<String>| {
        let state = h.state.clone();
        async move {
            let update = SettingsUpdate {
                settings,
                resource_version: rv,
            };
            call(
                &state,
                Method::PUT,
                "/api/settings",
                Some(ADMIN),
                Some(serde_json::to_value(update).unwrap()),
            )
            .await
        }
    };
    let first = MeshSettings {
        trace_sampling_percent: "5".into(),
        ..MeshSettings::default()
    };
    let (status, body) = put(first.clone(), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rv = parse::<SettingsDocument>(body).resource_version;
    assert!(rv.is_some());
    // A second "first save" conflicts instead of overwriting.
    let (status, _) = put(MeshSettings::default(), None).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Two editors from the same version: exactly one wins, the other gets 409.
    let mut a = first.clone();
    a.trace_sampling_percent = "10".into();
    let mut b = first.clone();
    b.grafana.enabled = false;
    let ((sa, _), (sb, _)) = tokio::join!(put(a.clone(), rv.clone()), put(b.clone(), rv.clone()));
    let mut statuses = [sa.as_u16(), sb.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let (_, body) = call(&h.state, Method::GET, "/api/settings", Some(ADMIN), None).await;
    let stored = parse::<SettingsDocument>(body).settings;
    let winner = if sa == StatusCode::OK { a } else { b };
    assert_eq!(stored, winner);
    // The stale version is refused afterwards too.
    let (status, body) = put(first, rv).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(error_message(&body).contains("reload"));
}

/// Saves settings with the ingress gateway on.
async fn gateway_on(h: &Harness) {
    let mut settings = MeshSettings::default();
    settings.ingress_gateway.component.enabled = true;
    let update = SettingsUpdate {
        settings,
        resource_version: None,
    };
    let (status, body) = call(
        &h.state,
        Method::PUT,
        "/api/settings",
        Some(ADMIN),
        Some(serde_json::to_value(update).unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn mesh_call(h: &Harness, path: &str) -> (StatusCode, Value) {
    let method = if path == "/api/mesh" {
        Method::GET
    } else {
        Method::POST
    };
    call(&h.state, method, path, Some(ADMIN), None).await
}

async fn gateway_exists(h: &Harness) -> (bool, bool) {
    let deployments = Api::<Deployment>::namespaced(h.client.clone(), "istio-system");
    let services =
        Api::<k8s_openapi::api::core::v1::Service>::namespaced(h.client.clone(), "istio-system");
    (
        deployments
            .get_opt("meshdeck-ingressgateway")
            .await
            .unwrap()
            .is_some(),
        services
            .get_opt("meshdeck-ingressgateway")
            .await
            .unwrap()
            .is_some(),
    )
}

#[tokio::test]
async fn enabling_and_disabling_the_mesh_touches_only_what_meshdeck_owns() {
    let h = harness();
    // Foreign metadata on what enabling must not change.
    let foreign = json!({"metadata": {"labels": {"team": "platform"}, "annotations": {"example.com/note": "keep"}}});
    Api::<Namespace>::all(h.client.clone())
        .patch(
            "istio-system",
            &PatchParams::default(),
            &Patch::Merge(&foreign),
        )
        .await
        .unwrap();
    Api::<Deployment>::namespaced(h.client.clone(), "istio-system")
        .patch("istiod", &PatchParams::default(), &Patch::Merge(&foreign))
        .await
        .unwrap();
    let ns_before = namespace_meta(&h, "istio-system").await;
    let istiod_before = deployment_meta(&h, "istio-system", "istiod").await;
    let nginx_before = deployment_meta(&h, "ingress-nginx", "ingress-nginx-controller").await;
    gateway_on(&h).await;

    let (status, body) = mesh_call(&h, "/api/mesh").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before: MeshStatus = parse(body);
    assert!(!before.enabled);
    assert_eq!(before.control_plane.kind, ControlPlaneKind::ExistingIstiod);
    assert_eq!(before.control_plane.version.as_deref(), Some("1.26.0"));
    assert_eq!(before.ingresses.len(), 1);
    assert_eq!(before.ingresses[0].kind, IngressKind::Controller);

    // Dry run: the steps, nothing created.
    let (status, body) = mesh_call(&h, "/api/mesh/enable?dryRun=true").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let preview: MeshChange = parse(body);
    assert!(preview.dry_run);
    assert!(
        preview
            .steps
            .iter()
            .any(|s| s.starts_with("create Deployment istio-system/meshdeck-ingressgateway")),
        "{:?}",
        preview.steps
    );
    assert_eq!(gateway_exists(&h).await, (false, false));

    let (status, body) = mesh_call(&h, "/api/mesh/enable").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let enabled: MeshChange = parse(body);
    assert!(enabled.status.enabled && enabled.status.enabled_at.is_some());
    assert_eq!(gateway_exists(&h).await, (true, true));
    // Both ingresses: the existing controller and the Istio gateway.
    let kinds: Vec<(IngressKind, &str, bool)> = enabled
        .status
        .ingresses
        .iter()
        .map(|i| (i.kind, i.name.as_str(), i.managed_by_meshdeck))
        .collect();
    assert_eq!(
        kinds,
        [
            (IngressKind::Controller, "ingress-nginx-controller", false),
            (IngressKind::IstioGateway, "meshdeck-ingressgateway", true),
        ]
    );
    assert!(
        enabled.status.ingresses[1]
            .ports
            .contains(&"http2 80 → node 31380".to_owned())
    );
    // Enabling again changes nothing new and keeps the first enable time.
    let (_, body) = mesh_call(&h, "/api/mesh/enable").await;
    let again: MeshChange = parse(body);
    assert_eq!(again.status.enabled_at, enabled.status.enabled_at);

    let (status, body) = mesh_call(&h, "/api/mesh/disable?dryRun=true").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(gateway_exists(&h).await, (true, true));
    let (status, body) = mesh_call(&h, "/api/mesh/disable").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let disabled: MeshChange = parse(body);
    assert!(!disabled.status.enabled);
    assert_eq!(gateway_exists(&h).await, (false, false));
    assert_eq!(disabled.status.ingresses.len(), 1);

    // Everything foreign is as it was.
    assert_eq!(namespace_meta(&h, "istio-system").await, ns_before);
    assert_eq!(
        deployment_meta(&h, "istio-system", "istiod").await,
        istiod_before
    );
    assert_eq!(
        deployment_meta(&h, "ingress-nginx", "ingress-nginx-controller").await,
        nginx_before
    );
}

#[tokio::test]
async fn a_foreign_object_in_the_way_stops_enable_before_any_write() {
    let h = harness();
    gateway_on(&h).await;
    let svc: k8s_openapi::api::core::v1::Service = serde_json::from_value(json!({
        "metadata": {"name": "meshdeck-ingressgateway", "namespace": "istio-system"},
        "spec": {"type": "ClusterIP", "ports": [{"port": 80}]},
    }))
    .unwrap();
    Api::<k8s_openapi::api::core::v1::Service>::namespaced(h.client.clone(), "istio-system")
        .create(&Default::default(), &svc)
        .await
        .unwrap();
    let (status, body) = mesh_call(&h, "/api/mesh/enable").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(error_message(&body).contains("not created by meshdeck"));
    assert_eq!(gateway_exists(&h).await, (false, true));
    let (_, body) = mesh_call(&h, "/api/mesh").await;
    assert!(!parse::<MeshStatus>(body).enabled);
}

#[tokio::test]
async fn a_failing_later_step_rolls_back_the_earlier_ones() {
    // The API server refuses to apply the gateway's Service for real (dry
    // runs pass).
    let h = harness_with(|cluster| {
        let router = cluster.router();
        let mut own = http::HeaderMap::new();
        own.insert(
            header::AUTHORIZATION,
            format!("Bearer {MESHDECK_SA_TOKEN}").parse().unwrap(),
        );
        Cluster::in_process(own, move |headers| {
            let router = router.clone();
            let service = tower::service_fn(move |mut req: http::Request<kube::client::Body>| {
                let router = router.clone();
                req.headers_mut().extend(headers.clone());
                async move {
                    let dry = req.uri().query().unwrap_or("").contains("dryRun");
                    if req.method() == Method::PATCH
                        && req
                            .uri()
                            .path()
                            .ends_with("/services/meshdeck-ingressgateway")
                        && !dry
                    {
                        let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                        "message": "injected failure", "reason": "InternalError", "code": 500});
                        return Ok(axum::response::Response::builder()
                            .status(500)
                            .header(header::CONTENT_TYPE, "application/json")
                            .body(Body::from(status.to_string()))
                            .unwrap());
                    }
                    router.oneshot(req).await
                }
            });
            kube::Client::new(service, "default")
        })
    });
    gateway_on(&h).await;
    let (status, body) = mesh_call(&h, "/api/mesh/enable").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        error_message(&body).contains("apply Service istio-system/meshdeck-ingressgateway"),
        "{body}"
    );
    // The Deployment created before the failure is gone again; not enabled.
    assert_eq!(gateway_exists(&h).await, (false, false));
    let (_, body) = mesh_call(&h, "/api/mesh").await;
    let status: MeshStatus = parse(body);
    assert!(!status.enabled && status.created.is_empty());
}

#[tokio::test]
async fn only_owners_see_or_switch_the_mesh() {
    let h = harness();
    for (method, uri) in [
        (Method::GET, "/api/mesh"),
        (Method::POST, "/api/mesh/enable?dryRun=true"),
        (Method::POST, "/api/mesh/disable?dryRun=true"),
    ] {
        for (token, expected) in [
            (Some(ADMIN), 200),
            (Some(ALICE), 403),
            (Some(BOB), 403),
            (None, 401),
            (Some("bad"), 401),
        ] {
            let (status, body) = call(&h.state, method.clone(), uri, token, None).await;
            assert_eq!(
                status.as_u16(),
                expected,
                "{method} {uri} as {token:?}: {body}"
            );
        }
    }
}

/// The auto-injection policy the stored ConfigMaps give.
async fn current_policy(h: &Harness) -> meshdeck_server::enablement::autoinject::Policy {
    let api =
        Api::<k8s_openapi::api::core::v1::ConfigMap>::namespaced(h.client.clone(), "meshdeck");
    let state = api.get_opt("meshdeck-mesh").await.unwrap();
    let settings = api.get_opt("meshdeck-settings").await.unwrap();
    meshdeck_server::enablement::autoinject::policy_from(state.as_ref(), settings.as_ref())
}

#[tokio::test]
async fn new_namespaces_get_injection_while_the_mesh_is_enabled() {
    use meshdeck_server::enablement::autoinject;
    let h = harness();
    let api = Api::<Namespace>::all(h.client.clone());
    let create = |name: &'static str, labels: Value| {
        let api = api.clone();
        async move {
            let ns: Namespace =
                serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}}))
                    .unwrap();
            api.create(&Default::default(), &ns).await.unwrap();
        }
    };
    let watch = meshdeck_server::run::spawn_controllers(
        h.state.clone(),
        "meshdeck".into(),
        LeaseTiming {
            duration_s: 3,
            grace_s: 1,
        },
    );
    // Before enabling: nothing is labelled.
    create("before-enable", json!({})).await;
    // Creation times have whole seconds: one in the enable's second counts
    // as created at the enable (README), so this one is made a second before.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, body) = mesh_call(&h, "/api/mesh/enable").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    create("team-new", json!({"team": "x"})).await;
    create("team-rev", json!({"istio.io/rev": "canary"})).await;
    create("team-off", json!({"istio-injection": "disabled"})).await;
    let mut labelled = false;
    for _ in 0..100 {
        if namespace_meta(&h, "team-new")
            .await
            .0
            .get("istio-injection")
            .map(String::as_str)
            == Some("enabled")
        {
            labelled = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(labelled, "team-new was not labelled");
    let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let mut now = namespace_meta(&h, "team-new").await.0;
    now.remove("kubernetes.io/metadata.name");
    assert_eq!(
        now,
        labels(&[("team", "x"), ("istio-injection", "enabled")])
    );
    // Explicit choices and namespaces from before the enable are left alone.
    assert_eq!(
        namespace_meta(&h, "team-rev")
            .await
            .0
            .get("istio-injection"),
        None
    );
    assert_eq!(
        namespace_meta(&h, "team-off")
            .await
            .0
            .get("istio-injection")
            .map(String::as_str),
        Some("disabled")
    );
    assert_eq!(
        namespace_meta(&h, "before-enable")
            .await
            .0
            .get("istio-injection"),
        None
    );
    assert_eq!(
        namespace_meta(&h, "legacy").await.0.get("istio-injection"),
        None
    );

    // Idempotent: the labelled namespace is not wanted again.
    let policy = current_policy(&h).await;
    assert!(policy.since.is_some());
    let ns = api.get("team-new").await.unwrap();
    assert!(!autoinject::wants_label(&policy, &ns));
    // A namespace switched on explicitly after auto-injection labelled it
    // is an explicit choice: the mark goes, and disabling keeps its label.
    create("team-kept", json!({})).await;
    for _ in 0..100 {
        if namespace_meta(&h, "team-kept")
            .await
            .1
            .contains_key(AUTO_MARK)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        namespace_meta(&h, "team-kept")
            .await
            .1
            .contains_key(AUTO_MARK)
    );
    let auto = |list: &NamespaceList, name: &str| {
        list.namespaces
            .iter()
            .find(|n| n.name == name)
            .map(|n| n.auto_injected)
    };
    let listed = namespaces(&h, ADMIN).await;
    assert_eq!(auto(&listed, "team-kept"), Some(true));
    assert_eq!(auto(&listed, "team-off"), Some(false));
    let change = switch_namespace(&h, "team-kept", true, false).await;
    assert!(change.changed);
    assert_eq!(auto(&namespaces(&h, ADMIN).await, "team-kept"), Some(false));
    assert!(
        !namespace_meta(&h, "team-kept")
            .await
            .1
            .contains_key(AUTO_MARK)
    );

    // Disabling takes back the labels auto-injection set, and only those;
    // the dry run lists them and changes nothing.
    assert!(
        namespace_meta(&h, "team-new")
            .await
            .1
            .contains_key(AUTO_MARK)
    );
    let (status, body) = mesh_call(&h, "/api/mesh/disable?dryRun=true").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let preview: MeshChange = parse(body);
    let unlabel_steps: Vec<&String> = preview
        .steps
        .iter()
        .filter(|s| s.starts_with("remove istio-injection=enabled from namespace"))
        .collect();
    assert_eq!(unlabel_steps.len(), 1, "{:?}", preview.steps);
    assert!(unlabel_steps[0].contains("namespace team-new "));
    assert!(
        namespace_meta(&h, "team-new")
            .await
            .0
            .contains_key("istio-injection")
    );
    let (status, body) = mesh_call(&h, "/api/mesh/disable").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (new_labels, new_annotations) = namespace_meta(&h, "team-new").await;
    assert_eq!(new_labels.get("istio-injection"), None);
    assert_eq!(new_labels.get("team").map(String::as_str), Some("x"));
    assert!(!new_annotations.contains_key(AUTO_MARK));
    assert_eq!(
        namespace_meta(&h, "team-kept")
            .await
            .0
            .get("istio-injection")
            .map(String::as_str),
        Some("enabled")
    );
    assert_eq!(
        namespace_meta(&h, "team-off")
            .await
            .0
            .get("istio-injection")
            .map(String::as_str),
        Some("disabled")
    );
    assert_eq!(
        namespace_meta(&h, "bookinfo")
            .await
            .0
            .get("istio-injection")
            .map(String::as_str),
        Some("enabled")
    );
    // After disabling, new namespaces stay as created.
    let off = current_policy(&h).await;
    assert_eq!(off.since, None);
    watch.abort();
}

#[tokio::test]
async fn member_access_follows_the_saved_settings() {
    use app::types::{MemberAccessMode, MemberAccessSettings};
    let h = harness();
    let features = |token: &'static str| {
        let state = h.state.clone();
        async move {
            let (status, body) = call(&state, Method::GET, "/api/me", Some(token), None).await;
            assert_eq!(status, StatusCode::OK);
            let me: app::types::Me = parse(body);
            (me.features.graph, me.features.traces)
        }
    };
    assert_eq!(features(ALICE).await, (true, true));
    let mut rv = None;
    for (access, alice, bob) in [
        (
            MemberAccessSettings {
                mode: MemberAccessMode::OwnerOnly,
                ..Default::default()
            },
            false,
            false,
        ),
        (
            MemberAccessSettings {
                mode: MemberAccessMode::Listed,
                users: vec!["alice".into()],
                groups: vec![],
            },
            true,
            false,
        ),
    ] {
        let settings = MeshSettings {
            member_access: access,
            ..MeshSettings::default()
        };
        let update = SettingsUpdate {
            settings,
            resource_version: rv.clone(),
        };
        let (status, body) = call(
            &h.state,
            Method::PUT,
            "/api/settings",
            Some(ADMIN),
            Some(serde_json::to_value(update).unwrap()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        rv = parse::<SettingsDocument>(body).resource_version;
        assert_eq!(features(ALICE).await, (alice, alice));
        assert_eq!(features(BOB).await, (bob, bob));
        // Owners always see both.
        assert_eq!(features(ADMIN).await, (true, true));
    }
}

/// Enable and disable where an operator API is served: meshdeck writes its
/// own control-plane resource with the settings' values, reports it, and
/// removes it again; where someone else's resource of that kind exists,
/// meshdeck uses it and writes none.
async fn operator_round_trip(group: &str, plural: &str, kind: ControlPlaneKind) {
    let h = harness();
    assert!(h.cluster.install_crd(group, plural));
    // A cluster with the operator but no control plane yet.
    Api::<Deployment>::namespaced(h.client.clone(), "istio-system")
        .delete("istiod", &Default::default())
        .await
        .unwrap();
    let (ar, namespace) = match kind {
        ControlPlaneKind::SailIstio => (
            kube::api::ApiResource::from_gvk_with_plural(
                &kube::api::GroupVersionKind::gvk("sailoperator.io", "v1", "Istio"),
                "istios",
            ),
            None,
        ),
        _ => (
            kube::api::ApiResource::from_gvk_with_plural(
                &kube::api::GroupVersionKind::gvk("install.istio.io", "v1alpha1", "IstioOperator"),
                "istiooperators",
            ),
            Some("istio-system"),
        ),
    };
    let api: Api<kube::api::DynamicObject> = match namespace {
        Some(ns) => Api::namespaced_with(h.client.clone(), ns, &ar),
        None => Api::all_with(h.client.clone(), &ar),
    };
    // Settings other than the defaults, to see them in the resource.
    let mut settings = MeshSettings::default();
    settings.pilot.resources.cpu_request = "600m".into();
    settings.trace_sampling_percent = "5".into();
    let update = SettingsUpdate {
        settings,
        resource_version: None,
    };
    let (status, body) = call(
        &h.state,
        Method::PUT,
        "/api/settings",
        Some(ADMIN),
        Some(serde_json::to_value(update).unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (_, body) = mesh_call(&h, "/api/mesh").await;
    let before: MeshStatus = parse(body);
    assert_eq!(before.control_plane.kind, kind);
    assert!(!before.control_plane.managed_by_meshdeck);

    let (status, body) = mesh_call(&h, "/api/mesh/enable?dryRun=true").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(api.get_opt("meshdeck").await.unwrap().is_none());
    let (status, body) = mesh_call(&h, "/api/mesh/enable").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let enabled: MeshChange = parse(body);
    assert!(
        enabled.steps.iter().any(|s| s.starts_with("create ")),
        "{:?}",
        enabled.steps
    );
    assert_eq!(enabled.status.control_plane.kind, kind);
    assert!(enabled.status.control_plane.managed_by_meshdeck);
    let written = api.get("meshdeck").await.unwrap();
    assert_eq!(
        written.metadata.labels.as_ref().unwrap()["app.kubernetes.io/managed-by"],
        "meshdeck"
    );
    let pilot = match kind {
        ControlPlaneKind::SailIstio => &written.data["spec"]["values"]["pilot"],
        _ => &written.data["spec"]["components"]["pilot"]["k8s"],
    };
    assert_eq!(pilot["resources"]["requests"]["cpu"], "600m");
    assert_eq!(pilot["resources"]["limits"]["memory"], "4096Mi");
    let sampling = match kind {
        ControlPlaneKind::SailIstio => &written.data["spec"]["values"]["pilot"]["traceSampling"],
        _ => &written.data["spec"]["values"]["pilot"]["traceSampling"],
    };
    assert_eq!(sampling.as_f64(), Some(5.0));

    let (status, body) = mesh_call(&h, "/api/mesh/disable").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(api.get_opt("meshdeck").await.unwrap().is_none());

    // Someone else's resource: used, not duplicated, not removed.
    let mut foreign = json!({
        "apiVersion": ar.api_version,
        "kind": ar.kind,
        "metadata": {"name": "default", "labels": {"owner": "platform"}},
        "spec": {},
    });
    if let Some(ns) = namespace {
        foreign["metadata"]["namespace"] = json!(ns);
    }
    let foreign: kube::api::DynamicObject = serde_json::from_value(foreign).unwrap();
    api.create(&Default::default(), &foreign).await.unwrap();
    let (status, body) = mesh_call(&h, "/api/mesh/enable").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let enabled: MeshChange = parse(body);
    let expected = match namespace {
        Some(ns) => format!("{ns}/default"),
        None => "default".into(),
    };
    assert_eq!(
        enabled.status.control_plane.resource.as_deref(),
        Some(expected.as_str())
    );
    assert!(!enabled.status.control_plane.managed_by_meshdeck);
    assert!(
        enabled.steps[0].starts_with("use the existing") && enabled.steps[0].contains(&expected),
        "{:?}",
        enabled.steps
    );
    assert!(api.get_opt("meshdeck").await.unwrap().is_none());
    let (status, body) = mesh_call(&h, "/api/mesh/disable").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let kept = api.get("default").await.unwrap();
    assert_eq!(kept.metadata.labels.unwrap()["owner"], "platform");
}

#[tokio::test]
async fn an_istiod_installed_otherwise_is_used_even_where_the_sail_operator_is_served() {
    // The Sail operator's API is served, and an istiod installed by other
    // means (the demo's, by Helm say) runs: a second control plane would
    // be wrong, so meshdeck writes no `Istio`.
    let h = harness();
    assert!(h.cluster.install_crd("sailoperator.io", "istios"));
    let (_, body) = mesh_call(&h, "/api/mesh").await;
    let before: MeshStatus = parse(body);
    assert_eq!(before.control_plane.kind, ControlPlaneKind::ExistingIstiod);
    assert_eq!(before.control_plane.version.as_deref(), Some("1.26.0"));
    let (status, body) = mesh_call(&h, "/api/mesh/enable").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let enabled: MeshChange = parse(body);
    assert!(
        enabled.steps[0]
            .starts_with("use the existing istiod 1.26.0 (Deployment istio-system/istiod)"),
        "{:?}",
        enabled.steps
    );
    let istios = kube::api::ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("sailoperator.io", "v1", "Istio"),
        "istios",
    );
    let api: Api<kube::api::DynamicObject> = Api::all_with(h.client.clone(), &istios);
    assert!(
        api.list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(!enabled.status.control_plane.managed_by_meshdeck);
}

#[tokio::test]
async fn sail_istio_is_written_and_removed_where_the_sail_operator_is_served() {
    operator_round_trip("sailoperator.io", "istios", ControlPlaneKind::SailIstio).await;
}

#[tokio::test]
async fn istio_operator_is_written_and_removed_where_its_api_is_served() {
    operator_round_trip(
        "install.istio.io",
        "istiooperators",
        ControlPlaneKind::IstioOperator,
    )
    .await;
}

#[tokio::test]
async fn tool_urls_saved_in_the_settings_become_the_links() {
    use app::types::{Me, UpstreamKind};
    let h = harness();
    let links = |token: &'static str| {
        let state = h.state.clone();
        async move {
            let (status, body) = call(&state, Method::GET, "/api/me", Some(token), None).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            parse::<Me>(body)
                .links
                .into_iter()
                .map(|l| (l.kind, l.url))
                .collect::<Vec<_>>()
        }
    };
    // The harness configures no tool URLs: no links.
    assert!(links(ADMIN).await.is_empty());
    let mut settings = MeshSettings::default();
    settings.tool_urls.kiali = "https://kiali.example.com/".into();
    settings.tool_urls.grafana = "https://grafana.example.com/".into();
    let update = SettingsUpdate {
        settings,
        resource_version: None,
    };
    let (status, body) = call(
        &h.state,
        Method::PUT,
        "/api/settings",
        Some(ADMIN),
        Some(serde_json::to_value(update).unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        links(ADMIN).await,
        [
            (UpstreamKind::Kiali, "https://kiali.example.com/".to_owned()),
            (
                UpstreamKind::Grafana,
                "https://grafana.example.com/".to_owned()
            ),
        ]
    );
    // Members (who may see the graph by default) get Kiali, never Grafana.
    assert_eq!(
        links(ALICE).await,
        [(UpstreamKind::Kiali, "https://kiali.example.com/".to_owned())]
    );
}

#[tokio::test]
async fn members_get_kiali_and_jaeger_links_only_while_the_settings_admit_them() {
    use app::types::{Me, MemberAccessMode, UpstreamKind};
    let h = harness();
    let kinds = |token: &'static str| {
        let state = h.state.clone();
        async move {
            let (status, body) = call(&state, Method::GET, "/api/me", Some(token), None).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            parse::<Me>(body)
                .links
                .into_iter()
                .map(|l| l.kind)
                .collect::<Vec<_>>()
        }
    };
    save(&h.state, |s| {
        s.tool_urls.kiali = "https://kiali.example.com/".into();
        s.tool_urls.jaeger = "https://jaeger.example.com/".into();
        s.tool_urls.grafana = "https://grafana.example.com/".into();
        s.tool_urls.prometheus = "https://prometheus.example.com/".into();
    })
    .await;
    let all = [
        UpstreamKind::Kiali,
        UpstreamKind::Jaeger,
        UpstreamKind::Grafana,
        UpstreamKind::Prometheus,
    ];
    let member_tools = [UpstreamKind::Kiali, UpstreamKind::Jaeger];

    // All members admitted (the default).
    assert_eq!(kinds(ADMIN).await, all);
    assert_eq!(kinds(ALICE).await, member_tools);
    assert_eq!(kinds(BOB).await, member_tools);

    // Owner only: members lose both; the owner keeps all four.
    save(&h.state, |s| {
        s.member_access.mode = MemberAccessMode::OwnerOnly
    })
    .await;
    assert_eq!(kinds(ADMIN).await, all);
    assert!(kinds(ALICE).await.is_empty());
    assert!(kinds(BOB).await.is_empty());

    // Listed: only the listed member gets them back.
    save(&h.state, |s| {
        s.member_access.mode = MemberAccessMode::Listed;
        s.member_access.users = vec!["alice".into()];
    })
    .await;
    assert_eq!(kinds(ALICE).await, member_tools);
    assert!(kinds(BOB).await.is_empty());
    assert_eq!(kinds(ADMIN).await, all);
}

/// Saves the current mesh settings with `change` applied, as the owner.
async fn save(state: &AppState, change: impl FnOnce(&mut MeshSettings)) {
    let (_, doc) = call(state, Method::GET, "/api/settings", Some(ADMIN), None).await;
    let doc: SettingsDocument = parse(doc);
    let mut settings = doc.settings;
    change(&mut settings);
    let update = SettingsUpdate {
        settings,
        resource_version: doc.resource_version,
    };
    let (status, body) = call(
        state,
        Method::PUT,
        "/api/settings",
        Some(ADMIN),
        Some(serde_json::to_value(update).unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
