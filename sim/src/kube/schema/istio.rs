//! Istio's custom resources (`networking.istio.io/v1`,
//! `security.istio.io/v1`), as `istio/api`'s
//! `kubernetes/customresourcedefinitions.gen.yaml` (commit `b8f8791d9`)
//! defines their `v1` schemas: every property of every object modelled
//! here, with its type, `enum`, bounds, `required`, `oneOf` and rules.
//! Subtrees the wizards do not write are [`any`] (kept, not checked):
//! VirtualService `corsPolicy`, `directResponse` and `tls[]`,
//! DestinationRule `localityLbSetting`, `zoneAwareLbSetting`,
//! `proxyProtocol` and `tunnel`, ServiceEntry `endpoints[]`.
//!
//! Istio's integers without bounds (`format: int32`, e.g. route `weight`,
//! `retries.attempts`, `maxEjectionPercent`) are plain integers: Kubernetes
//! 1.33 does not enforce formats' ranges. Percentages (`value`) are numbers
//! without bounds in the CRDs too.

use std::sync::LazyLock;

use super::super::resources::{ISTIO_NETWORKING, ISTIO_SECURITY, ResourceType};
use super::rules::{self, CLAIM_HEADER, DURATION, GROUP, KIND};
use super::{
    Schema, any, array, boolean, int_or_string, integer, map, number, object, string, string_map,
    strings, uint32,
};

/// A duration string: `duration(self) >= duration('1ms')`.
fn duration() -> Schema {
    string().rule(&DURATION)
}

/// `StringMatch`: at most one of `exact`, `prefix`, `regex` (`oneOf`).
fn string_match() -> Schema {
    object(vec![
        ("exact", string()),
        ("prefix", string()),
        ("regex", string()),
    ])
    .at_most_one_of(&["exact", "prefix", "regex"])
}

/// `Destination`: `host` (required), `port.number`, `subset`.
fn destination() -> Schema {
    object(vec![
        ("host", string()),
        ("port", object(vec![("number", uint32())])),
        ("subset", string()),
    ])
    .required(&["host"])
}

/// `Percent`: `value`, a double.
fn percent() -> Schema {
    object(vec![("value", number())])
}

/// `Headers.HeaderOperations`.
fn header_operations() -> Schema {
    object(vec![
        ("add", string_map()),
        ("remove", strings()),
        ("set", string_map()),
    ])
}

/// `Headers`: request and response operations.
fn headers() -> Schema {
    object(vec![
        ("request", header_operations()),
        ("response", header_operations()),
    ])
}

/// `HTTPMatchRequest`.
fn http_match() -> Schema {
    object(vec![
        ("authority", string_match()),
        ("gateways", strings()),
        ("headers", map(string_match())),
        ("ignoreUriCase", boolean()),
        ("method", string_match()),
        ("name", string()),
        ("port", uint32()),
        ("queryParams", map(string_match())),
        ("scheme", string_match()),
        ("sourceLabels", string_map()),
        ("sourceNamespace", string()),
        ("statPrefix", string()),
        ("uri", string_match()),
        ("withoutHeaders", map(string_match())),
    ])
}

/// `HTTPFaultInjection`.
fn fault() -> Schema {
    object(vec![
        (
            "abort",
            object(vec![
                ("grpcStatus", string()),
                ("http2Error", string()),
                ("httpStatus", integer()),
                ("percentage", percent()),
            ])
            .at_most_one_of(&["httpStatus", "grpcStatus", "http2Error"]),
        ),
        (
            "delay",
            object(vec![
                ("exponentialDelay", duration()),
                ("fixedDelay", duration()),
                ("percent", integer()),
                ("percentage", percent()),
            ])
            .at_most_one_of(&["fixedDelay", "exponentialDelay"]),
        ),
    ])
}

