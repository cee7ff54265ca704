//! Sidecar injection for namespaces (a label) and workloads (a restart, or
//! an opt-out annotation and a restart), and the per-workload sidecar status
//! read from the running pods.
//!
//! Reads use meshdeck's account; every change is written with the caller's
//! own credentials, so Kubernetes RBAC decides and its audit log names the
//! person. A change is a JSON merge patch of only the keys meshdeck owns,
//! with the object's resourceVersion as a precondition: labels and
//! annotations others wrote are never sent, and a concurrent write makes the
//! patch fail with 409, after which the change is recomputed from a fresh
//! read ([`crate::cluster::ops::patch_fresh`]).

use std::collections::{BTreeMap, BTreeSet};

use app::types::{
    InjectionChange, NamespaceInjection, NamespaceList, SidecarState, WorkloadInjection,
    WorkloadKind,
};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use serde_json::{Map, Value, json};

use super::{
    AUTO_INJECTED_ANNOTATION, INJECT_ANNOTATION, INJECTION_LABEL, ISTIO_SYSTEM, REVISION_LABEL,
};
use crate::cluster::ops::{self, Decision, RESTARTED_AT};
use crate::cluster::{Acting, api_error, pods};
use crate::error::{Error, Result};

/// The revision name that means "no revision" (plain `istio-injection`).
const DEFAULT_REVISION: &str = "default";

/// The API resource of a workload kind.
pub fn api_resource(kind: WorkloadKind) -> ApiResource {
    match kind {
        WorkloadKind::Deployment => ApiResource::erase::<Deployment>(&()),
        WorkloadKind::StatefulSet => ApiResource::erase::<StatefulSet>(&()),
        WorkloadKind::DaemonSet => ApiResource::erase::<DaemonSet>(&()),
    }
}

fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether namespace labels switch injection on.
pub fn namespace_injects(labels: &BTreeMap<String, String>) -> bool {
    labels.get(INJECTION_LABEL).map(String::as_str) == Some("enabled")
        || (labels.contains_key(REVISION_LABEL)
            && labels.get(INJECTION_LABEL).map(String::as_str) != Some("disabled"))
}

/// The labels a namespace should carry: injection on with `revision` (a
/// revision other than `default`) or the plain label, or off. Never both
/// labels; an existing `istio.io/rev` is kept when switching on.
pub fn desired_namespace_labels(
    before: &BTreeMap<String, String>,
    enabled: bool,
    revision: Option<&str>,
) -> BTreeMap<String, String> {
    let mut after = before.clone();
    if !enabled {
        after.remove(INJECTION_LABEL);
        after.remove(REVISION_LABEL);
        return after;
    }
    if after.contains_key(REVISION_LABEL) {
        after.remove(INJECTION_LABEL);
    } else if let Some(rev) = revision.filter(|r| *r != DEFAULT_REVISION) {
        after.remove(INJECTION_LABEL);
        after.insert(REVISION_LABEL.into(), rev.to_owned());
    } else {
        after.insert(INJECTION_LABEL.into(), "enabled".into());
    }
    after
}

