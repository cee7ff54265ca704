//! The in-memory Kubernetes API server, driven through a real `kube::Client`
//! exactly as meshdeck's server drives a cluster.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Pod};
use kube::api::{
    DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::runtime::watcher;
use kube::{Api, Client, ResourceExt};
use meshdeck_sim::kube::InMemoryCluster;
use meshdeck_sim::model::{DemoRole, Mesh};
use meshdeck_sim::scenario;
use serde_json::json;

fn demo() -> (Mesh, InMemoryCluster, Client) {
    let mesh = scenario::demo();
    let cluster = InMemoryCluster::from_mesh(&mesh);
    let client = cluster.client();
    (mesh, cluster, client)
}

/// The HTTP code and reason of a `kube::Error::Api`.
fn api_code<T: std::fmt::Debug>(result: kube::Result<T>) -> (u16, String) {
    match result {
        Err(kube::Error::Api(status)) => (status.code, status.reason.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn config_map(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"owner": "test"}},
        "data": {"key": value},
    }))
    .expect("config map")
}

fn has_proxy(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .is_some_and(|s| s.containers.iter().any(|c| c.name == "istio-proxy"))
}

fn rv(obj: &impl ResourceExt) -> u64 {
    obj.resource_version()
        .and_then(|v| v.parse().ok())
        .expect("numeric resourceVersion")
}

fn labels_of(obj: &impl ResourceExt) -> std::collections::BTreeMap<String, String> {
    obj.labels().clone()
}

#[tokio::test]
async fn namespaces_nodes_and_pods_match_the_mesh() {
    let (mesh, _cluster, client) = demo();
    let namespaces = Api::<Namespace>::all(client.clone());
    let mut names: Vec<String> = namespaces
        .list(&ListParams::default())
        .await
        .expect("list namespaces")
        .items
        .iter()
        .map(|n| n.name_any())
        .collect();
    names.sort();
    let mut want: Vec<String> = mesh.namespaces.iter().map(|n| n.name.clone()).collect();
    want.extend(["meshdeck".to_owned(), "ingress-nginx".to_owned()]);
    want.sort();
    assert_eq!(names, want);

    let bookinfo = labels_of(&namespaces.get("bookinfo").await.expect("bookinfo"));
    assert_eq!(
        bookinfo
            .get("field.cattle.io/projectId")
            .map(String::as_str),
        Some("p-shop")
    );
    assert_eq!(
        bookinfo.get("istio-injection").map(String::as_str),
        Some("enabled")
    );
    let legacy = labels_of(&namespaces.get("legacy").await.expect("legacy"));
    assert!(!legacy.contains_key("istio-injection"));
    let meshdeck = labels_of(&namespaces.get("meshdeck").await.expect("meshdeck"));
    assert!(!meshdeck.contains_key("field.cattle.io/projectId"));

    let nodes = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
        .expect("nodes");
    assert_eq!(nodes.items.len(), mesh.nodes.len());
    for want in &mesh.nodes {
        let node = nodes
            .items
            .iter()
            .find(|n| n.name_any() == want.name)
            .expect("node");
        let alloc = node
            .status
            .as_ref()
            .and_then(|s| s.allocatable.clone())
            .expect("allocatable");
        assert_eq!(alloc["cpu"].0, format!("{}m", want.cpu_millis));
        assert_eq!(alloc["memory"].0, format!("{}Mi", want.memory_mib));
        let unschedulable = node
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false);
        assert_eq!(unschedulable, !want.schedulable, "{}", want.name);
    }

    // One pod per replica, with a sidecar exactly where the mesh says.
    let pods = Api::<Pod>::all(client.clone())
        .list(&ListParams::default())
        .await
        .expect("pods");
    for (id, w) in mesh.workloads.iter().enumerate() {
        let ns = &mesh.namespaces[w.namespace].name;
        let mine: Vec<&Pod> = pods
            .items
            .iter()
            .filter(|p| p.namespace().as_deref() == Some(ns.as_str()))
            .filter(|p| {
                let l = p.labels();
                l.get("app") == Some(&w.app) && l.get("version") == Some(&w.version)
            })
            .collect();
        assert_eq!(mine.len(), w.replicas as usize, "{}", w.name);
        for p in mine {
            assert_eq!(has_proxy(p), mesh.has_sidecar(id), "{}", w.name);
            let annotated = p.annotations().contains_key("sidecar.istio.io/status");
            assert_eq!(annotated, mesh.has_sidecar(id));
            assert_eq!(
                p.status.as_ref().and_then(|s| s.phase.as_deref()),
                Some("Running")
            );
            assert!(!p.owner_references().is_empty());
        }
    }

    let nginx = Api::<Deployment>::namespaced(client, "ingress-nginx")
        .get("ingress-nginx-controller")
        .await
        .expect("ingress controller");
    assert_eq!(nginx.spec.and_then(|s| s.replicas), Some(1));
}

