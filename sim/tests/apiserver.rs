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
    assert!(
        cluster
            .get("", "v1", "serviceaccounts", MESHDECK_NAMESPACE, "meshdeck")
            .is_some()
    );
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

    // A client may edit managedFields; `[{}]` clears them (Kubernetes docs,
    // "Clearing managedFields").
    let mut cleared = cms.get("owned").await.expect("get");
    cleared.metadata.managed_fields = Some(vec![Default::default()]);
    let cleared = cms
        .replace("owned", &PostParams::default(), &cleared)
        .await
        .expect("replace");
    assert!(managed(&cleared).is_empty(), "{:?}", managed(&cleared));

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

/// A server-side apply as a raw request (kube-rs hides the 201): the code
/// and the answer.
async fn apply_raw(
    cluster: &InMemoryCluster,
    token: &str,
    path: &str,
    query: &str,
    body: Value,
) -> (u16, Value) {
    let uri = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    raw(
        cluster,
        "PATCH",
        &uri,
        &[("authorization", &bearer(token))],
        Some(("application/apply-patch+yaml", body)),
    )
    .await
}

fn fields_of(obj: &Value, manager: &str, operation: &str) -> Option<Value> {
    obj["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
        .map(|e| e["fieldsV1"].clone())
}

fn web(replicas: u32, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "bookinfo", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
        },
    })
}

const WEB: &str = "/apis/apps/v1/namespaces/bookinfo/deployments/web";

#[tokio::test]
async fn server_side_apply_creates_with_an_apply_entry_and_skips_no_ops() {
    let cluster = demo();
    let cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "ssa", "namespace": "bookinfo", "labels": {"app": "ssa"}},
        "data": {"a": "1"},
    });
    let path = "/api/v1/namespaces/bookinfo/configmaps/ssa";
    let (code, created) = apply_raw(
        &cluster,
        ADMIN_TOKEN,
        path,
        "fieldManager=meshdeck",
        cm.clone(),
    )
    .await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["data"], json!({"a": "1"}));
    let entries = created["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields");
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e["manager"], "meshdeck");
    assert_eq!(e["operation"], "Apply");
    assert_eq!(e["apiVersion"], "v1");
    assert_eq!(e["fieldsType"], "FieldsV1");
    assert!(e["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(e.get("subresource").is_none());
    assert_eq!(
        e["fieldsV1"],
        json!({"f:data": {"f:a": {}}, "f:metadata": {"f:labels": {"f:app": {}}}})
    );
    // The same apply again: 200 and no new resourceVersion.
    let (code, again) = apply_raw(&cluster, ADMIN_TOKEN, path, "fieldManager=meshdeck", cm).await;
    assert_eq!(code, 200);
    assert_eq!(
        again["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    assert_eq!(
        again["metadata"]["managedFields"],
        created["metadata"]["managedFields"]
    );

    // A Deployment through kube-rs: its containers are items by name, the
    // selector atomic; the controllers start its pods.
    let deployments = Api::<Deployment>::namespaced(cluster.client(), "bookinfo");
    let d = deployments
        .patch(
            "web",
            &PatchParams::apply("meshdeck"),
            &Patch::Apply(web(2, "app:1")),
        )
        .await
        .expect("apply creates");
    let d = serde_json::to_value(&d).expect("json");
    assert_eq!(
        fields_of(&d, "meshdeck", "Apply"),
        Some(json!({
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:selector": {},
                "f:template": {
                    "f:metadata": {"f:labels": {"f:app": {}}},
                    "f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {
                        ".": {}, "f:image": {}, "f:name": {}
                    }}},
                },
            },
        }))
    );
    let pods = Api::<Pod>::namespaced(cluster.client(), "bookinfo")
        .list(&ListParams::default().labels("app=web"))
        .await
        .expect("pods");
    assert_eq!(pods.items.len(), 2);
}

