import { canonicalRecordJson, merkle, toLedgerRecord } from '@tollgate/core';
import type { LedgerEntry, LedgerRecord } from '@tollgate/core';
import type { LedgerBatch, LedgerNative, LedgerNodeRow, LedgerRecordRow, LogTail } from '../../store/repositories/ledger-native.js';
import { LOWEST_STORED_LEVEL, nodePosition } from '../../store/repositories/ledger-native.js';
import type { Clock } from '../clock.js';

/** Largest number of records written in one transaction. */
export const DEFAULT_MAX_BATCH = 5_000;

/** What an append resolves to. */
export interface AppendedRecord {
  readonly index: number;
  readonly recordedAt: string;
}

/** A committed batch, reported to the service (fan-out, checkpoints). */
export interface CommittedBatch {
  readonly tenantId: string;
  readonly firstIndex: number;
  readonly size: number;
  readonly frontier: merkle.MerkleFrontier;
  readonly joinedOuterTransaction: boolean;
}

interface Pending {
  readonly entry: LedgerEntry;
  readonly resolve: (value: AppendedRecord) => void;
  readonly reject: (error: unknown) => void;
}

interface TenantQueue {
  pending: Pending[];
  flushing: boolean;
  tail: LogTail | undefined;
}

/**
 * Group commit: appends queue per tenant and are written together on the next turn of the event loop, one
 * transaction per batch, with every new perfect subtree stored beside the records (proofs never rebuild).
 */
export class AppendQueue {
  readonly #queues = new Map<string, TenantQueue>();

  constructor(
    private readonly native: LedgerNative,
    private readonly clock: Clock,
    private readonly onCommit: (batch: CommittedBatch) => void,
    private readonly maxBatch = DEFAULT_MAX_BATCH,
  ) {}

  /** Queue one entry; resolves once it is committed. */
  append(tenantId: string, entry: LedgerEntry): Promise<AppendedRecord> {
    let queue = this.#queues.get(tenantId);
    if (!queue) {
      queue = { pending: [], flushing: false, tail: undefined };
      this.#queues.set(tenantId, queue);
    }
    const promise = new Promise<AppendedRecord>((resolve, reject) => queue.pending.push({ entry, resolve, reject }));
    if (!queue.flushing && queue.pending.length === 1) setImmediate(() => void this.#flush(tenantId, queue));
    return promise;
  }

  /** Frontier of the last batch this process committed for a tenant (may lag other replicas). */
  frontier(tenantId: string): merkle.MerkleFrontier | undefined {
    return this.#queues.get(tenantId)?.tail?.frontier;
  }

  /** Tenants this process has written to, with their latest frontier. */
  frontiers(): Map<string, merkle.MerkleFrontier> {
    const result = new Map<string, merkle.MerkleFrontier>();
    for (const [tenantId, queue] of this.#queues) if (queue.tail) result.set(tenantId, queue.tail.frontier);
    return result;
  }

  /** Resolves when every queued append has been written. */
  async drain(): Promise<void> {
    while ([...this.#queues.values()].some((q) => q.flushing || q.pending.length > 0)) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async #flush(tenantId: string, queue: TenantQueue): Promise<void> {
    if (queue.flushing || queue.pending.length === 0) return;
    queue.flushing = true;
    const taken = queue.pending.splice(0, this.maxBatch);
    try {
      await this.#write(tenantId, queue, taken);
    } finally {
      queue.flushing = false;
      if (queue.pending.length > 0) setImmediate(() => void this.#flush(tenantId, queue));
    }
  }

  async #write(tenantId: string, queue: TenantQueue, taken: Pending[]): Promise<void> {
    // Per entry: its index once committed, or why it was refused (no closure per record: this is the hot path).
    let outcomes: (number | unknown)[] = [];
    let recordedAt = '';
    let firstIndex = 0;
    try {
      const outcome = await this.native.appendBatch(tenantId, queue.tail, (tail) => {
        firstIndex = tail.frontier.size;
        // Times never go backwards within a log (the clock may): time ranges map to index ranges.
        const recordedAtMs = Math.max(this.clock.now(), tail.lastRecordedAt);
        recordedAt = new Date(recordedAtMs).toISOString();
        outcomes = new Array(taken.length);
        return buildBatch(tenantId, recordedAtMs, recordedAt, tail.frontier, taken, outcomes);
      });
      queue.tail = outcome;
      for (let i = 0; i < taken.length; i++) {
        const result = outcomes[i];
        if (typeof result === 'number') taken[i]!.resolve({ index: result, recordedAt });
        else taken[i]!.reject(result);
      }
      if (outcome.frontier.size > firstIndex) {
        this.onCommit({ tenantId, firstIndex, size: outcome.frontier.size, frontier: outcome.frontier, joinedOuterTransaction: outcome.joinedOuterTransaction });
      }
    } catch (error) {
      queue.tail = undefined; // reload from the store next time
      taken.forEach((p) => p.reject(error));
    }
  }
}

function buildBatch(
  tenantId: string,
  recordedAtMs: number,
  recordedAt: string,
  frontier: merkle.MerkleFrontier,
  taken: readonly Pending[],
  outcomes: (number | unknown)[],
): LedgerBatch {
  const records: LedgerRecordRow[] = [];
  const nodes: LedgerNodeRow[] = [];
  for (let i = 0; i < taken.length; i++) {
    const index = frontier.size;
    let record: LedgerRecord;
    let body: string;
    try {
      record = toLedgerRecord(tenantId, index, recordedAt, taken[i]!.entry);
      body = canonicalRecordJson(record);
    } catch (error) {
      outcomes[i] = error;
      continue;
    }
    for (const node of frontier.append(merkle.hashLeafText(body))) {
      if (node.level >= LOWEST_STORED_LEVEL) nodes.push({ pos: nodePosition(node), hash: node.hash });
    }
    records.push(toRow(record, body, recordedAtMs));
    outcomes[i] = index;
  }
  return { records, nodes };
}

function toRow(record: LedgerRecord, body: string, recordedAtMs: number): LedgerRecordRow {
  return {
    index: record.index,
    recordedAt: recordedAtMs,
    type: record.type,
    actor: record.actor,
    agentId: record.agentId,
    executionId: record.executionId,
    sessionId: record.sessionId,
    isViolation: record.isViolation,
    body,
  };
}
