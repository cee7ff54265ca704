// The graph's namespace overview: on a synthetic mesh of ten namespaces
// with a detail limit of four, the graph opens as one node per namespace
// (with a banner saying why); clicking a namespace shows its services with
// the rest still aggregated, and the banner's "Collapse" folds it back;
// zooming in far enough on a namespace opens it too.
//
// A demo of its own (synthetic mesh, live metrics only, its own ports), so
// the shared demo's graph tests keep their mesh; saves screenshots.
import * as path from 'path';
import { test, expect, OwnDemo } from './fixtures';

const PORT = 18098;
const KUBE_PORT = 18458;
const BASE = `http://127.0.0.1:${PORT}`;
/** 25 services a namespace: ten namespaces, team0-ns0 to team2-ns9. */
const SERVICES = 250;
const LIMIT = 4;
const NAMESPACES = Array.from({ length: 10 }, (_, n) => `team${Math.floor(n / 4)}-ns${n}`);
const PAGE = `/graph?namespaces=${encodeURIComponent(NAMESPACES.join(','))}&window=1m`;

let demo: OwnDemo | undefined;

test.describe.configure({ mode: 'serial' });
test.use({ baseURL: BASE });

test.beforeAll(async () => {
  test.setTimeout(150_000);
  demo = new OwnDemo([
    '--bind', `127.0.0.1:${PORT}`,
    '--kube-api-bind', `127.0.0.1:${KUBE_PORT}`,
    '--synthetic-services', String(SERVICES),
    '--graph-max-namespaces', String(LIMIT),
  ]);
  // Ready, and two scrapes in, so the namespaces have traffic to sum.
  const api = `${BASE}/api/graph?namespaces=${encodeURIComponent(NAMESPACES.join(','))}&window=1m`;
  await demo.waitFor(
    "the demo's graph had no traffic",
    () =>
      fetch(api, { headers: AUTH })
        .then((r) => (r.status === 200 ? r.json() : { edges: [] }))
        .then((g) => g.edges.filter((e: { rps: number }) => e.rps > 0).length > 5),
    120_000,
    1000,
  );
});

test.afterAll(async () => {
  await demo?.stop();
});

/** The demo owner's token (demo mode prints it for anyone). */
const AUTH = { Authorization: 'Bearer demo-token-admin' };

const nsNode = (ns: string) => new RegExp(`^namespace ${ns} \\(${ns}\\)`);

test('more namespaces than the detail limit open as an overview', async ({ page }) => {
  // The API answers the overview, not a 400, and says why.
  const answer = await page.request.get(`/api/graph?namespaces=${NAMESPACES.join(',')}&window=1m`, { headers: AUTH });
  expect(answer.status()).toBe(200);
  const overview = (await answer.json()).overview;
  expect(overview.automatic).toBe(true);
  expect(overview.detail_limit).toBe(LIMIT);
  expect(overview.namespaces).toHaveLength(NAMESPACES.length);

  await page.goto(PAGE);
  const bar = page.getByRole('region', { name: 'Overview' });
  await expect(bar).toContainText(
    `Showing ${NAMESPACES.length} namespaces as an overview; click one to see its services (more namespaces than the ${LIMIT} one graph shows in detail).`,
  );
  const graph = page.getByRole('group', { name: 'Service graph' });
  for (const ns of NAMESPACES) {
    await expect(graph.getByRole('button', { name: nsNode(ns) })).toHaveCount(1);
  }
  // Each says what it holds: the services seen in the window (of its 25)
  // and its requests per second.
  await expect(graph.getByRole('button', { name: nsNode('team0-ns1') })).toContainText(/\d+ services · [\d.k]+ rps/);
  await expect(graph.getByRole('button', { name: /^service / })).toHaveCount(0);
  await expect(graph.getByRole('button', { name: /^edge team\d-ns\d \(team\d-ns\d\) to team\d-ns\d \(team\d-ns\d\), / }).first()).toBeAttached();
  await page.screenshot({ path: path.join('artifacts', 'graph-overview.png'), fullPage: true });
});

test('clicking a namespace expands it; Collapse folds it back', async ({ page }) => {
  await page.goto(PAGE);
  const graph = page.getByRole('group', { name: 'Service graph' });
  await graph.getByRole('button', { name: nsNode('team0-ns1') }).click();
  await expect(page).toHaveURL(/[?&]expand=team0-ns1(&|$)/);
  await expect(page).toHaveURL(/[?&]aggregate=namespace(&|$)/);
  // Its services in full, the other nine still one node each.
  await expect(graph.getByRole('button', { name: /^service \S+ \(team0-ns1\)/ }).first()).toBeVisible();
  expect(await graph.getByRole('button', { name: /^service \S+ \(team0-ns1\)/ }).count()).toBeGreaterThan(10);
  await expect(graph.getByRole('button', { name: nsNode('team0-ns1') })).toHaveCount(0);
  for (const ns of NAMESPACES.filter((n) => n !== 'team0-ns1')) {
    await expect(graph.getByRole('button', { name: nsNode(ns) })).toHaveCount(1);
  }
  // Nothing of another namespace is drawn in detail.
  await expect(graph.getByRole('button', { name: /^service \S+ \(team0-ns2\)/ })).toHaveCount(0);
  await page.screenshot({ path: path.join('artifacts', 'graph-overview-expanded.png'), fullPage: true });

  await page.getByRole('region', { name: 'Overview' }).getByRole('button', { name: 'Collapse team0-ns1' }).click();
  await expect(page).not.toHaveURL(/expand=/);
  await expect(graph.getByRole('button', { name: nsNode('team0-ns1') })).toHaveCount(1);
  await expect(graph.getByRole('button', { name: /^service / })).toHaveCount(0);
});

