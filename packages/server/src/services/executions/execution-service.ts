import { TollgateError } from '@tollgate/core';
import type { ExecutionRequest, ExecutionResult, HostCallAuditEntry, JsonValue } from '@tollgate/sandbox';
import type { SandboxAgent, SandboxAgentRepository } from '../../store/repositories/sandbox-agents.js';
import type { ExecutionListQuery, ExecutionOutcome, SandboxExecution, SandboxExecutionRepository } from '../../store/repositories/sandbox-executions.js';
import { createHostHandlers, type OutboundFetch, type UnsentCredentialEvent } from '../sandbox/host-handlers.js';
import { resolveAgentConfig } from '../sandbox/agent-service.js';
import type { LedgerAppend } from '../vault/credential-service.js';
import { OUTPUT_HASH_PENDING, redactJsonValue } from './execution-redaction.js';
import { MaskingPool, type ExecutionMasker } from './masking-pool.js';
import type { ExecutionQuota } from './execution-quota.js';
import { limitHitEntries, type LimitHitEntry } from './limit-hits.js';
import { textHash } from './statement-signer.js';
import { toExecutionDetail, toExecutionResponse, type ExecutionDetail, type ExecutionResponse } from './execution-views.js';
import type { RunningExecutions } from './running-executions.js';

/** The runtime surface this service drives (`@tollgate/sandbox`'s supervisor). */
export interface SandboxRuntime {
  execute(request: ExecutionRequest): Promise<ExecutionResult>;
  kill(executionId: string | number, reason: string): unknown;
}

/** Kill-switch state for an agent (enforcement area). */
export type HaltState = (tenantId: string, agent: { id: number; name: string }) => Promise<{ halted: boolean; reason: string | null }>;

/**
 * Content-safety integration point: returns a reason when `value` must be blocked. Wired to `services.safety`
 * when that service exists; absent, nothing is checked (and `content_safety` in the config has no effect).
 */
export type ContentSafetyCheck = (
  tenantId: string, value: unknown, direction: 'input' | 'output', template: 'STRICT' | 'STANDARD' | 'DEV' | null,
) => Promise<{ blocked: boolean; reason?: string | undefined }>;

export interface ExecutionStore {
  readonly sandboxAgents: SandboxAgentRepository;
  readonly sandboxExecutions: SandboxExecutionRepository;
}

export interface ExecutionServiceDeps {
  store: ExecutionStore;
  runtime: SandboxRuntime;
  running: RunningExecutions;
  now: () => number;
  fetch: OutboundFetch;
  resolveCredentials: (tenantId: string, names: readonly string[], context: { agentId: string; executionId: string }) => Promise<Map<string, string>>;
  /** Current and rotated values of granted credentials, scrubbed from every response of a run (see host-handlers.ts). */
  scrubValues?: ((tenantId: string, names: readonly string[]) => Promise<Map<string, string[]>>) | undefined;
  appendLedger?: LedgerAppend | undefined;
  haltState?: HaltState | undefined;
  contentSafety?: ContentSafetyCheck | undefined;
  /** Executions per agent per hour (absent: no quota). */
  quota?: ExecutionQuota | undefined;
  /** Masks stored forms off the request thread (default: a {@link MaskingPool} of its own). */
  masker?: ExecutionMasker | undefined;
  /** An execution finished with this status (`failed` when refused before or by the runtime); for `/metrics`. */
  onFinished?: ((status: string) => void) | undefined;
}

/**
 * Runs agents synchronously in the sandbox and records everything: the execution row (logs, host-call audit,
 * resource usage, hashes), one ledger entry per host call, one per limit hit and one per execution. Every stored
 * form (row, ledger, response) has secrets masked by content safety's rules, and the input/output hashes are taken
 * over the masked forms, so the stored record is what the signed statement and the ledger vouch for. Masking a
 * large run costs up to about a second of CPU, so it runs in worker threads (`masking-pool.ts`), not on the thread
 * that serves every tenant's requests.
 *
 * @example
 * const response = await executions.execute('acme', 42, { task: 'x' }, 'key_1');
 */
export class ExecutionService {
  private readonly masker: ExecutionMasker;

  constructor(private readonly deps: ExecutionServiceDeps) {
    this.masker = deps.masker ?? new MaskingPool();
  }

  /** Stops the masking workers (idle ones stop by themselves and never keep the process alive). */
  async close(): Promise<void> {
    await this.masker.close();
  }

