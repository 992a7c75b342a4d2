import { describe, expect, it } from 'vitest';
import { loadPolicy } from './compile.js';
import type { CompiledPolicy } from './compile.js';
import { evaluatePolicy } from './evaluate.js';
import { createSessionState, recordCall } from './session-state.js';
import type { EnforcementMode, EvaluationInput } from './types.js';

function compile(yaml: string): CompiledPolicy {
  const result = loadPolicy(yaml);
  if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
  return result.policy;
}

const policy = compile(`
name: table
agents:
  bot: { approvedScope: [read_file, send_email, "search_*", pay] }
  pinned: { approvedScope: [read_file], enforcement: block }
rules:
  - { id: pay-big, match: { tools: [pay] }, when: "args.amount > 100", effect: STEP_UP, reason: big payment }
  - { id: pay-huge, match: { tools: [pay] }, when: "args.amount > 1000", effect: BLOCK, reason: huge payment, severity: high }
  - { id: mallory, match: { users: [mallory] }, effect: BLOCK, reason: mallory is suspended }
  - { id: allow-read, match: { tools: [read_file] }, effect: ALLOW, reason: reading is fine }
  - { id: agent-only, match: { agents: ["other-*"], tools: [read_file] }, effect: BLOCK, reason: never for other agents }
`);

function call(overrides: Partial<EvaluationInput> = {}): EvaluationInput {
  return { agentId: 'bot', userId: 'alice', sessionId: 's1', toolName: 'read_file', arguments: {}, enforcement: 'block', now: 0, ...overrides };
}

describe('evaluatePolicy', () => {
  it.each([
    ['an in-scope call', call(), 'ALLOW', ['allow-read']],
    ['a glob in scope', call({ toolName: 'search_web' }), 'ALLOW', []],
    ['a call outside the scope', call({ toolName: 'delete_all' }), 'BLOCK', ['approved-scope']],
    ['a small payment', call({ toolName: 'pay', arguments: { amount: 10 } }), 'ALLOW', []],
    ['a big payment', call({ toolName: 'pay', arguments: { amount: 500 } }), 'STEP_UP', ['pay-big']],
    ['a huge payment (deny overrides)', call({ toolName: 'pay', arguments: { amount: 5000 } }), 'BLOCK', ['pay-big', 'pay-huge']],
    ['a suspended user', call({ userId: 'mallory' }), 'BLOCK', ['mallory', 'allow-read']],
    ['a request scope narrower than the policy', call({ toolName: 'send_email', approvedScope: ['read_file'] }), 'BLOCK', ['approved-scope']],
  ] as const)('%s → %s', (_label, input, decision, rules) => {
    const result = evaluatePolicy(policy, input, { session: createSessionState() });
    expect(result.decision).toBe(decision);
    expect([...result.matchedRules].sort()).toEqual([...rules].sort());
  });

  it.each([
    ['observe', 'ALLOW', 'BLOCK'],
    ['block', 'BLOCK', null],
    ['step_up', 'STEP_UP', null],
    ['progressive', 'STEP_UP', null],
  ] as const)('mode %s turns an out-of-scope call into %s', (mode, decision, wouldHaveBeen) => {
    const result = evaluatePolicy(policy, call({ toolName: 'delete_all', enforcement: mode as EnforcementMode }), { session: createSessionState() });
    expect(result.decision).toBe(decision);
    expect(result.verdict).toBe('BLOCK');
    expect(result.wouldHaveBeen).toBe(wouldHaveBeen);
  });

  it('progressive mode blocks from the blockAfter-th violation of the session', () => {
    let session = createSessionState();
    const decisions: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const input = call({ toolName: 'delete_all', enforcement: 'progressive', now: i });
      const result = evaluatePolicy(policy, input, { session });
      decisions.push(result.decision);
      session = recordCall(session, input.toolName, input.now, result);
    }
    expect(decisions).toEqual(['STEP_UP', 'BLOCK', 'BLOCK']);
  });

  it('a mode pinned by the policy wins over the mode the SDK asks for', () => {
    const result = evaluatePolicy(policy, call({ agentId: 'pinned', toolName: 'send_email', enforcement: 'observe' }), { session: createSessionState() });
    expect(result).toMatchObject({ decision: 'BLOCK', mode: 'block' });
  });

  it('without a policy and without a scope, every mode answers BLOCK and says why', () => {
    for (const mode of ['observe', 'block', 'step_up', 'progressive'] as const) {
      const result = evaluatePolicy(null, call({ enforcement: mode }), { session: createSessionState() });
      expect(result.decision).toBe('BLOCK');
      expect(result.reason).toContain('no policy is loaded');
    }
  });

  it('without a policy, the declared scope still decides', () => {
    expect(evaluatePolicy(null, call({ approvedScope: ['read_file'] }), { session: createSessionState() }).decision).toBe('ALLOW');
    expect(evaluatePolicy(null, call({ approvedScope: ['x'] }), { session: createSessionState() }).decision).toBe('BLOCK');
  });

  it('an agent the policy does not know, with no declared scope, is blocked with a reason naming it', () => {
    const result = evaluatePolicy(policy, call({ agentId: 'stranger' }), { session: createSessionState() });
    expect(result.decision).toBe('BLOCK');
    expect(result.reason).toContain('agent "stranger" has no approvedScope');
  });
});

describe('rate limits', () => {
  const limited = compile(`
agents: { "*": { approvedScope: ["*"] } }
rules:
  - { id: per-user, match: { tools: [send] }, rateLimit: { count: 2, window: 1m, per: user }, effect: BLOCK, reason: too many }
`);

  it('blocks the call past the count and starts again in the next window', () => {
    const counters = new Map<string, number>();
    const run = (now: number): string => {
      const result = evaluatePolicy(limited, call({ toolName: 'send', now }), { session: createSessionState(), rateCount: (key) => counters.get(key) ?? 0 });
      for (const key of result.rateLimitKeys) counters.set(key, (counters.get(key) ?? 0) + 1);
      return result.decision;
    };
    expect([run(0), run(1), run(2), run(60_000)]).toEqual(['ALLOW', 'ALLOW', 'BLOCK', 'ALLOW']);
  });
});

describe('shadow rules', () => {
  const shadowed = compile(`
agents: { "*": { approvedScope: ["*"] } }
rules:
  - { id: try-me, mode: shadow, match: { tools: [x] }, effect: BLOCK, reason: would block }
`);

  it('record what they would have done and change nothing', () => {
    const result = evaluatePolicy(shadowed, call({ toolName: 'x' }), { session: createSessionState() });
    expect(result.decision).toBe('ALLOW');
    expect(result.matchedRules).toEqual([]);
    expect(result.shadow).toEqual([{ ruleId: 'try-me', effect: 'BLOCK', reason: 'would block' }]);
  });
});
