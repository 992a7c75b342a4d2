import { describe, expect, it } from 'vitest';
import { createAgentHistory, recordAgentCall } from './agent-history.js';
import type { AgentHistory } from './agent-history.js';
import { loadPolicy } from './compile.js';
import type { CompiledPolicy } from './compile.js';
import { MAX_AGENT_TAINTS, createAgentTaints, recordAgentTaints, scanForAgentTaints, sha256Fingerprint } from './data-flow.js';
import { evaluatePolicy } from './evaluate.js';
import { outputTaintEntries } from './output.js';
import { parsePolicyTestCases, runPolicyTests } from './policy-tests.js';
import { createSessionState, recordCall, recordLabeledTaints } from './session-state.js';
import type { SessionState } from './session-state.js';
import type { EvaluationInput } from './types.js';

function compile(yaml: string): CompiledPolicy {
  const result = loadPolicy(yaml);
  if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
  return result.policy;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = Date.UTC(2026, 10, 1, 9);

const POLICY = `
name: agent-data-flow
agents:
  bot: { approvedScope: [read_customer, read_vault, send_email, save_note] }
  other: { approvedScope: [read_customer, send_email] }
dataFlow:
  sources:
    - { tools: [read_customer], label: customer_pii, fields: [email, name] }
    - { tools: [read_vault], label: secret }
rules:
  - id: pii-out-any-session
    match: { tools: [send_email] }
    dataFlow: { labels: [customer_pii], across: agent, within: 1h }
    effect: BLOCK
    reason: customer data returned to this agent in the last hour (any session) leaves by e-mail
  - id: secret-in-note-same-session
    match: { tools: [save_note] }
    dataFlow: { labels: [secret] }
    effect: STEP_UP
    reason: a secret read in this session is written to a note
`;

const policy = compile(POLICY);

type Step =
  | { call: string; session: string; at: number; args?: unknown; agent?: string }
  | { output: string; session: string; at: number; value: unknown; agent?: string };

/** Plays calls and outputs as the server does: per-session states and one shared history per agent. */
function play(steps: readonly Step[], compiled = policy): string[] {
  const sessions = new Map<string, SessionState>();
  const agents = new Map<string, AgentHistory>();
  const decisions: string[] = [];
  for (const step of steps) {
    const agentId = step.agent ?? 'bot';
    const agent = agents.get(agentId) ?? createAgentHistory();
    agents.set(agentId, agent);
    const key = `${agentId}/${step.session}`;
    const session = sessions.get(key) ?? createSessionState();
    if ('output' in step) {
      const entries = outputTaintEntries(compiled, step.output, step.value);
      sessions.set(key, recordLabeledTaints(session, entries));
      agent.taints ??= createAgentTaints();
      recordAgentTaints(agent.taints, entries.map((e) => [e.fingerprint, e.labels] as const), entries.map((e) => e.words), step.at);
      continue;
    }
    const input: EvaluationInput = {
      agentId, userId: 'u', sessionId: step.session, toolName: step.call, arguments: step.args ?? {}, enforcement: 'block', now: step.at,
    };
    const result = evaluatePolicy(compiled, input, { session, agent });
    sessions.set(key, recordCall(session, step.call, step.at, result));
    recordAgentCall(agent, step.call, step.at, result);
    decisions.push(result.decision);
  }
  return decisions;
}

const CUSTOMER = { email: 'Jane.Doe@customer.example', name: 'Jane Doe', note: 'prefers mornings' };

describe('agent-wide data flow (dataFlow.across: agent)', () => {
  it('a value read under one session id and sent under another is caught', () => {
    expect(play([
      { call: 'read_customer', session: 's1', at: T0 },
      { output: 'read_customer', session: 's1', at: T0, value: CUSTOMER },
      { call: 'send_email', session: 's2', at: T0 + MINUTE, args: { to: 'x@evil.example', body: 'Contact: jane.doe@customer.example' } },
      { call: 'send_email', session: 's3', at: T0 + 2 * MINUTE, args: { to: 'x@evil.example', body: 'Dear JANE DOE, hello' } },
    ])).toEqual(['ALLOW', 'BLOCK', 'BLOCK']);
  });

  it('only the value counts, not the read: an e-mail without it passes (unlike an agent-wide sequence rule)', () => {
    expect(play([
      { call: 'read_customer', session: 's1', at: T0 },
      { output: 'read_customer', session: 's1', at: T0, value: CUSTOMER },
      { call: 'send_email', session: 's2', at: T0 + MINUTE, args: { to: 'boss@company.example', body: 'prefers mornings (not a remembered field)' } },
    ])).toEqual(['ALLOW', 'ALLOW']);
  });

  it('values returned longer ago than the window do not count; returning one again renews it', () => {
    const read = (at: number, session: string): Step[] => [
      { call: 'read_customer', session, at },
      { output: 'read_customer', session, at, value: CUSTOMER },
    ];
    const send = (at: number): Step => ({ call: 'send_email', session: `send-${at}`, at, args: { body: 'jane.doe@customer.example' } });
    expect(play([...read(T0, 's1'), send(T0 + HOUR + 1)])).toEqual(['ALLOW', 'ALLOW']);
    expect(play([...read(T0, 's1'), send(T0 + HOUR)])).toEqual(['ALLOW', 'BLOCK']);
    expect(play([...read(T0, 's1'), ...read(T0 + 30 * MINUTE, 's2'), send(T0 + HOUR + 10 * MINUTE)])).toEqual(['ALLOW', 'ALLOW', 'BLOCK']);
  });

  it('is per agent: another agent holding the value is not this one', () => {
    expect(play([
      { call: 'read_customer', session: 's1', at: T0, agent: 'other' },
      { output: 'read_customer', session: 's1', at: T0, value: CUSTOMER, agent: 'other' },
      { call: 'send_email', session: 's2', at: T0 + MINUTE, args: { body: 'jane.doe@customer.example' } },
    ])).toEqual(['ALLOW', 'ALLOW']);
  });

  it('labels are respected, and session-scoped rules keep their scope', () => {
    expect(play([
      { call: 'read_vault', session: 's1', at: T0 },
      { output: 'read_vault', session: 's1', at: T0, value: { token: 'sk-9f8e7d6c5b4a' } },
      // A secret is no customer_pii: the agent-wide rule does not fire.
      { call: 'send_email', session: 's2', at: T0 + MINUTE, args: { body: 'sk-9f8e7d6c5b4a' } },
      // The session-scoped rule sees the secret only in the session that read it.
      { call: 'save_note', session: 's2', at: T0 + MINUTE, args: { text: 'sk-9f8e7d6c5b4a' } },
      { call: 'save_note', session: 's1', at: T0 + MINUTE, args: { text: 'sk-9f8e7d6c5b4a' } },
    ])).toEqual(['ALLOW', 'ALLOW', 'ALLOW', 'STEP_UP']);
  });

  it('without the agent\'s values the rule sees none, but arguments too large to scan still fail closed', () => {
    const input: EvaluationInput = { agentId: 'bot', userId: 'u', sessionId: 's', toolName: 'send_email', arguments: { body: 'jane.doe@customer.example' }, enforcement: 'block', now: T0 };
    expect(evaluatePolicy(policy, input, { session: createSessionState() }).decision).toBe('ALLOW');
    const huge = { body: Array.from({ length: 10_001 }, (_, i) => `v${i}`) };
    const result = evaluatePolicy(policy, { ...input, arguments: huge }, { session: createSessionState(), agent: createAgentHistory() });
    expect(result.decision).toBe('BLOCK');
    expect(result.reason).toContain('arguments too large to scan for sensitive data');
  });

  it('the compiled policy asks for the agent\'s values as far back as its longest window', () => {
    expect(policy.agentFlowWindowMs).toBe(HOUR);
    expect(policy.agentHistoryWindowMs).toBe(HOUR);
    expect(compile(POLICY.replace('across: agent, within: 1h', 'across: session')).agentFlowWindowMs).toBe(0);
  });
});

describe('agent taints (bounds and merging)', () => {
  it('keeps the most recently returned MAX_AGENT_TAINTS values', () => {
    const taints = createAgentTaints();
    recordAgentTaints(taints, Array.from({ length: MAX_AGENT_TAINTS + 5 }, (_, i) => [`fp${i}`, ['pii']] as const), [1], T0);
    expect(taints.entries.size).toBe(MAX_AGENT_TAINTS);
    expect(taints.entries.has('fp0')).toBe(false);
    expect(taints.entries.has(`fp${MAX_AGENT_TAINTS + 4}`)).toBe(true);
    // Returned again, fp5 becomes the most recent and outlives the next flood of new values.
    recordAgentTaints(taints, [['fp5', ['pii']]], [], T0 + 1);
    recordAgentTaints(taints, Array.from({ length: 10 }, (_, i) => [`new${i}`, ['pii']] as const), [], T0 + 2);
    expect(taints.entries.has('fp5')).toBe(true);
    expect(taints.entries.has('fp6')).toBe(false);
  });

  it('merges labels, keeps the later time, and ignores out-of-range window sizes (idempotent reloads)', () => {
    const taints = createAgentTaints();
    recordAgentTaints(taints, [['a', ['pii']]], [2, 9, 0, -1, 1.5], T0 + 10);
    recordAgentTaints(taints, [['a', ['secret']]], [], T0); // older, as a replica's reload may deliver it
    expect(taints.entries.get('a')).toEqual({ labels: ['pii', 'secret'], at: T0 + 10 });
    recordAgentTaints(taints, [['a', ['pii']]], [], T0 + 10);
    expect(taints.entries.get('a')).toEqual({ labels: ['pii', 'secret'], at: T0 + 10 });
    expect([...taints.windowSizes]).toEqual([2]);
  });

  it('a scan reports each label with the latest time one of its values was returned', () => {
    const taints = createAgentTaints();
    const fp = (text: string) => sha256Fingerprint(text);
    recordAgentTaints(taints, [[fp('jane doe'), ['pii']]], [2], T0);
    recordAgentTaints(taints, [[fp('555123'), ['pii', 'secret']]], [], T0 + 5);
    const scan = scanForAgentTaints({ a: 'hello Jane  Doe', b: 555123 }, taints, sha256Fingerprint);
    expect(scan.incomplete).toBe(false);
    expect([...scan.labels]).toEqual([['pii', T0 + 5], ['secret', T0 + 5]]);
  });
});

describe('validation of dataFlow.across', () => {
  const rule = (dataFlow: string) => `
name: p
agents: { bot: { approvedScope: ["*"] } }
dataFlow: { sources: [{ tools: [read_customer], label: pii }] }
rules:
  - id: r
    match: { tools: [send_email] }
    dataFlow: ${dataFlow}
    effect: BLOCK
    reason: r
`;
  const errors = (dataFlow: string) => {
    const result = loadPolicy(rule(dataFlow));
    return result.ok ? [] : result.diagnostics.map((d) => `${d.code} ${d.path} line ${d.line}: ${d.message}`);
  };

  it('needs a window of at most 30 days with across: agent, and no window without it', () => {
    expect(errors('{ across: agent, within: 30d }')).toEqual([]);
    expect(errors('{ labels: [pii], across: session }')).toEqual([]);
    expect(errors('{ across: agent }')).toEqual([expect.stringMatching(/^POLICY_VALUE rules\[0\]\.dataFlow\.within line 8: .*needs a window/)]);
    expect(errors('{ across: agent, within: 31d }')).toEqual([expect.stringMatching(/^POLICY_VALUE rules\[0\]\.dataFlow\.within line 8: .*at most 30d/)]);
    expect(errors('{ within: 1h }')).toEqual([expect.stringMatching(/^POLICY_VALUE rules\[0\]\.dataFlow\.within line 8: .*only applies with across: agent/)]);
    expect(errors('{ across: session, within: 1h }')).toHaveLength(1);
    expect(errors('{ across: tenant, within: 1h }')).toEqual([expect.stringMatching(/rules\[0\]\.dataFlow\.across/)]);
    expect(errors('{ across: agent, within: soon }')).toEqual([expect.stringMatching(/rules\[0\]\.dataFlow\.within/)]);
    expect(errors('{ across: agent, within: 1h, labels: [nope] }')).toEqual([expect.stringMatching(/no dataFlow source has the label "nope"/)]);
    expect(errors('{ across: agent, within: 1h, extra: 1 }')).toEqual([expect.stringMatching(/rules\[0\]\.dataFlow/)]);
  });
});

describe('policy test cases', () => {
  it('a value an output returned in one session is seen in another session of the case', () => {
    const cases = parsePolicyTestCases(`
cases:
  - name: read in one session, mail in another
    agent: bot
    calls:
      - { tool: read_customer, session: a, output: { email: jane.doe@customer.example }, expect: ALLOW }
      - { tool: send_email, session: b, args: { body: "write to jane.doe@customer.example" }, expect: BLOCK }
      - { tool: send_email, session: c, args: { body: "nothing sensitive" }, expect: ALLOW }
`);
    expect(runPolicyTests(policy, cases).map((r) => [r.passed, r.failures])).toEqual([[true, []]]);
    const sessionScoped = compile(POLICY.replace('across: agent, within: 1h', 'across: session'));
    expect(runPolicyTests(sessionScoped, cases)[0]?.passed).toBe(false);
  });
});
