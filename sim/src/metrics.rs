//! Istio's standard metrics, computed from the simulated traffic.
//!
//! Every flow (edge × backend workload) is reported by the source proxy when
//! the caller has a sidecar and by the destination proxy when the callee has
//! one, with the labels Istio's telemetry sets. Counters are integrated over
//! time on a fixed grid ([`GRID_S`]), so a live scrape and the backfilled
//! history agree exactly at every grid point and counters never go back.
//! Histogram buckets come from the flow's latency (or size) distribution,
//! so `histogram_quantile` over them reflects the model.
//!
//! The flows come from the traffic-management plan in force
//! ([`crate::shaping`]; the scenario's own until [`Simulator::apply`]):
//! a new plan takes over at the current time, every counter keeps its
//! value, and series a plan adds (new codes, flags, destinations) appear
//! once they count a request, as Istio creates them.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::Arc;

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::model::{Dist, Mesh, Protocol, erf};
use crate::shaping::config::Config;
use crate::shaping::plan::{Ejections, Emit, Plan, SeriesKey, flags_label};

/// Integration grid in seconds: pieces of simulated time never cross a
/// multiple of this, whatever the pattern of calls to [`Simulator::advance_to`].
pub const GRID_S: f64 = 5.0;

/// Envoy's default histogram buckets, which Istio uses for
/// `istio_request_duration_milliseconds` (milliseconds).
pub const DURATION_BUCKETS_MS: [f64; 19] = [
    0.5, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0,
    60000.0, 300000.0, 600000.0, 1800000.0, 3600000.0,
];

/// Decade buckets for `istio_request_bytes` / `istio_response_bytes` (bytes).
pub const SIZE_BUCKETS_BYTES: [f64; 9] = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8];

/// The metric families, in output order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// `istio_requests_total` (counter).
    Requests,
    /// `istio_request_duration_milliseconds` (histogram).
    Duration,
    /// `istio_request_bytes` (histogram).
    RequestBytes,
    /// `istio_response_bytes` (histogram).
    ResponseBytes,
    /// `istio_tcp_sent_bytes_total` (counter).
    TcpSent,
    /// `istio_tcp_received_bytes_total` (counter).
    TcpReceived,
    /// `istio_tcp_connections_opened_total` (counter).
    TcpOpened,
    /// `istio_tcp_connections_closed_total` (counter).
    TcpClosed,
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 8] = [
        Family::Requests,
        Family::Duration,
        Family::RequestBytes,
        Family::ResponseBytes,
        Family::TcpSent,
        Family::TcpReceived,
        Family::TcpOpened,
        Family::TcpClosed,
    ];

    /// The family name without the `_total` suffix (OpenMetrics style).
    pub fn base_name(self) -> &'static str {
        match self {
            Family::Requests => "istio_requests",
            Family::Duration => "istio_request_duration_milliseconds",
            Family::RequestBytes => "istio_request_bytes",
            Family::ResponseBytes => "istio_response_bytes",
            Family::TcpSent => "istio_tcp_sent_bytes",
            Family::TcpReceived => "istio_tcp_received_bytes",
            Family::TcpOpened => "istio_tcp_connections_opened",
            Family::TcpClosed => "istio_tcp_connections_closed",
        }
    }

    /// Whether this family is a histogram (else a counter).
    pub fn is_histogram(self) -> bool {
        matches!(
            self,
            Family::Duration | Family::RequestBytes | Family::ResponseBytes
        )
    }

    fn help(self) -> &'static str {
        match self {
            Family::Requests => "Requests handled by an Istio proxy.",
            Family::Duration => "Request duration in milliseconds.",
            Family::RequestBytes => "Request body size in bytes.",
            Family::ResponseBytes => "Response body size in bytes.",
            Family::TcpSent => "Bytes sent during response in TCP connections.",
            Family::TcpReceived => "Bytes received during request in TCP connections.",
            Family::TcpOpened => "TCP connections opened.",
            Family::TcpClosed => "TCP connections closed.",
        }
    }

    fn buckets(self) -> &'static [f64] {
        match self {
            Family::Duration => &DURATION_BUCKETS_MS,
            Family::RequestBytes | Family::ResponseBytes => &SIZE_BUCKETS_BYTES,
            _ => &[],
        }
    }
}

