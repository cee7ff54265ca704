//! Prometheus HTTP API client (any Prometheus-compatible API: Prometheus,
//! Thanos, Mimir): instant and range queries with Prometheus' error
//! contract mapped to meshdeck's errors.

use std::collections::BTreeMap;

use app::types::{PromData, PromQueryAnswer};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use super::Probe;
use super::http::HttpUpstream;
use crate::error::{Error, Result};

/// Client for one Prometheus-compatible API.
#[derive(Clone, Debug)]
pub struct PrometheusClient {
    http: HttpUpstream,
}

/// `{"status", "data", "errorType", "error", "warnings"}`, every answer's envelope.
#[derive(Debug, Deserialize)]
struct Envelope<T> {
    status: String,
    data: Option<T>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct BuildInfo {
    version: String,
}

/// `data` of a query answer.
#[derive(Debug, Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum QueryData {
    Vector(Vec<RawSample>),
    Matrix(Vec<RawSeries>),
    Scalar((f64, String)),
    String(serde::de::IgnoredAny),
}

#[derive(Debug, Deserialize)]
struct RawSample {
    metric: BTreeMap<String, String>,
    value: (f64, String),
}

#[derive(Debug, Deserialize)]
struct RawSeries {
    metric: BTreeMap<String, String>,
    values: Vec<(f64, String)>,
}

/// One element of an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its value (may be NaN or infinite: Prometheus sends those as strings).
    pub value: f64,
}

/// One series of a range query.
#[derive(Clone, Debug, PartialEq)]
pub struct RangeSeries {
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// `(unix seconds, value)` points where the series had a value.
    pub points: Vec<(f64, f64)>,
}

/// How much a passed-through query may return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultLimits {
    /// Most series (or samples of an instant vector).
    pub max_series: usize,
    /// Most points over all series.
    pub max_points: usize,
    /// Most bytes of Prometheus JSON read.
    pub max_bytes: usize,
}

impl Default for ResultLimits {
    fn default() -> Self {
        ResultLimits {
            max_series: 2_000,
            max_points: 200_000,
            max_bytes: 32 * 1024 * 1024,
        }
    }
}

/// Parses a sample value: numbers, `NaN`, `+Inf`, `-Inf`.
pub fn parse_value(text: &str) -> Option<f64> {
    text.parse().ok()
}

impl PrometheusClient {
    /// A client over `http`.
    pub fn new(http: HttpUpstream) -> Self {
        PrometheusClient { http }
    }

    /// The underlying HTTP upstream.
    pub fn upstream(&self) -> &HttpUpstream {
        &self.http
    }

    /// `GET /api/v1/status/buildinfo`: reachable and which version.
    pub async fn probe(&self) -> Result<Probe> {
        let info: Envelope<BuildInfo> = self.http.get_json("api/v1/status/buildinfo", &[]).await?;
        if info.status != "success" {
            return Err(self.http.unavailable(format!(
                "buildinfo answered status {}: {}",
                info.status,
                info.error.unwrap_or_default()
            )));
        }
        Ok(Probe {
            version: info.data.map(|d| d.version),
            detail: None,
        })
    }

    /// Instant query at `time` (Unix seconds).
    pub async fn query(&self, promql: &str, time: f64) -> Result<Vec<Sample>> {
        let time = time.to_string();
        let data = self
            .post("api/v1/query", &[("query", promql), ("time", &time)])
            .await?;
        match data {
            QueryData::Vector(samples) => Ok(samples
                .into_iter()
                .map(|s| Sample {
                    labels: s.metric,
                    value: parse_value(&s.value.1).unwrap_or(f64::NAN),
                })
                .collect()),
            QueryData::Scalar((_, v)) => Ok(vec![Sample {
                labels: BTreeMap::new(),
                value: parse_value(&v).unwrap_or(f64::NAN),
            }]),
            _ => Err(self
                .http
                .unavailable("an instant query answered with a non-vector result")),
        }
    }

    /// Range query from `start` to `end` every `step` seconds.
    pub async fn query_range(
        &self,
        promql: &str,
        start: f64,
        end: f64,
        step: f64,
    ) -> Result<Vec<RangeSeries>> {
        let (start, end, step) = (start.to_string(), end.to_string(), step.to_string());
        let params = [
            ("query", promql),
            ("start", &start),
            ("end", &end),
            ("step", &step),
        ];
        match self.post("api/v1/query_range", &params).await? {
            QueryData::Matrix(series) => Ok(series
                .into_iter()
                .map(|s| RangeSeries {
                    labels: s.metric,
                    points: s
                        .values
                        .into_iter()
                        .map(|(t, v)| (t, parse_value(&v).unwrap_or(f64::NAN)))
                        .collect(),
                })
                .collect()),
            _ => Err(self
                .http
                .unavailable("a range query answered with a non-matrix result")),
        }
    }

