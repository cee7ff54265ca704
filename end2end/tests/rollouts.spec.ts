// Canary rollouts end to end: the demo's healthy scenario advances step by
// step and promotes itself; the failing one is rolled back by its own
// analysis; a service's page starts one from its form (after a 422 the
// server names), a stale "Start" gets the server's refusal, and the
// controls pause, resume and abort it.
//
// These tests run on a demo of their own: the other specs change reviews'
// weights on the shared one, and a rollout changes them too. The rollouts
// take real time (15 s intervals, Prometheus scraping every 5 s), so the
// tests run one after the other and wait for the page to reach each phase.
import { test, expect, OwnDemo } from './fixtures';
import type { Locator, Page } from '@playwright/test';

const PORT = 18096;
const KUBE_PORT = 18456;
const BASE = `http://127.0.0.1:${PORT}`;
/** Longest wait for a rollout to finish by itself. */
const SETTLE_MS = 150_000;

let demo: OwnDemo | undefined;

test.describe.configure({ mode: 'serial' });
test.use({ baseURL: BASE });

test.beforeAll(async () => {
  test.setTimeout(150_000);
  demo = new OwnDemo(['--bind', `127.0.0.1:${PORT}`, '--kube-api-bind', `127.0.0.1:${KUBE_PORT}`, '--history-minutes', '0']);
  await demo.waitFor(
    'the demo did not get ready',
    () => fetch(`${BASE}/api/ready`).then((r) => r.status === 200),
    120_000,
    500,
  );
});

test.afterAll(async () => {
  await demo?.stop();
});