/// `HTTPRoute` (VirtualService `http[]`).
fn http_route() -> Schema {
    object(vec![
        ("corsPolicy", any()),
        (
            "delegate",
            object(vec![("name", string()), ("namespace", string())]),
        ),
        ("directResponse", any()),
        ("fault", fault()),
        ("headers", headers()),
        ("match", array(http_match())),
        ("mirror", destination()),
        ("mirror_percent", uint32().nullable()),
        ("mirrorPercent", uint32().nullable()),
        ("mirrorPercentage", percent()),
        (
            "mirrors",
            array(
                object(vec![
                    ("destination", destination()),
                    ("percentage", percent()),
                ])
                .required(&["destination"]),
            ),
        ),
        ("name", string()),
        (
            "redirect",
            object(vec![
                ("authority", string()),
                (
                    "derivePort",
                    string().one_of_values(&["FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT"]),
                ),
                ("port", uint32()),
                ("prefixRewrite", string()),
                ("redirectCode", uint32()),
                ("scheme", string()),
                ("uri", string()),
            ])
            .at_most_one_of(&["port", "derivePort"]),
        ),
        (
            "retries",
            object(vec![
                ("attempts", integer()),
                ("backoff", duration()),
                ("perTryTimeout", duration()),
                ("retryIgnorePreviousHosts", boolean().nullable()),
                ("retryOn", string()),
                ("retryRemoteLocalities", boolean().nullable()),
            ]),
        ),
        (
            "rewrite",
            object(vec![
                ("authority", string()),
                ("uri", string()),
                (
                    "uriRegexRewrite",
                    object(vec![("match", string()), ("rewrite", string())]),
                ),
            ]),
        ),
        (
            "route",
            array(
                object(vec![
                    ("destination", destination()),
                    ("headers", headers()),
                    ("weight", integer()),
                ])
                .required(&["destination"]),
            ),
        ),
        ("timeout", duration()),
    ])
}

/// `TCPRoute` (VirtualService `tcp[]`).
fn tcp_route() -> Schema {
    object(vec![
        (
            "match",
            array(object(vec![
                ("destinationSubnets", strings()),
                ("gateways", strings()),
                ("port", uint32()),
                ("sourceLabels", string_map()),
                ("sourceNamespace", string()),
                ("sourceSubnet", string()),
            ])),
        ),
        (
            "route",
            array(
                object(vec![("destination", destination()), ("weight", integer())])
                    .required(&["destination"]),
            ),
        ),
    ])
}

/// The `status` every Istio kind has: open, with typed conditions.
fn status() -> Schema {
    object(vec![
        (
            "conditions",
            array(object(vec![
                ("lastProbeTime", string()),
                ("lastTransitionTime", string()),
                ("message", string()),
                ("observedGeneration", int_or_string()),
                ("reason", string()),
                ("status", string()),
                ("type", string()),
            ])),
        ),
        ("observedGeneration", int_or_string()),
        (
            "validationMessages",
            array(object(vec![
                ("documentationUrl", string()),
                (
                    "level",
                    string().one_of_values(&["UNKNOWN", "ERROR", "WARNING", "INFO"]),
                ),
                ("type", object(vec![("code", string()), ("name", string())])),
            ])),
        ),
    ])
    .preserve_unknown()
}

fn istio_resource(spec: Schema) -> Schema {
    object(vec![("spec", spec), ("status", status())])
}

/// `ConnectionPoolSettings`.
fn connection_pool() -> Schema {
    object(vec![
        (
            "http",
            object(vec![
                (
                    "h2UpgradePolicy",
                    string().one_of_values(&["DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"]),
                ),
                ("http1MaxPendingRequests", integer()),
                (
                    "http2KeepAlive",
                    object(vec![("interval", duration()), ("timeout", duration())]),
                ),
                ("http2MaxRequests", integer()),
                ("idleTimeout", duration()),
                ("maxConcurrentStreams", integer()),
                ("maxRequestsPerConnection", integer()),
                ("maxRetries", integer()),
                ("useClientProtocol", boolean()),
            ]),
        ),
        (
            "tcp",
            object(vec![
                ("connectTimeout", duration()),
                ("idleTimeout", string()),
                ("maxConnectionDuration", duration()),
                ("maxConnections", integer()),
                (
                    "tcpKeepalive",
                    object(vec![
                        ("interval", duration()),
                        ("probes", uint32()),
                        ("time", duration()),
                    ]),
                ),
            ]),
        ),
    ])
}

