//! The rollout controller: on the replica holding the controllers' Lease,
//! every [`TICK`] it lists the rollouts' ConfigMaps and judges each running
//! rollout whose interval is over:
//!
//! Only running rollouts are read (their ConfigMaps carry their phase as
//! a label), so finished ones cost nothing.
//!
//! 1. The weights in force must still be the rollout's; someone else's
//!    edit pauses it, naming both.
//! 2. The analysis measures the interval in Prometheus (three queries) and
//!    [`super::decide`] judges it.
//! 3. A decision that moves the weights is made only if the person who
//!    started the rollout may still patch the VirtualService and
//!    DestinationRule (an uncached SubjectAccessReview); else it pauses.
//! 4. The record is saved first, at the version read (a person's action or
//!    another replica in between makes this a 409, and the judgement is
//!    dropped, to be made again on the next tick); then the weights are
//!    written with meshdeck's own account.
//!
//! Everything it knows is in the ConfigMaps, so a restarted or newly
//! elected replica continues where the last one stopped.

use std::time::Duration;

use app::types::{RolloutAction, RolloutEvent, RolloutPhase};

use super::ops::{self, describe_weights, weights_match};
use super::store::{self, Stored};
use super::{analysis, decide};
use crate::access::AccessScope;
use crate::error::{Error, Result};
use crate::istio::wizards::write;
use crate::state::AppState;

/// How often the rollouts are looked at.
pub const TICK: Duration = Duration::from_secs(2);

/// Runs until aborted.
pub async fn run(state: AppState) {
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // A lasting failure (meshdeck's account without deploy/rbac/rollouts.yaml)
    // is said once, then again only after it has cleared.
    let mut failing = false;
    loop {
        interval.tick().await;
        match tick(&state, state.now_s()).await {
            Ok(_) => failing = false,
            Err(err) if !failing => {
                failing = true;
                tracing::warn!(error = %err, "rollouts cannot be read; trying again every {} s", TICK.as_secs());
            }
            Err(err) => tracing::debug!(error = %err, "rollouts still cannot be read"),
        }
    }
}

/// One round at `now` (Unix seconds): every running rollout that is due is
/// judged. Returns how many were judged.
pub async fn tick(state: &AppState, now: f64) -> Result<usize> {
    let own = state.cluster()?.own().clone();
    let mut judged = 0;
    for stored in store::list_running(&own).await? {
        let r = &stored.record.rollout;
        let due = r.phase == RolloutPhase::Running && r.next_judgement_at.is_some_and(|t| t <= now);
        if !due {
            continue;
        }
        let name = format!("{}/{}", r.namespace, r.service);
        let metrics = crate::selfmetrics::global();
        match judge(state, stored, now).await {
            Ok(()) => {
                judged += 1;
                metrics.reconcile("rollouts", "ok");
            }
            Err(Error::Conflict(_)) => {
                metrics.reconcile("rollouts", "conflict");
                tracing::debug!(rollout = %name, "rollout changed meanwhile; judged again next round")
            }
            Err(err) => {
                metrics.reconcile("rollouts", "error");
                tracing::warn!(error = %err, rollout = %name, "rollout not judged")
            }
        }
    }
    Ok(judged)
}

