//! Canary rollouts: the list (`/rollouts`, with the demo's ready-made
//! scenarios), one rollout (`/rollouts/{namespace}/{service}`: its steps,
//! analysis, controls, charts of canary against stable with the step
//! boundaries marked, and the timeline of judgements with what Prometheus
//! answered), and the form that starts one, shown on a service's page.
//! Pages reload every few seconds while a rollout runs or is paused, and
//! stop once it is over. Every control asks for confirmation in the page.

pub mod model;

use std::time::Duration;

use leptos::either::Either;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::api::{self, ApiError};
use crate::charts;
use crate::components::layout::PageHeader;
use crate::components::state::{ErrorState, LoadingState, loaded};
use crate::components::utc_offset_s;
use crate::format;
use crate::nav::{ROLLOUTS, rollout_url};
use crate::types::{
    Chart, ChartKind, MAX_ROLLOUT_EVENTS, Rollout, RolloutCharts, RolloutControl, RolloutEvent,
    RolloutList, RolloutScenario, RolloutSpec, RolloutStart,
};
use crate::wizards::form::FieldErrors;
use model::{POLL_S, StartForm, field};

/// Size the rollout charts are drawn at; CSS scales them to the card.
const CHART_SIZE: (u32, u32) = (560, 250);

/// Calls `refetch` every [`POLL_S`] seconds while `live` holds; one timer
/// at a time, gone with the page.
fn poll_while(live: Memo<bool>, refetch: Callback<()>) {
    let timer = StoredValue::new(None::<IntervalHandle>);
    Effect::new(move |_| {
        if let Some(handle) = timer.get_value() {
            handle.clear();
        }
        let next = live
            .get()
            .then(|| {
                set_interval_with_handle(move || refetch.run(()), Duration::from_secs(POLL_S)).ok()
            })
            .flatten();
        timer.set_value(next);
    });
    on_cleanup(move || {
        if let Some(handle) = timer.try_get_value().flatten() {
            handle.clear();
        }
    });
}

/// The page of a service.
fn service_url(namespace: &str, service: &str) -> String {
    crate::wizards::page_url(namespace, service, None)
}

/// A phase's badge.
fn phase_badge(r: &Rollout) -> impl IntoView + use<> {
    view! { <span class=model::phase_class(r.phase) data-phase=r.phase.label()>{r.phase.label()}</span> }
}

/// A refusal of the server: its words, or the problems it names one per
/// line.
#[component]
fn Refusal(err: ApiError, what: &'static str) -> impl IntoView {
    let problems = model::server_problems(&err.message);
    let named = problems.iter().any(|p| !p.0.is_empty());
    if !named {
        return Either::Left(view! {
            <div class="form-error" role="alert">
                <p><strong>{format!("{what}: ")}</strong>{err.to_string()}</p>
            </div>
        });
    }
    let list = problems
        .into_iter()
        .map(|(name, problem)| view! { <li><code>{name}</code> ": " {problem}</li> })
        .collect_view();
    Either::Right(view! {
        <div class="form-error" role="alert">
            <p><strong>{format!("{what} (HTTP {}):", err.status)}</strong></p>
            <ul>{list}</ul>
        </div>
    })
}

// ---------------------------------------------------------------------------
// The list.
// ---------------------------------------------------------------------------

/// `/rollouts`.
#[component]
pub fn RolloutsPage() -> impl IntoView {
    let list = LocalResource::new(api::rollouts);
    let live = Memo::new(move |prev: Option<&bool>| match list.get() {
        Some(Ok(l)) => l.rollouts.iter().any(|r| !r.phase.is_done()),
        Some(Err(_)) | None => prev.copied().unwrap_or(false),
    });
    poll_while(live, Callback::new(move |()| list.refetch()));
    let asked: RwSignal<Option<RolloutScenario>> = RwSignal::new(None);
    let ask = Callback::new(move |s: RolloutScenario| asked.set(Some(s)));
    view! {
        <PageHeader item=ROLLOUTS />
        <div class="toolbar">
            <button type="button" on:click=move |_| list.refetch()>"Refresh"</button>
            <span class="toolbar-note">
                {move || if live.get() {
                    format!("A rollout is running: this list reloads every {POLL_S} s.")
                } else {
                    String::new()
                }}
            </span>
        </div>
        {loaded("rollouts", list, move |l: RolloutList| view! { <RolloutListView list=l ask=ask /> })}
        {move || asked.get().map(|s| view! {
            <StartScenarioDialog scenario=s on_cancel=Callback::new(move |()| asked.set(None)) />
        })}
    }
}