/// The merge-patch map turning `before` into `after` (`null` removes a key);
/// empty when they are equal.
pub fn map_patch(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Map<String, Value> {
    let mut patch = Map::new();
    for (k, v) in after {
        if before.get(k) != Some(v) {
            patch.insert(k.clone(), Value::String(v.clone()));
        }
    }
    for k in before.keys() {
        if !after.contains_key(k) {
            patch.insert(k.clone(), Value::Null);
        }
    }
    patch
}

/// The control plane's revision, from istiod Deployments in `istio-system`
/// labelled `istio.io/rev` (`None` for `default` or when there is none or
/// several). Read with meshdeck's account.
pub async fn cluster_revision(client: &kube::Client) -> Result<Option<String>> {
    let api = Api::<Deployment>::namespaced(client.clone(), ISTIO_SYSTEM);
    let list = match api.list(&ListParams::default().labels("app=istiod")).await {
        Ok(list) => list,
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(None),
        Err(e) => return Err(api_error("list istiod deployments", Acting::Meshdeck, e)),
    };
    let revisions: BTreeSet<String> = list
        .items
        .iter()
        .filter_map(|d| d.metadata.labels.as_ref()?.get(REVISION_LABEL).cloned())
        .collect();
    let mut named = revisions.into_iter().filter(|r| r != DEFAULT_REVISION);
    match (named.next(), named.next()) {
        (Some(rev), None) => Ok(Some(rev)),
        _ => Ok(None),
    }
}

/// Switches injection on or off for namespace `ns` (or, with `dry_run`,
/// says what that would change): read with meshdeck's client `own`,
/// written with the caller's client `caller`.
pub async fn set_namespace_injection(
    own: &kube::Client,
    caller: &kube::Client,
    ns: &str,
    enabled: bool,
    dry_run: bool,
) -> Result<InjectionChange> {
    let revision = cluster_revision(own).await?;
    let target = format!("namespace/{ns}");
    let field = "metadata.labels".to_owned();
    let state = if enabled { "on" } else { "off" };
    let outcome = ops::patch_fresh(
        &Api::<Namespace>::all(own.clone()),
        &Api::<Namespace>::all(caller.clone()),
        Acting::Caller,
        ns,
        &format!("namespace {ns:?}"),
        dry_run,
        |current: &Namespace| {
            let before = current.metadata.labels.clone().unwrap_or_default();
            let after = desired_namespace_labels(&before, enabled, revision.as_deref());
            let labels = map_patch(&before, &after);
            // An explicit choice replaces auto-injection's: drop its mark.
            let auto_marked = current
                .metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(AUTO_INJECTED_ANNOTATION));
            if labels.is_empty() && !auto_marked {
                return Ok(Decision::Unchanged((before, after)));
            }
            let mut patch = json!({"metadata": {"labels": labels}});
            if auto_marked {
                patch["metadata"]["annotations"] = json!({AUTO_INJECTED_ANNOTATION: null});
            }
            Ok(Decision::Patch(patch, (before, after)))
        },
    )
    .await?;
    let (before, after) = outcome.outcome;
    let Some(patched) = outcome.after else {
        return Ok(InjectionChange {
            target,
            field,
            dry_run,
            changed: false,
            patch: None,
            summary: format!(
                "Sidecar injection for namespace {ns} is already {state}; nothing to change"
            ),
            before,
            after,
        });
    };
    let verb = if dry_run { "Would switch" } else { "Switched" };
    Ok(InjectionChange {
        target,
        field,
        dry_run,
        changed: true,
        patch: outcome.patch.map(|p| p.to_string()),
        summary: format!(
            "{verb} sidecar injection for namespace {ns} {state}; pods created from now on {} the sidecar (running pods keep what they have until restarted)",
            if enabled { "get" } else { "do not get" }
        ),
        before,
        after: patched.metadata.labels.unwrap_or_default(),
    })
}

/// A workload's pod template and selector, whatever its kind.
struct Workload {
    kind: WorkloadKind,
    name: String,
    selector: BTreeMap<String, String>,
    template_labels: BTreeMap<String, String>,
    template_annotations: BTreeMap<String, String>,
}

impl Workload {
    fn from_object(kind: WorkloadKind, obj: &DynamicObject) -> Option<Self> {
        let data = &obj.data;
        Some(Workload {
            kind,
            name: obj.metadata.name.clone()?,
            selector: string_map(data.pointer("/spec/selector/matchLabels")),
            template_labels: string_map(data.pointer("/spec/template/metadata/labels")),
            template_annotations: string_map(data.pointer("/spec/template/metadata/annotations")),
        })
    }

    fn opted_out(&self) -> bool {
        self.template_annotations
            .get(INJECT_ANNOTATION)
            .map(String::as_str)
            == Some("false")
            || self
                .template_labels
                .get(INJECT_ANNOTATION)
                .map(String::as_str)
                == Some("false")
    }

    /// Pods (by their labels and proxy presence) this workload selects.
    fn select<'a>(&self, pods: &'a [PodSummary]) -> Vec<&'a PodSummary> {
        if self.selector.is_empty() {
            return Vec::new();
        }
        pods.iter()
            .filter(|p| {
                self.selector
                    .iter()
                    .all(|(k, v)| p.labels.get(k) == Some(v))
            })
            .collect()
    }
}

/// What the status needs of a pod.
struct PodSummary {
    namespace: String,
    labels: BTreeMap<String, String>,
    has_proxy: bool,
}

fn summarize_pod(pod: &Pod) -> Option<PodSummary> {
    if !pods::is_live(pod) {
        return None;
    }
    Some(PodSummary {
        namespace: pod.metadata.namespace.clone()?,
        labels: pod.metadata.labels.clone().unwrap_or_default(),
        has_proxy: pods::has_sidecar(pod),
    })
}

fn status_of(workload: &Workload, pods: &[PodSummary]) -> WorkloadInjection {
    let selected = workload.select(pods);
    let total = u32::try_from(selected.len()).unwrap_or(u32::MAX);
    let with = u32::try_from(selected.iter().filter(|p| p.has_proxy).count()).unwrap_or(u32::MAX);
    WorkloadInjection {
        kind: workload.kind,
        name: workload.name.clone(),
        pods: total,
        pods_with_sidecar: with,
        sidecar: SidecarState::from_counts(total, with),
        opted_out: workload.opted_out(),
        may_restart: false,
    }
}

