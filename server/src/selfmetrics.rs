//! meshdeck's own metrics, in Prometheus' text format, on a port of their
//! own (`--metrics-bind`, off unless given): the console's port is what
//! people and their browsers reach, often through an Ingress; scrapers
//! reach the metrics port inside the cluster, without a token, and
//! nothing about meshdeck's traffic is shown to whoever can reach the UI.
//! (Kiali does the same: its metrics listen on a port of their own.)
//!
//! Counted in one process-wide registry ([`global`]); every label takes a
//! bounded set of values (matched routes, not paths; known methods;
//! status codes; upstream kinds; outcomes), so memory stays bounded
//! whatever callers send:
//!
//! - `meshdeck_http_requests_total{route,method,status}` and
//!   `meshdeck_http_request_duration_seconds{route}` (histogram);
//! - `meshdeck_upstream_requests_total{upstream,outcome}` and
//!   `meshdeck_upstream_request_duration_seconds{upstream}` (histogram), for
//!   Prometheus, Jaeger and the Kubernetes API (`outcome`: `2xx`... `5xx`,
//!   or `error` when no answer came);
//! - `meshdeck_cache_entries`, `meshdeck_cache_bytes`,
//!   `meshdeck_cache_computations_running{cache}`, and
//!   `meshdeck_cache_requests_total{cache,result}` (`hit`, `coalesced`,
//!   `miss`);
//! - `meshdeck_token_reviews_total`, `meshdeck_access_reviews_total`;
//! - `meshdeck_controller_reconciles_total{controller,outcome}`;
//! - `meshdeck_rollout_decisions_total{action}`;
//! - `meshdeck_otlp_spans_exported_total`,
//!   `meshdeck_otlp_spans_dropped_total{reason}` (`queue_full`,
//!   `export_failed`, `rejected` by the endpoint) and
//!   `meshdeck_otlp_export_failures_total`, with `--otlp-endpoint`
//!   (see [`crate::otlp`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::cache::CacheStats;
use crate::state::AppState;

/// Upper bounds of the duration histograms, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Clone, Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

/// The process' counters.
#[derive(Debug, Default)]
pub struct SelfMetrics {
    inner: Mutex<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    http: BTreeMap<(String, &'static str, u16), u64>,
    http_duration: BTreeMap<String, Histogram>,
    upstream: BTreeMap<(&'static str, &'static str), u64>,
    upstream_duration: BTreeMap<&'static str, Histogram>,
    cache: BTreeMap<(&'static str, &'static str), u64>,
    reconciles: BTreeMap<(&'static str, &'static str), u64>,
    decisions: BTreeMap<&'static str, u64>,
    otlp_exported: u64,
    otlp_dropped: BTreeMap<&'static str, u64>,
    otlp_failures: u64,
}

/// Why spans were not exported: the labels of
/// `meshdeck_otlp_spans_dropped_total`.
pub const OTLP_DROP_REASONS: [&str; 3] = ["queue_full", "export_failed", "rejected"];

static GLOBAL: LazyLock<SelfMetrics> = LazyLock::new(SelfMetrics::default);

/// The process-wide registry.
pub fn global() -> &'static SelfMetrics {
    &GLOBAL
}

