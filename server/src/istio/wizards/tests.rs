//! The wizards' objects as golden YAML files (`testdata/`, one per wizard
//! and option set; regenerate with `MESHDECK_UPDATE_GOLDEN=1 cargo test
//! -p meshdeck --lib istio::wizards`), each with the values that matter
//! asserted independently of the file, and the request checks.

use std::path::PathBuf;

use app::types::{
    AbortFault, ConnectionPoolSpec, CookieMatch, DelayFault, HeaderMatch, LoadBalancerSpec,
    MirrorSpec, OutlierSpec, PeerAuthSpec, RetrySpec,
};

use super::*;

fn reviews() -> ServiceFacts {
    let version = |v: &str| ServiceVersion {
        version: v.into(),
        workloads: vec![format!("reviews-{v}")],
        pods: 1,
    };
    ServiceFacts {
        namespace: "bookinfo".into(),
        name: "reviews".into(),
        protocol: ServiceProtocol::Http,
        port: Some(9080),
        selector: BTreeMap::from([("app".into(), "reviews".into())]),
        versions: vec![version("v1"), version("v2"), version("v3")],
        gateway_selector: BTreeMap::from([("istio".into(), "ingressgateway".into())]),
        gateway_api: true,
        version_services: ["v1", "v2", "v3"]
            .map(|v| (v.to_owned(), format!("reviews-{v}")))
            .into(),
        virtual_services: Vec::new(),
        gateway_routes: Vec::new(),
    }
}

fn mongodb() -> ServiceFacts {
    ServiceFacts {
        name: "mongodb".into(),
        protocol: ServiceProtocol::Tcp,
        port: Some(27017),
        selector: BTreeMap::from([("app".into(), "mongodb".into())]),
        versions: vec![
            ServiceVersion {
                version: "v1".into(),
                workloads: vec!["mongodb-v1".into()],
                pods: 1,
            },
            ServiceVersion {
                version: "v2".into(),
                workloads: vec!["mongodb-v2".into()],
                pods: 1,
            },
        ],
        ..reviews()
    }
}

fn w(version: &str, weight: i64) -> VersionWeight {
    VersionWeight {
        version: version.into(),
        weight,
    }
}

fn render(objects: &[Desired]) -> String {
    objects
        .iter()
        .map(|d| serde_yaml_ng::to_string(&d.body).unwrap())
        .collect::<Vec<_>>()
        .join("---\n")
}

fn golden(name: &str, objects: &[Desired]) {
    let actual = render(objects);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src/istio/wizards/testdata")
        .join(format!("{name}.yaml"));
    if std::env::var_os("MESHDECK_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (MESHDECK_UPDATE_GOLDEN=1 writes it)",
            path.display()
        )
    });
    assert_eq!(actual, expected, "{name} differs from its golden file");
}

/// Validates and builds.
fn written(request: &WizardRequest, facts: &ServiceFacts, current: &Current) -> Vec<Desired> {
    let problems = validate(request, facts);
    assert!(problems.is_empty(), "{problems:?}");
    build(request, facts, current)
}

fn kinds(objects: &[Desired]) -> Vec<(IstioKind, &str)> {
    objects.iter().map(|d| (d.kind, d.name.as_str())).collect()
}

