//! Wire types: every value that crosses the HTTP boundary between the server
//! and the browser (or a script) is defined here, once. Only serde is needed,
//! so the server uses this module without compiling the UI.

use serde::{Deserialize, Serialize};

/// The body of every error response: `{"error": {"code": ..., "message": ...}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// Machine-readable code plus a message written for a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable, machine-readable error class.
    pub code: ErrorCode,
    /// What was wrong, in words; never contains secrets or internal details of 5xx errors.
    pub message: String,
}

/// Stable error classes; each maps to one HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
pub struct Health {
    /// Always `"ok"` when the server answers.
    pub status: String,
    /// meshdeck's version.
    pub version: String,
}

/// How the server was started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    /// `meshdeck serve`: a real cluster.
    Serve,
    /// `meshdeck demo`: the built-in simulated mesh.
    Demo,
}

/// How callers are identified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// Kubernetes bearer tokens, checked with a TokenReview (the browser or
    /// an auth proxy in front sends `Authorization: Bearer ...`).
    Token,
    /// The user picks one of the demo identities; the UI then sends that
    /// identity's token, checked by the in-memory cluster like any other.
    /// Demo mode only.
    Demo,
}

/// The outside systems meshdeck talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
pub struct ToolLink {
    /// Which tool.
    pub kind: UpstreamKind,
    /// Where its UI lives.
    pub url: String,
}

/// `GET /api/status`: how the console is wired and what is reachable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// meshdeck's version.
    pub version: String,
    /// `serve` or `demo`.
    pub mode: RunMode,
    /// How callers are identified.
    pub auth_mode: AuthMode,
    /// One entry per [`UpstreamKind`], in [`UpstreamKind::ALL`] order.
    pub upstreams: Vec<UpstreamStatus>,
    /// External tool UIs that have a URL configured.
    pub links: Vec<ToolLink>,
    /// Demo mode: the identities to choose from (the first owner is the
    /// default); empty otherwise. Public, so the UI can pick one before its
    /// first signed-in call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub demo_identities: Vec<DemoIdentity>,
}

/// What a metrics request is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
pub struct Series {
    /// Legend label, e.g. `p99`.
    pub name: String,
    /// Points in time order; `None` where there was no traffic.
    pub points: Vec<(f64, Option<f64>)>,
}

/// One chart with the PromQL behind each of its series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
pub struct ProjectTargets {
    /// Project id (the label value).
    pub id: String,
    /// Its visible namespaces.
    pub namespaces: Vec<String>,
}

/// A namespace with the services and workloads that have traffic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct MetricsTargets {
    /// Projects (empty when no cluster is configured).
    pub projects: Vec<ProjectTargets>,
    /// Namespaces with traffic in the last day.
    pub namespaces: Vec<NamespaceTargets>,
}

/// A caller's role in the console, decided by the cluster's RBAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Features {
    /// The traffic graph.
    pub graph: bool,
    /// Trace search and the span waterfall.
    pub traces: bool,
    /// The PromQL console and dashboards (owners only).
    pub prometheus_console: bool,
    /// Mesh settings and cluster-wide enablement (owners only).
    pub settings: bool,
}

/// A namespace the caller may see and the project it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisibleNamespace {
    /// Namespace name.
    pub name: String,
    /// Id of its project (the namespace's own name when it has none).
    pub project: String,
}

/// A project with at least one namespace the caller may see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// Body of `POST /api/prometheus/query`: an instant query (`time`, default
/// now) or, with `start`, `end` and `step`, a range query.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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
pub struct PromSample {
    /// Its labels.
    pub metric: std::collections::BTreeMap<String, String>,
    /// `[unix seconds, "value"]`; the value is text so `NaN` and `+Inf` survive.
    pub value: (f64, String),
}

/// One series of a range result, as Prometheus sends it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PromRangeSeries {
    /// Its labels.
    pub metric: std::collections::BTreeMap<String, String>,
    /// `[unix seconds, "value"]` points.
    pub values: Vec<(f64, String)>,
}

/// Prometheus' `data`: `{"resultType": ..., "result": ...}`, passed through.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
pub struct PromQueryAnswer {
    /// The result, exactly as Prometheus gave it.
    pub data: PromData,
    /// Prometheus' warnings, if any.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// The built-in dashboards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
pub struct PanelQuery {
    /// Legend: a fixed name, or the label(s) naming each series.
    pub legend: String,
    /// The query as sent to Prometheus.
    pub promql: String,
}

/// One dashboard panel: a titled chart with its unit and its PromQL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