/// `LoadBalancerSettings`: `simple` or `consistentHash`.
fn load_balancer() -> Schema {
    let cookie = object(vec![
        (
            "attributes",
            array(object(vec![("name", string()), ("value", string())]).required(&["name"])),
        ),
        ("name", string()),
        ("path", string()),
        ("ttl", string()),
    ])
    .required(&["name"]);
    object(vec![
        (
            "consistentHash",
            object(vec![
                ("httpCookie", cookie),
                ("httpHeaderName", string()),
                ("httpQueryParameterName", string()),
                ("maglev", object(vec![("tableSize", integer().min(0))])),
                ("minimumRingSize", integer().min(0)),
                (
                    "ringHash",
                    object(vec![("minimumRingSize", integer().min(0))]),
                ),
                ("useSourceIp", boolean()),
            ])
            .all_of_at_most_one(&[
                &[
                    "httpHeaderName",
                    "httpCookie",
                    "useSourceIp",
                    "httpQueryParameterName",
                ],
                &["ringHash", "maglev"],
            ]),
        ),
        ("localityLbSetting", any()),
        (
            "simple",
            string().one_of_values(&[
                "UNSPECIFIED",
                "LEAST_CONN",
                "RANDOM",
                "PASSTHROUGH",
                "ROUND_ROBIN",
                "LEAST_REQUEST",
            ]),
        ),
        (
            "warmup",
            object(vec![
                ("aggression", number().min(0).nullable()),
                ("duration", duration()),
                ("minimumPercent", number().range(0, 100).nullable()),
            ])
            .required(&["duration"]),
        ),
        ("warmupDurationSecs", duration()),
        ("zoneAwareLbSetting", any()),
    ])
    .at_most_one_of(&["simple", "consistentHash"])
}

/// `OutlierDetection`.
fn outlier_detection() -> Schema {
    object(vec![
        ("baseEjectionTime", duration()),
        ("consecutive5xxErrors", uint32().nullable()),
        ("consecutiveErrors", integer()),
        ("consecutiveGatewayErrors", uint32().nullable()),
        ("consecutiveLocalOriginFailures", uint32().nullable()),
        ("interval", duration()),
        ("maxEjectionPercent", integer()),
        ("minHealthPercent", integer()),
        (
            "outlierDetectionHttpErrorCodes",
            array(integer().range(100, 599)),
        ),
        ("splitExternalLocalOriginErrors", boolean()),
    ])
}

/// `ClientTLSSettings`.
fn client_tls() -> Schema {
    object(vec![
        ("caCertificates", string()),
        ("caCrl", string()),
        ("clientCertificate", string()),
        ("credentialName", string()),
        ("insecureSkipVerify", boolean().nullable()),
        (
            "mode",
            string().one_of_values(&["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"]),
        ),
        ("privateKey", string()),
        ("sni", string()),
        ("subjectAltNames", strings()),
    ])
}

/// `TrafficPolicy`.
fn traffic_policy() -> Schema {
    object(vec![
        ("connectionPool", connection_pool()),
        ("loadBalancer", load_balancer()),
        ("outlierDetection", outlier_detection()),
        (
            "portLevelSettings",
            array(object(vec![
                ("connectionPool", connection_pool()),
                ("loadBalancer", load_balancer()),
                ("outlierDetection", outlier_detection()),
                ("port", object(vec![("number", uint32())])),
                ("tls", client_tls()),
            ]))
            .max_items(4096),
        ),
        ("proxyProtocol", any()),
        (
            "retryBudget",
            object(vec![
                ("budgetInterval", string()),
                ("minRetryConcurrency", uint32()),
                ("percent", number().range(0, 100).nullable()),
            ]),
        ),
        ("tls", client_tls()),
        ("tunnel", any()),
    ])
}

/// `matchLabels` of a security `WorkloadSelector` (and DestinationRule's).
fn match_labels() -> Schema {
    map(string()
        .max_length(63)
        .rule(&rules::LABEL_VALUE_NO_WILDCARD))
    .rule(&rules::LABEL_KEY_NO_WILDCARD)
    .rule(&rules::LABEL_KEY_NOT_EMPTY)
}

