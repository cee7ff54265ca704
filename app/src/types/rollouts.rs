//! Progressive delivery: canary rollouts judged on the mesh's own metrics.

use serde::{Deserialize, Serialize};

use super::metrics::Chart;

/// How a canary is judged after each interval (Flagger's and Argo
/// Rollouts' analysis model).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RolloutAnalysis {
    /// Lowest share of the canary's requests answered without a 5xx, in
    /// percent.
    pub min_success_pct: f64,
    /// Highest p99 request duration of the canary, in milliseconds.
    #[serde(default)]
    pub max_p99_ms: Option<f64>,
    /// Highest p99 of the canary relative to the stable version's over the
    /// same interval (`1.2`: at most 20 % slower).
    #[serde(default)]
    pub max_p99_ratio: Option<f64>,
    /// Fewest canary requests in an interval to judge it; below, the step
    /// waits instead.
    pub min_requests: u64,
    /// Failed checks in a row that roll the canary back.
    pub failure_limit: u32,
}

/// A canary rollout of one service: the canary version's weight goes
/// through `steps`, one per `interval_s` while the analysis passes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RolloutSpec {
    /// The version serving now.
    pub stable: String,
    /// The new version.
    pub canary: String,
    /// The canary's weights in percent, increasing (e.g. 5, 10, 25, 50,
    /// 100); after the last one passes, the canary is promoted.
    pub steps: Vec<i64>,
    /// Seconds between judgements.
    pub interval_s: u32,
    /// The checks.
    pub analysis: RolloutAnalysis,
}

/// One version's numbers over an interval; `None` where Prometheus gave no
/// answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionMeasurement {
    /// Requests received in the interval.
    pub requests: Option<f64>,
    /// Share answered without a 5xx, in percent (`None` without requests).
    pub success_pct: Option<f64>,
    /// p99 request duration in milliseconds (`None` without requests).
    pub p99_ms: Option<f64>,
}

/// What the analysis measured for one interval.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntervalMeasurement {
    /// The canary.
    pub canary: VersionMeasurement,
    /// The stable version.
    pub stable: VersionMeasurement,
    /// Prometheus could not be asked (down, timed out, an error), and why.
    #[serde(default)]
    pub unavailable: Option<String>,
}

/// Where a rollout stands between judgements.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolloutProgress {
    /// Index into `steps` of the weight in force.
    pub step: usize,
    /// Failed judgements in a row.
    pub failures: u32,
    /// The next judgement advances without analysis (asked for once).
    #[serde(default)]
    pub skip_analysis: bool,
}

/// What a judgement decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RolloutAction {
    /// The checks passed: on to the next step's weight.
    Advance,
    /// The last step passed: the canary takes all traffic.
    Promote,
    /// Too little traffic to judge: the step waits.
    Wait,
    /// A check failed, fewer times in a row than the limit: the step is
    /// judged again after the next interval.
    Hold,
    /// The checks failed the given number of times in a row: the canary
    /// goes back to 0 %.
    RollBack,
    /// Data is missing (Prometheus down or silent): nothing moves until it
    /// is back.
    Pause,
}

/// One check of a judgement, with the numbers behind it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolloutCheck {
    /// `success rate`, `p99`, `p99 vs stable`.
    pub name: String,
    /// What was measured (`None`: not measured).
    pub observed: Option<f64>,
    /// The limit it was held to.
    pub limit: f64,
    /// Whether it held.
    pub passed: bool,
}

/// A judgement: the action, why, the checks, and the weight now in force.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolloutDecision {
    /// What was decided.
    pub action: RolloutAction,
    /// Why, in words.
    pub reason: String,
    /// The checks made (none when waiting, pausing or skipping analysis).
    pub checks: Vec<RolloutCheck>,
    /// The canary's weight after the decision.
    pub canary_weight: i64,
}

impl RolloutSpec {
    /// The spec the start form opens with, as the UI states it: 10, 25,
    /// 50 and 100 % a minute apart; at least 99 % success; p99 at most
    /// 1.5× the stable version's; 20 canary requests a minute to judge;
    /// two failed judgements in a row roll back.
    pub fn with_defaults(stable: &str, canary: &str) -> Self {
        RolloutSpec {
            stable: stable.to_owned(),
            canary: canary.to_owned(),
            steps: vec![10, 25, 50, 100],
            interval_s: 60,
            analysis: RolloutAnalysis {
                min_success_pct: 99.0,
                max_p99_ms: None,
                max_p99_ratio: Some(1.5),
                min_requests: 20,
                failure_limit: 2,
            },
        }
    }
}

/// `POST /api/rollouts`: start a canary rollout of one service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RolloutStart {
    /// The service's namespace.
    pub namespace: String,
    /// The service.
    pub service: String,
    /// Versions, steps, interval and analysis.
    pub spec: RolloutSpec,
}

/// Where a rollout is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RolloutPhase {
    /// Judged after every interval.
    Running,
    /// Stopped by a person or by a conflicting edit; nothing moves until
    /// it is resumed.
    Paused,
    /// Done: the canary takes all traffic.
    Promoted,
    /// Done: the analysis failed and the canary is back at 0 %.
    RolledBack,
    /// Done: a person sent the canary back to 0 %.
    Aborted,
}

