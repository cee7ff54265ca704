//! One service: its versions and the weights in force, the Istio objects
//! configuring it, and traffic management: a dialog per wizard (form,
//! server-side dry run with diffs and Kubernetes' refusals, apply, and
//! "take over these fields" as an explicit second step after a
//! field-manager conflict), and removal of what the wizards wrote. The
//! open dialog lives in the URL (`?wizard=traffic-shifting`), so it can
//! be linked to. Writes are made with the caller's own credentials. Below
//! them, the service's canary rollout, or the form that starts one.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::api::{self, ApiError};
use crate::components::state::{LoadingState, loaded};
use crate::nav::rollout_url;
use crate::pages::graph::GraphUrl;
use crate::pages::istio::{self, IstioUrl, validity_badge};
use crate::pages::rollouts::StartRolloutForm;
use crate::pages::rollouts::model::{self as rollout_model, find_rollout};
use crate::types::{ObjectAction, ServiceProtocol, ServiceTraffic, WizardOutcome, WizardRequest};
use crate::wizards::editors::{self, Editor};
use crate::wizards::form::FieldErrors;
use crate::wizards::preview::Preview;
use crate::wizards::review::{Gate, applied_labels, gate, invalid_fields, outcome_summary};
use crate::wizards::{self, DialogTarget, WIZARD_PARAM, not_offered, wizards_for};

/// `/services/{namespace}/{name}`.
#[component]
pub fn ServicePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let namespace = Memo::new(move |_| params.read().get("namespace").unwrap_or_default());
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let dialog = Memo::new(move |_| {
        query
            .read()
            .get(WIZARD_PARAM)
            .and_then(|w| DialogTarget::parse(&w))
    });
    let traffic = LocalResource::new(move || {
        let (ns, name) = (namespace.get(), name.get());
        async move { api::service_traffic(ns, name).await }
    });
    let done: RwSignal<Option<WizardOutcome>> = RwSignal::new(None);
    let navigate = use_navigate();
    let open = Callback::new(move |target: Option<DialogTarget>| {
        let url = wizards::page_url(&namespace.get_untracked(), &name.get_untracked(), target);
        navigate(&url, NavigateOptions::default());
    });
    let finished = Callback::new(move |outcome: WizardOutcome| {
        done.set(Some(outcome));
        open.run(None);
        traffic.refetch();
    });
    view! {
        <header class="page-header">
            <h1>{move || format!("Service {}", name.get())}</h1>
            <p class="summary">
                "Namespace " <code>{move || namespace.get()}</code>
                " · its versions, the Istio objects that configure it, and traffic management for it."
            </p>
        </header>
        <div class="toolbar">
            <button type="button" on:click=move |_| traffic.refetch()>"Refresh"</button>
        </div>
        {move || done.get().map(|o| view! {
            <Done outcome=o on_dismiss=Callback::new(move |()| done.set(None)) />
        })}
        {loaded("the service", traffic, move |t: ServiceTraffic| view! {
            <ServiceView traffic=t dialog=dialog open=open finished=finished />
        })}
    }
}

/// The page for `traffic`'s service on the traffic graph, its nodes found.
fn graph_url(namespace: &str, name: &str) -> String {
    GraphUrl {
        namespaces: namespace.to_owned(),
        find: format!("name = {name}"),
        ..GraphUrl::default()
    }
    .page_url()
}

fn protocol_label(p: ServiceProtocol) -> &'static str {
    match p {
        ServiceProtocol::Http => "HTTP",
        ServiceProtocol::Grpc => "gRPC",
        ServiceProtocol::Tcp => "TCP",
    }
}

