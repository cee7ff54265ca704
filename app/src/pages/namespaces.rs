//! Namespaces: sidecar injection for the caller's namespaces and their
//! workloads. Every switch first shows a dry run (the exact patch and the
//! labels or annotations before and after) and applies only on request.
//! Changes are made with the caller's own Kubernetes credentials; switches
//! Kubernetes RBAC would refuse them are shown disabled, with the reason.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::layout::PageHeader;
use crate::components::state::loaded;
use crate::diff::{KeyChange, diff_rows};
use crate::nav::NAMESPACES;
use crate::types::{
    InjectionChange, NamespaceInjection, NamespaceList, SidecarState, WorkloadInjection,
    WorkloadKind,
};

/// A switch the user asked for.
#[derive(Clone, Debug, PartialEq)]
enum Action {
    Namespace {
        ns: String,
        enabled: bool,
    },
    Workload {
        ns: String,
        kind: WorkloadKind,
        name: String,
        enabled: bool,
    },
}

impl Action {
    fn title(&self) -> String {
        let verb = |on: bool| if on { "Enable" } else { "Disable" };
        match self {
            Action::Namespace { ns, enabled } => {
                format!("{} sidecar injection for namespace {ns}", verb(*enabled))
            }
            Action::Workload {
                ns,
                kind,
                name,
                enabled,
            } => {
                format!(
                    "{} the sidecar for {} {ns}/{name}",
                    verb(*enabled),
                    kind.label()
                )
            }
        }
    }

    /// Sends the change to the server: with `dry_run`, only what it would do.
    async fn submit(self, dry_run: bool) -> Result<InjectionChange, ApiError> {
        match self {
            Action::Namespace { ns, enabled } => {
                api::set_namespace_injection(&ns, enabled, dry_run).await
            }
            Action::Workload {
                ns,
                kind,
                name,
                enabled,
            } => api::set_workload_injection(&ns, kind, &name, enabled, dry_run).await,
        }
    }
}

/// The preview being shown: the action and its dry run (once answered).
#[derive(Clone, Debug, PartialEq)]
struct Pending {
    action: Action,
    preview: Option<Result<InjectionChange, ApiError>>,
    applying: bool,
}

/// `/namespaces`: the caller's namespaces with injection state and workloads.
#[component]
pub fn NamespacesPage() -> impl IntoView {
    let list = LocalResource::new(api::namespaces);
    let pending: RwSignal<Option<Pending>> = RwSignal::new(None);
    let outcome: RwSignal<Option<Result<InjectionChange, ApiError>>> = RwSignal::new(None);
    let ask = Callback::new(move |action: Action| {
        outcome.set(None);
        pending.set(Some(Pending {
            action: action.clone(),
            preview: None,
            applying: false,
        }));
        spawn_local(async move {
            let preview = action.clone().submit(true).await;
            pending.update(|p| {
                if let Some(p) = p.as_mut().filter(|p| p.action == action) {
                    p.preview = Some(preview);
                }
            });
        });
    });
    let apply = move || {
        let Some(action) = pending.with_untracked(|p| p.as_ref().map(|p| p.action.clone())) else {
            return;
        };
        pending.update(|p| {
            if let Some(p) = p.as_mut() {
                p.applying = true;
            }
        });
        spawn_local(async move {
            let result = action.submit(false).await;
            pending.set(None);
            outcome.set(Some(result));
            list.refetch();
        });
    };
    view! {
        <PageHeader item=NAMESPACES />
        <div class="toolbar">
            <button type="button" on:click=move |_| list.refetch()>"Refresh"</button>
        </div>
        {move || outcome.get().map(|o| view! { <Outcome outcome=o /> })}
        {loaded("namespaces", list, move |l: NamespaceList| view! { <NamespaceCards list=l ask=ask /> })}
        {move || {
            pending
                .get()
                .map(|p| {
                    view! {
                        <PreviewDialog
                            pending=p
                            on_apply=Callback::new(move |()| apply())
                            on_cancel=Callback::new(move |()| pending.set(None))
                        />
                    }
                })
        }}
    }
}

