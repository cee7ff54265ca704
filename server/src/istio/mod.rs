//! Istio configuration, read side: the objects of the Istio kinds the
//! cluster serves, the facts the checks need about the rest of the cluster
//! (services, pods, namespaces, service accounts, callers outside the
//! mesh), and the list and detail answers built from them.
//!
//! Everything is read with meshdeck's own account, cluster-wide, because a
//! finding about one object depends on others (a VirtualService's subset
//! lives in a DestinationRule, perhaps in another namespace). Answers carry
//! only objects and findings of namespaces the caller may see, and a
//! finding never names an object the caller may not see.

pub mod checks;
pub mod hosts;
pub mod managed;
pub mod wizards;

use std::collections::{BTreeMap, BTreeSet};

use app::types::{
    IstioConfigList, IstioKind, IstioKindServed, IstioObjectDetail, IstioObjectSummary,
    ServiceName, Severity, Validation,
};
use futures::future::{join_all, try_join4};
use k8s_openapi::api::core::v1::{Namespace, Pod, Service, ServiceAccount};
use kube::api::{Api, ApiResource, DynamicObject, ListParams, ObjectList};
use kube::core::GroupVersionKind;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::access::AccessScope;
use crate::cluster::{Acting, api_error};
use crate::error::{Error, Result};
use crate::upstream::prometheus::PrometheusClient;

/// The namespace whose PeerAuthentications without a selector apply to the
/// whole mesh (Istio's default `rootNamespace`).
pub const ROOT_NAMESPACE: &str = "istio-system";

/// Versions tried for each kind, newest first (Istio 1.22 serves `v1`).
const VERSIONS: [&str; 2] = ["v1", "v1beta1"];

/// Page size of list calls: bounds the memory one answer from the API
/// server takes while it is turned into the few facts kept.
const PAGE: u32 = 500;

/// The window in which requests from callers outside the mesh count.
pub const PLAINTEXT_WINDOW: &str = "1h";

/// One Istio object as read.
#[derive(Clone, Debug, PartialEq)]
pub struct IstioObject {
    /// Kind.
    pub kind: IstioKind,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Creation time (RFC 3339).
    pub created: Option<String>,
    /// `spec` (`Value::Null` when absent).
    pub spec: Value,
    /// The whole object, as the API server sent it.
    pub raw: Value,
}

impl IstioObject {
    /// A field of `spec` by JSON pointer (`/http/0/route`).
    pub fn at(&self, pointer: &str) -> Option<&Value> {
        self.spec.pointer(pointer)
    }

    /// `kind namespace/name`, for messages.
    pub fn describe(&self) -> String {
        format!("{} {}/{}", self.kind.label(), self.namespace, self.name)
    }
}

/// A Kubernetes service, with what the checks need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceInfo {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Pod selector (`None`: a service without one, e.g. ExternalName).
    pub selector: Option<BTreeMap<String, String>>,
    /// Its ports: number, name and `appProtocol`.
    pub ports: Vec<(i64, Option<String>, Option<String>)>,
}

/// A pod, with what the checks need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodInfo {
    /// Namespace.
    pub namespace: String,
    /// Its workload (controller) name, as Istio's telemetry names it.
    pub workload: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
}

/// Requests a workload received from callers outside the mesh without
/// mTLS, in the last [`PLAINTEXT_WINDOW`].
#[derive(Clone, Debug, PartialEq)]
pub struct PlaintextCallers {
    /// The receiving workload's namespace.
    pub namespace: String,
    /// The receiving workload.
    pub workload: String,
    /// How many requests.
    pub requests: f64,
}

/// Everything the checks read, taken at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Which kinds the cluster serves, in which version.
    pub served: Vec<IstioKindServed>,
    /// The Istio objects.
    pub objects: Vec<IstioObject>,
    /// The services.
    pub services: Vec<ServiceInfo>,
    /// The pods.
    pub pods: Vec<PodInfo>,
    /// The namespaces.
    pub namespaces: BTreeSet<String>,
    /// The service accounts, as `(namespace, name)`.
    pub service_accounts: BTreeSet<(String, String)>,
    /// Callers outside the mesh, or why they are unknown.
    pub plaintext: std::result::Result<Vec<PlaintextCallers>, String>,
}

