//! Jaeger query API client.

use serde::Deserialize;

use super::Probe;
use super::http::HttpUpstream;
use crate::error::Result;

/// Client for one Jaeger query service.
#[derive(Clone, Debug)]
pub struct JaegerClient {
    http: HttpUpstream,
}

/// v1 envelope `{"data": ..., "total": ..., "errors": ...}`.
#[derive(Debug, Deserialize)]
struct Envelope<T> {
    data: Option<T>,
}

impl JaegerClient {
    /// A client over `http`.
    pub fn new(http: HttpUpstream) -> Self {
        JaegerClient { http }
    }

    /// The underlying HTTP upstream.
    pub fn upstream(&self) -> &HttpUpstream {
        &self.http
    }

    /// `GET /api/services`: reachable, and how many services report traces.
    pub async fn probe(&self) -> Result<Probe> {
        let services: Envelope<Vec<String>> = self.http.get_json("api/services", &[]).await?;
        let count = services.data.map(|d| d.len()).unwrap_or(0);
        Ok(Probe {
            version: None,
            detail: Some(format!("{count} services with traces")),
        })
    }
}