#[tokio::test]
async fn server_side_apply_merges_co_owns_and_reports_conflicts_like_kube_apiserver() {
    let cluster = demo();
    let admin = cluster.client();
    let deployments = Api::<Deployment>::namespaced(admin.clone(), "bookinfo");
    // "creator" creates the Deployment (an Update entry).
    deployments
        .create(
            &PostParams {
                field_manager: Some("creator".into()),
                ..PostParams::default()
            },
            &serde_json::from_value(web(1, "app:1")).expect("deployment"),
        )
        .await
        .expect("create");

    // Applying equal values co-owns them: no conflict, both own replicas.
    let mut equal = web(1, "app:1");
    equal["metadata"]["labels"]["tier"] = json!("front");
    let (code, d) = apply_raw(&cluster, ADMIN_TOKEN, WEB, "fieldManager=meshdeck", equal).await;
    assert_eq!(code, 200, "{d}");
    assert_eq!(
        d["metadata"]["labels"],
        json!({"app": "web", "tier": "front"})
    );
    let creator = fields_of(&d, "creator", "Update").expect("creator entry");
    let applier = fields_of(&d, "meshdeck", "Apply").expect("applier entry");
    assert_eq!(creator["f:spec"]["f:replicas"], json!({}));
    assert_eq!(applier["f:spec"]["f:replicas"], json!({}));
    assert_eq!(applier["f:metadata"]["f:labels"]["f:tier"], json!({}));

    // A different value of a field another manager owns: 409.
    let (code, err) = apply_raw(
        &cluster,
        ADMIN_TOKEN,
        WEB,
        "fieldManager=meshdeck",
        web(3, "app:1"),
    )
    .await;
    assert_eq!(code, 409);
    assert_eq!(err["reason"], "Conflict");
    assert_eq!(
        err["message"],
        r#"Apply failed with 1 conflict: conflict with "creator" using apps/v1: .spec.replicas"#
    );
    assert_eq!(
        err["details"]["causes"],
        json!([{
            "reason": "FieldManagerConflict",
            "message": r#"conflict with "creator" using apps/v1"#,
            "field": ".spec.replicas",
        }])
    );
    // Several conflicts with several managers, one block each, sorted.
    deployments
        .patch(
            "web",
            &PatchParams {
                field_manager: Some("autoscaler".into()),
                ..PatchParams::default()
            },
            &Patch::Merge(json!({"spec": {"replicas": 2}})),
        )
        .await
        .expect("autoscaler scales");
    let err = status(
        deployments
            .patch(
                "web",
                &PatchParams::apply("meshdeck"),
                &Patch::Apply(web(3, "app:2")),
            )
            .await,
    );
    assert_eq!(err.code, 409);
    assert_eq!(
        err.message,
        "Apply failed with 2 conflicts: conflicts with \"autoscaler\" using apps/v1:\n\
         - .spec.replicas\n\
         conflicts with \"creator\" using apps/v1:\n\
         - .spec.template.spec.containers[name=\"app\"].image"
    );
    let causes: Vec<(String, String)> = err
        .details
        .expect("details")
        .causes
        .iter()
        .map(|c| (c.message.clone(), c.field.clone()))
        .collect();
    assert_eq!(
        causes,
        [
            (
                r#"conflict with "autoscaler" using apps/v1"#.to_owned(),
                ".spec.replicas".to_owned()
            ),
            (
                r#"conflict with "creator" using apps/v1"#.to_owned(),
                r#".spec.template.spec.containers[name="app"].image"#.to_owned()
            ),
        ]
    );
    // Nothing changed.
    let live = deployments.get("web").await.expect("get");
    assert_eq!(live.spec.as_ref().and_then(|s| s.replicas), Some(2));

    // An applier is printed without an API version.
    let (code, err) = apply_raw(
        &cluster,
        ADMIN_TOKEN,
        WEB,
        "fieldManager=other-applier",
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "labels": {"tier": "back"}}}),
    )
    .await;
    assert_eq!(code, 409);
    assert_eq!(
        err["message"],
        r#"Apply failed with 1 conflict: conflict with "meshdeck": .metadata.labels.tier"#
    );

    // force=true takes the fields over.
    let forced = deployments
        .patch(
            "web",
            &PatchParams::apply("meshdeck").force(),
            &Patch::Apply(web(3, "app:2")),
        )
        .await
        .expect("forced apply");
    assert_eq!(forced.spec.as_ref().and_then(|s| s.replicas), Some(3));
    let forced = serde_json::to_value(&forced).expect("json");
    assert!(fields_of(&forced, "autoscaler", "Update").is_none());
    let creator = fields_of(&forced, "creator", "Update").expect("creator keeps the rest");
    assert!(creator["f:spec"].get("f:replicas").is_none());
    assert!(
        creator["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"]
            .get("f:image")
            .is_none()
    );
    let applier = fields_of(&forced, "meshdeck", "Apply").expect("applier");
    assert_eq!(applier["f:spec"]["f:replicas"], json!({}));
    let template = &forced["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(template["image"], "app:2");
}

