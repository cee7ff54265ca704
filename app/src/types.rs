//! Wire types: every value that crosses the HTTP boundary between the server
//! and the browser (or a script) is defined here, once. Only serde is needed,
//! so the server uses this module without compiling the UI.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The body of every error response: `{"error": {"code": ..., "message": ...}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// Machine-readable code plus a message written for a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable, machine-readable error class.
    pub code: ErrorCode,
    /// What was wrong, in words; never contains secrets or internal details of 5xx errors.
    pub message: String,
}

/// Stable error classes; each maps to one HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: malformed request (bad query string, bad JSON, bad parameter).
    BadRequest,
    /// 401: no credentials, or credentials the cluster rejected.
    Unauthenticated,
    /// 403: authenticated, but not allowed.
    Forbidden,
    /// 404: no such resource or API path.
    NotFound,
    /// 405: the path exists but not for this method.
    MethodNotAllowed,
    /// 409: the resource changed underneath the request.
    Conflict,
    /// 422: well-formed but invalid input (validation errors).
    Invalid,
    /// 500: a bug or unexpected state on the server; details are in its log.
    Internal,
    /// 503: an upstream (Kubernetes, Prometheus, Jaeger) is unreachable or timed out.
    UpstreamUnavailable,
    /// A code this client does not know yet (newer server).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The HTTP status code this error class is sent with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict => 409,
            ErrorCode::Invalid => 422,
            ErrorCode::Internal | ErrorCode::Unknown => 500,
            ErrorCode::UpstreamUnavailable => 503,
        }
    }
}

/// `GET /api/health`: the process is up and serving.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// Always `"ok"` when the server answers.
    pub status: String,
    /// meshdeck's version.
    pub version: String,
}

/// `GET /api/ready`: whether this replica can serve (its Kubernetes API
/// answers), with the upstreams' probes; 503 when not ready.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    /// The Kubernetes API answered meshdeck's probe.
    pub ready: bool,
    /// Why not, in words.
    pub reason: Option<String>,
    /// Every upstream's probe (as in `/api/status`).
    pub upstreams: Vec<UpstreamStatus>,
}

/// How the server was started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    /// `meshdeck serve`: a real cluster.
    Serve,
    /// `meshdeck demo`: the built-in simulated mesh.
    Demo,
}

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

/// The outside systems meshdeck talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UpstreamKind {
    /// The Kubernetes API server.
    Kubernetes,
    /// A Prometheus-compatible HTTP API.
    Prometheus,
    /// A Jaeger query service.
    Jaeger,
    /// Grafana (linked to, not required).
    Grafana,
    /// Kiali (linked to, not required).
    Kiali,
}

impl UpstreamKind {
    /// Every kind, in the order the UI lists them.
    pub const ALL: [UpstreamKind; 5] = [
        UpstreamKind::Kubernetes,
        UpstreamKind::Prometheus,
        UpstreamKind::Jaeger,
        UpstreamKind::Grafana,
        UpstreamKind::Kiali,
    ];

    /// Name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            UpstreamKind::Kubernetes => "Kubernetes",
            UpstreamKind::Prometheus => "Prometheus",
            UpstreamKind::Jaeger => "Jaeger",
            UpstreamKind::Grafana => "Grafana",
            UpstreamKind::Kiali => "Kiali",
        }
    }

    /// What meshdeck uses the system for.
    pub fn purpose(self) -> &'static str {
        match self {
            UpstreamKind::Kubernetes => "identity, roles, namespaces, workloads, enablement",
            UpstreamKind::Prometheus => "traffic metrics, graph, console and dashboards",
            UpstreamKind::Jaeger => "trace search and span waterfall",
            UpstreamKind::Grafana => "link to external dashboards",
            UpstreamKind::Kiali => "link to external Kiali",
        }
    }
}

/// One upstream's state as seen by the server just now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpstreamStatus {
    /// Which system.
    pub kind: UpstreamKind,
    /// Whether meshdeck was given an address for it.
    pub configured: bool,
    /// `None` when not configured; otherwise whether it answered in time.
    pub reachable: Option<bool>,
    /// The version it reported, where it reports one.
    pub version: Option<String>,
    /// Round-trip time of the probe in milliseconds, when it answered.
    pub latency_ms: Option<u64>,
    /// Why it is unreachable (or other remarks), in words.
    pub detail: Option<String>,
}

/// A link to an external tool's own UI (top-right corner of the console).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ToolLink {
    /// Which tool.
    pub kind: UpstreamKind,
    /// Where its UI lives.
    pub url: String,
}

/// `GET /api/status`: how the console is wired and what is reachable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Status {
    /// meshdeck's version.
    pub version: String,
    /// `serve` or `demo`.
    pub mode: RunMode,
    /// How callers are identified.
    pub auth_mode: AuthMode,
    /// One entry per [`UpstreamKind`], in [`UpstreamKind::ALL`] order.
    pub upstreams: Vec<UpstreamStatus>,
    /// What is wrong with how meshdeck is set up, in words (e.g. its
    /// account may not read the mesh settings); empty when nothing is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// Demo mode: the identities to choose from (the first owner is the
    /// default); empty otherwise. Public, so the UI can pick one before its
    /// first signed-in call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub demo_identities: Vec<DemoIdentity>,
}

/// What a metrics request is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MetricsScopeKind {
    /// Every namespace the caller may see.
    Mesh,
    /// The namespaces of one project.
    Project,
    /// One namespace.
    Namespace,
    /// One service (inbound: calls to it; outbound: calls its workloads make).
    Service,
    /// One workload (inbound: calls to it; outbound: calls it makes).
    Workload,
}

impl MetricsScopeKind {
    /// Every kind, in the order the UI offers them.
    pub const ALL: [MetricsScopeKind; 5] = [
        MetricsScopeKind::Mesh,
        MetricsScopeKind::Project,
        MetricsScopeKind::Namespace,
        MetricsScopeKind::Service,
        MetricsScopeKind::Workload,
    ];

    /// The query-string value.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricsScopeKind::Mesh => "mesh",
            MetricsScopeKind::Project => "project",
            MetricsScopeKind::Namespace => "namespace",
            MetricsScopeKind::Service => "service",
            MetricsScopeKind::Workload => "workload",
        }
    }

    /// Parses the query-string value.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Which calls of a service or workload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Calls it receives (reported by its own proxy).
    #[default]
    Inbound,
    /// Calls it makes (reported by its own proxy).
    Outbound,
}

impl Direction {
    /// The query-string value.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// The unit of a chart's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A share between 0 and 1, shown as a percentage.
    Ratio,
    /// Requests per second.
    RequestsPerSecond,
    /// Milliseconds.
    Milliseconds,
    /// Bytes (request and response sizes).
    Bytes,
    /// Bytes per second (TCP throughput).
    BytesPerSecond,
    /// A plain number (PromQL console results, whose unit is unknown).
    Number,
}

/// The five traffic charts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// Share of requests not answered with 5xx.
    SuccessRate,
    /// Requests per second.
    RequestVolume,
    /// 4xx responses per second.
    ClientErrors,
    /// 5xx responses per second.
    ServerErrors,
    /// p50, p90 and p99 of the request duration.
    RequestDuration,
}

impl ChartKind {
    /// The charts in display order.
    pub const ALL: [ChartKind; 5] = [
        ChartKind::SuccessRate,
        ChartKind::RequestVolume,
        ChartKind::ClientErrors,
        ChartKind::ServerErrors,
        ChartKind::RequestDuration,
    ];

    /// Chart title.
    pub fn title(self) -> &'static str {
        match self {
            ChartKind::SuccessRate => "Success Rate",
            ChartKind::RequestVolume => "Request Volume",
            ChartKind::ClientErrors => "4xx Response Count",
            ChartKind::ServerErrors => "5xx Response Count",
            ChartKind::RequestDuration => "Request Duration",
        }
    }

    /// Unit of the chart's values.
    pub fn unit(self) -> Unit {
        match self {
            ChartKind::SuccessRate => Unit::Ratio,
            ChartKind::RequestDuration => Unit::Milliseconds,
            _ => Unit::RequestsPerSecond,
        }
    }
}

/// One line of a chart: `[unix seconds, value or null]` points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Series {
    /// Legend label, e.g. `p99`.
    pub name: String,
    /// Points in time order; `None` where there was no traffic.
    pub points: Vec<(f64, Option<f64>)>,
}

/// One chart with the PromQL behind each of its series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Chart {
    /// Which chart.
    pub kind: ChartKind,
    /// Its lines.
    pub series: Vec<Series>,
    /// The PromQL of each series, in the same order.
    pub queries: Vec<String>,
}

/// One row of a top-10 list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopEntry {
    /// The service's namespace.
    pub namespace: String,
    /// The service's name.
    pub service: String,
    /// The ranked value (unit as in [`TopList::unit`]).
    pub value: f64,
}

