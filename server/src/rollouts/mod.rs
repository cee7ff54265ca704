//! Progressive delivery, its core: the checks of a rollout's spec and the
//! judgement after each interval, as pure functions ([`validate`],
//! [`decide`]), and the analysis that measures an interval in Prometheus
//! ([`analysis`]); the record kept in the cluster ([`store`]); what people
//! do with rollouts ([`ops`]); and the controller that judges them and
//! writes the weights through the traffic-shifting wizard
//! ([`controller`]).
//!
//! The judgement follows Flagger's and Argo Rollouts' analysis model, with
//! two rules of its own: a rollout never advances on missing data, and
//! never rolls back only because data is missing (it pauses, and says
//! why); too little canary traffic to judge makes the step wait rather
//! than count as a failure.

pub mod analysis;
pub mod controller;
pub mod ops;
pub mod store;

use app::types::{
    IntervalMeasurement, RolloutAction, RolloutCheck, RolloutDecision, RolloutProgress, RolloutSpec,
};

/// Most steps of one rollout.
pub const MAX_STEPS: usize = 100;
/// Longest interval between judgements (a day).
pub const MAX_INTERVAL_S: u32 = 86_400;
/// Most failed judgements in a row that may be asked for before a roll back.
pub const MAX_FAILURE_LIMIT: u32 = 100;
/// Most requests an interval may be asked to have before it is judged.
pub const MAX_MIN_REQUESTS: u64 = 1_000_000_000;

/// Every problem of `spec` for a service whose versions are `versions`,
/// judged with Prometheus scraping every `scrape_interval_s`, each as
/// `field: problem`; empty when it can run.
pub fn validate(spec: &RolloutSpec, versions: &[String], scrape_interval_s: u32) -> Vec<String> {
    let mut p = Vec::new();
    let mut add = |field: &str, problem: String| p.push(format!("{field}: {problem}"));
    let list = if versions.is_empty() {
        "none: no pod of the service has a `version` label".to_owned()
    } else {
        versions.join(", ")
    };
    for (field, version) in [("stable", &spec.stable), ("canary", &spec.canary)] {
        if !versions.contains(version) {
            add(
                field,
                format!("no workload of the service has version {version:?} (versions: {list})"),
            );
        }
    }
    if spec.stable == spec.canary {
        add(
            "canary",
            format!("is the stable version {:?}: choose another", spec.stable),
        );
    }
    if spec.steps.is_empty() {
        add("steps", "add at least one weight".into());
    } else if spec.steps.len() > MAX_STEPS {
        add("steps", format!("more than {MAX_STEPS} weights"));
    } else {
        for (i, w) in spec.steps.iter().enumerate() {
            if !(1..=100).contains(w) {
                add(
                    &format!("steps[{i}]"),
                    format!("{w} is not a weight from 1 to 100"),
                );
            } else if i > 0 && *w <= spec.steps[i - 1] {
                add(
                    &format!("steps[{i}]"),
                    format!(
                        "{w} does not increase on the step before ({})",
                        spec.steps[i - 1]
                    ),
                );
            }
        }
    }
    if spec.interval_s < scrape_interval_s.max(1) {
        add(
            "interval_s",
            format!(
                "{} s is shorter than Prometheus' scrape interval ({scrape_interval_s} s): an interval would hold no new sample",
                spec.interval_s
            ),
        );
    } else if spec.interval_s > MAX_INTERVAL_S {
        add(
            "interval_s",
            format!("{} s is longer than a day", spec.interval_s),
        );
    }
    let a = &spec.analysis;
    if !(0.0..=100.0).contains(&a.min_success_pct) || !a.min_success_pct.is_finite() {
        add(
            "analysis.min_success_pct",
            format!("{} is not a percentage from 0 to 100", a.min_success_pct),
        );
    }
    if let Some(ms) = a.max_p99_ms
        && !(ms.is_finite() && ms > 0.0 && ms <= 3_600_000.0)
    {
        add(
            "analysis.max_p99_ms",
            format!("{ms} is not a duration in milliseconds from above 0 to an hour"),
        );
    }
    if let Some(r) = a.max_p99_ratio
        && !(r.is_finite() && (1.0..=100.0).contains(&r))
    {
        add(
            "analysis.max_p99_ratio",
            format!("{r} is not a ratio from 1 (no slower than stable) to 100"),
        );
    }
    if a.min_requests > MAX_MIN_REQUESTS {
        add(
            "analysis.min_requests",
            format!("{} is more than {MAX_MIN_REQUESTS}", a.min_requests),
        );
    }
    if !(1..=MAX_FAILURE_LIMIT).contains(&a.failure_limit) {
        add(
            "analysis.failure_limit",
            format!(
                "{} is not a count from 1 to {MAX_FAILURE_LIMIT}",
                a.failure_limit
            ),
        );
    }
    p
}

fn weight_at(spec: &RolloutSpec, step: usize) -> i64 {
    spec.steps.get(step).copied().unwrap_or(0)
}

fn pct(v: f64) -> String {
    format!("{:.2}", v)
}

