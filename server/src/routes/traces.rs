//! `GET /api/traces`, `/api/traces/services` and `/api/traces/{id}`: trace
//! search and the waterfall, from Jaeger, scoped to what the caller may see.

use app::types::{
    ErrorBody, TimeSpan, TraceDetail, TraceSearch, TraceSearchQuery, TraceServices,
    TraceServicesQuery,
};
use axum::Json;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::{AccessScope, TraceViewer};
use crate::error::{Error, Result};
use crate::extract::ApiQuery;
use crate::state::AppState;
use crate::traces::{self, may_see_service};
use crate::upstream::jaeger::TraceQuery;

/// Traces per search when none is asked for.
pub const DEFAULT_LIMIT: usize = 20;
/// Most traces per search.
pub const MAX_LIMIT: usize = 500;
/// Default search range: the last hour.
const DEFAULT_RANGE_S: f64 = 3600.0;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(traces_search))
        .routes(routes!(traces_services))
        .routes(routes!(traces_get))
}

fn check_service(scope: &AccessScope, service: &str) -> Result<()> {
    if may_see_service(scope, service) {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "{} may not see traces of {service:?}: its namespace is not one of theirs",
            scope.user
        )))
    }
}

/// The services with traces that the caller may see, and the operations of
/// `service` when one is given.
#[utoipa::path(
    get,
    path = "/traces/services",
    tag = "traces",
    params(TraceServicesQuery),
    responses(
        (status = 200, description = "Services and operations", body = TraceServices),
        (status = 400, description = "A parameter is malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "The caller may not see traces, or not this service", body = ErrorBody),
        (status = 503, description = "Jaeger is not configured or does not answer", body = ErrorBody),
    ),
)]
async fn traces_services(
    State(state): State<AppState>,
    scope: TraceViewer,
    ApiQuery(params): ApiQuery<TraceServicesQuery>,
) -> Result<Json<TraceServices>> {
    if let Some(service) = params.service.as_deref().filter(|s| !s.is_empty()) {
        check_service(&scope, service)?;
    }
    let jaeger = state.jaeger()?.clone();
    let services: Vec<String> = jaeger
        .services()
        .await?
        .into_iter()
        .filter(|s| may_see_service(&scope, s))
        .collect();
    let operations = match params.service.filter(|s| !s.is_empty()) {
        Some(service) => jaeger.operations(&service).await?,
        None => Vec::new(),
    };
    Ok(Json(TraceServices {
        services,
        operations,
    }))
}

/// How far past now a search may end (clocks differ a little).
const MAX_FUTURE_S: f64 = 3600.0;

/// Turns search parameters into a Jaeger query, or a 400 saying what is
/// wrong; a range longer than `max_range_s` is one of those.
pub fn parse_search(params: &TraceSearchQuery, now: f64, max_range_s: f64) -> Result<TraceQuery> {
    let service = params
        .service
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::BadRequest("a service is required to search traces".into()))?;
    let duration = |name: &str, value: &Option<TimeSpan>| -> Result<Option<i64>> {
        match value {
            None => Ok(None),
            Some(v) => traces::duration_us(v).map(Some).ok_or_else(|| {
                Error::BadRequest(format!(
                    "{name} {:?} is not a duration like 100ms, 1.5s or 2m",
                    v.text()
                ))
            }),
        }
    };
    let min_duration_us = duration("minDuration", &params.min_duration)?;
    let max_duration_us = duration("maxDuration", &params.max_duration)?;
    if let (Some(min), Some(max)) = (min_duration_us, max_duration_us)
        && max < min
    {
        return Err(Error::BadRequest(
            "maxDuration must not be below minDuration".into(),
        ));
    }
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(Error::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}, not {limit}"
        )));
    }
    let (start, end) = match (params.start, params.end) {
        (Some(s), Some(e)) if s.is_finite() && e.is_finite() && e > s && s >= 0.0 => (s, e),
        (Some(_), Some(_)) => {
            return Err(Error::BadRequest(
                "end must be after start (Unix seconds)".into(),
            ));
        }
        (None, None) => {
            let range = params
                .range
                .as_ref()
                .map_or(DEFAULT_RANGE_S, TimeSpan::seconds);
            (now - range, now)
        }
        _ => {
            return Err(Error::BadRequest(
                "give both start and end, or neither".into(),
            ));
        }
    };
    if end - start > max_range_s {
        return Err(Error::BadRequest(format!(
            "the search covers {:.0} s; the longest allowed is {max_range_s:.0} s: search a shorter range",
            end - start
        )));
    }
    if end > now + MAX_FUTURE_S {
        return Err(Error::BadRequest(format!(
            "end ({end}) is more than an hour in the future (Unix seconds)"
        )));
    }
    let mut tags = Vec::new();
    for pair in params.tags.as_deref().unwrap_or("").split_whitespace() {
        let (k, v) = pair
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| Error::BadRequest(format!("tag {pair:?} is not key=value")))?;
        tags.push((k.to_owned(), v.to_owned()));
    }
    Ok(TraceQuery {
        service,
        operation: params.operation.clone().filter(|o| !o.is_empty()),
        tags,
        min_duration_us,
        max_duration_us,
        start_us: (start * 1e6) as i64,
        end_us: (end * 1e6) as i64,
        limit,
    })
}

