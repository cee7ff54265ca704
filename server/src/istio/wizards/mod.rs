//! The traffic-management wizards: from a [`WizardRequest`] and the facts
//! of one service, the Istio objects to apply (plain functions, golden-file
//! tested), and the checks of the request that come before anything is
//! read from or written to the cluster.
//!
//! Objects meshdeck writes for a service, all named after it: the
//! VirtualService `<service>` (HTTP routes or TCP routes), the
//! DestinationRule `<service>` (a subset per version, traffic policy), the
//! PeerAuthentication `<service>` (workload scope) or `default`
//! (namespace scope), and the Gateway and VirtualService
//! `<service>-gateway`. Each carries `app.kubernetes.io/managed-by:
//! meshdeck`, `meshdeck.io/service: <service>` and `meshdeck.io/wizard:
//! <last wizard>`; the annotation `meshdeck.io/wizards` lists every wizard
//! whose settings the object holds.
//!
//! Wizards compose on one service: routing (traffic shifting, request
//! routing) replaces the routes and keeps the fault, timeout and retries a
//! policy wizard set; a policy wizard (fault injection, timeouts and
//! retries) keeps the routes and replaces its policy on every route;
//! circuit breaking and mTLS each replace their part of the
//! DestinationRule's traffic policy and keep the other's.

pub mod diff;
pub mod write;

use std::collections::{BTreeMap, BTreeSet};

use app::types::{
    AbortFault, ConnectionPoolSpec, DelayFault, GatewayProtocol, IstioKind, LoadBalancerSpec,
    MirrorSpec, MtlsMode, OutlierSpec, PeerAuthScope, PeerAuthSpec, RetrySpec, RouteApi,
    RouteMatch, RouteRule, ServiceProtocol, ServiceVersion, StringMatch, StringMatchKind, TlsMode,
    VersionWeight, WizardKind, WizardRequest,
};
use serde_json::{Map, Value, json};

use crate::cluster::apply::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use crate::cluster::names;

/// Label naming the service an object was written for.
pub const SERVICE_LABEL: &str = "meshdeck.io/service";
/// Label naming the last wizard that wrote an object.
pub const WIZARD_LABEL: &str = "meshdeck.io/wizard";
/// Annotation listing the wizards whose settings an object holds.
pub const WIZARDS_ANNOTATION: &str = "meshdeck.io/wizards";
/// The pod label whose values are a service's versions (subsets).
pub const VERSION_LABEL: &str = "version";

/// Most rules of request routing, matches per rule, and conditions per
/// match: bounds what one request can make meshdeck write.
pub const MAX_RULES: usize = 50;
const MAX_MATCHES: usize = 20;
const MAX_CONDITIONS: usize = 20;
/// Most gateway hosts.
const MAX_HOSTS: usize = 50;
/// Longest string accepted in any field.
const MAX_TEXT: usize = 1024;

/// What the wizards know about a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceFacts {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Protocol of its (first) port.
    pub protocol: ServiceProtocol,
    /// Its first port.
    pub port: Option<i64>,
    /// Its pod selector.
    pub selector: BTreeMap<String, String>,
    /// Its versions (pods' `version` labels), sorted.
    pub versions: Vec<ServiceVersion>,
    /// Labels of the ingress gateway's pods.
    pub gateway_selector: BTreeMap<String, String>,
    /// The cluster serves the Gateway API route of the service's protocol
    /// (HTTPRoute, GRPCRoute for gRPC).
    pub gateway_api: bool,
    /// Services selecting exactly one version of this one, by version.
    pub version_services: BTreeMap<String, String>,
    /// VirtualServices routing the service's host for the mesh
    /// (`namespace/name`).
    pub virtual_services: Vec<String>,
    /// HTTPRoutes and GRPCRoutes attached to the service
    /// (`Kind namespace/name`).
    pub gateway_routes: Vec<String>,
}

impl ServiceFacts {
    /// The Gateway API route kind for the service's protocol.
    pub fn route_kind(&self) -> IstioKind {
        if self.protocol == ServiceProtocol::Grpc {
            IstioKind::GrpcRoute
        } else {
            IstioKind::HttpRoute
        }
    }

    /// The service's fully qualified host.
    pub fn host(&self) -> String {
        format!("{}.{}.svc.cluster.local", self.name, self.namespace)
    }

    fn has_version(&self, version: &str) -> bool {
        self.versions.iter().any(|v| v.version == version)
    }

