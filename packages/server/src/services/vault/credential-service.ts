import { randomBytes } from 'node:crypto';
import { TollgateError } from '@tollgate/core';
import type { CredentialRecord, CredentialRepository } from '../../store/repositories/credentials.js';
import { CREDENTIAL_NAME, credentialTooShort, isTooShortForSandbox } from '../sandbox/credential-references.js';
import { refuseControlCharacters } from './display-text.js';
import type { Vault } from './vault.js';

/** How many rotations back an execution still scrubs a credential's earlier values from responses. */
export const SCRUB_ROTATION_DEPTH = 5;

/** What the API shows of a credential: everything except the value. */
export interface CredentialView {
  id: string;
  name: string;
  type: string;
  description: string | null;
  status: 'active' | 'revoked';
  created_at: string;
  revoked_at: string | null;
  rotated_from: string | null;
  last_used_at: string | null;
}

export interface NewCredential {
  name: string;
  value: string;
  type?: string | undefined;
  description?: string | undefined;
}

/** Appends to the ledger; the shape of `services.ledger.append`. */
export type LedgerAppend = (tenantId: string, entry: { type: string; actor?: string | null; agentId?: string | null; executionId?: string | null; isViolation?: boolean; data: unknown }) => Promise<unknown>;

/** The store surface the service needs (repositories plus a transaction that hands out the same surface). */
export interface CredentialStore {
  readonly credentials: CredentialRepository;
  transaction<T>(fn: (tx: CredentialStore) => Promise<T>): Promise<T>;
}

export const MAX_CREDENTIAL_BYTES = 16_384;

/**
 * Tenant credentials: sealed at rest by the vault, shown without their value, rotated atomically, and opened only
 * host-side when agent code references them by name (`{{credential:NAME}}`).
 *
 * @example
 * const view = await credentials.create('acme', { name: 'openweather', value: 'sk-…' }, 'key_1');
 */
export class CredentialService {
  constructor(
    private readonly deps: { store: CredentialStore; vault: Vault; now: () => number; appendLedger?: LedgerAppend | undefined },
  ) {}

  async create(tenantId: string, input: NewCredential, actor: string | null): Promise<CredentialView> {
    validate(input);
    const record = await this.insert(this.deps.store, tenantId, input, null);
    await this.ledger(tenantId, 'credential.created', actor, { credential_id: record.id, name: record.name, type: record.type });
    return toView(record);
  }

  async list(tenantId: string): Promise<CredentialView[]> {
    return (await this.deps.store.credentials.list(tenantId)).map(toView);
  }

  async get(tenantId: string, id: string): Promise<CredentialView> {
    return toView(await this.require(this.deps.store, tenantId, id));
  }

  /** Revokes `id` and stores `value` under the same name in one transaction; the old id stops working at once. */
  async rotate(tenantId: string, id: string, value: string, actor: string | null): Promise<CredentialView> {
    const next = await this.deps.store.transaction(async (tx) => {
      const old = await this.require(tx, tenantId, id);
      if (old.revokedAt !== null) throw new TollgateError('CREDENTIAL_REVOKED', `credential ${id} is revoked; rotate the active one`);
      validate({ name: old.name, value });
      if (!(await tx.credentials.revoke(tenantId, id, this.deps.now()))) {
        throw new TollgateError('CREDENTIAL_REVOKED', `credential ${id} was revoked concurrently`);
      }
      return this.insert(tx, tenantId, { name: old.name, value, type: old.type, description: old.description ?? undefined }, old.id);
    });
    await this.ledger(tenantId, 'credential.rotated', actor, { credential_id: next.id, rotated_from: id, name: next.name });
    return toView(next);
  }

  async revoke(tenantId: string, id: string, actor: string | null): Promise<CredentialView> {
    await this.require(this.deps.store, tenantId, id);
    if (await this.deps.store.credentials.revoke(tenantId, id, this.deps.now())) {
      await this.ledger(tenantId, 'credential.revoked', actor, { credential_id: id });
    }
    return this.get(tenantId, id);
  }

  /**
   * Opens the active credentials named in `names` (host side only). Unknown or revoked names throw
   * `CREDENTIAL_UNKNOWN`, values shorter than `MIN_SANDBOX_CREDENTIAL_LENGTH` `CREDENTIAL_TOO_SHORT` (stored before
   * the minimum existed, or never granted through a checked config). Use is recorded in the ledger by name and id,
   * never by value.
   */
  async resolve(tenantId: string, names: readonly string[], context: { agentId: string; executionId: string }): Promise<Map<string, string>> {
    const values = new Map<string, string>();
    for (const name of names) {
      const record = await this.deps.store.credentials.getActiveByName(tenantId, name);
      if (!record) throw new TollgateError('CREDENTIAL_UNKNOWN', `credential ${JSON.stringify(name)} does not exist or is revoked`);
      const value = this.deps.vault.openCredential({ tenantId, id: record.id, name: record.name }, record.sealedValue);
      if (isTooShortForSandbox(value)) throw credentialTooShort(name);
      values.set(name, value);
      await this.deps.store.credentials.markUsed(tenantId, record.id, this.deps.now());
      await this.deps.appendLedger?.(tenantId, { type: 'credential.used', actor: null, ...context, data: { credential_id: record.id, name } });
    }
    return values;
  }

