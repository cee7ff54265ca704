//! Canary rollouts end to end, against a real Prometheus holding a history
//! this test writes (OpenMetrics, backfilled) and the demo's in-memory
//! Kubernetes API with meshdeck's account under exactly the documented
//! RBAC. The rollout's clock is set into that history (`start_at`, and the
//! controller's `tick` at given instants), so each judgement sees data the
//! test knows.
//!
//! The canary, reviews v2, against stable v1 (10/s, no errors; both with
//! every duration in (50, 100] ms): healthy (5/s) until t0+120, quiet
//! (0.1/s: 6 requests a minute) until t0+240, then failing (5/s, a fifth
//! 503). With steps 10, 25, 50, 100 judged every 60 s, at least 20
//! requests to judge, 99 % success, p99 at most 1.5× stable's and two
//! failures to roll back, the test predicts: advance to 25 % at t0+60, to
//! 50 % at t0+120, wait at t0+180 and t0+240, hold at t0+300, roll back to
//! 0 % at t0+360.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use app::types::{
    AuthMode, ErrorBody, Rollout, RolloutAction, RolloutAnalysis, RolloutControl, RolloutList,
    RolloutPhase, RolloutSpec, RolloutStart, RunMode,
};
use http::{Method, StatusCode};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject};
use kube::core::GroupVersionKind;
use meshdeck_server::AppState;
use meshdeck_server::access::{AccessScope, Reach};
use meshdeck_server::auth::{AuthOptions, Authenticator};
use meshdeck_server::cluster::reviews::Identity;
use meshdeck_server::cluster::{BearerToken, Credentials};
use meshdeck_server::config::UpstreamArgs;
use meshdeck_server::demo::{demo_identities, in_memory, install_documented_rbac};
use meshdeck_server::rollouts::{controller, ops};
use meshdeck_server::spa::Spa;
use meshdeck_server::upstream::Upstreams;
use meshdeck_sim::kube::InMemoryCluster;
use meshdeck_sim::kube::seed::{MEMBER_CLUSTER_ROLE, MESHDECK_SA_TOKEN, MESHDECK_SA_USER};
use meshdeck_sim::prometheus::PrometheusServer;
use meshdeck_sim::scenario;
use serde_json::{Value, json};

mod common;
use common::request;

const ALICE: &str = "demo-token-alice";
const BOB: &str = "demo-token-bob";
const LE: [f64; 3] = [50.0, 100.0, 250.0];

/// Requests per second of the canary, and its share of 503s, at `t`
/// seconds after t0.
fn canary_at(t: f64) -> (f64, f64) {
    if t < 120.0 {
        (5.0, 0.0)
    } else if t < 240.0 {
        (0.1, 0.0)
    } else {
        (5.0, 0.2)
    }
}

/// The canary's requests from t0 to t0+t, by answer (ok, 503).
fn canary_counts(t: f64) -> (f64, f64) {
    let (mut ok, mut bad) = (0.0, 0.0);
    let mut s = 0.0;
    while s < t {
        let (rate, errors) = canary_at(s);
        ok += rate * (1.0 - errors);
        bad += rate * errors;
        s += 1.0;
    }
    (ok, bad)
}