impl RolloutPhase {
    /// Whether the rollout is over.
    pub fn is_done(self) -> bool {
        matches!(
            self,
            RolloutPhase::Promoted | RolloutPhase::RolledBack | RolloutPhase::Aborted
        )
    }

    /// Its name as shown.
    pub fn label(self) -> &'static str {
        match self {
            RolloutPhase::Running => "running",
            RolloutPhase::Paused => "paused",
            RolloutPhase::Promoted => "promoted",
            RolloutPhase::RolledBack => "rolled back",
            RolloutPhase::Aborted => "aborted",
        }
    }
}

/// What a person did to a rollout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RolloutControl {
    /// Started it.
    Start,
    /// Stopped the judgements.
    Pause,
    /// Started them again.
    Resume,
    /// Sent the canary back to 0 % and ended the rollout.
    Abort,
    /// Gave the canary all traffic and ended the rollout.
    Promote,
    /// Advanced one step without analysis.
    Skip,
}

impl RolloutControl {
    /// The path segment of `POST /api/rollouts/{ns}/{service}/{action}`.
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutControl::Start => "start",
            RolloutControl::Pause => "pause",
            RolloutControl::Resume => "resume",
            RolloutControl::Abort => "abort",
            RolloutControl::Promote => "promote",
            RolloutControl::Skip => "skip",
        }
    }

    /// The action named by a path segment (not `start`).
    pub fn parse(s: &str) -> Option<Self> {
        [
            RolloutControl::Pause,
            RolloutControl::Resume,
            RolloutControl::Abort,
            RolloutControl::Promote,
            RolloutControl::Skip,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// One entry of a rollout's timeline: a judgement of the controller (with
/// what Prometheus answered) or an action of a person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolloutEvent {
    /// When (Unix seconds); a judgement's queries were evaluated at this
    /// instant.
    pub at: f64,
    /// The person, for their actions; `None` for the controller.
    #[serde(default)]
    pub by: Option<String>,
    /// The person's action.
    #[serde(default)]
    pub control: Option<RolloutControl>,
    /// The controller's judgement.
    #[serde(default)]
    pub decision: Option<RolloutDecision>,
    /// What the analysis queries answered at `at` (judgements only).
    #[serde(default)]
    pub measured: Option<IntervalMeasurement>,
    /// The step in force after the event.
    pub step: usize,
    /// The canary's weight after the event.
    pub canary_weight: i64,
    /// What happened, in words.
    pub message: String,
}

/// The PromQL of a rollout's judgements (evaluated at each judgement's
/// time; `[I]` is the interval).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolloutQueries {
    /// Requests per version over the interval.
    pub requests: String,
    /// Share of failed answers per version (0 to 1).
    pub error_share: String,
    /// p99 duration per version (ms).
    pub p99: String,
}

/// A canary rollout, as kept in the cluster and shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rollout {
    /// The service's namespace.
    pub namespace: String,
    /// The service.
    pub service: String,
    /// What was asked.
    pub spec: RolloutSpec,
    /// Where it is.
    pub phase: RolloutPhase,
    /// Step and failures in a row.
    pub progress: RolloutProgress,
    /// The canary's weight in force.
    pub canary_weight: i64,
    /// Who started it (Kubernetes user name).
    pub started_by: String,
    /// When (Unix seconds).
    pub started_at: f64,
    /// When it last changed (Unix seconds).
    pub updated_at: f64,
    /// When the controller judges next (running rollouts only).
    #[serde(default)]
    pub next_judgement_at: Option<f64>,
    /// What is happening now and why, in one line.
    pub status: String,
    /// The analysis' PromQL.
    pub queries: RolloutQueries,
    /// The timeline, oldest first (the latest [`crate::types::MAX_ROLLOUT_EVENTS`]).
    pub events: Vec<RolloutEvent>,
    /// Whether the caller may pause, resume, abort, skip and promote it
    /// (Kubernetes RBAC on the writes those make).
    #[serde(default)]
    pub may_control: bool,
    /// Why not, where they may not.
    #[serde(default)]
    pub control_problem: Option<String>,
}

/// Most timeline entries a rollout keeps (the oldest go first).
pub const MAX_ROLLOUT_EVENTS: usize = 200;

/// `GET /api/rollouts`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolloutList {
    /// Newest first.
    pub rollouts: Vec<Rollout>,
    /// Ready-made rollouts (demo mode: a healthy canary and a failing one).
    #[serde(default)]
    pub scenarios: Vec<RolloutScenario>,
}

/// A ready-made rollout the UI offers to start in one click.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolloutScenario {
    /// Short title.
    pub title: String,
    /// What to expect.
    pub description: String,
    /// The request it sends.
    pub start: RolloutStart,
}

/// `GET /api/rollouts/{ns}/{service}/charts`: canary and stable success
/// rate, request volume and p99 over the rollout, one series per version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolloutCharts {
    /// Success rate (a share, 0 to 1), request volume (requests per
    /// second), request duration (p99, ms), in that order.
    pub charts: Vec<Chart>,
    /// First point (Unix seconds).
    pub start: f64,
    /// Last point (Unix seconds).
    pub end: f64,
    /// Step boundaries: when the canary's weight changed, and to what.
    pub marks: Vec<(f64, i64)>,
}
