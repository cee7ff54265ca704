//! The mesh settings: stored as JSON in a ConfigMap in meshdeck's own
//! namespace, validated on write (every invalid field is reported at once),
//! written with the resourceVersion they were edited from, and checked
//! against the nodes' allocatable CPU and memory (preflight).

use std::collections::BTreeMap;
use std::net::IpAddr;

use app::types::{
    ComponentRequest, ComponentSettings, GatewayServiceType, MemberAccessMode, MeshSettings,
    Placement, Preflight,
};
use k8s_openapi::api::core::v1::{ConfigMap, Node};
use kube::api::{Api, ListParams, ObjectMeta, PostParams};

use super::quantity::{cpu_millis, memory_mib};
use super::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, kube_error};
use crate::error::{Error, Result};

/// Name of the settings ConfigMap.
pub const SETTINGS_CONFIGMAP: &str = "meshdeck-settings";
/// Key of the settings JSON in it.
pub const SETTINGS_KEY: &str = "settings.json";
/// meshdeck's own namespace unless configured otherwise.
pub const DEFAULT_NAMESPACE: &str = "meshdeck";
/// Lowest and highest NodePort Kubernetes hands out by default.
pub const NODE_PORT_RANGE: std::ops::RangeInclusive<u16> = 30000..=32767;

/// The stored settings and the resourceVersion of their ConfigMap (`None`
/// and the defaults when nothing was saved yet).
pub async fn load(
    client: &kube::Client,
    namespace: &str,
) -> Result<(MeshSettings, Option<String>)> {
    let api = Api::<ConfigMap>::namespaced(client.clone(), namespace);
    let Some(cm) = api.get_opt(SETTINGS_CONFIGMAP).await.map_err(|e| {
        kube_error(
            &format!("get configmap {namespace}/{SETTINGS_CONFIGMAP}"),
            e,
        )
    })?
    else {
        return Ok((MeshSettings::default(), None));
    };
    let text = cm
        .data
        .as_ref()
        .and_then(|d| d.get(SETTINGS_KEY))
        .map(String::as_str)
        .unwrap_or("");
    let settings = if text.is_empty() {
        MeshSettings::default()
    } else {
        serde_json::from_str(text).map_err(|e| Error::Internal {
            context: format!(
                "{namespace}/{SETTINGS_CONFIGMAP} holds settings meshdeck cannot read"
            ),
            source: Some(Box::new(e)),
        })?
    };
    Ok((settings, cm.metadata.resource_version))
}

/// The stored settings through the state's short cache.
pub async fn current(state: &crate::state::AppState) -> Result<std::sync::Arc<MeshSettings>> {
    if let Some(s) = state.settings_cache().get(&()) {
        return Ok(s);
    }
    let client = super::client(state)?;
    let (settings, _) = load(&client, state.settings_namespace()).await?;
    let settings = std::sync::Arc::new(settings);
    state.settings_cache().insert((), settings.clone());
    Ok(settings)
}

/// Writes `settings` if the ConfigMap is still at `resource_version`
/// (`None`: it must not exist yet); 409 otherwise. Returns the new
/// resourceVersion. Keys and labels others put on the ConfigMap stay.
pub async fn save(
    client: &kube::Client,
    namespace: &str,
    settings: &MeshSettings,
    resource_version: Option<&str>,
) -> Result<Option<String>> {
    let api = Api::<ConfigMap>::namespaced(client.clone(), namespace);
    let json = serde_json::to_string_pretty(settings)
        .map_err(|e| Error::internal(format!("serialising settings: {e}")))?;
    let what = format!("{namespace}/{SETTINGS_CONFIGMAP}");
    let written = match resource_version {
        None => {
            let cm = ConfigMap {
                metadata: ObjectMeta {
                    name: Some(SETTINGS_CONFIGMAP.into()),
                    namespace: Some(namespace.into()),
                    labels: Some(BTreeMap::from([(
                        MANAGED_BY_LABEL.into(),
                        MANAGED_BY_VALUE.into(),
                    )])),
                    ..ObjectMeta::default()
                },
                data: Some(BTreeMap::from([(SETTINGS_KEY.into(), json)])),
                ..ConfigMap::default()
            };
            api.create(&PostParams::default(), &cm).await.map_err(|e| match e {
                kube::Error::Api(s) if s.code == 409 => Error::Conflict(format!(
                    "the settings in {what} were saved by someone else meanwhile; reload them and apply your change again"
                )),
                other => kube_error(&format!("create configmap {what}"), other),
            })?
        }
        Some(rv) => {
            let mut cm = api
                .get(SETTINGS_CONFIGMAP)
                .await
                .map_err(|e| kube_error(&format!("get configmap {what}"), e))?;
            if cm.metadata.resource_version.as_deref() != Some(rv) {
                return Err(stale(&what));
            }
            cm.data
                .get_or_insert_with(BTreeMap::new)
                .insert(SETTINGS_KEY.into(), json);
            cm.metadata.resource_version = Some(rv.to_owned());
            api.replace(SETTINGS_CONFIGMAP, &PostParams::default(), &cm)
                .await
                .map_err(|e| match e {
                    kube::Error::Api(s) if s.code == 409 => stale(&what),
                    other => kube_error(&format!("replace configmap {what}"), other),
                })?
        }
    };
    Ok(written.metadata.resource_version)
}

