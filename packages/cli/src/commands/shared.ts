import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { TollgateError, isErrorCode } from '@tollgate/core';
import {
  closeServices,
  createLogger,
  createServices,
  loadConfig,
  migrateStore,
  openStore,
  parseConfigValue,
  SQLITE_FILE_NAME,
  systemClock,
  type Services,
  type Store,
  type TollgateConfig,
} from '@tollgate/server';
import { printableText } from '../printable-text.js';

/** Options every command accepting storage flags has. */
export interface StorageFlags {
  dataDir?: string;
  databaseUrl?: string;
}

/**
 * Adds `--data-dir` and `--database-url` (same meaning as TOLLGATE_DATA_DIR / DATABASE_URL).
 *
 * @example
 * withStorageFlags(program.command('migrate'));
 */
export function withStorageFlags(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'SQLite data directory (env TOLLGATE_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'postgres://… to use PostgreSQL (env DATABASE_URL)');
}

/**
 * Environment config with CLI flags on top, each flag parsed with its variable's rules.
 *
 * @example
 * const config = configFrom({ port: '8080' });
 */
export function configFrom(flags: StorageFlags & { port?: string; host?: string }): TollgateConfig {
  const overrides: Partial<TollgateConfig> = {};
  if (flags.port !== undefined) overrides.port = parseConfigValue('port', flags.port, '--port');
  if (flags.host !== undefined) overrides.host = parseConfigValue('host', flags.host, '--host');
  if (flags.dataDir !== undefined) overrides.dataDir = parseConfigValue('dataDir', flags.dataDir, '--data-dir');
  if (flags.databaseUrl !== undefined) overrides.databaseUrl = parseConfigValue('databaseUrl', flags.databaseUrl, '--database-url');
  return loadConfig(undefined, overrides);
}

/**
 * Opens the configured store for a one-off command: without the background WAL checkpoint thread a long-running
 * server uses (closing the connection checkpoints anyway).
 *
 * @example
 * const store = openCommandStore(configFrom(flags));
 */
export function openCommandStore(config: TollgateConfig, options: { create?: boolean } = {}): Store {
  // A mistyped --data-dir must not quietly become a new, empty installation (with its own vault master key) that
  // lists no keys and replays no decisions: only `serve`, `migrate` and the provisioning commands (`tenants create`,
  // `keys create`) create the database.
  if (config.databaseUrl === undefined && options.create !== true) {
    const file = join(config.dataDir, SQLITE_FILE_NAME);
    if (!existsSync(file)) {
      throw new TollgateError('CONFIG_INVALID', `no Tollgate database at ${file}: check --data-dir (env TOLLGATE_DATA_DIR), or create it with tollgate migrate (tollgate serve does too)`);
    }
  }
  return openStore({ ...config, sqliteCheckpointIntervalMs: 0 });
}

/**
 * Opens and migrates the store, builds services (quiet logger), runs `fn`, and closes everything. On
 * PostgreSQL, changes made here (e.g. a revocation) reach running servers through LISTEN/NOTIFY; on SQLite
 * they notice the external write.
 *
 * @example
 * await withServices(flags, (services) => services.tenants.list());
 */
export async function withServices<T>(flags: StorageFlags, fn: (services: Services) => Promise<T>, options: { create?: boolean } = {}): Promise<T> {
  const config = configFrom(flags);
  const store = openCommandStore(config, options);
  try {
    await migrateStore(store);
    const services = await createServices({ config, store, clock: systemClock(), logger: createLogger('silent') });
    try {
      return await fn(services);
    } finally {
      await closeServices(services);
    }
  } finally {
    await store.close();
  }
}

/** Writes one line to stdout. */
export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/**
 * Writes `value` as indented JSON to stdout, C1 control characters escaped too (`JSON.stringify` escapes only C0):
 * for answers of a server, which the terminal must not interpret (see {@link printableText}).
 *
 * @example printJson({ verified: true });
 */
