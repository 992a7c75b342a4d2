import { redactSecrets, TollgateError } from '@tollgate/core';
import type { PermissionRequest, PermissionRequestRepository, PermissionRequestStatus } from '../../store/repositories/permission-requests.js';
import { waitOnBus, type Bus } from '../bus.js';
import { InFlightCounts } from '../in-flight.js';
import { mergeGrant, resolveAgentConfig, type AgentService } from '../sandbox/agent-service.js';
import type { LedgerAppend } from '../vault/credential-service.js';
import { refuseControlCharacters } from '../vault/display-text.js';

/** Bus channel announcing created and decided permission requests (approvals queue, long polls). */
export const PERMISSION_REQUEST_CHANNEL = 'permission-request';
export const DEFAULT_PERMISSION_REQUEST_TIMEOUT_MS = 180_000;
export const MAX_PERMISSION_REQUEST_TIMEOUT_MS = 86_400_000;
export const MAX_LONG_POLL_MS = 30_000;
/**
 * Most permission requests one agent may have waiting for a person; past it `create` answers 429 RATE_LIMITED, so an
 * agent cannot bury a request among thousands in the approvers' queue.
 */
export const MAX_PENDING_PERMISSION_REQUESTS_PER_AGENT = 20;
/** Keys a request may ask for: AgentConfig fields plus the seed's `allow_external_apis` (recorded; grants nothing extra). */
export const GRANTABLE_KEYS = [
  'allow_network', 'allow_external_apis', 'allow_filesystem', 'max_api_calls_per_run', 'max_api_calls_per_minute', 'memory_limit_mb',
  'cpu_time_limit_ms', 'allowed_domains', 'permissions', 'credentials',
] as const;

export interface PermissionRequestView {
  id: number;
  agent_id: number;
  status: PermissionRequestStatus;
  permissions: Record<string, unknown>;
  justification: string | null;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  decided_by: string | null;
  comment: string | null;
}

export interface NewPermissionRequestInput {
  agent_id: number;
  permissions: Record<string, unknown>;
  justification?: string | null | undefined;
  timeout_ms?: number | undefined;
}

export interface Decision {
  approver?: string | null | undefined;
  comment?: string | null | undefined;
  /** The authenticated key that decided: the ledger's actor (`approver` is free text). */
  keyId?: string | null | undefined;
}

/**
 * Permission requests: an agent asks, a person approves or denies (here or in the approvals queue), undecided
 * requests expire. Approval merges the permissions into the agent's config, so they hold for later runs.
 *
 * @example
 * const request = await requests.create('acme', { agent_id: 42, permissions: { allow_network: true } }, 'key_1');
 */
export class PermissionRequestService {
  /** Requests being created (counted but not yet stored), per tenant and agent. */
  private readonly creating = new InFlightCounts();

  constructor(
    private readonly deps: {
      repository: PermissionRequestRepository; agents: AgentService; bus: Bus; now: () => number; appendLedger?: LedgerAppend | undefined;
    },
  ) {}

