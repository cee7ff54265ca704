//! Focus on one node (`focus=<node id>&depth=<n>` on `GET /api/graph`):
//! the node, its callees to `depth` calls downstream and its callers to
//! `depth` calls upstream, with the edges along those paths; everything
//! else is left out, so a focused graph of a large mesh is drawn as a
//! small one. A callee's other callers are not included (they do not call
//! through the focused node), nor a caller's other callees.

use std::collections::{BTreeSet, HashMap, VecDeque};

use app::types::Graph;

/// Deepest focus asked for.
pub const MAX_DEPTH: usize = 6;

/// Nodes reachable from `start` within `depth` steps along `next`.
fn reach<'a>(
    start: &'a str,
    depth: usize,
    next: &HashMap<&'a str, Vec<&'a str>>,
) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::from([start]);
    let mut queue = VecDeque::from([(start, 0)]);
    while let Some((node, d)) = queue.pop_front() {
        if d == depth {
            continue;
        }
        for n in next.get(node).into_iter().flatten() {
            if seen.insert(n) {
                queue.push_back((n, d + 1));
            }
        }
    }
    seen
}

/// `graph` reduced to `id`'s callers and callees within `depth` calls
/// (the caller checked that `id` is a node and `depth` in range).
pub fn focus_on(mut graph: Graph, id: &str, depth: usize) -> Graph {
    let mut down: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut up: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in &graph.edges {
        down.entry(&e.source).or_default().push(&e.target);
        up.entry(&e.target).or_default().push(&e.source);
    }
    let callees = reach(id, depth, &down);
    let callers = reach(id, depth, &up);
    // An edge stays when it lies on a path from the focus downstream
    // (both ends among the callees) or upstream (both among the callers).
    let keep_edge: Vec<bool> = graph
        .edges
        .iter()
        .map(|e| {
            let (s, t) = (e.source.as_str(), e.target.as_str());
            (callees.contains(s) && callees.contains(t))
                || (callers.contains(s) && callers.contains(t))
        })
        .collect();
    let nodes: BTreeSet<String> = callees
        .iter()
        .chain(callers.iter())
        .map(|s| (*s).to_owned())
        .collect();
    let mut keep = keep_edge.into_iter();
    graph.edges.retain(|_| keep.next().unwrap_or(false));
    graph.nodes.retain(|n| nodes.contains(&n.id));
    // Boxes that still hold a node (or a box that does).
    let mut used: BTreeSet<String> = graph
        .nodes
        .iter()
        .filter_map(|n| n.parent.clone())
        .collect();
    loop {
        let parents: Vec<String> = graph
            .boxes
            .iter()
            .filter(|b| used.contains(&b.id))
            .filter_map(|b| b.parent.clone())
            .filter(|p| !used.contains(p))
            .collect();
        if parents.is_empty() {
            break;
        }
        used.extend(parents);
    }
    graph.boxes.retain(|b| used.contains(&b.id));
    graph
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::types::{
        BoxKind, EdgeProtocol, GraphBox, GraphEdge, GraphHealth, GraphNode, GraphType, NodeKind,
    };

    fn node(id: &str, parent: Option<&str>) -> GraphNode {
        GraphNode {
            id: id.into(),
            kind: NodeKind::Workload,
            namespace: "ns".into(),
            name: id.into(),
            app: None,
            version: None,
            parent: parent.map(str::to_owned),
            inaccessible: false,
            sidecar: Some(true),
            idle: false,
            root: false,
            rps_in: 0.0,
            rps_out: 0.0,
            tcp_in: 0.0,
            tcp_out: 0.0,
            error_pct: 0.0,
            health: GraphHealth::Healthy,
        }
    }

    fn edge(s: &str, t: &str) -> GraphEdge {
        GraphEdge {
            id: format!("{s} -> {t}"),
            source: s.into(),
            target: t.into(),
            protocol: EdgeProtocol::Http,
            rps: 1.0,
            codes: Vec::new(),
            error_pct: 0.0,
            server_error_pct: 0.0,
            p95_ms: None,
            bytes_per_s: None,
            share_pct: 100.0,
            mtls_pct: None,
            health: GraphHealth::Healthy,
            idle: false,
        }
    }

    /// gw → a → b → c → d; x → b; b → y; z alone; a and b in box `left`.
    fn graph() -> Graph {
        let ids = ["gw", "a", "b", "c", "d", "x", "y", "z"];
        Graph {
            graph_type: GraphType::Workload,
            namespaces: vec!["ns".into()],
            window_s: 600.0,
            query_time: 0.0,
            boxes: vec![
                GraphBox {
                    id: "ns:ns".into(),
                    kind: BoxKind::Namespace,
                    label: "ns".into(),
                    namespace: "ns".into(),
                    parent: None,
                },
                GraphBox {
                    id: "left".into(),
                    kind: BoxKind::App,
                    label: "left".into(),
                    namespace: "ns".into(),
                    parent: Some("ns:ns".into()),
                },
                GraphBox {
                    id: "empty".into(),
                    kind: BoxKind::App,
                    label: "empty".into(),
                    namespace: "ns".into(),
                    parent: Some("ns:ns".into()),
                },
            ],
            nodes: ids
                .iter()
                .map(|i| {
                    node(
                        i,
                        if ["a", "b"].contains(i) {
                            Some("left")
                        } else {
                            Some("ns:ns")
                        },
                    )
                })
                .collect(),
            edges: [
                ("gw", "a"),
                ("a", "b"),
                ("b", "c"),
                ("c", "d"),
                ("x", "b"),
                ("b", "y"),
            ]
            .iter()
            .map(|(s, t)| edge(s, t))
            .collect(),
            warnings: vec![],
            queries: vec![],
            overview: None,
        }
    }

    fn ids(g: &Graph) -> (Vec<&str>, Vec<&str>, Vec<&str>) {
        (
            g.nodes.iter().map(|n| n.id.as_str()).collect(),
            g.edges.iter().map(|e| e.id.as_str()).collect(),
            g.boxes.iter().map(|b| b.id.as_str()).collect(),
        )
    }

    #[test]
    fn one_call_each_way() {
        let g = focus_on(graph(), "b", 1);
        let (nodes, edges, boxes) = ids(&g);
        assert_eq!(nodes, ["a", "b", "c", "x", "y"]);
        assert_eq!(edges, ["a -> b", "b -> c", "x -> b", "b -> y"]);
        assert_eq!(boxes, ["ns:ns", "left"]);
    }

    #[test]
    fn deeper_follows_each_direction_only() {
        let g = focus_on(graph(), "b", 2);
        let (nodes, edges, _) = ids(&g);
        assert_eq!(nodes, ["gw", "a", "b", "c", "d", "x", "y"]);
        assert_eq!(edges.len(), 6);
        // From c: downstream d; upstream b, then a and x (c's callers'
        // callers); not y, which b calls but which does not call c.
        let g = focus_on(graph(), "c", 2);
        let (nodes, edges, _) = ids(&g);
        assert_eq!(nodes, ["a", "b", "c", "d", "x"]);
        assert_eq!(edges, ["a -> b", "b -> c", "c -> d", "x -> b"]);
    }

    #[test]
    fn a_lone_node_keeps_itself_and_its_boxes() {
        let g = focus_on(graph(), "z", 3);
        let (nodes, edges, boxes) = ids(&g);
        assert_eq!((nodes, edges, boxes), (vec!["z"], vec![], vec!["ns:ns"]));
    }
}
