//! Words for people: how the UI names the wire types' values (a graph
//! type's menu entry, a node kind, a chart's title). They are kept out of
//! `types`, which hold what crosses the wire; the names Kubernetes and
//! meshdeck's messages use (an Istio kind, a workload kind, a rollout
//! phase) stay there.

use crate::types::{
    ChartKind, EdgeProtocol, GraphHealth, GraphType, NodeKind, Role, TopKind, WizardKind,
};

impl GraphType {
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

impl NodeKind {
    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            NodeKind::External => "external service",
            NodeKind::Project => "project",
            other => other.as_str(),
        }
    }
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

impl Role {
    /// Name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Member => "member",
        }
    }
}

impl ChartKind {
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
}

impl TopKind {
    /// List title.
    pub fn title(self) -> &'static str {
        match self {
            TopKind::Volume => "Top 10 by request volume",
            TopKind::ClientErrors => "Top 10 by 4xx responses",
            TopKind::ServerErrors => "Top 10 by 5xx responses",
            TopKind::P99 => "Top 10 by p99 duration",
        }
    }
}

impl WizardKind {
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
}