#[tokio::test]
async fn create_get_replace_delete_round_trip() {
    let (_mesh, _cluster, client) = demo();
    let api = Api::<ConfigMap>::namespaced(client, "meshdeck");
    let created = api
        .create(&PostParams::default(), &config_map("settings", "a"))
        .await
        .expect("create");
    assert!(created.metadata.uid.is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    let got = api.get("settings").await.expect("get");
    assert_eq!(
        got.data
            .as_ref()
            .and_then(|d| d.get("key"))
            .map(String::as_str),
        Some("a")
    );

    let mut changed = got.clone();
    changed.data = Some([("key".to_owned(), "b".to_owned())].into());
    let replaced = api
        .replace("settings", &PostParams::default(), &changed)
        .await
        .expect("replace");
    assert!(rv(&replaced) > rv(&got));
    assert_eq!(replaced.metadata.uid, got.metadata.uid);
    assert_eq!(api.get("settings").await.expect("get").data, changed.data);

    // The stale version is refused.
    let (code, reason) = api_code(api.replace("settings", &PostParams::default(), &got).await);
    assert_eq!((code, reason.as_str()), (409, "Conflict"));

    let deleted = api
        .delete("settings", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(deleted.is_left());
    let (code, reason) = api_code(api.get("settings").await);
    assert_eq!((code, reason.as_str()), (404, "NotFound"));
    assert_eq!(
        api_code(api.delete("settings", &DeleteParams::default()).await).0,
        404
    );
}

#[tokio::test]
async fn create_errors_and_generate_name() {
    let (_mesh, _cluster, client) = demo();
    let api = Api::<ConfigMap>::namespaced(client.clone(), "meshdeck");
    api.create(&PostParams::default(), &config_map("one", "a"))
        .await
        .expect("create");
    let (code, reason) = api_code(
        api.create(&PostParams::default(), &config_map("one", "a"))
            .await,
    );
    assert_eq!((code, reason.as_str()), (409, "AlreadyExists"));

    let missing = Api::<ConfigMap>::namespaced(client.clone(), "no-such-namespace");
    assert_eq!(
        api_code(
            missing
                .create(&PostParams::default(), &config_map("x", "a"))
                .await
        )
        .0,
        404
    );

    let mut generated = config_map("", "a");
    generated.metadata.name = None;
    generated.metadata.generate_name = Some("gen-".into());
    let a = api
        .create(&PostParams::default(), &generated)
        .await
        .expect("generateName")
        .name_any();
    let b = api
        .create(&PostParams::default(), &generated)
        .await
        .expect("generateName")
        .name_any();
    assert!(a.starts_with("gen-") && a.len() == 9, "{a}");
    assert_ne!(a, b);

    let invalid: Namespace =
        serde_json::from_value(json!({"metadata": {"name": "Not_Valid"}})).expect("ns");
    let (code, reason) = api_code(
        Api::<Namespace>::all(client)
            .create(&PostParams::default(), &invalid)
            .await,
    );
    assert_eq!((code, reason.as_str()), (422, "Invalid"));
}

#[tokio::test]
async fn merge_strategic_and_json_patches() {
    let (_mesh, _cluster, client) = demo();
    let namespaces = Api::<Namespace>::all(client.clone());
    let before = namespaces.get("legacy").await.expect("legacy");

    // Merge patch: the new label joins the others.
    let enable = json!({"metadata": {"labels": {"istio-injection": "enabled"}}});
    let patched = namespaces
        .patch("legacy", &PatchParams::default(), &Patch::Merge(enable))
        .await
        .expect("merge patch");
    let labels = labels_of(&patched);
    assert_eq!(
        labels.get("istio-injection").map(String::as_str),
        Some("enabled")
    );
    assert_eq!(
        labels.get("field.cattle.io/projectId").map(String::as_str),
        Some("p-payments")
    );
    assert!(rv(&patched) > rv(&before));

    // JSON patch: test, then remove it again.
    let remove: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/metadata/labels/istio-injection", "value": "enabled"},
        {"op": "remove", "path": "/metadata/labels/istio-injection"}
    ]))
    .expect("json patch");
    let removed = namespaces
        .patch(
            "legacy",
            &PatchParams::default(),
            &Patch::<()>::Json(remove),
        )
        .await
        .expect("json patch");
    assert!(!labels_of(&removed).contains_key("istio-injection"));
    // `/` in a key is escaped as `~1`; a failed test fails the whole patch.
    let failing: json_patch::Patch = serde_json::from_value(json!([
        {"op": "add", "path": "/metadata/labels/extra", "value": "1"},
        {"op": "test", "path": "/metadata/labels/field.cattle.io~1projectId", "value": "p-other"}
    ]))
    .expect("json patch");
    let result = namespaces
        .patch(
            "legacy",
            &PatchParams::default(),
            &Patch::<()>::Json(failing),
        )
        .await;
    assert_eq!(api_code(result).0, 422);
    assert!(!labels_of(&namespaces.get("legacy").await.expect("legacy")).contains_key("extra"));

    // Strategic merge patch: containers merge by name, so the sidecar of an
    // injected pod survives an image change of the app container.
    let pods = Api::<Pod>::namespaced(client.clone(), "bookinfo");
    let pod = pods
        .list(&ListParams::default().labels("app=details"))
        .await
        .expect("pods")
        .items
        .remove(0);
    assert_eq!(pod.spec.as_ref().map(|s| s.containers.len()), Some(2));
    let image = json!({"spec": {"containers": [{"name": "details", "image": "details:v9"}]}});
    let patched = pods
        .patch(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Strategic(image),
        )
        .await
        .expect("strategic patch");
    let containers = patched.spec.expect("spec").containers;
    assert_eq!(containers.len(), 2);
    assert_eq!(
        containers
            .iter()
            .find(|c| c.name == "details")
            .and_then(|c| c.image.as_deref()),
        Some("details:v9")
    );
    assert!(containers.iter().any(|c| c.name == "istio-proxy"));

    // Server-side apply is served (tests/apiserver.rs covers it).
    let apply = json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "legacy", "labels": {"applied": "yes"}}});
    let applied = namespaces
        .patch("legacy", &PatchParams::apply("test"), &Patch::Apply(apply))
        .await
        .expect("apply");
    assert_eq!(
        labels_of(&applied).get("applied").map(String::as_str),
        Some("yes")
    );

    // Ill-typed well-known fields are refused, not stored (nor a panic).
    for garbage in [
        json!({"metadata": {"labels": "not-a-map"}}),
        json!({"metadata": {"annotations": {"a": 1}}}),
        json!({"spec": "nope"}),
    ] {
        let result = namespaces
            .patch("legacy", &PatchParams::default(), &Patch::Merge(garbage))
            .await;
        assert_eq!(api_code(result).0, 400);
    }
    let deployments = Api::<Deployment>::namespaced(client.clone(), "bookinfo");
    let huge = json!({"spec": {"replicas": 1_000_000_000}});
    let result = deployments
        .patch("details-v1", &PatchParams::default(), &Patch::Merge(huge))
        .await;
    assert_eq!(api_code(result).0, 400);
    let weird_template = json!({"spec": {"template": {"metadata": {"labels": ["x"]}}}});
    let result = deployments
        .patch(
            "details-v1",
            &PatchParams::default(),
            &Patch::Merge(weird_template),
        )
        .await;
    assert_eq!(api_code(result).0, 400);

    // A patch carrying a stale resourceVersion conflicts.
    let stale = json!({"metadata": {"resourceVersion": before.metadata.resource_version, "labels": {"x": "y"}}});
    let (code, reason) = api_code(
        namespaces
            .patch("legacy", &PatchParams::default(), &Patch::Merge(stale))
            .await,
    );
    assert_eq!((code, reason.as_str()), (409, "Conflict"));
    let result = namespaces
        .patch("nope", &PatchParams::default(), &Patch::Merge(json!({})))
        .await;
    assert_eq!(api_code(result).0, 404);
}