fn stale(what: &str) -> Error {
    Error::Conflict(format!(
        "the settings in {what} changed since they were read (resourceVersion differs); reload them and apply your change again"
    ))
}

/// The components with their settings, in display order; `always` marks the
/// ones that cannot be switched off.
pub fn components(s: &MeshSettings) -> [(&'static str, &ComponentSettings, bool); 6] {
    [
        ("pilot", &s.pilot, true),
        ("telemetry", &s.telemetry, true),
        ("tracing", &s.tracing, false),
        ("ingress_gateway", &s.ingress_gateway.component, false),
        ("prometheus", &s.prometheus, true),
        ("grafana", &s.grafana, false),
    ]
}

/// Every problem of `s`, each as `field: problem`; empty when valid.
pub fn validate(s: &MeshSettings) -> Vec<String> {
    let mut errors = Vec::new();
    for (name, c, always) in components(s) {
        if always && !c.enabled {
            errors.push(format!(
                "{name}.enabled: {name} is part of every mesh and cannot be switched off"
            ));
        }
        let r = &c.resources;
        let cpu = |field: &str, v: &str, errors: &mut Vec<String>| {
            let parsed = cpu_millis(v);
            if parsed.is_none() {
                errors.push(format!(
                    "{name}.resources.{field}: {v:?} is not a CPU quantity (e.g. 500m or 1)"
                ));
            }
            parsed
        };
        let mem = |field: &str, v: &str, errors: &mut Vec<String>| {
            let parsed = memory_mib(v);
            if parsed.is_none() {
                errors.push(format!(
                    "{name}.resources.{field}: {v:?} is not a memory quantity (e.g. 512Mi or 2Gi)"
                ));
            }
            parsed
        };
        let (cr, cl) = (
            cpu("cpu_request", &r.cpu_request, &mut errors),
            cpu("cpu_limit", &r.cpu_limit, &mut errors),
        );
        if let (Some(req), Some(lim)) = (cr, cl) {
            if req > lim {
                errors.push(format!(
                    "{name}.resources.cpu_request: {req} m is more than the limit of {lim} m"
                ));
            }
        }
        let (mr, ml) = (
            mem("memory_request", &r.memory_request, &mut errors),
            mem("memory_limit", &r.memory_limit, &mut errors),
        );
        if let (Some(req), Some(lim)) = (mr, ml) {
            if req > lim {
                errors.push(format!(
                    "{name}.resources.memory_request: {req} MiB is more than the limit of {lim} MiB"
                ));
            }
        }
        validate_placement(name, &c.placement, &mut errors);
    }
    match s.trace_sampling_percent.trim().parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => {}
        _ => errors.push(format!(
            "trace_sampling_percent: {:?} is not a percentage from 0 to 100",
            s.trace_sampling_percent
        )),
    }
    let g = &s.ingress_gateway;
    if g.service_type == GatewayServiceType::NodePort {
        for (field, port) in [
            ("http2_node_port", g.http2_node_port),
            ("https_node_port", g.https_node_port),
        ] {
            if !NODE_PORT_RANGE.contains(&port) {
                errors.push(format!(
                    "ingress_gateway.{field}: {port} is outside the NodePort range {}-{}",
                    NODE_PORT_RANGE.start(),
                    NODE_PORT_RANGE.end()
                ));
            }
        }
        if g.http2_node_port == g.https_node_port {
            errors.push(format!(
                "ingress_gateway.https_node_port: {} is also the http2 NodePort",
                g.https_node_port
            ));
        }
    } else {
        if !g.load_balancer_ip.trim().is_empty()
            && g.load_balancer_ip.trim().parse::<IpAddr>().is_err()
        {
            errors.push(format!(
                "ingress_gateway.load_balancer_ip: {:?} is not an IP address",
                g.load_balancer_ip
            ));
        }
        for range in &g.load_balancer_source_ranges {
            if !is_cidr(range) {
                errors.push(format!("ingress_gateway.load_balancer_source_ranges: {range:?} is not a CIDR (e.g. 10.0.0.0/8)"));
            }
        }
    }
    if !is_prometheus_duration(&s.prometheus_retention) {
        errors.push(format!(
            "prometheus_retention: {:?} is not a Prometheus duration (e.g. 6h, 15d, 1w)",
            s.prometheus_retention
        ));
    }
    let urls = &s.tool_urls;
    for (field, value) in [
        ("prometheus", &urls.prometheus),
        ("jaeger", &urls.jaeger),
        ("grafana", &urls.grafana),
        ("kiali", &urls.kiali),
    ] {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match url::Url::parse(value) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => errors.push(format!(
                "tool_urls.{field}: {value:?} is not an http(s) URL"
            )),
        }
    }
    let access = &s.member_access;
    if access.mode == MemberAccessMode::Listed
        && access
            .users
            .iter()
            .chain(&access.groups)
            .any(|n| n.trim().is_empty())
    {
        errors.push("member_access: listed user and group names must not be empty".into());
    }
    errors
}

