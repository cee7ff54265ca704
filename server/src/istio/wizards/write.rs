//! The wizards against the cluster: the service's facts, previews (the
//! objects, a diff against the live ones, Kubernetes' server-side dry run
//! as the caller), applies and removal.
//!
//! Every write is a server-side apply (field manager `meshdeck`) or a
//! delete made with the caller's own credentials, so Kubernetes RBAC
//! decides and its audit log names the person; meshdeck's own account only
//! reads. Every object is dry-run first, and nothing is written unless all
//! of them pass; should a write still fail, the objects this call created
//! are deleted again.

use std::collections::BTreeMap;

use app::types::{
    IstioKind, ObjectAction, ServiceName, ServiceProtocol, ServiceTraffic, ServiceVersion,
    Severity, VersionWeight, WizardKind, WizardObject, WizardOutcome, WizardProblem, WizardRequest,
};
use kube::api::{ApiResource, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use serde_json::{Value, json};

use super::{
    Current, Desired, SERVICE_LABEL, ServiceFacts, VERSION_LABEL, build, diff, validate, wizards_of,
};
use crate::access::AccessScope;
use crate::cluster::apply::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, ObjectRef};
use crate::cluster::reviews::Attributes;
use crate::cluster::{Acting, FIELD_MANAGER, api_error};
use crate::error::{Error, Result};
use crate::istio::{self, IstioObject, Snapshot, checks, hosts, managed};
use crate::state::AppState;

/// How a wizard's write is made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Preview only (Kubernetes' `dryRun=All`).
    pub dry_run: bool,
    /// Take over fields other managers own.
    pub force: bool,
}

fn object_ref(kind: IstioKind, namespace: &str, name: &str) -> ObjectRef {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(kind.group(), "v1", kind.label()),
        kind.plural(),
    );
    ObjectRef::new(&ar, Some(namespace), name)
}

/// The protocol of a port, from `appProtocol` or the name's prefix
/// (Istio's rules: `http-web`, `grpc`, `tcp-db`, `mongo`...).
pub fn port_protocol(name: Option<&str>, app_protocol: Option<&str>) -> ServiceProtocol {
    let text = app_protocol.or(name).unwrap_or("").to_ascii_lowercase();
    let prefix = text.split(['-', '.']).next().unwrap_or("");
    match prefix {
        "grpc" | "grpc-web" => ServiceProtocol::Grpc,
        "tcp" | "mongo" | "mysql" | "redis" | "tls" | "https" | "kafka" | "postgres"
        | "postgresql" => ServiceProtocol::Tcp,
        _ => ServiceProtocol::Http,
    }
}

/// The labels of the ingress gateway's pods in the root namespace (Istio's
/// `istio: ingressgateway` when none is found).
fn gateway_selector(snapshot: &Snapshot) -> BTreeMap<String, String> {
    let pods = || {
        snapshot
            .pods
            .iter()
            .filter(|p| p.namespace == istio::ROOT_NAMESPACE)
    };
    for key in ["istio", "app"] {
        if let Some(value) = pods()
            .filter_map(|p| p.labels.get(key))
            .find(|v| v.contains("ingressgateway"))
        {
            return BTreeMap::from([(key.to_owned(), value.clone())]);
        }
    }
    BTreeMap::from([("istio".to_owned(), "ingressgateway".to_owned())])
}