/// What a top-10 list ranks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TopKind {
    /// Requests per second.
    Volume,
    /// 4xx responses per second.
    ClientErrors,
    /// 5xx responses per second.
    ServerErrors,
    /// p99 request duration.
    P99,
}

impl TopKind {
    /// Lists in display order.
    pub const ALL: [TopKind; 4] = [
        TopKind::Volume,
        TopKind::ClientErrors,
        TopKind::ServerErrors,
        TopKind::P99,
    ];

    /// List title.
    pub fn title(self) -> &'static str {
        match self {
            TopKind::Volume => "Top 10 by request volume",
            TopKind::ClientErrors => "Top 10 by 4xx responses",
            TopKind::ServerErrors => "Top 10 by 5xx responses",
            TopKind::P99 => "Top 10 by p99 duration",
        }
    }

    /// Unit of the ranked value.
    pub fn unit(self) -> Unit {
        match self {
            TopKind::P99 => Unit::Milliseconds,
            _ => Unit::RequestsPerSecond,
        }
    }
}

/// A top-10 list over the whole range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopList {
    /// What it ranks.
    pub kind: TopKind,
    /// Unit of the values.
    pub unit: Unit,
    /// Up to ten services, highest first.
    pub entries: Vec<TopEntry>,
    /// The PromQL behind it.
    pub query: String,
}

/// `GET /api/metrics`: the five charts and the top-10 lists of one scope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricsReport {
    /// Scope kind asked for.
    pub scope: MetricsScopeKind,
    /// Direction (services and workloads).
    pub direction: Direction,
    /// The namespaces the numbers cover; `None` when all namespaces.
    pub namespaces: Option<Vec<String>>,
    /// Range start (Unix seconds).
    pub start: f64,
    /// Range end (Unix seconds).
    pub end: f64,
    /// Seconds between points.
    pub step: f64,
    /// The rate window the charts use, in seconds.
    pub window: f64,
    /// The five charts, in [`ChartKind::ALL`] order.
    pub charts: Vec<Chart>,
    /// The top-10 lists, in [`TopKind::ALL`] order.
    pub top: Vec<TopList>,
}

/// A project and the namespaces of it the caller may see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectTargets {
    /// Project id (the label value).
    pub id: String,
    /// Its visible namespaces.
    pub namespaces: Vec<String>,
}

/// A namespace with the services and workloads that have traffic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NamespaceTargets {
    /// Namespace name.
    pub name: String,
    /// Services that received requests.
    pub services: Vec<String>,
    /// Workloads that sent or received requests.
    pub workloads: Vec<String>,
}

/// `GET /api/metrics/targets`: what the caller may pick as a metrics scope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricsTargets {
    /// Projects (empty when no cluster is configured).
    pub projects: Vec<ProjectTargets>,
    /// Namespaces with traffic in the last day.
    pub namespaces: Vec<NamespaceTargets>,
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

impl Role {
    /// Name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Member => "member",
        }
    }
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

/// One trace in a search result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TraceSummary {
    /// Trace id (hex).
    pub trace_id: String,
    /// Service of the root span.
    pub root_service: String,
    /// Operation of the root span.
    pub root_operation: String,
    /// Start of the trace (Unix microseconds).
    pub start_us: i64,
    /// Duration of the whole trace (microseconds).
    pub duration_us: i64,
    /// Number of spans.
    pub span_count: usize,
    /// Number of spans marked as errors.
    pub error_count: usize,
    /// Services the trace passes through.
    pub services: Vec<String>,
}

/// `GET /api/traces`: traces matching a search, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TraceSearch {
    /// The traces.
    pub traces: Vec<TraceSummary>,
    /// The limit that applied.
    pub limit: usize,
}

/// `GET /api/traces/services`: services with traces the caller may see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TraceServices {
    /// Service names as the tracer reports them (`<app>.<namespace>` in Istio).
    pub services: Vec<String>,
    /// Operations of the service asked for, if one was.
    pub operations: Vec<String>,
}

/// A timestamped log entry of a span.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpanLog {
    /// Unix microseconds.
    pub timestamp_us: i64,
    /// Key/value fields.
    pub fields: Vec<(String, String)>,
}

/// One span of a trace, in waterfall order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpanView {
    /// Span id (hex).
    pub span_id: String,
    /// The span this one is drawn under in the waterfall: its parent when
    /// that is in the trace; `None` for roots, for spans whose parent was
    /// not collected, and for the spans of a reference cycle or duplicate
    /// id, which are shown as roots after the tree (Jaeger's own
    /// references are not repeated here).
    pub parent_id: Option<String>,
    /// Depth in the call tree (root = 0).
    pub depth: usize,
    /// Service name.
    pub service: String,
    /// Operation name.
    pub operation: String,
    /// `client` or `server` where known.
    pub kind: Option<String>,
    /// Start (Unix microseconds).
    pub start_us: i64,
    /// Duration (microseconds).
    pub duration_us: i64,
    /// Marked as an error.
    pub error: bool,
    /// Tags (empty when redacted).
    pub tags: Vec<(String, String)>,
    /// Logs (empty when redacted).
    pub logs: Vec<SpanLog>,
    /// Outside the caller's namespaces: tags and logs withheld.
    pub redacted: bool,
}

/// `GET /api/traces/{id}`: one trace as a waterfall.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TraceDetail {
    /// Trace id (hex).
    pub trace_id: String,
    /// Start of the earliest span (Unix microseconds).
    pub start_us: i64,
    /// From the earliest start to the latest end (microseconds).
    pub duration_us: i64,
    /// Spans in depth-first order, children by start time.
    pub spans: Vec<SpanView>,
    /// The likely root cause: the deepest failing span on the error path.
    pub root_cause: Option<String>,
    /// Services in the trace.
    pub services: Vec<String>,
}

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

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            GraphType::App => "App graph",
            GraphType::VersionedApp => "Versioned app graph",
            GraphType::Workload => "Workload graph",
            GraphType::Service => "Service graph",
        }
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
}

impl NodeKind {
    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            NodeKind::Workload => "workload",
            NodeKind::App => "app",
            NodeKind::Service => "service",
            NodeKind::Unknown => "unknown",
            NodeKind::External => "external service",
            NodeKind::Namespace => "namespace",
        }
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

impl EdgeProtocol {
    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            EdgeProtocol::Http => "HTTP",
            EdgeProtocol::Grpc => "gRPC",
            EdgeProtocol::Tcp => "TCP",
        }
    }
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

impl GraphHealth {
    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            GraphHealth::Healthy => "healthy",
            GraphHealth::Degraded => "degraded",
            GraphHealth::Failure => "failure",
            GraphHealth::NoTraffic => "no traffic",
        }
    }
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
    /// The aggregated namespaces, sorted by name.
    pub namespaces: Vec<NamespaceSummary>,
}

/// What one aggregated namespace node stands for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NamespaceSummary {
    /// The namespace.
    pub namespace: String,
    /// Its node's id (`ns:<namespace>`).
    pub node: String,
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
    /// Console link to its traffic metrics, when it has any.
    pub metrics_url: Option<String>,
    /// Console link to its traces, when it has any.
    pub traces_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_the_documented_shape() {
        let body = ErrorBody {
            error: ErrorDetail {
                code: ErrorCode::NotFound,
                message: "no such API path: /api/nope".into(),
            },
        };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": {"code": "not_found", "message": "no such API path: /api/nope"}})
        );
    }

    #[test]
    fn unknown_error_codes_from_a_newer_server_still_parse() {
        let body: ErrorBody =
            serde_json::from_str(r#"{"error":{"code":"rate_limited","message":"slow down"}}"#)
                .unwrap();
        assert_eq!(body.error.code, ErrorCode::Unknown);
        assert_eq!(ErrorCode::Unknown.http_status(), 500);
    }

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

    #[test]
    fn status_without_demo_identities_still_parses() {
        let status: Status = serde_json::from_value(serde_json::json!({
            "version": "0.1.0", "mode": "serve", "auth_mode": "token", "upstreams": [], "links": []
        }))
        .unwrap();
        assert!(status.demo_identities.is_empty());
    }

    #[test]
    fn every_code_maps_to_an_error_status() {
        for code in [
            ErrorCode::BadRequest,
            ErrorCode::Unauthenticated,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::Conflict,
            ErrorCode::Invalid,
            ErrorCode::Internal,
            ErrorCode::UpstreamUnavailable,
        ] {
            let status = code.http_status();
            assert!((400..600).contains(&status), "{code:?} -> {status}");
        }
    }
}

// ---------------------------------------------------------------------------
// Enablement: sidecar injection for namespaces and workloads, mesh settings,
// preflight, and the mesh's cluster-level state.
// ---------------------------------------------------------------------------

