//! One traffic chart card: title, latest value, the plotters SVG (or a
//! "no traffic" state), and the PromQL behind it on demand.

use leptos::prelude::*;

use crate::charts;
use crate::format;
use crate::types::Chart;

/// Size the SVG is drawn at; CSS scales it to the card's width.
const SIZE: (u32, u32) = (560, 240);

/// A chart with its caption; `offset_s` is the viewer's UTC offset.
#[component]
pub fn MetricChart(chart: Chart, start: f64, end: f64, offset_s: i64) -> impl IntoView {
    let kind = chart.kind;
    let unit = kind.unit();
    let latest: Vec<(String, String)> = chart
        .series
        .iter()
        .map(|s| {
            let last = s.points.iter().rev().find_map(|p| p.1);
            (
                s.name.clone(),
                last.map(|v| format::value(v, unit))
                    .unwrap_or_else(|| "–".into()),
            )
        })
        .collect();
    let description = format!(
        "{} over time; latest {}",
        kind.title(),
        latest
            .iter()
            .map(|(n, v)| format!("{n} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let body = if charts::has_data(&chart) {
        match charts::chart_svg(&chart, start, end, SIZE, offset_s) {
            Ok(svg) => view! { <div class="chart-svg" role="img" aria-label=description inner_html=svg></div> }.into_any(),
            Err(err) => {
                view! { <p class="chart-empty">{format!("Could not draw this chart: {err}")}</p> }
                    .into_any()
            }
        }
    } else {
        view! {
            <div class="chart-empty">
                <strong>"No traffic"</strong>
                <span>"No requests matched in this range."</span>
            </div>
        }
        .into_any()
    };
    let queries = chart.queries.clone();
    let names: Vec<String> = chart.series.iter().map(|s| s.name.clone()).collect();
    view! {
        <figure class="card chart-card" aria-label=format!("{} chart", kind.title())>
            <figcaption class="chart-head">
                <h2>{kind.title()}</h2>
                <span class="chart-unit">{format::unit_name(unit)}</span>
                <span class="chart-latest">
                    {latest
                        .into_iter()
                        .map(|(name, value)| {
                            view! { <span class="latest-item" title=format!("latest {name}")>{format!("{name}: {value}")}</span> }
                        })
                        .collect_view()}
                </span>
            </figcaption>
            {body}
            <details class="promql">
                <summary>"PromQL"</summary>
                {names
                    .into_iter()
                    .zip(queries)
                    .map(|(name, q)| view! { <p><span class="q-name">{name}</span><code>{q}</code></p> })
                    .collect_view()}
            </details>
        </figure>
    }
}
