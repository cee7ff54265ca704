//! A canary rollout against a real API server with Istio's CRDs: the
//! record kept in a ConfigMap, the start's weights written with the
//! caller's token, each controller step written with meshdeck's account
//! only after a SubjectAccessReview of the person who started it (a
//! revoked RoleBinding pauses the rollout), a restarted console continuing
//! from the record, and controls refused by RBAC for a viewer.
//!
//! No Prometheus here: judgements pause for want of data (the rollout
//! stays running and says so), and steps are moved with "skip".
//!
//! Ignored by default. Run with a cluster in `$KUBECONFIG` that serves
//! `networking.istio.io/v1` and whose account may create and delete
//! namespaces, ServiceAccounts, Roles, RoleBindings, Services, Pods,
//! ConfigMaps and Istio objects, request ServiceAccount tokens and create
//! SubjectAccessReviews (a cluster admin's):
//!
//! ```sh
//! cargo test -p meshdeck --test live_rollouts -- --ignored --test-threads=1
//! ```

use app::types::{
    AuthMode, RolloutAction, RolloutControl, RolloutPhase, RolloutSpec, RolloutStart, RunMode,
};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject};
use kube::core::GroupVersionKind;
use meshdeck_server::AppState;
use meshdeck_server::cluster::Cluster;
use meshdeck_server::error::Error;
use meshdeck_server::rollouts::{controller, ops};
use meshdeck_server::spa::Spa;
use meshdeck_server::upstream::Upstreams;
use serde_json::{Value, json};

mod common;
use common::live::{caller, connect, test_namespace, web_versions};

fn state(cluster: &Cluster) -> AppState {
    AppState::new(
        RunMode::Serve,
        AuthMode::Token,
        Upstreams {
            kube: Some(cluster.clone()),
            ..Upstreams::default()
        },
        Spa::load(std::path::Path::new("/nonexistent")),
    )
}

/// `web`'s weights in force, by subset (zero weights left out).
async fn weights(client: &kube::Client, ns: &str) -> Vec<(String, i64)> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("networking.istio.io", "v1", "VirtualService"),
        "virtualservices",
    );
    let vs = Api::<DynamicObject>::namespaced_with(client.clone(), ns, &ar)
        .get("web")
        .await
        .unwrap();
    serde_json::to_value(vs).unwrap()["spec"]["http"][0]["route"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| {
            (
                r["destination"]["subset"].as_str().unwrap_or("").to_owned(),
                r["weight"].as_i64().unwrap_or(100),
            )
        })
        .filter(|(_, w)| *w > 0)
        .collect()
}

fn pair(v1: i64, v2: i64) -> Vec<(String, i64)> {
    [("v1", v1), ("v2", v2)]
        .into_iter()
        .filter(|(_, w)| *w > 0)
        .map(|(v, w)| (v.to_owned(), w))
        .collect()
}

