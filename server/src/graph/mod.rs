//! The traffic graph (Kiali-style): Prometheus vectors -> traffic map ->
//! decorators in an explicit order -> the wire type [`Graph`].
//!
//! [`fetch`] runs the four queries of [`queries`] (requests, TCP bytes,
//! duration buckets, security) and the cluster's pod list concurrently,
//! coalesced and, for graphs of "now", briefly cached ([`crate::cache`]); [`build`] is the pure rest of the
//! pipeline, so it can be tested and benchmarked on fixed vectors.

pub mod aggregate;
pub mod decorators;
pub mod focus;
pub mod queries;
pub mod traffic;

use std::sync::Arc;
use std::time::Duration;

use app::types::{
    Aggregate, DEFAULT_GRAPH_WINDOW, EdgeProtocol, GRAPH_WINDOWS, Graph, GraphNode,
    GraphNodeDetail, GraphOverview, GraphQuery, MetricsQuery, MetricsScopeKind, NodeKind, TimeSpan,
    TraceSearchQuery,
};
use futures::future::{join, join_all};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;

use self::decorators::PodWorkload;
use self::traffic::{BuildOptions, TrafficMap};
use crate::access::{AccessScope, GraphViewer};
use crate::cache::Keep;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::upstream::prometheus::Sample;

/// Limits and caching of graph requests.
#[derive(Clone, Debug)]
pub struct GraphLimits {
    /// Most namespaces one graph shows in detail (more: the overview).
    pub max_namespaces: usize,
    /// Most namespaces one graph may cover, as the overview.
    pub max_overview_namespaces: usize,
    /// How long fetched vectors are reused for identical requests.
    pub cache_ttl: Duration,
}

impl Default for GraphLimits {
    fn default() -> Self {
        GraphLimits {
            max_namespaces: crate::config::DEFAULT_GRAPH_MAX_NAMESPACES as usize,
            max_overview_namespaces: crate::config::DEFAULT_GRAPH_MAX_OVERVIEW_NAMESPACES as usize,
            cache_ttl: Duration::from_secs(10),
        }
    }
}

/// Seconds in graph window `window`, one of [`GRAPH_WINDOWS`] (Kiali's
/// choices); `None` for any other text.
pub fn window_seconds(window: &str) -> Option<f64> {
    GRAPH_WINDOWS
        .contains(&window)
        .then(|| TimeSpan::parse(window).map(|s| s.seconds()))
        .flatten()
}

/// Graphs "now" are taken at a multiple of this many seconds, so requests
/// made within it share one set of queries.
pub const NOW_ALIGN_S: f64 = 10.0;

/// A checked graph request.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphRequest {
    /// Namespaces, sorted and without duplicates.
    pub namespaces: Vec<String>,
    /// Build options.
    pub options: BuildOptions,
    /// Rate window in seconds.
    pub window_s: f64,
    /// Evaluation instant (Unix seconds).
    pub query_time: f64,
    /// The overview: which namespaces stay in full (`None`: all of them).
    pub overview: Option<Overview>,
}

/// An overview request: every namespace but `expanded` is aggregated.
#[derive(Clone, Debug, PartialEq)]
pub struct Overview {
    /// Shown in full, sorted, a subset of the request's namespaces.
    pub expanded: std::collections::BTreeSet<String>,
    /// One node per namespace, or per project.
    pub by: Aggregate,
    /// For `by` project: each namespace's project (filled in by
    /// [`traffic_graph`] from the cluster's namespaces).
    pub projects: Option<Arc<aggregate::Projects>>,
    /// Chosen by the server because of the detail limit.
    pub automatic: bool,
    /// The detail limit it was resolved under.
    pub detail_limit: usize,
}

