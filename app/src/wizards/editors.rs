//! The wizards' forms on screen: one editor per wizard over the plain form
//! models of [`super::form`]. Editors take their data through arguments
//! and fetch nothing; the service page sends what they build.
//!
//! Every form lives in one signal. Lists (weights, rules, conditions) are
//! rebuilt only when their length changes (a memo of the length), and every
//! input reads its value by index, so typing never recreates the input
//! being typed in.

use std::sync::atomic::{AtomicUsize, Ordering};

use leptos::prelude::*;

use super::form::{
    AbPreset, CircuitForm, CookieRow, FaultForm, FieldErrors, GRPC_STATUSES, GatewayForm,
    HeaderRow, LbChoice, METHODS, MtlsForm, RETRY_ON_GRPC, RETRY_ON_HTTP, RoutingForm,
    ShiftingForm, TcpShiftingForm, TimeoutsForm, WeightPreset, WeightRow, apply_preset,
    canary_label, weight_total,
};
use crate::types::{
    GatewayProtocol, MtlsMode, PeerAuthScope, RouteApi, ServiceProtocol, ServiceTraffic,
    StringMatchKind, TlsMode, WizardKind, WizardRequest,
};

/// A wizard's editor: its view and what it builds.
pub struct Editor {
    /// The form.
    pub view: AnyView,
    /// The request the form makes now, or its invalid fields.
    pub request: Memo<Result<WizardRequest, FieldErrors>>,
}

/// The fields the server's 422 named, with the request it refused.
pub type ServerErrors = Signal<Option<(WizardRequest, FieldErrors)>>;

/// The editor of `kind` for the service of `traffic`. Invalid fields are
/// marked once `show_errors` is set (the first Preview) or the form was
/// changed; the fields of the server's 422 while the form still makes the
/// request it refused.
pub fn editor(
    kind: WizardKind,
    traffic: &ServiceTraffic,
    show_errors: Signal<bool>,
    server_errors: ServerErrors,
) -> Editor {
    let t = traffic;
    match kind {
        WizardKind::TrafficShifting => {
            let (form, request, errors) = setup(
                ShiftingForm::new(t),
                ShiftingForm::request,
                show_errors,
                server_errors,
            );
            editor_of(shifting_view(form, errors, ApiChoice::of(t)), request)
        }
        WizardKind::TcpTrafficShifting => {
            let (form, request, errors) = setup(
                TcpShiftingForm::new(t),
                TcpShiftingForm::request,
                show_errors,
                server_errors,
            );
            editor_of(tcp_view(form, errors), request)
        }
        WizardKind::RequestRouting => {
            let (form, request, errors) = setup(
                RoutingForm::new(t),
                RoutingForm::request,
                show_errors,
                server_errors,
            );
            editor_of(routing_view(form, errors, ApiChoice::of(t)), request)
        }
        WizardKind::FaultInjection => {
            let (form, request, errors) = setup(
                FaultForm::new(t),
                FaultForm::request,
                show_errors,
                server_errors,
            );
            editor_of(fault_view(form, errors), request)
        }
        WizardKind::TimeoutsRetries => {
            let (form, request, errors) = setup(
                TimeoutsForm::new(t),
                TimeoutsForm::request,
                show_errors,
                server_errors,
            );
            editor_of(timeouts_view(form, errors, t.protocol), request)
        }
        WizardKind::CircuitBreaking => {
            let (form, request, errors) = setup(
                CircuitForm::new(t),
                CircuitForm::request,
                show_errors,
                server_errors,
            );
            editor_of(circuit_view(form, errors), request)
        }
        WizardKind::Mtls => {
            let (form, request, _) = setup(
                MtlsForm::new(t),
                MtlsForm::request,
                show_errors,
                server_errors,
            );
            editor_of(mtls_view(form, t), request)
        }
        WizardKind::Gateway => {
            let (form, request, errors) = setup(
                GatewayForm::new(t),
                GatewayForm::request,
                show_errors,
                server_errors,
            );
            editor_of(gateway_view(form, errors, t), request)
        }
    }
}

fn editor_of(
    view: impl IntoView + 'static,
    request: Memo<Result<WizardRequest, FieldErrors>>,
) -> Editor {
    Editor {
        view: view.into_any(),
        request,
    }
}

type Built<F> = (
    RwSignal<F>,
    Memo<Result<WizardRequest, FieldErrors>>,
    Signal<FieldErrors>,
);

/// The form's signal, the request it builds, and the errors to show.
fn setup<F>(
    initial: F,
    build: fn(&F) -> Result<WizardRequest, FieldErrors>,
    show_errors: Signal<bool>,
    server_errors: ServerErrors,
) -> Built<F>
where
    F: Clone + PartialEq + Send + Sync + 'static,
{
    let form = RwSignal::new(initial.clone());
    let request = Memo::new(move |_| form.with(build));
    let changed = Memo::new(move |_| form.with(|f| *f != initial));
    let errors = Signal::derive(move || {
        let server = server_errors.with(|s| match s {
            Some((refused, fields)) if request.with(|r| r.as_ref() == Ok(refused)) => {
                fields.clone()
            }
            _ => FieldErrors::default(),
        });
        if show_errors.get() || changed.get() {
            request.with(|r| {
                r.as_ref()
                    .err()
                    .cloned()
                    .unwrap_or_default()
                    .merged(&server)
            })
        } else {
            server
        }
    });
    (form, request, errors)
}

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

/// A fresh element id for a label, hint and error to refer to.
fn next_id() -> String {
    format!("wz-{}", NEXT_ID.fetch_add(1, Ordering::Relaxed))
}

/// A field's label: the text shown, and the fuller name screen readers
/// (and tests) get where the text shown relies on its surroundings
/// ("Header name" inside rule 2 is "Rule 2: header 1 name").
#[derive(Clone)]
struct Label {
    shown: String,
    full: Option<String>,
}

impl Label {
    fn scoped(shown: impl Into<String>, full: String) -> Self {
        Label {
            shown: shown.into(),
            full: Some(full),
        }
    }
}

impl From<String> for Label {
    fn from(shown: String) -> Self {
        Label { shown, full: None }
    }
}

impl From<&str> for Label {
    fn from(shown: &str) -> Self {
        Label {
            shown: shown.to_owned(),
            full: None,
        }
    }
}

/// What kind of input a field is.
#[derive(Clone, Copy)]
enum Input {
    /// Free text (names, durations, lists).
    Text,
    /// A decimal number (percentages): text with a decimal keypad, so a
    /// half-typed `12.` stays as typed.
    Decimal,
    /// A whole number between these bounds.
    Whole(i64, i64),
}

/// The error of `field`, under it (empty when none).
fn field_error(errors: Signal<FieldErrors>, field: String, id: String) -> impl IntoView {
    view! {
        <span class="field-error" id=id>
            {move || errors.with(|e| e.get(&field)).unwrap_or_default()}
        </span>
    }
}

// The generic binders below only make a signal and a callback for their
// part of the form; the views are built by the plain functions after them,
// compiled once however many fields use them (which keeps the WASM small).

