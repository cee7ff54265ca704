//! Auto-injection of new namespaces, as a kube-runtime controller: while
//! the mesh is enabled through meshdeck and the settings ask for it, every
//! namespace created at or after the enable time gets sidecar injection
//! (`istio-injection=enabled`, or `istio.io/rev=<revision>` where the
//! control plane runs a revision), unless it already carries
//! `istio-injection` (either value) or `istio.io/rev`. The label comes with
//! the [`AUTO_INJECTED_ANNOTATION`] so that disabling the mesh can take
//! back exactly these labels.
//!
//! The controller watches namespaces with meshdeck's watch client (no read
//! timeout: a quiet cluster does not end the watch) and keeps the policy
//! from a reflector on meshdeck's own ConfigMaps (the mesh state and the
//! settings), re-checking every namespace when they change. A failed label
//! is retried with backoff. Of several replicas, only the one holding the
//! controllers' Lease runs it ([`crate::cluster::lease`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher;
use serde_json::{Value, json};

use super::injection::{cluster_revision, desired_namespace_labels, map_patch};
use super::{AUTO_INJECTED_ANNOTATION, INJECTION_LABEL, REVISION_LABEL, mesh, settings};
use crate::cluster::apply::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use crate::cluster::ops::patch_params;
use crate::cluster::{Acting, Cluster, api_error};
use crate::error::{Error, Result};

/// Longest wait between retries of a namespace that failed to label.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Whether new namespaces are labelled, and from when on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Namespaces created at or after this instant are labelled; `None`: off.
    pub since: Option<Timestamp>,
}

/// The policy the mesh state and the settings ConfigMaps give (either may
/// be missing: then auto-injection is off, or on by default).
pub fn policy_from(state: Option<&ConfigMap>, settings_cm: Option<&ConfigMap>) -> Policy {
    let state = state
        .and_then(|cm| mesh::parse_state(cm).ok())
        .unwrap_or_default();
    if !state.enabled {
        return Policy { since: None };
    }
    let auto = match settings_cm {
        Some(cm) => settings::parse(cm).settings.auto_inject_new_namespaces,
        None => app::types::MeshSettings::default().auto_inject_new_namespaces,
    };
    let since = auto
        .then(|| {
            state
                .enabled_at
                .as_deref()
                .and_then(|t| t.parse::<Timestamp>().ok())
        })
        .flatten();
    Policy { since }
}

/// Whether `ns` should get the injection label under `policy`.
pub fn wants_label(policy: &Policy, ns: &Namespace) -> bool {
    let Some(since) = policy.since else {
        return false;
    };
    let explicit = ns
        .metadata
        .labels
        .as_ref()
        .is_some_and(|l| l.contains_key(INJECTION_LABEL) || l.contains_key(REVISION_LABEL));
    let created = ns.metadata.creation_timestamp.as_ref().map(|t| t.0);
    !explicit && ns.metadata.deletion_timestamp.is_none() && created.is_some_and(|c| c >= since)
}

/// What the controller needs while it runs.
struct Context {
    client: kube::Client,
    settings_namespace: String,
    configmaps: Store<ConfigMap>,
    failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    fn policy(&self) -> Policy {
        let get = |name: &str| {
            self.configmaps
                .get(&reflector::ObjectRef::new(name).within(&self.settings_namespace))
        };
        policy_from(
            get(mesh::STATE_CONFIGMAP).as_deref(),
            get(settings::SETTINGS_CONFIGMAP).as_deref(),
        )
    }
}

/// Labels `ns` when the policy wants it.
async fn reconcile(ns: Arc<Namespace>, ctx: Arc<Context>) -> Result<Action> {
    let policy = ctx.policy();
    let Some(name) = ns.metadata.name.clone() else {
        return Ok(Action::await_change());
    };
    if !wants_label(&policy, &ns) {
        return Ok(Action::await_change());
    }
    label(&ctx.client, &ns, &name).await?;
    crate::selfmetrics::global().reconcile("autoinject", "ok");
    ctx.failures
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&name);
    Ok(Action::await_change())
}

/// The patch: the injection label for the cluster's revision and the mark,
/// against the namespace's resourceVersion (a concurrent explicit label
/// wins; the next event decides again on the new object).
pub async fn label(client: &kube::Client, ns: &Namespace, name: &str) -> Result<bool> {
    let revision = cluster_revision(client).await?;
    let before = ns.metadata.labels.clone().unwrap_or_default();
    let after = desired_namespace_labels(&before, true, revision.as_deref());
    // The mark records the label as set, so that disabling takes back
    // exactly that label while it is unchanged.
    let mark = match after.get(REVISION_LABEL) {
        Some(rev) => format!("{REVISION_LABEL}={rev}"),
        None => format!("{INJECTION_LABEL}=enabled"),
    };
    let patch = json!({"metadata": {
        "resourceVersion": ns.metadata.resource_version,
        "labels": Value::Object(map_patch(&before, &after)),
        "annotations": {AUTO_INJECTED_ANNOTATION: mark},
    }});
    match Api::<Namespace>::all(client.clone())
        .patch(name, &patch_params(false), &kube::api::Patch::Merge(&patch))
        .await
    {
        Ok(_) => {
            tracing::info!(namespace = name, revision = ?revision, "new namespace labelled for sidecar injection");
            Ok(true)
        }
        Err(kube::Error::Api(s)) if s.code == 409 || s.code == 404 => Ok(false),
        Err(e) => Err(api_error(
            &format!("label namespace {name:?} for injection"),
            Acting::Meshdeck,
            e,
        )),
    }
}

