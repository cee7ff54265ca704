//! Enablement through `router()` against the in-memory cluster: namespace
//! and workload injection round trips that keep every foreign label and
//! annotation, dry runs that change nothing, idempotence, the mesh
//! settings' validation, preflight and optimistic concurrency, and the role
//! × endpoint matrix of these endpoints.

use std::collections::BTreeMap;

use app::types::{
    AuthMode, ErrorBody, ErrorCode, InjectionChange, MeshSettings, NamespaceList, Preflight,
    RunMode, SettingsDocument, SettingsUpdate, SidecarState,
};
use axum::body::Body;
use http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, Patch, PatchParams};
use meshdeck_server::auth::AuthOptions;
use meshdeck_server::demo::demo_identities;
use meshdeck_server::spa::Spa;
use meshdeck_server::upstream::Upstreams;
use meshdeck_server::{AppState, router};
use meshdeck_sim::kube::InMemoryCluster;
use meshdeck_sim::model::Mesh;
use meshdeck_sim::scenario;
use serde_json::{Value, json};
use tower::ServiceExt;

const ADMIN: &str = "demo-token-admin";
const ALICE: &str = "demo-token-alice";
const BOB: &str = "demo-token-bob";

struct Harness {
    mesh: Mesh,
    client: kube::Client,
    state: AppState,
}

fn harness() -> Harness {
    let mesh = scenario::demo();
    let cluster = InMemoryCluster::from_mesh(&mesh);
    let client = cluster.client();
    let upstreams = Upstreams {
        kube: Some(client.clone()),
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
        client,
        state,
    }
}

async fn call(
    state: &AppState,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some(v) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let response = router(state.clone())
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
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
    let settings = serde_json::to_value(MeshSettings::default()).unwrap();
    let dry = |enabled: bool| Some(json!({"enabled": enabled}));
    struct Case {
        method: Method,
        uri: &'static str,
        body: Option<Value>,
        // admin, alice, bob
        expect: [u16; 3],
    }
    let cases = [
        Case {
            method: Method::GET,
            uri: "/api/namespaces",
            body: None,
            expect: [200, 200, 200],
        },
        Case {
            method: Method::POST,
            uri: "/api/namespaces/bookinfo/injection?dryRun=true",
            body: dry(true),
            expect: [200, 200, 403],
        },
        Case {
            method: Method::POST,
            uri: "/api/namespaces/payments/injection?dryRun=true",
            body: dry(false),
            expect: [200, 403, 200],
        },
        Case {
            method: Method::POST,
            uri: "/api/namespaces/bookinfo/workloads/deployments/details-v1/injection?dryRun=true",
            body: dry(false),
            expect: [200, 200, 403],
        },
        Case {
            method: Method::POST,
            uri: "/api/namespaces/bookinfo/workloads/statefulsets/mongodb-v1/injection?dryRun=true",
            body: dry(false),
            expect: [200, 200, 403],
        },
        Case {
            method: Method::GET,
            uri: "/api/settings",
            body: None,
            expect: [200, 403, 403],
        },
        Case {
            method: Method::POST,
            uri: "/api/settings/preflight",
            body: Some(settings.clone()),
            expect: [200, 403, 403],
        },
        Case {
            method: Method::PUT,
            uri: "/api/settings",
            body: Some(json!({"settings": settings, "resource_version": null})),
            expect: [200, 403, 403],
        },
    ];
    for case in cases {
        for (token, expected) in [ADMIN, ALICE, BOB].into_iter().zip(case.expect) {
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
