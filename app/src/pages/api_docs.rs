//! API: the REST/JSON API's reference, read from the server's own OpenAPI
//! document (`/api/openapi.json`, public), so it is always the API this
//! server serves; nothing is loaded from elsewhere. Operations by tag with
//! their parameters and answers; a type named anywhere opens in the side
//! panel. The filter, the open operation and the shown type live in the
//! URL (`?q=`, `?op=`, `?schema=`).

pub mod model;

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use self::model::{Answer, Field, Operation, Param, Reference, Schema, TypePart, TypeWords};
use crate::api;
use crate::components::layout::PageHeader;
use crate::components::state::loaded;
use crate::format::encode_component;
use crate::nav::API;

/// Where the document is.
const DOCUMENT: &str = "/api/openapi.json";

/// The page's URL state.
#[derive(Clone, Debug, Default, PartialEq)]
struct DocsUrl {
    filter: String,
    op: String,
    schema: String,
}

impl DocsUrl {
    fn href(&self) -> String {
        let mut parts = Vec::new();
        for (key, value) in [
            ("q", &self.filter),
            ("op", &self.op),
            ("schema", &self.schema),
        ] {
            if !value.is_empty() {
                parts.push(format!("{key}={}", encode_component(value)));
            }
        }
        if parts.is_empty() {
            API.path.to_owned()
        } else {
            format!("{}?{}", API.path, parts.join("&"))
        }
    }
}

/// The API page.
#[component]
pub fn ApiDocsPage() -> impl IntoView {
    let query = use_query_map();
    let url = Memo::new(move |_| {
        let q = query.get();
        let get = |k: &str| q.get(k).unwrap_or_default();
        DocsUrl {
            filter: get("q"),
            op: get("op"),
            schema: get("schema"),
        }
    });
    let document =
        LocalResource::new(|| async { api::openapi().await.map(|doc| model::read(&doc)) });
    view! {
        <PageHeader item=API />
        {loaded("the API reference", document, move |reference| {
            view! { <Reference reference=reference url=url /> }
        })}
    }
}

#[component]
fn Reference(reference: Reference, url: Memo<DocsUrl>) -> impl IntoView {
    let navigate = use_navigate();
    let go = Callback::new(move |next: DocsUrl| {
        navigate(
            &next.href(),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..NavigateOptions::default()
            },
        )
    });
    let reference = StoredValue::new(reference);
    let counts = reference.with_value(|r| {
        (
            r.groups.iter().map(|g| g.operations.len()).sum::<usize>(),
            r.schemas.len(),
        )
    });
    let groups = move || {
        let filter = url.get().filter;
        reference.with_value(|r| {
            r.groups
                .iter()
                .filter_map(|g| {
                    let ops: Vec<Operation> = g
                        .operations
                        .iter()
                        .filter(|op| model::matches(op, &filter))
                        .cloned()
                        .collect();
                    (!ops.is_empty()).then(|| (g.name.clone(), g.description.clone(), ops))
                })
                .collect::<Vec<_>>()
        })
    };
    let shown = move || {
        let name = url.get().schema;
        reference.with_value(|r| r.schemas.iter().find(|s| s.name == name).cloned())
    };
    view! {
        <div class="api-layout">
            <div class="api-main">
                <section class="card api-intro" aria-label="About this API">
                    <p>{reference.with_value(|r| rich(&r.description))}</p>
                    <p class="api-facts">
                        <span>{reference.with_value(|r| format!("{} {}", r.title, r.version))}</span>
                        <span>{reference.with_value(|r| format!("OpenAPI {}", r.openapi))}</span>
                        <span>{format!("{} operations, {} types", counts.0, counts.1)}</span>
                        <a href=DOCUMENT download="meshdeck-openapi.json" rel="external">
                            "Download openapi.json"
                        </a>
                    </p>
                    <p class="hint">
                        "Try it: "
                        <code>"curl -H 'Authorization: Bearer $TOKEN' "</code>
                        <code>"https://<meshdeck>/api/me"</code>
                        ". Operations marked “sign-in” need a Kubernetes bearer token."
                    </p>
                </section>
                <div class="toolbar api-filter">
                    <label class="field">
                        <span class="field-label">"Filter operations"</span>
                        <input
                            type="search"
                            placeholder="e.g. rollouts post"
                            prop:value=move || url.get().filter
                            on:input=move |ev| {
                                let mut next = url.get_untracked();
                                next.filter = event_target_value(&ev);
                                go.run(next);
                            }
                        />
                    </label>
                </div>
                {move || {
                    let groups = groups();
                    if groups.is_empty() {
                        return view! {
                            <p class="empty-row">"No operation matches the filter."</p>
                        }
                        .into_any();
                    }
                    groups
                        .into_iter()
                        .map(|(name, description, ops)| {
                            view! {
                                <section class="api-group" aria-label=name.clone()>
                                    <h2 class="section-heading">
                                        {model::group_title(&name)}
                                        <span class="muted api-group-note">{description}</span>
                                    </h2>
                                    {ops
                                        .into_iter()
                                        .map(|op| view! { <OperationView op=op url=url go=go /> })
                                        .collect_view()}
                                </section>
                            }
                        })
                        .collect_view()
                        .into_any()
                }}
            </div>
            <aside class="card api-schema" aria-label="Type">
                {move || match shown() {
                    Some(schema) => view! { <SchemaView schema=schema url=url /> }.into_any(),
                    None => view! {
                        <p class="hint">
                            "Choose a type (a linked name in a parameter, body or answer) to see its fields here."
                        </p>
                    }
                    .into_any(),
                }}
            </aside>
        </div>
    }
}

