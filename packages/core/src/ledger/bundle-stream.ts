// Streaming, incremental ledger bundles (format v2, JSON Lines). A v1 bundle is one JSON document holding the whole
// log, which no process can build or read once the log is large (a JavaScript string holds at most ~512 MB: about a
// million records). A v2 bundle is one JSON value per line, written and verified one line at a time in O(log n)
// memory, and it may start anywhere: its header carries the Merkle frontier of the log before its first record, so
// an export that continues from a checkpoint kept earlier proves, without the earlier records, that the log still
// extends that checkpoint.
//
//   {"format":"tollgate-ledger-bundle/v2","origin":…,"publicKey":…,"from":A,"to":B,"frontier":["hex",…]}
//   {"checkpoint":"<signed note of size A>"}      (when the log has one at A)
//   {"record":{"index":A,…}}
//   …
//   {"checkpoint":"<signed note>"}                (right after the record that completes it)
//   {"record":{"index":B-1,…}}
//   {"checkpoint":"<signed note of size B>"}      (always: the export signs one covering every record first)
//
// The frontier is not trusted: the records appended to it must hash to the roots the checkpoints sign, so a forged
// frontier fails at the first checkpoint after it, and the one at A (or a trusted checkpoint of size A) checks it
// directly.
import { bytesEqual, decodeUtf8Strict, fromHex, toHex, utf8Bytes } from './encoding.js';
import { findJsonAmbiguities } from './json-ambiguity.js';
import { hashLeaf, HASH_SIZE } from './merkle-hash.js';
import { MerkleFrontier } from './merkle-frontier.js';
import type { MerkleNode } from './merkle-frontier.js';
import { rangeNodes } from './merkle-ranges.js';
import { openCheckpoint } from './checkpoint.js';
import type { Checkpoint } from './checkpoint.js';
import { recordLeafHash } from './record.js';
import type { LedgerRecord } from './record.js';
import { parseVerifierKey } from './signed-note.js';
import type { NoteKey } from './signed-note.js';
import type { BundleProblem, BundleVerification, VerifyBundleOptions } from './bundle.js';

/** Format tag of streaming (JSON Lines) bundles. */
export const BUNDLE_STREAM_FORMAT = 'tollgate-ledger-bundle/v2';

/** Most problems a streaming verification lists; the rest are counted in `problemsOmitted`. */
export const MAX_STREAM_PROBLEMS = 100;

/** The first line of a v2 bundle. */
export interface BundleStreamHeader {
  readonly format: typeof BUNDLE_STREAM_FORMAT;
  /** Checkpoint origin (also the log key's name). */
  readonly origin: string;
  /** The log's verifier key (C2SP vkey). */
  readonly publicKey: string;
  /** Index of the first record in the bundle (= the size of the log before it). */
  readonly from: number;
  /** Size of the log at the end of the bundle (its last checkpoint's size). */
  readonly to: number;
  /** Hex hashes of the perfect subtrees covering records [0, from), largest first (RFC 9162 compact range). */
  readonly frontier: readonly string[];
}

/** Result of a streaming verification. */
export interface BundleStreamVerification extends BundleVerification {
  /** The index the bundle starts at (0 for a whole log). */
  readonly from: number;
  /** Problems found beyond the {@link MAX_STREAM_PROBLEMS} listed. */
  readonly problemsOmitted: number;
}

/**
 * The header line of a v2 bundle.
 * @example bundleHeaderLine({ format: BUNDLE_STREAM_FORMAT, origin, publicKey, from: 0, to: 20, frontier: [] })
 */
export function bundleHeaderLine(header: BundleStreamHeader): string {
  return JSON.stringify(header);
}

/** A record line of a v2 bundle. */
export function bundleRecordLine(record: LedgerRecord): string {
  return JSON.stringify({ record });
}

/** A checkpoint line of a v2 bundle. */
export function bundleCheckpointLine(note: string): string {
  return JSON.stringify({ checkpoint: note });
}

/**
 * A bundle's lines as text to write, each followed by a line break, joined into chunks of about `size` characters (a
 * write per record would cost more than the record).
 *
 * @example for await (const chunk of bundleChunks(lines)) out.write(chunk);
 */
