//! The telemetry check (`GET /api/status/telemetry`): for each namespace
//! with injected workloads, whether Prometheus holds `istio_requests_total`
//! from its sidecars over the last 10 minutes and from which reporters,
//! and whether istiod's own metrics are scraped. An empty graph is most
//! often one of these; the check names which.
//!
//! Three instant queries:
//!
//! - `sum by (destination_workload_namespace, reporter) (increase(istio_requests_total[10m]))`:
//!   calls into each namespace, as its own sidecars (`destination`) and
//!   its callers' (`source`) reported them;
//! - `sum by (source_workload_namespace) (increase(istio_requests_total{reporter="source"}[10m]))`:
//!   calls each namespace's sidecars reported making;
//! - `count(pilot_xds_pushes)`: istiod's pushes, present when istiod is
//!   scraped.

use std::collections::BTreeMap;

use app::types::{NamespaceTelemetry, TelemetryReport, TelemetryState};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};

use crate::access::AccessScope;
use crate::cluster::{Acting, api_error, pods};
use crate::error::Result;
use crate::promql::REQUESTS;
use crate::state::AppState;
use crate::upstream::prometheus::Sample;

/// The window looked at.
pub const WINDOW: &str = "10m";

/// The three queries.
pub fn queries() -> [String; 3] {
    [
        format!(
            "sum by (destination_workload_namespace, reporter) (increase({REQUESTS}[{WINDOW}]))"
        ),
        format!(
            "sum by (source_workload_namespace) (increase({REQUESTS}{{reporter=\"source\"}}[{WINDOW}]))"
        ),
        "count(pilot_xds_pushes)".to_owned(),
    ]
}

fn sum_where(samples: &[Sample], label: &str, value: &str, reporter: Option<&str>) -> f64 {
    samples
        .iter()
        .filter(|s| s.labels.get(label).map(String::as_str) == Some(value))
        .filter(|s| {
            reporter.is_none_or(|r| s.labels.get("reporter").map(String::as_str) == Some(r))
        })
        .map(|s| s.value)
        .filter(|v| v.is_finite())
        // Not `sum()`: an empty float sum is -0, shown as "-0".
        .fold(0.0, |a, b| a + b)
}

/// The verdict for one namespace from what was reported (pure).
pub fn judge(
    namespace: &str,
    pods_with_sidecar: u32,
    inbound: &[Sample],
    outbound: &[Sample],
) -> NamespaceTelemetry {
    let key = "destination_workload_namespace";
    let destination = sum_where(inbound, key, namespace, Some("destination"));
    let source = sum_where(inbound, key, namespace, Some("source"));
    let out = sum_where(outbound, "source_workload_namespace", namespace, None);
    let (state, hint) = if destination > 0.0 {
        (TelemetryState::Ok, None)
    } else if source > 0.0 {
        (
            TelemetryState::NotScraped,
            Some(format!(
                "callers' sidecars reported {source:.0} requests to {namespace}, its own sidecars none: Prometheus does not scrape them (the merged metrics on port 15020, path /stats/prometheus; check the pods' prometheus.io annotations or the PodMonitor)"
            )),
        )
    } else if out > 0.0 {
        (TelemetryState::OutboundOnly, None)
    } else {
        (
            TelemetryState::None,
            Some(format!(
                "no request from or to {namespace} in the last {WINDOW}: either nothing called its workloads, or Prometheus scrapes none of its {pods_with_sidecar} sidecar(s) (port 15020, /stats/prometheus)"
            )),
        )
    };
    NamespaceTelemetry {
        namespace: namespace.to_owned(),
        pods_with_sidecar,
        destination_reported: destination,
        source_reported: source,
        outbound_reported: out,
        state,
        hint,
    }
}

/// The report for the namespaces `scope` may see.
pub async fn report(state: &AppState, scope: &AccessScope) -> Result<TelemetryReport> {
    report_at(state, scope, state.now_s()).await
}

