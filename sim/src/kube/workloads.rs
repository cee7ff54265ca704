//! A tiny controller manager: Deployments (through ReplicaSets),
//! StatefulSets and DaemonSets get pods built from their pod template, and
//! get new ones when the template changes (`kubectl rollout restart`). Pods
//! get the `istio-proxy` sidecar where Istio's injection webhook would add it.
//!
//! Everything happens synchronously inside the write that triggered it, so a
//! restart patch has replaced the pods by the time its response arrives.

use serde_json::{Map, Value, json};

use super::meta;
use super::resources::{self, APPS, CORE, ResourceType};
use super::schema::FieldCheck;
use super::store::{CONTROLLER_MANAGER, Store, Writer};

/// Namespace label that turns injection on.
pub const INJECTION_LABEL: &str = "istio-injection";
/// Namespace label selecting an Istio revision (also turns injection on).
pub const REVISION_LABEL: &str = "istio.io/rev";
/// Pod label or annotation overriding injection per workload.
pub const INJECT_OVERRIDE: &str = "sidecar.istio.io/inject";
/// Annotation the injector writes on injected pods.
pub const SIDECAR_STATUS: &str = "sidecar.istio.io/status";
/// Name of the sidecar container.
pub const PROXY_CONTAINER: &str = "istio-proxy";
/// Annotation `kubectl rollout restart` sets on the pod template.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";
/// Image of the simulated sidecar.
const PROXY_IMAGE: &str = "docker.io/istio/proxyv2:1.26.0";
/// The `prometheus.io` annotations Istio's injection writes on a pod when
/// metrics merging is on (its default): the sidecar's agent serves Envoy's
/// and the application's metrics together on this port and path.
pub const MERGED_METRICS_ANNOTATIONS: [(&str, &str); 3] = [
    ("prometheus.io/path", "/stats/prometheus"),
    ("prometheus.io/port", "15020"),
    ("prometheus.io/scrape", "true"),
];

/// The writer of every controller write.
const CONTROLLER: Writer<'static> = Writer::Internal(CONTROLLER_MANAGER);

fn rt(group: &str, plural: &str) -> Option<&'static ResourceType> {
    resources::find(group, "v1", plural)
}

/// Whether Istio's injection webhook adds a sidecar to a pod with this
/// template in a namespace with these labels (Istio's documented rules:
/// a pod label `sidecar.istio.io/inject` wins, then the namespace label
/// `istio-injection=enabled` or `istio.io/rev`, with the pod annotation
/// `sidecar.istio.io/inject: "false"` opting out).
pub fn sidecar_injected(namespace: Option<&Value>, template: &Value) -> bool {
    let ns_label = |k: &str| namespace.and_then(|ns| meta::label(ns, k));
    if ns_label(INJECTION_LABEL) == Some("disabled") {
        return false;
    }
    match meta::label(template, INJECT_OVERRIDE) {
        Some("false") => return false,
        Some("true") => return true,
        _ => {}
    }
    let enabled =
        ns_label(INJECTION_LABEL) == Some("enabled") || ns_label(REVISION_LABEL).is_some();
    enabled && meta::annotation(template, INJECT_OVERRIDE) != Some("false")
}

/// Whether a pod carries the `istio-proxy` container.
pub fn has_proxy(pod: &Value) -> bool {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c.get("name").and_then(Value::as_str) == Some(PROXY_CONTAINER))
        })
}

/// Ten characters identifying a pod template, like `pod-template-hash`.
fn template_hash(template: &Value) -> String {
    meta::suffix(meta::fnv(&template.to_string()), 10)
}

fn owner_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta::name(owner),
        "uid": meta::uid_of(owner),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

fn with_labels(template: &Value, extra: &[(&str, &str)]) -> Value {
    let mut t = template.clone();
    if !t.is_object() {
        t = json!({});
    }
    for (k, v) in extra {
        t["metadata"]["labels"][*k] = json!(v);
    }
    t
}

fn desired_replicas(obj: &Value) -> u64 {
    obj.pointer("/spec/replicas")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .min(super::store::MAX_REPLICAS)
}

fn is_ready(pod: &Value) -> bool {
    pod.pointer("/status/phase").and_then(Value::as_str) == Some("Running")
}

