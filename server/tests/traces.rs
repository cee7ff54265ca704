//! `/api/traces` against the simulator's Jaeger query API served over HTTP,
//! in both API generations, with the demo's RBAC from the in-memory cluster.

mod common;
use common::{call as get, get_ok};

use std::sync::Arc;
use std::time::Duration;

use app::types::{
    AuthMode, ErrorBody, ErrorCode, RunMode, TraceDetail, TraceSearch, TraceServices,
};
use axum::body::Body;
use http::{Request, StatusCode};
use meshdeck_server::AppState;
use meshdeck_server::config::{JaegerApiArg, UpstreamArgs};
use meshdeck_server::spa::Spa;
use meshdeck_server::upstream::Upstreams;
use meshdeck_sim::kube::InMemoryCluster;
use meshdeck_sim::scenario;
use meshdeck_sim::traces::TraceStore;
use tower::ServiceExt;

/// The simulator's Jaeger query API (both generations) over a store with
/// the last hour of the demo's traces.
fn jaeger_router() -> axum::Router {
    let mesh = Arc::new(scenario::demo());
    let now = meshdeck_sim::live::now_s();
    let store = TraceStore::new(5000, 1.0);
    store.fill_history(&mesh, now - 3600.0, now, 1.0);
    meshdeck_sim::traces::router(Arc::new(store), mesh)
}

/// Serves `app` on `listener`; returns its URL.
fn serve(listener: tokio::net::TcpListener, app: axum::Router) -> String {
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// Serves the simulator's Jaeger; returns its URL.
async fn jaeger() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve(listener, jaeger_router())
}

fn state(jaeger_url: &str, api: JaegerApiArg) -> AppState {
    state_with_timeout(jaeger_url, api, Duration::from_secs(10))
}

fn state_with_timeout(jaeger_url: &str, api: JaegerApiArg, timeout: Duration) -> AppState {
    let args = UpstreamArgs {
        jaeger_url: Some(jaeger_url.parse().unwrap()),
        jaeger_api: api,
        ..UpstreamArgs::default()
    };
    let mut upstreams = Upstreams::from_args(&args, timeout).unwrap();
    upstreams.kube = Some(meshdeck_server::demo::in_memory(
        &InMemoryCluster::from_mesh(&scenario::demo()),
        meshdeck_sim::kube::ADMIN_TOKEN,
    ));
    AppState::new(
        RunMode::Demo,
        AuthMode::Demo,
        upstreams,
        Spa::load(std::path::Path::new("/nonexistent")),
    )
}

async fn error(state: &AppState, user: &str, uri: &str) -> (StatusCode, ErrorBody) {
    let (status, body) = get(state, user, uri).await;
    (
        status,
        serde_json::from_slice(&body)
            .unwrap_or_else(|_| panic!("{uri}: {}", String::from_utf8_lossy(&body))),
    )
}

