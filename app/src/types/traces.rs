//! Traces: search results, the services with traces, one trace as a waterfall.

use serde::{Deserialize, Serialize};

/// One trace in a search result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TraceSummary {
    /// Trace id (hex).
    pub trace_id: String,
    /// Service of the root span.
    pub root_service: String,
    /// Operation of the root span.
    pub root_operation: String,
    /// Start of the trace (Unix microseconds).
    pub start_us: i64,
    /// Duration of the whole trace (microseconds).
    pub duration_us: i64,
    /// Number of spans.
    pub span_count: usize,
    /// Number of spans marked as errors.
    pub error_count: usize,
    /// Services the trace passes through.
    pub services: Vec<String>,
}

/// `GET /api/traces`: traces matching a search, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TraceSearch {
    /// The traces.
    pub traces: Vec<TraceSummary>,
    /// The limit that applied.
    pub limit: usize,
}

/// `GET /api/traces/services`: services with traces the caller may see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TraceServices {
    /// Service names as the tracer reports them (`<app>.<namespace>` in Istio).
    pub services: Vec<String>,
    /// Operations of the service asked for, if one was.
    pub operations: Vec<String>,
}

/// A timestamped log entry of a span.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpanLog {
    /// Unix microseconds.
    pub timestamp_us: i64,
    /// Key/value fields.
    pub fields: Vec<(String, String)>,
}

/// One span of a trace, in waterfall order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpanView {
    /// Span id (hex).
    pub span_id: String,
    /// The span this one is drawn under in the waterfall: its parent when
    /// that is in the trace; `None` for roots, for spans whose parent was
    /// not collected, and for the spans of a reference cycle or duplicate
    /// id, which are shown as roots after the tree (Jaeger's own
    /// references are not repeated here).
    pub parent_id: Option<String>,
    /// Depth in the call tree (root = 0).
    pub depth: usize,
    /// Service name.
    pub service: String,
    /// Operation name.
    pub operation: String,
    /// `client` or `server` where known.
    pub kind: Option<String>,
    /// Start (Unix microseconds).
    pub start_us: i64,
    /// Duration (microseconds).
    pub duration_us: i64,
    /// Marked as an error.
    pub error: bool,
    /// Tags (empty when redacted).
    pub tags: Vec<(String, String)>,
    /// Logs (empty when redacted).
    pub logs: Vec<SpanLog>,
    /// Outside the caller's namespaces: tags and logs withheld.
    pub redacted: bool,
}

/// `GET /api/traces/{id}`: one trace as a waterfall.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TraceDetail {
    /// Trace id (hex).
    pub trace_id: String,
    /// Start of the earliest span (Unix microseconds).
    pub start_us: i64,
    /// From the earliest start to the latest end (microseconds).
    pub duration_us: i64,
    /// Spans in depth-first order, children by start time.
    pub spans: Vec<SpanView>,
    /// The likely root cause: the deepest failing span on the error path.
    pub root_cause: Option<String>,
    /// Services in the trace.
    pub services: Vec<String>,
}
