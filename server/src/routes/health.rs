//! `GET /api/health`: liveness.

use app::types::Health;
use axum::routing::get;
use axum::{Json, Router};

use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health_get))
}

/// The process is up; checks nothing else, so probes never flap with upstreams.
async fn health_get() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}
