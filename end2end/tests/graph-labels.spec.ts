// Names on the Traffic Graph at scale: on a synthetic mesh of 500 services
// (about 950 nodes, drawn in bulk), names appear only once readable (9 px
// or more on screen), then for every dot in the pane, up to its left and
// right edges (not only those in the SVG's view box), with their namespace
// once the band's title is out of the pane; an ordinary graph hides its
// node names when zoomed out too far to read them.
//
// A demo of its own (ports 18099/18459): the synthetic mesh is not the
// shared demo's.
import { test, expect, OwnDemo } from './fixtures';
import type { Page } from '@playwright/test';

const PORT = 18099;
const KUBE_PORT = 18459;
const BASE = `http://127.0.0.1:${PORT}`;
const SERVICES = 500;
/** The synthetic mesh's namespaces: 25 services each, four per project. */
const NAMESPACES = Array.from({ length: SERVICES / 25 }, (_, n) => `team${Math.floor(n / 4)}-ns${n}`);
const BULK = `/graph?namespaces=${encodeURIComponent(NAMESPACES.join(','))}&window=1m`;
const SMALL = `/graph?namespaces=${encodeURIComponent(NAMESPACES.slice(0, 1).join(','))}&window=1m`;
/** Smallest readable name on screen, CSS px (graph::MIN_LABEL_PX). */
const MIN_PX = 9;
/** Bulk dots' radius in drawing units (R * 0.8 in pages/graph/canvas.rs). */
const DOT_R = 12.8;

let demo: OwnDemo | undefined;

test.describe.configure({ mode: 'serial' });
// Tall enough for the whole graph pane to be on screen.
test.use({ baseURL: BASE, viewport: { width: 1400, height: 1600 } });

test.beforeAll(async () => {
  test.setTimeout(180_000);
  demo = new OwnDemo([
    '--bind', `127.0.0.1:${PORT}`,
    '--kube-api-bind', `127.0.0.1:${KUBE_PORT}`,
    '--synthetic-services', String(SERVICES),
    '--graph-max-namespaces', String(NAMESPACES.length + 5),
  ]);
  // Ready, then two scrapes in: the graph has edges.
  await demo.waitFor(
    "the demo's graph stayed empty",
    () =>
      fetch(`${BASE}/api/graph?namespaces=${NAMESPACES[0]}&window=1m`, {
        headers: { Authorization: 'Bearer demo-token-admin' },
      }).then(async (r) => r.ok && ((await r.json()).edges.length as number) > 0),
    150_000,
    2000,
  );
});

test.afterAll(async () => {
  await demo?.stop();
});

interface Seen {
  pane: { left: number; right: number; top: number; bottom: number };
  /** Dots (screen px) inside the pane, and whether a name sits beside each. */
  dots: { x: number; y: number; named: boolean }[];
  /** Names: text, height on screen (px). */
  names: { text: string; px: number }[];
  /** Namespace titles inside the pane. */
  titles: string[];
}

/** What the bulk drawing shows: its dots in the pane, with or without a name. */
async function seen(page: Page): Promise<Seen> {
  return page.evaluate((r) => {
    const svg = document.querySelector('.graph-svg') as SVGSVGElement;
    const ctm = svg.getScreenCTM()!;
    const rect = svg.getBoundingClientRect();
    const pane = { left: rect.left, right: rect.right, top: rect.top, bottom: rect.bottom };
    const inPane = (p: DOMPoint) => p.x >= pane.left && p.x <= pane.right && p.y >= pane.top && p.y <= pane.bottom;
    const screen = (x: number, y: number) => new DOMPoint(x, y).matrixTransform(ctm);
    const labels = [...document.querySelectorAll('.bulk-label')].map((t) => {
      const font = Number(t.getAttribute('font-size'));
      return {
        x: Number(t.getAttribute('x')),
        y: Number(t.getAttribute('y')) - font * 0.35,
        text: t.textContent ?? '',
        px: font * ctm.a,
      };
    });
    // Each dot is `M<x - r> <y>a…` in its health class's path.
    const dots = [...document.querySelectorAll('.bulk-nodes')]
      .flatMap((p) => [...(p.getAttribute('d') ?? '').matchAll(/M(-?[\d.]+) (-?[\d.]+)a/g)])
      .map((m) => ({ x: Number(m[1]) + r, y: Number(m[2]) }))
      .filter((d) => inPane(screen(d.x, d.y)))
      .map((d) => {
        const s = screen(d.x, d.y);
        const named = labels.some((l) => Math.abs(l.y - d.y) < 2 && l.x > d.x && l.x - d.x < r + 20);
        return { x: s.x, y: s.y, named };
      });
    const titles = [...document.querySelectorAll('.ns-box text')]
      .filter((t) => inPane(screen(Number(t.getAttribute('x')), Number(t.getAttribute('y')))))
      .map((t) => t.textContent ?? '');
    return { pane, dots, names: labels.map(({ text, px }) => ({ text, px })), titles };
  }, DOT_R);
}