#[component]
fn RolloutListView(list: RolloutList, ask: Callback<RolloutScenario>) -> impl IntoView {
    let offset = utc_offset_s();
    let has_scenarios = !list.scenarios.is_empty();
    let table = if list.rollouts.is_empty() {
        Either::Left(view! {
            <section class="card empty-rollouts" aria-labelledby="no-rollouts">
                <h2 id="no-rollouts">"No rollout yet"</h2>
                <p>
                    "A canary rollout shifts a service's traffic to a new version step by step, judges the new version on the mesh's own metrics after each interval, and rolls it back by itself when the checks fail."
                </p>
                <p>
                    "To start one, open the service's page (from the "
                    <a href=crate::nav::GRAPH.path>"Traffic Graph"</a>
                    "'s side panel: “Manage traffic”) and fill in “Canary rollout” with the stable and the canary version. The service needs pods of both versions, labelled "
                    <code>"version=v1"</code> ", " <code>"version=v2"</code> "…"
                </p>
                {has_scenarios.then(|| view! { <p>"Or start one of the demo scenarios below."</p> })}
            </section>
        })
    } else {
        let rows = list
            .rollouts
            .iter()
            .map(|r| {
                let href = rollout_url(&r.namespace, &r.service);
                view! {
                    <tr>
                        <td class="nowrap"><a href=href>{format!("{}/{}", r.namespace, r.service)}</a></td>
                        <td class="nowrap"><code>{r.spec.stable.clone()}</code>" → "<code>{r.spec.canary.clone()}</code></td>
                        <td>{phase_badge(r)}</td>
                        <td class="nowrap">{model::weight_text(r)}</td>
                        <td class="nowrap">
                            {r.started_by.clone()}
                            <br />
                            <span class="muted">{format::datetime(r.started_at, offset)}</span>
                        </td>
                        <td class="detail">{r.status.clone()}</td>
                    </tr>
                }
            })
            .collect_view();
        Either::Right(view! {
            <section class="card" aria-labelledby="rollouts-heading">
                <h2 id="rollouts-heading">"Rollouts"</h2>
                <table class="data-table" aria-label="Rollouts">
                    <thead>
                        <tr>
                            <th scope="col">"Service"</th>
                            <th scope="col">"Stable → canary"</th>
                            <th scope="col">"Phase"</th>
                            <th scope="col">"Canary weight"</th>
                            <th scope="col">"Started by"</th>
                            <th scope="col">"Status"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </section>
        })
    };
    let live_of = |s: &RolloutScenario| {
        model::find_rollout(&list.rollouts, &s.start.namespace, &s.start.service)
            .filter(|r| !r.phase.is_done())
            .cloned()
    };
    let cards = list
        .scenarios
        .iter()
        .map(|s| {
            let busy = live_of(s);
            let scenario = s.clone();
            let blocked = busy.as_ref().map(|r| {
                let href = rollout_url(&r.namespace, &r.service);
                view! {
                    <p class="hint">
                        {format!("A rollout of {} is {}: ", r.service, r.phase.label())}
                        <a href=href>"open it"</a>
                        "."
                    </p>
                }
            });
            view! {
                <article class="scenario-card" aria-label=s.title.clone()>
                    <h3>{s.title.clone()}</h3>
                    <p>{s.description.clone()}</p>
                    <dl class="facts scenario-facts">
                        <dt>"Service"</dt>
                        <dd>{format!("{}/{}", s.start.namespace, s.start.service)}</dd>
                        <dt>"Versions"</dt>
                        <dd>{format!("{} → {}", s.start.spec.stable, s.start.spec.canary)}</dd>
                        <dt>"Steps"</dt>
                        <dd>{model::steps_text(&s.start.spec.steps)}</dd>
                        <dt>"Analysis"</dt>
                        <dd>{model::analysis_words(&s.start.spec)}</dd>
                    </dl>
                    {blocked}
                    <button
                        type="button"
                        class="primary"
                        disabled=busy.is_some()
                        on:click=move |_| ask.run(scenario.clone())
                    >
                        "Start"
                    </button>
                </article>
            }
        })
        .collect_view();
    let scenarios = has_scenarios.then(|| {
        view! {
            <section class="card" aria-labelledby="scenarios-heading">
                <h2 id="scenarios-heading">"Demo scenarios"</h2>
                <p class="hint">"Ready-made rollouts of the demo mesh: start one and watch it advance, or roll back, by itself."</p>
                <div class="scenario-grid">{cards}</div>
            </section>
        }
    });
    view! {
        {table}
        {scenarios}
    }
}

