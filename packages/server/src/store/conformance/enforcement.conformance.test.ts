import { expect, it } from 'vitest';
import { describeStoreConformance } from '../../../../../test-utils/index.js';
import type { Store } from '../index.js';
import type { DecisionRecord, EnforcementBatch } from '../repositories/decisions.js';
import { createSqliteBatchWriter } from '../repositories/decisions-sqlite-native.js';
import { sweepExpiredCounters } from '../../services/enforcement/counter-sweeper.js';
import type { HoldRecord } from '../repositories/holds.js';

function decision(tenantId: string, id: string, overrides: Partial<DecisionRecord> = {}): DecisionRecord {
  return {
    id, tenantId, ts: 1_000, agentId: 'bot', userId: 'alice', sessionId: 's-1', toolName: 'send_email', callId: 'c-1',
    requestedMode: 'block', mode: 'block', decision: 'BLOCK', verdict: 'BLOCK', wouldHaveBeen: null, reason: 'outside scope',
    violationId: `vio_${id}`, severity: 'high', holdId: null, policyId: null, policyVersion: null, matchedRules: ['approved-scope'],
    shadow: [{ ruleId: 'try', effect: 'STEP_UP', reason: 'x' }], errors: [], arguments: { to: 'x@evil.example', nested: { n: 1 } },
    approvedScope: ['search'], context: { session: { callCount: 0 } }, ...overrides,
  };
}

function hold(tenantId: string, id: string, overrides: Partial<HoldRecord> = {}): HoldRecord {
  return {
    id, tenantId, decisionId: 'dec_h', actionHash: 'a'.repeat(64), agentId: 'bot', userId: 'alice', sessionId: 's-1', toolName: 'pay',
    arguments: { amount: 900 }, reason: 'big', status: 'pending', createdAt: 1_000, expiresAt: 10_000, decidedAt: null, approver: null,
    comment: null, consumedAt: null, ...overrides,
  };
}

function batch(part: Partial<EnforcementBatch>): EnforcementBatch {
  return { decisions: [], violations: [], holds: [], outputs: [], sessions: [], agents: [], counters: [], ...part };
}

/** Both write paths: the portable repository and, on SQLite, the prepared-statement fast path. */
function writers(store: Store): Array<[string, (b: EnforcementBatch) => Promise<void>]> {
  const portable: [string, (b: EnforcementBatch) => Promise<void>] = ['repository', (b) => store.decisions.writeBatch(b)];
  const native = store.native;
  return native.dialect === 'sqlite' ? [portable, ['sqlite fast path', createSqliteBatchWriter(native.database)]] : [portable];
}