  async execute(tenantId: string, agentId: number, input: unknown, actor: string | null): Promise<ExecutionResponse> {
    const agent = await this.deps.store.sandboxAgents.get(tenantId, agentId);
    if (!agent) throw new TollgateError('NOT_FOUND', `agent ${agentId} not found`);
    if (agent.status === 'disabled') throw new TollgateError('CONFLICT', `agent ${agentId} is disabled`);
    await this.refuseIfHalted(tenantId, agent);
    const { sandbox, credentials } = resolveAgentConfig(agent.config);
    const storedInput = await this.masker.maskInput(input ?? null);
    const start = () => this.deps.store.sandboxExecutions.start({
      tenantId, agentId, input: storedInput.value, resolvedConfig: { ...sandbox, credentials },
      codeHash: textHash(agent.entryCode), inputHash: storedInput.hash, startedAt: this.deps.now(),
    });
    const started = this.deps.quota ? await this.deps.quota.admit(tenantId, agent, actor, start) : await start();
    let outcome: ExecutionOutcome;
    let limitHits: LimitHitEntry[] = [];
    let hostCallSummary: HostCallLedgerSummary | undefined;
    try {
      const blockedInput = sandbox.content_safety ? await this.deps.contentSafety?.(tenantId, input, 'input', sandbox.template) : undefined;
      if (blockedInput?.blocked) outcome = blockedOutcome('input', blockedInput.reason, this.deps.now());
      else ({ outcome, limitHits, hostCallSummary } = await this.run(tenantId, agent, started, sandbox, credentials, input));
    } catch (error) {
      // Refused before or by the runtime (queue full, closing, halted meanwhile): the row must not stay `running`.
      const refused = await this.masker.maskOutcome(refusedOutcome(error, this.deps.now()));
      await this.deps.store.sandboxExecutions.finish(tenantId, started.id, refused.outcome);
      this.deps.onFinished?.(refused.outcome.status);
      throw error;
    }
    if (sandbox.content_safety) await this.checkOutput(tenantId, outcome, sandbox.template);
    const masked = await this.masker.maskOutcome(outcome);
    outcome = masked.outcome;
    // Ledger first, so the row is finished in one write that already carries its ledger index.
    let ledgerIndex: number | null = null;
    try {
      await this.recordLimitHits(tenantId, agent, started, limitHits);
      ledgerIndex = await this.recordExecution(tenantId, agent, started, outcome, masked.logsHash, actor, hostCallSummary);
    } finally {
      await this.deps.store.sandboxExecutions.finish(tenantId, started.id, outcome, ledgerIndex);
      this.deps.onFinished?.(outcome.status);
    }
    return toExecutionResponse({ ...started, ...outcome });
  }

  async get(tenantId: string, agentId: number, executionId: number): Promise<ExecutionDetail> {
    return toExecutionDetail(await this.require(tenantId, executionId, agentId));
  }

  async list(tenantId: string, agentId: number, query: ExecutionListQuery): Promise<{ executions: ExecutionDetail[]; total: number }> {
    const agent = await this.deps.store.sandboxAgents.get(tenantId, agentId);
    if (!agent) throw new TollgateError('NOT_FOUND', `agent ${agentId} not found`);
    const page = await this.deps.store.sandboxExecutions.listByAgent(tenantId, agentId, query);
    return { executions: page.executions.map(toExecutionDetail), total: page.total };
  }

  /** An execution of this tenant (optionally of one agent), or NOT_FOUND. */
  async require(tenantId: string, executionId: number, agentId?: number): Promise<SandboxExecution> {
    const execution = await this.deps.store.sandboxExecutions.get(tenantId, executionId);
    if (!execution || (agentId !== undefined && execution.agentId !== agentId)) {
      throw new TollgateError('NOT_FOUND', `execution ${executionId} not found`);
    }
    return execution;
  }

  private async refuseIfHalted(tenantId: string, agent: SandboxAgent): Promise<void> {
    const state = await this.deps.haltState?.(tenantId, { id: agent.id, name: agent.name });
    if (state?.halted) {
      throw new TollgateError('AGENT_HALTED', `agent ${agent.id} is halted by the kill switch${state.reason ? `: ${state.reason}` : ''}`, {
        details: { agentId: agent.id, reason: state.reason },
      });
    }
  }

