//! The Traffic Graph's pure logic, tested natively: a layered left-to-right
//! layout (Sugiyama-style: cycle breaking, longest-path layers, barycenter
//! ordering within namespace bands), edge geometry (ends on the target's
//! near side, bulk arrows, band-to-band trunks), which names are readable
//! in the pane ([`Viewport`], [`bulk_labels`]), Kiali-style find/hide
//! expressions, edge labels and accessible names.
//!
//! No layout crate: `layout-rs` (0.1) is a Graphviz-style renderer without
//! grouping, and the bands used here (one horizontal band per namespace, so
//! namespace boxes never overlap) are a few lines on top of plain layering.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::types::{EdgeProtocol, Graph, GraphEdge, GraphHealth, GraphNode, NodeKind};

/// Horizontal distance between layers.
pub const LAYER_GAP: f64 = 190.0;
/// Vertical distance between nodes of one layer.
pub const ROW_GAP: f64 = 70.0;
/// Vertical gap between namespace bands.
pub const BAND_GAP: f64 = 56.0;
/// Margin around everything.
pub const MARGIN: f64 = 60.0;
/// Horizontal distance between the sub-columns of a wrapped layer.
pub const SUB_GAP: f64 = 130.0;
/// Horizontal gap between columns of bands.
pub const COLUMN_GAP: f64 = 140.0;
/// Fewest rows a wrapped layer keeps.
const MIN_ROWS: usize = 8;
/// Most columns of bands.
const MAX_COLUMNS: usize = 12;
/// Drawings at least this wide for their height stay as laid out.
const KEEP_ASPECT: f64 = 0.5;
/// Drawings at most this tall stay as laid out.
const KEEP_HEIGHT: f64 = 1500.0;
/// Width over height a rearranged drawing aims for (a wide pane).
const TARGET_ASPECT: f64 = 1.6;
/// Barycenter sweeps (down and up count as one).
const SWEEPS: usize = 4;

/// Where everything goes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    /// Position of each node (centre), by node index.
    pub positions: Vec<(f64, f64)>,
    /// Layer of each node.
    pub layers: Vec<usize>,
    /// Namespace bands, where their nodes are.
    pub bands: Vec<Band>,
    /// Band of each node (index into `bands`).
    pub band: Vec<usize>,
    /// Width and height of the drawing.
    pub size: (f64, f64),
}

/// A namespace's band: the rectangle its nodes are in.
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    /// The namespace.
    pub name: String,
    /// Left edge.
    pub left: f64,
    /// Right edge.
    pub right: f64,
    /// Top edge.
    pub top: f64,
    /// Bottom edge.
    pub bottom: f64,
}

/// Lays out `nodes` (grouped into bands by `group`) with `edges` as index
/// pairs: callers left of callees, namespaces in horizontal bands; a
/// drawing that would be very tall wraps crowded layers into sub-columns
/// and puts the bands into several columns (see [`choose_arrangement`]).
pub fn layout(groups: &[String], edges: &[(usize, usize)]) -> Layout {
    let n = groups.len();
    if n == 0 {
        return Layout {
            size: (2.0 * MARGIN, 2.0 * MARGIN),
            ..Layout::default()
        };
    }
    let mut out_adj = vec![Vec::new(); n];
    let mut in_adj = vec![Vec::new(); n];
    for &(s, t) in edges {
        if s < n && t < n && s != t {
            out_adj[s].push(t);
            in_adj[t].push(s);
        }
    }
    let forward = acyclic(&out_adj, &in_adj);
    // Longest path from the sources, over the forward edges (Kahn).
    let mut indegree = vec![0usize; n];
    for (s, targets) in out_adj.iter().enumerate() {
        for &t in targets {
            if forward.contains(&(s, t)) {
                indegree[t] += 1;
            }
        }
    }
    let mut layer = vec![0usize; n];
    let mut queue: Vec<usize> = (0..n).filter(|i| indegree[*i] == 0).collect();
    let mut head = 0;
    while head < queue.len() {
        let s = queue[head];
        head += 1;
        for &t in &out_adj[s] {
            if forward.contains(&(s, t)) {
                layer[t] = layer[t].max(layer[s] + 1);
                indegree[t] -= 1;
                if indegree[t] == 0 {
                    queue.push(t);
                }
            }
        }
    }
    let layers = layer.iter().max().map_or(1, |m| m + 1);
    // Bands: namespaces in order of their leftmost node, then name.
    let mut band_order: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, g) in groups.iter().enumerate() {
        let e = band_order.entry(g.as_str()).or_insert(usize::MAX);
        *e = (*e).min(layer[i]);
    }
    let mut bands: Vec<&str> = band_order.keys().copied().collect();
    bands.sort_by_key(|b| (band_order[b], *b));
    let band_of: HashMap<&str, usize> = bands.iter().enumerate().map(|(i, b)| (*b, i)).collect();
    let band: Vec<usize> = groups.iter().map(|g| band_of[g.as_str()]).collect();
    // Cells: (band, layer) -> nodes, first by index (stable), then by
    // barycenter of the neighbours in the previous (or next) layer.
    let mut cells: Vec<Vec<Vec<usize>>> = vec![vec![Vec::new(); layers]; bands.len()];
    for i in 0..n {
        cells[band[i]][layer[i]].push(i);
    }
    let mut rank = vec![0.0f64; n];
    let rerank = |cells: &Vec<Vec<Vec<usize>>>, rank: &mut Vec<f64>| {
        for b in cells {
            for cell in b {
                for (k, i) in cell.iter().enumerate() {
                    rank[*i] = k as f64;
                }
            }
        }
    };
    rerank(&cells, &mut rank);
    for sweep in 0..SWEEPS * 2 {
        let down = sweep % 2 == 0;
        let order: Vec<usize> = if down {
            (1..layers).collect()
        } else {
            (0..layers.saturating_sub(1)).rev().collect()
        };
        for l in order {
            for (b, band_cells) in cells.iter_mut().enumerate() {
                let cell = &mut band_cells[l];
                if cell.len() < 2 {
                    continue;
                }
                let key = |i: usize| {
                    let neighbours = if down { &in_adj[i] } else { &out_adj[i] };
                    let (sum, count) = neighbours
                        .iter()
                        .filter(|j| band[**j] == b)
                        .fold((0.0, 0usize), |(s, c), j| (s + rank[*j], c + 1));
                    if count == 0 {
                        rank[i]
                    } else {
                        sum / count as f64
                    }
                };
                let mut keyed: Vec<(f64, usize)> = cell.iter().map(|i| (key(*i), *i)).collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                *cell = keyed.into_iter().map(|(_, i)| i).collect();
                for (k, i) in cell.iter().enumerate() {
                    rank[*i] = k as f64;
                }
            }
        }
    }
    let (cap, columns) = choose_arrangement(&cells, layers);
    place(&cells, layers, &bands, cap, columns, layer)
}

/// Sub-columns a cell of `len` nodes takes with at most `cap` rows, and the
/// rows it then uses (spread evenly over the sub-columns).
fn wrap(len: usize, cap: usize) -> (usize, usize) {
    if len == 0 {
        return (1, 0);
    }
    let subs = len.div_ceil(cap.max(1));
    (subs, len.div_ceil(subs))
}

/// The geometry of one arrangement: per layer its sub-columns and the x of
/// the first (relative to a column's left edge), a column's width, and
/// per band its height.
struct Geometry {
    subs: Vec<usize>,
    layer_x: Vec<f64>,
    width: f64,
    heights: Vec<f64>,
}

fn geometry(cells: &[Vec<Vec<usize>>], layers: usize, cap: usize) -> Geometry {
    let subs: Vec<usize> = (0..layers)
        .map(|l| {
            cells
                .iter()
                .map(|band| wrap(band[l].len(), cap).0)
                .max()
                .unwrap_or(1)
        })
        .collect();
    let mut layer_x = Vec::with_capacity(layers);
    let mut x = 60.0;
    for &sub in &subs {
        layer_x.push(x);
        x += LAYER_GAP + (sub - 1) as f64 * SUB_GAP;
    }
    let width = x - LAYER_GAP + 60.0;
    let heights = cells
        .iter()
        .map(|band| {
            let rows = band
                .iter()
                .map(|cell| wrap(cell.len(), cap).1)
                .max()
                .unwrap_or(1)
                .max(1);
            rows as f64 * ROW_GAP
        })
        .collect();
    Geometry {
        subs,
        layer_x,
        width,
        heights,
    }
}

