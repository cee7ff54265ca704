// Shared helpers: a page fixture that fails the test on any console error or
// uncaught exception in the page.
import { spawn, ChildProcess } from 'child_process';
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

/**
 * A meshdeck demo of a spec's own (its own ports and mesh), for specs that
 * must not change the shared demo: started with `args` after `demo`, the
 * last of its output kept for error messages.
 */
export class OwnDemo {
  private readonly process: ChildProcess;
  private readonly log: string[] = [];

  constructor(args: string[]) {
    const bin = process.env.MESHDECK_BIN ?? '../target/release/meshdeck';
    this.process = spawn(bin, ['demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      this.log.push(chunk.toString());
      if (this.log.length > 200) this.log.shift();
    };
    this.process.stdout?.on('data', keep);
    this.process.stderr?.on('data', keep);
  }

  /** Polls `ready` every `everyMs` until it says yes; fails, with the
   * demo's output, if the demo exits or `withinMs` pass first. */
  async waitFor(what: string, ready: () => Promise<boolean>, withinMs: number, everyMs: number): Promise<void> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      if (this.process.exitCode !== null) {
        throw new Error(`the demo exited with ${this.process.exitCode}:\n${this.log.join('')}`);
      }
      if (await ready().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`${what} after ${withinMs / 1000} s:\n${this.log.join('')}`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  /** SIGTERM first, so meshdeck stops its Prometheus and removes its
   * files; SIGKILL after 15 s. */
  async stop(): Promise<void> {
    const demo = this.process;
    if (demo.exitCode !== null) return;
    const exited = new Promise((r) => demo.once('exit', r));
    demo.kill('SIGTERM');
    const timer = setTimeout(() => demo.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}