/// Checks `params` (400 for bad values, 403 for namespaces the caller may
/// not see) and resolves defaults; `now` is the current Unix time.
pub fn resolve(
    params: &GraphQuery,
    scope: &GraphViewer,
    limits: &GraphLimits,
    now: f64,
) -> Result<GraphRequest> {
    let mut namespaces: Vec<String> = params
        .namespaces
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    namespaces.sort();
    namespaces.dedup();
    if namespaces.is_empty() {
        return Err(Error::BadRequest(
            "namespaces is required: a comma-separated list, e.g. namespaces=bookinfo,payments"
                .into(),
        ));
    }
    if namespaces.len() > limits.max_overview_namespaces.max(limits.max_namespaces) {
        return Err(Error::BadRequest(format!(
            "{} namespaces asked for; one graph covers at most {} (--graph-max-overview-namespaces), {} of them in detail",
            namespaces.len(),
            limits.max_overview_namespaces.max(limits.max_namespaces),
            limits.max_namespaces
        )));
    }
    let expanded: std::collections::BTreeSet<String> = params
        .expand
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    // Asked for (not chosen by the server): `automatic` is false.
    let overview = params.aggregate.map(|by| (by, false));
    // More namespaces than the detail limit: the overview, not a 400.
    let overview = match overview {
        None if namespaces.len() > limits.max_namespaces => Some((Aggregate::Namespace, true)),
        None if !expanded.is_empty() => {
            return Err(Error::BadRequest(
                "expand needs the overview (aggregate=namespace or aggregate=project)".into(),
            ));
        }
        other => other,
    };
    if let Some(ns) = expanded.iter().find(|ns| !namespaces.contains(ns)) {
        return Err(Error::BadRequest(format!(
            "expand names {ns:?}, which is not among the namespaces asked for"
        )));
    }
    if expanded.len() > limits.max_namespaces {
        return Err(Error::BadRequest(format!(
            "{} namespaces to expand; one graph shows at most {} in full (--graph-max-namespaces)",
            expanded.len(),
            limits.max_namespaces
        )));
    }
    for ns in &namespaces {
        crate::cluster::names::namespace(ns)?;
    }
    for ns in &namespaces {
        scope.check_namespace(ns)?;
    }
    let graph_type = params.graph_type.unwrap_or_default();
    let window = params.window.as_deref().unwrap_or(DEFAULT_GRAPH_WINDOW);
    let window_s = window_seconds(window).ok_or_else(|| {
        Error::BadRequest(format!(
            "unknown window {window:?}; use one of {}",
            GRAPH_WINDOWS.join(", ")
        ))
    })?;
    let query_time = match params.query_time {
        None => (now / NOW_ALIGN_S).floor() * NOW_ALIGN_S,
        Some(t) if !t.is_finite() || t <= window_s => {
            return Err(Error::BadRequest(format!(
                "queryTime must be a Unix time in seconds, not {t}"
            )));
        }
        Some(t) if t > now + 60.0 => {
            return Err(Error::BadRequest(format!(
                "queryTime {t} is in the future (now is {now:.0})"
            )));
        }
        Some(t) => t.floor(),
    };
    Ok(GraphRequest {
        namespaces,
        options: BuildOptions {
            graph_type,
            inject_service_nodes: params.inject_service_nodes.unwrap_or(true),
        },
        window_s,
        query_time,
        overview: overview.map(|(by, automatic)| Overview {
            expanded,
            by,
            projects: None,
            automatic,
            detail_limit: limits.max_namespaces,
        }),
    })
}

/// What the graph is built from: the four vectors (empty where a query
/// failed), the pods of the requested namespaces, and what went wrong.
#[derive(Clone, Debug, Default)]
pub struct GraphInputs {
    /// Request rates.
    pub requests: Vec<Sample>,
    /// TCP byte rates.
    pub tcp: Vec<Sample>,
    /// Duration bucket rates.
    pub buckets: Vec<Sample>,
    /// Destination-reported rates by security policy.
    pub security: Vec<Sample>,
    /// Pods of the requested namespaces (`None`: no cluster answer).
    pub pods: Option<Vec<PodWorkload>>,
    /// The queries, in the order above.
    pub queries: Vec<String>,
    /// Parts that could not be fetched.
    pub warnings: Vec<String>,
}

/// Bytes of one node of a `BTreeMap<String, String>` (std's B-tree: 11
/// key and value slots, a parent link and two counts; an internal node
/// adds 12 child links), as the allocator hands them out.
const LEAF_NODE_BYTES: usize = 11 * 2 * std::mem::size_of::<String>() + 16;
const INTERNAL_NODE_BYTES: usize = LEAF_NODE_BYTES + 12 * std::mem::size_of::<usize>();

/// Estimated bytes of a label map of `labels`: its B-tree nodes and each
/// key's and value's buffer. Prometheus sends labels sorted by name and
/// they are inserted in that order, which leaves std's B-tree with one leaf
/// up to 11 labels, then a root over leaves of 6 (the last up to 11).
pub fn labels_weight(labels: &std::collections::BTreeMap<String, String>) -> usize {
    use crate::cache::heap_bytes;
    let n = labels.len();
    let nodes = if n == 0 {
        0
    } else if n <= 11 {
        heap_bytes(LEAF_NODE_BYTES)
    } else {
        let leaves = 1 + (n - 11).div_ceil(7);
        leaves * heap_bytes(LEAF_NODE_BYTES) + heap_bytes(INTERNAL_NODE_BYTES)
    };
    nodes
        + labels
            .iter()
            .map(|(k, v)| heap_bytes(k.len()) + heap_bytes(v.len()))
            .sum::<usize>()
}

