// Writes are made as the person signed in: a ServiceAccount with only
// `view` rights signs in with its own token (as `kubectl create token`
// gives it), sees the switches it may not use disabled with the reason, and
// a switch sent anyway (as a script would) comes back with Kubernetes' own
// 403.
import * as path from 'path';
import { test, expect } from './fixtures';
import { kubePort } from '../playwright.config';

const KUBE = `http://127.0.0.1:${kubePort}`;
const AS_OWNER = { Authorization: 'Bearer demo-token-admin' };
const NS = 'bookinfo';
const SA = 'e2e-viewer';
const USER = `system:serviceaccount:${NS}:${SA}`;

async function kube(request: any, method: string, url: string, data?: object) {
  const response = await request.fetch(`${KUBE}${url}`, { method, headers: AS_OWNER, data });
  expect(response.status(), `${method} ${url}: ${await response.text()}`).toBeLessThan(300);
  return response.json();
}

test('a view-only ServiceAccount finds the switches disabled, and Kubernetes refuses it', async ({ page, request, consoleErrors }) => {
  // The ServiceAccount, a `view`-like role in bookinfo, and a token for it.
  await kube(request, 'POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { metadata: { name: SA } });
  await kube(request, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
    metadata: { name: 'e2e-view' },
    rules: [
      { apiGroups: [''], resources: ['pods', 'services', 'namespaces'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'daemonsets'], verbs: ['get', 'list', 'watch'] },
    ],
  });
  await kube(request, 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, {
    metadata: { name: SA },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'e2e-view' },
    subjects: [{ kind: 'ServiceAccount', name: SA, namespace: NS }],
  });
  const issued = await kube(request, 'POST', `/api/v1/namespaces/${NS}/serviceaccounts/${SA}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 600 },
  });
  const token: string = issued.status.token;

  await page.goto('/login?next=/namespaces');
  await page.getByLabel('Bearer token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/namespaces$/);
  await expect(page.getByLabel('Signed-in identity')).toContainText(USER);
  const card = page.getByRole('region', { name: NS, exact: true });
  const nsSwitch = card.getByRole('button', { name: `Disable injection for namespace ${NS}` });
  await expect(nsSwitch).toBeDisabled();
  await expect(nsSwitch).toHaveAttribute('title', `Kubernetes RBAC does not let you patch namespace ${NS}, which switching injection needs`);
  const workload = card.getByRole('button', { name: /sidecar for Deployment details-v1/ });
  await expect(workload).toBeDisabled();
  await expect(workload).toHaveAttribute('title', /Kubernetes RBAC does not let you patch Deployment details-v1/);
  await expect(card.getByRole('note')).toContainText(`Read-only for you: Kubernetes RBAC lets you patch neither namespace ${NS} nor its workloads`);
  await page.screenshot({ path: path.join('artifacts', 'namespaces-view-only.png'), fullPage: true });

  // Sent anyway, the switch reaches Kubernetes, whose words come back.
  const refused = await request.post(`/api/namespaces/${NS}/injection`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { enabled: false },
  });
  expect(refused.status()).toBe(403);
  expect((await refused.json()).error.message).toBe(
    `namespaces "${NS}" is forbidden: User "${USER}" cannot patch resource "namespaces" in API group "" in the namespace "${NS}"`,
  );
  // The wizards are off for them too, with the reason; sent anyway, the
  // preview comes back with Kubernetes' refusal of the dry run.
  await page.goto(`/services/${NS}/reviews`);
  const management = page.getByRole('region', { name: 'Traffic management' });
  await expect(management.getByRole('note')).toContainText(
    `Read-only for you: Kubernetes RBAC does not let you create virtualservices.networking.istio.io in namespace "${NS}"`,
  );
  await expect(management.getByRole('button', { name: 'Traffic shifting', exact: true })).toBeDisabled();
  await page.screenshot({ path: path.join('artifacts', 'service-view-only.png'), fullPage: true });
  const preview = await request.post(`/api/services/${NS}/reviews/wizards?dryRun=true`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { wizard: 'traffic-shifting', weights: [{ version: 'v1', weight: 100 }] },
  });
  expect(preview.status(), await preview.text()).toBe(200);
  const problems = (await preview.json()).problems;
  expect(problems.length).toBeGreaterThan(0);
  for (const p of problems) {
    expect(p.status).toBe(403);
    expect(p.message).toContain(`User "${USER}" cannot patch resource`);
  }
  await page.goto('/namespaces');

  // An owner's switches stay enabled.
  const switcher = page.getByRole('combobox', { name: 'Demo identity' });
  await expect(switcher.locator('option:checked')).toHaveText('signed in with a token');
  await switcher.selectOption('admin');
  await expect(page.getByLabel('Signed-in identity')).toContainText('admin');
  await expect(card.getByRole('button', { name: `Disable injection for namespace ${NS}` })).toBeEnabled();

  await kube(request, 'DELETE', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings/${SA}`);
  await kube(request, 'DELETE', '/apis/rbac.authorization.k8s.io/v1/clusterroles/e2e-view');
  await kube(request, 'DELETE', `/api/v1/namespaces/${NS}/serviceaccounts/${SA}`);
  expect(consoleErrors).toEqual([]);
});
