//! Hostile input and upstream faults, through `router()`: credentials in
//! tool URLs never reach a browser, `/api/status` probes at most once per
//! few seconds however often it is asked, bad input is the caller's 400
//! (not an outage), and names never reach a Kubernetes request path
//! unchecked.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use app::types::{AuthMode, Me, RunMode, Status};
use axum::body::Body;
use http::{Method, Request, StatusCode};
use meshdeck_server::AppState;
use meshdeck_server::config::UpstreamArgs;
use meshdeck_server::demo::in_memory;
use meshdeck_server::spa::Spa;
use meshdeck_server::upstream::Upstreams;
use meshdeck_sim::kube::{ADMIN_TOKEN, InMemoryCluster};
use meshdeck_sim::scenario;
use serde_json::{Value, json};

mod common;
use common::{request, send};

const ADMIN: &str = "demo-token-admin";
const ALICE: &str = "demo-token-alice";

/// Console state with `args` for the upstreams and the demo cluster.
fn state_with(args: &UpstreamArgs) -> (AppState, InMemoryCluster) {
    let cluster = InMemoryCluster::from_mesh(&scenario::demo());
    let mut upstreams = Upstreams::from_args(args, Duration::from_millis(500)).unwrap();
    upstreams.kube = Some(in_memory(&cluster, ADMIN_TOKEN));
    let spa = Spa::load(std::path::Path::new("/nonexistent"));
    (
        AppState::new(RunMode::Demo, AuthMode::Demo, upstreams, spa),
        cluster,
    )
}

