//! What people do with rollouts: start one, pause, resume, abort, promote
//! or skip a step, see them and their charts. The controller
//! ([`super::controller`]) does the rest.
//!
//! Who may do what: starting and every control are allowed to whoever
//! Kubernetes lets patch the service's VirtualService and DestinationRule
//! (the writes a rollout makes). Weights a person's action changes are
//! written with their own credentials; the rollout's record is
//! meshdeck's bookkeeping, written with its own account after an uncached
//! SubjectAccessReview of the person for those same writes.

use app::types::{
    Chart, ChartKind, Rollout, RolloutCharts, RolloutControl, RolloutEvent, RolloutList,
    RolloutPhase, RolloutProgress, RolloutQueries, RolloutScenario, RolloutSpec, RolloutStart,
    RouteApi, RunMode, Series, ServiceProtocol, VersionWeight, WizardRequest,
};

use super::analysis;
use super::store::{self, Record, Stored};
use crate::access::AccessScope;
use crate::cluster::names;
use crate::cluster::reviews::Attributes;
use crate::error::{Error, Result};
use crate::istio::wizards::write::{self, WriteOptions};
use crate::state::AppState;

/// The writes a rollout makes in `namespace`: patching its VirtualService
/// and DestinationRule.
pub fn writes(namespace: &str) -> [Attributes; 2] {
    ["virtualservices", "destinationrules"]
        .map(|r| Attributes::new("patch", "networking.istio.io", r, Some(namespace), None))
}

/// The weights of a rollout at `canary_weight`.
pub fn weights(spec: &RolloutSpec, canary_weight: i64) -> Vec<VersionWeight> {
    vec![
        VersionWeight {
            version: spec.stable.clone(),
            weight: 100 - canary_weight,
        },
        VersionWeight {
            version: spec.canary.clone(),
            weight: canary_weight,
        },
    ]
}

/// Whether the weights in force are the rollout's at `canary_weight`
/// (versions it does not name must have none).
pub fn weights_match(spec: &RolloutSpec, canary_weight: i64, live: &[VersionWeight]) -> bool {
    let of = |v: &str| {
        live.iter()
            .filter(|w| w.version == v)
            .map(|w| w.weight)
            .sum::<i64>()
    };
    !live.is_empty()
        && of(&spec.canary) == canary_weight
        && of(&spec.stable) == 100 - canary_weight
        && live
            .iter()
            .all(|w| w.version == spec.canary || w.version == spec.stable || w.weight == 0)
}

