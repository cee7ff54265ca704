//! A plain HTTP upstream: base URL, timeout, JSON GET with errors mapped to
//! [`Error::Upstream`] in words a person can act on.

use std::time::Duration;

use app::types::UpstreamKind;
use serde::de::DeserializeOwned;
use tracing::Instrument;
use url::Url;

use crate::error::{Error, Result};
use crate::run::StartupError;

/// Credentials sent to an upstream with every request.
#[derive(Clone)]
pub enum UpstreamAuth {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// HTTP basic authentication.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
}

impl std::fmt::Debug for UpstreamAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets.
        match self {
            UpstreamAuth::Bearer(_) => f.write_str("Bearer(..)"),
            UpstreamAuth::Basic { username, .. } => write!(f, "Basic({username}, ..)"),
        }
    }
}

/// One HTTP-speaking upstream system.
#[derive(Clone, Debug)]
pub struct HttpUpstream {
    kind: UpstreamKind,
    base: Url,
    timeout: Duration,
    client: reqwest::Client,
    auth: Option<UpstreamAuth>,
}

impl HttpUpstream {
    /// A client for `base` whose every request gives up after `timeout`.
    /// Credentials in the URL (`http://user:password@host/`) are taken out
    /// of it and sent as basic authentication: the URL kept, which links,
    /// errors and logs may show, carries none.
    pub fn new(kind: UpstreamKind, mut base: Url, timeout: Duration) -> Result<Self, StartupError> {
        let url_auth = (!base.username().is_empty() || base.password().is_some()).then(|| {
            UpstreamAuth::Basic {
                username: percent_decode(base.username()),
                password: percent_decode(base.password().unwrap_or("")),
            }
        });
        // Only special schemes have credentials, and these cannot fail there.
        let _ = base.set_username("");
        let _ = base.set_password(None);
        if !matches!(base.scheme(), "http" | "https") {
            return Err(StartupError::Flag(format!(
                "{} URL must be http or https, not {}",
                kind.label(),
                base.scheme()
            )));
        }
        // A base with a path prefix (`http://host/prometheus`) must end in a
        // slash, or `join` would replace its last segment.
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("meshdeck/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                Error::internal_caused(format!("building the {} HTTP client", kind.label()), e)
            })?;
        Ok(HttpUpstream {
            kind,
            base,
            timeout,
            client,
            auth: url_auth,
        })
    }

    /// How long a request may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The same upstream, sending `auth` with every request (`None` keeps
    /// the credentials the URL carried, if any).
    pub fn with_auth(mut self, auth: Option<UpstreamAuth>) -> Self {
        if auth.is_some() {
            self.auth = auth;
        }
        self
    }

    /// Adds the configured credentials to a request.
    pub fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.auth {
            None => request,
            Some(UpstreamAuth::Bearer(token)) => request.bearer_auth(token),
            Some(UpstreamAuth::Basic { username, password }) => {
                request.basic_auth(username, Some(password))
            }
        }
    }

    /// Which system this is.
    pub fn kind(&self) -> UpstreamKind {
        self.kind
    }

    /// The configured base URL (always ending in `/`), without credentials.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// `base` joined with a relative `path` such as `api/v1/query`.
    pub fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|e| Error::internal(format!("joining {path} to {}: {e}", self.base)))
    }

    /// The underlying client, for upstream modules with their own error contract.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Maps a transport failure to an upstream error that says what happened.
    /// The URL is left out of the words: `/api/status` is public, and an
    /// internal address is nobody's business there.
    pub fn transport_error(&self, err: reqwest::Error) -> Error {
        let err = err.without_url();
        let reason = if err.is_timeout() {
            format!("no answer within {} ms", self.timeout.as_millis())
        } else if err.is_connect() {
            "cannot connect (is it running and reachable from meshdeck?)".to_string()
        } else {
            format!("request failed: {err}")
        };
        // The cause is logged, without the URL (it may carry credentials).
        Error::upstream_caused(self.kind, reason, err)
    }

    /// An [`Error::Upstream`] for this system.
    pub fn unavailable(&self, reason: impl Into<String>) -> Error {
        Error::upstream(self.kind, reason.into())
    }

    /// Sends `request` with the configured credentials and reads the whole
    /// answer: (status, body). Transport failures become upstream errors.
    /// `operation` names the call in its span (a path template such as
    /// `api/v1/query`).
    pub async fn fetch(
        &self,
        operation: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<(u16, axum::body::Bytes)> {
        let (response, span) = self.send(operation, request, true).await?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.read_error(&span, e))?;
        Ok((status, body))
    }

    /// Like [`fetch`](Self::fetch), but reads at most `max_bytes` of the
    /// body: `None` as soon as the answer is known to be longer (from its
    /// `Content-Length`, or once more has arrived), without reading the rest.
    pub async fn fetch_limited(
        &self,
        operation: &'static str,
        request: reqwest::RequestBuilder,
        max_bytes: usize,
    ) -> Result<(u16, Option<axum::body::Bytes>)> {
        let (mut response, span) = self.send(operation, request, true).await?;
        let status = response.status().as_u16();
        let too_long = |n: u64| usize::try_from(n).map_or(true, |n| n > max_bytes);
        if response.content_length().is_some_and(too_long) {
            return Ok((status, None));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.read_error(&span, e))?
        {
            if chunk.len() > max_bytes.saturating_sub(body.len()) {
                // Dropping the response closes the connection mid-answer.
                return Ok((status, None));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, Some(body.into())))
    }

    /// The label of this system in metrics and spans.
    pub fn system(&self) -> &'static str {
        match self.kind {
            UpstreamKind::Prometheus => "prometheus",
            UpstreamKind::Jaeger => "jaeger",
            UpstreamKind::Kubernetes => "kubernetes",
            UpstreamKind::Grafana => "grafana",
            UpstreamKind::Kiali => "kiali",
        }
    }

    /// Sends `request` (with the configured credentials if `authorized`)
    /// in a span of its own, counted in meshdeck's metrics: the answer's
    /// head, and the span, which the caller keeps while it reads the body.
    async fn send(
        &self,
        operation: &'static str,
        request: reqwest::RequestBuilder,
        authorized: bool,
    ) -> Result<(reqwest::Response, tracing::Span)> {
        let request = if authorized {
            self.authorized(request)
        } else {
            request
        };
        let request = request.build().map_err(|e| self.transport_error(e))?;
        let span = crate::spans::upstream(
            self.system(),
            operation,
            request.method().as_str(),
            self.base.host_str(),
            self.base.port_or_known_default(),
        );
        let started = std::time::Instant::now();
        let answer = self.client.execute(request).instrument(span.clone()).await;
        let outcome = match &answer {
            Ok(r) => {
                let status = r.status().as_u16();
                crate::spans::record_answer(&span, status);
                crate::selfmetrics::status_class(status)
            }
            Err(e) => {
                crate::spans::record_failure(&span, crate::spans::reqwest_failure(e));
                "error"
            }
        };
        crate::selfmetrics::global().upstream(self.system(), outcome, started.elapsed());
        answer
            .map(|r| (r, span))
            .map_err(|e| self.transport_error(e))
    }

    /// A failure while reading an answer's body, also marked on its span.
    fn read_error(&self, span: &tracing::Span, err: reqwest::Error) -> Error {
        crate::spans::record_failure(span, crate::spans::reqwest_failure(&err));
        self.transport_error(err)
    }

    /// `GET path?query`, expecting a 2xx JSON answer.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &'static str,
        query: &[(&str, &str)],
    ) -> Result<T> {
        let url = self.url(path)?;
        let (response, span) = self
            .send(path, self.client.get(url).query(query), true)
            .await?;
        let status = response.status();
        if !status.is_success() {
            return Err(self.unavailable(format!("{path} answered HTTP {}", status.as_u16())));
        }
        self.decode(path, response, &span).await
    }

    /// Like [`get_json`](Self::get_json), but a 401/403 counts as "there,
    /// behind authentication" and yields JSON `null`. Sent without the
    /// configured credentials.
    pub async fn get_json_or_auth_wall(&self, path: &'static str) -> Result<serde_json::Value> {
        let url = self.url(path)?;
        let (response, span) = self.send(path, self.client.get(url), false).await?;
        let status = response.status();
        if matches!(status.as_u16(), 401 | 403) {
            return Ok(serde_json::Value::Null);
        }
        if !status.is_success() {
            return Err(self.unavailable(format!("{path} answered HTTP {}", status.as_u16())));
        }
        self.decode(path, response, &span).await
    }

    async fn decode<T: DeserializeOwned>(
        &self,
        path: &str,
        response: reqwest::Response,
        span: &tracing::Span,
    ) -> Result<T> {
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.read_error(span, e))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            self.unavailable(format!(
                "{path} answered with something that is not the expected JSON ({e})"
            ))
        })
    }
}

