//! Starting and stopping the server: build the state from the command line,
//! listen, and shut down gracefully on Ctrl-C or SIGTERM (bounded by the
//! shutdown grace; see [`crate::serve`]).

use app::types::{AuthMode, RunMode};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::auth::{AuthOptions, Authenticator};
use crate::cluster::lease::{self, AbortOnDrop, CONTROLLERS_LEASE, LeaseTiming};
use crate::cluster::{Cluster, Source};
use crate::config::{AuthModeArg, HttpArgs, ServeArgs};
use crate::enablement::autoinject;
use crate::error::{Cause, Error};
use crate::rollouts;
use crate::serve::serve_on;
use crate::spa::Spa;
use crate::state::AppState;
use crate::upstream::Upstreams;

/// Why the server could not start, or stopped serving: printed by `main`
/// with its causes; never an HTTP answer (those are [`Error`]).
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A combination of flags that the command line's parser cannot rule out.
    #[error("{0}")]
    Flag(String),
    /// An address could not be listened on.
    #[error("cannot listen on {addr} for {what}")]
    Listen {
        /// What was to listen there.
        what: &'static str,
        /// The address.
        addr: String,
        /// Why not.
        #[source]
        source: std::io::Error,
    },
    /// A file asked for could not be written.
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// Why not.
        #[source]
        source: std::io::Error,
    },
    /// The demo's simulator, history or Prometheus did not start.
    #[error("the demo could not start: {what}")]
    Demo {
        /// What failed.
        what: String,
        /// Why, when another error says it.
        #[source]
        source: Option<Cause>,
    },
    /// An upstream could not be set up (a URL, the kubeconfig, the cluster).
    #[error(transparent)]
    Upstream(#[from] Error),
}

impl StartupError {
    /// A listener for `what` on `addr` could not be made.
    pub fn listen(
        what: &'static str,
        addr: impl std::fmt::Display,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let addr = addr.to_string();
        move |source| StartupError::Listen { what, addr, source }
    }
}

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
pub async fn serve(args: ServeArgs) -> Result<(), StartupError> {
    let (auth_mode, authenticator) = match args.auth_mode {
        AuthModeArg::Demo => {
            return Err(StartupError::Flag(
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

/// Serves `state` on `http.bind` (and meshdeck's own metrics on
/// `http.metrics_bind`) until Ctrl-C or SIGTERM.
pub(crate) async fn listen(http: &HttpArgs, state: AppState) -> Result<(), StartupError> {
    let state = state
        .with_metrics_limits(http.metrics.limits())
        .with_graph_limits(http.graph.limits())
        .with_cache_max_bytes(usize::try_from(http.cache_max_bytes).unwrap_or(usize::MAX));
    let listener = TcpListener::bind(http.bind)
        .await
        .map_err(StartupError::listen("the console", http.bind))?;
    let addr = listener
        .local_addr()
        .map_err(StartupError::listen("the console", http.bind))?;
    let metrics = match http.metrics_bind {
        Some(bind) => {
            let listener = TcpListener::bind(bind)
                .await
                .map_err(StartupError::listen("meshdeck's own metrics", bind))?;
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
