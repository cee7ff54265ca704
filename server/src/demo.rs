//! `meshdeck demo`: the simulated mesh behind the console's normal clients.
//! The simulator serves `/metrics`, which a real Prometheus (a child
//! process on loopback, with an hour of history backfilled) scrapes every
//! few seconds; the console then reads Prometheus like any other. The
//! simulator follows the Istio objects of the in-memory cluster, so traffic
//! management written there shows in the metrics and traces.

use std::io::BufWriter;
use std::sync::Arc;
use std::time::Instant;

use app::types::{AuthMode, DemoIdentity, Role, RunMode};
use meshdeck_sim::kube::InMemoryCluster;
use meshdeck_sim::live::{self, LiveMetrics};
use meshdeck_sim::metrics::{HistoryOptions, MetricsOptions, Simulator, write_openmetrics_history};
use meshdeck_sim::model::{DemoRole, Mesh};
use meshdeck_sim::prometheus::{PrometheusOptions, PrometheusServer};
use meshdeck_sim::shaping::Schedule;
use meshdeck_sim::traces::store::{DEFAULT_CAPACITY, DEFAULT_LIVE_RATE};
use meshdeck_sim::traces::{self, TraceStore};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::auth::AuthOptions;
use crate::cluster::Cluster;
use crate::cluster::lease::LeaseTiming;
use crate::config::{DemoArgs, UpstreamArgs};
use crate::error::{Error, Result};
use crate::run::{StartupError, listen, spawn_controllers};
use crate::serve::serve_on;
use crate::spa::Spa;
use crate::state::AppState;
use crate::upstream::Upstreams;

/// meshdeck's own RBAC as the README documents it (`deploy/rbac/`), by use:
/// the demo runs meshdeck's account with exactly the read-only console's,
/// enablement's and rollouts' rules, so a rule missing from the documents shows up
/// in the demo (and in the tests that run the same way).
pub const DOCUMENTED_RBAC: [(&str, &str); 4] = [
    ("console", include_str!("../../deploy/rbac/console.yaml")),
    (
        "enablement",
        include_str!("../../deploy/rbac/enablement.yaml"),
    ),
    (
        "impersonate",
        include_str!("../../deploy/rbac/impersonate.yaml"),
    ),
    ("rollouts", include_str!("../../deploy/rbac/rollouts.yaml")),
];

/// The objects of a multi-document YAML text.
pub fn yaml_objects(text: &str) -> Result<Vec<serde_json::Value>> {
    use serde::Deserialize;
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|doc| {
            serde_json::Value::deserialize(doc)
                .map_err(|e| Error::internal(format!("reading YAML: {e}")))
        })
        .filter(|v| !matches!(v, Ok(serde_json::Value::Null)))
        .collect()
}

