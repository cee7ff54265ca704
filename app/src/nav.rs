//! The console's sections: one list drives the navigation bar, page titles
//! and the server's knowledge of which paths belong to the UI.

use crate::types::Features;

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
/// Canary rollouts (progressive delivery).
pub const ROLLOUTS: NavItem = NavItem {
    path: "/rollouts",
    label: "Rollouts",
    summary: "Canary rollouts that advance or roll back by themselves on the mesh's own metrics.",
};
/// Namespaces and workloads: sidecar injection.
pub const NAMESPACES: NavItem = NavItem {
    path: "/namespaces",
    label: "Namespaces",
    summary: "Sidecar injection for your namespaces and workloads, with a preview of every change.",
};
/// Istio configuration and what is wrong with it.
pub const ISTIO: NavItem = NavItem {
    path: "/istio",
    label: "Istio Config",
    summary: "The Istio objects in force in your namespaces, and what is wrong with them.",
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

/// The REST/JSON API's reference.
pub const API: NavItem = NavItem {
    path: "/api-docs",
    label: "API",
    summary: "The REST/JSON API behind every page, for scripts and tools: operations, parameters, answers and types, from the server's OpenAPI document.",
};

/// The navigation bar, in order.
pub const NAV: [NavItem; 10] = [
    OVERVIEW, GRAPH, METRICS, ISTIO, ROLLOUTS, NAMESPACES, TRACES, PROMETHEUS, SETTINGS, API,
];

/// Whether `path` (without query string) is a page of the UI: a section,
/// sign-in, a service's page (`/services/{namespace}/{name}`) or a
/// rollout's (`/rollouts/{namespace}/{service}`), names as Kubernetes
/// allows them.
pub fn is_ui_path(path: &str) -> bool {
    path == crate::session::LOGIN_PATH
        || NAV.iter().any(|item| item.path == path)
        || crate::wizards::parse_page_path(path).is_some()
        || parse_rollout_path(path).is_some()
}

/// The page of the rollout of service `namespace/service`.
pub fn rollout_url(namespace: &str, service: &str) -> String {
    format!(
        "{}/{}/{}",
        ROLLOUTS.path,
        crate::format::encode_component(namespace),
        crate::format::encode_component(service)
    )
}

/// `(namespace, service)` when `path` is a rollout's page.
pub fn parse_rollout_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix(ROLLOUTS.path)?.strip_prefix('/')?;
    let (namespace, service) = rest.split_once('/')?;
    let ok = crate::wizards::is_dns_label;
    (ok(namespace) && ok(service)).then_some((namespace, service))
}

/// Why the caller may not use `item`, in words, or `None` when they may.
/// Graph and traces name the real cause when it is not the owner's choice
/// (meshdeck could not read the mesh settings).
pub fn unavailable_reason(item: &NavItem, features: &Features) -> Option<String> {
    let path = item.path;
    let blocked = |chosen: &str| {
        Some(
            features
                .access_problem
                .clone()
                .unwrap_or_else(|| chosen.to_owned()),
        )
    };
    if path == PROMETHEUS.path && !features.prometheus_console {
        Some("The Prometheus console and dashboards are for cluster owners.".to_owned())
    } else if path == SETTINGS.path && !features.settings {
        Some("Mesh settings are for cluster owners.".to_owned())
    } else if path == GRAPH.path && !features.graph {
        blocked("The cluster owner has not allowed project members to see the traffic graph.")
    } else if path == TRACES.path && !features.traces {
        blocked("The cluster owner has not allowed project members to see traces.")
    } else {
        None
    }
}

/// A short note next to an unavailable navigation item.
pub fn unavailable_note(item: &NavItem) -> &'static str {
    if item.path == PROMETHEUS.path || item.path == SETTINGS.path {
        "owners only"
    } else {
        "not allowed"
    }
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
        assert!(is_ui_path("/namespaces"));
        assert!(is_ui_path("/"));
        assert!(is_ui_path("/login"));
        assert!(is_ui_path("/api-docs"));
        assert!(!is_ui_path("/api"));
        assert!(!is_ui_path("/api/status"));
        assert!(!is_ui_path("/graph/extra"));
        // A service's page, for names Kubernetes allows only.
        assert!(is_ui_path("/services/bookinfo/reviews"));
        assert!(is_ui_path("/services/team-a/api-v2"));
        assert!(!is_ui_path("/services"));
        assert!(!is_ui_path("/services/bookinfo"));
        assert!(!is_ui_path("/services/bookinfo/reviews/extra"));
        assert!(!is_ui_path("/services/bookinfo/Reviews"));
        assert!(!is_ui_path("/services/bookinfo/%2e%2e"));
        assert!(!is_ui_path("/api/services/bookinfo/reviews/traffic"));
        // A rollout's page, likewise.
        assert!(is_ui_path("/rollouts"));
        assert!(is_ui_path("/rollouts/bookinfo/reviews"));
        assert!(!is_ui_path("/rollouts/bookinfo"));
        assert!(!is_ui_path("/rollouts/bookinfo/reviews/charts"));
        assert!(!is_ui_path("/rollouts/Bookinfo/reviews"));
        assert!(!is_ui_path("/api/rollouts/bookinfo/reviews"));
    }

    #[test]
    fn rollout_urls_round_trip() {
        let url = rollout_url("payments", "payments-api");
        assert_eq!(url, "/rollouts/payments/payments-api");
        assert_eq!(parse_rollout_path(&url), Some(("payments", "payments-api")));
    }

    #[test]
    fn members_cannot_use_owner_sections() {
        let member = Features {
            graph: true,
            traces: false,
            prometheus_console: false,
            settings: false,
            access_problem: None,
        };
        let blocked: Vec<&str> = NAV
            .iter()
            .filter(|item| unavailable_reason(item, &member).is_some())
            .map(|item| item.label)
            .collect();
        assert_eq!(blocked, ["Traces", "Prometheus", "Settings"]);
        assert_eq!(unavailable_note(&PROMETHEUS), "owners only");
        let owner = Features {
            graph: true,
            traces: true,
            prometheus_console: true,
            settings: true,
            access_problem: None,
        };
        assert!(
            NAV.iter()
                .all(|item| unavailable_reason(item, &owner).is_none())
        );
        // When meshdeck cannot read the settings, members learn why.
        let stuck = Features {
            graph: false,
            access_problem: Some("meshdeck cannot read the mesh settings".into()),
            ..member
        };
        assert_eq!(
            unavailable_reason(&GRAPH, &stuck).as_deref(),
            Some("meshdeck cannot read the mesh settings")
        );
    }
}
