import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { TollgateError } from '@tollgate/core';
import type { Store } from '../../store/index.js';
import type { DashboardSessionRecord } from '../../store/repositories/dashboard-sessions.js';
import type { Clock } from '../clock.js';
import type { AuthContext, KeyService, LedgerAppender } from '../keys/index.js';
import type { Scope } from '../keys/scopes.js';

/**
 * Scopes a person can use in the dashboard. `enforce` and `events:write` are machine scopes (an agent's SDK):
 * a key holding only those cannot sign in, and a session never carries them, so a browser session cannot
 * decide tool calls or write events even when its key could.
 */
export const DASHBOARD_SCOPES: readonly Scope[] = ['admin', 'approvals', 'audit:read', 'policies', 'agents'];

/**
 * The dashboard scopes among `scopes` (machine scopes dropped).
 *
 * @example
 * dashboardScopesOf(['approvals', 'enforce']); // ['approvals']
 */
export function dashboardScopesOf(scopes: readonly string[]): Scope[] {
  return DASHBOARD_SCOPES.filter((scope) => scopes.includes(scope));
}

/** Lifetime of a dashboard session (absolute, from sign-in): 12 hours. */
export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** `last_seen_at` is written at most this often per session, so reads stay reads. */
export const SESSION_TOUCH_INTERVAL_MS = 60_000;
/** httpOnly cookie holding the session token. */
export const SESSION_COOKIE = 'tollgate_session';
/** Readable cookie holding the CSRF token (double submit: the browser echoes it in {@link CSRF_HEADER}). */
export const CSRF_COOKIE = 'tollgate_csrf';
/** Header that state-changing cookie-authenticated requests must carry. */
export const CSRF_HEADER = 'x-csrf-token';

/** Collaborators of {@link DashboardSessionService}. */
export interface DashboardSessionDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly keys: KeyService;
  /** Session lifetime; defaults to {@link DEFAULT_SESSION_TTL_MS}. */
  readonly ttlMs?: number | undefined;
  readonly ledger?: LedgerAppender | undefined;
}

/** A verified session: who it acts as, plus the CSRF token it was issued with. */
export interface DashboardSession {
  readonly auth: AuthContext;
  readonly record: DashboardSessionRecord;
}

/**
 * Hash stored as the session id: the cookie value itself is never persisted.
 *
 * @example
 * await store.dashboardSessions.findForAuthentication(hashSessionToken(cookieValue));
 */
export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Open dashboard sessions one API key may have; signing in past it ends the key's oldest session. */
export const MAX_SESSIONS_PER_KEY = 20;

/**
 * Exchanges an API key holding at least one dashboard scope for a server-side dashboard session and verifies
 * session cookies. A session acts with its key's current dashboard scopes and dies with its key: revoking or
 * expiring the key, or taking away its last dashboard scope, ends it.
 *
 * @example
 * const sessions = new DashboardSessionService({ store, clock, keys });
 * const { token, session } = await sessions.signIn(apiKey, 'Mozilla/5.0');
 */
export class DashboardSessionService {
  readonly #ttlMs: number;

  constructor(private readonly deps: DashboardSessionDeps) {
    this.#ttlMs = deps.ttlMs ?? DEFAULT_SESSION_TTL_MS;
  }

