//! The Prometheus Operator's ServiceMonitor and PodMonitor
//! (`monitoring.coreos.com/v1`), as `prometheus-operator/prometheus-operator`'s
//! CRDs (`example/prometheus-operator-crd/monitoring.coreos.com_{service,pod}monitors.yaml`)
//! define the fields meshdeck writes: the label and namespace selectors,
//! `jobLabel`, `targetLabels`, and of each endpoint `port`, `path`,
//! `interval` (with its pattern) and `relabelings` (every field of a
//! relabel config, `action` with its enum and default). Kept as sent, not
//! checked (`x-kubernetes-preserve-unknown-fields` here, typed in the CRDs):
//! the other fields of `spec` and of an endpoint (limits, authentication,
//! TLS, scrape protocols, ...), and `status`. That is a minimal structural
//! schema: every declared field typed, the rest kept rather than pruned.

use std::sync::LazyLock;

use serde_json::json;

use super::super::resources::{MONITORING, ResourceType};
use super::{Pattern, Schema, any, array, boolean, integer, map, object, string, strings};

/// A Prometheus duration as the CRDs' `interval` takes it:
/// `^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$`,
/// units in that order, each at most once (the empty string matches too).
pub static PROMETHEUS_DURATION: Pattern = Pattern {
    source: r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
    matches: prometheus_duration,
};

fn prometheus_duration(s: &str) -> bool {
    if s == "0" {
        return true;
    }
    const UNITS: [&str; 7] = ["y", "w", "d", "h", "m", "s", "ms"];
    let mut rest = s;
    let mut next = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        let after = &rest[digits..];
        // `ms` before `m`: the longer unit wins where both fit.
        let unit = ["ms", "y", "w", "d", "h", "m", "s"]
            .into_iter()
            .find(|u| after.starts_with(u));
        let Some(unit) = unit else {
            return false;
        };
        let Some(at) = UNITS.iter().position(|u| *u == unit) else {
            return false;
        };
        if at < next {
            return false;
        }
        next = at + 1;
        rest = &after[unit.len()..];
    }
    true
}

/// A `metav1.LabelSelector`.
fn label_selector() -> Schema {
    object(vec![
        (
            "matchExpressions",
            array(
                object(vec![
                    ("key", string()),
                    ("operator", string()),
                    ("values", strings()),
                ])
                .required(&["key", "operator"]),
            ),
        ),
        ("matchLabels", map(string())),
    ])
}

/// `namespaceSelector`: every namespace, or the ones named.
fn namespace_selector() -> Schema {
    object(vec![("any", boolean()), ("matchNames", strings())])
}

/// A `RelabelConfig`.
fn relabel_config() -> Schema {
    object(vec![
        (
            "action",
            string()
                .one_of_values(&[
                    "replace",
                    "Replace",
                    "keep",
                    "Keep",
                    "drop",
                    "Drop",
                    "hashmod",
                    "HashMod",
                    "labelmap",
                    "LabelMap",
                    "labeldrop",
                    "LabelDrop",
                    "labelkeep",
                    "LabelKeep",
                    "lowercase",
                    "Lowercase",
                    "uppercase",
                    "Uppercase",
                    "keepequal",
                    "KeepEqual",
                    "dropequal",
                    "DropEqual",
                ])
                .default_value(json!("replace")),
        ),
        ("modulus", integer()),
        ("regex", string()),
        ("replacement", string()),
        ("separator", string()),
        ("sourceLabels", strings()),
        ("targetLabel", string()),
    ])
}

/// An endpoint (`endpoints[]` or `podMetricsEndpoints[]`): the fields
/// meshdeck writes, the rest kept.
fn endpoint() -> Schema {
    object(vec![
        ("interval", string().pattern(&PROMETHEUS_DURATION)),
        ("metricRelabelings", array(relabel_config())),
        ("path", string()),
        ("port", string()),
        ("relabelings", array(relabel_config())),
        ("scrapeTimeout", string().pattern(&PROMETHEUS_DURATION)),
    ])
    .preserve_unknown()
}

