// Byte helpers shared by the ledger code. Node's Buffer does the work; the functions keep the public
// surface on plain Uint8Array so callers (browsers, the CLI, the SDK) never need Buffer types.

/**
 * Lower-case hex of some bytes.
 * @example toHex(new Uint8Array([0, 255])) // '00ff'
 */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Bytes from hex. Throws a `TypeError` on odd length or non-hex characters (Buffer would silently stop).
 * @example fromHex('00ff') // Uint8Array [0, 255]
 */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new TypeError('invalid hex string');
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/**
 * Standard (padded) base64 of some bytes.
 * @example toBase64(new Uint8Array([1, 2, 3])) // 'AQID'
 */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Bytes from standard padded base64; refuses anything that does not round-trip, so two spellings of
 * one value cannot both verify.
 * @example fromBase64('AQID') // Uint8Array [1, 2, 3]
 */
export function fromBase64(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) {
    throw new TypeError('invalid base64 string');
  }
  return new Uint8Array(bytes);
}

/**
 * Constant-time-irrelevant byte equality (inputs here are public hashes).
 * @example bytesEqual(a, b)
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false;
  }
  return true;
}

/**
 * Concatenate byte arrays.
 * @example concatBytes(new Uint8Array([1]), new Uint8Array([2])) // [1, 2]
 */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

const utf8 = new TextEncoder();

/**
 * UTF-8 bytes of a string.
 * @example utf8Bytes('a') // Uint8Array [97]
 */
export function utf8Bytes(text: string): Uint8Array {
  return utf8.encode(text);
}

// fatal: bytes that are not UTF-8 throw instead of becoming U+FFFD (the verifier would check another text than the
// file holds). ignoreBOM: a byte order mark stays in the text, where JSON.parse refuses it, as other parsers do.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The text of UTF-8 bytes. Throws a `TypeError` when they are not UTF-8 (never replaces them with U+FFFD).
 * @example decodeUtf8Strict(new Uint8Array([0x61])) // 'a'
 */
export function decodeUtf8Strict(bytes: Uint8Array): string {
  return strictUtf8.decode(bytes);
}
