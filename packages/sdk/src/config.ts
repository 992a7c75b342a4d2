import type { ArgumentSnapshotMode } from './argument-snapshot.js';
import { DEFAULT_ARGUMENT_SNAPSHOT } from './argument-snapshot.js';
import type { EnforcementMode, Redaction } from './enums.js';
import { isEnforcementMode } from './enums.js';
import { apiKeyProblem, apiUrlProblem } from './connection-checks.js';
import { TollgateSdkError } from './errors.js';
import type { LogLevel, SdkLogger } from './logger.js';
import { parseLogLevel } from './logger.js';

/** Default enforcement mode when none is given (the seed's default). */
export const DEFAULT_ENFORCEMENT: EnforcementMode = 'block';
/** Default user identity when none is given. */
export const DEFAULT_USER_ID = 'system';
/** Default upper bound on a step-up wait. */
export const DEFAULT_STEP_UP_TIMEOUT_MINUTES = 15;
/** Default polling interval when the server does not offer long polling. */
export const DEFAULT_STEP_UP_POLL_INTERVAL_MS = 5000;
/** Default time allowed for one `/v1/enforce` request before it counts as unreachable. */
export const DEFAULT_ENFORCE_TIMEOUT_MS = 10_000;
/** Default argument/result handling in events. */
export const DEFAULT_REDACTION: Redaction = 'full';
/** Default event queue bound; further events are dropped and counted. */
export const DEFAULT_MAX_QUEUE_SIZE = 10_000;
/** Default number of events per batch (the server accepts at most 1000). */
export const DEFAULT_BATCH_SIZE = 200;
/** Default delay between background flushes. */
export const DEFAULT_FLUSH_INTERVAL_MS = 1000;
/** Default cap on the exponential retry delay for event batches. */
export const DEFAULT_MAX_RETRY_DELAY_MS = 30_000;
/** Default cap of one batch's JSON size (the server's default body limit is 1 MiB). */
export const DEFAULT_MAX_BATCH_BYTES = 512_000;

/** Event pipeline tuning. */
export interface EventOptions {
  /** Bound of the in-memory queue (default {@link DEFAULT_MAX_QUEUE_SIZE}). */
  maxQueueSize?: number;
  /** Events per request, 1..1000 (default {@link DEFAULT_BATCH_SIZE}). */
  batchSize?: number;
  /** Background flush period (default {@link DEFAULT_FLUSH_INTERVAL_MS}). */
  flushIntervalMs?: number;
  /** Cap of the exponential backoff between retries (default {@link DEFAULT_MAX_RETRY_DELAY_MS}). */
  maxRetryDelayMs?: number;
  /** Largest JSON size of one batch (default {@link DEFAULT_MAX_BATCH_BYTES}); a 413 answer halves the batch. */
  maxBatchBytes?: number;
  /** Set false to send no events at all. */
  enabled?: boolean;
}

/**
 * Options of `instrument()`, `wrapAnthropicTools()`, `wrapOpenAITools()`, the adapters and `ThothClient`.
 * The first nine fields are the seed's configuration table, with its defaults.
 * @example
 * const config: TollgateConfig = { agentId: 'research-agent', approvedScope: ['web_search'], enforcement: 'block' };
 */