/// Which proxy reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reporter {
    /// The caller's sidecar.
    Source,
    /// The callee's sidecar.
    Destination,
}

impl Reporter {
    /// The `reporter` label value.
    pub fn label(self) -> &'static str {
        match self {
            Reporter::Source => "source",
            Reporter::Destination => "destination",
        }
    }
}

/// What the generated metrics include.
#[derive(Clone, Debug)]
pub struct MetricsOptions {
    /// Emit `istio_request_bytes` and `istio_response_bytes` (they triple the
    /// series count; big benchmark meshes may leave them out).
    pub size_histograms: bool,
    /// Labels added to every series (for example the `job` and `instance`
    /// that Prometheus adds when scraping, so history and live series match).
    pub extra_labels: Vec<(String, String)>,
}

impl Default for MetricsOptions {
    fn default() -> Self {
        MetricsOptions {
            size_histograms: true,
            extra_labels: Vec::new(),
        }
    }
}

/// One series group: a request series (counter, then the duration
/// histogram, then the size histograms if enabled) or a TCP series (sent,
/// received, opened, closed).
#[derive(Clone, Debug)]
struct Series {
    tcp: bool,
    /// Index of its first value.
    acc: usize,
    labels: String,
    /// Rendered even at zero (the scenario's own series); the others only
    /// once they count one request or connection, as Istio creates a
    /// series at its first request.
    always: bool,
}

const HIST_DURATION_LEN: usize = DURATION_BUCKETS_MS.len() + 3;
const HIST_SIZE_LEN: usize = SIZE_BUCKETS_BYTES.len() + 3;

/// The running state of a mesh's metrics: every counter's value at
/// [`Simulator::time`], and the traffic-management configuration in force.
pub struct Simulator {
    mesh: Arc<Mesh>,
    options: MetricsOptions,
    plan: Arc<Plan>,
    ejections: Ejections,
    /// Per variant of the plan: its series.
    slot_of: Vec<usize>,
    series: Vec<Series>,
    by_key: HashMap<SeriesKey, usize>,
    by_labels: HashMap<String, usize>,
    values: Vec<f64>,
    emits: Vec<Emit>,
    time: f64,
}

impl Simulator {
    /// All counters at zero at Unix time `start` (seconds), the traffic as
    /// the scenario describes it ([`Config::from_mesh`]).
    pub fn new(mesh: Arc<Mesh>, options: MetricsOptions, start: f64) -> Self {
        let plan = Arc::new(Plan::compile(&mesh, &Config::from_mesh(&mesh)));
        let mut sim = Simulator {
            mesh,
            options,
            ejections: plan.ejections(start),
            plan: plan.clone(),
            slot_of: Vec::new(),
            series: Vec::new(),
            by_key: HashMap::new(),
            by_labels: HashMap::new(),
            values: Vec::new(),
            emits: Vec::new(),
            time: start,
        };
        sim.install(plan);
        sim
    }

    /// Unix time (seconds) the counters are at.
    pub fn time(&self) -> f64 {
        self.time
    }

    /// Number of distinct series the exposition contains (one per value).
    pub fn series_count(&self) -> usize {
        self.values.len()
    }

    /// The simulated mesh.
    pub fn mesh(&self) -> &Arc<Mesh> {
        &self.mesh
    }

    /// The plan in force.
    pub fn plan(&self) -> &Arc<Plan> {
        &self.plan
    }

    /// The outlier ejections in force.
    pub fn ejections(&self) -> &Ejections {
        &self.ejections
    }

    /// Puts `config` in force from the current time on: counters keep
    /// their values, new series start at zero, ejections start afresh.
    pub fn apply(&mut self, config: &Config) {
        let plan = Arc::new(Plan::compile(&self.mesh, config));
        self.apply_plan(plan);
    }

    /// Puts a compiled plan in force from the current time on.
    pub fn apply_plan(&mut self, plan: Arc<Plan>) {
        self.ejections = plan.ejections(self.time);
        self.install(plan);
    }

    /// Advances to `t` under the configuration in force, then puts `config`
    /// in force (a change committed at `t`).
    pub fn apply_at(&mut self, t: f64, config: &Config) {
        self.advance_to(t);
        self.apply(config);
    }

