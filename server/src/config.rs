//! Command line and environment: every flag of `meshdeck` is also an
//! environment variable (`MESHDECK_*`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use url::Url;

/// meshdeck: an operations console for Istio service meshes.
#[derive(Debug, Parser)]
#[command(name = "meshdeck", version, about, long_about = None)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, env = "MESHDECK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// OpenTelemetry endpoint to export request spans to, over OTLP/HTTP
    /// with JSON (`POST <URL>/v1/traces`), e.g. http://otel-collector:4318
    /// (an OpenTelemetry Collector, or Jaeger's OTLP HTTP port); off unless
    /// given. Credentials in the URL are sent as basic authentication.
    #[arg(long, env = "MESHDECK_OTLP_ENDPOINT", global = true, value_parser = parse_otlp_endpoint)]
    pub otlp_endpoint: Option<Url>,
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// `meshdeck <command>`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the console for a real cluster.
    Serve(Box<ServeArgs>),
    /// Serve the console on the built-in simulated mesh (no cluster needed).
    #[cfg(feature = "demo")]
    Demo(Box<DemoArgs>),
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// How callers are identified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuthModeArg {
    /// Kubernetes bearer tokens checked with a TokenReview; writes carry
    /// the caller's token.
    Token,
    /// An authenticating proxy in front names the user and groups in
    /// headers; writes impersonate them.
    Proxy,
    /// Pick a demo identity without a token (only with `meshdeck demo`).
    Demo,
}

/// Where an authenticating proxy puts the identity (`--auth-mode proxy`).
#[derive(Clone, Debug, Args)]
pub struct ProxyArgs {
    /// Header naming the user the proxy authenticated.
    #[arg(long, env = "MESHDECK_PROXY_USER_HEADER", default_value = "X-Forwarded-User", value_parser = parse_header_name)]
    pub proxy_user_header: http::HeaderName,
    /// Header with the user's groups (comma-separated or repeated).
    #[arg(long, env = "MESHDECK_PROXY_GROUPS_HEADER", default_value = "X-Forwarded-Groups", value_parser = parse_header_name)]
    pub proxy_groups_header: http::HeaderName,
    /// Address ranges the proxy connects from (comma-separated CIDRs);
    /// requests from anywhere else are refused. Loopback by default: the
    /// proxy runs beside meshdeck (a sidecar).
    #[arg(long, env = "MESHDECK_PROXY_TRUSTED_CIDRS", default_value = "127.0.0.1/32,::1/128", value_delimiter = ',', value_parser = parse_cidr)]
    pub proxy_trusted_cidrs: Vec<crate::auth::proxy::Cidr>,
}

fn parse_otlp_endpoint(text: &str) -> Result<Url, String> {
    let url: Url = text
        .parse()
        .map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    crate::otlp::Endpoint::parse(&url)?;
    Ok(url)
}

fn parse_header_name(text: &str) -> Result<http::HeaderName, String> {
    http::HeaderName::try_from(text.trim())
        .map_err(|_| format!("{text:?} is not an HTTP header name"))
}

fn parse_cidr(text: &str) -> Result<crate::auth::proxy::Cidr, String> {
    text.parse()
}

impl ProxyArgs {
    /// The proxy options these flags describe.
    pub fn options(&self) -> crate::auth::proxy::ProxyOptions {
        crate::auth::proxy::ProxyOptions {
            user_header: self.proxy_user_header.clone(),
            groups_header: self.proxy_groups_header.clone(),
            trusted: self.proxy_trusted_cidrs.clone(),
        }
    }
}

