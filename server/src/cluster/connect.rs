//! Building kube-rs clients: meshdeck's own (from a kubeconfig, a context
//! or the in-cluster service account), one for long-lived watches (no read
//! timeout), and one per caller for writes (their bearer token, or
//! impersonation of the authenticated user behind an auth proxy).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use app::types::UpstreamKind;
use http::{HeaderMap, HeaderName, HeaderValue};
use kube::config::{AuthInfo, KubeConfigOptions, Kubeconfig};

use crate::error::{Error, Result};
use crate::upstream::Probe;

/// Where meshdeck's own client configuration comes from.
#[derive(Clone, Debug)]
pub enum Source<'a> {
    /// The pod's service account.
    InCluster,
    /// A kubeconfig file, with an optional context.
    File(&'a Path, Option<&'a str>),
    /// `$KUBECONFIG` or `~/.kube/config`, with an optional context; absent
    /// files mean "no cluster configured" rather than an error.
    Default(Option<&'a str>),
}

/// A bearer token that never shows up in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(String);

impl BearerToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        BearerToken(token.into())
    }

    /// The token itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

/// Whose credentials a request to the API server carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    /// The caller's own bearer token.
    Bearer(BearerToken),
    /// meshdeck's own credentials impersonating the user an auth proxy
    /// authenticated (the `impersonate` verb is all meshdeck needs).
    Impersonate {
        /// User name.
        user: String,
        /// Groups.
        groups: Vec<String>,
        /// Unique id, where the proxy gives one.
        uid: Option<String>,
        /// Extra attributes.
        extra: BTreeMap<String, Vec<String>>,
    },
}

/// Builds clients for callers: from meshdeck's kubeconfig (a real API
/// server), or by adding headers to an in-process API (the demo's
/// in-memory cluster, tests).
#[derive(Clone)]
pub enum Connector {
    /// meshdeck's own configuration; a caller's client replaces its
    /// credentials (client certificates, exec plugins and tokens alike).
    Config(Box<kube::Config>),
    /// An API in this process: `connect(headers)` gives a client whose every
    /// request carries `headers`; `own` are meshdeck's own credentials.
    InProcess {
        /// Header-adding client factory.
        connect: Arc<dyn Fn(HeaderMap) -> kube::Client + Send + Sync>,
        /// meshdeck's own credentials (an `Authorization` header).
        own: HeaderMap,
    },
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Connector::Config(c) => write!(f, "Connector::Config({})", c.cluster_url),
            Connector::InProcess { .. } => f.write_str("Connector::InProcess"),
        }
    }
}

