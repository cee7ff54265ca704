//! The HTTP face of the in-memory cluster, as an axum [`Router`]:
//! kube-apiserver's filter chain (authentication, impersonation, RBAC
//! authorization of resource requests, the audit log), then Kubernetes REST
//! paths, verbs, query parameters, server-side apply and discovery
//! documents.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};

use super::Shared;
use super::audit::AuditEntry;
use super::auth::{self, Identity};
use super::error::{ApiError, ApiResult, Reason};
use super::meta;
use super::patch;
use super::request;
use super::resources::{self, Handling, ResourceType};
use super::schema::{FieldCheck, FieldValidation};
use super::selector::{FieldSelector, LabelSelector};
use super::store::{Preconditions, Writer};
use super::watch::{self, WatchParams};

/// The Kubernetes version the in-memory cluster claims to be.
pub const SERVER_VERSION: (&str, &str) = ("1", "33");

/// Builds the router over shared cluster state.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/version", get(version))
        .route("/api", any(dispatch))
        .route("/apis", any(dispatch))
        .route("/api/{*rest}", any(dispatch))
        .route("/apis/{*rest}", any(dispatch))
        .fallback(unknown_path)
        .with_state(shared)
}

fn ok(code: StatusCode, body: Value) -> Response {
    (code, axum::Json(body)).into_response()
}

fn not_served() -> ApiError {
    ApiError::new(
        Reason::NotFound,
        "the server could not find the requested resource",
    )
}

/// Any other path: authenticated, then not found.
async fn unknown_path(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    match auth::authenticate(&shared.lock(), &headers) {
        Ok(_) => not_served().into_response(),
        Err(e) => e.into_response(),
    }
}

async fn version() -> Response {
    let (major, minor) = SERVER_VERSION;
    ok(
        StatusCode::OK,
        json!({
            "major": major,
            "minor": minor,
            "gitVersion": format!("v{major}.{minor}.0-meshdeck-sim"),
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean",
            "buildDate": "2025-01-01T00:00:00Z",
            "goVersion": "go1.24.0",
            "compiler": "gc",
            "platform": "linux/amd64",
        }),
    )
}

fn core_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "in-memory:443"}],
    })
}

fn group_doc(name: &str, versions: &[&str]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    json!({
        "name": name,
        "versions": vs,
        "preferredVersion": vs.first().cloned().unwrap_or(Value::Null),
    })
}

