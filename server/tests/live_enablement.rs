//! Enablement against a real API server: namespace labelling, workload
//! restart and the namespace watch. Ignored by default; run with a cluster
//! in `$KUBECONFIG` whose account may create, patch and delete namespaces,
//! Deployments and ConfigMaps:
//!
//! ```sh
//! cargo test -p meshdeck --test live_enablement -- --ignored --test-threads=1
//! ```
//!
//! Every test works in namespaces it creates (`meshdeck-test-*`) and deletes
//! them at the end; nothing else in the cluster is touched.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use app::types::WorkloadKind;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, PostParams};
use meshdeck_server::enablement::injection;
use meshdeck_server::enablement::mesh::{MeshState, STATE_CONFIGMAP, STATE_KEY};
use meshdeck_server::enablement::{INJECT_ANNOTATION, RESTARTED_AT, autoinject};
use meshdeck_server::upstream::kubernetes::{self, Source};
use serde_json::json;

async fn client() -> kube::Client {
    kubernetes::client(Source::Default(None), Duration::from_secs(10))
        .await
        .expect("a usable kubeconfig")
        .expect("KUBECONFIG or ~/.kube/config pointing at a cluster")
}

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("meshdeck-test-{prefix}-{nanos}")
}

async fn create_namespace(client: &kube::Client, name: &str, labels: serde_json::Value) {
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name, "labels": labels,
        "annotations": {"example.com/owner": "meshdeck-tests"}}}))
    .unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
}

async fn delete_namespace(client: &kube::Client, name: &str) {
    let _ = Api::<Namespace>::all(client.clone())
        .delete(name, &DeleteParams::default())
        .await;
}

async fn namespace_maps(
    client: &kube::Client,
    name: &str,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let ns = Api::<Namespace>::all(client.clone())
        .get(name)
        .await
        .unwrap();
    (
        ns.metadata.labels.unwrap_or_default(),
        ns.metadata.annotations.unwrap_or_default(),
    )
}

#[tokio::test]
#[ignore = "needs cluster"]
async fn namespace_labelling_round_trip_keeps_foreign_metadata() {
    let client = client().await;
    let name = unique("ns");
    create_namespace(&client, &name, json!({"team": "tests"})).await;
    let original = namespace_maps(&client, &name).await;

    let preview = injection::set_namespace_injection(&client, &name, true, true)
        .await
        .unwrap();
    assert!(preview.changed && preview.dry_run);
    assert_eq!(namespace_maps(&client, &name).await, original);

    let on = injection::set_namespace_injection(&client, &name, true, false)
        .await
        .unwrap();
    assert!(on.changed);
    let labels = namespace_maps(&client, &name).await.0;
    assert!(labels.contains_key("istio-injection") || labels.contains_key("istio.io/rev"));
    assert!(
        !injection::set_namespace_injection(&client, &name, true, false)
            .await
            .unwrap()
            .changed
    );

    injection::set_namespace_injection(&client, &name, false, false)
        .await
        .unwrap();
    assert_eq!(namespace_maps(&client, &name).await, original);
    delete_namespace(&client, &name).await;
}

#[tokio::test]
#[ignore = "needs cluster"]
async fn workload_restart_sets_and_clears_the_opt_out() {
    let client = client().await;
    let name = unique("wl");
    create_namespace(&client, &name, json!({"istio-injection": "enabled"})).await;
    // No replicas: the test needs no image pulls, only the patches.
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web", "labels": {"app": "web", "team": "tests"}},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}, "annotations": {"example.com/keep": "yes"}},
                "spec": {"containers": [{"name": "web", "image": "registry.k8s.io/pause:3.10"}]},
            },
        },
    }))
    .unwrap();
    let api = Api::<Deployment>::namespaced(client.clone(), &name);
    api.create(&PostParams::default(), &deployment)
        .await
        .unwrap();

    let off = injection::set_workload_injection(
        &client,
        &name,
        WorkloadKind::Deployment,
        "web",
        false,
        false,
    )
    .await
    .unwrap();
    assert!(off.changed);
    let annotations = |d: Deployment| {
        d.spec
            .unwrap()
            .template
            .metadata
            .unwrap()
            .annotations
            .unwrap_or_default()
    };
    let now = annotations(api.get("web").await.unwrap());
    assert_eq!(
        now.get(INJECT_ANNOTATION).map(String::as_str),
        Some("false")
    );
    assert!(now.contains_key(RESTARTED_AT));
    assert_eq!(now.get("example.com/keep").map(String::as_str), Some("yes"));

    let on = injection::set_workload_injection(
        &client,
        &name,
        WorkloadKind::Deployment,
        "web",
        true,
        false,
    )
    .await
    .unwrap();
    assert!(on.changed);
    let now = annotations(api.get("web").await.unwrap());
    assert!(!now.contains_key(INJECT_ANNOTATION));
    assert_eq!(now.get("example.com/keep").map(String::as_str), Some("yes"));
    delete_namespace(&client, &name).await;
}

#[tokio::test]
#[ignore = "needs cluster"]
async fn the_watch_labels_a_namespace_created_after_enable() {
    let client = client().await;
    // A settings namespace of the test's own, recording an enabled mesh.
    let settings_ns = unique("settings");
    create_namespace(&client, &settings_ns, json!({})).await;
    let state = MeshState {
        enabled: true,
        enabled_at: Some(k8s_openapi::jiff::Timestamp::now().to_string()),
        created: Vec::new(),
    };
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": STATE_CONFIGMAP},
        "data": {STATE_KEY: serde_json::to_string(&state).unwrap()},
    }))
    .unwrap();
    Api::<ConfigMap>::namespaced(client.clone(), &settings_ns)
        .create(&PostParams::default(), &cm)
        .await
        .unwrap();
    let watch = autoinject::spawn(client.clone(), settings_ns.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;

    let fresh = unique("new");
    let pinned = unique("rev");
    create_namespace(&client, &fresh, json!({})).await;
    create_namespace(&client, &pinned, json!({"istio.io/rev": "canary"})).await;
    let mut labelled = false;
    for _ in 0..60 {
        let (labels, annotations) = namespace_maps(&client, &fresh).await;
        if labels.get("istio-injection").map(String::as_str) == Some("enabled") {
            // Marked, so that disabling the mesh takes exactly this back.
            labelled = annotations.contains_key("meshdeck.io/auto-injected");
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    watch.abort();
    let pinned_labels = namespace_maps(&client, &pinned).await.0;
    for ns in [&fresh, &pinned, &settings_ns] {
        delete_namespace(&client, ns).await;
    }
    assert!(labelled, "{fresh} was not labelled and marked within 30 s");
    assert!(!pinned_labels.contains_key("istio-injection"));
}
