//! `GET /api/namespaces` and the injection switches for a namespace and a
//! workload. The switches are written with the caller's own credentials,
//! so Kubernetes RBAC decides (its 403 is passed on as it worded it); the
//! list says, from SubjectAccessReviews, which switches the caller may use.
//! Every switch takes `?dryRun=true`.

use app::types::DryRunQuery;
use app::types::{ErrorBody, InjectionChange, InjectionRequest, NamespaceList, WorkloadKind};
use axum::Json;
use axum::extract::{Path, State};
use futures::future::join_all;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::{AccessScope, NamespaceViewer};
use crate::cluster::names;
use crate::cluster::reviews::Attributes;
use crate::enablement::injection;
use crate::error::{Error, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(namespaces_list))
        .routes(routes!(namespace_injection_set))
        .routes(routes!(workload_injection_set))
}

/// The caller's namespaces with injection state and workload sidecars, and
/// which switches Kubernetes would let them use.
#[utoipa::path(
    get,
    path = "/namespaces",
    tag = "enablement",
    responses(
        (status = 200, description = "Namespaces with injection state, workloads and the caller's permissions", body = NamespaceList),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
async fn namespaces_list(
    State(state): State<AppState>,
    scope: AccessScope,
) -> Result<Json<NamespaceList>> {
    let cluster = state.cluster()?;
    let infos = state.auth().namespaces().await?;
    let project_of = |name: &str| {
        infos
            .iter()
            .find(|i| i.name == name)
            .map_or_else(|| name.to_owned(), |i| i.project.clone())
    };
    let mut list =
        injection::list_namespaces(cluster.own(), |ns| scope.can_see(ns), project_of).await?;
    fill_permissions(&state, &scope, &mut list).await?;
    Ok(Json(list))
}

/// Asks (SubjectAccessReviews, briefly cached) whether the caller may patch
/// each namespace and each workload: first for each kind of workload in a
/// namespace, then, where that is refused, for each workload by name (a
/// Role may name single objects).
async fn fill_permissions(
    state: &AppState,
    scope: &AccessScope,
    list: &mut NamespaceList,
) -> Result<()> {
    let auth = state.auth();
    let ask = |questions: Vec<Attributes>| async move {
        let answers = join_all(questions.iter().map(|q| auth.may(&scope.identity, q))).await;
        questions
            .into_iter()
            .zip(answers)
            .filter_map(|(q, a)| match a {
                Ok(true) => Some(Ok(q)),
                Ok(false) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<Result<Vec<Attributes>>>()
    };
    let mut broad = Vec::new();
    for ns in &list.namespaces {
        broad.push(namespace_patch(&ns.name));
        for kind in WorkloadKind::ALL {
            if ns.workloads.iter().any(|w| w.kind == kind) {
                broad.push(workload_patch(&ns.name, kind, None));
            }
        }
    }
    let mut allowed = ask(broad).await?;
    let narrow: Vec<Attributes> = list
        .namespaces
        .iter()
        .flat_map(|ns| {
            ns.workloads
                .iter()
                .map(|w| (ns.name.as_str(), w))
                .collect::<Vec<_>>()
        })
        .filter(|(ns, w)| !allowed.contains(&workload_patch(ns, w.kind, None)))
        .map(|(ns, w)| workload_patch(ns, w.kind, Some(&w.name)))
        .collect();
    allowed.extend(ask(narrow).await?);
    for ns in &mut list.namespaces {
        ns.may_switch = allowed.contains(&namespace_patch(&ns.name));
        for w in &mut ns.workloads {
            w.may_restart = allowed.contains(&workload_patch(&ns.name, w.kind, None))
                || allowed.contains(&workload_patch(&ns.name, w.kind, Some(&w.name)));
        }
    }
    Ok(())
}

/// Patching namespace `ns`: Kubernetes asks this with the namespace
/// itself as the request's namespace, so a RoleBinding in `ns` can allow it.
fn namespace_patch(ns: &str) -> Attributes {
    Attributes::new("patch", "", "namespaces", Some(ns), Some(ns))
}

fn workload_patch(ns: &str, kind: WorkloadKind, name: Option<&str>) -> Attributes {
    Attributes::new("patch", "apps", kind.plural(), Some(ns), name)
}

/// Switches injection for a namespace (label `istio-injection` or `istio.io/rev`).
#[utoipa::path(
    post,
    path = "/namespaces/{ns}/injection",
    tag = "enablement",
    params(("ns" = String, Path, description = "Namespace", pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length = 63), DryRunQuery),
    request_body = InjectionRequest,
    responses(
        (status = 200, description = "What changed (or, with dryRun, would change)", body = InjectionChange),
        (status = 400, description = "A name or the JSON is malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "The caller may not see the namespace, or Kubernetes RBAC refused the write (its words)", body = ErrorBody),
        (status = 404, description = "No such namespace", body = ErrorBody),
        (status = 409, description = "The namespace changed underneath", body = ErrorBody),
        (status = 422, description = "The body does not fit", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
async fn namespace_injection_set(
    State(state): State<AppState>,
    scope: NamespaceViewer,
    ApiQuery(query): ApiQuery<DryRunQuery>,
    ApiJson(body): ApiJson<InjectionRequest>,
) -> Result<Json<InjectionChange>> {
    let ns = scope.namespace().to_owned();
    let cluster = state.cluster()?;
    let change = injection::set_namespace_injection(
        cluster.own(),
        &scope.client(cluster)?,
        &ns,
        body.enabled,
        query.dry_run,
    )
    .await?;
    if change.changed && !change.dry_run {
        tracing::info!(user = %scope.user, target = %change.target, enabled = body.enabled, "namespace injection switched");
    }
    Ok(Json(change))
}

/// Switches injection for a Deployment, StatefulSet or DaemonSet (restart,
/// with or without the opt-out annotation).
#[utoipa::path(
    post,
    path = "/namespaces/{ns}/workloads/{kind}/{name}/injection",
    tag = "enablement",
    params(
        ("ns" = String, Path, description = "Namespace", pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length = 63),
        ("kind" = String, Path, description = "`deployments`, `statefulsets` or `daemonsets`"),
        ("name" = String, Path, description = "The workload's name", pattern = "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", max_length = 253),
        DryRunQuery,
    ),
    request_body = InjectionRequest,
    responses(
        (status = 200, description = "What changed (or, with dryRun, would change)", body = InjectionChange),
        (status = 400, description = "A name or the JSON is malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "The caller may not see the namespace, or Kubernetes RBAC refused the write (its words)", body = ErrorBody),
        (status = 404, description = "No such kind or workload", body = ErrorBody),
        (status = 409, description = "The workload changed underneath", body = ErrorBody),
        (status = 422, description = "The body does not fit", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
async fn workload_injection_set(
    State(state): State<AppState>,
    scope: NamespaceViewer,
    Path((ns, kind, name)): Path<(String, String, String)>,
    ApiQuery(query): ApiQuery<DryRunQuery>,
    ApiJson(body): ApiJson<InjectionRequest>,
) -> Result<Json<InjectionChange>> {
    let kind = WorkloadKind::from_segment(&kind).ok_or_else(|| {
        Error::NotFound(format!(
            "{kind:?} is not a workload kind with pods to inject; use deployments, statefulsets or daemonsets"
        ))
    })?;
    names::object(kind.label(), &name)?;
    let cluster = state.cluster()?;
    let change = injection::set_workload_injection(
        cluster.own(),
        &scope.client(cluster)?,
        &ns,
        kind,
        &name,
        body.enabled,
        query.dry_run,
    )
    .await?;
    if change.changed && !change.dry_run {
        tracing::info!(user = %scope.user, target = %change.target, enabled = body.enabled, "workload injection switched");
    }
    Ok(Json(change))
}
