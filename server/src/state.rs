//! Shared, cheaply clonable state every handler receives.

use std::sync::Arc;
use std::time::Duration;

use app::types::{AuthMode, DemoIdentity, MetricsReport, RunMode, UpstreamKind, UpstreamStatus};

use crate::enablement::settings::Parsed;

use crate::auth::cache::TtlCache;
use crate::auth::{Auth, AuthOptions};
use crate::cache::{CacheOptions, Coalescer, Unanswered};
use crate::clock::Clock;
use crate::cluster::Cluster;
use crate::error::{Error, Result};
use crate::graph::{GraphInputs, GraphLimits};
use crate::metrics::MetricsLimits;
use crate::spa::Spa;
use crate::upstream::Upstreams;
use crate::upstream::jaeger::JaegerClient;
use crate::upstream::prometheus::PrometheusClient;

/// Everything a request may need; the server keeps nothing durable itself
/// (the identity and role caches are short-lived copies of the cluster's
/// answers).
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    mode: RunMode,
    auth_mode: AuthMode,
    upstreams: Upstreams,
    spa: Spa,
    auth: Auth,
    options: StateOptions,
    metrics_cache: Coalescer<Arc<MetricsReport>, Error>,
    graph_cache: Coalescer<Arc<GraphInputs>, Error>,
    settings_cache: Arc<TtlCache<(), Arc<Parsed>>>,
    /// The last probe of every upstream and when it was made.
    probes: tokio::sync::Mutex<Option<(std::time::Instant, Arc<Vec<UpstreamStatus>>)>>,
}

/// How long one probe of the upstreams answers `/api/status` (public, so
/// anyone could otherwise make meshdeck probe every upstream at will).
const PROBE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// The tunable parts of the state; the caches follow from them.
#[derive(Clone)]
struct StateOptions {
    metrics_limits: MetricsLimits,
    graph_limits: GraphLimits,
    settings_namespace: String,
    /// Most bytes the graph and metrics caches keep together.
    cache_max_bytes: usize,
    /// Prometheus' scrape interval (seconds): the shortest rollout interval.
    scrape_interval_s: u32,
    /// Where "now" comes from.
    clock: Clock,
}

/// The graph cache's share of `--cache-max-bytes`, in quarters: graph
/// inputs are large (every edge's samples; tens of MiB for a mesh of
/// hundreds of services), metrics reports small (a few thousand points).
const GRAPH_CACHE_QUARTERS: usize = 3;

/// The upstream timeout assumed when no Prometheus is configured (nothing
/// is computed then, but the caches need a deadline).
const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(5);

/// How long one shared computation may run, given the upstream timeout:
/// its queries run concurrently, each bounded by the timeout, and decoding
/// their answers takes a little longer; a quarter more, at most a second,
/// is the margin.
pub fn compute_deadline(upstream_timeout: Duration) -> Duration {
    upstream_timeout + (upstream_timeout / 4).min(Duration::from_secs(1))
}

/// The error of a graph or metrics computation that ended without one of
/// its own: both wait on Prometheus (the graph's pod list is optional, its
/// failure only a warning), so Prometheus is what was too slow.
fn unanswered(why: Unanswered) -> Error {
    match why {
        Unanswered::Deadline(after) => Error::upstream(
            UpstreamKind::Prometheus,
            format!("no answer within {:.1} s", after.as_secs_f64()),
        ),
        Unanswered::Aborted => {
            Error::internal("a shared graph or metrics computation ended without an answer")
        }
    }
}

/// How long the mesh settings read for access decisions are reused.
const SETTINGS_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

impl Inner {
    /// State with fresh caches sized by `options`.
    fn build(
        mode: RunMode,
        auth_mode: AuthMode,
        upstreams: Upstreams,
        spa: Spa,
        auth: Auth,
        options: StateOptions,
    ) -> Self {
        let timeout = upstreams
            .prometheus
            .as_ref()
            .map_or(DEFAULT_UPSTREAM_TIMEOUT, |p| p.upstream().timeout());
        let graph_bytes = options.cache_max_bytes / 4 * GRAPH_CACHE_QUARTERS;
        let cache = |ttl, max_bytes| CacheOptions {
            ttl,
            max_bytes,
            deadline: compute_deadline(timeout),
        };
        Inner {
            metrics_cache: Coalescer::new(
                cache(
                    options.metrics_limits.cache_ttl,
                    options.cache_max_bytes - graph_bytes,
                ),
                |report: &Arc<MetricsReport>| crate::metrics::report_weight(report),
                unanswered,
            )
            .named("metrics"),
            graph_cache: Coalescer::new(
                cache(options.graph_limits.cache_ttl, graph_bytes),
                |fetched: &Arc<GraphInputs>| fetched.weight(),
                unanswered,
            )
            .named("graph"),
            mode,
            auth_mode,
            upstreams,
            spa,
            auth,
            settings_cache: Arc::new(TtlCache::new(SETTINGS_CACHE_TTL, 1)),
            probes: tokio::sync::Mutex::new(None),
            options,
        }
    }
}

