import { foundationFixture } from './foundation.js';
import { ledgerFixture } from './ledger.js';
import { enforcementFixture } from './enforcement.js';
import { sandboxFixture } from './sandbox.js';
import { dashboardFixture } from './dashboard.js';
import { eventsFixture } from './events.js';
import { complianceFixture } from './compliance.js';
import type { TenantFixtureDefinition } from './types.js';

/**
 * Every area's tenant-isolation fixture. Shared registration point: add `tenant-fixtures/<area>.ts` exporting a
 * `defineTenantFixture(...)` and one entry here. packages/server/test/tenant-isolation.test.ts walks every route
 * with tenant A's admin key against these objects of tenant B.
 */
export const TENANT_FIXTURES: readonly TenantFixtureDefinition[] = [foundationFixture, ledgerFixture, enforcementFixture, sandboxFixture, dashboardFixture, eventsFixture, complianceFixture];

export { defineTenantFixture } from './types.js';
export type { TenantFixture, TenantFixtureContext, TenantFixtureDefinition } from './types.js';
