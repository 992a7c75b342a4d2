import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { Dialect } from '../types.js';

export interface SandboxSigningKeysTable {
  id: string;
  /** Base64 of the raw 32-byte Ed25519 public key. */
  public_key: string;
  /** Vault-sealed PKCS#8 DER of the private key. */
  sealed_private_key: string;
  created_at: number;
}

declare module '../schema.js' {
  interface Database {
    sandbox_signing_keys: SandboxSigningKeysTable;
  }
}

export interface SigningKeyRecord {
  id: string;
  publicKey: string;
  sealedPrivateKey: string;
  createdAt: number;
}

export interface SandboxSigningKeyRepository {
  /** The oldest key (the one in use), if any. */
  current(): Promise<SigningKeyRecord | undefined>;
  /** Inserts unless a key exists; returns the key in use afterwards (so two replicas agree on one). */
  createIfAbsent(key: SigningKeyRecord): Promise<SigningKeyRecord>;
}

/**
 * The execution-statement signing key, over both dialects.
 *
 * @example
 * const keys = createSandboxSigningKeyRepository(db, 'sqlite');
 */
export function createSandboxSigningKeyRepository(db: Kysely<Database>, _dialect: Dialect): SandboxSigningKeyRepository {
  const current = async () => {
    const row = await db.selectFrom('sandbox_signing_keys').selectAll().orderBy('created_at').orderBy('id').limit(1).executeTakeFirst();
    return row ? { id: row.id, publicKey: row.public_key, sealedPrivateKey: row.sealed_private_key, createdAt: Number(row.created_at) } : undefined;
  };
  return {
    current,
    async createIfAbsent(key) {
      const existing = await current();
      if (existing) return existing;
      await db
        .insertInto('sandbox_signing_keys')
        .values({ id: key.id, public_key: key.publicKey, sealed_private_key: key.sealedPrivateKey, created_at: key.createdAt })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      return (await current())!;
    },
  };
}
