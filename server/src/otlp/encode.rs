//! A batch of finished spans as the body of an OTLP/HTTP JSON export: an
//! `ExportTraceServiceRequest` in Protobuf's JSON mapping with OTLP's
//! deviations (opentelemetry-proto, `docs/specification.md`, "JSON
//! Protobuf Encoding"): trace and span ids as hex, not base64; enums as
//! integers; lowerCamelCase keys; 64-bit integers as decimal strings.

use serde::Serialize;

use super::{FinishedSpan, Value};

/// `service.name` of every span.
pub const SERVICE_NAME: &str = "meshdeck";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportTraceServiceRequest<'a> {
    resource_spans: [ResourceSpans<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSpans<'a> {
    resource: Resource,
    scope_spans: [ScopeSpans<'a>; 1],
}

#[derive(Serialize)]
struct Resource {
    attributes: [KeyValue<'static>; 2],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScopeSpans<'a> {
    scope: Scope,
    spans: Vec<Span<'a>>,
}

#[derive(Serialize)]
struct Scope {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Span<'a> {
    trace_id: String,
    span_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_span_id: Option<String>,
    name: &'a str,
    kind: u8,
    start_time_unix_nano: String,
    end_time_unix_nano: String,
    attributes: Vec<KeyValue<'a>>,
    #[serde(skip_serializing_if = "is_zero")]
    dropped_attributes_count: u32,
    status: Status,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// `code`: 0 unset, 1 ok, 2 error.
#[derive(Serialize)]
struct Status {
    code: u8,
}

#[derive(Serialize)]
struct KeyValue<'a> {
    key: &'a str,
    value: AnyValue<'a>,
}

/// OTLP's `AnyValue`: one of its fields, named for the value's type.
#[derive(Serialize)]
enum AnyValue<'a> {
    #[serde(rename = "stringValue")]
    String(&'a str),
    /// int64: a decimal string.
    #[serde(rename = "intValue")]
    Int(String),
    #[serde(rename = "boolValue")]
    Bool(bool),
    #[serde(rename = "doubleValue")]
    Double(f64),
}

impl<'a> AnyValue<'a> {
    fn of(value: &'a Value) -> Self {
        match value {
            Value::Str(s) => AnyValue::String(s),
            Value::Int(n) => AnyValue::Int(n.to_string()),
            Value::Bool(b) => AnyValue::Bool(*b),
            Value::Double(x) if x.is_finite() => AnyValue::Double(*x),
            // JSON has no NaN or infinities: their text, as a string.
            Value::Double(x) if x.is_nan() => AnyValue::String("NaN"),
            Value::Double(x) if *x > 0.0 => AnyValue::String("Infinity"),
            Value::Double(_) => AnyValue::String("-Infinity"),
        }
    }
}

/// The JSON body exporting `spans`.
pub fn encode(spans: &[FinishedSpan]) -> Vec<u8> {
    let request = ExportTraceServiceRequest {
        resource_spans: [ResourceSpans {
            resource: Resource {
                attributes: [
                    KeyValue {
                        key: "service.name",
                        value: AnyValue::String(SERVICE_NAME),
                    },
                    KeyValue {
                        key: "service.version",
                        value: AnyValue::String(env!("CARGO_PKG_VERSION")),
                    },
                ],
            },
            scope_spans: [ScopeSpans {
                scope: Scope {
                    name: SERVICE_NAME,
                    version: env!("CARGO_PKG_VERSION"),
                },
                spans: spans.iter().map(span).collect(),
            }],
        }],
    };
    // Plain structs of strings and numbers: serialising cannot fail.
    serde_json::to_vec(&request).unwrap_or_default()
}

fn span(s: &FinishedSpan) -> Span<'_> {
    Span {
        trace_id: format!("{:032x}", s.trace_id),
        span_id: format!("{:016x}", s.span_id),
        parent_span_id: s.parent_span_id.map(|id| format!("{id:016x}")),
        name: &s.name,
        kind: s.kind.code(),
        start_time_unix_nano: s.start_unix_nanos.to_string(),
        end_time_unix_nano: s.end_unix_nanos.to_string(),
        attributes: s
            .attributes
            .iter()
            .map(|(key, value)| KeyValue {
                key,
                value: AnyValue::of(value),
            })
            .collect(),
        dropped_attributes_count: s.dropped_attributes,
        status: Status {
            code: if s.error { 2 } else { 0 },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::Kind;
    use serde_json::json;

    #[test]
    fn spans_encode_as_otlp_json() {
        let server = FinishedSpan {
            trace_id: 0x4bf92f3577b34da6a3ce929d0e0e4736,
            span_id: 0x00f067aa0ba902b7,
            parent_span_id: None,
            name: "GET /api/health".into(),
            kind: Kind::Server,
            start_unix_nanos: 1_700_000_000_000_000_001,
            end_unix_nanos: 1_700_000_000_250_000_000,
            attributes: vec![
                ("http.route", Value::Str("/api/health".into())),
                ("http.response.status_code", Value::Int(200)),
            ],
            dropped_attributes: 0,
            error: false,
        };
        let client = FinishedSpan {
            trace_id: server.trace_id,
            span_id: 1,
            parent_span_id: Some(server.span_id),
            name: "prometheus api/v1/query".into(),
            kind: Kind::Client,
            start_unix_nanos: 5,
            end_unix_nanos: 6,
            attributes: vec![
                ("retried", Value::Bool(false)),
                ("ratio", Value::Double(0.5)),
                ("nan", Value::Double(f64::NAN)),
                ("minus", Value::Double(f64::NEG_INFINITY)),
            ],
            dropped_attributes: 3,
            error: true,
        };
        let version = env!("CARGO_PKG_VERSION");
        let body: serde_json::Value = serde_json::from_slice(&encode(&[server, client])).unwrap();
        assert_eq!(
            body,
            json!({"resourceSpans": [{
                "resource": {"attributes": [
                    {"key": "service.name", "value": {"stringValue": "meshdeck"}},
                    {"key": "service.version", "value": {"stringValue": version}},
                ]},
                "scopeSpans": [{
                    "scope": {"name": "meshdeck", "version": version},
                    "spans": [
                        {
                            "traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
                            "spanId": "00f067aa0ba902b7",
                            "name": "GET /api/health",
                            "kind": 2,
                            "startTimeUnixNano": "1700000000000000001",
                            "endTimeUnixNano": "1700000000250000000",
                            "attributes": [
                                {"key": "http.route", "value": {"stringValue": "/api/health"}},
                                {"key": "http.response.status_code", "value": {"intValue": "200"}},
                            ],
                            "status": {"code": 0},
                        },
                        {
                            "traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
                            "spanId": "0000000000000001",
                            "parentSpanId": "00f067aa0ba902b7",
                            "name": "prometheus api/v1/query",
                            "kind": 3,
                            "startTimeUnixNano": "5",
                            "endTimeUnixNano": "6",
                            "attributes": [
                                {"key": "retried", "value": {"boolValue": false}},
                                {"key": "ratio", "value": {"doubleValue": 0.5}},
                                {"key": "nan", "value": {"stringValue": "NaN"}},
                                {"key": "minus", "value": {"stringValue": "-Infinity"}},
                            ],
                            "droppedAttributesCount": 3,
                            "status": {"code": 2},
                        },
                    ],
                }],
            }]})
        );
    }
}
