//! Traffic Graph (Kiali-style): namespaces, graph type, window, replay,
//! edge labels, display toggles and find/hide live in the URL; the graph is
//! laid out in Rust ([`crate::graph`]) and drawn as SVG: one element
//! per node and edge for ordinary graphs (each a button with an accessible
//! name), one path per health class for big ones.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;

use crate::api;
use crate::components::chart::MetricChart;
use crate::components::layout::PageHeader;
use crate::components::state::loaded;
use crate::components::utc_offset_s;
use crate::format;
use crate::graph::{
    self, EdgeLabel, Expr, Layout, Toggles, edge_label, edge_name, node_name, short_name,
};
use crate::nav::GRAPH;
use crate::pages::istio;
use crate::types::{
    BoxKind, ChartKind, EdgeProtocol, Graph, GraphEdge, GraphHealth, GraphNode, GraphNodeDetail,
    GraphOverview, GraphType, Me, MetricsReport, NodeKind,
};

/// Windows offered (the server's list).
const WINDOWS: [&str; 9] = ["1m", "5m", "10m", "30m", "1h", "3h", "6h", "12h", "1d"];
/// Above this many visible nodes the graph is drawn in bulk (paths per
/// health class, no per-node elements or labels).
pub const BIG_NODES: usize = 400;
/// Big graphs name at most this many nodes in view (once names are
/// readable, see [`graph::bulk_labels`]).
const BULK_LABELS: usize = 400;
/// Font sizes of a node's name and namespace in drawing units (as in the
/// style sheet): shown only while readable on screen.
const NODE_FONT: f64 = 14.0;
const NODE_SUB_FONT: f64 = 11.5;
/// Length of a bulk edge's arrowhead, in drawing units.
const BULK_HEAD: f64 = 9.0;
/// A small padlock centred on the origin (mTLS edges).
const LOCK: &str = "M -4.5 -0.5 h 9 v 7 h -9 z M -2.8 -0.5 v -2.6 a 2.8 2.8 0 0 1 5.6 0 v 2.6";
/// Node radius in drawing units.
const R: f64 = 16.0;
/// `aggregate=` value of the namespace overview.
const OVERVIEW: &str = "namespace";

/// The page's state, as carried in its URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GraphUrl {
    /// Comma-separated namespaces.
    pub namespaces: String,
    /// Graph type (`versionedApp` when empty).
    pub graph_type: String,
    /// Window (`10m` when empty).
    pub window: String,
    /// Replay instant (Unix seconds), empty = now.
    pub query_time: String,
    /// Edge label mode.
    pub labels: String,
    /// `1`: show idle nodes.
    pub idle: String,
    /// `0`: no service nodes.
    pub services: String,
    /// `1`: show the mTLS lock on edges.
    pub lock: String,
    /// `0`: no namespace boxes.
    pub boxes: String,
    /// Find expression.
    pub find: String,
    /// Hide expression.
    pub hide: String,
    /// Node id to focus on (its callers and callees only).
    pub focus: String,
    /// Calls away from the focused node (1 when empty).
    pub depth: String,
    /// `namespace`: the overview (one node per namespace not expanded).
    pub aggregate: String,
    /// Comma-separated namespaces the overview shows in full.
    pub expand: String,
}

impl GraphUrl {
    /// Reads the state from a query map.
    pub fn from_query(map: &ParamsMap) -> Self {
        let get = |k: &str| map.get(k).unwrap_or_default();
        GraphUrl {
            namespaces: get("namespaces"),
            graph_type: get("type"),
            window: get("window"),
            query_time: get("queryTime"),
            labels: get("labels"),
            idle: get("idle"),
            services: get("services"),
            lock: get("lock"),
            boxes: get("boxes"),
            find: get("find"),
            hide: get("hide"),
            focus: get("focus"),
            depth: get("depth"),
            aggregate: get("aggregate"),
            expand: get("expand"),
        }
    }

