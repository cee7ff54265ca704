//! The Gateway API routes (`gateway.networking.k8s.io/v1` HTTPRoute and
//! GRPCRoute), as `kubernetes-sigs/gateway-api` v1.6.1's standard CRDs
//! (`config/crd/standard/gateway.networking.k8s.io_{http,grpc}routes.yaml`)
//! define them: patterns, bounds, `required`, defaults and the rules on the
//! fields meshdeck writes. Left open ([`any`]): `filters[]` (their rules
//! are not evaluated) and `status` (typed in the CRD). Not evaluated either:
//! the `parentRefs` rules on `sectionName` for repeated parents.

use std::sync::LazyLock;

use serde_json::json;

use super::super::resources::{GATEWAY_API, ResourceType};
use super::rules::{
    self, GATEWAY_DURATION, GROUP, HEADER_NAME, HOSTNAME, KIND, NAMESPACE, SUBDOMAIN,
};
use super::{Schema, any, array, integer, object, string};

/// `hostnames[]`: a (wildcard) DNS name.
fn hostnames() -> Schema {
    array(string().length(1, 253).pattern(&HOSTNAME)).max_items(16)
}

/// `parentRefs[]` (defaults: the Gateway kind of the Gateway API group).
fn parent_refs() -> Schema {
    array(
        object(vec![
            (
                "group",
                string()
                    .max_length(253)
                    .pattern(&GROUP)
                    .default_value(json!("gateway.networking.k8s.io")),
            ),
            (
                "kind",
                string()
                    .length(1, 63)
                    .pattern(&KIND)
                    .default_value(json!("Gateway")),
            ),
            ("name", string().length(1, 253)),
            ("namespace", string().length(1, 63).pattern(&NAMESPACE)),
            ("port", integer().range(1, 65535)),
            ("sectionName", string().length(1, 253).pattern(&SUBDOMAIN)),
        ])
        .required(&["name"]),
    )
    .max_items(32)
}

/// `backendRefs[]` (defaults: a core Service, weight 1).
fn backend_refs() -> Schema {
    array(
        object(vec![
            ("filters", array(any()).max_items(16)),
            (
                "group",
                string()
                    .max_length(253)
                    .pattern(&GROUP)
                    .default_value(json!("")),
            ),
            (
                "kind",
                string()
                    .length(1, 63)
                    .pattern(&KIND)
                    .default_value(json!("Service")),
            ),
            ("name", string().length(1, 253)),
            ("namespace", string().length(1, 63).pattern(&NAMESPACE)),
            ("port", integer().range(1, 65535)),
            (
                "weight",
                integer().range(0, 1_000_000).default_value(json!(1)),
            ),
        ])
        .required(&["name"])
        .rule(&rules::SERVICE_NEEDS_PORT),
    )
    .max_items(16)
}

/// A header or query parameter match (`Exact` by default).
fn name_value_match(max_value: usize) -> Schema {
    object(vec![
        ("name", string().length(1, 256).pattern(&HEADER_NAME)),
        (
            "type",
            string()
                .one_of_values(&["Exact", "RegularExpression"])
                .default_value(json!("Exact")),
        ),
        ("value", string().length(1, max_value)),
    ])
    .required(&["name", "value"])
}

fn rule_name() -> Schema {
    string().length(1, 253).pattern(&SUBDOMAIN)
}

/// `HTTPRouteMatch`.
fn http_match() -> Schema {
    let mut path = object(vec![
        (
            "type",
            string()
                .one_of_values(&["Exact", "PathPrefix", "RegularExpression"])
                .default_value(json!("PathPrefix")),
        ),
        ("value", string().max_length(1024).default_value(json!("/"))),
    ])
    .default_value(json!({"type": "PathPrefix", "value": "/"}));
    for rule in &rules::PATH_RULES {
        path = path.rule(rule);
    }
    object(vec![
        ("headers", array(name_value_match(4096)).max_items(16)),
        (
            "method",
            string().one_of_values(&[
                "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
            ]),
        ),
        ("path", path),
        ("queryParams", array(name_value_match(1024)).max_items(16)),
    ])
}

/// HTTPRoute.
pub static HTTP_ROUTE: LazyLock<Schema> = LazyLock::new(|| {
    let default_match = json!([{"path": {"type": "PathPrefix", "value": "/"}}]);
    let rule = object(vec![
        ("backendRefs", backend_refs()),
        ("filters", array(any()).max_items(16)),
        (
            "matches",
            array(http_match())
                .max_items(64)
                .default_value(default_match.clone()),
        ),
        ("name", rule_name()),
        (
            "timeouts",
            object(vec![
                ("backendRequest", string().pattern(&GATEWAY_DURATION)),
                ("request", string().pattern(&GATEWAY_DURATION)),
            ])
            .rule(&rules::BACKEND_TIMEOUT_WITHIN_REQUEST),
        ),
    ]);
    let spec = object(vec![
        ("hostnames", hostnames()),
        ("parentRefs", parent_refs()),
        (
            "rules",
            array(rule)
                .min_items(1)
                .max_items(16)
                .default_value(json!([{"matches": default_match}]))
                .rule(&rules::AT_MOST_128_MATCHES),
        ),
    ]);
    object(vec![("spec", spec), ("status", any())]).required(&["spec"])
});

/// GRPCRoute.
pub static GRPC_ROUTE: LazyLock<Schema> = LazyLock::new(|| {
    let method = object(vec![
        ("method", string().max_length(1024)),
        ("service", string().max_length(1024)),
        (
            "type",
            string()
                .one_of_values(&["Exact", "RegularExpression"])
                .default_value(json!("Exact")),
        ),
    ])
    .rule(&rules::GRPC_SERVICE_OR_METHOD)
    .rule(&rules::GRPC_SERVICE_CHARS)
    .rule(&rules::GRPC_METHOD_CHARS);
    let matches = object(vec![
        ("headers", array(name_value_match(4096)).max_items(16)),
        ("method", method),
    ]);
    let rule = object(vec![
        ("backendRefs", backend_refs()),
        ("filters", array(any()).max_items(16)),
        ("matches", array(matches).max_items(64)),
        ("name", rule_name()),
    ]);
    let spec = object(vec![
        ("hostnames", hostnames()),
        ("parentRefs", parent_refs()),
        (
            "rules",
            array(rule).max_items(16).rule(&rules::AT_MOST_128_MATCHES),
        ),
    ]);
    object(vec![("spec", spec), ("status", any())]).required(&["spec"])
});

/// The schema of a Gateway API route kind.
pub fn schema(rt: &ResourceType) -> Option<&'static Schema> {
    let s: &'static LazyLock<Schema> = match (rt.group, rt.plural) {
        (GATEWAY_API, "httproutes") => &HTTP_ROUTE,
        (GATEWAY_API, "grpcroutes") => &GRPC_ROUTE,
        _ => return None,
    };
    Some(s)
}
