//! The in-memory API server behaving as kube-apiserver does for
//! authentication, impersonation, authorization, auditing, server-side apply
//! with managed fields, and Leases: through kube-rs clients and raw requests.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request, header};
use futures::TryStreamExt;
use http_body_util::BodyExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::api::{
    DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::core::Status;
use kube::{Api, Client, ResourceExt};
use meshdeck_sim::kube::seed::{MESHDECK_NAMESPACE, MESHDECK_SA_TOKEN, MESHDECK_SA_USER};
use meshdeck_sim::kube::{ADMIN_TOKEN, AuditEntry, InMemoryCluster};
use meshdeck_sim::scenario;
use serde_json::{Value, json};
use tower::ServiceExt;

const ALICE: &str = "demo-token-alice";

fn demo() -> InMemoryCluster {
    InMemoryCluster::from_mesh(&scenario::demo())
}

/// The Status of a failed kube-rs call.
fn status<T: std::fmt::Debug>(result: kube::Result<T>) -> Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// One raw request on the router: its status code and JSON body.
async fn raw(
    cluster: &InMemoryCluster,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, Value)>,
) -> (u16, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let body = match body {
        Some((content_type, value)) => {
            request = request.header(header::CONTENT_TYPE, content_type);
            Body::from(value.to_string())
        }
        None => Body::empty(),
    };
    let response = cluster
        .router()
        .oneshot(request.body(body).expect("request"))
        .await
        .expect("response");
    let code = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            header::HeaderName::from_bytes(name.as_bytes()).expect("name"),
            HeaderValue::from_str(value).expect("value"),
        );
    }
    map
}

async fn create_namespace(admin: &Client, name: &str) {
    let ns: Namespace =
        serde_json::from_value(json!({"metadata": {"name": name}})).expect("namespace");
    Api::<Namespace>::all(admin.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("create namespace");
}

/// Creates an RBAC object of `kind` (Role, RoleBinding, ClusterRole,
/// ClusterRoleBinding) from JSON, as the admin.
async fn rbac(cluster: &InMemoryCluster, kind: &str, obj: Value) {
    let mut obj = obj;
    obj["apiVersion"] = json!("rbac.authorization.k8s.io/v1");
    obj["kind"] = json!(kind);
    cluster.create(obj).expect("create RBAC object");
}

fn config_map(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"k": "v"}}))
        .expect("config map")
}

