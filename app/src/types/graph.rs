//! The traffic graph: graph types, nodes, edges and boxes, the overview's
//! aggregation and one node's detail.

use serde::{Deserialize, Serialize};

/// What a traffic graph's nodes stand for (Kiali's graph types).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum GraphType {
    /// One node per app (canonical service), versions merged.
    App,
    /// One node per app version, boxed by app.
    #[default]
    VersionedApp,
    /// One node per workload.
    Workload,
    /// One node per service.
    Service,
}

impl GraphType {
    /// Every graph type, in the order the UI offers them.
    pub const ALL: [GraphType; 4] = [
        GraphType::VersionedApp,
        GraphType::App,
        GraphType::Workload,
        GraphType::Service,
    ];

    /// The query-string value (`app`, `versionedApp`, `workload`, `service`).
    pub fn as_str(self) -> &'static str {
        match self {
            GraphType::App => "app",
            GraphType::VersionedApp => "versionedApp",
            GraphType::Workload => "workload",
            GraphType::Service => "service",
        }
    }

    /// Parses [`GraphType::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        GraphType::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// What a graph node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// A workload (Deployment, StatefulSet, ...).
    Workload,
    /// An app, or one version of it in the versioned app graph.
    App,
    /// A Kubernetes service in the mesh.
    Service,
    /// Callers the mesh cannot identify (outside the mesh, or without a sidecar).
    Unknown,
    /// A service outside the mesh (e.g. `api.stripe.com`).
    External,
    /// A whole namespace in the overview: its members' traffic aggregated.
    Namespace,
    /// A whole project in the overview by project: its namespaces' traffic
    /// aggregated (the node's `namespace` is the project's id, its `name`
    /// the project's name).
    Project,
}

impl NodeKind {
    /// Its name on the wire (`external`, ...): the find language's `kind`
    /// values and the UI's CSS classes.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Workload => "workload",
            NodeKind::App => "app",
            NodeKind::Service => "service",
            NodeKind::Unknown => "unknown",
            NodeKind::External => "external",
            NodeKind::Namespace => "namespace",
            NodeKind::Project => "project",
        }
    }

    /// Whether the node stands for a whole namespace or project of an
    /// overview (its members' traffic aggregated).
    pub fn is_folded(self) -> bool {
        matches!(self, NodeKind::Namespace | NodeKind::Project)
    }
}

/// Traffic protocol of an edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EdgeProtocol {
    /// HTTP/1.1 or HTTP/2 requests.
    Http,
    /// gRPC calls.
    Grpc,
    /// Raw TCP (bytes, no requests).
    Tcp,
}

/// Health of a node or edge, with Kiali's default thresholds: 5xx at 10 %
/// is a failure; 4xx at 10 % is degraded, at 20 % a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GraphHealth {
    /// Errors below every threshold.
    Healthy,
    /// Some threshold for "degraded" reached.
    Degraded,
    /// Some threshold for "failure" reached.
    Failure,
    /// No requests to judge by (idle, TCP only, or not visible).
    NoTraffic,
}

/// What a box groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BoxKind {
    /// All nodes of one namespace.
    Namespace,
    /// The versions of one app (versioned app graph).
    App,
}

/// A box drawn around related nodes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GraphBox {
    /// Stable id (`ns:bookinfo`, `box:bookinfo:reviews`).
    pub id: String,
    /// Namespace or app box.
    pub kind: BoxKind,
    /// Namespace or app name.
    pub label: String,
    /// The namespace.
    pub namespace: String,
    /// The enclosing box (app boxes sit in their namespace box).
    pub parent: Option<String>,
}

/// One node of the traffic graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GraphNode {
    /// Stable id, the same across refreshes (`vapp:bookinfo:reviews:v3`).
    pub id: String,
    /// What the node is.
    pub kind: NodeKind,
    /// Namespace (`unknown` for the unknown node).
    pub namespace: String,
    /// The name shown (workload, app, service or host name).
    pub name: String,
    /// App (canonical service), when known.
    pub app: Option<String>,
    /// Version (canonical revision), in the versioned app and workload graphs.
    pub version: Option<String>,
    /// The innermost box the node sits in.
    pub parent: Option<String>,
    /// Outside the caller's namespaces: shown, but without details.
    pub inaccessible: bool,
    /// Whether the workload's pods carry the Istio sidecar; `None` when not
    /// a workload, not visible, or the cluster could not be asked.
    pub sidecar: Option<bool>,
    /// No traffic in the window.
    pub idle: bool,
    /// Nothing calls it in the graph (a traffic source).
    pub root: bool,
    /// Requests per second received (HTTP and gRPC).
    pub rps_in: f64,
    /// Requests per second sent (HTTP and gRPC).
    pub rps_out: f64,
    /// TCP bytes per second received.
    pub tcp_in: f64,
    /// TCP bytes per second sent.
    pub tcp_out: f64,
    /// Share of received requests that failed (4xx, 5xx, gRPC errors), in %.
    pub error_pct: f64,
    /// Health from the received (or, for sources, sent) requests.
    pub health: GraphHealth,
}

