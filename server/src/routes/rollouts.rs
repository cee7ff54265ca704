//! Canary rollouts: `GET /api/rollouts[?namespace=]`, `POST /api/rollouts`
//! (start; 201), `GET /api/rollouts/{ns}/{service}`, its `/charts`, and
//! `POST /api/rollouts/{ns}/{service}/{pause|resume|abort|promote|skip}`.
//! Members see and act on rollouts in their namespaces only; every action
//! is allowed by the Kubernetes RBAC of the writes it makes.

use app::types::{Rollout, RolloutCharts, RolloutControl, RolloutList, RolloutStart};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::StatusCode;
use serde::Deserialize;

use super::services::parse;
use crate::access::AccessScope;
use crate::error::{Error, Result};
use crate::extract::ApiQuery;
use crate::rollouts::ops;
use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rollouts", get(list).post(start))
        .route("/rollouts/{ns}/{service}", get(one))
        .route("/rollouts/{ns}/{service}/charts", get(charts))
        .route("/rollouts/{ns}/{service}/{action}", post(control))
}

/// `?namespace=`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    namespace: Option<String>,
}

#[tracing::instrument(name = "rollouts.list", skip_all)]
async fn list(
    State(state): State<AppState>,
    scope: AccessScope,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<RolloutList>> {
    ops::list(&state, &scope, query.namespace.as_deref())
        .await
        .map(Json)
}

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

#[tracing::instrument(name = "rollouts.get", skip_all)]
async fn one(
    State(state): State<AppState>,
    scope: AccessScope,
    Path((ns, service)): Path<(String, String)>,
) -> Result<Json<Rollout>> {
    ops::get(&state, &scope, &ns, &service).await.map(Json)
}

#[tracing::instrument(name = "rollouts.charts", skip_all)]
async fn charts(
    State(state): State<AppState>,
    scope: AccessScope,
    Path((ns, service)): Path<(String, String)>,
) -> Result<Json<RolloutCharts>> {
    ops::charts(&state, &scope, &ns, &service).await.map(Json)
}

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
