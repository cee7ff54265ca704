//! The in-memory API server rejecting what Istio's (and the Gateway API's)
//! CRD schemas reject, worded as kube-apiserver words it, pruning unknown
//! fields, and serving the optional CRDs only once installed: through
//! kube-rs `Api<DynamicObject>`s and raw requests.

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use kube::api::{
    ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams,
};
use kube::core::Status;
use kube::{Api, Client};
use meshdeck_sim::kube::schema::{self, Part};
use meshdeck_sim::kube::{ADMIN_TOKEN, InMemoryCluster, resources};
use meshdeck_sim::scenario;
use serde_json::{Value, json};
use tower::ServiceExt;

const NS: &str = "bookinfo";

/// The error kube-apiserver appends when blocking errors kept the
/// `x-kubernetes-validations` rules from running.
const RULES_SKIPPED: &str = "<nil>: Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation";

fn demo() -> (InMemoryCluster, Client) {
    let cluster = InMemoryCluster::from_mesh(&scenario::demo());
    let client = cluster.client();
    (cluster, client)
}

/// An `Api<DynamicObject>` on `group/version` `kind` (`plural`) in `NS`.
fn api(
    client: &Client,
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let ar = ApiResource::from_gvk_with_plural(&gvk, plural);
    Api::namespaced_with(client.clone(), NS, &ar)
}

fn virtual_services(client: &Client) -> Api<DynamicObject> {
    api(
        client,
        "networking.istio.io",
        "v1",
        "VirtualService",
        "virtualservices",
    )
}

fn destination_rules(client: &Client) -> Api<DynamicObject> {
    api(
        client,
        "networking.istio.io",
        "v1",
        "DestinationRule",
        "destinationrules",
    )
}

fn http_routes(client: &Client) -> Api<DynamicObject> {
    api(
        client,
        "gateway.networking.k8s.io",
        "v1",
        "HTTPRoute",
        "httproutes",
    )
}

fn object(value: Value) -> DynamicObject {
    serde_json::from_value(value).expect("dynamic object")
}

/// A VirtualService named `name` with `spec`.
fn vs(name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": name, "namespace": NS},
        "spec": spec,
    })
}

