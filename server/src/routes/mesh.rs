//! `GET /api/mesh`, `POST /api/mesh/enable` and `POST /api/mesh/disable`:
//! the mesh for the whole cluster, for owners only. Enabling and disabling
//! are written by meshdeck's own account, and only after SubjectAccessReviews
//! show that the owner asking may make every one of those writes
//! themselves.

use app::types::{ApplyQuery, DryRunQuery};
use app::types::{ErrorBody, MeshChange, MeshStatus};
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::Owner;
use crate::cluster::apply::ApplyOptions;
use crate::enablement::mesh;
use crate::error::Result;
use crate::extract::ApiQuery;
use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(mesh_get))
        .routes(routes!(mesh_enable))
        .routes(routes!(mesh_disable))
}

/// What enabling works with besides the cluster.
fn context(state: &AppState) -> mesh::Context {
    mesh::Context {
        namespace: state.settings_namespace().to_owned(),
        grafana_flag: state.upstreams().grafana.is_some(),
    }
}

/// Control plane, ingresses, monitoring and what meshdeck created.
#[utoipa::path(
    get,
    path = "/mesh",
    tag = "enablement",
    responses(
        (status = 200, description = "The mesh's state", body = MeshStatus),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "Only cluster owners may use it", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
async fn mesh_get(State(state): State<AppState>, _owner: Owner) -> Result<Json<MeshStatus>> {
    let cluster = state.cluster()?;
    Ok(Json(mesh::status(cluster.own(), &context(&state)).await?))
}

/// Enables the mesh with the stored settings.
#[utoipa::path(
    post,
    path = "/mesh/enable",
    tag = "enablement",
    params(ApplyQuery),
    responses(
        (status = 200, description = "What was (or, with dryRun, would be) applied", body = MeshChange),
        (status = 400, description = "A parameter is malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "Only owners may, and only when Kubernetes would let them make every write", body = ErrorBody),
        (status = 409, description = "Another field manager owns a field (retry with force=true to take it over)", body = ErrorBody),
        (status = 422, description = "The stored settings cannot be read, or the API server refused an object", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
async fn mesh_enable(
    State(state): State<AppState>,
    scope: Owner,
    ApiQuery(query): ApiQuery<ApplyQuery>,
) -> Result<Json<MeshChange>> {
    let cluster = state.cluster()?;
    let ctx = context(&state);
    let prepared = mesh::prepare_enable(cluster.own(), &ctx).await?;
    scope.require_may(&state, &prepared.writes).await?;
    let options = ApplyOptions {
        dry_run: query.dry_run,
        force: query.force,
    };
    let change = mesh::enable(cluster.own(), &ctx, prepared, options).await?;
    if !change.dry_run {
        tracing::info!(user = %scope.user, "mesh enabled on their behalf");
    }
    Ok(Json(change))
}

/// Removes what enabling created.
#[utoipa::path(
    post,
    path = "/mesh/disable",
    tag = "enablement",
    params(DryRunQuery),
    responses(
        (status = 200, description = "What was (or, with dryRun, would be) removed", body = MeshChange),
        (status = 400, description = "A parameter is malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "Only owners may, and only when Kubernetes would let them make every write", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
async fn mesh_disable(
    State(state): State<AppState>,
    scope: Owner,
    ApiQuery(query): ApiQuery<DryRunQuery>,
) -> Result<Json<MeshChange>> {
    let cluster = state.cluster()?;
    let ctx = context(&state);
    let prepared = mesh::prepare_disable(cluster.own(), &ctx).await?;
    scope.require_may(&state, &prepared.writes).await?;
    let change = mesh::disable(cluster.own(), &ctx, prepared, query.dry_run).await?;
    if !change.dry_run {
        tracing::info!(user = %scope.user, "mesh disabled on their behalf");
    }
    Ok(Json(change))
}