/// "Start this scenario?" with what it will do; starts it and opens its
/// page.
#[component]
fn StartScenarioDialog(scenario: RolloutScenario, on_cancel: Callback<()>) -> impl IntoView {
    let navigate = use_navigate();
    let go = Callback::new(move |url: String| navigate(&url, NavigateOptions::default()));
    let sending = RwSignal::new(false);
    let error: RwSignal<Option<ApiError>> = RwSignal::new(None);
    let start = StoredValue::new(scenario.start.clone());
    let confirm = move || {
        sending.set(true);
        error.set(None);
        spawn_local(async move {
            match api::start_rollout(&start.get_value()).await {
                Ok(r) => go.run(rollout_url(&r.namespace, &r.service)),
                Err(e) => {
                    let _ = sending.try_set(false);
                    let _ = error.try_set(Some(e));
                }
            }
        });
    };
    view! {
        <div
            class="modal-backdrop"
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    on_cancel.run(());
                }
            }
        >
            <div class="modal card" role="dialog" aria-modal="true" aria-labelledby="start-title">
                <h2 id="start-title">{format!("Start “{}”?", scenario.title)}</h2>
                <p>{scenario.description.clone()}</p>
                <dl class="facts">
                    <dt>"Service"</dt>
                    <dd>{format!("{}/{}", scenario.start.namespace, scenario.start.service)}</dd>
                    <dt>"Versions"</dt>
                    <dd>{format!("{} (stable) → {} (canary)", scenario.start.spec.stable, scenario.start.spec.canary)}</dd>
                    <dt>"Steps"</dt>
                    <dd>{model::steps_text(&scenario.start.spec.steps)}</dd>
                    <dt>"Analysis"</dt>
                    <dd>{model::analysis_words(&scenario.start.spec)}</dd>
                </dl>
                <p class="hint">"The rollout changes the service's traffic weights for everyone calling it, until it is promoted, rolled back or aborted."</p>
                {move || error.get().map(|e| view! { <Refusal err=e what="The rollout was not started" /> })}
                <div class="modal-actions">
                    <button type="button" class="primary" disabled=move || sending.get() on:click=move |_| confirm()>
                        {move || if sending.get() { "Starting…" } else { "Start rollout" }}
                    </button>
                    <button type="button" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                </div>
            </div>
        </div>
    }
}

// ---------------------------------------------------------------------------
// One rollout.
// ---------------------------------------------------------------------------

/// A control the page asks to confirm.
#[derive(Clone, Debug, PartialEq)]
struct Asked {
    control: RolloutControl,
    title: String,
    consequence: String,
}

/// `/rollouts/{namespace}/{service}`.
#[component]
pub fn RolloutPage() -> impl IntoView {
    let params = use_params_map();
    let namespace = Memo::new(move |_| params.read().get("namespace").unwrap_or_default());
    let service = Memo::new(move |_| params.read().get("service").unwrap_or_default());
    let rollout = LocalResource::new(move || {
        let (ns, svc) = (namespace.get(), service.get());
        async move { api::rollout(&ns, &svc).await }
    });
    let chart_data = LocalResource::new(move || {
        let (ns, svc) = (namespace.get(), service.get());
        async move { api::rollout_charts(&ns, &svc).await }
    });
    // Reloads while the rollout may still change; a failed reload keeps
    // what was known, a 404 stops.
    let live = Memo::new(move |prev: Option<&bool>| match rollout.get() {
        Some(Ok(r)) => !r.phase.is_done(),
        Some(Err(e)) if e.status == 404 => false,
        _ => prev.copied().unwrap_or(false),
    });
    let reload = Callback::new(move |()| {
        rollout.refetch();
        chart_data.refetch();
    });
    poll_while(live, reload);

    let promql_open = RwSignal::new(false);
    let asked: RwSignal<Option<Asked>> = RwSignal::new(None);
    let sending = RwSignal::new(false);
    let control_error: RwSignal<Option<ApiError>> = RwSignal::new(None);
    let done_note: RwSignal<Option<String>> = RwSignal::new(None);
    let ask = Callback::new(move |a: Asked| {
        control_error.set(None);
        asked.set(Some(a));
    });
    let send = move |control: RolloutControl| {
        sending.set(true);
        control_error.set(None);
        spawn_local(async move {
            let (ns, svc) = (namespace.get_untracked(), service.get_untracked());
            let result = api::control_rollout(&ns, &svc, control).await;
            let _ = sending.try_set(false);
            match result {
                Ok(r) => {
                    let _ = asked.try_set(None);
                    let _ = done_note.try_set(Some(format!(
                        "{} done: the rollout is {} now.",
                        model::control_label(control),
                        r.phase.label()
                    )));
                    reload.run(());
                }
                Err(e) => {
                    let _ = control_error.try_set(Some(e));
                }
            }
        });
    };

    let summary = move || {
        Suspend::new(async move {
            match rollout.await {
                Ok(r) => Either::Left(view! { <RolloutSummary rollout=r ask=ask /> }),
                Err(e) if e.status == 404 => Either::Right(Either::Left(view! {
                    <section class="card notice" aria-label="No rollout">
                        <p>{format!("No rollout of {}/{} has been started.", namespace.get_untracked(), service.get_untracked())}</p>
                        <p>
                            "Start one from "
                            <a href=service_url(&namespace.get_untracked(), &service.get_untracked())>"the service's page"</a>
                            " (“Canary rollout”), or see "
                            <a href=ROLLOUTS.path>"all rollouts"</a>
                            "."
                        </p>
                    </section>
                })),
                Err(e) => Either::Right(Either::Right(
                    view! { <ErrorState errors=vec![e.to_string()] status=e.status /> },
                )),
            }
        })
    };
    let chart_view = move || {
        Suspend::new(async move {
            match chart_data.await {
                Ok(c) => Either::Left(view! { <RolloutChartsView charts=c /> }),
                // No rollout: the summary says so.
                Err(e) if e.status == 404 => Either::Right(None),
                Err(e) => Either::Right(Some(view! {
                    <ErrorState errors=vec![format!("The charts could not be loaded: {e}")] status=e.status />
                })),
            }
        })
    };
    let details = move || {
        Suspend::new(async move {
            rollout.await.ok().map(|r| {
                view! {
                    <Timeline rollout=r.clone() />
                    <Measurements rollout=r open=promql_open />
                }
            })
        })
    };
    let dialog = move || {
        asked.get().map(|a| {
            let control = a.control;
            let drastic = model::control_is_drastic(control);
            view! {
                <div
                    class="modal-backdrop"
                    on:keydown=move |ev| {
                        if ev.key() == "Escape" {
                            asked.set(None);
                        }
                    }
                >
                    <div class="modal modal-narrow card" role="dialog" aria-modal="true" aria-labelledby="control-title">
                        <h2 id="control-title">{a.title.clone()}</h2>
                        <p>{a.consequence.clone()}</p>
                        {move || control_error.get().map(|e| view! {
                            <p class="form-error" role="alert">{format!("Not done: {e}")}</p>
                        })}
                        <div class="modal-actions">
                            <button
                                type="button"
                                class=if drastic { "danger" } else { "primary" }
                                disabled=move || sending.get()
                                on:click=move |_| send(control)
                            >
                                {move || if sending.get() { "Sending…".to_owned() } else { model::control_label(control).to_owned() }}
                            </button>
                            <button type="button" on:click=move |_| asked.set(None)>"Cancel"</button>
                        </div>
                    </div>
                </div>
            }
        })
    };
    view! {
        <header class="page-header">
            <h1>{move || format!("Rollout of {}", service.get())}</h1>
            <p class="summary">
                "Namespace " <code>{move || namespace.get()}</code>
                " · service "
                <a href=move || service_url(&namespace.get(), &service.get())>{move || service.get()}</a>
                " · "
                <a href=ROLLOUTS.path>"all rollouts"</a>
            </p>
        </header>
        <div class="toolbar">
            <button type="button" on:click=move |_| reload.run(())>"Refresh"</button>
            <span class="toolbar-note">
                {move || if live.get() {
                    format!("Reloads every {POLL_S} s while the rollout runs or is paused.")
                } else {
                    String::new()
                }}
            </span>
        </div>
        {move || done_note.get().map(|n| view! {
            <p class="result-note" role="status">
                {n} " "
                <button type="button" class="link-button" on:click=move |_| done_note.set(None)>"Dismiss"</button>
            </p>
        })}
        <Transition fallback=move || view! { <LoadingState what="the rollout" /> }>{summary}</Transition>
        <Transition fallback=move || view! { <LoadingState what="the charts" /> }>{chart_view}</Transition>
        <Transition fallback=|| ()>{details}</Transition>
        {dialog}
    }
}

