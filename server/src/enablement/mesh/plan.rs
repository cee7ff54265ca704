//! The plan: from the mesh settings, the control plane found and the
//! monitoring surveyed ([`super::monitoring`]), the objects enabling writes, each as the fields meshdeck has an opinion on
//! (server-side apply's "applied configuration"). Pure; golden-tested as
//! YAML (`testdata/`, regenerate with `MESHDECK_UPDATE_GOLDEN=1 cargo test
//! -p meshdeck --lib enablement::mesh::plan`).
//!
//! The gateway Deployment leaves `replicas` out on purpose: an HPA (or a
//! person with `kubectl scale`) owns it, and server-side apply keeps what
//! another manager owns only when meshdeck does not state it too.

use app::types::{ComponentSettings, ControlPlaneKind, GatewayServiceType, MeshSettings};
use kube::api::ApiResource;
use serde_json::{Value, json};

use super::monitoring::MonitoringPlan;
use super::{CONTROL_PLANE_NAME, GATEWAY_NAME};
use crate::cluster::apply::ObjectRef;
use crate::enablement::ISTIO_SYSTEM;

/// What meshdeck does about the control plane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlPlaneDecision {
    /// Write (create or update) its own control-plane resource of this kind
    /// (`SailIstio` or `IstioOperator`).
    Write(ControlPlaneKind),
    /// Leave the control plane to what runs already (described in words).
    UseExisting(String),
}

/// The objects enabling writes, in order, and what it leaves alone.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Each object with its applied configuration.
    pub objects: Vec<(ObjectRef, Value)>,
    /// What meshdeck uses without writing (e.g. an existing istiod).
    pub uses: Vec<String>,
    /// What enabling leaves to the owner (e.g. Prometheus' scrape jobs).
    pub notes: Vec<String>,
}

/// The Sail operator's `Istio` resource (cluster-scoped).
pub fn sail_ref() -> ObjectRef {
    let ar = ApiResource {
        group: "sailoperator.io".into(),
        version: "v1".into(),
        api_version: "sailoperator.io/v1".into(),
        kind: "Istio".into(),
        plural: "istios".into(),
    };
    ObjectRef::new(&ar, None, CONTROL_PLANE_NAME)
}

/// The `IstioOperator` resource in `istio-system`.
pub fn operator_ref() -> ObjectRef {
    let ar = ApiResource {
        group: "install.istio.io".into(),
        version: "v1alpha1".into(),
        api_version: "install.istio.io/v1alpha1".into(),
        kind: "IstioOperator".into(),
        plural: "istiooperators".into(),
    };
    ObjectRef::new(&ar, Some(ISTIO_SYSTEM), CONTROL_PLANE_NAME)
}

/// The gateway's Deployment and Service in `istio-system`.
pub fn gateway_refs() -> [ObjectRef; 2] {
    [
        ObjectRef::new(
            &ApiResource::erase::<k8s_openapi::api::apps::v1::Deployment>(&()),
            Some(ISTIO_SYSTEM),
            GATEWAY_NAME,
        ),
        ObjectRef::new(
            &ApiResource::erase::<k8s_openapi::api::core::v1::Service>(&()),
            Some(ISTIO_SYSTEM),
            GATEWAY_NAME,
        ),
    ]
}

fn k8s_resources(c: &ComponentSettings) -> Value {
    let r = &c.resources;
    json!({
        "requests": {"cpu": r.cpu_request, "memory": r.memory_request},
        "limits": {"cpu": r.cpu_limit, "memory": r.memory_limit},
    })
}

fn tolerations(c: &ComponentSettings) -> Value {
    Value::Array(
        c.placement
            .tolerations
            .iter()
            .map(|t| {
                let mut v = json!({"operator": t.operator});
                for (key, value) in [("key", &t.key), ("value", &t.value), ("effect", &t.effect)] {
                    if !value.is_empty() {
                        v[key] = json!(value);
                    }
                }
                v
            })
            .collect(),
    )
}

fn sampling(s: &MeshSettings) -> f64 {
    s.trace_sampling_percent.trim().parse().unwrap_or(1.0)
}

/// `apiVersion`, `kind` and `metadata` of `r` with `body`'s fields.
fn object(r: &ObjectRef, labels: Value, body: Value) -> Value {
    let mut obj = json!({
        "apiVersion": r.api_resource().api_version,
        "kind": r.kind,
        "metadata": {"name": r.name},
    });
    if labels.as_object().is_some_and(|l| !l.is_empty()) {
        obj["metadata"]["labels"] = labels;
    }
    if let Some(ns) = &r.namespace {
        obj["metadata"]["namespace"] = json!(ns);
    }
    if let (Some(map), Some(body)) = (obj.as_object_mut(), body.as_object()) {
        for (k, v) in body {
            map.insert(k.clone(), v.clone());
        }
    }
    obj
}