    /// The namespaces the overview shows in full.
    pub fn expand_list(&self) -> Vec<String> {
        self.expand
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The same state with namespace `ns` shown in full (`on`) or folded
    /// back into its overview node; expanding a namespace that was not
    /// asked for (a caller from elsewhere) asks for it too.
    pub fn with_expanded(&self, ns: &str, on: bool) -> GraphUrl {
        let mut expand = self.expand_list();
        expand.retain(|n| n != ns);
        let mut next = self.clone();
        if on {
            expand.push(ns.to_owned());
            let mut list = self.namespace_list();
            if !list.iter().any(|n| n == ns) {
                list.push(ns.to_owned());
                list.sort();
                next.namespaces = list.join(",");
            }
            next.aggregate = OVERVIEW.to_owned();
        }
        expand.sort();
        next.expand = expand.join(",");
        next.focus.clear();
        next.depth.clear();
        next
    }

    /// The selected namespaces.
    pub fn namespace_list(&self) -> Vec<String> {
        self.namespaces
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn graph_type(&self) -> GraphType {
        GraphType::parse(&self.graph_type).unwrap_or_default()
    }

    fn window(&self) -> &str {
        if self.window.is_empty() {
            "10m"
        } else {
            &self.window
        }
    }

    /// The time part of a `/api/metrics` query covering this graph: its
    /// window (at least 10 minutes, so the charts have a shape), ending now
    /// or, replaying, at the graph's moment.
    pub fn metrics_time_query(&self) -> String {
        let window_s = crate::links::seconds(self.window()).unwrap_or(600).max(600);
        match self.query_time.parse::<f64>() {
            Ok(t) if t.is_finite() && t > 0.0 => {
                let end = t.round() as i64;
                format!("start={}&end={end}", end - window_s as i64)
            }
            _ => format!("range={}m", window_s / 60),
        }
    }

    /// The query string of `GET /api/graph` (without the node).
    pub fn api_query(&self) -> String {
        format::query_string(&[
            ("namespaces", self.namespaces.clone()),
            ("type", self.graph_type().as_str().to_owned()),
            ("window", self.window().to_owned()),
            ("queryTime", self.query_time.clone()),
            (
                "injectServiceNodes",
                if self.services == "0" { "false" } else { "" }.to_owned(),
            ),
            ("aggregate", self.aggregate.clone()),
            ("expand", self.expand.clone()),
            ("focus", self.focus.clone()),
            (
                "depth",
                if self.focus.is_empty() {
                    String::new()
                } else {
                    self.depth.clone()
                },
            ),
        ])
    }

    /// The same state focused on node `id`, one call away.
    pub fn focused_on(&self, id: &str) -> GraphUrl {
        GraphUrl {
            focus: id.to_owned(),
            depth: String::new(),
            ..self.clone()
        }
    }

    /// This state's page URL.
    pub fn page_url(&self) -> String {
        let qs = format::query_string(&[
            ("namespaces", self.namespaces.clone()),
            ("type", self.graph_type.clone()),
            ("window", self.window.clone()),
            ("queryTime", self.query_time.clone()),
            ("labels", self.labels.clone()),
            ("idle", self.idle.clone()),
            ("services", self.services.clone()),
            ("lock", self.lock.clone()),
            ("boxes", self.boxes.clone()),
            ("find", self.find.clone()),
            ("hide", self.hide.clone()),
            ("focus", self.focus.clone()),
            ("depth", self.depth.clone()),
            ("aggregate", self.aggregate.clone()),
            ("expand", self.expand.clone()),
        ]);
        if qs.is_empty() {
            GRAPH.path.to_owned()
        } else {
            format!("{}?{qs}", GRAPH.path)
        }
    }
}

/// What is selected: a node or an edge, by id (ids are stable, so the
/// selection survives refreshes).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Selection {
    Node(String),
    Edge(String),
}

/// `GRAPH.path`: the Traffic Graph.
#[component]
pub fn GraphPage() -> impl IntoView {
    let query = use_query_map();
    let url = Memo::new(move |_| GraphUrl::from_query(&query.read()));
    let navigate = use_navigate();
    let go =
        Callback::new(move |next: GraphUrl| navigate(&next.page_url(), NavigateOptions::default()));
    let me = LocalResource::new(api::me);
    view! {
        <PageHeader item=GRAPH />
        {loaded("namespaces", me, move |me: Me| view! { <GraphWithControls me=me url=url go=go /> })}
    }
}

#[component]
fn GraphWithControls(me: Me, url: Memo<GraphUrl>, go: Callback<GraphUrl>) -> impl IntoView {
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
    // Expanding a namespace of the overview, or folding it back.
    let on_expand = Callback::new(move |(ns, on): (String, bool)| {
        go.run(effective.get_untracked().with_expanded(&ns, on));
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
                        {toggle("Namespace overview", |u| u.aggregate == OVERVIEW, |u, on| { u.aggregate = if on { OVERVIEW.into() } else { String::new() }; u.expand.clear(); })}
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
        {loaded("graph", graph, move |g: Graph| view! { <GraphArea graph=g url=url effective=effective selection=selection config=config_index on_expand=on_expand /> })}
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

/// Everything computed from one graph answer and the display state.
#[derive(Clone, PartialEq)]
struct View {
    graph: Graph,
    layout: Layout,
    index: HashMap<String, usize>,
    found_nodes: HashSet<usize>,
    found_edges: HashSet<usize>,
    has_find: bool,
}

fn compute(graph: &Graph, u: &GraphUrl) -> View {
    let toggles = Toggles {
        idle: u.idle == "1",
        services: true,
    };
    let hide = graph::parse_expr(&u.hide).ok().flatten();
    let shown = graph::visible(graph, toggles, hide.as_ref());
    let graph = graph::subgraph(graph, &shown);
    let layout = match &graph.overview {
        None => graph::layout_graph(&graph),
        Some(_) => {
            let layered = graph::layout_graph(&overview_layout_input(&graph));
            let folded_only = graph.nodes.iter().all(|n| {
                matches!(
                    n.kind,
                    NodeKind::Namespace | NodeKind::Unknown | NodeKind::External
                )
            });
            if folded_only {
                overview_grid(&layered)
            } else {
                folded_above(&layered)
            }
        }
    };
    let index = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.clone(), i))
        .collect();
    let find: Option<Expr> = graph::parse_expr(&u.find).ok().flatten();
    let (found_nodes, found_edges) = match &find {
        Some(f) => (
            (0..graph.nodes.len())
                .filter(|i| f.matches_node(&graph.nodes[*i]))
                .collect(),
            (0..graph.edges.len())
                .filter(|i| f.matches_edge(&graph.edges[*i]))
                .collect(),
        ),
        None => (HashSet::new(), HashSet::new()),
    };
    View {
        graph,
        layout,
        index,
        found_nodes,
        found_edges,
        has_find: find.is_some(),
    }
}

/// The band the overview's namespace nodes share in the layout.
const OVERVIEW_BAND: &str = "";

/// The overview laid out with its namespace nodes in one band, left to
/// right by calls, instead of a band each (a band per namespace stacks
/// them into a tall diagonal, its names too small to read).
fn overview_layout_input(graph: &Graph) -> Graph {
    let folded: HashSet<String> = graph
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Namespace)
        .map(|n| n.namespace.clone())
        .collect();
    let mut g = graph.clone();
    // Services outside the mesh of a folded namespace go with it.
    for n in &mut g.nodes {
        if folded.contains(&n.namespace) {
            n.namespace = OVERVIEW_BAND.to_owned();
        }
    }
    g
}

/// The band index of a node in no band (`Layout::band`): out of range, so
/// lookups with `get` find nothing and edges to it share no trunk.
const NO_BAND: usize = usize::MAX;

/// Columns and rows of the overview grid, in drawing units: wide enough
/// for a namespace's name and its "25 services · 1.2k rps" line.
const GRID_DX: f64 = 230.0;
const GRID_DY: f64 = 120.0;

/// The overview without expanded namespaces: its nodes in a grid about
/// twice as wide as tall, in the layered layout's order (callers first,
/// left to right, then top to bottom), so that the names stay readable
/// when the drawing is fitted to the pane (a layered chain of namespaces
/// is one long row).
pub fn overview_grid(layered: &Layout) -> Layout {
    let n = layered.positions.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| {
        let (pa, pb) = (layered.positions[*a], layered.positions[*b]);
        pa.0.total_cmp(&pb.0).then(pa.1.total_cmp(&pb.1))
    });
    let cols = ((n as f64 * 2.0).sqrt().ceil() as usize).clamp(1, n.max(1));
    let rows = n.div_ceil(cols).max(1);
    let mut positions = vec![(0.0, 0.0); n];
    for (k, i) in order.into_iter().enumerate() {
        positions[i] = (
            GRID_DX * (0.5 + (k % cols) as f64),
            GRID_DY * (0.5 + (k / cols) as f64),
        );
    }
    Layout {
        positions,
        layers: layered.layers.clone(),
        bands: Vec::new(),
        // No bands: every node is outside any (see `NO_BAND`).
        band: vec![NO_BAND; n],
        size: (GRID_DX * cols as f64, GRID_DY * rows as f64),
    }
}

