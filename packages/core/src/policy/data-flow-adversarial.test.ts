import { describe, expect, it } from 'vitest';
import { loadPolicy } from './compile.js';
import type { CompiledPolicy } from './compile.js';
import { evaluatePolicy } from './evaluate.js';
import { recordOutputTaints } from './output.js';
import { createSessionState } from './session-state.js';

// A remembered sensitive value re-sent with a trivial change must still be caught by a data-flow rule.

function compile(yaml: string): CompiledPolicy {
  const result = loadPolicy(yaml);
  if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
  return result.policy;
}

const policy = compile(`
agents: { "*": { approvedScope: ["*"] } }
dataFlow: { sources: [{ tools: [read_customer], label: pii, fields: [email, name, phone] }] }
rules:
  - { id: pii-out, match: { tools: [http_post] }, dataFlow: true, effect: BLOCK, reason: pii leaves }
`);

const session = recordOutputTaints(policy, createSessionState(), 'read_customer', { email: 'Jane.Doe@Example.com', name: 'Jane Doe', phone: '+1 555-010-7788' });

function post(args: unknown): string {
  return evaluatePolicy(policy, {
    agentId: 'a', userId: 'u', sessionId: 's', toolName: 'http_post', arguments: args, enforcement: 'block', now: 0,
  }, { session }).decision;
}

describe('data-flow: trivially transformed values', () => {
  it.each([
    ['a zero-width space inside the email', { body: 'ja\u200bne.doe@example.com' }],
    ['a soft hyphen inside the name', { body: 'Dear Ja\u00adne Doe' }],
    ['a word joiner and a BOM', { to: '\ufeffjane.doe@exam\u2060ple.com' }],
    ['the email inside a JSON text argument', { body: '{"contact":{"email":"jane.doe@example.com"}}' }],
    ['the name inside a JSON array text', { body: '["Jane Doe", 3]' }],
    ['the phone inside JSON text inside JSON text', { body: JSON.stringify({ inner: JSON.stringify({ phone: '15550107788' }) }) }],
  ])('%s is caught', (_label, args) => {
    expect(post(args)).toBe('BLOCK');
  });

  it.each([
    ['upper case and extra spaces', { body: '  JANE   DOE ' }],
    ['full-width letters (NFKC)', { to: 'ｊａｎｅ.doe@example.com' }],
    ['the phone with other separators', { body: 'call 1 (555) 010 7788' }],
    ['the value as an object key', { 'jane.doe@example.com': true }],
  ])('(held before) %s is caught', (_label, args) => {
    expect(post(args)).toBe('BLOCK');
  });

  it.each([
    ['JSON text without the value', { body: '{"contact":{"email":"someone@else.example"}}' }],
    ['text that only looks like JSON', { body: '{not json jane' }],
  ])('%s is allowed', (_label, args) => {
    expect(post(args)).toBe('ALLOW');
  });

  it('a JSON text argument too large to expand fails closed like other oversized arguments', () => {
    const big = JSON.stringify({ list: Array.from({ length: 20_000 }, (_, i) => `v${i}`) });
    expect(post({ body: big })).toBe('BLOCK');
  });
});