/// Phase, steps, status, settings and controls.
#[component]
fn RolloutSummary(rollout: Rollout, ask: Callback<Asked>) -> impl IntoView {
    let r = rollout;
    let offset = utc_offset_s();
    let steps = model::step_states(&r)
        .into_iter()
        .map(|(w, state)| {
            let current = (state == model::StepState::Current).then_some("step");
            view! {
                <li class=state.class() aria-current=current>
                    <span class="step-weight">{format!("{w} %")}</span>
                    <span class="step-note">{state.note()}</span>
                </li>
            }
        })
        .collect_view();
    let next = r
        .next_judgement_at
        .filter(|_| !r.phase.is_done())
        .map(|t| format::clock(t, offset))
        .unwrap_or_else(|| "–".to_owned());
    let failures = format!(
        "{} of {} that roll back",
        r.progress.failures, r.spec.analysis.failure_limit
    );
    let started = format!(
        "{} · {}",
        r.started_by,
        format::datetime(r.started_at, offset)
    );
    view! {
        <section class="card rollout-summary" aria-label="Rollout summary">
            <div class="rollout-head">
                {phase_badge(&r)}
                <span class="rollout-versions">
                    <code>{r.spec.stable.clone()}</code>" (stable) → "<code>{r.spec.canary.clone()}</code>" (canary)"
                </span>
                <strong class="rollout-weight">{format!("Canary weight now: {} %", r.canary_weight)}</strong>
            </div>
            <ol class="rollout-steps" aria-label="Steps">{steps}</ol>
            <p class="rollout-status">{r.status.clone()}</p>
            <dl class="facts">
                <dt>"Analysis"</dt>
                <dd>{model::analysis_words(&r.spec)}</dd>
                <dt>"Failed judgements in a row"</dt>
                <dd>{failures}</dd>
                <dt>"Next judgement"</dt>
                <dd>{next}</dd>
                <dt>"Started by"</dt>
                <dd>{started}</dd>
            </dl>
            <Controls rollout=r.clone() ask=ask />
        </section>
    }
}

