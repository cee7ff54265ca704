//! Enablement: sidecar injection for namespaces and workloads, and the mesh's
//! cluster-level state (control plane, ingresses, monitoring, enable/disable).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
