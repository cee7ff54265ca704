//! The one typed client for meshdeck's REST/JSON API (gloo-net). Every page
//! fetches through here and gets `Result<T, ApiError>`.
//!
//! Sign-in lives here too: the bearer token is kept in the tab's
//! `sessionStorage` (never in a URL or a log) and sent as
//! `Authorization: Bearer` on every call. A 401 forgets it and takes the
//! user to the sign-in page, remembering where they were. In demo mode the
//! first call picks the default demo identity (the owner) if none is chosen.

use std::cell::RefCell;
use std::fmt;

use futures::FutureExt;
use futures::future::{LocalBoxFuture, Shared};
use gloo_net::http::Request;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::session::{self, LOGIN_PATH, TOKEN_STORAGE_KEY};
use crate::types::{
    ApplyQuery, AuthMode, Dashboard, DashboardKind, DashboardQuery, DryRunQuery, ErrorBody,
    ErrorCode, Graph, GraphNodeDetail, GraphQuery, InjectionChange, InjectionRequest,
    IstioConfigList, IstioKind, IstioObjectDetail, Me, MeshChange, MeshSettings, MeshStatus,
    MetricsQuery, MetricsReport, MetricsTargets, NamespaceList, Preflight, PromQueryAnswer,
    PromQueryRequest, Rollout, RolloutCharts, RolloutControl, RolloutList, RolloutStart,
    ServiceTraffic, SettingsDocument, SettingsUpdate, Status, TelemetryReport, TraceDetail,
    TraceSearch, TraceSearchQuery, TraceServices, TraceServicesQuery, WizardOutcome, WizardRequest,
    WorkloadKind,
};

/// A failed API call, ready to show to a person.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// HTTP status, or 0 when no response arrived at all.
    pub status: u16,
    /// Error class from the server's JSON body.
    pub code: ErrorCode,
    /// What went wrong, in words.
    pub message: String,
}

impl ApiError {
    /// A request the UI refuses to send, for `message` (what the server
    /// would have said: the page shows it like the server's 400).
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: 400,
            code: ErrorCode::BadRequest,
            message: message.into(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.status == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{} (HTTP {})", self.message, self.status)
        }
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    fn network(err: impl fmt::Display) -> Self {
        ApiError {
            status: 0,
            code: ErrorCode::UpstreamUnavailable,
            message: format!("could not reach the meshdeck server: {err}"),
        }
    }

    /// The server did not accept (or did not get) a token.
    pub fn is_unauthenticated(&self) -> bool {
        self.status == 401
    }
}

/// `GET path` with the stored token, decoding the JSON answer; error bodies
/// become [`ApiError`]. A 401 leads to the sign-in page.
pub async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    ensure_session().await;
    let result = fetch_json(path, stored_token().as_deref()).await;
    if matches!(&result, Err(e) if e.is_unauthenticated()) {
        to_login();
    }
    result
}

/// `GET /api/status` (public: no token needed).
pub async fn status() -> Result<Status, ApiError> {
    fetch_json("/api/status", None).await
}

/// `GET /api/openapi.json` (public): this API's OpenAPI document.
pub async fn openapi() -> Result<serde_json::Value, ApiError> {
    fetch_json("/api/openapi.json", None).await
}

/// `GET /api/me`.
pub async fn me() -> Result<Me, ApiError> {
    get_json("/api/me").await
}

