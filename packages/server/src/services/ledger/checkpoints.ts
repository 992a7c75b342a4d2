import { merkle, signCheckpoint } from '@tollgate/core';
import type { LedgerNative } from '../../store/repositories/ledger-native.js';
import type { LedgerRepository, StoredCheckpoint } from '../../store/repositories/ledger.js';
import type { Clock } from '../clock.js';
import type { LedgerSigningKey } from './signing-key.js';

/** Sign a checkpoint after this many new records (also `TOLLGATE_LEDGER_CHECKPOINT_EVERY`). */
export const DEFAULT_CHECKPOINT_EVERY = 1_000;
/** Sign a checkpoint of new records at least this often (also `TOLLGATE_LEDGER_CHECKPOINT_INTERVAL_MS`). */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 10_000;

/** Collaborators of {@link Checkpointer}. */
export interface CheckpointerDeps {
  readonly repo: LedgerRepository;
  readonly native: LedgerNative;
  readonly clock: Clock;
  readonly signingKey: () => Promise<LedgerSigningKey>;
  readonly originOf: (tenantId: string) => string;
  readonly every: number;
  /** A checkpoint was signed and stored here, at this time (ms). */
  readonly onSigned?: ((at: number) => void) | undefined;
}

/**
 * Signs C2SP checkpoints of each tenant's log: after `every` records, on a timer, and on demand. Signing is
 * serialised per tenant; replicas racing on one size keep the first stored note.
 */
export class Checkpointer {
  readonly #lastSize = new Map<string, number>();
  readonly #chains = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: CheckpointerDeps) {}

  /** After a commit: sign when `every` records accumulated since the last checkpoint (decided in order). */
  afterCommit(tenantId: string, size: number, root: Uint8Array): Promise<unknown> {
    return this.#serial(tenantId, async () => {
      if (size - (await this.#knownLastSize(tenantId)) >= this.deps.every) await this.#signNow(tenantId, size, root);
    });
  }

  /** Records of a log of `size` not covered by the last checkpoint this process knows of (0 when unknown yet). */
  unsignedOf(tenantId: string, size: number): number {
    const last = this.#lastSize.get(tenantId);
    return last === undefined ? 0 : Math.max(0, size - last);
  }

  /** Sizes this process knows to be ahead of their last checkpoint (for the timer). */
  async signPending(sizes: ReadonlyMap<string, { size: number; root: Uint8Array }>): Promise<void> {
    for (const [tenantId, { size, root }] of sizes) {
      await this.#serial(tenantId, async () => {
        if (size > (await this.#knownLastSize(tenantId))) await this.#signNow(tenantId, size, root);
      });
    }
  }

  /** The latest checkpoint; with `fresh`, first signs one covering every stored record. */
  async latest(tenantId: string, fresh: boolean): Promise<StoredCheckpoint> {
    if (fresh) {
      const size = await this.deps.repo.size(tenantId);
      const existing = await this.deps.repo.latestCheckpoint(tenantId);
      if (existing && existing.size >= size) return existing;
      await this.sign(tenantId, size, await this.rootAt(tenantId, size));
    }
    const latest = await this.deps.repo.latestCheckpoint(tenantId);
    if (latest) return latest;
    return this.sign(tenantId, 0, merkle.emptyRoot());
  }

  /** Root of the first `size` stored records, from stored subtrees (O(log n) lookups). */
  async rootAt(tenantId: string, size: number): Promise<Uint8Array> {
    const ids = merkle.rangeNodes({ start: 0, end: size });
    return merkle.rootHash(merkle.readerFromMap(await this.deps.native.readNodes(tenantId, ids)), size);
  }

  /** Sign and store the checkpoint at `size` (idempotent per size). */
  sign(tenantId: string, size: number, root: Uint8Array): Promise<StoredCheckpoint> {
    return this.#serial(tenantId, () => this.#signNow(tenantId, size, root));
  }

  #serial<T>(tenantId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#chains.get(tenantId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(task);
    this.#chains.set(tenantId, next);
    return next;
  }

  async #signNow(tenantId: string, size: number, root: Uint8Array): Promise<StoredCheckpoint> {
    const existing = (await this.deps.repo.checkpoints(tenantId, size, size)).at(-1);
    if (existing && existing.size === size) return existing;
    const origin = this.deps.originOf(tenantId);
    const key = (await this.deps.signingKey()).forOrigin(origin);
    const note = signCheckpoint({ origin, size, rootHash: root, extensions: [] }, key);
    const createdAt = this.deps.clock.now();
    await this.deps.repo.insertCheckpoint(tenantId, { size, rootHash: root, note, createdAt });
    this.#lastSize.set(tenantId, Math.max(size, this.#lastSize.get(tenantId) ?? 0));
    this.deps.onSigned?.(createdAt);
    const stored = (await this.deps.repo.checkpoints(tenantId, size, size)).at(-1);
    return stored ?? { size, rootHash: root, note, createdAt: this.deps.clock.now() };
  }

  async #knownLastSize(tenantId: string): Promise<number> {
    const known = this.#lastSize.get(tenantId);
    if (known !== undefined) return known;
    const size = (await this.deps.repo.latestCheckpoint(tenantId))?.size ?? 0;
    this.#lastSize.set(tenantId, Math.max(size, this.#lastSize.get(tenantId) ?? 0));
    return size;
  }
}

/** A stored note with witness cosignature lines (validated when accepted) appended. */
export function withCosignatures(note: string, signatureLines: readonly string[]): string {
  return note + signatureLines.map((line) => `${line}\n`).join('');
}