/// Bands split into `columns` runs of about equal height, in band order.
fn pack(heights: &[f64], columns: usize) -> Vec<usize> {
    let total: f64 = heights.iter().map(|h| h + BAND_GAP).sum();
    let target = total / columns.max(1) as f64;
    let mut column_of = Vec::with_capacity(heights.len());
    let (mut column, mut filled) = (0, 0.0);
    for h in heights {
        if filled > 0.0 && filled + h / 2.0 > target && column + 1 < columns {
            column += 1;
            filled = 0.0;
        }
        column_of.push(column);
        filled += h + BAND_GAP;
    }
    column_of
}

/// Width and height of the drawing for an arrangement.
fn extent(g: &Geometry, column_of: &[usize]) -> (f64, f64) {
    let columns = column_of.iter().max().map_or(1, |c| c + 1);
    let mut tall = vec![0.0f64; columns];
    for (h, c) in g.heights.iter().zip(column_of) {
        tall[*c] += h + BAND_GAP;
    }
    let height = tall.iter().copied().fold(0.0, f64::max) - BAND_GAP;
    let width = columns as f64 * g.width + (columns - 1) as f64 * COLUMN_GAP;
    (width + 2.0 * MARGIN, height + 2.0 * MARGIN)
}

/// How many rows a layer keeps before it wraps into sub-columns, and into
/// how many columns the bands go. A drawing that is not much taller than
/// wide, or not tall at all, stays as it is (one column, no wrapping); a
/// tall one (many namespaces, or crowded layers) is rearranged towards the
/// pane's shape,
/// preferring less wrapping and fewer columns among near-equal shapes.
fn choose_arrangement(cells: &[Vec<Vec<usize>>], layers: usize) -> (usize, usize) {
    let fullest = cells
        .iter()
        .flat_map(|band| band.iter().map(Vec::len))
        .max()
        .unwrap_or(1)
        .max(1);
    let plain = geometry(cells, layers, fullest);
    let (w, h) = extent(&plain, &vec![0; cells.len()]);
    // Fitted into the pane (about 1100 x 760), such a drawing keeps its
    // nodes and labels readable; only a much taller one is rearranged.
    if w / h >= KEEP_ASPECT || h <= KEEP_HEIGHT {
        return (fullest, 1);
    }
    let mut caps = vec![fullest];
    let mut cap = fullest;
    while cap > MIN_ROWS {
        cap = (cap * 4 / 5).max(MIN_ROWS);
        caps.push(cap);
    }
    let error = |(w, h): (f64, f64)| ((w / h) / TARGET_ASPECT).ln().abs();
    let mut best = (f64::MAX, fullest, 1);
    for &cap in &caps {
        let g = geometry(cells, layers, cap);
        for columns in 1..=cells.len().min(MAX_COLUMNS) {
            let e = error(extent(&g, &pack(&g.heights, columns)));
            // A clearly better shape wins; otherwise the first (least
            // rearranged) one found stays.
            if e < best.0 - 0.05 {
                best = (e, cap, columns);
            }
        }
    }
    (best.1, best.2)
}

/// Coordinates: bands stacked in columns, each band as tall as its fullest
/// (wrapped) layer; a layer's nodes centred in their band.
fn place(
    cells: &[Vec<Vec<usize>>],
    layers: usize,
    bands: &[&str],
    cap: usize,
    columns: usize,
    layer: Vec<usize>,
) -> Layout {
    let n = layer.len();
    let g = geometry(cells, layers, cap);
    let column_of = pack(&g.heights, columns);
    let mut positions = vec![(0.0, 0.0); n];
    let mut band_of = vec![0; n];
    let mut band_rects = Vec::with_capacity(bands.len());
    let mut tops = vec![MARGIN; columns.max(1)];
    for (b, name) in bands.iter().enumerate() {
        let column = column_of[b];
        let left = MARGIN + column as f64 * (g.width + COLUMN_GAP);
        let top = tops[column];
        let height = g.heights[b];
        for (l, cell) in cells[b].iter().enumerate() {
            let (subs, rows) = wrap(cell.len(), cap);
            // Sub-columns of a wrapped layer centred on its span.
            let spare = (g.subs[l] - subs) as f64 * SUB_GAP / 2.0;
            let offset = (height / ROW_GAP - rows as f64) * ROW_GAP / 2.0;
            for (k, i) in cell.iter().enumerate() {
                band_of[*i] = b;
                let (sub, row) = (k / rows.max(1), k % rows.max(1));
                positions[*i] = (
                    left + g.layer_x[l] + spare + sub as f64 * SUB_GAP,
                    top + offset + (row as f64 + 0.5) * ROW_GAP,
                );
            }
        }
        band_rects.push(Band {
            name: (*name).to_owned(),
            left,
            right: left + g.width,
            top,
            bottom: top + height,
        });
        tops[column] = top + height + BAND_GAP;
    }
    Layout {
        positions,
        layers: layer,
        bands: band_rects,
        band: band_of,
        size: extent(&g, &column_of),
    }
}

