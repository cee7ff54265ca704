//! The mesh settings: stored as JSON in a ConfigMap in meshdeck's own
//! namespace, validated on write (every invalid field is reported at once),
//! written with the resourceVersion they were edited from, and checked
//! against the nodes' allocatable CPU and memory (preflight).
//!
//! Every save also writes the same JSON as the "last good" settings. When
//! someone edits the ConfigMap by hand into something meshdeck cannot read,
//! the last good settings stay in force (members keep exactly the access
//! the owner last gave them), `GET /api/settings` answers 422 naming the
//! bad field, and an owner can reset to the last good settings.
//!
//! Writes use meshdeck's account after a SubjectAccessReview of the owner
//! asking (see `routes/settings.rs`); meshdeck's namespace, when it does
//! not exist yet, is created with the owner's own credentials.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use app::types::{
    ComponentRequest, ComponentSettings, GatewayServiceType, MemberAccessMode, MeshSettings,
    Placement, Preflight,
};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node};
use kube::api::{Api, ListParams, ObjectMeta, PostParams};

use super::quantity::{cpu_millis, memory_mib};
use super::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use crate::cluster::{Acting, api_error};
use crate::error::{Error, Result};

/// Name of the settings ConfigMap.
pub const SETTINGS_CONFIGMAP: &str = "meshdeck-settings";
/// Key of the settings JSON in it.
pub const SETTINGS_KEY: &str = "settings.json";
/// Key of the last settings meshdeck saved (and so could read).
pub const LAST_GOOD_KEY: &str = "last-good.json";
/// meshdeck's own namespace unless configured otherwise.
pub const DEFAULT_NAMESPACE: &str = "meshdeck";
/// Lowest and highest NodePort Kubernetes hands out by default.
pub const NODE_PORT_RANGE: std::ops::RangeInclusive<u16> = 30000..=32767;

/// Settings read from their ConfigMap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The settings in force: the stored ones, or, when those cannot be
    /// read, the last good ones (or the defaults).
    pub settings: MeshSettings,
    /// Why the stored settings could not be read (the field and the
    /// problem), if they could not.
    pub problem: Option<String>,
}

/// `text` as settings, or the problem naming the field (`pilot.resources:
/// missing field cpu_request`, `member_access.mode: unknown variant ...`).
pub fn parse_text(text: &str) -> std::result::Result<MeshSettings, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        }
    })
}

/// The settings a ConfigMap holds (see [`Parsed`]).
pub fn parse(cm: &ConfigMap) -> Parsed {
    let data = cm.data.as_ref();
    let text = data
        .and_then(|d| d.get(SETTINGS_KEY))
        .map(String::as_str)
        .unwrap_or("");
    if text.trim().is_empty() {
        return Parsed {
            settings: MeshSettings::default(),
            problem: None,
        };
    }
    match parse_text(text) {
        Ok(settings) => Parsed {
            settings,
            problem: None,
        },
        Err(problem) => Parsed {
            settings: data
                .and_then(|d| d.get(LAST_GOOD_KEY))
                .and_then(|t| parse_text(t).ok())
                .unwrap_or_default(),
            problem: Some(problem),
        },
    }
}

/// The stored settings, their ConfigMap's resourceVersion (`None` and the
/// defaults when nothing was saved yet) and the problem, if unreadable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// See [`Parsed`].
    pub parsed: Parsed,
    /// The ConfigMap's resourceVersion.
    pub resource_version: Option<String>,
}

/// The stored settings, read with meshdeck's account.
pub async fn load(client: &kube::Client, namespace: &str) -> Result<Stored> {
    let api = Api::<ConfigMap>::namespaced(client.clone(), namespace);
    let cm = api.get_opt(SETTINGS_CONFIGMAP).await.map_err(|e| {
        api_error(
            &format!("get configmaps {SETTINGS_CONFIGMAP:?} in namespace {namespace:?}"),
            Acting::Meshdeck,
            e,
        )
    })?;
    Ok(match cm {
        None => Stored {
            parsed: Parsed {
                settings: MeshSettings::default(),
                problem: None,
            },
            resource_version: None,
        },
        Some(cm) => Stored {
            parsed: parse(&cm),
            resource_version: cm.metadata.resource_version,
        },
    })
}

