//! Identity and roles through `router()`: a role × endpoint matrix against
//! the in-memory cluster (real TokenReview and RBAC-evaluating
//! SubjectAccessReview), caching, and the failure answers. Expected
//! namespaces and projects come from the demo scenario's definition.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::types::{AuthMode, ErrorBody, ErrorCode, Me, Role, RunMode, Status};
use axum::body::Body;
use http::{Method, Request, StatusCode, header};
use meshdeck_server::auth::AuthOptions;
use meshdeck_server::cluster::Cluster;
use meshdeck_server::demo::demo_identities;
use meshdeck_server::spa::Spa;
use meshdeck_server::upstream::Upstreams;
use meshdeck_server::{AppState, router};
use meshdeck_sim::kube::seed::{INGRESS_NGINX_NAMESPACE, MESHDECK_NAMESPACE};
use meshdeck_sim::kube::{ADMIN_TOKEN, InMemoryCluster};
use meshdeck_sim::model::{DemoRole, Mesh};
use meshdeck_sim::scenario;

mod common;

/// Requests the API server received, by path.
#[derive(Clone, Default)]
struct Calls(Arc<Mutex<BTreeMap<String, u64>>>);

impl Calls {
    fn record(&self, path: &str) {
        *self.0.lock().unwrap().entry(path.to_owned()).or_default() += 1;
    }

    fn count(&self, suffix: &str) -> u64 {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(path, _)| path.ends_with(suffix))
            .map(|(_, n)| n)
            .sum()
    }

    fn token_reviews(&self) -> u64 {
        self.count("/tokenreviews")
    }

    fn access_reviews(&self) -> u64 {
        self.count("/subjectaccessreviews")
    }
}

/// The demo cluster reached by meshdeck as its administrator, through
/// clients that count what they ask.
fn counted_cluster(cluster: &InMemoryCluster) -> (Cluster, Calls) {
    let calls = Calls::default();
    let recorder = calls.clone();
    let router = cluster.router();
    let mut own = http::HeaderMap::new();
    own.insert(
        header::AUTHORIZATION,
        format!("Bearer {ADMIN_TOKEN}").parse().unwrap(),
    );
    let connect = move |headers: http::HeaderMap| {
        let recorder = recorder.clone();
        let service = tower::ServiceBuilder::new()
            .map_request(move |mut req: http::Request<kube::client::Body>| {
                recorder.record(req.uri().path());
                req.headers_mut().extend(headers.clone());
                req
            })
            .service(router.clone());
        kube::Client::new(service, "default")
    };
    (Cluster::in_process(own, connect), calls)
}

struct Harness {
    mesh: Mesh,
    cluster: InMemoryCluster,
    state: AppState,
    calls: Calls,
}

fn harness(auth_mode: AuthMode, options: AuthOptions) -> Harness {
    let mesh = scenario::demo();
    let cluster = InMemoryCluster::from_mesh(&mesh);
    let (kube, calls) = counted_cluster(&cluster);
    let upstreams = Upstreams {
        kube: Some(kube),
        ..Upstreams::default()
    };
    let mode = match auth_mode {
        AuthMode::Demo => RunMode::Demo,
        AuthMode::Token | AuthMode::Proxy => RunMode::Serve,
    };
    let spa = Spa::load(std::path::Path::new("/nonexistent"));
    let state = AppState::with_auth(mode, auth_mode, upstreams, spa, options);
    Harness {
        mesh,
        cluster,
        state,
        calls,
    }
}

fn token_mode() -> Harness {
    harness(AuthMode::Token, AuthOptions::default())
}

async fn get(state: &AppState, uri: &str, token: Option<&str>) -> (StatusCode, Vec<u8>) {
    let request = common::build(Method::GET, uri, token, None);
    let (status, headers, body) = common::exchange(router(state.clone()), request).await;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        content_type.starts_with("application/json"),
        "{uri}: {content_type}"
    );
    (status, body)
}

fn error_of(body: &[u8]) -> ErrorBody {
    serde_json::from_slice(body).expect("JSON error body")
}

/// The namespaces a demo user may see, from the scenario: owners every
/// namespace of the mesh plus the two the cluster seed adds; members the
/// namespaces of their projects.
fn expected_namespaces(mesh: &Mesh, user: &str) -> BTreeSet<String> {
    let user = mesh.users.iter().find(|u| u.name == user).unwrap();
    match &user.role {
        DemoRole::Owner => mesh
            .namespaces
            .iter()
            .map(|ns| ns.name.clone())
            .chain([
                MESHDECK_NAMESPACE.to_owned(),
                INGRESS_NGINX_NAMESPACE.to_owned(),
            ])
            .collect(),
        DemoRole::Member(projects) => mesh
            .namespaces
            .iter()
            .filter(|ns| ns.project.is_some_and(|p| projects.contains(&p)))
            .map(|ns| ns.name.clone())
            .collect(),
    }
}

