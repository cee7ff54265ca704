//! How soon a new namespace gets its injection label: the auto-injection
//! controller (on the replica holding the Lease, as meshdeck's service
//! account with the documented RBAC) against the in-memory API, which
//! delivers watch events as a real API server does. Prints the latency
//! from the namespace's creation to the committed label, for namespaces
//! created back to back and after quiet spells (the case that used to take
//! 5 to 18 s, when a read timeout ended the watch every 5 s).
//!
//! ```sh
//! cargo bench -p meshdeck --bench autoinject [-- COUNT QUIET_SECONDS]
//! ```

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, PostParams};
use meshdeck_server::cluster::lease::LeaseTiming;
use meshdeck_server::demo::{in_memory, install_documented_rbac};
use meshdeck_server::enablement::mesh::{MeshState, STATE_CONFIGMAP, STATE_KEY};
use meshdeck_sim::kube::InMemoryCluster;
use meshdeck_sim::kube::seed::MESHDECK_SA_TOKEN;
use serde_json::json;

/// Creates `name` and waits for the change that labels it.
async fn labelled_after(cluster: &InMemoryCluster, api: &Api<Namespace>, name: &str) -> Duration {
    let mut changes = cluster.subscribe();
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    let started = Instant::now();
    api.create(&PostParams::default(), &ns).await.unwrap();
    loop {
        let change = tokio::time::timeout(Duration::from_secs(60), changes.recv())
            .await
            .expect("labelled within 60 s")
            .expect("change stream");
        let obj = &change.object;
        if change.resource.plural == "namespaces"
            && obj["metadata"]["name"] == name
            && obj["metadata"]["labels"]["istio-injection"] == "enabled"
        {
            return started.elapsed();
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "{what}: n={} p50={:.1} ms p95={:.1} ms max={:.1} ms",
        times.len(),
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.95).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3,
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let count: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(200);
    let quiet_s: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(12);

    let cluster = InMemoryCluster::from_mesh(&meshdeck_sim::scenario::demo());
    install_documented_rbac(&cluster, &["console", "enablement"]).unwrap();
    let admin = cluster.client();
    let state = MeshState {
        enabled: true,
        enabled_at: Some("2000-01-01T00:00:00Z".into()),
        created: Vec::new(),
    };
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": STATE_CONFIGMAP, "labels": {"app.kubernetes.io/managed-by": "meshdeck"}},
        "data": {STATE_KEY: serde_json::to_string(&state).unwrap()},
    }))
    .unwrap();
    Api::<ConfigMap>::namespaced(admin.clone(), "meshdeck")
        .create(&PostParams::default(), &cm)
        .await
        .unwrap();
    let started = Instant::now();
    let controllers = meshdeck_server::run::spawn_controllers(
        meshdeck_server::run::controllers_state(in_memory(&cluster, MESHDECK_SA_TOKEN)),
        "meshdeck".into(),
        LeaseTiming::default(),
    );
    let api = Api::<Namespace>::all(admin);
    let first = labelled_after(&cluster, &api, "bench-first").await;
    println!(
        "first namespace labelled {:.1} ms after it was created, {:.1} ms after start (lease taken, caches synced)",
        first.as_secs_f64() * 1e3,
        started.elapsed().as_secs_f64() * 1e3
    );
    let mut back_to_back = Vec::with_capacity(count);
    for i in 0..count {
        back_to_back.push(labelled_after(&cluster, &api, &format!("bench-{i}")).await);
    }
    report("back to back", back_to_back);
    let mut after_quiet = Vec::new();
    for i in 0..3 {
        tokio::time::sleep(Duration::from_secs(quiet_s)).await;
        after_quiet.push(labelled_after(&cluster, &api, &format!("bench-quiet-{i}")).await);
    }
    report(&format!("after {quiet_s} s without events"), after_quiet);
    controllers.abort();
}
