//! Shared, cheaply clonable state every handler receives.

use std::sync::Arc;

use app::types::{AuthMode, RunMode};

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
            }),
        }
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
