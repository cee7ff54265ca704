//! The Kubernetes calls behind identity and roles: TokenReview (who holds
//! this token), SubjectAccessReview (may they do this) and the namespace
//! list (meshdeck's own account). Each failure becomes a 503 naming
//! Kubernetes; a token the cluster rejects is a 401.

use std::collections::BTreeMap;

use app::types::UpstreamKind;
use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::{ListParams, PostParams};

use super::projects::{NamespaceInfo, namespace_info};
use crate::error::{Error, Result};

/// Namespaces fetched per list call; the rest come with continue tokens.
const PAGE_SIZE: u32 = 500;

/// A user as the cluster's authenticator reports them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Identity {
    /// User name, e.g. `alice` or `system:serviceaccount:ns:name`.
    pub user: String,
    /// Unique id, where the authenticator gives one.
    pub uid: Option<String>,
    /// Groups.
    pub groups: Vec<String>,
    /// Extra attributes (scopes and the like), passed on to authorization.
    pub extra: BTreeMap<String, Vec<String>>,
}

/// The resource part of a SubjectAccessReview.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Attributes {
    /// Verb: `list`, `patch`, ...
    pub verb: &'static str,
    /// API group, `""` for the core group.
    pub group: &'static str,
    /// Plural resource.
    pub resource: &'static str,
    /// Namespace; `None` asks cluster-wide.
    pub namespace: Option<String>,
}

impl Attributes {
    /// Cluster owner: may `patch` `namespaces` cluster-wide.
    pub fn owner() -> Self {
        Attributes {
            verb: "patch",
            group: "",
            resource: "namespaces",
            namespace: None,
        }
    }

    /// Project member of `namespace`: may `list` `pods` there.
    pub fn member_of(namespace: &str) -> Self {
        Attributes {
            verb: "list",
            group: "",
            resource: "pods",
            namespace: Some(namespace.to_owned()),
        }
    }

    /// How a person would say it, for messages.
    pub fn describe(&self) -> String {
        let resource = if self.group.is_empty() {
            self.resource.to_owned()
        } else {
            format!("{}.{}", self.resource, self.group)
        };
        match &self.namespace {
            Some(ns) => format!("{} {resource} in namespace {ns:?}", self.verb),
            None => format!("{} {resource} cluster-wide", self.verb),
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
        .map_err(|e| kube_error("create tokenreviews", e))?;
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
                verb: Some(what.verb.to_owned()),
                group: Some(what.group.to_owned()),
                resource: Some(what.resource.to_owned()),
                namespace: what.namespace.clone(),
                ..ResourceAttributes::default()
            }),
            ..SubjectAccessReviewSpec::default()
        },
        ..SubjectAccessReview::default()
    };
    let answer = Api::<SubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| kube_error("create subjectaccessreviews", e))?;
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
            .map_err(|e| kube_error("list namespaces", e))?;
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

/// A failed call as a 503 that names Kubernetes and, where meshdeck's own
/// account lacks a permission, which one.
fn kube_error(what: &str, err: kube::Error) -> Error {
    let reason = match &err {
        kube::Error::Api(status) if status.code == 401 || status.code == 403 => format!(
            "meshdeck's own Kubernetes account may not {what} (HTTP {}); grant it create on \
             tokenreviews and subjectaccessreviews and list on namespaces (see README)",
            status.code
        ),
        kube::Error::Api(status) => {
            format!("{what} failed: {} (HTTP {})", status.message, status.code)
        }
        other => format!("{what} failed: {other}"),
    };
    tracing::warn!(error = %err, "Kubernetes call failed");
    Error::Upstream {
        upstream: UpstreamKind::Kubernetes,
        reason,
    }
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
    }
}
