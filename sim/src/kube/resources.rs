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
/// Coordination group name (Leases).
pub const COORDINATION: &str = "coordination.k8s.io";

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
    // Leases, for leader election between replicas.
    stored(
        COORDINATION,
        "v1",
        "leases",
        "lease",
        "Lease",
        true,
        false,
        &[],
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

/// Sail operator group name.
pub const SAIL_OPERATOR: &str = "sailoperator.io";
/// istioctl operator API group name.
pub const ISTIO_INSTALL: &str = "install.istio.io";
/// Kubernetes Gateway API group name.
pub const GATEWAY_API: &str = "gateway.networking.k8s.io";
/// The Prometheus Operator's API group name.
pub const MONITORING: &str = "monitoring.coreos.com";

/// Custom resources an operator brings: served only once
/// [`InMemoryCluster::install_crd`](super::InMemoryCluster::install_crd)
/// installed them, as a real cluster serves them only with their CRD.
pub const OPTIONAL_CRDS: &[ResourceType] = &[
    stored(
        SAIL_OPERATOR,
        "v1",
        "istios",
        "istio",
        "Istio",
        false,
        true,
        &[],
    ),
    stored(
        ISTIO_INSTALL,
        "v1alpha1",
        "istiooperators",
        "istiooperator",
        "IstioOperator",
        true,
        true,
        &["iop", "io"],
    ),
    // Istio's JWT policy: installed with Istio's CRDs, optional here so
    // that tests can see a kind appear.
    stored(
        ISTIO_SECURITY,
        "v1",
        "requestauthentications",
        "requestauthentication",
        "RequestAuthentication",
        true,
        true,
        &["ra"],
    ),
    // The Kubernetes Gateway API's routes, served where its CRDs are
    // installed.
    stored(
        GATEWAY_API,
        "v1",
        "httproutes",
        "httproute",
        "HTTPRoute",
        true,
        true,
        &[],
    ),
    stored(
        GATEWAY_API,
        "v1",
        "grpcroutes",
        "grpcroute",
        "GRPCRoute",
        true,
        true,
        &[],
    ),
    // The Prometheus Operator's monitors, served where its CRDs are
    // installed.
    stored(
        MONITORING,
        "v1",
        "servicemonitors",
        "servicemonitor",
        "ServiceMonitor",
        true,
        true,
        &["smon"],
    ),
    stored(
        MONITORING,
        "v1",
        "podmonitors",
        "podmonitor",
        "PodMonitor",
        true,
        true,
        &["pmon"],
    ),
];

/// Every type this server knows: the built-in table, then the optional CRDs.
fn known() -> impl Iterator<Item = &'static ResourceType> {
    RESOURCES.iter().chain(OPTIONAL_CRDS)
}

/// Whether `rt` is one of the [`OPTIONAL_CRDS`].
pub fn is_optional(rt: &ResourceType) -> bool {
    OPTIONAL_CRDS.contains(rt)
}

/// The resource type known at `group/version/plural` (an optional CRD is
/// served only when installed: see [`is_optional`]).
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    known().find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The resource type with this `apiVersion` and `kind`.
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceType> {
    known().find(|r| r.kind == kind && r.api_version() == api_version)
}

/// The served types: the built-in table plus the `installed` optional CRDs.
pub fn served<'a>(
    installed: &'a [&'static ResourceType],
) -> impl Iterator<Item = &'static ResourceType> + 'a {
    RESOURCES.iter().chain(installed.iter().copied())
}

/// The distinct API groups (without the core group) of the served types,
/// in table order, each with its versions.
pub fn groups(installed: &[&'static ResourceType]) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for r in served(installed).filter(|r| !r.group.is_empty()) {
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
        let all: Vec<&ResourceType> = known().collect();
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
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

#[cfg(test)]
mod optional_tests {
    use super::*;

    #[test]
    fn optional_crds_are_known_but_not_in_the_built_in_groups() {
        let sail = find(SAIL_OPERATOR, "v1", "istios").expect("istios");
        assert!(is_optional(sail));
        assert!(!sail.namespaced);
        assert_eq!(sail.qualified(), "istios.sailoperator.io");
        let iop = by_kind("install.istio.io/v1alpha1", "IstioOperator").expect("iop");
        assert!(is_optional(iop) && iop.namespaced);
        assert!(!is_optional(
            find(APPS, "v1", "deployments").expect("deployments")
        ));
        assert!(groups(&[]).iter().all(|(g, _)| *g != SAIL_OPERATOR));
        let with = groups(&[sail]);
        assert!(
            with.iter()
                .any(|(g, v)| *g == SAIL_OPERATOR && v == &["v1"])
        );
    }
}
