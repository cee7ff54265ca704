//! The drawing: the SVG of a graph (one element per node and edge, or paths
//! in bulk for big graphs), namespace boxes, pan and zoom, the legend.

use std::collections::HashSet;
use std::time::Duration;

use leptos::prelude::*;

use crate::format;
use crate::graph::{self, EdgeLabel, edge_class, edge_label, edge_name, health_class, node_name};
use crate::pages::istio;
use crate::types::{Graph, GraphNode, GraphOverview, NodeKind};

use super::bulk::BulkCanvas;
use super::side_panel::SidePanel;
use super::{GRID_DX, GRID_DY, GraphUrl, OVERVIEW_BAND, Selection, View, compute};

/// Above this many visible nodes the graph is drawn in bulk, on a canvas
/// (see [`super::bulk`]).
pub const BIG_NODES: usize = 400;
/// Font sizes of a node's name and namespace in drawing units (as in the
/// style sheet): shown only while readable on screen.
const NODE_FONT: f64 = 14.0;
const NODE_SUB_FONT: f64 = 11.5;
/// A small padlock centred on the origin (mTLS edges).
const LOCK: &str = "M -4.5 -0.5 h 9 v 7 h -9 z M -2.8 -0.5 v -2.6 a 2.8 2.8 0 0 1 5.6 0 v 2.6";
/// Node radius in drawing units.
const R: f64 = 16.0;

