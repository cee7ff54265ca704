//! A top-10 table; each service links to its own metrics.

use leptos::prelude::*;

use crate::format;
use crate::types::TopList;

/// The list, with `link(namespace, service)` giving each row's target and
/// `traces(namespace, service)` its traces link.
#[component]
pub fn TopTable(
    list: TopList,
    link: Callback<(String, String), String>,
    traces: Callback<(String, String), String>,
) -> impl IntoView {
    let unit = list.unit;
    let title = list.kind.title();
    let rows = if list.entries.is_empty() {
        view! {
            <tr>
                <td colspan="5" class="empty-row">"Nothing to rank in this range."</td>
            </tr>
        }
        .into_any()
    } else {
        list.entries
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                let href = link.run((e.namespace.clone(), e.service.clone()));
                let traces_label = format!("traces of {}", e.service);
                let traces = traces.run((e.namespace.clone(), e.service.clone()));
                view! {
                    <tr>
                        <td class="num rank">{i + 1}</td>
                        <td>
                            <a href=href>{e.service}</a>
                        </td>
                        <td>{e.namespace}</td>
                        <td class="num">{format::value(e.value, unit)}</td>
                        <td>
                            <a href=traces aria-label=traces_label>"traces"</a>
                        </td>
                    </tr>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <section class="card top-card">
            <h2>{title}</h2>
            <table class="data-table" aria-label=title>
                <thead>
                    <tr>
                        <th scope="col" class="num">"#"</th>
                        <th scope="col">"Service"</th>
                        <th scope="col">"Namespace"</th>
                        <th scope="col" class="num">"Value"</th>
                        <th scope="col">
                            <span class="sr-only">"Traces"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            <details class="promql">
                <summary>"PromQL"</summary>
                <code>{list.query}</code>
            </details>
        </section>
    }
}