test('zooming in on a namespace opens it, and the view starts on its box', async ({ page }) => {
  await page.goto(PAGE);
  const graph = page.getByRole('group', { name: 'Service graph' });
  const node = graph.getByRole('button', { name: nsNode('team0-ns2') });
  await expect(node).toHaveCount(1);
  await page.locator('.graph-viewport').scrollIntoViewIfNeeded();
  // The wheel over the namespace, a notch at a time, until it opens.
  let opened = false;
  for (let i = 0; i < 30 && !opened; i++) {
    const b = (await node.boundingBox())!;
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
    await page.mouse.wheel(0, -120);
    // The view box takes a burst of wheel steps once the wheel rests.
    await page.waitForTimeout(250);
    opened = /[?&]expand=team0-ns2(&|$)/.test(page.url());
  }
  expect(opened, 'zooming in never opened team0-ns2').toBe(true);
  await expect(graph.getByRole('button', { name: /^service \S+ \(team0-ns2\)/ }).first()).toBeAttached();
  await expect(graph.getByRole('button', { name: nsNode('team0-ns2') })).toHaveCount(0);
  // The drawing starts on the opened namespace: its box's title and every
  // one of its nodes are in the pane.
  const pane = (await page.locator('.graph-viewport').boundingBox())!;
  const inPane = (b: { x: number; y: number; width: number; height: number }) =>
    b.x >= pane.x && b.y >= pane.y && b.x + b.width <= pane.x + pane.width && b.y + b.height <= pane.y + pane.height;
  const box_of_ns2 = page.locator('.ns-box').filter({ has: page.locator('text', { hasText: /^team0-ns2$/ }) });
  expect(inPane((await box_of_ns2.locator('text').boundingBox())!), "team0-ns2's title in the pane").toBe(true);
  const members = graph.getByRole('button', { name: /^(service|app) \S+( v\d+)? \(team0-ns2\)/ });
  expect(await members.count()).toBeGreaterThan(10);
  for (const m of await members.locator('.shape').all()) {
    expect(inPane((await m.boundingBox())!), 'a node of team0-ns2 out of the pane').toBe(true);
  }
  await page.screenshot({ path: path.join('artifacts', 'graph-overview-zoomed-open.png'), fullPage: true });
});

test('the overview by project: one node per project, opening into its namespaces', async ({ page }) => {
  await page.goto(PAGE);
  await page.getByLabel('Overview').selectOption('project');
  await expect(page).toHaveURL(/[?&]aggregate=project(&|$)/);
  const bar = page.getByRole('region', { name: 'Overview' });
  await expect(bar).toContainText(/Showing \d+ projects as an overview/);
  const graph = page.getByRole('group', { name: 'Service graph' });
  // Four namespaces a project: team0 and team1 hold four each, team2 two.
  const project = (n: number) => graph.getByRole('button', { name: new RegExp(`^project Team ${n} \\(p-team${n}\\)`) });
  for (const n of [0, 1, 2]) await expect(project(n)).toHaveCount(1);
  await expect(project(0)).toContainText(/4 namespaces · \d+ services · [\d.k]+ rps/);
  await expect(project(2)).toContainText(/2 namespaces · /);
  await expect(graph.getByRole('button', { name: /^namespace / })).toHaveCount(0);
  await expect(graph.getByRole('button', { name: /^service / })).toHaveCount(0);
  await page.screenshot({ path: path.join('artifacts', 'graph-overview-projects.png'), fullPage: true });

  // Opening Team 1 shows its four namespaces in full.
  await project(1).click();
  await expect(page).toHaveURL(/[?&]expand=team1-ns4%2Cteam1-ns5%2Cteam1-ns6%2Cteam1-ns7(&|$)/);
  await expect(page).toHaveURL(/[?&]aggregate=project(&|$)/);
  await expect(project(1)).toHaveCount(0);
  for (const ns of ['team1-ns4', 'team1-ns7']) {
    await expect(graph.getByRole('button', { name: new RegExp(`^service \\S+ \\(${ns}\\)`) }).first()).toBeAttached();
  }
  await expect(project(0)).toHaveCount(1);
  // Folding one of them back: it is Team 1's node again, of one namespace.
  await bar.getByRole('button', { name: 'Collapse team1-ns4' }).click();
  await expect(project(1)).toHaveCount(1);
  await expect(project(1)).toContainText(/^.*1 namespace · /);
  await expect(graph.getByRole('button', { name: /^service \S+ \(team1-ns4\)/ })).toHaveCount(0);
});