/// The service's facts, from the snapshot; 404 when it does not exist.
pub fn facts(snapshot: &Snapshot, namespace: &str, name: &str) -> Result<ServiceFacts> {
    let service = snapshot
        .service(namespace, name)
        .ok_or_else(|| Error::NotFound(format!("service {namespace}/{name} not found")))?;
    let (port, protocol) = service
        .ports
        .first()
        .map(|(number, name, app)| {
            (
                Some(*number),
                port_protocol(name.as_deref(), app.as_deref()),
            )
        })
        .unwrap_or((None, ServiceProtocol::Http));
    let mut versions: BTreeMap<String, ServiceVersion> = BTreeMap::new();
    for pod in snapshot.pods_of(service) {
        let Some(version) = pod.labels.get(VERSION_LABEL) else {
            continue;
        };
        let entry = versions
            .entry(version.clone())
            .or_insert_with(|| ServiceVersion {
                version: version.clone(),
                workloads: Vec::new(),
                pods: 0,
            });
        entry.pods += 1;
        if !entry.workloads.contains(&pod.workload) {
            entry.workloads.push(pod.workload.clone());
        }
    }
    let mut versions: Vec<ServiceVersion> = versions.into_values().collect();
    versions.sort_by(|a, b| natural(&a.version, &b.version));
    let selector = service.selector.clone().unwrap_or_default();
    let facts = ServiceFacts {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        protocol,
        port,
        gateway_api: false,
        version_services: version_services(snapshot, namespace, &selector),
        virtual_services: Vec::new(),
        gateway_routes: Vec::new(),
        selector,
        versions,
        gateway_selector: gateway_selector(snapshot),
    };
    let host = facts.host();
    let virtual_services = snapshot
        .of_kind(IstioKind::VirtualService)
        .filter(|vs| {
            let mesh = istio::strings(vs.at("/gateways")).all(|g| g == "mesh")
                || vs.at("/gateways").is_none();
            mesh && istio::strings(vs.at("/hosts")).any(|h| hosts::fqdn(h, &vs.namespace) == host)
        })
        .map(|vs| format!("{}/{}", vs.namespace, vs.name))
        .collect();
    let gateway_routes = snapshot
        .objects
        .iter()
        .filter(|o| matches!(o.kind, IstioKind::HttpRoute | IstioKind::GrpcRoute))
        .filter(|o| parent_is_service(o, namespace, name))
        .map(|o| format!("{} {}/{}", o.kind.label(), o.namespace, o.name))
        .collect();
    let route_kind = facts.route_kind();
    Ok(ServiceFacts {
        gateway_api: snapshot
            .served
            .iter()
            .any(|k| k.kind == route_kind && k.version.as_deref() == Some("v1")),
        virtual_services,
        gateway_routes,
        ..facts
    })
}

/// Whether a Gateway API route is attached to Service `namespace/name`
/// (GAMMA: a `parentRefs` entry of kind Service).
fn parent_is_service(route: &IstioObject, namespace: &str, name: &str) -> bool {
    route
        .at("/parentRefs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|r| {
            r.get("kind").and_then(Value::as_str) == Some("Service")
                && r.get("group")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .is_empty()
                && r.get("name").and_then(Value::as_str) == Some(name)
                && r.get("namespace")
                    .and_then(Value::as_str)
                    .unwrap_or(&route.namespace)
                    == namespace
        })
}

/// The Services of `namespace` whose selector is exactly `selector` plus a
/// `version`, by version (the first by name where several are).
fn version_services(
    snapshot: &Snapshot,
    namespace: &str,
    selector: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if selector.is_empty() {
        return out;
    }
    let mut services: Vec<_> = snapshot
        .services
        .iter()
        .filter(|s| s.namespace == namespace)
        .collect();
    services.sort_by(|a, b| a.name.cmp(&b.name));
    for s in services {
        let Some(sel) = &s.selector else { continue };
        let Some(version) = sel.get(VERSION_LABEL) else {
            continue;
        };
        let rest: BTreeMap<_, _> = sel
            .iter()
            .filter(|(k, _)| k.as_str() != VERSION_LABEL)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if &rest == selector {
            out.entry(version.clone()).or_insert_with(|| s.name.clone());
        }
    }
    out
}

/// `v2` before `v10`.
fn natural(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |s: &str| {
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        (
            s.trim_end_matches(|c: char| c.is_ascii_digit()).to_owned(),
            digits.parse::<u64>().unwrap_or(0),
            s.to_owned(),
        )
    };
    key(a).cmp(&key(b))
}

/// Whether an object is meshdeck's, written for `service`.
fn is_meshdecks(o: &IstioObject, service: &str) -> bool {
    o.labels.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY_VALUE)
        && o.labels.get(SERVICE_LABEL).map(String::as_str) == Some(service)
}

fn annotations(o: &IstioObject) -> BTreeMap<String, String> {
    istio::string_map(o.raw.pointer("/metadata/annotations"))
}

/// meshdeck's live VirtualService and DestinationRule of the service.
fn current(snapshot: &Snapshot, facts: &ServiceFacts) -> Current {
    let find = |kind: IstioKind| {
        snapshot.objects.iter().find(|o| {
            o.kind == kind
                && o.namespace == facts.namespace
                && o.name == facts.name
                && is_meshdecks(o, &facts.name)
        })
    };
    let vs = find(IstioKind::VirtualService);
    let dr = find(IstioKind::DestinationRule);
    Current {
        virtual_service: vs.map(|o| o.spec.clone()),
        virtual_service_wizards: vs
            .map(|o| wizards_of(Some(&annotations(o))))
            .unwrap_or_default(),
        destination_rule: dr.map(|o| o.spec.clone()),
    }
}

