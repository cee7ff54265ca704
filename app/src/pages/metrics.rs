//! Traffic Metrics: the five charts and the top-10 lists for a scope (mesh,
//! project, namespace, service or workload). Scope, range and auto-refresh
//! live in the URL, so every view can be bookmarked and shared.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;

use crate::api;
use crate::components::chart::MetricChart;
use crate::components::layout::PageHeader;
use crate::components::refresh::AutoRefresh;
use crate::components::state::loaded;
use crate::components::top_list::TopTable;
use crate::components::utc_offset_s;
use crate::format;
use crate::nav::METRICS;
use crate::types::{
    Direction, MetricsQuery, MetricsReport, MetricsScopeKind, MetricsTargets, range_param,
};

/// Range presets offered as buttons.
pub const PRESETS: [&str; 10] = [
    "5m", "15m", "30m", "1h", "3h", "6h", "12h", "1d", "2d", "7d",
];
/// The range shown when the URL names none.
const DEFAULT_RANGE: &str = "1h";

/// The page's state, as carried in its URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricsUrl {
    /// `mesh`, `project`, `namespace`, `service`, `workload`.
    pub scope: String,
    /// Project id.
    pub project: String,
    /// Namespace.
    pub namespace: String,
    /// Service or workload name.
    pub name: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// Preset range, e.g. `1h`.
    pub range: String,
    /// Custom range start (Unix seconds).
    pub start: String,
    /// Custom range end (Unix seconds).
    pub end: String,
    /// Auto-refresh interval (`30s`, `1m`, `5m`) or empty.
    pub refresh: String,
}

impl MetricsUrl {
    /// Reads the state from a query map.
    pub fn from_query(map: &ParamsMap) -> Self {
        let get = |k: &str| map.get(k).unwrap_or_default();
        MetricsUrl {
            scope: get("scope"),
            project: get("project"),
            namespace: get("namespace"),
            name: get("name"),
            direction: get("direction"),
            range: get("range"),
            start: get("start"),
            end: get("end"),
            refresh: get("refresh"),
        }
    }

    /// The scope kind, mesh when absent or unknown.
    pub fn kind(&self) -> MetricsScopeKind {
        MetricsScopeKind::parse(&self.scope).unwrap_or(MetricsScopeKind::Mesh)
    }

    /// The Traces page for `service` of `namespace` over this page's range
    /// (the preset, or the custom start and end).
    pub fn traces_url(&self, namespace: &str, service: &str) -> String {
        use crate::links::TraceTime;
        let custom = match (self.start.parse::<i64>(), self.end.parse::<i64>()) {
            (Ok(start), Ok(end)) if self.is_custom() => Some(TraceTime::Between(start, end)),
            _ => None,
        };
        // Istio's tracing names services `<app>.<namespace>`.
        crate::links::traces_page(
            &format!("{service}.{namespace}"),
            custom.unwrap_or(TraceTime::Last(self.preset())),
        )
    }

    /// Whether a custom start/end replaces the preset range.
    pub fn is_custom(&self) -> bool {
        !self.start.is_empty() && !self.end.is_empty()
    }

    /// The preset in force.
    pub fn preset(&self) -> &str {
        if self.range.is_empty() {
            DEFAULT_RANGE
        } else {
            &self.range
        }
    }

    fn pairs(&self, with_refresh: bool) -> Vec<(&'static str, String)> {
        let kind = self.kind();
        let mut pairs = vec![("scope", self.scope.clone())];
        match kind {
            MetricsScopeKind::Mesh => {}
            MetricsScopeKind::Project => pairs.push(("project", self.project.clone())),
            MetricsScopeKind::Namespace => pairs.push(("namespace", self.namespace.clone())),
            MetricsScopeKind::Service | MetricsScopeKind::Workload => {
                pairs.push(("namespace", self.namespace.clone()));
                pairs.push(("name", self.name.clone()));
                pairs.push(("direction", self.direction.clone()));
            }
        }
        if self.is_custom() {
            pairs.push(("start", self.start.clone()));
            pairs.push(("end", self.end.clone()));
        } else {
            pairs.push(("range", self.range.clone()));
        }
        if with_refresh {
            pairs.push(("refresh", self.refresh.clone()));
        }
        pairs
    }

