//! Traffic metrics: the five charts and the top-10 lists for a scope (mesh,
//! project, namespace, service, workload), computed by Prometheus from
//! Istio's standard metrics with the PromQL of [`crate::promql`]. The
//! namespace filter always comes from the caller's [`AccessScope`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use app::types::{
    Chart, ChartKind, Direction, MetricsQuery, MetricsReport, MetricsScopeKind, MetricsTargets,
    NamespaceTargets, ProjectTargets, Series, TimeSpan, TopEntry, TopKind, TopList,
};

use crate::access::AccessScope;
use crate::cache::Keep;
use crate::cluster::names;
use crate::error::{Error, Result};
use crate::promql::{self, Target};
use crate::state::AppState;
use crate::upstream::prometheus::{PrometheusClient, RangeSeries};

/// Limits on what one metrics request may ask of Prometheus.
#[derive(Clone, Debug)]
pub struct MetricsLimits {
    /// Longest range in seconds.
    pub max_range_s: f64,
    /// Most points per series.
    pub max_points: u32,
    /// How long an answer is reused for identical requests.
    pub cache_ttl: Duration,
}

impl Default for MetricsLimits {
    fn default() -> Self {
        MetricsLimits {
            max_range_s: 30.0 * 86400.0,
            max_points: 1000,
            cache_ttl: Duration::from_secs(10),
        }
    }
}

/// The default range: one hour.
pub const DEFAULT_RANGE_S: f64 = 3600.0;
/// Points a chart aims for when the step is chosen automatically.
pub const TARGET_POINTS: f64 = 240.0;
/// Steps the automatic choice picks from (seconds).
const NICE_STEPS: [f64; 14] = [
    15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0,
    43200.0, 86400.0,
];
/// The shortest rate window: two samples at scrape intervals up to 30 s.
pub const MIN_WINDOW_S: f64 = 60.0;
/// The quantiles of the Request Duration chart.
pub const QUANTILES: [(f64, &str); 3] = [(0.5, "p50"), (0.9, "p90"), (0.99, "p99")];

/// A step giving about [`TARGET_POINTS`] points over `range` seconds.
pub fn nice_step(range: f64) -> f64 {
    let raw = range / TARGET_POINTS;
    NICE_STEPS
        .into_iter()
        .find(|s| *s >= raw)
        .unwrap_or(86400.0)
}

/// Start, end and step of a request, checked against the limits. Ranges
/// ending now end on a multiple of the step, so identical requests made
/// within one step share one answer.
pub fn resolve_range(
    params: &MetricsQuery,
    now: f64,
    limits: &MetricsLimits,
) -> Result<(f64, f64, f64)> {
    let (start, end) = match (params.start, params.end) {
        (Some(start), Some(end)) => {
            if !start.is_finite() || !end.is_finite() || start < 0.0 {
                return Err(Error::BadRequest(
                    "start and end must be Unix times in seconds".into(),
                ));
            }
            if end <= start {
                return Err(Error::BadRequest(format!(
                    "end ({end}) must be after start ({start})"
                )));
            }
            (start, end)
        }
        (None, None) => {
            let range = params
                .range
                .as_ref()
                .map_or(DEFAULT_RANGE_S, TimeSpan::seconds);
            let step = params.step.unwrap_or_else(|| nice_step(range));
            let end = if step > 0.0 {
                (now / step).floor() * step
            } else {
                now
            };
            (end - range, end)
        }
        _ => {
            return Err(Error::BadRequest(
                "give both start and end, or neither (and a range)".into(),
            ));
        }
    };
    let range = end - start;
    if range > limits.max_range_s {
        return Err(Error::BadRequest(format!(
            "the range is {:.0} s; the longest allowed is {:.0} s",
            range, limits.max_range_s
        )));
    }
    let step = params.step.unwrap_or_else(|| nice_step(range));
    if !step.is_finite() || step < 1.0 {
        return Err(Error::BadRequest(format!(
            "step must be at least 1 second, not {step}"
        )));
    }
    // A step longer than the range would align the window far from what
    // was asked (a 5-minute range with a one-day step ending at midnight).
    if step > range {
        return Err(Error::BadRequest(format!(
            "step ({step:.0} s) must not be longer than the range ({range:.0} s)"
        )));
    }
    let points = (range / step).floor() + 1.0;
    if points > f64::from(limits.max_points) {
        return Err(Error::BadRequest(format!(
            "{points:.0} points per series (range {range:.0} s / step {step:.0} s); the limit is {}: use a larger step",
            limits.max_points
        )));
    }
    Ok((start, end, step))
}

