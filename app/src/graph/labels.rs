//! Names and labels: bulk drawing names, edge labels, accessible names of
//! nodes and edges, and the side panel's texts.

use crate::types::{EdgeProtocol, GraphEdge, GraphNode, NodeKind};

use super::layout::Layout;
use super::viewport::{Viewport, readable};

/// Bulk names are at most this big in drawing units: a row is
/// [`ROW_GAP`](super::ROW_GAP) tall and a wrapped layer's sub-columns
/// [`SUB_GAP`](super::SUB_GAP) apart, so bigger names would run into their
/// neighbours...
pub const BULK_FONT: f64 = 14.0;
/// ...and at most this big on screen when zoomed in further.
pub const BULK_FONT_PX: f64 = 12.0;

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
/// under [`MIN_LABEL_PX`](super::MIN_LABEL_PX) on screen; otherwise every
/// node whose dot is in the pane (not just in the view box), up to `max`,
/// with its namespace when its band's title is out of the pane (or `titles`
/// are not drawn).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::fixtures::{edge, node, tall_mesh};
    use crate::graph::layout::layout;
    use crate::graph::viewport::MIN_LABEL_PX;
    use crate::types::GraphHealth;

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
