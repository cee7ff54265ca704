//! Jaeger's v3 query API JSON: traces as OTLP JSON (`resourceSpans`), IDs
//! as hex strings, 64-bit integers and nanosecond times as JSON strings.

use serde_json::{Value, json};

use super::{SpanKind, Tag, TagValue, Trace, span_id_hex};

/// The scope name of every span (the spans come from Envoy proxies).
pub const SCOPE_NAME: &str = "envoy";
/// OTLP `STATUS_CODE_ERROR`.
pub const STATUS_ERROR: u8 = 2;
/// Span tags that OTLP carries elsewhere (kind, status) rather than as attributes.
const NOT_ATTRIBUTES: [&str; 2] = ["span.kind", "error"];

/// An attribute as `{key, value: {stringValue | boolValue | intValue}}`.
pub fn attribute(t: &Tag) -> Value {
    let value = match &t.value {
        TagValue::Str(s) => json!({"stringValue": s}),
        TagValue::Bool(b) => json!({"boolValue": b}),
        TagValue::Int(i) => json!({"intValue": i.to_string()}),
    };
    json!({"key": t.key, "value": value})
}

fn nanos(us: u64) -> String {
    (u128::from(us) * 1000).to_string()
}

/// One resource entry per process of the trace, each with its spans.
pub fn resource_spans(t: &Trace) -> Vec<Value> {
    let trace_id = t.id_hex();
    t.processes
        .iter()
        .enumerate()
        .filter_map(|(pi, p)| {
            let spans: Vec<Value> = t
                .spans
                .iter()
                .filter(|s| s.process == pi)
                .map(|s| {
                    let mut span = json!({
                        "traceId": trace_id,
                        "spanId": span_id_hex(s.span_id),
                        "name": s.operation,
                        "kind": s.kind.otlp(),
                        "startTimeUnixNano": nanos(s.start_us),
                        "endTimeUnixNano": nanos(s.end_us()),
                        "attributes": s.tags
                            .iter()
                            .filter(|t| !NOT_ATTRIBUTES.contains(&t.key.as_str()))
                            .map(attribute)
                            .collect::<Vec<_>>(),
                        "events": s.logs.iter().map(|l| {
                            let name = l.fields.iter()
                                .find(|f| f.key == "event")
                                .map(|f| f.value.to_text())
                                .unwrap_or_else(|| "log".to_owned());
                            json!({
                                "timeUnixNano": nanos(l.timestamp_us),
                                "name": name,
                                "attributes": l.fields.iter()
                                    .filter(|f| f.key != "event")
                                    .map(attribute)
                                    .collect::<Vec<_>>(),
                            })
                        }).collect::<Vec<_>>(),
                        "status": match &s.error {
                            Some(msg) => json!({"code": STATUS_ERROR, "message": msg}),
                            None => json!({}),
                        },
                    });
                    if let (Some(parent), Some(obj)) = (s.parent_id, span.as_object_mut()) {
                        obj.insert("parentSpanId".to_owned(), json!(span_id_hex(parent)));
                    }
                    span
                })
                .collect();
            if spans.is_empty() {
                return None;
            }
            let mut attributes = vec![attribute(&Tag::str("service.name", p.service.clone()))];
            attributes.extend(p.tags.iter().map(attribute));
            Some(json!({
                "resource": {"attributes": attributes},
                "scopeSpans": [{"scope": {"name": SCOPE_NAME}, "spans": spans}],
            }))
        })
        .collect()
}

/// The v3 answer for some traces: `{"result": {"resourceSpans": [...]}}`.
pub fn traces<'a>(traces: impl IntoIterator<Item = &'a Trace>) -> Value {
    let all: Vec<Value> = traces.into_iter().flat_map(resource_spans).collect();
    json!({"result": {"resourceSpans": all}})
}

/// The v3 operations answer.
pub fn operations(ops: &[(String, SpanKind)]) -> Value {
    json!({
        "operations": ops
            .iter()
            .map(|(name, kind)| json!({"name": name, "spanKind": kind.as_str()}))
            .collect::<Vec<_>>(),
    })
}

/// The v3 (grpc-gateway) error body.
pub fn error_body(code: u16, message: &str) -> Value {
    json!({"error": {"httpCode": code, "message": message}})
}
