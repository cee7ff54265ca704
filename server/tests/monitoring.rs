//! Monitoring that enabling the mesh turns on, through `router()` against
//! the in-memory cluster, meshdeck running as its own service account with
//! the documented RBAC of the console and of enablement:
//!
//! - with the Prometheus Operator's CRDs installed, enabling creates the
//!   ServiceMonitor for istiod and the PodMonitor for the sidecars' merged
//!   metrics with the fields Istio's documentation gives them, labelled as
//!   meshdeck's, and disabling removes them; monitors of others doing the
//!   same job are used, not duplicated, and survive disabling;
//! - without the CRDs nothing monitoring-related is asked of the API
//!   server and the scrape jobs are shown instead;
//! - with a Grafana URL (in the settings or as a flag) the dashboards'
//!   ConfigMap appears with the dashboard sidecar's label, holding each
//!   built-in dashboard with exactly its PromQL, and goes with the URL;
//! - in a real Prometheus, the scrape jobs and the PodMonitor's
//!   relabelings select exactly the sidecars at their merged-metrics port
//!   and path, and istiod at its monitoring port.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use app::types::{
    AuthMode, DashboardKind, MeshChange, MeshSettings, MeshStatus, MonitorState, RunMode,
    SettingsDocument, SettingsUpdate, UpstreamKind,
};
use http::{Method, StatusCode};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use meshdeck_server::auth::AuthOptions;
use meshdeck_server::demo::{demo_identities, in_memory, install_documented_rbac};
use meshdeck_server::enablement::mesh::monitoring::{SCRAPE_CONFIG, pod_monitor};
use meshdeck_server::promql::Window;
use meshdeck_server::spa::Spa;
use meshdeck_server::upstream::Upstreams;
use meshdeck_server::upstream::http::HttpUpstream;
use meshdeck_server::{AppState, dashboards};
use meshdeck_sim::kube::InMemoryCluster;
use meshdeck_sim::kube::seed::{MESHDECK_SA_TOKEN, MESHDECK_SA_USER};
use meshdeck_sim::prometheus::{PrometheusOptions, PrometheusServer};
use meshdeck_sim::scenario;
use serde_json::{Value, json};

mod common;

const ADMIN: &str = "demo-token-admin";
const MONITORING: &str = "monitoring.coreos.com";
const GRAFANA_CM: &str = "meshdeck-grafana-dashboards";

struct Harness {
    cluster: InMemoryCluster,
    /// The cluster administrator's client, to arrange and inspect.
    client: kube::Client,
    state: AppState,
}

/// The demo cluster with meshdeck's documented RBAC; `grafana_flag`:
/// meshdeck started with `--grafana-url`.
fn harness(grafana_flag: bool) -> Harness {
    let mesh = scenario::demo();
    let cluster = InMemoryCluster::from_mesh(&mesh);
    install_documented_rbac(&cluster, &["console", "enablement"]).unwrap();
    let grafana = grafana_flag.then(|| {
        HttpUpstream::new(
            UpstreamKind::Grafana,
            "http://grafana.monitoring:3000/".parse().unwrap(),
            Duration::from_secs(5),
        )
        .unwrap()
    });
    let upstreams = Upstreams {
        kube: Some(in_memory(&cluster, MESHDECK_SA_TOKEN)),
        grafana,
        ..Upstreams::default()
    };
    let options = AuthOptions {
        demo_identities: demo_identities(&mesh),
        ..AuthOptions::default()
    };
    let spa = Spa::load(std::path::Path::new("/nonexistent"));
    let state = AppState::with_auth(RunMode::Demo, AuthMode::Demo, upstreams, spa, options);
    Harness {
        client: cluster.client(),
        cluster,
        state,
    }
}

/// Installs the Prometheus Operator's ServiceMonitor and PodMonitor CRDs,
/// as its chart would.
fn install_operator_crds(cluster: &InMemoryCluster) {
    for plural in ["servicemonitors", "podmonitors"] {
        assert!(cluster.install_crd(MONITORING, plural));
    }
}

async fn mesh_call(h: &Harness, path: &str) -> (StatusCode, Value) {
    let method = if path == "/api/mesh" {
        Method::GET
    } else {
        Method::POST
    };
    common::request(&h.state, method, path, ADMIN, None).await
}

