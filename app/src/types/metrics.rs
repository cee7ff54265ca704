//! Traffic metrics: scopes, the five charts, top-10 lists and what the
//! caller may pick as a scope.

use serde::{Deserialize, Serialize};

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
