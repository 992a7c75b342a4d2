import { TollgateError } from '@tollgate/core';
import type { Bus } from '../bus.js';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

/** One entry of the approvals queue (docs/wire-contract.md). */
export interface ApprovalItem {
  kind: string;
  id: string;
  status: ApprovalStatus;
  agentId: string;
  toolName?: string | undefined;
  arguments?: unknown;
  reason: string;
  createdAt: string;
  expiresAt: string;
  approver?: string | null;
  comment?: string | null;
  [extra: string]: unknown;
}

export interface ApprovalDecision {
  /** The name the approver gave (free text, shown in the queue). */
  approver: string | null;
  comment: string | null;
  /**
   * The authenticated API key (or dashboard session's key) that decided: the ledger's `actor`, since `approver` is
   * whatever the caller typed.
   */
  keyId?: string | null;
}

/**
 * Something people approve or deny. Step-up holds are one source; sandbox permission requests another.
 * To add a source, implement this and call `approvals.register(source)` in services/index.ts.
 */
export interface ApprovalSource {
  /** `kind` of its items, e.g. `hold`. */
  readonly kind: string;
  /** True when an approval id belongs to this source (ids carry a source prefix, e.g. `hold_…`, `perm_…`). */
  owns(id: string): boolean;
  list(tenantId: string, status: ApprovalStatus | undefined): Promise<ApprovalItem[]>;
  approve(tenantId: string, id: string, decision: ApprovalDecision): Promise<ApprovalItem>;
  deny(tenantId: string, id: string, decision: ApprovalDecision): Promise<ApprovalItem>;
  /** Bus channel announcing its new and decided items, and how to read a message of it. */
  readonly channel: string;
  toEvent(payload: unknown): { tenantId: string; id: string; status: string } | null;
}

/** What the approvals stream sends. */
export interface ApprovalEvent {
  kind: string;
  id: string;
  status: string;
}

/**
 * The approvals queue: one list over every registered source, approve/deny routed by id, and a stream of
 * changes for the dashboard.
 *
 * @example
 * approvals.register(holdApprovalSource(holds));
 * const pending = await approvals.list('acme', 'pending');
 */
export class ApprovalService {
  private readonly sources: ApprovalSource[] = [];

  constructor(private readonly deps: { bus: Bus }) {}

  register(source: ApprovalSource): void {
    if (this.sources.some((existing) => existing.kind === source.kind)) throw new Error(`approval source ${source.kind} registered twice`);
    this.sources.push(source);
  }

  kinds(): string[] {
    return this.sources.map((source) => source.kind);
  }

  /** Newest first across every source. */
  async list(tenantId: string, status?: ApprovalStatus, kind?: string): Promise<ApprovalItem[]> {
    const sources = kind === undefined ? this.sources : this.sources.filter((source) => source.kind === kind);
    const lists = await Promise.all(sources.map((source) => source.list(tenantId, status)));
    return lists.flat().sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  approve(tenantId: string, id: string, decision: ApprovalDecision): Promise<ApprovalItem> {
    return this.sourceOf(id).approve(tenantId, id, decision);
  }

  deny(tenantId: string, id: string, decision: ApprovalDecision): Promise<ApprovalItem> {
    return this.sourceOf(id).deny(tenantId, id, decision);
  }

  /** Calls `listener` for every new or decided item of the tenant; returns the unsubscribe function. */
  subscribe(tenantId: string, listener: (event: ApprovalEvent) => void): () => void {
    const offs = this.sources.map((source) => this.deps.bus.subscribe(source.channel, (payload) => {
      const event = source.toEvent(payload);
      if (event && event.tenantId === tenantId) listener({ kind: source.kind, id: event.id, status: event.status });
    }));
    return () => { for (const off of offs) off(); };
  }

  private sourceOf(id: string): ApprovalSource {
    const source = this.sources.find((candidate) => candidate.owns(id));
    if (!source) throw new TollgateError('APPROVAL_SOURCE_UNKNOWN', `no approval with id ${id}`, { details: { kinds: this.kinds() } });
    return source;
  }
}
