//! The side panel: the selected node's or edge's details and the node's
//! traffic charts.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::api;
use crate::components::chart::MetricChart;
use crate::components::state::loaded;
use crate::components::utc_offset_s;
use crate::graph::{self, short_name};
use crate::links;
use crate::pages::istio;
use crate::types::{
    ChartKind, Direction, EdgeProtocol, GraphEdge, GraphNode, GraphNodeDetail, GraphQuery,
    MetricsQuery, MetricsReport,
};

use super::{GraphUrl, Selection, View};

fn fmt_opt(v: Option<f64>, unit: &str) -> String {
    v.map(|v| format!("{v:.0} {unit}"))
        .unwrap_or_else(|| "–".into())
}

fn traffic_cell(e: &GraphEdge) -> String {
    if e.protocol == EdgeProtocol::Tcp {
        graph::bytes_rate(e.bytes_per_s.unwrap_or(0.0))
    } else {
        format!("{:.2} rps", e.rps)
    }
}

#[component]
pub(super) fn SidePanel(
    selection: RwSignal<Option<Selection>>,
    view_model: Signal<std::sync::Arc<View>>,
    effective: Memo<GraphUrl>,
    config: Signal<Option<std::sync::Arc<istio::ConfigIndex>>>,
) -> impl IntoView {
    // A node outside the caller's namespaces has no details to fetch (the
    // server answers 403): the panel says so from the graph itself.
    let far_node = move |id: &str| {
        let vm = view_model.get();
        vm.index
            .get(id)
            .map(|i| vm.graph.nodes[*i].clone())
            .filter(|n| n.inaccessible)
    };
    let detail = LocalResource::new(move || {
        let sel = selection
            .get()
            .filter(|s| !matches!(s, Selection::Node(id) if far_node(id).is_some()));
        let q = effective.get().api_query();
        async move {
            match sel {
                Some(Selection::Node(id)) => Some(
                    api::graph_node(&GraphQuery {
                        node: Some(id),
                        ..q
                    })
                    .await,
                ),
                _ => None,
            }
        }
    });
    let close = move |_| selection.set(None);
    view! {
        <Show when=move || selection.get().is_some()>
            <aside class="card side-panel" aria-label="Details">
                <button type="button" class="close" aria-label="Close details" on:click=close>"×"</button>
                {move || match selection.get() {
                    Some(Selection::Edge(id)) => {
                        let vm = view_model.get();
                        match vm.graph.edges.iter().find(|e| e.id == id) {
                            Some(e) => edge_panel(&vm, e).into_any(),
                            None => view! { <p>"This edge is not in the current graph."</p> }.into_any(),
                        }
                    }
                    Some(Selection::Node(id)) => match far_node(&id) {
                        Some(n) => far_node_panel(n).into_any(),
                        None => view! {
                            <Transition fallback=|| view! { <p class="state-loading">"Loading…"</p> }>
                                {move || detail.get().flatten().map(|d| match d {
                                    Ok(d) => node_panel(d, view_model.get(), effective, config.get()).into_any(),
                                    Err(e) => view! { <p class="state-error" role="alert">{e.to_string()}</p> }.into_any(),
                                })}
                            </Transition>
                        }
                        .into_any(),
                    },
                    None => ().into_any(),
                }}
            </aside>
        </Show>
    }
}