#[component]
fn Outcome(outcome: Result<InjectionChange, ApiError>) -> impl IntoView {
    match outcome {
        Ok(change) => view! {
            <p class="result-note" role="status">
                <strong>{if change.changed { "Applied. " } else { "No change. " }}</strong>
                {change.summary}
            </p>
        }
        .into_any(),
        Err(err) => view! {
            <p class="form-error" role="alert">{format!("The change failed: {err}")}</p>
        }
        .into_any(),
    }
}

#[component]
fn NamespaceCards(list: NamespaceList, ask: Callback<Action>) -> impl IntoView {
    if list.namespaces.is_empty() {
        return view! {
            <p class="card hint">"You may not see any namespace yet (you need permission to list pods in one)."</p>
        }
        .into_any();
    }
    let revision = list.revision.clone().map(|r| {
        view! {
            <p class="hint">
                "The control plane runs revision " <code>{r.clone()}</code>
                "; namespaces are switched on with " <code>{format!("istio.io/rev={r}")}</code> "."
            </p>
        }
    });
    view! {
        {revision}
        <div class="ns-list">
            {list.namespaces.into_iter().map(|ns| view! { <NamespaceCard ns=ns ask=ask /> }).collect_view()}
        </div>
    }
    .into_any()
}

/// What the caller may not change here, in words (`None`: everything).
fn permissions_note(ns: &NamespaceInjection) -> Option<String> {
    let restartable = ns.workloads.iter().filter(|w| w.may_restart).count();
    let all = ns.workloads.len();
    match (ns.may_switch, restartable) {
        (true, r) if r == all => None,
        (false, 0) => Some(format!(
            "Read-only for you: Kubernetes RBAC lets you patch neither namespace {} nor its workloads, so its switches are off. Changes are made with your own credentials; ask for a Role that allows them.",
            ns.name
        )),
        (false, _) => Some(format!(
            "You may restart workloads here, but not switch injection for the namespace: Kubernetes RBAC does not let you patch namespace {}.",
            ns.name
        )),
        (true, _) => Some(format!(
            "You may switch injection for the namespace; {} of {all} workloads are not yours to restart (Kubernetes RBAC).",
            all - restartable
        )),
    }
}

fn injection_detail(ns: &NamespaceInjection) -> String {
    match (&ns.revision, &ns.injection_label) {
        (Some(rev), _) => format!("istio.io/rev={rev}"),
        (None, Some(label)) => format!("istio-injection={label}"),
        (None, None) => "no injection label".to_owned(),
    }
}

