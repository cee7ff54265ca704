// The Prometheus page on the demo: the PromQL console (instant table, range
// chart, Prometheus' own error), the built-in dashboards, and members kept out.
import * as path from 'path';
import { test, expect } from './fixtures';

const BY_SERVICE = 'sum by (destination_service_name) (rate(istio_requests_total{reporter="destination"}[5m]))';

test('an owner runs instant and range queries and sees Prometheus errors as stated', async ({ page, consoleErrors }) => {
  await page.goto('/prometheus');
  await expect(page.getByRole('heading', { level: 1, name: 'Prometheus' })).toBeVisible();
  await expect(page.getByRole('tab', { name: 'Console' })).toHaveAttribute('aria-selected', 'true');

  // Instant: a table of labels and values.
  const editor = page.getByRole('textbox', { name: 'PromQL query' });
  await editor.fill(BY_SERVICE);
  await editor.press('Control+Enter');
  const table = page.getByRole('table', { name: 'Result table' });
  await expect(table).toContainText('destination_service_name="details"');
  await expect(table).toContainText('destination_service_name="productpage"');
  expect(await table.locator('tbody tr').count()).toBeGreaterThan(3);
  await expect(page.getByText(/Instant vector: \d+ series/)).toBeVisible();
  await page.screenshot({ path: path.join('artifacts', 'console-instant.png'), fullPage: true });

  // Range: one line per series, with a legend.
  await page.getByRole('group', { name: 'Query type' }).getByRole('button', { name: 'Range' }).click();
  await page.getByRole('group', { name: 'Query range' }).getByRole('button', { name: '15m' }).click();
  await page.getByRole('button', { name: 'Run query' }).click();
  const result = page.getByRole('region', { name: 'Query result' });
  await expect(result.getByRole('img', { name: 'Query result over time' })).toBeVisible();
  expect(await result.locator('svg polyline').count()).toBeGreaterThan(3);
  await expect(result.getByRole('list', { name: 'Legend' })).toContainText('{destination_service_name="details"}');
  await expect(result.getByText(/Range result: \d+ series/)).toBeVisible();
  await page.screenshot({ path: path.join('artifacts', 'console-range.png'), fullPage: true });

  // A syntax error: status 400 and Prometheus' own message.
  await editor.fill('sum(rate(istio_requests_total[5m]');
  await page.getByRole('button', { name: 'Run query' }).click();
  const error = page.getByRole('alert').filter({ hasText: 'parse error' });
  await expect(error).toContainText('unclosed left parenthesis');
  await expect(error).toContainText('HTTP 400');
  await page.screenshot({ path: path.join('artifacts', 'console-error.png'), fullPage: true });
  // The browser logs the failed fetch; that one is expected.
  expect(consoleErrors.every((e) => e.includes('400'))).toBe(true);
  consoleErrors.length = 0;

  // The history keeps both queries, most recent first, and refills the editor.
  await page.getByText(/History \(2 queries\)/).click();
  const history = page.getByRole('list', { name: 'Query history' });
  await expect(history.getByRole('button')).toHaveCount(2);
  await history.getByRole('button').nth(1).click();
  await expect(editor).toHaveValue(BY_SERVICE);
});

test('the mesh dashboard shows panels with data, their PromQL and the services', async ({ page }) => {
  await page.goto('/prometheus');
  await page.getByRole('tab', { name: 'Mesh dashboard' }).click();
  await expect(page).toHaveURL(/tab=mesh/);
  await expect(page.getByRole('tab', { name: 'Mesh dashboard' })).toHaveAttribute('aria-selected', 'true');
  for (const title of ['Global request volume', 'Global success rate (non-5xx)', 'Request volume by service']) {
    const panel = page.getByRole('figure', { name: `${title} panel` });
    await expect(panel.getByRole('img', { name: /over time/ })).toBeVisible();
    expect(await panel.locator('svg polyline').count()).toBeGreaterThan(1);
  }
  await expect(page.getByRole('figure', { name: '4xx and 5xx responses panel' })).toBeVisible();
  const volume = page.getByRole('figure', { name: 'Global request volume panel' });
  const promql = volume.getByText('sum(rate(istio_requests_total{reporter="destination"}', { exact: false });
  await expect(promql).toBeHidden();
  await volume.getByText('PromQL').click();
  await expect(promql).toBeVisible();
  const services = page.getByRole('table', { name: 'Services' });
  await expect(services.getByRole('link', { name: 'productpage' })).toBeVisible();
  await page.screenshot({ path: path.join('artifacts', 'dashboard-mesh.png'), fullPage: true });

  // A service opens its own dashboard, with the choice in the URL.
  await services.getByRole('link', { name: 'details' }).click();
  await expect(page).toHaveURL(/tab=service&namespace=bookinfo&name=details/);
  await expect(page.getByLabel('Service', { exact: true })).toHaveValue('details');
  const bySource = page.getByRole('figure', { name: 'Incoming requests by source panel' });
  await expect(bySource.getByRole('img', { name: /over time/ })).toBeVisible();
  await expect(bySource.getByRole('list', { name: 'Legend' })).toContainText('productpage-v1.bookinfo');
  await expect(page.getByRole('figure', { name: 'Incoming request size panel' }).getByRole('img', { name: /over time/ })).toBeVisible();
  await page.screenshot({ path: path.join('artifacts', 'dashboard-service.png'), fullPage: true });

  await page.getByRole('tab', { name: 'Workload dashboard' }).click();
  await page.getByLabel('Namespace').selectOption('bookinfo');
  await page.getByLabel('Workload', { exact: true }).selectOption('ratings-v1');
  await expect(page).toHaveURL(/tab=workload&namespace=bookinfo&name=ratings-v1/);
  await expect(page.getByRole('figure', { name: 'Outbound TCP bytes panel' }).getByRole('img', { name: /over time/ })).toBeVisible();
});

