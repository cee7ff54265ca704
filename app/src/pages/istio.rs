//! Istio config: the Istio objects of the caller's namespaces, filtered by
//! namespace, kind, validity and service, with the findings about them;
//! one object opens as YAML with who owns which field. The filters and
//! the open object live in the URL, so the graph's side panel links here.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;

use crate::api;
use crate::components::layout::PageHeader;
use crate::components::state::loaded;
use crate::format;
use crate::nav::ISTIO;
use crate::types::{
    GraphNode, IstioConfigList, IstioKind, IstioObjectDetail, IstioObjectSummary, NodeKind,
    Severity, Validation,
};

/// Which objects the validity filter keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validity {
    /// All of them.
    All,
    /// With at least one error.
    Errors,
    /// With warnings but no error.
    Warnings,
    /// Without findings.
    Valid,
}

impl Validity {
    const ALL: [Validity; 4] = [
        Validity::All,
        Validity::Errors,
        Validity::Warnings,
        Validity::Valid,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Validity::All => "",
            Validity::Errors => "errors",
            Validity::Warnings => "warnings",
            Validity::Valid => "valid",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Validity::All => "Any",
            Validity::Errors => "With errors",
            Validity::Warnings => "With warnings only",
            Validity::Valid => "Valid",
        }
    }

    fn parse(s: &str) -> Self {
        Validity::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .unwrap_or(Validity::All)
    }

    /// Whether `o` passes.
    pub fn keeps(self, o: &IstioObjectSummary) -> bool {
        match self {
            Validity::All => true,
            Validity::Errors => o.errors > 0,
            Validity::Warnings => o.errors == 0 && o.warnings > 0,
            Validity::Valid => o.errors == 0 && o.warnings == 0,
        }
    }
}

/// The page's state, as carried in its URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IstioUrl {
    /// Namespace filter (empty: all).
    pub namespace: String,
    /// Kind filter, as the plural (empty: all).
    pub kind: String,
    /// Validity filter (`errors`, `warnings`, `valid`; empty: any).
    pub validity: String,
    /// Service filter, `namespace/name` (empty: none).
    pub service: String,
    /// The open object, `namespace/kind/name` (empty: none).
    pub object: String,
}

impl IstioUrl {
    /// From the page's query string.
    pub fn from_query(q: &ParamsMap) -> Self {
        let get = |k: &str| q.get(k).unwrap_or_default();
        IstioUrl {
            namespace: get("namespace"),
            kind: get("kind"),
            validity: get("validity"),
            service: get("service"),
            object: get("object"),
        }
    }

    /// The page URL for this state.
    pub fn page_url(&self) -> String {
        let qs = format::query_string(&[
            ("namespace", self.namespace.clone()),
            ("kind", self.kind.clone()),
            ("validity", self.validity.clone()),
            ("service", self.service.clone()),
            ("object", self.object.clone()),
        ]);
        if qs.is_empty() {
            ISTIO.path.to_owned()
        } else {
            format!("{}?{qs}", ISTIO.path)
        }
    }

    /// Whether `o` passes the filters.
    pub fn keeps(&self, o: &IstioObjectSummary) -> bool {
        (self.namespace.is_empty() || o.namespace == self.namespace)
            && (self.kind.is_empty() || o.kind.plural() == self.kind)
            && Validity::parse(&self.validity).keeps(o)
            && (self.service.is_empty()
                || o.services
                    .iter()
                    .any(|s| format!("{}/{}", s.namespace, s.name) == self.service))
    }

    /// The open object as `(namespace, kind, name)`.
    pub fn open(&self) -> Option<(String, IstioKind, String)> {
        let mut parts = self.object.splitn(3, '/');
        let ns = parts.next()?.to_owned();
        let kind = IstioKind::from_segment(parts.next()?)?;
        let name = parts.next()?.to_owned();
        (!ns.is_empty() && !name.is_empty()).then_some((ns, kind, name))
    }

