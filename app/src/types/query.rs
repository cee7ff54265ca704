//! The query strings of the read endpoints, typed once: the server
//! extracts them (a value that does not read is a 400 naming the
//! parameter), the UI's client serialises them. An empty value is no
//! value, as in a form left blank.

use serde::{Deserialize, Deserializer, Serialize};

use super::graph::GraphType;
use super::metrics::{Direction, MetricsScopeKind};
use super::time::TimeSpan;

/// The graph's rate windows, in the order the UI offers them.
pub const GRAPH_WINDOWS: [&str; 9] = ["1m", "5m", "10m", "30m", "1h", "3h", "6h", "12h", "1d"];

/// The graph's default rate window.
pub const DEFAULT_GRAPH_WINDOW: &str = "10m";

/// `aggregate=namespace` or `aggregate=project`: the graph's overview.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum Aggregate {
    /// One node per namespace not expanded.
    #[default]
    Namespace,
    /// One node per project (namespaces grouped by the project key, see
    /// `--project-key`), of its namespaces not expanded.
    Project,
}

impl Aggregate {
    /// Every overview, in the order the page offers them.
    pub const ALL: [Aggregate; 2] = [Aggregate::Namespace, Aggregate::Project];

    /// Its `aggregate=` value (as serde writes it), also the word for what
    /// one node stands for.
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregate::Namespace => "namespace",
            Aggregate::Project => "project",
        }
    }

    /// Parses [`Aggregate::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        Aggregate::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// Query string of `GET /api/graph` and `GET /api/graph/node`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams, utoipa::ToSchema),
    into_params(parameter_in = Query)
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GraphQuery {
    /// Comma-separated namespaces (required).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    pub namespaces: Option<String>,
    /// `app`, `versionedApp` (default), `workload` or `service`.
    #[serde(
        rename = "type",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "graph_type"
    )]
    pub graph_type: Option<GraphType>,
    /// Rate window: one of [`GRAPH_WINDOWS`] (`10m` by default).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    pub window: Option<String>,
    /// The instant to look at (Unix seconds; default now): graph replay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_time: Option<f64>,
    /// Put service nodes between callers and workloads (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inject_service_nodes: Option<bool>,
    /// The node of `GET /api/graph/node`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    pub node: Option<String>,
    /// Only this node's callers and callees (a node id of the graph).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    pub focus: Option<String>,
    /// How many calls away from `focus`: 1 (default) to 6.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<usize>,
    /// `namespace`: the overview, one node per namespace not in `expand`,
    /// with the calls between namespaces summed; `project`: one node per
    /// project (namespaces grouped by `--project-key`) of the namespaces
    /// not in `expand`. Without it, a request for more namespaces than
    /// `--graph-max-namespaces` gets the namespace overview.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "aggregate"
    )]
    pub aggregate: Option<Aggregate>,
    /// Comma-separated namespaces the overview shows in full (at most
    /// `--graph-max-namespaces`), with their calls to the rest summed on
    /// the aggregated side.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    pub expand: Option<String>,
}

/// Query string of `GET /api/metrics`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams, utoipa::ToSchema),
    into_params(parameter_in = Query)
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricsQuery {
    /// `mesh` (default), `project`, `namespace`, `service` or `workload`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "scope_kind"
    )]
    pub scope: Option<MetricsScopeKind>,
    /// Project id (project scope).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    pub project: Option<String>,
    /// Namespace (namespace, service and workload scopes).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    pub namespace: Option<String>,
    /// Service or workload name.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    pub name: Option<String>,
    /// `inbound` (default) or `outbound`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "direction"
    )]
    pub direction: Option<Direction>,
    /// Range ending now, e.g. `1h` (default), `15m`, `7d`; ignored with start/end.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "range"
    )]
    pub range: Option<TimeSpan>,
    /// Range start, Unix seconds (with `end`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// Range end, Unix seconds (with `start`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<f64>,
    /// Seconds between points; chosen from the range when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<f64>,
}