/// A labelled input bound to part of a form, with a hint and its error.
#[allow(clippy::too_many_arguments)]
fn input_field<F, G, S>(
    form: RwSignal<F>,
    label: impl Into<Label>,
    hint: &'static str,
    field: String,
    errors: Signal<FieldErrors>,
    input: Input,
    get: G,
    set: S,
) -> AnyView
where
    F: Send + Sync + 'static,
    G: Fn(&F) -> String + Send + Sync + 'static,
    S: Fn(&mut F, String) + Send + Sync + 'static,
{
    let value = Signal::derive(move || form.with(&get));
    let set = Callback::new(move |v: String| form.update(|f| set(f, v)));
    input_view(label.into(), hint, field, errors, input, value, set)
}

/// The view of [`input_field`].
fn input_view(
    label: Label,
    hint: &'static str,
    field: String,
    errors: Signal<FieldErrors>,
    input: Input,
    value: Signal<String>,
    set: Callback<String>,
) -> AnyView {
    let id = next_id();
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described = format!("{hint_id} {error_id}");
    // Set the input's value only when it changes, not at every keystroke
    // elsewhere in the form.
    let value = Memo::new(move |_| value.get());
    let marked = field.clone();
    let invalid = move || errors.with(|e| e.get(&marked).is_some()).then_some("true");
    let (kind, mode, min, max) = match input {
        Input::Text => ("text", None, None, None),
        Input::Decimal => ("text", Some("decimal"), None, None),
        Input::Whole(min, max) => (
            "number",
            None,
            Some(min.to_string()),
            (max < i64::MAX).then(|| max.to_string()),
        ),
    };
    let class = match input {
        Input::Text => "field",
        _ => "field field-narrow",
    };
    view! {
        <div class=class>
            <label class="field-label" for=id.clone()>{label.shown}</label>
            <input
                id=id
                aria-label=label.full
                type=kind
                inputmode=mode
                min=min
                max=max
                step=matches!(input, Input::Whole(..)).then_some("1")
                autocomplete="off"
                prop:value=move || value.get()
                on:input=move |ev| set.run(event_target_value(&ev))
                aria-describedby=described
                aria-invalid=invalid
            />
            <span class="field-hint" id=hint_id>{hint}</span>
            {field_error(errors, field, error_id)}
        </div>
    }
    .into_any()
}

/// A checkbox bound to part of a form.
fn check_field<F, G, S>(form: RwSignal<F>, label: &'static str, get: G, set: S) -> AnyView
where
    F: Send + Sync + 'static,
    G: Fn(&F) -> bool + Send + Sync + 'static,
    S: Fn(&mut F, bool) + Send + Sync + 'static,
{
    let checked = Signal::derive(move || form.with(&get));
    let set = Callback::new(move |on: bool| form.update(|f| set(f, on)));
    check_view(label, checked, set)
}

/// The view of [`check_field`].
fn check_view(label: &'static str, checked: Signal<bool>, set: Callback<bool>) -> AnyView {
    let checked = Memo::new(move |_| checked.get());
    view! {
        <label class="check wizard-check">
            <input
                type="checkbox"
                prop:checked=move || checked.get()
                on:change=move |ev| set.run(event_target_checked(&ev))
            />
            {label}
        </label>
    }
    .into_any()
}

/// A labelled `<select>` bound to part of a form.
fn select_field<F, G, S>(
    form: RwSignal<F>,
    label: impl Into<Label>,
    options: Vec<(String, String)>,
    get: G,
    set: S,
) -> AnyView
where
    F: Send + Sync + 'static,
    G: Fn(&F) -> String + Send + Sync + 'static,
    S: Fn(&mut F, String) + Send + Sync + 'static,
{
    let value = Signal::derive(move || form.with(&get));
    let set = Callback::new(move |v: String| form.update(|f| set(f, v)));
    select_view(label.into(), options, value, set)
}

/// The view of [`select_field`].
fn select_view(
    label: Label,
    options: Vec<(String, String)>,
    value: Signal<String>,
    set: Callback<String>,
) -> AnyView {
    let id = next_id();
    let value = Memo::new(move |_| value.get());
    view! {
        <div class="field field-narrow">
            <label class="field-label" for=id.clone()>{label.shown}</label>
            <select
                id=id
                aria-label=label.full
                prop:value=move || value.get()
                on:change=move |ev| set.run(event_target_value(&ev))
            >
                {options
                    .into_iter()
                    .map(|(value, text)| view! { <option value=value>{text}</option> })
                    .collect_view()}
            </select>
        </div>
    }
    .into_any()
}

/// One radio button of a group, with a hint after its label.
fn radio<F, G, S>(
    form: RwSignal<F>,
    group: &'static str,
    label: String,
    hint: &'static str,
    get: G,
    set: S,
) -> AnyView
where
    F: Send + Sync + 'static,
    G: Fn(&F) -> bool + Send + Sync + 'static,
    S: Fn(&mut F) + Send + Sync + 'static,
{
    let checked = Signal::derive(move || form.with(&get));
    let choose = Callback::new(move |()| form.update(&set));
    radio_view(group, label, hint, checked, choose)
}

/// The view of [`radio`].
fn radio_view(
    group: &'static str,
    label: String,
    hint: &'static str,
    checked: Signal<bool>,
    choose: Callback<()>,
) -> AnyView {
    let checked = Memo::new(move |_| checked.get());
    view! {
        <div class="radio-row">
            <label class="check">
                <input
                    type="radio"
                    name=group
                    prop:checked=move || checked.get()
                    on:change=move |_| choose.run(())
                />
                {label}
            </label>
            {(!hint.is_empty()).then(|| view! { <span class="field-hint">{hint}</span> })}
        </div>
    }
    .into_any()
}

/// A plain button.
fn button_view(
    label: String,
    aria: Option<String>,
    title: Option<String>,
    disabled: Signal<bool>,
    on: Callback<()>,
) -> AnyView {
    view! {
        <button type="button" aria-label=aria title=title disabled=disabled on:click=move |_| on.run(())>
            {label}
        </button>
    }
    .into_any()
}

/// A button changing the form.
fn form_button<F, U>(
    form: RwSignal<F>,
    label: String,
    aria: Option<String>,
    title: Option<String>,
    change: U,
) -> AnyView
where
    F: Send + Sync + 'static,
    U: Fn(&mut F) + Send + Sync + 'static,
{
    let on = Callback::new(move |()| form.update(&change));
    button_view(label, aria, title, Signal::stored(false), on)
}

/// `true` while `on` says no: for disabling a group its checkbox turns off.
fn off<F: Send + Sync + 'static>(form: RwSignal<F>, on: fn(&F) -> bool) -> Signal<bool> {
    Signal::derive(move || !form.with(on))
}

/// A paragraph saying what the wizard writes.
fn intro(text: String) -> impl IntoView {
    view! { <p class="wizard-intro">{text}</p> }
}

// ---------------------------------------------------------------------------
// Weights
// ---------------------------------------------------------------------------

/// Forms holding weight rows; `at` picks the rule where there are several.
trait HasWeights: Send + Sync + 'static {
    fn rows(&self, at: usize) -> Option<&Vec<WeightRow>>;
    fn rows_mut(&mut self, at: usize) -> Option<&mut Vec<WeightRow>>;
}

