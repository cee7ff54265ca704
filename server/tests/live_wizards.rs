//! The traffic-management wizards against a real API server with Istio's
//! CRDs installed: writes made with the caller's token (Kubernetes' RBAC
//! decides, its 403 comes back as worded), server-side apply conflicts
//! named and taken over only with `force`, the CRD schemas' dry run, and
//! removal that keeps other managers' fields.
//!
//! Ignored by default. Run with a cluster in `$KUBECONFIG` that serves
//! `networking.istio.io/v1` and whose account may create and delete
//! namespaces, ServiceAccounts, Roles, RoleBindings, Services, Pods and
//! Istio objects, request ServiceAccount tokens and create
//! SubjectAccessReviews (a cluster admin's):
//!
//! ```sh
//! cargo test -p meshdeck --test live_wizards -- --ignored --test-threads=1
//! ```
//!
//! The test works in a namespace it creates (`meshdeck-test-*`) and deletes
//! it at the end. Pods are created bare (no controller, no scheduling
//! needed): the wizards read only their labels.

use app::types::{AuthMode, ObjectAction, RunMode, WizardRequest};
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use meshdeck_server::AppState;
use meshdeck_server::access::AccessScope;
use meshdeck_server::cluster::Cluster;
use meshdeck_server::error::Error;
use meshdeck_server::istio::wizards::write::{self, WriteOptions};
use meshdeck_server::spa::Spa;
use meshdeck_server::upstream::Upstreams;
use serde_json::json;

mod common;
use common::live::{caller, connect, test_namespace, web_versions};

fn vs_api(client: &kube::Client, ns: &str) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("networking.istio.io", "v1", "VirtualService"),
        "virtualservices",
    );
    Api::namespaced_with(client.clone(), ns, &ar)
}

fn dr_api(client: &kube::Client, ns: &str) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("networking.istio.io", "v1", "DestinationRule"),
        "destinationrules",
    );
    Api::namespaced_with(client.clone(), ns, &ar)
}