/// The buttons the phase allows, or why there are none.
#[component]
fn Controls(rollout: Rollout, ask: Callback<Asked>) -> impl IntoView {
    let r = rollout;
    if r.phase.is_done() {
        return Either::Left(view! {
            <p class="hint">{format!("The rollout is over ({}): nothing is left to control.", r.phase.label())}</p>
        });
    }
    let may = r.may_control;
    let problem = r.control_problem.clone().unwrap_or_else(|| {
        "Kubernetes RBAC does not let you change this service's routing".to_owned()
    });
    let title = (!may).then(|| problem.clone());
    let buttons = model::controls(r.phase, &r.progress)
        .into_iter()
        .map(|c| {
            let (q_title, consequence) = model::control_question(c, &r);
            let asked = Asked {
                control: c,
                title: q_title,
                consequence,
            };
            view! {
                <button
                    type="button"
                    class=if model::control_is_drastic(c) { "danger" } else { "" }
                    disabled=!may
                    data-denied=(!may).then_some("rbac")
                    title=title.clone()
                    on:click=move |_| ask.run(asked.clone())
                >
                    {model::control_label(c)}
                </button>
            }
        })
        .collect_view();
    let skip_note = r.progress.skip_analysis.then(|| {
        view! { <p class="hint">"Analysis skipped, as asked: the next judgement moves on without looking at the metrics."</p> }
    });
    let readonly = (!may).then(|| {
        view! { <p class="ns-readonly" role="note">{format!("Read-only for you: {problem}.")}</p> }
    });
    Either::Right(view! {
        <div class="rollout-controls" role="group" aria-label="Controls">{buttons}</div>
        {skip_note}
        {readonly}
    })
}

/// The three charts, canary against stable, with the step boundaries.
#[component]
fn RolloutChartsView(charts: RolloutCharts) -> impl IntoView {
    let offset = utc_offset_s();
    let marks = model::chart_marks(&charts.marks);
    let cards = charts
        .charts
        .iter()
        .map(|c| {
            view! {
                <RolloutChart
                    chart=c.clone()
                    start=charts.start
                    end=charts.end
                    marks=marks.clone()
                    offset_s=offset
                />
            }
        })
        .collect_view();
    view! {
        <section class="rollout-charts" aria-labelledby="rollout-charts-heading">
            <h2 id="rollout-charts-heading" class="section-heading">"Canary against stable"</h2>
            <p class="hint">"Dashed lines mark the step boundaries, labelled with the canary's weight from then on."</p>
            <div class="chart-grid">{cards}</div>
        </section>
    }
}

fn chart_title(kind: ChartKind) -> String {
    match kind {
        ChartKind::RequestDuration => "Request Duration (p99)".to_owned(),
        k => k.title().to_owned(),
    }
}

#[component]
fn RolloutChart(
    chart: Chart,
    start: f64,
    end: f64,
    marks: Vec<charts::Mark>,
    offset_s: i64,
) -> impl IntoView {
    let (lines, unit) = model::chart_lines(&chart);
    let title = chart_title(chart.kind);
    let legend = lines
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let last = s.points.iter().rev().find_map(|p| p.1);
            let latest = last
                .map(|v| format::value(v, unit))
                .unwrap_or_else(|| "–".into());
            view! {
                <li>
                    <span class="swatch" style=format!("background: {}", charts::palette_hex(i))></span>
                    {s.name.clone()}
                    <span class="legend-latest">{latest}</span>
                </li>
            }
        })
        .collect_view();
    let weights: Vec<&str> = marks.iter().map(|m| m.label.as_str()).collect();
    let description = format!(
        "{title} by version over the rollout; step boundaries at {}",
        if weights.is_empty() {
            "none".to_owned()
        } else {
            weights.join(", ")
        }
    );
    let body = if charts::has_data(&chart) {
        match charts::marked_lines_svg(&lines, unit, start, end, CHART_SIZE, offset_s, &marks) {
            Ok(svg) => view! {
                <div class="chart-svg" role="img" aria-label=description inner_html=svg></div>
            }
            .into_any(),
            Err(err) => view! {
                <p class="chart-empty">{format!("Could not draw this chart: {err}")}</p>
            }
            .into_any(),
        }
    } else {
        view! {
            <p class="chart-empty">
                <strong>"No traffic yet"</strong>
                <span>"Prometheus has no requests of either version in this time."</span>
            </p>
        }
        .into_any()
    };
    let queries = chart.queries.clone();
    let names: Vec<String> = chart.series.iter().map(|s| s.name.clone()).collect();
    view! {
        <figure class="card chart-card" aria-label=format!("{title} chart")>
            <figcaption class="chart-head">
                <h3>{title.clone()}</h3>
                <span class="chart-unit">{format::unit_name(unit)}</span>
            </figcaption>
            <ul class="series-legend" aria-label="Versions">{legend}</ul>
            {body}
            <details class="promql">
                <summary>"PromQL"</summary>
                {names
                    .into_iter()
                    .zip(queries)
                    .map(|(name, q)| view! { <p><span class="q-name">{name}</span><code>{q}</code></p> })
                    .collect_view()}
            </details>
        </figure>
    }
}

