// Traffic-management wizards: each one opens from the traffic graph's side
// panel (through the service's page), previews its objects with a diff and
// the cluster's dry run, applies, and the Istio config page shows what it
// wrote; "Remove traffic routing" takes it all away again. The canary test
// shifts bookinfo's reviews in the demo and watches the graph's shares move.
//
// The settings are chosen so the other specs, running alongside on the
// same demo, keep the traffic they look at: payments/ledger and
// payments/postgres keep every request (no aborts, a 1 ms delay on 1 %),
// reviews keeps all three versions, and everything is removed at the end.
import * as path from 'path';
import { test, expect } from './fixtures';
import { kubePort } from '../playwright.config';
import type { Page } from '@playwright/test';

const KUBE = `http://127.0.0.1:${kubePort}`;
const AS_OWNER = { Authorization: 'Bearer demo-token-admin' };

/** Graph of `ns` → side panel of service `name` → "Manage traffic". */
async function openFromGraph(page: Page, ns: string, name: string) {
  await page.goto(`/graph?namespaces=${ns}&lock=1`);
  const graph = page.getByRole('group', { name: 'Service graph' });
  await graph.getByRole('button', { name: new RegExp(`^service ${name} \\(${ns}\\)`) }).click();
  const panel = page.getByRole('complementary', { name: 'Details' });
  await panel.getByRole('link', { name: `Manage traffic for service ${name}` }).click();
  await expect(page).toHaveURL(`/services/${ns}/${name}`);
  await expect(page.getByRole('heading', { level: 1, name: `Service ${name}` })).toBeVisible();
}

/** Preview in the open dialog; the preview names each object and its diff. */
async function preview(page: Page) {
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: /^Preview/ }).click();
  await expect(dialog.getByText(/, preview: /)).toBeVisible();
  return dialog;
}

async function applyAndCheck(page: Page, label: string, kinds: string[]) {
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: 'Apply', exact: true }).click();
  const outcome = page.getByRole('status', { name: 'Outcome' });
  await expect(outcome).toContainText(`${label} applied`);
  await expect(page.getByRole('dialog')).toHaveCount(0);
  // The Istio config page lists what was written, as meshdeck's and valid.
  await outcome.getByRole('link', { name: 'See it in Istio config' }).click();
  const objects = page.getByRole('table', { name: 'Istio objects' });
  for (const kind of kinds) {
    await expect(objects.getByRole('row').filter({ hasText: kind }).first()).toContainText('Valid');
  }
}