#[tokio::test]
async fn requests_need_a_known_bearer_token() {
    let cluster = demo();
    // No token, raw.
    let (code, body) = raw(&cluster, "GET", "/api/v1/namespaces", &[], None).await;
    assert_eq!(code, 401);
    assert_eq!(body["reason"], "Unauthorized");
    assert_eq!(body["message"], "Unauthorized");
    assert_eq!(body["kind"], "Status");
    // Discovery needs a user too; /version does not.
    assert_eq!(raw(&cluster, "GET", "/apis", &[], None).await.0, 401);
    assert_eq!(raw(&cluster, "GET", "/api", &[], None).await.0, 401);
    assert_eq!(
        raw(&cluster, "GET", "/apis/apps/v1", &[], None).await.0,
        401
    );
    assert_eq!(raw(&cluster, "GET", "/version", &[], None).await.0, 200);
    let alice = bearer(ALICE);
    let (code, body) = raw(&cluster, "GET", "/apis", &[("authorization", &alice)], None).await;
    assert_eq!(code, 200);
    assert_eq!(body["kind"], "APIGroupList");
    // Unknown token and anonymous kube-rs clients.
    let unknown = cluster.client_with_token("no-such-token");
    let err = status(
        Api::<Namespace>::all(unknown)
            .list(&ListParams::default())
            .await,
    );
    assert_eq!((err.code, err.reason.as_str()), (401, "Unauthorized"));
    let anonymous = cluster.client_with_headers(HeaderMap::new());
    let err = status(
        Api::<ConfigMap>::namespaced(anonymous, "bookinfo")
            .get("x")
            .await,
    );
    assert_eq!(err.code, 401);
    // Not a bearer token.
    let (code, _) = raw(
        &cluster,
        "GET",
        "/api/v1/namespaces",
        &[("authorization", &format!("Basic {ALICE}"))],
        None,
    )
    .await;
    assert_eq!(code, 401);
    // Authentication failures are not audited.
    assert!(cluster.audit().is_empty(), "{:?}", cluster.audit());
    // The admin client is all-powerful.
    let admin = cluster.client();
    assert!(
        !Api::<Namespace>::all(admin)
            .list(&ListParams::default())
            .await
            .expect("list")
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn a_member_reads_its_namespaces_and_gets_kube_apiservers_403_elsewhere() {
    let cluster = demo();
    let alice = cluster.client_with_token(ALICE);
    // The seed binds project-member in bookinfo (alice's project) only.
    let pods = Api::<Pod>::namespaced(alice.clone(), "bookinfo")
        .list(&ListParams::default())
        .await
        .expect("alice lists pods in bookinfo");
    assert!(!pods.items.is_empty());
    Api::<Deployment>::namespaced(alice.clone(), "bookinfo")
        .get("details-v1")
        .await
        .expect("alice reads a deployment in bookinfo");
    Api::<Namespace>::all(alice.clone())
        .get("bookinfo")
        .await
        .expect("alice reads her namespace");

    let err = status(
        Api::<Pod>::namespaced(alice.clone(), "payments")
            .list(&ListParams::default())
            .await,
    );
    assert_eq!(err.code, 403);
    assert_eq!(err.reason, "Forbidden");
    assert_eq!(
        err.message,
        r#"pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "payments""#
    );
    let deployments = Api::<Deployment>::namespaced(alice.clone(), "payments");
    let name = Api::<Deployment>::namespaced(cluster.client(), "payments")
        .list(&ListParams::default())
        .await
        .expect("admin lists")
        .items[0]
        .name_any();
    let err = status(
        deployments
            .patch(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"replicas": 3}})),
            )
            .await,
    );
    assert_eq!(err.code, 403);
    assert_eq!(
        err.message,
        format!(
            r#"deployments.apps "{name}" is forbidden: User "alice" cannot patch resource "deployments" in API group "apps" in the namespace "payments""#
        )
    );
    let details = err.details.expect("details");
    assert_eq!(
        (
            details.name.as_str(),
            details.group.as_str(),
            details.kind.as_str()
        ),
        (name.as_str(), "apps", "deployments")
    );
    // Forbidden to list namespaces at the cluster scope.
    let err = status(
        Api::<Namespace>::all(alice.clone())
            .list(&ListParams::default())
            .await,
    );
    assert_eq!(
        err.message,
        r#"namespaces is forbidden: User "alice" cannot list resource "namespaces" in API group "" at the cluster scope"#
    );
    // Status subresources are resources of their own for RBAC.
    let err = status(
        Api::<Deployment>::namespaced(alice, "bookinfo")
            .patch_status(
                "details-v1",
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"replicas": 9}})),
            )
            .await,
    );
    assert_eq!(
        err.message,
        r#"deployments.apps "details-v1" is forbidden: User "alice" cannot patch resource "deployments/status" in API group "apps" in the namespace "bookinfo""#
    );
    // A forbidden raw request answers the Status with details.
    let (code, body) = raw(
        &cluster,
        "DELETE",
        "/api/v1/namespaces/payments",
        &[("authorization", &bearer(ALICE))],
        None,
    )
    .await;
    assert_eq!(code, 403);
    assert_eq!(
        body["details"],
        json!({"name": "payments", "kind": "namespaces"})
    );
    assert_eq!(body["code"], 403);
}

