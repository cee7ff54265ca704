// Shared helpers: a page fixture that fails the test on any console error or
// uncaught exception in the page.
import { test as base, expect, Page } from '@playwright/test';

export const NAV = [
  { path: '/', label: 'Overview' },
  { path: '/graph', label: 'Traffic Graph' },
  { path: '/metrics', label: 'Traffic Metrics' },
  { path: '/istio', label: 'Istio Config' },
  { path: '/rollouts', label: 'Rollouts' },
  { path: '/namespaces', label: 'Namespaces' },
  { path: '/traces', label: 'Traces' },
  { path: '/prometheus', label: 'Prometheus' },
  { path: '/settings', label: 'Settings' },
  { path: '/api-docs', label: 'API' },
];

export const test = base.extend<{ page: Page; consoleErrors: string[] }>({
  consoleErrors: async ({}, use) => {
    await use([]);
  },
  page: async ({ page, consoleErrors }, use) => {
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(`uncaught: ${err.message}`));
    await use(page);
    expect(consoleErrors, 'console errors in the page').toEqual([]);
  },
});

export { expect };