#[tokio::test]
async fn search_and_waterfall_in_both_api_generations() {
    let url = jaeger().await;
    for api in [JaegerApiArg::V1, JaegerApiArg::V3, JaegerApiArg::Auto] {
        let state = state(&url, api);
        let services: TraceServices = get_ok(
            &state,
            "admin",
            "/api/traces/services?service=reviews.bookinfo",
        )
        .await;
        for s in [
            "productpage.bookinfo",
            "reviews.bookinfo",
            "ratings.bookinfo",
            "payments-api.payments",
        ] {
            assert!(
                services.services.iter().any(|x| x == s),
                "{api:?}: {s} missing from {:?}",
                services.services
            );
        }
        assert!(!services.operations.is_empty(), "{api:?}");

        // Failed traces through reviews (the demo's reviews-v3 fault).
        let found: TraceSearch = get_ok(
            &state,
            "admin",
            "/api/traces?service=reviews.bookinfo&tags=error%3Dtrue&limit=5",
        )
        .await;
        assert!(
            !found.traces.is_empty() && found.traces.len() <= 5,
            "{api:?}: {}",
            found.traces.len()
        );
        assert!(found.traces.iter().all(|t| t.error_count > 0));
        assert!(
            found
                .traces
                .windows(2)
                .all(|w| w[0].start_us >= w[1].start_us),
            "newest first"
        );

        let id = &found.traces[0].trace_id;
        let trace: TraceDetail = get_ok(&state, "admin", &format!("/api/traces/{id}")).await;
        assert_eq!(trace.spans.len(), found.traces[0].span_count);
        // The root cause fails and has no failing descendant; no failing
        // span lies deeper on an error path (checked here from the spans).
        let cause = trace
            .root_cause
            .clone()
            .expect("a failed trace has a root cause");
        let by_id = |id: &str| trace.spans.iter().find(|s| s.span_id == id).unwrap();
        let descends = |span: &str, ancestor: &str| {
            let mut cur = by_id(span).parent_id.clone();
            while let Some(p) = cur {
                if p == ancestor {
                    return true;
                }
                cur = by_id(&p).parent_id.clone();
            }
            false
        };
        assert!(by_id(&cause).error);
        assert!(
            !trace
                .spans
                .iter()
                .any(|s| s.error && descends(&s.span_id, &cause))
        );
        let leaf_errors: Vec<_> = trace
            .spans
            .iter()
            .filter(|s| {
                s.error
                    && !trace
                        .spans
                        .iter()
                        .any(|o| o.error && descends(&o.span_id, &s.span_id))
            })
            .collect();
        assert!(leaf_errors.iter().all(|s| s.depth <= by_id(&cause).depth));
        // Waterfall order: every span comes after its parent; children nest.
        for (i, s) in trace.spans.iter().enumerate() {
            if let Some(p) = &s.parent_id {
                let pi = trace.spans.iter().position(|x| &x.span_id == p).unwrap();
                assert!(pi < i);
                assert_eq!(s.depth, trace.spans[pi].depth + 1);
            }
        }
    }
}

#[tokio::test]
async fn members_see_their_services_and_redacted_neighbours() {
    let url = jaeger().await;
    let state = state(&url, JaegerApiArg::Auto);
    let services: TraceServices = get_ok(&state, "alice", "/api/traces/services").await;
    assert!(!services.services.is_empty());
    assert!(
        services.services.iter().all(|s| s.ends_with(".bookinfo")),
        "{:?}",
        services.services
    );

    let (status, body) = error(&state, "alice", "/api/traces?service=payments-api.payments").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body.error.code, ErrorCode::Forbidden);

    // productpage calls payments-api: alice sees those spans without details.
    let found: TraceSearch = get_ok(
        &state,
        "alice",
        "/api/traces?service=productpage.bookinfo&limit=100",
    )
    .await;
    let crossing = found
        .traces
        .iter()
        .find(|t| t.services.iter().any(|s| s.ends_with(".payments")))
        .expect("a bookinfo trace that reaches payments");
    let trace: TraceDetail = get_ok(
        &state,
        "alice",
        &format!("/api/traces/{}", crossing.trace_id),
    )
    .await;
    for span in &trace.spans {
        let theirs = span.service.ends_with(".bookinfo");
        assert_eq!(span.redacted, !theirs, "{}", span.service);
        if !theirs {
            assert!(span.tags.is_empty() && span.logs.is_empty());
        }
    }
    let admin: TraceDetail = get_ok(
        &state,
        "admin",
        &format!("/api/traces/{}", crossing.trace_id),
    )
    .await;
    assert!(
        admin
            .spans
            .iter()
            .all(|s| !s.redacted && !s.tags.is_empty())
    );

    // A trace that never touches bookinfo (the legacy batch job calling
    // payments) does not exist for alice.
    let bob: TraceSearch = get_ok(
        &state,
        "bob",
        "/api/traces?service=payments-api.payments&limit=200",
    )
    .await;
    let payments_only = bob
        .traces
        .iter()
        .find(|t| t.services.iter().all(|s| !s.ends_with(".bookinfo")))
        .expect("a trace without bookinfo");
    let (status, _) = error(
        &state,
        "alice",
        &format!("/api/traces/{}", payments_only.trace_id),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_input_and_a_missing_jaeger_are_explained() {
    let url = jaeger().await;
    let state = state(&url, JaegerApiArg::Auto);
    let cases = [
        (
            "/api/traces",
            StatusCode::BAD_REQUEST,
            "service is required",
        ),
        (
            "/api/traces?service=reviews.bookinfo&minDuration=quick",
            StatusCode::BAD_REQUEST,
            "not a duration",
        ),
        (
            "/api/traces?service=reviews.bookinfo&limit=100000",
            StatusCode::BAD_REQUEST,
            "limit must be",
        ),
        (
            "/api/traces/not-hex!",
            StatusCode::BAD_REQUEST,
            "not a trace id",
        ),
    ];
    for (uri, status, words) in cases {
        let (got, body) = error(&state, "admin", uri).await;
        assert_eq!(got, status, "{uri}");
        assert!(
            body.error.message.contains(words),
            "{uri}: {}",
            body.error.message
        );
    }
    // An unknown trace is 404 whichever API generation answers.
    for api in [JaegerApiArg::V1, JaegerApiArg::V3, JaegerApiArg::Auto] {
        let state = self::state(&url, api);
        let (got, body) = error(
            &state,
            "admin",
            "/api/traces/0123456789abcdef0123456789abcdef",
        )
        .await;
        assert_eq!(got, StatusCode::NOT_FOUND, "{api:?}");
        assert_eq!(body.error.code, ErrorCode::NotFound, "{api:?}");
        assert!(
            body.error.message.contains("no trace"),
            "{api:?}: {}",
            body.error.message
        );
    }
    let port = meshdeck_sim::prometheus::free_port().unwrap();
    let down = self::state(&format!("http://127.0.0.1:{port}"), JaegerApiArg::V1);
    let (status, body) = error(&down, "admin", "/api/traces?service=reviews.bookinfo").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body.error.message.starts_with("Jaeger is unavailable"),
        "{}",
        body.error.message
    );
}

