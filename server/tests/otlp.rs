//! Request spans exported over OTLP/HTTP with JSON (`--otlp-endpoint`):
//! the `meshdeck` binary, started as a user would (the exporting layer is
//! installed in `main`, process-wide), serving a real cluster's API (the
//! demo's, over HTTP from this test) with a stub Prometheus, and exporting
//! to a stub OTLP receiver that keeps every body it gets.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::{get, post};
use serde_json::{Value, json};

mod common;

/// The owner's demo token: it must never reach an exported span.
const CALLER_TOKEN: &str = "demo-token-admin";
/// A query whose text must not reach an exported span either.
const PROMQL: &str = "sum(rate(meshdeck_otlp_test_requests_7f3a[5m]))";
/// A caller's trace context.
const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
/// The longest any wait here lasts.
const PATIENCE: Duration = Duration::from_secs(30);

/// One export the receiver got: its `Content-Type` and body.
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// An OTLP/HTTP receiver keeping every export; its base URL.
async fn otlp_receiver() -> (String, Received) {
    let received = Received::default();
    let keep = received.clone();
    let router = Router::new().route(
        "/v1/traces",
        post(move |headers: http::HeaderMap, body: axum::body::Bytes| {
            let keep = keep.clone();
            async move {
                let content_type = headers
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                keep.lock().unwrap().push((content_type, body.to_vec()));
                ([(http::header::CONTENT_TYPE, "application/json")], "{}")
            }
        }),
    );
    (format!("http://{}", serve(router).await), received)
}

/// A Prometheus answering every instant query with an empty vector.
async fn prometheus() -> String {
    let router = Router::new()
        .route(
            "/api/v1/query",
            post(|| async {
                axum::Json(
                    json!({"status": "success", "data": {"resultType": "vector", "result": []}}),
                )
            }),
        )
        .route(
            "/api/v1/status/buildinfo",
            get(|| async {
                axum::Json(json!({"status": "success", "data": {"version": "3.0.0"}}))
            }),
        );
    format!("http://{}", serve(router).await)
}

/// The demo's Kubernetes API over HTTP, and a kubeconfig for it with the
/// cluster admin's token as meshdeck's own credentials.
async fn kubernetes(name: &str) -> std::path::PathBuf {
    let cluster = meshdeck_sim::kube::InMemoryCluster::from_mesh(&common::quiet_demo());
    let addr = serve(cluster.router()).await;
    let path = std::env::temp_dir().join(format!(
        "meshdeck-otlp-test-{}-{name}.kubeconfig",
        std::process::id()
    ));
    std::fs::write(
        &path,
        meshdeck_server::demo::kubeconfig(
            &format!("http://{addr}"),
            meshdeck_sim::kube::ADMIN_TOKEN,
        ),
    )
    .unwrap();
    path
}

/// A `meshdeck serve` process, killed when dropped.
struct Meshdeck {
    child: Child,
    url: String,
    metrics: String,
    logs: Arc<Mutex<Vec<String>>>,
    kubeconfig: std::path::PathBuf,
}

impl Drop for Meshdeck {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.kubeconfig);
    }
}