test('a big graph names its dots once readable, up to the edges of the pane', async ({ page }) => {
  await page.goto(BULK);
  await expect(page.locator('.graph-summary')).toContainText(/\d+ nodes/, { timeout: 60_000 });
  expect(await page.locator('.bulk-nodes').count()).toBeGreaterThan(0);
  // Fitted (about 0.1 px per unit): no names, they would be smudges.
  expect(await page.locator('.bulk-label').count()).toBe(0);
  // Zoom in step by step; names appear at the first step where they are
  // readable, never smaller.
  let steps = 0;
  while ((await page.locator('.bulk-label').count()) === 0) {
    expect(steps++, 'names never appeared').toBeLessThan(20);
    await page.getByRole('button', { name: 'Zoom in' }).click();
    await page.waitForTimeout(150);
    const s = await seen(page);
    for (const n of s.names) expect(n.px).toBeGreaterThanOrEqual(MIN_PX);
  }
  // Two steps further in.
  for (let i = 0; i < 2; i++) await page.getByRole('button', { name: 'Zoom in' }).click();
  await page.waitForTimeout(300);
  let s = await seen(page);
  expect(s.names.length).toBeGreaterThan(3);
  for (const n of s.names) expect(n.px).toBeGreaterThanOrEqual(MIN_PX);
  expect(s.dots.filter((d) => !d.named), 'dots without a name').toEqual([]);
  // Drag a dot to the pane's left edge, then one to its right edge: the
  // pane is wider than the view box there, and the dots keep their names.
  for (const edge of ['left', 'right'] as const) {
    const mid = (s.pane.top + s.pane.bottom) / 2;
    const d = s.dots.reduce((a, b) => (Math.abs(b.y - mid) < Math.abs(a.y - mid) ? b : a));
    const to = edge === 'left' ? s.pane.left + 20 : s.pane.right - 20;
    await page.mouse.move(d.x, d.y);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(d.x + ((to - d.x) * i) / 10, d.y);
    await page.mouse.up();
    await page.waitForTimeout(300);
    s = await seen(page);
    const near = s.dots.filter((p) => (edge === 'left' ? p.x < s.pane.left + 40 : p.x > s.pane.right - 40));
    expect(near.length, `dots at the ${edge} edge`).toBeGreaterThan(0);
    expect(near.every((p) => p.named), `names at the ${edge} edge`).toBe(true);
    expect(s.dots.filter((p) => !p.named), 'dots without a name').toEqual([]);
  }
  // Pressing on a dot to drag it also picked it: close its details.
  const close = page.getByRole('button', { name: 'Close details' });
  if (await close.isVisible()) await close.click();
  await page.locator('.graph-card').screenshot({ path: 'artifacts/graph-labels-bulk-zoomed.png' });
});

test('bulk names carry their namespace once its title is out of the pane', async ({ page }) => {
  await page.goto(BULK);
  await expect(page.locator('.graph-summary')).toContainText(/\d+ nodes/, { timeout: 60_000 });
  for (let i = 0; i < 14 && (await page.locator('.bulk-label').count()) === 0; i++) {
    await page.getByRole('button', { name: 'Zoom in' }).click();
  }
  for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Zoom in' }).click();
  await page.waitForTimeout(300);
  const s = await seen(page);
  const prefixed = s.names.filter((n) => n.text.includes('/'));
  // In the middle of the drawing, zoomed in, some bands' titles are out.
  expect(prefixed.length).toBeGreaterThan(0);
  for (const n of prefixed) {
    const ns = n.text.split('/')[0];
    expect(NAMESPACES).toContain(ns);
    expect(s.titles, `${ns}'s title is in the pane, yet ${n.text}`).not.toContain(ns);
  }
});

test('an ordinary graph hides names too small to read', async ({ page }) => {
  await page.goto(SMALL);
  await expect(page.locator('.graph-summary')).toContainText(/\d+ nodes/, { timeout: 60_000 });
  const shown = async () =>
    page.evaluate(() => {
      // Font size in drawing units times screen px per unit.
      const k = (document.querySelector('.graph-svg') as SVGSVGElement).getScreenCTM()!.a;
      return [...document.querySelectorAll('.node-label, .node-sub')]
        .filter((t) => getComputedStyle(t).display !== 'none')
        .map((t) => parseFloat(getComputedStyle(t).fontSize) * k);
    });
  for (let i = 0; i < 8; i++) {
    for (const h of await shown()) expect(h).toBeGreaterThanOrEqual(MIN_PX);
    await page.getByRole('button', { name: 'Zoom out' }).click();
    await page.waitForTimeout(150);
  }
  // Zoomed out far: no names at all; zooming in, they come back, readable.
  expect(await shown()).toEqual([]);
  for (let i = 0; (await shown()).length === 0; i++) {
    expect(i, 'names never came back').toBeLessThan(20);
    await page.getByRole('button', { name: 'Zoom in' }).click();
    await page.waitForTimeout(150);
  }
  for (const h of await shown()) expect(h).toBeGreaterThanOrEqual(MIN_PX);
});