#[tokio::test]
async fn dry_run_stores_nothing() {
    let (_mesh, cluster, client) = demo();
    let start = cluster.resource_version();
    let api = Api::<ConfigMap>::namespaced(client.clone(), "meshdeck");
    let pp = PostParams {
        dry_run: true,
        ..Default::default()
    };
    let answered = api
        .create(&pp, &config_map("dry", "a"))
        .await
        .expect("dry create");
    assert_eq!(answered.name_any(), "dry");
    assert_eq!(api_code(api.get("dry").await).0, 404);

    let namespaces = Api::<Namespace>::all(client.clone());
    let enable = json!({"metadata": {"labels": {"istio-injection": "enabled"}}});
    let preview = namespaces
        .patch(
            "legacy",
            &PatchParams::default().dry_run(),
            &Patch::Merge(enable),
        )
        .await
        .expect("dry patch");
    assert!(labels_of(&preview).contains_key("istio-injection"));
    let stored = namespaces.get("legacy").await.expect("legacy");
    assert!(!labels_of(&stored).contains_key("istio-injection"));

    let dp = DeleteParams {
        dry_run: true,
        ..Default::default()
    };
    namespaces.delete("legacy", &dp).await.expect("dry delete");
    namespaces.get("legacy").await.expect("still there");
    assert_eq!(cluster.resource_version(), start, "nothing was committed");
}

