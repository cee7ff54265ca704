//! The console's frame: top bar (brand, external tool links, identity), the
//! navigation sidebar and the page area.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::ApiError;
use crate::nav::{NAV, NavItem};
use crate::types::{AuthMode, RunMode, Status, ToolLink};

/// The frame around every page.
#[component]
pub fn Shell(
    /// `/api/status`, for the tool links and the identity indicator.
    status: LocalResource<Result<Status, ApiError>>,
    children: Children,
) -> impl IntoView {
    let chrome = move || status.get().and_then(Result::ok);
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
                    <ToolLinks links=Signal::derive(move || {
                        chrome().map(|s| s.links).unwrap_or_default()
                    }) />
                    <Identity auth=Signal::derive(move || chrome().map(|s| s.auth_mode)) />
                </div>
            </header>
            <nav class="sidebar" aria-label="Main">
                <ul>{NAV.iter().map(|item| view! { <NavLink item=*item /> }).collect_view()}</ul>
            </nav>
            <main class="content">{children()}</main>
        </div>
    }
}

#[component]
fn NavLink(item: NavItem) -> impl IntoView {
    view! {
        <li>
            <A href=item.path exact=true>
                {item.label}
            </A>
        </li>
    }
}

/// Links to the external tool UIs that have a URL configured.
#[component]
fn ToolLinks(links: Signal<Vec<ToolLink>>) -> impl IntoView {
    view! {
        <ul class="tool-links" aria-label="External tools">
            {move || {
                links
                    .get()
                    .into_iter()
                    .map(|link| {
                        view! {
                            <li>
                                <a href=link.url target="_blank" rel="noopener noreferrer">
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

/// Who is using the console.
#[component]
fn Identity(auth: Signal<Option<AuthMode>>) -> impl IntoView {
    view! {
        <div class="identity" aria-label="Signed-in identity">
            <span class="identity-icon" aria-hidden="true">"●"</span>
            {move || match auth.get() {
                Some(AuthMode::Demo) => "Demo (no sign-in)",
                Some(AuthMode::Token) => "Not signed in",
                None => "…",
            }}
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
