//! Recorded answers of Jaeger's query APIs, both generations, decoded by
//! `upstream::jaeger::{v1, v3}` and checked against values read by hand
//! from the files in `tests/testdata/jaeger/{v1,v3}/`: a trace search
//! (`traces.json`), the service list (`services.json`) and the operations
//! of one service (`operations.json`).
//!
//! Honest origin: the files are answers of meshdeck's own simulator (crate
//! `sim`, `meshdeck_sim::traces::router` over the demo mesh), not of a real
//! Jaeger; no Jaeger binary was at hand. The simulator writes Jaeger's
//! documented shapes, but a real Jaeger may differ in details it does not
//! reproduce (extra fields, ids in other encodings).
//!
//! To regenerate them (the simulator's traces are deterministic for the
//! fixed window in [`record_answers`], so the files only change when the
//! simulator does):
//!
//! ```text
//! cargo test -p meshdeck --test jaeger_answers -- --ignored record_answers
//! ```
//!
//! then read the new files again and update the values checked below.

use std::path::PathBuf;
use std::sync::Arc;

use http::Request;
use http_body_util::BodyExt;
use meshdeck_server::traces::{Span, Trace};
use meshdeck_server::upstream::jaeger::{v1, v3};
use serde_json::Value;
use tower::ServiceExt;

fn dir(generation: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/testdata/jaeger")
        .join(generation)
}

fn answer(generation: &str, name: &str) -> Value {
    let path = dir(generation).join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn span<'a>(trace: &'a Trace, id: &str) -> &'a Span {
    trace
        .spans
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no span {id} in {}", trace.id))
}

fn tag<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    span.tags
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The recording window: the demo's traces, one a second, for 562 seconds
/// (the newest three then include a failed one).
const START_S: u64 = 1_700_000_000;
const END_S: u64 = START_S + 562;

/// Records the answers into `tests/testdata/jaeger/` (run by hand; see the
/// top of this file).
#[tokio::test]
#[ignore = "writes the golden files; run by hand to regenerate them"]
async fn record_answers() {
    let mesh = Arc::new(meshdeck_sim::scenario::demo());
    let store = meshdeck_sim::traces::TraceStore::new(5000, 1.0);
    store.fill_history(&mesh, START_S as f64, END_S as f64, 1.0);
    let app = meshdeck_sim::traces::router(Arc::new(store), mesh);
    let (start_us, end_us) = (START_S * 1_000_000, END_S * 1_000_000);
    let rfc3339 = |s: u64| app::format::rfc3339_from_us(i64::try_from(s * 1_000_000).unwrap());
    let search = "service=reviews.bookinfo&limit=3";
    let answers = [
        (
            "v1/traces.json",
            format!("/api/traces?{search}&start={start_us}&end={end_us}"),
        ),
        ("v1/services.json", "/api/services".to_owned()),
        (
            "v1/operations.json",
            "/api/services/reviews.bookinfo/operations".to_owned(),
        ),
        (
            "v3/traces.json",
            format!(
                "/api/v3/traces?query.service_name=reviews.bookinfo&query.num_traces=3\
                 &query.start_time_min={}&query.start_time_max={}",
                rfc3339(START_S),
                rfc3339(END_S)
            ),
        ),
        ("v3/services.json", "/api/v3/services".to_owned()),
        (
            "v3/operations.json",
            "/api/v3/operations?service=reviews.bookinfo".to_owned(),
        ),
    ];
    for (file, uri) in answers {
        let response = app
            .clone()
            .oneshot(Request::get(&uri).body(axum::body::Body::empty()).unwrap())
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{uri}: {}",
            response.status()
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let value: Value = serde_json::from_slice(&body).unwrap();
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/testdata/jaeger")
            .join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap() + "\n").unwrap();
    }
}

/// The search both generations answered: reviews.bookinfo, newest three.
const TRACE_IDS: [&str; 3] = [
    "a31a2d79e6a5c2ce1cb9e4aab0384d8b",
    "0d74ec0ee6c1041acd84a704131f1685",
    "00cd91bd1a4a9a21a328d7c2587b09d3",
];