/// The Status of a failed kube-rs call.
fn status<T: std::fmt::Debug>(result: kube::Result<T>) -> Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// The causes of a Status as (reason, field, message).
fn causes(status: &Status) -> Vec<(String, String, String)> {
    status
        .details
        .as_ref()
        .map(|d| {
            d.causes
                .iter()
                .map(|c| (c.reason.clone(), c.field.clone(), c.message.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts a 422 `Invalid` about `kind_group` `name` whose field errors are
/// exactly `errors` (`field: body` each), in order.
fn assert_invalid(status: &Status, kind_group: &str, name: &str, errors: &[&str]) {
    assert_eq!(
        (status.code, status.reason.as_str()),
        (422, "Invalid"),
        "{status:?}"
    );
    let joined = if errors.len() == 1 {
        errors[0].to_owned()
    } else {
        format!("[{}]", errors.join(", "))
    };
    assert_eq!(
        status.message,
        format!("{kind_group} \"{name}\" is invalid: {joined}")
    );
    let got: Vec<String> = causes(status)
        .into_iter()
        .map(|(_, field, message)| format!("{field}: {message}"))
        .collect();
    assert_eq!(got, errors);
}

/// One raw request as the admin: status, `Warning` headers, JSON body.
async fn raw(
    cluster: &InMemoryCluster,
    method: &str,
    uri: &str,
    content_type: &str,
    body: Value,
) -> (u16, Vec<String>, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.to_string()))
        .expect("request");
    let response = cluster.router().oneshot(request).await.expect("response");
    let code = response.status().as_u16();
    let warnings = response
        .headers()
        .get_all(header::WARNING)
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        code,
        warnings,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

const VS_PATH: &str = "/apis/networking.istio.io/v1/namespaces/bookinfo/virtualservices";

/// A VirtualService using every field the traffic wizards write.
fn full_virtual_service() -> Value {
    vs(
        "wizard-reviews",
        json!({
            "hosts": ["reviews"],
            "gateways": ["mesh"],
            "http": [{
                "name": "canary",
                "match": [{
                    "uri": {"prefix": "/api"},
                    "authority": {"exact": "reviews"},
                    "headers": {"end-user": {"exact": "jason"}},
                    "queryParams": {"v": {"regex": "^2$"}},
                    "method": {"exact": "GET"},
                    "sourceLabels": {"app": "productpage"},
                    "port": 9080,
                    "ignoreUriCase": true,
                }],
                "route": [
                    {"destination": {"host": "reviews", "subset": "v1", "port": {"number": 9080}}, "weight": 90},
                    {"destination": {"host": "reviews", "subset": "v2"}, "weight": 10},
                ],
                "redirect": null,
                "rewrite": {"uri": "/"},
                "timeout": "5s",
                "retries": {"attempts": 3, "perTryTimeout": "1.5s", "retryOn": "5xx,reset"},
                "fault": {
                    "delay": {"fixedDelay": "100ms", "percentage": {"value": 10.5}},
                    "abort": {"httpStatus": 503, "percentage": {"value": 1}},
                },
                "mirror": {"host": "reviews", "subset": "v3"},
                "mirrorPercentage": {"value": 5},
                "corsPolicy": {"allowOrigins": [{"exact": "https://shop.example"}], "maxAge": "24h"},
            }],
            "tcp": [{"match": [{"port": 9090}], "route": [{"destination": {"host": "reviews"}, "weight": 100}]}],
        }),
    )
}

#[tokio::test]
async fn a_valid_object_of_each_kind_is_accepted_unchanged() {
    let (cluster, client) = demo();
    let sent = full_virtual_service();
    let created = virtual_services(&client)
        .create(&PostParams::default(), &object(sent.clone()))
        .await
        .expect("virtual service");
    let mut expected = sent["spec"].clone();
    // A null for a field that is not nullable is dropped, as kube-apiserver
    // drops it.
    expected["http"][0]
        .as_object_mut()
        .expect("route")
        .remove("redirect");
    assert_eq!(created.data["spec"], expected);

    let objects = [
        (
            "networking.istio.io",
            "DestinationRule",
            "destinationrules",
            json!({
                "host": "reviews",
                "subsets": [
                    {"name": "v1", "labels": {"version": "v1"}},
                    {"name": "v2", "labels": {"version": "v2"}, "trafficPolicy": {"loadBalancer": {"consistentHash": {"httpCookie": {"name": "user", "ttl": "0s", "path": "/"}}}}},
                ],
                "trafficPolicy": {
                    "loadBalancer": {"simple": "ROUND_ROBIN"},
                    "connectionPool": {
                        "tcp": {"maxConnections": 100, "connectTimeout": "30ms"},
                        "http": {"http1MaxPendingRequests": 10, "http2MaxRequests": 100, "maxRequestsPerConnection": 1, "maxRetries": 3},
                    },
                    "outlierDetection": {"consecutive5xxErrors": 5, "consecutiveGatewayErrors": 3, "interval": "10s", "baseEjectionTime": "30s", "maxEjectionPercent": 50, "minHealthPercent": 20},
                    "tls": {"mode": "ISTIO_MUTUAL"},
                },
            }),
        ),
        (
            "networking.istio.io",
            "Gateway",
            "gateways",
            json!({
                "selector": {"istio": "ingressgateway"},
                "servers": [
                    {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]},
                    {"port": {"number": 443, "name": "https", "protocol": "HTTPS"}, "hosts": ["shop.example.com"], "tls": {"mode": "SIMPLE", "credentialName": "shop-cert"}},
                ],
            }),
        ),
        (
            "networking.istio.io",
            "ServiceEntry",
            "serviceentries",
            json!({
                "hosts": ["api.payments.example"],
                "ports": [{"number": 443, "name": "https", "protocol": "TLS"}],
                "location": "MESH_EXTERNAL",
                "resolution": "DNS",
            }),
        ),
        (
            "networking.istio.io",
            "Sidecar",
            "sidecars",
            json!({
                "egress": [{"hosts": ["./*", "istio-system/*"]}],
                "outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"},
            }),
        ),
        (
            "security.istio.io",
            "PeerAuthentication",
            "peerauthentications",
            json!({
                "selector": {"matchLabels": {"app": "reviews"}},
                "mtls": {"mode": "STRICT"},
                "portLevelMtls": {"9080": {"mode": "PERMISSIVE"}},
            }),
        ),
        (
            "security.istio.io",
            "AuthorizationPolicy",
            "authorizationpolicies",
            json!({
                "selector": {"matchLabels": {"app": "reviews"}},
                "action": "ALLOW",
                "rules": [{
                    "from": [{"source": {"principals": ["cluster.local/ns/bookinfo/sa/productpage"], "namespaces": ["bookinfo"]}}],
                    "to": [{"operation": {"methods": ["GET"], "paths": ["/api/*"]}}],
                    "when": [{"key": "request.headers[x-canary]", "values": ["1"]}],
                }],
            }),
        ),
    ];
    for (group, kind, plural, spec) in objects {
        let body = json!({
            "apiVersion": format!("{group}/v1"),
            "kind": kind,
            "metadata": {"name": "wizard", "namespace": NS},
            "spec": spec,
        });
        let stored = api(&client, group, "v1", kind, plural)
            .create(&PostParams::default(), &object(body))
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(stored.data["spec"], spec, "{kind}");
    }

    // The optional CRDs, once installed.
    assert!(cluster.install_crd("security.istio.io", "requestauthentications"));
    assert!(cluster.install_crd("gateway.networking.k8s.io", "httproutes"));
    assert!(cluster.install_crd("gateway.networking.k8s.io", "grpcroutes"));
    let ra_spec = json!({
        "selector": {"matchLabels": {"app": "reviews"}},
        "jwtRules": [{"issuer": "https://issuer.example", "jwksUri": "https://issuer.example/jwks", "timeout": "5s"}],
    });
    let ra = api(
        &client,
        "security.istio.io",
        "v1",
        "RequestAuthentication",
        "requestauthentications",
    )
    .create(
        &PostParams::default(),
        &object(json!({
            "apiVersion": "security.istio.io/v1",
            "kind": "RequestAuthentication",
            "metadata": {"name": "jwt", "namespace": NS},
            "spec": ra_spec,
        })),
    )
    .await
    .expect("request authentication");
    assert_eq!(ra.data["spec"], ra_spec);

    let route = http_routes(&client)
        .create(
            &PostParams::default(),
            &object(json!({
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "HTTPRoute",
                "metadata": {"name": "reviews", "namespace": NS},
                "spec": {
                    "parentRefs": [{"group": "", "kind": "Service", "name": "reviews", "port": 9080}],
                    "rules": [{
                        "matches": [{"path": {"type": "PathPrefix", "value": "/api"}, "headers": [{"name": "x-canary", "value": "1"}], "method": "GET"}],
                        "backendRefs": [{"name": "reviews-v1", "port": 9080, "weight": 90}, {"name": "reviews-v2", "port": 9080, "weight": 10}],
                        "timeouts": {"request": "10s", "backendRequest": "5s"},
                    }, {
                        "backendRefs": [{"name": "reviews-v1", "port": 9080}],
                    }],
                },
            })),
        )
        .await
        .expect("http route");
    // The CRD's defaults: a core Service backend of weight 1, Exact header
    // matches, a `/` prefix match for a rule without matches.
    assert_eq!(
        route.data["spec"]["rules"],
        json!([{
            "matches": [{"path": {"type": "PathPrefix", "value": "/api"}, "headers": [{"name": "x-canary", "type": "Exact", "value": "1"}], "method": "GET"}],
            "backendRefs": [
                {"group": "", "kind": "Service", "name": "reviews-v1", "port": 9080, "weight": 90},
                {"group": "", "kind": "Service", "name": "reviews-v2", "port": 9080, "weight": 10},
            ],
            "timeouts": {"request": "10s", "backendRequest": "5s"},
        }, {
            "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
            "backendRefs": [{"group": "", "kind": "Service", "name": "reviews-v1", "port": 9080, "weight": 1}],
        }])
    );

    let grpc = api(&client, "gateway.networking.k8s.io", "v1", "GRPCRoute", "grpcroutes")
        .create(
            &PostParams::default(),
            &object(json!({
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "GRPCRoute",
                "metadata": {"name": "ratings", "namespace": NS},
                "spec": {
                    "parentRefs": [{"name": "mesh-gateway"}],
                    "rules": [{"matches": [{"method": {"service": "ratings.v1.Ratings", "method": "Get"}}], "backendRefs": [{"name": "ratings", "port": 50051}]}],
                },
            })),
        )
        .await
        .expect("grpc route");
    assert_eq!(
        grpc.data["spec"]["parentRefs"],
        json!([{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "mesh-gateway"}])
    );
    assert_eq!(
        grpc.data["spec"]["rules"][0]["matches"][0]["method"]["type"],
        "Exact"
    );
}

#[tokio::test]
async fn a_wrong_type_is_422_worded_as_kube_apiserver() {
    let (cluster, client) = demo();
    let body = vs(
        "reviews",
        json!({"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews"}, "weight": "string"}]}]}),
    );
    let s = status(
        virtual_services(&client)
            .create(&PostParams::default(), &object(body))
            .await,
    );
    assert_invalid(
        &s,
        "VirtualService.networking.istio.io",
        "reviews",
        &[
            "spec.http[0].route[0].weight: Invalid value: \"string\": spec.http[0].route[0].weight in body must be of type integer: \"string\"",
            RULES_SKIPPED,
        ],
    );
    let details = s.details.as_ref().expect("details");
    assert_eq!(
        (
            details.name.as_str(),
            details.group.as_str(),
            details.kind.as_str()
        ),
        ("reviews", "networking.istio.io", "VirtualService")
    );
    assert_eq!(causes(&s)[0].0, "FieldValueTypeInvalid");
    assert_eq!(causes(&s)[1].0, "FieldValueInvalid");
    // Nothing stored: the seeded VirtualService "reviews" is untouched.
    let seeded = cluster
        .get(
            "networking.istio.io",
            "v1",
            "virtualservices",
            NS,
            "reviews",
        )
        .expect("seeded reviews");
    assert_ne!(seeded["spec"]["http"][0]["route"][0]["weight"], "string");
}

