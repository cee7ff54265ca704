//! The traffic-management wizards of one service:
//! `GET /api/services/{ns}/{name}/traffic` (what they start from),
//! `POST /api/services/{ns}/{name}/wizards` (preview with `?dryRun=true`,
//! apply, `&force=true` to take over fields) and
//! `DELETE /api/services/{ns}/{name}/wizards` (remove what they wrote).
//! Writes are made with the caller's own credentials.

use app::types::{ServiceTraffic, WizardOutcome, WizardRequest};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::access::AccessScope;
use crate::cluster::names;
use crate::error::{Error, Result};
use crate::extract::ApiQuery;
use crate::istio::wizards::write::{self, WriteOptions};
use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/services/{ns}/{name}/traffic", get(traffic_get))
        .route(
            "/services/{ns}/{name}/wizards",
            axum::routing::post(wizard_post).delete(wizard_delete),
        )
}

/// `?dryRun=true&force=true`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WriteQuery {
    #[serde(rename = "dryRun", default)]
    dry_run: bool,
    #[serde(default)]
    force: bool,
}

/// `?dryRun=true`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoveQuery {
    #[serde(rename = "dryRun", default)]
    dry_run: bool,
}

/// 400 for names that cannot be a service's, 403 before anything is read
/// when the caller may not see the namespace.
fn check(scope: &AccessScope, ns: &str, name: &str) -> Result<()> {
    names::namespace(ns)?;
    names::object("service", name)?;
    scope.check_namespace(ns)
}

#[tracing::instrument(name = "services.traffic", skip_all)]
async fn traffic_get(
    State(state): State<AppState>,
    scope: AccessScope,
    Path((ns, name)): Path<(String, String)>,
) -> Result<Json<ServiceTraffic>> {
    check(&scope, &ns, &name)?;
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

#[tracing::instrument(name = "services.wizard", skip_all)]
async fn wizard_post(
    State(state): State<AppState>,
    scope: AccessScope,
    Path((ns, name)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<WriteQuery>,
    body: Bytes,
) -> Result<Json<WizardOutcome>> {
    check(&scope, &ns, &name)?;
    let request: WizardRequest = parse(&body)?;
    let options = WriteOptions {
        dry_run: query.dry_run,
        force: query.force,
    };
    write::run(&state, &scope, &ns, &name, &request, options)
        .await
        .map(Json)
}

#[tracing::instrument(name = "services.remove", skip_all)]
async fn wizard_delete(
    State(state): State<AppState>,
    scope: AccessScope,
    Path((ns, name)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<RemoveQuery>,
) -> Result<Json<WizardOutcome>> {
    check(&scope, &ns, &name)?;
    write::remove(&state, &scope, &ns, &name, query.dry_run)
        .await
        .map(Json)
}