/// The object as people compare it: without `managedFields`, `status` and
/// the fields the API server sets.
fn clean(object: &Value) -> Value {
    let mut v = object.clone();
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in [
            "managedFields",
            "resourceVersion",
            "uid",
            "generation",
            "creationTimestamp",
            "selfLink",
        ] {
            meta.remove(key);
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    v
}

fn yaml(v: &Value) -> String {
    serde_yaml_ng::to_string(v).unwrap_or_default()
}

fn live_object<'a>(snapshot: &'a Snapshot, d: &Desired) -> Option<&'a IstioObject> {
    snapshot
        .objects
        .iter()
        .find(|o| o.kind == d.kind && o.namespace == d.namespace && o.name == d.name)
}

fn other_managers(live: Option<&IstioObject>) -> Vec<String> {
    let mut out: Vec<String> = live
        .map(|o| managed::managers(&o.raw))
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.manager != FIELD_MANAGER && !m.fields.is_empty())
        .map(|m| m.manager)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Where the live object names the same host in another spelling
/// (`reviews` for `reviews.bookinfo.svc.cluster.local`), the wizard keeps
/// its spelling: the same value is no conflict with its manager.
fn keep_host_spelling(d: &mut Desired, live: Option<&IstioObject>) {
    let Some(live) = live else { return };
    let same = |written: &Value, ours: &Value| {
        written
            .as_str()
            .zip(ours.as_str())
            .is_some_and(|(w, o)| hosts::fqdn(w, &live.namespace) == hosts::fqdn(o, &d.namespace))
    };
    let spec = &mut d.body["spec"];
    match d.kind {
        IstioKind::DestinationRule => {
            if let Some(written) = live.spec.get("host")
                && same(written, &spec["host"])
            {
                spec["host"] = written.clone();
            }
        }
        IstioKind::VirtualService => {
            let (Some(written), Some(ours)) = (
                live.spec.get("hosts").and_then(Value::as_array),
                spec["hosts"].as_array(),
            ) else {
                return;
            };
            if written.len() == ours.len() && written.iter().zip(ours).all(|(w, o)| same(w, o)) {
                spec["hosts"] = Value::Array(written.clone());
            }
        }
        _ => {}
    }
}

/// Server-side apply of `body` as the caller: the object as stored (or as
/// it would be), or Kubernetes' refusal.
async fn apply_as_caller(
    client: &kube::Client,
    r: &ObjectRef,
    body: &Value,
    options: WriteOptions,
) -> Result<std::result::Result<DynamicObject, WizardProblem>> {
    let mut params = PatchParams::apply(FIELD_MANAGER);
    params.dry_run = options.dry_run;
    params.force = options.force;
    match r
        .api(client)
        .patch(&r.name, &params, &Patch::Apply(body))
        .await
    {
        Ok(o) => Ok(Ok(o)),
        Err(kube::Error::Api(status)) => Ok(Err(WizardProblem {
            object: r.describe(),
            status: status.code,
            message: status.message.trim().to_owned(),
        })),
        Err(e) => Err(api_error(
            &format!("apply {}", r.describe()),
            Acting::Caller,
            e,
        )),
    }
}

async fn delete_as_caller(
    client: &kube::Client,
    r: &ObjectRef,
    dry_run: bool,
) -> Result<std::result::Result<(), WizardProblem>> {
    let params = if dry_run {
        DeleteParams::default().dry_run()
    } else {
        DeleteParams::default()
    };
    match r.api(client).delete(&r.name, &params).await {
        Ok(_) => Ok(Ok(())),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(Ok(())),
        Err(kube::Error::Api(status)) => Ok(Err(WizardProblem {
            object: r.describe(),
            status: status.code,
            message: status.message.trim().to_owned(),
        })),
        Err(e) => Err(api_error(
            &format!("delete {}", r.describe()),
            Acting::Caller,
            e,
        )),
    }
}

