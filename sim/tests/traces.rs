//! Simulated traces: the generator against the traffic model, the two JSON
//! forms against each other, Jaeger's search semantics, and the HTTP API.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use meshdeck_sim::model::Mesh;
use meshdeck_sim::scenario;
use meshdeck_sim::traces::{
    SpanKind, TagValue, Trace, TraceGenerator, TraceQuery, TraceStore, jaeger_v1, otlp,
};
use serde_json::{Value, json};
use tower::ServiceExt;

/// 2023-11-14T22:13:20Z.
const T0: u64 = 1_700_000_000;
const T0_RFC3339: &str = "2023-11-14T22:13:20Z";
const T0_MINUS_1H_RFC3339: &str = "2023-11-14T21:13:20Z";

fn demo_traces(n: u64, step_s: f64) -> Vec<Trace> {
    let mesh = scenario::demo();
    let g = TraceGenerator::new(&mesh);
    (0..n)
        .filter_map(|k| g.trace_at(((T0 as f64 + k as f64 * step_s) * 1e6) as u64, k))
        .collect()
}

fn reparse(v: &Value) -> Value {
    serde_json::from_str(&v.to_string()).unwrap()
}

/// Per span ID: (parent ID, start µs, duration µs, service, operation, kind, error).
type SpanRow = (Option<String>, u64, u64, String, String, String, bool);

fn rows_v1(trace: &Value) -> BTreeMap<String, SpanRow> {
    let processes = &trace["processes"];
    trace["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["traceID"], trace["traceID"]);
            let refs = s["references"].as_array().unwrap();
            assert!(refs.len() <= 1);
            let parent = refs.first().map(|r| {
                assert_eq!(r["refType"], "CHILD_OF");
                assert_eq!(r["traceID"], trace["traceID"]);
                r["spanID"].as_str().unwrap().to_owned()
            });
            let tag = |k: &str| s["tags"].as_array().unwrap().iter().find(|t| t["key"] == k);
            let kind = tag("span.kind").unwrap()["value"]
                .as_str()
                .unwrap()
                .to_owned();
            let error = tag("error").is_some_and(|t| t["type"] == "bool" && t["value"] == true);
            if error {
                let log = &s["logs"][0]["fields"];
                assert!(
                    log.as_array()
                        .unwrap()
                        .iter()
                        .any(|f| f["key"] == "event" && f["value"] == "error")
                );
            }
            let service = processes[s["processID"].as_str().unwrap()]["serviceName"]
                .as_str()
                .unwrap()
                .to_owned();
            let id = s["spanID"].as_str().unwrap().to_owned();
            assert_eq!(id.len(), 16);
            let row = (
                parent,
                s["startTime"].as_u64().unwrap(),
                s["duration"].as_u64().unwrap(),
                service,
                s["operationName"].as_str().unwrap().to_owned(),
                kind,
                error,
            );
            (id, row)
        })
        .collect()
}

