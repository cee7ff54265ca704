//! Seeds an in-memory cluster from a simulated [`Mesh`]: nodes, namespaces
//! with project and injection labels, workloads with their pods, services,
//! Istio resources, RBAC for the demo users, and the namespaces meshdeck and
//! an existing ingress controller live in.

use serde_json::{Value, json};

use super::resources::{self, APPS, CORE, GATEWAY_API, ISTIO_NETWORKING, ISTIO_SECURITY, RBAC};
use super::store::{Store, UserInfo};
use super::workloads::{INJECT_OVERRIDE, INJECTION_LABEL};
use crate::model::{DemoRole, Mesh, PROJECT_LABEL, Protocol, WorkloadKind};

/// Annotation carrying a project's display name on its namespaces.
pub const PROJECT_NAME_ANNOTATION: &str = "field.cattle.io/projectName";
/// meshdeck's own namespace (for its settings ConfigMap).
pub const MESHDECK_NAMESPACE: &str = "meshdeck";
/// Namespace of the pre-existing ingress controller.
pub const INGRESS_NGINX_NAMESPACE: &str = "ingress-nginx";
/// The pre-existing ingress controller's Deployment.
pub const INGRESS_NGINX_CONTROLLER: &str = "ingress-nginx-controller";
/// ClusterRole bound to cluster owners.
pub const OWNER_CLUSTER_ROLE: &str = "meshdeck-owner";
/// ClusterRole bound per namespace to project members.
pub const MEMBER_CLUSTER_ROLE: &str = "project-member";
/// Role in each project namespace allowing its members to patch it.
pub const NAMESPACE_EDITOR_ROLE: &str = "project-namespace-editor";
/// Istio's control-plane namespace.
pub const ISTIO_SYSTEM: &str = "istio-system";
/// meshdeck's own ServiceAccount (in [`MESHDECK_NAMESPACE`]).
pub const MESHDECK_SERVICE_ACCOUNT: &str = "meshdeck";
/// Bearer token of meshdeck's own ServiceAccount. The seed binds no role to
/// it: whoever runs meshdeck against this cluster loads its RBAC.
pub const MESHDECK_SA_TOKEN: &str = "demo-token-meshdeck";
/// User name of meshdeck's own ServiceAccount, as the API server sees it.
pub const MESHDECK_SA_USER: &str = "system:serviceaccount:meshdeck:meshdeck";

/// Stores one object; the seed data is known-good, so a failure is a bug
/// worth a log line rather than a panic.
fn put(store: &mut Store, group: &str, plural: &str, obj: Value) {
    let Some(rt) = resources::find(group, "v1", plural) else {
        tracing::warn!(plural, "in-memory cluster: seeding an unserved type");
        return;
    };
    if let Err(e) = store.seed(rt, obj) {
        tracing::warn!(error = %e, plural, "in-memory cluster: seeding failed");
    }
}

fn protocol_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Http => "http",
        Protocol::Grpc => "grpc",
        Protocol::Tcp => "tcp",
    }
}

/// Integer percentages summing to 100 for weights.
fn percentages(weights: &[f64]) -> Vec<u64> {
    let total: f64 = weights.iter().sum();
    if weights.is_empty() || total <= 0.0 {
        return vec![0; weights.len()];
    }
    let mut out: Vec<u64> = weights
        .iter()
        .map(|w| (w / total * 100.0).round() as u64)
        .collect();
    let sum: u64 = out.iter().sum();
    if let Some(last) = out.last_mut() {
        *last = (*last + 100).saturating_sub(sum);
    }
    out
}

fn namespace_obj(name: &str, labels: Value) -> Value {
    json!({"metadata": {"name": name, "labels": labels}})
}

fn deployment(ns: &str, name: &str, labels: Value, template: Value, replicas: u64) -> Value {
    json!({
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": template,
        },
    })
}

