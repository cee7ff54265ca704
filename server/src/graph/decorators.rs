//! Decorators: each adds one kind of information to the traffic map. They
//! run in the order of [`super::build`], and that order matters: access
//! marks nodes before the sidecar decorator (which skips inaccessible ones),
//! and rates come before health and shares, which divide by them.

use std::collections::{BTreeMap, HashMap, HashSet};

use app::types::{BoxKind, CodeRate, EdgeProtocol, GraphBox, GraphHealth, GraphType, NodeKind};

use super::traffic::{BuildOptions, NodeName, TrafficMap, protocol_of};
use crate::upstream::prometheus::Sample;

/// The quantile the edges show.
pub const QUANTILE: f64 = 0.95;
/// Kiali's defaults: 5xx at 10 % is a failure.
pub const SERVER_FAILURE_PCT: f64 = 10.0;
/// Kiali's defaults: 4xx at 10 % is degraded.
pub const CLIENT_DEGRADED_PCT: f64 = 10.0;
/// Kiali's defaults: 4xx at 20 % is a failure.
pub const CLIENT_FAILURE_PCT: f64 = 20.0;

/// A pod's workload as the cluster reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodWorkload {
    /// Namespace.
    pub namespace: String,
    /// Workload (owner) name.
    pub workload: String,
    /// `app` label.
    pub app: Option<String>,
    /// `version` label.
    pub version: Option<String>,
    /// Whether the pod has the `istio-proxy` container.
    pub sidecar: bool,
}

/// Whether a response code is a client error (4xx) and whether a server
/// error (5xx, no response, or a non-OK gRPC status: Kiali's default gRPC
/// tolerance fails at 10 % for every non-zero status).
pub fn classify(code: &str) -> (bool, bool) {
    if let Some(status) = code.strip_prefix("grpc:") {
        return (false, status != "0");
    }
    match code.as_bytes().first() {
        Some(b'4') => (true, false),
        Some(b'5') => (false, true),
        _ => (false, code == "0"),
    }
}

/// Health from a request rate and its client and server error rates.
pub fn health_of(total: f64, client: f64, server: f64) -> GraphHealth {
    if total <= 0.0 {
        return GraphHealth::NoTraffic;
    }
    let (client, server) = (100.0 * client / total, 100.0 * server / total);
    if server >= SERVER_FAILURE_PCT || client >= CLIENT_FAILURE_PCT {
        GraphHealth::Failure
    } else if client >= CLIENT_DEGRADED_PCT {
        GraphHealth::Degraded
    } else {
        GraphHealth::Healthy
    }
}

/// `histogram_quantile` over cumulative `(upper bound, rate)` buckets, as
/// Prometheus computes it (linear within a bucket; a rank in the +Inf
/// bucket gives the highest finite bound).
pub fn quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    let mut b: Vec<(f64, f64)> = buckets.to_vec();
    b.sort_by(|x, y| x.0.total_cmp(&y.0));
    // Rates of cumulative counters can dip by rounding; keep them monotonic.
    let mut max = 0.0f64;
    for x in &mut b {
        max = max.max(x.1);
        x.1 = max;
    }
    let total = b.last().filter(|l| l.0.is_infinite())?.1;
    if total <= 0.0 || b.len() < 2 {
        return None;
    }
    let rank = q * total;
    let i = b.iter().position(|x| x.1 >= rank)?;
    if i == b.len() - 1 {
        return Some(b[b.len() - 2].0);
    }
    let (lower, below) = if i == 0 { (0.0, 0.0) } else { b[i - 1] };
    let (upper, count) = b[i];
    if count - below <= 0.0 {
        return Some(upper);
    }
    Some(lower + (upper - lower) * (rank - below) / (count - below))
}