fn rows_v3(body: &Value) -> BTreeMap<String, SpanRow> {
    let mut rows = BTreeMap::new();
    for rs in body["result"]["resourceSpans"].as_array().unwrap() {
        let service = rs["resource"]["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == "service.name")
            .unwrap()["value"]["stringValue"]
            .as_str()
            .unwrap()
            .to_owned();
        for ss in rs["scopeSpans"].as_array().unwrap() {
            assert_eq!(ss["scope"]["name"], "envoy");
            for s in ss["spans"].as_array().unwrap() {
                let nanos = |k: &str| s[k].as_str().unwrap().parse::<u64>().unwrap();
                let (start, end) = (nanos("startTimeUnixNano"), nanos("endTimeUnixNano"));
                assert_eq!(start % 1000, 0);
                let kind = match s["kind"].as_u64().unwrap() {
                    2 => "server",
                    3 => "client",
                    other => panic!("kind {other}"),
                };
                let error = s["status"]["code"] == 2;
                if error {
                    assert!(
                        s["status"]["message"]
                            .as_str()
                            .is_some_and(|m| !m.is_empty())
                    );
                    assert_eq!(s["events"][0]["name"], "error");
                }
                // int64 attributes are strings in OTLP JSON.
                for a in s["attributes"].as_array().unwrap() {
                    if let Some(i) = a["value"].get("intValue") {
                        assert!(i.as_str().unwrap().parse::<i64>().is_ok(), "{a}");
                    }
                }
                let row = (
                    s.get("parentSpanId")
                        .map(|p| p.as_str().unwrap().to_owned()),
                    start / 1000,
                    (end - start) / 1000,
                    service.clone(),
                    s["name"].as_str().unwrap().to_owned(),
                    kind.to_owned(),
                    error,
                );
                rows.insert(s["spanId"].as_str().unwrap().to_owned(), row);
            }
        }
    }
    rows
}

#[test]
fn v1_and_v3_describe_the_same_spans() {
    let traces = demo_traces(300, 1.0);
    assert_eq!(traces.len(), 300);
    let mut errors = 0;
    for t in &traces {
        let v1 = reparse(&jaeger_v1::trace(t));
        let v3 = reparse(&otlp::traces([t]));
        let id = v1["traceID"].as_str().unwrap();
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        for rs in v3["result"]["resourceSpans"].as_array().unwrap() {
            for s in rs["scopeSpans"][0]["spans"].as_array().unwrap() {
                assert_eq!(s["traceId"], id);
            }
        }
        let (a, b) = (rows_v1(&v1), rows_v3(&v3));
        assert_eq!(a.len(), t.spans.len());
        assert_eq!(a, b, "trace {id}");
        errors += a.values().filter(|r| r.6).count();
    }
    assert!(errors > 0, "some spans should fail in 300 traces");
}

fn check_tree(t: &Trace) {
    let by_id: HashMap<u64, &meshdeck_sim::traces::Span> =
        t.spans.iter().map(|s| (s.span_id, s)).collect();
    assert_eq!(by_id.len(), t.spans.len(), "span IDs are unique");
    let roots: Vec<_> = t.spans.iter().filter(|s| s.parent_id.is_none()).collect();
    assert_eq!(roots.len(), 1, "one root");
    assert_eq!(roots[0].start_us, t.start_us());
    for s in &t.spans {
        assert!(s.duration_us > 0);
        if let Some(p) = s.parent_id {
            let parent = by_id.get(&p).expect("parent exists");
            assert!(
                s.start_us >= parent.start_us,
                "child starts inside its parent"
            );
            assert!(
                s.end_us() <= parent.end_us(),
                "child ends inside its parent"
            );
            // A server span's parent is the client span of the same call.
            if s.kind == SpanKind::Server && parent.kind == SpanKind::Client {
                assert_eq!(s.operation, parent.operation);
            }
        }
        // TCP calls produce no spans.
        assert!(!s.operation.ends_with(":27017/*") && !s.operation.ends_with(":5432/*"));
        // Services outside the mesh have only client spans.
        if s.operation.starts_with("api.stripe.com") {
            assert_eq!(s.kind, SpanKind::Client);
            assert_eq!(t.service_of(s), "payments-api.payments");
        }
        let service = t.service_of(s);
        let app = match s.tag("istio.canonical_service") {
            Some(TagValue::Str(a)) => a.clone(),
            other => panic!("{other:?}"),
        };
        let ns = match s.tag("istio.namespace") {
            Some(TagValue::Str(n)) => n.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(service, format!("{app}.{ns}"));
    }
}

#[test]
fn spans_form_a_tree_and_durations_nest() {
    for t in demo_traces(400, 4.5) {
        check_tree(&t);
    }
    let mesh = scenario::synthetic(200, 5);
    let g = TraceGenerator::new(&mesh);
    let mut spans = 0;
    for k in 0..100 {
        if let Some(t) = g.trace_at((T0 + k * 7) * 1_000_000, k) {
            check_tree(&t);
            spans += t.spans.len();
        }
    }
    assert!(spans > 100);
}

#[test]
fn demo_traces_cover_the_call_graph() {
    let traces = demo_traces(500, 2.0);
    let mut seen: HashSet<(String, SpanKind)> = HashSet::new();
    for t in &traces {
        for s in &t.spans {
            seen.insert((t.service_of(s).to_owned(), s.kind));
        }
    }
    for (svc, kind) in [
        ("istio-ingressgateway.istio-system", SpanKind::Client),
        ("productpage.bookinfo", SpanKind::Server),
        ("productpage.bookinfo", SpanKind::Client),
        ("details.bookinfo", SpanKind::Server),
        ("reviews.bookinfo", SpanKind::Server),
        ("ratings.bookinfo", SpanKind::Server),
        ("payments-api.payments", SpanKind::Server),
        ("payments-api.payments", SpanKind::Client),
        ("ledger.payments", SpanKind::Server),
    ] {
        assert!(seen.contains(&(svc.to_owned(), kind)), "{svc} {kind:?}");
    }
    // Nothing from the namespace without sidecars, nor from mongodb/postgres.
    assert!(!seen.iter().any(|(s, _)| s.ends_with(".legacy")));
    assert!(
        !seen
            .iter()
            .any(|(s, _)| s.starts_with("mongodb") || s.starts_with("postgres"))
    );
}

/// Server spans of reviews-v3 in traces at the given times: (count, errors).
fn reviews_v3_errors(times: impl Iterator<Item = f64>) -> (usize, usize, usize, usize) {
    let mesh = scenario::demo();
    let g = TraceGenerator::new(&mesh);
    let (mut n, mut failed, mut parents_of_5xx, mut parent_5xx) = (0, 0, 0, 0);
    for (k, t) in times.enumerate() {
        let Some(trace) = g.trace_at((t * 1e6) as u64, k as u64) else {
            continue;
        };
        for s in &trace.spans {
            let v3 = s.kind == SpanKind::Server
                && trace.service_of(s) == "reviews.bookinfo"
                && s.tag("istio.canonical_revision") == Some(&TagValue::Str("v3".into()));
            if !v3 {
                continue;
            }
            n += 1;
            if s.tag("error") == Some(&TagValue::Bool(true)) {
                failed += 1;
            }
            if s.tag("http.status_code") == Some(&TagValue::Int(503)) {
                // Client span on productpage's side, then productpage's server span.
                let client = trace.spans.iter().find(|c| Some(c.span_id) == s.parent_id);
                let server = client
                    .and_then(|c| trace.spans.iter().find(|p| Some(p.span_id) == c.parent_id));
                if let Some(p) = server.filter(|p| trace.service_of(p) == "productpage.bookinfo") {
                    parents_of_5xx += 1;
                    if p.tag("http.status_code") == Some(&TagValue::Int(503)) {
                        parent_5xx += 1;
                    }
                }
            }
        }
    }
    (n, failed, parents_of_5xx, parent_5xx)
}

#[test]
fn errors_follow_the_reviews_v3_fault() {
    // scenario::demo(): reviews-v3 has FaultKind::ServerErrors(0.4), period
    // 900 s, active 300 s, offset 0: active while t mod 900 < 300. Calls from
    // productpage to reviews have server share 0.002 and client share 0,
    // so while the fault is on, v3's expected error share is 0.4 + 0.002.
    // (Errors propagated up from ratings, 0.001 x 0.7, are below 0.001.)
    let base = (T0 / 900 * 900) as f64; // a cycle start
    let active =
        (0..3).flat_map(|c| (0..1200).map(move |j| base + c as f64 * 900.0 + j as f64 * 0.25));
    let (n, failed, parents, parent_5xx) = reviews_v3_errors(active);
    assert!(n >= 300, "only {n} spans through reviews-v3");
    let share = failed as f64 / n as f64;
    let expected = 0.4 + 0.002;
    // Four standard errors of a binomial share (about 0.06 at n = 800).
    let tolerance = 4.0 * (expected * (1.0 - expected) / n as f64).sqrt();
    assert!(
        (share - expected).abs() < tolerance,
        "share {share:.3} vs {expected} ± {tolerance:.3} (n = {n})"
    );
    // A 503 of reviews-v3 becomes a 503 of productpage with chance 0.7
    // (unless productpage already failed by itself, under 3 % of calls).
    let p = parent_5xx as f64 / parents as f64;
    let tol = 4.0 * (0.7 * 0.3 / parents as f64).sqrt() + 0.03;
    assert!(
        parents >= 100 && (p - 0.7).abs() < tol,
        "{parent_5xx}/{parents}"
    );

    // Outside the window only the base share (0.002) remains.
    let quiet = (0..2)
        .flat_map(|c| (0..1200).map(move |j| base + 300.0 + c as f64 * 900.0 + j as f64 * 0.5));
    let (n, failed, _, _) = reviews_v3_errors(quiet);
    assert!(n >= 300);
    assert!((failed as f64 / n as f64) < 0.02, "{failed}/{n}");
}

fn filled_store() -> (Arc<TraceStore>, Arc<Mesh>) {
    let mesh = Arc::new(scenario::demo());
    let store = Arc::new(TraceStore::new(5_000, 0.5));
    // An hour of history, one trace a second.
    store.fill_history(&mesh, (T0 - 3600) as f64, T0 as f64, 1.0);
    (store, mesh)
}

/// All stored traces, oldest first (through a query wide enough for all).
fn all(store: &TraceStore) -> Vec<Arc<Trace>> {
    let mut v = store.find(&TraceQuery {
        limit: usize::MAX,
        ..TraceQuery::default()
    });
    v.reverse();
    v
}

/// Expected IDs (newest first) from a predicate over single spans.
fn expect(
    store: &TraceStore,
    limit: usize,
    pred: impl Fn(&Trace, &meshdeck_sim::traces::Span) -> bool,
) -> Vec<u128> {
    let mut ids: Vec<(u64, u128)> = all(store)
        .iter()
        .filter(|t| t.spans.iter().any(|s| pred(t, s)))
        .map(|t| (t.start_us(), t.trace_id))
        .collect();
    ids.sort_by(|a, b| b.cmp(a));
    ids.into_iter().take(limit).map(|(_, id)| id).collect()
}

fn ids(v: &[Arc<Trace>]) -> Vec<u128> {
    v.iter().map(|t| t.trace_id).collect()
}

#[test]
fn searches_filter_like_jaeger() {
    let (store, _) = filled_store();
    assert_eq!(store.len(), 3600);
    let svc = "ratings.bookinfo";

    // Service only: default limit 20, newest first.
    let found = store.find(&TraceQuery::service(svc));
    assert_eq!(found.len(), 20);
    assert_eq!(
        ids(&found),
        expect(&store, 20, |t, s| t.service_of(s) == svc)
    );
    assert!(found.windows(2).all(|w| w[0].start_us() >= w[1].start_us()));

    // Operation: ratings' server spans vs reviews' client spans to ratings.
    let op = "ratings.bookinfo.svc.cluster.local:9080/*";
    let q = TraceQuery {
        operation: Some(op.into()),
        limit: 50,
        ..TraceQuery::service("reviews.bookinfo")
    };
    let want = expect(&store, 50, |t, s| {
        t.service_of(s) == "reviews.bookinfo" && s.operation == op
    });
    assert_eq!(ids(&store.find(&q)), want);
    assert_eq!(want.len(), 50);
    let q = TraceQuery {
        operation: Some(op.into()),
        ..TraceQuery::service("details.bookinfo")
    };
    assert!(store.find(&q).is_empty());

    // error=true on a span of the service.
    let q = TraceQuery {
        tags: vec![("error".into(), "true".into())],
        limit: 1000,
        ..TraceQuery::service("reviews.bookinfo")
    };
    let found = store.find(&q);
    let want = expect(&store, 1000, |t, s| {
        t.service_of(s) == "reviews.bookinfo" && s.tag("error") == Some(&TagValue::Bool(true))
    });
    assert!(!want.is_empty());
    assert_eq!(ids(&found), want);
    // Two tags on one span, one of them an integer compared as text.
    let q = TraceQuery {
        tags: vec![
            ("http.status_code".into(), "503".into()),
            ("istio.canonical_revision".into(), "v3".into()),
        ],
        limit: 1000,
        ..TraceQuery::service("reviews.bookinfo")
    };
    let v3_503 = store.find(&q);
    assert!(!v3_503.is_empty() && v3_503.len() < found.len());

    // Durations, on the matching span.
    let q = TraceQuery {
        min_duration_us: Some(30_000),
        max_duration_us: Some(60_000),
        limit: 1000,
        ..TraceQuery::service(svc)
    };
    let want = expect(&store, 1000, |t, s| {
        t.service_of(s) == svc && (30_000..=60_000).contains(&s.duration_us)
    });
    assert!(!want.is_empty());
    assert_eq!(ids(&store.find(&q)), want);

    // Time range and limit.
    let (from, to) = ((T0 - 600) * 1_000_000, (T0 - 300) * 1_000_000);
    let q = TraceQuery {
        start_min_us: Some(from),
        start_max_us: Some(to),
        limit: 7,
        ..TraceQuery::service("productpage.bookinfo")
    };
    let found = store.find(&q);
    assert_eq!(found.len(), 7);
    assert_eq!(
        ids(&found),
        expect(&store, 7, |t, s| {
            t.service_of(s) == "productpage.bookinfo" && (from..=to).contains(&s.start_us)
        })
    );
    assert!(found.iter().all(|t| t.start_us() <= to));
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Value) {
    let resp = app
        .clone()
        .oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{uri}: {e}: {}", String::from_utf8_lossy(&bytes)));
    (status, body)
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn v1_error(code: u16, msg: &str) -> Value {
    json!({"data": null, "total": 0, "limit": 0, "offset": 0, "errors": [{"code": code, "msg": msg}]})
}

#[tokio::test]
async fn v1_http_api() {
    let (store, mesh) = filled_store();
    let app = meshdeck_sim::traces::router(store.clone(), mesh);

    let (status, body) = get(&app, "/api/services").await;
    assert_eq!(status, StatusCode::OK);
    let services: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut sorted = services.clone();
    sorted.sort();
    assert_eq!(services, sorted);
    assert!(services.contains(&"reviews.bookinfo") && services.contains(&"ledger.payments"));
    assert_eq!(body["total"], services.len());
    assert_eq!(
        (body["limit"].clone(), body["offset"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(body["errors"], Value::Null);

    let (status, body) = get(&app, "/api/services/reviews.bookinfo/operations").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"],
        json!([
            "ratings.bookinfo.svc.cluster.local:9080/*",
            "reviews.bookinfo.svc.cluster.local:9080/*"
        ])
    );
    let (_, body) = get(&app, "/api/services/nope.nowhere/operations").await;
    assert_eq!(body["data"], json!([]));

    // Search: errors of reviews, as the Jaeger UI sends it.
    let uri = format!(
        "/api/traces?service=reviews.bookinfo&tags={}&start={}&end={}&limit=5&lookback=1h&minDuration=&maxDuration=",
        enc(r#"{"error":"true"}"#),
        (T0 - 3600) * 1_000_000,
        T0 * 1_000_000
    );
    let (status, body) = get(&app, &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let traces = body["data"].as_array().unwrap();
    assert_eq!(traces.len(), 5);
    for t in traces {
        let failing_reviews = t["spans"].as_array().unwrap().iter().any(|s| {
            let pid = s["processID"].as_str().unwrap();
            t["processes"][pid]["serviceName"] == "reviews.bookinfo"
                && s["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|g| g["key"] == "error" && g["value"] == true)
        });
        assert!(failing_reviews);
    }
    // The older tag=key:value form gives the same answer.
    let uri2 = format!(
        "/api/traces?service=reviews.bookinfo&tag=error:true&start={}&end={}&limit=5",
        (T0 - 3600) * 1_000_000,
        T0 * 1_000_000
    );
    assert_eq!(get(&app, &uri2).await.1, body);

    // Default limit 20; minDuration in Go syntax.
    let (_, body) = get(
        &app,
        "/api/traces?service=productpage.bookinfo&minDuration=1.2s",
    )
    .await;
    let n = body["data"].as_array().unwrap().len();
    let want = store
        .find(&TraceQuery {
            min_duration_us: Some(1_200_000),
            ..TraceQuery::service("productpage.bookinfo")
        })
        .len();
    assert_eq!(n, want);
    let (_, body) = get(&app, "/api/traces?service=productpage.bookinfo").await;
    assert_eq!(body["data"].as_array().unwrap().len(), 20);

    // One trace by ID, and the 404.
    let id = body["data"][0]["traceID"].as_str().unwrap().to_owned();
    let (status, one) = get(&app, &format!("/api/traces/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["data"][0], body["data"][0]);
    let (status, nf) = get(&app, "/api/traces/0123456789abcdef0123456789abcdef").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(nf, v1_error(404, "trace not found"));

    // 400s.
    let (status, err) = get(&app, "/api/traces?operation=x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err, v1_error(400, "parameter 'service' is required"));
    for bad in [
        "/api/traces?service=a&minDuration=fast",
        "/api/traces?service=a&maxDuration=-1s",
        "/api/traces?service=a&minDuration=2s&maxDuration=1s",
        "/api/traces?service=a&limit=-3",
        "/api/traces?service=a&limit=lots",
        "/api/traces?service=a&start=yesterday",
        "/api/traces?service=a&end=1e9",
        "/api/traces?service=a&tags=%7B",
        "/api/traces?service=a&tags=%5B%5D",
        "/api/traces?service=a&tag=novalue",
        "/api/traces/not-hex",
        "/api/traces/0123456789abcdef0123456789abcdef0",
    ] {
        let (status, err) = get(&app, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(err["errors"][0]["code"], 400, "{bad}");
        assert!(
            err["errors"][0]["msg"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert_eq!(err["data"], Value::Null);
    }
}

#[tokio::test]
async fn v3_http_api() {
    let (store, mesh) = filled_store();
    let app = meshdeck_sim::traces::router(store.clone(), mesh);

    let (status, v3) = get(&app, "/api/v3/services").await;
    assert_eq!(status, StatusCode::OK);
    let (_, v1) = get(&app, "/api/services").await;
    assert_eq!(v3["services"], v1["data"]);

    let (_, ops) = get(&app, "/api/v3/operations?service=reviews.bookinfo").await;
    assert_eq!(
        ops,
        json!({"operations": [
            {"name": "ratings.bookinfo.svc.cluster.local:9080/*", "spanKind": "client"},
            {"name": "reviews.bookinfo.svc.cluster.local:9080/*", "spanKind": "server"},
        ]})
    );
    let (_, ops) = get(
        &app,
        "/api/v3/operations?service=reviews.bookinfo&span_kind=server",
    )
    .await;
    assert_eq!(ops["operations"].as_array().unwrap().len(), 1);
    let (_, ops) = get(
        &app,
        "/api/v3/operations?service=reviews.bookinfo&span_kind=producer",
    )
    .await;
    assert_eq!(ops, json!({"operations": []}));

    let base = format!(
        "/api/v3/traces?query.service_name=ledger.payments&query.start_time_min={}&query.start_time_max={}",
        enc(T0_MINUS_1H_RFC3339),
        enc(T0_RFC3339)
    );
    let (status, body) = get(&app, &format!("{base}&query.num_traces=3")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let trace_ids: HashSet<&str> = body["result"]["resourceSpans"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rs| rs["scopeSpans"][0]["spans"].as_array().unwrap())
        .map(|s| s["traceId"].as_str().unwrap())
        .collect();
    assert_eq!(trace_ids.len(), 3);
    let want: HashSet<String> = store
        .find(&TraceQuery {
            limit: 3,
            ..TraceQuery::service("ledger.payments")
        })
        .iter()
        .map(|t| t.id_hex())
        .collect();
    assert_eq!(trace_ids, want.iter().map(String::as_str).collect());

    // Attributes and durations.
    // (payments-api v2 fails 8 % of its calls all the time.)
    let uri = format!(
        "{}&query.attributes={}&query.duration_min=1ms&query.duration_max=10s&query.num_traces=1000",
        base.replace("ledger.payments", "payments-api.payments"),
        enc(r#"{"grpc.status_code":"14"}"#)
    );
    let (status, body) = get(&app, &uri).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let spans: Vec<&Value> = body["result"]["resourceSpans"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rs| rs["scopeSpans"][0]["spans"].as_array().unwrap())
        .collect();
    assert!(spans.iter().any(|s| s["status"]["code"] == 2));

    // A trace by ID, and the 404.
    let id = trace_ids.iter().next().unwrap();
    let (status, one) = get(&app, &format!("/api/v3/traces/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let n = store
        .get(u128::from_str_radix(id, 16).unwrap())
        .unwrap()
        .spans
        .len();
    let count: usize = one["result"]["resourceSpans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rs| rs["scopeSpans"][0]["spans"].as_array().unwrap().len())
        .sum();
    assert_eq!(count, n);
    let (status, nf) = get(&app, "/api/v3/traces/00000000000000000000000000000abc").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        nf,
        json!({"error": {"httpCode": 404, "message": "trace not found"}})
    );

    // A search without results is a 404 in Jaeger's v3 gateway.
    let (status, nf) = get(&app, &format!("{base}&query.duration_min=1h")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        nf,
        json!({"error": {"httpCode": 404, "message": "No traces found"}})
    );

    // 400s.
    let (status, err) = get(&app, "/api/v3/traces?query.service_name=ledger.payments").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        err,
        json!({"error": {"httpCode": 400, "message": "query.start_time_min and query.start_time_max are required"}})
    );
    for bad in [
        format!("{base}&query.duration_min=soon"),
        format!("{base}&query.duration_max=5"),
        format!("{base}&query.num_traces=-1"),
        format!("{base}&query.attributes=notjson"),
        "/api/v3/traces?query.start_time_min=yesterday&query.start_time_max=today".to_owned(),
        "/api/v3/traces/xyz".to_owned(),
    ] {
        let (status, err) = get(&app, &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(err["error"]["httpCode"], 400, "{bad}");
        assert!(
            err["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
}

#[tokio::test]
async fn odd_input_never_panics() {
    let (store, mesh) = filled_store();
    let app = meshdeck_sim::traces::router(store, mesh);
    for uri in [
        "/api/traces?service=%FF%FE&limit=99999999999999999999999",
        "/api/traces?service=a&minDuration=99999999999999999999h",
        "/api/traces?service=a&tags=%7B%22a%22%3Anull%7D",
        "/api/traces?service=a&start=18446744073709551615&end=0",
        "/api/traces/%FF",
        "/api/traces/",
        "/api/services/%FF/operations",
        "/api/v3/traces?query.start_time_min=9999-12-31T23%3A59%3A59.999999999%2B23%3A59&query.start_time_max=1970-01-01T00%3A00%3A00Z",
        "/api/v3/traces?query.start_time_min=2023-11-14T22%3A13%3A20%C3%A9&query.start_time_max=x",
        "/api/v3/operations?span_kind=%00",
        "/api/v3/traces/%F0%9F%98%80",
    ] {
        let resp = app
            .clone()
            .oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert!(
            resp.status().is_success() || resp.status().is_client_error(),
            "{uri}: {}",
            resp.status()
        );
    }
}

#[tokio::test]
async fn a_store_following_the_clock_fills_itself() {
    let mesh = Arc::new(scenario::demo());
    let store = Arc::new(TraceStore::new(100, 0.5).following_clock(true));
    let app = meshdeck_sim::traces::router(store.clone(), mesh);
    let (status, body) = get(&app, "/api/services").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(store.len(), 1);
    assert!(!body["data"].as_array().unwrap().is_empty());
}
