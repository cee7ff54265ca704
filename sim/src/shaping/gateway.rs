//! The Kubernetes Gateway API's mesh routes ("GAMMA"): `gateway.networking.k8s.io/v1`
//! HTTPRoutes and GRPCRoutes whose `parentRefs` name a Service (`group: ""`,
//! `kind: Service`) route the calls to that Service. istiod turns them into
//! VirtualServices with "gateway semantics" (`pilot/pkg/config/kube/gateway/`
//! in istio/istio: `conversion.go`, `route_collections.go`), and so does
//! this module, for the fields that shape the simulated traffic:
//!
//! - One VirtualService per route namespace, Service host and parent port;
//!   the routes sharing one are merged oldest first. Each rule becomes one
//!   route per match, and the routes are ordered as istiod's
//!   `sortHTTPRoutes` orders them (the Gateway API's precedence): exact
//!   paths before prefixes before regexes, longer paths first, then a
//!   method before none, more headers, more query parameters; rules without
//!   a match last; otherwise the order written.
//! - HTTPRoute matches: `path` (`Exact`; `PathPrefix` as Envoy's
//!   path-separated prefix; `RegularExpression`), `method`, `headers` and
//!   `queryParams` (`Exact`, `RegularExpression`). GRPCRoute matches:
//!   `method` (as the request path `/<service>/<method>`, as istiod writes
//!   it) and `headers`. A parentRef's `port` limits the routes to that port.
//! - `backendRefs` split by their relative `weight` (default 1). The
//!   Gateway API has no subsets: a backend is a Service, and its requests
//!   go to the pods its selector picks. The plan takes them from the called
//!   service's workloads (a version's Service, `reviews-v1` selecting `app:
//!   reviews, version: v1`, is the subset `version: v1` of reviews), or
//!   from another service's where it picks none of the called one's; a
//!   Service the scenario models is that service. A Service that selects
//!   no pods answers 503 `UH` (its Envoy cluster exists without endpoints;
//!   the backendRef itself is valid). The requests are reported under the
//!   service that owns the pods, where Istio's source proxies would name the
//!   backend Service (`reviews-v1`) in `destination_service`. A rule
//!   whose weights add up to 0 (or without backends) answers 500, as istiod
//!   writes it (a direct response). A backendRef that names no Service, or
//!   another kind, answers 500 for its share of the requests: istiod keeps
//!   it as a destination whose cluster does not exist and sets the route's
//!   `cluster_not_found_response_code` to 500 (Envoy flags it `NC`), as the
//!   Gateway API requires for invalid backendRefs.
//! - Filters: `RequestRedirect` (its `statusCode`, 302 by the CRD's
//!   default) and `RequestMirror` (`percent` or `fraction`); header
//!   modifiers, rewrites and CORS change nothing the simulator reports. A
//!   route with another filter is left out, as istiod refuses it.
//! - `timeouts.request`, and `timeouts.backendRequest` (which istiod writes
//!   as the route's timeout, there being no retries).
//!
//! `hostnames` mean nothing for mesh routes (GAMMA), and parents that are
//! not Services (Gateways) are not modelled.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::config::{
    BackendService, Destination, DirectResponse, HttpMatch, HttpRoute, MESH_GATEWAY, MirrorPolicy,
    Object, Percent, Redirect, RouteDestination, Seconds, StringMatch, VirtualServiceSpec,
    read_objects,
};

/// The cluster's DNS suffix of Service hosts.
pub const SERVICE_DOMAIN: &str = "svc.cluster.local";
/// The status of a rule without backends with weight (istiod's direct response).
pub const NO_BACKEND_STATUS: u16 = 500;
/// The redirect status when a `RequestRedirect` names none (the CRD's default).
pub const DEFAULT_REDIRECT_STATUS: u16 = 302;

/// A reference to a parent (`ParentReference`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ParentRef {
    /// Absent: the Gateway API's group (the CRD's default), i.e. a Gateway.
    group: Option<String>,
    kind: Option<String>,
    name: String,
    namespace: Option<String>,
    port: Option<u16>,
}

impl ParentRef {
    fn is_service(&self) -> bool {
        self.group.as_deref() == Some("") && self.kind.as_deref() == Some("Service")
    }
}

