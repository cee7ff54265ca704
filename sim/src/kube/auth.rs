//! Who a request is and what it may do: bearer-token authentication,
//! impersonation, RBAC evaluation over the stored Roles, ClusterRoles,
//! RoleBindings and ClusterRoleBindings (with kube-apiserver's denial
//! wording), and the TokenReview and SubjectAccessReview APIs.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, header};
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::meta;
use super::request::RequestInfo;
use super::resources::{self, AUTHENTICATION, RBAC};
use super::store::Store;

/// The group that may do anything, as in Kubernetes.
pub const MASTERS_GROUP: &str = "system:masters";

/// The group a real API server adds to every authenticated user.
pub const AUTHENTICATED_GROUP: &str = "system:authenticated";
/// The group of unauthenticated requests.
pub const UNAUTHENTICATED_GROUP: &str = "system:unauthenticated";
/// The user of unauthenticated requests.
pub const ANONYMOUS_USER: &str = "system:anonymous";
/// Prefix of service account user names (`system:serviceaccount:<ns>:<name>`).
pub const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";
/// Group of every service account.
pub const SERVICE_ACCOUNTS_GROUP: &str = "system:serviceaccounts";

/// Impersonation request headers (Kubernetes docs, "User impersonation").
pub mod impersonate {
    /// The user to act as.
    pub const USER: &str = "impersonate-user";
    /// A group to act in (repeatable).
    pub const GROUP: &str = "impersonate-group";
    /// The uid to act with.
    pub const UID: &str = "impersonate-uid";
    /// Prefix of extra fields (`Impersonate-Extra-<key>`, repeatable).
    pub const EXTRA_PREFIX: &str = "impersonate-extra-";
}

/// Who a request acts as.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// User name.
    pub user: String,
    /// Groups, `system:authenticated` included.
    pub groups: Vec<String>,
    /// User uid (only ever set by impersonation).
    pub uid: String,
    /// Extra fields (only ever set by impersonation).
    pub extra: BTreeMap<String, Vec<String>>,
}

impl Identity {
    /// The access request of this identity doing what `info` describes.
    pub fn asks(&self, info: &RequestInfo) -> AccessRequest {
        AccessRequest {
            user: self.user.clone(),
            groups: self.groups.clone(),
            verb: info.verb.clone(),
            group: info.group.clone(),
            resource: info.resource.clone(),
            subresource: info.subresource.clone(),
            namespace: info.namespace.clone(),
            name: info.name.clone(),
            path: None,
        }
    }
}

fn with_authenticated(mut groups: Vec<String>) -> Vec<String> {
    if !groups.iter().any(|g| g == AUTHENTICATED_GROUP) {
        groups.push(AUTHENTICATED_GROUP.to_owned());
    }
    groups
}

/// Authenticates a request by its `Authorization: Bearer` token: 401 when
/// there is none or the store knows no such token.
pub fn authenticate(store: &Store, headers: &HeaderMap) -> ApiResult<Identity> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(ApiError::unauthorized)?;
    let user = store.users.get(token).ok_or_else(ApiError::unauthorized)?;
    Ok(Identity {
        user: user.username.clone(),
        groups: with_authenticated(user.groups.clone()),
        ..Identity::default()
    })
}

/// kube-apiserver's denial message for `req`, as a 403 Status.
pub fn forbidden(req: &AccessRequest) -> ApiError {
    let resource = if req.subresource.is_empty() {
        req.resource.clone()
    } else {
        format!("{}/{}", req.resource, req.subresource)
    };
    let scope = if req.namespace.is_empty() {
        "at the cluster scope".to_owned()
    } else {
        format!("in the namespace {:?}", req.namespace)
    };
    let why = format!(
        "User {:?} cannot {} resource {resource:?} in API group {:?} {scope}",
        req.user, req.verb, req.group
    );
    ApiError::forbidden(&req.group, &req.resource, &req.name, &why)
}

