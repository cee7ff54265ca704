//! `GET /api/openapi.json`: the OpenAPI 3.1 document of this API.
//!
//! It is not written by hand: every route is registered through
//! `utoipa_axum::routes!`, which takes each handler's `#[utoipa::path]`
//! (method, path, parameters, body, answers) and mounts the handler, so the
//! router and the document come from one list. Bodies are the wire types of
//! `app::types` (their `ToSchema` follows their serde attributes), and every
//! error answer is [`ErrorBody`]. `tests/openapi.rs` checks the two ways of
//! drift a list cannot rule out: a route mounted some other way, and a
//! documented path the router does not answer.

use app::types::ErrorBody;
use axum::response::{IntoResponse, Response};
use http::header;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{self, OpenApi};
use utoipa::{Modify, OpenApi as _};

/// The document's fixed parts; the paths come from the routes.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "meshdeck API",
        description = "The REST/JSON API of meshdeck, an operations console for Istio service meshes. Everything the browser does goes through it. Callers sign in with a Kubernetes bearer token (or, behind an auth proxy, with the proxy's identity headers); writes are made with the caller's own credentials, so Kubernetes RBAC decides. Every error is `{\"error\": {\"code\", \"message\"}}` with an honest status: 400 malformed input, 401 no or rejected credentials, 403 not allowed, 404 no such thing, 405 wrong method, 409 changed underneath or owned by another field manager, 422 well-formed but invalid, 500 a bug, 503 an upstream (Kubernetes, Prometheus, Jaeger) missing or not answering.",
        license(name = "Apache-2.0"),
    ),
    tags(
        (name = "status", description = "Health, readiness and how the console is wired"),
        (name = "identity", description = "Who the caller is and what they may see"),
        (name = "graph", description = "The traffic graph"),
        (name = "metrics", description = "The five traffic charts"),
        (name = "traces", description = "Trace search and one trace's spans"),
        (name = "console", description = "The PromQL console (owners)"),
        (name = "dashboards", description = "Built-in dashboards (owners)"),
        (name = "enablement", description = "Switching the mesh and sidecar injection on and off"),
        (name = "settings", description = "The mesh settings (owners)"),
        (name = "istio", description = "Istio configuration and its validations"),
        (name = "wizards", description = "Traffic-management wizards of one service"),
        (name = "rollouts", description = "Canary rollouts driven by the mesh's metrics"),
        (name = "api", description = "This document"),
    ),
    // Types only query strings use (bodies bring their own schemas).
    components(schemas(ErrorBody, app::types::Aggregate, app::types::TimeSpan)),
    modifiers(&Common),
)]
struct ApiDoc;

/// What every operation shares: the bearer scheme, and the 500 any handler
/// can answer (a bug; the body says nothing more).
struct Common;

impl Modify for Common {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A Kubernetes bearer token, checked with a TokenReview",
                    ))
                    .build(),
            ),
        );
    }
}

/// The base document the routes are added to.
pub(crate) fn base() -> OpenApi {
    ApiDoc::openapi()
}

/// Adds to every operation of `doc` the answers every handler can give: a
/// 500 (a bug) and, where the operation needs a caller, the bearer scheme.
pub(crate) fn finish(doc: &mut OpenApi) {
    let internal = openapi::ResponseBuilder::new()
        .description("A bug or an unexpected state; the message is generic and the cause is logged")
        .content(
            "application/json",
            openapi::ContentBuilder::new()
                .schema(Some(openapi::Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build();
    for item in doc.paths.paths.values_mut() {
        for operation in operations(item) {
            operation
                .responses
                .responses
                .entry("500".into())
                .or_insert_with(|| internal.clone().into());
            let signed_in = operation.responses.responses.contains_key("401");
            if signed_in && operation.security.is_none() {
                operation.security = Some(vec![openapi::security::SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                )]);
            }
        }
    }
}

/// The operations of one path.
pub(crate) fn operations(
    item: &mut openapi::PathItem,
) -> impl Iterator<Item = &mut openapi::path::Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// The document as JSON, built once with the router (it is the same for
/// every caller).
pub fn document() -> &'static [u8] {
    &super::built().1
}

/// The OpenAPI 3.1 document of this API (public, like `/api/status`: it
/// holds no names of anything in the cluster).
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "api",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object),
    ),
)]
pub(crate) async fn openapi_json() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document()).into_response()
}
