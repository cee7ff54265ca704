//! Auto-injection of new namespaces: while the mesh is enabled through
//! meshdeck and the settings ask for it, every namespace created after the
//! enable time gets `istio-injection=enabled`, unless it already carries
//! `istio-injection` (either value) or `istio.io/rev`. A watch on namespaces
//! (kube-runtime), not a poll; the watch restarts with backoff on errors,
//! and labelling is idempotent (a labelled namespace is left alone). The
//! label comes with the [`AUTO_INJECTED_ANNOTATION`] so that disabling the
//! mesh can take back exactly these labels.

use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::json;
use tokio::task::JoinHandle;

use super::{AUTO_INJECTED_ANNOTATION, INJECTION_LABEL, REVISION_LABEL, mesh, settings};
use crate::error::Result;

/// How long the mesh state and settings read for a decision are reused.
const POLICY_TTL: Duration = Duration::from_secs(5);
/// Pause before watching again if the watch stream ever ends.
const RESTART_DELAY: Duration = Duration::from_secs(5);

/// Whether new namespaces are labelled, and from when on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Namespaces created at or after this instant are labelled; `None`: off.
    pub since: Option<Timestamp>,
}

/// Reads the policy from the mesh state and the settings.
pub async fn policy(client: &kube::Client, settings_namespace: &str) -> Result<Policy> {
    let (state, _) = mesh::load_state(client, settings_namespace).await?;
    if !state.enabled {
        return Ok(Policy { since: None });
    }
    let (settings, _) = settings::load(client, settings_namespace).await?;
    let since = settings
        .auto_inject_new_namespaces
        .then(|| {
            state
                .enabled_at
                .as_deref()
                .and_then(|t| t.parse::<Timestamp>().ok())
        })
        .flatten();
    Ok(Policy { since })
}

/// Whether `ns` should get the injection label under `policy`.
pub fn wants_label(policy: &Policy, ns: &Namespace) -> bool {
    let Some(since) = policy.since else {
        return false;
    };
    let explicit = has_explicit_label(ns);
    let created = ns.metadata.creation_timestamp.as_ref().map(|t| t.0);
    !explicit && ns.metadata.deletion_timestamp.is_none() && created.is_some_and(|c| c >= since)
}

/// The namespace already says what it wants (`istio-injection` or `istio.io/rev`).
fn has_explicit_label(ns: &Namespace) -> bool {
    ns.metadata
        .labels
        .as_ref()
        .is_some_and(|l| l.contains_key(INJECTION_LABEL) || l.contains_key(REVISION_LABEL))
}

/// Labels `ns` if the policy wants it; `Ok(true)` when it did.
pub async fn reconcile(client: &kube::Client, policy: &Policy, ns: &Namespace) -> Result<bool> {
    if !wants_label(policy, ns) {
        return Ok(false);
    }
    let Some(name) = ns.metadata.name.as_deref() else {
        return Ok(false);
    };
    // The resourceVersion makes this lose against a concurrent explicit
    // label: the next event re-decides on the new object.
    let patch = json!({"metadata": {
        "resourceVersion": ns.metadata.resource_version,
        "labels": {INJECTION_LABEL: "enabled"},
        "annotations": {AUTO_INJECTED_ANNOTATION: Timestamp::now().to_string()},
    }});
    match Api::<Namespace>::all(client.clone())
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => {
            tracing::info!(
                namespace = name,
                "new namespace labelled for sidecar injection"
            );
            Ok(true)
        }
        Err(kube::Error::Api(s)) if s.code == 409 || s.code == 404 => Ok(false),
        Err(e) => Err(super::kube_error(&format!("label namespace {name:?}"), e)),
    }
}

/// Runs the watch until the task is aborted.
pub async fn run(client: kube::Client, settings_namespace: String) {
    let mut cached: Option<(Instant, Policy)> = None;
    loop {
        let api = Api::<Namespace>::all(client.clone());
        let mut events = watcher::watcher(api, watcher::Config::default())
            .default_backoff()
            .boxed();
        while let Some(event) = events.next().await {
            let (ns, initial) = match event {
                Ok(Event::InitApply(ns)) => (ns, true),
                Ok(Event::Apply(ns)) => (ns, false),
                Ok(_) => continue,
                Err(err) => {
                    tracing::warn!(error = %err, "namespace watch failed; retrying with backoff");
                    continue;
                }
            };
            if has_explicit_label(&ns) {
                continue;
            }
            // The initial listing reuses one reading; a live event always
            // reads again, so an enable a moment ago is never missed.
            let fresh = cached
                .as_ref()
                .filter(|(at, _)| initial && at.elapsed() < POLICY_TTL)
                .map(|(_, p)| p.clone());
            let policy = match fresh {
                Some(p) => p,
                None => match policy(&client, &settings_namespace).await {
                    Ok(p) => {
                        cached = Some((Instant::now(), p.clone()));
                        p
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot read the mesh state for auto-injection");
                        continue;
                    }
                },
            };
            if let Err(err) = reconcile(&client, &policy, &ns).await {
                tracing::warn!(error = %err, "auto-injection failed");
            }
        }
        tracing::warn!("namespace watch ended; starting it again");
        tokio::time::sleep(RESTART_DELAY).await;
    }
}

/// Starts [`run`] in the background.
pub fn spawn(client: kube::Client, settings_namespace: String) -> JoinHandle<()> {
    tokio::spawn(run(client, settings_namespace))
}