/// Decodes `%XX` escapes (impersonated extra keys are percent-encoded).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The identity a request acts as when it carries impersonation headers
/// (`None` when it carries none), after checking that `requester` may
/// `impersonate` each of them, in kube-apiserver's order: the user (or
/// service account), each group, each extra value, the uid.
pub fn impersonate(
    store: &Store,
    requester: &Identity,
    headers: &HeaderMap,
) -> ApiResult<Option<Identity>> {
    let text = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect()
    };
    let user = text(impersonate::USER)
        .into_iter()
        .next()
        .filter(|u| !u.is_empty());
    let groups = text(impersonate::GROUP);
    let uid = text(impersonate::UID)
        .into_iter()
        .next()
        .filter(|u| !u.is_empty());
    let mut extra: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in headers.keys() {
        if let Some(key) = name.as_str().strip_prefix(impersonate::EXTRA_PREFIX) {
            let key = percent_decode(&key.to_ascii_lowercase());
            extra.entry(key).or_default().extend(text(name.as_str()));
        }
    }
    if user.is_none() && groups.is_empty() && extra.is_empty() && uid.is_none() {
        return Ok(None);
    }
    let Some(user) = user else {
        let mut asked: Vec<String> = groups.iter().map(|g| format!("Group {g:?}")).collect();
        for (key, values) in &extra {
            asked.extend(values.iter().map(|v| format!("UserExtra {key}={v:?}")));
        }
        asked.extend(uid.iter().map(|u| format!("UID {u:?}")));
        return Err(ApiError::bad_request(format!(
            "requested [{}] without impersonating a user",
            asked.join(", ")
        )));
    };
    let check = |group: &str, resource: &str, subresource: &str, namespace: &str, name: &str| {
        let req = AccessRequest {
            user: requester.user.clone(),
            groups: requester.groups.clone(),
            verb: "impersonate".to_owned(),
            group: group.to_owned(),
            resource: resource.to_owned(),
            subresource: subresource.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            path: None,
        };
        if authorize(store, &req).0 {
            Ok(())
        } else {
            Err(forbidden(&req))
        }
    };
    let service_account = user
        .strip_prefix(SERVICE_ACCOUNT_PREFIX)
        .and_then(|rest| rest.split_once(':'))
        .filter(|(ns, name)| !ns.is_empty() && !name.is_empty() && !name.contains(':'));
    match service_account {
        Some((ns, name)) => check("", "serviceaccounts", "", ns, name)?,
        None => check("", "users", "", "", &user)?,
    }
    for group in &groups {
        check("", "groups", "", "", group)?;
    }
    for (key, values) in &extra {
        for value in values {
            check(AUTHENTICATION, "userextras", key, "", value)?;
        }
    }
    if let Some(uid) = &uid {
        check(AUTHENTICATION, "uids", "", "", uid)?;
    }
    let mut effective = groups.clone();
    if let Some((ns, _)) = service_account {
        // Like kube-apiserver: a service account's fixed groups, unless
        // the request names groups itself.
        if groups.is_empty() {
            effective = vec![
                SERVICE_ACCOUNTS_GROUP.to_owned(),
                format!("{SERVICE_ACCOUNTS_GROUP}:{ns}"),
            ];
        }
    }
    let marked = effective
        .iter()
        .any(|g| g == AUTHENTICATED_GROUP || g == UNAUTHENTICATED_GROUP);
    if user != ANONYMOUS_USER && !marked {
        effective.push(AUTHENTICATED_GROUP.to_owned());
    }
    Ok(Some(Identity {
        user,
        groups: effective,
        uid: uid.unwrap_or_default(),
        extra,
    }))
}

/// Answers a TokenReview: the request echoed with `status` filled in. An
/// unknown token is `authenticated: false`, not an error. Like a real API
/// server, every authenticated user is also in `system:authenticated`.
pub fn token_review(store: &Store, mut review: Value) -> ApiResult<Value> {
    if !review.is_object() {
        return Err(ApiError::bad_request("a TokenReview must be a JSON object"));
    }
    let token = review
        .pointer("/spec/token")
        .and_then(Value::as_str)
        .unwrap_or("");
    let audiences = review.pointer("/spec/audiences").cloned();
    let status = match store.users.get(token) {
        Some(user) if !token.is_empty() => {
            let mut groups = user.groups.clone();
            if !groups.iter().any(|g| g == AUTHENTICATED_GROUP) {
                groups.push(AUTHENTICATED_GROUP.to_owned());
            }
            let mut s = json!({
                "authenticated": true,
                "user": { "username": user.username, "groups": groups },
            });
            if let Some(a) = audiences {
                s["audiences"] = a;
            }
            s
        }
        _ => json!({ "authenticated": false, "error": "invalid bearer token" }),
    };
    review["apiVersion"] = json!("authentication.k8s.io/v1");
    review["kind"] = json!("TokenReview");
    review["status"] = status;
    Ok(review)
}

