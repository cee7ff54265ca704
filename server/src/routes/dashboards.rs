//! `GET /api/dashboards/{mesh|service|workload}`: the built-in dashboards
//! (owners only).

use app::types::{Dashboard, DashboardKind};
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};

use crate::access::Owner;
use crate::dashboards::{self, DashboardParams};
use crate::error::{Error, Result};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new().route("/dashboards/{kind}", get(dashboards_get))
}

/// One dashboard's panels for `namespace`/`name` over `range` (or `start`/`end`).
async fn dashboards_get(
    State(state): State<AppState>,
    Owner(scope): Owner,
    Path(kind): Path<String>,
    ApiQuery(params): ApiQuery<DashboardParams>,
) -> Result<Json<Dashboard>> {
    let kind = DashboardKind::parse(&kind).ok_or_else(|| {
        Error::NotFound(format!(
            "no dashboard named {kind:?}; use mesh, service or workload"
        ))
    })?;
    let now = meshdeck_sim::live::now_s();
    dashboards::dashboard(&state, &scope, kind, &params, now)
        .await
        .map(Json)
}
