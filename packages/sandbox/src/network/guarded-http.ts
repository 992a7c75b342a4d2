import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { TollgateError } from '@tollgate/core';
import type { HttpRequestArgs, HttpResponseData, JsonValue } from '../types.js';
import { resolveEgressTarget, systemResolver } from './egress-guard.js';
import { forbiddenRequestHeader, withoutCredentialHeaders } from './request-headers.js';
import type { EgressPolicy, EgressTarget, HostResolver } from './egress-guard.js';

/** Options of {@link guardedHttpRequest}. */
export interface GuardedHttpOptions extends EgressPolicy {
  resolver?: HostResolver;
  /** Redirect hops followed, each re-checked like the first request. 0 refuses redirects. */
  maxRedirects?: number;
  timeoutMs?: number;
  maxResponseBytes?: number;
  signal?: AbortSignal;
  /** Called with each redirect target that passed the checks, right before it is requested (for the audit). */
  onRedirect?: (url: URL) => void;
  /**
   * Header names whose values carry a credential the caller injected (e.g. from the vault), dropped like
   * `authorization` when a redirect leaves the origin. The well-known credential headers are dropped anyway.
   */
  credentialHeaders?: readonly string[];
  /** Extra TLS options (e.g. `ca` for a private test CA). */
  tls?: https.RequestOptions;
}

export const DEFAULT_MAX_REDIRECTS = 3;
export const DEFAULT_HTTP_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 2 * 1024 * 1024;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Performs `http_request` for a guest: every hop is checked by `resolveEgressTarget` and the socket connects to the
 * checked address only (the `lookup` hook pins it), so DNS rebinding between check and connect cannot redirect it.
 * Redirects are followed manually and each hop is re-checked (host and port against `allowedDomains`). A hop to
 * another origin (scheme, host or port) loses the credential headers: `authorization`, `cookie`, the well-known API
 * key and token headers (`CROSS_ORIGIN_CREDENTIAL_HEADERS`) and every name in `credentialHeaders`.
 * Headers that would let a request leave its checked URL (`Host`, framing and hop-by-hop headers, see
 * `FORBIDDEN_REQUEST_HEADERS`) are refused.
 * Throws `SANDBOX_EGRESS_DENIED` (refused) or `SANDBOX_HTTP_FAILED` (network error, timeout, body too large).
 *
 * @example
 * const res = await guardedHttpRequest({ url: 'https://api.example.com/v1', method: 'GET', headers: {}, body: undefined },
 *   { allowedDomains: ['api.example.com'] });
 */
export async function guardedHttpRequest(request: HttpRequestArgs, options: GuardedHttpOptions = {}): Promise<HttpResponseData> {
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const forbidden = forbiddenRequestHeader(request.headers);
  if (forbidden !== undefined) {
    throw new TollgateError('SANDBOX_EGRESS_DENIED', `egress refused: the ${forbidden} header is set by the runtime, not the caller`, { details: { header: forbidden } });
  }
  let current = { ...request, headers: { ...request.headers } };
  for (let hop = 0; ; hop++) {
    const target = await resolveEgressTarget(current.url, options, options.resolver ?? systemResolver);
    if (hop > 0) options.onRedirect?.(target.url);
    const response = await send(target, current, options);
    const location = response.headers.location;
    if (!REDIRECTS.has(response.status) || location === undefined) return response;
    if (hop >= maxRedirects) throw failed(`too many redirects (limit ${maxRedirects})`);
    current = redirectRequest(current, target.url, location, response.status, options.credentialHeaders);
  }
}

const REQUEST_BODY_HEADERS = new Set(['content-type', 'content-encoding', 'content-language', 'content-location']);

/** The next hop, as the Fetch standard's HTTP-redirect fetch builds it. */
function redirectRequest(
  previous: HttpRequestArgs, from: URL, location: string, status: number, credentialHeaders: readonly string[] = [],
): HttpRequestArgs {
  const next = new URL(location, from);
  let headers = { ...previous.headers };
  // Once dropped, a credential stays dropped for later hops, also one that comes back to the first origin.
  if (next.origin !== from.origin) headers = withoutCredentialHeaders(headers, credentialHeaders);
  const toGet = status === 303 || ((status === 301 || status === 302) && previous.method === 'POST');
  if (toGet) headers = Object.fromEntries(Object.entries(headers).filter(([name]) => !REQUEST_BODY_HEADERS.has(name.toLowerCase())));
  return { url: next.href, method: toGet ? 'GET' : previous.method, headers, body: toGet ? undefined : previous.body };
}

function send(target: EgressTarget, request: HttpRequestArgs, options: GuardedHttpOptions): Promise<HttpResponseData> {
  const pinned: LookupFunction = (_host, lookupOptions, callback) => {
    if ((lookupOptions as { all?: boolean }).all) {
      (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address: target.address, family: target.family }]);
    } else {
      callback(null, target.address, target.family);
    }
  };
  const body = encodeBody(request);
  const headers: Record<string, string> = { ...request.headers };
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  const signals = [AbortSignal.timeout(options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS), ...(options.signal ? [options.signal] : [])];
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(target.url, {
      ...options.tls, method: request.method, headers, lookup: pinned, signal: AbortSignal.any(signals), agent: false,
    }, (res) => {
      readBody(res, options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES).then((buffer) => {
        resolve({ status: res.statusCode ?? 0, headers: flattenHeaders(res.headers), body: decodeBody(buffer, res.headers['content-type']) });
      }, reject);
    });
    req.on('error', (error) => reject(error instanceof TollgateError ? error : failed(error.message, error)));
    req.end(body);
  });
}

function readBody(res: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        res.destroy();
        reject(failed(`response body larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', (error) => reject(failed(error.message, error)));
  });
}

function encodeBody(request: HttpRequestArgs): string | undefined {
  if (request.body === undefined || request.method === 'GET' || request.method === 'HEAD') return undefined;
  return typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
}

function decodeBody(buffer: Buffer, contentType: string | undefined): JsonValue {
  const text = buffer.toString('utf8');
  if (contentType !== undefined && /\bjson\b/i.test(contentType)) {
    try { return JSON.parse(text) as JsonValue; } catch { return text; }
  }
  return text;
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && name !== 'set-cookie') out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function failed(message: string, cause?: unknown): TollgateError {
  return new TollgateError('SANDBOX_HTTP_FAILED', `http_request failed: ${message}`, { cause });
}
