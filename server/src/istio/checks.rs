//! Findings about Istio objects, each with a stable code, a severity, the
//! path in the object it points at, and a message saying what happens to
//! traffic because of it. The codes:
//!
//! | code | severity | finding |
//! |---|---|---|
//! | `vs.subset-not-found` | error | a route (or mirror) names a subset no DestinationRule for its host defines |
//! | `vs.weights-not-100` | error | the weights of one route's destinations do not add up to 100 |
//! | `vs.destination-host-not-found` | error | a route sends to a host that is neither a service nor a ServiceEntry host |
//! | `vs.host-not-found` | warning | a VirtualService for mesh traffic is about a host that is neither |
//! | `vs.gateway-not-found` | error | a VirtualService binds to a Gateway that does not exist |
//! | `dr.subset-no-workloads` | warning | a subset's labels select no pod of the host's service |
//! | `dr.multiple-for-host` | warning | another DestinationRule in the same namespace has the same host |
//! | `dr.tls-contradicts-peer-auth` | error | TLS `DISABLE` towards STRICT workloads, or `ISTIO_MUTUAL` towards ones with mTLS disabled |
//! | `pa.strict-with-plaintext-callers` | error | STRICT mTLS on a workload that callers outside the mesh reached without mTLS in the last hour |
//! | `ap.namespace-not-found` | warning | an AuthorizationPolicy source names a namespace that does not exist |
//! | `ap.principal-not-found` | warning | a source principal names a service account (or its namespace) that does not exist |
//!
//! Findings are computed over everything meshdeck reads; a message never
//! names an object in a namespace the caller may not see.

use std::collections::BTreeMap;

use app::types::{IstioKind, Severity, Validation};
use serde_json::Value;

use super::hosts::{covers, fqdn, service_of};
use super::{
    IstioObject, PLAINTEXT_WINDOW, PodInfo, Snapshot, matches_labels, string_map, strings,
};

/// Whether the caller may see a namespace.
pub type Visible<'a> = &'a dyn Fn(&str) -> bool;

/// Every finding about every object of the snapshot.
pub fn validate(snapshot: &Snapshot, visible: Visible<'_>) -> Vec<Validation> {
    let mut out = Vec::new();
    for o in &snapshot.objects {
        match o.kind {
            IstioKind::VirtualService => virtual_service(snapshot, o, visible, &mut out),
            IstioKind::DestinationRule => destination_rule(snapshot, o, visible, &mut out),
            IstioKind::AuthorizationPolicy => authorization_policy(snapshot, o, &mut out),
            _ => {}
        }
    }
    plaintext_callers(snapshot, visible, &mut out);
    out
}

fn finding(
    o: &IstioObject,
    code: &str,
    severity: Severity,
    path: String,
    message: String,
) -> Validation {
    Validation {
        code: code.to_owned(),
        severity,
        kind: o.kind,
        namespace: o.namespace.clone(),
        name: o.name.clone(),
        path,
        message,
    }
}

/// Another object, named if the caller may see it.
fn name_of(o: &IstioObject, visible: Visible<'_>) -> String {
    if visible(&o.namespace) {
        o.describe()
    } else {
        format!("a {} in a namespace you may not see", o.kind.label())
    }
}

/// The route sections of a VirtualService.
const SECTIONS: [&str; 3] = ["http", "tcp", "tls"];

fn items(value: Option<&Value>) -> impl Iterator<Item = (usize, &Value)> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// Every destination of a VirtualService with its path: route destinations
/// of its http, tcp and tls rules, and http mirrors.
pub fn destinations(vs: &IstioObject) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for section in SECTIONS {
        for (i, rule) in items(vs.spec.get(section)) {
            for (j, route) in items(rule.get("route")) {
                if let Some(d) = route.get("destination") {
                    out.push((format!("spec.{section}[{i}].route[{j}].destination"), d));
                }
            }
            if section == "http" {
                if let Some(m) = rule.get("mirror") {
                    out.push((format!("spec.http[{i}].mirror"), m));
                }
                for (k, m) in items(rule.get("mirrors")) {
                    if let Some(d) = m.get("destination") {
                        out.push((format!("spec.http[{i}].mirrors[{k}].destination"), d));
                    }
                }
            }
        }
    }
    out
}

/// Whether a fully qualified host is a service or a ServiceEntry host.
fn host_known(snapshot: &Snapshot, host: &str) -> bool {
    if let Some((ns, name)) = service_of(host)
        && snapshot.service(&ns, &name).is_some()
    {
        return true;
    }
    snapshot
        .of_kind(IstioKind::ServiceEntry)
        .any(|se| strings(se.at("/hosts")).any(|h| covers(&fqdn(h, &se.namespace), host)))
}

