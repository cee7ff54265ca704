//! The text forms of settings fields the settings page edits as one line
//! (lists, node selectors, tolerations), as plain functions tested natively.

use std::collections::BTreeMap;

use crate::types::Toleration;

/// `a, b` → `["a", "b"]` (empty entries dropped).
pub fn parse_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `["a", "b"]` → `a, b`.
pub fn format_list(items: &[String]) -> String {
    items.join(", ")
}

/// `disk=ssd, zone=a` → a node selector (an entry without `=` gets an empty value).
pub fn parse_selector(text: &str) -> BTreeMap<String, String> {
    parse_list(text)
        .into_iter()
        .map(|entry| match entry.split_once('=') {
            Some((k, v)) => (k.trim().to_owned(), v.trim().to_owned()),
            None => (entry, String::new()),
        })
        .collect()
}

/// A node selector as `k=v, k2=v2`.
pub fn format_selector(selector: &BTreeMap<String, String>) -> String {
    selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `key=value:Effect` (Equal), `key:Effect` or `key` (Exists), `*` (Exists,
/// every taint), comma-separated.
pub fn parse_tolerations(text: &str) -> Vec<Toleration> {
    parse_list(text)
        .into_iter()
        .map(|entry| {
            let (left, effect) = match entry.rsplit_once(':') {
                Some((l, e)) => (l.to_owned(), e.trim().to_owned()),
                None => (entry.clone(), String::new()),
            };
            match left.split_once('=') {
                Some((k, v)) => Toleration {
                    key: k.trim().to_owned(),
                    operator: "Equal".into(),
                    value: v.trim().to_owned(),
                    effect,
                },
                None => Toleration {
                    key: if left.trim() == "*" {
                        String::new()
                    } else {
                        left.trim().to_owned()
                    },
                    operator: "Exists".into(),
                    value: String::new(),
                    effect,
                },
            }
        })
        .collect()
}

/// Tolerations in the form [`parse_tolerations`] reads.
pub fn format_tolerations(tolerations: &[Toleration]) -> String {
    tolerations
        .iter()
        .map(|t| {
            let key = if t.key.is_empty() {
                "*"
            } else {
                t.key.as_str()
            };
            let left = if t.operator == "Equal" {
                format!("{key}={}", t.value)
            } else {
                key.to_owned()
            };
            if t.effect.is_empty() {
                left
            } else {
                format!("{left}:{}", t.effect)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_selectors_round_trip() {
        assert_eq!(parse_list(" a, ,b "), ["a", "b"]);
        let sel = parse_selector("disk=ssd, zone = a");
        assert_eq!(format_selector(&sel), "disk=ssd, zone=a");
    }

    #[test]
    fn tolerations_round_trip() {
        let text = "dedicated=mesh:NoSchedule, gpu:NoExecute, *";
        let parsed = parse_tolerations(text);
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[0].operator, "Equal");
        assert_eq!(parsed[1].operator, "Exists");
        assert_eq!(parsed[2].key, "");
        assert_eq!(format_tolerations(&parsed), text);
    }
}
