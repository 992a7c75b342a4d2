/**
 * Browser API client. The session lives in an httpOnly cookie, so requests carry
 * `credentials: 'same-origin'`; state-changing requests add the CSRF token the server
 * handed out at sign-in (double submit: header value must equal the session's token).
 */

/** Error thrown for every non-2xx answer; `code` is the server's stable error code. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: unknown;
  readonly requestId: string | undefined;

  constructor(status: number, code: string, message: string, details?: unknown, requestId?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.requestId = requestId;
  }
}

/** Name of the readable cookie holding the CSRF token (the session cookie itself is httpOnly). */
export const CSRF_COOKIE = 'tollgate_csrf';
/** Its name behind TLS, where the server sets both cookies with the `__Host-` prefix (no cookie tossing). */
export const HOST_CSRF_COOKIE = `__Host-${CSRF_COOKIE}`;
/** Header the server checks on POST/PUT/PATCH/DELETE. */
export const CSRF_HEADER = 'x-csrf-token';

/** Window event fired when an API call answers 401 (the app then shows the sign-in form). */
export const SESSION_ENDED_EVENT = 'tollgate:session-ended';
const SESSION_PATH_FOR_EVENTS = '/api/v1/session';

type Query = Record<string, string | number | boolean | undefined | null>;

/**
 * The CSRF token from its readable cookie.
 *
 * @example
 * fetch(url, { method: 'POST', headers: { [CSRF_HEADER]: readCsrfToken() ?? '' } });
 */
export function readCsrfToken(): string | undefined {
  // The prefixed cookie wins: an unprefixed one may have been planted by another site of the domain. The unprefixed
  // one is what plain http (and a TLS proxy that does not send X-Forwarded-Proto) gets.
  let plain: string | undefined;
  for (const part of document.cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === HOST_CSRF_COOKIE) return decodeURIComponent(rest.join('='));
    if (name === CSRF_COOKIE && plain === undefined) plain = decodeURIComponent(rest.join('='));
  }
  return plain;
}

/**
 * Builds `path?query`, dropping empty values so filters can be passed as-is.
 *
 * @example
 * withQuery('/api/v1/dashboard/calls', { agentId: 'bot', cursor: undefined }); // '/api/v1/dashboard/calls?agentId=bot'
 */
export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function toApiError(response: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const envelope = (body as { error?: { code?: string; message?: string; details?: unknown; requestId?: string } })?.error;
  return new ApiError(
    response.status,
    envelope?.code ?? `HTTP_${response.status}`,
    envelope?.message ?? (response.statusText || 'Request failed'),
    envelope?.details,
    envelope?.requestId,
  );
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
}

/**
 * Performs one request; resolves with parsed JSON (or text for non-JSON bodies); throws {@link ApiError}.
 *
 * @example
 * const { items } = await request<{ items: unknown[] }>('/api/v1/approvals', { query: { status: 'pending' } });
 */
export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') {
    const csrf = readCsrfToken();
    if (csrf) headers[CSRF_HEADER] = csrf;
  }
  const response = await fetch(withQuery(path, options.query), {
    method,
    headers,
    credentials: 'same-origin',
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
  if (!response.ok) {
    const error = await toApiError(response);
    // The session ended (expired, signed out elsewhere, key revoked): let the app show the sign-in form.
    if (error.status === 401 && path !== SESSION_PATH_FOR_EVENTS) window.dispatchEvent(new Event(SESSION_ENDED_EVENT));
    throw error;
  }
  if (response.status === 204) return undefined as T;
  const type = response.headers.get('content-type') ?? '';
  return (type.includes('json') ? await response.json() : await response.text()) as T;
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>(path, { query, signal }),
  post: <T>(path: string, body?: unknown) => request<T>(path, { method: 'POST', body: body ?? {} }),
  put: <T>(path: string, body?: unknown) => request<T>(path, { method: 'PUT', body: body ?? {} }),
  delete: <T>(path: string) => request<T>(path, { method: 'DELETE' }),
};
