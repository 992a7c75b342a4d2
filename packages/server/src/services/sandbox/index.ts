import tls from 'node:tls';
import { guardedHttpRequest, SandboxSupervisor, type SupervisorOptions } from '@tollgate/sandbox';
import type { Store } from '../../store/index.js';
import type { DomainMetrics } from '../metrics/domain-metrics.js';
import type { Bus } from '../bus.js';
import type { Clock } from '../clock.js';
import { ExecutionQuota } from '../executions/execution-quota.js';
import { ExecutionService, type ContentSafetyCheck, type HaltState } from '../executions/execution-service.js';
import { listenForKills } from '../executions/kill-listener.js';
import { RunningExecutions } from '../executions/running-executions.js';
import { StatementSigner } from '../executions/statement-signer.js';
import type { LedgerRecordCheck } from '../executions/verification-service.js';
import { parseStoredRecord } from '../ledger/index.js';
import { PermissionRequestService } from '../permission-requests/permission-request-service.js';
import { CredentialService, type LedgerAppend } from '../vault/credential-service.js';
import type { Vault } from '../vault/vault.js';
import { AgentService } from './agent-service.js';
import type { OutboundFetch } from './host-handlers.js';

/** Egress settings of `http_request` beyond each agent's own `allowed_domains`. */
export interface SandboxEgressOptions {
  /** CIDRs exempt from the private/loopback/metadata refusal (`TOLLGATE_SANDBOX_EGRESS_ALLOW`). */
  allowedAddressRanges?: readonly string[] | undefined;
  /** Permit plain http:// (`TOLLGATE_SANDBOX_EGRESS_ALLOW_HTTP`; for loopback test servers only). */
  allowHttp?: boolean | undefined;
  /** Extra trusted CA certificates (PEM) for outbound TLS (`TOLLGATE_SANDBOX_EGRESS_CA_FILE`). */
  caCertificates?: string | undefined;
}

/**
 * What the sandbox needs of `services.ledger` (structural, so this area does not depend on its internals):
 * `append` for every record, `verifyRecord` for `chain_valid` in execution statements (the record itself is read
 * from `store.ledger`).
 */
export interface SandboxLedger {
  append(tenantId: string, entry: Parameters<LedgerAppend>[1]): Promise<{ index: number }>;
  verifyRecord(tenantId: string, index: number): Promise<{ verified: boolean }>;
}

export interface SandboxServiceDeps {
  store: Store;
  clock: Clock;
  bus: Bus;
  vault: Vault;
  egress?: SandboxEgressOptions | undefined;
  supervisor?: SupervisorOptions | undefined;
  ledger?: SandboxLedger | undefined;
  haltState?: HaltState | undefined;
  /** `services.safety.scan`: run inputs and outputs through content safety when the agent's config says so. */
  scanContent?: ContentScan | undefined;
  /** Executions each agent may start per rolling hour (`TOLLGATE_EXECUTIONS_PER_HOUR`); 0 or absent = no quota. */
  executionsPerHour?: number | undefined;
  onError?: (error: unknown) => void;
  /** `/metrics` figures of executions. */
  metrics?: DomainMetrics | undefined;
}

/** The content-safety scan the sandbox calls (shape of `services.safety.scan`). */
export type ContentScan = (request: { text: string; direction: 'input' | 'output'; template?: 'STRICT' | 'STANDARD' | 'DEV' }) => Promise<{ verdict: string; findings: readonly { type: string }[] }>;

/** The sandbox area's services, as they appear on `Services`. */
export interface SandboxServices {
  readonly sandboxRuntime: SandboxSupervisor;
  readonly sandboxAgents: AgentService;
  readonly executions: ExecutionService;
  readonly credentials: CredentialService;
  readonly permissionRequests: PermissionRequestService;
  /** The execution-statement signer (key created and sealed on first use). */
  readonly executionSigner: () => Promise<StatementSigner>;
  readonly sandboxLedgerCheck: LedgerRecordCheck | undefined;
  /** Stops the kill listener and the workers. */
  readonly closeSandbox: () => Promise<void>;
}

/**
 * Wires the sandbox area: vault, supervisor, agents, executions (with kill-switch listener), credentials,
 * permission requests.
 *
 * @example
 * const sandbox = createSandboxServices({ store, clock, bus, vault, ledger });
 */
