//! Monitoring that enabling the mesh turns on.
//!
//! Where the Prometheus Operator's API (`monitoring.coreos.com/v1`) serves
//! ServiceMonitors and PodMonitors, enabling writes the two monitors Istio's
//! documentation describes for it ("Prometheus Operator" integration,
//! `samples/addons/extras/prometheus-operator.yaml`), in `istio-system` and
//! under Istio's names:
//!
//! - ServiceMonitor `istio-component-monitor`: istiod's metrics, from the
//!   `http-monitoring` port of Services labelled `istio` in `[pilot]`, in
//!   any namespace, every 15 s (job from the Service's `istio` label, its
//!   `app` label kept on the series).
//! - PodMonitor `envoy-stats-monitor`: the sidecars' and gateways' merged
//!   metrics (Istio's standard metrics and the application's own), from
//!   `/stats/prometheus` on the port Istio's injection writes into the
//!   pod's `prometheus.io/port` annotation (15020), for the `istio-proxy`
//!   container of every pod annotated `prometheus.io/scrape: "true"` in any
//!   namespace, except pods labelled `istio-prometheus-ignore`.
//!
//! They carry meshdeck's labels, so they are applied and pruned with the
//! rest of enabling (server-side apply, [`super::MESH_SET`]) and disabling
//! deletes them. A monitor doing the same job that meshdeck did not write
//! (one of the same name, a ServiceMonitor on istiod's `http-monitoring`
//! port, a PodMonitor scraping `/stats/prometheus` in every namespace) is
//! used as it is: a second one would count every request twice.
//!
//! Without the operator's API, [`SCRAPE_CONFIG`] is what to add to
//! Prometheus' configuration; the Settings page shows it.
//!
//! When a Grafana URL is configured (in the settings, or `--grafana-url`),
//! enabling also writes the ConfigMap [`GRAFANA_CONFIGMAP`] in meshdeck's
//! namespace with meshdeck's built-in dashboards as Grafana dashboard JSON
//! ([`crate::grafana`]), labelled `grafana_dashboard: "1"`, the label
//! Grafana's dashboard sidecar (the Grafana Helm chart's k8s-sidecar) looks
//! for; the sidecar must search meshdeck's namespace (`searchNamespace`).

use std::collections::BTreeMap;

use app::types::{GrafanaDashboardsInfo, MonitorInfo, MonitorState, MonitoringStatus};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use serde_json::{Value, json};

use super::MESH_SET;
use super::status::served_all;
use crate::cluster::apply::ObjectRef;
use crate::cluster::{Acting, api_error};
use crate::enablement::ISTIO_SYSTEM;
use crate::error::Result;

/// The Prometheus Operator's API group.
pub const MONITORING_GROUP: &str = "monitoring.coreos.com";
/// Its version meshdeck writes.
pub const MONITORING_VERSION: &str = "v1";
/// Name of the ServiceMonitor for istiod (Istio's).
pub const SERVICE_MONITOR_NAME: &str = "istio-component-monitor";
/// Name of the PodMonitor for the sidecars (Istio's).
pub const POD_MONITOR_NAME: &str = "envoy-stats-monitor";
/// How often both are scraped (Istio's documented interval).
pub const SCRAPE_INTERVAL: &str = "15s";
/// istiod's Service port serving its metrics.
pub const ISTIOD_MONITORING_PORT: &str = "http-monitoring";
/// The path of the sidecars' merged metrics.
pub const MERGED_METRICS_PATH: &str = "/stats/prometheus";
/// The ConfigMap of meshdeck's Grafana dashboards, in meshdeck's namespace.
pub const GRAFANA_CONFIGMAP: &str = "meshdeck-grafana-dashboards";
/// The label Grafana's dashboard sidecar watches for (its default).
pub const GRAFANA_LABEL: (&str, &str) = ("grafana_dashboard", "1");

/// The labels of istiod's Service as Istio's charts set them: what a
/// ServiceMonitor must select to scrape istiod.
const ISTIOD_SERVICE_LABELS: [(&str, &str); 2] = [("app", "istiod"), ("istio", "pilot")];

/// The scrape jobs for a Prometheus without the operator: istiod's
/// Service port and the sidecars' merged metrics, as Istio's "Prometheus"
/// integration documents them (istiod: "Customized scraping
/// configurations"; sidecars: "Metrics merging", whose annotations Istio's
/// injection writes), with pod addresses written for IPv4 and IPv6.
pub const SCRAPE_CONFIG: &str = r#"# Scrape jobs for Istio: add them under `scrape_configs:` in Prometheus'
# configuration, then reload it. If a job already scrapes pods by their
# prometheus.io annotations (the Prometheus Helm chart's `kubernetes-pods`),
# istiod and the sidecars are scraped already: add neither, or every
# request is counted twice.

