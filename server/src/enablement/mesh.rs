//! Enabling and disabling the mesh for the cluster. Enabling writes the
//! control-plane resource where an operator API is served (the Sail
//! operator's `Istio`, else an `IstioOperator`), otherwise relies on an
//! existing istiod, and creates the ingress gateway (Deployment + Service in
//! `istio-system`) when the settings switch it on. What it created is
//! recorded in a ConfigMap, and disabling removes exactly that.
//!
//! Everything is checked before the first write (settings valid, plan fits,
//! no foreign object in the way, every object accepted by a server-side dry
//! run); if a later write still fails, the ones before it are rolled back.

use std::collections::BTreeMap;

use app::types::{
    ComponentSettings, ControlPlane, ControlPlaneKind, GatewayServiceType, IngressInfo,
    IngressKind, MeshChange, MeshSettings, MeshStatus,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Service};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, ListParams, ObjectMeta, Patch, PatchParams,
    PostParams,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    AUTO_INJECTED_ANNOTATION, INJECTION_LABEL, ISTIO_SYSTEM, MANAGED_BY_LABEL, MANAGED_BY_VALUE,
    kube_error, settings,
};
use crate::error::{Error, Result};

/// ConfigMap recording what enabling created.
pub const STATE_CONFIGMAP: &str = "meshdeck-mesh";
/// Key of the state JSON in it.
pub const STATE_KEY: &str = "state.json";
/// Name of the gateway Deployment and Service meshdeck creates.
pub const GATEWAY_NAME: &str = "meshdeck-ingressgateway";
/// Name of the control-plane resource meshdeck writes.
pub const CONTROL_PLANE_NAME: &str = "meshdeck";

/// A Kubernetes object meshdeck created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    /// API group (`""` for core).
    pub group: String,
    /// API version.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Plural resource name.
    pub plural: String,
    /// Namespace, if namespaced.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl ObjectRef {
    fn api_resource(&self) -> ApiResource {
        ApiResource {
            group: self.group.clone(),
            version: self.version.clone(),
            api_version: if self.group.is_empty() {
                self.version.clone()
            } else {
                format!("{}/{}", self.group, self.version)
            },
            kind: self.kind.clone(),
            plural: self.plural.clone(),
        }
    }

    fn api(&self, client: &kube::Client) -> Api<DynamicObject> {
        let ar = self.api_resource();
        match &self.namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
            None => Api::all_with(client.clone(), &ar),
        }
    }

    /// `Kind namespace/name`.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// What the state ConfigMap holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeshState {
    /// Enabled through meshdeck.
    pub enabled: bool,
    /// When (RFC 3339).
    pub enabled_at: Option<String>,
    /// Objects meshdeck created, in creation order.
    pub created: Vec<ObjectRef>,
}

/// The stored state and its ConfigMap's resourceVersion.
pub async fn load_state(
    client: &kube::Client,
    namespace: &str,
) -> Result<(MeshState, Option<String>)> {
    let api = Api::<ConfigMap>::namespaced(client.clone(), namespace);
    let Some(cm) = api
        .get_opt(STATE_CONFIGMAP)
        .await
        .map_err(|e| kube_error(&format!("get configmap {namespace}/{STATE_CONFIGMAP}"), e))?
    else {
        return Ok((MeshState::default(), None));
    };
    let state = match cm.data.as_ref().and_then(|d| d.get(STATE_KEY)) {
        Some(text) => serde_json::from_str(text).map_err(|e| Error::Internal {
            context: format!("{namespace}/{STATE_CONFIGMAP} holds a state meshdeck cannot read"),
            source: Some(Box::new(e)),
        })?,
        None => MeshState::default(),
    };
    Ok((state, cm.metadata.resource_version))
}

