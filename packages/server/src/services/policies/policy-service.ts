import { createHash, randomBytes } from 'node:crypto';
import { TollgateError } from '@tollgate/core';
import type { CompiledPolicy, PolicyDiagnostic } from '@tollgate/core';
import type {
  PolicyActivation, PolicyRecord, PolicyRepository, PolicyVersionRecord,
} from '../../store/repositories/policies.js';
import type { Bus } from '../bus.js';
import type { Clock } from '../clock.js';
import { diffLoadedPolicies } from './policy-diff.js';
import { PolicyLoader } from './policy-loader.js';
import { replayDecisions } from './replay.js';
import type { ReplayReport } from './replay.js';
import type { DecisionRepository } from '../../store/repositories/decisions.js';
import type { Fingerprint } from '@tollgate/core';
import type { PolicyDiff } from './policy-diff.js';

/** Bus channel announcing that a tenant's active policy changed (every replica reloads it). */
export const POLICY_CHANNEL = 'policy';

/** Most bytes of policy source one page of `GET /api/v1/policies/{id}` carries (past its first version). */
export const VERSION_PAGE_SOURCE_BYTES = 8 * 1024 * 1024;
/** Versions read from the store per query while a page is assembled (sources are up to 1 MiB each). */
const VERSION_READ_CHUNK = 8;

/** Largest accepted policy source. */
export const MAX_POLICY_SOURCE_BYTES = 1_048_576;

export type PolicyLedgerAppend = (tenantId: string, entry: { type: string; actor?: string | null; isViolation?: boolean; data: unknown }) => Promise<unknown>;

/** The tenant's active policy, compiled. */
export interface ActivePolicy {
  policyId: string;
  version: number;
  policy: CompiledPolicy;
}

export interface PolicyView extends PolicyRecord {
  active: boolean;
  activeVersion: number | null;
}

/**
 * Policies: create, version, diff, activate, roll back. Each tenant has at most one active policy version;
 * the compiled form is cached per tenant and dropped when the bus announces a change.
 *
 * @example
 * const created = await policies.create('acme', { name: 'support', source: yaml }, 'key_1');
 * await policies.activate('acme', created.id, 1, 'key_1');
 */
