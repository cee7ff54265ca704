//! Telemetry check: does Prometheus have the mesh's metrics?

use serde::{Deserialize, Serialize};

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
