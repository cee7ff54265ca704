//! Export of meshdeck's spans ([`crate::spans`]) to an OpenTelemetry
//! endpoint over OTLP/HTTP with JSON encoding (`--otlp-endpoint`, off
//! unless given): `POST <endpoint>/v1/traces`, `Content-Type:
//! application/json`, an `ExportTraceServiceRequest` ([`encode`]).
//!
//! Written here as a `tracing_subscriber` layer rather than with the
//! `opentelemetry` crates: their OTLP exporter brings tonic and prost (a
//! gRPC stack) for what is a JSON POST with reqwest, already a dependency.
//!
//! - [`OtlpLayer`] gives every span of [`crate::spans::TARGET`] a span id
//!   and its parent's trace id (the nearest such ancestor, or a caller's
//!   `traceparent`, or a new trace), keeps its fields as attributes (at
//!   most [`MAX_ATTRIBUTES`], strings cut at [`MAX_VALUE_BYTES`]), and
//!   queues it when it closes. Nothing there waits: a full queue
//!   ([`QUEUE_CAPACITY`]) drops the span and counts it, so memory is
//!   bounded whatever happens to the endpoint.
//! - One task sends the queue every [`FLUSH_INTERVAL`], or as soon as
//!   [`MAX_BATCH`] spans wait, each export bounded by [`EXPORT_TIMEOUT`].
//!   A failed export is not retried: its spans are dropped and counted,
//!   and the failure logged at most once per [`LOG_INTERVAL`], naming the
//!   endpoint without credentials or query.
//! - Counted in meshdeck's own metrics: spans exported, spans dropped by
//!   reason, failed exports ([`crate::selfmetrics`]).
//!
//! Ids come from std's SipHash keyed from the OS' randomness once per
//! process, over a counter: unpredictable and distinct, without another
//! crate.

mod encode;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, oneshot};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;
use url::Url;

pub use self::encode::{SERVICE_NAME, encode};
use crate::spans::{self, RemoteParent};

/// Most spans waiting for export; further ones are dropped (and counted).
pub const QUEUE_CAPACITY: usize = 4096;
/// Most spans in one export.
pub const MAX_BATCH: usize = 512;
/// How often the spans waiting are sent.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// Longest one export may take, from connecting to the answer.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);
/// Failed exports are logged at most this often.
pub const LOG_INTERVAL: Duration = Duration::from_secs(60);
/// Most attributes kept per span; the rest are counted as dropped.
pub const MAX_ATTRIBUTES: usize = 32;
/// Longest attribute text kept, in bytes.
pub const MAX_VALUE_BYTES: usize = 1024;
/// Most of an endpoint's answer read (for its partial success).
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// The path of trace exports below the endpoint.
pub const TRACES_PATH: &str = "v1/traces";

/// An attribute's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Text.
    Str(String),
    /// A whole number.
    Int(i64),
    /// A flag.
    Bool(bool),
    /// A real number.
    Double(f64),
}

/// What side of a call a span is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    /// Work inside meshdeck.
    #[default]
    Internal,
    /// A request meshdeck serves.
    Server,
    /// A call meshdeck makes.
    Client,
}

impl Kind {
    /// OTLP's `SpanKind` number.
    pub fn code(self) -> u8 {
        match self {
            Kind::Internal => 1,
            Kind::Server => 2,
            Kind::Client => 3,
        }
    }
}