/// A workload type whose pods can get the `istio-proxy` sidecar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WorkloadKind {
    /// `apps/v1` Deployment.
    Deployment,
    /// `apps/v1` StatefulSet.
    StatefulSet,
    /// `apps/v1` DaemonSet.
    DaemonSet,
}

impl WorkloadKind {
    /// Every kind, in display order.
    pub const ALL: [WorkloadKind; 3] = [
        WorkloadKind::Deployment,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
    ];

    /// The Kubernetes kind, e.g. `Deployment`.
    pub fn label(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
        }
    }

    /// The path segment in API URLs (the resource's plural), e.g. `deployments`.
    pub fn plural(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployments",
            WorkloadKind::StatefulSet => "statefulsets",
            WorkloadKind::DaemonSet => "daemonsets",
        }
    }

    /// Parses a path segment: the plural, the singular or the kind, any case.
    pub fn from_segment(segment: &str) -> Option<Self> {
        let s = segment.to_ascii_lowercase();
        WorkloadKind::ALL.into_iter().find(|k| {
            s == k.plural()
                || s == k.label().to_ascii_lowercase()
                || s == format!("{k:?}").to_ascii_lowercase()
        })
    }
}

/// Whether the running pods of a workload carry the `istio-proxy` sidecar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SidecarState {
    /// Every running pod has the sidecar.
    All,
    /// Some pods have it (a restart is under way, or pods predate a change).
    Partial,
    /// No pod has it.
    None,
    /// The workload has no pods right now.
    NoPods,
}

impl SidecarState {
    /// From the number of pods and how many of them have the sidecar.
    pub fn from_counts(pods: u32, with_proxy: u32) -> Self {
        match (pods, with_proxy) {
            (0, _) => SidecarState::NoPods,
            (p, w) if w >= p => SidecarState::All,
            (_, 0) => SidecarState::None,
            _ => SidecarState::Partial,
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            SidecarState::All => "sidecar in every pod",
            SidecarState::Partial => "sidecar in some pods",
            SidecarState::None => "no sidecar",
            SidecarState::NoPods => "no pods",
        }
    }
}

/// One workload with the sidecar status of its running pods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkloadInjection {
    /// Deployment, StatefulSet or DaemonSet.
    pub kind: WorkloadKind,
    /// Workload name.
    pub name: String,
    /// Running pods selected by the workload.
    pub pods: u32,
    /// Of those, the ones with the `istio-proxy` container.
    pub pods_with_sidecar: u32,
    /// Summary of the two counts.
    pub sidecar: SidecarState,
    /// The pod template opts out (`sidecar.istio.io/inject: "false"`).
    pub opted_out: bool,
    /// The caller may restart it (Kubernetes RBAC allows them to patch it),
    /// which switching its sidecar needs.
    #[serde(default)]
    pub may_restart: bool,
}

/// A namespace with its injection state and its workloads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NamespaceInjection {
    /// Namespace name.
    pub name: String,
    /// Its project id.
    pub project: String,
    /// New pods get the sidecar (`istio-injection=enabled` or `istio.io/rev`).
    pub injection: bool,
    /// Value of the `istio-injection` label, if set.
    pub injection_label: Option<String>,
    /// Value of the `istio.io/rev` label, if set.
    pub revision: Option<String>,
    /// The injection label was set by meshdeck's auto-injection (disabling
    /// the mesh takes it back) rather than chosen explicitly.
    #[serde(default)]
    pub auto_injected: bool,
    /// The caller may switch injection here (Kubernetes RBAC allows them
    /// to patch the namespace).
    #[serde(default)]
    pub may_switch: bool,
    /// Its workloads, by kind then name.
    pub workloads: Vec<WorkloadInjection>,
}

/// `GET /api/namespaces`: the caller's namespaces and their workloads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NamespaceList {
    /// Visible namespaces, sorted by name.
    pub namespaces: Vec<NamespaceInjection>,
    /// The control plane's revision when one other than `default` is in
    /// use; namespaces are then labelled `istio.io/rev=<revision>`.
    pub revision: Option<String>,
}

/// Body of the injection endpoints: switch injection on or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InjectionRequest {
    /// On (`true`) or off.
    pub enabled: bool,
}

/// What an injection change did, or would do with `?dryRun=true`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InjectionChange {
    /// What was changed, e.g. `namespace/legacy` or `deployment/payments/ledger`.
    pub target: String,
    /// Which map the change touches, e.g. `metadata.labels` or
    /// `spec.template.metadata.annotations`.
    pub field: String,
    /// Nothing was applied (`?dryRun=true`).
    pub dry_run: bool,
    /// Whether anything changes; `false` when it is already in the asked state.
    pub changed: bool,
    /// The JSON merge patch sent (or to be sent) to Kubernetes; `None` when unchanged.
    pub patch: Option<String>,
    /// The map before the change.
    pub before: BTreeMap<String, String>,
    /// The map after the change.
    pub after: BTreeMap<String, String>,
    /// What happens, in words.
    pub summary: String,
}

/// Who besides owners may see the traffic graph and traces (and the Kiali
/// and Jaeger links).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MemberAccessMode {
    /// Only cluster owners.
    OwnerOnly,
    /// Every project member, for their own namespaces.
    #[default]
    AllMembers,
    /// Owners and the listed users and groups.
    Listed,
}

/// The member-access setting.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberAccessSettings {
    /// Who may see.
    pub mode: MemberAccessMode,
    /// Users allowed with [`MemberAccessMode::Listed`].
    #[serde(default)]
    pub users: Vec<String>,
    /// Groups allowed with [`MemberAccessMode::Listed`].
    #[serde(default)]
    pub groups: Vec<String>,
}

/// Requests and limits of one component, as Kubernetes quantities (CPU
/// like `500m` or `1`, memory like `2048Mi` or `2Gi`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComponentResources {
    /// CPU request.
    pub cpu_request: String,
    /// CPU limit.
    pub cpu_limit: String,
    /// Memory request.
    pub memory_request: String,
    /// Memory limit.
    pub memory_limit: String,
}

impl ComponentResources {
    /// Millicores and MiB, as DESIGN.md lists the defaults.
    pub fn new(
        cpu_request_m: u32,
        cpu_limit_m: u32,
        memory_request_mi: u32,
        memory_limit_mi: u32,
    ) -> Self {
        ComponentResources {
            cpu_request: format!("{cpu_request_m}m"),
            cpu_limit: format!("{cpu_limit_m}m"),
            memory_request: format!("{memory_request_mi}Mi"),
            memory_limit: format!("{memory_limit_mi}Mi"),
        }
    }
}

/// A toleration of node taints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Toleration {
    /// Taint key (empty with `Exists` tolerates every taint).
    #[serde(default)]
    pub key: String,
    /// `Equal` or `Exists`.
    pub operator: String,
    /// Taint value (with `Equal`).
    #[serde(default)]
    pub value: String,
    /// `NoSchedule`, `PreferNoSchedule`, `NoExecute`, or empty for all.
    #[serde(default)]
    pub effect: String,
}

/// Where a component's pods may run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Placement {
    /// Node labels the pods require.
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    /// Taints the pods tolerate.
    #[serde(default)]
    pub tolerations: Vec<Toleration>,
}

/// A mesh component: on or off, its resources and placement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComponentSettings {
    /// Installed or not (pilot, telemetry and prometheus are always on).
    pub enabled: bool,
    /// Requests and limits.
    pub resources: ComponentResources,
    /// Node selector and tolerations.
    #[serde(default)]
    pub placement: Placement,
}

impl ComponentSettings {
    fn with(enabled: bool, resources: ComponentResources) -> Self {
        ComponentSettings {
            enabled,
            resources,
            placement: Placement::default(),
        }
    }
}

/// How the ingress gateway is exposed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum GatewayServiceType {
    /// Fixed ports on every node.
    #[default]
    NodePort,
    /// A cloud load balancer.
    LoadBalancer,
}

/// The Istio ingress gateway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GatewaySettings {
    /// On, resources and placement.
    #[serde(flatten)]
    pub component: ComponentSettings,
    /// NodePort or LoadBalancer.
    pub service_type: GatewayServiceType,
    /// NodePort of the http2 port (30000-32767).
    pub http2_node_port: u16,
    /// NodePort of the https port (30000-32767).
    pub https_node_port: u16,
    /// LoadBalancer IP to ask for, if any.
    #[serde(default)]
    pub load_balancer_ip: String,
    /// CIDRs allowed to reach the LoadBalancer; empty means everyone.
    #[serde(default)]
    pub load_balancer_source_ranges: Vec<String>,
}