impl HasWeights for ShiftingForm {
    fn rows(&self, _: usize) -> Option<&Vec<WeightRow>> {
        Some(&self.weights)
    }
    fn rows_mut(&mut self, _: usize) -> Option<&mut Vec<WeightRow>> {
        Some(&mut self.weights)
    }
}

impl HasWeights for TcpShiftingForm {
    fn rows(&self, _: usize) -> Option<&Vec<WeightRow>> {
        Some(&self.weights)
    }
    fn rows_mut(&mut self, _: usize) -> Option<&mut Vec<WeightRow>> {
        Some(&mut self.weights)
    }
}

impl HasWeights for RoutingForm {
    fn rows(&self, at: usize) -> Option<&Vec<WeightRow>> {
        self.rules.get(at).map(|r| &r.weights)
    }
    fn rows_mut(&mut self, at: usize) -> Option<&mut Vec<WeightRow>> {
        self.rules.get_mut(at).map(|r| &mut r.weights)
    }
}

/// How a weights editor looks.
#[derive(Clone)]
struct WeightsLook {
    /// The group's title.
    legend: String,
    /// Put before "weight of vN (%)" in the inputs' labels (`Rule 2: `).
    label_prefix: String,
    /// Path of the weights in the request (`weights`, `rules[1].weights`).
    field: String,
    /// Sliders and one-click presets (the shifting wizards).
    full: bool,
}

/// One list of weights of a form, type-erased: its rows, and ways to
/// change one weight or all of them.
#[derive(Clone, Copy)]
struct WeightsLens {
    rows: Signal<Vec<WeightRow>>,
    set_weight: Callback<(usize, String)>,
    replace: Callback<Vec<WeightRow>>,
}

/// The weights of `form` (rule `at` where there are several).
fn weights_editor<F: HasWeights>(
    form: RwSignal<F>,
    at: usize,
    errors: Signal<FieldErrors>,
    look: WeightsLook,
) -> AnyView {
    let lens = WeightsLens {
        rows: Signal::derive(move || form.with(|f| f.rows(at).cloned().unwrap_or_default())),
        set_weight: Callback::new(move |(i, v): (usize, String)| {
            form.update(|f| {
                if let Some(row) = f.rows_mut(at).and_then(|r| r.get_mut(i)) {
                    row.weight = v;
                }
            })
        }),
        replace: Callback::new(move |rows: Vec<WeightRow>| {
            form.update(|f| {
                if let Some(old) = f.rows_mut(at) {
                    *old = rows;
                }
            })
        }),
    };
    weights_view(lens, errors, look)
}

/// Weight per version, their total, and (full) sliders and presets.
fn weights_view(lens: WeightsLens, errors: Signal<FieldErrors>, look: WeightsLook) -> AnyView {
    let count = Memo::new(move |_| lens.rows.with(Vec::len));
    let total = move || {
        match lens.rows.with(|r| weight_total(r)) {
        Some(100) => view! { <span class="badge badge-ok">"Total 100 %"</span> }.into_any(),
        Some(t) => view! { <span class="badge badge-bad">{format!("Total {t} %: must be 100 %")}</span> }.into_any(),
        None => view! { <span class="badge badge-muted">"Total: enter a whole number for each version"</span> }.into_any(),
    }
    };
    let preset = move |p: WeightPreset| {
        Callback::new(move |()| {
            lens.replace
                .run(lens.rows.with_untracked(|r| apply_preset(r, p)))
        })
    };
    let enabled = Signal::stored(false);
    let full = look.full;
    let prefix = look.label_prefix.clone();
    let field = look.field.clone();
    let presets = full.then(|| {
        let versions: Vec<String> =
            lens.rows.with_untracked(|r| r.iter().map(|w| w.version.clone()).collect());
        let canary = Memo::new(move |_| lens.rows.with(|r| canary_label(r)));
        view! {
            <div class="preset-row" role="group" aria-label="Presets">
                <span class="preset-title">"Presets"</span>
                {move || canary.get().map(|label| button_view(
                    label,
                    None,
                    Some("90 % stay on the version carrying most traffic now; 10 % go to the newest other version".into()),
                    enabled,
                    preset(WeightPreset::Canary),
                ))}
                {versions
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let title = format!("Blue/green switch: every request to {v}, none to the others");
                        button_view(format!("All to {v}"), None, Some(title), enabled, preset(WeightPreset::AllTo(i)))
                    })
                    .collect_view()}
                {button_view("Even split".into(), None, None, enabled, preset(WeightPreset::Even))}
            </div>
        }
    });
    let rows = move || {
        (0..count.get())
            .map(|i| weight_row(lens, i, errors, &prefix, &field, full))
            .collect_view()
    };
    let total_field = look.field.clone();
    let total_id = next_id();
    view! {
        <fieldset class="wizard-group weights">
            <legend>{look.legend}</legend>
            {presets}
            <div class="weight-rows">{rows}</div>
            <p class="weights-total" aria-live="polite">{total}</p>
            {field_error(errors, total_field, total_id)}
        </fieldset>
    }
    .into_any()
}

/// One version's weight: a number input and (full) a slider.
fn weight_row(
    lens: WeightsLens,
    i: usize,
    errors: Signal<FieldErrors>,
    prefix: &str,
    field: &str,
    slider: bool,
) -> AnyView {
    let version = lens
        .rows
        .with_untracked(|r| r.get(i).map(|r| r.version.clone()))
        .unwrap_or_default();
    let shown = format!("Weight of {version} (%)");
    let label = if prefix.is_empty() {
        Label::from(shown)
    } else {
        Label::scoped(shown, format!("{prefix}weight of {version} (%)"))
    };
    let weight = Signal::derive(move || {
        lens.rows
            .with(|r| r.get(i).map(|r| r.weight.clone()))
            .unwrap_or_default()
    });
    let set = Callback::new(move |v: String| lens.set_weight.run((i, v)));
    let number =
        Memo::new(move |_| weight.with(|w| w.trim().parse::<i64>().unwrap_or(0).clamp(0, 100)));
    let slider_view = slider.then(|| {
        let slider_label = format!("{}, slider", label.full.as_ref().unwrap_or(&label.shown));
        view! {
            <input
                type="range"
                class="weight-slider"
                min="0"
                max="100"
                step="1"
                aria-label=slider_label
                prop:value=move || number.get().to_string()
                on:input=move |ev| set.run(event_target_value(&ev))
            />
        }
    });
    // Without a slider, a bar shows the share at a glance.
    let bar = (!slider).then(|| {
        let width = move || format!("width: {}%", number.get());
        view! { <span class="weight-bar" aria-hidden="true"><span class="weight-fill" style=width></span></span> }
    });
    view! {
        <div class="weight-row">
            <span class="weight-version"><code>{version.clone()}</code></span>
            {slider_view}
            {input_view(label, "", format!("{field}[{i}].weight"), errors, Input::Whole(0, 100), weight, set)}
            {bar}
        </div>
    }
    .into_any()
}

// ---------------------------------------------------------------------------
// Which API a routing wizard writes
// ---------------------------------------------------------------------------

/// What the routing wizards know of the Gateway API option.
#[derive(Clone)]
struct ApiChoice {
    /// The cluster serves the route kind.
    served: bool,
    /// `HTTPRoute` or `GRPCRoute`.
    kind: &'static str,
    /// The versions' own Services, or which are missing.
    backends: String,
}

