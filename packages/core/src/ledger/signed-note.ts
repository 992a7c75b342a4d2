// C2SP signed-note (https://c2sp.org/signed-note): a UTF-8 text ending in a newline, a blank line,
// then signature lines "— <name> base64(key id || signature)". Ed25519 keys (type 0x01) sign the text;
// the key id is the first 4 bytes of SHA-256(name || "\n" || type || public key).
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { TollgateError } from '../errors.js';
import { bytesEqual, concatBytes, fromBase64, toBase64, toHex, utf8Bytes } from './encoding.js';

/** Signature type byte of plain Ed25519 note signatures. */
export const ED25519_SIGNATURE_TYPE = 0x01;
/** At most this many signature lines are read from one note (as the Go reference does). */
export const MAX_NOTE_SIGNATURES = 100;

const DASH = '\u2014 ';

/** One signature line: the signer's name, its 4-byte key id, and the bytes after the key id. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: Uint8Array;
  readonly signature: Uint8Array;
}

/** A note split into its signed text and its signature lines (none verified yet). */
export interface SignedNote {
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** An Ed25519 note key: name, raw 32-byte public key, and (for signing) the private key. */
export interface NoteKey {
  readonly name: string;
  readonly publicKey: Uint8Array;
  readonly privateKey?: KeyObject;
}

function invalid(message: string): TollgateError {
  return new TollgateError('LEDGER_NOTE_INVALID', message);
}

/**
 * Key id of a note key: SHA-256(name || 0x0A || type || public key)[:4].
 * @example toHex(noteKeyId('log.example', 0x01, publicKey)) // 8 hex digits
 */
export function noteKeyId(name: string, type: number, publicKey: Uint8Array): Uint8Array {
  const digest = createHash('sha256')
    .update(concatBytes(utf8Bytes(`${name}\n`), new Uint8Array([type]), publicKey))
    .digest();
  return new Uint8Array(digest.subarray(0, 4));
}

/** Is this a valid key name (non-empty, no whitespace, no '+')? */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name);
}

/**
 * Split a signed note into text and signature lines. Throws `LEDGER_NOTE_INVALID` when malformed.
 * @example parseSignedNote(message).signatures[0]?.name
 */
export function parseSignedNote(message: string): SignedNote {
  const split = message.lastIndexOf('\n\n');
  if (split < 0) throw invalid('signed note has no signature block');
  const text = message.slice(0, split + 1);
  checkNoteText(text);
  const block = message.slice(split + 2);
  if (!block.endsWith('\n')) throw invalid('signature block must end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) throw invalid('too many signatures');
  return { text, signatures: lines.map(parseSignatureLine) };
}

function checkNoteText(text: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(text)) throw invalid('note text has control characters');
  if (/[\uD800-\uDFFF]/.test(text.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''))) {
    throw invalid('note text is not valid UTF-8');
  }
}

function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(DASH)) throw invalid('signature line must start with an em dash');
  const parts = line.slice(DASH.length).split(' ');
  const [name, encoded] = parts;
  if (parts.length !== 2 || name === undefined || encoded === undefined || !isValidKeyName(name)) {
    throw invalid('malformed signature line');
  }
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(encoded);
  } catch {
    throw invalid('signature is not base64');
  }
  if (bytes.length < 5) throw invalid('signature too short');
  return { name, keyId: bytes.slice(0, 4), signature: bytes.slice(4) };
}

/**
 * Render a note with its signature lines.
 * @example formatSignedNote({ text: 'hello\n', signatures: [sig] })
 */
export function formatSignedNote(note: SignedNote): string {
  const lines = note.signatures.map(
    (sig) => `${DASH}${sig.name} ${toBase64(concatBytes(sig.keyId, sig.signature))}\n`,
  );
  return `${note.text}\n${lines.join('')}`;
}

/**
 * Sign note text with Ed25519 note keys; returns the whole signed note.
 * @example signNote('example.com/log\n1\n…=\n', [logKey])
 */
