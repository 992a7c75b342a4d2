import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services/index.js';
import {
  CSRF_COOKIE,
  CSRF_HEADER,
  SESSION_COOKIE,
  type DashboardSession,
  type DashboardSessionService,
} from '../../services/dashboard/index.js';
import type { AuthContext } from '../../services/keys/index.js';
import { TollgateError } from '@tollgate/core';
import { publicRoute } from '../auth.js';
import { KeyRateLimiter } from '../key-rate-limit.js';
import { ErrorEnvelopeSchema, sendError } from '../errors.js';
import type { TollgateApp } from '../type-provider.js';

/** Methods that never change state, so they need no CSRF token. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every value of one cookie in the Cookie header, in the order the browser sent them (no cookie plugin needed for
 * two cookies). A value that is not valid percent-encoding is skipped.
 *
 * @example
 * readCookies(request, 'tollgate_session'); // ['Ab3…']
 */
export function readCookies(request: FastifyRequest, name: string): string[] {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    if (part.slice(0, separator).trim() !== name) continue;
    try {
      values.push(decodeURIComponent(part.slice(separator + 1).trim()));
    } catch {
      continue;
    }
  }
  return values;
}

/** What {@link presentedSessionToken} returns when the browser sent two different session cookies. */
const AMBIGUOUS_SESSION = Symbol('two different session cookies');
const AMBIGUOUS_MESSAGE =
  'Two different dashboard session cookies were sent (another site of this domain may have planted one): clear this site’s cookies and sign in again';

/**
 * The session token the browser presents. Two different values are refused, not resolved: another site of the same
 * registrable domain (or a man in the middle on plain http) can plant its own valid session under a longer Path,
 * which the browser then sends first, and acting on either one could mean acting in the planter's tenant.
 */
function presentedSessionToken(request: FastifyRequest): string | typeof AMBIGUOUS_SESSION | undefined {
  const values = readCookies(request, cookieNames(request).session).filter((value) => value !== '');
  const first = values[0];
  if (first === undefined) return undefined;
  return values.every((value) => value === first) ? first : AMBIGUOUS_SESSION;
}

function cookie(name: string, value: string, options: { maxAgeSeconds: number; httpOnly: boolean; secure: boolean }): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', `Max-Age=${options.maxAgeSeconds}`, 'SameSite=Strict'];
  if (options.httpOnly) parts.push('HttpOnly');
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/**
 * Secure cookies when the browser reached us over https: directly, or through a TLS-terminating proxy that says
 * so in X-Forwarded-Proto. Trusting that header here is safe: a forged value can only make the cookie stricter.
 */
function isHttps(request: FastifyRequest): boolean {
  const forwarded = request.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
  return request.protocol === 'https' || first === 'https';
}

/** Prefix browsers accept only on a Secure, Path=/ cookie set without Domain by this very origin. */
const HOST_PREFIX = '__Host-';

/**
 * The cookie names for this request. Over https they carry the `__Host-` prefix: a browser only accepts such a
 * cookie from this exact origin (Secure, Path=/, no Domain), so a sibling site of the same registrable domain, or a
 * man in the middle on plain http, cannot plant or overwrite one (cookie tossing); the unprefixed names are then not
 * read at all. Plain http (local use) keeps the unprefixed names, which browsers refuse to prefix without Secure.
 *
 * @example
 * cookieNames(request).session; // '__Host-tollgate_session' behind TLS, 'tollgate_session' on plain http
 */
export function cookieNames(request: FastifyRequest): { session: string; csrf: string } {
  return isHttps(request)
    ? { session: HOST_PREFIX + SESSION_COOKIE, csrf: HOST_PREFIX + CSRF_COOKIE }
    : { session: SESSION_COOKIE, csrf: CSRF_COOKIE };
}

