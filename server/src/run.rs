//! Starting and stopping the server: build the state from the command line,
//! listen, and shut down gracefully on Ctrl-C or SIGTERM (bounded by the
//! shutdown grace; see [`crate::serve`]).

use app::types::{AuthMode, RunMode};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::auth::{AuthOptions, Authenticator};
use crate::cluster::lease::{self, AbortOnDrop, CONTROLLERS_LEASE, LeaseTiming};
use crate::cluster::{Cluster, Source};
use crate::config::{AuthModeArg, DemoArgs, HttpArgs, ServeArgs, UpstreamArgs};
use crate::demo::{DemoEnvironment, DemoOptions, demo_identities};
use crate::enablement::autoinject;
use crate::error::{Error, Result};
use crate::rollouts;
use crate::serve::serve_on;
use crate::spa::Spa;
use crate::state::AppState;
use crate::upstream::Upstreams;

/// Runs the controllers (auto-injection, rollouts) on this replica while
/// it holds the controllers' Lease in meshdeck's namespace.
pub fn spawn_controllers(
    state: AppState,
    namespace: String,
    timing: LeaseTiming,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let Ok(cluster) = state.cluster().cloned() else {
            tracing::warn!("no cluster: the controllers do not run");
            return;
        };
        let client = cluster.own().clone();
        let task_namespace = namespace.clone();
        lease::run_as_leader(
            client,
            namespace,
            CONTROLLERS_LEASE,
            lease::identity(),
            timing,
            move || {
                let injection = autoinject::run(cluster.clone(), task_namespace.clone());
                let rollouts = rollouts::controller::run(state.clone());
                async move {
                    futures::join!(injection, rollouts);
                }
            },
        )
        .await;
    })
}

/// State for the controllers alone on `cluster` (no Prometheus: rollouts
/// pause for want of data): tests and benchmarks of the other controllers.
pub fn controllers_state(cluster: Cluster) -> AppState {
    AppState::new(
        RunMode::Serve,
        AuthMode::Token,
        Upstreams {
            kube: Some(cluster),
            ..Upstreams::default()
        },
        Spa::load(std::path::Path::new("/nonexistent")),
    )
}

/// `meshdeck serve`: a real cluster.
pub async fn serve(args: ServeArgs) -> Result<()> {
    let (auth_mode, authenticator) = match args.auth_mode {
        AuthModeArg::Demo => {
            return Err(Error::Invalid(
                "--auth-mode demo is only available with `meshdeck demo`; `serve` identifies callers by their Kubernetes token or through an authenticating proxy"
                    .into(),
            ));
        }
        AuthModeArg::Token => (AuthMode::Token, Authenticator::Token),
        AuthModeArg::Proxy => (AuthMode::Proxy, Authenticator::Proxy(args.proxy.options())),
    };
    let timeout = args.http.upstream_timeout();
    let mut upstreams = Upstreams::from_args(&args.upstreams, timeout)?;
    let source = if args.in_cluster {
        Source::InCluster
    } else if let Some(path) = &args.kubeconfig {
        Source::File(path, args.context.as_deref())
    } else {
        Source::Default(args.context.as_deref())
    };
    upstreams.kube = Cluster::connect(source, timeout).await?;
    if upstreams.kube.is_none() {
        tracing::warn!("no kubeconfig found and --in-cluster not set: running without a cluster");
    }
    let options = AuthOptions {
        project_key: args.access.project_key.clone(),
        cache_ttl: args.access.auth_cache_ttl,
        authenticator,
        ..AuthOptions::default()
    };
    let state = AppState::with_auth(
        RunMode::Serve,
        auth_mode,
        upstreams,
        Spa::from_args(args.http.static_dir.as_deref()),
        options,
    )
    .with_settings_namespace(args.access.namespace.clone())
    .with_scrape_interval(args.prometheus_scrape_interval);
    // New namespaces get injection while the mesh is enabled, and rollouts
    // are judged (controllers on the replica holding the lease).
    let controllers = state.upstreams().kube.is_some().then(|| {
        spawn_controllers(
            state.clone(),
            args.access.namespace.clone(),
            LeaseTiming::default(),
        )
    });
    let served = listen(&args.http, state).await;
    if let Some(controllers) = controllers {
        controllers.abort();
    }
    served
}

/// `meshdeck demo`: the built-in simulated mesh.
pub async fn demo(args: DemoArgs) -> Result<()> {
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
) -> Result<Option<tokio::task::JoinHandle<()>>> {
    let Some(bind) = args.kube_api_bind else {
        return Ok(None);
    };
    let listener = TcpListener::bind(bind).await.map_err(|e| Error::Internal {
        context: format!("cannot listen on {bind} for the demo's Kubernetes API"),
        source: Some(Box::new(e)),
    })?;
    let addr = listener.local_addr().map_err(|e| Error::Internal {
        context: "reading the Kubernetes API's address".into(),
        source: Some(Box::new(e)),
    })?;
    if let Some(path) = &args.write_kubeconfig {
        let token = environment
            .mesh
            .users
            .iter()
            .find(|u| u.role == meshdeck_sim::model::DemoRole::Owner)
            .map(|u| u.token.clone())
            .unwrap_or_default();
        std::fs::write(path, demo_kubeconfig(&format!("http://{addr}"), &token)).map_err(|e| {
            Error::Internal {
                context: format!("writing the kubeconfig {}", path.display()),
                source: Some(Box::new(e)),
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
pub fn demo_kubeconfig(server: &str, token: &str) -> String {
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

async fn listen(http: &HttpArgs, state: AppState) -> Result<()> {
    let state = state
        .with_metrics_limits(http.metrics.limits())
        .with_graph_limits(http.graph.limits())
        .with_cache_max_bytes(usize::try_from(http.cache_max_bytes).unwrap_or(usize::MAX));
    let listener = TcpListener::bind(http.bind)
        .await
        .map_err(|e| Error::Internal {
            context: format!("cannot listen on {}", http.bind),
            source: Some(Box::new(e)),
        })?;
    let addr = listener.local_addr().map_err(|e| Error::Internal {
        context: "reading the listening address".into(),
        source: Some(Box::new(e)),
    })?;
    let metrics = match http.metrics_bind {
        Some(bind) => {
            let listener = TcpListener::bind(bind).await.map_err(|e| Error::Internal {
                context: format!("cannot listen on {bind} for meshdeck's metrics"),
                source: Some(Box::new(e)),
            })?;
            tracing::info!(addr = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(), "meshdeck's own metrics at /metrics");
            let router = crate::selfmetrics::router(state.clone());
            Some(AbortOnDrop(tokio::spawn(serve_on(
                listener,
                router,
                http.serve_options(),
                std::future::pending(),
            ))))
        }
        None => None,
    };
    tracing::info!(%addr, mode = ?state.mode(), "meshdeck is listening");
    // Printed on stdout, not only logged: scripts and people look for it.
    println!("meshdeck is ready: open http://{addr}/");
    // Returns within the shutdown grace of the signal, whatever clients do,
    // so `demo` goes on to stop its children.
    serve_on(
        listener,
        crate::router(state),
        http.serve_options(),
        shutdown_signal(),
    )
    .await;
    drop(metrics);
    tracing::info!("meshdeck stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