/// Sends `body` as JSON with `user`'s demo token.
async fn send(
    state: &AppState,
    user: &str,
    method: http::Method,
    uri: &str,
    body: &serde_json::Value,
) -> (StatusCode, Vec<u8>) {
    let token = format!("demo-token-{user}");
    let request = common::build(method, uri, token.as_str(), Some(body.clone()));
    common::send_bytes(state, request).await
}

#[tokio::test]
async fn members_lose_traces_when_the_owner_closes_them() {
    let url = jaeger().await;
    let state = state(&url, JaegerApiArg::Auto);
    let (status, _) = get(&state, "alice", "/api/traces/services").await;
    assert_eq!(status, StatusCode::OK);

    // The owner sets member access to "owner only" in the mesh settings.
    let doc: serde_json::Value = get_ok(&state, "admin", "/api/settings").await;
    let mut settings = doc["settings"].clone();
    settings["member_access"]["mode"] = serde_json::json!("owner_only");
    let update =
        serde_json::json!({"settings": settings, "resource_version": doc["resource_version"]});
    let (status, body) = send(&state, "admin", http::Method::PUT, "/api/settings", &update).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));

    for uri in [
        "/api/traces/services",
        "/api/traces?service=reviews.bookinfo",
    ] {
        let (status, body) = error(&state, "alice", uri).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}");
        assert_eq!(body.error.code, ErrorCode::Forbidden);
    }
    // The owner still sees them.
    let _: TraceServices = get_ok(&state, "admin", "/api/traces/services").await;
}

/// Whether `trace` has a span of `service` and `operation` lasting between
/// `min_us` and `max_us` (Jaeger's span-level search semantics).
fn has_span(trace: &TraceDetail, service: &str, operation: &str, min_us: i64, max_us: i64) -> bool {
    trace.spans.iter().any(|s| {
        s.service == service
            && s.operation == operation
            && (min_us..=max_us).contains(&s.duration_us)
    })
}