fn validate_placement(name: &str, p: &Placement, errors: &mut Vec<String>) {
    if p.node_selector.keys().any(|k| k.trim().is_empty()) {
        errors.push(format!(
            "{name}.placement.node_selector: label keys must not be empty"
        ));
    }
    for (i, t) in p.tolerations.iter().enumerate() {
        let field = format!("{name}.placement.tolerations[{i}]");
        match t.operator.as_str() {
            "Equal" if t.key.is_empty() => errors.push(format!("{field}.key: Equal needs a key")),
            "Exists" if !t.value.is_empty() => {
                errors.push(format!("{field}.value: Exists takes no value"))
            }
            "Equal" | "Exists" => {}
            other => errors.push(format!(
                "{field}.operator: {other:?} is neither Equal nor Exists"
            )),
        }
        if !matches!(
            t.effect.as_str(),
            "" | "NoSchedule" | "PreferNoSchedule" | "NoExecute"
        ) {
            errors.push(format!(
                "{field}.effect: {:?} is not NoSchedule, PreferNoSchedule or NoExecute",
                t.effect
            ));
        }
    }
}

fn is_cidr(text: &str) -> bool {
    let Some((ip, bits)) = text.trim().split_once('/') else {
        return false;
    };
    match (ip.parse::<IpAddr>(), bits.parse::<u8>()) {
        (Ok(IpAddr::V4(_)), Ok(b)) => b <= 32,
        (Ok(IpAddr::V6(_)), Ok(b)) => b <= 128,
        _ => false,
    }
}

/// `6h`, `15d`, `1w`, `1d12h`, `90m`: digits and a unit, repeated.
fn is_prometheus_duration(text: &str) -> bool {
    let mut rest = text.trim();
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ms", "s", "m", "h", "d", "w", "y"]
            .into_iter()
            .find(|u| rest.starts_with(u));
        let Some(unit) = unit else {
            return false;
        };
        rest = &rest[unit.len()..];
    }
    true
}

/// Requests of the enabled components (invalid quantities count as 0;
/// validation reports them).
pub fn requests(s: &MeshSettings) -> Vec<ComponentRequest> {
    components(s)
        .into_iter()
        .filter(|(_, c, _)| c.enabled)
        .map(|(name, c, _)| ComponentRequest {
            component: name.to_owned(),
            cpu_m: cpu_millis(&c.resources.cpu_request).unwrap_or(0),
            memory_mi: memory_mib(&c.resources.memory_request).unwrap_or(0),
        })
        .collect()
}

/// Allocatable CPU (m) and memory (MiB) of one node, if it is ready and
/// schedulable.
fn schedulable_allocatable(node: &Node) -> Option<(u64, u64)> {
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        return None;
    }
    let status = node.status.as_ref()?;
    let ready = status
        .conditions
        .as_ref()
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    if !ready {
        return None;
    }
    let alloc = status.allocatable.as_ref()?;
    let cpu = alloc.get("cpu").and_then(|q| cpu_millis(&q.0)).unwrap_or(0);
    let memory = alloc
        .get("memory")
        .and_then(|q| memory_mib(&q.0))
        .unwrap_or(0);
    Some((cpu, memory))
}