  /**
   * The values an execution's responses are scrubbed of: for each name, the active value and the values it replaced
   * by rotation (up to {@link SCRUB_ROTATION_DEPTH} back), since a value stored upstream in an earlier run can come
   * back in any later one. Unknown names are skipped. Not a use: nothing is sent, so no `credential.used` record.
   *
   * @example
   * const known = await credentials.scrubValues('acme', ['openweather']); // Map { 'openweather' => ['sk-…', 'sk-old…'] }
   */
  async scrubValues(tenantId: string, names: readonly string[]): Promise<Map<string, string[]>> {
    const values = new Map<string, string[]>();
    for (const name of new Set(names)) {
      const list: string[] = [];
      let record = await this.deps.store.credentials.getActiveByName(tenantId, name);
      for (let depth = 0; record && depth <= SCRUB_ROTATION_DEPTH; depth += 1) {
        list.push(this.deps.vault.openCredential({ tenantId, id: record.id, name: record.name }, record.sealedValue));
        record = record.rotatedFrom === null ? undefined : await this.deps.store.credentials.get(tenantId, record.rotatedFrom);
      }
      if (list.length > 0) values.set(name, list);
    }
    return values;
  }

  /**
   * Refuses to grant an agent a credential too short for the sandbox (422 `CREDENTIAL_TOO_SHORT`,
   * `details.field` = `field`): scrubbing it from responses would let agent code guess it. Names with no active
   * credential pass (checked when used).
   *
   * @example
   * await credentials.assertGrantable('acme', ['openweather'], 'config.credentials');
   */
  async assertGrantable(tenantId: string, names: readonly string[], field: string): Promise<void> {
    for (const name of new Set(names)) {
      const record = await this.deps.store.credentials.getActiveByName(tenantId, name);
      if (record && isTooShortForSandbox(this.deps.vault.openCredential({ tenantId, id: record.id, name: record.name }, record.sealedValue))) {
        throw credentialTooShort(name, field);
      }
    }
  }

  private async insert(store: CredentialStore, tenantId: string, input: NewCredential, rotatedFrom: string | null): Promise<CredentialRecord> {
    if (await store.credentials.getActiveByName(tenantId, input.name)) throw nameTaken(input.name);
    const id = `cred_${randomBytes(12).toString('base64url')}`;
    const record: CredentialRecord = {
      id, tenantId, name: input.name, type: input.type ?? 'api_key', description: input.description ?? null,
      sealedValue: this.deps.vault.sealCredential({ tenantId, id, name: input.name }, input.value), keyId: this.deps.vault.keyId,
      createdAt: this.deps.now(), revokedAt: null, rotatedFrom, lastUsedAt: null,
    };
    try {
      return await store.credentials.create(record);
    } catch (cause) {
      if (await store.credentials.getActiveByName(tenantId, input.name)) {
        throw nameTaken(input.name, cause);
      }
      throw cause;
    }
  }

  private async require(store: CredentialStore, tenantId: string, id: string): Promise<CredentialRecord> {
    const record = await store.credentials.get(tenantId, id);
    if (!record) throw new TollgateError('NOT_FOUND', `credential ${id} not found`);
    return record;
  }

  private async ledger(tenantId: string, type: string, actor: string | null, data: unknown): Promise<void> {
    await this.deps.appendLedger?.(tenantId, { type, actor, data });
  }
}

function validate(input: NewCredential): void {
  if (typeof input.name !== 'string' || !CREDENTIAL_NAME.test(input.name)) {
    throw new TollgateError('VALIDATION_FAILED', 'name must be 1–64 characters of A–Z a–z 0–9 _ . -', { details: { field: 'name' } });
  }
  refuseControlCharacters('type', input.type);
  refuseControlCharacters('description', input.description);
  if (typeof input.value !== 'string' || input.value.length === 0 || Buffer.byteLength(input.value) > MAX_CREDENTIAL_BYTES) {
    throw new TollgateError('VALIDATION_FAILED', `value must be a non-empty string of at most ${MAX_CREDENTIAL_BYTES} bytes`, { details: { field: 'value' } });
  }
}

function nameTaken(name: string, cause?: unknown): TollgateError {
  return new TollgateError('CREDENTIAL_NAME_TAKEN', `an active credential named ${JSON.stringify(name)} exists; rotate it instead`, { cause });
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function toView(record: CredentialRecord): CredentialView {
  return {
    id: record.id, name: record.name, type: record.type, description: record.description,
    status: record.revokedAt === null ? 'active' : 'revoked', created_at: iso(record.createdAt)!,
    revoked_at: iso(record.revokedAt), rotated_from: record.rotatedFrom, last_used_at: iso(record.lastUsedAt),
  };
}