/// Flags shared by `serve` and `demo`.
#[derive(Clone, Debug, Args)]
pub struct HttpArgs {
    /// Address to listen on.
    #[arg(long, env = "MESHDECK_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Address for meshdeck's own metrics (`GET /metrics`, Prometheus'
    /// text format, no token); off unless given.
    #[arg(long, env = "MESHDECK_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,
    /// Directory with the built UI (Trunk's `dist/`). Default: the UI
    /// embedded in the binary (release builds of `scripts/build.sh`), else
    /// `dist` in the working directory.
    #[arg(long, env = "MESHDECK_STATIC_DIR")]
    pub static_dir: Option<PathBuf>,
    /// Timeout for each call to an upstream system, in milliseconds.
    #[arg(long, env = "MESHDECK_UPSTREAM_TIMEOUT_MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(100..=120_000))]
    pub upstream_timeout_ms: u64,
    /// Longest a client may take to send a request line and headers (e.g.
    /// 10s): counted from the connection for its first request, from the
    /// first byte for later ones. Ends slow and stalled request heads.
    #[arg(long, env = "MESHDECK_HTTP_HEADER_TIMEOUT", default_value = "10s", value_parser = parse_timeout)]
    pub http_header_timeout: Duration,
    /// Longest a request body may take to arrive in full (e.g. 30s); a
    /// slower one is answered with 408 and its connection closed.
    #[arg(long, env = "MESHDECK_HTTP_BODY_TIMEOUT", default_value = "30s", value_parser = parse_timeout)]
    pub http_body_timeout: Duration,
    /// Longest a connection may wait for its client with nothing to do:
    /// kept alive between requests, or with a response the client does not
    /// read (e.g. 90s).
    #[arg(long, env = "MESHDECK_HTTP_IDLE_TIMEOUT", default_value = "90s", value_parser = parse_timeout)]
    pub http_idle_timeout: Duration,
    /// Most client connections served at once; further ones wait to be
    /// accepted, and idle kept-alive connections are closed to make room.
    #[arg(long, env = "MESHDECK_HTTP_MAX_CONNECTIONS", default_value_t = crate::serve::DEFAULT_MAX_CONNECTIONS as u32, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub http_max_connections: u32,
    /// On Ctrl-C or SIGTERM, how long requests in flight may take to finish
    /// before every connection is closed and meshdeck exits (e.g. 5s; 0s
    /// closes at once).
    #[arg(long, env = "MESHDECK_SHUTDOWN_GRACE", default_value = "5s", value_parser = parse_grace)]
    pub shutdown_grace: Duration,
    /// Most memory the graph and metrics caches keep together, by their
    /// estimate (e.g. 256MiB, 1GiB; 0: keep nothing, only share answers
    /// among concurrent identical requests).
    #[arg(long, env = "MESHDECK_CACHE_MAX_BYTES", default_value = "256MiB", value_parser = parse_bytes)]
    pub cache_max_bytes: u64,
    /// Limits and caching of metrics requests.
    #[command(flatten)]
    pub metrics: MetricsArgs,
    /// Limits of traffic graph requests.
    #[command(flatten)]
    pub graph: GraphArgs,
}

/// The default of `--cache-max-bytes`: 256 MiB.
pub const DEFAULT_CACHE_MAX_BYTES: u64 = 256 * 1024 * 1024;

/// The largest `--cache-max-bytes` accepted: 64 GiB.
const MAX_CACHE_MAX_BYTES: u64 = 64 * 1024 * 1024 * 1024;

/// A whole number of bytes, alone or with a unit: `B`, `KiB`, `MiB`, `GiB`.
fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit = match unit.trim() {
        "" | "B" => Some(1),
        "KiB" => Some(1 << 10),
        "MiB" => Some(1 << 20),
        "GiB" => Some(1 << 30),
        _ => None,
    };
    number
        .parse::<u64>()
        .ok()
        .zip(unit)
        .and_then(|(n, unit)| n.checked_mul(unit))
        .filter(|bytes| *bytes <= MAX_CACHE_MAX_BYTES)
        .ok_or_else(|| {
            format!("{text:?} is not a size from 0 to 64GiB (a number of bytes, or with KiB, MiB or GiB, e.g. 256MiB)")
        })
}

