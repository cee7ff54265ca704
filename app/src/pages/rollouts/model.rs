//! What the rollout pages show, as plain functions tested natively: a
//! rollout's settings in words, its steps and controls by phase, the
//! timeline's actions and checks, and the start form (what people type,
//! what the browser checks, the `RolloutStart` it becomes, and the fields
//! the server's 422 names).

use crate::charts::Mark;
use crate::format;
use crate::types::{
    Chart, Rollout, RolloutAction, RolloutAnalysis, RolloutCheck, RolloutControl, RolloutEvent,
    RolloutPhase, RolloutProgress, RolloutSpec, RolloutStart, Series, Unit, VersionMeasurement,
};
use crate::wizards::form::FieldErrors;

/// Seconds between reloads of a rollout (and of the list) while one runs.
pub const POLL_S: u64 = 5;

/// The steps as shown: `20 → 50 → 100 %`.
pub fn steps_text(steps: &[i64]) -> String {
    if steps.is_empty() {
        return "none".to_owned();
    }
    let list: Vec<String> = steps.iter().map(i64::to_string).collect();
    format!("{} %", list.join(" → "))
}

/// A step size and a maximum (`every 10 up to 50`, `%` allowed): the
/// weights 10, 20, ... up to the maximum, which is the last step even
/// when it is not a multiple. `None` when `text` is not of that form.
fn step_size_and_maximum(text: &str) -> Option<Result<Vec<i64>, String>> {
    let lower = text.trim().to_lowercase();
    let rest = lower.strip_prefix("every ")?;
    let (size, max) = rest.split_once(" up to ")?;
    let number = |t: &str| t.trim().trim_end_matches('%').trim().parse::<i64>().ok();
    let (Some(size), Some(max)) = (number(size), number(max)) else {
        return Some(Err(format!(
            "{text:?}: write a step size and a maximum as whole numbers, e.g. every 10 up to 50"
        )));
    };
    if !(1..=100).contains(&size) || !(1..=100).contains(&max) || size > max {
        return Some(Err(format!(
            "every {size} up to {max}: the step size and the maximum are weights from 1 to 100, the step no larger than the maximum"
        )));
    }
    let mut steps: Vec<i64> = (1..).map(|i| i * size).take_while(|w| *w <= max).collect();
    if steps.last() != Some(&max) {
        steps.push(max);
    }
    Some(Ok(steps))
}

/// The steps field: a list (`10, 25, 50, 100`) of whole weights from 1 to
/// 100, each above the one before, or a step size and a maximum (`every
/// 10 up to 50`); the problem in words otherwise. Empty pieces (a
/// trailing comma) are ignored.
pub fn parse_steps(text: &str) -> Result<Vec<i64>, String> {
    if let Some(steps) = step_size_and_maximum(text) {
        return steps;
    }
    let mut steps: Vec<i64> = Vec::new();
    for piece in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let w: i64 = piece
            .trim_end_matches('%')
            .trim()
            .parse()
            .map_err(|_| format!("{piece:?} is not a whole number"))?;
        if !(1..=100).contains(&w) {
            return Err(format!("{w} is not a weight from 1 to 100"));
        }
        if let Some(prev) = steps.last()
            && w <= *prev
        {
            return Err(format!(
                "{w} does not increase on the weight before ({prev})"
            ));
        }
        steps.push(w);
    }
    if steps.is_empty() {
        return Err("add at least one weight, e.g. 10, 50, 100".to_owned());
    }
    Ok(steps)
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A percentage with up to two decimals (`91.67 %`, `99 %`): success
/// rates are judged against limits like 99.5 %, so one decimal is too few.
fn pct(v: f64) -> String {
    if !v.is_finite() {
        return "–".to_owned();
    }
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s} %")
}

/// A ratio limit: `1.5×`.
fn times(v: f64) -> String {
    if v.is_finite() {
        format!("{}×", format::number(v))
    } else {
        "∞×".to_owned()
    }
}

/// The analysis in words, e.g. `success rate ≥ 99 %, p99 ≤ 1.5× stable,
/// judged every 15 s when the canary has ≥ 20 requests, rolled back after
/// 2 failed judgements in a row`.
pub fn analysis_words(spec: &RolloutSpec) -> String {
    let a: &RolloutAnalysis = &spec.analysis;
    let mut parts = vec![format!("success rate ≥ {}", pct(a.min_success_pct))];
    if let Some(ms) = a.max_p99_ms {
        parts.push(format!("p99 ≤ {}", format::value(ms, Unit::Milliseconds)));
    }
    if let Some(r) = a.max_p99_ratio {
        parts.push(format!("p99 ≤ {} stable", times(r)));
    }
    let every = format!(
        "judged every {}",
        format::duration_words(f64::from(spec.interval_s))
    );
    parts.push(if a.min_requests > 0 {
        format!(
            "{every} when the canary has ≥ {}",
            plural(a.min_requests, "request", "requests")
        )
    } else {
        every
    });
    parts.push(if a.failure_limit == 1 {
        "rolled back after 1 failed judgement".to_owned()
    } else {
        format!(
            "rolled back after {} failed judgements in a row",
            a.failure_limit
        )
    });
    parts.join(", ")
}

