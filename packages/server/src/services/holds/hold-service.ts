import { randomBytes } from 'node:crypto';
import { redactSecrets, TollgateError } from '@tollgate/core';
import type { HoldRecord, HoldRepository, HoldStatus } from '../../store/repositories/holds.js';
import { waitOnBus, type Bus } from '../bus.js';
import type { Clock } from '../clock.js';

/** Bus channel announcing created and decided holds (long polls and the approvals stream listen). */
export const HOLD_CHANNEL = 'hold';
/** How long a step-up hold waits for a person (the SDK's default stepUpTimeoutMinutes is 15). */
export const DEFAULT_HOLD_TTL_MS = 15 * 60_000;
/** Longest long poll on GET /v1/enforce/hold/{token}. */
export const MAX_HOLD_WAIT_MS = 30_000;
/** How often pending holds past their expiry are marked expired (reads also expire them lazily). */
export const DEFAULT_HOLD_SWEEP_MS = 5_000;

export interface HoldMessage {
  tenantId: string;
  holdId: string;
  status: HoldStatus;
}

export type HoldLedgerAppend = (tenantId: string, entry: { type: string; actor?: string | null; agentId?: string; sessionId?: string; isViolation?: boolean; data: unknown }) => Promise<unknown>;

/** What GET /v1/enforce/hold/{token} answers (docs/wire-contract.md). */
export interface HoldView {
  holdToken: string;
  status: HoldStatus;
  decision: 'ALLOW' | 'BLOCK' | null;
  reason: string;
  approver: string | null;
  comment: string | null;
  expiresAt: string;
  actionHash: string;
}

/**
 * Step-up holds: created with the decision (in the same group commit), decided by a person through
 * /api/v1/approvals, expired by a sweeper. Decisions are announced on the bus, so a long poll on any
 * replica answers within milliseconds.
 *
 * @example
 * const view = await holds.waitForDecision('acme', 'hold_x', 25_000);
 */
