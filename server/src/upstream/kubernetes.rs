//! Reaching the Kubernetes API through kube-rs: client construction from a
//! kubeconfig, a context or the in-cluster service account.

use std::path::Path;
use std::time::Duration;

use app::types::UpstreamKind;
use kube::config::{KubeConfigOptions, Kubeconfig};

use super::Probe;
use crate::error::{Error, Result};

/// Where the client's configuration comes from.
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

/// Builds a client, or `None` when no configuration exists at all.
pub async fn client(source: Source<'_>, timeout: Duration) -> Result<Option<kube::Client>> {
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
    let mut config = config;
    config.connect_timeout = Some(timeout);
    config.read_timeout = Some(timeout);
    config.write_timeout = Some(timeout);
    kube::Client::try_from(config)
        .map(Some)
        .map_err(|e| config_error("client", e))
}

fn config_error(what: &str, err: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Internal {
        context: format!("Kubernetes configuration ({what}): {err}"),
        source: Some(Box::new(err)),
    }
}

/// `GET /version` on the API server.
pub async fn probe(client: &kube::Client) -> Result<Probe> {
    let info = client
        .apiserver_version()
        .await
        .map_err(|e| Error::Upstream {
            upstream: UpstreamKind::Kubernetes,
            reason: e.to_string(),
        })?;
    Ok(Probe {
        version: Some(info.git_version),
        detail: Some(format!("platform {}", info.platform)),
    })
}
