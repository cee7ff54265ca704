//! `GET /api/health`: liveness (the process serves). `GET /api/ready`:
//! readiness (its Kubernetes API answers meshdeck's probe), for a
//! Deployment's readiness probe; the probes are those of `/api/status`,
//! shared and refreshed at most every few seconds whoever asks, so probes
//! cannot multiply upstream calls.

use app::types::{Health, Readiness, UpstreamKind};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health_get))
        .routes(routes!(ready_get))
}

/// Readiness: whether the Kubernetes API answers (a Deployment's
/// readiness probe), with every upstream's state.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "status",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Not ready; `reason` says why", body = Readiness),
    ),
)]
async fn ready_get(State(state): State<AppState>) -> Response {
    let probes = state.upstream_status().await;
    let kube = probes.iter().find(|p| p.kind == UpstreamKind::Kubernetes);
    let reason = match kube {
        Some(p) if p.reachable == Some(true) => None,
        Some(p) if p.configured => Some(format!(
            "the Kubernetes API does not answer: {}",
            p.detail.as_deref().unwrap_or("no answer in time")
        )),
        _ => Some("no Kubernetes API is configured (pass --kubeconfig or --in-cluster)".into()),
    };
    let status = if reason.is_none() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Readiness {
        ready: reason.is_none(),
        reason,
        upstreams: probes.as_ref().clone(),
    };
    (status, Json(body)).into_response()
}

/// The process is up; checks nothing else, so probes never flap with upstreams.
#[utoipa::path(
    get,
    path = "/health",
    tag = "status",
    responses((status = 200, description = "The process serves", body = Health)),
)]
async fn health_get() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}