/// Documentation text with its `code` spans set as code.
fn rich(text: &str) -> impl IntoView + use<> {
    text.split('`')
        .enumerate()
        .map(|(i, piece)| {
            if i % 2 == 1 {
                view! { <code>{piece.to_owned()}</code> }.into_any()
            } else {
                view! { <span>{piece.to_owned()}</span> }.into_any()
            }
        })
        .collect_view()
}

/// A link that shows schema `name` in the side panel.
fn schema_link(name: &str, url: Memo<DocsUrl>) -> impl IntoView + use<> {
    let href = DocsUrl {
        schema: name.to_owned(),
        ..url.get_untracked()
    }
    .href();
    view! { <a class="type-link" href=href>{name.to_owned()}</a> }
}

/// A type in words, with the schemas it names as links.
fn type_view(kind: &TypeWords, url: Memo<DocsUrl>) -> impl IntoView + use<> {
    let parts = kind
        .iter()
        .map(|part| match part {
            TypePart::Text(s) => view! { <span>{s.clone()}</span> }.into_any(),
            TypePart::Schema(name) => schema_link(name, url).into_any(),
        })
        .collect_view();
    view! { <code class="type">{parts}</code> }
}

#[component]
fn OperationView(op: Operation, url: Memo<DocsUrl>, go: Callback<DocsUrl>) -> impl IntoView {
    let id = op.id.clone();
    let open = {
        let id = id.clone();
        move || url.get().op == id
    };
    let toggle = {
        let id = id.clone();
        move |ev: leptos::ev::MouseEvent| {
            ev.prevent_default();
            let mut next = url.get_untracked();
            next.op = if next.op == id {
                String::new()
            } else {
                id.clone()
            };
            go.run(next);
        }
    };
    let method_class = format!("method method-{}", op.method.to_lowercase());
    // A link to an operation (`?op=`) shows it: scrolled to once, on load.
    let node = NodeRef::<leptos::html::Details>::new();
    if url.get_untracked().op == id {
        Effect::new(move |_| {
            if let Some(el) = node.get() {
                el.scroll_into_view();
            }
        });
    }
    view! {
        <details class="card api-op" id=format!("op-{id}") prop:open=open node_ref=node>
            <summary on:click=toggle>
                <span class=method_class>{op.method.clone()}</span>
                <code class="api-path">{op.path.clone()}</code>
                <span class="api-summary">{rich(&op.summary)}</span>
                {op.signed_in.then(|| view! { <span class="badge badge-muted" title="Needs a Kubernetes bearer token">"sign-in"</span> })}
            </summary>
            {(!op.description.is_empty()).then(|| view! { <p class="api-description">{rich(&op.description)}</p> })}
            {(!op.params.is_empty()).then(|| view! { <ParamsTable params=op.params.clone() url=url /> })}
            {op.body.clone().map(|body| view! {
                <h3 class="sub-heading">"Request body (JSON)"</h3>
                <p>{type_view(&body, url)}</p>
            })}
            <AnswersTable answers=op.answers.clone() url=url />
        </details>
    }
}

