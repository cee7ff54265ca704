//! `GET /api/status`: how the console is wired and which upstreams answer.
//! Public (no token): the overview page and health checks read it.
//! `GET /api/status/telemetry`: whether Prometheus holds the mesh's
//! metrics, per namespace the caller may see (signed in: namespace names
//! are not public).

use app::types::{ErrorBody, Status, TelemetryReport};
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status_get))
        .routes(routes!(telemetry_get))
}

/// Whether Prometheus holds the mesh's metrics, for each namespace with
/// sidecars that the caller may see, with the likely cause when not.
#[utoipa::path(
    get,
    path = "/status/telemetry",
    tag = "status",
    responses(
        (status = 200, description = "The telemetry check", body = TelemetryReport),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 503, description = "Prometheus or the Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
#[tracing::instrument(name = "status.telemetry", skip_all)]
async fn telemetry_get(
    State(state): State<AppState>,
    scope: crate::access::AccessScope,
) -> crate::error::Result<Json<TelemetryReport>> {
    crate::telemetry_check::report(&state, &scope)
        .await
        .map(Json)
}

#[utoipa::path(
    get,
    path = "/status",
    tag = "status",
    responses((status = 200, description = "Mode, auth mode, every upstream's state and setup problems", body = Status)),
)]
/// Every upstream's state (probed concurrently, each bounded by its
/// timeout, and at most once per few seconds however often this is asked).
async fn status_get(State(state): State<AppState>) -> Json<Status> {
    let (probes, problems) = futures::join!(state.upstream_status(), problems(&state));
    Json(Status {
        version: env!("CARGO_PKG_VERSION").into(),
        mode: state.mode(),
        auth_mode: state.auth_mode(),
        upstreams: probes.as_ref().clone(),
        problems,
        demo_identities: state.demo_identities(),
    })
}

/// What is wrong with meshdeck's setup: today, whether it can read the
/// mesh settings (without them members get no graph or traces).
async fn problems(state: &AppState) -> Vec<String> {
    if state.cluster().is_err() {
        return Vec::new();
    }
    match crate::enablement::settings::current(state).await {
        Ok(parsed) => parsed
            .problem
            .iter()
            .map(|p| {
                format!(
                    "the stored mesh settings cannot be read ({p}); the last good settings stay in force until an owner resets them on the Settings page"
                )
            })
            .collect(),
        Err(err) => vec![format!(
            "meshdeck cannot read the mesh settings, so project members see no graph or traces until it can: {}",
            err.public_message()
        )],
    }
}