export class HoldService {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: {
    repository: HoldRepository; bus: Bus; clock: Clock; ttlMs?: number; sweepMs?: number; appendLedger?: HoldLedgerAppend | undefined;
    /** Holds this process approved, denied or expired (for `/metrics`). */
    onResolved?: ((status: 'approved' | 'denied' | 'expired', count: number) => void) | undefined;
  }) {}

  get ttlMs(): number {
    return this.deps.ttlMs ?? DEFAULT_HOLD_TTL_MS;
  }

  start(): void {
    this.timer = setInterval(() => { void this.sweep().catch(() => undefined); }, this.deps.sweepMs ?? DEFAULT_HOLD_SWEEP_MS);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** A new pending hold record (the caller writes it with its decision). */
  newHold(input: Omit<HoldRecord, 'id' | 'status' | 'createdAt' | 'expiresAt' | 'decidedAt' | 'approver' | 'comment' | 'consumedAt'>): HoldRecord {
    const now = this.deps.clock.now();
    return {
      ...input, id: `hold_${randomBytes(15).toString('base64url')}`, status: 'pending', createdAt: now, expiresAt: now + this.ttlMs,
      decidedAt: null, approver: null, comment: null, consumedAt: null,
    };
  }

  /** Announces holds once their decision is recorded. */
  async announceCreated(holds: readonly HoldRecord[]): Promise<void> {
    for (const hold of holds) await this.deps.bus.publish(HOLD_CHANNEL, { tenantId: hold.tenantId, holdId: hold.id, status: 'pending' } satisfies HoldMessage);
  }

  async get(tenantId: string, id: string): Promise<HoldRecord> {
    const hold = await this.deps.repository.get(tenantId, id);
    if (!hold) throw new TollgateError('NOT_FOUND', 'hold not found');
    if (hold.status === 'pending' && hold.expiresAt <= this.deps.clock.now()) {
      await this.sweep(tenantId);
      return (await this.deps.repository.get(tenantId, id)) ?? hold;
    }
    return hold;
  }

  list(tenantId: string, status: HoldStatus | undefined, limit = 200): Promise<HoldRecord[]> {
    return this.deps.repository.list(tenantId, { status, limit });
  }

  /** Long poll: answers when the hold leaves `pending` (or expires), or after `waitMs`. */
  async waitForDecision(tenantId: string, id: string, waitMs: number, signal?: AbortSignal): Promise<HoldRecord> {
    return waitOnBus(this.deps.bus, HOLD_CHANNEL, {
      read: () => this.get(tenantId, id),
      matches: (payload) => {
        const message = payload as HoldMessage;
        return message.tenantId === tenantId && message.holdId === id && message.status !== 'pending';
      },
      waitFor: (first) => (first.status !== 'pending' || waitMs <= 0 ? 0 : Math.min(waitMs, MAX_HOLD_WAIT_MS, Math.max(first.expiresAt - this.deps.clock.now(), 0) + 5)),
      signal,
    });
  }

  approve(tenantId: string, id: string, decision: HoldDecisionInput): Promise<HoldRecord> {
    return this.decide(tenantId, id, 'approved', decision);
  }

  deny(tenantId: string, id: string, decision: HoldDecisionInput): Promise<HoldRecord> {
    return this.decide(tenantId, id, 'denied', decision);
  }

  /** Uses an approved hold for the call it was approved for; returns a refusal reason otherwise. */
  async redeem(tenantId: string, id: string, actionHash: string): Promise<{ ok: true; hold: HoldRecord } | { ok: false; reason: string }> {
    const hold = await this.deps.repository.get(tenantId, id);
    if (!hold) return { ok: false, reason: 'hold token unknown' };
    if (hold.actionHash !== actionHash) return { ok: false, reason: 'hold was approved for a different action (agent, user, tool, arguments or session differ)' };
    if (hold.status !== 'approved') return { ok: false, reason: `hold is ${hold.status}` };
    const now = this.deps.clock.now();
    // Same window as redeemByAction: an approval is good until the hold's expiry, not forever by token.
    if (hold.expiresAt <= now) return { ok: false, reason: 'hold approval expired before it was used' };
    if (!(await this.deps.repository.consume(tenantId, id, now))) return { ok: false, reason: 'hold approval was already used' };
    return { ok: true, hold };
  }

  /**
   * The hold already waiting for a human for exactly this action (same tenant, agent, user, session, tool and
   * arguments): a re-sent call gets the same hold instead of a second request in the approvers' queue.
   */
  pendingForAction(tenantId: string, actionHash: string): Promise<HoldRecord | undefined> {
    return this.deps.repository.findPending(tenantId, actionHash, this.deps.clock.now());
  }

  /** Pending, unexpired holds of an agent, counted up to `atMost`. */
  countPending(tenantId: string, agentId: string, atMost: number): Promise<number> {
    return this.deps.repository.countPending(tenantId, agentId, this.deps.clock.now(), atMost);
  }

  /** An approved, unused hold for exactly this action, consumed on the spot. */
  async redeemByAction(tenantId: string, actionHash: string): Promise<HoldRecord | undefined> {
    const hold = await this.deps.repository.findApproved(tenantId, actionHash, this.deps.clock.now());
    if (!hold) return undefined;
    return (await this.deps.repository.consume(tenantId, hold.id, this.deps.clock.now())) ? hold : undefined;
  }

  /** Expires pending holds past their time (one tenant or all) and announces them. */
  async sweep(tenantId: string | null = null): Promise<number> {
    const expired = await this.deps.repository.expireDue(tenantId, this.deps.clock.now());
    this.deps.onResolved?.('expired', expired.length);
    for (const hold of expired) {
      await this.deps.bus.publish(HOLD_CHANNEL, { tenantId: hold.tenantId, holdId: hold.id, status: 'expired' } satisfies HoldMessage);
      await this.deps.appendLedger?.(hold.tenantId, { type: 'hold.expired', agentId: hold.agentId, sessionId: hold.sessionId, data: { holdId: hold.id, toolName: hold.toolName } });
    }
    return expired.length;
  }

  private async decide(tenantId: string, id: string, status: 'approved' | 'denied', given: HoldDecisionInput): Promise<HoldRecord> {
    // The comment is free text, stored, shown to the agent and kept in the ledger for good: secrets are masked.
    const decision = { approver: given.approver, comment: given.comment === null ? null : redactSecrets(given.comment) };
    const keyId = given.keyId ?? null;
    const current = await this.get(tenantId, id);
    if (current.status === 'expired') throw new TollgateError('HOLD_EXPIRED', `hold ${id} expired`, { details: { status: current.status } });
    if (current.status !== 'pending') throw new TollgateError('HOLD_DECIDED', `hold ${id} is already ${current.status}`, { details: { status: current.status } });
    const decided = await this.deps.repository.decide(tenantId, id, { status, at: this.deps.clock.now(), ...decision });
    if (!decided) return this.decide(tenantId, id, status, { ...decision, keyId }); // lost a race: report the winner's outcome
    this.deps.onResolved?.(status, 1);
    await this.deps.bus.publish(HOLD_CHANNEL, { tenantId, holdId: id, status } satisfies HoldMessage);
    await this.deps.appendLedger?.(tenantId, {
      // The actor is the key that decided (authenticated); the approver name is what it typed.
      type: status === 'approved' ? 'hold.approved' : 'hold.denied', actor: keyId ?? decision.approver, agentId: decided.agentId, sessionId: decided.sessionId,
      data: { holdId: id, toolName: decided.toolName, actionHash: decided.actionHash, approver: decision.approver, comment: decision.comment },
    });
    return decided;
  }
}

/** A decision on a hold: the approver's name and comment as given, and the key that decided (the ledger actor). */
export interface HoldDecisionInput {
  approver: string | null;
  comment: string | null;
  keyId?: string | null;
}

/**
 * The wire view of a hold.
 *
 * @example
 * reply.send(toHoldView(hold));
 */
export function toHoldView(hold: HoldRecord): HoldView {
  const decision = hold.status === 'approved' ? 'ALLOW' : hold.status === 'pending' ? null : 'BLOCK';
  const reason = hold.status === 'pending' ? `waiting for approval: ${hold.reason}`
    : hold.status === 'approved' ? `approved${hold.approver ? ` by ${hold.approver}` : ''}`
    : hold.status === 'denied' ? `denied${hold.approver ? ` by ${hold.approver}` : ''}${hold.comment ? `: ${hold.comment}` : ''}`
    : 'the hold expired before anyone decided';
  return {
    holdToken: hold.id, status: hold.status, decision, reason, approver: hold.approver, comment: hold.comment,
    expiresAt: new Date(hold.expiresAt).toISOString(), actionHash: hold.actionHash,
  };
}
