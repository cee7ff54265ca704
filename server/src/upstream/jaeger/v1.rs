//! Jaeger's v1 query API answers (`/api/...`, Jaeger's own JSON) as typed
//! records, and their decoding into meshdeck's [`traces::Trace`].
//!
//! Every field is read forgivingly (see `loose.rs`): unknown fields are
//! ignored, missing or odd ones read as neutral values, so a malformed
//! answer decodes to fewer or emptier traces, never to an error or a panic.

use std::collections::HashMap;

use app::types::SpanLog;
use serde::Deserialize;
use serde_json::Value;

use super::{is_error_tag, kind_tag, loose};
use crate::traces::{self, clamp_us};

/// `/api/traces` and `/api/traces/{id}`: `{"data": [trace, ...], "total",
/// "limit", "offset", "errors"}` (only `data` is read).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct TracesAnswer {
    /// The traces; `None` where an element is not an object.
    #[serde(deserialize_with = "loose::objects")]
    pub data: Vec<Option<Trace>>,
}

/// One trace: `{traceID, spans, processes, warnings}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Trace {
    /// Trace id (hex, as Jaeger writes it). Traces without one are dropped.
    #[serde(rename = "traceID", deserialize_with = "loose::string")]
    pub trace_id: Option<String>,
    /// Its spans.
    #[serde(deserialize_with = "loose::objects")]
    pub spans: Vec<Option<Span>>,
    /// The processes (services) the spans point at, by process id (`p1`).
    #[serde(deserialize_with = "loose::object_map")]
    pub processes: HashMap<String, Option<Process>>,
}

/// A process: `{serviceName, tags}` (only the service is read).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Process {
    /// Service name.
    #[serde(rename = "serviceName", deserialize_with = "loose::string")]
    pub service_name: Option<String>,
}

/// One span.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Span {
    /// Span id (hex). Spans without one are dropped.
    #[serde(rename = "spanID", deserialize_with = "loose::string")]
    pub span_id: Option<String>,
    /// Operation name (anything else than a string is shown as its JSON).
    #[serde(rename = "operationName", deserialize_with = "loose::text")]
    pub operation_name: String,
    /// References to other spans; the first `CHILD_OF` (else the first of
    /// any type) is the parent.
    #[serde(deserialize_with = "loose::objects")]
    pub references: Vec<Option<Reference>>,
    /// Start, Unix microseconds (a number, or a string of one).
    #[serde(rename = "startTime", deserialize_with = "loose::int")]
    pub start_time: i64,
    /// Duration, microseconds.
    #[serde(deserialize_with = "loose::int")]
    pub duration: i64,
    /// Tags: `{key, type, value}`.
    #[serde(deserialize_with = "loose::objects")]
    pub tags: Vec<Option<KeyValue>>,
    /// Logs: `{timestamp, fields}`.
    #[serde(deserialize_with = "loose::objects")]
    pub logs: Vec<Option<Log>>,
    /// The key of its process in the trace's `processes`.
    #[serde(rename = "processID", deserialize_with = "loose::string")]
    pub process_id: Option<String>,
}

/// A reference: `{refType, traceID, spanID}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Reference {
    /// `CHILD_OF` or `FOLLOWS_FROM`.
    #[serde(rename = "refType", deserialize_with = "loose::string")]
    pub ref_type: Option<String>,
    /// The span referred to.
    #[serde(rename = "spanID", deserialize_with = "loose::string")]
    pub span_id: Option<String>,
}

/// A tag or log field: `{key, type, value}`; the value is kept as text
/// (`"true"`, `"503"`), whatever its `type`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct KeyValue {
    /// Key; entries without one are dropped.
    #[serde(deserialize_with = "loose::string")]
    pub key: Option<String>,
    /// Value as text: strings as they are, other JSON as its text.
    #[serde(deserialize_with = "loose::text")]
    pub value: String,
}

/// A log: `{timestamp, fields}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Log {
    /// Unix microseconds.
    #[serde(deserialize_with = "loose::int")]
    pub timestamp: i64,
    /// Its fields.
    #[serde(deserialize_with = "loose::objects")]
    pub fields: Vec<Option<KeyValue>>,
}

/// `/api/services` and `/api/services/{service}/operations`: `{"data":
/// [name, ...], ...}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct NamesAnswer {
    /// The names (elements that are not strings are skipped).
    #[serde(deserialize_with = "loose::strings")]
    pub data: Vec<String>,
}

/// The traces in a `/api/traces` (or `/api/traces/{id}`) answer; anything
/// unreadable is left out.
pub fn decode(body: &Value) -> Vec<traces::Trace> {
    loose::answer::<TracesAnswer>(body).into_traces()
}

/// The names in a `/api/services` or `/api/services/{s}/operations` answer,
/// in Jaeger's order.
pub fn decode_names(body: &Value) -> Vec<String> {
    loose::answer::<NamesAnswer>(body).data
}

