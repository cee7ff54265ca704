//! What a bulk drawing holds, as path data in drawing units, built once per
//! graph and laid out: the page turns each path into one `Path2D` and
//! draws the whole scene on a canvas for every view (see
//! `pages/graph/bulk.rs`), so a frame costs a few draw calls whatever the
//! number of nodes.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::types::{EdgeProtocol, Graph, GraphEdge, GraphHealth};

use super::edges::{BOX_PAD, bundled_arrow, edge_arrow, trunk};
use super::layout::Layout;

/// Radius of a bulk dot in drawing units.
pub const DOT_R: f64 = 12.8;
/// Length of a bulk edge's arrowhead, in drawing units.
pub const BULK_HEAD: f64 = 9.0;
/// Corner radius of a namespace box, in drawing units.
const BOX_CORNER: f64 = 10.0;

/// The style class of a node's or edge's health (the style sheet's and the
/// canvas palette's key).
pub fn health_class(h: GraphHealth) -> &'static str {
    match h {
        GraphHealth::Healthy => "healthy",
        GraphHealth::Degraded => "degraded",
        GraphHealth::Failure => "failure",
        GraphHealth::NoTraffic => "idle",
    }
}

/// The style class of an edge: TCP, or its health.
pub fn edge_class(e: &GraphEdge) -> &'static str {
    if e.protocol == EdgeProtocol::Tcp {
        "tcp"
    } else {
        health_class(e.health)
    }
}

/// A namespace's box around its band.
#[derive(Clone, Debug, PartialEq)]
pub struct BandBox {
    /// The namespace.
    pub name: String,
    /// `x, y, width, height` in drawing units.
    pub rect: (f64, f64, f64, f64),
    /// Where its title's baseline starts.
    pub title_at: (f64, f64),
}

/// The boxes of the layout's bands that stand for a namespace (not the
/// band of nodes outside any namespace, `unknown`, nor one in `skip`).
pub fn band_boxes(layout: &Layout, skip: &dyn Fn(&str) -> bool) -> Vec<BandBox> {
    let (side, above, below) = BOX_PAD;
    layout
        .bands
        .iter()
        .filter(|b| b.name != "unknown" && !skip(&b.name))
        .map(|b| BandBox {
            name: b.name.clone(),
            rect: (
                b.left - side,
                b.top - above,
                b.right - b.left + 2.0 * side,
                b.bottom - b.top + above + below,
            ),
            title_at: b.title_at(),
        })
        .collect()
}

/// The extent of each versioned app of `graph` with two or more nodes:
/// `left, top, right, bottom` of its members' centres.
pub fn app_extents(graph: &Graph, layout: &Layout) -> Vec<(f64, f64, f64, f64)> {
    let mut members: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for (n, p) in graph.nodes.iter().zip(&layout.positions) {
        if let Some(parent) = n.parent.as_deref() {
            members.entry(parent).or_default().push(*p);
        }
    }
    graph
        .boxes
        .iter()
        .filter(|b| b.kind == crate::types::BoxKind::App)
        .filter_map(|b| members.get(b.id.as_str()).filter(|m| m.len() >= 2))
        .filter_map(|m| extent(m.iter().copied()))
        .collect()
}

/// `left, top, right, bottom` of points; `None` for none.
pub fn extent(points: impl IntoIterator<Item = (f64, f64)>) -> Option<(f64, f64, f64, f64)> {
    points.into_iter().fold(None, |acc, (x, y)| {
        Some(match acc {
            None => (x, y, x, y),
            Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
        })
    })
}

