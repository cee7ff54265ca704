//! Traces: Jaeger's two API generations parsed into one model, the
//! waterfall view, the likely root cause, and scoping (members see traces of
//! their namespaces' services; spans of other namespaces lose their tags and
//! logs). Parsing works on `serde_json::Value`, so unknown fields, missing
//! processes, orphaned spans and odd types never fail or panic.

use std::collections::{BTreeSet, HashMap};

use app::types::{SpanLog, SpanView, TRACE_UNITS, TimeSpan, TraceDetail, TraceSummary};
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

/// The latest time a span may carry: the end of year 9999 in Unix
/// microseconds. Times and durations are clamped to `0..=MAX_TIME_US`, so
/// sums and differences of two of them cannot overflow anywhere downstream
/// (the server's bounds, the page's bar offsets).
pub const MAX_TIME_US: i64 = 253_402_300_799_999_999;

/// A parsed time or duration in microseconds, clamped to `0..=MAX_TIME_US`.
fn clamp_us(us: i64) -> i64 {
    us.clamp(0, MAX_TIME_US)
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
                    timestamp_us: clamp_us(int(&l["timestamp"])),
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
                start_us: clamp_us(int(&s["startTime"])),
                duration_us: clamp_us(int(&s["duration"])),
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

/// An OTLP span kind, given as the enum's number (`2`) or name
/// (`"SPAN_KIND_SERVER"`), in Jaeger v1's words (`span.kind` tag values).
fn otlp_kind(v: &Value) -> Option<&'static str> {
    let number = match v {
        Value::String(name) => match name.as_str() {
            "SPAN_KIND_INTERNAL" => 1,
            "SPAN_KIND_SERVER" => 2,
            "SPAN_KIND_CLIENT" => 3,
            "SPAN_KIND_PRODUCER" => 4,
            "SPAN_KIND_CONSUMER" => 5,
            _ => return None,
        },
        other => other.as_i64()?,
    };
    match number {
        1 => Some("internal"),
        2 => Some("server"),
        3 => Some("client"),
        4 => Some("producer"),
        5 => Some("consumer"),
        _ => None,
    }
}

