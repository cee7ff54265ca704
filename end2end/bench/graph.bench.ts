// The Traffic Graph page on a synthetic mesh of MESHDECK_BENCH_SERVICES
// services (every namespace): how long the browser takes to draw the graph
// once the API has answered, and frame times while panning and zooming.
// Prints figures; asserts only that a graph was drawn.
//
// With MESHDECK_BENCH_GRAPH_JSON (a `/api/graph` answer written by
// `cargo bench -p meshdeck --bench graph` with MESHDECK_BENCH_WRITE_GRAPH),
// the page gets that answer instead of the live one: the browser's side of
// a graph bigger than the live demo can serve on a small machine.
import * as fs from 'fs';
import { test, expect, Page } from '@playwright/test';

const recorded = process.env.MESHDECK_BENCH_GRAPH_JSON;

const services = Number(process.env.MESHDECK_BENCH_SERVICES ?? 500);
const namespaces = Array.from(
  { length: Math.ceil(services / 25) },
  (_, n) => `team${Math.floor(n / 4)}-ns${n}`,
);

/** Frame intervals (ms) while `act` runs, from requestAnimationFrame. */
async function frames(page: Page, act: () => Promise<void>): Promise<number[]> {
  await page.evaluate(() => {
    const w = window as any;
    // A new generation stops the loop of an earlier measurement.
    const generation = (w.__generation = (w.__generation ?? 0) + 1);
    w.__frames = [];
    w.__run = true;
    const tick = (t: number) => {
      if (generation !== w.__generation) return;
      w.__frames.push(t);
      if (w.__run) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await act();
  const stamps: number[] = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const w = window as any;
        // Two more frames, so the last input's frame is counted.
        requestAnimationFrame(() =>
          requestAnimationFrame(() => {
            w.__run = false;
            resolve(w.__frames);
          }),
        );
      }),
  );
  return stamps.slice(1).map((t, i) => t - stamps[i]);
}

/** A bulk graph's names: SVG text (before the canvas) or the canvas's list. */
const NAMES = '.bulk-label, .bulk-names button';

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

const fmt = (xs: number[]) =>
  `p50 ${quantile(xs, 0.5).toFixed(1)} ms, p95 ${quantile(xs, 0.95).toFixed(1)} ms, ` +
  `max ${Math.max(...xs).toFixed(1)} ms over ${xs.length} frames ` +
  `(${xs.filter((x) => x > 17.5).length} over 16.7 ms)`;

