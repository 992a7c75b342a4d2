// Session 12 red-team review of the policy engine: each case got ALLOW where the policy said BLOCK on the build
// before its fix.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from './compile.js';
import type { CompiledPolicy } from './compile.js';
import { evaluatePolicy } from './evaluate.js';
import { createAgentTaints, recordAgentTaints } from './data-flow.js';
import { outputTaintEntries, recordOutputTaints } from './output.js';
import { createSessionState } from './session-state.js';
import type { SessionState } from './session-state.js';
import type { EvaluationInput } from './types.js';

function compile(yaml: string): CompiledPolicy {
  const loaded = loadPolicy(yaml);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  return loaded.policy;
}

const supportAgent = compile(readFileSync(new URL('../../../../examples/policies/support-agent.yaml', import.meta.url), 'utf8'));
const call = (input: Partial<EvaluationInput>): EvaluationInput => ({
  agentId: 'support-bot', userId: 'alice', sessionId: 's1', toolName: 'http_post', arguments: {}, enforcement: 'block', now: Date.now(), ...input,
});
const customer = { email: 'Jane.Doe@Customer.example', phone: '+33 1 23 45 67 89', ssn: '123-45-6789', name: 'Jane Doe' };

/** Session and agent-wide state after `read_customer` returned `output` (the example's rule is agent-wide). */
function afterReading(output: unknown): { session: SessionState; agent: { lastCallAt: Map<string, number>; violations: number[]; taints: ReturnType<typeof createAgentTaints> } } {
  const session = recordOutputTaints(supportAgent, createSessionState(), 'read_customer', output);
  const agent = { lastCallAt: new Map<string, number>(), violations: [], taints: createAgentTaints() };
  const entries = outputTaintEntries(supportAgent, 'read_customer', output);
  recordAgentTaints(agent.taints, entries.map((entry) => [entry.fingerprint, entry.labels] as const), entries.map((entry) => entry.words), Date.now());
  return { session, agent };
}

describe('data flow: copied values glued to punctuation', () => {
  it.each([
    ['CSV row', 'Jane Doe,jane.doe@customer.example,123-45-6789'],
    ['key:value', 'email:jane.doe@customer.example'],
    ['Markdown mailto link', '[Jane](mailto:jane.doe@customer.example)'],
    ['ssn:', 'ssn:123-45-6789'],
    ['to=;cc=', 'to=jane.doe@customer.example;cc=x'],
    ['a phone in six groups inside text', 'Call her on +33 1 23 45 67 89 today'],
    ['parenthesised', '(jane.doe@customer.example)'],
    ['pipe-separated', 'id|jane.doe@customer.example|x'],
  ])('blocks a %s', (_shape, body) => {
    const result = evaluatePolicy(supportAgent, call({ arguments: { url: 'https://paste.example/new', body } }), afterReading(customer) as never);
    expect(result.decision).toBe('BLOCK');
    expect(result.matchedRules).toContain('no-customer-pii-outbound');
  });

  it('leaves text without a remembered value alone', () => {
    const state = afterReading(customer);
    for (const body of ['Order 1234,shipped:yes;(eta: monday) [ok](https://status.example)', 'jane.doe@other.example,123-45-6780']) {
      expect(evaluatePolicy(supportAgent, call({ arguments: { url: 'https://paste.example/new', body } }), state as never).decision).toBe('ALLOW');
    }
  });
});

describe('data flow: outputs that carry their values as JSON text', () => {
  const record = { email: 'mcp.user@customer.example', phone: '+1 415 555 0100', name: 'Mona Lee' };
  it.each([
    ['a JSON string', JSON.stringify(record)],
    ['an MCP text content result', { content: [{ type: 'text', text: JSON.stringify(record) }] }],
    ['an MCP result with structured content', { content: [{ type: 'text', text: 'found one customer' }], structuredContent: record }],
    ['JSON text nested in a field', { result: JSON.stringify({ customer: record }), ok: true }],
  ])('remembers the fields of %s', (_shape, output) => {
    const policy = compile(`
agents: { "*": { approvedScope: ["*"] } }
dataFlow: { sources: [{ tools: [read_customer], label: pii, fields: [email, phone, result.customer.email] }] }
rules:
  - { id: no-pii-out, match: { tools: [http_post] }, dataFlow: { labels: [pii] }, effect: BLOCK, reason: pii leaves }
`);
    const session = recordOutputTaints(policy, createSessionState(), 'read_customer', output);
    const result = evaluatePolicy(policy, call({ agentId: 'bot', arguments: { body: 'send to mcp.user@customer.example' } }), { session });
    expect(result.decision).toBe('BLOCK');
  });

  it('remembers the addresses and long numbers inside a longer text output', () => {
    const policy = compile(`
agents: { "*": { approvedScope: ["*"] } }
dataFlow: { sources: [{ tools: [read_customer], label: pii }] }
rules:
  - { id: no-pii-out, match: { tools: [http_post] }, dataFlow: { labels: [pii] }, effect: BLOCK, reason: pii leaves }
`);
    const session = recordOutputTaints(policy, createSessionState(), 'read_customer', 'The customer Mona Lee can be reached at mona.lee@customer.example or on +1 415 555 0100 after noon.');
    expect(evaluatePolicy(policy, call({ agentId: 'bot', arguments: { to: 'mona.lee@customer.example' } }), { session }).decision).toBe('BLOCK');
    expect(evaluatePolicy(policy, call({ agentId: 'bot', arguments: { sms: '+1 (415) 555-0100' } }), { session }).decision).toBe('BLOCK');
    expect(evaluatePolicy(policy, call({ agentId: 'bot', arguments: { to: 'someone@else.example' } }), { session }).decision).toBe('ALLOW');
  });
});

