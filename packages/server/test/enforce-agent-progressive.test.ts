// Agent-wide progressive escalation (`progressive: { across: agent }`). In progressive mode the first violation is
// STEP_UP and the `blockAfter`-th is BLOCK, counted per session by default; the caller names the session, so an agent
// that sends each call under a fresh session id was never escalated. These tests play that evasion against a
// running server, across agents and tenants, past the window, across a restart, and through simulate (replay).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '@tollgate/server';
import { acrossRestart, startTestServer, type TestServer } from '../../../test-utils/index.js';

const POLICY = `name: escalation
agents: { "*": { approvedScope: [search_kb, lookup_order] } }
progressive: { blockAfter: 2, across: agent, within: 1h }
rules: []
`;

/** The same policy counting per session (the default). */
const PER_SESSION = POLICY.replace('progressive: { blockAfter: 2, across: agent, within: 1h }', 'progressive: { blockAfter: 2 }');

/** An out-of-scope call in progressive mode: a violation. */
const violation = (agentId: string, sessionId: string) => ({ agentId, sessionId, toolName: 'delete_all_orders', arguments: {}, enforcement: 'progressive' });

describe('agent-wide progressive escalation over HTTP', () => {
  let t: TestServer;
  const clock = manualClock(Date.parse('2026-07-01T09:00:00Z'));
  const enforce = (key: string, body: Record<string, unknown>) => t.request('POST', '/v1/enforce', { key, body });

  beforeAll(async () => {
    t = await startTestServer({ clock });
    for (const tenant of [t.tenantA, t.tenantB]) {
      const created = await t.request('POST', '/api/v1/policies', { key: tenant.adminKey, body: { name: 'escalation', source: POLICY, activate: true } });
      expect(created.status).toBe(201);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it('a fresh session id per call does not start the escalation over', async () => {
    const key = t.tenantA.adminKey;
    const first = await enforce(key, violation('rotator', 'r-1'));
    expect(first.body).toMatchObject({ decision: 'STEP_UP', matchedRules: ['approved-scope'] });
    clock.advance(1_000);
    const second = await enforce(key, violation('rotator', 'r-2'));
    expect(second.body.decision).toBe('BLOCK');
    expect(second.body.reason).toMatch(/progressive: violation 2 of this agent within 1h, BLOCK from 2/);
    // No session id at all is one more fresh session: still blocked.
    expect((await enforce(key, { ...violation('rotator', 'x'), sessionId: undefined })).body.decision).toBe('BLOCK');
    // Calls that are not violations are unaffected.
    expect((await enforce(key, { agentId: 'rotator', sessionId: 'r-4', toolName: 'search_kb', arguments: {}, enforcement: 'progressive' })).body.decision).toBe('ALLOW');
  });

  it('is per agent and per tenant', async () => {
    expect((await enforce(t.tenantB.adminKey, violation('rotator', 'b-1'))).body.decision).toBe('STEP_UP');
    expect((await enforce(t.tenantA.adminKey, violation('bystander', 'y-1'))).body.decision).toBe('STEP_UP');
  });

  it('only violations within the window count', async () => {
    clock.advance(3_600_001);
    expect((await enforce(t.tenantA.adminKey, violation('rotator', 'r-5'))).body.decision).toBe('STEP_UP');
  });

  it('simulate replays a draft that counts agent-wide, seeded with the violations before the range', async () => {
    const key = t.tenantA.adminKey;
    const created = await t.request('POST', '/api/v1/policies', { key, body: { name: 'per-session', source: PER_SESSION, activate: true } });
    expect(created.status).toBe(201);
    clock.advance(7_200_000);
    expect((await enforce(key, violation('replayed', 'p-1'))).body.decision).toBe('STEP_UP');
    clock.advance(60_000);
    const from = clock.now() - 1;
    expect((await enforce(key, violation('replayed', 'p-2'))).body.decision).toBe('STEP_UP'); // per session: shaken off
    const simulated = await t.request('POST', `/api/v1/policies/${created.body.id}/simulate`, { key, body: { source: POLICY, from: new Date(from).toISOString() } });
    expect(simulated.status).toBe(200);
    expect(simulated.body).toMatchObject({ scanned: 1, changed: 1, transitions: { 'STEP_UP→BLOCK': 1 } });
    const perSession = await t.request('POST', `/api/v1/policies/${created.body.id}/simulate`, { key, body: { source: PER_SESSION, from: new Date(from).toISOString() } });
    expect(perSession.body).toMatchObject({ scanned: 1, changed: 0 });
  });

  it('refuses agent-wide escalation without a window, naming the field', async () => {
    const res = await t.request('POST', '/api/v1/policies', { key: t.tenantA.adminKey, body: { name: 'bad', source: POLICY.replace(', within: 1h', '') } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('POLICY_INVALID');
    expect(res.body.error.details.diagnostics[0]).toMatchObject({ path: 'progressive.within', line: 3 });
  });
});

describe('agent-wide escalation survives a restart (SQLite file)', () => {
  it('a violation before the restart makes the first one after it, from a new session, a BLOCK', async () => {
    await acrossRestart(POLICY, async (enforce) => {
      expect((await enforce(violation('persisted', 'before'))).decision).toBe('STEP_UP');
    }, async (enforce) => {
      expect((await enforce(violation('persisted', 'after'))).decision).toBe('BLOCK');
      expect((await enforce(violation('someone-else', 'after'))).decision).toBe('STEP_UP');
    });
  });
});
