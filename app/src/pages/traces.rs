//! Traces: search by service, operation, tags, duration and time; a scatter
//! plot and a table of results; a trace's span waterfall with the likely
//! root cause singled out. Search and the open trace live in the URL.

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;

use crate::api;
use crate::charts::{TracePoint, scatter_svg};
use crate::components::layout::PageHeader;
use crate::components::state::loaded;
use crate::components::utc_offset_s;
use crate::format;
use crate::nav::TRACES;
use crate::types::{
    SpanView, TraceDetail, TraceSearch, TraceSearchQuery, TraceServices, TraceServicesQuery,
    range_param, trace_duration_param,
};

/// Range choices for a search.
const RANGES: [(&str, &str); 6] = [
    ("15m", "Last 15 minutes"),
    ("1h", "Last hour"),
    ("3h", "Last 3 hours"),
    ("6h", "Last 6 hours"),
    ("1d", "Last day"),
    ("2d", "Last 2 days"),
];
/// The lookback choice standing for the URL's custom start and end.
const CUSTOM: &str = "custom";

/// The lookback choices: the presets, `current` too when it is another
/// range (links from the graph or metrics pages carry theirs, e.g. `10m`),
/// and `custom` (its label) first when the URL has a start and end.
fn lookback_options(current: &str, custom: Option<String>) -> Vec<(String, String)> {
    let mut options: Vec<(String, String)> = custom
        .map(|label| (CUSTOM.to_owned(), label))
        .into_iter()
        .collect();
    options.extend(
        RANGES
            .iter()
            .map(|(v, label)| (v.to_string(), label.to_string())),
    );
    if !current.is_empty() && current != CUSTOM && !RANGES.iter().any(|(v, _)| *v == current) {
        options.push((current.to_owned(), format!("Last {current}")));
    }
    options
}

/// Colours given to services, by a hash of the name.
const SERVICE_COLOURS: [&str; 10] = [
    "#1d4ed8", "#0f766e", "#7c3aed", "#c2410c", "#0369a1", "#a16207", "#be185d", "#15803d",
    "#4338ca", "#9f1239",
];

/// The page's state, as carried in its URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TracesUrl {
    /// Service.
    pub service: String,
    /// Operation.
    pub operation: String,
    /// `key=value` pairs separated by spaces.
    pub tags: String,
    /// e.g. `100ms`.
    pub min_duration: String,
    /// e.g. `2s`.
    pub max_duration: String,
    /// e.g. `1h`.
    pub range: String,
    /// Custom range start (Unix seconds); with `end`, replaces `range`.
    pub start: String,
    /// Custom range end (Unix seconds).
    pub end: String,
    /// Most traces.
    pub limit: String,
    /// The open trace, if any.
    pub trace: String,
}

impl TracesUrl {
    /// Reads the state from a query map.
    pub fn from_query(map: &ParamsMap) -> Self {
        let get = |k: &str| map.get(k).unwrap_or_default();
        TracesUrl {
            service: get("service"),
            operation: get("operation"),
            tags: get("tags"),
            min_duration: get("minDuration"),
            max_duration: get("maxDuration"),
            range: get("range"),
            start: get("start"),
            end: get("end"),
            limit: get("limit"),
            trace: get("trace"),
        }
    }

    /// Whether a custom start and end replace the lookback.
    pub fn is_custom(&self) -> bool {
        !self.start.is_empty() && !self.end.is_empty()
    }

    fn search_pairs(&self) -> Vec<(&'static str, String)> {
        let custom = self.is_custom();
        let when = |v: &String, on: bool| if on { v.clone() } else { String::new() };
        vec![
            ("service", self.service.clone()),
            ("operation", self.operation.clone()),
            ("tags", self.tags.clone()),
            ("minDuration", self.min_duration.clone()),
            ("maxDuration", self.max_duration.clone()),
            ("range", when(&self.range, !custom)),
            ("start", when(&self.start, custom)),
            ("end", when(&self.end, custom)),
            ("limit", self.limit.clone()),
        ]
    }

