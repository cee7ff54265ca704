//! Who is asking and what they may see: the one access-scope type every
//! handler receives. Features take their namespace filter from it; nothing
//! reads namespaces from a request without checking them against it.

use std::collections::BTreeSet;

use app::types::AuthMode;
use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::error::{Error, Result};
use crate::state::AppState;

/// The namespaces a caller may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NamespaceAccess {
    /// Every namespace (cluster owners).
    All,
    /// Only these (project members: the namespaces of their projects).
    Only(BTreeSet<String>),
}

/// The caller and their permissions, resolved once per request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessScope {
    /// Kubernetes user name.
    pub user: String,
    /// Kubernetes groups.
    pub groups: Vec<String>,
    /// Cluster owner: may patch namespaces cluster-wide.
    pub owner: bool,
    /// Namespaces the caller may see.
    pub namespaces: NamespaceAccess,
    /// May see the traffic graph.
    pub may_see_graph: bool,
    /// May see traces.
    pub may_see_traces: bool,
}

impl AccessScope {
    /// A cluster owner: everything visible.
    pub fn owner(user: impl Into<String>) -> Self {
        AccessScope {
            user: user.into(),
            groups: Vec::new(),
            owner: true,
            namespaces: NamespaceAccess::All,
            may_see_graph: true,
            may_see_traces: true,
        }
    }

    /// Whether the caller may see namespace `ns`.
    pub fn can_see(&self, ns: &str) -> bool {
        match &self.namespaces {
            NamespaceAccess::All => true,
            NamespaceAccess::Only(set) => set.contains(ns),
        }
    }

    /// `Ok` if the caller may see `ns`, else 403 naming the missing permission.
    pub fn check_namespace(&self, ns: &str) -> Result<()> {
        if self.can_see(ns) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "{} may not see namespace {ns:?} (needs permission to list pods there)",
                self.user
            )))
        }
    }

    /// `Ok` for owners, else 403.
    pub fn require_owner(&self, what: &str) -> Result<()> {
        if self.owner {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "{what} is for cluster owners; {} may not patch namespaces cluster-wide",
                self.user
            )))
        }
    }

    /// The namespace filter to apply to every query: `None` means all.
    pub fn namespace_filter(&self) -> Option<Vec<String>> {
        match &self.namespaces {
            NamespaceAccess::All => None,
            NamespaceAccess::Only(set) => Some(set.iter().cloned().collect()),
        }
    }
}

/// Where a namespace's project comes from: Rancher's label (or annotation).
pub const DEFAULT_PROJECT_KEY: &str = "field.cattle.io/projectId";

/// The identity used while demo sign-in is not chosen: the demo's owner.
pub const DEMO_OWNER: &str = "admin";

impl FromRequestParts<AppState> for AccessScope {
    type Rejection = Error;

    async fn from_request_parts(_parts: &mut Parts, state: &AppState) -> Result<Self> {
        match state.auth_mode() {
            AuthMode::Demo => Ok(AccessScope::owner(DEMO_OWNER)),
            AuthMode::Token => Err(Error::Unauthenticated(
                "signing in with a Kubernetes token is not available in this build yet; run `meshdeck demo`"
                    .into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(namespaces: &[&str]) -> AccessScope {
        AccessScope {
            user: "alice".into(),
            groups: vec![],
            owner: false,
            namespaces: NamespaceAccess::Only(namespaces.iter().map(|s| s.to_string()).collect()),
            may_see_graph: true,
            may_see_traces: false,
        }
    }

    #[test]
    fn members_see_only_their_namespaces() {
        let alice = member(&["bookinfo"]);
        assert!(alice.check_namespace("bookinfo").is_ok());
        let err = alice.check_namespace("payments").unwrap_err();
        assert_eq!(err.code().http_status(), 403);
        assert!(err.to_string().contains("payments"));
        assert_eq!(alice.namespace_filter(), Some(vec!["bookinfo".to_string()]));
        assert!(alice.require_owner("the PromQL console").is_err());
    }

    #[test]
    fn owners_see_everything() {
        let admin = AccessScope::owner("admin");
        assert!(admin.check_namespace("anything").is_ok());
        assert_eq!(admin.namespace_filter(), None);
    }
}
