//! The Kubernetes calls behind identity and roles, all made with
//! meshdeck's own account: TokenReview (who holds this token),
//! SubjectAccessReview (may they do this) and the namespace list. Each
//! failure becomes a 503 naming Kubernetes; a token the cluster rejects is
//! a 401.

use std::collections::BTreeMap;

use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::{ListParams, PostParams};

use super::error::{Acting, api_error};
use crate::auth::projects::{NamespaceInfo, namespace_info};
use crate::error::Result;

/// Namespaces fetched per list call; the rest come with continue tokens.
const PAGE_SIZE: u32 = 500;

/// A user as the cluster's authenticator reports them (kept with a
/// rollout, as who started it: it carries no credential).
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    /// User name, e.g. `alice` or `system:serviceaccount:ns:name`.
    pub user: String,
    /// Unique id, where the authenticator gives one.
    #[serde(default)]
    pub uid: Option<String>,
    /// Groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Extra attributes (scopes and the like), passed on to authorization.
    #[serde(default)]
    pub extra: BTreeMap<String, Vec<String>>,
}

impl Identity {
    /// A user with no uid, groups or extras (tests, messages).
    pub fn named(user: &str) -> Self {
        Identity {
            user: user.to_owned(),
            uid: None,
            groups: Vec::new(),
            extra: BTreeMap::new(),
        }
    }
}

/// The resource part of a SubjectAccessReview.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Attributes {
    /// Verb: `list`, `patch`, ...
    pub verb: String,
    /// API group, `""` for the core group.
    pub group: String,
    /// Plural resource.
    pub resource: String,
    /// Namespace; `None` asks cluster-wide.
    pub namespace: Option<String>,
    /// One object by name; `None` asks about all of them.
    pub name: Option<String>,
}

impl Attributes {
    /// Cluster owner: may `patch` `namespaces` cluster-wide.
    pub fn owner() -> Self {
        Attributes::new("patch", "", "namespaces", None, None)
    }

    /// Project member of `namespace`: may `list` `pods` there.
    pub fn member_of(namespace: &str) -> Self {
        Attributes::new("list", "", "pods", Some(namespace), None)
    }

    /// `verb` on `group`/`resource` in `namespace` (`None`: cluster-wide),
    /// for the object `name` if given.
    pub fn new(
        verb: &str,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Self {
        Attributes {
            verb: verb.to_owned(),
            group: group.to_owned(),
            resource: resource.to_owned(),
            namespace: namespace.map(str::to_owned),
            name: name.map(str::to_owned),
        }
    }

    /// How a person would say it, for messages.
    pub fn describe(&self) -> String {
        let resource = if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        };
        let object = match &self.name {
            Some(name) => format!("{resource} {name:?}"),
            None => resource,
        };
        match &self.namespace {
            Some(ns) => format!("{} {object} in namespace {ns:?}", self.verb),
            None => format!("{} {object} cluster-wide", self.verb),
        }
    }
}

/// Asks the cluster who holds `token`: `Ok(None)` when it does not accept it.
#[tracing::instrument(name = "kubernetes.token_review", skip_all)]
pub async fn review_token(client: &kube::Client, token: &str) -> Result<Option<Identity>> {
    let review = TokenReview {
        spec: TokenReviewSpec {
            token: Some(token.to_owned()),
            ..TokenReviewSpec::default()
        },
        ..TokenReview::default()
    };
    let answer = Api::<TokenReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| api_error("create tokenreviews", Acting::Meshdeck, e))?;
    let Some(status) = answer.status else {
        return Ok(None);
    };
    if status.authenticated != Some(true) {
        // The authenticator's reason ("token expired", ...) is for the log;
        // it never contains the token itself.
        tracing::debug!(
            reason = status.error.as_deref().unwrap_or(""),
            "token not accepted"
        );
        return Ok(None);
    }
    let Some(user) = status.user else {
        return Ok(None);
    };
    let Some(name) = user.username.filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    Ok(Some(Identity {
        user: name,
        uid: user.uid.filter(|u| !u.is_empty()),
        groups: user.groups.unwrap_or_default(),
        extra: user.extra.unwrap_or_default(),
    }))
}

/// Asks the cluster whether `who` may do `what`.
#[tracing::instrument(name = "kubernetes.subject_access_review", skip_all, fields(user = %who.user, attributes = %what.describe()))]
pub async fn review_access(
    client: &kube::Client,
    who: &Identity,
    what: &Attributes,
) -> Result<bool> {
    let review = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some(who.user.clone()),
            uid: who.uid.clone(),
            groups: Some(who.groups.clone()),
            extra: (!who.extra.is_empty()).then(|| who.extra.clone()),
            resource_attributes: Some(ResourceAttributes {
                verb: Some(what.verb.clone()),
                group: Some(what.group.clone()),
                resource: Some(what.resource.clone()),
                namespace: what.namespace.clone(),
                name: what.name.clone(),
                ..ResourceAttributes::default()
            }),
            ..SubjectAccessReviewSpec::default()
        },
        ..SubjectAccessReview::default()
    };
    let answer = Api::<SubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| api_error("create subjectaccessreviews", Acting::Meshdeck, e))?;
    Ok(answer
        .status
        .is_some_and(|s| s.allowed && s.denied != Some(true)))
}

/// Every namespace with its project, read with meshdeck's own account.
#[tracing::instrument(name = "kubernetes.list_namespaces", skip_all)]
pub async fn list_namespaces(
    client: &kube::Client,
    project_key: &str,
) -> Result<Vec<NamespaceInfo>> {
    let api = Api::<Namespace>::all(client.clone());
    let mut out = Vec::new();
    let mut params = ListParams::default().limit(PAGE_SIZE);
    loop {
        let page = api
            .list(&params)
            .await
            .map_err(|e| api_error("list namespaces", Acting::Meshdeck, e))?;
        for ns in &page.items {
            let Some(name) = ns.metadata.name.as_deref() else {
                continue;
            };
            let empty = BTreeMap::new();
            out.push(namespace_info(
                name,
                ns.metadata.labels.as_ref().unwrap_or(&empty),
                ns.metadata.annotations.as_ref().unwrap_or(&empty),
                project_key,
            ));
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_read_like_rbac() {
        assert_eq!(
            Attributes::owner().describe(),
            "patch namespaces cluster-wide"
        );
        assert_eq!(
            Attributes::member_of("bookinfo").describe(),
            "list pods in namespace \"bookinfo\""
        );
        assert_eq!(
            Attributes::new("patch", "apps", "deployments", Some("shop"), Some("cart")).describe(),
            "patch deployments.apps \"cart\" in namespace \"shop\""
        );
    }
}