/// The overview with expanded namespaces: the folded namespaces (the
/// layout's shared band) move into rows of the grid above the expanded
/// namespaces' bands, which move down by the rows' height (less the band
/// they left), so the namespace nodes keep room for their names.
pub fn folded_above(layered: &Layout) -> Layout {
    let Some(band) = layered.bands.iter().find(|b| b.name == OVERVIEW_BAND) else {
        return layered.clone();
    };
    let (top, bottom, left, right) = (band.top, band.bottom, band.left, band.right);
    // By its rectangle: bands may stand side by side in columns.
    let in_band = |p: (f64, f64)| p.1 >= top && p.1 <= bottom && p.0 >= left && p.0 <= right;
    let mut folded: Vec<usize> = (0..layered.positions.len())
        .filter(|i| in_band(layered.positions[*i]))
        .collect();
    folded.sort_by(|a, b| {
        let (pa, pb) = (layered.positions[*a], layered.positions[*b]);
        pa.0.total_cmp(&pb.0).then(pa.1.total_cmp(&pb.1))
    });
    let cols = ((layered.size.0 / GRID_DX).floor() as usize).max(1);
    let rows = folded.len().div_ceil(cols);
    let height = GRID_DY * rows as f64;
    // Everything below the shared band moves up by its height, then down
    // by the rows'.
    let gap = bottom - top;
    let shift = |y: f64| {
        if y > bottom {
            y - gap + height
        } else {
            y + height
        }
    };
    let mut out = layered.clone();
    for (i, p) in out.positions.iter_mut().enumerate() {
        if !folded.contains(&i) {
            p.1 = shift(p.1);
        }
    }
    for (k, i) in folded.iter().enumerate() {
        out.positions[*i] = (
            GRID_DX * (0.5 + (k % cols) as f64),
            GRID_DY * (0.5 + (k / cols) as f64),
        );
    }
    // The shared band goes; later bands' indices move down by one, and
    // the folded nodes are in none.
    let removed = layered.bands.iter().position(|b| b.name == OVERVIEW_BAND);
    for b in &mut out.band {
        *b = match removed {
            Some(r) if *b == r => NO_BAND,
            Some(r) if *b > r && *b != NO_BAND => *b - 1,
            _ => *b,
        };
    }
    out.bands.retain(|b| b.name != OVERVIEW_BAND);
    for b in &mut out.bands {
        (b.top, b.bottom) = (shift(b.top), shift(b.bottom));
    }
    out.size.1 = out.size.1 - gap + height;
    out
}

fn health_class(h: GraphHealth) -> &'static str {
    match h {
        GraphHealth::Healthy => "healthy",
        GraphHealth::Degraded => "degraded",
        GraphHealth::Failure => "failure",
        GraphHealth::NoTraffic => "idle",
    }
}

