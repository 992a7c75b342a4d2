import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Debian's chromium (installed by `.ci/run`); override with TOLLGATE_CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.TOLLGATE_CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags measured to work on this kind of machine (see FACTS.md). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Whether the browser tests can run. In CI a missing chromium is a failure (the suite must not
 * silently pass without a browser); elsewhere the suite is skipped with a loud warning.
 */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  const message = `chromium not found at ${CHROMIUM_PATH} (apt-get install -y chromium)`;
  if (process.env.CI === 'true') throw new Error(`Browser tests need ${message}`);
  console.warn(`\n⚠️  SKIPPING dashboard browser tests: ${message}\n`);
  return false;
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Starts chromium with a fresh profile directory (removed on close). */
export async function openBrowser(viewport = { width: 1280, height: 900 }): Promise<BrowserSession> {
  const profile = mkdtempSync(join(tmpdir(), 'tollgate-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  // Fail a stuck step with Playwright's message well before the test's own timeout.
  page.setDefaultTimeout(20_000);
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Where each run saves its screenshots: `test-output/screenshots` (git-ignored), so a test run never dirties the
 * checkout. With TOLLGATE_UPDATE_SCREENSHOTS=1 they go to docs/screenshots instead, which the README and docs show.
 */
export const SCREENSHOT_DIR = fileURLToPath(
  new URL(process.env['TOLLGATE_UPDATE_SCREENSHOTS'] === '1' ? '../../../../docs/screenshots' : '../../../../test-output/screenshots', import.meta.url),
);

/** Saves a full-page screenshot as <SCREENSHOT_DIR>/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/**
 * `expect.poll` with a timeout that survives a loaded CI machine (Vitest's default is one second).
 *
 * @example
 * await poll(() => page.locator('.live').textContent()).toBe('Live');
 */
export function poll<T>(read: () => T | Promise<T>, options: { timeout?: number } = {}) {
  return expect.poll(read, { timeout: 20_000, interval: 100, ...options });
}