#[component]
pub(super) fn GraphArea(
    graph: Graph,
    url: Memo<GraphUrl>,
    effective: Memo<GraphUrl>,
    selection: RwSignal<Option<Selection>>,
    config: Signal<Option<std::sync::Arc<istio::ConfigIndex>>>,
    on_expand: Callback<(Vec<String>, bool)>,
    /// Namespaces opened by zooming in on their node: the view starts on
    /// their nodes (then forgets them) instead of the whole drawing.
    zoom_into: RwSignal<Option<Vec<String>>>,
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
        if prev.is_none() {
            // Just opened by zooming in: start on that namespace's nodes.
            let opened = zoom_into.get_untracked().and_then(|opened| {
                view_model.with_untracked(|v| {
                    let vm = &v.3;
                    let members = vm
                        .graph
                        .nodes
                        .iter()
                        .zip(&vm.layout.positions)
                        .filter(|(n, _)| opened.contains(&n.namespace) && !n.kind.is_folded())
                        .map(|(_, p)| *p);
                    graph::extent(members)
                })
            });
            zoom_into.set(None);
            if let Some((x0, y0, x1, y1)) = opened {
                // Room for the box's title above, names below and beside.
                let (side, above, below) = (90.0, 70.0, 60.0);
                viewbox.set((
                    x0 - side,
                    y0 - above,
                    x1 - x0 + 2.0 * side,
                    y1 - y0 + above + below,
                ));
                return size;
            }
        }
        if prev != Some(size) {
            fit();
        }
        size
    });
    // Zoomed in to `vp` about drawing point `at`: on an overview, far
    // enough in on a namespace opens it.
    let zoomed_in = move |vp: graph::Viewport, at: (f64, f64)| {
        view_model.with_untracked(|v| {
            let vm = &v.3;
            if vm.graph.overview.is_none() {
                return;
            }
            let candidates = vm
                .graph
                .nodes
                .iter()
                .zip(&vm.layout.positions)
                .enumerate()
                .filter(|(_, (n, _))| expands_to(&vm.graph, n).is_some())
                .map(|(i, (_, p))| (i, *p));
            if let Some(i) = graph::expand_on_zoom(&vp, at, (GRID_DX, GRID_DY), candidates) {
                if let Some(namespaces) = expands_to(&vm.graph, &vm.graph.nodes[i]) {
                    zoom_into.set(Some(namespaces.clone()));
                    on_expand.run((namespaces, true));
                }
            }
        });
    };
    // Every zoom (wheel, buttons, keys; SVG or canvas): by `k` (above 1:
    // out) about a point of the pane showing `vp`.
    let zoom_about = Callback::new(move |(vp, k, at): (graph::Viewport, f64, (f64, f64))| {
        let next = graph::Viewport {
            view_box: vp.zoomed_about(k, at),
            ..vp
        };
        viewbox.set(next.view_box);
        if k < 1.0 {
            zoomed_in(next, next.to_drawing(at));
        }
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
            // The drawing may be gone by then (a new graph, another page).
            if burst_timer.try_set_value(None).is_some() {
                return;
            }
            let Some((k, fx, fy)) = burst.get_value() else {
                return;
            };
            burst.set_value(None);
            // About the pointer, as the composited preview scaled.
            let vp = viewport(viewbox.get_untracked());
            scale.set((1.0, 0.5, 0.5));
            zoom_about.run((vp, k, (fx * vp.pane.0, fy * vp.pane.1)));
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
        let vp = viewport(viewbox.get_untracked());
        zoom_about.run((vp, k, (vp.pane.0 / 2.0, vp.pane.1 / 2.0)));
    };
    // As tall as the drawing's shape asks at a typical width.
    let pane_height = move || {
        let (w, h) = view_model.with(|v| v.0);
        (1100.0 * h / w.max(1.0)).clamp(380.0, 760.0)
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
                {move || if view_model.with(|v| v.1) > BIG_NODES {
                    let boxes = url.with(|u| u.boxes != "0");
                    view! {
                        <BulkCanvas
                            view=Signal::derive(move || view_model.with(|v| v.3.clone()))
                            viewbox=viewbox
                            selection=selection
                            titles=boxes
                            height=Signal::derive(pane_height)
                            on_expand=on_expand
                            zoom=zoom_about
                        />
                    }.into_any()
                } else { view! {
                <svg
                    class="graph-svg"
                    style=move || {
                        let (dx, dy) = shift.get();
                        let (k, fx, fy) = scale.get();
                        format!(
                            "height: {:.0}px; transform-origin: {:.1}% {:.1}%; transform: translate({dx:.0}px, {dy:.0}px) scale({k:.4})",
                            pane_height(),
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
                }.into_any() }}
                </div>
                <Legend />
            </section>
            <SidePanel selection=selection view_model=Signal::derive(move || view_model.with(|v| v.3.clone())) effective=effective config=config />
        </div>
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
    on_expand: Callback<(Vec<String>, bool)>,
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
                n.kind.as_str(),
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
            // An overview namespace (or project) opens into its members on
            // click (one hidden from the caller cannot: it only shows its
            // traffic).
            let expands = expands_to(g, n);
            let (name, sub) = match (&expands, namespace_summary(g, n)) {
                (Some(_), Some(text)) => (format!("{name}; {text}; expand"), text),
                (Some(_), None) => (format!("{name}; expand"), sub),
                _ => (name, sub),
            };
            let error_badge = (n.kind.is_folded() && n.error_pct >= 0.05).then(|| {
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

/// The namespaces an overview's node opens into: a namespace's own, a
/// project's folded ones; `None` for other nodes and for one hidden from
/// the caller (it only shows its traffic).
pub(super) fn expands_to(graph: &Graph, node: &GraphNode) -> Option<Vec<String>> {
    if node.inaccessible {
        return None;
    }
    match node.kind {
        NodeKind::Namespace => Some(vec![node.namespace.clone()]),
        NodeKind::Project => graph
            .overview
            .as_ref()?
            .namespaces
            .iter()
            .find(|s| s.node == node.id)
            .map(|s| s.namespaces.clone())
            .filter(|n| !n.is_empty()),
        _ => None,
    }
}

/// What an overview namespace node stands for: `3 services · 12.4 rps`
/// (its nodes when it has no service nodes), a project's with its
/// namespaces first (`2 namespaces · 5 services · 3 rps`); `None` for
/// other nodes.
pub fn namespace_summary(graph: &Graph, node: &GraphNode) -> Option<String> {
    if !node.kind.is_folded() {
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
    let namespaces = (node.kind == NodeKind::Project).then(|| {
        let k = s.namespaces.len();
        format!("{k} namespace{} · ", if k == 1 { "" } else { "s" })
    });
    Some(format!(
        "{}{count} {what}{} · {} rps",
        namespaces.unwrap_or_default(),
        if count == 1 { "" } else { "s" },
        format::number(rps)
    ))
}

/// Above the overview: what it shows and why, and the expanded namespaces
/// with a control to fold each back.
#[component]
fn OverviewBar(overview: GraphOverview, on_expand: Callback<(Vec<String>, bool)>) -> impl IntoView {
    let n = overview.namespaces.len();
    let what = overview.by.as_str();
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
                {format!("Showing {n} {what}{} as an overview; click one to see its services", if n == 1 { "" } else { "s" })}
                {why}
                "."
            </span>
            {expanded
                .into_iter()
                .map(|ns| {
                    let label = format!("Collapse {ns}");
                    view! {
                        <button type="button" on:click=move |_| on_expand.run((vec![ns.clone()], false))>
                            {label}
                        </button>
                    }
                })
                .collect_view()}
        </section>
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
        NodeKind::Namespace | NodeKind::Project => view! { <rect class="shape" x=-R - 2.0 y=-R width=2.0 * R + 4.0 height=2.0 * R rx="4" /> <rect class="shape-inner" x=-R + 3.0 y=-R + 5.0 width=2.0 * R - 6.0 height=2.0 * R - 10.0 rx="2" /> }.into_any(),
    }
}

/// The namespace boxes of a drawing: not for the overview's namespace
/// nodes (each drawn as its own node) nor their shared band.
pub(super) fn band_boxes(vm: &View) -> Vec<graph::BandBox> {
    let folded: HashSet<&str> = vm
        .graph
        .overview
        .iter()
        .flat_map(|o| o.namespaces.iter().map(|s| s.namespace.as_str()))
        .collect();
    graph::band_boxes(&vm.layout, &|name| {
        name == OVERVIEW_BAND || folded.contains(name)
    })
}

fn namespace_boxes(vm: &View) -> Vec<AnyView> {
    let mut out: Vec<AnyView> = band_boxes(vm)
        .into_iter()
        .map(|b| {
            let (x, y, w, h) = b.rect;
            let (tx, ty) = b.title_at;
            view! {
                <g class="ns-box">
                    <rect x=format!("{x:.1}") y=format!("{y:.1}") width=format!("{w:.1}") height=format!("{h:.1}") rx="10" />
                    <text x=format!("{tx:.1}") y=format!("{ty:.1}")>{b.name}</text>
                </g>
            }
            .into_any()
        })
        .collect();
    // App boxes (versioned app graph): around their members, with room for
    // the names below.
    out.extend(graph::app_extents(&vm.graph, &vm.layout).into_iter().map(|(x0, y0, x1, y1)| {
        view! {
            <g class="app-box">
                <rect x=format!("{:.1}", x0 - 34.0) y=format!("{:.1}", y0 - 28.0) width=format!("{:.1}", x1 - x0 + 68.0) height=format!("{:.1}", y1 - y0 + 70.0) rx="8" />
            </g>
        }
        .into_any()
    }));
    out
}

/// What the graph pane shows for a view box: the SVG's (or the bulk
/// canvas's) size on screen (the SVG's transform while dragging or zooming
/// does not change it).
fn viewport(view_box: (f64, f64, f64, f64)) -> graph::Viewport {
    let pane = web_sys::window()
        .and_then(|win| win.document())
        .and_then(|doc| {
            doc.query_selector(".graph-svg, .graph-canvas")
                .ok()
                .flatten()
        })
        .map_or((1100.0, 760.0), |el| {
            (
                f64::from(el.client_width()).max(1.0),
                f64::from(el.client_height()).max(1.0),
            )
        });
    graph::Viewport { view_box, pane }
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
                <li><svg width="22" height="22" viewBox="-11 -11 22 22" aria-hidden="true"><rect class="shape" x="-10" y="-8" width="20" height="16" rx="3" /><rect class="shape" x="-6" y="-4" width="12" height="8" rx="1" /></svg>"Namespace or project (overview; click or zoom in to open)"</li>
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Aggregate, GraphHealth, GraphType};

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
                by: Aggregate::Namespace,
                namespaces: vec![NamespaceSummary {
                    namespace: "shop".into(),
                    node: "ns:shop".into(),
                    namespaces: vec!["shop".into()],
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
        assert_eq!(expands_to(&graph, &node), Some(vec!["shop".to_owned()]));

        // A project: its namespaces first; it opens into all of them, and
        // one hidden from the caller into none.
        let mut project = node.clone();
        project.id = "project:p-shop".into();
        project.kind = NodeKind::Project;
        project.namespace = "p-shop".into();
        project.name = "Shop".into();
        let mut graph = graph;
        let o = graph.overview.as_mut().unwrap();
        o.by = Aggregate::Project;
        o.namespaces[0].node = project.id.clone();
        o.namespaces[0].namespace = "p-shop".into();
        o.namespaces[0].namespaces = vec!["shop".into(), "shop-db".into()];
        graph.nodes = vec![project.clone()];
        assert_eq!(
            namespace_summary(&graph, &project).as_deref(),
            Some("2 namespaces · 3 services · 14 rps")
        );
        assert_eq!(
            expands_to(&graph, &project),
            Some(vec!["shop".to_owned(), "shop-db".to_owned()])
        );
        project.inaccessible = true;
        assert_eq!(expands_to(&graph, &project), None);
    }
}