/// Limits of `/api/graph`.
#[derive(Clone, Debug, Args)]
pub struct GraphArgs {
    /// Most namespaces one traffic graph shows in detail; a request for
    /// more gets the namespace overview.
    #[arg(long, env = "MESHDECK_GRAPH_MAX_NAMESPACES", default_value_t = DEFAULT_GRAPH_MAX_NAMESPACES, value_parser = clap::value_parser!(u32).range(1..))]
    pub graph_max_namespaces: u32,
    /// Most namespaces one traffic graph request may cover, as the
    /// overview (the server still reads every namespace's traffic in
    /// detail to sum it: about 2.5 MiB and 11 ms each).
    #[arg(long, env = "MESHDECK_GRAPH_MAX_OVERVIEW_NAMESPACES", default_value_t = DEFAULT_GRAPH_MAX_OVERVIEW_NAMESPACES, value_parser = clap::value_parser!(u32).range(1..))]
    pub graph_max_overview_namespaces: u32,
}

/// The default of `--graph-max-namespaces`: a detailed graph of 20
/// namespaces of 25 services holds about 50 MiB of Prometheus answers (a
/// quarter of the graph cache's default share, so four such graphs of
/// "now" stay cached) and is answered in about a quarter of a second on
/// two cores (`cargo bench -p meshdeck --bench graph -- namespaces`: 2.35
/// to 2.53 MiB and 10.4 to 11.5 ms per namespace at 10, 40 and 100).
pub const DEFAULT_GRAPH_MAX_NAMESPACES: u32 = 20;
/// The default of `--graph-max-overview-namespaces`: 100 namespaces are
/// about 235 MiB held while the answer is built and 1.1 s.
pub const DEFAULT_GRAPH_MAX_OVERVIEW_NAMESPACES: u32 = 100;

impl GraphArgs {
    /// The limits these flags describe (caching keeps its default).
    pub fn limits(&self) -> crate::graph::GraphLimits {
        crate::graph::GraphLimits {
            max_namespaces: self.graph_max_namespaces as usize,
            max_overview_namespaces: (self.graph_max_overview_namespaces as usize)
                .max(self.graph_max_namespaces as usize),
            ..crate::graph::GraphLimits::default()
        }
    }
}

/// Limits and caching of `/api/metrics`.
#[derive(Clone, Debug, Args)]
pub struct MetricsArgs {
    /// Longest range one metrics request may cover (e.g. 30d, 12h).
    #[arg(long, env = "MESHDECK_METRICS_MAX_RANGE", default_value = "30d", value_parser = parse_range)]
    pub metrics_max_range: f64,
    /// Most points per series in one metrics request.
    #[arg(long, env = "MESHDECK_METRICS_MAX_POINTS", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(10..=11_000))]
    pub metrics_max_points: u32,
    /// How long identical metrics requests for a range ending now reuse one answer, in milliseconds (0: only concurrent ones share; explicit start/end ranges are never kept).
    #[arg(long, env = "MESHDECK_METRICS_CACHE_TTL_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(0..=600_000))]
    pub metrics_cache_ttl_ms: u64,
}

fn parse_range(text: &str) -> Result<f64, String> {
    app::types::TimeSpan::parse_range(text)
        .map(|s| s.seconds())
        .ok_or_else(|| format!("{text:?} is not a duration like 12h or 30d"))
}

impl MetricsArgs {
    /// The limits these flags describe.
    pub fn limits(&self) -> crate::metrics::MetricsLimits {
        crate::metrics::MetricsLimits {
            max_range_s: self.metrics_max_range,
            max_points: self.metrics_max_points,
            cache_ttl: Duration::from_millis(self.metrics_cache_ttl_ms),
        }
    }
}

impl HttpArgs {
    /// The upstream timeout as a duration.
    pub fn upstream_timeout(&self) -> Duration {
        Duration::from_millis(self.upstream_timeout_ms)
    }

    /// The HTTP server's timeouts and limits these flags describe.
    pub fn serve_options(&self) -> crate::serve::ServeOptions {
        crate::serve::ServeOptions {
            header_timeout: self.http_header_timeout,
            body_timeout: self.http_body_timeout,
            idle_timeout: self.http_idle_timeout,
            max_connections: self.http_max_connections as usize,
            shutdown_grace: self.shutdown_grace,
        }
    }
}