  private async run(
    tenantId: string, agent: SandboxAgent, started: SandboxExecution, sandbox: ExecutionRequest['config'], credentials: string[], input: unknown,
  ): Promise<{ outcome: ExecutionOutcome; limitHits: LimitHitEntry[]; hostCallSummary?: HostCallLedgerSummary }> {
    const entry = this.deps.running.add({ tenantId, executionId: started.id, agentId: agent.id, agentName: agent.name, killReason: null });
    const hostCalls = new LedgerQueue(this.deps.appendLedger, tenantId, agent.id, started.id);
    let unsentCredentialHits = 0;
    const onUnsentCredential = (event: UnsentCredentialEvent): void => {
      unsentCredentialHits += 1;
      hostCalls.pushViolation('sandbox.credential_in_response', redactJsonValue(event));
    };
    try {
      // A kill that landed between the first check and registering this run would otherwise miss it.
      await this.refuseIfHalted(tenantId, agent);
      const result = await this.deps.runtime.execute({
        executionId: started.id, agentName: agent.name, agentVersion: agent.version, code: agent.entryCode, isolationKey: tenantId,
        input: (input ?? null) as JsonValue, config: sandbox,
        handlers: createHostHandlers({
          tenantId, agentId: agent.id, config: sandbox, allowedCredentials: credentials, fetch: this.deps.fetch,
          resolveCredentials: (names, context) => this.deps.resolveCredentials(tenantId, names, context),
          ...(this.deps.scrubValues ? { scrubValues: (names: readonly string[]) => this.deps.scrubValues!(tenantId, names) } : {}),
          readContext: (key) => this.deps.store.sandboxAgents.getContext(tenantId, agent.id, key),
          onUnsentCredential,
        }),
        onHostCall: (call) => hostCalls.push(call),
      });
      await hostCalls.drain();
      const outcome = toOutcome(result, entry.killReason, this.deps.now());
      outcome.violationCount += unsentCredentialHits;
      return { outcome, limitHits: limitHitEntries(result.violations ?? []), hostCallSummary: hostCalls.summary };
    } finally {
      this.deps.running.remove(entry);
    }
  }

  /**
   * Blocks what a run hands back when content safety says so, and also when it could not be scanned at all (larger
   * than the scanner accepts, `TOLLGATE_SAFETY_MAX_CHARS`; detector failure): text nobody checked is not passed on.
   * Whatever the status: a run that wrote its result and then threw, ran out of time or was killed still returns
   * that result, and the guest also controls its error message and its logs, so all three are scanned together.
   */
  private async checkOutput(tenantId: string, outcome: ExecutionOutcome, template: ExecutionRequest['config']['template']): Promise<void> {
    const returned: unknown[] = [outcome.output];
    if (outcome.error) returned.push(outcome.error.message);
    for (const entry of outcome.logs) returned.push((entry as { message?: unknown }).message);
    let verdict: { blocked: boolean; reason?: string } | undefined;
    try {
      verdict = await this.deps.contentSafety?.(tenantId, returned, 'output', template);
    } catch (error) {
      const why = error instanceof TollgateError ? `${error.code}: ${error.message}` : String(error);
      verdict = { blocked: true, reason: `not scanned (${why})` };
    }
    if (!verdict?.blocked) return;
    Object.assign(outcome, blockedOutcome('output', verdict.reason, outcome.finishedAt ?? this.deps.now(), outcome));
  }

  private async recordLimitHits(tenantId: string, agent: SandboxAgent, started: SandboxExecution, hits: readonly LimitHitEntry[]): Promise<void> {
    if (!this.deps.appendLedger) return;
    for (const hit of hits) {
      await this.deps.appendLedger(tenantId, { ...hit, actor: null, agentId: String(agent.id), executionId: String(started.id) });
    }
  }

  private async recordExecution(
    tenantId: string, agent: SandboxAgent, started: SandboxExecution, outcome: ExecutionOutcome, logsHash: string, actor: string | null,
    hostCallSummary?: HostCallLedgerSummary,
  ): Promise<number | null> {
    if (!this.deps.appendLedger) return null;
    const record = await this.deps.appendLedger(tenantId, {
      type: 'sandbox.execution', actor, agentId: String(agent.id), executionId: String(started.id),
      isViolation: outcome.violationCount > 0,
      data: {
        agent_name: agent.name, agent_version: agent.version, status: outcome.status, error: outcome.error,
        was_terminated: outcome.wasTerminated, termination_reason: outcome.terminationReason, violation_count: outcome.violationCount,
        resource_usage: outcome.resourceUsage, code_hash: started.codeHash, input_hash: started.inputHash, output_hash: outcome.outputHash,
        logs_hash: logsHash, ...hostCallSummary,
      },
    });
    const index = (record as { index?: unknown } | undefined)?.index;
    return typeof index === 'number' ? index : null;
  }
}