    fn install(&mut self, plan: Arc<Plan>) {
        let per_request = 1
            + HIST_DURATION_LEN
            + if self.options.size_histograms {
                2 * HIST_SIZE_LEN
            } else {
                0
            };
        self.slot_of.clear();
        for variant in plan.variants() {
            let index = match self.by_key.get(&variant.key) {
                Some(i) => *i,
                None => {
                    let tcp = variant.key.protocol == Protocol::Tcp;
                    let labels =
                        series_labels(&self.mesh, &variant.key, &self.options.extra_labels);
                    let index = match self.by_labels.get(&labels) {
                        Some(i) => *i,
                        None => {
                            let acc = self.values.len();
                            let len = if tcp { 4 } else { per_request };
                            self.values.resize(acc + len, 0.0);
                            self.series.push(Series {
                                tcp,
                                acc,
                                labels: labels.clone(),
                                always: false,
                            });
                            self.by_labels.insert(labels, self.series.len() - 1);
                            self.series.len() - 1
                        }
                    };
                    self.by_key.insert(variant.key, index);
                    index
                }
            };
            self.series[index].always |= variant.always;
            self.slot_of.push(index);
        }
        self.plan = plan;
    }

    /// Integrates the traffic from the current time up to `t` (no-op if `t`
    /// is not later). Pieces are cut at every multiple of [`GRID_S`] and at
    /// every outlier-detection sweep.
    pub fn advance_to(&mut self, t: f64) {
        let mut emits = std::mem::take(&mut self.emits);
        while self.time < t {
            if let Some(sweep) = self.plan.next_sweep(&self.ejections)
                && sweep <= self.time
            {
                self.plan.sweep(&self.mesh, &mut self.ejections, self.time);
                continue;
            }
            let next_grid = ((self.time / GRID_S).floor() + 1.0) * GRID_S;
            let mut end = next_grid.min(t);
            if let Some(sweep) = self.plan.next_sweep(&self.ejections) {
                end = end.min(sweep);
            }
            let dt = end - self.time;
            let mid = self.time + dt / 2.0;
            emits.clear();
            self.plan
                .evaluate(&self.mesh, mid, &self.ejections, &mut emits);
            self.integrate(&emits, dt);
            self.time = end;
        }
        if let Some(sweep) = self.plan.next_sweep(&self.ejections)
            && sweep <= self.time
        {
            self.plan.sweep(&self.mesh, &mut self.ejections, self.time);
        }
        self.emits = emits;
    }

    fn integrate(&mut self, emits: &[Emit], dt: f64) {
        let sizes = self.options.size_histograms;
        for emit in emits {
            match *emit {
                Emit::Request {
                    variant,
                    rate,
                    share,
                    latency,
                    request,
                    response,
                } => {
                    let n = rate * dt * share;
                    if n <= 0.0 {
                        continue;
                    }
                    let acc = self.series[self.slot_of[variant as usize]].acc;
                    let v = &mut self.values[acc..];
                    v[0] += n;
                    add_histogram(
                        &mut v[1..1 + HIST_DURATION_LEN],
                        &DURATION_BUCKETS_MS,
                        n,
                        &latency,
                    );
                    if sizes {
                        let start = 1 + HIST_DURATION_LEN;
                        add_histogram(
                            &mut v[start..start + HIST_SIZE_LEN],
                            &SIZE_BUCKETS_BYTES,
                            n,
                            &request,
                        );
                        let start = start + HIST_SIZE_LEN;
                        add_histogram(
                            &mut v[start..start + HIST_SIZE_LEN],
                            &SIZE_BUCKETS_BYTES,
                            n,
                            &response,
                        );
                    }
                }
                Emit::Connection {
                    variant,
                    rate,
                    sent,
                    received,
                } => {
                    let connections = rate * dt;
                    let acc = self.series[self.slot_of[variant as usize]].acc;
                    let v = &mut self.values[acc..acc + 4];
                    v[0] += connections * sent;
                    v[1] += connections * received;
                    v[2] += connections;
                    v[3] += connections;
                }
            }
        }
    }

    /// Whether a series is in the exposition.
    fn shown(&self, s: &Series) -> bool {
        let count = if s.tcp {
            self.values[s.acc + 2]
        } else {
            self.values[s.acc]
        };
        s.always || count >= 1.0
    }

