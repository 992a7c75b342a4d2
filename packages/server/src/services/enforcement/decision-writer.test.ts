import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestSqliteStore, type TestStore } from '../../../../../test-utils/index.js';
import type { DecisionRecord } from '../../store/repositories/decisions.js';
import { DecisionWriter } from './decision-writer.js';

function decision(id: string): DecisionRecord {
  return {
    id, tenantId: 'w', ts: 1, agentId: 'a', userId: 'u', sessionId: 's', toolName: 't', callId: null, requestedMode: 'block', mode: 'block',
    decision: 'ALLOW', verdict: 'ALLOW', wouldHaveBeen: null, reason: 'ok', violationId: null, severity: null, holdId: null, policyId: null,
    policyVersion: null, matchedRules: [], shadow: [], errors: [], arguments: {}, approvedScope: null, context: {},
  };
}

describe('DecisionWriter (group commit on a real SQLite store)', () => {
  let opened: TestStore;
  beforeAll(async () => {
    opened = await openTestSqliteStore();
    await opened.store.tenants.create({ id: 'w', name: 'w', createdAt: 1 });
  });
  afterAll(async () => {
    await opened.dispose();
  });

  it('writes concurrent decisions together and resolves each caller only once its row is readable', async () => {
    const transactions: number[] = [];
    const writer = new DecisionWriter({ write: async (batch) => { transactions.push(batch.decisions.length); await opened.store.decisions.writeBatch(batch); } });
    await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      await writer.enqueue({ decisions: [decision(`dec_ok_${i}`)] });
      expect(await opened.store.decisions.get('w', `dec_ok_${i}`)).toBeDefined();
    }));
    expect(transactions.length).toBeLessThan(20);
    expect(transactions.reduce((a, b) => a + b, 0)).toBe(20);
  });

  it('a row the database refuses fails only its own caller, not the others who shared the transaction', async () => {
    // Before: one refused row (here a duplicate id; on PostgreSQL also text it cannot store) failed the whole
    // group commit, so every concurrent caller (other tenants included) was refused along with it.
    const failures: unknown[] = [];
    const writer = new DecisionWriter({ write: (batch) => opened.store.decisions.writeBatch(batch), onFailure: (error) => failures.push(error) });
    const results = await Promise.allSettled([
      writer.enqueue({ decisions: [decision('dec_dup')] }),
      writer.enqueue({ decisions: [decision('dec_dup')] }),
      writer.enqueue({ decisions: [decision('dec_innocent')] }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(failures).toHaveLength(1);
    expect(await opened.store.decisions.get('w', 'dec_innocent')).toBeDefined();
    expect(await opened.store.decisions.get('w', 'dec_dup')).toBeDefined();
    await writer.enqueue({ decisions: [decision('dec_after')] });
    expect(await opened.store.decisions.get('w', 'dec_after')).toBeDefined();
  });
});