#[tokio::test]
async fn enum_range_required_one_of_and_rule_violations_are_each_422() {
    let (cluster, client) = demo();
    assert!(cluster.install_crd("gateway.networking.k8s.io", "httproutes"));
    let vss = virtual_services(&client);
    let pp = PostParams::default();

    // enum (a blocking error: the rules are skipped)
    let dr = object(json!({
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": "ratings", "namespace": NS},
        "spec": {"host": "ratings", "trafficPolicy": {"loadBalancer": {"simple": "FASTEST"}, "tls": {"mode": "STRICT"}}},
    }));
    let s = status(destination_rules(&client).create(&pp, &dr).await);
    assert_invalid(
        &s,
        "DestinationRule.networking.istio.io",
        "ratings",
        &[
            "spec.trafficPolicy.loadBalancer.simple: Unsupported value: \"FASTEST\": supported values: \"UNSPECIFIED\", \"LEAST_CONN\", \"RANDOM\", \"PASSTHROUGH\", \"ROUND_ROBIN\", \"LEAST_REQUEST\"",
            "spec.trafficPolicy.tls.mode: Unsupported value: \"STRICT\": supported values: \"DISABLE\", \"SIMPLE\", \"MUTUAL\", \"ISTIO_MUTUAL\"",
            RULES_SKIPPED,
        ],
    );
    assert_eq!(causes(&s)[0].0, "FieldValueNotSupported");

    // range (not blocking)
    let body = vs(
        "ranged",
        json!({"http": [{"match": [{"port": -1}], "route": [{"destination": {"host": "reviews", "port": {"number": 4294967296u64}}}]}]}),
    );
    let s = status(vss.create(&pp, &object(body)).await);
    assert_invalid(
        &s,
        "VirtualService.networking.istio.io",
        "ranged",
        &[
            "spec.http[0].match[0].port: Invalid value: -1: spec.http[0].match[0].port in body should be greater than or equal to 0",
            "spec.http[0].route[0].destination.port.number: Invalid value: 4294967296: spec.http[0].route[0].destination.port.number in body should be less than or equal to 4294967295",
        ],
    );
    let route = |weight: Value| {
        object(json!({
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": "weighted", "namespace": NS},
            "spec": {"rules": [{"backendRefs": [{"name": "reviews-v1", "port": 9080, "weight": weight}]}]},
        }))
    };
    let s = status(
        http_routes(&client)
            .create(&pp, &route(json!(1_000_001)))
            .await,
    );
    assert_invalid(
        &s,
        "HTTPRoute.gateway.networking.k8s.io",
        "weighted",
        &[
            "spec.rules[0].backendRefs[0].weight: Invalid value: 1000001: spec.rules[0].backendRefs[0].weight in body should be less than or equal to 1000000",
        ],
    );
    http_routes(&client)
        .create(&pp, &route(json!(1_000_000)))
        .await
        .expect("the maximum weight");

    // required
    let body = vs(
        "unrouted",
        json!({"http": [{"route": [{"destination": {"subset": "v1"}}, {"weight": 5}]}]}),
    );
    let s = status(vss.create(&pp, &object(body)).await);
    assert_invalid(
        &s,
        "VirtualService.networking.istio.io",
        "unrouted",
        &[
            "spec.http[0].route[0].destination.host: Required value",
            "spec.http[0].route[1].destination: Required value",
            RULES_SKIPPED,
        ],
    );
    assert_eq!(causes(&s)[0].0, "FieldValueRequired");

    // one of exact/prefix/regex
    let body = vs(
        "ambiguous",
        json!({"http": [{"match": [{"uri": {"exact": "/a", "prefix": "/"}}], "route": [{"destination": {"host": "reviews"}}]}]}),
    );
    let s = status(vss.create(&pp, &object(body)).await);
    assert_invalid(
        &s,
        "VirtualService.networking.istio.io",
        "ambiguous",
        &[
            "<nil>: Invalid value: \"\": \"spec.http[0].match[0].uri\" must validate one and only one schema (oneOf). Found 2 valid alternatives",
        ],
    );

    // x-kubernetes-validations: durations
    let body = vs(
        "slow",
        json!({"http": [{"timeout": "5", "retries": {"perTryTimeout": "500us"}, "route": [{"destination": {"host": "reviews"}}]}]}),
    );
    let s = status(vss.create(&pp, &object(body)).await);
    assert_invalid(
        &s,
        "VirtualService.networking.istio.io",
        "slow",
        &[
            "spec.http[0].retries.perTryTimeout: Invalid value: \"string\": must be a valid duration greater than 1ms",
            "spec.http[0].timeout: Invalid value: \"string\": type conversion error from 'string' to 'google.protobuf.Duration' evaluating rule: must be a valid duration greater than 1ms",
        ],
    );

    // x-kubernetes-validations: a Service backend needs a port
    let portless = object(json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "portless", "namespace": NS},
        "spec": {"rules": [{"backendRefs": [{"name": "reviews-v1"}]}]},
    }));
    let s = status(http_routes(&client).create(&pp, &portless).await);
    assert_invalid(
        &s,
        "HTTPRoute.gateway.networking.k8s.io",
        "portless",
        &[
            "spec.rules[0].backendRefs[0]: Invalid value: \"object\": Must have port for Service reference",
        ],
    );

    // A Gateway server's required fields, nested ones first.
    let gw = object(json!({
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "ingress", "namespace": NS},
        "spec": {"servers": [{"port": {"number": 80, "name": "http"}}]},
    }));
    let s = status(
        api(&client, "networking.istio.io", "v1", "Gateway", "gateways")
            .create(&pp, &gw)
            .await,
    );
    assert_invalid(
        &s,
        "Gateway.networking.istio.io",
        "ingress",
        &[
            "spec.servers[0].port.protocol: Required value",
            "spec.servers[0].hosts: Required value",
            RULES_SKIPPED,
        ],
    );

    // None of them was stored.
    for name in ["ranged", "unrouted", "ambiguous", "slow"] {
        assert!(
            cluster
                .get("networking.istio.io", "v1", "virtualservices", NS, name)
                .is_none()
        );
    }
}

