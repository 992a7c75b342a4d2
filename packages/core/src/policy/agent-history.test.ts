import { describe, expect, it } from 'vitest';
import {
  agentViolationsSince, createAgentHistory, deserializeAgentHistory, recordAgentCall, recordAgentViolation, serializeAgentHistory,
} from './agent-history.js';
import { loadPolicy } from './compile.js';
import type { CompiledPolicy } from './compile.js';
import { evaluatePolicy } from './evaluate.js';
import { parsePolicyTestCases, runPolicyTests } from './policy-tests.js';
import { createSessionState, recordCall } from './session-state.js';
import type { SessionState } from './session-state.js';
import { MAX_AGENT_VIOLATIONS } from './types.js';
import type { EvaluationInput } from './types.js';

function compile(yaml: string): CompiledPolicy {
  const result = loadPolicy(yaml);
  if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
  return result.policy;
}

const HOUR = 3_600_000;

const policy = compile(`
name: exfiltration
agents:
  bot: { approvedScope: [read_customer, send_email, "delete_*"] }
rules:
  - id: no-mail-after-read-any-session
    match: { tools: [send_email] }
    after: { tools: [read_customer], within: 1h, across: agent }
    effect: BLOCK
    reason: e-mail after reading a customer record (any session of the agent)
  - id: no-delete-after-read-same-session
    match: { tools: ["delete_*"] }
    after: { tools: [read_customer] }
    effect: STEP_UP
    reason: delete after reading a customer in this session
`);

function call(toolName: string, sessionId: string, now: number, overrides: Partial<EvaluationInput> = {}): EvaluationInput {
  return { agentId: 'bot', userId: 'alice', sessionId, toolName, arguments: {}, enforcement: 'block', now, ...overrides };
}

/** Plays calls as the server does: per-session states and one shared agent history, recorded after each decision. */
function play(steps: ReadonlyArray<Parameters<typeof call>>): string[] {
  const sessions = new Map<string, SessionState>();
  const agents = new Map<string, ReturnType<typeof createAgentHistory>>();
  return steps.map((args) => {
    const input = call(...args);
    const session = sessions.get(input.sessionId) ?? createSessionState();
    const agent = agents.get(input.agentId) ?? createAgentHistory();
    agents.set(input.agentId, agent);
    const result = evaluatePolicy(policy, input, { session, agent });
    sessions.set(input.sessionId, recordCall(session, input.toolName, input.now, result));
    recordAgentCall(agent, input.toolName, input.now, result);
    return result.decision;
  });
}