#[component]
fn GraphArea(
    graph: Graph,
    url: Memo<GraphUrl>,
    effective: Memo<GraphUrl>,
    selection: RwSignal<Option<Selection>>,
    config: Signal<Option<std::sync::Arc<istio::ConfigIndex>>>,
    on_expand: Callback<(String, bool)>,
) -> impl IntoView {
    let warnings = graph.warnings.clone();
    let overview = graph.overview.clone();
    let raw = StoredValue::new(graph);
    let view_model = Memo::new(move |_| {
        let u = url.get();
        raw.with_value(|g| {
            let v = compute(g, &u);
            (
                v.layout.size,
                v.graph.nodes.len(),
                v.graph.edges.len(),
                std::sync::Arc::new(v),
            )
        })
    });
    // The view box: fitted when the drawing's size changes, then panned and
    // zoomed by the user.
    let viewbox = RwSignal::new((0.0, 0.0, 1000.0, 600.0));
    let fit = move || {
        let (w, h) = view_model.with_untracked(|v| v.0);
        viewbox.set((0.0, 0.0, w.max(400.0), h.max(300.0)));
    };
    Effect::new(move |prev: Option<(f64, f64)>| {
        let size = view_model.with(|v| v.0);
        if prev != Some(size) {
            fit();
        }
        size
    });
    let hovered = RwSignal::new(None::<usize>);
    let drag = StoredValue::new(None::<(f64, f64, (f64, f64, f64, f64))>);
    let rect_of = |ev: &web_sys::MouseEvent| {
        use wasm_bindgen::JsCast;
        ev.current_target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .map(|e| e.get_bounding_client_rect())
    };
    // Wheel zoom, like the drag: a burst of wheel steps scales the drawing
    // as one composited layer about the pointer; the view box takes the
    // zoom once the wheel rests.
    let burst = StoredValue::new(None::<(f64, f64, f64)>);
    let burst_timer = StoredValue::new(None::<TimeoutHandle>);
    let scale = RwSignal::new((1.0f64, 0.5f64, 0.5f64));
    let on_wheel = move |ev: web_sys::WheelEvent| {
        ev.prevent_default();
        let step = if ev.delta_y() > 0.0 { 1.15 } else { 1.0 / 1.15 };
        let (k, fx, fy) = match burst.get_value() {
            Some((k, fx, fy)) => (k * step, fx, fy),
            None => {
                let Some(rect) = rect_of(&ev) else { return };
                let fx = (f64::from(ev.client_x()) - rect.left()) / rect.width().max(1.0);
                let fy = (f64::from(ev.client_y()) - rect.top()) / rect.height().max(1.0);
                (step, fx.clamp(0.0, 1.0), fy.clamp(0.0, 1.0))
            }
        };
        burst.set_value(Some((k, fx, fy)));
        scale.set((1.0 / k, fx, fy));
        if let Some(handle) = burst_timer.get_value() {
            handle.clear();
        }
        let commit = move || {
            burst_timer.set_value(None);
            let Some((k, fx, fy)) = burst.get_value() else {
                return;
            };
            burst.set_value(None);
            let (x, y, w, h) = viewbox.get_untracked();
            let (nw, nh) = (w * k, h * k);
            viewbox.set((x + (w - nw) * fx, y + (h - nh) * fy, nw, nh));
            scale.set((1.0, 0.5, 0.5));
        };
        burst_timer.set_value(set_timeout_with_handle(commit, Duration::from_millis(150)).ok());
    };
    let on_down = move |ev: web_sys::MouseEvent| {
        drag.set_value(Some((
            f64::from(ev.client_x()),
            f64::from(ev.client_y()),
            viewbox.get_untracked(),
        )));
    };
    // While dragging, the drawing moves as a whole (a CSS transform the
    // browser composites without redrawing thousands of paths); the view
    // box takes the move when the button is released.
    let shift = RwSignal::new((0.0f64, 0.0f64));
    let on_move = move |ev: web_sys::MouseEvent| {
        let Some((x0, y0, _)) = drag.get_value() else {
            return;
        };
        let (dx, dy) = (f64::from(ev.client_x()) - x0, f64::from(ev.client_y()) - y0);
        if dx.abs() + dy.abs() > 0.5 {
            shift.set((dx, dy));
        }
    };
    let on_up = move |ev: web_sys::MouseEvent| {
        let Some((_, _, (vx, vy, vw, vh))) = drag.get_value() else {
            return;
        };
        drag.set_value(None);
        let (dx, dy) = shift.get_untracked();
        shift.set((0.0, 0.0));
        let Some(rect) = rect_of(&ev) else { return };
        let (dx, dy) = (
            dx * vw / rect.width().max(1.0),
            dy * vh / rect.height().max(1.0),
        );
        if dx.abs() + dy.abs() > 0.0 {
            viewbox.set((vx - dx, vy - dy, vw, vh));
        }
    };
    let zoom = move |k: f64| {
        let (x, y, w, h) = viewbox.get_untracked();
        let (nw, nh) = (w * k, h * k);
        viewbox.set((x + (w - nw) / 2.0, y + (h - nh) / 2.0, nw, nh));
    };
    // Clicks on the background of a big graph pick the nearest node.
    let on_click_bulk = move |ev: web_sys::MouseEvent| {
        let Some(rect) = rect_of(&ev) else { return };
        let (x, y, w, h) = viewbox.get_untracked();
        let px = x + (f64::from(ev.client_x()) - rect.left()) * w / rect.width().max(1.0);
        let py = y + (f64::from(ev.client_y()) - rect.top()) * h / rect.height().max(1.0);
        view_model.with_untracked(|v| {
            let vm = &v.3;
            if vm.graph.nodes.len() > BIG_NODES {
                if let Some(i) = graph::hit_test(&vm.layout.positions, px, py, R * 1.5) {
                    selection.set(Some(Selection::Node(vm.graph.nodes[i].id.clone())));
                }
            }
        });
    };
    let summary = move || {
        view_model.with(|(_, n, e, _)| {
            if *n > BIG_NODES {
                format!("{n} nodes, {e} edges · zoom in (wheel or +) for names; click a dot for its traffic")
            } else {
                format!("{n} nodes, {e} edges")
            }
        })
    };
    view! {
        {(!warnings.is_empty()).then(|| view! {
            <div class="state state-warning" role="alert">
                <strong>"Partial graph: "</strong>
                {warnings.join("; ")}
            </div>
        })}
        {overview.map(|o| view! { <OverviewBar overview=o on_expand=on_expand /> })}
        <div class="graph-layout">
            <section class="card graph-card" aria-label="Traffic graph">
                <div class="graph-toolbar">
                    <span class="graph-summary" aria-live="polite">{summary}</span>
                    <button type="button" aria-label="Zoom in" on:click=move |_| zoom(1.0 / 1.25)>"+"</button>
                    <button type="button" aria-label="Zoom out" on:click=move |_| zoom(1.25)>"−"</button>
                    <button type="button" on:click=move |_| fit()>"Fit"</button>
                </div>
                <div class="graph-viewport">
                <svg
                    class="graph-svg"
                    style=move || {
                        // As tall as the drawing's shape asks at a typical width.
                        let (w, h) = view_model.with(|v| v.0);
                        let (dx, dy) = shift.get();
                        let (k, fx, fy) = scale.get();
                        format!(
                            "height: {:.0}px; transform-origin: {:.1}% {:.1}%; transform: translate({dx:.0}px, {dy:.0}px) scale({k:.4})",
                            (1100.0 * h / w.max(1.0)).clamp(380.0, 760.0),
                            fx * 100.0,
                            fy * 100.0
                        )
                    }
                    role="group"
                    aria-label="Service graph"
                    viewBox=move || { let (x, y, w, h) = viewbox.get(); format!("{x:.1} {y:.1} {w:.1} {h:.1}") }
                    preserveAspectRatio="xMidYMid meet"
                    on:wheel=on_wheel
                    on:mousedown=on_down
                    on:mousemove=on_move
                    on:mouseup=on_up
                    on:mouseleave=on_up
                    on:click=on_click_bulk
                >
                    <defs>
                        {["healthy", "degraded", "failure", "idle", "tcp"].map(|c| view! {
                            <marker id=format!("arrow-{c}") class=format!("arrow {c}") viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                                <path d="M 0 0 L 10 5 L 0 10 z" />
                            </marker>
                        })}
                    </defs>
                    {move || {
                        let vm = view_model.with(|v| v.3.clone());
                        let u = url.get();
                        draw(&vm, &u, selection, hovered, viewbox, config.get(), on_expand)
                    }}
                </svg>
                </div>
                <Legend />
            </section>
            <SidePanel selection=selection view_model=Signal::derive(move || view_model.with(|v| v.3.clone())) effective=effective config=config />
        </div>
    }
}

fn edge_class(e: &GraphEdge) -> &'static str {
    if e.protocol == EdgeProtocol::Tcp {
        "tcp"
    } else {
        health_class(e.health)
    }
}