fn history(t0: f64, end: f64) -> String {
    let mut out = String::new();
    let labels = |v: &str| {
        format!(
            "reporter=\"destination\",destination_service_namespace=\"bookinfo\",destination_service_name=\"reviews\",destination_version=\"{v}\""
        )
    };
    let times: Vec<f64> = (0..)
        .map(|i| t0 + 15.0 * f64::from(i))
        .take_while(|t| *t <= end)
        .collect();
    out.push_str("# TYPE istio_requests counter\n");
    for t in &times {
        let (ok, bad) = canary_counts(t - t0);
        for (v, ok, bad) in [("v1", 10.0 * (t - t0), 0.0), ("v2", ok, bad)] {
            let l = labels(v);
            writeln!(
                out,
                "istio_requests_total{{{l},response_code=\"200\"}} {ok} {t}"
            )
            .unwrap();
            writeln!(
                out,
                "istio_requests_total{{{l},response_code=\"503\"}} {bad} {t}"
            )
            .unwrap();
        }
    }
    out.push_str("# TYPE istio_request_duration_milliseconds histogram\n");
    for t in &times {
        let (ok, bad) = canary_counts(t - t0);
        for (v, n) in [("v1", 10.0 * (t - t0)), ("v2", ok + bad)] {
            let l = labels(v);
            for (i, le) in LE.iter().enumerate() {
                let c = if i >= 1 { n } else { 0.0 };
                writeln!(
                    out,
                    "istio_request_duration_milliseconds_bucket{{{l},le=\"{le:.1}\"}} {c} {t}"
                )
                .unwrap();
            }
            writeln!(
                out,
                "istio_request_duration_milliseconds_bucket{{{l},le=\"+Inf\"}} {n} {t}"
            )
            .unwrap();
            writeln!(
                out,
                "istio_request_duration_milliseconds_count{{{l}}} {n} {t}"
            )
            .unwrap();
            writeln!(
                out,
                "istio_request_duration_milliseconds_sum{{{l}}} {} {t}",
                n * 75.0
            )
            .unwrap();
        }
    }
    out.push_str("# EOF\n");
    out
}

struct Harness {
    cluster: InMemoryCluster,
    prometheus_url: String,
}

impl Harness {
    /// A console (a "process") over the shared cluster and Prometheus.
    fn state(&self) -> AppState {
        state_for(&self.cluster, Some(&self.prometheus_url))
    }
}

fn state_for(cluster: &InMemoryCluster, prometheus: Option<&str>) -> AppState {
    let mesh = scenario::demo();
    let mut upstreams = Upstreams::from_args(
        &UpstreamArgs {
            prometheus_url: prometheus.map(|u| u.parse().unwrap()),
            ..UpstreamArgs::default()
        },
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    upstreams.kube = Some(in_memory(cluster, MESHDECK_SA_TOKEN));
    let options = AuthOptions {
        demo_identities: demo_identities(&mesh),
        authenticator: Authenticator::Token,
        ..AuthOptions::default()
    };
    let spa = Spa::load(std::path::Path::new("/nonexistent"));
    AppState::with_auth(RunMode::Demo, AuthMode::Demo, upstreams, spa, options)
        .with_scrape_interval(15)
}

fn cluster() -> InMemoryCluster {
    let cluster = InMemoryCluster::from_mesh(&scenario::demo());
    install_documented_rbac(&cluster, &["console", "rollouts"]).unwrap();
    cluster
}

/// Alice, a member of the Shop project (bookinfo), as the API resolves her.
fn alice() -> AccessScope {
    AccessScope {
        user: "alice".into(),
        groups: vec!["shop-devs".into()],
        identity: Identity {
            groups: vec!["shop-devs".into()],
            ..Identity::named("alice")
        },
        credentials: Credentials::Bearer(BearerToken::new(ALICE)),
        reach: Reach::Member {
            namespaces: BTreeSet::from(["bookinfo".to_owned()]),
            graph: true,
            traces: true,
        },
        access_problem: None,
    }
}

fn spec() -> RolloutSpec {
    RolloutSpec {
        stable: "v1".into(),
        canary: "v2".into(),
        steps: vec![10, 25, 50, 100],
        interval_s: 60,
        analysis: RolloutAnalysis {
            min_success_pct: 99.0,
            max_p99_ms: None,
            max_p99_ratio: Some(1.5),
            min_requests: 20,
            failure_limit: 2,
        },
    }
}

fn start_request() -> RolloutStart {
    RolloutStart {
        namespace: "bookinfo".into(),
        service: "reviews".into(),
        spec: spec(),
    }
}

fn vs_api(cluster: &InMemoryCluster) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("networking.istio.io", "v1", "VirtualService"),
        "virtualservices",
    );
    Api::namespaced_with(cluster.client(), "bookinfo", &ar)
}