/// Estimated bytes of a vector of samples: its buffer and every sample's
/// label map.
fn samples_weight(samples: &[Sample], capacity: usize) -> usize {
    crate::cache::heap_bytes(capacity * std::mem::size_of::<Sample>())
        + samples
            .iter()
            .map(|s| labels_weight(&s.labels))
            .sum::<usize>()
}

impl GraphInputs {
    /// Estimated bytes it holds, for the graph cache's budget: the vectors'
    /// buffers, every sample's label map (nearly all of it: a sample of the
    /// requests query has 14 labels, about 3 KiB with the B-tree nodes and
    /// the strings), the pods and the texts. The graph benchmark's
    /// `replays` mode compares it with the memory copies really take.
    pub fn weight(&self) -> usize {
        use crate::cache::heap_bytes;
        let strings = |v: &Vec<String>| {
            heap_bytes(v.capacity() * std::mem::size_of::<String>())
                + v.iter().map(|s| heap_bytes(s.len())).sum::<usize>()
        };
        let optional = |s: &Option<String>| s.as_ref().map_or(0, |s| heap_bytes(s.len()));
        let pods = self.pods.as_ref().map_or(0, |pods| {
            heap_bytes(pods.capacity() * std::mem::size_of::<PodWorkload>())
                + pods
                    .iter()
                    .map(|p| {
                        heap_bytes(p.namespace.len())
                            + heap_bytes(p.workload.len())
                            + optional(&p.app)
                            + optional(&p.version)
                    })
                    .sum::<usize>()
        });
        std::mem::size_of::<Self>()
            + samples_weight(&self.requests, self.requests.capacity())
            + samples_weight(&self.tcp, self.tcp.capacity())
            + samples_weight(&self.buckets, self.buckets.capacity())
            + samples_weight(&self.security, self.security.capacity())
            + pods
            + strings(&self.queries)
            + strings(&self.warnings)
    }
}

/// The queries of a request: requests, TCP, buckets, security.
pub fn plan(request: &GraphRequest) -> [String; 4] {
    let (ns, w) = (&request.namespaces, request.window_s);
    [
        queries::requests(ns, w),
        queries::tcp(ns, w),
        queries::duration_buckets(ns, w),
        queries::security(ns, w),
    ]
}

/// Runs the queries and lists pods, concurrently; identical concurrent
/// requests share one run, and with `retain` [`Keep::Retain`] its result is reused
/// for [`GraphLimits::cache_ttl`] (within the cache's budget). A failed
/// query becomes a warning unless the requests and TCP queries both fail
/// (then there is no graph: the error).
pub async fn fetch(
    state: &AppState,
    request: &GraphRequest,
    retain: Keep,
) -> Result<Arc<GraphInputs>> {
    let prometheus = state.prometheus()?.clone();
    let planned = plan(request);
    // Everything the answer depends on: the exact queries (which carry the
    // namespaces and window) and the instant.
    let key = format!("{}|{}", request.query_time, planned.join("|"));
    let time = request.query_time;
    let kube = state.upstreams().kube.as_ref().map(|c| c.own().clone());
    let namespaces = request.namespaces.clone();
    let fetched = state
        .graph_cache()
        .get_or_try(key, retain, || async move {
            let queries = join_all(planned.iter().map(|q| prometheus.query(q, time)));
            let pods = async {
                match &kube {
                    Some(client) => Some(list_pods(client, &namespaces).await),
                    None => None,
                }
            };
            let (answers, pods) = join(queries, pods).await;
            let [requests, tcp, buckets, security]: [Result<Vec<Sample>>; 4] =
                answers
                    .try_into()
                    .map_err(|_| Error::internal("graph query answers"))?;
            let mut fetched = GraphInputs {
                queries: planned.to_vec(),
                ..GraphInputs::default()
            };
            match (requests, tcp) {
                (Err(e), Err(_)) => return Err(e),
                (r, t) => {
                    fetched.requests = keep(r, "HTTP and gRPC requests", &mut fetched.warnings);
                    fetched.tcp = keep(t, "TCP traffic", &mut fetched.warnings);
                }
            }
            fetched.buckets = keep(buckets, "response times", &mut fetched.warnings);
            fetched.security = keep(security, "mTLS", &mut fetched.warnings);
            fetched.pods = match pods {
                Some(Ok(pods)) => Some(pods),
                Some(Err(e)) => {
                    fetched
                        .warnings
                        .push(format!("sidecars and idle workloads are missing: {e}"));
                    None
                }
                None => None,
            };
            Ok(Arc::new(fetched))
        })
        .await?;
    Ok(fetched)
}

fn keep(answer: Result<Vec<Sample>>, what: &str, warnings: &mut Vec<String>) -> Vec<Sample> {
    answer.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "graph query for {what} failed");
        warnings.push(format!("{what} are missing: {e}"));
        Vec::new()
    })
}