export function signNote(text: string, keys: readonly NoteKey[], existing: readonly NoteSignature[] = []): string {
  checkNoteText(text);
  if (!text.endsWith('\n')) throw invalid('note text must end with a newline');
  const signatures = keys.map((key) => {
    if (key.privateKey === undefined) throw invalid(`note key ${key.name} cannot sign`);
    return {
      name: key.name,
      keyId: noteKeyId(key.name, ED25519_SIGNATURE_TYPE, key.publicKey),
      signature: new Uint8Array(sign(null, utf8Bytes(text), key.privateKey)),
    };
  });
  return formatSignedNote({ text, signatures: [...existing, ...signatures] });
}

/**
 * Verify a signed note against one Ed25519 key: true when a signature line with the key's name and
 * key id carries a valid signature over the text.
 * @example noteSignedBy(parseSignedNote(message), logKey) // true
 */
export function noteSignedBy(note: SignedNote, key: NoteKey): boolean {
  const keyId = noteKeyId(key.name, ED25519_SIGNATURE_TYPE, key.publicKey);
  const publicKey = ed25519PublicKey(key.publicKey);
  return note.signatures.some(
    (sig) =>
      sig.name === key.name &&
      bytesEqual(sig.keyId, keyId) &&
      sig.signature.length === 64 &&
      verify(null, utf8Bytes(note.text), publicKey, sig.signature),
  );
}

/** Node KeyObject for a raw 32-byte Ed25519 public key. */
export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw invalid('Ed25519 public key must be 32 bytes');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

/** Raw 32-byte public key of an Ed25519 KeyObject (public or private). */
export function rawEd25519PublicKey(key: KeyObject): Uint8Array {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw invalid('not an Ed25519 key');
  return new Uint8Array(Buffer.from(jwk.x, 'base64url'));
}

/**
 * A signing note key from a PKCS#8 DER Ed25519 private key.
 * @example noteKeyFromPrivate('tollgate/acme', pkcs8Der)
 */
export function noteKeyFromPrivate(name: string, pkcs8Der: Uint8Array): NoteKey {
  const privateKey = createPrivateKey({ key: Buffer.from(pkcs8Der), format: 'der', type: 'pkcs8' });
  return { name, publicKey: rawEd25519PublicKey(privateKey), privateKey };
}

/**
 * Verifier key text: `<name>+<hex key id>+<base64(type || public key)>` (C2SP vkey).
 * @example formatVerifierKey(logKey) // 'tollgate/acme+1a2b3c4d+AX…'
 */
export function formatVerifierKey(key: NoteKey, type = ED25519_SIGNATURE_TYPE): string {
  const keyId = toHex(noteKeyId(key.name, type, key.publicKey));
  return `${key.name}+${keyId}+${toBase64(concatBytes(new Uint8Array([type]), key.publicKey))}`;
}

/**
 * Parse a verifier key; checks that the key id matches. `expectedType` is 0x01 for log keys, 0x04 for
 * cosigners.
 * @example parseVerifierKey(vkey).name
 */
export function parseVerifierKey(vkey: string, expectedType = ED25519_SIGNATURE_TYPE): NoteKey {
  // Names and key ids never contain '+', base64 may: split at the first two only.
  const [name, keyIdHex, ...rest] = vkey.trim().split('+');
  const encoded = rest.join('+');
  if (name === undefined || keyIdHex === undefined || rest.length === 0) {
    throw invalid('verifier key must be name+keyid+key');
  }
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(encoded);
  } catch {
    throw invalid('verifier key is not base64');
  }
  const publicKey = bytes.slice(1);
  if (!isValidKeyName(name) || bytes[0] !== expectedType || publicKey.length !== 32) {
    throw invalid('unsupported verifier key');
  }
  if (toHex(noteKeyId(name, expectedType, publicKey)) !== keyIdHex.toLowerCase()) {
    throw invalid('verifier key id does not match its key');
  }
  return { name, publicKey };
}