/// The target of a request, with the namespace filter from `scope`:
/// members get 403 for namespaces outside their projects.
pub async fn resolve_target(
    params: &MetricsQuery,
    scope: &AccessScope,
    state: &AppState,
) -> Result<Target> {
    let kind = params.scope.unwrap_or(MetricsScopeKind::Mesh);
    let direction = params.direction.unwrap_or(Direction::Inbound);
    let required = |value: &Option<String>, what: &str| {
        value
            .clone()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Error::BadRequest(format!("scope {} needs a {what}", kind.as_str())))
    };
    let mut target = Target {
        kind,
        namespaces: scope.namespace_filter(),
        namespace: String::new(),
        name: String::new(),
        direction,
    };
    match kind {
        MetricsScopeKind::Mesh => {}
        MetricsScopeKind::Project => {
            let project = required(&params.project, "project")?;
            // Projects come from the cluster's namespace labels (cached).
            let members: Vec<String> = state
                .auth()
                .namespaces()
                .await?
                .iter()
                .filter(|ns| ns.project == project)
                .map(|ns| ns.name.clone())
                .collect();
            if members.is_empty() {
                return Err(Error::NotFound(format!(
                    "no namespace belongs to project {project:?}"
                )));
            }
            let visible: Vec<String> = members.into_iter().filter(|ns| scope.can_see(ns)).collect();
            if visible.is_empty() {
                return Err(Error::Forbidden(format!(
                    "{} may not see project {project:?}",
                    scope.user
                )));
            }
            target.namespaces = Some(visible);
        }
        MetricsScopeKind::Namespace => {
            target.namespace = required(&params.namespace, "namespace")?;
            scope.check_namespace(&target.namespace)?;
            names::namespace(&target.namespace)?;
        }
        MetricsScopeKind::Service | MetricsScopeKind::Workload => {
            target.namespace = required(&params.namespace, "namespace")?;
            target.name = required(&params.name, "name")?;
            scope.check_namespace(&target.namespace)?;
            names::namespace(&target.namespace)?;
            names::object(kind.as_str(), &target.name)?;
        }
    }
    Ok(target)
}

/// The scopes the caller may pick: projects from the cluster, namespaces,
/// services and workloads from the last day of traffic in Prometheus.
pub async fn targets(state: &AppState, scope: &AccessScope, now: f64) -> Result<MetricsTargets> {
    let prometheus = state.prometheus()?.clone();
    let mut namespaces: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for (promql, ns_label, name_label, is_service) in
        promql::target_queries(scope.namespace_filter().as_deref())
    {
        for sample in prometheus.query(&promql, now).await? {
            let (Some(ns), Some(name)) =
                (sample.labels.get(ns_label), sample.labels.get(name_label))
            else {
                continue;
            };
            if ns == "unknown" || name == "unknown" || !scope.can_see(ns) {
                continue;
            }
            let entry = namespaces.entry(ns.clone()).or_default();
            if is_service {
                &mut entry.0
            } else {
                &mut entry.1
            }
            .insert(name.clone());
        }
    }
    let mut projects: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if state.upstreams().kube.is_some() {
        for ns in state.auth().namespaces().await?.iter() {
            if scope.can_see(&ns.name) {
                projects
                    .entry(ns.project.clone())
                    .or_default()
                    .push(ns.name.clone());
            }
        }
    }
    Ok(MetricsTargets {
        projects: projects
            .into_iter()
            .map(|(id, namespaces)| ProjectTargets { id, namespaces })
            .collect(),
        namespaces: namespaces
            .into_iter()
            .map(|(name, (services, workloads))| NamespaceTargets {
                name,
                services: services.into_iter().collect(),
                workloads: workloads.into_iter().collect(),
            })
            .collect(),
    })
}

