import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { expect, it } from 'vitest';
import { describeStoreConformance } from '../../../../../test-utils/index.js';
import { manualClock } from '../../services/clock.js';
import { RetentionService } from '../../services/retention/retention-service.js';
import type { DecisionRecord, EnforcementBatch } from '../repositories/decisions.js';
import type { HoldRecord } from '../repositories/holds.js';

const DAY = 86_400_000;
const OLD = 1_000;
const NEW = 100_000;

function decision(tenantId: string, id: string, ts: number): DecisionRecord {
  return {
    id, tenantId, ts, agentId: 'bot', userId: 'u', sessionId: 's', toolName: 't', callId: null, requestedMode: 'block', mode: 'block',
    decision: 'ALLOW', verdict: 'ALLOW', wouldHaveBeen: null, reason: 'r', violationId: null, severity: null, holdId: null, policyId: null,
    policyVersion: null, matchedRules: [], shadow: [], errors: [], arguments: {}, approvedScope: null, context: {},
  };
}

function hold(tenantId: string, id: string, createdAt: number, status: HoldRecord['status']): HoldRecord {
  return {
    id, tenantId, decisionId: 'd', actionHash: 'a'.repeat(64), agentId: 'bot', userId: 'u', sessionId: 's', toolName: 't', arguments: {},
    reason: 'r', status, createdAt, expiresAt: createdAt + 10, decidedAt: null, approver: null, comment: null, consumedAt: null,
  };
}

function batch(part: Partial<EnforcementBatch>): EnforcementBatch {
  return { decisions: [], violations: [], holds: [], outputs: [], sessions: [], agents: [], counters: [], ...part };
}

