//! The traffic map: nodes and edges built from Prometheus vectors, before
//! any decoration. Node identity depends on the graph type; edges are keyed
//! by (source, target, protocol) and accumulate rates per response code.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use app::types::{EdgeProtocol, GraphEdge, GraphHealth, GraphNode, GraphType, NodeKind};

use crate::upstream::prometheus::Sample;

/// The label value Istio uses for what it cannot identify.
pub const UNKNOWN: &str = "unknown";
/// Id of the one node standing for every unidentified caller.
pub const UNKNOWN_ID: &str = "unknown";

/// How the map is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuildOptions {
    /// What nodes stand for.
    pub graph_type: GraphType,
    /// Put a service node between callers and the workloads behind it.
    pub inject_service_nodes: bool,
}

/// A node under construction: the wire node plus what decorators need.
#[derive(Clone, Debug)]
pub struct Node {
    /// The node as it will be sent.
    pub wire: GraphNode,
    /// The workloads it stands for, `(namespace, workload)`.
    pub workloads: BTreeSet<(String, String)>,
}

/// An edge under construction.
#[derive(Clone, Debug)]
pub struct Edge {
    /// Index of the calling node.
    pub source: usize,
    /// Index of the called node.
    pub target: usize,
    /// The edge as it will be sent (ids filled in at the end).
    pub wire: GraphEdge,
    /// Requests per second by code (HTTP status or `grpc:N`).
    pub codes: BTreeMap<String, f64>,
    /// Duration bucket rates by upper bound (ms), summed over the edge.
    pub buckets: Vec<(f64, f64)>,
    /// Destination-reported rate sent with mutual TLS.
    pub mtls_rate: f64,
    /// Destination-reported rate in total.
    pub reported_rate: f64,
}

/// Nodes and edges of one graph.
#[derive(Clone, Debug, Default)]
pub struct TrafficMap {
    /// Nodes, in insertion order.
    pub nodes: Vec<Node>,
    /// Edges, in insertion order.
    pub edges: Vec<Edge>,
    node_index: HashMap<String, usize>,
    edge_index: HashMap<(usize, usize, EdgeProtocol), usize>,
    /// Paths by the samples' node labels and protocol ([`write_path_key`]):
    /// bucket and code series repeat the same ends many times, and
    /// resolving them allocates ids.
    path_cache: HashMap<Box<str>, Path>,
    /// The key being looked up, reused so that a hit allocates nothing.
    key_buffer: String,
    /// Likewise for node ids.
    id_buffer: String,
}

/// The edges one sample's traffic runs along, in call order: caller ->
/// service -> workload at most, so two edges (a copy, not an allocation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Path {
    edges: [usize; 2],
    len: usize,
}

impl Path {
    fn push(&mut self, edge: usize) {
        self.edges[self.len] = edge;
        self.len += 1;
    }

    /// The edge indices.
    pub fn edges(&self) -> &[usize] {
        &self.edges[..self.len]
    }

    /// Whether the path has no edge.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl IntoIterator for Path {
    type Item = usize;
    type IntoIter = std::iter::Take<std::array::IntoIter<usize, 2>>;

    fn into_iter(self) -> Self::IntoIter {
        self.edges.into_iter().take(self.len)
    }
}

/// The labels that decide a sample's path (see [`crate::graph::queries::NODE_LABELS`]).
const PATH_LABELS: [&str; 11] = [
    "source_workload_namespace",
    "source_workload",
    "source_canonical_service",
    "source_canonical_revision",
    "destination_service_namespace",
    "destination_service",
    "destination_service_name",
    "destination_workload_namespace",
    "destination_workload",
    "destination_canonical_service",
    "destination_canonical_revision",
];

