//! `POST /api/prometheus/query`: the PromQL console (owners only).

use app::types::{ErrorBody, PromQueryAnswer, PromQueryRequest};
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::Owner;
use crate::console;
use crate::error::Result;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::upstream::prometheus::ResultLimits;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(prometheus_query))
}

/// Runs an instant or range query as written, within the result limits.
#[utoipa::path(
    post,
    path = "/prometheus/query",
    tag = "console",
    request_body = PromQueryRequest,
    responses(
        (status = 200, description = "Prometheus' answer, within the result limits", body = PromQueryAnswer),
        (status = 400, description = "Malformed JSON, or PromQL Prometheus could not parse", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "Only cluster owners may use it", body = ErrorBody),
        (status = 422, description = "The request does not fit (range, step, result size)", body = ErrorBody),
        (status = 503, description = "Prometheus is not configured or does not answer", body = ErrorBody),
    ),
)]
async fn prometheus_query(
    State(state): State<AppState>,
    scope: Owner,
    ApiJson(request): ApiJson<PromQueryRequest>,
) -> Result<Json<PromQueryAnswer>> {
    let prometheus = state.prometheus()?.clone();
    let now = state.now_s();
    console::query(&prometheus, &scope, &request, now, &ResultLimits::default())
        .await
        .map(Json)
}
