import { SealedBox } from './sealed-box.js';

/**
 * The server's secret store: credentials of tenants and keys of other services (e.g. the ledger's signing key),
 * sealed with AES-256-GCM under one master key. Construct with `loadMasterKey(...)`.
 *
 * @example
 * const vault = new Vault(loadMasterKey({ dataDir }));
 * const sealed = vault.wrapKey('ledger-signing', privateKeyBytes);      // store `sealed` in the database
 * const key = vault.unwrapKey('ledger-signing', sealed);               // Buffer
 */
export class Vault {
  private readonly box: SealedBox;

  constructor(masterKey: Uint8Array) {
    this.box = new SealedBox(masterKey);
  }

  /** Identifies the master key in use (8 hex digits), stored beside sealed values. */
  get keyId(): string {
    return this.box.keyId;
  }

  /**
   * Seals a key or secret of a service. `purpose` (and `tenantId` when the key belongs to one tenant) are bound
   * as associated data: a value wrapped for one purpose or tenant does not unwrap for another.
   */
  wrapKey(purpose: string, key: string | Uint8Array, tenantId?: string): string {
    return this.box.seal(key, wrapAad(purpose, tenantId));
  }

  /** Opens what `wrapKey` sealed; throws `VAULT_DECRYPT_FAILED` on any mismatch or tampering. */
  unwrapKey(purpose: string, sealed: string, tenantId?: string): Buffer {
    return this.box.open(sealed, wrapAad(purpose, tenantId));
  }

  /** Seals a tenant credential, bound to the tenant, the credential id and its name. */
  sealCredential(owner: CredentialOwner, value: string): string {
    return this.box.seal(value, credentialAad(owner));
  }

  /**
   * Opens a tenant credential (host-side only: the value never goes to agent code, logs or the ledger). Values
   * sealed before the name was bound (AAD v1: tenant and id only) still open; a value sealed under v2 never opens
   * under v1, because its tag covers the v2 AAD, so the fallback cannot be used to strip the name binding.
   */
  openCredential(owner: CredentialOwner, sealed: string): string {
    try {
      return this.box.open(sealed, credentialAad(owner)).toString('utf8');
    } catch (error) {
      try {
        return this.box.open(sealed, legacyCredentialAad(owner)).toString('utf8');
      } catch {
        throw error;
      }
    }
  }
}

/** Whom a sealed credential belongs to; every field is bound as associated data. */
export interface CredentialOwner {
  tenantId: string;
  id: string;
  name: string;
}

// JSON arrays keep the parts unambiguous: ("a:b", "c") and ("a", "b:c") give different AAD.
function wrapAad(purpose: string, tenantId: string | undefined): string {
  return JSON.stringify(['tollgate/wrap/v1', purpose, tenantId ?? null]);
}

// The name is bound too: a name decides where agent code may send the value, so a row renamed in the database (two
// names swapped) must not hand one service's secret to the other.
function credentialAad(owner: CredentialOwner): string {
  return JSON.stringify(['tollgate/credential/v2', owner.tenantId, owner.id, owner.name]);
}

function legacyCredentialAad(owner: CredentialOwner): string {
  return JSON.stringify(['tollgate/credential/v1', owner.tenantId, owner.id]);
}