/// A reference to a backend (`BackendRef`, `BackendObjectReference`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct BackendRef {
    /// Absent: the core group (the CRD's default).
    group: Option<String>,
    /// Absent: `Service` (the CRD's default).
    kind: Option<String>,
    name: String,
    namespace: Option<String>,
    /// Absent: 1 (the CRD's default).
    weight: Option<i64>,
}

/// A header or query parameter condition.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct NameValueMatch {
    /// `Exact` (default) or `RegularExpression`.
    #[serde(rename = "type")]
    kind: Option<String>,
    name: String,
    value: String,
}

/// `HTTPPathMatch`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct PathMatch {
    /// `Exact`, `PathPrefix` (default) or `RegularExpression`.
    #[serde(rename = "type")]
    kind: Option<String>,
    /// Default `/`.
    value: Option<String>,
}

/// `HTTPRouteMatch`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct GatewayHttpMatch {
    path: Option<PathMatch>,
    headers: Vec<NameValueMatch>,
    query_params: Vec<NameValueMatch>,
    method: Option<String>,
}

/// `GRPCMethodMatch`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct GrpcMethodMatch {
    /// `Exact` (default) or `RegularExpression`.
    #[serde(rename = "type")]
    kind: Option<String>,
    service: Option<String>,
    method: Option<String>,
}

/// `GRPCRouteMatch`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct GrpcMatch {
    method: Option<GrpcMethodMatch>,
    headers: Vec<NameValueMatch>,
}

/// `fraction` of a mirror filter.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Fraction {
    numerator: i64,
    /// Default 100.
    denominator: Option<i64>,
}

/// `requestMirror`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct MirrorFilter {
    backend_ref: BackendRef,
    percent: Option<i64>,
    fraction: Option<Fraction>,
}

/// `requestRedirect` (the parts that shape traffic).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RedirectFilter {
    status_code: Option<u16>,
}

/// A rule's filter.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Filter {
    #[serde(rename = "type")]
    kind: String,
    request_redirect: Option<RedirectFilter>,
    request_mirror: Option<MirrorFilter>,
}

/// `HTTPRouteTimeouts`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Timeouts {
    request: Option<Seconds>,
    backend_request: Option<Seconds>,
}

/// A rule of either route kind.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule<M> {
    #[serde(default = "Vec::new")]
    matches: Vec<M>,
    #[serde(default)]
    backend_refs: Vec<BackendRef>,
    #[serde(default)]
    filters: Vec<Filter>,
    #[serde(default)]
    timeouts: Option<Timeouts>,
}

/// `HTTPRoute.spec` and `GRPCRoute.spec` (the parts honoured).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RouteSpec<M> {
    #[serde(default)]
    parent_refs: Vec<ParentRef>,
    #[serde(default = "Vec::new")]
    rules: Vec<Rule<M>>,
}

/// The filters istiod translates (others make it refuse the route).
const HTTP_FILTERS: [&str; 6] = [
    "RequestHeaderModifier",
    "ResponseHeaderModifier",
    "RequestRedirect",
    "RequestMirror",
    "URLRewrite",
    "CORS",
];
const GRPC_FILTERS: [&str; 3] = [
    "RequestHeaderModifier",
    "ResponseHeaderModifier",
    "RequestMirror",
];

/// A route kind's matches in Istio's terms.
trait RouteMatch {
    /// The kind's name, for problems.
    const KIND: &'static str;
    /// The filter types istiod translates for it.
    const FILTERS: &'static [&'static str];
    fn to_istio(&self) -> Result<HttpMatch, String>;
}

fn string_match(kind: Option<&str>, value: &str) -> Result<StringMatch, String> {
    match kind.unwrap_or("Exact") {
        "Exact" => Ok(StringMatch::Exact(value.to_owned())),
        "RegularExpression" => StringMatch::regex(value),
        other => Err(format!("unknown match type {other:?}")),
    }
}

fn name_values(list: &[NameValueMatch]) -> Result<BTreeMap<String, StringMatch>, String> {
    list.iter()
        .map(|m| {
            Ok((
                m.name.to_ascii_lowercase(),
                string_match(m.kind.as_deref(), &m.value)?,
            ))
        })
        .collect()
}

