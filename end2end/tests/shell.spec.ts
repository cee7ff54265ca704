// The console's frame: navigation, deep links, error contract, screenshot.
import * as path from 'path';
import { test, expect, NAV } from './fixtures';

test('every navigation item loads its page without console errors', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const item of NAV) {
    await nav.getByRole('link', { name: item.label, exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`${item.path === '/' ? '/$' : item.path + '$'}`));
    await expect(page.getByRole('heading', { level: 1, name: item.label })).toBeVisible();
    await expect(nav.getByRole('link', { name: item.label, exact: true })).toHaveAttribute('aria-current', 'page');
    // Each page finishes loading (no spinner left) and shows no error state.
    await expect(page.getByRole('status')).toHaveCount(0);
    await expect(page.locator('.state-error')).toHaveCount(0);
  }
});

test('a deep link opens the right page with its state', async ({ page }) => {
  await page.goto('/metrics?scope=service&namespace=bookinfo&name=reviews&range=3h');
  await expect(page.getByRole('heading', { level: 1, name: 'Traffic Metrics' })).toBeVisible();
  await expect(page.getByLabel('Scope')).toHaveValue('service');
  await expect(page.getByLabel('Namespace', { exact: true })).toHaveValue('bookinfo');
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('reviews');
  await expect(page.getByRole('group', { name: 'Time range' }).getByRole('button', { name: '3h' })).toHaveAttribute('aria-pressed', 'true');
});

test('an unknown page shows the not-found view with status 404', async ({ page, consoleErrors }) => {
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1, name: 'Page not found' })).toBeVisible();
  await expect(page.getByText('/no/such/page')).toBeVisible();
  // Chromium logs the document's own 404; that one is expected, nothing else is.
  expect(consoleErrors).toEqual([expect.stringContaining('status of 404')]);
  consoleErrors.length = 0;
});

test('an unknown API path returns a JSON 404', async ({ request }) => {
  const response = await request.get('/api/no-such-thing');
  expect(response.status()).toBe(404);
  expect(response.headers()['content-type']).toContain('application/json');
  const body = await response.json();
  expect(body.error.code).toBe('not_found');
  expect(body.error.message).toContain('/api/no-such-thing');
});

test('pages carry the security headers', async ({ request }) => {
  const response = await request.get('/metrics');
  const headers = response.headers();
  expect(headers['content-security-policy']).toContain("'wasm-unsafe-eval'");
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');
});

test('overview lists every upstream; screenshot of the shell', async ({ page }) => {
  await page.goto('/');
  const table = page.getByRole('table', { name: 'Upstream systems' });
  await expect(table).toBeVisible();
  for (const name of ['Kubernetes', 'Prometheus', 'Jaeger', 'Grafana', 'Kiali']) {
    await expect(table.getByRole('rowheader', { name })).toBeVisible();
  }
  // Demo mode signs in as the demo's owner until another identity is picked.
  await expect(page.getByLabel('Signed-in identity')).toContainText('Demo');
  await expect(page.getByLabel('Signed-in identity')).toContainText('admin');
  await page.screenshot({ path: path.join('artifacts', 'shell-overview.png'), fullPage: true });
});