/// The weights in words: `v1 90 %, v2 10 %`.
pub fn describe_weights(live: &[VersionWeight]) -> String {
    if live.is_empty() {
        return "no weighted route".into();
    }
    live.iter()
        .map(|w| format!("{} {} %", w.version, w.weight))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes the rollout's weights at `canary_weight` for `namespace/service`
/// with `client` (the caller's, or meshdeck's after a review of the
/// starter; `scope` names whom for the log). A rollout drives the route
/// from its start, so the write takes the route's fields over from other
/// field managers (server-side apply with `force`, as Kubernetes advises
/// controllers); it answers those managers, for the timeline.
pub async fn write_weights(
    state: &AppState,
    scope: &AccessScope,
    client: &kube::Client,
    namespace: &str,
    service: &str,
    spec: &RolloutSpec,
    canary_weight: i64,
) -> Result<Vec<String>> {
    let request = WizardRequest::TrafficShifting {
        weights: weights(spec, canary_weight),
        mirror: None,
        api: RouteApi::Istio,
    };
    let options = WriteOptions {
        dry_run: false,
        force: true,
    };
    let outcome =
        write::run_with(state, scope, client, namespace, service, &request, options).await?;
    let mut managers: Vec<String> = outcome
        .objects
        .into_iter()
        .flat_map(|o| o.other_managers)
        .collect();
    managers.sort();
    managers.dedup();
    Ok(managers)
}

fn queries_of(namespace: &str, service: &str, spec: &RolloutSpec) -> RolloutQueries {
    let q = analysis::queries(namespace, service, spec);
    RolloutQueries {
        requests: q.requests,
        error_share: q.error_share,
        p99: q.p99,
    }
}

/// `POST /api/rollouts`.
pub async fn start(state: &AppState, scope: &AccessScope, start: &RolloutStart) -> Result<Rollout> {
    start_at(state, scope, start, state.now_s()).await
}

/// [`start`] as if it were `now` (Unix seconds): the rollout's clock
/// starts there (tests replay a history written in the past).
pub async fn start_at(
    state: &AppState,
    scope: &AccessScope,
    start: &RolloutStart,
    now: f64,
) -> Result<Rollout> {
    let RolloutStart {
        namespace,
        service,
        spec,
    } = start;
    check(scope, namespace, service)?;
    let (facts, _) = write::service_weights(state, namespace, service).await?;
    let versions: Vec<String> = facts.versions.iter().map(|v| v.version.clone()).collect();
    let mut problems = super::validate(spec, &versions, state.scrape_interval_s());
    if facts.protocol == ServiceProtocol::Tcp {
        problems.push(format!(
            "service: {namespace}/{service} is a TCP service: a rollout is judged on HTTP and gRPC requests, which TCP has none of"
        ));
    }
    if !facts.gateway_routes.is_empty() {
        problems.push(format!(
            "service: {} route it ({}); a rollout writes VirtualService weights, which those routes would override",
            if facts.gateway_routes.len() == 1 { "a Gateway API route" } else { "Gateway API routes" },
            facts.gateway_routes.join(", ")
        ));
    }
    let own = state.cluster()?.own().clone();
    let existing = store::get(&own, namespace, service).await?;
    if let Some(s) = &existing
        && !s.record.rollout.phase.is_done()
    {
        problems.push(format!(
            "service: a rollout of {namespace}/{service} is already {} ({} → {}, started by {}); abort it or wait for it to end",
            s.record.rollout.phase.label(),
            s.record.rollout.spec.stable,
            s.record.rollout.spec.canary,
            s.record.rollout.started_by
        ));
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(format!(
            "{} problem{}: {}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            problems.join("; ")
        )));
    }
    scope.require_may(state, &writes(namespace)).await?;
    let first = spec.steps[0];
    let mut record = Record {
        rollout: Rollout {
            namespace: namespace.clone(),
            service: service.clone(),
            spec: spec.clone(),
            phase: RolloutPhase::Running,
            progress: RolloutProgress::default(),
            canary_weight: first,
            started_by: scope.user.clone(),
            started_at: now,
            updated_at: now,
            next_judgement_at: Some(now + f64::from(spec.interval_s)),
            status: format!(
                "{} % of requests go to {}; the first judgement is in {} s",
                first, spec.canary, spec.interval_s
            ),
            queries: queries_of(namespace, service, spec),
            events: Vec::new(),
            may_control: false,
            control_problem: None,
        },
        starter: scope.identity.clone(),
    };
    record.push(RolloutEvent {
        at: now,
        by: Some(scope.user.clone()),
        control: Some(RolloutControl::Start),
        decision: None,
        measured: None,
        step: 0,
        canary_weight: first,
        message: format!(
            "started: {} → {} in steps of {} %, judged every {} s",
            spec.stable,
            spec.canary,
            spec.steps
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            spec.interval_s
        ),
    });
    // The record first: it is the lock against a second start (create, or
    // replace of a finished one at the version read); then the weights,
    // as the caller. Should Kubernetes refuse those, the record says the
    // rollout never started (it stays, as the attempt's trace).
    let saved = store::save(&own, &record, existing.and_then(|s| s.resource_version)).await?;
    let client = scope.client(state.cluster()?)?;
    let written = write_weights(state, scope, &client, namespace, service, spec, first).await;
    if let Err(err) = written {
        let mut failed = saved.record.clone();
        let message = format!("not started: the weights could not be written: {err}");
        failed.halt(
            RolloutPhase::Aborted,
            RolloutEvent {
                at: now,
                by: Some(scope.user.clone()),
                control: Some(RolloutControl::Abort),
                decision: None,
                measured: None,
                step: 0,
                canary_weight: 0,
                message,
            },
        );
        if let Err(e) = store::save(&own, &failed, saved.resource_version.clone()).await {
            tracing::error!(error = %e, service = %format!("{namespace}/{service}"), "could not record a rollout that did not start");
        }
        return Err(err);
    }
    let mut saved = saved;
    if let Ok(managers) = written
        && !managers.is_empty()
    {
        // Said on the timeline: whose fields the rollout now drives.
        let mut noted = saved.record.clone();
        if let Some(e) = noted.rollout.events.last_mut() {
            e.message.push_str(&format!(
                "; the route's weights were taken over from {}",
                managers.join(", ")
            ));
        }
        saved = store::save(&own, &noted, saved.resource_version.clone()).await?;
    }
    tracing::info!(user = %scope.user, service = %format!("{namespace}/{service}"), stable = %spec.stable, canary = %spec.canary, "rollout started");
    view(state, scope, saved.record).await
}