function setSessionCookies(reply: FastifyReply, request: FastifyRequest, token: string, session: DashboardSession, now: number): void {
  const maxAgeSeconds = Math.max(0, Math.floor((session.record.expiresAt - now) / 1000));
  const secure = isHttps(request);
  const names = cookieNames(request);
  reply.header('set-cookie', [
    cookie(names.session, token, { maxAgeSeconds, httpOnly: true, secure }),
    cookie(names.csrf, session.record.csrfToken, { maxAgeSeconds, httpOnly: false, secure }),
  ]);
}

function clearSessionCookies(reply: FastifyReply, request: FastifyRequest): void {
  const secure = isHttps(request);
  const names = cookieNames(request);
  const cleared = [
    cookie(names.session, '', { maxAgeSeconds: 0, httpOnly: true, secure }),
    cookie(names.csrf, '', { maxAgeSeconds: 0, httpOnly: false, secure }),
  ];
  // Behind TLS also the unprefixed names (set before the prefix, or planted): nothing of the session stays behind.
  if (secure) cleared.push(cookie(SESSION_COOKIE, '', { maxAgeSeconds: 0, httpOnly: true, secure }), cookie(CSRF_COOKIE, '', { maxAgeSeconds: 0, httpOnly: false, secure }));
  reply.header('set-cookie', cleared);
}


/** Outcome of cookie authentication for the auth hook. */
export type SessionAuthOutcome = { auth: AuthContext } | { error: 'UNAUTHENTICATED' | 'CSRF_INVALID'; message: string } | undefined;

/**
 * Authenticates a request by its dashboard session cookie. State-changing requests must also carry the
 * session's CSRF token in `X-CSRF-Token` (the cookie alone is what a cross-site form would send).
 * Returns undefined when the request has no session cookie at all.
 *
 * @example
 * registerAuth(app, services.keys, createSessionAuthenticator(services.dashboardSessions));
 */
export function createSessionAuthenticator(sessions: DashboardSessionService) {
  return async (request: FastifyRequest): Promise<SessionAuthOutcome> => {
    const token = presentedSessionToken(request);
    if (token === undefined) return undefined;
    if (token === AMBIGUOUS_SESSION) return { error: 'UNAUTHENTICATED', message: AMBIGUOUS_MESSAGE };
    const session = await sessions.authenticate(token);
    if (!session) return { error: 'UNAUTHENTICATED', message: 'Dashboard session expired or signed out: sign in again' };
    if (!SAFE_METHODS.has(request.method)) {
      const presented = request.headers[CSRF_HEADER];
      if (!sessions.checkCsrf(session, typeof presented === 'string' ? presented : undefined)) {
        return { error: 'CSRF_INVALID', message: `Missing or wrong ${CSRF_HEADER} header for this session` };
      }
    }
    return { auth: session.auth };
  };
}

const SessionInfoSchema = Type.Object(
  {
    tenantId: Type.String(),
    keyId: Type.String(),
    keyName: Type.Union([Type.String(), Type.Null()]),
    scopes: Type.Array(Type.String()),
    csrfToken: Type.String({ description: `Echo in the ${CSRF_HEADER} header of every POST/PUT/PATCH/DELETE` }),
    expiresAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'DashboardSession', title: 'DashboardSession' },
);

const SignInBody = Type.Object({ apiKey: Type.String({ minLength: 1, maxLength: 400 }) }, { additionalProperties: false });

/** Sign-ins one API key may make per minute (in each process), whatever `TOLLGATE_KEY_RATE_LIMIT` says. */
export const SIGN_INS_PER_KEY_PER_MINUTE = 10;

/**
 * `/api/v1/session`: sign in with an API key holding at least one dashboard scope (sets the httpOnly session
 * cookie and the CSRF cookie; 403 `DASHBOARD_SCOPE_REQUIRED` for machine-only keys), read the current session
 * (its `scopes` are the key's current dashboard scopes), sign out.
 *
 * @example
 * registerSessionRoutes(app, services);
 */