/// Traces of `service` (with `operation`, `tags`, durations) over `range`
/// (or `start`/`end`), newest first, at most `limit`.
#[utoipa::path(
    get,
    path = "/traces",
    tag = "traces",
    params(TraceSearchQuery),
    responses(
        (status = 200, description = "The traces found, newest first", body = TraceSearch),
        (status = 400, description = "A parameter is missing or malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "The caller may not see traces, or not this service", body = ErrorBody),
        (status = 422, description = "Jaeger's answer was too large to read", body = ErrorBody),
        (status = 503, description = "Jaeger is not configured or does not answer", body = ErrorBody),
    ),
)]
async fn traces_search(
    State(state): State<AppState>,
    scope: TraceViewer,
    ApiQuery(params): ApiQuery<TraceSearchQuery>,
) -> Result<Json<TraceSearch>> {
    if let Some(service) = params.service.as_deref().filter(|s| !s.is_empty()) {
        check_service(&scope, service)?;
    }
    let query = parse_search(&params, state.now_s(), state.metrics_limits().max_range_s)?;
    let jaeger = state.jaeger()?.clone();
    let mut found: Vec<_> = jaeger
        .search(&query)
        .await?
        .iter()
        .map(traces::summary)
        .collect();
    found.sort_by_key(|t| std::cmp::Reverse(t.start_us));
    found.truncate(query.limit);
    Ok(Json(TraceSearch {
        traces: found,
        limit: query.limit,
    }))
}

/// One trace's spans for the waterfall, without the spans of services the
/// caller may not see.
#[utoipa::path(
    get,
    path = "/traces/{id}",
    tag = "traces",
    params(("id" = String, Path, description = "Trace id: 16 or 32 hex digits")),
    responses(
        (status = 200, description = "The trace", body = TraceDetail),
        (status = 400, description = "Not a trace id", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "The caller may not see traces", body = ErrorBody),
        (status = 404, description = "No such trace among the services the caller may see", body = ErrorBody),
        (status = 422, description = "Jaeger's answer was too large to read", body = ErrorBody),
        (status = 503, description = "Jaeger is not configured or does not answer", body = ErrorBody),
    ),
)]
async fn traces_get(
    State(state): State<AppState>,
    scope: TraceViewer,
    Path(id): Path<String>,
) -> Result<Json<TraceDetail>> {
    check_trace_id(&id)?;
    let jaeger = state.jaeger()?.clone();
    let trace = jaeger.trace(&id).await?;
    // A trace none of whose services the caller may see is, for them, not there.
    match trace.filter(|t| t.spans.iter().any(|s| may_see_service(&scope, &s.service))) {
        Some(trace) => Ok(Json(traces::detail(&trace, &scope))),
        None => Err(Error::NotFound(format!(
            "no trace {id} among the services you may see"
        ))),
    }
}

/// 400 unless `id` is a trace id: 16 or 32 hex digits (64 or 128 bits),
/// not all zeros (which W3C and Jaeger treat as no trace at all).
pub fn check_trace_id(id: &str) -> Result<()> {
    let hex = id.chars().all(|c| c.is_ascii_hexdigit());
    if !matches!(id.len(), 16 | 32) || !hex {
        return Err(Error::BadRequest(format!(
            "{:?} is not a trace id: 16 or 32 hex digits",
            id.chars().take(80).collect::<String>()
        )));
    }
    if id.chars().all(|c| c == '0') {
        return Err(Error::BadRequest(
            "a trace id of zeros names no trace".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids_are_16_or_32_hex_digits() {
        assert!(check_trace_id("0123456789abcdef").is_ok());
        assert!(check_trace_id(&"aB".repeat(16)).is_ok());
        for bad in [
            "",
            "abc",
            &"0".repeat(32),
            &"a".repeat(64),
            "0123456789abcdeg",
            &"a".repeat(24),
        ] {
            assert_eq!(
                check_trace_id(bad).unwrap_err().code().http_status(),
                400,
                "{bad}"
            );
        }
    }

    fn params(service: &str) -> TraceSearchQuery {
        TraceSearchQuery {
            service: Some(service.into()),
            ..TraceSearchQuery::default()
        }
    }

    #[test]
    fn search_parameters_are_checked() {
        let q = parse_search(
            &TraceSearchQuery {
                tags: Some("error=true http.status_code=503".into()),
                min_duration: TimeSpan::parse("100ms"),
                limit: Some(50),
                ..params("reviews.bookinfo")
            },
            10_000.0,
            30.0 * 86_400.0,
        )
        .unwrap();
        assert_eq!(
            q.tags,
            [
                ("error".into(), "true".into()),
                ("http.status_code".into(), "503".into())
            ]
        );
        assert_eq!(q.min_duration_us, Some(100_000));
        assert_eq!(
            (q.start_us, q.end_us, q.limit),
            (6_400_000_000, 10_000_000_000, 50)
        );

        let bad = [
            TraceSearchQuery::default(),
            TraceSearchQuery {
                limit: Some(501),
                ..params("a.b")
            },
            TraceSearchQuery {
                limit: Some(0),
                ..params("a.b")
            },
            TraceSearchQuery {
                tags: Some("=x".into()),
                ..params("a.b")
            },
            TraceSearchQuery {
                min_duration: TimeSpan::parse("2s"),
                max_duration: TimeSpan::parse("1s"),
                ..params("a.b")
            },
            TraceSearchQuery {
                start: Some(10.0),
                ..params("a.b")
            },
            // Longer than the limit, or ending far in the future.
            TraceSearchQuery {
                range: TimeSpan::parse_range("10000w"),
                ..params("a.b")
            },
            TraceSearchQuery {
                start: Some(1.0),
                end: Some(1e15),
                ..params("a.b")
            },
        ];
        for p in bad {
            let err = parse_search(&p, 10_000.0, 30.0 * 86_400.0).unwrap_err();
            assert_eq!(err.code().http_status(), 400, "{p:?}");
        }
    }
}