#[test]
fn canary() {
    let req = WizardRequest::TrafficShifting {
        api: RouteApi::Istio,
        weights: vec![w("v1", 90), w("v2", 10), w("v3", 0)],
        mirror: None,
    };
    let out = written(&req, &reviews(), &Current::default());
    assert_eq!(
        kinds(&out),
        [
            (IstioKind::DestinationRule, "reviews"),
            (IstioKind::VirtualService, "reviews")
        ]
    );
    let vs = &out[1].body;
    let route = &vs["spec"]["http"][0]["route"];
    assert_eq!(route[0]["weight"], 90);
    assert_eq!(route[1]["destination"]["subset"], "v2");
    assert_eq!(
        route[1]["destination"]["host"],
        "reviews.bookinfo.svc.cluster.local"
    );
    assert_eq!(
        vs["metadata"]["labels"]["meshdeck.io/wizard"],
        "traffic-shifting"
    );
    assert_eq!(
        vs["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "meshdeck"
    );
    let subsets: Vec<&str> = out[0].body["spec"]["subsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(subsets, ["v1", "v2", "v3"]);
    golden("traffic-shifting-canary", &out);
}

#[test]
fn blue_green_with_mirroring() {
    let req = WizardRequest::TrafficShifting {
        api: RouteApi::Istio,
        weights: vec![w("v1", 0), w("v2", 100)],
        mirror: Some(MirrorSpec {
            version: "v3".into(),
            percent: 12.5,
        }),
    };
    let out = written(&req, &reviews(), &Current::default());
    let http = &out[1].body["spec"]["http"][0];
    assert_eq!(http["mirror"]["subset"], "v3");
    assert_eq!(http["mirrorPercentage"]["value"], 12.5);
    golden("traffic-shifting-blue-green-mirror", &out);
}

#[test]
fn ab_test_by_header_and_cookie() {
    let header = RouteMatch {
        headers: vec![HeaderMatch {
            name: "end-user".into(),
            value: StringMatch {
                kind: StringMatchKind::Exact,
                value: "jason".into(),
            },
        }],
        ..RouteMatch::default()
    };
    let cookie = RouteMatch {
        cookies: vec![CookieMatch {
            name: "group".into(),
            value: "b".into(),
        }],
        ..RouteMatch::default()
    };
    let api = RouteMatch {
        uri: Some(StringMatch {
            kind: StringMatchKind::Regex,
            value: "/api/v[0-9]+/reviews".into(),
        }),
        method: Some("GET".into()),
        source_labels: BTreeMap::from([("app".into(), "productpage".into())]),
        ..RouteMatch::default()
    };
    let req = WizardRequest::RequestRouting {
        api: RouteApi::Istio,
        rules: vec![
            RouteRule {
                matches: vec![header, cookie],
                weights: vec![w("v2", 100)],
            },
            RouteRule {
                matches: vec![api],
                weights: vec![w("v3", 50), w("v1", 50)],
            },
            RouteRule {
                matches: vec![],
                weights: vec![w("v1", 100)],
            },
        ],
    };
    let out = written(&req, &reviews(), &Current::default());
    let http = out[1].body["spec"]["http"].as_array().unwrap();
    assert_eq!(http.len(), 3);
    assert_eq!(http[0]["match"][0]["headers"]["end-user"]["exact"], "jason");
    let cookie_re = http[0]["match"][1]["headers"]["cookie"]["regex"]
        .as_str()
        .unwrap();
    let re = regex::Regex::new(cookie_re).unwrap();
    for (header, hit) in [
        ("group=b", true),
        ("session=1; group=b", true),
        ("group=b; theme=dark", true),
        ("group=bb", false),
        ("xgroup=b", false),
        ("group=a", false),
    ] {
        assert_eq!(re.is_match(header), hit, "{header}");
    }
    assert_eq!(http[1]["match"][0]["method"]["exact"], "GET");
    assert_eq!(http[1]["match"][0]["sourceLabels"]["app"], "productpage");
    assert!(http[2].get("match").is_none());
    golden("request-routing-ab", &out);
}

#[test]
fn tcp_shifting() {
    let req = WizardRequest::TcpTrafficShifting {
        weights: vec![w("v1", 80), w("v2", 20)],
    };
    let out = written(&req, &mongodb(), &Current::default());
    assert_eq!(out[1].body["spec"]["tcp"][0]["route"][1]["weight"], 20);
    assert!(out[1].body["spec"].get("http").is_none());
    golden("tcp-traffic-shifting", &out);
}

#[test]
fn faults() {
    let req = WizardRequest::FaultInjection {
        delay: Some(DelayFault {
            fixed_delay: "2s".into(),
            percent: 50.0,
        }),
        abort: Some(AbortFault {
            http_status: Some(503),
            grpc_status: None,
            percent: 10.0,
        }),
    };
    let out = written(&req, &reviews(), &Current::default());
    let http = &out[1].body["spec"]["http"][0];
    assert_eq!(http["fault"]["delay"]["fixedDelay"], "2s");
    assert_eq!(http["fault"]["abort"]["httpStatus"], 503);
    // No routes yet: one route to the service.
    assert!(http["route"][0]["destination"].get("subset").is_none());
    golden("fault-injection-http", &out);
    let grpc = WizardRequest::FaultInjection {
        delay: None,
        abort: Some(AbortFault {
            http_status: None,
            grpc_status: Some("UNAVAILABLE".into()),
            percent: 100.0,
        }),
    };
    golden(
        "fault-injection-grpc",
        &written(&grpc, &reviews(), &Current::default()),
    );
}

#[test]
fn timeouts_and_retries() {
    let req = WizardRequest::TimeoutsRetries {
        timeout: Some("3s".into()),
        retries: Some(RetrySpec {
            attempts: 3,
            per_try_timeout: Some("1s".into()),
            retry_on: vec!["5xx".into(), "reset".into(), "connect-failure".into()],
        }),
    };
    let out = written(&req, &reviews(), &Current::default());
    let http = &out[1].body["spec"]["http"][0];
    assert_eq!(http["timeout"], "3s");
    assert_eq!(http["retries"]["retryOn"], "5xx,reset,connect-failure");
    golden("timeouts-retries", &out);
}

#[test]
fn circuit_breaking() {
    let req = WizardRequest::CircuitBreaking {
        connection_pool: Some(ConnectionPoolSpec {
            max_connections: Some(100),
            connect_timeout: Some("500ms".into()),
            http1_max_pending_requests: Some(10),
            http2_max_requests: Some(1000),
            max_requests_per_connection: Some(1),
            max_retries: Some(3),
        }),
        outlier_detection: Some(OutlierSpec {
            consecutive_errors: 5,
            interval: "10s".into(),
            base_ejection_time: "30s".into(),
            max_ejection_percent: 50,
        }),
        load_balancer: Some(LoadBalancerSpec::LeastRequest),
    };
    let out = written(&req, &reviews(), &Current::default());
    assert_eq!(kinds(&out), [(IstioKind::DestinationRule, "reviews")]);
    let tp = &out[0].body["spec"]["trafficPolicy"];
    assert_eq!(tp["connectionPool"]["tcp"]["maxConnections"], 100);
    assert_eq!(tp["connectionPool"]["http"]["http1MaxPendingRequests"], 10);
    assert_eq!(tp["outlierDetection"]["consecutive5xxErrors"], 5);
    assert_eq!(tp["loadBalancer"]["simple"], "LEAST_REQUEST");
    golden("circuit-breaking", &out);
    let cookie = WizardRequest::CircuitBreaking {
        connection_pool: None,
        outlier_detection: None,
        load_balancer: Some(LoadBalancerSpec::HashCookie {
            name: "user".into(),
            ttl: "1h".into(),
        }),
    };
    golden(
        "circuit-breaking-hash-cookie",
        &written(&cookie, &reviews(), &Current::default()),
    );
}

#[test]
fn mtls() {
    let req = WizardRequest::Mtls {
        tls_mode: TlsMode::IstioMutual,
        peer_authentication: Some(PeerAuthSpec {
            scope: PeerAuthScope::Workload,
            mode: MtlsMode::Strict,
        }),
    };
    let out = written(&req, &reviews(), &Current::default());
    assert_eq!(
        kinds(&out),
        [
            (IstioKind::DestinationRule, "reviews"),
            (IstioKind::PeerAuthentication, "reviews")
        ]
    );
    assert_eq!(
        out[1].body["spec"]["selector"]["matchLabels"]["app"],
        "reviews"
    );
    assert_eq!(out[1].body["spec"]["mtls"]["mode"], "STRICT");
    golden("mtls-strict-workload", &out);
    let ns = WizardRequest::Mtls {
        tls_mode: TlsMode::Disable,
        peer_authentication: Some(PeerAuthSpec {
            scope: PeerAuthScope::Namespace,
            mode: MtlsMode::Disable,
        }),
    };
    let out = written(&ns, &reviews(), &Current::default());
    assert_eq!(out[1].name, "default");
    assert!(out[1].body["spec"].get("selector").is_none());
    golden("mtls-disable-namespace", &out);
}

#[test]
fn gateway() {
    let req = WizardRequest::Gateway {
        hosts: vec!["reviews.example.com".into()],
        port: 80,
        protocol: GatewayProtocol::Http,
        credential_name: None,
    };
    let out = written(&req, &reviews(), &Current::default());
    assert_eq!(
        kinds(&out),
        [
            (IstioKind::Gateway, "reviews-gateway"),
            (IstioKind::VirtualService, "reviews-gateway")
        ]
    );
    assert_eq!(out[0].body["spec"]["selector"]["istio"], "ingressgateway");
    assert_eq!(out[1].body["spec"]["gateways"][0], "reviews-gateway");
    assert_eq!(
        out[1].body["spec"]["http"][0]["route"][0]["destination"]["port"]["number"],
        9080
    );
    golden("gateway-http", &out);
    let https = WizardRequest::Gateway {
        hosts: vec!["*.example.com".into()],
        port: 443,
        protocol: GatewayProtocol::Https,
        credential_name: Some("example-cert".into()),
    };
    let out = written(&https, &reviews(), &Current::default());
    assert_eq!(
        out[0].body["spec"]["servers"][0]["tls"]["credentialName"],
        "example-cert"
    );
    golden("gateway-https", &out);
}

#[test]
fn wizards_compose_on_one_service() {
    let facts = reviews();
    // A canary, then faults: the routes stay, the fault joins them.
    let canary = written(
        &WizardRequest::TrafficShifting {
            api: RouteApi::Istio,
            weights: vec![w("v1", 90), w("v2", 10)],
            mirror: None,
        },
        &facts,
        &Current::default(),
    );
    let after_canary = Current {
        virtual_service: Some(canary[1].body["spec"].clone()),
        virtual_service_wizards: vec![WizardKind::TrafficShifting],
        destination_rule: Some(canary[0].body["spec"].clone()),
    };
    let fault = written(
        &WizardRequest::FaultInjection {
            delay: Some(DelayFault {
                fixed_delay: "1s".into(),
                percent: 5.0,
            }),
            abort: None,
        },
        &facts,
        &after_canary,
    );
    let http = &fault[1].body["spec"]["http"][0];
    assert_eq!(http["route"][0]["weight"], 90);
    assert_eq!(http["fault"]["delay"]["fixedDelay"], "1s");
    assert_eq!(
        fault[1].body["metadata"]["annotations"]["meshdeck.io/wizards"],
        "traffic-shifting,fault-injection"
    );
    // The DestinationRule only holds the subsets the route needs.
    assert!(fault[0].body["metadata"].get("annotations").is_none());
    golden("compose-canary-then-fault", &fault);
    // Then a new split: the fault stays on the new route.
    let after_fault = Current {
        virtual_service: Some(fault[1].body["spec"].clone()),
        virtual_service_wizards: vec![WizardKind::TrafficShifting, WizardKind::FaultInjection],
        ..after_canary.clone()
    };
    let shift = written(
        &WizardRequest::TrafficShifting {
            api: RouteApi::Istio,
            weights: vec![w("v1", 50), w("v2", 50)],
            mirror: None,
        },
        &facts,
        &after_fault,
    );
    let http = &shift[1].body["spec"]["http"][0];
    assert_eq!(http["route"][1]["weight"], 50);
    assert_eq!(http["fault"]["delay"]["percentage"]["value"], 5.0);
    // Faults removed: the annotation forgets the fault wizard.
    let cleared = written(
        &WizardRequest::FaultInjection {
            delay: None,
            abort: None,
        },
        &facts,
        &after_fault,
    );
    assert!(cleared[1].body["spec"]["http"][0].get("fault").is_none());
    assert_eq!(
        cleared[1].body["metadata"]["annotations"]["meshdeck.io/wizards"],
        "traffic-shifting"
    );
    // Circuit breaking and mTLS keep each other's traffic policy.
    let cb = written(
        &WizardRequest::CircuitBreaking {
            connection_pool: None,
            outlier_detection: None,
            load_balancer: Some(LoadBalancerSpec::Random),
        },
        &facts,
        &after_canary,
    );
    let after_cb = Current {
        destination_rule: Some(cb[0].body["spec"].clone()),
        ..after_canary.clone()
    };
    let tls = written(
        &WizardRequest::Mtls {
            tls_mode: TlsMode::IstioMutual,
            peer_authentication: None,
        },
        &facts,
        &after_cb,
    );
    let tp = &tls[0].body["spec"]["trafficPolicy"];
    assert_eq!(tp["loadBalancer"]["simple"], "RANDOM");
    assert_eq!(tp["tls"]["mode"], "ISTIO_MUTUAL");
    assert_eq!(
        tls[0].body["metadata"]["annotations"]["meshdeck.io/wizards"],
        "circuit-breaking,mtls"
    );
}

#[test]
fn bad_input_lists_every_invalid_field() {
    let facts = reviews();
    let problems = validate(
        &WizardRequest::TrafficShifting {
            api: RouteApi::Istio,
            weights: vec![w("v1", 80), w("v9", 30), w("v1", -5)],
            mirror: Some(MirrorSpec {
                version: "v2".into(),
                percent: 150.0,
            }),
        },
        &facts,
    );
    assert_eq!(
        problems,
        [
            "weights[1].version: no workload of service reviews has version \"v9\" (versions: v1, v2, v3)",
            "weights[2].version: \"v1\" is named twice",
            "weights[2].weight: -5 is not a percentage from 0 to 100",
            "weights: the weights add up to 105, not 100",
            "mirror.percent: 150 is not a percentage from 0 to 100",
        ]
    );
    let problems = validate(
        &WizardRequest::RequestRouting {
            api: RouteApi::Istio,
            rules: vec![
                RouteRule {
                    matches: vec![],
                    weights: vec![w("v1", 100)],
                },
                RouteRule {
                    matches: vec![RouteMatch {
                        headers: vec![HeaderMatch {
                            name: "End User".into(),
                            value: StringMatch {
                                kind: StringMatchKind::Regex,
                                value: "(unclosed".into(),
                            },
                        }],
                        method: Some("get".into()),
                        ..RouteMatch::default()
                    }],
                    weights: vec![w("v2", 100)],
                },
            ],
        },
        &facts,
    );
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(problems[0].starts_with("rules[0]: a rule without matches"));
    assert!(problems[1].starts_with("rules[1].matches[0].headers[0].name:"));
    assert!(problems[2].starts_with(
        "rules[1].matches[0].headers[0].match.value: \"(unclosed\" is not a regular expression"
    ));
    assert!(problems[3].starts_with("rules[1].matches[0].method:"));
    let problems = validate(
        &WizardRequest::FaultInjection {
            delay: Some(DelayFault {
                fixed_delay: "-5s".into(),
                percent: -1.0,
            }),
            abort: Some(AbortFault {
                http_status: Some(700),
                grpc_status: None,
                percent: 101.0,
            }),
        },
        &facts,
    );
    assert_eq!(
        problems,
        [
            "delay.fixed_delay: \"-5s\" is not a duration (e.g. 250ms, 5s, 1m30s)",
            "delay.percent: -1 is not a percentage from 0 to 100",
            "abort.http_status: 700 is not an HTTP status from 200 to 599",
            "abort.percent: 101 is not a percentage from 0 to 100",
        ]
    );
    let problems = validate(
        &WizardRequest::Gateway {
            hosts: vec!["Bad Host".into()],
            port: 70000,
            protocol: GatewayProtocol::Https,
            credential_name: None,
        },
        &facts,
    );
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[1].starts_with("port: 70000 is not a port"));
    // TCP services take only what applies to TCP.
    let problems = validate(
        &WizardRequest::TrafficShifting {
            api: RouteApi::Istio,
            weights: vec![w("v1", 100)],
            mirror: None,
        },
        &mongodb(),
    );
    assert_eq!(
        problems,
        [
            "wizard: service mongodb speaks TCP: only TCP traffic shifting, circuit breaking and mTLS apply"
        ]
    );
}

#[test]
fn durations_read_like_go() {
    assert_eq!(duration_ms("250ms"), Some(250.0));
    assert_eq!(duration_ms("1.5s"), Some(1500.0));
    assert_eq!(duration_ms("1m30s"), Some(90_000.0));
    assert_eq!(duration_ms("2h"), Some(7_200_000.0));
    assert_eq!(duration_ms("5"), None);
    assert_eq!(duration_ms("s"), None);
    assert_eq!(duration_ms("-1s"), None);
    assert_eq!(duration_ms("3 days"), None);
    assert_eq!(duration_ms(""), None);
}

// ---------------------------------------------------------------------------
// The Gateway API option of traffic shifting and request routing.
// ---------------------------------------------------------------------------

fn backend_weights(rule: &Value) -> Vec<(String, i64)> {
    rule["backendRefs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            assert_eq!(b["port"], 9080, "a Service backend names its port");
            (
                b["name"].as_str().unwrap().to_owned(),
                b["weight"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn gateway_api_canary_is_one_httproute_to_the_versions_services() {
    let req = WizardRequest::TrafficShifting {
        weights: vec![w("v1", 90), w("v2", 0), w("v3", 10)],
        mirror: None,
        api: RouteApi::GatewayApi,
    };
    let out = written(&req, &reviews(), &Current::default());
    // No DestinationRule: the Gateway API has no subsets.
    assert_eq!(kinds(&out), vec![(IstioKind::HttpRoute, "reviews")]);
    let body = &out[0].body;
    assert_eq!(body["apiVersion"], "gateway.networking.k8s.io/v1");
    assert_eq!(body["kind"], "HTTPRoute");
    // Attached to the Service itself (GAMMA), so it routes mesh traffic.
    let parent = &body["spec"]["parentRefs"][0];
    assert_eq!(
        (&parent["group"], &parent["kind"], &parent["name"]),
        (&json!(""), &json!("Service"), &json!("reviews"))
    );
    let rules = body["spec"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1);
    assert!(rules[0].get("matches").is_none(), "every request");
    assert_eq!(
        backend_weights(&rules[0]),
        vec![
            ("reviews-v1".into(), 90),
            ("reviews-v2".into(), 0),
            ("reviews-v3".into(), 10)
        ]
    );
    assert_eq!(
        body["metadata"]["labels"]["meshdeck.io/wizard"],
        "traffic-shifting"
    );
    golden("gateway-api-canary", &out);
}

#[test]
fn gateway_api_request_routing_matches_headers_cookies_paths_and_methods() {
    let req = WizardRequest::RequestRouting {
        rules: vec![
            RouteRule {
                matches: vec![
                    RouteMatch {
                        headers: vec![HeaderMatch {
                            name: "end-user".into(),
                            value: StringMatch {
                                kind: StringMatchKind::Exact,
                                value: "jason".into(),
                            },
                        }],
                        ..RouteMatch::default()
                    },
                    RouteMatch {
                        cookies: vec![CookieMatch {
                            name: "group".into(),
                            value: "b".into(),
                        }],
                        ..RouteMatch::default()
                    },
                ],
                weights: vec![w("v3", 100)],
            },
            RouteRule {
                matches: vec![RouteMatch {
                    uri: Some(StringMatch {
                        kind: StringMatchKind::Prefix,
                        value: "/api".into(),
                    }),
                    method: Some("GET".into()),
                    ..RouteMatch::default()
                }],
                weights: vec![w("v2", 50), w("v1", 50)],
            },
            RouteRule {
                matches: vec![],
                weights: vec![w("v1", 100)],
            },
        ],
        api: RouteApi::GatewayApi,
    };
    let out = written(&req, &reviews(), &Current::default());
    assert_eq!(kinds(&out), vec![(IstioKind::HttpRoute, "reviews")]);
    let rules = out[0].body["spec"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 3);
    assert_eq!(
        rules[0]["matches"][0]["headers"][0],
        json!({"type": "Exact", "name": "end-user", "value": "jason"})
    );
    let cookie = &rules[0]["matches"][1]["headers"][0];
    assert_eq!(
        (&cookie["type"], &cookie["name"]),
        (&json!("RegularExpression"), &json!("cookie"))
    );
    let re = regex::Regex::new(cookie["value"].as_str().unwrap()).unwrap();
    assert!(re.is_match("session=1; group=b") && !re.is_match("group=bb"));
    assert_eq!(backend_weights(&rules[0]), vec![("reviews-v3".into(), 100)]);
    assert_eq!(
        rules[1]["matches"][0]["path"],
        json!({"type": "PathPrefix", "value": "/api"})
    );
    assert_eq!(rules[1]["matches"][0]["method"], "GET");
    assert_eq!(
        backend_weights(&rules[1]),
        vec![("reviews-v2".into(), 50), ("reviews-v1".into(), 50)]
    );
    assert!(rules[2].get("matches").is_none());
    golden("gateway-api-request-routing", &out);
}

#[test]
fn gateway_api_routing_of_a_grpc_service_is_a_grpcroute() {
    let facts = ServiceFacts {
        protocol: ServiceProtocol::Grpc,
        ..reviews()
    };
    let req = WizardRequest::RequestRouting {
        rules: vec![
            RouteRule {
                matches: vec![RouteMatch {
                    headers: vec![HeaderMatch {
                        name: "x-tenant".into(),
                        value: StringMatch {
                            kind: StringMatchKind::Regex,
                            value: "^beta-.*".into(),
                        },
                    }],
                    ..RouteMatch::default()
                }],
                weights: vec![w("v2", 100)],
            },
            RouteRule {
                matches: vec![],
                weights: vec![w("v1", 100)],
            },
        ],
        api: RouteApi::GatewayApi,
    };
    let out = written(&req, &facts, &Current::default());
    assert_eq!(kinds(&out), vec![(IstioKind::GrpcRoute, "reviews")]);
    assert_eq!(out[0].body["kind"], "GRPCRoute");
    let rules = out[0].body["spec"]["rules"].as_array().unwrap();
    assert_eq!(
        rules[0]["matches"][0],
        json!({"headers": [{"type": "RegularExpression", "name": "x-tenant", "value": "^beta-.*"}]})
    );
    golden("gateway-api-grpc", &out);
}

fn fields(problems: &[String]) -> Vec<&str> {
    problems
        .iter()
        .map(|p| p.split_once(": ").unwrap().0)
        .collect()
}

#[test]
fn what_the_gateway_api_cannot_say_is_a_422_per_field() {
    // v3 has no Service of its own.
    let mut facts = reviews();
    facts.version_services.remove("v3");
    let shift = WizardRequest::TrafficShifting {
        weights: vec![w("v1", 90), w("v3", 10)],
        mirror: Some(MirrorSpec {
            version: "v2".into(),
            percent: 5.0,
        }),
        api: RouteApi::GatewayApi,
    };
    let problems = validate(&shift, &facts);
    assert_eq!(
        fields(&problems),
        vec!["mirror", "weights[1].version"],
        "{problems:?}"
    );
    assert!(
        problems[1].contains("app=reviews, version=v3"),
        "{problems:?}"
    );

    let routing = WizardRequest::RequestRouting {
        rules: vec![
            RouteRule {
                matches: vec![RouteMatch {
                    headers: vec![HeaderMatch {
                        name: "x-env".into(),
                        value: StringMatch {
                            kind: StringMatchKind::Prefix,
                            value: "stag".into(),
                        },
                    }],
                    source_labels: BTreeMap::from([("app".into(), "productpage".into())]),
                    ..RouteMatch::default()
                }],
                weights: vec![w("v1", 100)],
            },
            RouteRule {
                matches: vec![],
                weights: vec![w("v1", 100)],
            },
        ],
        api: RouteApi::GatewayApi,
    };
    assert_eq!(
        fields(&validate(&routing, &reviews())),
        vec![
            "rules[0].matches[0].headers[0].match.kind",
            "rules[0].matches[0].source_labels"
        ]
    );
    // gRPC: no URIs, methods or cookies.
    let grpc = ServiceFacts {
        protocol: ServiceProtocol::Grpc,
        ..reviews()
    };
    let routing = WizardRequest::RequestRouting {
        rules: vec![
            RouteRule {
                matches: vec![RouteMatch {
                    cookies: vec![CookieMatch {
                        name: "a".into(),
                        value: "b".into(),
                    }],
                    uri: Some(StringMatch {
                        kind: StringMatchKind::Exact,
                        value: "/x".into(),
                    }),
                    method: Some("POST".into()),
                    ..RouteMatch::default()
                }],
                weights: vec![w("v1", 100)],
            },
            RouteRule {
                matches: vec![],
                weights: vec![w("v1", 100)],
            },
        ],
        api: RouteApi::GatewayApi,
    };
    assert_eq!(
        fields(&validate(&routing, &grpc)),
        vec![
            "rules[0].matches[0].cookies",
            "rules[0].matches[0].uri",
            "rules[0].matches[0].method"
        ]
    );
    // More rules than an HTTPRoute holds.
    let many = WizardRequest::RequestRouting {
        rules: (0..17)
            .map(|i| RouteRule {
                matches: if i == 16 {
                    vec![]
                } else {
                    vec![RouteMatch {
                        method: Some("GET".into()),
                        ..RouteMatch::default()
                    }]
                },
                weights: vec![w("v1", 100)],
            })
            .collect(),
        api: RouteApi::GatewayApi,
    };
    assert_eq!(fields(&validate(&many, &reviews())), vec!["rules"]);
}

#[test]
fn one_routing_api_per_service() {
    let canary = |api| WizardRequest::TrafficShifting {
        weights: vec![w("v1", 90), w("v3", 10)],
        mirror: None,
        api,
    };
    // Not served.
    let facts = ServiceFacts {
        gateway_api: false,
        ..reviews()
    };
    let problems = validate(&canary(RouteApi::GatewayApi), &facts);
    assert_eq!(fields(&problems), vec!["api"]);
    assert!(
        problems[0].contains("does not serve the Gateway API's HTTPRoute"),
        "{problems:?}"
    );
    // A VirtualService routes the host already.
    let facts = ServiceFacts {
        virtual_services: vec!["bookinfo/reviews".into()],
        ..reviews()
    };
    let problems = validate(&canary(RouteApi::GatewayApi), &facts);
    assert!(
        problems[0].starts_with("api: VirtualService bookinfo/reviews already routes"),
        "{problems:?}"
    );
    assert!(validate(&canary(RouteApi::Istio), &facts).is_empty());
    // An HTTPRoute is attached: Istio's API and the VirtualService-writing
    // policy wizards are refused, the Gateway API is fine.
    let facts = ServiceFacts {
        gateway_routes: vec!["HTTPRoute bookinfo/reviews".into()],
        ..reviews()
    };
    assert_eq!(
        fields(&validate(&canary(RouteApi::Istio), &facts)),
        vec!["api"]
    );
    assert!(validate(&canary(RouteApi::GatewayApi), &facts).is_empty());
    let fault = WizardRequest::FaultInjection {
        delay: Some(DelayFault {
            fixed_delay: "1s".into(),
            percent: 5.0,
        }),
        abort: None,
    };
    assert_eq!(fields(&validate(&fault, &facts)), vec!["wizard"]);
    // The wire format: `api` is optional and defaults to Istio's.
    let parsed: WizardRequest = serde_json::from_value(json!({
        "wizard": "traffic-shifting", "weights": [{"version": "v1", "weight": 100}]
    }))
    .unwrap();
    assert_eq!(
        parsed,
        WizardRequest::TrafficShifting {
            weights: vec![w("v1", 100)],
            mirror: None,
            api: RouteApi::Istio
        }
    );
    let parsed: WizardRequest = serde_json::from_value(json!({
        "wizard": "traffic-shifting", "weights": [{"version": "v1", "weight": 100}], "api": "gateway-api"
    }))
    .unwrap();
    assert!(matches!(
        parsed,
        WizardRequest::TrafficShifting {
            api: RouteApi::GatewayApi,
            ..
        }
    ));
}

#[test]
fn a_destination_rule_beside_a_gateway_api_route_is_warned_of() {
    let cb = WizardRequest::CircuitBreaking {
        connection_pool: None,
        outlier_detection: None,
        load_balancer: Some(LoadBalancerSpec::Random),
    };
    // No route: nothing to say.
    assert!(notes(&cb, &reviews()).is_empty());
    let routed = ServiceFacts {
        gateway_routes: vec!["HTTPRoute bookinfo/reviews".into()],
        ..reviews()
    };
    let said = notes(&cb, &routed);
    assert_eq!(said.len(), 1);
    assert!(
        said[0].starts_with("HTTPRoute bookinfo/reviews sends service reviews's requests to the Services of its versions; this DestinationRule is for host reviews.bookinfo.svc.cluster.local"),
        "{said:?}"
    );
    // Written all the same: a warning, not a refusal.
    assert!(validate(&cb, &routed).is_empty());
    let mtls = WizardRequest::Mtls {
        tls_mode: TlsMode::IstioMutual,
        peer_authentication: None,
    };
    assert!(notes(&mtls, &routed)[0].contains("its TLS mode"));
    let shift = WizardRequest::TrafficShifting {
        weights: vec![w("v1", 100)],
        mirror: None,
        api: RouteApi::GatewayApi,
    };
    assert!(notes(&shift, &routed).is_empty());
}