/// Writes the path cache key of `sample` and `protocol` into `key`: the
/// values of [`PATH_LABELS`] (a missing label counts as empty, as in
/// [`source_of`] and [`targets_of`]), each ended by a byte that no label
/// value contains, then the protocol ([`set_key_protocol`]). Returns the
/// value of label `extra`, found on the way.
fn write_path_key<'s>(
    key: &mut String,
    sample: &'s Sample,
    protocol: EdgeProtocol,
    extra: Option<&str>,
) -> Option<&'s str> {
    key.clear();
    // One walk over the labels instead of a lookup per label: every label
    // string is a separate allocation, and memory, not comparing, is what
    // a lookup costs.
    let mut values = [""; PATH_LABELS.len()];
    let mut extra_value = None;
    for (name, value) in &sample.labels {
        if let Some(i) = PATH_LABELS.iter().position(|l| *l == name) {
            values[i] = value;
        } else if extra == Some(name.as_str()) {
            extra_value = Some(value.as_str());
        }
    }
    for value in values {
        key.push_str(value);
        key.push('\u{1}');
    }
    key.push(protocol_char(protocol));
    extra_value
}

/// Turns a key of [`write_path_key`] into the same sample's key for
/// `protocol`.
fn set_key_protocol(key: &mut String, protocol: EdgeProtocol) {
    key.pop();
    key.push(protocol_char(protocol));
}

fn protocol_char(protocol: EdgeProtocol) -> char {
    match protocol {
        EdgeProtocol::Http => 'h',
        EdgeProtocol::Grpc => 'g',
        EdgeProtocol::Tcp => 't',
    }
}

/// What a node is, before it exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSpec {
    /// Stable id.
    pub id: String,
    /// Kind.
    pub kind: NodeKind,
    /// Namespace.
    pub namespace: String,
    /// Shown name.
    pub name: String,
    /// App, if known.
    pub app: Option<String>,
    /// Version, if part of the identity.
    pub version: Option<String>,
    /// The workload behind it, if known.
    pub workload: Option<String>,
}

fn label<'a>(sample: &'a Sample, name: &str) -> &'a str {
    sample.labels.get(name).map(String::as_str).unwrap_or("")
}

fn known(value: &str) -> Option<&str> {
    (!value.is_empty() && value != UNKNOWN).then_some(value)
}

/// A node of `graph_type` for a workload with its app and version.
pub fn workload_node(
    graph_type: GraphType,
    namespace: &str,
    workload: &str,
    app: Option<&str>,
    version: Option<&str>,
) -> NodeSpec {
    let wl = |ns: &str| NodeSpec {
        id: format!("wl:{ns}:{workload}"),
        kind: NodeKind::Workload,
        namespace: ns.to_owned(),
        name: workload.to_owned(),
        app: app.map(str::to_owned),
        version: version.map(str::to_owned),
        workload: Some(workload.to_owned()),
    };
    match (graph_type, app) {
        (GraphType::Workload, _) | (_, None) => wl(namespace),
        (GraphType::App, Some(app)) => NodeSpec {
            id: format!("app:{namespace}:{app}"),
            kind: NodeKind::App,
            namespace: namespace.to_owned(),
            name: app.to_owned(),
            app: Some(app.to_owned()),
            version: None,
            workload: Some(workload.to_owned()),
        },
        (GraphType::VersionedApp, Some(app)) => {
            let version = version.unwrap_or(UNKNOWN);
            NodeSpec {
                id: format!("vapp:{namespace}:{app}:{version}"),
                kind: NodeKind::App,
                namespace: namespace.to_owned(),
                name: format!("{app} {version}"),
                app: Some(app.to_owned()),
                version: Some(version.to_owned()),
                workload: Some(workload.to_owned()),
            }
        }
        (GraphType::Service, Some(app)) => NodeSpec {
            id: format!("svc:{namespace}:{app}"),
            kind: NodeKind::Service,
            namespace: namespace.to_owned(),
            name: app.to_owned(),
            app: Some(app.to_owned()),
            version: None,
            workload: Some(workload.to_owned()),
        },
    }
}