/// `text` with `%XX` escapes decoded (as URL user info is stored).
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_leave_the_url_and_become_basic_auth() {
        let up = HttpUpstream::new(
            UpstreamKind::Jaeger,
            "http://ops:s%40cret@jaeger.internal:16686/jaeger"
                .parse()
                .unwrap(),
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(up.base().as_str(), "http://jaeger.internal:16686/jaeger/");
        match &up.auth {
            Some(UpstreamAuth::Basic { username, password }) => {
                assert_eq!((username.as_str(), password.as_str()), ("ops", "s@cret"));
            }
            other => panic!("{other:?}"),
        }
        // Flags for credentials win; none keeps the URL's.
        let kept = up.clone().with_auth(None);
        assert!(matches!(kept.auth, Some(UpstreamAuth::Basic { .. })));
        let bearer = up.with_auth(Some(UpstreamAuth::Bearer("t".into())));
        assert!(matches!(bearer.auth, Some(UpstreamAuth::Bearer(_))));
        assert_eq!(percent_decode("a%2Fb%zz%4"), "a/b%zz%4");
    }

    fn up(base: &str) -> HttpUpstream {
        HttpUpstream::new(
            UpstreamKind::Prometheus,
            base.parse().unwrap(),
            Duration::from_secs(1),
        )
        .unwrap()
    }

    #[test]
    fn paths_join_below_a_prefix() {
        assert_eq!(
            up("http://h:9090/prom")
                .url("api/v1/query")
                .unwrap()
                .as_str(),
            "http://h:9090/prom/api/v1/query"
        );
        assert_eq!(
            up("http://h:9090").url("/api/v1/query").unwrap().as_str(),
            "http://h:9090/api/v1/query"
        );
    }

    /// Serves `app` on a local port; returns an upstream for it.
    async fn serve(app: axum::Router) -> HttpUpstream {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        up(&format!("http://{addr}"))
    }

    #[tokio::test]
    async fn reading_stops_at_the_byte_limit() {
        use axum::body::{Body, Bytes};
        use axum::routing::get;
        const CHUNK: usize = 64 * 1024;
        let app = axum::Router::new()
            // Chunked, no length, and endless: only a reader that stops
            // at the limit ever gets an answer.
            .route(
                "/endless",
                get(|| async {
                    Body::from_stream(futures::stream::repeat_with(|| {
                        Ok::<_, std::convert::Infallible>(Bytes::from(vec![b'x'; CHUNK]))
                    }))
                }),
            )
            // Says how long it is: refused before reading.
            .route("/big", get(|| async { vec![b'y'; 3 * CHUNK] }))
            .route("/small", get(|| async { "0123456789" }));
        let upstream = serve(app).await;
        let fetch = |path: &str, max: usize| {
            let request = upstream.client().get(upstream.url(path).unwrap());
            let upstream = upstream.clone();
            async move { upstream.fetch_limited("test", request, max).await.unwrap() }
        };
        let started = std::time::Instant::now();
        assert_eq!(fetch("endless", 5 * CHUNK).await, (200, None));
        assert!(
            started.elapsed() < upstream.timeout(),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(fetch("big", 3 * CHUNK - 1).await, (200, None));
        let (status, body) = fetch("big", 3 * CHUNK).await;
        assert_eq!((status, body.map(|b| b.len())), (200, Some(3 * CHUNK)));
        // Exactly at the limit is fine; one byte over is not.
        assert_eq!(
            fetch("small", 10).await,
            (200, Some(Bytes::from_static(b"0123456789")))
        );
        assert_eq!(fetch("small", 9).await, (200, None));
        assert_eq!(fetch("small", 0).await, (200, None));
        assert_eq!(fetch("missing", 100).await, (404, Some(Bytes::new())));
    }

    #[test]
    fn non_http_schemes_are_refused() {
        let err = HttpUpstream::new(
            UpstreamKind::Jaeger,
            "ftp://h/".parse().unwrap(),
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(err.to_string().contains("http or https"), "{err}");
    }
}