#[tokio::test]
async fn a_namespaced_role_binding_may_grant_patching_its_own_namespace() {
    let cluster = demo();
    let admin = cluster.client();
    create_namespace(&admin, "team-x").await;
    create_namespace(&admin, "team-y").await;
    cluster.add_token("carol-token", "carol", &["team-x-devs".to_owned()]);
    let carol = Api::<Namespace>::all(cluster.client_with_token("carol-token"));
    let label = Patch::Merge(json!({"metadata": {"labels": {"istio-injection": "enabled"}}}));
    let err = status(carol.patch("team-x", &PatchParams::default(), &label).await);
    assert_eq!(
        err.message,
        r#"namespaces "team-x" is forbidden: User "carol" cannot patch resource "namespaces" in API group "" in the namespace "team-x""#
    );
    rbac(
        &cluster,
        "Role",
        json!({
            "metadata": {"name": "ns-editor", "namespace": "team-x"},
            "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "patch"], "resourceNames": ["team-x"]}],
        }),
    )
    .await;
    rbac(
        &cluster,
        "RoleBinding",
        json!({
            "metadata": {"name": "ns-editor", "namespace": "team-x"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "ns-editor"},
            "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "team-x-devs"}],
        }),
    )
    .await;
    let patched = carol
        .patch("team-x", &PatchParams::default(), &label)
        .await
        .expect("the RoleBinding in team-x allows patching team-x");
    assert_eq!(
        patched.labels().get("istio-injection").map(String::as_str),
        Some("enabled")
    );
    // Not another namespace, not its status, not listing.
    let err = status(carol.patch("team-y", &PatchParams::default(), &label).await);
    assert_eq!(err.code, 403);
    let err = status(
        carol
            .patch_status(
                "team-x",
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {}})),
            )
            .await,
    );
    assert_eq!(
        err.message,
        r#"namespaces "team-x" is forbidden: User "carol" cannot patch resource "namespaces/status" in API group "" in the namespace "team-x""#
    );
    assert_eq!(status(carol.list(&ListParams::default()).await).code, 403);
}

/// A user `proxy` allowed to impersonate user `carol`, group `devs`, extra
/// `scopes=view` and uid `u-1`; carol may read ConfigMaps in `imp`.
async fn impersonation_setup(cluster: &InMemoryCluster) {
    let admin = cluster.client();
    create_namespace(&admin, "imp").await;
    create_namespace(&admin, "other").await;
    cluster.add_token("proxy-token", "proxy", &[]);
    cluster.add_token("carol-token", "carol", &[]);
    rbac(
        cluster,
        "ClusterRole",
        json!({
            "metadata": {"name": "impersonator"},
            "rules": [
                {"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"], "resourceNames": ["carol"]},
                {"apiGroups": [""], "resources": ["groups"], "verbs": ["impersonate"], "resourceNames": ["devs"]},
                {"apiGroups": ["authentication.k8s.io"], "resources": ["userextras/scopes"], "verbs": ["impersonate"], "resourceNames": ["view"]},
                {"apiGroups": ["authentication.k8s.io"], "resources": ["uids"], "verbs": ["impersonate"], "resourceNames": ["u-1"]},
            ],
        }),
    )
    .await;
    rbac(
        cluster,
        "ClusterRoleBinding",
        json!({
            "metadata": {"name": "impersonator"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "impersonator"},
            "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "proxy"}],
        }),
    )
    .await;
    rbac(
        cluster,
        "Role",
        json!({
            "metadata": {"name": "cm-reader", "namespace": "imp"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}],
        }),
    )
    .await;
    rbac(
        cluster,
        "RoleBinding",
        json!({
            "metadata": {"name": "cm-reader", "namespace": "imp"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-reader"},
            "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "carol"}],
        }),
    )
    .await;
    Api::<ConfigMap>::namespaced(admin.clone(), "imp")
        .create(&PostParams::default(), &config_map("settings"))
        .await
        .expect("create");
    Api::<ConfigMap>::namespaced(admin, "other")
        .create(&PostParams::default(), &config_map("settings"))
        .await
        .expect("create");
}

