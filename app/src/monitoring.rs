//! What the Settings page says about monitoring (the Prometheus Operator's
//! monitors, the scrape jobs, the Grafana dashboards' ConfigMap), as plain
//! functions tested natively.

use crate::types::{GrafanaDashboardsInfo, MonitorInfo, MonitorState};

/// A badge: its CSS class and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Badge {
    /// `badge-ok`, `badge-info` or `badge-muted`.
    pub class: &'static str,
    /// What it says.
    pub text: String,
}

/// The badge of a monitor or of the dashboards' ConfigMap.
pub fn state_badge(state: MonitorState) -> Badge {
    match state {
        MonitorState::Managed => Badge {
            class: "badge-ok",
            text: "created by meshdeck".into(),
        },
        MonitorState::Existing => Badge {
            class: "badge-info",
            text: "someone else's, used as it is".into(),
        },
        MonitorState::Missing => Badge {
            class: "badge-muted",
            text: "not created yet".into(),
        },
    }
}

/// The line under a monitor: what it scrapes, and for one meshdeck uses
/// instead of writing its own, which object that is.
pub fn monitor_detail(m: &MonitorInfo) -> String {
    match (&m.state, &m.existing) {
        (MonitorState::Existing, Some(other)) => {
            format!(
                "{other} scrapes {}; meshdeck writes no second one.",
                m.scrapes
            )
        }
        (MonitorState::Missing, _) => format!("Enabling the mesh creates it: {}.", m.scrapes),
        _ => format!("Scrapes {}.", m.scrapes),
    }
}

/// What to say about the dashboards' ConfigMap, after its facts.
pub fn grafana_note(g: &GrafanaDashboardsInfo) -> String {
    let namespace = g.configmap.split('/').next().unwrap_or_default();
    match (g.url_configured, g.state) {
        (true, MonitorState::Missing) => {
            "Enabling the mesh (or applying the settings to it) writes it.".to_owned()
        }
        (true, MonitorState::Existing) => format!(
            "A ConfigMap of this name that meshdeck did not write exists: enabling stops there. Rename or remove {} first.",
            g.configmap
        ),
        (true, MonitorState::Managed) => format!(
            "Grafana's dashboard sidecar loads it when it searches namespace {namespace} (Helm value sidecar.dashboards.searchNamespace: ALL or {namespace})."
        ),
        (false, _) => {
            "No Grafana URL is configured any more: applying the settings to the mesh removes it."
                .to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grafana(url_configured: bool, state: MonitorState) -> GrafanaDashboardsInfo {
        GrafanaDashboardsInfo {
            configmap: "meshdeck/meshdeck-grafana-dashboards".into(),
            label: "grafana_dashboard=1".into(),
            url_configured,
            state,
            dashboards: vec!["meshdeck-mesh.json".into()],
        }
    }

    #[test]
    fn monitors_say_whose_they_are() {
        let mut m = MonitorInfo {
            kind: "PodMonitor".into(),
            namespace: "istio-system".into(),
            name: "envoy-stats-monitor".into(),
            scrapes: "the sidecars' merged metrics".into(),
            state: MonitorState::Missing,
            existing: None,
        };
        assert_eq!(state_badge(m.state).class, "badge-muted");
        assert_eq!(
            monitor_detail(&m),
            "Enabling the mesh creates it: the sidecars' merged metrics."
        );
        m.state = MonitorState::Existing;
        m.existing = Some("PodMonitor monitoring/istio-proxies".into());
        assert_eq!(
            monitor_detail(&m),
            "PodMonitor monitoring/istio-proxies scrapes the sidecars' merged metrics; meshdeck writes no second one."
        );
        m.state = MonitorState::Managed;
        assert_eq!(state_badge(m.state).text, "created by meshdeck");
        assert_eq!(monitor_detail(&m), "Scrapes the sidecars' merged metrics.");
    }

    #[test]
    fn the_dashboards_note_names_the_namespace_to_search() {
        assert!(
            grafana_note(&grafana(true, MonitorState::Managed))
                .contains("searchNamespace: ALL or meshdeck")
        );
        assert!(grafana_note(&grafana(true, MonitorState::Missing)).starts_with("Enabling"));
        assert!(grafana_note(&grafana(false, MonitorState::Managed)).contains("removes it"));
        assert!(grafana_note(&grafana(true, MonitorState::Existing)).contains("did not write"));
    }
}