    /// This state with `o` open.
    pub fn with_object(&self, namespace: &str, kind: IstioKind, name: &str) -> Self {
        IstioUrl {
            object: format!("{namespace}/{}/{name}", kind.plural()),
            ..self.clone()
        }
    }
}

/// The page for a service's config (the graph's side panel links here).
pub fn service_url(namespace: &str, service: &str) -> String {
    IstioUrl {
        namespace: namespace.to_owned(),
        service: format!("{namespace}/{service}"),
        ..IstioUrl::default()
    }
    .page_url()
}

/// The Istio config of one service, as the graph shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServiceConfig {
    /// Objects configuring it.
    pub objects: u32,
    /// Errors found in them.
    pub errors: u32,
    /// Warnings found in them.
    pub warnings: u32,
}

/// Config by service `(namespace, name)`.
pub type ConfigIndex = HashMap<(String, String), ServiceConfig>;

/// Sums each service's objects and findings.
pub fn config_index(list: &IstioConfigList) -> ConfigIndex {
    let mut index = ConfigIndex::new();
    for o in &list.objects {
        for s in &o.services {
            let entry = index
                .entry((s.namespace.clone(), s.name.clone()))
                .or_default();
            entry.objects += 1;
            entry.errors += o.errors;
            entry.warnings += o.warnings;
        }
    }
    index
}

/// The service a graph node stands for or belongs to: a service node's
/// own name; an app's or workload's app label (the service of the same
/// name, as Istio's canonical service is).
pub fn node_service(node: &GraphNode) -> Option<(String, String)> {
    match node.kind {
        NodeKind::Service => Some((node.namespace.clone(), node.name.clone())),
        NodeKind::App | NodeKind::Workload => {
            node.app.clone().map(|app| (node.namespace.clone(), app))
        }
        NodeKind::Unknown | NodeKind::External | NodeKind::Namespace | NodeKind::Project => None,
    }
}

/// With the list filtered by service `namespace/name`: a link to that
/// service's page, where its traffic is managed.
fn manage_link(service: &str) -> Option<impl IntoView + use<>> {
    let (ns, name) = service.split_once('/')?;
    let href = crate::wizards::page_url(ns, name, None);
    Some(
        view! { <a class="toolbar-link" href=href>{format!("Manage traffic for {ns}/{name}")}</a> },
    )
}

/// An RFC 3339 time from the API server (`2026-12-07T04:46:02Z`) for
/// people: `2026-12-07 04:46:02 UTC`.
pub fn timestamp(rfc3339: &str) -> String {
    match rfc3339.strip_suffix('Z') {
        Some(t) => format!("{} UTC", t.replacen('T', " ", 1)),
        None => rfc3339.replacen('T', " ", 1),
    }
}

