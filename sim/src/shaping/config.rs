//! The Istio objects the simulator honours, read from the JSON the API
//! server stores: the fields of `networking.istio.io/v1` VirtualService
//! and DestinationRule and `security.istio.io/v1` PeerAuthentication that
//! shape traffic (names as in Istio's API reference), and the Gateway API's
//! mesh routes translated into the same terms (see [`super::gateway`]).
//! Unknown fields are ignored; an object with a field that does not read (a
//! bad duration or regex) is left out and named in [`Config::problems`], as
//! Istio's validation would have refused it.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::kube::InMemoryCluster;
use crate::kube::resources::{CORE, GATEWAY_API, ISTIO_NETWORKING, ISTIO_SECURITY};
use crate::model::Mesh;

/// Istio's root namespace: a PeerAuthentication without selector here is
/// mesh-wide.
pub const ROOT_NAMESPACE: &str = "istio-system";
/// The reserved gateway name of the sidecars.
pub const MESH_GATEWAY: &str = "mesh";
/// The retry conditions of a `retries` block without `retryOn` (Istio's).
pub const DEFAULT_RETRY_ON: &str = "connect-failure,refused-stream,unavailable,cancelled";

/// A duration in seconds, read from Istio's format (`1h`, `1m`, `1.5s`,
/// `10ms`, or Go's combinations such as `1m30s`).
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Seconds(pub f64);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text)
            .map(Seconds)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid duration {text:?}")))
    }
}

/// Seconds in a Go-style duration (`300ms`, `1.5s`, `2m`, `1h30m`); `None`
/// when it does not read or is negative.
pub fn parse_duration(text: &str) -> Option<f64> {
    let text = text.trim();
    if text == "0" {
        return Some(0.0);
    }
    if text.is_empty() {
        return None;
    }
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let value: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += value * scale;
        rest = &rest[unit_len..];
    }
    total.is_finite().then_some(total)
}

/// A string condition of a route match.
#[derive(Clone, Debug)]
pub enum StringMatch {
    /// Equal to this.
    Exact(String),
    /// Starting with this.
    Prefix(String),
    /// This path or one below it (`/api` matches `/api` and `/api/v1`, not
    /// `/apis`): Envoy's `path_separated_prefix`, which Istio uses for the
    /// Gateway API's `PathPrefix`.
    PathPrefix(String),
    /// Matching this RE2-style expression as a whole (as Envoy's
    /// `safe_regex` does).
    Regex(regex::Regex),
    /// Present, whatever its value (`{}`).
    Present,
}

impl StringMatch {
    /// Whether `value` (absent: `None`) satisfies the condition; with
    /// `ignore_case`, exact and prefix compare without case.
    pub fn matches(&self, value: Option<&str>, ignore_case: bool) -> bool {
        let Some(value) = value else {
            return false;
        };
        match self {
            StringMatch::Exact(want) if ignore_case => want.eq_ignore_ascii_case(value),
            StringMatch::Exact(want) => want == value,
            StringMatch::Prefix(want) if ignore_case => value
                .get(..want.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(want)),
            StringMatch::Prefix(want) => value.starts_with(want.as_str()),
            StringMatch::PathPrefix(want) => value
                .strip_prefix(want.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
            StringMatch::Regex(re) => re.is_match(value),
            StringMatch::Present => true,
        }
    }
}

impl StringMatch {
    /// A regex condition on the whole value (as Envoy's `safe_regex`).
    pub fn regex(pattern: &str) -> Result<StringMatch, String> {
        regex::Regex::new(&format!("^(?:{pattern})$"))
            .map(StringMatch::Regex)
            .map_err(|e| format!("invalid regex {pattern:?}: {e}"))
    }
}

impl<'de> Deserialize<'de> for StringMatch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            exact: Option<String>,
            prefix: Option<String>,
            regex: Option<String>,
        }
        let raw = Raw::deserialize(d)?;
        match (raw.exact, raw.prefix, raw.regex) {
            (Some(e), None, None) => Ok(StringMatch::Exact(e)),
            (None, Some(p), None) => Ok(StringMatch::Prefix(p)),
            (None, None, Some(r)) => StringMatch::regex(&r).map_err(serde::de::Error::custom),
            (None, None, None) => Ok(StringMatch::Present),
            _ => Err(serde::de::Error::custom(
                "a string match has one of exact, prefix and regex",
            )),
        }
    }
}