/// The timeline, newest first.
#[component]
fn Timeline(rollout: Rollout) -> impl IntoView {
    let offset = utc_offset_s();
    let truncated = rollout.events.len() >= MAX_ROLLOUT_EVENTS;
    let rows = rollout
        .events
        .iter()
        .rev()
        .map(|e| event_row(e, offset))
        .collect_view();
    let empty = rollout.events.is_empty().then(|| {
        view! { <tr><td colspan="5" class="empty-row">"Nothing has happened yet."</td></tr> }
    });
    view! {
        <section class="card" aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">"Timeline"</h2>
            <p class="hint">
                "Newest first. The controller judges the canary after each interval; people start, pause, resume, skip, promote and abort."
                {truncated.then(|| format!(" Only the latest {MAX_ROLLOUT_EVENTS} entries are kept."))}
            </p>
            <table class="data-table timeline" aria-label="Timeline">
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        <th scope="col">"By"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col" class="num">"Canary weight"</th>
                        <th scope="col">"What happened"</th>
                    </tr>
                </thead>
                <tbody>{rows}{empty}</tbody>
            </table>
        </section>
    }
}

fn event_row(e: &RolloutEvent, offset: i64) -> impl IntoView + use<> {
    let checks = e
        .decision
        .as_ref()
        .filter(|d| !d.checks.is_empty())
        .map(|d| {
            let items = d
                .checks
                .iter()
                .map(|c| {
                    let v = model::check_view(c);
                    let badge = match v.outcome {
                        "passed" => "badge badge-ok",
                        "failed" => "badge badge-bad",
                        _ => "badge badge-muted",
                    };
                    view! {
                        <li>
                            <span class=badge>{v.outcome}</span>
                            " " <strong>{v.name}</strong> " "
                            {v.observed}
                            <span class="muted">{format!(" (limit {})", v.limit)}</span>
                        </li>
                    }
                })
                .collect_view();
            view! { <ul class="checks" aria-label="Checks">{items}</ul> }
        });
    view! {
        <tr>
            <td class="nowrap" title=format::datetime(e.at, offset)>{format::clock(e.at, offset)}</td>
            <td>{model::event_by(e).to_owned()}</td>
            <td><span class=model::action_class(e)>{model::event_action(e)}</span></td>
            <td class="num">{format!("{} %", e.canary_weight)}</td>
            <td>{e.message.clone()}{checks}</td>
        </tr>
    }
}

/// The analysis' PromQL and each judgement's numbers, folded away.
#[component]
fn Measurements(rollout: Rollout, open: RwSignal<bool>) -> impl IntoView {
    let offset = utc_offset_s();
    let q = rollout.queries.clone();
    let interval = format::duration_words(f64::from(rollout.spec.interval_s));
    let judged: Vec<&RolloutEvent> = rollout
        .events
        .iter()
        .rev()
        .filter(|e| e.measured.is_some())
        .collect();
    let rows = judged
        .iter()
        .map(|e| {
            let time = format::clock(e.at, offset);
            let m = e.measured.clone().unwrap_or_default();
            match m.unavailable {
                Some(why) => Either::Left(view! {
                    <tr>
                        <td>{time}</td>
                        <td colspan="6" class="detail">{format!("Prometheus could not be asked: {why}")}</td>
                    </tr>
                }),
                None => {
                    let [cn, cs, cp] = model::measured_cells(&m.canary);
                    let [sn, ss, sp] = model::measured_cells(&m.stable);
                    Either::Right(view! {
                        <tr>
                            <td>{time}</td>
                            <td class="num">{cn}</td>
                            <td class="num">{cs}</td>
                            <td class="num">{cp}</td>
                            <td class="num">{sn}</td>
                            <td class="num">{ss}</td>
                            <td class="num">{sp}</td>
                        </tr>
                    })
                }
            }
        })
        .collect_view();
    let none = judged.is_empty().then(|| {
        view! { <tr><td colspan="7" class="empty-row">"No judgement yet."</td></tr> }
    });
    view! {
        <details class="card rollout-promql" prop:open=move || open.get()>
            <summary on:click=move |ev| {
                // The page redraws while the rollout runs; the signal keeps
                // the section open across redraws.
                ev.prevent_default();
                open.update(|o| *o = !*o);
            }>
                <h2>"PromQL and measured numbers"</h2>
            </summary>
            <p class="hint">
                {format!("Each judgement evaluates these queries at its own time, over the interval ({interval}) before it.")}
            </p>
            <dl class="queries">
                <dt>"Requests per version"</dt>
                <dd><code>{q.requests}</code></dd>
                <dt>"Share of failed answers per version"</dt>
                <dd><code>{q.error_share}</code></dd>
                <dt>"p99 per version (ms)"</dt>
                <dd><code>{q.p99}</code></dd>
            </dl>
            <table class="data-table" aria-label="Measurements">
                <thead>
                    <tr>
                        <th scope="col" rowspan="2">"Judgement"</th>
                        <th scope="colgroup" colspan="3">"Canary " <code>{rollout.spec.canary.clone()}</code></th>
                        <th scope="colgroup" colspan="3">"Stable " <code>{rollout.spec.stable.clone()}</code></th>
                    </tr>
                    <tr>
                        <th scope="col" class="num">"Requests"</th>
                        <th scope="col" class="num">"Success"</th>
                        <th scope="col" class="num">"p99"</th>
                        <th scope="col" class="num">"Requests"</th>
                        <th scope="col" class="num">"Success"</th>
                        <th scope="col" class="num">"p99"</th>
                    </tr>
                </thead>
                <tbody>{rows}{none}</tbody>
            </table>
        </details>
    }
}