# istiod's own metrics, from the http-monitoring port (15014) of its Service.
- job_name: istiod
  kubernetes_sd_configs:
    - role: endpoints
      namespaces:
        names: [istio-system]
  relabel_configs:
    - source_labels:
        - __meta_kubernetes_service_name
        - __meta_kubernetes_endpoint_port_name
      regex: istiod;http-monitoring
      action: keep

# The sidecars' and gateways' merged metrics (Istio's standard metrics and
# the application's own), at the port and path Istio's injection writes
# into each pod's prometheus.io annotations (15020, /stats/prometheus).
- job_name: envoy-stats
  kubernetes_sd_configs:
    - role: pod
  relabel_configs:
    - source_labels: [__meta_kubernetes_pod_container_name]
      regex: istio-proxy
      action: keep
    - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
      regex: "true"
      action: keep
    # Left out, as by Istio's PodMonitor: pods labelled istio-prometheus-ignore.
    - source_labels:
        - __meta_kubernetes_pod_labelpresent_istio_prometheus_ignore
      regex: "true"
      action: drop
    - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]
      regex: (.+)
      target_label: __metrics_path__
    # The pod's IP and the annotated port: IPv4, then IPv6 in brackets.
    - source_labels:
        - __meta_kubernetes_pod_annotation_prometheus_io_port
        - __meta_kubernetes_pod_ip
      regex: '(\d+);([0-9.]+)'
      replacement: '$2:$1'
      target_label: __address__
    - source_labels:
        - __meta_kubernetes_pod_annotation_prometheus_io_port
        - __meta_kubernetes_pod_ip
      regex: '(\d+);([0-9A-Fa-f]*:[0-9A-Fa-f:]*)'
      replacement: '[$2]:$1'
      target_label: __address__
    - source_labels: [__meta_kubernetes_namespace]
      target_label: namespace
    - source_labels: [__meta_kubernetes_pod_name]
      target_label: pod
"#;

fn monitoring_resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: MONITORING_GROUP.into(),
        version: MONITORING_VERSION.into(),
        api_version: format!("{MONITORING_GROUP}/{MONITORING_VERSION}"),
        kind: kind.into(),
        plural: plural.into(),
    }
}

/// The ServiceMonitor for istiod.
pub fn service_monitor_ref() -> ObjectRef {
    ObjectRef::new(
        &monitoring_resource("ServiceMonitor", "servicemonitors"),
        Some(ISTIO_SYSTEM),
        SERVICE_MONITOR_NAME,
    )
}

/// The PodMonitor for the sidecars.
pub fn pod_monitor_ref() -> ObjectRef {
    ObjectRef::new(
        &monitoring_resource("PodMonitor", "podmonitors"),
        Some(ISTIO_SYSTEM),
        POD_MONITOR_NAME,
    )
}

/// The Grafana dashboards' ConfigMap in meshdeck's `namespace`.
pub fn grafana_ref(namespace: &str) -> ObjectRef {
    ObjectRef::new(
        &ApiResource::erase::<ConfigMap>(&()),
        Some(namespace),
        GRAFANA_CONFIGMAP,
    )
}

/// `apiVersion`, `kind` and `metadata` of `r`, then `body`'s fields.
fn object(r: &ObjectRef, body: Value) -> Value {
    let mut obj = json!({
        "apiVersion": r.api_resource().api_version,
        "kind": r.kind,
        "metadata": {"name": r.name, "namespace": r.namespace},
    });
    if let (Some(map), Some(body)) = (obj.as_object_mut(), body.as_object()) {
        for (k, v) in body {
            map.insert(k.clone(), v.clone());
        }
    }
    obj
}

/// Istio's ServiceMonitor for istiod, as meshdeck applies it.
pub fn service_monitor() -> Value {
    object(
        &service_monitor_ref(),
        json!({"spec": {
            "jobLabel": "istio",
            "targetLabels": ["app"],
            "selector": {"matchExpressions": [
                {"key": "istio", "operator": "In", "values": ["pilot"]},
            ]},
            "namespaceSelector": {"any": true},
            "endpoints": [{"port": ISTIOD_MONITORING_PORT, "interval": SCRAPE_INTERVAL}],
        }}),
    )
}

