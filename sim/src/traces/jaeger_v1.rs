//! Jaeger's v1 query API JSON: the `{data, total, limit, offset, errors}`
//! envelope and the trace shape the Jaeger UI reads.

use serde_json::{Value, json};

use super::{SpanLog, Tag, TagValue, Trace, span_id_hex};

/// A tag as `{key, type, value}`.
pub fn tag(t: &Tag) -> Value {
    let (ty, value) = match &t.value {
        TagValue::Str(s) => ("string", json!(s)),
        TagValue::Bool(b) => ("bool", json!(b)),
        TagValue::Int(i) => ("int64", json!(i)),
    };
    json!({"key": t.key, "type": ty, "value": value})
}

fn log(l: &SpanLog) -> Value {
    json!({
        "timestamp": l.timestamp_us,
        "fields": l.fields.iter().map(tag).collect::<Vec<_>>(),
    })
}

/// The process ID Jaeger uses for the process at `index` (`p1`, `p2`, ...).
pub fn process_id(index: usize) -> String {
    format!("p{}", index + 1)
}

/// A trace in Jaeger's v1 JSON form.
pub fn trace(t: &Trace) -> Value {
    let trace_id = t.id_hex();
    let spans: Vec<Value> = t
        .spans
        .iter()
        .map(|s| {
            let references: Vec<Value> = s
                .parent_id
                .map(|p| {
                    json!({"refType": "CHILD_OF", "traceID": trace_id, "spanID": span_id_hex(p)})
                })
                .into_iter()
                .collect();
            json!({
                "traceID": trace_id,
                "spanID": span_id_hex(s.span_id),
                "flags": 1,
                "operationName": s.operation,
                "references": references,
                "startTime": s.start_us,
                "duration": s.duration_us,
                "tags": s.tags.iter().map(tag).collect::<Vec<_>>(),
                "logs": s.logs.iter().map(log).collect::<Vec<_>>(),
                "processID": process_id(s.process),
                "warnings": null,
            })
        })
        .collect();
    let processes: serde_json::Map<String, Value> = t
        .processes
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                process_id(i),
                json!({
                    "serviceName": p.service,
                    "tags": p.tags.iter().map(tag).collect::<Vec<_>>(),
                }),
            )
        })
        .collect();
    json!({
        "traceID": trace_id,
        "spans": spans,
        "processes": processes,
        "warnings": null,
    })
}

/// The success envelope around `data`; `total` as Jaeger fills it (the
/// item count for lists of names, 0 for traces).
pub fn envelope(data: Value, total: usize) -> Value {
    json!({"data": data, "total": total, "limit": 0, "offset": 0, "errors": null})
}

/// The error envelope: `data` null and one error.
pub fn error_body(code: u16, msg: &str) -> Value {
    json!({
        "data": null,
        "total": 0,
        "limit": 0,
        "offset": 0,
        "errors": [{"code": code, "msg": msg}],
    })
}