#[tokio::test]
async fn several_violations_are_all_listed() {
    let (_cluster, client) = demo();
    let body = vs(
        "broken",
        json!({
            "hosts": "reviews",
            "http": [{
                "match": [{"uri": {"prefix": "/"}, "ignoreUriCase": "yes"}],
                "route": [{"destination": {"port": {"number": "80"}}, "weight": 1.5}],
                "fault": {"abort": {"httpStatus": 503, "grpcStatus": "UNAVAILABLE"}},
            }],
        }),
    );
    let s = status(
        virtual_services(&client)
            .create(&PostParams::default(), &object(body))
            .await,
    );
    assert_invalid(
        &s,
        "VirtualService.networking.istio.io",
        "broken",
        &[
            "spec.hosts: Invalid value: \"string\": spec.hosts in body must be of type array: \"string\"",
            "<nil>: Invalid value: \"\": \"spec.http[0].fault.abort\" must validate one and only one schema (oneOf). Found 2 valid alternatives",
            "spec.http[0].match[0].ignoreUriCase: Invalid value: \"string\": spec.http[0].match[0].ignoreUriCase in body must be of type boolean: \"string\"",
            "spec.http[0].route[0].destination.port.number: Invalid value: \"string\": spec.http[0].route[0].destination.port.number in body must be of type integer: \"string\"",
            "spec.http[0].route[0].destination.host: Required value",
            "spec.http[0].route[0].weight: Invalid value: \"number\": spec.http[0].route[0].weight in body must be of type integer: \"number\"",
            RULES_SKIPPED,
        ],
    );
    assert_eq!(causes(&s).len(), 7);
}