async fn status(h: &Harness) -> MeshStatus {
    let (code, body) = mesh_call(h, "/api/mesh").await;
    assert_eq!(code, StatusCode::OK, "{body}");
    serde_json::from_value(body).unwrap()
}

async fn change(h: &Harness, path: &str) -> MeshChange {
    let (code, body) = mesh_call(h, path).await;
    assert_eq!(code, StatusCode::OK, "{path}: {body}");
    serde_json::from_value(body).unwrap()
}

/// Saves the settings with `edit` applied, as the owner.
async fn save(h: &Harness, edit: impl FnOnce(&mut MeshSettings)) {
    let (_, doc) = common::request(&h.state, Method::GET, "/api/settings", ADMIN, None).await;
    let doc: SettingsDocument = serde_json::from_value(doc).unwrap();
    let mut settings = doc.settings;
    edit(&mut settings);
    let update = SettingsUpdate {
        settings,
        resource_version: doc.resource_version,
    };
    let (code, body) = common::request(
        &h.state,
        Method::PUT,
        "/api/settings",
        ADMIN,
        Some(serde_json::to_value(update).unwrap()),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
}

fn monitors(client: &kube::Client, kind: &str, plural: &str) -> Api<DynamicObject> {
    let ar =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(MONITORING, "v1", kind), plural);
    Api::all_with(client.clone(), &ar)
}

fn monitors_in(client: &kube::Client, ns: &str, kind: &str, plural: &str) -> Api<DynamicObject> {
    let ar =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(MONITORING, "v1", kind), plural);
    Api::namespaced_with(client.clone(), ns, &ar)
}

fn service_monitors(h: &Harness) -> Api<DynamicObject> {
    monitors_in(
        &h.client,
        "istio-system",
        "ServiceMonitor",
        "servicemonitors",
    )
}

fn pod_monitors(h: &Harness) -> Api<DynamicObject> {
    monitors_in(&h.client, "istio-system", "PodMonitor", "podmonitors")
}

fn labels(o: &DynamicObject) -> BTreeMap<String, String> {
    o.metadata.labels.clone().unwrap_or_default()
}

fn assert_meshdecks(o: &DynamicObject) {
    let l = labels(o);
    assert_eq!(l["app.kubernetes.io/managed-by"], "meshdeck", "{l:?}");
    assert_eq!(l["meshdeck.io/part-of"], "mesh", "{l:?}");
}

