import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { Dialect } from '../types.js';
import { createEventRepository, type EventRepository } from './events.js';
import { createTenantRepository, type TenantRepository } from './tenants.js';
import { createApiKeyRepository, type ApiKeyRepository } from './api-keys.js';
import { createLedgerRepository, type LedgerRepository } from './ledger.js';
import { createSandboxAgentRepository, type SandboxAgentRepository } from './sandbox-agents.js';
import { createSandboxExecutionRepository, type SandboxExecutionRepository } from './sandbox-executions.js';
import { createPermissionRequestRepository, type PermissionRequestRepository } from './permission-requests.js';
import { createCredentialRepository, type CredentialRepository } from './credentials.js';
import { createSandboxSigningKeyRepository, type SandboxSigningKeyRepository } from './sandbox-signing-keys.js';
import { createPolicyRepository, type PolicyRepository } from './policies.js';
import { createDecisionRepository, type DecisionRepository } from './decisions.js';
import { createHoldRepository, type HoldRepository } from './holds.js';
import { createKillSwitchRepository, type KillSwitchRepository } from './kill-switches.js';
import { createDashboardSessionRepository, type DashboardSessionRepository } from './dashboard-sessions.js';
import { createComplianceRepository, type ComplianceRepository } from './compliance.js';
import { createRetentionRepository, type RetentionRepository } from './retention.js';

/**
 * Every repository of the store. Shared registration point: to add one, write `repositories/<area>.ts`
 * exporting `create<Area>Repository(db, dialect)` and add one line to `Repositories` and one to
 * `createRepositories` (keep additive, one line each).
 */
export interface Repositories {
  readonly tenants: TenantRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly ledger: LedgerRepository;
  readonly sandboxAgents: SandboxAgentRepository;
  readonly sandboxExecutions: SandboxExecutionRepository;
  readonly permissionRequests: PermissionRequestRepository;
  readonly credentials: CredentialRepository;
  readonly sandboxSigningKeys: SandboxSigningKeyRepository;
  readonly events: EventRepository;
  readonly policies: PolicyRepository;
  readonly decisions: DecisionRepository;
  readonly holds: HoldRepository;
  readonly killSwitches: KillSwitchRepository;
  readonly dashboardSessions: DashboardSessionRepository;
  readonly compliance: ComplianceRepository;
  readonly retention: RetentionRepository;
}

/**
 * Builds all repositories over `db` (the root connection or a transaction).
 *
 * @example
 * const repos = createRepositories(db, 'sqlite');
 */
export function createRepositories(db: Kysely<Database>, dialect: Dialect): Repositories {
  return {
    tenants: createTenantRepository(db, dialect),
    apiKeys: createApiKeyRepository(db, dialect),
    ledger: createLedgerRepository(db, dialect),
    sandboxAgents: createSandboxAgentRepository(db, dialect),
    sandboxExecutions: createSandboxExecutionRepository(db, dialect),
    permissionRequests: createPermissionRequestRepository(db, dialect),
    credentials: createCredentialRepository(db, dialect),
    sandboxSigningKeys: createSandboxSigningKeyRepository(db, dialect),
    events: createEventRepository(db, dialect),
    policies: createPolicyRepository(db, dialect),
    decisions: createDecisionRepository(db, dialect),
    holds: createHoldRepository(db, dialect),
    killSwitches: createKillSwitchRepository(db, dialect),
    dashboardSessions: createDashboardSessionRepository(db, dialect),
    compliance: createComplianceRepository(db, dialect),
    retention: createRetentionRepository(db, dialect),
  };
}

export type { TenantRepository, Tenant } from './tenants.js';
export type { ApiKeyRepository, ApiKeyRecord } from './api-keys.js';
