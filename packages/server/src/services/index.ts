import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { redactSecretsDeep } from '@tollgate/core';
import type { TollgateConfig } from '../config.js';
import type { Store } from '../store/index.js';
import { createInProcessBus, type Bus } from './bus.js';
import { createPostgresBus } from './bus-postgres.js';
import type { Clock } from './clock.js';
import { EventService } from './events/index.js';
import { KeyService } from './keys/index.js';
import { LedgerService } from './ledger/index.js';
import { TenantService } from './tenants/index.js';
import { createEnforcementServices, type EnforcementServices } from './enforcement/index.js';
import { RetentionService } from './retention/retention-service.js';
import { PERMISSION_REQUEST_CHANNEL } from './permission-requests/permission-request-service.js';
import { createSandboxServices, type SandboxServices } from './sandbox/index.js';
import { loadMasterKey } from './vault/master-key.js';
import { Vault } from './vault/vault.js';
import { DashboardSessionService } from './dashboard/index.js';
import { SafetyService } from './safety/index.js';
import { ComplianceService } from './compliance/index.js';
import { DomainMetrics } from './metrics/domain-metrics.js';

/** What every service may depend on. */
export interface ServiceDeps {
  readonly config: TollgateConfig;
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Defaults to LISTEN/NOTIFY on PostgreSQL and in-process on SQLite. */
  readonly bus?: Bus;
}

/**
 * Every service, wired. Shared registration point: add your service as one property here and one construction
 * line in `createServices` (after its collaborators), and, if it holds resources, one line in `closeServices`.
 */
export interface Services {
  readonly config: TollgateConfig;
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly bus: Bus;
  /** prom-client registry of this server (no global default registry); `/metrics` exposes it. */
  readonly metrics: Registry;
  /** Tollgate's own series on that registry (decisions, holds, ledger, safety, sandbox, events, kill switch). */
  readonly domainMetrics: DomainMetrics;
  readonly keys: KeyService;
  readonly tenants: TenantService;
  readonly ledger: LedgerService;
  readonly events: EventService;
  /** Secret store: credentials and other services' keys (AES-256-GCM under the master key). */
  readonly vault: Vault;
  /** Sandboxed agents, executions, credentials, permission requests (issue 6). */
  readonly sandboxAgents: SandboxServices['sandboxAgents'];
  readonly executions: SandboxServices['executions'];
  readonly credentials: SandboxServices['credentials'];
  readonly permissionRequests: SandboxServices['permissionRequests'];
  readonly sandboxRuntime: SandboxServices['sandboxRuntime'];
  readonly executionSigner: SandboxServices['executionSigner'];
  readonly sandboxLedgerCheck: SandboxServices['sandboxLedgerCheck'];
  readonly closeSandbox: SandboxServices['closeSandbox'];
  readonly policies: EnforcementServices['policies'];
  readonly holds: EnforcementServices['holds'];
  readonly approvals: EnforcementServices['approvals'];
  readonly killSwitch: EnforcementServices['killSwitch'];
  readonly enforcement: EnforcementServices['enforcement'];
  readonly enforcementOutputs: EnforcementServices['enforcementOutputs'];
  /** Stops the enforcement area's timers and waits for its pending writes. */
  readonly closeEnforcement: () => Promise<void>;
  readonly dashboardSessions: DashboardSessionService;
  /** Content safety (issue 7): the shared scanner, also used by the enforcer. */
  readonly safety: SafetyService;
  /** Compliance evidence of sandboxed agents (EU AI Act, SOC 2, NIST AI RMF control mapping). */
  readonly compliance: ComplianceService;
  /** Data retention (`TOLLGATE_RETENTION_DAYS`; off by default). */
  readonly retention: RetentionService;
}

async function createBus(deps: ServiceDeps): Promise<Bus> {
  if (deps.bus) return deps.bus;
  const reportError = (error: unknown, channel: string) => deps.logger.error({ err: error, channel }, 'bus listener failed');
  const native = deps.store.native;
  if (native.dialect === 'postgres') {
    return createPostgresBus({ pool: native.pool, connectionString: native.connectionString, reportError });
  }
  return createInProcessBus(reportError);
}

/**
 * Builds every service over one store.
 *
 * @example
 * const services = await createServices({ config, store, clock: systemClock(), logger });
 */
