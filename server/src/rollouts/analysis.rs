//! One interval of a rollout measured in Prometheus: three instant queries
//! per judgement, each grouped by `destination_version` over the stable
//! and the canary version of the service, as the destination reports them
//! (the same series as the traffic charts; see `crate::promql`).
//!
//! - requests: `sum by (destination_version) (increase(istio_requests_total{S}[I]))`
//! - failure share: `(sum by (destination_version) (rate(istio_requests_total{S,response_code=~"5.*"}[I]) or rate(istio_requests_total{S,grpc_response_status=~"2|4|12|13|14|15"}[I])) or 0 * sum by (destination_version) (rate(istio_requests_total{S}[I]))) / sum by (destination_version) (rate(istio_requests_total{S}[I]))`;
//!   the success rate is 100 × (1 − that). A failure is a 5xx, or a gRPC
//!   status a gateway would answer with a 5xx ([`GRPC_FAILURES`]); the
//!   inner `or` joins series, so a call that is both is counted once. The
//!   outer `or` gives a version with no failure series a share of 0 rather
//!   than no answer, and a version answering only failures still has its
//!   share (1), so a failing canary is judged, not paused.
//! - p99: `histogram_quantile(0.99, sum by (le, destination_version) (rate(istio_request_duration_milliseconds_bucket{S}[I])))`
//!
//! `S` is `reporter="destination",destination_service_namespace="NS",destination_service_name="SVC",destination_version=~"STABLE|CANARY"`
//! and `I` the rollout's interval.

use app::types::{IntervalMeasurement, RolloutSpec, VersionMeasurement};

use crate::error::Error;
use crate::promql::{self, DURATION_BUCKETS, Op, REQUESTS, Selector};
use crate::upstream::prometheus::{PrometheusClient, Sample};

/// gRPC statuses that count as failures: those a gateway maps to a 5xx
/// (UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE,
/// DATA_LOSS). A gRPC call's `response_code` is 200 whatever its status,
/// so without these a failing gRPC canary would look healthy.
pub const GRPC_FAILURES: &str = "2|4|12|13|14|15";

/// The three queries of one judgement: requests, 5xx share, p99.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnalysisQueries {
    /// Requests per version in the interval.
    pub requests: String,
    /// Share of 5xx answers per version (0 to 1).
    pub error_share: String,
    /// p99 duration per version, in milliseconds.
    pub p99: String,
    /// Requests per second per version (not judged: the rollout's charts).
    pub request_rate: String,
}

/// The queries for `spec` on service `namespace/name`.
pub fn queries(namespace: &str, name: &str, spec: &RolloutSpec) -> AnalysisQueries {
    let selector = Selector::default()
        .with("reporter", Op::Eq, "destination")
        .with("destination_service_namespace", Op::Eq, namespace)
        .with("destination_service_name", Op::Eq, name)
        .with(
            "destination_version",
            Op::Re,
            promql::any_of(&[spec.stable.clone(), spec.canary.clone()]),
        );
    let s = selector.render();
    let five = selector
        .clone()
        .with("response_code", Op::Re, "5.*")
        .render();
    let grpc = selector
        .clone()
        .with("grpc_response_status", Op::Re, GRPC_FAILURES)
        .render();
    let window = promql::duration(f64::from(spec.interval_s));
    let rate_all = format!("sum by (destination_version) (rate({REQUESTS}{{{s}}}[{window}]))");
    AnalysisQueries {
        requests: format!("sum by (destination_version) (increase({REQUESTS}{{{s}}}[{window}]))"),
        error_share: format!(
            "(sum by (destination_version) (rate({REQUESTS}{{{five}}}[{window}]) or rate({REQUESTS}{{{grpc}}}[{window}])) or 0 * {rate_all}) / {rate_all}"
        ),
        p99: format!(
            "histogram_quantile(0.99, sum by (le, destination_version) (rate({DURATION_BUCKETS}{{{s}}}[{window}])))"
        ),
        request_rate: rate_all,
    }
}

/// The value for `version` among `samples`; NaN and infinities (no
/// requests in the interval) count as no answer.
fn value_of(samples: &[Sample], version: &str) -> Option<f64> {
    samples
        .iter()
        .find(|s| s.labels.get("destination_version").map(String::as_str) == Some(version))
        .map(|s| s.value)
        .filter(|v| v.is_finite())
}

fn version(
    requests: &[Sample],
    errors: &[Sample],
    p99: &[Sample],
    version: &str,
) -> VersionMeasurement {
    // Prometheus answering nothing at all (no series for either version)
    // is missing data; a series for one version only means the other
    // received no requests in the interval: zero.
    let requests = (!requests.is_empty()).then(|| value_of(requests, version).unwrap_or(0.0));
    VersionMeasurement {
        requests,
        success_pct: value_of(errors, version).map(|e| 100.0 * (1.0 - e)),
        p99_ms: value_of(p99, version),
    }
}

/// Measures the interval ending at `at` (Unix seconds). A failed query
/// makes the whole interval unavailable (the rollout pauses), with a
/// reason safe to show.
pub async fn measure(
    prometheus: &PrometheusClient,
    namespace: &str,
    name: &str,
    spec: &RolloutSpec,
    at: f64,
) -> IntervalMeasurement {
    let q = queries(namespace, name, spec);
    let (requests, errors, p99) = futures::join!(
        prometheus.query(&q.requests, at),
        prometheus.query(&q.error_share, at),
        prometheus.query(&q.p99, at),
    );
    match (requests, errors, p99) {
        (Ok(requests), Ok(errors), Ok(p99)) => IntervalMeasurement {
            canary: version(&requests, &errors, &p99, &spec.canary),
            stable: version(&requests, &errors, &p99, &spec.stable),
            unavailable: None,
        },
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => IntervalMeasurement {
            unavailable: Some(match e {
                Error::Upstream { reason, .. } => reason,
                _ => "its answer could not be read".into(),
            }),
            ..IntervalMeasurement::default()
        },
    }
}