#[tokio::test]
#[ignore = "needs cluster"]
async fn wizards_write_as_the_caller_with_server_side_apply() {
    let cluster = connect().await;
    let admin = cluster.own().clone();
    let (ns, _cleanup) = test_namespace(&admin, "wizards").await;
    // A service `web` with versions v1 and v2 (bare pods, labels only).
    web_versions(&admin, &ns, true).await;
    // Someone's VirtualService for web, applied with kubectl.
    vs_api(&admin, &ns)
        .patch(
            "web",
            &PatchParams::apply("kubectl"),
            &Patch::Apply(json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                "metadata": {"name": "web", "labels": {"team": "web"}},
                "spec": {"hosts": ["web"], "http": [{"timeout": "9s", "route": [{"destination": {"host": "web"}}]}]}})),
        )
        .await
        .unwrap();

    let istio_rules = |verbs: &[&str]| {
        json!([{"apiGroups": ["networking.istio.io", "security.istio.io"],
            "resources": ["virtualservices", "destinationrules", "peerauthentications", "gateways"],
            "verbs": verbs}])
    };
    let editor = caller(
        &admin,
        &ns,
        "editor",
        istio_rules(&[
            "get", "list", "watch", "create", "patch", "update", "delete",
        ]),
    )
    .await;
    let viewer = caller(
        &admin,
        &ns,
        "viewer",
        istio_rules(&["get", "list", "watch"]),
    )
    .await;
    let state = AppState::new(
        RunMode::Serve,
        AuthMode::Token,
        Upstreams {
            kube: Some(cluster.clone()),
            ..Upstreams::default()
        },
        Spa::load(std::path::Path::new("/nonexistent")),
    );
    let canary: WizardRequest = serde_json::from_value(json!({"wizard": "traffic-shifting",
        "weights": [{"version": "v1", "weight": 90}, {"version": "v2", "weight": 10}]}))
    .unwrap();
    let preview = WriteOptions {
        dry_run: true,
        force: false,
    };

    // The preview names kubectl's conflicting routes; the apply refuses.
    let outcome = write::apply_wizard(&state, &editor, &ns, "web", &canary, preview)
        .await
        .unwrap();
    assert!(outcome.conflict, "{outcome:#?}");
    assert!(
        outcome
            .problems
            .iter()
            .any(|p| p.status == 409 && p.message.contains("kubectl")),
        "{:#?}",
        outcome.problems
    );
    let refused = write::apply_wizard(
        &state,
        &editor,
        &ns,
        "web",
        &canary,
        WriteOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(refused, Error::Conflict(_)), "{refused}");

    // The viewer: Kubernetes' 403 in its words, for the preview and the apply.
    let refused = write::apply_wizard(
        &state,
        &viewer,
        &ns,
        "web",
        &canary,
        WriteOptions {
            dry_run: false,
            force: true,
        },
    )
    .await
    .unwrap_err();
    match refused {
        Error::Forbidden(m) => assert!(
            m.contains(&viewer.user) && m.contains("cannot patch resource"),
            "{m}"
        ),
        other => panic!("expected Kubernetes' 403, got {other}"),
    }

    // Taken over with force by the editor: the routes (an atomic list in
    // the CRD) are meshdeck's now; kubectl's label stays.
    let outcome = write::apply_wizard(
        &state,
        &editor,
        &ns,
        "web",
        &canary,
        WriteOptions {
            dry_run: false,
            force: true,
        },
    )
    .await
    .unwrap();
    let actions: Vec<ObjectAction> = outcome.objects.iter().map(|o| o.action).collect();
    assert_eq!(actions, [ObjectAction::Create, ObjectAction::Update]);
    let vs = vs_api(&admin, &ns).get("web").await.unwrap();
    let vs = serde_json::to_value(&vs).unwrap();
    assert_eq!(vs["metadata"]["labels"]["team"], "web");
    assert_eq!(vs["spec"]["http"][0]["route"][1]["weight"], 10);
    let managers: Vec<String> = vs["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["manager"].as_str().unwrap().to_owned())
        .collect();
    assert!(managers.contains(&"meshdeck".to_owned()), "{managers:?}");
    assert!(managers.contains(&"kubectl".to_owned()), "{managers:?}");

    // Bad output cannot reach the cluster, but the dry run is real: a
    // DestinationRule the CRD schema rejects is refused with its words.
    let bad = dr_api(&editor_client(&cluster, &editor), &ns)
        .patch(
            "web",
            &PatchParams::apply("meshdeck").dry_run(),
            &Patch::Apply(
                json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                "metadata": {"name": "web"},
                "spec": {"host": "web", "trafficPolicy": {"tls": {"mode": "SOMETIMES"}}}}),
            ),
        )
        .await
        .unwrap_err();
    match bad {
        kube::Error::Api(s) => assert_eq!(s.code, 422, "{s:?}"),
        other => panic!("{other}"),
    }

    // Remove: meshdeck's DestinationRule goes; the VirtualService is
    // released to kubectl with its label and timeout.
    let outcome = write::remove(&state, &editor, &ns, "web", false)
        .await
        .unwrap();
    let actions: Vec<(String, ObjectAction)> = outcome
        .objects
        .iter()
        .map(|o| (format!("{:?}", o.kind), o.action))
        .collect();
    assert_eq!(
        actions,
        [
            ("VirtualService".to_owned(), ObjectAction::Release),
            ("DestinationRule".to_owned(), ObjectAction::Delete)
        ]
    );
    assert!(dr_api(&admin, &ns).get_opt("web").await.unwrap().is_none());
    let vs = serde_json::to_value(vs_api(&admin, &ns).get("web").await.unwrap()).unwrap();
    assert_eq!(vs["metadata"]["labels"]["team"], "web");
    assert!(
        vs["metadata"]["labels"]
            .get("meshdeck.io/service")
            .is_none()
    );
}

