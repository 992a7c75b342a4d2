import { TollgateError } from '@tollgate/core';
import type { ApiKeyRecord, Store } from '../../store/index.js';
import type { Bus } from '../bus.js';
import type { Clock } from '../clock.js';
import { validateAgentRestriction } from './agent-restriction.js';
import { AuthCache } from './auth-cache.js';
import { API_KEY_PREFIX, generateApiKey, hashSecret, parseApiKey, sameSecretAt, secretMatches } from './key-material.js';
import { isScope, type Scope } from './scopes.js';

/** How often authentication looks for key changes written by another process to the SQLite file. */
export const EXTERNAL_WRITE_CHECK_MS = 20;

/** Bus channel announcing that a key changed (revoked, expiry changed): payload `{ keyId }`. */
export const API_KEY_CHANGED_CHANNEL = 'api-keys.changed';

/** What a request authenticated with. */
export interface AuthContext {
  readonly tenantId: string;
  readonly keyId: string;
  readonly scopes: readonly Scope[];
  /** Set when the key is restricted to these agent ids (exact); see `assertAgentAllowed`. */
  readonly agentIds?: readonly string[] | undefined;
}

/** Why authentication failed (kept out of responses except `expired`/`revoked`, which only the holder sees). */
export type AuthFailure = 'malformed' | 'unknown' | 'expired' | 'revoked';

export type AuthResult = { ok: true; auth: AuthContext } | { ok: false; reason: AuthFailure };

/** Minimal view of the ledger the key service needs (the ledger service satisfies it). */
export interface LedgerAppender {
  append(tenantId: string, entry: { type: string; actor?: string; data: unknown }): Promise<unknown>;
}

/** Input of {@link KeyService.create}. */
export interface CreateKeyInput {
  tenantId: string;
  scopes: readonly string[];
  name?: string | undefined;
  /** Epoch ms; must be in the future. */
  expiresAt?: number | null | undefined;
  /** Key id of the creator, for the record and the ledger. */
  createdBy?: string | null | undefined;
  /** Restrict the key to these exact agent ids (machine scopes only); unset or null = every agent. */
  agentIds?: readonly string[] | null | undefined;
  /** Use this token instead of generating one (TOLLGATE_ADMIN_KEY). */
  token?: string | undefined;
}

/** Collaborators of the key service. */
export interface KeyServiceDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly bus: Bus;
  /** Verified keys are cached this long (0 disables caching). */
  readonly cacheTtlMs: number;
  /** Set when the ledger service exists: every key change is appended. */
  readonly ledger?: LedgerAppender | undefined;
}

/**
 * Creates, lists, revokes and verifies API keys. Secrets are returned once, by `create`, and stored only hashed.
 *
 * @example
 * const keys = new KeyService({ store, clock, bus, cacheTtlMs: 30_000 });
 * const { token } = await keys.create({ tenantId: 'default', scopes: ['admin'] });
 */