    /// `GET /api/metrics`'s query for this state, or what is wrong with
    /// its range or times.
    pub fn api_query(&self) -> Result<MetricsQuery, String> {
        let text = |v: &String| (!v.is_empty()).then(|| v.clone());
        let kind = self.kind();
        let mut q = MetricsQuery {
            scope: (!self.scope.is_empty()).then_some(kind),
            ..MetricsQuery::default()
        };
        match kind {
            MetricsScopeKind::Mesh => {}
            MetricsScopeKind::Project => q.project = text(&self.project),
            MetricsScopeKind::Namespace => q.namespace = text(&self.namespace),
            MetricsScopeKind::Service | MetricsScopeKind::Workload => {
                q.namespace = text(&self.namespace);
                q.name = text(&self.name);
                q.direction = match self.direction.as_str() {
                    "outbound" => Some(Direction::Outbound),
                    "inbound" => Some(Direction::Inbound),
                    _ => None,
                };
            }
        }
        if self.is_custom() {
            let time = |name: &str, v: &String| {
                v.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("{name} {v:?} is not a Unix time in seconds"))
            };
            q.start = Some(time("start", &self.start)?);
            q.end = Some(time("end", &self.end)?);
        } else if !self.range.is_empty() {
            q.range = Some(range_param(&self.range)?);
        }
        Ok(q)
    }

    /// The page URL for this state.
    pub fn page_url(&self) -> String {
        let qs = format::query_string(&self.pairs(true));
        if qs.is_empty() {
            METRICS.path.to_owned()
        } else {
            format!("{}?{qs}", METRICS.path)
        }
    }
}

/// `/metrics`: controls, the five charts, the top-10 lists.
#[component]
pub fn MetricsPage() -> impl IntoView {
    let query = use_query_map();
    let url = Memo::new(move |_| MetricsUrl::from_query(&query.read()));
    let navigate = use_navigate();
    let go = Callback::new(move |next: MetricsUrl| {
        navigate(&next.page_url(), NavigateOptions::default())
    });
    let targets = LocalResource::new(api::metrics_targets);
    // Keyed on the API query alone: choosing an auto-refresh interval
    // changes the URL but not the data, so it must not reload.
    let api_query = Memo::new(move |_| url.read().api_query());
    let report = LocalResource::new(move || {
        let q = api_query.get();
        async move {
            match q {
                Ok(q) => api::metrics(&q).await,
                Err(message) => Err(api::ApiError::bad_request(message)),
            }
        }
    });

    let offset_s = utc_offset_s();
    let link = Callback::new(move |(namespace, name): (String, String)| {
        let current = url.get_untracked();
        MetricsUrl {
            scope: MetricsScopeKind::Service.as_str().into(),
            namespace,
            name,
            direction: String::new(),
            project: String::new(),
            ..current
        }
        .page_url()
    });
    let traces = Callback::new(move |(namespace, service): (String, String)| {
        url.get_untracked().traces_url(&namespace, &service)
    });
    view! {
        <PageHeader item=METRICS />
        <section class="card controls" aria-label="Metrics controls">
            {loaded("scopes", targets, move |t: MetricsTargets| view! { <ScopeControls targets=t url=url go=go /> })}
            <RangeControls url=url go=go offset_s=offset_s />
            <div class="control-row">
                <AutoRefresh
                    value=Signal::derive(move || url.get().refresh)
                    on_change=Callback::new(move |refresh| go.run(MetricsUrl { refresh, ..url.get_untracked() }))
                    refetch=Callback::new(move |_| report.refetch())
                />
            </div>
        </section>
        {loaded("metrics", report, move |r: MetricsReport| view! { <Report report=r offset_s=offset_s link=link traces=traces /> })}
    }
}

