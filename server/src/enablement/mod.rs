//! Switching the mesh on and off: sidecar injection for namespaces and
//! workloads, the mesh settings stored in the cluster, the preflight of a
//! plan against the nodes, and the Kubernetes calls behind them. Handlers in
//! `routes/` call these functions; none of them builds a request itself.

pub mod autoinject;
pub mod injection;
pub mod mesh;
pub mod quantity;
pub mod settings;

use app::types::UpstreamKind;

use crate::error::Error;

/// Namespace label that turns injection on.
pub const INJECTION_LABEL: &str = "istio-injection";
/// Namespace label selecting a control-plane revision (turns injection on too).
pub const REVISION_LABEL: &str = "istio.io/rev";
/// Pod template annotation (or label) overriding injection per workload.
pub const INJECT_ANNOTATION: &str = "sidecar.istio.io/inject";
/// Pod template annotation `kubectl rollout restart` sets.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";
/// Name of the sidecar container.
pub const PROXY_CONTAINER: &str = "istio-proxy";
/// Istio's control-plane namespace.
pub const ISTIO_SYSTEM: &str = "istio-system";
/// Namespace annotation marking an injection label meshdeck's auto-injection
/// set (value: when); disabling the mesh removes such labels, and an
/// explicit switch of the namespace drops the mark.
pub const AUTO_INJECTED_ANNOTATION: &str = "meshdeck.io/auto-injected";
/// Label meshdeck puts on everything it creates.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY_LABEL`] on meshdeck's objects.
pub const MANAGED_BY_VALUE: &str = "meshdeck";

/// A failed Kubernetes call: the API server's own status where it has a
/// meaning for the caller (404, 409, 422), else 503 naming what failed.
pub fn kube_error(what: &str, err: kube::Error) -> Error {
    match &err {
        kube::Error::Api(status) if status.code == 404 => {
            Error::NotFound(format!("{what}: {}", status.message))
        }
        kube::Error::Api(status) if status.code == 409 => Error::Conflict(format!(
            "{what}: {} (someone else changed it; reload and try again)",
            status.message
        )),
        kube::Error::Api(status) if status.code == 422 || status.code == 400 => {
            Error::Invalid(format!("{what}: {}", status.message))
        }
        kube::Error::Api(status) if status.code == 401 || status.code == 403 => {
            tracing::warn!(error = %err, "Kubernetes refused meshdeck's own account");
            Error::Upstream {
                upstream: UpstreamKind::Kubernetes,
                reason: format!(
                    "meshdeck's own Kubernetes account may not {what} (HTTP {}); see the README for the RBAC it needs",
                    status.code
                ),
            }
        }
        kube::Error::Api(status) => Error::Upstream {
            upstream: UpstreamKind::Kubernetes,
            reason: format!("{what} failed: {} (HTTP {})", status.message, status.code),
        },
        other => {
            tracing::warn!(error = %other, "Kubernetes call failed");
            Error::Upstream {
                upstream: UpstreamKind::Kubernetes,
                reason: format!("{what} failed: {other}"),
            }
        }
    }
}

/// The Kubernetes client, or 503 when no cluster is configured.
pub fn client(state: &crate::state::AppState) -> crate::error::Result<kube::Client> {
    state
        .upstreams()
        .kube
        .clone()
        .ok_or_else(|| Error::Upstream {
            upstream: UpstreamKind::Kubernetes,
            reason: "no cluster is configured (pass --kubeconfig or --in-cluster)".into(),
        })
}