impl ApiChoice {
    fn of(traffic: &ServiceTraffic) -> Self {
        let kind = if traffic.protocol == ServiceProtocol::Grpc {
            "GRPCRoute"
        } else {
            "HTTPRoute"
        };
        let found: Vec<String> = traffic
            .versions
            .iter()
            .filter_map(|v| {
                traffic
                    .version_services
                    .get(&v.version)
                    .map(|s| format!("{} → {s}", v.version))
            })
            .collect();
        let missing: Vec<&str> = traffic
            .versions
            .iter()
            .filter(|v| !traffic.version_services.contains_key(&v.version))
            .map(|v| v.version.as_str())
            .collect();
        let mut backends = String::from(
            "The route names Services, not subsets: each version needs a Service of its own (the service's selector plus version). ",
        );
        if !found.is_empty() {
            backends.push_str(&format!("Found: {}. ", found.join(", ")));
        }
        if !missing.is_empty() {
            backends.push_str(&format!(
                "Missing for {}: create them to send those versions traffic.",
                missing.join(", ")
            ));
        }
        ApiChoice {
            served: traffic.gateway_api,
            kind,
            backends,
        }
    }
}

/// The API radio of a routing form (only where the cluster serves the
/// Gateway API's route kind).
fn api_view<F: Send + Sync + 'static>(
    form: RwSignal<F>,
    choice: ApiChoice,
    errors: Signal<FieldErrors>,
    get: fn(&F) -> RouteApi,
    set: fn(&mut F, RouteApi),
) -> Option<AnyView> {
    if !choice.served {
        return None;
    }
    let gateway = Signal::derive(move || form.with(get) == RouteApi::GatewayApi);
    let kind = choice.kind;
    Some(
        view! {
            <fieldset class="wizard-group">
                <legend>"Write it as"</legend>
                {radio(form, "route-api", "Istio VirtualService and DestinationRule".into(), "Subsets by the pods' version label", move |f| get(f) == RouteApi::Istio, move |f| set(f, RouteApi::Istio))}
                {radio(form, "route-api", format!("Gateway API {kind}"), "Kubernetes' newer routing API, which Istio implements for mesh traffic", move |f| get(f) == RouteApi::GatewayApi, move |f| set(f, RouteApi::GatewayApi))}
                {move || gateway.get().then(|| view! { <p class="field-hint">{choice.backends.clone()}</p> })}
                {field_error(errors, "api".into(), next_id())}
            </fieldset>
        }
        .into_any(),
    )
}

// ---------------------------------------------------------------------------
// Traffic shifting, TCP traffic shifting
// ---------------------------------------------------------------------------

fn shifting_view(
    form: RwSignal<ShiftingForm>,
    errors: Signal<FieldErrors>,
    api: ApiChoice,
) -> impl IntoView {
    let versions: Vec<(String, String)> = form.with_untracked(|f| {
        f.weights
            .iter()
            .map(|w| (w.version.clone(), w.version.clone()))
            .collect()
    });
    let mirror_off = off(form, |f| f.mirror_on);
    let gateway = Signal::derive(move || form.with(|f| f.api == RouteApi::GatewayApi));
    let text = format!(
        "Writes a VirtualService whose route splits the requests across the versions by weight, and a DestinationRule with one subset per version (its pods' version label){}. A canary sends a small share to a new version; a blue/green switch sends everything to one version, and back.",
        if api.served {
            format!(
                "; or, with the Gateway API, one {} that sends to the versions' own Services",
                api.kind
            )
        } else {
            String::new()
        }
    );
    view! {
        {intro(text)}
        {api_view(form, api, errors, |f| f.api, |f, a| f.api = a)}
        {weights_editor(form, 0, errors, WeightsLook {
            legend: "Share of requests per version".into(),
            label_prefix: String::new(),
            field: "weights".into(),
            full: true,
        })}
        <fieldset class="wizard-group" disabled=gateway>
            <legend>"Mirroring (optional)"</legend>
            {move || gateway.get().then(|| view! { <p class="field-hint">"Not with the Gateway API: mirroring a share is outside its standard channel."</p> })}
            {check_field(form, "Mirror a share of the requests to another version", |f| f.mirror_on, |f, on| f.mirror_on = on)}
            <p class="field-hint">"Copies are sent in addition to the routed requests; their answers are dropped. Use it to try a version on real traffic without its answers reaching anyone."</p>
            <fieldset class="plain-group field-row" disabled=mirror_off>
                {select_field(form, "Mirror to version", versions, |f| f.mirror_version.clone(), |f, v| f.mirror_version = v)}
                {input_field(form, "Share mirrored (%)", "0 to 100; decimals allowed", "mirror.percent".into(), errors, Input::Decimal, |f| f.mirror_percent.clone(), |f, v| f.mirror_percent = v)}
            </fieldset>
            {field_error(errors, "mirror.version".into(), next_id())}
        </fieldset>
    }
}

fn tcp_view(form: RwSignal<TcpShiftingForm>, errors: Signal<FieldErrors>) -> impl IntoView {
    view! {
        {intro("Writes a VirtualService whose TCP route splits new connections across the versions by weight (a connection stays with the version it opened to), and a DestinationRule with one subset per version.".into())}
        {weights_editor(form, 0, errors, WeightsLook {
            legend: "Share of connections per version".into(),
            label_prefix: String::new(),
            field: "weights".into(),
            full: true,
        })}
    }
}

// ---------------------------------------------------------------------------
// Request routing
// ---------------------------------------------------------------------------

fn match_kind_options() -> Vec<(String, String)> {
    [
        ("exact", "equals"),
        ("prefix", "starts with"),
        ("regex", "matches regex (RE2)"),
    ]
    .into_iter()
    .map(|(v, t)| (v.to_owned(), t.to_owned()))
    .collect()
}

fn match_kind_str(kind: StringMatchKind) -> &'static str {
    match kind {
        StringMatchKind::Exact => "exact",
        StringMatchKind::Prefix => "prefix",
        StringMatchKind::Regex => "regex",
    }
}

fn parse_match_kind(text: &str) -> Option<StringMatchKind> {
    match text {
        "exact" => Some(StringMatchKind::Exact),
        "prefix" => Some(StringMatchKind::Prefix),
        "regex" => Some(StringMatchKind::Regex),
        _ => None,
    }
}

fn routing_intro(api: &ApiChoice) -> String {
    let mut text = String::from(
        "Rules are tried in order; the first whose conditions all hold decides which versions get the request. A rule without conditions matches every request: keep one, last, as the catch-all.",
    );
    if api.served {
        let grpc = if api.kind == "GRPCRoute" {
            ", URI paths, methods or cookies"
        } else {
            ""
        };
        text.push_str(&format!(
            " With the Gateway API, an {} cannot match callers' labels or header prefixes{grpc}.",
            api.kind
        ));
    }
    text
}

