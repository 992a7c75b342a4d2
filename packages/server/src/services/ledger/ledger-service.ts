import {
  BUNDLE_FORMAT,
  BUNDLE_STREAM_FORMAT,
  TollgateError,
  bundleCheckpointLine,
  bundleHeaderLine,
  bundleRecordLine,
  formatVerifierKey,
  merkle,
  openCheckpoint,
  parseCheckpoint,
  parseSignedNote,
  parseVerifierKey,
  recordLeafHash,
  verifyCosignature,
} from '@tollgate/core';
import type { LedgerBundle, LedgerEntry, NoteKey } from '@tollgate/core';
import type { Store } from '../../store/index.js';
import { createLedgerNative } from '../../store/repositories/ledger-native.js';
import type { LedgerNative } from '../../store/repositories/ledger-native.js';
import type { StoredCheckpoint } from '../../store/repositories/ledger.js';
import type { DomainMetrics } from '../metrics/domain-metrics.js';
import type { Bus } from '../bus.js';
import type { Clock } from '../clock.js';
import { AppendQueue, DEFAULT_MAX_BATCH } from './append-queue.js';
import type { AppendedRecord, CommittedBatch } from './append-queue.js';
import { Checkpointer, DEFAULT_CHECKPOINT_EVERY, DEFAULT_CHECKPOINT_INTERVAL_MS, withCosignatures } from './checkpoints.js';
import { LOG_INCOMPLETE_CODE, consistencyProofFromStore, frontierFromStore, inclusionProofFromStore } from './proofs.js';
import type { ConsistencyProofView, InclusionProofView } from './proofs.js';
import { parseStoredRecord } from './record-views.js';
import { loadOrCreateSigningKey } from './signing-key.js';
import type { KeyWrapper, LedgerSigningKey } from './signing-key.js';

/** Bus channel announcing committed records: payload `{ tenantId, firstIndex, size }`. */
export const LEDGER_APPENDED_CHANNEL = 'ledger.appended';
/** Default origin prefix of checkpoints; each tenant's log is `<origin>/<tenant>`. */
export const DEFAULT_LEDGER_ORIGIN = 'tollgate.local';

/** Options of {@link LedgerService}. */
export interface LedgerServiceOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly bus: Bus;
  readonly keyWrapper: KeyWrapper;
  readonly origin?: string;
  readonly checkpointEvery?: number;
  readonly checkpointIntervalMs?: number;
  /** Witness verifier keys (C2SP vkeys of type 0x04) whose cosignatures are accepted. */
  readonly witnessKeys?: readonly string[];
  readonly maxBatch?: number;
  readonly reportError?: (error: unknown) => void;
  /** `/metrics` figures of appends and checkpoint signing. */
  readonly metrics?: DomainMetrics;
  /**
   * Most records a one-document (v1) bundle may hold (`TOLLGATE_AUDIT_BUNDLE_JSON_MAX_RECORDS`): it is built in
   * memory. Larger logs are exported as JSON Lines ({@link LedgerService.bundleLines}). Default 100,000.
   */
  readonly maxJsonBundleRecords?: number;
}

/** Default of {@link LedgerServiceOptions.maxJsonBundleRecords}. */
export const DEFAULT_MAX_JSON_BUNDLE_RECORDS = 100_000;

/**
 * Records read from the store per page of a streaming bundle: small enough that one read (synchronous on SQLite)
 * holds the event loop for a few milliseconds while an export runs beside live traffic.
 */
export const BUNDLE_PAGE_RECORDS = 1_000;

/** A streaming (v2, JSON Lines) bundle being exported: its range is known before its first line is read. */
export interface BundleStream {
  /** Index of the first record (= size of the log before it). */
  readonly from: number;
  /** Size of the log at its end (a checkpoint of this size, signed before the export, is its last line). */
  readonly to: number;
  /** The lines, without line breaks; the store is read page by page as they are consumed. */
  readonly lines: AsyncIterable<string>;
}

/** A checkpoint as the API returns it. */
export interface CheckpointView {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: string;
  /** The signed note, with any witness cosignature lines. */
  readonly note: string;
  readonly publicKey: string;
  readonly createdAt: string;
  readonly cosignatures: readonly { witness: string; signedAt: string }[];
}