/// 1. Response time: bucket rates summed per edge (every edge on a
///    sample's path), then the p95 of each HTTP/gRPC edge.
pub fn response_time(map: &mut TrafficMap, samples: &[Sample], options: BuildOptions) {
    // Bucket rates per edge index, in first-seen order: an edge has a
    // dozen or two bounds, so a linear search beats a map.
    let mut per_edge: Vec<Vec<(f64, f64)>> = vec![Vec::new(); map.edges.len()];
    for s in samples.iter().filter(|s| s.value.is_finite()) {
        // Buckets carry no protocol: HTTP edges, else gRPC ones.
        let (path, le) = map.first_existing_path(
            s,
            options,
            &[EdgeProtocol::Http, EdgeProtocol::Grpc],
            Some("le"),
        );
        let Some(le) = le.and_then(|l| l.parse::<f64>().ok()) else {
            continue;
        };
        for e in path {
            let buckets = &mut per_edge[e];
            // Bounds are told apart by their bits, so "1" and "1.0" are one.
            match buckets.iter_mut().find(|b| b.0.to_bits() == le.to_bits()) {
                Some(slot) => slot.1 += s.value,
                None => buckets.push((le, 0.0 + s.value)),
            }
        }
    }
    for (e, mut buckets) in per_edge.into_iter().enumerate() {
        if buckets.is_empty() {
            continue;
        }
        buckets.sort_unstable_by_key(|b| b.0.to_bits());
        let edge = &mut map.edges[e];
        edge.wire.p95_ms = quantile(QUANTILE, &buckets);
        edge.buckets = buckets;
    }
}

/// 2. Security: the share of destination-reported traffic sent with
///    mutual TLS, per edge.
pub fn security(map: &mut TrafficMap, samples: &[Sample], options: BuildOptions) {
    for s in samples.iter().filter(|s| s.value.is_finite()) {
        let mtls = s
            .labels
            .get("connection_security_policy")
            .map(String::as_str)
            == Some("mutual_tls");
        for e in map.existing_path(s, options, protocol_of(s)) {
            let edge = &mut map.edges[e];
            edge.reported_rate += s.value;
            if mtls {
                edge.mtls_rate += s.value;
            }
        }
    }
    for edge in &mut map.edges {
        edge.wire.mtls_pct =
            (edge.reported_rate > 0.0).then(|| 100.0 * edge.mtls_rate / edge.reported_rate);
    }
}

/// 3. Access: nodes in namespaces the caller may not see stay (their edges
///    touch the caller's namespaces) but lose every detail.
pub fn access(map: &mut TrafficMap, can_see: impl Fn(&str) -> bool) {
    // Hidden versioned nodes by (namespace, name without the version).
    let mut versioned: BTreeMap<(String, String), Vec<(String, usize)>> = BTreeMap::new();
    for (i, node) in map.nodes.iter_mut().enumerate() {
        let w = &mut node.wire;
        if w.kind != NodeKind::Unknown && !can_see(&w.namespace) {
            w.inaccessible = true;
            if let Some(version) = w.version.take() {
                // A versioned app's name carries its version (`reviews v3`).
                if let Some(stripped) = w
                    .name
                    .strip_suffix(version.as_str())
                    .and_then(|rest| rest.strip_suffix(' '))
                {
                    w.name = stripped.to_owned();
                }
                versioned
                    .entry((w.namespace.clone(), w.name.clone()))
                    .or_default()
                    .push((w.id.clone(), i));
            }
            w.app = None;
            node.workloads.clear();
        }
    }
    // Their ids would tell the version the fields hide
    // (`vapp:ns:reviews:v3`): they become `vapp:<namespace>:<name>`,
    // numbered from 2 where one app stands for several nodes (in the order
    // of the original ids, so refreshes keep them apart the same way).
    // Edges take their ids from the nodes at the end, so they follow.
    for ((ns, name), mut nodes) in versioned {
        nodes.sort();
        for (k, (_, i)) in nodes.into_iter().enumerate() {
            let suffix = if k == 0 {
                String::new()
            } else {
                format!("#{}", k + 1)
            };
            map.nodes[i].wire.id = format!("vapp:{ns}:{name}{suffix}");
        }
    }
}

