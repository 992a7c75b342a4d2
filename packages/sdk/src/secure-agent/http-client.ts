import { NO_REDIRECTS, isRedirect } from '../connection-checks.js';
import { SDKError } from './sdk-error.js';

/** Default server address: what `tollgate serve` listens on without flags. */
export const DEFAULT_API_URL = 'http://127.0.0.1:8787';
/** Default per-request timeout: longer than the longest execution any template allows (DEV: 600 s). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 660_000;

export type FetchLike = typeof globalThis.fetch;

export interface HttpClientOptions {
  baseUrl: string;
  apiKey: string;
  fetch?: FetchLike | undefined;
  timeoutMs?: number | undefined;
}

export type QueryValue = string | number | boolean | readonly string[] | undefined | null;

/**
 * Minimal JSON-over-HTTP client for the `/api/*` routes; maps the error envelope to `SDKError`.
 *
 * @example
 * const http = new HttpClient({ baseUrl: 'http://127.0.0.1:8787', apiKey });
 * const { agents } = await http.json('GET', '/api/v1/sdk/agents');
 */
export class HttpClient {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly fetchImpl: FetchLike;
  private readonly timeoutMs: number;

  constructor(options: HttpClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') {
      throw new SDKError('INVALID_OPTIONS', 'global fetch is missing: use Node.js >= 18 or pass options.fetch');
    }
    this.fetchImpl = fetchImpl;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  /** Absolute URL for a path plus query parameters (undefined/null values are left out). */
  url(path: string, query: Record<string, QueryValue> = {}): string {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined || value === null) continue;
      url.searchParams.set(key, Array.isArray(value) ? value.join(',') : String(value));
    }
    return url.toString();
  }

  /** The fetch implementation in use (for streaming responses the caller reads itself). */
  get fetch(): FetchLike {
    return this.fetchImpl;
  }

  authHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.apiKey}` };
  }

  /** Raw fetch with auth and timeout; the caller reads the body. */
  async send(method: string, path: string, init: { query?: Record<string, QueryValue>; body?: unknown; signal?: AbortSignal } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...this.authHeaders(), accept: 'application/json' };
    let body: string | undefined;
    if (init.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.body);
    }
    const signal = init.signal ?? AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    try {
      response = await this.fetchImpl(this.url(path, init.query), { method, headers, body, signal, ...NO_REDIRECTS });
    } catch (cause) {
      throw new SDKError('NETWORK_ERROR', `${method} ${path} failed: ${(cause as Error).message}`, { cause });
    }
    if (isRedirect(response)) throw redirectRefused(method, path, response);
    if (!response.ok) throw await toSdkError(method, path, response);
    return response;
  }

  /** Sends a request and parses the JSON answer. */
  async json<T>(method: string, path: string, init: { query?: Record<string, QueryValue>; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
    const response = await this.send(method, path, init);
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}

/**
 * The error for a redirect answer (see `NO_REDIRECTS`): `HTTP_ERROR` with the 3xx status. Its body is not read, so
 * nothing the redirecting party wrote becomes the error's code or message.
 *
 * @example
 * if (isRedirect(response)) throw redirectRefused('GET', AUDIT_STREAM_PATH, response);
 */
export function redirectRefused(method: string, path: string, response: Response): SDKError {
  response.body?.cancel().catch(() => undefined);
  return new SDKError('HTTP_ERROR', `${method} ${path} answered HTTP ${response.status}: redirects are not followed (check baseUrl)`, { status: response.status });
}

async function toSdkError(method: string, path: string, response: Response): Promise<SDKError> {
  const text = await response.text().catch(() => '');
  let envelope: { error?: { code?: string; message?: string; details?: unknown; requestId?: string } } | undefined;
  try {
    envelope = JSON.parse(text) as typeof envelope;
  } catch {
    envelope = undefined;
  }
  const error = envelope?.error;
  return new SDKError(
    error?.code ?? 'HTTP_ERROR',
    error?.message ?? `${method} ${path} answered HTTP ${response.status}`,
    { status: response.status, details: error?.details, requestId: error?.requestId },
  );
}