/// A percentage (`{value: 12.5}`).
#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub struct Percent {
    /// 0 to 100.
    #[serde(default)]
    pub value: f64,
}

/// Where a route sends requests.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Destination {
    /// Service host (short names are relative to the object's namespace).
    pub host: String,
    /// Subset of the host's DestinationRule.
    pub subset: String,
    /// Set on routes translated from the Gateway API only (Istio's API has
    /// no such field): the backendRef's Service as the translation found it.
    #[serde(skip)]
    pub service: Option<BackendService>,
}

/// A Gateway API backendRef's Service, resolved when the route was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendService {
    /// No such Service (or not a Service): an invalid backendRef.
    Missing,
    /// The Service exists: its namespace and pod selector (empty: no
    /// selector, so no pods).
    Selects {
        /// The Service's namespace.
        namespace: String,
        /// `spec.selector`.
        selector: BTreeMap<String, String>,
    },
}

/// A weighted destination.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteDestination {
    /// The destination.
    pub destination: Destination,
    /// Relative weight (a lone destination gets everything).
    pub weight: i64,
}

/// Conditions on an HTTP request (all must hold).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpMatch {
    /// Path condition.
    pub uri: Option<StringMatch>,
    /// Method condition.
    pub method: Option<StringMatch>,
    /// Scheme condition.
    pub scheme: Option<StringMatch>,
    /// Authority (Host) condition.
    pub authority: Option<StringMatch>,
    /// Header conditions by lower-case name.
    pub headers: BTreeMap<String, StringMatch>,
    /// Headers that must not match.
    pub without_headers: BTreeMap<String, StringMatch>,
    /// Query parameter conditions.
    pub query_params: BTreeMap<String, StringMatch>,
    /// Compare `uri` exact and prefix without case.
    pub ignore_uri_case: bool,
    /// The service port called.
    pub port: Option<u16>,
    /// Labels the calling workload must have.
    pub source_labels: BTreeMap<String, String>,
    /// Namespace the calling workload must be in.
    pub source_namespace: Option<String>,
    /// Gateways the match is limited to (`mesh` for sidecars).
    pub gateways: Vec<String>,
}

/// Retries of failed requests.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Retries {
    /// Retries allowed (tries at most `1 + attempts`).
    pub attempts: i64,
    /// Timeout of each try.
    pub per_try_timeout: Option<Seconds>,
    /// Comma-separated conditions (Envoy's `x-envoy-retry-on` and
    /// `x-envoy-retry-grpc-on` names, or status codes).
    pub retry_on: Option<String>,
    /// Base interval of the exponential back-off (Envoy's 25 ms when absent).
    pub backoff: Option<Seconds>,
}

/// Delay injection.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Delay {
    /// The delay.
    pub fixed_delay: Option<Seconds>,
    /// Share of requests delayed.
    pub percentage: Option<Percent>,
    /// Deprecated integer share.
    pub percent: Option<i64>,
}

/// Abort injection.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Abort {
    /// HTTP status answered.
    pub http_status: Option<u16>,
    /// gRPC status answered, by name (`UNAVAILABLE`).
    pub grpc_status: Option<String>,
    /// Share of requests aborted.
    pub percentage: Option<Percent>,
}

/// Fault injection at the caller's proxy.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Fault {
    /// Delays.
    pub delay: Option<Delay>,
    /// Aborts.
    pub abort: Option<Abort>,
}

/// One mirror of `mirrors`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MirrorPolicy {
    /// Where copies go.
    pub destination: Destination,
    /// Share of requests copied (absent: all).
    pub percentage: Option<Percent>,
}

/// A fixed answer from the proxy.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DirectResponse {
    /// Status answered.
    pub status: u16,
}

/// A redirect answered by the proxy.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Redirect {
    /// Status answered (301 when absent).
    pub redirect_code: Option<u16>,
}