#[tokio::test]
async fn operation_and_duration_filters_hold_in_both_api_generations() {
    let url = jaeger().await;
    let service = "reviews.bookinfo";
    // A fixed two-minute window ending now (the simulator only adds traces
    // after it), small enough for every trace in it to fit the limit.
    let now = meshdeck_sim::live::now_s().floor();
    let window = format!("start={}&end={}", now - 120.0, now);
    for api in [JaegerApiArg::V1, JaegerApiArg::V3] {
        let state = state(&url, api);
        let all: TraceSearch = get_ok(
            &state,
            "admin",
            &format!("/api/traces?service={service}&limit=500&{window}"),
        )
        .await;
        assert!(all.traces.len() > 20, "{api:?}: {}", all.traces.len());
        let mut details = Vec::new();
        for t in &all.traces {
            let d: TraceDetail =
                get_ok(&state, "admin", &format!("/api/traces/{}", t.trace_id)).await;
            details.push(d);
        }
        // The filter values come from the unfiltered answer: the most
        // common operation of the service, and the middle half of its
        // spans' durations.
        let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
        for d in &details {
            for s in d.spans.iter().filter(|s| s.service == service) {
                *counts.entry(s.operation.as_str()).or_default() += 1;
            }
        }
        let operation = counts
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(op, _)| op.to_string())
            .expect("spans of the service");
        let mut durations: Vec<i64> = details
            .iter()
            .flat_map(|d| d.spans.iter())
            .filter(|s| s.service == service && s.operation == operation)
            .map(|s| s.duration_us)
            .collect();
        durations.sort_unstable();
        let (min_us, max_us) = (
            durations[durations.len() / 4],
            durations[durations.len() * 3 / 4],
        );
        assert!(min_us < max_us, "{api:?}: {durations:?}");
        let excluded: Vec<&str> = details
            .iter()
            .filter(|d| !has_span(d, service, &operation, min_us, max_us))
            .map(|d| d.trace_id.as_str())
            .collect();
        assert!(!excluded.is_empty(), "{api:?}: the filter excludes nothing");

        let filtered: TraceSearch = get_ok(
            &state,
            "admin",
            &format!(
                "/api/traces?service={service}&operation={}&minDuration={min_us}us&maxDuration={max_us}us&limit=500&{window}",
                app::format::encode_component(&operation)
            ),
        )
        .await;
        assert!(!filtered.traces.is_empty(), "{api:?}");
        for t in &filtered.traces {
            assert!(
                !excluded.contains(&t.trace_id.as_str()),
                "{api:?}: {}",
                t.trace_id
            );
            let d: TraceDetail =
                get_ok(&state, "admin", &format!("/api/traces/{}", t.trace_id)).await;
            assert!(
                has_span(&d, service, &operation, min_us, max_us),
                "{api:?}: {} has no {operation} span of {min_us}..={max_us}us",
                t.trace_id
            );
        }
        // Below the limit, every unfiltered trace that matches is found.
        assert!(all.traces.len() < 500, "{api:?}: widen the limit");
        assert_eq!(
            filtered.traces.len(),
            details.len() - excluded.len(),
            "{api:?}"
        );
    }
}

/// A TCP server that accepts connections and never answers.
async fn silent_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_jaeger_that_never_answers_is_a_503_within_the_timeout() {
    let url = silent_server().await;
    for api in [JaegerApiArg::V1, JaegerApiArg::V3, JaegerApiArg::Auto] {
        let state = state_with_timeout(&url, api, Duration::from_millis(300));
        for uri in [
            "/api/traces?service=reviews.bookinfo",
            "/api/traces/0123456789abcdef0123456789abcdef",
            "/api/traces/services",
        ] {
            let started = std::time::Instant::now();
            let (status, body) = error(&state, "admin", uri).await;
            assert!(started.elapsed() < Duration::from_secs(5), "{api:?} {uri}");
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{api:?} {uri}");
            assert_eq!(body.error.code, ErrorCode::UpstreamUnavailable);
            assert!(
                body.error.message.starts_with("Jaeger is unavailable")
                    && body.error.message.contains("no answer within 300 ms"),
                "{api:?} {uri}: {}",
                body.error.message
            );
        }
    }
}

/// A Jaeger speaking only the v3 API (v1 paths are 404), answering 503 to
/// everything while `up` is false.
fn v3_only(up: Arc<std::sync::atomic::AtomicBool>) -> axum::Router {
    use axum::response::IntoResponse;
    let sim = jaeger_router();
    axum::Router::new().fallback(move |request: Request<Body>| {
        let (sim, up) = (sim.clone(), up.clone());
        async move {
            if !up.load(std::sync::atomic::Ordering::SeqCst) {
                return (StatusCode::SERVICE_UNAVAILABLE, "no healthy upstream").into_response();
            }
            if !request.uri().path().starts_with("/api/v3/") {
                return StatusCode::NOT_FOUND.into_response();
            }
            sim.oneshot(request).await.into_response()
        }
    })
}

async fn search_reviews(state: &AppState) -> (StatusCode, Vec<u8>) {
    get(
        state,
        "admin",
        "/api/traces?service=reviews.bookinfo&limit=5",
    )
    .await
}

