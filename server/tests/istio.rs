//! The Istio config read side: `GET /api/istio/config` and one object,
//! against the demo's in-memory cluster, with meshdeck running as its own
//! service account with exactly the documented RBAC. Each finding code has
//! a test that builds the objects that cause it and derives the expected
//! finding (object, path) from them; a correct configuration next to the
//! broken one must stay clean.

use std::collections::BTreeSet;
use std::sync::Arc;

use app::types::{
    AuthMode, ErrorBody, IstioConfigList, IstioKind, IstioObjectDetail, RunMode, Severity,
    Validation,
};
use http::{Method, StatusCode};
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use meshdeck_server::AppState;
use meshdeck_server::auth::{AuthOptions, Authenticator};
use meshdeck_server::config::UpstreamArgs;
use meshdeck_server::demo::{demo_identities, in_memory, install_documented_rbac};
use meshdeck_server::spa::Spa;
use meshdeck_server::upstream::Upstreams;
use meshdeck_sim::kube::InMemoryCluster;
use meshdeck_sim::kube::seed::MESHDECK_SA_TOKEN;
use meshdeck_sim::scenario;
use serde_json::{Value, json};

mod common;
use common::request;

const ADMIN: &str = "demo-token-admin";
const ALICE: &str = "demo-token-alice";

struct Harness {
    cluster: InMemoryCluster,
    state: AppState,
}

fn harness_with(prometheus: Option<&str>) -> Harness {
    let mesh = scenario::demo();
    let cluster = InMemoryCluster::from_mesh(&mesh);
    install_documented_rbac(&cluster, &["console"]).unwrap();
    let args = UpstreamArgs {
        prometheus_url: prometheus.map(|u| u.parse().unwrap()),
        ..UpstreamArgs::default()
    };
    let mut upstreams = Upstreams::from_args(&args, std::time::Duration::from_secs(10)).unwrap();
    upstreams.kube = Some(in_memory(&cluster, MESHDECK_SA_TOKEN));
    let options = AuthOptions {
        demo_identities: demo_identities(&mesh),
        authenticator: Authenticator::Token,
        ..AuthOptions::default()
    };
    let spa = Spa::load(std::path::Path::new("/nonexistent"));
    let state = AppState::with_auth(RunMode::Demo, AuthMode::Demo, upstreams, spa, options);
    Harness { cluster, state }
}

fn harness() -> Harness {
    harness_with(None)
}

fn api(h: &Harness, api_version: &str, kind: &str, plural: &str, ns: &str) -> Api<DynamicObject> {
    let (group, version) = api_version.split_once('/').unwrap();
    let ar =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    Api::namespaced_with(h.cluster.client(), ns, &ar)
}

fn plural(kind: &str) -> &'static str {
    IstioKind::ALL
        .into_iter()
        .find(|k| k.label() == kind)
        .map(IstioKind::plural)
        .unwrap_or_else(|| panic!("not an Istio kind: {kind}"))
}

/// Server-side applies `object` as the cluster admin, with field manager
/// `manager`, taking over fields the demo's seed owns.
async fn apply_as(h: &Harness, manager: &str, object: Value) {
    let api_version = object["apiVersion"].as_str().unwrap().to_owned();
    let kind = object["kind"].as_str().unwrap().to_owned();
    let ns = object["metadata"]["namespace"].as_str().unwrap().to_owned();
    let name = object["metadata"]["name"].as_str().unwrap().to_owned();
    api(h, &api_version, &kind, plural(&kind), &ns)
        .patch(
            &name,
            &PatchParams::apply(manager).force(),
            &Patch::Apply(&object),
        )
        .await
        .unwrap_or_else(|e| panic!("apply {kind} {ns}/{name}: {e}"));
}

async fn put(h: &Harness, object: Value) {
    apply_as(h, "test", object).await;
}

async fn delete(h: &Harness, kind: &str, ns: &str, name: &str) {
    let group = IstioKind::ALL
        .into_iter()
        .find(|k| k.label() == kind)
        .unwrap()
        .group();
    api(h, &format!("{group}/v1"), kind, plural(kind), ns)
        .delete(name, &Default::default())
        .await
        .unwrap();
}

fn vs(ns: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": name, "namespace": ns}, "spec": spec})
}

fn dr(ns: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
        "metadata": {"name": name, "namespace": ns}, "spec": spec})
}

