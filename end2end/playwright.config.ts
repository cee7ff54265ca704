// Playwright drives Debian's Chromium against the release server in demo mode.
import { defineConfig } from '@playwright/test';

const port = Number(process.env.MESHDECK_E2E_PORT ?? 18080);
const bin = process.env.MESHDECK_BIN ?? '../target/release/meshdeck';
// The demo's in-memory Kubernetes API, for tests that act as kubectl would.
export const kubePort = Number(process.env.MESHDECK_E2E_KUBE_PORT ?? 18443);

/** Debian's Chromium; shared with the benchmarks' config. */
export const launchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  // Without the networking flags Chromium keeps trying the closed network.
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ],
};

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 2,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    screenshot: 'only-on-failure',
    launchOptions,
  },
  webServer: {
    command: `${bin} demo --bind 127.0.0.1:${port} --kube-api-bind 127.0.0.1:${kubePort}`,
    url: `http://127.0.0.1:${port}/api/health`,
    cwd: '.',
    reuseExistingServer: false,
    timeout: 120_000,
    // SIGTERM first, so meshdeck stops Prometheus and removes its files
    // (Playwright's default is SIGKILL to the whole process group).
    gracefulShutdown: { signal: 'SIGTERM', timeout: 15_000 },
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