#[tokio::test]
async fn fields_an_applier_drops_leave_unless_another_manager_owns_them() {
    let cluster = demo();
    let path = "/api/v1/namespaces/bookinfo/configmaps/labels";
    let cm = |labels: Value| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "labels", "labels": labels}})
    };
    let (code, _) = apply_raw(
        &cluster,
        ADMIN_TOKEN,
        path,
        "fieldManager=one",
        cm(json!({"a": "1", "b": "2", "c": "3"})),
    )
    .await;
    assert_eq!(code, 201);
    // Another applier co-owns c with the same value.
    let (code, _) = apply_raw(
        &cluster,
        ADMIN_TOKEN,
        path,
        "fieldManager=two",
        cm(json!({"c": "3"})),
    )
    .await;
    assert_eq!(code, 200);
    // "one" stops applying b and c: b goes (nobody else owns it), c stays.
    let (code, after) = apply_raw(
        &cluster,
        ADMIN_TOKEN,
        path,
        "fieldManager=one",
        cm(json!({"a": "1"})),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(after["metadata"]["labels"], json!({"a": "1", "c": "3"}));
    assert_eq!(
        fields_of(&after, "one", "Apply"),
        Some(json!({"f:metadata": {"f:labels": {"f:a": {}}}}))
    );
    assert_eq!(
        fields_of(&after, "two", "Apply"),
        Some(json!({"f:metadata": {"f:labels": {"f:c": {}}}}))
    );
    // An Update owner keeps a field too: "three" sets d by a merge patch,
    // "one" had applied d before and drops it.
    let (code, _) = apply_raw(
        &cluster,
        ADMIN_TOKEN,
        path,
        "fieldManager=one",
        cm(json!({"a": "1", "d": "4"})),
    )
    .await;
    assert_eq!(code, 200);
    let (code, _) = raw(
        &cluster,
        "PATCH",
        &format!("{path}?fieldManager=three"),
        &[("authorization", &bearer(ADMIN_TOKEN))],
        Some((
            "application/merge-patch+json",
            json!({"metadata": {"labels": {"d": "5"}}}),
        )),
    )
    .await;
    assert_eq!(code, 200);
    let (code, after) = apply_raw(
        &cluster,
        ADMIN_TOKEN,
        path,
        "fieldManager=one",
        cm(json!({"a": "1"})),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        after["metadata"]["labels"],
        json!({"a": "1", "c": "3", "d": "5"})
    );
    // Dropping the last owned label of a map: the map goes.
    let (_, after) = apply_raw(
        &cluster,
        ADMIN_TOKEN,
        "/api/v1/namespaces/bookinfo/configmaps/solo",
        "fieldManager=one",
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "solo", "labels": {"x": "1"}}, "data": {"k": "v"}}),
    )
    .await;
    assert_eq!(after["metadata"]["labels"], json!({"x": "1"}));
    let (_, after) = apply_raw(
        &cluster,
        ADMIN_TOKEN,
        "/api/v1/namespaces/bookinfo/configmaps/solo",
        "fieldManager=one",
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "solo"}, "data": {"k": "v"}}),
    )
    .await;
    assert!(after["metadata"].get("labels").is_none(), "{after}");
    assert_eq!(after["data"], json!({"k": "v"}));
}

