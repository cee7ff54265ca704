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

/// What a caller may reach: decided once per request, so no handler or
/// domain function reads a role and a namespace list that disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reach {
    /// A cluster owner: every namespace and every feature.
    Owner,
    /// A project member.
    Member {
        /// The namespaces of their projects.
        namespaces: BTreeSet<String>,
        /// The owner lets them see the traffic graph.
        graph: bool,
        /// The owner lets them see traces.
        traces: bool,
    },
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
    /// Owner, or member of some namespaces.
    pub reach: Reach,
    /// Why graph and traces are off for this member when it is not the
    /// owner's choice (meshdeck could not read the mesh settings).
    pub access_problem: Option<String>,
}

impl AccessScope {
    /// A cluster owner seeing everything, for computing views (tests,
    /// benchmarks): it carries no credentials, so Kubernetes refuses any
    /// write made with it as unauthenticated.
    pub fn owner(user: impl Into<String>) -> Self {
        Self::without_credentials(user.into(), Reach::Owner)
    }

    /// A project member of `namespaces` with the graph and traces as
    /// given, without credentials (tests, benchmarks).
    pub fn member<S: Into<String>>(
        user: impl Into<String>,
        namespaces: impl IntoIterator<Item = S>,
        graph: bool,
        traces: bool,
    ) -> Self {
        let namespaces = namespaces.into_iter().map(Into::into).collect();
        Self::without_credentials(
            user.into(),
            Reach::Member {
                namespaces,
                graph,
                traces,
            },
        )
    }

    fn without_credentials(user: String, reach: Reach) -> Self {
        AccessScope {
            identity: Identity::named(&user),
            user,
            groups: Vec::new(),
            credentials: Credentials::Bearer(crate::cluster::BearerToken::new("")),
            reach,
            access_problem: None,
        }
    }

    /// A cluster owner (may patch namespaces cluster-wide).
    pub fn is_owner(&self) -> bool {
        matches!(self.reach, Reach::Owner)
    }

    /// May see the traffic graph.
    pub fn may_see_graph(&self) -> bool {
        match &self.reach {
            Reach::Owner => true,
            Reach::Member { graph, .. } => *graph,
        }
    }

    /// May see traces.
    pub fn may_see_traces(&self) -> bool {
        match &self.reach {
            Reach::Owner => true,
            Reach::Member { traces, .. } => *traces,
        }
    }

