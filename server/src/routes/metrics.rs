//! `GET /api/metrics`: the five traffic charts and the top-10 lists.

use std::sync::Arc;

use app::types::{MetricsReport, MetricsTargets};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::access::AccessScope;
use crate::error::Result;
use crate::extract::ApiQuery;
use crate::metrics::{self, MetricsParams};
use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/metrics", get(metrics_get))
        .route("/metrics/targets", get(metrics_targets_get))
}

/// Charts and top lists for `scope`, `namespace`, `name`, `direction` over
/// `range` (or `start`/`end`) every `step` seconds.
async fn metrics_get(
    State(state): State<AppState>,
    scope: AccessScope,
    ApiQuery(params): ApiQuery<MetricsParams>,
) -> Result<Json<Arc<MetricsReport>>> {
    let now = meshdeck_sim::live::now_s();
    metrics::report(&state, &scope, &params, now)
        .await
        .map(Json)
}

/// Projects, namespaces, services and workloads the caller may pick.
async fn metrics_targets_get(
    State(state): State<AppState>,
    scope: AccessScope,
) -> Result<Json<MetricsTargets>> {
    metrics::targets(&state, &scope, meshdeck_sim::live::now_s())
        .await
        .map(Json)
}
