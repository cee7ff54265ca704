//! Jaeger's v3 query API answers (`/api/v3/...`: traces as OTLP JSON) as
//! typed records, and their decoding into meshdeck's [`traces::Trace`].
//!
//! Ids are kept as Jaeger writes them (hex in Jaeger's answers; no base64
//! decoding is done, so an id is the same text in every link and search).
//! Times are Unix nanoseconds, as JSON strings or numbers, and become
//! microseconds (truncated). Every field is read forgivingly (see
//! `loose.rs`): unknown fields are ignored, missing or odd ones read as
//! neutral values, so a malformed answer decodes to fewer or emptier
//! traces, never to an error or a panic.

use std::collections::HashMap;

use app::types::SpanLog;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::{is_error_tag, loose};
use crate::traces::{self, clamp_us};

/// `/api/v3/traces` and `/api/v3/traces/{id}`: `{"result": {"resourceSpans":
/// [...]}}`, also accepted without the `result` wrapper.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TracesAnswer {
    /// The wrapped answer. When the field is there it is the answer, even
    /// when it is not an object (`Some(None)`: no traces).
    #[serde(deserialize_with = "loose::present_object")]
    pub result: Option<Option<TracesData>>,
    /// The answer without the wrapper, read when `result` is missing.
    #[serde(deserialize_with = "loose::objects")]
    pub resource_spans: Vec<Option<ResourceSpans>>,
}

/// OTLP `TracesData`: `{resourceSpans}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TracesData {
    /// Spans grouped by the resource (process) that reported them.
    #[serde(deserialize_with = "loose::objects")]
    pub resource_spans: Vec<Option<ResourceSpans>>,
}

/// OTLP `ResourceSpans`: `{resource, scopeSpans}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ResourceSpans {
    /// The resource; its `service.name` attribute is the spans' service.
    #[serde(deserialize_with = "loose::object")]
    pub resource: Option<Resource>,
    /// Spans grouped by instrumentation scope.
    #[serde(deserialize_with = "loose::objects")]
    pub scope_spans: Vec<Option<ScopeSpans>>,
}

/// OTLP `Resource`: `{attributes}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Resource {
    /// Attributes (`service.name`, `host.name`, ...).
    #[serde(deserialize_with = "loose::objects")]
    pub attributes: Vec<Option<KeyValue>>,
}

/// OTLP `ScopeSpans`: `{scope, spans}` (the scope is not read).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ScopeSpans {
    /// The spans.
    #[serde(deserialize_with = "loose::objects")]
    pub spans: Vec<Option<Span>>,
}

/// OTLP `Span`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Span {
    /// Trace id. Spans without a trace id or a span id are dropped.
    #[serde(deserialize_with = "loose::string")]
    pub trace_id: Option<String>,
    /// Span id.
    #[serde(deserialize_with = "loose::string")]
    pub span_id: Option<String>,
    /// Parent span id; empty means none.
    #[serde(deserialize_with = "loose::string")]
    pub parent_span_id: Option<String>,
    /// Operation name (anything else than a string is shown as its JSON).
    #[serde(deserialize_with = "loose::text")]
    pub name: String,
    /// Kind, as the enum's number (`2`) or name (`"SPAN_KIND_SERVER"`).
    #[serde(deserialize_with = "span_kind")]
    pub kind: Option<SpanKind>,
    /// Start, Unix nanoseconds (a string, or a number).
    #[serde(deserialize_with = "loose::int")]
    pub start_time_unix_nano: i64,
    /// End, Unix nanoseconds.
    #[serde(deserialize_with = "loose::int")]
    pub end_time_unix_nano: i64,
    /// Attributes (the span's tags).
    #[serde(deserialize_with = "loose::objects")]
    pub attributes: Vec<Option<KeyValue>>,
    /// Events (the span's logs).
    #[serde(deserialize_with = "loose::objects")]
    pub events: Vec<Option<Event>>,
    /// Status: `{code, message}`.
    #[serde(deserialize_with = "loose::object")]
    pub status: Option<Status>,
}

