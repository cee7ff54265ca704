//! Drawing the traffic charts as SVG with plotters: time on x, the chart's
//! unit on y, one coloured line per series with gaps where there was no
//! traffic, and a legend when there is more than one line. Charts of a
//! rollout also carry marks: dashed vertical lines where its canary's
//! weight changed, labelled with the new weight.

use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::format;
use crate::types::{Chart, ChartKind, Series, Unit};

/// Line colours, in series order, per chart.
fn colours(kind: ChartKind) -> &'static [RGBColor] {
    const BLUE: RGBColor = RGBColor(0x1d, 0x4e, 0xd8);
    const GREEN: RGBColor = RGBColor(0x15, 0x80, 0x3d);
    const AMBER: RGBColor = RGBColor(0xd9, 0x77, 0x06);
    const RED: RGBColor = RGBColor(0xb9, 0x1c, 0x1c);
    match kind {
        ChartKind::SuccessRate => &[GREEN],
        ChartKind::RequestVolume => &[BLUE],
        ChartKind::ClientErrors => &[AMBER],
        ChartKind::ServerErrors => &[RED],
        ChartKind::RequestDuration => &[BLUE, AMBER, RED],
    }
}

/// Whether a chart has at least one value.
pub fn has_data(chart: &Chart) -> bool {
    chart
        .series
        .iter()
        .any(|s| s.points.iter().any(|p| p.1.is_some()))
}

/// The y range to draw: success rates zoom in below 100 % so small drops
/// show; other units start at zero with headroom above the largest value.
pub fn y_range(chart: &Chart) -> (f64, f64) {
    y_range_of(&chart.series, chart.kind.unit())
}

/// [`y_range`] for any lines in `unit`; negative values (possible in the
/// PromQL console) get room below zero.
pub fn y_range_of(series: &[Series], unit: Unit) -> (f64, f64) {
    let values = series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.1))
        .filter(|v| v.is_finite());
    let (min, max) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !min.is_finite() {
        return (0.0, 1.0);
    }
    match unit {
        Unit::Ratio => {
            // Steps of 1 %, 5 %, 10 %, 25 % or 50 % below the lowest value.
            let floor = [0.99, 0.95, 0.9, 0.75, 0.5, 0.0]
                .into_iter()
                .find(|f| *f <= min - 0.002)
                .unwrap_or(0.0);
            (floor, 1.0)
        }
        _ => {
            let lo = if min < 0.0 { min * 1.15 } else { 0.0 };
            let hi = if max > 0.0 {
                max * 1.15
            } else if min < 0.0 {
                0.0
            } else {
                1.0
            };
            (lo, hi)
        }
    }
}

/// Colours for lines that have no fixed meaning (dashboards, console), in
/// series order; the HTML legends use [`palette_hex`] to match them.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0x1d, 0x4e, 0xd8),
    RGBColor(0xd9, 0x77, 0x06),
    RGBColor(0x15, 0x80, 0x3d),
    RGBColor(0xb9, 0x1c, 0x1c),
    RGBColor(0x7c, 0x3a, 0xed),
    RGBColor(0x0e, 0x74, 0x90),
    RGBColor(0xdb, 0x27, 0x77),
    RGBColor(0x4d, 0x7c, 0x0f),
    RGBColor(0x92, 0x40, 0x0e),
    RGBColor(0x47, 0x55, 0x69),
];