/// The label of a request's method: the common ones, else `other`.
pub fn method_label(method: &http::Method) -> &'static str {
    match *method {
        http::Method::GET => "GET",
        http::Method::POST => "POST",
        http::Method::PUT => "PUT",
        http::Method::DELETE => "DELETE",
        http::Method::PATCH => "PATCH",
        http::Method::HEAD => "HEAD",
        http::Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The outcome label of an answer's status.
pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

impl SelfMetrics {
    fn with<T>(&self, f: impl FnOnce(&mut Counters) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// One request served on `route` (a matched route, or `ui`).
    pub fn http(&self, route: &str, method: &http::Method, status: u16, took: Duration) {
        let method = method_label(method);
        self.with(|c| {
            *c.http
                .entry((route.to_owned(), method, status))
                .or_default() += 1;
            c.http_duration
                .entry(route.to_owned())
                .or_default()
                .observe(took.as_secs_f64());
        });
    }

    /// One call to `upstream` (`prometheus`, `jaeger`, `kubernetes`) with
    /// `outcome` (a status class, or `error`).
    pub fn upstream(&self, upstream: &'static str, outcome: &'static str, took: Duration) {
        self.with(|c| {
            *c.upstream.entry((upstream, outcome)).or_default() += 1;
            c.upstream_duration
                .entry(upstream)
                .or_default()
                .observe(took.as_secs_f64());
        });
    }

    /// One lookup in `cache` answered by `result` (`hit`, `coalesced`,
    /// `miss`).
    pub fn cache(&self, cache: &'static str, result: &'static str) {
        self.with(|c| *c.cache.entry((cache, result)).or_default() += 1);
    }

    /// One reconcile of `controller` (`autoinject`, `rollouts`) ending in
    /// `outcome` (`ok`, `error`).
    pub fn reconcile(&self, controller: &'static str, outcome: &'static str) {
        self.with(|c| *c.reconciles.entry((controller, outcome)).or_default() += 1);
    }

    /// One rollout judgement deciding `action`.
    pub fn decision(&self, action: &'static str) {
        self.with(|c| *c.decisions.entry(action).or_default() += 1);
    }

    /// `n` spans accepted by the OTLP endpoint.
    pub fn otlp_exported(&self, n: u64) {
        self.with(|c| c.otlp_exported += n);
    }

    /// `n` spans not exported, for `reason` (one of [`OTLP_DROP_REASONS`]).
    pub fn otlp_dropped(&self, reason: &'static str, n: u64) {
        self.with(|c| *c.otlp_dropped.entry(reason).or_default() += n);
    }

    /// Spans not exported so far for `reason`.
    pub fn otlp_dropped_total(&self, reason: &str) -> u64 {
        self.with(|c| c.otlp_dropped.get(reason).copied().unwrap_or(0))
    }

    /// One export to the OTLP endpoint that failed.
    pub fn otlp_export_failed(&self) {
        self.with(|c| c.otlp_failures += 1);
    }

    /// The counters with `state`'s cache and review figures, in
    /// Prometheus' text format (version 0.0.4).
    pub fn render(&self, state: &AppState) -> String {
        let mut out = String::new();
        let c = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        header(
            &mut out,
            "meshdeck_http_requests_total",
            "counter",
            "Requests served, by matched route, method and status.",
        );
        for ((route, method, status), n) in &c.http {
            let route = escape(route);
            let _ = writeln!(
                out,
                "meshdeck_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
            );
        }
        histograms(
            &mut out,
            "meshdeck_http_request_duration_seconds",
            "Time to answer a request, by matched route.",
            "route",
            c.http_duration.iter().map(|(k, h)| (k.as_str(), h)),
        );
        header(
            &mut out,
            "meshdeck_upstream_requests_total",
            "counter",
            "Calls to Prometheus, Jaeger and the Kubernetes API, by outcome.",
        );
        for ((upstream, outcome), n) in &c.upstream {
            let _ = writeln!(
                out,
                "meshdeck_upstream_requests_total{{upstream=\"{upstream}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        histograms(
            &mut out,
            "meshdeck_upstream_request_duration_seconds",
            "Time until an upstream answered (or failed).",
            "upstream",
            c.upstream_duration.iter().map(|(k, h)| (*k, h)),
        );
        header(
            &mut out,
            "meshdeck_cache_requests_total",
            "counter",
            "Lookups in the graph and metrics caches: kept answer, shared running computation, or a new one.",
        );
        for ((cache, result), n) in &c.cache {
            let _ = writeln!(
                out,
                "meshdeck_cache_requests_total{{cache=\"{cache}\",result=\"{result}\"}} {n}"
            );
        }
        let caches = [
            ("graph", state.graph_cache().stats()),
            ("metrics", state.metrics_cache().stats()),
        ];
        let gauges: [(&str, &str, CacheGauge); 3] = [
            ("meshdeck_cache_entries", "Answers kept.", |s| s.entries),
            ("meshdeck_cache_bytes", "Estimated bytes kept.", |s| s.bytes),
            (
                "meshdeck_cache_computations_running",
                "Computations running.",
                |s| s.running,
            ),
        ];
        for (name, help, value) in gauges {
            header(&mut out, name, "gauge", help);
            for (cache, stats) in &caches {
                let _ = writeln!(out, "{name}{{cache=\"{cache}\"}} {}", value(stats));
            }
        }
        let reviews = state.auth().stats();
        for (name, help, n) in [
            (
                "meshdeck_token_reviews_total",
                "TokenReviews sent.",
                reviews.token_reviews,
            ),
            (
                "meshdeck_access_reviews_total",
                "SubjectAccessReviews sent.",
                reviews.access_reviews,
            ),
        ] {
            header(&mut out, name, "counter", help);
            let _ = writeln!(out, "{name} {n}");
        }
        header(
            &mut out,
            "meshdeck_controller_reconciles_total",
            "counter",
            "Reconciles of the controllers, by outcome.",
        );
        for ((controller, outcome), n) in &c.reconciles {
            let _ = writeln!(
                out,
                "meshdeck_controller_reconciles_total{{controller=\"{controller}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        header(
            &mut out,
            "meshdeck_rollout_decisions_total",
            "counter",
            "Judgements of canary rollouts, by decision.",
        );
        for (action, n) in &c.decisions {
            let _ = writeln!(
                out,
                "meshdeck_rollout_decisions_total{{action=\"{action}\"}} {n}"
            );
        }
        header(
            &mut out,
            "meshdeck_otlp_spans_exported_total",
            "counter",
            "Spans the OTLP endpoint accepted.",
        );
        let _ = writeln!(
            out,
            "meshdeck_otlp_spans_exported_total {}",
            c.otlp_exported
        );
        header(
            &mut out,
            "meshdeck_otlp_spans_dropped_total",
            "counter",
            "Spans not exported: the queue was full, the export failed, or the endpoint rejected them.",
        );
        for reason in OTLP_DROP_REASONS {
            let n = c.otlp_dropped.get(reason).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "meshdeck_otlp_spans_dropped_total{{reason=\"{reason}\"}} {n}"
            );
        }
        header(
            &mut out,
            "meshdeck_otlp_export_failures_total",
            "counter",
            "Exports to the OTLP endpoint that failed (no answer, or not a 2xx).",
        );
        let _ = writeln!(
            out,
            "meshdeck_otlp_export_failures_total {}",
            c.otlp_failures
        );
        out
    }
}

/// How a cache gauge reads its value.
type CacheGauge = fn(&CacheStats) -> usize;

/// A family's `# HELP` and `# TYPE` lines.
fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn histograms<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    label: &str,
    items: impl Iterator<Item = (&'a str, &'a Histogram)>,
) {
    header(out, name, "histogram", help);
    for (key, h) in items {
        let key = escape(key);
        for (le, n) in BUCKETS.iter().zip(h.counts) {
            let _ = writeln!(out, "{name}_bucket{{{label}=\"{key}\",le=\"{le}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{label}=\"{key}\",le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(out, "{name}_sum{{{label}=\"{key}\"}} {}", h.sum);
        let _ = writeln!(out, "{name}_count{{{label}=\"{key}\"}} {}", h.count);
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware counting every request of the console's router.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let response = next.run(request).await;
    // Unmatched paths are the UI's files and pages (or unknown API
    // paths, which answer 404): one label, whatever was asked.
    let route = route.unwrap_or_else(|| "unmatched".to_owned());
    global().http(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The metrics port's router: `GET /metrics`.
pub fn router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(metrics))
        .with_state(state)
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        global().render(&state),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_count_into_every_bucket_above() {
        let mut h = Histogram::default();
        h.observe(0.02);
        h.observe(3.0);
        assert_eq!(h.counts[0], 0); // le 0.005
        assert_eq!(h.counts[2], 1); // le 0.025
        assert_eq!(h.counts[9], 2); // le 5
        assert_eq!((h.count, h.sum), (2, 3.02));
        assert_eq!(status_class(204), "2xx");
        assert_eq!(status_class(503), "5xx");
        assert_eq!(
            method_label(&http::Method::from_bytes(b"BREW").unwrap()),
            "other"
        );
    }
}

/// A [`tower::Layer`] timing every request of a Kubernetes client, each
/// in a span of its own (see [`crate::spans`]) naming the API server's
/// host and port.
#[derive(Clone, Debug, Default)]
pub struct KubeTiming {
    host: Option<String>,
    port: Option<u16>,
}

impl KubeTiming {
    /// Timing calls to the API server at `url`.
    pub fn new(url: &http::Uri) -> Self {
        KubeTiming {
            host: url.host().map(str::to_owned),
            port: url.port_u16().or(match url.scheme_str() {
                Some("https") => Some(443),
                Some("http") => Some(80),
                _ => None,
            }),
        }
    }
}

impl<S> tower::Layer<S> for KubeTiming {
    type Service = Timed<S>;

    fn layer(&self, inner: S) -> Timed<S> {
        Timed {
            inner,
            server: self.clone(),
        }
    }
}

/// A service counting its calls as `kubernetes` upstream calls.
#[derive(Clone, Debug)]
pub struct Timed<S> {
    inner: S,
    server: KubeTiming,
}

impl<S, B, RB> tower::Service<http::Request<B>> for Timed<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    RB: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = futures::future::BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        use tracing::Instrument;
        let started = Instant::now();
        // kube's client hands requests to its buffer's worker inside the
        // caller's span, so this is a child of the request being served.
        let (operation, namespace) = crate::spans::kube_operation(request.method(), request.uri());
        let span = crate::spans::upstream(
            "kubernetes",
            &operation,
            request.method().as_str(),
            self.server.host.as_deref(),
            self.server.port,
        );
        if let Some(namespace) = namespace {
            span.record(crate::spans::K8S_NAMESPACE, namespace);
        }
        let answer = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        Box::pin(
            async move {
                let answer = answer.await;
                let outcome = match &answer {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        crate::spans::record_answer(&tracing::Span::current(), status);
                        status_class(status)
                    }
                    Err(_) => {
                        crate::spans::record_failure(&tracing::Span::current(), "transport");
                        "error"
                    }
                };
                global().upstream("kubernetes", outcome, started.elapsed());
                answer
            }
            .instrument(span),
        )
    }
}
