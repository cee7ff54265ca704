//! Jaeger query API client, both generations: v1 (`/api/...`, Jaeger's own
//! JSON) and v3 (`/api/v3/...`, OTLP JSON), chosen by configuration or
//! detected (v3 if `/api/v3/services` answers with JSON, v1 if it is
//! definitely not there; detection is retried while Jaeger cannot say).
//! [`v1`] and [`v3`] hold each generation's answers as typed records and
//! decode them into [`crate::traces`]' model.

mod loose;
pub mod v1;
pub mod v3;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::Value;
use tokio::sync::OnceCell;

use super::Probe;
use super::http::HttpUpstream;
use crate::error::{Error, Result};
use crate::traces::Trace;

/// The largest Jaeger answer read (a search of 500 big traces is a few MiB).
pub const MAX_ANSWER_BYTES: usize = 64 << 20;

/// Which query API to speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JaegerApi {
    /// `/api/services`, `/api/traces`: Jaeger's JSON.
    V1,
    /// `/api/v3/...`: OTLP JSON.
    V3,
}

/// Client for one Jaeger query service.
#[derive(Clone, Debug)]
pub struct JaegerClient {
    http: HttpUpstream,
    api: Arc<OnceCell<JaegerApi>>,
    /// The last failed detection: when it ended, and why.
    failed: Arc<Mutex<Option<(Instant, String)>>>,
}

/// A trace search.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TraceQuery {
    /// Service (required by Jaeger).
    pub service: String,
    /// Operation of that service.
    pub operation: Option<String>,
    /// Tags that one span must all carry.
    pub tags: Vec<(String, String)>,
    /// Shortest matching span (microseconds).
    pub min_duration_us: Option<i64>,
    /// Longest matching span (microseconds).
    pub max_duration_us: Option<i64>,
    /// Earliest start (Unix microseconds).
    pub start_us: i64,
    /// Latest start (Unix microseconds).
    pub end_us: i64,
    /// Most traces.
    pub limit: usize,
}

impl JaegerClient {
    /// A client over `http`; `api` fixes the API generation, `None` detects it.
    pub fn new(http: HttpUpstream, api: Option<JaegerApi>) -> Self {
        let cell = OnceCell::new();
        if let Some(api) = api {
            let _ = cell.set(api);
        }
        JaegerClient {
            http,
            api: Arc::new(cell),
            failed: Arc::default(),
        }
    }

    /// The underlying HTTP upstream.
    pub fn upstream(&self) -> &HttpUpstream {
        &self.http
    }

    /// The API generation in use, detected on first use. Only a definite
    /// answer is kept: while Jaeger is unreachable, slow or failing (5xx,
    /// an authentication wall, throttling), this is an error and the next
    /// call asks again.
    /// Requests that arrive while a detection runs share its outcome, so
    /// while Jaeger hangs they wait out one timeout together, not one each
    /// in turn.
    pub async fn api(&self) -> Result<JaegerApi> {
        let arrived = Instant::now();
        self.api
            .get_or_try_init(|| async {
                if let Some(reason) = self.failure_since(arrived) {
                    return Err(self.http.unavailable(reason));
                }
                let detected = match self.get("api/v3/services", &[]).await {
                    Ok((status, body)) => detect(status, &body).ok_or_else(|| {
                        format!(
                            "api/v3/services answered HTTP {status}, \
                             so the query API generation is unknown"
                        )
                    }),
                    Err(Error::Upstream { reason, .. }) => Err(reason),
                    Err(other) => Err(other.to_string()),
                };
                detected.map_err(|reason| {
                    *self.failed.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some((Instant::now(), reason.clone()));
                    self.http.unavailable(reason)
                })
            })
            .await
            .copied()
    }

    /// Why detection failed, if an attempt ended at or after `arrived`
    /// (one the caller was waiting on).
    fn failure_since(&self, arrived: Instant) -> Option<String> {
        let failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
        failed
            .as_ref()
            .filter(|(ended, _)| *ended >= arrived)
            .map(|(_, reason)| reason.clone())
    }

    /// `GET path?query` → (status, JSON body or `null`); answers over
    /// [`MAX_ANSWER_BYTES`] are refused (422) without reading the rest.
    async fn get(&self, path: &'static str, query: &[(&str, String)]) -> Result<(u16, Value)> {
        self.get_at(path, path, query).await
    }

