import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Prefix of every API key. */
export const API_KEY_PREFIX = 'tg_live_';

const TOKEN_PATTERN = /^tg_live_([a-z0-9]{8,32})_([A-Za-z0-9]{32,128})$/;

/** A freshly generated key: the full token is shown once and never stored. */
export interface GeneratedKey {
  id: string;
  secret: string;
  token: string;
}

/**
 * Generates `tg_live_<id>_<secret>`: a 16-hex-char id (the lookup handle, not secret) and a 256-bit secret
 * (64 hex chars).
 *
 * @example
 * const { id, token } = generateApiKey();
 */
export function generateApiKey(): GeneratedKey {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('hex');
  return { id, secret, token: `${API_KEY_PREFIX}${id}_${secret}` };
}

/**
 * Splits a token into id and secret; undefined when it is not shaped like a Tollgate key.
 *
 * @example
 * parseApiKey('tg_live_0123abcd0123abcd_' + 'f'.repeat(64)); // { id: '0123abcd0123abcd', secret: 'fff…' }
 */
export function parseApiKey(token: string): { id: string; secret: string } | undefined {
  const match = TOKEN_PATTERN.exec(token);
  if (!match?.[1] || !match[2]) return undefined;
  return { id: match[1], secret: match[2] };
}

/**
 * Hex SHA-256 of the secret. A slow password hash (scrypt, argon2) exists to make guessing LOW-entropy
 * passwords expensive; these secrets are 256 random bits, so a stolen hash cannot be reversed or brute-forced
 * either way, and a fast hash keeps authentication cheap on every request.
 *
 * @example
 * hashSecret('ab…'); // '3f…' (64 hex chars)
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/**
 * Constant-time comparison of a presented secret with a stored hash (hashing first gives equal lengths).
 *
 * @example
 * secretMatches(secret, record.secretHash);
 */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = hash('sha256', secret, 'buffer'); // one-shot: cheaper than createHash on every request
  const stored = Buffer.from(storedHash, 'hex');
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}