/// Retries a failed namespace with exponential backoff (1 s, 2 s, ... 60 s).
fn error_policy(ns: Arc<Namespace>, err: &Error, ctx: Arc<Context>) -> Action {
    crate::selfmetrics::global().reconcile("autoinject", "error");
    let name = ns.metadata.name.clone().unwrap_or_default();
    let mut failures = ctx.failures.lock().unwrap_or_else(|e| e.into_inner());
    let n = failures.entry(name.clone()).or_insert(0);
    *n = n.saturating_add(1);
    let wait = Duration::from_secs(1u64 << (*n - 1).min(6)).min(MAX_BACKOFF);
    tracing::warn!(namespace = %name, error = %err, retry_in_s = wait.as_secs(), "auto-injection failed; retrying");
    Action::requeue(wait)
}

/// Runs the controller until the task is aborted.
pub async fn run(cluster: Cluster, settings_namespace: String) {
    let watch_client = cluster.watcher().clone();
    let (configmaps, writer) = reflector::store();
    let selector = format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}");
    let settings_changes = reflector::reflector(
        writer,
        watcher::watcher(
            Api::<ConfigMap>::namespaced(watch_client.clone(), &settings_namespace),
            watcher::Config::default().labels(&selector),
        ),
    )
    .default_backoff()
    .touched_objects()
    .filter_map(|cm| async move {
        match cm {
            Ok(_) => Some(()),
            Err(err) => {
                tracing::warn!(error = %err, "watching meshdeck's ConfigMaps failed; retrying with backoff");
                None
            }
        }
    });
    let context = Arc::new(Context {
        client: cluster.own().clone(),
        settings_namespace,
        configmaps,
        failures: Mutex::new(HashMap::new()),
    });
    Controller::new(
        Api::<Namespace>::all(watch_client),
        watcher::Config::default(),
    )
    .reconcile_all_on(settings_changes)
    .run(reconcile, error_policy, context)
    .for_each(|outcome| async move {
        if let Err(err) = outcome {
            tracing::debug!(error = %err, "auto-injection controller event");
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn namespace(created: &str, labels: Value) -> Namespace {
        serde_json::from_value(json!({"metadata": {
            "name": "n", "creationTimestamp": created, "labels": labels,
        }}))
        .unwrap()
    }

    fn configmap(name: &str, key: &str, value: Value) -> ConfigMap {
        serde_json::from_value(json!({"metadata": {"name": name, "namespace": "meshdeck"},
            "data": {key: value.to_string()}}))
        .unwrap()
    }

    #[test]
    fn the_policy_follows_the_state_and_settings() {
        let state = configmap(
            mesh::STATE_CONFIGMAP,
            mesh::STATE_KEY,
            json!({"enabled": true, "enabled_at": "2026-01-01T00:00:00Z", "created": []}),
        );
        let since = Some("2026-01-01T00:00:00Z".parse::<Timestamp>().unwrap());
        assert_eq!(policy_from(Some(&state), None).since, since);
        let off = app::types::MeshSettings {
            auto_inject_new_namespaces: false,
            ..Default::default()
        };
        let settings_cm = configmap(
            settings::SETTINGS_CONFIGMAP,
            settings::SETTINGS_KEY,
            serde_json::to_value(&off).unwrap(),
        );
        assert_eq!(policy_from(Some(&state), Some(&settings_cm)).since, None);
        assert_eq!(policy_from(None, None).since, None);
        let broken = configmap(mesh::STATE_CONFIGMAP, mesh::STATE_KEY, json!("nonsense"));
        assert_eq!(policy_from(Some(&broken), None).since, None);
    }

    #[test]
    fn only_new_unlabelled_namespaces_are_wanted() {
        let policy = Policy {
            since: Some("2026-01-01T00:00:00Z".parse().unwrap()),
        };
        assert!(wants_label(
            &policy,
            &namespace("2026-01-01T00:00:00Z", json!({}))
        ));
        assert!(!wants_label(
            &policy,
            &namespace("2025-12-31T23:59:59Z", json!({}))
        ));
        assert!(!wants_label(
            &policy,
            &namespace("2026-02-01T00:00:00Z", json!({INJECTION_LABEL: "disabled"}))
        ));
        assert!(!wants_label(
            &policy,
            &namespace("2026-02-01T00:00:00Z", json!({REVISION_LABEL: "canary"}))
        ));
        assert!(!wants_label(
            &Policy { since: None },
            &namespace("2026-02-01T00:00:00Z", json!({}))
        ));
    }
}