export class PolicyService {
  private readonly active = new Map<string, Promise<ActivePolicy | null>>();
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly deps: {
    repository: PolicyRepository; decisions: Pick<DecisionRepository, 'list' | 'outputsForSessions' | 'lastCallsBefore' | 'lastAgentCallsBefore' | 'agentViolationsBefore' | 'agentOutputs'>; bus: Bus; clock: Clock;
    fingerprint?: Fingerprint | undefined; appendLedger?: PolicyLedgerAppend | undefined;
    /** Loads policy text with the parse of large sources off the event loop (default: a loader of its own). */
    loader?: PolicyLoader | undefined;
  }) {
    this.loader = deps.loader ?? new PolicyLoader();
  }

  /** Parses, validates and compiles policy text (see {@link PolicyLoader}). */
  readonly loader: PolicyLoader;

  start(): void {
    this.unsubscribe = this.deps.bus.subscribe(POLICY_CHANNEL, (payload) => {
      const tenantId = (payload as { tenantId?: unknown } | null)?.tenantId;
      if (typeof tenantId === 'string') this.active.delete(tenantId);
    });
  }

  close(): void {
    this.unsubscribe?.();
  }

  /** Compiles source or throws POLICY_INVALID with every diagnostic (line and column) in `details`. */
  async compile(source: string, version: number | null = null): Promise<CompiledPolicy> {
    if (Buffer.byteLength(source) > MAX_POLICY_SOURCE_BYTES) {
      throw new TollgateError('POLICY_INVALID', `policy source is larger than ${MAX_POLICY_SOURCE_BYTES} bytes`);
    }
    const loaded = await this.loader.load(source, { version });
    if (!loaded.ok) throw invalid(loaded.diagnostics);
    return loaded.policy;
  }

  async create(tenantId: string, input: { name: string; description?: string | null; source: string; comment?: string | null }, actor: string | null): Promise<PolicyView> {
    await this.compile(input.source);
    if (await this.deps.repository.getByName(tenantId, input.name)) {
      throw new TollgateError('POLICY_NAME_TAKEN', `a policy named ${input.name} already exists`, { details: { name: input.name } });
    }
    const now = this.deps.clock.now();
    const id = `pol_${randomBytes(9).toString('base64url')}`;
    const record: PolicyRecord = { id, tenantId, name: input.name, description: input.description ?? null, latestVersion: 1, createdAt: now, updatedAt: now, createdBy: actor };
    await this.deps.repository.create(record, this.versionRecord(tenantId, id, 1, input.source, input.comment ?? null, actor, now));
    await this.deps.appendLedger?.(tenantId, { type: 'policy.created', actor, data: { policyId: id, name: input.name, version: 1, sourceHash: hashOf(input.source) } });
    return this.view(tenantId, record);
  }

  async addVersion(tenantId: string, policyId: string, input: { source: string; comment?: string | null }, actor: string | null): Promise<PolicyVersionRecord> {
    await this.compile(input.source);
    const policy = await this.get(tenantId, policyId);
    const version = this.versionRecord(tenantId, policyId, policy.latestVersion + 1, input.source, input.comment ?? null, actor, this.deps.clock.now());
    try {
      await this.deps.repository.addVersion(version);
    } catch (error) {
      throw new TollgateError('POLICY_VERSION_CONFLICT', 'another version was added at the same time; retry', { cause: error });
    }
    await this.deps.appendLedger?.(tenantId, { type: 'policy.versioned', actor, data: { policyId, version: version.version, sourceHash: version.sourceHash } });
    return version;
  }

  async get(tenantId: string, policyId: string): Promise<PolicyRecord> {
    const policy = await this.deps.repository.get(tenantId, policyId);
    if (!policy) throw new TollgateError('NOT_FOUND', `policy ${policyId} not found`);
    return policy;
  }

  async getView(tenantId: string, policyId: string): Promise<PolicyView> {
    return this.view(tenantId, await this.get(tenantId, policyId));
  }

  async list(tenantId: string): Promise<PolicyView[]> {
    const current = await this.currentActivation(tenantId);
    return (await this.deps.repository.list(tenantId)).map((policy) => withActive(policy, current));
  }

  async version(tenantId: string, policyId: string, version: number): Promise<PolicyVersionRecord> {
    const found = await this.deps.repository.getVersion(tenantId, policyId, version);
    if (!found) throw new TollgateError('NOT_FOUND', `policy ${policyId} has no version ${version}`);
    return found;
  }

  versions(tenantId: string, policyId: string): Promise<PolicyVersionRecord[]> {
    return this.deps.repository.listVersions(tenantId, policyId);
  }

  /**
   * A page of versions, newest first: at most `limit` versions and, past the first, at most
   * {@link VERSION_PAGE_SOURCE_BYTES} of source in all (a source may be 1 MiB and a policy may have thousands of
   * versions), read a few at a time so the page is all that is held in memory. `nextBefore` continues the listing.
   *
   * @example
   * const { versions, nextBefore } = await policies.versionsPage('acme', 'pol_1', { limit: 100 });
   */
  async versionsPage(tenantId: string, policyId: string, page: { before?: number | undefined; limit: number }): Promise<{ versions: PolicyVersionRecord[]; nextBefore: number | null }> {
    const versions: PolicyVersionRecord[] = [];
    let bytes = 0;
    let before = page.before;
    for (;;) {
      const want = Math.min(VERSION_READ_CHUNK, page.limit - versions.length);
      const chunk = await this.deps.repository.listVersions(tenantId, policyId, { before, limit: want });
      for (const version of chunk) {
        const size = Buffer.byteLength(version.source);
        if (versions.length > 0 && bytes + size > VERSION_PAGE_SOURCE_BYTES) return { versions, nextBefore: versions.at(-1)!.version };
        versions.push(version);
        bytes += size;
      }
      const last = versions.at(-1);
      if (chunk.length < want || last === undefined || last.version <= 1) return { versions, nextBefore: null };
      if (versions.length >= page.limit) return { versions, nextBefore: last.version };
      before = last.version;
    }
  }

  async diff(tenantId: string, policyId: string, from: number, to: number): Promise<PolicyDiff & { from: number; to: number }> {
    const [a, b] = await Promise.all([this.version(tenantId, policyId, from), this.version(tenantId, policyId, to)]);
    const [before, after] = await Promise.all([this.loader.load(a.source), this.loader.load(b.source)]);
    return { from, to, ...diffLoadedPolicies(a.source, b.source, before, after) };
  }

  async activate(tenantId: string, policyId: string, version: number, actor: string | null, action: 'activate' | 'rollback' = 'activate'): Promise<PolicyActivation> {
    const found = await this.version(tenantId, policyId, version);
    await this.compile(found.source, version);
    const activation = { tenantId, policyId, version, action, actor, createdAt: this.deps.clock.now() };
    await this.deps.repository.recordActivation(activation);
    await this.announce(tenantId, { type: `policy.${action === 'activate' ? 'activated' : 'rolled_back'}`, actor, data: { policyId, version } });
    return (await this.currentActivation(tenantId)) ?? { ...activation, seq: 0 };
  }

  /** Re-activates the policy version that was active before the current one. */
  async rollback(tenantId: string, actor: string | null): Promise<PolicyActivation> {
    const history = await this.deps.repository.activations(tenantId, 200);
    const [current, ...earlier] = history;
    const previous = earlier.find((entry) => entry.policyId !== null && (entry.policyId !== current?.policyId || entry.version !== current?.version));
    if (!current || !previous?.policyId || previous.version === null) {
      throw new TollgateError('CONFLICT', 'there is no earlier active policy version to roll back to');
    }
    return this.activate(tenantId, previous.policyId, previous.version, actor, 'rollback');
  }

  /**
   * Runs a draft (inline `source`, a stored `version`, or the latest version) over the decisions recorded
   * in [from, to] and reports which would change.
   */
  async simulate(tenantId: string, policyId: string, input: SimulateInput): Promise<SimulateReport> {
    const policy = await this.get(tenantId, policyId);
    const version = input.source === undefined ? input.version ?? policy.latestVersion : null;
    const source = input.source ?? (await this.version(tenantId, policyId, version ?? policy.latestVersion)).source;
    const draft = await this.compile(source, version);
    const report = await replayDecisions(this.deps.decisions, tenantId, draft, {
      from: input.from, to: input.to, agentId: input.agentId, limit: input.limit, examples: input.examples, fingerprint: this.deps.fingerprint,
    });
    return { policyId, version, from: input.from ?? null, to: input.to ?? null, ...report };
  }

  /** Leaves the tenant without an active policy (then only declared scopes decide; no scope means BLOCK). */
  async deactivate(tenantId: string, actor: string | null): Promise<void> {
    await this.deps.repository.recordActivation({ tenantId, policyId: null, version: null, action: 'deactivate', actor, createdAt: this.deps.clock.now() });
    await this.announce(tenantId, { type: 'policy.deactivated', actor, data: {} });
  }

  history(tenantId: string, limit = 50): Promise<PolicyActivation[]> {
    return this.deps.repository.activations(tenantId, limit);
  }

  /** The compiled active policy of a tenant (cached), or null. */
  activePolicy(tenantId: string): Promise<ActivePolicy | null> {
    let cached = this.active.get(tenantId);
    if (cached === undefined) {
      cached = this.loadActive(tenantId);
      this.active.set(tenantId, cached);
      // A stored version that no longer compiles (a check added by an upgrade) stays refused until the next
      // activation clears the cache: recompiling it on every call cost up to a second of CPU per call.
      cached.catch((error: unknown) => {
        if (!(error instanceof TollgateError && error.code === 'POLICY_INVALID')) this.active.delete(tenantId);
      });
    }
    return cached;
  }

  private async loadActive(tenantId: string): Promise<ActivePolicy | null> {
    const current = await this.currentActivation(tenantId);
    if (!current?.policyId || current.version === null) return null;
    const version = await this.version(tenantId, current.policyId, current.version);
    return { policyId: current.policyId, version: current.version, policy: await this.compile(version.source, current.version) };
  }

  private async currentActivation(tenantId: string): Promise<PolicyActivation | undefined> {
    return (await this.deps.repository.activations(tenantId, 1))[0];
  }

  private async announce(tenantId: string, entry: { type: string; actor: string | null; data: unknown }): Promise<void> {
    this.active.delete(tenantId);
    await this.deps.bus.publish(POLICY_CHANNEL, { tenantId });
    await this.deps.appendLedger?.(tenantId, entry);
  }

  private async view(tenantId: string, policy: PolicyRecord): Promise<PolicyView> {
    return withActive(policy, await this.currentActivation(tenantId));
  }

  private versionRecord(tenantId: string, policyId: string, version: number, source: string, comment: string | null, actor: string | null, now: number): PolicyVersionRecord {
    return { tenantId, policyId, version, source, sourceHash: hashOf(source), comment, createdAt: now, createdBy: actor };
  }
}

export interface SimulateInput {
  source?: string | undefined;
  version?: number | undefined;
  from?: number | undefined;
  to?: number | undefined;
  agentId?: string | undefined;
  limit?: number | undefined;
  examples?: number | undefined;
}

export interface SimulateReport extends ReplayReport {
  policyId: string;
  /** Null when an inline draft was simulated. */
  version: number | null;
  from: number | null;
  to: number | null;
}

function withActive(policy: PolicyRecord, current: PolicyActivation | undefined): PolicyView {
  const active = current?.policyId === policy.id;
  return { ...policy, active, activeVersion: active ? current?.version ?? null : null };
}

function hashOf(source: string): string {
  return createHash('sha256').update(source).digest('hex');
}

function invalid(diagnostics: readonly PolicyDiagnostic[]): TollgateError {
  const first = diagnostics[0];
  const summary = first ? `${first.line}:${first.column} ${first.message}` : 'invalid policy';
  return new TollgateError('POLICY_INVALID', `policy is invalid: ${summary}`, { details: { diagnostics } });
}