impl AppState {
    /// State for a server in `mode`, identifying callers by `auth_mode`,
    /// with the default [`AuthOptions`].
    pub fn new(mode: RunMode, auth_mode: AuthMode, upstreams: Upstreams, spa: Spa) -> Self {
        Self::with_auth(mode, auth_mode, upstreams, spa, AuthOptions::default())
    }

    /// Like [`AppState::new`], resolving identities and roles with `options`
    /// through `upstreams.kube`.
    pub fn with_auth(
        mode: RunMode,
        auth_mode: AuthMode,
        upstreams: Upstreams,
        spa: Spa,
        options: AuthOptions,
    ) -> Self {
        let auth = Auth::new(upstreams.kube.as_ref().map(|c| c.own().clone()), options);
        let options = StateOptions {
            metrics_limits: MetricsLimits::default(),
            graph_limits: GraphLimits::default(),
            settings_namespace: crate::enablement::settings::DEFAULT_NAMESPACE.to_owned(),
            cache_max_bytes: crate::config::DEFAULT_CACHE_MAX_BYTES as usize,
            scrape_interval_s: crate::config::DEFAULT_SCRAPE_INTERVAL_S,
            clock: Clock::System,
        };
        AppState {
            inner: Arc::new(Inner::build(mode, auth_mode, upstreams, spa, auth, options)),
        }
    }

    /// The same state with `change` applied to its options (and fresh caches).
    fn with_options(self, change: impl FnOnce(&mut StateOptions)) -> Self {
        let i = &self.inner;
        let mut options = i.options.clone();
        change(&mut options);
        AppState {
            inner: Arc::new(Inner::build(
                i.mode,
                i.auth_mode,
                i.upstreams.clone(),
                i.spa.clone(),
                i.auth.clone(),
                options,
            )),
        }
    }

    /// The same state with other metrics limits.
    pub fn with_metrics_limits(self, limits: MetricsLimits) -> Self {
        self.with_options(|o| o.metrics_limits = limits)
    }

    /// The same state keeping the mesh settings in `namespace`.
    pub fn with_settings_namespace(self, namespace: impl Into<String>) -> Self {
        let namespace = namespace.into();
        self.with_options(|o| o.settings_namespace = namespace)
    }

    /// The same state with caches keeping at most `bytes` together
    /// (`--cache-max-bytes`; three quarters for graph inputs, the rest for
    /// metrics reports).
    pub fn with_cache_max_bytes(self, bytes: usize) -> Self {
        self.with_options(|o| o.cache_max_bytes = bytes)
    }

    /// The same state knowing Prometheus scrapes every `seconds`.
    pub fn with_scrape_interval(self, seconds: u32) -> Self {
        self.with_options(|o| o.scrape_interval_s = seconds)
    }

    /// The same state reading the time from `clock` (tests set the time
    /// queries are evaluated at with [`Clock::manual`]).
    pub fn with_clock(self, clock: Clock) -> Self {
        self.with_options(|o| o.clock = clock)
    }

    /// Now, in seconds since the Unix epoch: the time every query and
    /// judgement is made at.
    pub fn now_s(&self) -> f64 {
        self.inner.options.clock.now_s()
    }

    /// Prometheus' scrape interval (seconds).
    pub fn scrape_interval_s(&self) -> u32 {
        self.inner.options.scrape_interval_s
    }

    /// The same state with other graph limits.
    pub fn with_graph_limits(self, limits: GraphLimits) -> Self {
        self.with_options(|o| o.graph_limits = limits)
    }

    /// The mesh settings as last read (briefly cached; cleared on save).
    pub fn settings_cache(&self) -> &TtlCache<(), Arc<Parsed>> {
        &self.inner.settings_cache
    }

    /// meshdeck's own namespace, where the mesh settings ConfigMap lives.
    pub fn settings_namespace(&self) -> &str {
        &self.inner.options.settings_namespace
    }

    /// Limits of metrics requests.
    pub fn metrics_limits(&self) -> &MetricsLimits {
        &self.inner.options.metrics_limits
    }

    /// Shared, briefly kept metrics answers.
    pub fn metrics_cache(&self) -> &Coalescer<Arc<MetricsReport>, Error> {
        &self.inner.metrics_cache
    }