#[component]
fn NamespaceCard(ns: NamespaceInjection, ask: Callback<Action>) -> impl IntoView {
    let heading = format!("ns-{}", ns.name);
    let labelled_by = heading.clone();
    let (badge_class, badge_text) = if ns.injection {
        ("badge badge-ok", "injection on")
    } else {
        ("badge badge-muted", "injection off")
    };
    let action = Action::Namespace {
        ns: ns.name.clone(),
        enabled: !ns.injection,
    };
    let button_label = if ns.injection {
        "Disable injection"
    } else {
        "Enable injection"
    };
    let aria = format!("{button_label} for namespace {}", ns.name);
    let may_switch = ns.may_switch;
    let switch_title = (!may_switch).then(|| {
        format!(
            "Kubernetes RBAC does not let you patch namespace {}, which switching injection needs",
            ns.name
        )
    });
    let with_sidecar = ns
        .workloads
        .iter()
        .filter(|w| w.sidecar == SidecarState::All)
        .count();
    let count = format!(
        "{with_sidecar} of {} workloads with sidecars",
        ns.workloads.len()
    );
    let without = ns
        .workloads
        .iter()
        .filter(|w| !w.opted_out && matches!(w.sidecar, SidecarState::None | SidecarState::Partial))
        .count();
    let stale = (ns.injection && without > 0).then(|| {
        view! {
            <p class="hint ns-hint">
                {format!("{without} workload(s) started before injection was on; Enable sidecar restarts them so their pods get it.")}
            </p>
        }
    });
    let rows = ns
        .workloads
        .iter()
        .cloned()
        .map(|w| view! { <WorkloadRow ns=ns.name.clone() w=w ask=ask /> })
        .collect_view();
    let readonly =
        permissions_note(&ns).map(|note| view! { <p class="ns-readonly" role="note">{note}</p> });
    let empty = ns.workloads.is_empty().then(|| {
        view! { <tr><td colspan="5" class="empty-row">"No Deployments, StatefulSets or DaemonSets."</td></tr> }
    });
    view! {
        <section class="card ns-card" aria-labelledby=labelled_by data-namespace=ns.name.clone()>
            <div class="ns-head">
                <h2 id=heading>{ns.name.clone()}</h2>
                <span class=badge_class>{badge_text}</span>
                <code class="ns-label">{injection_detail(&ns)}</code>
                {ns.auto_injected.then(|| view! {
                    <span
                        class="badge badge-muted"
                        title="Labelled by meshdeck's auto-injection when the namespace was created; disabling the mesh removes the label. Switching injection here makes it your explicit choice."
                    >
                        "set automatically"
                    </span>
                })}
                <span class="muted">{format!("project {} · {count}", ns.project)}</span>
                <button
                    type="button"
                    class="ns-action"
                    aria-label=aria
                    disabled=!may_switch
                    data-denied=(!may_switch).then_some("rbac")
                    title=switch_title
                    on:click=move |_| ask.run(action.clone())
                >
                    {button_label}
                </button>
            </div>
            {readonly}
            {stale}
            <table class="data-table workload-table" aria-label=format!("Workloads in {}", ns.name)>
                <thead>
                    <tr>
                        <th scope="col">"Kind"</th>
                        <th scope="col">"Workload"</th>
                        <th scope="col">"Pods with sidecar"</th>
                        <th scope="col">"Sidecar"</th>
                        <th scope="col"><span class="visually-hidden">"Action"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}{empty}</tbody>
            </table>
        </section>
    }
}

#[component]
fn WorkloadRow(ns: String, w: WorkloadInjection, ask: Callback<Action>) -> impl IntoView {
    let badge = match w.sidecar {
        SidecarState::All => "badge badge-ok",
        SidecarState::Partial => "badge badge-warn",
        SidecarState::None | SidecarState::NoPods => "badge badge-muted",
    };
    let on = w.sidecar == SidecarState::All && !w.opted_out;
    let label = if on {
        "Disable sidecar"
    } else {
        "Enable sidecar"
    };
    let aria = format!("{label} for {} {}", w.kind.label(), w.name);
    let may_restart = w.may_restart;
    let restart_title = (!may_restart).then(|| {
        format!(
            "Kubernetes RBAC does not let you patch {} {}, which switching its sidecar (a restart) needs",
            w.kind.label(),
            w.name
        )
    });
    let action = Action::Workload {
        ns,
        kind: w.kind,
        name: w.name.clone(),
        enabled: !on,
    };
    let opted = w
        .opted_out
        .then(|| view! { " " <span class="badge badge-warn">"opted out"</span> });
    view! {
        <tr>
            <td>{w.kind.label()}</td>
            <td><code>{w.name.clone()}</code></td>
            <td class="num">{format!("{} / {}", w.pods_with_sidecar, w.pods)}</td>
            <td><span class=badge>{w.sidecar.label()}</span>{opted}</td>
            <td class="row-action">
                <button
                    type="button"
                    aria-label=aria
                    disabled=!may_restart
                    data-denied=(!may_restart).then_some("rbac")
                    title=restart_title
                    on:click=move |_| ask.run(action.clone())
                >
                    {label}
                </button>
            </td>
        </tr>
    }
}

