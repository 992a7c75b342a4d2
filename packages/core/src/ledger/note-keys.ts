// Creating and serialising Ed25519 note keys (log signing keys, witness keys).
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { noteKeyFromPrivate, rawEd25519PublicKey } from './signed-note.js';
import type { NoteKey } from './signed-note.js';

/** A note key that can sign. */
export type SigningNoteKey = NoteKey & { readonly privateKey: KeyObject };

/**
 * A new Ed25519 note key with the given name.
 * @example const logKey = generateNoteKey('tollgate/acme');
 */
export function generateNoteKey(name: string): SigningNoteKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { name, publicKey: rawEd25519PublicKey(privateKey), privateKey };
}

/**
 * PKCS#8 DER of a signing key's private half (to encrypt and store).
 * @example exportNoteKey(logKey) // Uint8Array(48)
 */
export function exportNoteKey(key: SigningNoteKey): Uint8Array {
  return new Uint8Array(key.privateKey.export({ format: 'der', type: 'pkcs8' }));
}

/**
 * Inverse of {@link exportNoteKey}.
 * @example importNoteKey('tollgate/acme', der)
 */
export function importNoteKey(name: string, pkcs8Der: Uint8Array): SigningNoteKey {
  return noteKeyFromPrivate(name, pkcs8Der) as SigningNoteKey;
}