#[tokio::test]
async fn containers_merge_by_name_and_dropped_ones_go() {
    let cluster = demo();
    let deployments = Api::<Deployment>::namespaced(cluster.client(), "bookinfo");
    let with = |containers: Value| {
        let mut d = web(1, "app:1");
        d["spec"]["template"]["spec"]["containers"] = containers;
        d
    };
    deployments
        .patch(
            "web",
            &PatchParams::apply("meshdeck"),
            &Patch::Apply(with(json!([
                {"name": "app", "image": "app:1", "ports": [{"containerPort": 8080}]},
                {"name": "helper", "image": "helper:1"},
            ]))),
        )
        .await
        .expect("apply");
    // Another manager adds a container by a strategic merge patch.
    deployments
        .patch(
            "web",
            &PatchParams {
                field_manager: Some("injector".into()),
                ..PatchParams::default()
            },
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "proxy", "image": "proxy:1"}
            ]}}}})),
        )
        .await
        .expect("strategic patch");
    // Re-applying only "app" with a new image: app is merged, helper (only
    // ours) goes, proxy (the injector's) stays, in place.
    let d = deployments
        .patch(
            "web",
            &PatchParams::apply("meshdeck"),
            &Patch::Apply(with(json!([{"name": "app", "image": "app:2"}]))),
        )
        .await
        .expect("apply");
    let containers: Vec<(String, Option<String>, usize)> = d
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|s| {
            s.containers
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        c.image.clone(),
                        c.ports.as_ref().map_or(0, Vec::len),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        containers,
        [
            ("app".to_owned(), Some("app:2".to_owned()), 0),
            ("proxy".to_owned(), Some("proxy:1".to_owned()), 0),
        ]
    );
    // Applying the injector's container with another image conflicts on
    // that item's field.
    let err = status(
        deployments
            .patch(
                "web",
                &PatchParams::apply("meshdeck"),
                &Patch::Apply(with(json!([
                    {"name": "app", "image": "app:2"},
                    {"name": "proxy", "image": "proxy:2"},
                ]))),
            )
            .await,
    );
    assert_eq!(
        err.message,
        r#"Apply failed with 1 conflict: conflict with "injector" using apps/v1: .spec.template.spec.containers[name="proxy"].image"#
    );
    // Service ports are keyed by port and protocol (TCP by default).
    let svc_path = "/api/v1/namespaces/bookinfo/services/ssa-svc";
    let (code, svc) = apply_raw(
        &cluster,
        ADMIN_TOKEN,
        svc_path,
        "fieldManager=meshdeck",
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ssa-svc"},
               "spec": {"ports": [{"port": 80, "name": "http"}]}}),
    )
    .await;
    assert_eq!(code, 201);
    assert_eq!(
        fields_of(&svc, "meshdeck", "Apply"),
        Some(json!({"f:spec": {"f:ports": {
            "k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:name": {}, "f:port": {}}
        }}}))
    );
}

#[tokio::test]
async fn apply_validates_its_options_and_body_and_honours_dry_run() {
    let cluster = demo();
    let path = "/api/v1/namespaces/bookinfo/configmaps/dry";
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "dry"}, "data": {"k": "v"}});
    // No fieldManager.
    let (code, err) = apply_raw(&cluster, ADMIN_TOKEN, path, "", cm.clone()).await;
    assert_eq!(code, 422);
    assert_eq!(err["reason"], "Invalid");
    assert_eq!(
        err["message"],
        r#"PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch"#
    );
    // force only for apply.
    let (code, err) = raw(
        &cluster,
        "PATCH",
        "/api/v1/namespaces/bookinfo?force=true",
        &[("authorization", &bearer(ADMIN_TOKEN))],
        Some(("application/merge-patch+json", json!({}))),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(
        err["message"],
        r#"PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch"#
    );
    // The body must be of the resource and name the URL's object.
    let mut wrong = cm.clone();
    wrong["apiVersion"] = json!("apps/v1");
    let (code, err) = apply_raw(&cluster, ADMIN_TOKEN, path, "fieldManager=m", wrong).await;
    assert_eq!(code, 400);
    assert_eq!(
        err["message"],
        "Incorrect version specified in apply patch. Specified patch version: apps/v1, expected: v1"
    );
    let mut nameless = cm.clone();
    nameless["metadata"] = json!({});
    let (code, err) = apply_raw(&cluster, ADMIN_TOKEN, path, "fieldManager=m", nameless).await;
    assert_eq!(code, 400);
    assert_eq!(
        err["message"],
        "the name of the object () does not match the name on the URL (dry)"
    );
    let mut elsewhere = cm.clone();
    elsewhere["metadata"]["namespace"] = json!("payments");
    assert_eq!(
        apply_raw(&cluster, ADMIN_TOKEN, path, "fieldManager=m", elsewhere)
            .await
            .0,
        400
    );
    let mut kindless = cm.clone();
    kindless["kind"] = json!("Secret");
    assert_eq!(
        apply_raw(&cluster, ADMIN_TOKEN, path, "fieldManager=m", kindless)
            .await
            .0,
        400
    );

    // dryRun=All: the answer of a creation, nothing stored.
    let rv = cluster.resource_version();
    let (code, answer) = apply_raw(
        &cluster,
        ADMIN_TOKEN,
        path,
        "fieldManager=m&dryRun=All",
        cm.clone(),
    )
    .await;
    assert_eq!(code, 201);
    assert_eq!(answer["data"], json!({"k": "v"}));
    assert!(
        cluster
            .get("", "v1", "configmaps", "bookinfo", "dry")
            .is_none()
    );
    assert_eq!(cluster.resource_version(), rv);
    // And over an existing object.
    apply_raw(&cluster, ADMIN_TOKEN, path, "fieldManager=m", cm.clone()).await;
    let rv = cluster.resource_version();
    let mut changed = cm;
    changed["data"]["k"] = json!("dry");
    let (code, answer) = apply_raw(
        &cluster,
        ADMIN_TOKEN,
        path,
        "fieldManager=m&dryRun=All",
        changed,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(answer["data"], json!({"k": "dry"}));
    let stored = cluster
        .get("", "v1", "configmaps", "bookinfo", "dry")
        .expect("stored");
    assert_eq!(stored["data"], json!({"k": "v"}));
    assert_eq!(cluster.resource_version(), rv);
}

#[tokio::test]
async fn an_apply_that_creates_needs_create_too() {
    let cluster = demo();
    let admin = cluster.client();
    create_namespace(&admin, "team").await;
    cluster.add_token("patcher-token", "patcher", &[]);
    rbac(
        &cluster,
        "Role",
        json!({
            "metadata": {"name": "cm-patcher", "namespace": "team"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "patch"]}],
        }),
    )
    .await;
    rbac(
        &cluster,
        "RoleBinding",
        json!({
            "metadata": {"name": "cm-patcher", "namespace": "team"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-patcher"},
            "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "patcher"}],
        }),
    )
    .await;
    let cms = Api::<ConfigMap>::namespaced(cluster.client_with_token("patcher-token"), "team");
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": "settings"}, "data": {"k": "v"}});
    let err = status(
        cms.patch(
            "settings",
            &PatchParams::apply("patcher"),
            &Patch::Apply(body.clone()),
        )
        .await,
    );
    assert_eq!(
        err.message,
        r#"configmaps "settings" is forbidden: User "patcher" cannot create resource "configmaps" in API group "" in the namespace "team""#
    );
    Api::<ConfigMap>::namespaced(admin, "team")
        .create(&PostParams::default(), &config_map("settings"))
        .await
        .expect("admin creates");
    let applied = cms
        .patch(
            "settings",
            &PatchParams::apply("patcher"),
            &Patch::Apply(body),
        )
        .await
        .expect("patch is enough for an existing object");
    assert_eq!(
        applied.data.and_then(|d| d.get("k").cloned()).as_deref(),
        Some("v")
    );
}