// ---------------------------------------------------------------------------
// The start form (on a service's page).
// ---------------------------------------------------------------------------

/// The form that starts a rollout of `namespace/service`, prefilled with
/// the defaults between its first two versions; opens the rollout's page
/// once started.
#[component]
pub fn StartRolloutForm(
    namespace: String,
    service: String,
    /// The service's versions (its pods' `version` labels).
    versions: Vec<String>,
    /// Whether Kubernetes RBAC lets the caller write the routing.
    may_write: bool,
    /// Why not.
    write_problem: Option<String>,
) -> impl IntoView {
    if versions.len() < 2 {
        let found = if versions.is_empty() {
            "none".to_owned()
        } else {
            versions.join(", ")
        };
        return Either::Left(view! {
            <p class="hint">
                {format!("A canary rollout needs two versions of the service, told apart by their pods' version label (version=v1, version=v2, …). Versions found: {found}.")}
            </p>
        });
    }
    let initial = StartForm::from_spec(&RolloutSpec::with_defaults(&versions[0], &versions[1]));
    let form = RwSignal::new(initial);
    let show_errors = RwSignal::new(false);
    let sending = RwSignal::new(false);
    // The refusal, with the form it refused.
    let refusal: RwSignal<Option<(StartForm, ApiError)>> = RwSignal::new(None);
    let ns = StoredValue::new(namespace);
    let svc = StoredValue::new(service);
    let request = Memo::new(move |_| form.with(|f| f.start(&ns.get_value(), &svc.get_value())));
    let errors = Signal::derive(move || {
        let mut shown = if show_errors.get() {
            request.with(|r| r.clone().err().unwrap_or_default())
        } else {
            FieldErrors::default()
        };
        refusal.with(|r| {
            if let Some((refused, err)) = r
                && form.with(|f| f == refused)
            {
                shown.0.extend(model::server_field_errors(&err.message).0);
            }
        });
        shown
    });
    let navigate = use_navigate();
    let go = Callback::new(move |url: String| navigate(&url, NavigateOptions::default()));
    let submit = move || {
        let start: RolloutStart = match request.get_untracked() {
            Ok(s) => s,
            Err(_) => {
                show_errors.set(true);
                return;
            }
        };
        let sent = form.get_untracked();
        sending.set(true);
        refusal.set(None);
        spawn_local(async move {
            match api::start_rollout(&start).await {
                Ok(r) => go.run(rollout_url(&r.namespace, &r.service)),
                Err(e) => {
                    let _ = sending.try_set(false);
                    let _ = refusal.try_set(Some((sent, e)));
                }
            }
        });
    };
    let options: Vec<(String, String)> = versions.iter().map(|v| (v.clone(), v.clone())).collect();
    let problem = write_problem.unwrap_or_else(|| {
        "Kubernetes RBAC does not let you write Istio objects in this namespace".to_owned()
    });
    let readonly = (!may_write).then(|| {
        view! {
            <p class="ns-readonly" role="note">
                {format!("Read-only for you: {problem}. Starting a rollout is off.")}
            </p>
        }
    });
    let client_note = move || {
        (show_errors.get() && request.with(Result::is_err)).then(|| {
            view! { <p class="form-error" role="alert">"Fix the fields marked in red; nothing was sent."</p> }
        })
    };
    let refused = move || {
        refusal
            .get()
            .map(|(_, e)| view! { <Refusal err=e what="The rollout was not started" /> })
    };
    Either::Right(view! {
        {readonly}
        <form
            class="wizard-form rollout-form"
            aria-label="Start a canary rollout"
            novalidate
            on:submit=move |ev| {
                ev.prevent_default();
                submit();
            }
        >
            <fieldset class="plain-group" disabled=!may_write>
                <p class="hint">{model::defaults_words()}</p>
                <fieldset class="wizard-group">
                    <legend>"Versions and steps"</legend>
                    <div class="field-row">
                        {select(form, "Stable version", "serving now", field::STABLE, options.clone(), errors, |f| f.stable.clone(), |f, v| f.stable = v)}
                        {select(form, "Canary version", "the new one", field::CANARY, options, errors, |f| f.canary.clone(), |f, v| f.canary = v)}
                        {input(form, "Steps (% of traffic)", "comma-separated and increasing (10, 25, 50, 100), or a step size and maximum (every 10 up to 50); promoted after the last", field::STEPS, false, errors, |f| f.steps.clone(), |f, v| f.steps = v)}
                        {input(form, "Interval (s)", "between judgements", field::INTERVAL, true, errors, |f| f.interval_s.clone(), |f, v| f.interval_s = v)}
                    </div>
                </fieldset>
                <fieldset class="wizard-group">
                    <legend>"Analysis: the checks after each interval"</legend>
                    <div class="field-row">
                        {input(form, "Min success rate (%)", "answers without a 5xx", field::MIN_SUCCESS, true, errors, |f| f.min_success_pct.clone(), |f, v| f.min_success_pct = v)}
                        {input(form, "Max p99 (ms)", "optional", field::MAX_P99_MS, true, errors, |f| f.max_p99_ms.clone(), |f, v| f.max_p99_ms = v)}
                        {input(form, "Max p99 vs stable (×)", "optional; 1.5: at most 50 % slower", field::MAX_P99_RATIO, true, errors, |f| f.max_p99_ratio.clone(), |f, v| f.max_p99_ratio = v)}
                        {input(form, "Min canary requests", "per interval to judge it; fewer: the step waits", field::MIN_REQUESTS, true, errors, |f| f.min_requests.clone(), |f, v| f.min_requests = v)}
                        {input(form, "Failures to roll back", "failed judgements in a row", field::FAILURE_LIMIT, true, errors, |f| f.failure_limit.clone(), |f, v| f.failure_limit = v)}
                    </div>
                </fieldset>
                {client_note}
                {refused}
                <div class="modal-actions">
                    <button type="submit" class="primary" disabled=move || sending.get() || !may_write title=(!may_write).then(|| problem.clone())>
                        {move || if sending.get() { "Starting…" } else { "Start rollout" }}
                    </button>
                    <span class="hint">"Then the controller moves the weights by itself; pause, promote or abort it from the rollout's page."</span>
                </div>
            </fieldset>
        </form>
    })
}