#[tokio::test]
async fn unknown_fields_are_pruned_with_a_warning_or_refused_when_strict() {
    let (cluster, _client) = demo();
    let body = vs(
        "pruned",
        json!({
            "hosts": ["reviews"],
            "foo": 1,
            "http": [{"route": [{"destination": {"host": "reviews", "weight": 5}}], "bar": true, "corsPolicy": {"anything": "kept"}}],
        }),
    );
    let (code, warnings, stored) =
        raw(&cluster, "POST", VS_PATH, "application/json", body.clone()).await;
    assert_eq!(code, 201, "{stored}");
    assert_eq!(
        warnings,
        [
            r#"299 - "unknown field \"spec.foo\"""#,
            r#"299 - "unknown field \"spec.http[0].bar\"""#,
            r#"299 - "unknown field \"spec.http[0].route[0].destination.weight\"""#,
        ]
    );
    assert_eq!(
        stored["spec"],
        json!({"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews"}}], "corsPolicy": {"anything": "kept"}}]})
    );

    // Ignore: pruned, silently.
    let mut again = body.clone();
    again["metadata"]["name"] = json!("ignored");
    let (code, warnings, stored) = raw(
        &cluster,
        "POST",
        &format!("{VS_PATH}?fieldValidation=Ignore"),
        "application/json",
        again,
    )
    .await;
    assert_eq!((code, warnings.len()), (201, 0));
    assert!(stored["spec"].get("foo").is_none());

    // Strict: 400, every unknown field named, nothing stored.
    let mut strict = body.clone();
    strict["metadata"]["name"] = json!("strict");
    let (code, _, status) = raw(
        &cluster,
        "POST",
        &format!("{VS_PATH}?fieldValidation=Strict"),
        "application/json",
        strict,
    )
    .await;
    assert_eq!((code, status["reason"].as_str()), (400, Some("BadRequest")));
    assert_eq!(
        status["message"],
        "strict decoding error: unknown field \"spec.foo\", unknown field \"spec.http[0].bar\", unknown field \"spec.http[0].route[0].destination.weight\""
    );
    assert!(
        cluster
            .get("networking.istio.io", "v1", "virtualservices", NS, "strict")
            .is_none()
    );

    // A merge patch is decoded the same way.
    let (code, warnings, patched) = raw(
        &cluster,
        "PATCH",
        &format!("{VS_PATH}/pruned"),
        "application/merge-patch+json",
        json!({"spec": {"gateways": ["mesh"], "retries": {"attempts": 2}}}),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(warnings, [r#"299 - "unknown field \"spec.retries\"""#]);
    assert_eq!(patched["spec"]["gateways"], json!(["mesh"]));
    assert!(patched["spec"].get("retries").is_none());

    // A bad fieldValidation is refused as kube-apiserver refuses it.
    let (code, _, status) = raw(
        &cluster,
        "POST",
        &format!("{VS_PATH}?fieldValidation=Loud"),
        "application/json",
        body,
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(
        status["message"],
        "CreateOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: \"Loud\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\""
    );
}

#[tokio::test]
async fn status_writes_check_the_status_only_and_keep_unknown_status_fields() {
    let (cluster, _client) = demo();
    let path = format!("{VS_PATH}/reviews/status");
    let mut current = cluster
        .get(
            "networking.istio.io",
            "v1",
            "virtualservices",
            NS,
            "reviews",
        )
        .expect("seeded reviews");
    current["status"] = json!({"observedGeneration": 1, "anything": {"kept": true}, "validationMessages": [{"level": "LOUD", "extra": 1}]});
    let (code, _, s) = raw(&cluster, "PUT", &path, "application/json", current.clone()).await;
    assert_eq!(code, 422, "{s}");
    assert_eq!(
        s["message"],
        format!(
            "VirtualService.networking.istio.io \"reviews\" is invalid: [status.validationMessages[0].level: Unsupported value: \"LOUD\": supported values: \"UNKNOWN\", \"ERROR\", \"WARNING\", \"INFO\", {RULES_SKIPPED}]"
        )
    );
    current["status"]["validationMessages"][0]["level"] = json!("INFO");
    // The spec of a status write is not the write's: a bad one is ignored.
    current["spec"]["hosts"] = json!("not a list");
    let (code, warnings, stored) = raw(&cluster, "PUT", &path, "application/json", current).await;
    assert_eq!(code, 200, "{stored}");
    assert_eq!(
        warnings,
        [r#"299 - "unknown field \"status.validationMessages[0].extra\"""#]
    );
    assert_eq!(
        stored["status"],
        json!({"observedGeneration": 1, "anything": {"kept": true}, "validationMessages": [{"level": "INFO"}]})
    );
    assert!(stored["spec"]["hosts"].is_array());
}

#[tokio::test]
async fn updates_and_patches_are_validated() {
    let (_cluster, client) = demo();
    let vss = virtual_services(&client);
    let mut reviews = vss.get("reviews").await.expect("seeded reviews");
    reviews.data["spec"]["http"][0]["timeout"] = json!("0s");
    let s = status(
        vss.replace("reviews", &PostParams::default(), &reviews)
            .await,
    );
    assert_invalid(
        &s,
        "VirtualService.networking.istio.io",
        "reviews",
        &[
            "spec.http[0].timeout: Invalid value: \"string\": must be a valid duration greater than 1ms",
        ],
    );
    let patch: json_patch::Patch = serde_json::from_value(json!([
        {"op": "replace", "path": "/spec/http/0/route/0/weight", "value": "heavy"}
    ]))
    .expect("json patch");
    let s = status(
        vss.patch(
            "reviews",
            &PatchParams::default(),
            &Patch::<()>::Json(patch),
        )
        .await,
    );
    assert_eq!(s.code, 422);
    assert!(s.message.starts_with(
        "VirtualService.networking.istio.io \"reviews\" is invalid: [spec.http[0].route[0].weight: Invalid value: \"string\""
    ), "{}", s.message);
    let ok = vss
        .patch(
            "reviews",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"http": [{"route": [{"destination": {"host": "reviews"}}], "timeout": "2s"}]}})),
        )
        .await
        .expect("a valid merge patch");
    assert_eq!(ok.data["spec"]["http"][0]["timeout"], "2s");
}

