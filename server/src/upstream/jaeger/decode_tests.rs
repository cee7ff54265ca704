//! Tests of both generations' decoders together: the same trace in v1
//! and v3, malformed and random answers, extreme times.

use app::types::SpanLog;
use serde_json::Value;

use super::{v1, v3};
use crate::access::AccessScope;
use crate::traces::{MAX_TIME_US, Span, Trace, detail, root_cause, summary};

/// What the pages do with a decoded trace, which must hold together
/// whatever the answer was.
pub(super) fn exercise(t: &Trace) {
    let d = detail(t, &AccessScope::owner("admin"));
    let sum = summary(t);
    assert_eq!(d.spans.len(), t.spans.len());
    assert_eq!(sum.span_count, t.spans.len());
    assert!(d.duration_us >= 0);
    let _ = root_cause(t);
}

#[test]
fn extreme_timestamps_are_clamped_not_overflowed() {
    // Regression: end - start and start + duration overflowed i64.
    let v3 = serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "t", "spanId": "1", "startTimeUnixNano": i64::MIN, "endTimeUnixNano": i64::MAX},
        {"traceId": "t", "spanId": "2", "parentSpanId": "1",
         "startTimeUnixNano": "-9223372036854775808", "endTimeUnixNano": "9223372036854775807"},
        {"traceId": "t", "spanId": "3", "parentSpanId": "1",
         "startTimeUnixNano": 1e300, "endTimeUnixNano": -1e300,
         "events": [{"timeUnixNano": "1e300"}, {"timeUnixNano": -5}]}
    ]}]}]});
    let v1 = serde_json::json!({"data": [{"traceID": "t", "spans": [
        {"spanID": "1", "startTime": i64::MAX, "duration": i64::MAX,
         "logs": [{"timestamp": i64::MIN}]},
        {"spanID": "2", "startTime": "-9223372036854775808", "duration": "9223372036854775807"},
        {"spanID": "3", "startTime": -1, "duration": 1e300}
    ]}]});
    for t in v3::decode(&v3).iter().chain(&v1::decode(&v1)) {
        assert_eq!(t.spans.len(), 3, "{t:?}");
        for s in &t.spans {
            assert!((0..=MAX_TIME_US).contains(&s.start_us), "{s:?}");
            assert!((0..=MAX_TIME_US).contains(&s.duration_us), "{s:?}");
            for l in &s.logs {
                assert!((0..=MAX_TIME_US).contains(&l.timestamp_us), "{s:?}");
            }
        }
        let d = detail(t, &AccessScope::owner("admin"));
        let sum = summary(t);
        assert_eq!((d.start_us, d.duration_us), (sum.start_us, sum.duration_us));
        assert!(d.duration_us >= 0 && d.start_us.checked_add(d.duration_us).is_some());
    }
    // Specific clamps: a span from i64::MIN to i64::MAX nanoseconds
    // starts at 0 and lasts i64::MAX ns (the difference saturates),
    // 9_223_372_036_854_775 us; a backwards span lasts 0.
    let t = &v3::decode(&v3)[0];
    assert_eq!(
        (t.spans[0].start_us, t.spans[0].duration_us),
        (0, 9_223_372_036_854_775)
    );
    assert_eq!(
        (t.spans[2].start_us, t.spans[2].duration_us),
        (9_223_372_036_854_775, 0)
    );
    let t = &v1::decode(&v1)[0];
    assert_eq!(
        (t.spans[0].start_us, t.spans[0].duration_us),
        (MAX_TIME_US, MAX_TIME_US)
    );
    assert_eq!(
        (t.spans[2].start_us, t.spans[2].duration_us),
        (0, MAX_TIME_US)
    );
    // Bounds: from 0 to the latest end, MAX + MAX (no overflow).
    let sum = summary(t);
    assert_eq!((sum.start_us, sum.duration_us), (0, 2 * MAX_TIME_US));
}