/// The SVG content: boxes, edges, nodes.
fn draw(
    vm: &View,
    u: &GraphUrl,
    selection: RwSignal<Option<Selection>>,
    hovered: RwSignal<Option<usize>>,
    viewbox: RwSignal<(f64, f64, f64, f64)>,
    config: Option<std::sync::Arc<istio::ConfigIndex>>,
    on_expand: Callback<(String, bool)>,
) -> AnyView {
    let g = &vm.graph;
    let pos = &vm.layout.positions;
    let boxes = if u.boxes != "0" {
        namespace_boxes(vm)
    } else {
        Vec::new()
    };
    let edge_ends: Vec<(usize, usize)> = g
        .edges
        .iter()
        .map(|e| (vm.index[&e.source], vm.index[&e.target]))
        .collect();
    if g.nodes.len() > BIG_NODES {
        let titles = !boxes.is_empty();
        return draw_bulk(vm, &edge_ends, boxes, titles, viewbox).into_any();
    }
    let mode = EdgeLabel::parse(&u.labels);
    let lock = u.lock == "1";
    let neighbours = move |i: usize| -> HashSet<usize> {
        edge_ends
            .iter()
            .filter(|(s, t)| *s == i || *t == i)
            .flat_map(|(s, t)| [*s, *t])
            .collect()
    };
    let near = Memo::new(move |_| hovered.get().map(&neighbours));
    let edges = g
        .edges
        .iter()
        .enumerate()
        .map(|(k, e)| {
            let (s, t) = (vm.index[&e.source], vm.index[&e.target]);
            let curve = graph::edge_curve(pos[s], pos[t], R);
            let d = curve.path();
            let class = edge_class(e);
            let label = edge_label(e, mode);
            let secured = lock && e.mtls_pct.is_some_and(|m| m >= 99.5);
            let (lx, ly) = curve.middle();
            let id = e.id.clone();
            let id2 = e.id.clone();
            let name = edge_name(&g.nodes[s], &g.nodes[t], e);
            let found = vm.found_edges.contains(&k);
            let has_find = vm.has_find;
            let selected = move || selection.get() == Some(Selection::Edge(id2.clone()));
            let dim = move || {
                near.get().is_some_and(|n| !(n.contains(&s) && n.contains(&t)))
                    || (has_find && !found)
            };
            view! {
                <g
                    role="button"
                    tabindex="0"
                    aria-label=name
                    class=move || format!("edge {class}{}{}{}", if selected() { " selected" } else { "" }, if dim() { " dim" } else { "" }, if found { " found" } else { "" })
                    on:click=move |ev| { ev.stop_propagation(); selection.set(Some(Selection::Edge(id.clone()))) }
                >
                    <path class="edge-hit" d=d.clone() />
                    <path class="edge-line" d=d marker-end=format!("url(#arrow-{class})") />
                    {(!label.is_empty()).then(|| view! {
                        <text class="edge-label" x=format!("{lx:.1}") y=format!("{:.1}", ly - 7.0) text-anchor="middle">{label}</text>
                    })}
                    {secured.then(|| view! {
                        <path class="lock" transform=format!("translate({lx:.1},{:.1})", ly + 9.0) d=LOCK />
                    })}
                </g>
            }
        })
        .collect_view();
    let nodes = g
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let (x, y) = pos[i];
            let id = n.id.clone();
            let id2 = n.id.clone();
            let id3 = n.id.clone();
            let class = format!(
                "node {} {}{}",
                kind_class(n.kind),
                health_class(n.health),
                if n.inaccessible { " inaccessible" } else { "" }
            );
            let found = vm.found_nodes.contains(&i);
            let has_find = vm.has_find;
            let selected = move || selection.get() == Some(Selection::Node(id2.clone()));
            let dim = move || near.get().is_some_and(|s| !s.contains(&i)) || (has_find && !found);
            let name = node_name(n);
            let label = n.name.clone();
            let sub = if n.kind == NodeKind::Unknown { String::new() } else { n.namespace.clone() };
            // An overview namespace opens into its members on click (one
            // hidden from the caller cannot: it only shows its traffic).
            let expands = (n.kind == NodeKind::Namespace && !n.inaccessible).then(|| n.namespace.clone());
            let (name, sub) = match (&expands, namespace_summary(g, n)) {
                (Some(_), Some(text)) => (format!("{name}; {text}; expand"), text),
                (Some(_), None) => (format!("{name}; expand"), sub),
                _ => (name, sub),
            };
            let error_badge = (n.kind == NodeKind::Namespace && n.error_pct >= 0.05).then(|| {
                view! { <text class="ns-errors" x=format!("{:.1}", R + 5.0) y="-10">{format!("{} % err", format::number(n.error_pct))}</text> }
            });
            let expands2 = expands.clone();
            let no_sidecar = n.sidecar == Some(false);
            let findings = istio::node_service(n)
                .and_then(|key| config.as_ref().and_then(|c| c.get(&key).copied()))
                .filter(|c| c.errors + c.warnings > 0)
                .map(|c| {
                    let (class, title) = if c.errors > 0 {
                        ("config-mark bad", format!("Istio config of this service: {} error(s), {} warning(s)", c.errors, c.warnings))
                    } else {
                        ("config-mark warn", format!("Istio config of this service: {} warning(s)", c.warnings))
                    };
                    view! {
                        <g class=class transform="translate(-14,-14)">
                            <title>{title}</title>
                            <circle r="8" />
                            <text y="4" text-anchor="middle">{if c.errors > 0 { "×" } else { "!" }}</text>
                        </g>
                    }
                });
            view! {
                <g
                    role="button"
                    tabindex="0"
                    aria-label=name
                    class=move || format!("{class}{}{}{}", if selected() { " selected" } else { "" }, if dim() { " dim" } else { "" }, if found { " found" } else { "" })
                    transform=format!("translate({x:.1},{y:.1})")
                    on:click=move |ev| {
                        ev.stop_propagation();
                        match &expands {
                            Some(ns) => on_expand.run((ns.clone(), true)),
                            None => selection.set(Some(Selection::Node(id.clone()))),
                        }
                    }
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" || ev.key() == " " {
                            ev.prevent_default();
                            match &expands2 {
                                Some(ns) => on_expand.run((ns.clone(), true)),
                                None => selection.set(Some(Selection::Node(id3.clone()))),
                            }
                        }
                    }
                    on:mouseenter=move |_| hovered.set(Some(i))
                    on:mouseleave=move |_| hovered.set(None)
                >
                    {shape(n.kind)}
                    {no_sidecar.then(|| view! { <text class="badge" x="12" y="-12">"!"</text> })}
                    {error_badge}
                    {findings}
                    <text class="node-label" y=format!("{:.1}", R + 14.0) text-anchor="middle">{label}</text>
                    <text class="node-sub" y=format!("{:.1}", R + 27.0) text-anchor="middle">{sub}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <g class="boxes">{boxes}</g>
        <g class="edges">{edges}</g>
        <g class=move || {
            // Names and namespaces only while readable on screen.
            let scale = viewport(viewbox.get()).scale();
            format!(
                "nodes{}{}",
                if graph::readable(NODE_FONT, scale) { "" } else { " names-off" },
                if graph::readable(NODE_SUB_FONT, scale) { "" } else { " subs-off" }
            )
        }>{nodes}</g>
    }
    .into_any()
}