    /// The current values in Prometheus' text exposition format (what a
    /// scrape of `/metrics` returns).
    pub fn render_text(&self) -> String {
        let mut out = String::with_capacity(self.values.len() * 400);
        for family in Family::ALL {
            if !self.has_family(family) {
                continue;
            }
            let name = self.sample_name(family);
            let kind = if family.is_histogram() {
                "histogram"
            } else {
                "counter"
            };
            let _ = writeln!(out, "# HELP {name} {}", family.help());
            let _ = writeln!(out, "# TYPE {name} {kind}");
            self.write_family(&mut out, family, None);
        }
        out
    }

    /// Appends the OpenMetrics samples of one family at the current time.
    fn write_family(&self, out: &mut String, family: Family, timestamp: Option<i64>) {
        let ts = timestamp.map(|t| format!(" {t}")).unwrap_or_default();
        let base = family.base_name();
        let requests = self.series.iter().filter(|s| !s.tcp && self.shown(s));
        match family {
            Family::Requests => {
                for s in requests {
                    let _ = writeln!(
                        out,
                        "{base}_total{{{}}} {}{ts}",
                        s.labels,
                        self.values[s.acc].floor()
                    );
                }
            }
            Family::Duration | Family::RequestBytes | Family::ResponseBytes => {
                let offset = match family {
                    Family::Duration => 1,
                    Family::RequestBytes => 1 + HIST_DURATION_LEN,
                    _ => 1 + HIST_DURATION_LEN + HIST_SIZE_LEN,
                };
                let buckets = family.buckets();
                for s in requests {
                    let v = &self.values[s.acc + offset..];
                    for (i, le) in buckets.iter().enumerate() {
                        let _ = writeln!(
                            out,
                            "{base}_bucket{{{},le=\"{le}\"}} {}{ts}",
                            s.labels,
                            v[i].floor()
                        );
                    }
                    let n = buckets.len();
                    let _ = writeln!(
                        out,
                        "{base}_bucket{{{},le=\"+Inf\"}} {}{ts}",
                        s.labels,
                        v[n].floor()
                    );
                    let _ = writeln!(out, "{base}_sum{{{}}} {:.1}{ts}", s.labels, v[n + 1]);
                    let _ = writeln!(out, "{base}_count{{{}}} {}{ts}", s.labels, v[n + 2].floor());
                }
            }
            Family::TcpSent | Family::TcpReceived | Family::TcpOpened | Family::TcpClosed => {
                let index = match family {
                    Family::TcpSent => 0,
                    Family::TcpReceived => 1,
                    Family::TcpOpened => 2,
                    _ => 3,
                };
                for s in self.series.iter().filter(|s| s.tcp && self.shown(s)) {
                    let _ = writeln!(
                        out,
                        "{base}_total{{{}}} {}{ts}",
                        s.labels,
                        self.values[s.acc + index].floor()
                    );
                }
            }
        }
    }

    fn has_family(&self, family: Family) -> bool {
        let tcp = !matches!(
            family,
            Family::Requests | Family::Duration | Family::RequestBytes | Family::ResponseBytes
        );
        if matches!(family, Family::RequestBytes | Family::ResponseBytes)
            && !self.options.size_histograms
        {
            return false;
        }
        self.series.iter().any(|s| s.tcp == tcp && self.shown(s))
    }

    fn sample_name(&self, family: Family) -> String {
        if family.is_histogram() {
            family.base_name().to_owned()
        } else {
            format!("{}_total", family.base_name())
        }
    }
}

/// The natural logarithms of bucket bounds, computed once.
static DURATION_LN: LazyLock<Vec<f64>> =
    LazyLock::new(|| DURATION_BUCKETS_MS.iter().map(|b| b.ln()).collect());
static SIZE_LN: LazyLock<Vec<f64>> =
    LazyLock::new(|| SIZE_BUCKETS_BYTES.iter().map(|b| b.ln()).collect());

