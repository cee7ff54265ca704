// Enablement: the Settings form with its live preflight (owners), and the
// Namespaces page with a dry-run preview before a switch is applied.
import * as path from 'path';
import { test, expect } from './fixtures';
import { kubePort } from '../playwright.config';

test('an owner sees the settings form and a live preflight', async ({ page, consoleErrors }) => {
  await page.goto('/settings');
  await expect(page.getByRole('heading', { level: 1, name: 'Settings' })).toBeVisible();
  const components = page.getByRole('table', { name: 'Components and resources' });
  await expect(components).toBeVisible();
  const pilotCpu = page.getByRole('textbox', { name: 'Pilot (istiod) CPU request' });
  await expect(pilotCpu).toHaveValue('500m');
  await expect(page.getByRole('textbox', { name: 'Telemetry memory limit' })).toHaveValue('4096Mi');
  await expect(page.getByRole('textbox', { name: 'http2 NodePort' })).toHaveValue('31380');
  await expect(page.getByRole('textbox', { name: 'Trace sampling (%)' })).toHaveValue('1');
  await expect(page.getByRole('checkbox', { name: /namespaces created from now on/ })).toBeChecked();

  // The demo's three schedulable workers have 4000 m each (worker-4 is cordoned).
  const preflight = page.getByRole('region', { name: 'Preflight' });
  await expect(preflight).toContainText('fits');
  await expect(preflight.getByRole('img', { name: 'CPU: 2450 m of 12000 m' })).toBeVisible();
  await page.screenshot({ path: path.join('artifacts', 'settings.png'), fullPage: true });

  // A plan that does not fit says by how much, as you type.
  await pilotCpu.fill('20');
  await page.getByRole('textbox', { name: 'Pilot (istiod) CPU limit' }).fill('20');
  await expect(preflight).toContainText('needs 21950 m CPU, 12000 m allocatable: short by 9950 m');
  // An invalid field is named.
  await page.getByRole('textbox', { name: 'https NodePort' }).fill('99');
  await expect(preflight).toContainText('ingress_gateway.https_node_port');
  await page.screenshot({ path: path.join('artifacts', 'settings-preflight-refused.png'), fullPage: true });
  await page.getByRole('button', { name: 'Discard changes' }).click();
  await expect(pilotCpu).toHaveValue('500m');
  await expect(preflight).toContainText('fits');
  // The browser logs the preflight's 422 for the invalid port; nothing else is expected.
  expect(consoleErrors.every((e) => e.includes('status of 422'))).toBe(true);
  consoleErrors.length = 0;
});