/// The CSS colour of line `i` drawn by [`lines_svg`].
pub fn palette_hex(i: usize) -> String {
    let RGBColor(r, g, b) = PALETTE[i % PALETTE.len()];
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Runs of consecutive points with finite values (a gap splits the line).
pub fn segments(series: &Series) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![Vec::new()];
    for (t, v) in &series.points {
        match v {
            Some(v) if v.is_finite() => out.last_mut().map(|seg| seg.push((*t, *v))).unwrap_or(()),
            _ => {
                if out.last().is_some_and(|s| !s.is_empty()) {
                    out.push(Vec::new());
                }
            }
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// Tick spacings for the time axis (seconds).
const TIME_STEPS: [f64; 14] = [
    60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0, 43200.0, 86400.0,
    172800.0, 604800.0,
];

/// Times that are round in local time (UTC + `offset_s`): whole minutes,
/// hours or days, at most seven of them.
pub fn time_ticks(start: f64, end: f64, offset_s: i64) -> Vec<f64> {
    let span = (end - start).max(1.0);
    let step = TIME_STEPS
        .into_iter()
        .find(|s| span / s <= 7.0)
        .unwrap_or(604800.0);
    let offset = offset_s as f64;
    let first = ((start + offset) / step).ceil() * step - offset;
    (0..)
        .map(|i| first + i as f64 * step)
        .take_while(|t| *t <= end)
        .collect()
}

/// The chart as an SVG document of `width` × `height` pixels, times shown
/// with `offset_s` added (the viewer's UTC offset).
pub fn chart_svg(
    chart: &Chart,
    start: f64,
    end: f64,
    size: (u32, u32),
    offset_s: i64,
) -> Result<String, String> {
    let lines = Lines {
        series: &chart.series,
        unit: chart.kind.unit(),
        palette: colours(chart.kind),
        legend: chart.series.len() > 1,
        marks: &[],
        fine_time: false,
    };
    let mut svg = String::new();
    draw(&mut svg, &lines, start, end, size, offset_s).map_err(|e| e.to_string())?;
    Ok(svg)
}

/// Any lines in `unit` as an SVG document, coloured from [`PALETTE`] and
/// without a drawn legend (the page lists the series beside the chart,
/// where a long list fits).
pub fn lines_svg(
    series: &[Series],
    unit: Unit,
    start: f64,
    end: f64,
    size: (u32, u32),
    offset_s: i64,
) -> Result<String, String> {
    let lines = Lines {
        series,
        unit,
        palette: &PALETTE,
        legend: false,
        marks: &[],
        fine_time: false,
    };
    let mut svg = String::new();
    draw(&mut svg, &lines, start, end, size, offset_s).map_err(|e| e.to_string())?;
    Ok(svg)
}

/// A moment marked on a chart with a vertical line, e.g. a rollout's step
/// boundary labelled with the canary's weight from then on.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    /// When (Unix seconds).
    pub t: f64,
    /// Shown above the plot at the line, e.g. `20 %`.
    pub label: String,
}

/// Like [`lines_svg`] (colours from [`PALETTE`], no drawn legend), with a
/// dashed vertical line at each mark inside the time range and its label
/// in a row above the plot. Time ticks go down to 10 s apart, labelled
/// with seconds when they are less than a minute apart, since a rollout
/// may last a minute.
#[allow(clippy::too_many_arguments)]
pub fn marked_lines_svg(
    series: &[Series],
    unit: Unit,
    start: f64,
    end: f64,
    size: (u32, u32),
    offset_s: i64,
    marks: &[Mark],
) -> Result<String, String> {
    let lines = Lines {
        series,
        unit,
        palette: &PALETTE,
        legend: false,
        marks,
        fine_time: true,
    };
    let mut svg = String::new();
    draw(&mut svg, &lines, start, end, size, offset_s).map_err(|e| e.to_string())?;
    Ok(svg)
}

/// What [`draw`] draws.
struct Lines<'s> {
    series: &'s [Series],
    unit: Unit,
    palette: &'static [RGBColor],
    legend: bool,
    /// Vertical lines with labels above the plot.
    marks: &'s [Mark],
    /// Sub-minute time ticks, labelled with seconds.
    fine_time: bool,
}

/// Height of the legend row above a chart's plot (pixels).
const LEGEND_ROW: u32 = 30;
/// Height of the two rows of mark labels above a chart's plot (pixels).
const MARK_ROWS: u32 = 36;
/// Colour of the marks and their labels.
const MARK: RGBColor = RGBColor(0x6b, 0x21, 0xa8);

/// Tick spacings below a minute, for [`fine_time_ticks`] (seconds).
const FINE_STEPS: [f64; 3] = [10.0, 15.0, 30.0];

/// Like [`time_ticks`], also 10, 15 or 30 s apart for spans of a few
/// minutes; with the spacing, so labels can show seconds.
pub fn fine_time_ticks(start: f64, end: f64, offset_s: i64) -> (Vec<f64>, f64) {
    let span = (end - start).max(1.0);
    let step = FINE_STEPS
        .into_iter()
        .chain(TIME_STEPS)
        .find(|s| span / s <= 7.0)
        .unwrap_or(604800.0);
    let offset = offset_s as f64;
    let first = ((start + offset) / step).ceil() * step - offset;
    let ticks = (0..)
        .map(|i| first + i as f64 * step)
        .take_while(|t| *t <= end)
        .collect();
    (ticks, step)
}

/// Where each mark's label goes: its centre x, kept inside `left..right`,
/// and its row (0 or 1): the second row when it would overlap the label
/// before it in the first. `xs` are the marks' x positions in time order.
pub fn mark_label_slots(xs: &[(i32, usize)], left: i32, right: i32) -> Vec<(i32, u8)> {
    // Text comes out at about 12 px: about 7 px a character, plus room.
    let width = |chars: usize| chars as i32 * 7 + 8;
    let mut last_end = [i32::MIN; 2];
    xs.iter()
        .map(|&(x, chars)| {
            let w = width(chars);
            let centre = x.clamp(left + w / 2, (right - w / 2).max(left + w / 2));
            let row = if centre - w / 2 >= last_end[0] {
                0
            } else if centre - w / 2 >= last_end[1] {
                1
            } else {
                0
            };
            last_end[row] = centre + w / 2;
            (centre, row as u8)
        })
        .collect()
}

fn draw<'a>(
    svg: &'a mut String,
    lines: &Lines<'_>,
    start: f64,
    end: f64,
    size: (u32, u32),
    offset_s: i64,
) -> Result<(), Box<dyn std::error::Error + 'a>> {
    let unit = lines.unit;
    let span = end - start;
    let root = SVGBackend::with_string(svg, size).into_drawing_area();
    root.fill(&WHITE)?;
    let (y0, y1) = y_range_of(lines.series, unit);
    // A legend gets a row of its own above the plot, never over the data;
    // so do the labels of marks.
    let top = if lines.legend {
        LEGEND_ROW
    } else if !lines.marks.is_empty() {
        MARK_ROWS
    } else {
        10
    };
    let mut ctx = ChartBuilder::on(&root)
        .margin_top(top)
        .margin_right(16)
        .margin_left(4)
        .x_label_area_size(26)
        .y_label_area_size(58)
        .build_cartesian_2d(start..end.max(start + 1.0), y0..y1)?;
    // plotters' SVG text comes out at about 0.8 of the requested size.
    let tick_font = ("sans-serif", 15)
        .into_font()
        .color(&RGBColor(0x4b, 0x55, 0x65));
    let y_fmt = |v: &f64| format::tick(*v, unit);
    // The time axis gets round ticks (whole minutes, hours, days) drawn
    // below; plotters' own ticks would fall on round numbers of seconds.
    ctx.configure_mesh()
        .x_labels(0)
        .disable_x_mesh()
        .y_labels(5)
        .y_label_formatter(&y_fmt)
        .label_style(tick_font.clone())
        .axis_desc_style(tick_font.clone())
        .y_desc(format::unit_name(unit))
        .light_line_style(RGBColor(0xee, 0xf0, 0xf3))
        .bold_line_style(RGBColor(0xdd, 0xe1, 0xe7))
        .axis_style(RGBColor(0x9c, 0xa3, 0xaf))
        .draw()?;
    let grid = ShapeStyle::from(&RGBColor(0xee, 0xf0, 0xf3)).stroke_width(1);
    let tick_label = tick_font.pos(Pos::new(HPos::Center, VPos::Top));
    let (ticks, tick_step) = if lines.fine_time {
        fine_time_ticks(start, end, offset_s)
    } else {
        (time_ticks(start, end, offset_s), 60.0)
    };
    for t in ticks {
        ctx.draw_series(std::iter::once(PathElement::new(
            vec![(t, y0), (t, y1)],
            grid,
        )))?;
        let (x, y) = ctx.backend_coord(&(t, y0));
        let label = if tick_step < 60.0 {
            format::clock(t, offset_s)
        } else {
            format::time_label(t, offset_s, span)
        };
        root.draw(&Text::new(label, (x, y + 6), tick_label.clone()))?;
    }
    // Marks under the lines, so the data stays on top.
    let x_end = end.max(start + 1.0);
    let shown: Vec<&Mark> = lines
        .marks
        .iter()
        .filter(|m| m.t >= start && m.t <= x_end)
        .collect();
    if !shown.is_empty() {
        let dash = ShapeStyle::from(&MARK.mix(0.7)).stroke_width(1);
        let xs: Vec<(i32, usize)> = shown
            .iter()
            .map(|m| (ctx.backend_coord(&(m.t, y1)).0, m.label.chars().count()))
            .collect();
        let (left, _) = ctx.backend_coord(&(start, y1));
        let (right, _) = ctx.backend_coord(&(x_end, y1));
        let mark_font = ("sans-serif", 14).into_font().color(&MARK);
        let mark_style = mark_font.pos(Pos::new(HPos::Center, VPos::Center));
        for (m, (x, row)) in shown.iter().zip(mark_label_slots(&xs, left, right)) {
            ctx.draw_series(std::iter::once(DashedPathElement::new(
                vec![(m.t, y0), (m.t, y1)],
                4,
                3,
                dash,
            )))?;
            let y = 9 + i32::from(row) * 15;
            root.draw(&Text::new(m.label.clone(), (x, y), mark_style.clone()))?;
        }
    }
    let palette = lines.palette;
    for (i, series) in lines.series.iter().enumerate() {
        let colour = palette[i % palette.len()];
        let style = ShapeStyle::from(&colour).stroke_width(2);
        for segment in segments(series) {
            ctx.draw_series(LineSeries::new(segment, style))?;
        }
    }
    if lines.legend {
        // Right-aligned with the plot: a short line in the series' colour,
        // then its name. Text comes out at about 12 px (see above), so a
        // character is about 7 px wide.
        let label_font = ("sans-serif", 15)
            .into_font()
            .color(&RGBColor(0x37, 0x41, 0x51));
        let label_style = label_font.pos(Pos::new(HPos::Left, VPos::Center));
        let widths: Vec<i32> = lines
            .series
            .iter()
            .map(|s| 22 + s.name.chars().count() as i32 * 7 + 14)
            .collect();
        let (right, _) = ctx.backend_coord(&(end.max(start + 1.0), y1));
        let mut x = right - widths.iter().sum::<i32>();
        let y = (LEGEND_ROW as i32) / 2;
        for (i, (series, width)) in lines.series.iter().zip(&widths).enumerate() {
            let colour = palette[i % palette.len()];
            root.draw(&PathElement::new(
                vec![(x, y), (x + 16, y)],
                ShapeStyle::from(&colour).stroke_width(3),
            ))?;
            root.draw(&Text::new(
                series.name.clone(),
                (x + 22, y),
                label_style.clone(),
            ))?;
            x += width;
        }
    }
    root.present()?;
    Ok(())
}

