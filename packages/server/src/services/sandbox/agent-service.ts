import { TollgateError, canonicalJson } from '@tollgate/core';
import { resolveSandboxConfig, type AgentConfig, type ResolvedSandboxConfig } from '@tollgate/sandbox';
import type { ComplianceRepository } from '../../store/repositories/compliance.js';
import type { SandboxAgent, SandboxAgentFields, SandboxAgentRepository, SandboxAgentSummary } from '../../store/repositories/sandbox-agents.js';
import type { LedgerAppend } from '../vault/credential-service.js';
import { refuseInvisibleCharacters } from '../vault/display-text.js';
import { CREDENTIAL_NAME } from './credential-references.js';
import { assertAgentAllowed, refuseRestrictedKey, type AgentRestriction } from '../keys/agent-restriction.js';

/**
 * Code a new agent gets when registered without `entry_code` (e.g. by `SecureAgent.configure()` with no
 * `entryCode`): it returns its input, so a first run shows the round trip. Tollgate runs no model for you.
 */
export const DEFAULT_ENTRY_CODE = 'return { task: input?.task ?? null, received: input ?? null };';
export const DEFAULT_AGENT_VERSION = '1.0.0';
export const AGENT_STATUSES = ['ready', 'draft', 'disabled'] as const;
export const MAX_ENTRY_CODE_BYTES = 1_048_576;
/** Read-merge-write attempts of a grant before it gives up with 409 (each lost one means the config changed). */
const MAX_GRANT_ATTEMPTS = 5;

/** Agent as the REST API shows it (the seed's snake_case shape). */
export interface AgentView {
  id: number;
  name: string;
  version: string;
  description: string | null;
  status: string;
  config: Record<string, unknown>;
  entry_code?: string;
  created_at: string;
  updated_at: string;
}

export interface AgentInput {
  name?: string | undefined;
  version?: string | undefined;
  description?: string | null | undefined;
  entry_code?: string | undefined;
  config?: Record<string, unknown> | undefined;
  status?: string | undefined;
}

export interface AgentStore {
  readonly sandboxAgents: SandboxAgentRepository;
  /** Only to delete an agent's stored evaluations with the agent. */
  readonly compliance: Pick<ComplianceRepository, 'deleteByAgent'>;
  transaction<T>(fn: (tx: AgentStore) => Promise<T>): Promise<T>;
}

/**
 * Resolves an agent's stored config into the limits and grants of one run, and the credential names it may use
 * (config field `credentials`, deny by default).
 *
 * @example
 * resolveAgentConfig({ sandbox_template: 'STRICT' }).sandbox.memory_limit_mb; // 256
 */
export function resolveAgentConfig(config: Record<string, unknown>): { sandbox: ResolvedSandboxConfig; credentials: string[] } {
  const sandbox = resolveSandboxConfig(config as AgentConfig);
  const credentials = config.credentials ?? [];
  if (!Array.isArray(credentials) || !credentials.every((name) => typeof name === 'string' && CREDENTIAL_NAME.test(name))) {
    throw new TollgateError('VALIDATION_FAILED', 'config.credentials must be an array of credential names', { details: { field: 'config.credentials' } });
  }
  return { sandbox, credentials: credentials as string[] };
}

/**
 * Registered sandboxed agents of each tenant: upsert by name, update, delete with executions, context store.
 *
 * @example
 * const { agent } = await agents.upsert('acme', { name: 'my-summarizer', entry_code: 'return 1;' }, 'key_1');
 */
export class AgentService {
  constructor(private readonly deps: {
    store: AgentStore; now: () => number; appendLedger?: LedgerAppend | undefined;
    /** Refuses credential names an agent may not be granted (`CredentialService.assertGrantable`: values too short). */
    assertGrantable?: ((tenantId: string, names: readonly string[], field: string) => Promise<void>) | undefined;
  }) {}

