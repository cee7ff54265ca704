//! The built-in dashboards (owners only), drawn from Prometheus with no
//! Grafana: Mesh (global volume, success rate, 4xx/5xx and a per-service
//! table), Service (inbound by source, duration percentiles, request and
//! response sizes) and Workload (inbound and outbound, TCP bytes).
//!
//! Every panel's PromQL comes from the pure builders below and travels with
//! the panel, so the page can show it. Windows follow [`crate::promql`]:
//! `rate(...[max(1m, step)])` for charts, one window over the whole range
//! for the table.

use std::collections::BTreeMap;

use app::types::{
    Dashboard, DashboardKind, DashboardQuery, MetricsQuery, Panel, PanelQuery, Series, ServiceRow,
    Unit,
};

use crate::access::Owner;
use crate::error::{Error, Result};
use crate::metrics::{self, MIN_WINDOW_S, QUANTILES};
use crate::promql::{self, DURATION_BUCKETS, Op, REQUESTS, Selector, Window};
use crate::state::AppState;
use crate::upstream::prometheus::{PrometheusClient, RangeSeries};

/// `istio_request_bytes` (histogram).
pub const REQUEST_BYTES: &str = "istio_request_bytes";
/// `istio_response_bytes` (histogram).
pub const RESPONSE_BYTES: &str = "istio_response_bytes";
/// `istio_tcp_sent_bytes_total`: bytes the server sent back.
pub const TCP_SENT: &str = "istio_tcp_sent_bytes_total";
/// `istio_tcp_received_bytes_total`: bytes the server received.
pub const TCP_RECEIVED: &str = "istio_tcp_received_bytes_total";

const BY_SOURCE: &str = "source_workload_namespace, source_workload";
const SOURCE_LEGEND: &str = "{{source_workload}}.{{source_workload_namespace}}";
const BY_SERVICE: &str = "destination_service_namespace, destination_service_name";
const SERVICE_LEGEND: &str = "{{destination_service_name}}.{{destination_service_namespace}}";
const NOT_5XX: &str = r#"response_code!~"5.*""#;

/// A panel before it is run: title, unit and its queries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanelPlan {
    /// Title.
    pub title: &'static str,
    /// Unit.
    pub unit: Unit,
    /// `(legend, promql)` pairs.
    pub queries: Vec<PanelQuery>,
}

fn q(legend: &str, promql: String) -> PanelQuery {
    PanelQuery {
        legend: legend.to_owned(),
        promql,
    }
}

fn joined(selector: &Selector, extra: &str) -> String {
    let base = selector.render();
    if base.is_empty() {
        extra.to_owned()
    } else {
        format!("{base},{extra}")
    }
}

/// Requests per second grouped `by`.
pub fn volume_by(selector: &Selector, by: &str, window: impl Into<Window>) -> String {
    format!(
        "sum by ({by}) (rate({REQUESTS}{{{}}}[{}]))",
        selector.render(),
        window.into()
    )
}

/// Share of requests not answered with 5xx, grouped `by`.
pub fn success_by(selector: &Selector, by: &str, window: impl Into<Window>) -> String {
    let w = window.into();
    format!(
        "sum by ({by}) (rate({REQUESTS}{{{}}}[{w}])) / sum by ({by}) (rate({REQUESTS}{{{}}}[{w}]))",
        joined(selector, NOT_5XX),
        selector.render()
    )
}

/// Mean of a histogram `family` (e.g. [`REQUEST_BYTES`]).
pub fn histogram_mean(family: &str, selector: &Selector, window: impl Into<Window>) -> String {
    let w = window.into();
    let s = selector.render();
    format!("sum(rate({family}_sum{{{s}}}[{w}])) / sum(rate({family}_count{{{s}}}[{w}]))")
}

/// The `q` quantile of a histogram `family`.
pub fn histogram_q(family: &str, selector: &Selector, q: f64, window: impl Into<Window>) -> String {
    format!(
        "histogram_quantile({q}, sum(rate({family}_bucket{{{}}}[{}])) by (le))",
        selector.render(),
        window.into()
    )
}