/// `GET /api/me` for the top bar: `None` when nobody is signed in, without
/// leaving the page (the overview works signed out).
pub async fn me_if_signed_in() -> Result<Option<Me>, ApiError> {
    ensure_session().await;
    match fetch_json("/api/me", stored_token().as_deref()).await {
        Ok(me) => Ok(Some(me)),
        Err(e) if e.is_unauthenticated() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Checks `token` with `GET /api/me` and keeps it if the server accepts it.
pub async fn sign_in(token: &str) -> Result<Me, ApiError> {
    let me = fetch_json::<Me>("/api/me", Some(token)).await?;
    store_token(token);
    Ok(me)
}

/// Forgets the token.
pub fn sign_out() {
    if let Some(storage) = session_storage() {
        let _ = storage.remove_item(TOKEN_STORAGE_KEY);
    }
}

/// Uses `token` from now on (demo identity switch), then reloads the page
/// so every view fetches again as the new identity.
pub fn switch_identity(token: &str) {
    store_token(token);
    reload();
}

/// Uses `token` from now on and opens `href` (demo identity chosen on the
/// sign-in page).
pub fn switch_identity_to(token: &str, href: &str) {
    store_token(token);
    go_to(href);
}

/// Whether a token is stored (false behind an auth proxy that sends it).
pub fn has_stored_token() -> bool {
    stored_token().is_some()
}

/// Loads `href` as a new page (after sign-in or sign-out, so every view
/// and the top bar start over with the new identity).
pub fn go_to(href: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_href(href);
    }
}

fn reload() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

fn stored_token() -> Option<String> {
    session_storage()?
        .get_item(TOKEN_STORAGE_KEY)
        .ok()?
        .filter(|t| !t.is_empty())
}

fn store_token(token: &str) {
    if let Some(storage) = session_storage() {
        let _ = storage.set_item(TOKEN_STORAGE_KEY, token);
    }
}

thread_local! {
    /// The one look for a default demo identity per page load; concurrent
    /// first calls all wait for it.
    static SESSION: RefCell<Option<Shared<LocalBoxFuture<'static, ()>>>> = const { RefCell::new(None) };
}

/// In demo mode with no identity chosen yet, chooses the default one, so
/// the first signed-in call already carries a token.
async fn ensure_session() {
    if stored_token().is_some() {
        return;
    }
    let check = SESSION.with(|s| {
        s.borrow_mut()
            .get_or_insert_with(|| choose_default_identity().boxed_local().shared())
            .clone()
    });
    check.await;
}

async fn choose_default_identity() {
    if let Ok(status) = status().await {
        if status.auth_mode == AuthMode::Demo && stored_token().is_none() {
            if let Some(identity) = session::default_demo_identity(&status.demo_identities) {
                store_token(&identity.token);
            }
        }
    }
}

/// Forgets a rejected token and opens the sign-in page, remembering where
/// the user was.
fn to_login() {
    sign_out();
    let Some(window) = web_sys::window() else {
        return;
    };
    let location = window.location();
    let path = location.pathname().unwrap_or_default();
    if path == LOGIN_PATH {
        return;
    }
    let search = location.search().unwrap_or_default();
    let _ = location.set_href(&session::login_href(&format!("{path}{search}")));
}

async fn fetch_json<T: DeserializeOwned>(path: &str, token: Option<&str>) -> Result<T, ApiError> {
    let mut request = Request::get(path).header("Accept", "application/json");
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let response = request.send().await.map_err(ApiError::network)?;
    decode(path, response).await
}

/// HTTP methods that carry a JSON body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
}

/// `POST`/`PUT path` with `body` as JSON and the stored token, decoding the
/// JSON answer like [`get_json`]. A 401 leads to the sign-in page.
pub async fn send_json<B: Serialize, T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: &B,
) -> Result<T, ApiError> {
    ensure_session().await;
    let mut builder = match method {
        Method::Post => Request::post(path),
        Method::Put => Request::put(path),
    }
    .header("Accept", "application/json");
    if let Some(token) = stored_token() {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let request = builder.json(body).map_err(|e| ApiError {
        status: 0,
        code: ErrorCode::Internal,
        message: format!("cannot encode the request to {path}: {e}"),
    })?;
    let result = match request.send().await {
        Ok(response) => decode(path, response).await,
        Err(e) => Err(ApiError::network(e)),
    };
    if matches!(&result, Err(e) if e.is_unauthenticated()) {
        to_login();
    }
    result
}

/// `DELETE path` with the stored token, decoding the JSON answer like
/// [`get_json`]. A 401 leads to the sign-in page.
pub async fn delete_json<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    ensure_session().await;
    let mut builder = Request::delete(path).header("Accept", "application/json");
    if let Some(token) = stored_token() {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let result = match builder.send().await {
        Ok(response) => decode(path, response).await,
        Err(e) => Err(ApiError::network(e)),
    };
    if matches!(&result, Err(e) if e.is_unauthenticated()) {
        to_login();
    }
    result
}

async fn decode<T: DeserializeOwned>(
    path: &str,
    response: gloo_net::http::Response,
) -> Result<T, ApiError> {
    let status = response.status();
    if response.ok() {
        return response.json::<T>().await.map_err(|err| ApiError {
            status,
            code: ErrorCode::Internal,
            message: format!("unexpected answer from {path}: {err}"),
        });
    }
    let text = response.text().await.unwrap_or_default();
    Err(match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => ApiError {
            status,
            code: body.error.code,
            message: body.error.message,
        },
        Err(_) => ApiError {
            status,
            code: ErrorCode::Unknown,
            message: format!("{path} answered HTTP {status} without an error body"),
        },
    })
}