#[tokio::test]
async fn label_and_field_selectors() {
    let (mesh, _cluster, client) = demo();
    let ns = mesh.namespace_id("bookinfo").expect("bookinfo");
    let replicas = |app: Option<&str>, version: Option<&str>| -> usize {
        mesh.workloads
            .iter()
            .filter(|w| w.namespace == ns)
            .filter(|w| app.is_none_or(|a| w.app == a) && version.is_none_or(|v| w.version == v))
            .map(|w| w.replicas as usize)
            .sum()
    };
    let pods = Api::<Pod>::namespaced(client.clone(), "bookinfo");
    let count = |selector: &'static str| {
        let pods = pods.clone();
        async move {
            pods.list(&ListParams::default().labels(selector))
                .await
                .expect(selector)
                .items
                .len()
        }
    };
    let all = replicas(None, None);
    let reviews = replicas(Some("reviews"), None);
    assert_eq!(count("").await, all);
    assert_eq!(count("app=reviews").await, reviews);
    assert_eq!(
        count("app=reviews,version!=v1").await,
        reviews - replicas(Some("reviews"), Some("v1"))
    );
    assert_eq!(
        count("app in (reviews,ratings)").await,
        reviews + replicas(Some("ratings"), None)
    );
    assert_eq!(count("app notin (reviews),app").await, all - reviews);
    assert_eq!(count("version").await, all);
    assert_eq!(count("!app").await, 0);
    assert_eq!(count("app=nothing").await, 0);

    let namespaces = Api::<Namespace>::all(client.clone());
    let payments = mesh
        .projects
        .iter()
        .position(|p| p.id == "p-payments")
        .expect("project");
    let by_project = namespaces
        .list(&ListParams::default().labels("field.cattle.io/projectId=p-payments"))
        .await
        .expect("list");
    assert_eq!(
        by_project.items.len(),
        mesh.namespaces
            .iter()
            .filter(|n| n.project == Some(payments))
            .count()
    );
    let by_name = namespaces
        .list(&ListParams::default().fields("metadata.name=payments"))
        .await
        .expect("list");
    assert_eq!(by_name.items.len(), 1);

    let all_pods = Api::<Pod>::all(client);
    let in_ns = all_pods
        .list(&ListParams::default().fields("metadata.namespace=bookinfo"))
        .await
        .expect("list");
    assert_eq!(in_ns.items.len(), all);
    let bad = all_pods
        .list(&ListParams::default().labels("app in (x"))
        .await;
    assert_eq!(api_code(bad).0, 400);
}