/// Query string of `GET /api/dashboards/{kind}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams, utoipa::ToSchema),
    into_params(parameter_in = Query)
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DashboardQuery {
    /// Namespace (service and workload dashboards).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    pub namespace: Option<String>,
    /// Service or workload name.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    pub name: Option<String>,
    /// Range ending now, e.g. `1h` (default); ignored with start/end.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "range"
    )]
    pub range: Option<TimeSpan>,
    /// Range start, Unix seconds (with `end`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// Range end, Unix seconds (with `start`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<f64>,
    /// Seconds between points; chosen from the range when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<f64>,
}

/// Query string of `GET /api/traces`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams, utoipa::ToSchema),
    into_params(parameter_in = Query)
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TraceSearchQuery {
    /// Service (required).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    pub service: Option<String>,
    /// Operation.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    pub operation: Option<String>,
    /// Tags, `key=value` pairs separated by spaces, e.g. `error=true http.status_code=503`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    pub tags: Option<String>,
    /// Shortest duration, e.g. `100ms`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "min_duration"
    )]
    pub min_duration: Option<TimeSpan>,
    /// Longest duration, e.g. `2s`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "max_duration"
    )]
    pub max_duration: Option<TimeSpan>,
    /// Range ending now, e.g. `1h`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "range"
    )]
    pub range: Option<TimeSpan>,
    /// Range start (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// Range end (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<f64>,
    /// Most traces (default 20, at most 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// Query string of `GET /api/traces/services`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams, utoipa::ToSchema),
    into_params(parameter_in = Query)
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TraceServicesQuery {
    /// Also list this service's operations.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    pub service: Option<String>,
}

/// `?dryRun=true`: say what would change, change nothing (injection
/// switches, disabling the mesh, removing a wizard's objects).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DryRunQuery {
    /// Preview only.
    #[serde(default, skip_serializing_if = "is_false")]
    pub dry_run: bool,
}

/// `?dryRun=true&force=true`: an apply (enabling the mesh, a wizard) as a
/// preview, and whether to take over fields other field managers own (the
/// API server named them in an earlier 409).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplyQuery {
    /// Preview only: a server-side dry run as the caller.
    #[serde(default, skip_serializing_if = "is_false")]
    pub dry_run: bool,
    /// Take over the fields another field manager owns.
    #[serde(default, skip_serializing_if = "is_false")]
    pub force: bool,
}

/// Query string of `GET /api/rollouts`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolloutListQuery {
    /// Only this namespace's rollouts.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    pub namespace: Option<String>,
}

/// Query string of `GET /api/istio/config`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IstioConfigQuery {
    /// Comma-separated namespaces (default: every one the caller may see).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "text"
    )]
    pub namespaces: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A value, or `None` for a missing or empty one.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|v| !v.is_empty()))
}

/// A text value; empty is none.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    present(d)
}

/// `value` read by `parse`, or the error `message` gives for it.
fn parsed<'de, D: Deserializer<'de>, T>(
    d: D,
    parse: impl FnOnce(&str) -> Option<T>,
    message: impl FnOnce(&str) -> String,
) -> Result<Option<T>, D::Error> {
    checked(d, |v| parse(v).ok_or_else(|| message(v)))
}

fn graph_type<'de, D: Deserializer<'de>>(d: D) -> Result<Option<GraphType>, D::Error> {
    parsed(d, GraphType::parse, |t| {
        format!("unknown graph type {t:?}; use app, versionedApp, workload or service")
    })
}

fn aggregate<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Aggregate>, D::Error> {
    parsed(d, Aggregate::parse, |a| {
        format!("unknown aggregate {a:?}; use namespace or project")
    })
}

fn scope_kind<'de, D: Deserializer<'de>>(d: D) -> Result<Option<MetricsScopeKind>, D::Error> {
    parsed(d, MetricsScopeKind::parse, |s| {
        format!("unknown scope {s:?}; use mesh, project, namespace, service or workload")
    })
}