async fn save_state(
    client: &kube::Client,
    namespace: &str,
    state: &MeshState,
    rv: Option<String>,
) -> Result<()> {
    let api = Api::<ConfigMap>::namespaced(client.clone(), namespace);
    let text = serde_json::to_string_pretty(state)
        .map_err(|e| Error::internal(format!("serialising the mesh state: {e}")))?;
    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some(STATE_CONFIGMAP.into()),
            namespace: Some(namespace.into()),
            labels: Some(managed_labels()),
            resource_version: rv.clone(),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(STATE_KEY.into(), text)])),
        ..ConfigMap::default()
    };
    let what = format!("{namespace}/{STATE_CONFIGMAP}");
    let result = match rv {
        None => api.create(&PostParams::default(), &cm).await,
        Some(_) => {
            api.replace(STATE_CONFIGMAP, &PostParams::default(), &cm)
                .await
        }
    };
    result.map(|_| ()).map_err(|e| match e {
        kube::Error::Api(s) if s.code == 409 => Error::Conflict(format!(
            "the mesh state in {what} changed meanwhile (another enable or disable?); reload and try again"
        )),
        other => kube_error(&format!("write configmap {what}"), other),
    })
}

fn managed_labels() -> BTreeMap<String, String> {
    BTreeMap::from([(MANAGED_BY_LABEL.into(), MANAGED_BY_VALUE.into())])
}

fn is_managed(meta: &ObjectMeta) -> bool {
    meta.labels
        .as_ref()
        .and_then(|l| l.get(MANAGED_BY_LABEL))
        .map(String::as_str)
        == Some(MANAGED_BY_VALUE)
}

/// Whether `group/version` serves `plural` (discovery).
async fn served(client: &kube::Client, api_version: &str, plural: &str) -> Result<bool> {
    match client.list_api_group_resources(api_version).await {
        Ok(list) => Ok(list.resources.iter().any(|r| r.name == plural)),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
        Err(e) => Err(kube_error(&format!("discover {api_version}"), e)),
    }
}

fn sail_ref() -> ObjectRef {
    ObjectRef {
        group: "sailoperator.io".into(),
        version: "v1".into(),
        kind: "Istio".into(),
        plural: "istios".into(),
        namespace: None,
        name: CONTROL_PLANE_NAME.into(),
    }
}

fn operator_ref() -> ObjectRef {
    ObjectRef {
        group: "install.istio.io".into(),
        version: "v1alpha1".into(),
        kind: "IstioOperator".into(),
        plural: "istiooperators".into(),
        namespace: Some(ISTIO_SYSTEM.into()),
        name: CONTROL_PLANE_NAME.into(),
    }
}

fn gateway_refs() -> [ObjectRef; 2] {
    [
        ObjectRef {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
            plural: "deployments".into(),
            namespace: Some(ISTIO_SYSTEM.into()),
            name: GATEWAY_NAME.into(),
        },
        ObjectRef {
            group: String::new(),
            version: "v1".into(),
            kind: "Service".into(),
            plural: "services".into(),
            namespace: Some(ISTIO_SYSTEM.into()),
            name: GATEWAY_NAME.into(),
        },
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
                if !t.key.is_empty() {
                    v["key"] = json!(t.key);
                }
                if !t.value.is_empty() {
                    v["value"] = json!(t.value);
                }
                if !t.effect.is_empty() {
                    v["effect"] = json!(t.effect);
                }
                v
            })
            .collect(),
    )
}

fn sampling(s: &MeshSettings) -> f64 {
    s.trace_sampling_percent.trim().parse().unwrap_or(1.0)
}

fn object(r: &ObjectRef, labels: Value, spec_or_body: Value) -> Value {
    let mut obj = json!({
        "apiVersion": r.api_resource().api_version,
        "kind": r.kind,
        "metadata": {"name": r.name, "labels": labels},
    });
    if let Some(ns) = &r.namespace {
        obj["metadata"]["namespace"] = json!(ns);
    }
    if let (Some(obj_map), Some(body)) = (obj.as_object_mut(), spec_or_body.as_object()) {
        for (k, v) in body {
            obj_map.insert(k.clone(), v.clone());
        }
    }
    obj
}

