//! The mesh settings the cluster owner edits (member access, components,
//! gateway, tool URLs) and their preflight against the cluster's nodes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
