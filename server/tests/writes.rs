//! Writes are made as the caller, through `router()` against the in-memory
//! API (which authenticates each request and authorises it with its RBAC
//! objects, as a real API server does). meshdeck runs as its own service
//! account with exactly the documented RBAC (`deploy/rbac/`).
//!
//! - A `view`-only ServiceAccount is refused by Kubernetes itself (the
//!   audit log shows its own request and the 403), and its words reach the
//!   caller unchanged.
//! - Members write with their own rights; the audit log names them; a
//!   revoked RoleBinding stops their writes at once.
//! - Behind an auth proxy, meshdeck impersonates the user the proxy names.
//! - Owner-level writes meshdeck's account makes need the owner to be
//!   allowed them (SubjectAccessReviews), else 403 and nothing written.
//! - Authorisation comes before body validation and upstream lookups.
//! - What meshdeck cannot read (its settings) is said as it is.

use std::net::SocketAddr;

use app::types::{ErrorBody, Me, MeshSettings, NamespaceList, RunMode, Status};
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Method, Request, StatusCode, header};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, Patch, PatchParams};
use meshdeck_server::AppState;
use meshdeck_server::auth::proxy::ProxyOptions;
use meshdeck_server::auth::{AuthOptions, Authenticator};
use meshdeck_server::demo::{demo_identities, in_memory, install_documented_rbac};
use meshdeck_server::spa::Spa;
use meshdeck_server::upstream::Upstreams;
use meshdeck_sim::kube::seed::{MESHDECK_SA_TOKEN, MESHDECK_SA_USER};
use meshdeck_sim::kube::{AuditEntry, InMemoryCluster};
use meshdeck_sim::scenario;
use serde_json::{Value, json};

mod common;
use common::{request as call, send};

const ADMIN: &str = "demo-token-admin";
const ALICE: &str = "demo-token-alice";
const VIEWER: &str = "viewer-token";
const VIEWER_USER: &str = "system:serviceaccount:bookinfo:viewer";

struct Harness {
    cluster: InMemoryCluster,
    admin: kube::Client,
    state: AppState,
}

/// The demo cluster with meshdeck's documented RBAC for `uses`, and a
/// `view`-only ServiceAccount in bookinfo.
fn harness_with(uses: &[&str], authenticator: Authenticator) -> Harness {
    let mesh = scenario::demo();
    let cluster = InMemoryCluster::from_mesh(&mesh);
    install_documented_rbac(&cluster, uses).unwrap();
    // Kubernetes' `view` ClusterRole, in the parts that matter here.
    for object in [
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "view"},
        "rules": [
            {"apiGroups": [""], "resources": ["pods", "services", "configmaps", "namespaces"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets", "daemonsets"], "verbs": ["get", "list", "watch"]},
        ]}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "viewer", "namespace": "bookinfo"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "viewer-view", "namespace": "bookinfo"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "ServiceAccount", "name": "viewer", "namespace": "bookinfo"}]}),
    ] {
        cluster.create(object).unwrap();
    }
    cluster.add_token(
        VIEWER,
        VIEWER_USER,
        &[
            "system:serviceaccounts".into(),
            "system:serviceaccounts:bookinfo".into(),
        ],
    );
    let upstreams = Upstreams {
        kube: Some(in_memory(&cluster, MESHDECK_SA_TOKEN)),
        ..Upstreams::default()
    };
    let mode = match authenticator {
        Authenticator::Token => app::types::AuthMode::Demo,
        Authenticator::Proxy(_) => app::types::AuthMode::Proxy,
    };
    let options = AuthOptions {
        demo_identities: demo_identities(&mesh),
        authenticator,
        ..AuthOptions::default()
    };
    let spa = Spa::load(std::path::Path::new("/nonexistent"));
    let state = AppState::with_auth(RunMode::Demo, mode, upstreams, spa, options);
    Harness {
        admin: cluster.client(),
        cluster,
        state,
    }
}

fn harness() -> Harness {
    harness_with(&["console", "enablement"], Authenticator::Token)
}

fn message(body: &Value) -> String {
    serde_json::from_value::<ErrorBody>(body.clone())
        .map(|b| b.error.message)
        .unwrap_or_else(|_| body.to_string())
}

