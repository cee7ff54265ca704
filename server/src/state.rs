//! Shared, cheaply clonable state every handler receives.

use std::sync::Arc;

use app::types::{AuthMode, DemoIdentity, MetricsReport, RunMode, UpstreamKind, UpstreamStatus};

use crate::enablement::settings::Parsed;

use crate::auth::cache::TtlCache;
use crate::auth::{Auth, AuthOptions};
use crate::cache::Coalescer;
use crate::cluster::Cluster;
use crate::error::{Error, Result};
use crate::graph::{Fetched, GraphLimits};
use crate::metrics::MetricsLimits;
use crate::spa::Spa;
use crate::upstream::Upstreams;

/// Everything a request may need; the server keeps nothing durable itself
/// (the identity and role caches are short-lived copies of the cluster's
/// answers).
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    mode: RunMode,
    auth_mode: AuthMode,
    upstreams: Upstreams,
    spa: Spa,
    auth: Auth,
    options: StateOptions,
    metrics_cache: Coalescer<Arc<MetricsReport>>,
    graph_cache: Coalescer<Arc<Fetched>>,
    settings_cache: Arc<TtlCache<(), Arc<Parsed>>>,
    /// The last probe of every upstream and when it was made.
    probes: tokio::sync::Mutex<Option<(std::time::Instant, Arc<Vec<UpstreamStatus>>)>>,
}

/// How long one probe of the upstreams answers `/api/status` (public, so
/// anyone could otherwise make meshdeck probe every upstream at will).
const PROBE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// The tunable parts of the state; the caches follow from them.
#[derive(Clone)]
struct StateOptions {
    metrics_limits: MetricsLimits,
    graph_limits: GraphLimits,
    settings_namespace: String,
}

/// How long the mesh settings read for access decisions are reused.
const SETTINGS_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

impl Inner {
    /// State with fresh caches sized by `options`.
    fn build(
        mode: RunMode,
        auth_mode: AuthMode,
        upstreams: Upstreams,
        spa: Spa,
        auth: Auth,
        options: StateOptions,
    ) -> Self {
        Inner {
            mode,
            auth_mode,
            upstreams,
            spa,
            auth,
            metrics_cache: Coalescer::new(options.metrics_limits.cache_ttl),
            graph_cache: Coalescer::new(options.graph_limits.cache_ttl),
            settings_cache: Arc::new(TtlCache::new(SETTINGS_CACHE_TTL, 1)),
            probes: tokio::sync::Mutex::new(None),
            options,
        }
    }
}

impl AppState {
    /// State for a server in `mode`, identifying callers by `auth_mode`,
    /// with the default [`AuthOptions`].
    pub fn new(mode: RunMode, auth_mode: AuthMode, upstreams: Upstreams, spa: Spa) -> Self {
        Self::with_auth(mode, auth_mode, upstreams, spa, AuthOptions::default())
    }

    /// Like [`AppState::new`], resolving identities and roles with `options`
    /// through `upstreams.kube`.
    pub fn with_auth(
        mode: RunMode,
        auth_mode: AuthMode,
        upstreams: Upstreams,
        spa: Spa,
        options: AuthOptions,
    ) -> Self {
        let auth = Auth::new(upstreams.kube.as_ref().map(|c| c.own().clone()), options);
        let options = StateOptions {
            metrics_limits: MetricsLimits::default(),
            graph_limits: GraphLimits::default(),
            settings_namespace: crate::enablement::settings::DEFAULT_NAMESPACE.to_owned(),
        };
        AppState {
            inner: Arc::new(Inner::build(mode, auth_mode, upstreams, spa, auth, options)),
        }
    }

    /// The same state with `change` applied to its options (and fresh caches).
    fn with_options(self, change: impl FnOnce(&mut StateOptions)) -> Self {
        let i = &self.inner;
        let mut options = i.options.clone();
        change(&mut options);
        AppState {
            inner: Arc::new(Inner::build(
                i.mode,
                i.auth_mode,
                i.upstreams.clone(),
                i.spa.clone(),
                i.auth.clone(),
                options,
            )),
        }
    }

    /// The same state with other metrics limits.
    pub fn with_metrics_limits(self, limits: MetricsLimits) -> Self {
        self.with_options(|o| o.metrics_limits = limits)
    }

    /// The same state keeping the mesh settings in `namespace`.
    pub fn with_settings_namespace(self, namespace: impl Into<String>) -> Self {
        let namespace = namespace.into();
        self.with_options(|o| o.settings_namespace = namespace)
    }

    /// The same state with other graph limits.
    pub fn with_graph_limits(self, limits: GraphLimits) -> Self {
        self.with_options(|o| o.graph_limits = limits)
    }

    /// The mesh settings as last read (briefly cached; cleared on save).
    pub fn settings_cache(&self) -> &TtlCache<(), Arc<Parsed>> {
        &self.inner.settings_cache
    }

    /// meshdeck's own namespace, where the mesh settings ConfigMap lives.
    pub fn settings_namespace(&self) -> &str {
        &self.inner.options.settings_namespace
    }

    /// Limits of metrics requests.
    pub fn metrics_limits(&self) -> &MetricsLimits {
        &self.inner.options.metrics_limits
    }

    /// Shared, briefly cached metrics answers.
    pub fn metrics_cache(&self) -> &Coalescer<Arc<MetricsReport>> {
        &self.inner.metrics_cache
    }

    /// Limits of graph requests.
    pub fn graph_limits(&self) -> &GraphLimits {
        &self.inner.options.graph_limits
    }

    /// Shared, briefly cached graph inputs.
    pub fn graph_cache(&self) -> &Coalescer<Arc<Fetched>> {
        &self.inner.graph_cache
    }

    /// `serve` or `demo`.
    pub fn mode(&self) -> RunMode {
        self.inner.mode
    }

    /// How callers are identified.
    pub fn auth_mode(&self) -> AuthMode {
        self.inner.auth_mode
    }

    /// The outside systems.
    pub fn upstreams(&self) -> &Upstreams {
        &self.inner.upstreams
    }

    /// Every upstream's state, probed at most once per few seconds:
    /// requests arriving while a probe runs wait for it and share it (the
    /// wait is bounded by the upstreams' timeouts).
    pub async fn upstream_status(&self) -> Arc<Vec<UpstreamStatus>> {
        let mut last = self.inner.probes.lock().await;
        if let Some((at, probes)) = last.as_ref() {
            if at.elapsed() < PROBE_TTL {
                return probes.clone();
            }
        }
        let probes = Arc::new(self.inner.upstreams.probe_all().await);
        *last = Some((std::time::Instant::now(), probes.clone()));
        probes
    }

    /// The cluster, or 503 when none is configured.
    pub fn cluster(&self) -> Result<&Cluster> {
        self.inner
            .upstreams
            .kube
            .as_ref()
            .ok_or_else(|| Error::Upstream {
                upstream: UpstreamKind::Kubernetes,
                reason: "no cluster is configured (pass --kubeconfig or --in-cluster)".into(),
            })
    }

    /// The built UI.
    pub fn spa(&self) -> &Spa {
        &self.inner.spa
    }

    /// Identity and role resolution (TokenReview, SubjectAccessReview).
    pub fn auth(&self) -> &Auth {
        &self.inner.auth
    }

    /// The identities to switch between: in demo auth mode only.
    pub fn demo_identities(&self) -> Vec<DemoIdentity> {
        match self.auth_mode() {
            AuthMode::Demo => self.auth().options().demo_identities.clone(),
            AuthMode::Token | AuthMode::Proxy => Vec::new(),
        }
    }
}
