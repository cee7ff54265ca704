//! What the page shows: the graph after the display toggles and the hide
//! expression.

use std::collections::HashMap;

use crate::types::{Graph, NodeKind};

use super::expr::Expr;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::expr::parse_expr;
    use crate::graph::fixtures::{edge, graph, node};
    use crate::types::GraphHealth;

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
}
