import { HOST_FUNCTION_SCOPES, QUOTA_COUNTED_FUNCTIONS } from '../policy/permissions.js';
import type { HostFunctionName } from '../policy/permissions.js';
import { domainsRefusal } from '../network/domains.js';
import { forbiddenRequestHeader } from '../network/request-headers.js';
import type { HostCallContext, HttpRequestArgs, JsonValue, SandboxViolation } from '../types.js';
import type { HostReply } from '../worker/protocol.js';
import type { ExecutionRun } from './execution-run.js';

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

interface Denial {
  reason: string;
  message: string;
  violation?: SandboxViolation['kind'];
  /** Code the guest's error carries; default `PERMISSION_DENIED` for violations, `INVALID_ARGUMENTS` otherwise. */
  code?: string;
}

/**
 * Handler errors that are refusals by policy, not failures: the call is audited as not allowed and is a violation.
 * `CREDENTIAL_UNKNOWN` is a credential the agent was not granted (or that is missing or revoked): deny by default,
 * so an agent probing for other agents' credentials shows up in `permission_denied` like a missing scope does.
 */
const HANDLER_REFUSALS: Readonly<Record<string, { violation: SandboxViolation['kind']; reason: string }>> = {
  SANDBOX_EGRESS_DENIED: { violation: 'network_denied', reason: 'egress_denied' },
  CREDENTIAL_UNKNOWN: { violation: 'permission_denied', reason: 'credential_denied' },
};

/** The rolling window of `max_api_calls_per_minute`. */
const RATE_WINDOW_MS = 60_000;

type Prepared = { fn: 'http_request'; args: HttpRequestArgs } | { fn: 'read_context'; args: string };

type RoundTripFunction = 'http_request' | 'read_context';

/**
 * Decides and performs one guest host call on the parent side: scope check (deny by default), network and domain
 * checks, the `max_api_calls_per_run` quota, argument validation, the `max_api_calls_per_minute` rate, then the
 * caller's handler. Returns the reply for
 * the guest and records the audit entry (and a violation for every denial).
 */
export async function brokerHostCall(run: ExecutionRun, fn: string, argsJson: string, tMs: number): Promise<HostReply> {
  const started = performance.now();
  const known = fn === 'http_request' || fn === 'read_context';
  const args = parseArgs(argsJson);
  // Mutable: redirects followed by the handler are appended (and seen by the in-flight record at settle).
  const call = { fn, args_summary: known && args ? summarize(fn, args) : `${argsJson.length} chars`, t_ms: tMs };
  let token: number | undefined;
  const finish = (allowed: boolean, reply: HostReply, reason?: string): HostReply => {
    // Already recorded as unfinished when the run settled while the handler was working.
    if (token !== undefined && !run.endCall(token)) return reply;
    const entry = { ...call, allowed, duration_ms: Math.round((performance.now() - started) * 10) / 10 };
    run.recordAudit(reason === undefined ? entry : { ...entry, reason });
    return reply;
  };
  if (!known) {
    const denial: Denial = { reason: 'unknown_function', message: `unknown host function ${fn}`, violation: 'permission_denied' };
    return finish(false, deny(run, fn, denial), denial.reason);
  }
  if (QUOTA_COUNTED_FUNCTIONS.has(fn)) run.apiCalls += 1;
  const checked = checkPermission(run, fn) ?? (args ? prepare(run, fn, args) : badArgs('arguments are not a JSON array'));
  if ('reason' in checked) return finish(false, deny(run, fn, checked), checked.reason);
  const limited = QUOTA_COUNTED_FUNCTIONS.has(fn) ? checkRate(run) : null;
  if (limited) return finish(false, deny(run, fn, limited), limited.reason);
  token = run.beginCall(call, started);
  const redact = run.request.handlers?.redact ?? ((text: string) => text);
  const onRedirect = (url: URL): void => { call.args_summary += ` -> ${redact(describeUrl(url))}`; };
  try {
    const json = JSON.stringify((await invokeHandler(run, checked, onRedirect)) ?? null);
    if (json.length > run.options.maxHostResponseBytes) {
      return finish(true, failure('RESPONSE_TOO_LARGE', `host reply larger than ${run.options.maxHostResponseBytes} bytes`), 'response_too_large');
    }
    return finish(true, { ok: true, json });
  } catch (error) {
    const code = errorCode(error);
    const message = redact(error instanceof Error ? error.message : 'host call failed');
    const refusal = HANDLER_REFUSALS[code];
    if (refusal === undefined) return finish(true, failure(code, message), `failed: ${code}`);
    run.addViolation({ kind: refusal.violation, fn, reason: message, t_ms: tMs });
    return finish(false, failure(code, message), `${refusal.reason}: ${message}`);
  }
}

