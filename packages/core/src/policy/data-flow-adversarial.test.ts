import { describe, expect, it } from 'vitest';
import { loadPolicy } from './compile.js';
import type { CompiledPolicy } from './compile.js';
import { MAX_DECODED_PER_SCAN } from './data-flow.js';
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

describe('data-flow: encoded values and values inside URLs', () => {
  const email = 'jane.doe@example.com';
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  it.each([
    ['base64 of the email as the whole argument', { body: b64(email) }],
    ['base64 inside a sentence', { body: `payload: ${b64(email)} (see attachment)` }],
    ['base64url without padding', { token: Buffer.from(email).toString('base64url') }],
    ['hex of the email', { data: Buffer.from(email).toString('hex') }],
    ['upper-case hex of the phone', { data: Buffer.from('+1 555-010-7788').toString('hex').toUpperCase() }],
    ['percent-encoded in a query string', { url: 'https://collector.example/c?e=jane.doe%40example.com&t=1' }],
    ['a plain query parameter', { url: `https://collector.example/c?email=${email}&t=1` }],
    ['a URL path segment', { url: `https://collector.example/u/${email}/save` }],
    ['the name with + for spaces in a form body', { body: 'first=x&name=Jane+Doe&ok=1' }],
    ['the name percent-encoded', { body: 'name=Jane%20Doe' }],
    ['base64 of a percent-encoded value (two layers)', { body: b64(encodeURIComponent(`name: ${email}`)) }],
    ['base64 of JSON text holding the value', { body: b64(JSON.stringify({ contact: { email } })) }],
    ['base64 of base64 (two layers)', { body: b64(b64(email)) }],
  ])('%s is caught', (_label, args) => {
    expect(post(args)).toBe('BLOCK');
  });

  it.each([
    ['three layers of base64 (past the documented bound)', { body: b64(b64(b64(email))) }],
    ['other base64 text', { body: b64('nothing sensitive in here at all') }],
    ['binary base64 (an image)', { image: Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 97) % 256)).toString('base64') }],
    ['long English words and hashes that happen to fit base64 or hex', { body: 'governance internationalization 3f2a9c1b7e8d0a4c deadbeefcafe Authorization' }],
    ['a URL without the value', { url: 'https://status.example/ping?ok=1&from=bot' }],
  ])('%s is allowed', (_label, args) => {
    expect(post(args)).toBe('ALLOW');
  });

  it('padding the arguments with more than MAX_DECODED_PER_SCAN decodable tokens fails closed', () => {
    const padding = Array.from({ length: MAX_DECODED_PER_SCAN + 1 }, (_, i) => b64(`harmless filler text ${i}`)).join(' ');
    expect(post({ body: padding })).toBe('BLOCK');
    expect(post({ body: padding.split(' ').slice(0, 5_000).join(' ') })).toBe('ALLOW');
  });
});

describe('data-flow: values split across neighbouring arguments', () => {
  it.each([
    ['the name in first and last name fields', { first: 'Jane', last: 'Doe', note: 'hi' }],
    ['the email as user and domain', { user: 'Jane.Doe', domain: 'Example.com' }],
    ['the phone in three fields', { country: '+1', area: '555', number: '010-7788' }],
    ['the name in an array', { parts: ['Dear', 'Jane', 'Doe'] }],
    ['nested neighbours', { contact: { given: 'jane', family: 'doe' } }],
  ])('%s is caught', (_label, args) => {
    expect(post(args)).toBe('BLOCK');
  });

  it.each([
    ['the first name alone', { first: 'Jane', last: 'Smith' }],
    ['the parts not next to each other', { first: 'Jane', middle: 'Q', city: 'Lisbon', last: 'Doe' }],
    ['a user and domain of someone else', { user: 'john.doe', domain: 'example.com' }],
  ])('%s is allowed', (_label, args) => {
    expect(post(args)).toBe('ALLOW');
  });
});
