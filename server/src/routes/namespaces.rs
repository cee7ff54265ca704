//! `GET /api/namespaces` and the injection switches for a namespace and a
//! workload. Owners may switch any namespace; members those of their
//! projects. Every switch takes `?dryRun=true`.

use app::types::{InjectionChange, InjectionRequest, NamespaceList, WorkloadKind};
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::access::AccessScope;
use crate::enablement::{self, injection};
use crate::error::{Error, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/namespaces", get(namespaces_list))
        .route("/namespaces/{ns}/injection", post(namespace_injection_set))
        .route(
            "/namespaces/{ns}/workloads/{kind}/{name}/injection",
            post(workload_injection_set),
        )
}

/// `?dryRun=true`: say what would change, change nothing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MutationQuery {
    /// Preview only.
    #[serde(rename = "dryRun", default)]
    pub dry_run: bool,
}

/// 403 unless the caller may switch injection in `ns`.
fn check_may_switch(scope: &AccessScope, ns: &str) -> Result<()> {
    if scope.can_see(ns) {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "{} may not switch sidecar injection in namespace {ns:?}: that needs a cluster owner or a member of its project (permission to list pods there)",
            scope.user
        )))
    }
}

/// The caller's namespaces with injection state and workload sidecars.
async fn namespaces_list(
    State(state): State<AppState>,
    scope: AccessScope,
) -> Result<Json<NamespaceList>> {
    let client = enablement::client(&state)?;
    let infos = state.auth().namespaces().await?;
    let project_of = |name: &str| {
        infos
            .iter()
            .find(|i| i.name == name)
            .map_or_else(|| name.to_owned(), |i| i.project.clone())
    };
    let list = injection::list_namespaces(&client, |ns| scope.can_see(ns), project_of).await?;
    Ok(Json(list))
}

/// Switches injection for a namespace (label `istio-injection` or `istio.io/rev`).
async fn namespace_injection_set(
    State(state): State<AppState>,
    scope: AccessScope,
    Path(ns): Path<String>,
    ApiQuery(query): ApiQuery<MutationQuery>,
    ApiJson(body): ApiJson<InjectionRequest>,
) -> Result<Json<InjectionChange>> {
    check_may_switch(&scope, &ns)?;
    let client = enablement::client(&state)?;
    let change =
        injection::set_namespace_injection(&client, &ns, body.enabled, query.dry_run).await?;
    if change.changed && !change.dry_run {
        tracing::info!(user = %scope.user, target = %change.target, enabled = body.enabled, "namespace injection switched");
    }
    Ok(Json(change))
}

/// Switches injection for a Deployment, StatefulSet or DaemonSet (restart,
/// with or without the opt-out annotation).
async fn workload_injection_set(
    State(state): State<AppState>,
    scope: AccessScope,
    Path((ns, kind, name)): Path<(String, String, String)>,
    ApiQuery(query): ApiQuery<MutationQuery>,
    ApiJson(body): ApiJson<InjectionRequest>,
) -> Result<Json<InjectionChange>> {
    let kind = WorkloadKind::from_segment(&kind).ok_or_else(|| {
        Error::NotFound(format!(
            "{kind:?} is not a workload kind with pods to inject; use deployments, statefulsets or daemonsets"
        ))
    })?;
    check_may_switch(&scope, &ns)?;
    let client = enablement::client(&state)?;
    let change =
        injection::set_workload_injection(&client, &ns, kind, &name, body.enabled, query.dry_run)
            .await?;
    if change.changed && !change.dry_run {
        tracing::info!(user = %scope.user, target = %change.target, enabled = body.enabled, "workload injection switched");
    }
    Ok(Json(change))
}
