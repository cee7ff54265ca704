//! The documented RBAC (`deploy/rbac/*.yaml`) is exactly what meshdeck's own
//! account needs: the in-memory API authorises every request of meshdeck's
//! service account against those objects alone, and records it. Driving
//! every feature (reads, settings, enable and disable with each control
//! plane kind and with pruning, the Prometheus Operator's monitors and the
//! Grafana dashboards, auto-injection with its Lease, auth-proxy writes), the test checks that no request of meshdeck's account was
//! refused (nothing is missing from the documents) and that every
//! documented rule was used by some request (nothing is superfluous).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use app::types::{AuthMode, MeshSettings, RunMode};
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Method, Request, StatusCode, header};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::Api;
use meshdeck_server::AppState;
use meshdeck_server::auth::proxy::ProxyOptions;
use meshdeck_server::auth::{AuthOptions, Authenticator};
use meshdeck_server::cluster::lease::LeaseTiming;
use meshdeck_server::demo::{
    DOCUMENTED_RBAC, demo_identities, in_memory, install_documented_rbac, yaml_objects,
};
use meshdeck_server::spa::Spa;
use meshdeck_server::upstream::Upstreams;
use meshdeck_sim::kube::seed::{MESHDECK_SA_TOKEN, MESHDECK_SA_USER};
use meshdeck_sim::kube::{AuditEntry, InMemoryCluster};
use meshdeck_sim::scenario;
use serde_json::{Value, json};

mod common;

const ADMIN: &str = "demo-token-admin";
const ALICE: &str = "demo-token-alice";

fn state(cluster: &InMemoryCluster, authenticator: Authenticator) -> AppState {
    let mode = match authenticator {
        Authenticator::Token => AuthMode::Demo,
        Authenticator::Proxy(_) => AuthMode::Proxy,
    };
    let upstreams = Upstreams {
        kube: Some(in_memory(cluster, MESHDECK_SA_TOKEN)),
        ..Upstreams::default()
    };
    let options = AuthOptions {
        demo_identities: demo_identities(&scenario::demo()),
        authenticator,
        ..AuthOptions::default()
    };
    let spa = Spa::load(std::path::Path::new("/nonexistent"));
    AppState::with_auth(RunMode::Demo, mode, upstreams, spa, options)
}

/// `method uri` as `token`: the JSON answer, which must be a 200.
async fn call(
    state: &AppState,
    method: Method,
    uri: &str,
    token: &str,
    body: Option<Value>,
) -> Value {
    let (status, value) = common::request(state, method.clone(), uri, token, body).await;
    assert_eq!(status, StatusCode::OK, "{method} {uri}: {value}");
    value
}

/// Saves the settings with the gateway on or off, and a Grafana URL or none.
async fn save(state: &AppState, gateway: bool, grafana: bool) {
    let current = call(state, Method::GET, "/api/settings", ADMIN, None).await;
    let mut settings: MeshSettings = serde_json::from_value(current["settings"].clone()).unwrap();
    settings.ingress_gateway.component.enabled = gateway;
    settings.tool_urls.grafana = if grafana {
        "https://grafana.example.com/".into()
    } else {
        String::new()
    };
    let update = json!({"settings": settings, "resource_version": current["resource_version"]});
    call(state, Method::PUT, "/api/settings", ADMIN, Some(update)).await;
}