async fn list_workloads(
    client: &kube::Client,
    kind: WorkloadKind,
    namespace: Option<&str>,
) -> Result<Vec<(String, Workload)>> {
    let ar = api_resource(kind);
    let api: Api<DynamicObject> = match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    };
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| api_error(&format!("list {}", kind.plural()), Acting::Meshdeck, e))?;
    Ok(list
        .items
        .iter()
        .filter_map(|o| {
            Some((
                o.metadata.namespace.clone()?,
                Workload::from_object(kind, o)?,
            ))
        })
        .collect())
}

async fn list_pods(client: &kube::Client, namespace: Option<&str>) -> Result<Vec<PodSummary>> {
    let api: Api<Pod> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| api_error("list pods", Acting::Meshdeck, e))?;
    Ok(list.items.iter().filter_map(summarize_pod).collect())
}

/// Every namespace `visible` admits, with its injection state and workloads,
/// read with meshdeck's account. `project_of` names each namespace's
/// project. What the caller may change is filled in by the caller of this
/// function (it depends on who asks, not on the cluster).
pub async fn list_namespaces(
    client: &kube::Client,
    visible: impl Fn(&str) -> bool,
    project_of: impl Fn(&str) -> String,
) -> Result<NamespaceList> {
    let namespaces = Api::<Namespace>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map_err(|e| api_error("list namespaces", Acting::Meshdeck, e))?;
    let (deployments, statefulsets, daemonsets, pods, revision) = tokio::try_join!(
        list_workloads(client, WorkloadKind::Deployment, None),
        list_workloads(client, WorkloadKind::StatefulSet, None),
        list_workloads(client, WorkloadKind::DaemonSet, None),
        list_pods(client, None),
        cluster_revision(client),
    )?;
    let workloads: Vec<(String, Workload)> = deployments
        .into_iter()
        .chain(statefulsets)
        .chain(daemonsets)
        .collect();
    let mut out = Vec::new();
    for ns in &namespaces.items {
        let Some(name) = ns.metadata.name.as_deref() else {
            continue;
        };
        if !visible(name) {
            continue;
        }
        let labels = ns.metadata.labels.clone().unwrap_or_default();
        let pods_here: Vec<PodSummary> = pods
            .iter()
            .filter(|p| p.namespace == name)
            .map(|p| PodSummary {
                namespace: p.namespace.clone(),
                labels: p.labels.clone(),
                has_proxy: p.has_proxy,
            })
            .collect();
        let mut rows: Vec<WorkloadInjection> = workloads
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, w)| status_of(w, &pods_here))
            .collect();
        rows.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
        out.push(NamespaceInjection {
            name: name.to_owned(),
            project: project_of(name),
            injection: namespace_injects(&labels),
            injection_label: labels.get(INJECTION_LABEL).cloned(),
            revision: labels.get(REVISION_LABEL).cloned(),
            auto_injected: ns
                .metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(AUTO_INJECTED_ANNOTATION)),
            may_switch: false,
            workloads: rows,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(NamespaceList {
        namespaces: out,
        revision,
    })
}