fn direction<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Direction>, D::Error> {
    parsed(
        d,
        |s| match s {
            "inbound" => Some(Direction::Inbound),
            "outbound" => Some(Direction::Outbound),
            _ => None,
        },
        |s| format!("unknown direction {s:?}; use inbound or outbound"),
    )
}

/// `text` as the `range` of metrics, dashboards or a trace search, or
/// what is wrong with it.
pub fn range_param(text: &str) -> Result<TimeSpan, String> {
    TimeSpan::parse_range(text)
        .ok_or_else(|| format!("range {text:?} is not a duration like 15m, 1h or 7d"))
}

/// `text` as a trace search's `name` (`minDuration`, `maxDuration`), or
/// what is wrong with it.
pub fn trace_duration_param(name: &str, text: &str) -> Result<TimeSpan, String> {
    TimeSpan::parse(text)
        .filter(|s| s.uses_only(&super::time::TRACE_UNITS))
        .ok_or_else(|| format!("{name} {text:?} is not a duration like 100ms, 1.5s or 2m"))
}

/// A value checked by `check`, whose error is the 400's words.
fn checked<'de, D: Deserializer<'de>, T>(
    d: D,
    check: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, D::Error> {
    match present(d)? {
        None => Ok(None),
        Some(v) => check(&v).map(Some).map_err(serde::de::Error::custom),
    }
}

fn range<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TimeSpan>, D::Error> {
    checked(d, range_param)
}

fn trace_duration<'de, D: Deserializer<'de>>(
    d: D,
    name: &str,
) -> Result<Option<TimeSpan>, D::Error> {
    checked(d, |v| trace_duration_param(name, v))
}

fn min_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TimeSpan>, D::Error> {
    trace_duration(d, "minDuration")
}

fn max_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TimeSpan>, D::Error> {
    trace_duration(d, "maxDuration")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_serialise_only_what_is_set_and_read_back() {
        let q = GraphQuery {
            namespaces: Some("bookinfo,payments".into()),
            graph_type: Some(GraphType::Workload),
            aggregate: Some(Aggregate::Namespace),
            ..GraphQuery::default()
        };
        let json = serde_json::to_value(&q).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"namespaces": "bookinfo,payments", "type": "workload", "aggregate": "namespace"})
        );
        let back: GraphQuery = serde_json::from_value(json).unwrap();
        assert_eq!(back, q);
        let m = MetricsQuery {
            range: TimeSpan::parse_range("15m"),
            direction: Some(Direction::Outbound),
            ..MetricsQuery::default()
        };
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"direction": "outbound", "range": "15m"})
        );
    }

    #[test]
    fn bad_values_name_the_parameter_and_empty_ones_are_absent() {
        let read = |json: serde_json::Value| serde_json::from_value::<MetricsQuery>(json);
        let err = read(serde_json::json!({"scope": "galaxy"})).unwrap_err();
        assert!(
            err.to_string().contains("unknown scope \"galaxy\""),
            "{err}"
        );
        let err = read(serde_json::json!({"range": "1h30m"})).unwrap_err();
        assert!(
            err.to_string()
                .contains("range \"1h30m\" is not a duration"),
            "{err}"
        );
        let err = read(serde_json::json!({"rnage": "1h"})).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
        let empty = read(serde_json::json!({"scope": "", "range": ""})).unwrap();
        assert_eq!(empty, MetricsQuery::default());
        let err =
            serde_json::from_value::<TraceSearchQuery>(serde_json::json!({"minDuration": "1d"}))
                .unwrap_err();
        assert!(err.to_string().contains("minDuration \"1d\""), "{err}");
        let err = serde_json::from_value::<GraphQuery>(serde_json::json!({"type": "galaxy"}))
            .unwrap_err();
        assert!(err.to_string().contains("unknown graph type"), "{err}");
    }
}