/// Everything the console does, on a fresh demo cluster with `crd`
/// installed (or none), with `monitoring` the Prometheus Operator's CRDs
/// and a Grafana URL, recording meshdeck's requests.
async fn exercise(crd: Option<(&str, &str)>, monitoring: bool) -> Vec<AuditEntry> {
    let cluster = InMemoryCluster::from_mesh(&scenario::demo());
    install_documented_rbac(&cluster, &["console", "enablement", "rollouts"]).unwrap();
    let admin = cluster.client();
    if monitoring {
        for plural in ["servicemonitors", "podmonitors"] {
            assert!(cluster.install_crd("monitoring.coreos.com", plural));
        }
    }
    if let Some((group, plural)) = crd {
        assert!(cluster.install_crd(group, plural));
        // An operator but no control plane yet: meshdeck writes one.
        Api::<Deployment>::namespaced(admin.clone(), "istio-system")
            .delete("istiod", &Default::default())
            .await
            .unwrap();
    }
    let state = state(&cluster, Authenticator::Token);
    for token in [ADMIN, ALICE] {
        call(&state, Method::GET, "/api/me", token, None).await;
        call(&state, Method::GET, "/api/namespaces", token, None).await;
    }
    call(&state, Method::GET, "/api/mesh", ADMIN, None).await;
    call(&state, Method::GET, "/api/istio/config", ALICE, None).await;
    save(&state, true, monitoring).await;
    call(
        &state,
        Method::POST,
        "/api/settings/preflight",
        ADMIN,
        Some(serde_json::to_value(MeshSettings::default()).unwrap()),
    )
    .await;
    call(
        &state,
        Method::POST,
        "/api/mesh/enable?dryRun=true",
        ADMIN,
        None,
    )
    .await;
    call(&state, Method::POST, "/api/mesh/enable", ADMIN, None).await;
    // Auto-injection: the controller (on the lease holder) labels a new
    // namespace.
    let controllers = meshdeck_server::run::spawn_controllers(
        state.clone(),
        "meshdeck".into(),
        LeaseTiming {
            duration_s: 3,
            grace_s: 1,
        },
    );
    let namespaces = Api::<Namespace>::all(admin.clone());
    let fresh: Namespace = serde_json::from_value(json!({"metadata": {"name": "fresh"}})).unwrap();
    namespaces
        .create(&Default::default(), &fresh)
        .await
        .unwrap();
    let mut labelled = false;
    for _ in 0..200 {
        let ns = namespaces.get("fresh").await.unwrap();
        if ns
            .metadata
            .labels
            .unwrap_or_default()
            .contains_key("istio-injection")
        {
            labelled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    controllers.abort();
    assert!(labelled, "the controller did not label the new namespace");
    // Rollouts: the record created and read, listed, replaced by a skip;
    // the controller's step written with meshdeck's account.
    let start = json!({"namespace": "bookinfo", "service": "reviews",
        "spec": app::types::RolloutSpec::with_defaults("v1", "v2")});
    let (status, body) =
        common::request(&state, Method::POST, "/api/rollouts", ALICE, Some(start)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    call(&state, Method::GET, "/api/rollouts", ALICE, None).await;
    call(
        &state,
        Method::GET,
        "/api/rollouts/bookinfo/reviews",
        ALICE,
        None,
    )
    .await;
    call(
        &state,
        Method::POST,
        "/api/rollouts/bookinfo/reviews/skip",
        ALICE,
        Some(json!({})),
    )
    .await;
    let judged =
        meshdeck_server::rollouts::controller::tick(&state, meshdeck_sim::live::now_s() + 1.0)
            .await
            .unwrap();
    assert_eq!(judged, 1);
    // Pruning: the gateway (and the Grafana dashboards) no longer wanted.
    save(&state, false, false).await;
    call(&state, Method::POST, "/api/mesh/enable", ADMIN, None).await;
    save(&state, true, monitoring).await;
    call(&state, Method::POST, "/api/mesh/enable", ADMIN, None).await;
    call(
        &state,
        Method::POST,
        "/api/mesh/disable?dryRun=true",
        ADMIN,
        None,
    )
    .await;
    call(&state, Method::POST, "/api/mesh/disable", ADMIN, None).await;
    // Writes as the caller need nothing of meshdeck's account but reads,
    // of every kind of workload.
    let agent: k8s_openapi::api::apps::v1::DaemonSet = serde_json::from_value(json!({
        "metadata": {"name": "node-agent", "namespace": "bookinfo"},
        "spec": {"selector": {"matchLabels": {"app": "node-agent"}},
            "template": {"metadata": {"labels": {"app": "node-agent"}},
                "spec": {"containers": [{"name": "agent", "image": "agent:1"}]}}},
    }))
    .unwrap();
    Api::namespaced(admin.clone(), "bookinfo")
        .create(&Default::default(), &agent)
        .await
        .unwrap();
    call(
        &state,
        Method::POST,
        "/api/namespaces/bookinfo/injection?dryRun=true",
        ALICE,
        Some(json!({"enabled": false})),
    )
    .await;
    for workload in [
        "deployments/details-v1",
        "statefulsets/mongodb-v1",
        "daemonsets/node-agent",
    ] {
        call(
            &state,
            Method::POST,
            &format!("/api/namespaces/bookinfo/workloads/{workload}/injection?dryRun=true"),
            ALICE,
            Some(json!({"enabled": false})),
        )
        .await;
    }
    cluster.audit()
}

/// A switch behind an auth proxy: meshdeck impersonates the user.
async fn exercise_proxy() -> Vec<AuditEntry> {
    let cluster = InMemoryCluster::from_mesh(&scenario::demo());
    install_documented_rbac(&cluster, &["console", "impersonate"]).unwrap();
    let state = state(
        &cluster,
        Authenticator::Proxy(ProxyOptions {
            user_header: http::HeaderName::from_static("x-forwarded-user"),
            groups_header: http::HeaderName::from_static("x-forwarded-groups"),
            trusted: vec!["127.0.0.1/32".parse().unwrap()],
        }),
    );
    let mut request = Request::post("/api/namespaces/bookinfo/injection")
        .header("x-forwarded-user", "alice")
        .header("x-forwarded-groups", "developers")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"enabled": false}).to_string()))
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo("127.0.0.1:5000".parse::<SocketAddr>().unwrap()));
    let (status, body) = common::send(&state, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    cluster.audit()
}