impl RouteMatch for GatewayHttpMatch {
    const KIND: &'static str = "HTTPRoute";
    const FILTERS: &'static [&'static str] = &HTTP_FILTERS;

    fn to_istio(&self) -> Result<HttpMatch, String> {
        let uri = match &self.path {
            None => None,
            Some(p) => {
                let value = p.value.as_deref().unwrap_or("/");
                Some(match p.kind.as_deref().unwrap_or("PathPrefix") {
                    // "A trailing `/` is ignored"; `/` itself stays a plain prefix.
                    "PathPrefix" if value == "/" => StringMatch::Prefix("/".into()),
                    "PathPrefix" => StringMatch::PathPrefix(value.trim_end_matches('/').into()),
                    "Exact" => StringMatch::Exact(value.into()),
                    "RegularExpression" => StringMatch::regex(value)?,
                    other => return Err(format!("unknown path match type {other:?}")),
                })
            }
        };
        Ok(HttpMatch {
            uri,
            method: self.method.clone().map(StringMatch::Exact),
            headers: name_values(&self.headers)?,
            query_params: name_values(&self.query_params)?,
            ..HttpMatch::default()
        })
    }
}

impl RouteMatch for GrpcMatch {
    const KIND: &'static str = "GRPCRoute";
    const FILTERS: &'static [&'static str] = &GRPC_FILTERS;

    fn to_istio(&self) -> Result<HttpMatch, String> {
        let uri = match &self.method {
            None => None,
            Some(m) => {
                let (service, method) = (m.service.as_deref(), m.method.as_deref());
                Some(
                    match (m.kind.as_deref().unwrap_or("Exact"), service, method) {
                        (_, None, None) => {
                            return Err("a gRPC method match names a service or a method".into());
                        }
                        ("Exact", Some(s), None) => StringMatch::PathPrefix(format!("/{s}")),
                        ("Exact", None, Some(m)) => StringMatch::regex(&format!("/[^/]+/{m}"))?,
                        ("Exact", Some(s), Some(m)) => StringMatch::Exact(format!("/{s}/{m}")),
                        ("RegularExpression", Some(s), None) => {
                            StringMatch::regex(&format!("/{s}/.+"))?
                        }
                        ("RegularExpression", None, Some(m)) => {
                            StringMatch::regex(&format!("/[^/]+/{m}"))?
                        }
                        ("RegularExpression", Some(s), Some(m)) => {
                            StringMatch::regex(&format!("/{s}/{m}"))?
                        }
                        (other, _, _) => {
                            return Err(format!("unknown method match type {other:?}"));
                        }
                    },
                )
            }
        };
        Ok(HttpMatch {
            uri,
            headers: name_values(&self.headers)?,
            ..HttpMatch::default()
        })
    }
}

/// The Services of the cluster by namespace and name: their selectors.
type Services = BTreeMap<(String, String), BTreeMap<String, String>>;