async fn status(state: &AppState) -> (StatusCode, Value) {
    send(
        state,
        Request::get("/api/status").body(Body::empty()).unwrap(),
    )
    .await
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn credentials_in_tool_urls_reach_no_browser() {
    let port = closed_port();
    let url = |user: &str| {
        format!("http://{user}:s3cr3t-{user}@127.0.0.1:{port}/")
            .parse()
            .ok()
    };
    let args = UpstreamArgs {
        prometheus_url: url("promuser"),
        jaeger_url: url("jaegeruser"),
        grafana_url: url("grafanauser"),
        kiali_url: url("kialiuser"),
        ..UpstreamArgs::default()
    };
    let (state, _) = state_with(&args);
    let leaks = |text: &str| {
        [
            "s3cr3t",
            "promuser",
            "jaegeruser",
            "grafanauser",
            "kialiuser",
        ]
        .iter()
        .filter(|secret| text.contains(*secret))
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
    };
    // Everything is down: the public status says so, naming no URL.
    let (code, body) = status(&state).await;
    assert_eq!(code, StatusCode::OK);
    let text = body.to_string();
    assert!(leaks(&text).is_empty(), "{text}");
    assert!(!text.contains(&format!(":{port}")), "{text}");
    let parsed: Status = serde_json::from_value(body).unwrap();
    assert!(
        parsed
            .upstreams
            .iter()
            .skip(1)
            .all(|u| u.reachable == Some(false)),
        "{parsed:?}"
    );
    // Owners get all four links, members Kiali and Jaeger: none with credentials.
    for (token, expected) in [(ADMIN, 4), (ALICE, 2)] {
        let (code, body) = request(&state, Method::GET, "/api/me", token, None).await;
        assert_eq!(code, StatusCode::OK, "{body}");
        let me: Me = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(me.links.len(), expected, "{token}: {:?}", me.links);
        assert!(leaks(&body.to_string()).is_empty(), "{token}: {body}");
        for link in &me.links {
            assert_eq!(link.url, format!("http://127.0.0.1:{port}/"));
        }
    }
    // Tool URLs with credentials cannot be saved for people to open.
    let mut settings = app::types::MeshSettings::default();
    settings.tool_urls.grafana = "https://admin:hunter2@grafana.example.com/".into();
    let (code, body) = request(
        &state,
        Method::PUT,
        "/api/settings",
        ADMIN,
        Some(json!({"settings": settings, "resource_version": null})),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.to_string()
            .contains("tool_urls.grafana: a link people open must not carry")
    );
    assert!(!body.to_string().contains("hunter2"));
}

#[tokio::test]
async fn the_public_status_probes_at_most_once_per_few_seconds() {
    // A Prometheus that counts what it is asked.
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    let app = axum::Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            axum::Json(json!({"status": "success", "data": {"version": "3.0.0"}}))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let args = UpstreamArgs {
        prometheus_url: Some(url.parse().unwrap()),
        ..UpstreamArgs::default()
    };
    let (state, _) = state_with(&args);
    // 50 at once, then 50 one after the other: one probe serves them all.
    let together: Vec<_> = (0..50)
        .map(|_| {
            let state = state.clone();
            tokio::spawn(async move { status(&state).await.0 })
        })
        .collect();
    for call in together {
        assert_eq!(call.await.unwrap(), StatusCode::OK);
    }
    for _ in 0..50 {
        let (code, body) = status(&state).await;
        assert_eq!(code, StatusCode::OK);
        let parsed: Status = serde_json::from_value(body).unwrap();
        assert_eq!(parsed.upstreams[1].reachable, Some(true));
    }
    assert_eq!(asked.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn bad_trace_searches_and_ids_are_the_callers_400() {
    // Jaeger that answers nothing: a 503 would mean we asked it.
    let args = UpstreamArgs {
        jaeger_url: format!("http://127.0.0.1:{}/", closed_port()).parse().ok(),
        ..UpstreamArgs::default()
    };
    let (state, _) = state_with(&args);
    for uri in [
        "/api/traces?service=productpage.bookinfo&range=10000w",
        "/api/traces?service=productpage.bookinfo&start=1&end=1e15",
        "/api/traces/00000000000000000000000000000000",
        &format!("/api/traces/{}", "a".repeat(64)),
        "/api/traces/abc",
        "/api/traces/0123456789abcdefg",
    ] {
        let (code, body) = request(&state, Method::GET, uri, ADMIN, None).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{uri}: {body}");
    }
}

#[tokio::test]
async fn names_that_would_change_a_kubernetes_path_are_400s() {
    let (state, cluster) = state_with(&UpstreamArgs::default());
    cluster.clear_audit();
    for uri in [
        "/api/namespaces/bookinfo/workloads/deployments/reviews-v1%3FdryRun%3DAll/injection",
        "/api/namespaces/bookinfo/workloads/deployments/reviews-v1%2Fstatus/injection",
        "/api/namespaces/..%2F../injection",
        "/api/namespaces/book%00info/injection",
        "/api/namespaces/bookinfo/workloads/deployments/..%2F..%2Fnamespaces/injection",
        "/api/namespaces/BookInfo/injection",
    ] {
        let (code, body) = request(
            &state,
            Method::POST,
            uri,
            ADMIN,
            Some(json!({"enabled": false})),
        )
        .await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{uri}: {body}");
    }
    for uri in [
        "/api/graph?namespaces=book%00info",
        "/api/metrics?scope=workload&namespace=bookinfo&name=reviews-v1%3Fx",
        "/api/metrics?scope=namespace&namespace=..",
    ] {
        let (code, body) = request(&state, Method::GET, uri, ADMIN, None).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{uri}: {body}");
    }
    // Nothing of it reached the API server as a write.
    let writes: Vec<_> = cluster
        .audit()
        .into_iter()
        .filter(|e| matches!(e.verb.as_str(), "patch" | "update" | "create" | "delete"))
        .filter(|e| !e.resource.ends_with("reviews"))
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
}

#[tokio::test]
async fn a_step_longer_than_the_range_is_a_400_not_a_moved_window() {
    let args = UpstreamArgs {
        prometheus_url: format!("http://127.0.0.1:{}/", closed_port()).parse().ok(),
        ..UpstreamArgs::default()
    };
    let (state, _) = state_with(&args);
    for uri in [
        "/api/metrics?range=5m&step=86400",
        "/api/metrics?range=5m&step=1e9",
    ] {
        let (code, body) = request(&state, Method::GET, uri, ADMIN, None).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{uri}: {body}");
    }
}
