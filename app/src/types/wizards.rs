//! Traffic management: the wizards, one service at a time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::istio::{IstioKind, IstioObjectSummary, ServiceName};

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
