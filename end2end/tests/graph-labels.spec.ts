// Names on the Traffic Graph at scale: on a synthetic mesh of 500 services
// (about 950 nodes, drawn in bulk on a canvas), names appear only once
// readable (9 px or more on screen), then for every dot in the pane (found
// in the canvas's pixels), up to its left and right edges, with their
// namespace once the band's title is out of the pane; an ordinary graph
// (SVG) hides its node names when zoomed out too far to read them.
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
  /** Dots found in the canvas's pixels (screen px), whole in the pane, and
   * whether the list of names has one for a dot there. */
  dots: { x: number; y: number; named: boolean }[];
  /** Names the page lists as drawn: text, height on screen (px), and the
   * centre of the dot named (screen px). */
  names: { text: string; px: number; x: number; y: number }[];
  /** Namespace titles drawn in the pane. */
  titles: string[];
}

/** What the bulk canvas shows. The dots come from its pixels, not from the
 * page's own account: runs of a node colour (the style sheet's
 * `--graph-*`, drawn opaque; edges are drawn translucent), grouped into
 * connected blobs; their centres are matched against the names the page
 * lists beside the canvas (`.bulk-names`, each with the centre of the dot
 * it names). */
async function seen(page: Page): Promise<Seen> {
  return page.evaluate(() => {
    const canvas = document.querySelector('.graph-canvas') as HTMLCanvasElement;
    const rect = canvas.getBoundingClientRect();
    const pane = { left: rect.left, right: rect.right, top: rect.top, bottom: rect.bottom };
    const names = [...document.querySelectorAll('.bulk-names button')].map((b) => ({
      text: b.textContent ?? '',
      x: rect.left + Number(b.getAttribute('data-x')),
      y: rect.top + Number(b.getAttribute('data-y')),
      px: Number(b.getAttribute('data-px')),
    }));
    const titles = [...document.querySelectorAll('.bulk-titles li')].map((t) => t.textContent ?? '');
    const style = getComputedStyle(canvas);
    const colours = ['healthy', 'degraded', 'failure', 'idle'].map((c) => {
      const hex = style.getPropertyValue(`--graph-${c}`).trim();
      return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    });
    const { width: w, height: h } = canvas;
    const px = canvas.getContext('2d')!.getImageData(0, 0, w, h).data;
    const dotColour = (i: number) =>
      px[i * 4 + 3] > 250 &&
      colours.some((c) => Math.abs(px[i * 4] - c[0]) < 6 && Math.abs(px[i * 4 + 1] - c[1]) < 6 && Math.abs(px[i * 4 + 2] - c[2]) < 6);
    const seenPx = new Uint8Array(w * h);
    const dpr = w / rect.width;
    const dots: { x: number; y: number; named: boolean }[] = [];
    for (let start = 0; start < w * h; start++) {
      if (seenPx[start] || !dotColour(start)) continue;
      // Flood fill one blob.
      const stack = [start];
      seenPx[start] = 1;
      let n = 0, sx = 0, sy = 0, x0 = w, x1 = 0, y0 = h, y1 = 0;
      while (stack.length) {
        const i = stack.pop()!;
        const x = i % w, y = (i - x) / w;
        n++; sx += x; sy += y;
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
        for (const j of [x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, y > 0 ? i - w : -1, y < h - 1 ? i + w : -1]) {
          if (j >= 0 && !seenPx[j] && dotColour(j)) { seenPx[j] = 1; stack.push(j); }
        }
      }
      // Whole dots only (not cut by the pane's edge): round blobs, not
      // specks nor runs of edges (where many thin lines overlap, their
      // colour adds up to opaque).
      const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
      if (n < 30 || bw < 6 || bh < 6 || Math.abs(bw - bh) > 2 || n < 0.6 * bw * bh) continue;
      if (x0 === 0 || y0 === 0 || x1 === w - 1 || y1 === h - 1) continue;
      const x = rect.left + sx / n / dpr, y = rect.top + sy / n / dpr;
      const named = names.some((m) => Math.abs(m.x - x) < 2.5 && Math.abs(m.y - y) < 2.5);
      dots.push({ x, y, named });
    }
    return { pane, dots, names, titles };
  });
}