fn editor_client(cluster: &Cluster, scope: &AccessScope) -> kube::Client {
    scope.client(cluster).unwrap()
}

/// The Gateway API option against a real API server: where the cluster
/// serves `gateway.networking.k8s.io/v1` HTTPRoute, a canary is one
/// HTTPRoute attached to the service (its schema and defaulting accept
/// it), written with the caller's token and removed again; where it does
/// not, the wizard answers the 422 that says so and writes nothing.
#[tokio::test]
#[ignore = "needs cluster"]
async fn gateway_api_routes_write_as_the_caller() {
    let cluster = connect().await;
    let admin = cluster.own().clone();
    let (ns, _cleanup) = test_namespace(&admin, "wizards").await;
    // `web` with versions v1 and v2, and a Service per version.
    let services = Api::<Service>::namespaced(admin.clone(), &ns);
    for (name, selector) in [
        ("web", json!({"app": "web"})),
        ("web-v1", json!({"app": "web", "version": "v1"})),
        ("web-v2", json!({"app": "web", "version": "v2"})),
    ] {
        let service: Service = serde_json::from_value(json!({"metadata": {"name": name},
            "spec": {"selector": selector, "ports": [{"name": "http", "port": 80}]}}))
        .unwrap();
        services
            .create(&PostParams::default(), &service)
            .await
            .unwrap();
    }
    web_versions(&admin, &ns, false).await;
    let editor = caller(
        &admin,
        &ns,
        "editor",
        json!([{"apiGroups": ["gateway.networking.k8s.io"],
            "resources": ["httproutes"],
            "verbs": ["get", "list", "watch", "create", "patch", "update", "delete"]}]),
    )
    .await;
    let state = AppState::new(
        RunMode::Serve,
        AuthMode::Token,
        Upstreams {
            kube: Some(cluster.clone()),
            ..Upstreams::default()
        },
        Spa::load(std::path::Path::new("/nonexistent")),
    );
    let canary: WizardRequest = serde_json::from_value(json!({"wizard": "traffic-shifting",
        "api": "gateway-api",
        "weights": [{"version": "v1", "weight": 90}, {"version": "v2", "weight": 10}]}))
    .unwrap();
    let routes = Api::<DynamicObject>::namespaced_with(
        admin.clone(),
        &ns,
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", "HTTPRoute"),
            "httproutes",
        ),
    );
    let served = routes.list(&Default::default()).await.is_ok();
    let result = write::apply_wizard(
        &state,
        &editor,
        &ns,
        "web",
        &canary,
        WriteOptions::default(),
    )
    .await;
    if !served {
        let err = result.unwrap_err();
        assert!(
            matches!(&err, Error::Invalid(m) if m.contains("does not serve the Gateway API's HTTPRoute")),
            "{err}"
        );
        return;
    }
    let outcome = result.unwrap();
    let written: Vec<(String, ObjectAction)> = outcome
        .objects
        .iter()
        .map(|o| (o.kind.label().to_owned(), o.action))
        .collect();
    assert_eq!(written, [("HTTPRoute".to_owned(), ObjectAction::Create)]);
    let route = serde_json::to_value(routes.get("web").await.unwrap()).unwrap();
    let managers: Vec<&str> = route["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert_eq!(managers, ["meshdeck"]);
    assert_eq!(route["spec"]["parentRefs"][0]["name"], "web");
    let backends: Vec<(String, i64)> = route["spec"]["rules"][0]["backendRefs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["name"].as_str().unwrap().to_owned(),
                b["weight"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        backends,
        [("web-v1".to_owned(), 90), ("web-v2".to_owned(), 10)]
    );
    let removed = write::remove(&state, &editor, &ns, "web", false)
        .await
        .unwrap();
    assert_eq!(removed.objects.len(), 1);
    assert!(routes.get_opt("web").await.unwrap().is_none());
}