/// The defaults the start form opens with, in words.
pub fn defaults_words() -> String {
    let spec = RolloutSpec::with_defaults("stable", "canary");
    format!(
        "Prefilled with the defaults: steps {}; {}.",
        steps_text(&spec.steps),
        analysis_words(&spec)
    )
}

/// The controls a rollout takes in `phase`, in the order shown: pause or
/// resume, skip analysis (running, once), promote, abort. None when done.
pub fn controls(phase: RolloutPhase, progress: &RolloutProgress) -> Vec<RolloutControl> {
    match phase {
        RolloutPhase::Running => {
            let mut c = vec![RolloutControl::Pause];
            if !progress.skip_analysis {
                c.push(RolloutControl::Skip);
            }
            c.extend([RolloutControl::Promote, RolloutControl::Abort]);
            c
        }
        RolloutPhase::Paused => vec![
            RolloutControl::Resume,
            RolloutControl::Promote,
            RolloutControl::Abort,
        ],
        RolloutPhase::Promoted | RolloutPhase::RolledBack | RolloutPhase::Aborted => Vec::new(),
    }
}

/// A control's button label.
pub fn control_label(c: RolloutControl) -> &'static str {
    match c {
        RolloutControl::Start => "Start",
        RolloutControl::Pause => "Pause",
        RolloutControl::Resume => "Resume",
        RolloutControl::Skip => "Skip analysis",
        RolloutControl::Promote => "Promote now",
        RolloutControl::Abort => "Abort",
    }
}

/// Whether a control throws the canary's progress away (shown in red).
pub fn control_is_drastic(c: RolloutControl) -> bool {
    c == RolloutControl::Abort
}

/// What the confirmation asks before a control: its title and what will
/// happen, with the rollout's own versions and weights.
pub fn control_question(c: RolloutControl, r: &Rollout) -> (String, String) {
    let canary = &r.spec.canary;
    let stable = &r.spec.stable;
    let service = &r.service;
    let next = r.spec.steps.get(r.progress.step + 1).copied();
    match c {
        RolloutControl::Pause => (
            format!("Pause the rollout of {service}?"),
            format!(
                "No judgement is made until you resume: the canary {canary} keeps {} % of the traffic.",
                r.canary_weight
            ),
        ),
        RolloutControl::Resume => (
            format!("Resume the rollout of {service}?"),
            format!(
                "The controller judges the canary {canary} again after each interval ({}), from {} %.",
                format::duration_words(f64::from(r.spec.interval_s)),
                r.canary_weight
            ),
        ),
        RolloutControl::Skip => (
            format!("Skip the analysis of the step at {} %?", r.canary_weight),
            match next {
                Some(w) => format!(
                    "The next judgement moves the canary {canary} on to {w} % without looking at its metrics."
                ),
                None => format!(
                    "This is the last step: the next judgement promotes the canary {canary} to all traffic without looking at its metrics."
                ),
            },
        ),
        RolloutControl::Promote => (
            format!("Promote {canary} now?"),
            format!(
                "The canary {canary} gets all traffic of {service} now and the rollout ends; the remaining steps and their analysis are skipped."
            ),
        ),
        RolloutControl::Abort => (
            format!("Abort the rollout of {service}?"),
            format!(
                "The canary {canary} goes back to 0 % and the rollout ends: the stable version {stable} takes all traffic."
            ),
        ),
        RolloutControl::Start => (
            format!("Start a rollout of {service}?"),
            format!("{stable} → {canary} through {}.", steps_text(&r.spec.steps)),
        ),
    }
}

/// The CSS classes of a phase's badge.
pub fn phase_class(phase: RolloutPhase) -> &'static str {
    match phase {
        RolloutPhase::Running => "badge badge-info",
        RolloutPhase::Paused => "badge badge-warn",
        RolloutPhase::Promoted => "badge badge-ok",
        RolloutPhase::RolledBack => "badge badge-bad",
        RolloutPhase::Aborted => "badge badge-muted",
    }
}

/// The canary's weight and where the rollout is among its steps, e.g.
/// `50 % · step 2 of 3`, `0 % · rolled back at step 2 of 3`.
pub fn weight_text(r: &Rollout) -> String {
    let n = r.spec.steps.len();
    let at = (r.progress.step + 1).min(n.max(1));
    let w = r.canary_weight;
    match r.phase {
        RolloutPhase::Running | RolloutPhase::Paused => format!("{w} % · step {at} of {n}"),
        RolloutPhase::Promoted => format!("{w} % · promoted"),
        RolloutPhase::RolledBack => format!("{w} % · rolled back at step {at} of {n}"),
        RolloutPhase::Aborted => format!("{w} % · aborted at step {at} of {n}"),
    }
}