fn pa(ns: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
        "metadata": {"name": name, "namespace": ns}, "spec": spec})
}

async fn config(h: &Harness, token: &str, query: &str) -> IstioConfigList {
    let (status, body) = request(
        &h.state,
        Method::GET,
        &format!("/api/istio/config{query}"),
        token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).unwrap()
}

/// The findings with `code`, as `(kind, namespace/name, path)`.
fn found(list: &IstioConfigList, code: &str) -> BTreeSet<(IstioKind, String, String)> {
    list.validations
        .iter()
        .filter(|v| v.code == code)
        .map(|v| {
            (
                v.kind,
                format!("{}/{}", v.namespace, v.name),
                v.path.clone(),
            )
        })
        .collect()
}

fn one(list: &IstioConfigList, code: &str) -> Validation {
    let all: Vec<&Validation> = list.validations.iter().filter(|v| v.code == code).collect();
    assert_eq!(all.len(), 1, "{all:#?}");
    all[0].clone()
}

fn set(items: &[(IstioKind, &str, &str)]) -> BTreeSet<(IstioKind, String, String)> {
    items
        .iter()
        .map(|(k, n, p)| (*k, (*n).to_owned(), (*p).to_owned()))
        .collect()
}

use IstioKind::{AuthorizationPolicy, DestinationRule, PeerAuthentication, VirtualService};

#[tokio::test]
async fn the_demo_config_is_listed_by_kind_and_clean() {
    let h = harness();
    let list = config(&h, ADMIN, "").await;
    // The demo seeds a VirtualService and a DestinationRule for each
    // service with more than one version, a ServiceEntry for its external
    // host and PeerAuthentication DISABLE where mTLS is off.
    let mesh = scenario::demo();
    let multi: BTreeSet<String> = mesh
        .services
        .iter()
        .filter(|s| s.backends.len() > 1)
        .map(|s| format!("{}/{}", mesh.namespaces[s.namespace].name, s.name))
        .collect();
    let of = |kind: IstioKind| -> BTreeSet<String> {
        list.objects
            .iter()
            .filter(|o| o.kind == kind)
            .map(|o| format!("{}/{}", o.namespace, o.name))
            .collect()
    };
    assert_eq!(of(VirtualService), multi);
    assert_eq!(of(DestinationRule), multi);
    let plain: BTreeSet<String> = mesh
        .namespaces
        .iter()
        .filter(|n| !n.mtls)
        .map(|n| format!("{}/default", n.name))
        .collect();
    assert_eq!(of(PeerAuthentication), plain);
    assert_eq!(of(IstioKind::ServiceEntry).len(), 1);
    let reviews = list
        .objects
        .iter()
        .find(|o| o.kind == VirtualService && o.name == "reviews")
        .unwrap();
    assert_eq!(reviews.hosts, ["reviews"]);
    assert_eq!(reviews.services.len(), 1);
    assert_eq!(reviews.services[0].name, "reviews");
    assert_eq!((reviews.errors, reviews.warnings), (0, 0));
    // Every kind is listed with whether it is served.
    let kinds: Vec<IstioKind> = list.kinds.iter().map(|k| k.kind).collect();
    assert_eq!(kinds, IstioKind::ALL);
    // Istio's own kinds are served; RequestAuthentication and the Gateway
    // API's routes are CRDs this cluster has not installed: absent.
    for served in &list.kinds {
        let installed = !matches!(
            served.kind,
            IstioKind::RequestAuthentication | IstioKind::HttpRoute | IstioKind::GrpcRoute
        );
        let want = installed.then_some("v1");
        assert_eq!(served.version.as_deref(), want, "{served:?}");
    }
    assert!(list.validations.is_empty(), "{:#?}", list.validations);
    // Without Prometheus, the check that needs traffic says it did not run.
    assert_eq!(list.skipped.len(), 1, "{:?}", list.skipped);
    assert!(list.skipped[0].starts_with("pa.strict-with-plaintext-callers"));
}