fn group_list(shared: &Shared) -> Value {
    let groups: Vec<Value> = resources::groups(&shared.installed_crds())
        .iter()
        .map(|(g, vs)| group_doc(g, vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn resource_list(
    group: &str,
    version: &str,
    installed: &[&'static ResourceType],
) -> ApiResult<Value> {
    let mut list = Vec::new();
    for r in resources::served(installed).filter(|r| r.group == group && r.version == version) {
        let mut entry = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": r.verbs(),
        });
        if !r.short_names.is_empty() {
            entry["shortNames"] = json!(r.short_names);
        }
        list.push(entry);
        if r.handling == Handling::Stored {
            list.push(json!({
                "name": format!("{}/status", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    if list.is_empty() {
        return Err(not_served());
    }
    let gv = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    Ok(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": list}),
    )
}

/// A parsed resource path.
#[derive(Debug, PartialEq, Eq)]
struct Target<'a> {
    rt: &'static ResourceType,
    /// Namespace in the URL (empty for cluster-wide or cluster-scoped).
    namespace: &'a str,
    name: Option<&'a str>,
    subresource: Option<&'a str>,
}

/// What a path asks for.
#[derive(Debug, PartialEq, Eq)]
enum Parsed<'a> {
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    GroupList,
    GroupDoc(&'a str),
    ResourceList(&'a str, &'a str),
    Resource(Target<'a>),
}

fn parse_path(path: &str) -> ApiResult<Parsed<'_>> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api"] => return Ok(Parsed::CoreVersions),
        ["apis"] => return Ok(Parsed::GroupList),
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group] => return Ok(Parsed::GroupDoc(group)),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Err(not_served()),
    };
    let (namespace, plural, tail) = match rest {
        [] => return Ok(Parsed::ResourceList(group, version)),
        ["namespaces", ns, plural, tail @ ..]
            if !matches!(*plural, "status" | "finalize") || !tail.is_empty() =>
        {
            (*ns, *plural, tail)
        }
        [plural, tail @ ..] => ("", *plural, tail),
    };
    let rt = resources::find(group, version, plural).ok_or_else(not_served)?;
    let (name, subresource) = match tail {
        [] => (None, None),
        [name] => (Some(*name), None),
        [name, sub] => (Some(*name), Some(*sub)),
        _ => return Err(not_served()),
    };
    if !namespace.is_empty() && !rt.namespaced {
        return Err(not_served());
    }
    // Namespaced objects are addressed under /namespaces/<ns>/ only; the bare
    // path lists them across all namespaces.
    if rt.namespaced && namespace.is_empty() && name.is_some() {
        return Err(not_served());
    }
    match subresource {
        None | Some("status") => {}
        Some("finalize") if rt.plural == "namespaces" => {}
        Some("token") if rt.plural == "serviceaccounts" => {}
        Some(_) => return Err(not_served()),
    }
    Ok(Parsed::Resource(Target {
        rt,
        namespace,
        name,
        subresource,
    }))
}

fn parse_json(body: &[u8]) -> ApiResult<Value> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding request body as JSON: {e}")))
}

/// The field manager of a write: the `fieldManager` parameter, else the
/// User-Agent up to its first `/` (printable characters, at most 128), as
/// kube-apiserver takes it, else `unknown`.
fn field_manager(params: &HashMap<String, String>, headers: &HeaderMap) -> String {
    if let Some(m) = params.get("fieldManager").filter(|m| !m.is_empty()) {
        return m.clone();
    }
    let agent: String = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|ua| ua.split('/').next())
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(128)
        .collect();
    if agent.is_empty() {
        "unknown".to_owned()
    } else {
        agent
    }
}

/// `PatchOptions` validation: apply needs a `fieldManager`, only apply
/// may `force` (422, worded as kube-apiserver words it).
fn check_patch_options(params: &HashMap<String, String>, apply: bool) -> ApiResult<()> {
    let (field, reason, detail) = if apply {
        if params.get("fieldManager").is_some_and(|m| !m.is_empty()) {
            return Ok(());
        }
        (
            "fieldManager",
            "FieldValueRequired",
            "Required value: is required for apply patch",
        )
    } else {
        if !params.contains_key("force") {
            return Ok(());
        }
        (
            "force",
            "FieldValueForbidden",
            "Forbidden: may not be specified for non-apply patch",
        )
    };
    let mut e = ApiError::new(
        Reason::Invalid,
        format!("PatchOptions.meta.k8s.io \"\" is invalid: {field}: {detail}"),
    );
    e.details = Some(json!({
        "group": "meta.k8s.io",
        "kind": "PatchOptions",
        "causes": [{"reason": reason, "message": detail, "field": field}],
    }));
    Err(e)
}

/// The `fieldValidation` of a write whose options are `options`
/// (`CreateOptions`, `UpdateOptions`, `PatchOptions`): 422 for a value
/// kube-apiserver does not support, worded as its options validation.
fn field_check(params: &HashMap<String, String>, options: &str) -> ApiResult<FieldCheck> {
    let given = params.get("fieldValidation").map(String::as_str);
    match FieldValidation::parse(given) {
        Ok(directive) => Ok(FieldCheck::new(directive)),
        Err(supported) => {
            let quoted: Vec<String> = supported.iter().map(|v| format!("{v:?}")).collect();
            let detail = format!(
                "Unsupported value: {:?}: supported values: {}",
                given.unwrap_or(""),
                quoted.join(", ")
            );
            let mut e = ApiError::new(
                Reason::Invalid,
                format!("{options}.meta.k8s.io \"\" is invalid: fieldValidation: {detail}"),
            );
            e.details = Some(json!({
                "group": "meta.k8s.io",
                "kind": options,
                "causes": [{"reason": "FieldValueNotSupported", "message": detail, "field": "fieldValidation"}],
            }));
            Err(e)
        }
    }
}

/// `resp` with a `Warning: 299 - "…"` header per warning, quoted as
/// kube-apiserver quotes them (`"` and `\` escaped).
fn with_warnings(mut resp: Response, warnings: &[String]) -> Response {
    for w in warnings {
        let mut quoted = String::with_capacity(w.len() + 2);
        for c in w.chars() {
            if c == '"' || c == '\\' {
                quoted.push('\\');
            }
            quoted.push(c);
        }
        if let Ok(v) = header::HeaderValue::from_str(&format!("299 - \"{quoted}\"")) {
            resp.headers_mut().append(header::WARNING, v);
        }
    }
    resp
}

fn truthy(params: &HashMap<String, String>, key: &str) -> bool {
    matches!(params.get(key).map(String::as_str), Some("true" | "1"))
}

async fn dispatch(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(&shared, &method, &uri, &headers, &body)
}

/// Answers one request to `/api...` or `/apis...` as kube-apiserver's
/// filter chain does: authentication (401), impersonation, authorization of
/// resource requests (403), then the handler; resource requests are audited.
fn serve(
    shared: &Arc<Shared>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let params: Option<HashMap<String, String>> = Query::try_from_uri(uri).map(|Query(p)| p).ok();
    let info = request::resource_request(
        method.as_str(),
        uri.path(),
        params.as_ref().unwrap_or(&HashMap::new()),
    );
    let (identity, impersonated_by) = {
        let store = shared.lock();
        let requester = match auth::authenticate(&store, headers) {
            Ok(who) => who,
            Err(e) => return e.into_response(),
        };
        let (identity, impersonated_by) = match auth::impersonate(&store, &requester, headers) {
            Ok(Some(who)) => (who, Some(requester.user)),
            Ok(None) => (requester, None),
            Err(e) => {
                if let Some(info) = &info {
                    shared
                        .audit
                        .record(AuditEntry::new(&requester, None, info, e.reason.code()));
                }
                return e.into_response();
            }
        };
        if let Some(info) = &info {
            let asked = identity.asks(info);
            if !auth::authorize(&store, &asked).0 {
                let e = auth::forbidden(&asked);
                shared.audit.record(AuditEntry::new(
                    &identity,
                    impersonated_by.as_deref(),
                    info,
                    e.reason.code(),
                ));
                return e.into_response();
            }
        }
        (identity, impersonated_by)
    };
    let response = match handle(shared, &identity, method, uri, headers, body) {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    };
    if let Some(info) = &info {
        shared.audit.record(AuditEntry::new(
            &identity,
            impersonated_by.as_deref(),
            info,
            response.status().as_u16(),
        ));
    }
    response
}

/// The handler behind authentication and authorization, acting as `who`.
fn handle(
    shared: &Arc<Shared>,
    who: &Identity,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<Response> {
    let params: HashMap<String, String> = Query::try_from_uri(uri)
        .map(|Query(p)| p)
        .map_err(|e| ApiError::bad_request(format!("invalid query string: {e}")))?;
    let parsed = parse_path(uri.path())?;
    if !matches!(parsed, Parsed::Resource(_)) && *method != Method::GET {
        return Err(ApiError::new(
            Reason::MethodNotAllowed,
            format!(
                "the server does not allow this method on the requested resource ({method} {})",
                uri.path()
            ),
        ));
    }
    let target = match parsed {
        Parsed::CoreVersions => return Ok(ok(StatusCode::OK, core_versions())),
        Parsed::GroupList => return Ok(ok(StatusCode::OK, group_list(shared))),
        Parsed::GroupDoc(group) => {
            let versions = resources::groups(&shared.installed_crds())
                .into_iter()
                .find(|(g, _)| *g == group)
                .map(|(_, vs)| vs)
                .ok_or_else(not_served)?;
            let mut doc = group_doc(group, &versions);
            doc["kind"] = json!("APIGroup");
            doc["apiVersion"] = json!("v1");
            return Ok(ok(StatusCode::OK, doc));
        }
        Parsed::ResourceList(group, version) => {
            let installed = shared.installed_crds();
            return Ok(ok(
                StatusCode::OK,
                resource_list(group, version, &installed)?,
            ));
        }
        Parsed::Resource(t) if shared.serves(t.rt) => t,
        Parsed::Resource(_) => return Err(not_served()),
    };
    let rt = target.rt;
    let dry_run = params.get("dryRun").is_some_and(|v| v == "All");
    match rt.handling {
        Handling::TokenReview | Handling::SubjectAccessReview => {
            if *method != Method::POST || target.name.is_some() {
                return Err(ApiError::method_not_allowed(rt, method.as_str()));
            }
            let review = parse_json(body)?;
            let store = shared.lock();
            let answer = if rt.handling == Handling::TokenReview {
                auth::token_review(&store, review)?
            } else {
                auth::subject_access_review(&store, review)?
            };
            return Ok(ok(StatusCode::CREATED, answer));
        }
        Handling::Stored => {}
    }
    if target.subresource == Some("token") {
        let (true, Some(name)) = (*method == Method::POST, target.name) else {
            return Err(ApiError::method_not_allowed(rt, method.as_str()));
        };
        let request = parse_json(body)?;
        let answer = auth::token_request(&mut shared.lock(), target.namespace, name, request)?;
        return Ok(ok(StatusCode::CREATED, answer));
    }
    let status_only = target.subresource == Some("status");
    let ns = target.namespace;
    let manager = field_manager(&params, headers);
    match (method.clone(), target.name) {
        (Method::GET, Some(name)) => Ok(ok(StatusCode::OK, shared.lock().get(rt, ns, name)?)),
        (Method::GET, None) => {
            let labels =
                LabelSelector::parse(params.get("labelSelector").map_or("", String::as_str))?;
            let fields =
                FieldSelector::parse(params.get("fieldSelector").map_or("", String::as_str))?;
            let namespace = (!ns.is_empty()).then_some(ns);
            if truthy(&params, "watch") {
                let timeout = match params.get("timeoutSeconds") {
                    Some(t) => Some(t.parse::<u64>().map_err(|_| {
                        ApiError::bad_request(format!("invalid timeoutSeconds {t:?}"))
                    })?),
                    None => None,
                };
                let wp = WatchParams {
                    resource_version: params
                        .get("resourceVersion")
                        .cloned()
                        .filter(|v| !v.is_empty()),
                    send_initial_events: truthy(&params, "sendInitialEvents"),
                    bookmarks: truthy(&params, "allowWatchBookmarks"),
                    timeout_seconds: timeout,
                };
                return watch::watch(shared, rt, namespace.map(str::to_owned), labels, fields, wp);
            }
            let store = shared.lock();
            let items = store.list(rt, namespace, &labels, &fields);
            Ok(ok(
                StatusCode::OK,
                json!({
                    "kind": rt.list_kind(),
                    "apiVersion": rt.api_version(),
                    "metadata": {"resourceVersion": store.resource_version().to_string()},
                    "items": items,
                }),
            ))
        }
        (Method::POST, None) => {
            let mut check = field_check(&params, "CreateOptions")?;
            let obj = parse_json(body)?;
            let writer = Writer::Request {
                manager: &manager,
                status: false,
            };
            let created = shared
                .lock()
                .create(rt, ns, obj, dry_run, &writer, &mut check)?;
            Ok(with_warnings(
                ok(StatusCode::CREATED, created),
                &check.warnings,
            ))
        }
        (Method::PUT, Some(name)) => {
            let mut check = field_check(&params, "UpdateOptions")?;
            let obj = parse_json(body)?;
            let replaced = shared.lock().replace(
                rt,
                ns,
                name,
                obj,
                dry_run,
                status_only,
                &manager,
                &mut check,
            )?;
            Ok(with_warnings(ok(StatusCode::OK, replaced), &check.warnings))
        }
        (Method::PATCH, Some(name)) => {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let media = content_type.split(';').next().unwrap_or("").trim();
            let apply = media == patch::content_type::APPLY;
            check_patch_options(&params, apply)?;
            let mut check = field_check(&params, "PatchOptions")?;
            if apply {
                // The apply body is YAML; kube-rs (and kubectl) send JSON,
                // which is YAML too, and JSON is all this server reads.
                let config: Value = serde_json::from_slice(body)
                    .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
                let mut store = shared.lock();
                if !status_only && store.peek(rt, ns, name).is_none() {
                    // An apply that creates needs `create` as well, as on a
                    // real API server.
                    let info = request::RequestInfo {
                        verb: "create".into(),
                        group: rt.group.into(),
                        version: rt.version.into(),
                        resource: rt.plural.into(),
                        subresource: String::new(),
                        namespace: if rt.plural == "namespaces" && rt.group.is_empty() {
                            name.into()
                        } else {
                            ns.into()
                        },
                        name: name.into(),
                    };
                    let asked = who.asks(&info);
                    if !auth::authorize(&store, &asked).0 {
                        return Err(auth::forbidden(&asked));
                    }
                }
                let (obj, created) = store.apply(
                    rt,
                    ns,
                    name,
                    config,
                    dry_run,
                    status_only,
                    &manager,
                    truthy(&params, "force"),
                )?;
                let code = if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                return Ok(ok(code, obj));
            }
            let patched = shared.lock().patch(
                rt,
                ns,
                name,
                content_type,
                body,
                dry_run,
                status_only,
                &manager,
                &mut check,
            )?;
            Ok(with_warnings(ok(StatusCode::OK, patched), &check.warnings))
        }
        (Method::DELETE, name) => {
            let opts = if body.is_empty() {
                json!({})
            } else {
                parse_json(body)?
            };
            let dry_run = dry_run
                || opts
                    .get("dryRun")
                    .and_then(Value::as_array)
                    .is_some_and(|d| d.iter().any(|v| v == "All"));
            let pre = Preconditions {
                resource_version: opts
                    .pointer("/preconditions/resourceVersion")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                uid: opts
                    .pointer("/preconditions/uid")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            };
            let mut store = shared.lock();
            match name {
                Some(name) => Ok(ok(
                    StatusCode::OK,
                    store.delete(rt, ns, name, dry_run, &pre)?,
                )),
                None => {
                    // deletecollection: the deleted objects as a list.
                    let labels = LabelSelector::parse(
                        params.get("labelSelector").map_or("", String::as_str),
                    )?;
                    let fields = FieldSelector::parse(
                        params.get("fieldSelector").map_or("", String::as_str),
                    )?;
                    let namespace = (!ns.is_empty()).then_some(ns);
                    let victims = store.list(rt, namespace, &labels, &fields);
                    let mut items = Vec::new();
                    for v in victims {
                        let (vns, vname) =
                            (meta::namespace(&v).to_owned(), meta::name(&v).to_owned());
                        if let Ok(d) =
                            store.delete(rt, &vns, &vname, dry_run, &Preconditions::default())
                        {
                            items.push(d);
                        }
                    }
                    Ok(ok(
                        StatusCode::OK,
                        json!({
                            "kind": rt.list_kind(),
                            "apiVersion": rt.api_version(),
                            "metadata": {"resourceVersion": store.resource_version().to_string()},
                            "items": items,
                        }),
                    ))
                }
            }
        }
        (m, _) => Err(ApiError::method_not_allowed(rt, m.as_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::{InMemoryCluster, patch};
    use crate::scenario;

    /// Garbage on every verb and path is answered, never a panic.
    #[test]
    fn garbage_requests_get_answers() {
        let cluster = InMemoryCluster::from_mesh(&scenario::demo());
        let shared = cluster.shared.clone();
        let paths = [
            "/api/v1/namespaces",
            "/api/v1/namespaces/bookinfo",
            "/api/v1/namespaces/bookinfo/status",
            "/api/v1/namespaces/bookinfo/pods",
            "/apis/apps/v1/namespaces/bookinfo/deployments",
            "/apis/apps/v1/namespaces/bookinfo/deployments/details-v1",
            "/apis/apps/v1/namespaces/bookinfo/deployments/details-v1/status",
            "/apis/apps/v1/namespaces/bookinfo/statefulsets/mongodb-v1",
            "/apis/authentication.k8s.io/v1/tokenreviews",
            "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            "/apis/nope/v1/things",
            "/api/v1/namespaces/bookinfo/pods?labelSelector=a+in+(b&fieldSelector=x",
            "/api/v1/namespaces?watch=true&resourceVersion=abc",
            "/api/v1/namespaces?watch=true&timeoutSeconds=-1",
            "/apis/apps/v1/namespaces/bookinfo/deployments/details-v1?fieldManager=g&force=true",
            "/api/v1/namespaces/bookinfo/configmaps/fresh?fieldManager=g",
            "/apis/apps/v1/namespaces/bookinfo/deployments/fresh/status?fieldManager=g",
        ];
        let bodies = [
            "",
            "null",
            "[]",
            "\"x\"",
            "{",
            r#"{"metadata": 5}"#,
            r#"{"metadata": {"name": "details-v1", "labels": {"a": 1}}}"#,
            r#"{"metadata": {"name": "details-v1"}, "spec": {"replicas": -1}}"#,
            r#"{"metadata": {"name": "details-v1"}, "spec": {"template": {"spec": {"containers": "x"}}}}"#,
            r#"{"metadata": {"name": "details-v1"}, "spec": {"template": {"spec": {"containers": [1, {"name": 2}]}}}}"#,
            r#"{"spec": {"containers": [{"$patch": "delete"}]}}"#,
            r#"{"$patch": "delete"}"#,
            r#"[{"op": "remove", "path": "/metadata"}]"#,
            r#"[{"op": "replace", "path": "", "value": 1}]"#,
            r#"[{"op": "add", "path": "/spec/template/spec/containers/99", "value": {}}]"#,
            r#"[{"op": "move", "from": "/metadata", "path": "/metadata/x"}]"#,
            r#"{"spec": {"token": 5, "resourceAttributes": "x"}}"#,
            r#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "details-v1"}, "spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "a"}, {"image": 1}]}}}}"#,
            r#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "details-v1", "managedFields": [{}]}, "spec": {"selector": 5, "replicas": "x"}}"#,
            r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fresh", "labels": [], "managedFields": "x"}, "data": null}"#,
            r#"{"metadata": {"name": "details-v1", "managedFields": [{"manager": 5, "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1", "fieldsV1": {"f:x": 1, "k:{": {}}}]}}"#,
            r#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "fresh"}, "spec": {"template": {"spec": {"containers": [{"name": "a", "ports": [{"containerPort": "x"}, {"containerPort": "x"}]}]}}}, "status": {"replicas": 1}}"#,
        ];
        let content_types = [
            patch::content_type::MERGE,
            patch::content_type::STRATEGIC,
            patch::content_type::JSON,
            patch::content_type::APPLY,
            "text/plain",
        ];
        let methods = [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ];
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let _guard = runtime.enter();
        for path in paths {
            let uri: Uri = path.parse().expect("uri");
            for body in bodies {
                for method in &methods {
                    for ct in content_types {
                        let mut headers = HeaderMap::new();
                        headers.insert(header::CONTENT_TYPE, ct.parse().expect("header"));
                        headers.insert(
                            header::AUTHORIZATION,
                            format!("Bearer {}", crate::kube::ADMIN_TOKEN)
                                .parse()
                                .expect("header"),
                        );
                        let answer = serve(&shared, method, &uri, &headers, body.as_bytes());
                        assert!(
                            answer.status().as_u16() < 500,
                            "{method} {path} {body}: {}",
                            answer.status()
                        );
                    }
                }
            }
        }
        // Garbage credentials and impersonation headers.
        let header_sets: [&[(&str, &str)]; 7] = [
            &[("authorization", "Bearer")],
            &[("authorization", "bearer   ")],
            &[
                ("authorization", "Bearer in-memory-cluster-admin"),
                ("impersonate-group", "x"),
            ],
            &[
                ("authorization", "Bearer in-memory-cluster-admin"),
                ("impersonate-user", ""),
            ],
            &[
                ("authorization", "Bearer in-memory-cluster-admin"),
                ("impersonate-user", "system:serviceaccount::"),
            ],
            &[
                ("authorization", "Bearer in-memory-cluster-admin"),
                ("impersonate-user", "u"),
                ("impersonate-extra-%zz%", "v"),
            ],
            &[
                ("authorization", "Bearer demo-token-alice"),
                ("impersonate-uid", "1"),
            ],
        ];
        for set in header_sets {
            let mut headers = HeaderMap::new();
            for (k, v) in set {
                headers.append(
                    header::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                    v.parse().expect("value"),
                );
            }
            for path in paths {
                let uri: Uri = path.parse().expect("uri");
                let answer = serve(&shared, &Method::GET, &uri, &headers, b"");
                assert!(answer.status().as_u16() < 500, "{set:?} {path}");
            }
        }
    }

    #[test]
    fn paths_parse_like_kubernetes() {
        let t = |p| match parse_path(p) {
            Ok(Parsed::Resource(t)) => (t.rt.plural, t.namespace, t.name, t.subresource),
            other => panic!("{p}: {other:?}"),
        };
        assert_eq!(t("/api/v1/namespaces"), ("namespaces", "", None, None));
        assert_eq!(
            t("/api/v1/namespaces/shop"),
            ("namespaces", "", Some("shop"), None)
        );
        assert_eq!(
            t("/api/v1/namespaces/shop/status"),
            ("namespaces", "", Some("shop"), Some("status"))
        );
        assert_eq!(
            t("/api/v1/namespaces/shop/pods"),
            ("pods", "shop", None, None)
        );
        assert_eq!(t("/api/v1/pods"), ("pods", "", None, None));
        assert_eq!(
            t("/apis/apps/v1/namespaces/shop/deployments/web/status"),
            ("deployments", "shop", Some("web"), Some("status"))
        );
        assert_eq!(
            parse_path("/apis/apps/v1").ok(),
            Some(Parsed::ResourceList("apps", "v1"))
        );
        assert_eq!(
            parse_path("/apis/apps").ok(),
            Some(Parsed::GroupDoc("apps"))
        );
        assert!(parse_path("/api/v1/pods/x").is_err());
        assert!(parse_path("/api/v1/widgets").is_err());
        assert!(parse_path("/api/v1/namespaces/a/nodes").is_err());
        assert!(parse_path("/apis/apps/v1/namespaces/a/deployments/b/scale").is_err());
    }
}