#[test]
fn v1_and_v3_payloads_parse_to_the_same_trace() {
    let v1 = serde_json::json!({"data": [{
        "traceID": "00000000000000000000000000000abc",
        "spans": [
            {"traceID": "abc", "spanID": "0000000000000001", "operationName": "GET /", "references": [],
             "startTime": 1_700_000_000_000_000i64, "duration": 1500, "processID": "p1",
             "tags": [{"key": "span.kind", "type": "string", "value": "server"}], "logs": [], "unknownField": 7},
            {"traceID": "abc", "spanID": "0000000000000002", "operationName": "ratings",
             "references": [{"refType": "CHILD_OF", "traceID": "abc", "spanID": "0000000000000001"}],
             "startTime": 1_700_000_000_000_100i64, "duration": 900, "processID": "p2",
             "tags": [{"key": "span.kind", "type": "string", "value": "client"}, {"key": "error", "type": "bool", "value": true}, {"key": "http.status_code", "type": "int64", "value": 503}],
             "logs": [{"timestamp": 1_700_000_000_000_200i64, "fields": [{"key": "event", "type": "string", "value": "error"}]}]}
        ],
        "processes": {"p1": {"serviceName": "productpage.bookinfo", "tags": []}, "p2": {"serviceName": "ratings.bookinfo"}}
    }], "total": 1, "limit": 0, "offset": 0, "errors": null});
    let v3 = serde_json::json!({"result": {"resourceSpans": [
        {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "productpage.bookinfo"}}]},
         "scopeSpans": [{"scope": {"name": "envoy"}, "spans": [
            {"traceId": "00000000000000000000000000000abc", "spanId": "0000000000000001", "name": "GET /", "kind": 2,
             "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000001500000", "attributes": []}]}]},
        {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "ratings.bookinfo"}}]},
         "scopeSpans": [{"spans": [
            {"traceId": "00000000000000000000000000000abc", "spanId": "0000000000000002", "parentSpanId": "0000000000000001",
             "name": "ratings", "kind": 3, "startTimeUnixNano": "1700000000000100000", "endTimeUnixNano": "1700000000001000000",
             "attributes": [{"key": "http.status_code", "value": {"intValue": "503"}}],
             "events": [{"timeUnixNano": "1700000000000200000", "name": "error"}],
             "status": {"code": 2, "message": "503"}}]}]}
    ]}});
    let a = &v1::decode(&v1)[0];
    let b = &v3::decode(&v3)[0];
    assert_eq!(a.id, b.id);
    // Same spans, not just a common prefix.
    assert_eq!((a.spans.len(), b.spans.len()), (2, 2));
    let key = |s: &Span| {
        (
            s.id.clone(),
            s.parent.clone(),
            s.service.clone(),
            s.operation.clone(),
            s.kind.clone(),
            s.start_us,
            s.duration_us,
            s.error,
            s.logs.clone(),
        )
    };
    assert_eq!(
        a.spans.iter().map(key).collect::<Vec<_>>(),
        b.spans.iter().map(key).collect::<Vec<_>>()
    );
    // v3: kind from the enum, attributes as tags, events as logs.
    let ratings = &b.spans[1];
    assert_eq!(
        (b.spans[0].kind.as_deref(), ratings.kind.as_deref()),
        (Some("server"), Some("client"))
    );
    assert_eq!(
        ratings.tags,
        [("http.status_code".to_owned(), "503".to_owned())]
    );
    assert_eq!(
        ratings.logs,
        [SpanLog {
            timestamp_us: 1_700_000_000_000_200,
            fields: vec![("event".into(), "error".into())],
        }]
    );
    assert_eq!(
        (ratings.start_us, ratings.duration_us),
        (1_700_000_000_000_100, 900)
    );
    // v1: tags with their JSON types flattened to text.
    assert!(a.spans[1].tags.contains(&("error".into(), "true".into())));
    assert!(
        a.spans[1]
            .tags
            .contains(&("http.status_code".into(), "503".into()))
    );
    for t in [a, b] {
        assert_eq!(root_cause(t).as_deref(), Some("0000000000000002"));
        let sum = summary(t);
        assert_eq!(
            (sum.error_count, sum.span_count, sum.duration_us),
            (1, 2, 1500)
        );
        assert_eq!(sum.root_service, "productpage.bookinfo");
    }
}

#[test]
fn malformed_payloads_never_panic() {
    let cases = [
        serde_json::json!(null),
        serde_json::json!({"data": "nope"}),
        serde_json::json!({"data": [{"spans": 3}]}),
        serde_json::json!({"data": [{"traceID": 1, "spans": [{"spanID": null}]}]}),
        serde_json::json!({"data": [{"traceID": "x", "spans": [{"spanID": "1", "startTime": "soon", "duration": -5, "references": [{"spanID": 9}]}]}]}),
        serde_json::json!({"result": {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "a", "spanId": "b", "startTimeUnixNano": "x"}]}]}]}}),
        serde_json::json!({"resourceSpans": 5}),
    ];
    for c in &cases {
        for t in v1::decode(c).iter().chain(v3::decode(c).iter()) {
            exercise(t);
        }
    }
    // Garbage values parse to neutral ones.
    let t = &v1::decode(&cases[4])[0];
    assert_eq!(
        (
            t.spans[0].start_us,
            t.spans[0].duration_us,
            &t.spans[0].parent
        ),
        (0, 0, &None)
    );
}