#[tokio::test]
async fn a_dry_run_apply_gives_the_same_422_and_stores_nothing() {
    let (cluster, client) = demo();
    let vss = virtual_services(&client);
    let bad = vs(
        "canary",
        json!({"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews"}}], "timeout": "10us"}]}),
    );
    let created = status(
        vss.create(
            &PostParams {
                dry_run: true,
                ..PostParams::default()
            },
            &object(bad.clone()),
        )
        .await,
    );
    let applied = status(
        vss.patch(
            "canary",
            &PatchParams::apply("meshdeck").dry_run(),
            &Patch::Apply(bad.clone()),
        )
        .await,
    );
    let expected = [
        "spec.http[0].timeout: Invalid value: \"string\": must be a valid duration greater than 1ms",
    ];
    assert_invalid(
        &created,
        "VirtualService.networking.istio.io",
        "canary",
        &expected,
    );
    assert_invalid(
        &applied,
        "VirtualService.networking.istio.io",
        "canary",
        &expected,
    );
    // Over an existing object too (forced: the seed owns `spec.http`).
    let applied = status(
        vss.patch(
            "reviews",
            &PatchParams::apply("meshdeck").force().dry_run(),
            &Patch::Apply(vs("reviews", json!({"http": [{"route": [{"destination": {"host": "reviews"}, "weight": -5}], "timeout": "10us"}]}))),
        )
        .await,
    );
    assert_invalid(
        &applied,
        "VirtualService.networking.istio.io",
        "reviews",
        &expected,
    );
    let names: Vec<String> = vss
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|o| o.metadata.name)
        .collect();
    assert!(!names.contains(&"canary".to_owned()), "{names:?}");

    // A valid dry-run apply answers the object and stores nothing either.
    let mut good = bad;
    good["spec"]["http"][0]["timeout"] = json!("10s");
    let answered = vss
        .patch(
            "canary",
            &PatchParams::apply("meshdeck").dry_run(),
            &Patch::Apply(good),
        )
        .await
        .expect("valid dry run");
    assert_eq!(answered.data["spec"]["http"][0]["timeout"], "10s");
    assert!(
        cluster
            .get("networking.istio.io", "v1", "virtualservices", NS, "canary")
            .is_none()
    );
}

