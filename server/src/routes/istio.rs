//! `GET /api/istio/config` (the Istio objects of the caller's namespaces
//! and the findings about them) and `GET /api/istio/config/{namespace}/
//! {kind}/{name}` (one object as YAML and JSON, with who owns which field).

use app::types::IstioConfigQuery;
use app::types::{ErrorBody, IstioConfigList, IstioKind, IstioObjectDetail};
use axum::Json;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::{AccessScope, NamespaceViewer};
use crate::cluster::names;
use crate::error::{Error, Result};
use crate::extract::ApiQuery;
use crate::istio;
use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(config_list))
        .routes(routes!(config_object))
}

/// The Istio objects of the caller's namespaces with the findings about
/// them (validations).
#[utoipa::path(
    get,
    path = "/istio/config",
    tag = "istio",
    params(IstioConfigQuery),
    responses(
        (status = 200, description = "Objects and findings", body = IstioConfigList),
        (status = 400, description = "A namespace name is malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "The caller may not see one of the namespaces", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
#[tracing::instrument(name = "istio.config", skip_all)]
async fn config_list(
    State(state): State<AppState>,
    scope: AccessScope,
    ApiQuery(query): ApiQuery<IstioConfigQuery>,
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
    let snapshot = istio::snapshot(
        cluster.own(),
        state.upstreams().prometheus.as_ref(),
        state.now_s(),
    )
    .await?;
    let namespaces = istio::requested_namespaces(&scope, &snapshot, query.namespaces.as_deref())?;
    Ok(Json(istio::config_list(&scope, &snapshot, namespaces)))
}

/// One Istio object as YAML and JSON, with its findings and which field
/// manager owns which field.
#[utoipa::path(
    get,
    path = "/istio/config/{ns}/{kind}/{name}",
    tag = "istio",
    params(
        ("ns" = String, Path, description = "Namespace", pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length = 63),
        ("kind" = String, Path, description = "The kind's plural, lower case: `virtualservices`, `destinationrules`, `gateways`, `serviceentries`, `sidecars`, `peerauthentications`, `authorizationpolicies`, `requestauthentications`, `workloadentries`, `envoyfilters`, `httproutes`, `grpcroutes`, ..."),
        ("name" = String, Path, description = "The object's name", pattern = "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", max_length = 253),
    ),
    responses(
        (status = 200, description = "The object", body = IstioObjectDetail),
        (status = 400, description = "A name is malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "The caller may not see the namespace", body = ErrorBody),
        (status = 404, description = "No such kind or object", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
#[tracing::instrument(name = "istio.object", skip_all)]
async fn config_object(
    State(state): State<AppState>,
    scope: NamespaceViewer,
    Path((ns, kind, name)): Path<(String, String, String)>,
) -> Result<Json<IstioObjectDetail>> {
    let kind = IstioKind::from_segment(&kind).ok_or_else(|| {
        Error::NotFound(format!(
            "no Istio kind {kind:?}; one of: {}",
            IstioKind::ALL.map(IstioKind::plural).join(", ")
        ))
    })?;
    names::object(kind.label(), &name)?;
    let cluster = state.cluster()?;
    let snapshot = istio::snapshot(
        cluster.own(),
        state.upstreams().prometheus.as_ref(),
        state.now_s(),
    )
    .await?;
    istio::object_detail(&scope, &snapshot, kind, &ns, &name).map(Json)
}
