//! The shared body of sections whose main view is not built yet: it says so
//! plainly, shows what the section will need and whether that is reachable,
//! which namespaces the caller will see in it, and echoes the state carried
//! in the URL (so deep links can be checked).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api;
use crate::components::access::AccessSummary;
use crate::components::layout::PageHeader;
use crate::components::state::loaded;
use crate::nav::NavItem;
use crate::types::{Me, Status, UpstreamKind};

/// A section's placeholder page.
#[component]
pub fn Upcoming(
    /// Which section.
    item: NavItem,
    /// The upstream systems the section reads from.
    needs: &'static [UpstreamKind],
) -> impl IntoView {
    let status = LocalResource::new(api::status);
    // Sections show the caller's data only: signing in comes first.
    let me = LocalResource::new(api::me);
    let query = use_query_map();
    let params = move || {
        let map = query.get();
        let mut pairs: Vec<(String, String)> =
            map.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        pairs.sort();
        pairs
    };
    view! {
        <PageHeader item=item />
        <section class="card notice" aria-label="Not available yet">
            <p>"This view is not available in this build of meshdeck yet."</p>
            <Show when=move || !params().is_empty()>
                <p>"Link parameters: "
                    {move || {
                        params()
                            .into_iter()
                            .map(|(k, v)| view! { <code class="param">{format!("{k}={v}")}</code> " " })
                            .collect_view()
                    }}
                </p>
            </Show>
        </section>
        <section class="card" aria-label="Data sources">
            <h2>"Data sources"</h2>
            {loaded("data sources", status, move |s: Status| view! { <Needs status=s needs=needs /> })}
        </section>
        <section class="card" aria-label="Your access">
            <h2>"Your access"</h2>
            {loaded("your access", me, |m: Me| view! { <AccessSummary me=m /> })}
        </section>
    }
}

#[component]
fn Needs(status: Status, needs: &'static [UpstreamKind]) -> impl IntoView {
    needs
        .iter()
        .map(|kind| {
            let found = status.upstreams.iter().find(|u| u.kind == *kind);
            let (class, state) = match found.map(|u| (u.configured, u.reachable)) {
                Some((true, Some(true))) => ("badge badge-ok", "reachable"),
                Some((true, _)) => ("badge badge-bad", "unreachable"),
                _ => ("badge badge-muted", "not configured"),
            };
            view! {
                <p class="need">
                    <strong>{kind.label()}</strong>
                    " "
                    <span class=class>{state}</span>
                    " – "
                    {kind.purpose()}
                </p>
            }
        })
        .collect_view()
}