fn label_selector() -> Schema {
    object(vec![("matchLabels", match_labels())])
}

/// `labels` of a networking `WorkloadSelector` (ServiceEntry, Sidecar).
fn workload_selector() -> Schema {
    object(vec![(
        "labels",
        map(string().max_length(63).rule(&rules::SELECTOR_NO_WILDCARD)),
    )])
}

/// `ServerTLSSettings` (Gateway servers, Sidecar ingress).
fn server_tls() -> Schema {
    let versions = &["TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3"];
    object(vec![
        ("caCertCredentialName", string()),
        ("caCertificates", string()),
        ("caCrl", string()),
        ("cipherSuites", strings()),
        ("credentialName", string()),
        ("credentialNames", strings().min_items(1).max_items(2)),
        ("httpsRedirect", boolean()),
        ("insecureSkipVerify", boolean().nullable()),
        ("maxProtocolVersion", string().one_of_values(versions)),
        ("minProtocolVersion", string().one_of_values(versions)),
        (
            "mode",
            string().one_of_values(&[
                "PASSTHROUGH",
                "SIMPLE",
                "MUTUAL",
                "AUTO_PASSTHROUGH",
                "ISTIO_MUTUAL",
                "OPTIONAL_MUTUAL",
            ]),
        ),
        ("privateKey", string()),
        ("serverCertificate", string()),
        ("subjectAltNames", strings()),
        (
            "tlsCertificates",
            array(object(vec![
                ("caCertificates", string()),
                ("privateKey", string()),
                ("serverCertificate", string()),
            ]))
            .min_items(1)
            .max_items(2),
        ),
        ("verifyCertificateHash", strings()),
        ("verifyCertificateSpki", strings()),
    ])
    .rule(&rules::TLS_NAMES_OR_CERTS)
    .rule(&rules::TLS_NAME_OR_NAMES)
    .rule(&rules::TLS_NAME_OR_CERTS)
}

/// A policy's `targetRef`: a local reference to a Gateway API object.
fn target_ref() -> Schema {
    object(vec![
        ("group", string().max_length(253).pattern(&GROUP)),
        ("kind", string().length(1, 63).pattern(&KIND)),
        ("name", string().length(1, 253)),
        ("namespace", string().rule(&rules::NO_CROSS_NAMESPACE)),
    ])
    .required(&["kind", "name"])
}

/// A `Sidecar` port.
fn sidecar_port() -> Schema {
    object(vec![
        ("name", string()),
        ("number", uint32()),
        ("protocol", string()),
        ("targetPort", uint32()),
    ])
}

fn capture_mode() -> Schema {
    string().one_of_values(&["DEFAULT", "IPTABLES", "NONE"])
}

/// VirtualService.
pub static VIRTUAL_SERVICE: LazyLock<Schema> = LazyLock::new(|| {
    istio_resource(object(vec![
        ("exportTo", strings()),
        ("gateways", strings()),
        ("hosts", strings()),
        ("http", array(http_route())),
        ("tcp", array(tcp_route())),
        ("tls", array(any())),
    ]))
});

/// DestinationRule.
pub static DESTINATION_RULE: LazyLock<Schema> = LazyLock::new(|| {
    istio_resource(
        object(vec![
            ("exportTo", strings()),
            ("host", string()),
            (
                "subsets",
                array(
                    object(vec![
                        ("labels", string_map()),
                        ("name", string()),
                        ("trafficPolicy", traffic_policy()),
                    ])
                    .required(&["name"]),
                ),
            ),
            ("trafficPolicy", traffic_policy()),
            ("workloadSelector", label_selector()),
        ])
        .required(&["host"]),
    )
});

/// Gateway.
pub static GATEWAY: LazyLock<Schema> = LazyLock::new(|| {
    let server = object(vec![
        ("bind", string()),
        ("defaultEndpoint", string()),
        ("hosts", strings()),
        ("name", string()),
        (
            "port",
            object(vec![
                ("name", string()),
                ("number", uint32()),
                ("protocol", string()),
                ("targetPort", uint32()),
            ])
            .required(&["number", "protocol", "name"]),
        ),
        ("tls", server_tls()),
    ])
    .required(&["port", "hosts"]);
    istio_resource(object(vec![
        ("selector", string_map()),
        ("servers", array(server)),
    ]))
});

