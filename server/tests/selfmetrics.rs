//! meshdeck's own metrics (`GET /metrics` on `--metrics-bind`) after
//! requests whose counts the test knows. One test in this binary: the
//! registry is the process'.

use http::{Method, StatusCode};

mod common;
use common::request;

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn counters_follow_the_requests_served() {
    let mesh = common::quiet_demo();
    // A Prometheus that is not there: its calls fail.
    let state = common::state_timing_out(
        "http://127.0.0.1:9",
        &mesh,
        std::time::Duration::from_secs(1),
    );
    for _ in 0..3 {
        let (status, _) = request(&state, Method::GET, "/api/health", "", None).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _) = request(&state, Method::GET, "/api/nothing-here", "", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for _ in 0..2 {
        let (status, body) = request(
            &state,
            Method::GET,
            "/api/rollouts/bookinfo/reviews",
            "demo-token-alice",
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
    let (status, _) = request(&state, Method::GET, "/api/status", "", None).await;
    assert_eq!(status, StatusCode::OK);

    let (status, headers, body) = common::exchange(
        meshdeck_server::selfmetrics::router(state.clone()),
        common::build(Method::GET, "/metrics", None, None),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[http::header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = String::from_utf8(body).unwrap();
    let get = |series: &str| value(&text, series).unwrap_or_else(|| panic!("{series} in\n{text}"));
    assert_eq!(
        get(r#"meshdeck_http_requests_total{route="/api/health",method="GET",status="200"}"#),
        3.0
    );
    assert_eq!(
        get(r#"meshdeck_http_request_duration_seconds_count{route="/api/health"}"#),
        3.0
    );
    assert_eq!(
        get(r#"meshdeck_http_request_duration_seconds_bucket{route="/api/health",le="+Inf"}"#),
        3.0
    );
    // Unknown paths share one label, whatever was asked.
    assert_eq!(
        get(r#"meshdeck_http_requests_total{route="unmatched",method="GET",status="404"}"#),
        1.0
    );
    // Routes by their pattern, not the path.
    assert_eq!(
        get(
            r#"meshdeck_http_requests_total{route="/api/rollouts/{ns}/{service}",method="GET",status="404"}"#
        ),
        2.0
    );
    // Alice's token was reviewed once (then cached), through the
    // in-memory cluster's client, which is timed like a real one.
    assert_eq!(get("meshdeck_token_reviews_total"), 1.0);
    assert!(get(r#"meshdeck_upstream_requests_total{upstream="kubernetes",outcome="2xx"}"#) >= 1.0);
    // No OTLP endpoint: nothing exported, dropped or failed.
    assert_eq!(get("meshdeck_otlp_spans_exported_total"), 0.0);
    assert_eq!(
        get(r#"meshdeck_otlp_spans_dropped_total{reason="queue_full"}"#),
        0.0
    );
    assert_eq!(get("meshdeck_otlp_export_failures_total"), 0.0);
    // The status page's probe of the absent Prometheus failed.
    assert!(
        get(r#"meshdeck_upstream_requests_total{upstream="prometheus",outcome="error"}"#) >= 1.0
    );
    assert_eq!(get(r#"meshdeck_cache_entries{cache="graph"}"#), 0.0);
    assert!(text.contains("# TYPE meshdeck_http_request_duration_seconds histogram"));
}