/// What an overview namespace node stands for: `3 services · 12.4 rps`
/// (its nodes when it has no service nodes); `None` for other nodes.
pub fn namespace_summary(graph: &Graph, node: &GraphNode) -> Option<String> {
    if node.kind != NodeKind::Namespace {
        return None;
    }
    let s = graph
        .overview
        .as_ref()?
        .namespaces
        .iter()
        .find(|s| s.node == node.id)?;
    let (count, what) = if s.services > 0 {
        (s.services, "service")
    } else {
        (s.nodes, "node")
    };
    let rps = node.rps_in.max(node.rps_out) + s.internal_rps;
    Some(format!(
        "{count} {what}{} · {} rps",
        if count == 1 { "" } else { "s" },
        format::number(rps)
    ))
}

/// Above the overview: what it shows and why, and the expanded namespaces
/// with a control to fold each back.
#[component]
fn OverviewBar(overview: GraphOverview, on_expand: Callback<(String, bool)>) -> impl IntoView {
    let n = overview.namespaces.len();
    let why = overview.automatic.then(|| {
        format!(
            " (more namespaces than the {} one graph shows in detail)",
            overview.detail_limit
        )
    });
    let expanded = overview.expanded.clone();
    view! {
        <section class="focus-bar overview-bar" aria-label="Overview">
            <span>
                {format!("Showing {n} namespace{} as an overview; click one to see its services", if n == 1 { "" } else { "s" })}
                {why}
                "."
            </span>
            {expanded
                .into_iter()
                .map(|ns| {
                    let label = format!("Collapse {ns}");
                    view! {
                        <button type="button" on:click=move |_| on_expand.run((ns.clone(), false))>
                            {label}
                        </button>
                    }
                })
                .collect_view()}
        </section>
    }
}

fn kind_class(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Workload => "workload",
        NodeKind::App => "app",
        NodeKind::Service => "service",
        NodeKind::Unknown => "unknown",
        NodeKind::External => "external",
        NodeKind::Namespace => "namespace",
    }
}

/// The node's shape, centred on the origin: workloads circles, apps
/// rounded squares, services triangles, unknown and outside diamonds,
/// overview namespaces a double box.
fn shape(kind: NodeKind) -> AnyView {
    match kind {
        NodeKind::Workload => view! { <circle class="shape" r=R /> }.into_any(),
        NodeKind::App => view! { <rect class="shape" x=-R y=-R width=2.0 * R height=2.0 * R rx="5" /> }.into_any(),
        NodeKind::Service => view! { <path class="shape" d=format!("M 0 {:.1} L {:.1} {:.1} L {:.1} {:.1} Z", -R - 2.0, R + 2.0, R - 2.0, -R - 2.0, R - 2.0) /> }.into_any(),
        NodeKind::Unknown | NodeKind::External => view! { <path class="shape" d=format!("M 0 {:.1} L {:.1} 0 L 0 {:.1} L {:.1} 0 Z", -R - 2.0, R + 2.0, R + 2.0, -R - 2.0) /> }.into_any(),
        // A namespace of the overview: a box standing for its members.
        NodeKind::Namespace => view! { <rect class="shape" x=-R - 2.0 y=-R width=2.0 * R + 4.0 height=2.0 * R rx="4" /> <rect class="shape-inner" x=-R + 3.0 y=-R + 5.0 width=2.0 * R - 6.0 height=2.0 * R - 10.0 rx="2" /> }.into_any(),
    }
}

fn namespace_boxes(vm: &View) -> Vec<AnyView> {
    // An overview namespace is drawn as its own node, without a box.
    let folded: HashSet<&str> = vm
        .graph
        .overview
        .iter()
        .flat_map(|o| o.namespaces.iter().map(|s| s.namespace.as_str()))
        .collect();
    let mut out: Vec<AnyView> = vm
        .layout
        .bands
        .iter()
        .filter(|b| {
            b.name != "unknown" && b.name != OVERVIEW_BAND && !folded.contains(b.name.as_str())
        })
        .map(|b| {
            let (side, above, below) = graph::BOX_PAD;
            let (x, w) = (b.left - side, b.right - b.left + 2.0 * side);
            let (y, h) = (b.top - above, b.bottom - b.top + above + below);
            view! {
                <g class="ns-box">
                    <rect x=format!("{x:.1}") y=format!("{y:.1}") width=format!("{w:.1}") height=format!("{h:.1}") rx="10" />
                    <text x=format!("{:.1}", b.title_at().0) y=format!("{:.1}", b.title_at().1)>{b.name.clone()}</text>
                </g>
            }
            .into_any()
        })
        .collect();
    // App boxes (versioned app graph): around their members; on a big
    // graph all in one path (thousands of elements slow every pan).
    let bulk = vm.graph.nodes.len() > BIG_NODES;
    let mut bulk_boxes = String::new();
    for b in vm.graph.boxes.iter().filter(|b| b.kind == BoxKind::App) {
        let members: Vec<(f64, f64)> = vm
            .graph
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.parent.as_deref() == Some(b.id.as_str()))
            .map(|(i, _)| vm.layout.positions[i])
            .collect();
        if members.len() < 2 {
            continue;
        }
        let (x0, x1) = members
            .iter()
            .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.0), a.1.max(p.0)));
        let (y0, y1) = members
            .iter()
            .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
        if bulk {
            use std::fmt::Write;
            let _ = write!(
                bulk_boxes,
                "M{:.0} {:.0}h{:.0}v{:.0}h{:.0}Z",
                x0 - 20.0,
                y0 - 20.0,
                x1 - x0 + 40.0,
                y1 - y0 + 40.0,
                -(x1 - x0 + 40.0)
            );
            continue;
        }
        out.push(
            view! {
                <g class="app-box">
                    <rect x=format!("{:.1}", x0 - 34.0) y=format!("{:.1}", y0 - 28.0) width=format!("{:.1}", x1 - x0 + 68.0) height=format!("{:.1}", y1 - y0 + 70.0) rx="8" />
                </g>
            }
            .into_any(),
        );
    }
    if !bulk_boxes.is_empty() {
        out.push(view! { <path class="app-boxes-bulk" d=bulk_boxes /> }.into_any());
    }
    out
}

/// What the graph pane shows for a view box: the SVG's size on screen
/// (its transform while dragging or zooming does not change it).
fn viewport(view_box: (f64, f64, f64, f64)) -> graph::Viewport {
    let pane = web_sys::window()
        .and_then(|win| win.document())
        .and_then(|doc| doc.query_selector(".graph-svg").ok().flatten())
        .map_or((1100.0, 760.0), |el| {
            (
                f64::from(el.client_width()).max(1.0),
                f64::from(el.client_height()).max(1.0),
            )
        });
    graph::Viewport { view_box, pane }
}

