//! `GET /api/mesh`, `POST /api/mesh/enable` and `POST /api/mesh/disable`:
//! the mesh for the whole cluster, for owners only. Enabling and disabling
//! are written by meshdeck's own account, and only after SubjectAccessReviews
//! show that the owner asking may make every one of those writes
//! themselves.

use app::types::{MeshChange, MeshStatus};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::access::Owner;
use crate::cluster::apply::ApplyOptions;
use crate::enablement::mesh;
use crate::error::Result;
use crate::extract::ApiQuery;
use crate::routes::namespaces::MutationQuery;
use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/mesh", get(mesh_get))
        .route("/mesh/enable", post(mesh_enable))
        .route("/mesh/disable", post(mesh_disable))
}

/// `?dryRun=true` previews; `?force=true` takes over fields other managers
/// own (the API server named them in an earlier 409).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnableQuery {
    /// Preview only.
    #[serde(rename = "dryRun", default)]
    pub dry_run: bool,
    /// Take over conflicting fields.
    #[serde(default)]
    pub force: bool,
}

/// What enabling works with besides the cluster.
fn context(state: &AppState) -> mesh::Context {
    mesh::Context {
        namespace: state.settings_namespace().to_owned(),
        grafana_flag: state.upstreams().grafana.is_some(),
    }
}

/// Control plane, ingresses, monitoring and what meshdeck created.
async fn mesh_get(State(state): State<AppState>, _owner: Owner) -> Result<Json<MeshStatus>> {
    let cluster = state.cluster()?;
    Ok(Json(mesh::status(cluster.own(), &context(&state)).await?))
}

/// Enables the mesh with the stored settings.
async fn mesh_enable(
    State(state): State<AppState>,
    Owner(scope): Owner,
    ApiQuery(query): ApiQuery<EnableQuery>,
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
async fn mesh_disable(
    State(state): State<AppState>,
    Owner(scope): Owner,
    ApiQuery(query): ApiQuery<MutationQuery>,
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
