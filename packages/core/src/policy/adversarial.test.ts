import { describe, expect, it } from 'vitest';
import { loadPolicy } from './compile.js';
import type { CompiledPolicy } from './compile.js';
import { evaluatePolicy } from './evaluate.js';
import { recordOutputTaints } from './output.js';
import { DEFAULT_MAX_TOOLS_PER_SESSION, createSessionState, deserializeSessionState, recordCall, recordCallInPlace, recordLabeledTaints, recordLabeledTaintsInPlace, serializeSessionState } from './session-state.js';
import type { EvaluationInput } from './types.js';

const compileOrThrow = (yaml: string): CompiledPolicy => compile(yaml);

function compile(yaml: string): CompiledPolicy {
  const result = loadPolicy(yaml);
  if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
  return result.policy;
}

const policy = compile(`
agents: { bot: { approvedScope: [pay, send, "*ping*"] } }
dataFlow: { sources: [{ tools: [lookup], label: secret }] }
rules:
  - { id: pay-limit, match: { tools: [pay] }, when: "args.amount > 100", effect: BLOCK, reason: too much }
  - { id: step-nested, match: { tools: [pay] }, when: "has(args.meta) && args.meta.flag == true", effect: STEP_UP, reason: flagged }
  - { id: permit-small, match: { tools: [pay] }, when: "args.amount < 10", effect: ALLOW, reason: small }
  - { id: no-leak, match: { tools: [send] }, dataFlow: true, effect: BLOCK, reason: secret leaves }
`);

function call(overrides: Partial<EvaluationInput>): EvaluationInput {
  return { agentId: 'bot', userId: 'u', sessionId: 's', toolName: 'pay', arguments: {}, enforcement: 'block', now: 0, ...overrides };
}

describe('bad input never ends in an accidental ALLOW', () => {
  it.each([
    ['a string amount', { amount: 'a lot' }],
    ['a missing amount', {}],
    ['a null amount', { amount: null }],
    ['a list amount', { amount: [1, 2] }],
    ['arguments that are a string', 'pay everything'],
    ['arguments that are null', null],
    ['arguments that are an array', [1, 2, 3]],
  ])('%s: the failing BLOCK rule applies and the error is recorded', (_label, args) => {
    const result = evaluatePolicy(policy, call({ arguments: args }), { session: createSessionState() });
    expect(result.decision).toBe('BLOCK');
    expect(result.errors.map((error) => error.ruleId)).toContain('pay-limit');
    expect(result.reason).toContain('condition failed at run time');
  });

  it('an ALLOW rule whose condition fails does not apply', () => {
    const result = evaluatePolicy(policy, call({ arguments: { amount: 'x' } }), { session: createSessionState() });
    expect(result.matchedRules).not.toContain('permit-small');
  });

  it.each([
    ['__proto__ key', JSON.parse('{"__proto__": {"amount": 1}, "amount": 5}')],
    ['prototype-shaped meta', JSON.parse('{"amount": 5, "meta": {"__proto__": {"flag": true}}}')],
  ])('prototype-pollution-shaped arguments (%s) are plain data', (_label, args) => {
    const result = evaluatePolicy(policy, call({ arguments: args }), { session: createSessionState() });
    expect(({} as Record<string, unknown>).amount).toBeUndefined();
    expect(({} as Record<string, unknown>).flag).toBeUndefined();
    expect(result.matchedRules).not.toContain('pay-limit');
  });

  it.each([
    ['the closure answers', 'args.amount > 100'],
    ['the interpreter fails on a constructor key and the rule fails closed', 'size(args) > 0 && args.amount > 100'],
  ])('a "constructor" key never turns a BLOCK into ALLOW (%s)', (_label, when) => {
    const strict = compileOrThrow(`agents: { bot: { approvedScope: [pay] } }\nrules:\n  - { id: r, match: { tools: [pay] }, when: "${when}", effect: BLOCK, reason: no }\n`);
    const args = { constructor: { prototype: { amount: 1 } }, amount: 5000 };
    const result = evaluatePolicy(strict, call({ arguments: args }), { session: createSessionState() });
    expect(({} as Record<string, unknown>).amount).toBeUndefined();
    expect(result.decision).toBe('BLOCK');
  });

  it('tool and agent names shaped like prototype members do not confuse lookups', () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(evaluatePolicy(policy, call({ toolName: name }), { session: createSessionState() }).decision).toBe('BLOCK');
      expect(evaluatePolicy(policy, call({ agentId: name }), { session: createSessionState() }).decision).toBe('BLOCK');
    }
  });

  it('enormous arguments fail closed for a data-flow rule instead of being skipped', () => {
    let session = createSessionState();
    session = recordOutputTaints(policy, session, 'lookup', { token: 'hunter2-secret' });
    const huge = { body: 'x '.repeat(600_000) };
    const result = evaluatePolicy(policy, call({ toolName: 'send', arguments: huge }), { session });
    expect(result.decision).toBe('BLOCK');
    expect(result.reason).toContain('too large');
  });

  it('deeply nested arguments fail closed for a data-flow rule', () => {
    let nested: unknown = 'leaf';
    for (let i = 0; i < 100; i += 1) nested = { nested };
    const result = evaluatePolicy(policy, call({ toolName: 'send', arguments: nested }), { session: createSessionState() });
    expect(result.decision).toBe('BLOCK');
  });

  it('enormous arguments are evaluated by CEL without a crash', () => {
    const result = evaluatePolicy(policy, call({ arguments: { amount: 5, blob: 'y'.repeat(5_000_000) } }), { session: createSessionState() });
    expect(result.decision).toBe('ALLOW');
  });

  it('a malformed stored session state becomes a fresh one', () => {
    for (const stored of [null, 42, 'x', { callCount: -1, lastCallAt: 'nope', taints: [[1, 2]] }]) {
      expect(serializeSessionState(deserializeSessionState(stored))).toEqual(serializeSessionState(createSessionState()));
    }
  });
});