/** From /rollouts, starts the demo scenario titled `title` and lands on its page. */
async function startScenario(page: Page, title: RegExp, url: string) {
  await page.goto('/rollouts');
  await expect(page.getByRole('heading', { level: 1, name: 'Rollouts' })).toBeVisible();
  const card = page.getByRole('article', { name: title });
  await card.getByRole('button', { name: 'Start' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByRole('heading', { name: /^Start “/ })).toBeVisible();
  await dialog.getByRole('button', { name: 'Start rollout' }).click();
  await expect(page).toHaveURL(url);
  await expect(page.getByRole('dialog')).toHaveCount(0);
}

/** The rollout page's summary, and its phase badge once it reads `phase`. */
async function waitForPhase(page: Page, phase: string, timeout = SETTLE_MS): Promise<Locator> {
  const summary = page.getByRole('region', { name: 'Rollout summary' });
  await expect(summary.getByText(phase, { exact: true })).toBeVisible({ timeout });
  return summary;
}

/** The three charts each draw an SVG, with the two versions in the legend and `marks` labelled. */
async function expectCharts(page: Page, marks: string[]) {
  const charts = page.getByRole('region', { name: 'Canary against stable' });
  for (const title of ['Success Rate', 'Request Volume', 'Request Duration (p99)']) {
    const figure = charts.getByRole('figure', { name: `${title} chart` });
    const legend = figure.getByRole('list', { name: 'Versions' });
    await expect(legend).toContainText('stable');
    await expect(legend).toContainText('canary');
    const svg = figure.locator('svg');
    await expect(svg).toBeVisible();
    await expect(figure.getByRole('img', { name: /step boundaries at \d+ %/ })).toBeVisible();
    for (const mark of marks) {
      await expect(svg.locator('text', { hasText: new RegExp(`^\\s*${mark}\\s*$`) }).first()).toBeAttached();
    }
  }
}

/** Rows of the timeline whose action is `action`. */
function rowsWith(page: Page, action: string): Locator {
  const timeline = page.getByRole('table', { name: 'Timeline' });
  return timeline.getByRole('row').filter({ has: page.getByText(action, { exact: true }) });
}

test('the healthy scenario advances on passing checks and promotes itself', async ({ page }) => {
  test.setTimeout(200_000);
  await startScenario(page, /^Healthy canary/, '/rollouts/bookinfo/reviews');
  await expect(page.getByRole('heading', { level: 1, name: 'Rollout of reviews' })).toBeVisible();
  let summary = await waitForPhase(page, 'running', 15_000);
  await expect(summary.getByRole('list', { name: 'Steps' }).getByRole('listitem')).toHaveText([
    /^20 %/,
    /^50 %/,
    /^100 %/,
  ]);
  await expect(summary).toContainText(/success rate ≥ [\d.]+ %/);
  await expect(summary).toContainText('judged every 15 s');
  await expect(summary.getByRole('group', { name: 'Controls' }).getByRole('button')).toHaveText([
    'Pause',
    'Skip analysis',
    'Promote now',
    'Abort',
  ]);

  // The page reloads by itself until the controller has promoted v2.
  summary = await waitForPhase(page, 'promoted');
  await expect(summary).toContainText('Canary weight now: 100 %');
  await expect(summary.getByRole('list', { name: 'Steps' }).getByRole('listitem')).toHaveText([
    /passed/,
    /passed/,
    /passed/,
  ]);
  await expect(summary.getByRole('group', { name: 'Controls' })).toHaveCount(0);

  // Timeline, newest first: the start by admin, judgements that advanced
  // with their checks passed, and the promotion by the controller.
  const start = rowsWith(page, 'start');
  await expect(start).toHaveCount(1);
  await expect(start).toContainText('admin');
  const advances = rowsWith(page, 'advance');
  expect(await advances.count()).toBeGreaterThanOrEqual(1);
  const checks = advances.first().getByRole('list', { name: 'Checks' });
  await expect(checks).toContainText(/success rate [\d.]+ % \(limit ≥ [\d.]+ %\)/);
  await expect(checks.getByText('failed', { exact: true })).toHaveCount(0);
  await expect(checks.getByText('passed', { exact: true }).first()).toBeVisible();
  const promote = rowsWith(page, 'promote');
  await expect(promote).toHaveCount(1);
  await expect(promote).toContainText('controller');
  await expect(promote).toContainText('100 %');
  const timeline = page.getByRole('table', { name: 'Timeline' });
  await expect(timeline.getByRole('row').nth(1)).toContainText('promote');

  await expectCharts(page, ['50 %', '100 %']);

  // The PromQL and each judgement's numbers, on demand.
  await page.getByText('PromQL and measured numbers').click();
  const measurements = page.getByRole('table', { name: 'Measurements' });
  await expect(measurements).toBeVisible();
  expect(await measurements.getByRole('row').count()).toBeGreaterThanOrEqual(2 + 2);
  await expect(page.locator('.queries code').first()).toContainText('istio_requests_total');
});

test('the failing scenario is rolled back by its own analysis', async ({ page }) => {
  test.setTimeout(200_000);
  await startScenario(page, /^Failing canary/, '/rollouts/payments/payments-api');
  const summary = await waitForPhase(page, 'rolled back');
  await expect(summary).toContainText('Canary weight now: 0 %');
  await expect(summary.getByRole('list', { name: 'Steps' }).getByRole('listitem').filter({ hasText: 'ended here' })).toHaveCount(1);

  // Two failed judgements in a row: a hold, then the roll back, each with
  // a success rate below its limit.
  const rollBack = rowsWith(page, 'roll back');
  await expect(rollBack).toHaveCount(1);
  await expect(rollBack).toContainText('controller');
  await expect(rollBack.getByRole('cell', { name: '0 %', exact: true })).toBeVisible();
  const failed = page
    .getByRole('table', { name: 'Timeline' })
    .getByRole('list', { name: 'Checks' })
    .getByRole('listitem')
    .filter({ hasText: /failed\s+success rate/ });
  expect(await failed.count()).toBeGreaterThanOrEqual(2);
  for (const text of await failed.allTextContents()) {
    const m = text.match(/success rate ([\d.]+) % \(limit ≥ ([\d.]+) %\)/);
    expect(m, text).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(Number(m![2]));
  }

  await expectCharts(page, ['0 %']);
});

test('a service page starts a rollout from its form, and its controls pause, resume and abort it', async ({ page, context, consoleErrors }) => {
  test.setTimeout(120_000);
  // A second tab with the list as it is now: no rollout of reviews is
  // running, so its scenario may be started.
  const stale = await context.newPage();
  await stale.goto('/rollouts');
  const healthy = stale.getByRole('article', { name: /^Healthy canary/ });
  await expect(healthy.getByRole('button', { name: 'Start' })).toBeEnabled();

  // The service page links to the finished rollout and offers another.
  await page.goto('/services/bookinfo/reviews');
  const section = page.getByRole('region', { name: 'Canary rollout' });
  await expect(section.getByText('promoted', { exact: true })).toBeVisible();
  await expect(section.getByRole('link', { name: 'Open the rollout' })).toHaveAttribute('href', '/rollouts/bookinfo/reviews');
  const form = section.getByRole('form', { name: 'Start a canary rollout' });
  await expect(form).toContainText('Prefilled with the defaults: steps 10 → 25 → 50 → 100 %');
  await form.getByLabel('Stable version').selectOption('v2');
  await form.getByLabel('Canary version').selectOption('v3');
  await form.getByLabel('Steps (% of traffic)').fill('10, 50');
  // Shorter than the demo's scrape interval (5 s): the server says so.
  await form.getByLabel('Interval (s)').fill('2');
  await form.getByRole('button', { name: 'Start rollout' }).click();
  const refusal = form.getByRole('alert');
  await expect(refusal).toContainText('The rollout was not started');
  await expect(refusal).toContainText('interval_s');
  await expect(form.getByLabel('Interval (s)')).toHaveAttribute('aria-invalid', 'true');
  // Long enough that no judgement comes during the test.
  await form.getByLabel('Interval (s)').fill('600');
  await expect(form.getByLabel('Interval (s)')).not.toHaveAttribute('aria-invalid', 'true');
  await form.getByRole('button', { name: 'Start rollout' }).click();
  await expect(page).toHaveURL('/rollouts/bookinfo/reviews');
  let summary = await waitForPhase(page, 'running', 15_000);
  await expect(summary).toContainText('v2 (stable) → v3 (canary)');
  await expect(summary).toContainText('Canary weight now: 10 %');

  // The stale tab's Start reaches the server, which refuses it.
  await healthy.getByRole('button', { name: 'Start' }).click();
  const dialog = stale.getByRole('dialog');
  await dialog.getByRole('button', { name: 'Start rollout' }).click();
  await expect(dialog.getByRole('alert')).toContainText('The rollout was not started');
  await expect(dialog.getByRole('alert')).toContainText(/HTTP 4\d\d/);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await stale.close();

  // Each control asks first; cancelling changes nothing.
  const controls = () => summary.getByRole('group', { name: 'Controls' });
  await controls().getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByRole('dialog')).toContainText('Pause the rollout of reviews?');
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(summary.getByText('running', { exact: true })).toBeVisible();

  for (const [control, phase] of [
    ['Pause', 'paused'],
    ['Resume', 'running'],
    ['Abort', 'aborted'],
  ]) {
    await controls().getByRole('button', { name: control, exact: true }).click();
    const confirm = page.getByRole('dialog');
    await expect(confirm.getByRole('heading')).toContainText('?');
    await confirm.getByRole('button', { name: control, exact: true }).click();
    await expect(page.getByRole('dialog')).toHaveCount(0);
    summary = await waitForPhase(page, phase, 15_000);
    await expect(rowsWith(page, control.toLowerCase())).toHaveCount(1);
  }
  await expect(summary).toContainText('Canary weight now: 0 %');
  await expect(rowsWith(page, 'abort')).toContainText('admin');
  // Chromium logs the refused start (422); nothing else may be logged.
  expect(consoleErrors.length).toBeGreaterThanOrEqual(1);
  expect(consoleErrors.every((e) => e.includes('status of 422'))).toBe(true);
  consoleErrors.length = 0;
});