    /// Whether the caller may see namespace `ns`.
    pub fn can_see(&self, ns: &str) -> bool {
        match &self.reach {
            Reach::Owner => true,
            Reach::Member { namespaces, .. } => namespaces.contains(ns),
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
        match &self.reach {
            Reach::Owner => None,
            Reach::Member { namespaces, .. } => Some(namespaces.iter().cloned().collect()),
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
            graph: self.may_see_graph(),
            traces: self.may_see_traces(),
            prometheus_console: self.is_owner(),
            settings: self.is_owner(),
            access_problem: self.access_problem.clone(),
        }
    }

    /// Owner or member.
    pub fn role(&self) -> Role {
        if self.is_owner() {
            Role::Owner
        } else {
            Role::Member
        }
    }

    /// Whether the caller may see the link to an external tool's UI: owners
    /// all four; members Kiali with the graph and Jaeger with traces.
    pub fn may_see_tool(&self, kind: UpstreamKind) -> bool {
        match kind {
            _ if self.is_owner() => true,
            UpstreamKind::Kiali => self.may_see_graph(),
            UpstreamKind::Jaeger => self.may_see_traces(),
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
        let (reach, access_problem) = match resolved.namespaces {
            None => (Reach::Owner, None),
            Some(namespaces) => {
                let (allowed, problem) =
                    member_access(state, &identity.user, &identity.groups).await;
                let reach = Reach::Member {
                    namespaces,
                    graph: allowed.graph,
                    traces: allowed.traces,
                };
                (reach, problem)
            }
        };
        Ok(AccessScope {
            user: identity.user.clone(),
            groups: identity.groups.clone(),
            identity,
            credentials: resolved.credentials,
            reach,
            access_problem,
        })
    }
}

/// Proofs that the caller passed one check, made only by that check. A
/// handler takes the proof as an extractor, which runs before the query
/// string, the body and any upstream (so a caller without the right gets
/// 403 whatever they sent, and nothing is looked up for them); a domain
/// function that needs the right takes the proof, so it cannot be called
/// without the check and does not repeat it.
macro_rules! proof {
    ($(#[$doc:meta])* $name:ident, $check:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name(AccessScope);

        impl $name {
            /// `scope` if it passes the check, else 403 saying why not.
            pub fn check(scope: AccessScope) -> Result<Self> {
                $check(&scope)?;
                Ok($name(scope))
            }

            /// The caller.
            pub fn scope(&self) -> &AccessScope {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = AccessScope;

            fn deref(&self) -> &AccessScope {
                &self.0
            }
        }

        impl FromRequestParts<AppState> for $name {
            type Rejection = Error;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
                let scope = AccessScope::from_request_parts(parts, state).await?;
                $name::check(scope).map_err(|err| match err {
                    Error::Forbidden(why) => Error::Forbidden(format!(
                        "{} {}: {why}",
                        parts.method,
                        parts.uri.path()
                    )),
                    other => other,
                })
            }
        }
    };
}

proof!(
    /// A cluster owner.
    Owner,
    check_owner
);
proof!(
    /// A caller who may see the traffic graph.
    GraphViewer,
    check_graph
);
proof!(
    /// A caller who may see traces.
    TraceViewer,
    check_traces
);

/// A namespace named in the request's path (`{ns}`) that the caller may
/// see. Checked before anything else of the request: 403 when they may
/// not see it (the same whether it exists or not), then 400 when it cannot
/// be a namespace's name.
#[derive(Clone, Debug)]
pub struct NamespaceViewer {
    scope: AccessScope,
    namespace: String,
}

impl NamespaceViewer {
    /// The caller.
    pub fn scope(&self) -> &AccessScope {
        &self.scope
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }
}

impl std::ops::Deref for NamespaceViewer {
    type Target = AccessScope;

    fn deref(&self) -> &AccessScope {
        &self.scope
    }
}

impl FromRequestParts<AppState> for NamespaceViewer {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let scope = AccessScope::from_request_parts(parts, state).await?;
        let params = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| Error::BadRequest(format!("bad path: {}", e.body_text())))?;
        let namespace = params
            .iter()
            .find(|(name, _)| *name == "ns")
            .map(|(_, value)| value.to_owned())
            .ok_or_else(|| Error::internal("a NamespaceViewer route without {ns}"))?;
        scope.check_namespace(&namespace)?;
        crate::cluster::names::namespace(&namespace)?;
        Ok(NamespaceViewer { scope, namespace })
    }
}

fn check_owner(scope: &AccessScope) -> Result<()> {
    if scope.is_owner() {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "this is for cluster owners; {} may not patch namespaces cluster-wide",
            scope.user
        )))
    }
}

fn check_graph(scope: &AccessScope) -> Result<()> {
    if scope.may_see_graph() {
        return Ok(());
    }
    Err(Error::Forbidden(match &scope.access_problem {
        Some(problem) => problem.clone(),
        None => format!(
            "{} may not see the traffic graph (the cluster owner has not allowed it)",
            scope.user
        ),
    }))
}

fn check_traces(scope: &AccessScope) -> Result<()> {
    if scope.may_see_traces() {
        return Ok(());
    }
    Err(Error::Forbidden(match &scope.access_problem {
        Some(problem) => problem.clone(),
        None => format!(
            "traces are not open to project members in this mesh's settings; {} is a member",
            scope.user
        ),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(namespaces: &[&str]) -> AccessScope {
        AccessScope::member("alice", namespaces.iter().copied(), true, false)
    }

    #[test]
    fn members_see_only_their_namespaces() {
        let alice = member(&["bookinfo"]);
        assert!(alice.check_namespace("bookinfo").is_ok());
        let err = alice.check_namespace("payments").unwrap_err();
        assert_eq!(err.code().http_status(), 403);
        assert!(err.to_string().contains("payments"));
        assert_eq!(alice.namespace_filter(), Some(vec!["bookinfo".to_string()]));
        let err = Owner::check(alice.clone()).unwrap_err();
        assert_eq!(err.code().http_status(), 403);
        assert!(GraphViewer::check(alice.clone()).is_ok());
        let err = TraceViewer::check(alice).unwrap_err();
        assert!(err.to_string().contains("traces are not open"), "{err}");
    }

    #[test]
    fn owners_see_everything() {
        let admin = AccessScope::owner("admin");
        assert!(admin.check_namespace("anything").is_ok());
        assert!(Owner::check(admin.clone()).is_ok());
        assert!(TraceViewer::check(admin.clone()).is_ok());
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