    fn version_list(&self) -> String {
        if self.versions.is_empty() {
            "none: no pod of the service has a `version` label".to_owned()
        } else {
            self.versions
                .iter()
                .map(|v| v.version.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

/// The live spec of meshdeck's objects for the service, which wizards
/// compose with.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Current {
    /// meshdeck's VirtualService `<service>`, its `spec`.
    pub virtual_service: Option<Value>,
    /// The wizards its annotation lists.
    pub virtual_service_wizards: Vec<WizardKind>,
    /// meshdeck's DestinationRule `<service>`, its `spec`.
    pub destination_rule: Option<Value>,
}

/// One object to apply.
#[derive(Clone, Debug, PartialEq)]
pub struct Desired {
    /// Kind.
    pub kind: IstioKind,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The apply configuration.
    pub body: Value,
}

// ---------------------------------------------------------------------------
// Checks of the request.
// ---------------------------------------------------------------------------

/// A duration as Istio takes it (Go's syntax: `250ms`, `1.5s`, `1m30s`,
/// `2h`), in milliseconds; `None` when it is not one.
pub fn duration_ms(text: &str) -> Option<f64> {
    let s = text.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    let mut rest = s;
    let mut total = 0.0;
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
        let factor = match &rest[..unit_len] {
            "ns" => 1e-6,
            "us" | "µs" => 1e-3,
            "ms" => 1.0,
            "s" => 1e3,
            "m" => 60e3,
            "h" => 3600e3,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += value * factor;
    }
    Some(total)
}

/// Istio's gRPC status names.
pub const GRPC_STATUSES: [&str; 16] = [
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// Envoy's retry conditions that Istio passes on.
pub const RETRY_ON: [&str; 13] = [
    "5xx",
    "gateway-error",
    "reset",
    "connect-failure",
    "retriable-4xx",
    "refused-stream",
    "retriable-status-codes",
    "retriable-headers",
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
];

struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, field: &str, problem: impl std::fmt::Display) {
        self.0.push(format!("{field}: {problem}"));
    }

    fn text(&mut self, field: &str, value: &str) -> bool {
        if value.len() > MAX_TEXT {
            self.add(field, format!("longer than {MAX_TEXT} characters"));
            return false;
        }
        true
    }

    fn duration(&mut self, field: &str, value: &str) {
        if !self.text(field, value) {
            return;
        }
        match duration_ms(value) {
            None => self.add(
                field,
                format!("{value:?} is not a duration (e.g. 250ms, 5s, 1m30s)"),
            ),
            Some(ms) if ms < 1.0 => self.add(
                field,
                format!("{value:?} is too short: Istio takes durations of 1ms or more"),
            ),
            Some(_) => {}
        }
    }

    fn percent(&mut self, field: &str, value: f64) {
        if !(0.0..=100.0).contains(&value) || !value.is_finite() {
            self.add(field, format!("{value} is not a percentage from 0 to 100"));
        }
    }

    fn positive(&mut self, field: &str, value: i64) {
        if !(1..=i64::from(i32::MAX)).contains(&value) {
            self.add(
                field,
                format!("{value} is not a number from 1 to 2147483647"),
            );
        }
    }

    /// The route API chosen fits the cluster and the routing already there:
    /// Istio does not combine a VirtualService and a Gateway API route for
    /// one service.
    fn route_api(&mut self, api: RouteApi, facts: &ServiceFacts) {
        match api {
            RouteApi::Istio => {
                if let Some(route) = facts.gateway_routes.first() {
                    self.add(
                        "api",
                        format!(
                            "{route} already routes service {}; Istio does not combine it with a VirtualService: choose the Gateway API, or remove that route first",
                            facts.name
                        ),
                    );
                }
            }
            RouteApi::GatewayApi => {
                let kind = facts.route_kind().label();
                if !facts.gateway_api {
                    self.add(
                        "api",
                        format!(
                            "the cluster does not serve the Gateway API's {kind} ({})",
                            app::types::GATEWAY_API_GROUP
                        ),
                    );
                }
                if let Some(vs) = facts.virtual_services.first() {
                    self.add(
                        "api",
                        format!(
                            "VirtualService {vs} already routes service {}; Istio does not combine it with an {kind}: remove its traffic routing first, or stay with Istio's API",
                            facts.name
                        ),
                    );
                }
                if facts.port.is_none() {
                    self.add(
                        "api",
                        format!("service {} has no port for the {kind} to name", facts.name),
                    );
                }
            }
        }
    }

    /// Every version with a weight has a Service of its own to send to.
    fn backends(&mut self, field: &str, facts: &ServiceFacts, weights: &[VersionWeight]) {
        for (i, w) in weights.iter().enumerate() {
            if facts.has_version(&w.version) && !facts.version_services.contains_key(&w.version) {
                let selector: Vec<String> = facts
                    .selector
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .chain([format!("{VERSION_LABEL}={}", w.version)])
                    .collect();
                self.add(
                    &format!("{field}[{i}].version"),
                    format!(
                        "no Service in {} selects only version {} of {} ({}): Gateway API routes send to Services, not subsets; create one (Istio's samples call it {}-{})",
                        facts.namespace,
                        w.version,
                        facts.name,
                        selector.join(", "),
                        facts.name,
                        w.version
                    ),
                );
            }
        }
    }

    fn version(&mut self, field: &str, facts: &ServiceFacts, version: &str) {
        if !facts.has_version(version) {
            self.add(
                field,
                format!(
                    "no workload of service {} has version {version:?} (versions: {})",
                    facts.name,
                    facts.version_list()
                ),
            );
        }
    }

    fn weights(&mut self, field: &str, facts: &ServiceFacts, weights: &[VersionWeight]) {
        if weights.is_empty() {
            self.add(field, "name at least one version");
            return;
        }
        let mut seen = BTreeSet::new();
        for (i, w) in weights.iter().enumerate() {
            let f = format!("{field}[{i}]");
            self.version(&format!("{f}.version"), facts, &w.version);
            if !seen.insert(w.version.as_str()) {
                self.add(
                    &format!("{f}.version"),
                    format!("{:?} is named twice", w.version),
                );
            }
            if !(0..=100).contains(&w.weight) {
                self.add(
                    &format!("{f}.weight"),
                    format!("{} is not a percentage from 0 to 100", w.weight),
                );
            }
        }
        let sum: i64 = weights.iter().map(|w| w.weight.clamp(-1000, 1000)).sum();
        if sum != 100 {
            self.add(field, format!("the weights add up to {sum}, not 100"));
        }
    }

    fn string_match(&mut self, field: &str, m: &StringMatch) {
        if !self.text(field, &m.value) {
            return;
        }
        if m.value.is_empty() && m.kind != StringMatchKind::Prefix {
            self.add(&format!("{field}.value"), "is empty");
        }
        if m.kind == StringMatchKind::Regex
            && let Err(e) = regex::Regex::new(&m.value)
        {
            let reason = e.to_string();
            let last = reason.lines().last().unwrap_or("").trim().to_owned();
            self.add(
                &format!("{field}.value"),
                format!("{:?} is not a regular expression ({last})", m.value),
            );
        }
    }
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 256
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
}

fn check_match(p: &mut Problems, field: &str, m: &RouteMatch) {
    let count = m.headers.len() + m.cookies.len() + m.source_labels.len();
    if count > MAX_CONDITIONS {
        p.add(field, format!("more than {MAX_CONDITIONS} conditions"));
        return;
    }
    if count == 0 && m.uri.is_none() && m.method.is_none() {
        p.add(field, "a match needs at least one condition");
    }
    for (k, h) in m.headers.iter().enumerate() {
        let f = format!("{field}.headers[{k}]");
        if !is_header_name(&h.name) {
            p.add(
                &format!("{f}.name"),
                format!(
                    "{:?} is not a header name (lower case letters, digits, -, _ and .)",
                    h.name
                ),
            );
        }
        if h.name == "cookie" && !m.cookies.is_empty() {
            p.add(
                &format!("{f}.name"),
                "a match cannot have both a cookie header condition and cookie conditions",
            );
        }
        p.string_match(&format!("{f}.match"), &h.value);
    }
    for (k, c) in m.cookies.iter().enumerate() {
        let f = format!("{field}.cookies[{k}]");
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
        };
        if !token(&c.name) {
            p.add(
                &format!("{f}.name"),
                format!("{:?} is not a cookie name", c.name),
            );
        }
        if !c
            .value
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b",;\\\"".contains(&b))
            || c.value.is_empty()
        {
            p.add(
                &format!("{f}.value"),
                format!("{:?} is not a cookie value", c.value),
            );
        }
    }
    if let Some(uri) = &m.uri {
        p.string_match(&format!("{field}.uri"), uri);
        if uri.kind != StringMatchKind::Regex && !uri.value.starts_with('/') {
            p.add(
                &format!("{field}.uri.value"),
                format!("{:?} does not start with /", uri.value),
            );
        }
    }
    if let Some(method) = &m.method
        && (method.is_empty()
            || method.len() > 32
            || !method.bytes().all(|b| b.is_ascii_uppercase()))
    {
        p.add(
            &format!("{field}.method"),
            format!("{method:?} is not an HTTP method (e.g. GET, POST)"),
        );
    }
    for (k, v) in &m.source_labels {
        let (prefix, name) = k.rsplit_once('/').unwrap_or(("", k.as_str()));
        let ok_key = (prefix.is_empty() || names::is_subdomain(prefix))
            && !name.is_empty()
            && name.len() <= 63
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        let ok_value = v.len() <= 63
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !ok_key {
            p.add(
                &format!("{field}.source_labels"),
                format!("{k:?} is not a label key"),
            );
        }
        if !ok_value {
            p.add(
                &format!("{field}.source_labels.{k}"),
                format!("{v:?} is not a label value"),
            );
        }
    }
}