fn read_services(services: &[Value]) -> Services {
    services
        .iter()
        .map(|s| {
            let meta = &s["metadata"];
            let key = (
                meta["namespace"].as_str().unwrap_or_default().to_owned(),
                meta["name"].as_str().unwrap_or_default().to_owned(),
            );
            let selector = s["spec"]["selector"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default();
            (key, selector)
        })
        .collect()
}

/// A backendRef as an Istio destination, with its Service resolved.
fn destination(backend: &BackendRef, route_ns: &str, services: &Services) -> Destination {
    let namespace = backend
        .namespace
        .clone()
        .unwrap_or_else(|| route_ns.to_owned());
    let is_service = backend.group.as_deref().unwrap_or("").is_empty()
        && backend.kind.as_deref().unwrap_or("Service") == "Service";
    let service = match services.get(&(namespace.clone(), backend.name.clone())) {
        Some(selector) if is_service => BackendService::Selects {
            namespace: namespace.clone(),
            selector: selector.clone(),
        },
        _ => BackendService::Missing,
    };
    Destination {
        host: format!("{}.{namespace}.{SERVICE_DOMAIN}", backend.name),
        subset: String::new(),
        service: Some(service),
    }
}

/// One rule as Istio routes (one per match), or why istiod refuses the route.
fn rule_routes<M: RouteMatch>(
    rule: &Rule<M>,
    route_ns: &str,
    services: &Services,
) -> Result<Vec<HttpRoute>, String> {
    let mut base = HttpRoute::default();
    for filter in &rule.filters {
        if !M::FILTERS.contains(&filter.kind.as_str()) {
            return Err(format!("unsupported filter type {:?}", filter.kind));
        }
        if let Some(r) = filter
            .request_redirect
            .as_ref()
            .filter(|_| filter.kind == "RequestRedirect")
        {
            base.redirect = Some(Redirect {
                redirect_code: Some(r.status_code.unwrap_or(DEFAULT_REDIRECT_STATUS)),
            });
        }
        if let Some(m) = filter
            .request_mirror
            .as_ref()
            .filter(|_| filter.kind == "RequestMirror")
        {
            let percent = match (m.fraction, m.percent) {
                (Some(f), _) => {
                    Some(100.0 * f.numerator as f64 / f.denominator.unwrap_or(100).max(1) as f64)
                }
                (None, Some(p)) => Some(p as f64),
                (None, None) => None,
            };
            let destination = destination(&m.backend_ref, route_ns, services);
            // istiod drops a mirror whose backend is invalid.
            if destination.service != Some(BackendService::Missing) {
                base.mirrors.push(MirrorPolicy {
                    destination,
                    percentage: percent.map(|value| Percent { value }),
                });
            }
        }
    }
    if let Some(t) = &rule.timeouts {
        // istiod: the request timeout, replaced by the backend request's
        // when there are no retries (the Gateway API's are not read).
        base.timeout = t
            .backend_request
            .filter(|s| s.0 > 0.0)
            .or(t.request.filter(|s| s.0 > 0.0));
    }
    let weight = |b: &BackendRef| b.weight.unwrap_or(1).max(0);
    if rule.backend_refs.iter().map(weight).sum::<i64>() == 0 && base.redirect.is_none() {
        base.direct_response = Some(DirectResponse {
            status: NO_BACKEND_STATUS,
        });
    } else if base.redirect.is_none() {
        base.route = rule
            .backend_refs
            .iter()
            .map(|b| RouteDestination {
                destination: destination(b, route_ns, services),
                weight: weight(b),
            })
            .collect();
    }
    if rule.matches.is_empty() {
        return Ok(vec![base]);
    }
    rule.matches
        .iter()
        .map(|m| {
            Ok(HttpRoute {
                matches: vec![m.to_istio()?],
                ..base.clone()
            })
        })
        .collect()
}

/// A URI match's rank in the Gateway API's precedence: exact, prefix, regex, none.
fn uri_rank(m: &HttpMatch) -> (i8, usize) {
    match &m.uri {
        Some(StringMatch::Exact(s)) => (3, s.len()),
        Some(StringMatch::Prefix(s) | StringMatch::PathPrefix(s)) => (2, s.len()),
        // The pattern as written (without the anchors `StringMatch::regex` adds).
        Some(StringMatch::Regex(re)) => (1, re.as_str().len().saturating_sub(6)),
        Some(StringMatch::Present) | None => (-1, 0),
    }
}

/// istiod's `sortHTTPRoutes`: which of two routes (one match each) comes first.
fn precedence(a: &HttpRoute, b: &HttpRoute) -> Ordering {
    match (a.matches.first(), b.matches.first()) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(m1), Some(m2)) => uri_rank(m2)
            .cmp(&uri_rank(m1))
            .then(m2.method.is_some().cmp(&m1.method.is_some()))
            .then(m2.headers.len().cmp(&m1.headers.len()))
            .then(m2.query_params.len().cmp(&m1.query_params.len())),
    }
}

/// The VirtualService being built for one namespace, host and port.
struct Merged {
    namespace: String,
    name: String,
    created: String,
    http: Vec<HttpRoute>,
}

/// Merged VirtualServices by route namespace, Service host and parent port.
type MergedByKey = BTreeMap<(String, String, Option<u16>), Merged>;