/// The edges kept after breaking cycles: those not closing a cycle in a
/// depth-first search started from the sources (iterative, no recursion
/// limit on big graphs).
fn acyclic(out_adj: &[Vec<usize>], in_adj: &[Vec<usize>]) -> HashSet<(usize, usize)> {
    let n = out_adj.len();
    // 0 = unvisited, 1 = on the stack, 2 = done.
    let mut state = vec![0u8; n];
    let mut forward = HashSet::new();
    let starts: Vec<usize> = (0..n)
        .filter(|i| in_adj[*i].is_empty())
        .chain(0..n)
        .collect();
    for start in starts {
        if state[start] != 0 {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some((v, next)) = stack.last_mut() {
            let v = *v;
            if let Some(&t) = out_adj[v].get(*next) {
                *next += 1;
                match state[t] {
                    0 => {
                        forward.insert((v, t));
                        state[t] = 1;
                        stack.push((t, 0));
                    }
                    2 => {
                        forward.insert((v, t));
                    }
                    _ => {} // back edge: closes a cycle, ignored for layering
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    forward
}

/// Lays out a graph: nodes banded by namespace (the unknown node joins the
/// band of the first namespace it calls).
pub fn layout_graph(graph: &Graph) -> Layout {
    let index: HashMap<&str, usize> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let edges: Vec<(usize, usize)> = graph
        .edges
        .iter()
        .filter_map(|e| {
            Some((
                *index.get(e.source.as_str())?,
                *index.get(e.target.as_str())?,
            ))
        })
        .collect();
    let groups: Vec<String> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if n.kind == NodeKind::Unknown {
                edges
                    .iter()
                    .find(|(s, _)| *s == i)
                    .map(|(_, t)| graph.nodes[*t].namespace.clone())
                    .unwrap_or_else(|| n.namespace.clone())
            } else {
                n.namespace.clone()
            }
        })
        .collect();
    layout(&groups, &edges)
}

/// Gap between a node's outline and an edge's end (where the arrowhead's
/// tip sits), in drawing units.
pub const EDGE_GAP: f64 = 2.0;
/// Horizontal room an edge needs between its two ends to run as a plain
/// left-to-right (or right-to-left) curve; closer ends go around.
const MIN_RUN: f64 = 24.0;

/// A cubic Bézier edge from the outline of one node to the outline of
/// another; the arrowhead follows its direction at `end` (`end - c2`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Curve {
    /// On the source's outline.
    pub start: (f64, f64),
    /// First control point.
    pub c1: (f64, f64),
    /// Second control point.
    pub c2: (f64, f64),
    /// On the target's outline (plus [`EDGE_GAP`]), on the side the curve
    /// comes in from.
    pub end: (f64, f64),
}

impl Curve {
    /// SVG path data.
    pub fn path(&self) -> String {
        let Curve { start, c1, c2, end } = self;
        format!(
            "M {:.1} {:.1} C {:.1} {:.1} {:.1} {:.1} {:.1} {:.1}",
            start.0, start.1, c1.0, c1.1, c2.0, c2.1, end.0, end.1
        )
    }

    /// The point halfway along (t = 1/2), where a label goes.
    pub fn middle(&self) -> (f64, f64) {
        let Curve { start, c1, c2, end } = self;
        (
            (start.0 + 3.0 * c1.0 + 3.0 * c2.0 + end.0) / 8.0,
            (start.1 + 3.0 * c1.1 + 3.0 * c2.1 + end.1) / 8.0,
        )
    }
}

/// The edge from the node at `from` to the node at `to` (radius `r`).
/// Callers are usually left of their callees: out of the source's right
/// side, into the target's left side. A target well left of its source
/// (a call back up, or into an earlier column of bands) is entered from
/// its right side, out of the source's left; one about level with its
/// source (same layer) is reached by a loop out to the right, entering
/// from the right. Either way the curve ends on the side of the target it
/// comes from, heading into it, so the arrowhead points at the target.
pub fn edge_curve(from: (f64, f64), to: (f64, f64), r: f64) -> Curve {
    let ((x1, y1), (x2, y2)) = (from, to);
    let tip = r + EDGE_GAP;
    if from == to {
        // A self-call: out of the right side, back in at the upper left.
        let d = tip * std::f64::consts::FRAC_1_SQRT_2;
        return Curve {
            start: (x1 + r, y1),
            c1: (x1 + 60.0, y1 - 60.0),
            c2: (x1 - 60.0, y1 - 60.0),
            end: (x1 - d, y1 - d),
        };
    }
    let dx = x2 - x1;
    let room = 2.0 * tip + MIN_RUN;
    let (start, end, c1x, c2x) = if dx >= room {
        let (a, b) = (x1 + r, x2 - tip);
        (a, b, (a + b) / 2.0, (a + b) / 2.0)
    } else if dx <= -room {
        let (a, b) = (x1 - r, x2 + tip);
        (a, b, (a + b) / 2.0, (a + b) / 2.0)
    } else {
        let right = x1.max(x2) + r + 40.0 + (y2 - y1).abs() * 0.15;
        (x1 + r, x2 + tip, right, right)
    };
    Curve {
        start: (start, y1),
        c1: (c1x, y1),
        c2: (c2x, y2),
        end: (end, y2),
    }
}

/// A bulk edge: a polyline from the source's outline to just outside the
/// target's, with an open arrowhead (two barbs) at the end.
#[derive(Clone, Debug, PartialEq)]
pub struct Arrow {
    /// On the source's outline.
    pub start: (f64, f64),
    /// Points in between: the trunk of a bundled edge.
    pub via: Vec<(f64, f64)>,
    /// Just outside the target's outline, facing the last point before it.
    pub end: (f64, f64),
    /// The arrowhead's two barbs, behind `end`.
    pub barbs: [(f64, f64); 2],
}

/// An arrow's tip and its two barbs.
type Head = ((f64, f64), [(f64, f64); 2]);

/// Where a segment from `from` towards the centre `to` (radius `r`) ends
/// and its `head` long arrowhead's barbs; `None` when too short for them.
fn head_at(from: (f64, f64), to: (f64, f64), r: f64, head: f64) -> Option<Head> {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let len = dx.hypot(dy);
    if len <= r + EDGE_GAP + head {
        return None;
    }
    let (ux, uy) = (dx / len, dy / len);
    let end = (to.0 - ux * (r + EDGE_GAP), to.1 - uy * (r + EDGE_GAP));
    let back = (end.0 - ux * head, end.1 - uy * head);
    let (px, py) = (-uy * head * 0.5, ux * head * 0.5);
    Some((
        end,
        [(back.0 + px, back.1 + py), (back.0 - px, back.1 - py)],
    ))
}

/// The point on the outline of the node at `from` (radius `r`) towards `to`.
fn leave(from: (f64, f64), to: (f64, f64), r: f64) -> (f64, f64) {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let len = dx.hypot(dy).max(1e-9);
    (from.0 + dx / len * r, from.1 + dy / len * r)
}

/// The straight bulk edge from `from` to `to` (both of radius `r`); `None`
/// when the nodes are too close for one (or are the same node).
pub fn edge_arrow(from: (f64, f64), to: (f64, f64), r: f64, head: f64) -> Option<Arrow> {
    if (to.0 - from.0).hypot(to.1 - from.1) <= 2.0 * r + EDGE_GAP + head {
        return None;
    }
    let (end, barbs) = head_at(from, to, r, head)?;
    Some(Arrow {
        start: leave(from, to, r),
        via: Vec::new(),
        end,
        barbs,
    })
}

/// The bulk edge from `from` to `to` along a band-to-band `trunk`: out of
/// the source towards the trunk's first point, along it, and from its last
/// point into the target; `None` when the trunk ends too close to the
/// target for an arrowhead.
pub fn bundled_arrow(
    from: (f64, f64),
    trunk: [(f64, f64); 2],
    to: (f64, f64),
    r: f64,
    head: f64,
) -> Option<Arrow> {
    let (end, barbs) = head_at(trunk[1], to, r, head)?;
    Some(Arrow {
        start: leave(from, trunk[0], r),
        via: trunk.to_vec(),
        end,
        barbs,
    })
}

impl Arrow {
    /// SVG path data (whole units: the bulk drawing is one long path).
    pub fn path(&self) -> String {
        use std::fmt::Write;
        let mut d = format!("M{:.0} {:.0}", self.start.0, self.start.1);
        for (x, y) in self.via.iter().chain([&self.end]) {
            let _ = write!(d, "L{x:.0} {y:.0}");
        }
        let ([a, b], e) = (self.barbs, self.end);
        let _ = write!(
            d,
            "M{:.0} {:.0}L{:.0} {:.0}L{:.0} {:.0}",
            a.0, a.1, e.0, e.1, b.0, b.1
        );
        d
    }
}

/// How far a namespace box reaches beyond its band: left and right, above,
/// below (the page draws the boxes with this padding).
pub const BOX_PAD: (f64, f64, f64) = (46.0, 22.0, 12.0);

/// The trunk that the edges from band `a` to band `b` share in a bulk
/// drawing: two points outside every namespace box. Bands in different
/// columns: from the corridor beside `a`'s column to the corridor beside
/// `b`'s, facing each other, at the bands' heights. Bands in one column:
/// from the gap beside `a` to the gap beside `b`, at the column's middle.
/// `None` within a band.
pub fn trunk(layout: &Layout, a: usize, b: usize) -> Option<[(f64, f64); 2]> {
    let (ba, bb) = (layout.bands.get(a)?, layout.bands.get(b)?);
    if a == b {
        return None;
    }
    let corridor = COLUMN_GAP / 2.0;
    let middle = |band: &Band| (band.top + band.bottom) / 2.0;
    // The middle of the gap between two stacked boxes, below and above.
    let below = |band: &Band| band.bottom + BOX_PAD.2 + (BAND_GAP - BOX_PAD.1 - BOX_PAD.2) / 2.0;
    let above = |band: &Band| band.top - BOX_PAD.1 - (BAND_GAP - BOX_PAD.1 - BOX_PAD.2) / 2.0;
    Some(if bb.left >= ba.right {
        [
            (ba.right + corridor, middle(ba)),
            (bb.left - corridor, middle(bb)),
        ]
    } else if bb.right <= ba.left {
        [
            (ba.left - corridor, middle(ba)),
            (bb.right + corridor, middle(bb)),
        ]
    } else {
        let x = (ba.left + ba.right) / 2.0;
        if bb.top >= ba.bottom {
            [(x, below(ba)), (x, above(bb))]
        } else {
            [(x, above(ba)), (x, below(bb))]
        }
    })
}

/// What of the drawing the pane shows: the SVG's view box (pan and zoom, in
/// drawing units) and the pane's size in CSS pixels. The SVG fits the view
/// box into the pane without distorting it ("xMidYMid meet"), so along one
/// axis the pane shows more of the drawing than the view box holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Viewport {
    /// `x, y, width, height` of the SVG's `viewBox`.
    pub view_box: (f64, f64, f64, f64),
    /// Width and height of the SVG element on screen.
    pub pane: (f64, f64),
}

impl Viewport {
    /// Screen pixels per drawing unit.
    pub fn scale(&self) -> f64 {
        let (_, _, w, h) = self.view_box;
        (self.pane.0 / w.max(1e-9))
            .min(self.pane.1 / h.max(1e-9))
            .max(1e-9)
    }

    /// The part of the drawing in the pane: the view box, widened along
    /// the axis the pane has room to spare in, about the same centre.
    pub fn visible(&self) -> (f64, f64, f64, f64) {
        let (x, y, w, h) = self.view_box;
        let k = self.scale();
        let (vw, vh) = (self.pane.0 / k, self.pane.1 / k);
        (x + (w - vw) / 2.0, y + (h - vh) / 2.0, vw, vh)
    }

    /// Whether a drawing point is in the pane.
    pub fn shows(&self, (px, py): (f64, f64)) -> bool {
        let (x, y, w, h) = self.visible();
        px >= x && px <= x + w && py >= y && py <= y + h
    }
}

/// Names smaller than this on screen (CSS pixels) are not drawn: below it
/// they are smudges, not text.
pub const MIN_LABEL_PX: f64 = 9.0;
/// Bulk names are at most this big in drawing units: a row is [`ROW_GAP`]
/// tall and a wrapped layer's sub-columns [`SUB_GAP`] apart, so bigger
/// names would run into their neighbours...
pub const BULK_FONT: f64 = 14.0;
/// ...and at most this big on screen when zoomed in further.
pub const BULK_FONT_PX: f64 = 12.0;

/// Whether text of `font` drawing units is readable at `scale` screen
/// pixels per unit.
pub fn readable(font: f64, scale: f64) -> bool {
    font * scale >= MIN_LABEL_PX
}

/// The names of a bulk drawing for one viewport.
#[derive(Clone, Debug, PartialEq)]
pub struct BulkLabels {
    /// Font size in drawing units.
    pub font: f64,
    /// Nodes to name, and whether the name carries its namespace (the
    /// band's title is out of the pane).
    pub names: Vec<(usize, bool)>,
}

/// Which nodes of a bulk drawing get a name: none while names would be
/// under [`MIN_LABEL_PX`] on screen; otherwise every node whose dot is in
/// the pane (not just in the view box), up to `max`, with its namespace
/// when its band's title is out of the pane (or `titles` are not drawn).
pub fn bulk_labels(layout: &Layout, vp: &Viewport, titles: bool, max: usize) -> Option<BulkLabels> {
    let scale = vp.scale();
    let font = BULK_FONT.min(BULK_FONT_PX / scale);
    if !readable(font, scale) {
        return None;
    }
    let title_shown: Vec<bool> = layout
        .bands
        .iter()
        .map(|b| titles && vp.shows(b.title_at()))
        .collect();
    let names = layout
        .positions
        .iter()
        .enumerate()
        .filter(|(_, p)| vp.shows(**p))
        .take(max)
        .map(|(i, _)| {
            let shown = layout.band.get(i).and_then(|b| title_shown.get(*b));
            (i, !shown.copied().unwrap_or(false))
        })
        .collect();
    Some(BulkLabels { font, names })
}

impl Band {
    /// Where the band's title (the namespace) is written: the baseline's
    /// start, inside the top left corner of its box.
    pub fn title_at(&self) -> (f64, f64) {
        (self.left - 34.0, self.top - 6.0)
    }
}

/// What edge labels show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EdgeLabel {
    /// Nothing.
    #[default]
    None,
    /// Requests (or bytes) per second.
    Rps,
    /// Error percentage.
    ErrorPct,
    /// p95 response time.
    P95,
    /// Share of the source's traffic.
    Share,
}

