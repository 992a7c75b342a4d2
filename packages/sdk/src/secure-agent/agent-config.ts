import { apiKeyProblem, apiUrlProblem } from '../connection-checks.js';
import { DEFAULT_API_URL } from './http-client.js';
import { PERMISSION_PRESETS } from './permission-presets.js';
import { SDKError } from './sdk-error.js';
import type { SecureAgentOptions } from './types.js';

/** Agent name used when `SecureAgentOptions.name` is not given. */
export const DEFAULT_AGENT_NAME = 'secure-agent';
export const DEFAULT_AGENT_VERSION = '1.0.0';
export const DEFAULT_SANDBOX_TEMPLATE = 'STANDARD';
const TEMPLATES = new Set(['STRICT', 'STANDARD', 'DEV']);

/**
 * Translates the client options into the REST `config` object (snake_case AgentConfig fields).
 * Only what the caller set is sent; the server fills the rest from the template.
 *
 * @example
 * toRestConfig({ sandbox: 'STRICT', limits: { maxMemoryMb: 512, maxApiCallsPerMinute: 120 } })
 * // → { sandbox_template: 'STRICT', memory_limit_mb: 512, max_api_calls_per_minute: 120, permissions: [...READONLY] }
 */
export function toRestConfig(options: SecureAgentOptions): Record<string, unknown> {
  const template = options.sandbox ?? DEFAULT_SANDBOX_TEMPLATE;
  if (!TEMPLATES.has(template)) {
    throw new SDKError('INVALID_OPTIONS', `sandbox must be STRICT, STANDARD or DEV, got ${JSON.stringify(template)}`);
  }
  const config: Record<string, unknown> = { ...options.config, sandbox_template: template };
  config.permissions = [...(options.permissions ?? PERMISSION_PRESETS.READONLY)];
  const limits = options.limits ?? {};
  if (limits.maxMemoryMb !== undefined) config.memory_limit_mb = positive('limits.maxMemoryMb', limits.maxMemoryMb);
  if (limits.maxExecutionTimeSec !== undefined) {
    config.cpu_time_limit_ms = Math.round(positive('limits.maxExecutionTimeSec', limits.maxExecutionTimeSec) * 1000);
  }
  if (limits.maxApiCallsPerRun !== undefined) {
    config.max_api_calls_per_run = positive('limits.maxApiCallsPerRun', limits.maxApiCallsPerRun);
  }
  if (limits.maxApiCallsPerMinute !== undefined) {
    config.max_api_calls_per_minute = positive('limits.maxApiCallsPerMinute', limits.maxApiCallsPerMinute);
  }
  if (options.compliance !== undefined) config.compliance = [...options.compliance];
  return config;
}

function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new SDKError('INVALID_OPTIONS', `${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}

/** Environment lookup that also works where `process` does not exist (browsers, workers). */
function readEnv(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Base URL: `baseUrl`, then `apiUrl`, then `TOLLGATE_API_URL`, then `DEFAULT_API_URL`.
 *
 * @example
 * resolveBaseUrl({}); // 'http://127.0.0.1:8787' unless TOLLGATE_API_URL is set
 */
export function resolveBaseUrl(options: SecureAgentOptions): string {
  const raw = options.baseUrl ?? options.apiUrl ?? readEnv('TOLLGATE_API_URL') ?? DEFAULT_API_URL;
  // Checked here, never echoed: fetch's errors quote the whole URL, password included, into NETWORK_ERROR messages.
  const problem = apiUrlProblem(raw, 'baseUrl');
  if (problem !== undefined) throw new SDKError('INVALID_OPTIONS', problem);
  return raw;
}

/**
 * API key: `apiKey`, then `TOLLGATE_API_KEY`; a missing key is an error at construction.
 *
 * @example
 * resolveApiKey({ apiKey: 'tg_live_…' });
 */
export function resolveApiKey(options: SecureAgentOptions): string {
  // Trimmed (a key read from a file often ends with a newline). A line break or non-ASCII character inside would make
  // fetch throw an error quoting the whole Authorization header, key included; refused here without showing it.
  const apiKey = (options.apiKey ?? readEnv('TOLLGATE_API_KEY'))?.trim();
  if (!apiKey) throw new SDKError('INVALID_OPTIONS', 'apiKey is required (or set TOLLGATE_API_KEY)');
  const problem = apiKeyProblem(apiKey);
  if (problem !== undefined) throw new SDKError('INVALID_OPTIONS', problem);
  return apiKey;
}