/// URLs of the external tools, linked from the console (empty: not linked).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ToolUrls {
    /// Prometheus.
    #[serde(default)]
    pub prometheus: String,
    /// Jaeger query.
    #[serde(default)]
    pub jaeger: String,
    /// Grafana.
    #[serde(default)]
    pub grafana: String,
    /// Kiali.
    #[serde(default)]
    pub kiali: String,
}

/// The mesh settings the cluster owner edits, with Rancher's defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeshSettings {
    /// Who may see the graph and traces.
    pub member_access: MemberAccessSettings,
    /// istiod.
    pub pilot: ComponentSettings,
    /// Trace sampling in percent (0-100), as text so any decimal survives.
    pub trace_sampling_percent: String,
    /// Mixer-era telemetry (Rancher's name; Prometheus scraping config today).
    pub telemetry: ComponentSettings,
    /// Jaeger.
    pub tracing: ComponentSettings,
    /// The ingress gateway.
    pub ingress_gateway: GatewaySettings,
    /// Prometheus.
    pub prometheus: ComponentSettings,
    /// How long Prometheus keeps data, e.g. `6h`.
    pub prometheus_retention: String,
    /// Grafana.
    pub grafana: ComponentSettings,
    /// New namespaces get `istio-injection=enabled` while the mesh is on.
    pub auto_inject_new_namespaces: bool,
    /// External tool URLs.
    pub tool_urls: ToolUrls,
}

impl Default for MeshSettings {
    /// DESIGN.md's (Rancher's) defaults.
    fn default() -> Self {
        MeshSettings {
            member_access: MemberAccessSettings::default(),
            pilot: ComponentSettings::with(true, ComponentResources::new(500, 1000, 2048, 4096)),
            trace_sampling_percent: "1".into(),
            telemetry: ComponentSettings::with(
                true,
                ComponentResources::new(1000, 4800, 1024, 4096),
            ),
            tracing: ComponentSettings::with(true, ComponentResources::new(100, 500, 100, 1024)),
            ingress_gateway: GatewaySettings {
                component: ComponentSettings::with(
                    false,
                    ComponentResources::new(100, 2000, 128, 1024),
                ),
                service_type: GatewayServiceType::NodePort,
                http2_node_port: 31380,
                https_node_port: 31390,
                load_balancer_ip: String::new(),
                load_balancer_source_ranges: Vec::new(),
            },
            prometheus: ComponentSettings::with(
                true,
                ComponentResources::new(750, 1000, 750, 1024),
            ),
            prometheus_retention: "6h".into(),
            grafana: ComponentSettings::with(true, ComponentResources::new(100, 200, 100, 512)),
            auto_inject_new_namespaces: true,
            tool_urls: ToolUrls::default(),
        }
    }
}

/// What one enabled component asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComponentRequest {
    /// Component name, e.g. `pilot`.
    pub component: String,
    /// CPU request in millicores.
    pub cpu_m: u64,
    /// Memory request in MiB.
    pub memory_mi: u64,
}

/// The plan's requests against what the schedulable nodes offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Preflight {
    /// The plan fits.
    pub fits: bool,
    /// Requests of every enabled component.
    pub components: Vec<ComponentRequest>,
    /// Sum of CPU requests, millicores.
    pub cpu_requested_m: u64,
    /// Allocatable CPU of the schedulable nodes, millicores.
    pub cpu_allocatable_m: u64,
    /// Sum of memory requests, MiB.
    pub memory_requested_mi: u64,
    /// Allocatable memory of the schedulable nodes, MiB.
    pub memory_allocatable_mi: u64,
    /// Nodes counted (ready and schedulable).
    pub schedulable_nodes: u32,
    /// Every shortfall in words; empty when it fits.
    pub shortfalls: Vec<String>,
}

/// `GET /api/settings` and the answer of `PUT /api/settings`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettingsDocument {
    /// The settings (the defaults until an owner saves).
    pub settings: MeshSettings,
    /// The stored ConfigMap's resourceVersion; `None` before the first save.
    pub resource_version: Option<String>,
    /// Where they are stored, `namespace/name`.
    pub stored_in: String,
    /// The settings against the cluster's nodes.
    pub preflight: Preflight,
}

/// Body of `PUT /api/settings`: the new settings and the resourceVersion
/// they were edited from (optimistic concurrency).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettingsUpdate {
    /// The new settings.
    pub settings: MeshSettings,
    /// The resourceVersion read with `GET`; `None` only for the first save.
    pub resource_version: Option<String>,
}

/// How the control plane is managed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ControlPlaneKind {
    /// The Sail operator's `Istio` resource (`sailoperator.io/v1`).
    SailIstio,
    /// An `IstioOperator` resource (`install.istio.io/v1alpha1`).
    IstioOperator,
    /// An istiod installed by other means; meshdeck manages only its own objects.
    ExistingIstiod,
    /// No control plane found.
    None,
}

/// The control plane meshdeck found or manages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ControlPlane {
    /// How it is managed.
    pub kind: ControlPlaneKind,
    /// `namespace/name` (or `name`) of the resource, if any.
    pub resource: Option<String>,
    /// Version, from istiod's image tag, if known.
    pub version: Option<String>,
    /// meshdeck created (and will remove) the resource.
    pub managed_by_meshdeck: bool,
}

/// Which kind of ingress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IngressKind {
    /// The cluster's existing ingress controller (e.g. ingress-nginx).
    Controller,
    /// The Istio ingress gateway.
    IstioGateway,
}

/// One way into the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngressInfo {
    /// Controller or Istio gateway.
    pub kind: IngressKind,
    /// Service namespace.
    pub namespace: String,
    /// Service name.
    pub name: String,
    /// `NodePort`, `LoadBalancer`, ...
    pub service_type: String,
    /// Ports, e.g. `http2 80 → node 31380`.
    pub ports: Vec<String>,
    /// Created by meshdeck.
    pub managed_by_meshdeck: bool,
}

/// `GET /api/mesh`: the mesh's cluster-level state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeshStatus {
    /// Enabled through meshdeck.
    pub enabled: bool,
    /// When it was enabled (RFC 3339); new namespaces after this are auto-injected.
    pub enabled_at: Option<String>,
    /// The control plane.
    pub control_plane: ControlPlane,
    /// Every ingress: the existing controller and, when on, the Istio gateway.
    pub ingresses: Vec<IngressInfo>,
    /// Objects meshdeck created (`kind namespace/name`), removed on disable.
    pub created: Vec<String>,
    /// How Prometheus scrapes the mesh, and the Grafana dashboards.
    pub monitoring: MonitoringStatus,
}

/// Who provides a monitoring object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MonitorState {
    /// meshdeck created it, and disabling the mesh removes it.
    Managed,
    /// Someone else's object does the same; meshdeck uses it and writes none.
    Existing,
    /// Not there yet: enabling the mesh creates it.
    Missing,
}

/// A Prometheus Operator monitor for the mesh.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonitorInfo {
    /// `ServiceMonitor` or `PodMonitor`.
    pub kind: String,
    /// Namespace of meshdeck's object.
    pub namespace: String,
    /// Name of meshdeck's object.
    pub name: String,
    /// What it scrapes, in words.
    pub scrapes: String,
    /// Whose it is.
    pub state: MonitorState,
    /// With `existing`: the object that does it (`PodMonitor monitoring/istio-proxies`).
    pub existing: Option<String>,
}

/// The ConfigMap holding meshdeck's dashboards for Grafana's dashboard sidecar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrafanaDashboardsInfo {
    /// `namespace/name` of the ConfigMap.
    pub configmap: String,
    /// The label the sidecar looks for, `key=value`.
    pub label: String,
    /// A Grafana URL is configured (settings or `--grafana-url`), so
    /// enabling writes the ConfigMap; without one, enabling removes it.
    pub url_configured: bool,
    /// Whose the ConfigMap is (`existing`: one of that name meshdeck did not write).
    pub state: MonitorState,
    /// The dashboards it holds, or will hold, as files (`meshdeck-mesh.json`).
    pub dashboards: Vec<String>,
}

/// How Prometheus scrapes the mesh, and meshdeck's dashboards for Grafana.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonitoringStatus {
    /// The Prometheus Operator's API (`monitoring.coreos.com/v1`) serves
    /// ServiceMonitors and PodMonitors: enabling writes [`MonitorInfo`]s.
    pub operator_api: bool,
    /// The ServiceMonitor for istiod and the PodMonitor for the sidecars'
    /// merged metrics (empty without the operator's API).
    pub monitors: Vec<MonitorInfo>,
    /// Without the operator's API: the scrape jobs to add to Prometheus'
    /// configuration (YAML, under `scrape_configs:`).
    pub scrape_config: Option<String>,
    /// Present when a Grafana URL is configured or the ConfigMap exists.
    pub grafana: Option<GrafanaDashboardsInfo>,
}

