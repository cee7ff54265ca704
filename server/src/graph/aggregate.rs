//! The overview (`aggregate=namespace&expand=a,b` on `GET /api/graph`, or
//! automatically above `--graph-max-namespaces`): every namespace not
//! expanded becomes one node, and the edges between two such nodes (or an
//! expanded node and one) are the sums of their member edges. It runs on
//! the traffic map after the sidecars stage and before rates, so the
//! namespace nodes get their totals, shares and health from the same
//! stages as any node, and an aggregated edge's p95 comes from its member
//! edges' summed duration buckets (the histogram of all those calls), its
//! mTLS share from their summed destination-reported rates.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use app::types::{EdgeProtocol, NamespaceSummary, NodeKind};

use super::decorators::{QUANTILE, quantile};
use super::traffic::{NodeSpec, TrafficMap};

/// The id of namespace `ns`'s aggregated node.
pub fn node_id(ns: &str) -> String {
    format!("ns:{ns}")
}

/// The id of project `id`'s aggregated node.
pub fn project_node_id(id: &str) -> String {
    format!("project:{id}")
}

/// Whether `kind` in `namespace` is folded into its namespace's (or
/// project's) node: every node of a namespace not expanded, except the
/// unknown caller and services outside the mesh, which belong to no
/// namespace of the mesh.
fn aggregated(kind: NodeKind, namespace: &str, expanded: &BTreeSet<String>) -> bool {
    !kind.is_folded()
        && !matches!(kind, NodeKind::Unknown | NodeKind::External)
        && !expanded.contains(namespace)
}

/// Namespace to project: id and name for people. A namespace it does not
/// hold is a project of its own (as one without the project key is).
pub type Projects = BTreeMap<String, (String, String)>;

/// The node a namespace folds into: id, kind, key (the namespace, or the
/// project's id) and name.
fn group_of(ns: &str, projects: Option<&Projects>) -> (String, NodeKind, String, String) {
    match projects {
        None => (
            node_id(ns),
            NodeKind::Namespace,
            ns.to_owned(),
            ns.to_owned(),
        ),
        Some(p) => {
            let (id, name) = p
                .get(ns)
                .cloned()
                .unwrap_or_else(|| (ns.to_owned(), ns.to_owned()));
            (project_node_id(&id), NodeKind::Project, id, name)
        }
    }
}