describe('agent-wide sequence conditions (after.across: agent)', () => {
  it('a fresh session id per call does not shake off the agent history', () => {
    expect(play([['read_customer', 's-1', 0], ['send_email', 's-2', 1_000]])).toEqual(['ALLOW', 'BLOCK']);
  });

  it('a session-scoped condition still needs the earlier call in the same session', () => {
    expect(play([['read_customer', 's-1', 0], ['delete_customer', 's-2', 1_000], ['delete_customer', 's-1', 2_000]])).toEqual(['ALLOW', 'ALLOW', 'STEP_UP']);
  });

  it('only counts earlier calls within the window', () => {
    expect(play([['read_customer', 's-1', 0], ['send_email', 's-2', HOUR + 1]])).toEqual(['ALLOW', 'ALLOW']);
    expect(play([['read_customer', 's-1', 0], ['send_email', 's-2', HOUR]])).toEqual(['ALLOW', 'BLOCK']);
  });

  it('is per agent: another agent reading a customer does not block this one', () => {
    const sessions = createSessionState();
    const other = createAgentHistory();
    recordAgentCall(other, 'read_customer', 0, { decision: 'ALLOW' });
    const mine = createAgentHistory();
    expect(evaluatePolicy(policy, call('send_email', 's-9', 10), { session: sessions, agent: mine }).decision).toBe('ALLOW');
    expect(evaluatePolicy(policy, call('send_email', 's-9', 10), { session: sessions, agent: other }).decision).toBe('BLOCK');
  });

  it('a blocked call is not remembered (it never ran)', () => {
    const agent = createAgentHistory();
    recordAgentCall(agent, 'read_customer', 0, { decision: 'BLOCK' });
    expect(agent.lastCallAt.size).toBe(0);
    expect(evaluatePolicy(policy, call('send_email', 's-2', 10), { session: createSessionState(), agent }).decision).toBe('ALLOW');
  });

  it('without the agent history the condition sees no earlier call, and the compiled policy says it needs one', () => {
    expect(policy.agentHistoryWindowMs).toBe(HOUR);
    expect(compile('name: x\nrules: []').agentHistoryWindowMs).toBe(0);
    expect(evaluatePolicy(policy, call('send_email', 's-2', 10), { session: recordCall(createSessionState(), 'read_customer', 0, { decision: 'ALLOW', violation: false }) }).decision).toBe('ALLOW');
  });

  it('keeps at most maxTools tools, forgetting the least recently called', () => {
    const agent = createAgentHistory();
    recordAgentCall(agent, 'read_customer', 0, { decision: 'ALLOW' }, { maxTools: 3 });
    recordAgentCall(agent, 'a', 1, { decision: 'ALLOW' }, { maxTools: 3 });
    recordAgentCall(agent, 'read_customer', 2, { decision: 'ALLOW' }, { maxTools: 3 });
    recordAgentCall(agent, 'b', 3, { decision: 'ALLOW' }, { maxTools: 3 });
    recordAgentCall(agent, 'c', 4, { decision: 'ALLOW' }, { maxTools: 3 });
    expect([...agent.lastCallAt.keys()]).toEqual(['read_customer', 'b', 'c']);
  });

  it('flooding the history with other tools cannot push out a tool an agent-wide rule reads', () => {
    const flooded = compile(`
name: flood
agents: { bot: { approvedScope: [read_customer, send_email, "kb_*"] } }
rules:
  - { id: r, match: { tools: [send_email] }, after: { tools: [read_customer], within: 1h, across: agent }, effect: BLOCK, reason: r }
`);
    expect(flooded.agentHistoryReads?.('read_customer')).toBe(true);
    expect(flooded.agentHistoryReads?.('kb_1')).toBe(false);
    const agent = createAgentHistory();
    recordAgentCall(agent, 'read_customer', 0, { decision: 'ALLOW' }, { maxTools: 50, keep: flooded.agentHistoryReads });
    for (let i = 0; i < 500; i += 1) recordAgentCall(agent, `kb_${i}`, 1 + i, { decision: 'ALLOW' }, { maxTools: 50, keep: flooded.agentHistoryReads });
    expect(agent.lastCallAt.size).toBe(50);
    expect(agent.lastCallAt.get('read_customer')).toBe(0);
    expect(evaluatePolicy(flooded, call('send_email', 's-new', 1_000), { session: createSessionState(), agent }).decision).toBe('BLOCK');
    // Without keep (no agent-wide rule), the least recently called tool goes first.
    const plain = createAgentHistory();
    recordAgentCall(plain, 'read_customer', 0, { decision: 'ALLOW' }, { maxTools: 50 });
    for (let i = 0; i < 500; i += 1) recordAgentCall(plain, `kb_${i}`, 1 + i, { decision: 'ALLOW' }, { maxTools: 50 });
    expect(plain.lastCallAt.has('read_customer')).toBe(false);
  });

  it('when every remembered tool is one a rule reads, the least recently called still goes (the limit holds)', () => {
    const agent = createAgentHistory();
    for (let i = 0; i < 10; i += 1) recordAgentCall(agent, `crm_${i}`, i, { decision: 'ALLOW' }, { maxTools: 4, keep: () => true });
    expect([...agent.lastCallAt.keys()]).toEqual(['crm_6', 'crm_7', 'crm_8', 'crm_9']);
  });

  it('an out-of-order (older) call does not move a tool\'s latest time back', () => {
    const agent = createAgentHistory();
    recordAgentCall(agent, 'read_customer', 500, { decision: 'ALLOW' });
    recordAgentCall(agent, 'read_customer', 100, { decision: 'ALLOW' });
    expect(agent.lastCallAt.get('read_customer')).toBe(500);
  });

  it('round-trips through JSON, drops calls older than 30 days, and reads malformed input as empty', () => {
    const agent = createAgentHistory();
    const now = 40 * 24 * HOUR;
    recordAgentCall(agent, 'old', 0, { decision: 'ALLOW' });
    recordAgentCall(agent, '__proto__', now - 1, { decision: 'ALLOW' });
    const back = deserializeAgentHistory(JSON.parse(JSON.stringify(serializeAgentHistory(agent, now))));
    expect([...back.lastCallAt]).toEqual([['__proto__', now - 1]]);
    for (const bad of [null, 'x', 7, { lastCallAt: 'x' }, { lastCallAt: [[1, 2], ['t', 'x'], ['u', Number.NaN], null] }]) {
      expect(deserializeAgentHistory(bad).lastCallAt.size).toBe(0);
    }
  });
});