/// How a step stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepState {
    /// Passed (or skipped past).
    Done,
    /// The weight in force now.
    Current,
    /// Where the rollout was rolled back or aborted.
    Failed,
    /// Not reached.
    Upcoming,
}

impl StepState {
    /// Its CSS class.
    pub fn class(self) -> &'static str {
        match self {
            StepState::Done => "step step-done",
            StepState::Current => "step step-current",
            StepState::Failed => "step step-failed",
            StepState::Upcoming => "step step-upcoming",
        }
    }

    /// A word under the weight.
    pub fn note(self) -> &'static str {
        match self {
            StepState::Done => "passed",
            StepState::Current => "now",
            StepState::Failed => "ended here",
            StepState::Upcoming => "next",
        }
    }
}

/// Each step's weight and state.
pub fn step_states(r: &Rollout) -> Vec<(i64, StepState)> {
    let at = r.progress.step;
    r.spec
        .steps
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let state = match r.phase {
                RolloutPhase::Promoted => StepState::Done,
                _ if i < at => StepState::Done,
                _ if i > at => StepState::Upcoming,
                RolloutPhase::Running | RolloutPhase::Paused => StepState::Current,
                RolloutPhase::RolledBack | RolloutPhase::Aborted => StepState::Failed,
            };
            (*w, state)
        })
        .collect()
}

/// The tone of a timeline entry's action badge.
pub fn action_class(e: &RolloutEvent) -> &'static str {
    match (e.decision.as_ref().map(|d| d.action), e.control) {
        (Some(RolloutAction::Advance | RolloutAction::Promote), _) => "badge badge-ok",
        (Some(RolloutAction::Wait), _) => "badge badge-muted",
        (Some(RolloutAction::Hold | RolloutAction::Pause), _) => "badge badge-warn",
        (Some(RolloutAction::RollBack), _) => "badge badge-bad",
        (None, _) => "badge badge-info",
    }
}

/// A judgement's action as shown: `advance`, `promote`, `wait`, `hold`,
/// `roll back`, `pause`.
pub fn action_label(a: RolloutAction) -> &'static str {
    match a {
        RolloutAction::Advance => "advance",
        RolloutAction::Promote => "promote",
        RolloutAction::Wait => "wait",
        RolloutAction::Hold => "hold",
        RolloutAction::RollBack => "roll back",
        RolloutAction::Pause => "pause",
    }
}

/// A timeline entry's action: the judgement's, or the person's control.
pub fn event_action(e: &RolloutEvent) -> &'static str {
    match (&e.decision, e.control) {
        (Some(d), _) => action_label(d.action),
        (None, Some(c)) => c.as_str(),
        (None, None) => "note",
    }
}

/// Who made a timeline entry: the person, or the controller.
pub fn event_by(e: &RolloutEvent) -> &str {
    e.by.as_deref().unwrap_or("controller")
}

/// A check as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckView {
    /// `success rate`, `p99`, `p99 vs stable`.
    pub name: String,
    /// What was measured, with its unit.
    pub observed: String,
    /// The limit, with its comparison: `≥ 99 %`.
    pub limit: String,
    /// `passed`, `failed`, or `not made` (a check that could not be made
    /// and did not count).
    pub outcome: &'static str,
}

/// What a check measured against its limit, in the check's own unit.
pub fn check_view(c: &RolloutCheck) -> CheckView {
    let ms = |v: f64| format::value(v, Unit::Milliseconds);
    let (observed, limit) = match c.name.as_str() {
        "success rate" => (c.observed.map(pct), format!("≥ {}", pct(c.limit))),
        "p99" => (c.observed.map(ms), format!("≤ {}", ms(c.limit))),
        "p99 vs stable" => (
            c.observed.map(|v| format!("{} stable's", times(v))),
            format!("≤ {}", times(c.limit)),
        ),
        _ => (
            c.observed.map(format::number),
            format!("limit {}", format::number(c.limit)),
        ),
    };
    let outcome = match (c.observed, c.passed) {
        (_, false) => "failed",
        (None, true) => "not made",
        (Some(_), true) => "passed",
    };
    let observed = observed.unwrap_or_else(|| {
        if c.name == "p99 vs stable" {
            "not compared: too little stable traffic".to_owned()
        } else {
            "not measured".to_owned()
        }
    });
    CheckView {
        name: c.name.clone(),
        observed,
        limit,
        outcome,
    }
}

/// One version's numbers of a judgement: requests, success rate, p99.
pub fn measured_cells(m: &VersionMeasurement) -> [String; 3] {
    let dash = || "–".to_owned();
    [
        m.requests
            .map(|n| format::number(n.round()))
            .unwrap_or_else(dash),
        m.success_pct.map(pct).unwrap_or_else(dash),
        m.p99_ms
            .map(|v| format::value(v, Unit::Milliseconds))
            .unwrap_or_else(dash),
    ]
}