/// A bulk drawing as SVG path data (one path per style class), in drawing
/// units.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BulkScene {
    /// Namespace boxes (rounded rectangles), and the boxes themselves.
    pub band_path: String,
    pub bands: Vec<BandBox>,
    /// Versioned apps' boxes.
    pub app_path: String,
    /// Edges by class (sorted): each a polyline with an open arrowhead.
    pub edges: Vec<(&'static str, String)>,
    /// Dots by health class (sorted): each a circle of [`DOT_R`].
    pub nodes: Vec<(&'static str, String)>,
    /// The same dots as squares of side `2 * DOT_R`, for scales where a dot
    /// is a pixel or two across (cheaper to fill than circles, and the same
    /// on screen).
    pub specks: Vec<(&'static str, String)>,
}

/// The bulk drawing of `graph` laid out as `layout`: edges between two
/// namespace bands run along the bands' shared trunk; `bands` are the
/// namespace boxes to draw.
pub fn bulk_scene(graph: &Graph, layout: &Layout, bands: Vec<BandBox>) -> BulkScene {
    let index: std::collections::HashMap<&str, usize> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let pos = &layout.positions;
    let band_of = |i: usize| layout.band.get(i).copied().unwrap_or(usize::MAX);
    let mut edges: BTreeMap<&'static str, String> = BTreeMap::new();
    for e in &graph.edges {
        let (Some(&s), Some(&t)) = (index.get(e.source.as_str()), index.get(e.target.as_str()))
        else {
            continue;
        };
        let arrow = match trunk(layout, band_of(s), band_of(t)) {
            Some(trunk) => bundled_arrow(pos[s], trunk, pos[t], DOT_R, BULK_HEAD),
            None => edge_arrow(pos[s], pos[t], DOT_R, BULK_HEAD),
        };
        if let Some(arrow) = arrow {
            edges
                .entry(edge_class(e))
                .or_default()
                .push_str(&arrow.path());
        }
    }
    let mut nodes: BTreeMap<&'static str, String> = BTreeMap::new();
    let mut specks: BTreeMap<&'static str, String> = BTreeMap::new();
    for (n, (x, y)) in graph.nodes.iter().zip(pos) {
        let class = health_class(n.health);
        let r = DOT_R;
        let _ = write!(
            nodes.entry(class).or_default(),
            "M{:.1} {y:.1}a{r} {r} 0 1 0 {:.1} 0a{r} {r} 0 1 0 {:.1} 0",
            x - r,
            2.0 * r,
            -2.0 * r
        );
        let _ = write!(
            specks.entry(class).or_default(),
            "M{:.1} {:.1}h{:.1}v{:.1}h{:.1}Z",
            x - r,
            y - r,
            2.0 * r,
            2.0 * r,
            -2.0 * r
        );
    }
    let mut band_path = String::new();
    for b in &bands {
        rounded_rect(&mut band_path, b.rect, BOX_CORNER);
    }
    let mut app_path = String::new();
    let pad = 20.0;
    for (x0, y0, x1, y1) in app_extents(graph, layout) {
        let r = (x0 - pad, y0 - pad, x1 - x0 + 2.0 * pad, y1 - y0 + 2.0 * pad);
        rounded_rect(&mut app_path, r, 0.0);
    }
    BulkScene {
        band_path,
        bands,
        app_path,
        edges: edges.into_iter().collect(),
        nodes: nodes.into_iter().collect(),
        specks: specks.into_iter().collect(),
    }
}

/// Appends a closed rectangle with corners of radius `c` as path data.
fn rounded_rect(d: &mut String, (x, y, w, h): (f64, f64, f64, f64), c: f64) {
    let c = c.min(w / 2.0).min(h / 2.0).max(0.0);
    if c == 0.0 {
        let _ = write!(d, "M{x:.1} {y:.1}h{w:.1}v{h:.1}h{:.1}Z", -w);
        return;
    }
    let _ = write!(
        d,
        "M{:.1} {y:.1}h{:.1}a{c} {c} 0 0 1 {c} {c}v{:.1}a{c} {c} 0 0 1 {:.1} {c}h{:.1}a{c} {c} 0 0 1 {:.1} {:.1}v{:.1}a{c} {c} 0 0 1 {c} {:.1}Z",
        x + c,
        w - 2.0 * c,
        h - 2.0 * c,
        -c,
        -(w - 2.0 * c),
        -c,
        -c,
        -(h - 2.0 * c),
        -c
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::fixtures::{edge, graph};
    use crate::types::NodeKind;

    fn node(ns: &str, name: &str) -> crate::types::GraphNode {
        crate::graph::fixtures::node(
            &format!("{ns}/{name}"),
            ns,
            NodeKind::Workload,
            GraphHealth::Healthy,
        )
    }

    /// Circles' centres, from `M<x - r> <y>a…` (each dot's start point).
    fn centres(d: &str) -> Vec<(f64, f64)> {
        d.split('M')
            .filter(|s| !s.is_empty())
            .map(|s| {
                let head: Vec<f64> = s
                    .split('a')
                    .next()
                    .unwrap()
                    .split(' ')
                    .map(|v| v.parse().unwrap())
                    .collect();
                (head[0] + DOT_R, head[1])
            })
            .collect()
    }

    #[test]
    fn every_node_is_one_dot_in_its_health_class_path() {
        let mut n = vec![node("a", "x"), node("a", "y"), node("b", "z")];
        n[1].health = GraphHealth::Failure;
        let g = graph(n, vec![]);
        let layout = crate::graph::layout_graph(&g);
        let scene = bulk_scene(&g, &layout, vec![]);
        let classes: Vec<&str> = scene.nodes.iter().map(|(c, _)| *c).collect();
        assert_eq!(classes, ["failure", "healthy"]);
        let healthy = centres(&scene.nodes[1].1);
        let failure = centres(&scene.nodes[0].1);
        let near =
            |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).abs() < 0.06 && (a.1 - b.1).abs() < 0.06;
        assert_eq!(failure.len(), 1);
        assert!(near(failure[0], layout.positions[1]));
        assert_eq!(healthy.len(), 2);
        assert!(near(healthy[0], layout.positions[0]) && near(healthy[1], layout.positions[2]));
        // The squares stand where the circles do, by class.
        let classes: Vec<&str> = scene.specks.iter().map(|(c, _)| *c).collect();
        assert_eq!(classes, ["failure", "healthy"]);
        let corner = |d: &str| -> Vec<(f64, f64)> {
            d.split('M')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    let v: Vec<f64> = s
                        .split('h')
                        .next()
                        .unwrap()
                        .split(' ')
                        .map(|v| v.parse().unwrap())
                        .collect();
                    (v[0] + DOT_R, v[1] + DOT_R)
                })
                .collect()
        };
        let squares = corner(&scene.specks[1].1);
        assert!(near(squares[0], layout.positions[0]) && near(squares[1], layout.positions[2]));
        assert!(near(corner(&scene.specks[0].1)[0], layout.positions[1]));
    }

    #[test]
    fn edges_go_by_class_and_skip_unknown_ends() {
        let n = vec![node("a", "x"), node("a", "y"), node("b", "z")];
        let (x, y, z) = (n[0].id.clone(), n[1].id.clone(), n[2].id.clone());
        let mut tcp = edge(&x, &z, 1.0, 10.0);
        tcp.protocol = EdgeProtocol::Tcp;
        let g = graph(
            n,
            vec![edge(&x, &y, 1.0, 10.0), tcp, edge(&y, "nowhere", 1.0, 10.0)],
        );
        let layout = crate::graph::layout_graph(&g);
        let scene = bulk_scene(&g, &layout, vec![]);
        let classes: Vec<&str> = scene.edges.iter().map(|(c, _)| *c).collect();
        assert_eq!(classes, ["healthy", "tcp"]);
        // One arrow each: a line (M … L …) and its head (M … L … L …).
        for (_, d) in &scene.edges {
            assert_eq!(d.matches('M').count(), 2, "{d}");
        }
    }

    #[test]
    fn extents_span_their_points() {
        assert_eq!(extent([]), None);
        assert_eq!(extent([(3.0, 4.0)]), Some((3.0, 4.0, 3.0, 4.0)));
        assert_eq!(
            extent([(3.0, 4.0), (-1.0, 9.0), (2.0, -5.0)]),
            Some((-1.0, -5.0, 3.0, 9.0))
        );
    }

    #[test]
    fn band_boxes_pad_their_bands_and_skip_what_they_are_told() {
        let g = graph(vec![node("a", "x"), node("b", "y")], vec![]);
        let layout = crate::graph::layout_graph(&g);
        let boxes = band_boxes(&layout, &|name| name == "b");
        assert_eq!(boxes.len(), 1);
        let (b, band) = (&boxes[0], &layout.bands[0]);
        assert_eq!(b.name, "a");
        let (side, above, below) = BOX_PAD;
        assert_eq!(b.rect.0, band.left - side);
        assert_eq!(b.rect.1, band.top - above);
        assert_eq!(b.rect.0 + b.rect.2, band.right + side);
        assert_eq!(b.rect.1 + b.rect.3, band.bottom + below);
        let scene = bulk_scene(&g, &layout, boxes);
        // A rounded rectangle: four sides, four corners, closed.
        assert_eq!(scene.band_path.matches('a').count(), 4);
        assert!(scene.band_path.ends_with('Z'));
    }
}
