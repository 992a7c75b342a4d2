import { pinoSecretRedaction } from '@tollgate/core';
import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config.js';

/** Log paths whose values are replaced by `[redacted]`: keys, secrets and tokens never reach logs. */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'authorization',
  'token',
  'secret',
  'apiKey',
  'password',
  '*.token',
  '*.secret',
  '*.apiKey',
  '*.password',
];

/**
 * The server's structured logger (JSON lines on stdout).
 *
 * @example
 * const logger = createLogger('info');
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  // Secrets inside logged values (tool arguments, outputs, messages) are masked by the content-safety rules.
  const options = { level, redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' }, ...pinoSecretRedaction() };
  return destination ? pino(options, destination) : pino(options);
}