/// The pods of `namespaces` as workloads, read with meshdeck's account.
#[tracing::instrument(name = "kubernetes.list_pods", skip_all)]
pub async fn list_pods(client: &kube::Client, namespaces: &[String]) -> Result<Vec<PodWorkload>> {
    let lists = join_all(namespaces.iter().map(|ns| async move {
        Api::<Pod>::namespaced(client.clone(), ns)
            .list(&ListParams::default())
            .await
            .map(|list| (ns, list.items))
    }))
    .await;
    let mut out = Vec::new();
    for list in lists {
        let (ns, pods) = list.map_err(|e| {
            crate::cluster::api_error("list pods", crate::cluster::Acting::Meshdeck, e)
        })?;
        out.extend(pods.iter().map(|p| pod_workload(ns, p)));
    }
    Ok(out)
}

/// A pod's workload: its controller's name (a ReplicaSet's without the
/// pod-template hash), its app and version labels (Istio's canonical ones
/// first), and whether it has the sidecar container.
pub fn pod_workload(namespace: &str, pod: &Pod) -> PodWorkload {
    let meta = &pod.metadata;
    let owner = meta
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true));
    let workload = match owner {
        Some(o) if o.kind == "ReplicaSet" => o
            .name
            .rsplit_once('-')
            .map_or(o.name.clone(), |(base, _)| base.to_owned()),
        Some(o) => o.name.clone(),
        None => meta.name.clone().unwrap_or_default(),
    };
    let label = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| meta.labels.as_ref().and_then(|l| l.get(*k)).cloned())
    };
    let sidecar = crate::cluster::pods::has_sidecar(pod);
    PodWorkload {
        namespace: namespace.to_owned(),
        workload,
        app: label(&[
            "service.istio.io/canonical-name",
            "app.kubernetes.io/name",
            "app",
        ]),
        version: label(&[
            "service.istio.io/canonical-revision",
            "app.kubernetes.io/version",
            "version",
        ]),
        sidecar,
    }
}

/// The stages of [`build`], in the order they run (for timing them, see
/// [`build_observed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Traffic map from the requests vector.
    Requests,
    /// Traffic map from the TCP vector.
    Tcp,
    /// Decorator 1: response times.
    ResponseTime,
    /// Decorator 2: security.
    Security,
    /// Decorator 3: access.
    Access,
    /// Decorator 4: sidecars and idle workloads.
    Sidecars,
    /// The overview's namespace nodes (a no-op for a graph in full).
    Aggregate,
    /// Decorator 5: rates and shares.
    Rates,
    /// Decorator 6: health.
    Health,
    /// Decorator 7: boxes.
    Boxes,
    /// Conversion to the wire type.
    Wire,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 11] = [
        Stage::Requests,
        Stage::Tcp,
        Stage::ResponseTime,
        Stage::Security,
        Stage::Access,
        Stage::Sidecars,
        Stage::Aggregate,
        Stage::Rates,
        Stage::Health,
        Stage::Boxes,
        Stage::Wire,
    ];

    /// Short name (benchmark columns).
    pub fn name(self) -> &'static str {
        match self {
            Stage::Requests => "requests",
            Stage::Tcp => "tcp",
            Stage::ResponseTime => "p95",
            Stage::Security => "mtls",
            Stage::Access => "access",
            Stage::Sidecars => "sidecars",
            Stage::Aggregate => "aggregate",
            Stage::Rates => "rates",
            Stage::Health => "health",
            Stage::Boxes => "boxes",
            Stage::Wire => "wire",
        }
    }
}

/// The pure pipeline: fetched vectors -> traffic map -> decorators -> wire.
pub fn build(
    fetched: &GraphInputs,
    request: &GraphRequest,
    can_see: impl Fn(&str) -> bool,
) -> Graph {
    build_observed(fetched, request, can_see, |_| {})
}

