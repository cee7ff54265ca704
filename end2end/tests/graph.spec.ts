// Traffic Graph on the demo mesh: nodes and edges by accessible name, the
// side panel, find and hide, member scoping; saves a screenshot.
import * as path from 'path';
import { test, expect } from './fixtures';

const DEMO = '/graph?namespaces=bookinfo%2Cpayments&labels=rps&lock=1';

test('the demo graph shows the expected nodes and edges', async ({ page }) => {
  await page.goto(DEMO);
  await expect(page.getByRole('heading', { level: 1, name: 'Traffic Graph' })).toBeVisible();
  const graph = page.getByRole('group', { name: 'Service graph' });
  for (const name of [
    /^app productpage v1 \(bookinfo\)/,
    /^app reviews v1 \(bookinfo\)/,
    /^app reviews v2 \(bookinfo\)/,
    /^app reviews v3 \(bookinfo\)/,
    /^service reviews \(bookinfo\)/,
    /^app ratings v1 \(bookinfo\)/,
    /^service mongodb \(bookinfo\)/,
    /^app ledger v1 \(payments\)/,
    /^service postgres \(payments\)/,
    /^external service api\.stripe\.com \(payments\)/,
    /^unknown, /,
    /^app istio-ingressgateway latest \(istio-system\)/,
  ]) {
    await expect(graph.getByRole('button', { name })).toHaveCount(1);
  }
  for (const name of [
    'edge productpage v1 (bookinfo) to reviews (bookinfo), HTTP',
    'edge ratings v1 (bookinfo) to mongodb (bookinfo), TCP',
    'edge ledger v1 (payments) to postgres (payments), TCP',
    'edge unknown to productpage (bookinfo), HTTP',
    'edge unknown to payments-api (payments), gRPC',
    'edge payments-api v1 (payments) to api.stripe.com (payments), HTTP',
  ]) {
    await expect(graph.getByRole('button', { name, exact: true })).toHaveCount(1);
  }
  // Edge labels in rps mode, and the lock on mTLS edges (bookinfo).
  expect(await graph.locator('.edge .lock').count()).toBeGreaterThan(3);
  await expect(graph.locator('.edge-label').filter({ hasText: /rps$/ }).first()).toBeVisible();
  await page.screenshot({ path: path.join('artifacts', 'graph-demo.png'), fullPage: true });
});

test('clicking a node opens the side panel with its traffic and links', async ({ page }) => {
  await page.goto(DEMO);
  const graph = page.getByRole('group', { name: 'Service graph' });
  await graph.getByRole('button', { name: /^app productpage v1 \(bookinfo\)/ }).click();
  const panel = page.getByRole('complementary', { name: 'Details' });
  await expect(panel.getByRole('heading', { name: 'productpage v1 (bookinfo)' })).toBeVisible();
  const outbound = panel.getByRole('table', { name: 'Outbound' });
  await expect(outbound.getByRole('cell', { name: 'reviews (bookinfo)' })).toBeVisible();
  await expect(outbound.getByRole('cell', { name: 'payments-api (payments)' })).toBeVisible();
  await expect(panel.getByRole('table', { name: 'Inbound' }).getByRole('cell', { name: 'productpage (bookinfo)' })).toBeVisible();
  await expect(panel.getByRole('link', { name: 'Traffic metrics' })).toHaveAttribute(
    'href',
    '/metrics?scope=service&namespace=bookinfo&name=productpage',
  );
  await expect(panel.getByRole('link', { name: 'Traces' })).toHaveAttribute('href', '/traces?service=productpage.bookinfo&range=10m');
  // Its own charts over the graph's window, inbound, then outbound.
  const charts = panel.getByRole('region', { name: 'Traffic charts' });
  const volume = charts.getByRole('figure', { name: 'Request Volume chart' }).getByRole('img', { name: /over time/ });
  for (const title of ['Request Volume', 'Success Rate', 'Request Duration']) {
    await expect(charts.getByRole('figure', { name: `${title} chart` }).getByRole('img', { name: /over time/ })).toBeVisible();
  }
  const inbound = await volume.getAttribute('aria-label');
  await charts.getByRole('button', { name: 'Outbound' }).click();
  await expect(charts.getByRole('button', { name: 'Outbound' })).toHaveAttribute('aria-pressed', 'true');
  // productpage calls more than it is called (details, reviews and payments-api).
  await expect(volume).not.toHaveAttribute('aria-label', inbound!);
  const latest = (label: string | null) => Number(/requests ([\d.]+) req\/s/.exec(label ?? '')?.[1]);
  expect(latest(await volume.getAttribute('aria-label'))).toBeGreaterThan(latest(inbound));
  await charts.getByRole('button', { name: 'Inbound' }).click();
  await page.screenshot({ path: path.join('artifacts', 'graph-side-panel.png'), fullPage: true });
  // An edge opens its own details (the panel overlays the graph's right
  // side, where this edge is drawn: close it first).
  await panel.getByRole('button', { name: 'Close details' }).click();
  await graph.getByRole('button', { name: 'edge ratings v1 (bookinfo) to mongodb (bookinfo), TCP', exact: true }).click();
  await expect(panel.getByRole('heading', { name: 'ratings v1 (bookinfo) → mongodb (bookinfo)' })).toBeVisible();
  await expect(panel.getByText('TCP', { exact: true })).toBeVisible();
  await panel.getByRole('button', { name: 'Close details' }).click();
  await expect(panel).toHaveCount(0);
});

