//! Istio configuration: the objects in force and what is wrong with them.

use serde::{Deserialize, Serialize};

/// The Kubernetes Gateway API's group.
pub const GATEWAY_API_GROUP: &str = "gateway.networking.k8s.io";

/// A kind of Istio configuration meshdeck reads (with the Gateway API's
/// routes, which Istio implements).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IstioKind {
    /// `networking.istio.io` VirtualService: how requests to hosts are routed.
    VirtualService,
    /// `networking.istio.io` DestinationRule: subsets and traffic policy of a host.
    DestinationRule,
    /// `networking.istio.io` Gateway: a load balancer at the mesh's edge.
    Gateway,
    /// `networking.istio.io` ServiceEntry: a host outside the mesh's registry.
    ServiceEntry,
    /// `networking.istio.io` Sidecar: what a workload's proxy reaches.
    Sidecar,
    /// `security.istio.io` PeerAuthentication: mTLS mode of workloads.
    PeerAuthentication,
    /// `security.istio.io` AuthorizationPolicy: who may call what.
    AuthorizationPolicy,
    /// `security.istio.io` RequestAuthentication: which JWTs are accepted.
    RequestAuthentication,
    /// `gateway.networking.k8s.io` HTTPRoute: the Gateway API's routes for
    /// HTTP (Istio honours them for mesh traffic when their parent is a
    /// Service).
    HttpRoute,
    /// `gateway.networking.k8s.io` GRPCRoute: the same for gRPC.
    GrpcRoute,
}

impl IstioKind {
    /// Every kind, in display order.
    pub const ALL: [IstioKind; 10] = [
        IstioKind::VirtualService,
        IstioKind::DestinationRule,
        IstioKind::Gateway,
        IstioKind::ServiceEntry,
        IstioKind::Sidecar,
        IstioKind::PeerAuthentication,
        IstioKind::AuthorizationPolicy,
        IstioKind::RequestAuthentication,
        IstioKind::HttpRoute,
        IstioKind::GrpcRoute,
    ];

    /// The API group.
    pub fn group(self) -> &'static str {
        match self {
            IstioKind::PeerAuthentication
            | IstioKind::AuthorizationPolicy
            | IstioKind::RequestAuthentication => "security.istio.io",
            IstioKind::HttpRoute | IstioKind::GrpcRoute => GATEWAY_API_GROUP,
            _ => "networking.istio.io",
        }
    }

    /// The plural resource name (also the path segment in meshdeck's API).
    pub fn plural(self) -> &'static str {
        match self {
            IstioKind::VirtualService => "virtualservices",
            IstioKind::DestinationRule => "destinationrules",
            IstioKind::Gateway => "gateways",
            IstioKind::ServiceEntry => "serviceentries",
            IstioKind::Sidecar => "sidecars",
            IstioKind::PeerAuthentication => "peerauthentications",
            IstioKind::AuthorizationPolicy => "authorizationpolicies",
            IstioKind::RequestAuthentication => "requestauthentications",
            IstioKind::HttpRoute => "httproutes",
            IstioKind::GrpcRoute => "grpcroutes",
        }
    }

    /// The Kubernetes kind, e.g. `VirtualService`.
    pub fn label(self) -> &'static str {
        match self {
            IstioKind::VirtualService => "VirtualService",
            IstioKind::DestinationRule => "DestinationRule",
            IstioKind::Gateway => "Gateway",
            IstioKind::ServiceEntry => "ServiceEntry",
            IstioKind::Sidecar => "Sidecar",
            IstioKind::PeerAuthentication => "PeerAuthentication",
            IstioKind::AuthorizationPolicy => "AuthorizationPolicy",
            IstioKind::RequestAuthentication => "RequestAuthentication",
            IstioKind::HttpRoute => "HTTPRoute",
            IstioKind::GrpcRoute => "GRPCRoute",
        }
    }

    /// Parses a path segment: the plural or the kind, any case.
    pub fn from_segment(segment: &str) -> Option<Self> {
        let s = segment.to_ascii_lowercase();
        IstioKind::ALL
            .into_iter()
            .find(|k| s == k.plural() || s == k.label().to_ascii_lowercase())
    }
}

/// Whether the cluster serves a kind, and in which version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IstioKindServed {
    /// The kind.
    pub kind: IstioKind,
    /// The API version read (`v1`, or `v1beta1` on older meshes); `None`
    /// when the cluster does not serve the kind (listed, not an error).
    pub version: Option<String>,
}

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Traffic is, or will be, broken.
    Error,
    /// Probably not what was meant.
    Warning,
}

/// One finding about one object: a stable code, how bad, where, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Validation {
    /// Stable code, e.g. `vs.subset-not-found`.
    pub code: String,
    /// How bad.
    pub severity: Severity,
    /// The object's kind.
    pub kind: IstioKind,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Where in the object, e.g. `spec.http[0].route[1].destination.subset`.
    pub path: String,
    /// What is wrong, in words.
    pub message: String,
}

/// A Kubernetes service by namespace and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceName {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// One Istio object in a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IstioObjectSummary {
    /// Kind.
    pub kind: IstioKind,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The hosts it is about (VirtualService, DestinationRule, Gateway,
    /// ServiceEntry), as written.
    pub hosts: Vec<String>,
    /// The Kubernetes services it configures: its hosts and route
    /// destinations that name services, or the services whose workloads
    /// its selector picks (for showing it on the graph).
    pub services: Vec<ServiceName>,
    /// Written by meshdeck (`app.kubernetes.io/managed-by=meshdeck`).
    pub managed_by_meshdeck: bool,
    /// When it was created (RFC 3339).
    pub created: Option<String>,
    /// Errors found in it.
    pub errors: u32,
    /// Warnings found in it.
    pub warnings: u32,
}

/// `GET /api/istio/config`: the Istio objects of the namespaces asked for
/// (those the caller may see), and the findings about them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IstioConfigList {
    /// The namespaces listed.
    pub namespaces: Vec<String>,
    /// Every kind, with whether the cluster serves it.
    pub kinds: Vec<IstioKindServed>,
    /// The objects, by kind, namespace and name.
    pub objects: Vec<IstioObjectSummary>,
    /// Every finding, errors first.
    pub validations: Vec<Validation>,
    /// Checks that could not run and why (e.g. no Prometheus for the one
    /// that needs the traffic graph).
    pub skipped: Vec<String>,
}

/// Who wrote which fields of an object (its `managedFields`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldManager {
    /// The manager, e.g. `meshdeck` or `kubectl-client-side-apply`.
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// When it last wrote (RFC 3339).
    pub time: Option<String>,
    /// The subresource written (`status`), if any.
    pub subresource: Option<String>,
    /// The fields it owns, as paths (`.spec.http`, `.metadata.labels.app`).
    pub fields: Vec<String>,
}

/// `GET /api/istio/config/{namespace}/{kind}/{name}`: one object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IstioObjectDetail {
    /// Kind.
    pub kind: IstioKind,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The object as YAML, without `managedFields` (as `kubectl get -o yaml` shows it).
    pub yaml: String,
    /// The object as JSON, the same fields.
    pub object: serde_json::Value,
    /// Who owns what.
    pub managers: Vec<FieldManager>,
    /// Findings about it.
    pub validations: Vec<Validation>,
}