/// ServiceEntry.
pub static SERVICE_ENTRY: LazyLock<Schema> = LazyLock::new(|| {
    let spec = object(vec![
        ("addresses", array(string().max_length(64)).max_items(256)),
        ("endpoints", array(any()).max_items(4096)),
        ("exportTo", strings()),
        (
            "hosts",
            array(string().rule(&rules::HOST_NOT_WILDCARD))
                .min_items(1)
                .max_items(256),
        ),
        (
            "location",
            string().one_of_values(&["MESH_EXTERNAL", "MESH_INTERNAL"]),
        ),
        (
            "ports",
            array(
                object(vec![
                    ("name", string().max_length(256)),
                    ("number", uint32().rule(&rules::PORT_NUMBER)),
                    ("protocol", string().max_length(256)),
                    ("targetPort", uint32().rule(&rules::PORT_NUMBER)),
                ])
                .required(&["number", "name"]),
            )
            .max_items(256)
            .rule(&rules::PORT_NUMBERS_UNIQUE),
        ),
        (
            "resolution",
            string().one_of_values(&["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS"]),
        ),
        ("subjectAltNames", strings()),
        ("workloadSelector", workload_selector()),
    ])
    .required(&["hosts"])
    .rule(&rules::SE_SELECTOR_OR_ENDPOINTS)
    .rule(&rules::SE_CIDR_RESOLUTION)
    .rule(&rules::SE_NONE_NO_ENDPOINTS)
    .rule(&rules::SE_ROUND_ROBIN_ONE_ENDPOINT);
    istio_resource(spec).required(&["spec"])
});

/// Sidecar.
pub static SIDECAR: LazyLock<Schema> = LazyLock::new(|| {
    istio_resource(object(vec![
        (
            "egress",
            array(
                object(vec![
                    ("bind", string()),
                    ("captureMode", capture_mode()),
                    ("hosts", strings()),
                    ("port", sidecar_port()),
                ])
                .required(&["hosts"]),
            ),
        ),
        ("inboundConnectionPool", connection_pool()),
        (
            "ingress",
            array(
                object(vec![
                    ("bind", string()),
                    ("captureMode", capture_mode()),
                    ("connectionPool", connection_pool()),
                    ("defaultEndpoint", string()),
                    ("port", sidecar_port()),
                    ("tls", server_tls()),
                ])
                .required(&["port"]),
            ),
        ),
        (
            "outboundTrafficPolicy",
            object(vec![
                (
                    "egressProxy",
                    object(vec![
                        ("host", string()),
                        ("port", object(vec![("number", uint32())])),
                        ("subset", string()),
                    ])
                    .required(&["host"]),
                ),
                (
                    "mode",
                    string().one_of_values(&["REGISTRY_ONLY", "ALLOW_ANY"]),
                ),
            ]),
        ),
        ("workloadSelector", workload_selector()),
    ]))
});

fn mtls_mode() -> Schema {
    string().one_of_values(&["UNSET", "DISABLE", "PERMISSIVE", "STRICT"])
}

/// PeerAuthentication.
pub static PEER_AUTHENTICATION: LazyLock<Schema> = LazyLock::new(|| {
    istio_resource(
        object(vec![
            ("mtls", object(vec![("mode", mtls_mode())])),
            (
                "portLevelMtls",
                map(object(vec![("mode", mtls_mode())])).rule(&rules::PA_PORT_KEYS),
            ),
            ("selector", label_selector()),
        ])
        .rule(&rules::PA_PORTS_NEED_SELECTOR),
    )
});