#[tokio::test]
async fn watcher_sees_a_namespace_created_after_it_started() {
    let (_mesh, _cluster, client) = demo();
    let namespaces = Api::<Namespace>::all(client);
    let mut events = watcher(namespaces.clone(), watcher::Config::default()).boxed();
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        let mut created = false;
        while let Some(event) = events.try_next().await.expect("watch event") {
            match event {
                watcher::Event::InitDone if !created => {
                    let ns: Namespace =
                        serde_json::from_value(json!({"metadata": {"name": "fresh"}})).expect("ns");
                    namespaces
                        .create(&PostParams::default(), &ns)
                        .await
                        .expect("create");
                    created = true;
                }
                watcher::Event::Apply(ns) if ns.name_any() == "fresh" => return true,
                _ => {}
            }
        }
        false
    })
    .await
    .expect("watch timed out");
    assert!(found);
}

#[tokio::test]
async fn streaming_list_watcher_and_change_subscription() {
    let (_mesh, cluster, client) = demo();
    let mut changes = cluster.subscribe();
    let namespaces = Api::<Namespace>::all(client);
    let config = watcher::Config::default().streaming_lists();
    let mut events = watcher(namespaces.clone(), config).boxed();
    let seen = tokio::time::timeout(Duration::from_secs(10), async {
        let mut initial = 0;
        while let Some(event) = events.try_next().await.expect("watch event") {
            match event {
                watcher::Event::InitApply(_) => initial += 1,
                watcher::Event::InitDone => {
                    let ns: Namespace =
                        serde_json::from_value(json!({"metadata": {"name": "streamed"}}))
                            .expect("ns");
                    namespaces
                        .create(&PostParams::default(), &ns)
                        .await
                        .expect("create");
                }
                watcher::Event::Apply(ns) if ns.name_any() == "streamed" => return initial,
                _ => {}
            }
        }
        0
    })
    .await
    .expect("watch timed out");
    let listed = namespaces.list(&ListParams::default()).await.expect("list");
    assert_eq!(
        seen,
        listed.items.len() - 1,
        "every namespace but the new one came first"
    );

    let change = changes.recv().await.expect("change");
    assert_eq!(change.kind, meshdeck_sim::kube::ChangeKind::Added);
    assert_eq!(change.resource.plural, "namespaces");
    assert_eq!(change.object["metadata"]["name"], "streamed");
}

fn event_kind<K>(e: &WatchEvent<K>) -> &'static str {
    match e {
        WatchEvent::Added(_) => "ADDED",
        WatchEvent::Modified(_) => "MODIFIED",
        WatchEvent::Deleted(_) => "DELETED",
        WatchEvent::Bookmark(_) => "BOOKMARK",
        WatchEvent::Error(_) => "ERROR",
    }
}

