//! PromQL builders: pure functions from a scope to query text. Every label
//! value is escaped, and a caller's namespace filter always becomes a
//! matcher, so no input can widen or break out of a query.
//!
//! Windows: charts use `rate(...[W])` with `W = max(1m, step)`. `rate`
//! rather than Rancher's `irate`, because `irate` looks only at the last two
//! samples of the window, so at steps longer than the scrape interval it
//! skips most of the data and the curve depends on where the steps fall;
//! `W >= step` makes consecutive points cover the whole range, and
//! `W >= 1m` keeps at least two samples in every window at scrape intervals
//! up to 30 s. Top-10 lists use one window over the whole range.
//!
//! Request Duration deviates from Rancher's chart on purpose. Rancher groups
//! the buckets `by (le, destination_service_name,
//! destination_service_namespace)`, drawing one p50/p90/p99 line per
//! service: a project with thirty services gets ninety lines, which no one
//! can read at a glance. [`duration_quantile`] sums the buckets over the
//! whole scope `by (le)`, so the chart has one line per quantile: the
//! duration of the scope's requests taken together (busy services weigh
//! more than idle ones; this is not the mean or the maximum of per-service
//! quantiles). The per-service view stays available: [`top_p99`] groups
//! `by (le, destination_service_namespace, destination_service_name)` as
//! Rancher does and ranks the ten slowest services, and a service's own
//! charts (service scope) are exactly Rancher's line for that service.

use app::types::{Direction, MetricsScopeKind};

/// `istio_requests_total`.
pub const REQUESTS: &str = "istio_requests_total";
/// `istio_request_duration_milliseconds_bucket`.
pub const DURATION_BUCKETS: &str = "istio_request_duration_milliseconds_bucket";

/// How a matcher compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `=~` (the value is a regular expression, anchored by Prometheus)
    Re,
    /// `!~`
    Nre,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Re => "=~",
            Op::Nre => "!~",
        }
    }
}

/// A list of label matchers, rendered inside `{...}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector(Vec<(&'static str, Op, String)>);

impl Selector {
    /// Adds `label op value` (the value is escaped when rendered).
    pub fn with(mut self, label: &'static str, op: Op, value: impl Into<String>) -> Self {
        self.0.push((label, op, value.into()));
        self
    }

    /// The matchers, comma-separated, values quoted and escaped.
    pub fn render(&self) -> String {
        self.0
            .iter()
            .map(|(label, op, value)| format!("{label}{}\"{}\"", op.as_str(), escape_string(value)))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Escapes a value for a double-quoted PromQL string.
pub fn escape_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes RE2 metacharacters so `value` matches only itself.
pub fn escape_regex(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A regex matching exactly one of `values`; matches nothing when empty.
pub fn any_of(values: &[String]) -> String {
    if values.is_empty() {
        // `$^` can never match a label value (Prometheus anchors the regex).
        return "$^".into();
    }
    values
        .iter()
        .map(|v| escape_regex(v))
        .collect::<Vec<_>>()
        .join("|")
}

/// A duration in PromQL syntax (whole seconds).
pub fn duration(seconds: f64) -> String {
    format!("{}s", seconds.round().max(1.0) as u64)
}

/// The range of a chart's `rate(...[W])`: whole seconds for the queries
/// meshdeck runs, or one of Grafana's interval variables for the
/// dashboards Grafana evaluates ([`crate::grafana`]), which it fills in
/// from the panel's step and the dashboard's time range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Window {
    /// Seconds, rendered by [`duration`] (`60s`).
    Seconds(f64),
    /// Grafana's `$__rate_interval`: at least four scrape intervals, and
    /// at least the panel's step plus one, Grafana's own choice for `rate`.
    GrafanaRate,
    /// Grafana's `$__range`: the dashboard's whole time range.
    GrafanaRange,
}

impl From<f64> for Window {
    fn from(seconds: f64) -> Self {
        Window::Seconds(seconds)
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Window::Seconds(s) => f.write_str(&duration(*s)),
            Window::GrafanaRate => f.write_str("$__rate_interval"),
            Window::GrafanaRange => f.write_str("$__range"),
        }
    }
}

/// What the numbers are about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Scope kind.
    pub kind: MetricsScopeKind,
    /// Namespaces to cover (mesh and project scopes); `None` = all.
    pub namespaces: Option<Vec<String>>,
    /// Namespace of a namespace, service or workload scope.
    pub namespace: String,
    /// Service or workload name.
    pub name: String,
    /// Inbound or outbound (services and workloads).
    pub direction: Direction,
}

