//! The spans meshdeck opens for OpenTelemetry: one per HTTP request it
//! serves (kind server) and one per call it makes to an upstream (kind
//! client: Prometheus, Jaeger, Grafana, Kiali, the Kubernetes API with
//! its TokenReviews and SubjectAccessReviews). [`crate::otlp`] exports
//! them when `--otlp-endpoint` is set; the log lines show them with
//! `MESHDECK_LOG=debug`.
//!
//! Every such span has the target [`TARGET`], which is how the exporter
//! tells them from the other spans (handlers' `#[instrument]`, libraries'):
//! an upstream call's parent is the nearest span of this target, the
//! request it serves. The fields follow OpenTelemetry's conventions; those
//! starting with `otel.` steer the export (`otel.name`, `otel.kind`,
//! `otel.status_code`, and `otel.parent`, a caller's W3C `traceparent`).
//!
//! What goes into them is chosen so that nothing secret can: routes as
//! their templates, paths without query strings, upstreams by host and
//! port (their URLs hold no credentials, see
//! [`crate::upstream::http::HttpUpstream::new`]), Kubernetes calls by verb
//! and resource, and no header, token, PromQL or body at all.

use std::time::Duration;

use axum::extract::MatchedPath;
use tracing::Span;
use tracing::field::Empty;

/// The target of every span meant for export.
pub const TARGET: &str = "meshdeck::span";

/// The span's name as exported (tracing's names are static).
pub const NAME: &str = "otel.name";
/// `server` or `client`.
pub const KIND: &str = "otel.kind";
/// `error` when the request or call failed.
pub const STATUS: &str = "otel.status_code";
/// The remote parent, `<trace id>-<span id>` in hex, from `traceparent`.
pub const PARENT: &str = "otel.parent";
/// The status code answered.
pub const HTTP_STATUS: &str = "http.response.status_code";
/// An upstream call's outcome, as in meshdeck's own metrics: `2xx`...
/// `5xx`, or `error` when no answer came.
pub const OUTCOME: &str = "upstream.outcome";
/// Why an upstream call failed without an answer: `timeout`, `connect`,
/// `transport`.
pub const ERROR_TYPE: &str = "error.type";
/// The namespace a Kubernetes call is in.
pub const K8S_NAMESPACE: &str = "k8s.namespace.name";

/// Value of [`STATUS`] for a failure.
pub const STATUS_ERROR: &str = "error";

/// The W3C trace context header.
pub const TRACEPARENT: &str = "traceparent";

/// A caller's trace context: the trace to continue and its span that
/// called meshdeck.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteParent {
    /// 128-bit trace id, not zero.
    pub trace_id: u128,
    /// 64-bit span id, not zero.
    pub span_id: u64,
}

impl RemoteParent {
    /// Parses a W3C `traceparent` value: `00-<32 hex>-<16 hex>-<2 hex>`
    /// (lowercase; all-zero ids are invalid). Later versions may append
    /// fields after a `-`; version `ff` is invalid. Anything else is
    /// ignored, as the recommendation says: a new trace starts.
    pub fn from_traceparent(value: &str) -> Option<Self> {
        let mut parts = value.trim().splitn(5, '-');
        let version = parts.next()?;
        let trace = parts.next()?;
        let span = parts.next()?;
        let flags = parts.next()?;
        let rest = parts.next();
        let lower_hex = |s: &str, n: usize| {
            s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        if !lower_hex(version, 2) || version == "ff" || !lower_hex(flags, 2) {
            return None;
        }
        // Version 00 has exactly four fields.
        if version == "00" && rest.is_some() {
            return None;
        }
        if !lower_hex(trace, 32) || !lower_hex(span, 16) {
            return None;
        }
        let trace_id = u128::from_str_radix(trace, 16).ok()?;
        let span_id = u64::from_str_radix(span, 16).ok()?;
        (trace_id != 0 && span_id != 0).then_some(RemoteParent { trace_id, span_id })
    }

    /// The form [`PARENT`] carries: `<32 hex>-<16 hex>`.
    pub fn to_field(self) -> String {
        format!("{:032x}-{:016x}", self.trace_id, self.span_id)
    }

    /// Reads [`PARENT`]'s form back.
    pub fn from_field(value: &str) -> Option<Self> {
        let (trace, span) = value.split_once('-')?;
        Self::from_traceparent(&format!("00-{trace}-{span}-01"))
    }
}

/// A span's name of two words, the second optional; written only when
/// the span is recorded (the macros evaluate fields only then).
struct Name<'a>(&'a str, Option<&'a str>);

impl std::fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.1 {
            Some(second) => write!(f, "{} {second}", self.0),
            None => f.write_str(self.0),
        }
    }
}