/// [`build`], calling `done` after each [`Stage`] (the benchmark times
/// them; `build` passes a no-op).
pub fn build_observed(
    fetched: &GraphInputs,
    request: &GraphRequest,
    can_see: impl Fn(&str) -> bool,
    mut done: impl FnMut(Stage),
) -> Graph {
    let options = request.options;
    // The traffic map: nodes and edges from request and TCP rates.
    let mut map = TrafficMap::default();
    map.add_requests(&fetched.requests, options);
    done(Stage::Requests);
    map.add_tcp(&fetched.tcp, options);
    done(Stage::Tcp);
    // 1. Response times need the edges only.
    decorators::response_time(&mut map, &fetched.buckets, options);
    done(Stage::ResponseTime);
    // 2. Security likewise.
    decorators::security(&mut map, &fetched.security, options);
    done(Stage::Security);
    // 3. Access before sidecars: inaccessible nodes get no cluster details.
    decorators::access(&mut map, &can_see);
    done(Stage::Access);
    // 4. Sidecars, and idle workloads as extra nodes (before rates, which
    //    mark them idle).
    if let Some(pods) = &fetched.pods {
        decorators::sidecars(&mut map, pods, &request.namespaces, options);
    }
    done(Stage::Sidecars);
    // 4b. The overview folds namespaces into one node each before rates,
    //     so the namespace nodes' totals and health come from stages 5-6.
    let overview = request.overview.as_ref().map(|o| GraphOverview {
        automatic: o.automatic,
        detail_limit: o.detail_limit,
        expanded: o.expanded.iter().cloned().collect(),
        by: o.by,
        namespaces: aggregate::aggregate(&mut map, &o.expanded, o.projects.as_deref()),
    });
    done(Stage::Aggregate);
    // 5. Rates and shares: totals per node, before health divides by them.
    decorators::rates(&mut map);
    done(Stage::Rates);
    // 6. Health from the error shares.
    decorators::health(&mut map);
    done(Stage::Health);
    // 7. Boxes last: they group the final node set.
    let boxes = decorators::boxes(&mut map, options.graph_type);
    done(Stage::Boxes);
    let mut graph = to_wire(map, boxes, fetched, request);
    graph.overview = overview;
    done(Stage::Wire);
    graph
}

fn to_wire(
    mut map: TrafficMap,
    boxes: Vec<app::types::GraphBox>,
    fetched: &GraphInputs,
    request: &GraphRequest,
) -> Graph {
    let nodes = std::mem::take(&mut map.nodes);
    let mut edges: Vec<_> = std::mem::take(&mut map.edges)
        .into_iter()
        .map(|e| {
            let mut w = e.wire;
            let (source, target) = (&nodes[e.source].wire.id, &nodes[e.target].wire.id);
            let protocol = protocol_key(w.protocol);
            // `source->target/protocol`, without the formatting machinery.
            let mut id = String::with_capacity(source.len() + target.len() + protocol.len() + 3);
            for part in [source.as_str(), "->", target, "/", protocol] {
                id.push_str(part);
            }
            (w.id, w.source, w.target) = (id, source.clone(), target.clone());
            w
        })
        .collect();
    edges.sort_by(|a, b| a.id.cmp(&b.id));
    let mut nodes: Vec<GraphNode> = nodes.into_iter().map(|n| n.wire).collect();
    // Ids are unique (the map is keyed by them), so an unstable sort gives
    // the same order.
    nodes.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    Graph {
        graph_type: request.options.graph_type,
        namespaces: request.namespaces.clone(),
        window_s: request.window_s,
        query_time: request.query_time,
        boxes,
        nodes,
        edges,
        warnings: fetched.warnings.clone(),
        queries: fetched.queries.clone(),
        overview: None,
    }
}

fn protocol_key(p: EdgeProtocol) -> &'static str {
    match p {
        EdgeProtocol::Http => "http",
        EdgeProtocol::Grpc => "grpc",
        EdgeProtocol::Tcp => "tcp",
    }
}

/// `GET /api/graph`: the graph for `params` as `scope` may see it.
pub async fn traffic_graph(
    state: &AppState,
    scope: &GraphViewer,
    params: &GraphQuery,
    now: f64,
) -> Result<Graph> {
    let mut request = resolve(params, scope, state.graph_limits(), now)?;
    let mut warnings = Vec::new();
    if let Some(o) = request
        .overview
        .as_mut()
        .filter(|o| o.by == Aggregate::Project)
    {
        // Projects from the cluster's namespaces (meshdeck's cached view);
        // without them each namespace stands as a project of its own.
        match state.auth().namespaces().await {
            Ok(list) => {
                // Only of namespaces the caller may see: another's project
                // is not the caller's to learn (its namespace stands alone).
                o.projects = Some(Arc::new(
                    list.iter()
                        .filter(|ns| scope.can_see(&ns.name))
                        .map(|ns| {
                            (
                                ns.name.clone(),
                                (ns.project.clone(), ns.project_name.clone()),
                            )
                        })
                        .collect(),
                ));
            }
            Err(e) => {
                tracing::warn!(error = %e, "projects for the graph overview");
                warnings.push(format!(
                    "projects are unknown ({e}); each namespace stands as its own"
                ));
                o.projects = Some(Arc::default());
            }
        }
    }
    // A graph of "now" is asked for again while its moment lasts (the page
    // refreshes, a node is opened); a replay of an explicit moment rarely
    // is, and each one is a different key: keep only the former.
    let keep = match params.query_time {
        None => Keep::Retain,
        Some(_) => Keep::Discard,
    };
    let depth = params.depth.unwrap_or(1);
    if !(1..=focus::MAX_DEPTH).contains(&depth) {
        return Err(Error::BadRequest(format!(
            "depth {depth} is not from 1 to {}",
            focus::MAX_DEPTH
        )));
    }
    let fetched = fetch(state, &request, keep).await?;
    let mut graph = build(&fetched, &request, |ns| scope.can_see(ns));
    graph.warnings.extend(warnings);
    match params.focus.as_deref().filter(|f| !f.is_empty()) {
        None => Ok(graph),
        Some(id) if graph.nodes.iter().any(|n| n.id == id) => Ok(focus::focus_on(graph, id, depth)),
        Some(id) => Err(Error::NotFound(format!(
            "no node {id:?} to focus on in this graph (of the namespaces, type and window asked)"
        ))),
    }
}

