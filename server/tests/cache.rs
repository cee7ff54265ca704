//! Coalescing and bounded caching through the router: a Prometheus that
//! hangs costs every request at most the upstream timeout and a margin,
//! identical requests share one set of queries and its failure, and
//! replays (an explicit past moment) are shared while they run but not
//! kept afterwards.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::StatusCode;
use meshdeck_server::AppState;
use meshdeck_server::cache::CacheStats;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

/// The upstream timeout of these tests.
const TIMEOUT: Duration = Duration::from_secs(1);

/// What every request must end within: the timeout plus a margin (the
/// deadline of a shared computation is a quarter more).
const BOUND: Duration = Duration::from_secs(2);

/// A Prometheus that accepts connections, reads the requests and never
/// answers. Returns its URL and the number of queries it received.
async fn hanging_prometheus() -> (String, Arc<AtomicUsize>) {
    // A long accept queue: hundreds of queries connect at once, and while
    // the test's two threads are busy the queue must hold them (tokio's
    // `bind` allows 128; past that the kernel drops handshakes and the
    // client retries only after a second, so the query would never arrive).
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1024).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let queries = Arc::new(AtomicUsize::new(0));
    let counted = queries.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let counted = counted.clone();
            tokio::spawn(async move {
                // Count the request once its line has arrived, then hold
                // the connection until the client gives up.
                let (mut seen, mut buffer) = (Vec::new(), [0u8; 4096]);
                let mut counted_it = false;
                while let Ok(n) = socket.read(&mut buffer).await {
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buffer[..n]);
                    if !counted_it && seen.windows(12).any(|w| w == b"/api/v1/quer") {
                        counted.fetch_add(1, Ordering::SeqCst);
                        counted_it = true;
                    }
                }
            });
        }
    });
    (url, queries)
}

/// A Prometheus answering every query with an empty result after a short
/// delay (so that requests sent together overlap). Returns its URL and the
/// number of queries it answered.
async fn slow_empty_prometheus() -> (String, Arc<AtomicUsize>) {
    use axum::routing::post;
    let queries = Arc::new(AtomicUsize::new(0));
    let answer = |kind: &'static str, queries: Arc<AtomicUsize>| {
        post(move || async move {
            queries.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(200)).await;
            format!(r#"{{"status":"success","data":{{"resultType":"{kind}","result":[]}}}}"#)
        })
    };
    let app = axum::Router::new()
        .route("/api/v1/query", answer("vector", queries.clone()))
        .route("/api/v1/query_range", answer("matrix", queries.clone()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, queries)
}