/// reviews' weights in force, by subset.
async fn weights(cluster: &InMemoryCluster) -> Vec<(String, i64)> {
    let vs = serde_json::to_value(vs_api(cluster).get("reviews").await.unwrap()).unwrap();
    vs.pointer("/spec/http/0/route")
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.pointer("/destination/subset")
                    .and_then(Value::as_str)
                    .unwrap()
                    .to_owned(),
                r.get("weight").and_then(Value::as_i64).unwrap_or(100),
            )
        })
        .filter(|(_, w)| *w > 0)
        .collect()
}

fn pair(stable: i64, canary: i64) -> Vec<(String, i64)> {
    [("v1", stable), ("v2", canary)]
        .into_iter()
        .filter(|(_, w)| *w > 0)
        .map(|(v, w)| (v.to_owned(), w))
        .collect()
}

async fn current(state: &AppState) -> Rollout {
    ops::get(state, &alice(), "bookinfo", "reviews")
        .await
        .unwrap()
}

fn last_action(r: &Rollout) -> Option<RolloutAction> {
    r.events
        .last()
        .and_then(|e| e.decision.as_ref())
        .map(|d| d.action)
}

async fn start_prometheus(tag: &str, t0: f64, end: f64) -> PrometheusServer {
    common::prometheus_with_history(&format!("rollouts-{tag}"), &history(t0, end)).await
}

#[tokio::test]
async fn a_rollout_advances_waits_and_rolls_back_at_the_predicted_steps_across_a_restart() {
    let end = common::history_end();
    let t0 = end - 600.0;
    let prometheus = start_prometheus("steps", t0, end).await;
    let h = Harness {
        cluster: cluster(),
        prometheus_url: prometheus.url(),
    };
    let first = h.state();
    h.cluster.clear_audit();

    // Alice starts it: 10 % to v2, written with her own token.
    let r = ops::start_at(&first, &alice(), &start_request(), t0)
        .await
        .unwrap();
    assert_eq!((r.phase, r.canary_weight), (RolloutPhase::Running, 10));
    assert_eq!(r.started_by, "alice");
    assert!(r.may_control, "{:?}", r.control_problem);
    assert_eq!(weights(&h.cluster).await, pair(90, 10));
    let audit = h.cluster.audit();
    assert!(
        audit.iter().any(|e| e.user == "alice"
            && e.resource == "virtualservices"
            && e.verb == "patch"
            && e.code == 200),
        "the start's weights are written as alice"
    );

    // Not due before its interval.
    assert_eq!(controller::tick(&first, t0 + 59.0).await.unwrap(), 0);
    h.cluster.clear_audit();
    assert_eq!(controller::tick(&first, t0 + 60.0).await.unwrap(), 1);
    let r = current(&first).await;
    assert_eq!(last_action(&r), Some(RolloutAction::Advance));
    assert_eq!((r.progress.step, r.canary_weight), (1, 25));
    let e = r.events.last().unwrap();
    let m = e.measured.as_ref().unwrap();
    // 5/s over 60 s; stable 10/s; p99 both at 50 + 0.99 × 50.
    let close = |got: Option<f64>, want: f64| {
        let got = got.unwrap();
        assert!((got - want).abs() < 1e-6 * want.max(1.0), "{got} vs {want}");
    };
    close(m.canary.requests, 300.0);
    close(m.stable.requests, 600.0);
    close(m.canary.success_pct, 100.0);
    close(m.canary.p99_ms, 99.5);
    assert_eq!(weights(&h.cluster).await, pair(75, 25));
    // The controller wrote with meshdeck's account, after asking whether
    // alice may.
    let audit = h.cluster.audit();
    assert!(audit.iter().any(|e| e.user == MESHDECK_SA_USER
        && e.resource == "virtualservices"
        && e.verb == "patch"
        && e.code == 200));
    assert!(
        audit
            .iter()
            .any(|e| e.resource == "subjectaccessreviews" && e.verb == "create")
    );

    assert_eq!(controller::tick(&first, t0 + 120.0).await.unwrap(), 1);
    let r = current(&first).await;
    assert_eq!((r.progress.step, r.canary_weight), (2, 50));
    assert_eq!(weights(&h.cluster).await, pair(50, 50));

    // A restart: a new console process over the same cluster continues
    // at step 2, from the record in the cluster.
    drop(first);
    let second = h.state();
    assert_eq!(controller::tick(&second, t0 + 180.0).await.unwrap(), 1);
    let r = current(&second).await;
    assert_eq!(last_action(&r), Some(RolloutAction::Wait), "{}", r.status);
    close(
        r.events
            .last()
            .unwrap()
            .measured
            .as_ref()
            .unwrap()
            .canary
            .requests,
        6.0,
    );
    assert_eq!((r.progress.step, r.canary_weight), (2, 50));
    assert_eq!(controller::tick(&second, t0 + 240.0).await.unwrap(), 1);
    assert_eq!(
        last_action(&current(&second).await),
        Some(RolloutAction::Wait)
    );
    assert_eq!(weights(&h.cluster).await, pair(50, 50));

    // Failing: a hold, then the roll back.
    assert_eq!(controller::tick(&second, t0 + 300.0).await.unwrap(), 1);
    let r = current(&second).await;
    assert_eq!(last_action(&r), Some(RolloutAction::Hold));
    assert_eq!(r.progress.failures, 1);
    close(
        r.events
            .last()
            .unwrap()
            .measured
            .as_ref()
            .unwrap()
            .canary
            .success_pct,
        80.0,
    );
    assert_eq!(weights(&h.cluster).await, pair(50, 50));
    assert_eq!(controller::tick(&second, t0 + 360.0).await.unwrap(), 1);
    let r = current(&second).await;
    assert_eq!(last_action(&r), Some(RolloutAction::RollBack));
    assert_eq!((r.phase, r.canary_weight), (RolloutPhase::RolledBack, 0));
    assert_eq!(weights(&h.cluster).await, pair(100, 0));
    // Done: nothing more is judged, and its controls are refused.
    assert_eq!(controller::tick(&second, t0 + 420.0).await.unwrap(), 0);
    let err = ops::control_at(
        &second,
        &alice(),
        "bookinfo",
        "reviews",
        RolloutControl::Resume,
        t0 + 421.0,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("rolled back"), "{err}");
    // Every judgement is on the timeline: start + 6 judgements.
    assert_eq!(r.events.len(), 7);
    prometheus.stop().await;
}