/// The settings in force, through the state's short cache: what access
/// decisions use. An error says why they cannot be read at all.
pub async fn current(state: &crate::state::AppState) -> Result<Arc<Parsed>> {
    if let Some(s) = state.settings_cache().get(&()) {
        return Ok(s);
    }
    let cluster = state.cluster()?;
    let stored = load(cluster.own(), state.settings_namespace()).await?;
    let parsed = Arc::new(stored.parsed);
    state.settings_cache().insert((), parsed.clone());
    Ok(parsed)
}

/// What [`save`] writes: the settings and the same JSON as the last good.
fn settings_data(settings: &MeshSettings) -> Result<[(String, String); 2]> {
    let json = serde_json::to_string_pretty(settings)
        .map_err(|e| Error::internal(format!("serialising settings: {e}")))?;
    Ok([
        (SETTINGS_KEY.to_owned(), json.clone()),
        (LAST_GOOD_KEY.to_owned(), json),
    ])
}

/// Writes `settings` with meshdeck's client `own` if the ConfigMap is still
/// at `resource_version` (`None`: it must not exist yet); 409 otherwise.
/// Returns the new resourceVersion. Keys and labels others put on the
/// ConfigMap stay. When meshdeck's namespace does not exist, it is created
/// with the caller's client `caller` first.
pub async fn save(
    own: &kube::Client,
    caller: &kube::Client,
    namespace: &str,
    settings: &MeshSettings,
    resource_version: Option<&str>,
) -> Result<Option<String>> {
    let api = Api::<ConfigMap>::namespaced(own.clone(), namespace);
    let data = settings_data(settings)?;
    let what = format!("configmaps {SETTINGS_CONFIGMAP:?} in namespace {namespace:?}");
    let written = match resource_version {
        None => {
            let cm = ConfigMap {
                metadata: ObjectMeta {
                    name: Some(SETTINGS_CONFIGMAP.into()),
                    namespace: Some(namespace.into()),
                    labels: Some(managed_labels()),
                    ..ObjectMeta::default()
                },
                data: Some(data.into_iter().collect()),
                ..ConfigMap::default()
            };
            let created = match api.create(&PostParams::default(), &cm).await {
                // The first save in a cluster: meshdeck's namespace does
                // not exist yet. The owner creates it (their credentials),
                // then meshdeck stores the settings there.
                Err(kube::Error::Api(s)) if s.code == 404 => {
                    create_namespace(caller, namespace).await?;
                    api.create(&PostParams::default(), &cm).await
                }
                other => other,
            };
            created.map_err(|e| match e {
                kube::Error::Api(s) if s.code == 409 => Error::Conflict(format!(
                    "the settings in {namespace}/{SETTINGS_CONFIGMAP} were saved by someone else meanwhile; reload them and apply your change again"
                )),
                other => api_error(&format!("create {what}"), Acting::Meshdeck, other),
            })?
        }
        Some(rv) => replace_data(&api, namespace, rv, data).await?,
    };
    Ok(written.metadata.resource_version)
}

/// Puts `data` into the existing ConfigMap if it is still at `rv`.
async fn replace_data(
    api: &Api<ConfigMap>,
    namespace: &str,
    rv: &str,
    data: [(String, String); 2],
) -> Result<ConfigMap> {
    let what = format!("configmaps {SETTINGS_CONFIGMAP:?} in namespace {namespace:?}");
    let mut cm = api
        .get(SETTINGS_CONFIGMAP)
        .await
        .map_err(|e| api_error(&format!("get {what}"), Acting::Meshdeck, e))?;
    let stale = || {
        Error::Conflict(format!(
            "the settings in {namespace}/{SETTINGS_CONFIGMAP} changed since they were read (resourceVersion differs); reload them and apply your change again"
        ))
    };
    if cm.metadata.resource_version.as_deref() != Some(rv) {
        return Err(stale());
    }
    cm.data.get_or_insert_with(BTreeMap::new).extend(data);
    cm.metadata.resource_version = Some(rv.to_owned());
    api.replace(SETTINGS_CONFIGMAP, &PostParams::default(), &cm)
        .await
        .map_err(|e| match e {
            kube::Error::Api(s) if s.code == 409 => stale(),
            other => api_error(&format!("replace {what}"), Acting::Meshdeck, other),
        })
}

