//! Prometheus (cluster owners): the PromQL console and the built-in Mesh,
//! Service and Workload dashboards, as tabs whose state (tab, namespace,
//! name, range) lives in the URL. The console's query history stays in the
//! tab's `sessionStorage`.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;

use crate::api::{self, ApiError};
use crate::components::layout::PageHeader;
use crate::components::panel::{DashboardPanel, LineChart};
use crate::components::refresh::AutoRefresh;
use crate::components::state::loaded;
use crate::components::utc_offset_s;
use crate::format;
use crate::nav::PROMETHEUS;
use crate::pages::metrics::PRESETS;
use crate::types::{
    Dashboard, DashboardKind, DashboardQuery, MetricsTargets, PromData, PromQueryAnswer,
    PromQueryRequest, PromRangeSeries, Series, ServiceRow, TimeSpan, Unit,
};

/// `sessionStorage` key of the console's query history.
pub const HISTORY_KEY: &str = "meshdeck.promql-history";
/// Queries kept in the history.
pub const HISTORY_LEN: usize = 20;
/// Range presets of the console: (label, seconds).
pub const CONSOLE_RANGES: [(&str, f64); 6] = [
    ("5m", 300.0),
    ("15m", 900.0),
    ("1h", 3600.0),
    ("3h", 10800.0),
    ("6h", 21600.0),
    ("1d", 86400.0),
];
/// Points a console range query aims for.
const CONSOLE_POINTS: f64 = 250.0;
/// Rows of an instant result shown in the table.
pub const TABLE_ROWS: usize = 500;

/// The console's range chart spans the page: drawn at about the width it
/// is shown at, so its text stays the size of the page's.
const CONSOLE_CHART_SIZE: (u32, u32) = (1100, 360);
/// The query the editor starts with when the history is empty.
const EXAMPLE: &str =
    r#"sum by (destination_service_name) (rate(istio_requests_total{reporter="destination"}[5m]))"#;

/// The tabs of the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    /// The PromQL console.
    Console,
    /// One of the built-in dashboards.
    Dashboard(DashboardKind),
}

impl Tab {
    /// Every tab in order.
    pub const ALL: [Tab; 4] = [
        Tab::Console,
        Tab::Dashboard(DashboardKind::Mesh),
        Tab::Dashboard(DashboardKind::Service),
        Tab::Dashboard(DashboardKind::Workload),
    ];

    /// URL value.
    pub fn as_str(self) -> &'static str {
        match self {
            Tab::Console => "console",
            Tab::Dashboard(kind) => kind.as_str(),
        }
    }

    /// Parses [`Tab::as_str`]; the console when absent or unknown.
    pub fn parse(s: &str) -> Tab {
        DashboardKind::parse(s)
            .map(Tab::Dashboard)
            .unwrap_or(Tab::Console)
    }

    /// Tab label.
    pub fn label(self) -> &'static str {
        match self {
            Tab::Console => "Console",
            Tab::Dashboard(DashboardKind::Mesh) => "Mesh dashboard",
            Tab::Dashboard(DashboardKind::Service) => "Service dashboard",
            Tab::Dashboard(DashboardKind::Workload) => "Workload dashboard",
        }
    }
}

/// The page's state, as carried in its URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrometheusUrl {
    /// `console` (default), `mesh`, `service` or `workload`.
    pub tab: String,
    /// Namespace of the service or workload dashboard.
    pub namespace: String,
    /// Service or workload name.
    pub name: String,
    /// Dashboard range preset, e.g. `1h`.
    pub range: String,
    /// Dashboard auto-refresh (`30s`, `1m`, `5m`) or empty.
    pub refresh: String,
}

impl PrometheusUrl {
    /// Reads the state from a query map.
    pub fn from_query(map: &ParamsMap) -> Self {
        let get = |k: &str| map.get(k).unwrap_or_default();
        PrometheusUrl {
            tab: get("tab"),
            namespace: get("namespace"),
            name: get("name"),
            range: get("range"),
            refresh: get("refresh"),
        }
    }