#[tokio::test]
async fn raw_watch_replays_from_a_resource_version_and_sends_bookmarks() {
    let (_mesh, cluster, client) = demo();
    cluster.set_bookmark_interval(Duration::from_millis(100));
    let api = Api::<ConfigMap>::namespaced(client, "meshdeck");
    let since = cluster.resource_version().to_string();
    api.create(&PostParams::default(), &config_map("w1", "a"))
        .await
        .expect("create");
    api.patch(
        "w1",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"key": "b"}})),
    )
    .await
    .expect("patch");
    api.delete("w1", &DeleteParams::default())
        .await
        .expect("delete");

    let started = std::time::Instant::now();
    let events: Vec<_> = api
        .watch(&WatchParams::default().timeout(1), &since)
        .await
        .expect("watch")
        .try_collect()
        .await
        .expect("events");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "timeoutSeconds is honoured"
    );
    let kinds: Vec<&str> = events.iter().map(event_kind).collect();
    assert_eq!(&kinds[..3], ["ADDED", "MODIFIED", "DELETED"]);
    assert!(kinds.len() > 3, "{kinds:?}");
    assert!(kinds[3..].iter().all(|k| *k == "BOOKMARK"), "{kinds:?}");

    // A watch filtered by label sees an object leave the selection as DELETED.
    let since = cluster.resource_version().to_string();
    api.create(&PostParams::default(), &config_map("w2", "a"))
        .await
        .expect("create");
    api.patch(
        "w2",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"owner": "other"}}})),
    )
    .await
    .expect("patch");
    let params = WatchParams::default()
        .timeout(1)
        .labels("owner=test")
        .disable_bookmarks();
    let events: Vec<_> = api
        .watch(&params, &since)
        .await
        .expect("watch")
        .try_collect()
        .await
        .expect("events");
    let kinds: Vec<&str> = events.iter().map(event_kind).collect();
    assert_eq!(kinds, ["ADDED", "DELETED"]);

    // resourceVersion 0: the current objects as ADDED, then live events.
    let current = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .len();
    let events: Vec<_> = api
        .watch(&WatchParams::default().timeout(1).disable_bookmarks(), "0")
        .await
        .expect("watch")
        .try_collect()
        .await
        .expect("events");
    let kinds: Vec<&str> = events.iter().map(event_kind).collect();
    assert_eq!(kinds, vec!["ADDED"; current]);
}

async fn review_token(client: &Client, token: &str) -> TokenReview {
    let review = TokenReview {
        spec: TokenReviewSpec {
            token: Some(token.to_owned()),
            ..Default::default()
        },
        ..Default::default()
    };
    Api::<TokenReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .expect("token review")
}

/// What a SubjectAccessReview answers for a core-group resource.
struct Ask<'a> {
    user: &'a str,
    groups: &'a [String],
    verb: &'a str,
    resource: &'a str,
    namespace: Option<&'a str>,
    name: Option<&'a str>,
}

