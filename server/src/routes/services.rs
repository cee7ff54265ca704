//! The traffic-management wizards of one service:
//! `GET /api/services/{ns}/{name}/traffic` (what they start from),
//! `POST /api/services/{ns}/{name}/wizards` (preview with `?dryRun=true`,
//! apply, `&force=true` to take over fields) and
//! `DELETE /api/services/{ns}/{name}/wizards` (remove what they wrote).
//! Writes are made with the caller's own credentials.

use app::types::{ApplyQuery, DryRunQuery};
use app::types::{ErrorBody, ServiceTraffic, WizardOutcome, WizardRequest};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::NamespaceViewer;
use crate::cluster::names;
use crate::error::{Error, Result};
use crate::extract::ApiQuery;
use crate::istio::wizards::write::{self, WriteOptions};
use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(traffic_get))
        .routes(routes!(wizard_post, wizard_delete))
}

/// 400 for a name that cannot be a service's (the namespace is checked by
/// [`NamespaceViewer`] before).
fn check_name(name: &str) -> Result<()> {
    names::object("service", name).map(|_| ())
}

/// What the wizards start from: the service's ports and versions, the
/// traffic-management objects in force, and who manages them.
#[utoipa::path(
    get,
    path = "/services/{ns}/{name}/traffic",
    tag = "wizards",
    params(("ns" = String, Path, description = "Namespace", pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length = 63),
        ("name" = String, Path, description = "Service", pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length = 63)),
    responses(
        (status = 200, description = "The service's traffic management", body = ServiceTraffic),
        (status = 400, description = "A name is malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "The caller may not see the namespace", body = ErrorBody),
        (status = 404, description = "No such service", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
#[tracing::instrument(name = "services.traffic", skip_all)]
async fn traffic_get(
    State(state): State<AppState>,
    scope: NamespaceViewer,
    Path((ns, name)): Path<(String, String)>,
) -> Result<Json<ServiceTraffic>> {
    check_name(&name)?;
    write::traffic(&state, &scope, &ns, &name).await.map(Json)
}

/// The body, parsed after the caller's access was checked; a body of the
/// wrong shape is a 422 naming where.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            Error::BadRequest(format!("bad JSON body: {inner}"))
        } else if path == "." {
            Error::Invalid(format!("JSON body does not fit: {inner}"))
        } else {
            Error::Invalid(format!("1 invalid field: {path}: {inner}"))
        }
    })
}

/// Previews (`dryRun=true`, a server-side dry run as the caller) or
/// applies a wizard with server-side apply as the caller.
#[utoipa::path(
    post,
    path = "/services/{ns}/{name}/wizards",
    tag = "wizards",
    params(("ns" = String, Path, description = "Namespace", pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length = 63),
        ("name" = String, Path, description = "Service", pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length = 63), ApplyQuery),
    request_body = WizardRequest,
    responses(
        (status = 200, description = "The objects written (or, with dryRun, that would be) and their diff", body = WizardOutcome),
        (status = 400, description = "A name or the JSON is malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "The caller may not see the namespace, or Kubernetes RBAC refused a write (its words)", body = ErrorBody),
        (status = 404, description = "No such service", body = ErrorBody),
        (status = 409, description = "Another field manager owns a field (named); retry with force=true to take it over", body = ErrorBody),
        (status = 422, description = "The wizard's input is invalid; every problem is named", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
#[tracing::instrument(name = "services.wizard", skip_all)]
async fn wizard_post(
    State(state): State<AppState>,
    scope: NamespaceViewer,
    Path((ns, name)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<ApplyQuery>,
    body: Bytes,
) -> Result<Json<WizardOutcome>> {
    check_name(&name)?;
    let request: WizardRequest = parse(&body)?;
    let options = WriteOptions {
        dry_run: query.dry_run,
        force: query.force,
    };
    write::apply_wizard(&state, &scope, &ns, &name, &request, options)
        .await
        .map(Json)
}

/// Removes what the wizards wrote for the service, keeping other
/// managers' fields.
#[utoipa::path(
    delete,
    path = "/services/{ns}/{name}/wizards",
    tag = "wizards",
    params(("ns" = String, Path, description = "Namespace", pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length = 63),
        ("name" = String, Path, description = "Service", pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length = 63), DryRunQuery),
    responses(
        (status = 200, description = "What was (or, with dryRun, would be) removed", body = WizardOutcome),
        (status = 400, description = "A name is malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "The caller may not see the namespace, or Kubernetes RBAC refused a write", body = ErrorBody),
        (status = 404, description = "No such service", body = ErrorBody),
        (status = 409, description = "An object changed underneath", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
#[tracing::instrument(name = "services.remove", skip_all)]
async fn wizard_delete(
    State(state): State<AppState>,
    scope: NamespaceViewer,
    Path((ns, name)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<DryRunQuery>,
) -> Result<Json<WizardOutcome>> {
    check_name(&name)?;
    write::remove(&state, &scope, &ns, &name, query.dry_run)
        .await
        .map(Json)
}