describeStoreConformance('enforcement', (getStore) => {
  it('decisions, violations, sessions and counters of a batch round-trip through every write path', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'enf-a', name: 'a', createdAt: 1 });
    for (const [label, write] of writers(store)) {
      const id = `dec_${label.replace(/\W/g, '')}`;
      await write(batch({
        decisions: [decision('enf-a', id, { sessionId: `s-${label}` })],
        violations: [{ id: `vio_${id}`, tenantId: 'enf-a', decisionId: id, ts: 1_000, agentId: 'bot', userId: 'alice', sessionId: `s-${label}`, toolName: 'send_email', decision: 'BLOCK', severity: 'high', reason: 'r', ruleIds: ['approved-scope'] }],
        sessions: [{ tenantId: 'enf-a', sessionId: `s-${label}`, agentId: 'bot', state: '{"callCount":1}', updatedAt: 1 }, { tenantId: 'enf-a', sessionId: `s-${label}`, agentId: 'bot', state: '{"callCount":2}', updatedAt: 2 }],
        counters: [{ tenantId: 'enf-a', key: `k-${label}`, increment: 1, expiresAt: 5_000 }, { tenantId: 'enf-a', key: `k-${label}`, increment: 1, expiresAt: 5_000 }],
        outputs: [{ tenantId: 'enf-a', decisionId: id, agentId: 'bot', sessionId: `s-${label}`, toolName: 'read', ts: 1_001, decision: 'ALLOW', reason: 'ok', taints: { added: [['f1', ['pii']]] } }],
      }));
      const { seq, ...stored } = (await store.decisions.get('enf-a', id))!;
      expect(seq).toBeGreaterThan(0);
      expect(stored).toEqual(decision('enf-a', id, { sessionId: `s-${label}` }));
      expect(await store.decisions.loadSessionState('enf-a', `s-${label}`)).toBe('{"callCount":2}');
      await write(batch({ counters: [{ tenantId: 'enf-a', key: `k-${label}`, increment: 3, expiresAt: 5_000 }] }));
      expect((await store.decisions.loadCounters('enf-a', [`k-${label}`, 'missing'], 1_000)).get(`k-${label}`)).toBe(5);
      expect((await store.decisions.loadCounters('enf-a', [`k-${label}`], 5_000)).size).toBe(0);
      expect(await store.decisions.outputsForSessions('enf-a', [`s-${label}`])).toEqual([
        { tenantId: 'enf-a', decisionId: id, agentId: 'bot', sessionId: `s-${label}`, toolName: 'read', ts: 1_001, decision: 'ALLOW', reason: 'ok', taints: { added: [['f1', ['pii']]] } },
      ]);
      expect((await store.decisions.agentOutputs('enf-a', 'bot', { since: 0, limit: 10 })).filter((o) => o.sessionId === `s-${label}`).map((o) => o.decisionId)).toEqual([id]);
    }
    const violations = await store.decisions.listViolations('enf-a', { limit: 10 });
    expect(violations.length).toBe(writers(store).length);
  });

  // Regression: one IN list of every session of a replay failed on SQLite past 32,766 sessions ("too many SQL
  // variables"); a replay may cover 100,000 decisions, each in its own session.
  it('outputs of any number of sessions, oldest first across reads, bounded by time', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'enf-many', name: 'many', createdAt: 1 });
    const output = (sessionId: string, ts: number) => ({ tenantId: 'enf-many', decisionId: `d-${sessionId}-${ts}`, agentId: 'bot', sessionId, toolName: 'read', ts, decision: 'ALLOW' as const, reason: 'ok', taints: {} });
    // Written so that seq order differs from session order: the result must follow seq across the 500-id reads.
    await store.decisions.writeBatch(batch({ outputs: [output('s-39999', 10), output('s-0', 20), output('s-20000', 30), output('s-0', 40), output('other', 15)] }));
    const sessionIds = Array.from({ length: 40_000 }, (_, i) => `s-${i}`);
    expect((await store.decisions.outputsForSessions('enf-many', sessionIds)).map((o) => `${o.sessionId}@${o.ts}`)).toEqual(['s-39999@10', 's-0@20', 's-20000@30', 's-0@40']);
    expect((await store.decisions.outputsForSessions('enf-many', sessionIds, 30)).map((o) => o.ts)).toEqual([10, 20, 30]);
    expect(await store.decisions.outputsForSessions('enf-many', [])).toEqual([]);
  });

  it('last calls before a time, per session and tool, ignore blocked calls', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'enf-l', name: 'l', createdAt: 1 });
    await store.decisions.writeBatch(batch({ decisions: [
      decision('enf-l', 'dec_l1', { sessionId: 'a', toolName: 'read', ts: 100, decision: 'ALLOW' }),
      decision('enf-l', 'dec_l2', { sessionId: 'a', toolName: 'read', ts: 200, decision: 'ALLOW' }),
      decision('enf-l', 'dec_l3', { sessionId: 'a', toolName: 'send', ts: 250, decision: 'BLOCK' }),
      decision('enf-l', 'dec_l4', { sessionId: 'a', toolName: 'read', ts: 400, decision: 'ALLOW' }),
      decision('enf-l', 'dec_l5', { sessionId: 'b', toolName: 'read', ts: 150, decision: 'STEP_UP' }),
      decision('enf-l', 'dec_l6', { sessionId: 'c', toolName: 'read', ts: 150, decision: 'ALLOW' }),
    ] }));
    const found = await store.decisions.lastCallsBefore('enf-l', ['a', 'b'], 300);
    expect(found.sort((x, y) => x.sessionId.localeCompare(y.sessionId))).toEqual([
      { sessionId: 'a', toolName: 'read', ts: 200 },
      { sessionId: 'b', toolName: 'read', ts: 150 },
    ]);
  });

  it('agent-wide histories upsert per agent on every write path and stay inside their tenant', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'enf-ah', name: 'h', createdAt: 1 });
    await store.tenants.create({ id: 'enf-ai', name: 'i', createdAt: 1 });
    for (const [label, write] of writers(store)) {
      const agentId = `bot-${label.replace(/\W/g, '')}`;
      await write(batch({ agents: [
        { tenantId: 'enf-ah', agentId, state: '{"lastCallAt":[["read",1]]}', updatedAt: 1 },
        { tenantId: 'enf-ah', agentId, state: '{"lastCallAt":[["read",2]]}', updatedAt: 2 },
        { tenantId: 'enf-ai', agentId, state: '{"lastCallAt":[["other",9]]}', updatedAt: 2 },
      ] }));
      expect(await store.decisions.loadAgentHistory('enf-ah', agentId)).toBe('{"lastCallAt":[["read",2]]}');
      await write(batch({ agents: [{ tenantId: 'enf-ah', agentId, state: '{"lastCallAt":[["read",3]]}', updatedAt: 3 }] }));
      expect(await store.decisions.loadAgentHistory('enf-ah', agentId)).toBe('{"lastCallAt":[["read",3]]}');
      expect(await store.decisions.loadAgentHistory('enf-ai', agentId)).toBe('{"lastCallAt":[["other",9]]}');
      expect(await store.decisions.loadAgentHistory('enf-ah', 'nobody')).toBeUndefined();
    }
  });

  it('last agent calls in a window, per agent and tool, ignore blocked calls and other tenants', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'enf-m', name: 'm', createdAt: 1 });
    await store.tenants.create({ id: 'enf-n', name: 'n', createdAt: 1 });
    await store.decisions.writeBatch(batch({ decisions: [
      decision('enf-m', 'dec_m1', { agentId: 'a', sessionId: 's1', toolName: 'read', ts: 50, decision: 'ALLOW' }),
      decision('enf-m', 'dec_m2', { agentId: 'a', sessionId: 's2', toolName: 'read', ts: 150, decision: 'ALLOW' }),
      decision('enf-m', 'dec_m3', { agentId: 'a', sessionId: 's3', toolName: 'read', ts: 180, decision: 'STEP_UP' }),
      decision('enf-m', 'dec_m4', { agentId: 'a', sessionId: 's4', toolName: 'send', ts: 200, decision: 'BLOCK' }),
      decision('enf-m', 'dec_m5', { agentId: 'a', sessionId: 's5', toolName: 'read', ts: 300, decision: 'ALLOW' }),
      decision('enf-m', 'dec_m6', { agentId: 'b', sessionId: 's6', toolName: 'list', ts: 120, decision: 'ALLOW' }),
      decision('enf-m', 'dec_m7', { agentId: 'c', sessionId: 's7', toolName: 'read', ts: 120, decision: 'ALLOW' }),
      decision('enf-n', 'dec_n1', { agentId: 'a', sessionId: 's1', toolName: 'export', ts: 150, decision: 'ALLOW' }),
    ] }));
    const found = await store.decisions.lastAgentCallsBefore('enf-m', ['a', 'b'], 100, 300);
    expect(found.sort((x, y) => x.agentId.localeCompare(y.agentId))).toEqual([
      { agentId: 'a', toolName: 'read', ts: 180 },
      { agentId: 'b', toolName: 'list', ts: 120 },
    ]);
  });

  it('agent violations in a window: newest first up to the limit, only violations, only the named agents of the tenant', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'enf-v', name: 'v', createdAt: 1 });
    await store.tenants.create({ id: 'enf-w', name: 'w', createdAt: 1 });
    await store.decisions.writeBatch(batch({ decisions: [
      decision('enf-v', 'dec_v1', { agentId: 'a', ts: 50 }),
      decision('enf-v', 'dec_v2', { agentId: 'a', ts: 110 }),
      decision('enf-v', 'dec_v3', { agentId: 'a', ts: 120, decision: 'ALLOW', violationId: null }),
      decision('enf-v', 'dec_v4', { agentId: 'b', ts: 130, decision: 'STEP_UP' }),
      decision('enf-v', 'dec_v5', { agentId: 'a', ts: 140 }),
      decision('enf-v', 'dec_v6', { agentId: 'c', ts: 150 }),
      decision('enf-v', 'dec_v7', { agentId: 'a', ts: 300 }),
      decision('enf-w', 'dec_w1', { agentId: 'a', ts: 160 }),
    ] }));
    const all = await store.decisions.agentViolationsBefore('enf-v', ['a', 'b'], 100, 300, 100);
    expect(all.sort((x, y) => x.ts - y.ts)).toEqual([{ agentId: 'a', ts: 110 }, { agentId: 'b', ts: 130 }, { agentId: 'a', ts: 140 }]);
    expect(await store.decisions.agentViolationsBefore('enf-v', ['a', 'b'], 100, 300, 2)).toEqual([{ agentId: 'a', ts: 140 }, { agentId: 'b', ts: 130 }]);
    expect(await store.decisions.agentViolationsBefore('enf-w', ['b'], 0, 1_000, 10)).toEqual([]);
  });

  it('agent outputs: newest first (time, then seq) from `since`, paged by keyset, only the agent\'s of the tenant', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'enf-o', name: 'o', createdAt: 1 });
    await store.tenants.create({ id: 'enf-oq', name: 'p', createdAt: 1 });
    const output = (tenantId: string, decisionId: string, agentId: string, sessionId: string, ts: number) => ({
      tenantId, decisionId, agentId, sessionId, toolName: 'read_customer', ts, decision: 'ALLOW', reason: 'ok', taints: { added: [[`fp-${decisionId}`, ['pii']]], windowSizes: [1] },
    });
    for (const [label, write] of writers(store)) {
      await write(batch({ outputs: [
        output('enf-o', `${label}-1`, 'a', 's1', 100), output('enf-o', `${label}-2`, 'a', 's2', 200), output('enf-o', `${label}-3`, 'a', 's3', 200),
        output('enf-o', `${label}-4`, 'a', 's1', 300), output('enf-o', `${label}-5`, 'b', 's1', 250), output('enf-oq', `${label}-6`, 'a', 's1', 260),
      ] }));
      const ids = (rows: Array<{ decisionId: string }>) => rows.filter((row) => row.decisionId.startsWith(`${label}-`)).map((row) => row.decisionId.slice(label.length + 1));
      const all = await store.decisions.agentOutputs('enf-o', 'a', { since: 150, limit: 100 });
      expect(ids(all)).toEqual(['4', '3', '2']);
      expect(all.find((row) => row.decisionId === `${label}-3`)).toMatchObject({ agentId: 'a', sessionId: 's3', ts: 200, taints: { added: [[`fp-${label}-3`, ['pii']]], windowSizes: [1] } });
      // Two rows at the same time: the keyset continues between them, nothing skipped or repeated.
      const first = await store.decisions.agentOutputs('enf-o', 'a', { since: 0, limit: 2 });
      const last = first[first.length - 1]!;
      const rest = await store.decisions.agentOutputs('enf-o', 'a', { since: 0, before: { ts: last.ts, seq: last.seq }, limit: 100 });
      expect([...ids(first), ...ids(rest)]).toEqual(['4', '3', '2', '1']);
      expect(ids(await store.decisions.agentOutputs('enf-oq', 'b', { since: 0, limit: 100 }))).toEqual([]);
      expect(ids(await store.decisions.agentOutputs('enf-oq', 'a', { since: 0, limit: 100 }))).toEqual(['6']);
      // Write paths run one after the other: the second's rows come later in seq, so clear the way for it.
      await store.db.deleteFrom('decision_outputs').where('tenant_id', 'in', ['enf-o', 'enf-oq']).execute();
    }
  });

  it('expired rate-limit counters are deleted a chunk at a time, live ones and other tenants\' live ones kept', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'enf-rc', name: 'rc', createdAt: 1 });
    await store.tenants.create({ id: 'enf-rd', name: 'rd', createdAt: 1 });
    const counters = [
      ...Array.from({ length: 450 }, (_, i) => ({ tenantId: i % 2 === 0 ? 'enf-rc' : 'enf-rd', key: `old|session:s-${i}|1000:1`, increment: 1, expiresAt: 2_000 })),
      { tenantId: 'enf-rc', key: 'live|agent:a|1000:9', increment: 4, expiresAt: 10_000 },
      { tenantId: 'enf-rd', key: 'live|agent:a|1000:9', increment: 5, expiresAt: 10_000 },
    ];
    await store.decisions.writeBatch(batch({ counters }));
    expect(await store.decisions.deleteExpiredCounters(2_500, 300)).toBe(300);
    expect(await sweepExpiredCounters(store.decisions, 2_500, 100)).toBe(150);
    expect(await store.decisions.deleteExpiredCounters(2_500)).toBe(0);
    expect((await store.decisions.loadCounters('enf-rc', ['live|agent:a|1000:9', 'old|session:s-0|1000:1'], 0)).get('live|agent:a|1000:9')).toBe(4);
    expect((await store.decisions.loadCounters('enf-rc', ['old|session:s-0|1000:1'], 0)).size).toBe(0);
    expect((await store.decisions.loadCounters('enf-rd', ['live|agent:a|1000:9'], 0)).get('live|agent:a|1000:9')).toBe(5);
  });

  it('a failing batch writes nothing of itself', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'enf-b', name: 'b', createdAt: 1 });
    for (const [label, write] of writers(store)) {
      const id = `dec_atomic_${label.replace(/\W/g, '')}`;
      await expect(write(batch({ decisions: [decision('enf-b', id), decision('enf-b', id)] }))).rejects.toThrow();
      expect(await store.decisions.get('enf-b', id)).toBeUndefined();
    }
  });

  it('decision lists page by seq within a time range and stay inside the tenant', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'enf-c', name: 'c', createdAt: 1 });
    await store.tenants.create({ id: 'enf-d', name: 'd', createdAt: 1 });
    await store.decisions.writeBatch(batch({ decisions: [1, 2, 3, 4].map((n) => decision('enf-c', `dec_p${n}`, { ts: n * 100 })).concat(decision('enf-d', 'dec_other', { ts: 200 })) }));
    const firstPage = await store.decisions.list('enf-c', { from: 200, to: 400, limit: 2 });
    expect(firstPage.map((d) => d.id)).toEqual(['dec_p2', 'dec_p3']);
    const next = await store.decisions.list('enf-c', { from: 200, to: 400, afterSeq: firstPage[1]!.seq, limit: 2 });
    expect(next.map((d) => d.id)).toEqual(['dec_p4']);
    expect(await store.decisions.get('enf-c', 'dec_other')).toBeUndefined();
  });

  it('holds: the pending hold of an action and the pending holds of an agent, unexpired only, inside the tenant', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'enf-hp', name: 'p', createdAt: 1 });
    await store.tenants.create({ id: 'enf-hq', name: 'q', createdAt: 1 });
    await store.decisions.writeBatch(batch({ holds: [
      hold('enf-hp', 'hold_p1', { createdAt: 1_000, expiresAt: 5_000 }),
      hold('enf-hp', 'hold_p2', { createdAt: 1_100, expiresAt: 5_000 }),
      hold('enf-hp', 'hold_p3', { createdAt: 1_200, expiresAt: 1_500, actionHash: 'c'.repeat(64) }),
      hold('enf-hp', 'hold_p4', { createdAt: 1_300, expiresAt: 5_000, actionHash: 'd'.repeat(64), agentId: 'other' }),
      hold('enf-hp', 'hold_p5', { createdAt: 1_400, expiresAt: 5_000, actionHash: 'e'.repeat(64), status: 'denied' }),
      hold('enf-hq', 'hold_q1', { createdAt: 1_500, expiresAt: 5_000 }),
    ] }));
    expect((await store.holds.findPending('enf-hp', 'a'.repeat(64), 2_000))?.id).toBe('hold_p2');
    expect(await store.holds.findPending('enf-hp', 'c'.repeat(64), 2_000)).toBeUndefined(); // expired
    expect(await store.holds.findPending('enf-hp', 'e'.repeat(64), 2_000)).toBeUndefined(); // decided
    expect(await store.holds.countPending('enf-hp', 'bot', 2_000, 100)).toBe(2);
    expect(await store.holds.countPending('enf-hp', 'bot', 2_000, 1)).toBe(1);
    expect(await store.holds.countPending('enf-hp', 'bot', 1_400, 100)).toBe(3); // hold_p3 not yet expired
    expect(await store.holds.countPending('enf-hp', 'other', 2_000, 100)).toBe(1);
    expect(await store.holds.countPending('enf-hq', 'bot', 2_000, 100)).toBe(1);
  });

  it('holds: one decision wins a race, expiry and single use are conditional', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'enf-h', name: 'h', createdAt: 1 });
    await store.decisions.writeBatch(batch({ holds: [hold('enf-h', 'hold_1'), hold('enf-h', 'hold_2', { expiresAt: 2_000 }), hold('enf-h', 'hold_3', { actionHash: 'b'.repeat(64) })] }));
    const [first, second] = await Promise.all([
      store.holds.decide('enf-h', 'hold_1', { status: 'approved', at: 1_500, approver: 'carol', comment: 'ok' }),
      store.holds.decide('enf-h', 'hold_1', { status: 'denied', at: 1_500, approver: 'dave', comment: null }),
    ]);
    expect([first?.status, second?.status].filter(Boolean)).toHaveLength(1);
    expect(await store.holds.decide('enf-h', 'hold_2', { status: 'approved', at: 3_000, approver: 'x', comment: null })).toBeUndefined();
    expect((await store.holds.expireDue('enf-h', 3_000)).map((h) => h.id)).toEqual(['hold_2']);
    expect((await store.holds.get('enf-h', 'hold_2'))?.status).toBe('expired');
    await store.holds.decide('enf-h', 'hold_3', { status: 'approved', at: 1_600, approver: 'carol', comment: null });
    expect((await store.holds.findApproved('enf-h', 'b'.repeat(64), 1_700))?.id).toBe('hold_3');
    expect(await store.holds.consume('enf-h', 'hold_3', 1_700)).toBe(true);
    expect(await store.holds.consume('enf-h', 'hold_3', 1_800)).toBe(false);
    expect(await store.holds.findApproved('enf-h', 'b'.repeat(64), 1_900)).toBeUndefined();
    expect(await store.holds.get('other-tenant', 'hold_3')).toBeUndefined();
    expect((await store.holds.list('enf-h', { status: 'expired', limit: 10 })).map((h) => h.id)).toEqual(['hold_2']);
  });

  it('policies: versions, activation history and the current activation of every tenant', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'enf-p', name: 'p', createdAt: 1 });
    const base = { tenantId: 'enf-p', policyId: 'pol_1', sourceHash: 'h', comment: null, createdBy: null };
    await store.policies.create({ id: 'pol_1', tenantId: 'enf-p', name: 'main', description: null, latestVersion: 1, createdAt: 1, updatedAt: 1, createdBy: 'k' }, { ...base, version: 1, source: 'v1', createdAt: 1 });
    await store.policies.addVersion({ ...base, version: 2, source: 'v2', createdAt: 2 });
    await expect(store.policies.addVersion({ ...base, version: 2, source: 'again', createdAt: 3 })).rejects.toThrow();
    expect((await store.policies.get('enf-p', 'pol_1'))?.latestVersion).toBe(2);
    expect((await store.policies.listVersions('enf-p', 'pol_1')).map((v) => v.source)).toEqual(['v2', 'v1']);
    await store.policies.recordActivation({ tenantId: 'enf-p', policyId: 'pol_1', version: 1, action: 'activate', actor: null, createdAt: 5 });
    await store.policies.recordActivation({ tenantId: 'enf-p', policyId: 'pol_1', version: 2, action: 'activate', actor: null, createdAt: 6 });
    expect((await store.policies.activations('enf-p', 1))[0]).toMatchObject({ policyId: 'pol_1', version: 2 });
    expect((await store.policies.currentActivations()).find((a) => a.tenantId === 'enf-p')).toMatchObject({ version: 2 });
    expect(await store.policies.get('enf-x', 'pol_1')).toBeUndefined();
  });

  it('kill switches: set, resume, list per tenant and every halted switch', async () => {
    const store = getStore();
    await store.tenants.create({ id: 'enf-k', name: 'k', createdAt: 1 });
    await store.killSwitches.set({ tenantId: 'enf-k', agentId: 'bot', halted: true, reason: 'r', actor: 'key', updatedAt: 1 });
    await store.killSwitches.set({ tenantId: 'enf-k', agentId: '*', halted: true, reason: 'all', actor: 'key', updatedAt: 2 });
    await store.killSwitches.set({ tenantId: 'enf-k', agentId: 'bot', halted: false, reason: 'back', actor: 'key', updatedAt: 3 });
    expect(await store.killSwitches.list('enf-k')).toEqual([
      { tenantId: 'enf-k', agentId: '*', halted: true, reason: 'all', actor: 'key', updatedAt: 2 },
      { tenantId: 'enf-k', agentId: 'bot', halted: false, reason: 'back', actor: 'key', updatedAt: 3 },
    ]);
    expect((await store.killSwitches.listHalted()).filter((k) => k.tenantId === 'enf-k').map((k) => k.agentId)).toEqual(['*']);
  });
});