/// The error an apply answers when Kubernetes refused `p`: its status and
/// its words.
fn refusal(p: &WizardProblem) -> Error {
    let message = format!("{}: {}", p.object, p.message);
    match p.status {
        401 => Error::Unauthenticated(message),
        403 => Error::Forbidden(message),
        404 => Error::NotFound(message),
        409 => Error::Conflict(format!(
            "{message}; nothing was written. Leave those fields to their managers, or take them over explicitly (force=true)"
        )),
        400 | 422 => Error::Invalid(message),
        _ => Error::upstream(app::types::UpstreamKind::Kubernetes, message),
    }
}

fn is_conflict(problems: &[WizardProblem]) -> bool {
    problems.iter().any(|p| p.status == 409)
}

/// Findings about the objects as they will be, as warnings: the snapshot
/// with `after` in place of the live objects, checked.
fn warnings_after(
    snapshot: &Snapshot,
    after: Vec<IstioObject>,
    scope: &AccessScope,
) -> Vec<String> {
    let mut next = snapshot.clone();
    next.objects.retain(|o| {
        !after
            .iter()
            .any(|a| a.kind == o.kind && a.namespace == o.namespace && a.name == o.name)
    });
    let keys: Vec<(IstioKind, String, String)> = after
        .iter()
        .map(|a| (a.kind, a.namespace.clone(), a.name.clone()))
        .collect();
    next.objects.extend(after);
    let mut findings: Vec<_> = checks::validate(&next, &|ns| scope.can_see(ns))
        .into_iter()
        .filter(|v| keys.contains(&(v.kind, v.namespace.clone(), v.name.clone())))
        .collect();
    findings.sort_by_key(|v| v.severity);
    findings
        .into_iter()
        .map(|v| {
            format!(
                "{} {} {}/{} ({}): {}",
                match v.severity {
                    Severity::Error => "Error in",
                    Severity::Warning => "Warning for",
                },
                v.kind.label(),
                v.namespace,
                v.name,
                v.path,
                v.message
            )
        })
        .collect()
}

