import { TollgateError } from '@tollgate/core';
import type { FastifyRequest } from 'fastify';
import type { Services } from '../services/index.js';
import { hasScope, type AuthContext, type Scope } from '../services/keys/index.js';
import { presentedApiKey } from './auth.js';
import { InFlightCounts } from '../services/in-flight.js';
import { createSessionAuthenticator } from './routes/session.js';

/** Answers why the credential that opened a stream no longer stands, or undefined while it does. */
export type StreamCredentialCheck = (request: FastifyRequest, opened: AuthContext) => Promise<string | undefined>;

/**
 * Authentication runs once per request, but a stream lives for minutes: streams check the credential that opened
 * them again (before sending, and at every keepalive), so a revoked or expired key, a signed-out dashboard session
 * or a lost scope stops the flow. Keys come from the auth cache, which revocations evict on every replica.
 *
 * @example
 * const check = streamCredentialCheck(services, 'approvals');
 * const reason = await check(request, authOf(request)); // 'API key revoked' | undefined
 */
export function streamCredentialCheck(services: Services, scope: Scope): StreamCredentialCheck {
  const sessions = createSessionAuthenticator(services.dashboardSessions);
  return async (request, opened) => {
    const token = presentedApiKey(request);
    let now: AuthContext | undefined;
    if (typeof token === 'string') {
      const result = await services.keys.authenticate(token);
      if (!result.ok) return result.reason === 'expired' || result.reason === 'revoked' ? `API key ${result.reason}` : 'Invalid API key';
      now = result.auth;
    } else {
      const outcome = await sessions(request);
      if (outcome === undefined || !('auth' in outcome)) return 'Dashboard session expired or signed out';
      now = outcome.auth;
    }
    if (now.keyId !== opened.keyId || now.tenantId !== opened.tenantId || !hasScope(now.scopes, scope)) return `Credential lacks scope ${scope}`;
    return undefined;
  };
}

/**
 * A long poll's answer is sent only if the credential that opened it still stands: a key revoked (or a session signed
 * out) while the poll waited is answered 401, not with the decision, the approver and the comment it waited for.
 *
 * @example
 * const answer = await services.holds.waitForDecision(tenantId, token, waitMs);
 * await assertStillStanding(check, request, authOf(request));
 */
export async function assertStillStanding(check: StreamCredentialCheck, request: FastifyRequest, opened: AuthContext): Promise<void> {
  const why = await check(request, opened);
  if (why !== undefined) throw new TollgateError('UNAUTHENTICATED', `${why} while the request waited`);
}

/** Seconds a refused stream or long poll is told to wait before trying again. */
const STREAM_RETRY_AFTER_SECONDS = 5;

/**
 * Long-lived requests (SSE streams, hold long polls) open per tenant in this process. Each holds a socket, timers
 * and a subscription, and every ledger append of the tenant wakes each of its audit streams, so without a cap one
 * key could open them until the process ran out of memory or descriptors for every tenant.
 *
 * @example
 * const release = streamSlotsOf(services).acquire('acme'); // throws 429 RATE_LIMITED past the cap
 * reply.raw.on('close', release);
 */
export class StreamSlots {
  private readonly open = new InFlightCounts();
  private readonly openByKey = new InFlightCounts();
  /** At most this many of a tenant's slots for one key (a quarter of the cap, at least 1); 0 = no cap. */
  readonly perKey: number;

  /** `limit` 0 means no cap; `what` names the slots in the refusal (and `details.limit`). */
  constructor(private readonly limit: number, private readonly what: { noun: string; limit: string } = { noun: 'open streams and long polls', limit: 'streams_per_tenant' }) {
    this.perKey = limit > 0 ? Math.max(1, Math.ceil(limit / 4)) : 0;
  }

  /**
   * Takes one of the tenant's slots; the returned function gives it back (calling it again does nothing). With
   * `keyId`, one key may hold at most {@link perKey} of them: a key restricted to one agent, holding a hundred waits
   * on its own permission request, took every slot and refused the approvers' stream and the other agents' polls.
   */
  acquire(tenantId: string, keyId?: string): () => void {
    const tenant = this.open.take(tenantId);
    if (this.limit > 0 && tenant.before >= this.limit) {
      tenant.release();
      throw new TollgateError('RATE_LIMITED', `tenant ${tenantId} already holds ${this.limit} ${this.what.noun}; close one or retry later`, {
        details: { limit: this.what.limit, quota: this.limit, retryAfter: STREAM_RETRY_AFTER_SECONDS },
      });
    }
    const key = keyId === undefined ? undefined : this.openByKey.take(`${tenantId}\n${keyId}`);
    if (key !== undefined && this.perKey > 0 && key.before >= this.perKey) {
      key.release();
      tenant.release();
      throw new TollgateError('RATE_LIMITED', `this API key already holds ${this.perKey} ${this.what.noun} (of the tenant's ${this.limit}); close one or retry later`, {
        details: { limit: `${this.what.limit}_per_key`, quota: this.perKey, retryAfter: STREAM_RETRY_AFTER_SECONDS },
      });
    }
    return () => {
      tenant.release();
      key?.release();
    };
  }
}

/**
 * True when the client is gone before a stream or long poll has started (its connection closed while the request
 * was authenticated or a first read was awaited): its `close` event has fired already, so a slot taken now would
 * only be given back by the stream's timeout. Dropping connections right after the request held every slot of a
 * tenant for 10 minutes on PostgreSQL.
 *
 * @example
 * if (clientGone(request)) return void reply.hijack();
 */
export function clientGone(request: FastifyRequest): boolean {
  return request.raw.destroyed || request.raw.socket?.destroyed === true || request.signal?.aborted === true;
}

const slotsOfServer = new WeakMap<Services, StreamSlots>();

/**
 * The stream slots shared by every stream and long-poll route of one server (keyed by its services, so two servers
 * in one process, as in tests, count apart).
 *
 * @example
 * const slots = streamSlotsOf(services);
 */
export function streamSlotsOf(services: Services): StreamSlots {
  let slots = slotsOfServer.get(services);
  if (!slots) {
    slots = new StreamSlots(services.config.maxStreamsPerTenant);
    slotsOfServer.set(services, slots);
  }
  return slots;
}
