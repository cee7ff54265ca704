//! An axum router serving the stored traces through Jaeger's query APIs, v1
//! (`/api/...`) and v3 (`/api/v3/...`), with each API's error shapes.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::query::{
    DEFAULT_LIMIT, ParamError, parse_count, parse_duration, parse_micros, parse_rfc3339,
    parse_tags_json,
};
use super::{SpanKind, TraceQuery, TraceStore, jaeger_v1, otlp, parse_trace_id};
use crate::model::Mesh;

/// v1: service names.
pub const V1_SERVICES: &str = "/api/services";
/// v1: operation names of a service.
pub const V1_OPERATIONS: &str = "/api/services/{service}/operations";
/// v1: trace search.
pub const V1_TRACES: &str = "/api/traces";
/// v1: one trace.
pub const V1_TRACE: &str = "/api/traces/{id}";
/// v3: service names.
pub const V3_SERVICES: &str = "/api/v3/services";
/// v3: operations with span kinds.
pub const V3_OPERATIONS: &str = "/api/v3/operations";
/// v3: trace search.
pub const V3_TRACES: &str = "/api/v3/traces";
/// v3: one trace.
pub const V3_TRACE: &str = "/api/v3/traces/{id}";

/// Message of the 404 for an unknown trace ID (both APIs).
pub const TRACE_NOT_FOUND: &str = "trace not found";
/// Message of the v3 404 for a search without results (as Jaeger answers).
pub const NO_TRACES_FOUND: &str = "No traces found";

/// Query parameters in order, repeated keys kept.
type Params = Vec<(String, String)>;

#[derive(Clone)]
struct AppState {
    store: Arc<TraceStore>,
    mesh: Arc<Mesh>,
}

impl AppState {
    /// Brings live traces up to the wall clock when the store asks for it.
    fn advance(&self) {
        if self.store.follows_clock() {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0);
            self.store.generate_until(&self.mesh, now);
        }
    }
}

/// Which API's error shape to answer with.
#[derive(Clone, Copy, Debug)]
enum Api {
    V1,
    V3,
}