#[tokio::test]
async fn status_and_leases_can_be_applied() {
    let cluster = demo();
    let client = cluster.client();
    let d = Api::<Deployment>::namespaced(client.clone(), "bookinfo")
        .patch_status(
            "details-v1",
            &PatchParams::apply("status-applier"),
            &Patch::Apply(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                                 "metadata": {"name": "details-v1"},
                                 "status": {"collisionCount": 2}})),
        )
        .await
        .expect("apply status");
    assert_eq!(d.status.as_ref().and_then(|s| s.collision_count), Some(2));
    assert!(managed(&d).contains(&(
        "status-applier".into(),
        "Apply".into(),
        "status".into(),
        json!({"f:status": {"f:collisionCount": {}}})
    )));
    // Leader election by server-side apply.
    let leases = Api::<Lease>::namespaced(client, MESHDECK_NAMESPACE);
    let claim = |holder: &str| {
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
               "metadata": {"name": "leader"},
               "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15}})
    };
    let l = leases
        .patch(
            "leader",
            &PatchParams::apply("replica-a"),
            &Patch::Apply(claim("a")),
        )
        .await
        .expect("create by apply");
    assert_eq!(holder(&l), Some("a"));
    let err = status(
        leases
            .patch(
                "leader",
                &PatchParams::apply("replica-b"),
                &Patch::Apply(claim("b")),
            )
            .await,
    );
    assert_eq!(
        err.message,
        r#"Apply failed with 1 conflict: conflict with "replica-a": .spec.holderIdentity"#
    );
    let l = leases
        .patch(
            "leader",
            &PatchParams::apply("replica-b").force(),
            &Patch::Apply(claim("b")),
        )
        .await
        .expect("forced takeover");
    assert_eq!(holder(&l), Some("b"));
}

