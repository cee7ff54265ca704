//! Traces: one model for the traces of both Jaeger API generations (decoded
//! from their answers in [`crate::upstream::jaeger`]), the waterfall view,
//! the likely root cause, and scoping (members see traces of their
//! namespaces' services; spans of other namespaces lose their tags and
//! logs). Orphaned spans, parent cycles and duplicated ids never fail or
//! panic.

use std::collections::{BTreeSet, HashMap};

use app::types::{SpanLog, SpanView, TRACE_UNITS, TimeSpan, TraceDetail, TraceSummary};

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

/// The latest time a span may carry: the end of year 9999 in Unix
/// microseconds. Times and durations are clamped to `0..=MAX_TIME_US`, so
/// sums and differences of two of them cannot overflow anywhere downstream
/// (the server's bounds, the page's bar offsets).
pub const MAX_TIME_US: i64 = 253_402_300_799_999_999;

/// A decoded time or duration in microseconds, clamped to
/// `0..=MAX_TIME_US`: what the decoders of Jaeger's answers
/// ([`crate::upstream::jaeger`]) put in a [`Span`].
pub fn clamp_us(us: i64) -> i64 {
    us.clamp(0, MAX_TIME_US)
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
    TimeSpan::parse(text)
        .filter(|s| s.uses_only(&TRACE_UNITS))
        .as_ref()
        .and_then(duration_us)
}

/// `span` in whole microseconds, when Jaeger can take it (under 1e15 µs).
pub fn duration_us(span: &TimeSpan) -> Option<i64> {
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
