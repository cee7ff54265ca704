//! The traffic-management wizards against the demo's in-memory API, which
//! authenticates every request, authorises it with its RBAC objects and
//! validates Istio objects against their CRD schemas, as a real API server
//! does. meshdeck runs as its own service account with exactly the
//! documented RBAC; every wizard write is made with the caller's token.
//!
//! - A member whose Role lets them edit Istio config in bookinfo applies
//!   there (the audit log names them, not meshdeck).
//! - A `view`-only ServiceAccount gets Kubernetes' 403, unchanged, and
//!   nothing is written; a caller who may not see the namespace gets
//!   meshdeck's 403 before anything is read.
//! - A field another manager owns with a different value is a 409 naming it
//!   and its manager; `force=true` takes it over.
//! - Fields other managers own are kept by an apply and by "remove".
//! - Previews (`dryRun=true`) and bad input write nothing.

use app::types::{
    AuthMode, ErrorBody, ObjectAction, RunMode, ServiceProtocol, ServiceTraffic, WizardKind,
    WizardOutcome,
};
use http::{Method, StatusCode};
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use meshdeck_server::AppState;
use meshdeck_server::auth::{AuthOptions, Authenticator};
use meshdeck_server::demo::{demo_identities, in_memory, install_documented_rbac};
use meshdeck_server::spa::Spa;
use meshdeck_server::upstream::Upstreams;
use meshdeck_sim::kube::seed::{MESHDECK_SA_TOKEN, MESHDECK_SA_USER};
use meshdeck_sim::kube::{AuditEntry, InMemoryCluster};
use meshdeck_sim::scenario;
use serde_json::{Value, json};

mod common;
use common::request;

const ALICE: &str = "demo-token-alice";
const BOB: &str = "demo-token-bob";
const VIEWER: &str = "viewer-token";
const VIEWER_USER: &str = "system:serviceaccount:bookinfo:viewer";

struct Harness {
    cluster: InMemoryCluster,
    state: AppState,
}

fn harness() -> Harness {
    let mesh = scenario::demo();
    let cluster = InMemoryCluster::from_mesh(&mesh);
    install_documented_rbac(&cluster, &["console"]).unwrap();
    for object in [
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "view"},
        "rules": [
            {"apiGroups": [""], "resources": ["pods", "services", "namespaces"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["networking.istio.io", "security.istio.io"], "resources": ["*"], "verbs": ["get", "list", "watch"]},
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
    let options = AuthOptions {
        demo_identities: demo_identities(&mesh),
        authenticator: Authenticator::Token,
        ..AuthOptions::default()
    };
    let spa = Spa::load(std::path::Path::new("/nonexistent"));
    let state = AppState::with_auth(RunMode::Demo, AuthMode::Demo, upstreams, spa, options);
    Harness { cluster, state }
}

fn api(h: &Harness, group: &str, kind: &str, plural: &str, ns: &str) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, "v1", kind), plural);
    Api::namespaced_with(h.cluster.client(), ns, &ar)
}

fn vs_api(h: &Harness) -> Api<DynamicObject> {
    api(
        h,
        "networking.istio.io",
        "VirtualService",
        "virtualservices",
        "bookinfo",
    )
}

fn dr_api(h: &Harness) -> Api<DynamicObject> {
    api(
        h,
        "networking.istio.io",
        "DestinationRule",
        "destinationrules",
        "bookinfo",
    )
}

async fn get(api: &Api<DynamicObject>, name: &str) -> Option<Value> {
    api.get_opt(name)
        .await
        .unwrap()
        .map(|o| serde_json::to_value(o).unwrap())
}

fn message(body: &Value) -> String {
    serde_json::from_value::<ErrorBody>(body.clone())
        .map(|b| b.error.message)
        .unwrap_or_else(|_| body.to_string())
}

/// Writes to Istio kinds the audit log recorded (dry runs are writes too,
/// but store nothing; the answers say which passed).
fn istio_writes(audit: &[AuditEntry]) -> Vec<&AuditEntry> {
    audit
        .iter()
        .filter(|e| {
            e.group.ends_with("istio.io")
                && matches!(e.verb.as_str(), "create" | "patch" | "update" | "delete")
        })
        .collect()
}