fn routing_view(
    form: RwSignal<RoutingForm>,
    errors: Signal<FieldErrors>,
    api: ApiChoice,
) -> impl IntoView {
    let count = Memo::new(move |_| form.with(|f| f.rules.len()));
    let newest = form.with_untracked(|f| {
        f.rules
            .first()
            .and_then(|r| r.weights.last())
            .map(|w| w.version.clone())
            .unwrap_or_default()
    });
    let rules = move || {
        (0..count.get())
            .map(|i| rule_view(form, i, count, errors))
            .collect_view()
    };
    let intro_text = routing_intro(&api);
    view! {
        {intro(intro_text)}
        {api_view(form, api, errors, |f| f.api, |f, a| f.api = a)}
        <div class="preset-row" role="group" aria-label="Presets">
            <span class="preset-title">"Presets"</span>
            {form_button(
                form,
                format!("A/B by header (end-user: jason → {newest})"),
                None,
                Some("Requests with header end-user: jason (what bookinfo's productpage sends for a signed-in user) to the newest version, every other request to the oldest".into()),
                |f: &mut RoutingForm| *f = f.ab(AbPreset::Header),
            )}
            {form_button(
                form,
                format!("A/B by cookie (group=b → {newest})"),
                None,
                Some("Requests with cookie group=b to the newest version, every other request to the oldest".into()),
                |f: &mut RoutingForm| *f = f.ab(AbPreset::Cookie),
            )}
        </div>
        {field_error(errors, "rules".into(), next_id())}
        <ol class="rules">{rules}</ol>
        {form_button(form, "Add rule".into(), None, None, RoutingForm::add_rule)}
    }
}

fn rule_view(
    form: RwSignal<RoutingForm>,
    i: usize,
    count: Memo<usize>,
    errors: Signal<FieldErrors>,
) -> impl IntoView {
    let n = i + 1;
    let at = format!("rules[{i}].matches[0]");
    let catch_all =
        Memo::new(move |_| form.with(|f| f.rules.get(i).is_some_and(|r| r.is_catch_all())));
    let headers = Memo::new(move |_| form.with(|f| f.rules.get(i).map_or(0, |r| r.headers.len())));
    let cookies = Memo::new(move |_| form.with(|f| f.rules.get(i).map_or(0, |r| r.cookies.len())));
    let uri_any =
        Signal::derive(move || form.with(|f| f.rules.get(i).is_none_or(|r| r.uri_kind.is_none())));
    let rule = move |f: &RoutingForm| f.rules.get(i).cloned();
    let header_rows = {
        let at = at.clone();
        move || {
            (0..headers.get())
                .map(|j| header_row(form, i, j, errors, at.clone()))
                .collect_view()
        }
    };
    let cookie_rows = {
        let at = at.clone();
        move || {
            (0..cookies.get())
                .map(|j| cookie_row(form, i, j, errors, at.clone()))
                .collect_view()
        }
    };
    let mut uri_options = vec![(String::new(), "any path".to_owned())];
    uri_options.extend(match_kind_options());
    let mut methods = vec![(String::new(), "any method".to_owned())];
    methods.extend(METHODS.iter().map(|m| ((*m).to_owned(), (*m).to_owned())));
    let heading_id = next_id();
    let labelled_by = heading_id.clone();
    view! {
        <li class="rule card" aria-labelledby=labelled_by>
            <div class="rule-head">
                <h3 id=heading_id>{format!("Rule {n}")}</h3>
                {move || catch_all.get().then(|| view! {
                    <span class="badge badge-muted" title="No condition: matches every request">"catch-all"</span>
                })}
                <span class="rule-actions">
                    {button_view(
                        "↑ Up".into(),
                        Some(format!("Move rule {n} up")),
                        None,
                        Signal::stored(i == 0),
                        Callback::new(move |()| form.update(|f| f.move_rule(i, true))),
                    )}
                    {button_view(
                        "↓ Down".into(),
                        Some(format!("Move rule {n} down")),
                        None,
                        Signal::derive(move || i + 1 >= count.get()),
                        Callback::new(move |()| form.update(|f| f.move_rule(i, false))),
                    )}
                    {button_view(
                        "Remove".into(),
                        Some(format!("Remove rule {n}")),
                        None,
                        Signal::derive(move || count.get() <= 1),
                        Callback::new(move |()| form.update(|f| f.remove_rule(i))),
                    )}
                </span>
            </div>
            {field_error(errors, format!("rules[{i}]"), next_id())}
            <fieldset class="wizard-group">
                <legend>"Conditions (all must hold; none: every request)"</legend>
                <div class="condition-list">{header_rows}</div>
                <div class="condition-list">{cookie_rows}</div>
                <div class="field-row">
                    {form_button(form, "Add header condition".into(), Some(format!("Add header condition to rule {n}")), None, move |f: &mut RoutingForm| {
                        if let Some(r) = f.rules.get_mut(i) {
                            r.headers.push(HeaderRow { name: String::new(), kind: StringMatchKind::Exact, value: String::new() });
                        }
                    })}
                    {form_button(form, "Add cookie condition".into(), Some(format!("Add cookie condition to rule {n}")), None, move |f: &mut RoutingForm| {
                        if let Some(r) = f.rules.get_mut(i) {
                            r.cookies.push(CookieRow { name: String::new(), value: String::new() });
                        }
                    })}
                </div>
                <div class="field-row">
                    {select_field(
                        form,
                        Label::scoped("URI path", format!("Rule {n}: URI path")),
                        uri_options,
                        move |f| rule(f).and_then(|r| r.uri_kind).map(match_kind_str).unwrap_or("").to_owned(),
                        move |f, v| if let Some(r) = f.rules.get_mut(i) { r.uri_kind = parse_match_kind(&v) },
                    )}
                    <fieldset class="plain-group" disabled=uri_any>
                        {input_field(
                            form,
                            Label::scoped("Path or pattern", format!("Rule {n}: path or pattern")),
                            "e.g. /api/v2 (a regex need not start with /)",
                            format!("{at}.uri.value"),
                            errors,
                            Input::Text,
                            move |f| rule(f).map(|r| r.uri).unwrap_or_default(),
                            move |f, v| if let Some(r) = f.rules.get_mut(i) { r.uri = v },
                        )}
                    </fieldset>
                    {select_field(
                        form,
                        Label::scoped("Method", format!("Rule {n}: method")),
                        methods,
                        move |f| rule(f).map(|r| r.method).unwrap_or_default(),
                        move |f, v| if let Some(r) = f.rules.get_mut(i) { r.method = v },
                    )}
                </div>
                {input_field(
                    form,
                    Label::scoped("Caller's labels", format!("Rule {n}: caller's labels")),
                    "Only requests from workloads with these labels: label=value, comma-separated (e.g. app=productpage, version=v1)",
                    format!("{at}.source_labels"),
                    errors,
                    Input::Text,
                    move |f| rule(f).map(|r| r.source_labels).unwrap_or_default(),
                    move |f, v| if let Some(r) = f.rules.get_mut(i) { r.source_labels = v },
                )}
            </fieldset>
            {weights_editor(form, i, errors, WeightsLook {
                legend: "Send matching requests to".into(),
                label_prefix: format!("Rule {n}: "),
                field: format!("rules[{i}].weights"),
                full: false,
            })}
        </li>
    }
}