/// Big graphs: one path per edge class (each edge a line with an open
/// arrowhead at its target) and per node health; names only for the nodes
/// in the pane once zoomed in far enough to read them, with their
/// namespace once their band's title is out of the pane.
fn draw_bulk(
    vm: &View,
    edge_ends: &[(usize, usize)],
    boxes: Vec<AnyView>,
    titles: bool,
    viewbox: RwSignal<(f64, f64, f64, f64)>,
) -> impl IntoView + use<> {
    use std::fmt::Write;
    let pos = &vm.layout.positions;
    let mut edge_paths: HashMap<&'static str, String> = HashMap::new();
    // Edges between two bands share their bands' trunk.
    let band = &vm.layout.band;
    for (e, (s, t)) in vm.graph.edges.iter().zip(edge_ends) {
        let band_of = |i: usize| band.get(i).copied().unwrap_or(NO_BAND);
        let arrow = match graph::trunk(&vm.layout, band_of(*s), band_of(*t)) {
            Some(trunk) => graph::bundled_arrow(pos[*s], trunk, pos[*t], R * 0.8, BULK_HEAD),
            None => graph::edge_arrow(pos[*s], pos[*t], R * 0.8, BULK_HEAD),
        };
        if let Some(arrow) = arrow {
            edge_paths
                .entry(edge_class(e))
                .or_default()
                .push_str(&arrow.path());
        }
    }
    let mut node_paths: HashMap<&'static str, String> = HashMap::new();
    for (n, (x, y)) in vm.graph.nodes.iter().zip(pos) {
        let d = node_paths.entry(health_class(n.health)).or_default();
        let r = R * 0.8;
        let _ = write!(
            d,
            "M{:.0} {y:.0}a{r} {r} 0 1 0 {:.0} 0a{r} {r} 0 1 0 {:.0} 0",
            x - r,
            2.0 * r,
            -2.0 * r
        );
    }
    let mut edge_paths: Vec<_> = edge_paths.into_iter().collect();
    edge_paths.sort();
    let mut node_paths: Vec<_> = node_paths.into_iter().collect();
    node_paths.sort();
    let layout = vm.layout.clone();
    let names: Vec<(String, String)> = vm
        .graph
        .nodes
        .iter()
        .map(|n| {
            let ns = if n.kind == NodeKind::Unknown {
                String::new()
            } else {
                format!("{}/", n.namespace)
            };
            (n.name.clone(), ns)
        })
        .collect();
    let labels = move || {
        let vp = viewport(viewbox.get());
        let plan = graph::bulk_labels(&layout, &vp, titles, BULK_LABELS)?;
        let scale = vp.scale();
        let font = plan.font;
        let shown = plan
            .names
            .into_iter()
            .map(|(i, prefix)| {
                let (px, py) = layout.positions[i];
                let (name, ns) = &names[i];
                let text = if prefix {
                    format!("{ns}{name}")
                } else {
                    name.clone()
                };
                view! {
                    <text
                        class="bulk-label"
                        x=format!("{:.1}", px + R * 0.8 + 3.0 / scale)
                        y=format!("{:.1}", py + font * 0.35)
                        font-size=format!("{font:.1}")
                    >
                        {text}
                    </text>
                }
            })
            .collect_view();
        Some(view! { <g class="bulk-labels">{shown}</g> })
    };
    view! {
        <g class="boxes">{boxes}</g>
        <g class="edges bulk" shape-rendering="optimizeSpeed">
            {edge_paths.into_iter().map(|(c, d)| view! { <path class=format!("edge-line {c}") d=d /> }).collect_view()}
        </g>
        <g class="nodes bulk">
            {node_paths.into_iter().map(|(c, d)| view! { <path class=format!("bulk-nodes {c}") d=d /> }).collect_view()}
        </g>
        {labels}
    }
}

