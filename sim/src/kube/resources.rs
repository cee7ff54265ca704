//! The table of resource types the in-memory API server serves: adding a
//! type is one entry in [`RESOURCES`].

/// Verbs of a normal stored resource, as discovery lists them.
pub const STORED_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// Verbs of review resources (TokenReview, SubjectAccessReview): create only.
pub const REVIEW_VERBS: &[&str] = &["create"];

/// How the server handles requests for a resource type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handling {
    /// Objects kept in the store with the usual verbs.
    Stored,
    /// `authentication.k8s.io` TokenReview: answered, never stored.
    TokenReview,
    /// `authorization.k8s.io` SubjectAccessReview: answered, never stored.
    SubjectAccessReview,
}

/// One resource type served by the API server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceType {
    /// API group, `""` for the core group.
    pub group: &'static str,
    /// API version, e.g. `v1`.
    pub version: &'static str,
    /// Plural resource name used in URLs, e.g. `deployments`.
    pub plural: &'static str,
    /// Singular name, e.g. `deployment`.
    pub singular: &'static str,
    /// `kind` of the objects.
    pub kind: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Whether `metadata.generation` counts spec changes.
    pub generation: bool,
    /// Short names for discovery (`kubectl get deploy`).
    pub short_names: &'static [&'static str],
    /// How requests are answered.
    pub handling: Handling,
}

impl ResourceType {
    /// `apiVersion` of the objects, e.g. `apps/v1` or `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `kind` of list responses, e.g. `DeploymentList`.
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// The name Kubernetes uses in messages, e.g. `deployments.apps`.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_owned()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// Verbs served for this type.
    pub fn verbs(&self) -> &'static [&'static str] {
        match self.handling {
            Handling::Stored => STORED_VERBS,
            Handling::TokenReview | Handling::SubjectAccessReview => REVIEW_VERBS,
        }
    }
}

/// Shorthand for a table entry.
#[allow(clippy::too_many_arguments)]
const fn stored(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    generation: bool,
    short_names: &'static [&'static str],
) -> ResourceType {
    ResourceType {
        group,
        version,
        plural,
        singular,
        kind,
        namespaced,
        generation,
        short_names,
        handling: Handling::Stored,
    }
}

/// Core group name.
pub const CORE: &str = "";
/// `apps` group name.
pub const APPS: &str = "apps";
/// RBAC group name.
pub const RBAC: &str = "rbac.authorization.k8s.io";
/// Istio networking group name.
pub const ISTIO_NETWORKING: &str = "networking.istio.io";
/// Istio security group name.
pub const ISTIO_SECURITY: &str = "security.istio.io";
/// Authentication group name.
pub const AUTHENTICATION: &str = "authentication.k8s.io";
/// Authorization group name.
pub const AUTHORIZATION: &str = "authorization.k8s.io";