  async create(tenantId: string, input: NewPermissionRequestInput, actor: string | null): Promise<PermissionRequestView> {
    const agent = await this.deps.agents.get(tenantId, input.agent_id);
    validatePermissions(input.permissions);
    refuseControlCharacters('justification', input.justification);
    resolveAgentConfig(mergeGrant(agent.config, grantOf(input.permissions)));
    const timeout = input.timeout_ms ?? DEFAULT_PERMISSION_REQUEST_TIMEOUT_MS;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > MAX_PERMISSION_REQUEST_TIMEOUT_MS) {
      throw new TollgateError('VALIDATION_FAILED', `timeout_ms must be an integer from 1 to ${MAX_PERMISSION_REQUEST_TIMEOUT_MS}`, { details: { field: 'timeout_ms' } });
    }
    const now = this.deps.now();
    // Requests of this agent being created right now count too: 200 concurrent requests all found fewer than 20.
    const place = this.creating.take(`${tenantId}\n${agent.id}`);
    let request: PermissionRequest;
    try {
      const pending = (await this.deps.repository.countPending(tenantId, agent.id, now, MAX_PENDING_PERMISSION_REQUESTS_PER_AGENT)) + place.before;
      if (pending >= MAX_PENDING_PERMISSION_REQUESTS_PER_AGENT) {
        throw new TollgateError('RATE_LIMITED', `agent ${agent.id} already has ${MAX_PENDING_PERMISSION_REQUESTS_PER_AGENT} permission requests pending; wait for a decision or let them expire`, {
          details: { pending: Math.min(pending, MAX_PENDING_PERMISSION_REQUESTS_PER_AGENT), limit: MAX_PENDING_PERMISSION_REQUESTS_PER_AGENT },
        });
      }
      request = await this.deps.repository.create({
        tenantId, agentId: agent.id, permissions: input.permissions, justification: maskText(input.justification), createdAt: now, expiresAt: now + timeout,
      });
    } finally {
      place.release();
    }
    await this.record(request, 'created', actor);
    return toView(request);
  }

  async get(tenantId: string, id: number): Promise<PermissionRequestView> {
    return toView(await this.current(tenantId, id));
  }

  /** Long poll: answers as soon as the request leaves `pending`, or after `waitMs` (capped at 30 s). */
  async waitForDecision(tenantId: string, id: number, waitMs: number, signal?: AbortSignal): Promise<PermissionRequestView> {
    return toView(await waitOnBus(this.deps.bus, PERMISSION_REQUEST_CHANNEL, {
      read: () => this.current(tenantId, id),
      matches: (payload) => {
        const event = payload as { tenantId?: string; id?: number; status?: string };
        return event.tenantId === tenantId && event.id === id && event.status !== 'pending';
      },
      waitFor: (first) => (first.status !== 'pending' || waitMs <= 0 ? 0 : Math.min(waitMs, MAX_LONG_POLL_MS, Math.max(first.expiresAt - this.deps.now(), 0) + 1)),
      signal,
    }));
  }

  async list(tenantId: string, status?: PermissionRequestStatus): Promise<PermissionRequestView[]> {
    const all = await this.deps.repository.list(tenantId, status === 'expired' ? undefined : status);
    const fresh = await Promise.all(all.map((request) => this.expireIfDue(request)));
    return fresh.filter((request) => status === undefined || request.status === status).map(toView);
  }

  async approve(tenantId: string, id: number, decision: Decision): Promise<PermissionRequestView> {
    // Check the grant can land before recording the approval: an approval of a deleted agent, or one its current
    // config cannot take, must not leave a request (and a ledger record) saying approved with nothing granted.
    const pending = await this.current(tenantId, id);
    if (pending.status === 'pending') {
      const agent = await this.deps.agents.get(tenantId, pending.agentId);
      resolveAgentConfig(mergeGrant(agent.config, grantOf(pending.permissions)));
    }
    const request = await this.decide(tenantId, id, 'approved', decision);
    await this.deps.agents.grant(tenantId, request.agentId, grantOf(request.permissions), decision.keyId ?? decision.approver ?? null);
    return toView(request);
  }

  async deny(tenantId: string, id: number, decision: Decision): Promise<PermissionRequestView> {
    return toView(await this.decide(tenantId, id, 'denied', decision));
  }

  private async decide(tenantId: string, id: number, status: 'approved' | 'denied', decision: Decision): Promise<PermissionRequest> {
    refuseControlCharacters('approver', decision.approver);
    refuseControlCharacters('comment', decision.comment);
    const current = await this.current(tenantId, id);
    if (current.status !== 'pending') {
      throw new TollgateError('PERMISSION_REQUEST_DECIDED', `permission request ${id} is already ${current.status}`, { details: { status: current.status } });
    }
    const decided = await this.deps.repository.decide(tenantId, id, {
      status, decidedAt: this.deps.now(), decidedBy: decision.approver ?? null, comment: maskText(decision.comment),
    });
    if (!decided) throw new TollgateError('PERMISSION_REQUEST_DECIDED', `permission request ${id} was decided concurrently`);
    // The actor is the key that decided (authenticated); `decided_by` in the record is the name it typed.
    await this.record(decided, status, decision.keyId ?? decision.approver ?? null);
    return decided;
  }

  /** The request, expired first when its time is up (expiry is applied lazily on every read). */
  private async current(tenantId: string, id: number): Promise<PermissionRequest> {
    const request = await this.deps.repository.get(tenantId, id);
    if (!request) throw new TollgateError('NOT_FOUND', `permission request ${id} not found`);
    return this.expireIfDue(request);
  }

  private async expireIfDue(request: PermissionRequest): Promise<PermissionRequest> {
    if (request.status !== 'pending' || request.expiresAt > this.deps.now()) return request;
    const expired = await this.deps.repository.decide(request.tenantId, request.id, { status: 'expired', decidedAt: this.deps.now(), decidedBy: null, comment: null });
    if (!expired) return (await this.deps.repository.get(request.tenantId, request.id)) ?? request;
    await this.record(expired, 'expired', null);
    return expired;
  }

  private async record(request: PermissionRequest, change: string, actor: string | null): Promise<void> {
    await this.deps.appendLedger?.(request.tenantId, {
      type: `permission_request.${change}`, actor, agentId: String(request.agentId),
      data: { request_id: request.id, permissions: request.permissions, justification: request.justification, comment: request.comment, decided_by: request.decidedBy },
    });
    await this.deps.bus.publish(PERMISSION_REQUEST_CHANNEL, { tenantId: request.tenantId, id: request.id, agentId: request.agentId, status: request.status });
  }
}

