import { describe, expect, it } from 'vitest';
import { hashSecret, sameSecret, sameSecretAt, secretMatches } from './key-material.js';

describe('sameSecret (constant-time equality against a known secret)', () => {
  const known = 'a1B2'.repeat(16);

  it('accepts only the identical string', () => {
    expect(sameSecret(known, known)).toBe(true);
    expect(sameSecret(`${known}`, known)).toBe(true);
  });

  it('refuses strings that differ anywhere, in length or case, including the empty string', () => {
    for (const presented of [
      `${known.slice(0, -1)}x`,
      `x${known.slice(1)}`,
      known.slice(0, -1),
      `${known}a`,
      known.toUpperCase(),
      '',
      `${known.slice(0, 32)}\u0000${known.slice(33)}`,
    ]) {
      expect(sameSecret(presented, known), presented).toBe(false);
    }
  });
});

describe('sameSecretAt (the secret inside a whole presented token)', () => {
  const known = 'a1B2'.repeat(16);
  const prefix = 'tg_live_abc123_';

  it('accepts the token whose tail from the offset is the secret', () => {
    expect(sameSecretAt(`${prefix}${known}`, prefix.length, known)).toBe(true);
  });

  it('refuses a tail that is longer, shorter or different, and an offset off by one', () => {
    expect(sameSecretAt(`${prefix}${known}x`, prefix.length, known)).toBe(false);
    expect(sameSecretAt(`${prefix}${known.slice(0, -1)}`, prefix.length, known)).toBe(false);
    expect(sameSecretAt(`${prefix}${known.slice(0, -1)}X`, prefix.length, known)).toBe(false);
    expect(sameSecretAt(`${prefix}${known}`, prefix.length - 1, known)).toBe(false);
    expect(sameSecretAt(`${prefix}${known}`, prefix.length + 1, known)).toBe(false);
    expect(sameSecretAt(prefix, prefix.length, known)).toBe(false);
  });
});

describe('secretMatches (presented secret against the stored SHA-256)', () => {
  it('matches the secret whose hash is stored and nothing else', () => {
    const secret = 'f'.repeat(64);
    const stored = hashSecret(secret);
    expect(secretMatches(secret, stored)).toBe(true);
    expect(secretMatches(`${'f'.repeat(63)}e`, stored)).toBe(false);
    expect(secretMatches(secret, stored.toUpperCase())).toBe(false);
    expect(secretMatches(secret, stored.slice(0, 63))).toBe(false);
    expect(secretMatches(secret, '')).toBe(false);
  });
});