/// A rollout chart's lines and the unit they are drawn in (the server
/// sends success rates as shares, 0 to 1, like every success-rate chart).
pub fn chart_lines(chart: &Chart) -> (Vec<Series>, Unit) {
    (chart.series.clone(), chart.kind.unit())
}

/// The chart marks of a rollout's step boundaries: `20 %` where the
/// canary's weight became 20 %.
pub fn chart_marks(marks: &[(f64, i64)]) -> Vec<Mark> {
    marks
        .iter()
        .map(|(t, w)| Mark {
            t: *t,
            label: format!("{w} %"),
        })
        .collect()
}

/// The newest rollout of `namespace/service` in a list (newest first).
pub fn find_rollout<'a>(
    list: &'a [Rollout],
    namespace: &str,
    service: &str,
) -> Option<&'a Rollout> {
    list.iter()
        .find(|r| r.namespace == namespace && r.service == service)
}

/// The start form's fields, as the server names them in a 422.
pub mod field {
    /// Stable version.
    pub const STABLE: &str = "stable";
    /// Canary version.
    pub const CANARY: &str = "canary";
    /// Steps (the server names one as `steps[i]`).
    pub const STEPS: &str = "steps";
    /// Interval in seconds.
    pub const INTERVAL: &str = "interval_s";
    /// Lowest success rate.
    pub const MIN_SUCCESS: &str = "analysis.min_success_pct";
    /// Highest p99 in ms.
    pub const MAX_P99_MS: &str = "analysis.max_p99_ms";
    /// Highest p99 relative to stable.
    pub const MAX_P99_RATIO: &str = "analysis.max_p99_ratio";
    /// Fewest canary requests to judge.
    pub const MIN_REQUESTS: &str = "analysis.min_requests";
    /// Failed judgements that roll back.
    pub const FAILURE_LIMIT: &str = "analysis.failure_limit";
}

/// The start form as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartForm {
    /// Stable version.
    pub stable: String,
    /// Canary version.
    pub canary: String,
    /// Comma-separated weights.
    pub steps: String,
    /// Seconds between judgements.
    pub interval_s: String,
    /// Lowest success rate (%).
    pub min_success_pct: String,
    /// Highest p99 (ms); empty: no limit.
    pub max_p99_ms: String,
    /// Highest p99 relative to stable; empty: no limit.
    pub max_p99_ratio: String,
    /// Fewest canary requests in an interval to judge it.
    pub min_requests: String,
    /// Failed judgements in a row that roll back.
    pub failure_limit: String,
}

/// `99.0` as `99`, `1.5` as `1.5`.
fn decimal_text(v: f64) -> String {
    format!("{v}")
}

fn whole(text: &str, min: u64, max: u64) -> Result<u64, String> {
    let t = text.trim();
    let v: u64 = t
        .parse()
        .map_err(|_| format!("{t:?} is not a whole number"))?;
    if v < min || v > max {
        return Err(format!("{v} is not from {min} to {max}"));
    }
    Ok(v)
}

fn decimal(text: &str) -> Result<f64, String> {
    let t = text.trim();
    t.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("{t:?} is not a number"))
}

impl StartForm {
    /// The form showing `spec`.
    pub fn from_spec(spec: &RolloutSpec) -> Self {
        let a = &spec.analysis;
        StartForm {
            stable: spec.stable.clone(),
            canary: spec.canary.clone(),
            steps: spec
                .steps
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            interval_s: spec.interval_s.to_string(),
            min_success_pct: decimal_text(a.min_success_pct),
            max_p99_ms: a.max_p99_ms.map(decimal_text).unwrap_or_default(),
            max_p99_ratio: a.max_p99_ratio.map(decimal_text).unwrap_or_default(),
            min_requests: a.min_requests.to_string(),
            failure_limit: a.failure_limit.to_string(),
        }
    }

