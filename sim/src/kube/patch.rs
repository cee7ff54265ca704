//! The three patch formats Kubernetes accepts besides server-side apply
//! (which [`fields`](super::fields) and the store answer): JSON merge patch
//! (RFC 7386), strategic merge patch (a merge patch that merges some lists by
//! key), and JSON patch (RFC 6902).

use serde_json::{Map, Value};

use super::error::{ApiError, ApiResult, Reason};

/// Patch content types.
pub mod content_type {
    /// RFC 7386 JSON merge patch.
    pub const MERGE: &str = "application/merge-patch+json";
    /// Kubernetes strategic merge patch.
    pub const STRATEGIC: &str = "application/strategic-merge-patch+json";
    /// RFC 6902 JSON patch.
    pub const JSON: &str = "application/json-patch+json";
    /// Server-side apply.
    pub const APPLY: &str = "application/apply-patch+yaml";
}

/// Applies a patch body of the given content type to `target`.
pub fn apply(target: &Value, content_type: &str, body: &[u8]) -> ApiResult<Value> {
    // Parameters such as `; charset=utf-8` do not change the format.
    let media = content_type.split(';').next().unwrap_or("").trim();
    match media {
        content_type::MERGE | content_type::STRATEGIC | content_type::JSON => {}
        content_type::APPLY => {
            // The store answers server-side apply itself (see
            // `Store::apply`); it is no patch format of this module.
            return Err(ApiError::new(
                Reason::UnsupportedMediaType,
                "server-side apply (application/apply-patch+yaml) is not a patch format: use \
                 Store::apply",
            ));
        }
        other => {
            return Err(ApiError::new(
                Reason::UnsupportedMediaType,
                format!(
                    "the body of the request was in an unknown format - accepted media types include: {}, {}, {}, {}; got {other:?}",
                    content_type::JSON,
                    content_type::MERGE,
                    content_type::APPLY,
                    content_type::STRATEGIC
                ),
            ));
        }
    }
    let patch: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let mut out = target.clone();
    match media {
        content_type::MERGE => merge_patch(&mut out, &patch),
        content_type::STRATEGIC => strategic_merge_patch(&mut out, &patch)?,
        _ => json_patch(&mut out, &patch)?,
    }
    Ok(out)
}

/// RFC 7386: objects merge recursively, `null` removes a key, anything else
/// (arrays included) replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in patch {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// The key by which the elements of list field `field` are merged in a
/// strategic merge patch, if that list is merged rather than replaced.
///
/// Real Kubernetes reads these `patchMergeKey`s from the OpenAPI schema of
/// each type; `containers` (and `initContainers`, `volumes`, `env`, ...) are
/// merged by `name`, so patching one container's image keeps the others.
/// This table covers the fields meshdeck and kubectl patch in practice.
fn merge_key(field: &str, sample: &Value) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "hostAliases" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        // Container ports merge by containerPort, Service ports by port.
        "ports" if sample.get("containerPort").is_some() => Some("containerPort"),
        "ports" if sample.get("port").is_some() => Some("port"),
        "ownerReferences" => Some("uid"),
        _ => None,
    }
}

const DIRECTIVE: &str = "$patch";