fn istio_object(kind: IstioKind, value: &Value) -> IstioObject {
    let meta = value.get("metadata");
    let text = |k: &str| {
        meta.and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    IstioObject {
        kind,
        namespace: text("namespace"),
        name: text("name"),
        labels: istio::string_map(meta.and_then(|m| m.get("labels"))),
        created: meta
            .and_then(|m| m.get("creationTimestamp"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        spec: value.get("spec").cloned().unwrap_or(Value::Null),
        raw: value.clone(),
    }
}

/// The snapshot a wizard works from, and the service's facts.
async fn read(state: &AppState, namespace: &str, name: &str) -> Result<(Snapshot, ServiceFacts)> {
    let cluster = state.cluster()?;
    let snapshot = istio::snapshot(
        cluster.own(),
        state.upstreams().prometheus.as_ref(),
        state.now_s(),
    )
    .await?;
    let facts = facts(&snapshot, namespace, name)?;
    Ok((snapshot, facts))
}

/// Runs a wizard: 422 listing every invalid field; a preview with
/// `dry_run`; else the objects applied as the caller.
pub async fn apply_wizard(
    state: &AppState,
    scope: &AccessScope,
    namespace: &str,
    name: &str,
    request: &WizardRequest,
    options: WriteOptions,
) -> Result<WizardOutcome> {
    let client = scope.client(state.cluster()?)?;
    run_with(state, scope, &client, namespace, name, request, options).await
}

/// [`apply_wizard`], writing with `client`: the caller's own (wizards), or
/// meshdeck's account for a rollout's step after a SubjectAccessReview of
/// the person who started it (`scope` names them and filters warnings).
pub async fn run_with(
    state: &AppState,
    scope: &AccessScope,
    client: &kube::Client,
    namespace: &str,
    name: &str,
    request: &WizardRequest,
    options: WriteOptions,
) -> Result<WizardOutcome> {
    let (snapshot, facts) = read(state, namespace, name).await?;
    let problems = validate(request, &facts);
    if !problems.is_empty() {
        return Err(Error::Invalid(format!(
            "{} invalid field{}: {}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            problems.join("; ")
        )));
    }
    let mut desired = build(request, &facts, &current(&snapshot, &facts));
    for d in &mut desired {
        keep_host_spelling(d, live_object(&snapshot, d));
    }
    let check = WriteOptions {
        dry_run: true,
        ..options
    };
    let mut objects = Vec::new();
    let mut problems = Vec::new();
    let mut after = Vec::new();
    for d in &desired {
        let r = object_ref(d.kind, &d.namespace, &d.name);
        let live = live_object(&snapshot, d);
        let before = live.map(|o| yaml(&clean(&o.raw))).unwrap_or_default();
        let result = match apply_as_caller(client, &r, &d.body, check).await? {
            Ok(o) => serde_json::to_value(&o).unwrap_or(Value::Null),
            Err(p) => {
                problems.push(p);
                d.body.clone()
            }
        };
        let result_yaml = yaml(&clean(&result));
        let action = match live {
            None => ObjectAction::Create,
            Some(o) if clean(&o.raw) == clean(&result) => ObjectAction::Unchanged,
            Some(_) => ObjectAction::Update,
        };
        after.push(istio_object(d.kind, &result));
        objects.push(WizardObject {
            kind: d.kind,
            namespace: d.namespace.clone(),
            name: d.name.clone(),
            action,
            yaml: yaml(&d.body),
            diff: diff::lines(&before, &result_yaml),
            other_managers: other_managers(live),
        });
    }
    let mut warnings = super::notes(request, &facts);
    warnings.extend(warnings_after(&snapshot, after, scope));
    let outcome = WizardOutcome {
        wizard: Some(request.kind()),
        service: ServiceName {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        },
        dry_run: options.dry_run,
        conflict: is_conflict(&problems),
        problems,
        objects,
        warnings,
    };
    if options.dry_run {
        return Ok(outcome);
    }
    if let Some(p) = outcome.problems.first() {
        return Err(refusal(p));
    }
    let mut created: Vec<ObjectRef> = Vec::new();
    for (d, o) in desired.iter().zip(&outcome.objects) {
        let r = object_ref(d.kind, &d.namespace, &d.name);
        let failure = match apply_as_caller(client, &r, &d.body, options).await {
            Ok(Ok(_)) => None,
            Ok(Err(p)) => Some(refusal(&p)),
            Err(e) => Some(e),
        };
        if let Some(err) = failure {
            for done in created.iter().rev() {
                if let Err(undo) = delete_as_caller(client, done, false).await {
                    tracing::error!(error = %undo, object = %done.describe(), "could not remove an object after a failed apply");
                }
            }
            return Err(err);
        }
        if o.action == ObjectAction::Create {
            created.push(r);
        }
    }
    tracing::info!(user = %scope.user, service = %format!("{namespace}/{name}"), wizard = request.kind().as_str(), objects = outcome.objects.len(), "wizard applied");
    Ok(outcome)
}

/// The fields kept when meshdeck releases an object others own fields of:
/// what the kind requires, so their object stays valid.
fn identity_spec(o: &IstioObject) -> Option<Value> {
    let keep = |field: &str| o.spec.get(field).cloned().map(|v| json!({field: v}));
    match o.kind {
        IstioKind::VirtualService => keep("hosts"),
        IstioKind::DestinationRule => keep("host"),
        IstioKind::Gateway => keep("servers"),
        IstioKind::HttpRoute | IstioKind::GrpcRoute => keep("parentRefs"),
        _ => None,
    }
}

/// Removal order: routes before the subsets they name.
fn removal_rank(kind: IstioKind) -> u8 {
    match kind {
        IstioKind::VirtualService | IstioKind::HttpRoute | IstioKind::GrpcRoute => 0,
        IstioKind::Gateway => 1,
        IstioKind::DestinationRule => 2,
        _ => 3,
    }
}

/// "Remove traffic routing": what meshdeck's wizards wrote for the service
/// is deleted, or, where other managers own fields of the object too,
/// released (meshdeck's fields removed, theirs kept). Objects meshdeck does
/// not manage are never touched.
pub async fn remove(
    state: &AppState,
    scope: &AccessScope,
    namespace: &str,
    name: &str,
    dry_run: bool,
) -> Result<WizardOutcome> {
    let (snapshot, _) = read(state, namespace, name).await?;
    let client = scope.client(state.cluster()?)?;
    let mut mine: Vec<&IstioObject> = snapshot
        .objects
        .iter()
        .filter(|o| o.namespace == namespace && is_meshdecks(o, name))
        .filter(|o| {
            managed::managers(&o.raw)
                .iter()
                .any(|m| m.manager == FIELD_MANAGER)
        })
        .collect();
    mine.sort_by_key(|o| (removal_rank(o.kind), o.name.clone()));
    let mut plan = Vec::new();
    for o in mine {
        let others_in_spec = managed::managers(&o.raw)
            .iter()
            .any(|m| m.manager != FIELD_MANAGER && m.fields.iter().any(|f| f.starts_with(".spec")));
        let r = object_ref(o.kind, &o.namespace, &o.name);
        let body = others_in_spec.then(|| {
            let mut b = json!({
                "apiVersion": format!("{}/v1", o.kind.group()),
                "kind": o.kind.label(),
                "metadata": {"name": o.name, "namespace": o.namespace},
            });
            if let Some(spec) = identity_spec(o) {
                b["spec"] = spec;
            }
            b
        });
        plan.push((o, r, body));
    }
    let check = WriteOptions {
        dry_run: true,
        force: false,
    };
    let mut objects = Vec::new();
    let mut problems = Vec::new();
    for (o, r, body) in &plan {
        let before = yaml(&clean(&o.raw));
        let (action, shown, after) = match body {
            None => {
                if let Err(p) = delete_as_caller(&client, r, true).await? {
                    problems.push(p);
                }
                (ObjectAction::Delete, String::new(), String::new())
            }
            Some(b) => {
                let after = match apply_as_caller(&client, r, b, check).await? {
                    Ok(res) => yaml(&clean(&serde_json::to_value(&res).unwrap_or(Value::Null))),
                    Err(p) => {
                        problems.push(p);
                        String::new()
                    }
                };
                (ObjectAction::Release, yaml(b), after)
            }
        };
        objects.push(WizardObject {
            kind: o.kind,
            namespace: o.namespace.clone(),
            name: o.name.clone(),
            action,
            yaml: shown,
            diff: diff::lines(&before, &after),
            other_managers: other_managers(Some(o)),
        });
    }
    let outcome = WizardOutcome {
        wizard: None,
        service: ServiceName {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        },
        dry_run,
        conflict: is_conflict(&problems),
        problems,
        objects,
        warnings: Vec::new(),
    };
    if dry_run {
        return Ok(outcome);
    }
    if let Some(p) = outcome.problems.first() {
        return Err(refusal(p));
    }
    for (_, r, body) in &plan {
        let failure = match body {
            None => delete_as_caller(&client, r, false).await?,
            Some(b) => apply_as_caller(
                &client,
                r,
                b,
                WriteOptions {
                    dry_run: false,
                    force: false,
                },
            )
            .await?
            .map(|_| ()),
        };
        if let Err(p) = failure {
            return Err(refusal(&p));
        }
    }
    tracing::info!(user = %scope.user, service = %format!("{namespace}/{name}"), objects = outcome.objects.len(), "traffic routing removed");
    Ok(outcome)
}

/// The service's facts and the weights in force (see
/// `current_weights`), read with meshdeck's own account.
pub async fn service_weights(
    state: &AppState,
    namespace: &str,
    name: &str,
) -> Result<(ServiceFacts, Vec<VersionWeight>)> {
    // Neither needs what Prometheus adds to a snapshot (the plaintext
    // callers the checks use): no query for it.
    let snapshot = istio::snapshot(state.cluster()?.own(), None, state.now_s()).await?;
    let facts = facts(&snapshot, namespace, name)?;
    let weights = current_weights(&snapshot, &facts);
    Ok((facts, weights))
}

/// The weights of the first route of the VirtualService routing the
/// service's host (meshdeck's first), by subset.
fn current_weights(snapshot: &Snapshot, facts: &ServiceFacts) -> Vec<VersionWeight> {
    // A Gateway API route attached to the service: its first rule's
    // backends, named back to versions through their Services.
    let route = snapshot.objects.iter().find(|o| {
        matches!(o.kind, IstioKind::HttpRoute | IstioKind::GrpcRoute)
            && parent_is_service(o, &facts.namespace, &facts.name)
    });
    if let Some(route) = route {
        let backends = route
            .at("/rules/0/backendRefs")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let single = backends.len() == 1;
        return backends
            .iter()
            .filter_map(|b| {
                let name = b.get("name")?.as_str()?;
                let version = facts
                    .version_services
                    .iter()
                    .find(|(_, s)| s.as_str() == name)?
                    .0
                    .clone();
                let weight = b
                    .get("weight")
                    .and_then(Value::as_i64)
                    .unwrap_or(if single { 100 } else { 1 });
                Some(VersionWeight { version, weight })
            })
            .collect();
    }
    let host = facts.host();
    let mut candidates: Vec<&IstioObject> = snapshot
        .of_kind(IstioKind::VirtualService)
        .filter(|vs| istio::strings(vs.at("/hosts")).any(|h| hosts::fqdn(h, &vs.namespace) == host))
        .collect();
    candidates.sort_by_key(|vs| !is_meshdecks(vs, &facts.name));
    let Some(vs) = candidates.first() else {
        return Vec::new();
    };
    let route = vs
        .at("/http/0/route")
        .or_else(|| vs.at("/tcp/0/route"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let single = route.len() == 1;
    route
        .iter()
        .filter_map(|r| {
            let subset = r.pointer("/destination/subset")?.as_str()?.to_owned();
            let weight = r
                .get("weight")
                .and_then(Value::as_i64)
                .unwrap_or(if single { 100 } else { 0 });
            Some(VersionWeight {
                version: subset,
                weight,
            })
        })
        .collect()
}

/// `GET /api/services/{ns}/{name}/traffic`.
pub async fn traffic(
    state: &AppState,
    scope: &AccessScope,
    namespace: &str,
    name: &str,
) -> Result<ServiceTraffic> {
    let (snapshot, facts) = read(state, namespace, name).await?;
    let list = istio::config_list(scope, &snapshot, vec![namespace.to_owned()]);
    let objects: Vec<_> = list
        .objects
        .into_iter()
        .filter(|o| {
            o.services
                .iter()
                .any(|s| s.namespace == namespace && s.name == name)
                || (o.namespace == namespace
                    && snapshot.objects.iter().any(|x| {
                        x.kind == o.kind
                            && x.namespace == o.namespace
                            && x.name == o.name
                            && is_meshdecks(x, name)
                    }))
        })
        .collect();
    let mut applied: Vec<WizardKind> = snapshot
        .objects
        .iter()
        .filter(|o| o.namespace == namespace && is_meshdecks(o, name))
        .flat_map(|o| wizards_of(Some(&annotations(o))))
        .collect();
    applied.sort();
    applied.dedup();
    let service = snapshot.service(namespace, name);
    let plaintext_callers = match &snapshot.plaintext {
        Ok(callers) => callers
            .iter()
            .filter(|c| {
                c.namespace == namespace
                    && service
                        .is_some_and(|s| snapshot.pods_of(s).any(|p| p.workload == c.workload))
            })
            .map(|c| {
                format!(
                    "{}/{}: {:.0} requests in the last hour",
                    c.namespace, c.workload, c.requests
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    let auth = state.auth();
    let mut write_problem = None;
    for kind in [IstioKind::VirtualService, IstioKind::DestinationRule] {
        for verb in ["create", "patch"] {
            let q = Attributes::new(verb, kind.group(), kind.plural(), Some(namespace), None);
            if write_problem.is_none() && !auth.may(&scope.identity, &q).await? {
                write_problem = Some(format!(
                    "Kubernetes RBAC does not let you {} (the wizards write with your own credentials)",
                    q.describe()
                ));
            }
        }
    }
    Ok(ServiceTraffic {
        service: ServiceName {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        },
        protocol: facts.protocol,
        port: facts.port,
        current_weights: current_weights(&snapshot, &facts),
        versions: facts.versions.clone(),
        objects,
        applied,
        plaintext_callers,
        gateway_selector: facts.gateway_selector.clone(),
        may_write: write_problem.is_none(),
        write_problem,
        gateway_api: facts.gateway_api,
        version_services: facts.version_services.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_names_give_protocols_as_istio_reads_them() {
        assert_eq!(port_protocol(Some("http"), None), ServiceProtocol::Http);
        assert_eq!(port_protocol(Some("http-web"), None), ServiceProtocol::Http);
        assert_eq!(port_protocol(Some("grpc"), None), ServiceProtocol::Grpc);
        assert_eq!(port_protocol(Some("tcp-db"), None), ServiceProtocol::Tcp);
        assert_eq!(port_protocol(Some("mongo"), None), ServiceProtocol::Tcp);
        assert_eq!(
            port_protocol(Some("web"), Some("grpc")),
            ServiceProtocol::Grpc
        );
        assert_eq!(port_protocol(None, None), ServiceProtocol::Http);
        assert!(natural("v2", "v10").is_lt());
    }
}
