//! meshdeck's server: the REST/JSON API under `/api`, the built UI for
//! everything else, and the clients for Kubernetes, Prometheus and Jaeger.

pub mod access;
pub mod auth;
pub mod cache;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod console;
pub mod dashboards;
#[cfg(feature = "demo")]
pub mod demo;
pub mod enablement;
pub mod error;
pub mod extract;
pub mod grafana;
pub mod graph;
pub mod istio;
pub mod metrics;
pub mod otlp;
pub mod promql;
pub mod rollouts;
pub mod routes;
pub mod run;
pub mod selfmetrics;
pub mod serve;
pub mod spa;
pub mod spans;
pub mod state;
pub mod telemetry_check;
pub mod traces;
pub mod upstream;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderName, HeaderValue, header};
use tower_http::CompressionLevel;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use crate::error::{Error, Result};
pub use crate::state::AppState;

/// The whole HTTP surface: API, UI, and the layers every response passes
/// through (request spans, see [`spans`]; panic safety net; security
/// headers). API answers are gzip'ed, at the fastest level, for clients
/// that accept it (a 5,000-node graph's 3.9 MiB of JSON becomes about half
/// a MiB); the UI's files are sent precompressed by [`spa`].
pub fn router(state: AppState) -> Router {
    let csp = state.spa().csp().clone();
    Router::new()
        .nest(
            "/api",
            routes::api_router().layer(CompressionLayer::new().quality(CompressionLevel::Fastest)),
        )
        .fallback(spa_fallback)
        .layer(axum::middleware::from_fn(selfmetrics::track))
        .with_state(state)
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(spans::RequestSpan)
                .on_response(spans::RecordStatus),
        )
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, csp))
        .layer(header_layer(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(header_layer(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(header_layer(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
}

fn header_layer(name: HeaderName, value: HeaderValue) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, value)
}

/// Everything outside the API routes: the UI, except `/api` itself and
/// paths under it the nested router does not reach, which get the API's
/// JSON 404 like any other unknown API path.
async fn spa_fallback(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        return Error::NotFound(format!("no such API path: {path}")).into_response();
    }
    state.spa().serve(request).await
}

/// A panic in a handler is a bug: log it, answer with the JSON 500.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    Error::internal(format!("handler panicked: {message}")).into_response()
}
