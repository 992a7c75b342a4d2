import type { TestServer, TestTenant } from '../server.js';

/** What a fixture factory receives: the server, the victim (tenant B, owns the objects) and the attacker (tenant A). */
export interface TenantFixtureContext {
  readonly server: TestServer;
  readonly victim: TestTenant;
  readonly attacker: TestTenant;
}

/** Objects one area created in the victim tenant, and how routes reach them. */
export interface TenantFixture {
  /**
   * Path parameter values pointing at the victim's objects, by route URL pattern then parameter name, e.g.
   * `{ '/api/v1/keys/:id': { id: key.id } }`. The key `'*'` gives defaults for any route with that parameter name.
   */
  readonly params: Record<string, Record<string, string>>;
  /**
   * Strings that exist ONLY inside the victim's objects (e.g. a random name you gave them; not ids you also put in
   * URLs, which error messages may echo). No response to the attacker may contain one.
   */
  readonly markers: readonly string[];
  /** Optional request bodies by `'METHOD /url/pattern'`; default: a minimal body generated from the route schema. */
  readonly bodies?: Record<string, unknown>;
  /** Runs after the walk: throw (or use expect) if any victim object changed. */
  verify?(): Promise<void>;
}

/** One area's fixture. */
export interface TenantFixtureDefinition {
  readonly area: string;
  readonly create: (context: TenantFixtureContext) => Promise<TenantFixture>;
  /** Parameterised routes of this area that hold no tenant data, with the reason (e.g. static assets). */
  readonly exempt?: Record<string, string>;
}

/**
 * Declares an area's tenant-isolation fixture; add it to `TENANT_FIXTURES` in `tenant-fixtures/index.ts`.
 *
 * @example
 * export const keysFixture = defineTenantFixture('keys', async ({ server, victim }) => {
 *   const { record } = await server.services.keys.create({ tenantId: victim.id, scopes: ['enforce'], name: 'victim-marker' });
 *   return { params: { '/api/v1/keys/:id': { id: record.id } }, markers: ['victim-marker'] };
 * });
 */
export function defineTenantFixture(
  area: string,
  create: TenantFixtureDefinition['create'],
  exempt?: Record<string, string>,
): TenantFixtureDefinition {
  return { area, create, ...(exempt ? { exempt } : {}) };
}