impl EdgeLabel {
    /// Every mode, in menu order.
    pub const ALL: [EdgeLabel; 5] = [
        EdgeLabel::None,
        EdgeLabel::Rps,
        EdgeLabel::ErrorPct,
        EdgeLabel::P95,
        EdgeLabel::Share,
    ];

    /// URL value.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeLabel::None => "none",
            EdgeLabel::Rps => "rps",
            EdgeLabel::ErrorPct => "error",
            EdgeLabel::P95 => "p95",
            EdgeLabel::Share => "share",
        }
    }

    /// Parses [`EdgeLabel::as_str`]; `None` mode when unknown.
    pub fn parse(text: &str) -> Self {
        EdgeLabel::ALL
            .into_iter()
            .find(|m| m.as_str() == text)
            .unwrap_or_default()
    }

    /// Menu label.
    pub fn label(self) -> &'static str {
        match self {
            EdgeLabel::None => "No labels",
            EdgeLabel::Rps => "Requests per second",
            EdgeLabel::ErrorPct => "Error %",
            EdgeLabel::P95 => "Response time p95",
            EdgeLabel::Share => "Traffic share",
        }
    }
}

/// Bytes per second in words.
pub fn bytes_rate(b: f64) -> String {
    if b >= 1e6 {
        format!("{:.1} MB/s", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB/s", b / 1e3)
    } else {
        format!("{b:.0} B/s")
    }
}

/// An edge's label text in `mode` (empty when there is nothing to show).
pub fn edge_label(edge: &GraphEdge, mode: EdgeLabel) -> String {
    let tcp = edge.protocol == EdgeProtocol::Tcp;
    match mode {
        EdgeLabel::None => String::new(),
        EdgeLabel::Rps if tcp => bytes_rate(edge.bytes_per_s.unwrap_or(0.0)),
        EdgeLabel::Rps => format!("{:.2} rps", edge.rps),
        EdgeLabel::ErrorPct if tcp => String::new(),
        EdgeLabel::ErrorPct => format!("{:.1} %", edge.error_pct),
        EdgeLabel::P95 => edge
            .p95_ms
            .map(|p| format!("{p:.0} ms"))
            .unwrap_or_default(),
        EdgeLabel::Share => format!("{:.0} %", edge.share_pct),
    }
}

/// A node's accessible name: `app reviews v3 (bookinfo), degraded`.
pub fn node_name(node: &GraphNode) -> String {
    match node.kind {
        NodeKind::Unknown => format!("unknown, {}", node.health.label()),
        _ if node.inaccessible => format!(
            "{} {} ({}), inaccessible",
            node.kind.label(),
            node.name,
            node.namespace
        ),
        _ => format!(
            "{} {} ({}), {}{}",
            node.kind.label(),
            node.name,
            node.namespace,
            node.health.label(),
            if node.idle { ", idle" } else { "" }
        ),
    }
}

/// What the console says instead of the details of a node outside the
/// caller's namespaces: the server leaves them out, so they are not
/// "unknown" but withheld.
pub const NOT_VISIBLE: &str = "not visible to you";

/// A node's kind and health for the side panel: `app · degraded`; for a
/// node outside the caller's namespaces, `service · not visible to you`
/// (the server reports no health for it, which is not "no traffic").
pub fn node_status(node: &GraphNode) -> String {
    let health = if node.inaccessible {
        NOT_VISIBLE
    } else {
        node.health.label()
    };
    format!("{} · {health}", node.kind.label())
}

/// Whether a node's pods carry the sidecar, for the side panel: `yes`,
/// `no`, [`NOT_VISIBLE`] outside the caller's namespaces, and `–` when
/// nobody knows (not a workload, or the cluster could not be asked).
pub fn sidecar_text(node: &GraphNode) -> &'static str {
    match node.sidecar {
        _ if node.inaccessible => NOT_VISIBLE,
        Some(true) => "yes",
        Some(false) => "no",
        None => "–",
    }
}

/// A short name of a node for edge names and tables.
pub fn short_name(node: &GraphNode) -> String {
    match node.kind {
        NodeKind::Unknown => "unknown".into(),
        _ => format!("{} ({})", node.name, node.namespace),
    }
}

/// A node's name read from its id (`vapp:bookinfo:reviews:v2` is
/// `reviews v2 (bookinfo)`), for where only the id is at hand (the focus
/// in the URL); an id of another shape as it is.
pub fn name_from_id(id: &str) -> String {
    let parts: Vec<&str> = id.split(':').collect();
    match parts.as_slice() {
        ["vapp", ns, app, version] => format!("{app} {version} ({ns})"),
        ["app" | "wl", ns, name] => format!("{name} ({ns})"),
        ["svc", ns, name] => format!("service {name} ({ns})"),
        _ => id.to_owned(),
    }
}

/// An edge's accessible name: `edge productpage v1 (bookinfo) to reviews
/// (bookinfo), HTTP`.
pub fn edge_name(source: &GraphNode, target: &GraphNode, edge: &GraphEdge) -> String {
    format!(
        "edge {} to {}, {}",
        short_name(source),
        short_name(target),
        edge.protocol.label()
    )
}

/// A find/hide expression: alternatives (`OR`) of conjunctions (`AND`) of
/// terms, like Kiali's: `rt > 1000`, `!healthy`, `name = reviews`,
/// `%error > 5 AND ns = bookinfo`.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr(Vec<Vec<Term>>);

/// One comparison or flag.
#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    /// A flag, possibly negated (`healthy`, `!idle`).
    Flag(Flag, bool),
    /// `field op value`.
    Compare(Field, Cmp, String),
}

/// Flags a term can test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    /// Health is healthy (nodes and edges).
    Healthy,
    /// Degraded.
    Degraded,
    /// Failure.
    Failure,
    /// No traffic.
    Idle,
    /// Outside the caller's namespaces.
    Inaccessible,
    /// Has the sidecar.
    Sidecar,
    /// Nothing calls it.
    Root,
    /// The unknown node.
    Unknown,
    /// An outside service.
    External,
    /// Edge fully mTLS.
    Mtls,
    /// TCP edge.
    Tcp,
    /// HTTP edge.
    Http,
    /// gRPC edge.
    Grpc,
}

/// Fields a term can compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// Node name or app (nodes).
    Name,
    /// Namespace (nodes).
    Namespace,
    /// Version (nodes).
    Version,
    /// Node kind: `app`, `workload`, `service`, `unknown`, `external` (nodes).
    Kind,
    /// Requests per second (edges; nodes: in + out).
    Rps,
    /// Error % (edges and nodes).
    ErrorPct,
    /// p95 response time in ms (edges).
    Rt,
    /// Traffic share % (edges).
    Share,
    /// mTLS % (edges).
    MtlsPct,
    /// Protocol: `http`, `grpc`, `tcp` (edges).
    Protocol,
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

