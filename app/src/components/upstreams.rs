//! The table of upstream systems on the Overview page.

use leptos::prelude::*;

use crate::types::UpstreamStatus;

/// One row per upstream: configured, reachable, version, latency, remarks.
#[component]
pub fn UpstreamTable(
    /// The upstreams as `/api/status` reported them.
    upstreams: Vec<UpstreamStatus>,
) -> impl IntoView {
    let rows = upstreams
        .into_iter()
        .map(|u| {
            let (class, state) = match (u.configured, u.reachable) {
                (false, _) => ("badge badge-muted", "not configured"),
                (true, Some(true)) => ("badge badge-ok", "reachable"),
                (true, _) => ("badge badge-bad", "unreachable"),
            };
            let latency = u
                .latency_ms
                .map(|ms| format!("{ms} ms"))
                .unwrap_or_else(|| "–".into());
            view! {
                <tr>
                    <th scope="row">{u.kind.label()}</th>
                    <td>{u.kind.purpose()}</td>
                    <td>
                        <span class=class>{state}</span>
                    </td>
                    <td>{u.version.unwrap_or_else(|| "–".into())}</td>
                    <td class="num">{latency}</td>
                    <td class="detail">{u.detail.unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="data-table" aria-label="Upstream systems">
            <thead>
                <tr>
                    <th scope="col">"System"</th>
                    <th scope="col">"Used for"</th>
                    <th scope="col">"State"</th>
                    <th scope="col">"Version"</th>
                    <th scope="col" class="num">"Latency"</th>
                    <th scope="col">"Details"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