/// Checks made on the traces of either generation: the values were read
/// by hand from `v1/traces.json` (v3 carries the same traces).
fn check_search(traces: &[Trace]) {
    let ids: Vec<(&str, usize)> = traces
        .iter()
        .map(|t| (t.id.as_str(), t.spans.len()))
        .collect();
    assert_eq!(
        ids,
        [(TRACE_IDS[0], 6), (TRACE_IDS[1], 8), (TRACE_IDS[2], 6)]
    );

    // The second trace crosses five processes: gateway, productpage,
    // details, reviews, ratings; ratings' server span hangs below reviews'
    // client span, below reviews' server span.
    let multi = &traces[1];
    let mut services: Vec<&str> = multi.spans.iter().map(|s| s.service.as_str()).collect();
    services.sort();
    services.dedup();
    assert_eq!(
        services,
        [
            "details.bookinfo",
            "istio-ingressgateway.istio-system",
            "productpage.bookinfo",
            "ratings.bookinfo",
            "reviews.bookinfo"
        ]
    );
    let ratings = span(multi, "ba7949b90704a326");
    assert_eq!(
        (ratings.service.as_str(), ratings.kind.as_deref()),
        ("ratings.bookinfo", Some("server"))
    );
    assert_eq!(ratings.parent.as_deref(), Some("56c211d8e3887251"));
    assert_eq!(
        span(multi, "56c211d8e3887251").parent.as_deref(),
        Some("9ae71c41bed872c0")
    );
    assert_eq!(span(multi, "c5028487e0474285").parent, None);
    assert_eq!(
        (ratings.start_us, ratings.duration_us),
        (1_700_000_560_008_195, 2926)
    );

    // The third trace failed: details answered 404 to productpage.
    let failed = &traces[2];
    let mut errors: Vec<&str> = failed
        .spans
        .iter()
        .filter(|s| s.error)
        .map(|s| s.id.as_str())
        .collect();
    errors.sort();
    assert_eq!(errors, ["4de71c948079afff", "93daa947ac2f6952"]);
    let details = span(failed, "4de71c948079afff");
    assert_eq!(details.service, "details.bookinfo");
    assert_eq!(
        details.operation,
        "details.bookinfo.svc.cluster.local:9080/*"
    );
    assert_eq!(details.parent.as_deref(), Some("93daa947ac2f6952"));
    assert_eq!(details.kind.as_deref(), Some("server"));
    // startTime 1700000559000766, duration 11195 (v3: end - start =
    // 1700000559011961000 - 1700000559000766000 ns).
    assert_eq!(
        (details.start_us, details.duration_us),
        (1_700_000_559_000_766, 11_195)
    );
    assert_eq!(tag(details, "http.status_code"), Some("404"));
    assert_eq!(tag(details, "http.method"), Some("GET"));
    assert_eq!(details.logs.len(), 1);
    assert_eq!(details.logs[0].timestamp_us, 1_700_000_559_011_961);
    assert_eq!(
        details.logs[0].fields,
        [
            ("event".to_owned(), "error".to_owned()),
            ("message".to_owned(), "404 Not Found".to_owned())
        ]
    );
    // The deepest failing span is the likely cause.
    assert_eq!(
        meshdeck_server::traces::root_cause(failed).as_deref(),
        Some("4de71c948079afff")
    );
    let counts: Vec<usize> = traces
        .iter()
        .map(|t| meshdeck_server::traces::summary(t).error_count)
        .collect();
    assert_eq!(counts, [0, 0, 2]);
}

#[test]
fn v1_answers_decode_to_the_values_in_the_files() {
    let traces = v1::decode(&answer("v1", "traces.json"));
    check_search(&traces);
    // v1 carries kind and error as tags (`span.kind`, `error`, typed bool).
    let details = span(&traces[2], "4de71c948079afff");
    assert_eq!(tag(details, "span.kind"), Some("server"));
    assert_eq!(tag(details, "error"), Some("true"));

    let services = v1::decode_names(&answer("v1", "services.json"));
    assert_eq!(services.len(), 7);
    assert_eq!(services[0], "details.bookinfo");
    assert!(services.iter().any(|s| s == "payments-api.payments"));
    assert_eq!(
        v1::decode_names(&answer("v1", "operations.json")),
        [
            "ratings.bookinfo.svc.cluster.local:9080/*",
            "reviews.bookinfo.svc.cluster.local:9080/*"
        ]
    );
}

#[test]
fn v3_answers_decode_to_the_values_in_the_files() {
    let traces = v3::decode(&answer("v3", "traces.json"));
    check_search(&traces);
    // v3 carries kind and error outside the attributes (`kind`, `status`).
    let details = span(&traces[2], "4de71c948079afff");
    assert_eq!(tag(details, "span.kind"), None);
    assert_eq!(tag(details, "error"), None);

    let services = v3::decode_services(&answer("v3", "services.json"));
    assert_eq!(services, v1::decode_names(&answer("v1", "services.json")));
    assert_eq!(
        v3::decode_operations(&answer("v3", "operations.json")),
        [
            "ratings.bookinfo.svc.cluster.local:9080/*",
            "reviews.bookinfo.svc.cluster.local:9080/*"
        ]
    );
}

#[test]
fn both_generations_decode_to_the_same_traces() {
    let v1 = v1::decode(&answer("v1", "traces.json"));
    let v3 = v3::decode(&answer("v3", "traces.json"));
    assert_eq!(v1.len(), v3.len());
    for (a, b) in v1.iter().zip(&v3) {
        assert_eq!(a.id, b.id);
        // Everything but the tags v3 carries elsewhere; spans by id, as v3
        // groups them by process.
        let key = |s: &Span| {
            let tags: Vec<(String, String)> = s
                .tags
                .iter()
                .filter(|(k, _)| k != "span.kind" && k != "error")
                .cloned()
                .collect();
            (
                s.id.clone(),
                s.parent.clone(),
                s.service.clone(),
                s.operation.clone(),
                s.kind.clone(),
                s.start_us,
                s.duration_us,
                s.error,
                tags,
                s.logs
                    .iter()
                    .map(|l| (l.timestamp_us, l.fields.clone()))
                    .collect::<Vec<_>>(),
            )
        };
        let mut left: Vec<_> = a.spans.iter().map(key).collect();
        let mut right: Vec<_> = b.spans.iter().map(key).collect();
        left.sort();
        right.sort();
        assert_eq!(left, right, "{}", a.id);
        assert_eq!(
            meshdeck_server::traces::summary(a),
            meshdeck_server::traces::summary(b)
        );
    }
}