#[tokio::test]
async fn impersonation_acts_with_the_impersonated_users_rbac() {
    let cluster = demo();
    impersonation_setup(&cluster).await;
    let proxy = bearer("proxy-token");
    // The proxy itself may not read ConfigMaps.
    let own = Api::<ConfigMap>::namespaced(cluster.client_with_token("proxy-token"), "imp");
    assert_eq!(status(own.get("settings").await).code, 403);

    cluster.clear_audit();
    let as_carol = cluster.client_with_headers(headers(&[
        ("authorization", &proxy),
        ("impersonate-user", "carol"),
        ("impersonate-group", "devs"),
        ("impersonate-extra-scopes", "view"),
        ("impersonate-uid", "u-1"),
    ]));
    let cm = Api::<ConfigMap>::namespaced(as_carol.clone(), "imp")
        .get("settings")
        .await
        .expect("carol may read ConfigMaps in imp");
    assert_eq!(cm.name_any(), "settings");
    let err = status(
        Api::<ConfigMap>::namespaced(as_carol, "other")
            .get("settings")
            .await,
    );
    assert_eq!(
        err.message,
        r#"configmaps "settings" is forbidden: User "carol" cannot get resource "configmaps" in API group "" in the namespace "other""#
    );
    let audit = cluster.audit();
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!(
        audit[0],
        AuditEntry {
            user: "carol".into(),
            groups: vec!["devs".into(), "system:authenticated".into()],
            impersonated_by: Some("proxy".into()),
            verb: "get".into(),
            group: String::new(),
            resource: "configmaps".into(),
            subresource: String::new(),
            namespace: "imp".into(),
            name: "settings".into(),
            code: 200,
        }
    );
    assert_eq!(
        (
            audit[1].user.as_str(),
            audit[1].namespace.as_str(),
            audit[1].code
        ),
        ("carol", "other", 403)
    );
    assert_eq!(audit[1].impersonated_by.as_deref(), Some("proxy"));
}

#[tokio::test]
async fn impersonation_is_refused_without_the_right_to_impersonate() {
    let cluster = demo();
    impersonation_setup(&cluster).await;
    let proxy = bearer("proxy-token");
    let get = |pairs: Vec<(&'static str, String)>| {
        let client = cluster.client_with_headers(headers(
            &pairs
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        ));
        async move {
            Api::<ConfigMap>::namespaced(client, "imp")
                .get("settings")
                .await
        }
    };
    let err = status(
        get(vec![
            ("authorization", proxy.clone()),
            ("impersonate-user", "dave".into()),
        ])
        .await,
    );
    assert_eq!(err.code, 403);
    assert_eq!(
        err.message,
        r#"users "dave" is forbidden: User "proxy" cannot impersonate resource "users" in API group "" at the cluster scope"#
    );
    let details = err.details.expect("details");
    assert_eq!(
        (details.name.as_str(), details.kind.as_str()),
        ("dave", "users")
    );
    let err = status(
        get(vec![
            ("authorization", proxy.clone()),
            ("impersonate-user", "carol".into()),
            ("impersonate-group", "admins".into()),
        ])
        .await,
    );
    assert_eq!(
        err.message,
        r#"groups "admins" is forbidden: User "proxy" cannot impersonate resource "groups" in API group "" at the cluster scope"#
    );
    let err = status(
        get(vec![
            ("authorization", proxy.clone()),
            ("impersonate-user", "carol".into()),
            ("impersonate-extra-scopes", "edit".into()),
        ])
        .await,
    );
    assert_eq!(
        err.message,
        r#"userextras.authentication.k8s.io "edit" is forbidden: User "proxy" cannot impersonate resource "userextras/scopes" in API group "authentication.k8s.io" at the cluster scope"#
    );
    let err = status(
        get(vec![
            ("authorization", proxy.clone()),
            ("impersonate-user", "carol".into()),
            ("impersonate-uid", "u-2".into()),
        ])
        .await,
    );
    assert_eq!(
        err.message,
        r#"uids.authentication.k8s.io "u-2" is forbidden: User "proxy" cannot impersonate resource "uids" in API group "authentication.k8s.io" at the cluster scope"#
    );
    // A group without a user is a bad request.
    let err = status(
        get(vec![
            ("authorization", proxy.clone()),
            ("impersonate-group", "devs".into()),
        ])
        .await,
    );
    assert_eq!(err.code, 400);
    assert!(
        err.message.contains("without impersonating a user"),
        "{}",
        err.message
    );
    // Alice (a project member) may impersonate nobody.
    let err = status(
        get(vec![
            ("authorization", bearer(ALICE)),
            ("impersonate-user", "carol".into()),
        ])
        .await,
    );
    assert_eq!(
        err.message,
        r#"users "carol" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope"#
    );
    // Impersonation headers still need an authenticated requester.
    let err = status(get(vec![("impersonate-user", "carol".into())]).await);
    assert_eq!(err.code, 401);
}