/// Istio's PodMonitor for the sidecars' merged metrics, as meshdeck applies
/// it. The operator labels the series with `namespace`, `pod` and
/// `container` itself.
pub fn pod_monitor() -> Value {
    object(
        &pod_monitor_ref(),
        json!({"spec": {
            "jobLabel": "envoy-stats",
            "selector": {"matchExpressions": [
                {"key": "istio-prometheus-ignore", "operator": "DoesNotExist"},
            ]},
            "namespaceSelector": {"any": true},
            "podMetricsEndpoints": [{
                "path": MERGED_METRICS_PATH,
                "interval": SCRAPE_INTERVAL,
                "relabelings": [
                    {"action": "keep", "sourceLabels": ["__meta_kubernetes_pod_container_name"], "regex": "istio-proxy"},
                    {"action": "keep", "sourceLabels": ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"], "regex": "true"},
                    {
                        "action": "replace",
                        "sourceLabels": ["__meta_kubernetes_pod_annotation_prometheus_io_port", "__meta_kubernetes_pod_ip"],
                        "regex": r"(\d+);([0-9.]+)",
                        "replacement": "$2:$1",
                        "targetLabel": "__address__",
                    },
                    {
                        "action": "replace",
                        "sourceLabels": ["__meta_kubernetes_pod_annotation_prometheus_io_port", "__meta_kubernetes_pod_ip"],
                        "regex": r"(\d+);([0-9A-Fa-f]*:[0-9A-Fa-f:]*)",
                        "replacement": "[$2]:$1",
                        "targetLabel": "__address__",
                    },
                ],
            }],
        }}),
    )
}

/// The ConfigMap of meshdeck's dashboards for Grafana, in `namespace`.
pub fn grafana_configmap(namespace: &str) -> Value {
    let data: BTreeMap<String, String> = crate::grafana::dashboards()
        .into_iter()
        .map(|d| {
            let text = serde_json::to_string_pretty(&d.json).unwrap_or_default();
            (d.file, text)
        })
        .collect();
    let mut obj = object(&grafana_ref(namespace), json!({"data": data}));
    obj["metadata"]["labels"] = json!({GRAFANA_LABEL.0: GRAFANA_LABEL.1});
    obj
}

/// The files meshdeck's ConfigMap holds for Grafana.
pub fn grafana_files() -> Vec<String> {
    app::types::DashboardKind::ALL
        .into_iter()
        .map(crate::grafana::file)
        .collect()
}

/// Whether `selector` (a `metav1.LabelSelector`) selects `labels`.
pub fn selects(selector: &Value, labels: &BTreeMap<&str, &str>) -> bool {
    let match_labels = selector["matchLabels"].as_object();
    let labels_ok = match_labels.is_none_or(|m| {
        m.iter().all(|(k, v)| {
            v.as_str()
                .is_some_and(|v| labels.get(k.as_str()) == Some(&v))
        })
    });
    let expressions = selector["matchExpressions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let expressions_ok = expressions.iter().all(|e| {
        let key = e["key"].as_str().unwrap_or_default();
        let values: Vec<&str> = e["values"]
            .as_array()
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let value = labels.get(key);
        match e["operator"].as_str().unwrap_or_default() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    });
    labels_ok && expressions_ok
}

/// Whether a ServiceMonitor's `namespaceSelector` (in the monitor's
/// `namespace`) reaches `target`.
fn reaches(spec: &Value, namespace: &str, target: &str) -> bool {
    let ns = &spec["namespaceSelector"];
    if ns["any"].as_bool() == Some(true) {
        return true;
    }
    match ns["matchNames"].as_array() {
        Some(names) if !names.is_empty() => names.iter().any(|n| n.as_str() == Some(target)),
        _ => namespace == target,
    }
}

