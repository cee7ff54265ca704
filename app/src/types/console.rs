//! The Prometheus console: a PromQL query and Prometheus' answer, passed through.

use serde::{Deserialize, Serialize};

/// Body of `POST /api/prometheus/query`: an instant query (`time`, default
/// now) or, with `start`, `end` and `step`, a range query.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromQueryRequest {
    /// The PromQL, passed to Prometheus as written.
    pub query: String,
    /// Evaluation time of an instant query, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<f64>,
    /// Range start, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// Range end, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<f64>,
    /// Seconds between range points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<f64>,
}

impl PromQueryRequest {
    /// Whether this asks for a range query.
    pub fn is_range(&self) -> bool {
        self.start.is_some() || self.end.is_some() || self.step.is_some()
    }
}

/// One element of an instant vector, as Prometheus sends it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromSample {
    /// Its labels.
    pub metric: std::collections::BTreeMap<String, String>,
    /// `[unix seconds, "value"]`; the value is text so `NaN` and `+Inf` survive.
    pub value: (f64, String),
}

/// One series of a range result, as Prometheus sends it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromRangeSeries {
    /// Its labels.
    pub metric: std::collections::BTreeMap<String, String>,
    /// `[unix seconds, "value"]` points.
    pub values: Vec<(f64, String)>,
}

/// Prometheus' `data`: `{"resultType": ..., "result": ...}`, passed through.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
pub enum PromData {
    /// An instant vector.
    Vector(Vec<PromSample>),
    /// A range vector (range queries).
    Matrix(Vec<PromRangeSeries>),
    /// A scalar `[time, "value"]`.
    Scalar((f64, String)),
    /// A string `[time, "text"]`.
    String((f64, String)),
}

impl PromData {
    /// Series (or samples) and points in the result.
    pub fn size(&self) -> (usize, usize) {
        match self {
            PromData::Vector(v) => (v.len(), v.len()),
            PromData::Matrix(m) => (m.len(), m.iter().map(|s| s.values.len()).sum()),
            PromData::Scalar(_) | PromData::String(_) => (1, 1),
        }
    }
}

/// Answer of `POST /api/prometheus/query`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromQueryAnswer {
    /// The result, exactly as Prometheus gave it.
    pub data: PromData,
    /// Prometheus' warnings, if any.
    #[serde(default)]
    pub warnings: Vec<String>,
}