#[tokio::test]
async fn a_service_account_is_impersonated_through_serviceaccounts() {
    let cluster = demo();
    let admin = cluster.client();
    cluster.add_token("gateway-token", "auth-gateway", &[]);
    // meshdeck's ServiceAccount exists and authenticates, with no rights.
    let sa = Api::<ConfigMap>::namespaced(
        cluster.client_with_token(MESHDECK_SA_TOKEN),
        MESHDECK_NAMESPACE,
    );
    let err = status(sa.list(&ListParams::default()).await);
    assert_eq!(
        err.message,
        format!(
            r#"configmaps is forbidden: User "{MESHDECK_SA_USER}" cannot list resource "configmaps" in API group "" in the namespace "meshdeck""#
        )
    );
    rbac(
        &cluster,
        "Role",
        json!({
            "metadata": {"name": "sa-impersonator", "namespace": MESHDECK_NAMESPACE},
            "rules": [{"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"], "resourceNames": ["meshdeck"]}],
        }),
    )
    .await;
    rbac(
        &cluster,
        "RoleBinding",
        json!({
            "metadata": {"name": "sa-impersonator", "namespace": MESHDECK_NAMESPACE},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "sa-impersonator"},
            "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "auth-gateway"}],
        }),
    )
    .await;
    rbac(
        &cluster,
        "Role",
        json!({
            "metadata": {"name": "cm-lister", "namespace": MESHDECK_NAMESPACE},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}],
        }),
    )
    .await;
    rbac(
        &cluster,
        "RoleBinding",
        json!({
            "metadata": {"name": "cm-lister", "namespace": MESHDECK_NAMESPACE},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-lister"},
            "subjects": [{"kind": "ServiceAccount", "name": "meshdeck", "namespace": MESHDECK_NAMESPACE}],
        }),
    )
    .await;
    sa.list(&ListParams::default())
        .await
        .expect("the ServiceAccount's RoleBinding applies to its token");
    let gateway = bearer("gateway-token");
    cluster.clear_audit();
    let as_sa = cluster.client_with_headers(headers(&[
        ("authorization", &gateway),
        ("impersonate-user", MESHDECK_SA_USER),
    ]));
    Api::<ConfigMap>::namespaced(as_sa, MESHDECK_NAMESPACE)
        .list(&ListParams::default())
        .await
        .expect("impersonated ServiceAccount lists ConfigMaps");
    let audit = cluster.audit();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].user, MESHDECK_SA_USER);
    assert_eq!(
        audit[0].groups,
        [
            "system:serviceaccounts",
            "system:serviceaccounts:meshdeck",
            "system:authenticated"
        ]
    );
    assert_eq!(audit[0].impersonated_by.as_deref(), Some("auth-gateway"));
    assert_eq!(audit[0].verb, "list");
    // Another ServiceAccount: refused, in its namespace.
    create_namespace(&admin, "other").await;
    let as_other = cluster.client_with_headers(headers(&[
        ("authorization", &gateway),
        ("impersonate-user", "system:serviceaccount:other:builder"),
    ]));
    let err = status(
        Api::<ConfigMap>::namespaced(as_other, "other")
            .list(&ListParams::default())
            .await,
    );
    assert_eq!(
        err.message,
        r#"serviceaccounts "builder" is forbidden: User "auth-gateway" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "other""#
    );
    // The refusal is audited as the requester's.
    let audit = cluster.audit();
    assert_eq!(audit.last().map(|e| e.code), Some(403));
    assert_eq!(audit.last().map(|e| e.user.as_str()), Some("auth-gateway"));
}

