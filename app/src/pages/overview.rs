//! Overview: the console's wiring, from `/api/status`.

use leptos::prelude::*;

use crate::api;
use crate::components::access::AccessSummary;
use crate::components::layout::{MeResource, PageHeader};
use crate::components::state::loaded;
use crate::components::upstreams::UpstreamTable;
use crate::nav::OVERVIEW;
use crate::types::{AuthMode, Me, RunMode, Status, TelemetryReport, TelemetryState};

/// `/`: version, mode and the state of every upstream, with a refresh button.
#[component]
pub fn Overview() -> impl IntoView {
    let status = LocalResource::new(api::status);
    // Signed out (token mode) the overview still works; the access card
    // appears once someone is signed in.
    let MeResource(me) = expect_context::<MeResource>();
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
                    <TelemetryCard />
                }
            })
        })}
    }
}

/// Whether Prometheus holds the mesh's metrics, per namespace with
/// sidecars: the first thing to look at when the graph is empty.
#[component]
fn TelemetryCard() -> impl IntoView {
    let report = LocalResource::new(api::telemetry);
    view! {
        <section class="card" aria-labelledby="telemetry-heading">
            <h2 id="telemetry-heading">"Telemetry"</h2>
            {loaded("telemetry", report, |r: TelemetryReport| view! { <TelemetryView report=r /> })}
        </section>
    }
}

/// The badge of a namespace's verdict.
pub fn telemetry_badge(state: TelemetryState) -> (&'static str, &'static str) {
    match state {
        TelemetryState::Ok => ("badge badge-ok", "metrics arrive"),
        TelemetryState::OutboundOnly => ("badge badge-ok", "outbound only"),
        TelemetryState::NotScraped => ("badge badge-bad", "sidecars not scraped"),
        TelemetryState::None => ("badge badge-warn", "no metrics"),
    }
}

#[component]
fn TelemetryView(report: TelemetryReport) -> impl IntoView {
    let window = report.window.clone();
    let istiod = match report.istiod_scraped {
        Some(true) => view! { <span class="badge badge-ok">"scraped"</span> }.into_any(),
        Some(false) => view! {
            <span class="badge badge-warn">"not scraped"</span>
            " Prometheus has no "<code>"pilot_xds_pushes"</code>": istiod's own metrics (port 15014) are not collected."
        }
        .into_any(),
        None => view! { <span class="badge badge-muted">"unknown"</span> }.into_any(),
    };
    let problem = report.problem.clone();
    let rows = report
        .namespaces
        .iter()
        .map(|n| {
            let (class, label) = telemetry_badge(n.state);
            view! {
                <tr>
                    <td>{n.namespace.clone()}</td>
                    <td class="num">{n.pods_with_sidecar}</td>
                    <td class="num">{format!("{:.0}", n.destination_reported)}</td>
                    <td class="num">{format!("{:.0}", n.source_reported)}</td>
                    <td class="num">{format!("{:.0}", n.outbound_reported)}</td>
                    <td><span class=class>{label}</span>{n.hint.clone().map(|h| view! { <div class="muted">{h}</div> })}</td>
                </tr>
            }
        })
        .collect_view();
    let empty = report.namespaces.is_empty() && problem.is_none();
    view! {
        <p class="muted">{format!("Requests in Prometheus over the last {window}, by namespace with sidecars, as each side's proxy reported them.")}</p>
        {problem.map(|p| view! { <p class="error">{p}</p> })}
        <dl class="facts"><dt>"istiod"</dt><dd>{istiod}</dd></dl>
        {empty.then(|| view! { <p>"None of your namespaces has workloads with the sidecar yet."</p> })}
        {(!report.namespaces.is_empty()).then(|| view! {
            <table class="data-table" aria-label="Telemetry by namespace">
                <thead><tr>
                    <th>"Namespace"</th><th class="num">"Pods with sidecar"</th>
                    <th class="num" title="reporter=\"destination\"">"In, reported by its sidecars"</th>
                    <th class="num" title="reporter=\"source\"">"In, reported by callers"</th>
                    <th class="num">"Out, reported by its sidecars"</th>
                    <th>"Verdict"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
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
