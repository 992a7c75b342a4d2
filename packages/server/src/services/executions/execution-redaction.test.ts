import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { randomAwsKey, randomGithubToken } from '../../../../../test-utils/index.js';
import { redactJsonValue, redactLines } from './execution-redaction.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const rand = (alphabet: string, n: number): string => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');
const aws = randomAwsKey;
const github = randomGithubToken;
const pemLines = (): string[] => ['-----BEGIN RSA PRIVATE KEY-----', rand(ALNUM, 64), rand(ALNUM, 64), '-----END RSA PRIVATE KEY-----'];

describe('redactJsonValue', () => {
  it('returns the very same value when there is nothing to mask (no copy on the hot path)', () => {
    const value = { a: [1, 'two', { three: null }] };
    expect(redactJsonValue(value)).toBe(value);
  });

  it.each([
    ['a nested value', () => { const s = github(); return [{ a: { b: [{ token: s }] } }, s]; }, { a: { b: [{ token: '[REDACTED:github-pat]' }] } }],
    ['a key', () => { const s = aws(); return [{ [s]: 1 }, s]; }, { '[REDACTED:aws-access-token]': 1 }],
    ['a private key split over array items', () => { const lines = pemLines(); return [{ pem: lines }, lines[1]]; }, { pem: ['[REDACTED:private-key]'] }],
    ['a bare string', () => { const s = github(); return [`token ${s}`, s]; }, 'token [REDACTED:github-pat]'],
  ] as const)('masks %s', (_what, make, expected) => {
    const [value, secret] = make() as [unknown, string];
    const masked = redactJsonValue(value);
    expect(masked).toEqual(expected);
    expect(JSON.stringify(masked)).not.toContain(secret);
  });
});

describe('redactLines', () => {
  it('masks a secret split across lines in every line that holds a piece, and leaves other lines alone', () => {
    const secret = aws();
    const lines = ['starting', `key ${secret.slice(0, 8)}`, secret.slice(8), 'done'];
    expect(redactLines(lines)).toEqual(['starting', 'key [REDACTED:aws-access-token]', '[REDACTED:aws-access-token]', 'done']);
  });

  it('masks a token printed in three pieces between other lines', () => {
    const secret = github();
    const masked = redactLines(['before', secret.slice(0, 12), secret.slice(12, 26), secret.slice(26), 'after']);
    expect(masked).toEqual(['before', '[REDACTED:github-pat]', '[REDACTED:github-pat]', '[REDACTED:github-pat]', 'after']);
  });

  it('masks a private key logged one line at a time', () => {
    const lines = pemLines();
    const masked = redactLines(['loading key', ...lines]);
    expect(masked[0]).toBe('loading key');
    for (const line of lines) expect(masked.join('\n')).not.toContain(line.slice(5, 40));
  });

  it('masks secrets inside single lines as before', () => {
    const secret = github();
    expect(redactLines([`token=${secret}`])).toEqual(['token=[REDACTED:github-pat]']);
  });
});
