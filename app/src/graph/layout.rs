//! The layered left-to-right layout: cycle breaking, longest-path layers,
//! barycenter ordering within namespace bands, wrapping tall drawings.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::types::{Graph, NodeKind};

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

impl Band {
    /// Where the band's title (the namespace) is written: the baseline's
    /// start, inside the top left corner of its box.
    pub fn title_at(&self) -> (f64, f64) {
        (self.left - 34.0, self.top - 6.0)
    }
}

/// Lays out `nodes` (grouped into bands by `group`) with `edges` as index
/// pairs: callers left of callees, namespaces in horizontal bands; a
/// drawing that would be very tall wraps crowded layers into sub-columns
/// and puts the bands into several columns (see `choose_arrangement`).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::fixtures::tall_mesh;

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
}