#[tokio::test]
async fn the_audit_log_records_every_resource_request_in_order() {
    let cluster = demo();
    let admin = cluster.client();
    let alice = cluster.client_with_token(ALICE);
    // Discovery and /version are not resource requests.
    let _ = raw(&cluster, "GET", "/version", &[], None).await;
    let _ = raw(
        &cluster,
        "GET",
        "/apis/apps/v1",
        &[("authorization", &bearer(ALICE))],
        None,
    )
    .await;
    assert!(cluster.audit().is_empty());
    Api::<Namespace>::all(alice.clone())
        .get("bookinfo")
        .await
        .expect("get");
    let _ = Api::<Namespace>::all(alice.clone())
        .patch(
            "payments",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await;
    Api::<ConfigMap>::namespaced(admin.clone(), "bookinfo")
        .create(&PostParams::default(), &config_map("audited"))
        .await
        .expect("create");
    let _ = Api::<ConfigMap>::namespaced(admin.clone(), "bookinfo")
        .get("missing")
        .await;
    Api::<ConfigMap>::namespaced(admin, "bookinfo")
        .delete_collection(&DeleteParams::default(), &ListParams::default())
        .await
        .expect("delete collection");
    let audit = cluster.audit();
    let short: Vec<(&str, &str, &str, &str, &str, u16)> = audit
        .iter()
        .map(|e| {
            (
                e.user.as_str(),
                e.verb.as_str(),
                e.resource.as_str(),
                e.namespace.as_str(),
                e.name.as_str(),
                e.code,
            )
        })
        .collect();
    assert_eq!(
        short,
        [
            ("alice", "get", "namespaces", "bookinfo", "bookinfo", 200),
            ("alice", "patch", "namespaces", "payments", "payments", 403),
            ("system:admin", "create", "configmaps", "bookinfo", "", 201),
            (
                "system:admin",
                "get",
                "configmaps",
                "bookinfo",
                "missing",
                404
            ),
            (
                "system:admin",
                "deletecollection",
                "configmaps",
                "bookinfo",
                "",
                200
            ),
        ]
    );
    assert_eq!(
        audit[0].groups,
        ["shop-devs".to_owned(), "system:authenticated".to_owned()]
    );
    assert!(audit.iter().all(|e| e.impersonated_by.is_none()));
    cluster.clear_audit();
    assert!(cluster.audit().is_empty());
}

fn lease(name: &str, holder: &str) -> Lease {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": 15,
            "acquireTime": "2025-01-01T00:00:00.000000Z",
            "renewTime": "2025-01-01T00:00:00.000000Z",
            "leaseTransitions": 0,
        },
    }))
    .expect("lease")
}

fn holder(lease: &Lease) -> Option<&str> {
    lease.spec.as_ref()?.holder_identity.as_deref()
}

