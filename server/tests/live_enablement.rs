//! The Kubernetes layer against a real API server: writes made as the
//! caller (Kubernetes' RBAC decides, and its 403 comes back as worded),
//! server-side apply (fields of other managers kept, conflicts named,
//! `force` as an explicit step), workload restarts, the auto-injection
//! controller and the controllers' Lease.
//!
//! Ignored by default. Run with a cluster in `$KUBECONFIG` whose account
//! may create and delete namespaces, ServiceAccounts, Roles, RoleBindings,
//! Deployments, ConfigMaps and Leases, may request ServiceAccount tokens
//! (`serviceaccounts/token`), and may create TokenReviews and
//! SubjectAccessReviews (a cluster admin's, e.g. `kind`'s default): it
//! plays meshdeck's own account and sets up the callers, which are
//! ServiceAccounts the tests create with the rights they need:
//!
//! ```sh
//! cargo test -p meshdeck --test live_enablement -- --ignored --test-threads=1
//! ```
//!
//! Every test works in namespaces it creates (`meshdeck-test-*`) and deletes
//! them at the end; nothing else in the cluster is touched.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use app::types::{ErrorCode, WorkloadKind};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use meshdeck_server::cluster::apply::{self, ApplyOptions, ObjectRef};
use meshdeck_server::cluster::lease::{self, LeaseTiming};
use meshdeck_server::cluster::{Acting, BearerToken, Cluster, Credentials, Source};
use meshdeck_server::enablement::injection;
use meshdeck_server::enablement::mesh::{MeshState, STATE_CONFIGMAP, STATE_KEY};
use meshdeck_server::enablement::{INJECT_ANNOTATION, RESTARTED_AT};
use serde_json::json;

