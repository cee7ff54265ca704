//! The graph's controls: namespaces, graph type, window, edge labels, replay,
//! display toggles, find/hide and the focus bar; they edit the URL.

use leptos::prelude::*;

use crate::api;
use crate::components::state::loaded;
use crate::components::utc_offset_s;
use crate::format;
use crate::graph::{self, EdgeLabel};
use crate::pages::istio;
use crate::types::{Aggregate, Graph, GraphType, Me};

use super::canvas::GraphArea;
use super::{GraphUrl, Selection};

/// Windows offered (the server's list).
const WINDOWS: [&str; 9] = ["1m", "5m", "10m", "30m", "1h", "3h", "6h", "12h", "1d"];

#[component]
pub(super) fn GraphWithControls(
    me: Me,
    url: Memo<GraphUrl>,
    go: Callback<GraphUrl>,
) -> impl IntoView {
    let mut visible_ns: Vec<String> = me.namespaces.iter().map(|n| n.name.clone()).collect();
    visible_ns.sort_by(|a, b| format::natural_cmp(a, b));
    // Without a choice in the URL: every visible namespace but the system ones.
    let defaults: Vec<String> = visible_ns
        .iter()
        .filter(|n| !n.starts_with("kube-") && n.as_str() != "istio-system")
        .take(8)
        .cloned()
        .collect();
    let effective = Memo::new(move |_| {
        let u = url.get();
        if u.namespaces.is_empty() {
            GraphUrl {
                namespaces: defaults.join(","),
                ..u
            }
        } else {
            u
        }
    });
    let graph = LocalResource::new(move || {
        let q = effective.get().api_query();
        async move { api::graph(&q).await }
    });
    // The services' Istio config, for badges and the side panel; a cluster
    // without Istio (or a failed read) just shows none.
    let config = LocalResource::new(api::istio_config);
    let config_index = Signal::derive(move || {
        config
            .get()
            .and_then(|r| r.ok())
            .map(|l| std::sync::Arc::new(istio::config_index(&l)))
    });
    let selection = RwSignal::new(None::<Selection>);
    let set = move |f: &dyn Fn(&mut GraphUrl)| {
        let mut next = effective.get_untracked();
        f(&mut next);
        go.run(next);
    };
    // Namespaces opened by zooming in on them (the next drawing starts on
    // them).
    let zoom_into = RwSignal::new(None::<Vec<String>>);
    // Expanding namespaces of the overview (a namespace's node, or a
    // project's), or folding them back.
    let on_expand = Callback::new(move |(namespaces, on): (Vec<String>, bool)| {
        let next = namespaces
            .iter()
            .fold(effective.get_untracked(), |u, ns| u.with_expanded(ns, on));
        go.run(next);
    });
    let offset_s = utc_offset_s();
    let (replay_text, set_replay_text) = signal(String::new());
    let find_error = Memo::new(move |_| graph::parse_expr(&url.get().find).err());
    let hide_error = Memo::new(move |_| graph::parse_expr(&url.get().hide).err());
    let toggle =
        move |label: &'static str, get: fn(&GraphUrl) -> bool, put: fn(&mut GraphUrl, bool)| {
            view! {
                <label class="toggle">
                    <input
                        type="checkbox"
                        prop:checked=move || get(&effective.get())
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            set(&|u: &mut GraphUrl| put(u, on))
                        }
                    />
                    {label}
                </label>
            }
        };
    view! {
        <section class="card controls graph-controls" aria-label="Graph controls">
            <div class="control-row">
                <fieldset class="control namespace-picker" aria-label="Namespaces">
                    <legend>"Namespaces"</legend>
                    <div class="checks">
                        {visible_ns
                            .into_iter()
                            .map(|ns| {
                                let name = ns.clone();
                                let checked = move || effective.get().namespace_list().contains(&name);
                                let ns2 = ns.clone();
                                view! {
                                    <label class="toggle">
                                        <input
                                            type="checkbox"
                                            prop:checked=checked
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                let ns = ns2.clone();
                                                set(&|u: &mut GraphUrl| {
                                                    let mut list = u.namespace_list();
                                                    list.retain(|n| *n != ns);
                                                    if on {
                                                        list.push(ns.clone());
                                                    }
                                                    list.sort();
                                                    u.namespaces = list.join(",");
                                                })
                                            }
                                        />
                                        {ns}
                                    </label>
                                }
                            })
                            .collect_view()}
                    </div>
                </fieldset>
                <label class="control">
                    <span>"Graph type"</span>
                    <select
                        aria-label="Graph type"
                        prop:value=move || effective.get().graph_type().as_str()
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            set(&|u: &mut GraphUrl| u.graph_type = v.clone())
                        }
                    >
                        {GraphType::ALL.into_iter().map(|t| view! { <option value=t.as_str()>{t.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="control">
                    <span>"Overview"</span>
                    <select
                        aria-label="Overview"
                        prop:value=move || effective.get().aggregate_kind().map_or("", Aggregate::as_str)
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            set(&|u: &mut GraphUrl| {
                                u.aggregate = v.clone();
                                u.expand.clear();
                            })
                        }
                    >
                        <option value="">"Off (every node)"</option>
                        {Aggregate::ALL.map(|a| view! { <option value=a.as_str()>{format!("One node per {}", a.as_str())}</option> })}
                    </select>
                </label>
                <label class="control">
                    <span>"Window"</span>
                    <select
                        aria-label="Window"
                        prop:value=move || effective.get().window().to_owned()
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            set(&|u: &mut GraphUrl| u.window = v.clone())
                        }
                    >
                        {WINDOWS.into_iter().map(|w| view! { <option value=w>{format!("Last {w}")}</option> }).collect_view()}
                    </select>
                </label>
                <label class="control">
                    <span>"Edge labels"</span>
                    <select
                        aria-label="Edge labels"
                        prop:value=move || EdgeLabel::parse(&url.get().labels).as_str()
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            set(&|u: &mut GraphUrl| u.labels = v.clone())
                        }
                    >
                        {EdgeLabel::ALL.into_iter().map(|m| view! { <option value=m.as_str()>{m.label()}</option> }).collect_view()}
                    </select>
                </label>
                <div class="control replay">
                    <span>"Replay"</span>
                    <div class="inline">
                        <input
                            type="datetime-local"
                            aria-label="Replay time"
                            prop:value=move || {
                                let t = url.get().query_time.parse::<f64>().ok();
                                t.map(|t| format::datetime_local(t, offset_s)).unwrap_or_else(|| replay_text.get())
                            }
                            on:input=move |ev| set_replay_text.set(event_target_value(&ev))
                        />
                        <button
                            type="button"
                            on:click=move |_| {
                                if let Some(t) = format::parse_datetime_local(&replay_text.get_untracked(), offset_s) {
                                    set(&|u: &mut GraphUrl| u.query_time = format!("{t:.0}"))
                                }
                            }
                        >
                            "Replay"
                        </button>
                        <button
                            type="button"
                            aria-pressed=move || url.get().query_time.is_empty().to_string()
                            on:click=move |_| set(&|u: &mut GraphUrl| u.query_time.clear())
                        >
                            "Live"
                        </button>
                        <button type="button" on:click=move |_| { graph.refetch(); config.refetch(); }>"Refresh"</button>
                    </div>
                </div>
            </div>
            <div class="control-row">
                <fieldset class="control toggles" aria-label="Display">
                    <legend>"Display"</legend>
                    <div class="checks">
                        {toggle("Idle nodes", |u| u.idle == "1", |u, on| u.idle = if on { "1".into() } else { String::new() })}
                        {toggle("Service nodes", |u| u.services != "0", |u, on| u.services = if on { String::new() } else { "0".into() })}
                        {toggle("Security", |u| u.lock == "1", |u, on| u.lock = if on { "1".into() } else { String::new() })}
                        {toggle("Namespace boxes", |u| u.boxes != "0", |u, on| u.boxes = if on { String::new() } else { "0".into() })}
                    </div>
                </fieldset>
                <ExprInput label="Find" placeholder="e.g. rt > 1000, !healthy, name = reviews" value=Signal::derive(move || url.get().find) error=find_error on_set=Callback::new(move |v: String| set(&|u: &mut GraphUrl| u.find = v.clone())) />
                <ExprInput label="Hide" placeholder="e.g. idle, ns = legacy, rps < 0.1" value=Signal::derive(move || url.get().hide) error=hide_error on_set=Callback::new(move |v: String| set(&|u: &mut GraphUrl| u.hide = v.clone())) />
            </div>
        </section>
        <Show when=move || !url.get().focus.is_empty()>
            <section class="focus-bar" aria-label="Focus">
                <span>
                    "Showing only "<strong title=move || url.get().focus>{move || graph::name_from_id(&url.get().focus)}</strong>", its callers and its callees, up to "
                </span>
                <select
                    aria-label="Focus depth"
                    prop:value=move || { let d = url.get().depth; if d.is_empty() { "1".to_owned() } else { d } }
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        set(&|u: &mut GraphUrl| u.depth = if v == "1" { String::new() } else { v.clone() })
                    }
                >
                    {(1..=6).map(|d| view! { <option value=d.to_string()>{d.to_string()}</option> }).collect_view()}
                </select>
                <span>" call(s) away."</span>
                <button type="button" on:click=move |_| set(&|u: &mut GraphUrl| { u.focus.clear(); u.depth.clear(); })>
                    "Show the whole graph"
                </button>
            </section>
        </Show>
        {loaded("graph", graph, move |g: Graph| view! { <GraphArea graph=g url=url effective=effective selection=selection config=config_index on_expand=on_expand zoom_into=zoom_into /> })}
    }
}

#[component]
fn ExprInput(
    label: &'static str,
    placeholder: &'static str,
    value: Signal<String>,
    error: Memo<Option<String>>,
    on_set: Callback<String>,
) -> impl IntoView {
    view! {
        <label class="control expr">
            <span>{label}</span>
            <input
                type="search"
                aria-label=label
                placeholder=placeholder
                prop:value=move || value.get()
                on:change=move |ev| on_set.run(event_target_value(&ev))
            />
            <Show when=move || error.get().is_some()>
                <small class="expr-error" role="alert">{move || error.get().unwrap_or_default()}</small>
            </Show>
        </label>
    }
}