async fn may(client: &Client, ask: Ask<'_>) -> bool {
    let review = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some(ask.user.to_owned()),
            groups: Some(ask.groups.to_vec()),
            resource_attributes: Some(ResourceAttributes {
                verb: Some(ask.verb.to_owned()),
                resource: Some(ask.resource.to_owned()),
                group: Some(String::new()),
                namespace: ask.namespace.map(str::to_owned),
                name: ask.name.map(str::to_owned),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let answer = Api::<SubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .expect("review");
    answer.status.expect("status").allowed
}

#[tokio::test]
async fn token_reviews_identify_demo_users() {
    let (mesh, _cluster, client) = demo();
    assert!(!mesh.users.is_empty());
    for user in &mesh.users {
        let status = review_token(&client, &user.token)
            .await
            .status
            .expect("status");
        assert_eq!(status.authenticated, Some(true));
        let who = status.user.expect("user");
        assert_eq!(who.username.as_deref(), Some(user.name.as_str()));
        // The user's groups, plus the one a real API server always adds.
        let mut expected = user.groups.clone();
        expected.push("system:authenticated".to_owned());
        assert_eq!(who.groups.unwrap_or_default(), expected);
    }
    let status = review_token(&client, "not-a-token")
        .await
        .status
        .expect("status");
    assert_eq!(status.authenticated, Some(false));
    assert!(status.user.is_none());
}

#[tokio::test]
async fn subject_access_reviews_evaluate_rbac() {
    let (mesh, _cluster, client) = demo();
    let owner = mesh
        .users
        .iter()
        .find(|u| u.role == DemoRole::Owner)
        .expect("owner");
    let patch_namespaces = |user, groups| Ask {
        user,
        groups,
        verb: "patch",
        resource: "namespaces",
        namespace: None,
        name: None,
    };
    assert!(may(&client, patch_namespaces(&owner.name, &owner.groups)).await);
    // Without system:masters the owner is allowed through the meshdeck-owner binding.
    assert!(may(&client, patch_namespaces(&owner.name, &[])).await);

    let members: Vec<_> = mesh
        .users
        .iter()
        .filter(|u| matches!(u.role, DemoRole::Member(_)))
        .collect();
    assert!(members.len() >= 2);
    for member in members {
        let DemoRole::Member(projects) = &member.role else {
            continue;
        };
        for ns in &mesh.namespaces {
            let mine = ns.project.is_some_and(|p| projects.contains(&p));
            let list_pods = Ask {
                user: &member.name,
                groups: &member.groups,
                verb: "list",
                resource: "pods",
                namespace: Some(&ns.name),
                name: None,
            };
            assert_eq!(
                may(&client, list_pods).await,
                mine,
                "{} lists pods in {}",
                member.name,
                ns.name
            );
            let patch_own = Ask {
                namespace: Some(&ns.name),
                name: Some(&ns.name),
                ..patch_namespaces(&member.name, &member.groups)
            };
            assert_eq!(
                may(&client, patch_own).await,
                mine,
                "{} patches namespace {}",
                member.name,
                ns.name
            );
        }
        assert!(!may(&client, patch_namespaces(&member.name, &member.groups)).await);
        let list_everywhere = Ask {
            verb: "list",
            resource: "pods",
            ..patch_namespaces(&member.name, &member.groups)
        };
        assert!(!may(&client, list_everywhere).await);
    }
    let stranger = Ask {
        verb: "get",
        resource: "pods",
        namespace: Some("bookinfo"),
        ..patch_namespaces("stranger", &[])
    };
    assert!(!may(&client, stranger).await);
}

#[tokio::test]
async fn restart_replaces_pods_and_injection_follows_the_namespace() {
    let (_mesh, _cluster, client) = demo();
    let deployments = Api::<Deployment>::namespaced(client.clone(), "legacy");
    let pods = Api::<Pod>::namespaced(client.clone(), "legacy");
    let before = deployments
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .remove(0);
    let name = before.name_any();
    let app = before
        .spec
        .as_ref()
        .and_then(|s| s.selector.match_labels.as_ref())
        .and_then(|l| l.get("app").cloned())
        .expect("app");
    let by_app = ListParams::default().labels(&format!("app={app}"));
    let old_pods = pods.list(&by_app).await.expect("pods").items;
    assert!(!old_pods.is_empty());
    assert!(
        old_pods.iter().all(|p| !has_proxy(p)),
        "legacy has no sidecars"
    );

    // Enable injection on the namespace: running pods keep no sidecar.
    let enable = json!({"metadata": {"labels": {"istio-injection": "enabled"}}});
    Api::<Namespace>::all(client.clone())
        .patch("legacy", &PatchParams::default(), &Patch::Merge(enable))
        .await
        .expect("label namespace");
    let unchanged = pods.list(&by_app).await.expect("pods").items;
    assert!(unchanged.iter().all(|p| !has_proxy(p)));
    assert_eq!(unchanged.len(), old_pods.len());

    // `kubectl rollout restart`.
    let restart = json!({"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"
    }}}}});
    let patched = deployments
        .patch(&name, &PatchParams::default(), &Patch::Strategic(restart))
        .await
        .expect("restart");
    assert_eq!(
        patched.metadata.generation,
        Some(before.metadata.generation.unwrap_or(1) + 1)
    );

    let new_pods = pods.list(&by_app).await.expect("pods").items;
    let replicas = before.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1) as usize;
    assert_eq!(new_pods.len(), replicas);
    let old_names: Vec<String> = old_pods.iter().map(|p| p.name_any()).collect();
    assert!(
        new_pods.iter().all(|p| !old_names.contains(&p.name_any())),
        "pods were re-created"
    );
    assert!(new_pods.iter().all(has_proxy), "new pods are injected");
    assert!(new_pods.iter().all(|p| {
        p.annotations()
            .contains_key("kubectl.kubernetes.io/restartedAt")
    }));
    let status = deployments
        .get(&name)
        .await
        .expect("get")
        .status
        .expect("status");
    assert_eq!(status.observed_generation, patched.metadata.generation);
    assert_eq!(status.updated_replicas, Some(replicas as i32));

    // Opting the workload out (a template change, so a rollout) removes it.
    let opt_out = json!({"spec": {"template": {"metadata": {"annotations": {
        "sidecar.istio.io/inject": "false"
    }}}}});
    deployments
        .patch(&name, &PatchParams::default(), &Patch::Merge(opt_out))
        .await
        .expect("opt out");
    let final_pods = pods.list(&by_app).await.expect("pods").items;
    assert_eq!(final_pods.len(), replicas);
    assert!(final_pods.iter().all(|p| !has_proxy(p)));
}

