//! `GET /api/me`: who the caller is, their role, the namespaces and
//! projects they may see, the features they may use and the tool links
//! they may open (URLs saved in the mesh settings win over the flags).

use app::types::{ErrorBody, Me, VisibleNamespace};
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::AccessScope;
use crate::auth::projects::group_projects;
use crate::error::Result;
use crate::state::AppState;
use crate::upstream::tool_links;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me_get))
}

/// The caller as the cluster sees them (401 without a valid token).
#[utoipa::path(
    get,
    path = "/me",
    tag = "identity",
    responses(
        (status = 200, description = "The caller, their role, namespaces, features and tool links", body = Me),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 503, description = "The Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
async fn me_get(State(state): State<AppState>, scope: AccessScope) -> Result<Json<Me>> {
    let all = state.auth().namespaces().await?;
    let visible: Vec<_> = all.iter().filter(|ns| scope.can_see(&ns.name)).collect();
    // Without readable settings (no cluster), the configured URLs alone.
    let saved = crate::enablement::settings::current(&state).await.ok();
    let links = tool_links(
        state.upstreams().links(),
        saved.as_deref().map(|s| &s.settings.tool_urls),
    )
    .into_iter()
    .filter(|link| scope.may_see_tool(link.kind))
    .collect();
    Ok(Json(Me {
        namespaces: visible
            .iter()
            .map(|ns| VisibleNamespace {
                name: ns.name.clone(),
                project: ns.project.clone(),
            })
            .collect(),
        projects: group_projects(visible.iter().copied()),
        role: scope.role(),
        all_namespaces: scope.namespace_filter().is_none(),
        features: scope.features(),
        links,
        auth_mode: state.auth_mode(),
        demo_identities: state.demo_identities(),
        user: scope.user,
        groups: scope.groups,
    }))
}