/// 4. Sidecars and idle nodes: whether each workload's pods carry the
///    sidecar (an app node has one when all its pods do), and a node for
///    each workload of the requested namespaces that had no traffic.
pub fn sidecars(
    map: &mut TrafficMap,
    pods: &[PodWorkload],
    namespaces: &[String],
    options: BuildOptions,
) {
    let mut by_workload: HashMap<(&str, &str), bool> = HashMap::new();
    for p in pods {
        let e = by_workload
            .entry((p.namespace.as_str(), p.workload.as_str()))
            .or_insert(true);
        *e &= p.sidecar;
    }
    for node in &mut map.nodes {
        if node.wire.inaccessible || node.workloads.is_empty() {
            continue;
        }
        // Known when any of its workloads is; yes when all known ones are.
        let (mut known, mut all) = (false, true);
        for (ns, wl) in &node.workloads {
            if let Some(sidecar) = by_workload.get(&(ns.as_str(), wl.as_str())) {
                known = true;
                all &= *sidecar;
            }
        }
        if known {
            node.wire.sidecar = Some(all);
        }
    }
    if options.graph_type == GraphType::Service {
        return;
    }
    let requested: HashSet<&str> = namespaces.iter().map(String::as_str).collect();
    for p in pods
        .iter()
        .filter(|p| requested.contains(p.namespace.as_str()))
    {
        let name = NodeName::Workload {
            graph_type: options.graph_type,
            namespace: &p.namespace,
            workload: &p.workload,
            app: p.app.as_deref(),
            version: p.version.as_deref(),
        };
        if map.node_by_name(&name).is_none() {
            map.add_idle_node(name.spec());
            if let Some(n) = map.nodes.last_mut() {
                n.wire.sidecar = by_workload
                    .get(&(p.namespace.as_str(), p.workload.as_str()))
                    .copied();
            }
        }
    }
}

/// 5. Rates: per-code lists, node totals in and out, edge shares of their
///    source's traffic, roots and idleness.
pub fn rates(map: &mut TrafficMap) {
    for n in &mut map.nodes {
        let w = &mut n.wire;
        (w.rps_in, w.rps_out, w.tcp_in, w.tcp_out) = (0.0, 0.0, 0.0, 0.0);
    }
    let mut has_inbound = vec![false; map.nodes.len()];
    for e in &mut map.edges {
        e.wire.codes = e
            .codes
            .iter()
            .map(|(code, rate)| CodeRate {
                code: code.clone(),
                rate: *rate,
            })
            .collect();
        let bytes = e.wire.bytes_per_s.unwrap_or(0.0);
        e.wire.idle = e.wire.rps <= 0.0 && bytes <= 0.0;
        has_inbound[e.target] = true;
        let (s, t) = (e.source, e.target);
        if e.wire.protocol == EdgeProtocol::Tcp {
            map.nodes[s].wire.tcp_out += bytes;
            map.nodes[t].wire.tcp_in += bytes;
        } else {
            map.nodes[s].wire.rps_out += e.wire.rps;
            map.nodes[t].wire.rps_in += e.wire.rps;
        }
    }
    for e in &mut map.edges {
        let src = &map.nodes[e.source].wire;
        let (part, whole) = if e.wire.protocol == EdgeProtocol::Tcp {
            (e.wire.bytes_per_s.unwrap_or(0.0), src.tcp_out)
        } else {
            (e.wire.rps, src.rps_out)
        };
        e.wire.share_pct = if whole > 0.0 {
            100.0 * part / whole
        } else {
            0.0
        };
    }
    for (n, inbound) in map.nodes.iter_mut().zip(has_inbound) {
        let w = &mut n.wire;
        w.root = !inbound;
        w.idle = w.rps_in + w.rps_out + w.tcp_in + w.tcp_out <= 0.0;
    }
}

/// 6. Health: error shares and Kiali's thresholds per edge, and per node
///    from what it received (or, for pure callers, what it sent).
pub fn health(map: &mut TrafficMap) {
    // (total, client errors, server errors) in and out per node.
    let mut inbound = vec![(0.0, 0.0, 0.0); map.nodes.len()];
    let mut outbound = vec![(0.0, 0.0, 0.0); map.nodes.len()];
    for e in &mut map.edges {
        if e.wire.protocol == EdgeProtocol::Tcp {
            continue;
        }
        let (mut client, mut server) = (0.0, 0.0);
        for (code, rate) in &e.codes {
            match classify(code) {
                (true, _) => client += rate,
                (_, true) => server += rate,
                _ => {}
            }
        }
        let total = e.wire.rps;
        if total > 0.0 {
            e.wire.error_pct = 100.0 * (client + server) / total;
            e.wire.server_error_pct = 100.0 * server / total;
        }
        e.wire.health = health_of(total, client, server);
        for (slot, i) in [(&mut inbound, e.target), (&mut outbound, e.source)] {
            slot[i].0 += total;
            slot[i].1 += client;
            slot[i].2 += server;
        }
    }
    for (i, n) in map.nodes.iter_mut().enumerate() {
        if n.wire.inaccessible {
            n.wire.health = GraphHealth::NoTraffic;
            continue;
        }
        let (total, client, server) = if inbound[i].0 > 0.0 {
            inbound[i]
        } else {
            outbound[i]
        };
        n.wire.error_pct = if total > 0.0 {
            100.0 * (client + server) / total
        } else {
            0.0
        };
        n.wire.health = health_of(total, client, server);
    }
}