function checkPermission(run: ExecutionRun, fn: HostFunctionName): Denial | null {
  const scope = HOST_FUNCTION_SCOPES[fn];
  const config = run.request.config;
  if (scope !== null && !config.permissions.includes(scope)) {
    return { reason: `scope_missing:${scope}`, message: `${fn} needs the ${scope} permission`, violation: 'permission_denied' };
  }
  if (fn === 'http_request' && !config.allow_network) {
    return { reason: 'network_disabled', message: 'http_request needs allow_network', violation: 'network_denied' };
  }
  if (QUOTA_COUNTED_FUNCTIONS.has(fn) && run.apiCalls > config.max_api_calls_per_run) {
    return { reason: 'quota_exceeded', message: `max_api_calls_per_run (${config.max_api_calls_per_run}) exceeded`, violation: 'quota_exceeded' };
  }
  return null;
}

/**
 * Sliding-window rate of quota-counted calls that got this far (denied attempts do not fill the window, so a guest
 * that backs off gets through again). The guest's error says when: `retry after <ms> ms`.
 */
function checkRate(run: ExecutionRun): Denial | null {
  const limit = run.request.config.max_api_calls_per_minute;
  const now = run.elapsedMs();
  const times = run.apiCallTimes;
  while (times.length > 0 && (times[0] ?? 0) <= now - RATE_WINDOW_MS) times.shift();
  if (times.length >= limit) {
    const retryAfterMs = Math.max(1, Math.ceil((times[0] ?? now) + RATE_WINDOW_MS - now));
    return {
      reason: 'rate_limited', code: 'RATE_LIMITED', violation: 'rate_limit_hit',
      message: `max_api_calls_per_minute (${limit}) exceeded; retry after ${retryAfterMs} ms`,
    };
  }
  times.push(now);
  return null;
}

function prepare(run: ExecutionRun, fn: RoundTripFunction, args: JsonValue[]): Prepared | Denial {
  if (fn === 'read_context') {
    const key = args[0];
    if (typeof key !== 'string' || key.length === 0 || key.length > 256) return badArgs('read_context(key) needs a key of 1-256 characters');
    return { fn, args: key };
  }
  const [url, method, headers, body] = args;
  if (typeof url !== 'string' || url.length > 8192) return badArgs('http_request(url) needs a URL string');
  let parsed: URL;
  try { parsed = new URL(url); } catch { return badArgs('http_request: invalid URL'); }
  const plainHttpAllowed = parsed.protocol === 'http:' && run.options.allowHttpEgress;
  if (parsed.protocol !== 'https:' && !plainHttpAllowed) return { reason: 'https_only', message: 'http_request allows HTTPS URLs only', violation: 'network_denied' };
  // Host and port, before any handler runs: an embedder's own http_request handler gets the port rule too.
  const refusal = domainsRefusal(parsed, run.request.config.allowed_domains);
  if (refusal !== undefined) return { reason: 'domain_not_allowed', message: refusal, violation: 'domain_denied' };
  // The seed's defaults: method GET, no headers, no body (null and a missing argument are the same here).
  const verb = method === null || method === undefined ? 'GET' : typeof method === 'string' ? method.toUpperCase() : '';
  if (!HTTP_METHODS.has(verb)) return badArgs('http_request: unsupported method');
  const headerRecord = headers === null || headers === undefined ? {} : headers;
  if (!isStringRecord(headerRecord)) return badArgs('http_request: headers must be an object of strings');
  // Host and framing headers would send the request (or a smuggled second one) somewhere the checks above never saw.
  const forbidden = forbiddenRequestHeader(headerRecord);
  if (forbidden !== undefined) {
    return { reason: `forbidden_header:${forbidden}`, message: `http_request may not set the ${forbidden} header`, violation: 'network_denied' };
  }
  return { fn, args: { url: parsed.href, method: verb, headers: headerRecord, body: body === null ? undefined : body } };
}