/// The Sail `Istio` resource for `s`.
pub fn sail_istio(s: &MeshSettings) -> Value {
    object(
        &sail_ref(),
        json!({}),
        json!({"spec": {
            "namespace": ISTIO_SYSTEM,
            "values": {
                "pilot": {
                    "resources": k8s_resources(&s.pilot),
                    "nodeSelector": s.pilot.placement.node_selector,
                    "tolerations": tolerations(&s.pilot),
                    "traceSampling": sampling(s),
                },
            },
        }}),
    )
}

/// The `IstioOperator` resource for `s`.
pub fn istio_operator(s: &MeshSettings) -> Value {
    object(
        &operator_ref(),
        json!({}),
        json!({"spec": {
            "components": {
                "pilot": {"k8s": {
                    "resources": k8s_resources(&s.pilot),
                    "nodeSelector": s.pilot.placement.node_selector,
                    "tolerations": tolerations(&s.pilot),
                }},
            },
            "values": {"pilot": {"traceSampling": sampling(s)}},
        }}),
    )
}

/// The gateway Deployment and Service for `s` (Istio's gateway injection
/// template fills in the proxy).
pub fn gateway_objects(s: &MeshSettings) -> [Value; 2] {
    let g = &s.ingress_gateway;
    let selector = json!({"app": GATEWAY_NAME, "istio": "ingressgateway"});
    let [dep_ref, svc_ref] = gateway_refs();
    let deployment = object(
        &dep_ref,
        selector.clone(),
        json!({"spec": {
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {
                    "labels": {"app": GATEWAY_NAME, "istio": "ingressgateway", "sidecar.istio.io/inject": "true"},
                    "annotations": {"inject.istio.io/templates": "gateway"},
                },
                "spec": {
                    "containers": [{"name": "istio-proxy", "image": "auto", "resources": k8s_resources(&g.component)}],
                    "nodeSelector": g.component.placement.node_selector,
                    "tolerations": tolerations(&g.component),
                },
            },
        }}),
    );
    let mut spec = json!({"selector": selector});
    match g.service_type {
        GatewayServiceType::NodePort => {
            spec["type"] = json!("NodePort");
            spec["ports"] = json!([
                {"name": "http2", "port": 80, "targetPort": 8080, "nodePort": g.http2_node_port, "protocol": "TCP"},
                {"name": "https", "port": 443, "targetPort": 8443, "nodePort": g.https_node_port, "protocol": "TCP"},
            ]);
        }
        GatewayServiceType::LoadBalancer => {
            spec["type"] = json!("LoadBalancer");
            spec["ports"] = json!([
                {"name": "http2", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP"},
            ]);
            if !g.load_balancer_ip.trim().is_empty() {
                spec["loadBalancerIP"] = json!(g.load_balancer_ip.trim());
            }
            if !g.load_balancer_source_ranges.is_empty() {
                spec["loadBalancerSourceRanges"] = json!(g.load_balancer_source_ranges);
            }
        }
    }
    let service = object(&svc_ref, selector, json!({"spec": spec}));
    [deployment, service]
}

/// Everything enabling the mesh with `settings` writes, given what was
/// decided about the control plane and about monitoring.
pub fn plan(
    settings: &MeshSettings,
    control_plane: &ControlPlaneDecision,
    monitoring: &MonitoringPlan,
) -> Plan {
    let mut objects = Vec::new();
    let mut uses = Vec::new();
    match control_plane {
        ControlPlaneDecision::Write(ControlPlaneKind::SailIstio) => {
            objects.push((sail_ref(), sail_istio(settings)));
        }
        ControlPlaneDecision::Write(ControlPlaneKind::IstioOperator) => {
            objects.push((operator_ref(), istio_operator(settings)));
        }
        ControlPlaneDecision::Write(_) => {}
        ControlPlaneDecision::UseExisting(what) => uses.push(what.clone()),
    }
    if settings.ingress_gateway.component.enabled {
        let [d, s] = gateway_refs();
        let [db, sb] = gateway_objects(settings);
        objects.push((d, db));
        objects.push((s, sb));
    }
    objects.extend(monitoring.objects.iter().cloned());
    uses.extend(monitoring.uses.iter().cloned());
    Plan {
        objects,
        uses,
        notes: monitoring.notes.clone(),
    }
}