/// Every resource type served, grouped by API group in discovery order.
pub const RESOURCES: &[ResourceType] = &[
    stored(
        CORE,
        "v1",
        "namespaces",
        "namespace",
        "Namespace",
        false,
        false,
        &["ns"],
    ),
    stored(CORE, "v1", "nodes", "node", "Node", false, false, &["no"]),
    stored(CORE, "v1", "pods", "pod", "Pod", true, false, &["po"]),
    stored(
        CORE,
        "v1",
        "services",
        "service",
        "Service",
        true,
        false,
        &["svc"],
    ),
    stored(
        CORE,
        "v1",
        "configmaps",
        "configmap",
        "ConfigMap",
        true,
        false,
        &["cm"],
    ),
    stored(
        CORE,
        "v1",
        "serviceaccounts",
        "serviceaccount",
        "ServiceAccount",
        true,
        false,
        &["sa"],
    ),
    stored(
        APPS,
        "v1",
        "deployments",
        "deployment",
        "Deployment",
        true,
        true,
        &["deploy"],
    ),
    stored(
        APPS,
        "v1",
        "statefulsets",
        "statefulset",
        "StatefulSet",
        true,
        true,
        &["sts"],
    ),
    stored(
        APPS,
        "v1",
        "daemonsets",
        "daemonset",
        "DaemonSet",
        true,
        true,
        &["ds"],
    ),
    stored(
        APPS,
        "v1",
        "replicasets",
        "replicaset",
        "ReplicaSet",
        true,
        true,
        &["rs"],
    ),
    stored(RBAC, "v1", "roles", "role", "Role", true, false, &[]),
    stored(
        RBAC,
        "v1",
        "rolebindings",
        "rolebinding",
        "RoleBinding",
        true,
        false,
        &[],
    ),
    stored(
        RBAC,
        "v1",
        "clusterroles",
        "clusterrole",
        "ClusterRole",
        false,
        false,
        &[],
    ),
    stored(
        RBAC,
        "v1",
        "clusterrolebindings",
        "clusterrolebinding",
        "ClusterRoleBinding",
        false,
        false,
        &[],
    ),
    stored(
        ISTIO_NETWORKING,
        "v1",
        "virtualservices",
        "virtualservice",
        "VirtualService",
        true,
        true,
        &["vs"],
    ),
    stored(
        ISTIO_NETWORKING,
        "v1",
        "destinationrules",
        "destinationrule",
        "DestinationRule",
        true,
        true,
        &["dr"],
    ),
    stored(
        ISTIO_NETWORKING,
        "v1",
        "gateways",
        "gateway",
        "Gateway",
        true,
        true,
        &["gw"],
    ),
    stored(
        ISTIO_NETWORKING,
        "v1",
        "serviceentries",
        "serviceentry",
        "ServiceEntry",
        true,
        true,
        &["se"],
    ),
    stored(
        ISTIO_NETWORKING,
        "v1",
        "sidecars",
        "sidecar",
        "Sidecar",
        true,
        true,
        &[],
    ),
    stored(
        ISTIO_SECURITY,
        "v1",
        "peerauthentications",
        "peerauthentication",
        "PeerAuthentication",
        true,
        true,
        &["pa"],
    ),
    stored(
        ISTIO_SECURITY,
        "v1",
        "authorizationpolicies",
        "authorizationpolicy",
        "AuthorizationPolicy",
        true,
        true,
        &["ap"],
    ),
    ResourceType {
        group: AUTHENTICATION,
        version: "v1",
        plural: "tokenreviews",
        singular: "tokenreview",
        kind: "TokenReview",
        namespaced: false,
        generation: false,
        short_names: &[],
        handling: Handling::TokenReview,
    },
    ResourceType {
        group: AUTHORIZATION,
        version: "v1",
        plural: "subjectaccessreviews",
        singular: "subjectaccessreview",
        kind: "SubjectAccessReview",
        namespaced: false,
        generation: false,
        short_names: &[],
        handling: Handling::SubjectAccessReview,
    },
];

/// The resource type served at `group/version/plural`.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The resource type with this `apiVersion` and `kind`.
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceType> {
    RESOURCES
        .iter()
        .find(|r| r.kind == kind && r.api_version() == api_version)
}

/// The distinct API groups (without the core group), in table order, each
/// with its versions.
pub fn groups() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for r in RESOURCES.iter().filter(|r| !r.group.is_empty()) {
        match out.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) => {
                if !versions.contains(&r.version) {
                    versions.push(r.version);
                }
            }
            None => out.push((r.group, vec![r.version])),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_no_duplicates() {
        for (i, a) in RESOURCES.iter().enumerate() {
            for b in &RESOURCES[i + 1..] {
                assert!(
                    !(a.group == b.group && a.version == b.version && a.plural == b.plural),
                    "{} twice",
                    a.plural
                );
            }
        }
    }

    #[test]
    fn qualified_names_follow_kubernetes() {
        let d = find(APPS, "v1", "deployments").expect("deployments");
        assert_eq!(d.qualified(), "deployments.apps");
        assert_eq!(d.api_version(), "apps/v1");
        let n = find(CORE, "v1", "namespaces").expect("namespaces");
        assert_eq!(n.qualified(), "namespaces");
        assert_eq!(n.api_version(), "v1");
        assert_eq!(n.list_kind(), "NamespaceList");
    }
}