export function printJson(value: unknown): void {
  print(printableText(JSON.stringify(value, null, 2), { keepNewlines: true }));
}

/**
 * The error for a server's refusal, under the server's own code (`UNAUTHENTICATED`, `LEDGER_RANGE_INVALID`, …) so
 * scripts can tell a wrong key from an outage; `UNAVAILABLE` only when the answer carries no code Tollgate knows.
 *
 * @example throw serverRefusal('simulate', response.status, await response.json().catch(() => ({})));
 */
export function serverRefusal(what: string, status: number, body: unknown): TollgateError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = isErrorCode(error?.code) ? error.code : 'UNAVAILABLE';
  // One line, control characters visible: the message is the server's, and a hostile one could erase the line and
  // print a fake result.
  const message = typeof error?.message === 'string' ? printableText(error.message) : 'no error message';
  return new TollgateError(code, `${what}: the server answered HTTP ${status}: ${message}`, { details: { status } });
}

/**
 * The JSON body of a server's answer, or the error for a refusal (see {@link serverRefusal}); an answer that is not
 * JSON (a proxy's error page) is `UNAVAILABLE` with its status, never a parser's stack trace.
 *
 * @example const report = await answerOf<ReplayReport>('simulate', response);
 */
export async function answerOf<T>(what: string, response: Response): Promise<T> {
  const body = (await response.json().catch(() => undefined)) as unknown;
  if (!response.ok) throw serverRefusal(what, response.status, body);
  if (body === undefined) throw new TollgateError('UNAVAILABLE', `${what}: the server's answer (HTTP ${response.status}) is not JSON`);
  return body as T;
}

/**
 * The API key for `--url`: `--api-key`, else env `TOLLGATE_API_KEY` (which keeps the key out of the process list and
 * shell history); `VALIDATION_FAILED` naming both when neither is set.
 *
 * @example const key = apiKeyOf(flags, 'audit:read');
 */
export function apiKeyOf(flags: { apiKey?: string | undefined }, scope: string): string {
  const key = flags.apiKey ?? process.env.TOLLGATE_API_KEY;
  if (key === undefined || key === '') throw new TollgateError('VALIDATION_FAILED', `--url needs an API key with scope ${scope}: pass --api-key or set TOLLGATE_API_KEY`);
  return checkApiKey(key, flags.apiKey === undefined ? 'env TOLLGATE_API_KEY' : '--api-key');
}

/**
 * `key` when it can be sent in an `Authorization` header: printable ASCII. Otherwise `VALIDATION_FAILED` naming
 * where it came from (`source`), never the key: fetch's own error would quote the header, key and all.
 *
 * @example const key = checkApiKey(process.env.TOLLGATE_API_KEY ?? '', 'env TOLLGATE_API_KEY');
 */
export function checkApiKey(key: string, source: string): string {
  if (/[^\x20-\x7e]/.test(key)) {
    throw new TollgateError('VALIDATION_FAILED', `the API key in ${source} holds a control character (a line break?) or a non-ASCII character; an API key is printable ASCII (tg_live_<id>_<secret>)`);
  }
  return key;
}

/**
 * A parser for a URL flag (`--url`, `--webhook`, …), run when the flags are read: `VALIDATION_FAILED` for anything
 * but an http(s) URL, and for a URL holding a user name or password (the server authenticates with the API key;
 * fetch refuses such a URL and quotes it, password and all, in its error). The message never repeats the value.
 *
 * @example command.option('--url <url>', 'the Tollgate server', urlFlag('--url'));
 */
export function urlFlag(flag: string): (value: string) => string {
  return (value) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new TollgateError('VALIDATION_FAILED', `${flag} must be an http(s) URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TollgateError('VALIDATION_FAILED', `${flag} must be an http(s) URL`);
    if (url.username !== '' || url.password !== '') {
      throw new TollgateError('VALIDATION_FAILED', `${flag} must not hold a user name or password (user:password@): give the API key with --api-key or TOLLGATE_API_KEY`);
    }
    return value;
  };
}