/// [`report`] over the window ending at `at` (Unix seconds).
pub async fn report_at(state: &AppState, scope: &AccessScope, at: f64) -> Result<TelemetryReport> {
    let client = state.cluster()?.own().clone();
    let pods = Api::<Pod>::all(client)
        .list(&ListParams::default())
        .await
        .map_err(|e| api_error("list pods", Acting::Meshdeck, e))?;
    let mut injected: BTreeMap<String, u32> = BTreeMap::new();
    for pod in pods
        .items
        .iter()
        .filter(|p| pods::is_live(p) && pods::has_sidecar(p))
    {
        if let Some(ns) = pod.metadata.namespace.as_deref()
            && scope.can_see(ns)
        {
            *injected.entry(ns.to_owned()).or_default() += 1;
        }
    }
    let queries = queries();
    let mut report = TelemetryReport {
        window: WINDOW.to_owned(),
        istiod_scraped: None,
        namespaces: Vec::new(),
        queries: queries.to_vec(),
        problem: None,
    };
    let Some(prometheus) = state.upstreams().prometheus.as_ref() else {
        report.problem = Some("no Prometheus is configured".into());
        return Ok(report);
    };
    let (inbound, outbound, istiod) = futures::join!(
        prometheus.query(&queries[0], at),
        prometheus.query(&queries[1], at),
        prometheus.query(&queries[2], at),
    );
    match (inbound, outbound) {
        (Ok(inbound), Ok(outbound)) => {
            report.namespaces = injected
                .iter()
                .map(|(ns, n)| judge(ns, *n, &inbound, &outbound))
                .collect();
        }
        (Err(e), _) | (_, Err(e)) => {
            report.problem = Some(format!(
                "Prometheus could not be asked: {}",
                e.public_message()
            ));
            return Ok(report);
        }
    }
    report.istiod_scraped = istiod.ok().map(|s| !s.is_empty());
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(labels: &[(&str, &str)], value: f64) -> Sample {
        Sample {
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            value,
        }
    }

    #[test]
    fn verdicts_follow_the_reporters() {
        let inbound = [
            sample(
                &[
                    ("destination_workload_namespace", "shop"),
                    ("reporter", "destination"),
                ],
                120.0,
            ),
            sample(
                &[
                    ("destination_workload_namespace", "shop"),
                    ("reporter", "source"),
                ],
                100.0,
            ),
            sample(
                &[
                    ("destination_workload_namespace", "dark"),
                    ("reporter", "source"),
                ],
                40.0,
            ),
        ];
        let outbound = [sample(&[("source_workload_namespace", "batch")], 9.0)];
        let shop = judge("shop", 3, &inbound, &outbound);
        assert_eq!(
            (shop.state, shop.destination_reported, shop.source_reported),
            (TelemetryState::Ok, 120.0, 100.0)
        );
        assert_eq!(shop.hint, None);
        let dark = judge("dark", 2, &inbound, &outbound);
        assert_eq!(dark.state, TelemetryState::NotScraped);
        assert!(dark.hint.unwrap().contains("reported 40 requests to dark"));
        assert_eq!(
            judge("batch", 1, &inbound, &outbound).state,
            TelemetryState::OutboundOnly
        );
        let quiet = judge("quiet", 4, &inbound, &outbound);
        assert_eq!(quiet.state, TelemetryState::None);
        assert!(quiet.hint.unwrap().contains("none of its 4 sidecar(s)"));
        // NaN (no rate) counts as nothing.
        assert!(
            judge("quiet", 1, &[], &[])
                .destination_reported
                .is_sign_positive()
        );
        let nan = [sample(
            &[
                ("destination_workload_namespace", "x"),
                ("reporter", "destination"),
            ],
            f64::NAN,
        )];
        assert_eq!(judge("x", 1, &nan, &[]).state, TelemetryState::None);
    }
}
