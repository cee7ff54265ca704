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
pub mod openapi;
mod prometheus;
mod rollouts;
mod services;
mod settings;
mod status;
mod traces;

use std::sync::OnceLock;

use axum::Router;
use axum::extract::OriginalUri;
use http::Method;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Error;
use crate::state::AppState;

/// Every API route, relative to `/api`. Registering them also builds the
/// OpenAPI document (a few hundred KiB of structures), so it is done once
/// per process and the router cloned (tests build a router per request).
pub fn api_router() -> Router<AppState> {
    built().0.clone()
}

/// The router and the document as JSON, built together once.
pub(crate) fn built() -> &'static (Router<AppState>, Vec<u8>) {
    static BUILT: OnceLock<(Router<AppState>, Vec<u8>)> = OnceLock::new();
    BUILT.get_or_init(|| {
        let (router, doc) = api_parts();
        let json = serde_json::to_vec(&doc).unwrap_or_else(|_| b"{}".to_vec());
        (router, json)
    })
}

/// The API's routes (relative to `/api`) and their OpenAPI document (with
/// the `/api` prefix), from one registration.
fn api_parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, relative) = OpenApiRouter::new()
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
        .routes(routes!(openapi::openapi_json))
        .split_for_parts();
    let mut doc = openapi::base().nest("/api", relative);
    openapi::finish(&mut doc);
    let router = router
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(api_not_found);
    (router, doc)
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