test('a dashboard refreshes itself at the chosen interval', async ({ page }) => {
  // A fake clock: thirty seconds pass at once.
  await page.clock.install();
  let loads = 0;
  page.on('request', (r) => {
    if (r.url().includes('/api/dashboards/mesh')) loads++;
  });
  await page.goto('/prometheus?tab=mesh');
  const volume = page.getByRole('figure', { name: 'Global request volume panel' });
  await expect(volume.getByRole('img', { name: /over time/ })).toBeVisible();
  // Off by default: time passing loads nothing.
  const first = loads;
  await page.clock.runFor(60_000);
  expect(loads).toBe(first);
  await page.getByLabel('Auto-refresh').selectOption('30s');
  await expect(page).toHaveURL(/tab=mesh.*refresh=30s/);
  await expect(volume.getByRole('img', { name: /over time/ })).toBeVisible();
  // Choosing an interval loads nothing by itself; the timer does.
  await page.waitForTimeout(500);
  expect(loads).toBe(first);
  await page.clock.runFor(31_000);
  await expect.poll(() => loads).toBe(first + 1);
  // The choice stays when switching dashboards.
  await page.getByRole('tab', { name: 'Service dashboard' }).click();
  await expect(page).toHaveURL(/tab=service.*refresh=30s/);
  await expect(page.getByLabel('Auto-refresh')).toHaveValue('30s');
});

test('queries can be evaluated at a chosen time instead of now', async ({ page }) => {
  await page.goto('/prometheus');
  const editor = page.getByRole('textbox', { name: 'PromQL query' });
  await editor.fill(BY_SERVICE);
  await page.getByRole('group', { name: 'Query type' }).getByRole('button', { name: 'Range' }).click();
  await page.getByRole('group', { name: 'Query range' }).getByRole('button', { name: '15m' }).click();
  // Half an hour ago, to the minute, in the browser's own zone.
  const [local, epoch] = await page.evaluate(() => {
    const t = new Date(Date.now() - 30 * 60 * 1000);
    t.setSeconds(0, 0);
    const pad = (n: number) => String(n).padStart(2, '0');
    const text = `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}T${pad(t.getHours())}:${pad(t.getMinutes())}`;
    return [text, t.getTime() / 1000] as const;
  });
  await page.getByLabel('Evaluation time').fill(local);
  const sent = page.waitForRequest((r) => r.url().endsWith('/api/prometheus/query') && r.method() === 'POST');
  await page.getByRole('button', { name: 'Run query' }).click();
  const body = (await sent).postDataJSON();
  expect([body.start, body.end]).toEqual([epoch - 900, epoch]);
  await expect(page.getByRole('region', { name: 'Query result' }).getByRole('img', { name: 'Query result over time' })).toBeVisible();
  // "Now" clears it: the next range ends at the current time.
  await page.getByRole('button', { name: 'Now', exact: true }).click();
  await expect(page.getByLabel('Evaluation time')).toHaveValue('');
  const again = page.waitForRequest((r) => r.url().endsWith('/api/prometheus/query') && r.method() === 'POST');
  await page.getByRole('button', { name: 'Run query' }).click();
  const later = (await again).postDataJSON();
  expect(later.end).toBeGreaterThan(epoch + 25 * 60);
});

test('a member has no Prometheus item and the API refuses them', async ({ page, consoleErrors }) => {
  await page.goto('/');
  await page.getByRole('combobox', { name: 'Demo identity' }).selectOption('alice');
  await expect(page.getByLabel('Signed-in identity')).toContainText('alice');
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Prometheus' })).toHaveCount(0);
  await expect(nav.locator('[aria-disabled="true"]', { hasText: 'Prometheus' })).toContainText('owners only');
  const statuses = await page.evaluate(async () => {
    const headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${sessionStorage.getItem('meshdeck.token')}`,
    };
    const query = await fetch('/api/prometheus/query', { method: 'POST', headers, body: JSON.stringify({ query: 'up' }) });
    const dashboard = await fetch('/api/dashboards/mesh', { headers });
    return [query.status, dashboard.status];
  });
  expect(statuses).toEqual([403, 403]);
  expect(consoleErrors.every((e) => e.includes('403'))).toBe(true);
  consoleErrors.length = 0;
});
