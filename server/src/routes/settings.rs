//! `GET/PUT /api/settings` and `POST /api/settings/preflight`: the mesh
//! settings, for cluster owners only.

use app::types::{MeshSettings, Preflight, SettingsDocument, SettingsUpdate};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::access::AccessScope;
use crate::enablement::{self, settings};
use crate::error::{Error, Result};
use crate::extract::ApiJson;
use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings", get(settings_get).put(settings_put))
        .route("/settings/preflight", post(settings_preflight))
}

const WHAT: &str = "the mesh settings";

fn stored_in(state: &AppState) -> String {
    format!(
        "{}/{}",
        state.settings_namespace(),
        settings::SETTINGS_CONFIGMAP
    )
}

/// 422 listing every invalid field.
fn check_valid(s: &MeshSettings) -> Result<()> {
    let errors = settings::validate(s);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{} invalid field{}: {}",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            errors.join("; ")
        )))
    }
}

/// The stored settings (or the defaults) with their preflight.
async fn settings_get(
    State(state): State<AppState>,
    scope: AccessScope,
) -> Result<Json<SettingsDocument>> {
    scope.require_owner(WHAT)?;
    let client = enablement::client(&state)?;
    let (settings, resource_version) = settings::load(&client, state.settings_namespace()).await?;
    let preflight = settings::preflight(&client, &settings).await?;
    Ok(Json(SettingsDocument {
        settings,
        resource_version,
        stored_in: stored_in(&state),
        preflight,
    }))
}

/// Saves valid settings that fit the cluster, if nobody saved in between.
async fn settings_put(
    State(state): State<AppState>,
    scope: AccessScope,
    ApiJson(update): ApiJson<SettingsUpdate>,
) -> Result<Json<SettingsDocument>> {
    scope.require_owner(WHAT)?;
    check_valid(&update.settings)?;
    let client = enablement::client(&state)?;
    let preflight = settings::preflight(&client, &update.settings).await?;
    if !preflight.fits {
        return Err(Error::Invalid(format!(
            "the plan does not fit the schedulable nodes: {}",
            preflight.shortfalls.join("; ")
        )));
    }
    let resource_version = settings::save(
        &client,
        state.settings_namespace(),
        &update.settings,
        update.resource_version.as_deref(),
    )
    .await?;
    state.settings_cache().clear();
    tracing::info!(user = %scope.user, "mesh settings saved");
    Ok(Json(SettingsDocument {
        settings: update.settings,
        resource_version,
        stored_in: stored_in(&state),
        preflight,
    }))
}

/// Validates a plan and checks it against the nodes without saving.
async fn settings_preflight(
    State(state): State<AppState>,
    scope: AccessScope,
    ApiJson(plan): ApiJson<MeshSettings>,
) -> Result<Json<Preflight>> {
    scope.require_owner(WHAT)?;
    check_valid(&plan)?;
    let client = enablement::client(&state)?;
    Ok(Json(settings::preflight(&client, &plan).await?))
}