#[component]
fn PreviewDialog(
    pending: Pending,
    on_apply: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let title = pending.action.title();
    let applying = pending.applying;
    let body = match pending.preview.clone() {
        None => view! {
            <div class="state state-loading" role="status">
                <span class="spinner" aria-hidden="true"></span>"Asking the cluster for a dry run…"
            </div>
        }
        .into_any(),
        Some(Err(err)) => {
            view! { <p class="form-error" role="alert">{err.to_string()}</p> }.into_any()
        }
        Some(Ok(change)) => view! { <PreviewBody change=change /> }.into_any(),
    };
    let can_apply = matches!(&pending.preview, Some(Ok(c)) if c.changed) && !applying;
    view! {
        <div class="modal-backdrop">
            <div class="modal card" role="dialog" aria-modal="true" aria-labelledby="preview-title">
                <h2 id="preview-title">{title}</h2>
                <p class="hint">
                    "Dry run: the cluster checked this change with your own credentials; nothing is applied until you press Apply. "
                    "Kubernetes RBAC decides, and its audit log names you."
                </p>
                {body}
                <div class="modal-actions">
                    <button type="button" class="primary" disabled=!can_apply on:click=move |_| on_apply.run(())>
                        {if applying { "Applying…" } else { "Apply" }}
                    </button>
                    <button type="button" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                </div>
            </div>
        </div>
    }
}

#[component]
fn PreviewBody(change: InjectionChange) -> impl IntoView {
    let rows = diff_rows(&change.before, &change.after)
        .into_iter()
        .map(|r| {
            let class = format!("diff-{}", r.change.label());
            let dash = || "—".to_owned();
            view! {
                <tr class=class>
                    <td><code>{r.key}</code></td>
                    <td>{r.before.unwrap_or_else(dash)}</td>
                    <td>{r.after.unwrap_or_else(dash)}</td>
                    <td>{r.change.label()}</td>
                </tr>
            }
        })
        .collect_view();
    let kept = diff_rows(&change.before, &change.after)
        .iter()
        .filter(|r| r.change == KeyChange::Kept)
        .count();
    let patch = change.patch.clone().map(|p| {
        view! {
            <h3>"Patch sent to Kubernetes (JSON merge patch)"</h3>
            <pre class="patch">{p}</pre>
        }
    });
    view! {
        <p class="preview-summary">{change.summary.clone()}</p>
        <h3>{format!("{} of {}", change.field, change.target)}</h3>
        <table class="data-table diff-table" aria-label="Before and after">
            <thead>
                <tr>
                    <th scope="col">"Key"</th>
                    <th scope="col">"Before"</th>
                    <th scope="col">"After"</th>
                    <th scope="col">"Change"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <p class="hint">{format!("{kept} other key(s) are kept as they are.")}</p>
        {patch}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn namespace(may_switch: bool, restart: &[bool]) -> NamespaceInjection {
        NamespaceInjection {
            name: "shop".into(),
            project: "p".into(),
            injection: true,
            injection_label: Some("enabled".into()),
            revision: None,
            auto_injected: false,
            may_switch,
            workloads: restart
                .iter()
                .enumerate()
                .map(|(i, may)| WorkloadInjection {
                    kind: WorkloadKind::Deployment,
                    name: format!("w{i}"),
                    pods: 1,
                    pods_with_sidecar: 1,
                    sidecar: SidecarState::All,
                    opted_out: false,
                    may_restart: *may,
                })
                .collect(),
        }
    }

    #[test]
    fn the_note_says_what_rbac_leaves_the_caller() {
        assert_eq!(permissions_note(&namespace(true, &[true, true])), None);
        let none = permissions_note(&namespace(false, &[false, false])).unwrap();
        assert!(none.starts_with("Read-only for you"), "{none}");
        let workloads_only = permissions_note(&namespace(false, &[true])).unwrap();
        assert!(
            workloads_only.contains("not switch injection"),
            "{workloads_only}"
        );
        let some = permissions_note(&namespace(true, &[true, false, false])).unwrap();
        assert!(some.contains("2 of 3 workloads"), "{some}");
        // No workloads and no right to switch: read-only.
        assert!(
            permissions_note(&namespace(false, &[]))
                .unwrap()
                .starts_with("Read-only")
        );
    }
}