/// What a valid request would write that will not do all the caller may
/// expect, as warnings shown with the preview and the outcome: today, a
/// DestinationRule traffic policy for a service whose mesh traffic a
/// Gateway API route sends to other Services (its versions'), whose hosts
/// the DestinationRule for the service's host does not cover.
pub fn notes(request: &WizardRequest, facts: &ServiceFacts) -> Vec<String> {
    let policy = match request {
        WizardRequest::CircuitBreaking { .. } => {
            "its connection pool, outlier detection and load balancing"
        }
        WizardRequest::Mtls { .. } => {
            "its TLS mode (a PeerAuthentication still applies to the workloads)"
        }
        _ => return Vec::new(),
    };
    facts
        .gateway_routes
        .iter()
        .map(|route| {
            format!(
                "{route} sends service {}'s requests to the Services of its versions; this DestinationRule is for host {}, so {policy} does not apply to those requests: write DestinationRules for the version Services' hosts instead",
                facts.name,
                facts.host()
            )
        })
        .collect()
}

/// Most rules of one Gateway API route, and headers per match (the CRDs'
/// `maxItems`).
const GATEWAY_API_MAX_RULES: usize = 16;
const GATEWAY_API_MAX_HEADERS: usize = 16;

/// What request routing asks that a Gateway API route cannot say.
fn gateway_api_rules(p: &mut Problems, facts: &ServiceFacts, rules: &[RouteRule]) {
    let grpc = facts.protocol == ServiceProtocol::Grpc;
    let kind = facts.route_kind().label();
    if rules.len() > GATEWAY_API_MAX_RULES {
        p.add(
            "rules",
            format!("an {kind} holds at most {GATEWAY_API_MAX_RULES} rules"),
        );
    }
    for (i, rule) in rules.iter().enumerate().take(MAX_RULES) {
        p.backends(&format!("rules[{i}].weights"), facts, &rule.weights);
        for (j, m) in rule.matches.iter().enumerate().take(MAX_MATCHES) {
            let field = format!("rules[{i}].matches[{j}]");
            if m.headers.len() + usize::from(!m.cookies.is_empty()) > GATEWAY_API_MAX_HEADERS {
                p.add(
                    &format!("{field}.headers"),
                    format!("an {kind} match takes at most {GATEWAY_API_MAX_HEADERS} headers"),
                );
            }
            for (k, h) in m.headers.iter().enumerate() {
                if h.value.kind == StringMatchKind::Prefix {
                    p.add(
                        &format!("{field}.headers[{k}].match.kind"),
                        "the Gateway API matches headers exactly or by regex, not by prefix",
                    );
                }
            }
            if !m.source_labels.is_empty() {
                p.add(
                    &format!("{field}.source_labels"),
                    format!("an {kind} cannot match the caller's labels: write it with Istio's VirtualService"),
                );
            }
            if grpc {
                if !m.cookies.is_empty() {
                    p.add(
                        &format!("{field}.cookies"),
                        "a GRPCRoute matches headers, not cookies",
                    );
                }
                if m.uri.is_some() {
                    p.add(
                        &format!("{field}.uri"),
                        "a GRPCRoute matches gRPC methods and headers, not URI paths",
                    );
                }
                if m.method.is_some() {
                    p.add(
                        &format!("{field}.method"),
                        "a GRPCRoute has no HTTP methods to match",
                    );
                }
            }
        }
    }
}