test('find highlights and hide removes nodes', async ({ page }) => {
  await page.goto(DEMO);
  const graph = page.getByRole('group', { name: 'Service graph' });
  await expect(graph.getByRole('button', { name: /^app reviews v2 \(bookinfo\)/ })).toHaveCount(1);
  await page.getByRole('searchbox', { name: 'Find' }).fill('name = reviews');
  await page.getByRole('searchbox', { name: 'Find' }).press('Enter');
  await expect(page).toHaveURL(/find=name%20%3D%20reviews/);
  await expect(graph.locator('.node.found')).toHaveCount(4);
  await expect(graph.getByRole('button', { name: /^app details v1/ })).toHaveClass(/dim/);
  await page.getByRole('searchbox', { name: 'Hide' }).fill('ns = payments');
  await page.getByRole('searchbox', { name: 'Hide' }).press('Enter');
  await expect(graph.getByRole('button', { name: /^app ledger v1 \(payments\)/ })).toHaveCount(0);
  await expect(graph.getByRole('button', { name: /^app reviews v2 \(bookinfo\)/ })).toHaveCount(1);
  await page.getByRole('searchbox', { name: 'Hide' }).fill('wobbly');
  await page.getByRole('searchbox', { name: 'Hide' }).press('Enter');
  await expect(page.getByRole('alert').filter({ hasText: 'unknown term' })).toBeVisible();
});

test('graph type and toggles change the graph', async ({ page }) => {
  await page.goto('/graph?namespaces=bookinfo&type=workload');
  const graph = page.getByRole('group', { name: 'Service graph' });
  await expect(graph.getByRole('button', { name: /^workload reviews-v3 \(bookinfo\)/ })).toHaveCount(1);
  await page.getByRole('checkbox', { name: 'Service nodes' }).uncheck();
  await expect(page).toHaveURL(/services=0/);
  await expect(graph.getByRole('button', { name: /^service reviews \(bookinfo\)/ })).toHaveCount(0);
  await expect(
    graph.getByRole('button', { name: 'edge productpage-v1 (bookinfo) to reviews-v3 (bookinfo), HTTP', exact: true }),
  ).toHaveCount(1);
});

