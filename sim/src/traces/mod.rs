//! Simulated traces of the mesh, stored and served in Jaeger's query API
//! formats (v1 JSON and v3 OTLP JSON).
//!
//! - [`generate`]: builds traces that follow the call graph and the traffic
//!   model (the same rates, error shares, latencies and faults as the metrics).
//! - [`store`]: a bounded, thread-safe ring of the most recent traces.
//! - [`query`]: Jaeger's search semantics and its parameter formats.
//! - [`jaeger_v1`] and [`otlp`]: the two JSON forms.
//! - [`http`]: an axum router serving both APIs.

pub mod generate;
pub mod http;
pub mod jaeger_v1;
pub mod otlp;
pub mod query;
pub mod store;

pub use generate::TraceGenerator;
pub use http::router;
pub use query::TraceQuery;
pub use store::TraceStore;

/// Which side of a call a span records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpanKind {
    /// The callee's proxy (inbound).
    Server,
    /// The caller's proxy (outbound).
    Client,
}

impl SpanKind {
    /// Jaeger's name for the kind (`span.kind` tag, v3 operations).
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Server => "server",
            SpanKind::Client => "client",
        }
    }

    /// OTLP's `SpanKind` number (SERVER = 2, CLIENT = 3).
    pub fn otlp(self) -> u8 {
        match self {
            SpanKind::Server => 2,
            SpanKind::Client => 3,
        }
    }

    /// The kind named `s` (case-insensitive), if it is one we produce.
    pub fn parse(s: &str) -> Option<SpanKind> {
        match s.to_ascii_lowercase().as_str() {
            "server" | "span_kind_server" => Some(SpanKind::Server),
            "client" | "span_kind_client" => Some(SpanKind::Client),
            _ => None,
        }
    }
}

/// A tag's value, typed as Jaeger types it.
#[derive(Clone, Debug, PartialEq)]
pub enum TagValue {
    /// `type: "string"`.
    Str(String),
    /// `type: "bool"`.
    Bool(bool),
    /// `type: "int64"`.
    Int(i64),
}

impl TagValue {
    /// The value as text, which is how Jaeger compares tags in searches.
    pub fn to_text(&self) -> String {
        match self {
            TagValue::Str(s) => s.clone(),
            TagValue::Bool(b) => b.to_string(),
            TagValue::Int(i) => i.to_string(),
        }
    }
}

/// A key-value pair on a span, a log or a process.
#[derive(Clone, Debug, PartialEq)]
pub struct Tag {
    /// Key, e.g. `http.status_code`.
    pub key: String,
    /// Value.
    pub value: TagValue,
}

impl Tag {
    /// A string tag.
    pub fn str(key: &str, value: impl Into<String>) -> Tag {
        Tag {
            key: key.to_owned(),
            value: TagValue::Str(value.into()),
        }
    }

    /// A boolean tag.
    pub fn bool(key: &str, value: bool) -> Tag {
        Tag {
            key: key.to_owned(),
            value: TagValue::Bool(value),
        }
    }

    /// An integer tag.
    pub fn int(key: &str, value: i64) -> Tag {
        Tag {
            key: key.to_owned(),
            value: TagValue::Int(value),
        }
    }
}

/// A timestamped log entry on a span (an OTLP event).
#[derive(Clone, Debug, PartialEq)]
pub struct SpanLog {
    /// Unix time in microseconds.
    pub timestamp_us: u64,
    /// Fields; the `event` field names the OTLP event.
    pub fields: Vec<Tag>,
}

/// The process (a pod's proxy) that reported spans.
#[derive(Clone, Debug, PartialEq)]
pub struct Process {
    /// Jaeger service name, `<app>.<namespace>` as Istio reports it.
    pub service: String,
    /// Process tags (`hostname`, `ip`).
    pub tags: Vec<Tag>,
}

/// One span.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    /// Span ID (never 0).
    pub span_id: u64,
    /// The parent span's ID; `None` for the root.
    pub parent_id: Option<u64>,
    /// Operation name, e.g. `reviews.bookinfo.svc.cluster.local:9080/*`.
    pub operation: String,
    /// Client or server side.
    pub kind: SpanKind,
    /// Start, Unix time in microseconds.
    pub start_us: u64,
    /// Duration in microseconds.
    pub duration_us: u64,
    /// Tags as Envoy sets them (including `span.kind` and, on errors, `error`).
    pub tags: Vec<Tag>,
    /// Logs; an erroring span has one with `event=error`.
    pub logs: Vec<SpanLog>,
    /// Index into [`Trace::processes`].
    pub process: usize,
    /// The error message if the call failed (OTLP status message).
    pub error: Option<String>,
}

impl Span {
    /// End, Unix time in microseconds.
    pub fn end_us(&self) -> u64 {
        self.start_us + self.duration_us
    }

    /// The tag called `key`, if present.
    pub fn tag(&self, key: &str) -> Option<&TagValue> {
        self.tags.iter().find(|t| t.key == key).map(|t| &t.value)
    }
}

/// A whole trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// 128-bit trace ID (never 0).
    pub trace_id: u128,
    /// Spans, parents before their children.
    pub spans: Vec<Span>,
    /// Processes the spans point at.
    pub processes: Vec<Process>,
}

impl Trace {
    /// The start of the earliest span, Unix time in microseconds.
    pub fn start_us(&self) -> u64 {
        self.spans.iter().map(|s| s.start_us).min().unwrap_or(0)
    }

    /// The service name of `span`'s process.
    pub fn service_of(&self, span: &Span) -> &str {
        self.processes
            .get(span.process)
            .map(|p| p.service.as_str())
            .unwrap_or("")
    }

    /// The trace ID as Jaeger writes it: 32 lowercase hex digits.
    pub fn id_hex(&self) -> String {
        trace_id_hex(self.trace_id)
    }
}

/// A trace ID as 32 lowercase hex digits.
pub fn trace_id_hex(id: u128) -> String {
    format!("{id:032x}")
}

/// A span ID as 16 lowercase hex digits.
pub fn span_id_hex(id: u64) -> String {
    format!("{id:016x}")
}

/// Parses a trace ID of 1 to 32 hex digits (Jaeger accepts short IDs, left
/// padded with zeros).
pub fn parse_trace_id(s: &str) -> Option<u128> {
    if s.is_empty() || s.len() > 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(s, 16).ok().filter(|id| *id != 0)
}