fn parse_flag(word: &str) -> Option<Flag> {
    Some(match word {
        "healthy" => Flag::Healthy,
        "degraded" => Flag::Degraded,
        "failure" | "unhealthy" => Flag::Failure,
        "idle" => Flag::Idle,
        "inaccessible" => Flag::Inaccessible,
        "sidecar" | "hassidecar" => Flag::Sidecar,
        "root" => Flag::Root,
        "unknown" => Flag::Unknown,
        "external" | "outside" => Flag::External,
        "mtls" => Flag::Mtls,
        "tcp" => Flag::Tcp,
        "http" => Flag::Http,
        "grpc" => Flag::Grpc,
        _ => return None,
    })
}

fn parse_field(word: &str) -> Option<Field> {
    Some(match word {
        "name" | "app" | "service" | "workload" => Field::Name,
        "ns" | "namespace" => Field::Namespace,
        "version" => Field::Version,
        "node" | "kind" => Field::Kind,
        "rps" | "rate" => Field::Rps,
        "%error" | "error" | "%err" | "err" => Field::ErrorPct,
        "rt" | "p95" | "responsetime" => Field::Rt,
        "%traffic" | "share" | "traffic" => Field::Share,
        "%mtls" | "mtls" => Field::MtlsPct,
        "protocol" => Field::Protocol,
        _ => return None,
    })
}

const OPS: [(&str, Cmp); 6] = [
    ("!=", Cmp::Ne),
    (">=", Cmp::Ge),
    ("<=", Cmp::Le),
    ("=", Cmp::Eq),
    (">", Cmp::Gt),
    ("<", Cmp::Lt),
];

fn parse_term(text: &str) -> Result<Term, String> {
    let text = text.trim();
    for (symbol, cmp) in OPS {
        if let Some((left, right)) = text.split_once(symbol) {
            let field = parse_field(&left.trim().to_lowercase())
                .ok_or_else(|| format!("unknown field {:?}", left.trim()))?;
            let value = right.trim().to_owned();
            if value.is_empty() {
                return Err(format!("{:?} needs a value", left.trim()));
            }
            let numeric = matches!(
                field,
                Field::Rps | Field::ErrorPct | Field::Rt | Field::Share | Field::MtlsPct
            );
            if numeric && value.parse::<f64>().is_err() {
                return Err(format!("{value:?} is not a number"));
            }
            if !numeric && !matches!(cmp, Cmp::Eq | Cmp::Ne) {
                return Err(format!("{:?} compares with = or != only", left.trim()));
            }
            return Ok(Term::Compare(field, cmp, value));
        }
    }
    let (negated, word) = match text.strip_prefix('!') {
        Some(rest) => (true, rest.trim()),
        None => (false, text),
    };
    parse_flag(&word.to_lowercase())
        .map(|f| Term::Flag(f, !negated))
        .ok_or_else(|| format!("unknown term {text:?}"))
}

/// Parses an expression; `Ok(None)` when empty.
pub fn parse_expr(text: &str) -> Result<Option<Expr>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let normalised = text.replace("||", " OR ").replace("&&", " AND ");
    let mut alternatives = Vec::new();
    for alt in split_word(&normalised, "or") {
        let terms = split_word(&alt, "and")
            .iter()
            .map(|t| parse_term(t))
            .collect::<Result<Vec<_>, _>>()?;
        alternatives.push(terms);
    }
    Ok(Some(Expr(alternatives)))
}

/// Splits at the whole word `word` (any case); a comma also separates
/// alternatives, as in Kiali.
fn split_word(text: &str, word: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    for token in text.split_whitespace() {
        if token.eq_ignore_ascii_case(word) {
            parts.push(String::new());
        } else if let Some(last) = parts.last_mut() {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(token);
        }
    }
    if word == "or" {
        parts = parts
            .iter()
            .flat_map(|p| p.split(',').map(str::to_owned).collect::<Vec<_>>())
            .collect();
    }
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

fn compare_num(value: f64, cmp: Cmp, want: &str) -> bool {
    let Ok(want) = want.parse::<f64>() else {
        return false;
    };
    match cmp {
        Cmp::Eq => (value - want).abs() < 1e-9,
        Cmp::Ne => (value - want).abs() >= 1e-9,
        Cmp::Gt => value > want,
        Cmp::Ge => value >= want,
        Cmp::Lt => value < want,
        Cmp::Le => value <= want,
    }
}

fn compare_text(values: &[&str], cmp: Cmp, want: &str) -> bool {
    let hit = values.iter().any(|v| v.eq_ignore_ascii_case(want));
    if cmp == Cmp::Ne { !hit } else { hit }
}

fn kind_word(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Workload => "workload",
        NodeKind::App => "app",
        NodeKind::Service => "service",
        NodeKind::Unknown => "unknown",
        NodeKind::External => "external",
        NodeKind::Namespace => "namespace",
    }
}

/// Whether `term` holds for a node; `None` when it is about edges only.
fn node_term(node: &GraphNode, term: &Term) -> Option<bool> {
    Some(match term {
        Term::Flag(flag, want) => {
            let v = match flag {
                Flag::Healthy => node.health == GraphHealth::Healthy,
                Flag::Degraded => node.health == GraphHealth::Degraded,
                Flag::Failure => node.health == GraphHealth::Failure,
                Flag::Idle => node.idle,
                Flag::Inaccessible => node.inaccessible,
                Flag::Sidecar => node.sidecar == Some(true),
                Flag::Root => node.root,
                Flag::Unknown => node.kind == NodeKind::Unknown,
                Flag::External => node.kind == NodeKind::External,
                Flag::Mtls | Flag::Tcp | Flag::Http | Flag::Grpc => return None,
            };
            v == *want
        }
        Term::Compare(field, cmp, want) => match field {
            Field::Name => {
                let mut names = vec![node.name.as_str()];
                if let Some(app) = &node.app {
                    names.push(app);
                }
                compare_text(&names, *cmp, want)
            }
            Field::Namespace => compare_text(&[&node.namespace], *cmp, want),
            Field::Version => compare_text(&[node.version.as_deref().unwrap_or("")], *cmp, want),
            Field::Kind => compare_text(&[kind_word(node.kind)], *cmp, want),
            Field::Rps => compare_num(node.rps_in + node.rps_out, *cmp, want),
            Field::ErrorPct => compare_num(node.error_pct, *cmp, want),
            Field::Rt | Field::Share | Field::MtlsPct | Field::Protocol => return None,
        },
    })
}

/// Whether `term` holds for an edge; `None` when it is about nodes only.
fn edge_term(edge: &GraphEdge, term: &Term) -> Option<bool> {
    Some(match term {
        Term::Flag(flag, want) => {
            let v = match flag {
                Flag::Healthy => edge.health == GraphHealth::Healthy,
                Flag::Degraded => edge.health == GraphHealth::Degraded,
                Flag::Failure => edge.health == GraphHealth::Failure,
                Flag::Idle => edge.idle,
                Flag::Mtls => edge.mtls_pct.is_some_and(|m| m >= 99.5),
                Flag::Tcp => edge.protocol == EdgeProtocol::Tcp,
                Flag::Http => edge.protocol == EdgeProtocol::Http,
                Flag::Grpc => edge.protocol == EdgeProtocol::Grpc,
                _ => return None,
            };
            v == *want
        }
        Term::Compare(field, cmp, want) => match field {
            Field::Rps => compare_num(edge.rps, *cmp, want),
            Field::ErrorPct => compare_num(edge.error_pct, *cmp, want),
            Field::Rt => edge.p95_ms.is_some_and(|p| compare_num(p, *cmp, want)),
            Field::Share => compare_num(edge.share_pct, *cmp, want),
            Field::MtlsPct => edge.mtls_pct.is_some_and(|m| compare_num(m, *cmp, want)),
            Field::Protocol => {
                let p = match edge.protocol {
                    EdgeProtocol::Http => "http",
                    EdgeProtocol::Grpc => "grpc",
                    EdgeProtocol::Tcp => "tcp",
                };
                compare_text(&[p], *cmp, want)
            }
            _ => return None,
        },
    })
}

fn all_terms(terms: &[Term], test: impl Fn(&Term) -> Option<bool>) -> bool {
    // A conjunction applies to an element when every term is about it.
    let mut applies = true;
    let mut holds = true;
    for t in terms {
        match test(t) {
            None => applies = false,
            Some(v) => holds &= v,
        }
    }
    applies && holds
}

impl Expr {
    /// Whether the expression matches a node.
    pub fn matches_node(&self, node: &GraphNode) -> bool {
        self.0
            .iter()
            .any(|terms| all_terms(terms, |t| node_term(node, t)))
    }