/// An HTTP route.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpRoute {
    /// Name, for logs.
    pub name: String,
    /// Match blocks (any may hold); none: every request.
    #[serde(rename = "match")]
    pub matches: Vec<HttpMatch>,
    /// Weighted destinations.
    pub route: Vec<RouteDestination>,
    /// Timeout of the whole request.
    pub timeout: Option<Seconds>,
    /// Retries.
    pub retries: Option<Retries>,
    /// Fault injection.
    pub fault: Option<Fault>,
    /// One mirror.
    pub mirror: Option<Destination>,
    /// Share copied to `mirror`.
    pub mirror_percentage: Option<Percent>,
    /// Deprecated integer share copied to `mirror`.
    pub mirror_percent: Option<u32>,
    /// Several mirrors.
    pub mirrors: Vec<MirrorPolicy>,
    /// A fixed answer instead of forwarding.
    pub direct_response: Option<DirectResponse>,
    /// A redirect instead of forwarding.
    pub redirect: Option<Redirect>,
}

/// Conditions on a TCP connection.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct L4Match {
    /// The service port called.
    pub port: Option<u16>,
    /// Labels the calling workload must have.
    pub source_labels: BTreeMap<String, String>,
    /// Namespace the calling workload must be in.
    pub source_namespace: Option<String>,
    /// Gateways the match is limited to.
    pub gateways: Vec<String>,
}

/// A TCP route.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TcpRoute {
    /// Match blocks (any may hold); none: every connection.
    #[serde(rename = "match")]
    pub matches: Vec<L4Match>,
    /// Weighted destinations.
    pub route: Vec<RouteDestination>,
}

/// `VirtualService.spec`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VirtualServiceSpec {
    /// Hosts the routes apply to.
    pub hosts: Vec<String>,
    /// Gateways and sidecars (`mesh`) applying them; none: sidecars.
    pub gateways: Vec<String>,
    /// HTTP (and gRPC) routes, first match wins.
    pub http: Vec<HttpRoute>,
    /// TCP routes, first match wins.
    pub tcp: Vec<TcpRoute>,
    /// Namespaces that see it (`*` all, `.` its own); none: all.
    pub export_to: Vec<String>,
}

/// `DestinationRule.spec.trafficPolicy.tls`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientTls {
    /// `DISABLE`, `SIMPLE`, `MUTUAL` or `ISTIO_MUTUAL`.
    pub mode: String,
}

/// `DestinationRule.spec.trafficPolicy.outlierDetection`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OutlierDetection {
    /// Consecutive 5xx before ejection (Istio's default 5; 0 turns it off).
    #[serde(rename = "consecutive5xxErrors")]
    pub consecutive_5xx_errors: Option<u32>,
    /// Consecutive 502/503/504 before ejection (default off).
    pub consecutive_gateway_errors: Option<u32>,
    /// Deprecated: consecutive 502/503/504 (read as gateway errors).
    pub consecutive_errors: Option<u32>,
    /// Time between ejection sweeps (default 10 s).
    pub interval: Option<Seconds>,
    /// Minimum ejection time (default 30 s).
    pub base_ejection_time: Option<Seconds>,
    /// Most hosts ejected at once, in percent (default 10).
    pub max_ejection_percent: Option<i64>,
    /// Below this healthy share, ejection is off (default 0).
    pub min_health_percent: Option<i64>,
}

/// `DestinationRule.spec.trafficPolicy` (the parts honoured).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TrafficPolicy {
    /// TLS the caller's proxy originates.
    pub tls: Option<ClientTls>,
    /// Outlier detection.
    pub outlier_detection: Option<OutlierDetection>,
}

/// A subset of a DestinationRule.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Subset {
    /// Name routes refer to.
    pub name: String,
    /// Pod labels selecting its endpoints.
    pub labels: BTreeMap<String, String>,
    /// Overrides of the rule's policy.
    pub traffic_policy: Option<TrafficPolicy>,
}

/// A label selector with `matchLabels`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Selector {
    /// Labels a pod must have.
    pub match_labels: BTreeMap<String, String>,
}

/// `DestinationRule.spec`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DestinationRuleSpec {
    /// The service host.
    pub host: String,
    /// Policy for all its traffic.
    pub traffic_policy: Option<TrafficPolicy>,
    /// Subsets.
    pub subsets: Vec<Subset>,
    /// Namespaces that see it.
    pub export_to: Vec<String>,
    /// Client workloads it applies to (none: all).
    pub workload_selector: Option<Selector>,
}

/// `PeerAuthentication.spec.mtls`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PeerMtls {
    /// `UNSET`, `DISABLE`, `PERMISSIVE` or `STRICT`.
    pub mode: String,
}