/// One trace in the scatter plot.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TracePoint {
    /// Start (Unix seconds).
    pub t: f64,
    /// Duration in milliseconds.
    pub duration_ms: f64,
    /// Whether the trace has an error.
    pub error: bool,
}

/// Trace durations over time: blue dots, red for traces with errors.
pub fn scatter_svg(
    points: &[TracePoint],
    size: (u32, u32),
    offset_s: i64,
) -> Result<String, String> {
    let mut svg = String::new();
    draw_scatter(&mut svg, points, size, offset_s).map_err(|e| e.to_string())?;
    Ok(svg)
}

fn draw_scatter<'a>(
    svg: &'a mut String,
    points: &[TracePoint],
    size: (u32, u32),
    offset_s: i64,
) -> Result<(), Box<dyn std::error::Error + 'a>> {
    let root = SVGBackend::with_string(svg, size).into_drawing_area();
    root.fill(&WHITE)?;
    let t0 = points.iter().map(|p| p.t).fold(f64::INFINITY, f64::min);
    let t1 = points.iter().map(|p| p.t).fold(f64::NEG_INFINITY, f64::max);
    let (t0, t1) = if t0.is_finite() {
        (t0 - 30.0, t1 + 30.0)
    } else {
        (0.0, 60.0)
    };
    let max = points
        .iter()
        .map(|p| p.duration_ms)
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.15;
    let span = t1 - t0;
    let mut ctx = ChartBuilder::on(&root)
        .margin_top(8)
        .margin_right(16)
        .x_label_area_size(26)
        .y_label_area_size(58)
        .build_cartesian_2d(t0..t1, 0.0..max)?;
    let font = ("sans-serif", 15)
        .into_font()
        .color(&RGBColor(0x4b, 0x55, 0x65));
    let y_fmt = |v: &f64| format::number(*v);
    ctx.configure_mesh()
        .x_labels(0)
        .disable_x_mesh()
        .y_labels(4)
        .y_label_formatter(&y_fmt)
        .label_style(font.clone())
        .axis_desc_style(font.clone())
        .y_desc("ms")
        .light_line_style(RGBColor(0xee, 0xf0, 0xf3))
        .bold_line_style(RGBColor(0xdd, 0xe1, 0xe7))
        .axis_style(RGBColor(0x9c, 0xa3, 0xaf))
        .draw()?;
    let tick_label = font.pos(Pos::new(HPos::Center, VPos::Top));
    for t in time_ticks(t0, t1, offset_s) {
        let (x, y) = ctx.backend_coord(&(t, 0.0));
        root.draw(&Text::new(
            format::time_label(t, offset_s, span),
            (x, y + 6),
            tick_label.clone(),
        ))?;
    }
    let ok = RGBColor(0x1d, 0x4e, 0xd8);
    let bad = RGBColor(0xb9, 0x1c, 0x1c);
    ctx.draw_series(
        points
            .iter()
            .filter(|p| !p.error)
            .map(|p| Circle::new((p.t, p.duration_ms), 4, ok.mix(0.55).filled())),
    )?;
    ctx.draw_series(
        points
            .iter()
            .filter(|p| p.error)
            .map(|p| Circle::new((p.t, p.duration_ms), 5, bad.mix(0.85).filled())),
    )?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(kind: ChartKind, points: Vec<Option<f64>>) -> Chart {
        Chart {
            kind,
            series: vec![Series {
                name: "s".into(),
                points: points
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (i as f64 * 60.0, v))
                    .collect(),
            }],
            queries: vec!["q".into()],
        }
    }

    #[test]
    fn gaps_split_lines() {
        let c = chart(
            ChartKind::RequestVolume,
            vec![Some(1.0), None, Some(2.0), Some(3.0), None],
        );
        assert_eq!(
            segments(&c.series[0]),
            vec![vec![(0.0, 1.0)], vec![(120.0, 2.0), (180.0, 3.0)]]
        );
        assert!(has_data(&c));
        assert!(!has_data(&chart(
            ChartKind::RequestVolume,
            vec![None, None]
        )));
    }

    #[test]
    fn success_rates_zoom_in() {
        assert_eq!(
            y_range(&chart(ChartKind::SuccessRate, vec![Some(0.997), Some(1.0)])),
            (0.99, 1.0)
        );
        assert_eq!(
            y_range(&chart(ChartKind::SuccessRate, vec![Some(0.62)])),
            (0.5, 1.0)
        );
        let (lo, hi) = y_range(&chart(
            ChartKind::RequestVolume,
            vec![Some(10.0), Some(20.0)],
        ));
        assert_eq!(lo, 0.0);
        assert!((hi - 23.0).abs() < 1e-9);
    }

    #[test]
    fn svg_has_axes_labels_and_lines() {
        let mut c = chart(
            ChartKind::RequestDuration,
            vec![Some(5.0), Some(7.0), Some(6.0)],
        );
        c.series.push(Series {
            name: "p99".into(),
            points: vec![(0.0, Some(40.0)), (60.0, Some(45.0)), (120.0, Some(44.0))],
        });
        let svg = chart_svg(&c, 0.0, 120.0, (480, 220), 0).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        let texts = texts(&svg);
        assert!(
            texts.contains(&"ms".to_string()),
            "y axis caption: {texts:?}"
        );
        for tick in ["00:00", "00:01", "00:02"] {
            assert!(
                texts.contains(&tick.to_string()),
                "time tick {tick}: {texts:?}"
            );
        }
        assert!(texts.contains(&"p99".to_string()), "legend: {texts:?}");
        // The legend sits in its own row above the plot, not over the lines.
        let p99 = svg
            .split("<text")
            .find(|t| t.contains("\np99\n"))
            .unwrap_or_else(|| panic!("p99 label in {svg}"));
        let y: f64 = p99
            .split("y=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .and_then(|v| v.parse().ok())
            .expect("y of the p99 label");
        assert!(y < f64::from(LEGEND_ROW), "legend label at y = {y}");
        // Each series: its line and its legend mark, in its own colour.
        for colour in ["#1D4ED8", "#D97706"] {
            let lines = svg
                .split("<polyline")
                .filter(|p| p.contains(&format!("stroke=\"{colour}\"")))
                .count();
            assert_eq!(lines, 2, "{colour}");
        }
    }

    #[test]
    fn free_lines_use_the_palette_and_allow_negatives() {
        let series = vec![
            Series {
                name: "a".into(),
                points: vec![(0.0, Some(-2.0)), (60.0, Some(4.0))],
            },
            Series {
                name: "b".into(),
                points: vec![(0.0, Some(1.0)), (60.0, Some(f64::INFINITY))],
            },
        ];
        let (lo, hi) = y_range_of(&series, Unit::Number);
        assert!(
            (lo + 2.3).abs() < 1e-9 && (hi - 4.6).abs() < 1e-9,
            "{lo} {hi}"
        );
        let svg = lines_svg(&series, Unit::Bytes, 0.0, 60.0, (400, 200), 0).unwrap();
        assert!(svg.contains("bytes"));
        assert!(svg.contains(&palette_hex(1).to_uppercase()));
        assert_eq!(palette_hex(0), "#1d4ed8");
        assert_eq!(palette_hex(10), palette_hex(0));
    }

    #[test]
    fn time_ticks_are_round() {
        assert_eq!(
            time_ticks(30.0, 400.0, 0),
            vec![60.0, 120.0, 180.0, 240.0, 300.0, 360.0]
        );
        let hour = time_ticks(1_795_701_907.0, 1_795_705_507.0, 0);
        assert!(
            hour.iter().all(|t| t % 600.0 == 0.0) && hour.len() == 6,
            "{hour:?}"
        );
        // Daily ticks fall on local midnight (here UTC+2).
        let week = time_ticks(1_795_701_907.0, 1_795_701_907.0 + 7.0 * 86400.0, 7200);
        assert!(
            week.iter().all(|t| (t + 7200.0) % 86400.0 == 0.0) && week.len() == 7,
            "{week:?}"
        );
    }

    #[test]
    fn scatter_marks_errors_in_red() {
        let points = [
            TracePoint {
                t: 100.0,
                duration_ms: 20.0,
                error: false,
            },
            TracePoint {
                t: 160.0,
                duration_ms: 80.0,
                error: true,
            },
        ];
        let svg = scatter_svg(&points, (480, 200), 0).unwrap();
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains("#B91C1C"), "error dot colour");
        assert!(
            scatter_svg(&[], (480, 200), 0).is_ok(),
            "empty plots draw axes only"
        );
    }

    #[test]
    fn marks_draw_dashed_lines_with_their_labels() {
        let series = vec![
            Series {
                name: "v1 (stable)".into(),
                points: (0..=12).map(|i| (i as f64 * 5.0, Some(0.999))).collect(),
            },
            Series {
                name: "v2 (canary)".into(),
                points: (0..=12).map(|i| (i as f64 * 5.0, Some(0.92))).collect(),
            },
        ];
        let marks = [
            Mark {
                t: 0.0,
                label: "20 %".into(),
            },
            Mark {
                t: 30.0,
                label: "0 %".into(),
            },
            // Outside the range: not drawn.
            Mark {
                t: 90.0,
                label: "50 %".into(),
            },
        ];
        let svg = marked_lines_svg(&series, Unit::Ratio, 0.0, 60.0, (560, 240), 0, &marks).unwrap();
        let labels = texts(&svg);
        assert!(labels.contains(&"20 %".to_string()), "{labels:?}");
        assert!(labels.contains(&"0 %".to_string()), "{labels:?}");
        assert!(!labels.contains(&"50 %".to_string()), "{labels:?}");
        // Sub-minute ticks carry seconds: a minute's span gets 10 s ticks.
        for tick in ["00:00:00", "00:00:30", "00:01:00"] {
            assert!(
                labels.contains(&tick.to_string()),
                "tick {tick}: {labels:?}"
            );
        }
        // Each mark is a dashed line: several short strokes in its colour,
        // all at one x.
        let dashes: Vec<&str> = svg
            .split("<polyline")
            .skip(1)
            .filter(|p| p.contains("stroke=\"#6B21A8\""))
            .collect();
        assert!(dashes.len() >= 2 * 5, "dashes: {}", dashes.len());
        // Both versions' lines, in the palette's first two colours.
        for colour in ["#1D4ED8", "#D97706"] {
            assert!(svg.contains(&format!("stroke=\"{colour}\"")), "{colour}");
        }
        // The existing charts draw no marks and keep their minute ticks.
        let plain = lines_svg(&series, Unit::Ratio, 0.0, 60.0, (560, 240), 0).unwrap();
        assert!(!plain.contains("#6B21A8"));
        assert!(texts(&plain).contains(&"00:01".to_string()));
    }

    #[test]
    fn fine_ticks_and_label_slots() {
        assert_eq!(
            fine_time_ticks(5.0, 50.0, 0),
            (vec![10.0, 20.0, 30.0, 40.0, 50.0], 10.0)
        );
        assert_eq!(fine_time_ticks(0.0, 100.0, 0).1, 15.0);
        assert_eq!(
            fine_time_ticks(0.0, 3600.0, 0),
            (time_ticks(0.0, 3600.0, 0), 600.0)
        );
        // Far apart: one row; close together: the second row; near the
        // right edge: moved inside.
        assert_eq!(
            mark_label_slots(&[(100, 4), (300, 4)], 60, 540),
            vec![(100, 0), (300, 0)]
        );
        assert_eq!(
            mark_label_slots(&[(100, 4), (110, 4)], 60, 540),
            vec![(100, 0), (110, 1)]
        );
        assert_eq!(mark_label_slots(&[(540, 5)], 60, 540), vec![(519, 0)]);
    }

    /// The trimmed contents of every `<text>` element.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                Some(
                    t.split_once('>')?
                        .1
                        .split_once("</text>")?
                        .0
                        .trim()
                        .to_string(),
                )
            })
            .collect()
    }
}