/// What enable or disable did, or would do with `?dryRun=true`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeshChange {
    /// Nothing was applied.
    pub dry_run: bool,
    /// The steps, in order, in words.
    pub steps: Vec<String>,
    /// The state afterwards (unchanged for a dry run).
    pub status: MeshStatus,
}

/// Body of `POST /api/prometheus/query`: an instant query (`time`, default
/// now) or, with `start`, `end` and `step`, a range query.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromQueryRequest {
    /// The PromQL, passed to Prometheus as written.
    pub query: String,
    /// Evaluation time of an instant query, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<f64>,
    /// Range start, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// Range end, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<f64>,
    /// Seconds between range points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<f64>,
}

impl PromQueryRequest {
    /// Whether this asks for a range query.
    pub fn is_range(&self) -> bool {
        self.start.is_some() || self.end.is_some() || self.step.is_some()
    }
}

/// One element of an instant vector, as Prometheus sends it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromSample {
    /// Its labels.
    pub metric: std::collections::BTreeMap<String, String>,
    /// `[unix seconds, "value"]`; the value is text so `NaN` and `+Inf` survive.
    pub value: (f64, String),
}

/// One series of a range result, as Prometheus sends it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromRangeSeries {
    /// Its labels.
    pub metric: std::collections::BTreeMap<String, String>,
    /// `[unix seconds, "value"]` points.
    pub values: Vec<(f64, String)>,
}

/// Prometheus' `data`: `{"resultType": ..., "result": ...}`, passed through.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
pub enum PromData {
    /// An instant vector.
    Vector(Vec<PromSample>),
    /// A range vector (range queries).
    Matrix(Vec<PromRangeSeries>),
    /// A scalar `[time, "value"]`.
    Scalar((f64, String)),
    /// A string `[time, "text"]`.
    String((f64, String)),
}

impl PromData {
    /// Series (or samples) and points in the result.
    pub fn size(&self) -> (usize, usize) {
        match self {
            PromData::Vector(v) => (v.len(), v.len()),
            PromData::Matrix(m) => (m.len(), m.iter().map(|s| s.values.len()).sum()),
            PromData::Scalar(_) | PromData::String(_) => (1, 1),
        }
    }
}

/// Answer of `POST /api/prometheus/query`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromQueryAnswer {
    /// The result, exactly as Prometheus gave it.
    pub data: PromData,
    /// Prometheus' warnings, if any.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// The built-in dashboards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DashboardKind {
    /// The whole mesh.
    Mesh,
    /// One service (inbound).
    Service,
    /// One workload (inbound and outbound).
    Workload,
}

impl DashboardKind {
    /// All dashboards, in tab order.
    pub const ALL: [DashboardKind; 3] = [
        DashboardKind::Mesh,
        DashboardKind::Service,
        DashboardKind::Workload,
    ];

    /// Path segment and URL value.
    pub fn as_str(self) -> &'static str {
        match self {
            DashboardKind::Mesh => "mesh",
            DashboardKind::Service => "service",
            DashboardKind::Workload => "workload",
        }
    }

    /// Parses [`DashboardKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the dashboard is about one named object (namespace + name).
    pub fn needs_name(self) -> bool {
        self != DashboardKind::Mesh
    }
}

/// One PromQL query of a panel, and how its series are named.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PanelQuery {
    /// Legend: a fixed name, or the label(s) naming each series.
    pub legend: String,
    /// The query as sent to Prometheus.
    pub promql: String,
}

/// One dashboard panel: a titled chart with its unit and its PromQL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Panel {
    /// Title, e.g. "Requests by source".
    pub title: String,
    /// Unit of the values.
    pub unit: Unit,
    /// Lines (one query may give several).
    pub series: Vec<Series>,
    /// The queries behind the lines.
    pub queries: Vec<PanelQuery>,
}

/// One row of the mesh dashboard's per-service table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceRow {
    /// Namespace.
    pub namespace: String,
    /// Service name.
    pub service: String,
    /// Requests per second over the range.
    pub requests_per_s: f64,
    /// Share of requests not answered with 5xx.
    pub success_rate: Option<f64>,
    /// p99 request duration in ms.
    pub p99_ms: Option<f64>,
}

/// A built-in dashboard, computed from Prometheus.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    /// Which dashboard.
    pub kind: DashboardKind,
    /// Namespace of a service or workload dashboard.
    pub namespace: Option<String>,
    /// Service or workload name.
    pub name: Option<String>,
    /// Range start, Unix seconds.
    pub start: f64,
    /// Range end, Unix seconds.
    pub end: f64,
    /// Seconds between points.
    pub step: f64,
    /// The charts.
    pub panels: Vec<Panel>,
    /// Per-service table (mesh dashboard), busiest first.
    pub services: Vec<ServiceRow>,
    /// The PromQL behind the table's columns.
    pub service_queries: Vec<PanelQuery>,
}

// ---------------------------------------------------------------------------
// Istio configuration: the objects in force and what is wrong with them.
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Traffic management: the wizards, one service at a time.
// ---------------------------------------------------------------------------

/// A traffic-management wizard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum WizardKind {
    /// Weights across versions (canary, blue/green), with optional mirroring.
    TrafficShifting,
    /// Ordered rules matching requests, each to weighted versions (A/B tests).
    RequestRouting,
    /// Weights across versions of a TCP service.
    TcpTrafficShifting,
    /// Delays and aborts injected into the service's requests.
    FaultInjection,
    /// Request timeout and retries.
    TimeoutsRetries,
    /// Connection pool limits, outlier detection and load balancing.
    CircuitBreaking,
    /// TLS mode towards the service and the PeerAuthentication of its workloads.
    Mtls,
    /// Exposure through the ingress gateway.
    Gateway,
}

impl WizardKind {
    /// Every wizard, in menu order.
    pub const ALL: [WizardKind; 8] = [
        WizardKind::TrafficShifting,
        WizardKind::RequestRouting,
        WizardKind::TcpTrafficShifting,
        WizardKind::FaultInjection,
        WizardKind::TimeoutsRetries,
        WizardKind::CircuitBreaking,
        WizardKind::Mtls,
        WizardKind::Gateway,
    ];

    /// The name in URLs and in the `meshdeck.io/wizard` label.
    pub fn as_str(self) -> &'static str {
        match self {
            WizardKind::TrafficShifting => "traffic-shifting",
            WizardKind::RequestRouting => "request-routing",
            WizardKind::TcpTrafficShifting => "tcp-traffic-shifting",
            WizardKind::FaultInjection => "fault-injection",
            WizardKind::TimeoutsRetries => "timeouts-retries",
            WizardKind::CircuitBreaking => "circuit-breaking",
            WizardKind::Mtls => "mtls",
            WizardKind::Gateway => "gateway",
        }
    }

    /// Parses [`WizardKind::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        WizardKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Title for people.
    pub fn label(self) -> &'static str {
        match self {
            WizardKind::TrafficShifting => "Traffic shifting",
            WizardKind::RequestRouting => "Request routing",
            WizardKind::TcpTrafficShifting => "TCP traffic shifting",
            WizardKind::FaultInjection => "Fault injection",
            WizardKind::TimeoutsRetries => "Timeouts and retries",
            WizardKind::CircuitBreaking => "Circuit breaking and load balancing",
            WizardKind::Mtls => "mTLS",
            WizardKind::Gateway => "Expose through the ingress gateway",
        }
    }

    /// One line on what it does.
    pub fn summary(self) -> &'static str {
        match self {
            WizardKind::TrafficShifting => {
                "Split requests across versions by weight: a canary (90/10), a blue/green switch (0/100), with optional mirroring to another version."
            }
            WizardKind::RequestRouting => {
                "Route requests matching headers, cookies, URI, method or caller labels to weighted versions, in order: A/B tests."
            }
            WizardKind::TcpTrafficShifting => "Split TCP connections across versions by weight.",
            WizardKind::FaultInjection => {
                "Delay or abort a percentage of the service's requests, to see how callers cope."
            }
            WizardKind::TimeoutsRetries => "Give up on slow requests, and retry failed ones.",
            WizardKind::CircuitBreaking => {
                "Limit connections and pending requests, eject failing instances, choose how requests are balanced."
            }
            WizardKind::Mtls => {
                "Choose the TLS mode callers use towards the service, and what its workloads accept."
            }
            WizardKind::Gateway => {
                "Let requests for public host names in through the ingress gateway, to this service."
            }
        }
    }
}

/// A version's share of the traffic, in percent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionWeight {
    /// The version (the workloads' `version` label; the subset's name).
    pub version: String,
    /// Percent, 0 to 100; the weights of one route add up to 100.
    pub weight: i64,
}