#[tokio::test]
async fn deleted_pods_are_replaced_and_namespaces_take_their_contents() {
    let (_mesh, cluster, client) = demo();
    let pods = Api::<Pod>::namespaced(client.clone(), "bookinfo");
    let by_app = ListParams::default().labels("app=productpage");
    let before = pods.list(&by_app).await.expect("pods").items;
    let victim = before[0].name_any();
    pods.delete(&victim, &DeleteParams::default())
        .await
        .expect("delete pod");
    let after = pods.list(&by_app).await.expect("pods").items;
    assert_eq!(after.len(), before.len());
    assert!(after.iter().all(|p| p.name_any() != victim));

    Api::<Namespace>::all(client)
        .delete("bookinfo", &DeleteParams::default())
        .await
        .expect("delete ns");
    assert!(cluster.list("", "v1", "pods", Some("bookinfo")).is_empty());
    assert!(
        cluster
            .list("apps", "v1", "deployments", Some("bookinfo"))
            .is_empty()
    );
}

#[tokio::test]
async fn discovery_finds_the_served_groups() {
    let (_mesh, _cluster, client) = demo();
    let discovery = kube::discovery::Discovery::new(client)
        .run()
        .await
        .expect("discovery");
    let mut found = Vec::new();
    for group in discovery.groups() {
        for (ar, _caps) in group.recommended_resources() {
            found.push(format!("{}/{}", ar.group, ar.plural));
        }
    }
    for want in [
        "/namespaces",
        "/pods",
        "apps/deployments",
        "networking.istio.io/virtualservices",
        "security.istio.io/peerauthentications",
        "rbac.authorization.k8s.io/clusterroles",
    ] {
        assert!(found.iter().any(|f| f == want), "{want} in {found:?}");
    }
}

#[tokio::test]
async fn operator_crds_are_served_only_once_installed() {
    use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
    let (_mesh, cluster, client) = demo();
    let gvk = GroupVersionKind::gvk("sailoperator.io", "v1", "Istio");
    let ar = ApiResource::from_gvk_with_plural(&gvk, "istios");
    let istios: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    // Not installed: discovery does not list it, and its paths are 404.
    let resources = client.list_api_group_resources("sailoperator.io/v1").await;
    assert_eq!(api_code(resources).0, 404);
    assert_eq!(api_code(istios.list(&ListParams::default()).await).0, 404);

    assert!(cluster.install_crd("sailoperator.io", "istios"));
    assert!(!cluster.install_crd("example.com", "widgets"));
    let resources = client
        .list_api_group_resources("sailoperator.io/v1")
        .await
        .expect("served once installed");
    assert!(
        resources
            .resources
            .iter()
            .any(|r| r.name == "istios" && !r.namespaced)
    );
    let groups = client.list_api_groups().await.expect("groups");
    assert!(groups.groups.iter().any(|g| g.name == "sailoperator.io"));
    // A cluster-scoped custom resource round trip.
    let obj: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "sailoperator.io/v1",
        "kind": "Istio",
        "metadata": {"name": "default"},
        "spec": {"namespace": "istio-system"},
    }))
    .expect("object");
    istios
        .create(&PostParams::default(), &obj)
        .await
        .expect("create");
    let got = istios.get("default").await.expect("get");
    assert_eq!(got.data["spec"]["namespace"], "istio-system");
    // IstioOperator stays unserved: only what was installed is.
    let iop = client
        .list_api_group_resources("install.istio.io/v1alpha1")
        .await;
    assert_eq!(api_code(iop).0, 404);
}