    /// `GET /api/traces`'s query for this state, or what is wrong with
    /// the durations or numbers typed in.
    pub fn api_query(&self) -> Result<TraceSearchQuery, String> {
        let text = |v: &String| (!v.is_empty()).then(|| v.clone());
        let duration = |name: &str, v: &String| match v.trim() {
            "" => Ok(None),
            v => trace_duration_param(name, v).map(Some),
        };
        let number = |name: &str, v: &String| match v.trim() {
            "" => Ok(None),
            v => v
                .parse::<f64>()
                .map(Some)
                .map_err(|_| format!("{name} {v:?} is not a number")),
        };
        let custom = self.is_custom();
        Ok(TraceSearchQuery {
            service: text(&self.service),
            operation: text(&self.operation),
            tags: text(&self.tags),
            min_duration: duration("minDuration", &self.min_duration)?,
            max_duration: duration("maxDuration", &self.max_duration)?,
            range: if custom {
                None
            } else {
                match self.range.trim() {
                    "" => None,
                    r => Some(range_param(r)?),
                }
            },
            start: if custom {
                number("start", &self.start)?
            } else {
                None
            },
            end: if custom {
                number("end", &self.end)?
            } else {
                None
            },
            limit: match self.limit.trim() {
                "" => None,
                l => Some(
                    l.parse()
                        .map_err(|_| format!("limit {l:?} is not a whole number"))?,
                ),
            },
        })
    }

    /// The page URL for this state.
    pub fn page_url(&self) -> String {
        let mut pairs = self.search_pairs();
        pairs.push(("trace", self.trace.clone()));
        let qs = format::query_string(&pairs);
        if qs.is_empty() {
            TRACES.path.to_owned()
        } else {
            format!("{}?{qs}", TRACES.path)
        }
    }
}

/// A stable colour for a service name.
pub fn service_colour(service: &str) -> &'static str {
    let hash = service
        .bytes()
        .fold(5381u32, |h, b| h.wrapping_mul(33) ^ u32::from(b));
    SERVICE_COLOURS[hash as usize % SERVICE_COLOURS.len()]
}

/// `/traces`.
#[component]
pub fn TracesPage() -> impl IntoView {
    let query = use_query_map();
    let url = Memo::new(move |_| TracesUrl::from_query(&query.read()));
    let navigate = use_navigate();
    let go = Callback::new(move |next: TracesUrl| {
        navigate(&next.page_url(), NavigateOptions::default())
    });
    let offset_s = utc_offset_s();
    view! {
        <PageHeader item=TRACES />
        {move || {
            let u = url.get();
            if u.trace.is_empty() {
                view! { <SearchView url=url go=go offset_s=offset_s /> }.into_any()
            } else {
                view! { <TraceView url=u go=go offset_s=offset_s /> }.into_any()
            }
        }}
    }
}

#[component]
fn SearchView(url: Memo<TracesUrl>, go: Callback<TracesUrl>, offset_s: i64) -> impl IntoView {
    let services = LocalResource::new(move || {
        let service = url.get().service;
        api::trace_services(TraceServicesQuery {
            service: (!service.is_empty()).then_some(service),
        })
    });
    let results = LocalResource::new(move || {
        let u = url.get();
        async move {
            if u.service.is_empty() {
                Ok(None)
            } else {
                match u.api_query() {
                    Ok(q) => api::trace_search(q).await.map(Some),
                    Err(message) => Err(api::ApiError::bad_request(message)),
                }
            }
        }
    });
    view! {
        <section class="card controls" aria-label="Trace search">
            {loaded("services", services, move |s: TraceServices| view! { <SearchForm services=s url=url go=go offset_s=offset_s /> })}
        </section>
        {loaded("traces", results, move |found: Option<TraceSearch>| match found {
            None => view! { <p class="hint-box">"Choose a service to search its traces."</p> }.into_any(),
            Some(found) => view! { <Results found=found url=url go=go offset_s=offset_s /> }.into_any(),
        })}
    }
}