/// Adds `n` observations distributed as `dist` to a cumulative histogram
/// laid out as buckets, +Inf, sum, count.
fn add_histogram(h: &mut [f64], bounds: &[f64], n: f64, dist: &Dist) {
    let len = bounds.len();
    match *dist {
        // The common case, with the logarithms out of the loop (the same
        // arithmetic as `Latency::cdf`, so the same values).
        Dist::LogNormal { base, shift, upper }
            if shift == 0.0 && upper.is_infinite() && base.sigma > 0.0 =>
        {
            let ln = if len == DURATION_BUCKETS_MS.len() {
                &DURATION_LN
            } else {
                &SIZE_LN
            };
            let median = base.median_ms.ln();
            let scale = base.sigma * std::f64::consts::SQRT_2;
            for (i, ln_le) in ln.iter().enumerate() {
                let z = (ln_le - median) / scale;
                h[i] += n * (0.5 * (1.0 + erf(z)));
            }
        }
        _ => {
            for (i, le) in bounds.iter().enumerate() {
                h[i] += n * dist.cdf(*le);
            }
        }
    }
    h[len] += n;
    h[len + 1] += n * dist.mean();
    h[len + 2] += n;
}

const UNKNOWN: &str = "unknown";

/// The labels of a series, in Istio's names and order.
fn series_labels(mesh: &Mesh, key: &SeriesKey, extra: &[(String, String)]) -> String {
    let svc = &mesh.services[key.service];
    let svc_ns = &mesh.namespaces[svc.namespace].name;
    let mtls = key.mtls;
    let mut l = Vec::with_capacity(26 + extra.len());
    l.push(("reporter", key.reporter.label().to_owned()));
    match key.source {
        Some(wl) => {
            let w = &mesh.workloads[wl];
            l.push(("source_workload", w.name.clone()));
            l.push((
                "source_workload_namespace",
                mesh.namespaces[w.namespace].name.clone(),
            ));
            l.push((
                "source_principal",
                if mtls {
                    mesh.principal(wl)
                } else {
                    UNKNOWN.into()
                },
            ));
            l.push(("source_app", w.app.clone()));
            l.push(("source_version", w.version.clone()));
            l.push(("source_canonical_service", w.app.clone()));
            l.push(("source_canonical_revision", w.version.clone()));
            l.push(("source_cluster", mesh.cluster.clone()));
        }
        None => {
            for name in [
                "source_workload",
                "source_workload_namespace",
                "source_principal",
                "source_app",
                "source_version",
                "source_canonical_service",
                "source_canonical_revision",
                "source_cluster",
            ] {
                l.push((name, UNKNOWN.into()));
            }
        }
    }
    match key.destination {
        Some(wl) => {
            let w = &mesh.workloads[wl];
            l.push(("destination_workload", w.name.clone()));
            l.push((
                "destination_workload_namespace",
                mesh.namespaces[w.namespace].name.clone(),
            ));
            l.push((
                "destination_principal",
                if mtls {
                    mesh.principal(wl)
                } else {
                    UNKNOWN.into()
                },
            ));
            l.push(("destination_app", w.app.clone()));
            l.push(("destination_version", w.version.clone()));
            l.push(("destination_canonical_service", w.app.clone()));
            l.push(("destination_canonical_revision", w.version.clone()));
            l.push(("destination_cluster", mesh.cluster.clone()));
        }
        None => {
            for name in [
                "destination_workload",
                "destination_workload_namespace",
                "destination_principal",
                "destination_app",
                "destination_version",
                "destination_canonical_service",
                "destination_canonical_revision",
            ] {
                l.push((name, UNKNOWN.into()));
            }
            let cluster = if svc.external_host.is_some() {
                UNKNOWN.into()
            } else {
                mesh.cluster.clone()
            };
            l.push(("destination_cluster", cluster));
        }
    }
    l.push(("destination_service", mesh.service_fqdn(key.service)));
    l.push(("destination_service_name", svc.name.clone()));
    l.push(("destination_service_namespace", svc_ns.clone()));
    // Only the server side knows how the connection was secured.
    let policy = match key.reporter {
        Reporter::Source => UNKNOWN,
        Reporter::Destination if mtls => "mutual_tls",
        Reporter::Destination => "none",
    };
    l.push(("connection_security_policy", policy.to_owned()));
    let mut out = String::with_capacity(760);
    for (i, (k, v)) in l
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .chain(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .enumerate()
    {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{k}=\"{}\"", escape_label_value(v));
    }
    let flags = flags_label(key.flags);
    if key.protocol == Protocol::Tcp {
        let _ = write!(out, ",request_protocol=\"tcp\",response_flags=\"{flags}\"");
    } else {
        let grpc = key.code.grpc.map(|g| g.to_string()).unwrap_or_default();
        let _ = write!(
            out,
            ",request_protocol=\"{}\",response_code=\"{}\",grpc_response_status=\"{grpc}\",response_flags=\"{flags}\"",
            key.protocol.label(),
            key.code.http
        );
    }
    out
}