/// The DestinationRules whose host covers a fully qualified host.
fn rules_for<'a>(snapshot: &'a Snapshot, host: &'a str) -> impl Iterator<Item = &'a IstioObject> {
    snapshot
        .of_kind(IstioKind::DestinationRule)
        .filter(move |dr| {
            dr.at("/host")
                .and_then(Value::as_str)
                .is_some_and(|h| covers(&fqdn(h, &dr.namespace), host))
        })
}

fn subset_names(dr: &IstioObject) -> Vec<&str> {
    items(dr.at("/subsets"))
        .filter_map(|(_, s)| s.get("name").and_then(Value::as_str))
        .collect()
}

fn virtual_service(
    snapshot: &Snapshot,
    vs: &IstioObject,
    visible: Visible<'_>,
    out: &mut Vec<Validation>,
) {
    for (path, d) in destinations(vs) {
        let Some(host) = d.get("host").and_then(Value::as_str) else {
            continue;
        };
        let full = fqdn(host, &vs.namespace);
        if !full.contains('*') && !host_known(snapshot, &full) {
            out.push(finding(
                vs,
                "vs.destination-host-not-found",
                Severity::Error,
                format!("{path}.host"),
                format!(
                    "sends requests to host {host:?} ({full}), which is neither a service nor a host of a ServiceEntry: they fail (503)"
                ),
            ));
        }
        if let Some(subset) = d.get("subset").and_then(Value::as_str) {
            let rules: Vec<&IstioObject> = rules_for(snapshot, &full).collect();
            if !rules.iter().any(|dr| subset_names(dr).contains(&subset)) {
                let defined = if rules.is_empty() {
                    "no DestinationRule has this host".to_owned()
                } else {
                    rules
                        .iter()
                        .map(|dr| {
                            let names = subset_names(dr);
                            if names.is_empty() {
                                format!("{} defines no subsets", name_of(dr, visible))
                            } else {
                                format!("{} defines {}", name_of(dr, visible), names.join(", "))
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                out.push(finding(
                    vs,
                    "vs.subset-not-found",
                    Severity::Error,
                    format!("{path}.subset"),
                    format!(
                        "sends requests to subset {subset:?} of {full}, which no DestinationRule defines ({defined}): they fail (503)"
                    ),
                ));
            }
        }
    }
    for section in SECTIONS {
        for (i, rule) in items(vs.spec.get(section)) {
            let route: Vec<&Value> = items(rule.get("route")).map(|(_, r)| r).collect();
            if route.len() < 2 {
                continue;
            }
            let sum: i64 = route
                .iter()
                .map(|r| r.get("weight").and_then(Value::as_i64).unwrap_or(0))
                .sum();
            if sum != 100 {
                out.push(finding(
                    vs,
                    "vs.weights-not-100",
                    Severity::Error,
                    format!("spec.{section}[{i}].route"),
                    format!(
                        "the weights of its {} destinations add up to {sum}, not 100 (a destination without a weight counts 0)",
                        route.len()
                    ),
                ));
            }
        }
    }
    let gateways: Vec<(String, &str)> = items(vs.at("/gateways"))
        .filter_map(|(k, g)| Some((format!("spec.gateways[{k}]"), g.as_str()?)))
        .collect();
    let for_mesh = gateways.is_empty() || gateways.iter().any(|(_, g)| *g == "mesh");
    if for_mesh {
        for (k, host) in strings(vs.at("/hosts")).enumerate() {
            let full = fqdn(host, &vs.namespace);
            if !full.contains('*') && !host_known(snapshot, &full) {
                out.push(finding(
                    vs,
                    "vs.host-not-found",
                    Severity::Warning,
                    format!("spec.hosts[{k}]"),
                    format!(
                        "is about host {host:?} ({full}), which is neither a service nor a host of a ServiceEntry: no caller in the mesh sends requests that it routes"
                    ),
                ));
            }
        }
    }
    let mut refs = gateways;
    for (i, rule) in items(vs.at("/http")) {
        for (m, matched) in items(rule.get("match")) {
            for (k, g) in items(matched.get("gateways")) {
                if let Some(g) = g.as_str() {
                    refs.push((format!("spec.http[{i}].match[{m}].gateways[{k}]"), g));
                }
            }
        }
    }
    for (path, gateway) in refs {
        if gateway == "mesh" {
            continue;
        }
        let (ns, name) = gateway
            .split_once('/')
            .unwrap_or((vs.namespace.as_str(), gateway));
        let exists = snapshot
            .of_kind(IstioKind::Gateway)
            .any(|g| g.namespace == ns && g.name == name);
        if !exists {
            let which = if visible(ns) {
                format!("{ns}/{name}")
            } else {
                format!("{name} in a namespace you may not see")
            };
            out.push(finding(
                vs,
                "vs.gateway-not-found",
                Severity::Error,
                path,
                format!(
                    "binds to gateway {gateway:?} ({which}), which does not exist: requests arriving through it are not routed by this VirtualService"
                ),
            ));
        }
    }
}

/// The mTLS mode in force for a pod, and the PeerAuthentication that sets
/// it (`None`: Istio's default, PERMISSIVE). A workload's own policy (the
/// oldest whose selector matches) wins over its namespace's, which wins
/// over the mesh-wide one in the root namespace; `UNSET` defers upwards.
pub fn mtls_mode<'a>(snapshot: &'a Snapshot, pod: &PodInfo) -> (String, Option<&'a IstioObject>) {
    let mut candidates: Vec<&IstioObject> = snapshot
        .of_kind(IstioKind::PeerAuthentication)
        .filter(|pa| {
            let selector = string_map(pa.at("/selector/matchLabels"));
            pa.namespace == pod.namespace
                && !selector.is_empty()
                && matches_labels(&selector, &pod.labels)
        })
        .collect();
    candidates.sort_by(|a, b| (&a.created, &a.name).cmp(&(&b.created, &b.name)));
    candidates.truncate(1);
    let unselected = |ns: &str| {
        snapshot
            .of_kind(IstioKind::PeerAuthentication)
            .filter(|pa| {
                pa.namespace == ns && string_map(pa.at("/selector/matchLabels")).is_empty()
            })
            .min_by(|a, b| (&a.created, &a.name).cmp(&(&b.created, &b.name)))
    };
    candidates.extend(unselected(&pod.namespace));
    candidates.extend(unselected(super::ROOT_NAMESPACE));
    for pa in candidates {
        match pa.at("/mtls/mode").and_then(Value::as_str) {
            Some(mode) if mode != "UNSET" => return (mode.to_owned(), Some(pa)),
            _ => continue,
        }
    }
    ("PERMISSIVE".to_owned(), None)
}

fn destination_rule(
    snapshot: &Snapshot,
    dr: &IstioObject,
    visible: Visible<'_>,
    out: &mut Vec<Validation>,
) {
    let Some(host) = dr.at("/host").and_then(Value::as_str) else {
        return;
    };
    let full = fqdn(host, &dr.namespace);
    let service = service_of(&full).and_then(|(ns, name)| snapshot.service(&ns, &name));
    let pods: Vec<&PodInfo> = service
        .map(|s| snapshot.pods_of(s).collect())
        .unwrap_or_default();
    let selects = |labels: &BTreeMap<String, String>| {
        pods.iter()
            .copied()
            .filter(|p| matches_labels(labels, &p.labels))
            .collect::<Vec<&PodInfo>>()
    };
    if let Some(svc) = service.filter(|s| s.selector.as_ref().is_some_and(|sel| !sel.is_empty())) {
        for (k, subset) in items(dr.at("/subsets")) {
            let labels = string_map(subset.get("labels"));
            if labels.is_empty() || !selects(&labels).is_empty() {
                continue;
            }
            let name = subset.get("name").and_then(Value::as_str).unwrap_or("");
            let shown = labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",");
            out.push(finding(
                dr,
                "dr.subset-no-workloads",
                Severity::Warning,
                format!("spec.subsets[{k}].labels"),
                format!(
                    "subset {name:?} selects no pod of service {}/{} ({shown}): requests routed to it fail (503)",
                    svc.namespace, svc.name
                ),
            ));
        }
    }
    if dr.at("/workloadSelector").is_none() {
        let twins: Vec<&IstioObject> = snapshot
            .of_kind(IstioKind::DestinationRule)
            .filter(|other| {
                other.namespace == dr.namespace
                    && other.name != dr.name
                    && other.at("/workloadSelector").is_none()
                    && other
                        .at("/host")
                        .and_then(Value::as_str)
                        .is_some_and(|h| fqdn(h, &other.namespace) == full)
            })
            .collect();
        if !twins.is_empty() {
            let names = twins
                .iter()
                .map(|t| t.describe())
                .collect::<Vec<_>>()
                .join(", ");
            out.push(finding(
                dr,
                "dr.multiple-for-host",
                Severity::Warning,
                "spec.host".to_owned(),
                format!(
                    "{names} in the same namespace also configures {full}: Istio merges their subsets but applies the traffic policy of only one of them"
                ),
            ));
        }
    }
    let mut modes = Vec::new();
    if let Some(mode) = dr.at("/trafficPolicy/tls/mode").and_then(Value::as_str) {
        modes.push(("spec.trafficPolicy.tls.mode".to_owned(), mode, pods.clone()));
    }
    for (k, subset) in items(dr.at("/subsets")) {
        if let Some(mode) = subset
            .pointer("/trafficPolicy/tls/mode")
            .and_then(Value::as_str)
        {
            let labels = string_map(subset.get("labels"));
            modes.push((
                format!("spec.subsets[{k}].trafficPolicy.tls.mode"),
                mode,
                selects(&labels),
            ));
        }
    }
    for (path, mode, targets) in modes {
        let against = match mode {
            "DISABLE" => "STRICT",
            "ISTIO_MUTUAL" => "DISABLE",
            _ => continue,
        };
        let clash = targets.iter().find_map(|p| {
            let (server, pa) = mtls_mode(snapshot, p);
            (server == against).then_some((p, pa))
        });
        let Some((pod, Some(pa))) = clash else {
            continue;
        };
        let (sends, refused) = if mode == "DISABLE" {
            ("plaintext", "require mTLS")
        } else {
            ("mTLS", "accept only plaintext")
        };
        out.push(finding(
            dr,
            "dr.tls-contradicts-peer-auth",
            Severity::Error,
            path,
            format!(
                "TLS mode {mode} sends {sends} to {full}, whose workload {}/{} must {refused} ({} sets {against}): its requests fail",
                pod.namespace,
                pod.workload,
                name_of(pa, visible)
            ),
        ));
    }
}

fn authorization_policy(snapshot: &Snapshot, ap: &IstioObject, out: &mut Vec<Validation>) {
    // Whether a namespace exists is reported for names the caller wrote
    // themselves, the same as Kubernetes' own errors on a missing
    // namespace tell.
    for (i, rule) in items(ap.at("/rules")) {
        for (j, from) in items(rule.get("from")) {
            let source = from.get("source");
            for field in ["namespaces", "notNamespaces"] {
                for (k, ns) in items(source.and_then(|s| s.get(field))) {
                    let Some(ns) = ns.as_str() else { continue };
                    if ns.contains('*') || snapshot.namespaces.contains(ns) {
                        continue;
                    }
                    out.push(finding(
                        ap,
                        "ap.namespace-not-found",
                        Severity::Warning,
                        format!("spec.rules[{i}].from[{j}].source.{field}[{k}]"),
                        format!("names namespace {ns:?}, which does not exist: the rule matches no caller from it"),
                    ));
                }
            }
            for field in ["principals", "notPrincipals"] {
                for (k, principal) in items(source.and_then(|s| s.get(field))) {
                    let Some(principal) = principal.as_str() else {
                        continue;
                    };
                    let Some((ns, sa)) = principal_account(principal) else {
                        continue;
                    };
                    let missing = if !snapshot.namespaces.contains(ns) {
                        format!("namespace {ns:?} does not exist")
                    } else if !snapshot
                        .service_accounts
                        .contains(&(ns.to_owned(), sa.to_owned()))
                    {
                        format!("service account {ns}/{sa} does not exist")
                    } else {
                        continue;
                    };
                    out.push(finding(
                        ap,
                        "ap.principal-not-found",
                        Severity::Warning,
                        format!("spec.rules[{i}].from[{j}].source.{field}[{k}]"),
                        format!("names principal {principal:?}, but {missing}: the rule matches no caller with it"),
                    ));
                }
            }
        }
    }
}

/// The `(namespace, service account)` of a SPIFFE-style principal
/// `<trust domain>/ns/<namespace>/sa/<account>`; `None` for wildcards and
/// other forms.
pub fn principal_account(principal: &str) -> Option<(&str, &str)> {
    if principal.contains('*') {
        return None;
    }
    let (_, rest) = principal.split_once("/ns/")?;
    let (ns, sa) = rest.split_once("/sa/")?;
    (!ns.is_empty() && !sa.is_empty() && !sa.contains('/')).then_some((ns, sa))
}

fn plaintext_callers(snapshot: &Snapshot, visible: Visible<'_>, out: &mut Vec<Validation>) {
    let Ok(callers) = &snapshot.plaintext else {
        return;
    };
    for c in callers {
        let Some(pod) = snapshot
            .pods
            .iter()
            .find(|p| p.namespace == c.namespace && p.workload == c.workload)
        else {
            continue;
        };
        let (mode, Some(pa)) = mtls_mode(snapshot, pod) else {
            continue;
        };
        if mode != "STRICT" {
            continue;
        }
        let workload = if visible(&c.namespace) {
            format!("workload {}/{}", c.namespace, c.workload)
        } else {
            "a workload in a namespace you may not see".to_owned()
        };
        out.push(finding(
            pa,
            "pa.strict-with-plaintext-callers",
            Severity::Error,
            "spec.mtls.mode".to_owned(),
            format!(
                "requires mTLS (STRICT) of {workload}, which received {:.0} requests without mTLS from callers outside the mesh (the graph's unknown node) in the last {PLAINTEXT_WINDOW}: under STRICT those callers are refused",
                c.requests
            ),
        ));
    }
}