    /// Whether the expression matches an edge.
    pub fn matches_edge(&self, edge: &GraphEdge) -> bool {
        self.0
            .iter()
            .any(|terms| all_terms(terms, |t| edge_term(edge, t)))
    }
}

/// What the page shows: the graph after the toggles and the hide
/// expression, as indices into `graph.nodes` and `graph.edges`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Visible {
    /// Shown nodes.
    pub nodes: Vec<usize>,
    /// Shown edges.
    pub edges: Vec<usize>,
}

/// Display toggles that remove elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Toggles {
    /// Show nodes and edges without traffic.
    pub idle: bool,
    /// Show service nodes (when off, nodes of kind service are dropped and
    /// their callers are linked to their workloads by the server's choice).
    pub services: bool,
}

/// The nodes and edges left after the toggles and `hide`.
pub fn visible(graph: &Graph, toggles: Toggles, hide: Option<&Expr>) -> Visible {
    let keep_node: Vec<bool> = graph
        .nodes
        .iter()
        .map(|n| {
            (toggles.idle || !n.idle)
                && (toggles.services || n.kind != NodeKind::Service)
                && !hide.is_some_and(|h| h.matches_node(n))
        })
        .collect();
    let index: HashMap<&str, usize> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let edges = graph
        .edges
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            let ends = index
                .get(e.source.as_str())
                .zip(index.get(e.target.as_str()));
            ends.is_some_and(|(s, t)| keep_node[*s] && keep_node[*t])
                && (toggles.idle || !e.idle)
                && !hide.is_some_and(|h| h.matches_edge(e))
        })
        .map(|(i, _)| i)
        .collect();
    Visible {
        nodes: (0..graph.nodes.len()).filter(|i| keep_node[*i]).collect(),
        edges,
    }
}

/// The sub-graph of `graph` with only `visible`'s elements.
pub fn subgraph(graph: &Graph, visible: &Visible) -> Graph {
    Graph {
        nodes: visible
            .nodes
            .iter()
            .map(|i| graph.nodes[*i].clone())
            .collect(),
        edges: visible
            .edges
            .iter()
            .map(|i| graph.edges[*i].clone())
            .collect(),
        ..graph.clone()
    }
}