/// Every problem of `request` for `facts`, each as `field: problem`;
/// empty when it can be written.
pub fn validate(request: &WizardRequest, facts: &ServiceFacts) -> Vec<String> {
    let mut p = Problems(Vec::new());
    let tcp = facts.protocol == ServiceProtocol::Tcp;
    match request {
        WizardRequest::TcpTrafficShifting { .. } if !tcp => p.add(
            "wizard",
            format!(
                "service {} speaks {:?}, not TCP: use traffic shifting",
                facts.name, facts.protocol
            ),
        ),
        WizardRequest::TcpTrafficShifting { .. }
        | WizardRequest::CircuitBreaking { .. }
        | WizardRequest::Mtls { .. } => {}
        _ if tcp => p.add(
            "wizard",
            format!(
                "service {} speaks TCP: only TCP traffic shifting, circuit breaking and mTLS apply",
                facts.name
            ),
        ),
        _ => {}
    }
    if matches!(
        request,
        WizardRequest::FaultInjection { .. } | WizardRequest::TimeoutsRetries { .. }
    ) && let Some(route) = facts.gateway_routes.first()
    {
        p.add(
            "wizard",
            format!(
                "{route} routes service {}; this wizard writes into a VirtualService, which Istio does not combine with it",
                facts.name
            ),
        );
    }
    match request {
        WizardRequest::TrafficShifting {
            weights,
            mirror,
            api,
        } => {
            p.weights("weights", facts, weights);
            if let Some(MirrorSpec { version, percent }) = mirror {
                p.version("mirror.version", facts, version);
                p.percent("mirror.percent", *percent);
            }
            p.route_api(*api, facts);
            if *api == RouteApi::GatewayApi {
                if mirror.is_some() {
                    p.add(
                        "mirror",
                        "mirroring a share of the requests is not in the Gateway API's standard channel: write it with Istio's VirtualService",
                    );
                }
                p.backends("weights", facts, weights);
            }
        }
        WizardRequest::TcpTrafficShifting { weights } => p.weights("weights", facts, weights),
        WizardRequest::RequestRouting { rules, api } => {
            if rules.is_empty() {
                p.add("rules", "add at least one rule");
            }
            p.route_api(*api, facts);
            if *api == RouteApi::GatewayApi {
                gateway_api_rules(&mut p, facts, rules);
            }
            if rules.len() > MAX_RULES {
                p.add("rules", format!("more than {MAX_RULES} rules"));
                return p.0;
            }
            for (i, RouteRule { matches, weights }) in rules.iter().enumerate() {
                let field = format!("rules[{i}]");
                if matches.is_empty() && i + 1 < rules.len() {
                    p.add(
                        &field,
                        "a rule without matches takes every request, so it must be the last",
                    );
                }
                if matches.len() > MAX_MATCHES {
                    p.add(
                        &format!("{field}.matches"),
                        format!("more than {MAX_MATCHES}"),
                    );
                    continue;
                }
                for (j, m) in matches.iter().enumerate() {
                    check_match(&mut p, &format!("{field}.matches[{j}]"), m);
                }
                p.weights(&format!("{field}.weights"), facts, weights);
            }
        }
        WizardRequest::FaultInjection { delay, abort } => {
            if let Some(DelayFault {
                fixed_delay,
                percent,
            }) = delay
            {
                p.duration("delay.fixed_delay", fixed_delay);
                p.percent("delay.percent", *percent);
            }
            if let Some(AbortFault {
                http_status,
                grpc_status,
                percent,
            }) = abort
            {
                match (http_status, grpc_status) {
                    (Some(_), Some(_)) => {
                        p.add("abort", "give an HTTP status or a gRPC status, not both")
                    }
                    (None, None) => p.add("abort", "give an HTTP status or a gRPC status"),
                    (Some(code), None) if !(200..=599).contains(code) => p.add(
                        "abort.http_status",
                        format!("{code} is not an HTTP status from 200 to 599"),
                    ),
                    (None, Some(status)) if !GRPC_STATUSES.contains(&status.as_str()) => p.add(
                        "abort.grpc_status",
                        format!("{status:?} is not a gRPC status (e.g. UNAVAILABLE)"),
                    ),
                    _ => {}
                }
                p.percent("abort.percent", *percent);
            }
        }
        WizardRequest::TimeoutsRetries { timeout, retries } => {
            if let Some(t) = timeout {
                p.duration("timeout", t);
            }
            if let Some(RetrySpec {
                attempts,
                per_try_timeout,
                retry_on,
            }) = retries
            {
                if !(0..=100).contains(attempts) {
                    p.add(
                        "retries.attempts",
                        format!("{attempts} is not a number from 0 to 100"),
                    );
                }
                if let Some(t) = per_try_timeout {
                    p.duration("retries.per_try_timeout", t);
                }
                for (k, c) in retry_on.iter().enumerate() {
                    if !RETRY_ON.contains(&c.as_str()) {
                        p.add(
                            &format!("retries.retry_on[{k}]"),
                            format!(
                                "{c:?} is not a retry condition (one of {})",
                                RETRY_ON.join(", ")
                            ),
                        );
                    }
                }
            }
        }
        WizardRequest::CircuitBreaking {
            connection_pool,
            outlier_detection,
            load_balancer,
        } => {
            if let Some(c) = connection_pool {
                for (field, value) in [
                    ("connection_pool.max_connections", c.max_connections),
                    (
                        "connection_pool.http1_max_pending_requests",
                        c.http1_max_pending_requests,
                    ),
                    ("connection_pool.http2_max_requests", c.http2_max_requests),
                    (
                        "connection_pool.max_requests_per_connection",
                        c.max_requests_per_connection,
                    ),
                    ("connection_pool.max_retries", c.max_retries),
                ] {
                    if let Some(v) = value {
                        p.positive(field, v);
                    }
                }
                if let Some(t) = &c.connect_timeout {
                    p.duration("connection_pool.connect_timeout", t);
                }
            }
            if let Some(o) = outlier_detection {
                p.positive("outlier_detection.consecutive_errors", o.consecutive_errors);
                p.duration("outlier_detection.interval", &o.interval);
                p.duration(
                    "outlier_detection.base_ejection_time",
                    &o.base_ejection_time,
                );
                if !(0..=100).contains(&o.max_ejection_percent) {
                    p.add(
                        "outlier_detection.max_ejection_percent",
                        format!(
                            "{} is not a percentage from 0 to 100",
                            o.max_ejection_percent
                        ),
                    );
                }
            }
            match load_balancer {
                Some(LoadBalancerSpec::HashHeader { name }) if !is_header_name(name) => p.add(
                    "load_balancer.name",
                    format!("{name:?} is not a header name"),
                ),
                Some(LoadBalancerSpec::HashCookie { name, ttl }) => {
                    if name.is_empty() || !p.text("load_balancer.name", name) {
                        p.add("load_balancer.name", "name the cookie");
                    }
                    p.duration("load_balancer.ttl", ttl);
                }
                _ => {}
            }
            if connection_pool.is_none() && outlier_detection.is_none() && load_balancer.is_none() {
                p.add(
                    "wizard",
                    "set connection limits, outlier detection or a load balancer",
                );
            }
        }
        WizardRequest::Mtls {
            peer_authentication,
            ..
        } => {
            if let Some(PeerAuthSpec {
                scope: PeerAuthScope::Workload,
                ..
            }) = peer_authentication
                && facts.selector.is_empty()
            {
                p.add(
                    "peer_authentication.scope",
                    format!(
                        "service {} has no pod selector to pick its workloads by; choose the namespace",
                        facts.name
                    ),
                );
            }
        }
        WizardRequest::Gateway {
            hosts,
            port,
            protocol,
            credential_name,
        } => {
            if hosts.is_empty() {
                p.add("hosts", "name at least one host (or *)");
            }
            if hosts.len() > MAX_HOSTS {
                p.add("hosts", format!("more than {MAX_HOSTS}"));
            }
            for (k, h) in hosts.iter().enumerate() {
                let bare = h.strip_prefix("*.").unwrap_or(h);
                if h != "*" && !names::is_subdomain(bare) {
                    p.add(
                        &format!("hosts[{k}]"),
                        format!(
                            "{h:?} is not a host name (e.g. shop.example.com, *.example.com or *)"
                        ),
                    );
                }
            }
            if !(1..=65535).contains(port) {
                p.add("port", format!("{port} is not a port from 1 to 65535"));
            }
            match (protocol, credential_name.as_deref()) {
                (GatewayProtocol::Https, None | Some("")) => p.add(
                    "credential_name",
                    "HTTPS needs the Secret with the certificate (in the gateway's namespace)",
                ),
                (GatewayProtocol::Https, Some(name)) if !names::is_subdomain(name) => {
                    p.add("credential_name", format!("{name:?} is not a Secret name"))
                }
                (GatewayProtocol::Http, Some(name)) if !name.is_empty() => {
                    p.add("credential_name", "only HTTPS takes a certificate")
                }
                _ => {}
            }
        }
    }
    if matches!(
        request,
        WizardRequest::TrafficShifting { .. }
            | WizardRequest::RequestRouting { .. }
            | WizardRequest::TcpTrafficShifting { .. }
    ) && facts.versions.is_empty()
    {
        p.add(
            "versions",
            format!(
                "no pod of service {} has a `version` label, so there are no versions to route to",
                facts.name
            ),
        );
    }
    p.0
}