#[tokio::test]
async fn leases_serve_leader_election() {
    let cluster = demo();
    let leases = Api::<Lease>::namespaced(cluster.client(), MESHDECK_NAMESPACE);
    let since = cluster.resource_version().to_string();
    let created = leases
        .create(
            &PostParams::default(),
            &lease("meshdeck-leader", "replica-a"),
        )
        .await
        .expect("create");
    assert_eq!(holder(&created), Some("replica-a"));
    assert_eq!(
        status(
            leases
                .create(
                    &PostParams::default(),
                    &lease("meshdeck-leader", "replica-b")
                )
                .await
        )
        .code,
        409
    );
    let mut got = leases.get("meshdeck-leader").await.expect("get");
    assert_eq!(got.resource_version(), created.resource_version());
    // Replace with the current resourceVersion (a renewal), then with a stale
    // one (the other replica losing the race).
    let stale = got.clone();
    if let Some(spec) = got.spec.as_mut() {
        spec.renew_time = serde_json::from_value(json!("2025-01-01T00:00:10.000000Z")).ok();
    }
    let renewed = leases
        .replace("meshdeck-leader", &PostParams::default(), &got)
        .await
        .expect("replace");
    assert_ne!(renewed.resource_version(), created.resource_version());
    let mut takeover = stale;
    if let Some(spec) = takeover.spec.as_mut() {
        spec.holder_identity = Some("replica-b".into());
    }
    let err = status(
        leases
            .replace("meshdeck-leader", &PostParams::default(), &takeover)
            .await,
    );
    assert_eq!((err.code, err.reason.as_str()), (409, "Conflict"));
    let patched = leases
        .patch(
            "meshdeck-leader",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"holderIdentity": "replica-b", "leaseTransitions": 1}})),
        )
        .await
        .expect("patch");
    assert_eq!(holder(&patched), Some("replica-b"));
    let listed = leases.list(&ListParams::default()).await.expect("list");
    assert_eq!(listed.items.len(), 1);
    leases
        .delete("meshdeck-leader", &DeleteParams::default())
        .await
        .expect("delete");
    let events: Vec<WatchEvent<Lease>> = leases
        .watch(
            &WatchParams::default().timeout(1).disable_bookmarks(),
            &since,
        )
        .await
        .expect("watch")
        .try_collect()
        .await
        .expect("events");
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            WatchEvent::Added(_) => "ADDED",
            WatchEvent::Modified(_) => "MODIFIED",
            WatchEvent::Deleted(_) => "DELETED",
            WatchEvent::Bookmark(_) => "BOOKMARK",
            WatchEvent::Error(_) => "ERROR",
        })
        .collect();
    assert_eq!(kinds, ["ADDED", "MODIFIED", "MODIFIED", "DELETED"]);
    // Discovery lists the group.
    let (_, groups) = raw(
        &cluster,
        "GET",
        "/apis/coordination.k8s.io/v1",
        &[("authorization", &bearer(ADMIN_TOKEN))],
        None,
    )
    .await;
    assert!(
        groups["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .any(|r| r["name"] == "leases" && r["namespaced"] == true)
    );
}

/// The `managedFields` of an object as (manager, operation, subresource,
/// fieldsV1) tuples, in the order the server keeps them.
fn managed(obj: &impl ResourceExt) -> Vec<(String, String, String, Value)> {
    obj.managed_fields()
        .iter()
        .map(|e| {
            (
                e.manager.clone().unwrap_or_default(),
                e.operation.clone().unwrap_or_default(),
                e.subresource.clone().unwrap_or_default(),
                e.fields_v1
                    .as_ref()
                    .map(|f| f.0.clone())
                    .unwrap_or(Value::Null),
            )
        })
        .collect()
}

fn entry(manager: &str, operation: &str, fields: Value) -> (String, String, String, Value) {
    (manager.into(), operation.into(), String::new(), fields)
}

