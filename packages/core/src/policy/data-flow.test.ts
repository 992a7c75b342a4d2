import { describe, expect, it } from 'vitest';
import { loadPolicy } from './compile.js';
import type { CompiledPolicy } from './compile.js';
import { normalizeValue } from './data-flow.js';
import { evaluatePolicy } from './evaluate.js';
import { recordOutputTaints } from './output.js';
import { createSessionState, deserializeSessionState, serializeSessionState } from './session-state.js';

function compile(yaml: string): CompiledPolicy {
  const result = loadPolicy(yaml);
  if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
  return result.policy;
}

const policy = compile(`
agents: { "*": { approvedScope: ["*"] } }
dataFlow:
  sources:
    - { tools: [read_customer], label: pii, fields: [email, name, address.city] }
    - { tools: ["vault_*"], label: secret }
rules:
  - { id: pii-out, match: { tools: [send_email] }, dataFlow: { labels: [pii] }, effect: BLOCK, reason: pii leaves }
  - { id: secret-out, match: { tools: [send_email, http_post] }, dataFlow: { labels: [secret] }, effect: STEP_UP, reason: secret leaves }
`);

const customer = { email: 'Jane.Doe@Example.com', name: 'Jane Doe', address: { city: 'Springfield', zip: '12345' }, notes: 'VIP caller' };

function sendEmail(session: ReturnType<typeof createSessionState>, args: unknown): string {
  return evaluatePolicy(policy, {
    agentId: 'a', userId: 'u', sessionId: 's', toolName: 'send_email', arguments: args, enforcement: 'block', now: 0,
  }, { session }).decision;
}

describe('data-flow rules', () => {
  const session = recordOutputTaints(policy, createSessionState(), 'read_customer', customer);

  it.each([
    ['the exact email as an argument', { to: 'jane.doe@example.com' }, 'BLOCK'],
    ['the email inside a sentence', { body: 'Please contact JANE.DOE@example.com, thanks!' }, 'BLOCK'],
    ['the two-word name inside text', { body: 'Dear jane   doe, your order' }, 'BLOCK'],
    ['a remembered value nested in a list', { cc: [{ address: 'x' }, { address: 'jane.doe@example.com' }] }, 'BLOCK'],
    ['a value hidden in an object key', { meta: { 'jane.doe@example.com': true } }, 'BLOCK'],
    ['the city (a nested field)', { body: 'ships to springfield' }, 'BLOCK'],
    ['a field not listed (zip)', { body: 'zip 12345' }, 'ALLOW'],
    ['unrelated text', { body: 'Your ticket is closed' }, 'ALLOW'],
  ])('%s → %s', (_label, args, expected) => {
    expect(sendEmail(session, args)).toBe(expected);
  });

  it('other tools are not sources', () => {
    const untouched = recordOutputTaints(policy, createSessionState(), 'search', customer);
    expect(sendEmail(untouched, { to: 'jane.doe@example.com' })).toBe('ALLOW');
  });

  it('labels keep rules apart: a secret asks for a human, pii blocks', () => {
    const secret = recordOutputTaints(policy, createSessionState(), 'vault_read', { apiKey: 'sk-live-abcdef123456' });
    expect(sendEmail(secret, { body: 'key: sk-live-abcdef123456' })).toBe('STEP_UP');
  });

  it('survives storage: only fingerprints are stored, never the values', () => {
    const stored = JSON.stringify(serializeSessionState(session));
    expect(stored).not.toContain('jane');
    expect(stored).not.toContain('Springfield');
    expect(sendEmail(deserializeSessionState(JSON.parse(stored)), { to: 'jane.doe@example.com' })).toBe('BLOCK');
  });

  it.each([
    [' Jane.Doe@Example.com ', 'jane.doe@example.com'],
    ['123-45-6789', '123456789'],
    ['+1 (555) 010-4477', '15550104477'],
    ['Ｆｕｌｌ　width', 'full width'],
  ])('normalizes %j to %j', (input, expected) => {
    expect(normalizeValue(input)).toBe(expected);
  });
});
