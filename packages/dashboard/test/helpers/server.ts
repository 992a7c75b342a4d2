import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { startTestServer, type TestServer } from '../../../../test-utils/index.js';

const DASHBOARD_DIR = fileURLToPath(new URL('../..', import.meta.url));
const DIST_DIR = fileURLToPath(new URL('../../dist', import.meta.url));

/** The policy the browser tests run against: email needs a human, deleting is never allowed. */
export const BROWSER_TEST_POLICY = `
name: browser-tests
agents:
  "*":
    approvedScope: ["*"]
rules:
  - id: never-delete
    match: { tools: [delete_file] }
    effect: BLOCK
    reason: files are never deleted by an agent
  - id: email-needs-a-human
    match: { tools: [send_email] }
    effect: STEP_UP
    reason: outgoing email needs a human
`;

function newestSourceMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceMs(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * `npm test` builds first, so dist/ is fresh there. When the tests run on their own and dist/ is missing or
 * older than the sources, build into a private temp directory instead (test files run in parallel: none of
 * them rewrites a dist/ that another is serving).
 */
export function ensureDashboardBuilt(): string {
  const index = join(DIST_DIR, 'index.html');
  const fresh = existsSync(index) && statSync(index).mtimeMs >= newestSourceMs(join(DASHBOARD_DIR, 'src'));
  if (fresh) return DIST_DIR;
  const outDir = mkdtempSync(join(tmpdir(), 'tollgate-dashboard-build-'));
  // NODE_ENV=test (set by Vitest) would make Vite bundle React's development build.
  execFileSync('npx', ['vite', 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: DASHBOARD_DIR,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  return outDir;
}

export interface DashboardServer {
  t: TestServer;
  /** Admin key used to sign in. */
  adminKey: string;
  /** Key an SDK-instrumented agent uses. */
  agentKey: string;
}

/** A real server with the built dashboard, an active policy and keys for the admin and the agent. */
export async function startDashboardServer(): Promise<DashboardServer> {
  const dashboardDir = ensureDashboardBuilt();
  const t = await startTestServer({ config: { dashboardDir } });
  const policy = await t.request('POST', '/api/v1/policies', {
    key: t.tenantA.adminKey,
    body: { name: 'browser-tests', source: BROWSER_TEST_POLICY, activate: true },
  });
  expect(policy.status).toBe(201);
  const { token } = await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['enforce', 'events:write'], name: 'agent' });
  return { t, adminKey: t.tenantA.adminKey, agentKey: token };
}