/// The node nearest to `(x, y)` within `radius` (drawing coordinates).
pub fn hit_test(positions: &[(f64, f64)], x: f64, y: f64, radius: f64) -> Option<usize> {
    positions
        .iter()
        .enumerate()
        .map(|(i, (px, py))| (i, (px - x).powi(2) + (py - y).powi(2)))
        .filter(|(_, d)| *d <= radius * radius)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::GraphType;

    fn node(id: &str, ns: &str, kind: NodeKind, health: GraphHealth) -> GraphNode {
        GraphNode {
            id: id.into(),
            kind,
            namespace: ns.into(),
            name: id.into(),
            app: Some(id.into()),
            version: None,
            parent: None,
            inaccessible: false,
            sidecar: Some(true),
            idle: false,
            root: false,
            rps_in: 1.0,
            rps_out: 1.0,
            tcp_in: 0.0,
            tcp_out: 0.0,
            error_pct: 0.0,
            health,
        }
    }

    fn edge(s: &str, t: &str, rps: f64, p95: f64) -> GraphEdge {
        GraphEdge {
            id: format!("{s}->{t}"),
            source: s.into(),
            target: t.into(),
            protocol: EdgeProtocol::Http,
            rps,
            codes: Vec::new(),
            error_pct: 0.0,
            server_error_pct: 0.0,
            p95_ms: Some(p95),
            bytes_per_s: None,
            share_pct: 100.0,
            mtls_pct: Some(100.0),
            health: GraphHealth::Healthy,
            idle: false,
        }
    }

    fn graph(nodes: Vec<GraphNode>, edges: Vec<GraphEdge>) -> Graph {
        Graph {
            graph_type: GraphType::App,
            namespaces: vec!["a".into()],
            window_s: 600.0,
            query_time: 0.0,
            boxes: Vec::new(),
            nodes,
            edges,
            warnings: Vec::new(),
            queries: Vec::new(),
            overview: None,
        }
    }

    #[test]
    fn callers_come_before_callees() {
        let groups = vec!["a".to_string(); 4];
        let l = layout(&groups, &[(0, 1), (1, 2), (0, 2), (3, 1)]);
        assert_eq!(l.layers, [0, 1, 2, 0]);
        assert!(l.positions[0].0 < l.positions[1].0);
        assert!(l.positions[1].0 < l.positions[2].0);
    }

    #[test]
    fn cycles_do_not_break_layering() {
        let groups = vec!["a".to_string(); 3];
        let l = layout(&groups, &[(0, 1), (1, 2), (2, 1), (2, 2)]);
        assert_eq!(l.layers, [0, 1, 2]);
    }

    #[test]
    fn namespaces_get_separate_bands() {
        let groups: Vec<String> = ["a", "b", "a", "b"].map(String::from).to_vec();
        let l = layout(&groups, &[(0, 1), (2, 3)]);
        assert_eq!(l.bands.len(), 2);
        let (a, b) = (&l.bands[0], &l.bands[1]);
        assert!(a.bottom < b.top);
        for i in [0, 2] {
            assert!(l.positions[i].1 > a.top && l.positions[i].1 < a.bottom);
        }
    }

    #[test]
    fn barycenters_untangle_crossings() {
        // 0 -> 3, 1 -> 2: ordering by callers puts 3 above 2.
        let groups = vec!["a".to_string(); 4];
        let l = layout(&groups, &[(0, 3), (1, 2)]);
        assert!(l.positions[3].1 < l.positions[2].1);
    }

    /// Many namespaces of crowded layers, like a synthetic mesh.
    fn tall_mesh(namespaces: usize, per: usize) -> (Vec<String>, Vec<(usize, usize)>) {
        let n = namespaces * per;
        let groups = (0..n).map(|i| format!("ns{:02}", i / per)).collect();
        // Each namespace: one caller fanning out to the rest of its band.
        let edges = (0..n)
            .filter(|i| i % per != 0)
            .map(|i| (i - i % per, i))
            .collect();
        (groups, edges)
    }

    #[test]
    fn tall_drawings_are_rearranged_towards_the_pane_shape() {
        let (groups, edges) = tall_mesh(40, 25);
        let l = layout(&groups, &edges);
        let (w, h) = l.size;
        // Stacked, this would be 40 bands of 24 rows: over 60 times taller
        // than wide.
        assert!((0.8..=3.2).contains(&(w / h)), "{w} x {h}");
        // Everything inside the drawing, each node inside its band, and no
        // two bands overlapping.
        for (i, (x, y)) in l.positions.iter().enumerate() {
            assert!(*x > 0.0 && *x < w && *y > 0.0 && *y < h);
            let band = l.bands.iter().find(|b| b.name == groups[i]).unwrap();
            assert!(band.left <= *x && *x <= band.right, "{i}");
            assert!(band.top <= *y && *y <= band.bottom, "{i}");
        }
        for (k, a) in l.bands.iter().enumerate() {
            for b in &l.bands[k + 1..] {
                let apart = a.right <= b.left
                    || b.right <= a.left
                    || a.bottom <= b.top
                    || b.bottom <= a.top;
                assert!(apart, "{} and {} overlap", a.name, b.name);
            }
        }
        // No two nodes on the same spot.
        let mut spots: Vec<(i64, i64)> = l
            .positions
            .iter()
            .map(|(x, y)| (*x as i64, *y as i64))
            .collect();
        spots.sort_unstable();
        spots.dedup();
        assert_eq!(spots.len(), l.positions.len());
        // Callers still left of their callees.
        for (s, t) in &edges {
            assert!(l.positions[*s].0 < l.positions[*t].0);
        }
    }

    #[test]
    fn drawings_of_a_reasonable_shape_stay_as_they_are() {
        let (groups, edges) = tall_mesh(2, 4);
        let l = layout(&groups, &edges);
        assert_eq!(l.bands.len(), 2);
        // One column: both bands span the same x range, stacked.
        assert_eq!(l.bands[0].left, l.bands[1].left);
        assert!(l.bands[0].bottom < l.bands[1].top);
        // No wrapping: every callee in the one layer after its caller.
        let xs: HashSet<i64> = l.positions.iter().map(|(x, _)| *x as i64).collect();
        assert_eq!(xs.len(), 2);
    }

    #[test]
    fn big_graphs_lay_out() {
        let n = 5000;
        let groups: Vec<String> = (0..n).map(|i| format!("ns{}", i / 25)).collect();
        let edges: Vec<(usize, usize)> = (1..n).map(|i| ((i * 7919) % i, i)).collect();
        let l = layout(&groups, &edges);
        assert_eq!(l.positions.len(), n);
        assert!(
            l.positions
                .iter()
                .all(|(x, y)| x.is_finite() && y.is_finite())
        );
    }

    /// A random mesh of `n` nodes in `namespaces` bands with `m` calls
    /// (cycles, calls across bands and self-calls included).
    fn random_mesh(
        n: usize,
        m: usize,
        namespaces: usize,
        seed: u64,
    ) -> (Vec<String>, Vec<(usize, usize)>) {
        let mut x = seed;
        let mut next = move |bound: usize| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as usize % bound
        };
        let groups = (0..n)
            .map(|i| format!("ns{:02}", i * namespaces / n))
            .collect();
        let edges = (0..m).map(|_| (next(n), next(n))).collect();
        (groups, edges)
    }

    fn unit((x, y): (f64, f64)) -> (f64, f64) {
        let l = x.hypot(y);
        (x / l, y / l)
    }

    fn dist(a: (f64, f64), b: (f64, f64)) -> f64 {
        (a.0 - b.0).hypot(a.1 - b.1)
    }

    #[test]
    fn every_edge_ends_at_its_targets_near_side_pointing_in() {
        let r = 16.0;
        let check = |from: (f64, f64), to: (f64, f64)| {
            let c = edge_curve(from, to, r);
            // Starts on the source's outline, ends just outside the
            // target's.
            assert!((dist(c.start, from) - r).abs() < 1e-6, "{c:?}");
            assert!((dist(c.end, to) - (r + EDGE_GAP)).abs() < 1e-6, "{c:?}");
            // The direction the curve arrives in (the arrowhead's) is the
            // direction from its end to the target's centre: the end is on
            // the side facing the curve, and the head points in.
            let heading = unit((c.end.0 - c.c2.0, c.end.1 - c.c2.1));
            let inward = unit((to.0 - c.end.0, to.1 - c.end.1));
            let cos = heading.0 * inward.0 + heading.1 * inward.1;
            assert!(cos > 0.99, "arrives {cos:.2} off the centre: {c:?}");
        };
        let mut backward = 0;
        for (n, m, namespaces, seed) in [
            (100, 190, 5, 1),
            (100, 190, 12, 2),
            (1000, 1900, 40, 3),
            (60, 150, 3, 4),
        ] {
            let (groups, edges) = random_mesh(n, m, namespaces, seed);
            let l = layout(&groups, &edges);
            for &(s, t) in &edges {
                let (from, to) = (l.positions[s], l.positions[t]);
                check(from, to);
                if s != t && to.0 < from.0 {
                    backward += 1;
                }
            }
        }
        // The generated meshes do have edges running right to left.
        assert!(backward > 100, "{backward} backward");
        // Nodes about level (one layer, or sub-columns of a wrapped layer),
        // above and below each other.
        for dx in [-130.0, -60.0, -30.0, 0.0, 30.0, 60.0, 130.0] {
            for dy in [-700.0, -70.0, 0.0, 70.0, 700.0] {
                if (dx, dy) != (0.0, 0.0) {
                    check((500.0, 500.0), (500.0 + dx, 500.0 + dy));
                }
            }
        }
    }

    #[test]
    fn bulk_arrows_run_outline_to_outline_with_the_head_at_the_target() {
        let (r, head) = (12.8, 10.0);
        let (groups, edges) = random_mesh(300, 600, 8, 5);
        let l = layout(&groups, &edges);
        let mut drawn = 0;
        for &(s, t) in &edges {
            let (from, to) = (l.positions[s], l.positions[t]);
            let Some(a) = edge_arrow(from, to, r, head) else {
                assert!(dist(from, to) <= 2.0 * r + EDGE_GAP + head);
                continue;
            };
            drawn += 1;
            assert!((dist(a.start, from) - r).abs() < 1e-6);
            assert!((dist(a.end, to) - (r + EDGE_GAP)).abs() < 1e-6);
            // The barbs sit behind the tip, one each side of the line,
            // `head` back along it: the head points from the source to
            // the target.
            let behind = (
                (a.barbs[0].0 + a.barbs[1].0) / 2.0,
                (a.barbs[0].1 + a.barbs[1].1) / 2.0,
            );
            let along = unit((to.0 - from.0, to.1 - from.1));
            let head_dir = unit((a.end.0 - behind.0, a.end.1 - behind.1));
            assert!(along.0 * head_dir.0 + along.1 * head_dir.1 > 0.999);
            assert!((dist(behind, a.end) - head).abs() < 1e-6);
            assert!((dist(a.barbs[0], a.end) - dist(a.barbs[1], a.end)).abs() < 1e-6);
        }
        assert!(drawn > 500);
        assert_eq!(edge_arrow((5.0, 5.0), (5.0, 5.0), r, head), None);
        assert_eq!(
            edge_arrow((0.0, 0.0), (100.0, 0.0), 10.0, 8.0)
                .unwrap()
                .path(),
            "M10 0L88 0M80 4L88 0L80 -4"
        );
    }

    #[test]
    fn edges_between_two_bands_share_a_trunk_clear_of_every_box() {
        let (r, head) = (12.8, 9.0);
        // One column of bands, and (a tall mesh) several columns.
        let one = random_mesh(200, 400, 6, 7);
        let (groups, mut edges) = tall_mesh(40, 25);
        edges.extend(random_mesh(1000, 600, 40, 8).1);
        for (groups, edges) in [one, (groups, edges)] {
            let l = layout(&groups, &edges);
            let inside_a_box = |(x, y): (f64, f64)| {
                l.bands.iter().any(|b| {
                    x >= b.left - BOX_PAD.0
                        && x <= b.right + BOX_PAD.0
                        && y >= b.top - BOX_PAD.1
                        && y <= b.bottom + BOX_PAD.2
                })
            };
            let mut trunks: HashMap<(usize, usize), Vec<(f64, f64)>> = HashMap::new();
            for &(s, t) in &edges {
                let (a, b) = (l.band[s], l.band[t]);
                let Some(trunk) = trunk(&l, a, b) else {
                    assert_eq!(a, b);
                    continue;
                };
                assert!(
                    !inside_a_box(trunk[0]) && !inside_a_box(trunk[1]),
                    "{a}->{b}: {trunk:?}"
                );
                let Some(arrow) = bundled_arrow(l.positions[s], trunk, l.positions[t], r, head)
                else {
                    continue;
                };
                // Every edge of a pair of bands runs through the same two
                // points, and still ends at its own target, heading in.
                let seen = trunks.entry((a, b)).or_insert_with(|| arrow.via.clone());
                assert_eq!(*seen, arrow.via);
                let to = l.positions[t];
                assert!((dist(arrow.start, l.positions[s]) - r).abs() < 1e-6);
                assert!((dist(arrow.end, to) - (r + EDGE_GAP)).abs() < 1e-6);
                let heading = unit((arrow.end.0 - trunk[1].0, arrow.end.1 - trunk[1].1));
                let inward = unit((to.0 - arrow.end.0, to.1 - arrow.end.1));
                assert!(heading.0 * inward.0 + heading.1 * inward.1 > 0.999);
            }
            assert!(trunks.len() > 5);
        }
    }

    #[test]
    fn the_viewport_is_what_the_pane_shows_not_the_view_box() {
        // A square view box in a wide pane: 0.76 px per unit (the height
        // binds), and 1600 / 0.76 = 2105 units across, about the same centre.
        let vp = Viewport {
            view_box: (0.0, 0.0, 1000.0, 1000.0),
            pane: (1600.0, 760.0),
        };
        assert!((vp.scale() - 0.76).abs() < 1e-9);
        let (x, y, w, h) = vp.visible();
        assert!((w - 1600.0 / 0.76).abs() < 1e-6 && (h - 1000.0).abs() < 1e-6);
        assert!((x + w / 2.0 - 500.0).abs() < 1e-6 && y.abs() < 1e-6);
        assert!(vp.shows((-500.0, 500.0)) && vp.shows((1500.0, 500.0)));
        assert!(!vp.shows((-600.0, 500.0)) && !vp.shows((500.0, 1001.0)));
    }

    /// Where a drawing point lands on screen, derived from the SVG rule:
    /// the view box's centre at the pane's centre, scaled by the smaller
    /// of the two pane/box ratios.
    fn on_screen(vp: &Viewport, (px, py): (f64, f64)) -> (f64, f64) {
        let (x, y, w, h) = vp.view_box;
        let k = (vp.pane.0 / w).min(vp.pane.1 / h);
        (
            (px - x - w / 2.0) * k + vp.pane.0 / 2.0,
            (py - y - h / 2.0) * k + vp.pane.1 / 2.0,
        )
    }

    /// A viewport of `scale` px per unit in a 1600 x 760 pane, centred on
    /// `(cx, cy)`, its view box a square (so the pane shows more to the
    /// left and right of it).
    fn viewport_at(cx: f64, cy: f64, scale: f64) -> Viewport {
        let side = 760.0 / scale;
        Viewport {
            view_box: (cx - side / 2.0, cy - side / 2.0, side, side),
            pane: (1600.0, 760.0),
        }
    }

    #[test]
    fn bulk_names_show_once_readable_for_every_dot_in_the_pane() {
        let (groups, edges) = tall_mesh(40, 25);
        let l = layout(&groups, &edges);
        let (w, h) = l.size;
        // Too small to read: no names (at 0.25 px per unit a 14-unit name
        // would be 3.5 px tall), up to just below 9 px.
        for scale in [0.1, 0.25, 0.5, 9.0 / BULK_FONT - 0.001] {
            assert_eq!(
                bulk_labels(&l, &viewport_at(w / 2.0, h / 2.0, scale), true, 10_000),
                None,
                "{scale}"
            );
        }
        for scale in [9.0 / BULK_FONT + 0.001, 0.8, 1.0, 2.5] {
            let vp = viewport_at(w / 2.0, h / 2.0, scale);
            let labels = bulk_labels(&l, &vp, true, 10_000).unwrap();
            let px = labels.font * scale;
            assert!(
                (MIN_LABEL_PX..=BULK_FONT_PX + 1e-9).contains(&px),
                "{scale}: {px} px"
            );
            // Exactly the dots that land inside the pane are named.
            let in_pane: Vec<usize> = (0..l.positions.len())
                .filter(|i| {
                    let (sx, sy) = on_screen(&vp, l.positions[*i]);
                    (0.0..=1600.0).contains(&sx) && (0.0..=760.0).contains(&sy)
                })
                .collect();
            let named: Vec<usize> = labels.names.iter().map(|(i, _)| *i).collect();
            assert_eq!(named, in_pane, "{scale}");
            // Among them dots left and right of the view box.
            let (x, _, side, _) = vp.view_box;
            let outside = |i: &usize| l.positions[*i].0 < x || l.positions[*i].0 > x + side;
            assert!(named.iter().filter(|i| outside(i)).count() > 2, "{scale}");
        }
    }

    #[test]
    fn bulk_names_carry_their_namespace_once_the_band_title_is_out_of_the_pane() {
        let (groups, edges) = tall_mesh(40, 25);
        let l = layout(&groups, &edges);
        let band = &l.bands[0];
        let (tx, ty) = band.title_at();
        // The band's top left corner in the pane: its title shows, its
        // names go without the namespace.
        let vp = viewport_at(tx + 700.0 / 1.0, ty + 300.0, 1.0);
        assert!(vp.shows((tx, ty)));
        let labels = bulk_labels(&l, &vp, true, 10_000).unwrap();
        let own: Vec<&(usize, bool)> = labels
            .names
            .iter()
            .filter(|(i, _)| l.band[*i] == 0)
            .collect();
        assert!(!own.is_empty() && own.iter().all(|(_, prefix)| !prefix));
        // Without titles drawn (boxes off), every name carries it.
        let labels = bulk_labels(&l, &vp, false, 10_000).unwrap();
        assert!(labels.names.iter().all(|(_, prefix)| *prefix));
        // Scrolled down by 100 units: the title is above the pane, the
        // band's nodes still in it carry their namespace.
        let vp = viewport_at(tx + 700.0, ty + 400.0, 1.0);
        assert!(!vp.shows((tx, ty)));
        let labels = bulk_labels(&l, &vp, true, 10_000).unwrap();
        let own: Vec<&(usize, bool)> = labels
            .names
            .iter()
            .filter(|(i, _)| l.band[*i] == 0)
            .collect();
        assert!(!own.is_empty() && own.iter().all(|(_, prefix)| *prefix));
    }

    #[test]
    fn expressions_parse_and_match_like_kiali() {
        let g = graph(
            vec![
                node("reviews", "bookinfo", NodeKind::App, GraphHealth::Degraded),
                node("details", "bookinfo", NodeKind::App, GraphHealth::Healthy),
            ],
            vec![
                edge("details", "reviews", 3.0, 1500.0),
                edge("reviews", "details", 1.0, 20.0),
            ],
        );
        let e = parse_expr("name = reviews").unwrap().unwrap();
        assert!(e.matches_node(&g.nodes[0]) && !e.matches_node(&g.nodes[1]));
        assert!(!e.matches_edge(&g.edges[0]));
        let e = parse_expr("!healthy").unwrap().unwrap();
        assert!(e.matches_node(&g.nodes[0]) && !e.matches_node(&g.nodes[1]));
        let e = parse_expr("rt > 1000").unwrap().unwrap();
        assert!(e.matches_edge(&g.edges[0]) && !e.matches_edge(&g.edges[1]));
        assert!(!e.matches_node(&g.nodes[0]));
        let e = parse_expr("ns = bookinfo AND degraded OR rps >= 3")
            .unwrap()
            .unwrap();
        assert!(e.matches_node(&g.nodes[0]) && !e.matches_node(&g.nodes[1]));
        assert!(e.matches_edge(&g.edges[0]));
        assert_eq!(parse_expr("  ").unwrap(), None);
        for bad in ["colour = red", "rt > fast", "name > 3", "wobbly", "name ="] {
            assert!(parse_expr(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hiding_removes_nodes_with_their_edges() {
        let mut idle = node("cron", "a", NodeKind::Workload, GraphHealth::NoTraffic);
        idle.idle = true;
        let g = graph(
            vec![
                node("web", "a", NodeKind::App, GraphHealth::Healthy),
                node("api", "a", NodeKind::Service, GraphHealth::Healthy),
                idle,
            ],
            vec![edge("web", "api", 1.0, 10.0)],
        );
        let all = Toggles {
            idle: true,
            services: true,
        };
        assert_eq!(visible(&g, all, None).nodes, [0, 1, 2]);
        let no_idle = Toggles { idle: false, ..all };
        assert_eq!(visible(&g, no_idle, None).nodes, [0, 1]);
        let hide = parse_expr("name = api").unwrap().unwrap();
        let v = visible(&g, all, Some(&hide));
        assert_eq!((v.nodes, v.edges), (vec![0, 2], vec![]));
        let no_services = Toggles {
            services: false,
            ..all
        };
        assert_eq!(visible(&g, no_services, None).nodes, [0, 2]);
    }

    #[test]
    fn names_and_labels() {
        let mut n = node(
            "reviews v3",
            "bookinfo",
            NodeKind::App,
            GraphHealth::Degraded,
        );
        assert_eq!(node_name(&n), "app reviews v3 (bookinfo), degraded");
        assert_eq!(node_status(&n), "app · degraded");
        n.inaccessible = true;
        assert_eq!(node_name(&n), "app reviews v3 (bookinfo), inaccessible");
        let e = edge("a", "b", 12.345, 87.6);
        assert_eq!(edge_label(&e, EdgeLabel::Rps), "12.35 rps");
        assert_eq!(edge_label(&e, EdgeLabel::P95), "88 ms");
        assert_eq!(edge_label(&e, EdgeLabel::None), "");
        assert_eq!(bytes_rate(4800.0), "4.8 kB/s");
        assert_eq!(EdgeLabel::parse("share"), EdgeLabel::Share);
    }

    #[test]
    fn far_nodes_are_not_visible_rather_than_unknown() {
        let mut n = node(
            "payments-api",
            "payments",
            NodeKind::Service,
            GraphHealth::Healthy,
        );
        assert_eq!(sidecar_text(&n), "yes");
        n.sidecar = Some(false);
        assert_eq!(sidecar_text(&n), "no");
        n.sidecar = None;
        assert_eq!(sidecar_text(&n), "–");
        // What the server sends for a node outside the caller's namespaces.
        n.inaccessible = true;
        n.health = GraphHealth::NoTraffic;
        assert_eq!(sidecar_text(&n), "not visible to you");
        assert_eq!(node_status(&n), "service · not visible to you");
    }

    #[test]
    fn hits_pick_the_nearest_node() {
        let p = [(0.0, 0.0), (10.0, 0.0)];
        assert_eq!(hit_test(&p, 7.0, 0.0, 5.0), Some(1));
        assert_eq!(hit_test(&p, 50.0, 0.0, 5.0), None);
    }

    #[test]
    fn names_from_ids() {
        assert_eq!(
            name_from_id("vapp:bookinfo:reviews:v2"),
            "reviews v2 (bookinfo)"
        );
        assert_eq!(name_from_id("wl:shop:cart"), "cart (shop)");
        assert_eq!(name_from_id("svc:shop:cart"), "service cart (shop)");
        assert_eq!(name_from_id("unknown"), "unknown");
    }
}