/// Adds `route`'s rules to the VirtualServices of the Services it is attached to.
fn attach<M: RouteMatch>(
    route: &Object<RouteSpec<M>>,
    services: &Services,
    problems: &mut Vec<String>,
    merged: &mut MergedByKey,
) {
    let parents: Vec<&ParentRef> = route
        .spec
        .parent_refs
        .iter()
        .filter(|p| p.is_service())
        .collect();
    if parents.is_empty() {
        return;
    }
    let mut http = Vec::new();
    let mut refused = None;
    for rule in &route.spec.rules {
        match rule_routes(rule, &route.namespace, services) {
            Ok(r) => http.extend(r),
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    if let Some(e) = refused {
        problems.push(format!(
            "{} {}/{}: {e}",
            M::KIND,
            route.namespace,
            route.name
        ));
        return;
    }
    for parent in parents {
        let parent_ns = parent.namespace.as_deref().unwrap_or(&route.namespace);
        let host = format!("{}.{parent_ns}.{SERVICE_DOMAIN}", parent.name);
        let mut routes = http.clone();
        if let Some(port) = parent.port {
            for r in &mut routes {
                if r.matches.is_empty() {
                    r.matches.push(HttpMatch::default());
                }
                for m in &mut r.matches {
                    m.port = Some(port);
                }
            }
        }
        let key = (route.namespace.clone(), host, parent.port);
        // Routes come oldest first, so the first one names and dates it.
        merged
            .entry(key)
            .or_insert_with(|| Merged {
                namespace: route.namespace.clone(),
                name: format!("{}-{}", route.name, MESH_GATEWAY),
                created: route.created.clone(),
                http: Vec::new(),
            })
            .http
            .extend(routes);
    }
}

/// The VirtualServices istiod makes of the `HTTPRoutes` and `GRPCRoutes`
/// (JSON as stored) attached to Services; routes it would refuse are left
/// out and named in `problems`.
pub fn mesh_routes(
    http_routes: &[Value],
    grpc_routes: &[Value],
    services: &[Value],
    problems: &mut Vec<String>,
) -> Vec<Object<VirtualServiceSpec>> {
    if http_routes.is_empty() && grpc_routes.is_empty() {
        return Vec::new();
    }
    let services = read_services(services);
    let http = read_objects::<RouteSpec<GatewayHttpMatch>>("HTTPRoute", http_routes, problems);
    let grpc = read_objects::<RouteSpec<GrpcMatch>>("GRPCRoute", grpc_routes, problems);
    let mut merged = BTreeMap::new();
    // Oldest first across both kinds, as istiod merges them.
    let (mut h, mut g) = (http.into_iter().peekable(), grpc.into_iter().peekable());
    loop {
        let take_http = match (h.peek(), g.peek()) {
            (Some(a), Some(b)) => {
                (&a.created, &a.namespace, &a.name) <= (&b.created, &b.namespace, &b.name)
            }
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        if take_http {
            if let Some(route) = h.next() {
                attach(&route, &services, problems, &mut merged);
            }
        } else if let Some(route) = g.next() {
            attach(&route, &services, problems, &mut merged);
        }
    }
    let mut out: Vec<Object<VirtualServiceSpec>> = merged
        .into_iter()
        .map(|((_, host, _), mut m)| {
            m.http.sort_by(precedence);
            Object {
                namespace: m.namespace,
                name: m.name,
                created: m.created,
                spec: VirtualServiceSpec {
                    hosts: vec![host],
                    gateways: vec![MESH_GATEWAY.to_owned()],
                    http: m.http,
                    ..VirtualServiceSpec::default()
                },
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.created, &a.namespace, &a.name).cmp(&(&b.created, &b.namespace, &b.name))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn route(kind: &str, name: &str, created: &str, parents: Value, rules: Value) -> Value {
        json!({"kind": kind, "metadata": {"name": name, "namespace": "bookinfo", "creationTimestamp": created},
            "spec": {"parentRefs": parents, "rules": rules}})
    }

    fn reviews() -> Value {
        json!([{"group": "", "kind": "Service", "name": "reviews"}])
    }

    fn services() -> Vec<Value> {
        ["v1", "v2"]
            .iter()
            .map(|v| {
                json!({"metadata": {"name": format!("reviews-{v}"), "namespace": "bookinfo"},
                    "spec": {"selector": {"app": "reviews", "version": v}}})
            })
            .collect()
    }

    fn translate(http: &[Value], grpc: &[Value]) -> (Vec<Object<VirtualServiceSpec>>, Vec<String>) {
        let mut problems = Vec::new();
        let out = mesh_routes(http, grpc, &services(), &mut problems);
        (out, problems)
    }

    /// The first match's path condition of each route, in order.
    fn paths(vs: &Object<VirtualServiceSpec>) -> Vec<String> {
        vs.spec
            .http
            .iter()
            .map(|r| match r.matches.first().and_then(|m| m.uri.as_ref()) {
                Some(StringMatch::Exact(s)) => format!("exact {s}"),
                Some(StringMatch::Prefix(s)) => format!("prefix {s}"),
                Some(StringMatch::PathPrefix(s)) => format!("path {s}"),
                Some(StringMatch::Regex(re)) => format!("regex {}", re.as_str()),
                Some(StringMatch::Present) => "present".into(),
                None if r.matches.is_empty() => "none".into(),
                None => format!("no path, {} headers", r.matches[0].headers.len()),
            })
            .collect()
    }

    #[test]
    fn rules_are_ordered_by_the_gateway_api_s_precedence() {
        let rules = json!([
            {"backendRefs": [{"name": "reviews-v1"}]},
            {"matches": [{"path": {"type": "RegularExpression", "value": "/r.*"}}]},
            {"matches": [{"path": {"type": "PathPrefix", "value": "/reviews/"}},
                         {"path": {"type": "Exact", "value": "/a"}}]},
            {"matches": [{"path": {"type": "PathPrefix", "value": "/reviews"}, "method": "GET"}]},
            {"matches": [{"headers": [{"name": "End-User", "value": "jason"}]}]},
            {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}]},
        ]);
        let (out, problems) = translate(&[route("HTTPRoute", "r", "", reviews(), rules)], &[]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].spec.hosts, ["reviews.bookinfo.svc.cluster.local"]);
        assert_eq!(out[0].spec.gateways, [MESH_GATEWAY]);
        // One route per match; the trailing `/` of a prefix is dropped, so
        // the two `/reviews` prefixes tie and the one with a method wins.
        assert_eq!(
            paths(&out[0]),
            [
                "exact /a",
                "path /reviews",
                "path /reviews",
                "prefix /",
                "regex ^(?:/r.*)$",
                "no path, 1 headers",
                "none",
            ]
        );
        assert!(out[0].spec.http[1].matches[0].method.is_some());
        assert!(out[0].spec.http[2].matches[0].method.is_none());
        // Header names match without case.
        assert!(
            out[0].spec.http[5].matches[0]
                .headers
                .contains_key("end-user")
        );
    }

    #[test]
    fn backends_resolve_to_services_and_weights_of_zero_answer_500() {
        let rules = json!([
            {"matches": [{"method": "POST"}],
             "backendRefs": [{"name": "reviews-v1", "weight": 0}, {"name": "reviews-v2", "weight": 0}]},
            {"backendRefs": [{"name": "reviews-v1", "weight": 9}, {"name": "reviews-v3"},
                             {"name": "reviews-v2", "kind": "ServiceImport", "group": "multicluster.x-k8s.io"}]},
        ]);
        let (out, _) = translate(&[route("HTTPRoute", "r", "", reviews(), rules)], &[]);
        let http = &out[0].spec.http;
        assert_eq!(
            http[0].direct_response.as_ref().map(|d| d.status),
            Some(500)
        );
        assert!(http[0].route.is_empty());
        let dests: Vec<(&str, i64, Option<&BackendService>)> = http[1]
            .route
            .iter()
            .map(|d| {
                (
                    d.destination.host.as_str(),
                    d.weight,
                    d.destination.service.as_ref(),
                )
            })
            .collect();
        let v1 = BackendService::Selects {
            namespace: "bookinfo".into(),
            selector: [("app", "reviews"), ("version", "v1")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .into(),
        };
        assert_eq!(
            dests,
            [
                ("reviews-v1.bookinfo.svc.cluster.local", 9, Some(&v1)),
                // No such Service; the weight defaults to 1.
                (
                    "reviews-v3.bookinfo.svc.cluster.local",
                    1,
                    Some(&BackendService::Missing)
                ),
                // Not a Service.
                (
                    "reviews-v2.bookinfo.svc.cluster.local",
                    1,
                    Some(&BackendService::Missing)
                ),
            ]
        );
    }

    #[test]
    fn grpc_methods_become_paths_and_parent_ports_limit_the_routes() {
        let parents = json!([{"group": "", "kind": "Service", "name": "reviews", "port": 9080}]);
        let rules = json!([
            {"matches": [{"method": {"service": "pkg.v1.Svc", "method": "Get"}}]},
            {"matches": [{"method": {"service": "pkg.v1.Svc"}}]},
            {"matches": [{"method": {"type": "RegularExpression", "method": "G.*"}}]},
            {"backendRefs": [{"name": "reviews-v1"}]},
        ]);
        let (out, problems) = translate(&[], &[route("GRPCRoute", "g", "", parents, rules)]);
        assert!(problems.is_empty(), "{problems:?}");
        let http = &out[0].spec.http;
        let matches = |i: usize, path: &str| {
            http[i].matches[0]
                .uri
                .as_ref()
                .is_some_and(|u| u.matches(Some(path), false))
        };
        assert!(matches(0, "/pkg.v1.Svc/Get") && !matches(0, "/pkg.v1.Svc/Put"));
        assert!(matches(1, "/pkg.v1.Svc/Put") && !matches(1, "/pkg.v1.Svcs/Put"));
        assert!(matches(2, "/other.Svc/Get") && !matches(2, "/other.Svc/Put"));
        // Every route, the catch-all too, holds for the parent's port only.
        assert!(
            http.iter()
                .all(|r| r.matches.len() == 1 && r.matches[0].port == Some(9080))
        );
    }

    #[test]
    fn routes_merge_oldest_first_and_only_service_parents_count() {
        let rule = |v: &str| json!([{"matches": [{"path": {"type": "Exact", "value": "/"}}], "backendRefs": [{"name": v}]}]);
        let gateway = json!([{"name": "ingress"}]);
        let http = [
            route(
                "HTTPRoute",
                "newer",
                "2026-01-02T00:00:00Z",
                reviews(),
                rule("reviews-v2"),
            ),
            route(
                "HTTPRoute",
                "older",
                "2026-01-01T00:00:00Z",
                reviews(),
                rule("reviews-v1"),
            ),
            route(
                "HTTPRoute",
                "north-south",
                "2026-01-01T00:00:00Z",
                gateway,
                rule("reviews-v2"),
            ),
        ];
        let (out, _) = translate(&http, &[]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].created, "2026-01-01T00:00:00Z");
        // Equal precedence: the older route's rule first.
        let hosts: Vec<&str> = out[0]
            .spec
            .http
            .iter()
            .map(|r| r.route[0].destination.host.as_str())
            .collect();
        assert_eq!(
            hosts,
            [
                "reviews-v1.bookinfo.svc.cluster.local",
                "reviews-v2.bookinfo.svc.cluster.local"
            ]
        );
    }

    #[test]
    fn routes_istiod_refuses_are_named_and_left_out() {
        let bad_filter = json!([{"filters": [{"type": "ExtensionRef"}], "backendRefs": [{"name": "reviews-v1"}]}]);
        let bad_regex = json!([{"matches": [{"headers": [{"type": "RegularExpression", "name": "x", "value": "("}]}]}]);
        let http = [
            route("HTTPRoute", "ext", "", reviews(), bad_filter),
            route("HTTPRoute", "regex", "", reviews(), bad_regex),
        ];
        let (out, problems) = translate(&http, &[]);
        assert!(out.is_empty());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("bookinfo/ext") && problems[0].contains("ExtensionRef"));
        assert!(problems[1].contains("bookinfo/regex"));
    }

    #[test]
    fn filters_and_timeouts_carry_over() {
        let rules = json!([
            {"matches": [{"path": {"type": "Exact", "value": "/old"}}],
             "filters": [{"type": "RequestRedirect", "requestRedirect": {"path": {"type": "ReplaceFullPath", "replaceFullPath": "/new"}}}]},
            {"filters": [{"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "reviews-v2", "port": 9080}, "fraction": {"numerator": 1, "denominator": 4}}},
                         {"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "nowhere", "port": 9080}}},
                         {"type": "RequestHeaderModifier", "requestHeaderModifier": {"set": [{"name": "x", "value": "y"}]}}],
             "timeouts": {"request": "2s"},
             "backendRefs": [{"name": "reviews-v1"}]},
        ]);
        let (out, problems) = translate(&[route("HTTPRoute", "r", "", reviews(), rules)], &[]);
        assert!(problems.is_empty(), "{problems:?}");
        let http = &out[0].spec.http;
        assert_eq!(
            http[0].redirect.as_ref().and_then(|r| r.redirect_code),
            Some(302)
        );
        assert!(http[0].route.is_empty() && http[0].direct_response.is_none());
        // The mirror to a missing Service is dropped, as istiod drops it.
        assert_eq!(http[1].mirrors.len(), 1);
        assert_eq!(http[1].mirrors[0].percentage.map(|p| p.value), Some(25.0));
        assert_eq!(http[1].timeout, Some(Seconds(2.0)));
    }
}