/// A failed request, rendered in its API's error shape.
#[derive(Debug)]
struct ApiError {
    api: Api,
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn bad_request(api: Api, message: impl Into<String>) -> Self {
        ApiError {
            api,
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    fn not_found(api: Api, message: &str) -> Self {
        ApiError {
            api,
            status: StatusCode::NOT_FOUND,
            message: message.to_owned(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.status.as_u16();
        let body = match self.api {
            Api::V1 => jaeger_v1::error_body(code, &self.message),
            Api::V3 => otlp::error_body(code, &self.message),
        };
        (self.status, Json(body)).into_response()
    }
}

type ApiResult = Result<Json<Value>, ApiError>;

/// The router for both APIs over `store`; `mesh` feeds live generation
/// when the store follows the clock.
pub fn router(store: Arc<TraceStore>, mesh: Arc<Mesh>) -> Router {
    Router::new()
        .route(V1_SERVICES, get(services_v1))
        .route(V1_OPERATIONS, get(operations_v1))
        .route(V1_TRACES, get(traces_find_v1))
        .route(V1_TRACE, get(trace_get_v1))
        .route(V3_SERVICES, get(services_v3))
        .route(V3_OPERATIONS, get(operations_v3))
        .route(V3_TRACES, get(traces_find_v3))
        .route(V3_TRACE, get(trace_get_v3))
        .with_state(AppState { store, mesh })
}

/// The first non-empty value of `key`.
fn param<'a>(params: &'a Params, key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, v)| k == key && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

fn params_or(api: Api, q: Result<Query<Params>, QueryRejection>) -> Result<Params, ApiError> {
    q.map(|Query(p)| p)
        .map_err(|e| ApiError::bad_request(api, format!("malformed query string: {e}")))
}

fn path_or(api: Api, p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    p.map(|Path(s)| s)
        .map_err(|e| ApiError::bad_request(api, format!("malformed path: {e}")))
}

async fn services_v1(State(st): State<AppState>) -> ApiResult {
    st.advance();
    let services = st.store.services();
    let n = services.len();
    Ok(Json(jaeger_v1::envelope(json!(services), n)))
}

async fn operations_v1(
    State(st): State<AppState>,
    service: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let service = path_or(Api::V1, service)?;
    st.advance();
    let mut names: Vec<String> = st
        .store
        .operations(&service, None)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    names.dedup();
    let n = names.len();
    Ok(Json(jaeger_v1::envelope(json!(names), n)))
}

/// Parses `/api/traces` parameters as Jaeger's v1 query parser does.
fn query_v1(p: &Params) -> Result<TraceQuery, ParamError> {
    let service = param(p, "service")
        .ok_or_else(|| ParamError("parameter 'service' is required".to_owned()))?;
    let mut query = TraceQuery::service(service);
    query.operation = param(p, "operation").map(str::to_owned);
    if let Some(tags) = param(p, "tags") {
        query.tags = parse_tags_json(tags)?;
    }
    // The older `tag=key:value` form, repeatable.
    for (_, kv) in p.iter().filter(|(k, v)| k == "tag" && !v.is_empty()) {
        let (k, v) = kv
            .split_once(':')
            .ok_or_else(|| ParamError(format!("malformed 'tag' parameter {kv:?}")))?;
        query.tags.push((k.to_owned(), v.to_owned()));
    }
    query.start_min_us = param(p, "start")
        .map(|s| parse_micros("start", s))
        .transpose()?;
    query.start_max_us = param(p, "end")
        .map(|s| parse_micros("end", s))
        .transpose()?;
    let duration = |name: &str| {
        param(p, name)
            .map(|s| {
                parse_duration(s)
                    .map_err(|e| ParamError(format!("unable to parse param '{name}': {e}")))
            })
            .transpose()
    };
    query.min_duration_us = duration("minDuration")?;
    query.max_duration_us = duration("maxDuration")?;
    if let (Some(min), Some(max)) = (query.min_duration_us, query.max_duration_us) {
        if max < min {
            return Err(ParamError(
                "'maxDuration' should be greater than 'minDuration'".to_owned(),
            ));
        }
    }
    query.limit = match param(p, "limit") {
        Some(s) => match parse_count("limit", s)? {
            0 => DEFAULT_LIMIT,
            n => n,
        },
        None => DEFAULT_LIMIT,
    };
    // `lookback` is a UI hint; the UI sends start and end along with it.
    Ok(query)
}

async fn traces_find_v1(
    State(st): State<AppState>,
    q: Result<Query<Params>, QueryRejection>,
) -> ApiResult {
    let params = params_or(Api::V1, q)?;
    let query = query_v1(&params).map_err(|e| ApiError::bad_request(Api::V1, e.0))?;
    st.advance();
    let traces: Vec<Value> = st
        .store
        .find(&query)
        .iter()
        .map(|t| jaeger_v1::trace(t))
        .collect();
    Ok(Json(jaeger_v1::envelope(json!(traces), 0)))
}

async fn trace_get_v1(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let id = path_or(Api::V1, id)?;
    let id = parse_trace_id(&id).ok_or_else(|| {
        ApiError::bad_request(Api::V1, format!("malformed parameter traceID: {id:?}"))
    })?;
    st.advance();
    let trace = st
        .store
        .get(id)
        .ok_or_else(|| ApiError::not_found(Api::V1, TRACE_NOT_FOUND))?;
    Ok(Json(jaeger_v1::envelope(
        json!([jaeger_v1::trace(&trace)]),
        0,
    )))
}

async fn services_v3(State(st): State<AppState>) -> ApiResult {
    st.advance();
    Ok(Json(json!({"services": st.store.services()})))
}

async fn operations_v3(
    State(st): State<AppState>,
    q: Result<Query<Params>, QueryRejection>,
) -> ApiResult {
    let params = params_or(Api::V3, q)?;
    st.advance();
    let service = param(&params, "service").unwrap_or_default();
    let ops = match param(&params, "span_kind") {
        None => st.store.operations(service, None),
        Some(kind) => match SpanKind::parse(kind) {
            Some(k) => st.store.operations(service, Some(k)),
            // A kind no span has (internal, producer, ...).
            None => Vec::new(),
        },
    };
    Ok(Json(otlp::operations(&ops)))
}

/// Parses `/api/v3/traces` parameters as Jaeger's v3 HTTP gateway does
/// (both start-time bounds are required there too).
fn query_v3(p: &Params) -> Result<TraceQuery, ParamError> {
    let malformed =
        |name: &str, e: ParamError| ParamError(format!("malformed parameter {name}: {e}"));
    let mut query = TraceQuery {
        service: param(p, "query.service_name").map(str::to_owned),
        operation: param(p, "query.operation_name").map(str::to_owned),
        ..TraceQuery::default()
    };
    let (Some(min), Some(max)) = (
        param(p, "query.start_time_min"),
        param(p, "query.start_time_max"),
    ) else {
        return Err(ParamError(
            "query.start_time_min and query.start_time_max are required".to_owned(),
        ));
    };
    query.start_min_us =
        Some(parse_rfc3339(min).map_err(|e| malformed("query.start_time_min", e))?);
    query.start_max_us =
        Some(parse_rfc3339(max).map_err(|e| malformed("query.start_time_max", e))?);
    for (name, slot) in [
        ("query.duration_min", &mut query.min_duration_us),
        ("query.duration_max", &mut query.max_duration_us),
    ] {
        if let Some(s) = param(p, name) {
            *slot = Some(parse_duration(s).map_err(|e| malformed(name, e))?);
        }
    }
    if let Some(s) = param(p, "query.num_traces") {
        query.limit = parse_count("query.num_traces", s)?;
    }
    if let Some(s) = param(p, "query.attributes") {
        query.tags = parse_tags_json(s).map_err(|e| malformed("query.attributes", e))?;
    }
    Ok(query)
}

async fn traces_find_v3(
    State(st): State<AppState>,
    q: Result<Query<Params>, QueryRejection>,
) -> ApiResult {
    let params = params_or(Api::V3, q)?;
    let query = query_v3(&params).map_err(|e| ApiError::bad_request(Api::V3, e.0))?;
    st.advance();
    let found = st.store.find(&query);
    if found.is_empty() {
        return Err(ApiError::not_found(Api::V3, NO_TRACES_FOUND));
    }
    Ok(Json(otlp::traces(found.iter().map(|t| t.as_ref()))))
}

async fn trace_get_v3(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult {
    let id = path_or(Api::V3, id)?;
    let id = parse_trace_id(&id).ok_or_else(|| {
        ApiError::bad_request(Api::V3, format!("malformed parameter trace_id: {id:?}"))
    })?;
    st.advance();
    let trace = st
        .store
        .get(id)
        .ok_or_else(|| ApiError::not_found(Api::V3, TRACE_NOT_FOUND))?;
    Ok(Json(otlp::traces([trace.as_ref()])))
}