  /**
   * A key restricted to agents (`restriction.agentIds`) may re-register only an existing agent of its own, with its
   * config and status unchanged (code, version and description may change): it cannot create agents or widen what an
   * agent may do; more permissions come through permission requests, which a person approves.
   */
  async upsert(tenantId: string, input: AgentInput, actor: string | null, restriction: AgentRestriction = {}): Promise<{ agent: SandboxAgent; created: boolean }> {
    if (typeof input.name !== 'string' || input.name.trim() === '') throw invalid('name', 'is required');
    const existing = await this.deps.store.sandboxAgents.getByName(tenantId, input.name);
    if (restriction.agentIds !== undefined) {
      assertAgentAllowed(restriction, input.name);
      if (!existing) refuseRestrictedKey(restriction, 'register new agents (an unrestricted key registers the agent and its permissions)', { field: 'name', name: input.name });
      else assertSettingsUnchanged(restriction, existing, input);
    }
    const fields: SandboxAgentFields = {
      name: input.name,
      version: input.version ?? existing?.version ?? DEFAULT_AGENT_VERSION,
      description: input.description ?? existing?.description ?? null,
      entryCode: input.entry_code ?? existing?.entryCode ?? DEFAULT_ENTRY_CODE,
      config: input.config ?? existing?.config ?? {},
      status: input.status ?? existing?.status ?? 'ready',
    };
    validateFields(fields);
    refuseHiddenText(fields, existing);
    await this.checkNewCredentials(tenantId, existing?.config ?? {}, fields.config);
    const result = await this.deps.store.sandboxAgents.upsertByName(tenantId, fields, this.deps.now());
    await this.changed(tenantId, result.agent, result.created ? 'created' : 'updated', actor);
    return result;
  }

  /** The tenant's agents, without their code. */
  list(tenantId: string): Promise<SandboxAgentSummary[]> {
    return this.deps.store.sandboxAgents.list(tenantId);
  }

  async get(tenantId: string, id: number): Promise<SandboxAgent> {
    const agent = await this.deps.store.sandboxAgents.get(tenantId, id);
    if (!agent) throw new TollgateError('NOT_FOUND', `agent ${id} not found`);
    return agent;
  }

  /**
   * The agent, if `restriction` allows it (403 `KEY_AGENT_FORBIDDEN` for another agent of a restricted key; 404 for
   * an unknown id, as for any key).
   *
   * @example
   * await agents.getAllowed(tenantId, id, authOf(request));
   */
  async getAllowed(tenantId: string, id: number, restriction: AgentRestriction): Promise<SandboxAgent> {
    const agent = await this.get(tenantId, id);
    assertAgentAllowed(restriction, agent.name);
    return agent;
  }

  /**
   * Refuses agent `id` to a key restricted to other agents (403 `KEY_AGENT_FORBIDDEN`, 404 for an unknown id). An
   * unrestricted key is not checked here, so the routes it uses read nothing more than before.
   *
   * @example
   * await agents.assertAllowed(tenantId, id, authOf(request));
   */
  async assertAllowed(tenantId: string, id: number, restriction: AgentRestriction): Promise<void> {
    if (restriction.agentIds !== undefined) await this.getAllowed(tenantId, id, restriction);
  }

  /** With a key restricted to agents: only its own agents, and neither their name, config nor status (see {@link upsert}). */
  async update(tenantId: string, id: number, input: AgentInput, actor: string | null, restriction: AgentRestriction = {}): Promise<SandboxAgent> {
    const current = await this.get(tenantId, id);
    if (restriction.agentIds !== undefined) {
      assertAgentAllowed(restriction, current.name);
      if (input.name !== undefined && input.name !== current.name) refuseRestrictedKey(restriction, 'rename an agent', { field: 'name' });
      assertSettingsUnchanged(restriction, current, input);
    }
    const fields: Partial<SandboxAgentFields> = {};
    if (input.name !== undefined) fields.name = input.name;
    if (input.version !== undefined) fields.version = input.version;
    if (input.description !== undefined) fields.description = input.description;
    if (input.entry_code !== undefined) fields.entryCode = input.entry_code;
    if (input.config !== undefined) fields.config = input.config;
    if (input.status !== undefined) fields.status = input.status;
    validateFields({ ...current, ...fields });
    refuseHiddenText({ ...current, ...fields }, current);
    if (fields.config !== undefined) await this.checkNewCredentials(tenantId, current.config, fields.config);
    if (fields.name !== undefined && fields.name !== current.name && (await this.deps.store.sandboxAgents.getByName(tenantId, fields.name))) {
      throw new TollgateError('CONFLICT', `an agent named ${JSON.stringify(fields.name)} exists`);
    }
    const agent = (await this.deps.store.sandboxAgents.update(tenantId, id, fields, this.deps.now()))!;
    await this.changed(tenantId, agent, 'updated', actor);
    return agent;
  }