impl Meshdeck {
    /// Starts `meshdeck serve` with `extra` flags and `env`; returns once it
    /// serves and its metrics address is known.
    async fn start(name: &str, extra: &[&str], env: &[(&str, &str)]) -> Meshdeck {
        let kubeconfig = kubernetes(name).await;
        let prometheus = prometheus().await;
        let mut command = Command::new(env!("CARGO_BIN_EXE_meshdeck"));
        command
            .args([
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--metrics-bind",
                "127.0.0.1:0",
                "--static-dir",
                "/nonexistent",
                "--log-format",
                "json",
                "--prometheus-url",
                &prometheus,
                "--kubeconfig",
            ])
            .arg(&kubeconfig)
            .args(extra)
            .env_remove("MESHDECK_OTLP_ENDPOINT")
            .env_remove("MESHDECK_LOG")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (ready, url) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("meshdeck is ready: open ") {
                    let _ = ready.send(url.trim_end_matches('/').to_owned());
                }
            }
        });
        let logs = Arc::new(Mutex::new(Vec::new()));
        let kept = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line);
            }
        });
        let url = tokio::task::spawn_blocking(move || url.recv_timeout(PATIENCE))
            .await
            .unwrap()
            .expect("meshdeck did not get ready");
        let mut meshdeck = Meshdeck {
            child,
            url,
            metrics: String::new(),
            logs,
            kubeconfig,
        };
        let logs = meshdeck.logs.clone();
        meshdeck.metrics = eventually("the metrics address in the logs", || {
            logs.lock().unwrap().iter().find_map(|line| {
                let line: Value = serde_json::from_str(line).ok()?;
                if line["fields"]["message"] != "meshdeck's own metrics at /metrics" {
                    return None;
                }
                Some(format!(
                    "http://{}/metrics",
                    line["fields"]["addr"].as_str()?
                ))
            })
        })
        .await;
        meshdeck
    }

    /// `meshdeck_<series>`'s value in meshdeck's own metrics.
    async fn metric(&self, series: &str) -> f64 {
        let text = reqwest::get(&self.metrics)
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("{series} in\n{text}"))
    }

    fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }
}

/// `check`'s answer, once it has one (polled for up to [`PATIENCE`]).
async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(started.elapsed() < PATIENCE, "waited in vain for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The requests whose spans the tests look for; the status of each.
async fn known_requests(url: &str) -> Vec<u16> {
    let http = reqwest::Client::new();
    let health = http.get(format!("{url}/api/health")).send().await.unwrap();
    let continued = http
        .get(format!("{url}/api/health"))
        .header("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"))
        .send()
        .await
        .unwrap();
    let query = http
        .post(format!("{url}/api/prometheus/query"))
        .bearer_auth(CALLER_TOKEN)
        .json(&json!({"query": PROMQL}))
        .send()
        .await
        .unwrap();
    let trace = http
        .get(format!("{url}/api/traces/0123456789abcdef?secret=qs-7f3a"))
        .bearer_auth(CALLER_TOKEN)
        .send()
        .await
        .unwrap();
    vec![
        health.status().as_u16(),
        continued.status().as_u16(),
        query.status().as_u16(),
        trace.status().as_u16(),
    ]
}

/// Every span of every export, each checked for OTLP JSON's shape.
fn spans_of(received: &Received) -> Vec<Value> {
    let mut spans = Vec::new();
    for (content_type, body) in received.lock().unwrap().iter() {
        assert_eq!(content_type, "application/json");
        let body: Value = serde_json::from_slice(body).expect("a JSON body");
        let resource_spans = body["resourceSpans"].as_array().expect("resourceSpans");
        for resource in resource_spans {
            let service = resource["resource"]["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["key"] == "service.name")
                .map(|a| a["value"].clone());
            assert_eq!(service, Some(json!({"stringValue": "meshdeck"})));
            for scope in resource["scopeSpans"].as_array().expect("scopeSpans") {
                for span in scope["spans"].as_array().expect("spans") {
                    check_shape(span);
                    spans.push(span.clone());
                }
            }
        }
    }
    spans
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text.bytes().all(|b| b.is_ascii_hexdigit())
        && text.bytes().any(|b| b != b'0')
}

fn check_shape(span: &Value) {
    assert!(is_hex(span["traceId"].as_str().unwrap(), 32), "{span}");
    assert!(is_hex(span["spanId"].as_str().unwrap(), 16), "{span}");
    if let Some(parent) = span.get("parentSpanId") {
        assert!(is_hex(parent.as_str().unwrap(), 16), "{span}");
    }
    assert!(
        span["name"].as_str().is_some_and(|n| !n.is_empty()),
        "{span}"
    );
    assert!(matches!(span["kind"].as_u64(), Some(1..=3)), "{span}");
    // 64-bit integers are decimal strings in OTLP JSON.
    let time = |key: &str| -> u64 { span[key].as_str().unwrap().parse().unwrap() };
    assert!(
        time("startTimeUnixNano") > 1_600_000_000_000_000_000,
        "{span}"
    );
    assert!(
        time("endTimeUnixNano") >= time("startTimeUnixNano"),
        "{span}"
    );
    for attribute in span["attributes"].as_array().unwrap() {
        assert!(attribute["key"].is_string(), "{span}");
        let value = attribute["value"].as_object().unwrap();
        assert_eq!(value.len(), 1, "{span}");
        match value.iter().next().unwrap() {
            (k, v) if k == "stringValue" => assert!(v.is_string()),
            (k, v) if k == "intValue" => assert!(v.as_str().unwrap().parse::<i64>().is_ok()),
            (k, v) if k == "boolValue" => assert!(v.is_boolean()),
            (k, v) if k == "doubleValue" => assert!(v.is_number()),
            other => panic!("{other:?} in {span}"),
        }
    }
    assert!(span["status"]["code"].as_u64().is_some(), "{span}");
}

fn attribute(span: &Value, key: &str) -> Option<Value> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| a["value"].clone())
}

