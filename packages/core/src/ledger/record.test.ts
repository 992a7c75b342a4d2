import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { canonicalRecordJson, toLedgerRecord } from './record.js';

describe('ledger records', () => {
  it('canonicalRecordJson equals canonicalJson of the record', () => {
    const optional = fc.option(fc.string(), { nil: undefined });
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.nat(), optional, optional, optional, optional, fc.boolean(), fc.jsonValue(), (tenantId, index, actor, agentId, executionId, sessionId, isViolation, data) => {
        const record = toLedgerRecord(tenantId, index, '2026-01-01T00:00:00.000Z', { type: 'a.b', actor, agentId, executionId, sessionId, isViolation, data });
        expect(canonicalRecordJson(record)).toBe(canonicalJson(record));
      }),
      { numRuns: 300 },
    );
  });

  it('fills absent fields with null and refuses non-string ids', () => {
    const record = toLedgerRecord('t', 0, '2026-01-01T00:00:00.000Z', { type: 'x.y', data: undefined });
    expect(record).toMatchObject({ actor: null, agentId: null, executionId: null, sessionId: null, isViolation: false, data: null });
    expect(() => toLedgerRecord('t', 0, 'x', { type: 'x.y', agentId: 12 as unknown as string, data: {} })).toThrow(TypeError);
  });
});