    /// [`get`](Self::get) of a path with parts filled in; `operation` is
    /// its template, naming the call's span.
    async fn get_at(
        &self,
        operation: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<(u16, Value)> {
        let url = self.http.url(path)?;
        let request = self.http.client().get(url).query(query);
        let (status, bytes) = match self
            .http
            .fetch_limited(operation, request, MAX_ANSWER_BYTES)
            .await?
        {
            (status, Some(bytes)) => (status, bytes),
            (_, None) => {
                return Err(Error::Invalid(format!(
                    "Jaeger's answer is more than {} MiB; search with a lower limit or a shorter range",
                    MAX_ANSWER_BYTES >> 20
                )));
            }
        };
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    async fn get_ok(&self, path: &'static str, query: &[(&str, String)]) -> Result<Value> {
        self.get_ok_at(path, path, query).await
    }

    async fn get_ok_at(
        &self,
        operation: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Value> {
        let (status, body) = self.get_at(operation, path, query).await?;
        if (200..300).contains(&status) {
            Ok(body)
        } else {
            Err(self.refused(path, status, &body))
        }
    }

    /// A non-2xx answer as an error: a 400 is the search the caller asked
    /// for being refused (their 400, with Jaeger's words), anything else is
    /// Jaeger being unavailable.
    fn refused(&self, path: &str, status: u16, body: &Value) -> Error {
        if status == 400 {
            let words = body
                .pointer("/errors/0/msg")
                .or_else(|| body.pointer("/error/message"))
                .or_else(|| body.get("message"))
                .and_then(Value::as_str)
                .unwrap_or("no reason given");
            Error::BadRequest(format!("Jaeger refused the search: {words}"))
        } else {
            self.http
                .unavailable(format!("{path} answered HTTP {status}"))
        }
    }

    /// Services with traces, sorted.
    pub async fn services(&self) -> Result<Vec<String>> {
        let mut list: Vec<String> = match self.api().await? {
            JaegerApi::V1 => v1::decode_names(&self.get_ok("api/services", &[]).await?),
            JaegerApi::V3 => v3::decode_services(&self.get_ok("api/v3/services", &[]).await?),
        };
        list.sort();
        Ok(list)
    }

    /// Operations of `service`, sorted.
    pub async fn operations(&self, service: &str) -> Result<Vec<String>> {
        let mut list: Vec<String> = match self.api().await? {
            JaegerApi::V1 => {
                let path = format!(
                    "api/services/{}/operations",
                    app::format::encode_component(service)
                );
                let body = self
                    .get_ok_at("api/services/{service}/operations", &path, &[])
                    .await?;
                v1::decode_names(&body)
            }
            JaegerApi::V3 => {
                let body = self
                    .get_ok("api/v3/operations", &[("service", service.to_owned())])
                    .await?;
                v3::decode_operations(&body)
            }
        };
        list.sort();
        list.dedup();
        Ok(list)
    }

    /// Traces matching `q`.
    pub async fn search(&self, q: &TraceQuery) -> Result<Vec<Trace>> {
        let tags = (!q.tags.is_empty()).then(|| {
            let map: serde_json::Map<String, Value> = q
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            Value::Object(map).to_string()
        });
        match self.api().await? {
            JaegerApi::V1 => {
                let mut params = vec![
                    ("service", q.service.clone()),
                    ("start", q.start_us.to_string()),
                    ("end", q.end_us.to_string()),
                    ("limit", q.limit.to_string()),
                ];
                params.extend(q.operation.clone().map(|o| ("operation", o)));
                params.extend(tags.map(|t| ("tags", t)));
                params.extend(q.min_duration_us.map(|d| ("minDuration", format!("{d}us"))));
                params.extend(q.max_duration_us.map(|d| ("maxDuration", format!("{d}us"))));
                Ok(v1::decode(&self.get_ok("api/traces", &params).await?))
            }
            JaegerApi::V3 => {
                let mut params = vec![
                    ("query.service_name", q.service.clone()),
                    (
                        "query.start_time_min",
                        app::format::rfc3339_from_us(q.start_us),
                    ),
                    (
                        "query.start_time_max",
                        app::format::rfc3339_from_us(q.end_us),
                    ),
                    ("query.num_traces", q.limit.to_string()),
                ];
                params.extend(q.operation.clone().map(|o| ("query.operation_name", o)));
                params.extend(tags.map(|t| ("query.attributes", t)));
                params.extend(
                    q.min_duration_us
                        .map(|d| ("query.duration_min", format!("{d}us"))),
                );
                params.extend(
                    q.max_duration_us
                        .map(|d| ("query.duration_max", format!("{d}us"))),
                );
                let (status, body) = self.get("api/v3/traces", &params).await?;
                match status {
                    // Jaeger's v3 gateway answers 404 when nothing matched.
                    404 => Ok(Vec::new()),
                    200..=299 => Ok(v3::decode(&body)),
                    other => Err(self.refused("api/v3/traces", other, &body)),
                }
            }
        }
    }

    /// One trace, or `None` if Jaeger does not know it.
    pub async fn trace(&self, id: &str) -> Result<Option<Trace>> {
        let id = app::format::encode_component(id);
        let (operation, path, v3) = match self.api().await? {
            JaegerApi::V1 => ("api/traces/{id}", format!("api/traces/{id}"), false),
            JaegerApi::V3 => ("api/v3/traces/{id}", format!("api/v3/traces/{id}"), true),
        };
        let (status, body) = self.get_at(operation, &path, &[]).await?;
        match status {
            404 => Ok(None),
            200..=299 => {
                let mut found = if v3 {
                    v3::decode(&body)
                } else {
                    v1::decode(&body)
                };
                Ok(if found.is_empty() {
                    None
                } else {
                    Some(found.swap_remove(0))
                })
            }
            other => Err(self.refused(&path, other, &body)),
        }
    }

    /// Reachable, which API generation, and how many services report traces.
    pub async fn probe(&self) -> Result<Probe> {
        let services = self.services().await?;
        let api = match self.api().await? {
            JaegerApi::V1 => "v1",
            JaegerApi::V3 => "v3",
        };
        Ok(Probe {
            version: None,
            detail: Some(format!(
                "query API {api}; {} services with traces",
                services.len()
            )),
        })
    }
}

/// The API generation told by `/api/v3/services` answering `status` with
/// `body` (`null` when not JSON), or `None` when the answer says nothing
/// about it.
fn detect(status: u16, body: &Value) -> Option<JaegerApi> {
    match status {
        // v3 answers a JSON object (`{"services": [...]}`, or `{}` when
        // empty); a v1 UI may answer its HTML page for any path.
        200..=299 if body.is_object() => Some(JaegerApi::V3),
        200..=299 => Some(JaegerApi::V1),
        // Not there, or not understood: no v3 API.
        400 | 404 | 405 | 410 | 501 => Some(JaegerApi::V1),
        // Down, failing, throttled or behind authentication: ask again later.
        _ => None,
    }
}

/// Whether a tag marks its span as failed (`error=true`, in both
/// generations).
fn is_error_tag(key: &str, value: &str) -> bool {
    key == "error" && value == "true"
}

/// The span kind a `span.kind` tag gives (`client`, `server`, ...).
fn kind_tag(tags: &[(String, String)]) -> Option<String> {
    tags.iter()
        .find(|(k, _)| k == "span.kind")
        .map(|(_, v)| v.clone())
}

#[cfg(test)]
mod decode_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_definite_answers_decide_the_api() {
        let services = serde_json::json!({"services": ["a.b"]});
        assert_eq!(detect(200, &services), Some(JaegerApi::V3));
        assert_eq!(detect(200, &serde_json::json!({})), Some(JaegerApi::V3));
        // An HTML page (not JSON) or a JSON non-object from a v1 server.
        assert_eq!(detect(200, &Value::Null), Some(JaegerApi::V1));
        assert_eq!(detect(200, &serde_json::json!([1])), Some(JaegerApi::V1));
        assert_eq!(detect(404, &Value::Null), Some(JaegerApi::V1));
        assert_eq!(detect(405, &services), Some(JaegerApi::V1));
        for status in [401, 403, 429, 500, 502, 503, 504] {
            assert_eq!(detect(status, &services), None, "{status}");
        }
    }
}