/// Whether an OTLP status code, as number (`2`) or name
/// (`"STATUS_CODE_ERROR"`), says the span failed.
fn otlp_status_is_error(v: &Value) -> bool {
    match v {
        Value::String(name) => name == "STATUS_CODE_ERROR",
        other => other.as_i64() == Some(2),
    }
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
                let kind = otlp_kind(&s["kind"]).map(str::to_owned);
                let error = otlp_status_is_error(&s["status"]["code"])
                    || tags.iter().any(|(k, v)| is_error_tag(k, v));
                let logs = array(&s["events"])
                    .iter()
                    .map(|e| {
                        let mut fields = vec![("event".to_owned(), text(&e["name"]))];
                        fields.extend(array(&e["attributes"]).iter().filter_map(|a| {
                            Some((a["key"].as_str()?.to_owned(), otlp_value(&a["value"])))
                        }));
                        SpanLog {
                            timestamp_us: clamp_us(int(&e["timeUnixNano"]) / 1000),
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
                    start_us: clamp_us(start_ns / 1000),
                    duration_us: clamp_us(end_ns.saturating_sub(start_ns) / 1000),
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

/// One row of the waterfall.
struct Row<'a> {
    /// Depth in the displayed tree (root = 0).
    depth: usize,
    /// The span.
    span: &'a Span,
    /// Index in the walk of the row this one is shown under.
    parent_row: Option<usize>,
}

/// Spans in waterfall order: depth-first from the roots (spans without a
/// parent in the trace, e.g. when the parent was not collected), children
/// by start time. Spans the walk cannot reach (parent cycles, spans
/// hanging below a duplicated id's twin) then become roots themselves, so
/// every span is shown exactly once.
fn ordered(trace: &Trace) -> Vec<Row<'_>> {
    let spans = &trace.spans;
    let ids: BTreeSet<&str> = spans.iter().map(|s| s.id.as_str()).collect();
    let mut children: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut roots: Vec<usize> = Vec::new();
    for (i, span) in spans.iter().enumerate() {
        match span
            .parent
            .as_deref()
            .filter(|p| ids.contains(p) && *p != span.id)
        {
            Some(p) => children.entry(p).or_default().push(i),
            None => roots.push(i),
        }
    }
    let by_start = |list: &mut Vec<usize>| list.sort_by_key(|&i| (spans[i].start_us, i));
    by_start(&mut roots);
    for list in children.values_mut() {
        by_start(list);
    }
    let mut unreached: Vec<usize> = (0..spans.len()).collect();
    by_start(&mut unreached);
    let mut out: Vec<Row<'_>> = Vec::with_capacity(spans.len());
    // Visited by index: duplicated ids are distinct spans, and a cycle of
    // parent links would otherwise loop forever.
    let mut seen = vec![false; spans.len()];
    for start in roots.into_iter().chain(unreached) {
        let mut stack: Vec<(usize, usize, Option<usize>)> = vec![(0, start, None)];
        while let Some((depth, i, parent_row)) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            let row = out.len();
            out.push(Row {
                depth,
                span: &spans[i],
                parent_row,
            });
            if let Some(kids) = children.get(spans[i].id.as_str()) {
                stack.extend(
                    kids.iter()
                        .rev()
                        .filter(|&&k| !seen[k])
                        .map(|&k| (depth + 1, k, Some(row))),
                );
            }
        }
    }
    out
}

/// The likely root cause: among failing spans, those with no failing
/// descendant end an error path; of those, the deepest (then the earliest).
pub fn root_cause(trace: &Trace) -> Option<String> {
    let order = ordered(trace);
    // Whether a row has a failing descendant, bottom-up along the displayed
    // tree: in DFS order every row comes after the row it hangs below.
    let mut failing_below = vec![false; order.len()];
    for (i, row) in order.iter().enumerate().rev() {
        if let Some(p) = row.parent_row {
            failing_below[p] = failing_below[p] || failing_below[i] || row.span.error;
        }
    }
    order
        .iter()
        .zip(&failing_below)
        .filter(|(row, below)| row.span.error && !**below)
        .map(|(row, _)| row)
        .max_by(|a, b| {
            a.depth
                .cmp(&b.depth)
                .then(b.span.start_us.cmp(&a.span.start_us))
        })
        .map(|row| row.span.id.clone())
}

fn bounds(trace: &Trace) -> (i64, i64) {
    let start = trace.spans.iter().map(|s| s.start_us).min().unwrap_or(0);
    let end = trace
        .spans
        .iter()
        .map(|s| s.start_us.saturating_add(s.duration_us))
        .max()
        .unwrap_or(start);
    (start, end.saturating_sub(start).max(0))
}

/// The summary row of a trace.
pub fn summary(trace: &Trace) -> TraceSummary {
    let order = ordered(trace);
    let root = order.first().map(|row| row.span);
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
    let order = ordered(trace);
    let spans = order
        .iter()
        .map(|row| {
            let s = row.span;
            let visible = may_see_service(scope, &s.service);
            SpanView {
                span_id: s.id.clone(),
                // The span it is shown under: present in the trace, and
                // consistent with `depth` even for orphans and cycles.
                parent_id: row.parent_row.map(|p| order[p].span.id.clone()),
                depth: row.depth,
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

/// A trace duration in a search (`1.5s`, `100ms`, `500us`, `2m`, `1h`,
/// `1m30s`) in microseconds.
pub fn parse_duration_us(text: &str) -> Option<i64> {
    let span = TimeSpan::parse(text).filter(|s| s.uses_only(&TRACE_UNITS))?;
    let us = span.micros();
    (0.0..1e15).contains(&us).then_some(us as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn orphans_cycles_and_duplicates_all_stay_in_the_waterfall() {
        let t = trace(vec![
            span("a", None, "s.x", 0, 100, false),
            span("b", Some("missing"), "s.x", 10, 10, false),
            span("c", Some("d"), "s.x", 20, 10, false),
            span("d", Some("c"), "s.x", 30, 10, false),
            span("e", Some("e"), "s.x", 40, 10, false),
        ]);
        let d = detail(&t, &AccessScope::owner("admin"));
        // a, the orphan b and e (its own parent) are roots, walked first;
        // the walk cannot reach the c<->d cycle, so afterwards its earliest
        // span c becomes a root with d below it.
        let rows: Vec<(&str, usize, Option<&str>)> = d
            .spans
            .iter()
            .map(|s| (s.span_id.as_str(), s.depth, s.parent_id.as_deref()))
            .collect();
        assert_eq!(
            rows,
            [
                ("a", 0, None),
                ("b", 0, None),
                ("e", 0, None),
                ("c", 0, None),
                ("d", 1, Some("c"))
            ]
        );
        assert_eq!(d.spans.len(), summary(&t).span_count);
        assert_eq!(d.duration_us, 100);

        // Two spans share id x: both are shown, and the child of x once.
        let t = trace(vec![
            span("r", None, "s.x", 0, 100, false),
            span("x", Some("r"), "s.x", 10, 10, false),
            span("x", Some("r"), "s.x", 20, 10, true),
            span("y", Some("x"), "s.x", 30, 10, false),
        ]);
        let d = detail(&t, &AccessScope::owner("admin"));
        assert_eq!(d.spans.len(), 4);
        assert_eq!(
            d.spans
                .iter()
                .filter(|s| s.span_id == "x")
                .map(|s| (s.start_us, s.depth))
                .collect::<Vec<_>>(),
            [(10, 1), (20, 1)]
        );
        assert_eq!(d.spans.iter().filter(|s| s.span_id == "y").count(), 1);
        // The failing twin has nothing failing below: it is the cause.
        assert_eq!(d.root_cause.as_deref(), Some("x"));
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
        for t in parse_v3(&v3).iter().chain(&parse_v1(&v1)) {
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
        let t = &parse_v3(&v3)[0];
        assert_eq!(
            (t.spans[0].start_us, t.spans[0].duration_us),
            (0, 9_223_372_036_854_775)
        );
        assert_eq!(
            (t.spans[2].start_us, t.spans[2].duration_us),
            (9_223_372_036_854_775, 0)
        );
        let t = &parse_v1(&v1)[0];
        assert_eq!(
            (t.spans[0].start_us, t.spans[0].duration_us),
            (MAX_TIME_US, MAX_TIME_US)
        );
        assert_eq!(
            (t.spans[2].start_us, t.spans[2].duration_us),
            (0, MAX_TIME_US)
        );
        // Bounds: from 0 to the latest end, MAX + MAX (no overflow).
        assert_eq!(bounds(t), (0, 2 * MAX_TIME_US));
    }

    #[test]
    fn otlp_kind_and_status_may_be_numbers_or_names() {
        let spans: Vec<Value> = [
            (serde_json::json!(2), serde_json::json!(2)),
            (serde_json::json!("SPAN_KIND_SERVER"), serde_json::json!("STATUS_CODE_ERROR")),
            (serde_json::json!(3), serde_json::json!(1)),
            (serde_json::json!("SPAN_KIND_CLIENT"), serde_json::json!("STATUS_CODE_OK")),
            (serde_json::json!("SPAN_KIND_PRODUCER"), serde_json::json!("STATUS_CODE_UNSET")),
            (serde_json::json!(5), serde_json::json!(0)),
            (serde_json::json!("SPAN_KIND_BOGUS"), serde_json::json!("2")),
            (serde_json::json!(99), serde_json::json!(null)),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, (kind, code))| {
            serde_json::json!({"traceId": "t", "spanId": i.to_string(), "kind": kind, "status": {"code": code}})
        })
        .collect();
        let body = serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]});
        let parsed = parse_v3(&body);
        let got: Vec<(Option<&str>, bool)> = parsed[0]
            .spans
            .iter()
            .map(|s| (s.kind.as_deref(), s.error))
            .collect();
        assert_eq!(
            got,
            [
                (Some("server"), true),
                (Some("server"), true),
                (Some("client"), false),
                (Some("client"), false),
                (Some("producer"), false),
                (Some("consumer"), false),
                (None, false),
                (None, false),
            ]
        );
    }

    #[test]
    fn clock_skew_keeps_the_tree_and_widens_the_bounds() {
        // The child's host clock runs 50us behind: it starts before its
        // parent and ends after it. The tree follows the references, not
        // the clocks; the trace spans from the earliest start (child, 950)
        // to the latest end (child, 950 + 200 = 1150).
        let v1 = serde_json::json!({"data": [{
            "traceID": "skew",
            "spans": [
                {"spanID": "c", "operationName": "db", "processID": "p3",
                 "references": [{"refType": "CHILD_OF", "spanID": "b"}],
                 "startTime": 960, "duration": 20, "tags": []},
                {"spanID": "b", "operationName": "ratings", "processID": "p2",
                 "references": [{"refType": "CHILD_OF", "spanID": "a"}],
                 "startTime": 950, "duration": 200,
                 "tags": [{"key": "error", "type": "bool", "value": true}]},
                {"spanID": "a", "operationName": "GET /", "processID": "p1", "references": [],
                 "startTime": 1000, "duration": 100,
                 "tags": [{"key": "error", "type": "bool", "value": true}]}
            ],
            "processes": {"p1": {"serviceName": "productpage.bookinfo"},
                          "p2": {"serviceName": "ratings.bookinfo"},
                          "p3": {"serviceName": "mysql.bookinfo"}}
        }]});
        let t = &parse_v1(&v1)[0];
        let sum = summary(t);
        assert_eq!((sum.start_us, sum.duration_us), (950, 200));
        assert_eq!(
            (sum.root_service.as_str(), sum.root_operation.as_str()),
            ("productpage.bookinfo", "GET /")
        );
        let d = detail(t, &AccessScope::owner("admin"));
        assert_eq!((d.start_us, d.duration_us), (950, 200));
        assert_eq!(
            d.spans
                .iter()
                .map(|s| (s.span_id.as_str(), s.depth))
                .collect::<Vec<_>>(),
            [("a", 0), ("b", 1), ("c", 2)]
        );
        // a fails because b does; b's child c is fine: b is the cause.
        assert_eq!(d.root_cause.as_deref(), Some("b"));
    }

    #[test]
    fn spans_outside_the_scope_lose_tags_and_logs() {
        let t = trace(vec![
            span("a", None, "productpage.bookinfo", 0, 100, false),
            span("b", Some("a"), "payments-api.payments", 10, 50, false),
        ]);
        let alice = AccessScope::member("alice", ["bookinfo"], true, true);
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
        let a = &parse_v1(&v1)[0];
        let b = &parse_v3(&v3)[0];
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

    fn exercise(t: &Trace) {
        let d = detail(t, &AccessScope::owner("admin"));
        let sum = summary(t);
        assert_eq!(d.spans.len(), t.spans.len());
        assert_eq!(sum.span_count, t.spans.len());
        assert!(d.duration_us >= 0);
        let _ = root_cause(t);
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
                exercise(t);
            }
        }
        // Garbage values parse to neutral ones.
        let t = &parse_v1(&cases[4])[0];
        assert_eq!(
            (
                t.spans[0].start_us,
                t.spans[0].duration_us,
                &t.spans[0].parent
            ),
            (0, 0, &None)
        );

        // Spans with a missing or dangling process are "unknown"; spans
        // without an id are dropped; valid spans survive intact.
        let v1 = serde_json::json!({"data": [{"traceID": "m", "spans": [
            {"spanID": "1", "operationName": "GET /", "processID": "p1", "startTime": 10, "duration": 5},
            {"spanID": "2", "operationName": "no-process", "startTime": 11, "duration": 1,
             "references": [{"refType": "CHILD_OF", "spanID": "1"}]},
            {"spanID": "3", "operationName": "dangling", "processID": "p9", "startTime": 12, "duration": 1},
            {"spanID": 4, "processID": "p1"},
            "not a span",
            {"spanID": "5", "operationName": "ok", "processID": "p2", "startTime": 13, "duration": 2,
             "references": [{"refType": "FOLLOWS_FROM", "spanID": "1"}]}
        ], "processes": {"p1": {"serviceName": "productpage.bookinfo"}, "p2": {"serviceName": "reviews.bookinfo"}}},
        {"spans": []}]});
        let traces = parse_v1(&v1);
        assert_eq!(traces.len(), 1, "the trace without an id is dropped");
        let got: Vec<(&str, &str, &str, Option<&str>)> = traces[0]
            .spans
            .iter()
            .map(|s| {
                (
                    s.id.as_str(),
                    s.service.as_str(),
                    s.operation.as_str(),
                    s.parent.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("1", "productpage.bookinfo", "GET /", None),
                ("2", "unknown", "no-process", Some("1")),
                ("3", "unknown", "dangling", None),
                ("5", "reviews.bookinfo", "ok", Some("1")),
            ]
        );
        exercise(&traces[0]);
        // v3: a resource without service.name is "unknown"; spans without
        // ids are dropped, the others kept.
        let v3 = serde_json::json!({"resourceSpans": [
            {"resource": {"attributes": [{"key": "host.name", "value": {"stringValue": "n1"}}]},
             "scopeSpans": [{"spans": [{"traceId": "m", "spanId": "1", "name": "a"}, {"traceId": "m"}]}]},
            {"scopeSpans": [{"spans": [{"traceId": "m", "spanId": "2", "parentSpanId": "1", "name": "b"}]}]},
            {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "ratings.bookinfo"}}]},
             "scopeSpans": [{"spans": [{"traceId": "m", "spanId": "3", "parentSpanId": "", "name": "c"}, 7]}, "x"]}
        ]});
        let traces = parse_v3(&v3);
        assert_eq!(traces.len(), 1);
        let got: Vec<(&str, &str, Option<&str>)> = traces[0]
            .spans
            .iter()
            .map(|s| (s.id.as_str(), s.service.as_str(), s.parent.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("1", "unknown", None),
                ("2", "unknown", Some("1")),
                ("3", "ratings.bookinfo", None)
            ]
        );
        exercise(&traces[0]);
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
            for t in parse_v1(&v).iter().chain(parse_v3(&v).iter()) {
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
            for t in parse_v1(&v1).iter().chain(parse_v3(&v3).iter()) {
                assert_eq!(t.spans.len(), ids.len());
                exercise(t);
                reached += 1;
            }
        }
        assert_eq!(reached, 4000);
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