/// OTLP `Span.Event`: `{timeUnixNano, name, attributes}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Event {
    /// Unix nanoseconds.
    #[serde(deserialize_with = "loose::int")]
    pub time_unix_nano: i64,
    /// Name (shown as the log's `event` field).
    #[serde(deserialize_with = "loose::text")]
    pub name: String,
    /// Attributes (the log's other fields).
    #[serde(deserialize_with = "loose::objects")]
    pub attributes: Vec<Option<KeyValue>>,
}

/// OTLP `Status`: `{code, message}` (the message is not read).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Status {
    /// Code, as the enum's number (`2`) or name (`"STATUS_CODE_ERROR"`).
    #[serde(deserialize_with = "status_code")]
    pub code: Option<StatusCode>,
}

/// OTLP `KeyValue`: `{key, value: AnyValue}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct KeyValue {
    /// Key; attributes without one are dropped.
    #[serde(deserialize_with = "loose::string")]
    pub key: Option<String>,
    /// The value as text: `stringValue`, `intValue`, `boolValue` or
    /// `doubleValue`, whichever is there first, else the value's JSON.
    #[serde(deserialize_with = "any_value")]
    pub value: String,
}

/// OTLP `SpanKind`, in the words of Jaeger v1's `span.kind` tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanKind {
    /// `SPAN_KIND_INTERNAL`, 1.
    Internal,
    /// `SPAN_KIND_SERVER`, 2.
    Server,
    /// `SPAN_KIND_CLIENT`, 3.
    Client,
    /// `SPAN_KIND_PRODUCER`, 4.
    Producer,
    /// `SPAN_KIND_CONSUMER`, 5.
    Consumer,
}

impl SpanKind {
    /// The `span.kind` word: `internal`, `server`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Internal => "internal",
            SpanKind::Server => "server",
            SpanKind::Client => "client",
            SpanKind::Producer => "producer",
            SpanKind::Consumer => "consumer",
        }
    }

    /// A kind given as the enum's number or name; unspecified and unknown
    /// ones are `None`.
    fn from_json(v: &Value) -> Option<SpanKind> {
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
            1 => Some(SpanKind::Internal),
            2 => Some(SpanKind::Server),
            3 => Some(SpanKind::Client),
            4 => Some(SpanKind::Producer),
            5 => Some(SpanKind::Consumer),
            _ => None,
        }
    }
}

/// OTLP `Status.StatusCode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusCode {
    /// `STATUS_CODE_UNSET`, 0.
    Unset,
    /// `STATUS_CODE_OK`, 1.
    Ok,
    /// `STATUS_CODE_ERROR`, 2: the span failed.
    Error,
}

impl StatusCode {
    /// A code given as the enum's number or name; unknown ones are `None`.
    fn from_json(v: &Value) -> Option<StatusCode> {
        let number = match v {
            Value::String(name) => match name.as_str() {
                "STATUS_CODE_UNSET" => 0,
                "STATUS_CODE_OK" => 1,
                "STATUS_CODE_ERROR" => 2,
                _ => return None,
            },
            other => other.as_i64()?,
        };
        match number {
            0 => Some(StatusCode::Unset),
            1 => Some(StatusCode::Ok),
            2 => Some(StatusCode::Error),
            _ => None,
        }
    }
}

fn span_kind<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SpanKind>, D::Error> {
    Value::deserialize(d).map(|v| SpanKind::from_json(&v))
}

fn status_code<'de, D: Deserializer<'de>>(d: D) -> Result<Option<StatusCode>, D::Error> {
    Value::deserialize(d).map(|v| StatusCode::from_json(&v))
}

/// An OTLP `AnyValue` as text: the first of `stringValue`, `intValue`
/// (int64 as a JSON string), `boolValue` and `doubleValue` that is there,
/// as text; any other value (arrays, key lists, bytes, a bare string) as
/// [`loose::text_of`] reads it.
fn any_value<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = Value::deserialize(d)?;
    if let Value::Object(map) = &v {
        for key in ["stringValue", "intValue", "boolValue", "doubleValue"] {
            if let Some(x) = map.get(key) {
                return Ok(loose::text_of(x.clone()));
            }
        }
    }
    Ok(loose::text_of(v))
}

/// `/api/v3/services`: `{"services": [name, ...]}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ServicesAnswer {
    /// The names (elements that are not strings are skipped).
    #[serde(deserialize_with = "loose::strings")]
    pub services: Vec<String>,
}