  /**
   * Merges granted settings into the agent's config (approved permission requests). Scopes and domains add up.
   * Compare-and-set: if the config changed between the read and the write (an admin edit, another grant), the
   * grant is merged again into the new config, so it never writes back a config someone has just changed (an
   * admin removing a scope while a grant lands must not see the scope return).
   */
  async grant(tenantId: string, id: number, grant: Record<string, unknown>, actor: string | null): Promise<SandboxAgent> {
    for (let attempt = 0; attempt < MAX_GRANT_ATTEMPTS; attempt += 1) {
      const current = await this.get(tenantId, id);
      const config = mergeGrant(current.config, grant);
      validateFields({ ...current, config });
      await this.checkNewCredentials(tenantId, current.config, config);
      if (await this.deps.store.sandboxAgents.replaceConfigIf(tenantId, id, current.config, config, this.deps.now())) {
        const agent = await this.get(tenantId, id);
        await this.changed(tenantId, agent, 'updated', actor);
        return agent;
      }
    }
    throw new TollgateError('CONFLICT', `the agent's config kept changing while the grant was applied (${MAX_GRANT_ATTEMPTS} attempts); try again`);
  }

  /** Deletes the agent with its executions, context store and stored compliance evaluations, in one transaction. */
  async delete(tenantId: string, id: number, actor: string | null): Promise<void> {
    const agent = await this.get(tenantId, id);
    await this.deps.store.transaction(async (tx) => {
      await tx.compliance.deleteByAgent(tenantId, id);
      await tx.sandboxAgents.delete(tenantId, id);
    });
    await this.changed(tenantId, agent, 'deleted', actor);
  }

  async setContext(tenantId: string, id: number, key: string, value: unknown): Promise<void> {
    await this.get(tenantId, id);
    await this.deps.store.sandboxAgents.setContext(tenantId, id, key, value, this.deps.now());
  }

  async getContext(tenantId: string, id: number, key: string): Promise<unknown> {
    await this.get(tenantId, id);
    return this.deps.store.sandboxAgents.getContext(tenantId, id, key);
  }

  /**
   * Credentials a config change grants that the agent did not have. Only the new ones: a credential granted before
   * the length minimum existed is refused when used, and must not block re-saving the rest of the config.
   */
  private async checkNewCredentials(tenantId: string, before: Record<string, unknown>, after: Record<string, unknown>): Promise<void> {
    if (!this.deps.assertGrantable) return;
    const had = new Set(Array.isArray(before.credentials) ? (before.credentials as unknown[]) : []);
    const added = resolveAgentConfig(after).credentials.filter((name) => !had.has(name));
    if (added.length > 0) await this.deps.assertGrantable(tenantId, added, 'config.credentials');
  }

  private async changed(tenantId: string, agent: SandboxAgent, change: string, actor: string | null): Promise<void> {
    await this.deps.appendLedger?.(tenantId, {
      type: `sandbox.agent_${change}`, actor, agentId: String(agent.id),
      data: { agent_id: agent.id, name: agent.name, version: agent.version, status: agent.status, config: agent.config },
    });
  }
}