/// A copy of a share of the requests sent to another version as well
/// (answers are dropped).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MirrorSpec {
    /// The version that gets the copies.
    pub version: String,
    /// Percent of requests copied, 0 to 100.
    pub percent: f64,
}

/// How a string is matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StringMatchKind {
    /// Equal.
    Exact,
    /// Starts with.
    Prefix,
    /// A regular expression (RE2 syntax), matching the whole string.
    Regex,
}

/// A string condition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StringMatch {
    /// How.
    pub kind: StringMatchKind,
    /// What.
    pub value: String,
}

/// A request header condition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeaderMatch {
    /// Header name (lower case).
    pub name: String,
    /// Its value's condition.
    #[serde(rename = "match")]
    pub value: StringMatch,
}

/// A cookie condition (written as a regular expression on the `cookie` header).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CookieMatch {
    /// Cookie name.
    pub name: String,
    /// Its exact value.
    pub value: String,
}

/// Conditions that must all hold for a request to match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RouteMatch {
    /// Request headers.
    #[serde(default)]
    pub headers: Vec<HeaderMatch>,
    /// Cookies.
    #[serde(default)]
    pub cookies: Vec<CookieMatch>,
    /// The URI path.
    #[serde(default)]
    pub uri: Option<StringMatch>,
    /// The HTTP method (exact, e.g. `GET`).
    #[serde(default)]
    pub method: Option<String>,
    /// Labels the calling workload must have.
    #[serde(default)]
    pub source_labels: BTreeMap<String, String>,
}

/// One rule of request routing: requests matching any of `matches` (every
/// request, when empty) go to the versions by weight. Rules apply in
/// order; the first that matches wins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RouteRule {
    /// Alternatives; empty matches every request (a catch-all, last).
    #[serde(default)]
    pub matches: Vec<RouteMatch>,
    /// Where the matching requests go.
    pub weights: Vec<VersionWeight>,
}

/// A delay injected into a share of the requests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DelayFault {
    /// How long (a duration such as `5s` or `250ms`).
    pub fixed_delay: String,
    /// Percent of requests delayed, 0 to 100.
    pub percent: f64,
}

/// An error answered, instead of the service, to a share of the requests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AbortFault {
    /// The HTTP status answered (200 to 599); or
    #[serde(default)]
    pub http_status: Option<i64>,
    /// the gRPC status answered (e.g. `UNAVAILABLE`).
    #[serde(default)]
    pub grpc_status: Option<String>,
    /// Percent of requests aborted, 0 to 100.
    pub percent: f64,
}

/// Retries of failed requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetrySpec {
    /// Retries per request (0 turns retries off).
    pub attempts: i64,
    /// Timeout of each try (a duration); none: the request's timeout.
    #[serde(default)]
    pub per_try_timeout: Option<String>,
    /// Conditions that trigger a retry, Envoy's names (`5xx`,
    /// `gateway-error`, `reset`, `connect-failure`, `retriable-4xx`,
    /// `refused-stream`, `retriable-status-codes`, `cancelled`,
    /// `deadline-exceeded`, `internal`, `resource-exhausted`,
    /// `unavailable`); empty: Istio's default.
    #[serde(default)]
    pub retry_on: Vec<String>,
}

/// Connection pool limits (every one optional).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectionPoolSpec {
    /// Most TCP connections to the service.
    #[serde(default)]
    pub max_connections: Option<i64>,
    /// TCP connect timeout (a duration).
    #[serde(default)]
    pub connect_timeout: Option<String>,
    /// Most requests waiting for a connection.
    #[serde(default)]
    pub http1_max_pending_requests: Option<i64>,
    /// Most requests in flight.
    #[serde(default)]
    pub http2_max_requests: Option<i64>,
    /// Most requests per connection (1 turns keep-alive off).
    #[serde(default)]
    pub max_requests_per_connection: Option<i64>,
    /// Most retries in flight.
    #[serde(default)]
    pub max_retries: Option<i64>,
}

/// Ejection of failing instances.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutlierSpec {
    /// Consecutive 5xx answers that eject an instance.
    pub consecutive_errors: i64,
    /// How often instances are checked (a duration).
    pub interval: String,
    /// How long an ejection lasts at first (a duration).
    pub base_ejection_time: String,
    /// Most instances ejected at once, in percent.
    pub max_ejection_percent: i64,
}

/// How requests are balanced across instances.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LoadBalancerSpec {
    /// In turn.
    RoundRobin,
    /// To the instance with the fewest requests in flight.
    LeastRequest,
    /// At random.
    Random,
    /// The same header value to the same instance.
    HashHeader {
        /// Header name.
        name: String,
    },
    /// The same cookie to the same instance (Envoy sets it when missing).
    HashCookie {
        /// Cookie name.
        name: String,
        /// Its lifetime (a duration).
        ttl: String,
    },
    /// The same caller address to the same instance.
    HashSourceIp,
}

/// TLS mode callers use towards the service (DestinationRule).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TlsMode {
    /// Istio's mutual TLS.
    IstioMutual,
    /// Plaintext.
    Disable,
}

/// What a workload accepts (PeerAuthentication).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MtlsMode {
    /// mTLS and plaintext.
    Permissive,
    /// mTLS only: callers without a sidecar are refused.
    Strict,
    /// Plaintext only.
    Disable,
}

/// Which workloads a PeerAuthentication covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PeerAuthScope {
    /// The service's workloads (a selector on its pod labels).
    Workload,
    /// Every workload of the namespace (the PeerAuthentication `default`).
    Namespace,
}

/// The PeerAuthentication the mTLS wizard writes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeerAuthSpec {
    /// Which workloads.
    pub scope: PeerAuthScope,
    /// What they accept.
    pub mode: MtlsMode,
}

/// Protocol of a gateway server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GatewayProtocol {
    /// Plain HTTP.
    Http,
    /// HTTPS terminated at the gateway (needs a certificate Secret).
    Https,
}

/// What a wizard should write: `wizard` names it, the other fields are its
/// options. Sent as JSON to `POST /api/services/{ns}/{name}/wizards`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "wizard", rename_all = "kebab-case")]
pub enum WizardRequest {
    /// Weights across versions, optional mirroring.
    TrafficShifting {
        /// One weight per version, adding up to 100.
        weights: Vec<VersionWeight>,
        /// A copy of a share of the requests to another version.
        #[serde(default)]
        mirror: Option<MirrorSpec>,
        /// Which API the route is written in.
        #[serde(default)]
        api: RouteApi,
    },
    /// Ordered rules.
    RequestRouting {
        /// The rules, in order (at least one).
        rules: Vec<RouteRule>,
        /// Which API the routes are written in.
        #[serde(default)]
        api: RouteApi,
    },
    /// Weights across versions of a TCP service.
    TcpTrafficShifting {
        /// One weight per version, adding up to 100.
        weights: Vec<VersionWeight>,
    },
    /// Delays and aborts (both absent: remove the faults).
    FaultInjection {
        /// The delay.
        #[serde(default)]
        delay: Option<DelayFault>,
        /// The abort.
        #[serde(default)]
        abort: Option<AbortFault>,
    },
    /// Timeout and retries (both absent: Istio's defaults).
    TimeoutsRetries {
        /// Request timeout (a duration).
        #[serde(default)]
        timeout: Option<String>,
        /// Retries.
        #[serde(default)]
        retries: Option<RetrySpec>,
    },
    /// Connection pool, outlier detection, load balancing.
    CircuitBreaking {
        /// Limits.
        #[serde(default)]
        connection_pool: Option<ConnectionPoolSpec>,
        /// Ejection of failing instances.
        #[serde(default)]
        outlier_detection: Option<OutlierSpec>,
        /// Balancing.
        #[serde(default)]
        load_balancer: Option<LoadBalancerSpec>,
    },
    /// TLS mode towards the service and PeerAuthentication.
    Mtls {
        /// The callers' TLS mode (DestinationRule).
        tls_mode: TlsMode,
        /// What the workloads accept; absent: no PeerAuthentication written.
        #[serde(default)]
        peer_authentication: Option<PeerAuthSpec>,
    },
    /// A Gateway and a VirtualService bound to it.
    Gateway {
        /// Public host names (e.g. `shop.example.com`; `*` for any).
        hosts: Vec<String>,
        /// Port on the gateway (1 to 65535).
        port: i64,
        /// Protocol.
        protocol: GatewayProtocol,
        /// With HTTPS: the Secret holding the certificate, in the gateway's namespace.
        #[serde(default)]
        credential_name: Option<String>,
    },
}