export async function* bundleChunks(lines: AsyncIterable<string>, size = 65_536): AsyncGenerator<string> {
  let chunk = '';
  for await (const line of lines) {
    chunk += `${line}\n`;
    if (chunk.length >= size) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}

/**
 * The frontier a v2 header carries for a log of `size` records, from any node reader (hashes of perfect subtrees).
 * @example frontierHashes(1000, reader) // 6 hex hashes (1000 = 512 + 256 + 128 + 64 + 32 + 8)
 */
export function frontierHashes(size: number, reader: { node(level: number, index: number): Uint8Array }): string[] {
  return rangeNodes({ start: 0, end: size }).map((id) => toHex(reader.node(id.level, id.index)));
}

/**
 * Verifies a v2 bundle one line at a time, in O(log n) memory: feed every line with {@link line}, then call
 * {@link finish}. Lines that are empty are ignored. What it checks: the header (format, key, origin, frontier shape),
 * every record's index and hash, every checkpoint's signature and that it sits right after the record that completes
 * it with the root the records hash to (so consecutive checkpoints are consistent by construction), that the bundle
 * ends with a signed checkpoint covering every record and at the size its header announced, the spellings JSON
 * parsers disagree on (per line), and, with `trustedCheckpoint`, that the log extends it.
 *
 * @example
 * const verifier = new BundleStreamVerifier({ trustedCheckpoint });
 * for await (const line of lines) verifier.line(line);
 * const result = verifier.finish();
 */
export class BundleStreamVerifier {
  readonly #options: VerifyBundleOptions;
  readonly #problems: BundleProblem[] = [];
  #omitted = 0;
  #lineNumber = 0;
  #header: BundleStreamHeader | undefined;
  #key: NoteKey | undefined;
  #frontier = new MerkleFrontier();
  /** Set when the bundle cannot be read any further (no header, a bad key): later lines are not looked at. */
  #stopped = false;
  #checkpointsVerified = 0;
  /**
   * Size of the last checkpoint with a valid signature at its place (its root may still mismatch, which is reported
   * as such: the records are signed for, just not these ones).
   */
  #signedSize: number | undefined;
  #trusted: Checkpoint | undefined;
  #trustedChecked = false;

  constructor(options: VerifyBundleOptions = {}) {
    this.#options = options;
  }

  /** Records read so far (the log's size at this point of the bundle). */
  get size(): number {
    return this.#frontier.size;
  }

  /** The header, once read. */
  get header(): BundleStreamHeader | undefined {
    return this.#header;
  }

  /**
   * Feeds the next line (without its line break). Give bytes rather than text you decoded: bytes that are not UTF-8
   * are then `BUNDLE_MALFORMED`, not U+FFFD in a text other than the file's.
   */
  line(input: string | Uint8Array): void {
    this.#lineNumber += 1;
    if (this.#stopped) return;
    let text: string;
    try {
      text = typeof input === 'string' ? input : decodeUtf8Strict(input);
    } catch {
      this.#problem('BUNDLE_MALFORMED', `line ${this.#lineNumber} is not valid UTF-8`);
      if (this.#header === undefined) this.#stopped = true;
      return;
    }
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.#problem('BUNDLE_MALFORMED', `line ${this.#lineNumber} is not JSON: ${(error as Error).message}`);
      if (this.#header === undefined) this.#stopped = true;
      return;
    }
    for (const message of findJsonAmbiguities(text)) this.#problem('BUNDLE_AMBIGUOUS', `line ${this.#lineNumber}: ${message}`);
    if (this.#header === undefined) {
      this.#readHeader(value);
      return;
    }
    const entry = value as { record?: unknown; checkpoint?: unknown } | null;
    const keys = entry !== null && typeof entry === 'object' && !Array.isArray(entry) ? Object.keys(entry) : [];
    if (keys.length === 1 && keys[0] === 'record') this.#readRecord(entry!.record as LedgerRecord);
    else if (keys.length === 1 && keys[0] === 'checkpoint' && typeof entry!.checkpoint === 'string') this.#readCheckpoint(entry!.checkpoint);
    else this.#problem('BUNDLE_MALFORMED', `line ${this.#lineNumber} is neither {"record": …} nor {"checkpoint": "…"}`);
  }

  /** Records that the input could not be read to its end (e.g. a line too long, a read error). */
  fail(message: string): void {
    this.#problem('BUNDLE_MALFORMED', message);
    this.#stopped = true;
  }

  /** The verdict once every line was fed. */
  finish(): BundleStreamVerification {
    const header = this.#header;
    if (header === undefined) {
      if (this.#problems.length === 0) this.#problem('BUNDLE_MALFORMED', 'empty: no header line');
    } else if (this.#key !== undefined && !this.#stopped) {
      const size = this.#frontier.size;
      const signed = this.#signedSize;
      if (size > 0 && signed === undefined) {
        this.#problem('RECORDS_UNSIGNED', size > header.from
          ? `no signed checkpoint in the bundle covers records ${header.from}..${size - 1}`
          : `no signed checkpoint in the bundle covers the log of ${size} records its frontier stands for`);
      } else if (signed !== undefined && signed < size) {
        this.#problem('RECORDS_UNSIGNED', `records ${signed}..${size - 1} are not covered by any signed checkpoint in the bundle`);
      }
      if (size !== header.to) this.#problem('BUNDLE_INCOMPLETE', `the header announces a log of ${header.to} records; the bundle ends at ${size}`);
      const trusted = this.#trusted;
      if (trusted !== undefined && !this.#trustedChecked && trusted.size > size) {
        this.#problem('ROLLBACK', `the log is smaller than the trusted checkpoint (size ${trusted.size})`);
      }
    }
    const size = this.#frontier.size;
    return {
      ok: this.#problems.length === 0,
      size,
      rootHash: toHex(this.#frontier.root()),
      checkpointsVerified: this.#checkpointsVerified,
      uncovered: Math.max(0, size - Math.max(this.#signedSize ?? 0, header?.from ?? 0)),
      problems: this.#problems,
      from: header?.from ?? 0,
      problemsOmitted: this.#omitted,
    };
  }

  #readHeader(value: unknown): void {
    const header = value as Partial<BundleStreamHeader> | null;
    this.#stopped = true;
    if (header === null || typeof header !== 'object' || header.format !== BUNDLE_STREAM_FORMAT) {
      this.#problem('BUNDLE_MALFORMED', `line ${this.#lineNumber}: not a ${BUNDLE_STREAM_FORMAT} header`);
      return;
    }
    const { from, to, frontier } = header;
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || (from as number) < 0 || (to as number) < (from as number)) {
      this.#problem('BUNDLE_MALFORMED', `header: from and to must be integers with 0 <= from <= to (got ${String(from)}, ${String(to)})`);
      return;
    }
    const ids = rangeNodes({ start: 0, end: from as number });
    if (!Array.isArray(frontier) || frontier.length !== ids.length || !frontier.every((hash) => typeof hash === 'string' && /^[0-9a-f]+$/.test(hash) && hash.length === HASH_SIZE * 2)) {
      this.#problem('BUNDLE_MALFORMED', `header: a log of ${String(from)} records has a frontier of ${ids.length} hex SHA-256 hashes`);
      return;
    }
    const nodes: MerkleNode[] = ids.map((id, i) => ({ ...id, hash: fromHex(frontier[i] as string) }));
    this.#frontier = new MerkleFrontier(from as number, nodes);
    this.#header = header as BundleStreamHeader;
    this.#key = this.#resolveKey(header as BundleStreamHeader);
    if (this.#key === undefined) return;
    this.#stopped = false;
    if (this.#options.trustedCheckpoint !== undefined) this.#openTrusted(this.#options.trustedCheckpoint, this.#key, from as number);
  }

  #resolveKey(header: BundleStreamHeader): NoteKey | undefined {
    const expected = this.#options.expectedPublicKey;
    try {
      const key = parseVerifierKey(expected ?? header.publicKey);
      if (expected !== undefined && expected.trim() !== String(header.publicKey).trim()) {
        this.#problem('PUBLIC_KEY_MISMATCH', 'the bundle names a different public key than expected');
      }
      // As in v1: the origin is checked against the key's name, never against the bundle's say-so.
      if (header.origin !== key.name) this.#problem('ORIGIN_MISMATCH', `the bundle says origin ${String(header.origin)}, its key is for ${key.name}`);
      return key;
    } catch (error) {
      this.#problem('BUNDLE_MALFORMED', `bad public key: ${(error as Error).message}`);
      return undefined;
    }
  }

  #openTrusted(note: string, key: NoteKey, from: number): void {
    try {
      this.#trusted = openCheckpoint(note, key, key.name);
    } catch (error) {
      this.#problem('TRUSTED_CHECKPOINT_INVALID', (error as Error).message);
      return;
    }
    if (this.#trusted.size < from) {
      this.#trustedChecked = true;
      this.#problem('TRUSTED_CHECKPOINT_BEFORE_BUNDLE', `the bundle starts at record ${from}, after the trusted checkpoint (size ${this.#trusted.size}): export from that checkpoint (tollgate audit export --from-checkpoint) to check the log extends it`);
      return;
    }
    this.#checkTrustedAtSize();
  }

  /** Compares the root so far with the trusted checkpoint when the bundle has reached its size. */
  #checkTrustedAtSize(): void {
    const trusted = this.#trusted;
    if (trusted === undefined || this.#trustedChecked || trusted.size !== this.#frontier.size) return;
    this.#trustedChecked = true;
    if (!bytesEqual(this.#frontier.root(), trusted.rootHash)) {
      this.#problem('ROLLBACK', `the first ${trusted.size} records no longer hash to the trusted root: history was rewritten`);
    }
  }

  #readRecord(record: LedgerRecord): void {
    const position = this.#frontier.size;
    if (record === null || typeof record !== 'object' || record.index !== position) {
      this.#problem('RECORD_OUT_OF_ORDER', `line ${this.#lineNumber}: the record at index ${position} says index ${String((record as LedgerRecord | null)?.index)}`);
    }
    try {
      this.#frontier.append(recordLeafHash(record));
    } catch (error) {
      // A value canonical JSON refuses (1e400, a lone surrogate escape): no server wrote it.
      this.#problem('BUNDLE_MALFORMED', `line ${this.#lineNumber}: the record at index ${position} cannot be hashed: ${(error as Error).message}`);
      this.#frontier.append(hashLeaf(utf8Bytes(`unhashable record ${position}`)));
    }
    this.#checkTrustedAtSize();
  }

  #readCheckpoint(note: string): void {
    const key = this.#key as NoteKey;
    let checkpoint: Checkpoint;
    try {
      checkpoint = openCheckpoint(note, key, key.name);
    } catch (error) {
      this.#problem('CHECKPOINT_SIGNATURE_INVALID', `line ${this.#lineNumber}: ${(error as Error).message}`);
      return;
    }
    const size = this.#frontier.size;
    if (checkpoint.size > size) {
      this.#problem('CHECKPOINT_BEYOND_RECORDS', `line ${this.#lineNumber}: the checkpoint covers ${checkpoint.size} records; ${size} precede it`);
    } else if (checkpoint.size < size) {
      this.#problem('CHECKPOINTS_OUT_OF_ORDER', `line ${this.#lineNumber}: the checkpoint of size ${checkpoint.size} follows record ${size - 1}; each checkpoint comes right after the record that completes it`);
    } else {
      this.#signedSize = size;
      if (bytesEqual(this.#frontier.root(), checkpoint.rootHash)) this.#checkpointsVerified += 1;
      else this.#problem('CHECKPOINT_ROOT_MISMATCH', `line ${this.#lineNumber}: records 0..${size - 1} do not hash to the root signed in the checkpoint of size ${size}`);
    }
  }

  #problem(code: BundleProblem['code'], message: string): void {
    if (this.#problems.length >= MAX_STREAM_PROBLEMS) this.#omitted += 1;
    else this.#problems.push({ code, message });
  }
}

/**
 * Verifies a v2 bundle from its lines (any iterable, e.g. a file read line by line), as text or as bytes (decoded as
 * strict UTF-8, see {@link BundleStreamVerifier.line}). An error thrown by the iterable (a read error, a line too long)
 * is reported as `BUNDLE_MALFORMED`, never as a verified bundle.
 *
 * @example
 * const result = await verifyBundleLines(readLines(createReadStream('audit.jsonl')), { trustedCheckpoint });
 */
export async function verifyBundleLines(
  lines: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>,
  options: VerifyBundleOptions & { onProgress?: (size: number, header: BundleStreamHeader | undefined) => void } = {},
): Promise<BundleStreamVerification> {
  const verifier = new BundleStreamVerifier(options);
  try {
    for await (const text of lines) {
      verifier.line(text);
      if (options.onProgress !== undefined && verifier.size % 10_000 === 0) options.onProgress(verifier.size, verifier.header);
    }
  } catch (error) {
    verifier.fail(`the bundle could not be read to its end: ${(error as Error).message}`);
  }
  return verifier.finish();
}