/// Judges one rollout at `now`.
async fn judge(state: &AppState, stored: Stored, now: f64) -> Result<()> {
    let own = state.cluster()?.own().clone();
    let Stored {
        mut record,
        resource_version,
    } = stored;
    let r = record.rollout.clone();
    let (ns, svc) = (r.namespace.as_str(), r.service.as_str());
    let base = RolloutEvent {
        at: now,
        by: None,
        control: None,
        decision: None,
        measured: None,
        step: r.progress.step,
        canary_weight: r.canary_weight,
        message: String::new(),
    };

    // 1. Someone else's weights.
    let (_, live) = write::service_weights(state, ns, svc).await?;
    if !weights_match(&r.spec, r.canary_weight, &live) {
        let message = format!(
            "paused: the weights were changed outside the rollout (now {}; the rollout set {}). Resume to set the rollout's weights again, or abort",
            describe_weights(&live),
            describe_weights(&ops::weights(&r.spec, r.canary_weight))
        );
        record.halt(RolloutPhase::Paused, RolloutEvent { message, ..base });
        store::save(&own, &record, resource_version).await?;
        return Ok(());
    }

    // 2. The analysis.
    let measured = match state.upstreams().prometheus.as_ref() {
        Some(p) => analysis::measure(p, ns, svc, &r.spec, now).await,
        None => app::types::IntervalMeasurement {
            unavailable: Some("no Prometheus is configured".into()),
            ..Default::default()
        },
    };
    let (decision, progress) = decide(&r.spec, &r.progress, &measured);
    crate::selfmetrics::global().decision(match decision.action {
        RolloutAction::Advance => "advance",
        RolloutAction::Promote => "promote",
        RolloutAction::Wait => "wait",
        RolloutAction::Hold => "hold",
        RolloutAction::RollBack => "roll_back",
        RolloutAction::Pause => "pause",
    });
    let moves = matches!(
        decision.action,
        RolloutAction::Advance | RolloutAction::Promote | RolloutAction::RollBack
    );

    // 3. May the person who started it still make the writes?
    if moves {
        let who = &record.starter;
        let auth = state.auth();
        let mut denied = Vec::new();
        for w in ops::writes(ns) {
            if !auth.may_now(who, &w).await? {
                denied.push(w.describe());
            }
        }
        if !denied.is_empty() {
            let message = format!(
                "paused before \"{}\": {} may no longer {} (Kubernetes RBAC, asked with a SubjectAccessReview); someone who may can resume it",
                decision.reason,
                record.starter.user,
                denied.join("; ")
            );
            record.halt(
                RolloutPhase::Paused,
                RolloutEvent {
                    message,
                    measured: Some(measured),
                    ..base
                },
            );
            store::save(&own, &record, resource_version).await?;
            return Ok(());
        }
    }

    // 4. Record, then write.
    let weight = decision.canary_weight;
    let (phase, next, status) = match decision.action {
        RolloutAction::Promote => (
            RolloutPhase::Promoted,
            None,
            format!(
                "promoted: {} takes all traffic ({})",
                r.spec.canary, decision.reason
            ),
        ),
        RolloutAction::RollBack => (
            RolloutPhase::RolledBack,
            None,
            format!("{}; {} takes all traffic", decision.reason, r.spec.stable),
        ),
        _ => (
            RolloutPhase::Running,
            Some(now + f64::from(r.spec.interval_s)),
            decision.reason.clone(),
        ),
    };
    record.rollout.phase = phase;
    record.rollout.next_judgement_at = next;
    record.rollout.status = status;
    record.rollout.progress = progress.clone();
    record.push(RolloutEvent {
        message: decision.reason.clone(),
        decision: Some(decision),
        measured: Some(measured),
        step: progress.step,
        canary_weight: weight,
        ..base.clone()
    });
    let saved = store::save(&own, &record, resource_version).await?;
    if moves {
        let scope = AccessScope::owner(record.starter.user.clone());
        if let Err(err) = ops::write_weights(state, &scope, &own, ns, svc, &r.spec, weight).await {
            // The weights did not move: the record says so and waits for
            // a person.
            let message = format!("paused: the weights could not be written: {err}");
            let mut failed = saved.record.clone();
            failed.halt(RolloutPhase::Paused, RolloutEvent { message, ..base });
            store::save(&own, &failed, saved.resource_version).await?;
            return Err(err);
        }
        // A person's action saved in between wins: their weights again.
        if let Some(now_stored) = store::get(&own, ns, svc).await?
            && now_stored.resource_version != saved.resource_version
        {
            let n = &now_stored.record.rollout;
            ops::write_weights(state, &scope, &own, ns, svc, &n.spec, n.canary_weight).await?;
        }
        tracing::info!(rollout = %format!("{ns}/{svc}"), weight, "rollout weights written");
    }
    Ok(())
}