export async function createServices(deps: ServiceDeps): Promise<Services> {
  const bus = await createBus(deps);
  const metrics = new Registry();
  const domainMetrics = new DomainMetrics(metrics);
  const base = { config: deps.config, store: deps.store, clock: deps.clock, logger: deps.logger, bus, metrics, domainMetrics };
  const vault = new Vault(loadMasterKey({ configuredKey: deps.config.vaultKey, dataDir: deps.config.dataDir }));
  const ledger = new LedgerService({
    store: deps.store, clock: deps.clock, bus, keyWrapper: vault, origin: deps.config.ledgerOrigin,
    checkpointEvery: deps.config.ledgerCheckpointEvery, checkpointIntervalMs: deps.config.ledgerCheckpointIntervalMs,
    witnessKeys: deps.config.ledgerWitnessKeys, maxJsonBundleRecords: deps.config.auditBundleJsonMaxRecords, metrics: domainMetrics, reportError: (error) => deps.logger.error({ err: error }, 'ledger checkpoint failed'),
  });
  await ledger.start();
  const keys = new KeyService({ store: deps.store, clock: deps.clock, bus, cacheTtlMs: deps.config.authCacheTtlMs, ledger });
  const tenants = new TenantService({ store: deps.store, clock: deps.clock, keys, ledger, onCreated: () => void sandboxTenantCap.refresh() });
  const events = new EventService({ store: deps.store, clock: deps.clock, redact: redactSecretsDeep, onIngested: (count) => domainMetrics.eventsIngested(count) });
  const sandbox = createSandboxServices({
    store: deps.store, clock: deps.clock, bus, vault, ledger,
    haltState: async (tenantId, agent) => {
      const reason = enforcementArea.services.killSwitch.haltReason(tenantId, String(agent.id)) ?? enforcementArea.services.killSwitch.haltReason(tenantId, agent.name);
      return { halted: reason !== null, reason };
    },
    egress: {
      allowedAddressRanges: deps.config.sandboxEgressAllow, allowHttp: deps.config.sandboxEgressAllowHttp,
      caCertificates: deps.config.sandboxEgressCaFile ? readFileSync(deps.config.sandboxEgressCaFile, 'utf8') : undefined,
    },
    scanContent: (request) => safety.scan(request),
    executionsPerHour: deps.config.executionsPerHour,
    supervisor: { maxRunningPerTenant: deps.config.sandboxMaxRunningPerTenant },
    onError: (error) => deps.logger.error({ err: error }, 'sandbox kill handling failed'),
    metrics: domainMetrics,
  });
  const sandboxTenantCap = automaticSandboxTenantCap(deps, sandbox.sandboxRuntime);
  await sandboxTenantCap.refresh();
  const safety = new SafetyService({
    template: deps.config.safetyTemplate.toUpperCase() as 'STRICT' | 'STANDARD' | 'DEV', maxChars: deps.config.safetyMaxChars,
    detectorUrl: deps.config.safetyDetectorUrl, detectorTimeoutMs: deps.config.safetyDetectorTimeoutMs, detectorFailure: deps.config.safetyDetectorFailure,
    onScanned: (direction, verdict) => domainMetrics.safetyScanned(direction, verdict),
  });
  const enforcementArea = await createEnforcementServices({
    config: deps.config, store: deps.store, clock: deps.clock, logger: deps.logger, bus, ledger, scanner: safety.scanner,
    permissionRequests: { service: sandbox.permissionRequests, channel: PERMISSION_REQUEST_CHANNEL }, metrics: domainMetrics,
  });
  domainMetrics.watchKillSwitch(() => enforcementArea.services.killSwitch.haltedCounts());
  const dashboardSessions = new DashboardSessionService({ store: deps.store, clock: deps.clock, keys, ledger, ttlMs: deps.config.dashboardSessionTtlMs });
  const { policies, killSwitch } = enforcementArea.services;
  const compliance = new ComplianceService({
    store: deps.store, clock: deps.clock, ledger, activePolicy: (tenantId) => policies.activePolicy(tenantId),
    haltReason: (tenantId, agent) => killSwitch.haltReason(tenantId, String(agent.id)) ?? killSwitch.haltReason(tenantId, agent.name),
  });
  const retention = new RetentionService({
    repository: deps.store.retention, tenants: deps.store.tenants, clock: deps.clock, logger: deps.logger, days: deps.config.retentionDays,
    onCutoff: enforcementArea.forgetBefore,
  });
  retention.start();
  const closeSandbox = async (): Promise<void> => {
    sandboxTenantCap.stop();
    await sandbox.closeSandbox();
  };
  return { ...base, keys, tenants, ledger, events, vault, ...sandbox, closeSandbox, ...enforcementArea.services, closeEnforcement: enforcementArea.close, dashboardSessions, safety, compliance, retention };
}

/** How often the automatic per-tenant sandbox cap re-counts tenants (other replicas may have created one). */
const TENANT_CAP_REFRESH_MS = 60_000;

/**
 * `TOLLGATE_SANDBOX_MAX_RUNNING_PER_TENANT=0` (the default) is automatic: while the installation has one tenant,
 * that tenant may use every sandbox worker (nobody to be fair to); from the second tenant on, each may hold at most
 * half of them, so one tenant's long runs cannot take every worker. Re-counted when a tenant is created here and
 * every minute (tenants created through another replica). A set value is used as is.
 */
function automaticSandboxTenantCap(deps: ServiceDeps, runtime: SandboxServices['sandboxRuntime']): { refresh(): Promise<void>; stop(): void } {
  const configured = deps.config.sandboxMaxRunningPerTenant;
  if (configured > 0) return { refresh: async () => undefined, stop: () => undefined };
  let stopped = false;
  let latest = 0;
  const refresh = async (): Promise<void> => {
    // Only the most recently started count applies: a timer refresh that read "one tenant" and finished after the
    // refresh a tenant creation started must not give every worker back to one tenant.
    const ticket = ++latest;
    try {
      const count = (await deps.store.tenants.list()).length;
      if (!stopped && ticket === latest) runtime.setMaxRunningPerTenant(count > 1 ? undefined : runtime.options.maxWorkers);
    } catch (error) {
      deps.logger.error({ err: error }, 'counting tenants for the sandbox per-tenant cap failed');
    }
  };
  const timer = setInterval(() => void refresh(), TENANT_CAP_REFRESH_MS);
  timer.unref();
  return {
    refresh,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}

/**
 * Releases what services hold (bus connections, timers). Does not close the store: whoever opened it closes it.
 *
 * @example
 * await closeServices(services);
 */
export async function closeServices(services: Services): Promise<void> {
  services.keys.close();
  await services.retention.close();
  await services.ledger.close();
  await services.closeEnforcement();
  await services.closeSandbox();
  await services.bus.close();
}

export type { Bus, BusListener } from './bus.js';
export type { Clock, ManualClock } from './clock.js';