/// Creates the documented RBAC objects of `uses` (e.g. `["console",
/// "enablement"]`) in `cluster` (objects that exist already are kept).
pub fn install_documented_rbac(cluster: &InMemoryCluster, uses: &[&str]) -> Result<()> {
    for (name, text) in DOCUMENTED_RBAC {
        if !uses.contains(&name) {
            continue;
        }
        for object in yaml_objects(text)? {
            match cluster.create(object) {
                Ok(_) => {}
                Err(e) if e.reason == meshdeck_sim::kube::Reason::AlreadyExists => {}
                Err(e) => {
                    return Err(Error::internal(format!(
                        "installing deploy/rbac/{name}.yaml in the demo cluster: {e}"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The in-memory `cluster` as meshdeck reaches a cluster: its own requests
/// carry `own_token`, callers' requests their own credentials.
pub fn in_memory(cluster: &InMemoryCluster, own_token: &str) -> Cluster {
    let mut own = http::HeaderMap::new();
    if let Ok(value) = http::HeaderValue::from_str(&format!("Bearer {own_token}")) {
        own.insert(http::header::AUTHORIZATION, value);
    }
    let cluster = cluster.clone();
    // Timed and in spans like a real API server's calls.
    Cluster::in_process(own, move |headers| {
        let service = tower::Layer::layer(
            &crate::selfmetrics::KubeTiming::default(),
            cluster.service_with_headers(headers),
        );
        kube::Client::new(service, "default")
    })
}

/// The scrape job name, and the instance label history and live series share.
const JOB: &str = "istio-mesh";
const INSTANCE: &str = "meshdeck-sim";
/// Seconds between history samples.
const HISTORY_STEP_S: f64 = 15.0;

/// The demo identities of `mesh`, owners first, each with what it may see.
pub fn demo_identities(mesh: &Mesh) -> Vec<DemoIdentity> {
    let mut out: Vec<DemoIdentity> = mesh
        .users
        .iter()
        .map(|user| {
            let (role, description) = match &user.role {
                DemoRole::Owner => (
                    Role::Owner,
                    "cluster owner: sees and manages everything".to_owned(),
                ),
                DemoRole::Member(projects) => {
                    let parts: Vec<String> = projects
                        .iter()
                        .filter_map(|p| {
                            let project = mesh.projects.get(*p)?;
                            let namespaces: Vec<&str> = mesh
                                .namespaces
                                .iter()
                                .filter(|ns| ns.project == Some(*p))
                                .map(|ns| ns.name.as_str())
                                .collect();
                            Some(format!(
                                "{} ({})",
                                project.display_name,
                                namespaces.join(", ")
                            ))
                        })
                        .collect();
                    (Role::Member, format!("member of {}", parts.join("; ")))
                }
            };
            DemoIdentity {
                name: user.name.clone(),
                role,
                description,
                token: user.token.clone(),
            }
        })
        .collect();
    out.sort_by_key(|identity| identity.role != Role::Owner);
    out
}

/// How to run the demo environment.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Seconds of history to backfill.
    pub history_s: u32,
    /// Prometheus' scrape interval in seconds.
    pub scrape_interval_s: u32,
}

/// The running simulator and Prometheus.
pub struct DemoEnvironment {
    /// The simulated mesh.
    pub mesh: Arc<Mesh>,
    /// Prometheus, scraping the simulator.
    pub prometheus: PrometheusServer,
    /// The in-memory Kubernetes cluster seeded from the mesh.
    pub cluster: InMemoryCluster,
    /// Base URL of the simulator: `/metrics`, and Jaeger's query API (v1 and v3).
    pub simulator_url: String,
    simulator: JoinHandle<()>,
    /// The simulator following the cluster's traffic management.
    shaping: JoinHandle<()>,
}

/// The demo failed to start at `what`, because of `source`.
fn startup(
    what: impl Into<String>,
) -> impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> StartupError {
    let what = what.into();
    move |source| StartupError::Demo {
        what,
        source: Some(Arc::from(source)),
    }
}

impl DemoEnvironment {
    /// The demo cluster as meshdeck reaches it: as its own service account,
    /// with the documented RBAC of the console and of enablement.
    pub fn meshdeck_cluster(&self) -> Cluster {
        in_memory(&self.cluster, meshdeck_sim::kube::seed::MESHDECK_SA_TOKEN)
    }

    /// Starts the simulator, writes and backfills the history, starts Prometheus.
    pub async fn start(mesh: Mesh, options: &DemoOptions) -> Result<Self, StartupError> {
        let mesh = Arc::new(mesh);
        let started = Instant::now();
        // History ends on a sample boundary; live counters continue from it.
        let end = (live::now_s() / HISTORY_STEP_S).floor() * HISTORY_STEP_S;
        let start = end - f64::from(options.history_s);
        let mut simulator = Simulator::new(mesh.clone(), MetricsOptions::default(), start);
        simulator.advance_to(end);
        let series = simulator.series_count();

        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(StartupError::listen("the simulator", "127.0.0.1:0"))?;
        let addr = listener
            .local_addr()
            .map_err(StartupError::listen("the simulator", "127.0.0.1:0"))?;
        // Traces: the last hour at the store's live rate, then generated on
        // demand up to the moment of each query.
        let schedule = Schedule::new();
        let traces = TraceStore::new(DEFAULT_CAPACITY, DEFAULT_LIVE_RATE)
            .following_clock(true)
            .with_schedule(schedule.clone());
        traces.fill_history(
            &mesh,
            end - f64::from(options.history_s).min(3600.0),
            end,
            DEFAULT_LIVE_RATE,
        );
        let metrics = LiveMetrics::new(simulator);
        let app =
            live::router(metrics.clone()).merge(traces::router(Arc::new(traces), mesh.clone()));
        let simulator = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::error!(%err, "simulator stopped");
            }
        });

        let history_path =
            std::env::temp_dir().join(format!("meshdeck-demo-history-{}.om", std::process::id()));
        let history = HistoryOptions {
            start,
            end,
            step: HISTORY_STEP_S,
        };
        let history_options = MetricsOptions {
            extra_labels: vec![
                ("job".into(), JOB.into()),
                ("instance".into(), INSTANCE.into()),
            ],
            ..MetricsOptions::default()
        };
        // Without history (synthetic meshes) there is no file to write.
        let written = if options.history_s == 0 {
            0
        } else {
            let mesh = mesh.clone();
            let path = history_path.clone();
            let written = tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
                let mut file = BufWriter::new(std::fs::File::create(&path)?);
                let n = write_openmetrics_history(&mesh, &history_options, &history, &mut file)?;
                std::io::Write::flush(&mut file)?;
                Ok(n)
            })
            .await
            .map_err(|e| startup("writing the history")(e.into()))
            .and_then(|r| r.map_err(|e| startup("writing the history")(e.into())));
            if written.is_err() {
                let _ = std::fs::remove_file(&history_path);
                simulator.abort();
            }
            written?
        };
        let generated = started.elapsed();
        let prometheus = PrometheusServer::start(&PrometheusOptions {
            history: (options.history_s > 0).then(|| history_path.clone()),
            scrape_targets: vec![addr.to_string()],
            scrape_interval_s: options.scrape_interval_s,
            job: JOB.into(),
            instance: Some(INSTANCE.into()),
            ..PrometheusOptions::default()
        })
        .await;
        let _ = std::fs::remove_file(&history_path);
        let prometheus = match prometheus {
            Ok(p) => p,
            Err(err) => {
                simulator.abort();
                return Err(startup("starting Prometheus")(err.into()));
            }
        };
        tracing::info!(
            mesh = %mesh.name,
            series,
            history_samples = written,
            generate_ms = generated.as_millis() as u64,
            total_ms = started.elapsed().as_millis() as u64,
            prometheus = %prometheus.url(),
            prometheus_rss_kib = prometheus.resident_kib().unwrap_or(0),
            "demo environment ready"
        );
        let cluster = InMemoryCluster::from_mesh(&mesh);
        // Istio installs commonly bring the Gateway API's CRDs: the routing
        // wizards may write HTTPRoutes and GRPCRoutes in the demo too.
        for plural in ["httproutes", "grpcroutes"] {
            cluster.install_crd(meshdeck_sim::kube::resources::GATEWAY_API, plural);
        }
        if let Err(err) = install_documented_rbac(&cluster, &["console", "enablement", "rollouts"])
        {
            simulator.abort();
            prometheus.stop().await;
            return Err(StartupError::Demo {
                what: "installing meshdeck's RBAC in the demo cluster".into(),
                source: Some(Arc::new(err)),
            });
        }
        // From now on every committed VirtualService, DestinationRule and
        // PeerAuthentication change reshapes the traffic (the seeded ones
        // describe the scenario, so nothing moves until someone writes).
        let shaping = metrics.follow(cluster.clone(), Some(schedule));
        Ok(DemoEnvironment {
            cluster,
            mesh,
            prometheus,
            simulator_url: format!("http://{addr}"),
            simulator,
            shaping,
        })
    }

    /// Stops Prometheus (removing its data) and the simulator.
    pub async fn stop(self) {
        self.shaping.abort();
        self.simulator.abort();
        self.prometheus.stop().await;
    }
}

/// `meshdeck demo`: the built-in simulated mesh.
pub async fn serve(args: DemoArgs) -> Result<(), StartupError> {
    let (mesh, history_s) = match args.synthetic_services {
        Some(n) => {
            tracing::info!(
                services = n,
                "synthetic mesh: live metrics only, no history backfilled"
            );
            (meshdeck_sim::scenario::synthetic(n as usize, 7), 0)
        }
        None => (meshdeck_sim::scenario::demo(), args.history_minutes * 60),
    };
    let options = DemoOptions {
        history_s,
        scrape_interval_s: args.scrape_interval,
    };
    let environment = DemoEnvironment::start(mesh, &options).await?;
    let upstream_args = UpstreamArgs {
        prometheus_url: environment.prometheus.url().parse().ok(),
        jaeger_url: environment.simulator_url.parse().ok(),
        ..UpstreamArgs::default()
    };
    let served = match Upstreams::from_args(&upstream_args, args.http.upstream_timeout()) {
        Ok(mut upstreams) => {
            let cluster = environment.meshdeck_cluster();
            upstreams.kube = Some(cluster.clone());
            let spa = Spa::from_args(args.http.static_dir.as_deref());
            let options = AuthOptions {
                project_key: args.access.project_key.clone(),
                cache_ttl: args.access.auth_cache_ttl,
                demo_identities: demo_identities(&environment.mesh),
                ..AuthOptions::default()
            };
            let state = AppState::with_auth(RunMode::Demo, AuthMode::Demo, upstreams, spa, options)
                .with_settings_namespace(args.access.namespace.clone())
                .with_scrape_interval(args.scrape_interval);
            let watch = spawn_controllers(
                state.clone(),
                args.access.namespace.clone(),
                LeaseTiming::default(),
            );
            let served = match serve_kube_api(&args, &environment).await {
                Ok(kube_api) => {
                    let served = listen(&args.http, state).await;
                    if let Some(task) = kube_api {
                        task.abort();
                    }
                    served
                }
                Err(err) => Err(err),
            };
            watch.abort();
            served
        }
        Err(err) => Err(err),
    };
    // The children stop whether serving ended by a signal or by an error.
    environment.stop().await;
    served
}

/// With `--kube-api-bind`: serves the demo cluster's Kubernetes API there
/// and writes the kubeconfig asked for.
async fn serve_kube_api(
    args: &DemoArgs,
    environment: &DemoEnvironment,
) -> Result<Option<tokio::task::JoinHandle<()>>, StartupError> {
    let Some(bind) = args.kube_api_bind else {
        return Ok(None);
    };
    let what = "the demo's Kubernetes API";
    let listener = TcpListener::bind(bind)
        .await
        .map_err(StartupError::listen(what, bind))?;
    let addr = listener
        .local_addr()
        .map_err(StartupError::listen(what, bind))?;
    if let Some(path) = &args.write_kubeconfig {
        let token = environment
            .mesh
            .users
            .iter()
            .find(|u| u.role == DemoRole::Owner)
            .map(|u| u.token.clone())
            .unwrap_or_default();
        std::fs::write(path, kubeconfig(&format!("http://{addr}"), &token)).map_err(|source| {
            StartupError::Write {
                path: path.clone(),
                source,
            }
        })?;
    }
    let router = environment.cluster.router();
    // Same timeouts and limits as the console; it stops when its task is
    // aborted (after the console has shut down).
    let options = args.http.serve_options();
    let task = tokio::spawn(serve_on(listener, router, options, std::future::pending()));
    tracing::info!(%addr, "the demo's Kubernetes API is listening");
    println!("demo Kubernetes API: kubectl --server http://{addr} get namespaces");
    Ok(Some(task))
}

/// A kubeconfig for the demo's Kubernetes API at `server` as `token`.
pub fn kubeconfig(server: &str, token: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: meshdeck-demo
  cluster:
    server: {server}
users:
- name: meshdeck-demo-owner
  user:
    token: {token}
contexts:
- name: meshdeck-demo
  context:
    cluster: meshdeck-demo
    user: meshdeck-demo-owner
    namespace: default
current-context: meshdeck-demo
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_rbac_reads_as_kubernetes_objects() {
        for (name, text) in DOCUMENTED_RBAC {
            let objects = yaml_objects(text).unwrap();
            assert!(!objects.is_empty(), "{name}");
            for o in &objects {
                assert!(
                    o["apiVersion"].is_string() && o["kind"].is_string(),
                    "{name}: {o}"
                );
            }
        }
    }

    #[test]
    fn demo_identities_follow_the_scenario() {
        let identities = demo_identities(&meshdeck_sim::scenario::demo());
        let names: Vec<&str> = identities.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["admin", "alice", "bob"]);
        assert_eq!(identities[0].role, Role::Owner);
        assert_eq!(identities[1].description, "member of Shop (bookinfo)");
        assert_eq!(
            identities[2].description,
            "member of Payments (payments, legacy)"
        );
        assert_eq!(identities[2].token, "demo-token-bob");
    }
}