/// Switches injection on (restart, dropping an opt-out) or off (opt-out
/// annotation and restart) for one workload, or says what that would do:
/// read with meshdeck's client `own`, written with the caller's `caller`.
/// A restart always restarts: its timestamp is unique to the nanosecond,
/// and the workload's generation must go up, or the answer says so.
pub async fn set_workload_injection(
    own: &kube::Client,
    caller: &kube::Client,
    ns: &str,
    kind: WorkloadKind,
    name: &str,
    enabled: bool,
    dry_run: bool,
) -> Result<InjectionChange> {
    let ar = api_resource(kind);
    let target = format!("{}/{ns}/{name}", kind.label().to_ascii_lowercase());
    let field = "spec.template.metadata.annotations".to_owned();
    let namespace = Api::<Namespace>::all(own.clone())
        .get(ns)
        .await
        .map_err(|e| api_error(&format!("get namespace {ns:?}"), Acting::Meshdeck, e))?;
    let ns_labels = namespace.metadata.labels.unwrap_or_default();
    let pods = list_pods(own, Some(ns)).await?;
    let state = if enabled { "on" } else { "off" };
    let outcome = ops::patch_fresh(
        &Api::<DynamicObject>::namespaced_with(own.clone(), ns, &ar),
        &Api::<DynamicObject>::namespaced_with(caller.clone(), ns, &ar),
        Acting::Caller,
        name,
        &format!("{} {name:?} in namespace {ns:?}", kind.label()),
        dry_run,
        |obj: &DynamicObject| {
            let workload = Workload::from_object(kind, obj)
                .ok_or_else(|| Error::internal(format!("{target} has no name")))?;
            let status = status_of(&workload, &pods);
            let before = workload.template_annotations.clone();
            let mut after = before.clone();
            let needs_restart = if enabled {
                let pod_label = workload.template_labels.get(INJECT_ANNOTATION).map(String::as_str);
                if !namespace_injects(&ns_labels) && pod_label != Some("true") {
                    return Err(Error::Invalid(format!(
                        "sidecar injection is off for namespace {ns}; switch it on for the namespace first, then restart {target}"
                    )));
                }
                if pod_label == Some("false") {
                    return Err(Error::Invalid(format!(
                        "{target} opts out with the pod template label {INJECT_ANNOTATION}=false, which meshdeck does not own; remove that label first"
                    )));
                }
                if after.get(INJECT_ANNOTATION).map(String::as_str) == Some("false") {
                    after.remove(INJECT_ANNOTATION);
                }
                after != before || status.pods_with_sidecar < status.pods
            } else {
                after.insert(INJECT_ANNOTATION.into(), "false".into());
                after != before || status.pods_with_sidecar > 0
            };
            if !needs_restart {
                return Ok(Decision::Unchanged((before, after, status.sidecar)));
            }
            after.insert(RESTARTED_AT.into(), ops::restart_stamp());
            let annotations = map_patch(&before, &after);
            let patch = json!({"spec": {"template": {"metadata": {"annotations": annotations}}}});
            Ok(Decision::Patch(patch, (before, after, status.sidecar)))
        },
    )
    .await?;
    let (before, after, sidecar) = outcome.outcome;
    let Some(patched) = outcome.after else {
        return Ok(InjectionChange {
            target: target.clone(),
            field,
            dry_run,
            changed: false,
            patch: None,
            summary: format!(
                "The sidecar for {target} is already {state} ({}); nothing to change",
                sidecar.label()
            ),
            before,
            after,
        });
    };
    ops::check_restarted(&target, &outcome.before, &patched, dry_run)?;
    let verb = if dry_run {
        "would restart"
    } else {
        "restarted"
    };
    let why = if enabled {
        "so that its pods get the sidecar"
    } else {
        "with the opt-out annotation, so that its pods run without the sidecar"
    };
    Ok(InjectionChange {
        target: target.clone(),
        field,
        dry_run,
        changed: true,
        patch: outcome.patch.map(|p| p.to_string()),
        summary: format!("{verb} {target} {why}"),
        before,
        after: string_map(patched.data.pointer("/spec/template/metadata/annotations")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn namespace_labels_follow_the_revision_rule() {
        let foreign = labels(&[("team", "a"), ("field.cattle.io/projectId", "p-1")]);
        let on = desired_namespace_labels(&foreign, true, None);
        assert_eq!(on.get(INJECTION_LABEL).map(String::as_str), Some("enabled"));
        assert_eq!(on.len(), 3);
        let on_rev = desired_namespace_labels(&foreign, true, Some("1-26"));
        assert_eq!(on_rev.get(REVISION_LABEL).map(String::as_str), Some("1-26"));
        assert!(!on_rev.contains_key(INJECTION_LABEL));
        assert_eq!(desired_namespace_labels(&on, false, None), foreign);
        assert_eq!(desired_namespace_labels(&on_rev, false, None), foreign);
        // An explicit revision is kept; never both labels.
        let both = labels(&[(INJECTION_LABEL, "enabled"), (REVISION_LABEL, "canary")]);
        assert_eq!(
            desired_namespace_labels(&both, true, None),
            labels(&[(REVISION_LABEL, "canary")])
        );
    }

    #[test]
    fn patches_touch_only_changed_keys() {
        let before = labels(&[("a", "1"), ("b", "2")]);
        let after = labels(&[("a", "1"), ("c", "3")]);
        let patch = map_patch(&before, &after);
        assert_eq!(Value::Object(patch), json!({"b": null, "c": "3"}));
        assert!(map_patch(&before, &before).is_empty());
    }

    #[test]
    fn injection_needs_the_label_or_a_revision() {
        assert!(namespace_injects(&labels(&[(INJECTION_LABEL, "enabled")])));
        assert!(namespace_injects(&labels(&[(REVISION_LABEL, "1-26")])));
        assert!(!namespace_injects(&labels(&[
            (INJECTION_LABEL, "disabled"),
            (REVISION_LABEL, "x")
        ])));
        assert!(!namespace_injects(&labels(&[])));
    }
}