fn header_row(
    form: RwSignal<RoutingForm>,
    i: usize,
    j: usize,
    errors: Signal<FieldErrors>,
    at: String,
) -> impl IntoView {
    let (n, m) = (i + 1, j + 1);
    let header = move |f: &RoutingForm| f.rules.get(i).and_then(|r| r.headers.get(j)).cloned();
    let edit = move |f: &mut RoutingForm, change: &dyn Fn(&mut HeaderRow)| {
        if let Some(h) = f.rules.get_mut(i).and_then(|r| r.headers.get_mut(j)) {
            change(h);
        }
    };
    view! {
        <div class="condition field-row">
            {input_field(
                form,
                Label::scoped(format!("Header {m} name"), format!("Rule {n}: header {m} name")),
                "",
                format!("{at}.headers[{j}].name"),
                errors,
                Input::Text,
                move |f| header(f).map(|h| h.name).unwrap_or_default(),
                move |f, v| edit(f, &|h| h.name = v.clone()),
            )}
            {select_field(
                form,
                Label::scoped("Match", format!("Rule {n}: header {m} match")),
                match_kind_options(),
                move |f| header(f).map(|h| match_kind_str(h.kind)).unwrap_or("exact").to_owned(),
                move |f, v| edit(f, &|h| h.kind = parse_match_kind(&v).unwrap_or(StringMatchKind::Exact)),
            )}
            {input_field(
                form,
                Label::scoped("Header value", format!("Rule {n}: header {m} value")),
                "",
                format!("{at}.headers[{j}].match.value"),
                errors,
                Input::Text,
                move |f| header(f).map(|h| h.value).unwrap_or_default(),
                move |f, v| edit(f, &|h| h.value = v.clone()),
            )}
            {form_button(form, "×".into(), Some(format!("Remove header condition {m} of rule {n}")), None, move |f: &mut RoutingForm| {
                if let Some(r) = f.rules.get_mut(i).filter(|r| j < r.headers.len()) {
                    r.headers.remove(j);
                }
            })}
        </div>
    }
}

fn cookie_row(
    form: RwSignal<RoutingForm>,
    i: usize,
    j: usize,
    errors: Signal<FieldErrors>,
    at: String,
) -> impl IntoView {
    let (n, m) = (i + 1, j + 1);
    let cookie = move |f: &RoutingForm| f.rules.get(i).and_then(|r| r.cookies.get(j)).cloned();
    let edit = move |f: &mut RoutingForm, change: &dyn Fn(&mut CookieRow)| {
        if let Some(c) = f.rules.get_mut(i).and_then(|r| r.cookies.get_mut(j)) {
            change(c);
        }
    };
    view! {
        <div class="condition field-row">
            {input_field(
                form,
                Label::scoped(format!("Cookie {m} name"), format!("Rule {n}: cookie {m} name")),
                "",
                format!("{at}.cookies[{j}].name"),
                errors,
                Input::Text,
                move |f| cookie(f).map(|c| c.name).unwrap_or_default(),
                move |f, v| edit(f, &|c| c.name = v.clone()),
            )}
            <span class="condition-eq" aria-hidden="true">"="</span>
            {input_field(
                form,
                Label::scoped("Cookie value (exact)", format!("Rule {n}: cookie {m} value")),
                "",
                format!("{at}.cookies[{j}].value"),
                errors,
                Input::Text,
                move |f| cookie(f).map(|c| c.value).unwrap_or_default(),
                move |f, v| edit(f, &|c| c.value = v.clone()),
            )}
            {form_button(form, "×".into(), Some(format!("Remove cookie condition {m} of rule {n}")), None, move |f: &mut RoutingForm| {
                if let Some(r) = f.rules.get_mut(i).filter(|r| j < r.cookies.len()) {
                    r.cookies.remove(j);
                }
            })}
        </div>
    }
}

// ---------------------------------------------------------------------------
// Fault injection
// ---------------------------------------------------------------------------

fn fault_view(form: RwSignal<FaultForm>, errors: Signal<FieldErrors>) -> impl IntoView {
    let delay_off = off(form, |f| f.delay_on);
    let abort_off = off(form, |f| f.abort_on);
    let http_off = Signal::derive(move || form.with(|f| f.abort_grpc));
    let grpc_off = off(form, |f| f.abort_grpc);
    let neither = Memo::new(move |_| form.with(|f| !f.delay_on && !f.abort_on));
    let grpc_options: Vec<(String, String)> = GRPC_STATUSES
        .iter()
        .map(|(s, meaning)| ((*s).to_owned(), format!("{s}: {meaning}")))
        .collect();
    view! {
        {intro("Writes the faults into the service's VirtualService, so a share of the requests to it are slowed down or answered with an error by the callers' sidecars. Use it to see how callers cope; apply with both unticked to remove the faults again.".into())}
        <fieldset class="wizard-group">
            <legend>"Delay"</legend>
            {check_field(form, "Delay requests", |f| f.delay_on, |f, on| f.delay_on = on)}
            <fieldset class="plain-group field-row" disabled=delay_off>
                {input_field(form, "Delay (duration)", "e.g. 5s, 250ms, 1m", "delay.fixed_delay".into(), errors, Input::Text, |f| f.delay.clone(), |f, v| f.delay = v)}
                {input_field(form, "Requests delayed (%)", "0 to 100", "delay.percent".into(), errors, Input::Decimal, |f| f.delay_percent.clone(), |f, v| f.delay_percent = v)}
            </fieldset>
        </fieldset>
        <fieldset class="wizard-group">
            <legend>"Abort"</legend>
            {check_field(form, "Abort requests", |f| f.abort_on, |f, on| f.abort_on = on)}
            <fieldset class="plain-group" disabled=abort_off>
                <div class="field-row">
                    {radio(form, "abort-kind", "Answer an HTTP status".into(), "", |f| !f.abort_grpc, |f| f.abort_grpc = false)}
                    {radio(form, "abort-kind", "Answer a gRPC status".into(), "for gRPC services", |f| f.abort_grpc, |f| f.abort_grpc = true)}
                </div>
                <div class="field-row">
                    <fieldset class="plain-group" disabled=http_off>
                        {input_field(form, "HTTP status (200–599)", "e.g. 503 Service Unavailable", "abort.http_status".into(), errors, Input::Whole(200, 599), |f| f.http_status.clone(), |f, v| f.http_status = v)}
                    </fieldset>
                    <fieldset class="plain-group" disabled=grpc_off>
                        {select_field(form, "gRPC status", grpc_options, |f| f.grpc_status.clone(), |f, v| f.grpc_status = v)}
                    </fieldset>
                    {input_field(form, "Requests aborted (%)", "0 to 100", "abort.percent".into(), errors, Input::Decimal, |f| f.abort_percent.clone(), |f, v| f.abort_percent = v)}
                </div>
                {field_error(errors, "abort.grpc_status".into(), next_id())}
            </fieldset>
        </fieldset>
        {move || neither.get().then(|| view! {
            <p class="hint" role="note">"Neither ticked: applying removes the faults this wizard wrote before."</p>
        })}
    }
}

// ---------------------------------------------------------------------------
// Timeouts and retries
// ---------------------------------------------------------------------------

