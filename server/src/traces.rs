//! Traces: Jaeger's two API generations parsed into one model, the
//! waterfall view, the likely root cause, and scoping (members see traces of
//! their namespaces' services; spans of other namespaces lose their tags and
//! logs). Parsing works on `serde_json::Value`, so unknown fields, missing
//! processes, orphaned spans and odd types never fail or panic.

use std::collections::{BTreeSet, HashMap};

use app::types::{SpanLog, SpanView, TraceDetail, TraceSummary};
use serde_json::Value;

use crate::access::AccessScope;

/// A span, whatever API it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    /// Span id (hex).
    pub id: String,
    /// Parent span id (hex), if any.
    pub parent: Option<String>,
    /// Service name.
    pub service: String,
    /// Operation name.
    pub operation: String,
    /// `client` / `server` where known.
    pub kind: Option<String>,
    /// Start (Unix microseconds).
    pub start_us: i64,
    /// Duration (microseconds).
    pub duration_us: i64,
    /// Tags as strings.
    pub tags: Vec<(String, String)>,
    /// Logs.
    pub logs: Vec<SpanLog>,
    /// Marked as an error (tag `error=true` or OTLP status ERROR).
    pub error: bool,
}

/// A trace: its id and spans.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// Trace id (hex).
    pub id: String,
    /// Its spans, in no particular order.
    pub spans: Vec<Span>,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .unwrap_or(0),
        Value::String(s) => s
            .parse::<i64>()
            .or_else(|_| s.parse::<f64>().map(|f| f as i64))
            .unwrap_or(0),
        _ => 0,
    }
}

