//! `GET /api/dashboards/{mesh|service|workload}`: the built-in dashboards
//! (owners only).

use app::types::{Dashboard, DashboardKind, ErrorBody};
use axum::Json;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::Owner;
use crate::dashboards;
use crate::error::{Error, Result};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(dashboards_get))
}

/// One dashboard's panels for `namespace`/`name` over `range` (or `start`/`end`).
#[utoipa::path(
    get,
    path = "/dashboards/{kind}",
    tag = "dashboards",
    params(
        ("kind" = DashboardKind, Path, description = "`mesh`, `service` or `workload`"),
        app::types::DashboardQuery,
    ),
    responses(
        (status = 200, description = "The dashboard's panels with their series", body = Dashboard),
        (status = 400, description = "A parameter is missing or malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "Only cluster owners may use it", body = ErrorBody),
        (status = 404, description = "No dashboard of that kind", body = ErrorBody),
        (status = 503, description = "Prometheus is not configured or does not answer", body = ErrorBody),
    ),
)]
async fn dashboards_get(
    State(state): State<AppState>,
    scope: Owner,
    Path(kind): Path<String>,
    ApiQuery(params): ApiQuery<app::types::DashboardQuery>,
) -> Result<Json<Dashboard>> {
    let kind = DashboardKind::parse(&kind).ok_or_else(|| {
        Error::NotFound(format!(
            "no dashboard named {kind:?}; use mesh, service or workload"
        ))
    })?;
    let now = state.now_s();
    dashboards::dashboard(&state, &scope, kind, &params, now)
        .await
        .map(Json)
}
