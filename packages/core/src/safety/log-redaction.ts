import { redactSecrets, redactSecretsDeep } from './secrets.js';

/** The subset of pino's options this module fills in (pino is not a dependency of core). */
export interface PinoSecretRedactionOptions {
  formatters: { log(object: Record<string, unknown>): Record<string, unknown> };
  hooks: { logMethod(this: unknown, args: unknown[], method: (...args: unknown[]) => void, level: number): void };
}

/**
 * Pino options that redact secrets (the ported gitleaks rules) from every log record: the merged
 * object via `formatters.log` and the message strings via `hooks.logMethod`. Spread them into
 * `pino({...})`; they complement, not replace, pino's path-based `redact` option.
 *
 * @example
 * const logger = pino({ ...pinoSecretRedaction(), level: 'info' });
 * logger.info({ args: { token } }, 'calling tool'); // token appears as [REDACTED:github-pat]
 */
export function pinoSecretRedaction(): PinoSecretRedactionOptions {
  return {
    formatters: { log: (object) => redactSecretsDeep(object) },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? redactSecrets(a) : a)));
      },
    },
  };
}
