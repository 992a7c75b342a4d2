import { TollgateError } from '@tollgate/core';

/**
 * The ONLY module that reads `process.env`. Every setting is declared once in {@link CONFIG_VARIABLES}
 * (name, default, parser, description), parsed once at start-up, and passed down as a typed object.
 * A bad value stops start-up with a `CONFIG_INVALID` error naming the variable.
 *
 * To add a setting: add one entry to `CONFIG_VARIABLES` (keep areas grouped) and document it in
 * docs/operations.md. `loadConfig()` returns it typed, with no other change.
 */

/** Declaration of one environment variable. */
export interface ConfigVariable<T> {
  /** Environment variable name, e.g. `TOLLGATE_PORT`. */
  readonly env: string;
  /** One line for docs/operations.md and `--help`. */
  readonly description: string;
  /** Value when the variable is unset or empty. */
  readonly defaultValue: T;
  /** Parses the raw string; throws an Error whose message says what was expected. */
  readonly parse: (raw: string) => T;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Default HTTP port of `tollgate serve`. */
export const DEFAULT_PORT = 8787;
/** Default bind address (loopback: exposing Tollgate is a deliberate choice). */
export const DEFAULT_HOST = '127.0.0.1';
/** Default data directory for the embedded SQLite database. */
export const DEFAULT_DATA_DIR = './data';
/** Default request body limit (1 MiB). */
export const DEFAULT_BODY_LIMIT_BYTES = 1_048_576;
/** Time to receive a whole request (Fastify's default is no limit: a client sending its body slowly held its socket forever). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** How long a verified API key is cached in memory; revocations evict immediately via the bus. */
export const DEFAULT_AUTH_CACHE_TTL_MS = 30_000;
/** How long SIGTERM waits for in-flight requests before closing connections. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** Pattern of an API key: `tg_live_<id>_<secret>`. */
export const API_KEY_PATTERN = /^tg_live_([a-z0-9]{8,32})_([A-Za-z0-9]{32,128})$/;

function integer(min: number, max: number) {
  return (raw: string): number => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`expected an integer between ${min} and ${max}`);
    const value = Number(raw.trim());
    if (value < min || value > max) throw new Error(`expected an integer between ${min} and ${max}`);
    return value;
  };
}

function oneOf<const T extends readonly string[]>(values: T) {
  return (raw: string): T[number] => {
    const value = raw.trim().toLowerCase();
    if (!values.includes(value)) throw new Error(`expected one of ${values.join(', ')}`);
    return value as T[number];
  };
}

function text(raw: string): string {
  return raw.trim();
}

