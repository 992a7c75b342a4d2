import { createHash, hash, randomBytes } from 'node:crypto';

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
 * Constant-time comparison of a presented secret with a stored hash. The presented secret is hashed to lowercase hex
 * (what `hashSecret` stores) and the two 64-character strings are compared with {@link sameSecret}: no early exit,
 * and no Buffers (allocating two per request for `timingSafeEqual` cost more than the hash itself).
 *
 * @example
 * secretMatches(secret, record.secretHash);
 */
export function secretMatches(secret: string, storedHash: string): boolean {
  return sameSecret(hash('sha256', secret, 'hex'), storedHash); // one-shot: cheaper than createHash per request
}

/**
 * Constant-time string equality against a known value: the loop always runs over all of `known`, whatever
 * `presented` holds, and never exits early. Only the length of `known` (not secret here) shapes its timing.
 *
 * @example
 * sameSecret(presentedSecret, verifiedSecret);
 */
export function sameSecret(presented: string, known: string): boolean {
  return sameSecretAt(presented, 0, known);
}

/**
 * {@link sameSecret} for the part of `presented` from `offset` on, without slicing it (the auth hot path compares
 * the secret inside the whole presented token).
 *
 * @example
 * sameSecretAt('tg_live_id_s3cret', 11, 's3cret'); // true
 */
export function sameSecretAt(presented: string, offset: number, known: string): boolean {
  let difference = (presented.length - offset) ^ known.length;
  // charCodeAt past the end is NaN, which is 0 in a bitwise operation: a shorter `presented` still differs.
  for (let i = 0; i < known.length; i += 1) difference |= presented.charCodeAt(offset + i) ^ known.charCodeAt(i);
  return difference === 0;
}
