//! The console's frame: top bar (brand, external tool links, identity), the
//! navigation sidebar and the page area.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::api::{self, ApiError};
use crate::nav::{NAV, NavItem, unavailable_note, unavailable_reason};
use crate::session::{self, LOGIN_PATH};
use crate::types::{AuthMode, DemoIdentity, Features, Me, RunMode, Status, ToolLink};

/// The caller's `/api/me`, in context so that a page can load it again
/// after a change that alters it (saved tool URLs change the links).
#[derive(Clone, Copy)]
pub struct MeResource(pub LocalResource<Result<Option<Me>, ApiError>>);

/// The frame around every page.
#[component]
pub fn Shell(
    /// `/api/status`, for the tool links and the sign-in mode.
    status: LocalResource<Result<Status, ApiError>>,
    /// `/api/me`: `None` when nobody is signed in.
    me: LocalResource<Result<Option<Me>, ApiError>>,
    children: Children,
) -> impl IntoView {
    let chrome = move || status.get().and_then(Result::ok);
    let signed_in = move || me.get().and_then(Result::ok).flatten();
    let features = Signal::derive(move || signed_in().map(|m| m.features));
    let location = use_location();
    // A section the caller may not use shows why instead of its content.
    let denied = Memo::new(move |_| {
        let path = location.pathname.get();
        let features = features.get()?;
        NAV.iter()
            .find(|item| item.path == path)
            .and_then(|item| unavailable_reason(item, &features).map(|why| (*item, why)))
    });
    view! {
        <div class="shell">
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    "meshdeck"
                </a>
                <span class="mode-tag">
                    {move || match chrome().map(|s| s.mode) {
                        Some(RunMode::Demo) => "demo mesh",
                        Some(RunMode::Serve) => "cluster",
                        None => "",
                    }}
                </span>
                <div class="topbar-right">
                    // Only the links the signed-in caller may open (members:
                    // Kiali and Jaeger if the mesh settings allow them).
                    <ToolLinks links=Signal::derive(move || {
                        signed_in().map(|m| m.links).unwrap_or_default()
                    }) />
                    <Identity
                        auth=Signal::derive(move || chrome().map(|s| s.auth_mode))
                        me=Signal::derive(move || me.get().map(|r| r.ok().flatten()))
                    />
                </div>
            </header>
            <nav class="sidebar" aria-label="Main">
                <ul>
                    {NAV
                        .iter()
                        .map(|item| view! { <NavLink item=*item features=features /> })
                        .collect_view()}
                </ul>
            </nav>
            <main class="content">
                {move || {
                    denied
                        .get()
                        .map(|(item, why)| {
                            view! {
                                <header class="page-header">
                                    <h1>{item.label}</h1>
                                </header>
                                <section class="card notice notice-denied" aria-label="Not available for your role">
                                    <p>{why}</p>
                                    <p class="hint">
                                        "Your role comes from the cluster's RBAC; ask a cluster owner if you need this."
                                    </p>
                                </section>
                            }
                        })
                }}
                <div class="page" hidden=move || denied.get().is_some()>
                    {children()}
                </div>
            </main>
        </div>
    }
}

/// One navigation entry: a link, or for a section the caller may not use,
/// a disabled entry that says why.
#[component]
fn NavLink(item: NavItem, features: Signal<Option<Features>>) -> impl IntoView {
    let reason = move || features.get().and_then(|f| unavailable_reason(&item, &f));
    view! {
        <li>
            {move || match reason() {
                // A section stays current on its sub-pages (a rollout
                // under Rollouts); only the Overview, at `/`, matches exactly.
                None => view! { <A href=item.path exact={item.path == "/"}>{item.label}</A> }.into_any(),
                Some(why) => view! {
                    <span class="nav-disabled" aria-disabled="true" title=why>
                        {item.label}
                        <span class="nav-note">{unavailable_note(&item)}</span>
                    </span>
                }
                .into_any(),
            }}
        </li>
    }
}