/// The Sail `Istio` resource for `s`.
pub fn sail_istio(s: &MeshSettings) -> Value {
    object(
        &sail_ref(),
        json!(managed_labels()),
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
        json!(managed_labels()),
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
    let mut labels = selector.clone();
    labels[MANAGED_BY_LABEL] = json!(MANAGED_BY_VALUE);
    let [dep_ref, svc_ref] = gateway_refs();
    let deployment = object(
        &dep_ref,
        labels.clone(),
        json!({"spec": {
            "replicas": 1,
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
    let service = object(&svc_ref, labels, json!({"spec": spec}));
    [deployment, service]
}

/// What the control plane is, found by discovery and in `istio-system`.
/// The `ObjectRef` is the control-plane resource meshdeck writes, if any.
async fn detect_control_plane(
    client: &kube::Client,
    state: &MeshState,
) -> Result<(ControlPlane, Option<ObjectRef>)> {
    let version = istiod_version(client).await?;
    if served(client, "sailoperator.io/v1", "istios").await? {
        return operator_plane(
            client,
            state,
            ControlPlaneKind::SailIstio,
            sail_ref(),
            version,
        )
        .await;
    }
    if served(client, "install.istio.io/v1alpha1", "istiooperators").await? {
        return operator_plane(
            client,
            state,
            ControlPlaneKind::IstioOperator,
            operator_ref(),
            version,
        )
        .await;
    }
    let kind = if version.is_some() {
        ControlPlaneKind::ExistingIstiod
    } else {
        ControlPlaneKind::None
    };
    let resource = version
        .is_some()
        .then(|| format!("Deployment {ISTIO_SYSTEM}/istiod"));
    Ok((
        ControlPlane {
            kind,
            resource,
            version,
            managed_by_meshdeck: false,
        },
        None,
    ))
}

/// Where an operator API is served: meshdeck writes its own resource `r`,
/// unless a resource of that kind that someone else wrote already exists.
/// Then meshdeck leaves the control plane to it and writes none (a second
/// `Istio` would be a second control plane).
async fn operator_plane(
    client: &kube::Client,
    state: &MeshState,
    kind: ControlPlaneKind,
    r: ObjectRef,
    version: Option<String>,
) -> Result<(ControlPlane, Option<ObjectRef>)> {
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &r.api_resource());
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| kube_error(&format!("list {}", r.plural), e))?;
    let named = |meta: &ObjectMeta| {
        let name = meta.name.clone().unwrap_or_default();
        match &meta.namespace {
            Some(ns) => format!("{ns}/{name}"),
            None => name,
        }
    };
    if let Some(foreign) = list.items.iter().find(|o| !is_managed(&o.metadata)) {
        return Ok((
            ControlPlane {
                kind,
                resource: Some(named(&foreign.metadata)),
                version,
                managed_by_meshdeck: false,
            },
            None,
        ));
    }
    let resource = match &r.namespace {
        Some(ns) => format!("{ns}/{}", r.name),
        None => r.name.clone(),
    };
    Ok((
        ControlPlane {
            kind,
            resource: Some(resource),
            version,
            managed_by_meshdeck: state.created.contains(&r),
        },
        Some(r),
    ))
}

/// istiod's version from its image tag; `None` when there is no istiod.
async fn istiod_version(client: &kube::Client) -> Result<Option<String>> {
    let api = Api::<Deployment>::namespaced(client.clone(), ISTIO_SYSTEM);
    let list = match api.list(&ListParams::default().labels("app=istiod")).await {
        Ok(l) => l,
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(None),
        Err(e) => return Err(kube_error("list istiod deployments", e)),
    };
    Ok(list.items.first().map(|d| {
        d.spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .and_then(|s| s.containers.first())
            .and_then(|c| c.image.as_deref())
            .and_then(|i| i.rsplit_once(':').map(|(_, tag)| tag.to_owned()))
            .unwrap_or_else(|| "unknown".into())
    }))
}

/// Controllers recognised by their `app.kubernetes.io/name`.
const INGRESS_CONTROLLERS: &[&str] = &[
    "ingress-nginx",
    "traefik",
    "haproxy-ingress",
    "contour",
    "kong",
    "emissary-ingress",
];

fn describe_ports(svc: &Service) -> Vec<String> {
    svc.spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .map(|ports| {
            ports
                .iter()
                .map(|p| {
                    let name = p.name.clone().unwrap_or_else(|| "port".into());
                    match p.node_port {
                        Some(np) => format!("{name} {} → node {np}", p.port),
                        None => format!("{name} {}", p.port),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every ingress: controllers and Istio gateways exposed outside the cluster.
async fn ingresses(client: &kube::Client) -> Result<Vec<IngressInfo>> {
    let services = Api::<Service>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map_err(|e| kube_error("list services", e))?;
    let mut out = Vec::new();
    for svc in &services.items {
        let service_type = svc
            .spec
            .as_ref()
            .and_then(|s| s.type_.clone())
            .unwrap_or_default();
        if service_type != "NodePort" && service_type != "LoadBalancer" {
            continue;
        }
        let labels = svc.metadata.labels.clone().unwrap_or_default();
        let kind = if labels.get("istio").map(String::as_str) == Some("ingressgateway") {
            IngressKind::IstioGateway
        } else if labels
            .get("app.kubernetes.io/name")
            .is_some_and(|n| INGRESS_CONTROLLERS.contains(&n.as_str()))
        {
            IngressKind::Controller
        } else {
            continue;
        };
        out.push(IngressInfo {
            kind,
            namespace: svc.metadata.namespace.clone().unwrap_or_default(),
            name: svc.metadata.name.clone().unwrap_or_default(),
            service_type,
            ports: describe_ports(svc),
            managed_by_meshdeck: is_managed(&svc.metadata),
        });
    }
    out.sort_by(|a, b| {
        (a.kind == IngressKind::IstioGateway, &a.namespace, &a.name).cmp(&(
            b.kind == IngressKind::IstioGateway,
            &b.namespace,
            &b.name,
        ))
    });
    Ok(out)
}

/// The mesh's cluster-level state.
pub async fn status(client: &kube::Client, namespace: &str) -> Result<MeshStatus> {
    let (state, _) = load_state(client, namespace).await?;
    status_of(client, &state).await
}

async fn status_of(client: &kube::Client, state: &MeshState) -> Result<MeshStatus> {
    let (control_plane, _) = detect_control_plane(client, state).await?;
    Ok(MeshStatus {
        enabled: state.enabled,
        enabled_at: state.enabled_at.clone(),
        control_plane,
        ingresses: ingresses(client).await?,
        created: state.created.iter().map(ObjectRef::describe).collect(),
    })
}

async fn get_existing(client: &kube::Client, r: &ObjectRef) -> Result<Option<DynamicObject>> {
    r.api(client)
        .get_opt(&r.name)
        .await
        .map_err(|e| kube_error(&format!("get {}", r.describe()), e))
}

fn post_params(dry_run: bool) -> PostParams {
    PostParams {
        dry_run,
        ..PostParams::default()
    }
}

/// Creates `body` as `r`, or replaces it when it is meshdeck's already.
async fn apply(
    client: &kube::Client,
    r: &ObjectRef,
    body: &Value,
    existing: Option<&DynamicObject>,
    dry_run: bool,
) -> Result<()> {
    let mut obj: DynamicObject = serde_json::from_value(body.clone())
        .map_err(|e| Error::internal(format!("building {}: {e}", r.describe())))?;
    let api = r.api(client);
    match existing {
        None => api
            .create(&post_params(dry_run), &obj)
            .await
            .map(|_| ())
            .map_err(|e| kube_error(&format!("create {}", r.describe()), e)),
        Some(current) => {
            obj.metadata.resource_version = current.metadata.resource_version.clone();
            api.replace(&r.name, &post_params(dry_run), &obj)
                .await
                .map(|_| ())
                .map_err(|e| kube_error(&format!("replace {}", r.describe()), e))
        }
    }
}

async fn delete(client: &kube::Client, r: &ObjectRef, dry_run: bool) -> Result<()> {
    let params = if dry_run {
        DeleteParams::default().dry_run()
    } else {
        DeleteParams::default()
    };
    match r.api(client).delete(&r.name, &params).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(kube_error(&format!("delete {}", r.describe()), e)),
    }
}

/// Now, truncated to the second like Kubernetes' creationTimestamps, so a
/// namespace created right after enabling never looks older than the enable.
fn now_rfc3339() -> String {
    use k8s_openapi::jiff::{RoundMode, Timestamp, TimestampRound, Unit};
    let now = Timestamp::now();
    now.round(
        TimestampRound::new()
            .smallest(Unit::Second)
            .mode(RoundMode::Trunc),
    )
    .unwrap_or(now)
    .to_string()
}

/// Enables the mesh with the stored settings (or says what that would do).
pub async fn enable(client: &kube::Client, namespace: &str, dry_run: bool) -> Result<MeshChange> {
    let (settings, _) = settings::load(client, namespace).await?;
    let errors = settings::validate(&settings);
    if !errors.is_empty() {
        return Err(Error::Invalid(format!(
            "the stored settings are invalid: {}",
            errors.join("; ")
        )));
    }
    let preflight = settings::preflight(client, &settings).await?;
    if !preflight.fits {
        return Err(Error::Invalid(format!(
            "the plan does not fit the schedulable nodes: {}",
            preflight.shortfalls.join("; ")
        )));
    }
    let (state, state_rv) = load_state(client, namespace).await?;
    let (control_plane, cp_ref) = detect_control_plane(client, &state).await?;
    if control_plane.kind == ControlPlaneKind::None {
        return Err(Error::Invalid(
            "no control plane: neither the Sail operator (sailoperator.io/v1 istios) nor IstioOperator is served, and there is no istiod in istio-system; install one of them first".into(),
        ));
    }
    let writes_control_plane = cp_ref.is_some();
    // The plan: every object with its body, checked before any write.
    let mut plan: Vec<(ObjectRef, Value)> = Vec::new();
    match (&control_plane.kind, cp_ref) {
        (ControlPlaneKind::SailIstio, Some(r)) => plan.push((r, sail_istio(&settings))),
        (ControlPlaneKind::IstioOperator, Some(r)) => plan.push((r, istio_operator(&settings))),
        _ => {}
    }
    let gateway_on = settings.ingress_gateway.component.enabled;
    if gateway_on {
        let [d, s] = gateway_refs();
        let [db, sb] = gateway_objects(&settings);
        plan.push((d, db));
        plan.push((s, sb));
    }
    let mut existing = Vec::new();
    for (r, _) in &plan {
        let current = get_existing(client, r).await?;
        if let Some(obj) = &current {
            if !is_managed(&obj.metadata) {
                return Err(Error::Conflict(format!(
                    "{} exists and was not created by meshdeck; meshdeck leaves it alone (remove or rename it first)",
                    r.describe()
                )));
            }
        }
        existing.push(current);
    }
    // Server-side dry run of every write: the API server validates them all.
    for ((r, body), current) in plan.iter().zip(&existing) {
        apply(client, r, body, current.as_ref(), true).await?;
    }
    let mut steps: Vec<String> = Vec::new();
    if !writes_control_plane {
        let what = match control_plane.kind {
            ControlPlaneKind::SailIstio => "Istio resource",
            ControlPlaneKind::IstioOperator => "IstioOperator",
            _ => "istiod",
        };
        let detail = match (&control_plane.kind, &control_plane.resource) {
            (ControlPlaneKind::ExistingIstiod, _) | (_, None) => {
                control_plane.version.clone().unwrap_or_default()
            }
            (_, Some(name)) => name.clone(),
        };
        steps.push(format!(
            "use the existing {what} ({detail}); meshdeck manages only what it creates"
        ));
    }
    for ((r, _), current) in plan.iter().zip(&existing) {
        steps.push(format!(
            "{} {}",
            if current.is_some() {
                "update"
            } else {
                "create"
            },
            r.describe()
        ));
    }
    // Objects from an earlier enable that the new settings no longer want.
    let wanted: Vec<&ObjectRef> = plan.iter().map(|(r, _)| r).collect();
    let obsolete: Vec<ObjectRef> = state
        .created
        .iter()
        .filter(|r| !wanted.contains(r))
        .cloned()
        .collect();
    for r in &obsolete {
        steps.push(format!("delete {} (no longer wanted)", r.describe()));
    }
    steps.push(format!("record the state in {namespace}/{STATE_CONFIGMAP}"));
    if dry_run {
        let status = status_of(client, &state).await?;
        return Ok(MeshChange {
            dry_run,
            steps,
            status,
        });
    }
    let mut done: Vec<ObjectRef> = Vec::new();
    for ((r, body), current) in plan.iter().zip(&existing) {
        if let Err(err) = apply(client, r, body, current.as_ref(), false).await {
            rollback(client, &done).await;
            return Err(err);
        }
        if current.is_none() {
            done.push(r.clone());
        }
    }
    let new_state = MeshState {
        enabled: true,
        enabled_at: if state.enabled {
            state.enabled_at.clone()
        } else {
            Some(now_rfc3339())
        },
        created: plan.iter().map(|(r, _)| r.clone()).collect(),
    };
    if let Err(err) = save_state(client, namespace, &new_state, state_rv).await {
        rollback(client, &done).await;
        return Err(err);
    }
    for r in &obsolete {
        if let Err(err) = delete(client, r, false).await {
            tracing::warn!(error = %err, object = %r.describe(), "could not remove an object meshdeck no longer needs");
        }
    }
    tracing::info!(steps = ?steps, "mesh enabled");
    let status = status_of(client, &new_state).await?;
    Ok(MeshChange {
        dry_run,
        steps,
        status,
    })
}

/// Removes what this enable created, newest first; failures are logged.
async fn rollback(client: &kube::Client, done: &[ObjectRef]) {
    for r in done.iter().rev() {
        if let Err(err) = delete(client, r, false).await {
            tracing::error!(error = %err, object = %r.describe(), "rollback could not remove an object");
        }
    }
}

/// Namespaces whose injection label auto-injection set and nobody changed
/// since: marked with [`AUTO_INJECTED_ANNOTATION`], label still `enabled`.
async fn auto_labelled(client: &kube::Client) -> Result<Vec<String>> {
    let list = Api::<Namespace>::all(client.clone())
        .list(&ListParams::default().labels(&format!("{INJECTION_LABEL}=enabled")))
        .await
        .map_err(|e| kube_error("list namespaces with injection", e))?;
    Ok(list
        .items
        .into_iter()
        .filter(|ns| {
            ns.metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(AUTO_INJECTED_ANNOTATION))
        })
        .filter_map(|ns| ns.metadata.name)
        .collect())
}

/// Removes the auto-injection label and its mark from namespace `ns`, if
/// they are still as auto-injection left them (re-read on a conflict).
async fn unlabel(client: &kube::Client, ns: &str, dry_run: bool) -> Result<()> {
    let api = Api::<Namespace>::all(client.clone());
    let params = if dry_run {
        PatchParams::default().dry_run()
    } else {
        PatchParams::default()
    };
    for _ in 0..3 {
        let Some(current) = api
            .get_opt(ns)
            .await
            .map_err(|e| kube_error(&format!("get namespace {ns:?}"), e))?
        else {
            return Ok(());
        };
        let meta = &current.metadata;
        let marked = meta
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(AUTO_INJECTED_ANNOTATION));
        let labelled = meta
            .labels
            .as_ref()
            .and_then(|l| l.get(INJECTION_LABEL))
            .is_some_and(|v| v == "enabled");
        if !marked || !labelled {
            return Ok(());
        }
        let patch = json!({"metadata": {
            "resourceVersion": meta.resource_version,
            "labels": {INJECTION_LABEL: null},
            "annotations": {AUTO_INJECTED_ANNOTATION: null},
        }});
        match api.patch(ns, &params, &Patch::Merge(&patch)).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
            Err(e) => return Err(kube_error(&format!("unlabel namespace {ns:?}"), e)),
        }
    }
    Err(Error::Conflict(format!(
        "namespace {ns} kept changing while meshdeck removed its injection label; try again"
    )))
}

/// Disables the mesh: removes exactly what enabling created, including the
/// injection labels auto-injection put on new namespaces.
pub async fn disable(client: &kube::Client, namespace: &str, dry_run: bool) -> Result<MeshChange> {
    let (state, state_rv) = load_state(client, namespace).await?;
    let mut steps = Vec::new();
    let mut remove = Vec::new();
    for r in &state.created {
        match get_existing(client, r).await? {
            Some(obj) if is_managed(&obj.metadata) => {
                steps.push(format!("delete {}", r.describe()));
                remove.push(r.clone());
            }
            Some(_) => steps.push(format!("leave {} (someone else owns it now)", r.describe())),
            None => steps.push(format!("{} is already gone", r.describe())),
        }
    }
    let auto = auto_labelled(client).await?;
    for ns in &auto {
        steps.push(format!(
            "remove {INJECTION_LABEL}=enabled from namespace {ns} (set automatically while the mesh was enabled; running pods keep their sidecars until restarted)"
        ));
    }
    if !state.enabled && state.created.is_empty() && auto.is_empty() {
        steps.push("the mesh is not enabled through meshdeck; nothing to do".into());
        let status = status_of(client, &state).await?;
        return Ok(MeshChange {
            dry_run,
            steps,
            status,
        });
    }
    steps.push(format!("record the state in {namespace}/{STATE_CONFIGMAP}"));
    for r in &remove {
        delete(client, r, true).await?;
    }
    for ns in &auto {
        unlabel(client, ns, true).await?;
    }
    if dry_run {
        let status = status_of(client, &state).await?;
        return Ok(MeshChange {
            dry_run,
            steps,
            status,
        });
    }
    // Record first: a failed delete then leaves an object meshdeck labelled,
    // never a state that claims objects are gone when they are not.
    let new_state = MeshState::default();
    save_state(client, namespace, &new_state, state_rv).await?;
    let mut failed = Vec::new();
    for r in &remove {
        if let Err(err) = delete(client, r, false).await {
            failed.push(format!("{}: {err}", r.describe()));
        }
    }
    for ns in &auto {
        if let Err(err) = unlabel(client, ns, false).await {
            failed.push(format!("the injection label of namespace {ns}: {err}"));
        }
    }
    if !failed.is_empty() {
        // Put the record back so a retry finds what is left.
        let (_, rv) = load_state(client, namespace).await?;
        let left = MeshState {
            created: state.created.clone(),
            ..state.clone()
        };
        save_state(client, namespace, &left, rv).await?;
        return Err(Error::Upstream {
            upstream: app::types::UpstreamKind::Kubernetes,
            reason: format!(
                "could not remove {}; the mesh stays recorded as enabled, try again",
                failed.join("; ")
            ),
        });
    }
    tracing::info!(steps = ?steps, "mesh disabled");
    let status = status_of(client, &new_state).await?;
    Ok(MeshChange {
        dry_run,
        steps,
        status,
    })
}