test('a big graph names its dots once readable, up to the edges of the pane', async ({ page }) => {
  await page.goto(BULK);
  await expect(page.locator('.graph-summary')).toContainText(/\d+ nodes/, { timeout: 60_000 });
  await expect(page.locator('.graph-canvas')).toBeVisible();
  // Fitted (about 0.1 px per unit): no names, they would be smudges.
  await page.waitForTimeout(300);
  expect(await page.locator('.bulk-names button').count()).toBe(0);
  // Zoom in step by step; names appear at the first step where they are
  // readable, never smaller.
  let steps = 0;
  while ((await page.locator('.bulk-names button').count()) === 0) {
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
  // A drag does not pick the dot it started on; close details if open.
  const close = page.getByRole('button', { name: 'Close details' });
  if (await close.isVisible()) await close.click();
  await page.locator('.graph-card').screenshot({ path: 'artifacts/graph-labels-bulk-zoomed.png' });
});

test('a click on a dot opens its details; the wheel zooms about the pointer', async ({ page }) => {
  await page.goto(BULK);
  await expect(page.locator('.graph-summary')).toContainText(/\d+ nodes/, { timeout: 60_000 });
  for (let i = 0; i < 20 && (await page.locator('.bulk-names button').count()) === 0; i++) {
    await page.getByRole('button', { name: 'Zoom in' }).click();
    await page.waitForTimeout(150);
  }
  await page.getByRole('button', { name: 'Zoom in' }).click();
  await page.waitForTimeout(300);
  let s = await seen(page);
  const mid = { x: (s.pane.left + s.pane.right) / 2, y: (s.pane.top + s.pane.bottom) / 2 };
  const dist = (a: { x: number; y: number }, b: { x: number; y: number }) => Math.hypot(a.x - b.x, a.y - b.y);
  const d = s.dots.reduce((a, b) => (dist(b, mid) < dist(a, mid) ? b : a));
  const name = s.names.find((n) => dist(n, d) < 2.5)!;
  expect(name, 'the dot nearest the middle has a name').toBeDefined();
  // The wheel, over that dot: it stays under the pointer, bigger.
  await page.mouse.move(d.x, d.y);
  await page.mouse.wheel(0, -300);
  await page.waitForTimeout(300);
  s = await seen(page);
  const after = s.dots.reduce((a, b) => (dist(b, d) < dist(a, d) ? b : a));
  expect(dist(after, d), 'the dot under the pointer moved').toBeLessThan(2);
  const again = s.names.find((n) => dist(n, after) < 2.5)!;
  expect(again.text).toBe(name.text);
  expect(again.px).toBeGreaterThanOrEqual(name.px);
  // A click on it: its details, by its name.
  await page.mouse.click(after.x, after.y);
  const short = name.text.split('/').pop()!;
  await expect(page.locator('.side-panel h2').first()).toContainText(`${short} (`);
});

test('bulk names carry their namespace once its title is out of the pane', async ({ page }) => {
  await page.goto(BULK);
  await expect(page.locator('.graph-summary')).toContainText(/\d+ nodes/, { timeout: 60_000 });
  for (let i = 0; i < 14 && (await page.locator('.bulk-names button').count()) === 0; i++) {
    await page.getByRole('button', { name: 'Zoom in' }).click();
  }
  for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Zoom in' }).click();
  await page.waitForTimeout(300);
  // Down the drawing, a third of the pane at a time, until the pane holds
  // dots of a band whose title has gone out at the top.
  let s = await seen(page);
  let prefixed = s.names.filter((n) => n.text.includes('/'));
  for (let i = 0; i < 12 && prefixed.length === 0; i++) {
    const x = (s.pane.left + s.pane.right) / 2;
    const y = (s.pane.top + s.pane.bottom) / 2;
    const rise = (s.pane.bottom - s.pane.top) / 3;
    await page.mouse.move(x, y);
    await page.mouse.down();
    for (let k = 1; k <= 5; k++) await page.mouse.move(x, y - (rise * k) / 5);
    await page.mouse.up();
    await page.waitForTimeout(300);
    s = await seen(page);
    prefixed = s.names.filter((n) => n.text.includes('/'));
  }
  expect(prefixed.length, 'no name carried its namespace').toBeGreaterThan(0);
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
