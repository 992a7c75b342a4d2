import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { TollgateError } from '@tollgate/core';

/** Prefix of every sealed value; the version names the algorithm (AES-256-GCM, 96-bit IV, 128-bit tag). */
export const SEALED_PREFIX = 'tgv1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const MASTER_KEY_BYTES = 32;

/**
 * AES-256-GCM under one master key. Every seal draws a fresh random IV; the associated data (AAD) binds the
 * ciphertext to its owner (e.g. tenant + credential id), so a row copied to another tenant does not open.
 * Sealed format: `tgv1.<keyId>.<base64url(iv ‖ tag ‖ ciphertext)>`, where keyId identifies the master key
 * (first 8 hex digits of its SHA-256) so a wrong key is reported as such.
 *
 * @example
 * const box = new SealedBox(masterKey);
 * const sealed = box.seal('sk-live-…', 'credential:t1:cred_9');
 * box.open(sealed, 'credential:t1:cred_9').toString(); // 'sk-live-…'
 */
export class SealedBox {
  readonly keyId: string;
  private readonly key: Buffer;

  constructor(masterKey: Uint8Array) {
    if (masterKey.length !== MASTER_KEY_BYTES) {
      throw new TollgateError('VAULT_KEY_INVALID', `the vault master key must be ${MASTER_KEY_BYTES} bytes, got ${masterKey.length}`);
    }
    this.key = Buffer.from(masterKey);
    this.keyId = createHash('sha256').update(this.key).digest('hex').slice(0, 8);
  }

  seal(plaintext: string | Uint8Array, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
    const packed = Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    return `${SEALED_PREFIX}.${this.keyId}.${packed}`;
  }

  /** Opens a sealed value; any tampering, wrong AAD or wrong key throws `VAULT_DECRYPT_FAILED`. */
  open(sealed: string, aad: string): Buffer {
    const [prefix, keyId, packed, extra] = sealed.split('.');
    if (prefix !== SEALED_PREFIX || keyId === undefined || packed === undefined || extra !== undefined) {
      throw decryptFailed('not a sealed value of this vault');
    }
    if (keyId !== this.keyId) throw decryptFailed(`sealed under another master key (${keyId}, this vault uses ${this.keyId})`);
    const raw = Buffer.from(packed, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES || raw.toString('base64url') !== packed) throw decryptFailed('sealed value is malformed');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch (cause) {
      throw decryptFailed('authentication failed (tampered value, wrong owner or wrong key)', cause);
    }
  }
}

function decryptFailed(why: string, cause?: unknown): TollgateError {
  return new TollgateError('VAULT_DECRYPT_FAILED', `cannot open sealed value: ${why}`, { cause });
}
