//! Canary rollouts: `GET /api/rollouts[?namespace=]`, `POST /api/rollouts`
//! (start; 201), `GET /api/rollouts/{ns}/{service}`, its `/charts`, and
//! `POST /api/rollouts/{ns}/{service}/{pause|resume|abort|promote|skip}`.
//! Members see and act on rollouts in their namespaces only; every action
//! is allowed by the Kubernetes RBAC of the writes it makes.

use app::types::RolloutListQuery;
use app::types::{ErrorBody, Rollout, RolloutCharts, RolloutControl, RolloutList, RolloutStart};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::services::parse;
use crate::access::AccessScope;
use crate::error::{Error, Result};
use crate::extract::ApiQuery;
use crate::rollouts::ops;
use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, start))
        .routes(routes!(one))
        .routes(routes!(charts))
        .routes(routes!(control))
}

/// The rollouts in the namespaces the caller may see.
#[utoipa::path(
    get,
    path = "/rollouts",
    tag = "rollouts",
    params(RolloutListQuery),
    responses(
        (status = 200, description = "Rollouts, running first", body = RolloutList),
        (status = 400, description = "A parameter is malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "The caller may not see the namespace", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
#[tracing::instrument(name = "rollouts.list", skip_all)]
async fn list(
    State(state): State<AppState>,
    scope: AccessScope,
    ApiQuery(query): ApiQuery<RolloutListQuery>,
) -> Result<Json<RolloutList>> {
    ops::list(&state, &scope, query.namespace.as_deref())
        .await
        .map(Json)
}

/// Starts a canary rollout of a service's canary version by steps of
/// traffic weight, judged on the mesh's metrics after each step.
#[utoipa::path(
    post,
    path = "/rollouts",
    tag = "rollouts",
    request_body = RolloutStart,
    responses(
        (status = 201, description = "The rollout, started", body = Rollout),
        (status = 400, description = "The JSON is malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "The caller may not see the namespace, or may not write the traffic objects", body = ErrorBody),
        (status = 404, description = "No such service", body = ErrorBody),
        (status = 409, description = "A rollout of the service is already running", body = ErrorBody),
        (status = 422, description = "The plan is invalid; every problem is named", body = ErrorBody),
        (status = 503, description = "Prometheus or the Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
#[tracing::instrument(name = "rollouts.start", skip_all)]
async fn start(
    State(state): State<AppState>,
    scope: AccessScope,
    body: Bytes,
) -> Result<(StatusCode, Json<Rollout>)> {
    let request: RolloutStart = parse(&body)?;
    let rollout = ops::start(&state, &scope, &request).await?;
    Ok((StatusCode::CREATED, Json(rollout)))
}

/// One rollout: plan, status, analysis and timeline.
#[utoipa::path(
    get,
    path = "/rollouts/{ns}/{service}",
    tag = "rollouts",
    params(("ns" = String, Path, description = "Namespace", pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length = 63),
        ("service" = String, Path, description = "Service", pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length = 63)),
    responses(
        (status = 200, description = "The rollout", body = Rollout),
        (status = 400, description = "A name is malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "The caller may not see the namespace", body = ErrorBody),
        (status = 404, description = "No rollout of this service", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
#[tracing::instrument(name = "rollouts.get", skip_all)]
async fn one(
    State(state): State<AppState>,
    scope: AccessScope,
    Path((ns, service)): Path<(String, String)>,
) -> Result<Json<Rollout>> {
    ops::get(&state, &scope, &ns, &service).await.map(Json)
}

/// Canary and stable side by side (success rate, request rate, p99) with
/// the step marks.
#[utoipa::path(
    get,
    path = "/rollouts/{ns}/{service}/charts",
    tag = "rollouts",
    params(("ns" = String, Path, description = "Namespace", pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length = 63),
        ("service" = String, Path, description = "Service", pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length = 63)),
    responses(
        (status = 200, description = "The charts", body = RolloutCharts),
        (status = 400, description = "A name is malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "The caller may not see the namespace", body = ErrorBody),
        (status = 404, description = "No rollout of this service", body = ErrorBody),
        (status = 503, description = "Prometheus or the Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
#[tracing::instrument(name = "rollouts.charts", skip_all)]
async fn charts(
    State(state): State<AppState>,
    scope: AccessScope,
    Path((ns, service)): Path<(String, String)>,
) -> Result<Json<RolloutCharts>> {
    ops::charts(&state, &scope, &ns, &service).await.map(Json)
}

/// Pauses, resumes, aborts (back to stable), promotes (all to canary) or
/// skips the wait of a rollout.
#[utoipa::path(
    post,
    path = "/rollouts/{ns}/{service}/{action}",
    tag = "rollouts",
    params(
        ("ns" = String, Path, description = "Namespace", pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length = 63),
        ("service" = String, Path, description = "Service", pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length = 63),
        ("action" = RolloutControl, Path, description = "`pause`, `resume`, `abort`, `promote` or `skip`"),
    ),
    responses(
        (status = 200, description = "The rollout after the action", body = Rollout),
        (status = 400, description = "A name is malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "The caller may not see the namespace, or may not write the traffic objects", body = ErrorBody),
        (status = 404, description = "No such action, or no rollout of this service", body = ErrorBody),
        (status = 409, description = "The action does not apply in the rollout's state, or it changed underneath", body = ErrorBody),
        (status = 503, description = "Prometheus or the Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
#[tracing::instrument(name = "rollouts.control", skip_all)]
async fn control(
    State(state): State<AppState>,
    scope: AccessScope,
    Path((ns, service, action)): Path<(String, String, String)>,
) -> Result<Json<Rollout>> {
    let control = RolloutControl::parse(&action).ok_or_else(|| {
        Error::NotFound(format!(
            "no rollout action {action:?}; one of: pause, resume, abort, promote, skip"
        ))
    })?;
    ops::control(&state, &scope, &ns, &service, control)
        .await
        .map(Json)
}
