//! The console's sections: one list drives the navigation bar, page titles
//! and the server's knowledge of which paths belong to the UI.

/// One entry of the main navigation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NavItem {
    /// Path of the section's page (deep links add a query string).
    pub path: &'static str,
    /// Label in the navigation bar and the page heading.
    pub label: &'static str,
    /// One line on what the section is for, shown under the heading.
    pub summary: &'static str,
}

/// Overview: status of the console and its upstreams.
pub const OVERVIEW: NavItem = NavItem {
    path: "/",
    label: "Overview",
    summary: "How meshdeck is wired: the cluster, Prometheus, Jaeger and the linked tools.",
};
/// Traffic Graph (Kiali-style).
pub const GRAPH: NavItem = NavItem {
    path: "/graph",
    label: "Traffic Graph",
    summary: "Which services talk to which, with request rates, errors and latency.",
};
/// Traffic Metrics (the five charts).
pub const METRICS: NavItem = NavItem {
    path: "/metrics",
    label: "Traffic Metrics",
    summary: "Success rate, request volume, 4xx, 5xx and request duration over time.",
};
/// Traces (Jaeger-style).
pub const TRACES: NavItem = NavItem {
    path: "/traces",
    label: "Traces",
    summary: "Follow a slow or failing request through the call chain.",
};
/// Prometheus console and dashboards.
pub const PROMETHEUS: NavItem = NavItem {
    path: "/prometheus",
    label: "Prometheus",
    summary: "PromQL console and built-in dashboards (cluster owners).",
};
/// Mesh settings and enablement.
pub const SETTINGS: NavItem = NavItem {
    path: "/settings",
    label: "Settings",
    summary: "Switch the mesh on for the cluster, namespaces and workloads.",
};

/// The navigation bar, in order.
pub const NAV: [NavItem; 6] = [OVERVIEW, GRAPH, METRICS, TRACES, PROMETHEUS, SETTINGS];

/// Whether `path` (without query string) is a page of the UI.
pub fn is_ui_path(path: &str) -> bool {
    NAV.iter().any(|item| item.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_unique_and_absolute() {
        for (i, a) in NAV.iter().enumerate() {
            assert!(a.path.starts_with('/'), "{}", a.path);
            for b in &NAV[i + 1..] {
                assert_ne!(a.path, b.path);
                assert_ne!(a.label, b.label);
            }
        }
    }

    #[test]
    fn ui_paths_are_recognised() {
        assert!(is_ui_path("/graph"));
        assert!(is_ui_path("/"));
        assert!(!is_ui_path("/api/status"));
        assert!(!is_ui_path("/graph/extra"));
    }
}