/// The plan against `nodes`: pure, so it is tested without a cluster.
pub fn preflight_against(s: &MeshSettings, nodes: &[Node]) -> Preflight {
    let components = requests(s);
    let cpu_requested_m: u64 = components.iter().map(|c| c.cpu_m).sum();
    let memory_requested_mi: u64 = components.iter().map(|c| c.memory_mi).sum();
    let usable: Vec<(u64, u64)> = nodes.iter().filter_map(schedulable_allocatable).collect();
    let cpu_allocatable_m: u64 = usable.iter().map(|n| n.0).sum();
    let memory_allocatable_mi: u64 = usable.iter().map(|n| n.1).sum();
    let mut shortfalls = Vec::new();
    if cpu_requested_m > cpu_allocatable_m {
        shortfalls.push(format!(
            "needs {cpu_requested_m} m CPU, {cpu_allocatable_m} m allocatable: short by {} m",
            cpu_requested_m - cpu_allocatable_m
        ));
    }
    if memory_requested_mi > memory_allocatable_mi {
        shortfalls.push(format!(
            "needs {memory_requested_mi} MiB memory, {memory_allocatable_mi} MiB allocatable: short by {} MiB",
            memory_requested_mi - memory_allocatable_mi
        ));
    }
    Preflight {
        fits: shortfalls.is_empty(),
        components,
        cpu_requested_m,
        cpu_allocatable_m,
        memory_requested_mi,
        memory_allocatable_mi,
        schedulable_nodes: u32::try_from(usable.len()).unwrap_or(u32::MAX),
        shortfalls,
    }
}

/// The plan against the cluster's nodes.
pub async fn preflight(client: &kube::Client, s: &MeshSettings) -> Result<Preflight> {
    let nodes = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map_err(|e| kube_error("list nodes", e))?;
    Ok(preflight_against(s, &nodes.items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::types::Toleration;
    use serde_json::json;

    fn node(cpu: &str, memory: &str, schedulable: bool) -> Node {
        serde_json::from_value(json!({
            "metadata": {"name": "n"},
            "spec": {"unschedulable": !schedulable},
            "status": {
                "allocatable": {"cpu": cpu, "memory": memory},
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }))
        .unwrap()
    }

    #[test]
    fn the_defaults_are_valid_and_sum_as_documented() {
        let s = MeshSettings::default();
        assert_eq!(validate(&s), Vec::<String>::new());
        let p = preflight_against(&s, &[node("4", "16Gi", true)]);
        // pilot 500 + telemetry 1000 + tracing 100 + prometheus 750 + grafana 100
        assert_eq!(p.cpu_requested_m, 2450);
        assert_eq!(p.memory_requested_mi, 2048 + 1024 + 100 + 750 + 100);
        assert!(p.fits);
    }

    #[test]
    fn a_plan_that_does_not_fit_names_the_shortfall() {
        let s = MeshSettings::default();
        let p = preflight_against(&s, &[node("1200m", "64Gi", true), node("8", "64Gi", false)]);
        assert!(!p.fits);
        assert_eq!(p.schedulable_nodes, 1);
        assert_eq!(
            p.shortfalls,
            ["needs 2450 m CPU, 1200 m allocatable: short by 1250 m"]
        );
    }

    #[test]
    fn every_invalid_field_is_listed() {
        let mut s = MeshSettings::default();
        s.pilot.resources.cpu_request = "lots".into();
        s.telemetry.resources.memory_request = "8Gi".into();
        s.ingress_gateway.http2_node_port = 80;
        s.trace_sampling_percent = "101".into();
        s.tool_urls.grafana = "ftp:/x".into();
        s.prometheus_retention = "6 hours".into();
        s.grafana.placement.tolerations.push(Toleration {
            key: "k".into(),
            operator: "Maybe".into(),
            value: String::new(),
            effect: String::new(),
        });
        let errors = validate(&s);
        for field in [
            "pilot.resources.cpu_request",
            "telemetry.resources.memory_request",
            "ingress_gateway.http2_node_port",
            "trace_sampling_percent",
            "tool_urls.grafana",
            "prometheus_retention",
            "grafana.placement.tolerations[0].operator",
        ] {
            assert!(
                errors.iter().any(|e| e.starts_with(field)),
                "{field}: {errors:?}"
            );
        }
        assert_eq!(errors.len(), 7, "{errors:?}");
    }

    #[test]
    fn durations_and_cidrs() {
        for ok in ["6h", "15d", "1d12h", "90m", "1w", "500ms"] {
            assert!(is_prometheus_duration(ok), "{ok}");
        }
        for bad in ["", "6", "h", "6 h", "-1h"] {
            assert!(!is_prometheus_duration(bad), "{bad}");
        }
        assert!(is_cidr("10.0.0.0/8") && is_cidr("::/0"));
        assert!(!is_cidr("10.0.0.0/33") && !is_cidr("10.0.0.0"));
    }
}