export class KeyService {
  readonly #cache: AuthCache<AuthResult>;
  readonly #unsubscribe: () => void;
  #dataVersion: number | undefined;
  #dataVersionStatement: { get(): unknown } | undefined;
  #dataVersionCheckedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: KeyServiceDeps) {
    this.#cache = new AuthCache<AuthResult>(deps.cacheTtlMs);
    this.#unsubscribe = deps.bus.subscribe(API_KEY_CHANGED_CHANNEL, (payload) => {
      const keyId = (payload as { keyId?: unknown } | null)?.keyId;
      if (typeof keyId === 'string') this.#cache.invalidate(keyId);
    });
  }

  async create(input: CreateKeyInput): Promise<{ record: ApiKeyRecord; token: string }> {
    const now = this.deps.clock.now();
    const scopes = validateScopes(input.scopes);
    const agentIds = validateAgentRestriction(input.agentIds, scopes);
    if (input.expiresAt != null && input.expiresAt <= now) {
      throw new TollgateError('VALIDATION_FAILED', 'expiresAt must be in the future', { details: [{ field: 'expiresAt' }] });
    }
    const material = input.token ? fromToken(input.token) : generateApiKey();
    const tenant = await this.deps.store.tenants.get(input.tenantId);
    if (!tenant) throw new TollgateError('NOT_FOUND', `Tenant ${input.tenantId} not found`);
    const record: ApiKeyRecord = {
      id: material.id,
      tenantId: input.tenantId,
      name: input.name ?? '',
      secretHash: hashSecret(material.secret),
      scopes,
      createdAt: now,
      expiresAt: input.expiresAt ?? null,
      revokedAt: null,
      createdBy: input.createdBy ?? null,
      agentIds,
    };
    if (await this.deps.store.apiKeys.findForAuthentication(record.id)) {
      throw new TollgateError('CONFLICT', `An API key with id ${record.id} already exists`);
    }
    await this.deps.store.apiKeys.create(record);
    await this.recordKeyChangeInLedger('api_key.created', record, input.createdBy);
    return { record, token: material.token };
  }

  list(tenantId: string): Promise<ApiKeyRecord[]> {
    return this.deps.store.apiKeys.list(tenantId);
  }

  /**
   * A page of a tenant's keys, newest first, and the cursor of the next page (null after the last). A cursor is
   * opaque (base64url of the last key's creation time and id); a malformed one is a 400.
   *
   * @example
   * const { keys: page, nextCursor } = await keys.listPage('acme', { limit: 100 });
   */
  async listPage(tenantId: string, page: { cursor?: string | undefined; limit: number }): Promise<{ keys: ApiKeyRecord[]; nextCursor: string | null }> {
    const after = page.cursor === undefined ? undefined : decodeKeyCursor(page.cursor);
    const rows = await this.deps.store.apiKeys.listPage(tenantId, { after, limit: page.limit + 1 });
    const keys = rows.slice(0, page.limit);
    const last = keys.at(-1);
    return { keys, nextCursor: rows.length > page.limit && last ? Buffer.from(`${last.createdAt}.${last.id}`, 'utf8').toString('base64url') : null };
  }

  async get(tenantId: string, id: string): Promise<ApiKeyRecord> {
    const record = await this.deps.store.apiKeys.get(tenantId, id);
    if (!record) throw new TollgateError('NOT_FOUND', `API key ${id} not found`);
    return record;
  }

  /** Revokes a key of `tenantId` (idempotent: revoking twice keeps the first time). */
  async revoke(tenantId: string, id: string, actor?: string | null): Promise<ApiKeyRecord> {
    const record = await this.deps.store.apiKeys.revoke(tenantId, id, this.deps.clock.now());
    if (!record) throw new TollgateError('NOT_FOUND', `API key ${id} not found`);
    await this.deps.store.dashboardSessions.revokeForKey(tenantId, id, this.deps.clock.now());
    await this.announceChange(id);
    await this.recordKeyChangeInLedger('api_key.revoked', record, actor);
    return record;
  }

  /** Sets (epoch ms, in the future) or clears (null) the expiry of a key of `tenantId`. */
  async setExpiry(tenantId: string, id: string, expiresAt: number | null, actor?: string | null): Promise<ApiKeyRecord> {
    if (expiresAt !== null && expiresAt <= this.deps.clock.now()) {
      throw new TollgateError('VALIDATION_FAILED', 'expiresAt must be in the future', { details: [{ field: 'expiresAt' }] });
    }
    const before = await this.deps.store.apiKeys.get(tenantId, id);
    const record = before ? await this.deps.store.apiKeys.setExpiry(tenantId, id, expiresAt) : undefined;
    if (!before || !record) throw new TollgateError('NOT_FOUND', `API key ${id} not found`);
    // Reviving an expired key does not revive the dashboard sessions its expiry ended (even if none was used since).
    const now = this.deps.clock.now();
    if (before.expiresAt !== null && before.expiresAt <= now) await this.deps.store.dashboardSessions.revokeForKey(tenantId, id, now);
    await this.announceChange(id);
    await this.recordKeyChangeInLedger('api_key.expiry_set', record, actor);
    return record;
  }

  /**
   * Verifies a presented token: known id, matching secret (constant time), not revoked, not expired.
   *
   * @example
   * const result = await keys.authenticate(token); if (result.ok) result.auth.tenantId;
   */
  async authenticate(token: string): Promise<AuthResult> {
    const cached = this.authenticateFromCache(token);
    if (cached) return cached;
    const parsed = parseApiKey(token);
    if (!parsed) return { ok: false, reason: 'malformed' };
    // Read before the lookup: a revocation evicting this key while the lookup is in flight keeps its stale row out.
    const generation = this.#cache.generation;
    const record = await this.deps.store.apiKeys.findForAuthentication(parsed.id);
    if (!record) return { ok: false, reason: 'unknown' };
    const now = this.deps.clock.now();
    const granted = grantOf(record);
    this.#cache.set(record, granted, now, generation);
    return verify(parsed.secret, record, granted, now);
  }

  /**
   * Synchronous verification when the key is cached (the common case: no promise, no database); undefined when
   * the database must be asked (then use `authenticate`). `start` (default 0) reads the token from that offset of
   * `token`, e.g. the whole `Authorization` value with 7: the secret is then compared in place, without a substring.
   *
   * @example
   * const result = keys.authenticateFromCache(token) ?? (await keys.authenticate(token));
   */
  authenticateFromCache(token: string, start = 0): AuthResult | undefined {
    this.invalidateOnExternalWrite();
    const now = this.deps.clock.now();
    // Fast path: the key is cached and this very secret verified against its hash before (no regex, no SHA-256).
    // A token whose id part is malformed cannot hit: the cache only holds ids that passed `parseApiKey`.
    const separator = token.startsWith(API_KEY_PREFIX, start) ? token.indexOf('_', start + API_KEY_PREFIX.length) : -1;
    if (separator > 0) {
      const cached = this.#cache.get(token.slice(start + API_KEY_PREFIX.length, separator), now);
      if (cached?.verifiedSecret !== undefined && sameSecretAt(token, separator + 1, cached.verifiedSecret)) {
        return standing(cached.record, cached.granted, now);
      }
    }
    const parsed = parseApiKey(start === 0 ? token : token.slice(start));
    if (!parsed) return REFUSED.malformed;
    const cached = this.#cache.get(parsed.id, now);
    if (!cached) return undefined;
    const result = verify(parsed.secret, cached.record, cached.granted, now);
    if (result.ok) cached.verifiedSecret = parsed.secret;
    return result;
  }

  close(): void {
    this.#unsubscribe();
  }

  /**
   * Another process (e.g. `tollgate keys revoke`) wrote to the SQLite file: drop cached keys. Checked at most every
   * {@link EXTERNAL_WRITE_CHECK_MS} (the check is a native call that costs more than the rest of authentication).
   */
  private invalidateOnExternalWrite(): void {
    // The clock first: `database.open` is a native getter, too dear to read on every request.
    const now = performance.now();
    if (now - this.#dataVersionCheckedAt < EXTERNAL_WRITE_CHECK_MS) return;
    this.#dataVersionCheckedAt = now;
    const native = this.deps.store.native;
    if (native.dialect !== 'sqlite' || !native.database.open) return;
    // A prepared statement: `database.pragma()` prepares anew on every call, which costs more than the lookup saved.
    this.#dataVersionStatement ??= native.database.prepare('PRAGMA data_version').pluck();
    const version = this.#dataVersionStatement.get() as number;
    if (this.#dataVersion !== undefined && version !== this.#dataVersion) this.#cache.invalidateAll();
    this.#dataVersion = version;
  }

  private async announceChange(keyId: string): Promise<void> {
    this.#cache.invalidate(keyId);
    await this.deps.bus.publish(API_KEY_CHANGED_CHANNEL, { keyId });
  }

  /** Ledger call site for API-key changes (no-op until the ledger service is wired in createServices). */
  private async recordKeyChangeInLedger(type: string, record: ApiKeyRecord, actor?: string | null): Promise<void> {
    if (!this.deps.ledger) return;
    await this.deps.ledger.append(record.tenantId, {
      type,
      ...(actor ? { actor: `key:${actor}` } : {}),
      data: {
        keyId: record.id, name: record.name, scopes: record.scopes, expiresAt: record.expiresAt, revokedAt: record.revokedAt,
        ...(record.agentIds === null ? {} : { agentIds: record.agentIds }),
      },
    });
  }
}

/** The position a key-list cursor names; anything but a cursor the server issued is a 400. */
function decodeKeyCursor(cursor: string): { createdAt: number; id: string } {
  const match = /^(\d{1,16})\.([A-Za-z0-9]{1,64})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new TollgateError('VALIDATION_FAILED', 'cursor is not valid', { details: [{ field: 'querystring/cursor', message: 'must be a nextCursor of this listing' }] });
  return { createdAt: Number(match[1]), id: match[2]! };
}

const REFUSED = {
  malformed: Object.freeze({ ok: false, reason: 'malformed' }),
  unknown: Object.freeze({ ok: false, reason: 'unknown' }),
  revoked: Object.freeze({ ok: false, reason: 'revoked' }),
  expired: Object.freeze({ ok: false, reason: 'expired' }),
} as const satisfies Record<string, AuthResult>;

/** What a valid key grants, built once per cached record and shared (frozen) by every request that presents it. */
function grantOf(record: ApiKeyRecord): AuthResult {
  const scopes = Object.freeze([...record.scopes]) as readonly Scope[];
  // The cached fast path returns this same object, so the restriction holds there too.
  const restriction = record.agentIds === null ? {} : { agentIds: Object.freeze([...record.agentIds]) };
  return Object.freeze({ ok: true, auth: Object.freeze({ tenantId: record.tenantId, keyId: record.id, scopes, ...restriction }) });
}

function verify(secret: string, record: ApiKeyRecord, granted: AuthResult, now: number): AuthResult {
  if (!secretMatches(secret, record.secretHash)) return REFUSED.unknown;
  return standing(record, granted, now);
}

/** A key whose secret matched: refused if revoked or expired (checked on every request), else what it grants. */
function standing(record: ApiKeyRecord, granted: AuthResult, now: number): AuthResult {
  if (record.revokedAt !== null) return REFUSED.revoked;
  if (record.expiresAt !== null && record.expiresAt <= now) return REFUSED.expired;
  return granted;
}

function fromToken(token: string): { id: string; secret: string; token: string } {
  const parsed = parseApiKey(token);
  if (!parsed) throw new TollgateError('VALIDATION_FAILED', 'API key must look like tg_live_<id>_<secret>');
  return { ...parsed, token };
}

function validateScopes(scopes: readonly string[]): Scope[] {
  if (scopes.length === 0) throw new TollgateError('VALIDATION_FAILED', 'At least one scope is required', { details: [{ field: 'scopes' }] });
  const unknown = scopes.filter((scope) => !isScope(scope));
  if (unknown.length > 0) {
    throw new TollgateError('VALIDATION_FAILED', `Unknown scope(s): ${unknown.join(', ')}`, { details: [{ field: 'scopes', unknown }] });
  }
  return [...new Set(scopes)] as Scope[];
}