/// The span of one request served: `tower_http`'s `TraceLayer` makes it
/// with this, inside the router, where the matched route is known.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestSpan;

impl<B> tower_http::trace::MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &http::Request<B>) -> Span {
        let method = crate::selfmetrics::method_label(request.method());
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str);
        let parent = request
            .headers()
            .get(TRACEPARENT)
            .and_then(|v| v.to_str().ok())
            .and_then(RemoteParent::from_traceparent)
            .map(RemoteParent::to_field);
        tracing::debug_span!(
            target: TARGET,
            "request",
            // Unmatched paths (the UI's files, unknown API paths) are named
            // by their method alone, as OpenTelemetry's conventions ask.
            otel.name = %Name(method, route),
            otel.kind = "server",
            otel.parent = parent.as_deref(),
            otel.status_code = Empty,
            http.request.method = method,
            http.route = route,
            url.path = request.uri().path(),
            http.response.status_code = Empty,
        )
    }
}

/// Records the status on the request's span (5xx marks it failed); logs
/// the end of the request at debug level, as `TraceLayer` does by default.
#[derive(Clone, Copy, Debug, Default)]
pub struct RecordStatus;

impl<B> tower_http::trace::OnResponse<B> for RecordStatus {
    fn on_response(self, response: &http::Response<B>, latency: Duration, span: &Span) {
        let status = response.status().as_u16();
        span.record(HTTP_STATUS, status);
        if status >= 500 {
            span.record(STATUS, STATUS_ERROR);
        }
        tracing::debug!(
            latency_ms = latency.as_millis() as u64,
            status,
            "finished processing request"
        );
    }
}

/// The span of one call to `system` (`prometheus`, `kubernetes`...) doing
/// `operation` (a path template such as `api/v1/query`, or a verb and a
/// resource such as `create tokenreviews`), at `host` and `port` when
/// known. A child of the current span; record the outcome with
/// [`record_answer`] or [`record_failure`].
pub fn upstream(
    system: &'static str,
    operation: &str,
    method: &str,
    host: Option<&str>,
    port: Option<u16>,
) -> Span {
    tracing::debug_span!(
        target: TARGET,
        "upstream",
        otel.name = %Name(system, Some(operation)),
        otel.kind = "client",
        otel.status_code = Empty,
        upstream.system = system,
        upstream.operation = operation,
        http.request.method = method,
        server.address = host,
        server.port = port,
        k8s.namespace.name = Empty,
        http.response.status_code = Empty,
        upstream.outcome = Empty,
        error.type = Empty,
    )
}

/// An upstream answered `status`: 4xx and 5xx mark the call failed (the
/// client's view, as OpenTelemetry's conventions have it).
pub fn record_answer(span: &Span, status: u16) {
    span.record(HTTP_STATUS, status);
    span.record(OUTCOME, crate::selfmetrics::status_class(status));
    if status >= 400 {
        span.record(STATUS, STATUS_ERROR);
    }
}

/// An upstream call ended without a (whole) answer, for `reason`
/// (`timeout`, `connect`, `transport`).
pub fn record_failure(span: &Span, reason: &'static str) {
    span.record(OUTCOME, "error");
    span.record(ERROR_TYPE, reason);
    span.record(STATUS, STATUS_ERROR);
}

/// The [`record_failure`] reason of a reqwest error.
pub fn reqwest_failure(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connect"
    } else {
        "transport"
    }
}

