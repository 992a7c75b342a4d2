import { TollgateError } from '@tollgate/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hasScope, isMachineScope, type AuthContext, type AuthResult, type KeyService, type Scope } from '../services/keys/index.js';
import { markSessionAnswer, sendError } from './errors.js';
import type { TollgateApp } from './type-provider.js';
import type { KeyRateLimiter } from './key-rate-limit.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on every non-public route; null on public routes. */
    auth: AuthContext | null;
  }
  interface FastifyContextConfig {
    /** Scope the route needs (`admin` satisfies every scope). Routes without `scope` or `public` require `admin`. */
    scope?: Scope;
    /** No API key needed (health, metrics, docs, static pages). */
    public?: boolean;
    /** Any valid key, whatever its scopes (e.g. "who am I"). */
    anyScope?: boolean;
    /**
     * The handler itself limits a key restricted to agents (`agentIds`) to those agents. An `agents` route without it
     * refuses such keys (403 `KEY_AGENT_FORBIDDEN`): deny by default for routes that reach the whole tenant
     * (credentials, the global kill switch) or change what an agent may do.
     */
    checksAgentRestriction?: boolean;
  }
}

/**
 * Route option declaring the scope a route needs; spread it into the route options.
 *
 * @example
 * app.get('/api/v1/agents', { ...requireScope('agents'), schema }, handler);
 */
export function requireScope(scope: Scope, options: { checksAgentRestriction?: true } = {}): { config: { scope: Scope; checksAgentRestriction?: true } } {
  return { config: { scope, ...options } };
}

/**
 * Route option accepting any valid API key, whatever its scopes.
 *
 * @example
 * app.get('/api/v1/auth/whoami', { ...requireAnyKey(), schema }, handler);
 */
export function requireAnyKey(): { config: { anyScope: true } } {
  return { config: { anyScope: true } };
}

/**
 * Route option marking a route as reachable without an API key.
 *
 * @example
 * app.get('/healthz', { ...publicRoute(), schema }, handler);
 */
export function publicRoute(): { config: { public: true } } {
  return { config: { public: true } };
}

/** OpenAPI security requirement attached to every authenticated route. */
export const SECURITY_REQUIREMENT: Array<Record<string, string[]>> = [{ bearerAuth: [] }, { apiKeyHeader: [] }];

/** What {@link presentedApiKey} returns when `Authorization` and `X-API-Key` carry two different keys. */
export const CONFLICTING_API_KEYS = Symbol('conflicting API keys');

/**
 * Extracts the presented key from `Authorization: Bearer …` or `X-API-Key`. When both carry a key and the keys
 * differ, or the request repeats `Authorization` with different values (Node keeps only the first), the request is
 * ambiguous (e.g. a proxy injected one header and the client sent another, and a proxy, log or rate limiter in front
 * may attribute the request to the other key): {@link CONFLICTING_API_KEYS}, which the auth hook refuses, instead of
 * silently picking one. The same key in both headers is fine.
 */
export function presentedApiKey(request: FastifyRequest): string | typeof CONFLICTING_API_KEYS | undefined {
  const authorization = request.headers.authorization;
  let bearer: string | undefined;
  if (typeof authorization === 'string') {
    if (repeatsAuthorization(request.raw.rawHeaders, authorization)) return CONFLICTING_API_KEYS;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match?.[1]) bearer = match[1];
  }
  const header = request.headers['x-api-key'];
  const apiKeyHeader = typeof header === 'string' && header.length > 0 ? header.trim() || undefined : undefined;
  if (bearer !== undefined && apiKeyHeader !== undefined && bearer !== apiKeyHeader) return CONFLICTING_API_KEYS;
  return bearer ?? apiKeyHeader;
}

/** True when the raw headers hold a second `Authorization` whose value differs from the first (`first`). */
function repeatsAuthorization(rawHeaders: readonly string[] | undefined, first: string): boolean {
  if (!rawHeaders) return false;
  let seen = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length !== 13 || name.toLowerCase() !== 'authorization') continue;
    seen += 1;
    if (seen > 1 && rawHeaders[i + 1] !== first) return true;
  }
  return false;
}