fn timeouts_view(
    form: RwSignal<TimeoutsForm>,
    errors: Signal<FieldErrors>,
    protocol: ServiceProtocol,
) -> impl IntoView {
    let timeout_off = off(form, |f| f.timeout_on);
    let retries_off = off(form, |f| f.retries_on);
    let conditions = |list: &'static [(&'static str, &'static str)]| {
        list.iter()
            .map(|(name, meaning)| {
                let name: &'static str = name;
                let checked =
                    Memo::new(move |_| form.with(|f| f.retry_on.iter().any(|c| c == name)));
                view! {
                    <div class="radio-row">
                        <label class="check">
                            <input
                                type="checkbox"
                                prop:checked=move || checked.get()
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    form.update(|f| f.toggle_retry_on(name, on));
                                }
                            />
                            <code>{name}</code>
                        </label>
                        <span class="field-hint">{*meaning}</span>
                    </div>
                }
            })
            .collect_view()
    };
    let (first, second) = if protocol == ServiceProtocol::Grpc {
        (("gRPC", &RETRY_ON_GRPC[..]), ("HTTP", &RETRY_ON_HTTP[..]))
    } else {
        (("HTTP", &RETRY_ON_HTTP[..]), ("gRPC", &RETRY_ON_GRPC[..]))
    };
    view! {
        {intro("Writes a timeout and a retry policy into the service's VirtualService route; the callers' sidecars apply them.".into())}
        <fieldset class="wizard-group">
            <legend>"Timeout"</legend>
            {check_field(form, "Give up on slow requests", |f| f.timeout_on, |f, on| f.timeout_on = on)}
            <fieldset class="plain-group" disabled=timeout_off>
                {input_field(form, "Request timeout (duration)", "The caller gets 504 Gateway Timeout after this long, retries included (e.g. 10s)", "timeout".into(), errors, Input::Text, |f| f.timeout.clone(), |f, v| f.timeout = v)}
            </fieldset>
        </fieldset>
        <fieldset class="wizard-group">
            <legend>"Retries"</legend>
            {check_field(form, "Retry failed requests", |f| f.retries_on, |f, on| f.retries_on = on)}
            <fieldset class="plain-group" disabled=retries_off>
                <div class="field-row">
                    {input_field(form, "Retries per request", "0 turns retries off", "retries.attempts".into(), errors, Input::Whole(0, i64::MAX), |f| f.attempts.clone(), |f, v| f.attempts = v)}
                    {input_field(form, "Timeout per try (duration, optional)", "Empty: each try may take the whole request timeout", "retries.per_try_timeout".into(), errors, Input::Text, |f| f.per_try_timeout.clone(), |f, v| f.per_try_timeout = v)}
                </div>
                <fieldset class="plain-group retry-on">
                    <legend class="field-label">"Retry when (retryOn)"</legend>
                    <p class="field-hint">"None ticked: Istio's default (connect-failure, refused-stream, unavailable, cancelled, retriable-status-codes)."</p>
                    <div class="retry-columns">
                        <div><h4>{first.0}</h4>{conditions(first.1)}</div>
                        <div><h4>{second.0}</h4>{conditions(second.1)}</div>
                    </div>
                </fieldset>
            </fieldset>
        </fieldset>
    }
}

// ---------------------------------------------------------------------------
// Circuit breaking and load balancing
// ---------------------------------------------------------------------------

fn circuit_view(form: RwSignal<CircuitForm>, errors: Signal<FieldErrors>) -> impl IntoView {
    let pool_off = off(form, |f| f.pool_on);
    let outlier_off = off(form, |f| f.outlier_on);
    let lb = Memo::new(move |_| form.with(|f| f.lb));
    let lb_options: Vec<(String, String)> = LbChoice::ALL
        .into_iter()
        .map(|c| (c.as_str().to_owned(), c.label().to_owned()))
        .collect();
    const NO_LIMIT: &str = "Empty: no limit";
    view! {
        {intro("Writes a traffic policy into the service's DestinationRule: limits that make callers fail fast instead of piling up (circuit breaking), ejection of instances that keep failing, and how requests are balanced across instances.".into())}
        <fieldset class="wizard-group">
            <legend>"Connection pool"</legend>
            {check_field(form, "Limit connections and requests", |f| f.pool_on, |f, on| f.pool_on = on)}
            <fieldset class="plain-group field-row" disabled=pool_off>
                {input_field(form, "Max connections", NO_LIMIT, "connection_pool.max_connections".into(), errors, Input::Whole(1, i64::MAX), |f| f.max_connections.clone(), |f, v| f.max_connections = v)}
                {input_field(form, "Connect timeout (duration)", "Empty: Istio's default (10s)", "connection_pool.connect_timeout".into(), errors, Input::Text, |f| f.connect_timeout.clone(), |f, v| f.connect_timeout = v)}
                {input_field(form, "Max pending requests", "Waiting for a connection (HTTP/1.1); more fail at once. Empty: no limit", "connection_pool.http1_max_pending_requests".into(), errors, Input::Whole(1, i64::MAX), |f| f.http1_max_pending_requests.clone(), |f, v| f.http1_max_pending_requests = v)}
                {input_field(form, "Max requests in flight", "HTTP/2 and gRPC. Empty: no limit", "connection_pool.http2_max_requests".into(), errors, Input::Whole(1, i64::MAX), |f| f.http2_max_requests.clone(), |f, v| f.http2_max_requests = v)}
                {input_field(form, "Max requests per connection", "1 turns keep-alive off. Empty: no limit", "connection_pool.max_requests_per_connection".into(), errors, Input::Whole(1, i64::MAX), |f| f.max_requests_per_connection.clone(), |f, v| f.max_requests_per_connection = v)}
                {input_field(form, "Max retries in flight", NO_LIMIT, "connection_pool.max_retries".into(), errors, Input::Whole(0, i64::MAX), |f| f.max_retries.clone(), |f, v| f.max_retries = v)}
            </fieldset>
            {field_error(errors, "connection_pool".into(), next_id())}
        </fieldset>
        <fieldset class="wizard-group">
            <legend>"Outlier detection"</legend>
            {check_field(form, "Eject instances that keep failing", |f| f.outlier_on, |f, on| f.outlier_on = on)}
            <fieldset class="plain-group field-row" disabled=outlier_off>
                {input_field(form, "Consecutive errors", "5xx answers in a row that eject an instance", "outlier_detection.consecutive_errors".into(), errors, Input::Whole(1, i64::MAX), |f| f.consecutive_errors.clone(), |f, v| f.consecutive_errors = v)}
                {input_field(form, "Check interval (duration)", "How often instances are checked (e.g. 10s)", "outlier_detection.interval".into(), errors, Input::Text, |f| f.interval.clone(), |f, v| f.interval = v)}
                {input_field(form, "Ejection time (duration)", "How long a first ejection lasts; longer each time (e.g. 30s)", "outlier_detection.base_ejection_time".into(), errors, Input::Text, |f| f.base_ejection_time.clone(), |f, v| f.base_ejection_time = v)}
                {input_field(form, "Max ejected (%)", "Most instances ejected at once, 0 to 100", "outlier_detection.max_ejection_percent".into(), errors, Input::Whole(0, 100), |f| f.max_ejection_percent.clone(), |f, v| f.max_ejection_percent = v)}
            </fieldset>
        </fieldset>
        <fieldset class="wizard-group">
            <legend>"Load balancing"</legend>
            {select_field(form, "Load balancer", lb_options, |f| f.lb.as_str().to_owned(), |f, v| f.lb = LbChoice::parse(&v))}
            {move || match lb.get() {
                LbChoice::HashHeader => Some(view! {
                    <div class="field-row">
                        {input_field(form, "Header to hash", "Requests with the same value go to the same instance (e.g. x-user)", "load_balancer.name".into(), errors, Input::Text, |f| f.hash_header.clone(), |f, v| f.hash_header = v)}
                    </div>
                }.into_any()),
                LbChoice::HashCookie => Some(view! {
                    <div class="field-row">
                        {input_field(form, "Cookie to hash", "Envoy sets it when a request has none (e.g. session)", "load_balancer.name".into(), errors, Input::Text, |f| f.hash_cookie.clone(), |f, v| f.hash_cookie = v)}
                        {input_field(form, "Cookie lifetime (duration)", "0s: a session cookie", "load_balancer.ttl".into(), errors, Input::Text, |f| f.cookie_ttl.clone(), |f, v| f.cookie_ttl = v)}
                    </div>
                }.into_any()),
                _ => None,
            }}
        </fieldset>
    }
}