/// `GET /api/graph/node`: one node of the graph for `params` with its
/// inbound and outbound edges; 404 if absent, 403 if inaccessible.
pub async fn node_detail(
    state: &AppState,
    scope: &GraphViewer,
    params: &GraphQuery,
    now: f64,
) -> Result<GraphNodeDetail> {
    let id = params
        .node
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Error::BadRequest("node is required (a node id of the graph)".into()))?;
    let graph = traffic_graph(state, scope, params, now).await?;
    detail_of(graph, &id, scope, params.query_time.is_some())
}

/// The detail of node `id` in `graph`; `replay`: the graph is of a past
/// moment (its traces link covers that window, not the last one).
pub fn detail_of(
    graph: Graph,
    id: &str,
    scope: &AccessScope,
    replay: bool,
) -> Result<GraphNodeDetail> {
    let node = graph
        .nodes
        .iter()
        .find(|n| n.id == id)
        .cloned()
        .ok_or_else(|| Error::NotFound(format!("no node {id:?} in this graph")))?;
    if node.inaccessible {
        return Err(Error::Forbidden(format!(
            "{} may not see namespace {:?} (needs permission to list pods there)",
            scope.user, node.namespace
        )));
    }
    let volume = |e: &app::types::GraphEdge| e.rps + e.bytes_per_s.unwrap_or(0.0);
    let mut inbound: Vec<_> = graph
        .edges
        .iter()
        .filter(|e| e.target == id)
        .cloned()
        .collect();
    let mut outbound: Vec<_> = graph
        .edges
        .iter()
        .filter(|e| e.source == id)
        .cloned()
        .collect();
    inbound.sort_by(|a, b| volume(b).total_cmp(&volume(a)));
    outbound.sort_by(|a, b| volume(b).total_cmp(&volume(a)));
    let peers: Vec<GraphNode> = graph
        .nodes
        .iter()
        .filter(|n| {
            inbound.iter().any(|e| e.source == n.id) || outbound.iter().any(|e| e.target == n.id)
        })
        .cloned()
        .collect();
    // The traces link covers the graph's rate window: the last one (by its
    // console name), or, replaying, the window ending at the graph's time.
    let time = if replay {
        let end = graph.query_time.round();
        TraceSearchQuery {
            start: Some(end - graph.window_s.round()),
            end: Some(end),
            ..TraceSearchQuery::default()
        }
    } else {
        TraceSearchQuery {
            range: GRAPH_WINDOWS
                .iter()
                .find(|w| window_seconds(w) == Some(graph.window_s))
                .and_then(|w| TimeSpan::parse_range(w)),
            ..TraceSearchQuery::default()
        }
    };
    let (metrics, traces) = targets(&node, &time);
    Ok(GraphNodeDetail {
        node,
        inbound,
        outbound,
        peers,
        metrics,
        traces,
    })
}

