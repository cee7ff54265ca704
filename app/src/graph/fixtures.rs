//! Graphs and meshes the unit tests of the graph modules build on.

use crate::types::{EdgeProtocol, Graph, GraphEdge, GraphHealth, GraphNode, GraphType, NodeKind};

pub(super) fn node(id: &str, ns: &str, kind: NodeKind, health: GraphHealth) -> GraphNode {
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

pub(super) fn edge(s: &str, t: &str, rps: f64, p95: f64) -> GraphEdge {
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

pub(super) fn graph(nodes: Vec<GraphNode>, edges: Vec<GraphEdge>) -> Graph {
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

/// Many namespaces of crowded layers, like a synthetic mesh.
pub(super) fn tall_mesh(namespaces: usize, per: usize) -> (Vec<String>, Vec<(usize, usize)>) {
    let n = namespaces * per;
    let groups = (0..n).map(|i| format!("ns{:02}", i / per)).collect();
    // Each namespace: one caller fanning out to the rest of its band.
    let edges = (0..n)
        .filter(|i| i % per != 0)
        .map(|i| (i - i % per, i))
        .collect();
    (groups, edges)
}