/// Scope kind, project, namespace, service or workload, direction.
#[component]
fn ScopeControls(
    targets: MetricsTargets,
    url: Memo<MetricsUrl>,
    go: Callback<MetricsUrl>,
) -> impl IntoView {
    let targets = StoredValue::new(targets);
    let kind = move || url.get().kind();
    let set = move |f: &dyn Fn(&mut MetricsUrl)| {
        let mut next = url.get_untracked();
        f(&mut next);
        go.run(next);
    };
    let names = move || {
        let u = url.get();
        targets.with_value(|t| {
            t.namespaces
                .iter()
                .find(|n| n.name == u.namespace)
                .map(|n| {
                    if u.kind() == MetricsScopeKind::Workload {
                        n.workloads.clone()
                    } else {
                        n.services.clone()
                    }
                })
                .unwrap_or_default()
        })
    };
    view! {
        <div class="control-row">
            <label class="control">
                <span>"Scope"</span>
                <select
                    aria-label="Scope"
                    prop:value=move || kind().as_str()
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        set(&|u: &mut MetricsUrl| {
                            u.scope = value.clone();
                            u.name.clear();
                        })
                    }
                >
                    {MetricsScopeKind::ALL
                        .into_iter()
                        .map(|k| view! { <option value=k.as_str()>{scope_label(k)}</option> })
                        .collect_view()}
                </select>
            </label>
            <Show when=move || kind() == MetricsScopeKind::Project>
                <label class="control">
                    <span>"Project"</span>
                    <select
                        aria-label="Project"
                        prop:value=move || url.get().project
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            set(&|u: &mut MetricsUrl| u.project = value.clone())
                        }
                    >
                        <option value="">"Choose a project"</option>
                        {targets
                            .with_value(|t| t.projects.clone())
                            .into_iter()
                            .map(|p| view! { <option value=p.id.clone()>{format!("{} ({})", p.id, p.namespaces.join(", "))}</option> })
                            .collect_view()}
                    </select>
                </label>
            </Show>
            <Show when=move || !matches!(kind(), MetricsScopeKind::Mesh | MetricsScopeKind::Project)>
                <label class="control">
                    <span>"Namespace"</span>
                    <select
                        aria-label="Namespace"
                        prop:value=move || url.get().namespace
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            set(&|u: &mut MetricsUrl| {
                                u.namespace = value.clone();
                                u.name.clear();
                            })
                        }
                    >
                        <option value="">"Choose a namespace"</option>
                        {targets
                            .with_value(|t| t.namespaces.iter().map(|n| n.name.clone()).collect::<Vec<_>>())
                            .into_iter()
                            .map(|n| view! { <option value=n.clone()>{n.clone()}</option> })
                            .collect_view()}
                    </select>
                </label>
            </Show>
            <Show when=move || matches!(kind(), MetricsScopeKind::Service | MetricsScopeKind::Workload)>
                <label class="control">
                    <span>{move || if kind() == MetricsScopeKind::Workload { "Workload" } else { "Service" }}</span>
                    <select
                        aria-label="Name"
                        prop:value=move || url.get().name
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            set(&|u: &mut MetricsUrl| u.name = value.clone())
                        }
                    >
                        <option value="">"Choose one"</option>
                        {move || names().into_iter().map(|n| view! { <option value=n.clone()>{n.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <fieldset class="control segmented" aria-label="Direction">
                    <legend>"Direction"</legend>
                    {["inbound", "outbound"]
                        .into_iter()
                        .map(|d| {
                            view! {
                                <button
                                    type="button"
                                    aria-pressed=move || {
                                        let current = url.get().direction;
                                        (current == d || (current.is_empty() && d == "inbound")).to_string()
                                    }
                                    on:click=move |_| set(&|u: &mut MetricsUrl| u.direction = d.to_owned())
                                >
                                    {d}
                                </button>
                            }
                        })
                        .collect_view()}
                </fieldset>
            </Show>
        </div>
    }
}

fn scope_label(kind: MetricsScopeKind) -> &'static str {
    match kind {
        MetricsScopeKind::Mesh => "Whole mesh",
        MetricsScopeKind::Project => "Project",
        MetricsScopeKind::Namespace => "Namespace",
        MetricsScopeKind::Service => "Service",
        MetricsScopeKind::Workload => "Workload",
    }
}

/// Range presets and a custom range.
#[component]
fn RangeControls(url: Memo<MetricsUrl>, go: Callback<MetricsUrl>, offset_s: i64) -> impl IntoView {
    let (from, set_from) = signal(String::new());
    let (to, set_to) = signal(String::new());
    let (problem, set_problem) = signal(None::<String>);
    let apply = move |_| {
        let start = format::parse_datetime_local(&from.get_untracked(), offset_s);
        let end = format::parse_datetime_local(&to.get_untracked(), offset_s);
        match (start, end) {
            (Some(s), Some(e)) if e > s => {
                set_problem.set(None);
                go.run(MetricsUrl {
                    start: format!("{s}"),
                    end: format!("{e}"),
                    range: String::new(),
                    ..url.get_untracked()
                });
            }
            (Some(_), Some(_)) => set_problem.set(Some("The end must be after the start.".into())),
            _ => set_problem.set(Some("Give both a start and an end.".into())),
        }
    };
    view! {
        <div class="control-row">
            <fieldset class="control segmented" aria-label="Time range">
                <legend>"Range"</legend>
                {PRESETS
                    .into_iter()
                    .map(|p| {
                        view! {
                            <button
                                type="button"
                                aria-pressed=move || {
                                    let u = url.get();
                                    (!u.is_custom() && u.preset() == p).to_string()
                                }
                                on:click=move |_| {
                                    go.run(MetricsUrl {
                                        range: p.to_owned(),
                                        start: String::new(),
                                        end: String::new(),
                                        ..url.get_untracked()
                                    })
                                }
                            >
                                {p}
                            </button>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <div class="control custom-range">
                <label>
                    <span>"From"</span>
                    <input type="datetime-local" aria-label="From" prop:value=from on:input=move |ev| set_from.set(event_target_value(&ev)) />
                </label>
                <label>
                    <span>"To"</span>
                    <input type="datetime-local" aria-label="To" prop:value=to on:input=move |ev| set_to.set(event_target_value(&ev)) />
                </label>
                <button type="button" on:click=apply>
                    "Apply"
                </button>
                {move || problem.get().map(|p| view! { <span class="field-error" role="alert">{p}</span> })}
            </div>
        </div>
    }
}

/// The charts and the top lists of one report.
#[component]
fn Report(
    report: MetricsReport,
    offset_s: i64,
    link: Callback<(String, String), String>,
    traces: Callback<(String, String), String>,
) -> impl IntoView {
    let (start, end) = (report.start, report.end);
    let covers = match &report.namespaces {
        None => "all namespaces".to_owned(),
        Some(list) => list.join(", "),
    };
    view! {
        <p class="report-summary">
            {format!(
                "{} to {} · a point every {} · rates over {} · namespaces: {covers}",
                format::datetime(start, offset_s),
                format::datetime(end, offset_s),
                format::duration_words(report.step),
                format::duration_words(report.window),
            )}
        </p>
        <div class="chart-grid">
            {report
                .charts
                .into_iter()
                .map(|chart| view! { <MetricChart chart=chart start=start end=end offset_s=offset_s /> })
                .collect_view()}
        </div>
        <div class="top-grid">
            {report.top.into_iter().map(|list| view! { <TopTable list=list link=link traces=traces /> }).collect_view()}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_links_carry_the_preset_range() {
        let mut url = MetricsUrl {
            range: "6h".into(),
            ..MetricsUrl::default()
        };
        assert_eq!(
            url.traces_url("bookinfo", "reviews"),
            "/traces?service=reviews.bookinfo&range=6h"
        );
        // No range in the URL: the page shows its default, and so does the link.
        url.range.clear();
        assert_eq!(
            url.traces_url("bookinfo", "reviews"),
            format!("/traces?service=reviews.bookinfo&range={DEFAULT_RANGE}")
        );
        // A custom range goes as start and end.
        url.start = "1700000000".into();
        url.end = "1700003600".into();
        assert_eq!(
            url.traces_url("bookinfo", "reviews"),
            "/traces?service=reviews.bookinfo&start=1700000000&end=1700003600"
        );
    }
}