/// `PeerAuthentication.spec`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PeerAuthenticationSpec {
    /// Workloads it applies to (none: the namespace, or the mesh in the
    /// root namespace).
    pub selector: Option<Selector>,
    /// The mode.
    pub mtls: Option<PeerMtls>,
    /// Modes per port (with a selector only).
    pub port_level_mtls: BTreeMap<String, PeerMtls>,
}

/// An object's identity and spec.
#[derive(Clone, Debug)]
pub struct Object<T> {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// `metadata.creationTimestamp` (RFC 3339, so it sorts by age).
    pub created: String,
    /// Its spec.
    pub spec: T,
}

impl<T> Object<T> {
    /// Whether an object exported to `export_to` is visible in namespace `ns`.
    pub fn visible_in(&self, export_to: &[String], ns: &str) -> bool {
        export_to.is_empty()
            || export_to
                .iter()
                .any(|e| e == "*" || e == ns || (e == "." && self.namespace == ns))
    }
}

/// Every traffic-management object in force, oldest first (Istio's order
/// of precedence between conflicting objects).
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// VirtualServices.
    pub virtual_services: Vec<Object<VirtualServiceSpec>>,
    /// DestinationRules.
    pub destination_rules: Vec<Object<DestinationRuleSpec>>,
    /// PeerAuthentications.
    pub peer_authentications: Vec<Object<PeerAuthenticationSpec>>,
    /// Gateway API HTTPRoutes and GRPCRoutes attached to Services (mesh
    /// routes), as the VirtualServices istiod makes of them: one per
    /// namespace, Service host and port (see [`super::gateway`]).
    pub mesh_routes: Vec<Object<VirtualServiceSpec>>,
    /// Objects left out, with why.
    pub problems: Vec<String>,
}

