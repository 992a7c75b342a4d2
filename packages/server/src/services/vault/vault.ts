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

  /** Seals a tenant credential, bound to the tenant and the credential id. */
  sealCredential(tenantId: string, credentialId: string, value: string): string {
    return this.box.seal(value, credentialAad(tenantId, credentialId));
  }

  /** Opens a tenant credential (host-side only: the value never goes to agent code, logs or the ledger). */
  openCredential(tenantId: string, credentialId: string, sealed: string): string {
    return this.box.open(sealed, credentialAad(tenantId, credentialId)).toString('utf8');
  }
}

// JSON arrays keep the parts unambiguous: ("a:b", "c") and ("a", "b:c") give different AAD.
function wrapAad(purpose: string, tenantId: string | undefined): string {
  return JSON.stringify(['tollgate/wrap/v1', purpose, tenantId ?? null]);
}

function credentialAad(tenantId: string, credentialId: string): string {
  return JSON.stringify(['tollgate/credential/v1', tenantId, credentialId]);
}
