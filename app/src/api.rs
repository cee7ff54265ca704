//! The one typed client for meshdeck's REST/JSON API (gloo-net). Every page
//! fetches through here and gets `Result<T, ApiError>`.

use std::fmt;

use gloo_net::http::Request;
use serde::de::DeserializeOwned;

use crate::types::{ErrorBody, ErrorCode, MetricsReport, MetricsTargets, Status};

/// A failed API call, ready to show to a person.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// HTTP status, or 0 when no response arrived at all.
    pub status: u16,
    /// Error class from the server's JSON body.
    pub code: ErrorCode,
    /// What went wrong, in words.
    pub message: String,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.status == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{} (HTTP {})", self.message, self.status)
        }
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    fn network(err: impl fmt::Display) -> Self {
        ApiError {
            status: 0,
            code: ErrorCode::UpstreamUnavailable,
            message: format!("could not reach the meshdeck server: {err}"),
        }
    }
}

/// `GET path` and decode the JSON answer; error bodies become [`ApiError`].
pub async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let response = Request::get(path)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(ApiError::network)?;
    let status = response.status();
    if response.ok() {
        return response.json::<T>().await.map_err(|err| ApiError {
            status,
            code: ErrorCode::Internal,
            message: format!("unexpected answer from {path}: {err}"),
        });
    }
    let text = response.text().await.unwrap_or_default();
    Err(match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => ApiError {
            status,
            code: body.error.code,
            message: body.error.message,
        },
        Err(_) => ApiError {
            status,
            code: ErrorCode::Unknown,
            message: format!("{path} answered HTTP {status} without an error body"),
        },
    })
}

/// `GET /api/status`.
pub async fn status() -> Result<Status, ApiError> {
    get_json("/api/status").await
}

/// `GET /api/metrics?<query>`.
pub async fn metrics(query: &str) -> Result<MetricsReport, ApiError> {
    get_json(&format!("/api/metrics?{query}")).await
}

/// `GET /api/metrics/targets`.
pub async fn metrics_targets() -> Result<MetricsTargets, ApiError> {
    get_json("/api/metrics/targets").await
}
