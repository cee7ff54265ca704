//! `GET/PUT /api/settings`, `POST /api/settings/reset` and
//! `POST /api/settings/preflight`: the mesh settings, for cluster owners
//! only (checked before the body is read). meshdeck's account writes the
//! settings ConfigMap, after SubjectAccessReviews show the owner may write
//! it themselves.

use app::types::{ErrorBody, MeshSettings, Preflight, SettingsDocument, SettingsUpdate};
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::Owner;
use crate::cluster::reviews::Attributes;
use crate::enablement::settings;
use crate::error::{Error, Result};
use crate::extract::ApiJson;
use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(settings_get, settings_put))
        .routes(routes!(settings_reset))
        .routes(routes!(settings_preflight))
}

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

/// The write of the settings ConfigMap (and, the first time, of the
/// namespace it lives in, which the owner creates themselves).
fn settings_write(namespace: &str, exists: bool) -> Attributes {
    Attributes::new(
        if exists { "update" } else { "create" },
        "",
        "configmaps",
        Some(namespace),
        (exists).then_some(settings::SETTINGS_CONFIGMAP),
    )
}

/// The stored settings (or the defaults) with their preflight; 422 naming
/// the bad field when the stored ones cannot be read (the last good ones
/// stay in force; `POST /api/settings/reset` puts them back).
#[utoipa::path(
    get,
    path = "/settings",
    tag = "settings",
    responses(
        (status = 200, description = "The settings, their resourceVersion and preflight", body = SettingsDocument),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "Only cluster owners may use it", body = ErrorBody),
        (status = 422, description = "The stored settings cannot be read; the message names the bad field", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
async fn settings_get(
    State(state): State<AppState>,
    _owner: Owner,
) -> Result<Json<SettingsDocument>> {
    let cluster = state.cluster()?;
    let stored = settings::load(cluster.own(), state.settings_namespace()).await?;
    if let Some(problem) = stored.parsed.problem {
        return Err(Error::Invalid(format!(
            "the settings stored in {} cannot be read: {problem}. The last good settings stay in force; reset to them, or fix the ConfigMap",
            stored_in(&state)
        )));
    }
    let preflight = settings::preflight(cluster.own(), &stored.parsed.settings).await?;
    Ok(Json(SettingsDocument {
        settings: stored.parsed.settings,
        resource_version: stored.resource_version,
        stored_in: stored_in(&state),
        preflight,
    }))
}

/// Saves valid settings that fit the cluster, if nobody saved in between.
#[utoipa::path(
    put,
    path = "/settings",
    tag = "settings",
    request_body = SettingsUpdate,
    responses(
        (status = 200, description = "The saved settings", body = SettingsDocument),
        (status = 400, description = "The JSON is malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "Only owners may, and only when they may write the settings themselves", body = ErrorBody),
        (status = 409, description = "Someone saved in between (stale resourceVersion)", body = ErrorBody),
        (status = 422, description = "Invalid settings, or a plan that does not fit the nodes; every problem is named", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
async fn settings_put(
    State(state): State<AppState>,
    scope: Owner,
    ApiJson(update): ApiJson<SettingsUpdate>,
) -> Result<Json<SettingsDocument>> {
    check_valid(&update.settings)?;
    let cluster = state.cluster()?;
    let preflight = settings::preflight(cluster.own(), &update.settings).await?;
    if !preflight.fits {
        return Err(Error::Invalid(format!(
            "the plan does not fit the schedulable nodes: {}",
            preflight.shortfalls.join("; ")
        )));
    }
    let namespace = state.settings_namespace();
    scope
        .require_may(
            &state,
            &[settings_write(namespace, update.resource_version.is_some())],
        )
        .await?;
    let resource_version = settings::save(
        cluster.own(),
        &scope.client(cluster)?,
        namespace,
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

/// Replaces unreadable stored settings by the last good ones.
#[utoipa::path(
    post,
    path = "/settings/reset",
    tag = "settings",
    responses(
        (status = 200, description = "The settings now in force", body = SettingsDocument),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "Only owners may, and only when they may write the settings themselves", body = ErrorBody),
        (status = 409, description = "Someone saved in between", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
async fn settings_reset(
    State(state): State<AppState>,
    scope: Owner,
) -> Result<Json<SettingsDocument>> {
    let cluster = state.cluster()?;
    let namespace = state.settings_namespace();
    scope
        .require_may(&state, &[settings_write(namespace, true)])
        .await?;
    let (settings, resource_version) = settings::reset(cluster.own(), namespace).await?;
    state.settings_cache().clear();
    tracing::info!(user = %scope.user, "mesh settings reset to the last good ones");
    let preflight = settings::preflight(cluster.own(), &settings).await?;
    Ok(Json(SettingsDocument {
        settings,
        resource_version,
        stored_in: stored_in(&state),
        preflight,
    }))
}

/// Validates a plan and checks it against the nodes without saving.
#[utoipa::path(
    post,
    path = "/settings/preflight",
    tag = "settings",
    request_body = MeshSettings,
    responses(
        (status = 200, description = "Whether the plan fits the schedulable nodes", body = Preflight),
        (status = 400, description = "The JSON is malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "Only cluster owners may use it", body = ErrorBody),
        (status = 422, description = "Invalid settings; every problem is named", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
async fn settings_preflight(
    State(state): State<AppState>,
    _owner: Owner,
    ApiJson(plan): ApiJson<MeshSettings>,
) -> Result<Json<Preflight>> {
    check_valid(&plan)?;
    let cluster = state.cluster()?;
    Ok(Json(settings::preflight(cluster.own(), &plan).await?))
}