#[tokio::test]
async fn a_dropped_item_someone_else_owns_part_of_stays_with_its_key() {
    let cluster = demo();
    let deployments = Api::<Deployment>::namespaced(cluster.client(), "bookinfo");
    let with = |containers: Value| {
        let mut d = web(1, "app:1");
        d["spec"]["template"]["spec"]["containers"] = containers;
        d
    };
    deployments
        .patch(
            "web",
            &PatchParams::apply("meshdeck"),
            &Patch::Apply(with(json!([
                {"name": "app", "image": "app:1"},
                {"name": "helper", "image": "helper:1", "args": ["run"]},
            ]))),
        )
        .await
        .expect("apply");
    // Another manager changes the helper's image: it owns that field.
    deployments
        .patch(
            "web",
            &PatchParams {
                field_manager: Some("tuner".into()),
                ..PatchParams::default()
            },
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "helper", "image": "helper:2"}
            ]}}}})),
        )
        .await
        .expect("patch");
    let d = deployments
        .patch(
            "web",
            &PatchParams::apply("meshdeck"),
            &Patch::Apply(with(json!([{"name": "app", "image": "app:1"}]))),
        )
        .await
        .expect("apply");
    let containers = serde_json::to_value(
        &d.spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .expect("pod spec")
            .containers,
    )
    .expect("json");
    // The helper keeps its name (its key) and the tuner's image; the args
    // only meshdeck owned are gone.
    assert_eq!(
        containers,
        json!([{"name": "app", "image": "app:1"}, {"name": "helper", "image": "helper:2"}])
    );
}

#[tokio::test]
async fn service_account_tokens_come_from_the_token_request_api() {
    let cluster = demo();
    let admin = cluster.client();
    create_namespace(&admin, "team").await;
    let sa: k8s_openapi::api::core::v1::ServiceAccount =
        serde_json::from_value(json!({"metadata": {"name": "bot"}})).expect("sa");
    let sas = Api::<k8s_openapi::api::core::v1::ServiceAccount>::namespaced(admin.clone(), "team");
    sas.create(&PostParams::default(), &sa)
        .await
        .expect("create sa");
    let request: k8s_openapi::api::authentication::v1::TokenRequest =
        serde_json::from_value(json!({"spec": {"expirationSeconds": 600}})).expect("request");
    let token = sas
        .create_token_request("bot", &PostParams::default(), &request)
        .await
        .expect("token")
        .status
        .expect("status")
        .token;
    // The token authenticates as the ServiceAccount, which may do nothing yet.
    let bot = cluster.client_with_token(&token);
    let denied = status(
        Api::<ConfigMap>::namespaced(bot.clone(), "team")
            .list(&ListParams::default())
            .await,
    );
    assert_eq!(denied.code, 403);
    assert_eq!(
        denied.message,
        "configmaps is forbidden: User \"system:serviceaccount:team:bot\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"team\""
    );
    // A ServiceAccount that does not exist gets no token; others may not ask.
    assert_eq!(
        status(
            sas.create_token_request("nobody", &PostParams::default(), &request)
                .await
        )
        .code,
        404
    );
    let alice = Api::<k8s_openapi::api::core::v1::ServiceAccount>::namespaced(
        cluster.client_with_token(ALICE),
        "team",
    );
    let refused = status(
        alice
            .create_token_request("bot", &PostParams::default(), &request)
            .await,
    );
    assert_eq!(refused.code, 403);
    assert!(
        refused
            .message
            .contains("cannot create resource \"serviceaccounts/token\""),
        "{}",
        refused.message
    );
}

#[tokio::test]
async fn an_apply_without_a_name_applies_to_the_object_the_url_names() {
    let cluster = demo();
    let admin = cluster.client();
    let api = Api::<ConfigMap>::namespaced(admin, MESHDECK_NAMESPACE);
    // As kube-lease-manager sends it: no metadata at all. Nothing names a
    // new object, so creating from it fails as kube-apiserver's name check.
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1"}});
    let refused = status(
        api.patch(
            "unnamed",
            &PatchParams::apply("tool"),
            &Patch::Apply(&config),
        )
        .await,
    );
    assert_eq!(refused.code, 400);
    assert_eq!(
        refused.message,
        "the name of the object () does not match the name on the URL (unnamed)"
    );
    // An object that exists takes the configuration.
    api.create(&PostParams::default(), &config_map("unnamed"))
        .await
        .expect("create");
    let applied = api
        .patch(
            "unnamed",
            &PatchParams::apply("tool"),
            &Patch::Apply(&config),
        )
        .await
        .expect("apply to the existing object");
    assert_eq!(applied.name_any(), "unnamed");
    assert_eq!(applied.data.expect("data")["a"], "1");
}
