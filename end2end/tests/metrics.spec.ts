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