/// The objects of one kind that read, oldest first; the others are named
/// in `problems`.
pub(super) fn read_objects<T: for<'de> Deserialize<'de>>(
    kind: &str,
    objects: &[Value],
    problems: &mut Vec<String>,
) -> Vec<Object<T>> {
    let mut out: Vec<Object<T>> = objects
        .iter()
        .filter_map(|o| {
            let meta = &o["metadata"];
            let namespace = meta["namespace"].as_str().unwrap_or_default().to_owned();
            let name = meta["name"].as_str().unwrap_or_default().to_owned();
            let created = meta["creationTimestamp"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let spec = o.get("spec").cloned().unwrap_or(Value::Null);
            let spec = if spec.is_null() {
                serde_json::json!({})
            } else {
                spec
            };
            match serde_json::from_value::<T>(spec) {
                Ok(spec) => Some(Object {
                    namespace,
                    name,
                    created,
                    spec,
                }),
                Err(e) => {
                    problems.push(format!("{kind} {namespace}/{name}: {e}"));
                    None
                }
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.created, &a.namespace, &a.name).cmp(&(&b.created, &b.namespace, &b.name))
    });
    out
}

impl Config {
    /// The configuration of these objects (JSON as stored).
    pub fn from_objects(
        virtual_services: &[Value],
        destination_rules: &[Value],
        peer_authentications: &[Value],
    ) -> Config {
        let mut problems = Vec::new();
        let virtual_services = read_objects("VirtualService", virtual_services, &mut problems);
        let destination_rules = read_objects("DestinationRule", destination_rules, &mut problems);
        let peer_authentications =
            read_objects("PeerAuthentication", peer_authentications, &mut problems);
        Config {
            virtual_services,
            destination_rules,
            peer_authentications,
            mesh_routes: Vec::new(),
            problems,
        }
    }

    /// Adds the Gateway API's `HTTPRoutes` and `GRPCRoutes` (JSON as stored)
    /// whose parent is a Service, with their backendRefs resolved against
    /// `services` (the cluster's Services).
    pub fn with_gateway_routes(
        mut self,
        http_routes: &[Value],
        grpc_routes: &[Value],
        services: &[Value],
    ) -> Config {
        self.mesh_routes =
            super::gateway::mesh_routes(http_routes, grpc_routes, services, &mut self.problems);
        self
    }

    /// The configuration stored in `cluster` now.
    pub fn from_cluster(cluster: &InMemoryCluster) -> Config {
        let list = |group, plural| cluster.list(group, "v1", plural, None);
        Config::from_objects(
            &list(ISTIO_NETWORKING, "virtualservices"),
            &list(ISTIO_NETWORKING, "destinationrules"),
            &list(ISTIO_SECURITY, "peerauthentications"),
        )
        .with_gateway_routes(
            &list(GATEWAY_API, "httproutes"),
            &list(GATEWAY_API, "grpcroutes"),
            &list(CORE, "services"),
        )
    }

    /// The configuration a scenario describes by itself: the services'
    /// weights are their default spread (no VirtualService needed), and a
    /// namespace with mTLS off has a namespace-wide `DISABLE`.
    pub fn from_mesh(mesh: &Mesh) -> Config {
        let peer_authentications = mesh
            .namespaces
            .iter()
            .filter(|ns| !ns.mtls)
            .map(|ns| Object {
                namespace: ns.name.clone(),
                name: "default".into(),
                created: String::new(),
                spec: PeerAuthenticationSpec {
                    selector: None,
                    mtls: Some(PeerMtls {
                        mode: "DISABLE".into(),
                    }),
                    port_level_mtls: BTreeMap::new(),
                },
            })
            .collect();
        Config {
            peer_authentications,
            ..Config::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations_read_as_istio_writes_them() {
        for (text, want) in [
            ("10s", 10.0),
            ("1.5s", 1.5),
            ("250ms", 0.25),
            ("2m", 120.0),
            ("1h", 3600.0),
            ("1m30s", 90.0),
            ("0", 0.0),
            ("100us", 1e-4),
        ] {
            assert!(
                (parse_duration(text).unwrap() - want).abs() < 1e-12,
                "{text}"
            );
        }
        for bad in ["", "10", "s", "1x", "-1s", "1.5.2s"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn string_matches_follow_istio() {
        let m = |v: Value| serde_json::from_value::<StringMatch>(v).unwrap();
        assert!(m(json!({"exact": "jason"})).matches(Some("jason"), false));
        assert!(!m(json!({"exact": "jason"})).matches(Some("jason2"), false));
        assert!(!m(json!({"exact": "jason"})).matches(None, false));
        assert!(m(json!({"prefix": "/reviews"})).matches(Some("/reviews/0"), false));
        assert!(m(json!({"prefix": "/REVIEWS"})).matches(Some("/reviews/0"), true));
        // The Gateway API's path prefixes end at a `/`.
        let api = StringMatch::PathPrefix("/api".into());
        assert!(api.matches(Some("/api"), false) && api.matches(Some("/api/v1"), false));
        assert!(!api.matches(Some("/apis"), false));
        // Regexes match the whole value, as Envoy's safe_regex does.
        assert!(m(json!({"regex": "/reviews/[0-9]+"})).matches(Some("/reviews/0"), false));
        assert!(!m(json!({"regex": "reviews"})).matches(Some("/reviews/0"), false));
        assert!(m(json!({})).matches(Some(""), false));
        assert!(serde_json::from_value::<StringMatch>(json!({"regex": "("})).is_err());
        assert!(
            serde_json::from_value::<StringMatch>(json!({"exact": "a", "prefix": "b"})).is_err()
        );
    }

    #[test]
    fn objects_that_do_not_read_are_named_and_left_out() {
        let good = json!({"metadata": {"name": "a", "namespace": "ns", "creationTimestamp": "2026-01-02T00:00:00Z"},
            "spec": {"hosts": ["reviews"], "http": [{"timeout": "1s", "route": [{"destination": {"host": "reviews"}}]}]}});
        let older = json!({"metadata": {"name": "b", "namespace": "ns", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"hosts": ["ratings"]}});
        let bad = json!({"metadata": {"name": "c", "namespace": "ns"},
            "spec": {"hosts": ["reviews"], "http": [{"timeout": "soon"}]}});
        let config = Config::from_objects(&[good, bad, older], &[], &[]);
        let names: Vec<&str> = config
            .virtual_services
            .iter()
            .map(|o| o.name.as_str())
            .collect();
        assert_eq!(names, ["b", "a"]);
        assert_eq!(config.problems.len(), 1);
        assert!(config.problems[0].contains("ns/c"), "{:?}", config.problems);
        assert_eq!(
            config.virtual_services[1].spec.http[0].timeout,
            Some(Seconds(1.0))
        );
    }
}
