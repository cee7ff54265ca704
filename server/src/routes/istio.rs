//! `GET /api/istio/config` (the Istio objects of the caller's namespaces
//! and the findings about them) and `GET /api/istio/config/{namespace}/
//! {kind}/{name}` (one object as YAML and JSON, with who owns which field).

use app::types::{IstioConfigList, IstioKind, IstioObjectDetail};
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::access::AccessScope;
use crate::cluster::names;
use crate::error::{Error, Result};
use crate::extract::ApiQuery;
use crate::istio;
use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/istio/config", get(config_list))
        .route("/istio/config/{ns}/{kind}/{name}", get(config_object))
}

/// `?namespaces=a,b`: which namespaces (default: every one the caller may
/// see).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    namespaces: Option<String>,
}

#[tracing::instrument(name = "istio.config", skip_all)]
async fn config_list(
    State(state): State<AppState>,
    scope: AccessScope,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<IstioConfigList>> {
    if let Some(list) = &query.namespaces {
        // Checked before anything is read: an unknown or unseen namespace
        // is refused the same whether it exists or not.
        for ns in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            names::namespace(ns)?;
            scope.check_namespace(ns)?;
        }
    }
    let cluster = state.cluster()?;
    let snapshot = istio::snapshot(cluster.own(), state.upstreams().prometheus.as_ref()).await?;
    let namespaces = istio::requested_namespaces(&scope, &snapshot, query.namespaces.as_deref())?;
    Ok(Json(istio::config_list(&scope, &snapshot, namespaces)))
}

#[tracing::instrument(name = "istio.object", skip_all)]
async fn config_object(
    State(state): State<AppState>,
    scope: AccessScope,
    Path((ns, kind, name)): Path<(String, String, String)>,
) -> Result<Json<IstioObjectDetail>> {
    names::namespace(&ns)?;
    let kind = IstioKind::from_segment(&kind).ok_or_else(|| {
        Error::NotFound(format!(
            "no Istio kind {kind:?}; one of: {}",
            IstioKind::ALL.map(IstioKind::plural).join(", ")
        ))
    })?;
    names::object(kind.label(), &name)?;
    scope.check_namespace(&ns)?;
    let cluster = state.cluster()?;
    let snapshot = istio::snapshot(cluster.own(), state.upstreams().prometheus.as_ref()).await?;
    istio::object_detail(&scope, &snapshot, kind, &ns, &name).map(Json)
}