test('a tool URL saved in the settings becomes the top-bar link', async ({ page }) => {
  await page.goto('/settings');
  const tools = page.getByRole('list', { name: 'External tools' });
  await expect(tools.getByRole('link', { name: /Jaeger/ })).toBeVisible();
  await expect(tools.getByRole('link', { name: /Kiali/ })).toHaveCount(0);
  const kiali = page.getByRole('textbox', { name: 'Kiali URL' });
  await kiali.fill('https://kiali.example.com/');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved to' })).toBeVisible();
  // On the graph page the link opens Kiali's graph of the same namespaces.
  await expect(tools.getByRole('link', { name: /Kiali/ })).toHaveAttribute('href', /^https:\/\/kiali\.example\.com\//);
  await page.goto('/graph?namespaces=bookinfo');
  await expect(tools.getByRole('link', { name: /Kiali/ })).toHaveAttribute(
    'href',
    /^https:\/\/kiali\.example\.com\/console\/graph\/namespaces\/\?namespaces=bookinfo/,
  );
  // Emptied again: no Kiali link (meshdeck was started without one).
  await page.goto('/settings');
  await kiali.fill('');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved to' })).toBeVisible();
  await expect(tools.getByRole('link', { name: /Kiali/ })).toHaveCount(0);
});

const KUBE = `http://127.0.0.1:${kubePort}`;
// The demo's Kubernetes API authenticates like a real one: as the owner.
const AS_OWNER = { Authorization: 'Bearer demo-token-admin' };
const NEW_NS = 'e2e-new-team';

test('an owner enables and disables the mesh with a preview of the steps', async ({ page, request }) => {
  await page.goto('/settings');
  const mesh = page.getByRole('region', { name: 'Mesh for the cluster' });
  await expect(mesh).toContainText('not enabled');
  await expect(mesh).toContainText('existing istiod');
  const ingresses = mesh.getByRole('list', { name: 'Ingresses' });
  await expect(ingresses).toContainText('ingress-nginx/ingress-nginx-controller');

  await mesh.getByRole('button', { name: 'Enable the mesh' }).click();
  const dialog = page.getByRole('dialog', { name: 'Enable the mesh' });
  await expect(dialog.getByRole('listitem').first()).toContainText('use the existing istiod');
  await page.screenshot({ path: path.join('artifacts', 'settings-enable-preview.png') });
  await dialog.getByRole('button', { name: 'Apply' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(mesh.locator('.badge-ok')).toHaveText('enabled');
  await expect(mesh.locator('.result-note')).toContainText('Done:');

  // A namespace created now (as kubectl would, through the demo's
  // Kubernetes API) gets injection from meshdeck's watch, marked as such.
  const created = await request.post(`${KUBE}/api/v1/namespaces`, {
    headers: AS_OWNER,
    data: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NEW_NS, labels: { team: 'e2e' } } },
  });
  expect(created.status()).toBe(201);
  await page.goto('/namespaces');
  const card = page.getByRole('region', { name: NEW_NS, exact: true });
  await expect(card).toContainText('injection on');
  await expect(card).toContainText('set automatically');

  // Disabling lists that label among the steps and takes it back.
  await page.goto('/settings');
  await mesh.getByRole('button', { name: 'Disable the mesh' }).click();
  const off = page.getByRole('dialog', { name: 'Disable the mesh' });
  await expect(off).toContainText(`remove istio-injection=enabled from namespace ${NEW_NS}`);
  await page.screenshot({ path: path.join('artifacts', 'settings-disable-preview.png') });
  await off.getByRole('button', { name: 'Apply' }).click();
  await expect(off).toHaveCount(0);
  await expect(mesh).toContainText('not enabled');
  await page.goto('/namespaces');
  await expect(card).toContainText('injection off');
  await expect(card).not.toContainText('set automatically');
  const ns = await (await request.get(`${KUBE}/api/v1/namespaces/${NEW_NS}`, { headers: AS_OWNER })).json();
  expect(ns.metadata.labels).toEqual({ team: 'e2e', 'kubernetes.io/metadata.name': NEW_NS });
  expect((await request.delete(`${KUBE}/api/v1/namespaces/${NEW_NS}`, { headers: AS_OWNER })).ok()).toBe(true);
});

test('the monitoring card offers the scrape jobs to copy, and the Grafana dashboards follow the URL', async ({ page, context, request }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.goto('/settings');
  const card = page.getByRole('region', { name: 'Monitoring' });
  // The demo has no Prometheus Operator: the scrape jobs to add, to copy.
  await expect(card).toContainText('monitoring.coreos.com/v1');
  const jobs = card.getByLabel('Scrape configuration for Prometheus');
  await expect(jobs).toContainText('job_name: istiod');
  await expect(jobs).toContainText('job_name: envoy-stats');
  await card.getByRole('button', { name: 'Copy' }).click();
  await expect(card.locator('.copy-result')).toHaveText('Copied.');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toContain('regex: istiod;http-monitoring');
  await expect(card).toContainText('With a Grafana URL');
  await card.screenshot({ path: path.join('artifacts', 'settings-monitoring.png') });

  // A Grafana URL: enabling writes the dashboards for Grafana's sidecar.
  const grafana = page.getByRole('textbox', { name: 'Grafana URL' });
  await grafana.fill('https://grafana.example.com/');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved to' })).toBeVisible();
  await expect(card).toContainText('meshdeck/meshdeck-grafana-dashboards');
  await expect(card).toContainText('not created yet');
  const mesh = page.getByRole('region', { name: 'Mesh for the cluster' });
  await mesh.getByRole('button', { name: 'Enable the mesh' }).click();
  const on = page.getByRole('dialog', { name: 'Enable the mesh' });
  await expect(on).toContainText('create ConfigMap meshdeck/meshdeck-grafana-dashboards');
  await on.getByRole('button', { name: 'Apply' }).click();
  await expect(on).toHaveCount(0);
  await expect(card).toContainText('created by meshdeck');
  await expect(card).toContainText('meshdeck-mesh.json');
  const cm = await request.get(`${KUBE}/api/v1/namespaces/meshdeck/configmaps/meshdeck-grafana-dashboards`, {
    headers: AS_OWNER,
  });
  expect(cm.ok()).toBe(true);
  const body = await cm.json();
  expect(body.metadata.labels.grafana_dashboard).toBe('1');
  expect(JSON.parse(body.data['meshdeck-mesh.json']).uid).toBe('meshdeck-mesh');
  await card.screenshot({ path: path.join('artifacts', 'settings-monitoring-grafana.png') });

  // Leave the shared demo server as it was: disabled, no Grafana URL.
  await mesh.getByRole('button', { name: 'Disable the mesh' }).click();
  const off = page.getByRole('dialog', { name: 'Disable the mesh' });
  await expect(off).toContainText('delete ConfigMap meshdeck/meshdeck-grafana-dashboards');
  await off.getByRole('button', { name: 'Apply' }).click();
  await expect(off).toHaveCount(0);
  await expect(mesh).toContainText('not enabled');
  await grafana.fill('');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved to' })).toBeVisible();
  await expect(card).not.toContainText('meshdeck-grafana-dashboards');
});

test('an owner enables injection for legacy after a dry-run preview', async ({ page, request }) => {
  await page.goto('/namespaces');
  await expect(page.getByRole('heading', { level: 1, name: 'Namespaces' })).toBeVisible();
  const legacy = page.getByRole('region', { name: 'legacy', exact: true });
  await expect(legacy).toContainText('injection off');
  await expect(legacy.getByRole('table', { name: 'Workloads in legacy' })).toContainText('no sidecar');

  await legacy.getByRole('button', { name: 'Enable injection for namespace legacy' }).click();
  const dialog = page.getByRole('dialog', { name: 'Enable sidecar injection for namespace legacy' });
  await expect(dialog).toBeVisible();
  const diff = dialog.getByRole('table', { name: 'Before and after' });
  await expect(diff.getByRole('row', { name: /istio-injection.*enabled.*added/ })).toBeVisible();
  // Foreign labels are shown as kept.
  await expect(diff.getByRole('row', { name: /field\.cattle\.io\/projectId.*kept/ })).toBeVisible();
  await expect(dialog.locator('pre.patch')).toContainText('"istio-injection":"enabled"');
  await page.screenshot({ path: path.join('artifacts', 'namespaces-preview.png'), fullPage: false });

  // Nothing changed yet.
  await expect(legacy).toContainText('injection off');
  await dialog.getByRole('button', { name: 'Apply' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.locator('.result-note')).toContainText('Applied.');
  await expect(legacy).toContainText('injection on');
  await expect(legacy).toContainText('istio-injection=enabled');
  await page.screenshot({ path: path.join('artifacts', 'namespaces.png'), fullPage: true });

  // Leave the shared demo server as it was.
  const off = await request.post('/api/namespaces/legacy/injection', {
    headers: { Authorization: 'Bearer demo-token-admin' },
    data: { enabled: false },
  });
  expect(off.status()).toBe(200);
});

test('a member has no settings and sees only their namespaces', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('combobox', { name: 'Demo identity' }).selectOption('alice');
  await expect(page.getByLabel('Signed-in identity')).toContainText('alice');
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Settings' })).toHaveCount(0);
  await expect(nav.locator('[aria-disabled="true"]', { hasText: 'Settings' })).toContainText('owners only');

  await nav.getByRole('link', { name: 'Namespaces', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Namespaces' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'bookinfo', exact: true })).toBeVisible();
  await expect(page.locator('.ns-card')).toHaveCount(1);
  await expect(page.getByRole('region', { name: 'payments', exact: true })).toHaveCount(0);
  await page.screenshot({ path: path.join('artifacts', 'namespaces-alice.png'), fullPage: true });

  await page.goto('/settings');
  await expect(page.getByRole('region', { name: 'Not available for your role' })).toContainText('cluster owners');
});

test('settings edited by hand into nonsense are named, and reset to the last good ones', async ({ page, request, consoleErrors }) => {
  // Saved once through meshdeck (the last good settings)...
  const saved = await request.get('/api/settings', { headers: AS_OWNER });
  expect(saved.status()).toBe(200);
  const doc = await saved.json();
  const put = await request.put('/api/settings', {
    headers: AS_OWNER,
    data: { settings: doc.settings, resource_version: doc.resource_version },
  });
  expect(put.status()).toBe(200);
  // ...then edited with kubectl into something meshdeck cannot read.
  const broken = await request.patch(`${KUBE}/api/v1/namespaces/meshdeck/configmaps/meshdeck-settings`, {
    headers: { ...AS_OWNER, 'Content-Type': 'application/merge-patch+json' },
    data: { data: { 'settings.json': JSON.stringify({ ...doc.settings, member_access: { mode: 'everyone', users: [], groups: [] } }) } },
  });
  expect(broken.status()).toBe(200);

  await page.goto('/settings');
  const card = page.getByRole('region', { name: 'The stored settings cannot be read' });
  await expect(card.getByRole('alert')).toContainText('member_access.mode: unknown variant `everyone`');
  await page.screenshot({ path: path.join('artifacts', 'settings-unreadable.png'), fullPage: true });
  await card.getByRole('button', { name: 'Reset to the last good settings' }).click();
  await expect(page.getByRole('table', { name: 'Components and resources' })).toBeVisible();
  await expect(card).toHaveCount(0);
  // Chromium logs the settings' 422; nothing else is expected.
  expect(consoleErrors.every((e) => e.includes('status of 422'))).toBe(true);
  consoleErrors.length = 0;
});