    /// A query passed through for the PromQL console: instant (`range` is
    /// `None`) or range (`Some((start, end, step))`), answered with
    /// Prometheus' own `data`. Prometheus is told to give up after this
    /// client's timeout; answers over `limits` are refused with 422 rather
    /// than shipped to a browser.
    pub async fn passthrough(
        &self,
        promql: &str,
        time: f64,
        range: Option<(f64, f64, f64)>,
        limits: &ResultLimits,
    ) -> Result<PromQueryAnswer> {
        let timeout = format!("{}s", self.http.timeout().as_secs_f64());
        let (path, params): (&'static str, Vec<(&str, String)>) = match range {
            None => (
                "api/v1/query",
                vec![("query", promql.to_owned()), ("time", time.to_string())],
            ),
            Some((start, end, step)) => (
                "api/v1/query_range",
                vec![
                    ("query", promql.to_owned()),
                    ("start", start.to_string()),
                    ("end", end.to_string()),
                    ("step", step.to_string()),
                ],
            ),
        };
        let mut form: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        form.push(("timeout", &timeout));
        let span = tracing::debug_span!("prometheus", path, query = promql);
        let (data, warnings) = self
            .post_in_span::<PromData>(path, &form, Some(limits.max_bytes))
            .instrument(span)
            .await?;
        let (series, points) = data.size();
        if series > limits.max_series {
            return Err(Error::Invalid(format!(
                "the result has {series} series; the console shows at most {}: aggregate it (sum by (...), topk) or narrow the selector",
                limits.max_series
            )));
        }
        if points > limits.max_points {
            return Err(Error::Invalid(format!(
                "the result has {points} points; the console shows at most {}: use a larger step, a shorter range or fewer series",
                limits.max_points
            )));
        }
        Ok(PromQueryAnswer { data, warnings })
    }

    /// POSTs a form (queries can be long) and unwraps the envelope, mapping
    /// Prometheus' statuses: 400 bad parameters, 422 execution error, 503
    /// timeout or overload; anything that is not its JSON is an upstream failure.
    async fn post(&self, path: &'static str, form: &[(&str, &str)]) -> Result<QueryData> {
        let span = tracing::debug_span!("prometheus", path, query = form.first().map(|f| f.1));
        self.post_in_span(path, form, None)
            .instrument(span)
            .await
            .map(|(data, _)| data)
    }

    async fn post_in_span<T: DeserializeOwned>(
        &self,
        path: &'static str,
        form: &[(&str, &str)],
        max_bytes: Option<usize>,
    ) -> Result<(T, Vec<String>)> {
        let url = self.http.url(path)?;
        let request = self.http.client().post(url).form(form);
        let (status, bytes) = match max_bytes {
            None => self.http.fetch(path, request).await?,
            Some(max) => match self.http.fetch_limited(path, request, max).await? {
                (status, Some(bytes)) => (status, bytes),
                (_, None) => {
                    return Err(Error::Invalid(format!(
                        "the result is more than {max} bytes of JSON; the console takes at most {max}: aggregate it or narrow the selector"
                    )));
                }
            },
        };
        let envelope: Envelope<T> = serde_json::from_slice(&bytes).map_err(|_| {
            self.http.unavailable(format!(
                "{path} answered HTTP {status} with something that is not Prometheus JSON"
            ))
        })?;
        if envelope.status == "success"
            && let Some(data) = envelope.data
        {
            return Ok((data, envelope.warnings));
        }
        let message = envelope.error.unwrap_or_else(|| "no error message".into());
        let kind = envelope.error_type.unwrap_or_default();
        Err(match status {
            400 => Error::BadRequest(format!("Prometheus rejected the query ({kind}): {message}")),
            422 => Error::Invalid(format!(
                "Prometheus could not execute the query ({kind}): {message}"
            )),
            503 => self.http.unavailable(format!(
                "the query timed out or was refused ({kind}): {message}"
            )),
            _ => self
                .http
                .unavailable(format!("{path} answered HTTP {status} ({kind}): {message}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_include_prometheus_specials() {
        assert!(parse_value("NaN").unwrap().is_nan());
        assert_eq!(parse_value("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_value("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_value("1.5e3"), Some(1500.0));
        assert_eq!(parse_value("twelve"), None);
    }

    #[test]
    fn result_types_decode() {
        let v: Envelope<QueryData> = serde_json::from_str(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[1700000000.5,"NaN"]}]}}"#,
        )
        .unwrap();
        assert!(
            matches!(v.data, Some(QueryData::Vector(ref s)) if s.len() == 1 && s[0].metric["a"] == "b")
        );
        let m: Envelope<QueryData> = serde_json::from_str(
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"+Inf"]]}]},"warnings":["w"]}"#,
        )
        .unwrap();
        assert!(matches!(m.data, Some(QueryData::Matrix(ref s)) if s[0].values.len() == 2));
        let e: Envelope<QueryData> = serde_json::from_str(
            r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#,
        )
        .unwrap();
        assert_eq!(e.error.as_deref(), Some("parse error"));
        assert_eq!(e.error_type.as_deref(), Some("bad_data"));
    }
}