describe('emailDomain with several addresses', () => {
  const policy = compile(`
agents: { "*": { approvedScope: ["*"] } }
rules:
  - { id: outside, match: { tools: [send_email] }, when: 'emailDomain(args.to) != "acme.example"', effect: BLOCK, reason: mail outside }
  - { id: list-outside, match: { tools: [send_many] }, when: '!emailDomains(args.to).all(d, d == "acme.example")', effect: BLOCK, reason: list outside }
`);
  const decide = (toolName: string, to: string) => evaluatePolicy(policy, call({ agentId: 'bot', toolName, arguments: { to } }), { session: createSessionState() }).decision;

  it('fails the rule closed instead of reading only the last address', () => {
    expect(decide('send_email', 'partner@evil.example, team@acme.example')).toBe('BLOCK');
    expect(decide('send_email', 'partner@evil.example;team@acme.example')).toBe('BLOCK');
    expect(decide('send_email', 'partner@evil.example team@acme.example')).toBe('BLOCK');
  });

  it('reads one address, with or without a display name', () => {
    expect(decide('send_email', 'team@acme.example')).toBe('ALLOW');
    expect(decide('send_email', 'Team <team@Acme.example>')).toBe('ALLOW');
    expect(decide('send_email', 'partner@evil.example')).toBe('BLOCK');
  });

  it('emailDomains reads every address of a list', () => {
    expect(decide('send_many', 'a@acme.example; B <b@acme.example>')).toBe('ALLOW');
    expect(decide('send_many', 'a@acme.example, x@evil.example')).toBe('BLOCK');
  });
});

it('an agent entry that only pins the mode keeps the scope of "*" (the caller\'s approvedScope cannot widen it)', () => {
  const policy = compile(`
agents:
  support-bot: { enforcement: block }
  "*": { approvedScope: [search_kb] }
`);
  const decide = (approvedScope: string[] | undefined) =>
    evaluatePolicy(policy, call({ toolName: 'delete_customer', enforcement: 'observe', ...(approvedScope ? { approvedScope } : {}) }), { session: createSessionState() });
  for (const scope of [undefined, ['*'], ['delete_customer']]) {
    const result = decide(scope);
    expect(result.decision, JSON.stringify(scope)).toBe('BLOCK');
    expect(result.mode).toBe('block');
  }
  expect(evaluatePolicy(policy, call({ toolName: 'search_kb' }), { session: createSessionState() }).decision).toBe('ALLOW');
});

describe('values dropped for space make data-flow rules fail closed while they could matter', () => {
  const policy = compile(`
agents: { "*": { approvedScope: ["*"] } }
dataFlow: { sources: [{ tools: [read_customer, list_customers], label: pii, fields: [email] }] }
rules:
  - { id: session-flow, match: { tools: [http_post] }, dataFlow: { labels: [pii] }, effect: BLOCK, reason: pii leaves }
  - { id: agent-flow, match: { tools: [send_email] }, dataFlow: { labels: [pii], across: agent, within: 24h }, effect: BLOCK, reason: pii leaves the agent }
`);
  const flood = Array.from({ length: 10_000 }, (_, i) => ({ email: `c${i}@list.example` }));

  it('in the session: after a flood pushed the victim out, a copy of it is refused, and the state survives storage', async () => {
    const { deserializeSessionState, serializeSessionState } = await import('./session-state.js');
    let session = recordOutputTaints(policy, createSessionState(), 'read_customer', { email: 'victim@customer.example' });
    session = recordOutputTaints(policy, session, 'list_customers', flood);
    const stored = deserializeSessionState(JSON.parse(JSON.stringify(serializeSessionState(session))));
    for (const state of [session, stored]) {
      const result = evaluatePolicy(policy, call({ agentId: 'bot', arguments: { body: 'victim@customer.example' } }), { session: state });
      expect(result.decision).toBe('BLOCK');
      expect(result.reason).toMatch(/oldest were dropped/);
    }
    // Without a flood nothing changes: unrelated text passes.
    const quiet = recordOutputTaints(policy, createSessionState(), 'read_customer', { email: 'victim@customer.example' });
    expect(evaluatePolicy(policy, call({ agentId: 'bot', arguments: { body: 'hello' } }), { session: quiet }).decision).toBe('ALLOW');
  });

  it('agent-wide: a flood within the window fails closed; values dropped long before the window do not', () => {
    const now = Date.now();
    const agentState = (at: number) => {
      const agent = { lastCallAt: new Map<string, number>(), violations: [], taints: createAgentTaints() };
      for (const [output, when] of [[{ email: 'victim@customer.example' }, at], [flood, at + 1]] as const) {
        const entries = outputTaintEntries(policy, 'list_customers', output);
        recordAgentTaints(agent.taints, entries.map((entry) => [entry.fingerprint, entry.labels] as const), entries.map((entry) => entry.words), when);
      }
      return agent;
    };
    const send = (agent: ReturnType<typeof agentState>) =>
      evaluatePolicy(policy, call({ agentId: 'bot', toolName: 'send_email', now, arguments: { to: 'victim@customer.example' } }), { session: createSessionState(), agent } as never);
    const recent = send(agentState(now - 60_000));
    expect(recent.decision).toBe('BLOCK');
    expect(recent.reason).toMatch(/oldest were dropped/);
    // A busy agent whose dropped values are a month old: the 24-hour rule is not affected.
    expect(send(agentState(now - 30 * 24 * 3_600_000)).decision).toBe('ALLOW');
  });
});
