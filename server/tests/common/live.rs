//! Helpers of the tests that need a cluster (`#[ignore = "needs cluster"]`):
//! the kubeconfig's cluster, callers made of ServiceAccounts with a Role,
//! and the test namespace deleted at the end.

use std::collections::BTreeSet;
use std::time::Duration;

use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::core::v1::{Namespace, Pod, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{Api, DeleteParams, PostParams};
use meshdeck_server::access::{AccessScope, Reach};
use meshdeck_server::cluster::reviews::Identity;
use meshdeck_server::cluster::{BearerToken, Cluster, Credentials, Source};
use serde_json::json;

/// The cluster of `$KUBECONFIG` (or `~/.kube/config`).
pub async fn connect() -> Cluster {
    Cluster::connect(Source::Default(None), Duration::from_secs(10))
        .await
        .expect("a usable kubeconfig")
        .expect("KUBECONFIG or ~/.kube/config pointing at a cluster")
}

/// A ServiceAccount of `ns` with `rules` there, as a caller of meshdeck.
pub async fn caller(
    client: &kube::Client,
    ns: &str,
    name: &str,
    rules: serde_json::Value,
) -> AccessScope {
    let sa: ServiceAccount = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    let sas = Api::<ServiceAccount>::namespaced(client.clone(), ns);
    sas.create(&PostParams::default(), &sa).await.unwrap();
    let role: Role =
        serde_json::from_value(json!({"metadata": {"name": name}, "rules": rules})).unwrap();
    Api::<Role>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &role)
        .await
        .unwrap();
    let binding: RoleBinding = serde_json::from_value(json!({
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}],
    }))
    .unwrap();
    Api::<RoleBinding>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();
    let request: TokenRequest =
        serde_json::from_value(json!({"spec": {"expirationSeconds": 600}})).unwrap();
    let token = sas
        .create_token_request(name, &PostParams::default(), &request)
        .await
        .unwrap()
        .status
        .expect("a token")
        .token;
    let user = format!("system:serviceaccount:{ns}:{name}");
    let mut identity = Identity::named(&user);
    identity.groups = vec![
        "system:serviceaccounts".into(),
        format!("system:serviceaccounts:{ns}"),
        "system:authenticated".into(),
    ];
    AccessScope {
        user: user.clone(),
        groups: identity.groups.clone(),
        identity,
        credentials: Credentials::Bearer(BearerToken::new(token)),
        reach: Reach::Member {
            namespaces: BTreeSet::from([ns.to_owned()]),
            graph: true,
            traces: true,
        },
        access_problem: None,
    }
}

/// Deletes the test's namespace when the test ends, passed or failed: on
/// a runtime of its own, with a client of its own (the test's client's
/// connection task lives on the test's runtime, which waits here).
pub struct Cleanup(pub String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let ns = self.0.clone();
        let _ = std::thread::spawn(move || {
            tokio::runtime::Runtime::new()
                .unwrap()
                .block_on(async move {
                    let cluster = connect().await;
                    let _ = Api::<Namespace>::all(cluster.own().clone())
                        .delete(&ns, &DeleteParams::default())
                        .await;
                })
        })
        .join();
    }
}

/// A namespace of the test's own, `meshdeck-test-<what>-<nanos>`, and the
/// guard that deletes it.
pub async fn test_namespace(admin: &kube::Client, what: &str) -> (String, Cleanup) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let ns = format!("meshdeck-test-{what}-{nanos}");
    let namespace: Namespace = serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap();
    Api::<Namespace>::all(admin.clone())
        .create(&PostParams::default(), &namespace)
        .await
        .unwrap();
    let cleanup = Cleanup(ns.clone());
    (ns, cleanup)
}

/// Bare pods `web-v1` and `web-v2` in `ns` (labels `app: web` and their
/// version; no controller, no scheduling needed: only labels are read),
/// and, with `service`, the Service `web` selecting both.
pub async fn web_versions(admin: &kube::Client, ns: &str, service: bool) {
    if service {
        let service: Service = serde_json::from_value(json!({"metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}}))
        .unwrap();
        Api::<Service>::namespaced(admin.clone(), ns)
            .create(&PostParams::default(), &service)
            .await
            .unwrap();
    }
    for v in ["v1", "v2"] {
        let pod: Pod = serde_json::from_value(json!({"metadata": {"name": format!("web-{v}"),
            "labels": {"app": "web", "version": v}},
            "spec": {"containers": [{"name": "web", "image": "registry.k8s.io/pause:3.10"}]}}))
        .unwrap();
        Api::<Pod>::namespaced(admin.clone(), ns)
            .create(&PostParams::default(), &pod)
            .await
            .unwrap();
    }
}