// ---------------------------------------------------------------------------
// Building the objects.
// ---------------------------------------------------------------------------

fn api_version(kind: IstioKind) -> String {
    format!("{}/v1", kind.group())
}

/// The apply configuration of an object of `kind` named `name`, with
/// meshdeck's labels: `wizard` wrote it last, `wizards` are those whose
/// settings it holds.
fn object(
    kind: IstioKind,
    facts: &ServiceFacts,
    name: &str,
    wizard: WizardKind,
    wizards: &[WizardKind],
    spec: Value,
) -> Desired {
    let mut list: Vec<WizardKind> = wizards.to_vec();
    list.sort();
    list.dedup();
    let list: Vec<&str> = list.iter().map(|w| w.as_str()).collect();
    let mut body = json!({
        "apiVersion": api_version(kind),
        "kind": kind.label(),
        "metadata": {
            "name": name,
            "namespace": facts.namespace,
            "labels": {
                MANAGED_BY_LABEL: MANAGED_BY_VALUE,
                SERVICE_LABEL: facts.name,
                WIZARD_LABEL: wizard.as_str(),
            },
        },
        "spec": spec,
    });
    // A DestinationRule holding only the subsets a route needs holds no
    // wizard's settings: no annotation rather than an empty one.
    if !list.is_empty() {
        body["metadata"]["annotations"] = json!({ WIZARDS_ANNOTATION: list.join(",") });
    }
    Desired {
        kind,
        namespace: facts.namespace.clone(),
        name: name.to_owned(),
        body,
    }
}

/// The wizards an object's annotation lists.
pub fn wizards_of(annotations: Option<&BTreeMap<String, String>>) -> Vec<WizardKind> {
    annotations
        .and_then(|a| a.get(WIZARDS_ANNOTATION))
        .map(|list| list.split(',').filter_map(WizardKind::parse).collect())
        .unwrap_or_default()
}

fn destination(facts: &ServiceFacts, version: Option<&str>) -> Value {
    let mut d = json!({"host": facts.host()});
    if let Some(v) = version {
        d["subset"] = json!(v);
    }
    d
}

fn weighted(facts: &ServiceFacts, weights: &[VersionWeight]) -> Value {
    Value::Array(
        weights
            .iter()
            .map(|w| json!({"destination": destination(facts, Some(&w.version)), "weight": w.weight}))
            .collect(),
    )
}

fn string_match(m: &StringMatch) -> Value {
    let key = match m.kind {
        StringMatchKind::Exact => "exact",
        StringMatchKind::Prefix => "prefix",
        StringMatchKind::Regex => "regex",
    };
    json!({ key: m.value })
}

/// The `cookie` header regex matching `name=value` among the cookies.
pub fn cookie_regex(cookies: &[app::types::CookieMatch]) -> String {
    // Each cookie anywhere in the header, in any order: one lookahead-free
    // pattern per cookie is not possible in RE2, so cookies are matched in
    // the order given.
    let parts: Vec<String> = cookies
        .iter()
        .map(|c| format!("{}={}", regex::escape(&c.name), regex::escape(&c.value)))
        .collect();
    format!("^(.*?;\\s*)?{}(;.*)?$", parts.join("(;.*?;\\s*|;\\s*)"))
}