fn edge_panel(vm: &View, e: &GraphEdge) -> impl IntoView + use<> {
    let name = |id: &str| {
        vm.index
            .get(id)
            .map(|i| short_name(&vm.graph.nodes[*i]))
            .unwrap_or_else(|| id.to_owned())
    };
    let (from, to) = (name(&e.source), name(&e.target));
    let codes = e.codes.clone();
    let e = e.clone();
    view! {
        <h2>{format!("{from} → {to}")}</h2>
        <dl class="facts">
            <dt>"Protocol"</dt><dd>{e.protocol.label()}</dd>
            <dt>"Traffic"</dt><dd>{traffic_cell(&e)}</dd>
            <dt>"Errors"</dt><dd>{format!("{:.2} %", e.error_pct)}</dd>
            <dt>"p95"</dt><dd>{fmt_opt(e.p95_ms, "ms")}</dd>
            <dt>"Share of source"</dt><dd>{format!("{:.1} %", e.share_pct)}</dd>
            <dt>"mTLS"</dt><dd>{e.mtls_pct.map(|m| format!("{m:.0} %")).unwrap_or_else(|| "unknown".into())}</dd>
            <dt>"Health"</dt><dd>{e.health.label()}</dd>
        </dl>
        {(!codes.is_empty()).then(|| view! {
            <table class="data-table">
                <caption>"By response code"</caption>
                <thead><tr><th>"Code"</th><th class="num">"rps"</th></tr></thead>
                <tbody>{codes.into_iter().map(|c| view! { <tr><td>{c.code}</td><td class="num">{format!("{:.3}", c.rate)}</td></tr> }).collect_view()}</tbody>
            </table>
        })}
    }
}

/// The panel of a node outside the caller's namespaces: what the graph
/// shows of it, and that its details are withheld.
fn far_node_panel(n: GraphNode) -> impl IntoView + use<> {
    view! {
        <h2>{short_name(&n)}</h2>
        <p class="node-kind">{graph::node_status(&n)}</p>
        <dl class="facts">
            <dt>"Namespace"</dt><dd>{n.namespace.clone()}</dd>
            <dt>"Health"</dt><dd>{graph::NOT_VISIBLE}</dd>
            <dt>"Sidecar"</dt><dd>{graph::sidecar_text(&n)}</dd>
        </dl>
        <p>"This node is outside your namespaces: the graph shows its traffic with yours, not its details."</p>
    }
}

