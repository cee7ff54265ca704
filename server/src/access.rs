//! Who is asking and what they may see: the one access-scope type every
//! handler receives. Features take their namespace filter from it; nothing
//! reads namespaces from a request without checking them against it.

use std::collections::BTreeSet;

use app::types::{Features, MemberAccessMode, MemberAccessSettings, Role, UpstreamKind};
use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::cluster::reviews::{Attributes, Identity};
use crate::cluster::{Cluster, Credentials};
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
    /// Who the cluster says the caller is (for reviews of what they may do).
    pub identity: Identity,
    /// What writes made for the caller carry: their token, or
    /// impersonation of them (auth-proxy mode).
    pub credentials: Credentials,
    /// Cluster owner: may patch namespaces cluster-wide.
    pub owner: bool,
    /// Namespaces the caller may see.
    pub namespaces: NamespaceAccess,
    /// May see the traffic graph.
    pub may_see_graph: bool,
    /// May see traces.
    pub may_see_traces: bool,
    /// Why graph and traces are off for this member when it is not the
    /// owner's choice (meshdeck could not read the mesh settings).
    pub access_problem: Option<String>,
}

impl AccessScope {
    /// A cluster owner seeing everything, for computing views (tests,
    /// benchmarks): it carries no credentials, so Kubernetes refuses any
    /// write made with it as unauthenticated.
    pub fn owner(user: impl Into<String>) -> Self {
        let credentials = Credentials::Bearer(crate::cluster::BearerToken::new(""));
        let user = user.into();
        AccessScope {
            identity: Identity::named(&user),
            user,
            groups: Vec::new(),
            credentials,
            owner: true,
            namespaces: NamespaceAccess::All,
            may_see_graph: true,
            may_see_traces: true,
            access_problem: None,
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

    /// A client of `cluster` acting as the caller: every write made on
    /// their behalf goes through it, so Kubernetes RBAC decides.
    pub fn client(&self, cluster: &Cluster) -> Result<kube::Client> {
        cluster.as_caller(&self.credentials)
    }

    /// `Ok` when Kubernetes lets the caller do every one of `writes` now
    /// (uncached SubjectAccessReviews, run concurrently); else 403 naming
    /// each one they may not. Checked before meshdeck's own account writes
    /// anything on the caller's behalf, so it never does more for someone
    /// than they could do themselves.
    pub async fn require_may(&self, state: &AppState, writes: &[Attributes]) -> Result<()> {
        let auth = state.auth();
        let answers =
            futures::future::join_all(writes.iter().map(|w| auth.may_now(&self.identity, w))).await;
        let mut denied = Vec::new();
        for (write, answer) in writes.iter().zip(answers) {
            if !answer? {
                denied.push(write.describe());
            }
        }
        if denied.is_empty() {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "{} may not {} (Kubernetes RBAC, asked with a SubjectAccessReview), so meshdeck will not do it on their behalf",
                self.user,
                denied.join("; ")
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

/// The demo's owner, the identity the UI picks in demo mode until the user
/// chooses another.
pub const DEMO_OWNER: &str = "admin";

/// What the cluster owner lets project members see: the mesh settings'
/// "member access" (owner only | all members | owner + listed users and
/// groups), decided per caller by [`member_access`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberAccess {
    /// Members may see the traffic graph (and the Kiali link).
    pub graph: bool,
    /// Members may see traces (and the Jaeger link).
    pub traces: bool,
}

impl Default for MemberAccess {
    /// The settings' default (all members): graph and traces.
    fn default() -> Self {
        MemberAccess {
            graph: true,
            traces: true,
        }
    }
}

impl MemberAccess {
    /// Neither graph nor traces.
    pub const NONE: MemberAccess = MemberAccess {
        graph: false,
        traces: false,
    };
}

/// What the member-access setting grants `user` (in `groups`).
pub fn decide_member_access(
    setting: &MemberAccessSettings,
    user: &str,
    groups: &[String],
) -> MemberAccess {
    let allowed = match setting.mode {
        MemberAccessMode::OwnerOnly => false,
        MemberAccessMode::AllMembers => true,
        MemberAccessMode::Listed => {
            setting.users.iter().any(|u| u == user)
                || setting.groups.iter().any(|g| groups.contains(g))
        }
    };
    if allowed {
        MemberAccess::default()
    } else {
        MemberAccess::NONE
    }
}

/// What member `user` (in `groups`) may see, from the mesh settings in
/// force (read from the cluster, briefly cached; the last good ones when
/// the stored ones are unreadable). When they cannot be read at all,
/// members get neither graph nor traces rather than more than the owner
/// allowed, and the reason says what is actually wrong.
pub async fn member_access(
    state: &AppState,
    user: &str,
    groups: &[String],
) -> (MemberAccess, Option<String>) {
    match crate::enablement::settings::current(state).await {
        Ok(parsed) => (
            decide_member_access(&parsed.settings.member_access, user, groups),
            None,
        ),
        Err(err) => {
            tracing::warn!(error = %err, "cannot read the mesh settings; members see no graph or traces");
            (
                MemberAccess::NONE,
                Some(format!(
                    "meshdeck cannot read the mesh settings, so members see no graph or traces until it can: {}",
                    err.public_message()
                )),
            )
        }
    }
}

impl AccessScope {
    /// The console features this caller may use.
    pub fn features(&self) -> Features {
        Features {
            graph: self.may_see_graph,
            traces: self.may_see_traces,
            prometheus_console: self.owner,
            settings: self.owner,
            access_problem: self.access_problem.clone(),
        }
    }

    /// Owner or member.
    pub fn role(&self) -> Role {
        if self.owner {
            Role::Owner
        } else {
            Role::Member
        }
    }

    /// Whether the caller may see the link to an external tool's UI: owners
    /// all four; members Kiali with the graph and Jaeger with traces.
    pub fn may_see_tool(&self, kind: UpstreamKind) -> bool {
        match kind {
            _ if self.owner => true,
            UpstreamKind::Kiali => self.may_see_graph,
            UpstreamKind::Jaeger => self.may_see_traces,
            UpstreamKind::Grafana | UpstreamKind::Prometheus | UpstreamKind::Kubernetes => false,
        }
    }
}

/// Resolves the caller on every request that takes an [`AccessScope`]: the
/// bearer token through a TokenReview, the role and namespaces through
/// SubjectAccessReviews (see [`crate::auth`]). Demo and token auth modes
/// run the same code; in demo mode the tokens are the in-memory cluster's.
impl FromRequestParts<AppState> for AccessScope {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let resolved = state.auth().resolve(parts).await?;
        let identity = resolved.identity;
        let (namespaces, may_see_graph, may_see_traces, access_problem) = match resolved.namespaces
        {
            None => (NamespaceAccess::All, true, true, None),
            Some(set) => {
                let (allowed, problem) =
                    member_access(state, &identity.user, &identity.groups).await;
                (
                    NamespaceAccess::Only(set),
                    allowed.graph,
                    allowed.traces,
                    problem,
                )
            }
        };
        Ok(AccessScope {
            user: identity.user.clone(),
            groups: identity.groups.clone(),
            identity,
            credentials: resolved.credentials,
            owner: resolved.owner,
            namespaces,
            may_see_graph,
            may_see_traces,
            access_problem,
        })
    }
}

/// A cluster owner, checked before anything else of the request is read
/// (the query string and body extractors run after it), so a non-owner
/// gets 403 whatever they sent.
#[derive(Clone, Debug)]
pub struct Owner(pub AccessScope);

impl FromRequestParts<AppState> for Owner {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let scope = AccessScope::from_request_parts(parts, state).await?;
        scope.require_owner(&format!("{} {}", parts.method, parts.uri.path()))?;
        Ok(Owner(scope))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(namespaces: &[&str]) -> AccessScope {
        AccessScope {
            user: "alice".into(),
            groups: vec![],
            identity: Identity::named("alice"),
            credentials: Credentials::Bearer(crate::cluster::BearerToken::new("t")),
            owner: false,
            namespaces: NamespaceAccess::Only(namespaces.iter().map(|s| s.to_string()).collect()),
            may_see_graph: true,
            may_see_traces: false,
            access_problem: None,
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
        assert_eq!(admin.role(), Role::Owner);
        assert!(UpstreamKind::ALL.iter().all(|k| admin.may_see_tool(*k)));
        let f = admin.features();
        assert!(f.graph && f.traces && f.prometheus_console && f.settings);
    }

    #[test]
    fn members_get_the_tools_their_access_allows() {
        let alice = member(&["bookinfo"]);
        assert_eq!(alice.role(), Role::Member);
        assert!(alice.may_see_tool(UpstreamKind::Kiali));
        assert!(!alice.may_see_tool(UpstreamKind::Jaeger));
        assert!(!alice.may_see_tool(UpstreamKind::Grafana));
        assert!(!alice.may_see_tool(UpstreamKind::Prometheus));
        let f = alice.features();
        assert_eq!(
            (f.graph, f.traces, f.prometheus_console, f.settings),
            (true, false, false, false)
        );
        assert_eq!(
            MemberAccess::default(),
            MemberAccess {
                graph: true,
                traces: true
            }
        );
        let listed = MemberAccessSettings {
            mode: MemberAccessMode::Listed,
            users: vec!["alice".into()],
            groups: vec!["sre".into()],
        };
        assert_eq!(
            decide_member_access(&listed, "alice", &[]),
            MemberAccess::default()
        );
        assert_eq!(
            decide_member_access(&listed, "bob", &["sre".into()]),
            MemberAccess::default()
        );
        assert_eq!(
            decide_member_access(&listed, "bob", &[]),
            MemberAccess::NONE
        );
        let owners = MemberAccessSettings {
            mode: MemberAccessMode::OwnerOnly,
            ..MemberAccessSettings::default()
        };
        assert_eq!(
            decide_member_access(&owners, "alice", &[]),
            MemberAccess::NONE
        );
    }
}