    /// The tab in force.
    pub fn tab(&self) -> Tab {
        Tab::parse(&self.tab)
    }

    /// The dashboard range preset in force.
    pub fn preset(&self) -> &str {
        if self.range.is_empty() {
            "1h"
        } else {
            &self.range
        }
    }

    /// The page URL for this state (only what the tab uses).
    pub fn page_url(&self) -> String {
        let mut pairs = vec![];
        if let Tab::Dashboard(kind) = self.tab() {
            pairs.push(("tab", kind.as_str().to_owned()));
            if kind.needs_name() {
                pairs.push(("namespace", self.namespace.clone()));
                pairs.push(("name", self.name.clone()));
            }
            pairs.push(("range", self.range.clone()));
            pairs.push(("refresh", self.refresh.clone()));
        }
        let qs = format::query_string(&pairs);
        if qs.is_empty() {
            PROMETHEUS.path.to_owned()
        } else {
            format!("{}?{qs}", PROMETHEUS.path)
        }
    }

    /// `GET /api/dashboards/{kind}`'s query, or `None` while a service or
    /// workload is still to be chosen.
    pub fn api_query(&self, kind: DashboardKind) -> Option<DashboardQuery> {
        if kind.needs_name() && (self.namespace.is_empty() || self.name.is_empty()) {
            return None;
        }
        let mut query = DashboardQuery {
            range: TimeSpan::parse_range(self.preset()),
            ..DashboardQuery::default()
        };
        if kind.needs_name() {
            query.namespace = Some(self.namespace.clone());
            query.name = Some(self.name.clone());
        }
        Some(query)
    }
}

/// A series' labels as Prometheus writes them: `name{a="b", c="d"}`.
pub fn series_label(metric: &BTreeMap<String, String>) -> String {
    let name = metric.get("__name__").cloned().unwrap_or_default();
    let labels: Vec<String> = metric
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    if labels.is_empty() && !name.is_empty() {
        name
    } else {
        format!("{name}{{{}}}", labels.join(", "))
    }
}

/// A range result as chart lines; `NaN` and infinities become gaps.
pub fn matrix_series(matrix: &[PromRangeSeries]) -> Vec<Series> {
    matrix
        .iter()
        .map(|s| Series {
            name: series_label(&s.metric),
            points: s
                .values
                .iter()
                .map(|(t, v)| (*t, v.parse::<f64>().ok().filter(|v| v.is_finite())))
                .collect(),
        })
        .collect()
}

/// `history` with `query` in front, without duplicates, at most [`HISTORY_LEN`].
pub fn push_history(history: &[String], query: &str) -> Vec<String> {
    std::iter::once(query.to_owned())
        .chain(history.iter().filter(|q| *q != query).cloned())
        .take(HISTORY_LEN)
        .collect()
}