/// `/api/v3/operations?service=...`: `{"operations": [{name, spanKind}]}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct OperationsAnswer {
    /// The operations.
    #[serde(deserialize_with = "loose::objects")]
    pub operations: Vec<Option<Operation>>,
}

/// One operation: `{name, spanKind}` (the kind is not read).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Operation {
    /// Its name; operations without one are skipped.
    #[serde(deserialize_with = "loose::string")]
    pub name: Option<String>,
}

/// The traces in a `/api/v3/traces` (or `/api/v3/traces/{id}`) answer,
/// spans grouped by trace id in the order the ids first appear; anything
/// unreadable is left out.
pub fn decode(body: &Value) -> Vec<traces::Trace> {
    loose::answer::<TracesAnswer>(body).into_traces()
}

/// The service names in a `/api/v3/services` answer, in Jaeger's order.
pub fn decode_services(body: &Value) -> Vec<String> {
    loose::answer::<ServicesAnswer>(body).services
}

/// The operation names in a `/api/v3/operations` answer, in Jaeger's order.
pub fn decode_operations(body: &Value) -> Vec<String> {
    loose::answer::<OperationsAnswer>(body)
        .operations
        .into_iter()
        .flatten()
        .filter_map(|o| o.name)
        .collect()
}

fn pairs(list: Vec<Option<KeyValue>>) -> impl Iterator<Item = (String, String)> {
    list.into_iter()
        .flatten()
        .filter_map(|kv| Some((kv.key?, kv.value)))
}

impl TracesAnswer {
    /// The traces: spans with both ids, grouped by trace id.
    pub fn into_traces(self) -> Vec<traces::Trace> {
        let resource_spans = match self.result {
            Some(result) => result.map(|r| r.resource_spans).unwrap_or_default(),
            None => self.resource_spans,
        };
        let mut traces: Vec<traces::Trace> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for rs in resource_spans.into_iter().flatten() {
            let service = rs
                .resource
                .into_iter()
                .flat_map(|r| r.attributes)
                .flatten()
                .find(|a| a.key.as_deref() == Some("service.name"))
                .map(|a| a.value)
                .unwrap_or_else(|| "unknown".into());
            for s in rs
                .scope_spans
                .into_iter()
                .flatten()
                .flat_map(|ss| ss.spans)
                .flatten()
            {
                let (Some(trace_id), Some(span_id)) = (s.trace_id, s.span_id) else {
                    continue;
                };
                let start_ns = s.start_time_unix_nano;
                let end_ns = s.end_time_unix_nano;
                let tags: Vec<(String, String)> = pairs(s.attributes).collect();
                let error = s.status.and_then(|st| st.code) == Some(StatusCode::Error)
                    || tags.iter().any(|(k, v)| is_error_tag(k, v));
                let logs = s
                    .events
                    .into_iter()
                    .map(|e| {
                        let e = e.unwrap_or_default();
                        let mut fields = vec![("event".to_owned(), e.name)];
                        fields.extend(pairs(e.attributes));
                        SpanLog {
                            timestamp_us: clamp_us(e.time_unix_nano / 1000),
                            fields,
                        }
                    })
                    .collect();
                let span = traces::Span {
                    id: span_id,
                    parent: s.parent_span_id.filter(|p| !p.is_empty()),
                    service: service.clone(),
                    operation: s.name,
                    kind: s.kind.map(|k| k.as_str().to_owned()),
                    start_us: clamp_us(start_ns / 1000),
                    duration_us: clamp_us(end_ns.saturating_sub(start_ns) / 1000),
                    tags,
                    logs,
                    error,
                };
                let i = match index.get(&trace_id) {
                    Some(&i) => i,
                    None => {
                        index.insert(trace_id.clone(), traces.len());
                        traces.push(traces::Trace {
                            id: trace_id,
                            spans: Vec::new(),
                        });
                        traces.len() - 1
                    }
                };
                traces[i].spans.push(span);
            }
        }
        traces
    }
}

