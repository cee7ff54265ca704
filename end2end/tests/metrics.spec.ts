// Traffic Metrics on the demo mesh: five charts with data, top-10 lists that
// link to a service's own metrics, controls that live in the URL.
import * as path from 'path';
import { test, expect } from './fixtures';

const CHARTS = ['Success Rate', 'Request Volume', '4xx Response Count', '5xx Response Count', 'Request Duration'];

test('the mesh view shows five charts with data and the top lists', async ({ page }) => {
  await page.goto('/metrics');
  await expect(page.getByRole('heading', { level: 1, name: 'Traffic Metrics' })).toBeVisible();
  for (const title of CHARTS) {
    const figure = page.getByRole('figure', { name: `${title} chart` });
    await expect(figure).toBeVisible();
    // A drawn chart, not the "No traffic" state.
    await expect(figure.getByRole('img', { name: /over time/ })).toBeVisible();
    expect(await figure.locator('svg polyline').count()).toBeGreaterThan(1);
    await expect(figure.getByText('No traffic')).toHaveCount(0);
  }
  const byVolume = page.getByRole('table', { name: 'Top 10 by request volume' });
  await expect(byVolume.getByRole('link', { name: 'productpage', exact: true })).toBeVisible();
  await page.screenshot({ path: path.join('artifacts', 'metrics-mesh.png'), fullPage: true });
});

test('a top-list link opens that service, and presets change the range', async ({ page }) => {
  await page.goto('/metrics');
  const byVolume = page.getByRole('table', { name: 'Top 10 by request volume' });
  await byVolume.getByRole('link', { name: 'reviews', exact: true }).click();
  await expect(page).toHaveURL(/scope=service&namespace=bookinfo&name=reviews/);
  await expect(page.getByLabel('Scope')).toHaveValue('service');
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('reviews');
  await expect(page.getByRole('figure', { name: 'Request Volume chart' }).getByRole('img', { name: /over time/ })).toBeVisible();
  await page.getByRole('group', { name: 'Time range' }).getByRole('button', { name: '15m' }).click();
  await expect(page).toHaveURL(/range=15m/);
  await expect(page.getByRole('group', { name: 'Time range' }).getByRole('button', { name: '15m' })).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByText(/a point every 15 s/)).toBeVisible();
});

test('a service without traffic shows the empty state, not an empty box', async ({ page }) => {
  await page.goto('/metrics?scope=workload&namespace=bookinfo&name=reviews-v1&direction=outbound&range=15m');
  // reviews-v1 calls nothing (only v2 and v3 call ratings).
  const volume = page.getByRole('figure', { name: 'Request Volume chart' });
  await expect(volume.getByText('No traffic')).toBeVisible();
});

test('bad parameters are explained by the error state', async ({ page, consoleErrors }) => {
  await page.goto('/metrics?range=90d');
  await expect(page.getByRole('alert')).toContainText('longest allowed');
  // The browser logs the failed fetch; that one is expected.
  expect(consoleErrors.every((e) => e.includes('400'))).toBe(true);
  consoleErrors.length = 0;
});

test('a member sees only their namespaces, and 403 for another project', async ({ page, consoleErrors }) => {
  await page.goto('/');
  await page.getByRole('combobox', { name: 'Demo identity' }).selectOption('alice');
  await expect(page.getByLabel('Signed-in identity')).toContainText('alice');
  await page.goto('/metrics');
  await expect(page.getByText(/namespaces: bookinfo$/)).toBeVisible();
  const byVolume = page.getByRole('table', { name: 'Top 10 by request volume' });
  await expect(byVolume.getByRole('link', { name: 'productpage', exact: true })).toBeVisible();
  await expect(byVolume.getByRole('link', { name: 'ledger', exact: true })).toHaveCount(0);
  await page.goto('/metrics?scope=namespace&namespace=payments');
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('HTTP 403');
  await expect(alert).toContainText('payments');
  await page.screenshot({ path: path.join('artifacts', 'metrics-forbidden.png'), fullPage: true });
  // The browser logs the refused fetch; that one is expected.
  expect(consoleErrors.every((e) => e.includes('403'))).toBe(true);
  consoleErrors.length = 0;
});

test('a custom range goes into the URL and the API request', async ({ page }) => {
  await page.goto('/metrics?range=1h');
  const requests: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/metrics?')) requests.push(r.url());
  });
  const controls = page.getByRole('region', { name: 'Metrics controls' });
  await controls.getByLabel('From', { exact: true }).fill('2026-01-02T10:00');
  await controls.getByLabel('To', { exact: true }).fill('2026-01-02T09:00');
  await controls.getByRole('button', { name: 'Apply' }).click();
  await expect(controls.getByRole('alert')).toHaveText('The end must be after the start.');
  await controls.getByLabel('To', { exact: true }).fill('2026-01-02T11:30');
  await controls.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/start=\d+&end=\d+/);
  const url = new URL(page.url());
  const start = Number(url.searchParams.get('start'));
  const end = Number(url.searchParams.get('end'));
  // 90 minutes apart, whatever the browser's time zone.
  expect(end - start).toBe(5400);
  await expect.poll(() => requests.some((r) => r.includes(`start=${start}`) && r.includes(`end=${end}`))).toBe(true);
  // No preset is pressed while a custom range is shown.
  await expect(page.getByRole('group', { name: 'Time range' }).locator('[aria-pressed="true"]')).toHaveCount(0);
});

test('auto-refresh reloads the charts on the chosen interval', async ({ page }) => {
  await page.clock.install();
  let loads = 0;
  page.on('request', (r) => {
    if (r.url().includes('/api/metrics?')) loads++;
  });
  await page.goto('/metrics?range=15m');
  const volume = page.getByRole('figure', { name: 'Request Volume chart' });
  await expect(volume.getByRole('img', { name: /over time/ })).toBeVisible();
  const first = loads;
  await page.clock.runFor(120_000);
  expect(loads).toBe(first);
  await page.getByLabel('Auto-refresh').selectOption('1m');
  await expect(page).toHaveURL(/refresh=1m/);
  // Choosing an interval loads nothing by itself...
  await page.waitForTimeout(500);
  expect(loads).toBe(first);
  // ...the timer does, once a minute.
  await page.clock.runFor(61_000);
  await expect.poll(() => loads).toBe(first + 1);
  await page.clock.runFor(60_000);
  await expect.poll(() => loads).toBe(first + 2);
});

test('Prometheus down: the page says so and the rest of the console works', async ({ page, consoleErrors }) => {
  // The server's answer when Prometheus does not respond (server/tests/metrics.rs checks it).
  await page.route((url) => url.pathname === '/api/metrics', (route) =>
    route.fulfill({
      status: 503,
      contentType: 'application/json',
      body: JSON.stringify({
        error: { code: 'upstream_unavailable', message: 'Prometheus is unavailable: connection refused' },
      }),
    }),
  );
  await page.goto('/metrics');
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('Prometheus is unavailable');
  await expect(alert).toContainText('503');
  await page.screenshot({ path: path.join('artifacts', 'metrics-prometheus-down.png'), fullPage: true });
  // Controls and navigation still work.
  await page.getByRole('group', { name: 'Time range' }).getByRole('button', { name: '6h' }).click();
  await expect(page).toHaveURL(/range=6h/);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Traffic Graph' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Traffic Graph' })).toBeVisible();
  expect(consoleErrors.every((e) => e.includes('503'))).toBe(true);
  consoleErrors.length = 0;
});
