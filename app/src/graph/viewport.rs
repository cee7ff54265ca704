//! What of the drawing the pane shows, whether text is readable at a scale,
//! and which node a point hits.

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

    /// Where a drawing point appears in the pane: CSS pixels from its top
    /// left corner.
    pub fn to_screen(&self, (px, py): (f64, f64)) -> (f64, f64) {
        let (x, y, _, _) = self.visible();
        let k = self.scale();
        ((px - x) * k, (py - y) * k)
    }

    /// The drawing point at a point of the pane (CSS pixels from its top
    /// left corner).
    pub fn to_drawing(&self, (sx, sy): (f64, f64)) -> (f64, f64) {
        let (x, y, _, _) = self.visible();
        let k = self.scale();
        (x + sx / k, y + sy / k)
    }

    /// The view box after zooming by `k` (above 1: out) about a point of
    /// the pane, which keeps showing the same drawing point.
    pub fn zoomed_about(&self, k: f64, at: (f64, f64)) -> (f64, f64, f64, f64) {
        let (px, py) = self.to_drawing(at);
        let (x, y, w, h) = self.view_box;
        (px + (x - px) * k, py + (y - py) * k, w * k, h * k)
    }

    /// The view box after dragging the drawing by `(dx, dy)` CSS pixels.
    pub fn panned(&self, (dx, dy): (f64, f64)) -> (f64, f64, f64, f64) {
        let (x, y, w, h) = self.view_box;
        let k = self.scale();
        (x - dx / k, y - dy / k, w, h)
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

/// Whether text of `font` drawing units is readable at `scale` screen
/// pixels per unit.
pub fn readable(font: f64, scale: f64) -> bool {
    font * scale >= MIN_LABEL_PX
}

/// Zooming in on an overview opens a namespace once its cell of the
/// overview's grid is at least this share of the pane's width.
pub const EXPAND_SHARE: f64 = 0.5;

/// The namespace node that zooming in to `vp` at drawing point `at` opens:
/// once a grid `cell` (drawing units) spans [`EXPAND_SHARE`] of the pane,
/// the one of `candidates` (index, centre) whose cell holds `at`, nearest
/// first; `None` before that, or over empty ground.
pub fn expand_on_zoom(
    vp: &Viewport,
    at: (f64, f64),
    cell: (f64, f64),
    candidates: impl IntoIterator<Item = (usize, (f64, f64))>,
) -> Option<usize> {
    if cell.0 * vp.scale() < vp.pane.0 * EXPAND_SHARE {
        return None;
    }
    candidates
        .into_iter()
        .filter(|(_, (x, y))| (x - at.0).abs() <= cell.0 / 2.0 && (y - at.1).abs() <= cell.1 / 2.0)
        .min_by(|a, b| {
            let d = |p: (f64, f64)| (p.0 - at.0).powi(2) + (p.1 - at.1).powi(2);
            d(a.1).total_cmp(&d(b.1))
        })
        .map(|(i, _)| i)
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

    #[test]
    fn screen_and_drawing_points_convert_both_ways() {
        // 0.76 px per unit, the pane 2105 units wide from x = -552.6.
        let vp = Viewport {
            view_box: (0.0, 0.0, 1000.0, 1000.0),
            pane: (1600.0, 760.0),
        };
        let left = 500.0 - 1600.0 / 0.76 / 2.0;
        let (sx, sy) = vp.to_screen((0.0, 500.0));
        assert!((sx - (0.0 - left) * 0.76).abs() < 1e-9 && (sy - 380.0).abs() < 1e-9);
        let (px, py) = vp.to_drawing((sx, sy));
        assert!(px.abs() < 1e-9 && (py - 500.0).abs() < 1e-9);
        assert!(vp.to_drawing((0.0, 0.0)).0 - left < 1e-9);
    }

    #[test]
    fn zooming_keeps_the_point_under_the_pointer_and_panning_follows_it() {
        let vp = Viewport {
            view_box: (100.0, 50.0, 800.0, 600.0),
            pane: (1200.0, 600.0),
        };
        let at = (300.0, 200.0);
        let before = vp.to_drawing(at);
        for k in [0.5, 1.0 / 1.15, 1.15, 3.0] {
            let z = Viewport {
                view_box: vp.zoomed_about(k, at),
                ..vp
            };
            let after = z.to_drawing(at);
            assert!((after.0 - before.0).abs() < 1e-9 && (after.1 - before.1).abs() < 1e-9);
            assert!((z.scale() - vp.scale() / k).abs() < 1e-9);
        }
        // Dragged 50 px right and 20 px up: the drawing point that was
        // under the pointer is 50 px right and 20 px up of it.
        let p = Viewport {
            view_box: vp.panned((50.0, -20.0)),
            ..vp
        };
        let (sx, sy) = p.to_screen(before);
        assert!((sx - 350.0).abs() < 1e-9 && (sy - 180.0).abs() < 1e-9);
    }

    #[test]
    fn zooming_in_far_enough_on_a_namespace_opens_it() {
        // Cells of 200 x 100 units; a pane 1000 px wide opens a namespace
        // from 2.5 px per unit (200 * 2.5 = 500 = half the pane).
        let cell = (200.0, 100.0);
        let nodes = [(0, (100.0, 50.0)), (1, (300.0, 50.0)), (2, (100.0, 150.0))];
        let at = |scale: f64| Viewport {
            view_box: (0.0, 0.0, 1000.0 / scale, 600.0 / scale),
            pane: (1000.0, 600.0),
        };
        assert_eq!(expand_on_zoom(&at(2.4), (120.0, 60.0), cell, nodes), None);
        assert_eq!(
            expand_on_zoom(&at(2.5), (120.0, 60.0), cell, nodes),
            Some(0)
        );
        assert_eq!(
            expand_on_zoom(&at(3.0), (260.0, 40.0), cell, nodes),
            Some(1)
        );
        assert_eq!(
            expand_on_zoom(&at(3.0), (90.0, 140.0), cell, nodes),
            Some(2)
        );
        // Outside every cell: nothing opens.
        assert_eq!(expand_on_zoom(&at(3.0), (500.0, 300.0), cell, nodes), None);
    }

    #[test]
    fn hits_pick_the_nearest_node() {
        let p = [(0.0, 0.0), (10.0, 0.0)];
        assert_eq!(hit_test(&p, 7.0, 0.0, 5.0), Some(1));
        assert_eq!(hit_test(&p, 50.0, 0.0, 5.0), None);
    }
}