impl Snapshot {
    /// The service `namespace/name`.
    pub fn service(&self, namespace: &str, name: &str) -> Option<&ServiceInfo> {
        self.services
            .iter()
            .find(|s| s.namespace == namespace && s.name == name)
    }

    /// The pods a service selects.
    pub fn pods_of<'a>(&'a self, service: &'a ServiceInfo) -> impl Iterator<Item = &'a PodInfo> {
        self.pods.iter().filter(move |p| {
            p.namespace == service.namespace
                && service
                    .selector
                    .as_ref()
                    .is_some_and(|sel| !sel.is_empty() && matches_labels(sel, &p.labels))
        })
    }

    /// The objects of one kind.
    pub fn of_kind(&self, kind: IstioKind) -> impl Iterator<Item = &IstioObject> {
        self.objects.iter().filter(move |o| o.kind == kind)
    }
}

/// Whether every `key=value` of `selector` is among `labels`.
pub fn matches_labels(
    selector: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// A string map at `value` (labels, selectors); non-string values skipped.
pub fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn api_resource(kind: IstioKind, version: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(kind.group(), version, kind.label()),
        kind.plural(),
    )
}

/// Lists every object of `api`, a page at a time, keeping what `keep`
/// makes of each.
async fn list_all<K, T>(
    api: &Api<K>,
    what: &str,
    mut keep: impl FnMut(K) -> Option<T>,
) -> std::result::Result<Vec<T>, kube::Error>
where
    K: Clone + DeserializeOwned + std::fmt::Debug,
{
    let _ = what;
    let mut out = Vec::new();
    let mut params = ListParams::default().limit(PAGE);
    loop {
        let page: ObjectList<K> = api.list(&params).await?;
        out.extend(page.items.into_iter().filter_map(&mut keep));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(out),
        }
    }
}

/// Lists one Istio kind cluster-wide: `v1`, else `v1beta1`; a kind served
/// in neither is absent (`None`), not an error.
async fn list_kind(
    client: &kube::Client,
    kind: IstioKind,
) -> Result<(Option<String>, Vec<IstioObject>)> {
    for version in VERSIONS {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &api_resource(kind, version));
        match list_all(&api, kind.plural(), |o| Some(istio_object(kind, o))).await {
            Ok(objects) => return Ok((Some(version.to_owned()), objects)),
            Err(kube::Error::Api(e)) if e.code == 404 => continue,
            // The Gateway API's routes came later to meshdeck's documented
            // RBAC: an account set up before them still gets the rest of
            // the Istio config, without the routes (and says why).
            Err(kube::Error::Api(e))
                if e.code == 403 && kind.group() == app::types::GATEWAY_API_GROUP =>
            {
                tracing::warn!(
                    kind = kind.label(),
                    "meshdeck's account may not list {}.{}: Gateway API routes are left out (grant it as deploy/rbac/console.yaml does)",
                    kind.plural(),
                    kind.group()
                );
                return Ok((None, Vec::new()));
            }
            Err(e) => {
                return Err(api_error(
                    &format!("list {}.{}", kind.plural(), kind.group()),
                    Acting::Meshdeck,
                    e,
                ));
            }
        }
    }
    Ok((None, Vec::new()))
}

fn istio_object(kind: IstioKind, object: DynamicObject) -> IstioObject {
    let meta = &object.metadata;
    let raw = serde_json::to_value(&object).unwrap_or(Value::Null);
    IstioObject {
        kind,
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
        labels: meta.labels.clone().unwrap_or_default(),
        created: meta.creation_timestamp.as_ref().map(|t| t.0.to_string()),
        spec: object.data.get("spec").cloned().unwrap_or(Value::Null),
        raw,
    }
}