/// What was just applied or removed, with where to see it.
#[component]
fn Done(outcome: WizardOutcome, on_dismiss: Callback<()>) -> impl IntoView {
    let ns = outcome.service.namespace.clone();
    let name = outcome.service.name.clone();
    let kept: Vec<_> = outcome
        .objects
        .iter()
        .filter(|o| o.action != ObjectAction::Delete)
        .map(|o| {
            let href = IstioUrl::default()
                .with_object(&o.namespace, o.kind, &o.name)
                .page_url();
            view! { <li><a href=href>{format!("{} {}/{}", o.kind.label(), o.namespace, o.name)}</a></li> }
        })
        .collect();
    let warnings = outcome.warnings.clone();
    view! {
        <section class="result-note wizard-done" role="status" aria-label="Outcome">
            <p><strong>{outcome_summary(&outcome)}</strong></p>
            {(!kept.is_empty()).then(|| view! { <ul class="done-objects">{kept}</ul> })}
            {(!warnings.is_empty()).then(|| view! {
                <ul class="warnings">{warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
            })}
            <p class="links">
                <a href=istio::service_url(&ns, &name)>"See it in Istio config"</a>
                " "
                <a href=graph_url(&ns, &name)>"Open the traffic graph"</a>
                " "
                <button type="button" class="link-button" on:click=move |_| on_dismiss.run(())>"Dismiss"</button>
            </p>
        </section>
    }
}

#[component]
fn ServiceView(
    traffic: ServiceTraffic,
    dialog: Memo<Option<DialogTarget>>,
    open: Callback<Option<DialogTarget>>,
    finished: Callback<WizardOutcome>,
) -> impl IntoView {
    let stored = StoredValue::new(traffic.clone());
    let ns = traffic.service.namespace.clone();
    let name = traffic.service.name.clone();
    let dialog_view = move || {
        dialog.get().map(|target| {
            view! {
                <WizardDialog
                    traffic=stored.get_value()
                    target=target
                    on_close=Callback::new(move |()| open.run(None))
                    on_done=finished
                />
            }
        })
    };
    view! {
        <div class="service-grid">
            <section class="card" aria-labelledby="service-facts">
                <h2 id="service-facts">"Service"</h2>
                <dl class="facts">
                    <dt>"Namespace"</dt><dd>{ns.clone()}</dd>
                    <dt>"Protocol"</dt><dd>{protocol_label(traffic.protocol)}</dd>
                    <dt>"Port"</dt><dd>{traffic.port.map(|p| p.to_string()).unwrap_or_else(|| "–".into())}</dd>
                    <dt>"Versions"</dt><dd>{traffic.versions.len()}</dd>
                </dl>
                <p class="links">
                    <a href=istio::service_url(&ns, &name)>"Istio config of this service"</a>
                    " "
                    <a href=graph_url(&ns, &name)>"Traffic graph"</a>
                </p>
            </section>
            <Versions traffic=traffic.clone() />
        </div>
        <TrafficManagement traffic=traffic.clone() open=open />
        <CanaryRollout traffic=traffic.clone() />
        <Objects traffic=traffic />
        {dialog_view}
    }
}

#[component]
fn Versions(traffic: ServiceTraffic) -> impl IntoView {
    let weight_of = |v: &str| {
        traffic
            .current_weights
            .iter()
            .find(|w| w.version == v)
            .map(|w| w.weight)
    };
    let in_force = !traffic.current_weights.is_empty();
    let rows = traffic
        .versions
        .iter()
        .map(|v| {
            let share = if in_force {
                format!("{} %", weight_of(&v.version).unwrap_or(0))
            } else {
                "–".to_owned()
            };
            view! {
                <tr>
                    <td><code>{v.version.clone()}</code></td>
                    <td>{v.workloads.iter().map(|w| view! { <code class="workload">{w.clone()}</code> " " }).collect_view()}</td>
                    <td class="num">{v.pods}</td>
                    <td class="num">{share}</td>
                </tr>
            }
        })
        .collect_view();
    let note = if traffic.versions.is_empty() {
        "No pod of this service carries a version label, so the wizards cannot tell versions apart. Label the pods version=v1, version=v2, … (Istio's convention) and come back."
    } else if in_force {
        "Share now: the weights of the route in force (the service's VirtualService)."
    } else {
        "No weights in force: Kubernetes spreads requests over the pods of every version."
    };
    view! {
        <section class="card" aria-labelledby="service-versions">
            <h2 id="service-versions">"Versions"</h2>
            <table class="data-table" aria-label="Versions">
                <thead>
                    <tr>
                        <th scope="col">"Version"</th>
                        <th scope="col">"Workloads"</th>
                        <th scope="col" class="num">"Pods"</th>
                        <th scope="col" class="num">"Share now"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            <p class="hint">{note}</p>
        </section>
    }
}

#[component]
fn Objects(traffic: ServiceTraffic) -> impl IntoView {
    let body = if traffic.objects.is_empty() {
        view! { <p class="empty-row">"No Istio object configures this service yet."</p> }.into_any()
    } else {
        let rows = traffic
            .objects
            .iter()
            .map(|o| {
                let href = IstioUrl::default()
                    .with_object(&o.namespace, o.kind, &o.name)
                    .page_url();
                let by = if o.managed_by_meshdeck {
                    view! { <span class="badge badge-muted" title="Written by a meshdeck wizard">"meshdeck"</span> }.into_any()
                } else {
                    view! { <span class="muted">"others"</span> }.into_any()
                };
                view! {
                    <tr>
                        <td>{o.kind.label()}</td>
                        <td><a href=href>{format!("{}/{}", o.namespace, o.name)}</a></td>
                        <td class="detail">{o.hosts.join(", ")}</td>
                        <td>{by}</td>
                        <td>{validity_badge(o.errors, o.warnings)}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="data-table" aria-label="Istio objects of the service">
                <thead>
                    <tr>
                        <th scope="col">"Kind"</th>
                        <th scope="col">"Object"</th>
                        <th scope="col">"Hosts"</th>
                        <th scope="col">"Written by"</th>
                        <th scope="col">"Validity"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section class="card" aria-labelledby="service-objects">
            <h2 id="service-objects">"Istio objects"</h2>
            {body}
        </section>
    }
}

#[component]
fn TrafficManagement(
    traffic: ServiceTraffic,
    open: Callback<Option<DialogTarget>>,
) -> impl IntoView {
    let may_write = traffic.may_write;
    let reason = traffic.write_problem.clone().unwrap_or_else(|| {
        "Kubernetes RBAC does not let you write Istio objects in this namespace".to_owned()
    });
    let denied_title = (!may_write).then(|| reason.clone());
    let readonly = (!may_write).then(|| {
        view! {
            <p class="ns-readonly" role="note">
                {format!("Read-only for you: {reason}. Ask for a Role that lets you write VirtualServices and DestinationRules here.")}
            </p>
        }
    });
    let applied = applied_labels(&traffic.applied);
    let in_force = if applied.is_empty() {
        view! { <p class="hint">"No wizard's settings are in force for this service."</p> }
            .into_any()
    } else {
        view! {
            <p>
                "In force: "
                {applied.into_iter().map(|l| view! { <span class="badge badge-ok">{l}</span> " " }).collect_view()}
            </p>
        }
        .into_any()
    };
    let tiles = wizards_for(traffic.protocol)
        .into_iter()
        .map(|kind| {
            let applied = traffic.applied.contains(&kind);
            let title = denied_title.clone();
            view! {
                <li class="wizard-tile">
                    <button
                        type="button"
                        disabled=!may_write
                        data-denied=(!may_write).then_some("rbac")
                        title=title
                        on:click=move |_| open.run(Some(DialogTarget::Wizard(kind)))
                    >
                        {kind.label()}
                    </button>
                    {applied.then(|| view! { <span class="badge badge-ok">"in force"</span> })}
                    <p class="hint">{kind.summary()}</p>
                </li>
            }
        })
        .collect_view();
    let has_ours =
        traffic.objects.iter().any(|o| o.managed_by_meshdeck) || !traffic.applied.is_empty();
    let remove = has_ours.then(|| {
        view! {
            <div class="remove-routing">
                <button
                    type="button"
                    class="danger"
                    disabled=!may_write
                    data-denied=(!may_write).then_some("rbac")
                    title=denied_title.clone()
                    on:click=move |_| open.run(Some(DialogTarget::Remove))
                >
                    "Remove traffic routing"
                </button>
                <span class="hint">"Deletes what meshdeck's wizards wrote for this service; fields other managers own stay, with their objects."</span>
            </div>
        }
    });
    let tcp_note = (traffic.protocol == ServiceProtocol::Tcp).then(|| {
        view! { <p class="hint">"A TCP service: only TCP traffic shifting applies (the other wizards write HTTP routes)."</p> }
    });
    view! {
        <section class="card" aria-labelledby="traffic-management">
            <h2 id="traffic-management">"Traffic management"</h2>
            {readonly}
            {in_force}
            {tcp_note}
            <ul class="wizard-tiles">{tiles}</ul>
            {remove}
        </section>
    }
}

/// The service's canary rollout: a link to it with its phase, or the form
/// that starts one (also below a finished one).
#[component]
fn CanaryRollout(traffic: ServiceTraffic) -> impl IntoView {
    let ns = traffic.service.namespace.clone();
    let name = traffic.service.name.clone();
    let list = LocalResource::new(api::rollouts);
    let versions: Vec<String> = traffic.versions.iter().map(|v| v.version.clone()).collect();
    let form = {
        let (ns, name) = (ns.clone(), name.clone());
        let may_write = traffic.may_write;
        let problem = traffic.write_problem.clone();
        move || {
            view! {
                <StartRolloutForm
                    namespace=ns.clone()
                    service=name.clone()
                    versions=versions.clone()
                    may_write=may_write
                    write_problem=problem.clone()
                />
            }
        }
    };
    let body = move || {
        let (ns, name, form) = (ns.clone(), name.clone(), form.clone());
        Suspend::new(async move {
            match list.await {
                Ok(l) => match find_rollout(&l.rollouts, &ns, &name).cloned() {
                    Some(r) => {
                        let done = r.phase.is_done();
                        let line = format!(
                            "{} → {} · canary weight {} %",
                            r.spec.stable, r.spec.canary, r.canary_weight
                        );
                        view! {
                            <p class="rollout-link">
                                <span class=rollout_model::phase_class(r.phase)>{r.phase.label()}</span>
                                " " {line} " "
                                <a href=rollout_url(&r.namespace, &r.service)>"Open the rollout"</a>
                            </p>
                            <p class="hint">{r.status.clone()}</p>
                            {done.then(|| view! {
                                <div class="rollout-another">
                                    <h3 class="sub-heading">"Start another"</h3>
                                    {form()}
                                </div>
                            })}
                        }
                        .into_any()
                    }
                    None => form().into_any(),
                },
                Err(err) => view! {
                    <p class="form-error" role="alert">{format!("The rollouts could not be loaded: {err}")}</p>
                    {form()}
                }
                .into_any(),
            }
        })
    };
    view! {
        <section class="card" aria-labelledby="canary-rollout">
            <h2 id="canary-rollout">"Canary rollout"</h2>
            <p class="summary-line">
                "Shifts traffic to a new version step by step and judges it on the mesh's own metrics after each interval: it advances while the checks pass and rolls back by itself when they fail."
            </p>
            <Transition fallback=move || view! { <LoadingState what="rollouts" /> }>{body}</Transition>
        </section>
    }
}

/// One preview asked for: what was sent, whether with force, and the
/// answer (`None` while on its way).
#[derive(Clone, Debug, PartialEq)]
struct Attempt {
    request: Option<WizardRequest>,
    force: bool,
    answer: Option<Result<WizardOutcome, ApiError>>,
}

/// A wizard's (or removal's) dialog: the form, Preview, the preview, Take
/// over, Apply.
#[component]
fn WizardDialog(
    traffic: ServiceTraffic,
    target: DialogTarget,
    on_close: Callback<()>,
    on_done: Callback<WizardOutcome>,
) -> impl IntoView {
    let ns = StoredValue::new(traffic.service.namespace.clone());
    let name = StoredValue::new(traffic.service.name.clone());
    let title = target.title(&traffic.service.name);
    let summary = match target {
        DialogTarget::Wizard(kind) => kind.summary(),
        DialogTarget::Remove => {
            "Deletes the objects meshdeck's wizards created for this service; where other field managers own fields of an object too, only meshdeck's fields are removed and theirs stay."
        }
    };
    let blocked: Option<String> = match target {
        DialogTarget::Wizard(kind) => not_offered(kind, traffic.protocol),
        DialogTarget::Remove => None,
    };
    let may_write = traffic.may_write;
    let write_problem = traffic.write_problem.clone().unwrap_or_else(|| {
        "Kubernetes RBAC does not let you write Istio objects in this namespace".to_owned()
    });

    let show_errors = RwSignal::new(false);
    let attempt: RwSignal<Option<Attempt>> = RwSignal::new(None);
    let applying = RwSignal::new(false);
    let apply_error: RwSignal<Option<(Option<WizardRequest>, ApiError)>> = RwSignal::new(None);
    let client_block: RwSignal<Option<usize>> = RwSignal::new(None);
    // The fields the server's 422 names, with the request it refused.
    let server_errors = Signal::derive(move || {
        let refused = |request: &Option<WizardRequest>, err: &ApiError| {
            let request = request.clone()?;
            (err.status == 422)
                .then(|| invalid_fields(&err.message))
                .flatten()
                .map(|f| (request, f))
        };
        apply_error
            .with(|e| e.as_ref().and_then(|(r, err)| refused(r, err)))
            .or_else(|| {
                attempt.with(|a| {
                    a.as_ref().and_then(|a| match &a.answer {
                        Some(Err(err)) => refused(&a.request, err),
                        _ => None,
                    })
                })
            })
    });
    let editor: Option<Editor> = match (target, &blocked) {
        (DialogTarget::Wizard(kind), None) => Some(editors::editor(
            kind,
            &traffic,
            show_errors.into(),
            server_errors,
        )),
        _ => None,
    };
    let request = editor.as_ref().map(|e| e.request);
    // The request the form makes now (`None` for removal); Err: invalid.
    let current = move || -> Result<Option<WizardRequest>, FieldErrors> {
        match request {
            Some(r) => r.get().map(Some),
            None => Ok(None),
        }
    };
    // The latest attempt, if it is about what the form says now.
    let live = Memo::new(move |_| {
        let now = current().ok();
        attempt.get().filter(|a| Some(&a.request) == now.as_ref())
    });
    let preview_ref = NodeRef::<html::Div>::new();

    let run_preview = move |force: bool| {
        let req = match current() {
            Ok(req) => req,
            Err(errors) => {
                show_errors.set(true);
                client_block.set(Some(errors.len()));
                return;
            }
        };
        client_block.set(None);
        apply_error.set(None);
        attempt.set(Some(Attempt {
            request: req.clone(),
            force,
            answer: None,
        }));
        spawn_local(async move {
            let (ns, name) = (ns.get_value(), name.get_value());
            let answer = match &req {
                Some(r) => api::run_wizard(&ns, &name, r, true, force).await,
                None => api::remove_traffic_routing(&ns, &name, true).await,
            };
            // A newer preview (or a closed dialog) wins over this answer.
            let _ = attempt.try_update(|a| {
                if let Some(a) = a.as_mut().filter(|a| a.request == req && a.force == force) {
                    a.answer = Some(answer);
                }
            });
            if let Some(el) = preview_ref.get_untracked() {
                el.scroll_into_view();
            }
        });
    };
    if target == DialogTarget::Remove && may_write {
        run_preview(false);
    }

    let gate_now = Memo::new(move |_| -> Option<Gate> {
        live.with(|a| {
            let a = a.as_ref()?;
            match &a.answer {
                Some(Ok(outcome)) => Some(gate(outcome, a.force)),
                _ => None,
            }
        })
    });
    let apply = move || {
        let Some(a) = live.get_untracked() else {
            return;
        };
        if !gate_now.get_untracked().is_some_and(|g| g.can_apply) {
            return;
        }
        applying.set(true);
        apply_error.set(None);
        spawn_local(async move {
            let (ns, name) = (ns.get_value(), name.get_value());
            let result = match &a.request {
                Some(r) => api::run_wizard(&ns, &name, r, false, a.force).await,
                None => api::remove_traffic_routing(&ns, &name, false).await,
            };
            match result {
                Ok(outcome) => on_done.run(outcome),
                Err(err) => {
                    let _ = applying.try_set(false);
                    let _ = apply_error.try_set(Some((a.request, err)));
                }
            }
        });
    };

    let previewing = move || live.with(|a| a.as_ref().is_some_and(|a| a.answer.is_none()));
    let busy = move || previewing() || applying.get();
    let can_preview = blocked.is_none() && may_write;
    let forced = move || live.with(|a| a.as_ref().is_some_and(|a| a.force));
    let preview_body = move || {
        let a = live.get()?;
        Some(match a.answer {
            None => view! {
                <div class="state state-loading" role="status">
                    <span class="spinner" aria-hidden="true"></span>
                    "Asking the cluster for a dry run with your credentials…"
                </div>
            }
            .into_any(),
            Some(Err(err)) => {
                view! { <RequestError err=err what="The preview failed" /> }.into_any()
            }
            Some(Ok(outcome)) => view! { <Preview outcome=outcome /> }.into_any(),
        })
    };
    let stale = move || attempt.with(|a| a.is_some()) && live.with(|l| l.is_none());
    let apply_failure = move || {
        let (req, err) = apply_error.get()?;
        let now = current().ok()?;
        (now == req).then(|| {
            let takeover = err.status == 409;
            view! {
                <RequestError err=err what="Kubernetes refused the change; nothing was applied" />
                {takeover.then(|| view! {
                    <p class="hint">"Another field manager owns fields this change sets. Preview again, then take them over if you mean to."</p>
                })}
            }
        })
    };
    let gate_note = move || {
        let g = gate_now.get()?;
        g.reason
            .map(|r| view! { <p class="hint gate-note" role="note">{r}</p> })
    };
    let force_note = move || {
        (forced() && gate_now.get().is_some_and(|g| g.can_apply)).then(|| view! {
            <p class="wizard-warning force-note" role="note">
                "Taking over: Apply writes with force, so meshdeck becomes the owner of the conflicting fields and the other managers lose them. They may write them back; check who else manages these objects."
            </p>
        })
    };
    let offer_takeover = move || gate_now.get().is_some_and(|g| g.offer_takeover);
    let can_apply = move || gate_now.get().is_some_and(|g| g.can_apply) && !busy();
    let apply_label = move || {
        let removing = target == DialogTarget::Remove;
        match (applying.get(), removing, forced()) {
            (true, true, _) => "Removing…",
            (true, false, _) => "Applying…",
            (false, true, _) => "Remove",
            (false, false, true) => "Apply, taking over the fields",
            (false, false, false) => "Apply",
        }
    };
    let client_note = move || {
        client_block.get().filter(|_| current().is_err()).map(|n| {
            view! {
                <p class="form-error" role="alert">
                    {format!("Fix the {n} field(s) marked in red; nothing was sent.")}
                </p>
            }
        })
    };
    let close = move || on_close.run(());
    let form_view = editor.map(|e| e.view);
    let readonly = (!may_write).then(|| {
        view! {
            <p class="ns-readonly" role="note">
                {format!("Read-only for you: {write_problem}. Preview and Apply are off.")}
            </p>
        }
    });
    let preview_title = (!may_write).then(|| write_problem.clone());
    let blocked_note = blocked.map(|why| view! { <p class="ns-readonly" role="note">{why}</p> });
    let preview_label = move || {
        if target == DialogTarget::Remove || live.with(|a| a.is_some()) {
            "Preview again"
        } else {
            "Preview"
        }
    };
    view! {
        <div
            class="modal-backdrop"
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    close();
                }
            }
        >
            <div class="modal modal-wide card" role="dialog" aria-modal="true" aria-labelledby="wizard-title">
                <h2 id="wizard-title">{title}</h2>
                <p class="summary">{summary}</p>
                {readonly}
                {blocked_note}
                {form_view.map(|v| view! {
                    <form class="wizard-form" novalidate on:submit=move |ev| { ev.prevent_default(); run_preview(false); }>
                        {v}
                    </form>
                })}
                {client_note}
                <div class="wizard-preview-area" node_ref=preview_ref>
                    {move || stale().then(|| view! {
                        <p class="hint" role="note">"The form changed since the last preview: preview again to see what it would do."</p>
                    })}
                    {preview_body}
                    {apply_failure}
                    {force_note}
                    {gate_note}
                </div>
                <p class="hint">
                    "Preview runs a server-side dry run with your own credentials; nothing is written until you press "
                    {if target == DialogTarget::Remove { "Remove" } else { "Apply" }}
                    ". Kubernetes RBAC decides, and its audit log names you."
                </p>
                <div class="modal-actions">
                    <button
                        type="button"
                        class=move || if live.with(|a| a.is_none()) { "primary" } else { "" }
                        disabled=move || !can_preview || busy()
                        title=preview_title
                        on:click=move |_| run_preview(false)
                    >
                        {preview_label}
                    </button>
                    {move || offer_takeover().then(|| view! {
                        <button
                            type="button"
                            class="warn-button"
                            disabled=busy
                            title="Preview again with force: meshdeck takes over the fields other managers own; nothing is written until you apply"
                            on:click=move |_| run_preview(true)
                        >
                            "Take over these fields"
                        </button>
                    })}
                    <button
                        type="button"
                        class=if target == DialogTarget::Remove { "danger" } else { "primary" }
                        disabled=move || !can_apply()
                        on:click=move |_| apply()
                    >
                        {apply_label}
                    </button>
                    <button type="button" on:click=move |_| close()>"Cancel"</button>
                </div>
            </div>
        </div>
    }
}

/// A failed preview or apply: the server's words (Kubernetes' where it
/// refused), and a 422's fields one per line.
#[component]
fn RequestError(err: ApiError, what: &'static str) -> impl IntoView {
    let fields = (err.status == 422)
        .then(|| invalid_fields(&err.message))
        .flatten();
    let list = fields.map(|f| {
        view! {
            <ul>
                {f.0.into_iter().map(|e| view! { <li><code>{e.field}</code> ": " {e.message}</li> }).collect_view()}
            </ul>
        }
    });
    view! {
        <div class="form-error" role="alert">
            <p><strong>{format!("{what}: ")}</strong>{err.to_string()}</p>
            {list}
        </div>
    }
}