/// One text input of the start form, with its hint and error.
#[allow(clippy::too_many_arguments)]
fn input(
    form: RwSignal<StartForm>,
    label: &'static str,
    hint: &'static str,
    name: &'static str,
    narrow: bool,
    errors: Signal<FieldErrors>,
    get: fn(&StartForm) -> String,
    set: fn(&mut StartForm, String),
) -> impl IntoView + use<> {
    let id = format!("rollout-{}", name.replace('.', "-"));
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let value = Memo::new(move |_| form.with(get));
    let error = Memo::new(move |_| errors.with(|e| e.get(name)));
    view! {
        <div class=if narrow { "field" } else { "field field-wide" }>
            <label class="field-label" for=id.clone()>{label}</label>
            <input
                id=id
                type="text"
                inputmode=narrow.then_some("decimal")
                autocomplete="off"
                prop:value=move || value.get()
                on:input=move |ev| form.update(|f| set(f, event_target_value(&ev)))
                aria-describedby=format!("{hint_id} {error_id}")
                aria-invalid=move || error.with(Option::is_some).then_some("true")
            />
            <span class="field-hint" id=hint_id>{hint}</span>
            <span class="field-error" id=error_id>{move || error.get()}</span>
        </div>
    }
}

/// One version select of the start form.
#[allow(clippy::too_many_arguments)]
fn select(
    form: RwSignal<StartForm>,
    label: &'static str,
    hint: &'static str,
    name: &'static str,
    options: Vec<(String, String)>,
    errors: Signal<FieldErrors>,
    get: fn(&StartForm) -> String,
    set: fn(&mut StartForm, String),
) -> impl IntoView + use<> {
    let id = format!("rollout-{name}");
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let value = Memo::new(move |_| form.with(get));
    let error = Memo::new(move |_| errors.with(|e| e.get(name)));
    view! {
        <div class="field">
            <label class="field-label" for=id.clone()>{label}</label>
            <select
                id=id
                prop:value=move || value.get()
                on:change=move |ev| form.update(|f| set(f, event_target_value(&ev)))
                aria-describedby=format!("{hint_id} {error_id}")
                aria-invalid=move || error.with(Option::is_some).then_some("true")
            >
                {options
                    .into_iter()
                    .map(|(v, text)| view! { <option value=v>{text}</option> })
                    .collect_view()}
            </select>
            <span class="field-hint" id=hint_id>{hint}</span>
            <span class="field-error" id=error_id>{move || error.get()}</span>
        </div>
    }
}
