//! The built-in dashboards: panels with their PromQL and the per-service table.

use serde::{Deserialize, Serialize};

use super::metrics::{Series, Unit};

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
