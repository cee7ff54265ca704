//! The REST/JSON API under `/api`: one module per resource, merged here.
//! Unknown paths and wrong methods answer with the same JSON error body as
//! everything else.

mod dashboards;
mod graph;
mod health;
mod istio;
mod me;
mod mesh;
mod metrics;
pub(crate) mod namespaces;
mod prometheus;
mod rollouts;
mod services;
mod settings;
mod status;
mod traces;

use axum::Router;
use axum::extract::OriginalUri;
use http::Method;

use crate::error::Error;
use crate::state::AppState;

/// Every API route, relative to `/api`.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .merge(graph::router())
        .merge(health::router())
        .merge(metrics::router())
        .merge(prometheus::router())
        .merge(dashboards::router())
        .merge(me::router())
        .merge(status::router())
        .merge(traces::router())
        .merge(namespaces::router())
        .merge(settings::router())
        .merge(mesh::router())
        .merge(istio::router())
        .merge(services::router())
        .merge(rollouts::router())
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(api_not_found)
}

async fn api_not_found(OriginalUri(uri): OriginalUri) -> Error {
    Error::NotFound(format!("no such API path: {}", uri.path()))
}

async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> Error {
    Error::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}