/**
 * The authenticated caller of a non-public route.
 *
 * @example
 * const { tenantId } = authOf(request);
 */
export function authOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw new TollgateError('UNAUTHENTICATED', 'Authentication required');
  return request.auth;
}

/**
 * Refuses a tenant id in the request that differs from the key's tenant (403 TENANT_MISMATCH).
 *
 * @example
 * assertSameTenant(request, request.body.tenantId);
 */
export function assertSameTenant(request: FastifyRequest, tenantId: string | undefined | null): void {
  assertTenantOf(authOf(request), tenantId);
}

/**
 * {@link assertSameTenant} for a caller already authenticated (the direct path has no Fastify request).
 *
 * @example
 * assertTenantOf(auth, body.tenantId);
 */
export function assertTenantOf(auth: AuthContext, tenantId: string | undefined | null): void {
  if (tenantId === undefined || tenantId === null) return;
  if (tenantId !== auth.tenantId) {
    throw new TollgateError('TENANT_MISMATCH', 'tenantId does not match the API key’s tenant');
  }
}

/** What a refused API key is told, by reason (shared with the direct path). */
export const FAILURE_MESSAGES = {
  malformed: 'Invalid API key',
  unknown: 'Invalid API key',
  expired: 'API key expired',
  revoked: 'API key revoked',
} as const;

/**
 * Authenticates a request that presents no API key (the dashboard's session cookie, see
 * `routes/session.ts`): undefined when it does not apply, an auth context, or a refusal.
 */
export type FallbackAuthenticator = (
  request: FastifyRequest,
) => Promise<{ auth: AuthContext } | { error: 'UNAUTHENTICATED' | 'CSRF_INVALID'; message: string } | undefined>;

/**
 * Installs API-key authentication: every route requires a key with its declared scope (default `admin`) unless
 * declared public. Also annotates routes with the OpenAPI security requirement. `fallback` (optional) is asked
 * only when no API key is presented, so API-key authentication is unchanged by it.
 */
export function registerAuth(app: TollgateApp, keys: KeyService, fallback?: FallbackAuthenticator, limiter?: KeyRateLimiter): void {
  app.decorateRequest('auth', null);
  // The check is attached to each route when it is registered, with its scope resolved once: no per-request
  // route lookups (`request.routeOptions` builds a fresh object on every access), and public routes pay nothing.
  app.addHook('onRoute', (route) => {
    if (route.config?.public) return;
    route.schema = { ...route.schema, security: SECURITY_REQUIREMENT };
    const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    // `route` is read at request time: onRoute hooks of plugins (e.g. swagger-ui's, see openapi.ts) run after this
    // one and may still mark the route public.
    const hook = createAuthHook(keys, fallback, () => route.config, limiter);
    route.onRequest = [hook as unknown as (typeof existing)[number], ...existing];
    // Authentication runs when the headers arrive; a body can follow much later (a client may hold it back for up
    // to the request timeout). A credential revoked in between must not complete the request: a leaked key kept a
    // pool of half-sent requests and finished one after its revocation (minting itself a new key). Routes that
    // read a body check the credential again once it has been read, right before the handler.
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.some((method) => BODY_METHODS.has(method))) {
      const before = route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
      route.preHandler = [createRecheckHook(keys, fallback) as unknown as (typeof before)[number], ...before];
    }
  });
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The credential that authenticated `request` (in its onRequest hook) checked again: 401 if the key was revoked,
 * expired or is no longer the same key, or if the dashboard session has ended, since.
 */
