import { TollgateError } from '@tollgate/core';
import type { Store, Tenant } from '../../store/index.js';
import type { Clock } from '../clock.js';
import type { KeyService, LedgerAppender } from '../keys/index.js';

/** Id of the tenant created at first start; its admin keys manage all tenants (the operator's tenant). */
export const SYSTEM_TENANT_ID = 'default';

/** Allowed tenant ids: lower-case slug, 1–64 chars (they appear in URLs, logs and SDK configs). */
/** Longest per-tenant retention period accepted (100 years). */
export const MAX_RETENTION_DAYS = 36_500;

export const TENANT_ID_PATTERN = '^[a-z0-9][a-z0-9._-]{0,63}$';

/** Collaborators of the tenant service. */
export interface TenantServiceDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly keys: KeyService;
  readonly ledger?: LedgerAppender | undefined;
  /** Told after a tenant was created (e.g. to tighten the sandbox's per-tenant cap once there are two). */
  readonly onCreated?: ((tenant: Tenant) => void) | undefined;
}

/** What first start created. */
export interface BootstrapResult {
  /** Set only when this start generated the admin key (first start without TOLLGATE_ADMIN_KEY). */
  generatedAdminKey?: string;
  createdTenant: boolean;
}

/**
 * Tenants: creation, listing, and the first-start bootstrap of tenant `default` with an admin key.
 *
 * @example
 * const tenants = new TenantService({ store, clock, keys });
 * await tenants.create({ id: 'acme', name: 'Acme' });
 */
export class TenantService {
  constructor(private readonly deps: TenantServiceDeps) {}

  async create(input: { id: string; name?: string | undefined }): Promise<Tenant> {
    if (!new RegExp(TENANT_ID_PATTERN).test(input.id)) {
      throw new TollgateError('VALIDATION_FAILED', `Tenant id must match ${TENANT_ID_PATTERN}`, { details: [{ field: 'id' }] });
    }
    if (await this.deps.store.tenants.get(input.id)) throw new TollgateError('CONFLICT', `Tenant ${input.id} already exists`);
    const tenant: Tenant = { id: input.id, name: input.name ?? input.id, createdAt: this.deps.clock.now() };
    await this.deps.store.tenants.create(tenant);
    await this.deps.ledger?.append(tenant.id, { type: 'tenant.created', data: { tenantId: tenant.id, name: tenant.name } });
    this.deps.onCreated?.(tenant);
    return tenant;
  }

  async get(id: string): Promise<Tenant> {
    const tenant = await this.deps.store.tenants.get(id);
    if (!tenant) throw new TollgateError('NOT_FOUND', `Tenant ${id} not found`);
    return tenant;
  }

  list(): Promise<Tenant[]> {
    return this.deps.store.tenants.list();
  }

  /**
   * Sets the tenant's own data-retention period in days (0 = keep everything of this tenant), or with null goes back
   * to the server's `TOLLGATE_RETENTION_DAYS`. Recorded in the tenant's ledger (a shorter period deletes evidence).
   *
   * @example
   * await tenants.setRetention('acme', 30);
   */
  async setRetention(id: string, days: number | null): Promise<Tenant> {
    if (days !== null && !(Number.isSafeInteger(days) && days >= 0 && days <= MAX_RETENTION_DAYS)) {
      throw new TollgateError('VALIDATION_FAILED', `retentionDays must be a whole number of days from 0 to ${MAX_RETENTION_DAYS}, or null`, { details: [{ field: 'retentionDays' }] });
    }
    const before = await this.get(id);
    const tenant = await this.deps.store.tenants.setRetentionDays(id, days);
    if (!tenant) throw new TollgateError('NOT_FOUND', `Tenant ${id} not found`);
    await this.deps.ledger?.append(id, { type: 'tenant.retention_changed', data: { tenantId: id, from: before.retentionDays ?? null, to: days } });
    return tenant;
  }

  /**
   * First start: creates tenant `default` and its admin key (`adminKey` if given, else generated and returned).
   * Later starts create nothing, except that a given `adminKey` not yet stored is added.
   */
  async bootstrap(adminKey?: string): Promise<BootstrapResult> {
    const existing = await this.deps.store.tenants.get(SYSTEM_TENANT_ID);
    if (!existing) await this.create({ id: SYSTEM_TENANT_ID, name: 'Default' });
    const keyCount = (await this.deps.store.apiKeys.list(SYSTEM_TENANT_ID)).length;
    if (adminKey) {
      await this.ensureConfiguredAdminKey(adminKey);
      return { createdTenant: !existing };
    }
    if (existing && keyCount > 0) return { createdTenant: false };
    const { token } = await this.deps.keys.create({ tenantId: SYSTEM_TENANT_ID, scopes: ['admin'], name: 'first-start admin' });
    return { createdTenant: !existing, generatedAdminKey: token };
  }

  private async ensureConfiguredAdminKey(token: string): Promise<void> {
    const result = await this.deps.keys.authenticate(token);
    if (result.ok) return;
    const stored = await this.deps.store.apiKeys.findForAuthentication(token.split('_')[2] ?? '');
    if (result.reason !== 'unknown' || stored) {
      const reason = stored && result.reason === 'unknown' ? 'a different key with the same id is stored' : result.reason;
      throw new TollgateError('CONFIG_INVALID', `TOLLGATE_ADMIN_KEY is unusable: ${reason}`, { details: { variable: 'TOLLGATE_ADMIN_KEY' } });
    }
    await this.deps.keys.create({ tenantId: SYSTEM_TENANT_ID, scopes: ['admin'], name: 'TOLLGATE_ADMIN_KEY', token });
  }
}