impl WizardRequest {
    /// Which wizard.
    pub fn kind(&self) -> WizardKind {
        match self {
            WizardRequest::TrafficShifting { .. } => WizardKind::TrafficShifting,
            WizardRequest::RequestRouting { .. } => WizardKind::RequestRouting,
            WizardRequest::TcpTrafficShifting { .. } => WizardKind::TcpTrafficShifting,
            WizardRequest::FaultInjection { .. } => WizardKind::FaultInjection,
            WizardRequest::TimeoutsRetries { .. } => WizardKind::TimeoutsRetries,
            WizardRequest::CircuitBreaking { .. } => WizardKind::CircuitBreaking,
            WizardRequest::Mtls { .. } => WizardKind::Mtls,
            WizardRequest::Gateway { .. } => WizardKind::Gateway,
        }
    }
}

/// The protocol a service speaks, from its port's name or `appProtocol`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceProtocol {
    /// HTTP (or unnamed, which Istio sniffs).
    Http,
    /// gRPC.
    Grpc,
    /// Plain TCP (also MongoDB, MySQL, Redis...).
    Tcp,
}

/// One version of a service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceVersion {
    /// The `version` label (the subset's name).
    pub version: String,
    /// Its workloads.
    pub workloads: Vec<String>,
    /// Its pods.
    pub pods: u32,
}

/// `GET /api/services/{ns}/{name}/traffic`: what the wizards start from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceTraffic {
    /// The service.
    pub service: ServiceName,
    /// Its protocol (TCP services get TCP traffic shifting only).
    pub protocol: ServiceProtocol,
    /// Its port (the first).
    pub port: Option<i64>,
    /// Its versions, from its pods' `version` labels (the subsets wizards write).
    pub versions: Vec<ServiceVersion>,
    /// The weights now in force (the first HTTP or TCP route of the
    /// service's VirtualService, by subset), if there is one.
    pub current_weights: Vec<VersionWeight>,
    /// Istio objects configuring the service (meshdeck's and others').
    pub objects: Vec<IstioObjectSummary>,
    /// The wizards whose settings are in force (from meshdeck's objects).
    pub applied: Vec<WizardKind>,
    /// Callers outside the mesh that reached its workloads without mTLS in
    /// the last hour (`namespace/workload: N requests`): STRICT refuses them.
    pub plaintext_callers: Vec<String>,
    /// The labels of the ingress gateway's pods a Gateway selects.
    pub gateway_selector: BTreeMap<String, String>,
    /// Whether Kubernetes RBAC lets the caller write the Istio objects here
    /// (and if not, why); writes are made with their own credentials.
    pub may_write: bool,
    /// Why not, when they may not.
    pub write_problem: Option<String>,
    /// Whether the cluster serves the Gateway API route for the service's
    /// protocol (HTTPRoute, or GRPCRoute for gRPC), so routing wizards may
    /// write it instead of a VirtualService.
    #[serde(default)]
    pub gateway_api: bool,
    /// The Services that select exactly one version of this one (its
    /// selector plus `version`), by version: the backends a Gateway API
    /// route names, since it has no subsets.
    #[serde(default)]
    pub version_services: BTreeMap<String, String>,
}

/// The API a routing wizard writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum RouteApi {
    /// Istio's VirtualService and DestinationRule (subsets by version).
    #[default]
    Istio,
    /// The Kubernetes Gateway API: an HTTPRoute (GRPCRoute for gRPC) whose
    /// parent is the service and whose weighted backends are the Services
    /// of its versions.
    GatewayApi,
}

impl RouteApi {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteApi::Istio => "istio",
            RouteApi::GatewayApi => "gateway-api",
        }
    }
}

/// What happens to one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ObjectAction {
    /// Does not exist yet: created.
    Create,
    /// Exists: meshdeck's fields are applied, others' kept.
    Update,
    /// Exists and would not change.
    Unchanged,
    /// meshdeck's own, nothing of others': deleted.
    Delete,
    /// Others own fields of it too: meshdeck's fields are removed, theirs kept.
    Release,
}

/// One line of a diff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiffLine {
    /// `' '` kept, `'+'` added, `'-'` removed.
    pub op: char,
    /// The line.
    pub text: String,
}

/// One object a wizard writes, or removal removes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WizardObject {
    /// Kind.
    pub kind: IstioKind,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// What happens to it.
    pub action: ObjectAction,
    /// What meshdeck applies (server-side apply, field manager `meshdeck`).
    pub yaml: String,
    /// The live object against the result (as the API server's dry run
    /// answered it), in YAML lines; without `managedFields` and `status`.
    pub diff: Vec<DiffLine>,
    /// Other field managers of the object, whose fields are kept.
    pub other_managers: Vec<String>,
}

/// A refusal from Kubernetes, as it stated it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WizardProblem {
    /// The object (`VirtualService bookinfo/reviews`).
    pub object: String,
    /// HTTP status Kubernetes answered (403, 409, 422...).
    pub status: u16,
    /// Its message.
    pub message: String,
}

/// The answer of a wizard or of removal: a preview (`dryRun=true`) or what
/// was done.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WizardOutcome {
    /// The wizard (`None`: removal).
    pub wizard: Option<WizardKind>,
    /// The service.
    pub service: ServiceName,
    /// A preview: nothing was written.
    pub dry_run: bool,
    /// The objects, in the order they are written.
    pub objects: Vec<WizardObject>,
    /// Kubernetes' refusals in the server-side dry run (previews only; an
    /// apply that is refused answers with Kubernetes' status instead).
    pub problems: Vec<WizardProblem>,
    /// A refusal is a field-manager conflict: `force=true` takes the
    /// fields over.
    pub conflict: bool,
    /// What the change will do that people should know first (e.g. STRICT
    /// refusing callers outside the mesh).
    pub warnings: Vec<String>,
}

// ---------------------------------------------------------------------------
// Progressive delivery: canary rollouts judged on the mesh's own metrics.
// ---------------------------------------------------------------------------

/// How a canary is judged after each interval (Flagger's and Argo
/// Rollouts' analysis model).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RolloutAnalysis {
    /// Lowest share of the canary's requests answered without a 5xx, in
    /// percent.
    pub min_success_pct: f64,
    /// Highest p99 request duration of the canary, in milliseconds.
    #[serde(default)]
    pub max_p99_ms: Option<f64>,
    /// Highest p99 of the canary relative to the stable version's over the
    /// same interval (`1.2`: at most 20 % slower).
    #[serde(default)]
    pub max_p99_ratio: Option<f64>,
    /// Fewest canary requests in an interval to judge it; below, the step
    /// waits instead.
    pub min_requests: u64,
    /// Failed checks in a row that roll the canary back.
    pub failure_limit: u32,
}

/// A canary rollout of one service: the canary version's weight goes
/// through `steps`, one per `interval_s` while the analysis passes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RolloutSpec {
    /// The version serving now.
    pub stable: String,
    /// The new version.
    pub canary: String,
    /// The canary's weights in percent, increasing (e.g. 5, 10, 25, 50,
    /// 100); after the last one passes, the canary is promoted.
    pub steps: Vec<i64>,
    /// Seconds between judgements.
    pub interval_s: u32,
    /// The checks.
    pub analysis: RolloutAnalysis,
}

/// One version's numbers over an interval; `None` where Prometheus gave no
/// answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionMeasurement {
    /// Requests received in the interval.
    pub requests: Option<f64>,
    /// Share answered without a 5xx, in percent (`None` without requests).
    pub success_pct: Option<f64>,
    /// p99 request duration in milliseconds (`None` without requests).
    pub p99_ms: Option<f64>,
}

/// What the analysis measured for one interval.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntervalMeasurement {
    /// The canary.
    pub canary: VersionMeasurement,
    /// The stable version.
    pub stable: VersionMeasurement,
    /// Prometheus could not be asked (down, timed out, an error), and why.
    #[serde(default)]
    pub unavailable: Option<String>,
}

/// Where a rollout stands between judgements.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolloutProgress {
    /// Index into `steps` of the weight in force.
    pub step: usize,
    /// Failed judgements in a row.
    pub failures: u32,
    /// The next judgement advances without analysis (asked for once).
    #[serde(default)]
    pub skip_analysis: bool,
}

/// What a judgement decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RolloutAction {
    /// The checks passed: on to the next step's weight.
    Advance,
    /// The last step passed: the canary takes all traffic.
    Promote,
    /// Too little traffic to judge: the step waits.
    Wait,
    /// A check failed, fewer times in a row than the limit: the step is
    /// judged again after the next interval.
    Hold,
    /// The checks failed the given number of times in a row: the canary
    /// goes back to 0 %.
    RollBack,
    /// Data is missing (Prometheus down or silent): nothing moves until it
    /// is back.
    Pause,
}

/// One check of a judgement, with the numbers behind it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolloutCheck {
    /// `success rate`, `p99`, `p99 vs stable`.
    pub name: String,
    /// What was measured (`None`: not measured).
    pub observed: Option<f64>,
    /// The limit it was held to.
    pub limit: f64,
    /// Whether it held.
    pub passed: bool,
}

