// The Overview's telemetry check: whether Prometheus holds the mesh's
// metrics, per namespace with sidecars.
import { test, expect } from './fixtures';

test('the overview says the mesh metrics arrive and istiod is scraped', async ({ page }) => {
  await page.goto('/');
  const card = page.getByRole('region', { name: 'Telemetry' });
  const table = card.getByRole('table', { name: 'Telemetry by namespace' });
  // The demo's namespaces with sidecars; legacy runs without them.
  await expect(table.getByRole('row', { name: /^bookinfo/ })).toContainText('metrics arrive');
  await expect(table.getByRole('row', { name: /^payments/ })).toContainText('metrics arrive');
  await expect(table.getByRole('row', { name: /^istio-system/ })).toContainText('outbound only');
  await expect(table.getByRole('row', { name: /^legacy/ })).toHaveCount(0);
  await expect(card.getByText('scraped', { exact: true })).toBeVisible();
});
