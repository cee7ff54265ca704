// Traces on the demo mesh: search, open a failed trace, the root cause is marked.
import * as path from 'path';
import { test, expect } from './fixtures';

test('search failed traces of reviews and open one; the root cause is marked', async ({ page }) => {
  await page.goto('/traces');
  await expect(page.getByRole('heading', { level: 1, name: 'Traces' })).toBeVisible();
  await page.getByLabel('Service').selectOption('reviews.bookinfo');
  await expect(page).toHaveURL(/service=reviews\.bookinfo/);
  await page.getByLabel('Tags').fill('error=true');
  await page.getByRole('button', { name: 'Find traces' }).click();
  await expect(page).toHaveURL(/tags=error%3Dtrue/);
  const table = page.getByRole('table', { name: 'Traces' });
  await expect(table.getByRole('row').nth(1)).toBeVisible();
  await expect(page.getByRole('img', { name: 'Trace durations over time' })).toBeVisible();
  await page.screenshot({ path: path.join('artifacts', 'traces-search.png'), fullPage: true });

  await table.getByRole('link').first().click();
  await expect(page).toHaveURL(/trace=[0-9a-f]+/);
  const cause = page.getByRole('note', { name: 'Likely root cause' });
  await expect(cause).toBeVisible();
  const waterfall = page.getByRole('table', { name: 'Span waterfall' });
  const marked = waterfall.getByRole('row', { name: /likely root cause/ });
  await expect(marked).toHaveCount(1);
  await expect(marked).toHaveAttribute('aria-label', /error/);
  // Details of the root cause are open: its tags include a 5xx status.
  await expect(page.getByRole('table', { name: 'Span tags' })).toContainText('http.status_code');
  await page.screenshot({ path: path.join('artifacts', 'traces-waterfall.png'), fullPage: true });

  // Collapsing the root hides the rest of the tree.
  const rowsBefore = await waterfall.getByRole('row').count();
  await waterfall.getByRole('button', { name: 'Collapse' }).first().click();
  await expect(waterfall.getByRole('row')).toHaveCount(2);
  expect(rowsBefore).toBeGreaterThan(3);
});

test('the metrics top list links to a service\'s traces', async ({ page }) => {
  await page.goto('/metrics');
  await page.getByRole('table', { name: 'Top 10 by request volume' }).getByRole('link', { name: 'traces of ratings' }).click();
  await expect(page).toHaveURL(/\/traces\?service=ratings\.bookinfo/);
  await expect(page.getByLabel('Service')).toHaveValue('ratings.bookinfo');
  await expect(page.getByRole('table', { name: 'Traces' })).toBeVisible();
});

test('a member lists only their namespaces\' services', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('combobox', { name: 'Demo identity' }).selectOption('alice');
  await expect(page.getByLabel('Signed-in identity')).toContainText('alice');
  await page.goto('/traces');
  await expect(page.getByLabel('Service').locator('option', { hasText: 'productpage.bookinfo' })).toHaveCount(1);
  const options = await page.getByLabel('Service').locator('option').allTextContents();
  expect(options).toContain('productpage.bookinfo');
  expect(options.filter((o) => o.includes('.payments'))).toEqual([]);
});

test('a custom time range from a link is searched, and a preset replaces it', async ({ page }) => {
  const end = Math.floor(Date.now() / 1000);
  const start = end - 1800;
  const searches: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/traces?')) searches.push(r.url());
  });
  await page.goto(`/traces?service=reviews.bookinfo&start=${start}&end=${end}`);
  const lookback = page.getByLabel('Lookback');
  await expect(lookback).toHaveValue('custom');
  await expect(lookback.locator('option:checked')).toHaveText(/ to /);
  await expect(page.getByRole('table', { name: 'Traces' }).getByRole('row').nth(1)).toBeVisible();
  expect(searches.some((u) => u.includes(`start=${start}`) && u.includes(`end=${end}`) && !u.includes('range='))).toBe(true);
  // A new search (another limit) keeps the custom range...
  await page.getByLabel('Limit').fill('7');
  let search = page.waitForRequest((r) => r.url().includes('/api/traces?'));
  await page.getByRole('button', { name: 'Find traces' }).click();
  let sent = new URL((await search).url());
  expect([sent.searchParams.get('limit'), sent.searchParams.get('start'), sent.searchParams.get('end')]).toEqual(['7', `${start}`, `${end}`]);
  expect(sent.searchParams.has('range')).toBe(false);
  await expect(page).toHaveURL(new RegExp(`start=${start}&end=${end}&limit=7`));
  // ...and a preset replaces it.
  await lookback.selectOption('3h');
  search = page.waitForRequest((r) => r.url().includes('/api/traces?'));
  await page.getByRole('button', { name: 'Find traces' }).click();
  sent = new URL((await search).url());
  expect(sent.searchParams.get('range')).toBe('3h');
  expect(sent.searchParams.has('start')).toBe(false);
  await expect(page).toHaveURL(/range=3h/);
  expect(page.url()).not.toContain('start=');
});