/// 7. Boxes: one per namespace, and in the versioned app graph one per app
///    with more than one member (its versions and its service).
pub fn boxes(map: &mut TrafficMap, graph_type: GraphType) -> Vec<GraphBox> {
    // First the groups, borrowing the nodes' strings: a namespace index per
    // node, and app members by (namespace, app) in sorted order.
    let mut namespaces: Vec<&str> = Vec::new();
    let mut namespace_index: HashMap<&str, usize> = HashMap::new();
    let mut node_namespace: Vec<Option<usize>> = Vec::with_capacity(map.nodes.len());
    let mut app_members: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (i, n) in map.nodes.iter().enumerate() {
        let w = &n.wire;
        if w.kind == NodeKind::Unknown || w.kind.is_folded() {
            node_namespace.push(None);
            continue;
        }
        let ns = *namespace_index.entry(&w.namespace).or_insert_with(|| {
            namespaces.push(&w.namespace);
            namespaces.len() - 1
        });
        node_namespace.push(Some(ns));
        if graph_type == GraphType::VersionedApp && !w.inaccessible {
            let app = match (w.kind, &w.app) {
                (NodeKind::App, Some(app)) => Some(app.as_str()),
                (NodeKind::Service, _) => Some(w.name.as_str()),
                _ => None,
            };
            if let Some(app) = app {
                app_members
                    .entry((w.namespace.as_str(), app))
                    .or_default()
                    .push(i);
            }
        }
    }
    let namespace_ids: Vec<String> = namespaces.iter().map(|ns| format!("box:ns:{ns}")).collect();
    let mut out: BTreeMap<String, GraphBox> = namespaces
        .iter()
        .zip(&namespace_ids)
        .map(|(ns, id)| {
            let b = GraphBox {
                id: id.clone(),
                kind: BoxKind::Namespace,
                label: (*ns).to_owned(),
                namespace: (*ns).to_owned(),
                parent: None,
            };
            (id.clone(), b)
        })
        .collect();
    // App boxes: an app with more than one member, one of them a version.
    let app_boxes: Vec<(String, String, Vec<usize>)> = app_members
        .into_iter()
        .filter(|(_, members)| {
            members.len() >= 2
                && members
                    .iter()
                    .any(|i| map.nodes[*i].wire.kind == NodeKind::App)
        })
        .map(|((ns, app), members)| (ns.to_owned(), app.to_owned(), members))
        .collect();
    for (n, ns) in map.nodes.iter_mut().zip(node_namespace) {
        if let Some(ns) = ns {
            n.wire.parent = Some(namespace_ids[ns].clone());
        }
    }
    for (ns, app, members) in app_boxes {
        let id = format!("box:app:{ns}:{app}");
        for i in members {
            map.nodes[i].wire.parent = Some(id.clone());
        }
        out.insert(
            id.clone(),
            GraphBox {
                id,
                kind: BoxKind::App,
                label: app,
                parent: Some(format!("box:ns:{ns}")),
                namespace: ns,
            },
        );
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::traffic::tests_support::{call, options};

    #[test]
    fn codes_classify_like_kiali() {
        assert_eq!(classify("200"), (false, false));
        assert_eq!(classify("404"), (true, false));
        assert_eq!(classify("503"), (false, true));
        assert_eq!(classify("0"), (false, true));
        assert_eq!(classify("grpc:0"), (false, false));
        assert_eq!(classify("grpc:14"), (false, true));
    }

    #[test]
    fn thresholds_are_kialis_defaults() {
        assert_eq!(health_of(0.0, 0.0, 0.0), GraphHealth::NoTraffic);
        assert_eq!(health_of(100.0, 9.9, 9.9), GraphHealth::Healthy);
        assert_eq!(health_of(100.0, 10.0, 0.0), GraphHealth::Degraded);
        assert_eq!(health_of(100.0, 20.0, 0.0), GraphHealth::Failure);
        assert_eq!(health_of(100.0, 0.0, 10.0), GraphHealth::Failure);
    }

    #[test]
    fn quantiles_match_prometheus() {
        // 100 observations: 50 below 10, 40 in (10, 50], 10 above 50.
        let b = [(10.0, 50.0), (50.0, 90.0), (f64::INFINITY, 100.0)];
        assert_eq!(quantile(0.5, &b), Some(10.0));
        assert_eq!(quantile(0.7, &b), Some(30.0));
        assert_eq!(quantile(0.95, &b), Some(50.0));
        assert_eq!(quantile(0.25, &b), Some(5.0));
        assert_eq!(quantile(0.95, &[(f64::INFINITY, 0.0)]), None);
        assert_eq!(quantile(0.95, &[(10.0, 1.0)]), None);
    }

    #[test]
    fn response_time_adds_buckets_along_the_path() {
        let mut map = TrafficMap::default();
        let o = options(GraphType::VersionedApp, true);
        map.add_requests(&[call("web", "api", "v1", "200", 1.0)], o);
        let bucket = |le: &str, v: f64| {
            let mut s = call("web", "api", "v1", "200", v);
            s.labels.remove("response_code");
            s.labels.remove("request_protocol");
            s.labels.insert("le".into(), le.into());
            s
        };
        response_time(
            &mut map,
            &[
                bucket("10", 50.0),
                bucket("50", 90.0),
                bucket("+Inf", 100.0),
            ],
            o,
        );
        assert_eq!(map.edges.len(), 2);
        for e in &map.edges {
            assert_eq!(e.wire.p95_ms, Some(50.0));
        }
    }

    #[test]
    fn security_is_a_share_of_reported_traffic() {
        let mut map = TrafficMap::default();
        let o = options(GraphType::Workload, false);
        map.add_requests(&[call("web", "api", "v1", "200", 4.0)], o);
        let mut secured = call("web", "api", "v1", "200", 3.0);
        secured
            .labels
            .insert("connection_security_policy".into(), "mutual_tls".into());
        let mut plain = call("web", "api", "v1", "200", 1.0);
        plain
            .labels
            .insert("connection_security_policy".into(), "none".into());
        security(&mut map, &[secured, plain], o);
        assert_eq!(map.edges[0].wire.mtls_pct, Some(75.0));
    }

    #[test]
    fn access_hides_details_outside_the_scope() {
        let mut map = TrafficMap::default();
        let o = options(GraphType::VersionedApp, false);
        map.add_requests(&[call("web", "api", "v1", "200", 1.0)], o);
        for n in &mut map.nodes {
            n.wire.sidecar = Some(true);
        }
        map.nodes[1].wire.namespace = "secret".into();
        access(&mut map, |ns| ns != "secret");
        sidecars(&mut map, &[], &[], o);
        assert!(!map.nodes[0].wire.inaccessible);
        let far = &map.nodes[1];
        assert!(far.wire.inaccessible);
        assert!(far.wire.app.is_none() && far.wire.version.is_none());
        assert!(far.workloads.is_empty());
        // Neither its id nor its name tell the version the fields hide.
        assert_eq!(
            (far.wire.id.as_str(), far.wire.name.as_str()),
            ("vapp:secret:api", "api")
        );
        assert_eq!(map.nodes[0].wire.id, "vapp:a:web:v1");
    }

    #[test]
    fn hidden_versions_of_one_app_keep_distinct_ids_without_the_versions() {
        let mut map = TrafficMap::default();
        let o = options(GraphType::VersionedApp, false);
        map.add_requests(
            &[
                call("web", "api", "v2", "200", 1.0),
                call("web", "api", "v1", "200", 1.0),
            ],
            o,
        );
        for n in &mut map.nodes {
            if n.wire.app.as_deref() == Some("api") {
                n.wire.namespace = "secret".into();
            }
        }
        access(&mut map, |ns| ns != "secret");
        let mut ids: Vec<&str> = map.nodes.iter().map(|n| n.wire.id.as_str()).collect();
        ids.sort_unstable();
        assert_eq!(
            ids,
            ["vapp:a:web:v1", "vapp:secret:api", "vapp:secret:api#2"]
        );
        assert!(
            ids[1..]
                .iter()
                .all(|id| !id.contains("v1") && !id.contains("v2")),
            "{ids:?}"
        );
    }

    #[test]
    fn sidecars_come_from_pods_and_idle_workloads_are_added() {
        let mut map = TrafficMap::default();
        let o = options(GraphType::Workload, false);
        map.add_requests(&[call("web", "api", "v1", "200", 1.0)], o);
        let pod = |wl: &str, sidecar| PodWorkload {
            namespace: "a".into(),
            workload: wl.into(),
            app: Some(wl.into()),
            version: Some("v1".into()),
            sidecar,
        };
        let pods = [
            pod("web-v1", true),
            pod("api-v1", false),
            pod("cron-v1", true),
        ];
        sidecars(&mut map, &pods, &["a".into()], o);
        rates(&mut map);
        assert_eq!(map.nodes[0].wire.sidecar, Some(true));
        assert_eq!(map.nodes[1].wire.sidecar, Some(false));
        let idle = &map.nodes[2].wire;
        assert_eq!((idle.id.as_str(), idle.idle), ("wl:a:cron-v1", true));
    }

    #[test]
    fn rates_give_totals_shares_and_roots() {
        let mut map = TrafficMap::default();
        let o = options(GraphType::App, false);
        map.add_requests(
            &[
                call("web", "api", "v1", "200", 3.0),
                call("web", "db", "v1", "200", 1.0),
            ],
            o,
        );
        rates(&mut map);
        let web = &map.nodes[0].wire;
        assert_eq!((web.rps_out, web.rps_in, web.root), (4.0, 0.0, true));
        assert_eq!(map.edges[0].wire.share_pct, 75.0);
        assert_eq!(map.edges[1].wire.share_pct, 25.0);
        assert!(!map.nodes[1].wire.root);
    }

    #[test]
    fn health_uses_inbound_errors() {
        let mut map = TrafficMap::default();
        let o = options(GraphType::App, false);
        map.add_requests(
            &[
                call("web", "api", "v1", "200", 85.0),
                call("web", "api", "v1", "404", 15.0),
                call("web", "db", "v1", "200", 88.0),
                call("web", "db", "v1", "503", 12.0),
            ],
            o,
        );
        rates(&mut map);
        health(&mut map);
        let api = &map.nodes[1].wire;
        assert_eq!(api.health, GraphHealth::Degraded);
        assert!((api.error_pct - 15.0).abs() < 1e-9);
        assert_eq!(map.nodes[2].wire.health, GraphHealth::Failure);
        assert!((map.edges[1].wire.server_error_pct - 12.0).abs() < 1e-9);
        // The caller is judged by what it sent: 15 4xx and 12 5xx in 200
        // stay under both thresholds.
        assert_eq!(map.nodes[0].wire.health, GraphHealth::Healthy);
        assert!((map.nodes[0].wire.error_pct - 13.5).abs() < 1e-9);
    }

    #[test]
    fn versioned_apps_get_app_boxes_with_their_service() {
        let mut map = TrafficMap::default();
        let o = options(GraphType::VersionedApp, true);
        map.add_requests(
            &[
                call("web", "api", "v1", "200", 1.0),
                call("web", "api", "v2", "200", 1.0),
            ],
            o,
        );
        let boxes = boxes(&mut map, GraphType::VersionedApp);
        let ids: Vec<&str> = boxes.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids, ["box:app:a:api", "box:ns:a"]);
        let svc = map.nodes.iter().find(|n| n.wire.id == "svc:a:api").unwrap();
        assert_eq!(svc.wire.parent.as_deref(), Some("box:app:a:api"));
        let web = map
            .nodes
            .iter()
            .find(|n| n.wire.id == "vapp:a:web:v1")
            .unwrap();
        assert_eq!(web.wire.parent.as_deref(), Some("box:ns:a"));
    }
}