/// 400 for names that cannot be a service's, 403 before anything is read
/// when the caller may not see the namespace.
fn check(scope: &AccessScope, namespace: &str, service: &str) -> Result<()> {
    names::namespace(namespace)?;
    names::object("service", service)?;
    scope.check_namespace(namespace)
}

/// The rollout as `scope` sees it: with whether they may act on it.
async fn view(state: &AppState, scope: &AccessScope, record: Record) -> Result<Rollout> {
    let mut rollout = record.rollout;
    let auth = state.auth();
    let mut problem = None;
    for w in writes(&rollout.namespace) {
        if problem.is_none() && !auth.may(&scope.identity, &w).await? {
            problem = Some(format!(
                "Kubernetes RBAC does not let you {} (what a rollout's controls write)",
                w.describe()
            ));
        }
    }
    rollout.may_control = problem.is_none();
    rollout.control_problem = problem;
    Ok(rollout)
}

/// `GET /api/rollouts/{ns}/{service}`.
pub async fn get(
    state: &AppState,
    scope: &AccessScope,
    namespace: &str,
    service: &str,
) -> Result<Rollout> {
    check(scope, namespace, service)?;
    let own = state.cluster()?.own();
    match store::get(own, namespace, service).await? {
        Some(s) => view(state, scope, s.record).await,
        None => Err(Error::NotFound(format!(
            "no rollout of {namespace}/{service}"
        ))),
    }
}

/// `GET /api/rollouts[?namespace=]`: newest first.
pub async fn list(
    state: &AppState,
    scope: &AccessScope,
    namespace: Option<&str>,
) -> Result<RolloutList> {
    if let Some(ns) = namespace {
        names::namespace(ns)?;
        scope.check_namespace(ns)?;
    }
    let own = state.cluster()?.own();
    let mut rollouts = Vec::new();
    for s in store::list(own).await? {
        let r = &s.record.rollout;
        if scope.can_see(&r.namespace) && namespace.is_none_or(|ns| ns == r.namespace) {
            rollouts.push(view(state, scope, s.record).await?);
        }
    }
    rollouts.sort_by(|a, b| b.started_at.total_cmp(&a.started_at));
    let scenarios = if state.mode() == RunMode::Demo {
        demo_scenarios()
            .into_iter()
            .filter(|s| scope.can_see(&s.start.namespace))
            .collect()
    } else {
        Vec::new()
    };
    Ok(RolloutList {
        rollouts,
        scenarios,
    })
}

/// The demo's two ready-made rollouts: reviews v1 → v2 (healthy, promoted
/// in about a minute) and payments-api v1 → v2 (its 8 % of failed gRPC
/// calls roll it back after two judgements).
pub fn demo_scenarios() -> Vec<RolloutScenario> {
    let mut healthy = RolloutSpec::with_defaults("v1", "v2");
    healthy.steps = vec![20, 50, 100];
    healthy.interval_s = 15;
    healthy.analysis.min_success_pct = 95.0;
    // An absolute bound: at 20 % the canary's p99 comes from a few dozen
    // requests, and one histogram bucket more (100 → 250 ms) would read
    // as "2.5× the stable version's" on a healthy canary.
    healthy.analysis.max_p99_ratio = None;
    healthy.analysis.max_p99_ms = Some(1000.0);
    healthy.analysis.min_requests = 10;
    // payments-api serves about 2 calls a second: 30 s at 25 % is about
    // 16 calls, of which v2 fails one or more with odds of three in four
    // (1 − 0.92¹⁶); a single failure is under the 99 % asked.
    let mut failing = healthy.clone();
    failing.analysis.max_p99_ratio = Some(2.0);
    failing.analysis.max_p99_ms = None;
    failing.steps = vec![25, 50, 100];
    failing.interval_s = 30;
    failing.analysis.min_success_pct = 99.0;
    vec![
        RolloutScenario {
            title: "Healthy canary: reviews v1 → v2".into(),
            description: "reviews v2 answers as well as v1 (30 % slower, well within a p99 of 1 s): the weight goes 20 → 50 → 100 % every 15 s and the rollout promotes itself in about a minute.".into(),
            start: RolloutStart {
                namespace: "bookinfo".into(),
                service: "reviews".into(),
                spec: healthy,
            },
        },
        RolloutScenario {
            title: "Failing canary: payments-api v1 → v2".into(),
            description: "payments-api v2 fails 8 % of its gRPC calls (UNAVAILABLE), under the 99 % success required: after two failed judgements in a row (30 s apart, usually at 25 %) the rollout sends all traffic back to v1, in one to two minutes.".into(),
            start: RolloutStart {
                namespace: "payments".into(),
                service: "payments-api".into(),
                spec: failing,
            },
        },
    ]
}

