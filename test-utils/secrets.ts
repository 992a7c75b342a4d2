import { randomInt } from 'node:crypto';
import { redactSecrets } from '@tollgate/core';

/** Alphabets of the random parts of test secrets. */
export const UPPER_B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `n` random characters of `alphabet`. */
export function randomText(alphabet: string, n: number): string {
  return Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');
}

/**
 * A random secret that the detector recognises on its own (in `context`, by default alone). The secret rules keep
 * gitleaks' entropy floors, so a rare draw such as `AKIAKIZIKGZADSA3SUGA` (about 1 AWS-shaped draw in 3,000) is
 * rightly not a secret; tests about where a recognised secret is stored draw again instead of failing at random.
 *
 * @example
 * const aws = recognisedSecret(() => 'AKIA' + randomText(UPPER_B32, 16));
 * const password = recognisedSecret(() => randomText(ALNUM, 20), (secret) => `password=${secret}`);
 */
export function recognisedSecret(draw: () => string, context: (secret: string) => string = (secret) => secret): string {
  for (let attempt = 0; attempt < 1000; attempt += 1) {
    const secret = draw();
    if (!redactSecrets(context(secret)).includes(secret)) return secret;
  }
  throw new Error('no recognised secret in 1,000 draws: the draw does not produce what the rules detect');
}

/** A random AWS access key id the detector recognises. */
export const randomAwsKey = (): string => recognisedSecret(() => 'AKIA' + randomText(UPPER_B32, 16));
/** A random GitHub token the detector recognises. */
export const randomGithubToken = (): string => recognisedSecret(() => 'ghp_' + randomText(ALNUM, 36));