/// Where a node's metrics and traces are: the metrics scope, and the trace
/// search over `time` (a search holding only its time: the graph's window
/// as a range, e.g. `10m`, or the replayed window's start and end). The UI
/// turns them into links.
pub fn targets(
    node: &GraphNode,
    time: &TraceSearchQuery,
) -> (Option<MetricsQuery>, Option<TraceSearchQuery>) {
    let ns = Some(node.namespace.clone());
    let named = |kind, name| MetricsQuery {
        scope: Some(kind),
        namespace: ns.clone(),
        name: Some(name),
        ..MetricsQuery::default()
    };
    let metrics = match node.kind {
        NodeKind::Workload => Some(named(MetricsScopeKind::Workload, node.name.clone())),
        NodeKind::App | NodeKind::Service => Some(named(
            MetricsScopeKind::Service,
            node.app.clone().unwrap_or_else(|| node.name.clone()),
        )),
        // An aggregated namespace: the namespace's charts.
        NodeKind::Namespace => Some(MetricsQuery {
            scope: Some(MetricsScopeKind::Namespace),
            namespace: ns.clone(),
            ..MetricsQuery::default()
        }),
        // An aggregated project (its id in `namespace`): the project's.
        NodeKind::Project => Some(MetricsQuery {
            scope: Some(MetricsScopeKind::Project),
            project: Some(node.namespace.clone()),
            ..MetricsQuery::default()
        }),
        NodeKind::Unknown | NodeKind::External => None,
    };
    // Istio's tracing names services `<app>.<namespace>`.
    let traced = match node.kind {
        NodeKind::Unknown | NodeKind::External | NodeKind::Namespace | NodeKind::Project => None,
        _ => node.app.clone().or_else(|| Some(node.name.clone())),
    };
    let traces = traced.map(|app| TraceSearchQuery {
        service: Some(format!("{app}.{}", node.namespace)),
        ..time.clone()
    });
    (metrics, traces)
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::types::GraphType;

    #[test]
    fn label_maps_weigh_their_b_tree_nodes_and_strings() {
        // std's B-tree leaf holds 11 keys and 11 values (24 bytes each), a
        // parent pointer and two u16s: 540 bytes, 544 aligned, a 560-byte
        // malloc chunk; an internal node adds 12 child pointers: 640, 656.
        // Every key here ("k00", 3 bytes) and value ("v") is a 32-byte chunk.
        let (leaf, internal, pair) = (560, 656, 64);
        let labels = |n: usize| {
            (0..n)
                .map(|i| (format!("k{i:02}"), "v".to_owned()))
                .collect::<std::collections::BTreeMap<_, _>>()
        };
        assert_eq!(labels_weight(&labels(0)), 0);
        assert_eq!(labels_weight(&labels(1)), leaf + pair);
        assert_eq!(labels_weight(&labels(11)), leaf + 11 * pair);
        // Inserted in order, the 12th splits the leaf (6 stay, one goes up
        // into a new root, the rest and the new one move right); the right
        // leaf fills up to 11 again before the 19th splits it.
        assert_eq!(labels_weight(&labels(12)), 2 * leaf + internal + 12 * pair);
        assert_eq!(labels_weight(&labels(18)), 2 * leaf + internal + 18 * pair);
        assert_eq!(labels_weight(&labels(19)), 3 * leaf + internal + 19 * pair);
    }

    #[test]
    fn fetched_answers_weigh_about_their_samples() {
        let sample = |i: usize| Sample {
            labels: [
                ("destination_workload", format!("w{i}")),
                ("le", "0.5".into()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
            value: 1.0,
        };
        let empty = GraphInputs::default();
        let one = GraphInputs {
            buckets: vec![sample(0)],
            ..GraphInputs::default()
        };
        let thousand = GraphInputs {
            buckets: (0..1000).map(sample).collect(),
            ..GraphInputs::default()
        };
        assert_eq!(empty.weight(), std::mem::size_of::<GraphInputs>());
        // One sample: its 32 bytes in a 48-byte chunk, a 560-byte leaf,
        // and four strings of at most 24 bytes (32-byte chunks).
        assert_eq!(one.weight() - empty.weight(), 48 + 560 + 4 * 32);
        // A thousand: the same per sample (labels "w0" to "w999" all fit
        // in 32-byte chunks), and one 32,000-byte buffer.
        assert_eq!(
            thousand.weight() - empty.weight(),
            (32_000 + 16) + 1000 * (560 + 4 * 32)
        );
    }

    fn params(ns: &str) -> GraphQuery {
        GraphQuery {
            namespaces: Some(ns.into()),
            ..GraphQuery::default()
        }
    }

    #[test]
    fn defaults_and_alignment() {
        let r = resolve(
            &params("b, a,a"),
            &GraphViewer::check(AccessScope::owner("admin")).unwrap(),
            &GraphLimits::default(),
            1_700_000_007.0,
        )
        .unwrap();
        assert_eq!(r.namespaces, ["a", "b"]);
        assert_eq!(r.options.graph_type, GraphType::VersionedApp);
        assert!(r.options.inject_service_nodes);
        assert_eq!((r.window_s, r.query_time), (600.0, 1_700_000_000.0));
    }

    #[test]
    fn bad_input_is_400_and_foreign_namespaces_403() {
        let limits = GraphLimits {
            max_namespaces: 2,
            max_overview_namespaces: 3,
            ..GraphLimits::default()
        };
        let owner = GraphViewer::check(AccessScope::owner("admin")).unwrap();
        let bad = [
            params(""),
            params("Bad_Name"),
            // More than the overview covers.
            params("a,b,c,d"),
            // expand without the overview, of a namespace not asked for,
            // or of more namespaces than the detail limit.
            GraphQuery {
                expand: Some("a".into()),
                ..params("a,b")
            },
            GraphQuery {
                aggregate: Some(Aggregate::Namespace),
                expand: Some("z".into()),
                ..params("a,b")
            },
            GraphQuery {
                expand: Some("a,b,c".into()),
                ..params("a,b,c")
            },
            GraphQuery {
                window: Some("7m".into()),
                ..params("a")
            },
            GraphQuery {
                query_time: Some(2e9),
                ..params("a")
            },
            GraphQuery {
                query_time: Some(f64::NAN),
                ..params("a")
            },
        ];
        for p in bad {
            let err = resolve(&p, &owner, &limits, 1.7e9).unwrap_err();
            assert_eq!(err.code().http_status(), 400, "{p:?}: {err}");
        }
        // More namespaces than the detail limit: the overview, not a 400.
        let r = resolve(&params("a,b,c"), &owner, &limits, 1.7e9).unwrap();
        let overview = r.overview.unwrap();
        assert!(overview.automatic && overview.expanded.is_empty());
        assert_eq!(overview.detail_limit, 2);
        let r = resolve(
            &GraphQuery {
                expand: Some("c, b".into()),
                ..params("a,b,c")
            },
            &owner,
            &limits,
            1.7e9,
        )
        .unwrap();
        assert_eq!(
            r.overview.unwrap().expanded.into_iter().collect::<Vec<_>>(),
            ["b", "c"]
        );
        // Asked for, within the limit: not automatic.
        let r = GraphQuery {
            aggregate: Some(Aggregate::Namespace),
            ..params("a,b")
        };
        assert!(
            !resolve(&r, &owner, &limits, 1.7e9)
                .unwrap()
                .overview
                .unwrap()
                .automatic
        );
        assert_eq!(
            resolve(&params("a,b"), &owner, &limits, 1.7e9)
                .unwrap()
                .overview,
            None
        );
        let alice = AccessScope::member("alice", ["bookinfo"], true, true);
        let alice = GraphViewer::check(alice).unwrap();
        let err = resolve(&params("payments"), &alice, &limits, 1.7e9).unwrap_err();
        assert_eq!(err.code().http_status(), 403);
        assert!(resolve(&params("bookinfo"), &alice, &limits, 1.7e9).is_ok());
    }

    #[test]
    fn links_go_to_metrics_and_traces() {
        let mut node = GraphNode {
            id: "vapp:bookinfo:reviews:v3".into(),
            kind: NodeKind::App,
            namespace: "bookinfo".into(),
            name: "reviews v3".into(),
            app: Some("reviews".into()),
            version: Some("v3".into()),
            parent: None,
            inaccessible: false,
            sidecar: Some(true),
            idle: false,
            root: false,
            rps_in: 1.0,
            rps_out: 0.0,
            tcp_in: 0.0,
            tcp_out: 0.0,
            error_pct: 0.0,
            health: app::types::GraphHealth::Healthy,
        };
        let last = |range| TraceSearchQuery {
            range: TimeSpan::parse_range(range),
            ..TraceSearchQuery::default()
        };
        let between = |start, end| TraceSearchQuery {
            start: Some(start),
            end: Some(end),
            ..TraceSearchQuery::default()
        };
        // As the UI writes them into the pages' URLs.
        let links = |node: &GraphNode, time: TraceSearchQuery| {
            let (metrics, traces) = targets(node, &time);
            (
                metrics.map(|m| app::format::query_of(&m)),
                traces.map(|t| app::format::query_of(&t)),
            )
        };
        assert_eq!(
            links(&node, TraceSearchQuery::default()),
            (
                Some("scope=service&namespace=bookinfo&name=reviews".into()),
                Some("service=reviews.bookinfo".into())
            )
        );
        // The graph's window becomes the traces page's range.
        assert_eq!(
            links(&node, last("30m")).1.as_deref(),
            Some("service=reviews.bookinfo&range=30m")
        );
        node.kind = NodeKind::Workload;
        node.name = "reviews-v3".into();
        assert_eq!(
            links(&node, last("30m")).0.as_deref(),
            Some("scope=workload&namespace=bookinfo&name=reviews-v3")
        );
        // A replayed graph: the window ending at its time.
        assert_eq!(
            links(&node, between(1_700_000_000.0, 1_700_000_600.0))
                .1
                .as_deref(),
            Some("service=reviews.bookinfo&start=1700000000&end=1700000600")
        );
        node.kind = NodeKind::Unknown;
        assert_eq!(links(&node, last("1h")), (None, None));
    }
}