export function registerSessionRoutes(app: TollgateApp, services: Services, keyLimiter?: KeyRateLimiter): void {
  // Signing in is a public route (the key is in the body), so the per-key limit of the auth hook never saw it, and
  // every sign-in stores a session and appends a ledger record: a read-only key signing in in a loop wrote without
  // bound. People sign in rarely: at most SIGN_INS_PER_KEY_PER_MINUTE per key, always, and the configured per-key
  // request limit (TOLLGATE_KEY_RATE_LIMIT) as well.
  const signInLimiter = new KeyRateLimiter(SIGN_INS_PER_KEY_PER_MINUTE / 60, SIGN_INS_PER_KEY_PER_MINUTE);
  const admit = (auth: { keyId: string }): void => {
    for (const [limiter, what] of [[keyLimiter, `at most ${keyLimiter?.rate} requests per second`], [signInLimiter, `at most ${SIGN_INS_PER_KEY_PER_MINUTE} sign-ins per minute`]] as const) {
      const verdict = limiter?.take(auth.keyId);
      if (verdict && !verdict.ok) {
        throw new TollgateError('RATE_LIMITED', `Too many sign-ins with this API key (${what})`, { details: { limit: limiter === signInLimiter ? 'sign_ins_per_key' : 'requests_per_key', retryAfter: verdict.retryAfterSeconds } });
      }
    }
  };
  const sessions = services.dashboardSessions;
  const errors = { 400: ErrorEnvelopeSchema, 401: ErrorEnvelopeSchema, 403: ErrorEnvelopeSchema };
  const view = async (session: DashboardSession) => {
    const key = await services.store.apiKeys.get(session.auth.tenantId, session.auth.keyId);
    return {
      tenantId: session.auth.tenantId,
      keyId: session.auth.keyId,
      keyName: key?.name || null,
      scopes: [...session.auth.scopes],
      csrfToken: session.record.csrfToken,
      expiresAt: new Date(session.record.expiresAt).toISOString(),
    };
  };

  app.post(
    '/api/v1/session',
    { ...publicRoute(), schema: { tags: ['dashboard'], summary: 'Sign in to the dashboard with an API key holding a dashboard scope (admin, approvals, audit:read, policies or agents)', body: SignInBody, response: { 200: SessionInfoSchema, ...errors } } },
    async (request, reply) => {
      const { token, session } = await sessions.signIn(request.body.apiKey, request.headers['user-agent'] ?? null, admit);
      setSessionCookies(reply, request, token, session, services.clock.now());
      reply.header('cache-control', 'no-store');
      return view(session);
    },
  );

  app.get(
    '/api/v1/session',
    { ...publicRoute(), schema: { tags: ['dashboard'], summary: 'The signed-in dashboard session (401 when signed out)', response: { 200: SessionInfoSchema, ...errors } } },
    async (request, reply) => {
      const token = presentedSessionToken(request);
      if (token === AMBIGUOUS_SESSION) return sendError(reply, request, 'UNAUTHENTICATED', AMBIGUOUS_MESSAGE);
      const session = token ? await sessions.authenticate(token) : undefined;
      if (!session) return sendError(reply, request, 'UNAUTHENTICATED', 'Not signed in');
      reply.header('cache-control', 'no-store');
      return view(session);
    },
  );

  app.delete(
    '/api/v1/session',
    { ...publicRoute(), schema: { tags: ['dashboard'], summary: 'Sign out (needs the CSRF header)', response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      // With two different session cookies neither is signed out (either may be the planted one); both are cleared.
      const sent = presentedSessionToken(request);
      const token = sent === AMBIGUOUS_SESSION ? undefined : sent;
      const session = token ? await sessions.authenticate(token) : undefined;
      if (token && session) {
        const presented = request.headers[CSRF_HEADER];
        if (!sessions.checkCsrf(session, typeof presented === 'string' ? presented : undefined)) {
          return sendError(reply, request, 'CSRF_INVALID', `Missing or wrong ${CSRF_HEADER} header for this session`);
        }
        await sessions.signOut(token);
      }
      clearSessionCookies(reply, request);
      return reply.code(204).send(null);
    },
  );
}