#[tokio::test]
async fn enabling_creates_istios_monitors_and_disabling_removes_them() {
    let h = harness(false);
    install_operator_crds(&h.cluster);

    let before = status(&h).await;
    let m = &before.monitoring;
    assert!(m.operator_api && m.scrape_config.is_none(), "{m:?}");
    let found: Vec<(&str, &str, &str, MonitorState)> = m
        .monitors
        .iter()
        .map(|i| {
            (
                i.kind.as_str(),
                i.namespace.as_str(),
                i.name.as_str(),
                i.state,
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "ServiceMonitor",
                "istio-system",
                "istio-component-monitor",
                MonitorState::Missing
            ),
            (
                "PodMonitor",
                "istio-system",
                "envoy-stats-monitor",
                MonitorState::Missing
            ),
        ]
    );
    assert!(m.grafana.is_none(), "no Grafana URL: {m:?}");

    // The preview names both and writes neither.
    let preview = change(&h, "/api/mesh/enable?dryRun=true").await;
    for what in [
        "create ServiceMonitor istio-system/istio-component-monitor",
        "create PodMonitor istio-system/envoy-stats-monitor",
    ] {
        assert!(
            preview.steps.iter().any(|s| s.starts_with(what)),
            "{what}: {:?}",
            preview.steps
        );
    }
    assert!(
        service_monitors(&h)
            .get_opt("istio-component-monitor")
            .await
            .unwrap()
            .is_none()
    );

    let enabled = change(&h, "/api/mesh/enable").await;
    let sm = service_monitors(&h)
        .get("istio-component-monitor")
        .await
        .unwrap();
    let pm = pod_monitors(&h).get("envoy-stats-monitor").await.unwrap();
    assert_meshdecks(&sm);
    assert_meshdecks(&pm);

    // Istio's documentation ("Prometheus Operator": samples/addons/extras/
    // prometheus-operator.yaml): istiod's Services by label `istio` in
    // [pilot], any namespace, port http-monitoring every 15 s.
    assert_eq!(
        sm.data["spec"],
        json!({
            "jobLabel": "istio",
            "targetLabels": ["app"],
            "selector": {"matchExpressions": [{"key": "istio", "operator": "In", "values": ["pilot"]}]},
            "namespaceSelector": {"any": true},
            "endpoints": [{"port": "http-monitoring", "interval": "15s"}],
        })
    );
    // And that is the istiod Service running here: its label and its port.
    let istiod =
        Api::<k8s_openapi::api::core::v1::Service>::namespaced(h.client.clone(), "istio-system")
            .get("istiod")
            .await
            .unwrap();
    assert_eq!(labels_of(&istiod.metadata)["istio"], "pilot");
    let ports: Vec<String> = istiod
        .spec
        .unwrap()
        .ports
        .unwrap()
        .into_iter()
        .filter_map(|p| p.name)
        .collect();
    assert!(ports.contains(&"http-monitoring".to_owned()), "{ports:?}");

    // The sidecars: every pod not labelled istio-prometheus-ignore, any
    // namespace, /stats/prometheus every 15 s, the istio-proxy container of
    // pods annotated for scraping, at the annotated port.
    let spec = &pm.data["spec"];
    assert_eq!(
        spec["selector"],
        json!({"matchExpressions": [{"key": "istio-prometheus-ignore", "operator": "DoesNotExist"}]})
    );
    assert_eq!(spec["namespaceSelector"], json!({"any": true}));
    let endpoint = &spec["podMetricsEndpoints"][0];
    assert_eq!(endpoint["path"], "/stats/prometheus");
    assert_eq!(endpoint["interval"], "15s");
    let relabelings = endpoint["relabelings"].as_array().unwrap();
    assert_eq!(
        relabelings[0],
        json!({"action": "keep", "sourceLabels": ["__meta_kubernetes_pod_container_name"], "regex": "istio-proxy"})
    );
    assert_eq!(
        relabelings[1],
        json!({"action": "keep", "sourceLabels": ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"], "regex": "true"})
    );
    assert!(
        relabelings
            .iter()
            .filter(|r| r["targetLabel"] == "__address__")
            .all(|r| r["sourceLabels"]
                == json!([
                    "__meta_kubernetes_pod_annotation_prometheus_io_port",
                    "__meta_kubernetes_pod_ip"
                ])),
        "{relabelings:?}"
    );

    let after = &enabled.status.monitoring;
    assert!(
        after
            .monitors
            .iter()
            .all(|i| i.state == MonitorState::Managed),
        "{after:?}"
    );
    for created in [
        "ServiceMonitor istio-system/istio-component-monitor",
        "PodMonitor istio-system/envoy-stats-monitor",
    ] {
        assert!(
            enabled.status.created.contains(&created.to_owned()),
            "{:?}",
            enabled.status.created
        );
    }

    // Enabling again changes nothing; disabling removes both.
    let again = change(&h, "/api/mesh/enable").await;
    assert!(
        again
            .steps
            .iter()
            .any(|s| s.starts_with("update PodMonitor istio-system/envoy-stats-monitor")),
        "{:?}",
        again.steps
    );
    let preview = change(&h, "/api/mesh/disable?dryRun=true").await;
    assert!(
        preview
            .steps
            .contains(&"delete ServiceMonitor istio-system/istio-component-monitor".to_owned()),
        "{:?}",
        preview.steps
    );
    assert!(
        service_monitors(&h)
            .get_opt("istio-component-monitor")
            .await
            .unwrap()
            .is_some()
    );
    let disabled = change(&h, "/api/mesh/disable").await;
    assert!(
        service_monitors(&h)
            .get_opt("istio-component-monitor")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        pod_monitors(&h)
            .get_opt("envoy-stats-monitor")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        disabled
            .status
            .monitoring
            .monitors
            .iter()
            .all(|i| i.state == MonitorState::Missing)
    );
}

fn labels_of(meta: &kube::api::ObjectMeta) -> BTreeMap<String, String> {
    meta.labels.clone().unwrap_or_default()
}

#[tokio::test]
async fn monitors_of_others_doing_the_job_are_used_and_kept() {
    let h = harness(false);
    install_operator_crds(&h.cluster);
    // kube-prometheus-stack users often have a PodMonitor for the sidecars
    // in their monitoring namespace already; a second would count every
    // request twice.
    let namespace: k8s_openapi::api::core::v1::Namespace =
        serde_json::from_value(json!({"metadata": {"name": "monitoring"}})).unwrap();
    Api::all(h.client.clone())
        .create(&Default::default(), &namespace)
        .await
        .unwrap();
    let theirs: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {"name": "istio-proxies", "namespace": "monitoring", "labels": {"release": "kube-prometheus-stack"}},
        "spec": {
            "selector": {},
            "namespaceSelector": {"any": true},
            "podMetricsEndpoints": [{"path": "/stats/prometheus", "interval": "30s"}],
        },
    }))
    .unwrap();
    let api = monitors_in(&h.client, "monitoring", "PodMonitor", "podmonitors");
    api.create(&Default::default(), &theirs).await.unwrap();

    let before = status(&h).await;
    let pm = &before.monitoring.monitors[1];
    assert_eq!(pm.state, MonitorState::Existing);
    assert_eq!(
        pm.existing.as_deref(),
        Some("PodMonitor monitoring/istio-proxies")
    );

    let enabled = change(&h, "/api/mesh/enable").await;
    assert!(
        enabled.steps.iter().any(|s| s.starts_with(
            "use the existing PodMonitor monitoring/istio-proxies, which scrapes the sidecars' metrics"
        )),
        "{:?}",
        enabled.steps
    );
    let all = monitors(&h.client, "PodMonitor", "podmonitors")
        .list(&Default::default())
        .await
        .unwrap();
    let names: Vec<String> = all
        .items
        .iter()
        .filter_map(|o| o.metadata.name.clone())
        .collect();
    assert_eq!(names, ["istio-proxies"], "no second PodMonitor");
    assert!(
        service_monitors(&h)
            .get_opt("istio-component-monitor")
            .await
            .unwrap()
            .is_some()
    );

    change(&h, "/api/mesh/disable").await;
    let kept = api.get("istio-proxies").await.unwrap();
    assert_eq!(labels(&kept)["release"], "kube-prometheus-stack");
    assert!(
        service_monitors(&h)
            .get_opt("istio-component-monitor")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn without_the_operator_nothing_is_attempted_and_the_scrape_jobs_are_shown() {
    let h = harness(false);
    h.cluster.clear_audit();
    let before = status(&h).await;
    let m = &before.monitoring;
    assert!(!m.operator_api && m.monitors.is_empty(), "{m:?}");
    assert_eq!(m.scrape_config.as_deref(), Some(SCRAPE_CONFIG));

    let enabled = change(&h, "/api/mesh/enable").await;
    assert!(
        enabled
            .steps
            .iter()
            .any(|s| s.contains("Prometheus Operator's API") && s.contains("scrape jobs")),
        "{:?}",
        enabled.steps
    );
    change(&h, "/api/mesh/disable").await;
    let asked: Vec<String> = h
        .cluster
        .audit()
        .into_iter()
        .filter(|e| e.group == MONITORING)
        .map(|e| {
            format!(
                "{} {} {} {}/{}",
                e.user, e.verb, e.resource, e.namespace, e.name
            )
        })
        .collect();
    assert!(
        asked.is_empty(),
        "asked of monitoring.coreos.com: {asked:?}"
    );
    // The snippet's two jobs, in words a person checks them by.
    let jobs: Vec<Value> = serde_yaml_ng::from_str(SCRAPE_CONFIG).unwrap();
    assert_eq!(jobs[0]["job_name"], "istiod");
    assert_eq!(
        jobs[0]["relabel_configs"][0]["regex"],
        "istiod;http-monitoring"
    );
    assert_eq!(jobs[1]["kubernetes_sd_configs"][0]["role"], "pod");
}

/// Every `expr` of a Grafana dashboard.
fn exprs(dashboard: &Value) -> BTreeSet<String> {
    dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap().clone())
        .map(|t| t["expr"].as_str().unwrap().to_owned())
        .collect()
}