#[tokio::test]
#[ignore = "needs cluster"]
async fn a_rollout_is_kept_in_the_cluster_and_steps_only_as_its_starter_may() {
    // A round's warnings (why it judged nothing) show with a failure.
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("meshdeck_server=debug")
        .try_init();
    let cluster = connect().await;
    let admin = cluster.own().clone();
    let (ns, _cleanup) = test_namespace(&admin, "rollouts").await;
    web_versions(&admin, &ns, true).await;
    let routing = |verbs: &[&str]| {
        json!([{"apiGroups": ["networking.istio.io"],
            "resources": ["virtualservices", "destinationrules"], "verbs": verbs}])
    };
    let editing = ["get", "list", "watch", "create", "patch", "update"];
    let starter = caller(&admin, &ns, "starter", routing(&editing)).await;
    let lead = caller(&admin, &ns, "lead", routing(&editing)).await;
    let viewer = caller(&admin, &ns, "viewer", routing(&["get", "list", "watch"])).await;

    let spec = RolloutSpec {
        interval_s: 60,
        ..RolloutSpec::with_defaults("v1", "v2")
    };
    let start = RolloutStart {
        namespace: ns.clone(),
        service: "web".into(),
        spec,
    };
    let first = state(&cluster);
    // A whole second: the rounds below run exactly when the rollout is
    // due (`t + 60`), and a time read back from the rollout's JSON may
    // differ from the one written by a unit in the last place (serde_json
    // parses floats fast, not exactly), which made the round too early.
    let t = meshdeck_sim::live::now_s().floor();
    let r = ops::start_at(&first, &starter, &start, t).await.unwrap();
    assert_eq!((r.phase, r.canary_weight), (RolloutPhase::Running, 10));
    assert_eq!(weights(&admin, &ns).await, pair(90, 10));
    // The record is a ConfigMap in the service's namespace.
    let cm = Api::<ConfigMap>::namespaced(admin.clone(), &ns)
        .get("meshdeck-rollout-web")
        .await
        .unwrap();
    let record: Value = serde_json::from_str(&cm.data.unwrap()["rollout.json"]).unwrap();
    assert_eq!(record["starter"]["user"], json!(starter.user));
    // A second start on the service: refused.
    let again = ops::start_at(&first, &lead, &start, t + 1.0)
        .await
        .unwrap_err();
    assert!(matches!(again, Error::Invalid(_)), "{again}");

    // No Prometheus: the judgement pauses for want of data; nothing moves.
    assert_eq!(controller::tick(&first, t + 60.0).await.unwrap(), 1);
    let r = ops::get(&first, &starter, &ns, "web").await.unwrap();
    let last = r.events.last().unwrap().decision.clone().unwrap();
    assert_eq!(last.action, RolloutAction::Pause);
    assert_eq!(r.phase, RolloutPhase::Running);
    assert_eq!(weights(&admin, &ns).await, pair(90, 10));

    // Skip: the controller advances, written by meshdeck's account after
    // the review of the starter.
    ops::control_at(&first, &starter, &ns, "web", RolloutControl::Skip, t + 61.0)
        .await
        .unwrap();
    assert_eq!(controller::tick(&first, t + 62.0).await.unwrap(), 1);
    assert_eq!(weights(&admin, &ns).await, pair(75, 25));

    // A new console process continues from the record.
    drop(first);
    let second = state(&cluster);
    let r = ops::get(&second, &lead, &ns, "web").await.unwrap();
    assert_eq!((r.progress.step, r.canary_weight), (1, 25));

    // The viewer may not steer it: Kubernetes RBAC, asked first.
    let refused = ops::control_at(
        &second,
        &viewer,
        &ns,
        "web",
        RolloutControl::Pause,
        t + 63.0,
    )
    .await
    .unwrap_err();
    assert!(matches!(refused, Error::Forbidden(_)), "{refused}");
    assert!(
        !ops::get(&second, &viewer, &ns, "web")
            .await
            .unwrap()
            .may_control
    );

    // The starter loses the right: the next step is not written.
    Api::<RoleBinding>::namespaced(admin.clone(), &ns)
        .delete("starter", &DeleteParams::default())
        .await
        .unwrap();
    ops::control_at(&second, &lead, &ns, "web", RolloutControl::Skip, t + 64.0)
        .await
        .unwrap();
    assert_eq!(controller::tick(&second, t + 65.0).await.unwrap(), 1);
    let r = ops::get(&second, &lead, &ns, "web").await.unwrap();
    assert_eq!(r.phase, RolloutPhase::Paused, "{}", r.status);
    assert!(r.status.contains("may no longer"), "{}", r.status);
    assert_eq!(weights(&admin, &ns).await, pair(75, 25));

    // The lead aborts: back to v1, written with the lead's token.
    let r = ops::control_at(&second, &lead, &ns, "web", RolloutControl::Abort, t + 66.0)
        .await
        .unwrap();
    assert_eq!((r.phase, r.canary_weight), (RolloutPhase::Aborted, 0));
    assert_eq!(weights(&admin, &ns).await, pair(100, 0));
}
