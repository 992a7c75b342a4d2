/** A dashboard session opened by `signInDashboard`: the cookies to send and the CSRF token they carry. */
export interface DashboardSignIn {
  /** `Cookie` header value with every cookie the sign-in set. */
  readonly cookie: string;
  /** The CSRF token (send it as `x-csrf-token` on state-changing requests). */
  readonly csrf: string;
  /** The raw `Set-Cookie` lines (cookie flags). */
  readonly setCookie: string[];
}

/**
 * Signs in to the dashboard API with an API key (`POST /api/v1/session`); throws unless it answers 200.
 *
 * @example
 * const session = await signInDashboard(t.url, t.tenantA.adminKey);
 * await t.request('GET', '/api/v1/keys', withSessionCookie(session));
 */
export async function signInDashboard(url: string, apiKey: string, headers: Record<string, string> = {}): Promise<DashboardSignIn> {
  const response = await fetch(`${url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ apiKey }),
  });
  if (response.status !== 200) throw new Error(`dashboard sign-in answered ${response.status}: ${await response.text()}`);
  const setCookie = response.headers.getSetCookie();
  const pairs = setCookie.map((line) => line.split(';')[0]!);
  // `__Host-tollgate_csrf` when the sign-in came over https (X-Forwarded-Proto), `tollgate_csrf` on plain http.
  const csrf = decodeURIComponent(pairs.find((pair) => /^(__Host-)?tollgate_csrf=/.test(pair))!.split('=')[1]!);
  return { cookie: pairs.join('; '), csrf, setCookie };
}

/** Request options sending a session's cookies (plus `extra` headers, e.g. `x-csrf-token`). */
export function withSessionCookie(session: DashboardSignIn, extra: Record<string, string> = {}): { headers: Record<string, string> } {
  return { headers: { cookie: session.cookie, ...extra } };
}