    /// Limits of graph requests.
    pub fn graph_limits(&self) -> &GraphLimits {
        &self.inner.options.graph_limits
    }

    /// Shared, briefly kept graph inputs.
    pub fn graph_cache(&self) -> &Coalescer<Arc<GraphInputs>, Error> {
        &self.inner.graph_cache
    }

    /// `serve` or `demo`.
    pub fn mode(&self) -> RunMode {
        self.inner.mode
    }

    /// How callers are identified.
    pub fn auth_mode(&self) -> AuthMode {
        self.inner.auth_mode
    }

    /// The outside systems.
    pub fn upstreams(&self) -> &Upstreams {
        &self.inner.upstreams
    }

    /// Every upstream's state, probed at most once per few seconds:
    /// requests arriving while a probe runs wait for it and share it (the
    /// wait is bounded by the upstreams' timeouts).
    pub async fn upstream_status(&self) -> Arc<Vec<UpstreamStatus>> {
        let mut last = self.inner.probes.lock().await;
        if let Some((at, probes)) = last.as_ref() {
            if at.elapsed() < PROBE_TTL {
                return probes.clone();
            }
        }
        let probes = Arc::new(self.inner.upstreams.probe_all().await);
        *last = Some((std::time::Instant::now(), probes.clone()));
        probes
    }

    /// The configured Prometheus, or 503 saying none is.
    pub fn prometheus(&self) -> Result<&PrometheusClient> {
        self.inner.upstreams.prometheus.as_ref().ok_or_else(|| {
            Error::upstream(
                UpstreamKind::Prometheus,
                "no Prometheus URL is configured (--prometheus-url)",
            )
        })
    }

    /// The configured Jaeger, or 503 saying none is.
    pub fn jaeger(&self) -> Result<&JaegerClient> {
        self.inner.upstreams.jaeger.as_ref().ok_or_else(|| {
            Error::upstream(
                UpstreamKind::Jaeger,
                "no Jaeger URL is configured (--jaeger-url)",
            )
        })
    }

    /// The cluster, or 503 when none is configured.
    pub fn cluster(&self) -> Result<&Cluster> {
        self.inner.upstreams.kube.as_ref().ok_or_else(|| {
            Error::upstream(
                UpstreamKind::Kubernetes,
                "no cluster is configured (pass --kubeconfig or --in-cluster)",
            )
        })
    }

    /// The built UI.
    pub fn spa(&self) -> &Spa {
        &self.inner.spa
    }

    /// Identity and role resolution (TokenReview, SubjectAccessReview).
    pub fn auth(&self) -> &Auth {
        &self.inner.auth
    }

    /// The identities to switch between: in demo auth mode only.
    pub fn demo_identities(&self) -> Vec<DemoIdentity> {
        match self.auth_mode() {
            AuthMode::Demo => self.auth().options().demo_identities.clone(),
            AuthMode::Token | AuthMode::Proxy => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::UpstreamArgs;

    fn state(timeout: Duration) -> AppState {
        let args = UpstreamArgs {
            prometheus_url: Some("http://127.0.0.1:9".parse().unwrap()),
            ..UpstreamArgs::default()
        };
        AppState::new(
            RunMode::Demo,
            AuthMode::Demo,
            Upstreams::from_args(&args, timeout).unwrap(),
            Spa::load(std::path::Path::new("/nonexistent")),
        )
    }

    #[test]
    fn the_deadline_is_the_upstream_timeout_and_a_bounded_margin() {
        assert_eq!(
            compute_deadline(Duration::from_millis(500)),
            Duration::from_millis(625)
        );
        // A quarter of 5 s is more than the one-second cap.
        assert_eq!(
            compute_deadline(Duration::from_secs(5)),
            Duration::from_secs(6)
        );
        let state = state(Duration::from_secs(2));
        assert_eq!(
            state.graph_cache().options().deadline,
            Duration::from_millis(2500)
        );
        assert_eq!(
            state.metrics_cache().options().deadline,
            Duration::from_millis(2500)
        );
    }

    #[test]
    fn the_caches_share_the_byte_budget_three_to_one() {
        let state = state(Duration::from_secs(5));
        // 256 MiB by default.
        assert_eq!(state.graph_cache().options().max_bytes, 192 << 20);
        assert_eq!(state.metrics_cache().options().max_bytes, 64 << 20);
        let state = state.with_cache_max_bytes(1001);
        assert_eq!(state.graph_cache().options().max_bytes, 750);
        assert_eq!(state.metrics_cache().options().max_bytes, 251);
        // The time to live still comes from the limits.
        assert_eq!(
            state.metrics_cache().options().ttl,
            MetricsLimits::default().cache_ttl
        );
    }
}