/// What a request to the Kubernetes API does, as `<verb> <resource>`
/// (`list pods`, `create tokenreviews`, `get pods/log`, `watch
/// namespaces`), with the namespace it is in, if any. Names of objects are
/// left out: the operation names a span, and should be few.
pub fn kube_operation(method: &http::Method, uri: &http::Uri) -> (String, Option<String>) {
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    // `/api/v1/...` (core) or `/apis/<group>/<version>/...`.
    let rest = match segments.as_slice() {
        ["api", _version, rest @ ..] => rest,
        ["apis", _group, _version, rest @ ..] => rest,
        [] => return ("discovery".into(), None),
        ["version", ..] => return ("version".into(), None),
        ["api" | "apis", ..] => return ("discovery".into(), None),
        _ => return ("other".into(), None),
    };
    let (namespace, resource, name, subresource) = match rest {
        ["namespaces", ns, resource, tail @ ..] => {
            (Some(*ns), Some(*resource), tail.first(), tail.get(1))
        }
        [resource, tail @ ..] => (None, Some(*resource), tail.first(), tail.get(1)),
        [] => (None, None, None, None),
    };
    let Some(resource) = resource else {
        return ("discovery".into(), None);
    };
    let watch = uri.query().is_some_and(|q| {
        q.split('&')
            .any(|pair| matches!(pair, "watch=true" | "watch=1"))
    });
    let verb = match (method.as_str(), name.is_some()) {
        ("GET", _) if watch => "watch",
        ("GET", true) => "get",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "other",
    };
    let operation = match subresource {
        Some(sub) => format!("{verb} {resource}/{sub}"),
        None => format!("{verb} {resource}"),
    };
    (operation, namespace.map(|ns| (*ns).to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_is_read_strictly() {
        let parent = RemoteParent::from_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .unwrap();
        assert_eq!(parent.trace_id, 0x4bf92f3577b34da6a3ce929d0e0e4736);
        assert_eq!(parent.span_id, 0x00f067aa0ba902b7);
        assert_eq!(
            parent.to_field(),
            "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"
        );
        assert_eq!(RemoteParent::from_field(&parent.to_field()), Some(parent));
        // A later version may append fields.
        assert!(
            RemoteParent::from_traceparent(
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra"
            )
            .is_some()
        );
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        ] {
            assert_eq!(RemoteParent::from_traceparent(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn kubernetes_calls_are_named_by_verb_and_resource() {
        let op = |method: &str, uri: &str| {
            kube_operation(&method.parse().unwrap(), &uri.parse().unwrap())
        };
        let named = |s: &str, ns: Option<&str>| (s.to_owned(), ns.map(str::to_owned));
        assert_eq!(
            op(
                "POST",
                "/apis/authentication.k8s.io/v1/tokenreviews?fieldManager=x"
            ),
            named("create tokenreviews", None)
        );
        assert_eq!(
            op("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews"),
            named("create subjectaccessreviews", None)
        );
        assert_eq!(
            op("GET", "/api/v1/namespaces"),
            named("list namespaces", None)
        );
        assert_eq!(
            op("GET", "/api/v1/namespaces/bookinfo"),
            named("get namespaces", None)
        );
        assert_eq!(
            op(
                "GET",
                "/api/v1/namespaces/bookinfo/pods?labelSelector=app%3Dx"
            ),
            named("list pods", Some("bookinfo"))
        );
        assert_eq!(
            op("GET", "/api/v1/namespaces/bookinfo/pods/p-1/log"),
            named("get pods/log", Some("bookinfo"))
        );
        assert_eq!(
            op(
                "GET",
                "/apis/networking.istio.io/v1/virtualservices?watch=true&resourceVersion=5"
            ),
            named("watch virtualservices", None)
        );
        assert_eq!(
            op(
                "PATCH",
                "/apis/networking.istio.io/v1/namespaces/shop/virtualservices/reviews?fieldManager=meshdeck"
            ),
            named("patch virtualservices", Some("shop"))
        );
        assert_eq!(
            op("PUT", "/api/v1/namespaces/meshdeck/configmaps/c"),
            named("update configmaps", Some("meshdeck"))
        );
        assert_eq!(
            op("DELETE", "/api/v1/namespaces/shop/pods"),
            named("deletecollection pods", Some("shop"))
        );
        assert_eq!(op("GET", "/version"), named("version", None));
        assert_eq!(op("GET", "/apis"), named("discovery", None));
        assert_eq!(
            op("GET", "/apis/networking.istio.io/v1"),
            named("discovery", None)
        );
    }
}