/// The node for a service; outside the mesh when its host is not a
/// cluster-local name.
pub fn service_node(namespace: &str, name: &str, host: &str) -> NodeSpec {
    let external = !host.is_empty() && host != UNKNOWN && !host.ends_with(".cluster.local");
    NodeSpec {
        id: format!("svc:{namespace}:{name}"),
        kind: if external {
            NodeKind::External
        } else {
            NodeKind::Service
        },
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        app: None,
        version: None,
        workload: None,
    }
}

fn unknown_node() -> NodeSpec {
    NodeSpec {
        id: UNKNOWN_ID.to_owned(),
        kind: NodeKind::Unknown,
        namespace: UNKNOWN.to_owned(),
        name: UNKNOWN.to_owned(),
        app: None,
        version: None,
        workload: None,
    }
}

/// A node as a sample's labels name it, borrowing them: enough to find
/// the node by id ([`NodeName::write_id`]); the owned [`NodeSpec`] is built
/// only for a node that is new.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeName<'a> {
    /// A workload, as [`workload_node`] makes it.
    Workload {
        /// What nodes stand for.
        graph_type: GraphType,
        /// Namespace.
        namespace: &'a str,
        /// Workload.
        workload: &'a str,
        /// App, if known.
        app: Option<&'a str>,
        /// Version, if known.
        version: Option<&'a str>,
    },
    /// A service, as [`service_node`] makes it.
    Service {
        /// Namespace.
        namespace: &'a str,
        /// Service name.
        name: &'a str,
        /// Host (`destination_service`).
        host: &'a str,
    },
    /// The unknown node.
    Unknown,
}

impl NodeName<'_> {
    /// Writes the node's id (the [`NodeSpec::id`] of [`NodeName::spec`])
    /// into `id`.
    pub fn write_id(&self, id: &mut String) {
        id.clear();
        let parts: &[&str] = match *self {
            NodeName::Workload {
                graph_type,
                namespace,
                workload,
                app,
                version,
            } => match (graph_type, app) {
                (GraphType::Workload, _) | (_, None) => &["wl:", namespace, ":", workload],
                (GraphType::App, Some(app)) => &["app:", namespace, ":", app],
                (GraphType::VersionedApp, Some(app)) => &[
                    "vapp:",
                    namespace,
                    ":",
                    app,
                    ":",
                    version.unwrap_or(UNKNOWN),
                ],
                (GraphType::Service, Some(app)) => &["svc:", namespace, ":", app],
            },
            NodeName::Service {
                namespace, name, ..
            } => &["svc:", namespace, ":", name],
            NodeName::Unknown => &[UNKNOWN_ID],
        };
        for part in parts {
            id.push_str(part);
        }
    }

    /// The node to add.
    pub fn spec(&self) -> NodeSpec {
        match *self {
            NodeName::Workload {
                graph_type,
                namespace,
                workload,
                app,
                version,
            } => workload_node(graph_type, namespace, workload, app, version),
            NodeName::Service {
                namespace,
                name,
                host,
            } => service_node(namespace, name, host),
            NodeName::Unknown => unknown_node(),
        }
    }

    /// `(namespace, workload)` it stands for (the spec's), if any.
    pub fn workload(&self) -> Option<(&str, &str)> {
        match *self {
            NodeName::Workload {
                namespace,
                workload,
                ..
            } => Some((namespace, workload)),
            _ => None,
        }
    }
}

/// The calling node of a sample.
pub fn source_of(sample: &Sample, graph_type: GraphType) -> NodeSpec {
    source_name(sample, graph_type).spec()
}

/// [`source_of`], borrowed.
pub fn source_name(sample: &Sample, graph_type: GraphType) -> NodeName<'_> {
    let ns = label(sample, "source_workload_namespace");
    match known(label(sample, "source_workload")) {
        Some(wl) if known(ns).is_some() => NodeName::Workload {
            graph_type,
            namespace: ns,
            workload: wl,
            app: known(label(sample, "source_canonical_service")),
            version: known(label(sample, "source_canonical_revision")),
        },
        _ => NodeName::Unknown,
    }
}