export interface TollgateConfig {
  /** Stable identifier of this agent (required). */
  agentId: string;
  /** Tenant id; when given, the server checks it equals the API key's tenant. */
  tenantId?: string;
  /** Tool names this agent may call. */
  approvedScope?: string[];
  /** Server base URL for `/v1/enforce` and `/v1/events/batch`; default `$TOLLGATE_API_URL` (alias `$THOTH_API_URL`). */
  apiUrl?: string;
  /** On whose behalf the agent acts (default `"system"`). */
  userId?: string;
  /** observe | step_up | block | progressive (default `"block"`). */
  enforcement?: EnforcementMode | `${EnforcementMode}`;
  /** API key; default `$TOLLGATE_API_KEY` (alias `$THOTH_API_KEY`). */
  apiKey?: string;
  /** Longest wait for a step-up approval (default 15). */
  stepUpTimeoutMinutes?: number;
  /** Poll period when the server offers no long polling (default 5000). */
  stepUpPollIntervalMs?: number;
  /** Session id put on every call and event (default: one random id per instrumentation). */
  sessionId?: string;
  /** What to do when the enforcer is unreachable; default: false in block/step_up/progressive, true in observe. */
  failOpen?: boolean;
  /** Arguments/results in events: full (default), hashed (SHA-256) or none. */
  redaction?: Redaction | `${Redaction}`;
  /** Cancels step-up waits (the call then throws `HOLD_CANCELLED`). */
  signal?: AbortSignal;
  /** Timeout of one `/v1/enforce` request (default 10000 ms). */
  enforceTimeoutMs?: number;
  /** Event pipeline tuning. */
  events?: EventOptions;
  /**
   * `json` (default): the arguments are copied once, before `/v1/enforce`, and the tool receives that checked
   * copy as plain JSON data; `off`: the tool receives the caller's own objects, which code holding them can
   * change while the decision or a step-up approval is pending (only for trusted callers whose tools need
   * non-JSON arguments such as class instances or callbacks).
   */
  argumentSnapshot?: ArgumentSnapshotMode;
  /** Decision-log level; default `$TOLLGATE_LOG_LEVEL`, `$THOTH_LOG_LEVEL`, `$LOG_LEVEL`, then WARN. */
  logLevel?: LogLevel | Lowercase<LogLevel>;
  /** Where decision logs go (default `console`). */
  logger?: SdkLogger;
  /** Environment to read defaults from (default `process.env`); handy for tests. */
  env?: Record<string, string | undefined>;
}

/** The seed SDK's name for {@link TollgateConfig}. */
export type ThothConfig = TollgateConfig;

/** A config with every default filled in. */
export interface ResolvedConfig {
  agentId: string;
  tenantId: string | undefined;
  approvedScope: string[];
  apiUrl: string;
  userId: string;
  enforcement: EnforcementMode;
  apiKey: string | undefined;
  stepUpTimeoutMs: number;
  stepUpPollIntervalMs: number;
  sessionId: string;
  failOpen: boolean;
  redaction: Redaction;
  signal: AbortSignal | undefined;
  enforceTimeoutMs: number;
  events: Required<EventOptions>;
  argumentSnapshot: ArgumentSnapshotMode;
  logLevel: LogLevel;
  logger: SdkLogger;
}