  /** Verifies `apiKey` (must hold a dashboard scope) and opens a session; `token` goes into the httpOnly cookie. */
  async signIn(apiKey: string, userAgent?: string | null, admit?: (auth: AuthContext) => void): Promise<{ token: string; session: DashboardSession }> {
    const result = await this.deps.keys.authenticate(apiKey);
    if (!result.ok) {
      const message = result.reason === 'expired' || result.reason === 'revoked' ? `API key ${result.reason}` : 'Invalid API key';
      throw new TollgateError('UNAUTHENTICATED', message);
    }
    if (result.auth.agentIds !== undefined) {
      // A session carries no agent restriction: signing in would turn an agent's key into an unrestricted one.
      throw new TollgateError('KEY_AGENT_FORBIDDEN', 'A key restricted to agents cannot sign in to the dashboard');
    }
    const scopes = dashboardScopesOf(result.auth.scopes);
    if (scopes.length === 0) {
      throw new TollgateError(
        'DASHBOARD_SCOPE_REQUIRED',
        `This API key has only machine scopes (${result.auth.scopes.join(', ') || 'none'}); the dashboard needs one of: ${DASHBOARD_SCOPES.join(', ')}`,
        { details: { keyScopes: result.auth.scopes, dashboardScopes: DASHBOARD_SCOPES } },
      );
    }
    // The caller's limits (sign-ins per key), before anything is stored or appended to the ledger.
    admit?.(result.auth);
    const now = this.deps.clock.now();
    const token = randomBytes(32).toString('base64url');
    const record: DashboardSessionRecord = {
      id: hashSessionToken(token),
      tenantId: result.auth.tenantId,
      keyId: result.auth.keyId,
      csrfToken: randomBytes(32).toString('base64url'),
      userAgent: userAgent?.slice(0, 300) ?? null,
      createdAt: now,
      expiresAt: now + this.#ttlMs,
      lastSeenAt: now,
      revokedAt: null,
    };
    // Expired sessions are useless; dropping them here keeps the table small without a timer.
    await this.deps.store.dashboardSessions.deleteExpired(now);
    // At most MAX_SESSIONS_PER_KEY open sessions per key: the oldest end first (a script signing in over and over
    // cannot grow the table, and a person signing in from a new browser keeps the newest ones).
    await this.deps.store.dashboardSessions.revokeOldestForKey(record.tenantId, record.keyId, MAX_SESSIONS_PER_KEY - 1, now);
    await this.deps.store.dashboardSessions.create(record);
    await this.deps.ledger?.append(record.tenantId, {
      type: 'dashboard.sign_in',
      actor: `key:${record.keyId}`,
      data: { keyId: record.keyId, scopes, expiresAt: record.expiresAt },
    });
    return { token, session: { auth: { ...result.auth, scopes }, record } };
  }

  /**
   * Resolves a cookie value to its session, or undefined when unknown, signed out or expired, or when its key is
   * revoked, expired or holds no dashboard scope any more. The key is re-read on every call (not from the auth
   * cache), so the session always carries the key's current dashboard scopes.
   */
  async authenticate(token: string): Promise<DashboardSession | undefined> {
    if (token.length < 20 || token.length > 200) return undefined;
    const record = await this.deps.store.dashboardSessions.findForAuthentication(hashSessionToken(token));
    const now = this.deps.clock.now();
    if (!record || record.revokedAt !== null || record.expiresAt <= now) return undefined;
    const key = await this.deps.store.apiKeys.findForAuthentication(record.keyId);
    if (!key || key.revokedAt !== null || (key.expiresAt !== null && key.expiresAt <= now)) {
      // Ended for good, like a lost scope: a key revived later (a new expiry) does not bring its sessions back.
      await this.deps.store.dashboardSessions.revoke(record.id, now);
      return undefined;
    }
    const scopes = dashboardScopesOf(key.scopes);
    if (scopes.length === 0 || key.agentIds !== null) {
      // Ended for good: giving the scope back later must not revive a session the key's owner thought was over.
      await this.deps.store.dashboardSessions.revoke(record.id, now);
      return undefined;
    }
    if (now - record.lastSeenAt >= SESSION_TOUCH_INTERVAL_MS) await this.deps.store.dashboardSessions.touch(record.id, now);
    return { auth: { tenantId: key.tenantId, keyId: key.id, scopes }, record };
  }

  /** Ends the session of `token` (idempotent). */
  async signOut(token: string): Promise<void> {
    const id = hashSessionToken(token);
    const record = await this.deps.store.dashboardSessions.findForAuthentication(id);
    if (!record || record.revokedAt !== null) return;
    await this.deps.store.dashboardSessions.revoke(id, this.deps.clock.now());
    await this.deps.ledger?.append(record.tenantId, {
      type: 'dashboard.sign_out',
      actor: `key:${record.keyId}`,
      data: { keyId: record.keyId },
    });
  }

  /** True when `presented` (the CSRF header) equals the session's token, compared in constant time. */
  checkCsrf(session: DashboardSession, presented: string | undefined): boolean {
    return typeof presented === 'string' && presented.length > 0 && sameSecret(presented, session.record.csrfToken);
  }

  /** Removes expired sessions; returns how many. */
  purgeExpired(): Promise<number> {
    return this.deps.store.dashboardSessions.deleteExpired(this.deps.clock.now());
  }
}