#[component]
fn ParamsTable(params: Vec<Param>, url: Memo<DocsUrl>) -> impl IntoView {
    view! {
        <h3 class="sub-heading">"Parameters"</h3>
        <table class="data-table compact-table api-table">
            <thead>
                <tr><th>"Name"</th><th>"In"</th><th>"Type"</th><th>"Description"</th></tr>
            </thead>
            <tbody>
                {params
                    .into_iter()
                    .map(|p| view! {
                        <tr>
                            <td>
                                <code>{p.name}</code>
                                {p.required.then(|| view! { <span class="api-required" title="required">" *"</span> })}
                            </td>
                            <td>{p.location}</td>
                            <td>{type_view(&p.kind, url)}</td>
                            <td>{rich(&p.description)}</td>
                        </tr>
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn AnswersTable(answers: Vec<Answer>, url: Memo<DocsUrl>) -> impl IntoView {
    view! {
        <h3 class="sub-heading">"Answers"</h3>
        <table class="data-table compact-table api-table">
            <thead>
                <tr><th>"Status"</th><th>"When"</th><th>"Body"</th></tr>
            </thead>
            <tbody>
                {answers
                    .into_iter()
                    .map(|a| view! {
                        <tr>
                            <td><span class=model::status_class(&a.status)>{a.status.clone()}</span></td>
                            <td>{rich(&a.description)}</td>
                            <td>{match a.body {
                                Some(body) => type_view(&body, url).into_any(),
                                None => view! { <span class="muted">"none"</span> }.into_any(),
                            }}</td>
                        </tr>
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn FieldsTable(fields: Vec<Field>, url: Memo<DocsUrl>) -> impl IntoView {
    view! {
        <table class="data-table compact-table api-table">
            <thead>
                <tr><th>"Field"</th><th>"Type"</th><th>"Description"</th></tr>
            </thead>
            <tbody>
                {fields
                    .into_iter()
                    .map(|f| view! {
                        <tr>
                            <td>
                                <code>{f.name}</code>
                                {(!f.required).then(|| view! { <span class="muted" title="may be absent">" optional"</span> })}
                            </td>
                            <td>{type_view(&f.kind, url)}</td>
                            <td>{rich(&f.description)}</td>
                        </tr>
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn SchemaView(schema: Schema, url: Memo<DocsUrl>) -> impl IntoView {
    let close = DocsUrl {
        schema: String::new(),
        ..url.get_untracked()
    }
    .href();
    let Schema {
        name,
        description,
        kind,
        fields,
        variants,
    } = schema;
    let body = if !variants.is_empty() {
        view! {
            <p class="hint">"One of these shapes:"</p>
            {variants
                .into_iter()
                .map(|v| view! {
                    <h4 class="api-variant"><code>{v.title}</code></h4>
                    {(!v.description.is_empty()).then(|| view! { <p>{rich(&v.description)}</p> })}
                    <FieldsTable fields=v.fields url=url />
                })
                .collect_view()}
        }
        .into_any()
    } else if !fields.is_empty() {
        view! { <FieldsTable fields=fields url=url /> }.into_any()
    } else {
        view! { <p>"Type: " {type_view(&kind, url)}</p> }.into_any()
    };
    view! {
        <div class="api-schema-head">
            <h2 class="section-heading"><code>{name}</code></h2>
            <a class="chip-clear" href=close aria-label="Close the type">"×"</a>
        </div>
        {(!description.is_empty()).then(|| view! { <p>{rich(&description)}</p> })}
        {body}
    }
}
