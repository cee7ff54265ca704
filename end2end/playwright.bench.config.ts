// Browser benchmarks (not part of the test suite): the release server in
// demo mode on a synthetic mesh, Debian's Chromium. They print figures and
// assert only that the page worked. Run through scripts/bench-graph-browser.sh.
import { defineConfig } from '@playwright/test';
import { launchOptions } from './playwright.config';

const port = Number(process.env.MESHDECK_E2E_PORT ?? 18090);
const bin = process.env.MESHDECK_BIN ?? '../target/release/meshdeck';
const services = Number(process.env.MESHDECK_BENCH_SERVICES ?? 500);
// With a recorded graph answer the server's own mesh only serves the page.
const serverServices = process.env.MESHDECK_BENCH_GRAPH_JSON ? 100 : services;
const maxNamespaces = Math.ceil(services / 25) + 5;

export default defineConfig({
  testDir: './bench',
  testMatch: '**/*.bench.ts',
  outputDir: './test-results/bench',
  timeout: 300_000,
  expect: { timeout: 120_000 },
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1600, height: 1000 },
    launchOptions,
  },
  webServer: {
    command:
      `${bin} demo --bind 127.0.0.1:${port} --static-dir ${process.env.MESHDECK_STATIC_DIR ?? "../dist"} --synthetic-services ${serverServices} ` +
      `--graph-max-namespaces ${maxNamespaces}`,
    url: `http://127.0.0.1:${port}/api/health`,
    cwd: '.',
    reuseExistingServer: false,
    timeout: 120_000,
    // SIGTERM first, so meshdeck stops Prometheus and removes its files
    // (Playwright's default is SIGKILL to the whole process group).
    gracefulShutdown: { signal: 'SIGTERM', timeout: 15_000 },
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
