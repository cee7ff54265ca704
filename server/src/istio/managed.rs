//! Who owns which fields of an object: `metadata.managedFields` in words.
//! Each entry's `fieldsV1` (nested `f:<field>`, `k:<key>`, `v:<value>`
//! and `i:<index>` keys, leaves `{}`) becomes the paths it owns, as
//! kube-apiserver prints them in conflicts (`.spec.http`,
//! `.spec.template.spec.containers[name="proxy"].image`).

use app::types::FieldManager;
use serde_json::Value;

/// Most paths listed per manager (an object's own size is bounded by the
/// API server; this keeps the answer readable).
const MAX_PATHS: usize = 200;

/// The managers of `object` with the paths each owns.
pub fn managers(object: &Value) -> Vec<FieldManager> {
    let Some(entries) = object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    entries
        .iter()
        .map(|e| {
            let text = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_owned);
            let mut fields = Vec::new();
            if let Some(set) = e.get("fieldsV1") {
                paths(set, String::new(), &mut fields);
            }
            fields.truncate(MAX_PATHS);
            FieldManager {
                manager: text("manager").unwrap_or_default(),
                operation: text("operation").unwrap_or_default(),
                time: text("time"),
                subresource: text("subresource").filter(|s| !s.is_empty()),
                fields,
            }
        })
        .collect()
}

/// The leaf paths (and `.` members) of a `fieldsV1` set under `at`.
fn paths(set: &Value, at: String, out: &mut Vec<String>) {
    let Some(map) = set.as_object() else {
        return;
    };
    if map.is_empty() || map.contains_key(".") {
        if !at.is_empty() {
            out.push(at.clone());
        }
        if map.len() <= 1 {
            return;
        }
    }
    for (key, child) in map {
        if out.len() >= MAX_PATHS {
            return;
        }
        let step = if let Some(field) = key.strip_prefix("f:") {
            format!("{at}.{field}")
        } else if let Some(keys) = key.strip_prefix("k:") {
            format!("{at}[{}]", item_keys(keys))
        } else if let Some(value) = key.strip_prefix("v:") {
            format!("{at}[={value}]")
        } else if let Some(index) = key.strip_prefix("i:") {
            format!("{at}[{index}]")
        } else {
            continue;
        };
        paths(child, step, out);
    }
}

/// `{"name":"proxy","port":80}` as `name="proxy",port=80`.
fn item_keys(json: &str) -> String {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
        _ => json.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_sets_become_paths() {
        let object = json!({"metadata": {"managedFields": [
            {"manager": "meshdeck", "operation": "Apply", "time": "2026-12-01T00:00:00Z",
             "fieldsType": "FieldsV1", "fieldsV1": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:hosts": {}, "f:http": {}},
            }},
            {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status",
             "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"proxy\"}": {".": {}, "f:image": {}},
             }}}}}},
        ]}});
        let m = managers(&object);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].manager, "meshdeck");
        assert_eq!(m[0].operation, "Apply");
        assert_eq!(
            m[0].fields,
            [".metadata.labels.app", ".spec.hosts", ".spec.http"]
        );
        assert_eq!(m[1].subresource.as_deref(), Some("status"));
        assert_eq!(
            m[1].fields,
            [
                ".spec.template.spec.containers[name=\"proxy\"]",
                ".spec.template.spec.containers[name=\"proxy\"].image"
            ]
        );
        assert!(managers(&json!({})).is_empty());
    }
}
