//! `POST /api/prometheus/query`: the PromQL console (owners only).

use app::types::{PromQueryAnswer, PromQueryRequest};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};

use crate::access::Owner;
use crate::console;
use crate::error::Result;
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::upstream::prometheus::ResultLimits;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new().route("/prometheus/query", post(prometheus_query))
}

/// Runs an instant or range query as written, within the result limits.
async fn prometheus_query(
    State(state): State<AppState>,
    Owner(scope): Owner,
    ApiJson(request): ApiJson<PromQueryRequest>,
) -> Result<Json<PromQueryAnswer>> {
    let prometheus = console::prometheus(&state)?;
    let now = meshdeck_sim::live::now_s();
    console::run(&prometheus, &scope, &request, now, &ResultLimits::default())
        .await
        .map(Json)
}