function createRecheckHook(keys: KeyService, fallback: FallbackAuthenticator | undefined) {
  const refuse = (request: FastifyRequest, reply: FastifyReply, why: string) =>
    void sendError(reply, request, 'UNAUTHENTICATED', `${why} while the request was being received`);
  return (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void => {
    const opened = request.auth;
    if (opened === null) return done();
    const token = presentedApiKey(request);
    const judge = (result: AuthResult): void => {
      if (result.ok && result.auth.keyId === opened.keyId) return done();
      refuse(request, reply, result.ok ? 'API key changed' : FAILURE_MESSAGES[result.reason]);
    };
    if (typeof token === 'string') {
      const cached = keys.authenticateFromCache(token);
      if (cached) return judge(cached);
      keys.authenticate(token).then(judge, done);
      return;
    }
    if (!fallback) return refuse(request, reply, 'Credential missing');
    fallback(request).then((outcome) => {
      if (outcome !== undefined && 'auth' in outcome && outcome.auth.keyId === opened.keyId) return done();
      markSessionAnswer(reply);
      refuse(request, reply, 'Dashboard session ended');
    }, done);
  };
}

type RouteAuthConfig = { scope?: Scope; anyScope?: boolean; public?: boolean; checksAgentRestriction?: boolean } | undefined;

function createAuthHook(keys: KeyService, fallback: FallbackAuthenticator | undefined, configOf: () => RouteAuthConfig, limiter: KeyRateLimiter | undefined) {
  const authorize = (request: FastifyRequest, reply: FastifyReply, auth: AuthContext, subject: 'API key' | 'Session'): boolean => {
    const config = configOf();
    // Every request of a known key counts, refused ones included (a key hammering a route it may not use is limited too).
    if (limiter) {
      const verdict = limiter.take(auth.keyId);
      if (!verdict.ok) {
        void sendError(reply, request, 'RATE_LIMITED', `Too many requests for this API key (at most ${limiter.rate} per second)`, { limit: 'requests_per_key', retryAfter: verdict.retryAfterSeconds });
        return false;
      }
    }

    const required = config?.scope ?? 'admin';
    // A dashboard session never acts with a machine scope (enforce, events:write), not even through `admin`,
    // which implies every scope for an API key: a browser session does not decide tool calls or write SDK events.
    const granted = subject === 'Session' && isMachineScope(required) ? false : hasScope(auth.scopes, required);
    if (config?.anyScope !== true && !granted) {
      void sendError(reply, request, 'FORBIDDEN', `${subject} lacks scope ${required}`, { requiredScope: required });
      return false;
    }
    if (auth.agentIds !== undefined && config?.anyScope !== true && !isMachineScope(required) && config?.checksAgentRestriction !== true) {
      void sendError(reply, request, 'KEY_AGENT_FORBIDDEN', `This API key is restricted to agents (${auth.agentIds.join(', ')}) and cannot use this route, which reaches beyond them or changes what they may do`, { agentIds: [...auth.agentIds] });
      return false;
    }
    request.auth = auth;
    return true;
  };
  const check = (request: FastifyRequest, reply: FastifyReply, result: AuthResult): boolean => {
    if (result.ok) return authorize(request, reply, result.auth, 'API key');
    void sendError(reply, request, 'UNAUTHENTICATED', FAILURE_MESSAGES[result.reason]);
    return false;
  };
  const missingKey = (request: FastifyRequest, reply: FastifyReply) =>
    void sendError(reply, request, 'UNAUTHENTICATED', 'Missing API key: send Authorization: Bearer <key> or X-API-Key');
  // Callback style with a synchronous path for cached keys: no promise on the hot path.
  return (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void => {
    if (configOf()?.public) return done();
    const token = presentedApiKey(request);
    if (token === CONFLICTING_API_KEYS) {
      return void sendError(reply, request, 'UNAUTHENTICATED', 'Two different credentials presented (Authorization and X-API-Key, or Authorization twice): send one key');
    }
    if (!token) {
      if (!fallback) return missingKey(request, reply);
      fallback(request).then((result) => {
        if (!result) return missingKey(request, reply);
        markSessionAnswer(reply);
        if ('error' in result) return void sendError(reply, request, result.error, result.message);
        if (authorize(request, reply, result.auth, 'Session')) done();
      }, done);
      return;
    }
    const cached = keys.authenticateFromCache(token);
    if (cached) {
      if (check(request, reply, cached)) done();
      return;
    }
    keys.authenticate(token).then((result) => {
      if (check(request, reply, result)) done();
    }, done);
  };
}