describeStoreConformance('retention', (getStore) => {
  it('deletes rows older than the period in chunks, keeps newer rows, pending holds and other tables', async () => {
    const store = getStore();
    for (const id of ['ret-a', 'ret-b']) await store.tenants.create({ id, name: id, createdAt: 1 });
    const decisions = [...Array.from({ length: 7 }, (_, i) => decision(i % 2 ? 'ret-a' : 'ret-b', `dec_old${i}`, OLD + i)), decision('ret-a', 'dec_new', NEW)];
    await store.decisions.writeBatch(batch({
      decisions,
      violations: decisions.map((d) => ({ id: `vio_${d.id}`, tenantId: d.tenantId, decisionId: d.id, ts: d.ts, agentId: 'bot', userId: 'u', sessionId: 's', toolName: 't', decision: 'BLOCK', severity: null, reason: 'r', ruleIds: [] })),
      outputs: [OLD, NEW].map((ts) => ({ tenantId: 'ret-a', decisionId: `d${ts}`, agentId: 'bot', sessionId: 's', toolName: 't', ts, decision: 'ALLOW', reason: 'r', taints: {} })),
      holds: [hold('ret-a', 'hold_old_denied', OLD, 'denied'), hold('ret-a', 'hold_old_pending', OLD, 'pending'), hold('ret-a', 'hold_new', NEW, 'approved')],
      sessions: [{ tenantId: 'ret-a', sessionId: 'idle', agentId: 'bot', state: '{}', updatedAt: OLD }, { tenantId: 'ret-a', sessionId: 'busy', agentId: 'bot', state: '{}', updatedAt: NEW }],
      agents: [{ tenantId: 'ret-a', agentId: 'idle-bot', state: '{}', updatedAt: OLD }, { tenantId: 'ret-b', agentId: 'busy-bot', state: '{}', updatedAt: NEW }],
      counters: [{ tenantId: 'ret-a', key: 'k', increment: 1, expiresAt: NEW * 10 }],
    }));
    const event = (ts: number) => ({
      tenantId: 'ret-a', eventId: randomUUID(), eventType: 'TOOL_CALL_PRE', sourceType: 'SDK', agentId: 'bot', userId: 'u', sessionId: 's', toolName: 't',
      callId: randomUUID(), decisionId: null, ts, receivedAt: ts, durationMs: null, outcome: null, redaction: 'full', arguments: {}, result: undefined, error: null,
    });
    await store.events.insertMany('ret-a', [event(OLD), event(OLD + 1), event(NEW), { ...event(OLD + 2), sessionId: 'idle-sdk' }]);

    // Retention off: nothing goes, whatever the clock says.
    const off = new RetentionService({ repository: store.retention, tenants: store.tenants, clock: manualClock(NEW * 1_000), logger: pino({ level: 'silent' }), days: 0 });
    expect(Object.values(await off.runOnce()).every((n) => n === 0)).toBe(true);

    // One day of retention, the clock a day past 50,000: everything dated before 50,000 goes, 3 rows per statement.
    const retention = new RetentionService({ repository: store.retention, tenants: store.tenants, clock: manualClock(50_000 + DAY), logger: pino({ level: 'silent' }), days: 1, chunk: 3 });
    expect(await retention.runOnce()).toEqual({
      decisions: 7, violations: 7, decision_outputs: 1, events: 3, event_sessions: 1, holds: 1, enforcement_sessions: 1, enforcement_agent_histories: 1,
    });
    // The SDK session idle since before the cutoff is gone from the sessions list; the active one stays, whole.
    expect((await store.events.sessions('ret-a', { limit: 10 })).map((row) => [row.session_id, row.first_ts, row.last_ts])).toEqual([['s', OLD, NEW]]);
    expect((await store.decisions.list('ret-a', { limit: 100 })).map((d) => d.id)).toEqual(['dec_new']);
    expect(await store.decisions.list('ret-b', { limit: 100 })).toEqual([]);
    expect((await store.decisions.listViolations('ret-a', { limit: 100 })).map((v) => v.id)).toEqual(['vio_dec_new']);
    expect((await store.decisions.outputsForSessions('ret-a', ['s'])).map((o) => o.ts)).toEqual([NEW]);
    expect((await store.holds.list('ret-a', { limit: 100 })).map((h) => h.id).sort()).toEqual(['hold_new', 'hold_old_pending']);
    expect(await store.decisions.loadSessionState('ret-a', 'idle')).toBeUndefined();
    expect(await store.decisions.loadSessionState('ret-a', 'busy')).toBe('{}');
    expect(await store.decisions.loadAgentHistory('ret-a', 'idle-bot')).toBeUndefined();
    expect(await store.decisions.loadAgentHistory('ret-b', 'busy-bot')).toBe('{}');
    expect((await store.events.page('ret-a', { limit: 100 })).map((e) => e.ts)).toEqual([NEW]);
    expect((await store.decisions.loadCounters('ret-a', ['k'], 0)).get('k')).toBe(1);
    // A second pass finds nothing more.
    expect(Object.values(await retention.runOnce()).every((n) => n === 0)).toBe(true);
  });

  it('a tenant\'s own period overrides the server\'s: its own days, 0 keeps everything, null goes back to the default', async () => {
    const store = getStore();
    for (const id of ['own-short', 'own-keep', 'own-default', 'own-unset']) await store.tenants.create({ id, name: id, createdAt: 1 });
    expect(await store.tenants.setRetentionDays('own-short', 1)).toMatchObject({ id: 'own-short', retentionDays: 1 });
    expect(await store.tenants.setRetentionDays('own-keep', 0)).toMatchObject({ retentionDays: 0 });
    await store.tenants.setRetentionDays('own-default', 5);
    expect(await store.tenants.setRetentionDays('own-default', null)).toMatchObject({ retentionDays: null });
    expect(await store.tenants.setRetentionDays('no-such-tenant', 3)).toBeUndefined();
    expect((await store.tenants.get('own-unset'))?.retentionDays).toBeNull();
    await store.decisions.writeBatch(batch({ decisions: ['own-short', 'own-keep', 'own-default', 'own-unset'].map((t) => decision(t, `dec_${t}`, OLD)) }));
    const remaining = async () => {
      const left: string[] = [];
      for (const t of ['own-short', 'own-keep', 'own-default', 'own-unset']) left.push(...(await store.decisions.list(t, { limit: 10 })).map((d) => d.tenantId));
      return left;
    };
    const run = (days: number) => new RetentionService({ repository: store.retention, tenants: store.tenants, clock: manualClock(OLD + 2 * DAY), logger: pino({ level: 'silent' }), days }).runOnce();
    // Server default off: only the tenant with its own 1-day period loses its 2-day-old decision.
    await run(0);
    expect(await remaining()).toEqual(['own-keep', 'own-default', 'own-unset']);
    // Server default 1 day: the tenants without a period of their own follow it; the one keeping everything keeps it.
    await run(1);
    expect(await remaining()).toEqual(['own-keep']);
  });
});
