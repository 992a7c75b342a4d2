// Offline verification of an exported ledger: trust nothing in the bundle except what the given
// public key signed. Rebuild the tree from the records, check every checkpoint's signature and root,
// consistency between consecutive checkpoints, and that the log did not roll back from a checkpoint
// the caller kept from earlier.
import { decodeUtf8Strict, toHex, utf8Bytes } from './encoding.js';
import { findJsonAmbiguities } from './json-ambiguity.js';
import { hashLeaf } from './merkle-hash.js';
import { MemoryMerkleTree } from './merkle-frontier.js';
import { consistencyProof, rootHash } from './merkle-tree.js';
import { verifyConsistency } from './merkle-verify.js';
import { openCheckpoint } from './checkpoint.js';
import type { Checkpoint } from './checkpoint.js';
import { recordLeafHash } from './record.js';
import type { LedgerRecord } from './record.js';
import { bytesEqual } from './encoding.js';
import { parseVerifierKey } from './signed-note.js';
import type { NoteKey } from './signed-note.js';

/** Format tag of exported bundles. */
export const BUNDLE_FORMAT = 'tollgate-ledger-bundle/v1';

/** What `tollgate audit export` writes. */
export interface LedgerBundle {
  readonly format: typeof BUNDLE_FORMAT;
  /** Checkpoint origin (also the log key's name). */
  readonly origin: string;
  /** The log's verifier key (C2SP vkey). Pin it with `expectedPublicKey` to detect a swapped key. */
  readonly publicKey: string;
  readonly records: readonly LedgerRecord[];
  /** Signed checkpoint notes, ascending by size. */
  readonly checkpoints: readonly string[];
}

/** One thing wrong with a bundle. */
export interface BundleProblem {
  readonly code:
    | 'BUNDLE_MALFORMED'
    | 'BUNDLE_AMBIGUOUS'
    | 'PUBLIC_KEY_MISMATCH'
    | 'ORIGIN_MISMATCH'
    | 'RECORD_OUT_OF_ORDER'
    | 'CHECKPOINT_SIGNATURE_INVALID'
    | 'CHECKPOINT_BEYOND_RECORDS'
    | 'CHECKPOINT_ROOT_MISMATCH'
    | 'CHECKPOINTS_INCONSISTENT'
    | 'CHECKPOINTS_OUT_OF_ORDER'
    | 'RECORDS_UNSIGNED'
    | 'TRUSTED_CHECKPOINT_INVALID'
    | 'ROLLBACK'
    /** v2 only: the header announces more (or fewer) records than the bundle holds (a cut download). */
    | 'BUNDLE_INCOMPLETE'
    /** v2 only: the bundle starts after the trusted checkpoint, so it cannot show that the log extends it. */
    | 'TRUSTED_CHECKPOINT_BEFORE_BUNDLE';
  readonly message: string;
}

/** Result of {@link verifyBundle}. `ok` means no problems. */
export interface BundleVerification {
  readonly ok: boolean;
  readonly size: number;
  readonly rootHash: string;
  readonly checkpointsVerified: number;
  /** Records after the last valid checkpoint: present, but not covered by any signature (a problem when > 0). */
  readonly uncovered: number;
  readonly problems: readonly BundleProblem[];
}

/** Options of {@link verifyBundle}. */
export interface VerifyBundleOptions {
  /** A signed checkpoint kept from earlier; the bundle must extend it. */
  readonly trustedCheckpoint?: string;
  /** The log's verifier key as known out of band; the bundle's own key must equal it. */
  readonly expectedPublicKey?: string;
}

type Problems = BundleProblem[];

/**
 * Verify an exported ledger bundle offline.
 * @example
 * const result = verifyBundle(JSON.parse(readFileSync('audit.json', 'utf8')), { trustedCheckpoint });
 * if (!result.ok) console.error(result.problems);
 */
