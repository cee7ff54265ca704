//! `GET /api/mesh`, `POST /api/mesh/enable` and `POST /api/mesh/disable`:
//! the mesh for the whole cluster, for owners only.

use app::types::{MeshChange, MeshStatus};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::access::AccessScope;
use crate::enablement::{self, mesh};
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

const WHAT: &str = "enabling or disabling the mesh for the cluster";

/// Control plane, ingresses and what meshdeck created.
async fn mesh_get(State(state): State<AppState>, scope: AccessScope) -> Result<Json<MeshStatus>> {
    scope.require_owner("the mesh's cluster-level state")?;
    let client = enablement::client(&state)?;
    Ok(Json(
        mesh::status(&client, state.settings_namespace()).await?,
    ))
}

/// Enables the mesh with the stored settings.
async fn mesh_enable(
    State(state): State<AppState>,
    scope: AccessScope,
    ApiQuery(query): ApiQuery<MutationQuery>,
) -> Result<Json<MeshChange>> {
    scope.require_owner(WHAT)?;
    let client = enablement::client(&state)?;
    let change = mesh::enable(&client, state.settings_namespace(), query.dry_run).await?;
    Ok(Json(change))
}

/// Removes what enabling created.
async fn mesh_disable(
    State(state): State<AppState>,
    scope: AccessScope,
    ApiQuery(query): ApiQuery<MutationQuery>,
) -> Result<Json<MeshChange>> {
    scope.require_owner(WHAT)?;
    let client = enablement::client(&state)?;
    let change = mesh::disable(&client, state.settings_namespace(), query.dry_run).await?;
    Ok(Json(change))
}