impl Connector {
    /// A client acting with `credentials`.
    pub fn client_for(&self, credentials: &Credentials) -> Result<kube::Client> {
        match self {
            Connector::Config(base) => {
                let mut config = (**base).clone();
                match credentials {
                    Credentials::Bearer(token) => {
                        // Nothing of meshdeck's own identity may remain: a
                        // client certificate would authenticate first.
                        config.auth_info = AuthInfo {
                            token: Some(token.expose().to_owned().into()),
                            ..AuthInfo::default()
                        };
                    }
                    Credentials::Impersonate {
                        user,
                        groups,
                        uid,
                        extra,
                    } => {
                        config.auth_info.impersonate = Some(user.clone());
                        config.auth_info.impersonate_groups = Some(groups.clone());
                        config.auth_info.impersonate_uid = uid.clone();
                        config.auth_info.impersonate_user_extra = (!extra.is_empty())
                            .then(|| extra.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
                    }
                }
                kube::Client::try_from(config).map_err(|e| config_error("a caller's client", e))
            }
            Connector::InProcess { connect, own } => {
                let headers = match credentials {
                    Credentials::Bearer(token) => {
                        let mut h = HeaderMap::new();
                        h.insert(
                            http::header::AUTHORIZATION,
                            header_value(&format!("Bearer {}", token.expose()))?,
                        );
                        h
                    }
                    Credentials::Impersonate {
                        user,
                        groups,
                        uid,
                        extra,
                    } => {
                        let mut h = own.clone();
                        h.insert("impersonate-user", header_value(user)?);
                        for g in groups {
                            h.append("impersonate-group", header_value(g)?);
                        }
                        if let Some(uid) = uid {
                            h.insert("impersonate-uid", header_value(uid)?);
                        }
                        for (key, values) in extra {
                            let name = HeaderName::try_from(format!("impersonate-extra-{key}"))
                                .map_err(|_| {
                                    Error::Unauthenticated(format!(
                                        "the extra attribute {key:?} cannot be sent to Kubernetes"
                                    ))
                                })?;
                            for v in values {
                                h.append(name.clone(), header_value(v)?);
                            }
                        }
                        h
                    }
                };
                Ok(connect(headers))
            }
        }
    }
}

fn header_value(text: &str) -> Result<HeaderValue> {
    HeaderValue::from_str(text).map_err(|_| {
        Error::Unauthenticated(
            "the caller's identity has characters that cannot be sent to Kubernetes".into(),
        )
    })
}

/// meshdeck's own configuration, or `None` when no configuration exists.
pub async fn load_config(source: Source<'_>) -> Result<Option<kube::Config>> {
    let options = |context: Option<&str>| KubeConfigOptions {
        context: context.map(str::to_owned),
        ..KubeConfigOptions::default()
    };
    let config = match source {
        Source::InCluster => {
            kube::Config::incluster().map_err(|e| config_error("in-cluster", e))?
        }
        Source::File(path, context) => {
            let file = Kubeconfig::read_from(path)
                .map_err(|e| config_error(&path.display().to_string(), e))?;
            kube::Config::from_custom_kubeconfig(file, &options(context))
                .await
                .map_err(|e| config_error(&path.display().to_string(), e))?
        }
        Source::Default(context) => match Kubeconfig::from_env() {
            Ok(Some(file)) => kube::Config::from_custom_kubeconfig(file, &options(context))
                .await
                .map_err(|e| config_error("$KUBECONFIG", e))?,
            Ok(None) => match Kubeconfig::read() {
                Ok(file) => kube::Config::from_custom_kubeconfig(file, &options(context))
                    .await
                    .map_err(|e| config_error("~/.kube/config", e))?,
                Err(_) => return Ok(None),
            },
            Err(e) => return Err(config_error("$KUBECONFIG", e)),
        },
    };
    Ok(Some(config))
}

/// `config` connecting within `connect` and reading each answer within
/// `read` (`None` for watches: their answers are streams that stay open,
/// and kube-runtime's watcher restarts a stream that goes quiet itself).
pub fn with_timeouts(
    mut config: kube::Config,
    connect: Duration,
    read: Option<Duration>,
) -> kube::Config {
    config.connect_timeout = Some(connect);
    config.read_timeout = read;
    config.write_timeout = Some(connect);
    config
}

/// A client from `config`.
pub fn client(config: kube::Config) -> Result<kube::Client> {
    // Every call counted in meshdeck's own metrics, and in a span.
    let timing = crate::selfmetrics::KubeTiming::new(&config.cluster_url);
    kube::client::ClientBuilder::try_from(config)
        .map(|b| b.with_layer(&timing).build())
        .map_err(|e| config_error("client", e))
}

fn config_error(what: &str, err: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::internal_caused(format!("Kubernetes configuration ({what}): {err}"), err)
}

/// `GET /version` on the API server.
pub async fn probe(client: &kube::Client) -> Result<Probe> {
    let info = client
        .apiserver_version()
        .await
        .map_err(|e| Error::upstream(UpstreamKind::Kubernetes, e.to_string()))?;
    Ok(Probe {
        version: Some(info.git_version),
        detail: Some(format!("platform {}", info.platform)),
    })
}