/// The findings' summary of an object: a badge.
pub fn validity_badge(errors: u32, warnings: u32) -> impl IntoView {
    let plural = |n: u32, word: &str| {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    if errors > 0 {
        let text = if warnings > 0 {
            format!(
                "{}, {}",
                plural(errors, "error"),
                plural(warnings, "warning")
            )
        } else {
            plural(errors, "error")
        };
        view! { <span class="badge badge-bad">{text}</span> }.into_any()
    } else if warnings > 0 {
        view! { <span class="badge badge-warn">{plural(warnings, "warning")}</span> }.into_any()
    } else {
        view! { <span class="badge badge-ok">"Valid"</span> }.into_any()
    }
}

fn severity_badge(severity: Severity) -> impl IntoView {
    match severity {
        Severity::Error => view! { <span class="badge badge-bad">"Error"</span> },
        Severity::Warning => view! { <span class="badge badge-warn">"Warning"</span> },
    }
}

/// `/istio`: filters, the objects, the findings, and the open object.
#[component]
pub fn IstioPage() -> impl IntoView {
    let query = use_query_map();
    let url = Memo::new(move |_| IstioUrl::from_query(&query.read()));
    let navigate = use_navigate();
    let go =
        Callback::new(move |next: IstioUrl| navigate(&next.page_url(), NavigateOptions::default()));
    let list = LocalResource::new(api::istio_config);
    view! {
        <PageHeader item=ISTIO />
        <div class="toolbar">
            <button type="button" on:click=move |_| list.refetch()>"Refresh"</button>
            {move || manage_link(&url.get().service)}
        </div>
        {move || url.get().open().map(|(ns, kind, name)| view! { <ObjectPanel namespace=ns kind=kind name=name url=url go=go /> })}
        {loaded("Istio config", list, move |l: IstioConfigList| view! { <ConfigView list=l url=url go=go /> })}
    }
}

#[component]
fn ConfigView(list: IstioConfigList, url: Memo<IstioUrl>, go: Callback<IstioUrl>) -> impl IntoView {
    let list = StoredValue::new(list);
    let set = move |f: &dyn Fn(&mut IstioUrl)| {
        let mut next = url.get_untracked();
        f(&mut next);
        go.run(next);
    };
    let shown = move || {
        let u = url.get();
        list.with_value(|l| {
            l.objects
                .iter()
                .filter(|o| u.keeps(o))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let findings = move || {
        let objects = shown();
        list.with_value(|l| {
            l.validations
                .iter()
                .filter(|v| {
                    objects
                        .iter()
                        .any(|o| o.kind == v.kind && o.namespace == v.namespace && o.name == v.name)
                })
                .cloned()
                .collect::<Vec<Validation>>()
        })
    };
    let unserved: Vec<&'static str> = list.with_value(|l| {
        l.kinds
            .iter()
            .filter(|k| k.version.is_none())
            .map(|k| k.kind.label())
            .collect()
    });
    let namespaces = list.with_value(|l| l.namespaces.clone());
    let kinds = list.with_value(|l| l.kinds.clone());
    let skipped = list.with_value(|l| l.skipped.clone());
    view! {
        <section class="card controls" aria-label="Istio config filters">
            <div class="control-row">
                <label class="control">
                    <span>"Namespace"</span>
                    <select
                        aria-label="Namespace"
                        prop:value=move || url.get().namespace
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            set(&|u: &mut IstioUrl| u.namespace = value.clone())
                        }
                    >
                        <option value="">"All namespaces"</option>
                        {namespaces.into_iter().map(|n| view! { <option value=n.clone()>{n.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="control">
                    <span>"Kind"</span>
                    <select
                        aria-label="Kind"
                        prop:value=move || url.get().kind
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            set(&|u: &mut IstioUrl| u.kind = value.clone())
                        }
                    >
                        <option value="">"All kinds"</option>
                        {kinds
                            .into_iter()
                            .map(|k| {
                                let label = if k.version.is_some() {
                                    k.kind.label().to_owned()
                                } else {
                                    format!("{} (not served)", k.kind.label())
                                };
                                view! { <option value=k.kind.plural()>{label}</option> }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label class="control">
                    <span>"Validity"</span>
                    <select
                        aria-label="Validity"
                        prop:value=move || url.get().validity
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            set(&|u: &mut IstioUrl| u.validity = value.clone())
                        }
                    >
                        {Validity::ALL.into_iter().map(|v| view! { <option value=v.as_str()>{v.label()}</option> }).collect_view()}
                    </select>
                </label>
                {move || {
                    let service = url.get().service;
                    (!service.is_empty()).then(|| view! {
                        <span class="control service-filter">
                            <span>"Service"</span>
                            <span class="chip">
                                {service.clone()}
                                <button type="button" class="chip-clear" aria-label="Show every service"
                                    on:click=move |_| set(&|u: &mut IstioUrl| u.service.clear())>"×"</button>
                            </span>
                        </span>
                    })
                }}
            </div>
            {(!unserved.is_empty()).then(|| view! {
                <p class="hint">{format!("Not served by this cluster: {}.", unserved.join(", "))}</p>
            })}
            {skipped.into_iter().map(|s| view! { <p class="hint">{format!("Check skipped: {s}")}</p> }).collect_view()}
        </section>
        {move || {
            let objects = shown();
            let findings = findings();
            let errors = findings.iter().filter(|v| v.severity == Severity::Error).count();
            let warnings = findings.len() - errors;
            let summary = format!(
                "{} object{} · {errors} error{} · {warnings} warning{}",
                objects.len(),
                if objects.len() == 1 { "" } else { "s" },
                if errors == 1 { "" } else { "s" },
                if warnings == 1 { "" } else { "s" },
            );
            view! {
                <section class="card" aria-label="Istio objects">
                    <h2>"Objects"</h2>
                    <p class="report-summary">{summary}</p>
                    <ObjectTable objects=objects url=url />
                </section>
                <Findings findings=findings url=url />
            }
        }}
    }
}

#[component]
fn ObjectTable(objects: Vec<IstioObjectSummary>, url: Memo<IstioUrl>) -> impl IntoView {
    if objects.is_empty() {
        return view! { <p class="empty-row">"No Istio objects match these filters."</p> }
            .into_any();
    }
    let rows = objects
        .into_iter()
        .map(|o| {
            let href = url.get_untracked().with_object(&o.namespace, o.kind, &o.name).page_url();
            let hosts = o.hosts.join(", ");
            view! {
                <tr>
                    <td>{o.kind.label()}</td>
                    <td>{o.namespace.clone()}</td>
                    <td>
                        <a href=href>{o.name.clone()}</a>
                        {o.managed_by_meshdeck.then(|| view! { " " <span class="badge badge-muted" title="Written by a meshdeck wizard">"meshdeck"</span> })}
                    </td>
                    <td class="detail">{hosts}</td>
                    <td>{validity_badge(o.errors, o.warnings)}</td>
                    <td class="detail">{o.created.as_deref().map(timestamp).unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="data-table" aria-label="Istio objects">
            <thead>
                <tr>
                    <th scope="col">"Kind"</th>
                    <th scope="col">"Namespace"</th>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Hosts"</th>
                    <th scope="col">"Validity"</th>
                    <th scope="col">"Created"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn Findings(findings: Vec<Validation>, url: Memo<IstioUrl>) -> impl IntoView {
    if findings.is_empty() {
        return ().into_any();
    }
    let rows = findings
        .into_iter()
        .map(|v| {
            let href = url.get_untracked().with_object(&v.namespace, v.kind, &v.name).page_url();
            view! {
                <tr>
                    <td>{severity_badge(v.severity)}</td>
                    <td><a href=href>{format!("{} {}/{}", v.kind.label(), v.namespace, v.name)}</a></td>
                    <td><code>{v.path.clone()}</code></td>
                    <td>{v.message.clone()}<div class="detail"><code>{v.code.clone()}</code></div></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-label="Findings">
            <h2>"Findings"</h2>
            <table class="data-table" aria-label="Findings">
                <thead>
                    <tr>
                        <th scope="col">"Severity"</th>
                        <th scope="col">"Object"</th>
                        <th scope="col">"Where"</th>
                        <th scope="col">"What is wrong"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
    .into_any()
}

/// The open object: findings, field managers, YAML.
#[component]
fn ObjectPanel(
    namespace: String,
    kind: IstioKind,
    name: String,
    url: Memo<IstioUrl>,
    go: Callback<IstioUrl>,
) -> impl IntoView {
    let title = format!("{} {namespace}/{name}", kind.label());
    let detail = LocalResource::new(move || {
        let (ns, name) = (namespace.clone(), name.clone());
        async move { api::istio_object(&ns, kind, &name).await }
    });
    let close = move |_| {
        go.run(IstioUrl {
            object: String::new(),
            ..url.get_untracked()
        })
    };
    view! {
        <section class="card object-panel" aria-label="Istio object">
            <button type="button" class="close" aria-label="Close" on:click=close>"×"</button>
            <h2>{title}</h2>
            {loaded("the object", detail, move |d: IstioObjectDetail| view! { <ObjectDetail detail=d /> })}
        </section>
    }
}

#[component]
fn ObjectDetail(detail: IstioObjectDetail) -> impl IntoView {
    let findings = detail
        .validations
        .iter()
        .map(|v| {
            view! {
                <li>
                    {severity_badge(v.severity)} " " <code>{v.path.clone()}</code> ": " {v.message.clone()}
                </li>
            }
        })
        .collect_view();
    let managers = detail
        .managers
        .iter()
        .map(|m| {
            let what = match &m.subresource {
                Some(sub) => format!("{} ({sub})", m.operation),
                None => m.operation.clone(),
            };
            view! {
                <tr>
                    <td><strong>{m.manager.clone()}</strong><div class="detail">{what}</div></td>
                    <td class="detail">{m.time.as_deref().map(timestamp).unwrap_or_default()}</td>
                    <td><code class="fields">{m.fields.join("\n")}</code></td>
                </tr>
            }
        })
        .collect_view();
    let valid = detail.validations.is_empty();
    view! {
        {if valid {
            view! { <p><span class="badge badge-ok">"Valid"</span> " No findings."</p> }.into_any()
        } else {
            view! { <ul class="findings">{findings}</ul> }.into_any()
        }}
        <h3>"Who owns which field"</h3>
        <table class="data-table" aria-label="Field managers">
            <thead>
                <tr>
                    <th scope="col">"Manager"</th>
                    <th scope="col">"Last write"</th>
                    <th scope="col">"Fields"</th>
                </tr>
            </thead>
            <tbody>{managers}</tbody>
        </table>
        <h3>"YAML"</h3>
        <pre class="yaml" aria-label="YAML">{detail.yaml.clone()}</pre>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ServiceName;

    fn summary(
        kind: IstioKind,
        ns: &str,
        name: &str,
        errors: u32,
        warnings: u32,
    ) -> IstioObjectSummary {
        IstioObjectSummary {
            kind,
            namespace: ns.into(),
            name: name.into(),
            hosts: vec![],
            services: vec![ServiceName {
                namespace: ns.into(),
                name: "reviews".into(),
            }],
            managed_by_meshdeck: false,
            created: None,
            errors,
            warnings,
        }
    }

    #[test]
    fn urls_round_trip_and_filter() {
        let url = IstioUrl {
            namespace: "bookinfo".into(),
            kind: "virtualservices".into(),
            validity: "errors".into(),
            service: "bookinfo/reviews".into(),
            object: "bookinfo/virtualservices/reviews".into(),
        };
        let href = url.page_url();
        assert_eq!(
            href,
            "/istio?namespace=bookinfo&kind=virtualservices&validity=errors&service=bookinfo%2Freviews&object=bookinfo%2Fvirtualservices%2Freviews"
        );
        assert_eq!(
            url.open(),
            Some((
                "bookinfo".into(),
                IstioKind::VirtualService,
                "reviews".into()
            ))
        );
        assert!(url.keeps(&summary(IstioKind::VirtualService, "bookinfo", "a", 1, 0)));
        assert!(!url.keeps(&summary(IstioKind::VirtualService, "bookinfo", "a", 0, 1)));
        assert!(!url.keeps(&summary(IstioKind::DestinationRule, "bookinfo", "a", 1, 0)));
        assert!(!url.keeps(&summary(IstioKind::VirtualService, "payments", "a", 1, 0)));
        let any = IstioUrl::default();
        assert_eq!(any.page_url(), "/istio");
        assert!(any.keeps(&summary(IstioKind::Sidecar, "x", "y", 0, 0)));
        assert_eq!(any.open(), None);
        assert!(Validity::Valid.keeps(&summary(IstioKind::Sidecar, "x", "y", 0, 0)));
        assert!(Validity::Warnings.keeps(&summary(IstioKind::Sidecar, "x", "y", 0, 2)));
        assert!(!Validity::Warnings.keeps(&summary(IstioKind::Sidecar, "x", "y", 1, 2)));
        assert_eq!(timestamp("2026-12-07T04:46:02Z"), "2026-12-07 04:46:02 UTC");
        assert_eq!(
            service_url("bookinfo", "reviews"),
            "/istio?namespace=bookinfo&service=bookinfo%2Freviews"
        );
    }
}