function postgresUrl(raw: string): string {
  const value = raw.trim();
  if (!/^postgres(ql)?:\/\//.test(value)) throw new Error('expected a postgres:// or postgresql:// URL');
  try {
    new URL(value);
  } catch {
    throw new Error('expected a valid URL');
  }
  return value;
}

function apiKey(raw: string): string {
  const value = raw.trim();
  if (!API_KEY_PATTERN.test(value)) {
    throw new Error('expected tg_live_<id>_<secret> (id: 8-32 of [a-z0-9], secret: 32-128 of [A-Za-z0-9])');
  }
  return value;
}

function vaultKey(raw: string): string {
  const value = raw.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(value) ? 32 : Buffer.from(value, 'base64').length;
  if (bytes !== 32) throw new Error('expected 32 bytes as 64 hex digits or base64');
  return value;
}

function cidrList(raw: string): string[] {
  const items = raw.split(',').map((item) => item.trim()).filter((item) => item !== '');
  for (const item of items) {
    if (!/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(item)) throw new Error(`expected comma-separated CIDRs, got ${JSON.stringify(item)}`);
  }
  return items;
}

function boolean(raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new Error('expected true or false');
}

function keyName(raw: string): string {
  const value = raw.trim();
  if (!/^[^\s+]{1,200}$/.test(value)) throw new Error('expected a name without spaces or "+" (e.g. tollgate.example.com)');
  return value;
}

function vkeyList(raw: string): string[] {
  const items = raw.split(',').map((item) => item.trim()).filter((item) => item !== '');
  for (const item of items) {
    if (!/^[^\s+]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/.test(item)) throw new Error(`expected comma-separated vkeys name+keyid+key, got ${JSON.stringify(item)}`);
  }
  return items;
}

function variable<T>(env: string, defaultValue: T, parse: (raw: string) => T, description: string): ConfigVariable<T> {
  return { env, defaultValue, parse, description };
}

/** Every setting of the server. Add yours here (one entry), grouped by area. */
export const CONFIG_VARIABLES = {
  // foundation
  port: variable('TOLLGATE_PORT', DEFAULT_PORT, integer(0, 65_535), 'HTTP port (`serve --port`).'),
  host: variable('TOLLGATE_HOST', DEFAULT_HOST, text, 'Bind address (`serve --host`).'),
  dataDir: variable('TOLLGATE_DATA_DIR', DEFAULT_DATA_DIR, text, 'Directory of the SQLite database (`--data-dir`).'),
  sqliteCheckpointIntervalMs: variable(
    'TOLLGATE_SQLITE_CHECKPOINT_INTERVAL_MS',
    250,
    integer(0, 60_000),
    'SQLite only: milliseconds between WAL checkpoints run by a background thread while the WAL is quiet (5 ms while it keeps growing), so they rarely pause request handling; 0 = SQLite\'s automatic checkpoints on the serving thread.',
  ),
  databaseUrl: variable<string | undefined>(
    'DATABASE_URL',
    undefined,
    postgresUrl,
    'postgres://… selects PostgreSQL instead of the embedded SQLite.',
  ),
  adminKey: variable<string | undefined>(
    'TOLLGATE_ADMIN_KEY',
    undefined,
    apiKey,
    'First admin key of tenant `default` (instead of a generated one). Format tg_live_<id>_<secret>.',
  ),
  logLevel: variable<LogLevel>('TOLLGATE_LOG_LEVEL', 'info', oneOf(LOG_LEVELS), 'pino log level.'),
  bodyLimitBytes: variable(
    'TOLLGATE_BODY_LIMIT_BYTES',
    DEFAULT_BODY_LIMIT_BYTES,
    integer(1_024, 104_857_600),
    'Largest accepted request body in bytes (413 above).',
  ),
  httpDirectRoutes: variable(
    'TOLLGATE_HTTP_DIRECT_ROUTES',
    true,
    boolean,
    'Serve the ordinary requests of the hot routes (POST /v1/enforce, GET /api/v1/auth/whoami) on the direct path, before Fastify (same answers, less work per request; docs/architecture.md). false sends every request through Fastify.',
  ),
  requestTimeoutMs: variable(
    'TOLLGATE_REQUEST_TIMEOUT_MS',
    DEFAULT_REQUEST_TIMEOUT_MS,
    integer(1_000, 3_600_000),
    'Time a client has to send one whole request, headers and body (408 and the connection closed after; headers alone get at most 60 s). Slow senders cannot hold connections open; streams and long polls, whose request has arrived, are not cut.',
  ),
  keyRateLimit: variable(
    'TOLLGATE_KEY_RATE_LIMIT',
    0,
    integer(0, 1_000_000),
    'Requests per second one API key (or a dashboard session, by its key) may make to this server process, on every authenticated route; past it 429 RATE_LIMITED with Retry-After (details.limit "requests_per_key"). 0 = no limit. With a limit, every request goes through Fastify (the direct path is off).',
  ),
  keyRateBurst: variable(
    'TOLLGATE_KEY_RATE_BURST',
    0,
    integer(0, 10_000_000),
    'Requests a key may make at once before its steady rate applies (the token bucket size); 0 = one second\'s worth (TOLLGATE_KEY_RATE_LIMIT).',
  ),
  authCacheTtlMs: variable(
    'TOLLGATE_AUTH_CACHE_TTL_MS',
    DEFAULT_AUTH_CACHE_TTL_MS,
    integer(0, 3_600_000),
    'How long a verified API key stays cached (0 disables); revocation evicts at once.',
  ),
  shutdownTimeoutMs: variable(
    'TOLLGATE_SHUTDOWN_TIMEOUT_MS',
    DEFAULT_SHUTDOWN_TIMEOUT_MS,
    integer(0, 600_000),
    'On SIGTERM, how long to wait for in-flight requests.',
  ),
  // ledger (issue 5, docs/ledger.md)
  ledgerOrigin: variable('TOLLGATE_LEDGER_ORIGIN', 'tollgate.local', keyName, 'Origin prefix of ledger checkpoints; each tenant signs as <origin>/<tenant>. Use your host name.'),
  ledgerCheckpointEvery: variable('TOLLGATE_LEDGER_CHECKPOINT_EVERY', 1_000, integer(1, 10_000_000), 'Sign a ledger checkpoint after this many new records.'),
  ledgerCheckpointIntervalMs: variable('TOLLGATE_LEDGER_CHECKPOINT_INTERVAL_MS', 10_000, integer(100, 86_400_000), 'Sign a checkpoint of new ledger records at least this often.'),
  ledgerWitnessKeys: variable<string[]>('TOLLGATE_LEDGER_WITNESS_KEYS', [], vkeyList, 'Comma-separated witness verifier keys (C2SP vkeys, type 0x04) whose checkpoint cosignatures are accepted.'),
  auditStreamKeepaliveMs: variable('TOLLGATE_AUDIT_STREAM_KEEPALIVE_MS', 15_000, integer(10, 3_600_000), 'Keepalive period of the live audit stream (SSE).'),
  auditStreamTimeoutMs: variable('TOLLGATE_AUDIT_STREAM_TIMEOUT_MS', 600_000, integer(100, 86_400_000), 'Lifetime of one live audit stream connection; a `timeout` event ends it.'),
  maxStreamsPerTenant: variable(
    'TOLLGATE_MAX_STREAMS_PER_TENANT',
    100,
    integer(0, 1_000_000),
    'Long-lived requests one tenant may hold open at once in this process: SSE streams (`/api/sdk/audit/stream`, `/api/v1/approvals/stream`), hold long polls (`/v1/enforce/hold/{token}?waitMs=`) and permission-request waits (`/api/sdk/permission-requests/{id}?wait_ms=`) together; past it they answer 429 RATE_LIMITED. 0 = no cap.',
  ),
  auditExportMaxBytes: variable(
    'TOLLGATE_AUDIT_EXPORT_MAX_BYTES',
    64 * 1024 * 1024,
    integer(1_024, 1_073_741_824),
    'Most bytes of stored records one `/api/v1/audit/export` reads (besides its 100,000-record cap); past it the export stops and says `truncated`.',
  ),
  auditBundleJsonMaxRecords: variable(
    'TOLLGATE_AUDIT_BUNDLE_JSON_MAX_RECORDS',
    100_000,
    integer(1, 10_000_000),
    'Most records a one-document ledger bundle (`GET /api/v1/audit/bundle`, `tollgate audit export --format json`) may hold: it is built in memory. Larger logs answer 422 LEDGER_BUNDLE_TOO_LARGE; export them as JSON Lines (`?format=jsonl`, the CLI default), which streams.',
  ),
  auditBundleExportsPerTenant: variable(
    'TOLLGATE_AUDIT_BUNDLE_EXPORTS_PER_TENANT',
    2,
    integer(0, 1_000),
    'Ledger exports (`GET /api/v1/audit/bundle`, either format, and `GET /api/v1/audit/export`) one tenant may run at once in this process, counted together: each reads the whole log or up to `TOLLGATE_AUDIT_EXPORT_MAX_BYTES` into memory; past it 429 RATE_LIMITED with Retry-After. 0 = no cap.',
  ),
  // enforcement (issue 3, docs/enforcement.md)
  holdTtlMs: variable(
    'TOLLGATE_HOLD_TTL_MS',
    900_000,
    integer(1_000, 604_800_000),
    'How long a step-up hold waits for an approver before it expires (default 15 min).',
  ),
  retentionDays: variable(
    'TOLLGATE_RETENTION_DAYS',
    0,
    integer(0, 36_500),
    'Data retention: decisions, violations, tool-output records, SDK events, decided holds past their expiry, and session and agent states idle for longer than this many days are deleted (hourly, in chunks). The ledger is never deleted. 0 = keep everything. A tenant\'s own period (PATCH /api/v1/tenants/{id}, tollgate tenants retention) overrides it.',
  ),
  maxPendingHoldsPerAgent: variable(
    'TOLLGATE_MAX_PENDING_HOLDS_PER_AGENT',
    100,
    integer(0, 1_000_000),
    'Most step-up holds one agent may have waiting for an approver at once; a call that would need one more is refused (BLOCK, with the reason) instead of queued, so an agent cannot bury a request among thousands. A re-sent call that already waits gets its existing hold. 0 = no cap.',
  ),
  dataFlowKey: variable<string | undefined>(
    'TOLLGATE_DATA_FLOW_KEY',
    undefined,
    text,
    'Secret for the HMAC fingerprints of sensitive values (data-flow rules) and of hold action hashes; unset = unkeyed SHA-256. Changing it forgets remembered values of open sessions and makes approvals of pending holds unusable (the agent asks again).',
  ),
  // sandbox API, vault (issue 6; docs/sandbox-api.md)
  vaultKey: variable<string | undefined>(
    'TOLLGATE_VAULT_KEY',
    undefined,
    vaultKey,
    'Vault master key (AES-256-GCM): 64 hex digits or base64 of 32 bytes. Unset: generated into <data dir>/vault-master.key (mode 0600).',
  ),
  sandboxEgressAllow: variable<string[]>(
    'TOLLGATE_SANDBOX_EGRESS_ALLOW',
    [],
    cidrList,
    'Comma-separated CIDRs that sandbox http_request may reach despite the private/loopback/metadata refusal.',
  ),
  sandboxEgressAllowHttp: variable('TOLLGATE_SANDBOX_EGRESS_ALLOW_HTTP', false, boolean, 'Allow plain http:// from sandbox http_request (loopback test servers only).'),
  sandboxEgressCaFile: variable<string | undefined>(
    'TOLLGATE_SANDBOX_EGRESS_CA_FILE',
    undefined,
    text,
    'PEM file of extra CA certificates trusted by sandbox http_request (private CAs, TLS-inspecting proxies).',
  ),
  sandboxMaxRunningPerTenant: variable(
    'TOLLGATE_SANDBOX_MAX_RUNNING_PER_TENANT',
    0,
    integer(0, 1_024),
    'Sandbox executions one tenant may run at once (its further ones queue without holding up other tenants\'). 0 = automatic: every sandbox worker while the installation has a single tenant, half of them (rounded up; workers = CPU count, so 1 on 2 CPUs) once it has two or more, re-counted when a tenant is created and every minute. A set value is used as is (values above the worker count mean the worker count).',
  ),
  executionsPerHour: variable(
    'TOLLGATE_EXECUTIONS_PER_HOUR',
    10,
    integer(0, 1_000_000),
    'Executions each sandboxed agent may start per rolling hour (the seed\'s "swarm executions / hour"); past it execute answers 429 RATE_LIMITED. 0 = no quota.',
  ),
  // content safety (issue 7; docs/content-safety.md)
  safetyTemplate: variable('TOLLGATE_SAFETY_TEMPLATE', 'standard', oneOf(['strict', 'standard', 'dev'] as const), 'Template whose content-safety thresholds the server scanner uses by default (strict/standard block at injection ≥ 0.35, toxicity ≥ 0.4; dev reports only).'),
  safetyMaxChars: variable('TOLLGATE_SAFETY_MAX_CHARS', 200_000, integer(1, 10_000_000), 'Largest text (characters) POST /api/v1/safety/scan accepts; longer gets 413 PAYLOAD_TOO_LARGE.'),
  safetyDetectorUrl: variable<string | undefined>('TOLLGATE_SAFETY_DETECTOR_URL', undefined, text, 'Optional external detector: POST {text, direction} → {injection?, toxicity?}; used by POST /api/v1/safety/scan.'),
  safetyDetectorTimeoutMs: variable('TOLLGATE_SAFETY_DETECTOR_TIMEOUT_MS', 2_000, integer(10, 60_000), 'Timeout of the external detector.'),
  safetyDetectorFailure: variable('TOLLGATE_SAFETY_DETECTOR_FAILURE', 'closed', oneOf(['open', 'closed'] as const), 'What an external detector error or timeout does: closed = block, open = ignore (noted as a finding).'),
  // dashboard (issue 8; docs/dashboard.md)
  dashboardDir: variable<string | undefined>(
    'TOLLGATE_DASHBOARD_DIR',
    undefined,
    text,
    'Directory of the built dashboard (index.html, assets/). Unset: dist/ of the installed @tollgate/dashboard package.',
  ),
  dashboardSessionTtlMs: variable(
    'TOLLGATE_DASHBOARD_SESSION_TTL_MS',
    43_200_000,
    integer(60_000, 2_592_000_000),
    'Lifetime of a dashboard sign-in session (default 12 hours).',
  ),
} as const;

type Variables = typeof CONFIG_VARIABLES;

/** The parsed configuration. */
export type TollgateConfig = { -readonly [K in keyof Variables]: Variables[K] extends ConfigVariable<infer T> ? T : never };

/**
 * Parses the environment once. `overrides` (e.g. CLI flags) win over the environment.
 *
 * @example
 * const config = loadConfig(process.env, { port: 0 });
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Partial<TollgateConfig> = {},
): TollgateConfig {
  const config: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(CONFIG_VARIABLES) as [string, ConfigVariable<unknown>][]) {
    const raw = env[spec.env];
    config[key] = raw === undefined || raw.trim() === '' ? spec.defaultValue : parseVariable(spec, raw);
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) config[key] = value;
  }
  return config as TollgateConfig;
}

function parseVariable(spec: ConfigVariable<unknown>, raw: string): unknown {
  try {
    return spec.parse(raw);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TollgateError('CONFIG_INVALID', `Invalid ${spec.env}: ${reason}`, { details: { variable: spec.env } });
  }
}

/**
 * Parses a CLI flag value with the same rules as its variable (so `--port abc` fails like `TOLLGATE_PORT=abc`).
 *
 * @example
 * parseConfigValue('port', '8080', '--port'); // 8080
 */
export function parseConfigValue<K extends keyof Variables>(key: K, raw: string, label: string): TollgateConfig[K] {
  const spec = CONFIG_VARIABLES[key] as ConfigVariable<unknown>;
  try {
    return spec.parse(raw) as TollgateConfig[K];
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TollgateError('CONFIG_INVALID', `Invalid ${label}: ${reason}`, { details: { variable: label } });
  }
}
