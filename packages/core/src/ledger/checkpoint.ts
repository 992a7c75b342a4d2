// C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint) bodies and C2SP tlog-cosignature
// (https://c2sp.org/tlog-cosignature) Ed25519 cosignatures over them.
import { createHash, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { TollgateError } from '../errors.js';
import { bytesEqual, concatBytes, fromBase64, toBase64, utf8Bytes } from './encoding.js';
import { HASH_SIZE } from './merkle-hash.js';
import { ed25519PublicKey, noteSignedBy, parseSignedNote, signNote } from './signed-note.js';
import type { NoteKey, NoteSignature, SignedNote } from './signed-note.js';

/** Key-id type byte of timestamped Ed25519 cosignatures (cosignature/v1). */
export const COSIGNATURE_TYPE = 0x04;

/** What a checkpoint says: this log, at this size, has this root. */
export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  readonly extensions: readonly string[];
}

function invalid(message: string): TollgateError {
  return new TollgateError('LEDGER_NOTE_INVALID', message);
}

/**
 * Checkpoint note text: origin, decimal size, base64 root, extension lines, each newline-terminated.
 * @example formatCheckpoint({ origin: 'tollgate/acme', size: 8, rootHash, extensions: [] })
 */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const lines = [checkpoint.origin, String(checkpoint.size), toBase64(checkpoint.rootHash), ...checkpoint.extensions];
  return `${lines.join('\n')}\n`;
}

/**
 * Parse checkpoint note text (not its signatures). Throws `LEDGER_NOTE_INVALID`.
 * @example parseCheckpoint(note.text).size
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw invalid('checkpoint must end with a newline');
  const [origin, sizeText, rootText, ...extensions] = text.slice(0, -1).split('\n');
  if (origin === undefined || origin === '' || sizeText === undefined || rootText === undefined) {
    throw invalid('checkpoint needs origin, size and root hash lines');
  }
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw invalid('checkpoint size must be a decimal without leading zeros');
  }
  let rootHash: Uint8Array;
  try {
    rootHash = fromBase64(rootText);
  } catch {
    throw invalid('checkpoint root hash is not base64');
  }
  if (rootHash.length !== HASH_SIZE) throw invalid('checkpoint root hash must be 32 bytes');
  if (extensions.some((line) => line === '')) throw invalid('checkpoint has an empty line');
  return { origin, size: Number(sizeText), rootHash, extensions };
}

/**
 * Sign a checkpoint with the log key; returns the signed note.
 * @example signCheckpoint(checkpoint, logKey)
 */
export function signCheckpoint(checkpoint: Checkpoint, key: NoteKey): string {
  return signNote(formatCheckpoint(checkpoint), [key]);
}

/**
 * Verify a signed checkpoint against the log key and parse it. Throws `LEDGER_NOTE_INVALID` when the
 * note is malformed, unsigned by that key, or for another origin.
 * @example openCheckpoint(note, logKey).rootHash
 */
export function openCheckpoint(message: string, key: NoteKey, origin = key.name): Checkpoint & { note: SignedNote } {
  const note = parseSignedNote(message);
  if (!noteSignedBy(note, key)) throw invalid(`checkpoint is not signed by ${key.name}`);
  const checkpoint = parseCheckpoint(note.text);
  if (checkpoint.origin !== origin) throw invalid(`checkpoint is for ${checkpoint.origin}, not ${origin}`);
  return { ...checkpoint, note };
}

/** Key id of a cosigner: SHA-256(name || "\n" || 0x04 || public key)[:4]. */
export function cosignerKeyId(name: string, publicKey: Uint8Array): Uint8Array {
  const digest = createHash('sha256')
    .update(concatBytes(utf8Bytes(`${name}\n`), new Uint8Array([COSIGNATURE_TYPE]), publicKey))
    .digest();
  return new Uint8Array(digest.subarray(0, 4));
}

function cosignedMessage(checkpointText: string, timestamp: number): Uint8Array {
  return utf8Bytes(`cosignature/v1\ntime ${timestamp}\n${checkpointText}`);
}

/**
 * Produce a cosignature/v1 signature line for a checkpoint (what a witness does).
 * @example cosignCheckpoint(note.text, 'witness.example/w1', witnessPrivateKey, publicKey, 1700000000)
 */
export function cosignCheckpoint(
  checkpointText: string,
  name: string,
  privateKey: KeyObject,
  publicKey: Uint8Array,
  timestamp: number,
): NoteSignature {
  const signature = new Uint8Array(sign(null, cosignedMessage(checkpointText, timestamp), privateKey));
  const time = new Uint8Array(8);
  new DataView(time.buffer).setBigUint64(0, BigInt(timestamp));
  return { name, keyId: cosignerKeyId(name, publicKey), signature: concatBytes(time, signature) };
}

/** Earliest cosignature time accepted (2020-01-01T00:00:00Z, in seconds): older ones come from a broken clock. */
export const EARLIEST_COSIGNATURE_TIME = 1_577_836_800;

/** How far past the verifier's clock a cosignature time may be (one day, in seconds: clock skew, not more). */
export const MAX_COSIGNATURE_CLOCK_SKEW = 86_400;

/** Options of {@link verifyCosignature}. */
export interface VerifyCosignatureOptions {
  /** The verifier's clock, epoch milliseconds (default `Date.now()`); pass the service clock, or a fixed one in tests. */
  readonly now?: number;
}

/**
 * Verify a cosignature line against a witness key; returns its timestamp (seconds), or null. A timestamp outside
 * [{@link EARLIEST_COSIGNATURE_TIME}, now + {@link MAX_COSIGNATURE_CLOCK_SKEW}] is refused (null) even when signed:
 * no honest witness signs in the future or before this log format existed, and a time near 2^53 seconds is not a
 * date anyone can display (`new Date(t * 1000)` is invalid).
 * @example verifyCosignature(note.text, signature, witnessKey, { now: clock.now() }) // 1700000000
 */
export function verifyCosignature(
  checkpointText: string,
  signature: NoteSignature,
  witness: NoteKey,
  options: VerifyCosignatureOptions = {},
): number | null {
  if (signature.name !== witness.name || signature.signature.length !== 72) return null;
  if (!bytesEqual(signature.keyId, cosignerKeyId(witness.name, witness.publicKey))) return null;
  const timestamp = Number(new DataView(signature.signature.buffer, signature.signature.byteOffset, 8).getBigUint64(0));
  const latest = Math.floor((options.now ?? Date.now()) / 1000) + MAX_COSIGNATURE_CLOCK_SKEW;
  if (timestamp < EARLIEST_COSIGNATURE_TIME || !(timestamp <= latest)) return null; // a NaN clock refuses, never accepts
  const ok = verify(null, cosignedMessage(checkpointText, timestamp), ed25519PublicKey(witness.publicKey), signature.signature.subarray(8));
  return ok ? timestamp : null;
}
