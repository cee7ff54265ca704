//! Overview: the console's wiring, from `/api/status`.

use leptos::prelude::*;

use crate::api;
use crate::components::access::AccessSummary;
use crate::components::layout::PageHeader;
use crate::components::state::loaded;
use crate::components::upstreams::UpstreamTable;
use crate::nav::OVERVIEW;
use crate::types::{AuthMode, Me, RunMode, Status};

/// `/`: version, mode and the state of every upstream, with a refresh button.
#[component]
pub fn Overview() -> impl IntoView {
    let status = LocalResource::new(api::status);
    // Signed out (token mode) the overview still works; the access card
    // appears once someone is signed in.
    let me = LocalResource::new(api::me_if_signed_in);
    view! {
        <PageHeader item=OVERVIEW />
        <div class="toolbar">
            <button type="button" on:click=move |_| status.refetch()>
                "Refresh"
            </button>
        </div>
        {loaded("status", status, |s: Status| view! { <StatusView status=s /> })}
        {loaded("your access", me, |m: Option<Me>| {
            m.map(|m| {
                view! {
                    <section class="card" aria-label="Your access">
                        <h2>"Your access"</h2>
                        <AccessSummary me=m />
                    </section>
                }
            })
        })}
    }
}

#[component]
fn StatusView(status: Status) -> impl IntoView {
    let mode = match status.mode {
        RunMode::Demo => "Demo: a built-in simulated mesh, no cluster needed",
        RunMode::Serve => "Connected to a Kubernetes cluster",
    };
    let auth = match status.auth_mode {
        AuthMode::Demo => {
            "Demo identities (tokens of the in-memory cluster; switch at the top right)"
        }
        AuthMode::Token => "Kubernetes bearer tokens (TokenReview)",
        AuthMode::Proxy => {
            "An authenticating proxy in front (meshdeck impersonates you for writes)"
        }
    };
    let problems = (!status.problems.is_empty()).then(|| {
        view! {
            <section class="card card-warn" aria-labelledby="problems-heading">
                <h2 id="problems-heading">"Needs attention"</h2>
                <ul class="problems">
                    {status.problems.iter().map(|p| view! { <li>{p.clone()}</li> }).collect_view()}
                </ul>
            </section>
        }
    });
    view! {
        {problems}
        <section class="card" aria-labelledby="console-heading">
            <h2 id="console-heading">"Console"</h2>
            <dl class="facts">
                <dt>"Version"</dt>
                <dd>{status.version}</dd>
                <dt>"Mode"</dt>
                <dd>{mode}</dd>
                <dt>"Sign-in"</dt>
                <dd>{auth}</dd>
            </dl>
        </section>
        <section class="card" aria-labelledby="upstreams-heading">
            <h2 id="upstreams-heading">"Upstream systems"</h2>
            <UpstreamTable upstreams=status.upstreams />
        </section>
    }
}
