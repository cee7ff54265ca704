//! meshdeck's built-in dashboards (Mesh, Service, Workload) as Grafana
//! dashboard JSON, for Grafana's dashboard sidecar to load from a
//! ConfigMap (see [`crate::enablement::mesh::monitoring`]).
//!
//! Written from the same definitions as the console's dashboards
//! ([`crate::dashboards::panels`] and its PromQL builders), not copied from
//! Istio's dashboards: each panel becomes a Grafana time series panel with
//! the same title, unit, legends and PromQL. What Grafana fills in itself:
//! the `rate` window is `$__rate_interval` ([`Window::GrafanaRate`]), the
//! mesh's per-service table covers the dashboard's range (`$__range`), the
//! service or workload is picked with template variables (`$namespace`,
//! `$service`, `$workload`, listed from `istio_requests_total`), and the
//! Prometheus data source is a variable too (`$datasource`), so the JSON
//! names no data source of a particular Grafana.

use app::types::{DashboardKind, Unit};
use serde_json::{Value, json};

use crate::dashboards::{self, PanelPlan};
use crate::promql::{Op, REQUESTS, Selector, Window};

/// Grafana's dashboard JSON model version these dashboards are written in.
pub const SCHEMA_VERSION: u32 = 39;
/// The data source variable every panel and variable query uses.
pub const DATASOURCE_VARIABLE: &str = "datasource";
/// Tag of every meshdeck dashboard in Grafana.
pub const TAG: &str = "meshdeck";

/// One dashboard: where it goes in the ConfigMap and its JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct GrafanaDashboard {
    /// The built-in dashboard it is written from.
    pub kind: DashboardKind,
    /// Its key in the ConfigMap, which the sidecar writes as a file
    /// (`meshdeck-mesh.json`).
    pub file: String,
    /// The dashboard JSON.
    pub json: Value,
}

/// The dashboard's stable `uid` (`meshdeck-mesh`): Grafana keeps one
/// dashboard per uid, so updating the ConfigMap updates it in place.
pub fn uid(kind: DashboardKind) -> String {
    format!("meshdeck-{}", kind.as_str())
}

/// Its key in the ConfigMap (`meshdeck-mesh.json`).
pub fn file(kind: DashboardKind) -> String {
    format!("{}.json", uid(kind))
}

/// The dashboard's title in Grafana.
pub fn title(kind: DashboardKind) -> &'static str {
    match kind {
        DashboardKind::Mesh => "meshdeck: Mesh",
        DashboardKind::Service => "meshdeck: Service",
        DashboardKind::Workload => "meshdeck: Workload",
    }
}

/// Grafana's unit id for a meshdeck unit.
pub fn unit(u: Unit) -> &'static str {
    match u {
        Unit::Ratio => "percentunit",
        Unit::RequestsPerSecond => "reqps",
        Unit::Milliseconds => "ms",
        Unit::Bytes => "bytes",
        Unit::BytesPerSecond => "Bps",
        Unit::Number => "short",
    }
}

/// The template variable naming the dashboard's object (`None` for the
/// mesh): `service` or `workload`.
pub fn object_variable(kind: DashboardKind) -> Option<&'static str> {
    match kind {
        DashboardKind::Mesh => None,
        DashboardKind::Service => Some("service"),
        DashboardKind::Workload => Some("workload"),
    }
}

/// The panels of `kind` as Grafana evaluates them: the object chosen by
/// the template variables, the window by Grafana.
pub fn panel_plans(kind: DashboardKind) -> Vec<PanelPlan> {
    let name = object_variable(kind)
        .map(|v| format!("${v}"))
        .unwrap_or_default();
    let namespace = if kind.needs_name() { "$namespace" } else { "" };
    dashboards::panels(kind, namespace, &name, Window::GrafanaRate)
}

fn datasource() -> Value {
    json!({"type": "prometheus", "uid": format!("${{{DATASOURCE_VARIABLE}}}")})
}

/// `A`, `B`, ... for the queries of a panel.
fn ref_id(i: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    match letters.get(i) {
        Some(c) => char::from(*c).to_string(),
        None => format!("Q{i}"),
    }
}

/// Panels are laid out two to a row, each half the width.
const PANEL_WIDTH: u32 = 12;
const PANEL_HEIGHT: u32 = 8;

