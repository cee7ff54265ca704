//! Big graphs on a canvas: the bulk scene ([`graph::bulk_scene`]) becomes
//! one `Path2D` per style class once per graph, and every change of the
//! view (drag, wheel, buttons, a new size of the pane) redraws the whole
//! scene in the next animation frame, sharp at the new scale. The SVG of
//! small graphs keeps one element per node and edge (focusable, labelled);
//! here the names of the dots in the pane are a list of buttons beside the
//! canvas, for keyboards and screen readers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, Path2d};

use crate::graph::{self, BulkScene, DOT_R, Viewport};
use crate::types::NodeKind;

use super::{Selection, View};

/// Big graphs name at most this many nodes in view (once names are
/// readable, see [`graph::bulk_labels`]).
const BULK_LABELS: usize = 400;
/// Edges: width on screen (CSS px) and opacity.
const EDGE_PX: f64 = 0.7;
const EDGE_ALPHA: f64 = 0.35;
/// Namespace titles: size in drawing units (as the SVG's `.ns-box text`),
/// drawn while at least this big on screen.
const TITLE_FONT: f64 = 15.0;
const TITLE_MIN_PX: f64 = 5.0;
/// Below this radius on screen (CSS px) dots are drawn as squares.
const SPECK_PX: f64 = 1.5;
/// Wheel zoom: a notch (100 px of `deltaY`) scales by this much.
const WHEEL_STEP: f64 = 1.15;
/// How often the list of names beside the canvas follows a moving view.
const LIST_EVERY: Duration = Duration::from_millis(120);
/// The name of the performance measure each drawing adds (a bench reads
/// them); cleared after this many so the browser's buffer stays small.
const MEASURE: &str = "meshdeck:graph-draw";
const START: &str = "meshdeck:graph-draw-start";
const MEASURES_KEPT: u32 = 512;

/// A dot named in the pane: where (CSS px from the canvas's top left) and
/// how big its name is drawn.
#[derive(Clone, Debug, PartialEq)]
struct Named {
    node: usize,
    text: String,
    x: f64,
    y: f64,
    px: f64,
}

