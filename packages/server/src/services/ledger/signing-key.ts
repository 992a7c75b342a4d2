import { TollgateError, exportNoteKey, generateNoteKey, importNoteKey, merkle } from '@tollgate/core';
import type { SigningNoteKey } from '@tollgate/core';
import type { LedgerRepository } from '../../store/repositories/ledger.js';
import type { Clock } from '../clock.js';

/** Seals and opens service keys (the credential vault, `services/vault`, fits this shape). */
export interface KeyWrapper {
  wrapKey(purpose: string, key: string | Uint8Array, tenantId?: string): string;
  unwrapKey(purpose: string, sealed: string, tenantId?: string): Uint8Array;
}

/** Vault purpose the ledger's private key is sealed under (bound as AES-GCM associated data). */
export const LEDGER_KEY_PURPOSE = 'ledger-checkpoint-signing';

/** The server's checkpoint key: one Ed25519 key; each tenant's log signs under its own origin name. */
export interface LedgerSigningKey {
  readonly publicKey: Uint8Array;
  /** Note key for a tenant's origin (the key id depends on the name). */
  forOrigin(origin: string): SigningNoteKey;
}

/**
 * Loads the signing key, creating and storing it (sealed) on first start. Replicas racing at first start agree
 * on the oldest stored key.
 * @example const key = await loadOrCreateSigningKey(store.ledger, vault, clock);
 */
export async function loadOrCreateSigningKey(repo: LedgerRepository, wrapper: KeyWrapper, clock: Clock): Promise<LedgerSigningKey> {
  let stored = await repo.signingKey();
  if (!stored) {
    const fresh = generateNoteKey('tollgate');
    stored = await repo.createSigningKeyIfAbsent({
      id: `ledger-ed25519-${merkle.toHex(fresh.publicKey).slice(0, 16)}`,
      publicKey: merkle.toBase64(fresh.publicKey),
      sealedPrivateKey: wrapper.wrapKey(LEDGER_KEY_PURPOSE, exportNoteKey(fresh)),
      createdAt: clock.now(),
    });
  }
  let der: Uint8Array;
  try {
    der = wrapper.unwrapKey(LEDGER_KEY_PURPOSE, stored.sealedPrivateKey);
  } catch (cause) {
    throw new TollgateError('LEDGER_KEY_UNAVAILABLE', 'the ledger signing key cannot be opened with this master key', { cause });
  }
  const base = importNoteKey('tollgate', der);
  if (merkle.toBase64(base.publicKey) !== stored.publicKey) {
    throw new TollgateError('LEDGER_KEY_UNAVAILABLE', 'the stored ledger signing key does not match its public key');
  }
  return {
    publicKey: base.publicKey,
    forOrigin: (origin) => ({ name: origin, publicKey: base.publicKey, privateKey: base.privateKey }),
  };
}
