//! Traffic Graph (Kiali-style): namespaces, graph type, window, replay,
//! edge labels, display toggles and find/hide live in the URL; the graph is
//! laid out in Rust ([`crate::graph`]) and drawn as SVG: one element
//! per node and edge for ordinary graphs (each a button with an accessible
//! name), one path per health class for big ones.

mod bulk;
mod canvas;
mod controls;
mod side_panel;

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;

use crate::components::layout::{MeResource, PageHeader};
use crate::components::state::loaded;
use crate::format;
use crate::graph::{self, Expr, Layout, Toggles};
use crate::nav::GRAPH;
use crate::types::{Aggregate, Graph, GraphQuery, GraphType, Me, MetricsQuery, NodeKind, TimeSpan};

use controls::GraphWithControls;

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
            if next.aggregate_kind().is_none() {
                next.aggregate = Aggregate::Namespace.as_str().to_owned();
            }
        }
        expand.sort();
        next.expand = expand.join(",");
        next.focus.clear();
        next.depth.clear();
        next
    }

    /// The overview asked for in the URL, if any.
    pub fn aggregate_kind(&self) -> Option<Aggregate> {
        Aggregate::parse(&self.aggregate)
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

    /// `query` over the time this graph covers: its window (at least 10
    /// minutes, so the charts have a shape), ending now or, replaying, at
    /// the graph's moment.
    pub fn metrics_time(&self, query: MetricsQuery) -> MetricsQuery {
        let window_s = crate::links::seconds(self.window()).unwrap_or(600).max(600);
        match self.query_time.parse::<f64>() {
            Ok(t) if t.is_finite() && t > 0.0 => {
                let end = t.round();
                MetricsQuery {
                    start: Some(end - window_s as f64),
                    end: Some(end),
                    range: None,
                    ..query
                }
            }
            _ => MetricsQuery {
                range: TimeSpan::parse_range(&format!("{}m", window_s / 60)),
                start: None,
                end: None,
                ..query
            },
        }
    }

    /// `GET /api/graph`'s query for this state (without a node). Values
    /// the URL got wrong are left to the server's defaults.
    pub fn api_query(&self) -> GraphQuery {
        let text = |v: &String| (!v.is_empty()).then(|| v.clone());
        let focus = text(&self.focus);
        GraphQuery {
            namespaces: text(&self.namespaces),
            graph_type: Some(self.graph_type()),
            window: Some(self.window().to_owned()),
            query_time: self.query_time.parse().ok(),
            inject_service_nodes: (self.services == "0").then_some(false),
            node: None,
            depth: focus.as_ref().and_then(|_| self.depth.parse().ok()),
            focus,
            aggregate: self.aggregate_kind(),
            expand: text(&self.expand),
        }
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
    // Who the caller is and which namespaces they see: the shell's answer.
    let MeResource(me) = expect_context::<MeResource>();
    view! {
        <PageHeader item=GRAPH />
        {loaded("namespaces", me, move |me: Option<Me>| {
            me.map(|me| view! { <GraphWithControls me=me url=url go=go /> })
        })}
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
                n.kind.is_folded() || matches!(n.kind, NodeKind::Unknown | NodeKind::External)
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
    // The folded namespaces (and projects, by id): their nodes, and the
    // namespaces each stands for.
    let folded: HashSet<String> = graph
        .nodes
        .iter()
        .filter(|n| n.kind.is_folded())
        .map(|n| n.namespace.clone())
        .chain(graph.overview.iter().flat_map(|o| {
            o.namespaces
                .iter()
                .flat_map(|s| s.namespaces.iter().cloned())
        }))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_charts_cover_the_graph_window() {
        let mut u = GraphUrl::default();
        let time = |u: &GraphUrl| format::query_of(&u.metrics_time(MetricsQuery::default()));
        assert_eq!(time(&u), "range=10m");
        u.window = "1m".into();
        assert_eq!(time(&u), "range=10m");
        u.window = "3h".into();
        assert_eq!(time(&u), "range=180m");
        u.query_time = "1700000000".into();
        assert_eq!(time(&u), "start=1699989200&end=1700000000");
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
            format::query_of(&u.api_query()),
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
            format::query_of(&e.api_query()),
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
        // The overview by project stays by project when one opens.
        let p = GraphUrl {
            namespaces: "a,b".into(),
            aggregate: "project".into(),
            ..GraphUrl::default()
        }
        .with_expanded("a", true);
        assert_eq!((p.aggregate.as_str(), p.expand.as_str()), ("project", "a"));
        assert_eq!(p.api_query().aggregate, Some(Aggregate::Project));
        // Anything else is no overview.
        let n = GraphUrl {
            aggregate: "teams".into(),
            ..GraphUrl::default()
        };
        assert_eq!(n.api_query().aggregate, None);
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
}