test('dragging pans the view and the wheel zooms it', async ({ page }) => {
  await page.goto(DEMO);
  const graph = page.getByRole('group', { name: 'Service graph' });
  await expect(graph.getByRole('button', { name: /^app productpage v1 \(bookinfo\)/ })).toHaveCount(1);
  const viewBox = async () => ((await graph.getAttribute('viewBox')) ?? '').split(' ').map(Number);
  const [x0, y0, w0, h0] = await viewBox();
  await graph.scrollIntoViewIfNeeded();
  const box = (await graph.boundingBox())!;
  // Drag from the top right corner 120 px left and 40 px down.
  const [sx, sy] = [box.x + box.width - 10, box.y + 10];
  await page.mouse.move(sx, sy);
  await page.mouse.down();
  await page.mouse.move(sx - 60, sy + 20, { steps: 4 });
  await page.mouse.move(sx - 120, sy + 40, { steps: 4 });
  await page.mouse.up();
  const [x1, y1, w1, h1] = await viewBox();
  // The content moved with the pointer: the view box moved the other way.
  expect(x1).toBeGreaterThan(x0);
  expect(y1).toBeLessThan(y0);
  expect([w1, h1]).toEqual([w0, h0]);
  await page.mouse.wheel(0, -240);
  await expect.poll(async () => (await viewBox())[2]).toBeLessThan(w1);
});

test('a member sees far nodes as inaccessible and cannot pick other namespaces', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('combobox', { name: 'Demo identity' }).selectOption('alice');
  await expect(page.getByLabel('Signed-in identity')).toContainText('alice');
  await page.goto('/graph');
  const namespaces = page.getByRole('group', { name: 'Namespaces' });
  await expect(namespaces.getByRole('checkbox')).toHaveCount(1);
  await expect(namespaces.getByRole('checkbox', { name: 'bookinfo' })).toBeChecked();
  const graph = page.getByRole('group', { name: 'Service graph' });
  const far = graph.getByRole('button', { name: 'service payments-api (payments), inaccessible' });
  await expect(far).toHaveCount(1);
  // Its details are withheld, which the panel says (not "unknown", no error).
  await far.click();
  const panel = page.getByRole('complementary', { name: 'Details' });
  await expect(panel).toContainText('service · not visible to you');
  await expect(panel.getByRole('alert')).toHaveCount(0);
});

test('focus shows a node with its callers and callees only, from the side panel', async ({ page }) => {
  await page.goto('/graph?namespaces=bookinfo&type=versionedApp&services=0');
  const graph = page.getByRole('group', { name: 'Service graph' });
  const reviews = graph.getByRole('button', { name: /^app reviews v2 \(bookinfo\)/ });
  await reviews.click();
  const panel = page.getByRole('complementary', { name: 'Details' });
  await panel.getByRole('link', { name: 'Focus on reviews v2 (bookinfo)' }).click();
  await expect(page).toHaveURL(/focus=vapp%3Abookinfo%3Areviews%3Av2/);
  const bar = page.getByRole('region', { name: 'Focus' });
  await expect(bar).toContainText('reviews v2 (bookinfo)');
  // productpage calls reviews v2, which calls ratings: nothing else.
  await expect(graph.getByRole('button', { name: /^app productpage v1 \(bookinfo\)/ })).toHaveCount(1);
  await expect(graph.getByRole('button', { name: /^app ratings v1 \(bookinfo\)/ })).toHaveCount(1);
  await expect(graph.getByRole('button', { name: /^app reviews v1 \(bookinfo\)/ })).toHaveCount(0);
  await expect(graph.getByRole('button', { name: /^app details v1 \(bookinfo\)/ })).toHaveCount(0);
  // Two calls away: ratings' database too.
  await bar.getByLabel('Focus depth').selectOption('2');
  await expect(graph.getByRole('button', { name: /^app mongodb v1 \(bookinfo\)/ })).toHaveCount(1);
  await bar.getByRole('button', { name: 'Show the whole graph' }).click();
  await expect(graph.getByRole('button', { name: /^app details v1 \(bookinfo\)/ })).toHaveCount(1);
});