/// The scene as the canvas draws it: paths built once per graph.
struct Prepared {
    bands: Option<Path2d>,
    apps: Option<Path2d>,
    edges: Vec<(&'static str, Path2d)>,
    nodes: Vec<(&'static str, Path2d)>,
    specks: Vec<(&'static str, Path2d)>,
}

fn path(d: &str) -> Option<Path2d> {
    if d.is_empty() {
        return None;
    }
    Path2d::new_with_path_string(d).ok()
}

impl Prepared {
    fn new(scene: &BulkScene) -> Self {
        let each = |v: &[(&'static str, String)]| {
            v.iter()
                .filter_map(|(c, d)| path(d).map(|p| (*c, p)))
                .collect()
        };
        Prepared {
            bands: path(&scene.band_path),
            apps: path(&scene.app_path),
            edges: each(&scene.edges),
            nodes: each(&scene.nodes),
            specks: each(&scene.specks),
        }
    }
}

/// Colours from the style sheet's `--graph-*` properties (one place for
/// the SVG's and the canvas's), and its font.
struct Palette {
    colours: HashMap<&'static str, String>,
    font: String,
}

const COLOURS: [&str; 12] = [
    "healthy", "degraded", "failure", "idle", "tcp", "box", "box-line", "app-line", "ink",
    "ink-soft", "halo", "accent",
];

impl Palette {
    fn read(el: &web_sys::Element) -> Self {
        let style = web_sys::window().and_then(|w| w.get_computed_style(el).ok().flatten());
        let get = |name: &str| {
            style
                .as_ref()
                .and_then(|s| s.get_property_value(name).ok())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let colours = COLOURS
            .iter()
            .map(|c| {
                (
                    *c,
                    get(&format!("--graph-{c}")).unwrap_or_else(|| "#888".into()),
                )
            })
            .collect();
        Palette {
            colours,
            font: get("font-family").unwrap_or_else(|| "sans-serif".into()),
        }
    }

    fn colour(&self, key: &str) -> &str {
        self.colours.get(key).map_or("#888", String::as_str)
    }
}

/// The dots ringed besides those the find box matched (the view's
/// `found_nodes`).
struct Marks {
    selected: Option<usize>,
    focused: Option<usize>,
}

#[component]
pub(super) fn BulkCanvas(
    view: Signal<Arc<View>>,
    viewbox: RwSignal<(f64, f64, f64, f64)>,
    selection: RwSignal<Option<Selection>>,
    /// Whether the namespace boxes (and their titles) are drawn.
    titles: bool,
    /// Height of the pane in CSS px.
    height: Signal<f64>,
    /// Opens an overview's namespace node into its members.
    on_expand: Callback<(Vec<String>, bool)>,
    /// Zooms the view by `k` (above 1: out) about a point of the pane.
    zoom: Callback<(Viewport, f64, (f64, f64))>,
) -> impl IntoView {
    let canvas_ref = NodeRef::<leptos::html::Canvas>::new();
    let scene = Memo::new(move |_| {
        let vm = view.get();
        let bands = if titles {
            super::canvas::band_boxes(&vm)
        } else {
            Vec::new()
        };
        Arc::new(graph::bulk_scene(&vm.graph, &vm.layout, bands))
    });
    // Path2D and the palette live in the browser only; rebuilt when the
    // scene changes.
    let prepared = StoredValue::new_local(None::<(Arc<BulkScene>, Prepared)>);
    let palette = StoredValue::new_local(None::<Palette>);
    let focused = RwSignal::new(None::<usize>);
    let named = RwSignal::new(Vec::<Named>::new());
    let titles_shown = RwSignal::new(Vec::<String>::new());
    let pending = StoredValue::new(false);
    let list_timer = StoredValue::new(None::<TimeoutHandle>);
    let listed_at = StoredValue::new(0.0f64);
    let measures = StoredValue::new(0u32);

    let draw = move || {
        let Some(canvas) = canvas_ref.get_untracked() else {
            return;
        };
        let canvas: HtmlCanvasElement = canvas;
        let perf = web_sys::window().and_then(|w| w.performance());
        if let Some(p) = &perf {
            let _ = p.mark(START);
        }
        let vm = view.get_untracked();
        let sc = scene.get_untracked();
        prepared.update_value(|p| {
            if p.as_ref().is_none_or(|(s, _)| !Arc::ptr_eq(s, &sc)) {
                *p = Some((sc.clone(), Prepared::new(&sc)));
            }
        });
        if palette.with_value(Option::is_none) {
            palette.set_value(Some(Palette::read(&canvas)));
        }
        let vp = Viewport {
            view_box: viewbox.get_untracked(),
            pane: (
                f64::from(canvas.client_width()).max(1.0),
                f64::from(canvas.client_height()).max(1.0),
            ),
        };
        let marks = Marks {
            selected: match selection.get_untracked() {
                Some(Selection::Node(id)) => vm.index.get(&id).copied(),
                _ => None,
            },
            focused: focused.get_untracked(),
        };
        let drawn = prepared.with_value(|p| {
            palette.with_value(|pal| {
                let (Some((sc, prep)), Some(pal)) = (p, pal) else {
                    return None;
                };
                paint(&canvas, sc, prep, pal, &vm, &vp, titles, &marks)
            })
        });
        if let Some(perf) = perf {
            let _ = perf.measure_with_start_mark(MEASURE, START);
            perf.clear_marks_with_mark_name(START);
            let n = measures.get_value() + 1;
            measures.set_value(n % MEASURES_KEPT);
            if n >= MEASURES_KEPT {
                perf.clear_measures_with_measure_name(MEASURE);
            }
        }
        // The list beside the canvas follows at most every LIST_EVERY
        // while the view moves, and with the last view once it rests.
        if let Some((names, bands)) = drawn {
            if let Some(h) = list_timer.get_value() {
                h.clear();
            }
            let now = js_sys::Date::now();
            let update = move || {
                // Gone meanwhile (a new graph, another page): nothing to do.
                if listed_at.try_set_value(js_sys::Date::now()).is_some() {
                    return;
                }
                named.set(names);
                titles_shown.set(bands);
            };
            if now - listed_at.get_value() >= LIST_EVERY.as_millis() as f64 {
                update();
            } else {
                list_timer.set_value(set_timeout_with_handle(update, LIST_EVERY).ok());
            }
        }
    };
    let schedule = move || {
        if pending.get_value() {
            return;
        }
        pending.set_value(true);
        request_animation_frame(move || {
            // The canvas may be gone by the next frame (a new graph, another
            // page); its values are disposed with it.
            if pending.try_set_value(false).is_some() {
                return;
            }
            draw();
        });
    };
    Effect::new(move |_| {
        // The scene follows the view: tracking the view redraws for both.
        view.track();
        viewbox.track();
        selection.track();
        focused.track();
        height.track();
        schedule();
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| schedule());
    on_cleanup(move || resize.remove());

    let vp_now = move || {
        let pane = canvas_ref.get_untracked().map_or((1100.0, 760.0), |c| {
            (
                f64::from(c.client_width()).max(1.0),
                f64::from(c.client_height()).max(1.0),
            )
        });
        Viewport {
            view_box: viewbox.get_untracked(),
            pane,
        }
    };
    let zoom = move |k: f64, at: (f64, f64)| zoom.run((vp_now(), k, at));
    let local = |ev: &web_sys::MouseEvent| (f64::from(ev.offset_x()), f64::from(ev.offset_y()));
    let on_wheel = move |ev: web_sys::WheelEvent| {
        ev.prevent_default();
        // Lines and pages as about 40 and 800 px.
        let unit = match ev.delta_mode() {
            1 => 40.0,
            2 => 800.0,
            _ => 1.0,
        };
        let k = WHEEL_STEP.powf((ev.delta_y() * unit / 100.0).clamp(-5.0, 5.0));
        zoom(k, local(&ev));
    };
    // A drag: the pointer's last position and how far it went in all.
    let drag = StoredValue::new(None::<((f64, f64), f64)>);
    let moved = StoredValue::new(0.0f64);
    let on_down = move |ev: web_sys::PointerEvent| {
        if ev.button() != 0 {
            return;
        }
        if let Some(c) = canvas_ref.get_untracked() {
            let _ = c.set_pointer_capture(ev.pointer_id());
        }
        drag.set_value(Some((local(&ev), 0.0)));
        moved.set_value(0.0);
    };
    // Over a dot (not dragging): the pointer says it can be picked.
    let over_dot = RwSignal::new(false);
    let on_move = move |ev: web_sys::PointerEvent| {
        let Some((last, far)) = drag.get_value() else {
            let p = vp_now().to_drawing(local(&ev));
            let over = view.with_untracked(|v| {
                graph::hit_test(&v.layout.positions, p.0, p.1, DOT_R * 1.5).is_some()
            });
            if over != over_dot.get_untracked() {
                over_dot.set(over);
            }
            return;
        };
        let now = local(&ev);
        let d = (now.0 - last.0, now.1 - last.1);
        if d.0 == 0.0 && d.1 == 0.0 {
            return;
        }
        drag.set_value(Some((now, far + d.0.abs() + d.1.abs())));
        moved.set_value(far + d.0.abs() + d.1.abs());
        viewbox.set(vp_now().panned(d));
    };
    let on_up = move |_: web_sys::PointerEvent| drag.set_value(None);
    // Picking a dot: an overview's namespace opens into its members (as
    // in the SVG); any other node opens its details.
    let pick = move |vm: &View, i: usize| {
        let Some(n) = vm.graph.nodes.get(i) else {
            return;
        };
        if let Some(namespaces) = super::canvas::expands_to(&vm.graph, n) {
            on_expand.run((namespaces, true));
        } else {
            selection.set(Some(Selection::Node(n.id.clone())));
        }
    };
    // A click (not the end of a drag) picks the nearest dot.
    let on_click = move |ev: web_sys::MouseEvent| {
        if moved.get_value() > 4.0 {
            return;
        }
        let p = vp_now().to_drawing(local(&ev));
        let vm = view.get_untracked();
        if let Some(i) = graph::hit_test(&vm.layout.positions, p.0, p.1, DOT_R * 1.5) {
            pick(&vm, i);
        }
    };
    // Keys: arrows pan, + and - zoom about the middle.
    let on_key = move |ev: web_sys::KeyboardEvent| {
        let vp = vp_now();
        let middle = (vp.pane.0 / 2.0, vp.pane.1 / 2.0);
        let next = match ev.key().as_str() {
            "ArrowLeft" => vp.panned((60.0, 0.0)),
            "ArrowRight" => vp.panned((-60.0, 0.0)),
            "ArrowUp" => vp.panned((0.0, 60.0)),
            "ArrowDown" => vp.panned((0.0, -60.0)),
            "+" | "=" | "-" | "_" => {
                ev.prevent_default();
                let k = if matches!(ev.key().as_str(), "+" | "=") {
                    1.0 / 1.25
                } else {
                    1.25
                };
                zoom(k, middle);
                return;
            }
            _ => return,
        };
        ev.prevent_default();
        viewbox.set(next);
    };
    let label = move || {
        let n = view.with(|v| v.graph.nodes.len());
        format!(
            "Service graph of {n} nodes, drawn as dots; zoom in for names. Arrow keys pan, + and - zoom."
        )
    };
    view! {
        <canvas
            node_ref=canvas_ref
            class="graph-canvas"
            tabindex="0"
            role="img"
            aria-label=label
            style=move || {
                format!(
                    "height: {:.0}px{}",
                    height.get(),
                    if over_dot.get() { "; cursor: pointer" } else { "" }
                )
            }
            on:wheel=on_wheel
            on:pointerdown=on_down
            on:pointermove=on_move
            on:pointerup=on_up
            on:pointercancel=on_up
            on:click=on_click
            on:keydown=on_key
        ></canvas>
        <ul class="sr-only bulk-titles" aria-label="Namespaces in view">
            {move || titles_shown.get().into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}
        </ul>
        <ol class="sr-only bulk-names" aria-label="Named nodes in view">
            {move || {
                named
                    .get()
                    .into_iter()
                    .map(|n| {
                        let node = n.node;
                        view! {
                            <li>
                                <button
                                    type="button"
                                    data-x=format!("{:.1}", n.x)
                                    data-y=format!("{:.1}", n.y)
                                    data-px=format!("{:.2}", n.px)
                                    on:focus=move |_| focused.set(Some(node))
                                    on:blur=move |_| focused.set(None)
                                    on:click=move |_| pick(&view.get_untracked(), node)
                                >
                                    {n.text}
                                </button>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ol>
    }
}

/// Draws the scene for one view; answers the names drawn and the
/// namespaces whose titles are in the pane.
#[allow(clippy::too_many_arguments)]
fn paint(
    canvas: &HtmlCanvasElement,
    scene: &BulkScene,
    prep: &Prepared,
    pal: &Palette,
    vm: &View,
    vp: &Viewport,
    titles: bool,
    marks: &Marks,
) -> Option<(Vec<Named>, Vec<String>)> {
    let dpr = web_sys::window()
        .map_or(1.0, |w| w.device_pixel_ratio())
        .max(1.0);
    let (w, h) = (
        (vp.pane.0 * dpr).round() as u32,
        (vp.pane.1 * dpr).round() as u32,
    );
    if canvas.width() != w || canvas.height() != h {
        canvas.set_width(w);
        canvas.set_height(h);
    }
    let ctx: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0).ok()?;
    ctx.clear_rect(0.0, 0.0, f64::from(w), f64::from(h));
    // Drawing units to device pixels.
    let k = vp.scale();
    let m = k * dpr;
    let (vx, vy, _, _) = vp.visible();
    ctx.set_transform(m, 0.0, 0.0, m, -vx * m, -vy * m).ok()?;
    let px = |css: f64| css / k;
    let no_dash = js_sys::Array::new();
    let dash = |a: f64, b: f64| {
        let arr = js_sys::Array::new();
        arr.push(&a.into());
        arr.push(&b.into());
        arr
    };
    // Namespace boxes: filled, dashed outline.
    if let Some(bands) = &prep.bands {
        ctx.set_fill_style_str(pal.colour("box"));
        ctx.fill_with_path_2d(bands);
        ctx.set_stroke_style_str(pal.colour("box-line"));
        // Dashes measured on screen: in drawing units a fitted big graph's
        // boxes would be tens of thousands of sub-pixel dashes per frame.
        ctx.set_line_width(px(1.0).min(1.0));
        let _ = ctx.set_line_dash(&dash(px(5.0), px(4.0)));
        ctx.stroke_with_path(bands);
        let _ = ctx.set_line_dash(&no_dash);
    }
    if let Some(apps) = &prep.apps {
        ctx.set_stroke_style_str(pal.colour("app-line"));
        ctx.set_line_width(px(0.6));
        ctx.stroke_with_path(apps);
    }
    // Edges, faint, so that where many run the bundle shows.
    ctx.set_global_alpha(EDGE_ALPHA);
    ctx.set_line_width(px(EDGE_PX));
    for (class, p) in &prep.edges {
        ctx.set_stroke_style_str(pal.colour(class));
        if *class == "idle" {
            let _ = ctx.set_line_dash(&dash(px(4.0), px(3.0)));
        }
        ctx.stroke_with_path(p);
        if *class == "idle" {
            let _ = ctx.set_line_dash(&no_dash);
        }
    }
    ctx.set_global_alpha(1.0);
    // Dots, with a white rim once it shows; squares while a dot is a
    // pixel or two across.
    let rim = DOT_R * k >= 2.0;
    ctx.set_stroke_style_str(pal.colour("halo"));
    ctx.set_line_width(px(0.8));
    let dots = if DOT_R * k < SPECK_PX {
        &prep.specks
    } else {
        &prep.nodes
    };
    for (class, p) in dots {
        ctx.set_fill_style_str(pal.colour(class));
        ctx.fill_with_path_2d(p);
        if rim {
            ctx.stroke_with_path(p);
        }
    }
    // Rings: found by the find box, focused from the list, selected.
    let ring = |i: usize, colour: &str, width: f64| {
        if let Some(&(x, y)) = vm.layout.positions.get(i) {
            ctx.begin_path();
            let r = DOT_R + px(2.0 + width / 2.0);
            let _ = ctx.arc(x, y, r, 0.0, std::f64::consts::TAU);
            ctx.set_stroke_style_str(colour);
            ctx.set_line_width(px(width));
            ctx.stroke();
        }
    };
    for &i in &vm.found_nodes {
        ring(i, "#7c3aed", 2.5);
    }
    if let Some(i) = marks.focused {
        ring(i, pal.colour("ink"), 2.0);
    }
    if let Some(i) = marks.selected {
        ring(i, pal.colour("accent"), 3.0);
    }
    // Text in CSS pixels.
    ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0).ok()?;
    ctx.set_line_join("round");
    let mut shown_titles = Vec::new();
    if titles && TITLE_FONT * k >= TITLE_MIN_PX {
        ctx.set_font(&format!("600 {:.2}px {}", TITLE_FONT * k, pal.font));
        ctx.set_fill_style_str(pal.colour("ink-soft"));
        for b in &scene.bands {
            if vp.shows(b.title_at) {
                let (x, y) = vp.to_screen(b.title_at);
                let _ = ctx.fill_text(&b.name, x, y);
                shown_titles.push(b.name.clone());
            }
        }
    }
    let mut named = Vec::new();
    if let Some(plan) = graph::bulk_labels(&vm.layout, vp, titles, BULK_LABELS) {
        let size = plan.font * k;
        ctx.set_font(&format!("{size:.2}px {}", pal.font));
        ctx.set_stroke_style_str(pal.colour("halo"));
        ctx.set_line_width(2.5);
        ctx.set_fill_style_str(pal.colour("ink"));
        for (i, prefix) in plan.names {
            let n = &vm.graph.nodes[i];
            let text = if prefix && n.kind != NodeKind::Unknown {
                format!("{}/{}", n.namespace, n.name)
            } else {
                n.name.clone()
            };
            let (x, y) = vp.to_screen(vm.layout.positions[i]);
            let (tx, ty) = (x + DOT_R * k + 3.0, y + size * 0.35);
            let _ = ctx.stroke_text(&text, tx, ty);
            let _ = ctx.fill_text(&text, tx, ty);
            named.push(Named {
                node: i,
                text,
                x,
                y,
                px: size,
            });
        }
    }
    Some((named, shown_titles))
}
