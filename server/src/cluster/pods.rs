//! Which pods carry Istio's sidecar: the one rule the graph, the
//! Namespaces page and enablement share.

use k8s_openapi::api::core::v1::Pod;

/// Name of the sidecar container.
pub const PROXY_CONTAINER: &str = "istio-proxy";

/// Whether `pod` runs the `istio-proxy` sidecar: as a regular container, or
/// as a native sidecar (an init container with `restartPolicy: Always`,
/// which Istio injects on Kubernetes 1.29 and later). An init container of
/// that name that runs to completion is not a sidecar.
pub fn has_sidecar(pod: &Pod) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return false;
    };
    spec.containers.iter().any(|c| c.name == PROXY_CONTAINER)
        || spec
            .init_containers
            .iter()
            .flatten()
            .any(|c| c.name == PROXY_CONTAINER && c.restart_policy.as_deref() == Some("Always"))
}

/// Whether `pod` counts as running: not finished and not being deleted.
pub fn is_live(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    !matches!(phase, Some("Succeeded" | "Failed")) && pod.metadata.deletion_timestamp.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec})).unwrap()
    }

    #[test]
    fn sidecars_are_containers_or_native_sidecars() {
        let app = json!({"name": "app", "image": "a"});
        let proxy = json!({"name": PROXY_CONTAINER, "image": "p"});
        assert!(!has_sidecar(&pod(json!({"containers": [app]}))));
        assert!(has_sidecar(&pod(json!({"containers": [app, proxy]}))));
        let native = json!({"name": PROXY_CONTAINER, "image": "p", "restartPolicy": "Always"});
        assert!(has_sidecar(&pod(
            json!({"containers": [app], "initContainers": [native]})
        )));
        // An init container of that name that exits is not a sidecar.
        assert!(!has_sidecar(&pod(
            json!({"containers": [app], "initContainers": [proxy]})
        )));
        let mut no_spec = pod(json!({"containers": []}));
        no_spec.spec = None;
        assert!(!has_sidecar(&no_spec));
    }
}
