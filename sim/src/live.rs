//! The simulator as an HTTP service: `/metrics` for Prometheus to scrape,
//! advancing the counters to the moment of each scrape.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::metrics::Simulator;

/// Content type of Prometheus' text exposition format.
pub const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Live metrics shared between scrapes.
#[derive(Clone)]
pub struct LiveMetrics {
    sim: Arc<Mutex<Simulator>>,
}

impl LiveMetrics {
    /// Serves `sim`, which continues from wherever it was advanced to.
    pub fn new(sim: Simulator) -> Self {
        LiveMetrics {
            sim: Arc::new(Mutex::new(sim)),
        }
    }

    /// The counters at Unix time `t` (seconds) in text format.
    pub fn render_at(&self, t: f64) -> Option<String> {
        let mut sim = self.sim.lock().ok()?;
        sim.advance_to(t);
        Some(sim.render_text())
    }
}

/// Seconds since the Unix epoch, now.
pub fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `GET /metrics`.
pub fn router(metrics: LiveMetrics) -> Router {
    Router::new()
        .route("/metrics", get(metrics_get))
        .with_state(metrics)
}

async fn metrics_get(State(metrics): State<LiveMetrics>) -> Response {
    match metrics.render_at(now_s()) {
        Some(text) => ([(header::CONTENT_TYPE, TEXT_FORMAT)], text).into_response(),
        None => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "simulator state poisoned",
        )
            .into_response(),
    }
}