#[tokio::test]
async fn a_route_to_a_subset_no_destination_rule_defines() {
    let h = harness();
    // The demo's DestinationRule for reviews defines v1, v2 and v3.
    put(
        &h,
        vs(
            "bookinfo",
            "reviews",
            json!({"hosts": ["reviews"], "http": [
                {"match": [{"headers": {"end-user": {"exact": "jason"}}}],
                 "route": [{"destination": {"host": "reviews", "subset": "v4"}}]},
                {"route": [
                    {"destination": {"host": "reviews", "subset": "v1"}, "weight": 50},
                    {"destination": {"host": "reviews.bookinfo.svc.cluster.local", "subset": "v2"}, "weight": 50}],
                 "mirror": {"host": "reviews", "subset": "canary"}},
            ]}),
        ),
    )
    .await;
    // A host without any DestinationRule: every subset is missing.
    put(
        &h,
        vs(
            "bookinfo",
            "ratings",
            json!({"hosts": ["ratings"], "http": [{"route": [{"destination": {"host": "ratings", "subset": "v1"}}]}]}),
        ),
    )
    .await;
    let list = config(&h, ADMIN, "").await;
    assert_eq!(
        found(&list, "vs.subset-not-found"),
        set(&[
            (
                VirtualService,
                "bookinfo/reviews",
                "spec.http[0].route[0].destination.subset"
            ),
            (
                VirtualService,
                "bookinfo/reviews",
                "spec.http[1].mirror.subset"
            ),
            (
                VirtualService,
                "bookinfo/ratings",
                "spec.http[0].route[0].destination.subset"
            ),
        ])
    );
    let v4 = list
        .validations
        .iter()
        .find(|v| v.name == "reviews" && v.path.contains("route[0]"))
        .unwrap();
    assert_eq!(v4.severity, Severity::Error);
    assert!(v4.message.contains("\"v4\""), "{}", v4.message);
    assert!(
        v4.message
            .contains("DestinationRule bookinfo/reviews defines v1, v2, v3"),
        "{}",
        v4.message
    );
    let reviews = list
        .objects
        .iter()
        .find(|o| o.kind == VirtualService && o.name == "reviews")
        .unwrap();
    assert_eq!(reviews.errors, 2);
}

#[tokio::test]
async fn a_subset_whose_labels_select_no_pod() {
    let h = harness();
    put(
        &h,
        dr(
            "bookinfo",
            "reviews",
            json!({"host": "reviews", "subsets": [
                {"name": "v1", "labels": {"version": "v1"}},
                {"name": "v9", "labels": {"version": "v9"}},
                // Labels of a pod of another service select nothing here.
                {"name": "ratings", "labels": {"app": "ratings"}},
                {"name": "all"},
            ]}),
        ),
    )
    .await;
    let list = config(&h, ADMIN, "").await;
    assert_eq!(
        found(&list, "dr.subset-no-workloads"),
        set(&[
            (
                DestinationRule,
                "bookinfo/reviews",
                "spec.subsets[1].labels"
            ),
            (
                DestinationRule,
                "bookinfo/reviews",
                "spec.subsets[2].labels"
            ),
        ])
    );
    assert!(
        list.validations
            .iter()
            .filter(|v| v.code == "dr.subset-no-workloads")
            .all(|v| v.severity == Severity::Warning)
    );
    // The demo's VirtualService routes to v2 and v3, now undefined.
    assert_eq!(found(&list, "vs.subset-not-found").len(), 2);
}

#[tokio::test]
async fn route_weights_that_do_not_add_up_to_100() {
    let h = harness();
    put(
        &h,
        vs(
            "bookinfo",
            "reviews",
            json!({"hosts": ["reviews"], "http": [
                {"route": [
                    {"destination": {"host": "reviews", "subset": "v1"}, "weight": 90},
                    {"destination": {"host": "reviews", "subset": "v2"}, "weight": 20}]},
                {"route": [
                    {"destination": {"host": "reviews", "subset": "v1"}, "weight": 90},
                    {"destination": {"host": "reviews", "subset": "v2"}, "weight": 10}]},
                {"route": [
                    {"destination": {"host": "reviews", "subset": "v1"}, "weight": 100},
                    {"destination": {"host": "reviews", "subset": "v2"}}]},
                {"route": [{"destination": {"host": "reviews", "subset": "v3"}}]},
            ]}),
        ),
    )
    .await;
    put(
        &h,
        vs(
            "bookinfo",
            "mongodb",
            json!({"hosts": ["mongodb"], "tcp": [{"route": [
                {"destination": {"host": "mongodb"}, "weight": 30},
                {"destination": {"host": "mongodb"}, "weight": 30}]}]}),
        ),
    )
    .await;
    let list = config(&h, ADMIN, "").await;
    // Derived: rule 0 sums to 110, rule 1 to 100, rule 2 to 100 (a missing
    // weight counts 0), rule 3 has one destination; mongodb's sums to 60.
    assert_eq!(
        found(&list, "vs.weights-not-100"),
        set(&[
            (VirtualService, "bookinfo/reviews", "spec.http[0].route"),
            (VirtualService, "bookinfo/mongodb", "spec.tcp[0].route"),
        ])
    );
    let sums: BTreeSet<bool> = list
        .validations
        .iter()
        .filter(|v| v.code == "vs.weights-not-100")
        .map(|v| v.message.contains("add up to 110") || v.message.contains("add up to 60"))
        .collect();
    assert_eq!(sums, BTreeSet::from([true]));
}