/// A duration of whole seconds, minutes or hours (`90s`, `2m`) from `min`
/// to `max`; `0s` only where `min` is zero.
fn parse_bounded_duration(text: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let seconds = if matches!(text.trim(), "0" | "0s") {
        Some(0.0)
    } else {
        app::types::TimeSpan::parse_range(text).map(|s| s.seconds())
    };
    match seconds.map(Duration::from_secs_f64) {
        Some(d) if (min..=max).contains(&d) => Ok(d),
        _ => Err(format!(
            "{text:?} is not a duration from {}s to {}s (e.g. 30s or 2m)",
            min.as_secs(),
            max.as_secs()
        )),
    }
}

/// An HTTP server timeout: 1s to 1h.
fn parse_timeout(text: &str) -> Result<Duration, String> {
    parse_bounded_duration(text, Duration::from_secs(1), Duration::from_secs(3600))
}

/// The shutdown grace: 0s to 10m.
fn parse_grace(text: &str) -> Result<Duration, String> {
    parse_bounded_duration(text, Duration::ZERO, Duration::from_secs(600))
}

/// Which Jaeger query API to speak.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum JaegerApiArg {
    /// v3 if `/api/v3/services` answers, else v1.
    #[default]
    Auto,
    /// `/api/services`, `/api/traces` (Jaeger's JSON).
    V1,
    /// `/api/v3/...` (OTLP JSON).
    V3,
}

/// Addresses of the outside systems.
#[derive(Clone, Default, Args)]
pub struct UpstreamArgs {
    /// Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir), e.g. http://prometheus.istio-system:9090.
    #[arg(long, env = "MESHDECK_PROMETHEUS_URL")]
    pub prometheus_url: Option<Url>,
    /// Bearer token sent to Prometheus (e.g. behind an OAuth proxy).
    #[arg(long, env = "MESHDECK_PROMETHEUS_BEARER_TOKEN", hide_env_values = true)]
    pub prometheus_bearer_token: Option<String>,
    /// User name for HTTP basic authentication to Prometheus.
    #[arg(
        long,
        env = "MESHDECK_PROMETHEUS_USERNAME",
        requires = "prometheus_password"
    )]
    pub prometheus_username: Option<String>,
    /// Password for HTTP basic authentication to Prometheus.
    #[arg(
        long,
        env = "MESHDECK_PROMETHEUS_PASSWORD",
        hide_env_values = true,
        requires = "prometheus_username"
    )]
    pub prometheus_password: Option<String>,
    /// Jaeger query service, e.g. http://tracing.istio-system:16686.
    #[arg(long, env = "MESHDECK_JAEGER_URL")]
    pub jaeger_url: Option<Url>,
    /// Jaeger query API generation: detected (v3 if served), or fixed.
    #[arg(long, env = "MESHDECK_JAEGER_API", value_enum, default_value_t = JaegerApiArg::Auto)]
    pub jaeger_api: JaegerApiArg,
    /// Grafana, linked from the console.
    #[arg(long, env = "MESHDECK_GRAFANA_URL")]
    pub grafana_url: Option<Url>,
    /// Kiali, linked from the console.
    #[arg(long, env = "MESHDECK_KIALI_URL")]
    pub kiali_url: Option<Url>,
}

impl std::fmt::Debug for UpstreamArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets stay out of logs and panics.
        f.debug_struct("UpstreamArgs")
            .field("prometheus_url", &self.prometheus_url)
            .field(
                "prometheus_auth",
                &(self.prometheus_bearer_token.is_some() || self.prometheus_username.is_some()),
            )
            .field("jaeger_url", &self.jaeger_url)
            .field("grafana_url", &self.grafana_url)
            .field("kiali_url", &self.kiali_url)
            .finish()
    }
}