/// The base selector of a target: which reporter, and the matchers that pin
/// the scope. Mesh and project scopes carry the namespace filter.
pub fn target_selector(target: &Target) -> Selector {
    let destination = Selector::default().with("reporter", Op::Eq, "destination");
    match (target.kind, target.direction) {
        (MetricsScopeKind::Mesh | MetricsScopeKind::Project, _) => match &target.namespaces {
            None => destination,
            Some(list) => destination.with("destination_service_namespace", Op::Re, any_of(list)),
        },
        (MetricsScopeKind::Namespace, _) => {
            destination.with("destination_service_namespace", Op::Eq, &target.namespace)
        }
        (MetricsScopeKind::Service, Direction::Inbound) => destination
            .with("destination_service_namespace", Op::Eq, &target.namespace)
            .with("destination_service_name", Op::Eq, &target.name),
        (MetricsScopeKind::Service, Direction::Outbound) => Selector::default()
            .with("reporter", Op::Eq, "source")
            .with("source_workload_namespace", Op::Eq, &target.namespace)
            .with("source_canonical_service", Op::Eq, &target.name),
        (MetricsScopeKind::Workload, Direction::Inbound) => destination
            .with("destination_workload_namespace", Op::Eq, &target.namespace)
            .with("destination_workload", Op::Eq, &target.name),
        (MetricsScopeKind::Workload, Direction::Outbound) => Selector::default()
            .with("reporter", Op::Eq, "source")
            .with("source_workload_namespace", Op::Eq, &target.namespace)
            .with("source_workload", Op::Eq, &target.name),
    }
}

fn with_extra(selector: &Selector, extra: &str) -> String {
    let base = selector.render();
    if extra.is_empty() {
        base
    } else {
        format!("{base},{extra}")
    }
}

/// Share of requests not answered with 5xx.
pub fn success_rate(selector: &Selector, window: impl Into<Window>) -> String {
    let w = window.into();
    format!(
        "sum(rate({REQUESTS}{{{}}}[{w}])) / sum(rate({REQUESTS}{{{}}}[{w}]))",
        with_extra(selector, "response_code!~\"5.*\""),
        selector.render()
    )
}

/// Requests per second.
pub fn request_volume(selector: &Selector, window: impl Into<Window>) -> String {
    format!(
        "sum(rate({REQUESTS}{{{}}}[{}]))",
        selector.render(),
        window.into()
    )
}

/// Responses per second whose code matches `class` (`4` or `5`).
pub fn responses_of_class(selector: &Selector, class: char, window: impl Into<Window>) -> String {
    format!(
        "sum(rate({REQUESTS}{{{}}}[{}]))",
        with_extra(selector, &format!("response_code=~\"{class}.*\"")),
        window.into()
    )
}

/// The `q` quantile of the request duration in milliseconds.
pub fn duration_quantile(selector: &Selector, q: f64, window: impl Into<Window>) -> String {
    format!(
        "histogram_quantile({q}, sum(rate({DURATION_BUCKETS}{{{}}}[{}])) by (le))",
        selector.render(),
        window.into()
    )
}

const BY_SERVICE: &str = "destination_service_namespace, destination_service_name";

/// Top ten services by requests per second over `range` seconds.
pub fn top_volume(selector: &Selector, range: f64) -> String {
    format!(
        "topk(10, sum by ({BY_SERVICE}) (rate({REQUESTS}{{{}}}[{}])))",
        selector.render(),
        duration(range)
    )
}

/// Top ten services by responses per second of a code class over `range`.
pub fn top_class(selector: &Selector, class: char, range: f64) -> String {
    format!(
        "topk(10, sum by ({BY_SERVICE}) (rate({REQUESTS}{{{}}}[{}])) > 0)",
        with_extra(selector, &format!("response_code=~\"{class}.*\"")),
        duration(range)
    )
}

/// Top ten services by p99 duration over `range`.
pub fn top_p99(selector: &Selector, range: f64) -> String {
    format!(
        "topk(10, histogram_quantile(0.99, sum by (le, {BY_SERVICE}) (rate({DURATION_BUCKETS}{{{}}}[{}]))))",
        selector.render(),
        duration(range)
    )
}

