// Istio config: a VirtualService bound to a Gateway that does not exist
// (written with kubectl's equivalent, through the demo's Kubernetes API) is
// listed with its error, filtered, opened as YAML with its field managers,
// marked on the traffic graph, and linked from the service's side panel.
import * as path from 'path';
import { test, expect } from './fixtures';
import { kubePort } from '../playwright.config';

const KUBE = `http://127.0.0.1:${kubePort}`;
const AS_OWNER = { Authorization: 'Bearer demo-token-admin' };
const VS = '/apis/networking.istio.io/v1/namespaces/bookinfo/virtualservices';
const NAME = 'e2e-storefront';

test.afterAll(async ({ request }) => {
  await request.delete(`${KUBE}${VS}/${NAME}`, { headers: AS_OWNER });
});

test('a broken VirtualService shows on the Istio config page and on the graph', async ({ page, request }) => {
  // Gateway-only, so mesh traffic is untouched; its route names ratings.
  const created = await request.post(`${KUBE}${VS}?fieldManager=e2e-kubectl`, {
    headers: AS_OWNER,
    data: {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: NAME, namespace: 'bookinfo' },
      spec: {
        hosts: ['shop.example.com'],
        gateways: ['missing-gateway'],
        http: [{ route: [{ destination: { host: 'ratings' } }] }],
      },
    },
  });
  expect(created.status(), await created.text()).toBe(201);

  await page.goto('/istio');
  await expect(page.getByRole('heading', { level: 1, name: 'Istio Config' })).toBeVisible();
  const objects = page.getByRole('table', { name: 'Istio objects' });
  const row = objects.getByRole('row').filter({ hasText: NAME });
  await expect(row).toContainText('VirtualService');
  await expect(row).toContainText('shop.example.com');
  await expect(row).toContainText('1 error');
  // The demo's own config is valid.
  await expect(objects.getByRole('row').filter({ hasText: 'reviews' }).first()).toContainText('Valid');

  await page.getByLabel('Validity').selectOption({ label: 'With errors' });
  await expect(page).toHaveURL(/validity=errors/);
  await expect(objects.getByRole('row')).toHaveCount(2); // header + the broken one
  const findings = page.getByRole('table', { name: 'Findings' });
  await expect(findings).toContainText('vs.gateway-not-found');
  await expect(findings).toContainText('spec.gateways[0]');
  await expect(findings).toContainText('binds to gateway "missing-gateway" (bookinfo/missing-gateway), which does not exist');

  await objects.getByRole('link', { name: NAME }).click();
  const panel = page.getByRole('region', { name: 'Istio object', exact: true });
  await expect(panel.getByRole('heading', { name: `VirtualService bookinfo/${NAME}` })).toBeVisible();
  await expect(panel.getByLabel('YAML')).toContainText('- missing-gateway');
  await expect(panel.getByLabel('YAML')).not.toContainText('managedFields');
  const managers = panel.getByRole('table', { name: 'Field managers' });
  await expect(managers).toContainText('e2e-kubectl');
  await expect(managers).toContainText('.spec.gateways');
  await page.screenshot({ path: path.join('artifacts', 'istio-config.png'), fullPage: true });
  await panel.getByRole('button', { name: 'Close' }).click();
  await expect(panel).toHaveCount(0);

  // The graph marks the service the VirtualService routes to.
  await page.goto('/graph?namespaces=bookinfo');
  const graph = page.getByRole('group', { name: 'Service graph' });
  const ratings = graph.getByRole('button', { name: /^service ratings \(bookinfo\)/ });
  await expect(ratings.locator('.config-mark.bad')).toHaveCount(1);
  await expect(ratings.locator('.config-mark title')).toHaveText('Istio config of this service: 1 error(s), 0 warning(s)');
  await expect(graph.getByRole('button', { name: /^service details \(bookinfo\)/ }).locator('.config-mark')).toHaveCount(0);
  await ratings.click();
  const side = page.getByRole('complementary', { name: 'Details' });
  await expect(side).toContainText('Istio config');
  await side.getByRole('link', { name: '1 object for service ratings' }).click();
  await expect(page).toHaveURL(/\/istio\?namespace=bookinfo&service=bookinfo%2Fratings$/);
  await expect(objects.getByRole('row')).toHaveCount(2);
  await expect(objects).toContainText(NAME);
  await page.getByRole('button', { name: 'Show every service' }).click();
  await expect(page).toHaveURL(/\/istio\?namespace=bookinfo$/);
});