/// How identities and roles are resolved.
#[derive(Clone, Debug, Args)]
pub struct AccessArgs {
    /// Label or annotation whose value groups namespaces into projects; a
    /// namespace without it is a project of its own.
    #[arg(long, env = "MESHDECK_PROJECT_KEY", default_value = crate::auth::projects::DEFAULT_PROJECT_KEY, value_parser = parse_project_key)]
    pub project_key: String,
    /// meshdeck's own namespace: the mesh settings ConfigMap lives there.
    #[arg(long, env = "MESHDECK_NAMESPACE", default_value = crate::enablement::settings::DEFAULT_NAMESPACE)]
    pub namespace: String,
    /// How long TokenReview and SubjectAccessReview answers are reused for
    /// reads (e.g. 30s; 0s asks the cluster on every request). A revoked
    /// RoleBinding or token keeps working for reads this long; writes are
    /// made with the caller's own credentials and are never cached.
    #[arg(long, env = "MESHDECK_AUTH_CACHE_TTL", default_value = "30s", value_parser = parse_cache_ttl)]
    pub auth_cache_ttl: Duration,
}

fn parse_cache_ttl(text: &str) -> Result<Duration, String> {
    let seconds = if matches!(text.trim(), "0" | "0s") {
        Some(0.0)
    } else {
        app::types::TimeSpan::parse_range(text).map(|s| s.seconds())
    };
    match seconds {
        Some(s) if (0.0..=600.0).contains(&s) => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!(
            "{text:?} is not a duration from 0s to 10m (e.g. 30s)"
        )),
    }
}

/// A label key: optional DNS prefix and `/`, then a name of at most 63
/// characters of alphanumerics, `-`, `_` and `.`.
fn parse_project_key(key: &str) -> Result<String, String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.".contains(c))
    });
    if name_ok && prefix_ok {
        Ok(key.to_owned())
    } else {
        Err(format!(
            "{key:?} is not a Kubernetes label or annotation key (e.g. field.cattle.io/projectId)"
        ))
    }
}

/// `meshdeck serve`.
#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    /// Listening and static files.
    pub http: HttpArgs,
    #[command(flatten)]
    /// Outside systems.
    pub upstreams: UpstreamArgs,
    /// Kubeconfig file; without it, $KUBECONFIG or ~/.kube/config is used.
    #[arg(long, env = "MESHDECK_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use instead of the current one.
    #[arg(long, env = "MESHDECK_KUBE_CONTEXT")]
    pub context: Option<String>,
    /// Use the pod's service account (running inside the cluster).
    #[arg(long, env = "MESHDECK_IN_CLUSTER", conflicts_with_all = ["kubeconfig", "context"])]
    pub in_cluster: bool,
    /// How callers are identified.
    #[arg(long, env = "MESHDECK_AUTH_MODE", value_enum, default_value_t = AuthModeArg::Token)]
    pub auth_mode: AuthModeArg,
    #[command(flatten)]
    /// Identity and roles.
    pub access: AccessArgs,
    #[command(flatten)]
    /// The authenticating proxy (`--auth-mode proxy`).
    pub proxy: ProxyArgs,
    /// Seconds between Prometheus' scrapes of the mesh (Istio's sample
    /// Prometheus: 15). Rollout intervals may not be shorter.
    #[arg(long, env = "MESHDECK_PROMETHEUS_SCRAPE_INTERVAL", default_value_t = DEFAULT_SCRAPE_INTERVAL_S, value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub prometheus_scrape_interval: u32,
}

/// Prometheus' scrape interval assumed unless told (Istio's sample
/// Prometheus scrapes every 15 s).
pub const DEFAULT_SCRAPE_INTERVAL_S: u32 = 15;

/// A socket address on a loopback interface.
fn loopback_addr(text: &str) -> std::result::Result<SocketAddr, String> {
    let addr: SocketAddr = text
        .parse()
        .map_err(|e| format!("{text:?} is not an address like 127.0.0.1:8443: {e}"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{addr} is not a loopback address; the demo's Kubernetes API is plain HTTP with publicly known demo tokens"
        ));
    }
    Ok(addr)
}

