//! The authorization attributes of a request, derived from its method, path
//! and query the way kube-apiserver's `RequestInfo` derives them, whether or
//! not the resource is served.

use std::collections::HashMap;

/// Verbs that may stand in a path before the resource (`/api/v1/watch/pods`).
const SPECIAL_VERBS: &[&str] = &["proxy", "watch"];
/// Path segments after `/namespaces/<name>/` that are subresources of the
/// namespace rather than a namespaced resource.
const NAMESPACE_SUBRESOURCES: &[&str] = &["status", "finalize"];

/// What a resource request asks to do, as RBAC sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection` (or a special verb from the path).
    pub verb: String,
    /// API group (`""` for core).
    pub group: String,
    /// API version.
    pub version: String,
    /// Plural resource.
    pub resource: String,
    /// Subresource (`status`), or empty.
    pub subresource: String,
    /// Namespace; for a request naming a namespace object, that namespace.
    pub namespace: String,
    /// Object name, or empty.
    pub name: String,
}

/// Go's `strconv.ParseBool` truth values, as a `watch` parameter is read.
fn go_true(v: &str) -> bool {
    matches!(v, "1" | "t" | "T" | "true" | "TRUE" | "True")
}

/// The name an exact `metadata.name=<name>` field selector requires.
fn selected_name(selector: &str) -> Option<&str> {
    selector.split(',').find_map(|term| {
        let term = term.trim();
        let value = term
            .strip_prefix("metadata.name==")
            .or_else(|| term.strip_prefix("metadata.name="))?;
        let valid = !value.is_empty()
            && value != "."
            && value != ".."
            && !value.contains('/')
            && !value.contains('%');
        valid.then_some(value)
    })
}

/// The attributes of a resource request, or `None` for a non-resource path
/// (discovery documents, `/version`, anything else).
pub fn resource_request(
    method: &str,
    path: &str,
    params: &HashMap<String, String>,
) -> Option<RequestInfo> {
    let trimmed = path.trim_matches('/');
    let parts: Vec<&str> = if trimmed.is_empty() {
        Vec::new()
    } else {
        trimmed.split('/').collect()
    };
    if parts.len() < 3 {
        return None;
    }
    let mut info = RequestInfo::default();
    let mut rest = match parts[0] {
        "api" => &parts[1..],
        "apis" => {
            if parts.len() < 4 {
                return None;
            }
            info.group = parts[1].to_owned();
            &parts[2..]
        }
        _ => return None,
    };
    info.version = rest[0].to_owned();
    rest = &rest[1..];
    if SPECIAL_VERBS.contains(&rest[0]) {
        if rest.len() < 2 {
            return None;
        }
        info.verb = rest[0].to_owned();
        rest = &rest[1..];
    } else {
        info.verb = match method {
            "POST" => "create",
            "GET" | "HEAD" => "get",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" => "delete",
            _ => "",
        }
        .to_owned();
    }
    if rest[0] == "namespaces" && rest.len() > 1 {
        info.namespace = rest[1].to_owned();
        if rest.len() > 2 && !NAMESPACE_SUBRESOURCES.contains(&rest[2]) {
            rest = &rest[2..];
        }
    }
    if rest.len() >= 3 && info.verb != "proxy" {
        info.subresource = rest[2].to_owned();
    }
    if rest.len() >= 2 {
        info.name = rest[1].to_owned();
    }
    info.resource = rest[0].to_owned();
    if info.name.is_empty() && info.verb == "get" {
        let watch = params.get("watch").is_some_and(|w| go_true(w));
        info.verb = if watch { "watch" } else { "list" }.to_owned();
        if let Some(name) = params.get("fieldSelector").and_then(|s| selected_name(s)) {
            info.name = name.to_owned();
        }
    }
    if info.name.is_empty() && info.verb == "delete" {
        info.verb = "deletecollection".to_owned();
    }
    Some(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(method: &str, path: &str) -> Option<(String, String, String, String, String)> {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let params: HashMap<String, String> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        resource_request(method, path, &params).map(|i| {
            let resource = if i.subresource.is_empty() {
                i.resource
            } else {
                format!("{}/{}", i.resource, i.subresource)
            };
            (i.verb, i.group, resource, i.namespace, i.name)
        })
    }

    fn t(
        v: &str,
        g: &str,
        r: &str,
        ns: &str,
        n: &str,
    ) -> Option<(String, String, String, String, String)> {
        Some((v.into(), g.into(), r.into(), ns.into(), n.into()))
    }

    #[test]
    fn attributes_follow_kube_apiserver() {
        assert_eq!(info("GET", "/api"), None);
        assert_eq!(info("GET", "/api/v1"), None);
        assert_eq!(info("GET", "/apis/apps/v1"), None);
        assert_eq!(info("GET", "/version"), None);
        assert_eq!(
            info("GET", "/api/v1/namespaces"),
            t("list", "", "namespaces", "", "")
        );
        assert_eq!(
            info("PATCH", "/api/v1/namespaces/shop"),
            t("patch", "", "namespaces", "shop", "shop")
        );
        assert_eq!(
            info("PUT", "/api/v1/namespaces/shop/status"),
            t("update", "", "namespaces/status", "shop", "shop")
        );
        assert_eq!(
            info("GET", "/api/v1/namespaces/shop/pods?watch=true"),
            t("watch", "", "pods", "shop", "")
        );
        assert_eq!(
            info(
                "GET",
                "/api/v1/namespaces/shop/pods?watch=1&fieldSelector=metadata.name=web"
            ),
            t("watch", "", "pods", "shop", "web")
        );
        assert_eq!(
            info("GET", "/apis/apps/v1/deployments"),
            t("list", "apps", "deployments", "", "")
        );
        assert_eq!(
            info("DELETE", "/apis/apps/v1/namespaces/shop/deployments"),
            t("deletecollection", "apps", "deployments", "shop", "")
        );
        assert_eq!(
            info("DELETE", "/apis/apps/v1/namespaces/shop/deployments/web"),
            t("delete", "apps", "deployments", "shop", "web")
        );
        assert_eq!(
            info("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews"),
            t(
                "create",
                "authorization.k8s.io",
                "subjectaccessreviews",
                "",
                ""
            )
        );
        assert_eq!(
            info("GET", "/apis/nope/v1/things/x"),
            t("get", "nope", "things", "", "x")
        );
        assert_eq!(
            info("GET", "/api/v1/watch/namespaces/shop/pods"),
            t("watch", "", "pods", "shop", "")
        );
    }
}