/// Answers a TokenRequest (`POST .../serviceaccounts/<name>/token`): a new
/// bearer token for the ServiceAccount `name` in `namespace`, which
/// TokenReview and every request accept from then on as
/// `system:serviceaccount:<namespace>:<name>` in the service-account
/// groups. 404 when the ServiceAccount does not exist.
pub fn token_request(
    store: &mut Store,
    namespace: &str,
    name: &str,
    mut request: Value,
) -> ApiResult<Value> {
    if !request.is_object() {
        return Err(ApiError::bad_request(
            "a TokenRequest must be a JSON object",
        ));
    }
    let Some(rt) = resources::find("", "v1", "serviceaccounts") else {
        return Err(ApiError::bad_request("serviceaccounts are not served"));
    };
    store.get(rt, namespace, name)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    let seq = store.next_seq();
    let token = format!(
        "sa-token-{namespace}-{name}-{}",
        meta::suffix(seq.wrapping_mul(1_000_000_007) ^ nanos, 16)
    );
    store.users.insert(
        token.clone(),
        super::store::UserInfo {
            username: format!("system:serviceaccount:{namespace}:{name}"),
            groups: vec![
                "system:serviceaccounts".to_owned(),
                format!("system:serviceaccounts:{namespace}"),
            ],
        },
    );
    let seconds = request
        .pointer("/spec/expirationSeconds")
        .and_then(Value::as_u64)
        .unwrap_or(3600);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    request["apiVersion"] = json!("authentication.k8s.io/v1");
    request["kind"] = json!("TokenRequest");
    request["metadata"] = json!({"name": name, "namespace": namespace});
    request["status"] = json!({
        "token": token,
        "expirationTimestamp": meta::rfc3339(now + seconds),
    });
    Ok(request)
}

/// The request a SubjectAccessReview asks about.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessRequest {
    /// User name.
    pub user: String,
    /// The user's groups.
    pub groups: Vec<String>,
    /// Verb (`get`, `list`, `patch`, ...).
    pub verb: String,
    /// API group of the resource.
    pub group: String,
    /// Plural resource.
    pub resource: String,
    /// Subresource, if any.
    pub subresource: String,
    /// Namespace, empty for cluster-wide.
    pub namespace: String,
    /// Object name, empty for all.
    pub name: String,
    /// For non-resource requests: the URL path.
    pub path: Option<String>,
}

