//! `GET /api/graph` (the traffic graph) and `GET /api/graph/node` (one
//! node's inbound and outbound traffic).

use app::types::{Graph, GraphNodeDetail};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::access::AccessScope;
use crate::error::Result;
use crate::extract::ApiQuery;
use crate::graph::{self, GraphParams};
use crate::state::AppState;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/graph", get(graph_get))
        .route("/graph/node", get(graph_node_get))
}

/// The graph of `namespaces` by `type` over `window` at `queryTime`.
#[tracing::instrument(name = "graph", skip_all)]
async fn graph_get(
    State(state): State<AppState>,
    scope: AccessScope,
    ApiQuery(params): ApiQuery<GraphParams>,
) -> Result<Json<Graph>> {
    graph::graph(&state, &scope, &params, meshdeck_sim::live::now_s())
        .await
        .map(Json)
}

/// One node (`node`, an id of the graph with the same parameters).
#[tracing::instrument(name = "graph.node", skip_all)]
async fn graph_node_get(
    State(state): State<AppState>,
    scope: AccessScope,
    ApiQuery(params): ApiQuery<GraphParams>,
) -> Result<Json<GraphNodeDetail>> {
    graph::node_detail(&state, &scope, &params, meshdeck_sim::live::now_s())
        .await
        .map(Json)
}
