//! Shared, cheaply clonable state every handler receives.

use std::sync::Arc;

use app::types::{AuthMode, RunMode};

use app::types::MetricsReport;

use crate::cache::Coalescer;
use crate::metrics::MetricsLimits;
use crate::spa::Spa;
use crate::upstream::Upstreams;

/// Everything a request may need; the server keeps nothing durable itself.
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
}

impl AppState {
    /// State for a server in `mode`, identifying callers by `auth_mode`.
    pub fn new(mode: RunMode, auth_mode: AuthMode, upstreams: Upstreams, spa: Spa) -> Self {
        AppState {
            inner: Arc::new(Inner {
                mode,
                auth_mode,
                upstreams,
                spa,
                metrics_cache: Coalescer::new(MetricsLimits::default().cache_ttl),
                metrics_limits: MetricsLimits::default(),
            }),
        }
    }

    /// The same state with other metrics limits (call before sharing it).
    pub fn with_metrics_limits(self, limits: MetricsLimits) -> Self {
        let inner = Arc::try_unwrap(self.inner).unwrap_or_else(|shared| Inner {
            mode: shared.mode,
            auth_mode: shared.auth_mode,
            upstreams: shared.upstreams.clone(),
            spa: shared.spa.clone(),
            metrics_limits: shared.metrics_limits.clone(),
            metrics_cache: Coalescer::new(shared.metrics_limits.cache_ttl),
        });
        AppState {
            inner: Arc::new(Inner {
                metrics_cache: Coalescer::new(limits.cache_ttl),
                metrics_limits: limits,
                ..inner
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
}