/// Whether `control` applies in `phase`; else why not.
pub fn allowed(control: RolloutControl, phase: RolloutPhase) -> std::result::Result<(), String> {
    use RolloutControl as C;
    use RolloutPhase as P;
    let ok = match control {
        C::Start => false,
        C::Pause | C::Skip => phase == P::Running,
        C::Resume => phase == P::Paused,
        C::Abort | C::Promote => matches!(phase, P::Running | P::Paused),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the rollout is {}: it cannot be {}",
            phase.label(),
            match control {
                C::Start => "started again this way (start a new one)",
                C::Pause => "paused",
                C::Resume => "resumed",
                C::Abort => "aborted",
                C::Promote => "promoted",
                C::Skip => "moved on a step",
            }
        ))
    }
}

/// What `control` does to `record` at `now` by `user`: the new phase and
/// weight (pure; the caller writes the weights and the record).
pub fn apply_control(record: &mut Record, control: RolloutControl, user: &str, now: f64) {
    let r = &mut record.rollout;
    let spec = r.spec.clone();
    let (weight, step) = (r.canary_weight, r.progress.step);
    let (phase, weight, message, status, next) = match control {
        RolloutControl::Pause => (
            RolloutPhase::Paused,
            weight,
            format!("paused at {weight} %"),
            format!("paused by {user} at {weight} %; nothing moves until it is resumed"),
            None,
        ),
        RolloutControl::Resume => (
            RolloutPhase::Running,
            weight,
            format!("resumed at {weight} % (the weights set again)"),
            format!(
                "resumed at {weight} %; the next judgement is in {} s",
                spec.interval_s
            ),
            Some(now + f64::from(spec.interval_s)),
        ),
        RolloutControl::Abort => (
            RolloutPhase::Aborted,
            0,
            format!("aborted: all traffic back to {}", spec.stable),
            format!("aborted by {user}: {} takes all traffic", spec.stable),
            None,
        ),
        RolloutControl::Promote => (
            RolloutPhase::Promoted,
            100,
            format!("promoted by hand: all traffic to {}", spec.canary),
            format!("promoted by {user}: {} takes all traffic", spec.canary),
            None,
        ),
        RolloutControl::Skip => {
            r.progress.skip_analysis = true;
            (
                RolloutPhase::Running,
                weight,
                format!("the step at {weight} % moves on without analysis"),
                format!("moving on from {weight} % without analysis, as {user} asked"),
                Some(now),
            )
        }
        RolloutControl::Start => return,
    };
    r.phase = phase;
    r.status = status;
    r.next_judgement_at = next;
    if control == RolloutControl::Resume {
        r.progress.failures = 0;
    }
    record.push(RolloutEvent {
        at: now,
        by: Some(user.to_owned()),
        control: Some(control),
        decision: None,
        measured: None,
        step,
        canary_weight: weight,
        message,
    });
}

/// `POST /api/rollouts/{ns}/{service}/{control}`.
pub async fn control(
    state: &AppState,
    scope: &AccessScope,
    namespace: &str,
    service: &str,
    control: RolloutControl,
) -> Result<Rollout> {
    control_at(state, scope, namespace, service, control, state.now_s()).await
}

