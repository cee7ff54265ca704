// Identity in demo mode: the switcher, what a member may use, the sign-in page.
import * as path from 'path';
import { test, expect } from './fixtures';

test('switching to alice hides owner sections; switching back restores them', async ({ page }) => {
  await page.goto('/');
  const identity = page.getByLabel('Signed-in identity');
  const switcher = page.getByRole('combobox', { name: 'Demo identity' });
  const nav = page.getByRole('navigation', { name: 'Main' });

  // Nothing chosen yet: the demo's owner.
  await expect(identity).toContainText('admin');
  await expect(identity).toContainText('owner');
  await expect(switcher).toHaveValue('admin');
  await expect(nav.getByRole('link', { name: 'Prometheus', exact: true })).toBeVisible();

  await switcher.selectOption('alice');
  await expect(identity).toContainText('alice');
  await expect(identity).toContainText('member');
  await expect(switcher).toHaveValue('alice');
  for (const label of ['Prometheus', 'Settings']) {
    await expect(nav.getByRole('link', { name: label })).toHaveCount(0);
    const item = nav.locator('[aria-disabled="true"]', { hasText: label });
    await expect(item).toBeVisible();
    await expect(item).toContainText('owners only');
    await expect(item).toHaveAttribute('title', /cluster owners/);
  }
  // Members keep the sections they may use.
  await expect(nav.getByRole('link', { name: 'Traffic Metrics' })).toBeVisible();

  // The overview lists exactly her namespaces.
  await nav.getByRole('link', { name: 'Overview' }).click();
  const access = page.getByRole('table', { name: 'Visible projects and namespaces' });
  await expect(access).toContainText('Shop');
  await expect(access).toContainText('bookinfo');
  await expect(access).not.toContainText('payments');
  await page.screenshot({ path: path.join('artifacts', 'identity-alice.png'), fullPage: true });

  // A deep link to an owner section says why it is not available.
  await page.goto('/prometheus');
  await expect(page.getByRole('region', { name: 'Not available for your role' })).toContainText('cluster owners');
  await page.screenshot({ path: path.join('artifacts', 'identity-denied.png'), fullPage: true });

  await page.getByRole('combobox', { name: 'Demo identity' }).selectOption('admin');
  await expect(identity).toContainText('admin');
  await expect(nav.getByRole('link', { name: 'Prometheus', exact: true })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Settings', exact: true })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Not available for your role' })).toHaveCount(0);
  await expect(page.getByRole('heading', { level: 1, name: 'Prometheus' })).toBeVisible();
});

test('the identity survives navigation and stays out of the URL', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('combobox', { name: 'Demo identity' }).selectOption('bob');
  await expect(page.getByLabel('Signed-in identity')).toContainText('bob');
  await page.goto('/traces');
  await expect(page.getByLabel('Signed-in identity')).toContainText('bob');
  await page.goto('/');
  const access = page.getByRole('table', { name: 'Visible projects and namespaces' });
  await expect(access).toContainText('legacy');
  await expect(access).toContainText('payments');
  await expect(access).not.toContainText('bookinfo');
  expect(page.url()).not.toContain('token');
});

test('the sign-in page offers a token field and the demo identities', async ({ page }) => {
  await page.goto('/login?next=/metrics');
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  const field = page.getByLabel('Bearer token');
  await expect(field).toHaveAttribute('type', 'password');
  await expect(page.getByText('kubectl create token')).toBeVisible();
  await page.screenshot({ path: path.join('artifacts', 'login.png'), fullPage: true });
  await page.getByRole('button', { name: 'Continue as bob' }).click();
  await expect(page).toHaveURL(/\/metrics$/);
  await expect(page.getByLabel('Signed-in identity')).toContainText('bob');
});

test('a token typed into the sign-in page is checked by the cluster', async ({ page, consoleErrors }) => {
  await page.goto('/login?next=/graph');
  await page.getByLabel('Bearer token').fill('demo-token-alice');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/graph$/);
  await expect(page.getByLabel('Signed-in identity')).toContainText('alice');

  await page.goto('/login');
  await page.getByLabel('Bearer token').fill('not-a-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('did not accept this token');
  // Chromium logs the rejected call's 401; that one is expected.
  expect(consoleErrors.every((e) => e.includes('401'))).toBe(true);
  consoleErrors.length = 0;
});
