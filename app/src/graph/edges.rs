//! Edge geometry: curves and arrows that end on the target's near side, bulk
//! arrows, and the trunks shared by the edges between two bands.

use super::layout::{BAND_GAP, Band, COLUMN_GAP, Layout};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::fixtures::tall_mesh;
    use crate::graph::layout::layout;
    use std::collections::HashMap;

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
}