/// The plan as one YAML stream (`---` between objects), as people read it
/// and as the golden files hold it.
pub fn to_yaml(plan: &Plan) -> String {
    let mut out = String::new();
    for note in &plan.uses {
        out.push_str(&format!("# uses, does not write: {note}\n"));
    }
    for note in &plan.notes {
        out.push_str(&format!("# left to the owner: {note}\n"));
    }
    for (_, body) in &plan.objects {
        out.push_str("---\n");
        out.push_str(&serde_yaml_ng::to_string(body).unwrap_or_else(|e| format!("# {e}\n")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::types::Toleration;
    use std::path::PathBuf;

    fn golden(name: &str, actual: &str) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("src/enablement/mesh/testdata")
            .join(name);
        if std::env::var_os("MESHDECK_UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, actual).unwrap();
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (MESHDECK_UPDATE_GOLDEN=1 writes it)",
                path.display()
            )
        });
        assert_eq!(actual, expected, "{name} differs from its golden file");
    }

    #[test]
    fn defaults_with_the_sail_operator() {
        let plan = plan(
            &MeshSettings::default(),
            &ControlPlaneDecision::Write(ControlPlaneKind::SailIstio),
            &MonitoringPlan::default(),
        );
        assert_eq!(plan.objects.len(), 1);
        let istio = &plan.objects[0].1;
        // The settings' values, independently of the golden file.
        assert_eq!(
            istio["spec"]["values"]["pilot"]["resources"]["requests"]["cpu"],
            "500m"
        );
        assert_eq!(istio["spec"]["values"]["pilot"]["traceSampling"], 1.0);
        golden("plan-defaults-sail.yaml", &to_yaml(&plan));
    }

    #[test]
    fn gateway_on_node_ports_with_istio_operator() {
        let mut s = MeshSettings::default();
        s.ingress_gateway.component.enabled = true;
        s.trace_sampling_percent = "12.5".into();
        s.pilot
            .placement
            .node_selector
            .insert("pool".into(), "system".into());
        let plan = plan(
            &s,
            &ControlPlaneDecision::Write(ControlPlaneKind::IstioOperator),
            &MonitoringPlan::default(),
        );
        let names: Vec<String> = plan.objects.iter().map(|(r, _)| r.describe()).collect();
        assert_eq!(
            names,
            [
                "IstioOperator istio-system/meshdeck",
                "Deployment istio-system/meshdeck-ingressgateway",
                "Service istio-system/meshdeck-ingressgateway",
            ]
        );
        let deployment = &plan.objects[1].1;
        assert!(
            deployment["spec"].get("replicas").is_none(),
            "replicas is the HPA's"
        );
        assert_eq!(plan.objects[2].1["spec"]["ports"][0]["nodePort"], 31380);
        golden("plan-gateway-nodeport-operator.yaml", &to_yaml(&plan));
    }

    #[test]
    fn monitors_where_the_prometheus_operator_is_served() {
        use super::super::monitoring::{self, Found, Survey};
        let survey = Survey {
            operator_api: true,
            service_monitor: Found::Absent,
            pod_monitor: Found::Absent,
            namespace: "meshdeck".into(),
            grafana_url: false,
            grafana_configmap: None,
        };
        let plan = plan(
            &MeshSettings::default(),
            &ControlPlaneDecision::UseExisting(
                "istiod 1.26.0 (Deployment istio-system/istiod)".into(),
            ),
            &monitoring::plan(&survey),
        );
        let names: Vec<String> = plan.objects.iter().map(|(r, _)| r.describe()).collect();
        assert_eq!(
            names,
            [
                "ServiceMonitor istio-system/istio-component-monitor",
                "PodMonitor istio-system/envoy-stats-monitor",
            ]
        );
        golden("plan-monitoring-operator.yaml", &to_yaml(&plan));
    }

    #[test]
    fn load_balancer_gateway_beside_an_existing_istiod() {
        let mut s = MeshSettings::default();
        s.ingress_gateway.component.enabled = true;
        s.ingress_gateway.service_type = GatewayServiceType::LoadBalancer;
        s.ingress_gateway.load_balancer_ip = "203.0.113.10".into();
        s.ingress_gateway.load_balancer_source_ranges = vec!["10.0.0.0/8".into()];
        s.ingress_gateway
            .component
            .placement
            .tolerations
            .push(Toleration {
                key: "dedicated".into(),
                operator: "Equal".into(),
                value: "edge".into(),
                effect: "NoSchedule".into(),
            });
        let plan = plan(
            &s,
            &ControlPlaneDecision::UseExisting(
                "istiod 1.24.1 (Deployment istio-system/istiod)".into(),
            ),
            &MonitoringPlan::default(),
        );
        assert_eq!(plan.objects.len(), 2);
        assert_eq!(plan.objects[1].1["spec"]["loadBalancerIP"], "203.0.113.10");
        golden("plan-gateway-loadbalancer-existing.yaml", &to_yaml(&plan));
    }
}
