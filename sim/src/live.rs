//! The simulator as an HTTP service: `/metrics` for Prometheus to scrape,
//! advancing the counters to the moment of each scrape, and the traffic
//! management of an in-memory cluster put in force as it is committed.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::task::JoinHandle;

use crate::kube::InMemoryCluster;
use crate::metrics::Simulator;
use crate::shaping::{self, Config, Plan, Schedule};

/// Content type of Prometheus' text exposition format.
pub const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A source of Unix time in seconds.
pub type Clock = Arc<dyn Fn() -> f64 + Send + Sync>;

/// Live metrics shared between scrapes.
#[derive(Clone)]
pub struct LiveMetrics {
    sim: Arc<Mutex<Simulator>>,
    clock: Clock,
}

impl LiveMetrics {
    /// Serves `sim`, which continues from wherever it was advanced to,
    /// following the wall clock.
    pub fn new(sim: Simulator) -> Self {
        Self::with_clock(sim, Arc::new(now_s))
    }

    /// Serves `sim` following `clock` (tests drive time themselves).
    pub fn with_clock(sim: Simulator, clock: Clock) -> Self {
        LiveMetrics {
            sim: Arc::new(Mutex::new(sim)),
            clock,
        }
    }

    /// The counters at Unix time `t` (seconds) in text format.
    pub fn render_at(&self, t: f64) -> Option<String> {
        let mut sim = self.sim.lock().ok()?;
        sim.advance_to(t);
        Some(sim.render_text())
    }

    /// The counters now, by the clock.
    pub fn render(&self) -> Option<String> {
        self.render_at((self.clock)())
    }

    /// Puts `config` in force now: the counters are advanced to now under
    /// the previous configuration first. Returns when and the plan.
    pub fn apply(&self, config: &Config) -> Option<(f64, Arc<Plan>)> {
        // Compiling takes a while on big meshes: scrapes go on meanwhile.
        let mesh = self.sim.lock().ok()?.mesh().clone();
        let plan = Arc::new(Plan::compile(&mesh, config));
        let mut sim = self.sim.lock().ok()?;
        let now = (self.clock)().max(sim.time());
        sim.advance_to(now);
        sim.apply_plan(plan.clone());
        Some((now, plan))
    }

    /// Follows the traffic management of `cluster` (see [`shaping::follow`]):
    /// every committed change is in force from the moment it arrives, and
    /// goes into `schedule` for what is generated later (traces).
    pub fn follow(&self, cluster: InMemoryCluster, schedule: Option<Schedule>) -> JoinHandle<()> {
        let live = self.clone();
        shaping::follow(cluster, move |config| {
            if let Some((at, plan)) = live.apply(&config)
                && let Some(schedule) = &schedule
            {
                schedule.push(at, plan);
            }
        })
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
    match metrics.render() {
        Some(mut text) => {
            // istiod, scraped too: its configuration pushes (one every
            // 10 s), which is what meshdeck's telemetry check looks for.
            let pushes = (now_s() / 10.0).floor();
            text.push_str(&format!(
                "# TYPE pilot_xds_pushes counter\npilot_xds_pushes{{type=\"cds\"}} {pushes}\n"
            ));
            ([(header::CONTENT_TYPE, TEXT_FORMAT)], text).into_response()
        }
        None => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "simulator state poisoned",
        )
            .into_response(),
    }
}