/// Whether a ServiceMonitor scrapes istiod: its `http-monitoring` port on
/// Services labelled as Istio labels istiod's, in `istio-system`.
pub fn scrapes_istiod(monitor: &Value) -> bool {
    let spec = &monitor["spec"];
    let labels: BTreeMap<&str, &str> = ISTIOD_SERVICE_LABELS.into_iter().collect();
    let namespace = monitor["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default();
    let port = spec["endpoints"].as_array().is_some_and(|eps| {
        eps.iter()
            .any(|e| e["port"].as_str() == Some(ISTIOD_MONITORING_PORT))
    });
    port && selects(&spec["selector"], &labels) && reaches(spec, namespace, ISTIO_SYSTEM)
}

/// Whether a PodMonitor scrapes the sidecars' metrics mesh-wide: every
/// namespace, at `/stats/prometheus`.
pub fn scrapes_sidecars(monitor: &Value) -> bool {
    let spec = &monitor["spec"];
    let path = spec["podMetricsEndpoints"].as_array().is_some_and(|eps| {
        eps.iter()
            .any(|e| e["path"].as_str() == Some(MERGED_METRICS_PATH))
    });
    path && spec["namespaceSelector"]["any"].as_bool() == Some(true)
}

/// One of meshdeck's monitors as found in the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// meshdeck's own exists.
    Mine,
    /// Someone else's does the job (`Kind namespace/name`).
    Other(String),
    /// Neither.
    Absent,
}

/// What the cluster has for monitoring the mesh.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Survey {
    /// The operator's API serves both monitor kinds.
    pub operator_api: bool,
    /// The ServiceMonitor for istiod (`Absent` without the API).
    pub service_monitor: Found,
    /// The PodMonitor for the sidecars (`Absent` without the API).
    pub pod_monitor: Found,
    /// meshdeck's namespace.
    pub namespace: String,
    /// A Grafana URL is configured.
    pub grafana_url: bool,
    /// The Grafana ConfigMap, if it exists: whether it is meshdeck's.
    pub grafana_configmap: Option<bool>,
}

fn describe(kind: &str, o: &DynamicObject) -> String {
    format!(
        "{kind} {}/{}",
        o.metadata.namespace.as_deref().unwrap_or_default(),
        o.metadata.name.as_deref().unwrap_or_default()
    )
}

/// meshdeck's monitor `r` among every monitor of its kind: meshdeck's own,
/// one of its name or doing its job that meshdeck did not write, or none.
fn find_monitor(r: &ObjectRef, all: &[DynamicObject], does_the_job: fn(&Value) -> bool) -> Found {
    let same = |o: &DynamicObject| {
        o.metadata.name.as_deref() == Some(&r.name)
            && o.metadata.namespace.as_deref() == r.namespace.as_deref()
    };
    if let Some(o) = all.iter().find(|o| same(o)) {
        return if MESH_SET.contains(o.metadata.labels.as_ref()) {
            Found::Mine
        } else {
            Found::Other(describe(&r.kind, o))
        };
    }
    all.iter()
        .filter(|o| !MESH_SET.contains(o.metadata.labels.as_ref()))
        .find(|o| {
            serde_json::to_value(o)
                .map(|v| does_the_job(&v))
                .unwrap_or(false)
        })
        .map(|o| Found::Other(describe(&r.kind, o)))
        .unwrap_or(Found::Absent)
}

async fn list_all(client: &kube::Client, r: &ObjectRef) -> Result<Vec<DynamicObject>> {
    Api::<DynamicObject>::all_with(client.clone(), &r.api_resource())
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
        .map_err(|e| {
            api_error(
                &format!("list {}", r.qualified_resource()),
                Acting::Meshdeck,
                e,
            )
        })
}

/// Whether the operator's API serves both monitor kinds (discovery).
pub async fn operator_api(client: &kube::Client) -> Result<bool> {
    let api_version = format!("{MONITORING_GROUP}/{MONITORING_VERSION}");
    let (sm, pm) = (service_monitor_ref(), pod_monitor_ref());
    served_all(client, &api_version, &[&sm.plural, &pm.plural]).await
}

/// Looks at the cluster with meshdeck's account: whether the operator's
/// API is served (discovery), which monitors exist (only then listed), and
/// the Grafana ConfigMap in meshdeck's `namespace`.
pub async fn survey(client: &kube::Client, namespace: &str, grafana_url: bool) -> Result<Survey> {
    let (sm, pm) = (service_monitor_ref(), pod_monitor_ref());
    let operator_api = operator_api(client).await?;
    let (service_monitor, pod_monitor) = if operator_api {
        let (sms, pms) =
            futures::future::try_join(list_all(client, &sm), list_all(client, &pm)).await?;
        (
            find_monitor(&sm, &sms, scrapes_istiod),
            find_monitor(&pm, &pms, scrapes_sidecars),
        )
    } else {
        (Found::Absent, Found::Absent)
    };
    let cm = Api::<ConfigMap>::namespaced(client.clone(), namespace)
        .get_opt(GRAFANA_CONFIGMAP)
        .await
        .map_err(|e| {
            api_error(
                &format!("get configmaps {GRAFANA_CONFIGMAP:?} in namespace {namespace:?}"),
                Acting::Meshdeck,
                e,
            )
        })?;
    Ok(Survey {
        operator_api,
        service_monitor,
        pod_monitor,
        namespace: namespace.to_owned(),
        grafana_url,
        grafana_configmap: cm.map(|cm| MESH_SET.contains(cm.metadata.labels.as_ref())),
    })
}