#[component]
fn Legend() -> impl IntoView {
    view! {
        <details class="graph-legend">
            <summary>"Legend"</summary>
            <ul>
                <li><svg width="22" height="22" viewBox="-11 -11 22 22" aria-hidden="true"><circle class="shape" r="8" /></svg>"Workload"</li>
                <li><svg width="22" height="22" viewBox="-11 -11 22 22" aria-hidden="true"><rect class="shape" x="-8" y="-8" width="16" height="16" rx="3" /></svg>"App"</li>
                <li><svg width="22" height="22" viewBox="-11 -11 22 22" aria-hidden="true"><path class="shape" d="M 0 -9 L 9 7 L -9 7 Z" /></svg>"Service"</li>
                <li><svg width="22" height="22" viewBox="-11 -11 22 22" aria-hidden="true"><path class="shape" d="M 0 -9 L 9 0 L 0 9 L -9 0 Z" /></svg>"Unknown / outside"</li>
                <li><span class="swatch healthy"></span>"Healthy"</li>
                <li><span class="swatch degraded"></span>"Degraded (4xx ≥ 10 %)"</li>
                <li><span class="swatch failure"></span>"Failure (5xx ≥ 10 % or 4xx ≥ 20 %)"</li>
                <li><span class="swatch idle"></span>"No traffic / details not visible to you"</li>
                <li><span class="swatch tcp"></span>"TCP"</li>
                <li><svg width="22" height="22" viewBox="-11 -11 22 22" aria-hidden="true"><path class="lock" d=LOCK /></svg>"mTLS (Security)"</li>
                <li>"! no sidecar"</li>
                <li><svg width="22" height="22" viewBox="-11 -11 22 22" aria-hidden="true"><g class="config-mark bad"><circle r="8" /><text y="4" text-anchor="middle">"×"</text></g></svg>"Istio config error"</li>
                <li><svg width="22" height="22" viewBox="-11 -11 22 22" aria-hidden="true"><g class="config-mark warn"><circle r="8" /><text y="4" text-anchor="middle">"!"</text></g></svg>"Istio config warning"</li>
            </ul>
        </details>
    }
}

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
fn SidePanel(
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
                    api::graph_node(&format!("{q}&{}", format::query_string(&[("node", id)])))
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
        .metrics_url
        .as_deref()
        .and_then(|u| u.split_once('?'))
        .map(|(_, scope)| view! { <NodeCharts scope=scope.to_owned() effective=effective /> });
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
            {d.metrics_url.map(|u| view! { <a href=u>"Traffic metrics"</a> })}
            " "
            {d.traces_url.map(|u| view! { <a href=u>"Traces"</a> })}
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
    /// `scope=…&namespace=…&name=…`, as the node's metrics link has it.
    scope: String,
    effective: Memo<GraphUrl>,
) -> impl IntoView {
    let (direction, set_direction) = signal("inbound");
    let report = LocalResource::new(move || {
        let q = format!(
            "{scope}&direction={}&{}",
            direction.get(),
            effective.read().metrics_time_query()
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_charts_cover_the_graph_window() {
        let mut u = GraphUrl::default();
        assert_eq!(u.metrics_time_query(), "range=10m");
        u.window = "1m".into();
        assert_eq!(u.metrics_time_query(), "range=10m");
        u.window = "3h".into();
        assert_eq!(u.metrics_time_query(), "range=180m");
        u.query_time = "1700000000".into();
        assert_eq!(u.metrics_time_query(), "start=1699989200&end=1700000000");
    }

    #[test]
    fn urls_round_trip_and_feed_the_api() {
        let u = GraphUrl {
            namespaces: "bookinfo,payments".into(),
            graph_type: "workload".into(),
            services: "0".into(),
            find: "rt > 1000".into(),
            ..GraphUrl::default()
        };
        assert_eq!(
            u.api_query(),
            "namespaces=bookinfo%2Cpayments&type=workload&window=10m&injectServiceNodes=false"
        );
        assert_eq!(
            u.page_url(),
            "/graph?namespaces=bookinfo%2Cpayments&type=workload&services=0&find=rt%20%3E%201000"
        );
        assert_eq!(u.namespace_list(), ["bookinfo", "payments"]);
    }

    #[test]
    fn expanding_and_collapsing_namespaces_edit_the_url() {
        let u = GraphUrl {
            namespaces: "a,b,c".into(),
            focus: "wl:a:web".into(),
            ..GraphUrl::default()
        };
        let e = u.with_expanded("b", true);
        assert_eq!(
            (e.aggregate.as_str(), e.expand.as_str()),
            ("namespace", "b")
        );
        assert!(e.focus.is_empty());
        assert_eq!(
            e.api_query(),
            "namespaces=a%2Cb%2Cc&type=versionedApp&window=10m&aggregate=namespace&expand=b"
        );
        let e = e.with_expanded("a", true);
        assert_eq!(e.expand, "a,b");
        // A caller's namespace that was not asked for is asked for too.
        let e = e.with_expanded("z", true);
        assert_eq!(
            (e.namespaces.as_str(), e.expand.as_str()),
            ("a,b,c,z", "a,b,z")
        );
        let e = e.with_expanded("a", false).with_expanded("z", false);
        assert_eq!(e.expand, "b");
        assert_eq!(e.aggregate, "namespace");
        assert_eq!(
            e.page_url(),
            "/graph?namespaces=a%2Cb%2Cc%2Cz&aggregate=namespace&expand=b"
        );
    }

    #[test]
    fn the_overview_grid_keeps_the_layered_order_and_is_wider_than_tall() {
        // Ten nodes laid out in a row, given in reverse order.
        let layered = Layout {
            positions: (0..10).map(|i| (100.0 * (9 - i) as f64, 0.0)).collect(),
            layers: vec![0; 10],
            bands: Vec::new(),
            band: vec![NO_BAND; 10],
            size: (1000.0, 50.0),
        };
        let grid = overview_grid(&layered);
        // sqrt(20) -> 5 columns, 2 rows.
        assert_eq!(grid.size, (5.0 * GRID_DX, 2.0 * GRID_DY));
        // The leftmost of the row (node 9) comes first, node 0 last.
        assert_eq!(grid.positions[9], (0.5 * GRID_DX, 0.5 * GRID_DY));
        assert_eq!(grid.positions[0], (4.5 * GRID_DX, 1.5 * GRID_DY));
    }

    #[test]
    fn folded_namespaces_go_above_the_expanded_ones() {
        use crate::graph::Band;
        let band = |name: &str, top: f64, bottom: f64| Band {
            name: name.into(),
            left: 0.0,
            right: 1000.0,
            top,
            bottom,
        };
        // Folded a, b in the shared band (y 0-40); expanded c below (100-300).
        let layered = Layout {
            positions: vec![(500.0, 20.0), (100.0, 20.0), (300.0, 200.0)],
            layers: vec![0; 3],
            bands: vec![band(OVERVIEW_BAND, 0.0, 40.0), band("c", 100.0, 300.0)],
            band: vec![0, 0, 1],
            size: (1000.0, 320.0),
        };
        let out = folded_above(&layered);
        // a and b are in no band now; c's band is the first.
        assert_eq!(out.band, vec![NO_BAND, NO_BAND, 0]);
        // Four columns fit in 1000; b (left) first, then a: one row.
        assert_eq!(out.positions[1], (0.5 * GRID_DX, 0.5 * GRID_DY));
        assert_eq!(out.positions[0], (1.5 * GRID_DX, 0.5 * GRID_DY));
        // c moves up by the band's 40, down by the row's height.
        assert_eq!(out.positions[2], (300.0, 200.0 - 40.0 + GRID_DY));
        assert_eq!(
            out.bands,
            vec![band("c", 100.0 - 40.0 + GRID_DY, 300.0 - 40.0 + GRID_DY)]
        );
        assert_eq!(out.size, (1000.0, 320.0 - 40.0 + GRID_DY));
    }

    #[test]
    fn namespace_nodes_say_what_they_hold() {
        use crate::types::{GraphOverview, NamespaceSummary};
        let node = GraphNode {
            id: "ns:shop".into(),
            kind: NodeKind::Namespace,
            namespace: "shop".into(),
            name: "shop".into(),
            app: None,
            version: None,
            parent: None,
            inaccessible: false,
            sidecar: None,
            idle: false,
            root: false,
            rps_in: 10.0,
            rps_out: 2.5,
            tcp_in: 0.0,
            tcp_out: 0.0,
            error_pct: 0.0,
            health: GraphHealth::Healthy,
        };
        let graph = Graph {
            graph_type: GraphType::App,
            namespaces: vec!["shop".into()],
            window_s: 600.0,
            query_time: 0.0,
            boxes: vec![],
            nodes: vec![node.clone()],
            edges: vec![],
            warnings: vec![],
            queries: vec![],
            overview: Some(GraphOverview {
                automatic: true,
                detail_limit: 20,
                expanded: vec![],
                namespaces: vec![NamespaceSummary {
                    namespace: "shop".into(),
                    node: "ns:shop".into(),
                    services: 3,
                    nodes: 7,
                    internal_rps: 4.0,
                }],
            }),
        };
        // Busier side (10 in) plus the calls inside (4).
        assert_eq!(
            namespace_summary(&graph, &node).as_deref(),
            Some("3 services · 14 rps")
        );
    }
}