impl Store {
    /// Runs the controllers interested in a write.
    pub(super) fn after_write(
        &mut self,
        rt: &'static ResourceType,
        stored: &Value,
        previous: Option<&Value>,
    ) {
        let workload =
            rt.group == APPS && matches!(rt.plural, "deployments" | "statefulsets" | "daemonsets");
        if workload && previous.is_none_or(|p| p.get("spec") != stored.get("spec")) {
            let (ns, name) = (
                meta::namespace(stored).to_owned(),
                meta::name(stored).to_owned(),
            );
            self.reconcile(rt, &ns, &name);
        }
    }

    /// Runs the controllers interested in a deletion: a deleted pod of a
    /// workload is replaced, as its controller would.
    pub(super) fn after_delete(&mut self, rt: &'static ResourceType, deleted: &Value) {
        if rt.group != CORE || rt.plural != "pods" {
            return;
        }
        let ns = meta::namespace(deleted).to_owned();
        let owners: Vec<(String, String)> = deleted
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .map(|refs| {
                refs.iter()
                    .filter(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
                    .filter_map(|r| {
                        Some((
                            r.get("kind")?.as_str()?.to_owned(),
                            r.get("name")?.as_str()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        for (kind, name) in owners {
            match kind.as_str() {
                "ReplicaSet" => {
                    let Some(rs_rt) = rt_apps("replicasets") else {
                        continue;
                    };
                    let Some(rs) = self.peek(rs_rt, &ns, &name).cloned() else {
                        continue;
                    };
                    let deployment = rs
                        .pointer("/metadata/ownerReferences/0/name")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    match (deployment, rt_apps("deployments")) {
                        (Some(d), Some(d_rt)) if self.peek(d_rt, &ns, &d).is_some() => {
                            self.reconcile(d_rt, &ns, &d)
                        }
                        _ => {
                            let n = desired_replicas(&rs);
                            self.scale_replica_set(&rs, n);
                        }
                    }
                }
                "StatefulSet" | "DaemonSet" => {
                    let plural = if kind == "StatefulSet" {
                        "statefulsets"
                    } else {
                        "daemonsets"
                    };
                    if let Some(t) = rt_apps(plural) {
                        self.reconcile(t, &ns, &name);
                    }
                }
                _ => {}
            }
        }
    }

    /// Brings a workload's pods in line with its spec, then writes its status.
    pub(super) fn reconcile(&mut self, rt: &'static ResourceType, ns: &str, name: &str) {
        let Some(wl) = self.peek(rt, ns, name).cloned() else {
            return;
        };
        let template = wl
            .pointer("/spec/template")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let hash = template_hash(&template);
        let status = match rt.plural {
            "deployments" => self.reconcile_deployment(&wl, &template, &hash),
            "statefulsets" => self.reconcile_stateful_set(&wl, &template, &hash),
            "daemonsets" => self.reconcile_daemon_set(&wl, &template, &hash),
            _ => return,
        };
        let mut next = wl.clone();
        next["status"] = status;
        // Status writes never bump the generation and start no controllers.
        let _ = self.update(rt, wl, next, false, false, &CONTROLLER);
    }

    fn owned_pods(&self, ns: &str, owner_uid: &str) -> Vec<Value> {
        let Some(pods) = rt(CORE, "pods") else {
            return Vec::new();
        };
        self.iter(pods, Some(ns))
            .filter(|p| meta::owned_by(p, owner_uid))
            .cloned()
            .collect()
    }

    fn delete_pod(&mut self, pod: &Value) {
        if let Some(pods) = rt(CORE, "pods") {
            self.delete_cascade(pods, meta::namespace(pod), meta::name(pod));
        }
    }

    fn reconcile_deployment(&mut self, wl: &Value, template: &Value, hash: &str) -> Value {
        let Some(rs_rt) = rt_apps("replicasets") else {
            return json!({});
        };
        let ns = meta::namespace(wl).to_owned();
        let uid = meta::uid_of(wl).to_owned();
        let replicas = desired_replicas(wl);
        let current_name = format!("{}-{hash}", meta::name(wl));
        let owned: Vec<Value> = self
            .iter(rs_rt, Some(&ns))
            .filter(|rs| meta::owned_by(rs, &uid))
            .cloned()
            .collect();
        let revision_of = |rs: &Value| {
            meta::annotation(rs, "deployment.kubernetes.io/revision")
                .and_then(|r| r.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let max_revision = owned.iter().map(revision_of).max().unwrap_or(0);
        for rs in owned.iter().filter(|rs| meta::name(rs) != current_name) {
            self.scale_replica_set(rs, 0);
        }
        let current = match owned.iter().find(|rs| meta::name(rs) == current_name) {
            Some(rs) => rs.clone(),
            None => {
                let mut selector = wl
                    .pointer("/spec/selector")
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                selector["matchLabels"]["pod-template-hash"] = json!(hash);
                let rs = json!({
                    "metadata": {
                        "name": current_name,
                        "namespace": ns,
                        "labels": with_labels(template, &[("pod-template-hash", hash)])["metadata"]["labels"],
                        "annotations": {
                            "deployment.kubernetes.io/revision": (max_revision + 1).to_string(),
                            "deployment.kubernetes.io/desired-replicas": replicas.to_string(),
                        },
                        "ownerReferences": [owner_ref(wl)],
                    },
                    "spec": {
                        "replicas": 0,
                        "selector": selector,
                        "template": with_labels(template, &[("pod-template-hash", hash)]),
                    },
                });
                match self.create(
                    rs_rt,
                    &ns,
                    rs,
                    false,
                    &CONTROLLER,
                    &mut FieldCheck::default(),
                ) {
                    Ok(rs) => rs,
                    Err(e) => {
                        tracing::warn!(error = %e, "in-memory cluster: cannot create ReplicaSet");
                        return json!({});
                    }
                }
            }
        };
        self.scale_replica_set(&current, replicas);
        let current_uid = meta::uid_of(&current).to_owned();
        let mut total = 0;
        let mut updated = 0;
        let mut ready = 0;
        let rs_uids: Vec<String> = self
            .iter(rs_rt, Some(&ns))
            .filter(|rs| meta::owned_by(rs, &uid))
            .map(|rs| meta::uid_of(rs).to_owned())
            .collect();
        for rs_uid in rs_uids {
            for pod in self.owned_pods(&ns, &rs_uid) {
                total += 1;
                if rs_uid == current_uid {
                    updated += 1;
                }
                if is_ready(&pod) {
                    ready += 1;
                }
            }
        }
        let available = ready >= replicas;
        json!({
            "observedGeneration": wl.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
            "replicas": total,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "unavailableReplicas": replicas.saturating_sub(ready),
            "conditions": [
                {"type": "Available", "status": if available { "True" } else { "False" },
                 "reason": if available { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" }},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                 "message": format!("ReplicaSet \"{}\" has successfully progressed.", meta::name(&current))},
            ],
        })
    }

    /// Sets a ReplicaSet's replicas and makes its pods match.
    fn scale_replica_set(&mut self, rs: &Value, replicas: u64) {
        let Some(rs_rt) = rt_apps("replicasets") else {
            return;
        };
        let ns = meta::namespace(rs).to_owned();
        let uid = meta::uid_of(rs).to_owned();
        let template = rs
            .pointer("/spec/template")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let mut pods = self.owned_pods(&ns, &uid);
        while pods.len() as u64 > replicas {
            if let Some(pod) = pods.pop() {
                self.delete_pod(&pod);
            }
        }
        while (pods.len() as u64) < replicas {
            let seq = self.next_seq();
            let name = format!("{}-{}", meta::name(rs), meta::suffix(seq, 5));
            match self.create_pod(&ns, &name, &template, rs, &[], None) {
                Some(p) => pods.push(p),
                None => break,
            }
        }
        let ready = pods.iter().filter(|p| is_ready(p)).count();
        let Some(current) = self.peek(rs_rt, &ns, meta::name(rs)).cloned() else {
            return;
        };
        let mut next = current.clone();
        next["spec"]["replicas"] = json!(replicas);
        next["status"] = json!({
            "replicas": pods.len(),
            "fullyLabeledReplicas": pods.len(),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": current.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
        });
        let _ = self.update(rs_rt, current, next, false, false, &CONTROLLER);
    }

    fn reconcile_stateful_set(&mut self, wl: &Value, template: &Value, hash: &str) -> Value {
        let ns = meta::namespace(wl).to_owned();
        let name = meta::name(wl).to_owned();
        let replicas = desired_replicas(wl);
        let revision = format!("{name}-{hash}");
        let wanted: Vec<String> = (0..replicas).map(|i| format!("{name}-{i}")).collect();
        for pod in self.owned_pods(&ns, meta::uid_of(wl)) {
            let stale = meta::label(&pod, "controller-revision-hash") != Some(revision.as_str());
            if stale || !wanted.iter().any(|w| w == meta::name(&pod)) {
                self.delete_pod(&pod);
            }
        }
        let Some(pods_rt) = rt(CORE, "pods") else {
            return json!({});
        };
        for pod_name in &wanted {
            if self.peek(pods_rt, &ns, pod_name).is_none() {
                let extra = [
                    ("controller-revision-hash", revision.as_str()),
                    ("statefulset.kubernetes.io/pod-name", pod_name.as_str()),
                ];
                self.create_pod(&ns, pod_name, template, wl, &extra, None);
            }
        }
        let pods = self.owned_pods(&ns, meta::uid_of(wl));
        let ready = pods.iter().filter(|p| is_ready(p)).count();
        json!({
            "observedGeneration": wl.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
            "replicas": pods.len(),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "currentReplicas": pods.len(),
            "updatedReplicas": pods.len(),
            "currentRevision": revision,
            "updateRevision": revision,
        })
    }

    /// Names of schedulable nodes, sorted.
    pub(super) fn schedulable_nodes(&self) -> Vec<String> {
        let Some(nodes) = rt(CORE, "nodes") else {
            return Vec::new();
        };
        self.iter(nodes, None)
            .filter(|n| n.pointer("/spec/unschedulable").and_then(Value::as_bool) != Some(true))
            .map(|n| meta::name(n).to_owned())
            .collect()
    }

    fn reconcile_daemon_set(&mut self, wl: &Value, template: &Value, hash: &str) -> Value {
        let ns = meta::namespace(wl).to_owned();
        let name = meta::name(wl).to_owned();
        let revision = format!("{name}-{hash}");
        let nodes = self.schedulable_nodes();
        let mut covered: Vec<String> = Vec::new();
        for pod in self.owned_pods(&ns, meta::uid_of(wl)) {
            let node = pod
                .pointer("/spec/nodeName")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let stale = meta::label(&pod, "controller-revision-hash") != Some(revision.as_str());
            if stale || !nodes.contains(&node) || covered.contains(&node) {
                self.delete_pod(&pod);
            } else {
                covered.push(node);
            }
        }
        for node in nodes.iter().filter(|n| !covered.contains(n)) {
            let seq = self.next_seq();
            let pod_name = format!("{name}-{}", meta::suffix(seq, 5));
            let extra = [("controller-revision-hash", revision.as_str())];
            self.create_pod(&ns, &pod_name, template, wl, &extra, Some(node.clone()));
        }
        let pods = self.owned_pods(&ns, meta::uid_of(wl));
        let ready = pods.iter().filter(|p| is_ready(p)).count();
        json!({
            "observedGeneration": wl.pointer("/metadata/generation").cloned().unwrap_or(json!(1)),
            "desiredNumberScheduled": nodes.len(),
            "currentNumberScheduled": pods.len(),
            "updatedNumberScheduled": pods.len(),
            "numberReady": ready,
            "numberAvailable": ready,
            "numberMisscheduled": 0,
        })
    }

    /// Creates a running pod from a template, owned by `owner`, injecting
    /// the sidecar where the webhook would.
    fn create_pod(
        &mut self,
        ns: &str,
        name: &str,
        template: &Value,
        owner: &Value,
        extra_labels: &[(&str, &str)],
        node: Option<String>,
    ) -> Option<Value> {
        let pods_rt = rt(CORE, "pods")?;
        let ns_obj = rt(CORE, "namespaces").and_then(|t| self.peek(t, "", ns));
        let template = with_labels(template, extra_labels);
        let inject = sidecar_injected(ns_obj, &template);
        let mut labels = template["metadata"]["labels"].clone();
        let mut annotations = template
            .pointer("/metadata/annotations")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let mut spec = template
            .get("spec")
            .cloned()
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({}));
        if !spec.get("containers").is_some_and(Value::is_array) {
            spec["containers"] = json!([]);
        }
        if spec
            .get("serviceAccountName")
            .and_then(Value::as_str)
            .is_none()
        {
            spec["serviceAccountName"] = json!("default");
        }
        let seq = self.next_seq();
        if inject {
            let app = labels
                .get("app")
                .and_then(Value::as_str)
                .unwrap_or(name)
                .to_owned();
            let version = labels
                .get("version")
                .and_then(Value::as_str)
                .unwrap_or("latest")
                .to_owned();
            labels["security.istio.io/tlsMode"] = json!("istio");
            labels["service.istio.io/canonical-name"] = json!(app);
            labels["service.istio.io/canonical-revision"] = json!(version);
            annotations[SIDECAR_STATUS] = json!(
                r#"{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"}"#
            );
            // Metrics merging: these replace the application's own
            // annotations, as Istio's injection does.
            for (key, value) in MERGED_METRICS_ANNOTATIONS {
                annotations[key] = json!(value);
            }
            if let Some(cs) = spec["containers"].as_array_mut() {
                if !cs
                    .iter()
                    .any(|c| c.get("name").and_then(Value::as_str) == Some(PROXY_CONTAINER))
                {
                    cs.push(json!({
                        "name": PROXY_CONTAINER,
                        "image": PROXY_IMAGE,
                        "args": ["proxy", "sidecar"],
                        "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
                        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "2", "memory": "1Gi"}},
                    }));
                }
            }
            if !spec.get("initContainers").is_some_and(Value::is_array) {
                spec["initContainers"] = json!([]);
            }
            if let Some(cs) = spec["initContainers"].as_array_mut() {
                cs.push(
                    json!({"name": "istio-init", "image": PROXY_IMAGE, "args": ["istio-iptables"]}),
                );
            }
        }
        let node = node.or_else(|| {
            let nodes = self.schedulable_nodes();
            (!nodes.is_empty()).then(|| nodes[(seq % nodes.len() as u64) as usize].clone())
        });
        let now = meta::now_rfc3339();
        let status = match &node {
            Some(_) => {
                let statuses: Vec<Value> = spec["containers"]
                    .as_array()
                    .map(|cs| {
                        cs.iter()
                            .map(|c| {
                                json!({
                                    "name": c.get("name").cloned().unwrap_or(json!("")),
                                    "image": c.get("image").cloned().unwrap_or(json!("")),
                                    "imageID": "",
                                    "containerID": format!("containerd://{:016x}", crate::rng::mix(seq)),
                                    "ready": true,
                                    "started": true,
                                    "restartCount": 0,
                                    "state": {"running": {"startedAt": now}},
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                json!({
                    "phase": "Running",
                    "podIP": format!("10.42.{}.{}", (seq >> 8) & 0xff, seq & 0xff),
                    "startTime": now,
                    "qosClass": "Burstable",
                    "conditions": [
                        {"type": "Initialized", "status": "True"},
                        {"type": "Ready", "status": "True"},
                        {"type": "ContainersReady", "status": "True"},
                        {"type": "PodScheduled", "status": "True"},
                    ],
                    "containerStatuses": statuses,
                })
            }
            None => json!({
                "phase": "Pending",
                "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                "message": "0/0 nodes are available"}],
            }),
        };
        if let Some(n) = &node {
            spec["nodeName"] = json!(n);
        }
        let mut metadata = Map::new();
        metadata.insert("name".into(), json!(name));
        metadata.insert("namespace".into(), json!(ns));
        metadata.insert("labels".into(), labels);
        metadata.insert("annotations".into(), annotations);
        metadata.insert("ownerReferences".into(), json!([owner_ref(owner)]));
        let pod = json!({ "metadata": metadata, "spec": spec, "status": status });
        match self.create(
            pods_rt,
            ns,
            pod,
            false,
            &CONTROLLER,
            &mut FieldCheck::default(),
        ) {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::warn!(error = %e, "in-memory cluster: cannot create pod");
                None
            }
        }
    }
}

fn rt_apps(plural: &str) -> Option<&'static ResourceType> {
    rt(APPS, plural)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injection_rules() {
        let enabled = json!({"metadata": {"labels": {"istio-injection": "enabled"}}});
        let revision = json!({"metadata": {"labels": {"istio.io/rev": "canary"}}});
        let disabled = json!({"metadata": {"labels": {"istio-injection": "disabled"}}});
        let plain = json!({"metadata": {}});
        let t = json!({"metadata": {}});
        let opt_out = json!({"metadata": {"annotations": {"sidecar.istio.io/inject": "false"}}});
        let label_in = json!({"metadata": {"labels": {"sidecar.istio.io/inject": "true"}}});
        assert!(sidecar_injected(Some(&enabled), &t));
        assert!(sidecar_injected(Some(&revision), &t));
        assert!(!sidecar_injected(Some(&enabled), &opt_out));
        assert!(!sidecar_injected(Some(&plain), &t));
        assert!(!sidecar_injected(None, &t));
        assert!(sidecar_injected(Some(&plain), &label_in));
        assert!(!sidecar_injected(Some(&disabled), &label_in));
    }
}