fn array(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn is_error_tag(key: &str, value: &str) -> bool {
    key == "error" && value == "true"
}

/// Jaeger v1: `{"data": [trace, ...]}` where a trace is `{traceID, spans,
/// processes}`.
pub fn parse_v1(body: &Value) -> Vec<Trace> {
    array(&body["data"])
        .iter()
        .filter_map(parse_v1_trace)
        .collect()
}

fn parse_v1_trace(t: &Value) -> Option<Trace> {
    let id = t["traceID"].as_str()?.to_owned();
    let processes = t["processes"].as_object();
    let spans = array(&t["spans"])
        .iter()
        .filter_map(|s| {
            let span_id = s["spanID"].as_str()?.to_owned();
            let service = s["processID"]
                .as_str()
                .and_then(|p| processes.and_then(|ps| ps.get(p)))
                .and_then(|p| p["serviceName"].as_str())
                .unwrap_or("unknown")
                .to_owned();
            let parent = array(&s["references"])
                .iter()
                .find(|r| r["refType"].as_str() == Some("CHILD_OF"))
                .or_else(|| array(&s["references"]).first())
                .and_then(|r| r["spanID"].as_str())
                .map(str::to_owned);
            let tags: Vec<(String, String)> = array(&s["tags"])
                .iter()
                .filter_map(|t| Some((t["key"].as_str()?.to_owned(), text(&t["value"]))))
                .collect();
            let logs = array(&s["logs"])
                .iter()
                .map(|l| SpanLog {
                    timestamp_us: int(&l["timestamp"]),
                    fields: array(&l["fields"])
                        .iter()
                        .filter_map(|f| Some((f["key"].as_str()?.to_owned(), text(&f["value"]))))
                        .collect(),
                })
                .collect();
            let kind = tags
                .iter()
                .find(|(k, _)| k == "span.kind")
                .map(|(_, v)| v.clone());
            let error = tags.iter().any(|(k, v)| is_error_tag(k, v));
            Some(Span {
                id: span_id,
                parent,
                service,
                operation: text(&s["operationName"]),
                kind,
                start_us: int(&s["startTime"]),
                duration_us: int(&s["duration"]).max(0),
                tags,
                logs,
                error,
            })
        })
        .collect();
    Some(Trace { id, spans })
}

fn otlp_value(v: &Value) -> String {
    for key in ["stringValue", "intValue", "boolValue", "doubleValue"] {
        if let Some(x) = v.get(key) {
            return text(x);
        }
    }
    text(v)
}

/// Jaeger v3: OTLP JSON, `{"result": {"resourceSpans": [...]}}` (also
/// accepted without the `result` wrapper). Spans are grouped by trace id.
pub fn parse_v3(body: &Value) -> Vec<Trace> {
    let root = if body.get("result").is_some() {
        &body["result"]
    } else {
        body
    };
    let mut traces: Vec<Trace> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for rs in array(&root["resourceSpans"]) {
        let service = array(&rs["resource"]["attributes"])
            .iter()
            .find(|a| a["key"].as_str() == Some("service.name"))
            .map(|a| otlp_value(&a["value"]))
            .unwrap_or_else(|| "unknown".into());
        for ss in array(&rs["scopeSpans"]) {
            for s in array(&ss["spans"]) {
                let (Some(trace_id), Some(span_id)) = (s["traceId"].as_str(), s["spanId"].as_str())
                else {
                    continue;
                };
                let start_ns = int(&s["startTimeUnixNano"]);
                let end_ns = int(&s["endTimeUnixNano"]);
                let tags: Vec<(String, String)> = array(&s["attributes"])
                    .iter()
                    .filter_map(|a| Some((a["key"].as_str()?.to_owned(), otlp_value(&a["value"]))))
                    .collect();
                let kind = match s["kind"].as_i64() {
                    Some(2) => Some("server".to_owned()),
                    Some(3) => Some("client".to_owned()),
                    _ => None,
                };
                let error = s["status"]["code"].as_i64() == Some(2)
                    || tags.iter().any(|(k, v)| is_error_tag(k, v));
                let logs = array(&s["events"])
                    .iter()
                    .map(|e| {
                        let mut fields = vec![("event".to_owned(), text(&e["name"]))];
                        fields.extend(array(&e["attributes"]).iter().filter_map(|a| {
                            Some((a["key"].as_str()?.to_owned(), otlp_value(&a["value"])))
                        }));
                        SpanLog {
                            timestamp_us: int(&e["timeUnixNano"]) / 1000,
                            fields,
                        }
                    })
                    .collect();
                let span = Span {
                    id: span_id.to_owned(),
                    parent: s["parentSpanId"]
                        .as_str()
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned),
                    service: service.clone(),
                    operation: text(&s["name"]),
                    kind,
                    start_us: start_ns / 1000,
                    duration_us: ((end_ns - start_ns) / 1000).max(0),
                    tags,
                    logs,
                    error,
                };
                let i = *index.entry(trace_id.to_owned()).or_insert_with(|| {
                    traces.push(Trace {
                        id: trace_id.to_owned(),
                        spans: Vec::new(),
                    });
                    traces.len() - 1
                });
                traces[i].spans.push(span);
            }
        }
    }
    traces
}

/// The namespace of an Istio service name `<app>.<namespace>`.
pub fn service_namespace(service: &str) -> Option<&str> {
    service
        .rsplit_once('.')
        .map(|(_, ns)| ns)
        .filter(|ns| !ns.is_empty())
}

/// Whether `scope` may see spans of `service`.
pub fn may_see_service(scope: &AccessScope, service: &str) -> bool {
    scope.namespace_filter().is_none()
        || service_namespace(service).is_some_and(|ns| scope.can_see(ns))
}