/// `GET /api/metrics?<query>`.
pub async fn metrics(query: &MetricsQuery) -> Result<MetricsReport, ApiError> {
    get_json(&with_query("/api/metrics", query)).await
}

/// `path`, with `query` as its query string when it has any field.
fn with_query<T: Serialize>(path: &str, query: &T) -> String {
    let query = crate::format::query_of(query);
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// `GET /api/metrics/targets`.
pub async fn metrics_targets() -> Result<MetricsTargets, ApiError> {
    get_json("/api/metrics/targets").await
}

/// `GET /api/traces/services[?service=]`: services, and one service's operations.
pub async fn trace_services(query: TraceServicesQuery) -> Result<TraceServices, ApiError> {
    get_json(&with_query("/api/traces/services", &query)).await
}

/// `GET /api/traces?<query>`.
pub async fn trace_search(query: TraceSearchQuery) -> Result<TraceSearch, ApiError> {
    get_json(&with_query("/api/traces", &query)).await
}

/// `GET /api/traces/{id}`.
pub async fn trace(id: String) -> Result<TraceDetail, ApiError> {
    get_json(&format!(
        "/api/traces/{}",
        crate::format::encode_component(&id)
    ))
    .await
}

/// `GET /api/istio/config`: the Istio objects of every namespace the caller
/// may see, and the findings about them.
pub async fn istio_config() -> Result<IstioConfigList, ApiError> {
    get_json("/api/istio/config").await
}

/// `GET /api/istio/config/{namespace}/{kind}/{name}`.
pub async fn istio_object(
    namespace: &str,
    kind: IstioKind,
    name: &str,
) -> Result<IstioObjectDetail, ApiError> {
    get_json(&format!(
        "/api/istio/config/{}/{}/{}",
        crate::format::encode_component(namespace),
        kind.plural(),
        crate::format::encode_component(name)
    ))
    .await
}

/// `GET /api/namespaces`.
pub async fn namespaces() -> Result<NamespaceList, ApiError> {
    get_json("/api/namespaces").await
}

/// `POST /api/namespaces/{ns}/injection[?dryRun=true]`.
pub async fn set_namespace_injection(
    ns: &str,
    enabled: bool,
    dry_run: bool,
) -> Result<InjectionChange, ApiError> {
    let path = with_query(
        &format!(
            "/api/namespaces/{}/injection",
            crate::format::encode_component(ns)
        ),
        &DryRunQuery { dry_run },
    );
    send_json(Method::Post, &path, &InjectionRequest { enabled }).await
}

/// `POST /api/namespaces/{ns}/workloads/{kind}/{name}/injection[?dryRun=true]`.
pub async fn set_workload_injection(
    ns: &str,
    kind: WorkloadKind,
    name: &str,
    enabled: bool,
    dry_run: bool,
) -> Result<InjectionChange, ApiError> {
    let path = with_query(
        &format!(
            "/api/namespaces/{}/workloads/{}/{}/injection",
            crate::format::encode_component(ns),
            kind.plural(),
            crate::format::encode_component(name),
        ),
        &DryRunQuery { dry_run },
    );
    send_json(Method::Post, &path, &InjectionRequest { enabled }).await
}

/// `GET /api/settings`.
pub async fn settings() -> Result<SettingsDocument, ApiError> {
    get_json("/api/settings").await
}

/// `PUT /api/settings`.
pub async fn save_settings(update: &SettingsUpdate) -> Result<SettingsDocument, ApiError> {
    send_json(Method::Put, "/api/settings", update).await
}

/// `POST /api/settings/reset`: unreadable stored settings back to the last
/// good ones.
pub async fn reset_settings() -> Result<SettingsDocument, ApiError> {
    send_json(Method::Post, "/api/settings/reset", &()).await
}

/// `POST /api/settings/preflight`.
pub async fn preflight(settings: &MeshSettings) -> Result<Preflight, ApiError> {
    send_json(Method::Post, "/api/settings/preflight", settings).await
}

/// `GET /api/mesh`.
pub async fn mesh() -> Result<MeshStatus, ApiError> {
    get_json("/api/mesh").await
}

/// `POST /api/mesh/enable` or `/api/mesh/disable` (`?dryRun=true` to
/// preview; `force` takes over fields other managers own, enable only).
pub async fn switch_mesh(enable: bool, dry_run: bool, force: bool) -> Result<MeshChange, ApiError> {
    let path = if enable {
        with_query("/api/mesh/enable", &ApplyQuery { dry_run, force })
    } else {
        with_query("/api/mesh/disable", &DryRunQuery { dry_run })
    };
    send_json(Method::Post, &path, &()).await
}

/// `GET /api/graph?<query>`.
pub async fn graph(query: &GraphQuery) -> Result<Graph, ApiError> {
    get_json(&with_query("/api/graph", query)).await
}

/// `GET /api/graph/node?<query>` (the query names the node).
pub async fn graph_node(query: &GraphQuery) -> Result<GraphNodeDetail, ApiError> {
    get_json(&with_query("/api/graph/node", query)).await
}

/// `POST /api/prometheus/query` (owners only).
pub async fn prometheus_query(request: PromQueryRequest) -> Result<PromQueryAnswer, ApiError> {
    send_json(Method::Post, "/api/prometheus/query", &request).await
}

/// `GET /api/dashboards/{kind}?<query>` (owners only).
pub async fn dashboard(kind: DashboardKind, query: &DashboardQuery) -> Result<Dashboard, ApiError> {
    get_json(&with_query(
        &format!("/api/dashboards/{}", kind.as_str()),
        query,
    ))
    .await
}

fn service_path(ns: &str, name: &str, rest: &str) -> String {
    format!(
        "/api/services/{}/{}/{rest}",
        crate::format::encode_component(ns),
        crate::format::encode_component(name)
    )
}

/// `GET /api/services/{ns}/{name}/traffic`: what the wizards start from.
pub async fn service_traffic(ns: String, name: String) -> Result<ServiceTraffic, ApiError> {
    get_json(&service_path(&ns, &name, "traffic")).await
}

/// `POST /api/services/{ns}/{name}/wizards[?dryRun=true][&force=true]`: a
/// wizard's preview (`dry_run`) or its apply; `force` takes over fields
/// other managers own.
pub async fn run_wizard(
    ns: &str,
    name: &str,
    request: &WizardRequest,
    dry_run: bool,
    force: bool,
) -> Result<WizardOutcome, ApiError> {
    let path = with_query(
        &service_path(ns, name, "wizards"),
        &ApplyQuery { dry_run, force },
    );
    send_json(Method::Post, &path, request).await
}

/// `DELETE /api/services/{ns}/{name}/wizards[?dryRun=true]`: removes what
/// meshdeck's wizards wrote for the service (or previews that).
pub async fn remove_traffic_routing(
    ns: &str,
    name: &str,
    dry_run: bool,
) -> Result<WizardOutcome, ApiError> {
    let path = with_query(&service_path(ns, name, "wizards"), &DryRunQuery { dry_run });
    delete_json(&path).await
}

fn rollout_path(ns: &str, service: &str, tail: &str) -> String {
    format!(
        "/api/rollouts/{}/{}{tail}",
        crate::format::encode_component(ns),
        crate::format::encode_component(service)
    )
}

/// `GET /api/rollouts`: the rollouts the caller may see, and the demo's
/// ready-made ones.
pub async fn rollouts() -> Result<RolloutList, ApiError> {
    get_json("/api/rollouts").await
}

/// `GET /api/rollouts/{ns}/{service}`.
pub async fn rollout(ns: &str, service: &str) -> Result<Rollout, ApiError> {
    get_json(&rollout_path(ns, service, "")).await
}

/// `GET /api/rollouts/{ns}/{service}/charts`.
pub async fn rollout_charts(ns: &str, service: &str) -> Result<RolloutCharts, ApiError> {
    get_json(&rollout_path(ns, service, "/charts")).await
}

/// `POST /api/rollouts`: starts a rollout (422 naming every problem).
pub async fn start_rollout(start: &RolloutStart) -> Result<Rollout, ApiError> {
    send_json(Method::Post, "/api/rollouts", start).await
}

/// `POST /api/rollouts/{ns}/{service}/{pause|resume|abort|promote|skip}`.
pub async fn control_rollout(
    ns: &str,
    service: &str,
    control: RolloutControl,
) -> Result<Rollout, ApiError> {
    let path = rollout_path(ns, service, &format!("/{}", control.as_str()));
    send_json(Method::Post, &path, &serde_json::json!({})).await
}

/// `GET /api/status/telemetry`: whether Prometheus holds the mesh's
/// metrics, for the caller's namespaces.
pub async fn telemetry() -> Result<TelemetryReport, ApiError> {
    get_json("/api/status/telemetry").await
}
