//! The PromQL console (owners only): a query from the browser checked for
//! shape, then passed to Prometheus as written, with Prometheus' timeout and
//! a cap on how much of an answer is shipped back.

use app::types::{PromQueryAnswer, PromQueryRequest};

use crate::access::Owner;
use crate::error::{Error, Result};
use crate::upstream::prometheus::{PrometheusClient, ResultLimits};

/// The longest query text accepted.
pub const MAX_QUERY_LEN: usize = 16 * 1024;
/// Prometheus' own cap on points per series in a range query.
pub const MAX_POINTS_PER_SERIES: f64 = 11_000.0;

/// The checked form of a request: the query and, for a range query,
/// `(start, end, step)`.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedQuery {
    /// The PromQL.
    pub query: String,
    /// Instant evaluation time.
    pub time: f64,
    /// Range, if a range query.
    pub range: Option<(f64, f64, f64)>,
}

fn unix_time(value: f64, what: &str) -> Result<f64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(Error::BadRequest(format!(
            "{what} must be a Unix time in seconds, not {value}"
        )))
    }
}

/// Checks the shape of `request` (not its PromQL: Prometheus judges that).
pub fn check(request: &PromQueryRequest, now: f64) -> Result<CheckedQuery> {
    let query = request.query.trim();
    if query.is_empty() {
        return Err(Error::BadRequest("the query is empty".into()));
    }
    if query.len() > MAX_QUERY_LEN {
        return Err(Error::BadRequest(format!(
            "the query is {} bytes; the longest accepted is {MAX_QUERY_LEN}",
            query.len()
        )));
    }
    let range = if request.is_range() {
        if request.time.is_some() {
            return Err(Error::BadRequest(
                "give time (instant query) or start, end and step (range query), not both".into(),
            ));
        }
        let (Some(start), Some(end), Some(step)) = (request.start, request.end, request.step)
        else {
            return Err(Error::BadRequest(
                "a range query needs start, end and step".into(),
            ));
        };
        let (start, end) = (unix_time(start, "start")?, unix_time(end, "end")?);
        if end <= start {
            return Err(Error::BadRequest(format!(
                "end ({end}) must be after start ({start})"
            )));
        }
        if !step.is_finite() || step <= 0.0 {
            return Err(Error::BadRequest(format!(
                "step must be a positive number of seconds, not {step}"
            )));
        }
        let points = ((end - start) / step).floor() + 1.0;
        if points > MAX_POINTS_PER_SERIES {
            return Err(Error::BadRequest(format!(
                "{points:.0} points per series; Prometheus allows at most {MAX_POINTS_PER_SERIES:.0}: use a larger step"
            )));
        }
        Some((start, end, step))
    } else {
        None
    };
    Ok(CheckedQuery {
        query: query.to_owned(),
        time: match request.time {
            Some(t) => unix_time(t, "time")?,
            None => now,
        },
        range,
    })
}

/// Runs `request` for an owner against `prometheus` within `limits`.
pub async fn query(
    prometheus: &PrometheusClient,
    _owner: &Owner,
    request: &PromQueryRequest,
    now: f64,
    limits: &ResultLimits,
) -> Result<PromQueryAnswer> {
    let checked = check(request, now)?;
    prometheus
        .passthrough(&checked.query, checked.time, checked.range, limits)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(query: &str) -> PromQueryRequest {
        PromQueryRequest {
            query: query.into(),
            ..PromQueryRequest::default()
        }
    }

    #[test]
    fn instant_queries_default_to_now() {
        let c = check(&req(" up "), 1000.0).unwrap();
        assert_eq!(c.query, "up");
        assert_eq!(c.time, 1000.0);
        assert_eq!(c.range, None);
    }

    #[test]
    fn range_queries_need_all_three() {
        let mut r = req("up");
        r.start = Some(0.0);
        r.end = Some(600.0);
        assert!(check(&r, 1.0).is_err());
        r.step = Some(60.0);
        assert_eq!(check(&r, 1.0).unwrap().range, Some((0.0, 600.0, 60.0)));
        r.time = Some(5.0);
        assert!(check(&r, 1.0).is_err());
    }

    #[test]
    fn bad_shapes_are_400() {
        let mut r = req("up");
        r.start = Some(600.0);
        r.end = Some(0.0);
        r.step = Some(60.0);
        for bad in [
            r.clone(),
            PromQueryRequest {
                step: Some(0.0),
                start: Some(0.0),
                end: Some(10.0),
                ..req("up")
            },
            PromQueryRequest {
                step: Some(f64::NAN),
                start: Some(0.0),
                end: Some(10.0),
                ..req("up")
            },
            PromQueryRequest {
                step: Some(1.0),
                start: Some(0.0),
                end: Some(86400.0),
                ..req("up")
            },
            PromQueryRequest {
                time: Some(-1.0),
                ..req("up")
            },
            req("   "),
            req(&"x".repeat(MAX_QUERY_LEN + 1)),
        ] {
            let err = check(&bad, 1.0).unwrap_err();
            assert_eq!(err.code().http_status(), 400, "{bad:?}: {err}");
        }
    }
}
