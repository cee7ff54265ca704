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
    fn hits_pick_the_nearest_node() {
        let p = [(0.0, 0.0), (10.0, 0.0)];
        assert_eq!(hit_test(&p, 7.0, 0.0, 5.0), Some(1));
        assert_eq!(hit_test(&p, 50.0, 0.0, 5.0), None);
    }
}