/// A judgement: the action, why, the checks, and the weight now in force.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolloutDecision {
    /// What was decided.
    pub action: RolloutAction,
    /// Why, in words.
    pub reason: String,
    /// The checks made (none when waiting, pausing or skipping analysis).
    pub checks: Vec<RolloutCheck>,
    /// The canary's weight after the decision.
    pub canary_weight: i64,
}

impl RolloutSpec {
    /// The spec the start form opens with, as the UI states it: 10, 25,
    /// 50 and 100 % a minute apart; at least 99 % success; p99 at most
    /// 1.5× the stable version's; 20 canary requests a minute to judge;
    /// two failed judgements in a row roll back.
    pub fn with_defaults(stable: &str, canary: &str) -> Self {
        RolloutSpec {
            stable: stable.to_owned(),
            canary: canary.to_owned(),
            steps: vec![10, 25, 50, 100],
            interval_s: 60,
            analysis: RolloutAnalysis {
                min_success_pct: 99.0,
                max_p99_ms: None,
                max_p99_ratio: Some(1.5),
                min_requests: 20,
                failure_limit: 2,
            },
        }
    }
}

/// `POST /api/rollouts`: start a canary rollout of one service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RolloutStart {
    /// The service's namespace.
    pub namespace: String,
    /// The service.
    pub service: String,
    /// Versions, steps, interval and analysis.
    pub spec: RolloutSpec,
}

/// Where a rollout is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RolloutPhase {
    /// Judged after every interval.
    Running,
    /// Stopped by a person or by a conflicting edit; nothing moves until
    /// it is resumed.
    Paused,
    /// Done: the canary takes all traffic.
    Promoted,
    /// Done: the analysis failed and the canary is back at 0 %.
    RolledBack,
    /// Done: a person sent the canary back to 0 %.
    Aborted,
}

impl RolloutPhase {
    /// Whether the rollout is over.
    pub fn is_done(self) -> bool {
        matches!(
            self,
            RolloutPhase::Promoted | RolloutPhase::RolledBack | RolloutPhase::Aborted
        )
    }

    /// Its name as shown.
    pub fn label(self) -> &'static str {
        match self {
            RolloutPhase::Running => "running",
            RolloutPhase::Paused => "paused",
            RolloutPhase::Promoted => "promoted",
            RolloutPhase::RolledBack => "rolled back",
            RolloutPhase::Aborted => "aborted",
        }
    }
}

/// What a person did to a rollout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RolloutControl {
    /// Started it.
    Start,
    /// Stopped the judgements.
    Pause,
    /// Started them again.
    Resume,
    /// Sent the canary back to 0 % and ended the rollout.
    Abort,
    /// Gave the canary all traffic and ended the rollout.
    Promote,
    /// Advanced one step without analysis.
    Skip,
}

impl RolloutControl {
    /// The path segment of `POST /api/rollouts/{ns}/{service}/{action}`.
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutControl::Start => "start",
            RolloutControl::Pause => "pause",
            RolloutControl::Resume => "resume",
            RolloutControl::Abort => "abort",
            RolloutControl::Promote => "promote",
            RolloutControl::Skip => "skip",
        }
    }

    /// The action named by a path segment (not `start`).
    pub fn parse(s: &str) -> Option<Self> {
        [
            RolloutControl::Pause,
            RolloutControl::Resume,
            RolloutControl::Abort,
            RolloutControl::Promote,
            RolloutControl::Skip,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// One entry of a rollout's timeline: a judgement of the controller (with
/// what Prometheus answered) or an action of a person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolloutEvent {
    /// When (Unix seconds); a judgement's queries were evaluated at this
    /// instant.
    pub at: f64,
    /// The person, for their actions; `None` for the controller.
    #[serde(default)]
    pub by: Option<String>,
    /// The person's action.
    #[serde(default)]
    pub control: Option<RolloutControl>,
    /// The controller's judgement.
    #[serde(default)]
    pub decision: Option<RolloutDecision>,
    /// What the analysis queries answered at `at` (judgements only).
    #[serde(default)]
    pub measured: Option<IntervalMeasurement>,
    /// The step in force after the event.
    pub step: usize,
    /// The canary's weight after the event.
    pub canary_weight: i64,
    /// What happened, in words.
    pub message: String,
}

/// The PromQL of a rollout's judgements (evaluated at each judgement's
/// time; `[I]` is the interval).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolloutQueries {
    /// Requests per version over the interval.
    pub requests: String,
    /// Share of failed answers per version (0 to 1).
    pub error_share: String,
    /// p99 duration per version (ms).
    pub p99: String,
}

/// A canary rollout, as kept in the cluster and shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rollout {
    /// The service's namespace.
    pub namespace: String,
    /// The service.
    pub service: String,
    /// What was asked.
    pub spec: RolloutSpec,
    /// Where it is.
    pub phase: RolloutPhase,
    /// Step and failures in a row.
    pub progress: RolloutProgress,
    /// The canary's weight in force.
    pub canary_weight: i64,
    /// Who started it (Kubernetes user name).
    pub started_by: String,
    /// When (Unix seconds).
    pub started_at: f64,
    /// When it last changed (Unix seconds).
    pub updated_at: f64,
    /// When the controller judges next (running rollouts only).
    #[serde(default)]
    pub next_judgement_at: Option<f64>,
    /// What is happening now and why, in one line.
    pub status: String,
    /// The analysis' PromQL.
    pub queries: RolloutQueries,
    /// The timeline, oldest first (the latest [`crate::types::MAX_ROLLOUT_EVENTS`]).
    pub events: Vec<RolloutEvent>,
    /// Whether the caller may pause, resume, abort, skip and promote it
    /// (Kubernetes RBAC on the writes those make).
    #[serde(default)]
    pub may_control: bool,
    /// Why not, where they may not.
    #[serde(default)]
    pub control_problem: Option<String>,
}

/// Most timeline entries a rollout keeps (the oldest go first).
pub const MAX_ROLLOUT_EVENTS: usize = 200;

/// `GET /api/rollouts`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolloutList {
    /// Newest first.
    pub rollouts: Vec<Rollout>,
    /// Ready-made rollouts (demo mode: a healthy canary and a failing one).
    #[serde(default)]
    pub scenarios: Vec<RolloutScenario>,
}

/// A ready-made rollout the UI offers to start in one click.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolloutScenario {
    /// Short title.
    pub title: String,
    /// What to expect.
    pub description: String,
    /// The request it sends.
    pub start: RolloutStart,
}

/// `GET /api/rollouts/{ns}/{service}/charts`: canary and stable success
/// rate, request volume and p99 over the rollout, one series per version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolloutCharts {
    /// Success rate (a share, 0 to 1), request volume (requests per
    /// second), request duration (p99, ms), in that order.
    pub charts: Vec<Chart>,
    /// First point (Unix seconds).
    pub start: f64,
    /// Last point (Unix seconds).
    pub end: f64,
    /// Step boundaries: when the canary's weight changed, and to what.
    pub marks: Vec<(f64, i64)>,
}

// ---------------------------------------------------------------------------
// Telemetry check: does Prometheus have the mesh's metrics?
// ---------------------------------------------------------------------------

/// What Prometheus holds of one namespace's sidecars.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TelemetryState {
    /// Its sidecars report the calls they receive.
    Ok,
    /// Its sidecars report the calls they make, and it received none.
    OutboundOnly,
    /// Callers' sidecars report calls to it, its own report none: its
    /// sidecars are not scraped.
    NotScraped,
    /// Nothing from or to it: no traffic, or nothing scraped.
    None,
}

/// One namespace with injected workloads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NamespaceTelemetry {
    /// The namespace.
    pub namespace: String,
    /// Its running pods with the sidecar.
    pub pods_with_sidecar: u32,
    /// Requests to it its own sidecars reported (`reporter="destination"`).
    pub destination_reported: f64,
    /// Requests to it its callers' sidecars reported (`reporter="source"`).
    pub source_reported: f64,
    /// Requests its sidecars reported making (`reporter="source"`).
    pub outbound_reported: f64,
    /// The verdict.
    pub state: TelemetryState,
    /// The likely cause, where something is missing.
    #[serde(default)]
    pub hint: Option<String>,
}

/// `GET /api/status/telemetry`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TelemetryReport {
    /// The window looked at (PromQL duration).
    pub window: String,
    /// Whether istiod's own metrics are scraped (`None`: not known).
    pub istiod_scraped: Option<bool>,
    /// The caller's namespaces with injected workloads.
    pub namespaces: Vec<NamespaceTelemetry>,
    /// The PromQL asked.
    pub queries: Vec<String>,
    /// Why the check could not be made (Prometheus not configured or not
    /// answering).
    #[serde(default)]
    pub problem: Option<String>,
}