#[cfg(test)]
mod tests {
    use super::super::decode_tests::exercise;
    use super::*;

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
        let parsed = decode(&body);
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
    fn missing_services_and_ids_are_tolerated() {
        // A resource without service.name is "unknown"; spans without ids
        // are dropped, the others kept.
        let v3 = serde_json::json!({"resourceSpans": [
            {"resource": {"attributes": [{"key": "host.name", "value": {"stringValue": "n1"}}]},
             "scopeSpans": [{"spans": [{"traceId": "m", "spanId": "1", "name": "a"}, {"traceId": "m"}]}]},
            {"scopeSpans": [{"spans": [{"traceId": "m", "spanId": "2", "parentSpanId": "1", "name": "b"}]}]},
            {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "ratings.bookinfo"}}]},
             "scopeSpans": [{"spans": [{"traceId": "m", "spanId": "3", "parentSpanId": "", "name": "c"}, 7]}, "x"]}
        ]});
        let traces = decode(&v3);
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

    #[test]
    fn the_result_wrapper_wins_when_present_and_spans_group_by_trace() {
        let spans = serde_json::json!([{"scopeSpans": [{"spans": [
            {"traceId": "b", "spanId": "1"}, {"traceId": "a", "spanId": "2"}, {"traceId": "b", "spanId": "3"}
        ]}]}]);
        let bare = serde_json::json!({ "resourceSpans": spans });
        let ids = |body: &Value| {
            decode(body)
                .iter()
                .map(|t| (t.id.clone(), t.spans.len()))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&bare), [("b".to_owned(), 2), ("a".to_owned(), 1)]);
        let wrapped = serde_json::json!({ "result": { "resourceSpans": spans } });
        assert_eq!(ids(&wrapped), ids(&bare));
        // A `result` that is there but not an object hides a bare answer.
        for odd in [serde_json::json!(null), serde_json::json!([1])] {
            let both = serde_json::json!({ "result": odd, "resourceSpans": spans });
            assert!(decode(&both).is_empty(), "{both}");
        }
    }

    #[test]
    fn attribute_values_read_as_text_in_otlp_order() {
        let body = serde_json::json!({"resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": "bare.ns"}]},
            "scopeSpans": [{"spans": [{"traceId": "t", "spanId": "1", "name": ["odd"], "attributes": [
                {"key": "s", "value": {"stringValue": "x"}},
                {"key": "i", "value": {"intValue": "503"}},
                {"key": "b", "value": {"boolValue": true}},
                {"key": "d", "value": {"doubleValue": 0.5}},
                {"key": "both", "value": {"intValue": 1, "stringValue": "wins"}},
                {"key": "arr", "value": {"arrayValue": {"values": []}}},
                {"key": "none"},
                {"value": {"stringValue": "no key"}}
            ], "events": [7, {"name": "retry", "timeUnixNano": 5000, "attributes": [{"key": "n", "value": {"intValue": "2"}}]}]}]}]
        }]});
        let t = &decode(&body)[0];
        let s = &t.spans[0];
        assert_eq!(
            (s.service.as_str(), s.operation.as_str()),
            ("bare.ns", r#"["odd"]"#)
        );
        let tags: Vec<(&str, &str)> = s
            .tags
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            tags,
            [
                ("s", "x"),
                ("i", "503"),
                ("b", "true"),
                ("d", "0.5"),
                ("both", "wins"),
                ("arr", r#"{"arrayValue":{"values":[]}}"#),
                ("none", ""),
            ]
        );
        assert_eq!(
            s.logs,
            [
                SpanLog {
                    timestamp_us: 0,
                    fields: vec![("event".into(), String::new())]
                },
                SpanLog {
                    timestamp_us: 5,
                    fields: vec![("event".into(), "retry".into()), ("n".into(), "2".into())]
                }
            ]
        );
    }

    #[test]
    fn services_and_operations_are_their_names() {
        let services = serde_json::json!({"services": ["b.x", 1, "a.x"]});
        assert_eq!(decode_services(&services), ["b.x", "a.x"]);
        let ops = serde_json::json!({"operations": [
            {"name": "GET /", "spanKind": "server"}, {"spanKind": "client"}, "x", {"name": 3}, {"name": "db"}
        ]});
        assert_eq!(decode_operations(&ops), ["GET /", "db"]);
        for odd in [
            serde_json::json!(null),
            serde_json::json!({}),
            serde_json::json!({"services": "a", "operations": {"name": "x"}}),
        ] {
            assert!(decode_services(&odd).is_empty() && decode_operations(&odd).is_empty());
        }
    }
}