/// One documented rule and where its binding applies (`None`: everywhere).
#[derive(Debug)]
struct Rule {
    file: &'static str,
    role: String,
    scope: Option<String>,
    groups: Vec<String>,
    resources: Vec<String>,
    verbs: Vec<String>,
    names: Vec<String>,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Every rule of the documented Roles and ClusterRoles, with the scope of
/// the binding that grants it to meshdeck's service account.
fn documented_rules() -> Vec<Rule> {
    let mut out = Vec::new();
    for (file, text) in DOCUMENTED_RBAC {
        let objects = yaml_objects(text).unwrap();
        for binding in objects.iter().filter(|o| {
            matches!(
                o["kind"].as_str(),
                Some("RoleBinding" | "ClusterRoleBinding")
            )
        }) {
            let subjects = binding["subjects"].as_array().cloned().unwrap_or_default();
            assert!(
                subjects.iter().all(|s| s["kind"] == "ServiceAccount"
                    && s["name"] == "meshdeck"
                    && s["namespace"] == "meshdeck"),
                "{file}: every binding is to meshdeck's service account"
            );
            let scope = binding["metadata"]["namespace"].as_str().map(str::to_owned);
            let (kind, name) = (&binding["roleRef"]["kind"], &binding["roleRef"]["name"]);
            let role = objects
                .iter()
                .find(|o| {
                    &o["kind"] == kind
                        && &o["metadata"]["name"] == name
                        && (kind == "ClusterRole"
                            || o["metadata"]["namespace"].as_str() == scope.as_deref())
                })
                .unwrap_or_else(|| panic!("{file}: the role {name} of a binding"));
            for rule in role["rules"].as_array().unwrap() {
                out.push(Rule {
                    file,
                    role: format!("{} {}", kind.as_str().unwrap(), name.as_str().unwrap()),
                    scope: scope.clone(),
                    groups: strings(&rule["apiGroups"]),
                    resources: strings(&rule["resources"]),
                    verbs: strings(&rule["verbs"]),
                    names: strings(&rule["resourceNames"]),
                });
            }
        }
    }
    out
}

/// Whether meshdeck's request `e` (allowed) is one `rule` grants with
/// `verb` on `resource`.
fn uses(rule: &Rule, verb: &str, resource: &str, e: &AuditEntry) -> bool {
    let in_scope = rule.scope.as_deref().is_none_or(|ns| ns == e.namespace);
    let named = rule.names.is_empty() || rule.names.contains(&e.name);
    let full = if e.subresource.is_empty() {
        e.resource.clone()
    } else {
        format!("{}/{}", e.resource, e.subresource)
    };
    // A server-side apply that creates the object is authorised as `create`
    // too; the audit records it as the patch it was, answered 201.
    let verb_ok = e.verb == verb || (verb == "create" && e.verb == "patch" && e.code == 201);
    verb_ok && full == resource && rule.groups.contains(&e.group) && in_scope && named
}

#[tokio::test]
async fn the_documented_rbac_is_what_meshdeck_uses_no_more_no_less() {
    let mut audit = exercise(None, false).await;
    audit.extend(exercise(Some(("sailoperator.io", "istios")), true).await);
    audit.extend(exercise(Some(("install.istio.io", "istiooperators")), false).await);
    let proxy = exercise_proxy().await;

    // Nothing missing: meshdeck's account was never refused.
    let own: Vec<&AuditEntry> = audit
        .iter()
        .chain(&proxy)
        .filter(|e| e.user == MESHDECK_SA_USER)
        .collect();
    assert!(own.len() > 50, "{} requests", own.len());
    let refused: BTreeSet<String> = own
        .iter()
        .filter(|e| e.code == 403)
        .map(|e| {
            format!(
                "{} {}/{} {} in {:?}",
                e.verb, e.group, e.resource, e.name, e.namespace
            )
        })
        .collect();
    assert!(
        refused.is_empty(),
        "refused to meshdeck's account: {refused:#?}"
    );
    let impersonated: Vec<&AuditEntry> = proxy
        .iter()
        .filter(|e| e.impersonated_by.as_deref() == Some(MESHDECK_SA_USER))
        .collect();
    assert!(
        impersonated
            .iter()
            .any(|e| e.user == "alice" && e.verb == "patch" && e.code == 200),
        "{impersonated:?}"
    );

    // Nothing superfluous: each verb on each resource of each rule served
    // some request of meshdeck's (the impersonation rule: the requests it
    // made as someone else).
    // Authorised requests: whatever the answer, unless it was 401 or 403
    // (a 404 for an object not there yet passed authorisation).
    let allowed: Vec<&AuditEntry> = own
        .iter()
        .copied()
        .filter(|e| e.code != 401 && e.code != 403)
        .collect();
    let mut unused = Vec::new();
    for rule in documented_rules() {
        for verb in &rule.verbs {
            for resource in &rule.resources {
                let used = if verb == "impersonate" {
                    match resource.as_str() {
                        "users" => impersonated.iter().any(|e| e.user == "alice"),
                        "groups" => impersonated
                            .iter()
                            .any(|e| e.groups.iter().any(|g| g == "developers")),
                        _ => false,
                    }
                } else {
                    allowed.iter().any(|e| uses(&rule, verb, resource, e))
                };
                if !used {
                    unused.push(format!(
                        "{}: {} {verb} {resource} (groups {:?}, names {:?}, scope {:?})",
                        rule.file, rule.role, rule.groups, rule.names, rule.scope
                    ));
                }
            }
        }
    }
    assert!(
        unused.is_empty(),
        "documented but never needed: {unused:#?}"
    );
}
