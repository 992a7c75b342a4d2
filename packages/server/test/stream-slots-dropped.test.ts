// A stream whose client is gone before it starts gives its slot back at once (session 13 red team: on PostgreSQL,
// audit streams dropped right after the request kept their slot, and kept reading the ledger for nobody, until the
// stream's 10-minute timeout, so 600 dropped connections refused every stream and long poll of the tenant).
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTestUrl, startTestServer, type TestServer } from '../../../test-utils/index.js';

const pgUrl = postgresTestUrl('stream slots of dropped connections');

/** Sends a GET and closes the connection `afterMs` later, without reading the answer. */
function dropAfter(url: string, path: string, key: string, afterMs: number): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${key}\r\n\r\n`);
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, afterMs);
    });
    socket.on('error', () => resolve());
  });
}

describe.each([
  ['SQLite', undefined],
  ['PostgreSQL', pgUrl],
])('stream slots of dropped connections on %s', (dialect, postgresUrl) => {
  const skip = dialect === 'PostgreSQL' && !postgresUrl;
  let t: TestServer;
  beforeAll(async () => {
    if (skip) return;
    t = await startTestServer({ postgresUrl, config: { maxStreamsPerTenant: 8 } });
    // Records to look up when a stream starts (and so an await before it does).
    for (let i = 0; i < 5; i += 1) {
      await t.request('POST', '/v1/enforce', { key: t.tenantA.adminKey, body: { agentId: 'bot', sessionId: `s-${i}`, toolName: 'delete_everything', arguments: {}, enforcement: 'block', approvedScope: ['read'] } });
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  it.skipIf(skip)('audit and approvals streams dropped at once do not keep the tenant\'s slots', async () => {
    const keys = await Promise.all([1, 2, 3, 4].map(async () => (await t.services.keys.create({ tenantId: t.tenantA.id, scopes: ['admin'] })).token));
    for (let round = 0; round < 40; round += 1) {
      await Promise.all(keys.flatMap((key, i) => [
        dropAfter(t.url, '/api/sdk/audit/stream?since=0', key, i % 3),
        dropAfter(t.url, '/api/v1/approvals/stream', key, (i + 1) % 3),
      ]));
    }
    // Every slot is free again: a full set of streams opens (each key within its share).
    await expect.poll(async () => {
      const controller = new AbortController();
      const opened = await Promise.all(keys.flatMap((key) => [
        fetch(`${t.url}/api/sdk/audit/stream`, { headers: { authorization: `Bearer ${key}` }, signal: controller.signal }),
        fetch(`${t.url}/api/v1/approvals/stream`, { headers: { authorization: `Bearer ${key}` }, signal: controller.signal }),
      ]));
      controller.abort();
      await new Promise((resolve) => setTimeout(resolve, 50));
      return opened.map((response) => response.status);
    }, { timeout: 3_000 }).toEqual(Array(8).fill(200));
  });
});
