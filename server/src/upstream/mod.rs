//! Clients for the outside systems. Each sits behind a small module with a
//! client built from a base address and a timeout; handlers never build
//! upstream requests themselves.

pub mod http;
pub mod jaeger;
pub mod prometheus;

use std::time::Duration;

use app::types::{ToolLink, ToolUrls, UpstreamKind, UpstreamStatus};

use self::http::HttpUpstream;
use self::jaeger::JaegerClient;
use self::prometheus::PrometheusClient;
use crate::cluster::Cluster;
use crate::config::UpstreamArgs;
use crate::error::Result;
use crate::run::StartupError;

/// Every upstream meshdeck was configured with.
#[derive(Clone, Default)]
pub struct Upstreams {
    /// The Kubernetes API server.
    pub kube: Option<Cluster>,
    /// A Prometheus-compatible API.
    pub prometheus: Option<PrometheusClient>,
    /// A Jaeger query service.
    pub jaeger: Option<JaegerClient>,
    /// Grafana's UI (probed, linked).
    pub grafana: Option<HttpUpstream>,
    /// Kiali's UI (probed, linked).
    pub kiali: Option<HttpUpstream>,
}

impl Upstreams {
    /// HTTP clients for the configured URLs; Kubernetes is set separately.
    pub fn from_args(args: &UpstreamArgs, timeout: Duration) -> Result<Self, StartupError> {
        let http = |kind, url: &Option<url::Url>| {
            url.clone()
                .map(|u| HttpUpstream::new(kind, u, timeout))
                .transpose()
        };
        Ok(Upstreams {
            kube: None,
            prometheus: http(UpstreamKind::Prometheus, &args.prometheus_url)?
                .map(|u| u.with_auth(prometheus_auth(args)))
                .map(PrometheusClient::new),
            jaeger: http(UpstreamKind::Jaeger, &args.jaeger_url)?.map(|u| {
                let api = match args.jaeger_api {
                    crate::config::JaegerApiArg::Auto => None,
                    crate::config::JaegerApiArg::V1 => Some(jaeger::JaegerApi::V1),
                    crate::config::JaegerApiArg::V3 => Some(jaeger::JaegerApi::V3),
                };
                JaegerClient::new(u, api)
            }),
            grafana: http(UpstreamKind::Grafana, &args.grafana_url)?,
            kiali: http(UpstreamKind::Kiali, &args.kiali_url)?,
        })
    }

    /// Probes every upstream concurrently; one entry per [`UpstreamKind::ALL`].
    pub async fn probe_all(&self) -> Vec<UpstreamStatus> {
        let (kube, prom, jaeger, grafana, kiali) = tokio::join!(
            probe_opt(
                UpstreamKind::Kubernetes,
                self.kube.as_ref().map(Cluster::own),
                crate::cluster::connect::probe
            ),
            probe_opt(
                UpstreamKind::Prometheus,
                self.prometheus.as_ref(),
                PrometheusClient::probe
            ),
            probe_opt(
                UpstreamKind::Jaeger,
                self.jaeger.as_ref(),
                JaegerClient::probe
            ),
            probe_opt(UpstreamKind::Grafana, self.grafana.as_ref(), probe_grafana),
            probe_opt(UpstreamKind::Kiali, self.kiali.as_ref(), probe_kiali),
        );
        vec![kube, prom, jaeger, grafana, kiali]
    }

    /// Links to the external UIs that have a URL configured.
    pub fn links(&self) -> Vec<ToolLink> {
        let http = [
            self.kiali.as_ref(),
            self.jaeger.as_ref().map(JaegerClient::upstream),
            self.grafana.as_ref(),
            self.prometheus.as_ref().map(PrometheusClient::upstream),
        ];
        http.into_iter()
            .flatten()
            .map(|u| ToolLink {
                kind: u.kind(),
                url: u.base().to_string(),
            })
            .collect()
    }
}

/// A URL fit to show people: without user name and password (settings
/// written before they were refused, a hand-edited ConfigMap); text that
/// does not parse as a URL is not a link at all.
fn public_url(text: &str) -> Option<String> {
    let mut url = url::Url::parse(text).ok()?;
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Some(url.to_string())
}