/** Result of verifying one record. */
export interface RecordVerification extends InclusionProofView {
  readonly recordId: number;
  readonly verified: boolean;
  readonly checkpoint: string;
  readonly chain_valid: boolean;
  readonly verified_at: string;
  readonly anchor_tx_hash: null;
}

/**
 * The tamper-evident audit ledger: one RFC 9162 log per tenant, group-committed appends with stored subtree
 * hashes, signed C2SP checkpoints, proofs, witness cosignatures and bundles for offline verification.
 *
 * @example
 * await services.ledger.append(tenantId, { type: 'policy.activated', actor: keyId, data: { version: 3 } });
 */
export class LedgerService {
  readonly #native: LedgerNative;
  readonly #queue: AppendQueue;
  readonly #checkpoints: Checkpointer;
  readonly #witnesses: readonly NoteKey[];
  readonly #origin: string;
  #key: Promise<LedgerSigningKey> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: LedgerServiceOptions) {
    this.#native = createLedgerNative(options.store.native);
    this.#origin = options.origin ?? DEFAULT_LEDGER_ORIGIN;
    this.#witnesses = (options.witnessKeys ?? []).map((vkey) => parseVerifierKey(vkey, 0x04));
    this.#queue = new AppendQueue(this.#native, options.clock, (batch) => this.#afterCommit(batch), options.maxBatch ?? DEFAULT_MAX_BATCH);
    this.#checkpoints = new Checkpointer({
      repo: options.store.ledger,
      native: this.#native,
      clock: options.clock,
      signingKey: () => this.signingKey(),
      originOf: (tenantId) => this.originOf(tenantId),
      every: options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY,
      onSigned: options.metrics ? (at) => options.metrics!.checkpointSigned(at) : undefined,
    });
    options.metrics?.watchUnsignedRecords(() => {
      let unsigned = 0;
      for (const [tenantId, frontier] of this.#queue.frontiers()) unsigned += this.#checkpoints.unsignedOf(tenantId, frontier.size);
      return unsigned;
    });
  }

  /** Creates or opens the signing key and starts timed checkpoints. */
  async start(): Promise<void> {
    await this.signingKey();
    const interval = this.options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    this.#timer ??= setInterval(() => void this.#timedCheckpoints(), interval);
    this.#timer.unref();
  }

  /** Writes what is queued and stops the timer. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#queue.drain();
  }

  /**
   * Append one security-relevant record to the tenant's log; resolves with its index once committed.
   * Do not rely on it joining a `store.transaction` you hold: on SQLite it does (and then commits with it),
   * on PostgreSQL it commits on its own connection.
   * @example await ledger.append('acme', { type: 'apikey.created', actor: 'key_1', data: { keyId: 'key_2' } })
   */
  append(tenantId: string, entry: LedgerEntry): Promise<AppendedRecord> {
    if (typeof tenantId !== 'string' || tenantId === '' || typeof entry?.type !== 'string' || !/^[\w.:-]{1,100}$/.test(entry.type)) {
      return Promise.reject(new TollgateError('VALIDATION_FAILED', 'a ledger entry needs a tenant and a type of 1-100 word characters, dots, colons or dashes'));
    }
    return this.#queue.append(tenantId, entry);
  }

  /** Resolves when every queued append is committed. */
  flush(): Promise<void> {
    return this.#queue.drain();
  }

  /** The checkpoint origin (log name) of a tenant. */
  originOf(tenantId: string): string {
    return `${this.#origin}/${encodeURIComponent(tenantId)}`;
  }

  /** The verifier key (C2SP vkey) that checks a tenant's checkpoints. */
  async publicKey(tenantId: string): Promise<string> {
    const key = await this.signingKey();
    return formatVerifierKey({ name: this.originOf(tenantId), publicKey: key.publicKey });
  }

  /** The signing key, created on first use. */
  signingKey(): Promise<LedgerSigningKey> {
    this.#key ??= loadOrCreateSigningKey(this.options.store.ledger, this.options.keyWrapper, this.options.clock);
    this.#key.catch(() => (this.#key = undefined));
    return this.#key;
  }

  /** Latest checkpoint, first signing one that covers every stored record. */
  async checkpoint(tenantId: string): Promise<CheckpointView> {
    await this.flush();
    return this.#view(tenantId, await this.#checkpoints.latest(tenantId, true));
  }

  /** Inclusion proof of record `index` in the log of `size` (default: the latest checkpoint's size). */
  async inclusionProof(tenantId: string, index: number, size?: number): Promise<InclusionProofView> {
    const treeSize = size ?? (await this.#checkpoints.latest(tenantId, index >= (await this.#latestSize(tenantId)))).size;
    await this.#assertStored(tenantId, treeSize);
    return inclusionProofFromStore(this.#native, tenantId, index, treeSize);
  }

  /** Consistency proof between two sizes of the tenant's log. */
  async consistencyProof(tenantId: string, from: number, to: number): Promise<ConsistencyProofView> {
    await this.#assertStored(tenantId, to);
    return consistencyProofFromStore(this.#native, tenantId, from, to);
  }

  /**
   * Verify one record: recompute its leaf from the stored body, prove it into the latest signed checkpoint and
   * check that checkpoint's signature.
   */
  async verifyRecord(tenantId: string, index: number, now = this.options.clock.now()): Promise<RecordVerification> {
    const stored = await this.options.store.ledger.record(tenantId, index);
    if (!stored) throw new TollgateError('NOT_FOUND', `no audit record ${index}`);
    const checkpoint = await this.#checkpoints.latest(tenantId, index >= (await this.#latestSize(tenantId)));
    const leaf = recordLeafHash(parseStoredRecord(stored));
    // Rows deleted from the database leave the proof impossible: that is a failed verification, not a server error.
    const proof = await inclusionProofFromStore(this.#native, tenantId, index, checkpoint.size).catch((error: unknown) => {
      if (!(error instanceof TollgateError) || error.code !== LOG_INCOMPLETE_CODE) throw error;
      return { index, size: checkpoint.size, leafHash: '', rootHash: merkle.toHex(checkpoint.rootHash), proof: [] };
    });
    const key = parseVerifierKey(await this.publicKey(tenantId));
    let signed = false;
    try {
      signed = merkle.bytesEqual(openCheckpoint(checkpoint.note, key).rootHash, checkpoint.rootHash);
    } catch {
      signed = false;
    }
    const included = merkle.verifyInclusion(leaf, index, checkpoint.size, proof.proof.map(merkle.fromHex), checkpoint.rootHash);
    const verified = signed && included && merkle.toHex(leaf) === proof.leafHash;
    return { ...proof, leafHash: merkle.toHex(leaf), recordId: index, verified, checkpoint: checkpoint.note, chain_valid: verified, verified_at: new Date(now).toISOString(), anchor_tx_hash: null };
  }

  /**
   * Everything `tollgate audit verify` needs as one JSON document (v1): all records, every checkpoint, the public key.
   * Built in memory, so refused (`LEDGER_BUNDLE_TOO_LARGE`) for logs larger than `maxJsonBundleRecords`: use
   * {@link bundleLines}.
   */
  async bundle(tenantId: string): Promise<LedgerBundle> {
    const latest = await this.#checkpoints.latest(tenantId, true);
    const max = this.options.maxJsonBundleRecords ?? DEFAULT_MAX_JSON_BUNDLE_RECORDS;
    if (latest.size > max) {
      throw new TollgateError('LEDGER_BUNDLE_TOO_LARGE', `the log holds ${latest.size} records, more than a one-document bundle may (${max}, TOLLGATE_AUDIT_BUNDLE_JSON_MAX_RECORDS): export it as JSON Lines (GET /api/v1/audit/bundle?format=jsonl, tollgate audit export --format jsonl)`, {
        details: { size: latest.size, max },
      });
    }
    const records = [];
    for (let after = -1; after < latest.size - 1; ) {
      const page = await this.options.store.ledger.records(tenantId, { afterIndex: after }, Math.min(10_000, latest.size - 1 - after));
      if (page.length === 0) break;
      records.push(...page.map(parseStoredRecord));
      after = page.at(-1)!.index;
    }
    const checkpoints = (await this.options.store.ledger.checkpoints(tenantId, latest.size)).map((cp) => cp.note);
    return { format: BUNDLE_FORMAT, origin: this.originOf(tenantId), publicKey: await this.publicKey(tenantId), records, checkpoints };
  }

  /**
   * A streaming bundle (v2, JSON Lines, `docs/ledger.md`) of records [`from`, size): signs a checkpoint covering every
   * record first, then reads the store page by page while the lines are consumed, so memory stays bounded whatever
   * the log's size. `from` defaults to 0; a bundle that starts at the size of a checkpoint kept from an earlier
   * export lets the verifier check, from the frontier in its header, that the log still extends that checkpoint.
   * Throws `LEDGER_RANGE_INVALID` for a `from` beyond the log, `CONFLICT` when stored rows are missing.
   *
   * @example
   * const { to, lines } = await ledger.bundleLines('acme', { from: keptCheckpointSize });
   * for await (const line of lines) out.write(`${line}\n`);
   */
  async bundleLines(tenantId: string, options: { from?: number; pageSize?: number } = {}): Promise<BundleStream> {
    await this.flush();
    const latest = await this.#checkpoints.latest(tenantId, true);
    const from = options.from ?? 0;
    const to = latest.size;
    if (!Number.isSafeInteger(from) || from < 0 || from > to) {
      throw new TollgateError('LEDGER_RANGE_INVALID', `a bundle cannot start at record ${from}: the log holds ${to} records`, { details: { from, size: to } });
    }
    const header = bundleHeaderLine({
      format: BUNDLE_STREAM_FORMAT,
      origin: this.originOf(tenantId),
      publicKey: await this.publicKey(tenantId),
      from,
      to,
      frontier: await frontierFromStore(this.#native, tenantId, from),
    });
    const repo = this.options.store.ledger;
    const pageSize = options.pageSize ?? BUNDLE_PAGE_RECORDS;
    async function* lines(): AsyncGenerator<string> {
      yield header;
      for (const checkpoint of await repo.checkpoints(tenantId, from, from)) yield bundleCheckpointLine(checkpoint.note);
      for (let after = from - 1; after < to - 1; ) {
        const page = await repo.records(tenantId, { afterIndex: after }, Math.min(pageSize, to - 1 - after));
        const last = page.at(-1)?.index;
        // A missing tail: the verifier reports the bundle incomplete; saying so here gives the reason.
        if (last === undefined) throw new TollgateError(LOG_INCOMPLETE_CODE, `records ${after + 1}..${to - 1} are missing from the stored log`);
        // Each checkpoint right after the record that completes it (the v2 verifier checks it there).
        const checkpoints = await repo.checkpoints(tenantId, last + 1, after + 2);
        let next = 0;
        for (const row of page) {
          yield bundleRecordLine(parseStoredRecord(row));
          while (next < checkpoints.length && (checkpoints[next] as StoredCheckpoint).size <= row.index + 1) {
            yield bundleCheckpointLine((checkpoints[next] as StoredCheckpoint).note);
            next += 1;
          }
        }
        after = last;
      }
    }
    return { from, to, lines: lines() };
  }

  /**
   * Accept witness cosignatures: `note` is one of our checkpoints with the witness's cosignature line(s).
   * Returns the witnesses whose cosignature verified and was stored.
   */
  async addCosignatures(tenantId: string, note: string): Promise<{ size: number; accepted: string[] }> {
    const parsed = parseSignedNote(note);
    const checkpoint = parseCheckpoint(parsed.text);
    const stored = (await this.options.store.ledger.checkpoints(tenantId, checkpoint.size, checkpoint.size)).at(-1);
    if (!stored || stored.size !== checkpoint.size || parseSignedNote(stored.note).text !== parsed.text) {
      throw new TollgateError('NOT_FOUND', `no checkpoint of this log with that size and root`);
    }
    const known = parsed.signatures.filter((sig) => this.#witnesses.some((w) => w.name === sig.name));
    if (known.length === 0) throw new TollgateError('LEDGER_WITNESS_UNKNOWN', 'no cosignature from a configured witness');
    const accepted: string[] = [];
    for (const sig of known) {
      const witness = this.#witnesses.find((w) => w.name === sig.name) as NoteKey;
      const timestamp = verifyCosignature(parsed.text, sig, witness, { now: this.options.clock.now() });
      if (timestamp === null) throw new TollgateError('LEDGER_COSIGNATURE_INVALID', `cosignature of ${sig.name} does not verify`);
      // Stored as re-encoded from the verified signature, not copied from the note (which may repeat a name).
      const line = `\u2014 ${sig.name} ${merkle.toBase64(Buffer.concat([sig.keyId, sig.signature]))}`;
      const cosig = { size: checkpoint.size, witness: sig.name, signatureLine: line, signedAt: timestamp * 1000 };
      await this.options.store.ledger.insertCosignature(tenantId, cosig, this.options.clock.now());
      accepted.push(sig.name);
    }
    return { size: checkpoint.size, accepted };
  }

  /** Listen for committed records (all tenants); returns the unsubscribe function. */
  onAppended(listener: (event: { tenantId: string; firstIndex: number; size: number }) => void): () => void {
    return this.options.bus.subscribe(LEDGER_APPENDED_CHANNEL, (payload) => listener(payload as { tenantId: string; firstIndex: number; size: number }));
  }

  async #view(tenantId: string, checkpoint: StoredCheckpoint): Promise<CheckpointView> {
    // A stored cosignature whose time is no date (accepted before core refused implausible times, or written
    // directly) is left out of the view and of the note: `toISOString` threw on it, so every checkpoint read
    // answered 500, and no verifier accepts such a cosignature anyway.
    const cosignatures = (await this.options.store.ledger.cosignatures(tenantId, checkpoint.size))
      .flatMap((c) => {
        const signedAt = isoTimeOrNull(c.signedAt);
        return signedAt === null ? [] : [{ ...c, signedAt }];
      });
    return {
      origin: this.originOf(tenantId),
      size: checkpoint.size,
      rootHash: merkle.toHex(checkpoint.rootHash),
      note: withCosignatures(checkpoint.note, cosignatures.map((c) => c.signatureLine)),
      publicKey: await this.publicKey(tenantId),
      createdAt: new Date(checkpoint.createdAt).toISOString(),
      cosignatures: cosignatures.map((c) => ({ witness: c.witness, signedAt: c.signedAt })),
    };
  }

  async #latestSize(tenantId: string): Promise<number> {
    return (await this.options.store.ledger.latestCheckpoint(tenantId))?.size ?? 0;
  }

  async #assertStored(tenantId: string, size: number): Promise<void> {
    await this.flush();
    const stored = await this.options.store.ledger.size(tenantId);
    if (!Number.isSafeInteger(size) || size > stored) {
      throw new TollgateError('LEDGER_RANGE_INVALID', `the log has ${stored} records; size ${size} is out of range`);
    }
  }

  #afterCommit(batch: CommittedBatch): void {
    const report = this.options.reportError ?? (() => undefined);
    this.options.metrics?.ledgerAppended(batch.size - batch.firstIndex);
    void this.options.bus.publish(LEDGER_APPENDED_CHANNEL, { tenantId: batch.tenantId, firstIndex: batch.firstIndex, size: batch.size }).catch(report);
    if (!batch.joinedOuterTransaction) {
      this.#checkpoints.afterCommit(batch.tenantId, batch.size, batch.frontier.root()).catch((error: unknown) => this.#checkpointFailed(error));
    }
  }

  async #timedCheckpoints(): Promise<void> {
    const sizes = new Map<string, { size: number; root: Uint8Array }>();
    for (const [tenantId, frontier] of this.#queue.frontiers()) sizes.set(tenantId, { size: frontier.size, root: frontier.root() });
    await this.#checkpoints.signPending(sizes).catch((error: unknown) => this.#checkpointFailed(error));
  }

  #checkpointFailed(error: unknown): void {
    this.options.metrics?.checkpointFailed();
    this.options.reportError?.(error);
  }
}

/** An epoch-millisecond time as ISO 8601, or null when it is no representable date (beyond ±8.64e15 ms, NaN). */
function isoTimeOrNull(ms: number): string | null {
  const date = new Date(ms);
  return Number.isSafeInteger(ms) && !Number.isNaN(date.getTime()) ? date.toISOString() : null;
}