/// Seconds between points for a console range query over `range_s`.
pub fn console_step(range_s: f64) -> f64 {
    (range_s / CONSOLE_POINTS).ceil().max(1.0)
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

fn load_history() -> Vec<String> {
    storage()
        .and_then(|s| s.get_item(HISTORY_KEY).ok().flatten())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

fn save_history(history: &[String]) {
    if let (Some(s), Ok(text)) = (storage(), serde_json::to_string(history)) {
        let _ = s.set_item(HISTORY_KEY, &text);
    }
}

fn now_s() -> f64 {
    js_sys::Date::now() / 1000.0
}

/// `PROMETHEUS.path`: the tabs and the chosen view.
#[component]
pub fn PrometheusPage() -> impl IntoView {
    let query = use_query_map();
    let url = Memo::new(move |_| PrometheusUrl::from_query(&query.read()));
    let tab = Memo::new(move |_| url.get().tab());
    let navigate = use_navigate();
    let go = Callback::new(move |next: PrometheusUrl| {
        navigate(&next.page_url(), NavigateOptions::default())
    });
    // A service is not a workload: switching tabs keeps only the range and
    // the auto-refresh.
    let href = move |tab: Tab| {
        let u = url.get();
        PrometheusUrl {
            tab: tab.as_str().to_owned(),
            range: u.range,
            refresh: u.refresh,
            ..PrometheusUrl::default()
        }
        .page_url()
    };
    view! {
        <PageHeader item=PROMETHEUS />
        <nav class="tabs" role="tablist" aria-label="Prometheus views">
            {Tab::ALL
                .into_iter()
                .map(|item| {
                    view! {
                        <a
                            role="tab"
                            href=move || href(item)
                            aria-selected=move || (url.get().tab() == item).to_string()
                        >
                            {item.label()}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
        // Only a change of tab rebuilds the view; namespace, name and range
        // changes flow into the one that is there.
        {move || match tab.get() {
            Tab::Console => view! { <Console /> }.into_any(),
            Tab::Dashboard(kind) => view! { <DashboardView kind=kind url=url go=go /> }.into_any(),
        }}
    }
}

/// What the console shows after a run.
#[derive(Clone, Debug)]
struct Outcome {
    /// The query that ran.
    query: String,
    /// `(start, end)` of a range query.
    range: Option<(f64, f64)>,
    /// Prometheus' answer or the error.
    answer: Result<PromQueryAnswer, ApiError>,
}

/// The PromQL editor, its options and history, and the result.
#[component]
fn Console() -> impl IntoView {
    let history = RwSignal::new(load_history());
    let text = RwSignal::new(
        history
            .get_untracked()
            .first()
            .cloned()
            .unwrap_or_else(|| EXAMPLE.to_owned()),
    );
    let range_mode = RwSignal::new(false);
    let preset = RwSignal::new("1h");
    // Evaluation time (instant) or end of the range, as `datetime-local`
    // text in the viewer's zone; empty: now.
    let at = RwSignal::new(String::new());
    let offset_s = utc_offset_s();
    let running = RwSignal::new(false);
    let outcome = RwSignal::new(None::<Outcome>);
    let run = move || {
        let query = text.get_untracked().trim().to_owned();
        if query.is_empty() || running.get_untracked() {
            return;
        }
        let now = format::parse_datetime_local(&at.get_untracked(), offset_s)
            .unwrap_or_else(|| now_s().floor());
        let (request, range) = if range_mode.get_untracked() {
            let seconds = CONSOLE_RANGES
                .iter()
                .find(|(p, _)| *p == preset.get_untracked())
                .map(|(_, s)| *s)
                .unwrap_or(3600.0);
            let start = now - seconds;
            (
                PromQueryRequest {
                    query: query.clone(),
                    start: Some(start),
                    end: Some(now),
                    step: Some(console_step(seconds)),
                    ..PromQueryRequest::default()
                },
                Some((start, now)),
            )
        } else {
            (
                PromQueryRequest {
                    query: query.clone(),
                    time: Some(now),
                    ..PromQueryRequest::default()
                },
                None,
            )
        };
        let next = push_history(&history.get_untracked(), &query);
        save_history(&next);
        history.set(next);
        running.set(true);
        spawn_local(async move {
            let answer = api::prometheus_query(request).await;
            outcome.set(Some(Outcome {
                query,
                range,
                answer,
            }));
            running.set(false);
        });
    };
    view! {
        <section class="card console" aria-label="PromQL console">
            <label class="console-editor">
                <span>"PromQL query"</span>
                <textarea
                    aria-label="PromQL query"
                    rows="4"
                    spellcheck="false"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        if (ev.ctrl_key() || ev.meta_key()) && ev.key() == "Enter" {
                            ev.prevent_default();
                            run();
                        }
                    }
                ></textarea>
            </label>
            <div class="control-row">
                <fieldset class="control segmented" aria-label="Query type">
                    <legend>"Query type"</legend>
                    <button type="button" aria-pressed=move || (!range_mode.get()).to_string() on:click=move |_| range_mode.set(false)>
                        "Instant"
                    </button>
                    <button type="button" aria-pressed=move || range_mode.get().to_string() on:click=move |_| range_mode.set(true)>
                        "Range"
                    </button>
                </fieldset>
                <Show when=move || range_mode.get()>
                    <fieldset class="control segmented" aria-label="Query range">
                        <legend>"Range"</legend>
                        {CONSOLE_RANGES
                            .into_iter()
                            .map(|(p, _)| {
                                view! {
                                    <button type="button" aria-pressed=move || (preset.get() == p).to_string() on:click=move |_| preset.set(p)>
                                        {p}
                                    </button>
                                }
                            })
                            .collect_view()}
                    </fieldset>
                </Show>
                <label class="control">
                    <span>{move || if range_mode.get() { "Ending at (empty: now)" } else { "Evaluated at (empty: now)" }}</span>
                    <input
                        type="datetime-local"
                        aria-label="Evaluation time"
                        title="Empty: now"
                        prop:value=move || at.get()
                        on:input=move |ev| at.set(event_target_value(&ev))
                    />
                </label>
                <Show when=move || !at.get().is_empty()>
                    <button type="button" on:click=move |_| at.set(String::new())>"Now"</button>
                </Show>
                <button type="button" class="primary" on:click=move |_| run() prop:disabled=move || running.get()>
                    {move || if running.get() { "Running…" } else { "Run query" }}
                </button>
                <span class="hint">"Ctrl/⌘ + Enter runs the query"</span>
            </div>
            <Show when=move || !history.get().is_empty()>
                <details class="history">
                    <summary>
                        {move || match history.get().len() {
                            1 => "History (1 query)".to_owned(),
                            n => format!("History ({n} queries)"),
                        }}
                    </summary>
                    <ul aria-label="Query history">
                        {move || {
                            history
                                .get()
                                .into_iter()
                                .map(|q| {
                                    let pick = q.clone();
                                    view! {
                                        <li>
                                            <button type="button" class="history-item" title="Put this query in the editor" on:click=move |_| text.set(pick.clone())>
                                                <code>{q}</code>
                                            </button>
                                        </li>
                                    }
                                })
                                .collect_view()
                        }}
                    </ul>
                </details>
            </Show>
        </section>
        {move || outcome.get().map(|o| view! { <ConsoleResult outcome=o /> })}
    }
}

/// The result of one run: an error as Prometheus states it, a table for
/// instant results, a chart for range results.
#[component]
fn ConsoleResult(outcome: Outcome) -> impl IntoView {
    let offset_s = utc_offset_s();
    let answer = match outcome.answer {
        Err(err) => {
            return view! {
                <section class="card prom-error" role="alert" aria-label="Query error">
                    <h2>{format!("Query failed (HTTP {})", err.status)}</h2>
                    <pre>{err.message}</pre>
                    <p class="hint">{format!("Query: {}", outcome.query)}</p>
                </section>
            }
            .into_any();
        }
        Ok(answer) => answer,
    };
    let warnings = answer.warnings.clone();
    let body = match answer.data {
        PromData::Matrix(matrix) => {
            let (start, end) = outcome.range.unwrap_or((0.0, 1.0));
            let points: usize = matrix.iter().map(|s| s.values.len()).sum();
            let series = matrix_series(&matrix);
            view! {
                <p class="report-summary">{format!("Range result: {} series, {points} points", series.len())}</p>
                <LineChart
                    series=series
                    unit=Unit::Number
                    start=start
                    end=end
                    offset_s=offset_s
                    label="Query result over time"
                    empty="The query matched no series in this range."
                    size=CONSOLE_CHART_SIZE
                />
            }
            .into_any()
        }
        PromData::Vector(samples) => {
            let total = samples.len();
            let rows = samples
                .into_iter()
                .take(TABLE_ROWS)
                .map(|s| view! { <tr><td><code>{series_label(&s.metric)}</code></td><td class="num">{s.value.1}</td></tr> })
                .collect_view();
            view! {
                <p class="report-summary">
                    {format!("Instant vector: {total} series")}
                    {(total > TABLE_ROWS).then(|| format!(" (first {TABLE_ROWS} shown)"))}
                </p>
                <ResultTable rows=rows.into_any() empty=total == 0 />
            }
            .into_any()
        }
        PromData::Scalar((_, v)) | PromData::String((_, v)) => view! {
            <p class="report-summary">"Scalar result"</p>
            <ResultTable rows=view! { <tr><td><code>"scalar"</code></td><td class="num">{v}</td></tr> }.into_any() empty=false />
        }
        .into_any(),
    };
    view! {
        <section class="card console-result" aria-label="Query result">
            {body}
            {(!warnings.is_empty()).then(|| view! { <ul class="warnings">{warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul> })}
        </section>
    }
    .into_any()
}

#[component]
fn ResultTable(rows: AnyView, empty: bool) -> impl IntoView {
    view! {
        <table class="data-table result-table" aria-label="Result table">
            <thead>
                <tr>
                    <th scope="col">"Series"</th>
                    <th scope="col" class="num">"Value"</th>
                </tr>
            </thead>
            <tbody>
                {rows}
                {empty.then(|| view! { <tr><td colspan="2" class="empty-row">"The query matched no series."</td></tr> })}
            </tbody>
        </table>
    }
}

/// One built-in dashboard: its controls and panels.
#[component]
fn DashboardView(
    kind: DashboardKind,
    url: Memo<PrometheusUrl>,
    go: Callback<PrometheusUrl>,
) -> impl IntoView {
    // Keyed on the API query alone (not the auto-refresh choice).
    let api_query = Memo::new(move |_| url.read().api_query(kind));
    let dashboard = LocalResource::new(move || {
        let q = api_query.get();
        async move {
            match q {
                Some(q) => api::dashboard(kind, &q).await.map(Some),
                None => Ok(None),
            }
        }
    });
    let offset_s = utc_offset_s();
    view! {
        <section class="card controls" aria-label="Dashboard controls">
            {kind.needs_name().then(|| {
                let targets = LocalResource::new(api::metrics_targets);
                loaded("services and workloads", targets, move |t: MetricsTargets| view! { <TargetPicker kind=kind targets=t url=url go=go /> })
            })}
            <div class="control-row">
                <fieldset class="control segmented" aria-label="Time range">
                    <legend>"Range"</legend>
                    {PRESETS
                        .into_iter()
                        .map(|p| {
                            view! {
                                <button
                                    type="button"
                                    aria-pressed=move || (url.get().preset() == p).to_string()
                                    on:click=move |_| go.run(PrometheusUrl { range: p.to_owned(), ..url.get_untracked() })
                                >
                                    {p}
                                </button>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <AutoRefresh
                    value=Signal::derive(move || url.get().refresh)
                    on_change=Callback::new(move |refresh| go.run(PrometheusUrl { refresh, ..url.get_untracked() }))
                    refetch=Callback::new(move |_| dashboard.refetch())
                />
            </div>
        </section>
        {loaded("dashboard", dashboard, move |d: Option<Dashboard>| match d {
            None => view! {
                <p class="card hint">
                    {format!("Choose a namespace and a {} to see its dashboard.", kind.as_str())}
                </p>
            }
            .into_any(),
            Some(d) => view! { <DashboardBody dashboard=d offset_s=offset_s /> }.into_any(),
        })}
    }
}

/// Namespace and service (or workload) pickers.
#[component]
fn TargetPicker(
    kind: DashboardKind,
    targets: MetricsTargets,
    url: Memo<PrometheusUrl>,
    go: Callback<PrometheusUrl>,
) -> impl IntoView {
    // Plain shared data rather than a StoredValue: when the tab changes,
    // effects already queued by the same URL change may still run once
    // after this view is disposed, and must not touch a disposed value.
    let targets = std::sync::Arc::new(targets);
    let noun = if kind == DashboardKind::Workload {
        "Workload"
    } else {
        "Service"
    };
    let namespaces: Vec<String> = targets.namespaces.iter().map(|n| n.name.clone()).collect();
    let names = move || {
        let u = url.try_get().unwrap_or_default();
        targets
            .namespaces
            .iter()
            .find(|n| n.name == u.namespace)
            .map(|n| {
                if kind == DashboardKind::Workload {
                    n.workloads.clone()
                } else {
                    n.services.clone()
                }
            })
            .unwrap_or_default()
    };
    view! {
        <div class="control-row">
            <label class="control">
                <span>"Namespace"</span>
                <select
                    aria-label="Namespace"
                    prop:value=move || url.try_get().unwrap_or_default().namespace
                    on:change=move |ev| go.run(PrometheusUrl { namespace: event_target_value(&ev), name: String::new(), ..url.get_untracked() })
                >
                    <option value="">"Choose a namespace"</option>
                    {namespaces
                        .into_iter()
                        .map(|n| view! { <option value=n.clone()>{n.clone()}</option> })
                        .collect_view()}
                </select>
            </label>
            <label class="control">
                <span>{noun}</span>
                <select
                    aria-label=noun
                    prop:value=move || url.try_get().unwrap_or_default().name
                    on:change=move |ev| go.run(PrometheusUrl { name: event_target_value(&ev), ..url.get_untracked() })
                >
                    <option value="">{format!("Choose a {}", noun.to_lowercase())}</option>
                    {move || names().into_iter().map(|n| view! { <option value=n.clone()>{n.clone()}</option> }).collect_view()}
                </select>
            </label>
        </div>
    }
}

/// Panels (and, for the mesh, the per-service table) of one dashboard.
#[component]
fn DashboardBody(dashboard: Dashboard, offset_s: i64) -> impl IntoView {
    let (start, end) = (dashboard.start, dashboard.end);
    let subject = match (&dashboard.namespace, &dashboard.name) {
        (Some(ns), Some(name)) => format!("{name} in {ns}"),
        _ => "the whole mesh".to_owned(),
    };
    let table = (dashboard.kind == DashboardKind::Mesh).then(
        || view! { <ServiceTable rows=dashboard.services queries=dashboard.service_queries /> },
    );
    view! {
        <p class="report-summary">
            {format!(
                "{subject} · {} to {} · a point every {}",
                format::datetime(start, offset_s),
                format::datetime(end, offset_s),
                format::duration_words(dashboard.step),
            )}
        </p>
        <div class="chart-grid">
            {dashboard
                .panels
                .into_iter()
                .map(|panel| view! { <DashboardPanel panel=panel start=start end=end offset_s=offset_s /> })
                .collect_view()}
        </div>
        {table}
    }
}

/// The mesh dashboard's per-service table; each service opens its dashboard.
#[component]
fn ServiceTable(rows: Vec<ServiceRow>, queries: Vec<crate::types::PanelQuery>) -> impl IntoView {
    let opt = |v: Option<f64>, unit: Unit| {
        v.map(|v| format::value(v, unit))
            .unwrap_or_else(|| "–".into())
    };
    let body = if rows.is_empty() {
        view! { <tr><td colspan="5" class="empty-row">"No service had traffic in this range."</td></tr> }.into_any()
    } else {
        rows.into_iter()
            .map(|r| {
                let href = PrometheusUrl {
                    tab: DashboardKind::Service.as_str().into(),
                    namespace: r.namespace.clone(),
                    name: r.service.clone(),
                    ..PrometheusUrl::default()
                }
                .page_url();
                view! {
                    <tr>
                        <td><a href=href>{r.service}</a></td>
                        <td>{r.namespace}</td>
                        <td class="num">{format::value(r.requests_per_s, Unit::RequestsPerSecond)}</td>
                        <td class="num">{opt(r.success_rate, Unit::Ratio)}</td>
                        <td class="num">{opt(r.p99_ms, Unit::Milliseconds)}</td>
                    </tr>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <section class="card service-table">
            <h2>"Services"</h2>
            <table class="data-table" aria-label="Services">
                <thead>
                    <tr>
                        <th scope="col">"Service"</th>
                        <th scope="col">"Namespace"</th>
                        <th scope="col" class="num">"Requests"</th>
                        <th scope="col" class="num">"Success rate"</th>
                        <th scope="col" class="num">"p99"</th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
            <details class="promql">
                <summary>"PromQL"</summary>
                {queries.into_iter().map(|q| view! { <p><span class="q-name">{q.legend}</span><code>{q.promql}</code></p> }).collect_view()}
            </details>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_like_prometheus() {
        let m: BTreeMap<String, String> = [
            ("__name__".to_string(), "up".to_string()),
            ("job".to_string(), "a\"b".to_string()),
        ]
        .into();
        assert_eq!(series_label(&m), r#"up{job="a\"b"}"#);
        assert_eq!(series_label(&BTreeMap::new()), "{}");
        let only_name: BTreeMap<String, String> =
            [("__name__".to_string(), "up".to_string())].into();
        assert_eq!(series_label(&only_name), "up");
    }

    #[test]
    fn matrices_become_lines_with_gaps() {
        let m = vec![PromRangeSeries {
            metric: BTreeMap::new(),
            values: vec![
                (0.0, "1".into()),
                (15.0, "NaN".into()),
                (30.0, "+Inf".into()),
                (45.0, "2.5".into()),
            ],
        }];
        assert_eq!(
            matrix_series(&m)[0].points,
            vec![
                (0.0, Some(1.0)),
                (15.0, None),
                (30.0, None),
                (45.0, Some(2.5))
            ]
        );
    }

    #[test]
    fn history_is_recent_first_unique_and_short() {
        let h: Vec<String> = (0..20).map(|i| format!("q{i}")).collect();
        let next = push_history(&h, "q5");
        assert_eq!(next.len(), 20);
        assert_eq!(next[0], "q5");
        assert_eq!(next.iter().filter(|q| *q == "q5").count(), 1);
        let next = push_history(&h, "new");
        assert_eq!(
            (next[0].as_str(), next.len(), next.last().unwrap().as_str()),
            ("new", 20, "q18")
        );
    }

    #[test]
    fn urls_keep_only_what_the_tab_uses() {
        let u = PrometheusUrl {
            tab: "service".into(),
            namespace: "bookinfo".into(),
            name: "details".into(),
            range: "15m".into(),
            refresh: "1m".into(),
        };
        assert_eq!(
            u.page_url(),
            "/prometheus?tab=service&namespace=bookinfo&name=details&range=15m&refresh=1m"
        );
        assert_eq!(
            u.api_query(DashboardKind::Service)
                .map(|q| format::query_of(&q))
                .as_deref(),
            Some("namespace=bookinfo&name=details&range=15m")
        );
        let mesh = PrometheusUrl {
            tab: "mesh".into(),
            ..u.clone()
        };
        assert_eq!(mesh.page_url(), "/prometheus?tab=mesh&range=15m&refresh=1m");
        let console = PrometheusUrl {
            tab: "console".into(),
            ..u.clone()
        };
        assert_eq!(console.page_url(), "/prometheus");
        let unchosen = PrometheusUrl {
            name: String::new(),
            ..u
        };
        assert_eq!(unchosen.api_query(DashboardKind::Workload), None);
        assert_eq!(Tab::parse("nonsense"), Tab::Console);
        assert_eq!(console_step(3600.0), 15.0);
        assert_eq!(console_step(60.0), 1.0);
    }
}