export function verifyBundle(bundle: LedgerBundle, options: VerifyBundleOptions = {}): BundleVerification {
  const problems: Problems = [];
  const key = resolveKey(bundle, options, problems);
  const tree = key === undefined ? new MemoryMerkleTree() : rebuild(bundle.records, problems);
  const checkpoints = key === undefined ? [] : openAll(bundle, key, tree, problems);
  checkChain(checkpoints, tree, problems);
  if (key !== undefined && options.trustedCheckpoint !== undefined) {
    checkTrusted(options.trustedCheckpoint, key, checkpoints, tree, problems);
  }
  const covered = checkpoints.reduce((max, cp) => Math.max(max, cp.size), 0);
  // The server signs a checkpoint covering every record before it exports, so records past the last checkpoint
  // are records nobody signed: appended to the file, or a log whose checkpoints were stripped.
  if (key !== undefined && tree.size > covered) {
    problems.push({ code: 'RECORDS_UNSIGNED', message: `records ${covered}..${tree.size - 1} are not covered by any signed checkpoint in the bundle` });
  }
  return {
    ok: problems.length === 0,
    size: tree.size,
    rootHash: toHex(tree.root()),
    checkpointsVerified: checkpoints.length,
    uncovered: tree.size - covered,
    problems,
  };
}

/**
 * Verify a bundle file's text: {@link verifyBundle}, plus the spellings JSON parsers disagree on (repeated keys,
 * numbers not in canonical form), which JSON.parse would silently settle and the hashes would never see. Give the
 * file's bytes rather than text you decoded: bytes that are not UTF-8 are then `BUNDLE_MALFORMED`, where a lenient
 * decoder (`readFileSync(path, 'utf8')`) would have turned them into U+FFFD and verified another text than the file.
 * @example const result = verifyBundleText(readFileSync('audit.json'), { expectedPublicKey });
 */
export function verifyBundleText(file: string | Uint8Array, options: VerifyBundleOptions = {}): BundleVerification {
  let text: string;
  let bundle: LedgerBundle;
  try {
    text = typeof file === 'string' ? file : decodeUtf8Strict(file);
  } catch {
    return unreadable({ code: 'BUNDLE_MALFORMED', message: 'not UTF-8 text: a byte sequence is not valid UTF-8' });
  }
  try {
    bundle = JSON.parse(text) as LedgerBundle;
  } catch (error) {
    return unreadable({ code: 'BUNDLE_MALFORMED', message: `not JSON: ${(error as Error).message}` });
  }
  const result = verifyBundle(bundle, options);
  const ambiguous = findJsonAmbiguities(text).map((message): BundleProblem => ({ code: 'BUNDLE_AMBIGUOUS', message }));
  return ambiguous.length === 0 ? result : { ...result, ok: false, problems: [...result.problems, ...ambiguous] };
}

function unreadable(problem: BundleProblem): BundleVerification {
  return { ok: false, size: 0, rootHash: toHex(new MemoryMerkleTree().root()), checkpointsVerified: 0, uncovered: 0, problems: [problem] };
}

function resolveKey(bundle: LedgerBundle, options: VerifyBundleOptions, problems: Problems): NoteKey | undefined {
  if (bundle?.format !== BUNDLE_FORMAT || !Array.isArray(bundle.records) || !Array.isArray(bundle.checkpoints)) {
    problems.push({ code: 'BUNDLE_MALFORMED', message: `not a ledger bundle (a ${BUNDLE_FORMAT} document, or tollgate-ledger-bundle/v2 JSON Lines)` });
    return undefined;
  }
  try {
    const key = parseVerifierKey(options.expectedPublicKey ?? bundle.publicKey);
    if (options.expectedPublicKey !== undefined && options.expectedPublicKey.trim() !== String(bundle.publicKey).trim()) {
      problems.push({ code: 'PUBLIC_KEY_MISMATCH', message: 'the bundle names a different public key than expected' });
    }
    // One server key signs every tenant's log, each under its own origin as key name: the origin line, checked
    // against the key's name (never against the bundle's say-so), is what keeps one tenant's checkpoints from
    // vouching for another's records.
    if (bundle.origin !== key.name) {
      problems.push({ code: 'ORIGIN_MISMATCH', message: `the bundle says origin ${String(bundle.origin)}, its key is for ${key.name}` });
    }
    return key;
  } catch (error) {
    problems.push({ code: 'BUNDLE_MALFORMED', message: `bad public key: ${(error as Error).message}` });
    return undefined;
  }
}

