//! Links to the external tools' own UIs, carrying the console's current
//! context (namespace, service, time range) where the tool understands it.

use crate::format::encode_component;
use crate::types::UpstreamKind;

/// What the user is looking at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkContext {
    /// The namespaces in view (the graph shows several).
    pub namespaces: Vec<String>,
    /// A tracing service name (`<app>.<namespace>`) in view.
    pub service: Option<String>,
    /// A range like `1h` in view.
    pub range: Option<String>,
}

impl LinkContext {
    /// The context of a console URL (`path` and its query pairs).
    pub fn from_page(path: &str, query: &[(String, String)]) -> Self {
        let get = |k: &str| {
            query
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        let mut ctx = LinkContext {
            namespaces: get("namespace").into_iter().collect(),
            service: None,
            range: get("range"),
        };
        match path {
            "/traces" => {
                ctx.service = get("service");
                if ctx.namespaces.is_empty() {
                    ctx.namespaces = ctx
                        .service
                        .as_deref()
                        .and_then(|s| s.rsplit_once('.'))
                        .map(|(_, ns)| ns.to_owned())
                        .into_iter()
                        .collect();
                }
            }
            "/metrics" if get("scope").as_deref() == Some("service") => {
                ctx.service = match (get("name"), ctx.namespaces.first()) {
                    (Some(name), Some(ns)) => Some(format!("{name}.{ns}")),
                    _ => None,
                };
            }
            "/graph" => {
                // Kiali takes the same comma-separated list; its duration
                // is the graph's window.
                if ctx.namespaces.is_empty() {
                    ctx.namespaces = get("namespaces")
                        .map(|list| {
                            list.split(',')
                                .filter(|n| !n.is_empty())
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default();
                }
                if ctx.range.is_none() {
                    ctx.range = get("window");
                }
            }
            _ => {}
        }
        ctx
    }
}

/// The time a link to the Traces page searches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TraceTime<'a> {
    /// The Traces page's default lookback.
    Default,
    /// The last `range` (e.g. `1h`, or a graph's window `10m`).
    Last(&'a str),
    /// From `start` to `end` (Unix seconds): a custom range, a replayed graph.
    Between(i64, i64),
}

/// The console's Traces page searching `service` (`<app>.<namespace>`)
/// over `time`.
pub fn traces_page(service: &str, time: TraceTime<'_>) -> String {
    let mut search = crate::types::TraceSearchQuery {
        service: Some(service.to_owned()),
        ..Default::default()
    };
    match time {
        TraceTime::Default => {}
        TraceTime::Last(range) => search.range = crate::types::TimeSpan::parse_range(range),
        TraceTime::Between(start, end) => {
            search.start = Some(start as f64);
            search.end = Some(end as f64);
        }
    }
    traces_search_page(&search)
}

/// The Traffic Metrics page for `query` (its scope and time).
pub fn metrics_page(query: &crate::types::MetricsQuery) -> String {
    format!(
        "{}?{}",
        crate::nav::METRICS.path,
        crate::format::query_of(query)
    )
}

/// The Traces page running the search `query`.
pub fn traces_search_page(query: &crate::types::TraceSearchQuery) -> String {
    format!(
        "{}?{}",
        crate::nav::TRACES.path,
        crate::format::query_of(query)
    )
}

/// Seconds in a range like `15m`, `1h` or `2d` ([`TimeSpan::parse_range`]).
///
/// [`TimeSpan::parse_range`]: crate::types::TimeSpan::parse_range
pub fn seconds(range: &str) -> Option<u64> {
    crate::types::TimeSpan::parse_range(range).map(|s| s.seconds() as u64)
}

/// The URL of `kind`'s UI at `base` (ending in `/`) for `ctx`.
pub fn tool_url(kind: UpstreamKind, base: &str, ctx: &LinkContext) -> String {
    let base = if base.ends_with('/') {
        base.to_owned()
    } else {
        format!("{base}/")
    };
    match kind {
        UpstreamKind::Kiali => {
            let mut url = format!("{base}console/graph/namespaces/");
            let mut params = Vec::new();
            if !ctx.namespaces.is_empty() {
                params.push(format!(
                    "namespaces={}",
                    encode_component(&ctx.namespaces.join(","))
                ));
            }
            if let Some(s) = ctx.range.as_deref().and_then(seconds) {
                params.push(format!("duration={s}"));
            }
            if !params.is_empty() {
                url.push('?');
                url.push_str(&params.join("&"));
            }
            url
        }
        UpstreamKind::Jaeger => match &ctx.service {
            Some(service) => {
                let lookback = ctx.range.clone().unwrap_or_else(|| "1h".into());
                format!(
                    "{base}search?service={}&lookback={}",
                    encode_component(service),
                    encode_component(&lookback)
                )
            }
            None => format!("{base}search"),
        },
        UpstreamKind::Prometheus => {
            // Namespace names are DNS labels: nothing to escape.
            let selector = match ctx.namespaces.as_slice() {
                [] => "istio_requests_total".to_owned(),
                [ns] => {
                    format!("istio_requests_total{{destination_service_namespace=\"{ns}\"}}")
                }
                many => format!(
                    "istio_requests_total{{destination_service_namespace=~\"{}\"}}",
                    many.join("|")
                ),
            };
            let expr = format!("sum(rate({selector}[1m])) by (destination_service)");
            let range = ctx.range.clone().unwrap_or_else(|| "1h".into());
            format!(
                "{base}graph?g0.expr={}&g0.tab=0&g0.range_input={}",
                encode_component(&expr),
                encode_component(&range)
            )
        }
        UpstreamKind::Grafana => {
            let mut url = format!("{base}dashboards?query=Istio");
            for ns in &ctx.namespaces {
                url.push_str(&format!("&var-namespace={}", encode_component(ns)));
            }
            // Grafana's relative time: `now-6h`. Only well-formed ranges.
            if let Some(range) = ctx.range.as_deref().filter(|r| seconds(r).is_some()) {
                url.push_str(&format!("&from=now-{range}&to=now"));
            }
            url
        }
        UpstreamKind::Kubernetes => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn context_comes_from_the_page() {
        let ctx = LinkContext::from_page("/traces", &pairs(&[("service", "reviews.bookinfo")]));
        assert_eq!(ctx.namespaces, ["bookinfo"]);
        assert_eq!(ctx.service.as_deref(), Some("reviews.bookinfo"));
        let ctx = LinkContext::from_page(
            "/metrics",
            &pairs(&[
                ("scope", "service"),
                ("namespace", "payments"),
                ("name", "ledger"),
                ("range", "6h"),
            ]),
        );
        assert_eq!(ctx.service.as_deref(), Some("ledger.payments"));
        assert_eq!(ctx.range.as_deref(), Some("6h"));
        assert_eq!(LinkContext::from_page("/", &[]), LinkContext::default());
        let ctx = LinkContext::from_page(
            "/graph",
            &pairs(&[("namespaces", "bookinfo,payments"), ("window", "30m")]),
        );
        assert_eq!(
            tool_url(UpstreamKind::Kiali, "http://kiali/", &ctx),
            "http://kiali/console/graph/namespaces/?namespaces=bookinfo%2Cpayments&duration=1800"
        );
        assert!(
            tool_url(UpstreamKind::Prometheus, "http://prom/", &ctx)
                .contains("destination_service_namespace%3D~%22bookinfo%7Cpayments%22")
        );
    }

    #[test]
    fn links_carry_the_context() {
        let ctx = LinkContext {
            namespaces: vec!["bookinfo".into()],
            service: Some("reviews.bookinfo".into()),
            range: Some("6h".into()),
        };
        assert_eq!(
            tool_url(UpstreamKind::Kiali, "http://kiali/", &ctx),
            "http://kiali/console/graph/namespaces/?namespaces=bookinfo&duration=21600"
        );
        assert_eq!(
            tool_url(UpstreamKind::Jaeger, "http://jaeger", &ctx),
            "http://jaeger/search?service=reviews.bookinfo&lookback=6h"
        );
        assert!(tool_url(UpstreamKind::Prometheus, "http://prom/", &ctx).starts_with(
            "http://prom/graph?g0.expr=sum%28rate%28istio_requests_total%7Bdestination_service_namespace%3D%22bookinfo%22"
        ));
        assert_eq!(
            tool_url(UpstreamKind::Grafana, "http://grafana/", &ctx),
            "http://grafana/dashboards?query=Istio&var-namespace=bookinfo&from=now-6h&to=now"
        );
        assert_eq!(
            tool_url(
                UpstreamKind::Grafana,
                "http://grafana/",
                &LinkContext::default()
            ),
            "http://grafana/dashboards?query=Istio"
        );
        // A range that is not a duration is left out rather than passed on.
        let odd = LinkContext {
            range: Some("6h&x=1".into()),
            ..LinkContext::default()
        };
        assert_eq!(
            tool_url(UpstreamKind::Grafana, "http://grafana/", &odd),
            "http://grafana/dashboards?query=Istio"
        );
        // The graph's window is the range of its page.
        let graph = LinkContext::from_page("/graph", &pairs(&[("window", "30m")]));
        assert!(
            tool_url(UpstreamKind::Grafana, "http://grafana", &graph)
                .ends_with("&from=now-30m&to=now")
        );
    }

    #[test]
    fn traces_page_links_carry_the_range() {
        assert_eq!(
            traces_page("reviews.bookinfo", TraceTime::Last("6h")),
            "/traces?service=reviews.bookinfo&range=6h"
        );
        assert_eq!(
            traces_page("reviews.bookinfo", TraceTime::Default),
            "/traces?service=reviews.bookinfo"
        );
        assert_eq!(
            traces_page("a b.c", TraceTime::Last("")),
            "/traces?service=a%20b.c"
        );
        assert_eq!(
            traces_page(
                "reviews.bookinfo",
                TraceTime::Between(1_700_000_000, 1_700_003_600)
            ),
            "/traces?service=reviews.bookinfo&start=1700000000&end=1700003600"
        );
    }
}