    /// The request for `namespace/service`, or what the browser can tell
    /// is wrong (the server checks the rest: versions it knows, the
    /// interval against Prometheus' scrape interval).
    pub fn start(&self, namespace: &str, service: &str) -> Result<RolloutStart, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut check = |field: &str, r: Result<(), String>| {
            if let Err(e) = r {
                errors.push(field, e);
            }
        };
        check(
            field::STABLE,
            (!self.stable.is_empty())
                .then_some(())
                .ok_or_else(|| "choose a version".to_owned()),
        );
        check(
            field::CANARY,
            if self.canary.is_empty() {
                Err("choose a version".to_owned())
            } else if self.canary == self.stable {
                Err("is the stable version: choose another".to_owned())
            } else {
                Ok(())
            },
        );
        let steps = parse_steps(&self.steps);
        let interval = whole(&self.interval_s, 1, 86_400);
        let min_success = decimal(&self.min_success_pct).and_then(|v| {
            (0.0..=100.0)
                .contains(&v)
                .then_some(v)
                .ok_or_else(|| format!("{v} is not a percentage from 0 to 100"))
        });
        let optional = |text: &str, low: f64, what: &str| -> Result<Option<f64>, String> {
            if text.trim().is_empty() {
                return Ok(None);
            }
            let v = decimal(text)?;
            if v < low || (low == 0.0 && v == 0.0) {
                return Err(format!("{v} is {what}"));
            }
            Ok(Some(v))
        };
        let max_p99_ms = optional(&self.max_p99_ms, 0.0, "not above 0 ms");
        let max_p99_ratio = optional(
            &self.max_p99_ratio,
            1.0,
            "below 1 (1: no slower than stable)",
        );
        let min_requests = whole(&self.min_requests, 0, 1_000_000_000);
        let failure_limit = whole(&self.failure_limit, 1, 100);
        // Each field's problem, if any (the values are used below).
        fn problem<T>(r: &Result<T, String>) -> Result<(), String> {
            r.as_ref().map(|_| ()).map_err(Clone::clone)
        }
        check(field::STEPS, problem(&steps));
        check(field::INTERVAL, problem(&interval));
        check(field::MIN_SUCCESS, problem(&min_success));
        check(field::MAX_P99_MS, problem(&max_p99_ms));
        check(field::MAX_P99_RATIO, problem(&max_p99_ratio));
        check(field::MIN_REQUESTS, problem(&min_requests));
        check(field::FAILURE_LIMIT, problem(&failure_limit));
        match (
            steps,
            interval,
            min_success,
            max_p99_ms,
            max_p99_ratio,
            min_requests,
            failure_limit,
        ) {
            (
                Ok(steps),
                Ok(interval_s),
                Ok(min_success_pct),
                Ok(max_p99_ms),
                Ok(max_p99_ratio),
                Ok(min_requests),
                Ok(failure_limit),
            ) if errors.0.is_empty() => Ok(RolloutStart {
                namespace: namespace.to_owned(),
                service: service.to_owned(),
                spec: RolloutSpec {
                    stable: self.stable.clone(),
                    canary: self.canary.clone(),
                    steps,
                    interval_s: interval_s as u32,
                    analysis: RolloutAnalysis {
                        min_success_pct,
                        max_p99_ms,
                        max_p99_ratio,
                        min_requests,
                        failure_limit: failure_limit as u32,
                    },
                },
            }),
            _ => Err(errors),
        }
    }
}

/// The form field a problem of the server's names: `steps[2]` is the
/// steps field, `spec.canary` the canary field; `None` for what is not a
/// field of the form.
pub fn form_field(name: &str) -> Option<&'static str> {
    let name = name.strip_prefix("spec.").unwrap_or(name);
    let base = name.split('[').next().unwrap_or(name);
    [
        field::STABLE,
        field::CANARY,
        field::STEPS,
        field::INTERVAL,
        field::MIN_SUCCESS,
        field::MAX_P99_MS,
        field::MAX_P99_RATIO,
        field::MIN_REQUESTS,
        field::FAILURE_LIMIT,
    ]
    .into_iter()
    .find(|f| *f == base)
}

/// Whether `head` counts the problems after it: `2 problems`, `1 invalid
/// field`.
fn is_count(head: &str) -> bool {
    let Some((n, what)) = head.split_once(' ') else {
        return false;
    };
    n.parse::<usize>().is_ok()
        && [
            "problem",
            "problems",
            "invalid field",
            "invalid fields",
            "invalid field(s)",
        ]
        .contains(&what)
}

/// The problems of a refusal (`field: problem; field: problem`, possibly
/// after a count, `2 problems: `), each as (what it names, the problem); a
/// message of another form is one problem naming nothing.
pub fn server_problems(message: &str) -> Vec<(String, String)> {
    let list = match message.split_once(": ") {
        Some((head, rest)) if is_count(head) => rest,
        _ => message,
    };
    // A piece that does not start with a field's name continues the
    // problem before it (a problem may itself hold "; ").
    let mut entries: Vec<(String, String)> = Vec::new();
    for piece in list.split("; ") {
        match piece
            .split_once(": ")
            .filter(|(name, _)| is_field_name(name))
        {
            Some((name, problem)) => entries.push((name.to_owned(), problem.trim().to_owned())),
            None => match entries.last_mut() {
                Some(last) => {
                    last.1.push_str("; ");
                    last.1.push_str(piece);
                }
                None => return vec![(String::new(), message.to_owned())],
            },
        }
    }
    entries
}

/// Whether `name` may be a field's name: `interval_s`, `steps[1]`,
/// `analysis.min_requests`; prose has spaces.
fn is_field_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.[]-".contains(c))
}