export function createSandboxServices(deps: SandboxServiceDeps): SandboxServices {
  const now = () => deps.clock.now();
  const { vault, ledger } = deps;
  const appendLedger: LedgerAppend | undefined = ledger ? (tenantId, entry) => ledger.append(tenantId, entry) : undefined;
  const checkLedger: LedgerRecordCheck | undefined = ledger ? async (tenantId, index) => {
    const stored = await deps.store.ledger.record(tenantId, index);
    if (!stored) return { included: false, record: null };
    return { included: (await ledger.verifyRecord(tenantId, index)).verified, record: parseStoredRecord(stored) };
  } : undefined;
  const runtime = new SandboxSupervisor({ ...deps.supervisor, allowHttpEgress: deps.egress?.allowHttp ?? false });
  const running = new RunningExecutions();
  const credentials = new CredentialService({ store: deps.store, vault, now, appendLedger: appendLedger });
  const agents = new AgentService({
    store: deps.store, now, appendLedger: appendLedger,
    assertGrantable: (tenantId, names, field) => credentials.assertGrantable(tenantId, names, field),
  });
  const fetch: OutboundFetch = (request, config, signal, onRedirect, credentialHeaders) => guardedHttpRequest(request, {
    allowedDomains: config.allowed_domains, allowedAddressRanges: deps.egress?.allowedAddressRanges, allowHttp: deps.egress?.allowHttp ?? false, signal, onRedirect,
    credentialHeaders,
    ...(deps.egress?.caCertificates ? { tls: { ca: [...tls.rootCertificates, deps.egress.caCertificates] } } : {}),
  });
  const quota = deps.executionsPerHour ? new ExecutionQuota({ executions: deps.store.sandboxExecutions, perHour: deps.executionsPerHour, now, appendLedger }) : undefined;
  const executions = new ExecutionService({
    store: deps.store, runtime, running, now, fetch, appendLedger: appendLedger, haltState: deps.haltState, contentSafety: contentSafetyCheck(deps.scanContent), quota,
    resolveCredentials: (tenantId, names, context) => credentials.resolve(tenantId, names, context),
    scrubValues: (tenantId, names) => credentials.scrubValues(tenantId, names),
    onFinished: deps.metrics ? (status) => deps.metrics!.executionFinished(status) : undefined,
  });
  deps.metrics?.watchRunningExecutions(() => runtime.activeCount);
  const permissionRequests = new PermissionRequestService({ repository: deps.store.permissionRequests, agents, bus: deps.bus, now, appendLedger: appendLedger });
  const stopKills = listenForKills({ bus: deps.bus, runtime, running, appendLedger: appendLedger, onError: deps.onError });
  let signer: Promise<StatementSigner> | undefined;
  const executionSigner = () => {
    signer ??= StatementSigner.load(deps.store.sandboxSigningKeys, vault, now).catch((error: unknown) => {
      signer = undefined;
      throw error;
    });
    return signer;
  };
  return {
    sandboxRuntime: runtime, sandboxAgents: agents, executions, credentials, permissionRequests, executionSigner,
    sandboxLedgerCheck: checkLedger,
    closeSandbox: async () => {
      stopKills();
      await runtime.close();
      await executions.close(); // the masking workers
    },
  };
}

/** Adapts the safety scan to the execution service: the text of a JSON value is scanned; `block` blocks. */
function contentSafetyCheck(scan: ContentScan | undefined): ContentSafetyCheck | undefined {
  if (!scan) return undefined;
  return async (_tenantId, value, direction, template) => {
    const text = textOf(value);
    if (text === '') return { blocked: false };
    const result = await scan({ text, direction, template: template ?? 'STANDARD' });
    if (result.verdict !== 'block') return { blocked: false };
    return { blocked: true, reason: [...new Set(result.findings.map((finding) => finding.type))].join(', ') || 'blocked' };
  };
}

/**
 * The prose inside a JSON value: every string (keys included), one per line. The scanner judges language, so JSON
 * punctuation is left out (it made structured data look like injection to the classifier).
 */
function textOf(value: unknown): string {
  const parts: string[] = [];
  const walk = (node: unknown): void => {
    if (typeof node === 'string') parts.push(node);
    else if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node as Record<string, unknown>)) {
        parts.push(key);
        walk(child);
      }
    }
  };
  walk(value);
  return parts.join('\n');
}