async function invokeHandler(run: ExecutionRun, prepared: Prepared, onRedirect: (url: URL) => void): Promise<JsonValue | undefined> {
  const handlers = run.request.handlers ?? {};
  const context: HostCallContext = {
    executionId: run.request.executionId,
    agentName: run.request.agentName,
    config: run.request.config,
    signal: run.abort.signal,
    onRedirect,
  };
  if (prepared.fn === 'http_request') {
    if (!handlers.http_request) throw Object.assign(new Error('http_request is not available on this server'), { code: 'NOT_AVAILABLE' });
    // A JSON round trip copies the handler's value, so nothing of the host's object graph reaches the reply.
    return JSON.parse(JSON.stringify(await handlers.http_request(prepared.args, context))) as JsonValue;
  }
  if (!handlers.read_context) return null;
  const value = await handlers.read_context(prepared.args, context);
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JsonValue);
}

function deny(run: ExecutionRun, fn: string, denial: Denial): HostReply {
  if (denial.violation) run.addViolation({ kind: denial.violation, fn, reason: denial.reason, t_ms: run.elapsedMs() });
  return failure(denial.code ?? (denial.violation ? 'PERMISSION_DENIED' : 'INVALID_ARGUMENTS'), denial.message);
}

function failure(code: string, message: string): HostReply {
  return { ok: false, code, message: message.slice(0, 500) };
}

function badArgs(message: string): Denial {
  return { reason: 'invalid_arguments', message };
}

function parseArgs(json: string): JsonValue[] | null {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? (value as JsonValue[]) : null;
  } catch {
    return null;
  }
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    && Object.values(value).every((v) => typeof v === 'string');
}

function errorCode(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? code : 'HOST_CALL_FAILED';
}

/**
 * Secret-free one-line description of a call's arguments for the audit trail. Never a slice of a guest string longer
 * than a valid argument: V8 keeps a slice's whole parent alive, and audit entries live as long as the run's result.
 */
function summarize(fn: RoundTripFunction, args: JsonValue[]): string {
  if (fn === 'read_context') {
    const key = args[0];
    if (typeof key === 'string' && key.length <= 256) return `key=${key.slice(0, 100)}`;
    return `key=<invalid: ${typeof key === 'string' ? `string of ${key.length} chars` : Array.isArray(key) ? 'array' : key === null ? 'null' : typeof key}>`;
  }
  const [rawUrl, rawMethod] = args;
  const method = rawMethod === null || rawMethod === undefined ? 'GET'
    : typeof rawMethod === 'string' && rawMethod.length <= 16 ? rawMethod.toUpperCase() : '<invalid method>';
  if (typeof rawUrl !== 'string' || rawUrl.length > 8192) return `${method} <invalid url>`;
  try {
    return `${method} ${describeUrl(new URL(rawUrl))}`;
  } catch {
    return `${method} <invalid url>`;
  }
}

/** Scheme, host and path of a URL for the audit: no user info, query or fragment (tokens live there). */
function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`.slice(0, 300);
}
