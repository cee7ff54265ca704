//! `GET /api/metrics`: the five traffic charts and the top-10 lists.

use std::sync::Arc;

use app::types::{ErrorBody, MetricsReport, MetricsTargets};
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::AccessScope;
use crate::error::Result;
use crate::extract::ApiQuery;
use crate::metrics;
use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(metrics_get))
        .routes(routes!(metrics_targets_get))
}

/// Charts and top lists for `scope`, `namespace`, `name`, `direction` over
/// `range` (or `start`/`end`) every `step` seconds.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "metrics",
    params(app::types::MetricsQuery),
    responses(
        (status = 200, description = "Success rate, request volume, 4xx, 5xx and request duration, and the top lists", body = MetricsReport),
        (status = 400, description = "A parameter is missing or malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "The caller may not see this scope", body = ErrorBody),
        (status = 503, description = "Prometheus is not configured or does not answer", body = ErrorBody),
    ),
)]
async fn metrics_get(
    State(state): State<AppState>,
    scope: AccessScope,
    ApiQuery(params): ApiQuery<app::types::MetricsQuery>,
) -> Result<Json<Arc<MetricsReport>>> {
    let now = state.now_s();
    metrics::report(&state, &scope, &params, now)
        .await
        .map(Json)
}

/// Projects, namespaces, services and workloads the caller may pick.
#[utoipa::path(
    get,
    path = "/metrics/targets",
    tag = "metrics",
    responses(
        (status = 200, description = "What the caller may chart", body = MetricsTargets),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 503, description = "Prometheus or the Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
async fn metrics_targets_get(
    State(state): State<AppState>,
    scope: AccessScope,
) -> Result<Json<MetricsTargets>> {
    metrics::targets(&state, &scope, state.now_s())
        .await
        .map(Json)
}