/// A span as exported (while open, its start and fields so far).
#[derive(Clone, Debug, PartialEq)]
pub struct FinishedSpan {
    /// Trace it belongs to; never zero.
    pub trace_id: u128,
    /// Its id; never zero.
    pub span_id: u64,
    /// Its parent's id, if it has one.
    pub parent_span_id: Option<u64>,
    /// Its name (`otel.name`, else tracing's).
    pub name: String,
    /// Server, client or internal (`otel.kind`).
    pub kind: Kind,
    /// Start, in nanoseconds since the Unix epoch.
    pub start_unix_nanos: u64,
    /// End, likewise; not before the start.
    pub end_unix_nanos: u64,
    /// Its recorded fields, `otel.*` excepted.
    pub attributes: Vec<(&'static str, Value)>,
    /// Fields left out over [`MAX_ATTRIBUTES`].
    pub dropped_attributes: u32,
    /// `otel.status_code` said `error`.
    pub error: bool,
}

fn unix_nanos(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// A non-zero 64-bit id.
fn random_u64() -> u64 {
    static KEYS: LazyLock<RandomState> = LazyLock::new(RandomState::new);
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    loop {
        let mut hasher = KEYS.build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        let id = hasher.finish();
        if id != 0 {
            return id;
        }
    }
}

fn new_trace_id() -> u128 {
    (u128::from(random_u64()) << 64) | u128::from(random_u64())
}

/// `text`, cut to at most [`MAX_VALUE_BYTES`] on a character boundary.
fn bounded(text: &str) -> String {
    if text.len() <= MAX_VALUE_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_VALUE_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Records a span's fields: `otel.*` steer it, the rest are attributes.
struct Fields<'a> {
    span: &'a mut FinishedSpan,
    /// Set only when the span is created: a caller's trace to continue.
    remote: Option<&'a mut Option<RemoteParent>>,
}

impl Fields<'_> {
    fn set(&mut self, key: &'static str, value: Value) {
        match (key, value) {
            (spans::NAME, Value::Str(name)) => self.span.name = name,
            (spans::KIND, Value::Str(kind)) => {
                self.span.kind = match kind.as_str() {
                    "server" => Kind::Server,
                    "client" => Kind::Client,
                    _ => Kind::Internal,
                };
            }
            (spans::STATUS, Value::Str(status)) => self.span.error = status == spans::STATUS_ERROR,
            (spans::PARENT, Value::Str(parent)) => {
                if let Some(remote) = self.remote.as_deref_mut() {
                    *remote = RemoteParent::from_field(&parent);
                }
            }
            (key, _) if key.starts_with("otel.") => {}
            (key, value) => {
                let attributes = &mut self.span.attributes;
                if let Some(slot) = attributes.iter_mut().find(|(k, _)| *k == key) {
                    slot.1 = value;
                } else if attributes.len() < MAX_ATTRIBUTES {
                    attributes.push((key, value));
                } else {
                    self.span.dropped_attributes += 1;
                }
            }
        }
    }
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field.name(), Value::Str(bounded(value)));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.set(field.name(), Value::Int(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        let value = i64::try_from(value).map_or_else(|_| Value::Str(value.to_string()), Value::Int);
        self.set(field.name(), value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.set(field.name(), Value::Bool(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.set(field.name(), Value::Double(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.set(field.name(), Value::Str(bounded(&format!("{value:?}"))));
    }
}

/// The layer that records spans and queues them for export. Install it
/// with [`filter`], so it sees only the spans meant for export.
#[derive(Debug)]
pub struct OtlpLayer {
    queue: mpsc::Sender<FinishedSpan>,
}

/// The spans [`OtlpLayer`] handles: those of [`spans::TARGET`].
pub fn filter() -> Targets {
    Targets::new().with_target(spans::TARGET, Level::DEBUG)
}

impl OtlpLayer {
    /// A layer queueing into `queue` (whose capacity bounds what waits).
    pub fn new(queue: mpsc::Sender<FinishedSpan>) -> Self {
        OtlpLayer { queue }
    }
}

impl<S> Layer<S> for OtlpLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut record = FinishedSpan {
            trace_id: 0,
            span_id: random_u64(),
            parent_span_id: None,
            name: attrs.metadata().name().to_owned(),
            kind: Kind::Internal,
            start_unix_nanos: unix_nanos(SystemTime::now()),
            end_unix_nanos: 0,
            attributes: Vec::new(),
            dropped_attributes: 0,
            error: false,
        };
        let mut remote = None;
        attrs.record(&mut Fields {
            span: &mut record,
            remote: Some(&mut remote),
        });
        // With this layer's filter, `parent` is the nearest span meant for
        // export: a handler's `#[instrument]` span in between is skipped.
        let local = span.parent().and_then(|parent| {
            parent
                .extensions()
                .get::<FinishedSpan>()
                .map(|p| (p.trace_id, p.span_id))
        });
        (record.trace_id, record.parent_span_id) = match (local, remote) {
            (Some((trace_id, parent)), _) => (trace_id, Some(parent)),
            (None, Some(remote)) => (remote.trace_id, Some(remote.span_id)),
            (None, None) => (new_trace_id(), None),
        };
        span.extensions_mut().insert(record);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(record) = extensions.get_mut::<FinishedSpan>() {
            values.record(&mut Fields {
                span: record,
                remote: None,
            });
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let Some(mut record) = span.extensions_mut().remove::<FinishedSpan>() else {
            return;
        };
        record.end_unix_nanos = unix_nanos(SystemTime::now()).max(record.start_unix_nanos);
        if self.queue.try_send(record).is_err() {
            crate::selfmetrics::global().otlp_dropped("queue_full", 1);
        }
    }
}

/// Where and how spans are sent.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// `<endpoint>/v1/traces`, without credentials.
    pub url: Url,
    /// Credentials the endpoint's URL carried, sent as basic authentication.
    basic: Option<(String, String)>,
}

impl Endpoint {
    /// The export URL for `endpoint` (a base such as
    /// `http://collector:4318`, or a URL already ending in `/v1/traces`).
    /// Credentials in it are taken out and sent as basic authentication.
    pub fn parse(endpoint: &Url) -> Result<Self, String> {
        let mut url = endpoint.clone();
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "the OTLP endpoint must be http or https, not {}",
                url.scheme()
            ));
        }
        let basic = (!url.username().is_empty() || url.password().is_some()).then(|| {
            (
                crate::upstream::http::percent_decode(url.username()),
                crate::upstream::http::percent_decode(url.password().unwrap_or("")),
            )
        });
        // Only special schemes have credentials, and these cannot fail there.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.set_fragment(None);
        let path = url.path().trim_end_matches('/').to_owned();
        if !path.ends_with(&format!("/{TRACES_PATH}")) {
            url.set_path(&format!("{path}/{TRACES_PATH}"));
        }
        Ok(Endpoint { url, basic })
    }

    /// The URL as logs show it: without credentials or query.
    pub fn shown(&self) -> String {
        let mut url = self.url.clone();
        url.set_query(None);
        url.to_string()
    }
}

/// Lets `main` send what is still queued before the process ends.
#[derive(Clone, Debug)]
pub struct OtlpHandle {
    flushes: mpsc::Sender<oneshot::Sender<()>>,
}

impl OtlpHandle {
    /// Sends every span queued so far, waiting at most `within`.
    pub async fn flush(&self, within: Duration) {
        let (done, finished) = oneshot::channel();
        if self.flushes.send(done).await.is_ok() {
            let _ = tokio::time::timeout(within, finished).await;
        }
    }
}

/// Starts exporting to `endpoint` (on the current Tokio runtime): the layer
/// to install (with [`filter`]) and a handle to flush at exit.
pub fn start(endpoint: &Url) -> Result<(OtlpLayer, OtlpHandle), String> {
    let endpoint = Endpoint::parse(endpoint)?;
    let client = reqwest::Client::builder()
        .timeout(EXPORT_TIMEOUT)
        .connect_timeout(EXPORT_TIMEOUT)
        .user_agent(concat!("meshdeck/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("building the OTLP HTTP client: {e}"))?;
    let (queue, spans) = mpsc::channel(QUEUE_CAPACITY);
    let (flushes, flush_requests) = mpsc::channel(1);
    let exporter = Exporter {
        client,
        endpoint,
        log: FailureLog::default(),
    };
    tokio::spawn(exporter.run(spans, flush_requests));
    Ok((OtlpLayer::new(queue), OtlpHandle { flushes }))
}

/// Failures logged at most once per [`LOG_INTERVAL`].
#[derive(Debug, Default)]
struct FailureLog {
    last: Option<Instant>,
    unlogged: u64,
}

impl FailureLog {
    fn failed(&mut self, endpoint: &str, reason: &str, spans: usize) {
        self.unlogged += 1;
        if self.last.is_some_and(|last| last.elapsed() < LOG_INTERVAL) {
            return;
        }
        tracing::warn!(
            endpoint,
            reason,
            spans,
            failures = self.unlogged,
            "exporting spans over OTLP failed; they are dropped (meshdeck_otlp_* metrics count them), logged at most once a minute"
        );
        self.unlogged = 0;
        self.last = Some(Instant::now());
    }
}

struct Exporter {
    client: reqwest::Client,
    endpoint: Endpoint,
    log: FailureLog,
}

impl Exporter {
    async fn run(
        mut self,
        mut spans: mpsc::Receiver<FinishedSpan>,
        mut flushes: mpsc::Receiver<oneshot::Sender<()>>,
    ) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        let mut tick = tokio::time::interval(FLUSH_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                received = spans.recv() => match received {
                    Some(span) => {
                        batch.push(span);
                        if batch.len() >= MAX_BATCH {
                            self.export(std::mem::take(&mut batch)).await;
                        }
                    }
                    None => {
                        self.export(batch).await;
                        return;
                    }
                },
                _ = tick.tick() => self.export(std::mem::take(&mut batch)).await,
                Some(done) = flushes.recv() => {
                    while let Ok(span) = spans.try_recv() {
                        batch.push(span);
                        if batch.len() >= MAX_BATCH {
                            self.export(std::mem::take(&mut batch)).await;
                        }
                    }
                    self.export(std::mem::take(&mut batch)).await;
                    let _ = done.send(());
                }
            }
        }
    }

    /// Sends `spans` (if any) and counts how it went.
    async fn export(&mut self, spans: Vec<FinishedSpan>) {
        if spans.is_empty() {
            return;
        }
        let metrics = crate::selfmetrics::global();
        let n = spans.len();
        let mut request = self
            .client
            .post(self.endpoint.url.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(encode(&spans));
        drop(spans);
        if let Some((user, password)) = &self.endpoint.basic {
            request = request.basic_auth(user, Some(password));
        }
        let reason = match request.send().await {
            Ok(response) if response.status().is_success() => {
                let rejected = rejected_spans(response).await.min(n as u64);
                metrics.otlp_exported(n as u64 - rejected);
                if rejected > 0 {
                    metrics.otlp_dropped("rejected", rejected);
                }
                return;
            }
            Ok(response) => format!("the endpoint answered HTTP {}", response.status().as_u16()),
            Err(err) if err.is_timeout() => {
                format!("no answer within {} s", EXPORT_TIMEOUT.as_secs())
            }
            Err(err) if err.is_connect() => "cannot connect".to_owned(),
            // Without the URL: it may carry a query the logs should not show.
            Err(err) => format!("request failed: {}", err.without_url()),
        };
        metrics.otlp_export_failed();
        metrics.otlp_dropped("export_failed", n as u64);
        self.log.failed(&self.endpoint.shown(), &reason, n);
    }
}

/// The spans a successful answer says it rejected (`partialSuccess`), read
/// from at most [`MAX_ANSWER_BYTES`] of it.
async fn rejected_spans(mut response: reqwest::Response) -> u64 {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_ANSWER_BYTES {
            return 0;
        }
    }
    parse_rejected(&body)
}

fn parse_rejected(body: &[u8]) -> u64 {
    let Ok(answer) = serde_json::from_slice::<serde_json::Value>(body) else {
        return 0;
    };
    match answer.pointer("/partialSuccess/rejectedSpans") {
        Some(serde_json::Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(serde_json::Value::String(s)) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    fn url(text: &str) -> Url {
        text.parse().unwrap()
    }

    #[test]
    fn endpoints_get_the_traces_path_and_lose_their_credentials() {
        let e = Endpoint::parse(&url("http://collector:4318")).unwrap();
        assert_eq!(e.url.as_str(), "http://collector:4318/v1/traces");
        assert_eq!(e.basic, None);
        let e = Endpoint::parse(&url("https://otel.example.com/otlp/")).unwrap();
        assert_eq!(e.url.as_str(), "https://otel.example.com/otlp/v1/traces");
        let e = Endpoint::parse(&url("http://c:4318/v1/traces")).unwrap();
        assert_eq!(e.url.as_str(), "http://c:4318/v1/traces");
        let e = Endpoint::parse(&url("http://ops:s%40cret@c:4318/x?tenant=a#frag")).unwrap();
        assert_eq!(e.url.as_str(), "http://c:4318/x/v1/traces?tenant=a");
        assert_eq!(e.basic, Some(("ops".into(), "s@cret".into())));
        assert_eq!(e.shown(), "http://c:4318/x/v1/traces");
        assert!(
            Endpoint::parse(&url("ftp://c/"))
                .unwrap_err()
                .contains("http or https")
        );
    }

    #[test]
    fn partial_successes_count_their_rejected_spans() {
        assert_eq!(parse_rejected(b"{}"), 0);
        assert_eq!(parse_rejected(b""), 0);
        assert_eq!(
            parse_rejected(br#"{"partialSuccess":{"rejectedSpans":"3","errorMessage":"x"}}"#),
            3
        );
        assert_eq!(
            parse_rejected(br#"{"partialSuccess":{"rejectedSpans":2}}"#),
            2
        );
    }

    #[test]
    fn ids_are_never_zero_and_do_not_repeat() {
        let ids: std::collections::HashSet<u64> = (0..10_000).map(|_| random_u64()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(!ids.contains(&0));
        assert_ne!(new_trace_id(), new_trace_id());
        assert_eq!(bounded(&"é".repeat(MAX_VALUE_BYTES)).len(), MAX_VALUE_BYTES);
        assert_eq!(
            bounded(&"é".repeat(MAX_VALUE_BYTES + 1)).len(),
            MAX_VALUE_BYTES
        );
        assert_eq!(
            bounded(&"a".repeat(MAX_VALUE_BYTES + 1)).len(),
            MAX_VALUE_BYTES
        );
    }

    /// Runs `f` with the layer installed (with its filter); the spans it
    /// queued, in the order they closed.
    fn recorded(capacity: usize, f: impl FnOnce()) -> Vec<FinishedSpan> {
        let (queue, mut spans) = mpsc::channel(capacity);
        let subscriber =
            tracing_subscriber::registry().with(OtlpLayer::new(queue).with_filter(filter()));
        tracing::subscriber::with_default(subscriber, f);
        let mut out = Vec::new();
        while let Ok(span) = spans.try_recv() {
            out.push(span);
        }
        out
    }

    #[test]
    fn upstream_calls_are_children_of_the_request_across_other_spans() {
        let spans = recorded(16, || {
            let request = tracing::debug_span!(
                target: spans::TARGET,
                "request",
                otel.name = "GET /api/x",
                otel.kind = "server",
                http.route = "/api/x",
                http.response.status_code = tracing::field::Empty,
                otel.status_code = tracing::field::Empty,
            );
            let _in_request = request.enter();
            // A handler's own span, not meant for export.
            let handler = tracing::info_span!("handler", secret = "not exported");
            let _in_handler = handler.enter();
            let call = spans::upstream("prometheus", "api/v1/query", "POST", Some("p"), Some(9090));
            spans::record_answer(&call, 503);
            drop(call);
            request.record(spans::HTTP_STATUS, 200);
        });
        assert_eq!(spans.len(), 2, "{spans:#?}");
        let (call, request) = (&spans[0], &spans[1]);
        assert_eq!(request.name, "GET /api/x");
        assert_eq!(request.kind, Kind::Server);
        assert_eq!(request.parent_span_id, None);
        assert!(!request.error);
        assert_eq!(
            request.attributes,
            [
                ("http.route", Value::Str("/api/x".into())),
                ("http.response.status_code", Value::Int(200)),
            ]
        );
        assert_eq!(call.name, "prometheus api/v1/query");
        assert_eq!(call.kind, Kind::Client);
        assert_eq!(call.trace_id, request.trace_id);
        assert_eq!(call.parent_span_id, Some(request.span_id));
        assert!(call.error);
        let attribute = |key: &str| {
            call.attributes
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            attribute("upstream.system"),
            Some(Value::Str("prometheus".into()))
        );
        assert_eq!(
            attribute("upstream.outcome"),
            Some(Value::Str("5xx".into()))
        );
        assert_eq!(
            attribute("http.response.status_code"),
            Some(Value::Int(503))
        );
        assert_eq!(attribute("server.port"), Some(Value::Int(9090)));
        // Fields never recorded are not attributes.
        assert_eq!(attribute("error.type"), None);
        assert!(call.start_unix_nanos <= call.end_unix_nanos);
        assert!(request.start_unix_nanos <= call.start_unix_nanos);
    }

    #[test]
    fn a_callers_traceparent_is_continued() {
        let parent = RemoteParent {
            trace_id: 0x4bf92f3577b34da6a3ce929d0e0e4736,
            span_id: 0x00f067aa0ba902b7,
        };
        let spans = recorded(4, || {
            let _request = tracing::debug_span!(
                target: spans::TARGET,
                "request",
                otel.parent = parent.to_field().as_str(),
            );
        });
        assert_eq!(spans[0].trace_id, parent.trace_id);
        assert_eq!(spans[0].parent_span_id, Some(parent.span_id));
        assert!(spans[0].attributes.is_empty());
    }

    #[test]
    fn a_full_queue_drops_spans_without_waiting() {
        let before = dropped_queue_full();
        let spans = recorded(2, || {
            for _ in 0..5 {
                let _span = tracing::debug_span!(target: spans::TARGET, "request");
            }
        });
        assert_eq!(spans.len(), 2);
        // Other tests of this binary may drop spans too: at least these.
        assert!(dropped_queue_full() - before >= 3);
    }

    fn dropped_queue_full() -> u64 {
        crate::selfmetrics::global().otlp_dropped_total("queue_full")
    }

    #[test]
    fn attributes_are_bounded() {
        let spans = recorded(4, || {
            let span = tracing::debug_span!(
                target: spans::TARGET,
                "request",
                a = tracing::field::Empty,
            );
            span.record("a", "x".repeat(5000).as_str());
        });
        assert_eq!(
            spans[0].attributes[0].1,
            Value::Str("x".repeat(MAX_VALUE_BYTES))
        );
    }
}