/// One query of a report, and where its answer goes.
struct PlannedQuery {
    promql: String,
    slot: Destination,
}

#[derive(Clone, Copy)]
enum Destination {
    Chart(ChartKind, &'static str),
    Top(TopKind),
}

fn plan(target: &Target, range: f64, window: f64) -> Vec<PlannedQuery> {
    let s = promql::target_selector(target);
    let chart = |kind, name, promql| PlannedQuery {
        promql,
        slot: Destination::Chart(kind, name),
    };
    let top = |kind, promql| PlannedQuery {
        promql,
        slot: Destination::Top(kind),
    };
    let mut plan = vec![
        chart(
            ChartKind::SuccessRate,
            "success rate",
            promql::success_rate(&s, window),
        ),
        chart(
            ChartKind::RequestVolume,
            "requests",
            promql::request_volume(&s, window),
        ),
        chart(
            ChartKind::ClientErrors,
            "4xx",
            promql::responses_of_class(&s, '4', window),
        ),
        chart(
            ChartKind::ServerErrors,
            "5xx",
            promql::responses_of_class(&s, '5', window),
        ),
    ];
    for (q, name) in QUANTILES {
        plan.push(chart(
            ChartKind::RequestDuration,
            name,
            promql::duration_quantile(&s, q, window),
        ));
    }
    plan.push(top(TopKind::Volume, promql::top_volume(&s, range)));
    plan.push(top(
        TopKind::ClientErrors,
        promql::top_class(&s, '4', range),
    ));
    plan.push(top(
        TopKind::ServerErrors,
        promql::top_class(&s, '5', range),
    ));
    plan.push(top(TopKind::P99, promql::top_p99(&s, range)));
    plan
}

/// Estimated bytes of a report, for the metrics cache's budget: its
/// charts' points (nearly all of it: up to `--metrics-max-points` per
/// series), series, top lists and texts, with their buffers.
pub fn report_weight(report: &MetricsReport) -> usize {
    use crate::cache::heap_bytes;
    use std::mem::size_of;
    let text = |s: &String| heap_bytes(s.len());
    let texts = |v: &Vec<String>| {
        heap_bytes(v.capacity() * size_of::<String>()) + v.iter().map(text).sum::<usize>()
    };
    let charts: usize = report
        .charts
        .iter()
        .map(|c| {
            heap_bytes(c.series.capacity() * size_of::<Series>())
                + texts(&c.queries)
                + c.series
                    .iter()
                    .map(|s| {
                        text(&s.name)
                            + heap_bytes(s.points.capacity() * size_of::<(f64, Option<f64>)>())
                    })
                    .sum::<usize>()
        })
        .sum();
    let top: usize = report
        .top
        .iter()
        .map(|t| {
            text(&t.query)
                + heap_bytes(t.entries.capacity() * size_of::<TopEntry>())
                + t.entries
                    .iter()
                    .map(|e| text(&e.namespace) + text(&e.service))
                    .sum::<usize>()
        })
        .sum();
    size_of::<MetricsReport>()
        + report.namespaces.as_ref().map_or(0, texts)
        + heap_bytes(report.charts.capacity() * size_of::<Chart>())
        + charts
        + heap_bytes(report.top.capacity() * size_of::<TopList>())
        + top
}

/// The report for `params` as `scope` may see it. Identical concurrent
/// requests share one set of Prometheus queries; answers for a range
/// ending now are reused for [`MetricsLimits::cache_ttl`] (within the
/// cache's budget), those for an explicit `start` and `end` are not kept.
pub async fn report(
    state: &AppState,
    scope: &AccessScope,
    params: &MetricsQuery,
    now: f64,
) -> Result<Arc<MetricsReport>> {
    // Bad input (400) and forbidden scopes (403) are the caller's to fix,
    // whether or not Prometheus is configured: check them first.
    let (start, end, step) = resolve_range(params, now, state.metrics_limits())?;
    let target = resolve_target(params, scope, state).await?;
    let prometheus = state.prometheus()?.clone();
    let window = step.max(MIN_WINDOW_S);
    let planned = plan(&target, end - start, window);
    // The key is everything the answer depends on: the exact queries (which
    // carry the scope and namespace filter) and the times.
    let key = format!(
        "{start}|{end}|{step}|{}",
        planned
            .iter()
            .map(|p| p.promql.as_str())
            .collect::<Vec<_>>()
            .join("|")
    );
    // A range ending now is asked for again until the next step (the page
    // refreshes); an explicit range (a zoom, a replay) rarely is, and each
    // one is a different key: keep only the former.
    let keep = match (params.start, params.end) {
        (None, None) => Keep::Retain,
        _ => Keep::Discard,
    };
    let report = state
        .metrics_cache()
        .get_or_try(key, keep, || async move {
            run_queries(&prometheus, &target, planned, start, end, step, window)
                .await
                .map(Arc::new)
        })
        .await?;
    Ok(report)
}

async fn run_queries(
    prometheus: &PrometheusClient,
    target: &Target,
    planned: Vec<PlannedQuery>,
    start: f64,
    end: f64,
    step: f64,
    window: f64,
) -> Result<MetricsReport> {
    enum Answer {
        Range(Vec<RangeSeries>),
        Instant(Vec<crate::upstream::prometheus::Sample>),
    }
    let answers = futures::future::try_join_all(planned.iter().map(|p| async move {
        match p.slot {
            Destination::Chart(..) => prometheus
                .query_range(&p.promql, start, end, step)
                .await
                .map(Answer::Range),
            Destination::Top(_) => prometheus.query(&p.promql, end).await.map(Answer::Instant),
        }
    }))
    .await?;

    let mut charts: Vec<Chart> = ChartKind::ALL
        .into_iter()
        .map(|kind| Chart {
            kind,
            series: Vec::new(),
            queries: Vec::new(),
        })
        .collect();
    let mut top: BTreeMap<usize, TopList> = BTreeMap::new();
    for (p, answer) in planned.into_iter().zip(answers) {
        match (p.slot, answer) {
            (Destination::Chart(kind, name), Answer::Range(series)) => {
                let chart = charts
                    .iter_mut()
                    .find(|c| c.kind == kind)
                    .ok_or_else(|| Error::internal("chart slot"))?;
                chart.series.push(Series {
                    name: name.to_owned(),
                    points: on_grid(series.first(), start, end, step),
                });
                chart.queries.push(p.promql);
            }
            (Destination::Top(kind), Answer::Instant(samples)) => {
                let mut entries: Vec<TopEntry> = samples
                    .into_iter()
                    .filter(|s| s.value.is_finite())
                    .map(|s| TopEntry {
                        namespace: s
                            .labels
                            .get("destination_service_namespace")
                            .cloned()
                            .unwrap_or_default(),
                        service: s
                            .labels
                            .get("destination_service_name")
                            .cloned()
                            .unwrap_or_default(),
                        value: s.value,
                    })
                    .collect();
                entries.sort_by(|a, b| b.value.total_cmp(&a.value));
                entries.truncate(10);
                let index = TopKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
                top.insert(
                    index,
                    TopList {
                        kind,
                        unit: kind.unit(),
                        entries,
                        query: p.promql,
                    },
                );
            }
            _ => return Err(Error::internal("query answer of the wrong kind")),
        }
    }
    Ok(MetricsReport {
        scope: target.kind,
        direction: target.direction,
        namespaces: target
            .namespaces
            .clone()
            .or_else(|| (!target.namespace.is_empty()).then(|| vec![target.namespace.clone()])),
        start,
        end,
        step,
        window,
        charts,
        top: top.into_values().collect(),
    })
}

/// A series' points on the regular grid `start, start + step, ..., end`,
/// `None` where Prometheus had no (or no finite) value.
pub fn on_grid(
    series: Option<&RangeSeries>,
    start: f64,
    end: f64,
    step: f64,
) -> Vec<(f64, Option<f64>)> {
    let n = ((end - start) / step).floor() as usize + 1;
    let mut points: Vec<(f64, Option<f64>)> =
        (0..n).map(|i| (start + i as f64 * step, None)).collect();
    if let Some(series) = series {
        for (t, v) in &series.points {
            let i = ((t - start) / step).round();
            if i >= 0.0 && (i as usize) < n && v.is_finite() {
                points[i as usize].1 = Some(*v);
            }
        }
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(
        range: Option<&str>,
        start: Option<f64>,
        end: Option<f64>,
        step: Option<f64>,
    ) -> MetricsQuery {
        MetricsQuery {
            range: range.and_then(TimeSpan::parse_range),
            start,
            end,
            step,
            ..MetricsQuery::default()
        }
    }

    #[test]
    fn a_step_longer_than_the_range_is_refused() {
        let limits = MetricsLimits::default();
        let mut p = params(Some("5m"), None, None, None);
        p.step = Some(86_400.0);
        let err = resolve_range(&p, 1_700_000_000.0, &limits).unwrap_err();
        assert_eq!(err.code().http_status(), 400);
        assert!(
            err.to_string()
                .contains("must not be longer than the range"),
            "{err}"
        );
        p.step = Some(1e9);
        assert!(resolve_range(&p, 1_700_000_000.0, &limits).is_err());
        // Equal is fine: one point.
        p.step = Some(300.0);
        assert!(resolve_range(&p, 1_700_000_000.0, &limits).is_ok());
    }

    #[test]
    fn steps_aim_for_a_few_hundred_points() {
        assert_eq!(nice_step(3600.0), 15.0);
        assert_eq!(nice_step(6.0 * 3600.0), 120.0);
        assert_eq!(nice_step(7.0 * 86400.0), 3600.0);
        assert_eq!(nice_step(300.0), 15.0);
    }

    #[test]
    fn ranges_ending_now_are_aligned_to_the_step() {
        let limits = MetricsLimits::default();
        let (start, end, step) = resolve_range(
            &params(Some("1h"), None, None, None),
            1_700_000_007.0,
            &limits,
        )
        .unwrap();
        assert_eq!(
            (start, end, step),
            (1_699_996_395.0, 1_699_999_995.0 + 0.0, 15.0)
        );
        assert_eq!(end % 15.0, 0.0);
    }

    #[test]
    fn bad_ranges_are_400() {
        let limits = MetricsLimits::default();
        let cases = [
            params(None, Some(100.0), Some(50.0), None),
            params(None, Some(100.0), None, None),
            // (A range that is not one is refused by the query's type.)
            params(Some("60d"), None, None, None),
            params(None, Some(0.0), Some(86400.0), Some(1.0)),
            params(None, Some(0.0), Some(3600.0), Some(0.0)),
            params(None, Some(f64::NAN), Some(3600.0), None),
        ];
        for p in cases {
            let err = resolve_range(&p, 1e9, &limits).unwrap_err();
            assert_eq!(err.code().http_status(), 400, "{p:?}: {err}");
        }
    }

    #[test]
    fn grid_marks_missing_points() {
        let series = RangeSeries {
            labels: Default::default(),
            points: vec![(0.0, 1.0), (30.0, f64::NAN), (45.0, 4.0)],
        };
        assert_eq!(
            on_grid(Some(&series), 0.0, 45.0, 15.0),
            vec![
                (0.0, Some(1.0)),
                (15.0, None),
                (30.0, None),
                (45.0, Some(4.0))
            ]
        );
        assert_eq!(
            on_grid(None, 0.0, 15.0, 15.0),
            vec![(0.0, None), (15.0, None)]
        );
    }
}