/// `GET` every one of `uris` at once as the demo owner: status and time
/// taken of each.
async fn all_at_once(state: &AppState, uris: &[String]) -> Vec<(StatusCode, Duration)> {
    let tasks: Vec<_> = uris
        .iter()
        .map(|uri| {
            let (state, uri) = (state.clone(), uri.clone());
            tokio::spawn(async move {
                let started = Instant::now();
                let (status, _) = common::call(&state, "admin", &uri).await;
                (status, started.elapsed())
            })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

/// A metrics request for ten minutes ending `ago` seconds ago.
fn metrics_uri(ago: f64, step: u32) -> String {
    let end = (meshdeck_sim::live::now_s() - ago).floor();
    format!(
        "/api/metrics?scope=namespace&namespace=payments&start={}&end={end}&step={step}",
        end - 600.0
    )
}

/// One metrics report: 7 range queries (4 charts, 3 quantiles) and 4
/// instant ones (the top lists).
const METRICS_QUERIES: usize = 11;
/// One graph: requests, TCP, duration buckets, security.
const GRAPH_QUERIES: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_requests_to_a_hanging_prometheus_share_one_failure_in_time() {
    let (url, queries) = hanging_prometheus().await;
    let state = common::state_timing_out(&url, &common::quiet_demo(), TIMEOUT);
    let uris = vec![metrics_uri(120.0, 30); 4];
    for (status, took) in all_at_once(&state, &uris).await {
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(took < BOUND, "a request took {took:?}");
    }
    // One computation's queries, not one per waiter in turn.
    assert_eq!(queries.load(Ordering::SeqCst), METRICS_QUERIES);
    // The failure is not kept: the next request asks again.
    assert_eq!(state.metrics_cache().stats(), CacheStats::default());
    let (status, _) = common::call(&state, "admin", &uris[0]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(queries.load(Ordering::SeqCst), 2 * METRICS_QUERIES);

    // The graph likewise (a graph of "now": the kind that would be kept).
    let uris = vec!["/api/graph?namespaces=bookinfo,payments".to_string(); 4];
    for (status, took) in all_at_once(&state, &uris).await {
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(took < BOUND, "a graph request took {took:?}");
    }
    assert_eq!(
        queries.load(Ordering::SeqCst),
        2 * METRICS_QUERIES + GRAPH_QUERIES
    );
    assert_eq!(state.graph_cache().stats(), CacheStats::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn different_requests_to_a_hanging_prometheus_each_end_in_time() {
    let (url, queries) = hanging_prometheus().await;
    let state = common::state_timing_out(&url, &common::quiet_demo(), TIMEOUT);
    // Twenty clients asking for different charts, each asking again twice
    // (a reload) 200 ms apart while its first request still hangs.
    let uris: Vec<String> = (0..20).map(|i| metrics_uri(120.0, 30 + i)).collect();
    let tasks: Vec<_> = (0..3u64)
        .map(|round| {
            let (state, uris) = (state.clone(), uris.clone());
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(200 * round)).await;
                all_at_once(&state, &uris).await
            })
        })
        .collect();
    let mut answered = 0;
    for task in tasks {
        for (status, took) in task.await.unwrap() {
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
            assert!(took < BOUND, "a request took {took:?}");
            answered += 1;
        }
    }
    assert_eq!(answered, 60);
    // Each client's three requests shared one computation.
    assert_eq!(queries.load(Ordering::SeqCst), 20 * METRICS_QUERIES);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_are_shared_while_they_run_but_not_kept() {
    let (url, queries) = slow_empty_prometheus().await;
    let state = common::state_timing_out(&url, &common::quiet_demo(), TIMEOUT);
    let now = meshdeck_sim::live::now_s().floor();

    // A graph at an explicit past moment: four at once share one set of
    // queries, and nothing is left once they are answered.
    let replay = format!("/api/graph?namespaces=bookinfo&queryTime={}", now - 3600.0);
    for (status, _) in all_at_once(&state, &vec![replay.clone(); 4]).await {
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(queries.load(Ordering::SeqCst), GRAPH_QUERIES);
    assert_eq!(state.graph_cache().stats(), CacheStats::default());
    let (status, _) = common::call(&state, "admin", &replay).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(queries.load(Ordering::SeqCst), 2 * GRAPH_QUERIES);
    // A graph of "now" is kept (so the check above can tell).
    let (status, _) = common::call(&state, "admin", "/api/graph?namespaces=bookinfo").await;
    assert_eq!(status, StatusCode::OK);
    let kept = state.graph_cache().stats();
    assert_eq!((kept.entries, kept.running), (1, 0));
    assert!(kept.bytes > 0);

    // Metrics with an explicit start and end likewise.
    let before = queries.load(Ordering::SeqCst);
    let explicit = metrics_uri(3600.0, 60);
    for (status, _) in all_at_once(&state, &vec![explicit; 4]).await {
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(queries.load(Ordering::SeqCst), before + METRICS_QUERIES);
    assert_eq!(state.metrics_cache().stats(), CacheStats::default());
    let (status, _) = common::call(
        &state,
        "admin",
        "/api/metrics?scope=namespace&namespace=payments&range=1h",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(state.metrics_cache().stats().entries, 1);
}