impl TracesAnswer {
    /// The traces that have an id.
    pub fn into_traces(self) -> Vec<traces::Trace> {
        self.data
            .into_iter()
            .flatten()
            .filter_map(Trace::into_trace)
            .collect()
    }
}

fn pairs(list: Vec<Option<KeyValue>>) -> Vec<(String, String)> {
    list.into_iter()
        .flatten()
        .filter_map(|kv| Some((kv.key?, kv.value)))
        .collect()
}

impl Trace {
    /// The trace, if it has an id; its spans without an id are left out,
    /// and spans whose process is missing belong to service `unknown`.
    pub fn into_trace(self) -> Option<traces::Trace> {
        let id = self.trace_id?;
        let processes = self.processes;
        let spans = self
            .spans
            .into_iter()
            .flatten()
            .filter_map(|s| {
                let span_id = s.span_id?;
                let service = s
                    .process_id
                    .as_deref()
                    .and_then(|p| processes.get(p))
                    .and_then(|p| p.as_ref()?.service_name.as_deref())
                    .unwrap_or("unknown")
                    .to_owned();
                let parent = s
                    .references
                    .iter()
                    .find(|r| r.as_ref().and_then(|r| r.ref_type.as_deref()) == Some("CHILD_OF"))
                    .or_else(|| s.references.first())
                    .and_then(|r| r.as_ref()?.span_id.clone());
                let tags = pairs(s.tags);
                let logs = s
                    .logs
                    .into_iter()
                    .map(|l| {
                        let l = l.unwrap_or_default();
                        SpanLog {
                            timestamp_us: clamp_us(l.timestamp),
                            fields: pairs(l.fields),
                        }
                    })
                    .collect();
                let kind = kind_tag(&tags);
                let error = tags.iter().any(|(k, v)| is_error_tag(k, v));
                Some(traces::Span {
                    id: span_id,
                    parent,
                    service,
                    operation: s.operation_name,
                    kind,
                    start_us: clamp_us(s.start_time),
                    duration_us: clamp_us(s.duration),
                    tags,
                    logs,
                    error,
                })
            })
            .collect();
        Some(traces::Trace { id, spans })
    }
}

#[cfg(test)]
mod tests {
    use super::super::decode_tests::exercise;
    use super::*;
    use crate::access::AccessScope;
    use crate::traces::{detail, summary};

    #[test]
    fn missing_processes_and_ids_are_tolerated() {
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
        let traces = decode(&v1);
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
    }

    #[test]
    fn odd_references_tags_and_logs_read_as_before() {
        // The first CHILD_OF wins, else the first reference of any kind,
        // even one that is not an object (then there is no parent).
        let v1 = serde_json::json!({"data": [{"traceID": "r", "spans": [
            {"spanID": "a", "references": [{"refType": "FOLLOWS_FROM", "spanID": "x"}, {"refType": "CHILD_OF", "spanID": "y"}]},
            {"spanID": "b", "references": [{"refType": "FOLLOWS_FROM", "spanID": "x"}, {"spanID": "z"}]},
            {"spanID": "c", "references": ["junk", {"refType": "FOLLOWS_FROM", "spanID": "x"}]},
            {"spanID": "d", "references": [{"refType": "CHILD_OF", "spanID": 7}, {"spanID": "x"}]},
            {"spanID": "e", "operationName": 42,
             "tags": [{"key": "n", "value": 1.5}, {"key": "o", "value": {"a": [1]}}, {"key": "z"}, {"value": "no key"}, 3],
             "logs": ["junk", {"timestamp": "77", "fields": [{"key": "event", "value": null}]}]}
        ], "processes": ["p1"]}]});
        let t = &decode(&v1)[0];
        let parents: Vec<Option<&str>> = t.spans.iter().map(|s| s.parent.as_deref()).collect();
        assert_eq!(parents, [Some("y"), Some("x"), None, None, None]);
        let e = &t.spans[4];
        assert_eq!(
            (e.operation.as_str(), e.service.as_str()),
            ("42", "unknown")
        );
        assert_eq!(
            e.tags,
            [
                ("n".to_owned(), "1.5".to_owned()),
                ("o".to_owned(), r#"{"a":[1]}"#.to_owned()),
                ("z".to_owned(), String::new()),
            ]
        );
        assert_eq!(
            e.logs,
            [
                SpanLog {
                    timestamp_us: 0,
                    fields: vec![]
                },
                SpanLog {
                    timestamp_us: 77,
                    fields: vec![("event".into(), String::new())]
                }
            ]
        );
    }

    #[test]
    fn names_are_the_string_elements_of_data() {
        let body = serde_json::json!({"data": ["b.x", 3, null, "a.x"], "total": 4});
        assert_eq!(decode_names(&body), ["b.x", "a.x"]);
        for odd in [
            serde_json::json!(null),
            serde_json::json!({"data": null}),
            serde_json::json!({"data": {"a": "b"}}),
            serde_json::json!(["a"]),
        ] {
            assert!(decode_names(&odd).is_empty(), "{odd}");
        }
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
        let t = &decode(&v1)[0];
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
}