/// The monitoring objects enabling writes, and what it uses instead.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MonitoringPlan {
    /// Objects to apply, with their applied configuration.
    pub objects: Vec<(ObjectRef, Value)>,
    /// Objects of others used as they are, in words.
    pub uses: Vec<String>,
    /// What enabling leaves to the owner, in words.
    pub notes: Vec<String>,
}

/// What enabling does about monitoring, given the survey.
pub fn plan(survey: &Survey) -> MonitoringPlan {
    let mut out = MonitoringPlan::default();
    if survey.operator_api {
        for (found, r, body, what) in [
            (
                &survey.service_monitor,
                service_monitor_ref(),
                service_monitor(),
                "istiod's metrics",
            ),
            (
                &survey.pod_monitor,
                pod_monitor_ref(),
                pod_monitor(),
                "the sidecars' metrics",
            ),
        ] {
            match found {
                Found::Other(existing) => out
                    .uses
                    .push(format!("the existing {existing}, which scrapes {what}")),
                Found::Mine | Found::Absent => out.objects.push((r, body)),
            }
        }
    } else {
        out.notes.push(format!(
            "the Prometheus Operator's API ({MONITORING_GROUP}/{MONITORING_VERSION} servicemonitors and podmonitors) is not served: add the scrape jobs shown under Monitoring to Prometheus' configuration"
        ));
    }
    if survey.grafana_url {
        out.objects.push((
            grafana_ref(&survey.namespace),
            grafana_configmap(&survey.namespace),
        ));
    }
    out
}

/// The kinds of monitoring objects enabling may have written, for pruning
/// and disabling (the monitors only where the operator's API is served).
pub fn kinds(namespace: &str, operator_api: bool) -> Vec<ObjectRef> {
    let mut out = Vec::new();
    if operator_api {
        out.push(service_monitor_ref());
        out.push(pod_monitor_ref());
    }
    out.push(grafana_ref(namespace));
    out
}

fn state_of(found: &Found) -> (MonitorState, Option<String>) {
    match found {
        Found::Mine => (MonitorState::Managed, None),
        Found::Other(what) => (MonitorState::Existing, Some(what.clone())),
        Found::Absent => (MonitorState::Missing, None),
    }
}