/// Queries listing what has had traffic in the last day, with the labels
/// naming namespace and object, and whether the objects are services:
/// destination services, destination workloads, source workloads. A
/// namespace filter restricts each to the caller's namespaces.
pub fn target_queries(
    namespaces: Option<&[String]>,
) -> Vec<(String, &'static str, &'static str, bool)> {
    let lists = [
        (
            "destination",
            "destination_service_namespace",
            "destination_service_name",
            true,
        ),
        (
            "destination",
            "destination_workload_namespace",
            "destination_workload",
            false,
        ),
        (
            "source",
            "source_workload_namespace",
            "source_workload",
            false,
        ),
    ];
    lists
        .into_iter()
        .map(|(reporter, ns_label, name_label, is_service)| {
            let mut selector = Selector::default().with("reporter", Op::Eq, reporter);
            if let Some(list) = namespaces {
                selector = selector.with(ns_label, Op::Re, any_of(list));
            }
            let promql = format!(
                "group by ({ns_label}, {name_label}) (last_over_time({REQUESTS}{{{}}}[1d]))",
                selector.render()
            );
            (promql, ns_label, name_label, is_service)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(kind: MetricsScopeKind) -> Target {
        Target {
            kind,
            namespaces: None,
            namespace: "bookinfo".into(),
            name: "reviews".into(),
            direction: Direction::Inbound,
        }
    }

    #[test]
    fn mesh_queries_match_rancher_anchors() {
        let owner = target_selector(&target(MetricsScopeKind::Mesh));
        assert_eq!(
            success_rate(&owner, 60.0),
            r#"sum(rate(istio_requests_total{reporter="destination",response_code!~"5.*"}[60s])) / sum(rate(istio_requests_total{reporter="destination"}[60s]))"#
        );
        assert_eq!(
            request_volume(&owner, 120.0),
            r#"sum(rate(istio_requests_total{reporter="destination"}[120s]))"#
        );
        assert_eq!(
            responses_of_class(&owner, '4', 60.0),
            r#"sum(rate(istio_requests_total{reporter="destination",response_code=~"4.*"}[60s]))"#
        );
        assert_eq!(
            duration_quantile(&owner, 0.99, 60.0),
            r#"histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{reporter="destination"}[60s])) by (le))"#
        );
    }

    #[test]
    fn members_always_carry_their_namespace_matcher() {
        let mut t = target(MetricsScopeKind::Mesh);
        t.namespaces = Some(vec!["bookinfo".into(), "shop.v2".into()]);
        assert_eq!(
            request_volume(&target_selector(&t), 60.0),
            r#"sum(rate(istio_requests_total{reporter="destination",destination_service_namespace=~"bookinfo|shop\\.v2"}[60s]))"#
        );
        t.namespaces = Some(vec![]);
        assert!(
            request_volume(&target_selector(&t), 60.0)
                .contains(r#"destination_service_namespace=~"$^""#)
        );
    }

    #[test]
    fn each_scope_pins_the_right_labels() {
        let cases = [
            (
                MetricsScopeKind::Namespace,
                Direction::Inbound,
                r#"reporter="destination",destination_service_namespace="bookinfo""#,
            ),
            (
                MetricsScopeKind::Service,
                Direction::Inbound,
                r#"reporter="destination",destination_service_namespace="bookinfo",destination_service_name="reviews""#,
            ),
            (
                MetricsScopeKind::Service,
                Direction::Outbound,
                r#"reporter="source",source_workload_namespace="bookinfo",source_canonical_service="reviews""#,
            ),
            (
                MetricsScopeKind::Workload,
                Direction::Inbound,
                r#"reporter="destination",destination_workload_namespace="bookinfo",destination_workload="reviews""#,
            ),
            (
                MetricsScopeKind::Workload,
                Direction::Outbound,
                r#"reporter="source",source_workload_namespace="bookinfo",source_workload="reviews""#,
            ),
        ];
        for (kind, direction, want) in cases {
            let mut t = target(kind);
            t.direction = direction;
            assert_eq!(target_selector(&t).render(), want, "{kind:?} {direction:?}");
        }
    }

    #[test]
    fn hostile_values_stay_inside_their_matcher() {
        let mut t = target(MetricsScopeKind::Service);
        t.name = "x\"} or vector(1) or {a=\"\\\n".into();
        let q = request_volume(&target_selector(&t), 60.0);
        assert_eq!(
            q,
            r#"sum(rate(istio_requests_total{reporter="destination",destination_service_namespace="bookinfo",destination_service_name="x\"} or vector(1) or {a=\"\\\n"}[60s]))"#
        );
        // Regex metacharacters in a namespace filter match only themselves.
        assert_eq!(
            any_of(&["a.*".into(), "b|c".into(), "(d)".into()]),
            r"a\.\*|b\|c|\(d\)"
        );
        assert_eq!(escape_string("tab\tcr\r"), "tab\\tcr\\r");
    }

    #[test]
    fn target_lists_respect_the_namespace_filter() {
        let owner = target_queries(None);
        assert_eq!(
            owner[0].0,
            r#"group by (destination_service_namespace, destination_service_name) (last_over_time(istio_requests_total{reporter="destination"}[1d]))"#
        );
        let member = target_queries(Some(&["bookinfo".to_string()]));
        assert_eq!(
            member[2].0,
            r#"group by (source_workload_namespace, source_workload) (last_over_time(istio_requests_total{reporter="source",source_workload_namespace=~"bookinfo"}[1d]))"#
        );
    }

    #[test]
    fn top_lists_rank_services_over_the_range() {
        let s = target_selector(&target(MetricsScopeKind::Mesh));
        assert_eq!(
            top_volume(&s, 3600.0),
            r#"topk(10, sum by (destination_service_namespace, destination_service_name) (rate(istio_requests_total{reporter="destination"}[3600s])))"#
        );
        assert_eq!(
            top_p99(&s, 3600.0),
            r#"topk(10, histogram_quantile(0.99, sum by (le, destination_service_namespace, destination_service_name) (rate(istio_request_duration_milliseconds_bucket{reporter="destination"}[3600s]))))"#
        );
        assert_eq!(
            top_class(&s, '5', 3600.0),
            r#"topk(10, sum by (destination_service_namespace, destination_service_name) (rate(istio_requests_total{reporter="destination",response_code=~"5.*"}[3600s])) > 0)"#
        );
    }
    #[test]
    fn project_scope_covers_its_namespaces() {
        let mut t = target(MetricsScopeKind::Project);
        t.namespaces = Some(vec!["bookinfo".into(), "reviews-canary".into()]);
        let s = target_selector(&t);
        assert_eq!(
            success_rate(&s, 60.0),
            r#"sum(rate(istio_requests_total{reporter="destination",destination_service_namespace=~"bookinfo|reviews-canary",response_code!~"5.*"}[60s])) / sum(rate(istio_requests_total{reporter="destination",destination_service_namespace=~"bookinfo|reviews-canary"}[60s]))"#
        );
        assert_eq!(
            duration_quantile(&s, 0.5, 120.0),
            r#"histogram_quantile(0.5, sum(rate(istio_request_duration_milliseconds_bucket{reporter="destination",destination_service_namespace=~"bookinfo|reviews-canary"}[120s])) by (le))"#
        );
        assert_eq!(
            top_class(&s, '4', 900.0),
            r#"topk(10, sum by (destination_service_namespace, destination_service_name) (rate(istio_requests_total{reporter="destination",destination_service_namespace=~"bookinfo|reviews-canary",response_code=~"4.*"}[900s])) > 0)"#
        );
    }

    #[test]
    fn hostile_namespace_lists_are_regex_then_string_escaped() {
        // Regex escaping first (metacharacters match only themselves), then
        // string escaping (quote, backslash, newline stay inside the string).
        let mut t = target(MetricsScopeKind::Mesh);
        t.namespaces = Some(vec![
            "a\"b".into(),
            "c\\d".into(),
            "e\nf".into(),
            "g.*h".into(),
            "h|i(j)[k]{2}^$+?".into(),
        ]);
        assert_eq!(
            request_volume(&target_selector(&t), 60.0),
            r#"sum(rate(istio_requests_total{reporter="destination",destination_service_namespace=~"a\"b|c\\\\d|e\nf|g\\.\\*h|h\\|i\\(j\\)\\[k\\]\\{2\\}\\^\\$\\+\\?"}[60s]))"#
        );
    }
}