#[tokio::test]
async fn hosts_that_are_neither_services_nor_service_entries() {
    let h = harness();
    put(
        &h,
        vs(
            "payments",
            "mixed",
            json!({"hosts": ["ledger", "nosuch", "api.stripe.com", "*.example.com"], "http": [
                {"route": [
                    {"destination": {"host": "ledger"}, "weight": 50},
                    {"destination": {"host": "gone.payments.svc.cluster.local"}, "weight": 50}]},
                {"route": [{"destination": {"host": "api.stripe.com"}}]},
                {"route": [{"destination": {"host": "reviews.bookinfo"}}]},
            ]}),
        ),
    )
    .await;
    // Bound to a gateway only: its hosts are outside names, not checked.
    put(&h, json!({"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
        "metadata": {"name": "public", "namespace": "payments"},
        "spec": {"selector": {"istio": "ingressgateway"},
            "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["pay.example.com"]}]}}))
    .await;
    put(
        &h,
        vs(
            "payments",
            "public",
            json!({"hosts": ["pay.example.com"], "gateways": ["public"],
                "http": [{"route": [{"destination": {"host": "payments-api"}}]}]}),
        ),
    )
    .await;
    let list = config(&h, ADMIN, "").await;
    assert_eq!(
        found(&list, "vs.host-not-found"),
        set(&[(VirtualService, "payments/mixed", "spec.hosts[1]")])
    );
    assert_eq!(
        found(&list, "vs.destination-host-not-found"),
        set(&[(
            VirtualService,
            "payments/mixed",
            "spec.http[0].route[1].destination.host"
        )])
    );
    assert_eq!(one(&list, "vs.host-not-found").severity, Severity::Warning);
    assert_eq!(
        one(&list, "vs.destination-host-not-found").severity,
        Severity::Error
    );
    assert!(list.validations.len() == 2, "{:#?}", list.validations);
}

#[tokio::test]
async fn a_gateway_that_does_not_exist() {
    let h = harness();
    put(&h, json!({"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
        "metadata": {"name": "bookinfo-gateway", "namespace": "bookinfo"},
        "spec": {"selector": {"istio": "ingressgateway"},
            "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}]}}))
    .await;
    put(
        &h,
        vs(
            "bookinfo",
            "front",
            json!({"hosts": ["*"], "gateways": ["bookinfo-gateway", "istio-system/missing", "mesh", "bookinfo/bookinfo-gateway"],
                "http": [{"match": [{"uri": {"prefix": "/"}, "gateways": ["elsewhere"]}],
                    "route": [{"destination": {"host": "productpage"}}]}]}),
        ),
    )
    .await;
    let list = config(&h, ADMIN, "").await;
    assert_eq!(
        found(&list, "vs.gateway-not-found"),
        set(&[
            (VirtualService, "bookinfo/front", "spec.gateways[1]"),
            (
                VirtualService,
                "bookinfo/front",
                "spec.http[0].match[0].gateways[0]"
            ),
        ])
    );
    // The Gateway, its hosts as written.
    let gw = list
        .objects
        .iter()
        .find(|o| o.kind == IstioKind::Gateway)
        .unwrap();
    assert_eq!(gw.hosts, ["*"]);
}

#[tokio::test]
async fn two_destination_rules_for_one_host_in_one_namespace() {
    let h = harness();
    // The demo has bookinfo/reviews for host "reviews"; this one names the
    // same host fully qualified.
    put(
        &h,
        dr(
            "bookinfo",
            "reviews-lb",
            json!({"host": "reviews.bookinfo.svc.cluster.local",
                "trafficPolicy": {"loadBalancer": {"simple": "LEAST_REQUEST"}}}),
        ),
    )
    .await;
    // Same host from another namespace (its own callers' rule), and one
    // with a workload selector: neither counts.
    put(
        &h,
        dr(
            "payments",
            "reviews",
            json!({"host": "reviews.bookinfo.svc.cluster.local"}),
        ),
    )
    .await;
    put(
        &h,
        dr(
            "bookinfo",
            "reviews-for-productpage",
            json!({"host": "reviews", "workloadSelector": {"matchLabels": {"app": "productpage"}}}),
        ),
    )
    .await;
    let list = config(&h, ADMIN, "").await;
    assert_eq!(
        found(&list, "dr.multiple-for-host"),
        set(&[
            (DestinationRule, "bookinfo/reviews", "spec.host"),
            (DestinationRule, "bookinfo/reviews-lb", "spec.host"),
        ])
    );
}

#[tokio::test]
async fn destination_rule_tls_against_the_peer_authentication_in_force() {
    let h = harness();
    // STRICT for reviews v2 only (a workload policy), DISABLE for details.
    put(
        &h,
        pa(
            "bookinfo",
            "reviews-v2",
            json!({"selector": {"matchLabels": {"app": "reviews", "version": "v2"}}, "mtls": {"mode": "STRICT"}}),
        ),
    )
    .await;
    put(
        &h,
        pa(
            "bookinfo",
            "details",
            json!({"selector": {"matchLabels": {"app": "details"}}, "mtls": {"mode": "DISABLE"}}),
        ),
    )
    .await;
    put(
        &h,
        dr(
            "bookinfo",
            "reviews",
            json!({"host": "reviews", "subsets": [
                {"name": "v1", "labels": {"version": "v1"}, "trafficPolicy": {"tls": {"mode": "DISABLE"}}},
                {"name": "v2", "labels": {"version": "v2"}, "trafficPolicy": {"tls": {"mode": "DISABLE"}}},
                {"name": "v3", "labels": {"version": "v3"}}]}),
        ),
    )
    .await;
    put(
        &h,
        dr(
            "bookinfo",
            "details",
            json!({"host": "details", "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}),
        ),
    )
    .await;
    put(
        &h,
        dr(
            "bookinfo",
            "ratings",
            json!({"host": "ratings", "trafficPolicy": {"tls": {"mode": "DISABLE"}}}),
        ),
    )
    .await;
    let list = config(&h, ADMIN, "").await;
    // Derived: only v2 is STRICT (v1's DISABLE is fine); details accepts
    // plaintext only; ratings is PERMISSIVE (no policy).
    assert_eq!(
        found(&list, "dr.tls-contradicts-peer-auth"),
        set(&[
            (
                DestinationRule,
                "bookinfo/reviews",
                "spec.subsets[1].trafficPolicy.tls.mode"
            ),
            (
                DestinationRule,
                "bookinfo/details",
                "spec.trafficPolicy.tls.mode"
            ),
        ])
    );
    // A mesh-wide STRICT policy makes ratings' DISABLE wrong too, but not
    // details' (its workload policy wins) nor the DISABLE namespaces'.
    put(
        &h,
        pa(
            "istio-system",
            "default",
            json!({"mtls": {"mode": "STRICT"}}),
        ),
    )
    .await;
    let list = config(&h, ADMIN, "").await;
    let got = found(&list, "dr.tls-contradicts-peer-auth");
    assert_eq!(got.len(), 4, "{got:#?}");
    assert!(got.contains(&(
        DestinationRule,
        "bookinfo/ratings".into(),
        "spec.trafficPolicy.tls.mode".into()
    )));
    assert!(got.contains(&(
        DestinationRule,
        "bookinfo/reviews".into(),
        "spec.subsets[0].trafficPolicy.tls.mode".into()
    )));
    let ratings = list
        .validations
        .iter()
        .find(|v| v.name == "ratings")
        .unwrap();
    assert!(
        ratings
            .message
            .contains("PeerAuthentication istio-system/default sets STRICT"),
        "{}",
        ratings.message
    );
}

#[tokio::test]
async fn authorization_policies_naming_what_does_not_exist() {
    let h = harness();
    let sa = h
        .cluster
        .list("", "v1", "serviceaccounts", Some("bookinfo"));
    // A service account the demo has, to name correctly.
    let existing = sa
        .iter()
        .map(|a| a["metadata"]["name"].as_str().unwrap().to_owned())
        .find(|n| n != "default")
        .unwrap();
    put(
        &h,
        json!({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
            "metadata": {"name": "ratings", "namespace": "bookinfo"},
            "spec": {"selector": {"matchLabels": {"app": "ratings"}}, "action": "ALLOW",
                "rules": [
                    {"from": [
                        {"source": {"namespaces": ["bookinfo", "nowhere", "prod-*"]}},
                        {"source": {"principals": [
                            format!("cluster.local/ns/bookinfo/sa/{existing}"),
                            "cluster.local/ns/bookinfo/sa/ghost",
                            "cluster.local/ns/atlantis/sa/default",
                            "*"]}}]},
                    {"from": [{"source": {"notNamespaces": ["legacy", "gone"]}}]}]}}),
    )
    .await;
    let list = config(&h, ADMIN, "").await;
    assert_eq!(
        found(&list, "ap.namespace-not-found"),
        set(&[
            (
                AuthorizationPolicy,
                "bookinfo/ratings",
                "spec.rules[0].from[0].source.namespaces[1]"
            ),
            (
                AuthorizationPolicy,
                "bookinfo/ratings",
                "spec.rules[1].from[0].source.notNamespaces[1]"
            ),
        ])
    );
    assert_eq!(
        found(&list, "ap.principal-not-found"),
        set(&[
            (
                AuthorizationPolicy,
                "bookinfo/ratings",
                "spec.rules[0].from[1].source.principals[1]"
            ),
            (
                AuthorizationPolicy,
                "bookinfo/ratings",
                "spec.rules[0].from[1].source.principals[2]"
            ),
        ])
    );
    let ap = &list
        .objects
        .iter()
        .find(|o| o.kind == AuthorizationPolicy)
        .unwrap();
    assert_eq!((ap.errors, ap.warnings), (0, 4));
    assert_eq!(ap.services.len(), 1);
    assert_eq!(ap.services[0].name, "ratings");
}

/// An OpenMetrics history of `istio_requests_total` reported at the
/// destination: `rate` requests a second from outside the mesh to each
/// `(namespace, workload, policy)`, over the last 90 minutes.
fn history(series: &[(&str, &str, &str, f64)]) -> String {
    use std::fmt::Write;
    let end = common::history_end();
    let mut text = String::from("# TYPE istio_requests counter\n");
    let mut t = end - 5400.0;
    while t <= end {
        for (ns, workload, policy, rate) in series {
            let value = rate * (t - (end - 5400.0));
            writeln!(
                text,
                "istio_requests_total{{reporter=\"destination\",source_workload=\"unknown\",source_workload_namespace=\"unknown\",destination_workload=\"{workload}\",destination_workload_namespace=\"{ns}\",connection_security_policy=\"{policy}\",response_code=\"200\"}} {value} {t}"
            )
            .unwrap();
        }
        t += 15.0;
    }
    text.push_str("# EOF\n");
    text
}

#[tokio::test]
async fn strict_mtls_where_callers_outside_the_mesh_arrive_in_plaintext() {
    // productpage receives 0.5 requests a second in plaintext from
    // outside; details only with mTLS.
    let history = history(&[
        ("bookinfo", "productpage-v1", "none", 0.5),
        ("bookinfo", "details-v1", "mutual_tls", 2.0),
    ]);
    let prometheus = Arc::new(common::prometheus_with_history("istio", &history).await);
    let h = harness_with(Some(&prometheus.url()));
    let list1 = config(&h, ADMIN, "").await;
    assert!(list1.skipped.is_empty(), "{:?}", list1.skipped);
    // PERMISSIVE everywhere: nothing to say.
    assert!(found(&list1, "pa.strict-with-plaintext-callers").is_empty());
    put(
        &h,
        pa("bookinfo", "strict", json!({"mtls": {"mode": "STRICT"}})),
    )
    .await;
    let list2 = config(&h, ADMIN, "").await;
    assert_eq!(
        found(&list2, "pa.strict-with-plaintext-callers"),
        set(&[(PeerAuthentication, "bookinfo/strict", "spec.mtls.mode")])
    );
    let v = one(&list2, "pa.strict-with-plaintext-callers");
    assert_eq!(v.severity, Severity::Error);
    // A counter rising 0.5 a second, over the last hour: 1800 requests.
    assert!(
        v.message
            .contains("workload bookinfo/productpage-v1, which received 1800 requests"),
        "{}",
        v.message
    );
    // A workload policy that keeps productpage PERMISSIVE takes it back.
    put(
        &h,
        pa(
            "bookinfo",
            "productpage",
            json!({"selector": {"matchLabels": {"app": "productpage"}}, "mtls": {"mode": "PERMISSIVE"}}),
        ),
    )
    .await;
    let list3 = config(&h, ADMIN, "").await;
    assert!(found(&list3, "pa.strict-with-plaintext-callers").is_empty());
    delete(&h, "PeerAuthentication", "bookinfo", "productpage").await;
    let list4 = config(&h, ADMIN, "").await;
    assert_eq!(found(&list4, "pa.strict-with-plaintext-callers").len(), 1);
}

#[tokio::test]
async fn members_see_their_namespaces_and_no_names_from_others() {
    let h = harness();
    // A route in bookinfo to a subset of a payments host whose rule lives
    // in payments: alice (bookinfo only) sees the finding but not the
    // rule's name.
    put(
        &h,
        vs(
            "bookinfo",
            "to-payments",
            json!({"hosts": ["ledger.payments"], "http": [{"route": [
                {"destination": {"host": "payments-api.payments.svc.cluster.local", "subset": "v7"}}]}]}),
        ),
    )
    .await;
    let admin = config(&h, ADMIN, "").await;
    let alice = config(&h, ALICE, "").await;
    assert!(admin.namespaces.contains(&"payments".to_owned()));
    assert_eq!(alice.namespaces, ["bookinfo"]);
    assert!(alice.objects.iter().all(|o| o.namespace == "bookinfo"));
    let v = one(&alice, "vs.subset-not-found");
    assert!(
        v.message
            .contains("a DestinationRule in a namespace you may not see defines v1, v2"),
        "{}",
        v.message
    );
    let w = one(&admin, "vs.subset-not-found");
    assert!(
        w.message
            .contains("DestinationRule payments/payments-api defines v1, v2"),
        "{}",
        w.message
    );
    // Asking for another namespace, or one object there: 403, as for one
    // that does not exist.
    for uri in [
        "/api/istio/config?namespaces=payments",
        "/api/istio/config?namespaces=bookinfo,payments",
        "/api/istio/config?namespaces=nonexistent",
        "/api/istio/config/payments/destinationrules/payments-api",
        "/api/istio/config/nonexistent/destinationrules/payments-api",
    ] {
        let (status, body) = request(&h.state, Method::GET, uri, ALICE, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}: {body}");
        serde_json::from_value::<ErrorBody>(body).unwrap();
    }
    let only = config(&h, ADMIN, "?namespaces=payments").await;
    assert_eq!(only.namespaces, ["payments"]);
    assert!(only.objects.iter().all(|o| o.namespace == "payments"));
    assert!(only.validations.is_empty());
}

#[tokio::test]
async fn one_object_as_yaml_with_who_owns_which_field() {
    let h = harness();
    // kubectl applies a VirtualService; another manager adds a label.
    apply_as(
        &h,
        "kubectl",
        vs(
            "bookinfo",
            "ratings",
            json!({"hosts": ["ratings"], "http": [{"timeout": "2s", "route": [{"destination": {"host": "ratings"}}]}]}),
        ),
    )
    .await;
    apply_as(
        &h,
        "team-bot",
        json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": "ratings", "namespace": "bookinfo", "labels": {"team": "books"}}}),
    )
    .await;
    let (status, body) = request(
        &h.state,
        Method::GET,
        "/api/istio/config/bookinfo/virtualservices/ratings",
        ALICE,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let detail: IstioObjectDetail = serde_json::from_value(body).unwrap();
    assert_eq!(detail.kind, VirtualService);
    assert!(detail.yaml.contains("timeout: 2s"), "{}", detail.yaml);
    assert!(!detail.yaml.contains("managedFields"), "{}", detail.yaml);
    assert!(detail.object["metadata"].get("managedFields").is_none());
    assert_eq!(detail.object["spec"]["hosts"], json!(["ratings"]));
    let by = |m: &str| {
        detail
            .managers
            .iter()
            .find(|f| f.manager == m)
            .unwrap_or_else(|| panic!("no manager {m}: {:?}", detail.managers))
    };
    assert_eq!(by("kubectl").operation, "Apply");
    assert!(by("kubectl").fields.contains(&".spec.http".to_owned()));
    assert_eq!(by("team-bot").fields, [".metadata.labels.team"]);
    assert!(detail.validations.is_empty());
    // The kind may be written as the plural or the kind.
    let (status, _) = request(
        &h.state,
        Method::GET,
        "/api/istio/config/bookinfo/VirtualService/ratings",
        ALICE,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for (uri, want) in [
        (
            "/api/istio/config/bookinfo/virtualservices/nosuch",
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/istio/config/bookinfo/deployments/reviews-v1",
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/istio/config/bookinfo/virtualservices/Bad_Name",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/istio/config/Bad_NS/virtualservices/x",
            StatusCode::BAD_REQUEST,
        ),
        ("/api/istio/config?color=red", StatusCode::BAD_REQUEST),
    ] {
        let (status, body) = request(&h.state, Method::GET, uri, ADMIN, None).await;
        assert_eq!(status, want, "{uri}: {body}");
        let error: ErrorBody = serde_json::from_value(body).unwrap();
        assert!(!error.error.message.is_empty());
    }
}

/// Gateway API routes are listed where the cluster serves them; an account
/// set up with the RBAC of before (no `list` on them) still gets the rest
/// of the config, without the routes.
#[tokio::test]
async fn gateway_api_routes_are_listed_and_optional_for_meshdecks_rbac() {
    let h = harness();
    for plural in ["httproutes", "grpcroutes"] {
        assert!(h.cluster.install_crd("gateway.networking.k8s.io", plural));
    }
    apply_as(
        &h,
        "kubectl",
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "reviews", "namespace": "bookinfo"},
            "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "reviews", "port": 9080}],
                     "rules": [{"backendRefs": [{"name": "reviews", "port": 9080}]}]}}),
    )
    .await;
    let list = config(&h, ADMIN, "?namespaces=bookinfo").await;
    let served: Vec<(IstioKind, Option<&str>)> = list
        .kinds
        .iter()
        .filter(|k| matches!(k.kind, IstioKind::HttpRoute | IstioKind::GrpcRoute))
        .map(|k| (k.kind, k.version.as_deref()))
        .collect();
    assert_eq!(
        served,
        [
            (IstioKind::HttpRoute, Some("v1")),
            (IstioKind::GrpcRoute, Some("v1"))
        ]
    );
    let route = list
        .objects
        .iter()
        .find(|o| o.kind == IstioKind::HttpRoute)
        .expect("the HTTPRoute");
    assert_eq!(route.name, "reviews");
    let services: Vec<&str> = route.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(services, ["reviews"], "its parent and backend");

    // meshdeck's ClusterRole as documented before the routes were added.
    let mut role = h
        .cluster
        .get(
            "rbac.authorization.k8s.io",
            "v1",
            "clusterroles",
            "",
            "meshdeck-console",
        )
        .expect("the documented console role");
    let rules: Vec<Value> = role["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["apiGroups"][0] != "gateway.networking.k8s.io")
        .cloned()
        .collect();
    role["rules"] = Value::Array(rules);
    let roles: Api<k8s_openapi::api::rbac::v1::ClusterRole> = Api::all(h.cluster.client());
    let role: k8s_openapi::api::rbac::v1::ClusterRole = serde_json::from_value(role).unwrap();
    roles
        .replace("meshdeck-console", &Default::default(), &role)
        .await
        .unwrap();
    let list = config(&h, ADMIN, "?namespaces=bookinfo").await;
    assert!(list.objects.iter().all(|o| o.kind != IstioKind::HttpRoute));
    assert!(
        list.objects
            .iter()
            .any(|o| o.kind == IstioKind::VirtualService)
    );
    assert!(
        list.kinds
            .iter()
            .filter(|k| matches!(k.kind, IstioKind::HttpRoute | IstioKind::GrpcRoute))
            .all(|k| k.version.is_none())
    );
}