/// Rate of a counter `metric` (e.g. [`TCP_SENT`]).
pub fn counter_rate(metric: &str, selector: &Selector, window: impl Into<Window>) -> String {
    format!(
        "sum(rate({metric}{{{}}}[{}]))",
        selector.render(),
        window.into()
    )
}

fn destination() -> Selector {
    Selector::default().with("reporter", Op::Eq, "destination")
}

/// Inbound traffic of a service, as its server side reports it.
pub fn service_selector(namespace: &str, name: &str) -> Selector {
    destination()
        .with("destination_service_namespace", Op::Eq, namespace)
        .with("destination_service_name", Op::Eq, name)
}

/// Inbound traffic of a workload, as it reports it.
pub fn workload_inbound(namespace: &str, name: &str) -> Selector {
    destination()
        .with("destination_workload_namespace", Op::Eq, namespace)
        .with("destination_workload", Op::Eq, name)
}

/// Outbound traffic of a workload, as its client side reports it.
pub fn workload_outbound(namespace: &str, name: &str) -> Selector {
    Selector::default()
        .with("reporter", Op::Eq, "source")
        .with("source_workload_namespace", Op::Eq, namespace)
        .with("source_workload", Op::Eq, name)
}

fn percentiles(selector: &Selector, window: Window) -> Vec<PanelQuery> {
    QUANTILES
        .iter()
        .map(|(quantile, name)| q(name, promql::duration_quantile(selector, *quantile, window)))
        .collect()
}

fn sizes(family: &str, selector: &Selector, window: Window) -> Vec<PanelQuery> {
    vec![
        q("mean", histogram_mean(family, selector, window)),
        q("p50", histogram_q(family, selector, 0.5, window)),
        q("p99", histogram_q(family, selector, 0.99, window)),
    ]
}

/// The mesh dashboard's charts, over `window` (seconds for the console,
/// a Grafana variable for [`crate::grafana`]).
pub fn mesh_panels(window: impl Into<Window>) -> Vec<PanelPlan> {
    let window = window.into();
    let s = destination();
    vec![
        PanelPlan {
            title: "Global request volume",
            unit: Unit::RequestsPerSecond,
            queries: vec![q("requests", promql::request_volume(&s, window))],
        },
        PanelPlan {
            title: "Global success rate (non-5xx)",
            unit: Unit::Ratio,
            queries: vec![q("success rate", promql::success_rate(&s, window))],
        },
        PanelPlan {
            title: "4xx and 5xx responses",
            unit: Unit::RequestsPerSecond,
            queries: vec![
                q("4xx", promql::responses_of_class(&s, '4', window)),
                q("5xx", promql::responses_of_class(&s, '5', window)),
            ],
        },
        PanelPlan {
            title: "Request volume by service",
            unit: Unit::RequestsPerSecond,
            queries: vec![q(SERVICE_LEGEND, volume_by(&s, BY_SERVICE, window))],
        },
    ]
}

/// The mesh dashboard's per-service table: requests/s, success rate and p99
/// over the whole `range`.
pub fn service_table_queries(range: impl Into<Window>) -> [PanelQuery; 3] {
    let range = range.into();
    let s = destination();
    [
        q("requests/s", volume_by(&s, BY_SERVICE, range)),
        q("success rate", success_by(&s, BY_SERVICE, range)),
        q(
            "p99",
            format!(
                "histogram_quantile(0.99, sum by (le, {BY_SERVICE}) (rate({DURATION_BUCKETS}{{{}}}[{range}])))",
                s.render(),
            ),
        ),
    ]
}

/// The service dashboard's charts.
pub fn service_panels(namespace: &str, name: &str, window: impl Into<Window>) -> Vec<PanelPlan> {
    let window = window.into();
    let s = service_selector(namespace, name);
    vec![
        PanelPlan {
            title: "Incoming requests by source",
            unit: Unit::RequestsPerSecond,
            queries: vec![q(SOURCE_LEGEND, volume_by(&s, BY_SOURCE, window))],
        },
        PanelPlan {
            title: "Incoming success rate by source (non-5xx)",
            unit: Unit::Ratio,
            queries: vec![q(SOURCE_LEGEND, success_by(&s, BY_SOURCE, window))],
        },
        PanelPlan {
            title: "Incoming request duration",
            unit: Unit::Milliseconds,
            queries: percentiles(&s, window),
        },
        PanelPlan {
            title: "Incoming request size",
            unit: Unit::Bytes,
            queries: sizes(REQUEST_BYTES, &s, window),
        },
        PanelPlan {
            title: "Response size",
            unit: Unit::Bytes,
            queries: sizes(RESPONSE_BYTES, &s, window),
        },
    ]
}

