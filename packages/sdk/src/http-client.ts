import { NO_REDIRECTS } from './connection-checks.js';
import type { EnforceRequest, EnforcementDecision, EventBatchResult, HoldStatus, OutputDecision } from './types.js';
import type { BehavioralEvent } from './types.js';

/** Why a request to the server did not produce a usable answer. */
export type TransportFailureKind = 'unreachable' | 'rejected';

/**
 * A failed request: `unreachable` covers network errors, timeouts and 5xx (infrastructure faults);
 * `rejected` covers 4xx answers (the server understood and refused, e.g. a bad API key).
 */
export class TransportError extends Error {
  readonly kind: TransportFailureKind;
  readonly status: number | undefined;
  readonly serverCode: string | undefined;

  constructor(kind: TransportFailureKind, message: string, options: { status?: number; serverCode?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TransportError';
    this.kind = kind;
    this.status = options.status;
    this.serverCode = options.serverCode;
  }

  /** 408 and 429 are worth retrying even though they are 4xx. */
  get retryable(): boolean {
    return this.kind === 'unreachable' || this.status === 408 || this.status === 429;
  }
}

/** Options of {@link HttpClient}. */
export interface HttpClientOptions {
  apiUrl: string;
  apiKey: string | undefined;
}

interface Answer<T> {
  body: T;
  headers: Headers;
}

/** The SDK's only network code: JSON over `fetch`, with a timeout per request. */
export class HttpClient {
  readonly #apiUrl: string;
  readonly #apiKey: string | undefined;

  constructor(options: HttpClientOptions) {
    this.#apiUrl = options.apiUrl;
    this.#apiKey = options.apiKey;
  }

  /** `POST /v1/enforce`. */
  async enforce(request: EnforceRequest, timeoutMs: number): Promise<EnforcementDecision> {
    const body = (await this.#send<EnforcementDecision>('POST', '/v1/enforce', request, timeoutMs)).body;
    return expectDecision(body, ['ALLOW', 'BLOCK', 'STEP_UP'], 'POST /v1/enforce');
  }

  /** `POST /v1/enforce/output`. */
  async enforceOutput(request: Record<string, unknown>, timeoutMs: number): Promise<OutputDecision> {
    const body = (await this.#send<OutputDecision>('POST', '/v1/enforce/output', request, timeoutMs)).body;
    return expectDecision(body, ['ALLOW', 'BLOCK'], 'POST /v1/enforce/output');
  }

  /** `GET /v1/enforce/hold/{token}?waitMs=`; `longPoll` reports the server's `X-Tollgate-Long-Poll` header. */
  async holdStatus(token: string, waitMs: number, signal?: AbortSignal): Promise<{ status: HoldStatus; longPoll: boolean }> {
    const path = `/v1/enforce/hold/${encodeURIComponent(token)}?waitMs=${Math.max(0, Math.floor(waitMs))}`;
    const answer = await this.#send<HoldStatus>('GET', path, undefined, waitMs + 10_000, signal);
    return { status: answer.body, longPoll: answer.headers.get('x-tollgate-long-poll') === '1' };
  }

  /** `POST /v1/events/batch`. */
  async sendEvents(events: BehavioralEvent[], timeoutMs: number): Promise<EventBatchResult> {
    return (await this.#send<EventBatchResult>('POST', '/v1/events/batch', { events }, timeoutMs)).body;
  }

  async #send<T>(method: string, path: string, body: unknown, timeoutMs: number, signal?: AbortSignal): Promise<Answer<T>> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#apiKey !== undefined) headers.authorization = `Bearer ${this.#apiKey}`;
    let response: Response;
    try {
      response = await fetch(this.#apiUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        // A redirect is never followed: it would let another origin receive the call's arguments and
        // decide it. The 3xx is then a refusal (ENFORCER_REJECTED), as a wrong apiUrl deserves.
        ...NO_REDIRECTS,
        signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      const what = timeout.aborted ? `timed out after ${timeoutMs} ms` : describe(error);
      throw new TransportError('unreachable', `${method} ${path} failed: ${what}`, { cause: error });
    }
    return this.#read<T>(method, path, response);
  }

  async #read<T>(method: string, path: string, response: Response): Promise<Answer<T>> {
    const text = await response.text().catch(() => '');
    const parsed = parseJson(text);
    if (response.ok && parsed !== undefined) return { body: parsed as T, headers: response.headers };
    const envelope = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const serverCode = typeof envelope?.code === 'string' ? envelope.code : undefined;
    const message = typeof envelope?.message === 'string' ? envelope.message : text.slice(0, 200);
    const kind: TransportFailureKind = response.status >= 500 || response.ok ? 'unreachable' : 'rejected';
    throw new TransportError(kind, `${method} ${path} answered ${response.status}${serverCode ? ` ${serverCode}` : ''}: ${message}`, {
      status: response.status,
      serverCode,
    });
  }
}

/**
 * A 2xx whose body is not a decision (null, an array, a lower-case or unknown `decision`) is treated
 * like a 5xx: an infrastructure fault, so the call fails closed (or open where `failOpen` says so)
 * instead of being read as some decision by accident.
 */
function expectDecision<T extends { decision: string }>(body: T, allowed: readonly string[], what: string): T {
  const decision = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as { decision?: unknown }).decision : undefined;
  if (typeof decision === 'string' && allowed.includes(decision)) return body;
  throw new TransportError('unreachable', `${what} answered without a valid decision (expected ${allowed.join(' | ')})`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}