#[tokio::test]
async fn api_detection_waits_for_a_definite_answer() {
    use std::sync::atomic::{AtomicBool, Ordering};
    // Jaeger's proxy answers 503 at first, then Jaeger comes up speaking v3.
    let up = Arc::new(AtomicBool::new(false));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = serve(listener, v3_only(up.clone()));
    let state = state(&url, JaegerApiArg::Auto);
    let (status, body) = search_reviews(&state).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let body: ErrorBody = serde_json::from_slice(&body).unwrap();
    assert!(
        body.error.message.starts_with("Jaeger is unavailable"),
        "{}",
        body.error.message
    );
    up.store(true, Ordering::SeqCst);
    let found: TraceSearch = get_ok(
        &state,
        "admin",
        "/api/traces?service=reviews.bookinfo&limit=5",
    )
    .await;
    assert!(!found.traces.is_empty());

    // Nothing listens at first (connection refused); later Jaeger is
    // started on that port.
    let port = meshdeck_sim::prometheus::free_port().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let state = self::state(&url, JaegerApiArg::Auto);
    let (status, _) = search_reviews(&state).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    serve(listener, v3_only(Arc::new(AtomicBool::new(true))));
    let found: TraceSearch = get_ok(
        &state,
        "admin",
        "/api/traces?service=reviews.bookinfo&limit=5",
    )
    .await;
    assert!(!found.traces.is_empty());
    let id = &found.traces[0].trace_id;
    let trace: TraceDetail = get_ok(&state, "admin", &format!("/api/traces/{id}")).await;
    assert_eq!(trace.spans.len(), found.traces[0].span_count);
}

/// A Jaeger whose every answer is an endless-looking JSON document streamed
/// in 1 MiB chunks (no Content-Length), `chunks` of them; counts the chunks
/// actually produced.
fn flooding_jaeger(chunks: usize, produced: Arc<std::sync::atomic::AtomicUsize>) -> axum::Router {
    use axum::response::IntoResponse;
    use futures::StreamExt;
    axum::Router::new().fallback(move || {
        let produced = produced.clone();
        async move {
            let stream = futures::stream::iter(0..chunks).map(move |i| {
                produced.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let chunk = if i == 0 {
                    let mut c = b"{\"data\":[".to_vec();
                    c.resize(1 << 20, b' ');
                    c
                } else {
                    vec![b' '; 1 << 20]
                };
                Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(chunk))
            });
            (
                [(http::header::CONTENT_TYPE, "application/json")],
                Body::from_stream(stream),
            )
                .into_response()
        }
    })
}

#[tokio::test]
async fn an_oversized_jaeger_answer_is_refused_without_reading_it_all() {
    let limit_mib = meshdeck_server::upstream::jaeger::MAX_ANSWER_BYTES >> 20;
    let produced = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = serve(listener, flooding_jaeger(4 * limit_mib, produced.clone()));
    let state = state_with_timeout(&url, JaegerApiArg::V1, Duration::from_secs(30));
    let (status, body) = error(&state, "admin", "/api/traces?service=reviews.bookinfo").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body.error.code, ErrorCode::Invalid);
    assert!(
        body.error
            .message
            .contains(&format!("more than {limit_mib} MiB")),
        "{}",
        body.error.message
    );
    // The client hung up soon after the limit: far fewer than the 4× offered
    // chunks were produced (the stream runs ahead by what socket buffers hold).
    let made = produced.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        made < 2 * limit_mib,
        "{made} MiB produced for a {limit_mib} MiB limit"
    );
}

#[tokio::test]
async fn requests_arriving_during_a_hanging_detection_share_it() {
    // A Jaeger that accepts connections and never answers; counts them.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(socket);
        }
    });
    // Long enough that all five have arrived before the first attempt ends.
    let state = state_with_timeout(&url, JaegerApiArg::Auto, Duration::from_secs(2));
    let calls = (0..5).map(|_| error(&state, "admin", "/api/traces?service=reviews.bookinfo"));
    for (status, body) in futures::future::join_all(calls).await {
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            body.error.message.contains("no answer within 2000 ms"),
            "{}",
            body.error.message
        );
    }
    // One detection attempt for the five, not one each in turn.
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    // A later request asks again.
    let (status, _) = error(&state, "admin", "/api/traces/services").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 2);
}
