//! Mesh settings (cluster owners): member access, per-component resources
//! and placement, trace sampling, the ingress gateway, Prometheus retention,
//! auto-injection and tool URLs, with a live preflight against the nodes;
//! the mesh for the cluster (enable, disable) and its monitoring (the
//! Prometheus Operator's monitors or the scrape jobs to copy, the Grafana
//! dashboards' ConfigMap).
//! Saving sends the resourceVersion the form was loaded from, so a
//! concurrent save is reported instead of overwritten.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::layout::{MeResource, PageHeader};
use crate::components::state::loaded;
use crate::monitoring::{grafana_note, monitor_detail, state_badge};
use crate::nav::SETTINGS;
use crate::settings_form::{
    format_list, format_selector, format_tolerations, parse_list, parse_selector, parse_tolerations,
};
use crate::types::{
    ComponentSettings, ControlPlaneKind, GatewayServiceType, GrafanaDashboardsInfo, IngressKind,
    MemberAccessMode, MeshChange, MeshSettings, MeshStatus, MonitoringStatus, Preflight,
    SettingsDocument, SettingsUpdate,
};

/// Components in display order: key, label, whether it can be switched off.
const COMPONENTS: [(&str, &str, bool); 6] = [
    ("pilot", "Pilot (istiod)", false),
    ("telemetry", "Telemetry", false),
    ("tracing", "Tracing (Jaeger)", true),
    ("ingress_gateway", "Ingress gateway", true),
    ("prometheus", "Prometheus", false),
    ("grafana", "Grafana", true),
];

fn component(s: &MeshSettings, i: usize) -> &ComponentSettings {
    match i {
        0 => &s.pilot,
        1 => &s.telemetry,
        2 => &s.tracing,
        3 => &s.ingress_gateway.component,
        4 => &s.prometheus,
        _ => &s.grafana,
    }
}

fn component_mut(s: &mut MeshSettings, i: usize) -> &mut ComponentSettings {
    match i {
        0 => &mut s.pilot,
        1 => &mut s.telemetry,
        2 => &mut s.tracing,
        3 => &mut s.ingress_gateway.component,
        4 => &mut s.prometheus,
        _ => &mut s.grafana,
    }
}

/// The settings as loaded: the document, or why the stored ones cannot be
/// read (the server keeps the last good ones in force meanwhile).
#[derive(Clone, Debug, PartialEq)]
enum Loaded {
    Document(Box<SettingsDocument>),
    Unreadable(String),
}

/// `SETTINGS.path`: the settings form for owners.
#[component]
pub fn SettingsPage() -> impl IntoView {
    // Members never ask for the settings (the shell explains why they may
    // not). Who the caller is comes from the shell's `/api/me`; only a page
    // opened directly, before the shell has its answer, asks for it itself.
    // Read untracked: the shell reloading it after a save must not reload
    // the form.
    let shell_me = use_context::<MeResource>();
    let doc = LocalResource::new(move || async move {
        let known = shell_me.and_then(|MeResource(me)| me.get_untracked());
        let me = match known {
            Some(Ok(Some(me))) => me,
            _ => api::me().await?,
        };
        if !me.features.settings {
            return Err(ApiError {
                status: 403,
                code: crate::types::ErrorCode::Forbidden,
                message: "mesh settings are for cluster owners".into(),
            });
        }
        match api::settings().await {
            Ok(d) => Ok(Loaded::Document(Box::new(d))),
            Err(e) if e.code == crate::types::ErrorCode::Invalid => {
                Ok(Loaded::Unreadable(e.message))
            }
            Err(e) => Err(e),
        }
    });
    let reload = Callback::new(move |()| doc.refetch());
    view! {
        <PageHeader item=SETTINGS />
        {loaded("settings", doc, move |l: Loaded| match l {
            Loaded::Document(d) => view! { <SettingsForm doc=*d reload=reload /> }.into_any(),
            Loaded::Unreadable(why) => view! { <UnreadableSettings why=why reload=reload /> }.into_any(),
        })}
    }
}