/// The called nodes of a sample, in call order: the service, then (unless
/// the graph type is `service`, the workload is unknown, or service nodes
/// are not wanted) the workload behind it; or just the workload.
pub fn targets_of(sample: &Sample, options: BuildOptions) -> Vec<NodeSpec> {
    let (names, len) = target_names(sample, options);
    names[..len].iter().map(NodeName::spec).collect()
}

/// [`targets_of`], borrowed: the first `len` names.
pub fn target_names(sample: &Sample, options: BuildOptions) -> ([NodeName<'_>; 2], usize) {
    let service = NodeName::Service {
        namespace: label(sample, "destination_service_namespace"),
        name: label(sample, "destination_service_name"),
        host: label(sample, "destination_service"),
    };
    let ns = label(sample, "destination_workload_namespace");
    let workload = match (known(label(sample, "destination_workload")), known(ns)) {
        (Some(wl), Some(ns)) if options.graph_type != GraphType::Service => {
            Some(NodeName::Workload {
                graph_type: options.graph_type,
                namespace: ns,
                workload: wl,
                app: known(label(sample, "destination_canonical_service")),
                version: known(label(sample, "destination_canonical_revision")),
            })
        }
        _ => None,
    };
    match workload {
        None => ([service, NodeName::Unknown], 1),
        Some(w) if options.inject_service_nodes => ([service, w], 2),
        Some(w) => ([w, NodeName::Unknown], 1),
    }
}

/// The protocol of a sample's `request_protocol`.
pub fn protocol_of(sample: &Sample) -> EdgeProtocol {
    match label(sample, "request_protocol") {
        "grpc" => EdgeProtocol::Grpc,
        "tcp" => EdgeProtocol::Tcp,
        _ => EdgeProtocol::Http,
    }
}

/// The code a request sample counts under: the HTTP status, or `grpc:N`
/// for gRPC calls that carry a status.
pub fn code_of(sample: &Sample) -> String {
    let mut code = String::new();
    write_code(&mut code, sample, protocol_of(sample));
    code
}

/// [`code_of`] into a reused buffer, `protocol` being the sample's.
fn write_code(code: &mut String, sample: &Sample, protocol: EdgeProtocol) {
    code.clear();
    let grpc = label(sample, "grpc_response_status");
    if protocol == EdgeProtocol::Grpc && !grpc.is_empty() {
        code.push_str("grpc:");
        code.push_str(grpc);
    } else {
        code.push_str(label(sample, "response_code"));
    }
}

impl TrafficMap {
    /// The index of node `spec`, added if new.
    pub fn node(&mut self, spec: NodeSpec) -> usize {
        if let Some(i) = self.node_index.get(&spec.id) {
            let i = *i;
            if let Some(wl) = spec.workload {
                self.nodes[i].workloads.insert((spec.namespace, wl));
            }
            return i;
        }
        let i = self.nodes.len();
        self.node_index.insert(spec.id.clone(), i);
        let mut workloads = BTreeSet::new();
        if let Some(wl) = &spec.workload {
            workloads.insert((spec.namespace.clone(), wl.clone()));
        }
        self.nodes.push(Node {
            wire: GraphNode {
                id: spec.id,
                kind: spec.kind,
                namespace: spec.namespace,
                name: spec.name,
                app: spec.app,
                version: spec.version,
                parent: None,
                inaccessible: false,
                sidecar: None,
                idle: false,
                root: false,
                rps_in: 0.0,
                rps_out: 0.0,
                tcp_in: 0.0,
                tcp_out: 0.0,
                error_pct: 0.0,
                health: GraphHealth::NoTraffic,
            },
            workloads,
        });
        i
    }

    /// The index of node `name`, added if new; builds the [`NodeSpec`]
    /// only then.
    pub fn node_named(&mut self, name: &NodeName) -> usize {
        let mut id = std::mem::take(&mut self.id_buffer);
        name.write_id(&mut id);
        let i = match self.node_index.get(id.as_str()) {
            Some(i) => {
                let i = *i;
                if let Some((ns, wl)) = name.workload() {
                    // A node stands for few workloads: a scan, no allocation.
                    let workloads = &mut self.nodes[i].workloads;
                    if !workloads.iter().any(|(n, w)| n == ns && w == wl) {
                        workloads.insert((ns.to_owned(), wl.to_owned()));
                    }
                }
                i
            }
            None => {
                let spec = name.spec();
                debug_assert_eq!(spec.id, id, "NodeName::write_id and spec disagree");
                self.node(spec)
            }
        };
        self.id_buffer = id;
        i
    }

    /// The index of a node by id.
    pub fn node_by_id(&self, id: &str) -> Option<usize> {
        self.node_index.get(id).copied()
    }

    /// The index of node `name`, if it exists.
    pub fn node_by_name(&mut self, name: &NodeName) -> Option<usize> {
        let mut id = std::mem::take(&mut self.id_buffer);
        name.write_id(&mut id);
        let i = self.node_index.get(id.as_str()).copied();
        self.id_buffer = id;
        i
    }

    /// The index of the edge `source -> target` of `protocol`, added if new.
    pub fn edge(&mut self, source: usize, target: usize, protocol: EdgeProtocol) -> usize {
        if let Some(i) = self.edge_index.get(&(source, target, protocol)) {
            return *i;
        }
        let i = self.edges.len();
        self.edge_index.insert((source, target, protocol), i);
        self.edges.push(Edge {
            source,
            target,
            wire: GraphEdge {
                id: String::new(),
                source: String::new(),
                target: String::new(),
                protocol,
                rps: 0.0,
                codes: Vec::new(),
                error_pct: 0.0,
                server_error_pct: 0.0,
                p95_ms: None,
                bytes_per_s: None,
                share_pct: 0.0,
                mtls_pct: None,
                health: GraphHealth::NoTraffic,
                idle: false,
            },
            codes: BTreeMap::new(),
            buckets: Vec::new(),
            mtls_rate: 0.0,
            reported_rate: 0.0,
        });
        i
    }

    /// The path cached under `key` (see [`write_path_key`]), or
    /// `resolve`'s answer, then cached.
    fn cached_path(&mut self, key: &str, resolve: impl FnOnce(&mut Self) -> Path) -> Path {
        match self.path_cache.get(key) {
            Some(path) => *path,
            None => {
                let path = resolve(self);
                self.path_cache.insert(key.into(), path);
                path
            }
        }
    }

    /// The edges a sample's traffic runs along, as indices (added if new):
    /// caller to service to workload, or caller to workload.
    pub fn path_of(
        &mut self,
        sample: &Sample,
        options: BuildOptions,
        protocol: EdgeProtocol,
    ) -> Path {
        let mut key = std::mem::take(&mut self.key_buffer);
        write_path_key(&mut key, sample, protocol, None);
        let path = self.cached_path(&key, |map| map.resolve_path(sample, options, protocol));
        self.key_buffer = key;
        path
    }

    fn resolve_path(
        &mut self,
        sample: &Sample,
        options: BuildOptions,
        protocol: EdgeProtocol,
    ) -> Path {
        let mut from = self.node_named(&source_name(sample, options.graph_type));
        let mut path = Path::default();
        let (targets, len) = target_names(sample, options);
        for target in &targets[..len] {
            let to = self.node_named(target);
            path.push(self.edge(from, to, protocol));
            from = to;
        }
        path
    }

    /// Adds HTTP/gRPC request rates (the requests vector).
    pub fn add_requests(&mut self, samples: &[Sample], options: BuildOptions) {
        // At most one new path per sample: no rehashing of long keys.
        self.path_cache.reserve(samples.len());
        let mut code = String::new();
        for s in samples.iter().filter(|s| s.value.is_finite()) {
            let protocol = match protocol_of(s) {
                EdgeProtocol::Tcp => continue,
                p => p,
            };
            write_code(&mut code, s, protocol);
            for e in self.path_of(s, options, protocol) {
                let edge = &mut self.edges[e];
                edge.wire.rps += s.value;
                // Most samples add to a code the edge has already seen.
                match edge.codes.get_mut(code.as_str()) {
                    Some(rate) => *rate += s.value,
                    None => {
                        edge.codes.insert(code.clone(), 0.0 + s.value);
                    }
                }
            }
        }
    }

    /// Adds TCP byte rates (the TCP vector).
    pub fn add_tcp(&mut self, samples: &[Sample], options: BuildOptions) {
        self.path_cache.reserve(samples.len());
        for s in samples.iter().filter(|s| s.value.is_finite()) {
            for e in self.path_of(s, options, EdgeProtocol::Tcp) {
                let edge = &mut self.edges[e];
                *edge.wire.bytes_per_s.get_or_insert(0.0) += s.value;
            }
        }
    }

    /// The edges of a sample's path that already exist (decorators add to
    /// edges; they never create them).
    pub fn existing_path(
        &mut self,
        sample: &Sample,
        options: BuildOptions,
        protocol: EdgeProtocol,
    ) -> Path {
        self.first_existing_path(sample, options, &[protocol], None)
            .0
    }

    /// [`TrafficMap::existing_path`] for the first of `protocols` that has
    /// one (empty if none does), and the value of the sample's label
    /// `label`, read in the same walk over its labels.
    pub fn first_existing_path<'s>(
        &mut self,
        sample: &'s Sample,
        options: BuildOptions,
        protocols: &[EdgeProtocol],
        label: Option<&str>,
    ) -> (Path, Option<&'s str>) {
        let mut key = std::mem::take(&mut self.key_buffer);
        let (mut path, mut value) = (Path::default(), None);
        for (i, protocol) in protocols.iter().copied().enumerate() {
            if i == 0 {
                value = write_path_key(&mut key, sample, protocol, label);
            } else {
                set_key_protocol(&mut key, protocol);
            }
            path = self.cached_path(&key, |map| map.find_path(sample, options, protocol));
            if !path.is_empty() {
                break;
            }
        }
        self.key_buffer = key;
        (path, value)
    }

    fn find_path(
        &mut self,
        sample: &Sample,
        options: BuildOptions,
        protocol: EdgeProtocol,
    ) -> Path {
        let mut path = Path::default();
        let Some(mut from) = self.node_by_name(&source_name(sample, options.graph_type)) else {
            return path;
        };
        let (targets, len) = target_names(sample, options);
        for target in &targets[..len] {
            let Some(to) = self.node_by_name(target) else {
                return path;
            };
            if let Some(e) = self.edge_index.get(&(from, to, protocol)) {
                path.push(*e);
            }
            from = to;
        }
        path
    }

    /// Adds a node that had no traffic (from the cluster's workloads).
    pub fn add_idle_node(&mut self, spec: NodeSpec) {
        if self.node_by_id(&spec.id).is_none() {
            let i = self.node(spec);
            self.nodes[i].wire.idle = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample(pairs: &[(&str, &str)], value: f64) -> Sample {
        Sample {
            labels: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            value,
        }
    }

    fn call(src: (&str, &str, &str), dst: (&str, &str, &str, &str), code: &str) -> Sample {
        sample(
            &[
                ("source_workload_namespace", src.0),
                ("source_workload", src.1),
                ("source_canonical_service", src.2),
                ("source_canonical_revision", "v1"),
                ("destination_service_namespace", dst.0),
                ("destination_service_name", dst.1),
                (
                    "destination_service",
                    &format!("{}.{}.svc.cluster.local", dst.1, dst.0),
                ),
                ("destination_workload_namespace", dst.0),
                ("destination_workload", dst.2),
                ("destination_canonical_service", dst.1),
                ("destination_canonical_revision", dst.3),
                ("request_protocol", "http"),
                ("response_code", code),
            ],
            1.0,
        )
    }

    #[test]
    fn node_ids_follow_the_graph_type() {
        let s = call(("a", "web-v1", "web"), ("b", "api", "api-v2", "v2"), "200");
        let ids = |graph_type, inject| {
            let mut map = TrafficMap::default();
            map.add_requests(
                std::slice::from_ref(&s),
                BuildOptions {
                    graph_type,
                    inject_service_nodes: inject,
                },
            );
            map.nodes
                .iter()
                .map(|n| n.wire.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ids(GraphType::VersionedApp, true),
            ["vapp:a:web:v1", "svc:b:api", "vapp:b:api:v2"]
        );
        assert_eq!(ids(GraphType::App, false), ["app:a:web", "app:b:api"]);
        assert_eq!(
            ids(GraphType::Workload, false),
            ["wl:a:web-v1", "wl:b:api-v2"]
        );
        assert_eq!(ids(GraphType::Service, true), ["svc:a:web", "svc:b:api"]);
    }

    #[test]
    fn unknown_callers_and_outside_hosts() {
        let s = sample(
            &[
                ("source_workload", "unknown"),
                ("source_workload_namespace", "unknown"),
                ("destination_service_namespace", "pay"),
                ("destination_service_name", "api.stripe.com"),
                ("destination_service", "api.stripe.com"),
                ("destination_workload", "unknown"),
                ("request_protocol", "http"),
                ("response_code", "200"),
            ],
            2.0,
        );
        let mut map = TrafficMap::default();
        map.add_requests(
            &[s],
            BuildOptions {
                graph_type: GraphType::Workload,
                inject_service_nodes: true,
            },
        );
        assert_eq!(map.nodes[0].wire.kind, NodeKind::Unknown);
        assert_eq!(map.nodes[1].wire.kind, NodeKind::External);
        assert_eq!(map.edges.len(), 1);
        assert_eq!(map.edges[0].wire.rps, 2.0);
    }

    #[test]
    fn codes_add_up_per_edge() {
        let options = BuildOptions {
            graph_type: GraphType::App,
            inject_service_nodes: false,
        };
        let mut map = TrafficMap::default();
        map.add_requests(
            &[
                call(("a", "web-v1", "web"), ("b", "api", "api-v1", "v1"), "200"),
                call(("a", "web-v1", "web"), ("b", "api", "api-v2", "v2"), "200"),
                call(("a", "web-v1", "web"), ("b", "api", "api-v2", "v2"), "503"),
            ],
            options,
        );
        assert_eq!(map.edges.len(), 1);
        assert_eq!(map.edges[0].wire.rps, 3.0);
        assert_eq!(map.edges[0].codes["200"], 2.0);
        assert_eq!(map.edges[0].codes["503"], 1.0);
        assert_eq!(map.nodes[1].workloads.len(), 2);
    }
}

/// Sample builders for the decorators' tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// Build options.
    pub fn options(graph_type: GraphType, inject_service_nodes: bool) -> BuildOptions {
        BuildOptions {
            graph_type,
            inject_service_nodes,
        }
    }

    /// An HTTP request sample in namespace `a`: app `src` (workload
    /// `src-v1`) calling service `dst` served by `dst-version`.
    pub fn call(src: &str, dst: &str, version: &str, code: &str, value: f64) -> Sample {
        let labels = [
            ("source_workload_namespace", "a".to_owned()),
            ("source_workload", format!("{src}-v1")),
            ("source_canonical_service", src.to_owned()),
            ("source_canonical_revision", "v1".to_owned()),
            ("destination_service_namespace", "a".to_owned()),
            ("destination_service_name", dst.to_owned()),
            ("destination_service", format!("{dst}.a.svc.cluster.local")),
            ("destination_workload_namespace", "a".to_owned()),
            ("destination_workload", format!("{dst}-{version}")),
            ("destination_canonical_service", dst.to_owned()),
            ("destination_canonical_revision", version.to_owned()),
            ("request_protocol", "http".to_owned()),
            ("response_code", code.to_owned()),
        ];
        Sample {
            labels: labels.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            value,
        }
    }
}