function readEnv(env: Record<string, string | undefined>, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

function invalid(message: string): TollgateSdkError {
  return new TollgateSdkError('CONFIG_INVALID', message);
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw invalid(`${name} must be a positive number, got ${String(value)}`);
  return value;
}

/**
 * The base URL, checked here so a mistake is a CONFIG_INVALID at `instrument()` rather than an
 * "unreachable" refusal later, and so a password in the URL never reaches fetch (whose error message
 * would quote the whole URL into refusals, logs and TOOL_CALL_POST events). Messages never echo the URL.
 */
function resolveApiUrl(raw: string): string {
  const problem = apiUrlProblem(raw, 'apiUrl');
  if (problem !== undefined) throw invalid(problem);
  return raw.replace(/\/+$/, '');
}

/**
 * The API key, trimmed (a key read from a file often ends with a newline). A key with a space, line
 * break or non-ASCII character inside is refused here: fetch would otherwise throw an error quoting
 * the whole `Authorization` header, key included. The message never shows the key.
 */
function resolveApiKey(raw: string | undefined): string | undefined {
  const key = raw?.trim();
  if (key === undefined || key === '') return undefined;
  const problem = apiKeyProblem(key);
  if (problem !== undefined) throw invalid(problem);
  return key;
}

function resolveEvents(events: EventOptions = {}): Required<EventOptions> {
  const batchSize = positive(events.batchSize, DEFAULT_BATCH_SIZE, 'events.batchSize');
  return {
    maxQueueSize: positive(events.maxQueueSize, DEFAULT_MAX_QUEUE_SIZE, 'events.maxQueueSize'),
    batchSize: Math.min(1000, Math.floor(batchSize)),
    flushIntervalMs: positive(events.flushIntervalMs, DEFAULT_FLUSH_INTERVAL_MS, 'events.flushIntervalMs'),
    maxRetryDelayMs: positive(events.maxRetryDelayMs, DEFAULT_MAX_RETRY_DELAY_MS, 'events.maxRetryDelayMs'),
    maxBatchBytes: positive(events.maxBatchBytes, DEFAULT_MAX_BATCH_BYTES, 'events.maxBatchBytes'),
    enabled: events.enabled ?? true,
  };
}

/**
 * Fills defaults from the environment and the `DEFAULT_*` constants and validates the result.
 * @example
 * const resolved = resolveConfig({ agentId: 'a' }, { TOLLGATE_API_URL: 'http://localhost:8080' });
 */
export function resolveConfig(config: TollgateConfig, env: Record<string, string | undefined> = config.env ?? process.env): ResolvedConfig {
  if (typeof config.agentId !== 'string' || config.agentId === '') throw invalid('agentId is required');
  const apiUrl = config.apiUrl ?? readEnv(env, 'TOLLGATE_API_URL', 'THOTH_API_URL');
  if (apiUrl === undefined) throw invalid('apiUrl is required when TOLLGATE_API_URL (or THOTH_API_URL) is not set');
  const enforcement = config.enforcement ?? DEFAULT_ENFORCEMENT;
  if (!isEnforcementMode(enforcement)) throw invalid(`enforcement must be observe, step_up, block or progressive, got ${String(enforcement)}`);
  const redaction = config.redaction ?? DEFAULT_REDACTION;
  if (!['full', 'hashed', 'none'].includes(redaction)) throw invalid(`redaction must be full, hashed or none, got ${String(redaction)}`);
  const argumentSnapshot = config.argumentSnapshot ?? DEFAULT_ARGUMENT_SNAPSHOT;
  if (!['json', 'off'].includes(argumentSnapshot)) throw invalid(`argumentSnapshot must be json or off, got ${String(argumentSnapshot)}`);
  return {
    agentId: config.agentId,
    tenantId: config.tenantId,
    approvedScope: config.approvedScope ?? [],
    apiUrl: resolveApiUrl(apiUrl),
    userId: config.userId ?? DEFAULT_USER_ID,
    enforcement,
    apiKey: resolveApiKey(config.apiKey ?? readEnv(env, 'TOLLGATE_API_KEY', 'THOTH_API_KEY')),
    stepUpTimeoutMs: positive(config.stepUpTimeoutMinutes, DEFAULT_STEP_UP_TIMEOUT_MINUTES, 'stepUpTimeoutMinutes') * 60_000,
    stepUpPollIntervalMs: positive(config.stepUpPollIntervalMs, DEFAULT_STEP_UP_POLL_INTERVAL_MS, 'stepUpPollIntervalMs'),
    sessionId: config.sessionId ?? `sess_${crypto.randomUUID()}`,
    failOpen: config.failOpen ?? enforcement === 'observe',
    redaction: redaction as Redaction,
    signal: config.signal,
    enforceTimeoutMs: positive(config.enforceTimeoutMs, DEFAULT_ENFORCE_TIMEOUT_MS, 'enforceTimeoutMs'),
    events: resolveEvents(config.events),
    argumentSnapshot,
    logLevel: parseLogLevel(config.logLevel ?? readEnv(env, 'TOLLGATE_LOG_LEVEL', 'THOTH_LOG_LEVEL', 'LOG_LEVEL')),
    logger: config.logger ?? console,
  };
}