/**
 * Host calls of one run recorded one by one in the ledger, per kind, past which the run's `sandbox.execution` record
 * counts them instead (`host_calls_not_ledgered`): calls that stay inside the sandbox (`log`, `write_result`) and
 * denied calls. Calls that reach outside (`http_request`, `read_context`) are always recorded. Every call stays in
 * the run's own host-call audit.
 */
export const MAX_LEDGERED_CALLS_PER_RUN = { local: 100, denied: 100 } as const;

/** What of a run's host calls the ledger counts instead of recording one by one. */
export interface HostCallLedgerSummary {
  host_calls_not_ledgered: { local: number; denied: number };
}

/**
 * Appends host calls to the ledger in order as they happen, without blocking the guest (the live audit stream reads
 * them from there). One run logging in a loop wrote up to 10,000 permanent records before; now the first
 * {@link MAX_LEDGERED_CALLS_PER_RUN} local and denied calls are records and the rest are counted.
 */
class LedgerQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private failure: unknown;
  private readonly ledgered = { local: 0, denied: 0 };
  readonly summary: HostCallLedgerSummary = { host_calls_not_ledgered: { local: 0, denied: 0 } };

  constructor(private readonly append: LedgerAppend | undefined, private readonly tenantId: string, private readonly agentId: number, private readonly executionId: number) {}

  push(call: HostCallAuditEntry): void {
    if (!this.append) return;
    const kind = !call.allowed ? 'denied' : call.fn === 'log' || call.fn === 'write_result' ? 'local' : undefined;
    if (kind !== undefined) {
      if (this.ledgered[kind] >= MAX_LEDGERED_CALLS_PER_RUN[kind]) {
        this.summary.host_calls_not_ledgered[kind] += 1;
        return;
      }
      this.ledgered[kind] += 1;
    }
    this.enqueue('sandbox.host_call', !call.allowed, redactJsonValue(call));
  }

  /** A violation the server itself saw during the run (always recorded, in order with the host calls). */
  pushViolation(type: string, data: unknown): void {
    this.enqueue(type, true, data);
  }

  private enqueue(type: string, isViolation: boolean, data: unknown): void {
    const append = this.append;
    if (!append) return;
    this.tail = this.tail.then(() => append(this.tenantId, {
      type, actor: null, agentId: String(this.agentId), executionId: String(this.executionId), isViolation, data,
    })).catch((error: unknown) => { this.failure ??= error; });
  }

  async drain(): Promise<void> {
    await this.tail;
    if (this.failure !== undefined) throw this.failure;
  }
}

function toOutcome(result: ExecutionResult, killReason: string | null, now: number): ExecutionOutcome {
  const output = result.status === 'completed' ? result.output : (result.output ?? null);
  return {
    status: result.status, output, error: result.error ?? null, logs: result.logs, hostCallAudit: result.host_call_audit,
    resourceUsage: result.resource_usage, violationCount: result.violation_count, wasTerminated: result.was_terminated,
    terminationReason: killReason ?? (result.was_terminated ? (result.error?.message ?? result.status) : null),
    outputHash: OUTPUT_HASH_PENDING, finishedAt: now,
  };
}

function refusedOutcome(error: unknown, now: number): ExecutionOutcome {
  const code = (error as { code?: unknown }).code;
  return {
    status: 'failed', output: null, error: { code: typeof code === 'string' ? code : 'INTERNAL', message: (error as Error).message ?? 'execution refused' },
    logs: [], hostCallAudit: [], resourceUsage: {}, violationCount: 0, wasTerminated: false, terminationReason: null, outputHash: null, finishedAt: now,
  };
}

function blockedOutcome(direction: 'input' | 'output', reason: string | undefined, now: number, base?: ExecutionOutcome): ExecutionOutcome {
  const message = `content safety blocked the ${direction}${reason ? `: ${reason}` : ''}`;
  return {
    // The logs are withheld with the output: they were scanned with it, and may be what content safety refused.
    status: 'blocked', output: null, error: { code: 'CONTENT_BLOCKED', message }, logs: [], hostCallAudit: base?.hostCallAudit ?? [],
    resourceUsage: base?.resourceUsage ?? {}, violationCount: (base?.violationCount ?? 0) + 1, wasTerminated: false,
    terminationReason: null, outputHash: OUTPUT_HASH_PENDING, finishedAt: now,
  };
}