async fn connect() -> Cluster {
    Cluster::connect(Source::Default(None), Duration::from_secs(10))
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

/// A ServiceAccount `name` in `ns` bound to a Role with `rules`, and a
/// token for it from the TokenRequest API: a caller with exactly those
/// rights.
async fn caller(
    client: &kube::Client,
    ns: &str,
    name: &str,
    rules: serde_json::Value,
) -> (String, Credentials) {
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
    (
        format!("system:serviceaccount:{ns}:{name}"),
        Credentials::Bearer(BearerToken::new(token)),
    )
}

#[tokio::test]
#[ignore = "needs cluster"]
async fn namespace_labels_are_written_as_the_caller() {
    let cluster = connect().await;
    let own = cluster.own().clone();
    let name = unique("ns");
    create_namespace(&own, &name, json!({"team": "tests"})).await;
    let original = namespace_maps(&own, &name).await;
    // A viewer may read but not patch its namespace; an editor may patch it.
    let read =
        json!([{"apiGroups": [""], "resources": ["pods", "namespaces"], "verbs": ["get", "list"]}]);
    let (viewer_name, viewer) = caller(&own, &name, "viewer", read).await;
    let (_, editor) = caller(
        &own,
        &name,
        "editor",
        json!([{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["patch"], "resourceNames": [name]}]),
    )
    .await;

    // The viewer's switch reaches Kubernetes, which refuses it: its own
    // words come back, and nothing changed.
    let refused = injection::set_namespace_injection(
        &own,
        &cluster.as_caller(&viewer).unwrap(),
        &name,
        true,
        false,
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Forbidden);
    let expected = format!(
        "namespaces \"{name}\" is forbidden: User \"{viewer_name}\" cannot patch resource \"namespaces\" in API group \"\" in the namespace \"{name}\""
    );
    assert!(refused.to_string().starts_with(&expected), "{refused}");
    assert_eq!(namespace_maps(&own, &name).await, original);

    // The editor's dry run and switch work; enabling twice is one change.
    let editor_client = cluster.as_caller(&editor).unwrap();
    let preview = injection::set_namespace_injection(&own, &editor_client, &name, true, true)
        .await
        .unwrap();
    assert!(preview.changed && preview.dry_run);
    assert_eq!(namespace_maps(&own, &name).await, original);
    let on = injection::set_namespace_injection(&own, &editor_client, &name, true, false)
        .await
        .unwrap();
    assert!(on.changed);
    let labels = namespace_maps(&own, &name).await.0;
    assert!(labels.contains_key("istio-injection") || labels.contains_key("istio.io/rev"));
    assert!(
        !injection::set_namespace_injection(&own, &editor_client, &name, true, false)
            .await
            .unwrap()
            .changed
    );
    injection::set_namespace_injection(&own, &editor_client, &name, false, false)
        .await
        .unwrap();
    assert_eq!(namespace_maps(&own, &name).await, original);
    delete_namespace(&own, &name).await;
}

#[tokio::test]
#[ignore = "needs cluster"]
async fn workload_restarts_are_made_as_the_caller_and_always_restart() {
    let cluster = connect().await;
    let own = cluster.own().clone();
    let name = unique("wl");
    create_namespace(&own, &name, json!({"istio-injection": "enabled"})).await;
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
    let api = Api::<Deployment>::namespaced(own.clone(), &name);
    api.create(&PostParams::default(), &deployment)
        .await
        .unwrap();
    let (_, restarter) = caller(
        &own,
        &name,
        "restarter",
        json!([{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["patch"]}]),
    )
    .await;
    let caller_client = cluster.as_caller(&restarter).unwrap();
    let switch = |enabled: bool| {
        let (own, caller_client, name) = (own.clone(), caller_client.clone(), name.clone());
        async move {
            injection::set_workload_injection(
                &own,
                &caller_client,
                &name,
                WorkloadKind::Deployment,
                "web",
                enabled,
                false,
            )
            .await
            .unwrap()
        }
    };
    let annotations = |d: Deployment| {
        d.spec
            .unwrap()
            .template
            .metadata
            .unwrap()
            .annotations
            .unwrap_or_default()
    };
    let generation = |d: &Deployment| d.metadata.generation.unwrap_or_default();
    let before = generation(&api.get("web").await.unwrap());
    let off = switch(false).await;
    assert!(off.changed);
    let after_off = api.get("web").await.unwrap();
    assert_eq!(generation(&after_off), before + 1);
    let now = annotations(after_off);
    assert_eq!(
        now.get(INJECT_ANNOTATION).map(String::as_str),
        Some("false")
    );
    assert!(now.contains_key(RESTARTED_AT));
    assert_eq!(now.get("example.com/keep").map(String::as_str), Some("yes"));

    // Two enables within one second both restart (the generation goes up
    // each time); with whole-second stamps the second changed nothing.
    let on = switch(true).await;
    assert!(on.changed);
    let first = generation(&api.get("web").await.unwrap());
    assert_eq!(first, before + 2);
    let now = annotations(api.get("web").await.unwrap());
    assert!(!now.contains_key(INJECT_ANNOTATION));
    assert_eq!(now.get("example.com/keep").map(String::as_str), Some("yes"));
    delete_namespace(&own, &name).await;
}

#[tokio::test]
#[ignore = "needs cluster"]
async fn server_side_apply_keeps_foreign_fields_and_names_conflicts() {
    let cluster = connect().await;
    let own = cluster.own().clone();
    let name = unique("ssa");
    create_namespace(&own, &name, json!({})).await;
    let ar = kube::api::ApiResource::erase::<ConfigMap>(&());
    let r = ObjectRef::new(&ar, Some(&name), "settings");
    let mine = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": name, "labels": {"app.kubernetes.io/managed-by": "meshdeck"}},
        "data": {"mode": "strict", "level": "1"},
    });
    apply::apply(&own, &r, &mine, Acting::Meshdeck, ApplyOptions::default())
        .await
        .unwrap();
    // Another tool adds a key of its own (apply) and someone edits
    // meshdeck's key by hand (an update).
    let api = Api::<ConfigMap>::namespaced(own.clone(), &name);
    let theirs = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"extra": "theirs"}});
    api.patch(
        "settings",
        &PatchParams::apply("other-tool"),
        &Patch::Apply(&theirs),
    )
    .await
    .unwrap();
    api.patch(
        "settings",
        &PatchParams {
            field_manager: Some("hand-edit".into()),
            ..PatchParams::default()
        },
        &Patch::Merge(json!({"data": {"level": "2"}})),
    )
    .await
    .unwrap();

    // meshdeck's apply now conflicts on the edited key, named with its manager.
    let conflict = apply::apply(&own, &r, &mine, Acting::Meshdeck, ApplyOptions::default())
        .await
        .unwrap_err();
    assert_eq!(conflict.code(), ErrorCode::Conflict);
    let text = conflict.to_string();
    assert!(text.contains("conflict with \"hand-edit\""), "{text}");
    assert!(text.contains(".data.level"), "{text}");
    assert_eq!(
        api.get("settings").await.unwrap().data.unwrap()["level"],
        "2"
    );

    // Taking it over is an explicit step; the other tool's key stays.
    apply::apply(
        &own,
        &r,
        &mine,
        Acting::Meshdeck,
        ApplyOptions {
            force: true,
            ..ApplyOptions::default()
        },
    )
    .await
    .unwrap();
    let data = api.get("settings").await.unwrap().data.unwrap();
    assert_eq!(data["level"], "1");
    assert_eq!(data["extra"], "theirs");
    assert_eq!(data["mode"], "strict");
    delete_namespace(&own, &name).await;
}