/// The workload dashboard's charts.
pub fn workload_panels(namespace: &str, name: &str, window: impl Into<Window>) -> Vec<PanelPlan> {
    let window = window.into();
    let inbound = workload_inbound(namespace, name);
    let outbound = workload_outbound(namespace, name);
    vec![
        PanelPlan {
            title: "Inbound requests by source",
            unit: Unit::RequestsPerSecond,
            queries: vec![q(SOURCE_LEGEND, volume_by(&inbound, BY_SOURCE, window))],
        },
        PanelPlan {
            title: "Inbound success rate (non-5xx)",
            unit: Unit::Ratio,
            queries: vec![q("inbound", promql::success_rate(&inbound, window))],
        },
        PanelPlan {
            title: "Inbound request duration",
            unit: Unit::Milliseconds,
            queries: percentiles(&inbound, window),
        },
        PanelPlan {
            title: "Outbound requests by destination",
            unit: Unit::RequestsPerSecond,
            queries: vec![q(SERVICE_LEGEND, volume_by(&outbound, BY_SERVICE, window))],
        },
        PanelPlan {
            title: "Outbound success rate (non-5xx)",
            unit: Unit::Ratio,
            queries: vec![q("outbound", promql::success_rate(&outbound, window))],
        },
        PanelPlan {
            title: "Inbound TCP bytes",
            unit: Unit::BytesPerSecond,
            queries: vec![
                q("received", counter_rate(TCP_RECEIVED, &inbound, window)),
                q("sent", counter_rate(TCP_SENT, &inbound, window)),
            ],
        },
        // Istio counts TCP bytes from the server's side: `received` is what
        // the client sent, `sent` what it got back.
        PanelPlan {
            title: "Outbound TCP bytes",
            unit: Unit::BytesPerSecond,
            queries: vec![
                q("sent", counter_rate(TCP_RECEIVED, &outbound, window)),
                q("received", counter_rate(TCP_SENT, &outbound, window)),
            ],
        },
    ]
}

/// The charts of dashboard `kind` (the mesh's take no namespace or name).
pub fn panels(
    kind: DashboardKind,
    namespace: &str,
    name: &str,
    window: impl Into<Window>,
) -> Vec<PanelPlan> {
    match kind {
        DashboardKind::Mesh => mesh_panels(window),
        DashboardKind::Service => service_panels(namespace, name, window),
        DashboardKind::Workload => workload_panels(namespace, name, window),
    }
}