/// `meshdeck demo`.
#[derive(Clone, Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    /// Listening and static files.
    pub http: HttpArgs,
    /// Minutes of metric history to backfill into the demo's Prometheus (a
    /// little over an hour, so one-hour charts are full to their left edge).
    #[arg(long, env = "MESHDECK_DEMO_HISTORY_MINUTES", default_value_t = 65, value_parser = clap::value_parser!(u32).range(0..=1440))]
    pub history_minutes: u32,
    /// Seconds between Prometheus scrapes of the simulated mesh.
    #[arg(long, env = "MESHDECK_DEMO_SCRAPE_INTERVAL", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=60))]
    pub scrape_interval: u32,
    /// Simulate a synthetic mesh of this many services (25 per namespace,
    /// four namespaces per project) instead of the demo application, to
    /// see meshdeck at scale. Live metrics only: no history is backfilled
    /// (an hour of a 1,000-service mesh is gigabytes of OpenMetrics).
    #[arg(long, env = "MESHDECK_DEMO_SYNTHETIC_SERVICES", value_parser = clap::value_parser!(u32).range(1..=5000))]
    pub synthetic_services: Option<u32>,
    /// Also serve the demo's in-memory Kubernetes API on this address, for
    /// kubectl and the live-cluster tests. Plain HTTP, and the demo users'
    /// tokens are printed for anyone (`/api/status`), so loopback addresses
    /// only.
    #[arg(long, env = "MESHDECK_DEMO_KUBE_API_BIND", value_parser = loopback_addr)]
    pub kube_api_bind: Option<SocketAddr>,
    /// With `--kube-api-bind`: write a kubeconfig for that API (the owner's
    /// demo token as the user) to this file.
    #[arg(
        long,
        env = "MESHDECK_DEMO_WRITE_KUBECONFIG",
        requires = "kube_api_bind"
    )]
    pub write_kubeconfig: Option<PathBuf>,
    #[command(flatten)]
    /// Identity and roles.
    pub access: AccessArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_kube_api_binds_to_loopback_only() {
        let cli = Cli::try_parse_from([
            "meshdeck",
            "demo",
            "--kube-api-bind",
            "127.0.0.1:18443",
            "--write-kubeconfig",
            "/tmp/k",
        ])
        .unwrap();
        let Command::Demo(args) = cli.command else {
            panic!("expected demo");
        };
        assert_eq!(args.kube_api_bind, Some("127.0.0.1:18443".parse().unwrap()));
        let err = Cli::try_parse_from(["meshdeck", "demo", "--kube-api-bind", "0.0.0.0:18443"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a loopback address"), "{err}");
        // A kubeconfig needs the API it describes.
        assert!(Cli::try_parse_from(["meshdeck", "demo", "--write-kubeconfig", "/tmp/k"]).is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_defaults_to_token_auth() {
        let cli = Cli::try_parse_from(["meshdeck", "serve"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("expected serve");
        };
        assert_eq!(args.auth_mode, AuthModeArg::Token);
        assert_eq!(args.http.bind.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn auth_cache_ttl_and_proxy_flags_parse() {
        let cli = Cli::try_parse_from(["meshdeck", "serve"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("expected serve");
        };
        assert_eq!(args.access.auth_cache_ttl, Duration::from_secs(30));
        assert_eq!(args.proxy.options().user_header, "x-forwarded-user");
        assert_eq!(args.proxy.options().trusted.len(), 2);
        let cli = Cli::try_parse_from([
            "meshdeck",
            "serve",
            "--auth-mode",
            "proxy",
            "--auth-cache-ttl",
            "0s",
            "--proxy-trusted-cidrs",
            "10.0.0.0/8,192.168.1.0/24",
            "--proxy-user-header",
            "X-Auth-Request-User",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("expected serve");
        };
        assert_eq!(args.auth_mode, AuthModeArg::Proxy);
        assert!(args.access.auth_cache_ttl.is_zero());
        let proxy = args.proxy.options();
        assert_eq!(proxy.trusted.len(), 2);
        assert!(proxy.trusted[0].contains("10.9.8.7".parse().unwrap()));
        assert_eq!(proxy.user_header, "x-auth-request-user");
        for bad in [
            ["--auth-cache-ttl", "forever"],
            ["--auth-cache-ttl", "11m"],
            ["--proxy-trusted-cidrs", "10.0.0.0"],
            ["--proxy-user-header", "bad header"],
        ] {
            let mut argv = vec!["meshdeck", "serve"];
            argv.extend(bad);
            assert!(Cli::try_parse_from(argv).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn in_cluster_conflicts_with_kubeconfig() {
        let err = Cli::try_parse_from(["meshdeck", "serve", "--in-cluster", "--kubeconfig", "x"]);
        assert!(err.is_err());
    }

    #[test]
    fn the_project_key_defaults_to_rancher_and_is_checked() {
        let cli = Cli::try_parse_from(["meshdeck", "demo"]).unwrap();
        let Command::Demo(args) = cli.command else {
            panic!("expected demo");
        };
        assert_eq!(args.access.project_key, "field.cattle.io/projectId");
        let cli = Cli::try_parse_from(["meshdeck", "serve", "--project-key", "example.com/team"])
            .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("expected serve");
        };
        assert_eq!(args.access.project_key, "example.com/team");
        for bad in ["", "a b", "x/", "/x", "UPPER.example/x", "-x"] {
            assert!(
                Cli::try_parse_from(["meshdeck", "serve", "--project-key", bad]).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn metrics_limits_parse() {
        let cli = Cli::try_parse_from([
            "meshdeck",
            "demo",
            "--metrics-max-range",
            "12h",
            "--metrics-cache-ttl-ms",
            "0",
        ])
        .unwrap();
        let Command::Demo(args) = cli.command else {
            panic!("expected demo");
        };
        let limits = args.http.metrics.limits();
        assert_eq!(limits.max_range_s, 43_200.0);
        assert_eq!(limits.max_points, 1000);
        assert!(limits.cache_ttl.is_zero());
        assert!(
            Cli::try_parse_from(["meshdeck", "demo", "--metrics-max-range", "forever"]).is_err()
        );
    }

    #[test]
    fn cache_max_bytes_defaults_to_256_mib_and_takes_units() {
        let bytes = |extra: &[&str]| {
            let cli = Cli::try_parse_from(["meshdeck", "demo"].iter().chain(extra))?;
            let Command::Demo(args) = cli.command else {
                panic!("expected demo");
            };
            Ok::<_, clap::Error>(args.http.cache_max_bytes)
        };
        assert_eq!(bytes(&[]).unwrap(), 268_435_456);
        assert_eq!(bytes(&[]).unwrap(), DEFAULT_CACHE_MAX_BYTES);
        for (text, want) in [
            ("0", 0),
            ("1000", 1000),
            ("512B", 512),
            ("64KiB", 65_536),
            ("1 MiB", 1_048_576),
            ("2GiB", 2_147_483_648),
            ("64GiB", 68_719_476_736),
        ] {
            assert_eq!(bytes(&["--cache-max-bytes", text]).unwrap(), want, "{text}");
        }
        for bad in [
            "",
            "MiB",
            "-1",
            "1.5GiB",
            "1MB",
            "65GiB",
            "99999999999999999999",
        ] {
            assert!(bytes(&["--cache-max-bytes", bad]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn graph_max_namespaces_defaults_to_20_and_is_at_least_1() {
        let limits = |extra: &[&str]| {
            let cli = Cli::try_parse_from(["meshdeck", "serve"].iter().chain(extra))?;
            let Command::Serve(args) = cli.command else {
                panic!("expected serve");
            };
            Ok::<_, clap::Error>(args.http.graph.limits())
        };
        let default = limits(&[]).unwrap();
        // Kept at 20 by the graph bench's per-namespace figures (see
        // DEFAULT_GRAPH_MAX_NAMESPACES); the overview covers up to 100.
        assert_eq!(default.max_namespaces, 20);
        assert_eq!(default.max_overview_namespaces, 100);
        assert_eq!(
            default.max_namespaces,
            crate::graph::GraphLimits::default().max_namespaces
        );
        assert_eq!(
            default.max_overview_namespaces,
            crate::graph::GraphLimits::default().max_overview_namespaces
        );
        // The overview never covers fewer than the detail limit.
        assert_eq!(
            limits(&["--graph-max-namespaces", "150"])
                .unwrap()
                .max_overview_namespaces,
            150
        );
        assert_eq!(
            limits(&["--graph-max-namespaces", "3"])
                .unwrap()
                .max_namespaces,
            3
        );
        for bad in ["0", "-1", "many"] {
            assert!(limits(&["--graph-max-namespaces", bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn http_server_flags_default_to_the_servers_defaults_and_are_bounded() {
        let options = |extra: &[&str]| {
            let cli = Cli::try_parse_from(["meshdeck", "demo"].iter().chain(extra))?;
            let Command::Demo(args) = cli.command else {
                panic!("expected demo");
            };
            Ok::<_, clap::Error>(args.http.serve_options())
        };
        assert_eq!(options(&[]).unwrap(), crate::serve::ServeOptions::default());
        let set = options(&[
            "--http-header-timeout",
            "2s",
            "--http-body-timeout",
            "1m",
            "--http-idle-timeout",
            "1h",
            "--http-max-connections",
            "3",
            "--shutdown-grace",
            "0s",
        ])
        .unwrap();
        assert_eq!(
            set,
            crate::serve::ServeOptions {
                header_timeout: Duration::from_secs(2),
                body_timeout: Duration::from_secs(60),
                idle_timeout: Duration::from_secs(3600),
                max_connections: 3,
                shutdown_grace: Duration::ZERO,
            }
        );
        for bad in [
            ["--http-header-timeout", "0s"],
            ["--http-body-timeout", "2h"],
            ["--http-idle-timeout", "soon"],
            ["--http-max-connections", "0"],
            ["--shutdown-grace", "11m"],
        ] {
            assert!(options(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bad_urls_are_rejected() {
        assert!(
            Cli::try_parse_from(["meshdeck", "serve", "--prometheus-url", "not a url"]).is_err()
        );
    }

    #[test]
    fn the_otlp_endpoint_is_off_by_default_and_global() {
        let cli = Cli::try_parse_from(["meshdeck", "serve"]).unwrap();
        assert_eq!(cli.otlp_endpoint, None);
        let cli =
            Cli::try_parse_from(["meshdeck", "demo", "--otlp-endpoint", "http://c:4318"]).unwrap();
        assert_eq!(cli.otlp_endpoint.unwrap().as_str(), "http://c:4318/");
        let cli = Cli::try_parse_from(["meshdeck", "--otlp-endpoint", "https://c/otlp", "serve"])
            .unwrap();
        assert_eq!(cli.otlp_endpoint.unwrap().as_str(), "https://c/otlp");
        for bad in ["c:4318", "ftp://c/", "not a url"] {
            assert!(
                Cli::try_parse_from(["meshdeck", "serve", "--otlp-endpoint", bad]).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_flag_is_also_an_environment_variable() {
        use clap::CommandFactory;
        let cli = Cli::command();
        let mut checked = 0;
        for command in std::iter::once(&cli).chain(cli.get_subcommands()) {
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" || arg.is_positional() {
                    continue;
                }
                let env = arg.get_env().and_then(|e| e.to_str()).unwrap_or_else(|| {
                    panic!(
                        "--{id} of `{}` has no environment variable",
                        command.get_name()
                    )
                });
                assert!(env.starts_with("MESHDECK_"), "--{id}: {env}");
                checked += 1;
            }
        }
        // serve and demo share most flags; both have well over a dozen.
        assert!(checked > 30, "only {checked} flags seen");
    }
}