/// ServiceMonitor.
pub static SERVICE_MONITOR: LazyLock<Schema> = LazyLock::new(|| {
    let spec = object(vec![
        ("endpoints", array(endpoint())),
        ("jobLabel", string()),
        ("namespaceSelector", namespace_selector()),
        ("podTargetLabels", strings()),
        ("selector", label_selector()),
        ("targetLabels", strings()),
    ])
    .preserve_unknown()
    .required(&["selector"]);
    object(vec![("spec", spec), ("status", any())]).required(&["spec"])
});

/// PodMonitor.
pub static POD_MONITOR: LazyLock<Schema> = LazyLock::new(|| {
    let spec = object(vec![
        ("jobLabel", string()),
        ("namespaceSelector", namespace_selector()),
        ("podMetricsEndpoints", array(endpoint())),
        ("podTargetLabels", strings()),
        ("selector", label_selector()),
    ])
    .preserve_unknown()
    .required(&["selector"]);
    object(vec![("spec", spec), ("status", any())]).required(&["spec"])
});

/// The schema of a Prometheus Operator monitor kind.
pub fn schema(rt: &ResourceType) -> Option<&'static Schema> {
    let s: &'static LazyLock<Schema> = match (rt.group, rt.plural) {
        (MONITORING, "servicemonitors") => &SERVICE_MONITOR,
        (MONITORING, "podmonitors") => &POD_MONITOR,
        _ => return None,
    };
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::super::super::resources::find;
    use super::super::{FieldCheck, Part, decode, validate};
    use super::*;

    fn service_monitor(spec: serde_json::Value) -> serde_json::Value {
        json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "ServiceMonitor",
            "metadata": {"name": "m", "namespace": "istio-system"},
            "spec": spec,
        })
    }

    #[test]
    fn monitors_are_checked_where_typed_and_kept_elsewhere() {
        let rt = find(MONITORING, "v1", "servicemonitors").expect("servicemonitors");
        let mut ok = service_monitor(json!({
            "selector": {"matchLabels": {"istio": "pilot"}},
            "sampleLimit": 1000,
            "endpoints": [{"port": "http-monitoring", "interval": "15s", "scheme": "http",
                "relabelings": [{"sourceLabels": ["a"], "targetLabel": "b"}]}],
        }));
        let mut check = FieldCheck::default();
        decode(rt, &mut ok, Part::Main, &mut check).unwrap();
        assert!(check.warnings.is_empty(), "{:?}", check.warnings);
        // Fields the schema leaves open are kept; `action` is defaulted.
        assert_eq!(ok["spec"]["sampleLimit"], 1000);
        assert_eq!(ok["spec"]["endpoints"][0]["scheme"], "http");
        assert_eq!(
            ok["spec"]["endpoints"][0]["relabelings"][0]["action"],
            "replace"
        );
        validate(rt, &ok, Part::Main).unwrap();

        let bad = service_monitor(json!({
            "selector": {},
            "endpoints": [{"port": "http-monitoring", "interval": "15 seconds",
                "relabelings": [{"action": "rewrite"}]}],
        }));
        let err = validate(rt, &bad, Part::Main).unwrap_err();
        assert_eq!(err.reason, crate::kube::Reason::Invalid, "{err:?}");
        assert!(
            err.message.contains("spec.endpoints[0].interval"),
            "{}",
            err.message
        );
        assert!(
            err.message
                .contains("spec.endpoints[0].relabelings[0].action"),
            "{}",
            err.message
        );
        let no_selector = service_monitor(json!({"endpoints": []}));
        let err = validate(rt, &no_selector, Part::Main).unwrap_err();
        assert!(
            err.message.contains("spec.selector: Required value"),
            "{}",
            err.message
        );
    }

    #[test]
    fn durations_follow_the_crd_pattern() {
        for good in ["", "0", "15s", "1m30s", "1y2w3d4h5m6s7ms", "500ms", "1h"] {
            assert!(prometheus_duration(good), "{good:?}");
        }
        for bad in [
            "s", "15", "1s1m", "1m1m", "1.5s", "-1s", "1 s", "15S", "1us",
        ] {
            assert!(!prometheus_duration(bad), "{bad:?}");
        }
    }
}