/**
 * Adds a grant to a config: `permissions` and `allowed_domains` are unions, other fields replace.
 *
 * @example
 * mergeGrant({ permissions: ['data:read'] }, { permissions: ['network:outbound'], allow_network: true });
 */
export function mergeGrant(config: Record<string, unknown>, grant: Record<string, unknown>): Record<string, unknown> {
  // A null or absent value grants nothing: it never removes the agent's own setting (requests stored before values
  // were type-checked may hold nulls).
  const given = Object.fromEntries(Object.entries(grant).filter(([, value]) => value !== null && value !== undefined));
  const merged: Record<string, unknown> = { ...config, ...given };
  for (const key of ['permissions', 'allowed_domains', 'credentials']) {
    if (Array.isArray(given[key])) {
      const base = Array.isArray(config[key]) ? (config[key] as unknown[]) : key === 'permissions' ? resolveSandboxConfig(config as AgentConfig).permissions : [];
      merged[key] = [...new Set([...base, ...(given[key] as unknown[])])];
    }
  }
  return merged;
}

function validateFields(fields: SandboxAgentFields): void {
  if (fields.name.length > 200) throw invalid('name', 'must be at most 200 characters');
  if (fields.version.length > 64) throw invalid('version', 'must be at most 64 characters');
  if (!(AGENT_STATUSES as readonly string[]).includes(fields.status)) throw invalid('status', `must be one of ${AGENT_STATUSES.join(', ')}`);
  if (Buffer.byteLength(fields.entryCode) > MAX_ENTRY_CODE_BYTES) throw invalid('entry_code', `must be at most ${MAX_ENTRY_CODE_BYTES} bytes`);
  resolveAgentConfig(fields.config);
}

/**
 * Name, version and description are quoted in compliance evidence, the dashboard and the ledger, and a key restricted
 * to the agent sets its version and description: no controls, line breaks (tab and newlines in the description are
 * fine) or invisible formatting. Only values that change are checked, so an agent stored before the check can still
 * be updated (or granted permissions) without renaming it first.
 */
function refuseHiddenText(next: Pick<SandboxAgentFields, 'name' | 'version' | 'description'>, current?: Pick<SandboxAgentFields, 'name' | 'version' | 'description'>): void {
  if (next.name !== current?.name) refuseInvisibleCharacters('name', next.name);
  if (next.version !== current?.version) refuseInvisibleCharacters('version', next.version);
  if (next.description !== current?.description) refuseInvisibleCharacters('description', next.description, { multiline: true });
}

function invalid(field: string, message: string): TollgateError {
  return new TollgateError('VALIDATION_FAILED', `${field} ${message}`, { details: { field } });
}

/**
 * The REST view; `withCode` adds `entry_code` (detail views).
 *
 * @example
 * reply.send({ success: true, agent: toAgentView(agent, true) });
 */
export function toAgentView(agent: SandboxAgentSummary & { entryCode?: string }, withCode = false): AgentView {
  const view: AgentView = {
    id: agent.id, name: agent.name, version: agent.version, description: agent.description, status: agent.status,
    config: agent.config, created_at: new Date(agent.createdAt).toISOString(), updated_at: new Date(agent.updatedAt).toISOString(),
  };
  if (withCode && agent.entryCode !== undefined) view.entry_code = agent.entryCode;
  return view;
}

/** A restricted key's upsert or update must leave config and status as they are (same JSON, key order aside). */
function assertSettingsUnchanged(restriction: AgentRestriction, current: SandboxAgent, input: AgentInput): void {
  if (input.config !== undefined && !sameJson(input.config, current.config)) {
    refuseRestrictedKey(restriction, "change an agent's config (scopes, limits, templates): ask through a permission request", { field: 'config' });
  }
  if (input.status !== undefined && input.status !== current.status) refuseRestrictedKey(restriction, "change an agent's status", { field: 'status' });
}

function sameJson(a: unknown, b: unknown): boolean {
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    return false; // a value canonical JSON refuses (a lone surrogate) is not the stored one
  }
}
