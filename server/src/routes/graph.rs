//! `GET /api/graph` (the traffic graph) and `GET /api/graph/node` (one
//! node's inbound and outbound traffic).

use app::types::{ErrorBody, Graph, GraphNodeDetail};
use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::GraphViewer;
use crate::error::Result;
use crate::extract::ApiQuery;
use app::types::GraphQuery;

use crate::graph;
use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(graph_get))
        .routes(routes!(graph_node_get))
}

/// The graph of `namespaces` by `type` over `window` at `queryTime`.
#[utoipa::path(
    get,
    path = "/graph",
    tag = "graph",
    params(GraphQuery),
    responses(
        (status = 200, description = "Nodes and edges with their traffic", body = Graph),
        (status = 400, description = "A parameter is missing or malformed, or the graph is over its size limits", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "The caller may not see the graph or one of the namespaces", body = ErrorBody),
        (status = 503, description = "Prometheus or the Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
#[tracing::instrument(name = "graph", skip_all)]
async fn graph_get(
    State(state): State<AppState>,
    scope: GraphViewer,
    ApiQuery(params): ApiQuery<GraphQuery>,
) -> Result<Json<Graph>> {
    graph::traffic_graph(&state, &scope, &params, state.now_s())
        .await
        .map(Json)
}

/// One node (`node`, an id of the graph with the same parameters).
#[utoipa::path(
    get,
    path = "/graph/node",
    tag = "graph",
    params(GraphQuery),
    responses(
        (status = 200, description = "The node's inbound and outbound traffic", body = GraphNodeDetail),
        (status = 400, description = "A parameter is missing or malformed", body = ErrorBody),
        (status = 401, description = "No token, or one the cluster rejected", body = ErrorBody),
        (status = 403, description = "The caller may not see the graph or one of the namespaces", body = ErrorBody),
        (status = 404, description = "No such node in the graph", body = ErrorBody),
        (status = 503, description = "Prometheus or the Kubernetes API is not configured or does not answer", body = ErrorBody),
    ),
)]
#[tracing::instrument(name = "graph.node", skip_all)]
async fn graph_node_get(
    State(state): State<AppState>,
    scope: GraphViewer,
    ApiQuery(params): ApiQuery<GraphQuery>,
) -> Result<Json<GraphNodeDetail>> {
    graph::node_detail(&state, &scope, &params, state.now_s())
        .await
        .map(Json)
}