/// Reads everything the checks need: the Istio kinds, then services, pods,
/// namespaces and service accounts (with meshdeck's account), and the
/// callers outside the mesh (from Prometheus, when there is one).
pub async fn snapshot(
    client: &kube::Client,
    prometheus: Option<&PrometheusClient>,
    now_s: f64,
) -> Result<Snapshot> {
    let kinds = join_all(IstioKind::ALL.iter().map(|k| list_kind(client, *k)));
    let rest = async {
        let meshdeck = |what: &'static str| move |e| api_error(what, Acting::Meshdeck, e);
        try_join4(
            async {
                list_all(&Api::<Service>::all(client.clone()), "services", |s| {
                    let ports = s
                        .spec
                        .as_ref()
                        .and_then(|spec| spec.ports.as_ref())
                        .map(|ports| {
                            ports
                                .iter()
                                .map(|p| {
                                    (i64::from(p.port), p.name.clone(), p.app_protocol.clone())
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    Some(ServiceInfo {
                        namespace: s.metadata.namespace?,
                        name: s.metadata.name?,
                        selector: s.spec.and_then(|spec| spec.selector),
                        ports,
                    })
                })
                .await
                .map_err(meshdeck("list services"))
            },
            async {
                list_all(&Api::<Pod>::all(client.clone()), "pods", |p| {
                    let namespace = p.metadata.namespace.clone()?;
                    let workload = crate::graph::pod_workload(&namespace, &p).workload;
                    Some(PodInfo {
                        namespace,
                        workload,
                        labels: p.metadata.labels.unwrap_or_default(),
                    })
                })
                .await
                .map_err(meshdeck("list pods"))
            },
            async {
                list_all(&Api::<Namespace>::all(client.clone()), "namespaces", |n| {
                    n.metadata.name
                })
                .await
                .map_err(meshdeck("list namespaces"))
            },
            async {
                list_all(
                    &Api::<ServiceAccount>::all(client.clone()),
                    "serviceaccounts",
                    |a| Some((a.metadata.namespace?, a.metadata.name?)),
                )
                .await
                .map_err(meshdeck("list serviceaccounts"))
            },
        )
        .await
    };
    let plaintext = async {
        match prometheus {
            Some(p) => plaintext_callers(p, now_s).await.map_err(|e| e.to_string()),
            None => Err("no Prometheus is configured".to_owned()),
        }
    };
    let (kinds, rest, plaintext) = futures::join!(kinds, rest, plaintext);
    let (services, pods, namespaces, service_accounts) = rest?;
    let mut served = Vec::new();
    let mut objects = Vec::new();
    for (kind, answer) in IstioKind::ALL.iter().zip(kinds) {
        let (version, mut list) = answer?;
        served.push(IstioKindServed {
            kind: *kind,
            version,
        });
        objects.append(&mut list);
    }
    objects.sort_by(|a, b| (a.kind, &a.namespace, &a.name).cmp(&(b.kind, &b.namespace, &b.name)));
    Ok(Snapshot {
        served,
        objects,
        services,
        pods,
        namespaces: namespaces.into_iter().collect(),
        service_accounts: service_accounts.into_iter().collect(),
        plaintext,
    })
}

/// The PromQL for requests received, per workload, from callers outside
/// the mesh without mTLS (Istio reports them at the destination with
/// `source_workload="unknown"`).
pub fn plaintext_promql() -> String {
    format!(
        "sum by (destination_workload_namespace, destination_workload) (increase(istio_requests_total{{reporter=\"destination\",source_workload=\"unknown\",connection_security_policy!=\"mutual_tls\"}}[{PLAINTEXT_WINDOW}])) > 0"
    )
}

async fn plaintext_callers(
    prometheus: &PrometheusClient,
    now_s: f64,
) -> Result<Vec<PlaintextCallers>> {
    let samples = prometheus.query(&plaintext_promql(), now_s).await?;
    Ok(samples
        .into_iter()
        .filter(|s| s.value.is_finite() && s.value > 0.0)
        .filter_map(|s| {
            Some(PlaintextCallers {
                namespace: s.labels.get("destination_workload_namespace")?.clone(),
                workload: s.labels.get("destination_workload")?.clone(),
                requests: s.value,
            })
        })
        .collect())
}

/// The namespaces the caller asked for (`None`: all they may see), each
/// checked; 403 for one they may not see.
pub fn requested_namespaces(
    scope: &AccessScope,
    snapshot: &Snapshot,
    asked: Option<&str>,
) -> Result<Vec<String>> {
    match asked.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(snapshot
            .namespaces
            .iter()
            .filter(|ns| scope.can_see(ns))
            .cloned()
            .collect()),
        Some(list) => {
            let mut out = BTreeSet::new();
            for ns in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                crate::cluster::names::namespace(ns)?;
                scope.check_namespace(ns)?;
                out.insert(ns.to_owned());
            }
            Ok(out.into_iter().collect())
        }
    }
}

/// The services an object configures (see [`IstioObjectSummary::services`]).
pub fn services_of(object: &IstioObject, snapshot: &Snapshot) -> Vec<ServiceName> {
    let mut out = BTreeSet::new();
    let mut add_host = |host: &str| {
        let fqdn = hosts::fqdn(host, &object.namespace);
        if let Some((ns, name)) = hosts::service_of(&fqdn)
            && snapshot.service(&ns, &name).is_some()
        {
            out.insert(ServiceName {
                namespace: ns,
                name,
            });
        }
    };
    match object.kind {
        IstioKind::VirtualService => {
            for h in strings(object.at("/hosts")) {
                add_host(h);
            }
            for (_, d) in checks::destinations(object) {
                if let Some(h) = d.get("host").and_then(Value::as_str) {
                    add_host(h);
                }
            }
        }
        IstioKind::DestinationRule => {
            if let Some(h) = object.at("/host").and_then(Value::as_str) {
                add_host(h);
            }
        }
        IstioKind::PeerAuthentication
        | IstioKind::AuthorizationPolicy
        | IstioKind::RequestAuthentication
        | IstioKind::Sidecar => {
            let selector = string_map(object.at("/selector/matchLabels"))
                .into_iter()
                .chain(string_map(object.at("/workloadSelector/labels")))
                .collect::<BTreeMap<_, _>>();
            if !selector.is_empty() {
                for s in snapshot
                    .services
                    .iter()
                    .filter(|s| s.namespace == object.namespace)
                {
                    if snapshot
                        .pods_of(s)
                        .any(|p| matches_labels(&selector, &p.labels))
                    {
                        out.insert(ServiceName {
                            namespace: s.namespace.clone(),
                            name: s.name.clone(),
                        });
                    }
                }
            }
        }
        IstioKind::HttpRoute | IstioKind::GrpcRoute => {
            // Parents (GAMMA: the Service a mesh route attaches to) and
            // backends that are Services.
            let refs = object
                .at("/parentRefs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .chain(
                    object
                        .at("/rules")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|r| r.get("backendRefs").and_then(Value::as_array))
                        .flatten(),
                );
            for r in refs {
                let group = r.get("group").and_then(Value::as_str).unwrap_or("");
                let kind = r.get("kind").and_then(Value::as_str);
                let is_service = group.is_empty() && kind.is_none_or(|k| k == "Service");
                if let (true, Some(name)) = (is_service, r.get("name").and_then(Value::as_str)) {
                    let ns = r
                        .get("namespace")
                        .and_then(Value::as_str)
                        .unwrap_or(&object.namespace);
                    if snapshot.service(ns, name).is_some() {
                        out.insert(ServiceName {
                            namespace: ns.to_owned(),
                            name: name.to_owned(),
                        });
                    }
                }
            }
        }
        IstioKind::Gateway | IstioKind::ServiceEntry => {}
    }
    out.into_iter().collect()
}

/// The strings of an array value (non-strings skipped).
pub fn strings(value: Option<&Value>) -> impl Iterator<Item = &str> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// Findings, errors first, then by object and path.
fn sorted(mut findings: Vec<Validation>) -> Vec<Validation> {
    findings.sort_by(|a, b| {
        (a.severity, a.kind, &a.namespace, &a.name, &a.path, &a.code).cmp(&(
            b.severity,
            b.kind,
            &b.namespace,
            &b.name,
            &b.path,
            &b.code,
        ))
    });
    findings
}

/// `GET /api/istio/config`: the objects and findings of `namespaces`.
pub fn config_list(
    scope: &AccessScope,
    snapshot: &Snapshot,
    namespaces: Vec<String>,
) -> IstioConfigList {
    let wanted: BTreeSet<&str> = namespaces.iter().map(String::as_str).collect();
    let findings = checks::validate(snapshot, &|ns| scope.can_see(ns));
    let validations: Vec<Validation> = sorted(
        findings
            .into_iter()
            .filter(|v| wanted.contains(v.namespace.as_str()))
            .collect(),
    );
    let objects = snapshot
        .objects
        .iter()
        .filter(|o| wanted.contains(o.namespace.as_str()))
        .map(|o| {
            let count = |sev: Severity| {
                validations
                    .iter()
                    .filter(|v| {
                        v.severity == sev
                            && v.kind == o.kind
                            && v.namespace == o.namespace
                            && v.name == o.name
                    })
                    .count() as u32
            };
            IstioObjectSummary {
                kind: o.kind,
                namespace: o.namespace.clone(),
                name: o.name.clone(),
                hosts: object_hosts(o),
                services: services_of(o, snapshot)
                    .into_iter()
                    .filter(|s| scope.can_see(&s.namespace))
                    .collect(),
                managed_by_meshdeck: o.labels.get("app.kubernetes.io/managed-by")
                    == Some(&"meshdeck".to_owned()),
                created: o.created.clone(),
                errors: count(Severity::Error),
                warnings: count(Severity::Warning),
            }
        })
        .collect();
    let skipped = match &snapshot.plaintext {
        Ok(_) => Vec::new(),
        Err(why) => vec![format!(
            "pa.strict-with-plaintext-callers: the callers outside the mesh come from Prometheus, which could not be read ({why})"
        )],
    };
    IstioConfigList {
        namespaces,
        kinds: snapshot.served.clone(),
        objects,
        validations,
        skipped,
    }
}

fn object_hosts(object: &IstioObject) -> Vec<String> {
    match object.kind {
        IstioKind::VirtualService | IstioKind::ServiceEntry => {
            strings(object.at("/hosts")).map(str::to_owned).collect()
        }
        IstioKind::DestinationRule => object
            .at("/host")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .into_iter()
            .collect(),
        IstioKind::Gateway => {
            let mut hosts: Vec<String> = object
                .at("/servers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .flat_map(|s| strings(s.get("hosts")).map(str::to_owned))
                .collect();
            hosts.dedup();
            hosts
        }
        _ => Vec::new(),
    }
}

/// `GET /api/istio/config/{namespace}/{kind}/{name}`: one object, without
/// its `managedFields` (summarised instead), with its findings.
pub fn object_detail(
    scope: &AccessScope,
    snapshot: &Snapshot,
    kind: IstioKind,
    namespace: &str,
    name: &str,
) -> Result<IstioObjectDetail> {
    let served = snapshot
        .served
        .iter()
        .any(|s| s.kind == kind && s.version.is_some());
    if !served {
        return Err(Error::NotFound(format!(
            "the cluster does not serve {}.{} (is Istio installed?)",
            kind.plural(),
            kind.group()
        )));
    }
    let object = snapshot
        .objects
        .iter()
        .find(|o| o.kind == kind && o.namespace == namespace && o.name == name)
        .ok_or_else(|| Error::NotFound(format!("{} {namespace}/{name} not found", kind.label())))?;
    let managers = managed::managers(&object.raw);
    let mut shown = object.raw.clone();
    if let Some(meta) = shown.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    let yaml = serde_yaml_ng::to_string(&shown)
        .map_err(|e| Error::internal(format!("could not print the object as YAML: {e}")))?;
    let validations = sorted(
        checks::validate(snapshot, &|ns| scope.can_see(ns))
            .into_iter()
            .filter(|v| v.kind == kind && v.namespace == namespace && v.name == name)
            .collect(),
    );
    Ok(IstioObjectDetail {
        kind,
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        yaml,
        object: shown,
        managers,
        validations,
    })
}