fn canary() -> Value {
    json!({"wizard": "traffic-shifting", "weights": [
        {"version": "v1", "weight": 80}, {"version": "v2", "weight": 20}, {"version": "v3", "weight": 0}]})
}

async fn wizard(h: &Harness, token: &str, query: &str, body: &Value) -> (StatusCode, Value) {
    request(
        &h.state,
        Method::POST,
        &format!("/api/services/bookinfo/reviews/wizards{query}"),
        token,
        Some(body.clone()),
    )
    .await
}

async fn wizard_in(
    h: &Harness,
    token: &str,
    namespace: &str,
    name: &str,
    query: &str,
    body: &Value,
) -> (StatusCode, Value) {
    request(
        &h.state,
        Method::POST,
        &format!("/api/services/{namespace}/{name}/wizards{query}"),
        token,
        Some(body.clone()),
    )
    .await
}

#[tokio::test]
async fn the_traffic_facts_of_a_service() {
    let h = harness();
    let (status, body) = request(
        &h.state,
        Method::GET,
        "/api/services/bookinfo/reviews/traffic",
        ALICE,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let t: ServiceTraffic = serde_json::from_value(body).unwrap();
    // The demo's reviews: three versions, one workload each; its seeded
    // VirtualService splits 34/33/33.
    let mesh = scenario::demo();
    let svc = mesh.services.iter().find(|s| s.name == "reviews").unwrap();
    let versions: Vec<(String, Vec<String>)> = t
        .versions
        .iter()
        .map(|v| (v.version.clone(), v.workloads.clone()))
        .collect();
    let expected: Vec<(String, Vec<String>)> = svc
        .backends
        .iter()
        .map(|(w, _)| {
            let w = &mesh.workloads[*w];
            (w.version.clone(), vec![w.name.clone()])
        })
        .collect();
    assert_eq!(versions, expected);
    let weights: Vec<i64> = t.current_weights.iter().map(|w| w.weight).collect();
    assert_eq!(weights, [34, 33, 33]);
    assert_eq!(t.protocol, ServiceProtocol::Http);
    assert_eq!(t.port, Some(9080));
    assert!(t.may_write, "{:?}", t.write_problem);
    assert!(t.applied.is_empty());
    let names: Vec<String> = t
        .objects
        .iter()
        .map(|o| format!("{:?} {}", o.kind, o.name))
        .collect();
    assert_eq!(names, ["VirtualService reviews", "DestinationRule reviews"]);
    // The viewer may see but not write; the mongodb service speaks TCP.
    let (_, body) = request(
        &h.state,
        Method::GET,
        "/api/services/bookinfo/reviews/traffic",
        VIEWER,
        None,
    )
    .await;
    let t: ServiceTraffic = serde_json::from_value(body).unwrap();
    assert!(!t.may_write);
    assert_eq!(
        t.write_problem.as_deref(),
        Some(
            "Kubernetes RBAC does not let you create virtualservices.networking.istio.io in namespace \"bookinfo\" (the wizards write with your own credentials)"
        )
    );
    let (_, body) = request(
        &h.state,
        Method::GET,
        "/api/services/bookinfo/mongodb/traffic",
        ALICE,
        None,
    )
    .await;
    let t: ServiceTraffic = serde_json::from_value(body).unwrap();
    assert_eq!(t.protocol, ServiceProtocol::Tcp);
    for (uri, token, want) in [
        (
            "/api/services/bookinfo/nosuch/traffic",
            ALICE,
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/services/payments/ledger/traffic",
            ALICE,
            StatusCode::FORBIDDEN,
        ),
        (
            "/api/services/bookinfo/Bad_Name/traffic",
            ALICE,
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, body) = request(&h.state, Method::GET, uri, token, None).await;
        assert_eq!(status, want, "{uri}: {body}");
    }
}

#[tokio::test]
async fn a_conflict_is_named_and_taking_over_is_an_explicit_step() {
    let h = harness();
    h.cluster.clear_audit();
    // The demo's VirtualService reviews is the seed's (field manager
    // meshdeck-sim): its routes conflict with the canary's.
    let (status, body) = wizard(&h, ALICE, "?dryRun=true", &canary()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let preview: WizardOutcome = serde_json::from_value(body).unwrap();
    assert!(preview.dry_run);
    assert!(preview.conflict);
    // Only the routes conflict: the seed's host `reviews` is the same
    // host, kept as it is spelled there.
    assert_eq!(preview.problems.len(), 1, "{:#?}", preview.problems);
    let conflict = &preview.problems[0];
    assert_eq!(conflict.status, 409);
    assert_eq!(conflict.object, "VirtualService bookinfo/reviews");
    assert!(
        conflict.message.contains("meshdeck-sim"),
        "{}",
        conflict.message
    );
    assert!(
        conflict.message.contains(".spec.http"),
        "{}",
        conflict.message
    );
    let (status, body) = wizard(&h, ALICE, "", &canary()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(message(&body).contains("meshdeck-sim"), "{body}");
    let seeded = get(&vs_api(&h), "reviews").await.unwrap();
    assert_eq!(seeded["spec"]["http"][0]["route"][0]["weight"], 34);

    // Taken over: the preview is clean, the apply writes as alice.
    let (status, body) = wizard(&h, ALICE, "?dryRun=true&force=true", &canary()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let preview: WizardOutcome = serde_json::from_value(body).unwrap();
    assert!(preview.problems.is_empty(), "{:?}", preview.problems);
    let vs = preview
        .objects
        .iter()
        .find(|o| o.kind == app::types::IstioKind::VirtualService)
        .unwrap();
    assert_eq!(vs.action, ObjectAction::Update);
    assert_eq!(vs.other_managers, ["meshdeck-sim"]);
    assert!(
        vs.diff
            .iter()
            .any(|l| l.op == '-' && l.text.contains("weight: 34"))
    );
    assert!(
        vs.diff
            .iter()
            .any(|l| l.op == '+' && l.text.contains("weight: 80"))
    );
    let (status, body) = wizard(&h, ALICE, "?force=true", &canary()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let vs = get(&vs_api(&h), "reviews").await.unwrap();
    let weights: Vec<i64> = vs["spec"]["http"][0]["route"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["weight"].as_i64().unwrap())
        .collect();
    assert_eq!(weights, [80, 20, 0]);
    assert_eq!(
        vs["metadata"]["labels"]["meshdeck.io/wizard"],
        "traffic-shifting"
    );
    let writes = h.cluster.audit();
    let writes = istio_writes(&writes);
    assert!(!writes.is_empty());
    assert!(
        writes
            .iter()
            .all(|e| e.user == "alice" && e.impersonated_by.is_none()),
        "{writes:#?}"
    );
    assert!(!writes.iter().any(|e| e.user == MESHDECK_SA_USER));
}

#[tokio::test]
async fn kubernetes_refuses_a_view_only_caller_and_nothing_is_written() {
    let h = harness();
    let before = get(&vs_api(&h), "reviews").await;
    h.cluster.clear_audit();
    let (status, body) = wizard(&h, VIEWER, "?force=true", &canary()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let text = message(&body);
    assert!(
        text.contains(VIEWER_USER) && text.contains("cannot patch resource"),
        "Kubernetes' own words: {text}"
    );
    // The preview shows the same refusal.
    let (status, body) = wizard(&h, VIEWER, "?dryRun=true&force=true", &canary()).await;
    assert_eq!(status, StatusCode::OK);
    let preview: WizardOutcome = serde_json::from_value(body).unwrap();
    assert!(preview.problems.iter().all(|p| p.status == 403));
    assert_eq!(preview.problems.len(), 2);
    assert_eq!(get(&vs_api(&h), "reviews").await, before);
    let audit = h.cluster.audit();
    let writes = istio_writes(&audit);
    assert!(
        writes
            .iter()
            .all(|e| e.user == VIEWER_USER && e.code == 403),
        "{writes:#?}"
    );
    // bob may not see bookinfo: meshdeck's 403, before anything is read.
    h.cluster.clear_audit();
    let (status, body) = wizard(&h, BOB, "", &canary()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(istio_writes(&h.cluster.audit()).is_empty());
}

#[tokio::test]
async fn bad_input_is_422_listing_every_field_and_writes_nothing() {
    let h = harness();
    h.cluster.clear_audit();
    let (status, body) = wizard(
        &h,
        ALICE,
        "",
        &json!({"wizard": "traffic-shifting", "weights": [
            {"version": "v1", "weight": 90}, {"version": "v7", "weight": 20}],
            "mirror": {"version": "v2", "percent": 101}}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        message(&body),
        "3 invalid fields: weights[1].version: no workload of service reviews has version \"v7\" (versions: v1, v2, v3); weights: the weights add up to 110, not 100; mirror.percent: 101 is not a percentage from 0 to 100"
    );
    for (body, want) in [
        (
            json!({"wizard": "timeouts-retries", "timeout": "soon"}),
            "timeout: \"soon\" is not a duration",
        ),
        (
            json!({"wizard": "request-routing", "rules": [{"matches": [{"uri": {"kind": "regex", "value": "[a-"}}], "weights": [{"version": "v1", "weight": 100}]}]}),
            "is not a regular expression",
        ),
        (
            json!({"wizard": "gateway", "hosts": ["x.example.com"], "port": 0, "protocol": "HTTP"}),
            "port: 0 is not a port from 1 to 65535",
        ),
        (
            json!({"wizard": "tcp-traffic-shifting", "weights": [{"version": "v1", "weight": 100}]}),
            "not TCP",
        ),
        (json!({"wizard": "teleport"}), "unknown variant"),
        (
            json!({"wizard": "traffic-shifting", "weights": [{"version": "v1", "weight": "all"}]}),
            "invalid type: string \"all\", expected i64",
        ),
    ] {
        let (status, answer) = wizard(&h, ALICE, "", &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert!(message(&answer).contains(want), "{body}: {answer}");
    }
    let (status, _) = request(
        &h.state,
        Method::POST,
        "/api/services/bookinfo/reviews/wizards?color=red",
        ALICE,
        Some(canary()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(istio_writes(&h.cluster.audit()).is_empty());
}

#[tokio::test]
async fn others_fields_are_kept_by_apply_and_by_remove() {
    let h = harness();
    // kubectl owns a DestinationRule for details with its own settings.
    dr_api(&h)
        .patch(
            "details",
            &PatchParams::apply("kubectl"),
            &Patch::Apply(json!({
                "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                "metadata": {"name": "details", "namespace": "bookinfo", "labels": {"team": "books"}},
                "spec": {"host": "details.bookinfo.svc.cluster.local", "exportTo": ["."],
                    "trafficPolicy": {"loadBalancer": {"simple": "RANDOM"}}},
            })),
        )
        .await
        .unwrap();
    let faults = json!({"wizard": "fault-injection",
        "delay": {"fixed_delay": "2s", "percent": 50.0}, "abort": null});
    let (status, body) = request(
        &h.state,
        Method::POST,
        "/api/services/bookinfo/details/wizards",
        ALICE,
        Some(faults),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let outcome: WizardOutcome = serde_json::from_value(body).unwrap();
    let actions: Vec<(String, ObjectAction)> = outcome
        .objects
        .iter()
        .map(|o| (o.name.clone(), o.action))
        .collect();
    assert_eq!(
        actions,
        [
            ("details".to_owned(), ObjectAction::Update),
            ("details".to_owned(), ObjectAction::Create)
        ]
    );
    let dr = get(&dr_api(&h), "details").await.unwrap();
    assert_eq!(dr["spec"]["exportTo"], json!(["."]));
    assert_eq!(
        dr["spec"]["trafficPolicy"]["loadBalancer"]["simple"],
        "RANDOM"
    );
    assert_eq!(dr["metadata"]["labels"]["team"], "books");
    assert_eq!(dr["spec"]["subsets"][0]["name"], "v1");
    let vs = get(&vs_api(&h), "details").await.unwrap();
    assert_eq!(vs["spec"]["http"][0]["fault"]["delay"]["fixedDelay"], "2s");

    // The traffic facts show the wizard applied.
    let (_, body) = request(
        &h.state,
        Method::GET,
        "/api/services/bookinfo/details/traffic",
        ALICE,
        None,
    )
    .await;
    let t: ServiceTraffic = serde_json::from_value(body).unwrap();
    assert_eq!(t.applied, [WizardKind::FaultInjection]);

    // Remove: meshdeck's VirtualService goes, the DestinationRule is
    // released to kubectl with its fields.
    let (status, body) = request(
        &h.state,
        Method::DELETE,
        "/api/services/bookinfo/details/wizards?dryRun=true",
        ALICE,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let preview: WizardOutcome = serde_json::from_value(body).unwrap();
    let actions: Vec<(String, ObjectAction)> = preview
        .objects
        .iter()
        .map(|o| (format!("{:?}", o.kind), o.action))
        .collect();
    assert_eq!(
        actions,
        [
            ("VirtualService".to_owned(), ObjectAction::Delete),
            ("DestinationRule".to_owned(), ObjectAction::Release)
        ]
    );
    assert!(
        get(&vs_api(&h), "details").await.is_some(),
        "a preview deletes nothing"
    );
    let (status, body) = request(
        &h.state,
        Method::DELETE,
        "/api/services/bookinfo/details/wizards",
        ALICE,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(get(&vs_api(&h), "details").await.is_none());
    let dr = get(&dr_api(&h), "details").await.unwrap();
    assert_eq!(dr["spec"]["exportTo"], json!(["."]));
    assert_eq!(
        dr["spec"]["trafficPolicy"]["loadBalancer"]["simple"],
        "RANDOM"
    );
    assert_eq!(dr["metadata"]["labels"]["team"], "books");
    assert!(dr["spec"].get("subsets").is_none(), "{dr}");
    assert!(
        dr["metadata"]["labels"]
            .get("app.kubernetes.io/managed-by")
            .is_none()
    );
    // Nothing of meshdeck's is left to remove; the seed's objects for
    // other services were never touched.
    let (_, body) = request(
        &h.state,
        Method::DELETE,
        "/api/services/bookinfo/details/wizards?dryRun=true",
        ALICE,
        None,
    )
    .await;
    let preview: WizardOutcome = serde_json::from_value(body).unwrap();
    assert!(preview.objects.is_empty());
    assert!(get(&vs_api(&h), "reviews").await.is_some());
}

#[tokio::test]
async fn every_wizard_passes_the_api_servers_schemas() {
    let h = harness();
    for (service, body) in [
        (
            "ratings",
            json!({"wizard": "traffic-shifting", "weights": [{"version": "v1", "weight": 100}], "mirror": {"version": "v1", "percent": 10}}),
        ),
        (
            "ratings",
            json!({"wizard": "request-routing", "rules": [
            {"matches": [{"headers": [{"name": "end-user", "match": {"kind": "exact", "value": "jason"}}]}, {"cookies": [{"name": "ab", "value": "b"}]}], "weights": [{"version": "v1", "weight": 100}]},
            {"weights": [{"version": "v1", "weight": 100}]}]}),
        ),
        (
            "ratings",
            json!({"wizard": "fault-injection", "abort": {"grpc_status": "UNAVAILABLE", "percent": 5}}),
        ),
        (
            "ratings",
            json!({"wizard": "timeouts-retries", "timeout": "3s", "retries": {"attempts": 2, "per_try_timeout": "1s", "retry_on": ["5xx", "reset"]}}),
        ),
        (
            "ratings",
            json!({"wizard": "circuit-breaking", "connection_pool": {"max_connections": 10, "connect_timeout": "1s", "http1_max_pending_requests": 5}, "outlier_detection": {"consecutive_errors": 3, "interval": "5s", "base_ejection_time": "30s", "max_ejection_percent": 100}, "load_balancer": {"type": "hash_header", "name": "x-user"}}),
        ),
        (
            "ratings",
            json!({"wizard": "mtls", "tls_mode": "ISTIO_MUTUAL", "peer_authentication": {"scope": "workload", "mode": "PERMISSIVE"}}),
        ),
        (
            "ratings",
            json!({"wizard": "gateway", "hosts": ["ratings.example.com"], "port": 80, "protocol": "HTTP"}),
        ),
        (
            "mongodb",
            json!({"wizard": "tcp-traffic-shifting", "weights": [{"version": "v1", "weight": 100}]}),
        ),
    ] {
        let (status, answer) = request(
            &h.state,
            Method::POST,
            &format!("/api/services/bookinfo/{service}/wizards"),
            ALICE,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}: {answer}");
    }
    // All composed on ratings: routes, fault, retries, pool and TLS.
    let vs = get(&vs_api(&h), "ratings").await.unwrap();
    let http = &vs["spec"]["http"];
    assert_eq!(http.as_array().unwrap().len(), 2);
    assert_eq!(http[1]["fault"]["abort"]["grpcStatus"], "UNAVAILABLE");
    assert_eq!(http[0]["retries"]["attempts"], 2);
    let dr = get(&dr_api(&h), "ratings").await.unwrap();
    assert_eq!(dr["spec"]["trafficPolicy"]["tls"]["mode"], "ISTIO_MUTUAL");
    assert_eq!(
        dr["spec"]["trafficPolicy"]["loadBalancer"]["consistentHash"]["httpHeaderName"],
        "x-user"
    );
    // The Istio config page finds nothing wrong with any of it.
    let (_, body) = request(
        &h.state,
        Method::GET,
        "/api/istio/config?namespaces=bookinfo",
        ALICE,
        None,
    )
    .await;
    let list: app::types::IstioConfigList = serde_json::from_value(body).unwrap();
    let ours: Vec<_> = list
        .validations
        .iter()
        .filter(|v| v.name.starts_with("ratings") || v.name == "mongodb")
        .collect();
    assert!(ours.is_empty(), "{ours:#?}");
    // And removal takes all of it away.
    for service in ["ratings", "mongodb"] {
        let (status, body) = request(
            &h.state,
            Method::DELETE,
            &format!("/api/services/bookinfo/{service}/wizards"),
            ALICE,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert!(get(&vs_api(&h), "ratings").await.is_none());
    assert!(get(&vs_api(&h), "ratings-gateway").await.is_none());
    assert!(get(&dr_api(&h), "ratings").await.is_none());
}

/// Creates `<service>-<version>`: the service's selector plus `version`,
/// its ports (Istio's samples' version Services).
fn version_service(h: &Harness, ns: &str, service: &str, version: &str) {
    let svc = h
        .cluster
        .get("", "v1", "services", ns, service)
        .expect("the demo's service");
    let mut selector = svc["spec"]["selector"].clone();
    selector["version"] = json!(version);
    h.cluster
        .create(json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": format!("{service}-{version}"), "namespace": ns},
            "spec": {"selector": selector, "ports": svc["spec"]["ports"].clone()}}))
        .unwrap();
}

/// The Gateway API option: a GRPCRoute (ledger speaks gRPC) attached to
/// the service, sending to the versions' own Services, written as the
/// caller through the API server's schema; its weights read back; removed
/// again.
#[tokio::test]
async fn routing_written_as_a_gateway_api_httproute() {
    let h = harness();
    // ledger (gRPC, one version) in payments, where bob edits routing.
    let shift = |weight: i64| {
        json!({"wizard": "traffic-shifting", "api": "gateway-api",
               "weights": [{"version": "v1", "weight": weight}]})
    };
    // Without the Gateway API's CRDs: a 422 naming the field.
    let (status, body) = wizard_in(&h, BOB, "payments", "ledger", "", &shift(100)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        message(&body).contains("api: the cluster does not serve the Gateway API's GRPCRoute"),
        "{body}"
    );
    for plural in ["httproutes", "grpcroutes"] {
        assert!(h.cluster.install_crd("gateway.networking.k8s.io", plural));
    }
    // Served, but v1 has no Service of its own yet.
    let (status, body) = wizard_in(&h, BOB, "payments", "ledger", "", &shift(100)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        message(&body).contains("weights[0].version: no Service in payments selects only version v1 of ledger (app=ledger, version=v1)"),
        "{body}"
    );
    // The version's Service, as Istio's samples write them.
    version_service(&h, "payments", "ledger", "v1");
    let (_, body) = request(
        &h.state,
        Method::GET,
        "/api/services/payments/ledger/traffic",
        BOB,
        None,
    )
    .await;
    let t: ServiceTraffic = serde_json::from_value(body).unwrap();
    assert!(t.gateway_api);
    assert_eq!(
        t.version_services.get("v1").map(String::as_str),
        Some("ledger-v1")
    );

    h.cluster.clear_audit();
    let (status, body) = wizard_in(&h, BOB, "payments", "ledger", "", &shift(100)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let outcome: WizardOutcome = serde_json::from_value(body).unwrap();
    let written: Vec<(String, ObjectAction)> = outcome
        .objects
        .iter()
        .map(|o| (format!("{} {}", o.kind.label(), o.name), o.action))
        .collect();
    assert_eq!(
        written,
        [("GRPCRoute ledger".to_owned(), ObjectAction::Create)]
    );
    // Written as bob, not as meshdeck.
    let audit = h.cluster.audit();
    let writes: Vec<&AuditEntry> = audit
        .iter()
        .filter(|e| e.resource == "grpcroutes" && e.verb == "patch")
        .collect();
    assert!(!writes.is_empty());
    assert!(writes.iter().all(|e| e.user == "bob"), "{writes:?}");
    let route = h
        .cluster
        .get(
            "gateway.networking.k8s.io",
            "v1",
            "grpcroutes",
            "payments",
            "ledger",
        )
        .expect("the GRPCRoute");
    assert_eq!(
        route["spec"]["parentRefs"][0]["name"], "ledger",
        "attached to the service: {route}"
    );
    let backend = &route["spec"]["rules"][0]["backendRefs"][0];
    assert_eq!(
        (&backend["name"], &backend["weight"]),
        (&json!("ledger-v1"), &json!(100))
    );
    let (_, body) = request(
        &h.state,
        Method::GET,
        "/api/services/payments/ledger/traffic",
        BOB,
        None,
    )
    .await;
    let t: ServiceTraffic = serde_json::from_value(body).unwrap();
    let weights: Vec<(String, i64)> = t
        .current_weights
        .iter()
        .map(|w| (w.version.clone(), w.weight))
        .collect();
    assert_eq!(weights, [("v1".to_owned(), 100)]);
    assert_eq!(t.applied, [WizardKind::TrafficShifting]);
    assert!(
        t.objects
            .iter()
            .any(|o| o.kind.label() == "GRPCRoute" && o.managed_by_meshdeck)
    );
    // A DestinationRule policy beside it is written, with a warning that
    // it does not reach the routed requests.
    let cb = json!({"wizard": "circuit-breaking", "load_balancer": {"type": "random"}});
    let (status, body) = wizard_in(&h, BOB, "payments", "ledger", "?dryRun=true", &cb).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let preview: WizardOutcome = serde_json::from_value(body).unwrap();
    assert!(
        preview.warnings.iter().any(|w| w.starts_with(
            "GRPCRoute payments/ledger sends service ledger's requests to the Services of its versions"
        )),
        "{:?}",
        preview.warnings
    );
    // With the route in place, Istio's API is refused for this service.
    let istio =
        json!({"wizard": "traffic-shifting", "weights": [{"version": "v1", "weight": 100}]});
    let (status, body) = wizard_in(&h, BOB, "payments", "ledger", "", &istio).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        message(&body).contains("api: GRPCRoute payments/ledger already routes service ledger"),
        "{body}"
    );
    // An HTTP service's request routing is an HTTPRoute with every kind of
    // match, accepted by the API server's HTTPRoute schema.
    version_service(&h, "bookinfo", "productpage", "v1");
    let routing = json!({"wizard": "request-routing", "api": "gateway-api", "rules": [
        {"matches": [
            {"headers": [{"name": "end-user", "match": {"kind": "exact", "value": "jason"}}],
             "cookies": [{"name": "group", "value": "b"}]},
            {"uri": {"kind": "prefix", "value": "/api/v1"}, "method": "POST"},
            {"uri": {"kind": "regex", "value": "/items/[0-9]+"}},
        ], "weights": [{"version": "v1", "weight": 100}]},
        {"matches": [], "weights": [{"version": "v1", "weight": 100}]},
    ]});
    let (status, body) = wizard_in(&h, ALICE, "bookinfo", "productpage", "", &routing).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let route = h
        .cluster
        .get(
            "gateway.networking.k8s.io",
            "v1",
            "httproutes",
            "bookinfo",
            "productpage",
        )
        .expect("the HTTPRoute");
    let matches = &route["spec"]["rules"][0]["matches"];
    assert_eq!(matches[0]["headers"][0]["value"], "jason");
    assert_eq!(matches[0]["headers"][1]["name"], "cookie");
    assert_eq!(
        matches[1]["path"],
        json!({"type": "PathPrefix", "value": "/api/v1"})
    );
    assert_eq!(matches[1]["method"], "POST");
    assert_eq!(matches[2]["path"]["type"], "RegularExpression");
    // Removal deletes it.
    let (status, body) = request(
        &h.state,
        Method::DELETE,
        "/api/services/payments/ledger/wizards",
        BOB,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        h.cluster
            .get(
                "gateway.networking.k8s.io",
                "v1",
                "grpcroutes",
                "payments",
                "ledger"
            )
            .is_none()
    );
}