/// The survey as the API shows it.
pub fn status(survey: &Survey) -> MonitoringStatus {
    let monitors = if survey.operator_api {
        [
            (
                service_monitor_ref(),
                &survey.service_monitor,
                format!(
                    "istiod: port {ISTIOD_MONITORING_PORT} of Services labelled istio=pilot, every {SCRAPE_INTERVAL}"
                ),
            ),
            (
                pod_monitor_ref(),
                &survey.pod_monitor,
                format!(
                    "the sidecars' and gateways' merged metrics: {MERGED_METRICS_PATH} on the port of their prometheus.io annotations (15020), in every namespace, every {SCRAPE_INTERVAL}"
                ),
            ),
        ]
        .into_iter()
        .map(|(r, found, scrapes)| {
            let (state, existing) = state_of(found);
            MonitorInfo {
                kind: r.kind.clone(),
                namespace: r.namespace.clone().unwrap_or_default(),
                name: r.name.clone(),
                scrapes,
                state,
                existing,
            }
        })
        .collect()
    } else {
        Vec::new()
    };
    let grafana =
        (survey.grafana_url || survey.grafana_configmap.is_some()).then(|| GrafanaDashboardsInfo {
            configmap: format!("{}/{GRAFANA_CONFIGMAP}", survey.namespace),
            label: format!("{}={}", GRAFANA_LABEL.0, GRAFANA_LABEL.1),
            url_configured: survey.grafana_url,
            state: match survey.grafana_configmap {
                Some(true) => MonitorState::Managed,
                Some(false) => MonitorState::Existing,
                None => MonitorState::Missing,
            },
            dashboards: grafana_files(),
        });
    MonitoringStatus {
        operator_api: survey.operator_api,
        monitors,
        scrape_config: (!survey.operator_api).then(|| SCRAPE_CONFIG.to_owned()),
        grafana,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&'static str, &'static str)]) -> BTreeMap<&'static str, &'static str> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn selectors_select_as_kubernetes_does() {
        let sel = json!({"matchLabels": {"app": "istiod"}, "matchExpressions": [
            {"key": "istio", "operator": "In", "values": ["pilot", "galley"]},
            {"key": "canary", "operator": "DoesNotExist"},
        ]});
        assert!(selects(
            &sel,
            &labels(&[("app", "istiod"), ("istio", "pilot")])
        ));
        assert!(!selects(
            &sel,
            &labels(&[("app", "istiod"), ("istio", "citadel")])
        ));
        assert!(!selects(
            &sel,
            &labels(&[("app", "istiod"), ("istio", "pilot"), ("canary", "x")])
        ));
        assert!(selects(&json!({}), &labels(&[])));
        let not_in =
            json!({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["x"]}]});
        assert!(selects(&not_in, &labels(&[])) && !selects(&not_in, &labels(&[("a", "x")])));
        let exists = json!({"matchExpressions": [{"key": "a", "operator": "Exists"}]});
        assert!(selects(&exists, &labels(&[("a", "")])) && !selects(&exists, &labels(&[])));
    }

    #[test]
    fn meshdecks_own_monitors_do_the_job_they_are_recognised_by() {
        assert!(scrapes_istiod(&service_monitor()));
        assert!(scrapes_sidecars(&pod_monitor()));
        // A ServiceMonitor on another port, or of another namespace only,
        // does not scrape istiod.
        let mut other_port = service_monitor();
        other_port["spec"]["endpoints"][0]["port"] = json!("http-metrics");
        assert!(!scrapes_istiod(&other_port));
        let mut elsewhere = service_monitor();
        elsewhere["metadata"]["namespace"] = json!("monitoring");
        elsewhere["spec"]["namespaceSelector"] = json!({});
        assert!(!scrapes_istiod(&elsewhere));
        elsewhere["spec"]["namespaceSelector"] = json!({"matchNames": ["istio-system"]});
        assert!(scrapes_istiod(&elsewhere));
        // A PodMonitor of one namespace leaves the others unscraped.
        let mut one_namespace = pod_monitor();
        one_namespace["spec"]["namespaceSelector"] = json!({"matchNames": ["bookinfo"]});
        assert!(!scrapes_sidecars(&one_namespace));
    }

    #[test]
    fn the_plan_follows_the_survey() {
        let mut survey = Survey {
            operator_api: false,
            service_monitor: Found::Absent,
            pod_monitor: Found::Absent,
            namespace: "meshdeck".into(),
            grafana_url: false,
            grafana_configmap: None,
        };
        let p = plan(&survey);
        assert!(p.objects.is_empty() && p.uses.is_empty());
        assert!(p.notes[0].contains("scrape jobs"), "{:?}", p.notes);
        let st = status(&survey);
        assert!(st.monitors.is_empty() && st.grafana.is_none());
        assert_eq!(st.scrape_config.as_deref(), Some(SCRAPE_CONFIG));

        survey.operator_api = true;
        survey.pod_monitor = Found::Other("PodMonitor monitoring/istio-proxies".into());
        survey.grafana_url = true;
        let p = plan(&survey);
        let names: Vec<String> = p.objects.iter().map(|(r, _)| r.describe()).collect();
        assert_eq!(
            names,
            [
                "ServiceMonitor istio-system/istio-component-monitor",
                "ConfigMap meshdeck/meshdeck-grafana-dashboards",
            ]
        );
        assert_eq!(
            p.uses,
            [
                "the existing PodMonitor monitoring/istio-proxies, which scrapes the sidecars' metrics"
            ]
        );
        let st = status(&survey);
        assert!(st.scrape_config.is_none());
        assert_eq!(st.monitors[1].state, MonitorState::Existing);
        assert_eq!(st.grafana.unwrap().state, MonitorState::Missing);
    }

    #[test]
    fn the_snippet_is_yaml_of_two_scrape_jobs() {
        let jobs: Vec<Value> = serde_yaml_ng::from_str(SCRAPE_CONFIG).unwrap();
        let names: Vec<&str> = jobs
            .iter()
            .map(|j| j["job_name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["istiod", "envoy-stats"]);
        assert_eq!(
            jobs[1]["relabel_configs"][4]["regex"], r"(\d+);([0-9.]+)",
            "single quotes keep the backslash"
        );
    }
}