// ---------------------------------------------------------------------------
// mTLS
// ---------------------------------------------------------------------------

fn mtls_view(form: RwSignal<MtlsForm>, traffic: &ServiceTraffic) -> impl IntoView + use<> {
    let callers = traffic.plaintext_callers.clone();
    let namespace = traffic.service.namespace.clone();
    let no_pa = Signal::derive(move || form.with(|f| f.scope.is_none()));
    let strict = Memo::new(move |_| form.with(MtlsForm::strict));
    let quiet = callers.is_empty();
    let warnings = move || form.with(|f| f.warnings(&callers));
    view! {
        {intro("Writes the TLS mode callers use towards the service (its DestinationRule) and, if you choose, a PeerAuthentication saying what its workloads accept.".into())}
        <fieldset class="wizard-group">
            <legend>"Callers use (DestinationRule TLS mode)"</legend>
            {radio(form, "tls-mode", "Istio mutual TLS (ISTIO_MUTUAL)".into(), "Sidecars encrypt and authenticate each other with the mesh's certificates (recommended)", |f| f.tls_mode == TlsMode::IstioMutual, |f| f.tls_mode = TlsMode::IstioMutual)}
            {radio(form, "tls-mode", "Plaintext (DISABLE)".into(), "No TLS between the sidecars", |f| f.tls_mode == TlsMode::Disable, |f| f.tls_mode = TlsMode::Disable)}
        </fieldset>
        <fieldset class="wizard-group">
            <legend>"Workloads accept (PeerAuthentication)"</legend>
            {radio(form, "pa-scope", "Write no PeerAuthentication".into(), "What is in force stays (the mesh's default is PERMISSIVE)", |f| f.scope.is_none(), |f| f.scope = None)}
            {radio(form, "pa-scope", "For this service's workloads".into(), "A selector on the service's pod labels", |f| f.scope == Some(PeerAuthScope::Workload), |f| f.scope = Some(PeerAuthScope::Workload))}
            {radio(form, "pa-scope", format!("For every workload in namespace {namespace}"), "The namespace's PeerAuthentication named default", |f| f.scope == Some(PeerAuthScope::Namespace), |f| f.scope = Some(PeerAuthScope::Namespace))}
            <fieldset class="plain-group mode-group" disabled=no_pa>
                <legend class="field-label">"Mode"</legend>
                {radio(form, "pa-mode", "PERMISSIVE".into(), "mTLS and plaintext: nothing breaks", |f| f.mode == MtlsMode::Permissive, |f| f.mode = MtlsMode::Permissive)}
                {radio(form, "pa-mode", "STRICT".into(), "mTLS only: callers without a sidecar are refused", |f| f.mode == MtlsMode::Strict, |f| f.mode = MtlsMode::Strict)}
                {radio(form, "pa-mode", "DISABLE".into(), "Plaintext only", |f| f.mode == MtlsMode::Disable, |f| f.mode = MtlsMode::Disable)}
            </fieldset>
        </fieldset>
        {move || {
            let list = warnings();
            (!list.is_empty()).then(|| view! {
                <div class="wizard-warning" role="note" aria-label="What this would break">
                    <ul>{list.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
                </div>
            })
        }}
        {move || (strict.get() && quiet).then(|| view! {
            <p class="hint">"No caller outside the mesh reached this service without mTLS in the last hour."</p>
        })}
    }
}

// ---------------------------------------------------------------------------
// Gateway
// ---------------------------------------------------------------------------

fn gateway_view(
    form: RwSignal<GatewayForm>,
    errors: Signal<FieldErrors>,
    traffic: &ServiceTraffic,
) -> impl IntoView + use<> {
    let http = Signal::derive(move || form.with(|f| f.protocol == GatewayProtocol::Http));
    let selector = if traffic.gateway_selector.is_empty() {
        view! { <span class="muted">"not known: meshdeck found no ingress gateway's labels"</span> }
            .into_any()
    } else {
        let text = crate::settings_form::format_selector(&traffic.gateway_selector);
        view! { <code>{text}</code> }.into_any()
    };
    let name = traffic.service.name.clone();
    view! {
        {intro(format!("Writes a Gateway on the mesh's ingress gateway and binds the service's VirtualService to it, so requests for these host names reach {name} from outside the cluster."))}
        <dl class="facts wizard-facts">
            <dt>"Ingress gateway pods"</dt>
            <dd>{selector}</dd>
        </dl>
        <fieldset class="wizard-group">
            <legend>"Listener"</legend>
            {input_field(form, "Hosts (comma-separated)", "Public names, e.g. shop.example.com; *.example.com or * for any", "hosts".into(), errors, Input::Text, |f| f.hosts.clone(), |f, v| f.hosts = v)}
            <div class="hosts-errors">
                {move || errors.with(|e| {
                    e.0.iter()
                        .filter(|x| x.field.starts_with("hosts["))
                        .map(|x| view! { <span class="field-error">{x.message.clone()}</span> })
                        .collect_view()
                })}
            </div>
            <div class="field-row">
                {radio(form, "gw-protocol", "HTTP".into(), "", |f| f.protocol == GatewayProtocol::Http, |f| f.set_protocol(GatewayProtocol::Http))}
                {radio(form, "gw-protocol", "HTTPS".into(), "TLS ends at the gateway", |f| f.protocol == GatewayProtocol::Https, |f| f.set_protocol(GatewayProtocol::Https))}
            </div>
            <div class="field-row">
                {input_field(form, "Port (1–65535)", "On the gateway: usually 80 for HTTP, 443 for HTTPS", "port".into(), errors, Input::Whole(1, 65535), |f| f.port.clone(), |f, v| f.port = v)}
                <fieldset class="plain-group" disabled=http>
                    {input_field(form, "Certificate Secret (HTTPS)", "credentialName: the Secret with the certificate and key, in the ingress gateway's namespace", "credential_name".into(), errors, Input::Text, |f| f.credential_name.clone(), |f, v| f.credential_name = v)}
                </fieldset>
            </div>
        </fieldset>
    }
}