fn route_match(m: &RouteMatch) -> Value {
    let mut out = Map::new();
    let mut headers = Map::new();
    for h in &m.headers {
        headers.insert(h.name.clone(), string_match(&h.value));
    }
    if !m.cookies.is_empty() {
        headers.insert("cookie".into(), json!({"regex": cookie_regex(&m.cookies)}));
    }
    if !headers.is_empty() {
        out.insert("headers".into(), Value::Object(headers));
    }
    if let Some(uri) = &m.uri {
        out.insert("uri".into(), string_match(uri));
    }
    if let Some(method) = &m.method {
        out.insert("method".into(), json!({"exact": method}));
    }
    if !m.source_labels.is_empty() {
        out.insert("sourceLabels".into(), json!(m.source_labels));
    }
    Value::Object(out)
}

/// The parts of an HTTP route a policy wizard sets.
const POLICY_FIELDS: [&str; 3] = ["fault", "timeout", "retries"];

fn subsets(facts: &ServiceFacts) -> Value {
    Value::Array(
        facts
            .versions
            .iter()
            .map(|v| json!({"name": v.version, "labels": {VERSION_LABEL: v.version}}))
            .collect(),
    )
}

/// The DestinationRule: every version as a subset, and `policy` (the
/// traffic policy parts this wizard sets, `None` to leave them) merged
/// into the live one's.
fn destination_rule(
    facts: &ServiceFacts,
    current: &Current,
    wizard: WizardKind,
    policy: Option<(&[&str], Map<String, Value>)>,
) -> Desired {
    let mut traffic_policy = current
        .destination_rule
        .as_ref()
        .and_then(|s| s.get("trafficPolicy"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some((parts, set)) = policy {
        for part in parts {
            traffic_policy.remove(*part);
        }
        traffic_policy.extend(set);
    }
    let mut wizards = Vec::new();
    if ["connectionPool", "outlierDetection", "loadBalancer"]
        .iter()
        .any(|k| traffic_policy.contains_key(*k))
    {
        wizards.push(WizardKind::CircuitBreaking);
    }
    if traffic_policy.contains_key("tls") {
        wizards.push(WizardKind::Mtls);
    }
    let mut spec = json!({"host": facts.host(), "subsets": subsets(facts)});
    if !traffic_policy.is_empty() {
        spec["trafficPolicy"] = Value::Object(traffic_policy);
    }
    object(
        IstioKind::DestinationRule,
        facts,
        &facts.name,
        wizard,
        &wizards,
        spec,
    )
}

/// The live VirtualService's HTTP routes: each without the policy fields,
/// and the policy of the first (the wizards set one policy on every route).
fn live_routes(current: &Current) -> (Vec<Value>, Map<String, Value>) {
    let http: Vec<Value> = current
        .virtual_service
        .as_ref()
        .and_then(|s| s.get("http"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let policy: Map<String, Value> = http
        .first()
        .and_then(Value::as_object)
        .map(|r| {
            r.iter()
                .filter(|(k, _)| POLICY_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let routes = http
        .into_iter()
        .map(|mut r| {
            if let Some(o) = r.as_object_mut() {
                for f in POLICY_FIELDS {
                    o.remove(f);
                }
            }
            r
        })
        .collect();
    (routes, policy)
}

/// The wizards whose settings a VirtualService holds: the routing wizard
/// of its routes (`routing`, if any), and the policy wizards of `policy`.
fn holding(routing: Option<WizardKind>, policy: &Map<String, Value>) -> Vec<WizardKind> {
    let mut out: Vec<WizardKind> = routing.into_iter().collect();
    if policy.contains_key("fault") {
        out.push(WizardKind::FaultInjection);
    }
    if policy.contains_key("timeout") || policy.contains_key("retries") {
        out.push(WizardKind::TimeoutsRetries);
    }
    out
}

fn http_virtual_service(
    facts: &ServiceFacts,
    current: &Current,
    wizard: WizardKind,
    routes: Option<Vec<Value>>,
    policy: Option<(&[&str], Map<String, Value>)>,
) -> Desired {
    let (live, mut live_policy) = live_routes(current);
    let routing = if routes.is_some() {
        Some(wizard)
    } else if live.is_empty() {
        None
    } else {
        current
            .virtual_service_wizards
            .iter()
            .copied()
            .find(|w| matches!(w, WizardKind::TrafficShifting | WizardKind::RequestRouting))
    };
    let routes = match routes {
        Some(r) => r,
        None if !live.is_empty() => live,
        None => vec![json!({"route": [{"destination": destination(facts, None)}]})],
    };
    if let Some((parts, set)) = policy {
        for part in parts {
            live_policy.remove(*part);
        }
        live_policy.extend(set);
    }
    let wizards = holding(routing, &live_policy);
    let http: Vec<Value> = routes
        .into_iter()
        .map(|mut r| {
            if let Some(o) = r.as_object_mut() {
                o.extend(live_policy.clone());
            }
            r
        })
        .collect();
    let spec = json!({"hosts": [facts.host()], "http": http});
    object(
        IstioKind::VirtualService,
        facts,
        &facts.name,
        wizard,
        &wizards,
        spec,
    )
}

/// A Gateway API header match.
fn gateway_api_header(name: &str, kind: StringMatchKind, value: &str) -> Value {
    let kind = match kind {
        StringMatchKind::Regex => "RegularExpression",
        // Prefix is refused before (not in the Gateway API).
        StringMatchKind::Exact | StringMatchKind::Prefix => "Exact",
    };
    json!({"type": kind, "name": name, "value": value})
}

/// One match of an HTTPRoute (`grpc`: of a GRPCRoute, headers only).
fn gateway_api_match(m: &RouteMatch, grpc: bool) -> Value {
    let mut headers: Vec<Value> = m
        .headers
        .iter()
        .map(|h| gateway_api_header(&h.name, h.value.kind, &h.value.value))
        .collect();
    if !m.cookies.is_empty() {
        headers.push(gateway_api_header(
            "cookie",
            StringMatchKind::Regex,
            &cookie_regex(&m.cookies),
        ));
    }
    let mut out = Map::new();
    if !headers.is_empty() {
        out.insert("headers".into(), Value::Array(headers));
    }
    if !grpc {
        if let Some(uri) = &m.uri {
            let kind = match uri.kind {
                StringMatchKind::Exact => "Exact",
                StringMatchKind::Prefix => "PathPrefix",
                StringMatchKind::Regex => "RegularExpression",
            };
            out.insert("path".into(), json!({"type": kind, "value": uri.value}));
        }
        if let Some(method) = &m.method {
            out.insert("method".into(), json!(method.to_ascii_uppercase()));
        }
    }
    Value::Object(out)
}

/// The Gateway API route of the service (GAMMA: its parent is the Service
/// itself, so it applies to mesh traffic): one rule per `(matches,
/// weights)`, each weighted version sent to its own Service.
fn gateway_api_route(
    facts: &ServiceFacts,
    wizard: WizardKind,
    rules: &[(&[RouteMatch], &[VersionWeight])],
) -> Desired {
    let kind = facts.route_kind();
    let grpc = kind == IstioKind::GrpcRoute;
    let port = facts.port.unwrap_or_default();
    let rules: Vec<Value> = rules
        .iter()
        .map(|(matches, weights)| {
            let backends: Vec<Value> = weights
                .iter()
                .map(|w| {
                    let name = facts
                        .version_services
                        .get(&w.version)
                        .cloned()
                        .unwrap_or_else(|| format!("{}-{}", facts.name, w.version));
                    json!({"name": name, "port": port, "weight": w.weight})
                })
                .collect();
            let mut rule = Map::new();
            if !matches.is_empty() {
                rule.insert(
                    "matches".into(),
                    Value::Array(matches.iter().map(|m| gateway_api_match(m, grpc)).collect()),
                );
            }
            rule.insert("backendRefs".into(), Value::Array(backends));
            Value::Object(rule)
        })
        .collect();
    let spec = json!({
        "parentRefs": [{"group": "", "kind": "Service", "name": facts.name, "port": port}],
        "rules": rules,
    });
    object(kind, facts, &facts.name, wizard, &[wizard], spec)
}

fn percentage(p: f64) -> Value {
    json!({"value": p})
}

/// The objects `request` writes for the service, in the order to apply
/// them (DestinationRule before the VirtualService that names its
/// subsets). `request` must have passed [`validate`].
pub fn build(request: &WizardRequest, facts: &ServiceFacts, current: &Current) -> Vec<Desired> {
    let wizard = request.kind();
    let dr = |policy| destination_rule(facts, current, wizard, policy);
    match request {
        WizardRequest::TrafficShifting {
            weights,
            api: RouteApi::GatewayApi,
            ..
        } => vec![gateway_api_route(facts, wizard, &[(&[], weights)])],
        WizardRequest::RequestRouting {
            rules,
            api: RouteApi::GatewayApi,
        } => {
            let rules: Vec<(&[RouteMatch], &[VersionWeight])> = rules
                .iter()
                .map(|r| (r.matches.as_slice(), r.weights.as_slice()))
                .collect();
            vec![gateway_api_route(facts, wizard, &rules)]
        }
        WizardRequest::TrafficShifting {
            weights, mirror, ..
        } => {
            let mut route = json!({"route": weighted(facts, weights)});
            if let Some(m) = mirror {
                route["mirror"] = destination(facts, Some(&m.version));
                route["mirrorPercentage"] = percentage(m.percent);
            }
            vec![
                dr(None),
                http_virtual_service(facts, current, wizard, Some(vec![route]), None),
            ]
        }
        WizardRequest::RequestRouting { rules, .. } => {
            let routes = rules
                .iter()
                .map(|rule| {
                    let mut r = Map::new();
                    if !rule.matches.is_empty() {
                        r.insert(
                            "match".into(),
                            Value::Array(rule.matches.iter().map(route_match).collect()),
                        );
                    }
                    r.insert("route".into(), weighted(facts, &rule.weights));
                    Value::Object(r)
                })
                .collect();
            vec![
                dr(None),
                http_virtual_service(facts, current, wizard, Some(routes), None),
            ]
        }
        WizardRequest::TcpTrafficShifting { weights } => {
            let spec =
                json!({"hosts": [facts.host()], "tcp": [{"route": weighted(facts, weights)}]});
            vec![
                dr(None),
                object(
                    IstioKind::VirtualService,
                    facts,
                    &facts.name,
                    wizard,
                    &[wizard],
                    spec,
                ),
            ]
        }
        WizardRequest::FaultInjection { delay, abort } => {
            let mut fault = Map::new();
            if let Some(d) = delay {
                fault.insert(
                    "delay".into(),
                    json!({"fixedDelay": d.fixed_delay.trim(), "percentage": percentage(d.percent)}),
                );
            }
            if let Some(a) = abort {
                let mut abort = json!({"percentage": percentage(a.percent)});
                if let Some(code) = a.http_status {
                    abort["httpStatus"] = json!(code);
                }
                if let Some(status) = &a.grpc_status {
                    abort["grpcStatus"] = json!(status);
                }
                fault.insert("abort".into(), abort);
            }
            let mut set = Map::new();
            if !fault.is_empty() {
                set.insert("fault".into(), Value::Object(fault));
            }
            vec![
                dr(None),
                http_virtual_service(facts, current, wizard, None, Some((&["fault"], set))),
            ]
        }
        WizardRequest::TimeoutsRetries { timeout, retries } => {
            let mut set = Map::new();
            if let Some(t) = timeout {
                set.insert("timeout".into(), json!(t.trim()));
            }
            if let Some(r) = retries {
                let mut retries = json!({"attempts": r.attempts});
                if let Some(t) = &r.per_try_timeout {
                    retries["perTryTimeout"] = json!(t.trim());
                }
                if !r.retry_on.is_empty() {
                    retries["retryOn"] = json!(r.retry_on.join(","));
                }
                set.insert("retries".into(), retries);
            }
            vec![
                dr(None),
                http_virtual_service(
                    facts,
                    current,
                    wizard,
                    None,
                    Some((&["timeout", "retries"], set)),
                ),
            ]
        }
        WizardRequest::CircuitBreaking {
            connection_pool,
            outlier_detection,
            load_balancer,
        } => {
            let mut set = Map::new();
            if let Some(pool) = connection_pool {
                set.insert("connectionPool".into(), connection_pool_json(pool));
            }
            if let Some(o) = outlier_detection {
                set.insert("outlierDetection".into(), outlier_json(o));
            }
            if let Some(lb) = load_balancer {
                set.insert("loadBalancer".into(), load_balancer_json(lb));
            }
            vec![dr(Some((
                &["connectionPool", "outlierDetection", "loadBalancer"],
                set,
            )))]
        }
        WizardRequest::Mtls {
            tls_mode,
            peer_authentication,
        } => {
            let mode = match tls_mode {
                TlsMode::IstioMutual => "ISTIO_MUTUAL",
                TlsMode::Disable => "DISABLE",
            };
            let mut set = Map::new();
            set.insert("tls".into(), json!({"mode": mode}));
            let mut out = vec![dr(Some((&["tls"], set)))];
            if let Some(pa) = peer_authentication {
                out.push(peer_authentication_object(facts, pa));
            }
            out
        }
        WizardRequest::Gateway {
            hosts,
            port,
            protocol,
            credential_name,
        } => {
            let name = format!("{}-gateway", facts.name);
            let mut server = json!({
                "port": {
                    "number": port,
                    "name": format!("{}-{port}", match protocol { GatewayProtocol::Http => "http", GatewayProtocol::Https => "https" }),
                    "protocol": match protocol { GatewayProtocol::Http => "HTTP", GatewayProtocol::Https => "HTTPS" },
                },
                "hosts": hosts,
            });
            if let (GatewayProtocol::Https, Some(secret)) = (protocol, credential_name) {
                server["tls"] = json!({"mode": "SIMPLE", "credentialName": secret});
            }
            let gateway = object(
                IstioKind::Gateway,
                facts,
                &name,
                wizard,
                &[wizard],
                json!({"selector": facts.gateway_selector, "servers": [server]}),
            );
            let mut dest = destination(facts, None);
            if let Some(p) = facts.port {
                dest["port"] = json!({"number": p});
            }
            let vs = object(
                IstioKind::VirtualService,
                facts,
                &name,
                wizard,
                &[wizard],
                json!({"hosts": hosts, "gateways": [name], "http": [{"route": [{"destination": dest}]}]}),
            );
            vec![gateway, vs]
        }
    }
}

fn connection_pool_json(c: &ConnectionPoolSpec) -> Value {
    let mut tcp = Map::new();
    if let Some(v) = c.max_connections {
        tcp.insert("maxConnections".into(), json!(v));
    }
    if let Some(t) = &c.connect_timeout {
        tcp.insert("connectTimeout".into(), json!(t.trim()));
    }
    let mut http = Map::new();
    for (key, value) in [
        ("http1MaxPendingRequests", c.http1_max_pending_requests),
        ("http2MaxRequests", c.http2_max_requests),
        ("maxRequestsPerConnection", c.max_requests_per_connection),
        ("maxRetries", c.max_retries),
    ] {
        if let Some(v) = value {
            http.insert(key.into(), json!(v));
        }
    }
    let mut out = Map::new();
    if !tcp.is_empty() {
        out.insert("tcp".into(), Value::Object(tcp));
    }
    if !http.is_empty() {
        out.insert("http".into(), Value::Object(http));
    }
    Value::Object(out)
}

fn outlier_json(o: &OutlierSpec) -> Value {
    json!({
        "consecutive5xxErrors": o.consecutive_errors,
        "interval": o.interval.trim(),
        "baseEjectionTime": o.base_ejection_time.trim(),
        "maxEjectionPercent": o.max_ejection_percent,
    })
}

fn load_balancer_json(lb: &LoadBalancerSpec) -> Value {
    match lb {
        LoadBalancerSpec::RoundRobin => json!({"simple": "ROUND_ROBIN"}),
        LoadBalancerSpec::LeastRequest => json!({"simple": "LEAST_REQUEST"}),
        LoadBalancerSpec::Random => json!({"simple": "RANDOM"}),
        LoadBalancerSpec::HashHeader { name } => {
            json!({"consistentHash": {"httpHeaderName": name}})
        }
        LoadBalancerSpec::HashCookie { name, ttl } => {
            json!({"consistentHash": {"httpCookie": {"name": name, "ttl": ttl.trim()}}})
        }
        LoadBalancerSpec::HashSourceIp => json!({"consistentHash": {"useSourceIp": true}}),
    }
}

/// The PeerAuthentication's name for a scope.
pub fn peer_authentication_name(facts: &ServiceFacts, scope: PeerAuthScope) -> String {
    match scope {
        PeerAuthScope::Workload => facts.name.clone(),
        PeerAuthScope::Namespace => "default".to_owned(),
    }
}

fn peer_authentication_object(facts: &ServiceFacts, pa: &PeerAuthSpec) -> Desired {
    let mode = match pa.mode {
        MtlsMode::Permissive => "PERMISSIVE",
        MtlsMode::Strict => "STRICT",
        MtlsMode::Disable => "DISABLE",
    };
    let mut spec = json!({"mtls": {"mode": mode}});
    if pa.scope == PeerAuthScope::Workload {
        spec["selector"] = json!({"matchLabels": facts.selector});
    }
    object(
        IstioKind::PeerAuthentication,
        facts,
        &peer_authentication_name(facts, pa.scope),
        WizardKind::Mtls,
        &[WizardKind::Mtls],
        spec,
    )
}

#[cfg(test)]
mod tests;