fn text(value: &str) -> Option<Value> {
    Some(json!({"stringValue": value}))
}

fn int(value: u16) -> Option<Value> {
    Some(json!({"intValue": value.to_string()}))
}

fn named<'a>(spans: &'a [Value], name: &str) -> Vec<&'a Value> {
    spans.iter().filter(|s| s["name"] == name).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_and_their_upstream_calls_are_exported_as_otlp_json() {
    let (endpoint, received) = otlp_receiver().await;
    let meshdeck = Meshdeck::start("export", &["--otlp-endpoint", &endpoint], &[]).await;
    let statuses = known_requests(&meshdeck.url).await;
    assert_eq!(statuses[..3], [200, 200, 200], "{statuses:?}");
    let trace_status = statuses[3];
    assert_eq!(trace_status, 503, "no Jaeger is configured");

    // Exported within a flush interval or so of each request's end.
    let spans = eventually("the known requests' spans", || {
        let spans = spans_of(&received);
        let done = named(&spans, "GET /api/health").len() >= 2
            && named(&spans, "GET /api/traces/{id}").len() == 1
            && named(&spans, "POST /api/prometheus/query").len() == 1
            && named(&spans, "prometheus api/v1/query").len() == 1;
        done.then_some(spans)
    })
    .await;

    // The requests' server spans: route template, method, status.
    let health = named(&spans, "GET /api/health");
    let (continued, fresh): (Vec<&Value>, Vec<&Value>) =
        health.iter().partition(|s| s["traceId"] == CALLER_TRACE);
    assert_eq!((continued.len(), fresh.len()), (1, 1), "{health:#?}");
    for span in [continued[0], fresh[0]] {
        assert_eq!(span["kind"], 2, "{span}");
        assert_eq!(attribute(span, "http.route"), text("/api/health"));
        assert_eq!(attribute(span, "http.request.method"), text("GET"));
        assert_eq!(attribute(span, "http.response.status_code"), int(200));
        assert_eq!(span["status"]["code"], 0, "{span}");
    }
    // The caller's trace is continued: its span is the parent.
    assert_eq!(continued[0]["parentSpanId"], CALLER_SPAN);
    assert_eq!(fresh[0].get("parentSpanId"), None);

    let trace = named(&spans, "GET /api/traces/{id}")[0];
    assert_eq!(attribute(trace, "http.route"), text("/api/traces/{id}"));
    assert_eq!(
        attribute(trace, "url.path"),
        text("/api/traces/0123456789abcdef")
    );
    assert_eq!(attribute(trace, "http.response.status_code"), int(503));
    // A 5xx answer is an error.
    assert_eq!(trace["status"]["code"], 2, "{trace}");

    let query = named(&spans, "POST /api/prometheus/query")[0];
    assert_eq!(
        attribute(query, "http.route"),
        text("/api/prometheus/query")
    );
    assert_eq!(attribute(query, "http.response.status_code"), int(200));
    let children = |parent: &Value| -> Vec<&Value> {
        spans
            .iter()
            .filter(|s| s.get("parentSpanId") == parent.get("spanId"))
            .collect()
    };
    let calls = children(query);
    // Prometheus' query, and the caller's TokenReview (their role is read
    // from Kubernetes too).
    let prometheus = calls
        .iter()
        .find(|s| s["name"] == "prometheus api/v1/query")
        .unwrap_or_else(|| panic!("no Prometheus call under {query}: {calls:#?}"));
    let review = calls
        .iter()
        .find(|s| s["name"] == "kubernetes create tokenreviews")
        .unwrap_or_else(|| panic!("no TokenReview under {query}: {calls:#?}"));
    for call in [prometheus, review] {
        assert_eq!(call["traceId"], query["traceId"], "{call}");
        assert_eq!(call["kind"], 3, "{call}");
        assert_eq!(attribute(call, "upstream.outcome"), text("2xx"), "{call}");
        assert_eq!(attribute(call, "server.address"), text("127.0.0.1"));
        assert!(attribute(call, "server.port").is_some(), "{call}");
        assert_eq!(call["status"]["code"], 0, "{call}");
    }
    assert_eq!(attribute(prometheus, "upstream.system"), text("prometheus"));
    assert_eq!(
        attribute(prometheus, "upstream.operation"),
        text("api/v1/query")
    );
    assert_eq!(attribute(prometheus, "http.request.method"), text("POST"));
    assert_eq!(attribute(prometheus, "http.response.status_code"), int(200));
    assert_eq!(attribute(review, "upstream.system"), text("kubernetes"));
    assert_eq!(
        attribute(review, "upstream.operation"),
        text("create tokenreviews")
    );
    // Every call within its request's time.
    let time = |span: &Value, key: &str| -> u64 { span[key].as_str().unwrap().parse().unwrap() };
    for call in &calls {
        assert!(time(call, "startTimeUnixNano") >= time(query, "startTimeUnixNano"));
        assert!(time(call, "endTimeUnixNano") <= time(query, "endTimeUnixNano"));
    }

    // No token, credential, query string or PromQL anywhere.
    for (_, body) in received.lock().unwrap().iter() {
        let body = String::from_utf8_lossy(body);
        for secret in [
            CALLER_TOKEN,
            meshdeck_sim::kube::ADMIN_TOKEN,
            "Bearer",
            "authorization",
            "qs-7f3a",
            "meshdeck_otlp_test_requests_7f3a",
        ] {
            assert!(!body.contains(secret), "{secret:?} exported: {body}");
        }
    }

    let exported = meshdeck.metric("meshdeck_otlp_spans_exported_total").await;
    assert!(
        exported >= spans.len() as f64,
        "{exported} < {}",
        spans.len()
    );
    assert_eq!(
        meshdeck.metric("meshdeck_otlp_export_failures_total").await,
        0.0
    );
    assert_eq!(
        meshdeck
            .metric(r#"meshdeck_otlp_spans_dropped_total{reason="export_failed"}"#)
            .await,
        0.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_sent_without_an_endpoint() {
    let (endpoint, received) = otlp_receiver().await;
    // OpenTelemetry's own variables are not meshdeck's: they turn nothing on.
    let meshdeck = Meshdeck::start(
        "off",
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", endpoint.as_str()),
        ],
    )
    .await;
    let statuses = known_requests(&meshdeck.url).await;
    assert_eq!(statuses, [200, 200, 200, 503]);
    // Three flush intervals: an exporter would have sent by now.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(received.lock().unwrap().len(), 0);
    assert_eq!(
        meshdeck.metric("meshdeck_otlp_spans_exported_total").await,
        0.0
    );
    for reason in ["queue_full", "export_failed"] {
        assert_eq!(
            meshdeck
                .metric(&format!(
                    r#"meshdeck_otlp_spans_dropped_total{{reason="{reason}"}}"#
                ))
                .await,
            0.0
        );
    }
}

/// Serves `count` requests of the known kinds; all must succeed.
async fn requests_succeed(url: &str, count: usize) {
    let http = reqwest::Client::new();
    for i in 0..count {
        let response = if i % 2 == 0 {
            http.get(format!("{url}/api/health")).send().await.unwrap()
        } else {
            http.post(format!("{url}/api/prometheus/query"))
                .bearer_auth(CALLER_TOKEN)
                .json(&json!({"query": PROMQL}))
                .send()
                .await
                .unwrap()
        };
        assert_eq!(response.status(), 200, "request {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_endpoint_costs_requests_nothing() {
    // A port nobody listens on, with credentials and a query in the URL.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let endpoint = format!("http://ops:hunter2-7f3a@127.0.0.1:{port}/otlp?tenant=qs-7f3a");
    let meshdeck = Meshdeck::start("dead", &["--otlp-endpoint", &endpoint], &[]).await;
    requests_succeed(&meshdeck.url, 20).await;
    // Failed exports are counted, with their spans; keep requests coming
    // until a second one fails, to see the log say it once.
    let started = Instant::now();
    loop {
        let failures = meshdeck.metric("meshdeck_otlp_export_failures_total").await;
        if failures >= 2.0 {
            break;
        }
        assert!(started.elapsed() < PATIENCE, "{failures} failed exports");
        requests_succeed(&meshdeck.url, 2).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        meshdeck
            .metric(r#"meshdeck_otlp_spans_dropped_total{reason="export_failed"}"#)
            .await
            >= 20.0
    );
    assert_eq!(
        meshdeck.metric("meshdeck_otlp_spans_exported_total").await,
        0.0
    );
    let logs = meshdeck.logs();
    let warnings: Vec<&String> = logs
        .iter()
        .filter(|l| l.contains("exporting spans over OTLP failed"))
        .collect();
    // Logged once (at most once a minute), naming the endpoint without
    // its credentials or query.
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0].contains(&format!("http://127.0.0.1:{port}/otlp/v1/traces")),
        "{}",
        warnings[0]
    );
    for line in &logs {
        assert!(
            !line.contains("hunter2-7f3a") && !line.contains("qs-7f3a"),
            "{line}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_endpoint_costs_requests_nothing() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = Arc::new(Mutex::new(Vec::new()));
    let hold = held.clone();
    tokio::spawn(async move {
        while let Ok((connection, _)) = listener.accept().await {
            hold.lock().unwrap().push(connection);
        }
    });
    let meshdeck = Meshdeck::start(
        "hanging",
        &["--otlp-endpoint", &format!("http://{addr}")],
        &[],
    )
    .await;
    // While an export waits for its answer, requests go on.
    requests_succeed(&meshdeck.url, 20).await;
    eventually("a connection to the endpoint", || {
        (!held.lock().unwrap().is_empty()).then_some(())
    })
    .await;
    requests_succeed(&meshdeck.url, 20).await;
    // The export gives up at its timeout, and says so in the counters.
    let started = Instant::now();
    loop {
        let failures = meshdeck.metric("meshdeck_otlp_export_failures_total").await;
        if failures >= 1.0 {
            break;
        }
        assert!(started.elapsed() < PATIENCE, "no failed export");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        meshdeck
            .metric(r#"meshdeck_otlp_spans_dropped_total{reason="export_failed"}"#)
            .await
            >= 1.0
    );
}