describe('a session flooded with tool names', () => {
  const sequence = compile(`
agents: { bot: { approvedScope: [read_customer, send_email, "kb_*"] } }
rules:
  - { id: seq, match: { tools: [send_email] }, after: read_customer, effect: BLOCK, reason: read then mail }
`);

  it('keeps at most DEFAULT_MAX_TOOLS_PER_SESSION tools, and never the one a sequence rule reads', () => {
    let session = createSessionState();
    session = recordCall(session, 'read_customer', 0, { decision: 'ALLOW', violation: false }, { keep: sequence.sessionHistoryReads });
    for (let i = 0; i < DEFAULT_MAX_TOOLS_PER_SESSION + 500; i += 1) {
      session = recordCall(session, `kb_${i}`, i + 1, { decision: 'ALLOW', violation: false }, { keep: sequence.sessionHistoryReads });
    }
    expect(session.lastCallAt.size).toBe(DEFAULT_MAX_TOOLS_PER_SESSION);
    expect(session.callCount).toBe(DEFAULT_MAX_TOOLS_PER_SESSION + 501);
    expect(session.lastCallAt.has('read_customer')).toBe(true);
    expect(session.lastCallAt.has('kb_0')).toBe(false);
    expect(evaluatePolicy(sequence, call({ toolName: 'send_email' }), { session }).decision).toBe('BLOCK');
    // The stored form is bounded too, and reads back the same.
    const stored = JSON.stringify(serializeSessionState(session));
    expect(stored.length).toBeLessThan(40_000);
    expect(deserializeSessionState(JSON.parse(stored)).lastCallAt.size).toBe(DEFAULT_MAX_TOOLS_PER_SESSION);
  });

  it('a state stored before the bound existed is trimmed by its next call', () => {
    const big = { callCount: 5_000, violations: 0, taints: [], windowSizes: [], lastCallAt: Array.from({ length: 5_000 }, (_, i) => [`t${i}`, i]) };
    const next = recordCall(deserializeSessionState(big), 'x', 10_000, { decision: 'ALLOW', violation: false });
    expect(next.lastCallAt.size).toBe(DEFAULT_MAX_TOOLS_PER_SESSION);
    expect(next.lastCallAt.get('x')).toBe(10_000);
    expect(sequence.sessionHistoryReads?.('read_customer')).toBe(true);
    expect(sequence.agentHistoryReads).toBeNull();
  });
});

describe('remembered values added in place (the server\'s cached sessions)', () => {
  it('leaves the same state as the copying form and reports exactly the values whose labels changed', () => {
    let seed = 7; // mulberry32
    const random = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    let copied = createSessionState();
    const owned = createSessionState();
    for (let round = 0; round < 300; round += 1) {
      const entries = Array.from({ length: 1 + random(5) }, () => ({ fingerprint: `f${random(60)}`, words: random(4), labels: [['pii'], ['secret'], ['pii', 'secret']][random(3)]! }));
      const before = copied;
      copied = recordLabeledTaints(copied, entries, 40);
      const changed = recordLabeledTaintsInPlace(owned, entries, 40);
      expect([...owned.taints]).toEqual([...copied.taints]);
      expect([...owned.windowSizes].sort()).toEqual([...copied.windowSizes].sort());
      const expected = [...copied.taints].filter(([fingerprint, labels]) => before.taints.get(fingerprint) !== labels);
      expect(new Map(changed)).toEqual(new Map(expected));
    }
    expect(owned.taints.size).toBe(40);
  });
});

describe('calls recorded in place (the server\'s cached sessions)', () => {
  it('leave the same counts and last-call times as the copying form', () => {
    let copied = createSessionState();
    let owned = createSessionState();
    for (let i = 0; i < 3_000; i += 1) {
      const result = { decision: i % 7 === 0 ? 'BLOCK' : 'ALLOW', violation: i % 5 === 0 };
      const tool = `t${(i * 37) % 1_300}`;
      copied = recordCall(copied, tool, i, result);
      owned = recordCallInPlace(owned, tool, i, result);
      if (i % 250 === 0) expect([...owned.lastCallAt]).toEqual([...copied.lastCallAt]);
    }
    // The copying form leaves the state it was given as it was (replay and tests keep earlier states).
    const snapshot = [...copied.lastCallAt];
    const next = recordCall(copied, 'brand-new-tool', 10_000, { decision: 'ALLOW', violation: false });
    expect([...copied.lastCallAt]).toEqual(snapshot);
    expect(next.lastCallAt.get('brand-new-tool')).toBe(10_000);
    expect(owned.callCount).toBe(copied.callCount);
    expect(owned.violations).toBe(copied.violations);
    expect([...owned.lastCallAt]).toEqual([...copied.lastCallAt]);
  });
});