/// The PromQL of built-in dashboard `kind` as Grafana should run it: its
/// panels' queries over `$__rate_interval`, for the object the template
/// variables pick; the mesh's table over the dashboard's range.
fn expected_exprs(kind: DashboardKind) -> BTreeSet<String> {
    let (ns, name) = match kind {
        DashboardKind::Mesh => ("", ""),
        DashboardKind::Service => ("$namespace", "$service"),
        DashboardKind::Workload => ("$namespace", "$workload"),
    };
    let mut out: BTreeSet<String> = dashboards::panels(kind, ns, name, Window::GrafanaRate)
        .into_iter()
        .flat_map(|p| p.queries)
        .map(|q| q.promql)
        .collect();
    if kind == DashboardKind::Mesh {
        out.extend(
            dashboards::service_table_queries(Window::GrafanaRange)
                .into_iter()
                .map(|q| q.promql),
        );
    }
    out
}

async fn grafana_configmap(h: &Harness) -> Option<ConfigMap> {
    Api::<ConfigMap>::namespaced(h.client.clone(), "meshdeck")
        .get_opt(GRAFANA_CM)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_grafana_dashboards_configmap_follows_the_grafana_url() {
    let h = harness(false);
    change(&h, "/api/mesh/enable").await;
    assert!(
        grafana_configmap(&h).await.is_none(),
        "no Grafana URL, no dashboards"
    );

    save(&h, |s| {
        s.tool_urls.grafana = "https://grafana.example.com/".into()
    })
    .await;
    let before = status(&h).await;
    let g = before
        .monitoring
        .grafana
        .clone()
        .expect("a Grafana URL is configured");
    assert_eq!(
        (g.configmap.as_str(), g.label.as_str(), g.state),
        (
            "meshdeck/meshdeck-grafana-dashboards",
            "grafana_dashboard=1",
            MonitorState::Missing
        )
    );
    let enabled = change(&h, "/api/mesh/enable").await;
    assert!(
        enabled
            .steps
            .iter()
            .any(|s| s.starts_with("create ConfigMap meshdeck/meshdeck-grafana-dashboards")),
        "{:?}",
        enabled.steps
    );
    assert_eq!(
        enabled.status.monitoring.grafana.unwrap().state,
        MonitorState::Managed
    );

    let cm = grafana_configmap(&h)
        .await
        .expect("the dashboards' ConfigMap");
    let l = labels_of(&cm.metadata);
    // The label Grafana's dashboard sidecar (k8s-sidecar) watches by default.
    assert_eq!(l["grafana_dashboard"], "1");
    assert_eq!(l["app.kubernetes.io/managed-by"], "meshdeck");
    let data = cm.data.unwrap();
    let files: Vec<&str> = data.keys().map(String::as_str).collect();
    assert_eq!(
        files,
        [
            "meshdeck-mesh.json",
            "meshdeck-service.json",
            "meshdeck-workload.json"
        ]
    );
    for kind in DashboardKind::ALL {
        let file = format!("meshdeck-{}.json", kind.as_str());
        let d: Value = serde_json::from_str(&data[&file]).unwrap();
        assert_eq!(d["uid"], format!("meshdeck-{}", kind.as_str()));
        assert!(d["schemaVersion"].as_u64().unwrap() >= 36, "{file}");
        let ds = &d["templating"]["list"][0];
        assert_eq!(
            (&ds["name"], &ds["type"], &ds["query"]),
            (
                &json!("datasource"),
                &json!("datasource"),
                &json!("prometheus")
            )
        );
        assert_eq!(exprs(&d), expected_exprs(kind), "{file}");
        for panel in d["panels"].as_array().unwrap() {
            assert_eq!(panel["datasource"]["uid"], "${datasource}", "{file}");
        }
    }
    // The mesh's global volume as README and DESIGN.md write it, with
    // Grafana's window.
    let mesh: Value = serde_json::from_str(&data["meshdeck-mesh.json"]).unwrap();
    assert!(
        exprs(&mesh).contains(
            r#"sum(rate(istio_requests_total{reporter="destination"}[$__rate_interval]))"#
        )
    );
    let service: Value = serde_json::from_str(&data["meshdeck-service.json"]).unwrap();
    assert!(exprs(&service).contains(
        r#"histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{reporter="destination",destination_service_namespace="$namespace",destination_service_name="$service"}[$__rate_interval])) by (le))"#
    ));

    // Without the URL, the next enable prunes it; disabling removes it too.
    save(&h, |s| s.tool_urls.grafana.clear()).await;
    let reapplied = change(&h, "/api/mesh/enable").await;
    assert!(
        reapplied.steps.contains(
            &"delete ConfigMap meshdeck/meshdeck-grafana-dashboards (no longer wanted)".to_owned()
        ),
        "{:?}",
        reapplied.steps
    );
    assert!(grafana_configmap(&h).await.is_none());
    assert!(reapplied.status.monitoring.grafana.is_none());
}

#[tokio::test]
async fn a_grafana_url_given_as_a_flag_counts_too() {
    let h = harness(true);
    let before = status(&h).await;
    assert!(
        before
            .monitoring
            .grafana
            .as_ref()
            .is_some_and(|g| g.url_configured)
    );
    change(&h, "/api/mesh/enable").await;
    assert!(grafana_configmap(&h).await.is_some());
    change(&h, "/api/mesh/disable").await;
    assert!(grafana_configmap(&h).await.is_none());
    // Enabling and disabling were meshdeck's writes, every one allowed.
    let refused: Vec<String> = h
        .cluster
        .audit()
        .into_iter()
        .filter(|e| e.user == MESHDECK_SA_USER && e.code == 403)
        .map(|e| format!("{} {}/{} {}", e.verb, e.resource, e.namespace, e.name))
        .collect();
    assert!(refused.is_empty(), "{refused:?}");
}

// ---------------------------------------------------------------------------
// The scrape jobs and the PodMonitor in a real Prometheus.

/// A label name as Prometheus' Kubernetes discovery writes it.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// What Prometheus' Kubernetes discovery (`role: pod`) gives for `pods`:
/// a target per declared port of each container (init containers too), or
/// one without a port for a container declaring none, with the pod's
/// labels, annotations and address.
fn pod_targets(pods: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for pod in pods {
        let meta = &pod["metadata"];
        // Discovery skips pods without an address yet.
        let Some(ip) = pod["status"]["podIP"].as_str() else {
            continue;
        };
        let mut base = BTreeMap::from([
            (
                "__meta_kubernetes_namespace".to_owned(),
                meta["namespace"].as_str().unwrap().to_owned(),
            ),
            (
                "__meta_kubernetes_pod_name".to_owned(),
                meta["name"].as_str().unwrap().to_owned(),
            ),
            ("__meta_kubernetes_pod_ip".to_owned(), ip.to_owned()),
        ]);
        for (kind, map) in [
            ("label", &meta["labels"]),
            ("annotation", &meta["annotations"]),
        ] {
            for (k, v) in map.as_object().into_iter().flatten() {
                let k = sanitize(k);
                base.insert(
                    format!("__meta_kubernetes_pod_{kind}_{k}"),
                    v.as_str().unwrap_or_default().to_owned(),
                );
                base.insert(
                    format!("__meta_kubernetes_pod_{kind}present_{k}"),
                    "true".to_owned(),
                );
            }
        }
        for (init, list) in [
            ("true", &pod["spec"]["initContainers"]),
            ("false", &pod["spec"]["containers"]),
        ] {
            for c in list.as_array().into_iter().flatten() {
                let mut labels = base.clone();
                labels.insert(
                    "__meta_kubernetes_pod_container_name".into(),
                    c["name"].as_str().unwrap().to_owned(),
                );
                labels.insert("__meta_kubernetes_pod_container_init".into(), init.into());
                let ports = c["ports"].as_array().cloned().unwrap_or_default();
                if ports.is_empty() {
                    out.push(json!({"targets": [ip], "labels": labels}));
                }
                for p in ports {
                    let mut labels = labels.clone();
                    let number = p["containerPort"].as_u64().unwrap();
                    labels.insert(
                        "__meta_kubernetes_pod_container_port_number".into(),
                        number.to_string(),
                    );
                    if let Some(name) = p["name"].as_str() {
                        labels.insert(
                            "__meta_kubernetes_pod_container_port_name".into(),
                            name.to_owned(),
                        );
                    }
                    out.push(json!({"targets": [format!("{ip}:{number}")], "labels": labels}));
                }
            }
        }
    }
    out
}

fn selected(selector: &Value, labels: &Value) -> bool {
    selector
        .as_object()
        .is_some_and(|s| !s.is_empty() && s.iter().all(|(k, v)| &labels[k] == v))
}

/// What Prometheus' Kubernetes discovery (`role: endpoints`) gives for
/// `services`: a target per port of each ready pod the Service selects.
fn endpoint_targets(services: &[Value], pods: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for svc in services {
        let ns = svc["metadata"]["namespace"].as_str().unwrap();
        let backing: Vec<&Value> = pods
            .iter()
            .filter(|p| {
                p["metadata"]["namespace"] == ns
                    && p["status"]["podIP"].is_string()
                    && selected(&svc["spec"]["selector"], &p["metadata"]["labels"])
            })
            .collect();
        for port in svc["spec"]["ports"].as_array().into_iter().flatten() {
            let number = port["targetPort"]
                .as_u64()
                .or(port["port"].as_u64())
                .unwrap();
            for pod in &backing {
                out.push(json!({
                    "targets": [format!("{}:{number}", pod["status"]["podIP"].as_str().unwrap())],
                    "labels": {
                        "__meta_kubernetes_namespace": ns,
                        "__meta_kubernetes_service_name": svc["metadata"]["name"],
                        "__meta_kubernetes_endpoint_port_name": port["name"].as_str().unwrap_or_default(),
                        "__meta_kubernetes_pod_name": pod["metadata"]["name"],
                    },
                }));
            }
        }
    }
    out
}

/// The PodMonitor as a scrape job, the way the Prometheus Operator turns
/// one into Prometheus configuration: its pod selector first (a
/// `DoesNotExist` is a drop on the label's presence), then its
/// relabelings, at its path.
fn pod_monitor_job(file: &str) -> Value {
    let pm = pod_monitor();
    let spec = &pm["spec"];
    let mut relabel = Vec::new();
    for e in spec["selector"]["matchExpressions"].as_array().unwrap() {
        assert_eq!(
            e["operator"], "DoesNotExist",
            "only what meshdeck writes is converted"
        );
        relabel.push(json!({
            "source_labels": [format!("__meta_kubernetes_pod_labelpresent_{}", sanitize(e["key"].as_str().unwrap()))],
            "regex": "true",
            "action": "drop",
        }));
    }
    let endpoint = &spec["podMetricsEndpoints"][0];
    for r in endpoint["relabelings"].as_array().unwrap() {
        let mut rule =
            json!({"action": r["action"], "source_labels": r["sourceLabels"], "regex": r["regex"]});
        for (from, to) in [
            ("replacement", "replacement"),
            ("targetLabel", "target_label"),
        ] {
            if let Some(v) = r.get(from) {
                rule[to] = v.clone();
            }
        }
        relabel.push(rule);
    }
    json!({
        "job_name": "podmonitor",
        "metrics_path": endpoint["path"],
        "file_sd_configs": [{"files": [file]}],
        "relabel_configs": relabel,
    })
}

#[tokio::test]
async fn the_scrape_jobs_and_the_pod_monitor_select_the_sidecars_and_istiod_in_prometheus() {
    let cluster = InMemoryCluster::from_mesh(&scenario::demo());
    let client = cluster.client();
    // One injected pod opts out of scraping, as Istio's sample allows.
    let pods = cluster.list("", "v1", "pods", None);
    let has_sidecar = |p: &Value| {
        ["containers", "initContainers"].iter().any(|list| {
            p["spec"][list]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["name"] == "istio-proxy")
        })
    };
    let ignored = pods.iter().find(|p| has_sidecar(p)).unwrap();
    let (ignored_ns, ignored_name) = (
        ignored["metadata"]["namespace"]
            .as_str()
            .unwrap()
            .to_owned(),
        ignored["metadata"]["name"].as_str().unwrap().to_owned(),
    );
    Api::<Pod>::namespaced(client.clone(), &ignored_ns)
        .patch(
            &ignored_name,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"istio-prometheus-ignore": "true"}}})),
        )
        .await
        .unwrap();
    let pods = cluster.list("", "v1", "pods", None);
    let services = cluster.list("", "v1", "services", None);
    assert!(
        pods.iter().any(|p| !has_sidecar(p)),
        "the demo has pods without sidecars"
    );

    // Expected, from the pods themselves: each sidecar's merged metrics at
    // port 15020 (Istio's agent), path /stats/prometheus; istiod's pods at
    // 15014, the default path.
    let sidecars: BTreeSet<String> = pods
        .iter()
        .filter(|p| {
            has_sidecar(p)
                && p["status"]["podIP"].is_string()
                && (p["metadata"]["namespace"] != ignored_ns.as_str()
                    || p["metadata"]["name"] != ignored_name.as_str())
        })
        .map(|p| {
            format!(
                "http://{}:15020/stats/prometheus",
                p["status"]["podIP"].as_str().unwrap()
            )
        })
        .collect();
    let istiods: BTreeSet<String> = pods
        .iter()
        .filter(|p| {
            p["metadata"]["namespace"] == "istio-system"
                && p["metadata"]["labels"]["app"] == "istiod"
        })
        .map(|p| {
            format!(
                "http://{}:15014/metrics",
                p["status"]["podIP"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        sidecars.len() > 5 && !istiods.is_empty(),
        "{sidecars:?} {istiods:?}"
    );

    let dir = std::env::temp_dir().join(format!("meshdeck-monitoring-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pods_file = dir.join("pods.json");
    let endpoints_file = dir.join("endpoints.json");
    std::fs::write(
        &pods_file,
        serde_json::to_string(&pod_targets(&pods)).unwrap(),
    )
    .unwrap();
    std::fs::write(
        &endpoints_file,
        serde_json::to_string(&endpoint_targets(&services, &pods)).unwrap(),
    )
    .unwrap();

    // The snippet's jobs, discovery swapped for files holding what
    // Kubernetes discovery would give; their relabelings as written.
    let mut jobs: Vec<Value> = serde_yaml_ng::from_str(SCRAPE_CONFIG).unwrap();
    for job in &mut jobs {
        let role = job["kubernetes_sd_configs"][0]["role"]
            .as_str()
            .unwrap()
            .to_owned();
        let file = if role == "pod" {
            &pods_file
        } else {
            &endpoints_file
        };
        let map = job.as_object_mut().unwrap();
        map.remove("kubernetes_sd_configs");
        map.insert(
            "file_sd_configs".into(),
            json!([{"files": [file.display().to_string()]}]),
        );
    }
    jobs.push(pod_monitor_job(&pods_file.display().to_string()));
    for job in &mut jobs {
        // The pods' addresses are not reachable: scrape rarely.
        job["scrape_interval"] = json!("1h");
        job["scrape_timeout"] = json!("1s");
    }
    let prometheus = PrometheusServer::start(&PrometheusOptions {
        extra_scrape_configs: Some(serde_yaml_ng::to_string(&jobs).unwrap()),
        ..PrometheusOptions::default()
    })
    .await
    .unwrap();

    let http = reqwest::Client::new();
    let mut by_job: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut pod_labels: Vec<(String, String, String)> = Vec::new();
    for _ in 0..150 {
        let answer: Value = http
            .get(format!("{}/api/v1/targets?state=active", prometheus.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        by_job.clear();
        pod_labels.clear();
        for t in answer["data"]["activeTargets"].as_array().unwrap() {
            let job = t["scrapePool"].as_str().unwrap().to_owned();
            if job == "envoy-stats" {
                pod_labels.push((
                    t["scrapeUrl"].as_str().unwrap().to_owned(),
                    t["labels"]["namespace"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    t["labels"]["pod"].as_str().unwrap_or_default().to_owned(),
                ));
            }
            by_job
                .entry(job)
                .or_default()
                .insert(t["scrapeUrl"].as_str().unwrap().to_owned());
        }
        if by_job.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(by_job.get("istiod"), Some(&istiods), "{by_job:#?}");
    assert_eq!(by_job.get("envoy-stats"), Some(&sidecars), "{by_job:#?}");
    assert_eq!(by_job.get("podmonitor"), Some(&sidecars), "{by_job:#?}");
    // The snippet names each sidecar's namespace and pod.
    for (url, ns, pod) in &pod_labels {
        let p = pods
            .iter()
            .find(|p| {
                p["metadata"]["name"] == pod.as_str() && p["metadata"]["namespace"] == ns.as_str()
            })
            .unwrap_or_else(|| panic!("{url}: no pod {ns}/{pod}"));
        assert!(
            url.contains(p["status"]["podIP"].as_str().unwrap()),
            "{url} for {ns}/{pod}"
        );
    }
}