test(`graph of ${services} services: draw, pan and zoom`, async ({ page, request }) => {
  const query = `namespaces=${encodeURIComponent(namespaces.join(','))}&window=1m`;
  if (recorded) {
    const body = fs.readFileSync(recorded);
    await page.route(
      (url) => url.pathname === '/api/graph',
      (route) => route.fulfill({ status: 200, contentType: 'application/json', body }),
    );
  }
  // The demo starts without history: wait until two scrapes give rates.
  if (!recorded) await expect
    .poll(
      async () => {
        const r = await request.get(`/api/graph?${query}`, {
          headers: { Authorization: 'Bearer demo-token-admin' },
        });
        return r.ok() ? (await r.json()).edges.length : 0;
      },
      { intervals: [2000] },
    )
    .toBeGreaterThan(0);

  // Marks when the summary first names the node count (the drawing is in
  // the DOM) and the frame after it (painted).
  await page.addInitScript(() => {
    const w = window as any;
    w.__bench = {};
    const watch = () => {
      const s = document.querySelector('.graph-summary');
      if (!w.__bench.drawn && s && /[1-9]\d* nodes/.test(s.textContent ?? '')) {
        w.__bench.drawn = performance.now();
        requestAnimationFrame(() =>
          requestAnimationFrame(() => {
            w.__bench.painted = performance.now();
          }),
        );
      }
    };
    new MutationObserver(watch).observe(document, { subtree: true, childList: true, characterData: true });
  });
  await page.goto(`/graph?${query}`);
  await page.waitForFunction(() => (window as any).__bench.painted !== undefined, null, { timeout: 120_000 });
  const t = await page.evaluate(() => {
    const api = performance
      .getEntriesByType('resource')
      .filter((e) => e.name.includes('/api/graph?'))
      .pop() as PerformanceResourceTiming;
    const w = window as any;
    return {
      apiStart: api.startTime,
      apiEnd: api.responseEnd,
      bytes: api.encodedBodySize,
      drawn: w.__bench.drawn,
      painted: w.__bench.painted,
      svgElements: document.querySelectorAll('.graph-viewport svg *').length,
    };
  });
  const summary = (await page.locator('.graph-summary').textContent()) ?? '';
  expect(summary).toMatch(/[1-9]\d* nodes/);

  const pane = page.locator('.graph-viewport');
  const box = (await pane.boundingBox())!;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const pan = await frames(page, async () => {
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    for (let i = 1; i <= 60; i++) await page.mouse.move(cx + i * 4, cy + i * 2);
    await page.mouse.up();
  });
  const zoom = await frames(page, async () => {
    await page.mouse.move(cx, cy);
    for (let i = 0; i < 20; i++) await page.mouse.wheel(0, i < 10 ? -120 : 120);
    // The view box takes the zoom once the wheel rests: count that frame.
    await page.waitForTimeout(300);
  });

  // The view changing every frame: one zoom step per animation frame
  // (the toolbar's buttons, alternately in and out), each a full redraw.
  const everyFrame = await frames(page, async () => {
    await page.evaluate(
      () =>
        new Promise<void>((resolve) => {
          const inB = document.querySelector('button[aria-label="Zoom in"]') as HTMLButtonElement;
          const outB = document.querySelector('button[aria-label="Zoom out"]') as HTMLButtonElement;
          let n = 0;
          const step = () => {
            (n % 2 === 0 ? inB : outB).click();
            if (++n < 120) requestAnimationFrame(step);
            else resolve();
          };
          requestAnimationFrame(step);
        }),
    );
  });
  // Draw time as the page measures it (the canvas drawing marks each
  // frame it draws as a performance measure; the SVG drawing has none).
  const draws: number[] = await page.evaluate(() =>
    performance.getEntriesByName('meshdeck:graph-draw').map((e) => e.duration),
  );

  // A big graph redraws its names when a zoom ends: zoom in with the
  // button until names show, then three more steps, each a redraw.
  let named = '';
  if (/zoom in/.test(summary)) {
    const zoomIn = page.getByRole('button', { name: 'Zoom in' });
    await page.getByRole('button', { name: 'Fit' }).click();
    let steps = 0;
    while ((await page.locator(NAMES).count()) === 0 && steps < 25) {
      await zoomIn.click();
      steps++;
    }
    const redraw = await frames(page, async () => {
      for (let i = 0; i < 3; i++) await zoomIn.click();
    });
    named =
      `[bench]   names from zoom step ${steps} (${await page.locator(NAMES).count()} names after 3 more); ` +
      `zoom steps redrawing them: ${fmt(redraw)}`;
  }

  console.log(
    [
      `[bench] graph of ${services} services, ${namespaces.length} namespaces` +
        `${recorded ? ' (recorded answer)' : ''}: ${summary}`,
      `[bench]   /api/graph: ${(t.apiEnd - t.apiStart).toFixed(0)} ms, ${(t.bytes / 1024).toFixed(0)} KiB on the wire`,
      `[bench]   drawn ${(t.drawn - t.apiEnd).toFixed(0)} ms after the response, painted ${(t.painted - t.apiEnd).toFixed(0)} ms after it` +
        ` (${t.svgElements} SVG elements)`,
      `[bench]   pan:  ${fmt(pan)}`,
      `[bench]   zoom: ${fmt(zoom)}`,
      `[bench]   view changing every frame: ${fmt(everyFrame)}`,
      ...(draws.length ? [`[bench]   canvas draw (page's own measure): ${fmt(draws)}`] : []),
      ...(named ? [named] : []),
    ].join('\n'),
  );
});