#[component]
fn SearchForm(
    services: TraceServices,
    url: Memo<TracesUrl>,
    go: Callback<TracesUrl>,
    offset_s: i64,
) -> impl IntoView {
    let current = url.get_untracked();
    let (service, set_service) = signal(current.service.clone());
    let (operation, set_operation) = signal(current.operation.clone());
    let (tags, set_tags) = signal(current.tags.clone());
    let (min_d, set_min_d) = signal(current.min_duration.clone());
    let (max_d, set_max_d) = signal(current.max_duration.clone());
    let (range, set_range) = signal(if current.is_custom() {
        CUSTOM.to_owned()
    } else if current.range.is_empty() {
        "1h".to_owned()
    } else {
        current.range.clone()
    });
    let custom_label = current.is_custom().then(|| {
        let at = |v: &str| {
            v.parse::<f64>()
                .map(|t| format::datetime(t, offset_s))
                .unwrap_or_else(|_| v.to_owned())
        };
        format!("{} to {}", at(&current.start), at(&current.end))
    });
    let (limit, set_limit) = signal(if current.limit.is_empty() {
        "20".to_owned()
    } else {
        current.limit.clone()
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let chosen = range.get_untracked();
        let custom = chosen == CUSTOM;
        let before = url.get_untracked();
        go.run(TracesUrl {
            service: service.get_untracked(),
            operation: operation.get_untracked(),
            tags: tags.get_untracked().trim().to_owned(),
            min_duration: min_d.get_untracked().trim().to_owned(),
            max_duration: max_d.get_untracked().trim().to_owned(),
            range: if custom { String::new() } else { chosen },
            start: if custom { before.start } else { String::new() },
            end: if custom { before.end } else { String::new() },
            limit: limit.get_untracked(),
            trace: String::new(),
        });
    };
    let operations = services.operations.clone();
    view! {
        <form class="search-form" on:submit=submit>
            <div class="control-row">
                <label class="control">
                    <span>"Service"</span>
                    <select
                        aria-label="Service"
                        prop:value=service
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            set_service.set(value.clone());
                            set_operation.set(String::new());
                            // Load the new service's operations.
                            go.run(TracesUrl { service: value, operation: String::new(), trace: String::new(), ..url.get_untracked() });
                        }
                    >
                        <option value="">"Choose a service"</option>
                        {services.services.iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="control">
                    <span>"Operation"</span>
                    <select aria-label="Operation" prop:value=operation on:change=move |ev| set_operation.set(event_target_value(&ev))>
                        <option value="">"All operations"</option>
                        {operations.into_iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="control wide">
                    <span>"Tags"</span>
                    <input type="text" aria-label="Tags" placeholder="error=true http.status_code=503" prop:value=tags on:input=move |ev| set_tags.set(event_target_value(&ev)) />
                </label>
            </div>
            <div class="control-row">
                <label class="control narrow">
                    <span>"Min duration"</span>
                    <input type="text" aria-label="Min duration" placeholder="100ms" prop:value=min_d on:input=move |ev| set_min_d.set(event_target_value(&ev)) />
                </label>
                <label class="control narrow">
                    <span>"Max duration"</span>
                    <input type="text" aria-label="Max duration" placeholder="2s" prop:value=max_d on:input=move |ev| set_max_d.set(event_target_value(&ev)) />
                </label>
                <label class="control">
                    <span>"Lookback"</span>
                    <select aria-label="Lookback" prop:value=range on:change=move |ev| set_range.set(event_target_value(&ev))>
                        {lookback_options(&range.get_untracked(), custom_label.clone()).into_iter().map(|(v, label)| view! { <option value=v>{label}</option> }).collect_view()}
                    </select>
                </label>
                <label class="control narrow">
                    <span>"Limit"</span>
                    <input type="number" min="1" max="500" aria-label="Limit" prop:value=limit on:input=move |ev| set_limit.set(event_target_value(&ev)) />
                </label>
                <button type="submit" class="primary">"Find traces"</button>
            </div>
        </form>
    }
}

#[component]
fn Results(
    found: TraceSearch,
    url: Memo<TracesUrl>,
    go: Callback<TracesUrl>,
    offset_s: i64,
) -> impl IntoView {
    if found.traces.is_empty() {
        return view! { <p class="hint-box">"No traces match this search."</p> }.into_any();
    }
    let points: Vec<TracePoint> = found
        .traces
        .iter()
        .map(|t| TracePoint {
            t: t.start_us as f64 / 1e6,
            duration_ms: t.duration_us as f64 / 1e3,
            error: t.error_count > 0,
        })
        .collect();
    let plot = scatter_svg(&points, (900, 200), offset_s).unwrap_or_default();
    let errors = points.iter().filter(|p| p.error).count();
    let rows = found
        .traces
        .into_iter()
        .map(|t| {
            let href = TracesUrl {
                trace: t.trace_id.clone(),
                ..url.get_untracked()
            }
            .page_url();
            let open = {
                let id = t.trace_id.clone();
                move |ev: leptos::ev::MouseEvent| {
                    ev.prevent_default();
                    go.run(TracesUrl { trace: id.clone(), ..url.get_untracked() });
                }
            };
            let label = format!("{}: {}", t.root_service, t.root_operation);
            let failed = t.error_count > 0;
            view! {
                <tr class:row-error=failed>
                    <td>
                        <a href=href on:click=open>{label}</a>
                    </td>
                    <td class="num">{t.span_count}</td>
                    <td class="num">
                        {if t.error_count > 0 {
                            view! { <span class="badge badge-bad">{format!("{} errors", t.error_count)}</span> }.into_any()
                        } else {
                            view! { <span class="muted">"0"</span> }.into_any()
                        }}
                    </td>
                    <td class="num">{format::value(t.duration_us as f64 / 1e3, crate::types::Unit::Milliseconds)}</td>
                    <td>{format::datetime(t.start_us as f64 / 1e6, offset_s)}</td>
                    <td class="services">{t.services.len()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card">
            <h2>{format!("{} traces, {} with errors", points.len(), errors)}</h2>
            <div class="chart-svg" role="img" aria-label="Trace durations over time" inner_html=plot></div>
        </section>
        <section class="card">
            <table class="data-table" aria-label="Traces">
                <thead>
                    <tr>
                        <th scope="col">"Root service and operation"</th>
                        <th scope="col" class="num">"Spans"</th>
                        <th scope="col" class="num">"Errors"</th>
                        <th scope="col" class="num">"Duration"</th>
                        <th scope="col">"Started"</th>
                        <th scope="col">"Services"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
    .into_any()
}

#[component]
fn TraceView(url: TracesUrl, go: Callback<TracesUrl>, offset_s: i64) -> impl IntoView {
    let id = url.trace.clone();
    let trace = LocalResource::new(move || api::trace(id.clone()));
    let back = TracesUrl {
        trace: String::new(),
        ..url
    };
    let back_href = back.page_url();
    view! {
        <p>
            <a
                href=back_href
                on:click=move |ev| {
                    ev.prevent_default();
                    go.run(back.clone());
                }
            >
                "← Back to the search results"
            </a>
        </p>
        {loaded("trace", trace, move |t: TraceDetail| view! { <Waterfall trace=t offset_s=offset_s /> })}
    }
}

/// Whether a span is hidden because an ancestor is collapsed.
fn hidden(
    span: &SpanView,
    parents: &HashMap<String, Option<String>>,
    collapsed: &HashSet<String>,
) -> bool {
    let mut current = span.parent_id.clone();
    let mut guard = 0;
    while let Some(p) = current {
        if collapsed.contains(&p) {
            return true;
        }
        current = parents.get(&p).cloned().flatten();
        guard += 1;
        if guard > 10_000 {
            break;
        }
    }
    false
}

#[component]
fn Waterfall(trace: TraceDetail, offset_s: i64) -> impl IntoView {
    let trace = StoredValue::new(trace);
    let (collapsed, set_collapsed) = signal(HashSet::<String>::new());
    let (selected, set_selected) = signal(trace.with_value(|t| t.root_cause.clone()));
    let parents: HashMap<String, Option<String>> = trace.with_value(|t| {
        t.spans
            .iter()
            .map(|s| (s.span_id.clone(), s.parent_id.clone()))
            .collect()
    });
    let parents = StoredValue::new(parents);
    let has_children: HashSet<String> =
        trace.with_value(|t| t.spans.iter().filter_map(|s| s.parent_id.clone()).collect());
    let has_children = StoredValue::new(has_children);
    let (start, total) = trace.with_value(|t| (t.start_us, t.duration_us.max(1)));
    let header = trace.with_value(|t| {
        let errors = t.spans.iter().filter(|s| s.error).count();
        format!(
            "{} spans · {} services · {} errors · {} · started {}",
            t.spans.len(),
            t.services.len(),
            errors,
            format::value(t.duration_us as f64 / 1e3, crate::types::Unit::Milliseconds),
            format::datetime(t.start_us as f64 / 1e6, offset_s)
        )
    });
    let cause = trace.with_value(|t| {
        t.root_cause
            .as_ref()
            .and_then(|id| t.spans.iter().find(|s| &s.span_id == id))
            .cloned()
    });
    let cause_id = cause
        .as_ref()
        .map(|c| c.span_id.clone())
        .unwrap_or_default();
    let rows = move || {
        let collapsed = collapsed.get();
        trace.with_value(|t| {
            t.spans
                .iter()
                .filter(|s| !parents.with_value(|p| hidden(s, p, &collapsed)))
                .map(|s| {
                    let left = (s.start_us - start) as f64 / total as f64 * 100.0;
                    let width = (s.duration_us as f64 / total as f64 * 100.0).max(0.3);
                    let id = s.span_id.clone();
                    let id_toggle = s.span_id.clone();
                    let expandable = has_children.with_value(|h| h.contains(&s.span_id));
                    let is_collapsed = collapsed.contains(&s.span_id);
                    let is_cause = s.span_id == cause_id;
                    let colour = service_colour(&s.service);
                    let name = format!("{} {}", s.service, s.operation);
                    let label = format!(
                        "{name}, {}{}{}",
                        format::value(s.duration_us as f64 / 1e3, crate::types::Unit::Milliseconds),
                        if s.error { ", error" } else { "" },
                        if is_cause { ", likely root cause" } else { "" }
                    );
                    view! {
                        <div
                            class="span-row"
                            class:span-error=s.error
                            class:span-cause=is_cause
                            class:span-selected=move || selected.get().as_deref() == Some(id.as_str())
                            role="row"
                            aria-label=label
                        >
                            <div class="span-name" style=format!("padding-left: {}px", 8 + s.depth * 14)>
                                {if expandable {
                                    view! {
                                        <button
                                            type="button"
                                            class="toggle"
                                            aria-label=if is_collapsed { "Expand" } else { "Collapse" }
                                            aria-expanded=(!is_collapsed).to_string()
                                            on:click=move |_| {
                                                let id = id_toggle.clone();
                                                set_collapsed.update(|c| {
                                                    if !c.remove(&id) {
                                                        c.insert(id);
                                                    }
                                                });
                                            }
                                        >
                                            {if is_collapsed { "▸" } else { "▾" }}
                                        </button>
                                    }
                                    .into_any()
                                } else {
                                    view! { <span class="toggle-space"></span> }.into_any()
                                }}
                                <span class="swatch" style=format!("background: {colour}")></span>
                                <button
                                    type="button"
                                    class="span-label"
                                    on:click={
                                        let id = s.span_id.clone();
                                        move |_| set_selected.set(Some(id.clone()))
                                    }
                                >
                                    <strong>{s.service.clone()}</strong>
                                    " "
                                    <span class="op">{s.operation.clone()}</span>
                                    {s.error.then(|| view! { <span class="err-mark" title="error">" ⚠"</span> })}
                                </button>
                            </div>
                            <div class="span-track">
                                {
                                    let (dur_class, dur_style) = duration_label_place(left, width);
                                    view! {
                                <div
                                    class="span-bar"
                                    style=format!("left: {left:.3}%; width: {width:.3}%; background: {}", if s.error { "#b91c1c" } else { colour })
                                ></div>
                                <span class=dur_class style=dur_style>
                                    {format::value(s.duration_us as f64 / 1e3, crate::types::Unit::Milliseconds)}
                                </span>
                                    }
                                }
                            </div>
                        </div>
                    }
                })
                .collect_view()
        })
    };
    let details = move || {
        let id = selected.get()?;
        trace
            .with_value(|t| t.spans.iter().find(|s| s.span_id == id).cloned())
            .map(|s| view! { <SpanDetails span=s offset_s=offset_s /> })
    };
    view! {
        <section class="card" aria-label="Trace">
            <h2 class="trace-title">{format!("Trace {}", trace.with_value(|t| t.trace_id.clone()))}</h2>
            <p class="report-summary">{header}</p>
            {cause.map(|c| {
                view! {
                    <div class="root-cause" role="note" aria-label="Likely root cause">
                        <strong>"Likely root cause: "</strong>
                        {format!("{} {} ({})", c.service, c.operation, format::value(c.duration_us as f64 / 1e3, crate::types::Unit::Milliseconds))}
                        <span class="hint">" — the deepest failing span on the error path"</span>
                    </div>
                }
            })}
            <div class="waterfall" role="table" aria-label="Span waterfall">
                <div class="span-row span-head" role="row">
                    <div class="span-name">"Service and operation"</div>
                    <div class="span-track">
                        <span>"0 ms"</span>
                        <span class="end">{format::value(total as f64 / 1e3, crate::types::Unit::Milliseconds)}</span>
                    </div>
                </div>
                {rows}
            </div>
        </section>
        {details}
    }
}

#[component]
fn SpanDetails(span: SpanView, offset_s: i64) -> impl IntoView {
    let title = format!("{} {}", span.service, span.operation);
    let body = if span.redacted {
        view! { <p class="hint">"This span belongs to a namespace you may not see: its tags and logs are withheld."</p> }.into_any()
    } else {
        let tags = span
            .tags
            .iter()
            .map(|(k, v)| view! { <tr><th scope="row">{k.clone()}</th><td>{v.clone()}</td></tr> })
            .collect_view();
        let logs = span
            .logs
            .iter()
            .map(|l| {
                let fields = l.fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
                view! { <li>{format!("{}  {fields}", format::datetime(l.timestamp_us as f64 / 1e6, offset_s))}</li> }
            })
            .collect_view();
        view! {
            <table class="data-table tags" aria-label="Span tags">
                <tbody>{tags}</tbody>
            </table>
            {(!span.logs.is_empty()).then(|| view! { <h3>"Logs"</h3> <ul class="logs">{logs}</ul> })}
        }
        .into_any()
    };
    view! {
        <section class="card" aria-label="Span details">
            <h2>{title}</h2>
            <p class="report-summary">
                {format!(
                    "{} · {} · span {}{}",
                    span.kind.clone().unwrap_or_else(|| "span".into()),
                    format::value(span.duration_us as f64 / 1e3, crate::types::Unit::Milliseconds),
                    span.span_id,
                    if span.error { " · error" } else { "" }
                )}
            </p>
            {body}
        </section>
    }
}

/// Where a span's duration label goes on its track (percentages of the
/// track): after the bar when there is room, else before it, else inside
/// its end (a bar spanning the whole trace).
fn duration_label_place(left: f64, width: f64) -> (&'static str, String) {
    let end = left + width;
    if end <= 85.0 {
        ("span-dur", format!("left: calc({end:.3}% + 4px)"))
    } else if left >= 15.0 {
        (
            "span-dur",
            format!("right: calc({:.3}% + 4px)", 100.0 - left),
        )
    } else {
        (
            "span-dur inside",
            format!("right: calc({:.3}% + 4px)", 100.0 - end),
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn duration_labels_stay_on_the_track() {
        use super::duration_label_place;
        // Room after the bar.
        assert_eq!(
            duration_label_place(10.0, 30.0),
            ("span-dur", "left: calc(40.000% + 4px)".into())
        );
        // A bar reaching the end with room before it: the label ends at its start.
        assert_eq!(
            duration_label_place(60.0, 40.0),
            ("span-dur", "right: calc(40.000% + 4px)".into())
        );
        // The whole trace: inside the bar's end.
        assert_eq!(
            duration_label_place(0.0, 100.0),
            ("span-dur inside", "right: calc(0.000% + 4px)".into())
        );
    }

    use super::*;

    #[test]
    fn service_colours_are_stable() {
        assert_eq!(
            service_colour("reviews.bookinfo"),
            service_colour("reviews.bookinfo")
        );
        let distinct: HashSet<&str> = ["a.x", "b.x", "c.x", "d.x", "e.x"]
            .iter()
            .map(|s| service_colour(s))
            .collect();
        assert!(distinct.len() >= 3);
    }

    #[test]
    fn a_linked_range_is_offered_as_a_lookback() {
        let presets = lookback_options("1h", None);
        assert_eq!(presets.len(), RANGES.len());
        assert_eq!(lookback_options("", None).len(), RANGES.len());
        let with_window = lookback_options("10m", None);
        assert_eq!(with_window.len(), RANGES.len() + 1);
        assert_eq!(
            with_window.last(),
            Some(&("10m".to_owned(), "Last 10m".to_owned()))
        );
        // A custom start and end come first, under their own label.
        let custom = lookback_options(CUSTOM, Some("10:00 to 11:00".into()));
        assert_eq!(custom.len(), RANGES.len() + 1);
        assert_eq!(custom[0], (CUSTOM.to_owned(), "10:00 to 11:00".to_owned()));
    }

    #[test]
    fn a_custom_range_replaces_the_lookback_in_the_search() {
        let mut u = TracesUrl {
            service: "reviews.bookinfo".into(),
            range: "6h".into(),
            start: "1700000000".into(),
            end: "1700003600".into(),
            ..TracesUrl::default()
        };
        let query = |u: &TracesUrl| format::query_of(&u.api_query().unwrap());
        assert_eq!(
            query(&u),
            "service=reviews.bookinfo&start=1700000000&end=1700003600"
        );
        u.end.clear();
        assert_eq!(query(&u), "service=reviews.bookinfo&range=6h");
        // What the server would refuse is refused before it is sent.
        u.min_duration = "fast".into();
        let err = u.api_query().unwrap_err();
        assert!(err.contains("minDuration \"fast\""), "{err}");
    }

    #[test]
    fn urls_round_trip_through_the_query_string() {
        let u = TracesUrl {
            service: "reviews.bookinfo".into(),
            tags: "error=true".into(),
            trace: "abc".into(),
            ..TracesUrl::default()
        };
        assert_eq!(
            u.page_url(),
            "/traces?service=reviews.bookinfo&tags=error%3Dtrue&trace=abc"
        );
        assert_eq!(
            format::query_of(&u.api_query().unwrap()),
            "service=reviews.bookinfo&tags=error%3Dtrue"
        );
    }

    #[test]
    fn collapsed_ancestors_hide_descendants() {
        let span = |id: &str, parent: Option<&str>| SpanView {
            span_id: id.into(),
            parent_id: parent.map(str::to_owned),
            depth: 0,
            service: "s".into(),
            operation: "o".into(),
            kind: None,
            start_us: 0,
            duration_us: 1,
            error: false,
            tags: vec![],
            logs: vec![],
            redacted: false,
        };
        let parents: HashMap<String, Option<String>> = [
            ("a".to_string(), None),
            ("b".to_string(), Some("a".to_string())),
            ("c".to_string(), Some("b".to_string())),
        ]
        .into();
        let collapsed: HashSet<String> = ["a".to_string()].into();
        assert!(hidden(&span("c", Some("b")), &parents, &collapsed));
        assert!(!hidden(&span("a", None), &parents, &collapsed));
    }
}