fn time_series(id: u32, plan: &PanelPlan, x: u32, y: u32) -> Value {
    let targets: Vec<Value> = plan
        .queries
        .iter()
        .enumerate()
        .map(|(i, q)| {
            json!({
                "refId": ref_id(i),
                "datasource": datasource(),
                "expr": q.promql,
                "legendFormat": q.legend,
                "range": true,
                "instant": false,
            })
        })
        .collect();
    let mut defaults = json!({"unit": unit(plan.unit), "min": 0});
    if plan.unit == Unit::Ratio {
        defaults["max"] = json!(1);
    }
    json!({
        "id": id,
        "type": "timeseries",
        "title": plan.title,
        "datasource": datasource(),
        "gridPos": {"h": PANEL_HEIGHT, "w": PANEL_WIDTH, "x": x, "y": y},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": true},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
        "targets": targets,
    })
}

/// The mesh dashboard's per-service table: requests/s, success rate and
/// p99 over the dashboard's range, one instant query each, joined on the
/// service's labels.
fn service_table(id: u32, y: u32) -> Value {
    let queries = dashboards::service_table_queries(Window::GrafanaRange);
    let units = ["reqps", "percentunit", "ms"];
    let targets: Vec<Value> = queries
        .iter()
        .enumerate()
        .map(|(i, q)| {
            json!({
                "refId": ref_id(i),
                "datasource": datasource(),
                "expr": q.promql,
                "legendFormat": q.legend,
                "format": "table",
                "instant": true,
                "range": false,
            })
        })
        .collect();
    // Grafana names each query's value column `Value #<refId>`.
    let overrides: Vec<Value> = queries
        .iter()
        .zip(units)
        .enumerate()
        .map(|(i, (q, unit))| {
            json!({
                "matcher": {"id": "byName", "options": format!("Value #{}", ref_id(i))},
                "properties": [
                    {"id": "displayName", "value": q.legend},
                    {"id": "unit", "value": unit},
                ],
            })
        })
        .collect();
    json!({
        "id": id,
        "type": "table",
        "title": "Services over the dashboard's range",
        "datasource": datasource(),
        "gridPos": {"h": 10, "w": 2 * PANEL_WIDTH, "x": 0, "y": y},
        "fieldConfig": {"defaults": {}, "overrides": overrides},
        "options": {"showHeader": true, "sortBy": [{"displayName": queries[0].legend, "desc": true}]},
        "targets": targets,
        "transformations": [
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {
                "excludeByName": {"Time": true},
                "renameByName": {
                    "destination_service_namespace": "namespace",
                    "destination_service_name": "service",
                },
            }},
        ],
    })
}

fn datasource_variable() -> Value {
    json!({
        "name": DATASOURCE_VARIABLE,
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "current": {},
        "hide": 0,
        "includeAll": false,
        "multi": false,
        "options": [],
        "refresh": 1,
        "regex": "",
    })
}

fn query_variable(name: &str, label: &str, query: String) -> Value {
    json!({
        "name": name,
        "label": label,
        "type": "query",
        "datasource": datasource(),
        "query": query,
        "definition": query,
        "current": {},
        "hide": 0,
        "includeAll": false,
        "multi": false,
        "options": [],
        "refresh": 2,
        "regex": "",
        "sort": 1,
    })
}

/// `label_values` of `label` over the destination-reported requests
/// matching `selector`: what the variable pickers list.
fn label_values(selector: &Selector, label: &str) -> String {
    format!("label_values({REQUESTS}{{{}}}, {label})", selector.render())
}

/// The template variables of `kind`: the data source, then the namespace
/// and the object, each listed from the traffic Prometheus holds.
pub fn variables(kind: DashboardKind) -> Vec<Value> {
    let destination = Selector::default().with("reporter", Op::Eq, "destination");
    let mut out = vec![datasource_variable()];
    let labels = match kind {
        DashboardKind::Mesh => None,
        DashboardKind::Service => {
            Some(("destination_service_namespace", "destination_service_name"))
        }
        DashboardKind::Workload => Some(("destination_workload_namespace", "destination_workload")),
    };
    if let (Some((ns_label, name_label)), Some(object)) = (labels, object_variable(kind)) {
        out.push(query_variable(
            "namespace",
            "Namespace",
            label_values(&destination, ns_label),
        ));
        let in_namespace = destination.with(ns_label, Op::Eq, "$namespace");
        let label = if kind == DashboardKind::Service {
            "Service"
        } else {
            "Workload"
        };
        out.push(query_variable(
            object,
            label,
            label_values(&in_namespace, name_label),
        ));
    }
    out
}