describe('validation of after.across', () => {
  function diagnostics(after: string): string[] {
    const result = loadPolicy(`name: x\nrules:\n  - { id: r, match: { tools: [t] }, after: ${after}, effect: BLOCK, reason: r }\n`);
    return result.ok ? [] : result.diagnostics.map((d) => `${d.path}: ${d.message}`);
  }

  it('needs a window, at most 30 days, and a known scope', () => {
    expect(diagnostics('{ tools: [a], across: agent }')).toEqual([expect.stringMatching(/rules\[0\]\.after\.within: .*needs a window/)]);
    expect(diagnostics('{ tools: [a], across: agent, within: 31d }')).toEqual([expect.stringMatching(/rules\[0\]\.after\.within: .*at most 30d/)]);
    expect(diagnostics('{ tools: [a], across: tenant, within: 1h }')).toEqual([expect.stringMatching(/rules\[0\]\.after\.across/)]);
    expect(diagnostics('{ tools: [a], across: agent, within: 30d }')).toEqual([]);
    expect(diagnostics('{ tools: [a], across: session }')).toEqual([]);
  });

  it('reports the line of the bad window', () => {
    const result = loadPolicy('name: x\nrules:\n  - id: r\n    match: { tools: [t] }\n    after:\n      tools: [a]\n      across: agent\n      within: 90d\n    effect: BLOCK\n    reason: r\n');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.diagnostics[0]?.line).toBe(8);
  });
});

describe('policy test cases across sessions', () => {
  it('calls of one case in different sessions share the agent history', () => {
    const cases = parsePolicyTestCases(`
cases:
  - name: rotating sessions
    agent: bot
    calls:
      - { tool: read_customer, session: a, expect: ALLOW }
      - { tool: send_email, session: b, expect: BLOCK, rules: [no-mail-after-read-any-session] }
      - { tool: delete_row, session: b, expect: ALLOW }
      - { tool: delete_row, session: a, expect: STEP_UP }
  - name: a fresh case starts with a fresh agent history
    agent: bot
    calls:
      - { tool: send_email, session: c, expect: ALLOW }
`);
    expect(runPolicyTests(policy, cases).map((r) => [r.name, r.passed, r.failures])).toEqual([
      ['rotating sessions', true, []],
      ['a fresh case starts with a fresh agent history', true, []],
    ]);
  });

  it('refuses an empty or non-string session', () => {
    expect(() => parsePolicyTestCases('cases:\n  - { name: n, calls: [{ tool: t, session: "", expect: ALLOW }] }')).toThrow(/"session" must be a non-empty string/);
    expect(() => parsePolicyTestCases('cases:\n  - { name: n, calls: [{ tool: t, session: 3, expect: ALLOW }] }')).toThrow(/"session"/);
  });
});

