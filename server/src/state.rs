//! Shared, cheaply clonable state every handler receives.

use std::sync::Arc;

use app::types::{AuthMode, DemoIdentity, MetricsReport, RunMode};

use crate::auth::{Auth, AuthOptions};
use crate::cache::Coalescer;
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
    metrics_limits: MetricsLimits,
    metrics_cache: Coalescer<Arc<MetricsReport>>,
    graph_limits: GraphLimits,
    graph_cache: Coalescer<Arc<Fetched>>,
    auth: Auth,
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
        let auth = Auth::new(upstreams.kube.clone(), options);
        AppState {
            inner: Arc::new(Inner {
                mode,
                auth_mode,
                upstreams,
                spa,
                metrics_cache: Coalescer::new(MetricsLimits::default().cache_ttl),
                metrics_limits: MetricsLimits::default(),
                graph_cache: Coalescer::new(GraphLimits::default().cache_ttl),
                graph_limits: GraphLimits::default(),
                auth,
            }),
        }
    }

    /// The same state with other metrics limits (and a fresh metrics cache
    /// with their time to live).
    pub fn with_metrics_limits(self, limits: MetricsLimits) -> Self {
        let i = &self.inner;
        AppState {
            inner: Arc::new(Inner {
                mode: i.mode,
                auth_mode: i.auth_mode,
                upstreams: i.upstreams.clone(),
                spa: i.spa.clone(),
                metrics_cache: Coalescer::new(limits.cache_ttl),
                metrics_limits: limits,
                graph_cache: Coalescer::new(i.graph_limits.cache_ttl),
                graph_limits: i.graph_limits.clone(),
                auth: i.auth.clone(),
            }),
        }
    }

    /// Limits of metrics requests.
    pub fn metrics_limits(&self) -> &MetricsLimits {
        &self.inner.metrics_limits
    }

    /// Shared, briefly cached metrics answers.
    pub fn metrics_cache(&self) -> &Coalescer<Arc<MetricsReport>> {
        &self.inner.metrics_cache
    }

    /// The same state with other graph limits (and a fresh graph cache
    /// with their time to live).
    pub fn with_graph_limits(self, limits: GraphLimits) -> Self {
        let i = &self.inner;
        AppState {
            inner: Arc::new(Inner {
                mode: i.mode,
                auth_mode: i.auth_mode,
                upstreams: i.upstreams.clone(),
                spa: i.spa.clone(),
                metrics_cache: Coalescer::new(i.metrics_limits.cache_ttl),
                metrics_limits: i.metrics_limits.clone(),
                graph_cache: Coalescer::new(limits.cache_ttl),
                graph_limits: limits,
                auth: i.auth.clone(),
            }),
        }
    }

    /// Limits of graph requests.
    pub fn graph_limits(&self) -> &GraphLimits {
        &self.inner.graph_limits
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
            AuthMode::Token => Vec::new(),
        }
    }
}