fn token_of(mesh: &Mesh, user: &str) -> String {
    mesh.users
        .iter()
        .find(|u| u.name == user)
        .unwrap()
        .token
        .clone()
}

/// Who calls: a demo user by name, nobody, or a token no one issued.
#[derive(Clone, Copy, Debug)]
enum Caller {
    User(&'static str),
    NoToken,
    BadToken,
}

const CALLERS: [Caller; 5] = [
    Caller::User("admin"),
    Caller::User("alice"),
    Caller::User("bob"),
    Caller::NoToken,
    Caller::BadToken,
];

/// Every endpoint that exists, and whether it needs a signed-in caller.
const ENDPOINTS: [(&str, bool); 3] = [
    ("/api/health", false),
    ("/api/status", false),
    ("/api/me", true),
];

#[tokio::test]
async fn role_by_endpoint_matrix() {
    let h = token_mode();
    let mut checked = 0;
    for caller in CALLERS {
        let token = match caller {
            Caller::User(name) => Some(token_of(&h.mesh, name)),
            Caller::NoToken => None,
            Caller::BadToken => Some("not-a-token-anyone-issued".to_owned()),
        };
        for (path, needs_sign_in) in ENDPOINTS {
            let (status, body) = get(&h.state, path, token.as_deref()).await;
            let allowed = !needs_sign_in || matches!(caller, Caller::User(_));
            if allowed {
                assert_eq!(status, StatusCode::OK, "{caller:?} {path}");
            } else {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{caller:?} {path}");
                let err = error_of(&body);
                assert_eq!(err.error.code, ErrorCode::Unauthenticated);
                assert!(
                    !err.error.message.contains("not-a-token"),
                    "echoed the token"
                );
            }
            if let (Caller::User(name), "/api/me") = (caller, path) {
                let me: Me = serde_json::from_slice(&body).unwrap();
                let seen: BTreeSet<String> = me.namespaces.iter().map(|n| n.name.clone()).collect();
                assert_eq!(seen, expected_namespaces(&h.mesh, name), "{name}");
                assert_eq!(me.user, name);
                assert_eq!(me.auth_mode, AuthMode::Token);
                assert!(me.demo_identities.is_empty());
            }
            checked += 1;
        }
    }
    assert_eq!(checked, CALLERS.len() * ENDPOINTS.len());
}

#[tokio::test]
async fn each_identity_sees_exactly_its_namespaces_and_features() {
    let h = token_mode();
    let me = |body: Vec<u8>| serde_json::from_slice::<Me>(&body).unwrap();

    let (_, body) = get(&h.state, "/api/me", Some("demo-token-alice")).await;
    let alice = me(body);
    assert_eq!(alice.role, Role::Member);
    assert!(!alice.all_namespaces);
    assert_eq!(alice.groups, ["shop-devs", "system:authenticated"]);
    assert_eq!(names(&alice), ["bookinfo"]);
    assert_eq!(alice.projects.len(), 1);
    assert_eq!(alice.projects[0].id, "p-shop");
    assert_eq!(alice.projects[0].display_name, "Shop");
    assert_eq!(alice.projects[0].namespaces, ["bookinfo"]);
    assert!(alice.features.graph && alice.features.traces);
    assert!(!alice.features.prometheus_console && !alice.features.settings);

    let (_, body) = get(&h.state, "/api/me", Some("demo-token-bob")).await;
    let bob = me(body);
    assert_eq!(bob.role, Role::Member);
    assert_eq!(names(&bob), ["legacy", "payments"]);
    assert_eq!(bob.projects.len(), 1);
    assert_eq!(bob.projects[0].id, "p-payments");
    assert_eq!(bob.projects[0].display_name, "Payments");
    assert_eq!(bob.projects[0].namespaces, ["legacy", "payments"]);
    assert!(bob.namespaces.iter().all(|n| n.project == "p-payments"));

    let (_, body) = get(&h.state, "/api/me", Some("demo-token-admin")).await;
    let admin = me(body);
    assert_eq!(admin.role, Role::Owner);
    assert!(admin.all_namespaces);
    assert!(admin.features.prometheus_console && admin.features.settings);
    // Every scenario project, plus one project per namespace without a key.
    let mut expected_projects: Vec<String> = h.mesh.projects.iter().map(|p| p.id.clone()).collect();
    expected_projects.extend([
        MESHDECK_NAMESPACE.to_owned(),
        INGRESS_NGINX_NAMESPACE.to_owned(),
    ]);
    expected_projects.sort();
    let mut projects: Vec<String> = admin.projects.iter().map(|p| p.id.clone()).collect();
    projects.sort();
    assert_eq!(projects, expected_projects);
    for project in &h.mesh.projects {
        let shown = admin.projects.iter().find(|p| p.id == project.id).unwrap();
        assert_eq!(shown.display_name, project.display_name);
    }
}

fn names(me: &Me) -> Vec<&str> {
    me.namespaces.iter().map(|n| n.name.as_str()).collect()
}

#[tokio::test]
async fn a_user_without_any_permission_sees_nothing() {
    let h = token_mode();
    h.cluster
        .add_token("token-carol", "carol", &["visitors".to_owned()]);
    let (status, body) = get(&h.state, "/api/me", Some("token-carol")).await;
    assert_eq!(status, StatusCode::OK);
    let carol: Me = serde_json::from_slice(&body).unwrap();
    assert_eq!(carol.role, Role::Member);
    assert!(carol.namespaces.is_empty() && carol.projects.is_empty());
    assert!(carol.links.is_empty());
}

#[tokio::test]
async fn a_second_request_within_the_ttl_asks_the_cluster_nothing() {
    let h = token_mode();
    let token = token_of(&h.mesh, "bob");
    let (status, _) = get(&h.state, "/api/me", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    let namespaces = expected_namespaces(&h.mesh, "admin").len() as u64;
    // One TokenReview; the owner check plus one review per namespace.
    assert_eq!(h.calls.token_reviews(), 1);
    assert_eq!(h.calls.access_reviews(), 1 + namespaces);
    assert_eq!(h.state.auth().stats().token_reviews, 1);

    let (status, _) = get(&h.state, "/api/me", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h.calls.token_reviews(), 1);
    assert_eq!(h.calls.access_reviews(), 1 + namespaces);
    assert_eq!(h.calls.count("/namespaces"), 1);

    // Another user needs their own review; bob's stays cached.
    let (status, _) = get(&h.state, "/api/me", Some("demo-token-alice")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h.calls.token_reviews(), 2);
    assert_eq!(h.state.auth().stats().token_reviews, 2);
}

#[tokio::test(start_paused = true)]
async fn answers_expire_after_the_ttl() {
    let h = harness(
        AuthMode::Token,
        AuthOptions {
            cache_ttl: Duration::from_millis(200),
            ..AuthOptions::default()
        },
    );
    get(&h.state, "/api/me", Some("demo-token-admin")).await;
    get(&h.state, "/api/me", Some("demo-token-admin")).await;
    assert_eq!(h.calls.token_reviews(), 1);
    // The test's clock, not the machine's: no sleeping.
    tokio::time::advance(Duration::from_millis(300)).await;
    get(&h.state, "/api/me", Some("demo-token-admin")).await;
    assert_eq!(h.calls.token_reviews(), 2);
}

#[tokio::test]
async fn rejected_tokens_are_asked_again() {
    let h = token_mode();
    for _ in 0..2 {
        let (status, _) = get(&h.state, "/api/me", Some("nope")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(h.calls.token_reviews(), 2);
    // No role checks for someone who is nobody.
    assert_eq!(h.calls.access_reviews(), 0);
}

#[tokio::test]
async fn malformed_authorization_headers_are_401() {
    let h = token_mode();
    for value in [
        "Basic YWRtaW46YWRtaW4=",
        "Bearer",
        "Bearer    ",
        "demo-token-admin",
    ] {
        let request = Request::builder()
            .uri("/api/me")
            .header(header::AUTHORIZATION, value)
            .body(Body::empty())
            .unwrap();
        let (status, _) = common::send_bytes(&h.state, request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{value}");
    }
    assert_eq!(h.calls.token_reviews(), 0);
}

#[tokio::test]
async fn demo_mode_runs_the_same_checks_and_offers_the_identities() {
    let h = harness(
        AuthMode::Demo,
        AuthOptions {
            demo_identities: demo_identities(&scenario::demo()),
            ..AuthOptions::default()
        },
    );
    // No token: 401, as in token mode.
    let (status, _) = get(&h.state, "/api/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The public status lists the identities, owner first.
    let (status, body) = get(&h.state, "/api/status", None).await;
    assert_eq!(status, StatusCode::OK);
    let s: Status = serde_json::from_slice(&body).unwrap();
    assert_eq!(s.auth_mode, AuthMode::Demo);
    let offered: Vec<&str> = s.demo_identities.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(offered, ["admin", "alice", "bob"]);
    // Each identity's token goes through TokenReview and RBAC like any other.
    for identity in &s.demo_identities {
        let (status, body) = get(&h.state, "/api/me", Some(&identity.token)).await;
        assert_eq!(status, StatusCode::OK);
        let me: Me = serde_json::from_slice(&body).unwrap();
        assert_eq!(me.user, identity.name);
        assert_eq!(me.role, identity.role);
        assert_eq!(me.demo_identities, s.demo_identities);
        let seen: BTreeSet<String> = me.namespaces.iter().map(|n| n.name.clone()).collect();
        assert_eq!(seen, expected_namespaces(&h.mesh, &identity.name));
    }
    assert_eq!(h.calls.token_reviews(), 3);
}

#[tokio::test]
async fn token_mode_status_offers_no_identities() {
    let h = token_mode();
    let (_, body) = get(&h.state, "/api/status", None).await;
    let raw: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(raw.get("demo_identities").is_none());
}

#[tokio::test]
async fn an_unreachable_cluster_is_a_503_naming_kubernetes() {
    let broken = tower::service_fn(|_req: http::Request<kube::client::Body>| async {
        Err::<http::Response<Body>, _>(std::io::Error::other("connection refused"))
    });
    let upstreams = Upstreams {
        kube: Some(Cluster::in_process(http::HeaderMap::new(), move |_| {
            kube::Client::new(broken, "default")
        })),
        ..Upstreams::default()
    };
    let spa = Spa::load(std::path::Path::new("/nonexistent"));
    let state = AppState::new(RunMode::Serve, AuthMode::Token, upstreams, spa);
    let (status, body) = get(&state, "/api/me", Some("demo-token-admin")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let err = error_of(&body);
    assert_eq!(err.error.code, ErrorCode::UpstreamUnavailable);
    assert!(
        err.error.message.starts_with("Kubernetes"),
        "{}",
        err.error.message
    );
    // The overview keeps working without a token.
    let (status, _) = get(&state, "/api/status", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn without_a_cluster_signed_in_calls_are_503_and_anonymous_ones_401() {
    let spa = Spa::load(std::path::Path::new("/nonexistent"));
    let state = AppState::new(RunMode::Serve, AuthMode::Token, Upstreams::default(), spa);
    let (status, _) = get(&state, "/api/me", Some("anything")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _) = get(&state, "/api/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// A namespace in the path is checked before anything else of the
/// request: a member gets 403 for one they may not see (a malformed name
/// or body included, so nothing tells them what exists), an owner 400 for
/// a name no namespace can have.
#[tokio::test]
async fn a_paths_namespace_is_refused_before_the_rest_of_the_request() {
    let h = token_mode();
    let routes: [(Method, &str, Option<&str>); 4] = [
        (
            Method::POST,
            "/api/namespaces/{ns}/injection",
            Some("{not json"),
        ),
        (
            Method::POST,
            "/api/namespaces/{ns}/workloads/deployments/web/injection",
            Some("{not json"),
        ),
        (Method::GET, "/api/services/{ns}/web/traffic", None),
        (
            Method::GET,
            "/api/istio/config/{ns}/virtualservices/web",
            None,
        ),
    ];
    for (method, path, body) in routes {
        for (token, ns, status) in [
            ("demo-token-alice", "payments", StatusCode::FORBIDDEN),
            ("demo-token-alice", "Bad_NS", StatusCode::FORBIDDEN),
            ("demo-token-admin", "Bad_NS", StatusCode::BAD_REQUEST),
        ] {
            let uri = path.replace("{ns}", ns);
            let mut request = Request::builder()
                .method(method.clone())
                .uri(&uri)
                .header(header::AUTHORIZATION, format!("Bearer {token}"));
            if body.is_some() {
                request = request.header(header::CONTENT_TYPE, "application/json");
            }
            let request = request
                .body(body.map_or_else(Body::empty, Body::from))
                .unwrap();
            let (got, answer) = common::send(&h.state, request).await;
            assert_eq!(got, status, "{method} {uri} as {token}: {answer}");
            let message = answer["error"]["message"].as_str().unwrap_or_default();
            if status == StatusCode::FORBIDDEN {
                assert!(
                    message.contains(&format!("may not see namespace {ns:?}")),
                    "{method} {uri}: {message}"
                );
            }
        }
    }
}