async fn labels(h: &Harness, ns: &str) -> std::collections::BTreeMap<String, String> {
    Api::<Namespace>::all(h.admin.clone())
        .get(ns)
        .await
        .unwrap()
        .metadata
        .labels
        .unwrap_or_default()
}

/// The audit entries of writes (`patch`, `create`, `update`, `delete`) to
/// one object.
fn writes_to(h: &Harness, resource: &str, namespace: &str, name: &str) -> Vec<AuditEntry> {
    h.cluster
        .audit()
        .into_iter()
        .filter(|e| {
            matches!(e.verb.as_str(), "patch" | "create" | "update" | "delete")
                && e.resource == resource
                && e.namespace == namespace
                && e.name == name
        })
        .collect()
}

#[tokio::test]
async fn a_view_only_service_account_is_refused_by_kubernetes_itself() {
    let h = harness();
    let (status, body) = call(&h.state, Method::GET, "/api/me", VIEWER, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let me: Me = serde_json::from_value(body).unwrap();
    assert_eq!(me.user, VIEWER_USER);
    let visible: Vec<&str> = me.namespaces.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(visible, ["bookinfo"]);

    // The list says the switches are not theirs to use.
    let (status, body) = call(&h.state, Method::GET, "/api/namespaces", VIEWER, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list: NamespaceList = serde_json::from_value(body).unwrap();
    let bookinfo = &list.namespaces[0];
    assert!(!bookinfo.may_switch);
    assert!(!bookinfo.workloads.is_empty());
    assert!(bookinfo.workloads.iter().all(|w| !w.may_restart));

    // Tried anyway (a script), Kubernetes refuses, in its own words.
    let before = labels(&h, "bookinfo").await;
    for dry in ["?dryRun=true", ""] {
        let uri = format!("/api/namespaces/bookinfo/injection{dry}");
        let (status, body) = call(
            &h.state,
            Method::POST,
            &uri,
            VIEWER,
            Some(json!({"enabled": false})),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}: {body}");
        assert_eq!(
            message(&body),
            format!(
                "namespaces \"bookinfo\" is forbidden: User \"{VIEWER_USER}\" cannot patch resource \"namespaces\" in API group \"\" in the namespace \"bookinfo\""
            )
        );
    }
    let uri = "/api/namespaces/bookinfo/workloads/deployments/details-v1/injection";
    let (status, body) = call(
        &h.state,
        Method::POST,
        uri,
        VIEWER,
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        message(&body),
        format!(
            "deployments.apps \"details-v1\" is forbidden: User \"{VIEWER_USER}\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"bookinfo\""
        )
    );
    assert_eq!(labels(&h, "bookinfo").await, before);

    // The refusals were Kubernetes': the viewer's own requests, answered 403;
    // meshdeck's account wrote nothing.
    let ns_writes = writes_to(&h, "namespaces", "bookinfo", "bookinfo");
    assert_eq!(ns_writes.len(), 2, "{ns_writes:?}");
    assert!(
        ns_writes
            .iter()
            .all(|e| e.user == VIEWER_USER && e.code == 403)
    );
    let workload_writes = writes_to(&h, "deployments", "bookinfo", "details-v1");
    assert_eq!(workload_writes.len(), 1, "{workload_writes:?}");
    assert_eq!(
        (workload_writes[0].user.as_str(), workload_writes[0].code),
        (VIEWER_USER, 403)
    );

    // Owner-level endpoints are meshdeck's own gate: 403 before anything.
    for (method, uri) in [
        (Method::PUT, "/api/settings"),
        (Method::POST, "/api/mesh/enable?dryRun=true"),
        (Method::POST, "/api/mesh/disable"),
    ] {
        let (status, body) = call(&h.state, method, uri, VIEWER, Some(json!({}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}: {body}");
    }
}

#[tokio::test]
async fn members_write_with_their_own_rights_and_the_audit_log_names_them() {
    let h = harness();
    let (_, body) = call(&h.state, Method::GET, "/api/namespaces", ALICE, None).await;
    let list: NamespaceList = serde_json::from_value(body).unwrap();
    assert!(list.namespaces[0].may_switch);
    assert!(list.namespaces[0].workloads.iter().all(|w| w.may_restart));

    let (status, body) = call(
        &h.state,
        Method::POST,
        "/api/namespaces/bookinfo/injection",
        ALICE,
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!labels(&h, "bookinfo").await.contains_key("istio-injection"));
    let writes = writes_to(&h, "namespaces", "bookinfo", "bookinfo");
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!((writes[0].user.as_str(), writes[0].code), ("alice", 200));
    assert!(writes.iter().all(|e| e.user != MESHDECK_SA_USER));

    // Her RoleBinding revoked: her next write is refused at once, although
    // her reads are still served from the review cache.
    let (status, _) = call(&h.state, Method::GET, "/api/me", ALICE, None).await;
    assert_eq!(status, StatusCode::OK);
    Api::<k8s_openapi::api::rbac::v1::RoleBinding>::namespaced(h.admin.clone(), "bookinfo")
        .delete("project-namespace-editor-alice", &Default::default())
        .await
        .unwrap();
    let (status, body) = call(
        &h.state,
        Method::POST,
        "/api/namespaces/bookinfo/injection",
        ALICE,
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        message(&body).starts_with("namespaces \"bookinfo\" is forbidden: User \"alice\""),
        "{body}"
    );
    assert!(!labels(&h, "bookinfo").await.contains_key("istio-injection"));
}

fn proxied(
    uri: &str,
    peer: &str,
    user: &str,
    method: Method,
    body: Option<Value>,
) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("x-forwarded-user", user);
    let body = match body {
        Some(v) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let mut request = request.body(body).unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    request
}

fn proxy_options() -> Authenticator {
    Authenticator::Proxy(ProxyOptions {
        user_header: http::HeaderName::from_static("x-forwarded-user"),
        groups_header: http::HeaderName::from_static("x-forwarded-groups"),
        trusted: vec!["127.0.0.1/32".parse().unwrap()],
    })
}

#[tokio::test]
async fn behind_an_auth_proxy_meshdeck_impersonates_the_user() {
    let h = harness_with(&["console", "enablement", "impersonate"], proxy_options());
    let (status, body) = send(
        &h.state,
        proxied("/api/me", "127.0.0.1:4000", "alice", Method::GET, None),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let me: Me = serde_json::from_value(body).unwrap();
    assert_eq!((me.user.as_str(), me.namespaces.len()), ("alice", 1));

    let switch = proxied(
        "/api/namespaces/bookinfo/injection",
        "127.0.0.1:4000",
        "alice",
        Method::POST,
        Some(json!({"enabled": false})),
    );
    let (status, body) = send(&h.state, switch).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let writes = writes_to(&h, "namespaces", "bookinfo", "bookinfo");
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].user, "alice");
    assert_eq!(writes[0].impersonated_by.as_deref(), Some(MESHDECK_SA_USER));

    // Headers from anywhere but the proxy are not believed.
    let (status, _) = send(
        &h.state,
        proxied("/api/me", "10.1.2.3:4000", "admin", Method::GET, None),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Without the impersonation rule, meshdeck says what it lacks.
    let h = harness_with(&["console", "enablement"], proxy_options());
    let switch = proxied(
        "/api/namespaces/bookinfo/injection",
        "127.0.0.1:4000",
        "alice",
        Method::POST,
        Some(json!({"enabled": false})),
    );
    let (status, body) = send(&h.state, switch).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(message(&body).contains("impersonate.yaml"), "{body}");
    assert!(labels(&h, "bookinfo").await.contains_key("istio-injection"));
}

#[tokio::test]
async fn owner_level_writes_need_the_owner_to_be_allowed_them_too() {
    let h = harness();
    // `ops` may patch namespaces cluster-wide (an owner to meshdeck), and
    // nothing else.
    for object in [
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "namespace-patcher"},
            "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["patch", "list", "get"]},
                      {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "ops-namespace-patcher"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "namespace-patcher"},
            "subjects": [{"kind": "User", "name": "ops", "apiGroup": "rbac.authorization.k8s.io"}]}),
    ] {
        h.cluster.create(object).unwrap();
    }
    h.cluster.add_token("ops-token", "ops", &[]);
    let mut settings = MeshSettings::default();
    settings.ingress_gateway.component.enabled = true;
    let update = json!({"settings": settings, "resource_version": null});
    let (status, body) = call(
        &h.state,
        Method::PUT,
        "/api/settings",
        "ops-token",
        Some(update.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        message(&body),
        "ops may not create configmaps in namespace \"meshdeck\" (Kubernetes RBAC, asked with a SubjectAccessReview), so meshdeck will not do it on their behalf"
    );
    let cms = Api::<ConfigMap>::namespaced(h.admin.clone(), "meshdeck");
    assert!(cms.get_opt("meshdeck-settings").await.unwrap().is_none());

    // An owner who may: saved by meshdeck's account on their behalf.
    let (status, body) = call(&h.state, Method::PUT, "/api/settings", ADMIN, Some(update)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let created = writes_to(&h, "configmaps", "meshdeck", "");
    assert!(
        created
            .iter()
            .any(|e| e.user == MESHDECK_SA_USER && e.verb == "create" && e.code == 201),
        "{created:?}"
    );

    // Enabling for ops: every write it would need is listed, nothing done.
    let (status, body) = call(
        &h.state,
        Method::POST,
        "/api/mesh/enable",
        "ops-token",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let text = message(&body);
    for needed in [
        "patch deployments.apps \"meshdeck-ingressgateway\" in namespace \"istio-system\"",
        "create deployments.apps \"meshdeck-ingressgateway\" in namespace \"istio-system\"",
        "patch services \"meshdeck-ingressgateway\" in namespace \"istio-system\"",
        "create configmaps in namespace \"meshdeck\"",
    ] {
        assert!(text.contains(needed), "{needed}: {text}");
    }
    let deployments =
        Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(h.admin.clone(), "istio-system");
    assert!(
        deployments
            .get_opt("meshdeck-ingressgateway")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn authorisation_comes_before_bodies_and_upstreams() {
    let h = harness();
    // A member's malformed bodies to owner-only endpoints: 403, not 400/422.
    for (method, uri, body) in [
        (Method::PUT, "/api/settings", "{not json"),
        (Method::PUT, "/api/settings", "{\"settings\": 5}"),
        (Method::POST, "/api/settings/preflight", "[]"),
        (Method::POST, "/api/prometheus/query", "{\"query\": 5}"),
    ] {
        let request = Request::builder()
            .method(method.clone())
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {ALICE}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        let (status, answer) = send(&h.state, request).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{method} {uri} {body}: {answer}"
        );
    }
    // Traces of a namespace that is not hers: 403, though no Jaeger is
    // configured (which would be a 503).
    for uri in [
        "/api/traces?service=payments-api.payments",
        "/api/traces/services?service=ledger.payments",
    ] {
        let (status, body) = call(&h.state, Method::GET, uri, ALICE, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}: {body}");
    }
    // Her own service gets as far as the missing Jaeger.
    let (status, _) = call(
        &h.state,
        Method::GET,
        "/api/traces?service=productpage.bookinfo",
        ALICE,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn unreadable_settings_are_a_422_and_the_last_good_stay_in_force() {
    let h = harness();
    let mut owners_only = MeshSettings::default();
    owners_only.member_access.mode = app::types::MemberAccessMode::OwnerOnly;
    let (status, body) = call(
        &h.state,
        Method::PUT,
        "/api/settings",
        ADMIN,
        Some(json!({"settings": owners_only, "resource_version": null})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Someone edits the ConfigMap by hand into something unreadable.
    let mut edited = serde_json::to_value(&owners_only).unwrap();
    edited["member_access"]["mode"] = json!("everyone");
    Api::<ConfigMap>::namespaced(h.admin.clone(), "meshdeck")
        .patch(
            "meshdeck-settings",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"settings.json": edited.to_string()}})),
        )
        .await
        .unwrap();
    h.state.settings_cache().clear();

    let (status, body) = call(&h.state, Method::GET, "/api/settings", ADMIN, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        message(&body).contains("member_access.mode: unknown variant `everyone`"),
        "{body}"
    );
    // The last good settings stay in force: members still see no graph.
    let (_, body) = call(&h.state, Method::GET, "/api/me", ALICE, None).await;
    let me: Me = serde_json::from_value(body).unwrap();
    assert!(!me.features.graph && me.features.access_problem.is_none());
    let (_, body) = send(
        &h.state,
        Request::get("/api/status").body(Body::empty()).unwrap(),
    )
    .await;
    let status_doc: Status = serde_json::from_value(body).unwrap();
    assert!(
        status_doc
            .problems
            .iter()
            .any(|p| p.contains("member_access.mode")),
        "{:?}",
        status_doc.problems
    );

    // Reset: back to the last good settings.
    let (status, body) = call(&h.state, Method::POST, "/api/settings/reset", ADMIN, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = call(&h.state, Method::GET, "/api/settings", ADMIN, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["settings"]["member_access"]["mode"], "owner_only");
}

#[tokio::test]
async fn without_rights_on_its_settings_meshdeck_says_so() {
    let h = harness();
    // The read side of meshdeck's namespace is gone from its RBAC.
    Api::<k8s_openapi::api::rbac::v1::RoleBinding>::namespaced(h.admin.clone(), "meshdeck")
        .delete("meshdeck-console", &Default::default())
        .await
        .unwrap();
    let (_, body) = send(
        &h.state,
        Request::get("/api/status").body(Body::empty()).unwrap(),
    )
    .await;
    let status: Status = serde_json::from_value(body).unwrap();
    let wanted = "meshdeck's own Kubernetes account may not get configmaps \"meshdeck-settings\" in namespace \"meshdeck\"";
    assert!(
        status.problems.iter().any(|p| p.contains(wanted)),
        "{:?}",
        status.problems
    );
    let (_, body) = call(&h.state, Method::GET, "/api/me", ALICE, None).await;
    let me: Me = serde_json::from_value(body).unwrap();
    assert!(!me.features.graph && !me.features.traces);
    assert!(
        me.features
            .access_problem
            .as_deref()
            .is_some_and(|p| p.contains(wanted))
    );
    let (status, body) = call(
        &h.state,
        Method::GET,
        "/api/graph?namespaces=bookinfo",
        ALICE,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(message(&body).contains(wanted), "{body}");
    assert!(!message(&body).contains("has not allowed"), "{body}");
}

#[tokio::test]
async fn the_first_save_creates_meshdecks_namespace_as_the_owner() {
    let h = harness_with(&[], Authenticator::Token);
    // meshdeck's account: reviews, reads, and ConfigMaps anywhere (its
    // namespace's own Roles cannot exist before the namespace does).
    install_documented_rbac(&h.cluster, &["console"]).unwrap();
    for object in [
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "configmap-writer"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "create", "update"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "meshdeck-configmap-writer"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "configmap-writer"},
            "subjects": [{"kind": "ServiceAccount", "name": "meshdeck", "namespace": "meshdeck"}]}),
    ] {
        h.cluster.create(object).unwrap();
    }
    Api::<Namespace>::all(h.admin.clone())
        .delete("meshdeck", &Default::default())
        .await
        .unwrap();
    let (status, body) = call(&h.state, Method::GET, "/api/settings", ADMIN, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["resource_version"].is_null());
    let (status, body) = call(
        &h.state,
        Method::PUT,
        "/api/settings",
        ADMIN,
        Some(json!({"settings": MeshSettings::default(), "resource_version": null})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A create names no object in its request: the namespace created is
    // the one that exists now, and its creator was the owner.
    let created_by: Vec<(String, u16)> = h
        .cluster
        .audit()
        .into_iter()
        .filter(|e| e.resource == "namespaces" && e.verb == "create")
        .map(|e| (e.user, e.code))
        .collect();
    assert_eq!(created_by, [("admin".to_owned(), 201)]);
    let ns = Api::<Namespace>::all(h.admin.clone())
        .get("meshdeck")
        .await
        .unwrap();
    assert_eq!(
        ns.metadata.labels.unwrap()["app.kubernetes.io/managed-by"],
        "meshdeck"
    );
    let (status, body) = call(&h.state, Method::GET, "/api/settings", ADMIN, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["resource_version"].is_string());
}