#[tokio::test]
#[ignore = "needs cluster"]
async fn the_controller_labels_a_namespace_created_after_enable() {
    let cluster = connect().await;
    let own = cluster.own().clone();
    // A settings namespace of the test's own, recording an enabled mesh.
    let settings_ns = unique("settings");
    create_namespace(&own, &settings_ns, json!({})).await;
    let state = MeshState {
        enabled: true,
        enabled_at: Some(k8s_openapi::jiff::Timestamp::now().to_string()),
        created: Vec::new(),
    };
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": STATE_CONFIGMAP, "labels": {"app.kubernetes.io/managed-by": "meshdeck"}},
        "data": {STATE_KEY: serde_json::to_string(&state).unwrap()},
    }))
    .unwrap();
    Api::<ConfigMap>::namespaced(own.clone(), &settings_ns)
        .create(&PostParams::default(), &cm)
        .await
        .unwrap();
    let controllers = meshdeck_server::run::spawn_controllers(
        meshdeck_server::run::controllers_state(cluster.clone()),
        settings_ns.clone(),
        LeaseTiming {
            duration_s: 5,
            grace_s: 2,
        },
    );
    tokio::time::sleep(Duration::from_secs(3)).await;

    let fresh = unique("new");
    let pinned = unique("rev");
    let created = Instant::now();
    create_namespace(&own, &fresh, json!({})).await;
    create_namespace(&own, &pinned, json!({"istio.io/rev": "canary"})).await;
    let mut labelled = None;
    for _ in 0..300 {
        let (labels, annotations) = namespace_maps(&own, &fresh).await;
        if labels.get("istio-injection").map(String::as_str) == Some("enabled") {
            // Marked, so that disabling the mesh takes exactly this back.
            assert_eq!(
                annotations
                    .get("meshdeck.io/auto-injected")
                    .map(String::as_str),
                Some("istio-injection=enabled")
            );
            labelled = Some(created.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    controllers.abort();
    let pinned_labels = namespace_maps(&own, &pinned).await.0;
    for ns in [&fresh, &pinned, &settings_ns] {
        delete_namespace(&own, ns).await;
    }
    let took = labelled.unwrap_or_else(|| panic!("{fresh} was not labelled within 30 s"));
    eprintln!("labelled {took:?} after creation");
    assert!(!pinned_labels.contains_key("istio-injection"));
}

#[tokio::test]
#[ignore = "needs cluster"]
async fn one_replica_at_a_time_holds_the_controllers_lease() {
    let cluster = connect().await;
    let own = cluster.own().clone();
    let ns = unique("lease");
    create_namespace(&own, &ns, json!({})).await;
    let timing = LeaseTiming {
        duration_s: 3,
        grace_s: 1,
    };
    // Two replicas; each counts the tasks it runs at this moment.
    let running = [Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0))];
    let replica = |i: usize| {
        let counter = running[i].clone();
        let (client, ns) = (own.clone(), ns.clone());
        tokio::spawn(async move {
            lease::run_as_leader(
                client,
                ns,
                "meshdeck-test-lease",
                format!("replica-{i}"),
                timing,
                move || {
                    let counter = counter.clone();
                    async move {
                        counter.fetch_add(1, Ordering::SeqCst);
                        let _guard = Decrement(counter);
                        std::future::pending::<()>().await;
                    }
                },
            )
            .await;
        })
    };
    let first = replica(0);
    let second = replica(1);
    let leaders = || {
        running
            .iter()
            .map(|c| c.load(Ordering::SeqCst))
            .collect::<Vec<_>>()
    };
    let mut settled = false;
    for _ in 0..100 {
        let now = leaders();
        if now.iter().sum::<usize>() == 1 {
            settled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(settled, "one leader expected, got {:?}", leaders());
    // For a while, never two.
    for _ in 0..30 {
        assert!(leaders().iter().sum::<usize>() <= 1, "{:?}", leaders());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The leader goes away; the other takes over once its lease expired.
    let (leader, other) = if leaders()[0] == 1 {
        (first, 1)
    } else {
        (second, 0)
    };
    leader.abort();
    let mut took_over = false;
    for _ in 0..150 {
        if running[other].load(Ordering::SeqCst) == 1 {
            took_over = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    delete_namespace(&own, &ns).await;
    assert!(
        took_over,
        "the second replica did not take over: {:?}",
        leaders()
    );
}

/// Decrements a counter when dropped (a task that was stopped).
struct Decrement(Arc<AtomicUsize>);

impl Drop for Decrement {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