/// Replaces unreadable stored settings by the last good ones (or the
/// defaults when there are none); answers them and the new resourceVersion.
pub async fn reset(own: &kube::Client, namespace: &str) -> Result<(MeshSettings, Option<String>)> {
    let api = Api::<ConfigMap>::namespaced(own.clone(), namespace);
    let stored = load(own, namespace).await?;
    let Some(rv) = stored.resource_version else {
        return Ok((stored.parsed.settings, None));
    };
    let settings = stored.parsed.settings;
    let written = replace_data(&api, namespace, &rv, settings_data(&settings)?).await?;
    Ok((settings, written.metadata.resource_version))
}

/// Creates meshdeck's namespace with the caller's client (meshdeck's own
/// account needs no right to create namespaces); one that appeared
/// meanwhile is fine.
async fn create_namespace(caller: &kube::Client, namespace: &str) -> Result<()> {
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(namespace.to_owned()),
            labels: Some(managed_labels()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    match Api::<Namespace>::all(caller.clone())
        .create(&PostParams::default(), &ns)
        .await
    {
        Ok(_) => {
            tracing::info!(namespace, "created meshdeck's namespace for its settings");
            Ok(())
        }
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(api_error(
            &format!("create namespace {namespace:?} for meshdeck's settings"),
            Acting::Caller,
            e,
        )),
    }
}

fn managed_labels() -> BTreeMap<String, String> {
    BTreeMap::from([(MANAGED_BY_LABEL.into(), MANAGED_BY_VALUE.into())])
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
            // People open these links: no credentials in them (the value is
            // not repeated in the message either).
            Ok(u) if !u.username().is_empty() || u.password().is_some() => errors.push(format!(
                "tool_urls.{field}: a link people open must not carry a user name or password"
            )),
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

/// `6h`, `15d`, `1w`, `1d12h`, `90m`: whole numbers and units, repeated
/// (Prometheus' durations).
fn is_prometheus_duration(text: &str) -> bool {
    use app::types::{TimeSpan, TimeUnit};
    const UNITS: [TimeUnit; 7] = [
        TimeUnit::Millis,
        TimeUnit::Seconds,
        TimeUnit::Minutes,
        TimeUnit::Hours,
        TimeUnit::Days,
        TimeUnit::Weeks,
        TimeUnit::Years,
    ];
    TimeSpan::parse(text).is_some_and(|s| s.is_whole() && s.uses_only(&UNITS))
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
        .map_err(|e| api_error("list nodes", Acting::Meshdeck, e))?;
    Ok(preflight_against(s, &nodes.items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::types::Toleration;
    use serde_json::json;

    fn configmap(data: serde_json::Value) -> ConfigMap {
        serde_json::from_value(json!({"metadata": {"name": SETTINGS_CONFIGMAP}, "data": data}))
            .unwrap()
    }

    #[test]
    fn unreadable_settings_name_the_field_and_keep_the_last_good() {
        let mut good = MeshSettings::default();
        good.member_access.mode = MemberAccessMode::OwnerOnly;
        let mut bad = serde_json::to_value(&good).unwrap();
        bad["member_access"]["mode"] = json!("everyone");
        let cm = configmap(json!({
            SETTINGS_KEY: bad.to_string(),
            LAST_GOOD_KEY: serde_json::to_string(&good).unwrap(),
        }));
        let parsed = parse(&cm);
        assert_eq!(parsed.settings, good);
        let problem = parsed.problem.unwrap();
        assert!(
            problem.starts_with("member_access.mode: unknown variant `everyone`"),
            "{problem}"
        );
        // Without a last good copy: the defaults.
        let mut missing = serde_json::to_value(&good).unwrap();
        missing["pilot"]["resources"]
            .as_object_mut()
            .unwrap()
            .remove("cpu_request");
        let parsed = parse(&configmap(json!({SETTINGS_KEY: missing.to_string()})));
        assert_eq!(parsed.settings, MeshSettings::default());
        assert!(
            parsed
                .problem
                .unwrap()
                .starts_with("pilot.resources: missing field `cpu_request`")
        );
        // Readable settings have no problem; an empty ConfigMap is the defaults.
        let fine = parse(&configmap(
            json!({SETTINGS_KEY: serde_json::to_string(&good).unwrap()}),
        ));
        assert_eq!((fine.settings, fine.problem), (good, None));
        assert_eq!(
            parse(&configmap(json!({}))).settings,
            MeshSettings::default()
        );
        assert!(parse_text("{").unwrap_err().contains("EOF"));
    }

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