/// Fills `{{label}}` placeholders of `legend` from `labels`; a legend
/// without placeholders is used as is.
pub fn legend_name(legend: &str, labels: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = legend;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        match after.find("}}") {
            Some(close) => {
                let label = after[..close].trim();
                out.push_str(labels.get(label).map(String::as_str).unwrap_or("unknown"));
                rest = &after[close + 2..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The dashboard `kind` for `params`, owners only.
pub async fn dashboard(
    state: &AppState,
    _owner: &Owner,
    kind: DashboardKind,
    params: &DashboardQuery,
    now: f64,
) -> Result<Dashboard> {
    let required = |value: &Option<String>, what: &str| {
        value
            .clone()
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                Error::BadRequest(format!("the {} dashboard needs a {what}", kind.as_str()))
            })
    };
    let (namespace, name) = if kind.needs_name() {
        (
            Some(required(&params.namespace, "namespace")?),
            Some(required(&params.name, "name")?),
        )
    } else {
        (None, None)
    };
    let range_params = MetricsQuery {
        range: params.range.clone(),
        start: params.start,
        end: params.end,
        step: params.step,
        ..MetricsQuery::default()
    };
    let (start, end, step) = metrics::resolve_range(&range_params, now, state.metrics_limits())?;
    let window = step.max(MIN_WINDOW_S);
    let prometheus = state.prometheus()?.clone();
    let (ns, n) = (
        namespace.as_deref().unwrap_or_default(),
        name.as_deref().unwrap_or_default(),
    );
    let plans = panels(kind, ns, n, window);
    let panels_future = run_panels(&prometheus, plans, start, end, step);
    let (panels, (services, service_queries)) = if kind == DashboardKind::Mesh {
        let queries = service_table_queries(end - start);
        let (panels, rows) =
            futures::future::try_join(panels_future, service_rows(&prometheus, &queries, end))
                .await?;
        (panels, (rows, queries.to_vec()))
    } else {
        (panels_future.await?, (Vec::new(), Vec::new()))
    };
    Ok(Dashboard {
        kind,
        namespace,
        name,
        start,
        end,
        step,
        panels,
        services,
        service_queries,
    })
}

/// Runs every query of every panel concurrently; one query's series each
/// become a line named by its legend.
async fn run_panels(
    prometheus: &PrometheusClient,
    plans: Vec<PanelPlan>,
    start: f64,
    end: f64,
    step: f64,
) -> Result<Vec<Panel>> {
    let answers: Vec<Vec<Vec<RangeSeries>>> =
        futures::future::try_join_all(plans.iter().map(|plan| {
            futures::future::try_join_all(
                plan.queries
                    .iter()
                    .map(|query| prometheus.query_range(&query.promql, start, end, step)),
            )
        }))
        .await?;
    Ok(plans
        .into_iter()
        .zip(answers)
        .map(|(plan, answer)| {
            let mut series = Vec::new();
            for (query, found) in plan.queries.iter().zip(answer) {
                let mut lines: Vec<Series> = found
                    .iter()
                    .map(|s| Series {
                        name: legend_name(&query.legend, &s.labels),
                        points: metrics::on_grid(Some(s), start, end, step),
                    })
                    .collect();
                lines.sort_by(|a, b| a.name.cmp(&b.name));
                series.extend(lines);
            }
            Panel {
                title: plan.title.to_owned(),
                unit: plan.unit,
                series,
                queries: plan.queries,
            }
        })
        .collect())
}

async fn service_rows(
    prometheus: &PrometheusClient,
    queries: &[PanelQuery; 3],
    end: f64,
) -> Result<Vec<ServiceRow>> {
    let [volume, success, p99] = queries;
    let (volume, success, p99) = futures::future::try_join3(
        prometheus.query(&volume.promql, end),
        prometheus.query(&success.promql, end),
        prometheus.query(&p99.promql, end),
    )
    .await?;
    let key = |labels: &BTreeMap<String, String>| {
        (
            labels
                .get("destination_service_namespace")
                .cloned()
                .unwrap_or_default(),
            labels
                .get("destination_service_name")
                .cloned()
                .unwrap_or_default(),
        )
    };
    let finite = |v: f64| v.is_finite().then_some(v);
    let success: BTreeMap<_, _> = success.iter().map(|s| (key(&s.labels), s.value)).collect();
    let p99: BTreeMap<_, _> = p99.iter().map(|s| (key(&s.labels), s.value)).collect();
    let mut rows: Vec<ServiceRow> = volume
        .iter()
        .filter(|s| s.value.is_finite())
        .map(|s| {
            let k = key(&s.labels);
            ServiceRow {
                success_rate: success.get(&k).copied().and_then(finite),
                p99_ms: p99.get(&k).copied().and_then(finite),
                namespace: k.0,
                service: k.1,
                requests_per_s: s.value,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.requests_per_s
            .total_cmp(&a.requests_per_s)
            .then_with(|| (&a.namespace, &a.service).cmp(&(&b.namespace, &b.service)))
    });
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesh_panels_are_exact() {
        let p = mesh_panels(60.0);
        assert_eq!(
            p[0].queries[0].promql,
            r#"sum(rate(istio_requests_total{reporter="destination"}[60s]))"#
        );
        assert_eq!(
            p[2].queries[1].promql,
            r#"sum(rate(istio_requests_total{reporter="destination",response_code=~"5.*"}[60s]))"#
        );
        let [volume, success, p99] = service_table_queries(3600.0);
        assert_eq!(
            volume.promql,
            r#"sum by (destination_service_namespace, destination_service_name) (rate(istio_requests_total{reporter="destination"}[3600s]))"#
        );
        assert_eq!(
            success.promql,
            r#"sum by (destination_service_namespace, destination_service_name) (rate(istio_requests_total{reporter="destination",response_code!~"5.*"}[3600s])) / sum by (destination_service_namespace, destination_service_name) (rate(istio_requests_total{reporter="destination"}[3600s]))"#
        );
        assert_eq!(
            p99.promql,
            r#"histogram_quantile(0.99, sum by (le, destination_service_namespace, destination_service_name) (rate(istio_request_duration_milliseconds_bucket{reporter="destination"}[3600s])))"#
        );
    }

    #[test]
    fn service_panels_are_exact() {
        let p = service_panels("bookinfo", "details", 120.0);
        assert_eq!(
            p[0].queries[0].promql,
            r#"sum by (source_workload_namespace, source_workload) (rate(istio_requests_total{reporter="destination",destination_service_namespace="bookinfo",destination_service_name="details"}[120s]))"#
        );
        assert_eq!(
            p[3].queries[0].promql,
            r#"sum(rate(istio_request_bytes_sum{reporter="destination",destination_service_namespace="bookinfo",destination_service_name="details"}[120s])) / sum(rate(istio_request_bytes_count{reporter="destination",destination_service_namespace="bookinfo",destination_service_name="details"}[120s]))"#
        );
        assert_eq!(
            p[4].queries[2].promql,
            r#"histogram_quantile(0.99, sum(rate(istio_response_bytes_bucket{reporter="destination",destination_service_namespace="bookinfo",destination_service_name="details"}[120s])) by (le))"#
        );
        let units: Vec<Unit> = p.iter().map(|p| p.unit).collect();
        assert_eq!(
            units,
            [
                Unit::RequestsPerSecond,
                Unit::Ratio,
                Unit::Milliseconds,
                Unit::Bytes,
                Unit::Bytes
            ]
        );
    }

    #[test]
    fn workload_panels_are_exact() {
        let p = workload_panels("bookinfo", "ratings-v1", 60.0);
        assert_eq!(
            p[3].queries[0].promql,
            r#"sum by (destination_service_namespace, destination_service_name) (rate(istio_requests_total{reporter="source",source_workload_namespace="bookinfo",source_workload="ratings-v1"}[60s]))"#
        );
        assert_eq!(
            p[6].queries[0].promql,
            r#"sum(rate(istio_tcp_received_bytes_total{reporter="source",source_workload_namespace="bookinfo",source_workload="ratings-v1"}[60s]))"#
        );
        assert_eq!(
            p[5].queries[1].promql,
            r#"sum(rate(istio_tcp_sent_bytes_total{reporter="destination",destination_workload_namespace="bookinfo",destination_workload="ratings-v1"}[60s]))"#
        );
    }

    #[test]
    fn hostile_names_stay_quoted() {
        let p = service_panels("ns", "a\"}) or vector(1", 60.0);
        assert!(
            p[0].queries[0]
                .promql
                .contains(r#"destination_service_name="a\"}) or vector(1""#)
        );
    }

    #[test]
    fn legends_fill_labels() {
        let labels: BTreeMap<String, String> = [
            ("source_workload".to_string(), "productpage-v1".to_string()),
            (
                "source_workload_namespace".to_string(),
                "bookinfo".to_string(),
            ),
        ]
        .into();
        assert_eq!(
            legend_name(SOURCE_LEGEND, &labels),
            "productpage-v1.bookinfo"
        );
        assert_eq!(legend_name("p99", &labels), "p99");
        assert_eq!(legend_name("{{missing}} x", &labels), "unknown x");
        assert_eq!(legend_name("open {{ never", &labels), "open {{ never");
    }
}