/// [`control`] as if it were `now` (Unix seconds).
pub async fn control_at(
    state: &AppState,
    scope: &AccessScope,
    namespace: &str,
    service: &str,
    control: RolloutControl,
    now: f64,
) -> Result<Rollout> {
    check(scope, namespace, service)?;
    let own = state.cluster()?.own().clone();
    let Some(stored) = store::get(&own, namespace, service).await? else {
        return Err(Error::NotFound(format!(
            "no rollout of {namespace}/{service}"
        )));
    };
    allowed(control, stored.record.rollout.phase).map_err(Error::Conflict)?;
    scope.require_may(state, &writes(namespace)).await?;
    let Stored {
        record: before,
        resource_version,
    } = stored;
    let mut after = before.clone();
    apply_control(&mut after, control, &scope.user, now);
    // The record first (at the version read: a judgement in between makes
    // this a 409 to retry), then the weights as the caller; refused, the
    // record goes back.
    let saved = store::save(&own, &after, resource_version).await?;
    let writes_weights = matches!(
        control,
        RolloutControl::Resume | RolloutControl::Abort | RolloutControl::Promote
    );
    if writes_weights {
        let client = scope.client(state.cluster()?)?;
        let r = &after.rollout;
        if let Err(err) = write_weights(
            state,
            scope,
            &client,
            namespace,
            service,
            &r.spec,
            r.canary_weight,
        )
        .await
        {
            if let Err(e) = store::save(&own, &before, saved.resource_version.clone()).await {
                tracing::error!(error = %e, "could not restore a rollout's record after its weights were refused");
            }
            return Err(err);
        }
    }
    tracing::info!(user = %scope.user, service = %format!("{namespace}/{service}"), control = control.as_str(), "rollout control");
    view(state, scope, saved.record).await
}

/// `GET /api/rollouts/{ns}/{service}/charts`: per version, success rate,
/// requests per second and p99 from a minute before the start to now (or
/// a minute after the end).
pub async fn charts(
    state: &AppState,
    scope: &AccessScope,
    namespace: &str,
    service: &str,
) -> Result<RolloutCharts> {
    let rollout = get(state, scope, namespace, service).await?;
    let prometheus = state.prometheus()?;
    let scrape = f64::from(state.scrape_interval_s().max(1));
    let start = rollout.started_at - 60.0;
    let end = if rollout.phase.is_done() {
        (rollout.updated_at + 60.0).min(state.now_s())
    } else {
        state.now_s()
    };
    // About 240 points, never finer than the scrape interval; each
    // point's rate spans two steps (at least two scrapes).
    let step = ((end - start) / 240.0).max(scrape).ceil();
    let mut window_spec = rollout.spec.clone();
    window_spec.interval_s = (2.0 * step).max(2.0 * scrape) as u32;
    let q = analysis::queries(namespace, service, &window_spec);
    let requests = q.request_rate;
    // A share (0 to 1), as every success-rate chart draws it.
    let success = format!("1 - ({})", q.error_share);
    let (a, b, c) = futures::join!(
        prometheus.query_range(&success, start, end, step),
        prometheus.query_range(&requests, start, end, step),
        prometheus.query_range(&q.p99, start, end, step),
    );
    let spec = &rollout.spec;
    let versions = [
        (spec.stable.clone(), format!("{} (stable)", spec.stable)),
        (spec.canary.clone(), format!("{} (canary)", spec.canary)),
    ];
    let chart = |kind, query: String, answer: Vec<crate::upstream::prometheus::RangeSeries>| {
        let series = versions
            .iter()
            .map(|(version, name)| Series {
                name: name.clone(),
                points: answer
                    .iter()
                    .find(|s| s.labels.get("destination_version") == Some(version))
                    .map(|s| {
                        s.points
                            .iter()
                            .map(|(t, v)| (*t, v.is_finite().then_some(*v)))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        Chart {
            kind,
            series,
            queries: vec![query; 2],
        }
    };
    let marks = rollout
        .events
        .iter()
        .scan(None, |last, e| {
            let changed = *last != Some(e.canary_weight);
            *last = Some(e.canary_weight);
            Some(changed.then_some((e.at, e.canary_weight)))
        })
        .flatten()
        .collect();
    Ok(RolloutCharts {
        charts: vec![
            chart(ChartKind::SuccessRate, success.clone(), a?),
            chart(ChartKind::RequestVolume, requests.clone(), b?),
            chart(ChartKind::RequestDuration, q.p99.clone(), c?),
        ],
        start,
        end,
        marks,
    })
}