/// Strategic merge patch: a merge patch in which the lists named in
/// [`merge_key`] are merged element by element on their key, and `$patch:
/// delete` / `$patch: replace` directives are honoured.
pub fn strategic_merge_patch(target: &mut Value, patch: &Value) -> ApiResult<()> {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return Ok(());
    };
    match patch.get(DIRECTIVE).and_then(Value::as_str) {
        Some("replace") => {
            let mut p = patch.clone();
            p.remove(DIRECTIVE);
            *target = Value::Object(p);
            return Ok(());
        }
        Some("delete") => {
            *target = Value::Null;
            return Ok(());
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unknown patch directive {other:?}"
            )));
        }
        None => {}
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(t) = target else {
        return Ok(());
    };
    for (k, v) in patch {
        if k.starts_with('$') {
            // $retainKeys, $setElementOrder/...: ordering hints we can ignore.
            continue;
        }
        match v {
            Value::Null => {
                t.remove(k);
            }
            Value::Array(items) => {
                let key = items.first().and_then(|first| merge_key(k, first));
                match (key, t.get_mut(k)) {
                    (Some(key), Some(Value::Array(existing))) => merge_list(existing, items, key)?,
                    _ => {
                        let kept: Vec<Value> = items
                            .iter()
                            .filter(|i| i.get(DIRECTIVE).is_none())
                            .cloned()
                            .collect();
                        t.insert(k.clone(), Value::Array(kept));
                    }
                }
            }
            Value::Object(_) => {
                let slot = t.entry(k.clone()).or_insert(Value::Null);
                strategic_merge_patch(slot, v)?;
                if slot.is_null() {
                    t.remove(k);
                }
            }
            _ => {
                t.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(())
}

/// Merges patch elements into `existing` by `key`.
fn merge_list(existing: &mut Vec<Value>, items: &[Value], key: &str) -> ApiResult<()> {
    for item in items {
        let Some(id) = item.get(key) else {
            return Err(ApiError::bad_request(format!(
                "strategic merge patch: list element without merge key {key:?}"
            )));
        };
        let pos = existing.iter().position(|e| e.get(key) == Some(id));
        let delete = item.get(DIRECTIVE).and_then(Value::as_str) == Some("delete");
        match (pos, delete) {
            (Some(i), true) => {
                existing.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => strategic_merge_patch(&mut existing[i], item)?,
            (None, false) => {
                let mut fresh = Value::Null;
                strategic_merge_patch(&mut fresh, item)?;
                existing.push(fresh);
            }
        }
    }
    Ok(())
}

/// Decodes one RFC 6901 pointer into its tokens.
fn pointer_tokens(path: &str) -> ApiResult<Vec<String>> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(ApiError::bad_request(format!(
            "invalid JSON pointer {path:?}"
        )));
    };
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn parse_index(token: &str, len: usize, allow_end: bool) -> ApiResult<usize> {
    if allow_end && token == "-" {
        return Ok(len);
    }
    let i: usize = token
        .parse()
        .map_err(|_| ApiError::bad_request(format!("invalid array index {token:?}")))?;
    let max = if allow_end {
        len
    } else {
        len.saturating_sub(1)
    };
    if i > max || (!allow_end && len == 0) {
        return Err(ApiError::new(
            Reason::Invalid,
            format!("array index {i} out of bounds"),
        ));
    }
    Ok(i)
}

/// The parent container of `tokens` and the last token.
fn parent_mut<'a>(doc: &'a mut Value, tokens: &'a [String]) -> ApiResult<(&'a mut Value, &'a str)> {
    let Some((last, parents)) = tokens.split_last() else {
        return Err(ApiError::bad_request(
            "the root cannot be the target of this operation",
        ));
    };
    let mut cur = doc;
    for t in parents {
        cur = match cur {
            Value::Object(m) => m.get_mut(t.as_str()),
            Value::Array(a) => {
                let i = parse_index(t, a.len(), false)?;
                a.get_mut(i)
            }
            _ => None,
        }
        .ok_or_else(|| {
            ApiError::new(
                Reason::Invalid,
                format!("path segment {t:?} does not exist"),
            )
        })?;
    }
    Ok((cur, last.as_str()))
}

fn get_at<'a>(doc: &'a Value, tokens: &[String]) -> Option<&'a Value> {
    let mut cur = doc;
    for t in tokens {
        cur = match cur {
            Value::Object(m) => m.get(t.as_str())?,
            Value::Array(a) => a.get(t.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn add_at(doc: &mut Value, tokens: &[String], value: Value) -> ApiResult<()> {
    if tokens.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, last) = parent_mut(doc, tokens)?;
    match parent {
        Value::Object(m) => {
            m.insert(last.to_owned(), value);
        }
        Value::Array(a) => {
            let i = parse_index(last, a.len(), true)?;
            a.insert(i, value);
        }
        _ => return Err(ApiError::new(Reason::Invalid, "cannot add to a scalar")),
    }
    Ok(())
}

fn remove_at(doc: &mut Value, tokens: &[String]) -> ApiResult<Value> {
    let (parent, last) = parent_mut(doc, tokens)?;
    match parent {
        Value::Object(m) => m.remove(last).ok_or_else(|| {
            ApiError::new(
                Reason::Invalid,
                format!("unable to remove nonexistent key: {last}"),
            )
        }),
        Value::Array(a) => {
            let i = parse_index(last, a.len(), false)?;
            Ok(a.remove(i))
        }
        _ => Err(ApiError::new(
            Reason::Invalid,
            "cannot remove from a scalar",
        )),
    }
}

/// RFC 6902 JSON patch: `add`, `remove`, `replace`, `move`, `copy`, `test`.
/// The whole patch fails if one operation fails.
pub fn json_patch(doc: &mut Value, patch: &Value) -> ApiResult<()> {
    let Value::Array(ops) = patch else {
        return Err(ApiError::bad_request(
            "a JSON patch must be an array of operations",
        ));
    };
    let mut work = doc.clone();
    for op in ops {
        let name = op.get("op").and_then(Value::as_str).unwrap_or("");
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::bad_request("JSON patch operation without a path"))?;
        let tokens = pointer_tokens(path)?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| ApiError::bad_request(format!("{name} operation without a value")))
        };
        let from = || -> ApiResult<Vec<String>> {
            let from = op
                .get("from")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::bad_request(format!("{name} operation without from")))?;
            pointer_tokens(from)
        };
        match name {
            "add" => add_at(&mut work, &tokens, value()?)?,
            "remove" => {
                remove_at(&mut work, &tokens)?;
            }
            "replace" => {
                if get_at(&work, &tokens).is_none() {
                    return Err(ApiError::new(
                        Reason::Invalid,
                        format!("replace operation does not apply: doc is missing key: {path}"),
                    ));
                }
                if tokens.is_empty() {
                    work = value()?;
                } else {
                    remove_at(&mut work, &tokens)?;
                    add_at(&mut work, &tokens, value()?)?;
                }
            }
            "move" => {
                let v = remove_at(&mut work, &from()?)?;
                add_at(&mut work, &tokens, v)?;
            }
            "copy" => {
                let v = get_at(&work, &from()?)
                    .cloned()
                    .ok_or_else(|| ApiError::new(Reason::Invalid, "copy from a missing path"))?;
                add_at(&mut work, &tokens, v)?;
            }
            "test" => {
                if get_at(&work, &tokens) != Some(&value()?) {
                    return Err(ApiError::new(
                        Reason::Invalid,
                        format!("testing value {path} failed"),
                    ));
                }
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown JSON patch operation {other:?}"
                )));
            }
        }
    }
    *doc = work;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc7386_examples() {
        // From RFC 7386 appendix A.
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":"b","b":"c"}),
                json!({"a":null}),
                json!({"b":"c"}),
            ),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
            (
                json!({}),
                json!({"a":{"bb":{"ccc":null}}}),
                json!({"a":{"bb":{}}}),
            ),
        ];
        for (mut doc, patch, want) in cases {
            merge_patch(&mut doc, &patch);
            assert_eq!(doc, want, "patch {patch}");
        }
    }

    #[test]
    fn strategic_merge_keeps_other_containers() {
        let mut doc = json!({"spec":{"containers":[
            {"name":"app","image":"app:1"},
            {"name":"istio-proxy","image":"proxy:1"}
        ]}});
        let patch = json!({"spec":{"containers":[{"name":"app","image":"app:2"}]}});
        strategic_merge_patch(&mut doc, &patch).expect("patch");
        assert_eq!(
            doc,
            json!({"spec":{"containers":[
                {"name":"app","image":"app:2"},
                {"name":"istio-proxy","image":"proxy:1"}
            ]}})
        );
        let delete = json!({"spec":{"containers":[{"name":"istio-proxy","$patch":"delete"}]}});
        strategic_merge_patch(&mut doc, &delete).expect("patch");
        assert_eq!(
            doc,
            json!({"spec":{"containers":[{"name":"app","image":"app:2"}]}})
        );
        let add = json!({"spec":{"containers":[{"name":"x","image":"x:1"}]}});
        strategic_merge_patch(&mut doc, &add).expect("patch");
        assert_eq!(doc["spec"]["containers"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn strategic_merge_replaces_unkeyed_lists() {
        let mut doc = json!({"spec":{"args":["a","b"]}});
        strategic_merge_patch(&mut doc, &json!({"spec":{"args":["c"]}})).expect("patch");
        assert_eq!(doc, json!({"spec":{"args":["c"]}}));
    }

    #[test]
    fn json_patch_operations() {
        let mut doc = json!({"metadata":{"labels":{"a":"1"}},"list":[1,2]});
        let patch = json!([
            {"op":"test","path":"/metadata/labels/a","value":"1"},
            {"op":"add","path":"/metadata/labels/x~1y","value":"2"},
            {"op":"remove","path":"/metadata/labels/a"},
            {"op":"replace","path":"/list/0","value":9},
            {"op":"add","path":"/list/-","value":3}
        ]);
        json_patch(&mut doc, &patch).expect("patch");
        assert_eq!(
            doc,
            json!({"metadata":{"labels":{"x/y":"2"}},"list":[9,2,3]})
        );
    }

    #[test]
    fn failed_json_patch_changes_nothing() {
        let mut doc = json!({"a":1});
        let patch = json!([
            {"op":"add","path":"/b","value":2},
            {"op":"test","path":"/a","value":2}
        ]);
        assert!(json_patch(&mut doc, &patch).is_err());
        assert_eq!(doc, json!({"a":1}));
        assert!(json_patch(&mut doc, &json!([{"op":"remove","path":"/zzz"}])).is_err());
        assert!(json_patch(&mut doc, &json!([{"op":"replace","path":"/zzz","value":1}])).is_err());
    }

    #[test]
    fn apply_is_not_a_patch_format_here() {
        let err = apply(&json!({}), content_type::APPLY, b"{}").expect_err("415");
        assert_eq!(err.reason.code(), 415);
    }
}