/// A deterministic pseudo-random source.
fn lcg(mut seed: u64) -> impl FnMut() -> usize {
    move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    }
}

/// Leaf values for the fuzz tests, extreme numbers included.
fn atoms() -> Vec<Value> {
    vec![
        serde_json::json!(null),
        serde_json::json!(1),
        serde_json::json!(-1),
        serde_json::json!(0),
        serde_json::json!(i64::MIN),
        serde_json::json!(i64::MAX),
        serde_json::json!(u64::MAX),
        serde_json::json!(1e300),
        serde_json::json!(-1e300),
        serde_json::json!(1.5),
        serde_json::json!("s"),
        serde_json::json!("1"),
        serde_json::json!(i64::MIN.to_string()),
        serde_json::json!(i64::MAX.to_string()),
        serde_json::json!(u64::MAX.to_string()),
        serde_json::json!("1e300"),
        serde_json::json!("-1e300"),
        serde_json::json!("NaN"),
        serde_json::json!("SPAN_KIND_SERVER"),
        serde_json::json!("STATUS_CODE_ERROR"),
        serde_json::json!(true),
        serde_json::json!([]),
        serde_json::json!({}),
    ]
}

#[test]
fn random_json_never_panics_the_parser() {
    // Random JSON trees built from the payloads' keys and extreme atoms.
    let mut next = lcg(7);
    let atoms = atoms();
    let keys = [
        "data",
        "spans",
        "spanID",
        "traceID",
        "references",
        "refType",
        "processes",
        "processID",
        "serviceName",
        "tags",
        "key",
        "value",
        "logs",
        "fields",
        "timestamp",
        "result",
        "resourceSpans",
        "resource",
        "scopeSpans",
        "traceId",
        "spanId",
        "parentSpanId",
        "startTime",
        "duration",
        "startTimeUnixNano",
        "endTimeUnixNano",
        "timeUnixNano",
        "attributes",
        "events",
        "status",
        "code",
        "kind",
    ];
    fn build(
        depth: usize,
        next: &mut dyn FnMut() -> usize,
        atoms: &[Value],
        keys: &[&str],
    ) -> Value {
        if depth == 0 || next() % 3 == 0 {
            return atoms[next() % atoms.len()].clone();
        }
        if next() % 2 == 0 {
            Value::Array(
                (0..next() % 4)
                    .map(|_| build(depth - 1, next, atoms, keys))
                    .collect(),
            )
        } else {
            Value::Object(
                (0..next() % 5)
                    .map(|_| {
                        (
                            keys[next() % keys.len()].to_string(),
                            build(depth - 1, next, atoms, keys),
                        )
                    })
                    .collect(),
            )
        }
    }
    for _ in 0..2000 {
        let v = build(6, &mut next, &atoms, &keys);
        for t in v1::decode(&v).iter().chain(v3::decode(&v).iter()) {
            exercise(t);
        }
    }

    // Well-formed skeletons with random values in every field, so the
    // arithmetic on times, parents and kinds is reached every time.
    let ids = ["1", "2", "3", "1"];
    let mut reached = 0;
    for _ in 0..2000 {
        let mut pick = || atoms[next() % atoms.len()].clone();
        let mut v1_spans = Vec::new();
        let mut v3_spans = Vec::new();
        for id in ids {
            let parent = ids[pick().as_u64().unwrap_or(0) as usize % ids.len()];
            v1_spans.push(serde_json::json!({
                "spanID": id, "processID": "p", "startTime": pick(), "duration": pick(),
                "references": [{"refType": "CHILD_OF", "spanID": parent}],
                "tags": [{"key": "error", "value": pick()}, {"key": "span.kind", "value": pick()}],
                "logs": [{"timestamp": pick(), "fields": [{"key": "k", "value": pick()}]}]
            }));
            v3_spans.push(serde_json::json!({
                "traceId": "t", "spanId": id, "parentSpanId": parent,
                "startTimeUnixNano": pick(), "endTimeUnixNano": pick(),
                "kind": pick(), "status": {"code": pick()},
                "events": [{"timeUnixNano": pick(), "name": pick()}]
            }));
        }
        let v1 = serde_json::json!({"data": [{"traceID": "t", "spans": v1_spans,
            "processes": {"p": {"serviceName": "a.b"}}}]});
        let v3 = serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": v3_spans}]}]});
        for t in v1::decode(&v1).iter().chain(v3::decode(&v3).iter()) {
            assert_eq!(t.spans.len(), ids.len());
            exercise(t);
            reached += 1;
        }
    }
    assert_eq!(reached, 4000);
}
