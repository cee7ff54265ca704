//! PromQL of the traffic graph: pure builders, one query per metric family
//! for all requested namespaces at once. Kiali runs three selections per
//! namespace; here each selection carries a namespace regex matcher and the
//! three are joined with `or` (their label sets are disjoint, see
//! [`selections`]), so one round trip serves every namespace.

use crate::promql::{Op, Selector, any_of, duration};

/// `istio_requests_total`.
pub const REQUESTS: &str = "istio_requests_total";
/// `istio_tcp_sent_bytes_total`.
pub const TCP_SENT: &str = "istio_tcp_sent_bytes_total";
/// `istio_request_duration_milliseconds_bucket`.
pub const DURATION_BUCKETS: &str = "istio_request_duration_milliseconds_bucket";

/// The labels that identify both ends of an edge in every graph type.
pub const NODE_LABELS: &str = "source_workload_namespace,source_workload,source_canonical_service,source_canonical_revision,destination_service_namespace,destination_service,destination_service_name,destination_workload_namespace,destination_workload,destination_canonical_service,destination_canonical_revision";

/// Kiali's three selections, each for all of `namespaces` at once:
/// 1. callers the mesh cannot identify (`source_workload="unknown"`),
///    reported by the destination proxy in the namespaces;
/// 2. other namespaces' workloads calling into the namespaces, reported by
///    the caller;
/// 3. the namespaces' workloads calling anything, reported by the caller.
///
/// They are disjoint (1 has an unknown source, 2 a known one outside the
/// namespaces, 3 a known one inside), so their sums never share a label set
/// and `or` loses nothing.
pub fn selections(namespaces: &[String]) -> [Selector; 3] {
    let ns = any_of(namespaces);
    [
        Selector::default()
            .with("reporter", Op::Eq, "destination")
            .with("source_workload", Op::Eq, "unknown")
            .with("destination_workload_namespace", Op::Re, ns.clone()),
        Selector::default()
            .with("reporter", Op::Eq, "source")
            .with("source_workload_namespace", Op::Nre, ns.clone())
            .with("source_workload", Op::Ne, "unknown")
            .with("destination_service_namespace", Op::Re, ns.clone()),
        Selector::default().with("reporter", Op::Eq, "source").with(
            "source_workload_namespace",
            Op::Re,
            ns,
        ),
    ]
}

/// Destination-reported traffic touching the namespaces (only the server
/// side knows how a connection was secured): into them, and out of them to
/// elsewhere. Disjoint for the same reason as [`selections`].
pub fn security_selections(namespaces: &[String]) -> [Selector; 2] {
    let ns = any_of(namespaces);
    [
        Selector::default()
            .with("reporter", Op::Eq, "destination")
            .with("destination_workload_namespace", Op::Re, ns.clone()),
        Selector::default()
            .with("reporter", Op::Eq, "destination")
            .with("source_workload_namespace", Op::Re, ns.clone())
            .with("destination_workload_namespace", Op::Nre, ns),
    ]
}

fn union(metric: &str, selectors: &[Selector], by: &str, window: f64) -> String {
    let w = duration(window);
    selectors
        .iter()
        .map(|s| format!("sum by ({by}) (rate({metric}{{{}}}[{w}]))", s.render()))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Requests per second by edge, protocol and response code.
pub fn requests(namespaces: &[String], window: f64) -> String {
    union(
        REQUESTS,
        &selections(namespaces),
        &format!("{NODE_LABELS},request_protocol,response_code,grpc_response_status"),
        window,
    )
}

/// TCP bytes per second by edge.
pub fn tcp(namespaces: &[String], window: f64) -> String {
    union(TCP_SENT, &selections(namespaces), NODE_LABELS, window)
}

/// Duration bucket rates by edge; the graph adds them up per edge and
/// computes the p95 itself, so one query serves every graph type (a
/// quantile of an app edge cannot be made from its workload edges').
pub fn duration_buckets(namespaces: &[String], window: f64) -> String {
    union(
        DURATION_BUCKETS,
        &selections(namespaces),
        &format!("{NODE_LABELS},le"),
        window,
    )
}

/// Requests and TCP bytes per second by edge and
/// `connection_security_policy`, as destination proxies report them.
pub fn security(namespaces: &[String], window: f64) -> String {
    let by = format!("{NODE_LABELS},request_protocol,connection_security_policy");
    let selectors = security_selections(namespaces);
    format!(
        "{} or {}",
        union(REQUESTS, &selectors, &by, window),
        union(TCP_SENT, &selectors, &by, window)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn one_request_query_covers_every_namespace() {
        let q = requests(&ns(&["bookinfo", "pay.ments"]), 600.0);
        let by = format!("{NODE_LABELS},request_protocol,response_code,grpc_response_status");
        assert_eq!(
            q,
            format!(
                "sum by ({by}) (rate(istio_requests_total{{reporter=\"destination\",source_workload=\"unknown\",destination_workload_namespace=~\"bookinfo|pay\\\\.ments\"}}[600s])) \
or sum by ({by}) (rate(istio_requests_total{{reporter=\"source\",source_workload_namespace!~\"bookinfo|pay\\\\.ments\",source_workload!=\"unknown\",destination_service_namespace=~\"bookinfo|pay\\\\.ments\"}}[600s])) \
or sum by ({by}) (rate(istio_requests_total{{reporter=\"source\",source_workload_namespace=~\"bookinfo|pay\\\\.ments\"}}[600s]))"
            )
        );
    }

    #[test]
    fn tcp_and_buckets_use_the_same_selections() {
        let q = tcp(&ns(&["a"]), 60.0);
        assert_eq!(q.matches("istio_tcp_sent_bytes_total{").count(), 3);
        assert!(q.starts_with(&format!("sum by ({NODE_LABELS}) (rate(istio_tcp_sent_bytes_total{{reporter=\"destination\",source_workload=\"unknown\",destination_workload_namespace=~\"a\"}}[60s]))")));
        let b = duration_buckets(&ns(&["a"]), 60.0);
        assert_eq!(b.matches(" or ").count(), 2);
        assert!(b.contains(&format!("sum by ({NODE_LABELS},le) (rate(istio_request_duration_milliseconds_bucket{{reporter=\"source\",source_workload_namespace=~\"a\"}}[60s]))")));
    }

    #[test]
    fn security_reads_destination_reports_of_both_families() {
        let q = security(&ns(&["a"]), 300.0);
        let by = format!("{NODE_LABELS},request_protocol,connection_security_policy");
        assert_eq!(
            q,
            format!(
                "sum by ({by}) (rate(istio_requests_total{{reporter=\"destination\",destination_workload_namespace=~\"a\"}}[300s])) \
or sum by ({by}) (rate(istio_requests_total{{reporter=\"destination\",source_workload_namespace=~\"a\",destination_workload_namespace!~\"a\"}}[300s])) \
or sum by ({by}) (rate(istio_tcp_sent_bytes_total{{reporter=\"destination\",destination_workload_namespace=~\"a\"}}[300s])) \
or sum by ({by}) (rate(istio_tcp_sent_bytes_total{{reporter=\"destination\",source_workload_namespace=~\"a\",destination_workload_namespace!~\"a\"}}[300s]))"
            )
        );
    }

    #[test]
    fn hostile_namespaces_stay_inside_their_matcher() {
        let q = requests(&ns(&["x\"}) or vector(1) #"]), 60.0);
        assert!(
            q.contains("=~\"x\\\"\\\\}\\\\) or vector\\\\(1\\\\) #\""),
            "{q}"
        );
    }
}
