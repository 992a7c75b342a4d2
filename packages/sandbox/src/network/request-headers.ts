/**
 * Request headers a guest may not set on `http_request`. Each one lets a request escape the checks made on its URL:
 *
 * - `host` picks the virtual host (and, through Node's agent, the TLS SNI name) on the checked address, so a request
 *   to an allowed name on a shared CDN or hosting IP is served by any other site there (domain fronting);
 * - `content-length` smaller than the body (or `transfer-encoding`) makes the rest of the body a second request on
 *   the same connection, with its own `Host` and path, that no check and no audit entry ever saw (smuggling);
 * - `connection`, `keep-alive`, `upgrade`, `te`, `trailer`, `expect`, `proxy-connection` and `http2-settings` are
 *   hop-by-hop or protocol-switching headers that are Node's to set, not the guest's;
 * - `forwarded`, `x-forwarded-host`, `x-forwarded-server`, `x-host`, `x-original-host`, `x-original-url` and
 *   `x-rewrite-url` are what reverse proxies and frameworks route on: behind an allowed name, they can pick another
 *   virtual host or path than the checked URL (the same escape as `host`, one proxy further).
 *
 * Node computes framing and `Host` itself from the checked URL and body.
 */
export const FORBIDDEN_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect',
  'proxy-connection', 'http2-settings',
  'forwarded', 'x-forwarded-host', 'x-forwarded-server', 'x-host', 'x-original-host', 'x-original-url', 'x-rewrite-url',
]);

/**
 * The first header name of `headers` that a guest may not set (lower-cased), or `undefined`.
 *
 * @example
 * forbiddenRequestHeader({ Host: 'evil.example' }); // 'host'
 * forbiddenRequestHeader({ Accept: 'application/json' }); // undefined
 */
export function forbiddenRequestHeader(headers: Readonly<Record<string, string>>): string | undefined {
  for (const name of Object.keys(headers)) {
    const lower = name.trim().toLowerCase();
    if (FORBIDDEN_REQUEST_HEADERS.has(lower)) return lower;
  }
  return undefined;
}

/**
 * Request headers dropped when a redirect leaves the origin (scheme, host or port), as the Fetch standard drops
 * `Authorization`: the well-known places an API key, token or session rides in. A credential the caller injected
 * under any other name is dropped too (`GuardedHttpOptions.credentialHeaders`). Same-origin hops keep them all.
 */
export const CROSS_ORIGIN_CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  'authorization', 'proxy-authorization', 'cookie', 'authentication', 'x-authorization',
  'x-api-key', 'api-key', 'apikey', 'x-apikey', 'x-api-token', 'api-token', 'x-auth-token', 'x-auth-key',
  'x-access-token', 'x-session-token', 'x-csrf-token', 'x-xsrf-token', 'private-token', 'job-token', 'x-vault-token',
  'x-goog-api-key', 'ocp-apim-subscription-key', 'x-functions-key', 'x-amz-security-token', 'x-shopify-access-token',
  'dd-api-key', 'dd-application-key',
]);

/**
 * A copy of `headers` without the credential headers: {@link CROSS_ORIGIN_CREDENTIAL_HEADERS} and the names in
 * `injected` (compared case-insensitively).
 *
 * @example
 * withoutCredentialHeaders({ 'X-API-Key': 'k', 'X-Weather': 's', Accept: '*' }, ['x-weather']); // { Accept: '*' }
 */
export function withoutCredentialHeaders(headers: Readonly<Record<string, string>>, injected: readonly string[] = []): Record<string, string> {
  const dropped = new Set(injected.map((name) => name.trim().toLowerCase()));
  return Object.fromEntries(Object.entries(headers).filter(([name]) => {
    const lower = name.trim().toLowerCase();
    return !CROSS_ORIGIN_CREDENTIAL_HEADERS.has(lower) && !dropped.has(lower);
  }));
}