/// Escapes a label value for the text formats (backslash, quote, newline).
pub fn escape_label_value(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Options for writing history.
#[derive(Clone, Debug)]
pub struct HistoryOptions {
    /// First sample time (Unix seconds); counters start at zero here.
    pub start: f64,
    /// Last sample time (Unix seconds).
    pub end: f64,
    /// Seconds between samples.
    pub step: f64,
}

/// Writes the metrics between `start` and `end` as OpenMetrics text for
/// `promtool tsdb create-blocks-from openmetrics`. Families are written one
/// after another (OpenMetrics does not allow a family to reappear), each by
/// replaying the deterministic simulation from `start`.
/// Returns the number of samples written.
pub fn write_openmetrics_history(
    mesh: &Arc<Mesh>,
    options: &MetricsOptions,
    history: &HistoryOptions,
    out: &mut impl Write,
) -> io::Result<u64> {
    write_openmetrics_window(mesh, options, history, history.start, history.end, out)
}

/// Like [`write_openmetrics_history`], but writes only the samples at times
/// in `[from, to]`; counters still start at zero at `history.start`, so
/// consecutive windows join into one continuous history. Used to backfill
/// big meshes in chunks that fit on disk.
pub fn write_openmetrics_window(
    mesh: &Arc<Mesh>,
    options: &MetricsOptions,
    history: &HistoryOptions,
    from: f64,
    to: f64,
    out: &mut impl Write,
) -> io::Result<u64> {
    let mut samples = 0u64;
    let mut buf = String::with_capacity(1 << 20);
    for family in Family::ALL {
        let mut sim = Simulator::new(mesh.clone(), options.clone(), history.start);
        if !sim.has_family(family) {
            continue;
        }
        let kind = if family.is_histogram() {
            "histogram"
        } else {
            "counter"
        };
        writeln!(out, "# HELP {} {}", family.base_name(), family.help())?;
        writeln!(out, "# TYPE {} {kind}", family.base_name())?;
        let mut t = history.start;
        while t <= history.end.min(to) + 1e-9 {
            sim.advance_to(t);
            if t >= from - 1e-9 {
                sim.write_family(&mut buf, family, Some(t.round() as i64));
                samples += buf.bytes().filter(|b| *b == b'\n').count() as u64;
                out.write_all(buf.as_bytes())?;
                buf.clear();
            }
            t += history.step;
        }
    }
    writeln!(out, "# EOF")?;
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Variation;
    use crate::scenario;

    fn quiet_demo() -> Arc<Mesh> {
        let mut mesh = scenario::demo();
        mesh.variation = Variation::NONE;
        mesh.faults.clear();
        Arc::new(mesh)
    }

    #[test]
    fn counters_grow_at_the_configured_rate() {
        let mesh = quiet_demo();
        let mut sim = Simulator::new(mesh, MetricsOptions::default(), 1000.0);
        sim.advance_to(1600.0);
        let text = sim.render_text();
        // details receives 20 rps from productpage, 1 % of them 404: after 600 s
        // the destination reports 11880 OK and 120 client errors.
        let ok = sample(
            &text,
            "istio_requests_total",
            &[
                "reporter=\"destination\"",
                "destination_workload=\"details-v1\"",
                "response_code=\"200\"",
            ],
        );
        let not_found = sample(
            &text,
            "istio_requests_total",
            &[
                "reporter=\"destination\"",
                "destination_workload=\"details-v1\"",
                "response_code=\"404\"",
            ],
        );
        assert_eq!(ok, 11880.0);
        assert_eq!(not_found, 120.0);
    }

    #[test]
    fn advancing_in_any_pattern_gives_the_same_counters() {
        let mesh = Arc::new(scenario::demo());
        let mut a = Simulator::new(mesh.clone(), MetricsOptions::default(), 1_700_000_000.0);
        let mut b = Simulator::new(mesh, MetricsOptions::default(), 1_700_000_000.0);
        a.advance_to(1_700_000_900.0);
        let mut t = 1_700_000_000.0;
        while t < 1_700_000_900.0 {
            t += 15.0;
            b.advance_to(t);
        }
        assert_eq!(a.values, b.values);
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_end_at_the_count() {
        let mesh = Arc::new(scenario::demo());
        let mut sim = Simulator::new(mesh, MetricsOptions::default(), 0.0);
        sim.advance_to(300.0);
        for s in sim.series.iter().filter(|s| !s.tcp) {
            let h = &sim.values[s.acc + 1..s.acc + 1 + HIST_DURATION_LEN];
            for w in h[..DURATION_BUCKETS_MS.len() + 1].windows(2) {
                assert!(w[0] <= w[1] + 1e-9);
            }
            assert_eq!(
                h[DURATION_BUCKETS_MS.len()],
                h[DURATION_BUCKETS_MS.len() + 2]
            );
            assert_eq!(h[DURATION_BUCKETS_MS.len()], sim.values[s.acc]);
        }
    }

    #[test]
    fn outside_callers_and_unmeshed_callers_are_unknown() {
        let sim = Simulator::new(quiet_demo(), MetricsOptions::default(), 0.0);
        let text = sim.render_text();
        // Only the destination reports calls from outside the mesh.
        assert!(text.lines().any(|l| l.starts_with(
            "istio_requests_total{reporter=\"destination\",source_workload=\"unknown\""
        ) && l.contains("destination_workload=\"productpage-v1\"")));
        assert!(!text.lines().any(|l| {
            l.starts_with("istio_requests_total{reporter=\"source\",source_workload=\"unknown\"")
        }));
        // Calls to api.stripe.com are reported by the source only.
        assert!(text.lines().any(|l| l.contains("reporter=\"source\"")
            && l.contains("destination_service=\"api.stripe.com\"")));
        assert!(!text.lines().any(|l| l.contains("reporter=\"destination\"")
            && l.contains("destination_service=\"api.stripe.com\"")));
    }

    #[test]
    fn windows_join_into_the_whole_history() {
        let mesh = Arc::new(scenario::demo());
        let history = HistoryOptions {
            start: 1_700_000_000.0,
            end: 1_700_000_300.0,
            step: 15.0,
        };
        let samples = |from, to| {
            let mut out = Vec::new();
            write_openmetrics_window(
                &mesh,
                &MetricsOptions::default(),
                &history,
                from,
                to,
                &mut out,
            )
            .unwrap();
            let text = String::from_utf8(out).unwrap();
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let mut joined = samples(history.start, 1_700_000_135.0);
        joined.extend(samples(1_700_000_150.0, history.end));
        let mut whole = samples(history.start, history.end);
        joined.sort();
        whole.sort();
        assert_eq!(joined.len(), whole.len());
        assert!(joined == whole);
    }

    #[test]
    fn indistinguishable_flows_share_one_series() {
        // Two identical edges: Istio sees one flow with twice the traffic.
        let mut mesh = scenario::demo();
        mesh.variation = Variation::NONE;
        mesh.faults.clear();
        let details = mesh
            .edges
            .iter()
            .position(|e| mesh.services[e.service].name == "details")
            .unwrap();
        let twin = mesh.edges[details].clone();
        mesh.edges.push(twin);
        let mut sim = Simulator::new(Arc::new(mesh), MetricsOptions::default(), 0.0);
        sim.advance_to(600.0);
        let text = sim.render_text();
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| {
                l.starts_with("istio_requests_total{reporter=\"destination\"")
                    && l.contains("destination_workload=\"details-v1\"")
                    && l.contains("response_code=\"200\"")
            })
            .collect();
        assert_eq!(lines.len(), 1, "{lines:?}");
        // 2 × 20 rps × 99 % × 600 s.
        assert!(lines[0].ends_with(" 23760"), "{}", lines[0]);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    /// The value of the one sample of `name` whose labels contain all `parts`.
    fn sample(text: &str, name: &str, parts: &[&str]) -> f64 {
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(&format!("{name}{{")) && parts.iter().all(|p| l.contains(p)))
            .collect();
        assert_eq!(lines.len(), 1, "{parts:?}: {lines:?}");
        lines[0].rsplit(' ').next().unwrap().parse().unwrap()
    }
}