/// Requests per second with one response code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeRate {
    /// HTTP status, or `grpc:N` for a gRPC status.
    pub code: String,
    /// Requests per second.
    pub rate: f64,
}

/// One edge of the traffic graph: traffic from one node to another.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GraphEdge {
    /// Stable id (`source id -> target id`).
    pub id: String,
    /// Calling node id.
    pub source: String,
    /// Called node id.
    pub target: String,
    /// HTTP, gRPC or TCP.
    pub protocol: EdgeProtocol,
    /// Requests per second (HTTP and gRPC; 0 for TCP).
    pub rps: f64,
    /// Requests per second by response code.
    pub codes: Vec<CodeRate>,
    /// Failed requests (4xx, 5xx, gRPC errors), in % of requests.
    pub error_pct: f64,
    /// Server errors (5xx, gRPC server errors), in % of requests.
    pub server_error_pct: f64,
    /// 95th percentile response time in ms (HTTP and gRPC).
    pub p95_ms: Option<f64>,
    /// Bytes per second (TCP).
    pub bytes_per_s: Option<f64>,
    /// Share of the source's traffic of this protocol class, in %.
    pub share_pct: f64,
    /// Share of the traffic sent with mutual TLS, in %; `None` when no
    /// destination proxy reported it.
    pub mtls_pct: Option<f64>,
    /// Health from the error shares.
    pub health: GraphHealth,
    /// No traffic in the window.
    pub idle: bool,
}

/// `GET /api/graph`: the traffic graph of some namespaces at one instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Graph {
    /// What the nodes stand for.
    pub graph_type: GraphType,
    /// The namespaces asked for.
    pub namespaces: Vec<String>,
    /// Rate window in seconds.
    pub window_s: f64,
    /// The instant the graph describes (Unix seconds).
    pub query_time: f64,
    /// Namespace and app boxes.
    pub boxes: Vec<GraphBox>,
    /// Nodes, sorted by id.
    pub nodes: Vec<GraphNode>,
    /// Edges, sorted by id.
    pub edges: Vec<GraphEdge>,
    /// What could not be included (e.g. the TCP query failed).
    pub warnings: Vec<String>,
    /// The PromQL the graph was built from.
    pub queries: Vec<String>,
    /// Present when namespaces are aggregated into one node each (the
    /// overview); absent for a graph in full detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overview: Option<GraphOverview>,
}

/// How a graph is aggregated: which namespaces stand as one node each.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GraphOverview {
    /// The server chose the overview because more namespaces were asked
    /// for than it draws in detail (`aggregate` was not given).
    pub automatic: bool,
    /// Most namespaces one graph shows in detail (`--graph-max-namespaces`).
    pub detail_limit: usize,
    /// Namespaces shown in full (the request's `expand`), sorted.
    pub expanded: Vec<String>,
    /// What one node stands for: a namespace, or a project.
    #[serde(default)]
    pub by: crate::types::Aggregate,
    /// The aggregated namespaces (or projects), sorted by namespace (or
    /// project id).
    pub namespaces: Vec<NamespaceSummary>,
}

/// What one aggregated namespace (or project) node stands for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NamespaceSummary {
    /// The namespace (a project's id, for a project).
    pub namespace: String,
    /// Its node's id (`ns:<namespace>`, `project:<id>`).
    pub node: String,
    /// The namespaces folded into the node, sorted (for a namespace: itself).
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Service nodes it holds (in the service-injected graphs).
    pub services: usize,
    /// Nodes of the detailed graph it holds (workloads, apps, services).
    pub nodes: usize,
    /// Requests per second between its own members (not drawn).
    pub internal_rps: f64,
}

/// `GET /api/graph/node`: one node's inbound and outbound traffic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GraphNodeDetail {
    /// The node.
    pub node: GraphNode,
    /// Edges into it, busiest first.
    pub inbound: Vec<GraphEdge>,
    /// Edges out of it, busiest first.
    pub outbound: Vec<GraphEdge>,
    /// The nodes at the other ends of those edges.
    pub peers: Vec<GraphNode>,
    /// The scope of its traffic metrics, when it has any (the UI links to
    /// the Traffic Metrics page with it and draws the node's charts).
    pub metrics: Option<super::query::MetricsQuery>,
    /// The search of its traces, when it has any: its service as tracing
    /// names it (`<app>.<namespace>`) over the graph's window.
    pub traces: Option<super::query::TraceSearchQuery>,
}