/// The Grafana dashboard JSON of `kind`.
pub fn dashboard_json(kind: DashboardKind) -> Value {
    let mut panels = Vec::new();
    let mut id = 1;
    let plans = panel_plans(kind);
    for (i, plan) in plans.iter().enumerate() {
        let (x, y) = ((i as u32 % 2) * PANEL_WIDTH, (i as u32 / 2) * PANEL_HEIGHT);
        panels.push(time_series(id, plan, x, y));
        id += 1;
    }
    if kind == DashboardKind::Mesh {
        let rows = plans.len().div_ceil(2) as u32;
        panels.push(service_table(id, rows * PANEL_HEIGHT));
    }
    json!({
        "uid": uid(kind),
        "title": title(kind),
        "description": format!(
            "meshdeck's built-in {} dashboard: the same panels and PromQL as the console's Dashboards page, written by meshdeck.",
            kind.as_str()
        ),
        "tags": [TAG, "istio"],
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": true,
        "graphTooltip": 1,
        "timezone": "",
        "time": {"from": "now-1h", "to": "now"},
        "refresh": "1m",
        "annotations": {"list": []},
        "links": [],
        "templating": {"list": variables(kind)},
        "panels": panels,
    })
}

/// Every built-in dashboard, in the console's order.
pub fn dashboards() -> Vec<GrafanaDashboard> {
    DashboardKind::ALL
        .into_iter()
        .map(|kind| GrafanaDashboard {
            kind,
            file: file(kind),
            json: dashboard_json(kind),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// Golden files of the dashboards, to read them as Grafana gets them
    /// (`testdata/grafana/`; `MESHDECK_UPDATE_GOLDEN=1 cargo test -p
    /// meshdeck --lib grafana` rewrites them).
    #[test]
    fn dashboards_match_their_golden_files() {
        for d in dashboards() {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("src/testdata/grafana")
                .join(&d.file);
            let text = serde_json::to_string_pretty(&d.json).unwrap() + "\n";
            if std::env::var_os("MESHDECK_UPDATE_GOLDEN").is_some() {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &text).unwrap();
            }
            let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (MESHDECK_UPDATE_GOLDEN=1 writes it)",
                    path.display()
                )
            });
            assert_eq!(text, expected, "{} differs from its golden file", d.file);
        }
    }

    #[test]
    fn windows_and_objects_are_grafana_variables() {
        let mesh = dashboard_json(DashboardKind::Mesh);
        assert_eq!(
            mesh["panels"][0]["targets"][0]["expr"],
            r#"sum(rate(istio_requests_total{reporter="destination"}[$__rate_interval]))"#
        );
        let table = mesh["panels"].as_array().unwrap().last().unwrap();
        assert_eq!(table["type"], "table");
        assert_eq!(
            table["targets"][0]["expr"],
            r#"sum by (destination_service_namespace, destination_service_name) (rate(istio_requests_total{reporter="destination"}[$__range]))"#
        );
        let service = dashboard_json(DashboardKind::Service);
        assert_eq!(
            service["panels"][0]["targets"][0]["expr"],
            r#"sum by (source_workload_namespace, source_workload) (rate(istio_requests_total{reporter="destination",destination_service_namespace="$namespace",destination_service_name="$service"}[$__rate_interval]))"#
        );
        let names: Vec<&str> = service["templating"]["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["datasource", "namespace", "service"]);
        assert_eq!(
            service["templating"]["list"][2]["query"],
            r#"label_values(istio_requests_total{reporter="destination",destination_service_namespace="$namespace"}, destination_service_name)"#
        );
        let workload = dashboard_json(DashboardKind::Workload);
        assert_eq!(workload["templating"]["list"][2]["name"], "workload");
        for d in [&mesh, &service, &workload] {
            for p in d["panels"].as_array().unwrap() {
                assert_eq!(p["datasource"]["uid"], "${datasource}");
            }
        }
    }

    #[test]
    fn panels_sit_two_to_a_row_without_overlap() {
        for kind in DashboardKind::ALL {
            let d = dashboard_json(kind);
            let boxes: Vec<(u64, u64, u64, u64)> = d["panels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    let g = &p["gridPos"];
                    let n = |k: &str| g[k].as_u64().unwrap();
                    (n("x"), n("y"), n("w"), n("h"))
                })
                .collect();
            for (i, a) in boxes.iter().enumerate() {
                assert!(a.0 + a.2 <= 24, "{kind:?} panel {i} too wide");
                for b in &boxes[i + 1..] {
                    let apart = a.0 + a.2 <= b.0
                        || b.0 + b.2 <= a.0
                        || a.1 + a.3 <= b.1
                        || b.1 + b.3 <= a.1;
                    assert!(apart, "{kind:?}: {a:?} overlaps {b:?}");
                }
            }
        }
    }
}