fn node_panel(
    d: GraphNodeDetail,
    vm: std::sync::Arc<View>,
    effective: Memo<GraphUrl>,
    config: Option<std::sync::Arc<istio::ConfigIndex>>,
) -> impl IntoView {
    // The Istio config of the node's service: its findings and a link.
    let service = istio::node_service(&d.node);
    // The service's page, where its traffic is managed (the wizards).
    let manage = service.as_ref().map(|(ns, name)| {
        let href = crate::wizards::page_url(ns, name, None);
        let label = format!("Manage traffic for service {name}");
        // The service page's canary rollout section: start one, or the
        // one running.
        let rollout = format!("{href}#canary-rollout");
        let rollout_label = format!("Canary rollout of service {name}");
        view! {
            <a href=href aria-label=label>"Manage traffic"</a> " "
            <a href=rollout aria-label=rollout_label>"Canary rollout"</a> " "
        }
    });
    let istio_config = service.map(|(ns, name)| {
        let found = config.as_ref().and_then(|c| c.get(&(ns.clone(), name.clone())).copied());
        let href = istio::service_url(&ns, &name);
        match found {
            Some(c) => view! {
                <dt>"Istio config"</dt>
                <dd>
                    {istio::validity_badge(c.errors, c.warnings)} " "
                    <a href=href>{format!("{} object{} for service {name}", c.objects, if c.objects == 1 { "" } else { "s" })}</a>
                </dd>
            }
            .into_any(),
            None => view! { <dt>"Istio config"</dt><dd class="muted">{format!("none for service {name}")}</dd> }.into_any(),
        }
    });
    let peers: HashMap<String, String> = d
        .peers
        .iter()
        .map(|p| (p.id.clone(), short_name(p)))
        .collect();
    let peer = move |id: &str| peers.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let n = d.node.clone();
    let in_graph = vm.index.contains_key(&n.id);
    let table = |title: &'static str,
                 edges: Vec<GraphEdge>,
                 inbound: bool,
                 peer: &dyn Fn(&str) -> String| {
        let rows = edges
            .into_iter()
            .map(|e| {
                let other = if inbound { peer(&e.source) } else { peer(&e.target) };
                view! {
                    <tr>
                        <td>{other}</td>
                        <td>{e.protocol.label()}</td>
                        <td class="num">{traffic_cell(&e)}</td>
                        <td class="num">{if e.protocol == EdgeProtocol::Tcp { "–".to_owned() } else { format!("{:.1} %", e.error_pct) }}</td>
                        <td class="num">{fmt_opt(e.p95_ms, "ms")}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="data-table" aria-label=title>
                <caption>{title}</caption>
                <thead><tr><th>{if inbound { "From" } else { "To" }}</th><th>"Protocol"</th><th class="num">"Traffic"</th><th class="num">"Errors"</th><th class="num">"p95"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    };
    let inbound = table("Inbound", d.inbound, true, &peer);
    let outbound = table("Outbound", d.outbound, false, &peer);
    // The node's own traffic charts: the Traffic Metrics page's scope.
    let charts = d
        .metrics
        .clone()
        .map(|scope| view! { <NodeCharts scope=scope effective=effective /> });
    view! {
        <h2>{short_name(&n)}</h2>
        <p class="node-kind">{graph::node_status(&n)}{(!in_graph).then_some(" · hidden in the view")}</p>
        <dl class="facts">
            <dt>"Inbound"</dt><dd>{format!("{:.2} rps", n.rps_in)}{(n.tcp_in > 0.0).then(|| format!(", {}", graph::bytes_rate(n.tcp_in)))}</dd>
            <dt>"Outbound"</dt><dd>{format!("{:.2} rps", n.rps_out)}{(n.tcp_out > 0.0).then(|| format!(", {}", graph::bytes_rate(n.tcp_out)))}</dd>
            <dt>"Errors in"</dt><dd>{format!("{:.2} %", n.error_pct)}</dd>
            <dt>"Sidecar"</dt><dd>{graph::sidecar_text(&n)}</dd>
            {istio_config}
        </dl>
        <p class="links">
            <a
                href=effective.get_untracked().focused_on(&n.id).page_url()
                aria-label=format!("Focus on {}", short_name(&n))
            >
                "Focus"
            </a>
            " "
            {manage}
            {d.metrics.map(|m| view! { <a href=links::metrics_page(&m)>"Traffic metrics"</a> })}
            " "
            {d.traces.map(|t| view! { <a href=links::traces_search_page(&t)>"Traces"</a> })}
        </p>
        {charts}
        {inbound}
        {outbound}
    }
}

/// Request volume, success rate and duration of a node over the graph's
/// window, inbound or outbound: the Traffic Metrics charts for its scope.
#[component]
fn NodeCharts(
    /// The node's metrics scope (scope, namespace, name).
    scope: MetricsQuery,
    effective: Memo<GraphUrl>,
) -> impl IntoView {
    let (direction, set_direction) = signal("inbound");
    let report = LocalResource::new(move || {
        let q = MetricsQuery {
            direction: Some(if direction.get() == "outbound" {
                Direction::Outbound
            } else {
                Direction::Inbound
            }),
            ..effective.read().metrics_time(scope.clone())
        };
        async move { api::metrics(&q).await }
    });
    let offset_s = utc_offset_s();
    let shown = [
        ChartKind::RequestVolume,
        ChartKind::SuccessRate,
        ChartKind::RequestDuration,
    ];
    view! {
        <section class="node-charts" aria-label="Traffic charts">
            <fieldset class="control segmented" aria-label="Chart direction">
                <legend>"Charts"</legend>
                {[("inbound", "Inbound"), ("outbound", "Outbound")]
                    .into_iter()
                    .map(|(value, label)| view! {
                        <button
                            type="button"
                            aria-pressed=move || (direction.get() == value).to_string()
                            on:click=move |_| set_direction.set(value)
                        >
                            {label}
                        </button>
                    })
                    .collect_view()}
            </fieldset>
            {loaded("charts", report, move |r: MetricsReport| {
                let (start, end) = (r.start, r.end);
                r.charts
                    .into_iter()
                    .filter(|c| shown.contains(&c.kind))
                    .map(|chart| view! { <MetricChart chart=chart start=start end=end offset_s=offset_s /> })
                    .collect_view()
            })}
        </section>
    }
}