describe('agent-wide progressive escalation (progressive.across: agent)', () => {
  const escalating = (progressive: string) => compile(`
name: escalation
agents:
  bot: { approvedScope: [search] }
progressive: ${progressive}
rules: []
`);

  /** Out-of-scope calls (violations) of `bot` in progressive mode, each under the given session; returns decision and reason. */
  function playViolations(policyUnderTest: CompiledPolicy, steps: ReadonlyArray<readonly [string, number]>): Array<[string, string]> {
    const sessions = new Map<string, SessionState>();
    const agent = createAgentHistory();
    return steps.map(([sessionId, now]) => {
      const input = call('delete_everything', sessionId, now, { enforcement: 'progressive' });
      const session = sessions.get(sessionId) ?? createSessionState();
      const result = evaluatePolicy(policyUnderTest, input, { session, agent });
      sessions.set(sessionId, recordCall(session, input.toolName, now, result));
      recordAgentCall(agent, input.toolName, now, result);
      return [result.decision, result.reason];
    });
  }

  it('a fresh session id per call does not start the escalation over', () => {
    const decisions = playViolations(escalating('{ blockAfter: 2, across: agent, within: 1h }'), [['s1', 0], ['s2', 1_000], ['s3', 2_000]]);
    expect(decisions.map(([decision]) => decision)).toEqual(['STEP_UP', 'BLOCK', 'BLOCK']);
    expect(decisions[1]?.[1]).toMatch(/progressive: violation 2 of this agent within 1h, BLOCK from 2/);
  });

  it('session-scoped escalation (the default) still starts over in each session', () => {
    const decisions = playViolations(escalating('{ blockAfter: 2 }'), [['s1', 0], ['s2', 1_000], ['s2', 2_000]]);
    expect(decisions.map(([decision]) => decision)).toEqual(['STEP_UP', 'STEP_UP', 'BLOCK']);
    expect(decisions[0]?.[1]).toMatch(/violation 1 in this session/);
  });

  it('only violations within the window count', () => {
    const decisions = playViolations(escalating('{ blockAfter: 2, across: agent, within: 1h }'), [['s1', 0], ['s2', HOUR + 1], ['s3', HOUR + 2]]);
    expect(decisions.map(([decision]) => decision)).toEqual(['STEP_UP', 'STEP_UP', 'BLOCK']);
  });

  it('a blocked violation still counts (its tool is not remembered)', () => {
    const agent = createAgentHistory();
    recordAgentCall(agent, 'delete_everything', 5, { decision: 'BLOCK', violation: true });
    expect(agent.violations).toEqual([5]);
    expect(agent.lastCallAt.size).toBe(0);
  });

  it('keeps the most recent MAX_AGENT_VIOLATIONS, in time order even when they arrive out of order', () => {
    const agent = createAgentHistory();
    for (let i = 0; i < MAX_AGENT_VIOLATIONS + 10; i += 1) recordAgentViolation(agent, 1_000 + i);
    recordAgentViolation(agent, 1_500.5);
    expect(agent.violations).toHaveLength(MAX_AGENT_VIOLATIONS);
    expect(agent.violations[0]).toBe(1_011);
    expect([...agent.violations].sort((a, b) => a - b)).toEqual(agent.violations);
    expect(agentViolationsSince(agent, 1_000 + MAX_AGENT_VIOLATIONS + 5)).toBe(5);
  });

  it('violations round-trip through JSON, older than 30 days dropped, malformed entries ignored', () => {
    const agent = createAgentHistory();
    const now = 40 * 24 * HOUR;
    recordAgentViolation(agent, 0);
    recordAgentViolation(agent, now - 2);
    recordAgentViolation(agent, now - 1);
    const back = deserializeAgentHistory(JSON.parse(JSON.stringify(serializeAgentHistory(agent, now))));
    expect(back.violations).toEqual([now - 2, now - 1]);
    expect(deserializeAgentHistory({ lastCallAt: [], violations: [3, 'x', null, Number.NaN, 1] }).violations).toEqual([1, 3]);
    expect(deserializeAgentHistory({ lastCallAt: [] }).violations).toEqual([]);
    expect(serializeAgentHistory(createAgentHistory(), now)).toEqual({ lastCallAt: [] });
  });

  it('is validated: across agent needs a window of at most 30d and blockAfter of at most MAX_AGENT_VIOLATIONS', () => {
    const diagnostics = (progressive: string) => {
      const result = loadPolicy(`name: x\nprogressive: ${progressive}\nrules: []\n`);
      return result.ok ? [] : result.diagnostics.map((d) => `${d.path}: ${d.message}`);
    };
    expect(diagnostics('{ across: agent }')).toEqual([expect.stringMatching(/^progressive\.within: .*needs a window/)]);
    expect(diagnostics('{ across: agent, within: 31d }')).toEqual([expect.stringMatching(/^progressive\.within: .*at most 30d/)]);
    expect(diagnostics(`{ across: agent, within: 1h, blockAfter: ${MAX_AGENT_VIOLATIONS + 1} }`)).toEqual([expect.stringMatching(/^progressive\.blockAfter: /)]);
    expect(diagnostics('{ within: 1h }')).toEqual([expect.stringMatching(/^progressive\.within: .*only applies with across: agent/)]);
    expect(diagnostics('{ across: session, within: 1h }')).toEqual([expect.stringMatching(/^progressive\.within: .*only applies with across: agent/)]);
    expect(diagnostics('{ across: tenant, within: 1h }')).toEqual([expect.stringMatching(/^progressive\.across/)]);
    expect(diagnostics('{ across: agent, within: 30d, blockAfter: 3 }')).toEqual([]);
    expect(diagnostics('{ across: session }')).toEqual([]);
  });

  it('the compiled policy asks for the agent history as far back as the escalation window', () => {
    expect(escalating('{ across: agent, within: 2h }').agentHistoryWindowMs).toBe(2 * HOUR);
    expect(escalating('{ blockAfter: 3 }').agentHistoryWindowMs).toBe(0);
  });
});
