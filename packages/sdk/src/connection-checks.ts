/**
 * Checks of the server URL and API key shared by `instrument()` and `SecureAgent`. Both refuse at construction what
 * would otherwise make fetch throw an error quoting the value (the URL with its password, the whole Authorization
 * header with the key) into refusals, logs and events. The messages never show the value; each caller wraps the
 * problem in its own error type. Both also share one redirect policy ({@link NO_REDIRECTS}).
 */

/**
 * The `fetch` option every request to the server carries: a redirect is never followed. Following one would re-send
 * the request (a call's arguments, a credential's value) to whatever origin the `Location` names and trust its
 * answer; the 3xx is handed back instead, and each caller turns it into its own error.
 *
 * @example
 * const response = await fetch(url, { method: 'POST', body, ...NO_REDIRECTS });
 * if (isRedirect(response)) throw new Error(`answered HTTP ${response.status}: redirects are not followed`);
 */
export const NO_REDIRECTS = { redirect: 'manual' } as const satisfies RequestInit;

/**
 * True when `response` is a redirect that {@link NO_REDIRECTS} kept from being followed: a 3xx (Node.js), or the
 * opaque answer (status 0) browsers give for `redirect: 'manual'`.
 *
 * @example
 * isRedirect(new Response(null, { status: 307, headers: { location: 'https://elsewhere.example/' } })); // true
 */
export function isRedirect(response: Response): boolean {
  return response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400);
}

/**
 * Why `raw` cannot be the server's base URL (named `field` in the message), or undefined when it can.
 *
 * @example
 * apiUrlProblem('http://user:pw@127.0.0.1:8787', 'apiUrl'); // 'apiUrl must not contain a user name or password …'
 */
export function apiUrlProblem(raw: string, field: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `${field} must be an absolute http(s) URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${field} must use http or https, got ${url.protocol}`;
  if (url.username !== '' || url.password !== '') return `${field} must not contain a user name or password (the API key goes in apiKey)`;
  return undefined;
}

/**
 * Why an API key (already trimmed) cannot be sent in an Authorization header, or undefined when it can: a space, line
 * break or non-ASCII character inside.
 *
 * @example
 * apiKeyProblem('tg_live_a_b\r\nX: 1'); // 'apiKey may only hold printable ASCII characters, …'
 */
export function apiKeyProblem(key: string): string | undefined {
  return /^[\x21-\x7e]+$/.test(key) ? undefined : 'apiKey may only hold printable ASCII characters, without spaces or line breaks (the value is not shown)';
}