#[tokio::test]
async fn edits_revoked_rights_and_missing_data_pause_and_people_steer() {
    let end = common::history_end();
    let t0 = end - 600.0;
    let prometheus = start_prometheus("steer", t0, end).await;
    let h = Harness {
        cluster: cluster(),
        prometheus_url: prometheus.url(),
    };
    let state = h.state();
    ops::start_at(&state, &alice(), &start_request(), t0)
        .await
        .unwrap();

    // Prometheus unreachable: the judgement pauses, nothing moves, the
    // rollout stays running and says why.
    let blind = state_for(&h.cluster, Some("http://127.0.0.1:9"));
    assert_eq!(controller::tick(&blind, t0 + 60.0).await.unwrap(), 1);
    let r = current(&state).await;
    assert_eq!(last_action(&r), Some(RolloutAction::Pause));
    assert_eq!((r.phase, r.canary_weight), (RolloutPhase::Running, 10));
    assert!(r.status.contains("Prometheus"), "{}", r.status);
    assert!(!r.status.contains("127.0.0.1"), "{}", r.status);
    assert_eq!(weights(&h.cluster).await, pair(90, 10));

    // Someone edits the weights: the next judgement pauses, naming both.
    let (status, body) = request(
        &state,
        Method::POST,
        "/api/services/bookinfo/reviews/wizards",
        ALICE,
        Some(json!({"wizard": "traffic-shifting", "weights": [
            {"version": "v1", "weight": 60}, {"version": "v2", "weight": 40}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(controller::tick(&state, t0 + 120.0).await.unwrap(), 1);
    let r = current(&state).await;
    assert_eq!(r.phase, RolloutPhase::Paused);
    assert!(
        r.status.contains("v1 60 %, v2 40 %") && r.status.contains("v1 90 %, v2 10 %"),
        "{}",
        r.status
    );
    assert_eq!(controller::tick(&state, t0 + 180.0).await.unwrap(), 0);

    // Alice resumes: the rollout's weights again, judged a full interval
    // later (at t0+300, the failing data: a hold).
    let r = ops::control_at(
        &state,
        &alice(),
        "bookinfo",
        "reviews",
        RolloutControl::Resume,
        t0 + 240.0,
    )
    .await
    .unwrap();
    assert_eq!(r.phase, RolloutPhase::Running);
    assert_eq!(weights(&h.cluster).await, pair(90, 10));
    assert_eq!(controller::tick(&state, t0 + 299.0).await.unwrap(), 0);
    assert_eq!(controller::tick(&state, t0 + 300.0).await.unwrap(), 1);
    assert_eq!(
        last_action(&current(&state).await),
        Some(RolloutAction::Hold)
    );

    // Skip: the next round advances without analysis, as meshdeck after
    // asking whether alice may.
    ops::control_at(
        &state,
        &alice(),
        "bookinfo",
        "reviews",
        RolloutControl::Skip,
        t0 + 310.0,
    )
    .await
    .unwrap();
    assert_eq!(controller::tick(&state, t0 + 311.0).await.unwrap(), 1);
    let r = current(&state).await;
    assert_eq!(
        (last_action(&r), r.canary_weight),
        (Some(RolloutAction::Advance), 25)
    );
    assert!(
        r.events
            .last()
            .unwrap()
            .decision
            .as_ref()
            .unwrap()
            .checks
            .is_empty()
    );
    assert_eq!(weights(&h.cluster).await, pair(75, 25));

    // Alice loses her rights in bookinfo: before the next step that would
    // write, the review says no and the rollout pauses.
    let bindings: Api<DynamicObject> = Api::namespaced_with(
        h.cluster.client(),
        "bookinfo",
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("rbac.authorization.k8s.io", "v1", "RoleBinding"),
            "rolebindings",
        ),
    );
    bindings
        .delete(
            &format!("{MEMBER_CLUSTER_ROLE}-alice"),
            &DeleteParams::default(),
        )
        .await
        .unwrap();
    ops::control_at(
        &state,
        &meshdeck_server::access::AccessScope {
            credentials: Credentials::Bearer(BearerToken::new("demo-token-admin")),
            reach: Reach::Owner,
            identity: Identity {
                groups: vec!["system:masters".into()],
                ..Identity::named("admin")
            },
            user: "admin".into(),
            groups: vec!["system:masters".into()],
            ..alice()
        },
        "bookinfo",
        "reviews",
        RolloutControl::Skip,
        t0 + 320.0,
    )
    .await
    .unwrap();
    assert_eq!(controller::tick(&state, t0 + 321.0).await.unwrap(), 1);
    let r = current_as_admin(&state).await;
    assert_eq!(r.phase, RolloutPhase::Paused);
    assert!(
        r.status.contains("alice may no longer patch"),
        "{}",
        r.status
    );
    assert_eq!(weights(&h.cluster).await, pair(75, 25));
    prometheus.stop().await;
}

async fn current_as_admin(state: &AppState) -> Rollout {
    let (status, body) = request(
        state,
        Method::GET,
        "/api/rollouts/bookinfo/reviews",
        "demo-token-admin",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).unwrap()
}

/// `POST /api/rollouts/bookinfo/reviews/{action}` as the holder of `token`.
async fn act(state: &AppState, action: &str, token: &str) -> (StatusCode, Value) {
    let uri = format!("/api/rollouts/bookinfo/reviews/{action}");
    request(state, Method::POST, &uri, token, Some(json!({}))).await
}

fn message(body: &Value) -> String {
    serde_json::from_value::<ErrorBody>(body.clone())
        .map(|b| b.error.message)
        .unwrap_or_else(|_| body.to_string())
}

#[tokio::test]
async fn the_rest_api_checks_input_and_scopes_by_namespace() {
    let cluster = cluster();
    let state = state_for(&cluster, None);
    let post = |body: Value, token: &'static str| {
        let state = state.clone();
        async move { request(&state, Method::POST, "/api/rollouts", token, Some(body)).await }
    };

    // Every problem at once, 422.
    let (status, body) = post(
        json!({"namespace": "bookinfo", "service": "reviews", "spec": {
            "stable": "v1", "canary": "v9", "steps": [50, 20, 120], "interval_s": 5,
            "analysis": {"min_success_pct": 101.0, "max_p99_ratio": 0.5, "min_requests": 10, "failure_limit": 0}}}),
        ALICE,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let m = message(&body);
    for part in [
        "canary: no workload of the service has version \"v9\" (versions: v1, v2, v3)",
        "steps[1]: 20 does not increase on the step before (50)",
        "steps[2]: 120 is not a weight from 1 to 100",
        "interval_s: 5 s is shorter than Prometheus' scrape interval (15 s)",
        "analysis.min_success_pct: 101 is not a percentage from 0 to 100",
        "analysis.max_p99_ratio: 0.5 is not a ratio",
        "analysis.failure_limit: 0 is not a count from 1 to 100",
    ] {
        assert!(m.contains(part), "{part:?} not in {m}");
    }
    // A body of the wrong shape: 422 naming the field; bad JSON: 400.
    let (status, body) = post(
        json!({"namespace": "bookinfo", "service": "reviews"}),
        ALICE,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = request(&state, Method::POST, "/api/rollouts", ALICE, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A TCP service cannot be judged.
    let mut tcp = serde_json::to_value(start_request()).unwrap();
    tcp["service"] = json!("mongodb");
    let (status, body) = post(tcp, ALICE).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(message(&body).contains("TCP service"), "{body}");
    // Bob may not see bookinfo: 403 before anything is read.
    let (status, body) = post(serde_json::to_value(start_request()).unwrap(), BOB).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // Alice starts one (201); a second on the same service is a 422.
    let (status, body) = post(serde_json::to_value(start_request()).unwrap(), ALICE).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = post(serde_json::to_value(start_request()).unwrap(), ALICE).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(message(&body).contains("already running"), "{body}");

    // Members see the rollouts of their namespaces only.
    let list = |token: &'static str| {
        let state = state.clone();
        async move {
            let (status, body) = request(&state, Method::GET, "/api/rollouts", token, None).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            serde_json::from_value::<RolloutList>(body).unwrap()
        }
    };
    assert_eq!(list(ALICE).await.rollouts.len(), 1);
    let bobs = list(BOB).await;
    assert!(bobs.rollouts.is_empty());
    // The demo's scenarios, as far as each may see.
    assert_eq!(
        bobs.scenarios
            .iter()
            .map(|s| s.start.service.as_str())
            .collect::<Vec<_>>(),
        ["payments-api"]
    );
    let (status, _) = request(
        &state,
        Method::GET,
        "/api/rollouts/bookinfo/reviews",
        BOB,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = act(&state, "pause", BOB).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = request(
        &state,
        Method::GET,
        "/api/rollouts/bookinfo/details",
        ALICE,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = act(&state, "explode", ALICE).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Pause, then a second pause is a 409; abort sends v2 back to 0 %.
    let (status, body) = act(&state, "pause", ALICE).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = act(&state, "pause", ALICE).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = act(&state, "abort", ALICE).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let r: Rollout = serde_json::from_value(body).unwrap();
    assert_eq!((r.phase, r.canary_weight), (RolloutPhase::Aborted, 0));
    assert_eq!(weights(&cluster).await, pair(100, 0));
    // Over: a new rollout may start on the service.
    let (status, body) = post(serde_json::to_value(start_request()).unwrap(), ALICE).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