/// `map` with every namespace outside `expanded` folded into one node, or
/// with `projects` into one node per project; returns what each such node
/// stands for, sorted by namespace (or project id).
pub fn aggregate(
    map: &mut TrafficMap,
    expanded: &BTreeSet<String>,
    projects: Option<&Projects>,
) -> Vec<NamespaceSummary> {
    let old = std::mem::take(map);
    let mut summaries: BTreeMap<String, NamespaceSummary> = BTreeMap::new();
    // Old node index -> new node index.
    let mut to_new = Vec::with_capacity(old.nodes.len());
    // Namespace nodes whose members are all hidden from the caller stay
    // hidden; one visible member makes the namespace visible.
    let mut all_hidden: HashMap<usize, bool> = HashMap::new();
    for node in old.nodes {
        let w = &node.wire;
        if aggregated(w.kind, &w.namespace, expanded) {
            let (id, kind, key, name) = group_of(&w.namespace, projects);
            let i = map.node(NodeSpec {
                id: id.clone(),
                kind,
                namespace: key.clone(),
                name,
                app: None,
                version: None,
                workload: None,
            });
            let hidden = all_hidden.entry(i).or_insert(true);
            *hidden &= w.inaccessible;
            let s = summaries
                .entry(key.clone())
                .or_insert_with(|| NamespaceSummary {
                    namespace: key,
                    node: id,
                    ..NamespaceSummary::default()
                });
            if let Err(at) = s.namespaces.binary_search(&w.namespace) {
                s.namespaces.insert(at, w.namespace.clone());
            }
            s.nodes += 1;
            if w.kind == NodeKind::Service {
                s.services += 1;
            }
            map.nodes[i].workloads.extend(node.workloads);
            to_new.push(i);
        } else {
            let i = map.node(NodeSpec {
                id: w.id.clone(),
                kind: w.kind,
                namespace: w.namespace.clone(),
                name: w.name.clone(),
                app: None,
                version: None,
                workload: None,
            });
            map.nodes[i] = node;
            to_new.push(i);
        }
    }
    for (i, hidden) in all_hidden {
        map.nodes[i].wire.inaccessible = hidden;
    }
    for old_edge in old.edges {
        let (s, t) = (to_new[old_edge.source], to_new[old_edge.target]);
        let protocol = old_edge.wire.protocol;
        if s == t && map.nodes[s].wire.kind.is_folded() {
            // Calls within one aggregated namespace (or project) are not drawn.
            if protocol != EdgeProtocol::Tcp {
                let ns = &map.nodes[s].wire.namespace;
                if let Some(summary) = summaries.get_mut(ns) {
                    summary.internal_rps += old_edge.wire.rps;
                }
            }
            continue;
        }
        let e = map.edge(s, t, protocol);
        let edge = &mut map.edges[e];
        edge.wire.rps += old_edge.wire.rps;
        if let Some(bytes) = old_edge.wire.bytes_per_s {
            *edge.wire.bytes_per_s.get_or_insert(0.0) += bytes;
        }
        for (code, rate) in old_edge.codes {
            *edge.codes.entry(code).or_insert(0.0) += rate;
        }
        for (le, rate) in old_edge.buckets {
            match edge
                .buckets
                .iter_mut()
                .find(|b| b.0.to_bits() == le.to_bits())
            {
                Some(slot) => slot.1 += rate,
                None => edge.buckets.push((le, rate)),
            }
        }
        edge.mtls_rate += old_edge.mtls_rate;
        edge.reported_rate += old_edge.reported_rate;
    }
    // The merged edges' p95 and mTLS share, from their summed parts (an
    // edge that was not merged gets the same values back).
    for edge in &mut map.edges {
        edge.buckets.sort_unstable_by_key(|b| b.0.to_bits());
        edge.wire.p95_ms = if edge.buckets.is_empty() {
            None
        } else {
            quantile(QUANTILE, &edge.buckets)
        };
        edge.wire.mtls_pct =
            (edge.reported_rate > 0.0).then(|| 100.0 * edge.mtls_rate / edge.reported_rate);
    }
    summaries.into_values().collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use app::types::{EdgeProtocol, Graph, GraphType, NodeKind};

    use super::super::traffic::BuildOptions;
    use super::super::{GraphInputs, GraphRequest, Overview, build};
    use super::Projects;
    use crate::upstream::prometheus::Sample;

    /// `(namespace, workload)` calling `(namespace, service, workload)`.
    type Caller = (&'static str, &'static str);
    type Callee = (&'static str, &'static str, &'static str);

    fn sample(src: Caller, dst: Callee, extra: &[(&str, &str)], value: f64) -> Sample {
        let mut labels: std::collections::BTreeMap<String, String> = [
            ("source_workload_namespace", src.0.to_owned()),
            ("source_workload", src.1.to_owned()),
            ("source_canonical_service", src.1.to_owned()),
            ("source_canonical_revision", "v1".to_owned()),
            ("destination_service_namespace", dst.0.to_owned()),
            ("destination_service_name", dst.1.to_owned()),
            (
                "destination_service",
                format!("{}.{}.svc.cluster.local", dst.1, dst.0),
            ),
            ("destination_workload_namespace", dst.0.to_owned()),
            ("destination_workload", dst.2.to_owned()),
            ("destination_canonical_service", dst.2.to_owned()),
            ("destination_canonical_revision", "v1".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (k, v) in extra {
            labels.insert((*k).to_owned(), (*v).to_owned());
        }
        Sample { labels, value }
    }

    const WEB: Caller = ("a", "web");
    const CRON: Caller = ("a", "cron");
    const API_CALLER: Caller = ("b", "api");
    const API: Callee = ("b", "api", "api");
    const DB: Callee = ("b", "db", "db");
    const STORE: Callee = ("c", "store", "store");

    /// a/web and a/cron call b/api and b/db; b/api calls b/db (inside b)
    /// and c/store.
    fn fetched() -> GraphInputs {
        let http = |code| [("request_protocol", "http"), ("response_code", code)];
        let requests = vec![
            sample(WEB, API, &http("200"), 6.0),
            sample(WEB, API, &http("503"), 2.0),
            sample(WEB, DB, &http("200"), 1.0),
            sample(CRON, API, &http("200"), 3.0),
            sample(API_CALLER, DB, &http("200"), 5.0),
            sample(API_CALLER, STORE, &http("200"), 4.0),
            sample(API_CALLER, STORE, &http("404"), 1.0),
        ];
        let le = |le| [("le", le)];
        let buckets = vec![
            sample(WEB, API, &le("10"), 6.0),
            sample(WEB, API, &le("100"), 8.0),
            sample(WEB, API, &le("+Inf"), 8.0),
            sample(CRON, API, &le("10"), 1.0),
            sample(CRON, API, &le("100"), 3.0),
            sample(CRON, API, &le("+Inf"), 3.0),
        ];
        let policy = |p| {
            [
                ("request_protocol", "http"),
                ("connection_security_policy", p),
            ]
        };
        let security = vec![
            sample(WEB, API, &policy("mutual_tls"), 6.0),
            sample(WEB, API, &policy("none"), 2.0),
            sample(WEB, DB, &policy("mutual_tls"), 1.0),
            sample(CRON, API, &policy("none"), 3.0),
        ];
        GraphInputs {
            requests,
            buckets,
            security,
            ..GraphInputs::default()
        }
    }

    fn request(graph_type: GraphType, inject: bool, overview: Option<&[&str]>) -> GraphRequest {
        GraphRequest {
            namespaces: vec!["a".into(), "b".into(), "c".into()],
            options: BuildOptions {
                graph_type,
                inject_service_nodes: inject,
            },
            window_s: 600.0,
            query_time: 1_700_000_000.0,
            overview: overview.map(|expanded| Overview {
                expanded: expanded.iter().map(|s| (*s).to_owned()).collect(),
                by: app::types::Aggregate::Namespace,
                projects: None,
                automatic: false,
                detail_limit: 20,
            }),
        }
    }

    /// `a` and `b` in project `p1` ("Shop"); `c` in none.
    fn by_project(graph_type: GraphType, inject: bool, expanded: &[&str]) -> GraphRequest {
        let mut r = request(graph_type, inject, Some(expanded));
        let o = r.overview.as_mut().unwrap();
        o.by = app::types::Aggregate::Project;
        o.projects = Some(std::sync::Arc::new(Projects::from([
            ("a".to_owned(), ("p1".to_owned(), "Shop".to_owned())),
            ("b".to_owned(), ("p1".to_owned(), "Shop".to_owned())),
        ])));
        r
    }

    /// Projects: one node each, their calls to each other the sums of the
    /// full graph's edges between their namespaces (derived here from the
    /// full graph), their namespaces' calls to each other inside.
    #[test]
    fn projects_fold_their_namespaces_and_sum_their_calls() {
        for graph_type in [GraphType::App, GraphType::Workload, GraphType::Service] {
            for inject in [true, false] {
                let full = build(&fetched(), &request(graph_type, inject, None), |_| true);
                let g = build(&fetched(), &by_project(graph_type, inject, &[]), |_| true);
                let project_of = |id: &str| {
                    let n = full.nodes.iter().find(|n| n.id == id).unwrap();
                    if n.namespace == "c" {
                        "project:c"
                    } else {
                        "project:p1"
                    }
                };
                let (mut across, mut errors, mut inside) = (0.0, 0.0, 0.0);
                for e in &full.edges {
                    match (project_of(&e.source), project_of(&e.target)) {
                        ("project:p1", "project:c") => {
                            across += e.rps;
                            errors += e.rps * e.error_pct / 100.0;
                        }
                        ("project:p1", "project:p1") if e.protocol != EdgeProtocol::Tcp => {
                            inside += e.rps
                        }
                        _ => {}
                    }
                }
                let ids: Vec<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
                assert_eq!(ids, ["project:c", "project:p1"], "{graph_type:?} {inject}");
                let p1 = g.nodes.iter().find(|n| n.id == "project:p1").unwrap();
                assert_eq!(
                    (p1.kind, p1.namespace.as_str(), p1.name.as_str()),
                    (NodeKind::Project, "p1", "Shop")
                );
                let c = g.nodes.iter().find(|n| n.id == "project:c").unwrap();
                assert_eq!((c.namespace.as_str(), c.name.as_str()), ("c", "c"));
                assert_eq!(g.edges.len(), 1, "{graph_type:?} {inject}");
                let e = edge(&g, "project:p1", "project:c");
                assert!((e.rps - across).abs() < 1e-9 && across > 0.0);
                assert!((e.rps * e.error_pct / 100.0 - errors).abs() < 1e-9);
                let o = g.overview.as_ref().unwrap();
                assert_eq!(o.by, app::types::Aggregate::Project);
                let s = &o.namespaces[1];
                assert_eq!(
                    (s.namespace.as_str(), s.node.as_str()),
                    ("p1", "project:p1")
                );
                assert_eq!(s.namespaces, ["a", "b"]);
                assert!(
                    (s.internal_rps - inside).abs() < 1e-9,
                    "{graph_type:?} {inject}"
                );
            }
        }
    }

    /// An expanded namespace of a project shows in full; the project's
    /// other namespaces stay its node.
    #[test]
    fn an_expanded_namespace_leaves_the_rest_of_its_project_folded() {
        let g = build(
            &fetched(),
            &by_project(GraphType::Workload, true, &["b"]),
            |_| true,
        );
        let ids: BTreeSet<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(
            ids,
            BTreeSet::from([
                "project:p1",
                "project:c",
                "svc:b:api",
                "svc:b:db",
                "wl:b:api",
                "wl:b:db"
            ])
        );
        let o = g.overview.as_ref().unwrap();
        let p1 = o
            .namespaces
            .iter()
            .find(|s| s.node == "project:p1")
            .unwrap();
        assert_eq!(p1.namespaces, ["a"]);
        // a's calls into b now reach b's services, as with namespaces.
        assert!((edge(&g, "project:p1", "svc:b:api").rps - 11.0).abs() < 1e-9);
    }

    fn edge<'g>(g: &'g Graph, source: &str, target: &str) -> &'g app::types::GraphEdge {
        g.edges
            .iter()
            .find(|e| e.source == source && e.target == target)
            .unwrap_or_else(|| panic!("no edge {source} -> {target} in {:#?}", g.edges))
    }

    #[test]
    fn namespaces_become_nodes_with_their_calls_summed() {
        let g = build(
            &fetched(),
            &request(GraphType::Workload, true, Some(&[])),
            |_| true,
        );
        let ids: Vec<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["ns:a", "ns:b", "ns:c"]);
        assert!(g.nodes.iter().all(|n| n.kind == NodeKind::Namespace));
        assert!(g.boxes.is_empty());
        // a -> b: web -> api 6 + 2, web -> db 1, cron -> api 3.
        let ab = edge(&g, "ns:a", "ns:b");
        assert!((ab.rps - 12.0).abs() < 1e-9);
        // The 503s: 2 of 12.
        assert!((ab.error_pct - 100.0 * 2.0 / 12.0).abs() < 1e-9);
        assert!((ab.server_error_pct - 100.0 * 2.0 / 12.0).abs() < 1e-9);
        // Buckets summed: <=10 ms 6 + 1 = 7, <=100 ms 8 + 3 = 11 of 11.
        // The 95th percentile is the 10.45th call: in (10, 100], 3.45 of
        // its 4 calls in, so 10 + 90 * 3.45 / 4 = 87.625 ms; neither
        // member's own p95 (82 and 93.25 ms) nor their mean.
        assert!(
            (ab.p95_ms.unwrap() - 87.625).abs() < 1e-9,
            "{:?}",
            ab.p95_ms
        );
        // mTLS: 6 + 1 of 6 + 2 + 1 + 3 reported.
        assert!((ab.mtls_pct.unwrap() - 100.0 * 7.0 / 12.0).abs() < 1e-9);
        // b -> c: api -> store 4 + 1, the 404 an error.
        let bc = edge(&g, "ns:b", "ns:c");
        assert!((bc.rps - 5.0).abs() < 1e-9);
        assert!((bc.error_pct - 20.0).abs() < 1e-9);
        assert_eq!(bc.server_error_pct, 0.0);
        assert_eq!(g.edges.len(), 2);
        let overview = g.overview.as_ref().unwrap();
        assert!(overview.expanded.is_empty());
        let b = &overview.namespaces[1];
        assert_eq!(b.namespace, "b");
        // Services api and db, their workloads api and db.
        assert_eq!((b.services, b.nodes), (2, 4));
        // Inside b: svc api -> api 8 + 3, svc db -> db 1 + 5, api -> svc db 5.
        assert!((b.internal_rps - 22.0).abs() < 1e-9);
        // Node totals follow from the edges: b received what a sent.
        let node = |id| g.nodes.iter().find(|n| n.id == id).unwrap();
        assert!((node("ns:b").rps_in - 12.0).abs() < 1e-9);
        assert!((node("ns:b").rps_out - 5.0).abs() < 1e-9);
        assert!(node("ns:a").root);
    }

    #[test]
    fn an_expanded_namespace_keeps_its_nodes_and_the_rest_stays_summed() {
        let g = build(
            &fetched(),
            &request(GraphType::Workload, true, Some(&["b"])),
            |_| true,
        );
        let ids: BTreeSet<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(
            ids,
            BTreeSet::from([
                "ns:a",
                "ns:c",
                "svc:b:api",
                "svc:b:db",
                "wl:b:api",
                "wl:b:db"
            ])
        );
        // Summed on the aggregated side only: a's callers of service api.
        assert!((edge(&g, "ns:a", "svc:b:api").rps - 11.0).abs() < 1e-9);
        assert!((edge(&g, "ns:a", "svc:b:db").rps - 1.0).abs() < 1e-9);
        assert!((edge(&g, "wl:b:api", "ns:c").rps - 5.0).abs() < 1e-9);
        // Inside b as in the full graph.
        assert!((edge(&g, "wl:b:api", "svc:b:db").rps - 5.0).abs() < 1e-9);
        assert_eq!(g.overview.as_ref().unwrap().expanded, ["b"]);
    }

    /// Every aggregated edge's rates are the sums of the full graph's
    /// edges between the same namespaces, for every graph type.
    #[test]
    fn aggregated_edges_sum_the_full_graphs_edges() {
        for graph_type in [
            GraphType::App,
            GraphType::VersionedApp,
            GraphType::Workload,
            GraphType::Service,
        ] {
            for inject in [true, false] {
                let full = build(&fetched(), &request(graph_type, inject, None), |_| true);
                let over = build(&fetched(), &request(graph_type, inject, Some(&[])), |_| {
                    true
                });
                assert!(full.overview.is_none());
                let ns_of = |id: &str| {
                    let n = full.nodes.iter().find(|n| n.id == id).unwrap();
                    format!("ns:{}", n.namespace)
                };
                let mut want: std::collections::BTreeMap<(String, String), (f64, f64)> =
                    Default::default();
                for e in &full.edges {
                    let (s, t) = (ns_of(&e.source), ns_of(&e.target));
                    if s != t {
                        let slot = want.entry((s, t)).or_default();
                        slot.0 += e.rps;
                        slot.1 += e.rps * e.error_pct / 100.0;
                    }
                }
                let got: std::collections::BTreeMap<(String, String), (f64, f64)> = over
                    .edges
                    .iter()
                    .map(|e| {
                        (
                            (e.source.clone(), e.target.clone()),
                            (e.rps, e.rps * e.error_pct / 100.0),
                        )
                    })
                    .collect();
                assert_eq!(
                    want.keys().collect::<Vec<_>>(),
                    got.keys().collect::<Vec<_>>(),
                    "{graph_type:?} {inject}"
                );
                for (k, (rps, errors)) in &want {
                    assert!(
                        (got[k].0 - rps).abs() < 1e-9,
                        "{graph_type:?} {inject} {k:?}"
                    );
                    assert!(
                        (got[k].1 - errors).abs() < 1e-9,
                        "{graph_type:?} {inject} {k:?}"
                    );
                }
            }
        }
    }
}