#[tokio::test]
async fn an_apply_with_an_undeclared_field_or_a_wrong_scalar_fails_as_structured_merge_diff_does() {
    let (_cluster, client) = demo();
    let vss = virtual_services(&client);
    let s = status(
        vss.patch(
            "reviews",
            &PatchParams::apply("meshdeck"),
            &Patch::Apply(vs("reviews", json!({"hosts": ["reviews"], "foo": 1}))),
        )
        .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (500, ""));
    assert_eq!(
        s.message,
        "failed to create typed patch object (bookinfo/reviews; networking.istio.io/v1, Kind=VirtualService): .spec.foo: field not declared in schema"
    );
    let s = status(
        vss.patch(
            "reviews",
            &PatchParams::apply("meshdeck"),
            &Patch::Apply(vs("reviews", json!({"http": [{"route": [{"destination": {"host": "reviews"}, "weight": "heavy"}]}]}))),
        )
        .await,
    );
    assert_eq!(
        s.message,
        "failed to create typed patch object (bookinfo/reviews; networking.istio.io/v1, Kind=VirtualService): .spec.http[0].route[0].weight: expected numeric (int or float), got string"
    );
}

#[tokio::test]
async fn optional_crds_are_not_found_until_installed() {
    let (cluster, client) = demo();
    let optional = [
        (
            "security.istio.io",
            "RequestAuthentication",
            "requestauthentications",
        ),
        ("gateway.networking.k8s.io", "HTTPRoute", "httproutes"),
        ("gateway.networking.k8s.io", "GRPCRoute", "grpcroutes"),
    ];
    for (group, kind, plural) in optional {
        let s = status(
            api(&client, group, "v1", kind, plural)
                .list(&ListParams::default())
                .await,
        );
        assert_eq!(s.code, 404, "{plural}");
        let rt = resources::find(group, "v1", plural).expect("known");
        assert!(resources::is_optional(rt));
    }
    let (code, _, _) = raw(
        &cluster,
        "GET",
        "/apis/gateway.networking.k8s.io/v1",
        "application/json",
        Value::Null,
    )
    .await;
    assert_eq!(code, 404);
    for (group, kind, plural) in optional {
        assert!(cluster.install_crd(group, plural));
        let list = api(&client, group, "v1", kind, plural)
            .list(&ListParams::default())
            .await
            .expect("served once installed");
        assert!(list.items.is_empty());
    }
    let (code, _, doc) = raw(
        &cluster,
        "GET",
        "/apis/gateway.networking.k8s.io/v1",
        "application/json",
        Value::Null,
    )
    .await;
    assert_eq!(code, 200);
    let names: Vec<&str> = doc["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "httproutes",
            "httproutes/status",
            "grpcroutes",
            "grpcroutes/status"
        ]
    );
}

#[test]
fn the_demo_seed_passes_the_schemas() {
    let cluster = InMemoryCluster::from_mesh(&scenario::demo());
    let mut checked = 0;
    for rt in resources::RESOURCES
        .iter()
        .filter(|rt| schema::of(rt).is_some())
    {
        for obj in cluster.list(rt.group, rt.version, rt.plural, None) {
            schema::validate(rt, &obj, Part::Main)
                .unwrap_or_else(|e| panic!("{} {}: {e}", rt.kind, obj["metadata"]["name"]));
            checked += 1;
        }
    }
    assert!(checked > 0, "the demo seeds Istio objects");
}