/// The form's fields a refusal names, with their problems.
pub fn server_field_errors(message: &str) -> FieldErrors {
    let mut errors = FieldErrors::default();
    for (name, problem) in server_problems(message) {
        if let Some(f) = form_field(&name) {
            let shown = if name.contains('[') {
                format!("{name}: {problem}")
            } else {
                problem
            };
            errors.push(f, shown);
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ChartKind;
    use crate::types::{RolloutDecision, RolloutQueries};

    fn rollout(phase: RolloutPhase, step: usize, weight: i64) -> Rollout {
        let mut spec = RolloutSpec::with_defaults("v1", "v2");
        spec.steps = vec![20, 50, 100];
        spec.interval_s = 15;
        Rollout {
            namespace: "bookinfo".into(),
            service: "reviews".into(),
            spec,
            phase,
            progress: RolloutProgress {
                step,
                failures: 0,
                skip_analysis: false,
            },
            canary_weight: weight,
            started_by: "admin".into(),
            started_at: 0.0,
            updated_at: 0.0,
            next_judgement_at: None,
            status: String::new(),
            queries: RolloutQueries::default(),
            events: Vec::new(),
            may_control: true,
            control_problem: None,
        }
    }

    #[test]
    fn steps_parse_and_show() {
        assert_eq!(parse_steps("10, 25,50 ,100"), Ok(vec![10, 25, 50, 100]));
        assert_eq!(
            parse_steps("every 10 up to 50"),
            Ok(vec![10, 20, 30, 40, 50])
        );
        assert_eq!(
            parse_steps("Every 20 % up to 100%"),
            Ok(vec![20, 40, 60, 80, 100])
        );
        assert_eq!(parse_steps("every 30 up to 100"), Ok(vec![30, 60, 90, 100]));
        assert!(parse_steps("every 60 up to 50").is_err());
        assert!(parse_steps("every ten up to 50").is_err());
        assert_eq!(parse_steps("5 %, 100%,"), Ok(vec![5, 100]));
        assert_eq!(
            parse_steps("10, ten"),
            Err("\"ten\" is not a whole number".into())
        );
        assert_eq!(
            parse_steps("0, 50"),
            Err("0 is not a weight from 1 to 100".into())
        );
        assert_eq!(
            parse_steps("10, 120"),
            Err("120 is not a weight from 1 to 100".into())
        );
        assert_eq!(
            parse_steps("50, 50"),
            Err("50 does not increase on the weight before (50)".into())
        );
        assert!(parse_steps(" , ").is_err());
        assert_eq!(steps_text(&[20, 50, 100]), "20 → 50 → 100 %");
        assert_eq!(steps_text(&[]), "none");
    }

    #[test]
    fn analysis_in_words() {
        let mut spec = RolloutSpec::with_defaults("v1", "v2");
        spec.interval_s = 15;
        assert_eq!(
            analysis_words(&spec),
            "success rate ≥ 99 %, p99 ≤ 1.5× stable, judged every 15 s when the canary has ≥ 20 requests, rolled back after 2 failed judgements in a row"
        );
        spec.analysis.max_p99_ms = Some(1500.0);
        spec.analysis.max_p99_ratio = None;
        spec.analysis.min_requests = 1;
        spec.analysis.failure_limit = 1;
        spec.analysis.min_success_pct = 99.5;
        spec.interval_s = 120;
        assert_eq!(
            analysis_words(&spec),
            "success rate ≥ 99.5 %, p99 ≤ 1.5 s, judged every 2 min when the canary has ≥ 1 request, rolled back after 1 failed judgement"
        );
        spec.analysis.min_requests = 0;
        assert!(analysis_words(&spec).contains("judged every 2 min, rolled"));
        // The defaults, stated from the spec the form opens with.
        assert_eq!(
            defaults_words(),
            "Prefilled with the defaults: steps 10 → 25 → 50 → 100 %; success rate ≥ 99 %, p99 ≤ 1.5× stable, judged every 1 min when the canary has ≥ 20 requests, rolled back after 2 failed judgements in a row."
        );
    }

    #[test]
    fn controls_follow_the_phase() {
        use RolloutControl::*;
        let p = RolloutProgress::default();
        assert_eq!(
            controls(RolloutPhase::Running, &p),
            [Pause, Skip, Promote, Abort]
        );
        assert_eq!(controls(RolloutPhase::Paused, &p), [Resume, Promote, Abort]);
        for done in [
            RolloutPhase::Promoted,
            RolloutPhase::RolledBack,
            RolloutPhase::Aborted,
        ] {
            assert!(controls(done, &p).is_empty(), "{done:?}");
        }
        // A skip already asked for is not offered again.
        let skipping = RolloutProgress {
            skip_analysis: true,
            ..p
        };
        assert_eq!(
            controls(RolloutPhase::Running, &skipping),
            [Pause, Promote, Abort]
        );
        assert_eq!(control_label(Skip), "Skip analysis");
        assert!(control_is_drastic(Abort));
        assert!(!control_is_drastic(Pause) && !control_is_drastic(Promote));
    }

    #[test]
    fn questions_name_versions_and_weights() {
        let r = rollout(RolloutPhase::Running, 0, 20);
        let (title, text) = control_question(RolloutControl::Skip, &r);
        assert_eq!(title, "Skip the analysis of the step at 20 %?");
        assert!(text.contains("on to 50 %"), "{text}");
        let last = rollout(RolloutPhase::Running, 2, 100);
        assert!(
            control_question(RolloutControl::Skip, &last)
                .1
                .contains("last step")
        );
        let (title, text) = control_question(RolloutControl::Abort, &r);
        assert_eq!(title, "Abort the rollout of reviews?");
        assert!(text.contains("v2 goes back to 0 %") && text.contains("v1 takes all traffic"));
        assert!(
            control_question(RolloutControl::Pause, &r)
                .1
                .contains("keeps 20 %")
        );
    }

    #[test]
    fn steps_and_weights_by_phase() {
        use StepState::*;
        let states = |r: &Rollout| step_states(r).into_iter().map(|s| s.1).collect::<Vec<_>>();
        let running = rollout(RolloutPhase::Running, 1, 50);
        assert_eq!(states(&running), [Done, Current, Upcoming]);
        assert_eq!(weight_text(&running), "50 % · step 2 of 3");
        let back = rollout(RolloutPhase::RolledBack, 1, 0);
        assert_eq!(states(&back), [Done, Failed, Upcoming]);
        assert_eq!(weight_text(&back), "0 % · rolled back at step 2 of 3");
        let promoted = rollout(RolloutPhase::Promoted, 2, 100);
        assert_eq!(states(&promoted), [Done, Done, Done]);
        assert_eq!(weight_text(&promoted), "100 % · promoted");
        assert_eq!(
            step_states(&promoted)
                .into_iter()
                .map(|s| s.0)
                .collect::<Vec<_>>(),
            [20, 50, 100]
        );
        assert_eq!(phase_class(RolloutPhase::RolledBack), "badge badge-bad");
    }

    #[test]
    fn timeline_actions_and_checks() {
        let judgement = RolloutEvent {
            at: 0.0,
            by: None,
            control: None,
            decision: Some(RolloutDecision {
                action: RolloutAction::RollBack,
                reason: String::new(),
                checks: Vec::new(),
                canary_weight: 0,
            }),
            measured: None,
            step: 0,
            canary_weight: 0,
            message: String::new(),
        };
        assert_eq!(event_action(&judgement), "roll back");
        assert_eq!(event_by(&judgement), "controller");
        assert_eq!(action_class(&judgement), "badge badge-bad");
        let person = RolloutEvent {
            by: Some("admin".into()),
            control: Some(RolloutControl::Pause),
            decision: None,
            ..judgement
        };
        assert_eq!(event_action(&person), "pause");
        assert_eq!(event_by(&person), "admin");

        let check = |name: &str, observed, limit, passed| {
            check_view(&RolloutCheck {
                name: name.into(),
                observed,
                limit,
                passed,
            })
        };
        assert_eq!(
            check("success rate", Some(91.666), 99.0, false),
            CheckView {
                name: "success rate".into(),
                observed: "91.67 %".into(),
                limit: "≥ 99 %".into(),
                outcome: "failed",
            }
        );
        let p99 = check("p99", Some(1250.0), 500.0, false);
        assert_eq!(
            (p99.observed.as_str(), p99.limit.as_str()),
            ("1.25 s", "≤ 500 ms")
        );
        let ratio = check("p99 vs stable", Some(1.2), 1.5, true);
        assert_eq!(
            (ratio.observed.as_str(), ratio.limit.as_str(), ratio.outcome),
            ("1.2× stable's", "≤ 1.5×", "passed")
        );
        let not_made = check("p99 vs stable", None, 1.5, true);
        assert_eq!(not_made.outcome, "not made");
        assert!(not_made.observed.contains("too little stable traffic"));

        assert_eq!(
            measured_cells(&VersionMeasurement {
                requests: Some(119.6),
                success_pct: Some(98.956),
                p99_ms: Some(48.0),
            }),
            ["120".to_string(), "98.96 %".into(), "48 ms".into()]
        );
        assert_eq!(
            measured_cells(&VersionMeasurement::default()),
            ["–".to_string(), "–".into(), "–".into()]
        );
        assert_eq!(
            chart_marks(&[(10.0, 20), (40.0, 0)]),
            vec![
                Mark {
                    t: 10.0,
                    label: "20 %".into()
                },
                Mark {
                    t: 40.0,
                    label: "0 %".into()
                }
            ]
        );
    }

    #[test]
    fn success_rates_are_drawn_as_shares() {
        let success = Chart {
            kind: ChartKind::SuccessRate,
            series: vec![Series {
                name: "v2 (canary)".into(),
                points: vec![(0.0, Some(0.92)), (5.0, None)],
            }],
            queries: vec!["q".into()],
        };
        let (lines, unit) = chart_lines(&success);
        assert_eq!(unit, Unit::Ratio);
        assert_eq!(lines, success.series);
        assert_eq!(format::value(0.92, unit), "92 %");
    }

    #[test]
    fn the_form_round_trips_the_defaults() {
        let spec = RolloutSpec::with_defaults("v1", "v2");
        let form = StartForm::from_spec(&spec);
        assert_eq!(form.steps, "10, 25, 50, 100");
        assert_eq!(form.min_success_pct, "99");
        assert_eq!(form.max_p99_ms, "");
        assert_eq!(form.max_p99_ratio, "1.5");
        let start = form.start("bookinfo", "reviews").expect("valid");
        assert_eq!(start.spec, spec);
        assert_eq!(
            (start.namespace.as_str(), start.service.as_str()),
            ("bookinfo", "reviews")
        );
    }

    #[test]
    fn the_form_names_every_bad_field() {
        let form = StartForm {
            stable: "v1".into(),
            canary: "v1".into(),
            steps: "50, 20".into(),
            interval_s: "0".into(),
            min_success_pct: "101".into(),
            max_p99_ms: "-3".into(),
            max_p99_ratio: "0.5".into(),
            min_requests: "many".into(),
            failure_limit: "0".into(),
        };
        let errors = form.start("bookinfo", "reviews").unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                field::CANARY,
                field::STEPS,
                field::INTERVAL,
                field::MIN_SUCCESS,
                field::MAX_P99_MS,
                field::MAX_P99_RATIO,
                field::MIN_REQUESTS,
                field::FAILURE_LIMIT,
            ]
        );
        assert_eq!(
            errors.get(field::STEPS).as_deref(),
            Some("20 does not increase on the weight before (50)")
        );
        // Optional limits may stay empty; a p99 limit of 0 ms is refused.
        let mut ok = StartForm::from_spec(&RolloutSpec::with_defaults("v1", "v2"));
        ok.max_p99_ratio = " ".into();
        assert_eq!(
            ok.start("a", "b").unwrap().spec.analysis.max_p99_ratio,
            None
        );
        ok.max_p99_ms = "0".into();
        assert!(
            ok.start("a", "b")
                .unwrap_err()
                .get(field::MAX_P99_MS)
                .is_some()
        );
    }

    #[test]
    fn refusals_map_to_fields() {
        let msg = "2 problems: interval_s: 1 s is shorter than Prometheus' scrape interval (5 s): an interval would hold no new sample; steps[1]: 20 does not increase on the step before (50)";
        assert_eq!(server_problems(msg).len(), 2);
        let errors = server_field_errors(msg);
        assert!(
            errors
                .get(field::INTERVAL)
                .unwrap()
                .starts_with("1 s is shorter")
        );
        assert_eq!(
            errors.get(field::STEPS).as_deref(),
            Some("steps[1]: 20 does not increase on the step before (50)")
        );
        // Another count, and spec. in the names.
        let counted = "1 invalid field: spec.canary: no workload of the service has version \"v9\" (versions: v1, v2)";
        assert_eq!(
            server_problems(counted),
            vec![(
                "spec.canary".to_string(),
                "no workload of the service has version \"v9\" (versions: v1, v2)".to_string()
            )]
        );
        assert!(server_field_errors(counted).get(field::CANARY).is_some());
        // Prose is one problem naming no field.
        let prose = "a rollout of bookinfo/reviews is running: pause or abort it first";
        assert_eq!(
            server_problems(prose),
            vec![(String::new(), prose.to_string())]
        );
        assert!(server_field_errors(prose).0.is_empty());
        // A problem of the request that is no field of the form is listed,
        // not marked.
        let running = "1 problem: service: a rollout of bookinfo/reviews is already running (v1 → v2, started by admin); abort it or wait for it to end";
        let problems = server_problems(running);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].0, "service");
        assert!(
            problems[0]
                .1
                .ends_with("(v1 → v2, started by admin); abort it or wait for it to end")
        );
        assert!(server_field_errors(running).0.is_empty());
        assert_eq!(
            form_field("analysis.failure_limit"),
            Some(field::FAILURE_LIMIT)
        );
        assert_eq!(form_field("namespace"), None);
    }

    #[test]
    fn finds_the_newest_rollout_of_a_service() {
        let mut newer = rollout(RolloutPhase::Running, 0, 20);
        newer.started_at = 2.0;
        let older = rollout(RolloutPhase::RolledBack, 0, 0);
        let other = Rollout {
            service: "ratings".into(),
            ..rollout(RolloutPhase::Running, 0, 20)
        };
        let list = vec![other, newer.clone(), older];
        assert_eq!(find_rollout(&list, "bookinfo", "reviews"), Some(&newer));
        assert_eq!(find_rollout(&list, "payments", "reviews"), None);
    }
}
