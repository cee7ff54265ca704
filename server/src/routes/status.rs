//! `GET /api/status`: how the console is wired and which upstreams answer.
//! Public (no token): the overview page and health checks read it.

use app::types::Status;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new().route("/status", get(status_get))
}

/// Probes every upstream now (concurrently, each bounded by its timeout).
async fn status_get(State(state): State<AppState>) -> Json<Status> {
    let upstreams = state.upstreams();
    Json(Status {
        version: env!("CARGO_PKG_VERSION").into(),
        mode: state.mode(),
        auth_mode: state.auth_mode(),
        upstreams: upstreams.probe_all().await,
        demo_identities: state.demo_identities(),
    })
}