function validatePermissions(permissions: unknown): asserts permissions is Record<string, unknown> {
  if (permissions === null || typeof permissions !== 'object' || Array.isArray(permissions) || Object.keys(permissions).length === 0) {
    throw new TollgateError('VALIDATION_FAILED', 'permissions must be a non-empty object', { details: { field: 'permissions' } });
  }
  const unknown = Object.keys(permissions).filter((key) => !(GRANTABLE_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw new TollgateError('VALIDATION_FAILED', `permissions has unknown key(s): ${unknown.join(', ')}; allowed: ${GRANTABLE_KEYS.join(', ')}`, { details: { field: 'permissions' } });
  }
  // A request asks for more, and says exactly what: `null` (or `false`) read as "nothing" to the approver but, merged
  // into the config, removed the agent's own setting and fell back to the template's default (a domain list gone,
  // network on). Flags must be `true`, limits positive integers, lists non-empty lists of names (added to the config's).
  for (const [key, value] of Object.entries(permissions)) {
    const field = `permissions.${key}`;
    if (FLAG_KEYS.has(key)) {
      if (value !== true) throw new TollgateError('VALIDATION_FAILED', `${field} must be true (a request asks for a permission; leave out what it does not need)`, { details: { field } });
    } else if (LIMIT_KEYS.has(key)) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new TollgateError('VALIDATION_FAILED', `${field} must be a positive integer`, { details: { field } });
    } else if (!Array.isArray(value) || value.length === 0 || !value.every((item) => typeof item === 'string' && item.trim() !== '')) {
      throw new TollgateError('VALIDATION_FAILED', `${field} must be a non-empty array of non-empty strings (added to what the agent has)`, { details: { field } });
    }
  }
}

const FLAG_KEYS: ReadonlySet<string> = new Set(['allow_network', 'allow_external_apis', 'allow_filesystem']);
const LIMIT_KEYS: ReadonlySet<string> = new Set(['max_api_calls_per_run', 'max_api_calls_per_minute', 'memory_limit_mb', 'cpu_time_limit_ms']);

/** The config fields a request grants (`allow_external_apis` has no host function behind it, so it grants nothing). */
function grantOf(permissions: Record<string, unknown>): Record<string, unknown> {
  const { allow_external_apis: _ignored, ...grant } = permissions;
  return grant;
}

/**
 * REST view of a request.
 *
 * @example
 * reply.send(toView(request));
 */
export function toView(request: PermissionRequest): PermissionRequestView {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: request.id, agent_id: request.agentId, status: request.status, permissions: request.permissions, justification: request.justification,
    created_at: iso(request.createdAt)!, expires_at: iso(request.expiresAt)!, decided_at: iso(request.decidedAt), decided_by: request.decidedBy, comment: request.comment,
  };
}

/** Free text from callers (justification, comment) is stored and kept in the ledger for good: secrets are masked. */
function maskText(text: string | null | undefined): string | null {
  return text === undefined || text === null ? null : redactSecrets(text);
}