test('each wizard opens from the graph, previews with a diff, applies, and shows in Istio config', async ({ page, request }) => {
  test.setTimeout(180_000);
  const steps: { tile: string; kinds: string[]; fill?: (p: Page) => Promise<void> }[] = [
    { tile: 'Traffic shifting', kinds: ['VirtualService', 'DestinationRule'] },
    {
      tile: 'Request routing',
      kinds: ['VirtualService'],
      fill: async (p) => p.getByRole('button', { name: 'A/B by header (end-user: jason → v1)' }).click(),
    },
    {
      tile: 'Fault injection',
      kinds: ['VirtualService'],
      fill: async (p) => {
        await p.getByLabel('Delay (duration)').fill('1ms');
        await p.getByLabel('Requests delayed (%)').fill('1');
      },
    },
    { tile: 'Timeouts and retries', kinds: ['VirtualService'] },
    { tile: 'Circuit breaking and load balancing', kinds: ['DestinationRule'] },
    { tile: 'mTLS', kinds: ['DestinationRule', 'PeerAuthentication'] },
    {
      tile: 'Expose through the ingress gateway',
      kinds: ['Gateway'],
      fill: async (p) => p.getByLabel('Hosts (comma-separated)').fill('ledger.example.com'),
    },
  ];
  for (const step of steps) {
    await openFromGraph(page, 'payments', 'ledger');
    await page.getByRole('button', { name: step.tile, exact: true }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.getByRole('heading', { name: `${step.tile}: ledger` })).toBeVisible();
    if (step.fill) await step.fill(page);
    await preview(page);
    // Every object of the preview comes with its diff against the live one.
    await expect(dialog.locator('.diff-counts').first()).toBeVisible();
    if (step.tile === 'Traffic shifting') {
      await page.screenshot({ path: path.join('artifacts', 'wizard-preview.png') });
    }
    await applyAndCheck(page, step.tile, step.kinds);
  }

  // Kubernetes holds them as meshdeck's, with the wizards listed.
  const vs = await request.get(`${KUBE}/apis/networking.istio.io/v1/namespaces/payments/virtualservices/ledger`, { headers: AS_OWNER });
  expect(vs.status()).toBe(200);
  const body = await vs.json();
  expect(body.metadata.labels['app.kubernetes.io/managed-by']).toBe('meshdeck');
  expect(body.metadata.annotations['meshdeck.io/wizards'].split(',').sort()).toEqual(
    ['fault-injection', 'request-routing', 'timeouts-retries'],
  );
  const route = body.spec.http[0];
  expect(route.fault.delay.fixedDelay).toBe('1ms');
  expect(route.fault.delay.percentage.value).toBe(1);
  expect(route.timeout).toBe('10s');
  expect(body.metadata.managedFields.map((m: any) => m.manager)).toContain('meshdeck');

  // The service page shows what is in force; removal takes everything away.
  await page.goto('/services/payments/ledger');
  const management = page.getByRole('region', { name: 'Traffic management' });
  await expect(management).toContainText('In force:');
  await page.screenshot({ path: path.join('artifacts', 'service-page.png'), fullPage: true });
  await management.getByRole('button', { name: 'Remove traffic routing' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByText(/will be deleted/).first()).toBeVisible();
  await dialog.getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(page.getByRole('status', { name: 'Outcome' })).toContainText('removed');
  await expect(page.getByRole('region', { name: 'Istio objects' })).toContainText('No Istio object configures this service yet.');
  for (const [plural, name] of [
    ['virtualservices', 'ledger'],
    ['destinationrules', 'ledger'],
    ['gateways', 'ledger-gateway'],
  ]) {
    const gone = await request.get(`${KUBE}/apis/networking.istio.io/v1/namespaces/payments/${plural}/${name}`, { headers: AS_OWNER });
    expect(gone.status(), `${plural}/${name}`).toBe(404);
  }
});

test('routing written as a Gateway API GRPCRoute, where the cluster serves it', async ({ page, request }) => {
  // As Istio's samples do: a Service for the version (selector + version).
  const SVC = `${KUBE}/api/v1/namespaces/payments/services`;
  const ledger = await (await request.get(`${SVC}/ledger`, { headers: AS_OWNER })).json();
  const created = await request.post(SVC, {
    headers: AS_OWNER,
    data: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'ledger-v1', namespace: 'payments' },
      spec: { selector: { ...ledger.spec.selector, version: 'v1' }, ports: ledger.spec.ports },
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  try {
    await page.goto('/services/payments/ledger?wizard=traffic-shifting');
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('radio', { name: 'Gateway API GRPCRoute' }).check();
    await expect(dialog).toContainText('Found: v1 → ledger-v1.');
    const previewed = await preview(page);
    await expect(previewed).toContainText('GRPCRoute payments/ledger will be created');
    await expect(previewed.getByLabel('YAML of GRPCRoute payments/ledger', { exact: true })).toContainText('name: ledger-v1');
    await page.screenshot({ path: path.join('artifacts', 'wizard-gateway-api.png') });
    await applyAndCheck(page, 'Traffic shifting', ['GRPCRoute']);
    // The service page reads the weights back from the route.
    await page.goto('/services/payments/ledger');
    await expect(page.getByRole('table', { name: 'Versions' }).getByRole('row').filter({ hasText: 'ledger-v1' }).first()).toContainText('100 %');
    const route = await request.get(`${KUBE}/apis/gateway.networking.k8s.io/v1/namespaces/payments/grpcroutes/ledger`, { headers: AS_OWNER });
    expect(route.status()).toBe(200);
    expect((await route.json()).spec.parentRefs[0]).toMatchObject({ kind: 'Service', name: 'ledger' });
    await page.goto('/services/payments/ledger?wizard=remove');
    await page.getByRole('dialog').getByRole('button', { name: 'Remove', exact: true }).click();
    await expect(page.getByRole('status', { name: 'Outcome' })).toContainText('GRPCRoute payments/ledger deleted');
  } finally {
    await request.delete(`${SVC}/ledger-v1`, { headers: AS_OWNER });
  }
});

test('TCP traffic shifting for a TCP service', async ({ page }) => {
  await openFromGraph(page, 'payments', 'postgres');
  const management = page.getByRole('region', { name: 'Traffic management' });
  await expect(management).toContainText('A TCP service');
  await management.getByRole('button', { name: 'TCP traffic shifting', exact: true }).click();
  const dialog = await preview(page);
  await expect(dialog).toContainText('VirtualService payments/postgres will be created');
  await applyAndCheck(page, 'TCP traffic shifting', ['VirtualService', 'DestinationRule']);
  await page.goto('/services/payments/postgres?wizard=remove');
  await page.getByRole('dialog').getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(page.getByRole('status', { name: 'Outcome' })).toContainText('removed');
});

/** Share of the reviews service's requests going to version `v`, as the
 * graph (1-minute window) labels its edge. */
async function reviewsShare(page: Page, v: string): Promise<number> {
  await page.goto('/graph?namespaces=bookinfo&window=1m&labels=share&lock=1');
  const edge = page.getByRole('group', { name: 'Service graph' })
    .getByRole('button', { name: `edge reviews (bookinfo) to reviews ${v} (bookinfo), HTTP`, exact: true });
  const label = await edge.locator('.edge-label').textContent();
  return Number((label ?? '').replace(/[^0-9.]/g, ''));
}

test('a canary shift in the demo moves the traffic the graph shows', async ({ page }) => {
  test.setTimeout(150_000);
  // The demo's reviews: three versions, a third of the requests each.
  expect(Math.abs((await reviewsShare(page, 'v1')) - 33.3)).toBeLessThan(5);

  await openFromGraph(page, 'bookinfo', 'reviews');
  await page.getByRole('button', { name: 'Traffic shifting', exact: true }).click();
  await page.getByLabel('Weight of v1 (%)', { exact: true }).fill('80');
  await page.getByLabel('Weight of v2 (%)', { exact: true }).fill('10');
  await page.getByLabel('Weight of v3 (%)', { exact: true }).fill('10');
  const dialog = await preview(page);
  // The demo's own objects are the simulator's: their routes are another
  // manager's fields, so taking them over is an explicit second step.
  await expect(dialog.getByRole('alert', { name: 'Kubernetes refused' })).toContainText('Conflict with another field manager (409)');
  await expect(dialog.getByRole('button', { name: 'Apply', exact: true })).toBeDisabled();
  await dialog.getByRole('button', { name: 'Take over these fields' }).click();
  await expect(dialog.getByRole('note').filter({ hasText: 'Taking over' })).toBeVisible();
  await dialog.getByRole('button', { name: 'Apply, taking over the fields' }).click();
  await expect(page.getByRole('status', { name: 'Outcome' })).toContainText('Traffic shifting applied');
  const versions = page.getByRole('table', { name: 'Versions' });
  await expect(versions.getByRole('row').filter({ hasText: 'reviews-v1' })).toContainText('80 %');

  // Within two scrape intervals the 1-minute share of v1 starts rising
  // towards 80 % (a third of the window after 20 s would be ~49 %).
  await expect
    .poll(() => reviewsShare(page, 'v1'), { timeout: 60_000, intervals: [2_000] })
    .toBeGreaterThan(40);
  await page.screenshot({ path: path.join('artifacts', 'canary-graph.png') });

  // Back to an even spread: the objects stay (the simulator still owns
  // their other fields), only the routes meshdeck took over are released.
  await page.goto('/services/bookinfo/reviews?wizard=remove');
  await page.getByRole('dialog').getByRole('button', { name: 'Remove', exact: true }).click();
  const outcome = page.getByRole('status', { name: 'Outcome' });
  await expect(outcome).toContainText("VirtualService bookinfo/reviews meshdeck's fields removed");
  await expect(outcome).toContainText("DestinationRule bookinfo/reviews meshdeck's fields removed");
  await expect(page.getByRole('table', { name: 'Istio objects of the service' }).getByRole('row')).toHaveCount(3);
});
