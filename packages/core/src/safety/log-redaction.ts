import { redactSecrets } from './secrets.js';

/** The subset of pino's options this module fills in (pino is not a dependency of core). */
export interface PinoSecretRedactionOptions {
  hooks: { streamWrite(line: string): string };
}

/**
 * Pino options that redact secrets (the ported gitleaks rules) from every log line. The hook runs
 * on the final JSON line (`hooks.streamWrite`, pino ≥ 8.14), i.e. after serializers, so request URLs,
 * headers, tool arguments, messages and error texts are all covered. Secrets inside JSON strings are found: the
 * rules' terminators accept JSON's `"` and escaped `\n`, and `detectSecrets` also scans the line with its escapes
 * decoded (a secret right after an escaped line break or tab, or written as `\u0041…`). Complements pino's
 * path-based `redact` option.
 *
 * @example
 * const logger = pino({ ...pinoSecretRedaction(), level: 'info' });
 * logger.info({ args: { token } }, 'calling tool'); // token appears as [REDACTED:github-pat]
 */
export function pinoSecretRedaction(): PinoSecretRedactionOptions {
  return { hooks: { streamWrite: (line) => redactSecrets(line) } };
}
