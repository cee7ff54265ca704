//! Identity and roles against a real API server. Ignored by default; run
//! with a cluster in `$KUBECONFIG` and a token of some user or service
//! account in `$MESHDECK_TEST_TOKEN`:
//!
//! ```sh
//! export MESHDECK_TEST_TOKEN=$(kubectl create token meshdeck-test -n default)
//! cargo test -p meshdeck --test live_cluster -- --ignored
//! ```
//!
//! The kubeconfig's account plays meshdeck's own: it needs the read-only
//! console's rules (`deploy/rbac/console.yaml`: `create` on
//! `tokenreviews` and `subjectaccessreviews`, `list` on `namespaces`, ...).

use std::time::Duration;

use app::types::{AuthMode, ErrorCode, Me, Role, RunMode};
use http::request::Parts;
use http::{HeaderValue, Method, Request, StatusCode, header};
use meshdeck_server::AppState;
use meshdeck_server::auth::projects::DEFAULT_PROJECT_KEY;
use meshdeck_server::auth::{Auth, AuthOptions};
use meshdeck_server::cluster::reviews::{self as cluster, Attributes};
use meshdeck_server::cluster::{Cluster, Source};
use meshdeck_server::spa::Spa;
use meshdeck_server::upstream::Upstreams;

mod common;

async fn connect() -> Cluster {
    Cluster::connect(Source::Default(None), Duration::from_secs(10))
        .await
        .expect("a usable kubeconfig")
        .expect("KUBECONFIG or ~/.kube/config pointing at a cluster")
}

async fn client() -> kube::Client {
    connect().await.own().clone()
}

fn test_token() -> String {
    std::env::var("MESHDECK_TEST_TOKEN")
        .expect(
            "MESHDECK_TEST_TOKEN: a bearer token the cluster accepts (kubectl create token ...)",
        )
        .trim()
        .to_owned()
}

/// A request carrying `Authorization: Bearer <token>`, as the auth layer sees it.
fn bearer(token: &str) -> Parts {
    let (mut parts, ()) = Request::new(()).into_parts();
    parts.headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    parts
}

#[tokio::test]
#[ignore = "needs cluster"]
async fn token_review_identifies_the_test_token_and_rejects_garbage() {
    let client = client().await;
    let identity = cluster::review_token(&client, &test_token())
        .await
        .expect("TokenReview answered")
        .expect("the test token is accepted");
    assert!(!identity.user.is_empty());
    assert!(
        identity.groups.iter().any(|g| g == "system:authenticated"),
        "{:?}",
        identity.groups
    );
    let rejected = cluster::review_token(&client, "meshdeck-live-test-invalid-token")
        .await
        .expect("TokenReview answered");
    assert_eq!(rejected, None);
}

#[tokio::test]
#[ignore = "needs cluster"]
async fn subject_access_reviews_agree_with_the_resolved_scope() {
    let client = client().await;
    let auth = Auth::new(Some(client.clone()), AuthOptions::default());
    let resolved = auth
        .resolve(&bearer(&test_token()))
        .await
        .expect("resolved");
    let owner = cluster::review_access(&client, &resolved.identity, &Attributes::owner())
        .await
        .expect("SubjectAccessReview answered");
    assert_eq!(owner, resolved.owner);
    let namespaces = auth.namespaces().await.expect("namespaces listed");
    assert!(!namespaces.is_empty());
    if let Some(visible) = &resolved.namespaces {
        for ns in namespaces.iter() {
            let may = cluster::review_access(
                &client,
                &resolved.identity,
                &Attributes::member_of(&ns.name),
            )
            .await
            .expect("SubjectAccessReview answered");
            assert_eq!(may, visible.contains(&ns.name), "{}", ns.name);
        }
    }
    // Within the TTL nothing is asked again.
    let before = auth.stats();
    auth.resolve(&bearer(&test_token()))
        .await
        .expect("resolved");
    assert_eq!(auth.stats(), before);
}

#[tokio::test]
#[ignore = "needs cluster"]
async fn api_me_answers_for_the_test_token() {
    let upstreams = Upstreams {
        kube: Some(connect().await),
        ..Upstreams::default()
    };
    let options = AuthOptions {
        project_key: std::env::var("MESHDECK_PROJECT_KEY")
            .unwrap_or_else(|_| DEFAULT_PROJECT_KEY.to_owned()),
        ..AuthOptions::default()
    };
    let state = AppState::with_auth(
        RunMode::Serve,
        AuthMode::Token,
        upstreams,
        Spa::load(std::path::Path::new("/nonexistent")),
        options,
    );
    let call = |token: Option<String>| {
        let state = state.clone();
        async move {
            let request = common::build(Method::GET, "/api/me", token.as_deref(), None);
            common::send_bytes(&state, request).await
        }
    };
    let (status, body) = call(Some(test_token())).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let me: Me = serde_json::from_slice(&body).unwrap();
    assert_eq!(me.all_namespaces, me.role == Role::Owner);
    let (status, body) = call(Some("meshdeck-live-test-invalid-token".into())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let err: app::types::ErrorBody = serde_json::from_slice(&body).unwrap();
    assert_eq!(err.error.code, ErrorCode::Unauthenticated);
}