function rebuild(records: readonly LedgerRecord[], problems: Problems): MemoryMerkleTree {
  const tree = new MemoryMerkleTree();
  records.forEach((record, position) => {
    if (record?.index !== position) {
      problems.push({ code: 'RECORD_OUT_OF_ORDER', message: `record at position ${position} says index ${String(record?.index)}` });
    }
    try {
      tree.append(recordLeafHash(record));
    } catch (error) {
      // A value canonical JSON refuses (1e400 parses as Infinity, a lone surrogate escape): no server wrote it.
      problems.push({ code: 'BUNDLE_MALFORMED', message: `record at position ${position} cannot be hashed: ${(error as Error).message}` });
      tree.append(hashLeaf(utf8Bytes(`unhashable record ${position}`)));
    }
  });
  return tree;
}

function openAll(bundle: LedgerBundle, key: NoteKey, tree: MemoryMerkleTree, problems: Problems): Checkpoint[] {
  const opened: Checkpoint[] = [];
  bundle.checkpoints.forEach((note, position) => {
    let checkpoint: Checkpoint;
    try {
      checkpoint = openCheckpoint(note, key, key.name);
    } catch (error) {
      problems.push({ code: 'CHECKPOINT_SIGNATURE_INVALID', message: `checkpoint ${position}: ${(error as Error).message}` });
      return;
    }
    if (checkpoint.size > tree.size) {
      problems.push({ code: 'CHECKPOINT_BEYOND_RECORDS', message: `checkpoint ${position} covers ${checkpoint.size} records; the bundle has ${tree.size}` });
    } else if (!bytesEqual(rootHash(tree, checkpoint.size), checkpoint.rootHash)) {
      problems.push({ code: 'CHECKPOINT_ROOT_MISMATCH', message: `records 0..${checkpoint.size - 1} do not hash to the root signed in checkpoint ${position}` });
    }
    opened.push(checkpoint);
  });
  return opened;
}

/** Consecutive checkpoints must grow and be consistent (proof computed from the rebuilt tree). */
function checkChain(checkpoints: readonly Checkpoint[], tree: MemoryMerkleTree, problems: Problems): void {
  for (let i = 1; i < checkpoints.length; i++) {
    const previous = checkpoints[i - 1] as Checkpoint;
    const current = checkpoints[i] as Checkpoint;
    if (current.size < previous.size) {
      problems.push({ code: 'CHECKPOINTS_OUT_OF_ORDER', message: `checkpoint ${i} (size ${current.size}) is smaller than checkpoint ${i - 1}` });
      continue;
    }
    if (!consistentWithTree(previous, current, tree)) {
      problems.push({ code: 'CHECKPOINTS_INCONSISTENT', message: `checkpoints ${i - 1} and ${i} are not consistent` });
    }
  }
}

function consistentWithTree(older: Checkpoint, newer: Checkpoint, tree: MemoryMerkleTree): boolean {
  if (newer.size > tree.size) return false;
  const proof = consistencyProof(older.size, newer.size, tree);
  return verifyConsistency(older.size, newer.size, older.rootHash, newer.rootHash, proof);
}

function checkTrusted(
  note: string,
  key: NoteKey,
  checkpoints: readonly Checkpoint[],
  tree: MemoryMerkleTree,
  problems: Problems,
): void {
  let trusted: Checkpoint;
  try {
    trusted = openCheckpoint(note, key, key.name);
  } catch (error) {
    problems.push({ code: 'TRUSTED_CHECKPOINT_INVALID', message: (error as Error).message });
    return;
  }
  const latest = checkpoints.reduce<Checkpoint | undefined>((max, cp) => (max === undefined || cp.size > max.size ? cp : max), undefined);
  if (trusted.size > tree.size || (latest !== undefined && trusted.size > latest.size)) {
    problems.push({ code: 'ROLLBACK', message: `the log is smaller than the trusted checkpoint (size ${trusted.size})` });
  } else if (!bytesEqual(rootHash(tree, trusted.size), trusted.rootHash)) {
    problems.push({ code: 'ROLLBACK', message: `the first ${trusted.size} records no longer hash to the trusted root: history was rewritten` });
  } else if (latest !== undefined && !consistentWithTree(trusted, latest, tree)) {
    problems.push({ code: 'ROLLBACK', message: 'the latest checkpoint is not consistent with the trusted one' });
  }
}