/// Links to the external tool UIs that have a URL configured, pointed at
/// what the current page shows (namespace, service, range).
#[component]
fn ToolLinks(links: Signal<Vec<ToolLink>>) -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let query = leptos_router::hooks::use_query_map();
    let context = Memo::new(move |_| {
        let pairs: Vec<(String, String)> = query
            .get()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        crate::links::LinkContext::from_page(&location.pathname.get(), &pairs)
    });
    view! {
        <ul class="tool-links" aria-label="External tools">
            {move || {
                let ctx = context.get();
                links
                    .get()
                    .into_iter()
                    .map(|link| {
                        let href = crate::links::tool_url(link.kind, &link.url, &ctx);
                        view! {
                            <li>
                                <a href=href target="_blank" rel="noopener noreferrer">
                                    {link.kind.label()}
                                    <span aria-hidden="true">" ↗"</span>
                                </a>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
    }
}

/// Who is using the console: in demo mode with a switcher between the demo
/// identities; with tokens, the user and "Sign out" (or "Sign in").
#[component]
fn Identity(
    /// How callers are identified (`None` while loading).
    auth: Signal<Option<AuthMode>>,
    /// The signed-in caller: outer `None` while loading, inner when signed out.
    me: Signal<Option<Option<Me>>>,
) -> impl IntoView {
    let location = use_location();
    let here = move || format!("{}{}", location.pathname.get(), location.search.get());
    move || match (auth.get(), me.get()) {
        (Some(AuthMode::Demo), Some(Some(me))) => view! { <DemoSwitcher me=me /> }.into_any(),
        (Some(_), Some(Some(me))) => {
            // Behind an auth proxy there is no stored token to forget.
            let can_sign_out = api::has_stored_token();
            view! {
                <div class="identity-bar">
                    <div class="identity" aria-label="Signed-in identity">
                        <span class="identity-icon" aria-hidden="true">"●"</span>
                        <strong class="identity-user">{me.user.clone()}</strong>
                        <span class="role-badge">{me.role.label()}</span>
                    </div>
                    {can_sign_out.then(|| view! {
                        <button
                            type="button"
                            class="topbar-button"
                            on:click=move |_| {
                                api::sign_out();
                                api::go_to(LOGIN_PATH);
                            }
                        >
                            "Sign out"
                        </button>
                    })}
                </div>
            }
            .into_any()
        }
        (Some(_), Some(None)) => view! {
            <div class="identity-bar">
                <div class="identity identity-none" aria-label="Signed-in identity">
                    <span class="identity-icon" aria-hidden="true">"○"</span>
                    "Not signed in"
                </div>
                <a class="topbar-button" href=move || session::login_href(&here())>"Sign in"</a>
            </div>
        }
        .into_any(),
        _ => view! {
            <div class="identity" aria-label="Signed-in identity">"…"</div>
        }
        .into_any(),
    }
}

/// Demo mode: the identity in use and a menu to switch to another.
#[component]
fn DemoSwitcher(me: Me) -> impl IntoView {
    let current = me.user.clone();
    let identities = me.demo_identities.clone();
    let tokens: Vec<DemoIdentity> = identities.clone();
    let on_change = move |ev: leptos::ev::Event| {
        let name = event_target_value(&ev);
        if let Some(identity) = tokens.iter().find(|i| i.name == name) {
            api::switch_identity(&identity.token);
        }
    };
    // Signed in with a token of someone else: say so, rather than showing
    // the first demo identity as if it were the one in use.
    let other = (!identities.iter().any(|i| i.name == current)).then(|| {
        view! { <option value="" selected=true disabled=true>"signed in with a token"</option> }
    });
    let options = identities
        .into_iter()
        .map(|identity| {
            let selected = identity.name == current;
            view! {
                <option value=identity.name.clone() selected=selected>
                    {session::demo_identity_label(&identity)}
                </option>
            }
        })
        .collect_view();
    view! {
        <div class="identity-bar">
            <div class="identity" aria-label="Signed-in identity">
                <span class="identity-icon" aria-hidden="true">"●"</span>
                <span class="identity-mode">"Demo"</span>
                <strong class="identity-user">{me.user.clone()}</strong>
                <span class="role-badge">{me.role.label()}</span>
            </div>
            <label class="identity-switch">
                <span class="visually-hidden">"Demo identity"</span>
                <select on:change=on_change>{other}{options}</select>
            </label>
        </div>
    }
}

/// Heading and one-line summary of a section's page.
#[component]
pub fn PageHeader(item: NavItem) -> impl IntoView {
    view! {
        <header class="page-header">
            <h1>{item.label}</h1>
            <p class="summary">{item.summary}</p>
        </header>
    }
}
