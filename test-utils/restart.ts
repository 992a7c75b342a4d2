import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey, loadConfig, startTollgate } from '@tollgate/server';

/**
 * Sends one `/v1/enforce` call (or, with `path`, a call to another enforcement route such as `/v1/enforce/output`) as
 * the admin key of {@link acrossRestart}; resolves to the decision body.
 */
export type RestartEnforce = (body: Record<string, unknown>, path?: string) => Promise<{ decision: string; reason: string }>;

/**
 * Starts Tollgate on a fresh SQLite data directory with `policySource` active, runs `before`, stops it, starts it
 * again on the same directory, runs `after`, stops it and deletes the directory: what is remembered across a restart.
 *
 * @example
 * await acrossRestart(POLICY, async (enforce) => { await enforce({ agentId: 'a', toolName: 'read' }); }, async (enforce) => { … });
 */
export async function acrossRestart(policySource: string, before: (enforce: RestartEnforce) => Promise<void>, after: (enforce: RestartEnforce) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-restart-'));
  const adminKey = generateApiKey().token;
  const config = loadConfig({}, { port: 0, host: '127.0.0.1', dataDir, adminKey, logLevel: 'silent' });
  const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
  const enforceAt = (url: string): RestartEnforce => async (body, path = '/v1/enforce') => {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    return (await res.json()) as { decision: string; reason: string };
  };
  try {
    const first = await startTollgate({ config });
    try {
      const created = await fetch(`${first.url}/api/v1/policies`, { method: 'POST', headers, body: JSON.stringify({ name: 'p', source: policySource, activate: true }) });
      if (created.status !== 201) throw new Error(`policy not created: ${created.status} ${await created.text()}`);
      await before(enforceAt(first.url));
    } finally {
      await first.close();
    }
    const second = await startTollgate({ config });
    try {
      await after(enforceAt(second.url));
    } finally {
      await second.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