/// The links browsers get: per tool, the URL saved in the mesh settings
/// (where people open the tool) when one is saved, else the URL meshdeck
/// itself reaches it at (whose credentials were taken out when it was
/// configured). Never with credentials. Kiali, Jaeger, Grafana, Prometheus
/// in that order.
pub fn tool_links(configured: Vec<ToolLink>, saved: Option<&ToolUrls>) -> Vec<ToolLink> {
    [
        UpstreamKind::Kiali,
        UpstreamKind::Jaeger,
        UpstreamKind::Grafana,
        UpstreamKind::Prometheus,
    ]
    .into_iter()
    .filter_map(|kind| {
        let saved = saved
            .map(|urls| match kind {
                UpstreamKind::Kiali => urls.kiali.trim(),
                UpstreamKind::Jaeger => urls.jaeger.trim(),
                UpstreamKind::Grafana => urls.grafana.trim(),
                _ => urls.prometheus.trim(),
            })
            .filter(|url| !url.is_empty());
        let url = match saved {
            Some(url) => url.to_owned(),
            None => configured.iter().find(|l| l.kind == kind)?.url.clone(),
        };
        Some(ToolLink {
            kind,
            url: public_url(&url)?,
        })
    })
    .collect()
}

fn prometheus_auth(args: &UpstreamArgs) -> Option<http::UpstreamAuth> {
    if let Some(token) = &args.prometheus_bearer_token {
        return Some(http::UpstreamAuth::Bearer(token.clone()));
    }
    match (&args.prometheus_username, &args.prometheus_password) {
        (Some(username), Some(password)) => Some(http::UpstreamAuth::Basic {
            username: username.clone(),
            password: password.clone(),
        }),
        _ => None,
    }
}

/// The outcome of one probe of a configured upstream.
#[derive(Debug, Default)]
pub struct Probe {
    /// The version it reported, if it reports one.
    pub version: Option<String>,
    /// Remarks worth showing even when reachable.
    pub detail: Option<String>,
}

async fn probe_opt<'a, C, F, Fut>(
    kind: UpstreamKind,
    client: Option<&'a C>,
    probe: F,
) -> UpstreamStatus
where
    F: FnOnce(&'a C) -> Fut,
    Fut: Future<Output = Result<Probe>>,
{
    let Some(client) = client else {
        return UpstreamStatus {
            kind,
            configured: false,
            reachable: None,
            version: None,
            latency_ms: None,
            detail: None,
        };
    };
    let started = std::time::Instant::now();
    let outcome = probe(client).await;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match outcome {
        Ok(p) => UpstreamStatus {
            kind,
            configured: true,
            reachable: Some(true),
            version: p.version,
            latency_ms: Some(latency_ms),
            detail: p.detail,
        },
        Err(err) => UpstreamStatus {
            kind,
            configured: true,
            reachable: Some(false),
            version: None,
            latency_ms: None,
            detail: Some(match err {
                crate::error::Error::Upstream { reason, .. } => reason,
                other => other.to_string(),
            }),
        },
    }
}

/// Grafana's `/api/health` answers `{"database":"ok","version":"..."}`.
async fn probe_grafana(up: &HttpUpstream) -> Result<Probe> {
    #[derive(serde::Deserialize)]
    struct Health {
        version: Option<String>,
    }
    let health: Health = up.get_json("api/health", &[]).await?;
    Ok(Probe {
        version: health.version,
        detail: None,
    })
}

/// Kiali's `/api/status` answers `{"status":{"Kiali version":"..."}, ...}`;
/// with authentication on it may answer 401, which still proves it is there.
async fn probe_kiali(up: &HttpUpstream) -> Result<Probe> {
    let status: serde_json::Value = up.get_json_or_auth_wall("api/status").await?;
    let version = status
        .pointer("/status/Kiali version")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    Ok(Probe {
        version,
        detail: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(kind: UpstreamKind, url: &str) -> ToolLink {
        ToolLink {
            kind,
            url: url.into(),
        }
    }

    #[test]
    fn saved_urls_win_per_tool_and_blank_ones_fall_back() {
        let configured = vec![
            link(UpstreamKind::Jaeger, "http://jaeger.svc:16686/"),
            link(UpstreamKind::Prometheus, "http://prometheus.svc:9090/"),
        ];
        assert_eq!(tool_links(configured.clone(), None), configured);
        let saved = ToolUrls {
            prometheus: "https://prom.example.com".into(),
            jaeger: "   ".into(),
            grafana: String::new(),
            kiali: " https://kiali.example.com ".into(),
        };
        assert_eq!(
            tool_links(configured, Some(&saved)),
            [
                link(UpstreamKind::Kiali, "https://kiali.example.com/"),
                link(UpstreamKind::Jaeger, "http://jaeger.svc:16686/"),
                link(UpstreamKind::Prometheus, "https://prom.example.com/"),
            ]
        );
        // Credentials never reach a link, whoever wrote them where.
        let sneaky = ToolUrls {
            grafana: "https://admin:hunter2@grafana.example.com/d/x".into(),
            kiali: "not a url".into(),
            ..ToolUrls::default()
        };
        assert_eq!(
            tool_links(Vec::new(), Some(&sneaky)),
            [link(
                UpstreamKind::Grafana,
                "https://grafana.example.com/d/x"
            )]
        );
    }
}
