//! Who the caller is: how callers are identified, roles and features, the
//! namespaces and projects they may see, demo identities, `GET /api/me`.

use serde::{Deserialize, Serialize};

use super::common::ToolLink;

/// How callers are identified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// Kubernetes bearer tokens, checked with a TokenReview (the browser or
    /// an auth proxy in front sends `Authorization: Bearer ...`); writes
    /// carry the caller's token.
    Token,
    /// An authenticating proxy in front names the user and groups in
    /// request headers; writes impersonate that user. The UI needs no
    /// sign-in of its own.
    Proxy,
    /// The user picks one of the demo identities; the UI then sends that
    /// identity's token, checked by the in-memory cluster like any other.
    /// Demo mode only.
    Demo,
}

/// A caller's role in the console, decided by the cluster's RBAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Cluster owner: may patch namespaces cluster-wide; sees everything.
    Owner,
    /// Project member: sees the namespaces where they may list pods.
    Member,
}

/// The console features a caller may use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Features {
    /// The traffic graph.
    pub graph: bool,
    /// Trace search and the span waterfall.
    pub traces: bool,
    /// The PromQL console and dashboards (owners only).
    pub prometheus_console: bool,
    /// Mesh settings and cluster-wide enablement (owners only).
    pub settings: bool,
    /// Why the graph and traces are off when the owner did not choose it:
    /// meshdeck could not read the mesh settings (e.g. its account may not
    /// read ConfigMaps in its namespace). `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_problem: Option<String>,
}

/// A namespace the caller may see and the project it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisibleNamespace {
    /// Namespace name.
    pub name: String,
    /// Id of its project (the namespace's own name when it has none).
    pub project: String,
}

/// A project with at least one namespace the caller may see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisibleProject {
    /// Project id: the value of the project label or annotation, or the
    /// namespace's own name for a namespace without one.
    pub id: String,
    /// Name for people (`field.cattle.io/projectName` if set, else the id).
    pub display_name: String,
    /// Its namespaces the caller may see, sorted.
    pub namespaces: Vec<String>,
}

/// One identity offered in demo mode. The token is the in-memory cluster's,
/// accepted by its TokenReview like any other bearer token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DemoIdentity {
    /// Kubernetes user name.
    pub name: String,
    /// Owner or member.
    pub role: Role,
    /// What the identity may see, in a few words.
    pub description: String,
    /// Bearer token to send as `Authorization: Bearer ...`.
    pub token: String,
}

/// `GET /api/me`: who the caller is and what they may see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    /// Kubernetes user name.
    pub user: String,
    /// Kubernetes groups.
    pub groups: Vec<String>,
    /// Owner or member.
    pub role: Role,
    /// True for owners: every namespace, including ones created later.
    pub all_namespaces: bool,
    /// The namespaces the caller may see now, sorted by name.
    pub namespaces: Vec<VisibleNamespace>,
    /// Their projects, sorted by display name.
    pub projects: Vec<VisibleProject>,
    /// What the caller may use.
    pub features: Features,
    /// External tool UIs the caller may open.
    pub links: Vec<ToolLink>,
    /// How callers are identified.
    pub auth_mode: AuthMode,
    /// The identities to switch between; empty unless `auth_mode` is demo.
    pub demo_identities: Vec<DemoIdentity>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_features_have_the_documented_shape() {
        assert_eq!(serde_json::to_value(Role::Owner).unwrap(), "owner");
        assert_eq!(serde_json::to_value(Role::Member).unwrap(), "member");
        let features = Features {
            graph: true,
            traces: true,
            prometheus_console: false,
            settings: false,
            access_problem: None,
        };
        assert_eq!(
            serde_json::to_value(features).unwrap(),
            serde_json::json!({"graph": true, "traces": true, "prometheus_console": false, "settings": false})
        );
    }
}