/// Spans in waterfall order: depth-first from the roots (spans without a
/// parent in the trace, e.g. when the parent was not collected), children
/// by start time; each with its depth.
fn ordered(trace: &Trace) -> Vec<(usize, &Span)> {
    let ids: BTreeSet<&str> = trace.spans.iter().map(|s| s.id.as_str()).collect();
    let mut children: HashMap<&str, Vec<&Span>> = HashMap::new();
    let mut roots: Vec<&Span> = Vec::new();
    for span in &trace.spans {
        match span
            .parent
            .as_deref()
            .filter(|p| ids.contains(p) && *p != span.id)
        {
            Some(p) => children.entry(p).or_default().push(span),
            None => roots.push(span),
        }
    }
    roots.sort_by_key(|s| s.start_us);
    for list in children.values_mut() {
        list.sort_by_key(|s| s.start_us);
    }
    let mut out = Vec::with_capacity(trace.spans.len());
    let mut seen = BTreeSet::new();
    let mut stack: Vec<(usize, &Span)> = roots.into_iter().rev().map(|s| (0, s)).collect();
    while let Some((depth, span)) = stack.pop() {
        // A cycle of parent links would loop forever: visit each span once.
        if !seen.insert(span.id.as_str()) {
            continue;
        }
        out.push((depth, span));
        if let Some(kids) = children.get(span.id.as_str()) {
            stack.extend(kids.iter().rev().map(|k| (depth + 1, *k)));
        }
    }
    out
}

/// The likely root cause: among failing spans, those with no failing
/// descendant end an error path; of those, the deepest (then the earliest).
pub fn root_cause(trace: &Trace) -> Option<String> {
    let order = ordered(trace);
    let position: HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, (_, s))| (s.id.as_str(), i))
        .collect();
    // A span has a failing descendant if any later span in DFS order within
    // its subtree fails; compute bottom-up via parent links.
    let mut failing_below: HashMap<&str, bool> = HashMap::new();
    for (_, span) in order.iter().rev() {
        let below = failing_below
            .get(span.id.as_str())
            .copied()
            .unwrap_or(false);
        if let Some(parent) = span.parent.as_deref().filter(|p| position.contains_key(p)) {
            let entry = failing_below.entry(parent).or_insert(false);
            *entry = *entry || below || span.error;
        }
    }
    order
        .iter()
        .filter(|(_, s)| s.error && !failing_below.get(s.id.as_str()).copied().unwrap_or(false))
        .max_by(|(da, a), (db, b)| da.cmp(db).then(b.start_us.cmp(&a.start_us)))
        .map(|(_, s)| s.id.clone())
}

fn bounds(trace: &Trace) -> (i64, i64) {
    let start = trace.spans.iter().map(|s| s.start_us).min().unwrap_or(0);
    let end = trace
        .spans
        .iter()
        .map(|s| s.start_us + s.duration_us)
        .max()
        .unwrap_or(start);
    (start, end - start)
}

/// The summary row of a trace.
pub fn summary(trace: &Trace) -> TraceSummary {
    let order = ordered(trace);
    let root = order.first().map(|(_, s)| *s);
    let (start_us, duration_us) = bounds(trace);
    let services: BTreeSet<String> = trace.spans.iter().map(|s| s.service.clone()).collect();
    TraceSummary {
        trace_id: trace.id.clone(),
        root_service: root.map(|s| s.service.clone()).unwrap_or_default(),
        root_operation: root.map(|s| s.operation.clone()).unwrap_or_default(),
        start_us,
        duration_us,
        span_count: trace.spans.len(),
        error_count: trace.spans.iter().filter(|s| s.error).count(),
        services: services.into_iter().collect(),
    }
}

/// The waterfall of a trace as `scope` may see it.
pub fn detail(trace: &Trace, scope: &AccessScope) -> TraceDetail {
    let (start_us, duration_us) = bounds(trace);
    let spans = ordered(trace)
        .into_iter()
        .map(|(depth, s)| {
            let visible = may_see_service(scope, &s.service);
            SpanView {
                span_id: s.id.clone(),
                parent_id: s.parent.clone(),
                depth,
                service: s.service.clone(),
                operation: s.operation.clone(),
                kind: s.kind.clone(),
                start_us: s.start_us,
                duration_us: s.duration_us,
                error: s.error,
                tags: if visible { s.tags.clone() } else { Vec::new() },
                logs: if visible { s.logs.clone() } else { Vec::new() },
                redacted: !visible,
            }
        })
        .collect();
    let services: BTreeSet<String> = trace.spans.iter().map(|s| s.service.clone()).collect();
    TraceDetail {
        trace_id: trace.id.clone(),
        start_us,
        duration_us,
        spans,
        root_cause: root_cause(trace),
        services: services.into_iter().collect(),
    }
}

