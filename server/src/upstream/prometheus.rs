//! Prometheus HTTP API client (any Prometheus-compatible API).

use serde::Deserialize;

use super::Probe;
use super::http::HttpUpstream;
use crate::error::Result;

/// Client for one Prometheus-compatible API.
#[derive(Clone, Debug)]
pub struct PrometheusClient {
    http: HttpUpstream,
}

/// `{"status": "...", "data": ...}`, the envelope of every answer.
#[derive(Debug, Deserialize)]
struct Envelope<T> {
    status: String,
    data: Option<T>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct BuildInfo {
    version: String,
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
    /// Thanos and Mimir may not serve buildinfo; any envelope then proves reachability.
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
}
