// The API page: the reference read from the server's own OpenAPI document,
// filtered, an operation opened, and a type shown in the side panel; what
// it lists is counted from the document itself.
import { test, expect } from './fixtures';

test('the API page lists every documented operation and shows their types', async ({ page, request }) => {
  const doc = await (await request.get('/api/openapi.json')).json();
  expect(doc.openapi).toMatch(/^3\.1\./);
  const methods = ['get', 'post', 'put', 'patch', 'delete'];
  const operations: { method: string; path: string }[] = [];
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const m of methods) if (item[m]) operations.push({ method: m.toUpperCase(), path });
  }
  expect(operations.length).toBeGreaterThan(30);

  await page.goto('/api-docs');
  await expect(page.getByRole('heading', { level: 1, name: 'API' })).toBeVisible();
  const listed = page.locator('details.api-op');
  await expect(listed).toHaveCount(operations.length);
  await expect(page.getByText(`${operations.length} operations`)).toBeVisible();

  // The filter keeps operations with every word, and lives in the URL.
  await page.getByLabel('Filter operations').fill('rollouts post');
  await expect(page).toHaveURL(/q=rollouts(%20|\+)post/);
  const expected = operations.filter((o) => o.method === 'POST' && o.path.includes('rollouts'));
  await expect(listed).toHaveCount(expected.length);
  for (const o of expected) {
    await expect(listed.filter({ hasText: o.path }).first()).toBeVisible();
  }

  // Opening the start operation shows its body, answers and statuses.
  const start = listed.filter({ has: page.locator('code.api-path', { hasText: /^\/api\/rollouts$/ }) });
  await start.locator('summary').click();
  await expect(page).toHaveURL(/op=start/);
  const statuses = Object.keys(doc.paths['/api/rollouts'].post.responses).sort();
  const answers = start.getByRole('table').last();
  for (const status of statuses) {
    await expect(answers.getByRole('cell', { name: status, exact: true })).toBeVisible();
  }
  await start.getByRole('link', { name: 'RolloutStart' }).click();
  await expect(page).toHaveURL(/schema=RolloutStart/);
  const panel = page.getByRole('complementary', { name: 'Type' });
  const fields = Object.keys(doc.components.schemas.RolloutStart.properties);
  for (const field of fields) {
    await expect(panel.getByRole('cell', { name: new RegExp(`^${field}`) })).toBeVisible();
  }
  // A type named inside a type opens in its place.
  await panel.getByRole('link', { name: 'RolloutSpec' }).click();
  await expect(panel.getByRole('heading', { name: 'RolloutSpec' })).toBeVisible();

  // A deep link opens the operation and the type straight away.
  await page.goto('/api-docs?op=graph_get&schema=Graph');
  const graph = page.locator('details#op-graph_get');
  await expect(graph).toHaveAttribute('open', '');
  await expect(graph.getByRole('cell', { name: 'namespaces', exact: true })).toBeVisible();
  await expect(panel.getByRole('heading', { name: 'Graph' })).toBeVisible();
  // The raw document is offered for download.
  await expect(page.getByRole('link', { name: 'Download openapi.json' })).toHaveAttribute('href', '/api/openapi.json');
});