/// Parses a Jaeger-style duration (`1.5s`, `100ms`, `500us`, `2m`, `1h`)
/// into microseconds.
pub fn parse_duration_us(text: &str) -> Option<i64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let n: f64 = number.parse().ok()?;
    let factor = match unit {
        "us" | "µs" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" => 60e6,
        "h" => 3600e6,
        _ => return None,
    };
    let us = n * factor;
    (0.0..1e15).contains(&us).then_some(us.round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::NamespaceAccess;

    fn span(
        id: &str,
        parent: Option<&str>,
        service: &str,
        start: i64,
        duration: i64,
        error: bool,
    ) -> Span {
        Span {
            id: id.into(),
            parent: parent.map(str::to_owned),
            service: service.into(),
            operation: format!("op-{id}"),
            kind: None,
            start_us: start,
            duration_us: duration,
            tags: vec![(
                "http.status_code".into(),
                if error { "503" } else { "200" }.into(),
            )],
            logs: vec![],
            error,
        }
    }

    fn trace(spans: Vec<Span>) -> Trace {
        Trace {
            id: "t1".into(),
            spans,
        }
    }

    #[test]
    fn the_deepest_failing_span_is_the_root_cause() {
        // gateway -> productpage (503) -> reviews (503) -> ratings (503)
        //                              -> details (ok)
        let t = trace(vec![
            span("a", None, "gw.istio-system", 0, 100, false),
            span("b", Some("a"), "productpage.bookinfo", 5, 90, true),
            span("c", Some("b"), "reviews.bookinfo", 10, 50, true),
            span("d", Some("c"), "ratings.bookinfo", 20, 10, true),
            span("e", Some("b"), "details.bookinfo", 70, 10, false),
        ]);
        assert_eq!(root_cause(&t).as_deref(), Some("d"));
    }

    #[test]
    fn two_error_paths_pick_the_deeper_end() {
        // a -> b (err) -> c (err)        depth 2
        // a -> d (err) -> e -> f (err)   depth 3
        let t = trace(vec![
            span("a", None, "s.x", 0, 100, false),
            span("b", Some("a"), "s.x", 1, 10, true),
            span("c", Some("b"), "s.x", 2, 5, true),
            span("d", Some("a"), "s.x", 20, 50, true),
            span("e", Some("d"), "s.x", 21, 40, false),
            span("f", Some("e"), "s.x", 22, 30, true),
        ]);
        assert_eq!(root_cause(&t).as_deref(), Some("f"));
        // A failing span whose failing child is the cause is not it.
        let t = trace(vec![
            span("a", None, "s.x", 0, 10, true),
            span("b", Some("a"), "s.x", 1, 5, true),
        ]);
        assert_eq!(root_cause(&t).as_deref(), Some("b"));
        assert_eq!(
            root_cause(&trace(vec![span("a", None, "s.x", 0, 10, false)])),
            None
        );
    }

    #[test]
    fn orphans_and_cycles_do_not_break_the_waterfall() {
        let t = trace(vec![
            span("a", None, "s.x", 0, 100, false),
            span("b", Some("missing"), "s.x", 10, 10, false),
            span("c", Some("d"), "s.x", 20, 10, false),
            span("d", Some("c"), "s.x", 30, 10, false),
        ]);
        let d = detail(&t, &AccessScope::owner("admin"));
        // a and the orphan b are roots; the c<->d cycle has no root and is dropped.
        assert_eq!(
            d.spans
                .iter()
                .map(|s| s.span_id.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(d.duration_us, 100);
    }

    #[test]
    fn spans_outside_the_scope_lose_tags_and_logs() {
        let t = trace(vec![
            span("a", None, "productpage.bookinfo", 0, 100, false),
            span("b", Some("a"), "payments-api.payments", 10, 50, false),
        ]);
        let alice = AccessScope {
            user: "alice".into(),
            groups: vec![],
            owner: false,
            namespaces: NamespaceAccess::Only(["bookinfo".to_string()].into()),
            may_see_graph: true,
            may_see_traces: true,
        };
        let d = detail(&t, &alice);
        assert!(!d.spans[0].redacted && !d.spans[0].tags.is_empty());
        assert!(d.spans[1].redacted && d.spans[1].tags.is_empty());
        assert_eq!(d.spans[1].service, "payments-api.payments");
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
                 "tags": [{"key": "error", "type": "bool", "value": true}, {"key": "http.status_code", "type": "int64", "value": 503}],
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
        let a = &parse_v1(&v1)[0];
        let b = &parse_v3(&v3)[0];
        assert_eq!(a.id, b.id);
        for (x, y) in a.spans.iter().zip(&b.spans) {
            assert_eq!(
                (
                    &x.id,
                    &x.parent,
                    &x.service,
                    x.start_us,
                    x.duration_us,
                    x.error
                ),
                (
                    &y.id,
                    &y.parent,
                    &y.service,
                    y.start_us,
                    y.duration_us,
                    y.error
                )
            );
        }
        assert_eq!(root_cause(a).as_deref(), Some("0000000000000002"));
        assert_eq!(summary(a).error_count, 1);
        assert_eq!(summary(b).root_service, "productpage.bookinfo");
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
            for t in parse_v1(c).iter().chain(parse_v3(c).iter()) {
                let _ = detail(t, &AccessScope::owner("admin"));
                let _ = summary(t);
            }
        }
        // A small deterministic fuzz: random JSON trees built from the same
        // shapes never panic either.
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        let atoms = [
            serde_json::json!(null),
            serde_json::json!(1),
            serde_json::json!("s"),
            serde_json::json!(true),
            serde_json::json!([]),
            serde_json::json!({}),
        ];
        let keys = [
            "data",
            "spans",
            "spanID",
            "traceID",
            "references",
            "processes",
            "processID",
            "tags",
            "logs",
            "result",
            "resourceSpans",
            "scopeSpans",
            "traceId",
            "spanId",
            "parentSpanId",
            "startTime",
            "duration",
            "startTimeUnixNano",
            "endTimeUnixNano",
            "attributes",
            "events",
            "status",
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
            for t in parse_v1(&v).iter().chain(parse_v3(&v).iter()) {
                let _ = detail(t, &AccessScope::owner("admin"));
                let _ = root_cause(t);
            }
        }
    }

    #[test]
    fn durations_parse_like_jaeger() {
        assert_eq!(parse_duration_us("1.5s"), Some(1_500_000));
        assert_eq!(parse_duration_us("100ms"), Some(100_000));
        assert_eq!(parse_duration_us("500us"), Some(500));
        assert_eq!(parse_duration_us("2m"), Some(120_000_000));
        for bad in ["", "ms", "10", "1.2.3s", "-5ms", "5 parsecs"] {
            assert_eq!(parse_duration_us(bad), None, "{bad}");
        }
    }

    #[test]
    fn istio_service_names_carry_the_namespace() {
        assert_eq!(service_namespace("reviews.bookinfo"), Some("bookinfo"));
        assert_eq!(
            service_namespace("istio-ingressgateway.istio-system"),
            Some("istio-system")
        );
        assert_eq!(service_namespace("frontend"), None);
    }
}