fn container(name: &str, image: &str, port: u16) -> Value {
    json!({
        "name": name,
        "image": image,
        "ports": [{"containerPort": port, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
    })
}

/// Fills `store` with the cluster that runs `mesh`.
pub fn seed(store: &mut Store, mesh: &Mesh) {
    for user in &mesh.users {
        store.users.insert(
            user.token.clone(),
            UserInfo {
                username: user.name.clone(),
                groups: user.groups.clone(),
            },
        );
    }
    store.users.insert(
        MESHDECK_SA_TOKEN.to_owned(),
        UserInfo {
            username: MESHDECK_SA_USER.to_owned(),
            groups: vec![
                "system:serviceaccounts".to_owned(),
                format!("system:serviceaccounts:{MESHDECK_NAMESPACE}"),
            ],
        },
    );

    for (i, node) in mesh.nodes.iter().enumerate() {
        let resources = json!({"cpu": format!("{}m", node.cpu_millis), "memory": format!("{}Mi", node.memory_mib), "pods": "110"});
        let mut obj = json!({
            "metadata": {"name": node.name, "labels": {
                "kubernetes.io/hostname": node.name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/worker": "true",
            }},
            "spec": {"podCIDR": format!("10.42.{i}.0/24")},
            "status": {
                "capacity": resources,
                "allocatable": resources,
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                "addresses": [{"type": "InternalIP", "address": format!("10.0.0.{}", 10 + i)}, {"type": "Hostname", "address": node.name}],
                "nodeInfo": {"kubeletVersion": "v1.33.0", "osImage": "Ubuntu 24.04 LTS", "containerRuntimeVersion": "containerd://2.0.0", "architecture": "amd64", "operatingSystem": "linux"},
            },
        });
        if !node.schedulable {
            obj["spec"]["unschedulable"] = json!(true);
            obj["spec"]["taints"] =
                json!([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]);
        }
        put(store, CORE, "nodes", obj);
    }

    // Namespaces, then what lives in every namespace.
    let mut all_namespaces: Vec<String> = Vec::new();
    for ns in &mesh.namespaces {
        let mut labels = json!({});
        let mut obj_annotations = None;
        if let Some(p) = ns.project.and_then(|p| mesh.projects.get(p)) {
            labels[PROJECT_LABEL] = json!(p.id);
            obj_annotations = Some(json!({PROJECT_NAME_ANNOTATION: p.display_name}));
        }
        if ns.sidecars {
            labels[INJECTION_LABEL] = json!("enabled");
        }
        let mut obj = namespace_obj(&ns.name, labels);
        if let Some(annotations) = obj_annotations {
            obj["metadata"]["annotations"] = annotations;
        }
        put(store, CORE, "namespaces", obj);
        all_namespaces.push(ns.name.clone());
    }
    for extra in [MESHDECK_NAMESPACE, INGRESS_NGINX_NAMESPACE] {
        if !all_namespaces.iter().any(|n| n == extra) {
            put(store, CORE, "namespaces", namespace_obj(extra, json!({})));
            all_namespaces.push(extra.to_owned());
        }
    }
    for ns in &all_namespaces {
        put(
            store,
            CORE,
            "serviceaccounts",
            json!({"metadata": {"name": "default", "namespace": ns}}),
        );
    }
    put(
        store,
        CORE,
        "serviceaccounts",
        json!({"metadata": {"name": MESHDECK_SERVICE_ACCOUNT, "namespace": MESHDECK_NAMESPACE}}),
    );

    // Service accounts of the workloads.
    let mut accounts: Vec<(String, String)> = Vec::new();
    for w in &mesh.workloads {
        let key = (
            mesh.namespaces[w.namespace].name.clone(),
            w.service_account.clone(),
        );
        if w.service_account != "default" && !accounts.contains(&key) {
            put(
                store,
                CORE,
                "serviceaccounts",
                json!({"metadata": {"name": key.1, "namespace": key.0}}),
            );
            accounts.push(key);
        }
    }

    if mesh.namespace_id(ISTIO_SYSTEM).is_some() {
        seed_istiod(store);
    }
    seed_ingress_nginx(store);

    for (id, w) in mesh.workloads.iter().enumerate() {
        let ns = &mesh.namespaces[w.namespace];
        let port = mesh.service_of(id).map_or(8080, |s| mesh.services[s].port);
        let labels = json!({"app": w.app, "version": w.version});
        let mut template = json!({
            "metadata": {"labels": labels},
            "spec": {
                "serviceAccountName": w.service_account,
                "containers": [container(&w.app, &format!("docker.io/meshdeck/sim-{}:{}", w.app, w.version), port)],
            },
        });
        // Keep the pods' sidecars equal to `Mesh::has_sidecar` under the
        // injection rules the controllers apply.
        match w.sidecar_override {
            Some(false) if ns.sidecars => {
                template["metadata"]["annotations"] = json!({INJECT_OVERRIDE: "false"});
            }
            Some(true) if !ns.sidecars => {
                template["metadata"]["labels"][INJECT_OVERRIDE] = json!("true");
            }
            _ => {}
        }
        let mut obj = deployment(&ns.name, &w.name, labels, template, u64::from(w.replicas));
        let plural = match w.kind {
            WorkloadKind::Deployment => "deployments",
            WorkloadKind::StatefulSet => {
                obj["spec"]["serviceName"] = json!(w.app);
                if let Some(spec) = obj["spec"].as_object_mut() {
                    spec.remove("strategy");
                }
                "statefulsets"
            }
            WorkloadKind::DaemonSet => {
                if let Some(spec) = obj["spec"].as_object_mut() {
                    spec.remove("strategy");
                    spec.remove("replicas");
                }
                "daemonsets"
            }
        };
        put(store, APPS, plural, obj);
    }

    for (i, s) in mesh.services.iter().enumerate() {
        let ns = &mesh.namespaces[s.namespace].name;
        let proto = protocol_name(s.protocol);
        if let Some(host) = &s.external_host {
            let protocol = match s.protocol {
                Protocol::Http if s.port == 443 => "HTTPS",
                Protocol::Http => "HTTP",
                Protocol::Grpc => "GRPC",
                Protocol::Tcp => "TCP",
            };
            let name = host.replace('.', "-");
            put(
                store,
                ISTIO_NETWORKING,
                "serviceentries",
                json!({
                    "metadata": {"name": name, "namespace": ns},
                    "spec": {
                        "hosts": [host],
                        "ports": [{"number": s.port, "name": protocol.to_lowercase(), "protocol": protocol}],
                        "location": "MESH_EXTERNAL",
                        "resolution": "DNS",
                    },
                }),
            );
            continue;
        }
        let app = s
            .backends
            .first()
            .map_or(s.name.clone(), |(w, _)| mesh.workloads[*w].app.clone());
        put(
            store,
            CORE,
            "services",
            json!({
                "metadata": {"name": s.name, "namespace": ns, "labels": {"app": app, "service": s.name}},
                "spec": {
                    "type": "ClusterIP",
                    "clusterIP": format!("10.43.{}.{}", (i / 250) % 250, 10 + i % 240),
                    "selector": {"app": app},
                    "ports": [{"name": proto, "port": s.port, "targetPort": s.port, "protocol": "TCP"}],
                },
            }),
        );
        if s.backends.len() > 1 {
            let host = format!("{}.{ns}.svc.cluster.local", s.name);
            let weights: Vec<f64> = s.backends.iter().map(|(_, w)| *w).collect();
            let routes: Vec<Value> = s
                .backends
                .iter()
                .zip(percentages(&weights))
                .map(|((w, _), pct)| json!({"destination": {"host": host, "subset": mesh.workloads[*w].version}, "weight": pct}))
                .collect();
            let subsets: Vec<Value> = s
                .backends
                .iter()
                .map(|(w, _)| {
                    let v = &mesh.workloads[*w].version;
                    json!({"name": v, "labels": {"version": v}})
                })
                .collect();
            let route_kind = if s.protocol == Protocol::Tcp {
                "tcp"
            } else {
                "http"
            };
            put(
                store,
                ISTIO_NETWORKING,
                "virtualservices",
                json!({
                    "metadata": {"name": s.name, "namespace": ns},
                    "spec": {"hosts": [s.name], route_kind: [{"route": routes}]},
                }),
            );
            put(
                store,
                ISTIO_NETWORKING,
                "destinationrules",
                json!({
                    "metadata": {"name": s.name, "namespace": ns},
                    "spec": {"host": s.name, "subsets": subsets},
                }),
            );
        }
    }

    for ns in mesh.namespaces.iter().filter(|n| !n.mtls) {
        put(
            store,
            ISTIO_SECURITY,
            "peerauthentications",
            json!({
                "metadata": {"name": "default", "namespace": ns.name},
                "spec": {"mtls": {"mode": "DISABLE"}},
            }),
        );
    }

    seed_rbac(store, mesh);
}

/// istiod, so that meshdeck finds an existing control plane.
fn seed_istiod(store: &mut Store) {
    let labels = json!({"app": "istiod", "istio": "pilot", "istio.io/rev": "default"});
    let template = json!({
        // Istio's chart annotates istiod for scraping by annotation.
        "metadata": {"labels": labels, "annotations": {
            INJECT_OVERRIDE: "false",
            "prometheus.io/port": "15014",
            "prometheus.io/scrape": "true",
        }},
        "spec": {
            "serviceAccountName": "istiod",
            "containers": [{
                "name": "discovery",
                "image": "docker.io/istio/pilot:1.26.0",
                "ports": [{"containerPort": 15010}, {"containerPort": 15012}, {"containerPort": 15014}, {"containerPort": 15017}],
                "resources": {"requests": {"cpu": "500m", "memory": "2048Mi"}},
            }],
        },
    });
    put(
        store,
        CORE,
        "serviceaccounts",
        json!({"metadata": {"name": "istiod", "namespace": ISTIO_SYSTEM}}),
    );
    put(
        store,
        APPS,
        "deployments",
        deployment(ISTIO_SYSTEM, "istiod", labels.clone(), template, 1),
    );
    put(
        store,
        CORE,
        "services",
        json!({
            "metadata": {"name": "istiod", "namespace": ISTIO_SYSTEM, "labels": labels},
            "spec": {
                "type": "ClusterIP",
                "clusterIP": "10.43.255.10",
                "selector": {"app": "istiod", "istio": "pilot"},
                "ports": [
                    {"name": "grpc-xds", "port": 15010, "protocol": "TCP"},
                    {"name": "https-dns", "port": 15012, "protocol": "TCP"},
                    {"name": "https-webhook", "port": 443, "targetPort": 15017, "protocol": "TCP"},
                    {"name": "http-monitoring", "port": 15014, "protocol": "TCP"},
                ],
            },
        }),
    );
}

/// An ingress controller that was there before Istio.
fn seed_ingress_nginx(store: &mut Store) {
    let labels = json!({"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"});
    let template = json!({
        "metadata": {"labels": labels},
        "spec": {
            "serviceAccountName": "ingress-nginx",
            "containers": [{
                "name": "controller",
                "image": "registry.k8s.io/ingress-nginx/controller:v1.12.0",
                "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443, "name": "https"}],
                "resources": {"requests": {"cpu": "100m", "memory": "90Mi"}},
            }],
        },
    });
    let ns = INGRESS_NGINX_NAMESPACE;
    put(
        store,
        CORE,
        "serviceaccounts",
        json!({"metadata": {"name": "ingress-nginx", "namespace": ns}}),
    );
    put(
        store,
        APPS,
        "deployments",
        deployment(ns, INGRESS_NGINX_CONTROLLER, labels.clone(), template, 1),
    );
    put(
        store,
        CORE,
        "services",
        json!({
            "metadata": {"name": INGRESS_NGINX_CONTROLLER, "namespace": ns, "labels": labels},
            "spec": {
                "type": "NodePort",
                "clusterIP": "10.43.254.10",
                "selector": labels,
                "ports": [
                    {"name": "http", "port": 80, "targetPort": 80, "nodePort": 30080, "protocol": "TCP"},
                    {"name": "https", "port": 443, "targetPort": 443, "nodePort": 30443, "protocol": "TCP"},
                ],
            },
        }),
    );
}

/// Owners get everything cluster-wide; members get read access and workload
/// patching in their projects' namespaces, and may patch those namespace
/// objects (by name) but no other.
fn seed_rbac(store: &mut Store, mesh: &Mesh) {
    put(
        store,
        RBAC,
        "clusterroles",
        json!({
            "metadata": {"name": OWNER_CLUSTER_ROLE},
            "rules": [
                {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                {"nonResourceURLs": ["*"], "verbs": ["*"]},
            ],
        }),
    );
    let read = ["get", "list", "watch"];
    put(
        store,
        RBAC,
        "clusterroles",
        json!({
            "metadata": {"name": MEMBER_CLUSTER_ROLE},
            "rules": [
                {"apiGroups": [""], "resources": ["pods", "pods/log", "services", "endpoints", "configmaps", "serviceaccounts", "events"], "verbs": read},
                {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets", "daemonsets", "replicasets"], "verbs": read},
                {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets", "daemonsets"], "verbs": ["patch", "update"]},
                {"apiGroups": [ISTIO_NETWORKING, ISTIO_SECURITY], "resources": ["*"], "verbs": read},
                // Developers own their services' routing: the wizards write
                // with these rights.
                {"apiGroups": [ISTIO_NETWORKING], "resources": ["virtualservices", "destinationrules", "gateways"], "verbs": ["create", "update", "patch", "delete"]},
                {"apiGroups": [ISTIO_SECURITY], "resources": ["peerauthentications"], "verbs": ["create", "update", "patch", "delete"]},
                {"apiGroups": [GATEWAY_API], "resources": ["httproutes", "grpcroutes"], "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
            ],
        }),
    );
    for user in &mesh.users {
        let subject = json!([{"kind": "User", "apiGroup": RBAC, "name": user.name}]);
        match &user.role {
            DemoRole::Owner => put(
                store,
                RBAC,
                "clusterrolebindings",
                json!({
                    "metadata": {"name": format!("{OWNER_CLUSTER_ROLE}-{}", user.name)},
                    "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": OWNER_CLUSTER_ROLE},
                    "subjects": subject,
                }),
            ),
            DemoRole::Member(projects) => {
                for ns in mesh
                    .namespaces
                    .iter()
                    .filter(|n| n.project.is_some_and(|p| projects.contains(&p)))
                {
                    let role = json!({
                        "metadata": {"name": NAMESPACE_EDITOR_ROLE, "namespace": ns.name},
                        "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "patch", "update"], "resourceNames": [ns.name]}],
                    });
                    if let Some(rt) = resources::find(RBAC, "v1", "roles") {
                        if store.peek(rt, &ns.name, NAMESPACE_EDITOR_ROLE).is_none() {
                            put(store, RBAC, "roles", role);
                        }
                    }
                    put(
                        store,
                        RBAC,
                        "rolebindings",
                        json!({
                            "metadata": {"name": format!("{MEMBER_CLUSTER_ROLE}-{}", user.name), "namespace": ns.name},
                            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": MEMBER_CLUSTER_ROLE},
                            "subjects": subject,
                        }),
                    );
                    put(
                        store,
                        RBAC,
                        "rolebindings",
                        json!({
                            "metadata": {"name": format!("{NAMESPACE_EDITOR_ROLE}-{}", user.name), "namespace": ns.name},
                            "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": NAMESPACE_EDITOR_ROLE},
                            "subjects": subject,
                        }),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_sum_to_100() {
        assert_eq!(percentages(&[0.9, 0.1]), vec![90, 10]);
        assert_eq!(percentages(&[1.0, 1.0, 1.0]), vec![33, 33, 34]);
        assert_eq!(percentages(&[]), Vec::<u64>::new());
    }
}