/// AuthorizationPolicy.
pub static AUTHORIZATION_POLICY: LazyLock<Schema> = LazyLock::new(|| {
    let accounts = || array(string().max_length(320)).max_items(16);
    let source = object(vec![
        ("ipBlocks", strings()),
        ("namespaces", strings()),
        ("notIpBlocks", strings()),
        ("notNamespaces", strings()),
        ("notPrincipals", strings()),
        ("notRemoteIpBlocks", strings()),
        ("notRequestPrincipals", strings()),
        ("notServiceAccounts", accounts()),
        ("notTrustDomains", strings()),
        ("principals", strings()),
        ("remoteIpBlocks", strings()),
        ("requestPrincipals", strings()),
        ("serviceAccounts", accounts()),
        ("trustDomains", strings()),
    ])
    .rule(&rules::AP_SERVICE_ACCOUNTS_ALONE);
    let operation = object(
        [
            "hosts",
            "methods",
            "notHosts",
            "notMethods",
            "notPaths",
            "notPorts",
            "paths",
            "ports",
        ]
        .into_iter()
        .map(|f| (f, strings()))
        .collect(),
    );
    let rule = object(vec![
        (
            "from",
            array(object(vec![("source", source)])).max_items(512),
        ),
        ("to", array(object(vec![("operation", operation)]))),
        (
            "when",
            array(
                object(vec![
                    ("key", string()),
                    ("notValues", strings()),
                    ("values", strings()),
                ])
                .required(&["key"]),
            ),
        ),
    ]);
    istio_resource(
        object(vec![
            (
                "action",
                string().one_of_values(&["ALLOW", "DENY", "AUDIT", "CUSTOM"]),
            ),
            ("provider", object(vec![("name", string())])),
            ("rules", array(rule).max_items(512)),
            ("selector", label_selector()),
            ("targetRef", target_ref()),
            ("targetRefs", array(target_ref()).max_items(16)),
        ])
        .rule(&rules::ONE_TARGETING),
    )
});

/// RequestAuthentication (an optional CRD here).
pub static REQUEST_AUTHENTICATION: LazyLock<Schema> = LazyLock::new(|| {
    let non_empty = || string().min_length(1);
    let jwks_uri = || string().length(1, 2048).rule(&rules::HTTP_URL);
    let jwt_rule = object(vec![
        ("audiences", array(non_empty())),
        ("forwardOriginalToken", boolean()),
        ("fromCookies", array(non_empty())),
        (
            "fromHeaders",
            array(object(vec![("name", non_empty()), ("prefix", string())]).required(&["name"])),
        ),
        ("fromParams", array(non_empty())),
        ("issuer", non_empty()),
        ("jwks", string()),
        ("jwks_uri", jwks_uri()),
        ("jwksUri", jwks_uri()),
        (
            "outputClaimToHeaders",
            array(
                object(vec![
                    ("claim", non_empty()),
                    ("header", non_empty().pattern(&CLAIM_HEADER)),
                ])
                .required(&["header", "claim"]),
            ),
        ),
        ("outputPayloadToHeader", string()),
        ("spaceDelimitedClaims", array(non_empty()).max_items(64)),
        ("timeout", duration()),
    ])
    .rule(&rules::JWKS_ONCE);
    istio_resource(
        object(vec![
            ("jwtRules", array(jwt_rule).max_items(4096)),
            ("selector", label_selector()),
            ("targetRef", target_ref()),
            ("targetRefs", array(target_ref()).max_items(16)),
        ])
        .rule(&rules::ONE_TARGETING),
    )
});

/// The schema of an Istio kind.
pub fn schema(rt: &ResourceType) -> Option<&'static Schema> {
    let s: &'static LazyLock<Schema> = match (rt.group, rt.plural) {
        (ISTIO_NETWORKING, "virtualservices") => &VIRTUAL_SERVICE,
        (ISTIO_NETWORKING, "destinationrules") => &DESTINATION_RULE,
        (ISTIO_NETWORKING, "gateways") => &GATEWAY,
        (ISTIO_NETWORKING, "serviceentries") => &SERVICE_ENTRY,
        (ISTIO_NETWORKING, "sidecars") => &SIDECAR,
        (ISTIO_SECURITY, "peerauthentications") => &PEER_AUTHENTICATION,
        (ISTIO_SECURITY, "authorizationpolicies") => &AUTHORIZATION_POLICY,
        (ISTIO_SECURITY, "requestauthentications") => &REQUEST_AUTHENTICATION,
        _ => return None,
    };
    Some(s)
}
