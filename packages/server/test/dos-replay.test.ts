import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, startTestServer, type TestServer } from '../../../test-utils/index.js';

// Policy simulate re-evaluated up to 100,000 recorded decisions in one synchronous run (SQLite reads are
// synchronous too), so one policies key stalled every other request of every tenant until it finished, and
// a few such requests in a row kept the server unavailable.

const DECISIONS = 30_000;
const policy = `
name: replay
agents:
  "*": { approvedScope: [search, refund] }
rules:
  - { id: big-refund, match: { tools: [refund] }, when: "args.amount > 500 && args.note.size() > 3", effect: BLOCK, reason: large refund }
`;

describe('DoS: policy simulate over many decisions', () => {
  let t: TestServer;
  let key: string;
  let policyId: string;

  beforeAll(async () => {
    t = await startTestServer();
    key = t.tenantA.adminKey;
    const created = await t.request('POST', '/api/v1/policies', { key, body: { name: 'replay', source: policy, activate: true } });
    expect(created.status).toBe(201);
    policyId = created.body.id;
    for (let start = 0; start < DECISIONS; start += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, i) => t.services.enforcement.enforce(t.tenantA.id, {
        agentId: 'bot', sessionId: `s-${(start + i) % 50}`, toolName: (start + i) % 2 ? 'refund' : 'search', arguments: { amount: start + i, note: 'x'.repeat(20) },
      })));
    }
  }, 120_000);
  afterAll(async () => {
    await t.close();
  });

  it('answers other requests while a simulate runs', async () => {
    // Probes count only between the moment the server starts simulating and the moment it is done.
    let running = false;
    let done = false;
    const policies = t.services.policies;
    const original = policies.simulate.bind(policies);
    policies.simulate = (...args) => {
      running = true;
      return original(...args).finally(() => { running = false; done = true; });
    };
    const simulate = t.request('POST', `/api/v1/policies/${policyId}/simulate`, { key, body: { limit: 100_000, source: policy.replace('500', '600') } });
    let answeredWhileRunning = 0;
    while (!done) {
      const health = await rawRequest(`${t.url}/healthz`, { method: 'GET' });
      if (running && health.status === 200) answeredWhileRunning += 1;
    }
    const report = (await simulate).body;
    expect(report.scanned).toBe(DECISIONS);
    expect(report.changed).toBeGreaterThan(0);
    expect(answeredWhileRunning).toBeGreaterThan(0);
  }, 120_000);
});
