//! Free-form line charts: a dashboard panel (title, unit, lines, its PromQL
//! on demand) and the plain chart-with-legend the PromQL console uses. The
//! legend is HTML beside the SVG, capped so a query with hundreds of series
//! stays readable.

use leptos::prelude::*;

use crate::charts;
use crate::format;
use crate::types::{Panel, Series, Unit};

/// Size the SVG is drawn at; CSS scales it to the card's width.
const SIZE: (u32, u32) = (560, 240);
/// Legend entries shown before "N more series".
pub const LEGEND_CAP: usize = 10;

/// The legend entries to show and how many were left out.
pub fn legend_entries(names: &[String], cap: usize) -> (Vec<(String, String)>, usize) {
    let shown = names
        .iter()
        .take(cap)
        .enumerate()
        .map(|(i, n)| (charts::palette_hex(i), n.clone()))
        .collect();
    (shown, names.len().saturating_sub(cap))
}

/// Lines in `unit` over `start..end` with a capped legend, or an empty
/// state saying `empty` when there is nothing to draw.
#[component]
pub fn LineChart(
    series: Vec<Series>,
    unit: Unit,
    start: f64,
    end: f64,
    offset_s: i64,
    /// Accessible description of the chart.
    #[prop(into)]
    label: String,
    /// What to say when no line has a value.
    #[prop(into)]
    empty: String,
    /// Drawing size in pixels; the chart scales to its box, so a wide box
    /// wants a wide drawing (or its text grows with it).
    #[prop(optional)]
    size: Option<(u32, u32)>,
) -> impl IntoView {
    let has_data = series
        .iter()
        .any(|s| s.points.iter().any(|p| p.1.is_some()));
    if !has_data {
        return view! {
            <div class="chart-empty">
                <strong>"No data"</strong>
                <span>{empty}</span>
            </div>
        }
        .into_any();
    }
    let names: Vec<String> = series.iter().map(|s| s.name.clone()).collect();
    let (shown, more) = legend_entries(&names, LEGEND_CAP);
    let body = match charts::lines_svg(&series, unit, start, end, size.unwrap_or(SIZE), offset_s) {
        Ok(svg) => {
            view! { <div class="chart-svg" role="img" aria-label=label inner_html=svg></div> }
                .into_any()
        }
        Err(err) => {
            view! { <p class="chart-empty">{format!("Could not draw this chart: {err}")}</p> }
                .into_any()
        }
    };
    let single_unnamed = names.len() == 1 && names[0].is_empty();
    view! {
        {body}
        <Show when=move || !single_unnamed>
            <ul class="series-legend" aria-label="Legend">
                {shown
                    .clone()
                    .into_iter()
                    .map(|(colour, name)| {
                        view! {
                            <li>
                                <span class="swatch" style=format!("background:{colour}")></span>
                                {if name.is_empty() { "{}".to_owned() } else { name }}
                            </li>
                        }
                    })
                    .collect_view()}
                {(more > 0).then(|| view! { <li class="legend-more">{format!("{more} more series")}</li> })}
            </ul>
        </Show>
    }
    .into_any()
}

/// One dashboard panel as a card.
#[component]
pub fn DashboardPanel(panel: Panel, start: f64, end: f64, offset_s: i64) -> impl IntoView {
    let unit = panel.unit;
    let latest: Option<String> = (panel.series.len() == 1)
        .then(|| panel.series[0].points.iter().rev().find_map(|p| p.1))
        .flatten()
        .map(|v| format!("latest {}", format::value(v, unit)));
    let title = panel.title.clone();
    view! {
        <figure class="card chart-card" aria-label=format!("{title} panel")>
            <figcaption class="chart-head">
                <h2>{title.clone()}</h2>
                <span class="chart-unit">{format::unit_name(unit)}</span>
                <span class="chart-latest">{latest}</span>
            </figcaption>
            <LineChart
                series=panel.series
                unit=unit
                start=start
                end=end
                offset_s=offset_s
                label=format!("{title} over time")
                empty="No matching series in this range."
            />
            <details class="promql">
                <summary>"PromQL"</summary>
                {panel
                    .queries
                    .into_iter()
                    .map(|q| view! { <p><span class="q-name">{q.legend}</span><code>{q.promql}</code></p> })
                    .collect_view()}
            </details>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legends_are_capped() {
        let names: Vec<String> = (0..13).map(|i| format!("s{i}")).collect();
        let (shown, more) = legend_entries(&names, LEGEND_CAP);
        assert_eq!(shown.len(), 10);
        assert_eq!(more, 3);
        assert_eq!(shown[1], (charts::palette_hex(1), "s1".to_owned()));
        let (shown, more) = legend_entries(&names[..2], LEGEND_CAP);
        assert_eq!((shown.len(), more), (2, 0));
    }
}