#[tokio::test]
async fn every_write_leaves_update_entries_in_managed_fields() {
    let cluster = demo();
    let admin = cluster.client();
    let cms = Api::<ConfigMap>::namespaced(admin.clone(), "bookinfo");
    let created = cms
        .create(
            &PostParams {
                field_manager: Some("creator".into()),
                ..PostParams::default()
            },
            &serde_json::from_value(json!({
                "metadata": {"name": "owned", "labels": {"team": "a"}},
                "data": {"k1": "v1", "k2": "v2"},
            }))
            .expect("config map"),
        )
        .await
        .expect("create");
    assert_eq!(
        managed(&created),
        [entry(
            "creator",
            "Update",
            json!({"f:data": {"f:k1": {}, "f:k2": {}}, "f:metadata": {"f:labels": {"f:team": {}}}})
        )]
    );
    let entry_json = &serde_json::to_value(&created.metadata.managed_fields).expect("json")[0];
    assert_eq!(entry_json["apiVersion"], "v1");
    assert_eq!(entry_json["fieldsType"], "FieldsV1");
    assert!(
        entry_json["time"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    // Another manager changes k1 and removes k2: it owns k1, the creator
    // keeps the label only.
    let patched = cms
        .patch(
            "owned",
            &PatchParams {
                field_manager: Some("editor".into()),
                ..PatchParams::default()
            },
            &Patch::Merge(json!({"data": {"k1": "changed", "k2": null}})),
        )
        .await
        .expect("patch");
    assert_eq!(
        managed(&patched),
        [
            entry(
                "creator",
                "Update",
                json!({"f:metadata": {"f:labels": {"f:team": {}}}})
            ),
            entry("editor", "Update", json!({"f:data": {"f:k1": {}}})),
        ]
    );
    // A write that changes nothing is no write: same resourceVersion, same
    // entries.
    let again = cms
        .replace("owned", &PostParams::default(), &patched)
        .await
        .expect("replace");
    assert_eq!(again.resource_version(), patched.resource_version());
    assert_eq!(managed(&again), managed(&patched));

    // Without fieldManager: the User-Agent up to its first "/", else
    // "unknown" (kube-rs over a tower service sends no User-Agent).
    let by_agent = cluster.client_with_headers(headers(&[
        ("authorization", &bearer(ADMIN_TOKEN)),
        ("user-agent", "meshdeck/0.1.0 (linux)"),
    ]));
    let updated = Api::<ConfigMap>::namespaced(by_agent, "bookinfo")
        .patch(
            "owned",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"k3": "v3"}})),
        )
        .await
        .expect("patch");
    assert!(
        managed(&updated)
            .iter()
            .any(|(m, _, _, f)| m == "meshdeck" && *f == json!({"f:data": {"f:k3": {}}}))
    );
    let anonymous_agent = cms
        .patch(
            "owned",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"k4": "v4"}})),
        )
        .await
        .expect("patch");
    assert!(
        managed(&anonymous_agent)
            .iter()
            .any(|(m, _, _, f)| m == "unknown" && *f == json!({"f:data": {"f:k4": {}}}))
    );

    // Status writes are entries of the status subresource.
    let deployments = Api::<Deployment>::namespaced(admin.clone(), "bookinfo");
    let d = deployments
        .patch_status(
            "details-v1",
            &PatchParams {
                field_manager: Some("status-writer".into()),
                ..PatchParams::default()
            },
            &Patch::Merge(json!({"status": {"collisionCount": 1}})),
        )
        .await
        .expect("status patch");
    assert!(managed(&d).contains(&(
        "status-writer".into(),
        "Update".into(),
        "status".into(),
        json!({"f:status": {"f:collisionCount": {}}})
    )));
    // Controllers own what they write: pods and ReplicaSet status.
    let pods = Api::<Pod>::namespaced(admin, "bookinfo")
        .list(&ListParams::default())
        .await
        .expect("pods");
    let pod = &pods.items[0];
    let entries = managed(pod);
    assert!(
        entries
            .iter()
            .any(|(m, op, sub, f)| m == "kube-controller-manager"
                && op == "Update"
                && sub.is_empty()
                && f["f:spec"]["f:containers"].is_object()),
        "{entries:?}"
    );
    assert!(
        entries
            .iter()
            .any(|(m, _, sub, _)| m == "kube-controller-manager" && sub == "status"),
        "{entries:?}"
    );
}