/// The stored settings cannot be read: say why, and offer the reset.
#[component]
fn UnreadableSettings(why: String, reload: Callback<()>) -> impl IntoView {
    let failed: RwSignal<Option<String>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let reset = move |_| {
        busy.set(true);
        spawn_local(async move {
            match api::reset_settings().await {
                Ok(_) => reload.run(()),
                Err(e) => failed.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card" aria-labelledby="unreadable-heading">
            <h2 id="unreadable-heading">"The stored settings cannot be read"</h2>
            <p class="form-error" role="alert">{why}</p>
            <p>
                "Someone edited the settings ConfigMap into something meshdeck cannot read. "
                "The last settings saved through meshdeck stay in force (members keep the access they had) until you reset them or fix the ConfigMap."
            </p>
            <button type="button" class="primary" disabled=move || busy.get() on:click=reset>
                "Reset to the last good settings"
            </button>
            {move || failed.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
        </section>
    }
}

/// A labelled one-line text input bound to a part of the settings.
fn text_field<G, S>(
    settings: RwSignal<MeshSettings>,
    label: &'static str,
    hint: &'static str,
    get: G,
    set: S,
) -> impl IntoView
where
    G: Fn(&MeshSettings) -> String + Copy + Send + Sync + 'static,
    S: Fn(&mut MeshSettings, String) + Copy + Send + Sync + 'static,
{
    view! {
        <label class="field">
            <span class="field-label">{label}</span>
            <input
                type="text"
                prop:value=move || settings.with(get)
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    settings.update(|s| set(s, v));
                }
            />
            <span class="field-hint">{hint}</span>
        </label>
    }
}

/// A text input in a table cell, labelled for screen readers.
fn cell_input<G, S>(settings: RwSignal<MeshSettings>, aria: String, get: G, set: S) -> impl IntoView
where
    G: Fn(&MeshSettings) -> String + Copy + Send + Sync + 'static,
    S: Fn(&mut MeshSettings, String) + Copy + Send + Sync + 'static,
{
    view! {
        <td>
            <input
                type="text"
                class="cell-input"
                aria-label=aria
                prop:value=move || settings.with(get)
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    settings.update(|s| set(s, v));
                }
            />
        </td>
    }
}

#[component]
fn SettingsForm(doc: SettingsDocument, reload: Callback<()>) -> impl IntoView {
    let settings = RwSignal::new(doc.settings.clone());
    let saved = RwSignal::new(doc.settings);
    let resource_version = RwSignal::new(doc.resource_version);
    let message: RwSignal<Option<Result<String, ApiError>>> = RwSignal::new(None);
    let saving = RwSignal::new(false);
    let preflight = LocalResource::new(move || {
        let plan = settings.get();
        async move { api::preflight(&plan).await }
    });
    let dirty = move || settings.with(|s| saved.with(|v| s != v));
    // The mesh card and the monitoring card show the same state; enabling
    // or disabling refetches it for both.
    let mesh_status = LocalResource::new(api::mesh);
    let me_resource = use_context::<MeResource>();
    let save = move |_| {
        let update = SettingsUpdate {
            settings: settings.get_untracked(),
            resource_version: resource_version.get_untracked(),
        };
        saving.set(true);
        message.set(None);
        spawn_local(async move {
            match api::save_settings(&update).await {
                Ok(doc) => {
                    resource_version.set(doc.resource_version);
                    saved.set(doc.settings);
                    message.set(Some(Ok(format!("Saved to {}.", doc.stored_in))));
                    // What enabling would write follows the saved settings
                    // (a Grafana URL brings the dashboards' ConfigMap).
                    mesh_status.refetch();
                    // The top bar's links follow the saved tool URLs.
                    if let Some(MeResource(me)) = me_resource {
                        me.refetch();
                    }
                }
                Err(err) => message.set(Some(Err(err))),
            }
            saving.set(false);
        });
    };
    let stored_in = doc.stored_in;
    view! {
        <form class="settings-form" on:submit=|ev| ev.prevent_default()>
            <div class="settings-grid">
                <div class="settings-main">
                    <MemberAccess settings=settings />
                    <Components settings=settings />
                    <Placement settings=settings />
                    <Gateway settings=settings />
                    <section class="card" aria-labelledby="mesh-options-heading">
                        <h2 id="mesh-options-heading">"Tracing, Prometheus and namespaces"</h2>
                        <div class="field-row">
                            {text_field(settings, "Trace sampling (%)", "0 to 100; the share of requests traced", |s| s.trace_sampling_percent.clone(), |s, v| s.trace_sampling_percent = v)}
                            {text_field(settings, "Prometheus retention", "e.g. 6h, 15d", |s| s.prometheus_retention.clone(), |s, v| s.prometheus_retention = v)}
                        </div>
                        <label class="check">
                            <input
                                type="checkbox"
                                prop:checked=move || settings.with(|s| s.auto_inject_new_namespaces)
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    settings.update(|s| s.auto_inject_new_namespaces = on);
                                }
                            />
                            "Enable sidecar injection for namespaces created from now on"
                        </label>
                    </section>
                    <section class="card" aria-labelledby="tools-heading">
                        <h2 id="tools-heading">"Tool URLs"</h2>
                        <p class="hint">
                            "Where people open each tool, linked from the top bar. Empty: the URL meshdeck itself reaches the tool at (its "
                            <code>"--prometheus-url"</code>
                            " and similar flags), if any."
                        </p>
                        <div class="field-row">
                            {text_field(settings, "Prometheus URL", "", |s| s.tool_urls.prometheus.clone(), |s, v| s.tool_urls.prometheus = v)}
                            {text_field(settings, "Jaeger URL", "", |s| s.tool_urls.jaeger.clone(), |s, v| s.tool_urls.jaeger = v)}
                            {text_field(settings, "Grafana URL", "", |s| s.tool_urls.grafana.clone(), |s, v| s.tool_urls.grafana = v)}
                            {text_field(settings, "Kiali URL", "", |s| s.tool_urls.kiali.clone(), |s, v| s.tool_urls.kiali = v)}
                        </div>
                    </section>
                    <MonitoringCard status=mesh_status />
                </div>
                <aside class="settings-side">
                    <MeshCard status=mesh_status dirty=Signal::derive(dirty) />
                    <section class="card preflight-card" aria-labelledby="preflight-heading">
                        <h2 id="preflight-heading">"Preflight"</h2>
                        <p class="hint">"The requests of every enabled component against the allocatable CPU and memory of the schedulable nodes; updated as you edit."</p>
                        {move || preflight.get().map(|r| view! { <PreflightView result=r /> })}
                    </section>
                    <section class="card save-card" aria-labelledby="save-heading">
                        <h2 id="save-heading">"Save"</h2>
                        <p class="hint">{format!("Stored in the ConfigMap {stored_in}.")}</p>
                        <div class="modal-actions">
                            <button type="button" class="primary" disabled=move || saving.get() || !dirty() on:click=save>
                                {move || if saving.get() { "Saving…" } else { "Save settings" }}
                            </button>
                            <button type="button" disabled=move || !dirty() on:click=move |_| settings.set(saved.get_untracked())>
                                "Discard changes"
                            </button>
                        </div>
                        {move || message.get().map(|m| match m {
                            Ok(text) => view! { <p class="result-note" role="status">{text}</p> }.into_any(),
                            Err(err) => {
                                let conflict = err.status == 409;
                                view! {
                                    <p class="form-error" role="alert">{err.to_string()}</p>
                                    {conflict.then(|| view! {
                                        <button type="button" on:click=move |_| reload.run(())>"Reload the saved settings"</button>
                                    })}
                                }.into_any()
                            }
                        })}
                    </section>
                </aside>
            </div>
        </form>
    }
}

#[component]
fn MemberAccess(settings: RwSignal<MeshSettings>) -> impl IntoView {
    let mode_value = |m: MemberAccessMode| match m {
        MemberAccessMode::OwnerOnly => "owner_only",
        MemberAccessMode::AllMembers => "all_members",
        MemberAccessMode::Listed => "listed",
    };
    view! {
        <section class="card" aria-labelledby="access-heading">
            <h2 id="access-heading">"Member access"</h2>
            <p class="hint">"Who besides cluster owners may see the traffic graph and traces (and the Kiali and Jaeger links)."</p>
            <div class="field-row">
                <label class="field">
                    <span class="field-label">"Who may see"</span>
                    <select
                        prop:value=move || settings.with(|s| mode_value(s.member_access.mode))
                        on:change=move |ev| {
                            let mode = match event_target_value(&ev).as_str() {
                                "owner_only" => MemberAccessMode::OwnerOnly,
                                "listed" => MemberAccessMode::Listed,
                                _ => MemberAccessMode::AllMembers,
                            };
                            settings.update(|s| s.member_access.mode = mode);
                        }
                    >
                        <option value="owner_only">"Cluster owners only"</option>
                        <option value="all_members">"All project members"</option>
                        <option value="listed">"Owners and the listed users and groups"</option>
                    </select>
                </label>
                <Show when=move || settings.with(|s| s.member_access.mode == MemberAccessMode::Listed)>
                    {text_field(settings, "Users", "comma-separated", |s| format_list(&s.member_access.users), |s, v| s.member_access.users = parse_list(&v))}
                    {text_field(settings, "Groups", "comma-separated", |s| format_list(&s.member_access.groups), |s, v| s.member_access.groups = parse_list(&v))}
                </Show>
            </div>
        </section>
    }
}

#[component]
fn Components(settings: RwSignal<MeshSettings>) -> impl IntoView {
    let rows = COMPONENTS
        .iter()
        .enumerate()
        .map(|(i, (_, label, optional))| {
            let toggle = if *optional {
                view! {
                    <input
                        type="checkbox"
                        aria-label=format!("{label} on")
                        prop:checked=move || settings.with(|s| component(s, i).enabled)
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            settings.update(|s| component_mut(s, i).enabled = on);
                        }
                    />
                }
                .into_any()
            } else {
                view! { <span class="muted" title="always installed">"always"</span> }.into_any()
            };
            view! {
                <tr>
                    <th scope="row">{*label}</th>
                    <td>{toggle}</td>
                    {cell_input(settings, format!("{label} CPU request"), move |s| component(s, i).resources.cpu_request.clone(), move |s, v| component_mut(s, i).resources.cpu_request = v)}
                    {cell_input(settings, format!("{label} CPU limit"), move |s| component(s, i).resources.cpu_limit.clone(), move |s, v| component_mut(s, i).resources.cpu_limit = v)}
                    {cell_input(settings, format!("{label} memory request"), move |s| component(s, i).resources.memory_request.clone(), move |s, v| component_mut(s, i).resources.memory_request = v)}
                    {cell_input(settings, format!("{label} memory limit"), move |s| component(s, i).resources.memory_limit.clone(), move |s, v| component_mut(s, i).resources.memory_limit = v)}
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="components-heading">
            <h2 id="components-heading">"Components and resources"</h2>
            <p class="hint">"CPU in millicores (500m) or cores (1); memory in Mi or Gi. Requests may not exceed limits."</p>
            <table class="data-table form-table resources-table" aria-label="Components and resources">
                <thead>
                    <tr>
                        <th scope="col">"Component"</th>
                        <th scope="col">"On"</th>
                        <th scope="col">"CPU request"</th>
                        <th scope="col">"CPU limit"</th>
                        <th scope="col">"Memory request"</th>
                        <th scope="col">"Memory limit"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}

#[component]
fn Placement(settings: RwSignal<MeshSettings>) -> impl IntoView {
    let rows = COMPONENTS
        .iter()
        .enumerate()
        .map(|(i, (_, label, _))| {
            view! {
                <tr>
                    <th scope="row">{*label}</th>
                    {cell_input(settings, format!("{label} node selector"), move |s| format_selector(&component(s, i).placement.node_selector), move |s, v| component_mut(s, i).placement.node_selector = parse_selector(&v))}
                    {cell_input(settings, format!("{label} tolerations"), move |s| format_tolerations(&component(s, i).placement.tolerations), move |s, v| component_mut(s, i).placement.tolerations = parse_tolerations(&v))}
                </tr>
            }
        })
        .collect_view();
    view! {
        <details class="card placement-card">
            <summary><h2>"Node selectors and tolerations"</h2></summary>
            <p class="hint">
                "Node selector: " <code>"disk=ssd, zone=a"</code> ". Tolerations: "
                <code>"key=value:NoSchedule"</code> ", " <code>"key:NoExecute"</code> " or " <code>"*"</code> " (every taint)."
            </p>
            <table class="data-table form-table" aria-label="Node selectors and tolerations">
                <thead>
                    <tr>
                        <th scope="col">"Component"</th>
                        <th scope="col">"Node selector"</th>
                        <th scope="col">"Tolerations"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </details>
    }
}

#[component]
fn Gateway(settings: RwSignal<MeshSettings>) -> impl IntoView {
    let node_port =
        move || settings.with(|s| s.ingress_gateway.service_type == GatewayServiceType::NodePort);
    view! {
        <section class="card" aria-labelledby="gateway-heading">
            <h2 id="gateway-heading">"Ingress gateway"</h2>
            <p class="hint">
                {move || if settings.with(|s| s.ingress_gateway.component.enabled) {
                    "On: meshdeck creates the istio-ingressgateway Deployment and Service in istio-system, next to the cluster's existing ingress controller."
                } else {
                    "Off (switch it on in Components and resources)."
                }}
            </p>
            <div class="field-row">
                <label class="field">
                    <span class="field-label">"Service type"</span>
                    <select
                        prop:value=move || if node_port() { "NodePort" } else { "LoadBalancer" }
                        on:change=move |ev| {
                            let t = if event_target_value(&ev) == "LoadBalancer" { GatewayServiceType::LoadBalancer } else { GatewayServiceType::NodePort };
                            settings.update(|s| s.ingress_gateway.service_type = t);
                        }
                    >
                        <option value="NodePort">"NodePort"</option>
                        <option value="LoadBalancer">"LoadBalancer"</option>
                    </select>
                </label>
                <Show
                    when=node_port
                    fallback=move || view! {
                        {text_field(settings, "Load balancer IP", "optional", |s| s.ingress_gateway.load_balancer_ip.clone(), |s, v| s.ingress_gateway.load_balancer_ip = v)}
                        {text_field(settings, "Source ranges", "CIDRs, comma-separated; empty: everyone", |s| format_list(&s.ingress_gateway.load_balancer_source_ranges), |s, v| s.ingress_gateway.load_balancer_source_ranges = parse_list(&v))}
                    }
                >
                    {text_field(settings, "http2 NodePort", "30000-32767", |s| s.ingress_gateway.http2_node_port.to_string(), |s, v| s.ingress_gateway.http2_node_port = v.trim().parse().unwrap_or(0))}
                    {text_field(settings, "https NodePort", "30000-32767", |s| s.ingress_gateway.https_node_port.to_string(), |s, v| s.ingress_gateway.https_node_port = v.trim().parse().unwrap_or(0))}
                </Show>
            </div>
        </section>
    }
}

fn percent(used: u64, of: u64) -> f64 {
    if of == 0 {
        100.0
    } else {
        (used as f64 / of as f64 * 100.0).min(100.0)
    }
}

#[component]
fn PreflightView(result: Result<Preflight, ApiError>) -> impl IntoView {
    let p = match result {
        Ok(p) => p,
        Err(err) => {
            let title = if err.status == 422 {
                "The settings have invalid fields"
            } else {
                "Preflight failed"
            };
            let items: Vec<String> = err
                .message
                .split_once(": ")
                .filter(|_| err.status == 422)
                .map(|(_, rest)| rest.split("; ").map(str::to_owned).collect())
                .unwrap_or_else(|| vec![err.to_string()]);
            return view! {
                <div class="preflight-bad" role="alert">
                    <strong>{title}</strong>
                    <ul>{items.into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}</ul>
                </div>
            }
            .into_any();
        }
    };
    let verdict = if p.fits {
        view! { <p class="badge badge-ok">"fits"</p> }.into_any()
    } else {
        view! {
            <div class="preflight-bad" role="alert">
                <strong>"Does not fit; saving is refused"</strong>
                <ul>{p.shortfalls.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}</ul>
            </div>
        }
        .into_any()
    };
    let bar = |label: &'static str, used: u64, of: u64, unit: &'static str| {
        let width = format!("width: {:.1}%", percent(used, of));
        let class = if used > of {
            "meter-fill meter-over"
        } else {
            "meter-fill"
        };
        view! {
            <div class="meter-row">
                <span class="meter-label">{label}</span>
                <span class="meter" role="img" aria-label=format!("{label}: {used} {unit} of {of} {unit}")>
                    <span class=class style=width></span>
                </span>
                <span class="meter-value">{format!("{used} / {of} {unit}")}</span>
            </div>
        }
    };
    let rows = p
        .components
        .iter()
        .map(|c| view! { <tr><td>{c.component.clone()}</td><td class="num">{format!("{} m", c.cpu_m)}</td><td class="num">{format!("{} Mi", c.memory_mi)}</td></tr> })
        .collect_view();
    view! {
        {verdict}
        {bar("CPU", p.cpu_requested_m, p.cpu_allocatable_m, "m")}
        {bar("Memory", p.memory_requested_mi, p.memory_allocatable_mi, "Mi")}
        <p class="hint">{format!("{} schedulable node(s).", p.schedulable_nodes)}</p>
        <table class="data-table" aria-label="Requests of enabled components">
            <thead><tr><th scope="col">"Component"</th><th scope="col">"CPU"</th><th scope="col">"Memory"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// A mesh switch being previewed or applied.
#[derive(Clone, Debug, PartialEq)]
struct MeshPending {
    enable: bool,
    /// Take over fields other managers own (after a conflict, on request).
    force: bool,
    preview: Option<Result<MeshChange, ApiError>>,
    applying: bool,
}

fn control_plane_text(status: &MeshStatus) -> String {
    let cp = &status.control_plane;
    let version = cp
        .version
        .clone()
        .map(|v| format!(", istiod {v}"))
        .unwrap_or_default();
    match cp.kind {
        ControlPlaneKind::SailIstio => format!(
            "Sail operator Istio resource {}{version}",
            cp.resource.clone().unwrap_or_default()
        ),
        ControlPlaneKind::IstioOperator => format!(
            "IstioOperator {}{version}",
            cp.resource.clone().unwrap_or_default()
        ),
        ControlPlaneKind::ExistingIstiod => {
            format!("existing istiod (not managed by meshdeck){version}")
        }
        ControlPlaneKind::None => "none found: install istiod or the Sail operator".to_owned(),
    }
}

/// The mesh for the whole cluster: state, ingresses, enable and disable
/// with a preview of the steps and their progress.
#[component]
fn MeshCard(
    status: LocalResource<Result<MeshStatus, ApiError>>,
    dirty: Signal<bool>,
) -> impl IntoView {
    let pending: RwSignal<Option<MeshPending>> = RwSignal::new(None);
    let outcome: RwSignal<Option<Result<MeshChange, ApiError>>> = RwSignal::new(None);
    let ask = move |enable: bool, force: bool| {
        outcome.set(None);
        pending.set(Some(MeshPending {
            enable,
            force,
            preview: None,
            applying: false,
        }));
        spawn_local(async move {
            let preview = api::switch_mesh(enable, true, force).await;
            pending.update(|p| {
                if let Some(p) = p
                    .as_mut()
                    .filter(|p| p.enable == enable && p.force == force)
                {
                    p.preview = Some(preview);
                }
            });
        });
    };
    let apply = move || {
        let Some((enable, force)) =
            pending.with_untracked(|p| p.as_ref().map(|p| (p.enable, p.force)))
        else {
            return;
        };
        pending.update(|p| {
            if let Some(p) = p.as_mut() {
                p.applying = true;
            }
        });
        spawn_local(async move {
            let result = api::switch_mesh(enable, false, force).await;
            pending.set(None);
            outcome.set(Some(result));
            status.refetch();
        });
    };
    view! {
        <section class="card mesh-card" aria-labelledby="mesh-heading">
            <h2 id="mesh-heading">"Mesh for the cluster"</h2>
            {move || status.get().map(|r| match r {
                Err(err) => view! { <p class="form-error" role="alert">{err.to_string()}</p> }.into_any(),
                Ok(s) => {
                    let enabled = s.enabled;
                    let since = s.enabled_at.clone().map(|t| format!(" since {t}")).unwrap_or_default();
                    let ingress_rows = s.ingresses.iter().map(|i| {
                        let kind = match i.kind {
                            IngressKind::Controller => "Ingress controller",
                            IngressKind::IstioGateway => "Istio gateway",
                        };
                        let owner = if i.managed_by_meshdeck { ", created by meshdeck" } else { "" };
                        view! {
                            <li>
                                <strong>{kind}</strong>
                                <span class="muted">{format!(" ({}{owner})", i.service_type)}</span>
                                <br />
                                <code>{format!("{}/{}", i.namespace, i.name)}</code>
                                <br />
                                <span class="ingress-ports">{i.ports.join(" · ")}</span>
                            </li>
                        }
                    }).collect_view();
                    view! {
                        <p>
                            {if enabled { view! { <span class="badge badge-ok">"enabled"</span> }.into_any() } else { view! { <span class="badge badge-muted">"not enabled"</span> }.into_any() }}
                            <span class="muted">{since}</span>
                        </p>
                        <dl class="facts">
                            <dt>"Control plane"</dt>
                            <dd>{control_plane_text(&s)}</dd>
                        </dl>
                        <h3 class="sub-heading">"Ingresses"</h3>
                        <ul class="ingress-list" aria-label="Ingresses">{ingress_rows}</ul>
                        <div class="modal-actions">
                            <button type="button" class="primary" on:click=move |_| ask(true, false)>
                                {if enabled { "Apply settings to the mesh" } else { "Enable the mesh" }}
                            </button>
                            {enabled.then(|| view! { <button type="button" on:click=move |_| ask(false, false)>"Disable the mesh"</button> })}
                        </div>
                    }.into_any()
                }
            })}
            <Show when=move || dirty.get()>
                <p class="hint">"Enabling uses the saved settings: save your changes first."</p>
            </Show>
            {move || outcome.get().map(|o| match o {
                Ok(change) => view! {
                    <div class="result-note" role="status">
                        <strong>"Done:"</strong>
                        <ol>{change.steps.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}</ol>
                    </div>
                }.into_any(),
                Err(err) => view! { <p class="form-error" role="alert">{format!("Nothing was changed: {err}")}</p> }.into_any(),
            })}
        </section>
        {move || pending.get().map(|p| {
            let title = if p.enable { "Enable the mesh" } else { "Disable the mesh" };
            let can_apply = matches!(&p.preview, Some(Ok(_))) && !p.applying;
            let applying = p.applying;
            let enable = p.enable;
            let body = match p.preview.clone() {
                None => view! { <div class="state state-loading" role="status"><span class="spinner" aria-hidden="true"></span>"Checking every step with a dry run…"</div> }.into_any(),
                // Fields another manager owns: taking them over is an
                // explicit second step.
                Some(Err(err)) if err.status == 409 && enable && !p.force => view! {
                    <p class="form-error" role="alert">{err.to_string()}</p>
                    <p>
                        "Another manager owns these fields. Leave them to it (change the settings or that object), or take them over: "
                        "meshdeck then writes its values and becomes their manager."
                    </p>
                    <button type="button" on:click=move |_| ask(true, true)>"Take over these fields"</button>
                }.into_any(),
                Some(Err(err)) => view! { <p class="form-error" role="alert">{err.to_string()}</p> }.into_any(),
                Some(Ok(change)) => view! {
                    <p>
                        "These steps passed a dry run on the cluster; nothing is applied until you press Apply. If a step fails, the ones before it are undone. "
                        "meshdeck's own account makes them for you, once Kubernetes confirmed (SubjectAccessReviews) that you may make each one yourself."
                    </p>
                    <ol class="steps">{change.steps.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}</ol>
                }.into_any(),
            };
            view! {
                <div class="modal-backdrop">
                    <div class="modal card" role="dialog" aria-modal="true" aria-labelledby="mesh-preview-title">
                        <h2 id="mesh-preview-title">{title}</h2>
                        {body}
                        {applying.then(|| view! { <div class="state state-loading" role="status"><span class="spinner" aria-hidden="true"></span>"Applying the steps…"</div> })}
                        <div class="modal-actions">
                            <button type="button" class="primary" disabled=!can_apply on:click=move |_| apply()>
                                {if applying { "Applying…" } else { "Apply" }}
                            </button>
                            <button type="button" disabled=applying on:click=move |_| pending.set(None)>"Cancel"</button>
                        </div>
                    </div>
                </div>
            }
        })}
    }
}

/// Copies `text` to the clipboard; `done` says whether it worked (the
/// Clipboard API exists only in secure contexts: HTTPS or localhost).
fn copy_to_clipboard(text: String, done: RwSignal<Option<bool>>) {
    let Some(navigator) = web_sys::window().map(|w| w.navigator()) else {
        done.set(Some(false));
        return;
    };
    let available = js_sys::Reflect::get(&navigator, &"clipboard".into())
        .map(|c| !c.is_undefined() && !c.is_null())
        .unwrap_or(false);
    if !available {
        done.set(Some(false));
        return;
    }
    let promise = navigator.clipboard().write_text(&text);
    spawn_local(async move {
        let copied = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
        done.set(Some(copied));
    });
}

/// A block of text to copy: a labelled `<pre>` and a Copy button saying
/// whether it worked.
#[component]
fn CopyBlock(label: &'static str, text: String) -> impl IntoView {
    let done: RwSignal<Option<bool>> = RwSignal::new(None);
    let copy_text = text.clone();
    view! {
        <div class="copy-block">
            <div class="copy-bar">
                <span class="copy-label">{label}</span>
                // A live region (there before anything is copied, so the
                // message is announced), not a `status`: a page is loaded
                // when no `status` is left.
                <span class="copy-result" aria-live="polite">
                    {move || match done.get() {
                        Some(true) => "Copied.",
                        Some(false) => "This browser does not allow copying here: select the text and copy it.",
                        None => "",
                    }}
                </span>
                <button type="button" on:click=move |_| copy_to_clipboard(copy_text.clone(), done)>"Copy"</button>
            </div>
            <pre class="copy-text" aria-label=label tabindex="0"><code>{text}</code></pre>
        </div>
    }
}

/// How Prometheus scrapes the mesh (the Prometheus Operator's monitors that
/// enabling writes, or the scrape jobs to add), and the Grafana dashboards.
#[component]
fn MonitoringCard(status: LocalResource<Result<MeshStatus, ApiError>>) -> impl IntoView {
    view! {
        <section class="card monitoring-card" aria-labelledby="monitoring-heading">
            <h2 id="monitoring-heading">"Monitoring"</h2>
            {move || status.get().map(|r| match r {
                Err(err) => view! { <p class="form-error" role="alert">{err.to_string()}</p> }.into_any(),
                Ok(s) => view! {
                    <Scraping monitoring=s.monitoring.clone() />
                    <GrafanaDashboards grafana=s.monitoring.grafana />
                }.into_any(),
            })}
        </section>
    }
}

#[component]
fn Scraping(monitoring: MonitoringStatus) -> impl IntoView {
    if !monitoring.operator_api {
        let snippet = monitoring.scrape_config.unwrap_or_default();
        return view! {
            <h3 class="sub-heading">"Prometheus: scrape configuration to add"</h3>
            <p>
                "The Prometheus Operator's API ("
                <code>"monitoring.coreos.com/v1"</code>
                ") is not served in this cluster, so meshdeck creates no ServiceMonitor or PodMonitor. "
                "Add these two jobs to the configured Prometheus, under "
                <code>"scrape_configs:"</code>
                ", and reload it: one scrapes istiod, the other the sidecars' merged metrics."
            </p>
            <CopyBlock label="Scrape configuration for Prometheus" text=snippet />
        }
        .into_any();
    }
    let rows = monitoring
        .monitors
        .iter()
        .map(|m| {
            let badge = state_badge(m.state);
            view! {
                <li>
                    <strong>{m.kind.clone()}</strong>" "
                    <code>{format!("{}/{}", m.namespace, m.name)}</code>" "
                    <span class=format!("badge {}", badge.class)>{badge.text}</span>
                    <br />
                    <span class="monitor-detail">{monitor_detail(m)}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <h3 class="sub-heading">"Prometheus Operator: ServiceMonitor and PodMonitor"</h3>
        <p class="hint">
            "Istio's monitors for istiod and the sidecars, labelled as meshdeck's; disabling the mesh removes them. "
            "A Prometheus resource picks them up when its serviceMonitorSelector and podMonitorSelector select them (and their namespace)."
        </p>
        <ul class="monitor-list" aria-label="Prometheus Operator monitors">{rows}</ul>
    }
    .into_any()
}

#[component]
fn GrafanaDashboards(grafana: Option<GrafanaDashboardsInfo>) -> impl IntoView {
    let Some(g) = grafana else {
        return view! {
            <h3 class="sub-heading">"Grafana dashboards"</h3>
            <p class="hint">
                "With a Grafana URL (Tool URLs above, or meshdeck's "
                <code>"--grafana-url"</code>
                "), enabling the mesh writes meshdeck's built-in dashboards as Grafana dashboards into a ConfigMap that Grafana's dashboard sidecar loads."
            </p>
        }
        .into_any();
    };
    let badge = state_badge(g.state);
    let note = grafana_note(&g);
    view! {
        <h3 class="sub-heading">"Grafana dashboards"</h3>
        <dl class="facts grafana-facts">
            <dt>"ConfigMap"</dt>
            <dd><code>{g.configmap.clone()}</code>" "<span class=format!("badge {}", badge.class)>{badge.text}</span></dd>
            <dt>"Label"</dt>
            <dd><code>{g.label.clone()}</code>" (what the sidecar looks for)"</dd>
            <dt>"Dashboards"</dt>
            <dd>{g.dashboards.join(" · ")}</dd>
        </dl>
        <p class="hint">{note}</p>
    }
    .into_any()
}