impl AccessRequest {
    /// Reads `spec` of a SubjectAccessReview.
    pub fn from_review(review: &Value) -> Self {
        let s = |p: &str| {
            review
                .pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let groups = review
            .pointer("/spec/groups")
            .and_then(Value::as_array)
            .map(|g| {
                g.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let non_resource = review.pointer("/spec/nonResourceAttributes").is_some()
            && review.pointer("/spec/resourceAttributes").is_none();
        AccessRequest {
            user: s("/spec/user"),
            groups,
            verb: if non_resource {
                s("/spec/nonResourceAttributes/verb")
            } else {
                s("/spec/resourceAttributes/verb")
            },
            group: s("/spec/resourceAttributes/group"),
            resource: s("/spec/resourceAttributes/resource"),
            subresource: s("/spec/resourceAttributes/subresource"),
            namespace: s("/spec/resourceAttributes/namespace"),
            name: s("/spec/resourceAttributes/name"),
            path: non_resource.then(|| s("/spec/nonResourceAttributes/path")),
        }
    }
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Whether one PolicyRule allows the request.
pub fn rule_allows(rule: &Value, req: &AccessRequest) -> bool {
    let verbs = strings(rule.get("verbs"));
    if !verbs.iter().any(|v| *v == "*" || *v == req.verb) {
        return false;
    }
    if let Some(path) = &req.path {
        return strings(rule.get("nonResourceURLs")).iter().any(|u| {
            *u == "*"
                || u == path
                || u.strip_suffix('*')
                    .is_some_and(|prefix| path.starts_with(prefix))
        });
    }
    let groups = strings(rule.get("apiGroups"));
    if !groups.iter().any(|g| *g == "*" || *g == req.group) {
        return false;
    }
    let combined = if req.subresource.is_empty() {
        req.resource.clone()
    } else {
        format!("{}/{}", req.resource, req.subresource)
    };
    let resources = strings(rule.get("resources"));
    let resource_ok = resources.iter().any(|r| {
        *r == "*"
            || *r == combined
            || (!req.subresource.is_empty()
                && (*r == format!("{}/*", req.resource) || *r == format!("*/{}", req.subresource)))
    });
    if !resource_ok {
        return false;
    }
    let names = strings(rule.get("resourceNames"));
    names.is_empty() || (!req.name.is_empty() && names.contains(&req.name.as_str()))
}

fn subject_matches(subject: &Value, req: &AccessRequest, binding_ns: &str) -> bool {
    let kind = subject.get("kind").and_then(Value::as_str).unwrap_or("");
    let name = subject.get("name").and_then(Value::as_str).unwrap_or("");
    match kind {
        "User" => name == req.user,
        "Group" => req.groups.iter().any(|g| g == name),
        "ServiceAccount" => {
            let ns = subject
                .get("namespace")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .unwrap_or(binding_ns);
            req.user == format!("system:serviceaccount:{ns}:{name}")
        }
        _ => false,
    }
}

/// Decides a request with RBAC: `(allowed, reason)`.
pub fn authorize(store: &Store, req: &AccessRequest) -> (bool, String) {
    if req.groups.iter().any(|g| g == MASTERS_GROUP) {
        return (true, format!("user is in the {MASTERS_GROUP} group"));
    }
    let find = |plural| resources::find(RBAC, "v1", plural);
    let (Some(crb_rt), Some(rb_rt), Some(cr_rt), Some(role_rt)) = (
        find("clusterrolebindings"),
        find("rolebindings"),
        find("clusterroles"),
        find("roles"),
    ) else {
        return (false, "RBAC resources are not served".into());
    };
    let role_allows = |kind: &str, role_name: &str, ns: &str| -> bool {
        let role = match kind {
            "ClusterRole" => store.peek(cr_rt, "", role_name),
            "Role" => store.peek(role_rt, ns, role_name),
            _ => None,
        };
        role.and_then(|r| r.get("rules"))
            .and_then(Value::as_array)
            .is_some_and(|rules| rules.iter().any(|rule| rule_allows(rule, req)))
    };
    let binding_allows = |binding: &Value, ns: &str| -> Option<String> {
        let subjects = binding.get("subjects").and_then(Value::as_array)?;
        let subject = subjects.iter().find(|s| subject_matches(s, req, ns))?;
        let kind = binding
            .pointer("/roleRef/kind")
            .and_then(Value::as_str)
            .unwrap_or("");
        let role_name = binding
            .pointer("/roleRef/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !role_allows(kind, role_name, ns) {
            return None;
        }
        let binding_kind = binding.get("kind").and_then(Value::as_str).unwrap_or("");
        let subject_kind = subject.get("kind").and_then(Value::as_str).unwrap_or("");
        let subject_name = subject.get("name").and_then(Value::as_str).unwrap_or("");
        let place = if ns.is_empty() {
            String::new()
        } else {
            format!(" in namespace \"{ns}\"")
        };
        Some(format!(
            "RBAC: allowed by {binding_kind} \"{}\" of {kind} \"{role_name}\" to {subject_kind} \"{subject_name}\"{place}",
            meta::name(binding)
        ))
    };
    for binding in store.iter(crb_rt, None) {
        if let Some(reason) = binding_allows(binding, "") {
            return (true, reason);
        }
    }
    if !req.namespace.is_empty() && req.path.is_none() {
        for binding in store.iter(rb_rt, Some(&req.namespace)) {
            if let Some(reason) = binding_allows(binding, &req.namespace) {
                return (true, reason);
            }
        }
    }
    (false, String::new())
}

/// Answers a SubjectAccessReview: the request echoed with `status`.
pub fn subject_access_review(store: &Store, mut review: Value) -> ApiResult<Value> {
    if !review.is_object() {
        return Err(ApiError::bad_request(
            "a SubjectAccessReview must be a JSON object",
        ));
    }
    let has_attrs = review.pointer("/spec/resourceAttributes").is_some()
        || review.pointer("/spec/nonResourceAttributes").is_some();
    if !has_attrs {
        return Err(ApiError::new(
            super::error::Reason::Invalid,
            "SubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.resourceAttributes: \
             Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified",
        ));
    }
    let req = AccessRequest::from_review(&review);
    let (allowed, reason) = authorize(store, &req);
    review["apiVersion"] = json!("authorization.k8s.io/v1");
    review["kind"] = json!("SubjectAccessReview");
    let mut status = json!({ "allowed": allowed });
    if !reason.is_empty() {
        status["reason"] = json!(reason);
    }
    review["status"] = status;
    Ok(review)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(verb: &str, group: &str, resource: &str, name: &str) -> AccessRequest {
        AccessRequest {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn rules_match_like_rbac() {
        let rule = json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]});
        assert!(rule_allows(&rule, &req("list", "", "pods", "")));
        assert!(!rule_allows(&rule, &req("patch", "", "pods", "")));
        assert!(!rule_allows(&rule, &req("list", "apps", "pods", "")));
        let wild = json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]});
        assert!(rule_allows(&wild, &req("patch", "", "namespaces", "")));
        let named = json!({"apiGroups": [""], "resources": ["namespaces"], "verbs": ["patch"], "resourceNames": ["shop"]});
        assert!(rule_allows(&named, &req("patch", "", "namespaces", "shop")));
        assert!(!rule_allows(
            &named,
            &req("patch", "", "namespaces", "other")
        ));
        assert!(!rule_allows(&named, &req("patch", "", "namespaces", "")));
        let mut sub = req("get", "", "pods", "");
        sub.subresource = "log".into();
        assert!(!rule_allows(&rule, &sub));
        let logs = json!({"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]});
        assert!(rule_allows(&logs, &sub));
    }
}