/// The judgement after an interval at `progress`, given what was
/// `measured`: the decision and the progress after it. A pure function of
/// its arguments (the spec is assumed valid, see [`validate`]).
pub fn decide(
    spec: &RolloutSpec,
    progress: &RolloutProgress,
    measured: &IntervalMeasurement,
) -> (RolloutDecision, RolloutProgress) {
    let a = &spec.analysis;
    let weight = weight_at(spec, progress.step);
    let last = progress.step + 1 >= spec.steps.len();
    let stay = |action, reason: String, checks, failures| {
        (
            RolloutDecision {
                action,
                reason,
                checks,
                canary_weight: weight,
            },
            RolloutProgress {
                failures,
                ..progress.clone()
            },
        )
    };
    let onwards = |reason: String, checks| {
        let (action, canary_weight, step) = if last {
            (RolloutAction::Promote, 100, progress.step)
        } else {
            (
                RolloutAction::Advance,
                weight_at(spec, progress.step + 1),
                progress.step + 1,
            )
        };
        (
            RolloutDecision {
                action,
                reason,
                checks,
                canary_weight,
            },
            RolloutProgress {
                step,
                failures: 0,
                skip_analysis: false,
            },
        )
    };
    if progress.skip_analysis {
        return onwards(
            format!("analysis skipped for the step at {weight} %, as asked"),
            Vec::new(),
        );
    }
    if let Some(why) = &measured.unavailable {
        return stay(
            RolloutAction::Pause,
            format!("paused: Prometheus could not be asked ({why}); nothing moves on missing data"),
            Vec::new(),
            progress.failures,
        );
    }
    let canary = &measured.canary;
    let Some(requests) = canary.requests else {
        return stay(
            RolloutAction::Pause,
            "paused: Prometheus has no request count for the canary; nothing moves on missing data"
                .into(),
            Vec::new(),
            progress.failures,
        );
    };
    if requests < a.min_requests as f64 {
        return stay(
            RolloutAction::Wait,
            format!(
                "waiting: the canary received {requests:.0} requests in the interval, fewer than the {} needed to judge it",
                a.min_requests
            ),
            Vec::new(),
            progress.failures,
        );
    }
    // Enough traffic: every configured check needs its number.
    let missing = |what: &str| {
        stay(
            RolloutAction::Pause,
            format!("paused: Prometheus has no {what}; nothing moves on missing data"),
            Vec::new(),
            progress.failures,
        )
    };
    let Some(success) = canary.success_pct else {
        return missing("success rate for the canary");
    };
    let mut checks = vec![RolloutCheck {
        name: "success rate".into(),
        observed: Some(success),
        limit: a.min_success_pct,
        passed: success >= a.min_success_pct,
    }];
    if let Some(limit) = a.max_p99_ms {
        let Some(p99) = canary.p99_ms else {
            return missing("p99 for the canary");
        };
        checks.push(RolloutCheck {
            name: "p99".into(),
            observed: Some(p99),
            limit,
            passed: p99 <= limit,
        });
    }
    if let Some(ratio) = a.max_p99_ratio {
        let stable = &measured.stable;
        match stable.requests {
            None => return missing("request count for the stable version"),
            // Too little stable traffic (the last steps) to compare with:
            // the relative check is not made, and says so.
            Some(n) if n < a.min_requests.max(1) as f64 => checks.push(RolloutCheck {
                name: "p99 vs stable".into(),
                observed: None,
                limit: ratio,
                passed: true,
            }),
            Some(_) => {
                let (Some(c), Some(s)) = (canary.p99_ms, stable.p99_ms) else {
                    return missing("p99 for the canary and the stable version");
                };
                let observed = if s > 0.0 { c / s } else { f64::INFINITY };
                checks.push(RolloutCheck {
                    name: "p99 vs stable".into(),
                    observed: Some(observed),
                    limit: ratio,
                    passed: c <= ratio * s,
                });
            }
        }
    }
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| match c.name.as_str() {
            "success rate" => format!(
                "success rate {} % < {} %",
                pct(c.observed.unwrap_or(0.0)),
                pct(c.limit)
            ),
            "p99" => format!(
                "p99 {} ms > {} ms",
                pct(c.observed.unwrap_or(0.0)),
                pct(c.limit)
            ),
            _ => format!(
                "p99 {}× the stable version's > {}×",
                pct(c.observed.unwrap_or(0.0)),
                pct(c.limit)
            ),
        })
        .collect();
    if failed.is_empty() {
        let reason = if last {
            format!("the checks passed at {weight} %: promoted")
        } else {
            format!(
                "the checks passed at {weight} %: on to {} %",
                weight_at(spec, progress.step + 1)
            )
        };
        return onwards(reason, checks);
    }
    let failures = progress.failures + 1;
    if failures >= a.failure_limit {
        return (
            RolloutDecision {
                action: RolloutAction::RollBack,
                reason: format!(
                    "rolled back to 0 %: {} ({failures} failed judgement(s) in a row, the limit is {})",
                    failed.join("; "),
                    a.failure_limit
                ),
                checks,
                canary_weight: 0,
            },
            RolloutProgress {
                failures,
                ..progress.clone()
            },
        );
    }
    stay(
        RolloutAction::Hold,
        format!(
            "holding at {weight} %: {} ({failures} of {} failed judgements before a roll back)",
            failed.join("; "),
            a.failure_limit
        ),
        checks,
        failures,
    )
}

#[cfg(test)]
mod tests;
